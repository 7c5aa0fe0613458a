"""The auditor's report of what will be deployed, read from the synthesized JSON.

    pipenv run audit [--stack-dir DIR] [--plan PLAN.json] [--output AUDIT.md] [--fail-on-destroy]

Reads the stack's Terraform JSON, ``cdk.tf.json`` and the tenants' ``tenants.tf.json``
beside it (not the Python settings), so the report describes exactly what Terraform
will be given. With ``--plan`` (the output of ``terraform show -json PLAN``)
it adds the changes: grouped by action and by tenant, key-policy changes as a
statement-level diff, and a loud warning for any delete or replace of the key, a
bucket or the table.

A plan that *creates* the key, its alias, a bucket or the table is checked against
the account (read-only lookups, cci_tools.live): their names are fixed, so if the
account already has them the plan was made from state that does not know the
deployed foundation (another backend, state file or stack name), and applying it
would create a second key and then fail on every name. Where the account cannot be
asked (no credentials, not reachable), the report says so in one line.

``--fail-on-destroy`` exits with status 3 on a delete or replace of a protected
resource, on a create of one the account already has, and on a create that could
not be checked: a gate for a CI pipeline or a Terraform Cloud run task.
"""

from __future__ import annotations

import argparse
import json
import os
import re
import sys
from collections import defaultdict
from dataclasses import dataclass
from pathlib import Path
from typing import Any

from cci_tools.live import LiveAccount, LiveUnavailable, Lookup
from constructs_lib.output import output_dir
from constructs_lib.policies import SERVICE_USES, STATEMENT_SENTENCES

PROJECT_DIR = Path(__file__).resolve().parent.parent
PROTECTED_TYPES = ("aws_kms_key", "aws_s3_bucket", "aws_dynamodb_table")
PURPOSE = {
    "input": "Upload call audio",
    "results": "Store JSON analytics output",
    "athena_staging": "Athena query results",
}
Json = dict[str, Any]


# --- waivers -------------------------------------------------------------------------


@dataclass(frozen=True)
class Waiver:
    check_id: str
    title: str
    resources: str
    reason: str
    compensates: str


_WAIVER_HEAD = re.compile(r"#\s*WAIVER\s+(\S+)\s*\|\s*resources:\s*(.+?)\s*\|\s*(.+)$")


def read_waivers(config: Path) -> list[Waiver]:
    """The waivers of .checkov.yaml: each skipped check with its commented reason.

    A skip without a complete ``# WAIVER`` comment block is an error: every waiver
    must say what it concerns, why, and what compensates.
    """
    waivers: list[Waiver] = []
    block: dict[str, str] = {}
    field = ""
    for line in config.read_text(encoding="utf-8").splitlines():
        text = line.strip()
        head = _WAIVER_HEAD.match(text)
        if head:
            block = {"id": head.group(1), "resources": head.group(2), "title": head.group(3)}
            field = ""
        elif text.startswith("# reason:") or text.startswith("# compensates:"):
            field = text[2:].split(":", 1)[0]
            block[field] = text.split(":", 1)[1].strip()
        elif text.startswith("#") and field and block:
            block[field] += " " + text.lstrip("#").strip()
        elif text.startswith("- ") and block:
            check_id = text[2:].strip()
            if block.get("id") != check_id or not block.get("reason") or not block.get("compensates"):
                raise ValueError(
                    f"{config.name}: skip of {check_id} lacks a complete '# WAIVER {check_id} ...' comment"
                )
            waivers.append(Waiver(check_id, block["title"], block["resources"], block["reason"], block["compensates"]))
            block, field = {}, ""
    return waivers


# --- reading the synthesized stack ------------------------------------------------------


def _cell(value: Any) -> str:
    text = value if isinstance(value, str) else json.dumps(value, separators=(", ", ": "))
    return text.replace("|", "\\|").replace("\n", " ")


def _literal_json(raw: str) -> Json:
    """JSON held in a Terraform string (a policy, an item), with ``$${`` read back as ``${``."""
    document: Json = json.loads(raw.replace("$${", "${"))
    return document


_PUBLIC_ACCESS_FLAGS = ("block_public_acls", "block_public_policy", "ignore_public_acls", "restrict_public_buckets")


def _denies_insecure_transport(policy: Json) -> bool:
    return any(
        s["Effect"] == "Deny" and s.get("Condition", {}).get("Bool", {}).get("aws:SecureTransport") == "false"
        for s in policy["Statement"]
    )


