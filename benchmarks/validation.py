"""Contract validation: dagmesh's pushed-down SQL audit vs pandera (pandas) vs great-expectations (pandas)
vs a hand-written DuckDB query with the same checks."""

from __future__ import annotations

import os

import duckdb
import pyarrow as pa

from benchmarks.data import STATUSES, BenchOrders, orders_frame
from benchmarks.timing import compare
from dagmesh.declare.contract import read_contract
from dagmesh.storage.audit import audit_staged_table
from dagmesh.storage.frame_types import typed_arrow

HAND_WRITTEN = """
SELECT COUNT(*),
  COUNT(*) FILTER (WHERE order_id IS NULL OR order_id < 0),
  COUNT(*) FILTER (WHERE customer_id IS NULL OR customer_id < 0),
  COUNT(*) FILTER (WHERE status IS NULL OR status NOT IN ('F', 'O', 'P')),
  COUNT(*) FILTER (WHERE total IS NULL OR total < 0 OR total > 1000000),
  COUNT(*) FILTER (WHERE discount IS NULL OR discount < 0 OR discount > 0.1),
  COUNT(*) FILTER (WHERE quantity IS NULL OR quantity < 1 OR quantity > 50),
  COUNT(*) FILTER (WHERE clerk IS NULL OR NOT starts_with(clerk, 'Clerk#')),
  COUNT(*) FILTER (WHERE priority IS NULL OR priority < 0),
  COUNT(*) FILTER (WHERE tax IS NULL OR tax < 0),
  COUNT(*) - COUNT(DISTINCT order_id)
FROM stage
"""


def _gx_validator(frame):
    os.environ.setdefault("GX_ANALYTICS_ENABLED", "False")
    import great_expectations as gx
    from great_expectations.data_context.types.base import ProgressBarsConfig

    context = gx.get_context(mode="ephemeral")
    # GX passes `disable=` to tqdm itself, so TQDM_DISABLE does not reach it: switch its bars off here.
    context.variables.progress_bars = ProgressBarsConfig(globally=False)
    batch = (
        context.data_sources.add_pandas("bench")
        .add_dataframe_asset("orders")
        .add_batch_definition_whole_dataframe("all")
        .get_batch(batch_parameters={"dataframe": frame})
    )
    e = gx.expectations
    suite = gx.ExpectationSuite(
        name="bench",
        expectations=[
            e.ExpectColumnValuesToBeUnique(column="order_id"),
            e.ExpectColumnValuesToBeBetween(column="order_id", min_value=0),
            e.ExpectColumnValuesToBeBetween(column="customer_id", min_value=0),
            e.ExpectColumnValuesToBeInSet(column="status", value_set=STATUSES),
            e.ExpectColumnValuesToBeBetween(column="total", min_value=0, max_value=1_000_000),
            e.ExpectColumnValuesToBeBetween(column="discount", min_value=0, max_value=0.1),
            e.ExpectColumnValuesToBeBetween(column="quantity", min_value=1, max_value=50),
            e.ExpectColumnValuesToMatchRegex(column="clerk", regex="^Clerk#"),
            e.ExpectColumnValuesToBeBetween(column="priority", min_value=0),
            e.ExpectColumnValuesToBeBetween(column="tax", min_value=0),
        ],
    )
    return lambda: batch.validate(suite)


def run(rows: int, repeats: int) -> dict:
    frame = orders_frame(rows)
    contract = read_contract(BenchOrders)
    con = duckdb.connect()
    con.register("incoming", pa.Table.from_pandas(frame, preserve_index=False))
    con.execute("CREATE TABLE stage AS SELECT * FROM incoming")
    gx_validate = _gx_validator(frame)

    def whole_contract_check():
        """What a publish runs: pandera's dtype step, the exact Arrow table, the audit on it."""
        typed, arrow, failures = typed_arrow(contract, frame)
        assert arrow is not None and not failures
        con.register("typed", arrow)
        return audit_staged_table(con, "typed", contract, typed)

    seconds = compare(
        {
            "dagmesh_sql_audit": lambda: audit_staged_table(con, "stage", contract, frame),
            "dagmesh_types_and_audit": whole_contract_check,
            "arrow_from_pandas": lambda: pa.Table.from_pandas(frame, preserve_index=False),
            "hand_written_sql": lambda: con.execute(HAND_WRITTEN).fetchall(),
            "pandera_pandas": lambda: BenchOrders.validate(frame, lazy=True),
            "great_expectations_pandas": gx_validate,
        },
        repeats,
    )
    assert audit_staged_table(
        con, "stage", contract, frame
    ).passed  # the audit really ran the checks
    assert whole_contract_check().passed
    con.close()
    speedup = seconds["pandera_pandas"] / seconds["dagmesh_sql_audit"]
    versus_hand = seconds["dagmesh_sql_audit"] / seconds["hand_written_sql"]
    return {
        "rows": rows,
        "seconds": seconds,
        "speedup_vs_pandera": speedup,
        "speedup_vs_gx": seconds["great_expectations_pandas"] / seconds["dagmesh_sql_audit"],
        "vs_hand_written_sql": versus_hand,
        # the type step plus the audit on the Arrow view, as a publish runs them
        "whole_check_speedup_vs_pandera": seconds["pandera_pandas"]
        / seconds["dagmesh_types_and_audit"],
        "targets": {
            ">= 5x faster than pandera-pandas": speedup >= 5,
            "within 1.5x of hand-written DuckDB SQL": versus_hand <= 1.5,
        },
    }
