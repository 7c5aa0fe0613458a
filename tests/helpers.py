"""Shared test helpers that load no provider bindings."""

from __future__ import annotations

import json
import os
import shutil
from pathlib import Path
from typing import Any

import pytest

from constructs_lib.config import Settings, Tenant, load_settings

PROJECT_DIR = Path(__file__).resolve().parent.parent

#: Tenants for the session's synth: guarded and unguarded, listed out of order.
TEST_TENANTS: tuple[Tenant, ...] = (
    Tenant(
        tenant_id="globex", display_name="Globex ${not.interpolated}", kms_guard=True, tags={"CostCenter": "cc-300"}
    ),
    Tenant(tenant_id="acme", display_name="Acme Corp", kms_guard=False, tags={"CostCenter": "cc-200"}),
    Tenant(tenant_id="initech", display_name="Initech", kms_guard=True),
    Tenant(tenant_id="demo-tenant", display_name="Demo Tenant", tags={"CostCenter": "cc-100"}),
)


def seed_settings(**overrides: str) -> Settings:
    """The shipped cdktf.json settings, with CCI_* overrides given as keyword arguments."""
    environ = {f"CCI_{key.upper()}": value for key, value in overrides.items()}
    return load_settings(PROJECT_DIR, environ)


def require_tool(name: str, path: str | None) -> str:
    """Skip where a tool is truly absent, but never in CI: there it must run."""
    if path is None:
        if os.environ.get("CI") == "true":
            pytest.fail(f"{name} is required in CI but was not found")
        pytest.skip(f"{name} not installed")
    return path


def copy_project(tmp_path: Path, context: dict[str, Any], *, without: str | None = None) -> Path:
    """A copy of the project with its own cdktf.json context (main.py reads the one beside it)."""
    project = tmp_path / "project"
    project.mkdir()
    for name in ("main.py", "tenants.json", "tenants.schema.json", ".terraform.lock.hcl"):
        if name != without:
            shutil.copy(PROJECT_DIR / name, project / name)
    shutil.copytree(PROJECT_DIR / "constructs_lib", project / "constructs_lib")
    write_context(project, context)
    return project


def write_context(project: Path, context: dict[str, Any]) -> None:
    """Write ``project/cdktf.json``: the shipped one with ``context.cci`` updated by ``context``."""
    cdktf_json = json.loads((PROJECT_DIR / "cdktf.json").read_text(encoding="utf-8"))
    cdktf_json["context"]["cci"].update(context)
    (project / "cdktf.json").write_text(json.dumps(cdktf_json, indent=2), encoding="utf-8")
