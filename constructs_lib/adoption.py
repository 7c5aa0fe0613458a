"""Adopting a foundation that already runs: the discovery file, its checks, and what the synth writes. No jsii import.

Discovery (``cci_tools.adopt``) reads the account, read-only, and writes a *discovery
file* (the ``adopt_file`` setting, or ``CCI_ADOPT_FILE``): for every address of the
stack, whether the object exists, the id Terraform imports it by, and the facts the
checks and the reviewer need. It is deterministic, sorted and meant to be committed.

With an ``adopt_file`` the synth writes ``imports.tf.json`` beside ``cdk.tf.json``: one
Terraform ``import`` block per object discovery found, and no more (an import block for
an object that does not exist fails the whole plan). Terraform imports them during the
first apply; an import block for an address already in state is skipped (whatever its
id), so the setting may stay.

Before anything is written, the file is checked against the settings (they may have
changed since discovery); each problem is one line and the synth exits with status 2:

- the file is for another stack, account or region, or an import id no longer matches
  the name the stack gives that resource;
- the key exists in a form ``aws_kms_key`` would replace or cannot manage (key spec,
  usage, multi-Region, origin, custom key store), is not a customer managed key, or is
  not enabled (disabled, pending deletion);
- the table exists in a form ``aws_dynamodb_table`` would replace (name, hash key and
  its type, range key, local secondary indexes) or in which the apply would delete
  data (replicas in other regions);
- the live key policy allows an AWS principal (a role, a user, another account, ``*``)
  that the generated policy would drop, unless ``key_admin_role_arns`` names it or the
  file records that its removal was accepted (``--accept-principal-removal``).

Tenant records: ``aws_dynamodb_table_item`` cannot be imported (provider 5.100.0), and
creating a record that exists fails the apply (``ConditionalCheckFailedException``).
So a tenant of the tenants file whose record exists stays *outside* Terraform: the
synth leaves it out of ``local.tenant_config_items`` (its tag set stays in
``tenant_tags``), and no field of it is touched. ``pipenv run adopt take-over TENANT``
brings one in: it marks it ``taken_over`` in the file with every field of the live
record, and the synth then renders the record with those fields besides the product's
own (``tenant_id``, ``display_name``, ``kms_guard``, ``tags``), so none is lost.
"""

from __future__ import annotations

import base64
import binascii
import hashlib
import json
from collections.abc import Mapping, Sequence
from dataclasses import dataclass, field
from fnmatch import fnmatchcase
from pathlib import Path
from typing import Any

from constructs_lib.config import Settings, Tenant, display_path
from constructs_lib.errors import ConfigError
from constructs_lib.jsonfile import describe, load_json
from constructs_lib.naming import (
    BUCKET_ROLES,
    COMPONENT_TAGS,
    Names,
    bucket_tags,
    default_tags,
    key_description,
)
from constructs_lib.policies import KMS_ADMIN_ACTIONS, bucket_policy, escape_terraform, key_policy
from constructs_lib.retention import BucketRetention, bucket_retention, rule_ids

#: The discovery file's format; a file of another format is refused.
FORMAT = 1
#: Written by the synth beside cdk.tf.json when adopt_file is set.
IMPORTS_FILE = "imports.tf.json"
#: Written beside it: the adoption marker (``render_marker``).
MARKER_FILE = "adoption.tf.json"
#: The marker's address, and the alias of the provider configuration it is bound to.
MARKER_ADDRESS, MARKER_PROVIDER_ALIAS = "terraform_data.adoption", "adoption"
#: Where a tenant record stands towards Terraform.
OUTSIDE, TAKEN_OVER = "outside", "taken_over"
#: The fields of a tenant record the product writes (constructs_lib.tenant_file).
MANAGED_FIELDS: tuple[str, ...] = ("tenant_id", "display_name", "kms_guard", "tags")

#: Bucket sub-resources, by Terraform type: which import by ``bucket,account``
#: (the stack sets expected_bucket_owner on them) and which by bucket name alone.
OWNER_QUALIFIED = (
    "aws_s3_bucket_versioning",
    "aws_s3_bucket_server_side_encryption_configuration",
    "aws_s3_bucket_lifecycle_configuration",
)
BY_BUCKET = ("aws_s3_bucket_public_access_block", "aws_s3_bucket_ownership_controls", "aws_s3_bucket_policy")

#: What ``aws_kms_key.master`` is (constructs_lib.foundation_key); a differing key is replaced or unmanageable.
KEY_SHAPE: tuple[tuple[str, Any, str], ...] = (
    ("key_spec", "SYMMETRIC_DEFAULT", "key spec (customer_master_key_spec)"),
    ("key_usage", "ENCRYPT_DECRYPT", "key usage (key_usage)"),
    ("multi_region", False, "multi-Region setting (multi_region)"),
    ("custom_key_store_id", None, "custom key store (custom_key_store_id)"),
)
TABLE_HASH_KEY = ("tenant_id", "S")

#: DynamoDB JSON: one type descriptor per value.
#: https://docs.aws.amazon.com/amazondynamodb/latest/APIReference/API_AttributeValue.html
_SCALAR_TYPES = {"S": str, "N": str, "B": str, "BOOL": bool, "NULL": bool}
_SET_TYPES = ("SS", "NS", "BS")

_GUIDE = 'README, "Adopting an existing foundation"'


@dataclass(frozen=True, kw_only=True)
class AddressSpec:
    """One address of the stack that discovery looks for, with the id Terraform imports it by.

    ``import_id`` is None for the key, whose id only discovery can tell.
    """

    address: str
    rtype: str
    role: str | None
    import_id: str | None


def stack_addresses(settings: Settings) -> list[AddressSpec]:
    """Every importable address of the stack (all but the tenant records), sorted.

    Import ids as the AWS provider 5.100.0 takes them: the key by key id (an ARN imports
    too, but the state id then becomes the ARN), the alias by ``alias/<name>`` (its ARN
    fails), buckets and their policy, public access block, ownership controls and
    notification by bucket name; versioning, encryption and lifecycle by
    ``bucket,account``, because the stack sets ``expected_bucket_owner`` on them
    (imported by name alone, Terraform plans to replace them); the table by name.
    """
    names = Names(settings=settings)
    specs = [
        AddressSpec(address="aws_kms_key.master", rtype="aws_kms_key", role=None, import_id=None),
        AddressSpec(address="aws_kms_alias.master", rtype="aws_kms_alias", role=None, import_id=names.key_alias),
        AddressSpec(
            address="aws_dynamodb_table.tenant_config",
            rtype="aws_dynamodb_table",
            role=None,
            import_id=names.config_table,
        ),
    ]
    for role in BUCKET_ROLES:
        bucket = names.bucket(role)
        specs.append(AddressSpec(address=f"aws_s3_bucket.{role}", rtype="aws_s3_bucket", role=role, import_id=bucket))
        specs += [
            AddressSpec(address=f"{rtype}.{role}", rtype=rtype, role=role, import_id=f"{bucket},{settings.account_id}")
            for rtype in OWNER_QUALIFIED
        ]
        specs += [
            AddressSpec(address=f"{rtype}.{role}", rtype=rtype, role=role, import_id=bucket) for rtype in BY_BUCKET
        ]
    specs.append(
        AddressSpec(
            address="aws_s3_bucket_notification.input",
            rtype="aws_s3_bucket_notification",
            role="input",
            import_id=names.bucket("input"),
        )
    )
    return sorted(specs, key=lambda s: s.address)


