"""Access levels across domains: who may read what. Used at load time, in lint, and by the IO manager."""

from __future__ import annotations

from collections.abc import Sequence
from typing import TYPE_CHECKING

import dagster as dg

from dagmesh.errors import DagmeshError

if TYPE_CHECKING:
    from dagmesh.governance.policy import ProductView


class AccessDeniedError(DagmeshError):
    """A product reads another product its access level does not let it read."""


def may_read(
    consumer: dg.AssetKey, producer: dg.AssetKey, access: str | None, allowed: Sequence[str] = ()
) -> bool:
    """public: anyone; internal: the producer's domain; private: the products the producer names."""
    if access in (None, "public"):
        return True
    if access == "internal":
        return consumer.path[0] == producer.path[0]
    if access == "private":
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
        "internal": f"internal to domain {producer.path[0]!r}",
        "private": "private to the products its module allows",
    }.get(access, access)
    return (
        f"{consumer.to_user_string()} (owners: {', '.join(consumer_owners) or 'none'}) may not read "
        f"{producer.to_user_string()} (owners: {', '.join(producer_owners) or 'none'}), "
        f"which is {access}: {rule}"
    )


def access_problem(
    consumer: dg.AssetKey, consumer_owners: Sequence[str], producer: ProductView
) -> str | None:
    if may_read(consumer, producer.key, producer.access, producer.allowed_consumers):
        return None
    return access_message(
        consumer, consumer_owners, producer.key, producer.owners, producer.access or "unknown"
    )
