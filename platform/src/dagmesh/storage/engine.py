"""The engine a product's step runs in: the warehouse's own DuckDB connection, for relations that never leave it.

An in-warehouse product (one that returns `Relation`) gets its inputs as relations over the published
tables and builds its result lazily; the warehouse then stages, audits and publishes that result on the
same connection, so no row crosses into Python. The step opens an `EngineSession`; source resources
(`TpchSource.relation`) and `query()` over relations find its connection here. Outside a step (a notebook,
a test) they use one in-memory connection of their own.
"""

from __future__ import annotations

import contextvars
import itertools
from collections.abc import Iterator, Mapping, Sequence
from contextlib import contextmanager
from dataclasses import dataclass, field

import duckdb

from dagmesh.core.errors import DagmeshError
from dagmesh.declare.product import Relation
from dagmesh.storage.sql_guard import refuse_unless_over

_SESSION: contextvars.ContextVar[EngineSession | None] = contextvars.ContextVar(
    "dagmesh_engine_session", default=None
)
_standalone: duckdb.DuckDBPyConnection | None = None
_view_ids = itertools.count()


class RelationBindingError(DagmeshError):
    """Two relations were given one name in the same step: the first query would silently change."""


@dataclass
class EngineSession:
    """One step's engine: its connection, and the names its queries bound relations to."""

    connection: duckdb.DuckDBPyConnection
    # view name -> the relation itself: kept alive, so no later relation can be mistaken for it
    views: dict[str, Relation] = field(default_factory=dict)

    def bind(self, name: str, relation: Relation) -> None:
        """Make `relation` visible to SQL as `name` for the rest of the step. A name stays bound to
        one relation: a lazily built result may still read the view when it is published."""
        bound = self.views.get(name)
        if bound is not None and bound is not relation:
            raise RelationBindingError(
                f"two queries of this step name different relations {name!r}; a relation built by "
                "the first would read the second. Give each a name of its own."
            )
        if bound is None:
            register_view(self.connection, name, relation)
            self.views[name] = relation

    def private_name(self, stem: str) -> str:
        """A view name no query of the product can have used."""
        return f"_dagmesh_{stem}_{next(_view_ids)}"

    def close(self) -> None:
        for name in self.views:
            self.connection.unregister(name)
        self.views.clear()


class ForeignRelationError(DagmeshError):
    """A relation of another DuckDB connection: this one cannot read it."""


def register_view(con: duckdb.DuckDBPyConnection, name: str, relation: Relation) -> None:
    """`relation` as a temporary view `name` of `con`: never a view in the warehouse file, which
    `Relation.create_view` would make (and a crash would leave behind)."""
    try:
        con.register(name, relation)
    except duckdb.InvalidInputException as error:
        if "another Connection" not in str(error):
            raise
        raise ForeignRelationError(
            f"the relation given as {name!r} was made on another DuckDB connection; build it from the "
            "product's inputs, its sources or query(), which all run on the step's engine"
        ) from None


@contextmanager
def engine_session(connection: duckdb.DuckDBPyConnection) -> Iterator[EngineSession]:
    """Run the enclosed product code against `connection`; its views are dropped afterwards."""
    session = EngineSession(connection)
    token = _SESSION.set(session)
    try:
        yield session
    finally:
        _SESSION.reset(token)
        session.close()


def current_session() -> EngineSession | None:
    return _SESSION.get()


def current_connection() -> duckdb.DuckDBPyConnection:
    """The step's warehouse connection, or (outside a step) an in-memory one kept for the process."""
    session = _SESSION.get()
    if session is not None:
        return session.connection
    global _standalone
    if _standalone is None:
        _standalone = duckdb.connect()
    return _standalone


def relation_query(
    sql: str, params: Sequence[object] | None, relations: Mapping[str, Relation]
) -> Relation:
    """`sql` over `relations`, each visible under its keyword, as a lazy relation on the same connection:
    the warehouse's, so the SQL must read nothing but `relations` (`refuse_unless_over`)."""
    refuse_unless_over(sql, relations)
    connection = current_connection()
    session = _SESSION.get()
    for name, relation in relations.items():
        if session is not None:
            session.bind(name, relation)
        else:
            register_view(connection, name, relation)
    return connection.sql(sql, params=list(params) if params else None)
