"""The audit report (golden file), what it shows and what it was made from, and the plan review gate."""

from __future__ import annotations

import dataclasses
import hashlib
import json
import os
import shutil
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
    render_changes,
    render_report,
)
from cci_tools.controls import CONTROLS, assess
from cci_tools.display import code, visible
from cci_tools.live import LiveUnavailable, Lookup
from cci_tools.provenance import CONTAINING, Commit, PlanFile, Provenance, stack_files
from cci_tools.waivers import WAIVERS_FILE, Waiver
from cci_tools.waivers import load as load_waivers
from constructs_lib import __version__, tenant_file
from constructs_lib.config import Tenant, load_tenants
from constructs_lib.policies import (
    ABSENT_BECAUSE,
    GUARD_IS_NOT_S3_ISOLATION,
    KEY_POLICY_SIDS,
    SERVICE_USES,
    STATEMENT_SENTENCES,
    key_policy,
    terraform_string,
    unescape_terraform,
)
from tests.helpers import PROJECT_DIR, seed_settings

GOLDEN = PROJECT_DIR / "AUDIT.md"
#: The digests of `pipenv run synth` with the shipped settings (tests/test_adoption.py keeps them current).
SHIPPED_SYNTH = PROJECT_DIR / "tests" / "data" / "shipped_synth.sha256.json"
STACK = "cci-lite-production"


@pytest.fixture(scope="module")
def shipped_stack_dir(tmp_path_factory: pytest.TempPathFactory) -> Path:
    """The shipped settings and tenants, synthesized as `pipenv run synth` does (lock file included)."""
    from constructs_lib.app import synth  # the bindings, loaded once per session

    settings = seed_settings()
    out = tmp_path_factory.mktemp("shipped") / "cdktf.out"
    synth(
        [(settings, load_tenants(settings.tenants_file))],
        {"CDKTF_OUTDIR": str(out)},
        provider_lock=PROJECT_DIR / ".terraform.lock.hcl",
    )
    return out / "stacks" / STACK


def reviewed(stack_dir: Path, **fields: Any) -> Provenance:
    """The provenance of a report that is not the committed one (a review, or --output elsewhere)."""
    return Provenance(stack=STACK, files=stack_files(stack_dir), commit=Commit(sha="0" * 40), **fields)


def report_of(stack_dir: Path, stack: dict[str, Any] | None = None, waivers: list[Waiver] | None = None) -> str:
    return render_report(
        stack if stack is not None else read_stack(stack_dir),
        load_waivers() if waivers is None else waivers,
        provenance=reviewed(stack_dir),
    )


def test_report_for_the_shipped_tenants_matches_the_reviewed_golden_file(shipped_stack_dir: Path) -> None:
    # The committed report names the files `pipenv run synth` writes: the same digests as main.py's synth.
    recorded = json.loads(SHIPPED_SYNTH.read_text(encoding="utf-8"))
    for name, digest in stack_files(shipped_stack_dir):
        assert recorded[f"stacks/{STACK}/{name}"] == digest, name
    provenance = Provenance(stack=STACK, files=stack_files(shipped_stack_dir), commit=CONTAINING)
    report = render_report(read_stack(shipped_stack_dir), load_waivers(), provenance=provenance)
    if os.environ.get("CCI_UPDATE_GOLDEN") == "1":
        GOLDEN.write_text(report, encoding="utf-8")
    assert report == GOLDEN.read_text(encoding="utf-8"), "AUDIT.md is stale: review, then CCI_UPDATE_GOLDEN=1"


def test_report_reads_what_was_synthesized_not_the_settings(synth_file: Path) -> None:
    report = report_of(synth_file.parent)
    assert "| `globex` | `Globex ${not.interpolated}` | on |" in report
    assert "| `acme` | `Acme Corp` | off |" in report
    assert "`StringEquals` `kms:EncryptionContext:tenant_id` = `globex`, `initech`" in report


def test_report_explains_every_policy_statement_in_one_plain_sentence(synth_file: Path) -> None:
    report = report_of(synth_file.parent)
    for sid, sentence in STATEMENT_SENTENCES.items():
        if sid == "AllowKeyAdministration":  # no administrators in the session's settings
            assert f"- `{sid}`: absent, because {ABSENT_BECAUSE[sid]}. When present: {sentence}" in report
        else:
            assert f"- `{sid}`: {sentence}" in report, sid
    assert report.count("- `DenyTenantObjectsOutsideOwnPrefix`:") == 1  # three equal bucket policies, shown once


def test_report_shows_not_action_statements_as_all_but_the_listed_actions(synth_file: Path) -> None:
    report = report_of(synth_file.parent)
    assert (
        "| `DenyTenantKeyManagement` | `Deny` | AWS: `*` | all but `kms:CreateGrant`, `kms:Decrypt`, `kms:DescribeKey`, "
        "`kms:Encrypt`, `kms:GenerateDataKey*`, `kms:ReEncrypt*` |"
    ) in report
    assert (
        "| `DenyTenantBucketManagement` | `Deny` | `*` | all but `s3:GetBucketLocation`, `s3:ListBucket`, "
        "`s3:ListBucketVersions` | `arn:aws:s3:::{bucket}` |"
    ) in report


def test_report_says_the_kms_guard_is_not_s3_isolation(synth_file: Path) -> None:
    tenants = report_of(synth_file.parent).split("## Tenants\n", 1)[1]
    assert GUARD_IS_NOT_S3_ISOLATION in tenants.split("| Tenant |", 1)[0]
    assert "readable by every principal without the tenant_id tag that IAM allows" in GUARD_IS_NOT_S3_ISOLATION


def with_key_policy(stack_dir: Path, policy: dict[str, Any]) -> dict[str, Any]:
    stack = read_stack(stack_dir)
    stack["resource"]["aws_kms_key"]["master"]["policy"] = terraform_string(policy)
    return stack


def test_report_lists_an_absent_key_policy_statement_as_absent_with_the_reason(shipped_stack_dir: Path) -> None:
    settings = seed_settings()
    least = report_of(shipped_stack_dir, with_key_policy(shipped_stack_dir, key_policy(settings, [])))
    assert (
        "Every statement the generator can write is listed; 8 of 10 are present, and each absent one says why" in least
    )
    assert (
        "| `AllowKeyAdministration` | absent | - | - | - |\n| `DenyGuardedTenantContextToOthers` | absent | - | - | - |"
        in least
    )
    assert (
        "- `AllowKeyAdministration`: absent, because no key_admin_role_arns configured (the default). When present: "
        "The configured key administrators may manage the key but not use it to encrypt or decrypt."
    ) in least
    assert "- `DenyGuardedTenantContextToOthers`: absent, because no tenant has kms_guard. When present: Only" in least

    admin = dataclasses.replace(settings, key_admin_role_arns=("arn:aws:iam::591338347562:role/admin",))
    guarded = [Tenant(tenant_id="globex", display_name="Globex", kms_guard=True)]
    full = report_of(shipped_stack_dir, with_key_policy(shipped_stack_dir, key_policy(admin, guarded)))
    assert "10 of 10 are present:" in full and "| absent |" not in full and "absent, because" not in full
    table = full.split("| Sid | Effect | Principals | Actions | Conditions |\n| --- | --- | --- | --- | --- |\n")[1]
    assert [row.split(" | ")[0] for row in table.split("\n\n")[0].splitlines()] == [
        f"| `{sid}`" for sid in KEY_POLICY_SIDS
    ]


