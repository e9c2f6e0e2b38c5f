"""TPC-H, the well-known order-to-cash data set, generated offline by DuckDB's tpch extension.

The extension ships in a PyPI package (`duckdb-extension-tpch`), so nothing is downloaded at run time.
Tables are generated once per scale factor into Parquet files and read from there by source-aligned products,
like exports landing from an operational system.
"""

from __future__ import annotations

import os
import shutil
import tempfile
import threading
from datetime import date
from decimal import Decimal
from pathlib import Path

import dagster as dg
import duckdb
import pandas as pd
from duckdb_extensions import import_extension
from pydantic import Field

from dagmesh.storage.engine import Relation, current_connection
from dagmesh.storage.frames import exact_pandas
from dagmesh.storage.settings import MeshSettings
from dagmesh.storage.sql import quote_identifier

_NARROW_INTEGERS = frozenset(("TINYINT", "SMALLINT", "INTEGER"))
TPCH_TABLES = ("region", "nation", "customer", "orders", "lineitem", "supplier", "part", "partsupp")


def tpch_connection() -> duckdb.DuckDBPyConnection:
    """An in-memory DuckDB connection with the tpch extension loaded from its Python package."""
    con = duckdb.connect()
    import_extension("tpch", con=con)
    con.execute("LOAD tpch")
    return con


def official_answer(query_nr: int, scale: float, types: list[str]) -> tuple[list[str], list[tuple]]:
    """The answer to TPC-H query `query_nr` at `scale` that DuckDB's tpch extension ships: its header
    and rows, each field read as the DuckDB type given for its column. Never through a float for a
    DECIMAL or a timestamp for a DATE; a DOUBLE (only the AVGs of Q1) is printed in its shortest
    round-trip form, so `float(text)` is that exact double and compares exactly too."""
    with tpch_connection() as con:
        found = con.execute(
            "SELECT answer FROM tpch_answers() WHERE query_nr = ? AND scale_factor = ?",
            [query_nr, scale],
        ).fetchone()
    if found is None:
        raise ValueError(f"DuckDB's tpch extension has no answer to Q{query_nr} at SF {scale:g}")
    header, *rows = found[0].strip("\n").split("\n")
    return header.split("|"), [
        tuple(_typed(field, type_) for field, type_ in zip(row.split("|"), types, strict=True))
        for row in rows
    ]


def _typed(text: str, type_: str) -> object:
    if type_.startswith("DECIMAL"):
        return Decimal(text)
    if type_ == "DATE":
        return date.fromisoformat(text)
    if type_ in ("BIGINT", "INTEGER"):
        return int(text)
    if type_ == "DOUBLE":
        return float(text)
    if type_ != "VARCHAR":
        raise ValueError(f"no reading of an answer field as {type_}")
    return text


_GENERATING = threading.Lock()


def generate_tpch(directory: Path, scale: float) -> Path:
    """Write every TPC-H table at `scale` as Parquet under `directory`; atomic, so a crash leaves no half set."""
    if all((directory / f"{t}.parquet").is_file() for t in TPCH_TABLES):
        return directory
    # dbgen keeps global state in the tpch extension: two generations at once in one process (runs of a
    # wave, `dagmesh run --parallel`) crash it. Other processes are kept apart by the atomic rename.
    with _GENERATING:
        return _generate(directory, scale)


def _generate(directory: Path, scale: float) -> Path:
    if all((directory / f"{t}.parquet").is_file() for t in TPCH_TABLES):
        return directory  # another thread generated it while this one waited
    directory.parent.mkdir(parents=True, exist_ok=True)
    scratch = Path(tempfile.mkdtemp(prefix=".tpch-", dir=directory.parent))
    try:
        with tpch_connection() as con:
            con.execute("CALL dbgen(sf = ?)", [scale])
            for table in TPCH_TABLES:
                target = str(scratch / f"{table}.parquet").replace("'", "''")
                con.execute(f"COPY {quote_identifier(table)} TO '{target}' (FORMAT parquet)")
        try:
            os.rename(scratch, directory)
        except OSError:
            if not all((directory / f"{t}.parquet").is_file() for t in TPCH_TABLES):
                raise  # a concurrent generator won the rename only if its set is complete
    finally:
        shutil.rmtree(scratch, ignore_errors=True)
    return directory


class TpchSource(dg.ConfigurableResource):
    """TPC-H tables at a scale factor: `relation(name)` for in-warehouse products (nothing leaves
    DuckDB), `table(name)` as pandas through Arrow for Python ones."""

    scale: float = Field(default=0.01, description="TPC-H scale factor (1 = about 6M line items).")
    directory: str = Field(description="Folder holding one sub-folder of Parquet files per scale.")

    @classmethod
    def from_settings(cls, settings: MeshSettings | None = None) -> TpchSource:
        settings = settings or MeshSettings.from_env()
        return cls(scale=settings.tpch_scale, directory=str(settings.sources_dir / "tpch"))

    @property
    def path(self) -> Path:
        return Path(self.directory) / f"sf{self.scale:g}"

    def relation(self, name: str) -> Relation:
        """One table as a lazy relation over its Parquet file, on the step's engine connection, with
        TPC-H's own types: DECIMAL(15,2) money, quantities and rates, DATE days, VARCHAR text, and every
        integer BIGINT. dbgen makes some integers INTEGER (nation keys, sizes, priorities) and some
        BIGINT; they are widened here, the one place, so every integer column in the mesh is
        `Series[int]` and joins never mix widths. Nothing else is cast: the values are dbgen's, exactly."""
        return self._relation_on(current_connection(), name)

    def table(self, name: str) -> pd.DataFrame:
        """One table as pandas, typed as `relation(name)`: decimals and dates as `pd.ArrowDtype`
        (`pa.decimal128(15, 2)`, `pa.date32()`), text as `str`, integers as int64."""
        with duckdb.connect() as con:
            return exact_pandas(self._relation_on(con, name).to_arrow_table())

    def _relation_on(self, con: duckdb.DuckDBPyConnection, name: str) -> Relation:
        if name not in TPCH_TABLES:
            raise ValueError(f"TPC-H has no table {name!r}; choose one of {', '.join(TPCH_TABLES)}")
        file = generate_tpch(self.path, self.scale) / f"{name}.parquet"
        relation = con.read_parquet(str(file))  # a relation: no path is spliced into SQL text
        widened = [
            f"CAST({quote_identifier(col)} AS BIGINT) AS {quote_identifier(col)}"
            if str(dtype) in _NARROW_INTEGERS
            else quote_identifier(col)
            for col, dtype in zip(relation.columns, relation.dtypes, strict=True)
        ]
        return relation.select(", ".join(widened))

    def query_files(self, sql: str) -> list[tuple]:
        """`sql` over the generated Parquet files themselves, each table a view named after it: the
        source as it is, for checking what products made of it."""
        directory = generate_tpch(self.path, self.scale)
        with duckdb.connect() as con:
            for table in TPCH_TABLES:  # relations, so no path is ever spliced into SQL text
                con.read_parquet(str(directory / f"{table}.parquet")).create_view(table)
            return con.execute(sql).fetchall()
