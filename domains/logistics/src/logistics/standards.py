"""The logistics domain's standards, shared by its products: owners, service level, automation, and the
exact types its contracts are written in."""

from datetime import timedelta
from typing import Annotated

import dagster as dg
import pandas as pd
import pyarrow

from dagmesh import SLO

OWNERS = ["team:logistics"]
DAILY = SLO(max_lag=timedelta(hours=26))
ON_UPSTREAM_CHANGE = dg.AutomationCondition.eager()

# Exact types, as TPC-H defines them: money is DECIMAL(15,2). A SUM of discounted prices
# (price x (1 - discount), scale 4) is DECIMAL(38,4), as DuckDB types it: no overflow, no rounding.
Money = Annotated[pd.ArrowDtype, pyarrow.decimal128(15, 2)]
Total4 = Annotated[pd.ArrowDtype, pyarrow.decimal128(38, 4)]
