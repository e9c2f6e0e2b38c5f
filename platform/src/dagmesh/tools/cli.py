"""The `dagmesh` command: run and inspect the whole mesh as `workspace.yaml` describes it."""

from __future__ import annotations

import json
import os
import sys
import warnings
from enum import StrEnum
from pathlib import Path
from typing import Annotated

import typer
from rich.console import Console
from rich.markup import escape
from rich.progress import BarColumn, MofNCompleteColumn, Progress, SpinnerColumn, TextColumn
from rich.table import Table

from dagmesh.core.errors import DagmeshError
from dagmesh.core.paths import find_project_root
from dagmesh.storage.settings import LOCK_TIMEOUT_ENV, MeshSettings, lock_timeout_seconds

app = typer.Typer(
    help="dagmesh: run, list and govern the data products of every domain in the workspace.",
    no_args_is_help=True,
    add_completion=False,
    pretty_exceptions_enable=False,
)
# Pipes and CI logs get a wide console, so product keys are never cut.
_WIDTH = None if sys.stdout.isatty() else 160
console = Console(width=_WIDTH)
errors = Console(stderr=True, width=_WIDTH)

SCAFFOLD_INSTALL_ENV = "DAGMESH_SCAFFOLD_INSTALL"  # "0": don't pip-install the new domain (tests)

WorkspaceOption = Annotated[
    Path | None,
    typer.Option("--workspace", "-w", help="workspace.yaml to read (default: the project's)."),
]


def _workspace_path(path: Path | None) -> Path:
    return (path or find_project_root() / "workspace.yaml").resolve()


def _load(path: Path | None):
    from dagmesh.binding.workspace import load_workspace

    workspace = _workspace_path(path)
    # Code locations import as packages; a workspace beside its domains also works uninstalled.
    sys.path.insert(0, str(workspace.parent))
    return load_workspace(workspace)


def _instance(settings: MeshSettings):
    """The Dagster instance the UI reads: DAGSTER_HOME if set, else the mesh's own local storage."""
    import dagster as dg

    if not os.environ.get("DAGSTER_HOME"):
        os.environ["DAGSTER_HOME"] = str(settings.ensure_dagster_home())
    return dg.DagsterInstance.get()


def _read_instance(settings: MeshSettings):
    """The instance `_instance` would give, for reading only: the environment is left as it is."""
    import dagster as dg
    from dagster._core.instance.ref import InstanceRef

    home = os.environ.get("DAGSTER_HOME") or str(settings.ensure_dagster_home())
    return dg.DagsterInstance.from_ref(InstanceRef.from_dir(home))


