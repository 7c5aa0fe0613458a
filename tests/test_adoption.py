"""Adopting the foundation that already runs: the discovery file, its refusals, and what the synth writes.

Discovery runs here against moto in process (``mock_aws``), on the foundation built by
hand as the design record says (tests/e2e/hand_built.py): fast, and the same reads as
against AWS. The end-to-end proof on the emulator server, with Terraform, is
tests/e2e/test_adopt.py.
"""

from __future__ import annotations

import dataclasses
import hashlib
import json
import os
import shutil
import subprocess
import sys
from collections.abc import Callable, Iterator
from pathlib import Path
from typing import Any

import boto3
import pytest
from moto import mock_aws

from cci_tools import terraform
from cci_tools.adopt import (
    Refused,
    _connect,
    accepted_problems,
    clean_temporary,
    discover,
    product_overwrites,
    read_state,
    render_table,
    run_discovery,
)
from cci_tools.audit import DESTROY_CONSEQUENCES, destroys, read_stack, render_changes
from cci_tools.live import LiveAccount
from constructs_lib import adoption as adopt
from constructs_lib import tenant_file
from constructs_lib.adoption import Adoption, TenantRecord
from constructs_lib.config import Settings, Tenant
from constructs_lib.errors import ConfigError
from constructs_lib.output import output_files
from tests.e2e import hand_built
from tests.helpers import PROJECT_DIR, copy_project, require_tool, seed_settings

ACCOUNT, REGION = "591338347562", "eu-central-1"
ADMIN = f"arn:aws:iam::{ACCOUNT}:role/{hand_built.ADMIN_ROLE_NAME}"
TENANTS = (
    Tenant(tenant_id="acme", display_name="Acme Corp"),
    Tenant(tenant_id="demo-tenant", display_name="Demo Tenant", tags={"CostCenter": "cc-100"}),
)
COMMAND = "pipenv run adopt --out adopt.json"


def admin_settings(**changes: Any) -> Settings:
    return dataclasses.replace(seed_settings(), key_admin_role_arns=(ADMIN,), **changes)


@pytest.fixture(scope="module")
def aws() -> Iterator[Callable[..., Any]]:
    """moto in process for the module, account 591338347562; the standard credential chain sees only fake keys.

    Yields ``client(service, region=REGION)``. Tests that change what the account holds
    build their own foundation in a region of their own (``fresh``).
    """
    with pytest.MonkeyPatch.context() as patch:
        for name in list(os.environ):
            if name.startswith("AWS_"):
                patch.delenv(name)
        for name, value in {
            "AWS_ACCESS_KEY_ID": "testing",
            "AWS_SECRET_ACCESS_KEY": "testing",
            "AWS_DEFAULT_REGION": REGION,
            "AWS_CONFIG_FILE": "/nonexistent",
            "AWS_SHARED_CREDENTIALS_FILE": "/nonexistent",
            "MOTO_ACCOUNT_ID": ACCOUNT,
        }.items():
            patch.setenv(name, value)
        with mock_aws():
            yield lambda service, region=REGION: boto3.client(service, region_name=region)


@pytest.fixture(scope="module")
def built(aws: Callable[..., Any]) -> hand_built.HandBuilt:
    return hand_built.build(aws, account=ACCOUNT, region=REGION, objects=False)


@pytest.fixture(scope="module")
def found(built: hand_built.HandBuilt) -> Adoption:
    """The hand-built foundation, discovered with settings that name its admin role."""
    live = LiveAccount.connect(region=REGION, account_id=ACCOUNT)
    return discover(live, admin_settings(), TENANTS)


def fresh(aws: Callable[..., Any], region: str) -> tuple[Settings, Callable[[str], Any]]:
    """The hand-built foundation in ``region``, for a test that changes it; its settings and clients."""
    client = lambda service: aws(service, region)  # noqa: E731
    hand_built.build(client, account=ACCOUNT, region=region, objects=False)
    return admin_settings(region=region), client


def with_facts(adoption: Adoption, address: str, **facts: Any) -> Adoption:
    entry = adoption.resources[address]
    resources = {**adoption.resources, address: dataclasses.replace(entry, facts={**entry.facts, **facts})}
    return dataclasses.replace(adoption, resources=resources)


# --- addresses and import ids --------------------------------------------------------------


def test_stack_addresses_are_every_importable_address_of_the_stack(resources: dict[str, dict[str, Any]]) -> None:
    synthesized = sorted(f"{t}.{n}" for t, by_name in resources.items() for n in by_name)
    importable = [a for a in synthesized if a != "aws_dynamodb_table_item.tenant_config"]
    assert [spec.address for spec in adopt.stack_addresses(seed_settings())] == importable


def test_import_ids_are_those_the_provider_takes() -> None:
    ids = {spec.address: spec.import_id for spec in adopt.stack_addresses(seed_settings())}
    bucket = f"cci-lite-input-{ACCOUNT}-{REGION}"
    assert ids["aws_kms_key.master"] is None  # the key id, known only to discovery
    assert ids["aws_kms_alias.master"] == "alias/cci-lite-master-key"
    assert ids["aws_dynamodb_table.tenant_config"] == "cci-lite-config"
    assert ids["aws_s3_bucket.input"] == bucket
    # expected_bucket_owner is set on these three: imported by name alone, Terraform would replace them.
    for rtype in adopt.OWNER_QUALIFIED:
        assert ids[f"{rtype}.input"] == f"{bucket},{ACCOUNT}"
    for rtype in (*adopt.BY_BUCKET, "aws_s3_bucket_notification"):
        assert ids[f"{rtype}.input"] == bucket


# --- discovery --------------------------------------------------------------------------


def test_discovery_of_the_hand_built_foundation_finds_all_but_what_was_never_made(
    found: Adoption, built: hand_built.HandBuilt
) -> None:
    missing = sorted(a for a, e in found.resources.items() if not e.found)
    assert missing == [
        "aws_s3_bucket_lifecycle_configuration.athena_staging",
        "aws_s3_bucket_policy.athena_staging",
        "aws_s3_bucket_policy.input",
        "aws_s3_bucket_policy.results",
    ]
    assert found.resources["aws_kms_key.master"].import_id == built.key_id
    assert len(found.imports()) == 21
    assert found.tenant_records == {"demo-tenant": TenantRecord(terraform="outside", item=hand_built.DEMO_RECORD)}
    assert found.other_records == ()
    assert adopt.refusals(found, admin_settings(), command=COMMAND) == []


def test_discovery_file_is_deterministic_sorted_and_without_a_time(
    found: Adoption, built: hand_built.HandBuilt
) -> None:
    live = LiveAccount.connect(region=REGION, account_id=ACCOUNT)
    again = discover(live, admin_settings(), tuple(reversed(TENANTS)))
    text = adopt.render_adoption(found)
    assert adopt.render_adoption(again) == text
    document = json.loads(text)
    assert text == json.dumps(document, indent=2, sort_keys=True, ensure_ascii=False) + "\n"
    assert "2025-11-06T09:30:00Z" in text  # the record's own field; no other time
    assert "CreationDate" not in text and "creation" not in text.lower()


def test_discovery_file_round_trips(found: Adoption) -> None:
    parsed = adopt.parse_adoption(json.loads(adopt.render_adoption(found)), "adopt.json")
    assert parsed == dataclasses.replace(found, source="adopt.json")


def test_discovery_table_says_what_the_first_plan_changes(found: Adoption) -> None:
    table = render_table(found, TENANTS)
    lines = {line.split()[0]: line for line in table.splitlines() if line and not line.startswith(" ")}
    assert "ADDS noncurrent-version expiry: old versions become deletable after 1 day" in table
    assert "found    cci-lite-config" in lines["aws_dynamodb_table.tenant_config"]
    assert lines["aws_s3_bucket_policy.input"].split()[1:3] == ["missing", "-"]
    assert "created: TLS only, and principals tagged tenant_id kept to their own prefix" in table
    assert "bucket key off -> on" in table and "point-in-time recovery off -> on" in table
    assert "deletion protection off -> on" in table and "encryption AWS owned key -> the foundation key" in table
    assert (
        "key policy drops service principals glue.amazonaws.com, lambda.amazonaws.com, quicksight.amazonaws.com, "
        "transcribe.amazonaws.com (by design: AUDIT.md)"
    ) in table
    assert (
        'aws_dynamodb_table_item.tenant_config["demo-tenant"]' in table
        and "record exists: stays outside Terraform, untouched (not importable); after the adoption is applied: "
        "pipenv run adopt take-over demo-tenant"
        in table
    )
    assert lines['aws_dynamodb_table_item.tenant_config["acme"]'].endswith("created")