def _allows_everyone(statement: Json) -> bool:
    return bool(statement["Effect"] == "Allow" and statement.get("Principal") in ("*", {"AWS": "*"}))


def _prevents_destroy(resource: Json) -> bool:
    return resource.get("lifecycle", {}).get("prevent_destroy") is True


def _days(n: int) -> str:
    return f"{n} day" if n == 1 else f"{n} days"


def _lifecycle(rules: list[Json]) -> str:
    parts: list[str] = []
    current = [e["days"] for r in rules for e in r.get("expiration", []) if "days" in e]
    parts.append(f"delete after {_days(current[0])}" if current else "None (current objects kept)")
    noncurrent = [n["noncurrent_days"] for r in rules for n in r.get("noncurrent_version_expiration", [])]
    if noncurrent:
        parts.append(f"noncurrent versions after {_days(noncurrent[0])}")
    if any(e.get("expired_object_delete_marker") for r in rules for e in r.get("expiration", [])):
        parts.append("expired delete markers removed")
    aborts = [a["days_after_initiation"] for r in rules for a in r.get("abort_incomplete_multipart_upload", [])]
    if aborts:
        parts.append(f"incomplete uploads aborted after {_days(aborts[0])}")
    return "; ".join(parts)


def _statement_rows(policy: Json, *, resources: bool = False) -> list[str]:
    rows = []
    for s in policy["Statement"]:
        principal = s.get("Principal", "")
        principals = (
            ", ".join(f"{kind}: {', '.join(v if isinstance(v, list) else [v])}" for kind, v in principal.items())
            if isinstance(principal, dict)
            else str(principal)
        )
        actions = s.get("Action", [])
        conditions = "; ".join(
            f"{op} {key} = {', '.join(v) if isinstance(v, list) else v}"
            for op, pairs in s.get("Condition", {}).items()
            for key, v in pairs.items()
        )
        cells = [s.get("Sid", ""), s["Effect"], _cell(principals)]
        cells.append(_cell(", ".join(actions) if isinstance(actions, list) else actions))
        if resources:
            element = "NotResource" if "NotResource" in s else "Resource"
            values = s.get(element, [])
            listed = ", ".join(values) if isinstance(values, list) else values
            cells.append(_cell(f"{'not ' if element == 'NotResource' else ''}{listed}"))
        cells.append(_cell(conditions or "-"))
        rows.append(f"| {' | '.join(cells)} |")
    return rows


def _sentences(policy: Json) -> list[str]:
    """One plain sentence per statement, from constructs_lib.policies.STATEMENT_SENTENCES."""
    return [
        f"- `{s.get('Sid', '')}`: {STATEMENT_SENTENCES.get(s.get('Sid', ''), 'not a statement this generator writes.')}"
        for s in policy["Statement"]
    ]


def _service_rows(policy: Json) -> list[str]:
    """The design record's six services: which statements use their principals, or why none."""
    by_sid = {s.get("Sid"): s for s in policy["Statement"]}
    rows = []
    for use in SERVICE_USES:
        present = [by_sid[sid] for sid in use.sids if sid in by_sid]
        principals = sorted(
            {p for s in present for p in _as_list(s.get("Principal", {}).get("Service", [])) if isinstance(p, str)}
        )
        in_policy = ", ".join(f"`{p}`" for p in principals) if present else "not in the key policy"
        statements = ", ".join(f"`{s['Sid']}`" for s in present) or "-"
        rows.append(
            f"| {use.service} | `{use.design_principal}` | {in_policy} | {statements} | {_cell(use.reason)} | "
            f"[AWS doc]({use.doc}) |"
        )
    return rows


def _as_list(value: Any) -> list[Any]:
    return value if isinstance(value, list) else [value]


def _bucket_policy_groups(resources: Json) -> list[tuple[list[str], Json]]:
    """Bucket policies that are the same but for the bucket's own ARN, grouped, in bucket order."""
    groups: list[tuple[list[str], Json]] = []
    for role in sorted(resources.get("aws_s3_bucket_policy", {}), key=_bucket_order):
        policy = _literal_json(resources["aws_s3_bucket_policy"][role]["policy"])
        own = f":::{resources['aws_s3_bucket'][role]['bucket']}" if role in resources["aws_s3_bucket"] else None
        generic = json.loads(json.dumps(policy).replace(own, ":::{bucket}")) if own else policy
        for roles, shown in groups:
            if shown == generic:
                roles.append(role)
                break
        else:
            groups.append(([role], generic))
    return groups