@app.command()
def run(
    workspace: WorkspaceOption = None,
    json_out: Annotated[
        Path | None, typer.Option("--json", help="Also write per-product outcomes as JSON here.")
    ] = None,
    parallel: Annotated[
        int,
        typer.Option(
            "--parallel",
            min=1,
            help="Runs of one wave (independent locations) at the same time. Above 1, runs capture "
            "no stdout/stderr for the UI (their event logs are kept).",
        ),
    ] = 2,
    lock_timeout: Annotated[
        str | None,
        typer.Option(
            "--lock-timeout",
            metavar="SECONDS",
            help="How long the whole run waits, in all, while another process holds the DuckDB "
            f"warehouse file (default: {LOCK_TIMEOUT_ENV} or 300).",
        ),
    ] = None,
    verbose: Annotated[
        bool,
        typer.Option(
            "--verbose", "-v", help="Print Dagster's full log of every run (stack traces included)."
        ),
    ] = False,
) -> None:
    """Materialize every product of every code location, in dependency order across domains.
    Ctrl-C (or SIGTERM) stops it within seconds: nothing is half-published, no further product starts."""
    from dagmesh.storage.lock_wait import run_lock_deadline
    from dagmesh.storage.warehouse import MeshWarehouse
    from dagmesh.tools.run_instance import for_concurrent_runs
    from dagmesh.tools.runner import plan, run_mesh
    from dagmesh.tools.stopping import MeshStop

    if lock_timeout is not None:
        # the locations' warehouse resources read it when they load
        lock_timeout_seconds(lock_timeout, "--lock-timeout")
        os.environ[LOCK_TIMEOUT_ENV] = lock_timeout
    settings = MeshSettings.from_env()
    if settings.lake is not None and settings.lake.on_sqlite and parallel > 1:
        # DuckLake on SQLite answers "database is locked" to a second writer instead of waiting.
        console.print(
            "A SQLite lake catalog takes one writer at a time: running with --parallel 1."
        )
        parallel = 1
    locations = _load(workspace)
    groups = plan(locations)
    total = sum(len(g.keys) for g in groups)
    instance = _instance(settings)
    _fail_abandoned_runs(instance)
    console.print(
        f"[bold]dagmesh run[/]: {total} products in {len(locations)} code locations "
        f"({escape(', '.join(locations))}); warehouse {escape(settings.warehouse_name)}",
        highlight=False,
    )
    with Progress(
        SpinnerColumn(),
        TextColumn("{task.description}"),
        BarColumn(),
        MofNCompleteColumn(),
        console=console,
        transient=True,
    ) as progress:
        task = progress.add_task("starting", total=total)

        def say(line: str) -> None:
            progress.console.print(line, markup=False, highlight=False, soft_wrap=True)

        def started(group) -> None:
            names = ", ".join(k.path[-1] for k in group.keys)
            progress.update(task, description=f"[cyan]{escape(group.location)}[/]: {escape(names)}")

        def done(group, outcomes) -> None:
            for outcome in outcomes:
                mark = "[green]✓[/]" if outcome.status == "published" else "[red]✗[/]"
                progress.console.print(
                    f"  {mark} {escape(outcome.key.to_user_string())} {outcome.status}"
                    + (f" ({outcome.rows} rows)" if outcome.rows is not None else ""),
                    highlight=False,
                )
            progress.advance(task, len(group.keys))

        def stopping(signum) -> None:
            say(
                f"{signum.name}: stopping; the running products are interrupted (nothing they had "
                "not committed is published) and no further product starts"
            )

        stop = MeshStop(announce=stopping)
        warehouse = MeshWarehouse.from_settings(settings)
        with (
            stop.on_signals(),
            run_lock_deadline(settings.lock_timeout, say),
            warehouse.kept_open(),
        ):
            result = run_mesh(
                locations,
                for_concurrent_runs(instance) if parallel > 1 else instance,
                parallel=parallel,
                on_group_start=started,
                on_group_done=done,
                stop=stop,
                verbose=verbose,
            )

    _print_outcomes(result)
    if json_out is not None:
        json_out.write_text(
            json.dumps(
                {
                    "seconds": result.seconds,
                    "stopped": result.stopped,
                    "products": [
                        {
                            "product": o.key.to_user_string(),
                            "location": o.location,
                            "status": o.status,
                            "rows": o.rows,
                            "contract": o.contract,
                            "seconds": o.seconds,
                            "error": o.error,
                        }
                        for o in result.outcomes.values()
                    ],
                },
                indent=2,
            )
        )
    for outcome in result.failed:
        line = outcome.error or outcome.status
        if outcome.key.to_user_string() not in line.splitlines()[0]:
            line = f"{outcome.key.to_user_string()}: {line}"
        errors.print(line, markup=False, highlight=False, soft_wrap=True)
    if result.stopped:
        published = [
            o.key.to_user_string() for o in result.outcomes.values() if o.status == "published"
        ]
        errors.print(
            f"stopped by {stop.signal.name if stop.signal else 'a stop request'}: "
            f"published {', '.join(published) or 'nothing'}; not published "
            f"{', '.join(o.key.to_user_string() for o in result.failed)}.",
            markup=False,
            highlight=False,
        )
        if result.abandoned:
            # a run that would not stop: the process ends without it, its transaction uncommitted
            sys.stdout.flush()
            sys.stderr.flush()
            os._exit(stop.exit_code)
        raise typer.Exit(stop.exit_code)
    if not result.success:
        errors.print(
            f"{len(result.failed)} product(s) not published; full logs: `dagmesh run --verbose` or "
            "the Dagster UI (`dagmesh dev`).",
            highlight=False,
        )
        raise typer.Exit(1)


def _print_outcomes(result) -> None:
    table = Table(title=f"Mesh run: {result.seconds:.1f}s")
    for column in ("product", "location", "status", "rows", "contract", "time"):
        table.add_column(column, justify="right" if column in ("rows", "time") else "left")
    for outcome in result.outcomes.values():
        style = {"published": "green", "failed": "red"}.get(outcome.status, "yellow")
        table.add_row(
            escape(outcome.key.to_user_string()),
            escape(outcome.location),
            f"[{style}]{outcome.status}[/]",
            "-" if outcome.rows is None else f"{outcome.rows:,}",
            outcome.contract,
            "-" if outcome.seconds is None else f"{outcome.seconds:.2f}s",
        )
    console.print(table)


