"""checkov on the synthesized stack, the waivers (skipped, never passed), and the project's own checks."""

from __future__ import annotations

import json
import shutil
import subprocess
import sys
from pathlib import Path
from typing import Any

import pytest

from cci_tools.scan import checkov_binary, classify, imports_only, resource_lines, run_checkov, scan
from cci_tools.waivers import WAIVERS_FILE, Waiver, WaiverError
from cci_tools.waivers import load as load_waivers
from tests.helpers import PROJECT_DIR, require_tool

TLS_DENY = {
    "Sid": "DenyInsecureTransport",
    "Effect": "Deny",
    "Principal": "*",
    "Action": "s3:*",
    "Resource": ["arn:aws:s3:::b", "arn:aws:s3:::b/*"],
    "Condition": {"Bool": {"aws:SecureTransport": "false"}},
}


def policy(*statements: dict[str, Any]) -> str:
    return json.dumps({"Version": "2012-10-17", "Statement": list(statements)})


def lifecycle(*rules: dict[str, Any]) -> dict[str, Any]:
    return {
        "bucket": "b",
        "rule": [{"id": f"r{i}", "status": "Enabled", "filter": [{"prefix": ""}], **r} for i, r in enumerate(rules)],
    }


SERVICE = {"Effect": "Allow", "Principal": {"Service": "s3.amazonaws.com"}, "Action": "kms:Decrypt", "Resource": "*"}
GUARD = {
    "Effect": "Deny",
    "Principal": {"AWS": "*"},
    "Action": "kms:Decrypt",
    "Resource": "*",
    "Condition": {"StringNotEquals": {"kms:EncryptionContext:tenant_id": "$${aws:PrincipalTag/tenant_id}"}},
}
UNESCAPED = {**GUARD, "Condition": {"StringNotEquals": {"kms:EncryptionContext:tenant_id": "${aws:PrincipalTag/x}"}}}

#: (check, resource type, name, config, expected result)
EXAMPLES: list[tuple[str, str, str, dict[str, Any], str]] = [
    ("CKV_CCI_1", "aws_s3_bucket_policy", "tls_only", {"bucket": "b", "policy": policy(TLS_DENY)}, "PASSED"),
    ("CKV_CCI_1", "aws_s3_bucket_policy", "no_tls_rule", {"bucket": "b", "policy": policy({**TLS_DENY, "Effect": "Allow"})}, "FAILED"),
    ("CKV_CCI_1", "aws_s3_bucket_policy", "objects_uncovered", {"bucket": "b", "policy": policy({**TLS_DENY, "Resource": "arn:aws:s3:::b"})}, "FAILED"),
    ("CKV_CCI_2", "aws_s3_bucket_lifecycle_configuration", "expires_both",
     lifecycle({"expiration": [{"days": 1}]}, {"noncurrent_version_expiration": [{"noncurrent_days": 1}]}), "PASSED"),
    ("CKV_CCI_2", "aws_s3_bucket_lifecycle_configuration", "hides_behind_markers",
     lifecycle({"expiration": [{"days": 1}]}), "FAILED"),
    ("CKV_CCI_3", "aws_dynamodb_table", "protected", {"name": "t", "hash_key": "k", "deletion_protection_enabled": True}, "PASSED"),
    ("CKV_CCI_3", "aws_dynamodb_table", "unprotected", {"name": "t", "hash_key": "k"}, "FAILED"),
    ("CKV_CCI_4", "aws_kms_key", "scoped",
     {"policy": policy({**SERVICE, "Condition": {"StringEquals": {"aws:SourceAccount": "111122223333"}}})}, "PASSED"),
    ("CKV_CCI_4", "aws_kms_key", "scoped_by_source_arn",
     {"policy": policy({**SERVICE, "Condition": {"ArnLike": {"aws:SourceArn": "arn:aws:lambda:eu-central-1:111122223333:event-source-mapping:*"}}})},
     "PASSED"),
    ("CKV_CCI_4", "aws_kms_key", "confused_deputy", {"policy": policy(SERVICE)}, "FAILED"),
    ("CKV_CCI_4", "aws_kms_key", "source_arn_of_any_account",
     {"policy": policy({**SERVICE, "Condition": {"ArnLike": {"aws:SourceArn": "arn:aws:lambda:*:*:event-source-mapping:*"}}})},
     "FAILED"),
    ("CKV_CCI_4", "aws_kms_key", "source_account_negated",
     {"policy": policy({**SERVICE, "Condition": {"StringNotEquals": {"aws:SourceAccount": "111122223333"}}})}, "FAILED"),
    ("CKV_CCI_5", "aws_kms_key", "escaped", {"policy": policy(GUARD)}, "PASSED"),
    ("CKV_CCI_5", "aws_kms_key", "interpolated", {"policy": policy(UNESCAPED)}, "FAILED"),
]  # fmt: skip


