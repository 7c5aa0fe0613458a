"""The foundation as the design record says it was built by hand, on the emulator.

``../shared/design/seed-s3-kms-foundation.md`` (2025-11-06) records a foundation made in
the console, not by this generator: a symmetric key with rotation on, a policy of the
account root, an admin role and the six service principals (no conditions), the
record's four tags; three versioned SSE-KMS buckets (no bucket key), all public access
blocked, ACLs disabled, current objects expiring after 1 and 30 days (none on
athena-staging), no bucket policy; EventBridge on the input bucket; the ``cci-lite-config``
table keyed by ``tenant_id`` with a hand-made ``demo-tenant`` record; call audio and
results under the tenant's prefixes, each object with an older version.

``build`` makes it with boto3 (the way the console does, one API call at a time) and
returns what a later check needs: the key id and every object version with its bytes.
"""

from __future__ import annotations

import json
from dataclasses import dataclass, field
from typing import Any

ADMIN_ROLE_NAME = "cci-lite-admin"
#: The design record's six service principals, as it lists them.
SERVICE_PRINCIPALS = (
    "lambda.amazonaws.com",
    "glue.amazonaws.com",
    "quicksight.amazonaws.com",
    "transcribe.amazonaws.com",
    "events.amazonaws.com",
    "s3.amazonaws.com",
)
#: The design record's tag set on the key.
KEY_TAGS = {"Project": "CCI-Lite", "Environment": "Production", "Owner": "Conversant", "Version": "v1.3"}
#: A record made by hand: the product's fields (no kms_guard, no tags) and fields it does not manage.
DEMO_RECORD: dict[str, Any] = {
    "tenant_id": {"S": "demo-tenant"},
    "display_name": {"S": "Demo Tenant"},
    "status": {"S": "active"},
    "created_at": {"S": "2025-11-06T09:30:00Z"},
    "input_prefix": {"S": "demo-tenant/calls/"},
    "results_prefix": {"S": "demo-tenant/"},
    "retention_days": {"N": "30"},
    "contacts": {"M": {"owner": {"S": "ops@example.com"}, "escalation": {"L": [{"S": "oncall"}, {"N": "2"}]}}},
    "features": {"SS": ["sentiment", "summary"]},
}
#: Objects and their versions, oldest first: (role, key, [bodies]).
OBJECTS: tuple[tuple[str, str, tuple[bytes, ...]], ...] = (
    ("input", "demo-tenant/calls/call-0001.wav", (b"RIFF-first-take", b"RIFF-second-take")),
    ("input", "demo-tenant/calls/call-0002.wav", (b"RIFF-only-take",)),
    ("results", "demo-tenant/2025/11/06/call-0001.json", (b'{"v": 1}', b'{"v": 2}')),
)


@dataclass
class HandBuilt:
    """What was built: the key, the admin role, and every object version with its bytes."""

    account: str
    region: str
    key_id: str
    key_arn: str
    admin_role_arn: str
    #: (bucket, key, version id, body)
    versions: list[tuple[str, str, str, bytes]] = field(default_factory=list)


def bucket_name(role: str, account: str, region: str, prefix: str = "cci-lite") -> str:
    return f"{prefix}-{role.replace('_', '-')}-{account}-{region}"


def key_policy(account: str, admin_role_arn: str) -> dict[str, Any]:
    """Root, an admin role and the six service principals, without conditions (the record's policy)."""
    return {
        "Version": "2012-10-17",
        "Id": "cci-lite-master-key-policy",
        "Statement": [
            {
                "Sid": "Enable IAM User Permissions",
                "Effect": "Allow",
                "Principal": {"AWS": f"arn:aws:iam::{account}:root"},
                "Action": "kms:*",
                "Resource": "*",
            },
            {
                "Sid": "Allow access for Key Administrators",
                "Effect": "Allow",
                "Principal": {"AWS": admin_role_arn},
                "Action": [
                    "kms:Create*",
                    "kms:Describe*",
                    "kms:Enable*",
                    "kms:List*",
                    "kms:Put*",
                    "kms:Update*",
                    "kms:Revoke*",
                    "kms:Disable*",
                    "kms:Get*",
                    "kms:Delete*",
                    "kms:TagResource",
                    "kms:UntagResource",
                    "kms:ScheduleKeyDeletion",
                    "kms:CancelKeyDeletion",
                ],
                "Resource": "*",
            },
            {
                "Sid": "Allow use of the key by AWS services",
                "Effect": "Allow",
                "Principal": {"Service": list(SERVICE_PRINCIPALS)},
                "Action": ["kms:Encrypt", "kms:Decrypt", "kms:ReEncrypt*", "kms:GenerateDataKey*", "kms:DescribeKey"],
                "Resource": "*",
            },
        ],
    }


