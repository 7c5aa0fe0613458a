"""The auditor's report of what will be deployed, read from the synthesized JSON.

    pipenv run audit [--stack-dir DIR] [--plan PLAN.json] [--output FILE] [--fail-on-destroy]

Reads every ``*.tf.json`` of the stack directory (``cdk.tf.json``, the tenants'
``tenants.tf.json``, an adopted stack's ``imports.tf.json``), not the Python settings,
so the report describes exactly what Terraform will be given. Every value read from
them is shown as AWS stores it (Terraform's ``$${``/``%%{`` escapes undone) and with
every character visible (cci_tools.display). The report names what it was made from
(cci_tools.provenance): each file's SHA-256, the plan's, the product version and the
commit. Its control matrix (cci_tools.controls) says "met" only for controls this stack
decides; the scanner waivers (cci_tools.waivers) show as waived, never met. Every
key-policy statement the generator can write is listed, an absent one with the reason.

Where it writes: without ``--plan``, ``AUDIT.md`` (the committed report of the shipped
settings), and only when its content changes, so an unchanged stack leaves the checkout
clean; that report names "the commit that contains this file". A stack synthesized with
``CCI_*`` overrides (recorded in its ``synth-overrides.json``) is not the shipped settings:
the audit refuses to write it into ``AUDIT.md`` (``--output`` elsewhere is fine). With ``--plan`` (the
output of ``terraform show -json PLAN``) it writes a review, by default
``plan-review.md`` in the stack directory (beside ``plan.bin``, ignored by git with
``cdktf.out/``), naming ``git rev-parse HEAD`` and whether the tree had uncommitted
changes; ``--output AUDIT.md`` is refused for a review. The review adds the changes:
grouped by action and by tenant, what Terraform imports (an adopted foundation,
constructs_lib.adoption), key-policy changes as a statement-level diff against the
policy in AWS, the consequences of in-place changes to what exists (lifecycle rules
that newly delete old versions, bucket keys, table encryption, point-in-time recovery,
deletion protection, ...), and a loud warning, with its consequence, for any delete or
replace of a resource of the stack.

A plan that *creates* the key, its alias, a bucket or the table is checked against
the account (read-only lookups, cci_tools.live): their names are fixed, so if the
account already has them the plan was made from state that does not know the
deployed foundation (another backend, state file or stack name), and applying it
would create a second key and then fail on every name. Where the account cannot be
asked (no credentials, not reachable), the report says so in one line.

In an adopted stack (one with ``imports.tf.json``) tenant records may exist outside
Terraform, so a planned create of a tenant record is looked up too (the apply would
fail on it); the report lists the records that stay outside Terraform.

A tenant record's in-place update that deletes data (a field removed, or a field the
product does not manage overwritten: Terraform writes a record it manages whole) is
flagged as loudly as a delete.

``--fail-on-destroy`` exits with status 3 on a delete or replace of any resource of
the stack (a tenant record only while its tenant is still in the tenants file:
removing a tenant deletes its record on purpose), on a tenant record update that
deletes data, on a plan that imports (right only for the first adoption of the stack,
and then passed with ``--expect-imports``; otherwise a state that does not know the
adopted foundation: a fork), on a create of a named resource or tenant record the account already
has, and on such a create that could not be checked: a gate for a CI pipeline or a
Terraform Cloud run task.
"""

from __future__ import annotations

import argparse
import json
import os
import re
import sys
from collections import defaultdict
from collections.abc import Sequence
from dataclasses import dataclass
from pathlib import Path
from typing import Any

from cci_tools.controls import Assessment, assess
from cci_tools.display import code, visible
from cci_tools.live import LiveAccount, LiveUnavailable, Lookup
from cci_tools.plan_file import PlanError, load_plan, stale_differences, stale_message
from cci_tools.provenance import CONTAINING, PlanFile, Provenance, current_commit, stack_files
from cci_tools.waivers import WAIVERS_FILE, Waiver, WaiverError
from cci_tools.waivers import load as load_waivers
from constructs_lib.adoption import MANAGED_FIELDS, policy_grants, policy_principals
from constructs_lib.output import output_dir, read_overrides, replace_text
from constructs_lib.policies import (
    ABSENT_BECAUSE,
    GUARD_IS_NOT_S3_ISOLATION,
    KEY_POLICY_SIDS,
    SERVICE_USES,
    STATEMENT_SENTENCES,
    unescape_terraform,
)

PROJECT_DIR = Path(__file__).resolve().parent.parent
#: What a delete or replace of each resource type of the stack costs, in one line.
DESTROY_CONSEQUENCES: dict[str, str] = {
    "aws_kms_key": "every object and record encrypted under the key becomes unreadable",
    "aws_kms_alias": "the alias stops resolving until it is recreated: whatever names the key by its alias fails",
    "aws_s3_bucket": "the bucket and every object version in it are lost",
    "aws_s3_bucket_versioning": (
        "versioning is suspended until it is recreated: an object overwritten or deleted meanwhile loses its "
        "previous version"
    ),
    "aws_s3_bucket_server_side_encryption_configuration": (
        "the bucket falls back to S3-managed keys (SSE-S3) until it is recreated: objects written meanwhile are "
        "not under the foundation key"
    ),
    "aws_s3_bucket_public_access_block": "public access is not blocked until it is recreated",
    "aws_s3_bucket_ownership_controls": "ACLs are honoured again until it is recreated",
    "aws_s3_bucket_policy": "TLS-only access and tenant prefix isolation are lifted until it is recreated",
    "aws_s3_bucket_lifecycle_configuration": (
        "no lifecycle rule applies until it is recreated: expired call audio and old versions are kept"
    ),
    "aws_s3_bucket_notification": "uploads send no EventBridge events until it is recreated: the pipeline stops",
    "aws_dynamodb_table": "the table and every tenant record in it are lost",
    "aws_dynamodb_table_item": "the tenant's record is deleted with every field it has",
}
PURPOSE = {
    "input": "Upload call audio",
    "results": "Store JSON analytics output",
    "athena_staging": "Athena query results",
}
Json = dict[str, Any]


# --- reading the synthesized stack ------------------------------------------------------


def _prose(text: str) -> str:
    """Project text (a waiver's reason) in a table cell: one line, with ``|`` escaped."""
    return " ".join(visible(text).split()).replace("|", "\\|")


def _literal_json(raw: str) -> Json:
    """JSON held in a Terraform string (a policy, an item), as AWS receives it: Terraform's escapes undone."""
    document: Json = json.loads(unescape_terraform(raw))
    return document


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


def _codes(value: Any) -> str:
    """A policy element's value or values, each shown exactly, comma-separated."""
    return ", ".join(code(v if isinstance(v, str) else json.dumps(v)) for v in _as_list(value))