@pytest.fixture(scope="module")
def example_results(tmp_path_factory: pytest.TempPathFactory) -> dict[tuple[str, str], str]:
    require_tool("checkov", checkov_binary())
    directory = tmp_path_factory.mktemp("examples")
    resources: dict[str, dict[str, Any]] = {}
    for _, rtype, name, config, _ in EXAMPLES:
        resources.setdefault(rtype, {})[name] = config
    (directory / "examples.tf.json").write_text(json.dumps({"resource": resources}), encoding="utf-8")
    checks = ",".join(sorted({e[0] for e in EXAMPLES}))
    result = run_checkov(directory, "-c", checks, "-o", "json")
    report = json.loads(result.stdout)
    outcome: dict[tuple[str, str], str] = {}
    for status, key in (("PASSED", "passed_checks"), ("FAILED", "failed_checks")):
        for finding in report["results"][key]:
            outcome[(finding["check_id"], finding["resource"].split(".")[-1])] = status
    return outcome


@pytest.mark.parametrize(("check", "rtype", "name", "config", "expected"), EXAMPLES, ids=[e[2] for e in EXAMPLES])
def test_project_check_on_example(
    example_results: dict[tuple[str, str], str], check: str, rtype: str, name: str, config: Any, expected: str
) -> None:
    assert example_results.get((check, name)) == expected


#: The findings the shipped waivers accept: (check, Terraform address).
WAIVED = {
    ("CKV_AWS_144", "aws_s3_bucket.input"),
    ("CKV_AWS_144", "aws_s3_bucket.results"),
    ("CKV_AWS_144", "aws_s3_bucket.athena_staging"),
    ("CKV_AWS_18", "aws_s3_bucket.input"),
    ("CKV_AWS_18", "aws_s3_bucket.results"),
    ("CKV_AWS_18", "aws_s3_bucket.athena_staging"),
    ("CKV2_AWS_62", "aws_s3_bucket.results"),
    ("CKV2_AWS_62", "aws_s3_bucket.athena_staging"),
}


def test_synthesized_stack_passes_with_only_the_waived_findings_skipped(synth_file: Path) -> None:
    require_tool("checkov", checkov_binary())
    scanned = scan(synth_file.parent, load_waivers())
    assert scanned.failed == () and scanned.stale == () and scanned.unparsed == (), scanned.lines()
    assert {(f.check, f.address) for f, _ in scanned.skipped} == WAIVED
    passed = {(f.check, f.address) for f in scanned.passed}
    assert not passed & WAIVED  # a waived finding is skipped, never counted as passed
    assert ("CKV2_AWS_62", "aws_s3_bucket.input") in passed  # the input bucket's own notification passes
    for expected in [
        ("CKV_CCI_1", "aws_s3_bucket_policy.input"),
        ("CKV_CCI_1", "aws_s3_bucket_policy.results"),
        ("CKV_CCI_1", "aws_s3_bucket_policy.athena_staging"),
        ("CKV_CCI_2", "aws_s3_bucket_lifecycle_configuration.input"),
        ("CKV_CCI_2", "aws_s3_bucket_lifecycle_configuration.results"),
        ("CKV_CCI_3", "aws_dynamodb_table.tenant_config"),
        ("CKV_CCI_4", "aws_kms_key.master"),
        ("CKV_CCI_5", "aws_kms_key.master"),
        ("CKV_AWS_7", "aws_kms_key.master"),  # stock: key rotation
        ("CKV_AWS_145", "aws_s3_bucket.input"),  # stock: SSE-KMS
        ("CKV_AWS_28", "aws_dynamodb_table.tenant_config"),  # stock: point-in-time recovery
    ]:
        assert expected in passed, expected
    assert [w.check for w in load_waivers()] == ["CKV_AWS_144", "CKV_AWS_18", "CKV2_AWS_62"]