def lifecycle_facts(*rules: tuple[str, int | None, int | None, bool, int | None]) -> dict[str, Any]:
    keys = ("id", "expiration_days", "noncurrent_days", "expired_object_delete_marker", "abort_days")
    return {"rules": [{"status": "Enabled", **dict(zip(keys, rule, strict=True))} for rule in rules]}


#: The results bucket's lifecycle as the stack writes it (noncurrent_version_expiration_days 1).
STACK_RESULTS_RULES = (
    ("abort-incomplete-multipart-uploads", None, None, False, 7),
    ("expire-current-versions", 30, None, False, None),
    ("expire-noncurrent-versions", None, 1, True, None),
)


def test_discovery_says_a_shortened_noncurrent_expiry_makes_old_versions_deletable_sooner() -> None:
    rules = (STACK_RESULTS_RULES[0], STACK_RESULTS_RULES[1], ("expire-noncurrent-versions", None, 90, True, None))
    lines = adopt.first_plan(
        "aws_s3_bucket_lifecycle_configuration.results", True, lifecycle_facts(*rules), seed_settings(), TENANTS
    )
    assert lines == (
        "SHORTENS noncurrent-version expiry: old versions become deletable after 1 day instead of 90 days",
        "rules abort-incomplete-multipart-uploads, expire-current-versions, expire-noncurrent-versions replaced by "
        "the stack's",
    )


def test_rediscovery_says_no_change_when_the_lifecycle_is_the_stacks_own_wording() -> None:
    lines = adopt.first_plan(
        "aws_s3_bucket_lifecycle_configuration.results",
        True,
        lifecycle_facts(*STACK_RESULTS_RULES),
        seed_settings(),
        TENANTS,
    )
    assert lines == ("no change",)


def test_rediscovery_says_no_change_when_the_policies_are_the_stacks_own_wording(found: Adoption) -> None:
    from constructs_lib.policies import bucket_policy, key_policy

    settings = admin_settings()
    key = adopt.policy_facts(key_policy(settings, TENANTS))
    facts = {**found.facts("aws_kms_key.master"), **key}
    lines = adopt.first_plan("aws_kms_key.master", True, facts, settings, TENANTS)
    assert not [line for line in lines if line.startswith("key policy replaced")], lines
    bucket = {"statement_ids": [], "grants": {}, **adopt.policy_facts(bucket_policy(settings, "input"))}
    assert adopt.first_plan("aws_s3_bucket_policy.input", True, bucket, settings, TENANTS) == ("no change",)


def test_discovery_names_the_key_policy_statements_it_replaces_wording(found: Adoption) -> None:
    lines = found.resources["aws_kms_key.master"].first_plan
    (line,) = [line for line in lines if line.startswith("key policy replaced")]
    assert line.startswith(
        'key policy replaced in place: removes statements "Allow access for Key Administrators", "Allow use of the '
        'key by AWS services", "Enable IAM User Permissions"; adds "AllowEventBridgeDescribeKey", '
    )


def test_rediscovery_classifies_records_by_terraform_state_not_by_the_previous_file(aws: Callable[..., Any]) -> None:
    settings, client = fresh(aws, "eu-west-1")
    live = LiveAccount.connect(region="eu-west-1", account_id=ACCOUNT)
    tenants = (*TENANTS, Tenant(tenant_id="globex", display_name="Globex"))
    first = discover(live, settings, TENANTS)
    taken = {"demo-tenant": TenantRecord(terraform="taken_over", item={**hand_built.DEMO_RECORD, "old": {"S": "x"}})}
    previous = dataclasses.replace(
        first, tenant_records=taken, other_records=("acme",), accepted_principal_removals=("arn:x",)
    )
    table = client("dynamodb")
    # acme: created by Terraform (in state), though the previous file listed it among records of other tenants.
    table.put_item(TableName="cci-lite-config", Item={"tenant_id": {"S": "acme"}, "display_name": {"S": "A"}})
    # globex: made by hand after the adoption, for a tenant added to the tenants file since (not in state).
    table.put_item(TableName="cci-lite-config", Item={"tenant_id": {"S": "globex"}, "status": {"S": "trial"}})
    again = discover(live, settings, tenants, previous=previous, in_state={"acme", "demo-tenant"})
    # Taken over and in state: stays taken over, with the fields it was taken over with.
    assert again.tenant_records["demo-tenant"] == taken["demo-tenant"]
    assert "acme" not in again.tenant_records and again.other_records == ()  # Terraform's
    assert again.tenant_records["globex"] == TenantRecord(
        terraform="outside", item={"tenant_id": {"S": "globex"}, "status": {"S": "trial"}}
    )
    assert again.accepted_principal_removals == ("arn:x",)
    # Marked taken over, but not in state (a take-over that never reached the state): the record is untouched
    # outside Terraform, with the fields it has now.
    lost = discover(live, settings, tenants, previous=previous, in_state={"acme"})
    assert lost.tenant_records["demo-tenant"] == TenantRecord(terraform="outside", item=hand_built.DEMO_RECORD)
    # A record of a tenant that left the tenants file but is still in state is Terraform's to delete, not
    # "left alone".
    assert discover(live, settings, TENANTS[1:], previous=previous, in_state={"acme"}).other_records == ("globex",)


def test_first_discovery_takes_every_existing_record_of_the_tenants_file_as_outside(aws: Callable[..., Any]) -> None:
    settings, client = fresh(aws, "eu-west-2")
    client("dynamodb").put_item(TableName="cci-lite-config", Item={"tenant_id": {"S": "acme"}})
    client("dynamodb").put_item(TableName="cci-lite-config", Item={"tenant_id": {"S": "initech"}})
    live = LiveAccount.connect(region="eu-west-2", account_id=ACCOUNT)
    adoption = discover(live, settings, TENANTS)
    assert sorted(adoption.tenant_records) == ["acme", "demo-tenant"]
    assert adoption.other_records == ("initech",)
    assert "Records of tenants not in the tenants file, left alone: initech" in render_table(adoption, TENANTS)


#: A hand-made record with every DynamoDB type, binary ones included, as boto3 writes it (bytes) ...
EVERY_TYPE_WIRE: dict[str, Any] = {
    "tenant_id": {"S": "demo-tenant"},
    "display_name": {"S": "Demo Tenant"},
    "logo": {"B": b"\x89PNG\r\n\x1a\n\x00\xff"},
    "keys": {"BS": [b"\x00\x01", b"\xfe\xff"]},
    "archived": {"NULL": True},
    "legacy": {"BOOL": False},
    "shards": {"NS": ["1", "2.5"]},
    "features": {"SS": ["sentiment"]},
    "history": {"L": [{"M": {"at": {"S": "2025-11-06"}, "blob": {"B": b"\x01"}}}, {"N": "7"}]},
}
#: ... and as DynamoDB JSON holds it, which is what the provider reads and writes (B and BS in base64).
EVERY_TYPE_JSON: dict[str, Any] = {
    **EVERY_TYPE_WIRE,
    "logo": {"B": "iVBORw0KGgoA/w=="},
    "keys": {"BS": ["AAE=", "/v8="]},
    "history": {"L": [{"M": {"at": {"S": "2025-11-06"}, "blob": {"B": "AQ=="}}}, {"N": "7"}]},
}


def test_binary_attributes_round_trip_through_discovery_and_take_over(aws: Callable[..., Any]) -> None:
    # The tester's repro: a B field in a record of a tenant in the tenants file stopped discovery
    # ("Object of type bytes is not JSON serializable").
    settings, client = fresh(aws, "eu-north-1")
    client("dynamodb").put_item(TableName="cci-lite-config", Item=EVERY_TYPE_WIRE)
    live = LiveAccount.connect(region="eu-north-1", account_id=ACCOUNT)
    adoption = discover(live, settings, TENANTS)
    assert adoption.tenant_records["demo-tenant"].item == EVERY_TYPE_JSON
    text = adopt.render_adoption(adoption)
    parsed = adopt.parse_adoption(json.loads(text), "adopt.json")
    assert parsed.tenant_records["demo-tenant"].item == EVERY_TYPE_JSON
    # Taken over, the synth renders every field back exactly as the record holds it.
    taken = dataclasses.replace(
        parsed, tenant_records={"demo-tenant": TenantRecord(terraform="taken_over", item=EVERY_TYPE_JSON)}
    )
    partition = adopt.partition_tenants(taken, TENANTS)
    rendered = json.loads(tenant_file.render(settings, TENANTS, extra_fields=partition.extra_fields))
    record = json.loads(rendered["locals"]["tenant_config_items"]["demo-tenant"])
    assert {k: v for k, v in record.items() if k not in adopt.MANAGED_FIELDS} == {
        k: v for k, v in EVERY_TYPE_JSON.items() if k not in adopt.MANAGED_FIELDS
    }
    assert adopt.item_json(EVERY_TYPE_WIRE) == EVERY_TYPE_JSON


