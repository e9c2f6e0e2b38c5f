"""`logistics/suppliers`: suppliers with their nation and account balance."""

import pandas as pd

from dagmesh import TpchSource, data_product
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
def suppliers(tpch: TpchSource) -> pd.DataFrame:
    """Suppliers with their nation and account balance."""
    return tpch.table("supplier")[list(Suppliers.to_schema().columns)]
