"""Apply the stack on the local AWS emulator and check what AWS would hold.

Known emulator gaps, worked around here and only here (never in the product):

- moto evaluates no bucket-policy conditions, so each ``Deny`` with principal ``*``
  (TLS only, and the two that keep principals tagged ``tenant_id`` to their prefix)
  blocks every object request, TLS or not, tagged or not. The object-level test
  asserts the policies' content, lifts them, checks objects, and puts them back. What
  the Denies do is proven by the IAM evaluator instead (tests/test_isolation.py).
- moto does not echo ``EventBridgeConfiguration`` from
  GetBucketNotificationConfiguration, so Terraform re-plans
  ``aws_s3_bucket_notification.input`` as ``eventbridge: false -> true`` after every
  apply. Plans are compared with that one change removed, after checking it is
  exactly that. Delivery itself is proven by an event reaching SQS.
"""

from __future__ import annotations

import dataclasses
import json
import re
import time
from pathlib import Path
from typing import Any

import pytest

from cci_tools import terraform
from cci_tools.audit import render_changes
from constructs_lib.config import Tenant
from constructs_lib.policies import bucket_policy, key_policy
from tests.e2e.conftest import E2E_TENANTS, Aws, Workspace
from tests.helpers import seed_settings

pytestmark = pytest.mark.e2e

ACCOUNT = "591338347562"
REGION = "eu-central-1"
ROLES = ("input", "results", "athena_staging")
PROTECTED = (
    "aws_kms_key.master",
    "aws_s3_bucket.input",
    "aws_s3_bucket.results",
    "aws_s3_bucket.athena_staging",
    "aws_dynamodb_table.tenant_config",
)


def bucket(role: str) -> str:
    return f"cci-lite-{role.replace('_', '-')}-{ACCOUNT}-{REGION}"


def without_known_gaps(changes: list[dict[str, Any]]) -> list[dict[str, Any]]:
    """Drop the notification re-plan that moto causes, after checking it is only that."""
    kept = []
    for change in changes:
        if change["address"] == "aws_s3_bucket_notification.input" and change["change"]["actions"] == ["update"]:
            before, after = change["change"]["before"], change["change"]["after"]
            assert (before["eventbridge"], after["eventbridge"]) == (False, True)
            assert {k: v for k, v in before.items() if k != "eventbridge"} == {
                k: v for k, v in after.items() if k != "eventbridge"
            }
            continue
        kept.append(change)
    return kept


def summary(changes: list[dict[str, Any]]) -> list[tuple[str, list[str]]]:
    return sorted((c["address"], c["change"]["actions"]) for c in changes)


# --- what was deployed ---------------------------------------------------------------


@pytest.mark.parametrize("role", ROLES)
def test_deployed_bucket_has_the_secure_baseline(deployed: Path, outputs: dict[str, Any], aws: Aws, role: str) -> None:
    s3 = aws.client("s3")
    name = bucket(role)
    key_arn = outputs["key_arn"]
    assert s3.get_bucket_versioning(Bucket=name, ExpectedBucketOwner=ACCOUNT)["Status"] == "Enabled"
    (rule,) = s3.get_bucket_encryption(Bucket=name)["ServerSideEncryptionConfiguration"]["Rules"]
    assert rule["ApplyServerSideEncryptionByDefault"] == {"SSEAlgorithm": "aws:kms", "KMSMasterKeyID": key_arn}
    assert rule["BucketKeyEnabled"] is True
    assert s3.get_public_access_block(Bucket=name)["PublicAccessBlockConfiguration"] == {
        "BlockPublicAcls": True,
        "IgnorePublicAcls": True,
        "BlockPublicPolicy": True,
        "RestrictPublicBuckets": True,
    }
    assert s3.get_bucket_ownership_controls(Bucket=name)["OwnershipControls"]["Rules"] == [
        {"ObjectOwnership": "BucketOwnerEnforced"}
    ]
    raw = s3.get_bucket_policy(Bucket=name)["Policy"]
    assert '"${aws:PrincipalTag/tenant_id}/*"' in raw and "$${" not in raw
    assert json.loads(raw) == bucket_policy(seed_settings(), role)
    tags = {t["Key"]: t["Value"] for t in s3.get_bucket_tagging(Bucket=name)["TagSet"]}
    assert {k: tags[k] for k in ("Project", "Environment", "Owner", "Version")} == {
        "Project": "CCI-Lite",
        "Environment": "Production",
        "Owner": "Conversant",
        "Version": "v1.3",
    }


