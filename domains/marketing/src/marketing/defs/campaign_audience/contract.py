"""The contract of `marketing/campaign_audience`: the customers the next campaign targets."""

from decimal import Decimal

import pandera.pandas as pa
from pandera.typing import Series

from marketing.standards import MARKET_SEGMENTS, Money


class CampaignAudience(pa.DataFrameModel):
    """Customers to target: positive balance, in the segment with the highest revenue."""

    c_custkey: Series[int] = pa.Field(unique=True, gt=0)
    c_mktsegment: Series[str] = pa.Field(isin=MARKET_SEGMENTS)
    c_acctbal: Series[Money] = pa.Field(gt=Decimal(0))
