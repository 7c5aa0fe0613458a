"""The foundation stack: provider and composition only."""

from __future__ import annotations

from collections.abc import Sequence

from cdktf import (
    CloudBackend,
    LocalBackend,
    NamedCloudWorkspace,
    S3Backend,
    TaggedCloudWorkspaces,
    TerraformOutput,
    TerraformStack,
)
from constructs import Construct

from constructs_lib.adoption import Adoption
from constructs_lib.backends import BackendSettings, CloudBackendSettings, S3BackendSettings
from constructs_lib.bindings import AwsProvider, AwsProviderDefaultTags
from constructs_lib.config import Settings, Tenant
from constructs_lib.config_table import TenantConfigTable
from constructs_lib.foundation_key import FoundationKey
from constructs_lib.naming import BUCKET_ROLES, default_tags
from constructs_lib.retention import bucket_retention
from constructs_lib.secure_bucket import SecureBucket
from constructs_lib.tenants import TenantModule


class FoundationStack(TerraformStack):
    """CCI Lite's secure storage and event backbone, for one account and region.

    Terraform addresses (pinned by tests/test_addresses.py; a renamed address plans
    a destroy):

    - ``provider.aws``: region, ``allowed_account_ids``, default tags
    - ``aws_kms_key.master``, ``aws_kms_alias.master``
    - for each bucket role ``input``, ``results``, ``athena_staging``:
      ``aws_s3_bucket.<role>`` and its ``_versioning``,
      ``_server_side_encryption_configuration``, ``_public_access_block``,
      ``_ownership_controls``, ``_policy``, ``_lifecycle_configuration`` resources
      under the same name; ``aws_s3_bucket_notification.input`` (EventBridge)
    - ``aws_dynamodb_table.tenant_config``
    - ``aws_dynamodb_table_item.tenant_config["<tenant_id>"]`` (for_each over
      ``local.tenant_config_items``, which ``tenants.tf.json`` beside ``cdk.tf.json`` defines)
    - outputs: ``key_arn``, ``key_alias``, ``<role>_bucket_name``,
      ``<role>_bucket_arn``, ``config_table_name``, ``config_table_arn``, ``tenant_tags``

    With ``adoption`` (a checked discovery file) the stack directory also gets
    ``imports.tf.json``: Terraform import blocks for what exists already
    (constructs_lib.adoption). Without it the output is what it always was.

    Retention follows the design record: input 1 day, results 30 days,
    athena_staging none; noncurrent versions in input and results expire after
    ``settings.noncurrent_version_expiration_days``.
    """

    def __init__(
        self,
        scope: Construct,
        stack_name: str,
        *,
        settings: Settings,
        tenants: Sequence[Tenant],
        adoption: Adoption | None = None,
    ) -> None:
        super().__init__(scope, stack_name)
        provider = AwsProvider(
            self,
            "aws",
            region=settings.region,
            allowed_account_ids=[settings.account_id],
            default_tags=[AwsProviderDefaultTags(tags=default_tags(settings))],
        )
        provider.override_logical_id("aws")
        # Fully qualified, so OpenTofu and Terraform resolve the same provider.
        self.add_override("terraform.required_providers.aws.source", "hashicorp/aws")
        self._backend(settings.backend, stack_name)

        key = FoundationKey(self, "key", settings=settings, tenants=tenants)
        retention = bucket_retention(settings)
        buckets = {
            role: SecureBucket(
                self,
                role,
                settings=settings,
                key=key.key,
                retention=retention[role],
                eventbridge=role == "input",
            )
            for role in BUCKET_ROLES
        }
        table = TenantConfigTable(self, "tenant_config", settings=settings, key=key.key)
        TenantModule(self, "tenants", settings=settings, tenants=tenants, table=table.table, adoption=adoption)

        self._output("key_arn", key.key.arn, "ARN of the foundation KMS key")
        self._output("key_alias", key.alias.name, "Alias of the foundation KMS key")
        for role, bucket in buckets.items():
            self._output(
                f"{role}_bucket_name",
                bucket.bucket.bucket,
                f"Name of the {role} bucket",
            )
            self._output(f"{role}_bucket_arn", bucket.bucket.arn, f"ARN of the {role} bucket")
        self._output("config_table_name", table.table.name, "Name of the tenant config table")
        self._output("config_table_arn", table.table.arn, "ARN of the tenant config table")

    def _backend(self, backend: BackendSettings, stack_name: str) -> None:
        if isinstance(backend, S3BackendSettings):
            S3Backend(
                self,
                bucket=backend.bucket,
                key=backend.key or f"{stack_name}/terraform.tfstate",
                region=backend.region,
                encrypt=True,
                kms_key_id=backend.kms_key_id,
            )
            # S3-native locking (Terraform 1.10+): cdktf 0.21's S3Backend has no
            # use_lockfile option, so it is written into the backend block directly.
            self.add_override("terraform.backend.s3.use_lockfile", True)
        elif isinstance(backend, CloudBackendSettings):
            workspaces: NamedCloudWorkspace | TaggedCloudWorkspaces = (
                NamedCloudWorkspace(backend.workspace)
                if backend.workspace
                else TaggedCloudWorkspaces(list(backend.workspace_tags))
            )
            CloudBackend(self, organization=backend.organization, workspaces=workspaces, hostname=backend.hostname)
        else:
            # State beside the output directory, by a relative path: the output stays
            # the same wherever the project is checked out. `terraform init
            # -backend-config=path=...` points one run elsewhere.
            LocalBackend(self, path=backend.path or f"../../../terraform.{stack_name}.tfstate")

    def _output(self, name: str, value: str, description: str) -> None:
        TerraformOutput(self, name, value=value, description=description).override_logical_id(name)
