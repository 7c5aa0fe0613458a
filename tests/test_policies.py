"""Policy documents, without the provider bindings."""

from __future__ import annotations

import dataclasses
import json

import pytest

from constructs_lib.config import Tenant
from constructs_lib.errors import ConfigError
from constructs_lib.policies import (
    KMS_ADMIN_ACTIONS,
    KMS_KEY_POLICY_MAX_BYTES,
    escape_terraform,
    key_policy,
    policy_size,
    terraform_string,
)
from tests.helpers import seed_settings

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
    assert "AllowLambdaRoleForGuardedTenants" not in [s["Sid"] for s in statements]
    assert "acme" not in json.dumps(statements)


def test_one_thousand_guarded_tenants_fit_well_under_the_kms_limit() -> None:
    tenants = [tenant(f"tenant-{i:05d}-ops") for i in range(1000)]
    document = key_policy(seed_settings(), tenants)
    assert policy_size(document) < 0.75 * KMS_KEY_POLICY_MAX_BYTES
    guard = document["Statement"][-1]
    assert len(guard["Condition"]["StringEquals"]["kms:EncryptionContext:tenant_id"]) == 1000


def test_fails_before_the_key_policy_crosses_32_kb() -> None:
    tenants = [tenant(f"{i:04d}-" + "x" * 57) for i in range(600)]
    with pytest.raises(ConfigError) as error:
        key_policy(seed_settings(), tenants)
    (message,) = error.value.problems
    assert "600 guarded tenants" in message and "32768" in message


def test_policy_size_counts_the_unescaped_document() -> None:
    document = {"a": "${x}"}
    assert policy_size(document) == len('{"a":"${x}"}')