def test_scan_prints_waived_findings_as_skipped_with_the_reason_in_its_summary(synth_file: Path) -> None:
    require_tool("checkov", checkov_binary())
    result = subprocess.run(
        [sys.executable, "-m", "cci_tools.scan", str(synth_file.parent)],
        cwd=PROJECT_DIR, capture_output=True, text=True, timeout=600,
    )  # fmt: skip
    assert (result.returncode, result.stderr) == (0, ""), result.stdout
    lines = result.stdout.splitlines()
    assert lines[0] == f"{synth_file.parent}:"
    assert lines[-1] == "  Passed checks: 69, Failed checks: 0, Skipped checks: 8 (waived), Parsing errors: 0"
    (logging,) = [line for line in lines if line.startswith("  SKIPPED  CKV_AWS_18  ")]
    assert logging == (
        "  SKIPPED  CKV_AWS_18  aws_s3_bucket.athena_staging, aws_s3_bucket.input, aws_s3_bucket.results  server "
        "access logging, waived in scan-waivers.toml: access logs need a fourth, separately governed log bucket "
        "that the design record does not include (and that bucket would itself need logging); it belongs to the "
        "account baseline."
    )
    assert "Traceback" not in result.stdout


# --- classifying checkov's findings against the waivers -----------------------------------------


def finding(check: str, address: str) -> dict[str, Any]:
    return {
        "check_id": check,
        "check_name": f"Ensure {check}",
        "resource": address,
        "file_path": "/cdk.tf.json",
        "file_line_range": [1, 9],
    }


def report(
    passed: list[dict[str, Any]], failed: list[dict[str, Any]], unparsed: tuple[str, ...] = ()
) -> dict[str, Any]:
    return {
        "check_type": "terraform_json",
        "results": {"passed_checks": passed, "failed_checks": failed, "parsing_errors": list(unparsed)},
    }


LOGGING = Waiver(
    check="CKV_AWS_18",
    title="server access logging",
    resources=("aws_s3_bucket.input",),
    reason="a log bucket belongs to the account baseline.",
    compensates="CloudTrail.",
)


def test_classify_counts_a_waived_finding_as_skipped_not_passed() -> None:
    scanned = classify(
        Path("stack"),
        report([finding("CKV_AWS_21", "aws_s3_bucket.input")], [finding("CKV_AWS_18", "aws_s3_bucket.input")]),
        [LOGGING],
    )
    assert [(f.check, f.address) for f in scanned.passed] == [("CKV_AWS_21", "aws_s3_bucket.input")]
    assert [(f.check, f.address, w) for f, w in scanned.skipped] == [("CKV_AWS_18", "aws_s3_bucket.input", LOGGING)]
    assert (
        scanned.ok
        and scanned.summary() == "Passed checks: 1, Failed checks: 0, Skipped checks: 1 (waived), Parsing errors: 0"
    )


