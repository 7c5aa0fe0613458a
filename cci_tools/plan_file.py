"""The plan ``audit --plan`` reviews: read as ``terraform show -json`` writes it, and held to the stack. No jsii import.

Two mistakes make a review wrong without a word, so both are refused (PlanError, one line):

- a file that is not the JSON of a plan: a binary plan (``plan.bin``, a zip archive), a
  state (``terraform show -json`` without a plan file), the tenants file, ``{}``, text in
  another encoding. The JSON output format is Terraform's "JSON Output Format"
  (https://developer.hashicorp.com/terraform/internals/json-format): ``format_version``,
  ``terraform_version``, ``configuration`` and, when there is any resource, ``resource_changes``.
- a plan made from other stack files than the ones the review reads (a plan from
  yesterday's synth, the stack synthesized again since): ``stale_differences`` compares the
  plan's configuration with the stack directory's ``*.tf.json``.
"""

from __future__ import annotations

import json
import re
from pathlib import Path
from typing import Any

from constructs_lib.adoption import statement_digests
from constructs_lib.policies import unescape_terraform

Json = dict[str, Any]

#: How a binary plan file (``terraform plan -out``) starts: it is a zip archive.
ZIP_MAGIC = b"PK\x03\x04"
BOM_UTF8 = b"\xef\xbb\xbf"
#: A Terraform reference in a configuration string: ``${`` not written ``$${``.
_REFERENCE = re.compile(r"(?<!\$)\$\{")
_TENANT_ITEM = re.compile(r'^aws_dynamodb_table_item\.tenant_config\["([^"]+)"\]$')


class PlanError(Exception):
    """The plan file cannot be reviewed: one line for the user (without the ``error: audit:`` prefix)."""


def load_plan(path: Path) -> Json:
    """The parsed ``terraform show -json`` output in ``path``.

    Accepts UTF-8 with or without one byte-order mark, and UTF-16 with its mark (what
    PowerShell's ``>`` writes). Raises PlanError for a binary plan, a state, text in no
    such encoding, invalid JSON, or JSON without the fields every plan has; OSError when
    the file cannot be read.
    """
    data = path.read_bytes()
    make = "terraform show -json plan.bin > plan.json"  # a new file: never the one given, which may be the tenants file
    if data.startswith(ZIP_MAGIC):
        return _raise(f"{path} is a binary plan; run terraform show -json {path} > plan.json and audit plan.json")
    if data.startswith((b"\xff\xfe", b"\xfe\xff")):
        try:
            text = data.decode("utf-16")
        except UnicodeDecodeError:
            return _raise(f"{path} starts like UTF-16 text but is not; make it again: {make}")
    else:
        if data.startswith(BOM_UTF8 * 2):
            return _raise(f"{path} starts with two byte-order marks; save it as UTF-8 (or make it again: {make})")
        try:
            text = data.removeprefix(BOM_UTF8).decode("utf-8")
        except UnicodeDecodeError:
            return _raise(
                f"{path} is a binary plan or not text (byte {_first_bad_byte(data)}); "
                f"run terraform show -json on the plan file and audit its output: {make}"
            )
    try:
        document = json.loads(text)
    except json.JSONDecodeError as exc:
        return _raise(_not_a_plan(path, f"not valid JSON: {exc.msg} at line {exc.lineno} column {exc.colno}", make))
    except (ValueError, RecursionError):
        return _raise(_not_a_plan(path, "not usable JSON", make))
    why = _shape_problem(document)
    if why is not None:
        return _raise(_not_a_plan(path, why, make))
    plan: Json = document
    return plan


def _raise(message: str) -> Json:
    raise PlanError(message)


def _first_bad_byte(data: bytes) -> str:
    try:
        data.removeprefix(BOM_UTF8).decode("utf-8")
    except UnicodeDecodeError as exc:
        offset = exc.start + (len(BOM_UTF8) if data.startswith(BOM_UTF8) else 0)
        return f"{offset} is 0x{data[offset]:02x}"
    return "?"  # pragma: no cover - called only for undecodable data


def _not_a_plan(path: Path, why: str, make: str) -> str:
    return f"{path} is not the JSON of a Terraform plan ({why}); make it with: {make}"


