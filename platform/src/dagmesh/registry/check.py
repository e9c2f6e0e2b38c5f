"""`dagmesh check` and `dagmesh publish` over a whole workspace: code contracts against the registry.

Each product's contract as the code declares it is compared with the registry file of its major version.
Consumers are every product of every code location that lists it as an input; an input may pin the major
it accepts (`sales/orders@1`), otherwise it follows the producer's current major.

A registry file with ODCS `status: draft` (what `dagmesh new-domain` and `new-product` write) is a draft:
nothing was promised yet, so while no product of the workspace reads it the contract may change freely.
The first explicit `dagmesh publish` writes it `active`; from then on the compatibility rules hold.
"""

from __future__ import annotations

import datetime as dt
import importlib
import sys
from collections import defaultdict
from collections.abc import Callable, Collection, Iterator
from contextlib import contextmanager
from dataclasses import dataclass, field
from enum import StrEnum
from pathlib import Path
from typing import Any

import dagster as dg
import duckdb

from dagmesh.binding.asset import declared_products
from dagmesh.binding.workspace import read_workspace
from dagmesh.declare.product import DataProduct, ProductRef
from dagmesh.registry.diff import Change, PublishedData, diff_contracts
from dagmesh.registry.odcs import custom_property, normalized, to_odcs, validate_odcs
from dagmesh.registry.store import (
    DRAFT,
    contract_file,
    domain_folder,
    published_files,
    read_drafts,
    read_published,
    write_contract,
)
from dagmesh.storage.warehouse import table_for_key


class RegistryStatus(StrEnum):
    """How a product's contract in code stands against its registry file."""

    UP_TO_DATE = "up to date"
    UNPUBLISHED = "unpublished changes"
    NEW_MAJOR = "new major"
    NOT_PUBLISHED = "not published"
    DRAFT = "draft"
    BREAKING = "breaking"
    INVALID = "invalid version"


@dataclass(frozen=True)
class MeshProduct:
    """A product of the workspace with where it lives and where its registry files go."""

    key: dg.AssetKey
    location: str
    product: DataProduct
    folder: Path

    @property
    def domain(self) -> str:
        return self.key.path[0]

    @property
    def name(self) -> str:
        return self.key.to_user_string()

    @property
    def owners(self) -> str:
        return ", ".join(self.product.owners)

    def contract_doc(self) -> dict[str, Any]:
        """The code's contract as an ODCS document, exactly as it would read back from its file."""
        return normalized(to_odcs(self.product, self.domain))


@dataclass(frozen=True)
class Consumer:
    product: MeshProduct
    ref: ProductRef

    def describe(self) -> str:
        return f"{self.product.name} (owners: {self.product.owners})"


@dataclass
class Verdict:
    """What `dagmesh check` found for one product."""

    product: MeshProduct
    status: str
    published_version: str | None = None
    changes: list[Change] = field(default_factory=list)
    affected: list[Consumer] = field(default_factory=list)
    errors: list[str] = field(default_factory=list)
    warnings: list[str] = field(default_factory=list)
    notes: list[str] = field(default_factory=list)
    # A contract problem (not an input pin problem): `dagmesh publish` refuses to record it.
    blocks_publish: bool = False

    @property
    def ok(self) -> bool:
        return not self.errors


def load_mesh(workspace: Path, *, locations: Collection[str] | None = None) -> list[MeshProduct]:
    """Every data product of every code location in `workspace` (or of the named `locations`), with its
    registry folder."""
    root = workspace.resolve().parent
    found: list[MeshProduct] = []
    for location in read_workspace(workspace):
        if locations is not None and location.name not in locations:
            continue
        products = declared_products(location.load())
        for key in sorted(products, key=lambda k: k.to_user_string()):
            folder = domain_folder(location, root, key.path[0])
            found.append(MeshProduct(key, location.name, products[key], folder))
    return found


def consumers_by_producer(products: list[MeshProduct]) -> dict[dg.AssetKey, list[Consumer]]:
    found: dict[dg.AssetKey, list[Consumer]] = defaultdict(list)
    for consumer in products:
        for ref in consumer.product.inputs.values():
            found[ref.resolve(consumer.domain)].append(Consumer(consumer, ref))
    return found