def _bucket_order(role: str) -> int:
    return list(PURPOSE).index(role) if role in PURPOSE else len(PURPOSE)


def read_stack(stack_dir: Path) -> Json:
    """Every ``*.tf.json`` file of a stack directory, merged as Terraform reads one module."""
    merged: Json = {}
    for path in sorted(stack_dir.glob("*.tf.json"), key=lambda p: p.name != "cdk.tf.json"):
        for block, body in json.loads(path.read_text(encoding="utf-8")).items():
            if block == "//":
                merged.setdefault(block, body)
            elif block in ("resource", "data"):
                for rtype, by_name in body.items():
                    merged.setdefault(block, {}).setdefault(rtype, {}).update(by_name)
            elif isinstance(body, dict):
                merged.setdefault(block, {}).update(body)
            else:
                merged[block] = body
    return merged


def _tenants(stack: Json) -> list[tuple[str, Json]]:
    """The config-table items by tenant: the resource's for_each, a local of tenants.tf.json."""
    resource = stack["resource"].get("aws_dynamodb_table_item", {}).get("tenant_config")
    if resource is None:
        return []
    reference = re.fullmatch(r"\$\{local\.(\w+)\}", str(resource.get("for_each")))
    if not reference:
        raise ValueError(f"aws_dynamodb_table_item.tenant_config: unexpected for_each {resource.get('for_each')!r}")
    items = stack.get("locals", {})[reference.group(1)]
    return [(tenant_id, _literal_json(value)) for tenant_id, value in sorted(items.items())]


