"""Adopt the foundation that already runs: read-only discovery, and taking tenant records over.

    pipenv run adopt [--out FILE] [--accept-principal-removal PRINCIPAL ...]
    pipenv run adopt take-over TENANT [TENANT ...]

**Discovery** reads the stack's account with the same settings and ``CCI_*`` overrides as
a synth (``CCI_STACK`` picks one stack of several), boto3's standard credential chain and
``AWS_ENDPOINT_URL``. It sends reads only (``Describe*``, ``Get*``, ``List*``, ``Head*``
and ``dynamodb:Scan``; cci_tools.live refuses anything else before sending it). For every
address of the stack it finds the live object or records that there is none, writes the
discovery file (``--out``, default the ``adopt_file`` setting; constructs_lib.adoption),
and prints a table: address, found or missing, the import id, and what the first plan
will change. It refuses, one line each and exit status 2, credentials for another
account, and everything ``constructs_lib.adoption.refusals`` refuses; then nothing is
written.

Run again on the same file, discovery carries over what the file decided: records
taken over, records left outside Terraform, accepted principal removals. A first
discovery for a stack that already has Terraform state is refused: it would take the
records Terraform created for records made by hand.

**take-over** brings tenant records that exist outside Terraform under it, with every
field they have, after the adoption was applied. For each tenant it re-reads the live
record (``dynamodb:GetItem``), writes the instance into Terraform state with Terraform's
own ``terraform state pull`` and ``state push`` (serial + 1, the same lineage, never
``-force``; the pulled state is kept as a backup in the stack directory), only then marks
it ``taken_over`` in the discovery file with all its fields, re-synthesizes (``python
main.py``), and runs ``terraform plan -target`` on the instances: it reports success only
if the plan keeps every field of each record and changes nothing but the product's own
fields (``display_name``, ``kms_guard``, ``tags``, which the next apply then writes; it
names those whose live value the tenants file overwrites). On any failure it puts back
the discovery file, the synthesized files and the state. Killed at any point, it is run
again to finish: a record in state but still listed outside Terraform is finalized, one
marked taken over but not in state is pushed, and what the killed run left in the stack
directory is removed.
"""

from __future__ import annotations

import argparse
import json
import os
import re
import subprocess
import sys
from collections.abc import Collection, Mapping, Sequence
from dataclasses import dataclass, replace
from pathlib import Path
from typing import Any

from cci_tools import terraform, tools
from cci_tools.live import LiveAccount, LiveReadError, LiveUnavailable
from constructs_lib import adoption as adopt
from constructs_lib import tenant_file
from constructs_lib.adoption import Adoption, Found, TenantRecord
from constructs_lib.backends import LocalBackendSettings
from constructs_lib.config import Settings, Tenant, display_path, load_app_settings, load_tenants
from constructs_lib.errors import ConfigError
from constructs_lib.naming import BUCKET_ROLES, Names
from constructs_lib.output import output_dir, replace_text
from constructs_lib.state import stack_state_evidence, state_location
from constructs_lib.tenant_file import ITEMS_LOCAL

PROJECT_DIR = Path(__file__).resolve().parent.parent
ITEM_ADDRESS = 'aws_dynamodb_table_item.tenant_config["{}"]'
LIFECYCLE_ABSENT = ("NoSuchLifecycleConfiguration",)


class Refused(Exception):
    """Adoption cannot go on: one line per problem, exit status 2."""

    def __init__(self, problems: Sequence[str]) -> None:
        self.problems = tuple(problems)
        super().__init__("\n".join(self.problems))


# --- reading the account ---------------------------------------------------------------------------


def read_key(live: LiveAccount, alias: str) -> tuple[str | None, dict[str, Any]]:
    """The key behind ``alias`` (its id and facts), or (None, {}) when there is no such alias."""
    described = live.read("kms", "describe_key", absent=("NotFoundException",), KeyId=alias)
    if described is None:
        return None, {}
    meta = described["KeyMetadata"]
    key_id = str(meta["KeyId"])
    # Rotation and the policy cannot be read in every key state; the refusals say why the key is unusable.
    tolerated = ("UnsupportedOperationException", "KMSInvalidStateException")
    rotation = live.read("kms", "get_key_rotation_status", absent=tolerated, KeyId=key_id)
    policy_text = live.read("kms", "get_key_policy", absent=tolerated, KeyId=key_id, PolicyName="default")
    policy = json.loads(policy_text["Policy"]) if policy_text else {}
    aws, services = adopt.policy_principals(policy)
    statements = policy.get("Statement", [])
    statements = statements if isinstance(statements, list) else [statements]
    tags = {t["TagKey"]: t["TagValue"] for t in live.read_pages("kms", "list_resource_tags", "Tags", KeyId=key_id)}
    facts: dict[str, Any] = {
        "key_id": key_id,
        "arn": meta.get("Arn"),
        "key_spec": meta.get("KeySpec", meta.get("CustomerMasterKeySpec")),
        "key_usage": meta.get("KeyUsage"),
        # The emulator leaves MultiRegion out when it is false; AWS always sends it.
        "multi_region": bool(meta.get("MultiRegion", False)),
        "origin": meta.get("Origin"),
        "key_manager": meta.get("KeyManager"),
        "key_state": meta.get("KeyState"),
        "custom_key_store_id": meta.get("CustomKeyStoreId"),
        "description": meta.get("Description", ""),
        "rotation": rotation.get("KeyRotationEnabled") if rotation else None,
        "policy_principals": {"AWS": aws, "Service": services},
        "policy_actions": adopt.policy_actions(policy),
        "policy_statements": [str(s.get("Sid") or f"#{i + 1}") for i, s in enumerate(statements)],
        **adopt.policy_facts(policy),
        "tags": dict(sorted(tags.items())),
    }
    if meta.get("DeletionDate") is not None:
        facts["deletion_date"] = str(meta["DeletionDate"])
    return key_id, facts


