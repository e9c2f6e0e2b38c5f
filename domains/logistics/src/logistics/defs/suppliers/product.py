"""`logistics/suppliers`: suppliers with their nation and account balance."""

from dagmesh import Relation, TpchSource, data_product
from logistics.defs.suppliers.contract import Suppliers
from logistics.standards import DAILY, OWNERS


@data_product(
    contract=Suppliers,
    owners=OWNERS,
    access="public",
    version="2.0.0",
    slo=DAILY,
    schedule="0 1 * * *",
)
def suppliers(tpch: TpchSource) -> Relation:
    """Suppliers with their nation and account balance."""
    return tpch.relation("supplier").select(*Suppliers.to_schema().columns)
