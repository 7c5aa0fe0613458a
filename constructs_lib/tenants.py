"""The for_each tenant module: one config record per tenant, keyed by tenant_id."""

from __future__ import annotations

from collections.abc import Mapping, Sequence
from pathlib import Path, PurePath

import jsii
from cdktf import IStackSynthesizer, ISynthesisSession, TerraformIterator, TerraformOutput, TerraformStack, Token
from constructs import Construct

from constructs_lib import tenant_file
from constructs_lib.adoption import (
    IMPORTS_FILE,
    MARKER_FILE,
    Adoption,
    partition_tenants,
    render_imports,
    render_marker,
)
from constructs_lib.bindings import DynamodbTable, DynamodbTableItem
from constructs_lib.config import Settings, Tenant


class TenantModule(Construct):
    """Each tenant's record in the config table, and the per-tenant tag sets.

    Emits one resource with Terraform ``for_each`` keyed by ``tenant_id``:
    ``aws_dynamodb_table_item.tenant_config["<tenant_id>"]``. Adding or removing a
    tenant plans a create or delete of that tenant's instance only. And the output
    ``tenant_tags``: a map from tenant id to the seed's per-tenant tag set (a table
    item cannot carry AWS tags), for the later phases that tag per-tenant resources.

    The per-tenant values are written by Python into ``tenants.tf.json`` beside
    ``cdk.tf.json`` (see constructs_lib.tenant_file for why); the resource and the
    output here refer to its locals. Every synth of the stack writes both files.

    With ``adoption`` (a discovery file, constructs_lib.adoption) the module also
    writes ``imports.tf.json`` (an import block per object found) and
    ``adoption.tf.json`` (the marker ``terraform_data.adoption``), leaves out the
    items of records that exist outside Terraform, and renders taken-over records
    with every field they had.

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
        adoption: Adoption | None = None,
    ) -> None:
        super().__init__(scope, construct_id)
        iterator = TerraformIterator.from_map(Token.as_any_map(f"${{local.{tenant_file.ITEMS_LOCAL}}}"))
        self.items = DynamodbTableItem(
            self,
            "item",
            for_each=iterator,
            table_name=table.name,
            hash_key=table.hash_key,
            item=Token.as_string(iterator.value),
        )
        self.items.override_logical_id("tenant_config")
        self.tags_output = TerraformOutput(
            self,
            "tenant_tags",
            value=f"${{local.{tenant_file.TAGS_LOCAL}}}",
            description="Per-tenant tag sets, keyed by tenant_id",
        )
        self.tags_output.override_logical_id("tenant_tags")
        partition = partition_tenants(adoption, tenants)
        files = {
            tenant_file.FILE_NAME: tenant_file.render(
                settings, tenants, outside=partition.outside, extra_fields=partition.extra_fields
            )
        }
        if adoption is not None:
            files[IMPORTS_FILE] = render_imports(adoption, partition.outside)
            files[MARKER_FILE] = render_marker(PurePath(adoption.source).name)
        stack = TerraformStack.of(self)
        stack.synthesizer = FilesBesideStack(stack, stack.synthesizer, files)


@jsii.implements(IStackSynthesizer)
class FilesBesideStack:
    """A stack synthesizer that writes extra files into the stack's directory.

    It runs cdktf's own synthesizer first (cdk.tf.json), then writes ``files``
    (name -> text) beside it, so ``app.synth()`` always produces the complete stack.
    """

    def __init__(self, stack: TerraformStack, inner: IStackSynthesizer, files: Mapping[str, str]) -> None:
        self._stack = stack
        self._inner = inner
        self._files = dict(files)

    def synthesize(self, session: ISynthesisSession) -> None:
        self._inner.synthesize(session)
        directory = Path(session.outdir) / session.manifest.for_stack(self._stack).working_directory
        for name, text in self._files.items():
            (directory / name).write_text(text, encoding="utf-8")
