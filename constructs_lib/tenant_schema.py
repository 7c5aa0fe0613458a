"""Validate a tenants document against the published ``tenants.schema.json``.

The schema is the single statement of the format: editors check it as people type
(``tenants.json`` names it in ``$schema``), and the program checks it here with the
``jsonschema`` library. Each rule in the schema carries an ``x-rule`` sentence, so a
violation is reported in the user's words rather than the validator's.

JSON Schema patterns are ECMA-262 regular expressions, where ``$`` matches only at
the end of the text. Python's ``re`` also lets ``$`` match before a final newline,
so ``"acme\\n"`` would pass a Python search; the ``pattern`` keyword is therefore
evaluated with ``$`` read as ``\\Z``.
"""

from __future__ import annotations

import json
import re
from collections.abc import Iterator
from functools import cache
from pathlib import Path
from typing import Any

from jsonschema import Draft202012Validator, ValidationError, validators

from constructs_lib.jsonfile import describe, json_path

SCHEMA_PATH = Path(__file__).resolve().parent.parent / "tenants.schema.json"


@cache
def _ecma(pattern: str) -> re.Pattern[str]:
    if pattern.endswith("$") and not pattern.endswith("\\$"):
        pattern = pattern[:-1] + r"\Z"
    return re.compile(pattern)


def _pattern(validator: Any, pattern: str, instance: Any, schema: dict[str, Any]) -> Iterator[ValidationError]:
    if validator.is_type(instance, "string") and not _ecma(pattern).search(instance):
        yield ValidationError(f"{instance!r} does not match {pattern!r}")


_Validator = validators.extend(Draft202012Validator, {"pattern": _pattern})  # type: ignore[no-untyped-call]


@cache
def schema() -> dict[str, Any]:
    loaded: dict[str, Any] = json.loads(SCHEMA_PATH.read_text(encoding="utf-8"))
    return loaded


def _where(label: str, document: Any, path: list[str | int]) -> str:
    """``tenants.json: tenants[2] ('acme')`` for anything inside a tenant."""
    if len(path) >= 2 and path[0] == "tenants" and isinstance(path[1], int):
        tenant = document["tenants"][path[1]]
        tenant_id = tenant.get("tenant_id") if isinstance(tenant, dict) else None
        name = f" ({tenant_id!r})" if isinstance(tenant_id, str) else ""
        return f"{label}: tenants[{path[1]}]{name}"
    return label


def _message(label: str, document: Any, error: ValidationError) -> list[str]:
    path = list(error.absolute_path)
    where = _where(label, document, path)
    inner = path[2:] if len(path) >= 2 and path[0] == "tenants" else path
    # Every subschema in tenants.schema.json is an object, and every instance here is parsed JSON.
    subschema: dict[str, Any] = error.schema if isinstance(error.schema, dict) else {}
    instance: Any = error.instance
    rule = subschema.get("x-rule", error.message)
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
    validator = _Validator(schema())
    errors = sorted(
        validator.iter_errors(document),
        key=lambda e: ([(0, p, "") if isinstance(p, int) else (1, 0, p) for p in e.absolute_path], e.message),
    )
    problems: list[str] = []
    for error in errors:
        problems.extend(_message(label, document, error))
    return problems