def test_refuses_a_binary_attribute_that_is_not_base64_in_the_discovery_file() -> None:
    problems = adopt.item_json_problems({"tenant_id": {"S": "x"}, "logo": {"B": "not base64!"}}, "item")
    assert problems == ["item.logo.B must be base64 (as DynamoDB JSON writes binary), got 'not base64!'"]


def test_refuses_credentials_for_another_account(built: hand_built.HandBuilt) -> None:
    with pytest.raises(Refused) as refused:
        _connect(dataclasses.replace(admin_settings(), account_id="111122223333"))
    (line,) = refused.value.problems
    assert line.startswith("adopt: the AWS credentials are for account 591338347562 (arn:aws:")
    assert line.endswith(
        "but stack cci-lite-production is for account 111122223333; discovery reads only the account the stack "
        "deploys to: use credentials for account 111122223333"
    )


def test_refuses_a_first_discovery_of_a_stack_that_has_state(tmp_path: Path) -> None:
    (tmp_path / "terraform.cci-lite-production.tfstate").write_text(
        json.dumps({"version": 4, "resources": [{"mode": "managed", "type": "aws_kms_key", "name": "master"}]})
    )
    environ = {**os.environ, "CDKTF_OUTDIR": str(tmp_path / "cdktf.out")}
    with pytest.raises(Refused) as refused:
        run_discovery(tmp_path / "new.json", [], environ)
    (line,) = refused.value.problems
    assert line.startswith("adopt: stack cci-lite-production already has Terraform state (state in ") and line.endswith(
        "(1 resource)) and "
        f"{tmp_path / 'new.json'} does not exist; a first discovery would take the tenant records Terraform created "
        "for records made by hand and leave them out of the stack, so the next plan would delete them: run "
        "discovery with --out on the discovery file the stack was adopted with (its adopt_file)"
    )


def write_state(path: Path, *tenants: str) -> None:
    """A Terraform state (v4) with the table and one tenant record instance per tenant."""
    provider = 'provider["registry.terraform.io/hashicorp/aws"]'  # Terraform drops a resource without one
    instances = [{"index_key": t, "schema_version": 0, "attributes": {"id": t}} for t in tenants]
    resources = [
        {"mode": "managed", "type": "aws_dynamodb_table", "name": "tenant_config", "provider": provider}
        | {"instances": [{"schema_version": 0, "attributes": {"id": "cci-lite-config"}}]},
        {"mode": "managed", "type": "aws_dynamodb_table_item", "name": "tenant_config", "provider": provider}
        | {"instances": instances},
    ]
    document = {"version": 4, "serial": 3, "lineage": "l-1", "terraform_version": "1.11.0", "resources": resources}
    path.write_text(json.dumps(document), encoding="utf-8")


def test_rediscovery_reads_the_records_in_state_with_terraform(tmp_path: Path) -> None:
    require_tool("terraform", terraform.terraform_binary())
    stack_dir = tmp_path / "stack"
    stack_dir.mkdir()
    # A backend somewhere else than the settings say (terraform init -backend-config=path=...): what counts is
    # the state the directory was initialized with.
    (stack_dir / "main.tf.json").write_text(json.dumps({"terraform": {"backend": {"local": {}}}}), encoding="utf-8")
    write_state(tmp_path / "elsewhere.tfstate", "acme", "demo-tenant")
    env = terraform.terraform_env(terraform.write_cli_config(tmp_path))
    terraform.run(
        ["init", "-input=false", "-no-color", f"-backend-config=path={tmp_path / 'elsewhere.tfstate'}"],
        cwd=stack_dir,
        env=env,
    )
    view = read_state(stack_dir, environ=env)
    assert (view.resources, sorted(view.records)) == (2, ["acme", "demo-tenant"])


def test_refuses_rediscovery_while_the_state_cannot_be_read_uninitialized(found: Adoption, tmp_path: Path) -> None:
    adopt_file = tmp_path / "adopt.json"
    adopt_file.write_text(adopt.render_adoption(found), encoding="utf-8")
    write_state(tmp_path / "terraform.cci-lite-production.tfstate", "acme")
    environ = {**os.environ, "CDKTF_OUTDIR": str(tmp_path / "cdktf.out"), "CCI_ADOPT_FILE": str(adopt_file)}
    with pytest.raises(Refused) as refused:
        run_discovery(adopt_file, [], environ)
    stack_dir = tmp_path / "cdktf.out" / "stacks" / "cci-lite-production"
    (line,) = refused.value.problems
    assert line == (
        f"adopt: stack cci-lite-production has Terraform state (state in "
        f"{tmp_path / 'terraform.cci-lite-production.tfstate'} (2 resources)), and discovery reads it to tell the "
        f"tenant records Terraform manages from those made by hand, but {stack_dir} is not initialized: run pipenv "
        f"run synth, then terraform -chdir={stack_dir} init, then discovery again"
    )


def test_refuses_rediscovery_of_a_remote_state_it_cannot_see_uninitialized(found: Adoption, tmp_path: Path) -> None:
    adopt_file = tmp_path / "adopt.json"
    adopt_file.write_text(adopt.render_adoption(found), encoding="utf-8")
    backend = json.dumps(
        {
            "type": "s3",
            "bucket": "cci-lite-tfstate",
            "region": "eu-central-1",
            "kms_key_id": f"arn:aws:kms:{REGION}:{ACCOUNT}:key/1234abcd-12ab-34cd-56ef-1234567890ab",
        }
    )
    environ = {**os.environ, "CDKTF_OUTDIR": str(tmp_path / "cdktf.out"), "CCI_BACKEND": backend}
    with pytest.raises(Refused) as refused:
        run_discovery(adopt_file, [], environ)
    stack_dir = tmp_path / "cdktf.out" / "stacks" / "cci-lite-production"
    (line,) = refused.value.problems
    assert line == (
        "adopt: stack cci-lite-production keeps its state in "
        "s3://cci-lite-tfstate/cci-lite-production/terraform.tfstate, which discovery reads to tell the tenant "
        f"records Terraform manages from those made by hand, but {stack_dir} is not initialized: run pipenv run "
        f"synth, then terraform -chdir={stack_dir} init, then discovery again"
    )


def test_refuses_an_accepted_removal_of_a_principal_the_policy_does_not_drop(found: Adoption) -> None:
    assert accepted_problems(found, admin_settings(), ["arn:aws:iam::591338347562:role/typo"]) == [
        "--accept-principal-removal 'arn:aws:iam::591338347562:role/typo': neither the live key policy nor a live "
        "bucket policy allows such a principal that the stack's policies would drop or change (they would drop or "
        "change: none); check the spelling"
    ]


# --- refusals ------------------------------------------------------------------------------


@pytest.mark.parametrize(
    ("fact", "value", "shown"),
    [
        (
            "key_spec",
            "RSA_2048",
            'key spec (customer_master_key_spec) "RSA_2048", but the stack\'s key has "SYMMETRIC_DEFAULT"',
        ),
        ("key_usage", "SIGN_VERIFY", 'key usage (key_usage) "SIGN_VERIFY", but the stack\'s key has "ENCRYPT_DECRYPT"'),
        ("multi_region", True, "multi-Region setting (multi_region) true, but the stack's key has false"),
        (
            "custom_key_store_id",
            "cks-1",
            'custom key store (custom_key_store_id) "cks-1", but the stack\'s key has null',
        ),
    ],
)
def test_refuses_a_key_whose_replacement_the_stack_would_force(
    found: Adoption, fact: str, value: Any, shown: str
) -> None:
    key_id = found.resources["aws_kms_key.master"].import_id
    changed = with_facts(found, "aws_kms_key.master", **{fact: value})
    assert adopt.refusals(changed, admin_settings(), command=COMMAND) == [
        f"adopt: aws_kms_key.master: the existing key {key_id} (alias/cci-lite-master-key) has {shown}, and "
        "Terraform replaces a key to change that: every object encrypted under the existing key would become "
        'unreadable; this stack cannot adopt it; do not apply it in this account (README, "Adopting an existing '
        'foundation")'
    ]


