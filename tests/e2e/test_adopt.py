"""Adopting the foundation built by hand, on the emulator, with the real Terraform: nothing replaced, nothing lost.

The foundation is built the way the design record says it was built by hand
(tests/e2e/hand_built.py), in an emulator of its own: it uses the production names in
eu-central-1, and every request to it is recorded (moto's recorder), so that the test
can prove discovery sends reads only. A copy of the project is then driven as the
README's "Adopting an existing foundation" says: ``python -m cci_tools.adopt`` (which is
``pipenv run adopt``), ``python main.py``, ``terraform init``, ``plan``, the review gate,
``apply``, a second ``plan``, and ``adopt take-over``.

Emulator gaps, worked around here only, each where it bites:

- moto evaluates no bucket-policy conditions: the three Denies of each bucket policy
  block every object request, so they are lifted around the object reads, after their
  content is asserted (as tests/e2e/test_apply.py does);
- moto does not echo ``EventBridgeConfiguration``: discovery sees no EventBridge on the
  input bucket, and every plan updates ``eventbridge`` false -> true;
- moto's ``UpdateTable`` ignores the encryption setting: every plan updates the table's
  ``server_side_encryption``;
- moto's ``UpdateItem`` stores a boolean written through ``AttributeUpdates`` as
  ``{"S": false}``, which the provider cannot read back: the take-over apply fails on
  that read, and the test writes the boolean correctly before it plans again;
- the same ``AttributeUpdates`` path stores ``B`` as a string, drops ``NULL`` and fails on
  ``BS``: the record with every DynamoDB type is taken over and its take-over verified by
  Terraform's plan, but never applied.
"""

from __future__ import annotations

import base64
import json
import os
import shutil
import subprocess
import sys
import urllib.parse
import urllib.request
from collections.abc import Iterator
from dataclasses import dataclass
from pathlib import Path
from typing import Any

import pytest

from cci_tools import emulator
from constructs_lib.policies import bucket_policy
from tests.e2e import hand_built
from tests.e2e.test_state_safety import STACK_DIR, Project, make_project
from tests.helpers import PROJECT_DIR, require_tool, seed_settings

pytestmark = pytest.mark.e2e

ACCOUNT, REGION = "591338347562", "eu-central-1"
ADMIN = f"arn:aws:iam::{ACCOUNT}:role/{hand_built.ADMIN_ROLE_NAME}"
ITEM = 'aws_dynamodb_table_item.tenant_config["{}"]'
TENANTS = {
    "$schema": "./tenants.schema.json",
    "tenants": [
        {
            "tenant_id": "demo-tenant",
            "display_name": "Demo Tenant",
            "kms_guard": False,
            "tags": {"CostCenter": "cc-100"},
        },
        {"tenant_id": "acme", "display_name": "Acme Corp"},
    ],
}
#: What discovery does not find in the hand-built foundation: it has no bucket policy, and
#: athena-staging no lifecycle configuration.
NEVER_MADE = [
    "aws_s3_bucket_lifecycle_configuration.athena_staging",
    "aws_s3_bucket_policy.athena_staging",
    "aws_s3_bucket_policy.input",
    "aws_s3_bucket_policy.results",
]
#: Every operation discovery may send, and the only ones it sends: reads.
DISCOVERY_READS = {
    "sts:GetCallerIdentity",
    "kms:DescribeKey",
    "kms:GetKeyRotationStatus",
    "kms:GetKeyPolicy",
    "kms:ListResourceTags",
    "s3:HeadBucket",
    "s3:GetBucketTagging",
    "s3:GetBucketVersioning",
    "s3:GetBucketEncryption",
    "s3:GetPublicAccessBlock",
    "s3:GetBucketOwnershipControls",
    "s3:GetBucketPolicy",
    "s3:GetBucketLifecycleConfiguration",
    "s3:GetBucketNotificationConfiguration",
    "dynamodb:DescribeTable",
    "dynamodb:DescribeContinuousBackups",
    "dynamodb:ListTagsOfResource",
    "dynamodb:Scan",
}
_S3_READS = {
    "tagging": "GetBucketTagging",
    "versioning": "GetBucketVersioning",
    "encryption": "GetBucketEncryption",
    "publicAccessBlock": "GetPublicAccessBlock",
    "ownershipControls": "GetBucketOwnershipControls",
    "policy": "GetBucketPolicy",
    "lifecycle": "GetBucketLifecycleConfiguration",
    "notification": "GetBucketNotificationConfiguration",
}


# --- the recording emulator -----------------------------------------------------------------


def recorder(running: emulator.Emulator, action: str) -> str:
    method = "GET" if action == "download-recording" else "POST"
    request = urllib.request.Request(f"{running.endpoint}/moto-api/recorder/{action}", method=method)
    with urllib.request.urlopen(request, timeout=10) as response:
        return str(response.read().decode("utf-8"))