def _fail_abandoned_runs(instance) -> None:
    """Runs a killed `dagmesh` process left in progress: marked failed, and said so."""
    from dagmesh.tools.stale_runs import fail_abandoned_runs

    abandoned = fail_abandoned_runs(instance)
    if abandoned:
        console.print(
            f"marked {len(abandoned)} Dagster run(s) failed that a killed dagmesh process had left "
            f"in progress: {', '.join(run.run_id[:8] for run in abandoned)}",
            markup=False,
            highlight=False,
        )


@app.command(
    context_settings={"allow_extra_args": True, "ignore_unknown_options": True},
)
def dev(ctx: typer.Context, workspace: WorkspaceOption = None) -> None:
    """Open the Dagster UI over every code location (`dagster dev`), on the mesh's local storage;
    restarted when workspace.yaml changes (a new domain), since `dagster dev` reads it only at start."""
    from dagmesh.tools.dev_server import interrupt_on_termination, serve_with_restarts

    # DAGSTER_HOME: the mesh's own, created on first use
    _fail_abandoned_runs(_instance(MeshSettings.from_env()))
    dagster = Path(sys.executable).parent / "dagster"
    path = _workspace_path(workspace)
    command = [str(dagster), "dev", "-w", str(path), *ctx.args]
    interrupt_on_termination()
    try:
        code = serve_with_restarts(
            command, path, say=lambda text: console.print(text, highlight=False)
        )
    except KeyboardInterrupt:  # Ctrl-C, SIGTERM, SIGHUP: the child's group was stopped on the way
        code = 0
    raise typer.Exit(code)


@app.command("list")
def list_products(workspace: WorkspaceOption = None) -> None:
    """Every data product in the workspace: domain, owners, access, version, contract and inputs."""
    from dagmesh.binding.catalog import mesh_products

    products = [p.interface for p in mesh_products(_load(workspace))]
    table = Table(title=f"{len(products)} data products")
    for column in ("product", "domain", "owners", "access", "version", "contract", "inputs"):
        table.add_column(column)
    for product in products:
        table.add_row(
            product.name,
            product.domain,
            ", ".join(product.owners),
            product.access,
            product.version,
            product.contract,
            ", ".join(key.to_user_string() for key in product.inputs) or "-",
        )
    console.print(table)


@app.command()
def lint(workspace: WorkspaceOption = None) -> None:
    """Evaluate every governance policy over every product of the workspace; exit 1 on any error."""
    from dagmesh.governance.policy import Severity
    from dagmesh.tools.lint import lint_workspace

    path = _workspace_path(workspace)
    sys.path.insert(0, str(path.parent))
    violations = lint_workspace(path)
    if not violations:
        console.print("[green]no policy violations[/]")
        return
    table = Table(title=f"{len(violations)} policy violation(s)")
    for column in ("product", "owners", "policy", "severity", "problem", "how to fix"):
        table.add_column(column, overflow="fold")
    for v in sorted(violations, key=lambda v: (v.severity is not Severity.ERROR, v.product)):
        style = "red" if v.severity is Severity.ERROR else "yellow"
        table.add_row(
            v.product,
            ", ".join(v.owners),
            v.policy,
            f"[{style}]{v.severity.value}[/]",
            v.message,
            v.fix,
        )
    console.print(table)
    if any(v.severity is Severity.ERROR for v in violations):
        raise typer.Exit(1)


@app.command("new-domain")
def new_domain(
    name: Annotated[str, typer.Argument(help="Domain name, lower_snake_case.")],
    owner: Annotated[str, typer.Option("--owner", help="'team:name' or an email.")],
) -> None:
    """Create domains/NAME, a Dagster project with an example product, contract and test, registered in
    workspace.yaml and the uv workspace, its contract drafted in the registry (free to change until
    `dagmesh publish`)."""
    from dagmesh.tools.scaffold import new_domain as scaffold_domain

    install = os.environ.get(SCAFFOLD_INSTALL_ENV, "1") != "0"
    _print_scaffolded(scaffold_domain(find_project_root(), name, owner, install=install))
    console.print(
        f"Domain [bold]{name}[/] is registered in workspace.yaml. Next: `dagmesh lint`, "
        f"`pytest domains/{name}`, then `dagmesh publish` once the contract is what you promise. "
        "A running `python3 dev.py ui` restarts by itself to show it; a `dagster dev` started by "
        "hand does not see a new code location until it is restarted."
    )


