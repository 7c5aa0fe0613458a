"""Validate a tenants document against the published ``tenants.schema.json``.

The schema is the single statement of the format: editors check it as people type
(``tenants.json`` names it in ``$schema``), and the program checks it here with the
``jsonschema`` library. Each rule in the schema carries an ``x-rule`` sentence (and
``x-rules``, a sentence per keyword where one subschema states two rules), so a
violation is reported in the user's words rather than the validator's.

JSON Schema patterns are ECMA-262 regular expressions, read by ajv and editors with
the ``u`` flag: ``$`` matches only at the very end, ``.`` matches no line terminator,
``\\s`` includes ``\\ufeff`` and every Unicode space separator, and ``\\p{L}`` is any
letter. Python's ``re`` reads all of these differently, so every ``pattern`` here is
evaluated by :func:`constructs_lib.aws_rules.ecma` (``regress``, an ECMA-262 engine),
in the fast check and in ``jsonschema`` alike. tests/test_schema_ecma.py compares the
program's verdict with ajv's on generated documents.

``jsonschema`` costs about 0.14 ms per tenant (1.4 s for 10,000) and 50 ms to import.
So :func:`conforms` first answers the common question, "is this document valid?", with
checks written for this schema's shape, taking every pattern, length and list from the
schema file itself; only a document it does not accept goes to ``jsonschema``, for the
messages. Should the schema's shape change (a keyword added, moved or removed), the
fast check disables itself and every document goes to ``jsonschema``: it can be out of
date only by being slow, never by accepting what the schema rejects. Tests compare the
two on generated documents.
"""

from __future__ import annotations

import json
from collections.abc import Callable, Iterator
from dataclasses import dataclass
from functools import cache
from pathlib import Path
from typing import TYPE_CHECKING, Any

from constructs_lib.aws_rules import ecma, named_characters, refused_characters
from constructs_lib.jsonfile import describe, json_path

if TYPE_CHECKING:
    from jsonschema import ValidationError

SCHEMA_PATH = Path(__file__).resolve().parent.parent / "tenants.schema.json"


@cache
def _validator_class() -> Any:
    """Draft 2020-12 with ECMA-262 ``pattern``. Imported on first use: it takes 50 ms."""
    from jsonschema import Draft202012Validator, ValidationError, validators

    def pattern(validator: Any, pattern: str, instance: Any, schema: dict[str, Any]) -> Iterator[ValidationError]:
        if validator.is_type(instance, "string") and not ecma(pattern)(instance):
            yield ValidationError(f"{instance!r} does not match {pattern!r}")

    return validators.extend(Draft202012Validator, {"pattern": pattern})  # type: ignore[no-untyped-call]


@cache
def schema() -> dict[str, Any]:
    loaded: dict[str, Any] = json.loads(SCHEMA_PATH.read_text(encoding="utf-8"))
    return loaded


#: Keywords that only document: they never change what is valid.
_ANNOTATIONS = frozenset({"$schema", "title", "description", "x-rule", "x-rules"})

#: The shape :func:`conforms` implements: every validating keyword of tenants.schema.json
#: by location, with the values that decide structure. Patterns, lengths, counts and
#: the enum are not here: conforms() reads those from the schema.
_IMPLEMENTED_SHAPE = frozenset(
    {
        ("", "type", "object"),
        ("", "additionalProperties", False),
        ("", "required", ("tenants",)),
        ("/properties/$schema", "type", "string"),
        ("/properties/tenants", "type", "array"),
        ("/properties/tenants/items", "$ref", "#/$defs/tenant"),
        ("/$defs/tenant", "type", "object"),
        ("/$defs/tenant", "additionalProperties", False),
        ("/$defs/tenant", "required", ("tenant_id",)),
        ("/$defs/tenant/properties/tenant_id", "type", "string"),
        ("/$defs/tenant/properties/tenant_id", "pattern", None),
        ("/$defs/tenant/properties/display_name", "type", "string"),
        ("/$defs/tenant/properties/display_name", "minLength", None),
        ("/$defs/tenant/properties/display_name", "maxLength", None),
        ("/$defs/tenant/properties/display_name", "pattern", None),
        ("/$defs/tenant/properties/kms_guard", "type", "boolean"),
        ("/$defs/tenant/properties/tags", "type", "object"),
        ("/$defs/tenant/properties/tags", "maxProperties", None),
        ("/$defs/tenant/properties/tags/propertyNames", "minLength", None),
        ("/$defs/tenant/properties/tags/propertyNames", "maxLength", None),
        ("/$defs/tenant/properties/tags/propertyNames", "pattern", None),
        ("/$defs/tenant/properties/tags/propertyNames/not/anyOf/0", "pattern", None),
        ("/$defs/tenant/properties/tags/propertyNames/not/anyOf/1", "pattern", None),
        ("/$defs/tenant/properties/tags/additionalProperties", "type", "string"),
        ("/$defs/tenant/properties/tags/additionalProperties", "maxLength", None),
        ("/$defs/tenant/properties/tags/additionalProperties", "pattern", None),
        ("/$defs/tenant/properties/tags/additionalProperties/not", "type", "string"),
        ("/$defs/tenant/properties/tags/additionalProperties/not", "pattern", None),
    }
)
_STRUCTURAL_VALUES = frozenset({"type", "additionalProperties", "$ref", "required"})
_SUBSCHEMA_MAPS = frozenset({"properties", "$defs"})
_SUBSCHEMA_LISTS = frozenset({"anyOf", "allOf", "oneOf", "prefixItems"})