def test_report_says_which_design_record_service_principals_left_the_key_policy(synth_file: Path) -> None:
    report = report_of(synth_file.parent)
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
    report = report_of(synth_file.parent, stack)
    assert "Policy of `cci-lite-input-591338347562-eu-central-1`, `cci-lite-athena-staging-" in report
    assert "Policy of `cci-lite-results-591338347562-eu-central-1` (as AWS" in report


def test_readme_quotes_every_statement_sentence_of_the_report() -> None:
    readme = " ".join((PROJECT_DIR / "README.md").read_text(encoding="utf-8").split())
    for sid, sentence in STATEMENT_SENTENCES.items():
        assert sentence in readme, sid
    assert GUARD_IS_NOT_S3_ISOLATION in readme


# --- values as AWS stores them, and every character visible -------------------------------------

#: Display names and tags with Terraform template syntax, control characters, a bidi override and Markdown.
TRICKY: tuple[Tenant, ...] = (
    Tenant(tenant_id="tmpl-dollar", display_name="Globex ${aws:username}", kms_guard=True),
    Tenant(tenant_id="tmpl-percent", display_name="%{if true}x%{endif}", tags={"Note": "%{x}"}),
    Tenant(tenant_id="tmpl-escaped", display_name="typed $${x} and %%{y}"),
    Tenant(tenant_id="controls", display_name="NUL\x00BEL\x07CR\rend"),
    Tenant(tenant_id="bidi", display_name="invoice\u202egpj.exe \u2066iso\u2069"),
    Tenant(tenant_id="invisible", display_name="zero\u200bwidth\u00a0nbsp\ufefftail"),
    Tenant(tenant_id="markdown", display_name="a | b `c` <!-- d --> \\u0007 *e*"),
    Tenant(tenant_id="edge-space", display_name=" padded ", tags={"Empty": ""}),
)


def test_report_shows_display_names_as_aws_stores_them_with_every_character_visible(
    shipped_stack_dir: Path, tmp_path: Path
) -> None:
    """Terraform's escapes undone (`$${` and `%%{`); NUL, BEL, CR, bidi controls and Markdown shown, never raw."""
    stack_dir = tmp_path / STACK
    shutil.copytree(shipped_stack_dir, stack_dir)
    (stack_dir / "tenants.tf.json").write_text(tenant_file.render(seed_settings(), TRICKY), encoding="utf-8")
    report = report_of(stack_dir)
    section = report[report.index("| Tenant | Display name | KMS guard | Tags |") : report.index("## Scanner waivers")]
    shared = "`Component`=`S3`, `Environment`=`Production`, `Project`=`CCI-Lite`, `Region`=`eu-central-1`"
    assert section.splitlines()[2:-1] == [
        f"| `bidi` | `invoice\\u202egpj.exe \\u2066iso\\u2069` | off | {shared}, `Tenant`=`bidi`, `Version`=`v1.3` |",
        f"| `controls` | `NUL\\u0000BEL\\u0007CR\\u000dend` | off | {shared}, `Tenant`=`controls`, `Version`=`v1.3` |",
        "| `edge-space` | `\\u0020padded\\u0020` | off | `Component`=`S3`, `Empty`=(empty), `Environment`=`Production`, "
        "`Project`=`CCI-Lite`, `Region`=`eu-central-1`, `Tenant`=`edge-space`, `Version`=`v1.3` |",
        f"| `invisible` | `zero\\u200bwidth\\u00a0nbsp\\ufefftail` | off | {shared}, `Tenant`=`invisible`, `Version`=`v1.3` |",
        f"| `markdown` | `a \\u007c b \\u0060c\\u0060 <!-- d --> \\\\u0007 *e*` | off | {shared}, `Tenant`=`markdown`, "
        "`Version`=`v1.3` |",
        f"| `tmpl-dollar` | `Globex ${{aws:username}}` | on | {shared}, `Tenant`=`tmpl-dollar`, `Version`=`v1.3` |",
        f"| `tmpl-escaped` | `typed $${{x}} and %%{{y}}` | off | {shared}, `Tenant`=`tmpl-escaped`, `Version`=`v1.3` |",
        "| `tmpl-percent` | `%{if true}x%{endif}` | off | `Component`=`S3`, `Environment`=`Production`, `Note`=`%{x}`, "
        "`Project`=`CCI-Lite`, `Region`=`eu-central-1`, `Tenant`=`tmpl-percent`, `Version`=`v1.3` |",
    ]
    assert not any(c in report for c in "\x00\x07\r\u202e\u2066\u2069\u200b\ufeff")


@pytest.mark.parametrize(
    ("raw", "shown"),
    [
        ("plain text", "plain text"),
        ("bell\x07", "bell\\u0007"),
        ("line\nbreak", "line\\u000abreak"),
        ("rtl\u202eoverride", "rtl\\u202eoverride"),
        ("hangul\u3164filler", "hangul\\u3164filler"),
        ("tag\U000e0041char", "tag\\U000e0041char"),
        ("back\\slash", "back\\\\slash"),
        (" lead", "\\u0020lead"),
        ("Zürich Société", "Zürich Société"),
        ("\u2028\u2029", "\\u2028\\u2029"),
    ],
    ids=[
        "plain",
        "control",
        "line-break",
        "bidi-override",
        "default-ignorable-letter",
        "tag-character",
        "backslash",
        "edge-space",
        "letters-kept",
        "separators",
    ],
)
def test_visible_escapes_each_kind_of_hidden_character_and_keeps_the_rest(raw: str, shown: str) -> None:
    assert visible(raw) == shown


def test_code_span_cannot_be_ended_or_split_by_the_value() -> None:
    assert code("a|b`c") == "`a\\u007cb\\u0060c`"
    assert code("") == "(empty)"


# --- what the report was made from -------------------------------------------------------------


def test_committed_report_names_the_commit_that_contains_it_and_every_synthesized_file(shipped_stack_dir: Path) -> None:
    report = GOLDEN.read_text(encoding="utf-8")
    section = report[report.index("## Provenance") : report.index("## Buckets")]
    assert (
        f"Product: CCI Lite foundation generator `{__version__}`. Commit: the commit that contains this file."
        in section
    )
    for name in (".terraform.lock.hcl", "cdk.tf.json", "tenants.tf.json"):
        digest = hashlib.sha256((shipped_stack_dir / name).read_bytes()).hexdigest()
        assert f"| `{name}` | `{digest}` |" in section
    assert "Plan:" not in section


def test_review_names_the_plan_file_the_commit_and_uncommitted_changes(shipped_stack_dir: Path, tmp_path: Path) -> None:
    plan = tmp_path / "plan.json"
    plan.write_text(
        json.dumps({"format_version": "1.2", "terraform_version": "1.11.4", "timestamp": "2026-11-30T07:00:00Z"})
    )
    provenance = reviewed(shipped_stack_dir, plan=PlanFile.of(plan, json.loads(plan.read_text())))
    lines = provenance.lines()
    digest = hashlib.sha256(plan.read_bytes()).hexdigest()
    assert (
        f"Plan: `plan.json`, SHA-256 `{digest}` (`terraform show -json` output; Terraform `1.11.4`, format `1.2`, "
        "made `2026-11-30T07:00:00Z`)."
    ) in lines
    assert (
        f"Product: CCI Lite foundation generator `{__version__}`. Commit: `{'0' * 40}`, with no uncommitted changes."
        in lines
    )
    assert (
        Commit(sha="a" * 40, changed=3).describe()
        == f"`{'a' * 40}`, with uncommitted changes (3 path(s) in `git status --porcelain`)"
    )
    assert Commit(unknown="not a git checkout").describe() == "unknown (not a git checkout)"


