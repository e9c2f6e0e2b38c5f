"""Contracts never lie: pandera is the oracle for write-audit-publish.

For generated (contract, frame) pairs (`contract_generators.py`, beside this file), `MeshWarehouse.publish`
must agree with `Model.validate(frame, lazy=True)`:

- soundness: what dagmesh publishes satisfies `contract.published_schema()`, has the contract's dtypes
  and the (pandera-coerced) input's values; what pandera rejects is never published; nothing but
  `ContractViolation` / `DagmeshError` escapes `publish`;
- completeness: what pandera accepts is published, but for the documented deliberate differences
  (`contract_generators.deliberate_difference`, and contracts refused when they load).

The bounded run here draws a few hundred pairs; `python -m benchmarks.contract_differential --pairs 10000`
runs the same comparison at scale. Each kind of discrepancy raises its own exception type, so one run
reports each kind separately (hypothesis reports distinct failures side by side).
"""

from __future__ import annotations

import datetime as dt
import itertools
import re
from collections.abc import Callable
from decimal import Decimal
from pathlib import Path

import pandas as pd
import pytest
from hypothesis import HealthCheck, given, settings

from dagmesh.declare.contract import read_contract
from dagmesh.storage.warehouse import MeshWarehouse, PublishTarget
from tests.helpers.readers import TRUSTED
from tests.integration.storage.contract_generators import (
    COMPLETENESS,
    DELIBERATE,
    FLOAT64_NAN,
    KINDS,
    OTHER_TZ,
    PUBLISHED_OK,
    REFUSED_OK,
    SOUNDNESS,
    ColumnSpec,
    ContractSpec,
    CustomSpec,
    Outcome,
    Pair,
    build_column,
    build_model,
    compare,
    contract_pandas_dtype,
    pairs,
)

pytestmark = [
    # pandera's own failure-case formatting warns about pandas deprecations: not ours to fix.
    pytest.mark.filterwarnings("ignore::FutureWarning"),
    pytest.mark.filterwarnings("ignore::DeprecationWarning"),
    pytest.mark.filterwarnings("ignore::UserWarning"),
]

_tables = itertools.count()


@pytest.fixture(scope="module")
def warehouse(tmp_path_factory: pytest.TempPathFactory) -> MeshWarehouse:
    """One warehouse file for the module; every example publishes to a table of its own."""
    return MeshWarehouse(database=str(tmp_path_factory.mktemp("differential") / "w.duckdb"))


def fresh_table() -> tuple[str, str]:
    return ("t", f"p{next(_tables)}")


class Discrepancy(AssertionError):
    """dagmesh and pandera disagree; the subclass names the kind of disagreement."""


_DISCREPANCY_TYPES: dict[str, type[Discrepancy]] = {}


def _family(outcome: Outcome) -> str:
    """The kind of discrepancy, coarse enough that a run reports a handful of distinct failures."""
    key = outcome.findings[0].key if outcome.findings else outcome.kind
    family = re.split(r"[:(]", key)[0].strip()
    if outcome.kind == COMPLETENESS:
        family = "refused what pandera accepts"
    words = re.findall(r"[A-Za-z0-9]+", f"{outcome.kind} {family}")
    return "".join(word[:1].upper() + word[1:] for word in words)


def raise_discrepancy(outcome: Outcome, pair: Pair | str) -> None:
    """Raise the outcome as a failure if it is a soundness violation or a completeness gap."""
    if outcome.kind not in (SOUNDNESS, COMPLETENESS):
        return
    family = _family(outcome)
    error = _DISCREPANCY_TYPES.setdefault(family, type(family, (Discrepancy,), {}))
    raise error(f"{outcome.describe()}\n\n{pair!r}")


# -- the interface the differential test relies on -------------------------------------------------

ROUND_TRIP_KINDS = list(KINDS)


def _round_trip_values(kind: str) -> list[object]:
    family = KINDS[kind].family
    values: dict[str, list[object]] = {
        "int": [1, None],
        "float": [1.5, FLOAT64_NAN, None],
        "str": ["José", None],
        "bool": [True, None],
        "datetime": [pd.Timestamp("2024-03-10 01:02:03.000004"), None],
        "date": [dt.date(2024, 3, 10), None],
        "decimal": [Decimal("1.25"), None],
        "list": [[1, 2], None],
        "struct": [{"a": 1}, None],
    }
    result = values[family]
    if KINDS[kind].dtype in ("int64", "bool"):  # numpy dtypes without a null
        result = [v for v in result if v is not None]
    if KINDS[kind].tz:
        result = [pd.Timestamp("2024-03-10 01:02:03.000004", tz=KINDS[kind].tz), None]
    return result