def test_classify_fails_a_finding_on_a_resource_the_waiver_does_not_name() -> None:
    scanned = classify(
        Path("stack"),
        report([], [finding("CKV_AWS_18", "aws_s3_bucket.input"), finding("CKV_AWS_18", "aws_s3_bucket.logs")]),
        [LOGGING],
    )
    assert [(f.check, f.address) for f in scanned.failed] == [("CKV_AWS_18", "aws_s3_bucket.logs")]
    assert not scanned.ok
    assert "  FAILED   CKV_AWS_18  aws_s3_bucket.logs  Ensure CKV_AWS_18 (cdk.tf.json:1-9)" in scanned.lines()


def test_classify_fails_a_finding_of_another_check_on_a_waived_resource() -> None:
    scanned = classify(
        Path("stack"),
        report([], [finding("CKV_AWS_18", "aws_s3_bucket.input"), finding("CKV_AWS_144", "aws_s3_bucket.input")]),
        [LOGGING],
    )
    assert [(f.check, f.address) for f in scanned.failed] == [("CKV_AWS_144", "aws_s3_bucket.input")]


def test_classify_fails_a_stale_waiver_that_matches_no_finding() -> None:
    scanned = classify(Path("stack"), report([finding("CKV_AWS_18", "aws_s3_bucket.input")], []), [LOGGING])
    assert scanned.stale == ((LOGGING, "aws_s3_bucket.input"),) and not scanned.ok
    assert (
        "  STALE    waiver CKV_AWS_18 names aws_s3_bucket.input, which the check does not fail for: remove it from "
        "scan-waivers.toml"
    ) in scanned.lines()


def test_classify_fails_a_file_checkov_could_not_parse() -> None:
    scanned = classify(
        Path("/s"), report([], [finding("CKV_AWS_18", "aws_s3_bucket.input")], ("/s/extra.tf.json",)), [LOGGING]
    )
    assert scanned.unparsed == ("extra.tf.json",) and not scanned.ok
    assert (
        "  UNPARSED extra.tf.json: checkov could not parse it, so none of its resources was checked" in scanned.lines()
    )


def test_classify_names_a_resource_check_finding_by_its_full_address(tmp_path: Path) -> None:
    """checkov 3.3.30 names a resource check's resource `resource.<name>`; the file and line give its type."""
    document = {
        "resource": {"aws_s3_bucket": {"input": {"bucket": "b"}}, "aws_s3_bucket_policy": {"input": {"policy": "{}"}}}
    }
    (tmp_path / "cdk.tf.json").write_text(json.dumps(document, indent=2), encoding="utf-8")
    assert resource_lines((tmp_path / "cdk.tf.json").read_text(encoding="utf-8")) == {
        4: "aws_s3_bucket.input",
        9: "aws_s3_bucket_policy.input",
    }
    raw = {**finding("CKV_CCI_1", "resource.input"), "file_line_range": [9, 11]}
    scanned = classify(tmp_path, report([], [raw]), [])
    assert [f.address for f in scanned.failed] == ["aws_s3_bucket_policy.input"]


# --- an adopted stack's imports.tf.json -----------------------------------------------------------

IMPORTS = {
    "//": {"adopt_file": "adopt.json", "tenant_records_outside_terraform": []},
    "import": [{"to": "aws_s3_bucket.input", "id": "cci-lite-input-591338347562-eu-central-1"}],
}


def test_scan_of_an_adopted_stack_leaves_only_import_blocks_out_and_says_so(synth_file: Path, tmp_path: Path) -> None:
    require_tool("checkov", checkov_binary())
    stack_dir = tmp_path / "adopted"
    shutil.copytree(synth_file.parent, stack_dir)
    (stack_dir / "imports.tf.json").write_text(json.dumps(IMPORTS), encoding="utf-8")
    scanned = scan(stack_dir, load_waivers())
    assert scanned.ok and scanned.unparsed == (), scanned.lines()
    assert scanned.notes == (
        "imports.tf.json: 1 import block(s) and nothing else: left out of the scan, as the pinned checkov cannot "
        "parse import blocks; they name resources of cdk.tf.json, which is scanned",
    )
    assert {(f.check, f.address) for f, _ in scanned.skipped} == WAIVED


