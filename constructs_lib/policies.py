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
3. One statement per service that calls KMS with its own service principal, each
   narrowed to what AWS documents for that service (see ``SERVICE_USES``):
   ``AllowEventBridgeDescribeKey``, ``AllowEventBridgeEventBusEncryption``,
   ``AllowLambdaFilterCriteriaDecrypt``, ``AllowS3ServiceForStackBuckets``.
4. ``DenyTenantContextMismatch``: the seed's reserved tenant guard (ABAC). A principal
   tagged ``tenant_id`` that names a ``kms:EncryptionContext:tenant_id`` must name its
   own tenant, in every operation that accepts an encryption context, grants included.
5. ``DenyTenantGrantWithoutOwnContext``: a principal tagged ``tenant_id`` may create
   a grant only if the grant is constrained to a ``tenant_id`` context (which 4 then
   holds to its own tenant); grants an AWS service creates for an AWS resource are
   exempt.
6. ``DenyTenantKeyManagement``: a principal tagged ``tenant_id`` may only use the
   key (the cryptographic actions of ``KMS_TENANT_USE_ACTIONS``, grants held by 5),
   never manage it (PutKeyPolicy, ScheduleKeyDeletion, DisableKey, CreateAlias...),
   whatever IAM grants; the key administrators and the pipeline role are exempt in
   case they carry the tag.
7. ``DenyGuardedTenantContextToOthers``: the per-tenant guard. A guarded tenant's
   context is usable by the pipeline role only, whatever IAM grants; one statement
   lists every guarded tenant. Left out when no tenant is guarded.

