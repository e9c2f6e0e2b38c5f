"""`logistics/parts`: the part catalogue with brand, type, size and retail price."""

from dagmesh import Relation, TpchSource, data_product
from logistics.defs.parts.contract import Parts
from logistics.standards import DAILY, OWNERS


@data_product(
    contract=Parts,
    owners=OWNERS,
    access="public",
    version="2.0.0",
    slo=DAILY,
    schedule="0 1 * * *",
)
def parts(tpch: TpchSource) -> Relation:
    """The part catalogue with brand, type, size and retail price."""
    return tpch.relation("part").select(*Parts.to_schema().columns)
