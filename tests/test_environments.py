"""Backends and environments: settings, and the Terraform JSON they synthesize."""

from __future__ import annotations

import json
from pathlib import Path
from typing import Any

import pytest

from cci_tools import terraform
from constructs_lib.backends import CloudBackendSettings, LocalBackendSettings, S3BackendSettings, parse_backend
from constructs_lib.config import KNOWN_REGIONS, load_environments, load_settings
from constructs_lib.errors import ConfigError
from tests.helpers import PROJECT_DIR, require_tool, seed_settings

STATE_KEY = "arn:aws:kms:eu-central-1:591338347562:key/0d6b1f4e-5c9b-4a43-9f0a-1b2c3d4e5f60"
S3 = {"type": "s3", "bucket": "cci-lite-tfstate", "region": "eu-central-1", "kms_key_id": STATE_KEY}


def write_context(tmp_path: Path, cci: dict[str, Any]) -> Path:
    document = json.loads((PROJECT_DIR / "cdktf.json").read_text(encoding="utf-8"))
    document["context"]["cci"].update(cci)
    (tmp_path / "cdktf.json").write_text(json.dumps(document), encoding="utf-8")
    return tmp_path


def problems_of(tmp_path: Path, cci: dict[str, Any], environ: dict[str, str] | None = None) -> tuple[str, ...]:
    with pytest.raises(ConfigError) as error:
        load_environments(write_context(tmp_path, cci), environ or {})
    return error.value.problems


# --- backend settings --------------------------------------------------------------------


def test_local_is_the_default_backend() -> None:
    assert seed_settings().backend == LocalBackendSettings()


def test_s3_backend_settings() -> None:
    backend, problems = parse_backend({**S3, "key": "prod/foundation.tfstate"}, "b", KNOWN_REGIONS)
    assert problems == []
    assert backend == S3BackendSettings(
        bucket="cci-lite-tfstate", region="eu-central-1", kms_key_id=STATE_KEY, key="prod/foundation.tfstate"
    )


def test_cloud_backend_by_name_or_by_tags() -> None:
    by_name, _ = parse_backend(
        {"type": "cloud", "organization": "conversant", "workspace": "cci-prod"}, "b", KNOWN_REGIONS
    )
    assert by_name == CloudBackendSettings(organization="conversant", workspace="cci-prod")
    by_tags, _ = parse_backend(
        {"type": "cloud", "organization": "conversant", "workspace_tags": ["cci-lite"]}, "b", KNOWN_REGIONS
    )
    assert by_tags == CloudBackendSettings(organization="conversant", workspace_tags=("cci-lite",))


