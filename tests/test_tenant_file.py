"""tenants.tf.json: the per-tenant values, rendered by Python beside cdk.tf.json."""

from __future__ import annotations

import json
from typing import Any

from hypothesis import given
from hypothesis import strategies as st

from constructs_lib.config import Settings, Tenant, parse_tenants
from constructs_lib.naming import tenant_tags
from constructs_lib.policies import compact_json, escape_terraform
from constructs_lib.tenant_file import render
from tests.helpers import TEST_TENANTS, seed_settings
from tests.test_tenant_properties import FAST, valid_documents

SETTINGS = seed_settings()


def tenant_record(settings: Settings, tenant: Tenant) -> dict[str, Any]:
    """The tenant's config record in DynamoDB's attribute-value JSON: what render() must encode."""
    tags = tenant_tags(settings, tenant)
    return {
        "tenant_id": {"S": tenant.tenant_id},
        "display_name": {"S": tenant.display_name},
        "kms_guard": {"BOOL": tenant.kms_guard},
        "tags": {"M": {key: {"S": value} for key, value in tags.items()}},
    }


def tenants_of(document: dict[str, Any]) -> tuple[Tenant, ...]:
    return parse_tenants(json.loads(json.dumps(document)), "tenants.json")


@FAST
@given(valid_documents(), st.sampled_from(["Caf\u00e9 ${x} %{y}", 'say "hi" \\ back', "\U0001f600 emoji"]))
def test_item_strings_are_the_compact_json_of_the_record(document: dict[str, Any], name: str) -> None:
    tenants = [*tenants_of(document), Tenant(tenant_id="odd-one", display_name=name)]
    items = json.loads(render(SETTINGS, tenants))["locals"]["tenant_config_items"]
    for tenant in tenants:
        assert items[tenant.tenant_id] == escape_terraform(compact_json(tenant_record(SETTINGS, tenant)))


@FAST
@given(valid_documents())
def test_rendered_file_holds_every_item_and_tag_set_sorted_by_id(document: dict[str, Any]) -> None:
    tenants = tenants_of(document)
    text = render(SETTINGS, list(reversed(tenants)))
    parsed = json.loads(text)
    ids = sorted(t.tenant_id for t in tenants)
    assert list(parsed) == ["//", "locals"]
    assert list(parsed["locals"]) == ["tenant_config_items", "tenant_tags"]
    assert list(parsed["locals"]["tenant_config_items"]) == ids
    assert list(parsed["locals"]["tenant_tags"]) == ids
    for tenant in tenants:
        item = parsed["locals"]["tenant_config_items"][tenant.tenant_id]
        assert item == escape_terraform(compact_json(tenant_record(SETTINGS, tenant)))
        tags = tenant_tags(SETTINGS, tenant)
        assert parsed["locals"]["tenant_tags"][tenant.tenant_id] == {k: escape_terraform(v) for k, v in tags.items()}


def test_each_tenant_is_one_line_in_each_map_so_a_new_tenant_adds_two_lines() -> None:
    before = render(SETTINGS, TEST_TENANTS).splitlines()
    # "beta" sorts between existing ids, so no neighbour gains a trailing comma.
    after = render(SETTINGS, [*TEST_TENANTS, Tenant(tenant_id="beta", display_name="Beta")]).splitlines()
    added = [line for line in after if line not in before]
    assert len(after) == len(before) + 2
    assert len(added) == 2 and all(line.startswith('      "beta": ') for line in added)


def test_user_text_stays_literal_for_terraform() -> None:
    text = render(SETTINGS, [Tenant(tenant_id="globex", display_name="Globex ${not.interpolated} %{if x}")])
    item = json.loads(text)["locals"]["tenant_config_items"]["globex"]
    assert "Globex $${not.interpolated} %%{if x}" in item
    assert json.loads(item.replace("$${", "${").replace("%%{", "%{"))["display_name"] == {
        "S": "Globex ${not.interpolated} %{if x}"
    }


def test_no_tenants_gives_empty_maps() -> None:
    parsed = json.loads(render(SETTINGS, []))
    assert parsed["locals"] == {"tenant_config_items": {}, "tenant_tags": {}}


def test_non_ascii_text_is_written_as_utf8_not_escaped() -> None:
    text = render(SETTINGS, [Tenant(tenant_id="cafe", display_name="Caf\u00e9 M\u00fcller")])
    assert "Caf\u00e9 M\u00fcller" in text
