"""One local AWS emulator and one Terraform workspace per test session.

The stack is synthesized by the same code as ``main.py`` and applied by the real
Terraform and AWS provider, with ``AWS_ENDPOINT_URL`` pointing at moto_server on
loopback. State lives in a temporary directory, never in the checkout.
"""

from __future__ import annotations

import json
from collections.abc import Iterator, Sequence
from dataclasses import dataclass, field
from pathlib import Path
from typing import Any

import pytest

from cci_tools import emulator, terraform
from constructs_lib.config import Settings, Tenant
from tests.conftest import synth_to
from tests.helpers import require_tool, seed_settings

E2E_TENANTS: tuple[Tenant, ...] = (
    Tenant(tenant_id="acme", display_name="Acme Corp", tags={"CostCenter": "cc-200"}),
    Tenant(tenant_id="globex", display_name="Globex", kms_guard=True),
    Tenant(tenant_id="demo-tenant", display_name="Demo Tenant", tags={"CostCenter": "cc-100"}),
)


@dataclass
class Workspace:
    """Synthesize, init, plan and apply against one state file and one emulator."""

    root: Path
    settings: Settings
    env: dict[str, str]
    state: Path
    runs: int = field(default=0)
    last_plan: dict[str, Any] = field(default_factory=dict)

    def synth(self, tenants: Sequence[Tenant], settings: Settings | None = None) -> Path:
        """Synthesize into a fresh directory and ``terraform init`` it on the shared state."""
        self.runs += 1
        cdk_tf = synth_to(self.root / f"synth-{self.runs}", settings or self.settings, tenants)
        stack_dir = cdk_tf.parent
        terraform.init_with_state_file(stack_dir, env=self.env, state=self.state)
        return stack_dir

    def apply(self, stack_dir: Path) -> None:
        terraform.run(["apply", "-auto-approve", "-input=false", "-no-color"], cwd=stack_dir, env=self.env)

    def plan(self, stack_dir: Path, *extra: str) -> list[dict[str, Any]]:
        """The plan's resource changes other than no-ops, from ``terraform show -json``."""
        plan_file = stack_dir / "plan.bin"
        terraform.run(["plan", "-input=false", "-no-color", f"-out={plan_file}", *extra], cwd=stack_dir, env=self.env)
        shown = terraform.run(["show", "-json", "-no-color", str(plan_file)], cwd=stack_dir, env=self.env)
        self.last_plan = json.loads(shown.stdout)
        changes: list[dict[str, Any]] = self.last_plan.get("resource_changes", [])
        return [c for c in changes if c["change"]["actions"] != ["no-op"]]

    def outputs(self, stack_dir: Path) -> dict[str, Any]:
        return terraform.outputs(stack_dir, env=self.env)


@pytest.fixture(scope="session")
def aws_emulator(tmp_path_factory: pytest.TempPathFactory) -> Iterator[emulator.Emulator]:
    require_tool("moto_server", emulator.moto_server_binary())
    log = tmp_path_factory.mktemp("emulator") / "moto.log"
    with emulator.Emulator(account_id=seed_settings().account_id, log_path=log) as running:
        yield running


@pytest.fixture(scope="session")
def workspace(aws_emulator: emulator.Emulator, tmp_path_factory: pytest.TempPathFactory) -> Workspace:
    require_tool("terraform", terraform.terraform_binary())
    root = tmp_path_factory.mktemp("workspace")
    settings = seed_settings()
    env = terraform.terraform_env(
        terraform.write_cli_config(root),
        {**aws_emulator.aws_env(region=settings.region), "TF_PLUGIN_CACHE_DIR": ""},
    )
    return Workspace(root=root, settings=settings, env=env, state=root / "terraform.tfstate")


@pytest.fixture(scope="session")
def deployed(workspace: Workspace) -> Path:
    """The stack with E2E_TENANTS, applied once for the session. Returns its directory."""
    stack_dir = workspace.synth(E2E_TENANTS)
    workspace.apply(stack_dir)
    return stack_dir


@pytest.fixture(scope="session")
def outputs(deployed: Path, workspace: Workspace) -> dict[str, Any]:
    """The deployed stack's Terraform outputs."""
    return workspace.outputs(deployed)


class Aws:
    """boto3 clients bound to the session's emulator, and to nothing else."""

    def __init__(self, running: emulator.Emulator, region: str) -> None:
        self._emulator = running
        self._region = region

    def client(self, service: str) -> Any:
        return self._emulator.client(service, region=self._region)


@pytest.fixture(scope="session")
def aws(aws_emulator: emulator.Emulator) -> Aws:
    return Aws(aws_emulator, seed_settings().region)
