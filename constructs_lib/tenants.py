"""The for_each tenant module: one config record per tenant, keyed by tenant_id."""

from __future__ import annotations

from collections.abc import Sequence
from typing import Any

from cdktf import TerraformIterator, TerraformOutput
from constructs import Construct

from constructs_lib.bindings import DynamodbTable, DynamodbTableItem
from constructs_lib.config import Settings, Tenant
from constructs_lib.naming import tenant_tags
from constructs_lib.policies import compact_json, escape_terraform


def tenant_record(settings: Settings, tenant: Tenant) -> dict[str, Any]:
    """The tenant's config record in DynamoDB's attribute-value JSON."""
    tags = tenant_tags(settings, tenant)
    return {
        "tenant_id": {"S": tenant.tenant_id},
        "display_name": {"S": tenant.display_name},
        "kms_guard": {"BOOL": tenant.kms_guard},
        "tags": {"M": {key: {"S": value} for key, value in tags.items()}},
    }


class TenantModule(Construct):
    """Each tenant's record in the config table, and the per-tenant tag sets.

    Emits one resource with Terraform ``for_each`` keyed by ``tenant_id``:
    ``aws_dynamodb_table_item.tenant_config["<tenant_id>"]``. Adding or removing a
    tenant plans a create or delete of that tenant's instance only. And the output
    ``tenant_tags``: a map from tenant id to the seed's per-tenant tag set (a table
    item cannot carry AWS tags), for the later phases that tag per-tenant resources.

    No marker objects are created for tenant prefixes: lifecycle would expire them
    and every apply would recreate them. Prefixes appear on first upload.

    Example::

        TenantModule(stack, "tenants", settings=settings, tenants=tenants, table=table.table)
    """

    def __init__(
        self,
        scope: Construct,
        construct_id: str,
        *,
        settings: Settings,
        tenants: Sequence[Tenant],
        table: DynamodbTable,
    ) -> None:
        super().__init__(scope, construct_id)
        ordered = sorted(tenants, key=lambda t: t.tenant_id)
        # Every string here is user data headed for a Terraform JSON literal: escape it.
        records = {t.tenant_id: {"item": escape_terraform(compact_json(tenant_record(settings, t)))} for t in ordered}
        iterator = TerraformIterator.from_map(records)
        self.items = DynamodbTableItem(
            self,
            "item",
            for_each=iterator,
            table_name=table.name,
            hash_key=table.hash_key,
            item=iterator.get_string("item"),
        )
        self.items.override_logical_id("tenant_config")
        tags = {
            t.tenant_id: {key: escape_terraform(value) for key, value in tenant_tags(settings, t).items()}
            for t in ordered
        }
        self.tags_output = TerraformOutput(
            self,
            "tenant_tags",
            value=tags,
            description="Per-tenant tag sets, keyed by tenant_id",
        )
        self.tags_output.override_logical_id("tenant_tags")
