"""Every Terraform address, pinned: a renamed construct id plans a destroy."""

from __future__ import annotations

from typing import Any

ROLES = ("athena_staging", "input", "results")
BUCKET_TYPES = (
    "aws_s3_bucket",
    "aws_s3_bucket_lifecycle_configuration",
    "aws_s3_bucket_ownership_controls",
    "aws_s3_bucket_policy",
    "aws_s3_bucket_public_access_block",
    "aws_s3_bucket_server_side_encryption_configuration",
    "aws_s3_bucket_versioning",
)
EXPECTED_ADDRESSES = sorted(
    [f"{t}.{role}" for t in BUCKET_TYPES for role in ROLES]
    + [
        "aws_s3_bucket_notification.input",
        "aws_kms_key.master",
        "aws_kms_alias.master",
        "aws_dynamodb_table.tenant_config",
        "aws_dynamodb_table_item.tenant_config",
    ]
)
EXPECTED_OUTPUTS = sorted(
    ["key_arn", "key_alias", "config_table_name", "config_table_arn", "tenant_tags"]
    + [f"{role}_bucket_{what}" for role in ROLES for what in ("name", "arn")]
)


def test_resource_addresses_are_pinned(resources: dict[str, dict[str, Any]]) -> None:
    addresses = sorted(f"{rtype}.{name}" for rtype, by_name in resources.items() for name in by_name)
    assert addresses == EXPECTED_ADDRESSES


def test_output_names_are_pinned(tf: dict[str, Any]) -> None:
    assert sorted(tf["output"]) == EXPECTED_OUTPUTS


def test_provider_is_the_only_aws_provider_block(tf: dict[str, Any]) -> None:
    assert list(tf["provider"]) == ["aws"]
    assert len(tf["provider"]["aws"]) == 1


def test_tenant_items_are_keyed_by_tenant_id_not_position(
    resources: dict[str, dict[str, Any]], tenant_locals: dict[str, Any]
) -> None:
    item = resources["aws_dynamodb_table_item"]["tenant_config"]
    assert item["for_each"] == "${local.tenant_config_items}"
    assert list(tenant_locals["tenant_config_items"]) == ["acme", "demo-tenant", "globex", "initech"]
    assert "count" not in item