Statements 4 to 7 are Denies because statement 1 lets IAM grant anything: an Allow
beside it would add nothing, and only a Deny restricts. A key-policy Deny also takes
precedence over grants ("it takes precedence over all grants for this KMS key",
https://docs.aws.amazon.com/kms/latest/developerguide/conditions-kms.html#conditions-kms-encryption-algorithm).
The condition key's name is matched without regard to case, so ``TENANT_ID`` is caught
too (same page, "Case sensitivity of the encryption context condition"). Requests
without a ``tenant_id`` context (S3 with bucket keys uses the bucket ARN as context)
are not affected by any of them.

Bucket policy statements, the same four in every bucket:

1. ``DenyInsecureTransport``: no request without TLS.
2. ``DenyTenantObjectsOutsideOwnPrefix``: a principal tagged ``tenant_id`` touches
   objects only under ``<tenant_id>/``.
3. ``DenyTenantListingOutsideOwnPrefix``: and lists only with a prefix under it.
4. ``DenyTenantBucketManagement``: and on the bucket itself may only list it and read
   its region (``TENANT_BUCKET_ACTIONS``): no bucket policy, lifecycle, versioning,
   encryption or any other bucket setting, whatever IAM grants.

The key and bucket Denies for tagged principals confine tagged principals only: a
principal without the tag (any role IAM allows, the pipeline's included) reaches every
tenant's objects, and every unguarded tenant's encryption context. The KMS guard (7)
protects direct use of the key with a guarded tenant's context, not S3 objects, which
S3 encrypts with the bucket ARN as context.

``STATEMENT_SENTENCES`` says what each statement does in one plain sentence; the audit
report and the README quote them, and tests keep the three in agreement.
``KEY_POLICY_SIDS`` lists every key-policy statement the generator can write, in order,
and ``ABSENT_BECAUSE`` says, for each one that may be left out, when and why: the audit
report lists an absent statement as absent, with that reason.
"""

from __future__ import annotations

import json
from collections.abc import Sequence
from dataclasses import dataclass
from typing import Any

from constructs_lib.config import Settings, Tenant
from constructs_lib.errors import ConfigError
from constructs_lib.naming import BUCKET_ROLES, Names

PolicyDocument = dict[str, Any]

#: KMS refuses a key policy larger than 32 KB.
#: https://docs.aws.amazon.com/kms/latest/developerguide/resource-limits.html
KMS_KEY_POLICY_MAX_BYTES = 32768

#: Every KMS operation that accepts ``kms:EncryptionContext:<key>``: the cryptographic
#: operations and CreateGrant, where the context comes from the grant's constraints
#: (EncryptionContextEquals or EncryptionContextSubset). GenerateDataKey* covers
#: GenerateDataKey, GenerateDataKeyPair, GenerateDataKeyPairWithoutPlaintext and
#: GenerateDataKeyWithoutPlaintext; ReEncrypt* covers ReEncryptFrom and ReEncryptTo.
#: https://docs.aws.amazon.com/kms/latest/developerguide/conditions-kms.html#conditions-kms-encryption-context
KMS_CONTEXT_ACTIONS: tuple[str, ...] = (
    "kms:CreateGrant",
    "kms:Decrypt",
    "kms:Encrypt",
    "kms:GenerateDataKey*",
    "kms:ReEncrypt*",
)

#: What a principal tagged ``tenant_id`` may do with the key: the cryptographic use a
#: tenant workload needs, and DescribeKey (SDKs and S3 read a key's metadata). CreateGrant
#: is here because DenyTenantGrantWithoutOwnContext and DenyTenantContextMismatch already
#: hold a tagged principal's grants to its own tenant_id context. Everything else
#: (PutKeyPolicy, ScheduleKeyDeletion, DisableKey, CreateAlias, TagResource...) is denied
#: to it by DenyTenantKeyManagement.
#: https://docs.aws.amazon.com/kms/latest/developerguide/kms-api-permissions-reference.html
KMS_TENANT_USE_ACTIONS: tuple[str, ...] = (
    "kms:CreateGrant",
    "kms:Decrypt",
    "kms:DescribeKey",
    "kms:Encrypt",
    "kms:GenerateDataKey*",
    "kms:ReEncrypt*",
)

#: What a principal tagged ``tenant_id`` may do on a bucket itself (not its objects):
#: list it (held to its own prefix by DenyTenantListingOutsideOwnPrefix) and read its
#: region, which SDKs and Athena ask for. Every other bucket action (PutBucketPolicy,
#: PutLifecycleConfiguration, PutBucketVersioning, PutEncryptionConfiguration,
#: DeleteBucket...) is denied to it by DenyTenantBucketManagement.
#: https://docs.aws.amazon.com/service-authorization/latest/reference/list_amazons3.html
TENANT_BUCKET_ACTIONS: tuple[str, ...] = ("s3:GetBucketLocation", "s3:ListBucket", "s3:ListBucketVersions")

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

#: The principal tag the tenant guards trust, and the IAM policy variable that reads it,
#: as AWS must receive it.
TENANT_TAG_KEY = "aws:PrincipalTag/tenant_id"
PRINCIPAL_TENANT_TAG = "${aws:PrincipalTag/tenant_id}"
TENANT_CONTEXT_KEY = "kms:EncryptionContext:tenant_id"

#: What each statement does, in one plain sentence, by Sid. AUDIT.md and the README
#: quote these; tests/test_policies.py keeps every emitted Sid described.
STATEMENT_SENTENCES: dict[str, str] = {
    "EnableRootAccountPermissions": (
        "The account may manage the key and grant its use through IAM policies (the KMS default); "
        "every Deny below still applies to what IAM grants."
    ),
    "AllowKeyAdministration": (
        "The configured key administrators may manage the key but not use it to encrypt or decrypt."
    ),
    "AllowEventBridgeDescribeKey": "EventBridge, acting for this account, may read the key's metadata.",
    "AllowEventBridgeEventBusEncryption": (
        "EventBridge, acting for this account, may encrypt and decrypt only the events of this account's "
        "event buses and archives in this region."
    ),
    "AllowLambdaFilterCriteriaDecrypt": (
        "Lambda may decrypt only the filter criteria of this account's event source mappings in this region."
    ),
    "AllowS3ServiceForStackBuckets": (
        "S3, acting for one of this stack's buckets, may generate and decrypt data keys "
        "(inventory reports, notifications to encrypted queues)."
    ),
    "DenyTenantContextMismatch": (
        "A principal tagged tenant_id cannot use the key, or create a grant, with another tenant's "
        "tenant_id encryption context."
    ),
    "DenyTenantGrantWithoutOwnContext": (
        "A principal tagged tenant_id cannot create a grant that is not constrained to a tenant_id "
        "encryption context, unless an AWS service creates it for an AWS resource."
    ),
    "DenyTenantKeyManagement": (
        "A principal tagged tenant_id may only use the key (encrypt, decrypt, re-encrypt, generate data keys, "
        "describe it, create a grant held to its own context), never manage it (key policy, deletion, disabling, "
        "aliases, tags, rotation), whatever IAM allows; the key administrators and the pipeline role are exempt."
    ),
    "DenyGuardedTenantContextToOthers": (
        "Only the pipeline role may use the key, or create a grant, with a guarded tenant's tenant_id "
        "encryption context; every other principal is denied, the account root and key administrators "
        "included, whatever IAM allows."
    ),
    "DenyInsecureTransport": "Every request to the bucket or its objects without TLS is denied.",
    "DenyTenantObjectsOutsideOwnPrefix": (
        "A principal tagged tenant_id cannot read, write, delete or upload any object outside its own prefix "
        "(its tenant_id and a slash) in this bucket."
    ),
    "DenyTenantListingOutsideOwnPrefix": (
        "A principal tagged tenant_id can list objects and versions only with a prefix inside its own prefix, "
        "and cannot list multipart uploads, which a policy cannot limit by prefix."
    ),
    "DenyTenantBucketManagement": (
        "A principal tagged tenant_id can only list the bucket and read its region, never change or read its "
        "settings (bucket policy, lifecycle, versioning, encryption, notifications) or delete it, whatever IAM allows."
    ),
}

#: What the KMS guard does not do, in plain words: AUDIT.md's tenants section and the README
#: say it beside the guard (tests/test_audit.py and tests/test_policies.py hold both).
GUARD_IS_NOT_S3_ISOLATION = (
    "The KMS guard is not S3 isolation: S3 encrypts objects with the bucket ARN as encryption context, never "
    "tenant_id, so no guard applies to them, and a guarded tenant's objects stay readable by every principal "
    "without the tenant_id tag that IAM allows (the pipeline's roles included); the bucket policies confine only "
    "principals tagged tenant_id to their own prefix."
)


#: Every statement the key policy can hold, in the order key_policy writes them.
KEY_POLICY_SIDS: tuple[str, ...] = (
    "EnableRootAccountPermissions",
    "AllowKeyAdministration",
    "AllowEventBridgeDescribeKey",
    "AllowEventBridgeEventBusEncryption",
    "AllowLambdaFilterCriteriaDecrypt",
    "AllowS3ServiceForStackBuckets",
    "DenyTenantContextMismatch",
    "DenyTenantGrantWithoutOwnContext",
    "DenyTenantKeyManagement",
    "DenyGuardedTenantContextToOthers",
)

#: The key-policy statements that may be absent, by Sid: why an absent one is absent
#: (the only reason key_policy leaves it out). AUDIT.md prints it beside the Sid;
#: tests/test_policies.py holds this in agreement with key_policy.
ABSENT_BECAUSE: dict[str, str] = {
    "AllowKeyAdministration": "no key_admin_role_arns configured (the default)",
    "DenyGuardedTenantContextToOthers": "no tenant has kms_guard",
}


@dataclass(frozen=True, kw_only=True)
class ServiceUse:
    """How the key policy treats one service the design record names.

    ``sids`` are the key-policy statements for its service principal; none means the
    principal is not in the key policy, and ``reason`` says why (with ``doc``, the AWS
    page that shows how that service reaches KMS).
    """

    service: str
    design_principal: str
    sids: tuple[str, ...]
    reason: str
    doc: str


#: The six services of the design record ("root + admin + AWS service principals
#: (Lambda, Glue, QuickSight, Transcribe, EventBridge, S3)"), in its order.
SERVICE_USES: tuple[ServiceUse, ...] = (
    ServiceUse(
        service="Lambda",
        design_principal="lambda.amazonaws.com",
        sids=("AllowLambdaFilterCriteriaDecrypt",),
        reason=(
            "Lambda calls KMS with its own principal only to decrypt the filter criteria of an event "
            "source mapping, and then as the regional principal lambda.{region}.amazonaws.com; "
            "environment variables and code are encrypted with the caller's permissions and a grant."
        ),
        doc="https://docs.aws.amazon.com/lambda/latest/dg/invocation-eventfiltering.html#filter-criteria-encryption",
    ),
    ServiceUse(
        service="Glue",
        design_principal="glue.amazonaws.com",
        sids=(),
        reason=(
            "Glue uses a customer key with the credentials of its caller or of a role: Data Catalog "
            "clients, crawlers, jobs and development endpoints need KMS permissions themselves, and "
            "catalog encryption with a service role uses that role; the service principal never needs the key."
        ),
        doc="https://docs.aws.amazon.com/glue/latest/dg/set-up-encryption.html",
    ),
    ServiceUse(
        service="QuickSight",
        design_principal="quicksight.amazonaws.com",
        sids=(),
        reason=(
            "QuickSight reads S3 and Athena data through its IAM service role, and uses a registered "
            "customer key for SPICE through a grant its administrator creates (kms:CreateGrant); "
            "the service principal never needs the key."
        ),
        doc="https://docs.aws.amazon.com/quicksight/latest/developerguide/cmk-operations.html",
    ),
    ServiceUse(
        service="Transcribe",
        design_principal="transcribe.amazonaws.com",
        sids=(),
        reason=(
            "Transcribe reads media and writes encrypted output with the permissions of the caller "
            "(or of the DataAccessRole it passes), which must be allowed kms:Encrypt and kms:Decrypt; "
            "the service principal never needs the key."
        ),
        doc="https://docs.aws.amazon.com/transcribe/latest/dg/security_iam_id-based-policy-examples.html",
    ),
    ServiceUse(
        service="EventBridge",
        design_principal="events.amazonaws.com",
        sids=("AllowEventBridgeDescribeKey", "AllowEventBridgeEventBusEncryption"),
        reason=(
            "EventBridge encrypts an event bus or archive with a customer key as its own principal, "
            "always with the event bus ARN as encryption context."
        ),
        doc="https://docs.aws.amazon.com/eventbridge/latest/userguide/eb-encryption-key-policy.html",
    ),
    ServiceUse(
        service="S3",
        design_principal="s3.amazonaws.com",
        sids=("AllowS3ServiceForStackBuckets",),
        reason=(
            "SSE-KMS uses the caller's credentials, but S3 uses its own principal to write inventory "
            "reports to an SSE-KMS bucket and to notify an encrypted queue or topic, always for a source "
            "bucket (aws:SourceArn)."
        ),
        doc="https://docs.aws.amazon.com/AmazonS3/latest/userguide/configure-inventory.html",
    ),
)


def key_policy(settings: Settings, tenants: Sequence[Tenant]) -> PolicyDocument:
    """The key policy for the foundation key, statements in the order of the module docstring.

    Raises ConfigError when the document would pass KMS's 32 KB limit.
    """
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
    statements += service_statements(settings)
    statements += tenant_guard_statements(settings, tenants)
    document = {"Version": "2012-10-17", "Statement": statements}
    size = policy_size(document)
    if size > KMS_KEY_POLICY_MAX_BYTES:
        guarded = sum(1 for t in tenants if t.kms_guard)
        raise ConfigError(
            [
                f"key policy would be {size} bytes with {guarded} guarded tenants; KMS refuses "
                f"more than {KMS_KEY_POLICY_MAX_BYTES}. Guard fewer tenants (set kms_guard to false) "
                "or shorten their tenant ids"
            ]
        )
    return document


def service_statements(settings: Settings) -> list[dict[str, Any]]:
    """The service-principal statements, each narrowed as its service's AWS doc shows.

    Every statement names the account (``aws:SourceAccount``, or an ``aws:SourceArn``
    with the account in it) against the confused-deputy problem:
    https://docs.aws.amazon.com/IAM/latest/UserGuide/confused-deputy.html
    """
    s = settings
    names = Names(settings=settings)
    account = {"aws:SourceAccount": s.account_id}
    return [
        # EventBridge checks the key (DescribeKey) before it encrypts a bus or archive with it.
        # https://docs.aws.amazon.com/eventbridge/latest/userguide/eb-encryption-key-policy.html
        {
            "Sid": "AllowEventBridgeDescribeKey",
            "Effect": "Allow",
            "Principal": {"Service": "events.amazonaws.com"},
            "Action": "kms:DescribeKey",
            "Resource": "*",
            "Condition": {"StringEquals": account},
        },
        # EventBridge encrypts event buses and archives as its own principal, always with
        # the bus ARN as encryption context; the context condition keeps it to this
        # account's buses in this region. Archives also re-encrypt.
        # https://docs.aws.amazon.com/eventbridge/latest/userguide/eb-encryption-event-bus-cmkey.html
        # https://docs.aws.amazon.com/eventbridge/latest/userguide/encryption-archives.html
        {
            "Sid": "AllowEventBridgeEventBusEncryption",
            "Effect": "Allow",
            "Principal": {"Service": "events.amazonaws.com"},
            "Action": ["kms:Decrypt", "kms:GenerateDataKey", "kms:ReEncrypt*"],
            "Resource": "*",
            "Condition": {
                "StringEquals": account,
                "StringLike": {
                    "kms:EncryptionContext:aws:events:event-bus:arn": (
                        f"arn:{s.partition}:events:{s.region}:{s.account_id}:event-bus/*"
                    )
                },
            },
        },
        # Lambda decrypts the encrypted filter criteria of an event source mapping as the
        # regional service principal, with aws:SourceArn the mapping and the function ARN
        # in the encryption context. AWS's example scopes it with aws:SourceArn alone.
        # https://docs.aws.amazon.com/lambda/latest/dg/invocation-eventfiltering.html#filter-criteria-encryption
        {
            "Sid": "AllowLambdaFilterCriteriaDecrypt",
            "Effect": "Allow",
            "Principal": {"Service": f"lambda.{s.region}.amazonaws.com"},
            "Action": "kms:Decrypt",
            "Resource": "*",
            "Condition": {
                "ArnLike": {
                    "aws:SourceArn": f"arn:{s.partition}:lambda:{s.region}:{s.account_id}:event-source-mapping:*"
                },
                "StringLike": {
                    "kms:EncryptionContext:aws:lambda:FunctionArn": (
                        f"arn:{s.partition}:lambda:{s.region}:{s.account_id}:function:*"
                    )
                },
            },
        },
        # S3 uses its own principal (not the caller's credentials, as SSE-KMS does) to
        # write inventory and analytics reports to an SSE-KMS bucket and to send event
        # notifications to an encrypted SQS queue or SNS topic, always for a source bucket.
        # https://docs.aws.amazon.com/AmazonS3/latest/userguide/configure-inventory.html
        # https://docs.aws.amazon.com/AmazonS3/latest/userguide/grant-destinations-permissions-to-s3.html
        {
            "Sid": "AllowS3ServiceForStackBuckets",
            "Effect": "Allow",
            "Principal": {"Service": "s3.amazonaws.com"},
            "Action": ["kms:Decrypt", "kms:GenerateDataKey"],
            "Resource": "*",
            "Condition": {
                "StringEquals": account,
                "ArnEquals": {"aws:SourceArn": [names.bucket_arn(role) for role in BUCKET_ROLES]},
            },
        },
    ]


def tenant_guard_statements(settings: Settings, tenants: Sequence[Tenant]) -> list[dict[str, Any]]:
    """The ABAC guard, the grant rule for tagged principals, and the per-tenant guard."""
    statements: list[dict[str, Any]] = [
        {
            "Sid": "DenyTenantContextMismatch",
            "Effect": "Deny",
            "Principal": {"AWS": "*"},
            "Action": list(KMS_CONTEXT_ACTIONS),
            "Resource": "*",
            "Condition": {
                "StringNotEquals": {TENANT_CONTEXT_KEY: PRINCIPAL_TENANT_TAG},
                "Null": {TENANT_TAG_KEY: "false", TENANT_CONTEXT_KEY: "false"},
            },
        },
        # A grant without a tenant_id constraint would let its grantee use any tenant's
        # context; the grantee may be a principal without the tag. Grants an integrated
        # AWS service creates for an AWS resource (kms:GrantIsForAWSResource) carry that
        # service's own context and constraints, so they stay possible.
        # https://docs.aws.amazon.com/kms/latest/developerguide/conditions-kms.html#conditions-kms-grant-is-for-aws-resource
        {
            "Sid": "DenyTenantGrantWithoutOwnContext",
            "Effect": "Deny",
            "Principal": {"AWS": "*"},
            "Action": "kms:CreateGrant",
            "Resource": "*",
            "Condition": {
                "Null": {TENANT_TAG_KEY: "false", TENANT_CONTEXT_KEY: "true"},
                "BoolIfExists": {"kms:GrantIsForAWSResource": "false"},
            },
        },
        # Statement 1 lets IAM grant kms:* to anyone, a tagged tenant workload included; a
        # tenant must not be able to rewrite the key policy (and lift every guard), schedule
        # the key's deletion or disable it. The key administrators and the pipeline role
        # are exempt by aws:PrincipalArn, as in the per-tenant guard, should they carry the tag.
        # https://docs.aws.amazon.com/kms/latest/developerguide/key-policy-default.html
        {
            "Sid": "DenyTenantKeyManagement",
            "Effect": "Deny",
            "Principal": {"AWS": "*"},
            "NotAction": list(KMS_TENANT_USE_ACTIONS),
            "Resource": "*",
            "Condition": {
                "Null": {TENANT_TAG_KEY: "false"},
                "ArnNotEquals": {"aws:PrincipalArn": tenant_management_exempt(settings)},
            },
        },
    ]
    guarded = sorted(t.tenant_id for t in tenants if t.kms_guard)
    if guarded:
        # Exempt by aws:PrincipalArn, which AWS sets on every signed request: for a role
        # session it is the role's ARN, so every session of the pipeline role is exempt.
        # No kms:ViaService exemption: a service acting for the pipeline role (S3,
        # DynamoDB) calls KMS as that role, and one for any other principal must not
        # reach the context. Service principals carry no principal ARN, so they are
        # denied too, and so are grantees (a key-policy Deny takes precedence over
        # grants). The root user and key administrators are not exempt; they keep
        # kms:PutKeyPolicy, so lifting a guard is a visible, logged policy change.
        # https://docs.aws.amazon.com/IAM/latest/UserGuide/reference_policies_condition-keys.html#condition-keys-principalarn
        statements.append(
            {
                "Sid": "DenyGuardedTenantContextToOthers",
                "Effect": "Deny",
                "Principal": {"AWS": "*"},
                "Action": list(KMS_CONTEXT_ACTIONS),
                "Resource": "*",
                "Condition": {
                    "StringEquals": {TENANT_CONTEXT_KEY: guarded},
                    "ArnNotEquals": {"aws:PrincipalArn": [settings.lambda_role_arn]},
                },
            }
        )
    return statements


def tenant_management_exempt(settings: Settings) -> list[str]:
    """The principal ARNs DenyTenantKeyManagement exempts: the pipeline role, then the key administrators."""
    return [settings.lambda_role_arn, *sorted(settings.key_admin_role_arns)]


def bucket_policy(settings: Settings, role: str) -> PolicyDocument:
    """The policy of one bucket: TLS only, and tagged principals kept to their own prefix
    and away from the bucket's settings.

    Principals without a ``tenant_id`` principal tag (the pipeline's roles today) are
    affected only by the TLS rule. The tenant statements are a constant size whatever
    the number of tenants. ``s3:prefix`` exists for ListBucket and ListBucketVersions
    only, so the listing rule always denies ListBucketMultipartUploads to a tagged
    principal: S3 cannot filter that listing by tenant.
    https://docs.aws.amazon.com/AmazonS3/latest/userguide/security-best-practices.html
    https://docs.aws.amazon.com/service-authorization/latest/reference/list_amazons3.html
    """
    arn = Names(settings=settings).bucket_arn(role)
    own_prefix = f"{PRINCIPAL_TENANT_TAG}/"
    tagged = {"Null": {TENANT_TAG_KEY: "false"}}
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
            },
            # Every object action (s3:* on anything but the bucket itself) outside the
            # principal's own prefix; the trailing slash keeps "acme" out of "acme-corp/".
            {
                "Sid": "DenyTenantObjectsOutsideOwnPrefix",
                "Effect": "Deny",
                "Principal": "*",
                "Action": "s3:*",
                "NotResource": [arn, f"{arn}/{own_prefix}*"],
                "Condition": tagged,
            },
            {
                "Sid": "DenyTenantListingOutsideOwnPrefix",
                "Effect": "Deny",
                "Principal": "*",
                "Action": ["s3:ListBucket", "s3:ListBucketMultipartUploads", "s3:ListBucketVersions"],
                "Resource": arn,
                "Condition": {**tagged, "StringNotLike": {"s3:prefix": f"{own_prefix}*"}},
            },
            # IAM's s3:* would let a tagged principal rewrite or delete this policy, turn off
            # versioning, shorten the lifecycle or change the encryption of the shared bucket.
            {
                "Sid": "DenyTenantBucketManagement",
                "Effect": "Deny",
                "Principal": "*",
                "NotAction": list(TENANT_BUCKET_ACTIONS),
                "Resource": arn,
                "Condition": tagged,
            },
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


def unescape_terraform(text: str) -> str:
    """The value Terraform gives AWS for the JSON string ``text``: ``$${`` -> ``${``, ``%%{`` -> ``%{``.

    The inverse of ``escape_terraform`` for every string, and how Terraform reads a
    string without templates: ``$$${x}`` is ``$`` then the escape ``$${``, so
    ``$${x}`` (Terraform 1.11, checked with ``terraform console``). Use it to show a
    value of the synthesized JSON as AWS stores it. A string with a live template
    (``${local.x}``, which the product writes only for references) is returned as is.
    https://developer.hashicorp.com/terraform/language/expressions/strings#escape-sequences
    """
    return text.replace("%%{", "%{").replace("$${", "${")


def terraform_string(value: Any) -> str:
    """A JSON document as a Terraform JSON string literal: compact and escaped."""
    return escape_terraform(compact_json(value))