def read_bucket(live: LiveAccount, name: str, role: str) -> dict[str, tuple[bool, dict[str, Any]]]:
    """Each bucket address of ``role`` -> (found, facts)."""
    found: dict[str, tuple[bool, dict[str, Any]]] = {}
    addresses = [f"{t}.{role}" for t in ("aws_s3_bucket", *adopt.OWNER_QUALIFIED, *adopt.BY_BUCKET)]
    if role == "input":
        addresses.append("aws_s3_bucket_notification.input")
    if not live.bucket_exists(name):
        return {address: (False, {}) for address in addresses}
    tagging = live.read("s3", "get_bucket_tagging", absent=("NoSuchTagSet",), Bucket=name)
    found[f"aws_s3_bucket.{role}"] = (True, {"tags": {t["Key"]: t["Value"] for t in (tagging or {}).get("TagSet", [])}})

    versioning = live.read("s3", "get_bucket_versioning", Bucket=name) or {}
    status = versioning.get("Status")
    # A bucket whose versioning was never enabled has no versioning to import; the stack creates it.
    found[f"aws_s3_bucket_versioning.{role}"] = (status in ("Enabled", "Suspended"), {"status": status})

    encryption = live.read(
        "s3", "get_bucket_encryption", absent=("ServerSideEncryptionConfigurationNotFoundError",), Bucket=name
    )
    rules = (encryption or {}).get("ServerSideEncryptionConfiguration", {}).get("Rules", [])
    by_default = rules[0].get("ApplyServerSideEncryptionByDefault", {}) if rules else {}
    found[f"aws_s3_bucket_server_side_encryption_configuration.{role}"] = (
        bool(rules),
        {
            "sse_algorithm": by_default.get("SSEAlgorithm"),
            "kms_master_key_id": by_default.get("KMSMasterKeyID"),
            "bucket_key_enabled": bool(rules[0].get("BucketKeyEnabled", False)) if rules else False,
        }
        if rules
        else {},
    )

    block = live.read("s3", "get_public_access_block", absent=("NoSuchPublicAccessBlockConfiguration",), Bucket=name)
    flags = (block or {}).get("PublicAccessBlockConfiguration", {})
    found[f"aws_s3_bucket_public_access_block.{role}"] = (
        block is not None,
        {
            "block_public_acls": flags.get("BlockPublicAcls", False),
            "block_public_policy": flags.get("BlockPublicPolicy", False),
            "ignore_public_acls": flags.get("IgnorePublicAcls", False),
            "restrict_public_buckets": flags.get("RestrictPublicBuckets", False),
        }
        if block is not None
        else {},
    )

    ownership = live.read(
        "s3", "get_bucket_ownership_controls", absent=("OwnershipControlsNotFoundError",), Bucket=name
    )
    owner_rules = (ownership or {}).get("OwnershipControls", {}).get("Rules", [])
    found[f"aws_s3_bucket_ownership_controls.{role}"] = (
        ownership is not None,
        {"object_ownership": owner_rules[0].get("ObjectOwnership") if owner_rules else None} if ownership else {},
    )

    policy = live.read("s3", "get_bucket_policy", absent=("NoSuchBucketPolicy",), Bucket=name)
    document = json.loads(policy["Policy"]) if policy else {}
    statements = document.get("Statement", [])
    statements = statements if isinstance(statements, list) else [statements]
    found[f"aws_s3_bucket_policy.{role}"] = (
        policy is not None,
        {
            "statement_ids": [str(s.get("Sid") or f"#{i + 1}") for i, s in enumerate(statements)],
            "grants": adopt.policy_grants(document),
            **adopt.policy_facts(document),
        }
        if policy
        else {},
    )

    lifecycle = live.read("s3", "get_bucket_lifecycle_configuration", absent=LIFECYCLE_ABSENT, Bucket=name)
    found[f"aws_s3_bucket_lifecycle_configuration.{role}"] = (
        lifecycle is not None,
        {"rules": [_rule_facts(rule) for rule in lifecycle.get("Rules", [])]} if lifecycle else {},
    )

    if role == "input":
        notification = live.read("s3", "get_bucket_notification_configuration", Bucket=name) or {}
        found["aws_s3_bucket_notification.input"] = (
            True,
            {
                "eventbridge": "EventBridgeConfiguration" in notification,
                "queues": len(notification.get("QueueConfigurations", [])),
                "topics": len(notification.get("TopicConfigurations", [])),
                "lambda_functions": len(notification.get("LambdaFunctionConfigurations", [])),
            },
        )
    return found


