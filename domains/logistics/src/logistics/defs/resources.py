"""The source systems this domain reads: TPC-H, the mesh's sample source."""

import dagster as dg

from dagmesh import TpchSource


@dg.definitions
def resources() -> dg.Definitions:
    return dg.Definitions(resources={"tpch": TpchSource.from_settings()})