def test_refuses_a_key_terraform_cannot_manage(found: Adoption) -> None:
    changed = with_facts(found, "aws_kms_key.master", origin="EXTERNAL", key_manager="AWS")
    problems = adopt.refusals(changed, admin_settings(), command=COMMAND)
    assert len(problems) == 2
    assert "is managed by AWS, got key_manager 'AWS'; Terraform manages customer managed keys only" in problems[0]
    assert "has origin 'EXTERNAL', but aws_kms_key manages only keys whose material KMS made" in problems[1]


def test_refuses_a_key_that_is_disabled_or_pending_deletion(found: Adoption) -> None:
    key_id = found.resources["aws_kms_key.master"].import_id
    pending = with_facts(found, "aws_kms_key.master", key_state="PendingDeletion", deletion_date="2025-12-06")
    (line,) = adopt.refusals(pending, admin_settings(), command=COMMAND)
    assert line.endswith(
        f"is pending deletion (on 2025-12-06); cancel the deletion first (aws kms cancel-key-deletion --key-id "
        f"{key_id}, then aws kms enable-key), then run discovery again: {COMMAND}"
    )
    disabled = with_facts(found, "aws_kms_key.master", key_state="Disabled")
    (line,) = adopt.refusals(disabled, admin_settings(), command=COMMAND)
    assert "is disabled, and the stack's key is enabled, so the apply would enable it" in line


@pytest.mark.parametrize(
    ("facts", "shown"),
    [
        (
            {"hash_key": "id"},
            "has hash key 'id' of type 'S', but the stack's table has hash key 'tenant_id' of type 'S'",
        ),
        ({"hash_key_type": "N"}, "has hash key 'tenant_id' of type 'N', but the stack's table has hash key"),
        ({"range_key": "created_at"}, "has range key 'created_at', and the stack's table has none"),
        ({"local_secondary_indexes": ["by_status"]}, "has local secondary indexes (by_status), and the stack's"),
    ],
)
def test_refuses_a_table_whose_replacement_the_stack_would_force(
    found: Adoption, facts: dict[str, Any], shown: str
) -> None:
    changed = with_facts(found, "aws_dynamodb_table.tenant_config", **facts)
    (line,) = adopt.refusals(changed, admin_settings(), command=COMMAND)
    assert line.startswith(f"adopt: aws_dynamodb_table.tenant_config: the existing table cci-lite-config {shown}")
    assert "Terraform replaces a table to change that: every tenant record would be lost" in line


def test_refuses_a_table_whose_replicas_the_apply_would_delete(found: Adoption) -> None:
    changed = with_facts(found, "aws_dynamodb_table.tenant_config", replicas=["eu-west-1"])
    (line,) = adopt.refusals(changed, admin_settings(), command=COMMAND)
    assert "has replicas in eu-west-1, and the stack's table has none, so the apply would delete the replica" in line


def test_refuses_a_key_policy_principal_the_settings_drop(found: Adoption) -> None:
    settings = seed_settings()  # key_admin_role_arns: [] (the shipped settings)
    (line,) = adopt.refusals(found, settings, command=COMMAND)
    assert line.startswith(f'adopt: aws_kms_key.master: the live key policy allows {ADMIN} (statement "Allow')
    accepted = dataclasses.replace(found, accepted_principal_removals=(ADMIN,))
    assert adopt.refusals(accepted, settings, command=COMMAND) == []


def test_refuses_an_administrator_whose_grant_the_stack_narrows(found: Adoption) -> None:
    key = found.facts("aws_kms_key.master")
    assert key["policy_actions"][ADMIN] == sorted(hand_built.key_policy(ACCOUNT, ADMIN)["Statement"][1]["Action"])
    wider = {**key["policy_actions"], ADMIN: [*key["policy_actions"][ADMIN], "kms:Decrypt", "kms:GenerateDataKey*"]}
    changed = with_facts(found, "aws_kms_key.master", policy_actions=wider)
    assert adopt.refusals(changed, admin_settings(), command=COMMAND) == [
        f"adopt: aws_kms_key.master: the live key policy allows {ADMIN} kms:Decrypt, kms:GenerateDataKey*, and the "
        "generated key policy allows a key administrator only the administrative actions, so it would lose those; "
        "if it needs them, grant them in an IAM policy (the key policy's root statement lets IAM grant use of the "
        f"key), then accept the narrowing: {COMMAND} --accept-principal-removal '{ADMIN}'"
    ]
    accepted = dataclasses.replace(changed, accepted_principal_removals=(ADMIN,))
    assert adopt.refusals(accepted, admin_settings(), command=COMMAND) == []
    assert f"key policy narrows {ADMIN}: loses kms:Decrypt, kms:GenerateDataKey* (accepted)" in adopt.first_plan(
        "aws_kms_key.master", True, {**key, "policy_actions": wider}, admin_settings(), TENANTS
    )


@pytest.mark.parametrize(
    ("principal", "remedy"),
    [
        (
            "arn:aws:iam::591338347562:user/alice",
            "key_admin_role_arns takes only roles: to keep its access, grant its live actions (kms:Decrypt) in an "
            "IAM policy of the principal (the key policy's root statement lets IAM grant use of the key), then "
            "accept its removal from the key policy",
        ),
        (
            "arn:aws:iam::111122223333:root",
            "it is of account 111122223333, and only a key policy can give a principal of another account access "
            "to this key, which the generated key policy gives to no principal outside account 591338347562: if it "
            'needs the key, do not apply this stack in this account (README, "Adopting an existing foundation"); if '
            "it needs no access, accept its removal",
        ),
        (
            "*",
            "a grant to every principal ('*') only a key policy can make, and the generated key policy makes none: "
            "grant what principals of account 591338347562 need in IAM (the key policy's root statement lets IAM "
            "grant use of the key); a principal of another account loses its access; then accept its removal",
        ),
    ],
)
def test_refuses_a_principal_the_stack_cannot_name_with_the_remedy_that_fits(
    found: Adoption, principal: str, remedy: str
) -> None:
    (line,) = adopt.refusals(with_grant(found, principal, ["kms:Decrypt"]), admin_settings(), command=COMMAND)
    assert f'the live key policy allows {principal} (statement "Extra")' in line
    assert f"; {remedy}: {COMMAND} --accept-principal-removal '{principal}'" in line


PIPELINE = f"arn:aws:iam::{ACCOUNT}:role/cci-lite-lambda-role"
USE = ["kms:Decrypt", "kms:Encrypt", "kms:GenerateDataKey"]


def with_grant(found: Adoption, principal: str, actions: list[str]) -> Adoption:
    """``found`` whose live key policy also allows ``principal`` ``actions`` (statement "Extra")."""
    key = found.facts("aws_kms_key.master")
    aws = {**key["policy_principals"]["AWS"], principal: ["Extra"]}
    return with_facts(
        found,
        "aws_kms_key.master",
        policy_principals={**key["policy_principals"], "AWS": aws},
        policy_actions={**key["policy_actions"], principal: actions},
    )


def test_refuses_a_dropped_key_user_with_the_iam_remedy_never_key_admin_role_arns_escalation(found: Adoption) -> None:
    # The tester's repro: the pipeline role may only use the key. Told to add it to key_admin_role_arns, the user
    # gave it kms:ScheduleKeyDeletion, Put*, Disable* and took its decrypt access away.
    (line,) = adopt.refusals(with_grant(found, PIPELINE, USE), admin_settings(), command=COMMAND)
    assert line == (
        f'adopt: aws_kms_key.master: the live key policy allows {PIPELINE} (statement "Extra"), and the generated '
        "key policy would drop it, so it would lose its access to the key; its live grant (kms:Decrypt, "
        "kms:Encrypt, kms:GenerateDataKey) is use of the key, not administration, so key_admin_role_arns is not "
        "for it (that would make it a key administrator): to keep that use, grant those actions in an IAM policy "
        "of the principal (the key policy's root statement lets IAM grant use of the key), then accept its "
        f"removal from the key policy: {COMMAND} --accept-principal-removal '{PIPELINE}'"
    )
    assert "add it to key_admin_role_arns" not in line


