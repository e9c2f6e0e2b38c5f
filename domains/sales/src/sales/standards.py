"""The sales domain's standards, shared by its products: owners, service level, schedules, partitions,
and the exact types and value sets its contracts are written in."""

from datetime import timedelta
from typing import Annotated

import dagster as dg
import pandas as pd
import pyarrow

from dagmesh import SLO

OWNERS = ["team:sales"]
DAILY = SLO(max_lag=timedelta(hours=26), warn_after=timedelta(hours=24))
NIGHTLY = "0 2 * * *"
MONTHS = dg.MonthlyPartitionsDefinition(start_date="1992-01-01", end_date="1998-09-01")

# Exact types, as TPC-H defines them: money, quantities and rates are DECIMAL(15,2), days are DATE.
Money = Annotated[pd.ArrowDtype, pyarrow.decimal128(15, 2)]
Date = Annotated[pd.ArrowDtype, pyarrow.date32()]
# Sums as DuckDB types them: SUM widens to 38 digits and keeps the scale of what it adds up (a price
# times (1 - discount) has scale 4, times (1 + tax) scale 6), so a total never overflows or rounds.
Total2 = Annotated[pd.ArrowDtype, pyarrow.decimal128(38, 2)]
Total4 = Annotated[pd.ArrowDtype, pyarrow.decimal128(38, 4)]
Total6 = Annotated[pd.ArrowDtype, pyarrow.decimal128(38, 6)]

ORDER_PRIORITIES = ["1-URGENT", "2-HIGH", "3-MEDIUM", "4-NOT SPECIFIED", "5-LOW"]
