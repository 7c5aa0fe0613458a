"""The tenant config table ``<prefix>-config``."""

from __future__ import annotations

from cdktf import TerraformResourceLifecycle
from constructs import Construct

from constructs_lib.bindings import (
    DynamodbTable,
    DynamodbTableAttribute,
    DynamodbTablePointInTimeRecovery,
    DynamodbTableServerSideEncryption,
    KmsKey,
)
from constructs_lib.config import Settings
from constructs_lib.naming import COMPONENT_TAGS, Names


class TenantConfigTable(Construct):
    """The DynamoDB table that holds one record per tenant, keyed by ``tenant_id``.

    Emits ``aws_dynamodb_table.tenant_config``: on-demand billing, encrypted with
    the foundation key, point-in-time recovery, deletion protection and
    ``prevent_destroy``. Changing the name or hash key replaces the table.

    Example::

        table = TenantConfigTable(stack, "tenant_config", settings=settings, key=key.key)
    """

    HASH_KEY = "tenant_id"

    def __init__(self, scope: Construct, construct_id: str, *, settings: Settings, key: KmsKey) -> None:
        super().__init__(scope, construct_id)
        self.table = DynamodbTable(
            self,
            "table",
            name=Names(settings=settings).config_table,
            billing_mode="PAY_PER_REQUEST",
            hash_key=self.HASH_KEY,
            attribute=[DynamodbTableAttribute(name=self.HASH_KEY, type="S")],
            server_side_encryption=DynamodbTableServerSideEncryption(enabled=True, kms_key_arn=key.arn),
            point_in_time_recovery=DynamodbTablePointInTimeRecovery(enabled=True),
            deletion_protection_enabled=True,
            tags={"Component": COMPONENT_TAGS["table"]},
            lifecycle=TerraformResourceLifecycle(prevent_destroy=True),
        )
        self.table.override_logical_id("tenant_config")
