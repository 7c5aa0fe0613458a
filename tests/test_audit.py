"""The audit report (golden file) and the plan review gate."""

from __future__ import annotations

import json
import os
import subprocess
import sys
from pathlib import Path
from typing import Any

import pytest

from cci_tools.audit import (
    PlannedCreate,
    check_fork,
    planned_creates,
    read_stack,
    read_waivers,
    render_changes,
    render_report,
)
from cci_tools.live import LiveUnavailable, Lookup
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
    assert "principals" not in section  # who may use the key did not change


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


def run_audit(
    shipped_stack_dir: Path, tmp_path: Path, *extra: str, env: dict[str, str] | None = None
) -> subprocess.CompletedProcess[str]:
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
        env=env,
    )


def test_replacing_a_bucket_trips_fail_on_destroy(shipped_stack_dir: Path, tmp_path: Path) -> None:
    plan = crafted_replace_plan(tmp_path)
    gated = run_audit(shipped_stack_dir, tmp_path, "--plan", str(plan), "--fail-on-destroy")
    assert gated.returncode == 3
    assert gated.stderr.splitlines() == [
        "WARNING: the plan deletes or replaces resources of the stack: aws_s3_bucket.input (replace: the bucket and "
        "every object version in it are lost); aws_s3_bucket_versioning.input (replace: versioning is suspended until "
        "it is recreated: an object overwritten or deleted meanwhile loses its previous version)"
    ]
    report = (tmp_path / "AUDIT.md").read_text(encoding="utf-8")
    assert (
        "> [!CAUTION]\n> **This plan deletes or replaces resources of the stack:**\n"
        "> - `aws_s3_bucket.input` (replace): the bucket and every object version in it are lost.\n"
        "> - `aws_s3_bucket_versioning.input` (replace): versioning is suspended until it is recreated: an object "
        "overwritten or deleted meanwhile loses its previous version.\n>\n> Stop and review."
    ) in report
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


# --- a plan made from the wrong state ------------------------------------------------------

ACCOUNT, REGION = "591338347562", "eu-central-1"
INPUT_BUCKET = f"cci-lite-input-{ACCOUNT}-{REGION}"


def forked_plan() -> dict[str, Any]:
    """What a plan from empty state looks like: the named foundation resources are all created."""
    return {
        "resource_changes": [
            change("aws_kms_key.master", ["create"], None, {"description": "CCI Lite master key"}),
            change("aws_kms_alias.master", ["create"], None, {"name": "alias/cci-lite-master-key"}),
            change("aws_s3_bucket.input", ["create"], None, {"bucket": INPUT_BUCKET}),
            change("aws_s3_bucket_versioning.input", ["create"], None, {}),
            change("aws_dynamodb_table.tenant_config", ["create"], None, {"name": "cci-lite-config"}),
            change('aws_dynamodb_table_item.tenant_config["acme"]', ["create"], None, {}),
        ]
    }


class FakeAccount:
    """A LiveAccount stand-in that has the resources named in ``present``."""

    def __init__(self, present: set[str], unknown: frozenset[str] = frozenset()) -> None:
        self.present, self.unknown = present, unknown
        self.asked: list[str] = []

    def _answer(self, kind: str, name: str) -> Lookup:
        self.asked.append(name)
        if name in self.unknown:
            return Lookup(kind=kind, name=name, exists=None, detail="cannot tell: AccessDenied")
        exists = name in self.present
        return Lookup(kind=kind, name=name, exists=exists, detail="exists" if exists else "not found")

    def bucket(self, name: str) -> Lookup:
        return self._answer("s3 bucket", name)

    def kms_alias(self, name: str) -> Lookup:
        return self._answer("KMS alias", name)

    def table(self, name: str) -> Lookup:
        return self._answer("DynamoDB table", name)


def test_planned_creates_name_each_resource_as_aws_knows_it(shipped_stack_dir: Path) -> None:
    assert planned_creates(forked_plan(), read_stack(shipped_stack_dir)) == [
        PlannedCreate("aws_kms_key.master", "alias", "alias/cci-lite-master-key"),
        PlannedCreate("aws_kms_alias.master", "alias", "alias/cci-lite-master-key"),
        PlannedCreate("aws_s3_bucket.input", "bucket", INPUT_BUCKET),
        PlannedCreate("aws_dynamodb_table.tenant_config", "table", "cci-lite-config"),
    ]


def test_fork_a_plan_creating_what_the_account_already_has_is_flagged(shipped_stack_dir: Path) -> None:
    account = FakeAccount({"alias/cci-lite-master-key", INPUT_BUCKET, "cci-lite-config"})
    creates = planned_creates(forked_plan(), read_stack(shipped_stack_dir))
    fork = check_fork(creates, region=REGION, account_id=ACCOUNT, connect=lambda **_: account)
    assert [c.address for c, _ in fork.existing] == [c.address for c in creates]
    assert account.asked == ["alias/cci-lite-master-key", INPUT_BUCKET, "cci-lite-config"]  # each name once
    section, destroyed = render_changes(forked_plan(), fork)
    assert destroyed == []
    assert section.startswith(
        "## Changes in this plan\n\n> [!CAUTION]\n> **This plan creates foundation resources that account "
        "591338347562 already has:** `aws_kms_key.master` (KMS alias `alias/cci-lite-master-key` exists), "
    )
    assert "likely a state mix-up" in section