def render_report(stack: Json, waivers: list[Waiver], *, source: str) -> str:
    """AUDIT.md for one synthesized stack."""
    resources: Json = stack["resource"]
    provider = stack["provider"]["aws"][0]
    account, region = provider["allowed_account_ids"][0], provider["region"]
    stack_name = stack["//"]["metadata"]["stackName"]
    lines = [
        f"# Audit report: {stack_name}",
        "",
        f"Generated by `pipenv run audit` from the Terraform JSON in `{source}` (`cdk.tf.json` and `tenants.tf.json`),",
        "exactly what will be planned and applied.",
        f"Account `{account}` (the provider refuses any other: `allowed_account_ids`), region `{region}`.",
        "Default tags on every resource: "
        + ", ".join(f"`{k}={v}`" for k, v in sorted(provider["default_tags"][0]["tags"].items()))
        + ".",
        "",
        "## Buckets",
        "",
        "| Bucket | Purpose | Lifecycle | Encryption | Versioning | Public access | Events |",
        "| --- | --- | --- | --- | --- | --- | --- |",
    ]
    for role, bucket in sorted(resources["aws_s3_bucket"].items(), key=lambda kv: list(PURPOSE).index(kv[0])):
        sse = resources["aws_s3_bucket_server_side_encryption_configuration"][role]["rule"][0]
        by_default = sse["apply_server_side_encryption_by_default"]
        key_ref = re.sub(r"^\$\{(.+)\.arn\}$", r"\1", by_default.get("kms_master_key_id", ""))
        encryption = (
            f"SSE-KMS (`{key_ref}`)" if by_default["sse_algorithm"] == "aws:kms" else by_default["sse_algorithm"]
        )
        if sse.get("bucket_key_enabled"):
            encryption += ", bucket key"
        versioning = resources["aws_s3_bucket_versioning"][role]["versioning_configuration"]["status"]
        pab = resources["aws_s3_bucket_public_access_block"][role]
        public = "all 4 blocks" if all(pab.get(f) is True for f in _PUBLIC_ACCESS_FLAGS) else "NOT fully blocked"
        ownership = resources["aws_s3_bucket_ownership_controls"][role]["rule"]["object_ownership"]
        public += "; ACLs disabled" if ownership == "BucketOwnerEnforced" else f"; ownership {ownership}"
        tls = _denies_insecure_transport(_literal_json(resources["aws_s3_bucket_policy"][role]["policy"]))
        public += "; TLS only" if tls else "; TLS NOT enforced"
        notification = resources.get("aws_s3_bucket_notification", {}).get(role, {})
        events = "EventBridge" if notification.get("eventbridge") else "none"
        protection = " (prevent_destroy)" if _prevents_destroy(bucket) else ""
        lifecycle = _lifecycle(resources["aws_s3_bucket_lifecycle_configuration"][role]["rule"])
        lines.append(
            f"| `{bucket['bucket']}`{protection} | {PURPOSE.get(role, role)} | {lifecycle} | {encryption} | "
            f"{versioning} | {public} | {events} |"
        )

    key = resources["aws_kms_key"]["master"]
    alias = resources["aws_kms_alias"]["master"]["name"]
    policy = _literal_json(key["policy"])
    lines += [
        "",
        "## KMS key",
        "",
        "| Alias | Spec | Rotation | Deletion window | Region | Protection |",
        "| --- | --- | --- | --- | --- | --- |",
        f"| `{alias}` | {key['customer_master_key_spec']}, {key['key_usage']} | "
        f"{'enabled' if key.get('enable_key_rotation') else 'DISABLED'} | {_days(key['deletion_window_in_days'])} | "
        f"{'multi-region' if key.get('multi_region') else f'single-region ({region})'} | "
        f"{'prevent_destroy' if _prevents_destroy(key) else 'none'} |",
        "",
        "Key policy (as AWS receives it):",
        "",
        "| Sid | Effect | Principals | Actions | Conditions |",
        "| --- | --- | --- | --- | --- |",
        *_statement_rows(policy),
        "",
        "What each statement does:",
        "",
        *_sentences(policy),
        "",
        "The AWS services the design record names, and how the key policy treats each one's service principal:",
        "",
        "| Service | Design record | In the key policy | Statements | Why | Source |",
        "| --- | --- | --- | --- | --- | --- |",
        *_service_rows(policy),
        "",
        "## Bucket policies",
        "",
    ]
    for roles, bucket_policy in _bucket_policy_groups(resources):
        buckets = ", ".join(f"`{resources['aws_s3_bucket'][r]['bucket']}`" for r in roles)
        lines += [
            f"Policy of {buckets} (as AWS receives it; `{{bucket}}` is each bucket's own name):",
            "",
            "| Sid | Effect | Principals | Actions | Resources | Conditions |",
            "| --- | --- | --- | --- | --- | --- |",
            *_statement_rows(bucket_policy, resources=True),
            "",
            "What each statement does:",
            "",
            *_sentences(bucket_policy),
            "",
        ]
    lines.pop()

    table = resources["aws_dynamodb_table"]["tenant_config"]
    sse_table = table.get("server_side_encryption", {})
    lines += [
        "",
        "## Tenant config table",
        "",
        "| Table | Key | Billing | Encryption | Point-in-time recovery | Deletion protection | Protection |",
        "| --- | --- | --- | --- | --- | --- | --- |",
        f"| `{table['name']}` | `{table['hash_key']}` | {table.get('billing_mode', 'PROVISIONED')} | "
        f"{'KMS (`aws_kms_key.master`)' if sse_table.get('enabled') else 'AWS owned key'} | "
        f"{'on' if table.get('point_in_time_recovery', {}).get('enabled') else 'OFF'} | "
        f"{'on' if table.get('deletion_protection_enabled') else 'OFF'} | "
        f"{'prevent_destroy' if _prevents_destroy(table) else 'none'} |",
        "",
        "## Tenants",
        "",
    ]
    tenants = _tenants(stack)
    if tenants:
        guarded = any(item["kms_guard"]["BOOL"] for _, item in tenants)
        lines += [
            "A tenant's guard on means only the pipeline role may use the key with its tenant_id encryption context "
            "(`DenyGuardedTenantContextToOthers`"
            + ("" if guarded else ", absent from the key policy because no tenant is guarded")
            + ").",
            "",
            "| Tenant | Display name | KMS guard | Tags |",
            "| --- | --- | --- | --- |",
        ]
        for tenant_id, item in tenants:
            tags = ", ".join(f"{k}={v['S']}" for k, v in sorted(item["tags"]["M"].items()))
            guard = "on" if item["kms_guard"]["BOOL"] else "off"
            lines.append(f"| `{tenant_id}` | {_cell(item['display_name']['S'])} | {guard} | {_cell(tags)} |")
    else:
        lines.append("No tenants: the foundation alone.")

    lines += [
        "",
        "## Scanner waivers",
        "",
        "checkov runs on every synthesized stack in CI (`.checkov.yaml`); these checks are skipped, each for a reason:",
        "",
        "| Check | What | Resources | Reason | Compensated by |",
        "| --- | --- | --- | --- | --- |",
        *(
            f"| {w.check_id} | {_cell(w.title)} | {_cell(w.resources)} | {_cell(w.reason)} | {_cell(w.compensates)} |"
            for w in waivers
        ),
        "",
        "## AWS Foundational Security Best Practices",
        "",
        "| Control | Requirement | Met by | Status |",
        "| --- | --- | --- | --- |",
        *_controls(resources, policy, waivers),
        "",
        "## Resources and references",
        "",
        "```mermaid",
        *_diagram(resources),
        "```",
        "",
    ]
    return "\n".join(lines)