def test_refuses_a_dropped_read_only_principal_with_the_iam_remedy_escalation(found: Adoption) -> None:
    monitor = f"arn:aws:iam::{ACCOUNT}:role/monitoring"
    (line,) = adopt.refusals(with_grant(found, monitor, ["kms:DescribeKey"]), admin_settings(), command=COMMAND)
    assert "its live grant (kms:DescribeKey) is use of the key, not administration" in line
    assert "add it to key_admin_role_arns" not in line


def test_refuses_a_dropped_key_administrator_naming_what_key_admin_role_arns_would_add(found: Adoption) -> None:
    # The design record's admin role: every administrative action but kms:RotateKeyOnDemand.
    (line,) = adopt.refusals(found, seed_settings(), command=COMMAND)
    assert line == (
        f'adopt: aws_kms_key.master: the live key policy allows {ADMIN} (statement "Allow access for Key '
        'Administrators"), and the generated key policy would drop it, so it would lose its access to the key; to '
        "keep it as a key administrator, add it to key_admin_role_arns in cdktf.json (the generated key policy "
        "then also allows it kms:RotateKeyOnDemand, which the live policy does not); to keep exactly its live "
        "actions instead, grant them in an IAM policy of the principal (the key policy's root statement lets IAM "
        "grant use of the key), then accept its removal from the key policy; if it needs no access to the key, "
        f"accept its removal: {COMMAND} --accept-principal-removal '{ADMIN}'"
    )


def test_refuses_a_dropped_principal_with_both_grants_with_both_remedies(found: Adoption) -> None:
    ops = f"arn:aws:iam::{ACCOUNT}:role/ops"
    (line,) = adopt.refusals(with_grant(found, ops, ["kms:*"]), admin_settings(), command=COMMAND)
    assert line == (
        f'adopt: aws_kms_key.master: the live key policy allows {ops} (statement "Extra"), and the generated key '
        "policy would drop it, so it would lose its access to the key; to keep it as a key administrator, add it to "
        "key_admin_role_arns in cdktf.json, and grant what a key administrator does not get (kms:*, less the "
        "administrative actions) in an IAM policy of the principal (the key policy's root statement lets IAM grant "
        f"use of the key), then accept the narrowing: {COMMAND} --accept-principal-removal '{ops}'; if it needs no "
        "access to the key, accept its removal the same way"
    )


def test_refuses_a_dropped_partial_administrator_offering_its_exact_actions_through_iam_escalation(
    found: Adoption,
) -> None:
    # The tester's repro: a role with kms:Decrypt and one administrative action was offered key_admin_role_arns alone,
    # which would give it every administrative action; IAM keeps exactly what it has.
    ops = f"arn:aws:iam::{ACCOUNT}:role/ops"
    (line,) = adopt.refusals(
        with_grant(found, ops, ["kms:Decrypt", "kms:DisableKey"]), admin_settings(), command=COMMAND
    )
    assert "add it to key_admin_role_arns in cdktf.json (the generated key policy then also allows it " in line
    assert line.endswith(
        "; to keep exactly its live actions instead, grant them in an IAM policy of the principal (the key policy's "
        "root statement lets IAM grant use of the key), then accept its removal from the key policy; if it needs no "
        "access to the key, accept its removal the same way"
    )


def test_refuses_promoting_a_key_user_named_in_key_admin_role_arns_escalation(found: Adoption) -> None:
    # The second half of the tester's repro: the pipeline role named in key_admin_role_arns.
    settings = dataclasses.replace(seed_settings(), key_admin_role_arns=(ADMIN, PIPELINE))
    (line,) = adopt.refusals(with_grant(found, PIPELINE, USE), settings, command=COMMAND)
    assert line.startswith(
        f"adopt: aws_kms_key.master: key_admin_role_arns names {PIPELINE}, but the live key policy grants it "
        "kms:Decrypt, kms:Encrypt, kms:GenerateDataKey and no key administration: the generated key policy would "
        "make it a key administrator (kms:CancelKeyDeletion, kms:Create*, kms:Delete*, "
    )
    assert line.endswith(
        "kms:Update*) and take kms:Decrypt, kms:Encrypt, kms:GenerateDataKey away; if it is not meant to "
        "administer the key, remove it from key_admin_role_arns, grant those actions in an IAM policy of the "
        "principal (the key policy's root statement lets IAM grant use of the key) and accept its removal; if it "
        f"is, grant them in IAM and accept the change: {COMMAND} --accept-principal-removal '{PIPELINE}'"
    )
    accepted = dataclasses.replace(with_grant(found, PIPELINE, USE), accepted_principal_removals=(PIPELINE,))
    assert adopt.refusals(accepted, settings, command=COMMAND) == []
    assert accepted_problems(accepted, settings, [PIPELINE]) == []


PARTNER = "arn:aws:iam::111122223333:role/quicksight"
REPORTING = f"arn:aws:iam::{ACCOUNT}:role/reporting"


def partner_policy(bucket: str) -> dict[str, Any]:
    """A hand-made results bucket policy: a partner account reads, a role of the account reads, S3 logs in."""
    objects = f"arn:aws:s3:::{bucket}/*"
    return {
        "Version": "2012-10-17",
        "Statement": [
            {"Sid": "PartnerRead", "Effect": "Allow", "Principal": {"AWS": PARTNER}, "Action": "s3:GetObject"}
            | {"Resource": objects},
            {"Sid": "ReportingRead", "Effect": "Allow", "Principal": {"AWS": [REPORTING]}}
            | {"Action": ["s3:GetObject", "s3:ListBucket"], "Resource": [objects, f"arn:aws:s3:::{bucket}"]},
            {"Sid": "Logs", "Effect": "Allow", "Principal": {"Service": "logging.s3.amazonaws.com"}}
            | {"Action": "s3:PutObject", "Resource": objects},
            {"Sid": "Root", "Effect": "Allow", "Principal": {"AWS": f"arn:aws:iam::{ACCOUNT}:root"}}
            | {"Action": "s3:*", "Resource": objects},
            {"Sid": "TLS", "Effect": "Deny", "Principal": "*", "Action": "s3:*", "Resource": objects}
            | {"Condition": {"Bool": {"aws:SecureTransport": "false"}}},
        ],
    }


def test_refuses_a_bucket_policy_principal_the_stack_drops_cross_account_grant(aws: Callable[..., Any]) -> None:
    # The tester's repro: PartnerRead for another account was only "replaced in place" and "removed statement".
    settings, client = fresh(aws, "ap-south-1")
    bucket = hand_built.bucket_name("results", ACCOUNT, "ap-south-1")
    client("s3").put_bucket_policy(Bucket=bucket, Policy=json.dumps(partner_policy(bucket)))
    live = LiveAccount.connect(region="ap-south-1", account_id=ACCOUNT)
    adoption = discover(live, settings, TENANTS)
    grants = adoption.facts("aws_s3_bucket_policy.results")["grants"]
    assert sorted(grants) == [PARTNER, REPORTING, f"arn:aws:iam::{ACCOUNT}:root", "logging.s3.amazonaws.com"]
    assert grants[PARTNER] == {"actions": ["s3:GetObject"], "kind": "AWS", "statements": ["PartnerRead"]}
    where = f"adopt: aws_s3_bucket_policy.results: the live bucket policy of {bucket} allows"
    dropped = "and the stack's bucket policy allows no principal (it only denies), so it would lose that access"
    assert adopt.refusals(adoption, settings, command=COMMAND) == [
        f'{where} {PARTNER} (statement "PartnerRead": s3:GetObject), {dropped}; it is of account 111122223333, and '
        "only a bucket policy can give a principal of another account access to this bucket, which the stack's "
        "bucket policy gives to none: if it needs the access, do not apply this stack in this account (README, "
        '"Adopting an existing foundation"); if it needs none, accept its removal: '
        f"{COMMAND} --accept-principal-removal '{PARTNER}'",
        f'{where} {REPORTING} (statement "ReportingRead": s3:GetObject, s3:ListBucket), {dropped}; to keep it, '
        "grant those actions in an IAM policy of the principal (within its own account, IAM grants access to the "
        f"account's buckets), then accept its removal: {COMMAND} --accept-principal-removal '{REPORTING}'",
        f'{where} logging.s3.amazonaws.com (statement "Logs": s3:PutObject), {dropped}; a service principal gets '
        "access to a bucket only through its bucket policy, which the stack's gives to none: if the service must "
        'keep its access, do not apply this stack in this account (README, "Adopting an existing foundation"); if '
        f"not, accept its removal: {COMMAND} --accept-principal-removal 'logging.s3.amazonaws.com'",
    ]
    accepted = (PARTNER, REPORTING, "logging.s3.amazonaws.com")
    assert accepted_problems(adoption, settings, accepted) == []
    done = dataclasses.replace(adoption, accepted_principal_removals=accepted)
    assert adopt.refusals(done, settings, command=COMMAND) == []
    assert (
        f"bucket policy drops principals {PARTNER}, {REPORTING}, logging.s3.amazonaws.com (accepted)"
        in adoption.resources["aws_s3_bucket_policy.results"].first_plan
    )


