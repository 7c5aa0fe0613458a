"""``tenants.tf.json``: the per-tenant values, written beside ``cdk.tf.json``. No jsii import.

Terraform reads every ``*.tf.json`` file in a stack's directory as one module, so
the tenant module's resource and output in ``cdk.tf.json`` refer to two locals
defined here:

- ``local.tenant_config_items``: tenant id -> the config record as DynamoDB JSON,
  the ``for_each`` of ``aws_dynamodb_table_item.tenant_config``;
- ``local.tenant_tags``: tenant id -> the tenant's tag set, the ``tenant_tags`` output.

Why a second file: every value that goes into ``cdk.tf.json`` crosses from Python
into the jsii kernel and is walked by cdktf's token resolution in node. At 10,000
tenants that is about 2 s, and it grows with every tenant; written here by Python
it is about 0.1 s. The file also reads well in review: one line per tenant in each
map, sorted by id, so adding a tenant adds a line to each map.

Terraform plans the same either way: the same ``for_each`` keys and item strings,
so moving the values between the two files changes nothing in AWS. It plans much
faster from a local, though: 1,000 new tenants took about 3 minutes to plan with the
map inline in ``for_each``, and take about 7 s now (bench/RESULTS.md).
"""

from __future__ import annotations

import json
from collections.abc import Iterable, Mapping, Sequence
from json.encoder import encode_basestring
from typing import Any

from constructs_lib.config import Settings, Tenant
from constructs_lib.naming import shared_tenant_tags
from constructs_lib.policies import escape_terraform

FILE_NAME = "tenants.tf.json"
ITEMS_LOCAL = "tenant_config_items"
TAGS_LOCAL = "tenant_tags"

_COMMENT = (
    "CCI Lite tenants, written by the synth from the tenants file; do not edit. "
    f"local.{ITEMS_LOCAL} is the for_each of aws_dynamodb_table_item.tenant_config in cdk.tf.json, "
    f"local.{TAGS_LOCAL} its output tenant_tags."
)


def _record_json(tenant: Tenant, tag_fragments: Iterable[str]) -> str:
    # The bytes json.dumps(record, separators=(",", ":"), ensure_ascii=False) gives for
    # the record {"tenant_id": {"S": ...}, "display_name": {"S": ...}, "kms_guard":
    # {"BOOL": ...}, "tags": {"M": {key: {"S": value}}}}, without building the nested
    # dicts (tests/test_tenant_file.py holds the two equal). encode_basestring is
    # json.dumps's string encoder for ensure_ascii=False.
    return (
        f'{{"tenant_id":{{"S":{encode_basestring(tenant.tenant_id)}}},'
        f'"display_name":{{"S":{encode_basestring(tenant.display_name)}}},'
        f'"kms_guard":{{"BOOL":{"true" if tenant.kms_guard else "false"}}},'
        f'"tags":{{"M":{{{",".join(tag_fragments)}}}}}}}'
    )


def _tag(key: str, value: str) -> tuple[str, str, str]:
    """A tag as (key, its fragment of the record's M map, its fragment of the tag-set line)."""
    k, v = encode_basestring(key), encode_basestring(value)
    return key, f'{k}:{{"S":{v}}}', f"{k}: {encode_basestring(escape_terraform(value))}"


def _map(name: str, lines: list[str]) -> str:
    if not lines:
        return f"    {encode_basestring(name)}: {{}}"
    return f"    {encode_basestring(name)}: {{\n" + ",\n".join(lines) + "\n    }"


def render(
    settings: Settings,
    tenants: Sequence[Tenant],
    *,
    outside: Iterable[str] = (),
    extra_fields: Mapping[str, Mapping[str, Any]] | None = None,
) -> str:
    """The text of ``tenants.tf.json`` for ``tenants``, sorted by id.

    Every string is user data headed for a Terraform JSON literal, so each is
    escaped (``${`` -> ``$${``); the tenants file's rules already keep ``$`` out of
    ids, tag keys and tag values. This runs once per tenant at every synth, so the
    tag set is merged here from the stack's shared part and the tenant's own part
    (the same set naming.tenant_tags returns; a test holds the two equal).

    Adoption (constructs_lib.adoption.partition_tenants): tenants in ``outside`` have a
    record Terraform does not manage; they get no item (their tag set stays).
    ``extra_fields`` (tenant id -> DynamoDB JSON attributes) are the fields of a
    taken-over record the product does not manage: its item carries them after the
    product's own, sorted by name, so that no field is lost.
    """
    shared = [_tag(k, v) for k, v in shared_tenant_tags(settings).items()]
    left_out = set(outside)
    extra = extra_fields or {}
    items: list[str] = []
    tag_sets: list[str] = []
    for tenant in sorted(tenants, key=lambda t: t.tenant_id):
        key = encode_basestring(tenant.tenant_id)
        tags = [*shared, _tag("Tenant", tenant.tenant_id), *[_tag(k, v) for k, v in tenant.tags.items()]]
        tags.sort()  # by key: keys are unique, so the fragments are never compared
        tag_sets.append(f"      {key}: {{{', '.join([line for _, _, line in tags])}}}")
        if tenant.tenant_id in left_out:
            continue
        record = _record_json(tenant, [fragment for _, fragment, _ in tags])
        if extra.get(tenant.tenant_id):
            fields = json.dumps(
                dict(sorted(extra[tenant.tenant_id].items())), separators=(",", ":"), ensure_ascii=False
            )
            record = f"{record[:-1]},{fields[1:]}"
        items.append(f"      {key}: {encode_basestring(escape_terraform(record))}")
    return (
        "{\n"
        f'  "//": {encode_basestring(_COMMENT)},\n'
        '  "locals": {\n'
        f"{_map(ITEMS_LOCAL, items)},\n"
        f"{_map(TAGS_LOCAL, tag_sets)}\n"
        "  }\n"
        "}\n"
    )