def operation(entry: dict[str, Any]) -> str:
    """``service:Operation`` of one recorded request, read from the wire: the JSON target, the query
    Action, or for S3 (REST) the method and sub-resource."""
    headers = {k.lower(): v for k, v in entry["headers"].items()}
    body = entry.get("body") or ""
    if entry.get("body_encoded"):
        body = base64.b64decode(body).decode("utf-8", "replace")
    if "x-amz-target" in headers:
        prefix, _, name = headers["x-amz-target"].partition(".")
        return f"{'kms' if prefix == 'TrentService' else 'dynamodb'}:{name}"
    if body.startswith("Action="):
        return f"sts:{urllib.parse.parse_qs(body)['Action'][0]}"
    url = urllib.parse.urlparse(entry["url"])
    if entry["method"] == "HEAD" and url.path.count("/") == 1:
        return "s3:HeadBucket"
    if entry["method"] == "GET" and url.query in _S3_READS:
        return f"s3:{_S3_READS[url.query]}"
    return f"s3:{entry['method']} {url.path}?{url.query}"


@pytest.fixture(scope="module")
def hand_emulator(tmp_path_factory: pytest.TempPathFactory) -> Iterator[emulator.Emulator]:
    """An emulator of its own, account 591338347562, that can record every request it receives."""
    require_tool("moto_server", emulator.moto_server_binary())
    tmp = tmp_path_factory.mktemp("adopt-emulator")
    with pytest.MonkeyPatch.context() as patch:  # the server reads both when it starts
        patch.setenv("MOTO_ENABLE_RECORDING", "True")
        patch.setenv("MOTO_RECORDER_FILEPATH", str(tmp / "recording.jsonl"))
        running = emulator.Emulator(account_id=ACCOUNT, log_path=tmp / "moto.log").start()
    try:
        recorder(running, "stop-recording")  # only discovery is recorded, not the fixture's own calls
        yield running
    finally:
        running.stop()


def client_of(running: emulator.Emulator, region: str = REGION) -> Any:
    return lambda service: running.client(service, region=region)


def project_with(tmp: Path, running: emulator.Emulator, cci: dict[str, Any]) -> Project:
    """A copy of the project (with cci_tools and the scanner waivers) and a user's shell for it."""
    project = make_project(tmp, running, REGION, {"region": REGION, **cci})
    shutil.copytree(PROJECT_DIR / "cci_tools", project.root / "cci_tools")
    shutil.copy(PROJECT_DIR / "scan-waivers.toml", project.root / "scan-waivers.toml")
    (project.root / "tenants.json").write_text(json.dumps(TENANTS, indent=2), encoding="utf-8")
    return project


def adopt(project: Project, *args: str, **extra: str) -> subprocess.CompletedProcess[str]:
    """``pipenv run adopt ARGS`` in the project."""
    return subprocess.run(
        [sys.executable, "-m", "cci_tools.adopt", *args],
        cwd=project.root,
        env={**project.env, **extra},
        capture_output=True,
        text=True,
        timeout=600,
    )


#: Where the README's review gate writes its review: the default, in the stack directory.
REVIEW = f"{STACK_DIR}/plan-review.md"


def audit(project: Project, *extra: str) -> subprocess.CompletedProcess[str]:
    """The README's review gate on the project's plan.json: pipenv run audit --plan plan.json --fail-on-destroy."""
    return subprocess.run(
        [sys.executable, "-m", "cci_tools.audit", "--plan", "plan.json", "--fail-on-destroy", *extra],
        cwd=project.root,
        env=project.env,
        capture_output=True,
        text=True,
        timeout=120,
    )


def changes_of(plan: dict[str, Any]) -> dict[str, list[str]]:
    return {c["address"]: c["change"]["actions"] for c in plan.get("resource_changes", [])}


def known_gaps_removed(plan: dict[str, Any]) -> dict[str, list[str]]:
    """The plan's changes other than no-ops, after checking the emulator's two re-plans are only that."""
    kept = {}
    for change in plan.get("resource_changes", []):
        address, actions = change["address"], change["change"]["actions"]
        before, after = change["change"]["before"] or {}, change["change"]["after"] or {}
        if actions == ["no-op"]:
            continue
        if address == "aws_s3_bucket_notification.input" and actions == ["update"]:
            # moto does not echo EventBridgeConfiguration
            assert (before["eventbridge"], after["eventbridge"]) == (False, True)
            assert {k: v for k, v in before.items() if k != "eventbridge"} == {
                k: v for k, v in after.items() if k != "eventbridge"
            }
            continue
        if address == "aws_dynamodb_table.tenant_config" and actions == ["update"]:
            # moto's UpdateTable ignores the encryption setting
            assert before["server_side_encryption"] == [] and after["server_side_encryption"][0]["enabled"] is True
            assert {k: v for k, v in before.items() if k != "server_side_encryption"} == {
                k: v for k, v in after.items() if k != "server_side_encryption"
            }
            continue
        kept[address] = actions
    return kept


