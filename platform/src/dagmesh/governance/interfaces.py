"""Other domains' product interfaces (access, owners, allowed consumers) without their Python code.

At load time a consumer location cannot import the producer's code. It reads the producer's published
contracts instead: the registry files `dagmesh publish` writes into the producer's package folder
(`dagmesh.registry.store` says where; see docs/contracts.md).
"""

from __future__ import annotations

from collections.abc import Iterable
from pathlib import Path

import dagster as dg

from dagmesh.declare.access import ACCESS_LEVELS
from dagmesh.declare.interface import ProductInterface
from dagmesh.registry.odcs import ContractDocumentError, custom_property, load_odcs
from dagmesh.registry.store import producer_folder, published_files


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


_UNCHECKABLE = (
    "Its access level cannot be checked, so no consumer of it loads; the producer's owners republish "
    "it with `dagmesh publish`"
)


def _access(doc: dict, key: dg.AssetKey, path: Path) -> str:
    """The access level the registry file publishes. A file dagmesh did not write that way (custom
    properties that are not a list of mappings, no or an unknown access level) is refused: read as
    public, it would let every consumer past the load-time check."""
    properties = doc.get("customProperties")
    if not isinstance(properties, list) or not all(isinstance(p, dict) for p in properties):
        problem = "its customProperties are not a list of {property, value} mappings"
    else:
        access = custom_property(doc, "access")
        if access in ACCESS_LEVELS:
            return str(access)
        problem = f"its access level is {access!r}, not one of {', '.join(ACCESS_LEVELS)}"
    raise ContractDocumentError(
        f"{key.to_user_string()}: the registry file {path} ({_owners_text(doc)}) is not a contract "
        f"dagmesh published: {problem}. {_UNCHECKABLE}"
    )


def _owners_text(doc: dict) -> str:
    try:
        owners = _owners(doc)
    except (AttributeError, TypeError):
        owners = ()
    return f"owners: {', '.join(owners) or 'unknown'}"


def published_interfaces(
    keys: Iterable[dg.AssetKey], root: Path
) -> dict[dg.AssetKey, ProductInterface]:
    """The newest published interface of each key that has one in the registry under `root`."""
    found: dict[dg.AssetKey, ProductInterface] = {}
    for key in keys:
        if len(key.path) != 2:
            continue
        # a draft counts: it states the access the producer intends, and consumers may read it
        folder = producer_folder(root, key.path[0])
        files = published_files(folder, key.path[1])
        if not files:
            continue
        newest = files[max(files)]
        try:
            doc = load_odcs(newest)
        except ContractDocumentError as error:  # not YAML, or not a mapping
            raise ContractDocumentError(
                f"{key.to_user_string()}: {error}. {_UNCHECKABLE}"
            ) from None
        access = _access(doc, key, newest)
        allowed = custom_property(doc, "allowedConsumers")
        found[key] = ProductInterface(
            key=key,
            owners=_owners(doc),
            description=str(doc.get("description", "")),
            access=access,
            version=str(doc.get("version", "")),
            contract=str(doc.get("name", "")),
            slo="published",
            allowed_consumers=tuple(str(a) for a in allowed) if isinstance(allowed, list) else (),
        )
    return found
