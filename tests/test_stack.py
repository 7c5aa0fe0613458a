"""The synthesized stack, asserted at its Terraform addresses."""

from __future__ import annotations

import json
from typing import Any

import pytest

Resources = dict[str, dict[str, Any]]
ACCOUNT = "591338347562"
REGION = "eu-central-1"
ROLES = ("input", "results", "athena_staging")


def bucket_name(role: str) -> str:
    return f"cci-lite-{role.replace('_', '-')}-{ACCOUNT}-{REGION}"


def key_policy(resources: Resources) -> dict[str, Any]:
    raw = resources["aws_kms_key"]["master"]["policy"]
    document: dict[str, Any] = json.loads(raw.replace("$${", "${"))
    return document


def statement(resources: Resources, sid: str) -> dict[str, Any]:
    matches = [s for s in key_policy(resources)["Statement"] if s["Sid"] == sid]
    assert len(matches) == 1, sid
    found: dict[str, Any] = matches[0]
    return found


def rules_by_id(resources: Resources, role: str) -> dict[str, dict[str, Any]]:
    rules = resources["aws_s3_bucket_lifecycle_configuration"][role]["rule"]
    return {rule["id"]: rule for rule in rules}


# --- provider and Terraform block -------------------------------------------------


def test_provider_pins_region_account_and_default_tags(tf: dict[str, Any]) -> None:
    provider = tf["provider"]["aws"][0]
    assert provider["region"] == REGION
    assert provider["allowed_account_ids"] == [ACCOUNT]
    assert provider["default_tags"] == [
        {"tags": {"Environment": "Production", "Owner": "Conversant", "Project": "CCI-Lite", "Version": "v1.3"}}
    ]


def test_provider_source_is_fully_qualified_and_pinned(tf: dict[str, Any]) -> None:
    assert tf["terraform"]["required_providers"]["aws"] == {"source": "hashicorp/aws", "version": "5.100.0"}


def test_local_state_path_is_relative_so_output_does_not_depend_on_checkout(tf: dict[str, Any]) -> None:
    assert tf["terraform"]["backend"] == {"local": {"path": "../../../terraform.cci-lite-production.tfstate"}}


# --- KMS ---------------------------------------------------------------------------


def test_key_is_symmetric_single_region_rotating_with_30_day_window(resources: Resources) -> None:
    key = resources["aws_kms_key"]["master"]
    assert key["customer_master_key_spec"] == "SYMMETRIC_DEFAULT"
    assert key["key_usage"] == "ENCRYPT_DECRYPT"
    assert key["enable_key_rotation"] is True
    assert key["deletion_window_in_days"] == 30
    assert key["multi_region"] is False
    assert key["lifecycle"] == {"prevent_destroy": True}


def test_key_alias_targets_the_key(resources: Resources) -> None:
    alias = resources["aws_kms_alias"]["master"]
    assert alias["name"] == "alias/cci-lite-master-key"
    assert alias["target_key_id"] == "${aws_kms_key.master.key_id}"


def test_key_policy_statements_have_stable_sids_in_fixed_order(resources: Resources) -> None:
    sids = [s["Sid"] for s in key_policy(resources)["Statement"]]
    assert sids == [
        "EnableRootAccountPermissions",
        "AllowEventBridgeDescribeKey",
        "AllowEventBridgeEventBusEncryption",
        "AllowLambdaFilterCriteriaDecrypt",
        "AllowS3ServiceForStackBuckets",
        "DenyTenantContextMismatch",
        "DenyTenantGrantWithoutOwnContext",
        "DenyTenantKeyManagement",
        "DenyGuardedTenantContextToOthers",
    ]


def test_key_policy_root_statement_keeps_the_key_manageable(resources: Resources) -> None:
    root = statement(resources, "EnableRootAccountPermissions")
    assert root["Effect"] == "Allow"
    assert root["Principal"] == {"AWS": f"arn:aws:iam::{ACCOUNT}:root"}
    assert root["Action"] == "kms:*"


