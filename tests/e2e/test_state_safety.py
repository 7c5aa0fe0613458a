"""State survives the daily loop: the README's steps, followed literally, on the emulator.

A copy of the project (main.py, constructs_lib, tenants.json, the lock file, and a
cdktf.json whose only change is the region, apart from the other e2e stacks) is
synthesized with ``python main.py`` and driven with the real Terraform exactly as the
README's "Plan and deploy" and "Onboarding a tenant" say: ``terraform
-chdir=cdktf.out/stacks/cci-lite-production init``, then ``plan``, ``apply``, with
several synths in between and no second ``init``. State is the default local file
beside ``cdktf.out``. The stack is applied once; every later step plans against it.
"""

from __future__ import annotations

import json
import os
import shutil
import subprocess
import sys
from dataclasses import dataclass, field
from pathlib import Path
from typing import Any

import pytest

from cci_tools import emulator, terraform
from tests.e2e.conftest import Aws
from tests.e2e.test_apply import summary, without_known_gaps
from tests.helpers import PROJECT_DIR, copy_project, require_tool, write_context

pytestmark = pytest.mark.e2e

REGION = "eu-west-3"  # apart from the other e2e stacks sharing the emulator
INSIDE_REGION = "eu-south-1"
STACK = "cci-lite-production"
STACK_DIR = f"cdktf.out/stacks/{STACK}"
STATE_FILE = f"terraform.{STACK}.tfstate"
NAMED = [
    "aws_dynamodb_table.tenant_config",
    "aws_kms_alias.master",
    "aws_kms_key.master",
    "aws_s3_bucket.athena_staging",
    "aws_s3_bucket.input",
    "aws_s3_bucket.results",
]


@dataclass
class Project:
    """A checkout of the project on disk, and the environment a user's shell would have."""

    root: Path
    env: dict[str, str]
    context: dict[str, Any] = field(default_factory=dict)

    def synth(self, *, expect: int = 0, **extra: str) -> subprocess.CompletedProcess[str]:
        """``pipenv run synth``, which runs ``python main.py`` in the project."""
        result = subprocess.run(
            [sys.executable, "main.py"],
            cwd=self.root,
            env={**self.env, **extra},
            capture_output=True,
            text=True,
            timeout=300,
        )
        assert result.returncode == expect, result.stdout + result.stderr
        return result

    def terraform(self, *args: str, check: bool = True) -> subprocess.CompletedProcess[str]:
        """``terraform -chdir=cdktf.out/stacks/cci-lite-production ARGS``, from the project directory."""
        binary = str(terraform.terraform_binary())
        result = subprocess.run(
            [binary, f"-chdir={STACK_DIR}", *args, "-no-color"],
            cwd=self.root,
            env=self.env,
            capture_output=True,
            text=True,
            timeout=600,
        )
        if check:
            assert result.returncode == 0, f"terraform {' '.join(args)}:\n{result.stdout}\n{result.stderr}"
        return result

    def plan(self, *extra: str) -> list[dict[str, Any]]:
        """The README's auditor steps: plan -out=plan.bin, show -json; the changes other than no-ops."""
        self.terraform("plan", "-input=false", "-out=plan.bin", *extra)
        shown = self.terraform("show", "-json", "plan.bin")
        (self.root / "plan.json").write_text(shown.stdout, encoding="utf-8")
        changes: list[dict[str, Any]] = json.loads(shown.stdout).get("resource_changes", [])
        return without_known_gaps([c for c in changes if c["change"]["actions"] != ["no-op"]])

    def set_context(self, cci: dict[str, Any]) -> None:
        write_context(self.root, {**self.context, **cci})


def make_project(tmp: Path, aws_emulator: emulator.Emulator, region: str, cci: dict[str, Any]) -> Project:
    require_tool("terraform", terraform.terraform_binary())
    context = {"region": region, **cci}
    root = copy_project(tmp, context)
    clean = {k: v for k, v in os.environ.items() if not k.startswith(("CCI_", "TF_", "AWS_")) and k != "CDKTF_OUTDIR"}
    env = terraform.terraform_env(
        terraform.write_cli_config(tmp),
        {**aws_emulator.aws_env(region=region), "TF_PLUGIN_CACHE_DIR": ""},
    )
    env = {**clean, **{k: v for k, v in env.items() if k.startswith(("TF_", "AWS_", "CHECKPOINT"))}}
    return Project(root=root, env=env, context=context)