@dataclass
class Adopted:
    """The hand-built foundation after discovery, synth, plan, review and apply."""

    project: Project
    aws: emulator.Emulator
    built: hand_built.HandBuilt
    discovery: subprocess.CompletedProcess[str]
    recording: list[dict[str, Any]]
    again: str
    plan_text: str
    plan: dict[str, Any]
    review: subprocess.CompletedProcess[str]


@pytest.fixture(scope="module")
def adopted(hand_emulator: emulator.Emulator, tmp_path_factory: pytest.TempPathFactory) -> Adopted:
    built = hand_built.build(client_of(hand_emulator), account=ACCOUNT, region=REGION)
    project = project_with(tmp_path_factory.mktemp("adopted"), hand_emulator, {"key_admin_role_arns": [ADMIN]})
    # README step 1: discover.
    recorder(hand_emulator, "reset-recording")
    recorder(hand_emulator, "start-recording")
    try:
        discovery = adopt(project, "--out", "adopt.json")
    finally:
        recorder(hand_emulator, "stop-recording")
    assert discovery.returncode == 0, discovery.stderr
    recording = [json.loads(line) for line in recorder(hand_emulator, "download-recording").splitlines() if line]
    again = adopt(project, "--out", "again.json")
    assert again.returncode == 0, again.stderr

    # Step 3: name the file in cdktf.json and synthesize; step 4: plan and review; step 5: apply.
    project.context["adopt_file"] = "adopt.json"
    project.set_context({})
    project.synth()
    project.terraform("init", "-input=false")
    plan_text = project.terraform("plan", "-input=false", "-out=plan.bin").stdout
    shown = project.terraform("show", "-json", "plan.bin").stdout
    (project.root / "plan.json").write_text(shown, encoding="utf-8")
    review = audit(project, "--expect-imports")  # README step 4: the first adoption's plan, and only it
    project.terraform("apply", "-input=false", "plan.bin")
    return Adopted(
        project=project,
        aws=hand_emulator,
        built=built,
        discovery=discovery,
        recording=recording,
        again=(project.root / "again.json").read_text(encoding="utf-8"),
        plan_text=plan_text,
        plan=json.loads(shown),
        review=review,
    )


# --- discovery ----------------------------------------------------------------------------


def test_discovery_sends_only_reads(adopted: Adopted) -> None:
    sent = [operation(entry) for entry in adopted.recording]
    assert sent, "the recorder saw no request"
    assert set(sent) == DISCOVERY_READS, sorted(set(sent) - DISCOVERY_READS)


def test_discovery_file_is_deterministic_and_names_what_exists(adopted: Adopted) -> None:
    text = (adopted.project.root / "adopt.json").read_text(encoding="utf-8")
    assert text == adopted.again
    document = json.loads(text)
    assert (document["stack"], document["account_id"], document["region"]) == ("cci-lite-production", ACCOUNT, REGION)
    resources = document["resources"]
    assert sorted(a for a, e in resources.items() if not e["found"]) == NEVER_MADE
    assert resources["aws_kms_key.master"]["import_id"] == adopted.built.key_id
    assert document["tenant_records"] == {"demo-tenant": {"terraform": "outside", "item": hand_built.DEMO_RECORD}}
    table = adopted.discovery.stdout
    assert table.startswith(f"Discovery of cci-lite-production in account {ACCOUNT}, {REGION} (read-only):\nADDRESS")
    assert "ADDS noncurrent-version expiry: old versions become deletable after 1 day" in table
    assert (
        "21 of 25 found (each gets an import block), 4 to create; 1 tenant record(s) stay outside Terraform." in table
    )


# --- the first plan and its review -----------------------------------------------------------------


def test_first_plan_imports_what_exists_and_deletes_or_replaces_nothing(adopted: Adopted) -> None:
    assert "Plan: 21 to import, 6 to add, 11 to change, 0 to destroy." in adopted.plan_text
    changes = adopted.plan["resource_changes"]
    imported = {c["address"]: c["change"]["importing"]["id"] for c in changes if c["change"].get("importing")}
    document = json.loads((adopted.project.root / "adopt.json").read_text(encoding="utf-8"))
    assert imported == {a: e["import_id"] for a, e in document["resources"].items() if e["found"]}
    assert not [c["address"] for c in changes if "delete" in c["change"]["actions"]]
    assert sorted(c["address"] for c in changes if c["change"]["actions"] == ["create"]) == sorted(
        [*NEVER_MADE, ITEM.format("acme"), "terraform_data.adoption"]
    )
    assert ITEM.format("demo-tenant") not in {c["address"] for c in changes}


