"""The Dagster UI is the catalog: the real webserver, the real workspace, a real (headless) browser.

Starts `dagster-webserver -w workspace.yaml` on loopback, over a copy of the project (so the test can add
a domain the documented way) with its own DAGSTER_HOME and DAGMESH_HOME, and kept in step with the
workspace file as `dagmesh dev` keeps `dagster dev` (`dagmesh.tools.dev_server`). Checks through GraphQL
*and* in Chromium that every code location loaded, that a product page shows its card (owner) and its
contract's column schema with its constraints, launches a materialization with the UI's Materialize button
that must finish with SUCCESS, adds a domain with `dagmesh new-domain` and sees it load, and opens the
static catalog (live status, lineage graph, search). Screenshots go to test-artifacts/ui/.

The browser is Debian's `chromium` driven by Playwright (never `playwright install`, which downloads a
browser build): the test installs the Debian package when /usr/bin/chromium is missing, and fails, not
skips, when it cannot. The webserver runs without a daemon: the instance uses the DefaultRunCoordinator,
so a run launched from the UI starts at once, and no sensor or automation runs behind the test's back.
"""

from __future__ import annotations

import json
import os
import re
import shutil
import socket
import subprocess
import sys
import threading
import time
import urllib.error
import urllib.request
from collections.abc import Iterator
from dataclasses import dataclass
from pathlib import Path
from typing import Any

import pytest

from dagmesh.binding.workspace import read_workspace
from dagmesh.tools.dev_server import serve_with_restarts
from tests.helpers.project_copy import copy_project

ROOT = Path(__file__).resolve().parents[2]
WORKSPACE = ROOT / "workspace.yaml"
ARTIFACTS = ROOT / "test-artifacts" / "ui"
BIN = Path(sys.executable).parent
NEW_DOMAIN = "billing"
CHROMIUM = Path("/usr/bin/chromium")
CHROMIUM_ARGS = [
    "--headless",
    "--no-sandbox",
    "--disable-gpu",
    "--disable-quic",
    "--no-first-run",
    "--disable-background-networking",
    "--disable-component-update",
    "--disable-sync",
]
STARTUP_SECONDS = 120
RUN_SECONDS = 120
UI_TIMEOUT_MS = 30_000
DAGSTER_YAML = """\
telemetry:
  enabled: false
# No daemon in this test: runs launched from the UI start immediately.
run_coordinator:
  module: dagster._core.run_coordinator
  class: DefaultRunCoordinator
"""

LOCATIONS_QUERY = """
{ workspaceOrError { __typename
    ... on Workspace { locationEntries { name loadStatus
        locationOrLoadError { __typename ... on PythonError { message } } } }
    ... on PythonError { message } } }
"""
RUNS_QUERY = """
{ runsOrError(limit: 20) { __typename
    ... on Runs { results { runId status assetSelection { path } } } } }
"""
RUN_EVENTS_QUERY = """
query ($runId: ID!) { runOrError(runId: $runId) { __typename
    ... on Run { eventConnection { events { __typename ... on MessageEvent { message } } } } } }
"""
MATERIALIZATION_QUERY = """
query ($path: [String!]!) { assetOrError(assetKey: {path: $path}) { __typename
    ... on Asset { assetMaterializations(limit: 1) { runId
        metadataEntries { label ... on IntMetadataEntry { intValue } } } } } }
"""
TERMINAL = {"SUCCESS", "FAILURE", "CANCELED"}