@pytest.fixture(scope="module")
def deployed(aws_emulator: emulator.Emulator, tmp_path_factory: pytest.TempPathFactory) -> Project:
    """README "Plan and deploy", literally, with re-synths between init and plan."""
    project = make_project(tmp_path_factory.mktemp("daily"), aws_emulator, REGION, {})
    project.synth()
    project.terraform("init")
    project.synth()
    project.synth()
    changes = project.plan()
    assert {c["change"]["actions"][0] for c in changes} == {"create"}
    project.terraform("apply", "-input=false", "plan.bin")
    assert (project.root / STATE_FILE).is_file()
    return project


def test_resynth_after_init_needs_no_new_init(deployed: Project) -> None:
    deployed.synth()
    deployed.synth()
    assert deployed.plan() == []
    stack_dir = deployed.root / STACK_DIR
    assert (stack_dir / ".terraform" / "terraform.tfstate").is_file()
    assert (stack_dir / ".terraform.lock.hcl").read_bytes() == (PROJECT_DIR / ".terraform.lock.hcl").read_bytes()


def test_onboarding_a_tenant_works_literally_after_several_synths(deployed: Project) -> None:
    tenants_file = deployed.root / "tenants.json"
    document = json.loads(tenants_file.read_text(encoding="utf-8"))
    document["tenants"].append({"tenant_id": "newco", "display_name": "NewCo"})
    tenants_file.write_text(json.dumps(document, indent=2), encoding="utf-8")
    deployed.synth()
    deployed.synth()
    assert summary(deployed.plan()) == [('aws_dynamodb_table_item.tenant_config["newco"]', ["create"])]
    deployed.terraform("apply", "-input=false", "plan.bin")
    deployed.synth()
    assert deployed.plan() == []


def test_environment_tag_change_keeps_the_state_location(deployed: Project) -> None:
    """CCI_ENVIRONMENT=Prod for one run: the same stack, its state, and only tag updates."""
    result = deployed.synth(CCI_ENVIRONMENT="Prod")
    assert result.stdout.startswith(f"synthesized {STACK} with ")
    assert sorted(p.name for p in (deployed.root / "cdktf.out" / "stacks").iterdir()) == [STACK]
    changes = deployed.plan()
    assert changes and {tuple(c["change"]["actions"]) for c in changes} == {("update",)}
    for change in changes:  # the tags on every tagged resource, and each tenant's tag set in its record
        after = change["change"]["after"]
        tags = after["tags_all"] if "tags_all" in after else json.loads(after["item"])["tags"]["M"]
        environment = tags["Environment"] if isinstance(tags["Environment"], str) else tags["Environment"]["S"]
        assert environment == "Prod", change["address"]
    deployed.synth()
    assert deployed.plan() == []


def test_renaming_the_deployed_stack_is_refused(deployed: Project) -> None:
    before = {p: p.read_bytes() for p in (deployed.root / STACK_DIR).glob("*.tf.json")}
    deployed.set_context({"environments": {"prod": {}}})
    try:
        refused = deployed.synth(expect=2)
    finally:
        deployed.set_context({})
    (line,) = refused.stderr.splitlines()
    assert line.startswith(f"error: cdktf.json: stack {STACK} has state in {STATE_FILE} (")
    assert "resources), but these settings no longer make that stack (they make cci-lite-prod)" in line
    assert 'to keep the stack, declare the environment "production" in context.cci.environments' in line
    assert {p: p.read_bytes() for p in (deployed.root / STACK_DIR).glob("*.tf.json")} == before
    assert not (deployed.root / "cdktf.out" / "stacks" / "cci-lite-prod").exists()


def audit(project: Project, stack_dir: Path, plan: Path, env: dict[str, str]) -> subprocess.CompletedProcess[str]:
    return subprocess.run(
        [
            sys.executable,
            "-m",
            "cci_tools.audit",
            "--stack-dir",
            str(stack_dir),
            "--plan",
            str(plan),
            "--output",
            str(project.root / "AUDIT.md"),
            "--fail-on-destroy",
        ],
        cwd=PROJECT_DIR,
        env=env,
        capture_output=True,
        text=True,
        timeout=120,
    )