def test_eventbridge_may_use_the_key_only_for_this_accounts_event_buses(resources: Resources) -> None:
    describe = statement(resources, "AllowEventBridgeDescribeKey")
    assert (describe["Principal"], describe["Action"]) == ({"Service": "events.amazonaws.com"}, "kms:DescribeKey")
    assert describe["Condition"] == {"StringEquals": {"aws:SourceAccount": ACCOUNT}}
    buses = statement(resources, "AllowEventBridgeEventBusEncryption")
    assert buses["Action"] == ["kms:Decrypt", "kms:GenerateDataKey", "kms:ReEncrypt*"]
    assert buses["Condition"] == {
        "StringEquals": {"aws:SourceAccount": ACCOUNT},
        "StringLike": {
            "kms:EncryptionContext:aws:events:event-bus:arn": f"arn:aws:events:{REGION}:{ACCOUNT}:event-bus/*"
        },
    }


def test_lambda_may_only_decrypt_filter_criteria_as_the_regional_principal(resources: Resources) -> None:
    lambda_ = statement(resources, "AllowLambdaFilterCriteriaDecrypt")
    assert lambda_["Principal"] == {"Service": f"lambda.{REGION}.amazonaws.com"}
    assert lambda_["Action"] == "kms:Decrypt"
    assert lambda_["Condition"] == {
        "ArnLike": {"aws:SourceArn": f"arn:aws:lambda:{REGION}:{ACCOUNT}:event-source-mapping:*"},
        "StringLike": {"kms:EncryptionContext:aws:lambda:FunctionArn": f"arn:aws:lambda:{REGION}:{ACCOUNT}:function:*"},
    }


def test_s3_service_may_use_the_key_only_for_the_stacks_buckets(resources: Resources) -> None:
    s3 = statement(resources, "AllowS3ServiceForStackBuckets")
    assert s3["Principal"] == {"Service": "s3.amazonaws.com"}
    assert s3["Action"] == ["kms:Decrypt", "kms:GenerateDataKey"]
    assert s3["Condition"] == {
        "StringEquals": {"aws:SourceAccount": ACCOUNT},
        "ArnEquals": {"aws:SourceArn": [f"arn:aws:s3:::{bucket_name(role)}" for role in ROLES]},
    }


def test_services_that_never_call_kms_as_themselves_are_not_in_the_key_policy(resources: Resources) -> None:
    raw = resources["aws_kms_key"]["master"]["policy"]
    for principal in (
        "glue.amazonaws.com",
        "quicksight.amazonaws.com",
        "transcribe.amazonaws.com",
        '"lambda.amazonaws.com"',
    ):
        assert principal not in raw


def test_reserved_tenant_guard_policy_variable_is_escaped_for_terraform(resources: Resources) -> None:
    raw = resources["aws_kms_key"]["master"]["policy"]
    assert '"$${aws:PrincipalTag/tenant_id}"' in raw
    assert raw.count("${") == raw.count("$${")  # nothing Terraform would interpolate
    guard = statement(resources, "DenyTenantContextMismatch")
    assert guard["Effect"] == "Deny"
    assert guard["Action"] == [
        "kms:CreateGrant",
        "kms:Decrypt",
        "kms:Encrypt",
        "kms:GenerateDataKey*",
        "kms:ReEncrypt*",
    ]
    assert guard["Condition"]["StringNotEquals"] == {"kms:EncryptionContext:tenant_id": "${aws:PrincipalTag/tenant_id}"}
    assert guard["Condition"]["Null"] == {
        "aws:PrincipalTag/tenant_id": "false",
        "kms:EncryptionContext:tenant_id": "false",
    }


def test_tagged_principals_cannot_create_grants_without_a_tenant_constraint(resources: Resources) -> None:
    grants = statement(resources, "DenyTenantGrantWithoutOwnContext")
    assert (grants["Effect"], grants["Action"]) == ("Deny", "kms:CreateGrant")
    assert grants["Condition"] == {
        "Null": {"aws:PrincipalTag/tenant_id": "false", "kms:EncryptionContext:tenant_id": "true"},
        "BoolIfExists": {"kms:GrantIsForAWSResource": "false"},
    }