def test_review_of_the_first_plan_names_the_imports_and_their_consequences(adopted: Adopted) -> None:
    assert adopted.review.returncode == 0, adopted.review.stderr
    assert adopted.review.stderr == ""
    report = (adopted.project.root / REVIEW).read_text(encoding="utf-8")
    section = report[report.index("## Changes in this plan") :]
    assert "Summary: 21 to import, 6 to create, 11 to update." in section
    assert f"- `aws_kms_key.master` ← `{adopted.built.key_id}`: then update" in section
    assert (
        f"- `aws_s3_bucket_versioning.input` ← `cci-lite-input-{ACCOUNT}-{REGION},{ACCOUNT}`: left as it is"
    ) in section
    for role in ("input", "results"):
        assert (
            f"- foundation: `aws_s3_bucket_lifecycle_configuration.{role}`\n  - **old versions become deletable:** "
            "noncurrent versions are deleted after 1 day (no rule deleted them before)"
        ) in section
    for role in ("input", "results", "athena_staging"):
        assert (
            f"- foundation: `aws_s3_bucket_server_side_encryption_configuration.{role}`\n  - bucket key off → on"
        ) in section
    key_arn = adopted.built.key_arn
    assert (
        "- foundation: `aws_dynamodb_table.tenant_config`\n"
        f"  - table encryption AWS owned key → KMS `{key_arn}`\n"
        "  - point-in-time recovery off → on\n"
        "  - deletion protection off → on\n"
    ) in section
    assert f"  - principals that keep their access: `{ADMIN}`, `arn:aws:iam::{ACCOUNT}:root`" in section
    assert (
        "  - service principals no longer allowed: `glue.amazonaws.com`, `lambda.amazonaws.com`, "
        "`quicksight.amazonaws.com`, `transcribe.amazonaws.com` (AUDIT.md says why for each)"
    ) in section
    assert "  - removed statement `Allow access for Key Administrators`" in section
    assert "### Tenant records outside Terraform\n\n`demo-tenant`: each exists in the table" in section
    # One caution, the one every plan that imports gets: right here, for the first adoption only.
    assert report.count("[!CAUTION]") == 1
    assert "> [!CAUTION]\n> **This plan imports 21 existing object(s) into this state.**" in section


def test_gate_fails_a_fresh_clone_that_imports_the_adopted_foundation_again_forked_state(
    adopted: Adopted, tmp_path: Path
) -> None:
    # The tester's repro: the adoption was applied with one state; a fresh clone with the committed cdktf.json and
    # adopt.json, a plain init, and the plan imports everything into a second state instead of creating it.
    clone = project_with(tmp_path, adopted.aws, {"key_admin_role_arns": [ADMIN], "adopt_file": "adopt.json"})
    shutil.copy(adopted.project.root / "adopt.json", clone.root / "adopt.json")
    clone.synth()
    clone.terraform("init", "-input=false")
    assert "Plan: 21 to import, " in clone.terraform("plan", "-input=false", "-out=plan.bin").stdout
    (clone.root / "plan.json").write_text(clone.terraform("show", "-json", "plan.bin").stdout, encoding="utf-8")
    gated = audit(clone)
    assert gated.returncode == 3
    assert gated.stderr.splitlines()[0] == (
        "WARNING: the plan imports 21 existing object(s) into this state: right only for the first adoption of this "
        "stack; if the stack was adopted before, this state is not the one that manages them (a forked state): "
        "stop; for the first adoption's plan, pass --expect-imports"
    )


# --- after the apply ------------------------------------------------------------------------


def test_adoption_keeps_the_key_its_alias_and_the_admin_roles_administration(adopted: Adopted) -> None:
    kms = adopted.aws.client("kms", region=REGION)
    metadata = kms.describe_key(KeyId="alias/cci-lite-master-key")["KeyMetadata"]
    assert (metadata["KeyId"], metadata["KeyState"]) == (adopted.built.key_id, "Enabled")
    assert kms.get_key_rotation_status(KeyId=adopted.built.key_id)["KeyRotationEnabled"] is True
    policy = json.loads(kms.get_key_policy(KeyId=adopted.built.key_id, PolicyName="default")["Policy"])
    statements = {s["Sid"]: s for s in policy["Statement"]}
    assert statements["AllowKeyAdministration"]["Principal"] == {"AWS": [ADMIN]}
    assert "kms:ScheduleKeyDeletion" in statements["AllowKeyAdministration"]["Action"]
    assert statements["EnableRootAccountPermissions"]["Principal"] == {"AWS": f"arn:aws:iam::{ACCOUNT}:root"}


