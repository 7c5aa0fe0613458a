"""Policy documents, without the provider bindings."""

from __future__ import annotations

import dataclasses
import json

import pytest
from hypothesis import given
from hypothesis import strategies as st

from constructs_lib.config import Tenant
from constructs_lib.errors import ConfigError
from constructs_lib.naming import BUCKET_ROLES
from constructs_lib.policies import (
    ABSENT_BECAUSE,
    KEY_POLICY_SIDS,
    KMS_ADMIN_ACTIONS,
    KMS_KEY_POLICY_MAX_BYTES,
    SERVICE_USES,
    STATEMENT_SENTENCES,
    bucket_policy,
    escape_terraform,
    key_policy,
    policy_size,
    terraform_string,
    unescape_terraform,
)
from tests.helpers import PROJECT_DIR, seed_settings

ADMIN = "arn:aws:iam::591338347562:role/platform-admin"


def tenant(tenant_id: str, *, guarded: bool = True) -> Tenant:
    return Tenant(tenant_id=tenant_id, display_name=tenant_id, kms_guard=guarded)


def test_escape_keeps_policy_variables_and_directives_literal() -> None:
    assert escape_terraform("${aws:username} %{if x}") == "$${aws:username} %%{if x}"
    assert escape_terraform("no templates here $ {") == "no templates here $ {"


def test_terraform_string_is_compact_and_escaped() -> None:
    assert terraform_string({"a": "${x}", "b": [1]}) == '{"a":"$${x}","b":[1]}'


def test_key_administrators_get_administration_but_no_use() -> None:
    settings = seed_settings()
    settings = dataclasses.replace(settings, key_admin_role_arns=(ADMIN,))
    statements = key_policy(settings, [])["Statement"]
    admin = next(s for s in statements if s["Sid"] == "AllowKeyAdministration")
    assert admin["Principal"] == {"AWS": [ADMIN]}
    assert admin["Action"] == list(KMS_ADMIN_ACTIONS)
    assert not {"kms:Decrypt", "kms:Encrypt", "kms:*"} & set(admin["Action"])
    assert [s["Sid"] for s in statements][:2] == ["EnableRootAccountPermissions", "AllowKeyAdministration"]


def test_no_guard_statement_without_guarded_tenants() -> None:
    statements = key_policy(seed_settings(), [tenant("acme", guarded=False)])["Statement"]
    assert "DenyGuardedTenantContextToOthers" not in [s["Sid"] for s in statements]
    assert "acme" not in json.dumps(statements)


def test_one_thousand_guarded_tenants_fit_well_under_the_kms_limit() -> None:
    tenants = [tenant(f"tenant-{i:05d}-ops") for i in range(1000)]
    document = key_policy(seed_settings(), tenants)
    assert policy_size(document) < 0.75 * KMS_KEY_POLICY_MAX_BYTES
    guard = document["Statement"][-1]
    assert guard["Sid"] == "DenyGuardedTenantContextToOthers"
    assert len(guard["Condition"]["StringEquals"]["kms:EncryptionContext:tenant_id"]) == 1000


def test_readme_states_the_key_policy_size_at_one_thousand_guarded_tenants() -> None:
    tenants = [tenant(f"tenant-{i:05d}-ops") for i in range(1000)]  # ids of 16 characters
    size = policy_size(key_policy(seed_settings(), tenants))
    readme = " ".join((PROJECT_DIR / "README.md").read_text(encoding="utf-8").split())
    assert f"1,000 guarded tenants with ids of 16 characters use {size:,} bytes" in readme


def test_guarded_tenants_are_listed_once_so_the_policy_grows_by_one_entry_per_tenant() -> None:
    raw = json.dumps(key_policy(seed_settings(), [tenant("globex"), tenant("initech")]))
    assert raw.count('"globex"') == 1 and raw.count('"initech"') == 1
    sizes = [policy_size(key_policy(seed_settings(), [tenant(f"t{i:04d}") for i in range(n)])) for n in (1, 2, 3)]
    assert sizes[2] - sizes[1] == sizes[1] - sizes[0] == len(',"t0000"')


def test_guard_exempts_only_the_pipeline_role_by_principal_arn() -> None:
    settings = dataclasses.replace(seed_settings(), lambda_role_arn="arn:aws:iam::591338347562:role/pipeline/cci-job")
    guard = key_policy(settings, [tenant("globex")])["Statement"][-1]
    assert guard["Effect"] == "Deny" and guard["Principal"] == {"AWS": "*"}
    assert guard["Condition"]["ArnNotEquals"] == {
        "aws:PrincipalArn": ["arn:aws:iam::591338347562:role/pipeline/cci-job"]
    }
    assert "kms:CreateGrant" in guard["Action"] and "kms:GenerateDataKey*" in guard["Action"]


def test_every_statement_is_described_in_one_sentence() -> None:
    settings = dataclasses.replace(seed_settings(), key_admin_role_arns=(ADMIN,))
    sids = [s["Sid"] for s in key_policy(settings, [tenant("globex")])["Statement"]]
    sids += [s["Sid"] for role in BUCKET_ROLES for s in bucket_policy(seed_settings(), role)["Statement"]]
    assert set(sids) == set(STATEMENT_SENTENCES)
    for sentence in STATEMENT_SENTENCES.values():
        assert sentence.endswith(".") and "\n" not in sentence