def build(
    client: Any,
    *,
    account: str,
    region: str,
    multi_region: bool = False,
    hash_key: str = "tenant_id",
    objects: bool = True,
) -> HandBuilt:
    """Build the hand-made foundation through ``client(service)`` (boto3 clients for the emulator).

    ``multi_region`` and ``hash_key`` build the variants the adoption must refuse.
    """
    iam, kms, s3, dynamodb = client("iam"), client("kms"), client("s3"), client("dynamodb")
    admin_role_arn = f"arn:aws:iam::{account}:role/{ADMIN_ROLE_NAME}"
    try:
        iam.get_role(RoleName=ADMIN_ROLE_NAME)
    except iam.exceptions.NoSuchEntityException:
        trust = {
            "Version": "2012-10-17",
            "Statement": [
                {"Effect": "Allow", "Principal": {"AWS": f"arn:aws:iam::{account}:root"}, "Action": "sts:AssumeRole"}
            ],
        }
        iam.create_role(RoleName=ADMIN_ROLE_NAME, AssumeRolePolicyDocument=json.dumps(trust))

    metadata = kms.create_key(
        Policy=json.dumps(key_policy(account, admin_role_arn)),
        Description="CCI Lite master key (created by hand, 2025-11-06)",
        KeyUsage="ENCRYPT_DECRYPT",
        KeySpec="SYMMETRIC_DEFAULT",
        MultiRegion=multi_region,
        Tags=[{"TagKey": k, "TagValue": v} for k, v in KEY_TAGS.items()],
    )["KeyMetadata"]
    key_id, key_arn = metadata["KeyId"], metadata["Arn"]
    kms.enable_key_rotation(KeyId=key_id)
    kms.create_alias(AliasName="alias/cci-lite-master-key", TargetKeyId=key_id)

    built = HandBuilt(account=account, region=region, key_id=key_id, key_arn=key_arn, admin_role_arn=admin_role_arn)
    expiry = {"input": 1, "results": 30}
    for role in ("input", "results", "athena_staging"):
        name = bucket_name(role, account, region)
        s3.create_bucket(Bucket=name, CreateBucketConfiguration={"LocationConstraint": region})
        s3.put_bucket_versioning(Bucket=name, VersioningConfiguration={"Status": "Enabled"})
        s3.put_bucket_encryption(
            Bucket=name,
            ServerSideEncryptionConfiguration={
                "Rules": [
                    {
                        "ApplyServerSideEncryptionByDefault": {"SSEAlgorithm": "aws:kms", "KMSMasterKeyID": key_arn},
                        "BucketKeyEnabled": False,
                    }
                ]
            },
        )
        s3.put_public_access_block(
            Bucket=name,
            PublicAccessBlockConfiguration={
                "BlockPublicAcls": True,
                "IgnorePublicAcls": True,
                "BlockPublicPolicy": True,
                "RestrictPublicBuckets": True,
            },
        )
        s3.put_bucket_ownership_controls(
            Bucket=name, OwnershipControls={"Rules": [{"ObjectOwnership": "BucketOwnerEnforced"}]}
        )
        if role in expiry:
            s3.put_bucket_lifecycle_configuration(
                Bucket=name,
                LifecycleConfiguration={
                    "Rules": [
                        {
                            "ID": f"delete-after-{expiry[role]}-days",
                            "Status": "Enabled",
                            "Filter": {"Prefix": ""},
                            "Expiration": {"Days": expiry[role]},
                        }
                    ]
                },
            )
    s3.put_bucket_notification_configuration(
        Bucket=bucket_name("input", account, region),
        NotificationConfiguration={"EventBridgeConfiguration": {}},
    )

    dynamodb.create_table(
        TableName="cci-lite-config",
        KeySchema=[{"AttributeName": hash_key, "KeyType": "HASH"}],
        AttributeDefinitions=[{"AttributeName": hash_key, "AttributeType": "S"}],
        BillingMode="PAY_PER_REQUEST",
    )
    if hash_key == "tenant_id":
        dynamodb.put_item(TableName="cci-lite-config", Item=DEMO_RECORD)

    if objects:
        for role, key, bodies in OBJECTS:
            name = bucket_name(role, account, region)
            for body in bodies:
                version = s3.put_object(Bucket=name, Key=key, Body=body)["VersionId"]
                built.versions.append((name, key, version, body))
    return built
