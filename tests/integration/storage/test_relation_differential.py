"""In-warehouse contracts never lie either: pandera is the oracle for `MeshWarehouse.publish_relation`.

The generated (contract, frame) pairs of `contract_generators.py` are reused. A frame whose dtypes
pandera accepts becomes its exact Arrow table (`typed_arrow`, the pandas path's own type step), and that
table a relation on a warehouse connection: a relation holding the contract's DuckDB types and the
frame's values. `publish_relation` must then reach pandera's verdict, decided as the pandas differential
decides it (`contract_generators.compare`): `Model.validate(..., lazy=True)` accepts or rejects, the
documented deliberate differences (`deliberate_difference`) explain the only refusals of what pandera
accepts, and what is published satisfies `contract.published_schema()` with the contract's dtypes and
the input's values (`check_published`).

pandera judges the typed frame (the frame as `typed_arrow` typed it, coerced where the contract
coerces: what the pandas path itself audits). The relation has another pandas form too, the
one a consumer reads (the Arrow table as the contract's dtypes: an int64 column pandera accepted for an
`Int64` contract is read back as `Int64`); pandera must reach the same verdict on it, or the oracle
itself would be ambiguous, which is reported as a failure of its own.
"""

from __future__ import annotations

import itertools

import pandas as pd
import pandera.pandas as pa
import pytest
from hypothesis import HealthCheck, given, note, settings

from dagmesh.core.errors import ContractViolation, DagmeshError
from dagmesh.declare.contract import Contract, ContractDefinitionError, read_contract
from dagmesh.storage.frame_types import typed_arrow
from dagmesh.storage.frames import restore_types
from dagmesh.storage.warehouse import MeshWarehouse, PublishTarget
from tests.integration.storage.contract_generators import (
    COMPLETENESS,
    DELIBERATE,
    FLOAT64_NAN,
    KINDS,
    PUBLISHED_OK,
    REFUSED_OK,
    SOUNDNESS,
    ColumnSpec,
    ContractSpec,
    Finding,
    Outcome,
    Pair,
    build_column,
    build_model,
    judge_publication,
    judge_refusal,
    pairs,
    pandera_verdict,
)

pytestmark = [
    # pandera's own failure-case formatting warns about pandas deprecations: not ours to fix.
    pytest.mark.filterwarnings("ignore::FutureWarning"),
    pytest.mark.filterwarnings("ignore::DeprecationWarning"),
    pytest.mark.filterwarnings("ignore::UserWarning"),
]

_tables = itertools.count()
NOT_TYPED = "not_typed"  # pandera refused the frame's dtypes: no relation to build
# pandera judged the typed frame and the same rows as the contract's dtypes differently: the oracle
# itself would be ambiguous (never seen; reported as a failure of its own if it happens)
FORM_DEPENDENT = "form_dependent"


@pytest.fixture(scope="module")
def warehouse(tmp_path_factory: pytest.TempPathFactory) -> MeshWarehouse:
    """One warehouse file for the module; every example publishes to a table of its own."""
    return MeshWarehouse(database=str(tmp_path_factory.mktemp("relation_diff") / "w.duckdb"))


def fresh_table() -> tuple[str, str]:
    return ("t", f"r{next(_tables)}")


def consumer_frame(contract: Contract, arrow) -> pd.DataFrame:
    """The Arrow table as the contract's pandas dtypes: what a reader of the relation gets."""
    dtypes = {c.name: c.pandas_dtype for c in contract.columns}
    return restore_types(arrow, contract.arrow_schema, dtypes)


def compare_relation(
    model: type[pa.DataFrameModel],
    frame: pd.DataFrame,
    warehouse: MeshWarehouse,
    table: tuple[str, str],
) -> Outcome:
    """`contract_generators.compare`, with the frame published as a relation over its Arrow table."""
    try:
        contract = read_contract(model)
    except ContractDefinitionError:
        return Outcome(DELIBERATE, difference="contract_refused")
    typed, arrow, failures = typed_arrow(contract, frame)
    if arrow is None:
        return Outcome(NOT_TYPED, tuple(Finding(f.check) for f in failures))
    validated, rejection = pandera_verdict(model, typed)
    accepted = validated is not None
    as_read, _ = pandera_verdict(model, consumer_frame(contract, arrow))
    if (as_read is not None) != accepted:
        verdicts = f"typed frame: {accepted}, as a consumer reads it: {as_read is not None}"
        return Outcome(
            FORM_DEPENDENT, (Finding("pandera's verdict depends on the form", verdicts),)
        )
    target = PublishTarget(
        product="/".join(table), table=table, contract=contract, owners=["team:t"]
    )
    try:
        with warehouse.get_connection() as con:
            relation = con.from_arrow(arrow)
            warehouse.publish_relation(target, con, relation)
    except (ContractViolation, DagmeshError) as error:
        return judge_refusal(model, contract, typed, validated, warehouse, table, error)
    except Exception as error:
        key = f"publish_relation raised {type(error).__name__}"
        return Outcome(SOUNDNESS, (Finding(key, str(error).splitlines()[0][:300]),))
    return judge_publication(contract, validated, rejection, warehouse, table)


class RelationDiscrepancy(AssertionError):
    """publish_relation and pandera disagree."""