def shown_path(path: Path) -> str:
    """`path` relative to the working directory when it is below it (shorter in CI logs)."""
    try:
        return str(path.resolve().relative_to(Path.cwd().resolve()))
    except ValueError:
        return str(path)


def _semver(text: str) -> tuple[int, ...]:
    try:
        return tuple(int(part) for part in str(text).split("."))
    except ValueError:
        return (0,)


def _affected_text(consumers: list[Consumer]) -> str:
    if not consumers:
        return "No product in the workspace reads it, but consumers outside it may."
    return f"It would break {len(consumers)} consumer(s): " + "; ".join(
        c.describe() for c in consumers
    )


def _compare_draft(
    item: MeshProduct,
    code: dict[str, Any],
    draft: dict[str, Any],
    consumers: list[Consumer],
) -> Verdict:
    """A product whose registry holds only a draft: free to change while nobody reads it; once a product
    of the workspace reads it, a breaking change against the draft is refused like any other."""
    changes = diff_contracts({**draft, "status": "active"}, code)
    verdict = Verdict(item, RegistryStatus.DRAFT, changes=changes)
    breaking = [c for c in changes if c.breaking]
    if consumers and breaking:
        verdict.status = RegistryStatus.BREAKING
        verdict.blocks_publish = True
        verdict.affected = consumers
        readers = "; ".join(c.describe() for c in consumers)
        verdict.errors.append(
            f"{item.name} (owners: {item.owners}) is a draft, but {len(consumers)} product(s) read "
            f"it ({readers}): its {len(breaking)} breaking change(s) against the draft "
            f"({'; '.join(map(str, breaking))}) would break them. Keep the change compatible, or "
            "change those consumers with it."
        )
        return verdict
    verdict.notes.append(
        "a draft (never published): it may change freely while no product reads it; "
        f"`dagmesh publish` publishes it as {item.product.version}"
    )
    return verdict


def _compare(
    item: MeshProduct,
    code: dict[str, Any],
    published: dict[int, dict[str, Any]],
    consumers: list[Consumer],
    data: PublishedData | None,
    drafts: dict[int, dict[str, Any]] | None = None,
) -> Verdict:
    major = item.product.major_version
    version = item.product.version
    path = contract_file(item.folder, item.key.path[-1], major)
    if not published and drafts:
        draft = drafts.get(major, drafts[max(drafts)])
        return _compare_draft(item, code, draft, consumers)
    if not published:
        return Verdict(
            item,
            RegistryStatus.NOT_PUBLISHED,
            errors=[
                f"{item.name} is not in the contract registry ({shown_path(path)}): "
                "run `dagmesh publish`"
            ],
        )
    newest = max(published)
    if newest > major or (
        major in published and _semver(version) < _semver(str(published[major].get("version")))
    ):
        shown = str(published[newest].get("version"))
        return Verdict(
            item,
            RegistryStatus.INVALID,
            published_version=shown,
            errors=[
                f"{item.name} declares version {version}, older than the published {shown}: "
                "versions only move forward"
            ],
            blocks_publish=True,
        )
    if major not in published:
        previous = published[newest]
        changes = diff_contracts(previous, code, data)
        verdict = Verdict(item, RegistryStatus.NEW_MAJOR, str(previous.get("version")), changes)
        verdict.notes.append(
            f"major {newest} -> {major}: v{newest} stays published"
            + (
                f" until {item.product.deprecation_date.isoformat()}"
                if item.product.deprecation_date
                else ""
            )
            + f"; run `dagmesh publish` to record v{major}"
        )
        if item.product.deprecation_date is None:
            verdict.warnings.append(
                f"{item.name} bumps to major {major} without deprecation_date: declare until when "
                f"v{newest} stays published for its consumers"
            )
        return verdict

    previous = published[major]
    changes = diff_contracts(previous, code, data)
    breaking = [c for c in changes if c.breaking]
    verdict = Verdict(item, RegistryStatus.UP_TO_DATE, str(previous.get("version")), changes)
    if breaking:
        verdict.status = RegistryStatus.BREAKING
        verdict.blocks_publish = True
        verdict.affected = [c for c in consumers if c.ref.major in (None, major)]
        listed = "; ".join(str(c) for c in breaking)
        verdict.errors.append(
            f"{item.name} (owners: {item.owners}) has {len(breaking)} breaking change(s) without a major "
            f"version bump (published {verdict.published_version}, code {version}): {listed}. "
            + _affected_text(verdict.affected)
            + f" Bump the version to {major + 1}.0.0 (with deprecation_date=...) or keep the change "
            "compatible."
        )
    elif code != previous:
        verdict.status = RegistryStatus.UNPUBLISHED
        verdict.notes.append("compatible changes: run `dagmesh publish` to record them")
        if changes and version == verdict.published_version:
            verdict.warnings.append(
                f"{item.name} changed its contract but not its version {version}: bump MINOR or PATCH "
                "so consumers can tell the versions apart"
            )
    return verdict