def test_adoption_keeps_every_object_version_readable_under_the_key_and_versioning_on(adopted: Adopted) -> None:
    s3 = adopted.aws.client("s3", region=REGION)
    names = {role: hand_built.bucket_name(role, ACCOUNT, REGION) for role in ("input", "results", "athena_staging")}
    for name in names.values():
        assert s3.get_bucket_versioning(Bucket=name)["Status"] == "Enabled"
    # Emulator gap: moto evaluates no bucket-policy conditions, so the tenant Denies block every object
    # request. Assert the policies are exactly the stack's, lift them, read, and put them back.
    policies = {role: s3.get_bucket_policy(Bucket=name)["Policy"] for role, name in names.items()}
    for role, policy in policies.items():
        assert json.loads(policy) == bucket_policy(seed_settings(), role)
    try:
        for name in names.values():
            s3.delete_bucket_policy(Bucket=name)
        for bucket, key, version, body in adopted.built.versions:
            got = s3.get_object(Bucket=bucket, Key=key, VersionId=version)
            assert got["Body"].read() == body, (bucket, key, version)
            assert (got["ServerSideEncryption"], got["SSEKMSKeyId"]) == ("aws:kms", adopted.built.key_arn)
        listed = s3.list_object_versions(Bucket=names["input"], Prefix="demo-tenant/")["Versions"]
        assert len(listed) == 3
    finally:
        for role, policy in policies.items():
            s3.put_bucket_policy(Bucket=names[role], Policy=policy)


def test_adoption_leaves_the_hand_made_record_whole_and_creates_the_new_tenants(adopted: Adopted) -> None:
    dynamodb = adopted.aws.client("dynamodb", region=REGION)
    items = {i["tenant_id"]["S"]: i for i in dynamodb.scan(TableName="cci-lite-config")["Items"]}
    assert items["demo-tenant"] == hand_built.DEMO_RECORD
    assert items["acme"]["display_name"] == {"S": "Acme Corp"}
    assert items["acme"]["tags"]["M"]["Tenant"] == {"S": "acme"}
    table = dynamodb.describe_table(TableName="cci-lite-config")["Table"]
    assert table["DeletionProtectionEnabled"] is True


def test_second_plan_after_adoption_is_clean_but_for_named_emulator_gaps(adopted: Adopted) -> None:
    project = adopted.project
    project.synth()
    project.terraform("plan", "-input=false", "-out=plan.bin")
    plan = json.loads(project.terraform("show", "-json", "plan.bin").stdout)
    assert known_gaps_removed(plan) == {}
    # The import blocks stay (adopt_file stays set): Terraform skips those whose address is in state.
    assert not [c for c in plan["resource_changes"] if c["change"].get("importing")]
    assert (project.root / "cdktf.out/stacks/cci-lite-production/imports.tf.json").is_file()


@pytest.mark.parametrize(
    ("address", "consequence"),
    [
        (
            "aws_s3_bucket_server_side_encryption_configuration.input",
            "the bucket falls back to S3-managed keys (SSE-S3) until it is recreated: objects written meanwhile are "
            "not under the foundation key",
        ),
        (
            "aws_s3_bucket_versioning.results",
            "versioning is suspended until it is recreated: an object overwritten or deleted meanwhile loses its "
            "previous version",
        ),
    ],
)
def test_gate_fails_a_plan_that_replaces_a_bucket_setting(adopted: Adopted, address: str, consequence: str) -> None:
    project = adopted.project
    project.terraform("plan", "-input=false", f"-replace={address}", "-out=plan.bin")
    (project.root / "plan.json").write_text(project.terraform("show", "-json", "plan.bin").stdout, encoding="utf-8")
    gated = audit(project)
    assert gated.returncode == 3
    assert gated.stderr.splitlines() == [
        f"WARNING: the plan deletes or replaces resources of the stack: {address} (replace: {consequence})"
    ]
    report = (project.root / REVIEW).read_text(encoding="utf-8")
    assert f"> - `{address}` (replace): {consequence}." in report


# --- tenant records -------------------------------------------------------------------------