def test_service_statements_are_the_ones_the_design_record_services_map_to() -> None:
    statements = key_policy(seed_settings(), [])["Statement"]
    service_sids = [s["Sid"] for s in statements if "Service" in s["Principal"]]
    assert sorted(service_sids) == sorted(sid for use in SERVICE_USES for sid in use.sids)
    assert [use.service for use in SERVICE_USES] == ["Lambda", "Glue", "QuickSight", "Transcribe", "EventBridge", "S3"]
    for use in SERVICE_USES:
        assert use.doc.startswith("https://docs.aws.amazon.com/") and use.reason.endswith(".")


def test_service_principal_statements_name_the_account_or_a_resource_of_it() -> None:
    for statement in key_policy(seed_settings(), [])["Statement"]:
        if "Service" not in statement["Principal"]:
            continue
        condition = statement["Condition"]
        source_arns = condition.get("ArnLike", condition.get("ArnEquals", {})).get("aws:SourceArn", [])
        arns = source_arns if isinstance(source_arns, list) else [source_arns]
        scoped = condition.get("StringEquals", {}).get("aws:SourceAccount") == "591338347562" or (
            arns and all(":591338347562:" in a or a.startswith("arn:aws:s3:::cci-lite-") for a in arns)
        )
        assert scoped, statement["Sid"]


def test_policies_follow_the_partition_and_region_of_the_stack() -> None:
    settings = seed_settings(region="cn-north-1")
    raw = json.dumps(key_policy(settings, [])) + json.dumps(bucket_policy(settings, "input"))
    assert "arn:aws:" not in raw
    assert "lambda.cn-north-1.amazonaws.com" in raw
    assert "arn:aws-cn:s3:::cci-lite-input-591338347562-cn-north-1/${aws:PrincipalTag/tenant_id}/*" in raw


def test_bucket_policy_keeps_tagged_principals_to_their_prefix_in_constant_size() -> None:
    policy = bucket_policy(seed_settings(), "results")
    arn = "arn:aws:s3:::cci-lite-results-591338347562-eu-central-1"
    objects, listing, management = policy["Statement"][1:]
    assert objects["NotResource"] == [arn, f"{arn}/${{aws:PrincipalTag/tenant_id}}/*"]
    assert objects["Action"] == "s3:*" and objects["Condition"] == {"Null": {"aws:PrincipalTag/tenant_id": "false"}}
    assert listing["Resource"] == arn
    assert listing["Condition"]["StringNotLike"] == {"s3:prefix": "${aws:PrincipalTag/tenant_id}/*"}
    assert management["Resource"] == arn and management["Condition"] == objects["Condition"]


def test_tenant_key_management_exempts_the_pipeline_role_and_every_key_administrator() -> None:
    other = "arn:aws:iam::591338347562:role/ops/break-glass"
    settings = dataclasses.replace(seed_settings(), key_admin_role_arns=(other, ADMIN))
    (management,) = [s for s in key_policy(settings, [])["Statement"] if s["Sid"] == "DenyTenantKeyManagement"]
    assert management["Condition"]["ArnNotEquals"] == {"aws:PrincipalArn": [settings.lambda_role_arn, other, ADMIN]}
    assert not set(KMS_ADMIN_ACTIONS) & set(management["NotAction"])


def test_fails_before_the_key_policy_crosses_32_kb() -> None:
    tenants = [tenant(f"{i:04d}-" + "x" * 57) for i in range(600)]
    with pytest.raises(ConfigError) as error:
        key_policy(seed_settings(), tenants)
    (message,) = error.value.problems
    assert "600 guarded tenants" in message and "32768" in message


def test_policy_size_counts_the_unescaped_document() -> None:
    document = {"a": "${x}"}
    assert policy_size(document) == len('{"a":"${x}"}')


@given(st.text(alphabet="$%{}x\\", max_size=12))
def test_unescape_undoes_every_escape_of_any_text(text: str) -> None:
    assert unescape_terraform(escape_terraform(text)) == text


def test_unescape_reads_terraform_escapes_as_terraform_1_11_does() -> None:
    # Checked with `terraform console` on locals of a .tf.json: jsonencode(local.x).
    assert unescape_terraform("$${aws:PrincipalTag/t}") == "${aws:PrincipalTag/t}"
    assert unescape_terraform("$$${x}") == "$${x}"
    assert unescape_terraform("%%%{if true}y%%{endif}") == "%%{if true}y%{endif}"
    assert unescape_terraform("$$x%%y$") == "$$x%%y$"


def test_key_policy_sids_are_every_statement_in_key_policy_order_and_each_optional_one_says_why_absent() -> None:
    everything = dataclasses.replace(seed_settings(), key_admin_role_arns=(ADMIN,))
    full = [s["Sid"] for s in key_policy(everything, [tenant("globex")])["Statement"]]
    assert tuple(full) == KEY_POLICY_SIDS
    least = [s["Sid"] for s in key_policy(seed_settings(), [tenant("acme", guarded=False)])["Statement"]]
    assert [sid for sid in KEY_POLICY_SIDS if sid not in least] == list(ABSENT_BECAUSE)
    assert ABSENT_BECAUSE == {
        "AllowKeyAdministration": "no key_admin_role_arns configured (the default)",
        "DenyGuardedTenantContextToOthers": "no tenant has kms_guard",
    }
