"""Other domains' product interfaces (access, owners, allowed consumers) without their Python code.

At load time a consumer location cannot import the producer's code. It reads the producer's published
contracts instead: the registry files `domains/<domain>/contracts/<product>/v<major>.odcs.yaml`
that `dagmesh publish` writes (see docs/contracts.md).
"""

from __future__ import annotations

from collections.abc import Iterable
from pathlib import Path

import dagster as dg
import yaml

from dagmesh.governance.policy import ProductView


def _custom(doc: dict, name: str) -> object:
    for item in doc.get("customProperties") or []:
        if isinstance(item, dict) and item.get("property") == name:
            return item.get("value")
    return None


def _owners(doc: dict) -> tuple[str, ...]:
    team = doc.get("team")
    members = team.get("members") if isinstance(team, dict) else team
    owners = []
    for member in members or []:
        if isinstance(member, dict) and member.get("username"):
            owners.append(str(member["username"]))
    custom = _custom(doc, "owners")
    if isinstance(custom, list):
        owners += [str(o) for o in custom if str(o) not in owners]
    return tuple(owners)


def _newest_contract(folder: Path) -> dict | None:
    files = sorted(folder.glob("v*.odcs.yaml"), key=lambda p: int(p.name[1:].split(".")[0] or 0))
    if not files:
        return None
    return yaml.safe_load(files[-1].read_text()) or None


def published_interfaces(keys: Iterable[dg.AssetKey], root: Path) -> dict[dg.AssetKey, ProductView]:
    """The newest published interface of each key that has one in the registry under `root`."""
    found: dict[dg.AssetKey, ProductView] = {}
    for key in keys:
        if len(key.path) != 2:
            continue
        doc = _newest_contract(root / "domains" / key.path[0] / "contracts" / key.path[1])
        if not isinstance(doc, dict):
            continue
        allowed = _custom(doc, "allowedConsumers")
        found[key] = ProductView(
            key=key,
            location=key.path[0],
            owners=_owners(doc),
            description=str(doc.get("description", "")),
            access=str(_custom(doc, "access") or "public"),
            version=str(doc.get("version", "")),
            contract=str(doc.get("name", "")),
            columns=(),
            has_slo=True,
            inputs=(),
            allowed_consumers=tuple(allowed) if isinstance(allowed, list) else (),
        )
    return found