def test_take_over_brings_the_hand_made_record_in_with_every_field(adopted: Adopted) -> None:
    project = adopted.project
    taken = adopt(project, "take-over", "demo-tenant")
    assert taken.returncode == 0, taken.stderr
    assert taken.stdout.splitlines()[0] == (
        f"{ITEM.format('demo-tenant')}: taken over with 9 field(s); the next apply adds kms_guard, tags (the "
        "product's own fields); every other field stays"
    )
    document = json.loads((project.root / "adopt.json").read_text(encoding="utf-8"))
    assert document["tenant_records"]["demo-tenant"] == {"terraform": "taken_over", "item": hand_built.DEMO_RECORD}
    state = json.loads(project.terraform("state", "pull").stdout)
    items = next(r for r in state["resources"] if r["type"] == "aws_dynamodb_table_item")
    assert sorted(i["index_key"] for i in items["instances"]) == ["acme", "demo-tenant"]

    project.terraform("plan", "-input=false", "-out=plan.bin")
    plan = json.loads(project.terraform("show", "-json", "plan.bin").stdout)
    assert known_gaps_removed(plan) == {ITEM.format("demo-tenant"): ["update"]}
    change = next(c for c in plan["resource_changes"] if c["address"] == ITEM.format("demo-tenant"))["change"]
    before, after = json.loads(change["before"]["item"]), json.loads(change["after"]["item"])
    assert before == hand_built.DEMO_RECORD
    assert after == {**hand_built.DEMO_RECORD, "kms_guard": {"BOOL": False}, "tags": after["tags"]}
    assert after["tags"]["M"]["CostCenter"] == {"S": "cc-100"}

    applied = project.terraform("apply", "-input=false", "plan.bin", check=False)
    dynamodb = adopted.aws.client("dynamodb", region=REGION)
    record = dynamodb.get_item(TableName="cci-lite-config", Key={"tenant_id": {"S": "demo-tenant"}})["Item"]
    if applied.returncode != 0:
        # Emulator gap: moto stores the boolean that UpdateItem's AttributeUpdates wrote as {"S": false},
        # and the provider fails to read that back. Everything else of the update was written.
        assert "expected StringAttributeValue to be of type string, got bool instead" in applied.stderr
        assert record["kms_guard"] == {"S": False}
        dynamodb.update_item(
            TableName="cci-lite-config",
            Key={"tenant_id": {"S": "demo-tenant"}},
            UpdateExpression="SET kms_guard = :guard",
            ExpressionAttributeValues={":guard": {"BOOL": False}},
        )
        record = dynamodb.get_item(TableName="cci-lite-config", Key={"tenant_id": {"S": "demo-tenant"}})["Item"]
    assert record == {**hand_built.DEMO_RECORD, "kms_guard": {"BOOL": False}, "tags": after["tags"]}

    project.terraform("plan", "-input=false", "-out=plan.bin")
    assert known_gaps_removed(json.loads(project.terraform("show", "-json", "plan.bin").stdout)) == {}


#: A record made by hand after the adoption, with every DynamoDB type: as boto3 writes it ...
ROGERS_WIRE: dict[str, Any] = {
    "tenant_id": {"S": "rogers"},
    "display_name": {"S": "Rogers"},
    "logo": {"B": b"\x89PNG\r\n\x1a\n\x00\xff"},
    "keys": {"BS": [b"\x00\x01", b"\xfe\xff"]},
    "archived": {"NULL": True},
    "shards": {"NS": ["1", "2.5"]},
    "features": {"SS": ["sentiment"]},
    "history": {"L": [{"M": {"at": {"S": "2025-11-06"}, "blob": {"B": b"\x01"}}}, {"N": "7"}]},
}
#: ... and as DynamoDB JSON, the discovery file and the provider hold it.
ROGERS_JSON: dict[str, Any] = {
    **ROGERS_WIRE,
    "logo": {"B": "iVBORw0KGgoA/w=="},
    "keys": {"BS": ["AAE=", "/v8="]},
    "history": {"L": [{"M": {"at": {"S": "2025-11-06"}, "blob": {"B": "AQ=="}}}, {"N": "7"}]},
}


def test_rediscovery_reads_state_and_leaves_a_record_made_by_hand_after_the_adoption_outside(
    adopted: Adopted,
) -> None:
    # The tester's repro: a record put in by hand after the adoption, for a tenant then added to tenants.json, was
    # "missing - created" at re-discovery, and every plan failed on it. acme, which Terraform created, stays its.
    project = adopted.project
    dynamodb = adopted.aws.client("dynamodb", region=REGION)
    dynamodb.put_item(TableName="cci-lite-config", Item=ROGERS_WIRE)
    tenants = json.loads((project.root / "tenants.json").read_text(encoding="utf-8"))
    tenants["tenants"].append({"tenant_id": "rogers", "display_name": "Rogers"})
    (project.root / "tenants.json").write_text(json.dumps(tenants, indent=2), encoding="utf-8")
    again = adopt(project)  # adopt_file is set: the same file
    assert again.returncode == 0, again.stderr
    document = json.loads((project.root / "adopt.json").read_text(encoding="utf-8"))
    assert document["tenant_records"]["rogers"] == {"terraform": "outside", "item": ROGERS_JSON}
    assert document["tenant_records"]["demo-tenant"]["terraform"] == "taken_over"
    assert "acme" not in document["tenant_records"] and document["other_records"] == []
    rows = {
        line.split()[0]: " ".join(line.split()[1:]) for line in again.stdout.splitlines() if "tenant_config[" in line
    }
    assert rows[ITEM.format("acme")] == "in state - in Terraform state: Terraform manages it"
    assert rows[ITEM.format("rogers")].startswith("found - record exists: stays outside Terraform, untouched")
    project.synth()
    project.terraform("plan", "-input=false", "-out=plan.bin")
    assert known_gaps_removed(json.loads(project.terraform("show", "-json", "plan.bin").stdout)) == {}