@dataclass(frozen=True, kw_only=True)
class Found:
    """What discovery found at one address: ``found``, the import id, facts, and what the first plan changes."""

    found: bool
    import_id: str | None = None
    facts: Mapping[str, Any] = field(default_factory=dict)
    first_plan: tuple[str, ...] = ()


@dataclass(frozen=True, kw_only=True)
class TenantRecord:
    """A tenant's record that exists in the table: ``outside`` Terraform, or ``taken_over`` with every field."""

    terraform: str
    item: Mapping[str, Any]


@dataclass(frozen=True, kw_only=True)
class Adoption:
    """A discovery file, parsed and validated (``load_adoption``).

    ``resources``: address -> Found, for every address of ``stack_addresses``.
    ``tenant_records``: tenant id -> its record, for the tenants of the tenants file
    whose record exists. ``other_records``: ids of records in the table for tenants
    not in the tenants file (left alone). ``accepted_principal_removals``: key-policy
    principals whose removal the user accepted at discovery.
    """

    stack: str
    account_id: str
    region: str
    resources: Mapping[str, Found]
    tenant_records: Mapping[str, TenantRecord] = field(default_factory=dict)
    other_records: tuple[str, ...] = ()
    accepted_principal_removals: tuple[str, ...] = ()
    source: str = "adopt"

    def found(self, address: str) -> bool:
        entry = self.resources.get(address)
        return entry is not None and entry.found

    def facts(self, address: str) -> Mapping[str, Any]:
        entry = self.resources.get(address)
        return entry.facts if entry is not None else {}

    def imports(self) -> list[tuple[str, str]]:
        """(address, import id) for every object found, sorted by address."""
        return sorted(
            (address, entry.import_id)
            for address, entry in self.resources.items()
            if entry.found and entry.import_id is not None
        )

    def record_exists(self, tenant_id: str) -> bool:
        return tenant_id in self.tenant_records or tenant_id in self.other_records


# --- the file -----------------------------------------------------------------------------------


def render_adoption(adoption: Adoption) -> str:
    """The discovery file's text: sorted keys, two-space indent, one trailing newline; no time stamp."""
    document = {
        "//": (
            "CCI Lite discovery of an existing foundation, written by `pipenv run adopt` (read-only). Review it, "
            f"commit it, and name it in adopt_file: the synth then imports what was found ({_GUIDE})."
        ),
        "format": FORMAT,
        "stack": adoption.stack,
        "account_id": adoption.account_id,
        "region": adoption.region,
        "resources": {
            address: {
                "found": entry.found,
                **({"import_id": entry.import_id} if entry.found else {}),
                **({"facts": dict(entry.facts)} if entry.facts else {}),
                "first_plan": list(entry.first_plan),
            }
            for address, entry in sorted(adoption.resources.items())
        },
        "tenant_records": {
            tenant_id: {"terraform": record.terraform, "item": dict(record.item)}
            for tenant_id, record in sorted(adoption.tenant_records.items())
        },
        "other_records": sorted(adoption.other_records),
        "accepted_principal_removals": sorted(adoption.accepted_principal_removals),
    }
    return json.dumps(document, indent=2, sort_keys=True, ensure_ascii=False) + "\n"


def load_adoption(path: Path) -> Adoption:
    """Read and validate a discovery file (structure only; ``refusals`` checks it against the settings).

    Raises ConfigError listing every problem.
    """
    source = display_path(path)
    if not path.is_file():
        raise ConfigError(
            [
                f"{source}: adopt_file names a file that does not exist; run discovery first: "
                f"pipenv run adopt --out {source} ({_GUIDE})"
            ]
        )
    return parse_adoption(load_json(path, source), source)


_TOP_KEYS = {
    "//",
    "format",
    "stack",
    "account_id",
    "region",
    "resources",
    "tenant_records",
    "other_records",
    "accepted_principal_removals",
}


def parse_adoption(document: Any, source: str) -> Adoption:
    """Validate a parsed discovery file. Raises ConfigError listing every problem."""
    if not isinstance(document, dict):
        raise ConfigError([f"{source}: a discovery file is a JSON object, got {describe(document)}"])
    errors = [f"{source}: unknown field {key!r}" for key in sorted(set(document) - _TOP_KEYS)]
    if document.get("format") != FORMAT:
        raise ConfigError(
            [
                f"{source}: format must be {FORMAT}, got {describe(document.get('format'))}; "
                f"run discovery again: pipenv run adopt --out {source}"
            ]
        )
    strings = {}
    for key in ("stack", "account_id", "region"):
        value = document.get(key)
        if not isinstance(value, str) or not value:
            errors.append(f"{source}: {key} must be a non-empty string, got {describe(value)}")
        strings[key] = value if isinstance(value, str) else ""

    resources: dict[str, Found] = {}
    raw_resources = document.get("resources")
    if not isinstance(raw_resources, dict):
        errors.append(f"{source}: resources must be an object of addresses, got {describe(raw_resources)}")
        raw_resources = {}
    for address, raw in sorted(raw_resources.items()):
        where = f"{source}: resources[{address!r}]"
        if not isinstance(raw, dict) or not isinstance(raw.get("found"), bool):
            errors.append(f"{where} must be an object with found true or false, got {describe(raw)}")
            continue
        unknown = sorted(set(raw) - {"found", "import_id", "facts", "first_plan"})
        errors += [f"{where}: unknown field {key!r}" for key in unknown]
        import_id = raw.get("import_id")
        if raw["found"] and (not isinstance(import_id, str) or not import_id):
            errors.append(f"{where}: found, but import_id is {describe(import_id)}")
        facts = raw.get("facts", {})
        if not isinstance(facts, dict):
            errors.append(f"{where}: facts must be an object, got {describe(facts)}")
            facts = {}
        plan = raw.get("first_plan", [])
        if not isinstance(plan, list) or not all(isinstance(line, str) for line in plan):
            errors.append(f"{where}: first_plan must be a list of strings")
            plan = []
        resources[address] = Found(
            found=raw["found"],
            import_id=import_id if raw["found"] and isinstance(import_id, str) else None,
            facts=facts,
            first_plan=tuple(plan),
        )

    records: dict[str, TenantRecord] = {}
    raw_records = document.get("tenant_records", {})
    if not isinstance(raw_records, dict):
        errors.append(f"{source}: tenant_records must be an object, got {describe(raw_records)}")
        raw_records = {}
    for tenant_id, raw in sorted(raw_records.items()):
        where = f"{source}: tenant_records[{tenant_id!r}]"
        if not isinstance(raw, dict) or set(raw) != {"terraform", "item"}:
            errors.append(f"{where} must be an object with terraform and item, got {describe(raw)}")
            continue
        if raw["terraform"] not in (OUTSIDE, TAKEN_OVER):
            errors.append(f"{where}.terraform must be {OUTSIDE!r} or {TAKEN_OVER!r}, got {describe(raw['terraform'])}")
            continue
        item_problems = item_json_problems(raw["item"], f"{where}.item")
        if not item_problems and raw["item"].get("tenant_id") != {"S": tenant_id}:
            item_problems.append(f"{where}.item.tenant_id must be {{'S': {tenant_id!r}}}")
        errors += item_problems
        if not item_problems:
            records[tenant_id] = TenantRecord(terraform=raw["terraform"], item=raw["item"])

    def string_list(key: str) -> tuple[str, ...]:
        value = document.get(key, [])
        if not isinstance(value, list) or not all(isinstance(v, str) and v for v in value):
            errors.append(f"{source}: {key} must be a list of strings, got {describe(value)}")
            return ()
        return tuple(value)

    other = string_list("other_records")
    accepted = string_list("accepted_principal_removals")
    if errors:
        raise ConfigError(errors)
    return Adoption(
        stack=strings["stack"],
        account_id=strings["account_id"],
        region=strings["region"],
        resources=resources,
        tenant_records=records,
        other_records=other,
        accepted_principal_removals=accepted,
        source=source,
    )