def _shape_problem(document: Any) -> str | None:
    """Why a parsed document is not ``terraform show -json PLAN`` output, or None."""
    if not isinstance(document, dict):
        return f"it is a JSON {_kind(document)}, not an object"
    missing = [k for k in ("format_version", "terraform_version") if not isinstance(document.get(k), str)]
    if missing:
        return f"it has no {' and no '.join(missing)}"
    if "values" in document and "planned_values" not in document and "configuration" not in document:
        return "it is the JSON of a state: terraform show -json without a plan file"
    if not isinstance(document.get("configuration"), dict):
        return "it has no configuration"
    changes = document.get("resource_changes", [])
    if not isinstance(changes, list):
        return "its resource_changes is not a list"
    for index, change in enumerate(changes):
        if not (
            isinstance(change, dict)
            and isinstance(change.get("address"), str)
            and isinstance(change.get("type"), str)
            and isinstance(change.get("change"), dict)
            and isinstance(change["change"].get("actions"), list)
        ):
            return f"resource_changes[{index}] has no address, type and change.actions"
    return None


def _kind(value: Any) -> str:
    return {list: "list", str: "string", bool: "boolean", type(None): "null"}.get(type(value), "number")


# --- was the plan made from these stack files? ----------------------------------------------


def _configured_addresses(module: Json, prefix: str = "") -> set[str]:
    """The managed resources a plan's configuration declares, module calls as ``module.<name>``."""
    found = {
        prefix + str(r.get("address"))
        for r in module.get("resources", [])
        if isinstance(r, dict) and r.get("mode", "managed") == "managed"
    }
    for name in module.get("module_calls", {}) or {}:
        found.add(f"{prefix}module.{name}")
    return found


def _policy(raw: Any) -> dict[str, str] | None:
    """A policy string's statements, canonical (adoption.statement_digests), or None if not readable."""
    if not isinstance(raw, str):
        return None
    try:
        document = json.loads(raw)
    except ValueError:
        return None
    return statement_digests(document) if isinstance(document, dict) else None


def _json_value(raw: Any) -> Any:
    if not isinstance(raw, str):
        return None
    try:
        return json.loads(raw)
    except ValueError:
        return None


def _configured(raw: Any) -> str | None:
    """A string of the stack files as Terraform will evaluate it; None if it refers to other values (unknown)."""
    if not isinstance(raw, str) or _REFERENCE.search(raw):
        return None
    return unescape_terraform(raw)


def stale_differences(plan: Json, stack: Json) -> list[str]:
    """Where a plan differs from the stack files (read_stack): each address, with what differs; [] if it matches.

    Compared: the managed resources of the plan's configuration and of the stack files
    (data sources aside); the tenant records of the plan and the stack's ``tenant_config``
    items (each stack record must be in the plan, whatever the plan does with it: a destroy
    plan deletes them all; each record the plan keeps or creates must be in the stack); and,
    where the plan knows them, the key policy and bucket
    policies (statement by statement, however their elements are written) and each tenant
    record's item. A plan made from these files matches; one made before the stack was
    synthesized again differs wherever the synth changed something the review reasons about.
    """
    resources: Json = stack.get("resource", {})
    differences: list[str] = []
    in_stack = {f"{rtype}.{name}" for rtype, by_name in resources.items() for name in by_name}
    in_plan = _configured_addresses(plan["configuration"].get("root_module", {}) or {})
    differences += [f"{a} (in the stack files, not in the plan)" for a in sorted(in_stack - in_plan)]
    differences += [f"{a} (in the plan, not in the stack files)" for a in sorted(in_plan - in_stack)]

    item = resources.get("aws_dynamodb_table_item", {}).get("tenant_config")
    items: Json = {}
    if item is not None:
        reference = re.fullmatch(r"\$\{local\.(\w+)\}", str(item.get("for_each")))
        local = stack.get("locals", {}).get(reference.group(1)) if reference else None
        items = local if isinstance(local, dict) else {}
    seen: set[str] = set()  # tenant records the plan has, whatever it does with them
    kept: set[str] = set()  # ... and those it keeps or creates
    values: list[str] = []
    for change in plan.get("resource_changes", []):
        if change.get("mode", "managed") != "managed":
            continue
        address, actions = change["address"], change["change"]["actions"]
        after = change["change"].get("after")
        tenant = _TENANT_ITEM.match(address)
        if tenant is not None:
            seen.add(tenant.group(1))
            if actions != ["delete"]:
                kept.add(tenant.group(1))
        if not isinstance(after, dict):
            continue
        if change["type"] in ("aws_kms_key", "aws_s3_bucket_policy") and address in in_stack:
            rtype, name = address.split(".", 1)
            configured = _configured(resources[rtype][name].get("policy"))
            if configured is not None and _policy(after.get("policy")) not in (None, _policy(configured)):
                values.append(f"{address} (policy)")
        elif tenant is not None and tenant.group(1) in items:
            configured = _configured(items[tenant.group(1)])
            value = _json_value(after.get("item"))
            if configured is not None and value is not None and value != _json_value(configured):
                values.append(f"{address} (item)")
    differences += sorted(values)
    differences += _configuration_differences(plan["configuration"], stack)
    differences += [
        f'aws_dynamodb_table_item.tenant_config["{t}"] (a tenant record the stack files have and the plan has not)'
        for t in sorted(set(items) - seen)
    ]
    differences += [
        f'aws_dynamodb_table_item.tenant_config["{t}"] (a tenant record the plan has and the stack files have not)'
        for t in sorted(kept - set(items))
    ]
    return differences