def _controls(resources: Json, policy: Json, waivers: list[Waiver]) -> list[str]:
    buckets = sorted(resources["aws_s3_bucket"])
    key = resources["aws_kms_key"]["master"]
    table = resources["aws_dynamodb_table"]["tenant_config"]

    def every(kind: str, test: Any) -> bool:
        return all(test(resources[kind][b]) for b in buckets)

    pab = every("aws_s3_bucket_public_access_block", lambda p: all(p.get(f) is True for f in _PUBLIC_ACCESS_FLAGS))
    tls = every("aws_s3_bucket_policy", lambda p: _denies_insecure_transport(_literal_json(p["policy"])))
    private = pab and every(
        "aws_s3_bucket_policy",
        lambda p: not any(_allows_everyone(s) for s in _literal_json(p["policy"])["Statement"]),
    )
    versioned = every("aws_s3_bucket_versioning", lambda v: v["versioning_configuration"]["status"] == "Enabled")
    lifecycle = all(b in resources["aws_s3_bucket_lifecycle_configuration"] for b in buckets)
    acls = every("aws_s3_bucket_ownership_controls", lambda o: o["rule"]["object_ownership"] == "BucketOwnerEnforced")
    kms = every(
        "aws_s3_bucket_server_side_encryption_configuration",
        lambda c: c["rule"][0]["apply_server_side_encryption_by_default"]["sse_algorithm"] == "aws:kms",
    )
    waived = {w.check_id for w in waivers}
    rows = [
        ("S3.1 / S3.8", "Block public access", "`aws_s3_bucket_public_access_block.*`: all four flags", pab),
        ("S3.2 / S3.3", "No public read or write", "public access block, no public statement in any bucket policy", private),
        ("S3.5", "Require SSL", "`aws_s3_bucket_policy.*`: Deny when `aws:SecureTransport` is false", tls),
        ("S3.9", "Server access logging", "waived (CKV_AWS_18): see Scanner waivers", "CKV_AWS_18" in waived and None),
        ("S3.10", "Versioned buckets have lifecycle", "`aws_s3_bucket_lifecycle_configuration.*` on every versioned bucket", versioned and lifecycle),
        ("S3.12", "No ACLs", "`aws_s3_bucket_ownership_controls.*`: BucketOwnerEnforced", acls),
        ("S3.13", "Lifecycle configured", "`aws_s3_bucket_lifecycle_configuration.*`", lifecycle),
        ("S3.14", "Versioning enabled", "`aws_s3_bucket_versioning.*`: Enabled", versioned),
        ("S3.17", "Encrypted at rest with KMS", "`aws_s3_bucket_server_side_encryption_configuration.*`: aws:kms", kms),
        ("KMS.3", "Key not unintentionally deleted", "`aws_kms_key.master`: prevent_destroy, 30-day deletion window",
         _prevents_destroy(key) and key["deletion_window_in_days"] >= 7),
        ("KMS.4", "Key rotation enabled", "`aws_kms_key.master`: enable_key_rotation", key.get("enable_key_rotation") is True),
        ("KMS.5", "Key not publicly accessible", "no Allow statement for `*` in the key policy",
         not any(_allows_everyone(s) for s in policy["Statement"])),
        ("DynamoDB.1", "Scales with demand", "`aws_dynamodb_table.tenant_config`: on-demand billing", table.get("billing_mode") == "PAY_PER_REQUEST"),
        ("DynamoDB.2", "Point-in-time recovery", "`aws_dynamodb_table.tenant_config`: point_in_time_recovery",
         table.get("point_in_time_recovery", {}).get("enabled") is True),
        ("DynamoDB.6", "Deletion protection", "`aws_dynamodb_table.tenant_config`: deletion_protection_enabled",
         table.get("deletion_protection_enabled") is True),
    ]  # fmt: skip
    status = {True: "met", False: "**NOT MET**", None: "waived"}
    return [f"| {c} | {r} | {m} | {status[s if s is None else bool(s)]} |" for c, r, m, s in rows]