# --- the control matrix ---------------------------------------------------------------------


def statuses(stack: dict[str, Any], waivers: list[Waiver] | None = None) -> dict[str, str]:
    return {a.control.control_id: a.status for a in assess(stack, load_waivers() if waivers is None else waivers)}


def test_controls_account_level_or_out_of_scope_are_never_met(shipped_stack_dir: Path) -> None:
    shown = statuses(read_stack(shipped_stack_dir))
    assert shown["S3.1"] == "account-level"  # the account's S3 Block Public Access (AWS::::Account)
    assert shown["S3.22"] == shown["S3.23"] == "account-level"
    assert shown["KMS.1"] == shown["KMS.2"] == "out of scope"
    for control in CONTROLS:
        if control.resource_type == "AWS::::Account":
            assert shown[control.control_id] == "account-level", control.control_id


def test_controls_of_the_shipped_stack(shipped_stack_dir: Path) -> None:
    assert statuses(read_stack(shipped_stack_dir)) == {
        "S3.1": "account-level", "S3.2": "met", "S3.3": "met", "S3.5": "met", "S3.6": "met", "S3.8": "met",
        "S3.9": "waived", "S3.12": "met", "S3.13": "met", "S3.19": "not applicable", "S3.24": "not applicable",
        "S3.25": "not applicable", "KMS.1": "out of scope", "KMS.2": "out of scope", "KMS.3": "met", "KMS.5": "met",
        "DynamoDB.1": "met", "DynamoDB.2": "met", "DynamoDB.3": "not applicable", "DynamoDB.6": "met",
        "DynamoDB.7": "not applicable", "S3.7": "waived", "S3.10": "met", "S3.11": "waived", "S3.14": "met",
        "S3.15": "**NOT MET**", "S3.17": "met", "S3.20": "not applicable", "S3.22": "account-level",
        "S3.23": "account-level", "KMS.4": "met", "DynamoDB.4": "**NOT MET**", "DynamoDB.5": "met",
    }  # fmt: skip


def test_controls_a_waived_finding_is_waived_never_met_and_without_its_waiver_not_met(shipped_stack_dir: Path) -> None:
    stack = read_stack(shipped_stack_dir)
    assert statuses(stack)["S3.9"] == "waived"
    without = [w for w in load_waivers() if w.check != "CKV_AWS_18"]
    assert statuses(stack, without)["S3.9"] == "**NOT MET**"
    partial = [
        w
        if w.check != "CKV_AWS_18"
        else Waiver(check=w.check, title=w.title, resources=w.resources[:1], reason=w.reason, compensates=w.compensates)
        for w in load_waivers()
    ]
    assert statuses(stack, partial)["S3.9"] == "**NOT MET**"  # a waiver covers only the resources it names


def test_controls_a_bucket_setting_off_is_not_met(shipped_stack_dir: Path) -> None:
    stack = read_stack(shipped_stack_dir)
    stack["resource"]["aws_s3_bucket_public_access_block"]["results"]["restrict_public_buckets"] = False
    stack["resource"]["aws_dynamodb_table"]["tenant_config"]["deletion_protection_enabled"] = False
    shown = statuses(stack)
    assert shown["S3.8"] == shown["S3.2"] == shown["DynamoDB.6"] == "**NOT MET**"
    detail = {a.control.control_id: a.detail for a in assess(stack, load_waivers())}
    assert detail["S3.8"] == "not met by `aws_s3_bucket.results`"


# --- the command: where it writes, and only when the report changes ------------------------------


def project_copy(tmp_path: Path) -> Path:
    """The audit command's files in a directory of their own, with the committed AUDIT.md."""
    project = tmp_path / "project"
    project.mkdir()
    for name in ("cci_tools", "constructs_lib"):
        shutil.copytree(PROJECT_DIR / name, project / name, ignore=shutil.ignore_patterns("__pycache__"))
    for name in ("AUDIT.md", WAIVERS_FILE.name):
        shutil.copy(PROJECT_DIR / name, project / name)
    return project


def run_in(project: Path, *args: str) -> subprocess.CompletedProcess[str]:
    return subprocess.run(
        [sys.executable, "-m", "cci_tools.audit", *args], cwd=project, capture_output=True, text=True, timeout=120
    )


def test_audit_rewrites_the_committed_report_only_when_it_changes(shipped_stack_dir: Path, tmp_path: Path) -> None:
    project = project_copy(tmp_path)
    committed = project / "AUDIT.md"
    os.utime(committed, (1_000_000_000, 1_000_000_000))
    same = run_in(project, "--stack-dir", str(shipped_stack_dir))
    assert (same.returncode, same.stdout, same.stderr) == (0, "AUDIT.md is up to date: unchanged\n", "")
    assert committed.stat().st_mtime == 1_000_000_000  # not even rewritten with the same bytes
    committed.write_text("stale\n", encoding="utf-8")
    changed = run_in(project, "--stack-dir", str(shipped_stack_dir))
    assert (changed.returncode, changed.stdout) == (0, "wrote AUDIT.md\n")
    assert committed.read_text(encoding="utf-8") == GOLDEN.read_text(encoding="utf-8")


def test_audit_writes_a_plan_review_beside_the_plan_in_the_stack_directory(
    shipped_stack_dir: Path, tmp_path: Path
) -> None:
    project = project_copy(tmp_path)
    stack_dir = tmp_path / "out" / STACK
    shutil.copytree(shipped_stack_dir, stack_dir)
    plan = tmp_path / "plan.json"
    plan.write_text(json.dumps(plan_for(stack_dir, change(DEMO_ITEM, ["create"]))))
    result = run_in(project, "--stack-dir", str(stack_dir), "--plan", str(plan))
    assert (result.returncode, result.stdout, result.stderr) == (0, f"wrote {stack_dir / 'plan-review.md'}\n", "")
    review = (stack_dir / "plan-review.md").read_text(encoding="utf-8")
    assert f"Plan: `plan.json`, SHA-256 `{hashlib.sha256(plan.read_bytes()).hexdigest()}`" in review
    assert "Commit: unknown (not a git checkout)." in review  # the copy is no git checkout
    assert (project / "AUDIT.md").read_bytes() == GOLDEN.read_bytes()


def test_refuses_a_plan_review_over_the_committed_report(shipped_stack_dir: Path, tmp_path: Path) -> None:
    project = project_copy(tmp_path)
    plan = tmp_path / "plan.json"
    plan.write_text(json.dumps({"resource_changes": []}))
    result = run_in(project, "--stack-dir", str(shipped_stack_dir), "--plan", str(plan), "--output", "AUDIT.md")
    assert result.returncode == 2 and result.stdout == ""
    assert result.stderr.splitlines() == [
        "error: audit: --output AUDIT.md is the committed report of the shipped stack, which a plan review must not "
        f"overwrite: leave --output out (the review goes to {shipped_stack_dir / 'plan-review.md'}, ignored by git) "
        "or name another file"
    ]
    assert (project / "AUDIT.md").read_bytes() == GOLDEN.read_bytes()