@app.command("new-product")
def new_product(
    domain: Annotated[str, typer.Argument(help="An existing domain.")],
    name: Annotated[str, typer.Argument(help="Product name, lower_snake_case.")],
    owner: Annotated[
        str | None, typer.Option("--owner", help="Defaults to the domain's OWNERS (standards.py).")
    ] = None,
) -> None:
    """Add a product to DOMAIN: defs/NAME/product.py and contract.py, and tests/test_NAME.py; its
    contract drafted in the registry (free to change until `dagmesh publish`)."""
    from dagmesh.tools.scaffold import new_product as scaffold_product

    _print_scaffolded(scaffold_product(find_project_root(), domain, name, owner))
    console.print(
        f"Product [bold]{domain}/{name}[/] added. Next: edit its contract and function, "
        f"`dagmesh lint`, `pytest domains/{domain}`, then `dagmesh publish`."
    )


def _print_scaffolded(result) -> None:
    """Every file the scaffold wrote, relative to the project root."""
    for label, paths, note in (
        ("created", result.created, ""),
        ("updated", result.updated, ""),
        ("created", result.drafted, "  (draft contract: free to change until `dagmesh publish`)"),
    ):
        for path in paths:
            console.print(
                f"  [green]{label}[/] {path.as_posix()}{note}", highlight=False, soft_wrap=True
            )


def _mesh_products(workspace: Path | None):
    from dagmesh.registry.check import load_mesh

    path = _workspace_path(workspace)
    sys.path.insert(0, str(path.parent))
    return load_mesh(path)


_STATUS_STYLE = {
    "up to date": "green",
    "unpublished changes": "yellow",
    "new major": "cyan",
    "not published": "red",
    "draft": "cyan",
    "breaking": "red",
    "invalid version": "red",
}


@app.command()
def check(
    workspace: WorkspaceOption = None,
    verify_data: Annotated[
        bool,
        typer.Option(
            "--verify-data",
            help="Verify new checks and uniqueness against the published tables in the warehouse, "
            "instead of counting them as potentially breaking.",
        ),
    ] = False,
) -> None:
    """Compare every product's contract with the registry; exit 1 on a breaking change without a
    major version bump (naming the consumers it breaks), an unpublished product or a bad version pin."""
    from contextlib import nullcontext

    from dagmesh.registry.check import check_mesh, published_data

    products = _mesh_products(workspace)
    context = (
        published_data(MeshSettings.from_env().warehouse_path) if verify_data else nullcontext(None)
    )
    with context as data_for:
        verdicts = check_mesh(products, data_for=data_for)
    table = Table(title=f"Contract check: {len(verdicts)} products")
    for column in ("product", "owners", "version", "published", "status", "changes"):
        table.add_column(column, overflow="fold")
    for verdict in verdicts:
        changes = "\n".join(
            f"{'[red]✗[/]' if c.breaking else '[green]✓[/]'} {c.kind}"
            + (f" {c.column}" if c.column else "")
            for c in verdict.changes
        )
        style = _STATUS_STYLE.get(verdict.status, "white")
        table.add_row(
            verdict.product.name,
            verdict.product.owners,
            verdict.product.product.version,
            verdict.published_version or "-",
            f"[{style}]{verdict.status}[/]" + ("" if verdict.ok else " [red](error)[/]"),
            changes or "-",
        )
    console.print(table)
    for verdict in verdicts:
        for note in verdict.notes:
            console.print(
                f"[cyan]note[/] {verdict.product.name}: {escape(str(note))}", highlight=False
            )
        for warning in verdict.warnings:
            console.print(f"[yellow]warning[/] {escape(str(warning))}", highlight=False)
    failed = [v for v in verdicts if not v.ok]
    for verdict in failed:
        for error in verdict.errors:
            errors.print(f"[red]error[/] {escape(str(error))}", highlight=False)
    if failed:
        errors.print(f"{len(failed)} product(s) failed the contract check; see docs/contracts.md.")
        raise typer.Exit(1)
    console.print("[green]every contract matches the registry[/]")