def _rule_facts(rule: Mapping[str, Any]) -> dict[str, Any]:
    expiration = rule.get("Expiration", {})
    return {
        "id": rule.get("ID"),
        "status": rule.get("Status"),
        "expiration_days": expiration.get("Days"),
        "expired_object_delete_marker": bool(expiration.get("ExpiredObjectDeleteMarker", False)),
        "noncurrent_days": rule.get("NoncurrentVersionExpiration", {}).get("NoncurrentDays"),
        "abort_days": rule.get("AbortIncompleteMultipartUpload", {}).get("DaysAfterInitiation"),
    }


def read_table(live: LiveAccount, name: str) -> tuple[dict[str, Any] | None, list[dict[str, Any]]]:
    """The table's facts (None if there is no table) and its items (only from a table keyed as the stack keys it)."""
    described = live.read("dynamodb", "describe_table", absent=("ResourceNotFoundException",), TableName=name)
    if described is None:
        return None, []
    table = described["Table"]
    keys = {k["KeyType"]: k["AttributeName"] for k in table.get("KeySchema", [])}
    types = {a["AttributeName"]: a["AttributeType"] for a in table.get("AttributeDefinitions", [])}
    backups = live.read("dynamodb", "describe_continuous_backups", TableName=name) or {}
    recovery = backups.get("ContinuousBackupsDescription", {}).get("PointInTimeRecoveryDescription", {})
    sse = table.get("SSEDescription") or {}
    stream = table.get("StreamSpecification") or {}
    tags = {
        t["Key"]: t["Value"]
        for t in live.read_pages("dynamodb", "list_tags_of_resource", "Tags", ResourceArn=table["TableArn"])
    }
    facts: dict[str, Any] = {
        "name": name,
        "arn": table.get("TableArn"),
        "status": table.get("TableStatus"),
        "hash_key": keys.get("HASH"),
        "hash_key_type": types.get(keys.get("HASH", "")),
        "range_key": keys.get("RANGE"),
        "local_secondary_indexes": sorted(i["IndexName"] for i in table.get("LocalSecondaryIndexes") or []),
        "global_secondary_indexes": sorted(i["IndexName"] for i in table.get("GlobalSecondaryIndexes") or []),
        "replicas": sorted(r["RegionName"] for r in table.get("Replicas") or []),
        "billing_mode": (table.get("BillingModeSummary") or {}).get("BillingMode", "PROVISIONED"),
        "encryption": "KMS"
        if sse.get("SSEType") == "KMS" and sse.get("Status") in ("ENABLED", "UPDATING")
        else "AWS owned key",
        "kms_key_arn": sse.get("KMSMasterKeyArn"),
        "point_in_time_recovery": recovery.get("PointInTimeRecoveryStatus") == "ENABLED",
        "deletion_protection": bool(table.get("DeletionProtectionEnabled", False)),
        "stream_view_type": stream.get("StreamViewType") if stream.get("StreamEnabled") else None,
        "tags": dict(sorted(tags.items())),
    }
    if (facts["hash_key"], facts["hash_key_type"]) != adopt.TABLE_HASH_KEY or facts["range_key"] is not None:
        return facts, []  # refused: its records are not tenant records keyed as the stack keys them
    items = [
        adopt.item_json(item)  # binary values as base64, as DynamoDB JSON and the provider hold them
        for item in live.read_pages("dynamodb", "scan", "Items", TableName=name, ConsistentRead=True)
    ]
    return facts, items


# --- discovery ---------------------------------------------------------------------------------------


def discover(
    live: LiveAccount,
    settings: Settings,
    tenants: Sequence[Tenant],
    *,
    previous: Adoption | None = None,
    accepted: Sequence[str] = (),
    source: str = "adopt",
    in_state: Collection[str] = (),
) -> Adoption:
    """Read the account (read-only) into an Adoption for ``settings``; not yet checked (see ``refusals``).

    ``in_state``: the tenant ids whose record Terraform state holds (``read_state``; default
    none: a stack without state). A live record of a tenant of the tenants file is
    Terraform's when the state holds it (a record taken over keeps the fields it was taken
    over with), and outside Terraform, untouched, when it does not: whatever an earlier
    discovery said. ``previous``: the discovery file this one replaces; its taken-over
    records and accepted principal removals carry over.
    """
    names = Names(settings=settings)
    found: dict[str, tuple[bool, dict[str, Any]]] = {}
    key_id, key_facts = read_key(live, names.key_alias)
    found["aws_kms_key.master"] = (key_id is not None, key_facts)
    found["aws_kms_alias.master"] = (key_id is not None, {"target_key_id": key_id} if key_id else {})
    for role in BUCKET_ROLES:
        found.update(read_bucket(live, names.bucket(role), role))
    table_facts, items = read_table(live, names.config_table)
    found["aws_dynamodb_table.tenant_config"] = (table_facts is not None, table_facts or {})

    resources = {}
    for spec in adopt.stack_addresses(settings):
        exists, facts = found[spec.address]
        import_id = key_id if spec.address == "aws_kms_key.master" else spec.import_id
        resources[spec.address] = Found(
            found=exists,
            import_id=import_id if exists else None,
            facts=facts,
            first_plan=adopt.first_plan(
                spec.address, exists, facts, settings, tenants, key=key_facts if key_id is not None else None
            ),
        )

    live_records = {str(item["tenant_id"]["S"]): item for item in items if "S" in item.get("tenant_id", {})}
    wanted = {t.tenant_id for t in tenants}
    managed = set(in_state)
    records: dict[str, TenantRecord] = {}
    for tenant_id in sorted(wanted & set(live_records)):
        before = previous.tenant_records.get(tenant_id) if previous else None
        if tenant_id not in managed:
            # Not in state: made outside Terraform (or a take-over that never reached the state). Left untouched.
            records[tenant_id] = TenantRecord(terraform=adopt.OUTSIDE, item=live_records[tenant_id])
        elif before is not None and before.terraform == adopt.TAKEN_OVER:
            records[tenant_id] = before  # Terraform's: rendered with the fields it was taken over with
        elif before is not None:
            # Listed outside, yet in state: a take-over that pushed the state and was interrupted before it
            # marked the file. Kept as it was, so that take-over can finish it (render_table says so).
            records[tenant_id] = TenantRecord(terraform=adopt.OUTSIDE, item=live_records[tenant_id])
        # else: in state and never taken over: Terraform created it, and manages it.
    carried = previous.accepted_principal_removals if previous else ()
    return Adoption(
        stack=settings.stack,
        account_id=settings.account_id,
        region=settings.region,
        resources=resources,
        tenant_records=records,
        # A record in state whose tenant left the tenants file is Terraform's to delete, not left alone.
        other_records=tuple(sorted(set(live_records) - wanted - managed)),
        accepted_principal_removals=tuple(sorted({*carried, *accepted})),
        source=source,
    )