@pytest.mark.parametrize(
    ("raw", "expected"),
    [
        ({"type": "gcs"}, ['b.type must be one of local, s3, cloud, got "gcs"']),
        ({"type": "s3", "bucket": "x-state"}, ["b.kms_key_id is missing; a s3 backend needs bucket, kms_key_id, region",
                                               "b.region is missing; a s3 backend needs bucket, kms_key_id, region"]),
        ({**S3, "dynamodb_table": "locks"}, ["b.dynamodb_table is not a setting of a s3 backend (allowed: bucket, key, "
                                             "kms_key_id, region)"]),
        ({**S3, "kms_key_id": "alias/state"}, ["b.kms_key_id must be a KMS key or alias ARN "
                                               "(arn:<partition>:kms:<region>:<account>:key/<id>, the id a UUID or "
                                               "mrk- and 32 hex digits): it is not a KMS key ARN, got 'alias/state'"]),
        ({**S3, "region": "mars-1"}, ["b.region must be an AWS region such as 'eu-central-1', got 'mars-1'"]),
        ({**S3, "bucket": "Bad_Bucket"}, ["b.bucket must be an S3 bucket name (it may contain only lowercase "
                                          "letters, digits, '.' and '-', not 'B' U+0042 LATIN CAPITAL LETTER B at "
                                          "character 1, '_' U+005F LOW LINE at character 4, 'B' U+0042 LATIN "
                                          "CAPITAL LETTER B at character 5), got 'Bad_Bucket'"]),
        ({"type": "cloud", "organization": "conversant"}, ["b needs exactly one of workspace (a name) or "
                                                           "workspace_tags (a list)"]),
        ({"type": "cloud", "organization": "conversant", "workspace": "a", "workspace_tags": ["b"]},
         ["b needs exactly one of workspace (a name) or workspace_tags (a list)"]),
        ({"type": "cloud", "organization": "conversant", "workspace_tags": []},
         ["b.workspace_tags must be a non-empty list of tag names, got []"]),
        ("s3", ['b must be an object such as {"type": "local"}, got "s3"']),
        ({"type": "cloud", "organization": "conversant", "workspace": "cci lite\u0301"},
         ["b.workspace must be 1-90 letters, digits, '-' or '_', not U+0020 SPACE at character 4, U+0301 COMBINING "
          "ACUTE ACCENT at character 9, got 'cci lite\u0301'"]),
        ({"type": "cloud", "organization": "conv.ersant", "workspace": "w", "hostname": "TFE.example.com"},
         ["b.organization must be a Terraform Cloud organization name, not '.' U+002E FULL STOP at character 5, "
          "got 'conv.ersant'", "b.hostname must be a host name such as 'app.terraform.io', not 'T' U+0054 LATIN "
          "CAPITAL LETTER T at character 1, 'F' U+0046 LATIN CAPITAL LETTER F at character 2, 'E' U+0045 LATIN "
          "CAPITAL LETTER E at character 3, got 'TFE.example.com'"]),
    ],
)  # fmt: skip
def test_incomplete_or_invalid_backend_is_refused(raw: Any, expected: list[str]) -> None:
    backend, problems = parse_backend(raw, "b", KNOWN_REGIONS)
    assert backend is None
    assert problems == expected


@pytest.mark.parametrize(
    ("raw", "expected"),
    [
        # The tester's example: a bucket name too short, fields missing, and a bad state key; all at once.
        (
            {"type": "s3", "bucket": "st", "key": "/bad//key"},
            [
                "b.kms_key_id is missing; a s3 backend needs bucket, kms_key_id, region",
                "b.region is missing; a s3 backend needs bucket, kms_key_id, region",
                "b.bucket must be an S3 bucket name (it must be 3-63 characters long, not 2), got 'st'",
                "b.key must be an object key without leading or trailing '/', got '/bad//key'",
            ],
        ),
        (
            {"type": "s3", "bucket": "st", "region": "mars-1", "kms_key_id": 7, "lock": True},
            [
                "b.lock is not a setting of a s3 backend (allowed: bucket, key, kms_key_id, region)",
                "b.kms_key_id must be a non-empty string, got 7",
                "b.bucket must be an S3 bucket name (it must be 3-63 characters long, not 2), got 'st'",
                "b.region must be an AWS region such as 'eu-central-1', got 'mars-1'",
            ],
        ),
        (
            {"type": "cloud", "organization": "bad org!", "hostname": 5},
            [
                "b.hostname must be a non-empty string, got 5",
                "b needs exactly one of workspace (a name) or workspace_tags (a list)",
                "b.organization must be a Terraform Cloud organization name, not U+0020 SPACE at character 4, '!' "
                "U+0021 EXCLAMATION MARK at character 8, got 'bad org!'",
            ],
        ),
        (
            {"type": "cloud", "workspace": "no spaces", "hostname": "-bad-"},
            [
                "b.organization is missing; a cloud backend needs organization",
                "b.workspace must be 1-90 letters, digits, '-' or '_', not U+0020 SPACE at character 3, got 'no spaces'",
                "b.hostname must be a host name such as 'app.terraform.io', got '-bad-'",
            ],
        ),
    ],
)
def test_refuses_every_backend_problem_at_once_not_just_the_first_all_problems(raw: Any, expected: list[str]) -> None:
    backend, problems = parse_backend(raw, "b", KNOWN_REGIONS)
    assert backend is None
    assert problems == expected