def item_json(item: Mapping[str, Any]) -> dict[str, Any]:
    """An item as boto3 returns it (binary values as ``bytes``) in DynamoDB JSON, as the discovery file and the
    provider hold it: every ``B`` and ``BS`` value base64 (standard alphabet, padded), at any depth in ``L`` and
    ``M``; everything else as it is.
    https://docs.aws.amazon.com/amazondynamodb/latest/APIReference/API_AttributeValue.html
    """
    return {name: _value_json(value) for name, value in item.items()}


def _value_json(value: Any) -> Any:
    if not isinstance(value, Mapping) or len(value) != 1:
        return value
    ((kind, inner),) = value.items()
    if kind == "B" and isinstance(inner, bytes | bytearray):
        return {"B": base64.b64encode(bytes(inner)).decode("ascii")}
    if kind == "BS" and isinstance(inner, list | tuple):
        return {
            "BS": [base64.b64encode(bytes(v)).decode("ascii") if isinstance(v, bytes | bytearray) else v for v in inner]
        }
    if kind == "M" and isinstance(inner, Mapping):
        return {"M": {k: _value_json(v) for k, v in inner.items()}}
    if kind == "L" and isinstance(inner, list | tuple):
        return {"L": [_value_json(v) for v in inner]}
    return {kind: inner}


def _is_base64(text: str) -> bool:
    try:
        base64.b64decode(text, validate=True)
    except (binascii.Error, ValueError):
        return False
    return True


def item_json_problems(item: Any, where: str) -> list[str]:
    """Problems of a DynamoDB item in DynamoDB JSON (attribute name -> typed value); [] if it is one."""
    if not isinstance(item, dict) or not item:
        return [f"{where} must be a DynamoDB item (attribute name -> typed value), got {describe(item)}"]
    return [problem for name, value in item.items() for problem in _value_problems(value, f"{where}.{name}")]


def _value_problems(value: Any, where: str) -> list[str]:
    if not isinstance(value, dict) or len(value) != 1:
        return [f"{where} must be one DynamoDB typed value such as {{'S': 'text'}}, got {describe(value)}"]
    ((kind, inner),) = value.items()
    if kind in _SCALAR_TYPES:
        if not isinstance(inner, _SCALAR_TYPES[kind]):
            return [f"{where}.{kind} has the wrong type"]
        if kind == "B" and not _is_base64(str(inner)):
            return [f"{where}.B must be base64 (as DynamoDB JSON writes binary), got {inner!r}"]
        return []
    if kind in _SET_TYPES:
        ok = isinstance(inner, list) and inner and all(isinstance(v, str) for v in inner)
        if not ok:
            return [f"{where}.{kind} must be a non-empty list of strings"]
        bad = [v for v in inner if kind == "BS" and not _is_base64(v)]
        return [f"{where}.BS must hold base64 values (as DynamoDB JSON writes binary), got {bad[0]!r}"] if bad else []
    if kind == "M":
        if not isinstance(inner, dict):
            return [f"{where}.M must be an object"]
        return [p for k, v in inner.items() for p in _value_problems(v, f"{where}.{k}")]
    if kind == "L":
        if not isinstance(inner, list):
            return [f"{where}.L must be a list"]
        return [p for i, v in enumerate(inner) for p in _value_problems(v, f"{where}[{i}]")]
    return [f"{where}: unknown DynamoDB type {kind!r}"]


# --- checks against the settings --------------------------------------------------------------------


def policy_principals(policy: Mapping[str, Any]) -> tuple[dict[str, list[str]], list[str]]:
    """The principals a key policy allows: AWS principals (-> the Sids that allow them) and service principals.

    A statement without a Sid is named by its position (``#2``). ``"Principal": "*"`` is the AWS principal ``*``.
    """
    aws: dict[str, list[str]] = {}
    services: set[str] = set()
    statements = policy.get("Statement", [])
    for index, statement in enumerate(statements if isinstance(statements, list) else [statements]):
        if not isinstance(statement, dict) or statement.get("Effect") != "Allow":
            continue
        sid = str(statement.get("Sid") or f"#{index + 1}")
        principal = statement.get("Principal", {})
        if principal == "*":
            principal = {"AWS": "*"}
        if not isinstance(principal, dict):
            continue
        for value in _as_list(principal.get("AWS", [])):
            aws.setdefault(str(value), []).append(sid)
        services.update(str(v) for v in _as_list(principal.get("Service", [])))
    return dict(sorted(aws.items())), sorted(services)


def _as_list(value: Any) -> list[Any]:
    return value if isinstance(value, list) else [value]


def _sorted_values(value: Any) -> list[Any]:
    return sorted(_as_list(value), key=lambda v: json.dumps(v, sort_keys=True))


def _canonical_statement(statement: Mapping[str, Any]) -> dict[str, Any]:
    """A policy statement with every list-or-string element as a sorted list: the same grant, however written."""
    canonical: dict[str, Any] = {}
    for key, value in statement.items():
        if key in ("Action", "NotAction", "Resource", "NotResource"):
            canonical[key] = _sorted_values(value)
        elif key in ("Principal", "NotPrincipal") and isinstance(value, Mapping):
            canonical[key] = {kind: _sorted_values(v) for kind, v in value.items()}
        elif key == "Condition" and isinstance(value, Mapping):
            canonical[key] = {
                op: {k: _sorted_values(v) for k, v in pairs.items()} if isinstance(pairs, Mapping) else pairs
                for op, pairs in value.items()
            }
        else:
            canonical[key] = value
    return canonical


def statement_digests(policy: Mapping[str, Any]) -> dict[str, str]:
    """Each statement of a policy (by Sid, or ``#<position>``) -> the SHA-256 of its canonical form: two policies
    grant the same when their digests are equal, however their elements are written or ordered."""
    statements = policy.get("Statement", [])
    return {
        str(s.get("Sid") or f"#{i + 1}"): hashlib.sha256(
            json.dumps(_canonical_statement(s), sort_keys=True).encode("utf-8")
        ).hexdigest()
        for i, s in enumerate(statements if isinstance(statements, list) else [statements])
        if isinstance(s, Mapping)
    }


def policy_facts(policy: Mapping[str, Any]) -> dict[str, Any]:
    """The facts discovery records of a live key or bucket policy to tell whether the stack's changes it."""
    return {"statement_digests": statement_digests(policy)}


def _statement_changes(live: Mapping[str, str], wanted: Mapping[str, str]) -> str:
    """``removes statements ...; adds ...; changes ...`` between two ``statement_digests``; "" if they are equal."""
    removed = sorted(sid for sid in live if sid not in wanted)
    added = sorted(sid for sid in wanted if sid not in live)
    changed = sorted(sid for sid in live if sid in wanted and live[sid] != wanted[sid])
    parts = [f"removes statements {', '.join(json.dumps(s) for s in removed)}"] if removed else []
    parts += [f"adds {', '.join(json.dumps(s) for s in added)}"] if added else []
    parts += [f"changes {', '.join(json.dumps(s) for s in changed)}"] if changed else []
    return "; ".join(parts)


