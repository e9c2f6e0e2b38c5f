"""`sales/pricing_summary`: the TPC-H Q1 pricing summary report, from sales' own line items."""

from dagmesh import Relation, data_product, query
from sales.defs.pricing_summary.contract import PricingSummary
from sales.standards import DAILY, NIGHTLY, OWNERS


@data_product(
    contract=PricingSummary,
    owners=OWNERS,
    access="internal",
    version="2.0.0",
    slo=DAILY,
    inputs=["line_items"],
    schedule=NIGHTLY,
)
def pricing_summary(line_items: Relation) -> Relation:
    """TPC-H Q1 pricing summary report: lines shipped up to 90 days before 1998-12-01."""
    return query(
        """
        SELECT l_returnflag, l_linestatus,
               SUM(l_quantity) AS sum_qty,
               SUM(l_extendedprice) AS sum_base_price,
               SUM(l_extendedprice * (1 - l_discount)) AS sum_disc_price,
               SUM(l_extendedprice * (1 - l_discount) * (1 + l_tax)) AS sum_charge,
               AVG(l_quantity) AS avg_qty, AVG(l_extendedprice) AS avg_price,
               AVG(l_discount) AS avg_disc, COUNT(*) AS count_order
        FROM line_items
        WHERE l_shipdate <= DATE '1998-12-01' - INTERVAL 90 DAY
        GROUP BY l_returnflag, l_linestatus
        ORDER BY l_returnflag, l_linestatus
        """,
        line_items=line_items,
    )