def _statement_rows(policy: Json, *, resources: bool = False, absent: Sequence[str] = ()) -> list[str]:
    """One table row per statement; ``absent``: Sids of statements the generator left out, each a row too."""
    rows = []
    for s in policy["Statement"]:
        principal = s.get("Principal", "")
        principals = (
            "; ".join(f"{visible(kind)}: {_codes(values)}" for kind, values in principal.items())
            if isinstance(principal, dict)
            else _codes(principal)
        )
        conditions = "; ".join(
            f"{code(op)} {code(key)} = {_codes(values)}"
            for op, pairs in s.get("Condition", {}).items()
            for key, values in pairs.items()
        )
        # A NotAction statement applies to every action but those listed: "all but ..." says so.
        actions = f"all but {_codes(s['NotAction'])}" if "NotAction" in s else (_codes(s.get("Action", [])) or "-")
        cells = [code(s.get("Sid", "")), code(s["Effect"]), principals or "-", actions]
        if resources:
            element = "NotResource" if "NotResource" in s else "Resource"
            cells.append(("not " if element == "NotResource" else "") + (_codes(s.get(element, [])) or "-"))
        cells.append(conditions or "-")
        rows.append(f"| {' | '.join(cells)} |")
    rows += [f"| {code(sid)} | absent | - | - |{' - |' if resources else ''} - |" for sid in absent]
    return rows


def _absent_sids(policy: Json) -> list[str]:
    """The key-policy statements the generator can write that this policy does not hold."""
    present = {s.get("Sid") for s in policy["Statement"]}
    return [sid for sid in KEY_POLICY_SIDS if sid not in present]


def _sentences(policy: Json, *, absent: Sequence[str] = ()) -> list[str]:
    """One plain sentence per statement (STATEMENT_SENTENCES), and for each absent one why it is absent."""
    lines = [
        f"- {code(s.get('Sid', ''))}: {STATEMENT_SENTENCES.get(s.get('Sid', ''), 'not a statement this generator writes.')}"
        for s in policy["Statement"]
    ]
    lines += [
        f"- {code(sid)}: absent, because {ABSENT_BECAUSE.get(sid, 'the generator leaves it out here')}. "
        f"When present: {STATEMENT_SENTENCES[sid]}"
        for sid in absent
    ]
    return lines