#: Keys of a resource in Terraform JSON that are meta-arguments or cdktf's comments, not the resource's arguments.
_META_ARGUMENTS = frozenset(
    {"//", "count", "depends_on", "for_each", "lifecycle", "provider", "provisioner", "connection"}
)


def _configuration_differences(configuration: Json, stack: Json) -> list[str]:
    """Where the plan's ``configuration`` (the expressions Terraform read) differs from the stack files' arguments.

    Every literal argument of every resource and of the ``aws`` provider is compared, nested
    blocks included (Terraform's JSON output format: an argument is ``{"constant_value": ...}``,
    with ``"references"`` when it refers to other values, a nested block a list of such
    objects); ``constant_value`` is the argument's text as written, references and ``$${``
    escapes included, so it is compared as it is. A plan without expressions (only
    addresses) is compared by address alone. Returns ``"<address> (<argument path>)"``
    items, sorted.
    """
    found: list[str] = []
    resources: Json = stack.get("resource", {})
    for entry in (configuration.get("root_module") or {}).get("resources", []):
        if not isinstance(entry, dict) or entry.get("mode", "managed") != "managed" or "expressions" not in entry:
            continue
        configured = resources.get(str(entry.get("type")), {}).get(str(entry.get("name")))
        if isinstance(configured, dict):
            found += _differs_at(entry["address"], _expression_differences(configured, entry["expressions"], ""))
    planned_providers: Json = configuration.get("provider_config") or {}
    for provider in stack.get("provider", {}).get("aws", []):
        key = "aws" + (f".{provider['alias']}" if "alias" in provider else "")
        planned = planned_providers.get(key)
        if not isinstance(planned, dict):
            found.append(f"provider {key} (in the stack files, not in the plan)")
            continue
        arguments = {k: v for k, v in provider.items() if k != "alias"}
        found += _differs_at(
            f"provider {key}", _expression_differences(arguments, planned.get("expressions") or {}, "")
        )
    return sorted(found)


def _differs_at(where: str, paths: list[str]) -> list[str]:
    """``["<where> (<path>, <path>, <path>, ...)"]`` for the first three argument paths, or [] for none."""
    return [f"{where} ({', '.join(paths[:3])}{', ...' if len(paths) > 3 else ''})"] if paths else []


def _expression_differences(configured: Any, expression: Any, path: str) -> list[str]:
    """The argument paths at which ``configured`` (Terraform JSON) and ``expression`` (the plan's) differ."""
    if isinstance(expression, dict) and ("constant_value" in expression or "references" in expression):
        # Terraform shows an argument's source text, escapes and references as written ("$${...}",
        # "${aws_kms_key.master.arn}"), as constant_value; an expression it cannot show as text has
        # references alone, and is compared by nothing more than its presence.
        if "constant_value" in expression and configured != expression["constant_value"]:
            return [path or "."]
        return []
    if isinstance(expression, list):  # a nested block: the stack files write one block as an object or a list
        blocks = configured if isinstance(configured, list) else [configured]
        if len(blocks) != len(expression):
            return [path]
        differences: list[str] = []
        for index, (block, planned) in enumerate(zip(blocks, expression, strict=True)):
            differences += _expression_differences(block, planned, f"{path}[{index}]")
        return differences
    if isinstance(expression, dict):  # a block's arguments
        if not isinstance(configured, dict):
            return [path or "."]
        differences = []
        for key in sorted((set(configured) - _META_ARGUMENTS) | set(expression)):
            where = f"{path}.{key}" if path else key
            if key not in configured or key not in expression:
                differences.append(where)
            else:
                differences += _expression_differences(configured[key], expression[key], where)
        return differences
    return [path or "."]


def stale_message(plan_path: Path, stack_dir: Path, differences: list[str]) -> str:
    """The one line that refuses a plan made from other stack files (without the ``error: audit:`` prefix)."""
    shown = "; ".join(differences[:3]) + (f"; and {len(differences) - 3} more" if len(differences) > 3 else "")
    return (
        f"{plan_path} was not made from {stack_dir} (differs at {shown}): run terraform plan again in that "
        "directory (terraform plan -out plan.bin && terraform show -json plan.bin > plan.json)"
    )
