"""Access levels across domains: who may read what. One rule, used at load time, in lint and on every read."""

from __future__ import annotations

from collections.abc import Sequence
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