def _check_inputs(
    consumer: MeshProduct,
    by_key: dict[dg.AssetKey, MeshProduct],
    published: dict[dg.AssetKey, dict[int, dict[str, Any]]],
    verdicts: dict[dg.AssetKey, Verdict],
    today: dt.date,
) -> tuple[list[str], list[str]]:
    """Errors and warnings about the majors `consumer` accepts from each of its inputs."""
    errors: list[str] = []
    warnings: list[str] = []
    for ref in consumer.product.inputs.values():
        key = ref.resolve(consumer.domain)
        producer = by_key.get(key)
        if producer is None:
            continue
        current = producer.product.major_version
        majors = sorted(published.get(key, {}))
        pin = ref.major
        deadline = producer.product.deprecation_date
        producer_verdict = verdicts[key]
        if pin is None:
            if producer_verdict.status == RegistryStatus.NEW_MAJOR and majors:
                old = max(majors)
                breaking = [c for c in producer_verdict.changes if c.breaking]
                warnings.append(
                    f"{consumer.name} reads {producer.name} without a major pin and follows it to v{current}"
                    + (
                        f" ({len(breaking)} breaking change(s): "
                        + "; ".join(map(str, breaking))
                        + ")"
                        if breaking
                        else ""
                    )
                    + f"; adapt, or pin '{producer.name}@{old}'"
                    + (f" until {deadline.isoformat()}" if deadline else "")
                )
            continue
        if pin == current:
            continue
        if pin > current:
            errors.append(
                f"{consumer.name} accepts {producer.name}@{pin}, but {producer.name} is at major {current}"
            )
        elif pin not in majors:
            shown = ", ".join(f"v{m}" for m in majors) or "none"
            errors.append(
                f"{consumer.name} accepts {producer.name}@{pin}, which is not published "
                f"(published: {shown}); move to '{producer.name}@{current}'"
            )
        elif deadline is not None and today > deadline:
            errors.append(
                f"{consumer.name} (owners: {consumer.owners}) still accepts only {producer.name}@{pin}, "
                f"deprecated since {deadline.isoformat()}; move to '{producer.name}@{current}'"
            )
        else:
            until = (
                f"until {deadline.isoformat()}" if deadline else "until the producer sets a date"
            )
            warnings.append(
                f"{consumer.name} (owners: {consumer.owners}) accepts {producer.name}@{pin}, which is "
                f"deprecated: v{pin} stays published {until}; move to '{producer.name}@{current}'"
            )
    return errors, warnings


def check_mesh(
    products: list[MeshProduct],
    *,
    today: dt.date | None = None,
    data_for: Callable[[MeshProduct], PublishedData | None] | None = None,
) -> list[Verdict]:
    """One verdict per product: its contract against the registry, and its inputs' major pins."""
    today = today or dt.date.today()
    consumers = consumers_by_producer(products)
    by_key = {item.key: item for item in products}
    published = {item.key: read_published(item.folder, item.key.path[-1]) for item in products}
    verdicts: dict[dg.AssetKey, Verdict] = {}
    for item in products:
        code = item.contract_doc()
        validate_odcs(code)
        data = data_for(item) if data_for else None
        drafts = read_drafts(item.folder, item.key.path[-1])
        verdicts[item.key] = _compare(
            item, code, published[item.key], consumers[item.key], data, drafts
        )
    for item in products:
        errors, warnings = _check_inputs(item, by_key, published, verdicts, today)
        verdicts[item.key].errors += errors
        verdicts[item.key].warnings += warnings
    return [verdicts[item.key] for item in products]