def ensure_chromium() -> Path:
    """Debian's chromium, installed with apt-get when missing; a clear failure when that is impossible."""
    if CHROMIUM.exists():
        return CHROMIUM
    if shutil.which("apt-get") is None:
        pytest.fail(
            f"the UI end-to-end test needs Debian's chromium at {CHROMIUM} and this machine has no "
            "apt-get to install it; install a chromium there (Debian: `apt-get install -y chromium`)"
        )
    env = {**os.environ, "DEBIAN_FRONTEND": "noninteractive"}
    steps = (["apt-get", "update", "-q"], ["apt-get", "install", "-y", "-q", "chromium"])
    for command in steps:
        try:
            done = subprocess.run(command, env=env, capture_output=True, text=True, timeout=900)
        except subprocess.TimeoutExpired:
            pytest.fail(
                f"`{' '.join(command)}` did not finish in 15 minutes; install chromium by hand"
            )
        if done.returncode != 0:
            tail = (done.stderr or done.stdout).strip().splitlines()[-5:]
            pytest.fail(
                f"the UI end-to-end test needs Debian's chromium: `{' '.join(command)}` failed with exit "
                f"{done.returncode} (root is needed):\n" + "\n".join(tail)
            )
    if not CHROMIUM.exists():
        pytest.fail(f"`apt-get install chromium` succeeded but {CHROMIUM} does not exist")
    return CHROMIUM


def _free_port() -> int:
    with socket.socket() as sock:
        sock.bind(("127.0.0.1", 0))
        return int(sock.getsockname()[1])


@dataclass
class Webserver:
    url: str
    log: Path
    dagster_home: Path
    project: Path
    env: dict[str, str]
    supervisor: threading.Thread
    said: list[str]

    def log_tail(self, lines: int = 40) -> str:
        text = self.log.read_text(errors="replace") if self.log.exists() else ""
        return "\n".join(text.splitlines()[-lines:])

    def graphql(self, query: str, variables: dict[str, Any] | None = None) -> dict[str, Any]:
        body = json.dumps({"query": query, "variables": variables or {}}).encode()
        request = urllib.request.Request(
            f"{self.url}/graphql", data=body, headers={"Content-Type": "application/json"}
        )
        with urllib.request.urlopen(request, timeout=30) as response:
            answer = json.load(response)
        assert not answer.get("errors"), answer["errors"]
        return answer["data"]


def _wait_until_loaded(server: Webserver, expected: list[str]) -> None:
    deadline = time.monotonic() + STARTUP_SECONDS
    while True:
        if not server.supervisor.is_alive():
            pytest.fail(f"dagster-webserver exited:\n{server.log_tail()}")
        try:
            with urllib.request.urlopen(f"{server.url}/server_info", timeout=5):
                pass
            data = server.graphql(LOCATIONS_QUERY)["workspaceOrError"]
            entries = data.get("locationEntries") or []
            loading = [e["name"] for e in entries if e["loadStatus"] != "LOADED"]
            if {e["name"] for e in entries} >= set(expected) and not loading:
                return
        except (urllib.error.URLError, ConnectionError, TimeoutError):
            pass
        if time.monotonic() > deadline:
            pytest.fail(
                f"dagster-webserver did not serve every location within {STARTUP_SECONDS}s:\n"
                f"{server.log_tail()}"
            )
        time.sleep(1)


@pytest.fixture(scope="module")
def locations() -> list[str]:
    return [location.name for location in read_workspace(WORKSPACE)]


@pytest.fixture(scope="module")
def webserver(
    tmp_path_factory: pytest.TempPathFactory, locations: list[str]
) -> Iterator[Webserver]:
    base = tmp_path_factory.mktemp("ui")
    project = copy_project(base / "project")
    dagster_home = base / "dagster_home"
    dagster_home.mkdir()
    (dagster_home / "dagster.yaml").write_text(DAGSTER_YAML)
    env = dict(os.environ)
    env.update(
        DAGSTER_HOME=str(dagster_home),
        DAGMESH_HOME=str(base / "mesh"),
        DAGMESH_TPCH_SCALE="0.01",
        PYTHONUNBUFFERED="1",
        # A domain the test adds is imported from the copy, never installed into the shared venv.
        DAGMESH_SCAFFOLD_INSTALL="0",
        PYTHONPATH=os.pathsep.join(
            filter(None, [str(project / "domains" / NEW_DOMAIN / "src"), env.get("PYTHONPATH")])
        ),
        PATH=f"{BIN}{os.pathsep}{env['PATH']}",
    )
    env.pop("DAGMESH_WAREHOUSE", None)
    port = _free_port()
    log = base / "webserver.log"
    workspace = project / "workspace.yaml"
    command = [
        str(BIN / "dagster-webserver"),
        *("-w", str(workspace), "-h", "127.0.0.1", "-p", str(port)),
    ]
    stop = threading.Event()
    said: list[str] = []
    with log.open("w") as output:
        # What `dagmesh dev` does around `dagster dev`: restarted when workspace.yaml changes.
        supervisor = threading.Thread(
            target=serve_with_restarts,
            args=(command, workspace),
            kwargs={"say": said.append, "stop": stop, "env": env, "cwd": project, "output": output},
            daemon=True,
        )
        supervisor.start()
        server = Webserver(
            f"http://127.0.0.1:{port}", log, dagster_home, project, env, supervisor, said
        )
        try:
            _wait_until_loaded(server, locations)
            # The community newsletter dialog of a fresh instance would cover the page: mark it seen.
            server.graphql("mutation { setNuxSeen }")
            yield server
        finally:
            stop.set()
            supervisor.join(timeout=60)
            ARTIFACTS.mkdir(parents=True, exist_ok=True)
            shutil.copyfile(log, ARTIFACTS / "webserver.log")