def test_tagged_principals_may_use_the_key_but_never_manage_it(resources: Resources) -> None:
    management = statement(resources, "DenyTenantKeyManagement")
    assert (management["Effect"], management["Principal"], management["Resource"]) == ("Deny", {"AWS": "*"}, "*")
    assert "Action" not in management
    assert management["NotAction"] == [
        "kms:CreateGrant",
        "kms:Decrypt",
        "kms:DescribeKey",
        "kms:Encrypt",
        "kms:GenerateDataKey*",
        "kms:ReEncrypt*",
    ]
    assert management["Condition"] == {
        "Null": {"aws:PrincipalTag/tenant_id": "false"},
        "ArnNotEquals": {"aws:PrincipalArn": [f"arn:aws:iam::{ACCOUNT}:role/cci-lite-lambda-role"]},
    }


def test_guarded_tenants_share_one_deny_that_exempts_only_the_pipeline_role(resources: Resources) -> None:
    guard = statement(resources, "DenyGuardedTenantContextToOthers")
    assert (guard["Effect"], guard["Principal"]) == ("Deny", {"AWS": "*"})
    assert guard["Condition"] == {
        "StringEquals": {"kms:EncryptionContext:tenant_id": ["globex", "initech"]},
        "ArnNotEquals": {"aws:PrincipalArn": [f"arn:aws:iam::{ACCOUNT}:role/cci-lite-lambda-role"]},
    }
    assert guard["Action"] == [
        "kms:CreateGrant",
        "kms:Decrypt",
        "kms:Encrypt",
        "kms:GenerateDataKey*",
        "kms:ReEncrypt*",
    ]


def test_unguarded_tenants_appear_nowhere_in_the_key_policy(resources: Resources) -> None:
    raw = resources["aws_kms_key"]["master"]["policy"]
    assert "acme" not in raw and "demo-tenant" not in raw


def test_no_key_administrators_by_default(resources: Resources) -> None:
    sids = [s["Sid"] for s in key_policy(resources)["Statement"]]
    assert "AllowKeyAdministration" not in sids


# --- buckets -----------------------------------------------------------------------


@pytest.mark.parametrize("role", ROLES)
def test_bucket_is_named_protected_and_never_force_destroyed(resources: Resources, role: str) -> None:
    bucket = resources["aws_s3_bucket"][role]
    assert bucket["bucket"] == bucket_name(role)
    assert bucket["lifecycle"] == {"prevent_destroy": True}
    assert "force_destroy" not in bucket


@pytest.mark.parametrize("role", ROLES)
def test_bucket_versioning_is_enabled(resources: Resources, role: str) -> None:
    versioning = resources["aws_s3_bucket_versioning"][role]
    assert versioning["bucket"] == f"${{aws_s3_bucket.{role}.id}}"
    assert versioning["versioning_configuration"] == {"status": "Enabled"}
    assert versioning["expected_bucket_owner"] == ACCOUNT


@pytest.mark.parametrize("role", ROLES)
def test_bucket_default_encryption_is_the_key_with_bucket_key(resources: Resources, role: str) -> None:
    sse = resources["aws_s3_bucket_server_side_encryption_configuration"][role]
    assert sse["bucket"] == f"${{aws_s3_bucket.{role}.id}}"
    assert sse["expected_bucket_owner"] == ACCOUNT
    assert sse["rule"] == [
        {
            "apply_server_side_encryption_by_default": {
                "kms_master_key_id": "${aws_kms_key.master.arn}",
                "sse_algorithm": "aws:kms",
            },
            "bucket_key_enabled": True,
        }
    ]


@pytest.mark.parametrize("role", ROLES)
def test_bucket_blocks_all_public_access(resources: Resources, role: str) -> None:
    pab = resources["aws_s3_bucket_public_access_block"][role]
    assert pab["bucket"] == f"${{aws_s3_bucket.{role}.id}}"
    for flag in ("block_public_acls", "block_public_policy", "ignore_public_acls", "restrict_public_buckets"):
        assert pab[flag] is True, flag


@pytest.mark.parametrize("role", ROLES)
def test_bucket_acls_are_disabled(resources: Resources, role: str) -> None:
    ownership = resources["aws_s3_bucket_ownership_controls"][role]
    assert ownership["rule"] == {"object_ownership": "BucketOwnerEnforced"}
    assert ownership["depends_on"] == [
        f"aws_s3_bucket_public_access_block.{role}",
        f"aws_s3_bucket_policy.{role}",
    ]


