"""The foundation's customer-managed KMS key and its alias."""

from __future__ import annotations

from collections.abc import Sequence

from cdktf import TerraformResourceLifecycle
from constructs import Construct

from constructs_lib.bindings import KmsAlias, KmsKey
from constructs_lib.config import Settings, Tenant
from constructs_lib.naming import COMPONENT_TAGS, Names, key_description
from constructs_lib.policies import key_policy, terraform_string


class FoundationKey(Construct):
    """One symmetric, single-region customer-managed key with rotation on.

    Emits:
      - ``aws_kms_key.master``: rotation enabled, 30-day deletion window,
        ``prevent_destroy``; policy from ``policies.key_policy``. A policy change
        (a tenant guarded or unguarded) updates the key in place.
      - ``aws_kms_alias.master``: ``alias/<prefix>-master-key``.

    Changing ``multi_region`` or the key spec would replace the key and orphan every
    object encrypted under it; neither is configurable.

    Example::

        key = FoundationKey(stack, "key", settings=settings, tenants=tenants)
        key.key.arn
    """

    def __init__(
        self,
        scope: Construct,
        construct_id: str,
        *,
        settings: Settings,
        tenants: Sequence[Tenant],
    ) -> None:
        super().__init__(scope, construct_id)
        names = Names(settings=settings)
        self.key = KmsKey(
            self,
            "key",
            description=key_description(settings),
            key_usage="ENCRYPT_DECRYPT",
            customer_master_key_spec="SYMMETRIC_DEFAULT",
            enable_key_rotation=True,
            deletion_window_in_days=30,
            multi_region=False,
            policy=terraform_string(key_policy(settings, tenants)),
            tags={"Component": COMPONENT_TAGS["key"]},
            lifecycle=TerraformResourceLifecycle(prevent_destroy=True),
        )
        self.key.override_logical_id("master")
        self.alias = KmsAlias(self, "alias", name=names.key_alias, target_key_id=self.key.key_id)
        self.alias.override_logical_id("master")
