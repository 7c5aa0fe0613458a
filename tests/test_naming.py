"""Physical names and tags: renaming one replaces a real resource."""

from __future__ import annotations

import pytest

from constructs_lib.config import Tenant
from constructs_lib.naming import (
    RESERVED_TENANT_TAG_KEYS,
    STACK_TAG_KEYS,
    Names,
    bucket_tags,
    default_tags,
    tenant_tags,
)
from tests.helpers import seed_settings


def test_seed_names_are_pinned() -> None:
    names = Names(settings=seed_settings())
    assert names.stack == "cci-lite-production"
    assert names.key_alias == "alias/cci-lite-master-key"
    assert names.config_table == "cci-lite-config"
    assert names.bucket("input") == "cci-lite-input-591338347562-eu-central-1"
    assert names.bucket("results") == "cci-lite-results-591338347562-eu-central-1"
    assert names.bucket("athena_staging") == "cci-lite-athena-staging-591338347562-eu-central-1"
    assert names.bucket_arn("input") == "arn:aws:s3:::cci-lite-input-591338347562-eu-central-1"


def test_overrides_flow_into_names() -> None:
    names = Names(settings=seed_settings(account_id="123456789012", region="us-gov-west-1", environment="Staging"))
    assert names.bucket("input") == "cci-lite-input-123456789012-us-gov-west-1"
    assert names.bucket_arn("input").startswith("arn:aws-us-gov:s3:::")
    assert names.account_root_arn == "arn:aws-us-gov:iam::123456789012:root"
    assert names.stack == "cci-lite-production"  # a tag value never names the stack (tests/test_state.py)


def test_unknown_bucket_role_is_refused() -> None:
    with pytest.raises(ValueError, match="unknown bucket role 'audio'"):
        Names(settings=seed_settings()).bucket("audio")


def test_default_tags_are_the_seed_tag_set() -> None:
    assert default_tags(seed_settings()) == {
        "Project": "CCI-Lite",
        "Environment": "Production",
        "Owner": "Conversant",
        "Version": "v1.3",
    }


def test_tenant_tags_follow_the_replication_guide_plus_own_tags() -> None:
    tenant = Tenant(tenant_id="acme", display_name="Acme", tags={"CostCenter": "cc-1"})
    assert tenant_tags(seed_settings(), tenant) == {
        "Component": "S3",
        "CostCenter": "cc-1",
        "Environment": "Production",
        "Project": "CCI-Lite",
        "Region": "eu-central-1",
        "Tenant": "acme",
        "Version": "v1.3",
    }


# --- reserved tag keys: every key the stack sets where a user's tag lands is reserved -----------


def test_reserved_tenant_tag_keys_are_exactly_the_keys_the_stack_sets_beside_a_tenants_tags() -> None:
    """The stack writes the tenant tag set's own keys, and its provider writes the default tags on every resource
    it makes (so on a per-tenant resource a later phase tags with the set): a tenant's tag with one of those keys
    would be silently overwritten or overwrite. The reserved list is held to what the code writes, so a key added
    there is reserved too."""
    for settings in (seed_settings(), seed_settings(region="us-gov-west-1", environment="Staging")):
        written = set(tenant_tags(settings, Tenant(tenant_id="acme", display_name="Acme"))) | set(
            default_tags(settings)
        )
        assert written == set(STACK_TAG_KEYS)
    assert {*STACK_TAG_KEYS, "tenant_id"} == RESERVED_TENANT_TAG_KEYS


def test_no_user_tag_reaches_a_resource_where_the_stack_sets_name() -> None:
    """The stack sets Name on its buckets only, beside Component and the provider's default tags, whose keys are
    fixed (the settings give their values): no setting or tenant adds a key there, so Name needs no reservation."""
    settings = seed_settings()
    assert set(bucket_tags("cci-lite-input-591338347562-eu-central-1")) == {"Component", "Name"}
    assert set(default_tags(settings)) == {"Environment", "Owner", "Project", "Version"}
    assert "Name" not in set(tenant_tags(settings, Tenant(tenant_id="acme", display_name="Acme")))


def test_a_tenants_name_tag_is_kept_as_given_in_its_tag_set() -> None:
    tenant = Tenant(tenant_id="acme", display_name="Acme", tags={"Name": "Acme Corporation"})
    assert tenant_tags(seed_settings(), tenant)["Name"] == "Acme Corporation"