def change(address: str, actions: list[str], before: Any = None, after: Any = None) -> dict[str, Any]:
    rtype = address.split(".")[0]
    return {"address": address, "type": rtype, "change": {"actions": actions, "before": before, "after": after}}


META_ARGUMENTS = {"//", "depends_on", "for_each", "lifecycle", "provider"}


def expressions(arguments: dict[str, Any]) -> dict[str, Any]:
    """Terraform JSON arguments as ``terraform show -json`` shows them in ``configuration``: each argument's text as
    written (escapes and references included) as ``constant_value``, each nested block (in this stack, every list of
    objects, and every object but ``tags``) a list of such objects. Written from Terraform's JSON output format, independently of the audit."""
    shown: dict[str, Any] = {}
    for key, value in arguments.items():
        if key in META_ARGUMENTS:
            continue
        if isinstance(value, list) and value and all(isinstance(v, dict) for v in value):
            shown[key] = [expressions(v) for v in value]
        elif isinstance(value, dict) and key != "tags":  # cdktf writes a single nested block as an object
            shown[key] = [expressions(value)]
        else:
            shown[key] = {"constant_value": value}
    return shown


def plan_for(stack_dir: Path, *changes: dict[str, Any]) -> dict[str, Any]:
    """A ``terraform show -json`` plan made from the stack files in ``stack_dir``: every resource in its
    configuration, and a no-op change for each resource instance (with the policies and items the stack files
    give), except the instances ``changes`` name."""
    stack = read_stack(stack_dir)
    noop = []
    for rtype, by_name in stack["resource"].items():
        for name, body in by_name.items():
            if rtype == "aws_dynamodb_table_item":
                for tenant, item in stack["locals"]["tenant_config_items"].items():
                    value = {"item": unescape_terraform(item)}
                    noop.append(change(f'{rtype}.{name}["{tenant}"]', ["no-op"], value, value))
            else:
                value = {"policy": unescape_terraform(body["policy"])} if "policy" in body else {}
                noop.append(change(f"{rtype}.{name}", ["no-op"], value, value))
    named = {c["address"] for c in changes}
    configuration = [
        {"address": f"{rtype}.{name}", "mode": "managed", "type": rtype, "name": name, "expressions": expressions(body)}
        for rtype, by_name in stack["resource"].items()
        for name, body in by_name.items()
    ]
    (provider,) = stack["provider"]["aws"]
    providers = {"aws": {"name": "aws", "expressions": expressions(provider)}}
    return {
        "format_version": "1.2",
        "terraform_version": "1.11.0",
        "configuration": {"provider_config": providers, "root_module": {"resources": configuration}},
        "resource_changes": [*(c for c in noop if c["address"] not in named), *changes],
    }


def stack_with_items(tmp_path: Path, stack_dir: Path, items: dict[str, dict[str, Any]]) -> Path:
    """A copy of ``stack_dir`` whose tenant records are ``items`` (tenant -> DynamoDB JSON record): the stack a
    plan with those records was made from (a taken-over record's fields come from its discovery file)."""
    copy = tmp_path / "stack" / stack_dir.name
    shutil.copytree(stack_dir, copy)
    tenants_tf = copy / "tenants.tf.json"
    document = json.loads(tenants_tf.read_text(encoding="utf-8"))
    document["locals"]["tenant_config_items"].update({t: terraform_string(r) for t, r in items.items()})
    tenants_tf.write_text(json.dumps(document), encoding="utf-8")
    return copy


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


def crafted_replace_plan(tmp_path: Path, stack_dir: Path) -> Path:
    plan = plan_for(
        stack_dir,
        change("aws_s3_bucket.input", ["delete", "create"]),
        change("aws_s3_bucket_versioning.input", ["delete", "create"]),
    )
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
    plan = crafted_replace_plan(tmp_path, shipped_stack_dir)
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
    plan.write_text(json.dumps(plan_for(shipped_stack_dir, change(DEMO_ITEM, ["create"]))))
    result = run_audit(shipped_stack_dir, tmp_path, "--plan", str(plan), "--fail-on-destroy")
    assert result.returncode == 0, result.stderr
    assert result.stderr == ""


def test_shipped_stack_passes_the_scan_with_the_waived_findings_skipped(shipped_stack_dir: Path) -> None:
    from cci_tools.scan import checkov_binary, scan
    from tests.helpers import require_tool

    require_tool("checkov", checkov_binary())
    scanned = scan(shipped_stack_dir, load_waivers())
    assert scanned.ok, scanned.lines()
    assert scanned.summary() == "Passed checks: 69, Failed checks: 0, Skipped checks: 8 (waived), Parsing errors: 0"


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
            change('aws_dynamodb_table_item.tenant_config["demo-tenant"]', ["create"], None, {}),
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


def write_plan(tmp_path: Path, plan: dict[str, Any], stack_dir: Path) -> Path:
    """``plan``'s resource changes as a plan made from ``stack_dir`` (plan_for), in ``tmp_path/plan.json``."""
    path = tmp_path / "plan.json"
    path.write_text(json.dumps(plan_for(stack_dir, *plan["resource_changes"])), encoding="utf-8")
    return path


def test_fork_gate_without_credentials_says_so_in_one_line_and_fails(shipped_stack_dir: Path, tmp_path: Path) -> None:
    plan = write_plan(tmp_path, forked_plan(), shipped_stack_dir)
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

    plan = write_plan(tmp_path, forked_plan(), shipped_stack_dir)
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


@pytest.mark.parametrize(
    "path",
    [
        "plan.json",
        "cdktf.out/stacks/cci-lite-production/plan.bin",
        "cdktf.out/stacks/cci-lite-production/plan-review.md",
        "cdktf.out/stacks/cci-lite-production/.terraform/terraform.tfstate",
        "cdktf.out/stacks/cci-lite-production/take-over.serial-7.tfstate.backup",
        ".cdktf.out.lock",
        ".cdktf.out.new-123-abc/manifest.json",
        "terraform.cci-lite-production.tfstate",
        "terraform.cci-lite-production.tfstate.backup",
        "terraform.rc",  # README, "Offline": TF_CLI_CONFIG_FILE=$PWD/terraform.rc
        "cdktf.out/stacks/cci-lite-production/synth-overrides.json",
    ],
)
def test_files_the_documented_workflows_create_are_ignored_by_git(path: str) -> None:
    from tests.helpers import require_tool

    require_tool("git", shutil.which("git"))
    require_tool("a git checkout of the project", str(PROJECT_DIR) if (PROJECT_DIR / ".git").exists() else None)
    ignored = subprocess.run(["git", "check-ignore", "--quiet", "--no-index", path], cwd=PROJECT_DIR, timeout=60)
    assert ignored.returncode == 0, f"{path} is not ignored: README, 'For auditors', lists where each file goes"


# --- data loss in tenant records ----------------------------------------------------------------

