"""Policy documents as plain data, with no jsii import.

Each function returns an IAM policy document (a dict). ``terraform_string`` turns one
into the string that goes into the Terraform JSON, escaping ``${`` and ``%{`` so that
IAM policy variables such as ``${aws:PrincipalTag/tenant_id}`` reach AWS literally
instead of being read by Terraform as interpolation.

Key policy statements, in this fixed order (Sids are stable; auditors diff on them):

1. ``EnableRootAccountPermissions``: the account root, ``kms:*``. Keeps the key
   manageable and lets IAM policies grant use. (KMS default key policy.)
2. ``AllowKeyAdministration``: configured admin roles, administrative actions only,
   no cryptographic use. Left out when no admin role is configured.
3. ``AllowServicePrincipalUse``: the seed's service principals, usage actions only,
   scoped with ``aws:SourceAccount`` against the confused-deputy problem.
4. ``DenyTenantContextMismatch``: the seed's reserved tenant guard. A principal
   tagged ``tenant_id`` that names a ``kms:EncryptionContext:tenant_id`` must name its
   own tenant. It is a Deny, not the seed's Allow, because an Allow beside statement 1
   would grant nothing new; as a Deny it stays dormant until roles carry the tag and
   then really isolates tenants. Requests without a tenant_id context key (S3 with
   bucket keys uses the bucket ARN as context) are not affected.
5. ``AllowLambdaRoleForGuardedTenants``: the seed's per-tenant guard (replication
   guide, step 3) for every tenant with ``kms_guard``, in one statement, so that
   1,000 guarded tenants stay under KMS's 32 KB policy limit. Left out when no
   tenant is guarded.
"""

from __future__ import annotations

import json
from collections.abc import Sequence
from typing import Any

from constructs_lib.config import Settings, Tenant
from constructs_lib.errors import ConfigError
from constructs_lib.naming import Names

PolicyDocument = dict[str, Any]

#: KMS refuses a key policy larger than 32 KB.
#: https://docs.aws.amazon.com/kms/latest/developerguide/resource-limits.html
KMS_KEY_POLICY_MAX_BYTES = 32768

#: The seed's service principals: Lambda, Glue, QuickSight, Transcribe, EventBridge, S3.
SERVICE_PRINCIPALS: tuple[str, ...] = (
    "events.amazonaws.com",
    "glue.amazonaws.com",
    "lambda.amazonaws.com",
    "quicksight.amazonaws.com",
    "s3.amazonaws.com",
    "transcribe.amazonaws.com",
)

#: Usage without administration (KMS default policy, "Allow use of the key").
KMS_USAGE_ACTIONS: tuple[str, ...] = (
    "kms:Decrypt",
    "kms:DescribeKey",
    "kms:Encrypt",
    "kms:GenerateDataKey*",
    "kms:ReEncrypt*",
)
#: Operations that take an encryption context, so a context condition can apply.
KMS_CRYPTO_ACTIONS: tuple[str, ...] = (
    "kms:Decrypt",
    "kms:Encrypt",
    "kms:GenerateDataKey*",
    "kms:ReEncrypt*",
)

#: Administration without use (KMS default policy, "Allow access for Key Administrators").
KMS_ADMIN_ACTIONS: tuple[str, ...] = (
    "kms:CancelKeyDeletion",
    "kms:Create*",
    "kms:Delete*",
    "kms:Describe*",
    "kms:Disable*",
    "kms:Enable*",
    "kms:Get*",
    "kms:List*",
    "kms:Put*",
    "kms:Revoke*",
    "kms:RotateKeyOnDemand",
    "kms:ScheduleKeyDeletion",
    "kms:TagResource",
    "kms:UntagResource",
    "kms:Update*",
)

#: The IAM policy variable of the reserved guard, as AWS must receive it.
PRINCIPAL_TENANT_TAG = "${aws:PrincipalTag/tenant_id}"
TENANT_CONTEXT_KEY = "kms:EncryptionContext:tenant_id"