def test_scan_of_an_adopted_stack_checks_its_marker_file_without_a_parsing_error(
    synth_file: Path, tmp_path: Path
) -> None:
    from constructs_lib.adoption import MARKER_FILE, render_marker

    require_tool("checkov", checkov_binary())
    stack_dir = tmp_path / "adopted"
    shutil.copytree(synth_file.parent, stack_dir)
    (stack_dir / "imports.tf.json").write_text(json.dumps(IMPORTS), encoding="utf-8")
    (stack_dir / MARKER_FILE).write_text(render_marker("adopt.json"), encoding="utf-8")
    scanned = scan(stack_dir, load_waivers())
    assert scanned.ok and scanned.unparsed == (), scanned.lines()
    assert {(f.check, f.address) for f, _ in scanned.skipped} == WAIVED


def test_scan_of_an_imports_file_holding_more_than_import_blocks_checks_it(synth_file: Path, tmp_path: Path) -> None:
    require_tool("checkov", checkov_binary())
    stack_dir = tmp_path / "adopted"
    shutil.copytree(synth_file.parent, stack_dir)
    smuggled = {**IMPORTS, "resource": {"aws_s3_bucket": {"extra": {"bucket": "extra"}}}}
    (stack_dir / "imports.tf.json").write_text(json.dumps(smuggled), encoding="utf-8")
    assert imports_only(stack_dir / "imports.tf.json") is None
    scanned = scan(stack_dir, load_waivers())
    assert not scanned.ok and scanned.notes == ()
    assert scanned.unparsed == ("imports.tf.json",) or any(f.address == "aws_s3_bucket.extra" for f in scanned.failed)


# --- the waiver file ---------------------------------------------------------------------------------


def test_waivers_file_names_machine_readable_addresses_with_reasons() -> None:
    for waiver in load_waivers(WAIVERS_FILE):
        assert waiver.reason and waiver.compensates and waiver.title
        assert all(address.startswith("aws_s3_bucket.") for address in waiver.resources)


def test_refuses_waivers_without_reason_with_unknown_fields_or_loose_addresses_all_at_once(tmp_path: Path) -> None:
    path = tmp_path / "scan-waivers.toml"
    path.write_text(
        '[[waiver]]\ncheck = "CKV_AWS_18"\ntitle = "logging"\nresources = ["all three buckets"]\ncompensates = "x"\n'
        'reasn = "typo"\n\n'
        '[[waiver]]\ncheck = "logging"\ntitle = "t"\nresources = ["aws_s3_bucket.input", "aws_s3_bucket.input"]\n'
        'reason = "r"\ncompensates = ""\n',
        encoding="utf-8",
    )
    with pytest.raises(WaiverError) as error:
        load_waivers(path)
    assert error.value.problems == [
        "scan-waivers.toml: waiver[0] (CKV_AWS_18): unknown field 'reasn'; allowed: check, title, resources, reason, compensates",
        "scan-waivers.toml: waiver[0] (CKV_AWS_18): reason is missing",
        "scan-waivers.toml: waiver[0] (CKV_AWS_18): resources: 'all three buckets' is not a Terraform resource address such as aws_s3_bucket.input",
        "scan-waivers.toml: waiver[1] (logging): compensates must be a non-empty string, got ''",
        "scan-waivers.toml: waiver[1] (logging): check must be a checkov check id such as CKV_AWS_18, got 'logging'",
        "scan-waivers.toml: waiver[1] (logging): logging on aws_s3_bucket.input is waived already by waiver[1]",
    ]


def test_refuses_a_waiver_file_that_is_not_toml_in_one_line(tmp_path: Path) -> None:
    path = tmp_path / "scan-waivers.toml"
    path.write_text("[[waiver]\n", encoding="utf-8")
    with pytest.raises(WaiverError) as error:
        load_waivers(path)
    (problem,) = error.value.problems
    assert problem.startswith("scan-waivers.toml: is not valid TOML: ")
