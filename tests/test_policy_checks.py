"""checkov on the synthesized stack, and the project's own checks on passing and failing examples."""

from __future__ import annotations

import json
from pathlib import Path
from typing import Any

import pytest

from cci_tools.audit import read_waivers
from cci_tools.scan import CONFIG, checkov_binary, run_checkov
from tests.helpers import require_tool

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


def test_synthesized_stack_passes_checkov_with_only_the_documented_waivers(synth_file: Path) -> None:
    require_tool("checkov", checkov_binary())
    result = run_checkov(synth_file.parent, "-o", "json")
    report = json.loads(result.stdout)
    assert report["results"].get("failed_checks", []) == [], result.stdout
    assert result.returncode == 0
    passed = {(f["check_id"], f["resource"].split(".")[-1]) for f in report["results"]["passed_checks"]}
    for expected in [
        ("CKV_CCI_1", "input"),
        ("CKV_CCI_1", "results"),
        ("CKV_CCI_1", "athena_staging"),
        ("CKV_CCI_2", "input"),
        ("CKV_CCI_2", "results"),
        ("CKV_CCI_3", "tenant_config"),
        ("CKV_CCI_4", "master"),
        ("CKV_CCI_5", "master"),
        ("CKV_AWS_7", "master"),  # stock: key rotation
        ("CKV_AWS_145", "input"),  # stock: SSE-KMS
        ("CKV_AWS_28", "tenant_config"),  # stock: point-in-time recovery
    ]:
        assert expected in passed, expected
    waived = [w.check_id for w in read_waivers(CONFIG)]
    assert waived == ["CKV_AWS_144", "CKV_AWS_18", "CKV2_AWS_62"]
    assert all(w.reason and w.resources and w.compensates for w in read_waivers(CONFIG))