@dataclass(frozen=True)
class Publication:
    product: MeshProduct
    path: Path
    action: str  # "created", "updated", "unchanged", "refused", "deprecated", "drafted", "removed"
    reason: str = ""


def _deprecate(doc: dict[str, Any], deadline: dt.date | None) -> dict[str, Any]:
    updated = dict(doc)
    updated["status"] = "deprecated"
    custom = [
        c for c in doc.get("customProperties") or [] if c.get("property") != "deprecationDate"
    ]
    if deadline is not None:
        custom.append({"property": "deprecationDate", "value": deadline.isoformat()})
    updated["customProperties"] = custom
    return updated


def publish_mesh(
    products: list[MeshProduct], verdicts: list[Verdict], *, force: bool = False
) -> list[Publication]:
    """Write each product's contract to the registry file of its major; deprecate older majors.

    A product `check` reports as breaking without a major bump (or with a version going backwards) is
    refused unless `force`: recording it would hide the break from every consumer.
    """
    results: list[Publication] = []
    for item, verdict in zip(products, verdicts, strict=True):
        major = item.product.major_version
        path = contract_file(item.folder, item.key.path[-1], major)
        if verdict.blocks_publish and not force:
            results.append(Publication(item, path, "refused", verdict.errors[0]))
            continue
        was_draft = verdict.status == RegistryStatus.DRAFT or bool(
            read_drafts(item.folder, item.key.path[-1])
        )
        existed = path.is_file() and not was_draft
        changed = write_contract(path, item.contract_doc())
        results.append(
            Publication(
                item,
                path,
                ("updated" if existed else "created") if changed else "unchanged",
                "was a draft" if was_draft else "",
            )
        )
        # a draft of another major was never published: nobody may rely on it, so it goes
        for draft_major in read_drafts(item.folder, item.key.path[-1]):
            draft_path = contract_file(item.folder, item.key.path[-1], draft_major)
            draft_path.unlink()
            results.append(Publication(item, draft_path, "removed", "an unpublished draft"))
        for old_major, doc in read_published(item.folder, item.key.path[-1]).items():
            if old_major >= major:
                continue
            deadline = item.product.deprecation_date
            if doc.get("status") == "deprecated" and custom_property(doc, "deprecationDate") == (
                deadline.isoformat() if deadline else None
            ):
                continue
            old_path = contract_file(item.folder, item.key.path[-1], old_major)
            write_contract(old_path, _deprecate(doc, deadline))
            results.append(
                Publication(
                    item,
                    old_path,
                    "deprecated",
                    f"until {deadline.isoformat()}" if deadline else "no deprecation date declared",
                )
            )
    return results


@contextmanager
def published_data(warehouse: Path) -> Iterator[Callable[[MeshProduct], PublishedData | None]]:
    """Read-only access to the published tables, to verify new guarantees against real data."""
    if not warehouse.is_file():
        yield lambda _item: None
        return
    con = duckdb.connect(str(warehouse), read_only=True)
    try:
        yield lambda item: PublishedData(con, *table_for_key(item.key.path))
    finally:
        con.close()


def draft_mesh(products: list[MeshProduct]) -> list[Publication]:
    """Write each product's contract as a draft (ODCS `status: draft`), where nothing is registered
    yet: what the scaffold does, so `dagmesh check` and consumers' loads know the product, while it
    stays free to change until the first `dagmesh publish`."""
    results: list[Publication] = []
    for item in products:
        path = contract_file(item.folder, item.key.path[-1], item.product.major_version)
        if published_files(item.folder, item.key.path[-1]):
            continue  # registered already (published or draft): never overwritten by a draft
        write_contract(path, {**item.contract_doc(), "status": DRAFT})
        results.append(Publication(item, path, "drafted"))
    return results


def publish_domain(root: Path, domain: str) -> list[Publication]:
    """Publish the contracts of one code location (`dagmesh new-domain` / `new-product` call this, so
    `dagmesh check` passes right after scaffolding)."""
    src = root / "domains" / domain / "src"
    if src.is_dir() and str(src) not in sys.path:
        sys.path.insert(
            0, str(src)
        )  # a domain installed a moment ago is not on this process's path yet
    importlib.invalidate_caches()
    products = load_mesh(root / "workspace.yaml", locations={domain})
    return publish_mesh(products, check_mesh(products))
