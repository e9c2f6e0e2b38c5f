"""`marketing/campaign_audience`: the next campaign's audience, from sales' customers and our segments."""

from dagmesh import Relation, data_product, query
from marketing.defs.campaign_audience.contract import CampaignAudience
from marketing.standards import ON_UPSTREAM_CHANGE, OWNERS, WEEKLY


@data_product(
    contract=CampaignAudience,
    owners=OWNERS,
    access="private",
    version="2.0.0",
    slo=WEEKLY,
    automation_condition=ON_UPSTREAM_CHANGE,
    inputs={"customers": "sales/customers", "segments": "customer_segments"},
)
def campaign_audience(customers: Relation, segments: Relation) -> Relation:
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