@pytest.mark.parametrize("role", ROLES)
def test_bucket_policy_denies_plain_http_and_keeps_tagged_principals_to_their_prefix(
    resources: Resources, role: str
) -> None:
    policy_resource = resources["aws_s3_bucket_policy"][role]
    assert policy_resource["depends_on"] == [f"aws_s3_bucket_public_access_block.{role}"]
    assert '"$${aws:PrincipalTag/tenant_id}/*"' in policy_resource["policy"]
    policy = json.loads(policy_resource["policy"].replace("$${", "${"))
    arn = f"arn:aws:s3:::{bucket_name(role)}"
    tagged = {"Null": {"aws:PrincipalTag/tenant_id": "false"}}
    assert policy["Statement"] == [
        {
            "Sid": "DenyInsecureTransport",
            "Effect": "Deny",
            "Principal": "*",
            "Action": "s3:*",
            "Resource": [arn, f"{arn}/*"],
            "Condition": {"Bool": {"aws:SecureTransport": "false"}},
        },
        {
            "Sid": "DenyTenantObjectsOutsideOwnPrefix",
            "Effect": "Deny",
            "Principal": "*",
            "Action": "s3:*",
            "NotResource": [arn, f"{arn}/${{aws:PrincipalTag/tenant_id}}/*"],
            "Condition": tagged,
        },
        {
            "Sid": "DenyTenantListingOutsideOwnPrefix",
            "Effect": "Deny",
            "Principal": "*",
            "Action": ["s3:ListBucket", "s3:ListBucketMultipartUploads", "s3:ListBucketVersions"],
            "Resource": arn,
            "Condition": {**tagged, "StringNotLike": {"s3:prefix": "${aws:PrincipalTag/tenant_id}/*"}},
        },
        {
            "Sid": "DenyTenantBucketManagement",
            "Effect": "Deny",
            "Principal": "*",
            "NotAction": ["s3:GetBucketLocation", "s3:ListBucket", "s3:ListBucketVersions"],
            "Resource": arn,
            "Condition": tagged,
        },
    ]


@pytest.mark.parametrize("role", ROLES)
def test_lifecycle_waits_for_versioning_and_names_the_owner(resources: Resources, role: str) -> None:
    lifecycle = resources["aws_s3_bucket_lifecycle_configuration"][role]
    assert lifecycle["depends_on"] == [f"aws_s3_bucket_versioning.{role}"]
    assert lifecycle["expected_bucket_owner"] == ACCOUNT
    for rule in lifecycle["rule"]:
        assert rule["status"] == "Enabled"
        assert rule["filter"] == [{"prefix": ""}]


@pytest.mark.parametrize(("role", "days"), [("input", 1), ("results", 30)])
def test_current_objects_expire(resources: Resources, role: str, days: int) -> None:
    assert rules_by_id(resources, role)["expire-current-versions"]["expiration"] == [{"days": days}]


@pytest.mark.parametrize("role", ["input", "results"])
def test_noncurrent_versions_and_expired_delete_markers_are_removed(resources: Resources, role: str) -> None:
    rule = rules_by_id(resources, role)["expire-noncurrent-versions"]
    assert rule["noncurrent_version_expiration"] == [{"noncurrent_days": 1}]
    assert rule["expiration"] == [{"expired_object_delete_marker": True}]


def test_athena_staging_objects_never_expire(resources: Resources) -> None:
    rules = rules_by_id(resources, "athena_staging")
    assert list(rules) == ["abort-incomplete-multipart-uploads"]
    assert "expiration" not in rules["abort-incomplete-multipart-uploads"]


@pytest.mark.parametrize(("role", "days"), [("input", 1), ("results", 7), ("athena_staging", 7)])
def test_incomplete_multipart_uploads_are_aborted(resources: Resources, role: str, days: int) -> None:
    rule = rules_by_id(resources, role)["abort-incomplete-multipart-uploads"]
    assert rule["abort_incomplete_multipart_upload"] == [{"days_after_initiation": days}]