def accepted_problems(adoption: Adoption, settings: Settings, accepted: Sequence[str]) -> list[str]:
    """A flag ``--accept-principal-removal`` that names no principal the stack's key or bucket policies would
    drop, narrow or make a key administrator."""
    facts = adoption.facts("aws_kms_key.master")
    dropped = {
        *adopt.dropped_principals(facts, settings),
        *adopt.narrowed_principals(facts, settings),
        *adopt.promoted_principals(facts, settings),
    }
    for role in BUCKET_ROLES:
        dropped.update(adopt.bucket_dropped_principals(adoption.facts(f"aws_s3_bucket_policy.{role}"), settings))
    shown = ", ".join(sorted(dropped)) or "none"
    return [
        f"--accept-principal-removal {principal!r}: neither the live key policy nor a live bucket policy allows such "
        f"a principal that the stack's policies would drop or change (they would drop or change: {shown}); check the "
        "spelling"
        for principal in accepted
        if principal not in dropped
    ]


def render_table(adoption: Adoption, tenants: Sequence[Tenant], in_state: Collection[str] = ()) -> str:
    """The discovery as a table a person reads: address, found or missing, import id, first plan.

    ``in_state``: the tenant ids whose record Terraform state holds (FOUND ``in state``).
    """
    rows = [("ADDRESS", "FOUND", "IMPORT ID", "FIRST PLAN")]
    for address, entry in sorted(adoption.resources.items()):
        plan = list(entry.first_plan) or ["no change"]
        rows.append((address, "found" if entry.found else "missing", entry.import_id or "-", plan[0]))
        rows += [("", "", "", line) for line in plan[1:]]
    for tenant in sorted(tenants, key=lambda t: t.tenant_id):
        exists = adoption.record_exists(tenant.tenant_id)
        line = adopt.tenant_record_line(tenant.tenant_id, adoption)
        shown = "found" if exists else "missing"
        record = adoption.tenant_records.get(tenant.tenant_id)
        if tenant.tenant_id in in_state and record is None:
            shown, line = "in state", "in Terraform state: Terraform manages it"
        elif tenant.tenant_id in in_state and record is not None and record.terraform == adopt.OUTSIDE:
            shown, line = (
                "in state",
                "in Terraform state, but the discovery file has it outside Terraform: a take-over that was "
                f"interrupted; finish it: pipenv run adopt take-over {tenant.tenant_id}",
            )
        rows.append((ITEM_ADDRESS.format(tenant.tenant_id), shown, "-", line))
    widths = [max(len(row[i]) for row in rows) for i in range(3)]
    lines = ["  ".join([*(cell.ljust(widths[i]) for i, cell in enumerate(row[:3])), row[3]]).rstrip() for row in rows]
    if adoption.other_records:
        lines.append(f"Records of tenants not in the tenants file, left alone: {', '.join(adoption.other_records)}")
    return "\n".join(lines)


def _load(environ: Mapping[str, str]) -> tuple[Settings, tuple[Tenant, ...]]:
    app = load_app_settings(PROJECT_DIR, environ)
    if len(app.stacks) != 1:
        names = ", ".join(s.stack for s in app.stacks)
        raise ConfigError([f"cdktf.json declares several stacks ({names}); set CCI_STACK to the one to adopt"])
    settings = app.stacks[0]
    return settings, load_tenants(settings.tenants_file)


def _connect(settings: Settings) -> LiveAccount:
    try:
        live = LiveAccount.connect(region=settings.region)
    except LiveUnavailable as why:
        raise Refused([f"adopt: cannot read account {settings.account_id}: {why}"]) from None
    if live.account_id != settings.account_id:
        raise Refused(
            [
                f"adopt: the AWS credentials are for account {live.account_id} ({live.caller_arn}), but stack "
                f"{settings.stack} is for account {settings.account_id}; discovery reads only the account the stack "
                f"deploys to: use credentials for account {settings.account_id}"
            ]
        )
    return live