def _service_rows(policy: Json) -> list[str]:
    """The design record's six services: which statements use their principals, or why none."""
    by_sid = {s.get("Sid"): s for s in policy["Statement"]}
    rows = []
    for use in SERVICE_USES:
        present = [by_sid[sid] for sid in use.sids if sid in by_sid]
        principals = sorted(
            {p for s in present for p in _as_list(s.get("Principal", {}).get("Service", [])) if isinstance(p, str)}
        )
        in_policy = ", ".join(code(p) for p in principals) if present else "not in the key policy"
        statements = ", ".join(code(s["Sid"]) for s in present) or "-"
        rows.append(
            f"| {use.service} | `{use.design_principal}` | {in_policy} | {statements} | {_prose(use.reason)} | "
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
    """Every ``*.tf.json`` file of a stack directory, merged as Terraform reads one module.

    Raises NoStackDir (one line) when ``stack_dir`` has no ``cdk.tf.json`` or a file is not
    the JSON object a synth writes.
    """
    if not (stack_dir / "cdk.tf.json").is_file():
        raise NoStackDir(
            f"audit: {stack_dir} is not a synthesized stack (it has no cdk.tf.json); run pipenv run synth, then "
            "audit cdktf.out/stacks/<stack>"
        )
    merged: Json = {}
    for path in sorted(stack_dir.glob("*.tf.json"), key=lambda p: p.name != "cdk.tf.json"):
        try:
            document = json.loads(path.read_text(encoding="utf-8"))
        except (UnicodeDecodeError, ValueError):
            document = None
        if not isinstance(document, dict):
            raise NoStackDir(f"audit: {path} is not the Terraform JSON a synth writes; run pipenv run synth again")
        for block, body in document.items():
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


def tenants_outside_terraform(stack: Json) -> list[str]:
    """Tenants of the stack without an item: their record exists outside Terraform (an adopted stack)."""
    locals_ = stack.get("locals", {})
    tags, items = locals_.get("tenant_tags", {}), locals_.get("tenant_config_items", {})
    return sorted(t for t in tags if t not in items) if isinstance(tags, dict) and isinstance(items, dict) else []


def is_adopted(stack: Json) -> bool:
    """Was the stack synthesized with a discovery file (it has import blocks, imports.tf.json)?"""
    return bool(stack.get("import"))


def _tags(tags: Json) -> str:
    """A tag set as ``key``=``value`` pairs, by key; each key and value shown exactly."""
    return ", ".join(f"{code(k)}={code(v)}" for k, v in sorted(tags.items())) or "-"


def render_report(stack: Json, waivers: Sequence[Waiver], *, provenance: Provenance) -> str:
    """AUDIT.md for one synthesized stack (read_stack), made from what ``provenance`` names.

    Every value read from the stack's files is shown with ``cci_tools.display.code``: as
    AWS stores it (Terraform's ``$${`` and ``%%{`` escapes undone), every character that
    would not show as itself escaped, in a code span no Markdown can break.
    """
    resources: Json = stack["resource"]
    provider = stack["provider"]["aws"][0]
    account, region = provider["allowed_account_ids"][0], provider["region"]
    stack_name = stack["//"]["metadata"]["stackName"]
    lines = [
        f"# Audit report: {visible(stack_name)}",
        "",
        "Generated by `pipenv run audit` from the synthesized Terraform JSON of the stack (not from the Python "
        "settings): exactly what will be planned and applied.",
        f"Account {code(account)} (the provider refuses any other: `allowed_account_ids`), region {code(region)}.",
        f"Default tags on every resource: {_tags(provider['default_tags'][0]['tags'])}.",
        "Every value read from the stack is shown as AWS stores it, in code format: Terraform's escapes are undone "
        "(`$${` is shown as `${`, `%%{` as `%{`), a character that would not show as itself is written as its code "
        "point (`\\u0007`, `\\u202e`), as are `|` and the backtick, and a backslash is written `\\\\`.",
        "",
        *provenance.lines(),
        "## Buckets",
        "",
        "| Bucket | Purpose | Lifecycle | Encryption | Versioning | Public access | Events |",
        "| --- | --- | --- | --- | --- | --- | --- |",
    ]
    for role, bucket in sorted(resources["aws_s3_bucket"].items(), key=lambda kv: _bucket_order(kv[0])):
        sse = resources["aws_s3_bucket_server_side_encryption_configuration"][role]["rule"][0]
        by_default = sse["apply_server_side_encryption_by_default"]
        key_ref = re.sub(r"^\$\{(.+)\.arn\}$", r"\1", by_default.get("kms_master_key_id", ""))
        encryption = (
            f"SSE-KMS ({code(key_ref)})"
            if by_default["sse_algorithm"] == "aws:kms"
            else code(by_default["sse_algorithm"])
        )
        if sse.get("bucket_key_enabled"):
            encryption += ", bucket key"
        versioning = resources["aws_s3_bucket_versioning"][role]["versioning_configuration"]["status"]
        pab = resources["aws_s3_bucket_public_access_block"][role]
        public = "all 4 blocks" if all(pab.get(f) is True for f in _PUBLIC_ACCESS_FLAGS) else "NOT fully blocked"
        ownership = resources["aws_s3_bucket_ownership_controls"][role]["rule"]["object_ownership"]
        public += "; ACLs disabled" if ownership == "BucketOwnerEnforced" else f"; ownership {code(ownership)}"
        tls = _denies_insecure_transport(_literal_json(resources["aws_s3_bucket_policy"][role]["policy"]))
        public += "; TLS only" if tls else "; TLS NOT enforced"
        notification = resources.get("aws_s3_bucket_notification", {}).get(role, {})
        events = "EventBridge" if notification.get("eventbridge") else "none"
        protection = " (prevent_destroy)" if _prevents_destroy(bucket) else ""
        lifecycle = _lifecycle(resources["aws_s3_bucket_lifecycle_configuration"][role]["rule"])
        lines.append(
            f"| {code(bucket['bucket'])}{protection} | {PURPOSE.get(role, visible(role))} | {lifecycle} | "
            f"{encryption} | {code(versioning)} | {public} | {events} |"
        )

    key = resources["aws_kms_key"]["master"]
    alias = resources["aws_kms_alias"]["master"]["name"]
    policy = _literal_json(key["policy"])
    absent = _absent_sids(policy)
    lines += [
        "",
        "## KMS key",
        "",
        "| Alias | Spec | Rotation | Deletion window | Region | Protection |",
        "| --- | --- | --- | --- | --- | --- |",
        f"| {code(alias)} | {code(key['customer_master_key_spec'])}, {code(key['key_usage'])} | "
        f"{'enabled' if key.get('enable_key_rotation') else 'DISABLED'} | {_days(key['deletion_window_in_days'])} | "
        f"{'multi-region' if key.get('multi_region') else f'single-region ({code(region)})'} | "
        f"{'prevent_destroy' if _prevents_destroy(key) else 'none'} |",
        "",
        f"Key policy (as AWS receives it). Every statement the generator can write is listed; "
        f"{len(policy['Statement'])} of {len(KEY_POLICY_SIDS)} are present"
        + (", and each absent one says why below" if absent else "")
        + ":",
        "",
        "| Sid | Effect | Principals | Actions | Conditions |",
        "| --- | --- | --- | --- | --- |",
        *_statement_rows(policy, absent=absent),
        "",
        "What each statement does:",
        "",
        *_sentences(policy, absent=absent),
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
        buckets = ", ".join(code(resources["aws_s3_bucket"][r]["bucket"]) for r in roles)
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
        f"| {code(table['name'])} | {code(table['hash_key'])} | {code(table.get('billing_mode', 'PROVISIONED'))} | "
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
        guard_absent = "DenyGuardedTenantContextToOthers" in absent
        lines += [
            "A tenant's KMS guard on means only the pipeline role may use the key with its tenant_id encryption "
            "context (`DenyGuardedTenantContextToOthers`"
            + (
                f", absent from the key policy because {ABSENT_BECAUSE['DenyGuardedTenantContextToOthers']}"
                if guard_absent
                else ""
            )
            + "); off means the tenant-wide statements alone apply.",
            "",
            GUARD_IS_NOT_S3_ISOLATION,
            "",
            "| Tenant | Display name | KMS guard | Tags |",
            "| --- | --- | --- | --- |",
        ]
        for tenant_id, item in tenants:
            tags = {k: v["S"] for k, v in item["tags"]["M"].items()}
            guard = "on" if item["kms_guard"]["BOOL"] is True else "off"
            lines.append(f"| {code(tenant_id)} | {code(item['display_name']['S'])} | {guard} | {_tags(tags)} |")
    else:
        lines.append("No tenants: the foundation alone.")
    outside = tenants_outside_terraform(stack)
    if outside:
        lines += [
            "",
            f"Records outside Terraform (they exist in the table, and `aws_dynamodb_table_item` cannot import them): "
            f"{', '.join(code(t) for t in outside)}. The configuration leaves them out, so Terraform neither creates "
            "nor changes them (a plan made from state that still holds one deletes it, and its review says so); "
            f"`pipenv run adopt take-over {' '.join(visible(t) for t in outside)}` brings them in with every field "
            "they have.",
        ]

    assessments = assess(stack, list(waivers))
    lines += [
        "",
        "## Scanner waivers",
        "",
        "`pipenv run scan` runs checkov with every check on every synthesized stack, in CI too. These findings are "
        f"accepted in `{WAIVERS_FILE.name}`, each for the resources it names: the scan reports them as skipped, with "
        "the reason, and fails on any other finding and on a waiver that no longer matches one.",
        "",
        "| Check | What | Resources | Reason | Compensated by | Security Hub control |",
        "| --- | --- | --- | --- | --- | --- |",
        *(
            f"| {code(w.check)} | {_prose(w.title)} | {', '.join(code(r) for r in w.resources)} | {_prose(w.reason)} | "
            f"{_prose(w.compensates)} | "
            + (", ".join(a.control.control_id for a in assessments if w.check in a.control.checks) or "-")
            + " |"
            for w in waivers
        ),
        "",
        "## Security Hub controls",
        "",
        "Every control of AWS Security Hub on the services of this stack (S3, KMS, DynamoDB), as AWS's control "
        "reference defines it, with its status for this stack: **met** only where this stack creates the resource "
        "the control evaluates and configures it so; **waived** where a scanner waiver above accepts the finding "
        "(never counted as met); **account-level** and **out of scope** where the control evaluates what this stack "
        "does not manage, with who owns it; **not applicable** where neither this stack nor the design creates "
        "such a resource. Met describes the configuration Terraform is given; a change made outside Terraform "
        "shows as drift in the next `terraform plan`.",
        "",
        "AWS Foundational Security Best Practices (FSBP v1.0.0), every S3, KMS and DynamoDB control:",
        "",
        *_control_rows([a for a in assessments if a.control.fsbp]),
        "",
        "Other Security Hub controls on these services (NIST SP 800-53 Rev. 5, CIS AWS Foundations Benchmark, "
        "PCI DSS):",
        "",
        *_control_rows([a for a in assessments if not a.control.fsbp]),
        "",
        "## Resources and references",
        "",
        "```mermaid",
        *_diagram(resources),
        "```",
        "",
    ]
    return "\n".join(lines)


def _control_rows(assessments: list[Assessment]) -> list[str]:
    return [
        "| Control | Title | Resource type | Status | How, or who owns it |",
        "| --- | --- | --- | --- | --- |",
        *(
            f"| [{a.control.control_id}]({CONTROL_DOCS[a.control.control_id.split('.')[0]]}#"
            f"{a.control.control_id.lower().replace('.', '-')}) | {a.control.title} | "
            f"{', '.join(f'`{t.strip()}`' for t in a.control.resource_type.split(','))} | {a.status} | {a.detail} |"
            for a in assessments
        ),
    ]


_PUBLIC_ACCESS_FLAGS = ("block_public_acls", "block_public_policy", "ignore_public_acls", "restrict_public_buckets")
#: Security Hub's control reference, one page per service.
CONTROL_DOCS = {
    "S3": "https://docs.aws.amazon.com/securityhub/latest/userguide/s3-controls.html",
    "KMS": "https://docs.aws.amazon.com/securityhub/latest/userguide/kms-controls.html",
    "DynamoDB": "https://docs.aws.amazon.com/securityhub/latest/userguide/dynamodb-controls.html",
}


def _denies_insecure_transport(policy: Json) -> bool:
    return any(
        s["Effect"] == "Deny" and s.get("Condition", {}).get("Bool", {}).get("aws:SecureTransport") == "false"
        for s in policy["Statement"]
    )


def _diagram(resources: Json) -> list[str]:
    alias = visible(resources["aws_kms_alias"]["master"]["name"]).replace('"', "#quot;")
    lines = ["flowchart LR"]
    lines.append(f'  key["aws_kms_key.master<br/>{alias}"]')
    for role in sorted(resources["aws_s3_bucket"], key=_bucket_order):
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


@dataclass(frozen=True)
class Destroy:
    """A delete or replace of a resource of the stack, and what it costs."""

    address: str
    action: str  # "delete" or "replace"
    consequence: str


def destroys(plan: Json, stack: Json | None = None) -> list[Destroy]:
    """Every delete or replace of a resource of the stack, by address, with its consequence.

    A tenant record's delete counts while its tenant is still in the stack
    (``local.tenant_tags``); a record whose tenant left the tenants file is deleted on
    purpose. Without ``stack`` nothing says which tenants remain, so no record delete counts.
    """
    tenants = set(stack.get("locals", {}).get("tenant_tags", {})) if stack is not None else set()
    found = []
    for change in plan.get("resource_changes", []):
        actions = change["change"]["actions"]
        if "delete" not in actions or change.get("mode", "managed") != "managed":
            continue
        action = _action(actions)
        tenant = _tenant_of(change["address"])
        if tenant is not None and action == "delete" and tenant not in tenants:
            continue
        consequence = DESTROY_CONSEQUENCES.get(change["type"], "it is removed from AWS")
        found.append(Destroy(change["address"], action, consequence))
    return sorted(found, key=lambda d: d.address)


@dataclass(frozen=True)
class RecordLoss:
    """An in-place update of a tenant record that deletes data: fields it removes, and fields the product does
    not manage whose value it overwrites (``unknown``: the new record is not known until apply)."""

    address: str
    tenant: str
    removed: tuple[str, ...]
    overwritten: tuple[str, ...]
    unknown: bool = False

    def summary(self, show: Any = str) -> str:
        """What it deletes, in a few words; ``show`` formats each field name (``code`` in Markdown)."""
        if self.unknown:
            return "the new record is not known until apply, so any field may be deleted"
        parts = [f"removes fields {', '.join(show(f) for f in self.removed)}"] if self.removed else []
        parts += [f"overwrites fields {', '.join(show(f) for f in self.overwritten)}"] if self.overwritten else []
        return "; ".join(parts)


def _item(value: Any) -> Json | None:
    """A tenant record's ``item`` in plan JSON (a JSON string) as a dict, or None if it is not known."""
    if not isinstance(value, str):
        return None
    try:
        parsed = json.loads(value)
    except ValueError:
        return None
    return parsed if isinstance(parsed, dict) else None


def record_losses(plan: Json) -> list[RecordLoss]:
    """Every in-place update of a tenant record that deletes data, by address.

    The AWS provider writes a record's whole ``item`` (PutItem, or UpdateItem with every
    attribute), and its state holds the whole live record, so the plan's ``before`` is what
    the table has and ``after`` what it will have. A field in ``before`` but not in ``after``
    is deleted; a field the product does not manage (``MANAGED_FIELDS``) with another value
    in ``after`` is overwritten: the live value is lost. A record's delete or replace is
    ``destroys``'s.
    """
    found = []
    for change in plan.get("resource_changes", []):
        tenant = _tenant_of(change["address"])
        if tenant is None or change["change"]["actions"] != ["update"]:
            continue
        before = _item((change["change"].get("before") or {}).get("item"))
        after = _item((change["change"].get("after") or {}).get("item"))
        if before is None:
            continue
        if after is None:
            found.append(RecordLoss(change["address"], tenant, (), (), unknown=True))
            continue
        removed = tuple(sorted(k for k in before if k not in after))
        overwritten = tuple(
            sorted(k for k in before if k in after and k not in MANAGED_FIELDS and before[k] != after[k])
        )
        if removed or overwritten:
            found.append(RecordLoss(change["address"], tenant, removed, overwritten))
    return sorted(found, key=lambda loss: loss.address)


def _loss_lines(losses: list[RecordLoss]) -> list[str]:
    if not losses:
        return []
    return [
        "> [!CAUTION]",
        "> **This plan deletes data in tenant records:**",
        *(f"> - {code(loss.address)} (tenant {code(loss.tenant)}): {loss.summary(code)}." for loss in losses),
        ">",
        "> Terraform writes a record it manages whole: only the fields the configuration renders stay (the tenants "
        "file's, and for a record taken over, the fields its discovery file holds). Stop: synthesize with the "
        "stack's discovery file (`adopt_file`), or bring fields another writer added into it first "
        '(README, "Tenant records: which Terraform mechanism, and its limits").',
        "",
    ]


def _policy_diff(before: str, after: str) -> list[str]:
    old = {s.get("Sid", f"#{i}"): s for i, s in enumerate(json.loads(before)["Statement"])}
    new = {s.get("Sid", f"#{i}"): s for i, s in enumerate(json.loads(after)["Statement"])}
    lines = []
    for sid in [*old, *(s for s in new if s not in old)]:
        if sid not in new:
            lines.append(f"- removed statement {code(str(sid))}")
        elif sid not in old:
            lines.append(f"- added statement {code(str(sid))}: {_json_code(new[sid])}")
        elif old[sid] != new[sid]:
            lines.append(f"- changed statement {code(str(sid))}:")
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
        parts = [f"added {_value_code(v)}" for v in sorted(new - old)]
        parts += [f"removed {_value_code(v)}" for v in sorted(old - new)]
        return [f"{code(path)}: {', '.join(parts)}"]
    return [f"{code(path)}: {_json_code(a)} → {_json_code(b)}"]


def _json_code(value: Any) -> str:
    """A plan value as JSON in a code span: JSON's own escapes keep it visible, and ``|`` and the backtick are
    written as the JSON escapes ``\\u007c`` and ``\\u0060`` so that no value can end the span or a table cell."""
    return "`" + json.dumps(value, sort_keys=True).replace("|", "\\u007c").replace("`", "\\u0060") + "`"


def _value_code(value: Any) -> str:
    return code(value) if isinstance(value, str) else _json_code(value)


def _first(blocks: Any) -> Json:
    """The one element of a nested block list in plan JSON (``[{...}]``), or {}."""
    return blocks[0] if isinstance(blocks, list) and blocks and isinstance(blocks[0], dict) else {}


def _enabled_rules(resource: Json) -> list[Json]:
    return [r for r in resource.get("rule") or [] if isinstance(r, dict) and r.get("status") == "Enabled"]


def _noncurrent_days(resource: Json) -> list[int]:
    return sorted(
        {
            n["noncurrent_days"]
            for r in _enabled_rules(resource)
            for n in r.get("noncurrent_version_expiration") or []
            if n.get("noncurrent_days")
        }
    )


def _current_days(resource: Json) -> list[int]:
    return sorted({e["days"] for r in _enabled_rules(resource) for e in r.get("expiration") or [] if e.get("days")})


def _shown_days(days: list[int]) -> str:
    return ", ".join(_days(d) for d in days) or "never"


def consequences(change: Json) -> list[str]:
    """What an in-place update changes in what exists, in the reviewer's words (adopted objects above all).

    Read from the plan's ``before`` (for an imported object: what AWS has) and ``after``.
    Markdown lines relative to the change's own list item.
    """
    rtype = change["type"]
    before: Json = change["change"].get("before") or {}
    after: Json = change["change"].get("after") or {}
    lines: list[str] = []

    def flag(key: str, label: str) -> None:
        if bool(before.get(key)) != bool(after.get(key)) and key in after:
            lines.append(f"- {label} {'off → on' if after.get(key) else '**on → off**'}")

    if rtype == "aws_kms_key":
        flag("enable_key_rotation", "key rotation")
        if before.get("policy") != after.get("policy") and before.get("policy") and after.get("policy"):
            old_aws, old_services = policy_principals(json.loads(before["policy"]))
            new_aws, new_services = policy_principals(json.loads(after["policy"]))
            lost = sorted(set(old_aws) - set(new_aws))
            if lost:
                lines.append(f"- **principals that lose their access to the key:** {', '.join(code(p) for p in lost)}")
            kept = sorted(set(old_aws) & set(new_aws))
            gained = sorted(set(new_aws) - set(old_aws))
            if kept and (lost or gained or change["change"].get("importing")):
                # Said when who may use the key changes, and for a key adopted from AWS.
                lines.append(f"- principals that keep their access: {', '.join(code(p) for p in kept)}")
            if gained:
                lines.append(f"- principals newly allowed: {', '.join(code(p) for p in gained)}")
            dropped = sorted(set(old_services) - set(new_services))
            if dropped:
                lines.append(
                    f"- service principals no longer allowed: {', '.join(code(p) for p in dropped)} "
                    "(AUDIT.md says why for each)"
                )
            lines.append("Key policy, statement by statement:")
            lines += _policy_diff(before["policy"], after["policy"])
    elif rtype == "aws_s3_bucket_policy":
        if before.get("policy") and after.get("policy") and before["policy"] != after["policy"]:
            gone = sorted(
                set(policy_grants(json.loads(before["policy"]))) - set(policy_grants(json.loads(after["policy"])))
            )
            if gone:
                lines.append(
                    f"- **principals the bucket policy no longer allows:** {', '.join(code(p) for p in gone)} (a "
                    "principal of another account, or a service, has no other way in)"
                )
            lines.append("Bucket policy, statement by statement:")
            lines += _policy_diff(before["policy"], after["policy"])
    elif rtype == "aws_s3_bucket_lifecycle_configuration":
        old, new = _noncurrent_days(before), _noncurrent_days(after)
        if new and not old:
            lines.append(
                f"- **old versions become deletable:** noncurrent versions are deleted after {_shown_days(new)} "
                "(no rule deleted them before)"
            )
        elif new and new[0] < old[0]:
            lines.append(
                f"- **old versions become deletable sooner:** noncurrent versions are deleted after "
                f"{_shown_days(new)} ({_shown_days(old)} before)"
            )
        elif old != new:
            lines.append(f"- noncurrent versions deleted after {_shown_days(old)} → {_shown_days(new)}")
        old_current, new_current = _current_days(before), _current_days(after)
        if new_current and (not old_current or new_current[0] < old_current[0]):
            lines.append(
                f"- **objects are deleted sooner:** current objects expire after {_shown_days(new_current)} "
                f"({_shown_days(old_current)} before)"
            )
        elif old_current != new_current:
            lines.append(f"- current objects expire after {_shown_days(old_current)} → {_shown_days(new_current)}")
    elif rtype == "aws_s3_bucket_server_side_encryption_configuration":
        old_rule, new_rule = _first(before.get("rule")), _first(after.get("rule"))
        old_default = _first(old_rule.get("apply_server_side_encryption_by_default"))
        new_default = _first(new_rule.get("apply_server_side_encryption_by_default"))
        if old_default.get("sse_algorithm") != new_default.get("sse_algorithm"):
            lines.append(
                f"- default encryption {old_default.get('sse_algorithm')} → {new_default.get('sse_algorithm')} "
                "(new objects; existing objects keep theirs)"
            )
        elif old_default.get("kms_master_key_id") != new_default.get("kms_master_key_id"):
            lines.append(
                f"- default encryption key {code(str(old_default.get('kms_master_key_id')))} → "
                f"{code(str(new_default.get('kms_master_key_id')))} (new objects; existing objects keep theirs)"
            )
        if bool(old_rule.get("bucket_key_enabled")) != bool(new_rule.get("bucket_key_enabled")):
            lines.append(f"- bucket key {'off → on' if new_rule.get('bucket_key_enabled') else '**on → off**'}")
    elif rtype == "aws_s3_bucket_versioning":
        old_status = _first(before.get("versioning_configuration")).get("status")
        new_status = _first(after.get("versioning_configuration")).get("status")
        if old_status != new_status:
            lines.append(f"- versioning {visible(str(old_status))} → {visible(str(new_status))}")
    elif rtype == "aws_s3_bucket_notification":
        flag("eventbridge", "EventBridge notifications")
        for key in ("queue", "topic", "lambda_function"):
            removed = len(before.get(key) or []) - len(after.get(key) or [])
            if removed > 0:
                lines.append(f"- **removes {removed} {key.replace('_', ' ')} notification(s)**")
    elif rtype == "aws_s3_bucket_public_access_block":
        for key in ("block_public_acls", "block_public_policy", "ignore_public_acls", "restrict_public_buckets"):
            flag(key, key)
    elif rtype == "aws_s3_bucket_ownership_controls":
        old_owner = _first(before.get("rule")).get("object_ownership")
        new_owner = _first(after.get("rule")).get("object_ownership")
        if old_owner != new_owner:
            lines.append(f"- object ownership {visible(str(old_owner))} → {visible(str(new_owner))}")
    elif rtype == "aws_dynamodb_table":
        old_sse, new_sse = _first(before.get("server_side_encryption")), _first(after.get("server_side_encryption"))
        if bool(old_sse.get("enabled")) != bool(new_sse.get("enabled")) or (
            new_sse.get("enabled") and old_sse.get("kms_key_arn") != new_sse.get("kms_key_arn")
        ):
            shown_old = f"KMS {code(str(old_sse.get('kms_key_arn')))}" if old_sse.get("enabled") else "AWS owned key"
            shown_new = f"KMS {code(str(new_sse.get('kms_key_arn')))}" if new_sse.get("enabled") else "AWS owned key"
            lines.append(f"- table encryption {shown_old} → {shown_new}")
        old_pitr = bool(_first(before.get("point_in_time_recovery")).get("enabled"))
        new_pitr = bool(_first(after.get("point_in_time_recovery")).get("enabled"))
        if old_pitr != new_pitr:
            lines.append(f"- point-in-time recovery {'off → on' if new_pitr else '**on → off**'}")
        flag("deletion_protection_enabled", "deletion protection")
        if before.get("billing_mode") != after.get("billing_mode") and after.get("billing_mode"):
            lines.append(
                f"- billing {visible(str(before.get('billing_mode')))} → {visible(str(after.get('billing_mode')))}"
            )
        old_indexes = {i.get("name") for i in before.get("global_secondary_index") or []}
        new_indexes = {i.get("name") for i in after.get("global_secondary_index") or []}
        if old_indexes - new_indexes:
            lines.append(
                f"- **removes global secondary index(es)** {', '.join(code(str(i)) for i in sorted(map(str, old_indexes - new_indexes)))}"
            )
        if before.get("stream_enabled") and not after.get("stream_enabled"):
            lines.append("- **disables the table's stream**: its consumers stop receiving changes")
    elif rtype == "aws_dynamodb_table_item":
        old_item, new_item = _item(before.get("item")), _item(after.get("item"))
        if old_item is not None and new_item is not None:
            gone_fields = sorted(k for k in old_item if k not in new_item)
            overwritten = sorted(
                k for k in old_item if k in new_item and k not in MANAGED_FIELDS and old_item[k] != new_item[k]
            )
            added = sorted(k for k in new_item if k not in old_item)
            managed = sorted(
                k for k in old_item if k in new_item and k in MANAGED_FIELDS and old_item[k] != new_item[k]
            )
            if gone_fields:
                lines.append(f"- **removes fields** {', '.join(code(k) for k in gone_fields)}")
            if overwritten:
                lines.append(f"- **overwrites fields** {', '.join(code(k) for k in overwritten)}")
            if added:
                lines.append(f"- adds {', '.join(code(k) for k in added)}")
            if managed:
                lines.append(f"- sets {', '.join(code(k) for k in managed)}")
    old_tags, new_tags = before.get("tags_all") or {}, after.get("tags_all") or {}
    if isinstance(old_tags, dict) and isinstance(new_tags, dict) and old_tags != new_tags:
        parts = [
            f"{verb} {', '.join(visible(k) for k in sorted(keys))}"
            for verb, keys in (
                ("adds", set(new_tags) - set(old_tags)),
                ("changes", {k for k in set(old_tags) & set(new_tags) if old_tags[k] != new_tags[k]}),
                ("removes", set(old_tags) - set(new_tags)),
            )
            if keys
        ]
        lines.append(f"- tags: {'; '.join(parts)}")
    return lines


# --- forked state -------------------------------------------------------------------------

#: Resources with a fixed name (constructs_lib.naming) whose creation the account can contradict.
NAMED_TYPES = ("aws_kms_key", "aws_kms_alias", "aws_s3_bucket", "aws_dynamodb_table")


@dataclass(frozen=True)
class PlannedCreate:
    """A create of a named foundation resource, or of a tenant record: its address and how to look it up.

    ``kind`` is "bucket", "alias", "table" or "record" (``name`` is then the tenant id, in ``table``).
    """

    address: str
    kind: str
    name: str
    table: str | None = None


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

    The key has no name of its own: it is looked up by the alias the stack gives it. In an
    adopted stack (``is_adopted``) the creates of tenant records are looked up too: a record
    made outside Terraform may exist, and creating it would fail the apply.
    """
    aliases = [
        c["change"]["after"]["name"]
        for c in plan.get("resource_changes", [])
        if c["type"] == "aws_kms_alias" and isinstance((c["change"].get("after") or {}).get("name"), str)
    ]
    stack_alias = stack.get("resource", {}).get("aws_kms_alias", {}).get("master", {}).get("name")
    alias = aliases[0] if aliases else stack_alias
    table = stack.get("resource", {}).get("aws_dynamodb_table", {}).get("tenant_config", {}).get("name")
    creates = []
    for change in plan.get("resource_changes", []):
        if change["change"]["actions"] != ["create"]:
            continue
        tenant = _tenant_of(change["address"])
        if tenant is not None and is_adopted(stack) and isinstance(table, str):
            creates.append(PlannedCreate(change["address"], "record", tenant, table))
        if change["type"] not in NAMED_TYPES:
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
    cache: dict[tuple[str, str, str | None], Lookup] = {}
    lookups = []
    for create in creates:
        key = (create.kind, create.name, create.table)
        if key not in cache:
            if create.kind == "record":
                cache[key] = live.table_item(create.table or "", "tenant_id", create.name)
            else:
                cache[key] = {"bucket": live.bucket, "alias": live.kms_alias, "table": live.table}[create.kind](
                    create.name
                )
        lookups.append((create, cache[key]))
    return ForkCheck(account=account_id, lookups=tuple(lookups))


def _fork_lines(fork: ForkCheck) -> list[str]:
    lines: list[str] = []
    named = [(c, found) for c, found in fork.existing if c.kind != "record"]
    records = [(c, found) for c, found in fork.existing if c.kind == "record"]
    if named:
        lines += [
            "> [!CAUTION]",
            f"> **This plan creates foundation resources that account {fork.account} already has:** "
            + ", ".join(
                f"{code(c.address)} ({found.kind} {code(found.name)} {visible(found.detail)})" for c, found in named
            )
            + ". The state this plan was made with does not know the deployed foundation: likely a state mix-up "
            "(another backend, state file, `-backend-config` or stack name than the one that deployed it). "
            "Applying would create a second key and then fail on every existing name. Stop, and find the state "
            'that manages them (README, "State backends and environments"). To bring a foundation that was built '
            'without Terraform under it, adopt it (README, "Adopting an existing foundation").',
            "",
        ]
    if records:
        tenants = " ".join(c.name for c, _ in records)
        lines += [
            "> [!CAUTION]",
            f"> **This plan creates tenant records that account {fork.account} already has:** "
            + ", ".join(code(c.address) for c, _ in records)
            + ". They were made outside Terraform, and creating an existing record fails the apply "
            "(`ConditionalCheckFailedException`). Run discovery again on the stack's discovery file "
            "(`pipenv run adopt`) and synthesize: the records then stay outside Terraform, untouched; "
            f"`pipenv run adopt take-over {tenants}` later brings them in with every field.",
            "",
        ]
    if fork.unverified:
        reason = fork.unavailable or "; ".join(str(found) for c, found in fork.lookups if found.exists is None)
        lines += [
            "> [!WARNING]",
            "> **Not checked against the account:** this plan creates "
            + ", ".join(code(c.address) for c in fork.unverified)
            + f"; whether account {fork.account} already has them could not be checked ({reason}). A plan made "
            "from the wrong state looks exactly like this, so `--fail-on-destroy` fails it; run the audit with "
            "read-only credentials for the account.",
            "",
        ]
    if fork.lookups and not fork.existing and not fork.unverified:
        what = (
            "none of the created key, alias, buckets or table exists yet"
            if all(c.kind != "record" for c, _ in fork.lookups)
            else "none of the created resources and tenant records exists yet"
        )
        lines += [f"Checked against account {fork.account}: {what}.", ""]
    return lines


def render_changes(plan: Json, fork: ForkCheck | None = None, *, stack: Json | None = None) -> tuple[str, list[str]]:
    """The change section for a ``terraform show -json`` plan, and the addresses it deletes or replaces.

    ``fork``: the plan's creates looked up in the account (check_fork); its findings
    head the section. ``stack`` (read_stack): the synthesized stack, which says which
    tenants it still has (a record delete counts only for those, see ``destroys``) and
    which records stay outside Terraform.
    """
    everything = plan.get("resource_changes", [])
    changes = [c for c in everything if c["change"]["actions"] not in (["no-op"], ["read"])]
    imported = sorted((c for c in everything if c["change"].get("importing")), key=lambda c: c["address"])
    destroyed = destroys(plan, stack)
    counts: dict[str, int] = defaultdict(int)
    for change in changes:
        counts[_action(change["change"]["actions"])] += 1
    lines = ["## Changes in this plan", ""]
    if destroyed:
        lines += [
            "> [!CAUTION]",
            "> **This plan deletes or replaces resources of the stack:**",
            *(f"> - {code(d.address)} ({d.action}): {d.consequence}." for d in destroyed),
            ">",
            "> Stop and review.",
            "",
        ]
    lines += _loss_lines(record_losses(plan))
    lines += _import_lines(len(imported))
    if fork is not None:
        lines += _fork_lines(fork)
    outside = tenants_outside_terraform(stack) if stack is not None else []
    deleted = {t for c in changes if "delete" in c["change"]["actions"] and (t := _tenant_of(c["address"]))}
    if not changes and not imported:
        return "\n".join([*lines, "No changes.", *_outside_lines(outside), ""]), [d.address for d in destroyed]
    summary = [f"{len(imported)} to import"] if imported else []
    summary += [f"{counts[a]} to {a}" for a in ("create", "update", "replace", "delete") if counts[a]]
    lines.append("Summary: " + ", ".join(summary) + ".")
    if imported:
        lines += [
            "",
            "### Import",
            "",
            "Terraform takes these objects, which exist already, under management; importing changes nothing in AWS "
            "by itself. Each is then left as it is, or updated in place as listed under Update.",
            "",
        ]
        for change in imported:
            what = (
                "left as it is"
                if change["change"]["actions"] == ["no-op"]
                else "then " + _action(change["change"]["actions"])
            )
            lines.append(
                f"- {code(change['address'])} ← {code(str(change['change']['importing'].get('id', '?')))}: {what}"
            )
    groups: dict[str, dict[str, list[Json]]] = defaultdict(lambda: defaultdict(list))
    for change in changes:
        groups[_action(change["change"]["actions"])][_tenant_of(change["address"]) or ""].append(change)
    for action in ("delete", "replace", "create", "update"):
        if action not in groups:
            continue
        lines += ["", f"### {action.capitalize()}", ""]
        for tenant in sorted(groups[action]):
            label = f"tenant {code(tenant)}" if tenant else "foundation"
            for change in groups[action][tenant]:
                lines.append(f"- {label}: {code(change['address'])}")
                if action == "update":
                    lines.extend(f"  {line}" for line in consequences(change))
    lines += _outside_lines(outside, deleted)
    return "\n".join([*lines, ""]), [d.address for d in destroyed]


def _import_lines(count: int) -> list[str]:
    """The caution on a plan that imports: the first adoption of the stack, or a forked state."""
    if not count:
        return []
    return [
        "> [!CAUTION]",
        f"> **This plan imports {count} existing object(s) into this state.** That is right only for the first "
        "adoption of this stack. If the stack was adopted before, this state is not the one that manages these "
        "objects (another backend, state file, `-backend-config`, workspace or stack name than the one the "
        "adoption was applied with): applying would make a second state manage the same foundation. Stop, unless "
        "this is the plan of the stack's first adoption (`--expect-imports`; README, \"Adopting an existing "
        'foundation").',
        "",
    ]


def _outside_lines(outside: list[str], deleted: set[str] | frozenset[str] = frozenset()) -> list[str]:
    """The records the configuration leaves out as made outside Terraform; ``deleted``: tenants whose record the
    plan deletes (the state holds them after all), which are never said to be left alone."""
    if not outside:
        return []
    lines = ["", "### Tenant records outside Terraform", ""]
    left = [t for t in outside if t not in deleted]
    if left:
        lines.append(
            f"{', '.join(code(t) for t in left)}: each exists in the table and stays outside Terraform "
            "(`aws_dynamodb_table_item` cannot import a record, and creating an existing one fails the apply); this "
            f"plan neither creates nor changes them. After the adoption is applied, `pipenv run adopt take-over "
            f"{' '.join(left)}` brings them in with every field they have."
        )
    for tenant in outside:
        if tenant in deleted:
            lines.append(
                f"{code(tenant)}: the configuration leaves it out as a record made outside Terraform, but Terraform "
                "state holds it, so this plan **deletes** it: the discovery file is out of date. Run discovery again "
                "(`pipenv run adopt`, which reads the state) and synthesize."
            )
    return lines


# --- command line ----------------------------------------------------------------------------


class NoStackDir(Exception):
    """Which stack to audit cannot be told: one line for the user."""


def find_stack_dir(environ: dict[str, str]) -> Path:
    """The one synthesized stack under the output directory; NoStackDir when there is none or several."""
    root = output_dir(environ) / "stacks"
    stacks = sorted(p for p in root.glob("*") if (p / "cdk.tf.json").exists())
    if not stacks:
        raise NoStackDir(f"audit: found no synthesized stack under {root}; run pipenv run synth first")
    if len(stacks) > 1:
        raise NoStackDir(
            f"audit: found {len(stacks)} synthesized stacks under {root} ({', '.join(p.name for p in stacks)}); "
            f"say which with --stack-dir, e.g. --stack-dir {stacks[0]}"
        )
    return stacks[0]


#: The review ``audit --plan`` writes by default, in the stack directory: beside ``plan.bin``,
#: and like it ignored by git with the output directory (cdktf.out/).
REVIEW_FILE = "plan-review.md"
#: The committed report of the shipped settings.
COMMITTED_REPORT = PROJECT_DIR / "AUDIT.md"


def main(argv: list[str]) -> int:
    parser = argparse.ArgumentParser(prog="audit", description=__doc__.split("\n\n")[0])
    parser.add_argument(
        "--stack-dir",
        type=Path,
        help="the synthesized stack to audit, cdktf.out/stacks/<stack> (default: the only one there; with several "
        "environments, name it)",
    )
    parser.add_argument("--plan", type=Path, help="output of terraform show -json PLAN")
    parser.add_argument(
        "--output",
        type=Path,
        help=f"default: AUDIT.md, or with --plan {REVIEW_FILE} in the stack directory (ignored by git with cdktf.out/)",
    )
    parser.add_argument(
        "--expect-imports",
        action="store_true",
        help="the plan is the first adoption of the stack: with --fail-on-destroy, its imports do not fail the "
        "gate (anything else still does); use it for that one plan only",
    )
    parser.add_argument(
        "--fail-on-destroy",
        action="store_true",
        help="exit 3 if the plan deletes or replaces any resource of the stack (a tenant record while its tenant "
        "is still in the tenants file), deletes data in a tenant record (removes a field, or overwrites one the "
        "product does not manage), imports existing objects (unless --expect-imports), or creates a named "
        "resource or tenant record that the account already has or that could not be checked against the account",
    )
    args = parser.parse_args(argv)
    try:
        stack_dir = args.stack_dir or find_stack_dir(dict(os.environ))
        stack = read_stack(stack_dir)
    except NoStackDir as why:
        print(f"error: {why}", file=sys.stderr)
        return 2
    output: Path = args.output or (stack_dir / REVIEW_FILE if args.plan else Path("AUDIT.md"))
    committed = output.resolve() == COMMITTED_REPORT.resolve()
    if args.plan and committed:
        print(
            f"error: audit: --output {args.output} is the committed report of the shipped stack, which a plan review "
            f"must not overwrite: leave --output out (the review goes to {stack_dir / REVIEW_FILE}, ignored by git) "
            "or name another file",
            file=sys.stderr,
        )
        return 2
    overrides = read_overrides(stack_dir)
    if committed and overrides:
        print(
            f"error: audit: {stack_dir} was synthesized with {', '.join(overrides)} overriding cdktf.json, so it is "
            f"not the shipped settings that {args.output or 'AUDIT.md'} reports: synthesize without them "
            "(pipenv run synth) to update it, or write this report elsewhere with --output FILE",
            file=sys.stderr,
        )
        return 2
    try:
        waivers = load_waivers()
    except WaiverError as error:
        for problem in error.problems:
            print(f"error: audit: {problem}", file=sys.stderr)
        return 2
    plan: Json | None = None
    if args.plan:
        try:
            plan = load_plan(args.plan)
        except PlanError as why:
            print(f"error: audit: {why}", file=sys.stderr)
            return 2
        differences = stale_differences(plan, stack)
        if differences:
            print(f"error: audit: {stale_message(args.plan, stack_dir, differences)}", file=sys.stderr)
            return 2
    provenance = Provenance(
        stack=stack["//"]["metadata"]["stackName"],
        files=stack_files(stack_dir),
        commit=CONTAINING if committed else current_commit(PROJECT_DIR),
        plan=PlanFile.of(args.plan, plan) if args.plan and plan is not None else None,
    )
    report = render_report(stack, waivers, provenance=provenance)
    destroyed: list[Destroy] = []
    fork: ForkCheck | None = None
    if plan is not None:
        provider = stack["provider"]["aws"][0]
        fork = check_fork(
            planned_creates(plan, stack), region=provider["region"], account_id=provider["allowed_account_ids"][0]
        )
        changes, _ = render_changes(plan, fork, stack=stack)
        destroyed = destroys(plan, stack)
        report += "\n" + changes
    previous = output.read_text(encoding="utf-8") if output.is_file() else None
    if previous == report:
        print(f"{output} is up to date: unchanged")
    else:
        replace_text(output, report)  # a report cut short (Ctrl-C, a full disk) would read as a finished one
        print(f"wrote {output}")
    failed = False
    if destroyed:
        print(
            "WARNING: the plan deletes or replaces resources of the stack: "
            + "; ".join(f"{d.address} ({d.action}: {d.consequence})" for d in destroyed),
            file=sys.stderr,
        )
        failed = True
    imports = sum(1 for c in (plan or {}).get("resource_changes", []) if c["change"].get("importing"))
    if imports and not args.expect_imports:
        print(
            f"WARNING: the plan imports {imports} existing object(s) into this state: right only for the first "
            "adoption of this stack; if the stack was adopted before, this state is not the one that manages them "
            "(a forked state): stop; for the first adoption's plan, pass --expect-imports",
            file=sys.stderr,
        )
        failed = True
    losses = record_losses(plan) if plan is not None else []
    if losses:
        print(
            "WARNING: the plan deletes data in tenant records: "
            + "; ".join(f"{loss.address} ({loss.summary()})" for loss in losses),
            file=sys.stderr,
        )
        failed = True
    named = [c.address for c, _ in fork.existing if c.kind != "record"] if fork is not None else []
    records = [c.address for c, _ in fork.existing if c.kind == "record"] if fork is not None else []
    if named:
        print(
            f"WARNING: the plan creates resources that account {fork.account if fork else ''} already has "
            f"(likely a state mix-up): {', '.join(named)}",
            file=sys.stderr,
        )
        failed = True
    if records:
        print(
            f"WARNING: the plan creates tenant records that account {fork.account if fork else ''} already has "
            f"(made outside Terraform; the apply would fail): {', '.join(records)}",
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

    sys.exit(cli.run(main, sys.argv[1:], prog="audit", interrupted="the report file is as it was, or written in full"))