@pytest.fixture(scope="module")
def browser(tmp_path_factory: pytest.TempPathFactory) -> Iterator[Any]:
    executable = ensure_chromium()
    try:
        from playwright.sync_api import expect, sync_playwright
    except ImportError:
        pytest.fail(
            "the Python package `playwright` (dev dependency group) is not installed: "
            "run `python3 dev.py setup`"
        )
    profile = tmp_path_factory.mktemp("chromium-profile")
    with sync_playwright() as playwright:
        context = playwright.chromium.launch_persistent_context(
            str(profile),
            executable_path=str(executable),
            headless=True,
            args=CHROMIUM_ARGS,
            viewport={"width": 1600, "height": 1100},
        )
        context.set_default_timeout(UI_TIMEOUT_MS)
        expect.set_options(timeout=UI_TIMEOUT_MS)
        try:
            yield context
        finally:
            context.close()


@pytest.fixture
def page(browser: Any) -> Iterator[Any]:
    tab = browser.new_page()
    try:
        yield tab
    finally:
        tab.close()


def _dismiss_dialogs(page: Any) -> None:
    skip = page.get_by_role("button", name="Skip", exact=True)
    if skip.count() and skip.first.is_visible():
        skip.first.click()


def _screenshot(page: Any, name: str, *, tall: bool = False) -> Path:
    """Save a screenshot; `tall` grows the window first (the UI scrolls inside its own panes, so a
    full-page screenshot would still stop at the window's height)."""
    ARTIFACTS.mkdir(parents=True, exist_ok=True)
    path = ARTIFACTS / name
    _dismiss_dialogs(page)
    size = page.viewport_size
    if tall:
        page.set_viewport_size({"width": size["width"], "height": 2000})
        page.wait_for_timeout(500)
    page.screenshot(path=str(path))
    if tall:
        page.set_viewport_size(size)
    return path


def test_every_code_location_loads_in_graphql_and_in_the_browser(
    webserver: Webserver, locations: list[str], page: Any
) -> None:
    from playwright.sync_api import expect

    entries = webserver.graphql(LOCATIONS_QUERY)["workspaceOrError"]["locationEntries"]
    loaded = {e["name"]: e["locationOrLoadError"] for e in entries}
    for name in locations:
        assert name in loaded, f"location {name} missing from the webserver's workspace"
        error = loaded[name].get("message", "")
        assert loaded[name]["__typename"] == "RepositoryLocation", f"{name} failed: {error}"

    page.goto(f"{webserver.url}/locations")
    expect(page.get_by_text(f"{len(locations)} code locations")).to_be_visible()
    for name in locations:
        link = page.locator(f'a[href="/locations/{name}/"]')
        expect(link).to_be_visible()
        expect(link).to_contain_text(name)
    expect(page.get_by_text("Loaded", exact=True)).to_have_count(len(locations))
    _screenshot(page, "locations.png")