def test_only_the_input_bucket_sends_events_to_eventbridge(resources: Resources) -> None:
    notifications = resources["aws_s3_bucket_notification"]
    assert list(notifications) == ["input"]
    assert notifications["input"]["eventbridge"] is True
    assert notifications["input"]["bucket"] == "${aws_s3_bucket.input.id}"


def test_no_marker_objects_for_tenant_prefixes(resources: Resources) -> None:
    assert "aws_s3_object" not in resources


# --- config table and tenants ----------------------------------------------------


def test_config_table_is_encrypted_recoverable_and_protected(resources: Resources) -> None:
    table = resources["aws_dynamodb_table"]["tenant_config"]
    assert table["name"] == "cci-lite-config"
    assert table["hash_key"] == "tenant_id"
    assert table["attribute"] == [{"name": "tenant_id", "type": "S"}]
    assert table["billing_mode"] == "PAY_PER_REQUEST"
    assert table["server_side_encryption"] == {"enabled": True, "kms_key_arn": "${aws_kms_key.master.arn}"}
    assert table["point_in_time_recovery"] == {"enabled": True}
    assert table["deletion_protection_enabled"] is True
    assert table["lifecycle"] == {"prevent_destroy": True}


def test_tenant_records_use_for_each_over_the_config_table(resources: Resources) -> None:
    item = resources["aws_dynamodb_table_item"]["tenant_config"]
    assert item["for_each"] == "${local.tenant_config_items}"
    assert item["table_name"] == "${aws_dynamodb_table.tenant_config.name}"
    assert item["hash_key"] == "${aws_dynamodb_table.tenant_config.hash_key}"
    assert item["item"] == "${each.value}"


def test_tenant_record_holds_id_name_guard_and_tags(tenant_locals: dict[str, Any]) -> None:
    raw = tenant_locals["tenant_config_items"]["acme"]
    assert json.loads(raw) == {
        "tenant_id": {"S": "acme"},
        "display_name": {"S": "Acme Corp"},
        "kms_guard": {"BOOL": False},
        "tags": {
            "M": {
                "Component": {"S": "S3"},
                "CostCenter": {"S": "cc-200"},
                "Environment": {"S": "Production"},
                "Project": {"S": "CCI-Lite"},
                "Region": {"S": REGION},
                "Tenant": {"S": "acme"},
                "Version": {"S": "v1.3"},
            }
        },
    }


def test_user_text_is_escaped_so_terraform_keeps_it_literal(tenant_locals: dict[str, Any]) -> None:
    raw = tenant_locals["tenant_config_items"]["globex"]
    assert "Globex $${not.interpolated}" in raw


def test_tenant_tags_output_is_keyed_by_tenant(tf: dict[str, Any], tenant_locals: dict[str, Any]) -> None:
    assert tf["output"]["tenant_tags"]["value"] == "${local.tenant_tags}"
    tags = tenant_locals["tenant_tags"]
    assert sorted(tags) == ["acme", "demo-tenant", "globex", "initech"]
    assert tags["initech"] == {
        "Component": "S3",
        "Environment": "Production",
        "Project": "CCI-Lite",
        "Region": REGION,
        "Tenant": "initech",
        "Version": "v1.3",
    }


def test_the_tenant_locals_are_defined_only_in_tenants_tf_json(tf: dict[str, Any]) -> None:
    # Terraform refuses a local defined in two files of one module.
    assert "locals" not in tf


@pytest.mark.parametrize(
    ("output", "value"),
    [
        ("key_arn", "${aws_kms_key.master.arn}"),
        ("key_alias", "${aws_kms_alias.master.name}"),
        ("input_bucket_name", "${aws_s3_bucket.input.bucket}"),
        ("results_bucket_arn", "${aws_s3_bucket.results.arn}"),
        ("athena_staging_bucket_arn", "${aws_s3_bucket.athena_staging.arn}"),
        ("config_table_name", "${aws_dynamodb_table.tenant_config.name}"),
        ("config_table_arn", "${aws_dynamodb_table.tenant_config.arn}"),
    ],
)
def test_outputs_expose_what_the_next_phases_need(tf: dict[str, Any], output: str, value: str) -> None:
    assert tf["output"][output]["value"] == value
