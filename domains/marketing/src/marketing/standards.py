"""The marketing domain's standards, shared by its products: owners, service level, automation, and the
exact types and value sets its contracts are written in."""

from datetime import timedelta
from typing import Annotated

import dagster as dg
import pandas as pd
import pyarrow

from dagmesh import SLO

OWNERS = ["team:marketing", "marketing-analytics@example.com"]
WEEKLY = SLO(max_lag=timedelta(days=8), warn_after=timedelta(days=7))
ON_UPSTREAM_CHANGE = dg.AutomationCondition.eager()

# Exact types, as sales publishes them: money is DECIMAL(15,2), a sum of it DECIMAL(38,2).
Money = Annotated[pd.ArrowDtype, pyarrow.decimal128(15, 2)]
Total2 = Annotated[pd.ArrowDtype, pyarrow.decimal128(38, 2)]
Date = Annotated[pd.ArrowDtype, pyarrow.date32()]

MARKET_SEGMENTS = ["AUTOMOBILE", "BUILDING", "FURNITURE", "HOUSEHOLD", "MACHINERY"]
ORDER_PRIORITIES = ["1-URGENT", "2-HIGH", "3-MEDIUM", "4-NOT SPECIFIED", "5-LOW"]
