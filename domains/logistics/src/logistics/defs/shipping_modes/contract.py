"""The contract of `logistics/shipping_modes` (TPC-H Q12)."""

import pandera.pandas as pa
from pandera.typing import Series

SHIP_MODES = ["AIR", "FOB", "MAIL", "RAIL", "REG AIR", "SHIP", "TRUCK"]


class ShippingModes(pa.DataFrameModel):
    """TPC-H Q12: late 1994 deliveries by MAIL and SHIP, split by order priority."""

    l_shipmode: Series[str] = pa.Field(unique=True, isin=SHIP_MODES)
    high_line_count: Series[int] = pa.Field(ge=0)
    low_line_count: Series[int] = pa.Field(ge=0)
