"""Contracts of the sales products: what consumers may rely on, checked on every write."""

from decimal import Decimal
from typing import Annotated

import pandas as pd
import pandera.pandas as pa
import pyarrow
from pandera.typing import Series

# Exact types, as TPC-H defines them: money, quantities and rates are DECIMAL(15,2), days are DATE.
Money = Annotated[pd.ArrowDtype, pyarrow.decimal128(15, 2)]
Date = Annotated[pd.ArrowDtype, pyarrow.date32()]
# Sums as DuckDB types them: SUM widens to 38 digits and keeps the scale of what it adds up (a price
# times (1 - discount) has scale 4, times (1 + tax) scale 6), so a total never overflows or rounds.
Total2 = Annotated[pd.ArrowDtype, pyarrow.decimal128(38, 2)]
Total4 = Annotated[pd.ArrowDtype, pyarrow.decimal128(38, 4)]
Total6 = Annotated[pd.ArrowDtype, pyarrow.decimal128(38, 6)]

ORDER_STATUSES = ["F", "O", "P"]
ORDER_PRIORITIES = ["1-URGENT", "2-HIGH", "3-MEDIUM", "4-NOT SPECIFIED", "5-LOW"]
MARKET_SEGMENTS = ["AUTOMOBILE", "BUILDING", "FURNITURE", "HOUSEHOLD", "MACHINERY"]


class Nations(pa.DataFrameModel):
    """The 25 TPC-H nations with the region each belongs to."""

    n_nationkey: Series[int] = pa.Field(unique=True, ge=0, description="Nation id.")
    n_name: Series[str] = pa.Field(description="Nation name, upper case.")
    n_regionkey: Series[int] = pa.Field(ge=0, description="Region id.")
    r_name: Series[str] = pa.Field(
        isin=["AFRICA", "AMERICA", "ASIA", "EUROPE", "MIDDLE EAST"], description="Region name."
    )


class Customers(pa.DataFrameModel):
    """Customer master data as the sales system knows it."""

    c_custkey: Series[int] = pa.Field(unique=True, gt=0, description="Customer id.")
    c_name: Series[str] = pa.Field(str_startswith="Customer#", description="Customer name.")
    c_nationkey: Series[int] = pa.Field(ge=0, le=24, description="Nation of the customer.")
    c_acctbal: Series[Money] = pa.Field(description="Account balance (may be negative).")
    c_mktsegment: Series[str] = pa.Field(isin=MARKET_SEGMENTS, description="Market segment.")


class Orders(pa.DataFrameModel):
    """One row per customer order."""

    o_orderkey: Series[int] = pa.Field(unique=True, gt=0, description="Order id.")
    o_custkey: Series[int] = pa.Field(gt=0, description="Ordering customer.")
    o_orderstatus: Series[str] = pa.Field(
        isin=ORDER_STATUSES, description="F(illed), O(pen), P(artial)."
    )
    o_totalprice: Series[Money] = pa.Field(
        gt=Decimal(0), description="Order total incl. tax and discount."
    )
    o_orderdate: Series[Date] = pa.Field(description="Day the order was placed.")
    o_orderpriority: Series[str] = pa.Field(isin=ORDER_PRIORITIES, description="Priority class.")
    o_shippriority: Series[int] = pa.Field(ge=0, description="Shipping priority.")
    o_comment: Series[str] = pa.Field(description="Free-text comment from the clerk.")


