"""``cdktf synth`` and ``cdktf deploy`` through the pinned cdktf CLI, on the emulator.

The CLI runs the app exactly as users do (``cdktf.json``: ``pipenv run python
main.py``). It deploys to another region of the session's emulator, so it shares
nothing with the Terraform workspace of test_apply.py.
"""

from __future__ import annotations

import json
import shutil
import subprocess
from pathlib import Path

import pytest

from cci_tools import emulator, terraform
from tests.e2e.conftest import Aws
from tests.helpers import PROJECT_DIR, require_tool

pytestmark = pytest.mark.e2e

REGION = "eu-west-1"
STACK = "cci-lite-production"


def cdktf(args: list[str], env: dict[str, str]) -> subprocess.CompletedProcess[str]:
    binary = require_tool("cdktf CLI (npm ci)", shutil.which("cdktf", path=str(PROJECT_DIR / "node_modules" / ".bin")))
    result = subprocess.run([binary, *args], cwd=PROJECT_DIR, env=env, capture_output=True, text=True, timeout=600)
    assert result.returncode == 0, f"cdktf {' '.join(args)} failed:\n{result.stdout}\n{result.stderr}"
    return result


def test_cdktf_synth_and_deploy_work_through_the_cli(aws_emulator: emulator.Emulator, aws: Aws, tmp_path: Path) -> None:
    require_tool("terraform", terraform.terraform_binary())
    require_tool("pipenv (cdktf.json runs the app with it)", shutil.which("pipenv"))
    out = tmp_path / "cdktf.out"
    env = terraform.terraform_env(
        terraform.write_cli_config(tmp_path),
        {**aws_emulator.aws_env(region=REGION), "CCI_REGION": REGION, "CDKTF_LOG_LEVEL": "warn"},
    )
    env.pop("CDKTF_OUTDIR", None)
    before = sorted(p.name for p in PROJECT_DIR.iterdir())

    cdktf(["synth", "--output", str(out)], env)
    synthesized = json.loads((out / "stacks" / STACK / "cdk.tf.json").read_text(encoding="utf-8"))
    assert synthesized["provider"]["aws"][0]["region"] == REGION

    outputs_file = tmp_path / "outputs.json"
    cdktf(
        [
            "deploy",
            STACK,
            "--auto-approve",
            "--skip-synth",
            # No --skip-provider-lock: the stack directory holds the committed lock file, so
            # cdktf skips `terraform providers lock` (which would ask the registry, offline here).
            "--output",
            str(out),
            "--outputs-file",
            str(outputs_file),
        ],
        env,
    )
    outputs = json.loads(outputs_file.read_text(encoding="utf-8"))[STACK]
    input_bucket = f"cci-lite-input-591338347562-{REGION}"
    assert outputs["input_bucket_name"] == input_bucket
    assert outputs["key_alias"] == "alias/cci-lite-master-key"
    s3 = aws.client("s3")
    assert s3.get_bucket_versioning(Bucket=input_bucket)["Status"] == "Enabled"
    # State went beside the output directory, not into the checkout.
    state = tmp_path / f"terraform.{STACK}.tfstate"
    assert state.exists()
    assert sorted(p.name for p in PROJECT_DIR.iterdir()) == before

    # cdktf's init left the committed lock file as it is, and a second cdktf synth keeps
    # the working directory init made.
    stack_dir = out / "stacks" / STACK
    assert (stack_dir / ".terraform.lock.hcl").read_bytes() == (PROJECT_DIR / ".terraform.lock.hcl").read_bytes()
    initialized = sorted(p.relative_to(stack_dir) for p in (stack_dir / ".terraform").rglob("*"))
    deployed_state = state.read_bytes()
    cdktf(["synth", "--output", str(out)], env)
    assert sorted(p.relative_to(stack_dir) for p in (stack_dir / ".terraform").rglob("*")) == initialized
    assert state.read_bytes() == deployed_state
