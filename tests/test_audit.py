"""The audit report (golden file) and the plan review gate."""

from __future__ import annotations

import json
import os
import subprocess
import sys
from pathlib import Path
from typing import Any

import pytest

from cci_tools.audit import read_stack, read_waivers, render_changes, render_report
from cci_tools.scan import CONFIG
from constructs_lib.config import load_tenants
from constructs_lib.policies import SERVICE_USES, STATEMENT_SENTENCES
from tests.conftest import synth_to
from tests.helpers import PROJECT_DIR, seed_settings

GOLDEN = PROJECT_DIR / "AUDIT.md"
SOURCE = "cdktf.out/stacks/cci-lite-production/"


@pytest.fixture(scope="module")
def shipped_stack_dir(tmp_path_factory: pytest.TempPathFactory) -> Path:
    settings = seed_settings()
    return synth_to(tmp_path_factory.mktemp("shipped"), settings, load_tenants(settings.tenants_file)).parent


def test_report_for_the_shipped_tenants_matches_the_reviewed_golden_file(shipped_stack_dir: Path) -> None:
    report = render_report(read_stack(shipped_stack_dir), read_waivers(CONFIG), source=SOURCE)
    if os.environ.get("CCI_UPDATE_GOLDEN") == "1":
        GOLDEN.write_text(report, encoding="utf-8")
    assert report == GOLDEN.read_text(encoding="utf-8"), "AUDIT.md is stale: review, then CCI_UPDATE_GOLDEN=1"


def test_report_reads_what_was_synthesized_not_the_settings(synth_file: Path) -> None:
    report = render_report(read_stack(synth_file.parent), read_waivers(CONFIG), source="x")
    assert "| `globex` | Globex ${not.interpolated} | on |" in report
    assert "| `acme` | Acme Corp | off |" in report
    assert "StringEquals kms:EncryptionContext:tenant_id = globex, initech" in report


def test_report_explains_every_policy_statement_in_one_plain_sentence(synth_file: Path) -> None:
    report = render_report(read_stack(synth_file.parent), read_waivers(CONFIG), source="x")
    for sid, sentence in STATEMENT_SENTENCES.items():
        if sid != "AllowKeyAdministration":  # no administrators in the session's settings
            assert f"- `{sid}`: {sentence}" in report, sid
    assert report.count("- `DenyTenantObjectsOutsideOwnPrefix`:") == 1  # three equal bucket policies, shown once


def test_report_says_which_design_record_service_principals_left_the_key_policy(synth_file: Path) -> None:
    report = render_report(read_stack(synth_file.parent), read_waivers(CONFIG), source="x")
    for use in SERVICE_USES:
        (row,) = [line for line in report.splitlines() if line.startswith(f"| {use.service} | ")]
        assert f"[AWS doc]({use.doc})" in row and use.reason in row
        assert ("not in the key policy" in row) == (not use.sids), use.service
    assert "| Lambda | `lambda.amazonaws.com` | `lambda.eu-central-1.amazonaws.com` |" in report


def test_report_shows_a_bucket_policy_that_differs_on_its_own(synth_file: Path) -> None:
    stack = read_stack(synth_file.parent)
    policy = json.loads(stack["resource"]["aws_s3_bucket_policy"]["results"]["policy"].replace("$${", "${"))
    policy["Statement"] = policy["Statement"][:1]
    stack["resource"]["aws_s3_bucket_policy"]["results"]["policy"] = json.dumps(policy)
    report = render_report(stack, read_waivers(CONFIG), source="x")
    assert "Policy of `cci-lite-input-591338347562-eu-central-1`, `cci-lite-athena-staging-" in report
    assert "Policy of `cci-lite-results-591338347562-eu-central-1` (as AWS" in report


def test_readme_quotes_every_statement_sentence_of_the_report() -> None:
    readme = " ".join((PROJECT_DIR / "README.md").read_text(encoding="utf-8").split())
    for sid, sentence in STATEMENT_SENTENCES.items():
        assert sentence in readme, sid


def test_waiver_without_a_reason_is_refused(tmp_path: Path) -> None:
    config = tmp_path / ".checkov.yaml"
    config.write_text("skip-check:\n  # WAIVER CKV_AWS_18 | resources: all | logging\n  - CKV_AWS_18\n")
    with pytest.raises(ValueError, match="skip of CKV_AWS_18 lacks a complete"):
        read_waivers(config)


def change(address: str, actions: list[str], before: Any = None, after: Any = None) -> dict[str, Any]:
    rtype = address.split(".")[0]
    return {"address": address, "type": rtype, "change": {"actions": actions, "before": before, "after": after}}