def policy_actions(policy: Mapping[str, Any]) -> dict[str, list[str]]:
    """Each AWS principal of a key policy -> the actions its Allow statements grant.

    ``NotAction`` counts as ``kms:*``.
    """
    actions: dict[str, set[str]] = {}
    statements = policy.get("Statement", [])
    for statement in statements if isinstance(statements, list) else [statements]:
        if not isinstance(statement, dict) or statement.get("Effect") != "Allow":
            continue
        principal = statement.get("Principal", {})
        principal = {"AWS": "*"} if principal == "*" else principal
        if not isinstance(principal, dict):
            continue
        granted = ["kms:*"] if "NotAction" in statement else [str(a) for a in _as_list(statement.get("Action", []))]
        for value in _as_list(principal.get("AWS", [])):
            actions.setdefault(str(value), set()).update(granted)
    return {p: sorted(a) for p, a in sorted(actions.items())}


#: The administrative actions that only read the key's configuration: a grant of these alone is no administration.
_ADMIN_READS = ("kms:Describe*", "kms:Get*", "kms:List*")
#: Why an IAM policy can keep a principal of the stack's account on the key (the root statement).
_IAM_GRANTS = "the key policy's root statement lets IAM grant use of the key"


def _within(action: str, pattern: str) -> bool:
    """Is ``action`` (an action or a pattern, taken literally) matched by the IAM pattern ``pattern``?
    Action names are case-insensitive:
    https://docs.aws.amazon.com/IAM/latest/UserGuide/reference_policies_elements_action.html"""
    return fnmatchcase(action.lower(), pattern.lower())


def administers(actions: Sequence[str]) -> bool:
    """Does a live grant include an administrative action that changes the key (more than Describe, Get, List)?"""
    changing = [a for a in KMS_ADMIN_ACTIONS if a not in _ADMIN_READS]
    return any(_within(a, m) or _within(m, a) for a in actions for m in changing)


def beyond_administration(actions: Sequence[str]) -> list[str]:
    """The actions of a live grant that the generated policy's key administrators do not get."""
    return [a for a in actions if not any(_within(a, allowed) for allowed in KMS_ADMIN_ACTIONS)]


def administration_gained(actions: Sequence[str]) -> list[str]:
    """The generated policy's administrative actions (``KMS_ADMIN_ACTIONS``) that a live grant does not include."""
    return [m for m in KMS_ADMIN_ACTIONS if not any(_within(m, a) for a in actions)]


def promoted_principals(facts: Mapping[str, Any], settings: Settings) -> dict[str, list[str]]:
    """Key administrators (``key_admin_role_arns``) that the live key policy allows, but not as administrators
    (``administers``): -> the administrative actions the generated policy would give them."""
    live = facts.get("policy_actions", {})
    return {
        principal: administration_gained(live[principal])
        for principal in settings.key_admin_role_arns
        if principal in live and not administers(live[principal])
    }


def policy_grants(policy: Mapping[str, Any]) -> dict[str, dict[str, Any]]:
    """Every principal a resource policy's Allow statements name -> ``kind`` (``AWS``, ``Service``, ``Federated``,
    ``CanonicalUser``), ``statements`` (Sids, or ``#<position>``) and ``actions``, all sorted.

    ``"Principal": "*"`` and an Allow with ``NotPrincipal`` count as the AWS principal ``*``; ``NotAction`` as
    ``*``: the grant is as wide as that reads. Conditions are not evaluated (a condition narrows a grant, and the
    reviewer sees the statement).
    """
    grants: dict[str, dict[str, set[str]]] = {}
    kinds: dict[str, str] = {}
    statements = policy.get("Statement", [])
    for index, statement in enumerate(statements if isinstance(statements, list) else [statements]):
        if not isinstance(statement, dict) or statement.get("Effect") != "Allow":
            continue
        sid = str(statement.get("Sid") or f"#{index + 1}")
        actions = {"*"} if "NotAction" in statement else {str(a) for a in _as_list(statement.get("Action", []))}
        principal = statement.get("Principal", {})
        if principal == "*" or "NotPrincipal" in statement:
            principal = {"AWS": "*"}
        if not isinstance(principal, dict):
            continue
        for kind, values in principal.items():
            for value in _as_list(values):
                entry = grants.setdefault(str(value), {"statements": set(), "actions": set()})
                entry["statements"].add(sid)
                entry["actions"].update(actions)
                kinds[str(value)] = str(kind)
    return {
        p: {"kind": kinds[p], "statements": sorted(g["statements"]), "actions": sorted(g["actions"])}
        for p, g in sorted(grants.items())
    }


def bucket_dropped_principals(facts: Mapping[str, Any], settings: Settings) -> dict[str, dict[str, Any]]:
    """The principals a live bucket policy allows (``policy_grants``) that the stack's bucket policy drops: every
    one but the account root, since the stack's bucket policy has no Allow (it only denies) and the account's
    own principals keep what their IAM policies grant."""
    root = Names(settings=settings).account_root_arn
    return {p: g for p, g in facts.get("grants", {}).items() if p not in (root, settings.account_id)}


def narrowed_principals(facts: Mapping[str, Any], settings: Settings) -> dict[str, list[str]]:
    """Key administrators (``key_admin_role_arns``) whose live grant the generated policy narrows: -> the actions
    they would lose. The generated policy allows them ``KMS_ADMIN_ACTIONS`` only; an action is kept when one of
    those patterns matches every action the live one does (``kms:Describe*`` keeps ``kms:DescribeKey``)."""
    live = facts.get("policy_actions", {})
    lost: dict[str, list[str]] = {}
    for principal in settings.key_admin_role_arns:
        gone = [
            action
            for action in live.get(principal, [])
            if not any(fnmatchcase(action.lower(), allowed.lower()) for allowed in KMS_ADMIN_ACTIONS)
        ]
        if gone:
            lost[principal] = gone
    return lost


def kept_principals(settings: Settings) -> set[str]:
    """AWS principals the generated key policy allows: the account root (in both spellings) and the key admins."""
    names = Names(settings=settings)
    return {names.account_root_arn, settings.account_id, *settings.key_admin_role_arns}


def dropped_principals(facts: Mapping[str, Any], settings: Settings) -> dict[str, list[str]]:
    """The live key policy's AWS principals (-> Sids) that the generated policy would drop."""
    aws = facts.get("policy_principals", {}).get("AWS", {})
    kept = kept_principals(settings)
    return {p: sids for p, sids in sorted(aws.items()) if p not in kept}


