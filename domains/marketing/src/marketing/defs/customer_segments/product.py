"""The marketing domain's data products, built from sales' public products."""

from datetime import timedelta

import dagster as dg
import pandas as pd
import pyarrow

from dagmesh import SLO, data_product, query
from marketing import contracts

OWNERS = ["team:marketing", "marketing-analytics@example.com"]
WEEKLY = SLO(max_lag=timedelta(days=8), warn_after=timedelta(days=7))
ON_UPSTREAM_CHANGE = dg.AutomationCondition.eager()
REVENUE = pd.ArrowDtype(pyarrow.decimal128(38, 2))


@data_product(
    contract=contracts.CustomerSegments,
    owners=OWNERS,
    access="public",
    version="2.0.0",
    slo=WEEKLY,
    automation_condition=ON_UPSTREAM_CHANGE,
    inputs=["sales/customers", "sales/orders"],
)
def customer_segments(customers: pd.DataFrame, orders: pd.DataFrame) -> pd.DataFrame:
    """Customers, orders and revenue per market segment, computed in plain pandas: order totals arrive
    as exact DECIMAL(15,2) (Arrow-backed) and are summed exactly, never through floats."""
    booked = customers[["c_custkey", "c_mktsegment"]].merge(
        orders[["o_orderkey", "o_custkey", "o_totalprice"]],
        how="left",
        left_on="c_custkey",
        right_on="o_custkey",
    )
    # Widen before summing, as SQL's SUM does (DECIMAL(38,2)): a segment's total cannot overflow.
    booked["o_totalprice"] = booked["o_totalprice"].astype(REVENUE)
    segments = (
        booked.groupby("c_mktsegment", sort=True)
        .agg(
            customers=("c_custkey", "nunique"),
            ordering_customers=("o_custkey", "nunique"),
            orders=("o_orderkey", "count"),
            revenue=("o_totalprice", "sum"),  # a segment without orders sums to 0.00
        )
        .reset_index()
    )
    # The mean as a float (as SQL's AVG of a DECIMAL is a DOUBLE); NaN for a segment without orders.
    segments["avg_order_value"] = segments["revenue"].astype("float64") / segments["orders"]
    return segments


@data_product(
    contract=contracts.CustomerOrderDistribution,
    owners=OWNERS,
    access="internal",
    version="1.0.1",
    slo=WEEKLY,
    automation_condition=ON_UPSTREAM_CHANGE,
    inputs=["sales/customers", "sales/orders"],
)
def customer_order_distribution(customers: pd.DataFrame, orders: pd.DataFrame) -> pd.DataFrame:
    """TPC-H Q13 customer distribution: loyalty at a glance."""
    return query(
        """
        SELECT c_count, COUNT(*) AS custdist
        FROM (
            SELECT c_custkey, COUNT(o_orderkey) AS c_count
            FROM customers LEFT JOIN orders
              ON c_custkey = o_custkey AND o_comment NOT LIKE '%special%requests%'
            GROUP BY c_custkey
        )
        GROUP BY c_count ORDER BY custdist DESC, c_count DESC
        """,
        customers=customers,
        orders=orders,
    )


@data_product(
    contract=contracts.CampaignAudience,
    owners=OWNERS,
    access="private",
    version="2.0.0",
    slo=WEEKLY,
    automation_condition=ON_UPSTREAM_CHANGE,
    inputs={"customers": "sales/customers", "segments": "customer_segments"},
)
def campaign_audience(customers: pd.DataFrame, segments: pd.DataFrame) -> pd.DataFrame:
    """The next campaign's audience: solvent customers of the highest-revenue segment."""
    return query(
        """
        SELECT c_custkey, c_mktsegment, c_acctbal FROM customers
        WHERE c_acctbal > 0
          AND c_mktsegment = (SELECT c_mktsegment FROM segments ORDER BY revenue DESC LIMIT 1)
        ORDER BY c_custkey
        """,
        customers=customers,
        segments=segments,
    )
