"""Settings and tenants validation, without the provider bindings."""

from __future__ import annotations

import json
from pathlib import Path

import pytest

from constructs_lib.config import load_settings, load_tenants, parse_tenants
from constructs_lib.errors import ConfigError
from tests.helpers import PROJECT_DIR, seed_settings


def problems(document: object) -> tuple[str, ...]:
    with pytest.raises(ConfigError) as error:
        parse_tenants(document, "tenants.json")
    return error.value.problems


def test_shipped_settings_are_the_seed_values() -> None:
    settings = seed_settings()
    assert (settings.account_id, settings.region, settings.environment) == (
        "591338347562",
        "eu-central-1",
        "Production",
    )
    assert (settings.owner, settings.version, settings.project, settings.name_prefix) == (
        "Conversant",
        "v1.3",
        "CCI-Lite",
        "cci-lite",
    )
    assert settings.key_admin_role_arns == ()
    assert settings.lambda_role_arn == "arn:aws:iam::591338347562:role/cci-lite-lambda-role"
    assert settings.noncurrent_version_expiration_days == 1
    assert settings.tenants_file == PROJECT_DIR / "tenants.json"


def test_environment_variables_override_one_run() -> None:
    settings = load_settings(
        PROJECT_DIR,
        {
            "CCI_ACCOUNT_ID": "123456789012",
            "CCI_REGION": "us-east-1",
            "CCI_ENVIRONMENT": "Staging",
            "CCI_TENANTS_FILE": "/x/t.json",
        },
    )
    assert (settings.account_id, settings.region, settings.environment) == ("123456789012", "us-east-1", "Staging")
    assert settings.tenants_file == Path("/x/t.json")
    assert settings.lambda_role_arn == "arn:aws:iam::123456789012:role/cci-lite-lambda-role"


def test_every_bad_setting_is_reported_at_once() -> None:
    with pytest.raises(ConfigError) as error:
        load_settings(PROJECT_DIR, {"CCI_ACCOUNT_ID": "5913", "CCI_REGION": "eu-centrall-1"})
    assert error.value.problems == (
        "CCI_ACCOUNT_ID must be a 12-digit AWS account id, got '5913'",
        "CCI_REGION must be an AWS region such as 'eu-central-1', got 'eu-centrall-1'",
    )


def test_context_settings_are_validated(tmp_path: Path) -> None:
    (tmp_path / "cdktf.json").write_text(
        json.dumps(
            {
                "context": {
                    "cci": {"key_admin_role_arns": ["admin"], "noncurrent_version_expiration_days": 0, "colour": "x"}
                }
            }
        )
    )
    with pytest.raises(ConfigError) as error:
        load_settings(tmp_path, {})
    text = "\n".join(error.value.problems)
    assert "context.cci.colour is not a known setting" in text
    assert "context.cci.key_admin_role_arns[0] must be an IAM role ARN" in text and "'admin'" in text
    assert "context.cci.noncurrent_version_expiration_days must be a whole number of days from 1 to 3650, got 0" in text


def test_shipped_tenants_file_holds_demo_tenant() -> None:
    (tenant,) = load_tenants(PROJECT_DIR / "tenants.json")
    assert tenant.tenant_id == "demo-tenant"
    assert tenant.display_name == "Demo Tenant"
    assert tenant.kms_guard is False
    assert dict(tenant.tags) == {"CostCenter": "cc-100"}


def test_empty_tenant_list_is_the_foundation_without_tenants() -> None:
    assert parse_tenants({"tenants": []}, "tenants.json") == ()


def test_optional_fields_default() -> None:
    (tenant,) = parse_tenants({"tenants": [{"tenant_id": "acme"}]}, "tenants.json")
    assert (tenant.display_name, tenant.kms_guard, dict(tenant.tags)) == ("acme", False, {})


def test_tenants_are_sorted_by_id_whatever_the_file_order() -> None:
    tenants = parse_tenants({"tenants": [{"tenant_id": "zeta"}, {"tenant_id": "acme"}]}, "tenants.json")
    assert [t.tenant_id for t in tenants] == ["acme", "zeta"]


@pytest.mark.parametrize("bad_id", ["Acme_Corp", "ab", "-acme", "acme-", "a/b", "x" * 64, "\u0430cme", 42])
def test_fails_if_tenant_id_is_invalid(bad_id: object) -> None:
    (message,) = problems({"tenants": [{"tenant_id": bad_id}]})
    assert message.startswith("tenants.json: tenants[0]")
    assert "tenant_id must be 3-63 lowercase letters, digits or hyphens" in message
    assert json.dumps(bad_id) in message or repr(bad_id) in message


