"""The synthesized files: deterministic, produced by main.py, valid for Terraform."""

from __future__ import annotations

import json
import os
import subprocess
import sys
from pathlib import Path

import pytest

from cci_tools import terraform
from tests.conftest import synth_to
from tests.helpers import PROJECT_DIR, TEST_TENANTS, require_tool, seed_settings


def test_reordering_tenants_changes_no_byte(tmp_path: Path, synth_file: Path) -> None:
    reordered = synth_to(tmp_path, seed_settings(), tuple(reversed(TEST_TENANTS)))
    assert reordered.read_bytes() == synth_file.read_bytes()


def test_output_does_not_depend_on_where_it_is_written(synth_file: Path) -> None:
    text = synth_file.read_text(encoding="utf-8")
    assert str(PROJECT_DIR) not in text and str(synth_file.parent) not in text


def test_main_job_honours_cdktf_outdir_and_overrides(tmp_path: Path) -> None:
    tenants_file = tmp_path / "tenants.json"
    tenants_file.write_text(json.dumps({"tenants": [{"tenant_id": "acme", "kms_guard": True}]}), encoding="utf-8")
    outdir = tmp_path / "out"
    env = {
        **os.environ,
        "CDKTF_OUTDIR": str(outdir),
        "CCI_ACCOUNT_ID": "123456789012",
        "CCI_REGION": "us-east-1",
        "CCI_ENVIRONMENT": "Staging",
        "CCI_TENANTS_FILE": str(tenants_file),
    }
    result = subprocess.run(
        [sys.executable, "main.py"], cwd=PROJECT_DIR, env=env, capture_output=True, text=True, timeout=300
    )
    assert result.returncode == 0, result.stderr
    # The Environment tag is Staging; the stack keeps its name, and so its state.
    synthesized = json.loads((outdir / "stacks" / "cci-lite-production" / "cdk.tf.json").read_text(encoding="utf-8"))
    assert synthesized["provider"]["aws"][0]["default_tags"][0]["tags"]["Environment"] == "Staging"
    assert synthesized["provider"]["aws"][0]["allowed_account_ids"] == ["123456789012"]
    assert synthesized["resource"]["aws_s3_bucket"]["input"]["bucket"] == "cci-lite-input-123456789012-us-east-1"
    beside = json.loads((outdir / "stacks" / "cci-lite-production" / "tenants.tf.json").read_text(encoding="utf-8"))
    assert list(beside["locals"]["tenant_config_items"]) == ["acme"]
    assert sorted(p.name for p in (outdir / "stacks").iterdir()) == ["cci-lite-production"]


def test_main_job_rejects_bad_input_in_one_line_per_problem_without_traceback(tmp_path: Path) -> None:
    tenants_file = tmp_path / "tenants.json"
    tenants_file.write_text(json.dumps({"tenants": [{"tenant_id": "Bad_Id"}]}), encoding="utf-8")
    env = {
        **os.environ,
        "CCI_TENANTS_FILE": str(tenants_file),
        "CCI_ACCOUNT_ID": "12",
        "CDKTF_OUTDIR": str(tmp_path / "o"),
    }
    result = subprocess.run(
        [sys.executable, "main.py"], cwd=PROJECT_DIR, env=env, capture_output=True, text=True, timeout=60
    )
    assert result.returncode == 2
    assert result.stderr.splitlines() == ["error: CCI_ACCOUNT_ID must be a 12-digit AWS account id, got '12'"]
    assert "Traceback" not in result.stderr
    assert not (tmp_path / "o").exists()


@pytest.fixture(scope="session")
def validated_dir(synth_file: Path, tmp_path_factory: pytest.TempPathFactory) -> Path:
    require_tool("terraform", terraform.terraform_binary())
    return synth_file.parent


def test_terraform_validate_passes_against_the_real_provider(validated_dir: Path, tmp_path: Path) -> None:
    env = terraform.terraform_env(terraform.write_cli_config(tmp_path), {"TF_DATA_DIR": str(tmp_path / ".terraform")})
    terraform.run(["init", "-backend=false", "-input=false", "-no-color"], cwd=validated_dir, env=env)
    result = terraform.run(["validate", "-json", "-no-color"], cwd=validated_dir, env=env, check=False)
    report = json.loads(result.stdout)
    assert report["valid"] is True, report["diagnostics"]
    assert report["warning_count"] == 0, report["diagnostics"]
    version = terraform.run(["version", "-json"], cwd=validated_dir, env=env)
    assert json.loads(version.stdout)["provider_selections"] == {"registry.terraform.io/hashicorp/aws": "5.100.0"}