def refusals(adoption: Adoption, settings: Settings, *, command: str) -> list[str]:
    """Every reason not to adopt with these settings, one line each ([] when adoption may go ahead).

    ``command`` is the discovery command line to suggest (it names the file), e.g.
    ``pipenv run adopt --out adopt.json``.
    """
    src = adoption.source
    problems: list[str] = []
    for key, expected in (
        ("stack", settings.stack),
        ("account_id", settings.account_id),
        ("region", settings.region),
    ):
        got = getattr(adoption, key)
        if got != expected:
            problems.append(
                f"{src}: discovery was made for {key} {got!r}, but these settings make {key} {expected!r}; "
                f"run discovery for this stack: {command}"
            )
    if problems:
        return problems

    specs = {spec.address: spec for spec in stack_addresses(settings)}
    missing = sorted(set(specs) - set(adoption.resources))
    extra = sorted(set(adoption.resources) - set(specs))
    if missing or extra:
        parts = [f"lacks {', '.join(missing)}"] if missing else []
        parts += [f"has addresses the stack does not make: {', '.join(extra)}"] if extra else []
        return [f"{src}: the file {' and '.join(parts)}; run discovery again: {command}"]
    for address, spec in specs.items():
        entry = adoption.resources[address]
        if not entry.found:
            continue
        if spec.import_id is not None and entry.import_id != spec.import_id:
            problems.append(
                f"{src}: {address} was found as {entry.import_id!r}, but these settings name it {spec.import_id!r}; "
                f"the settings changed since discovery: run discovery again: {command}"
            )
        if spec.import_id is None and entry.import_id != entry.facts.get("key_id"):
            problems.append(
                f"{src}: {address}: import_id {entry.import_id!r} is not the key id discovery found "
                f"({entry.facts.get('key_id')!r}); run discovery again: {command}"
            )
    problems += _key_problems(adoption, settings, command)
    problems += _bucket_policy_problems(adoption, settings, command)
    problems += _table_problems(adoption)
    return problems


def _bucket_policy_problems(adoption: Adoption, settings: Settings, command: str) -> list[str]:
    """A principal a live bucket policy allows and the stack's bucket policy drops, one line per principal and
    bucket, unless its removal was accepted."""
    problems = []
    for role in BUCKET_ROLES:
        address = f"aws_s3_bucket_policy.{role}"
        if not adoption.found(address):
            continue
        facts = adoption.facts(address)
        where = f"{adoption.source}: {address}"
        if "grants" not in facts:
            problems.append(
                f"{where}: the file does not say which principals the live bucket policy allows (it predates that "
                f"check); run discovery again: {command}"
            )
            continue
        bucket = Names(settings=settings).bucket(role)
        for principal, grant in bucket_dropped_principals(facts, settings).items():
            if principal in adoption.accepted_principal_removals:
                continue
            accept = f"{command} --accept-principal-removal '{principal}'"
            statements = ", ".join(f'"{sid}"' for sid in grant["statements"])
            problems.append(
                f"{where}: the live bucket policy of {bucket} allows {principal} (statement {statements}: "
                f"{', '.join(grant['actions'])}), and the stack's bucket policy allows no principal (it only denies), "
                f"so it would lose that access; {_bucket_remedy(principal, grant['kind'], settings, accept)}"
            )
    return problems


def _bucket_remedy(principal: str, kind: str, settings: Settings, accept: str) -> str:
    account = settings.account_id
    stop = f"do not apply this stack in this account ({_GUIDE})"
    iam = "(within its own account, IAM grants access to the account's buckets)"
    if principal == "*":
        return (
            f"a grant to every principal ('*') only a bucket policy can make, and the stack's makes none: grant what "
            f"principals of account {account} need in IAM {iam}; a principal of another account or a service loses "
            f"its access; then accept its removal: {accept}"
        )
    if kind == "Service":
        return (
            f"a service principal gets access to a bucket only through its bucket policy, which the stack's gives to "
            f"none: if the service must keep its access, {stop}; if not, accept its removal: {accept}"
        )
    owner = _account_of(principal) if kind == "AWS" else None
    if owner == account:
        return (
            f"to keep it, grant those actions in an IAM policy of the principal {iam}, then accept its removal: "
            f"{accept}"
        )
    of = f"it is of account {owner}" if owner else f"it is a {kind} principal"
    return (
        f"{of}, and only a bucket policy can give a principal of another account access to this bucket, which the "
        f"stack's bucket policy gives to none: if it needs the access, {stop}; if it needs none, accept its "
        f"removal: {accept}"
    )


def _key_problems(adoption: Adoption, settings: Settings, command: str) -> list[str]:
    if not adoption.found("aws_kms_key.master"):
        return []
    src = adoption.source
    facts = adoption.facts("aws_kms_key.master")
    key = f"{src}: aws_kms_key.master: the existing key {facts.get('key_id')} ({Names(settings=settings).key_alias})"
    stop = f"this stack cannot adopt it; do not apply it in this account ({_GUIDE})"
    problems = []
    if facts.get("key_manager") != "CUSTOMER":
        problems.append(
            f"{key} is managed by AWS, got key_manager {facts.get('key_manager')!r}; Terraform manages customer "
            f"managed keys only: {stop}"
        )
    if facts.get("origin") != "AWS_KMS":
        problems.append(
            f"{key} has origin {facts.get('origin')!r}, but aws_kms_key manages only keys whose material KMS "
            f"made (origin AWS_KMS; imported material is aws_kms_external_key's): {stop}"
        )
    for fact, want, what in KEY_SHAPE:
        got = facts.get(fact)
        if got != want:
            problems.append(
                f"{key} has {what} {json.dumps(got)}, but the stack's key has {json.dumps(want)}, and Terraform "
                f"replaces a key to change that: every object encrypted under the existing key would become "
                f"unreadable; {stop}"
            )
    state = facts.get("key_state")
    if state == "PendingDeletion":
        problems.append(
            f"{key} is pending deletion (on {facts.get('deletion_date', 'a scheduled date')}); cancel the deletion "
            f"first (aws kms cancel-key-deletion --key-id {facts.get('key_id')}, then aws kms enable-key), "
            f"then run discovery again: {command}"
        )
    elif state == "Disabled":
        problems.append(
            f"{key} is disabled, and the stack's key is enabled, so the apply would enable it; find out why it was "
            f"disabled, enable it by hand if it should be (aws kms enable-key --key-id {facts.get('key_id')}), "
            f"then run discovery again: {command}"
        )
    elif state != "Enabled":
        problems.append(f"{key} is in state {state!r}; adopt a key only in state Enabled: {stop}")
    live_actions = facts.get("policy_actions", {})
    for principal, sids in dropped_principals(facts, settings).items():
        if principal in adoption.accepted_principal_removals:
            continue
        statements = ", ".join(f'"{sid}"' for sid in sids)
        accept = f"{command} --accept-principal-removal '{principal}'"
        remedy = _dropped_remedy(principal, live_actions.get(principal, []), settings, accept)
        problems.append(
            f"{src}: aws_kms_key.master: the live key policy allows {principal} (statement {statements}), and the "
            f"generated key policy would drop it, so it would lose its access to the key; {remedy}"
        )
    promoted = promoted_principals(facts, settings)
    narrowed = narrowed_principals(facts, settings)
    for principal in settings.key_admin_role_arns:
        if principal in adoption.accepted_principal_removals or (
            principal not in promoted and principal not in narrowed
        ):
            continue
        accept = f"{command} --accept-principal-removal '{principal}'"
        lost = ", ".join(narrowed.get(principal, []))
        if principal in promoted:
            granted = lost or ", ".join(live_actions.get(principal, [])) or "no action"
            head = (
                f"{src}: aws_kms_key.master: key_admin_role_arns names {principal}, but the live key policy grants it "
                f"{granted} and no key administration: the generated key policy would make it a key administrator "
                f"({', '.join(promoted[principal])})"
            )
            if lost:
                problems.append(
                    f"{head} and take {lost} away; if it is not meant to administer the key, remove it from "
                    f"key_admin_role_arns, grant those actions in an IAM policy of the principal ({_IAM_GRANTS}) and "
                    f"accept its removal; if it is, grant them in IAM and accept the change: {accept}"
                )
            else:
                problems.append(
                    f"{head}; if it is not meant to administer the key, remove it from key_admin_role_arns; if it "
                    f"is, accept the change: {accept}"
                )
        else:
            problems.append(
                f"{src}: aws_kms_key.master: the live key policy allows {principal} {lost}, and the generated key "
                f"policy allows a key administrator only the administrative actions, so it would lose those; if it "
                f"needs them, grant them in an IAM policy ({_IAM_GRANTS}), then accept the narrowing: {accept}"
            )
    return problems


