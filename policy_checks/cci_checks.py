"""Project-owned checkov checks for what stock checkov does not see in this design.

Loaded with ``checkov --external-checks-dir policy_checks`` (see .checkov.yaml). Each
check reads one resource of the synthesized Terraform JSON; checkov hands over every
attribute wrapped in a list. tests/test_policy_checks.py feeds each a passing and a
failing example.

- CKV_CCI_1  aws_s3_bucket_policy: denies every request without TLS, on the bucket and its objects.
- CKV_CCI_2  aws_s3_bucket_lifecycle_configuration: expiring current versions also expires
             noncurrent versions (on a versioned bucket an expiry only adds a delete marker).
- CKV_CCI_3  aws_dynamodb_table: deletion protection is on.
- CKV_CCI_4  aws_kms_key: every Allow for a service principal names the account: aws:SourceAccount,
             or an aws:SourceArn whose every value has a concrete account id.
- CKV_CCI_5  policies: no IAM policy variable (``${aws:...}``) reaches Terraform unescaped.
"""

from __future__ import annotations

import json
import re
from typing import Any

from checkov.common.models.enums import CheckCategories, CheckResult
from checkov.terraform.checks.resource.base_resource_check import BaseResourceCheck


def _first(conf: dict[str, Any], key: str) -> Any:
    value = conf.get(key)
    return value[0] if isinstance(value, list) and value else value


def _policy(conf: dict[str, Any]) -> dict[str, Any] | None:
    """The policy document, with Terraform's ``$${`` escape read back as ``${``."""
    raw = _first(conf, "policy")
    if not isinstance(raw, str):
        return None
    try:
        document = json.loads(raw.replace("$${", "${"))
    except json.JSONDecodeError:
        return None
    return document if isinstance(document, dict) else None


def _statements(document: dict[str, Any]) -> list[dict[str, Any]]:
    statements = document.get("Statement", [])
    return [s for s in (statements if isinstance(statements, list) else [statements]) if isinstance(s, dict)]


def _as_list(value: Any) -> list[Any]:
    return value if isinstance(value, list) else [value]


class BucketDeniesInsecureTransport(BaseResourceCheck):
    def __init__(self) -> None:
        super().__init__(
            name="Ensure the bucket policy denies every request that does not use TLS",
            id="CKV_CCI_1",
            categories=[CheckCategories.NETWORKING],
            supported_resources=["aws_s3_bucket_policy"],
        )

    def scan_resource_conf(self, conf: dict[str, Any]) -> CheckResult:
        document = _policy(conf)
        for statement in _statements(document or {}):
            condition = statement.get("Condition", {}).get("Bool", {}).get("aws:SecureTransport")
            resources = [str(r) for r in _as_list(statement.get("Resource", []))]
            if (
                statement.get("Effect") == "Deny"
                and statement.get("Principal") in ("*", {"AWS": "*"})
                and "s3:*" in _as_list(statement.get("Action"))
                and str(condition).lower() == "false"
                and any(r.endswith("/*") for r in resources)
                and any(not r.endswith("/*") for r in resources)
            ):
                return CheckResult.PASSED
        return CheckResult.FAILED


class ExpiryAlsoExpiresNoncurrentVersions(BaseResourceCheck):
    def __init__(self) -> None:
        super().__init__(
            name="Ensure a lifecycle that expires current versions also expires noncurrent versions",
            id="CKV_CCI_2",
            categories=[CheckCategories.GENERAL_SECURITY],
            supported_resources=["aws_s3_bucket_lifecycle_configuration"],
        )

    def scan_resource_conf(self, conf: dict[str, Any]) -> CheckResult:
        rules = [r for r in conf.get("rule", []) if isinstance(r, dict) and _first(r, "status") == "Enabled"]
        expires = any(_first(e, "days") for r in rules for e in r.get("expiration", []) if isinstance(e, dict))
        noncurrent = any(
            _first(n, "noncurrent_days") for r in rules for n in r.get("noncurrent_version_expiration", [])
        )
        return CheckResult.FAILED if expires and not noncurrent else CheckResult.PASSED


class TableHasDeletionProtection(BaseResourceCheck):
    def __init__(self) -> None:
        super().__init__(
            name="Ensure the DynamoDB table has deletion protection",
            id="CKV_CCI_3",
            categories=[CheckCategories.BACKUP_AND_RECOVERY],
            supported_resources=["aws_dynamodb_table"],
        )

    def scan_resource_conf(self, conf: dict[str, Any]) -> CheckResult:
        return CheckResult.PASSED if _first(conf, "deletion_protection_enabled") is True else CheckResult.FAILED


_ACCOUNT_IN_ARN = re.compile(r"^arn:[^:]+:[^:]+:[^:]*:\d{12}:")


def _scoped_to_an_account(statement: dict[str, Any]) -> bool:
    """aws:SourceAccount, or aws:SourceArn with a 12-digit account in every value, under a
    matching (not negated) operator.

    Both guard against the confused deputy; an aws:SourceArn that names the account
    is enough on its own (https://docs.aws.amazon.com/IAM/latest/UserGuide/confused-deputy.html).
    """
    for operator, pairs in statement.get("Condition", {}).items():
        if not isinstance(pairs, dict):
            continue
        for key, values in pairs.items():
            if key.lower() == "aws:sourceaccount" and operator in ("StringEquals", "ArnEquals"):
                return True
            if key.lower() == "aws:sourcearn" and operator in ("ArnEquals", "ArnLike", "StringEquals", "StringLike"):
                arns = [str(v) for v in _as_list(values)]
                if arns and all(_ACCOUNT_IN_ARN.match(a) for a in arns):
                    return True
    return False


class ServicePrincipalsCarrySourceAccount(BaseResourceCheck):
    def __init__(self) -> None:
        super().__init__(
            name="Ensure every key-policy Allow for a service principal is scoped to the account "
            "(aws:SourceAccount, or aws:SourceArn naming it)",
            id="CKV_CCI_4",
            categories=[CheckCategories.IAM],
            supported_resources=["aws_kms_key"],
        )

    def scan_resource_conf(self, conf: dict[str, Any]) -> CheckResult:
        document = _policy(conf)
        if document is None:
            return CheckResult.FAILED
        for statement in _statements(document):
            principal = statement.get("Principal")
            is_service = isinstance(principal, dict) and "Service" in principal
            if is_service and statement.get("Effect") == "Allow" and not _scoped_to_an_account(statement):
                return CheckResult.FAILED
        return CheckResult.PASSED


_UNESCAPED_VARIABLE = re.compile(r"(?<!\$)\$\{aws:")


class PolicyVariablesAreEscaped(BaseResourceCheck):
    def __init__(self) -> None:
        super().__init__(
            name="Ensure IAM policy variables reach Terraform escaped ($${aws:...}), not as interpolation",
            id="CKV_CCI_5",
            categories=[CheckCategories.IAM],
            supported_resources=["aws_kms_key", "aws_s3_bucket_policy", "aws_iam_policy", "aws_iam_role_policy"],
        )

    def scan_resource_conf(self, conf: dict[str, Any]) -> CheckResult:
        raw = _first(conf, "policy")
        if isinstance(raw, str) and _UNESCAPED_VARIABLE.search(raw):
            return CheckResult.FAILED
        return CheckResult.PASSED


check_1 = BucketDeniesInsecureTransport()
check_2 = ExpiryAlsoExpiresNoncurrentVersions()
check_3 = TableHasDeletionProtection()
check_4 = ServicePrincipalsCarrySourceAccount()
check_5 = PolicyVariablesAreEscaped()
