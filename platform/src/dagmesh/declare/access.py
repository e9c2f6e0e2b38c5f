"""Access levels across domains: who may read what. One rule, used at load time, in lint and on every read.

Every read of a published product names its reader (`Reader`): a product, a domain, or a platform tool
trusted to read everything. A read without one is refused: the warehouse cannot tell who is asking.
"""

from __future__ import annotations

import contextvars
import json
from collections.abc import Iterator, Mapping, Sequence
from contextlib import contextmanager
from dataclasses import dataclass
from enum import StrEnum

import dagster as dg

from dagmesh.core.errors import DagmeshError


class Access(StrEnum):
    """A product's access level. A `StrEnum`, so `Access.PUBLIC == "public"` where plain text is read back."""

    PUBLIC = "public"
    INTERNAL = "internal"
    PRIVATE = "private"


ACCESS_LEVELS: tuple[str, ...] = tuple(level.value for level in Access)


class AccessDeniedError(DagmeshError):
    """A product reads another product its access level does not let it read."""


def may_read(
    consumer: dg.AssetKey, producer: dg.AssetKey, access: str | None, allowed: Sequence[str] = ()
) -> bool:
    """public: anyone; internal: the producer's domain; private: the products the producer names."""
    if access in (None, Access.PUBLIC):
        return True
    if access == Access.INTERNAL:
        return consumer.path[0] == producer.path[0]
    if access == Access.PRIVATE:
        name = consumer.to_user_string()
        return name in allowed or (
            consumer.path[0] == producer.path[0] and consumer.path[-1] in allowed
        )
    return False


def access_message(
    consumer: dg.AssetKey,
    consumer_owners: Sequence[str],
    producer: dg.AssetKey,
    producer_owners: Sequence[str],
    access: str,
) -> str:
    rule = {
        Access.INTERNAL: f"internal to domain {producer.path[0]!r}",
        Access.PRIVATE: "private to the products its module allows",
    }.get(access, access)
    return (
        f"{consumer.to_user_string()} (owners: {', '.join(consumer_owners) or 'none'}) may not read "
        f"{producer.to_user_string()} (owners: {', '.join(producer_owners) or 'none'}), "
        f"which is {access}: {rule}"
    )


@dataclass(frozen=True)
class Reader:
    """Who reads a product: a product (`key`), a domain's code that is no product (`domain` only: a
    plain asset, a sensor of the domain), or a platform tool (`trusted`: the catalog, governance,
    history, tests), which reads every product and must say what it is."""

    domain: str
    owners: tuple[str, ...] = ()
    key: dg.AssetKey | None = None
    trusted: bool = False

    @classmethod
    def product(cls, key: dg.AssetKey, owners: Sequence[str] = ()) -> Reader:
        return cls(domain=key.path[0], owners=tuple(owners), key=key)

    @classmethod
    def of_domain(cls, domain: str, owners: Sequence[str] = ()) -> Reader:
        return cls(domain=domain, owners=tuple(owners))

    @classmethod
    def platform(cls, tool: str) -> Reader:
        """A platform tool that reads products on the platform's own behalf (never domain code)."""
        return cls(domain=tool, trusted=True)

    @property
    def name(self) -> str:
        if self.key is not None:
            return self.key.to_user_string()
        return f"the platform's {self.domain}" if self.trusted else f"domain {self.domain!r}"

    def may_read(self, producer: dg.AssetKey, access: str | None, allowed: Sequence[str]) -> bool:
        """A product by the product rule (`may_read`); a domain reads its own domain's products and
        other domains' public ones; a platform tool reads everything."""
        if self.trusted:
            return True
        if self.key is not None:
            return may_read(self.key, producer, access, allowed)
        return access in (None, Access.PUBLIC) or self.domain == producer.path[0]


_CURRENT_READER: contextvars.ContextVar[Reader | None] = contextvars.ContextVar(
    "dagmesh_reader", default=None
)


@contextmanager
def reading_as(reader: Reader) -> Iterator[Reader]:
    """Run the enclosed code (a product's step) as `reader`: reads that name no reader are its reads."""
    token = _CURRENT_READER.set(reader)
    try:
        yield reader
    finally:
        _CURRENT_READER.reset(token)


def current_reader() -> Reader | None:
    return _CURRENT_READER.get()


def refuse_unreadable(
    reader: Reader | None, producer: dg.AssetKey, publication: Mapping[str, object] | None
) -> None:
    """Raise unless the producer's published access level (its publication record) lets `reader`
    read it. No reader: refused, whatever the level (deny by default)."""
    if reader is None:
        raise AccessDeniedError(
            f"a read of {producer.to_user_string()} names no reader, so its access level cannot be "
            "checked; read through a product's inputs, or (platform tools) pass "
            "reader=Reader.platform('<tool>'). Read refused; nothing was loaded."
        )
    if publication is None:
        return  # not published yet: the read itself reports the missing upstream
    access = str(publication.get("access") or "public")
    allowed = json.loads(str(publication.get("allowed_consumers") or "[]"))
    if reader.may_read(producer, access, allowed):
        return
    owners = json.loads(str(publication.get("owners") or "[]"))
    if reader.key is not None:
        message = access_message(reader.key, reader.owners, producer, owners, access)
    else:
        message = (
            f"{reader.name} (owners: {', '.join(reader.owners) or 'none'}) may not read "
            f"{producer.to_user_string()} (owners: {', '.join(owners) or 'none'}), which is {access}: "
            f"only domain {producer.path[0]!r}"
            + (" and the products it allows" if access == Access.PRIVATE else "")
            + " may read it"
        )
    raise AccessDeniedError(message + ". Read refused at run time; nothing was loaded.")