@dataclass(frozen=True, kw_only=True)
class StateView:
    """What a stack's Terraform state holds: its managed resources, and the tenant ids of its record instances."""

    resources: int
    records: frozenset[str]


NO_STATE = StateView(resources=0, records=frozenset())


def state_view(state: Mapping[str, Any]) -> StateView:
    """``state`` (Terraform state v4, as ``terraform state pull`` prints it) in the terms discovery needs."""
    resources = [r for r in state.get("resources", []) if isinstance(r, dict) and r.get("mode", "managed") == "managed"]
    records = {
        str(instance.get("index_key"))
        for r in resources
        if r.get("type") == "aws_dynamodb_table_item" and r.get("name") == "tenant_config"
        for instance in r.get("instances", [])
    }
    return StateView(resources=len(resources), records=frozenset(records))


def read_state(stack_dir: Path, *, environ: Mapping[str, str] = os.environ) -> StateView:
    """The state of an initialized stack directory, read-only, with ``terraform state pull`` (any backend, and the
    ``-backend-config`` it was initialized with). Raises Refused when Terraform cannot read it."""
    pulled = _terraform(["state", "pull"], stack_dir, environ=environ, what="adopt").stdout
    return state_view(json.loads(pulled) if pulled.strip() else {})


def stack_state(settings: Settings, environ: Mapping[str, str], *, first: bool, shown: str) -> StateView:
    """The stack's state for discovery; refuses (Refused) where it cannot be read, or where a first discovery
    (``first``: no discovery file ``shown`` yet) finds state: see ``run_discovery``."""
    out_dir = output_dir(environ)
    stack_dir = (out_dir / "stacks" / settings.stack).resolve()
    where = display_path(stack_dir)
    init = f"run pipenv run synth, then terraform -chdir={where} init, then discovery again"
    why = "discovery reads it to tell the tenant records Terraform manages from those made by hand"
    view: StateView | None = None
    if (stack_dir / ".terraform" / "terraform.tfstate").is_file():
        if terraform.terraform_binary() is None:
            raise Refused([f"adopt: {why}, with Terraform: {tools.MISSING['terraform']}"])
        view = read_state(stack_dir, environ=environ)
        evidence = f"{view.resources} resource(s) in the state {where} was initialized with" if view.resources else None
    else:
        evidence = stack_state_evidence(settings.stack, settings.backend, out_dir)
    if first and evidence is not None:
        raise Refused(
            [
                f"adopt: stack {settings.stack} already has Terraform state ({evidence}) and {shown} does not "
                "exist; a first discovery would take the tenant records Terraform created for records made by "
                "hand and leave them out of the stack, so the next plan would delete them: run discovery with "
                "--out on the discovery file the stack was adopted with (its adopt_file)"
            ]
        )
    if view is not None or first:
        return view or NO_STATE
    if evidence is not None:
        raise Refused(
            [
                f"adopt: stack {settings.stack} has Terraform state ({evidence}), and {why}, but {where} is not "
                f"initialized: {init}"
            ]
        )
    if not isinstance(settings.backend, LocalBackendSettings):
        location = state_location(settings.stack, settings.backend, out_dir)
        kept = location.shown if location is not None else "Terraform Cloud"
        raise Refused(
            [
                f"adopt: stack {settings.stack} keeps its state in {kept}, which {why.replace('reads it', 'reads')}, "
                f"but {where} is not initialized: {init}"
            ]
        )
    return NO_STATE  # a local state file that does not exist or holds nothing


def run_discovery(out: Path | None, accepted: Sequence[str], environ: Mapping[str, str]) -> int:
    settings, tenants = _load(environ)
    target = out or settings.adopt_file
    if target is None:
        raise ConfigError(["adopt: say where to write the discovery: --out FILE (then set adopt_file to it)"])
    shown = display_path(target)
    command = f"pipenv run adopt --out {shown}"
    previous: Adoption | None = None
    if target.exists():
        previous = adopt.load_adoption(target)
        if (previous.stack, previous.account_id, previous.region) != (
            settings.stack,
            settings.account_id,
            settings.region,
        ):
            raise Refused(
                [
                    f"adopt: {shown} holds the discovery of stack {previous.stack} (account {previous.account_id}, "
                    f"{previous.region}), not of {settings.stack}; choose another --out"
                ]
            )
    state = stack_state(settings, environ, first=previous is None, shown=shown)
    live = _connect(settings)
    try:
        adoption = discover(
            live, settings, tenants, previous=previous, accepted=accepted, source="adopt", in_state=state.records
        )
    except LiveReadError as why:
        raise Refused([f"adopt: cannot read what account {settings.account_id} has: {why}"]) from None
    problems = accepted_problems(adoption, settings, accepted) + adopt.refusals(adoption, settings, command=command)
    if problems:
        raise Refused(problems)
    adoption = replace(adoption, source=shown)
    print(f"Discovery of {settings.stack} in account {settings.account_id}, {settings.region} (read-only):")
    print(render_table(adoption, tenants, state.records))
    target.parent.mkdir(parents=True, exist_ok=True)
    replace_text(target, adopt.render_adoption(adoption))
    found = sum(1 for entry in adoption.resources.values() if entry.found)
    outside = adopt.partition_tenants(adoption, tenants).outside
    print(
        f"{found} of {len(adoption.resources)} found (each gets an import block), "
        f"{len(adoption.resources) - found} to create; {len(outside)} tenant record(s) stay outside Terraform. "
        f"Wrote {shown}."
    )
    print(
        f"Next: review {shown}; set adopt_file to it in cdktf.json and commit both; pipenv run synth; "
        'terraform plan (README, "Adopting an existing foundation").'
    )
    return 0