@pytest.mark.parametrize(
    ("role", "expected"),
    [
        (
            "input",
            {
                "expire-current-versions": {"Expiration": {"Days": 1}},
                "expire-noncurrent-versions": {
                    "Expiration": {"ExpiredObjectDeleteMarker": True},
                    "NoncurrentVersionExpiration": {"NoncurrentDays": 1},
                },
                "abort-incomplete-multipart-uploads": {"AbortIncompleteMultipartUpload": {"DaysAfterInitiation": 1}},
            },
        ),
        (
            "results",
            {
                "expire-current-versions": {"Expiration": {"Days": 30}},
                "expire-noncurrent-versions": {
                    "Expiration": {"ExpiredObjectDeleteMarker": True},
                    "NoncurrentVersionExpiration": {"NoncurrentDays": 1},
                },
                "abort-incomplete-multipart-uploads": {"AbortIncompleteMultipartUpload": {"DaysAfterInitiation": 7}},
            },
        ),
        (
            "athena_staging",
            {"abort-incomplete-multipart-uploads": {"AbortIncompleteMultipartUpload": {"DaysAfterInitiation": 7}}},
        ),
    ],
)
def test_deployed_lifecycle_rules(deployed: Path, aws: Aws, role: str, expected: dict[str, Any]) -> None:
    rules = aws.client("s3").get_bucket_lifecycle_configuration(Bucket=bucket(role))["Rules"]
    by_id = {r["ID"]: {k: v for k, v in r.items() if k not in ("ID", "Filter", "Status")} for r in rules}
    assert by_id == expected
    assert all(r["Status"] == "Enabled" and r["Filter"] == {"Prefix": ""} for r in rules)


def test_deployed_key_rotates_and_has_its_alias(deployed: Path, outputs: dict[str, Any], aws: Aws) -> None:
    kms = aws.client("kms")
    key_arn = outputs["key_arn"]
    metadata = kms.describe_key(KeyId=key_arn)["KeyMetadata"]
    # Emulator gap: moto leaves MultiRegion out of DescribeKey when it is false (AWS always sends it).
    assert (metadata["KeySpec"], metadata["KeyUsage"], metadata.get("MultiRegion", False)) == (
        "SYMMETRIC_DEFAULT",
        "ENCRYPT_DECRYPT",
        False,
    )
    assert kms.get_key_rotation_status(KeyId=key_arn)["KeyRotationEnabled"] is True
    aliases = {a["AliasName"]: a.get("TargetKeyId") for a in kms.list_aliases()["Aliases"]}
    assert aliases["alias/cci-lite-master-key"] == metadata["KeyId"]


def test_deployed_key_policy_reaches_aws_literally(deployed: Path, outputs: dict[str, Any], aws: Aws) -> None:
    raw = aws.client("kms").get_key_policy(KeyId=outputs["key_arn"], PolicyName="default")["Policy"]
    assert '"${aws:PrincipalTag/tenant_id}"' in raw and "$${" not in raw
    statements = {s["Sid"]: s for s in json.loads(raw)["Statement"]}
    assert statements["DenyGuardedTenantContextToOthers"]["Condition"] == {
        "StringEquals": {"kms:EncryptionContext:tenant_id": ["globex"]},
        "ArnNotEquals": {"aws:PrincipalArn": [f"arn:aws:iam::{ACCOUNT}:role/cci-lite-lambda-role"]},
    }
    assert json.loads(raw) == key_policy(seed_settings(), E2E_TENANTS)
    for unguarded in ("acme", "demo-tenant"):
        assert unguarded not in raw


def test_deployed_config_table_and_one_record_per_tenant(deployed: Path, outputs: dict[str, Any], aws: Aws) -> None:
    dynamodb = aws.client("dynamodb")
    table = dynamodb.describe_table(TableName="cci-lite-config")["Table"]
    assert table["KeySchema"] == [{"AttributeName": "tenant_id", "KeyType": "HASH"}]
    assert table["BillingModeSummary"]["BillingMode"] == "PAY_PER_REQUEST"
    assert table["DeletionProtectionEnabled"] is True
    assert table["SSEDescription"]["SSEType"] == "KMS"
    assert table["SSEDescription"]["KMSMasterKeyArn"] == outputs["key_arn"]
    backups = dynamodb.describe_continuous_backups(TableName="cci-lite-config")["ContinuousBackupsDescription"]
    assert backups["PointInTimeRecoveryDescription"]["PointInTimeRecoveryStatus"] == "ENABLED"
    items = {i["tenant_id"]["S"]: i for i in dynamodb.scan(TableName="cci-lite-config")["Items"]}
    assert sorted(items) == ["acme", "demo-tenant", "globex"]
    assert items["globex"]["kms_guard"] == {"BOOL": True}
    assert items["acme"]["display_name"] == {"S": "Acme Corp"}
    assert items["acme"]["tags"]["M"]["CostCenter"] == {"S": "cc-200"}
    assert items["acme"]["tags"]["M"]["Tenant"] == {"S": "acme"}


def test_second_plan_after_apply_is_clean(deployed: Path, workspace: Workspace) -> None:
    assert without_known_gaps(workspace.plan(deployed)) == []


