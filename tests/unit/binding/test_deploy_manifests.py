"""The deployment files we ship stay valid: Dagster accepts the instance config, and the gRPC workspace and
the Helm values name every code location of workspace.yaml."""

from __future__ import annotations

import shutil
from pathlib import Path

import yaml
from dagster._core.instance.config import dagster_instance_config

from dagmesh.binding.workspace import read_workspace

ROOT = Path(__file__).resolve().parents[3]
DEPLOY = ROOT / "deploy"
MODULES = {location.name: location.module for location in read_workspace(ROOT / "workspace.yaml")}


def test_every_manifest_is_yaml():
    for path in DEPLOY.rglob("*.yaml"):
        assert yaml.safe_load(path.read_text()) is not None, path


def test_instance_config_is_accepted_by_dagster(tmp_path, monkeypatch):
    for name, value in {
        "HOST": "127.0.0.1",
        "PORT": "5432",
        "USER": "u",
        "PASSWORD": "p",
        "DB": "d",
    }.items():
        monkeypatch.setenv(f"DAGSTER_PG_{name}", value)
    shutil.copy(DEPLOY / "postgres/dagster.yaml", tmp_path / "dagster.yaml")
    config, _ = dagster_instance_config(str(tmp_path))
    assert "postgres_db" in config["storage"]["postgres"]
    assert config["run_coordinator"]["class"] == "QueuedRunCoordinator"
    assert config["concurrency"]["pools"]["default_limit"] == 1  # one DuckDB writer


def test_grpc_workspace_serves_every_location():
    entries = yaml.safe_load((DEPLOY / "postgres/workspace.yaml").read_text())["load_from"]
    servers = [entry["grpc_server"] for entry in entries]
    assert {s["location_name"] for s in servers} == set(MODULES)
    assert len({s["port"] for s in servers}) == len(servers)


def test_helm_values_have_one_user_deployment_per_location():
    values = yaml.safe_load((DEPLOY / "kubernetes/values.yaml").read_text())
    deployments = values["dagster-user-deployments"]["deployments"]
    assert {d["name"] for d in deployments} == set(MODULES)
    for deployment in deployments:
        assert {"name", "image", "dagsterApiGrpcArgs", "port"} <= set(deployment)
        assert deployment["dagsterApiGrpcArgs"] == ["-m", MODULES[deployment["name"]]]
        assert {"repository", "tag"} <= set(deployment["image"])
    assert values["postgresql"]["enabled"] is False and values["dagsterDaemon"]["enabled"] is True
