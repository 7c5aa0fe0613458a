"""The published schema: valid, referenced by tenants.json, in step with the code and its fast check."""

from __future__ import annotations

import copy
import json
from collections.abc import Callable
from typing import Any

import pytest
import regress
from hypothesis import HealthCheck, given, settings
from hypothesis import strategies as st
from jsonschema import Draft202012Validator, FormatChecker

from constructs_lib.aws_rules import (
    TAG_CHARACTERS,
    TAG_KEY_MAX,
    TAG_RESERVED_PREFIX,
    TAG_VALUE_MAX,
    case_insensitive_pattern,
)
from constructs_lib.naming import RESERVED_TENANT_TAG_KEYS
from constructs_lib.tenant_schema import (
    _IMPLEMENTED_SHAPE,
    SCHEMA_PATH,
    _validator_class,
    conforms,
    rules_for,
    schema,
    schema_problems,
    schema_shape,
)
from tests.helpers import PROJECT_DIR
from tests.test_tenant_properties import MUTATIONS, valid_documents

#: Draft 2020-12's "regex" format is ECMA-262; jsonschema's default checks it with Python's re.
ECMA_FORMATS = FormatChecker()


@ECMA_FORMATS.checks("regex", raises=regress.RegressError)
def _is_ecma_regex(instance: object) -> bool:
    return not isinstance(instance, str) or regress.Regex(instance, "u") is not None


def test_schema_is_a_valid_draft_2020_12_schema() -> None:
    Draft202012Validator.check_schema(schema(), format_checker=ECMA_FORMATS)


def test_shipped_tenants_file_names_the_schema_and_passes_it() -> None:
    document = json.loads((PROJECT_DIR / "tenants.json").read_text(encoding="utf-8"))
    assert document["$schema"] == "./tenants.schema.json"
    assert (PROJECT_DIR / document["$schema"]).resolve() == SCHEMA_PATH
    assert schema_problems(document, "tenants.json") == []


def test_reserved_tag_keys_in_the_schema_are_the_ones_the_stack_sets_in_any_case() -> None:
    names = schema()["$defs"]["tenant"]["properties"]["tags"]["propertyNames"]
    assert names["not"]["anyOf"][1]["pattern"] == case_insensitive_pattern(RESERVED_TENANT_TAG_KEYS)


def test_the_schemas_tag_rule_is_aws_rules_own_text() -> None:
    tags = schema()["$defs"]["tenant"]["properties"]["tags"]
    names, values = tags["propertyNames"], tags["additionalProperties"]
    assert (names["pattern"], names["minLength"], names["maxLength"]) == (TAG_CHARACTERS, 1, TAG_KEY_MAX)
    assert names["not"]["anyOf"][0]["pattern"] == TAG_RESERVED_PREFIX
    assert (values["pattern"], values["maxLength"], values["not"]["pattern"]) == (
        TAG_CHARACTERS,
        TAG_VALUE_MAX,
        TAG_RESERVED_PREFIX,
    )


def test_every_rule_in_the_schema_has_a_sentence_for_the_user() -> None:
    tenant = schema()["$defs"]["tenant"]
    for name, rule in tenant["properties"].items():
        assert rule.get("x-rule"), name
    assert tenant["properties"]["tags"]["propertyNames"]["x-rule"]
    assert tenant["properties"]["tags"]["additionalProperties"]["x-rule"]


def test_dollar_matches_only_at_the_very_end_as_in_ecma_262() -> None:
    (message,) = schema_problems({"tenants": [{"tenant_id": "acme\n"}]}, "t.json")
    assert "tenant_id must be 3-63 lowercase letters" in message and "'acme\\n'" in message


# --- the fast check (conforms) against jsonschema ----------------------------------


def jsonschema_accepts(document: Any) -> bool:
    return not any(_validator_class()(schema()).iter_errors(document))


def test_the_fast_check_implements_the_shipped_schema_shape() -> None:
    assert schema_shape(schema()) == _IMPLEMENTED_SHAPE
    assert rules_for(schema()) is not None
    shipped = json.loads((PROJECT_DIR / "tenants.json").read_text(encoding="utf-8"))
    assert conforms(shipped)