# --- take-over -----------------------------------------------------------------------------------


_ANSI = re.compile(r"\x1b\[[0-9;]*m")


def _terraform(
    args: Sequence[str],
    stack_dir: Path,
    *,
    check: bool = True,
    environ: Mapping[str, str] = os.environ,
    what: str = "take-over",
) -> subprocess.CompletedProcess[str]:
    env = {**environ, "TF_IN_AUTOMATION": "1", "TF_INPUT": "0"}
    result = terraform.run(args, cwd=stack_dir, env=env, check=False)
    if check and result.returncode != 0:
        text = " ".join(_ANSI.sub("", result.stdout + result.stderr).split())[-600:]
        raise Refused([f"{what}: terraform {' '.join(args[:2])} failed in {display_path(stack_dir)}: {text}"])
    return result


def _resynth(environ: Mapping[str, str]) -> None:
    result = subprocess.run(
        [sys.executable, str(PROJECT_DIR / "main.py")], env=dict(environ), capture_output=True, text=True, check=False
    )
    if result.returncode != 0:
        raise Refused([f"take-over: the synth failed: {' '.join(result.stderr.split())}"])


def _unescape(text: str) -> str:
    return text.replace("$${", "${").replace("%%{", "%{")


def with_instances(state: dict[str, Any], instances: Mapping[str, tuple[str, str]], table: str) -> dict[str, Any]:
    """``state`` (Terraform state v4) with serial + 1 and an instance of the tenant record per tenant.

    ``instances``: tenant id -> (item JSON as the state holds it, hash key value). The
    attributes are those the AWS provider 5.100.0 writes for ``aws_dynamodb_table_item``.
    """
    new: dict[str, Any] = json.loads(json.dumps(state))
    new["serial"] = int(state["serial"]) + 1
    resources = new.setdefault("resources", [])
    entry = next(
        (
            r
            for r in resources
            if r.get("mode") == "managed"
            and r.get("type") == "aws_dynamodb_table_item"
            and r.get("name") == "tenant_config"
        ),
        None,
    )
    if entry is None:
        entry = {
            "mode": "managed",
            "type": "aws_dynamodb_table_item",
            "name": "tenant_config",
            "provider": 'provider["registry.terraform.io/hashicorp/aws"]',
            "instances": [],
        }
        resources.append(entry)
    for tenant_id, (item, key_value) in sorted(instances.items()):
        entry["instances"].append(
            {
                "index_key": tenant_id,
                "schema_version": 0,
                "attributes": {
                    "hash_key": adopt.TABLE_HASH_KEY[0],
                    "id": f"{table}|{adopt.TABLE_HASH_KEY[0]}|{key_value}",
                    "item": item,
                    "range_key": None,
                    "table_name": table,
                },
                "sensitive_attributes": [],
                "private": "bnVsbA==",  # base64 "null": no provider-private data, as the provider writes it
                "dependencies": ["aws_dynamodb_table.tenant_config", "aws_kms_key.master"],
            }
        )
    entry["instances"].sort(key=lambda i: str(i.get("index_key")))
    return new


def check_taken_over(change: Mapping[str, Any], live: Mapping[str, Any]) -> tuple[bool, str]:
    """Does a plan's change of a taken-over record keep every field? (ok, what the next apply does)."""
    actions = change["change"]["actions"]
    if actions == ["no-op"]:
        return True, "no change"
    if actions != ["update"]:
        return False, f"the plan would {'/'.join(actions)} it"
    after = json.loads(change["change"]["after"]["item"])
    lost = sorted(k for k in live if k not in adopt.MANAGED_FIELDS and after.get(k) != live[k])
    if lost:
        return False, f"the plan would change or drop field(s) {', '.join(lost)}"
    added = sorted(k for k in after if k not in live)
    changed = sorted(k for k in after if k in live and after[k] != live[k])
    parts = [f"adds {', '.join(added)}"] if added else []
    parts += [f"sets {', '.join(changed)}"] if changed else []
    return True, f"the next apply {' and '.join(parts)} (the product's own fields); every other field stays"


#: Files a take-over writes in the stack directory and removes when it finishes; one that a killed
#: take-over left behind is removed by the next. The state backup (``take-over.serial-<N>.tfstate.backup``)
#: is kept.
TEMPORARY = ("take-over.serial-*.tfstate", "take-over.plan", "take-over.restore.tfstate")


def clean_temporary(stack_dir: Path) -> list[Path]:
    """Remove what an interrupted take-over left in ``stack_dir`` (``TEMPORARY``); return what was removed."""
    removed = []
    for pattern in TEMPORARY:
        for path in sorted(stack_dir.glob(pattern)):
            path.unlink()
            removed.append(path)
    return removed


def _push_state(stack_dir: Path, state: Mapping[str, Any], name: str) -> None:
    """``terraform state push`` of ``state`` through a file ``name`` in the stack directory (never ``-force``)."""
    path = stack_dir / name
    path.write_text(json.dumps(state, indent=2), encoding="utf-8")
    try:
        _terraform(["state", "push", str(path)], stack_dir)
    finally:
        path.unlink()