#: A taken-over record as the tester's repro had it in state: the product's fields and nine it does not manage.
TAKEN_OVER_RECORD: dict[str, Any] = {
    "tenant_id": {"S": "demo-tenant"},
    "display_name": {"S": "Demo Tenant"},
    "kms_guard": {"BOOL": False},
    "tags": {"M": {"Tenant": {"S": "demo-tenant"}}},
    "status": {"S": "active"},
    "created_at": {"S": "2025-11-06T09:30:00Z"},
    "contacts": {"L": [{"M": {"owner": {"S": "ops@example.com"}}}]},
    "input_prefix": {"S": "demo-tenant/calls/"},
    "results_prefix": {"S": "demo-tenant/"},
    "retention_days": {"N": "30"},
    "features": {"SS": ["sentiment", "summary"]},
    "archived": {"NULL": True},
    "legacy": {"BOOL": True},
}
DEMO_ITEM = 'aws_dynamodb_table_item.tenant_config["demo-tenant"]'


def record_update(before: dict[str, Any], after: dict[str, Any], address: str = DEMO_ITEM) -> dict[str, Any]:
    """A plan's in-place update of a tenant record: ``item`` is a JSON string, as the provider holds it."""
    return change(address, ["update"], {"item": json.dumps(before)}, {"item": json.dumps(after)})


def product_fields(record: dict[str, Any]) -> dict[str, Any]:
    return {k: v for k, v in record.items() if k in ("tenant_id", "display_name", "kms_guard", "tags")}


def test_gate_fails_a_record_update_that_drops_fields_data_loss(shipped_stack_dir: Path, tmp_path: Path) -> None:
    # The tester's repro: a taken-over record, then a synth without the discovery file renders the product's
    # fields only; the provider's update writes the whole record, so every other field is deleted.
    stack_dir = stack_with_items(tmp_path, shipped_stack_dir, {"demo-tenant": product_fields(TAKEN_OVER_RECORD)})
    plan = write_plan(
        tmp_path, {"resource_changes": [record_update(TAKEN_OVER_RECORD, product_fields(TAKEN_OVER_RECORD))]}, stack_dir
    )
    gated = run_audit(stack_dir, tmp_path, "--plan", str(plan), "--fail-on-destroy")
    assert gated.returncode == 3
    lost = "archived, contacts, created_at, features, input_prefix, legacy, results_prefix, retention_days, status"
    assert gated.stderr.splitlines() == [
        f"WARNING: the plan deletes data in tenant records: {DEMO_ITEM} (removes fields {lost})"
    ]
    report = (tmp_path / "AUDIT.md").read_text(encoding="utf-8")
    assert (
        "> [!CAUTION]\n> **This plan deletes data in tenant records:**\n"
        f"> - `{DEMO_ITEM}` (tenant `demo-tenant`): removes fields "
        + ", ".join(f"`{f}`" for f in lost.split(", "))
        + ".\n"
    ) in report
    assert f"- tenant `demo-tenant`: `{DEMO_ITEM}`\n  - **removes fields** `archived`, `contacts`" in report
    ungated = run_audit(stack_dir, tmp_path, "--plan", str(plan))
    assert ungated.returncode == 0 and "deletes data in tenant records" in ungated.stderr


def test_gate_fails_a_record_update_that_changes_a_field_the_product_does_not_manage(
    shipped_stack_dir: Path, tmp_path: Path
) -> None:
    # A field another writer changed since Terraform last wrote the record: the apply writes the old value back.
    after = {**TAKEN_OVER_RECORD, "status": {"S": "suspended"}, "retention_days": {"N": "90"}}
    stack_dir = stack_with_items(tmp_path, shipped_stack_dir, {"demo-tenant": after})
    plan = write_plan(tmp_path, {"resource_changes": [record_update(TAKEN_OVER_RECORD, after)]}, stack_dir)
    gated = run_audit(stack_dir, tmp_path, "--plan", str(plan), "--fail-on-destroy")
    assert gated.returncode == 3
    assert gated.stderr.splitlines() == [
        f"WARNING: the plan deletes data in tenant records: {DEMO_ITEM} (overwrites fields retention_days, status)"
    ]


def test_gate_passes_a_record_update_of_the_products_own_fields_only(shipped_stack_dir: Path, tmp_path: Path) -> None:
    after = {
        **TAKEN_OVER_RECORD,
        "display_name": {"S": "Demo"},
        "kms_guard": {"BOOL": True},
        "tags": {"M": {"Tenant": {"S": "demo-tenant"}, "CostCenter": {"S": "cc-1"}}},
    }
    stack_dir = stack_with_items(tmp_path, shipped_stack_dir, {"demo-tenant": after})
    plan = write_plan(tmp_path, {"resource_changes": [record_update(TAKEN_OVER_RECORD, after)]}, stack_dir)
    gated = run_audit(stack_dir, tmp_path, "--plan", str(plan), "--fail-on-destroy")
    assert gated.returncode == 0, gated.stderr
    assert gated.stderr == ""
    report = (tmp_path / "AUDIT.md").read_text(encoding="utf-8")
    assert f"- tenant `demo-tenant`: `{DEMO_ITEM}`\n  - sets `display_name`, `kms_guard`, `tags`\n" in report


# --- a plan that imports: the first adoption, or a fork ------------------------------------------


def importing(address: str, import_id: str, actions: list[str]) -> dict[str, Any]:
    entry = change(address, actions, {"bucket": import_id}, {"bucket": import_id})
    entry["change"]["importing"] = {"id": import_id}
    return entry


def imports_plan() -> dict[str, Any]:
    """What a plan of an adopted stack from empty state looks like: everything that exists is imported."""
    return {
        "resource_changes": [
            importing("aws_s3_bucket.input", INPUT_BUCKET, ["no-op"]),
            importing("aws_s3_bucket_versioning.input", f"{INPUT_BUCKET},{ACCOUNT}", ["update"]),
        ]
    }


def test_gate_fails_a_plan_that_imports_unless_imports_are_expected_forked_state(
    shipped_stack_dir: Path, tmp_path: Path
) -> None:
    # A fresh clone of an adopted stack, planned from empty state (another backend, path or workspace), imports
    # the foundation again instead of creating it: it looks like the first adoption, and only the operator knows.
    plan = write_plan(tmp_path, imports_plan(), shipped_stack_dir)
    gated = run_audit(shipped_stack_dir, tmp_path, "--plan", str(plan), "--fail-on-destroy")
    assert gated.returncode == 3
    assert gated.stderr.splitlines() == [
        "WARNING: the plan imports 2 existing object(s) into this state: right only for the first adoption of this "
        "stack; if the stack was adopted before, this state is not the one that manages them (a forked state): "
        "stop; for the first adoption's plan, pass --expect-imports"
    ]
    report = (tmp_path / "AUDIT.md").read_text(encoding="utf-8")
    assert (
        "> [!CAUTION]\n> **This plan imports 2 existing object(s) into this state.** That is right only for the "
        "first adoption of this stack. If the stack was adopted before, this state is not the one that manages "
        "these objects"
    ) in report
    expected = run_audit(shipped_stack_dir, tmp_path, "--plan", str(plan), "--fail-on-destroy", "--expect-imports")
    assert (expected.returncode, expected.stderr) == (0, "")
    assert "> [!CAUTION]\n> **This plan imports 2 existing object(s) into this state.**" in (
        tmp_path / "AUDIT.md"
    ).read_text(encoding="utf-8")


def test_expect_imports_does_not_pass_a_plan_that_deletes(shipped_stack_dir: Path, tmp_path: Path) -> None:
    plan = imports_plan()
    plan["resource_changes"].append(change("aws_s3_bucket.results", ["delete"]))
    path = write_plan(tmp_path, plan, shipped_stack_dir)
    gated = run_audit(shipped_stack_dir, tmp_path, "--plan", str(path), "--fail-on-destroy", "--expect-imports")
    assert gated.returncode == 3
    assert gated.stderr.splitlines()[0].startswith("WARNING: the plan deletes or replaces resources of the stack")