def schema_shape(node: Any, pointer: str = "") -> frozenset[tuple[str, str, Any]]:
    """Every validating keyword under ``node`` as (JSON pointer, keyword, structural value)."""
    shape: set[tuple[str, str, Any]] = set()
    if not isinstance(node, dict):
        return frozenset({(pointer, "<not an object>", repr(node))})
    for keyword, value in node.items():
        if keyword in _ANNOTATIONS:
            continue
        if keyword in _SUBSCHEMA_MAPS and isinstance(value, dict):
            for name, child in value.items():
                shape |= schema_shape(child, f"{pointer}/{keyword}/{name}")
        elif keyword in _SUBSCHEMA_LISTS and isinstance(value, list):
            for index, child in enumerate(value):
                shape |= schema_shape(child, f"{pointer}/{keyword}/{index}")
        elif isinstance(value, dict):
            shape |= schema_shape(value, f"{pointer}/{keyword}")
        else:
            structural = value if keyword in _STRUCTURAL_VALUES else None
            shape.add((pointer, keyword, structural if not isinstance(structural, list) else tuple(structural)))
    return frozenset(shape)


@dataclass(frozen=True)
class _Rules:
    """What conforms() checks, read from the schema."""

    top_keys: frozenset[str]
    tenant_keys: frozenset[str]
    tenant_id: Callable[[str], bool]
    name_min: int
    name_max: int
    name: Callable[[str], bool]
    tags_max: int
    tag_key: Callable[[str], bool]
    tag_value: Callable[[str], bool]


@cache
def _rules() -> _Rules | None:
    return rules_for(schema())


def _remembered(check: Callable[[str], bool]) -> Callable[[str], bool]:
    """``check`` with its verdicts kept: tag keys and values repeat across tenants."""
    verdicts: dict[str, bool] = {}
    known = verdicts.get

    def remembered(text: str) -> bool:
        verdict = known(text)
        if verdict is None:
            if len(verdicts) >= 65536:
                verdicts.clear()
            verdict = verdicts[text] = check(text)
        return verdict

    return remembered


def rules_for(root: dict[str, Any]) -> _Rules | None:
    """The fast check's rules for a schema, or None if it is not the shape conforms() implements."""
    if schema_shape(root) != _IMPLEMENTED_SHAPE:
        return None
    tenant = root["$defs"]["tenant"]
    props = tenant["properties"]
    tags = props["tags"]
    names, values = tags["propertyNames"], tags["additionalProperties"]
    key_min, key_max, key_pattern = names["minLength"], names["maxLength"], ecma(names["pattern"])
    key_forbidden = [ecma(alternative["pattern"]) for alternative in names["not"]["anyOf"]]
    value_max, value_pattern, value_forbidden = (
        values["maxLength"],
        ecma(values["pattern"]),
        ecma(values["not"]["pattern"]),
    )

    def tag_key(key: str) -> bool:
        return key_min <= len(key) <= key_max and key_pattern(key) and not any(f(key) for f in key_forbidden)

    def tag_value(value: str) -> bool:
        return len(value) <= value_max and value_pattern(value) and not value_forbidden(value)

    return _Rules(
        top_keys=frozenset(root["properties"]),
        tenant_keys=frozenset(props),
        tenant_id=ecma(props["tenant_id"]["pattern"]),
        name_min=props["display_name"]["minLength"],
        name_max=props["display_name"]["maxLength"],
        name=ecma(props["display_name"]["pattern"]),
        tags_max=tags["maxProperties"],
        tag_key=_remembered(tag_key),
        tag_value=_remembered(tag_value),
    )