def run_take_over(tenant_ids: Sequence[str], environ: Mapping[str, str]) -> int:
    """Bring the records of ``tenant_ids`` under Terraform with every field (see the module docstring).

    Order, so that an interruption at any point leaves nothing that a plan would lose data
    by and that a second run cannot finish: the instances are pushed into the state first;
    only then is the discovery file marked ``taken_over``; then the stack is synthesized
    again and the take-over verified with a plan. A second run completes what the first
    left: a record the file lists outside Terraform but the state holds (the push happened,
    the file was not written) is finalized; a record the file marks taken over but the
    state lacks is pushed. It first removes the temporary files a killed run left.
    """
    settings, tenants = _load(environ)
    if settings.adopt_file is None:
        raise ConfigError(
            ["take-over: no adopt_file is set; it works on an adopted stack (set adopt_file in cdktf.json)"]
        )
    adoption = adopt.load_for_synth(settings, tenants)
    assert adoption is not None
    shown = display_path(settings.adopt_file)
    known = {t.tenant_id for t in tenants}
    problems = [
        f"take-over: {t!r} is not a tenant of {display_path(settings.tenants_file)}; add it there first"
        for t in tenant_ids
        if t not in known
    ]
    stack_dir = (output_dir(environ) / "stacks" / settings.stack).resolve()
    if not (stack_dir / ".terraform").is_dir():
        problems.append(
            f"take-over: {display_path(stack_dir)} is not initialized; synthesize, then terraform "
            f"-chdir={display_path(stack_dir)} init, and apply the adoption first"
        )
    if terraform.terraform_binary() is None:
        problems.append(f"take-over: {tools.MISSING['terraform']}")
    if problems:
        raise Refused(problems)
    for path in clean_temporary(stack_dir):
        print(f"note: removed {display_path(path)}, left by a take-over that was interrupted", file=sys.stderr)

    table = Names(settings=settings).config_table
    live = _connect(settings)
    records: dict[str, dict[str, Any]] = {}
    for tenant_id in tenant_ids:
        try:
            got = live.read(
                "dynamodb", "get_item", TableName=table, Key={"tenant_id": {"S": tenant_id}}, ConsistentRead=True
            )
        except LiveReadError as why:
            raise Refused([f"take-over: cannot read the record of {tenant_id!r}: {why}"]) from None
        if not got or "Item" not in got:
            problems.append(
                f"take-over: {tenant_id!r} has no record in {table}; the next apply creates it, nothing to take over"
            )
        else:
            records[tenant_id] = adopt.item_json(got["Item"])
    pulled = _terraform(["state", "pull"], stack_dir).stdout
    state = json.loads(pulled) if pulled.strip() else {}
    in_state = state_view(state).records
    if not any(
        r.get("type") == "aws_dynamodb_table" and r.get("name") == "tenant_config" for r in state.get("resources", [])
    ):
        problems.append("take-over: the table is not in Terraform state yet; apply the adoption first (README, step 5)")
    push: list[str] = []  # records whose instance goes into the state
    finish: list[str] = []  # records in state already whose file entry an interrupted take-over did not write
    for tenant_id in tenant_ids:
        record = adoption.tenant_records.get(tenant_id)
        marked = record is not None and record.terraform == adopt.TAKEN_OVER
        if tenant_id in in_state and marked:
            problems.append(f"take-over: {tenant_id!r} is taken over already ({shown}): Terraform manages it")
        elif tenant_id in in_state and record is None:
            problems.append(
                f"take-over: {tenant_id!r} is in Terraform state already: Terraform created it and manages it"
            )
        elif tenant_id in in_state:
            finish.append(tenant_id)  # listed outside, but in state: the push happened, the file was not written
        else:
            push.append(tenant_id)  # outside (or marked taken over by a run that never reached the state)
    if problems:
        raise Refused(problems)

    updated = {
        **adoption.tenant_records,
        **{t: TenantRecord(terraform=adopt.TAKEN_OVER, item=item) for t, item in records.items()},
    }
    taken = replace(adoption, tenant_records=updated)
    overwritten = {t: product_overwrites(records[t], t, settings, tenants, taken) for t in tenant_ids}
    backup = stack_dir / f"take-over.serial-{state['serial']}.tfstate.backup"
    backup.write_text(pulled, encoding="utf-8")
    adopt_text = settings.adopt_file.read_text(encoding="utf-8")
    pushed = False
    try:
        if push:
            rendered = _rendered(settings, tenants, taken)
            instances = {}
            for tenant_id in push:
                # The state holds the configuration's own text when the record is already what it renders
                # (the plan then shows no change); otherwise the live record, and the plan shows the product's fields.
                item = records[tenant_id]
                same = json.loads(_unescape(rendered[tenant_id])) == item
                text = (
                    _unescape(rendered[tenant_id])
                    if same
                    else json.dumps(item, separators=(",", ":"), sort_keys=True, ensure_ascii=False)
                )
                instances[tenant_id] = (text, tenant_id)
            _push_state(
                stack_dir, with_instances(state, instances, table), f"take-over.serial-{state['serial'] + 1}.tfstate"
            )
            pushed = True
        replace_text(settings.adopt_file, adopt.render_adoption(taken))
        _resynth(environ)
        plan_file = stack_dir / "take-over.plan"
        targets = [f"-target={ITEM_ADDRESS.format(t)}" for t in records]
        _terraform(["plan", "-input=false", "-no-color", f"-out={plan_file}", *targets], stack_dir)
        shown_plan = json.loads(_terraform(["show", "-json", "-no-color", str(plan_file)], stack_dir).stdout)
        plan_file.unlink()
        changes = {c["address"]: c for c in shown_plan.get("resource_changes", [])}
        verdicts = []
        for tenant_id, item in records.items():
            change = changes.get(ITEM_ADDRESS.format(tenant_id))
            ok, what = check_taken_over(change, item) if change else (False, "the plan does not show it")
            if not ok:
                raise Refused([f"take-over: {tenant_id!r}: {what}; nothing was changed (state and {shown} restored)"])
            finished = " (finishing a take-over that was interrupted)" if tenant_id in finish else ""
            verdicts.append(f"{ITEM_ADDRESS.format(tenant_id)}: taken over with {len(item)} field(s){finished}; {what}")
    except BaseException:
        replace_text(settings.adopt_file, adopt_text)
        if pushed:
            current = json.loads(_terraform(["state", "pull"], stack_dir).stdout)
            _push_state(stack_dir, {**state, "serial": int(current["serial"]) + 1}, "take-over.restore.tfstate")
        _resynth(environ)
        raise
    for line in verdicts:
        print(line)
    for tenant_id, lines in overwritten.items():
        if lines:
            print(
                f"note: {tenant_id}: the next apply sets the product's fields from "
                f"{display_path(settings.tenants_file)}, over the live values: {'; '.join(lines)}; to keep a live "
                f"value, put it in {display_path(settings.tenants_file)} before you apply (README, step 7)"
            )
    state_note = (
        f"the state (serial {state['serial'] + 1}; the previous state is kept in {display_path(backup)})"
        if push
        else "nothing in the state (it held the records already)"
    )
    print(f"Wrote {shown} (commit it) and {state_note}. Next: terraform plan, review, apply.")
    return 0