def test_audit_gate_fails_a_plan_made_from_the_wrong_state(deployed: Project) -> None:
    # The same settings synthesized somewhere else: its default state is empty.
    fork_out = deployed.root / "elsewhere" / "cdktf.out"
    deployed.synth(CDKTF_OUTDIR=str(fork_out))
    fork_dir = fork_out / "stacks" / STACK
    terraform.run(["init", "-input=false", "-no-color"], cwd=fork_dir, env=deployed.env)
    terraform.run(["plan", "-input=false", "-no-color", "-out=plan.bin"], cwd=fork_dir, env=deployed.env)
    shown = terraform.run(["show", "-json", "-no-color", "plan.bin"], cwd=fork_dir, env=deployed.env)
    plan = fork_dir / "plan.json"
    plan.write_text(shown.stdout, encoding="utf-8")

    gated = audit(deployed, fork_dir, plan, deployed.env)
    assert gated.returncode == 3, gated.stderr
    assert gated.stderr.splitlines() == [
        "WARNING: the plan creates resources that account 591338347562 already has (likely a state mix-up): "
        "aws_dynamodb_table.tenant_config, aws_kms_alias.master, aws_kms_key.master, aws_s3_bucket.athena_staging, "
        "aws_s3_bucket.input, aws_s3_bucket.results"
    ]
    report = (deployed.root / "AUDIT.md").read_text(encoding="utf-8")
    assert "> **This plan creates foundation resources that account 591338347562 already has:**" in report
    assert f"s3 bucket `cci-lite-input-591338347562-{REGION}` exists in account 591338347562" in report

    no_credentials = {k: v for k, v in deployed.env.items() if not k.startswith("AWS_")}
    no_credentials.update({"AWS_CONFIG_FILE": "/nonexistent", "AWS_SHARED_CREDENTIALS_FILE": "/nonexistent"})
    no_credentials["AWS_EC2_METADATA_DISABLED"] = "true"
    unchecked = audit(deployed, fork_dir, plan, no_credentials)
    assert unchecked.returncode == 3 and "Traceback" not in unchecked.stderr
    (line,) = unchecked.stderr.splitlines()
    assert line.endswith(
        "not checked against account 591338347562: no AWS credentials found (environment "
        "variables, shared config or SSO profile, container or instance role)"
    )

    # The daily plan creates nothing named: no lookup is needed and the gate passes offline.
    deployed.plan()
    daily = audit(deployed, deployed.root / STACK_DIR, deployed.root / "plan.json", no_credentials)
    assert daily.returncode == 0 and daily.stderr == ""


def test_backend_config_path_survives_a_resynth(deployed: Project) -> None:
    """README: terraform init -backend-config=path=... puts the state elsewhere; a re-synth keeps that."""
    elsewhere = deployed.root / "srv" / "state" / "prod.tfstate"
    elsewhere.parent.mkdir(parents=True)
    deployed.terraform("init", "-input=false", "-migrate-state", "-force-copy", f"-backend-config=path={elsewhere}")
    assert json.loads(elsewhere.read_text())["resources"]
    # Only the new location holds the state from now on.
    if (deployed.root / STATE_FILE).exists():
        (deployed.root / STATE_FILE).rename(deployed.root / "moved-away.tfstate")
    deployed.synth()
    deployed.synth()
    assert deployed.plan() == []
    # Even a plain init (what the old failure suggested) keeps the recorded path: .terraform/ survived.
    deployed.terraform("init", "-input=false")
    record = json.loads((deployed.root / STACK_DIR / ".terraform" / "terraform.tfstate").read_text())
    assert record["backend"]["config"]["path"] == str(elsewhere)
    assert deployed.plan() == []