#: ``adopt`` that is killed (SIGKILL: no cleanup, no rollback) right after its first ``terraform state push``
#: returns, before it removes the pushed file and before it marks the discovery file.
KILLED_AFTER_PUSH = """
import os, signal, sys
from cci_tools import adopt, cli
original = adopt._terraform
def killing(args, *rest, **options):
    result = original(args, *rest, **options)
    if list(args[:2]) == ["state", "push"]:
        os.kill(os.getpid(), signal.SIGKILL)
    return result
adopt._terraform = killing
sys.exit(cli.run(adopt.main, sys.argv[1:], prog="adopt"))
"""


def test_take_over_killed_between_its_steps_is_finished_by_running_it_again(adopted: Adopted) -> None:
    # The tester's repro (SIGKILL mid-way) left a file and a state that disagreed, and only hand-editing got out.
    project = adopted.project
    stack_dir = project.root / "cdktf.out/stacks/cci-lite-production"
    killed = subprocess.run(
        [sys.executable, "-c", KILLED_AFTER_PUSH, "take-over", "rogers"],
        cwd=project.root,
        env=project.env,
        capture_output=True,
        text=True,
        timeout=600,
    )
    assert killed.returncode == -9, killed.stderr
    state = json.loads(project.terraform("state", "pull").stdout)
    items = next(r for r in state["resources"] if r["type"] == "aws_dynamodb_table_item")
    assert "rogers" in {i["index_key"] for i in items["instances"]}  # pushed ...
    document = json.loads((project.root / "adopt.json").read_text(encoding="utf-8"))
    assert document["tenant_records"]["rogers"]["terraform"] == "outside"  # ... and the file not yet marked
    left = sorted(p.name for p in stack_dir.glob("take-over.serial-*.tfstate"))
    assert len(left) == 1
    # Discovery says what happened instead of calling the record Terraform's.
    said = adopt(project)
    assert said.returncode == 0, said.stderr
    (row,) = [" ".join(line.split()) for line in said.stdout.splitlines() if ITEM.format("rogers") in line]
    assert row.endswith("a take-over that was interrupted; finish it: pipenv run adopt take-over rogers")

    finished = adopt(project, "take-over", "rogers")
    assert finished.returncode == 0, finished.stderr
    assert f"note: removed {os.path.relpath(stack_dir / left[0], project.root)}" in finished.stderr
    assert finished.stdout.splitlines()[0] == (
        f"{ITEM.format('rogers')}: taken over with 8 field(s) (finishing a take-over that was interrupted); the next "
        "apply adds kms_guard, tags (the product's own fields); every other field stays"
    )
    assert not list(stack_dir.glob("take-over.serial-*.tfstate")) and not (stack_dir / "take-over.plan").exists()
    document = json.loads((project.root / "adopt.json").read_text(encoding="utf-8"))
    # Every field, binary ones included, as the provider reads them back: take-over's plan found none changed.
    assert document["tenant_records"]["rogers"] == {"terraform": "taken_over", "item": ROGERS_JSON}
    again = adopt(project, "take-over", "rogers")
    assert again.returncode == 2
    assert again.stderr.splitlines() == [
        "error: take-over: 'rogers' is taken over already (adopt.json): Terraform manages it"
    ]


def test_adopted_stack_synthesized_without_its_discovery_file_cannot_be_planned(adopted: Adopted) -> None:
    # The tester's repro: adopt_file removed from cdktf.json (or set for one run only), then a plain synth.
    project = adopted.project
    project.context.pop("adopt_file")
    project.set_context({})
    project.synth()
    stack_dir = project.root / "cdktf.out/stacks/cci-lite-production"
    assert not (stack_dir / "adoption.tf.json").exists() and not (stack_dir / "imports.tf.json").exists()
    refused = project.terraform("plan", "-input=false", check=False)
    assert refused.returncode == 1
    assert "Error: Provider configuration not present" in refused.stderr
    assert "terraform_data.adoption (orphan)" in " ".join(refused.stderr.split())


def test_gate_fails_the_plan_that_strips_taken_over_records_data_loss(adopted: Adopted) -> None:
    # Past the marker (README: terraform state rm terraform_data.adoption, to retire adoption on purpose), the
    # plan rewrites each taken-over record with the product's fields alone: the gate must stop it.
    project = adopted.project
    project.terraform("state", "rm", "terraform_data.adoption")
    project.terraform("plan", "-input=false", "-out=plan.bin")
    (project.root / "plan.json").write_text(project.terraform("show", "-json", "plan.bin").stdout, encoding="utf-8")
    gated = audit(project)
    assert gated.returncode == 3
    (line,) = [line for line in gated.stderr.splitlines() if "deletes data in tenant records" in line]
    assert (
        f"{ITEM.format('demo-tenant')} (removes fields contacts, created_at, features, input_prefix, results_prefix, "
        "retention_days, status)"
    ) in line
    assert f"{ITEM.format('rogers')} (removes fields archived, features, history, keys, logo, shards)" in line
    report = (project.root / REVIEW).read_text(encoding="utf-8")
    assert "> **This plan deletes data in tenant records:**" in report