def test_refuses_a_discovery_file_without_the_bucket_policy_facts_it_checks(found: Adoption) -> None:
    entry = found.resources["aws_s3_bucket_policy.input"]
    bucket = f"cci-lite-input-{ACCOUNT}-{REGION}"
    old = dataclasses.replace(entry, found=True, import_id=bucket, facts={"statement_ids": ["A"]})
    stale = dataclasses.replace(found, resources={**found.resources, "aws_s3_bucket_policy.input": old})
    problems = adopt.refusals(stale, admin_settings(), command=COMMAND)
    assert problems == [
        "adopt: aws_s3_bucket_policy.input: the file does not say which principals the live bucket policy allows "
        f"(it predates that check); run discovery again: {COMMAND}"
    ]


def test_policy_principals_reads_every_way_a_principal_is_written() -> None:
    policy = {
        "Statement": [
            {"Effect": "Allow", "Principal": "*", "Action": "kms:Decrypt"},
            {"Sid": "A", "Effect": "Allow", "Principal": {"AWS": ["r1", "r2"], "Service": "s3.amazonaws.com"}},
            {"Sid": "D", "Effect": "Deny", "Principal": {"AWS": "r3"}},
        ]
    }
    assert adopt.policy_principals(policy) == ({"*": ["#1"], "r1": ["A"], "r2": ["A"]}, ["s3.amazonaws.com"])


def test_refuses_a_discovery_file_of_another_stack_account_or_region(found: Adoption) -> None:
    other = dataclasses.replace(found, account_id="111122223333", region="eu-west-1")
    assert adopt.refusals(other, admin_settings(), command=COMMAND) == [
        "adopt: discovery was made for account_id '111122223333', but these settings make account_id "
        f"'591338347562'; run discovery for this stack: {COMMAND}",
        "adopt: discovery was made for region 'eu-west-1', but these settings make region 'eu-central-1'; run "
        f"discovery for this stack: {COMMAND}",
    ]


def test_refuses_a_discovery_file_whose_import_ids_no_longer_match(found: Adoption) -> None:
    entry = found.resources["aws_s3_bucket.input"]
    changed = dataclasses.replace(
        found, resources={**found.resources, "aws_s3_bucket.input": dataclasses.replace(entry, import_id="other")}
    )
    assert adopt.refusals(changed, admin_settings(), command=COMMAND) == [
        "adopt: aws_s3_bucket.input was found as 'other', but these settings name it "
        f"'cci-lite-input-{ACCOUNT}-{REGION}'; the settings changed since discovery: run discovery again: {COMMAND}"
    ]
    lacking = dataclasses.replace(
        found, resources={a: e for a, e in found.resources.items() if a != "aws_s3_bucket_policy.input"}
    )
    assert adopt.refusals(lacking, admin_settings(), command=COMMAND) == [
        f"adopt: the file lacks aws_s3_bucket_policy.input; run discovery again: {COMMAND}"
    ]


def test_malformed_discovery_file_reports_every_problem() -> None:
    document = {
        "format": 1,
        "stack": "cci-lite-production",
        "account_id": ACCOUNT,
        "region": "",
        "resources": {"aws_kms_key.master": {"found": True}, "aws_s3_bucket.input": "yes"},
        "tenant_records": {
            "acme": {"terraform": "maybe", "item": {}},
            "demo": {"terraform": "outside", "item": {"a": 1}},
        },
        "colour": "blue",
    }
    with pytest.raises(ConfigError) as refused:
        adopt.parse_adoption(document, "adopt.json")
    assert list(refused.value.problems) == [
        "adopt.json: unknown field 'colour'",
        "adopt.json: region must be a non-empty string, got ''",
        "adopt.json: resources['aws_kms_key.master']: found, but import_id is null",
        "adopt.json: resources['aws_s3_bucket.input'] must be an object with found true or false, got 'yes'",
        "adopt.json: tenant_records['acme'].terraform must be 'outside' or 'taken_over', got 'maybe'",
        "adopt.json: tenant_records['demo'].item.a must be one DynamoDB typed value such as {'S': 'text'}, got 1",
    ]
    with pytest.raises(ConfigError) as old:
        adopt.parse_adoption({**document, "format": 0}, "adopt.json")
    assert old.value.problems == (
        "adopt.json: format must be 1, got 0; run discovery again: pipenv run adopt --out adopt.json",
    )


# --- tenant records ---------------------------------------------------------------------------


def test_tenant_partition_leaves_existing_records_outside_and_renders_taken_over_ones(found: Adoption) -> None:
    tenants = (
        *TENANTS,
        Tenant(tenant_id="initech", display_name="Initech"),
        Tenant(tenant_id="hooli", display_name="H"),
    )
    adoption = dataclasses.replace(found, other_records=("initech",))
    partition = adopt.partition_tenants(adoption, tenants)
    # demo-tenant's record exists; initech's existed at discovery for a tenant added to the file since.
    assert (partition.managed, partition.outside) == (("acme", "hooli"), ("demo-tenant", "initech"))
    taken = dataclasses.replace(
        adoption, tenant_records={"demo-tenant": TenantRecord(terraform="taken_over", item=hand_built.DEMO_RECORD)}
    )
    partition = adopt.partition_tenants(taken, tenants)
    assert partition.managed == ("acme", "demo-tenant", "hooli")
    extra = partition.extra_fields["demo-tenant"]
    assert sorted(extra) == [
        "contacts",
        "created_at",
        "features",
        "input_prefix",
        "results_prefix",
        "retention_days",
        "status",
    ]
    assert adopt.partition_tenants(None, tenants).outside == ()


def test_taken_over_record_keeps_every_field_after_the_products_own() -> None:
    settings = seed_settings()
    demo = TENANTS[1]
    extra = {k: v for k, v in hand_built.DEMO_RECORD.items() if k not in adopt.MANAGED_FIELDS}
    extra["note"] = {"S": "costs ${var.x} and %{if y}"}
    text = tenant_file.render(settings, TENANTS, extra_fields={"demo-tenant": extra})
    items = json.loads(text)["locals"]["tenant_config_items"]
    record = json.loads(items["demo-tenant"].replace("$${", "${").replace("%%{", "%{"))
    assert list(record)[:4] == ["tenant_id", "display_name", "kms_guard", "tags"]
    plain = json.loads(json.loads(tenant_file.render(settings, [demo]))["locals"]["tenant_config_items"]["demo-tenant"])
    assert record == {**plain, **extra}
    assert "$${var.x}" in items["demo-tenant"] and "%%{if y}" in items["demo-tenant"]
    outside = json.loads(tenant_file.render(settings, TENANTS, outside=["demo-tenant"]))["locals"]
    assert list(outside["tenant_config_items"]) == ["acme"]
    assert list(outside["tenant_tags"]) == ["acme", "demo-tenant"]


# --- the review of the first plan -------------------------------------------------------------


def test_gate_counts_a_record_delete_only_while_its_tenant_is_in_the_stack() -> None:
    def delete(tenant: str) -> dict[str, Any]:
        address = f'aws_dynamodb_table_item.tenant_config["{tenant}"]'
        return {"address": address, "type": "aws_dynamodb_table_item", "change": {"actions": ["delete"]}}

    plan = {"resource_changes": [delete("kept"), delete("removed")]}
    stack: dict[str, Any] = {"locals": {"tenant_tags": {"kept": {}}, "tenant_config_items": {}}}
    assert [d.address for d in destroys(plan, stack)] == ['aws_dynamodb_table_item.tenant_config["kept"]']
    section, destroyed = render_changes(plan, stack=stack)
    assert destroyed == ['aws_dynamodb_table_item.tenant_config["kept"]']
    assert (
        '> - `aws_dynamodb_table_item.tenant_config["kept"]` (delete): the tenant\'s record is deleted with every '
        "field it has." in section
    )
    # The configuration leaves kept out as a record outside Terraform, but the state holds it: never "left alone".
    assert (
        "### Tenant records outside Terraform\n\n`kept`: the configuration leaves it out as a record made " in section
    )
    assert "neither creates nor changes" not in section


