"""Shared test helpers that load no provider bindings."""

from __future__ import annotations

import os
from pathlib import Path

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