@pytest.mark.parametrize("kind", ROUND_TRIP_KINDS)
def test_published_table_reads_back_with_the_contract_dtype(tmp_path: Path, kind: str) -> None:
    """The differential test needs `Contract.published_schema()` and reads that restore dtypes."""
    model = build_model(ContractSpec((ColumnSpec("a", kind, nullable=True),)))
    contract = read_contract(model)
    if not hasattr(contract, "published_schema"):
        pytest.fail(
            "Contract.published_schema() is missing (the rewrite of dagmesh.declare.contract adds it)"
        )
    assert contract.published_schema().columns.keys() == {"a"}
    frame = pd.DataFrame({"a": build_column(KINDS[kind], _round_trip_values(kind), "contract")})
    warehouse = MeshWarehouse(database=str(tmp_path / "w.duckdb"))
    target = PublishTarget(product="t/p", table=("t", "p"), contract=contract, owners=["team:t"])
    warehouse.publish(target, frame)
    published = warehouse.read(("t", "p"), reader=TRUSTED)
    expected = contract_pandas_dtype(model.to_schema().columns["a"].dtype)
    assert published["a"].dtype == expected, f"read gave {published['a'].dtype}, not {expected}"
    pd.testing.assert_frame_equal(published, frame)


# -- known kinds of discrepancy, pinned -------------------------------------------------------------


def _one(kind: str, **options: object) -> ContractSpec:
    return ContractSpec((ColumnSpec("a", kind, **options),))  # type: ignore[arg-type]


def _frame(kind: str, values: list[object], build: str = "contract") -> Callable[[], pd.DataFrame]:
    return lambda: pd.DataFrame({"a": build_column(KINDS[kind], values, build)})


