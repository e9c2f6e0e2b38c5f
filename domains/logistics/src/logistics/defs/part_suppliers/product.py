"""`logistics/part_suppliers`: supply offers, cost and availability per part and supplier."""

from dagmesh import Relation, TpchSource, data_product
from logistics.defs.part_suppliers.contract import PartSuppliers
from logistics.standards import DAILY, OWNERS


@data_product(
    contract=PartSuppliers,
    owners=OWNERS,
    access="internal",
    version="2.0.0",
    slo=DAILY,
    schedule="0 1 * * *",
)
def part_suppliers(tpch: TpchSource) -> Relation:
    """Supply offers: cost and availability per part and supplier (negotiated prices: internal)."""
    return tpch.relation("partsupp").select(*PartSuppliers.to_schema().columns)