def test_fork_check_of_a_first_deploy_finds_nothing_and_says_so(shipped_stack_dir: Path) -> None:
    creates = planned_creates(forked_plan(), read_stack(shipped_stack_dir))
    fork = check_fork(creates, region=REGION, account_id=ACCOUNT, connect=lambda **_: FakeAccount(set()))
    assert fork.existing == [] and fork.unverified == []
    section, _ = render_changes(forked_plan(), fork)
    assert (
        "Checked against account 591338347562: none of the created key, alias, buckets or table exists yet." in section
    )
    assert "[!CAUTION]" not in section and "[!WARNING]" not in section


def test_fork_check_asks_aws_nothing_for_a_plan_without_named_creates() -> None:
    def connect(**_: Any) -> Any:
        raise AssertionError("no AWS call for a plan that creates no named resource")

    assert check_fork([], region=REGION, account_id=ACCOUNT, connect=connect).lookups == ()


def test_fork_check_that_cannot_reach_aws_says_so_and_counts_as_unverified(shipped_stack_dir: Path) -> None:
    def connect(**_: Any) -> Any:
        raise LiveUnavailable("no AWS credentials found")

    creates = planned_creates(forked_plan(), read_stack(shipped_stack_dir))
    fork = check_fork(creates, region=REGION, account_id=ACCOUNT, connect=connect)
    assert fork.unavailable == "no AWS credentials found" and len(fork.unverified) == 4
    section, _ = render_changes(forked_plan(), fork)
    assert (
        "> [!WARNING]\n> **Not checked against the account:** this plan creates `aws_kms_key.master`, "
        "`aws_kms_alias.master`, `aws_s3_bucket.input`, `aws_dynamodb_table.tenant_config`; whether account "
        "591338347562 already has them could not be checked (no AWS credentials found)."
    ) in section


def test_fork_check_counts_an_access_denied_lookup_as_unverified(shipped_stack_dir: Path) -> None:
    account = FakeAccount(set(), unknown=frozenset({INPUT_BUCKET}))
    creates = planned_creates(forked_plan(), read_stack(shipped_stack_dir))
    fork = check_fork(creates, region=REGION, account_id=ACCOUNT, connect=lambda **_: account)
    assert [c.address for c in fork.unverified] == ["aws_s3_bucket.input"]


def without_aws_credentials(tmp_path: Path, **extra: str) -> dict[str, str]:
    """An environment in which the standard credential chain finds nothing."""
    env = {k: v for k, v in os.environ.items() if not k.startswith("AWS_")}
    env.update(
        {
            "AWS_CONFIG_FILE": str(tmp_path / "no-config"),
            "AWS_SHARED_CREDENTIALS_FILE": str(tmp_path / "no-credentials"),
            "AWS_EC2_METADATA_DISABLED": "true",
            **extra,
        }
    )
    return env


def write_plan(tmp_path: Path, plan: dict[str, Any]) -> Path:
    path = tmp_path / "plan.json"
    path.write_text(json.dumps(plan), encoding="utf-8")
    return path


def test_fork_gate_without_credentials_says_so_in_one_line_and_fails(shipped_stack_dir: Path, tmp_path: Path) -> None:
    plan = write_plan(tmp_path, forked_plan())
    env = without_aws_credentials(tmp_path)
    gated = run_audit(shipped_stack_dir, tmp_path, "--plan", str(plan), "--fail-on-destroy", env=env)
    assert gated.returncode == 3
    assert "Traceback" not in gated.stderr
    assert gated.stderr.splitlines() == [
        "WARNING: the plan creates aws_kms_key.master, aws_kms_alias.master, aws_s3_bucket.input, "
        "aws_dynamodb_table.tenant_config; not checked against account 591338347562: no AWS credentials found "
        "(environment variables, shared config or SSO profile, container or instance role)"
    ]
    ungated = run_audit(shipped_stack_dir, tmp_path, "--plan", str(plan), env=env)
    assert ungated.returncode == 0


def test_fork_gate_when_aws_cannot_be_reached_says_so_in_one_line(shipped_stack_dir: Path, tmp_path: Path) -> None:
    from cci_tools.emulator import free_port

    plan = write_plan(tmp_path, forked_plan())
    env = without_aws_credentials(
        tmp_path,
        AWS_ACCESS_KEY_ID="x",
        AWS_SECRET_ACCESS_KEY="x",
        AWS_ENDPOINT_URL=f"http://127.0.0.1:{free_port()}",  # nothing listens there
    )
    gated = run_audit(shipped_stack_dir, tmp_path, "--plan", str(plan), "--fail-on-destroy", env=env)
    assert gated.returncode == 3 and "Traceback" not in gated.stderr
    (line,) = gated.stderr.splitlines()
    assert "not checked against account 591338347562: cannot reach AWS: Could not connect to the endpoint URL" in line