def test_review_names_the_principals_a_bucket_policy_update_no_longer_allows_cross_account_grant() -> None:
    partner = "arn:aws:iam::111122223333:role/quicksight"
    before = {
        "Statement": [
            {"Sid": "PartnerRead", "Effect": "Allow", "Principal": {"AWS": partner}, "Action": "s3:GetObject"},
            {"Sid": "Logs", "Effect": "Allow", "Principal": {"Service": "logging.s3.amazonaws.com"}, "Action": "s3:*"},
        ]
    }
    after = {"Statement": [{"Sid": "DenyInsecureTransport", "Effect": "Deny", "Principal": "*", "Action": "s3:*"}]}
    section, _ = render_changes(
        {
            "resource_changes": [
                change(
                    "aws_s3_bucket_policy.results",
                    ["update"],
                    {"policy": json.dumps(before)},
                    {"policy": json.dumps(after)},
                )
            ]
        }
    )
    assert (
        "  - **principals the bucket policy no longer allows:** `arn:aws:iam::111122223333:role/quicksight`, "
        "`logging.s3.amazonaws.com` (a principal of another account, or a service, has no other way in)"
    ) in section


def lifecycle(noncurrent: int | None, current: int | None = 30) -> dict[str, Any]:
    rules: list[dict[str, Any]] = []
    if current:
        rules.append({"id": "expire-current-versions", "status": "Enabled", "expiration": [{"days": current}]})
    if noncurrent:
        rules.append(
            {
                "id": "expire-noncurrent-versions",
                "status": "Enabled",
                "noncurrent_version_expiration": [{"noncurrent_days": noncurrent}],
            }
        )
    return {"rule": rules}


def test_review_marks_a_shortened_noncurrent_expiry_as_loudly_as_a_new_one_old_versions_deletable() -> None:
    section, _ = render_changes(
        {
            "resource_changes": [
                change("aws_s3_bucket_lifecycle_configuration.results", ["update"], lifecycle(90), lifecycle(1))
            ]
        }
    )
    assert (
        "  - **old versions become deletable sooner:** noncurrent versions are deleted after 1 day (90 days before)"
    ) in section


def test_review_marks_a_shortened_current_expiry_objects_deleted_sooner() -> None:
    section, _ = render_changes(
        {
            "resource_changes": [
                change("aws_s3_bucket_lifecycle_configuration.results", ["update"], lifecycle(1, 90), lifecycle(1, 30))
            ]
        }
    )
    assert "  - **objects are deleted sooner:** current objects expire after 30 days (90 days before)" in section


def test_review_of_a_longer_expiry_is_plain() -> None:
    section, _ = render_changes(
        {
            "resource_changes": [
                change("aws_s3_bucket_lifecycle_configuration.results", ["update"], lifecycle(1), lifecycle(7))
            ]
        }
    )
    assert "  - noncurrent versions deleted after 1 day → 7 days" in section and "**" not in section


def test_refuses_to_guess_the_stack_of_several_in_one_line(tmp_path: Path) -> None:
    out = tmp_path / "cdktf.out"
    for stack in ("cci-lite-production", "cci-lite-staging"):
        (out / "stacks" / stack).mkdir(parents=True)
        (out / "stacks" / stack / "cdk.tf.json").write_text("{}", encoding="utf-8")
    result = subprocess.run(
        [sys.executable, "-m", "cci_tools.audit", "--plan", str(tmp_path / "plan.json")],
        cwd=PROJECT_DIR,
        capture_output=True,
        text=True,
        timeout=60,
        env={**os.environ, "CDKTF_OUTDIR": str(out)},
    )
    assert (result.returncode, result.stdout) == (2, "")
    assert result.stderr.splitlines() == [
        f"error: audit: found 2 synthesized stacks under {out / 'stacks'} (cci-lite-production, cci-lite-staging); "
        f"say which with --stack-dir, e.g. --stack-dir {out / 'stacks' / 'cci-lite-production'}"
    ]


# --- the plan file: the JSON of a plan, made from these stack files ------------------------------

MAKE = "terraform show -json plan.bin > plan.json"


def audit_plan_bytes(stack_dir: Path, tmp_path: Path, data: bytes) -> subprocess.CompletedProcess[str]:
    plan = tmp_path / "plan.json"
    plan.write_bytes(data)
    return run_audit(stack_dir, tmp_path, "--plan", str(plan), "--fail-on-destroy")


@pytest.mark.parametrize(
    ("document", "why"),
    [
        ({}, "it has no format_version and no terraform_version"),
        ([], "it is a JSON list, not an object"),
        ("plan", "it is a JSON string, not an object"),
        ({"tenants": [{"tenant_id": "acme"}]}, "it has no format_version and no terraform_version"),
        (
            {"format_version": "1.0", "terraform_version": "1.11.0", "values": {"root_module": {}}},
            "it is the JSON of a state: terraform show -json without a plan file",
        ),
        ({"format_version": "1.2", "terraform_version": "1.11.0"}, "it has no configuration"),
        (
            {"format_version": "1.2", "terraform_version": "1.11.0", "configuration": {}, "resource_changes": [{}]},
            "resource_changes[0] has no address, type and change.actions",
        ),
    ],
)
def test_refuses_a_file_that_is_not_the_json_of_a_plan_not_a_plan(
    shipped_stack_dir: Path, tmp_path: Path, document: Any, why: str
) -> None:
    result = audit_plan_bytes(shipped_stack_dir, tmp_path, json.dumps(document).encode())
    assert (result.returncode, result.stdout) == (2, "")
    assert result.stderr.splitlines() == [
        f"error: audit: {tmp_path / 'plan.json'} is not the JSON of a Terraform plan ({why}); make it with: {MAKE}"
    ]
    assert not (tmp_path / "AUDIT.md").exists()


def test_refuses_the_tenants_file_and_invalid_json_as_a_plan_not_a_plan(
    shipped_stack_dir: Path, tmp_path: Path
) -> None:
    tenants = audit_plan_bytes(shipped_stack_dir, tmp_path, (PROJECT_DIR / "tenants.json").read_bytes())
    assert tenants.returncode == 2
    assert "is not the JSON of a Terraform plan (it has no format_version and no terraform_version)" in tenants.stderr
    truncated = audit_plan_bytes(shipped_stack_dir, tmp_path, b'{"format_version": "1.2",')
    assert truncated.stderr.splitlines() == [
        f"error: audit: {tmp_path / 'plan.json'} is not the JSON of a Terraform plan (not valid JSON: Expecting "
        f"property name enclosed in double quotes at line 1 column 26); make it with: {MAKE}"
    ]


def test_refuses_a_binary_plan_in_user_terms_never_a_codec_error_binary_plan(
    shipped_stack_dir: Path, tmp_path: Path
) -> None:
    plan = tmp_path / "plan.json"
    zipped = audit_plan_bytes(shipped_stack_dir, tmp_path, b"PK\x03\x04\x14\x00\x00\x00\x08\x00" + bytes(range(256)))
    assert (zipped.returncode, zipped.stdout) == (2, "")
    assert zipped.stderr.splitlines() == [
        f"error: audit: {plan} is a binary plan; run terraform show -json {plan} > plan.json and audit plan.json"
    ]
    undecodable = audit_plan_bytes(shipped_stack_dir, tmp_path, b'{"a": "\xff\xfe\x00"}')
    assert undecodable.stderr.splitlines() == [
        f"error: audit: {plan} is a binary plan or not text (byte 7 is 0xff); run terraform show -json on the plan "
        f"file and audit its output: {MAKE}"
    ]
    for result in (zipped, undecodable):
        assert "codec" not in result.stderr and "Traceback" not in result.stderr