def test_uploads_are_encrypted_with_the_key_and_only_input_emits_events(
    deployed: Path, outputs: dict[str, Any], aws: Aws
) -> None:
    s3, events, sqs = aws.client("s3"), aws.client("events"), aws.client("sqs")
    key_arn = outputs["key_arn"]
    queue_url = sqs.create_queue(QueueName="e2e-s3-events")["QueueUrl"]
    queue_arn = sqs.get_queue_attributes(QueueUrl=queue_url, AttributeNames=["QueueArn"])["Attributes"]["QueueArn"]
    # The rule matches every S3 event on the default bus, so a results-bucket event would show up too.
    events.put_rule(Name="e2e-all-s3", EventPattern=json.dumps({"source": ["aws.s3"]}))
    events.put_targets(Rule="e2e-all-s3", Targets=[{"Id": "queue", "Arn": queue_arn}])

    # Emulator gap: moto evaluates no bucket-policy conditions, so the four Denies (TLS
    # only, tagged principals' objects, listing and bucket settings) block every object
    # request here. Assert they are exactly the stack's, lift them, put them back after.
    policies = {role: s3.get_bucket_policy(Bucket=bucket(role))["Policy"] for role in ("input", "results")}
    for role, policy in policies.items():
        assert json.loads(policy) == bucket_policy(seed_settings(), role)
        assert [s["Sid"] for s in json.loads(policy)["Statement"]] == [
            "DenyInsecureTransport",
            "DenyTenantObjectsOutsideOwnPrefix",
            "DenyTenantListingOutsideOwnPrefix",
            "DenyTenantBucketManagement",
        ]
    try:
        for role in policies:
            s3.delete_bucket_policy(Bucket=bucket(role))
        s3.put_object(Bucket=bucket("input"), Key="acme/calls/call-0001.wav", Body=b"RIFF....WAVE")
        s3.put_object(Bucket=bucket("results"), Key="acme/2025/11/06/call-0001.json", Body=b"{}")
        head = s3.head_object(Bucket=bucket("input"), Key="acme/calls/call-0001.wav")
        assert (head["ServerSideEncryption"], head["SSEKMSKeyId"], head["BucketKeyEnabled"]) == (
            "aws:kms",
            key_arn,
            True,
        )
        received = receive_all(sqs, queue_url)
    finally:
        for role, policy in policies.items():
            s3.put_bucket_policy(Bucket=bucket(role), Policy=policy)

    created = [e for e in received if e["detail-type"] == "Object Created"]
    assert [(e["detail"]["bucket"]["name"], e["detail"]["object"]["key"]) for e in created] == [
        (bucket("input"), "acme/calls/call-0001.wav")
    ]
    assert all(e["detail"]["bucket"]["name"] == bucket("input") for e in received)


def test_tenant_values_inline_in_cdk_tf_json_plan_no_change(deployed: Path, workspace: Workspace) -> None:
    # Until tenants.tf.json, the values were inline in cdk.tf.json. Rewritten back into
    # that layout, the stack applied from the two files must plan no change: a
    # deployment made by the earlier layout sees nothing to do after upgrading.
    stack_dir = workspace.synth(E2E_TENANTS)
    beside = stack_dir / "tenants.tf.json"
    values = json.loads(beside.read_text(encoding="utf-8"))["locals"]
    beside.unlink()
    config_file = stack_dir / "cdk.tf.json"
    config = json.loads(config_file.read_text(encoding="utf-8"))
    item = config["resource"]["aws_dynamodb_table_item"]["tenant_config"]
    item["for_each"] = {tenant: {"item": text} for tenant, text in values["tenant_config_items"].items()}
    item["item"] = "${each.value.item}"
    config["output"]["tenant_tags"]["value"] = values["tenant_tags"]
    config_file.write_text(json.dumps(config, indent=2), encoding="utf-8")

    assert without_known_gaps(workspace.plan(stack_dir)) == []
    assert workspace.last_plan["output_changes"]["tenant_tags"]["actions"] == ["no-op"]


# --- tenant changes and protection -------------------------------------------------


def test_adding_a_tenant_plans_only_that_tenants_record(deployed: Path, workspace: Workspace) -> None:
    newco = Tenant(tenant_id="newco", display_name="NewCo")
    stack_dir = workspace.synth((*E2E_TENANTS, newco))
    assert summary(without_known_gaps(workspace.plan(stack_dir))) == [
        ('aws_dynamodb_table_item.tenant_config["newco"]', ["create"])
    ]
    section, destroyed = render_changes(workspace.last_plan)
    assert destroyed == [] and "[!CAUTION]" not in section
    assert '### Create\n\n- tenant `newco`: `aws_dynamodb_table_item.tenant_config["newco"]`' in section


