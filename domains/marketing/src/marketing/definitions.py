"""The marketing code location, loaded like every domain's: its `defs/` folder plus the mesh rules."""

import dagster as dg

from dagmesh import load_domain


@dg.definitions
def defs() -> dg.Definitions:
    return load_domain(__file__)
