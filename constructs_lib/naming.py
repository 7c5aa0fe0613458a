"""The one place that derives physical names and tags from the settings.

Changing a name here renames a real resource: for a bucket or the table that means
replacement. tests/test_naming.py pins every name.
"""

from __future__ import annotations

from dataclasses import dataclass

from constructs_lib.config import Settings, Tenant

#: Bucket roles, in the order the design record lists them. Each role is also the
#: bucket's construct id and Terraform resource name.
BUCKET_ROLES: tuple[str, ...] = ("input", "results", "athena_staging")


@dataclass(frozen=True, kw_only=True)
class Names:
    """Physical names for one deployment (account, region, prefix)."""

    settings: Settings

    @property
    def stack(self) -> str:
        """The cdktf stack name, and so the local state file name."""
        return self.settings.stack

    @property
    def key_alias(self) -> str:
        return f"alias/{self.settings.name_prefix}-master-key"

    @property
    def config_table(self) -> str:
        return f"{self.settings.name_prefix}-config"

    def bucket(self, role: str) -> str:
        """``<prefix>-<role>-<account>-<region>``; athena_staging becomes athena-staging."""
        if role not in BUCKET_ROLES:
            raise ValueError(f"unknown bucket role {role!r}; known: {', '.join(BUCKET_ROLES)}")
        s = self.settings
        return f"{s.name_prefix}-{role.replace('_', '-')}-{s.account_id}-{s.region}"

    def bucket_arn(self, role: str) -> str:
        return f"arn:{self.settings.partition}:s3:::{self.bucket(role)}"

    @property
    def account_root_arn(self) -> str:
        return f"arn:{self.settings.partition}:iam::{self.settings.account_id}:root"


#: The ``Component`` tag of each kind of foundation resource (besides the provider's default tags).
COMPONENT_TAGS: dict[str, str] = {"key": "KMS", "bucket": "S3", "table": "DynamoDB"}


def key_description(settings: Settings) -> str:
    """The foundation key's description."""
    return f"{settings.project} {settings.environment} master key: S3, DynamoDB and pipeline data"


def bucket_tags(name: str) -> dict[str, str]:
    """A bucket's own tags (the provider adds the default tags)."""
    return {"Component": COMPONENT_TAGS["bucket"], "Name": name}


#: Tag keys the stack sets on a tenant.
STACK_TAG_KEYS: frozenset[str] = frozenset(
    {"Tenant", "Project", "Environment", "Owner", "Component", "Region", "Version"}
)
#: Keys a tenant's own tags may not use, in any letter case (IAM compares tag keys
#: case-insensitively): the stack's keys, and tenant_id, the principal tag the key
#: policy's tenant guard trusts. tenants.schema.json holds them as a pattern, and a
#: test keeps the two equal.
RESERVED_TENANT_TAG_KEYS: frozenset[str] = STACK_TAG_KEYS | {"tenant_id"}


def default_tags(settings: Settings) -> dict[str, str]:
    """The provider's default tags, on every taggable resource (design record, KMS tag set)."""
    return {
        "Environment": settings.environment,
        "Owner": settings.owner,
        "Project": settings.project,
        "Version": settings.version,
    }


def tenant_tags(settings: Settings, tenant: Tenant) -> dict[str, str]:
    """The seed's per-tenant tag set (replication guide, step 4) plus the tenant's own tags.

    Sorted by key. Config validation refuses tenant tags that reuse one of the
    reserved keys in any letter case, so the stack's values always win.
    """
    tags = dict(tenant.tags)
    tags.update(shared_tenant_tags(settings))
    tags["Tenant"] = tenant.tenant_id
    return dict(sorted(tags.items()))


def shared_tenant_tags(settings: Settings) -> dict[str, str]:
    """The part of every tenant's tag set that is the same for all tenants of a stack."""
    return {
        "Project": settings.project,
        "Environment": settings.environment,
        "Component": "S3",
        "Region": settings.region,
        "Version": settings.version,
    }