def test_removing_a_tenant_plans_only_deleting_that_tenants_record(deployed: Path, workspace: Workspace) -> None:
    stack_dir = workspace.synth([t for t in E2E_TENANTS if t.tenant_id != "acme"])
    assert summary(without_known_gaps(workspace.plan(stack_dir))) == [
        ('aws_dynamodb_table_item.tenant_config["acme"]', ["delete"])
    ]
    section, destroyed = render_changes(workspace.last_plan)
    assert destroyed == []  # a tenant's record is not a protected resource
    assert '### Delete\n\n- tenant `acme`: `aws_dynamodb_table_item.tenant_config["acme"]`' in section


def test_guarded_tenant_arrival_updates_the_key_policy_in_place(deployed: Path, workspace: Workspace) -> None:
    hooli = Tenant(tenant_id="hooli", display_name="Hooli", kms_guard=True)
    stack_dir = workspace.synth((*E2E_TENANTS, hooli))
    changes = without_known_gaps(workspace.plan(stack_dir))
    assert summary(changes) == [
        ('aws_dynamodb_table_item.tenant_config["hooli"]', ["create"]),
        ("aws_kms_key.master", ["update"]),
    ]
    key_change = next(c for c in changes if c["address"] == "aws_kms_key.master")["change"]
    after = json.loads(key_change["after"]["policy"])
    guard = next(s for s in after["Statement"] if s["Sid"] == "DenyGuardedTenantContextToOthers")
    assert guard["Condition"]["StringEquals"]["kms:EncryptionContext:tenant_id"] == ["globex", "hooli"]
    section, destroyed = render_changes(workspace.last_plan)
    assert destroyed == []
    assert "- foundation: `aws_kms_key.master`\n  Key policy, statement by statement:" in section
    assert (
        "  - changed statement `DenyGuardedTenantContextToOthers`:\n"
        "    - `Condition.StringEquals.kms:EncryptionContext:tenant_id`: added `hooli`"
    ) in section
    assert '- tenant `hooli`: `aws_dynamodb_table_item.tenant_config["hooli"]`' in section


def test_guarding_an_existing_tenant_updates_the_key_and_its_record_in_place(
    deployed: Path, workspace: Workspace
) -> None:
    guarded = [dataclasses.replace(t, kms_guard=True) if t.tenant_id == "acme" else t for t in E2E_TENANTS]
    changes = without_known_gaps(workspace.plan(workspace.synth(guarded)))
    assert summary(changes) == [
        ('aws_dynamodb_table_item.tenant_config["acme"]', ["update"]),
        ("aws_kms_key.master", ["update"]),
    ]


def refused_destroys(workspace: Workspace, stack_dir: Path, *args: str) -> list[str]:
    """Run a plan that must fail, and return the addresses that prevent_destroy protected."""
    result = terraform.run(
        ["plan", "-input=false", "-no-color", "-refresh=false", *args], cwd=stack_dir, env=workspace.env, check=False
    )
    assert result.returncode != 0, result.stdout
    output = " ".join((result.stdout + result.stderr).split())
    return sorted(re.findall(r"Resource (\S+) has lifecycle\.prevent_destroy set", output))


def test_destroy_is_refused_for_the_buckets_and_the_table(deployed: Path, workspace: Workspace) -> None:
    # Terraform stops the destroy walk at the first refusals: the buckets and the table
    # are refused before the walk reaches the key they depend on. The next test
    # proves the key's own protection.
    assert refused_destroys(workspace, deployed, "-destroy") == [
        "aws_dynamodb_table.tenant_config",
        "aws_s3_bucket.athena_staging",
        "aws_s3_bucket.input",
        "aws_s3_bucket.results",
    ]


@pytest.mark.parametrize("address", PROTECTED)
def test_replacing_a_protected_resource_is_refused(deployed: Path, workspace: Workspace, address: str) -> None:
    assert refused_destroys(workspace, deployed, f"-replace={address}") == [address]


# --- helpers -------------------------------------------------------------------------


def receive_all(sqs: Any, queue_url: str, *, settle_s: float = 3.0) -> list[dict[str, Any]]:
    """Every message that arrives until the queue has been quiet for ``settle_s``."""
    received: list[dict[str, Any]] = []
    deadline = time.monotonic() + 30
    quiet_since = time.monotonic()
    while time.monotonic() < deadline and time.monotonic() - quiet_since < settle_s:
        messages = sqs.receive_message(QueueUrl=queue_url, MaxNumberOfMessages=10, WaitTimeSeconds=1).get(
            "Messages", []
        )
        if messages:
            quiet_since = time.monotonic()
        for message in messages:
            received.append(json.loads(message["Body"]))
            sqs.delete_message(QueueUrl=queue_url, ReceiptHandle=message["ReceiptHandle"])
    return received