def test_product_page_shows_its_card_and_contract_schema(webserver: Webserver, page: Any) -> None:
    from playwright.sync_api import expect

    from dagmesh.declare.contract import read_contract
    from sales.defs.orders.contract import Orders

    page.goto(f"{webserver.url}/assets/sales/orders")
    expect(page.get_by_text("Every customer order, as booked.", exact=True)).to_be_visible()
    # The card (the asset's description): owner, contract file, consumers.
    expect(page.get_by_text("team:sales", exact=True)).to_be_visible()
    expect(page.get_by_text("domains/sales/contracts/orders/v2.odcs.yaml")).to_be_visible()
    expect(page.get_by_text("Consumers (this domain)")).to_be_visible()
    # The column schema is the contract: every column, with its type and description, and its
    # constraints as Dagster draws them (a tag per constraint: non-nullable, unique, each check).
    contract = read_contract(Orders)
    for column in contract.columns:
        expect(page.get_by_text(column.name, exact=True).first).to_be_visible()
        if column.description:
            expect(page.get_by_text(column.description, exact=True).first).to_be_visible()
    required = sum(not column.nullable for column in contract.columns)
    assert required > 1
    expect(page.get_by_text("non-nullable", exact=True)).to_have_count(required)
    expect(page.get_by_text("unique", exact=True).first).to_be_visible()
    check = next(
        c.label for column in contract.columns for c in column.checks if len(c.label) <= 30
    )
    expect(page.get_by_text(check, exact=True).first).to_be_visible()
    # Cross-domain lineage and the kinds (icons) the platform sets: orders is computed in the
    # warehouse, so SQL rather than pandas.
    expect(page.get_by_text("customer_segments").first).to_be_visible()
    for kind in ("DuckDB", "SQL", "Pandera"):
        label = re.compile(f"^{kind}$", re.IGNORECASE)
        expect(page.get_by_text(label).first).to_be_visible()
    _screenshot(page, "product-sales-orders.png", tall=True)


def _runs_of(server: Webserver, path: list[str]) -> dict[str, str]:
    runs = server.graphql(RUNS_QUERY)["runsOrError"]["results"]
    return {
        run["runId"]: run["status"]
        for run in runs
        if any(selected["path"] == path for selected in run["assetSelection"] or [])
    }


def test_materialize_launched_from_the_ui_succeeds(webserver: Webserver, page: Any) -> None:
    from playwright.sync_api import expect

    path = ["sales", "nations"]
    before = set(_runs_of(webserver, path))
    page.goto(f"{webserver.url}/assets/{'/'.join(path)}")
    expect(page.get_by_text("Never materialized")).to_be_visible()
    _dismiss_dialogs(page)
    page.get_by_role("button").filter(has_text=re.compile(r"^Materialize$")).click()

    deadline = time.monotonic() + RUN_SECONDS
    run_id, status = None, None
    while time.monotonic() < deadline:
        new = {r: s for r, s in _runs_of(webserver, path).items() if r not in before}
        if new:
            run_id, status = next(iter(new.items()))
            if status in TERMINAL:
                break
        time.sleep(1)
    assert run_id is not None, "clicking Materialize launched no run"
    if status != "SUCCESS":
        run = webserver.graphql(RUN_EVENTS_QUERY, {"runId": run_id})["runOrError"]
        messages = [
            e.get("message", "")
            for e in run.get("eventConnection", {}).get("events", [])
            if "Failure" in e["__typename"]
        ]
        _screenshot(page, "after-materialize.png", tall=True)
        pytest.fail(
            f"run {run_id} for sales/nations ended {status} after at most {RUN_SECONDS}s:\n"
            + "\n".join(messages)
            + f"\n{webserver.log_tail()}"
        )

    asset = webserver.graphql(MATERIALIZATION_QUERY, {"path": path})["assetOrError"]
    latest = asset["assetMaterializations"][0]
    assert latest["runId"] == run_id
    rows = {e["label"]: e.get("intValue") for e in latest["metadataEntries"]}
    assert rows.get("dagster/row_count") == 25  # TPC-H has 25 nations at every scale

    page.reload()
    expect(page.get_by_text("Never materialized")).to_have_count(0)
    expect(page.get_by_text("Row count")).to_be_visible()
    _screenshot(page, "after-materialize.png", tall=True)

    # The contract check ran in the same step, and the asset's Checks tab shows it.
    page.goto(f"{webserver.url}/assets/{'/'.join(path)}?view=checks")
    expect(page.get_by_text("contract", exact=True).first).to_be_visible()
    expect(page.get_by_text("Passed").first).to_be_visible()
    _screenshot(page, "contract-check.png")


