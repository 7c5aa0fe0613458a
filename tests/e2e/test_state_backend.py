"""Remote state on the emulator: a real S3 backend, encrypted with KMS, locked with a lock file.

The stack's backend block is the production one (bucket, key, region, kms_key_id,
encrypt, use_lockfile). Only the endpoint differs, and it comes from
``-backend-config`` at ``terraform init``, never from production code.
"""

from __future__ import annotations

import json
import subprocess
import time
from collections.abc import Iterator
from pathlib import Path
from typing import Any

import pytest

from cci_tools import emulator, terraform
from tests.conftest import synth_to
from tests.e2e.conftest import Aws
from tests.helpers import require_tool, seed_settings

pytestmark = pytest.mark.e2e

STATE_BUCKET = "cci-lite-tfstate-e2e"
STACK_REGION = "eu-north-1"  # apart from the other e2e stacks sharing the emulator
STATE_KEY_PATH = "cci-lite-production/terraform.tfstate"


@pytest.fixture(scope="module")
def s3_backend_stack(
    aws_emulator: emulator.Emulator, aws: Aws, tmp_path_factory: pytest.TempPathFactory
) -> Iterator[tuple[Path, dict[str, str], str]]:
    require_tool("terraform", terraform.terraform_binary())
    kms, s3 = aws.client("kms"), aws.client("s3")
    state_key_arn = kms.create_key(Description="terraform state")["KeyMetadata"]["Arn"]
    s3.create_bucket(Bucket=STATE_BUCKET, CreateBucketConfiguration={"LocationConstraint": "eu-central-1"})
    s3.put_bucket_versioning(Bucket=STATE_BUCKET, VersioningConfiguration={"Status": "Enabled"})

    root = tmp_path_factory.mktemp("s3-backend")
    backend = {"type": "s3", "bucket": STATE_BUCKET, "region": "eu-central-1", "kms_key_id": state_key_arn}
    settings = seed_settings(region=STACK_REGION, backend=json.dumps(backend))
    stack_dir = synth_to(root / "out", settings, ()).parent
    # Test-only endpoint settings, as a partial backend configuration file.
    backend_hcl = root / "emulator.s3.tfbackend"
    backend_hcl.write_text(
        f'endpoints = {{ s3 = "{aws_emulator.endpoint}", sts = "{aws_emulator.endpoint}" }}\n'
        "use_path_style = true\n"
        "skip_credentials_validation = true\n"
        "skip_requesting_account_id = true\n"
        "skip_metadata_api_check = true\n",
        encoding="utf-8",
    )
    env = terraform.terraform_env(terraform.write_cli_config(root), aws_emulator.aws_env(region=STACK_REGION))
    terraform.run(["init", "-input=false", "-no-color", f"-backend-config={backend_hcl}"], cwd=stack_dir, env=env)
    yield stack_dir, env, state_key_arn


def test_synthesized_backend_is_the_production_one(s3_backend_stack: tuple[Path, dict[str, str], str]) -> None:
    stack_dir, _, state_key_arn = s3_backend_stack
    backend = json.loads((stack_dir / "cdk.tf.json").read_text())["terraform"]["backend"]["s3"]
    assert backend == {
        "bucket": STATE_BUCKET,
        "key": STATE_KEY_PATH,
        "region": "eu-central-1",
        "encrypt": True,
        "kms_key_id": state_key_arn,
        "use_lockfile": True,
    }


def test_apply_writes_state_to_the_bucket_encrypted_with_the_state_key(
    s3_backend_stack: tuple[Path, dict[str, str], str], aws: Aws
) -> None:
    stack_dir, env, state_key_arn = s3_backend_stack
    terraform.run(["apply", "-auto-approve", "-input=false", "-no-color"], cwd=stack_dir, env=env)
    s3 = aws.client("s3")
    head = s3.head_object(Bucket=STATE_BUCKET, Key=STATE_KEY_PATH)
    assert (head["ServerSideEncryption"], head["SSEKMSKeyId"]) == ("aws:kms", state_key_arn)
    state = json.loads(s3.get_object(Bucket=STATE_BUCKET, Key=STATE_KEY_PATH)["Body"].read())
    addresses = {f"{r['type']}.{r['name']}" for r in state["resources"]}
    assert {"aws_kms_key.master", "aws_s3_bucket.input", "aws_dynamodb_table.tenant_config"} <= addresses
    assert not (stack_dir / "terraform.tfstate").exists()
    keys = [o["Key"] for o in s3.list_objects_v2(Bucket=STATE_BUCKET).get("Contents", [])]
    assert keys == [STATE_KEY_PATH]  # the lock file is gone once the run ends


def test_a_second_run_is_refused_while_the_first_holds_the_lock(
    s3_backend_stack: tuple[Path, dict[str, str], str], aws: Aws
) -> None:
    stack_dir, env, _ = s3_backend_stack
    s3 = aws.client("s3")
    # The first run is an apply waiting at its approval prompt: it holds the lock.
    first = subprocess.Popen(
        [str(terraform.terraform_binary()), "apply", "-input=true", "-no-color"],
        cwd=stack_dir,
        env={**env, "TF_INPUT": "1"},
        stdin=subprocess.PIPE,
        stdout=subprocess.PIPE,
        stderr=subprocess.STDOUT,
        text=True,
    )
    try:
        lock = wait_for_object(s3, f"{STATE_KEY_PATH}.tflock", timeout_s=60)
        assert lock["ID"] and lock["Operation"] == "OperationTypeApply"
        second = terraform.run(
            ["plan", "-lock-timeout=0", "-input=false", "-no-color"], cwd=stack_dir, env=env, check=False
        )
        assert second.returncode != 0
        output = " ".join((second.stdout + second.stderr).split())
        assert "Error acquiring the state lock" in output
        assert lock["ID"] in output
    finally:
        first.communicate("no\n", timeout=120)
    after = terraform.run(["plan", "-lock-timeout=0", "-input=false", "-no-color"], cwd=stack_dir, env=env)
    assert after.returncode == 0


def wait_for_object(s3: Any, key: str, *, timeout_s: float) -> dict[str, Any]:
    deadline = time.monotonic() + timeout_s
    while time.monotonic() < deadline:
        try:
            body: dict[str, Any] = json.loads(s3.get_object(Bucket=STATE_BUCKET, Key=key)["Body"].read())
            return body
        except s3.exceptions.NoSuchKey:
            time.sleep(0.2)
    raise AssertionError(f"{key} did not appear within {timeout_s}s")