def key_policy(settings: Settings, tenants: Sequence[Tenant]) -> PolicyDocument:
    """The key policy for the foundation key. Raises ConfigError past 32 KB."""
    names = Names(settings=settings)
    statements: list[dict[str, Any]] = [
        {
            "Sid": "EnableRootAccountPermissions",
            "Effect": "Allow",
            "Principal": {"AWS": names.account_root_arn},
            "Action": "kms:*",
            "Resource": "*",
        }
    ]
    if settings.key_admin_role_arns:
        statements.append(
            {
                "Sid": "AllowKeyAdministration",
                "Effect": "Allow",
                "Principal": {"AWS": sorted(settings.key_admin_role_arns)},
                "Action": list(KMS_ADMIN_ACTIONS),
                "Resource": "*",
            }
        )
    statements.append(
        {
            "Sid": "AllowServicePrincipalUse",
            "Effect": "Allow",
            "Principal": {"Service": list(SERVICE_PRINCIPALS)},
            "Action": list(KMS_USAGE_ACTIONS),
            "Resource": "*",
            "Condition": {"StringEquals": {"aws:SourceAccount": settings.account_id}},
        }
    )
    statements.append(
        {
            "Sid": "DenyTenantContextMismatch",
            "Effect": "Deny",
            "Principal": {"AWS": "*"},
            "Action": list(KMS_CRYPTO_ACTIONS),
            "Resource": "*",
            "Condition": {
                "StringNotEquals": {TENANT_CONTEXT_KEY: PRINCIPAL_TENANT_TAG},
                "Null": {
                    "aws:PrincipalTag/tenant_id": "false",
                    TENANT_CONTEXT_KEY: "false",
                },
            },
        }
    )
    guarded = sorted(t.tenant_id for t in tenants if t.kms_guard)
    if guarded:
        statements.append(
            {
                "Sid": "AllowLambdaRoleForGuardedTenants",
                "Effect": "Allow",
                "Principal": {"AWS": settings.lambda_role_arn},
                "Action": list(KMS_CRYPTO_ACTIONS),
                "Resource": "*",
                "Condition": {"StringEquals": {TENANT_CONTEXT_KEY: guarded}},
            }
        )
    document = {"Version": "2012-10-17", "Statement": statements}
    size = policy_size(document)
    if size > KMS_KEY_POLICY_MAX_BYTES:
        raise ConfigError(
            [
                f"key policy would be {size} bytes with {len(guarded)} guarded tenants; KMS refuses "
                f"more than {KMS_KEY_POLICY_MAX_BYTES}. Guard fewer tenants (set kms_guard to false) "
                "or shorten their tenant ids"
            ]
        )
    return document


def bucket_policy(settings: Settings, role: str) -> PolicyDocument:
    """Deny every request to the bucket and its objects that does not use TLS.

    https://docs.aws.amazon.com/AmazonS3/latest/userguide/security-best-practices.html
    """
    arn = Names(settings=settings).bucket_arn(role)
    return {
        "Version": "2012-10-17",
        "Statement": [
            {
                "Sid": "DenyInsecureTransport",
                "Effect": "Deny",
                "Principal": "*",
                "Action": "s3:*",
                "Resource": [arn, f"{arn}/*"],
                "Condition": {"Bool": {"aws:SecureTransport": "false"}},
            }
        ],
    }


def compact_json(value: Any) -> str:
    """Compact JSON with a fixed key order, as AWS receives it (before escaping)."""
    return json.dumps(value, separators=(",", ":"), ensure_ascii=False)


def policy_size(document: PolicyDocument) -> int:
    """Size in bytes as KMS and IAM count it: the document AWS receives."""
    return len(compact_json(document).encode("utf-8"))


def escape_terraform(text: str) -> str:
    """Escape Terraform template sequences so ``text`` reaches AWS unchanged.

    Terraform JSON syntax reads ``${`` and ``%{`` in every string as template
    interpolation or directives; ``$${`` and ``%%{`` are their literal forms.
    https://developer.hashicorp.com/terraform/language/expressions/strings#escape-sequences
    """
    return text.replace("${", "$${").replace("%{", "%%{")


def terraform_string(value: Any) -> str:
    """A JSON document as a Terraform JSON string literal: compact and escaped."""
    return escape_terraform(compact_json(value))