def _diagram(resources: Json) -> list[str]:
    alias = resources["aws_kms_alias"]["master"]["name"]
    lines = ["flowchart LR"]
    lines.append(f'  key["aws_kms_key.master<br/>{alias}"]')
    for role in sorted(resources["aws_s3_bucket"], key=lambda r: list(PURPOSE).index(r)):
        lines.append(f'  {role}["aws_s3_bucket.{role}"]')
        lines.append(f"  key -- SSE-KMS --> {role}")
    lines.append('  table["aws_dynamodb_table.tenant_config"]')
    lines.append("  key -- encrypts --> table")
    lines.append('  items["aws_dynamodb_table_item.tenant_config[*]"]')
    lines.append("  items -- records in --> table")
    if resources.get("aws_s3_bucket_notification"):
        lines.append('  eb(["EventBridge default bus"])')
        for role in sorted(resources["aws_s3_bucket_notification"]):
            lines.append(f"  {role} -- object events --> eb")
    return lines


# --- plan review -------------------------------------------------------------------------


def _action(actions: list[str]) -> str:
    if "delete" in actions and "create" in actions:
        return "replace"
    return actions[0]


def _tenant_of(address: str) -> str | None:
    match = re.search(r'\["([^"]+)"\]$', address)
    return match.group(1) if match and address.startswith("aws_dynamodb_table_item.tenant_config") else None


def _policy_diff(before: str, after: str) -> list[str]:
    old = {s.get("Sid", f"#{i}"): s for i, s in enumerate(json.loads(before)["Statement"])}
    new = {s.get("Sid", f"#{i}"): s for i, s in enumerate(json.loads(after)["Statement"])}
    lines = []
    for sid in [*old, *(s for s in new if s not in old)]:
        if sid not in new:
            lines.append(f"- removed statement `{sid}`")
        elif sid not in old:
            lines.append(f"- added statement `{sid}`: `{json.dumps(new[sid], sort_keys=True)}`")
        elif old[sid] != new[sid]:
            lines.append(f"- changed statement `{sid}`:")
            for field in sorted(set(old[sid]) | set(new[sid])):
                a, b = old[sid].get(field), new[sid].get(field)
                if a != b:
                    lines.extend(f"  - {line}" for line in _value_diff(field, a, b))
    return lines or ["- no statement changed (formatting only)"]


def _value_diff(path: str, a: Any, b: Any) -> list[str]:
    if isinstance(a, dict) and isinstance(b, dict):
        return [
            line
            for k in sorted(set(a) | set(b))
            if a.get(k) != b.get(k)
            for line in _value_diff(f"{path}.{k}", a.get(k), b.get(k))
        ]
    if isinstance(a, list | str) and isinstance(b, list | str) and (isinstance(a, list) or isinstance(b, list)):
        old, new = set(a if isinstance(a, list) else [a]), set(b if isinstance(b, list) else [b])
        parts = [f"added `{v}`" for v in sorted(new - old)] + [f"removed `{v}`" for v in sorted(old - new)]
        return [f"`{path}`: {', '.join(parts)}"]
    return [f"`{path}`: `{json.dumps(a)}` → `{json.dumps(b)}`"]


# --- forked state -------------------------------------------------------------------------

#: Resources with a fixed name (constructs_lib.naming) whose creation the account can contradict.
NAMED_TYPES = ("aws_kms_key", "aws_kms_alias", "aws_s3_bucket", "aws_dynamodb_table")


@dataclass(frozen=True)
class PlannedCreate:
    """A create of a named foundation resource: its address and how to look it up by name."""

    address: str
    kind: str  # "bucket", "alias" or "table"
    name: str


@dataclass(frozen=True)
class ForkCheck:
    """The named resources a plan creates, looked up in the account (or why they could not be)."""

    account: str
    lookups: tuple[tuple[PlannedCreate, Lookup], ...] = ()
    unavailable: str | None = None

    @property
    def existing(self) -> list[tuple[PlannedCreate, Lookup]]:
        return [(c, found) for c, found in self.lookups if found.exists is True]

    @property
    def unverified(self) -> list[PlannedCreate]:
        """Creates the account could not be asked about: all of them when it could not be reached."""
        if self.unavailable is not None:
            return [c for c, _ in self.lookups]
        return [c for c, found in self.lookups if found.exists is None]