@app.command()
def publish(
    workspace: WorkspaceOption = None,
    force: Annotated[
        bool,
        typer.Option(
            "--force", help="Record contracts even when `dagmesh check` calls them breaking."
        ),
    ] = False,
) -> None:
    """Write every product's contract to its domain's registry (contracts/<product>/v<MAJOR>.odcs.yaml);
    a draft (what the scaffold writes) becomes the published contract."""
    from dagmesh.registry.check import check_mesh, publish_mesh, shown_path

    products = _mesh_products(workspace)
    results = publish_mesh(products, check_mesh(products), force=force)
    table = Table(title="Contract registry")
    for column in ("product", "version", "file", "action"):
        table.add_column(column, overflow="fold")
    styles = {"created": "green", "updated": "green", "deprecated": "yellow", "refused": "red"}
    for result in results:
        action = result.action
        table.add_row(
            result.product.name,
            result.product.product.version,
            shown_path(result.path),
            f"[{styles.get(action, 'white')}]{action}[/]"
            + (f" ({result.reason})" if result.reason and action != "refused" else ""),
        )
    console.print(table)
    refused = [r for r in results if r.action == "refused"]
    for result in refused:
        errors.print(f"[red]refused[/] {escape(str(result.reason))}", highlight=False)
    if refused:
        errors.print("fix the change or bump the major version; `--force` records it anyway")
        raise typer.Exit(1)


class ExportFormat(StrEnum):
    odcs = "odcs"  # Open Data Contract Standard v3 YAML


@app.command()
def export(
    workspace: WorkspaceOption = None,
    format: Annotated[
        ExportFormat, typer.Option("--format", help="Output format.")
    ] = ExportFormat.odcs,
    out: Annotated[Path, typer.Option("--out", help="Folder to write into.")] = Path(
        "dist/contracts"
    ),
) -> None:
    """Write every product's contract as it is in the code: <out>/<domain>/<product>.odcs.yaml."""
    from dagmesh.registry.odcs import dump_odcs, validate_odcs

    products = _mesh_products(workspace)
    for item in products:
        doc = item.contract_doc()
        validate_odcs(doc)
        path = out / item.domain / f"{item.key.path[-1]}.odcs.yaml"
        path.parent.mkdir(parents=True, exist_ok=True)
        path.write_text(dump_odcs(doc))
    console.print(f"wrote {len(products)} {format.value.upper()} contracts under {out}")


@app.command()
def catalog(
    workspace: WorkspaceOption = None,
    out: Annotated[Path, typer.Option("--out", help="Folder to write into.")] = Path(
        "dist/catalog"
    ),
) -> None:
    """Write a static catalog (catalog.md and index.html): every product's card, contract columns,
    live status (last publish, rows, contract, last run, freshness), a lineage graph across domains
    and consumers ("who depends on me"), with copies of the published contracts it links to."""
    from dagmesh.governance.monitors import utc_now
    from dagmesh.storage.warehouse import MeshWarehouse
    from dagmesh.tools.catalog_site import build_catalog, write_catalog
    from dagmesh.tools.catalog_status import product_statuses

    path = _workspace_path(workspace)
    mesh = build_catalog(_load(path), path)
    settings = MeshSettings.from_env()
    # A DuckDB file not written yet has no publications: opening it would create it.
    exists = settings.lake is not None or settings.warehouse_path.exists()
    warehouse = MeshWarehouse.from_settings(settings) if exists else None
    keys = [entry.interface.key for entry in mesh.entries]
    now = utc_now()
    with _read_instance(settings) as instance:
        statuses = product_statuses(keys, warehouse, instance, now=now)
    mesh = mesh.with_status(statuses, f"{now:%Y-%m-%d %H:%M} UTC")
    written = write_catalog(mesh, out)
    console.print(
        f"catalog of {len(mesh.entries)} products in {len(mesh.domains)} domains: "
        + ", ".join(str(p) for p in written),
        highlight=False,
    )


