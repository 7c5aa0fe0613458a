"""The published schema: valid, referenced by tenants.json, and in step with the code."""

from __future__ import annotations

import json

from jsonschema import Draft202012Validator

from constructs_lib.naming import STACK_TAG_KEYS
from constructs_lib.tenant_schema import SCHEMA_PATH, schema, schema_problems
from tests.helpers import PROJECT_DIR


def test_schema_is_a_valid_draft_2020_12_schema() -> None:
    Draft202012Validator.check_schema(schema())


def test_shipped_tenants_file_names_the_schema_and_passes_it() -> None:
    document = json.loads((PROJECT_DIR / "tenants.json").read_text(encoding="utf-8"))
    assert document["$schema"] == "./tenants.schema.json"
    assert (PROJECT_DIR / document["$schema"]).resolve() == SCHEMA_PATH
    assert schema_problems(document, "tenants.json") == []


def test_reserved_tag_keys_in_the_schema_are_the_ones_the_stack_sets() -> None:
    names = schema()["$defs"]["tenant"]["properties"]["tags"]["propertyNames"]
    assert set(names["not"]["anyOf"][1]["enum"]) == STACK_TAG_KEYS


def test_every_rule_in_the_schema_has_a_sentence_for_the_user() -> None:
    tenant = schema()["$defs"]["tenant"]
    for name, rule in tenant["properties"].items():
        assert rule.get("x-rule"), name
    assert tenant["properties"]["tags"]["propertyNames"]["x-rule"]
    assert tenant["properties"]["tags"]["additionalProperties"]["x-rule"]


def test_dollar_matches_only_at_the_very_end_as_in_ecma_262() -> None:
    (message,) = schema_problems({"tenants": [{"tenant_id": "acme\n"}]}, "t.json")
    assert "tenant_id must be 3-63 lowercase letters" in message and "'acme\\n'" in message