class LineItems(pa.DataFrameModel):
    """One row per order line: what was sold, at what price, and how it shipped."""

    l_orderkey: Series[int] = pa.Field(gt=0, description="Order id.")
    l_partkey: Series[int] = pa.Field(gt=0, description="Part sold.")
    l_suppkey: Series[int] = pa.Field(gt=0, description="Supplier shipping the part.")
    l_linenumber: Series[int] = pa.Field(
        in_range={"min_value": 1, "max_value": 7}, description="Line number within the order."
    )
    l_quantity: Series[Money] = pa.Field(
        in_range={"min_value": Decimal(1), "max_value": Decimal(50)}, description="Units sold."
    )
    l_extendedprice: Series[Money] = pa.Field(gt=Decimal(0), description="quantity x part price.")
    l_discount: Series[Money] = pa.Field(
        in_range={"min_value": Decimal(0), "max_value": Decimal("0.10")},
        description="Discount as a fraction.",
    )
    l_tax: Series[Money] = pa.Field(
        in_range={"min_value": Decimal(0), "max_value": Decimal("0.08")},
        description="Tax as a fraction.",
    )
    l_returnflag: Series[str] = pa.Field(
        isin=["A", "N", "R"], description="R(eturned), A(ccepted), N(one)."
    )
    l_linestatus: Series[str] = pa.Field(isin=["F", "O"], description="F(illed) or O(pen).")
    l_shipdate: Series[Date] = pa.Field(description="Day the line shipped.")
    l_commitdate: Series[Date] = pa.Field(description="Day delivery was promised.")
    l_receiptdate: Series[Date] = pa.Field(description="Day the customer received it.")
    l_shipmode: Series[str] = pa.Field(
        isin=["AIR", "FOB", "MAIL", "RAIL", "REG AIR", "SHIP", "TRUCK"],
        description="Shipping mode.",
    )

    class Config:
        unique = ["l_orderkey", "l_linenumber"]


class PricingSummary(pa.DataFrameModel):
    """TPC-H Q1: billed, shipped and returned business per return flag and line status."""

    l_returnflag: Series[str] = pa.Field(isin=["A", "N", "R"])
    l_linestatus: Series[str] = pa.Field(isin=["F", "O"])
    sum_qty: Series[Total2] = pa.Field(ge=Decimal(0), description="Units shipped.")
    sum_base_price: Series[Total2] = pa.Field(ge=Decimal(0), description="Extended prices.")
    sum_disc_price: Series[Total4] = pa.Field(ge=Decimal(0), description="Discounted prices.")
    sum_charge: Series[Total6] = pa.Field(ge=Decimal(0), description="Discounted prices plus tax.")
    avg_qty: Series[float] = pa.Field(ge=0, description="Mean quantity (DuckDB's AVG: DOUBLE).")
    avg_price: Series[float] = pa.Field(ge=0, description="Mean extended price.")
    avg_disc: Series[float] = pa.Field(
        in_range={"min_value": 0, "max_value": 0.1}, description="Mean discount."
    )
    count_order: Series[int] = pa.Field(gt=0, description="Lines.")

    class Config:
        unique = ["l_returnflag", "l_linestatus"]


class ShippingPriority(pa.DataFrameModel):
    """TPC-H Q3: the ten unshipped orders of highest revenue in the BUILDING segment on 1995-03-15."""

    l_orderkey: Series[int] = pa.Field(unique=True, gt=0, description="Order id.")
    revenue: Series[Total4] = pa.Field(
        gt=Decimal(0), description="Discounted revenue of the open lines."
    )
    o_orderdate: Series[Date] = pa.Field(description="Day the order was placed.")
    o_shippriority: Series[int] = pa.Field(ge=0, description="Shipping priority.")


class MonthlyRevenue(pa.DataFrameModel):
    """Order revenue per month and order priority."""

    order_month: Series[Date] = pa.Field(description="First day of the month.")
    o_orderpriority: Series[str] = pa.Field(isin=ORDER_PRIORITIES, description="Priority class.")
    orders: Series[int] = pa.Field(gt=0, description="Orders placed in the month.")
    revenue: Series[Total2] = pa.Field(gt=Decimal(0), description="Sum of their order totals.")

    class Config:
        unique = ["order_month", "o_orderpriority"]


def orders_expectations() -> list:
    """Great Expectations suite for sales/orders, run on the published table after each write."""
    import great_expectations as gx

    return [
        gx.expectations.ExpectColumnValuesToNotBeNull(column="o_orderkey"),
        gx.expectations.ExpectColumnValuesToBeUnique(column="o_orderkey"),
        gx.expectations.ExpectColumnValuesToBeBetween(
            column="o_totalprice", min_value=0, max_value=1e6
        ),
        gx.expectations.ExpectColumnValuesToBeInSet(
            column="o_orderstatus", value_set=ORDER_STATUSES
        ),
        gx.expectations.ExpectTableRowCountToBeBetween(min_value=1, max_value=10**9),
    ]