def _account_of(principal: str) -> str | None:
    """The account of an AWS principal: an ARN's account field, or a bare account id; None if neither."""
    if principal.isdigit() and len(principal) == 12:
        return principal
    parts = principal.split(":")
    return parts[4] if len(parts) >= 6 and parts[0] == "arn" and parts[4] else None


def _dropped_remedy(principal: str, actions: Sequence[str], settings: Settings, accept: str) -> str:
    """What to do about a key-policy principal the generated policy drops, never giving it more than it had:
    ``key_admin_role_arns`` only for a role of the account that administers the key now (naming what it would
    gain), IAM for what the account's principals use, and nothing this stack can do for another account."""
    account = settings.account_id
    if principal == "*":
        return (
            f"a grant to every principal ('*') only a key policy can make, and the generated key policy makes none: "
            f"grant what principals of account {account} need in IAM ({_IAM_GRANTS}); a principal of another account "
            f"loses its access; then accept its removal: {accept}"
        )
    owner = _account_of(principal)
    if owner != account:
        return (
            f"it is of account {owner or 'unknown'}, and only a key policy can give a principal of another account "
            f"access to this key, which the generated key policy gives to no principal outside account {account}: if "
            f"it needs the key, do not apply this stack in this account ({_GUIDE}); if it needs no access, accept its "
            f"removal: {accept}"
        )
    shown = ", ".join(actions) or "no action"
    if not _is_role_of(principal, settings):
        return (
            f"key_admin_role_arns takes only roles: to keep its access, grant its live actions ({shown}) in an IAM "
            f"policy of the principal ({_IAM_GRANTS}), then accept its removal from the key policy: {accept}"
        )
    if not administers(actions):
        return (
            f"its live grant ({shown}) is use of the key, not administration, so key_admin_role_arns is not for it "
            f"(that would make it a key administrator): to keep that use, grant those actions in an IAM policy of the "
            f"principal ({_IAM_GRANTS}), then accept its removal from the key policy: {accept}"
        )
    gained = administration_gained(actions)
    also = (
        f" (the generated key policy then also allows it {', '.join(gained)}, which the live policy does not)"
        if gained
        else ""
    )
    # key_admin_role_arns grants a fixed set: where that is more than the principal has, IAM keeps exactly its own.
    exact = (
        f"; to keep exactly its live actions instead, grant them in an IAM policy of the principal ({_IAM_GRANTS}), "
        "then accept its removal from the key policy"
        if gained
        else ""
    )
    beyond = beyond_administration(actions)
    if not beyond:
        return (
            f"to keep it as a key administrator, add it to key_admin_role_arns in cdktf.json{also}{exact}; if it "
            f"needs no access to the key, accept its removal: {accept}"
        )
    wide = ", less the administrative actions" if any(_within(m, a) for a in beyond for m in KMS_ADMIN_ACTIONS) else ""
    return (
        f"to keep it as a key administrator, add it to key_admin_role_arns in cdktf.json{also}, and grant what a key "
        f"administrator does not get ({', '.join(beyond)}{wide}) in an IAM policy of the principal ({_IAM_GRANTS}), "
        f"then accept the narrowing: {accept}{exact}; if it needs no access to the key, accept its removal the same "
        "way"
    )


def _is_role_of(principal: str, settings: Settings) -> bool:
    return principal.startswith(f"arn:{settings.partition}:iam::{settings.account_id}:role/")


def _table_problems(adoption: Adoption) -> list[str]:
    if not adoption.found("aws_dynamodb_table.tenant_config"):
        return []
    facts = adoption.facts("aws_dynamodb_table.tenant_config")
    table = f"{adoption.source}: aws_dynamodb_table.tenant_config: the existing table {facts.get('name')}"
    loss = "and Terraform replaces a table to change that: every tenant record would be lost"
    stop = f"this stack cannot adopt it; do not apply it in this account ({_GUIDE})"
    problems = []
    hash_key = (facts.get("hash_key"), facts.get("hash_key_type"))
    if hash_key != TABLE_HASH_KEY:
        problems.append(
            f"{table} has hash key {hash_key[0]!r} of type {hash_key[1]!r}, but the stack's table has hash key "
            f"{TABLE_HASH_KEY[0]!r} of type {TABLE_HASH_KEY[1]!r}, {loss}; {stop}"
        )
    if facts.get("range_key") is not None:
        problems.append(f"{table} has range key {facts['range_key']!r}, and the stack's table has none, {loss}; {stop}")
    if facts.get("local_secondary_indexes"):
        indexes = ", ".join(facts["local_secondary_indexes"])
        problems.append(
            f"{table} has local secondary indexes ({indexes}), and the stack's table has none, {loss}; {stop}"
        )
    if facts.get("replicas"):
        regions = ", ".join(facts["replicas"])
        problems.append(
            f"{table} has replicas in {regions}, and the stack's table has none, so the apply would delete the "
            f"replica tables and their data; {stop}"
        )
    return problems


# --- what the synth writes ------------------------------------------------------------------------


@dataclass(frozen=True, kw_only=True)
class TenantPartition:
    """The tenants of the tenants file by where their record stands.

    ``managed``: rendered into ``local.tenant_config_items`` (created, or taken over:
    ``extra_fields`` holds each taken-over record's fields the product does not manage).
    ``outside``: their record exists and stays outside Terraform.
    """

    managed: tuple[str, ...]
    outside: tuple[str, ...]
    extra_fields: Mapping[str, Mapping[str, Any]]


def partition_tenants(adoption: Adoption | None, tenants: Sequence[Tenant]) -> TenantPartition:
    ids = sorted(t.tenant_id for t in tenants)
    if adoption is None:
        return TenantPartition(managed=tuple(ids), outside=(), extra_fields={})
    managed, outside, extra = [], [], {}
    for tenant_id in ids:
        record = adoption.tenant_records.get(tenant_id)
        if record is not None and record.terraform == TAKEN_OVER:
            managed.append(tenant_id)
            extra[tenant_id] = {k: v for k, v in sorted(record.item.items()) if k not in MANAGED_FIELDS}
        elif adoption.record_exists(tenant_id):
            outside.append(tenant_id)
        else:
            managed.append(tenant_id)
    return TenantPartition(managed=tuple(managed), outside=tuple(outside), extra_fields=extra)


def render_imports(adoption: Adoption, outside: Sequence[str]) -> str:
    """``imports.tf.json``: one import block per object discovery found; the records left outside, as metadata."""
    document = {
        "//": {
            "comment": (
                f"CCI Lite adoption, written by the synth from {adoption.source}; do not edit. Terraform imports each "
                "object below on the first apply, and skips a block whose address is in state already."
            ),
            "adopt_file": adoption.source,
            "tenant_records_outside_terraform": list(outside),
        },
        "import": [{"to": address, "id": escape_terraform(import_id)} for address, import_id in adoption.imports()],
    }
    return json.dumps(document, indent=2, ensure_ascii=False) + "\n"


