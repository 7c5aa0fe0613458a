"""Property-based tests of tenants validation (hypothesis).

Generated valid documents are accepted and round-trip; each generated mutation of a
valid document is rejected with a message that names the tenant and the field.
"""

from __future__ import annotations

import json
from typing import Any

from hypothesis import HealthCheck, given, settings
from hypothesis import strategies as st

from constructs_lib.config import Tenant, parse_tenants
from constructs_lib.errors import ConfigError
from constructs_lib.naming import RESERVED_TENANT_TAG_KEYS

#: AWS's tag characters: Unicode letters (L), separators (Z) and numbers (N), and _ . : / = + - @.
TAG_CHARS = st.one_of(
    st.sampled_from("ABCxyz0129 _.:/=+@-"),
    st.characters(categories=("L", "Z", "N")),
)
_RESERVED = {key.casefold() for key in RESERVED_TENANT_TAG_KEYS}

tenant_ids = st.from_regex(r"[a-z0-9][a-z0-9-]{1,61}[a-z0-9]", fullmatch=True)
#: No line terminator anywhere (ECMA-262's '.' matches none) and no white space at either end.
display_names = st.text(
    alphabet=st.characters(codec="utf-8", exclude_categories=("Cs", "Cc", "Zl", "Zp")), min_size=1, max_size=256
).filter(lambda s: s == s.strip() and s.strip() != "" and not any(c.isspace() and c != " " for c in s))
tag_keys = st.text(alphabet=TAG_CHARS, min_size=1, max_size=128).filter(
    lambda k: k.casefold() not in _RESERVED and not k.casefold().startswith("aws:") and not k.lower().startswith("aws:")
)
tag_values = st.text(alphabet=TAG_CHARS, max_size=256).filter(lambda v: not v.lower().startswith("aws:"))
#: A tenant's tags: no two keys that differ only by letter case.
tag_maps = st.lists(st.tuples(tag_keys, tag_values), max_size=4, unique_by=lambda kv: kv[0].casefold()).map(dict)


@st.composite
def raw_tenant(draw: st.DrawFn, tenant_id: str) -> dict[str, Any]:
    raw: dict[str, Any] = {"tenant_id": tenant_id}
    if draw(st.booleans()):
        raw["display_name"] = draw(display_names)
    if draw(st.booleans()):
        raw["kms_guard"] = draw(st.booleans())
    if draw(st.booleans()):
        raw["tags"] = draw(tag_maps)
    return raw


@st.composite
def valid_documents(draw: st.DrawFn, min_size: int = 0) -> dict[str, Any]:
    ids = draw(st.lists(tenant_ids, min_size=min_size, max_size=6, unique=True))
    document: dict[str, Any] = {"tenants": [draw(raw_tenant(tenant_id)) for tenant_id in ids]}
    if draw(st.booleans()):
        document["$schema"] = "./tenants.schema.json"
    return document


def expected(raw: dict[str, Any]) -> Tenant:
    return Tenant(
        tenant_id=raw["tenant_id"],
        display_name=raw.get("display_name", raw["tenant_id"]),
        kms_guard=raw.get("kms_guard", False),
        tags=raw.get("tags", {}),
    )


FAST = settings(deadline=None, max_examples=150, suppress_health_check=[HealthCheck.too_slow])


@FAST
@given(valid_documents())
def test_valid_documents_are_accepted_and_round_trip(document: dict[str, Any]) -> None:
    reparsed = json.loads(json.dumps(document, ensure_ascii=False))
    tenants = parse_tenants(reparsed, "tenants.json")
    assert tenants == tuple(sorted((expected(raw) for raw in document["tenants"]), key=lambda t: t.tenant_id))


def _bad_id(draw: st.DrawFn, raw: dict[str, Any]) -> str:
    raw["tenant_id"] = draw(
        st.sampled_from(
            [
                raw["tenant_id"].upper() + "X",
                raw["tenant_id"] + "_x",
                "x/" + raw["tenant_id"],
                "-" + raw["tenant_id"],
                raw["tenant_id"] + "-",
                "\u0430" + raw["tenant_id"],
                raw["tenant_id"][:1],
                raw["tenant_id"] + "\n",
                raw["tenant_id"] + "y" * 64,
            ]
        )
    )
    return "tenant_id"