def _rendered(settings: Settings, tenants: Sequence[Tenant], adoption: Adoption) -> dict[str, str]:
    """``local.tenant_config_items`` as the synth would write it with ``adoption`` (each item Terraform-escaped)."""
    partition = adopt.partition_tenants(adoption, tenants)
    document = json.loads(
        tenant_file.render(settings, tenants, outside=partition.outside, extra_fields=partition.extra_fields)
    )
    items: dict[str, str] = document["locals"][ITEMS_LOCAL]
    return items


def product_overwrites(
    live: Mapping[str, Any], tenant_id: str, settings: Settings, tenants: Sequence[Tenant], adoption: Adoption
) -> list[str]:
    """The product's own fields (``display_name``, ``kms_guard``, ``tags``) whose live value the tenants file
    overwrites once a record is taken over, each as ``field (live -> new)``."""
    rendered = json.loads(_unescape(_rendered(settings, tenants, adoption)[tenant_id]))
    return [
        f"{name} ({json.dumps(live[name], ensure_ascii=False)} -> {json.dumps(rendered[name], ensure_ascii=False)})"
        for name in adopt.MANAGED_FIELDS
        if name in live and name in rendered and live[name] != rendered[name]
    ]


# --- command line -------------------------------------------------------------------------------------


def main(argv: Sequence[str], environ: Mapping[str, str] = os.environ) -> int:
    """Run discovery or take-over; 2 on a refusal or a mistake, one line each.

    Run as a command (``python -m cci_tools.adopt``), an unreadable file is one line too
    and a bug one line with exit status 1 (cci_tools.cli; ``CCI_DEBUG=1`` shows its traceback).
    """
    try:
        if argv[:1] == ["take-over"]:
            parser = argparse.ArgumentParser(
                prog="adopt take-over", description="Bring tenant records under Terraform."
            )
            parser.add_argument("tenant", nargs="+", help="tenant ids whose existing record Terraform should manage")
            args = parser.parse_args(argv[1:])
            return run_take_over(sorted(set(args.tenant)), environ)
        parser = argparse.ArgumentParser(
            prog="adopt",
            usage="%(prog)s [--out FILE] [--accept-principal-removal PRINCIPAL ...]\n"
            "       %(prog)s take-over TENANT [TENANT ...]",
            description="Read-only discovery of the foundation that already runs in the stack's account.",
            epilog="adopt take-over TENANT [TENANT ...]: bring existing tenant records under Terraform with every "
            "field they have, after the adoption was applied (adopt take-over --help)",
        )
        parser.add_argument("--out", type=Path, help="the discovery file to write (default: the adopt_file setting)")
        parser.add_argument(
            "--accept-principal-removal",
            action="append",
            default=[],
            metavar="PRINCIPAL",
            help="a principal of the live key policy or a live bucket policy that the stack's policies may drop "
            "or change (recorded in the file)",
        )
        args = parser.parse_args(argv)
        return run_discovery(args.out, args.accept_principal_removal, environ)
    except (ConfigError, Refused) as error:
        for problem in error.problems:
            print(f"error: {problem}", file=sys.stderr)
        return 2


if __name__ == "__main__":
    from cci_tools import cli

    sys.exit(
        cli.run(
            main,
            sys.argv[1:],
            prog="adopt",
            interrupted="each file it writes is as it was or complete; run the same command again to finish",
        )
    )