def test_fails_if_tenant_ids_repeat() -> None:
    messages = problems({"tenants": [{"tenant_id": "acme"}, {"tenant_id": "b-co"}, {"tenant_id": "acme"}]})
    assert messages == ("tenants.json: tenant_id 'acme' appears 2 times (tenants[0], tenants[2]); ids must be unique",)


def test_fails_on_misspelled_field_instead_of_ignoring_it() -> None:
    (message,) = problems({"tenants": [{"tenant_id": "acme", "kms_gaurd": True}]})
    assert message == (
        "tenants.json: tenants[0] ('acme'): unknown field 'kms_gaurd'; "
        "allowed: display_name, kms_guard, tags, tenant_id"
    )


def test_fails_on_non_boolean_guard_and_reserved_tag() -> None:
    messages = problems(
        {"tenants": [{"tenant_id": "acme", "kms_guard": "yes", "tags": {"Tenant": "x", "ok": "{bad}"}}]}
    )
    text = "\n".join(messages)
    assert "kms_guard must be true or false, got 'yes'" in text
    assert "tag key 'Tenant' must not start with 'aws:'" in text and "or a key the stack sets" in text
    assert "tag 'ok' value '{bad}' must be a string of 0-256 Unicode letters" in text


def test_fails_on_wrong_top_level_shape() -> None:
    assert problems([]) == ('tenants.json: must be an object like {"tenants": [...]}, got []',)
    assert problems({"tenants": {}}) == ("tenants.json: tenants must be a list of tenant objects, got {}",)


def test_unreadable_and_invalid_json_files_are_reported(tmp_path: Path) -> None:
    with pytest.raises(ConfigError, match=r"missing\.json: file not found"):
        load_tenants(tmp_path / "missing.json")
    bad = tmp_path / "bad.json"
    bad.write_text('{"tenants": [}')
    with pytest.raises(ConfigError, match=r"is not valid JSON: .* at line 1 column 14"):
        load_tenants(bad)
    latin = tmp_path / "latin.json"
    latin.write_bytes(b'{"tenants": [{"tenant_id": "caf\xe9"}]}')
    with pytest.raises(ConfigError, match="is not UTF-8 text"):
        load_tenants(latin)


def test_a_lone_surrogate_is_refused_naming_where_it_is(tmp_path: Path) -> None:
    bad = tmp_path / "tenants.json"
    bad.write_text('{"tenants": [{"tenant_id": "acme", "display_name": "Acme \\ud800"}]}', encoding="utf-8")
    with pytest.raises(ConfigError) as caught:
        load_tenants(bad)
    (problem,) = caught.value.problems
    assert "tenants[0].display_name has a lone UTF-16 surrogate (U+D800 at character 6)" in problem
    assert problem.endswith("not Unicode text")


def test_escaped_pairs_and_escaped_backslashes_are_ordinary_text(tmp_path: Path) -> None:
    good = tmp_path / "tenants.json"
    good.write_text('{"tenants": [{"tenant_id": "acme", "display_name": "\\ud83d\\ude00 a\\\\ud800"}]}')
    (tenant,) = load_tenants(good)
    assert tenant.display_name == "\U0001f600 a\\ud800"


def test_every_duplicate_key_is_named_after_the_fast_parse_finds_one(tmp_path: Path) -> None:
    twice = tmp_path / "tenants.json"
    twice.write_text('{"tenants": [{"tenant_id": "a1b", "tenant_id": "a2b"}, {"tags": {}, "tags": {}}]}')
    with pytest.raises(ConfigError) as caught:
        load_tenants(twice)
    assert [p.split(": ", 1)[1] for p in caught.value.problems] == [
        "tenants[0] has the key 'tenant_id' more than once; keys must be unique",
        "tenants[1] has the key 'tags' more than once; keys must be unique",
    ]


def test_accepts_unicode_tags_aws_accepts() -> None:
    tags = {
        "Stadt": "Z\u00fcrich",
        "Gr\u00f6\u00dfe": "gro\u00df",
        "Team\u00a0Ops": "",
        "\u6771\u4eac": "\u0663",
        "a@b": "c@d",
    }
    (tenant,) = parse_tenants({"tenants": [{"tenant_id": "acme", "tags": tags}]}, "tenants.json")
    assert dict(tenant.tags) == tags


def test_accepts_a_utf8_byte_order_mark(tmp_path: Path) -> None:
    bom = tmp_path / "tenants.json"
    bom.write_bytes(b"\xef\xbb\xbf" + json.dumps({"tenants": [{"tenant_id": "acme"}]}).encode("utf-8"))
    (tenant,) = load_tenants(bom)
    assert tenant.tenant_id == "acme"