def planned_creates(plan: Json, stack: Json) -> list[PlannedCreate]:
    """The plan's creates of the key, its alias, a bucket or the table, with the name each has in AWS.

    The key has no name of its own: it is looked up by the alias the stack gives it.
    """
    aliases = [
        c["change"]["after"]["name"]
        for c in plan.get("resource_changes", [])
        if c["type"] == "aws_kms_alias" and isinstance((c["change"].get("after") or {}).get("name"), str)
    ]
    stack_alias = stack.get("resource", {}).get("aws_kms_alias", {}).get("master", {}).get("name")
    alias = aliases[0] if aliases else stack_alias
    creates = []
    for change in plan.get("resource_changes", []):
        if change["type"] not in NAMED_TYPES or change["change"]["actions"] != ["create"]:
            continue
        after = change["change"].get("after") or {}
        kind, name = {
            "aws_s3_bucket": ("bucket", after.get("bucket")),
            "aws_dynamodb_table": ("table", after.get("name")),
            "aws_kms_alias": ("alias", after.get("name")),
            "aws_kms_key": ("alias", alias),
        }[change["type"]]
        if isinstance(name, str):
            creates.append(PlannedCreate(change["address"], kind, name))
    return creates


def check_fork(creates: list[PlannedCreate], *, region: str, account_id: str, connect: Any = None) -> ForkCheck:
    """Look each planned create up in the account; no AWS call when there is none.

    ``connect`` (default ``LiveAccount.connect``) returns the account to ask, or raises
    LiveUnavailable; its one-line reason goes into the report.
    """
    if not creates:
        return ForkCheck(account=account_id)
    try:
        live = (connect or LiveAccount.connect)(region=region, account_id=account_id)
    except LiveUnavailable as why:
        pending = tuple((c, Lookup(kind=c.kind, name=c.name, exists=None, detail=str(why))) for c in creates)
        return ForkCheck(account=account_id, lookups=pending, unavailable=str(why))
    cache: dict[tuple[str, str], Lookup] = {}
    lookups = []
    for create in creates:
        key = (create.kind, create.name)
        if key not in cache:
            cache[key] = {"bucket": live.bucket, "alias": live.kms_alias, "table": live.table}[create.kind](create.name)
        lookups.append((create, cache[key]))
    return ForkCheck(account=account_id, lookups=tuple(lookups))


def _fork_lines(fork: ForkCheck) -> list[str]:
    lines: list[str] = []
    if fork.existing:
        lines += [
            "> [!CAUTION]",
            f"> **This plan creates foundation resources that account {fork.account} already has:** "
            + ", ".join(f"`{c.address}` ({found.kind} `{found.name}` {found.detail})" for c, found in fork.existing)
            + ". The state this plan was made with does not know the deployed foundation: likely a state mix-up "
            "(another backend, state file, `-backend-config` or stack name than the one that deployed it). "
            "Applying would create a second key and then fail on every existing name. Stop, and find the state "
            'that manages them (README, "State backends and environments").',
            "",
        ]
    if fork.unverified:
        reason = fork.unavailable or "; ".join(str(found) for c, found in fork.lookups if found.exists is None)
        lines += [
            "> [!WARNING]",
            "> **Not checked against the account:** this plan creates "
            + ", ".join(f"`{c.address}`" for c in fork.unverified)
            + f"; whether account {fork.account} already has them could not be checked ({reason}). A plan made "
            "from the wrong state looks exactly like this, so `--fail-on-destroy` fails it; run the audit with "
            "read-only credentials for the account.",
            "",
        ]
    if fork.lookups and not fork.existing and not fork.unverified:
        lines += [
            f"Checked against account {fork.account}: none of the created key, alias, buckets or table exists yet.",
            "",
        ]
    return lines