def test_backend_override_for_one_run(tmp_path: Path) -> None:
    project = write_context(tmp_path, {"backend": S3})
    assert isinstance(load_settings(project, {}).backend, S3BackendSettings)
    assert load_settings(project, {"CCI_BACKEND": "local"}).backend == LocalBackendSettings()
    cloud = load_settings(project, {"CCI_BACKEND": '{"type": "cloud", "organization": "o", "workspace": "w"}'})
    assert cloud.backend == CloudBackendSettings(organization="o", workspace="w")
    assert problems_of(tmp_path, {}, {"CCI_BACKEND": "s3"}) == (
        'CCI_BACKEND must be "local" or a JSON object such as {"type": "s3", ...}, got \'s3\'',
    )
    assert problems_of(tmp_path, {}, {"CCI_BACKEND": '{"type": "s3"}'})[0].startswith(
        "CCI_BACKEND.bucket is missing; a s3 backend needs"
    )


# --- environments ------------------------------------------------------------------------

TWO = {
    "environments": {
        "staging": {
            "account_id": "111122223333",
            "environment": "Staging",
            "tenants_file": "tenants.staging.json",
            "backend": {**S3, "bucket": "cci-lite-tfstate-staging"},
        },
        "production": {"backend": S3},
    }
}


def test_each_environment_is_its_own_stack_with_its_own_settings(tmp_path: Path) -> None:
    staging, production = sorted(load_environments(write_context(tmp_path, TWO), {}), key=lambda s: s.stack)[::-1]
    assert (production.stack, staging.stack) == ("cci-lite-production", "cci-lite-staging")
    assert (production.account_id, production.environment, production.region) == (
        "591338347562",
        "Production",
        "eu-central-1",
    )
    assert (staging.account_id, staging.environment) == ("111122223333", "Staging")
    assert staging.tenants_file == tmp_path / "tenants.staging.json"
    assert production.tenants_file == tmp_path / "tenants.json"
    assert isinstance(staging.backend, S3BackendSettings) and staging.backend.bucket == "cci-lite-tfstate-staging"
    assert staging.lambda_role_arn == "arn:aws:iam::111122223333:role/cci-lite-lambda-role"


def test_one_stack_can_be_selected(tmp_path: Path) -> None:
    project = write_context(tmp_path, TWO)
    (only,) = load_environments(project, {"CCI_STACK": "cci-lite-staging"})
    assert only.stack == "cci-lite-staging"
    assert load_settings(project, {"CCI_STACK": "cci-lite-staging"}) == only
    with pytest.raises(ConfigError, match=r"declares several environments \(cci-lite-production, cci-lite-staging\)"):
        load_settings(project, {})
    assert problems_of(tmp_path, TWO, {"CCI_STACK": "cci-lite-dev"}) == (
        "CCI_STACK must name a stack of this app (cci-lite-production, cci-lite-staging), got 'cci-lite-dev'",
    )


def test_environments_that_would_collide_are_refused(tmp_path: Path) -> None:
    cci = {"environments": {"blue": {}, "green": {"environment": "Green"}}}
    assert problems_of(tmp_path, cci) == (
        "cdktf.json: stacks cci-lite-blue, cci-lite-green would create the same buckets, key alias and table in "
        "account 591338347562, region eu-central-1; give each environment its own account or region",
    )


def test_bad_environment_entries_are_reported_at_once(tmp_path: Path) -> None:
    cci = {"environments": {"Prod": {}, "dev": {"name_prefix": "x", "region": "nowhere-1"}, "qa": []}}
    assert problems_of(tmp_path, cci) == (
        "cdktf.json: context.cci.environments.Prod: the name must be 1-31 lowercase letters, digits or hyphens, "
        "not 'P' U+0050 LATIN CAPITAL LETTER P at character 1, got 'Prod'",
        "cdktf.json: context.cci.environments.dev.name_prefix cannot be set per environment (allowed: account_id, "
        "adopt_file, backend, environment, key_admin_role_arns, lambda_role_arn, noncurrent_version_expiration_days, region, "
        "tenants_file)",
        "cdktf.json: context.cci.environments.qa must be an object of settings, got []",
        "cdktf.json: context.cci.environments.dev.region must be an AWS region such as 'eu-central-1', got 'nowhere-1'",
    )


