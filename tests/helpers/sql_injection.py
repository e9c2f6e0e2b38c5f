"""A contract whose column name and check values are SQL injection attempts: the storage's injection
tests publish under it, the declaration's refuse product names that could inject."""

from __future__ import annotations

import pandera.pandas as pa
from pandera.typing import Series

EVIL = 'x"; DROP TABLE sentinel.keep; --'


class Evil(pa.DataFrameModel):
    evil: Series[str] = pa.Field(
        alias=EVIL,
        isin=["ok", "'); DROP TABLE sentinel.keep; --"],
        str_startswith="' OR 1=1 --",
        nullable=True,
    )