LOCATION_QUERY = """
{ workspaceOrError { ... on Workspace { locationEntries { name loadStatus
    locationOrLoadError { __typename ... on PythonError { message } } } } } }
"""


def test_a_domain_added_the_documented_way_shows_in_the_ui(
    webserver: Webserver, locations: list[str], page: Any
) -> None:
    """`dagmesh new-domain` registers the domain in workspace.yaml; the server is restarted (as by
    `dagmesh dev`) and the UI shows the new location and its product."""
    from playwright.sync_api import expect

    done = subprocess.run(
        [str(BIN / "dagmesh"), "new-domain", NEW_DOMAIN, "--owner", f"team:{NEW_DOMAIN}"],
        cwd=webserver.project,
        env=webserver.env,
        capture_output=True,
        text=True,
        timeout=300,
    )
    assert done.returncode == 0, done.stdout + done.stderr
    _wait_until_loaded(webserver, [*locations, NEW_DOMAIN])
    assert webserver.said and webserver.said[0].startswith("workspace.yaml changed: restarting")
    entries = webserver.graphql(LOCATION_QUERY)["workspaceOrError"]["locationEntries"]
    new = next(e for e in entries if e["name"] == NEW_DOMAIN)
    assert new["locationOrLoadError"]["__typename"] == "RepositoryLocation", new

    page.goto(f"{webserver.url}/locations")
    expect(page.get_by_text(f"{len(locations) + 1} code locations")).to_be_visible()
    expect(page.locator(f'a[href="/locations/{NEW_DOMAIN}/"]')).to_be_visible()
    _screenshot(page, "locations-after-new-domain.png")
    page.goto(f"{webserver.url}/assets/{NEW_DOMAIN}")
    expect(page.get_by_text("regions").first).to_be_visible()
    _screenshot(page, "new-domain-assets.png")


def test_the_static_catalog_shows_status_graph_and_search(webserver: Webserver, page: Any) -> None:
    """`dagmesh catalog` over the same warehouse and instance, opened from disk: sales/nations (which
    the UI materialized above) has its live status; the lineage graph is drawn; search filters."""
    from playwright.sync_api import expect

    out = ARTIFACTS / "catalog"
    shutil.rmtree(out, ignore_errors=True)
    done = subprocess.run(
        [str(BIN / "dagmesh"), "catalog", "--out", str(out)],
        cwd=webserver.project,
        env=webserver.env,
        capture_output=True,
        text=True,
        timeout=300,
    )
    assert done.returncode == 0, done.stdout + done.stderr

    page.goto((out / "index.html").as_uri())
    nations = page.locator("#product-sales-nations")
    expect(nations.locator(".badge")).to_have_text("fresh, contract passed, last run success")
    expect(nations.get_by_text("25 rows", exact=False)).to_be_visible()
    graph = page.locator("svg.lineage")
    expect(graph).to_be_visible()
    expect(graph.locator('a.node[data-key="sales/orders"]')).to_have_count(1)
    assert graph.locator("path.edge").count() > 5
    _screenshot(page, "catalog.png")

    page.locator("#search").fill("nations")
    expect(page.locator("#search-count")).to_contain_text("products match")
    expect(nations).to_be_visible()
    expect(page.locator("#product-sales-orders")).to_be_hidden()
    expect(page.locator("#domain-marketing")).to_be_hidden()  # no product of it matches
    expect(graph.locator('a.node[data-key="sales/orders"]')).to_have_css("opacity", "0.25")
    expect(graph.locator('a.node[data-key="sales/nations"]')).to_have_css("opacity", "1")
    _screenshot(page, "catalog-search.png")