# (contract, frame, what pandera's verdict makes the only right outcome)
KNOWN: dict[str, tuple[ContractSpec, Callable[[], pd.DataFrame], str]] = {
    "row-wise frame check": (
        ContractSpec((ColumnSpec("a", "int64"),), frame_checks=(("first_column_short", None),)),
        _frame("int64", [1, 1234]),
        REFUSED_OK,
    ),
    "isin with None": (
        _one("int64", builtins=(("isin", [1, None]),)),
        _frame("int64", [2]),
        REFUSED_OK,
    ),
    "custom check named like a built-in": (
        _one("int64", customs=(CustomSpec("below_5", "greater_than"),)),
        _frame("int64", [7]),
        REFUSED_OK,
    ),
    "custom check named isin": (
        _one("int64", customs=(CustomSpec("always_true", "isin"),)),
        _frame("int64", [7]),
        PUBLISHED_OK,
    ),
    "Float64 NaN against ge": (
        _one("Float64", builtins=(("ge", 0.0),)),
        _frame("Float64", [FLOAT64_NAN]),
        REFUSED_OK,
    ),
    "Float64 NaN kept as a value": (
        _one("Float64", nullable=True),
        _frame("Float64", [FLOAT64_NAN, 1.0]),
        PUBLISHED_OK,
    ),
    "Float64 NaN in a non-nullable column": (  # stricter than pandera, documented
        _one("Float64"),
        _frame("Float64", [FLOAT64_NAN, 1.0]),
        DELIBERATE,
    ),
    "digit string in an int column": (_one("int64"), _frame("int64", ["7"], "object"), REFUSED_OK),
    "ints in a bool column": (_one("bool"), _frame("bool", [1, 0], "infer"), REFUSED_OK),
    "tz-aware values in a naive column": (
        _one("datetime"),
        _frame("datetime_utc", [pd.Timestamp("2024-03-10 01:00", tz="UTC")]),
        REFUSED_OK,
    ),
    "non-UTC tz column": (
        _one("datetime_other_tz"),
        _frame("datetime_other_tz", [pd.Timestamp("2024-03-10 01:00", tz=OTHER_TZ)]),
        PUBLISHED_OK,
    ),
    "coerce int to str": (
        _one("str", coerce=True, builtins=(("isin", ["1"]),)),
        _frame("str", [1], "object"),
        PUBLISHED_OK,
    ),
    "coerce bool to str": (_one("str", coerce=True), _frame("bool", [False, True]), PUBLISHED_OK),
    "naive nanoseconds": (
        _one("datetime"),
        _frame("datetime", [pd.Timestamp("2024-03-10 01:00:00.000000001")]),
        PUBLISHED_OK,
    ),
    "regex POSIX class": (
        _one("str", builtins=(("str_matches", "[[:alpha:]]+"),)),
        _frame("str", ["b"]),
        REFUSED_OK,
    ),
    r"regex \w on non-ASCII": (
        _one("str", builtins=(("str_matches", r"\w+"),)),
        _frame("str", ["é"]),
        PUBLISHED_OK,
    ),
    r"regex $ before a final newline": (
        _one("str", builtins=(("str_matches", "a$"),)),
        _frame("str", ["a\n"]),
        PUBLISHED_OK,
    ),
    r"regex \Z": (
        _one("str", builtins=(("str_contains", r"a\Z"),)),
        _frame("str", ["ba"]),
        PUBLISHED_OK,
    ),
    "regex lookahead": (
        _one("str", builtins=(("str_matches", "(?=.*é)"),)),
        _frame("str", ["José"]),
        PUBLISHED_OK,
    ),
    "empty regex": (
        _one("str", builtins=(("str_matches", ""),)),
        _frame("str", ["José"]),
        PUBLISHED_OK,
    ),
    "int64 column under an Int64 contract": (_one("Int64"), _frame("int64", [0]), PUBLISHED_OK),
    "object column under a string contract": (_one("string"), _frame("str", ["x"]), PUBLISHED_OK),
    "decimal column": (
        _one("decimal", builtins=(("ge", Decimal("1.10")),)),
        _frame("decimal", [Decimal("1.10"), Decimal("9999999999999.99")]),
        PUBLISHED_OK,
    ),
    "lone surrogate": (_one("str"), _frame("str", ["\ud800"]), DELIBERATE),
    # pandera judges `str` by its values: a column of nothing but NaT is nulls, stored as nulls
    "all-NaT column under str": (
        _one("str", nullable=True),
        _frame("datetime", [None]),
        PUBLISHED_OK,
    ),
    # None and NaN pass a frame check telling them apart, but both are NULL once stored: refused
    "None and NaN told apart by a frame check": (
        ContractSpec(
            (ColumnSpec("a", "str", nullable=True), ColumnSpec("b", "int64")),
            frame_checks=(("no_repeated_rows", None),),
        ),
        lambda: pd.DataFrame({"a": pd.Series([None, float("nan")], dtype=object), "b": [0, 0]}),
        DELIBERATE,
    ),
    "tz-aware nanoseconds": (
        _one("datetime_utc"),
        _frame("datetime_utc", [pd.Timestamp("2024-03-10 01:00:00.000000001", tz="UTC")]),
        DELIBERATE,
    ),
    # pandas reads 'now' against the clock: the publish coerces it a moment after pandera's verdict
    "coerce 'now' to a timestamp": (
        _one("datetime_utc", coerce=True),
        lambda: pd.DataFrame({"a": pd.Series(["now"], dtype="object")}),
        PUBLISHED_OK,
    ),
    "masked column": (
        _one("str", mask="sha256", nullable=True, builtins=(("str_length", {"max_value": 3}),)),
        _frame("str", ["abc", None]),
        PUBLISHED_OK,
    ),
}


@pytest.mark.parametrize("name", list(KNOWN))
def test_known_kind_of_discrepancy(warehouse: MeshWarehouse, name: str) -> None:
    spec, make_frame, expected = KNOWN[name]
    model = build_model(spec)
    pair = Pair(spec, model, make_frame())
    outcome = compare(model, pair.frame, warehouse, fresh_table())
    raise_discrepancy(outcome, pair)
    if outcome.kind == DELIBERATE and outcome.difference == "contract_refused":
        return  # refusing a contract at load time is sound (and counted by the large run)
    assert outcome.kind == expected, f"{outcome.describe()}\n\n{pair!r}"


# -- the differential test itself -----------------------------------------------------------------


@settings(
    max_examples=200,
    deadline=None,
    suppress_health_check=[
        HealthCheck.too_slow,
        HealthCheck.data_too_large,
        HealthCheck.filter_too_much,
    ],
)
@given(pair=pairs())
def test_publish_agrees_with_pandera(warehouse: MeshWarehouse, pair: Pair) -> None:
    outcome = compare(pair.model, pair.frame, warehouse, fresh_table())
    raise_discrepancy(outcome, pair)
    assert outcome.kind in (PUBLISHED_OK, REFUSED_OK, DELIBERATE), outcome.describe()


def test_benchmark_command_runs(capsys: pytest.CaptureFixture[str]) -> None:
    """The large-run command, at a tiny size, so it never rots."""
    from benchmarks.contract_differential import main

    main(["--pairs", "15", "--seed", "1"])
    out = capsys.readouterr().out
    assert "pairs: 15" in out and "soundness violations:" in out