def raise_discrepancy(outcome: Outcome, pair: Pair | str) -> None:
    if outcome.kind in (SOUNDNESS, COMPLETENESS, FORM_DEPENDENT):
        raise RelationDiscrepancy(f"{outcome.describe()}\n\n{pair!r}")


# -- pinned kinds, each on both sides of the verdict -------------------------------------------------


def _one(kind: str, **options: object) -> ContractSpec:
    return ContractSpec((ColumnSpec("a", kind, **options),))  # type: ignore[arg-type]


def _frame(kind: str, values: list[object], build: str = "contract") -> pd.DataFrame:
    return pd.DataFrame({"a": build_column(KINDS[kind], values, build)})


KNOWN: dict[str, tuple[ContractSpec, pd.DataFrame, str]] = {
    "float64 NaN is null, refused when not nullable": (
        _one("float64"),
        _frame("float64", [1.0, float("nan")]),
        REFUSED_OK,
    ),
    "float64 NaN is null, ignored by ge": (
        _one("float64", nullable=True, builtins=(("ge", 0.0),)),
        _frame("float64", [1.0, float("nan")]),
        PUBLISHED_OK,
    ),
    "Float64 NaN is a value, kept": (
        _one("Float64", nullable=True),
        _frame("Float64", [FLOAT64_NAN, 1.0]),
        PUBLISHED_OK,
    ),
    "Float64 NaN in a non-nullable column": (
        _one("Float64"),
        _frame("Float64", [FLOAT64_NAN, 1.0]),
        DELIBERATE,
    ),
    "Float64 NaN against ge": (
        _one("Float64", builtins=(("ge", 0.0),)),
        _frame("Float64", [FLOAT64_NAN]),
        REFUSED_OK,
    ),
    "int64 column under an Int64 contract": (_one("Int64"), _frame("int64", [0]), PUBLISHED_OK),
    "unique with repeated nulls": (
        _one("Int64", nullable=True, unique=True),
        _frame("Int64", [None, None, 1]),
        REFUSED_OK,
    ),
    "regex on non-ASCII": (
        _one("str", builtins=(("str_matches", r"\w+"),)),
        _frame("str", ["é"]),
        PUBLISHED_OK,
    ),
    "regex POSIX class": (
        _one("str", builtins=(("str_matches", "[[:alpha:]]+"),)),
        _frame("str", ["b"]),
        REFUSED_OK,
    ),
    "row-wise frame check": (
        ContractSpec((ColumnSpec("a", "int64"),), frame_checks=(("first_column_short", None),)),
        _frame("int64", [1, 1234]),
        REFUSED_OK,
    ),
    "masked column": (
        _one("str", mask="sha256", nullable=True, builtins=(("str_length", {"max_value": 3}),)),
        _frame("str", ["abc", None]),
        PUBLISHED_OK,
    ),
    "masked column too long": (
        _one("str", mask="redacted", builtins=(("str_length", {"max_value": 2}),)),
        _frame("str", ["abc"]),
        REFUSED_OK,
    ),
    "tz-aware column": (
        _one("datetime_other_tz"),
        _frame("datetime_other_tz", [pd.Timestamp("2024-03-10 01:00", tz="America/New_York")]),
        PUBLISHED_OK,
    ),
    "naive nanoseconds": (
        _one("datetime"),
        _frame("datetime", [pd.Timestamp("2024-03-10 01:00:00.000000001")]),
        PUBLISHED_OK,
    ),
}


@pytest.mark.parametrize("name", list(KNOWN))
def test_known_kind(warehouse: MeshWarehouse, name: str) -> None:
    spec, frame, expected = KNOWN[name]
    pair = Pair(spec, build_model(spec), frame)
    outcome = compare_relation(pair.model, pair.frame, warehouse, fresh_table())
    raise_discrepancy(outcome, pair)
    assert outcome.kind == expected, f"{outcome.describe()}\n\n{pair!r}"


# -- the differential test itself -----------------------------------------------------------------

_seen: dict[str, int] = {}


@settings(
    max_examples=250,
    deadline=None,
    suppress_health_check=[
        HealthCheck.too_slow,
        HealthCheck.data_too_large,
        HealthCheck.filter_too_much,
        HealthCheck.function_scoped_fixture,
    ],
)
@given(pair=pairs())
def test_publish_relation_agrees_with_pandera(warehouse: MeshWarehouse, pair: Pair) -> None:
    outcome = compare_relation(pair.model, pair.frame, warehouse, fresh_table())
    _seen[outcome.kind] = _seen.get(outcome.kind, 0) + 1
    note(outcome.describe())
    raise_discrepancy(outcome, pair)
    assert outcome.kind in (PUBLISHED_OK, REFUSED_OK, DELIBERATE, NOT_TYPED), outcome.describe()


def test_the_differential_run_reached_both_verdicts(warehouse: MeshWarehouse) -> None:
    """The generated run is not vacuous: relations were published and relations were refused."""
    if not _seen:
        pytest.skip("runs after test_publish_relation_agrees_with_pandera in the same process")
    assert _seen.get(PUBLISHED_OK, 0) >= 20, _seen
    assert _seen.get(REFUSED_OK, 0) >= 20, _seen