def test_changes_are_grouped_by_action_and_tenant() -> None:
    plan = {
        "resource_changes": [
            change('aws_dynamodb_table_item.tenant_config["acme"]', ["delete"]),
            change('aws_dynamodb_table_item.tenant_config["newco"]', ["create"]),
            change("aws_s3_bucket_versioning.input", ["no-op"]),
        ]
    }
    section, destroyed = render_changes(plan)
    assert destroyed == []
    assert section == (
        "## Changes in this plan\n\n"
        "Summary: 1 to create, 1 to delete.\n\n"
        "### Delete\n\n"
        '- tenant `acme`: `aws_dynamodb_table_item.tenant_config["acme"]`\n\n'
        "### Create\n\n"
        '- tenant `newco`: `aws_dynamodb_table_item.tenant_config["newco"]`\n'
    )


def test_key_policy_change_is_a_statement_level_diff() -> None:
    def policy(*statements: dict[str, Any]) -> str:
        return json.dumps({"Version": "2012-10-17", "Statement": list(statements)})

    root = {"Sid": "Root", "Effect": "Allow", "Principal": {"AWS": "r"}, "Action": "kms:*"}
    guard = {"Sid": "Guard", "Effect": "Allow", "Condition": {"StringEquals": {"k": ["a"]}}}
    before = policy(root, guard, {"Sid": "Old", "Effect": "Deny"})
    after = policy(root, {**guard, "Condition": {"StringEquals": {"k": ["b", "c"]}}}, {"Sid": "New", "Effect": "Allow"})
    section, _ = render_changes(
        {"resource_changes": [change("aws_kms_key.master", ["update"], {"policy": before}, {"policy": after})]}
    )
    assert (
        "  - changed statement `Guard`:\n    - `Condition.StringEquals.k`: added `b`, added `c`, removed `a`" in section
    )
    assert "  - removed statement `Old`" in section
    assert '  - added statement `New`: `{"Effect": "Allow", "Sid": "New"}`' in section
    assert "Root" not in section


def crafted_replace_plan(tmp_path: Path) -> Path:
    plan = {
        "format_version": "1.2",
        "resource_changes": [
            change("aws_s3_bucket.input", ["delete", "create"]),
            change("aws_s3_bucket_versioning.input", ["delete", "create"]),
        ],
    }
    path = tmp_path / "plan.json"
    path.write_text(json.dumps(plan), encoding="utf-8")
    return path


def run_audit(shipped_stack_dir: Path, tmp_path: Path, *extra: str) -> subprocess.CompletedProcess[str]:
    return subprocess.run(
        [
            sys.executable,
            "-m",
            "cci_tools.audit",
            "--stack-dir",
            str(shipped_stack_dir),
            "--output",
            str(tmp_path / "AUDIT.md"),
            *extra,
        ],
        cwd=PROJECT_DIR,
        capture_output=True,
        text=True,
        timeout=60,
    )


def test_replacing_a_bucket_trips_fail_on_destroy(shipped_stack_dir: Path, tmp_path: Path) -> None:
    plan = crafted_replace_plan(tmp_path)
    gated = run_audit(shipped_stack_dir, tmp_path, "--plan", str(plan), "--fail-on-destroy")
    assert gated.returncode == 3
    assert "WARNING: the plan destroys protected resources: aws_s3_bucket.input" in gated.stderr
    report = (tmp_path / "AUDIT.md").read_text(encoding="utf-8")
    assert "> [!CAUTION]\n> **This plan destroys protected foundation resources:** `aws_s3_bucket.input`." in report
    assert "### Replace\n\n- foundation: `aws_s3_bucket.input`" in report
    ungated = run_audit(shipped_stack_dir, tmp_path, "--plan", str(plan))
    assert ungated.returncode == 0 and "WARNING" in ungated.stderr


def test_a_plan_without_destroys_passes_the_gate(shipped_stack_dir: Path, tmp_path: Path) -> None:
    plan = tmp_path / "plan.json"
    plan.write_text(
        json.dumps({"resource_changes": [change('aws_dynamodb_table_item.tenant_config["x"]', ["create"])]})
    )
    result = run_audit(shipped_stack_dir, tmp_path, "--plan", str(plan), "--fail-on-destroy")
    assert result.returncode == 0, result.stderr
    assert result.stderr == ""


def test_shipped_stack_passes_the_scan(shipped_stack_dir: Path) -> None:
    from cci_tools.scan import checkov_binary, run_checkov
    from tests.helpers import require_tool

    require_tool("checkov", checkov_binary())
    result = run_checkov(shipped_stack_dir)
    assert result.returncode == 0, result.stdout
    assert "Failed checks: 0" in result.stdout