def render_marker(adopt_file_name: str) -> str:
    """``adoption.tf.json``: the marker that keeps an adopted stack from being planned without its discovery file.

    A ``terraform_data.adoption`` resource (Terraform's built-in provider: no remote
    object, no lock-file entry), ``input`` the discovery file's name, bound to an aliased
    configuration of the built-in provider that only this file declares. After the first
    apply it is in state. A later synth without ``adopt_file`` no longer writes this file,
    and Terraform then cannot plan at all: to plan the destroy of the orphaned marker it
    needs the provider configuration ``provider["terraform.io/builtin/terraform"].adoption``,
    which left with it ("Provider configuration not present"). ``prevent_destroy`` alone
    would not do: it protects a resource only while its block is in the configuration
    (https://developer.hashicorp.com/terraform/language/meta-arguments/lifecycle); it is
    here against ``-replace`` and ``terraform destroy``. To retire adoption on purpose:
    ``terraform state rm terraform_data.adoption`` (README, "Adopting an existing foundation").
    """
    document = {
        "//": {
            "comment": (
                "CCI Lite adoption marker, written by the synth because adopt_file is set; do not edit. Once applied, "
                "a synth without adopt_file cannot be planned: Terraform stops with 'Provider configuration not "
                f"present' for {MARKER_ADDRESS} ({_GUIDE})."
            ),
        },
        "provider": {"terraform": [{"alias": MARKER_PROVIDER_ALIAS}]},
        "resource": {
            "terraform_data": {
                "adoption": {
                    "provider": f"terraform.{MARKER_PROVIDER_ALIAS}",
                    "input": adopt_file_name,
                    "lifecycle": {"prevent_destroy": True},
                }
            }
        },
    }
    return json.dumps(document, indent=2, ensure_ascii=False) + "\n"


def outside_note(adoption: Adoption, outside: Sequence[str], stack: str) -> str:
    """One line for the synth: which records stay outside Terraform, why, and the step that brings them in."""
    records = ", ".join(outside)
    return (
        f"{stack}: tenant record(s) {records} exist in the table and stay outside Terraform (an existing record "
        f"cannot be imported, and creating it would fail the apply), so the synth leaves them out of "
        f"aws_dynamodb_table_item.tenant_config and no field of them changes; after the adoption is applied, "
        f"bring each in with every field it has: pipenv run adopt take-over {' '.join(outside)}"
    )


def load_for_synth(settings: Settings, tenants: Sequence[Tenant]) -> Adoption | None:
    """The settings' discovery file, checked against them; None without ``adopt_file``. Raises ConfigError."""
    if settings.adopt_file is None:
        return None
    adoption = load_adoption(settings.adopt_file)
    problems = refusals(adoption, settings, command=f"pipenv run adopt --out {adoption.source}")
    if problems:
        raise ConfigError(problems)
    return adoption


# --- what the first plan will change ---------------------------------------------------------------


def _tags_line(live: Mapping[str, str], wanted: Mapping[str, str]) -> list[str]:
    added = sorted(k for k in wanted if k not in live)
    changed = sorted(k for k in wanted if k in live and live[k] != wanted[k])
    removed = sorted(k for k in live if k not in wanted)
    parts = [f"adds {', '.join(added)}"] if added else []
    parts += [f"changes {', '.join(changed)}"] if changed else []
    parts += [f"removes {', '.join(removed)}"] if removed else []
    return [f"tags: {'; '.join(parts)}"] if parts else []


def retention_summary(retention: BucketRetention) -> str:
    parts = [
        f"current objects expire after {_days(retention.expiration_days)}"
        if retention.expiration_days
        else "current objects kept"
    ]
    if retention.noncurrent_days:
        parts.append(f"noncurrent versions deleted after {_days(retention.noncurrent_days)}")
        parts.append("expired delete markers removed")
    parts.append(f"incomplete uploads aborted after {_days(retention.abort_incomplete_multipart_upload_days)}")
    return ", ".join(parts)


def _days(n: int | None) -> str:
    return f"{n} day" if n == 1 else f"{n} days"


def first_plan(
    address: str,
    found: bool,
    facts: Mapping[str, Any],
    settings: Settings,
    tenants: Sequence[Tenant],
    *,
    key: Mapping[str, Any] | None = None,
) -> tuple[str, ...]:
    """What the first plan will do at ``address``, in a few short phrases, from what discovery found.

    ``key``: the facts of the key discovery found (None: the stack creates a new key).
    """
    rtype, _, role = address.partition(".")
    if not found:
        return (_created(rtype, role, settings),)
    names = Names(settings=settings)
    defaults = default_tags(settings)
    lines: list[str] = []
    if rtype == "aws_kms_key":
        lines += _key_lines(facts, settings, tenants)
        lines += _tags_line(facts.get("tags", {}), {**defaults, "Component": COMPONENT_TAGS["key"]})
    elif rtype == "aws_kms_alias":
        pass
    elif rtype == "aws_s3_bucket":
        lines += _tags_line(facts.get("tags", {}), {**defaults, **bucket_tags(names.bucket(role))})
    elif rtype == "aws_s3_bucket_versioning":
        if facts.get("status") != "Enabled":
            lines.append(f"versioning {facts.get('status')} -> Enabled")
    elif rtype == "aws_s3_bucket_server_side_encryption_configuration":
        lines += _encryption_lines(facts, key or {}, names.key_alias)
    elif rtype == "aws_s3_bucket_public_access_block":
        off = [flag for flag, on in sorted(facts.items()) if on is not True]
        if off:
            lines.append(f"blocks public access: {', '.join(off)} off -> on")
    elif rtype == "aws_s3_bucket_ownership_controls":
        if facts.get("object_ownership") != "BucketOwnerEnforced":
            lines.append(f"object ownership {facts.get('object_ownership')} -> BucketOwnerEnforced (ACLs disabled)")
    elif rtype == "aws_s3_bucket_policy":
        generated = bucket_policy(settings, role)
        if "statement_digests" in facts:
            changes = _statement_changes(facts["statement_digests"], statement_digests(generated))
            if changes:
                lines.append(f"replaced in place: {changes}")
        else:  # a discovery file from before the digests
            lines.append(
                f"replaced in place: statements {', '.join(facts.get('statement_ids', [])) or '(none)'} -> "
                f"{', '.join(s['Sid'] for s in generated['Statement'])}"
            )
        dropped = bucket_dropped_principals(facts, settings)
        if dropped:
            lines.append(f"bucket policy drops principals {', '.join(dropped)} (accepted)")
    elif rtype == "aws_s3_bucket_lifecycle_configuration":
        lines += _lifecycle_lines(facts, bucket_retention(settings)[role])
    elif rtype == "aws_s3_bucket_notification":
        if not facts.get("eventbridge"):
            lines.append("EventBridge off -> on")
        others = {k: facts.get(k, 0) for k in ("queues", "topics", "lambda_functions")}
        if any(others.values()):
            shown = ", ".join(f"{n} {k.replace('_', ' ')}" for k, n in others.items() if n)
            lines.append(f"REMOVES the other notification configurations ({shown}): only EventBridge stays")
    elif rtype == "aws_dynamodb_table":
        lines += _table_lines(facts, settings)
        lines += _tags_line(facts.get("tags", {}), {**defaults, "Component": COMPONENT_TAGS["table"]})
    return tuple(lines) or ("no change",)