def conforms(document: Any) -> bool:
    """True only if ``document`` satisfies tenants.schema.json; fast, and without messages.

    False means "ask jsonschema": the document is invalid, or the fast check is
    disabled because the schema changed shape.
    """
    rules = _rules()
    if rules is None or not isinstance(document, dict):
        return False
    if "tenants" not in document or not document.keys() <= rules.top_keys:
        return False
    if "$schema" in document and not isinstance(document["$schema"], str):
        return False
    tenants = document["tenants"]
    if not isinstance(tenants, list):
        return False
    tenant_keys, tenant_id_ok, name_ok = rules.tenant_keys, rules.tenant_id, rules.name
    name_min, name_max, tags_max = rules.name_min, rules.name_max, rules.tags_max
    tag_key_ok, tag_value_ok = rules.tag_key, rules.tag_value
    for tenant in tenants:
        if not isinstance(tenant, dict) or "tenant_id" not in tenant or not tenant.keys() <= tenant_keys:
            return False
        tenant_id = tenant["tenant_id"]
        if not isinstance(tenant_id, str) or not tenant_id_ok(tenant_id):
            return False
        if "display_name" in tenant:
            name = tenant["display_name"]
            if not isinstance(name, str) or not name_min <= len(name) <= name_max or not name_ok(name):
                return False
        if "kms_guard" in tenant and not isinstance(tenant["kms_guard"], bool):
            return False
        if "tags" in tenant:
            tags = tenant["tags"]
            if not isinstance(tags, dict) or len(tags) > tags_max:
                return False
            for key, value in tags.items():
                if not isinstance(value, str) or not tag_key_ok(key) or not tag_value_ok(value):
                    return False
    return True


def _where(label: str, document: Any, path: list[str | int]) -> str:
    """``tenants.json: tenants[2] ('acme')`` for anything inside a tenant."""
    if len(path) >= 2 and path[0] == "tenants" and isinstance(path[1], int):
        tenant = document["tenants"][path[1]]
        tenant_id = tenant.get("tenant_id") if isinstance(tenant, dict) else None
        name = f" ({tenant_id!r})" if isinstance(tenant_id, str) else ""
        return f"{label}: tenants[{path[1]}]{name}"
    return label


#: ECMA-262 line terminators: what ``.`` does not match.
_LINE_TERMINATORS = "\n\r\u2028\u2029"


def _refused_characters(text: str, pattern: str) -> str:
    """``, not U+0301 COMBINING ACUTE ACCENT at character 5``: what a pattern refused in ``text``.

    A pattern of character classes names each character no class allows; display_name's
    ``^\\S(.*\\S)?$`` names white space at either end and line terminators anywhere.
    """
    note = refused_characters(text, pattern)
    if note or "[" in pattern:
        return note
    space = ecma("^\\s$")
    found = [
        (index, char)
        for index, char in enumerate(text)
        if char in _LINE_TERMINATORS or (index in (0, len(text) - 1) and space(char))
    ]
    return f", not {named_characters(found)}" if found else ""


def _message(label: str, document: Any, error: ValidationError) -> list[str]:
    path = list(error.absolute_path)
    where = _where(label, document, path)
    inner = path[2:] if len(path) >= 2 and path[0] == "tenants" else path
    # Every subschema in tenants.schema.json is an object, and every instance here is parsed JSON.
    subschema: dict[str, Any] = error.schema if isinstance(error.schema, dict) else {}
    instance: Any = error.instance
    # x-rules: a sentence for one keyword of the subschema (its "not", say); x-rule: for the rest.
    rule = subschema.get("x-rules", {}).get(error.validator) or subschema.get("x-rule", error.message)
    if error.validator == "pattern" and isinstance(instance, str) and isinstance(error.validator_value, str):
        rule += _refused_characters(instance, error.validator_value)
    if "propertyNames" in error.schema_path:
        return [f"{where}: tag key {describe(instance)} {rule}"]
    if error.validator == "additionalProperties":
        allowed = sorted(subschema.get("properties", {}))
        unknown = sorted(set(instance) - set(allowed))
        return [f"{where}: unknown field {key!r}; allowed: {', '.join(allowed)}" for key in unknown]
    if error.validator == "required":
        missing = [key for key in subschema.get("required", []) if key not in instance]
        rules = {key: sub.get("x-rule", "is required") for key, sub in subschema.get("properties", {}).items()}
        return [f"{where}: {key} is missing; it {rules.get(key, 'is required')}" for key in missing]
    if len(inner) == 2 and inner[0] == "tags":
        return [f"{where}: tag {inner[1]!r} value {describe(instance)} {rule}"]
    got = describe(instance)
    got = got if len(got) <= 100 else got[:97] + "..."
    if not path:
        return [f"{label}: {rule}, got {got}"]
    if len(path) == 1:
        return [f"{label}: {path[0]} {rule}, got {got}"]
    if not inner:
        return [f"{where} {rule}, got {got}"]
    return [f"{where}: {json_path(inner)} {rule}, got {got}"]


def schema_problems(document: Any, label: str) -> list[str]:
    """Every violation of the tenants schema in ``document``, one line each, in document order."""
    if conforms(document):
        return []
    validator = _validator_class()(schema())
    errors = sorted(
        validator.iter_errors(document),
        key=lambda e: ([(0, p, "") if isinstance(p, int) else (1, 0, p) for p in e.absolute_path], e.message),
    )
    problems: list[str] = []
    for error in errors:
        problems.extend(_message(label, document, error))
    return list(dict.fromkeys(problems))  # a key that breaks two rules of one sentence shows once
