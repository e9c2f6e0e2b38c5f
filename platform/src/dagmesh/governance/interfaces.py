"""Other domains' product interfaces (access, owners, allowed consumers) without their Python code.

At load time a consumer location cannot import the producer's code. It reads the producer's published
contracts instead: the registry files `dagmesh publish` writes into the producer's package folder
(`dagmesh.registry.store` says where; see docs/contracts.md).
"""

from __future__ import annotations

from collections.abc import Iterable
from pathlib import Path

import dagster as dg

from dagmesh.declare.access import Access
from dagmesh.declare.interface import ProductInterface
from dagmesh.registry.odcs import custom_property
from dagmesh.registry.store import producer_folder, read_registry


def _owners(doc: dict) -> tuple[str, ...]:
    team = doc.get("team")
    members = team.get("members") if isinstance(team, dict) else team
    owners = []
    for member in members or []:
        if isinstance(member, dict) and member.get("username"):
            owners.append(str(member["username"]))
    custom = custom_property(doc, "owners")
    if isinstance(custom, list):
        owners += [str(o) for o in custom if str(o) not in owners]
    return tuple(owners)


def published_interfaces(
    keys: Iterable[dg.AssetKey], root: Path
) -> dict[dg.AssetKey, ProductInterface]:
    """The newest published interface of each key that has one in the registry under `root`."""
    found: dict[dg.AssetKey, ProductInterface] = {}
    for key in keys:
        if len(key.path) != 2:
            continue
        # a draft counts: it states the access the producer intends, and consumers may read it
        published = read_registry(producer_folder(root, key.path[0]), key.path[1])
        doc = published[max(published)] if published else None
        if not isinstance(doc, dict):
            continue
        allowed = custom_property(doc, "allowedConsumers")
        found[key] = ProductInterface(
            key=key,
            owners=_owners(doc),
            description=str(doc.get("description", "")),
            access=str(custom_property(doc, "access") or Access.PUBLIC),
            version=str(doc.get("version", "")),
            contract=str(doc.get("name", "")),
            slo="published",
            allowed_consumers=tuple(str(a) for a in allowed) if isinstance(allowed, list) else (),
        )
    return found