def test_review_never_calls_a_record_the_plan_deletes_left_alone_outside_wording() -> None:
    # The tester's repro: acme (Terraform's) was listed outside by a discovery that did not read the state.
    acme = 'aws_dynamodb_table_item.tenant_config["acme"]'
    plan = {
        "resource_changes": [{"address": acme, "type": "aws_dynamodb_table_item", "change": {"actions": ["delete"]}}]
    }
    stack: dict[str, Any] = {"locals": {"tenant_tags": {"acme": {}, "demo": {}}, "tenant_config_items": {}}}
    section, destroyed = render_changes(plan, stack=stack)
    assert destroyed == [acme]
    assert (
        "`acme`: the configuration leaves it out as a record made outside Terraform, but Terraform state holds it, "
        "so this plan **deletes** it: the discovery file is out of date. Run discovery again (`pipenv run adopt`, "
        "which reads the state) and synthesize."
    ) in section
    assert (
        "`demo`: each exists in the table and stays outside Terraform (`aws_dynamodb_table_item` cannot import a "
        "record, and creating an existing one fails the apply); this plan neither creates nor changes them."
    ) in section


@pytest.mark.parametrize(
    "rtype",
    [
        "aws_kms_alias",
        "aws_s3_bucket_versioning",
        "aws_s3_bucket_server_side_encryption_configuration",
        "aws_s3_bucket_public_access_block",
        "aws_s3_bucket_ownership_controls",
        "aws_s3_bucket_policy",
        "aws_s3_bucket_lifecycle_configuration",
        "aws_s3_bucket_notification",
    ],
)
def test_gate_trips_on_replacing_any_resource_type_of_the_stack(rtype: str) -> None:
    name = "master" if rtype == "aws_kms_alias" else "input"
    plan = {
        "resource_changes": [{"address": f"{rtype}.{name}", "type": rtype, "change": {"actions": ["delete", "create"]}}]
    }
    (destroyed,) = destroys(plan, {"locals": {}})
    assert (destroyed.address, destroyed.action) == (f"{rtype}.{name}", "replace")
    assert destroyed.consequence == DESTROY_CONSEQUENCES[rtype]


# --- the synth --------------------------------------------------------------------------


def adopted_stack(tmp: Path, adoption: Adoption, tenants: tuple[Tenant, ...] = TENANTS) -> Path:
    from constructs_lib.app import build_app

    app, _ = build_app(admin_settings(), tenants, adoption, outdir=str(tmp))
    app.synth()
    return tmp / "stacks" / "cci-lite-production"


def test_synth_with_adopt_file_imports_exactly_what_was_found(found: Adoption, tmp_path: Path) -> None:
    stack_dir = adopted_stack(tmp_path, dataclasses.replace(found, source="adopt.json"))
    imports = json.loads((stack_dir / adopt.IMPORTS_FILE).read_text(encoding="utf-8"))
    assert [(b["to"], b["id"]) for b in imports["import"]] == found.imports()
    assert imports["//"]["tenant_records_outside_terraform"] == ["demo-tenant"]
    assert imports["//"]["adopt_file"] == "adopt.json"
    stack = read_stack(stack_dir)
    assert list(stack["locals"]["tenant_config_items"]) == ["acme"]
    assert sorted(stack["locals"]["tenant_tags"]) == ["acme", "demo-tenant"]


def test_adopted_stack_passes_terraform_validate_with_the_committed_lock_file(found: Adoption, tmp_path: Path) -> None:
    require_tool("terraform", terraform.terraform_binary())
    stack_dir = adopted_stack(tmp_path / "out", found)
    # The marker's builtin provider (terraform.io/builtin/terraform) needs no entry in the lock file.
    shutil.copy(PROJECT_DIR / ".terraform.lock.hcl", stack_dir / ".terraform.lock.hcl")
    env = terraform.terraform_env(terraform.write_cli_config(tmp_path), {"TF_DATA_DIR": str(tmp_path / ".terraform")})
    terraform.run(["init", "-backend=false", "-input=false", "-no-color", "-lockfile=readonly"], cwd=stack_dir, env=env)
    report = json.loads(terraform.run(["validate", "-json", "-no-color"], cwd=stack_dir, env=env, check=False).stdout)
    assert report["valid"] is True and report["warning_count"] == 0, report["diagnostics"]


def test_synth_with_adopt_file_writes_a_marker_terraform_will_not_let_go_of(found: Adoption, tmp_path: Path) -> None:
    stack_dir = adopted_stack(tmp_path, dataclasses.replace(found, source="adopt.json"))
    marker = json.loads((stack_dir / adopt.MARKER_FILE).read_text(encoding="utf-8"))
    assert marker["provider"] == {"terraform": [{"alias": "adoption"}]}
    assert marker["resource"] == {
        "terraform_data": {
            "adoption": {
                "provider": "terraform.adoption",
                "input": "adopt.json",
                "lifecycle": {"prevent_destroy": True},
            }
        }
    }
    assert "resource" not in json.loads((stack_dir / adopt.IMPORTS_FILE).read_text(encoding="utf-8"))


def test_refuses_a_plan_of_an_adopted_stack_synthesized_without_its_discovery_file(
    found: Adoption, tmp_path: Path
) -> None:
    """The marker alone, with the real Terraform: once applied, a configuration without it cannot be planned."""
    require_tool("terraform", terraform.terraform_binary())
    stack_dir = adopted_stack(tmp_path / "out", found)
    work = tmp_path / "work"
    work.mkdir()
    shutil.copy(stack_dir / adopt.MARKER_FILE, work / adopt.MARKER_FILE)
    (work / "rest.tf.json").write_text("{}", encoding="utf-8")  # the rest of the stack, which stays
    env = terraform.terraform_env(terraform.write_cli_config(tmp_path))
    terraform.run(["init", "-input=false", "-no-color"], cwd=work, env=env)
    terraform.run(["apply", "-auto-approve", "-input=false", "-no-color"], cwd=work, env=env)
    (work / adopt.MARKER_FILE).unlink()  # what a synth without adopt_file does to the stack directory
    refused = terraform.run(["plan", "-input=false", "-no-color"], cwd=work, env=env, check=False)
    assert refused.returncode == 1
    text = " ".join(refused.stderr.split())
    assert "Error: Provider configuration not present" in text
    assert "To work with terraform_data.adoption (orphan) its original provider configuration" in text
    # The deliberate way out (README): take the marker out of state.
    terraform.run(["state", "rm", "-no-color", "terraform_data.adoption"], cwd=work, env=env)
    assert terraform.run(["plan", "-input=false", "-no-color", "-detailed-exitcode"], cwd=work, env=env).returncode == 0


#: sha256 of every file of the shipped synth (cdktf.json and tenants.json as committed), taken
#: before adoption existed: a synth without adopt_file writes exactly what it wrote before.
#: After a deliberate change to the stack: CCI_UPDATE_GOLDEN=1 pipenv run pytest tests/test_adoption.py
SHIPPED_SYNTH = Path(__file__).parent / "data" / "shipped_synth.sha256.json"


def test_synth_without_adopt_file_writes_what_it_wrote_before_adoption(tmp_path: Path) -> None:
    env = {k: v for k, v in os.environ.items() if not k.startswith("CCI_")}
    env["CDKTF_OUTDIR"] = str(tmp_path / "out")
    result = subprocess.run([sys.executable, "main.py"], cwd=PROJECT_DIR, env=env, capture_output=True, text=True)
    assert result.returncode == 0, result.stderr
    assert result.stderr == ""
    digests = {
        name: hashlib.sha256(data).hexdigest()
        for name, data in output_files(tmp_path / "out").items()
        if name.startswith("stacks/")
    }
    if os.environ.get("CCI_UPDATE_GOLDEN") == "1":
        SHIPPED_SYNTH.write_text(json.dumps(digests, indent=2, sort_keys=True) + "\n", encoding="utf-8")
    assert digests == json.loads(SHIPPED_SYNTH.read_text(encoding="utf-8"))
    assert not any(name.endswith(adopt.IMPORTS_FILE) for name in digests)