@pytest.mark.parametrize(
    "edit",
    [
        lambda s: s["$defs"]["tenant"]["properties"]["tenant_id"].update(minLength=5),
        lambda s: s["$defs"]["tenant"]["properties"].update(region={"type": "string"}),
        lambda s: s["$defs"]["tenant"].update(required=["tenant_id", "display_name"]),
        lambda s: s["$defs"]["tenant"]["properties"]["kms_guard"].update(type="string"),
        lambda s: s["$defs"]["tenant"].update(additionalProperties=True),
        lambda s: s["properties"]["tenants"].update(maxItems=10),
    ],
)
def test_a_schema_of_another_shape_turns_the_fast_check_off(edit: Callable[[dict[str, Any]], None]) -> None:
    changed = copy.deepcopy(schema())
    edit(changed)
    assert rules_for(changed) is None


def test_the_fast_check_reads_values_from_the_schema() -> None:
    changed = copy.deepcopy(schema())
    changed["$defs"]["tenant"]["properties"]["display_name"]["maxLength"] = 5
    rules = rules_for(changed)
    assert rules is not None and rules.name_max == 5


json_scalars = st.one_of(
    st.none(),
    st.booleans(),
    st.integers(-2, 2),
    st.floats(allow_nan=False, allow_infinity=False),
    st.sampled_from(
        [
            *[
                "",
                "acme",
                "Acme",
                "ok-tenant",
                "a\n",
                " x",
                "aws:x",
                "Tenant",
                "tenant",
                "${x}",
                "caf\u00e9",
                "v" * 257,
            ],
            *["Z\u00fcrich", "a\u2028", "\ufeffx", "x\u00a0", "\U0001f600", "k" * 129, "a\rb", "tenant_ID"],
        ]
    ),
    st.text(max_size=8),
)
json_values = st.recursive(
    json_scalars,
    lambda inner: st.lists(inner, max_size=3) | st.dictionaries(st.text(max_size=6), inner, max_size=3),
    max_leaves=8,
)
tag_maps = st.dictionaries(
    st.sampled_from(
        [
            *["CostCenter", "cost center", "aws:x", "AWS:y", "Tenant", "Owner", "bad#key", "k" * 129, "", "OWNER"],
            *["tenant_id", "Ver\u017fion", "Z\u00fcrich", "Stadt\u00a0Bern", "a\u2028b", "\U0001d400", "\U0001f600"],
        ]
    ),
    json_scalars,
    max_size=4,
)
near_tenants = st.fixed_dictionaries(
    {},
    optional={
        "tenant_id": st.one_of(st.sampled_from(["acme", "globex-2", "ab", "Acme", "acme\n", "a" * 64]), json_scalars),
        "display_name": json_scalars,
        "kms_guard": json_scalars,
        "tags": st.one_of(tag_maps, json_values),
        "extra": json_values,
    },
)
near_documents = st.one_of(
    json_values,
    st.fixed_dictionaries(
        {"tenants": st.one_of(st.lists(near_tenants, max_size=4), json_values)},
        optional={"$schema": json_scalars, "other": json_scalars},
    ),
)


@settings(deadline=None, max_examples=400, suppress_health_check=[HealthCheck.too_slow])
@given(near_documents)
def test_the_fast_check_agrees_with_jsonschema_on_near_miss_documents(document: Any) -> None:
    assert conforms(document) == jsonschema_accepts(document)


@settings(deadline=None, max_examples=150, suppress_health_check=[HealthCheck.too_slow])
@given(st.data(), valid_documents(min_size=1))
def test_the_fast_check_agrees_with_jsonschema_on_valid_and_mutated_documents(
    data: st.DataObject, document: dict[str, Any]
) -> None:
    assert conforms(document) and jsonschema_accepts(document)
    index = data.draw(st.integers(min_value=0, max_value=len(document["tenants"]) - 1))
    data.draw(st.sampled_from(MUTATIONS))(data.draw, document["tenants"][index])
    assert conforms(document) == jsonschema_accepts(document)