def test_plan_encodings_one_byte_order_mark_or_utf16_are_read_two_marks_refused_encoding(
    shipped_stack_dir: Path, tmp_path: Path
) -> None:
    text = json.dumps(plan_for(shipped_stack_dir))
    for data in (b"\xef\xbb\xbf" + text.encode(), text.encode("utf-16")):  # an editor's mark; PowerShell's `>`
        result = audit_plan_bytes(shipped_stack_dir, tmp_path, data)
        assert (result.returncode, result.stderr) == (0, ""), result.stderr
    doubled = audit_plan_bytes(shipped_stack_dir, tmp_path, b"\xef\xbb\xbf\xef\xbb\xbf" + text.encode())
    assert doubled.returncode == 2
    assert doubled.stderr.splitlines() == [
        f"error: audit: {tmp_path / 'plan.json'} starts with two byte-order marks; save it as UTF-8 (or make it "
        f"again: {MAKE})"
    ]


def stale(stack_dir: Path, tmp_path: Path, plan: dict[str, Any]) -> list[str]:
    """What the audit of ``plan`` against ``stack_dir`` says on stderr, having refused it (exit 2, no report)."""
    path = tmp_path / "plan.json"
    path.write_text(json.dumps(plan), encoding="utf-8")
    result = run_audit(stack_dir, tmp_path, "--plan", str(path), "--fail-on-destroy")
    assert (result.returncode, result.stdout) == (2, ""), result.stderr
    assert not (tmp_path / "AUDIT.md").exists()
    lines: list[str] = result.stderr.splitlines()
    return lines


def refusal(tmp_path: Path, stack_dir: Path, where: str) -> str:
    return (
        f"error: audit: {tmp_path / 'plan.json'} was not made from {stack_dir} (differs at {where}): run terraform "
        "plan again in that directory (terraform plan -out plan.bin && terraform show -json plan.bin > plan.json)"
    )


def test_refuses_a_stale_plan_made_before_a_tenant_was_added_stale_plan(
    shipped_stack_dir: Path, tmp_path: Path
) -> None:
    yesterday = plan_for(shipped_stack_dir)
    newco = {"tenant_id": {"S": "newco"}, "display_name": {"S": "NewCo"}, "kms_guard": {"BOOL": False}}
    today = stack_with_items(tmp_path, shipped_stack_dir, {"newco": newco})
    where = 'aws_dynamodb_table_item.tenant_config["newco"] (a tenant record the stack files have and the plan has not)'
    assert stale(today, tmp_path, yesterday) == [refusal(tmp_path, today, where)]
    # ... and the other way round: a plan with a tenant the stack files no longer have.
    tomorrow = plan_for(today)
    where = 'aws_dynamodb_table_item.tenant_config["newco"] (a tenant record the plan has and the stack files have not)'
    assert stale(shipped_stack_dir, tmp_path, tomorrow) == [refusal(tmp_path, shipped_stack_dir, where)]


def test_refuses_a_stale_plan_whose_key_policy_or_record_differs_from_the_stack_files_stale_plan(
    shipped_stack_dir: Path, tmp_path: Path
) -> None:
    plan = plan_for(shipped_stack_dir)
    key = next(c for c in plan["resource_changes"] if c["address"] == "aws_kms_key.master")
    policy = json.loads(key["change"]["after"]["policy"])
    policy["Statement"] = policy["Statement"][1:]
    key["change"]["after"] = {"policy": json.dumps(policy)}
    record = next(c for c in plan["resource_changes"] if c["address"] == DEMO_ITEM)
    record["change"]["after"] = {"item": json.dumps({"tenant_id": {"S": "demo-tenant"}})}
    bucket = next(c for c in plan["resource_changes"] if c["address"] == "aws_s3_bucket_policy.results")
    bucket["change"]["after"] = {"policy": json.dumps({"Version": "2012-10-17", "Statement": []})}
    where = f"{DEMO_ITEM} (item); aws_kms_key.master (policy); aws_s3_bucket_policy.results (policy)"
    assert stale(shipped_stack_dir, tmp_path, plan) == [refusal(tmp_path, shipped_stack_dir, where)]


def test_refuses_a_stale_plan_whose_configuration_has_other_resources_stale_plan(
    shipped_stack_dir: Path, tmp_path: Path
) -> None:
    plan = plan_for(shipped_stack_dir)
    resources = plan["configuration"]["root_module"]["resources"]
    resources[:] = [r for r in resources if r["address"] != "aws_s3_bucket_notification.input"]
    resources.append({"address": "aws_s3_bucket.old", "mode": "managed", "type": "aws_s3_bucket", "name": "old"})
    resources.append({"address": "data.aws_caller_identity.x", "mode": "data", "type": "x", "name": "x"})  # ignored
    plan["configuration"]["root_module"]["module_calls"] = {"tenants": {}}
    for _ in range(2):
        resources.append({"address": f"aws_s3_bucket.more{_}", "mode": "managed", "type": "aws_s3_bucket"})
    (line,) = stale(shipped_stack_dir, tmp_path, plan)
    assert line == refusal(
        tmp_path,
        shipped_stack_dir,
        "aws_s3_bucket_notification.input (in the stack files, not in the plan); aws_s3_bucket.more0 (in the plan, "
        "not in the stack files); aws_s3_bucket.more1 (in the plan, not in the stack files); and 2 more",
    )


@pytest.mark.parametrize(
    ("kind", "edit", "where"),
    [
        (
            "noncurrent_expiry_changed_since",
            lambda p: block(p, "aws_s3_bucket_lifecycle_configuration.input")["rule"][1][
                "noncurrent_version_expiration"
            ][0].update(noncurrent_days={"constant_value": 30}),
            "aws_s3_bucket_lifecycle_configuration.input (rule[1].noncurrent_version_expiration[0].noncurrent_days)",
        ),
        (
            "lifecycle_rule_added_since",
            lambda p: block(p, "aws_s3_bucket_lifecycle_configuration.input")["rule"].pop(),
            "aws_s3_bucket_lifecycle_configuration.input (rule)",
        ),
        (
            "default_tag_changed_since",
            lambda p: p["configuration"]["provider_config"]["aws"]["expressions"]["default_tags"][0].update(
                tags={"constant_value": {"Owner": "Someone else"}}
            ),
            "provider aws (default_tags[0].tags)",
        ),
        (
            "argument_added_since",
            lambda p: block(p, "aws_kms_key.master").pop("description"),
            "aws_kms_key.master (description)",
        ),
        (
            "reference_changed_since",
            lambda p: block(p, "aws_dynamodb_table.tenant_config")["server_side_encryption"][0].update(
                kms_key_arn={"constant_value": "${aws_kms_key.other.arn}", "references": ["aws_kms_key.other.arn"]}
            ),
            "aws_dynamodb_table.tenant_config (server_side_encryption[0].kms_key_arn)",
        ),
    ],
)
def test_refuses_a_stale_plan_whose_arguments_differ_from_the_stack_files_stale_plan(
    shipped_stack_dir: Path, tmp_path: Path, kind: str, edit: Any, where: str
) -> None:
    # The tester's repro: plan, then noncurrent_version_expiration_days (or the owner tag) changed and synthesized
    # again; the review described the new files' 30 days while the plan sets 1. Every argument counts, not only what
    # the review reasons about.
    plan = plan_for(shipped_stack_dir)
    edit(plan)
    assert stale(shipped_stack_dir, tmp_path, plan) == [refusal(tmp_path, shipped_stack_dir, where)], kind


