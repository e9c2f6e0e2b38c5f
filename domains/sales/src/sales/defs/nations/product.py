"""`sales/nations`: nations and their regions, the reference geography every domain reports by."""

from dagmesh import Relation, TpchSource, data_product, query
from sales.defs.nations.contract import Nations
from sales.standards import DAILY, NIGHTLY, OWNERS


@data_product(
    contract=Nations,
    owners=OWNERS,
    access="public",
    version="1.0.1",
    slo=DAILY,
    schedule=NIGHTLY,
)
def nations(tpch: TpchSource) -> Relation:
    """Nations and their regions: the reference geography every domain reports by."""
    return query(
        "SELECT n_nationkey, n_name, n_regionkey, r_name FROM nation "
        "JOIN region ON n_regionkey = r_regionkey ORDER BY n_nationkey",
        nation=tpch.relation("nation"),
        region=tpch.relation("region"),
    )