@app.command()
def history(
    product: Annotated[str, typer.Argument(help="The product, as domain/name.")],
    workspace: WorkspaceOption = None,
) -> None:
    """Every publication of a product: time, contract version, rows, run and (on a lake) snapshot."""
    from dagmesh.storage.warehouse import MeshWarehouse, table_for_key

    settings = MeshSettings.from_env()
    table = table_for_key(product.split("/"))
    entries = MeshWarehouse.from_settings(settings).history(table)
    if not entries:
        errors.print(f"{escape(product)}: never published in {escape(settings.warehouse_name)}")
        raise typer.Exit(1)
    view = Table(title=f"{product}: {len(entries)} publication(s)")
    for column in ("published at (UTC)", "version", "rows", "partition", "run", "snapshot"):
        view.add_column(column, justify="right" if column in ("rows", "snapshot") else "left")
    for entry in entries:
        view.add_row(
            str(entry.get("published_at") or "-"),
            str(entry.get("version") or "-"),
            f"{entry['row_count']:,}" if entry.get("row_count") is not None else "-",
            str(entry.get("partition_key") or "-"),
            str(entry.get("run_id") or "-")[:8],
            "expired"
            if entry.get("expired")
            else ("-" if entry.get("snapshot") is None else str(entry["snapshot"])),
        )
    console.print(view)
    if not settings.lake:
        console.print(
            "The DuckDB file keeps only the current version: reading or rolling back to an earlier "
            "one needs the lakehouse backend (DAGMESH_WAREHOUSE=ducklake:...)."
        )


@app.command()
def rollback(
    product: Annotated[str, typer.Argument(help="The product, as domain/name.")],
    to: Annotated[int, typer.Option("--to", help="The snapshot to republish (dagmesh history).")],
    workspace: WorkspaceOption = None,
) -> None:
    """Republish a product as it was at an earlier snapshot, as a new publication (audited, in a
    Dagster run; nothing is deleted). Needs the lakehouse backend."""
    import dagster as dg

    from dagmesh.binding.asset import ROLLBACK_TAG
    from dagmesh.tools.failures import root_message
    from dagmesh.tools.runner import materialize_in, partition_range_tags, producers

    settings = MeshSettings.from_env()
    if settings.lake is None:
        errors.print(
            "rollback needs the lakehouse backend (DAGMESH_WAREHOUSE=ducklake:...): the DuckDB file "
            "keeps only the current version of a product. Nothing was published."
        )
        raise typer.Exit(1)
    key = dg.AssetKey(product.split("/"))
    locations = _load(workspace)
    owner = producers(locations).get(key)
    if owner is None:
        errors.print(f"{escape(product)}: no code location in the workspace materializes it")
        raise typer.Exit(1)
    defs = locations[owner]
    partitions = defs.resolve_asset_graph().get(key).partitions_def
    result = materialize_in(
        defs,
        _instance(settings),
        [key],
        # a partitioned product is restored whole: one run over every partition
        tags={ROLLBACK_TAG: str(to), "dagmesh/run": "rollback", **partition_range_tags(partitions)},
    )
    if not result.success:
        for event in result.get_step_failure_events():
            errors.print(
                f"[red]{escape(product)}[/]: {escape(root_message(event.step_failure_data.error))}"
            )
        raise typer.Exit(1)
    materialization = result.get_asset_materialization_events()[0].materialization
    snapshot = materialization.metadata.get("dagmesh/snapshot")
    console.print(
        f"{escape(product)} republished as of snapshot {to}: a new publication"
        + (f" (snapshot {snapshot.value})" if snapshot is not None else "")
        + f", run {result.run_id}"
    )


def entry() -> None:
    """The `dagmesh` command: `main`, then the process ends without freeing its heap (`process_exit`)."""
    from dagmesh.tools.process_exit import exit_now

    try:
        main()
    except SystemExit as exit:
        exit_now(exit.code)
    exit_now(0)


def main() -> None:
    """The command line: platform errors print as one clear message and exit 2, never a traceback."""
    warnings.filterwarnings("ignore", module="dagster")
    warnings.filterwarnings("ignore", category=UserWarning, message=".*[Bb]eta.*")
    try:
        app()
    except DagmeshError as error:
        errors.print(f"[red]error:[/] {escape(str(error))}", highlight=False)
        sys.exit(2)
    except ValueError as error:  # settings from the environment
        errors.print(f"[red]error:[/] {escape(str(error))}", highlight=False)
        sys.exit(2)
    except KeyboardInterrupt:  # Ctrl-C before a run began (or outside `dagmesh run`)
        errors.print("interrupted", highlight=False)
        sys.exit(130)


if __name__ == "__main__":
    entry()
