"""`sales/customers`: customers with their nation and market segment, from the order-to-cash system."""

from dagmesh import Relation, TpchSource, data_product
from sales.defs.customers.contract import Customers
from sales.standards import DAILY, NIGHTLY, OWNERS


@data_product(
    contract=Customers,
    owners=OWNERS,
    access="public",
    version="2.0.0",
    slo=DAILY,
    schedule=NIGHTLY,
)
def customers(tpch: TpchSource) -> Relation:
    """Customers with their nation and market segment (no contact details: those stay in the CRM)."""
    return tpch.relation("customer").select(*Customers.to_schema().columns)