def test_switching_local_to_s3_stops_at_terraforms_migration_prompt(deployed: Project, aws: Aws) -> None:
    kms, s3 = aws.client("kms"), aws.client("s3")
    state_key = kms.create_key(Description="terraform state for the migration test")["KeyMetadata"]["Arn"]
    s3.create_bucket(
        Bucket="cci-lite-tfstate-migration", CreateBucketConfiguration={"LocationConstraint": "eu-central-1"}
    )
    backend = {"type": "s3", "bucket": "cci-lite-tfstate-migration", "region": "eu-central-1", "kms_key_id": state_key}
    deployed.synth(CCI_BACKEND=json.dumps(backend))
    endpoint = deployed.env["AWS_ENDPOINT_URL"]
    endpoints = deployed.root / "emulator.s3.tfbackend"  # test-only endpoint settings, as in test_state_backend.py
    endpoints.write_text(
        f'endpoints = {{ s3 = "{endpoint}", sts = "{endpoint}" }}\nuse_path_style = true\n'
        "skip_credentials_validation = true\nskip_requesting_account_id = true\nskip_metadata_api_check = true\n",
        encoding="utf-8",
    )
    stopped = deployed.terraform("init", "-input=false", f"-backend-config={endpoints}", check=False)
    assert stopped.returncode != 0
    output = " ".join((stopped.stdout + stopped.stderr).split())
    assert "Backend configuration changed" in output and "-migrate-state" in output, output
    assert s3.list_objects_v2(Bucket="cci-lite-tfstate-migration").get("KeyCount", 0) == 0
    deployed.synth()  # back to the local backend: the working directory was never switched
    assert deployed.plan() == []


def test_state_inside_the_stack_directory_survives_every_synth(
    aws_emulator: emulator.Emulator, tmp_path_factory: pytest.TempPathFactory
) -> None:
    project = make_project(
        tmp_path_factory.mktemp("inside"),
        aws_emulator,
        INSIDE_REGION,
        {"backend": {"type": "local", "path": "terraform.tfstate"}},
    )
    warned = project.synth()
    assert "is inside the output directory cdktf.out" in warned.stderr
    project.terraform("init", "-input=false")
    # The key and the table are enough to have state worth keeping (buckets take the provider a minute).
    project.terraform("apply", "-input=false", "-auto-approve", "-target=aws_dynamodb_table.tenant_config")
    state = project.root / STACK_DIR / "terraform.tfstate"
    kept = state.read_bytes()
    assert json.loads(kept)["resources"]
    for _ in range(3):
        project.synth()
    assert state.read_bytes() == kept
    created = {c["address"] for c in project.plan() if c["change"]["actions"] == ["create"]}
    assert not created & {"aws_kms_key.master", "aws_dynamodb_table.tenant_config"}
    assert created  # the buckets, never applied here


def test_cli_driven_synth_of_one_stack_keeps_the_other_stacks_working_directory(tmp_path: Path) -> None:
    """cdktf synth deletes the directory of any stack its manifest does not list; CCI_STACK must not cost one."""
    cdktf = require_tool("cdktf CLI (npm ci)", shutil.which("cdktf", path=str(PROJECT_DIR / "node_modules" / ".bin")))
    project = copy_project(tmp_path, {"environments": {"production": {}, "staging": {"region": "eu-west-1"}}})
    env = {k: v for k, v in os.environ.items() if not k.startswith("CCI_") and k != "CDKTF_OUTDIR"}
    env["CDKTF_LOG_LEVEL"] = "warn"
    app = f"{sys.executable} main.py"

    def cli_synth(**extra: str) -> None:
        result = subprocess.run(
            [cdktf, "synth", "--app", app], cwd=project, env={**env, **extra}, capture_output=True, text=True,
            timeout=600,
        )  # fmt: skip
        assert result.returncode == 0, result.stdout + result.stderr

    cli_synth()
    production = project / "cdktf.out" / "stacks" / "cci-lite-production"
    (production / ".terraform").mkdir()
    (production / ".terraform" / "terraform.tfstate").write_text('{"backend": {"type": "local"}}')
    cli_synth(CCI_STACK="cci-lite-staging")
    assert (production / ".terraform" / "terraform.tfstate").is_file()
    assert (production / "cdk.tf.json").is_file()
    manifest = json.loads((project / "cdktf.out" / "manifest.json").read_text())
    assert sorted(manifest["stacks"]) == ["cci-lite-production", "cci-lite-staging"]