# --- synthesized backends ------------------------------------------------------------------


@pytest.fixture(scope="module")
def two_stacks(tmp_path_factory: pytest.TempPathFactory) -> dict[str, dict[str, Any]]:
    from constructs_lib.app import build_environments

    project = write_context(tmp_path_factory.mktemp("project"), TWO)
    environments = load_environments(project, {})
    cloud = load_settings(
        project,
        {
            "CCI_STACK": "cci-lite-production",
            "CCI_BACKEND": '{"type": "cloud", "organization": "conversant", "workspace_tags": ["cci-lite", "prod"]}',
        },
    )
    out = tmp_path_factory.mktemp("out")
    build_environments([(env, ()) for env in environments], outdir=str(out)).synth()
    cloud_out = tmp_path_factory.mktemp("cloud")
    build_environments([(cloud, ())], outdir=str(cloud_out)).synth()
    stacks = {p.name: json.loads((p / "cdk.tf.json").read_text()) for p in (out / "stacks").iterdir()}
    stacks["cloud"] = json.loads((cloud_out / "stacks" / "cci-lite-production" / "cdk.tf.json").read_text())
    stacks["cloud"]["//dir"] = str(cloud_out / "stacks" / "cci-lite-production")
    return stacks


def test_every_environment_is_synthesized_as_its_own_stack(two_stacks: dict[str, dict[str, Any]]) -> None:
    assert sorted(two_stacks) == ["cci-lite-production", "cci-lite-staging", "cloud"]
    staging = two_stacks["cci-lite-staging"]
    assert staging["provider"]["aws"][0]["allowed_account_ids"] == ["111122223333"]
    assert staging["provider"]["aws"][0]["default_tags"][0]["tags"]["Environment"] == "Staging"


def test_s3_backend_is_encrypted_with_kms_and_locked_with_a_lock_file(two_stacks: dict[str, dict[str, Any]]) -> None:
    assert two_stacks["cci-lite-production"]["terraform"]["backend"] == {
        "s3": {
            "bucket": "cci-lite-tfstate",
            "key": "cci-lite-production/terraform.tfstate",
            "region": "eu-central-1",
            "encrypt": True,
            "kms_key_id": STATE_KEY,
            "use_lockfile": True,
        }
    }
    assert two_stacks["cci-lite-staging"]["terraform"]["backend"]["s3"]["bucket"] == "cci-lite-tfstate-staging"


def test_cloud_backend_writes_a_cloud_block(two_stacks: dict[str, dict[str, Any]]) -> None:
    terraform_block = two_stacks["cloud"]["terraform"]
    assert "backend" not in terraform_block
    assert terraform_block["cloud"] == {
        "hostname": "app.terraform.io",
        "organization": "conversant",
        "workspaces": {"tags": ["cci-lite", "prod"]},
    }


def test_cloud_configuration_passes_terraform_validate(two_stacks: dict[str, dict[str, Any]], tmp_path: Path) -> None:
    require_tool("terraform", terraform.terraform_binary())
    stack_dir = Path(two_stacks["cloud"]["//dir"])
    env = terraform.terraform_env(terraform.write_cli_config(tmp_path), {"TF_DATA_DIR": str(tmp_path / "data")})
    terraform.run(["init", "-backend=false", "-input=false", "-no-color"], cwd=stack_dir, env=env)
    report = json.loads(terraform.run(["validate", "-json", "-no-color"], cwd=stack_dir, env=env, check=False).stdout)
    assert report["valid"] is True, report["diagnostics"]