# --- refusals ---------------------------------------------------------------------------------


@pytest.fixture(scope="module")
def admin_project(hand_emulator: emulator.Emulator, tmp_path_factory: pytest.TempPathFactory) -> Project:
    """Settings that name the admin role, and no state: a first discovery is allowed."""
    return project_with(tmp_path_factory.mktemp("admin"), hand_emulator, {"key_admin_role_arns": [ADMIN]})


@pytest.fixture(scope="module")
def plain_project(hand_emulator: emulator.Emulator, tmp_path_factory: pytest.TempPathFactory) -> Project:
    """The shipped settings: no key administrator."""
    return project_with(tmp_path_factory.mktemp("plain"), hand_emulator, {})


def refused(result: subprocess.CompletedProcess[str]) -> list[str]:
    assert result.returncode == 2, result.stdout + result.stderr
    assert "Traceback" not in result.stderr and result.stdout == ""
    return result.stderr.splitlines()


def test_refuses_a_table_with_another_hash_key(hand_emulator: emulator.Emulator, admin_project: Project) -> None:
    region = "eu-west-2"
    hand_built.build(client_of(hand_emulator, region), account=ACCOUNT, region=region, hash_key="id", objects=False)
    result = adopt(admin_project, "--out", "west-2.json", CCI_REGION=region)
    assert refused(result) == [
        "error: adopt: aws_dynamodb_table.tenant_config: the existing table cci-lite-config has hash key 'id' of "
        "type 'S', but the stack's table has hash key 'tenant_id' of type 'S', and Terraform replaces a table to "
        "change that: every tenant record would be lost; this stack cannot adopt it; do not apply it in this "
        'account (README, "Adopting an existing foundation")'
    ]
    assert not (admin_project.root / "west-2.json").exists()


def test_refuses_a_multi_region_key(hand_emulator: emulator.Emulator, admin_project: Project) -> None:
    region = "eu-west-1"
    built = hand_built.build(
        client_of(hand_emulator, region), account=ACCOUNT, region=region, multi_region=True, objects=False
    )
    assert built.key_id.startswith("mrk-")
    result = adopt(admin_project, "--out", "west-1.json", CCI_REGION=region)
    assert refused(result) == [
        f"error: adopt: aws_kms_key.master: the existing key {built.key_id} (alias/cci-lite-master-key) has "
        "multi-Region setting (multi_region) true, but the stack's key has false, and Terraform replaces a key to "
        "change that: every object encrypted under the existing key would become unreadable; this stack cannot "
        'adopt it; do not apply it in this account (README, "Adopting an existing foundation")'
    ]


def test_refuses_an_admin_principal_the_settings_drop_until_its_removal_is_accepted(
    adopted: Adopted, plain_project: Project
) -> None:
    result = adopt(plain_project, "--out", "plain.json")
    assert refused(result) == [
        f'error: adopt: aws_kms_key.master: the live key policy allows {ADMIN} (statement "AllowKeyAdministration"), '
        "and the generated key policy would drop it, so it would lose its access to the key; to keep it as a key "
        "administrator, add it to key_admin_role_arns in cdktf.json; if it needs no access to the key, accept its "
        f"removal: pipenv run adopt --out plain.json --accept-principal-removal '{ADMIN}'"
    ]
    accepted = adopt(plain_project, "--out", "plain.json", "--accept-principal-removal", ADMIN)
    assert accepted.returncode == 0, accepted.stderr
    document = json.loads((plain_project.root / "plain.json").read_text(encoding="utf-8"))
    assert document["accepted_principal_removals"] == [ADMIN]
    synthesized = plain_project.synth(CCI_ADOPT_FILE="plain.json")
    # After the adoption every object exists, and so does every record (none in this copy's state).
    assert "cci-lite-production: 25 import block(s) from plain.json" in synthesized.stdout
    assert "pipenv run adopt take-over acme demo-tenant" in synthesized.stderr


def test_refuses_credentials_for_another_account(plain_project: Project) -> None:
    result = adopt(plain_project, "--out", "other.json", CCI_ACCOUNT_ID="111122223333")
    assert refused(result) == [
        f"error: adopt: the AWS credentials are for account {ACCOUNT} (arn:aws:sts::{ACCOUNT}:user/moto), but stack "
        "cci-lite-production is for account 111122223333; discovery reads only the account the stack deploys to: "
        "use credentials for account 111122223333"
    ]