def test_synth_refuses_a_discovery_file_the_settings_no_longer_match(found: Adoption, tmp_path: Path) -> None:
    project = copy_project(tmp_path, {"adopt_file": "adopt.json"})  # key_admin_role_arns: [] drops the admin role
    (project / "adopt.json").write_text(adopt.render_adoption(found), encoding="utf-8")
    result = subprocess.run(
        [sys.executable, "main.py"],
        cwd=project,
        env={**os.environ, "CDKTF_OUTDIR": str(project / "cdktf.out")},
        capture_output=True,
        text=True,
        timeout=120,
    )
    assert result.returncode == 2 and "Traceback" not in result.stderr
    assert result.stderr.splitlines() == [
        f'error: adopt.json: aws_kms_key.master: the live key policy allows {ADMIN} (statement "Allow access for Key '
        'Administrators"), and the generated key policy would drop it, so it would lose its access to the key; to '
        "keep it as a key administrator, add it to key_admin_role_arns in cdktf.json (the generated key policy then "
        "also allows it kms:RotateKeyOnDemand, which the live policy does not); to keep exactly its live actions "
        "instead, grant them in an IAM policy of the principal (the key policy's root statement lets IAM grant use "
        "of the key), then accept its removal from the key policy; if it needs no access to the key, accept its "
        f"removal: pipenv run adopt --out adopt.json --accept-principal-removal '{ADMIN}'"
    ]
    assert not (project / "cdktf.out").exists()


def test_synth_refuses_an_adopt_file_that_does_not_exist(tmp_path: Path) -> None:
    project = copy_project(tmp_path, {"adopt_file": "missing.json"})
    result = subprocess.run(
        [sys.executable, "main.py"],
        cwd=project,
        env={**os.environ, "CDKTF_OUTDIR": str(project / "cdktf.out")},
        capture_output=True,
        text=True,
        timeout=120,
    )
    assert result.returncode == 2
    assert result.stderr.splitlines() == [
        "error: missing.json: adopt_file names a file that does not exist; run discovery first: pipenv run adopt "
        '--out missing.json (README, "Adopting an existing foundation")'
    ]


def test_discovery_of_an_app_with_several_stacks_asks_which(tmp_path: Path) -> None:
    project = copy_project(tmp_path, {"environments": {"production": {}, "staging": {"account_id": "111122223333"}}})
    shutil.copytree(PROJECT_DIR / "cci_tools", project / "cci_tools")
    result = subprocess.run(
        [sys.executable, "-m", "cci_tools.adopt", "--out", "adopt.json"],
        cwd=project,
        env={k: v for k, v in os.environ.items() if not k.startswith("CCI_")},
        capture_output=True,
        text=True,
        timeout=120,
    )
    assert (result.returncode, result.stdout) == (2, "")
    assert result.stderr.splitlines() == [
        "error: cdktf.json declares several stacks (cci-lite-production, cci-lite-staging); set CCI_STACK to the "
        "one to adopt"
    ]


def run_adopt(cwd: Path, *args: str, **extra: str) -> subprocess.CompletedProcess[str]:
    env = {k: v for k, v in os.environ.items() if not k.startswith(("CCI_", "AWS_"))}
    env.update(
        {
            "AWS_CONFIG_FILE": str(cwd / "no-config"),
            "AWS_SHARED_CREDENTIALS_FILE": str(cwd / "no-credentials"),
            "AWS_EC2_METADATA_DISABLED": "true",
            "CDKTF_OUTDIR": str(cwd / "cdktf.out"),
            **extra,
        }
    )
    return subprocess.run(
        [sys.executable, "-m", "cci_tools.adopt", *args],
        cwd=PROJECT_DIR,
        env=env,
        capture_output=True,
        text=True,
        timeout=120,
    )


def test_discovery_without_credentials_says_so_in_one_line(tmp_path: Path) -> None:
    result = run_adopt(tmp_path, "--out", str(tmp_path / "adopt.json"))
    assert (result.returncode, result.stdout) == (2, "")
    assert result.stderr.splitlines() == [
        "error: adopt: cannot read account 591338347562: no AWS credentials found (environment variables, shared "
        "config or SSO profile, container or instance role)"
    ]
    assert not (tmp_path / "adopt.json").exists()


def test_take_over_refuses_what_it_cannot_do_before_touching_anything(found: Adoption, tmp_path: Path) -> None:
    accepted = dataclasses.replace(found, accepted_principal_removals=(ADMIN,))
    adopt_file = tmp_path / "adopt.json"
    adopt_file.write_text(adopt.render_adoption(accepted), encoding="utf-8")
    before = adopt_file.read_bytes()
    result = run_adopt(tmp_path, "take-over", "demo-tenant", "nobody", CCI_ADOPT_FILE=str(adopt_file))
    assert (result.returncode, result.stdout) == (2, "")
    stack_dir = tmp_path / "cdktf.out" / "stacks" / "cci-lite-production"
    assert result.stderr.splitlines() == [
        "error: take-over: 'nobody' is not a tenant of tenants.json; add it there first",
        f"error: take-over: {stack_dir} is not initialized; synthesize, then terraform -chdir={stack_dir} init, "
        "and apply the adoption first",
    ]
    assert adopt_file.read_bytes() == before


# --- take-over: interrupted, repaired, and what it overwrites --------------------------------------------


def test_rediscovery_keeps_an_interrupted_take_over_for_take_over_to_finish(aws: Callable[..., Any]) -> None:
    # Killed after the state push and before the discovery file was marked: the file lists the record outside
    # Terraform, the state holds it. Discovery must not take it for a record Terraform created (its fields
    # would then be stripped), and says how to finish.
    settings, _ = fresh(aws, "ca-central-1")
    live = LiveAccount.connect(region="ca-central-1", account_id=ACCOUNT)
    first = discover(live, settings, TENANTS)
    again = discover(live, settings, TENANTS, previous=first, in_state={"demo-tenant"})
    assert again.tenant_records["demo-tenant"] == TenantRecord(terraform="outside", item=hand_built.DEMO_RECORD)
    table = render_table(again, TENANTS, {"demo-tenant"})
    (row,) = [line for line in table.splitlines() if line.startswith('aws_dynamodb_table_item.tenant_config["demo')]
    assert " ".join(row.split()) == (
        'aws_dynamodb_table_item.tenant_config["demo-tenant"] in state - in Terraform state, but the discovery '
        "file has it outside Terraform: a take-over that was interrupted; finish it: pipenv run adopt take-over "
        "demo-tenant"
    )


def test_take_over_removes_what_an_interrupted_take_over_left_but_the_state_backup(tmp_path: Path) -> None:
    for name in ("take-over.serial-12.tfstate", "take-over.plan", "take-over.restore.tfstate"):
        (tmp_path / name).write_text("{}", encoding="utf-8")
    (tmp_path / "take-over.serial-11.tfstate.backup").write_text("{}", encoding="utf-8")
    removed = clean_temporary(tmp_path)
    assert sorted(p.name for p in removed) == [
        "take-over.plan",
        "take-over.restore.tfstate",
        "take-over.serial-12.tfstate",
    ]
    assert sorted(p.name for p in tmp_path.iterdir()) == ["take-over.serial-11.tfstate.backup"]


def test_take_over_names_the_product_fields_tenants_json_overwrites() -> None:
    # The tester's record: hand-made values of the product's own fields, which tenants.json then overwrites.
    live = {
        **hand_built.DEMO_RECORD,
        "display_name": {"S": "Demo Tenant (hand-made)"},
        "kms_guard": {"S": "no"},
        "tags": {"M": {"CostCenter": {"S": "cc-999"}}},
    }
    adoption = Adoption(
        stack="cci-lite-production",
        account_id=ACCOUNT,
        region=REGION,
        resources={},
        tenant_records={"demo-tenant": TenantRecord(terraform="taken_over", item=live)},
    )
    lines = product_overwrites(live, "demo-tenant", seed_settings(), TENANTS, adoption)
    assert lines[0] == 'display_name ({"S": "Demo Tenant (hand-made)"} -> {"S": "Demo Tenant"})'
    assert lines[1] == 'kms_guard ({"S": "no"} -> {"BOOL": false})'
    assert lines[2].startswith('tags ({"M": {"CostCenter": {"S": "cc-999"}}} -> {"M": {')
    assert len(lines) == 3


def test_adopt_help_lists_take_over(tmp_path: Path) -> None:
    result = run_adopt(tmp_path, "--help")
    assert result.returncode == 0
    assert "adopt take-over TENANT [TENANT ...]" in result.stdout
    assert "bring existing tenant records under Terraform" in " ".join(result.stdout.split())
