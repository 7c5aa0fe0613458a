"""Physical names and tags: renaming one replaces a real resource."""

from __future__ import annotations

import pytest

from constructs_lib.config import Tenant
from constructs_lib.naming import Names, default_tags, tenant_tags
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