def block(plan: dict[str, Any], address: str) -> dict[str, Any]:
    """The expressions of one resource of a plan's configuration."""
    found: dict[str, Any] = next(
        r for r in plan["configuration"]["root_module"]["resources"] if r["address"] == address
    )["expressions"]
    return found


def test_plan_from_these_stack_files_matches_however_its_policies_are_written_stale_plan(
    shipped_stack_dir: Path, tmp_path: Path
) -> None:
    # Terraform keeps the policy AWS returned when it is equivalent: other spacing, order or single values.
    plan = plan_for(shipped_stack_dir)
    key = next(c for c in plan["resource_changes"] if c["address"] == "aws_kms_key.master")
    policy = json.loads(key["change"]["after"]["policy"])
    for statement in policy["Statement"]:
        if isinstance(statement.get("Action"), list):
            statement["Action"] = list(reversed(statement["Action"]))
        elif isinstance(statement.get("Action"), str):
            statement["Action"] = [statement["Action"]]
    key["change"]["after"] = {"policy": json.dumps(policy, indent=4)}
    key["change"]["before"] = key["change"]["after"]
    path = write_plan(tmp_path, plan, shipped_stack_dir)
    path.write_text(json.dumps(plan), encoding="utf-8")
    result = run_audit(shipped_stack_dir, tmp_path, "--plan", str(path), "--fail-on-destroy")
    assert (result.returncode, result.stderr) == (0, "")


def test_refuses_to_audit_without_a_synthesized_stack_no_stack(tmp_path: Path) -> None:
    out = tmp_path / "cdktf.out"

    def audit(*args: str) -> list[str]:
        result = subprocess.run(
            [sys.executable, "-m", "cci_tools.audit", *args],
            cwd=PROJECT_DIR,
            capture_output=True,
            text=True,
            timeout=60,
            env={**os.environ, "CDKTF_OUTDIR": str(out)},
        )
        assert (result.returncode, result.stdout) == (2, "")
        lines: list[str] = result.stderr.splitlines()
        return lines

    nothing = [f"error: audit: found no synthesized stack under {out / 'stacks'}; run pipenv run synth first"]
    assert audit() == nothing  # before any synth
    (out / "stacks" / STACK).mkdir(parents=True)
    assert audit() == nothing  # a stack directory holding only Terraform's files
    assert audit("--stack-dir", str(tmp_path)) == [
        f"error: audit: {tmp_path} is not a synthesized stack (it has no cdk.tf.json); run pipenv run synth, then "
        "audit cdktf.out/stacks/<stack>"
    ]
    (out / "stacks" / STACK / "cdk.tf.json").write_text('{"resource": ', encoding="utf-8")
    assert audit() == [
        f"error: audit: {out / 'stacks' / STACK / 'cdk.tf.json'} is not the Terraform JSON a synth writes; run "
        "pipenv run synth again"
    ]


# --- the committed report is of the shipped settings only ------------------------------------------


def synth_main(out: Path, **overrides: str) -> Path:
    """``python main.py`` into ``out`` with ``overrides`` (CCI_* variables) and no others; -> the stack directory."""
    env = {k: v for k, v in os.environ.items() if not k.startswith("CCI_")}
    result = subprocess.run(
        [sys.executable, "main.py"],
        cwd=PROJECT_DIR,
        env={**env, "CDKTF_OUTDIR": str(out), **overrides},
        capture_output=True,
        text=True,
        timeout=300,
    )
    assert result.returncode == 0, result.stderr
    return out / "stacks" / STACK


def test_refuses_to_write_the_committed_report_from_an_override_synth_override(tmp_path: Path) -> None:
    tenants = tmp_path / "tenants.json"
    document = json.loads((PROJECT_DIR / "tenants.json").read_text(encoding="utf-8"))
    document["tenants"].append({"tenant_id": "newco"})
    tenants.write_text(json.dumps(document), encoding="utf-8")
    out = tmp_path / "cdktf.out"
    stack_dir = synth_main(out, CCI_TENANTS_FILE=str(tenants), CCI_REGION="eu-west-1")
    assert json.loads((stack_dir / "synth-overrides.json").read_text(encoding="utf-8"))["overrides"] == [
        "CCI_REGION",
        "CCI_TENANTS_FILE",
    ]
    project = project_copy(tmp_path)
    committed = (project / "AUDIT.md").read_bytes()
    refused = run_in(project, "--stack-dir", str(stack_dir))
    assert (refused.returncode, refused.stdout) == (2, "")
    assert refused.stderr.splitlines() == [
        f"error: audit: {stack_dir} was synthesized with CCI_REGION, CCI_TENANTS_FILE overriding cdktf.json, so it "
        "is not the shipped settings that AUDIT.md reports: synthesize without them (pipenv run synth) to update "
        "it, or write this report elsewhere with --output FILE"
    ]
    assert (project / "AUDIT.md").read_bytes() == committed
    # The same refusal for --output naming the committed report; any other file, and a plan review, are fine.
    named = run_in(project, "--stack-dir", str(stack_dir), "--output", str(project / "AUDIT.md"))
    assert named.returncode == 2 and "is not the shipped settings" in named.stderr
    elsewhere = run_in(project, "--stack-dir", str(stack_dir), "--output", "region-report.md")
    assert (elsewhere.returncode, elsewhere.stderr) == (0, "")
    plan = tmp_path / "plan.json"
    plan.write_text(json.dumps(plan_for(stack_dir)), encoding="utf-8")
    review = run_in(project, "--stack-dir", str(stack_dir), "--plan", str(plan))
    assert (review.returncode, review.stderr) == (0, "")
    assert (project / "AUDIT.md").read_bytes() == committed

    # Synthesized again without overrides, the record is gone and the committed report is the audit's to write.
    assert not (synth_main(out) / "synth-overrides.json").exists()
    assert run_in(project, "--stack-dir", str(stack_dir)).stdout == "AUDIT.md is up to date: unchanged\n"


def test_destroy_plan_of_these_stack_files_is_reviewed_not_refused_as_stale_plan(
    shipped_stack_dir: Path, tmp_path: Path
) -> None:
    # terraform plan -destroy: every instance deleted, after null; made from these files all the same.
    plan = plan_for(shipped_stack_dir)
    for entry in plan["resource_changes"]:
        entry["change"] = {"actions": ["delete"], "before": entry["change"]["before"], "after": None}
    path = tmp_path / "plan.json"
    path.write_text(json.dumps(plan), encoding="utf-8")
    result = run_audit(shipped_stack_dir, tmp_path, "--plan", str(path), "--fail-on-destroy")
    assert result.returncode == 3
    assert result.stderr.startswith("WARNING: the plan deletes or replaces resources of the stack: ")