def _created(rtype: str, role: str, settings: Settings) -> str:
    if rtype == "aws_s3_bucket_policy":
        return "created: TLS only, and principals tagged tenant_id kept to their own prefix"
    if rtype == "aws_s3_bucket_lifecycle_configuration":
        return f"created: {retention_summary(bucket_retention(settings)[role])}"
    if rtype == "aws_kms_key":
        return "created: a NEW key (none behind the alias); objects under any other key stay under it"
    return "created"


def _key_lines(facts: Mapping[str, Any], settings: Settings, tenants: Sequence[Tenant]) -> list[str]:
    lines = []
    if facts.get("rotation") is not True:
        lines.append("key rotation off -> on")
    if facts.get("description") != key_description(settings):
        lines.append("description replaced")
    generated = key_policy(settings, tenants)
    if "statement_digests" in facts:
        changes = _statement_changes(facts["statement_digests"], statement_digests(generated))
        if changes:
            lines.append(f"key policy replaced in place: {changes}")
    else:  # a discovery file from before the digests: say what it can
        live_sids = facts.get("policy_statements", [])
        lines.append(
            f"key policy replaced in place: {len(live_sids)} statement(s) -> the stack's {len(generated['Statement'])}"
        )
    aws, services = (
        facts.get("policy_principals", {}).get("AWS", {}),
        facts.get("policy_principals", {}).get("Service", []),
    )
    dropped = dropped_principals(facts, settings)
    if dropped:
        lines.append(f"key policy drops principals {', '.join(dropped)} (accepted)")
    kept = sorted(p for p in aws if p not in dropped)
    if kept:
        lines.append(f"key policy keeps {', '.join(kept)}")
    for principal, lost in narrowed_principals(facts, settings).items():
        lines.append(f"key policy narrows {principal}: loses {', '.join(lost)} (accepted)")
    promoted = promoted_principals(facts, settings)
    for principal, gained in promoted.items():
        lines.append(f"key policy makes {principal} a key administrator: gains {', '.join(gained)} (accepted)")
    for principal in settings.key_admin_role_arns:
        gained = administration_gained(facts.get("policy_actions", {}).get(principal, []))
        if principal in aws and principal not in promoted and gained:
            lines.append(f"key policy also allows {principal} {', '.join(gained)}")
    _, new_services = policy_principals(generated)
    gone = sorted(set(services) - set(new_services))
    if gone:
        lines.append(f"key policy drops service principals {', '.join(gone)} (by design: AUDIT.md)")
    return lines


def _encryption_lines(facts: Mapping[str, Any], key: Mapping[str, Any], alias: str) -> list[str]:
    lines = []
    current = facts.get("kms_master_key_id")
    new_objects = "(new objects; existing objects stay under the key they were written with)"
    if facts.get("sse_algorithm") != "aws:kms":
        lines.append(
            f"default encryption {facts.get('sse_algorithm')} -> SSE-KMS with the foundation key {new_objects}"
        )
    elif current is None:
        lines.append(f"default encryption key: AWS managed aws/s3 -> the foundation key {new_objects}")
    elif not key:
        lines.append(f"default encryption key {current} -> the NEW foundation key {new_objects}")
    elif current != key.get("arn"):
        same = current in (key.get("key_id"), alias) or current.endswith((f":key/{key.get('key_id')}", f":{alias}"))
        lines.append(
            "default encryption key: the same key, written as its ARN"
            if same
            else f"default encryption key {current} -> the foundation key {new_objects}"
        )
    if facts.get("bucket_key_enabled") is not True:
        lines.append("bucket key off -> on")
    return lines


def _lifecycle_lines(facts: Mapping[str, Any], wanted: BucketRetention) -> list[str]:
    rules = [r for r in facts.get("rules", []) if r.get("status") == "Enabled"]
    lines = []
    expiration = sorted({r["expiration_days"] for r in rules if r.get("expiration_days")})
    if expiration != ([wanted.expiration_days] if wanted.expiration_days else []):
        shown = ", ".join(_days(d) for d in expiration) or "never"
        want = _days(wanted.expiration_days) if wanted.expiration_days else "never"
        if wanted.expiration_days and (not expiration or wanted.expiration_days < expiration[0]):
            lines.append(f"SHORTENS current-object expiry: objects are deleted after {want} instead of {shown}")
        else:
            lines.append(f"current objects expire after {shown} -> {want}")
    noncurrent = sorted({r["noncurrent_days"] for r in rules if r.get("noncurrent_days")})
    if wanted.noncurrent_days and not noncurrent:
        lines.append(
            f"ADDS noncurrent-version expiry: old versions become deletable after {_days(wanted.noncurrent_days)}"
        )
    elif wanted.noncurrent_days and noncurrent != [wanted.noncurrent_days]:
        shown = ", ".join(_days(d) for d in noncurrent)
        if wanted.noncurrent_days < noncurrent[0]:
            lines.append(
                f"SHORTENS noncurrent-version expiry: old versions become deletable after "
                f"{_days(wanted.noncurrent_days)} instead of {shown}"
            )
        else:
            lines.append(f"noncurrent versions deleted after {shown} -> {_days(wanted.noncurrent_days)}")
    elif not wanted.noncurrent_days and noncurrent:
        lines.append("stops deleting noncurrent versions")
    if wanted.noncurrent_days and not any(r.get("expired_object_delete_marker") for r in rules):
        lines.append("adds removal of expired delete markers")
    abort = sorted({r["abort_days"] for r in rules if r.get("abort_days")})
    if abort != [wanted.abort_incomplete_multipart_upload_days]:
        lines.append(f"aborts incomplete uploads after {_days(wanted.abort_incomplete_multipart_upload_days)}")
    ids = sorted(r.get("id") or "(no id)" for r in facts.get("rules", []))
    if lines or len(rules) != len(facts.get("rules", [])) or ids != rule_ids(wanted):
        lines.append(f"rules {', '.join(ids) or '(none)'} replaced by the stack's")
    return lines


def _table_lines(facts: Mapping[str, Any], settings: Settings) -> list[str]:
    lines = []
    if facts.get("billing_mode") != "PAY_PER_REQUEST":
        lines.append(f"billing {facts.get('billing_mode')} -> PAY_PER_REQUEST (on demand)")
    if facts.get("encryption") != "KMS" or facts.get("kms_key_arn") is None:
        lines.append(f"encryption {facts.get('encryption')} -> the foundation key")
    if facts.get("point_in_time_recovery") is not True:
        lines.append("point-in-time recovery off -> on")
    if facts.get("deletion_protection") is not True:
        lines.append("deletion protection off -> on")
    if facts.get("global_secondary_indexes"):
        lines.append(f"REMOVES global secondary indexes {', '.join(facts['global_secondary_indexes'])}")
    if facts.get("stream_view_type"):
        lines.append(f"DISABLES the table's stream ({facts['stream_view_type']}): its consumers stop receiving")
    return lines


def tenant_record_line(tenant_id: str, adoption: Adoption) -> str:
    """What happens to one tenant of the tenants file: created, taken over, or left outside."""
    record = adoption.tenant_records.get(tenant_id)
    if record is not None and record.terraform == TAKEN_OVER:
        return "record taken over: Terraform manages it, with every field it had"
    if adoption.record_exists(tenant_id):
        return (
            "record exists: stays outside Terraform, untouched (not importable); after the adoption is applied: "
            f"pipenv run adopt take-over {tenant_id}"
        )
    return "created"