def render_changes(plan: Json, fork: ForkCheck | None = None) -> tuple[str, list[str]]:
    """The change section for a ``terraform show -json`` plan, and the protected resources it destroys.

    ``fork``: the plan's creates looked up in the account (check_fork); its findings
    head the section.
    """
    changes = [c for c in plan.get("resource_changes", []) if c["change"]["actions"] not in (["no-op"], ["read"])]
    destroyed = sorted(
        c["address"] for c in changes if c["type"] in PROTECTED_TYPES and "delete" in c["change"]["actions"]
    )
    counts: dict[str, int] = defaultdict(int)
    for change in changes:
        counts[_action(change["change"]["actions"])] += 1
    lines = ["## Changes in this plan", ""]
    if destroyed:
        lines += [
            "> [!CAUTION]",
            "> **This plan destroys protected foundation resources:** "
            + ", ".join(f"`{a}`" for a in destroyed)
            + ". Deleting the key makes every object encrypted under it unreadable; deleting a bucket or the table "
            "loses its data. Stop and review.",
            "",
        ]
    if fork is not None:
        lines += _fork_lines(fork)
    if not changes:
        return "\n".join([*lines, "No changes.", ""]), destroyed
    lines.append(
        "Summary: "
        + ", ".join(f"{counts[a]} to {a}" for a in ("create", "update", "replace", "delete") if counts[a])
        + "."
    )
    groups: dict[str, dict[str, list[Json]]] = defaultdict(lambda: defaultdict(list))
    for change in changes:
        groups[_action(change["change"]["actions"])][_tenant_of(change["address"]) or ""].append(change)
    for action in ("delete", "replace", "create", "update"):
        if action not in groups:
            continue
        lines += ["", f"### {action.capitalize()}", ""]
        for tenant in sorted(groups[action]):
            label = f"tenant `{tenant}`" if tenant else "foundation"
            for change in groups[action][tenant]:
                lines.append(f"- {label}: `{change['address']}`")
                if change["type"] == "aws_kms_key" and action == "update":
                    before, after = change["change"]["before"], change["change"]["after"]
                    if before.get("policy") != after.get("policy"):
                        lines.append("  Key policy, statement by statement:")
                        lines.extend(f"  {line}" for line in _policy_diff(before["policy"], after["policy"]))
    return "\n".join([*lines, ""]), destroyed


# --- command line ----------------------------------------------------------------------------


def find_stack_dir(environ: dict[str, str]) -> Path:
    stacks = sorted(p for p in (output_dir(environ) / "stacks").glob("*") if (p / "cdk.tf.json").exists())
    if len(stacks) != 1:
        names = ", ".join(p.name for p in stacks) or "none"
        raise SystemExit(f"error: found {len(stacks)} synthesized stacks ({names}); pass --stack-dir")
    return stacks[0]


def main(argv: list[str]) -> int:
    parser = argparse.ArgumentParser(prog="audit", description=__doc__.split("\n\n")[0])
    parser.add_argument("--stack-dir", type=Path, help="default: the one stack under cdktf.out/stacks")
    parser.add_argument("--plan", type=Path, help="output of terraform show -json PLAN")
    parser.add_argument("--output", type=Path, default=Path("AUDIT.md"))
    parser.add_argument(
        "--fail-on-destroy",
        action="store_true",
        help="exit 3 if the plan deletes or replaces the key, a bucket or the table, or creates one that the "
        "account already has or that could not be checked against the account",
    )
    args = parser.parse_args(argv)
    stack_dir = args.stack_dir or find_stack_dir(dict(os.environ))
    stack = read_stack(stack_dir)
    source = f"cdktf.out/stacks/{stack_dir.name}/"
    report = render_report(stack, read_waivers(PROJECT_DIR / ".checkov.yaml"), source=source)
    destroyed: list[str] = []
    fork: ForkCheck | None = None
    if args.plan:
        plan = json.loads(args.plan.read_text(encoding="utf-8"))
        provider = stack["provider"]["aws"][0]
        fork = check_fork(
            planned_creates(plan, stack), region=provider["region"], account_id=provider["allowed_account_ids"][0]
        )
        changes, destroyed = render_changes(plan, fork)
        report += "\n" + changes
    args.output.write_text(report, encoding="utf-8")
    print(f"wrote {args.output}")
    failed = False
    if destroyed:
        print(f"WARNING: the plan destroys protected resources: {', '.join(destroyed)}", file=sys.stderr)
        failed = True
    if fork is not None and fork.existing:
        print(
            f"WARNING: the plan creates resources that account {fork.account} already has (likely a state mix-up): "
            + ", ".join(c.address for c, _ in fork.existing),
            file=sys.stderr,
        )
        failed = True
    if fork is not None and fork.unverified:
        reason = fork.unavailable or "see the report"
        print(
            "WARNING: the plan creates "
            + ", ".join(c.address for c in fork.unverified)
            + f"; not checked against account {fork.account}: {reason}",
            file=sys.stderr,
        )
        failed = True
    return 3 if failed and args.fail_on_destroy else 0


if __name__ == "__main__":
    from cci_tools import cli

    sys.exit(cli.run(main, sys.argv[1:], prog="audit"))