def _unknown_field(draw: st.DrawFn, raw: dict[str, Any]) -> str:
    name = draw(st.sampled_from(["kms_gaurd", "tag", "displayName", "tenantid", "guard"]))
    raw[name] = True
    return name


def _guard_type(draw: st.DrawFn, raw: dict[str, Any]) -> str:
    raw["kms_guard"] = draw(st.sampled_from(["true", 1, 0, None, []]))
    return "kms_guard"


def _display_name(draw: st.DrawFn, raw: dict[str, Any]) -> str:
    raw["display_name"] = draw(
        st.sampled_from(
            [
                *["", " Acme", "Acme ", "a" * 257, 5, "two\nlines", "a\rb", "a\u2028b", "a\u2029b", "\ufeffAcme"],
                *["Acme\u00a0", "\u3000Acme", "Acme\t"],
            ]
        )
    )
    return "display_name"


def _reserved_tag(draw: st.DrawFn, raw: dict[str, Any]) -> str:
    reserved = sorted(RESERVED_TENANT_TAG_KEYS)
    key = draw(
        st.sampled_from(
            [
                *reserved,
                *(k.upper() for k in reserved),
                *["TENANT_ID", "Ver\u017fion", "aws:x", "AWS:cost", "Aws:y"],
                *["bad#key", "k" * 129, "tab\tkey", "semi;colon", "dollar$"],
            ]
        )
    )
    raw["tags"] = {**raw.get("tags", {}), key: "v"}
    return "tag key"


def _tag_value(draw: st.DrawFn, raw: dict[str, Any]) -> str:
    bad = [7, "${x}", "v" * 257, "caf\u00e9$", "aws:managed", "AWS:x", "a\tb", "a\nb", "\U0001f600", "50%"]
    raw["tags"] = {**raw.get("tags", {}), "CostCenter": draw(st.sampled_from(bad))}
    return "tag 'CostCenter' value"


def _case_twin_tag(draw: st.DrawFn, raw: dict[str, Any]) -> str:
    raw["tags"] = {"CostCenter": "a", draw(st.sampled_from(["costcenter", "COSTCENTER", "costCenter"])): "b"}
    return "differ only by letter case"


MUTATIONS = [_bad_id, _unknown_field, _guard_type, _display_name, _reserved_tag, _tag_value, _case_twin_tag]


@FAST
@given(st.data(), valid_documents(min_size=1))
def test_mutations_are_rejected_naming_tenant_and_field(data: st.DataObject, document: dict[str, Any]) -> None:
    index = data.draw(st.integers(min_value=0, max_value=len(document["tenants"]) - 1))
    mutate = data.draw(st.sampled_from(MUTATIONS))
    field = mutate(data.draw, document["tenants"][index])
    try:
        parse_tenants(document, "tenants.json")
    except ConfigError as error:
        named = [p for p in error.problems if p.startswith(f"tenants.json: tenants[{index}]") and field in p]
        assert named, (field, error.problems)
    else:
        raise AssertionError(f"mutation of {field} in tenants[{index}] was accepted: {document['tenants'][index]}")


@FAST
@given(st.data(), valid_documents(min_size=2))
def test_a_repeated_id_is_rejected_naming_both_places(data: st.DataObject, document: dict[str, Any]) -> None:
    tenants = document["tenants"]
    source, target = data.draw(st.permutations(range(len(tenants))))[:2]
    tenants[target]["tenant_id"] = tenants[source]["tenant_id"]
    try:
        parse_tenants(document, "tenants.json")
    except ConfigError as error:
        first, second = sorted((source, target))
        assert (
            f"tenants.json: tenant_id {tenants[source]['tenant_id']!r} appears 2 times "
            f"(tenants[{first}], tenants[{second}]); ids must be unique"
        ) in error.problems
    else:
        raise AssertionError("a repeated tenant id was accepted")
