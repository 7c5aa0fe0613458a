"""Settings follow AWS's own rules (constructs_lib.aws_rules): names, tags, ARNs, backends, and no code.

Each kind has the issue's example and its neighbours, accepted or refused with the
rule in the message.
"""

from __future__ import annotations

import json
import os
import subprocess
import sys
from pathlib import Path
from typing import Any

import pytest

from constructs_lib.backends import S3BackendSettings
from constructs_lib.config import Settings, Tenant, check_guards, load_environments
from constructs_lib.errors import ConfigError
from constructs_lib.naming import BUCKET_ROLES, Names
from tests.helpers import PROJECT_DIR, copy_project


def clean_env(tmp_path: Path) -> dict[str, str]:
    """The environment of a synth without this run's CCI_* overrides, writing under ``tmp_path``."""
    env = {k: v for k, v in os.environ.items() if not k.startswith("CCI_")}
    env["CDKTF_OUTDIR"] = str(tmp_path / "cdktf.out")
    return env


ACCOUNT = "591338347562"
KEY = "arn:aws:kms:eu-central-1:591338347562:key/0d6b1f4e-5c9b-4a43-9f0a-1b2c3d4e5f60"
MRK = "arn:aws:kms:eu-central-1:591338347562:key/mrk-1234abcd12ab34cd56ef1234567890ab"
S3 = {"type": "s3", "bucket": "cci-lite-tfstate", "region": "eu-central-1", "kms_key_id": KEY}
#: cdktf 0.21's encodings of a string, list and map token, and a number token written as text.
CDKTF_TOKENS = ["${TfToken[TOKEN.1]}", "#{TfToken[TOKEN.2]}", "&{TfToken[TOKEN.3]}", "v-8.109562212591379e+298"]


def settings_with(tmp_path: Path, cci: dict[str, Any], environ: dict[str, str] | None = None) -> Settings:
    (environment,) = load_environments(write(tmp_path, cci), environ or {})
    return environment


def problems_with(tmp_path: Path, cci: dict[str, Any], environ: dict[str, str] | None = None) -> tuple[str, ...]:
    with pytest.raises(ConfigError) as error:
        load_environments(write(tmp_path, cci), environ or {})
    return error.value.problems


def write(tmp_path: Path, cci: dict[str, Any]) -> Path:
    document = json.loads((PROJECT_DIR / "cdktf.json").read_text(encoding="utf-8"))
    document["context"]["cci"].update(cci)
    (tmp_path / "cdktf.json").write_text(json.dumps(document), encoding="utf-8")
    return tmp_path


# --- name_prefix: every derived name passes its AWS rule ------------------------------------


@pytest.mark.parametrize(
    ("prefix", "reason"),
    [
        ("xn--cci", "it must not start with 'xn--' (reserved by S3)"),
        ("xn-", "it must not start with 'xn--' (reserved by S3)"),  # xn- + -input makes xn--
        ("sthree-cci", "it must not start with 'sthree-' (reserved by S3)"),
        ("sthree", "it must not start with 'sthree-' (reserved by S3)"),
        ("amzn-s3-demo-x", "it must not start with 'amzn-s3-demo-' (reserved by S3)"),
        ("amzn-s3-demo", "it must not start with 'amzn-s3-demo-' (reserved by S3)"),
        ("-cci", "it must begin and end with a letter or digit"),
    ],
)
def test_refuses_name_prefix_that_makes_bucket_names_s3_reserves(tmp_path: Path, prefix: str, reason: str) -> None:
    (problem,) = problems_with(tmp_path, {"name_prefix": prefix})
    bucket = f"{prefix}-input-{ACCOUNT}-eu-central-1"
    assert problem == (
        f"cdktf.json: context.cci.name_prefix {prefix!r} makes the name {bucket!r} (account {ACCOUNT}, region "
        f"eu-central-1), and S3 refuses it: {reason}; choose a shorter or different name_prefix"
    )


@pytest.mark.parametrize("prefix", ["xn-cci", "sthree1", "amzn-s3", "cci", "c", "cci-lite-", "a" * 22])
def test_accepts_name_prefix_whose_names_aws_accepts(tmp_path: Path, prefix: str) -> None:
    settings = settings_with(tmp_path, {"name_prefix": prefix})
    assert [len(Names(settings=settings).bucket(role)) <= 63 for role in BUCKET_ROLES] == [True] * 3


def test_refuses_name_prefix_too_long_for_the_longest_bucket_name_in_its_region(tmp_path: Path) -> None:
    # 63 = 22 + len("-athena-staging-") + 12 + 1 + len("eu-central-1"); ap-southeast-1 is 2 longer.
    assert settings_with(tmp_path, {"name_prefix": "a" * 22}).name_prefix == "a" * 22
    (problem,) = problems_with(tmp_path, {"name_prefix": "a" * 23})
    assert f"makes the name '{'a' * 23}-athena-staging-{ACCOUNT}-eu-central-1'" in problem
    assert "S3 refuses it: it must be 3-63 characters long, not 64" in problem
    (problem,) = problems_with(tmp_path, {"name_prefix": "a" * 21, "region": "ap-southeast-1"})
    assert "region ap-southeast-1), and S3 refuses it: it must be 3-63 characters long, not 64" in problem


@pytest.mark.parametrize(
    ("prefix", "named"),
    [
        ("CCI", "'C' U+0043 LATIN CAPITAL LETTER C at character 1, 'C' U+0043 LATIN CAPITAL LETTER C at character 2, "
         "'I' U+0049 LATIN CAPITAL LETTER I at character 3"),
        ("cci_lite", "'_' U+005F LOW LINE at character 4"),
        ("cci.lite", "'.' U+002E FULL STOP at character 4"),
        ("c\u00e9i", "'\u00e9' U+00E9 LATIN SMALL LETTER E WITH ACUTE at character 2"),
        ("ce\u0301i", "U+0301 COMBINING ACUTE ACCENT at character 3"),  # the same é, decomposed
        ("cci lite", "U+0020 SPACE at character 4"),
    ],
)  # fmt: skip
def test_refuses_name_prefix_characters_a_derived_name_refuses_naming_each_character(
    tmp_path: Path, prefix: str, named: str
) -> None:
    assert problems_with(tmp_path, {"name_prefix": prefix}) == (
        "cdktf.json: context.cci.name_prefix must be lowercase letters, digits or hyphens (the characters S3 "
        f"bucket names, KMS aliases, DynamoDB tables and IAM roles all allow), not {named}, got {prefix!r}",
    )


# --- the stack's tags: AWS's Unicode rule, on the key, the buckets and the table -----------


@pytest.mark.parametrize(
    ("key", "value"),
    [
        ("owner", "Soci\u00e9t\u00e9 G\u00e9n\u00e9rale"),
        ("owner", "M\u00fcller & S\u00f6hne".replace("&", "und")),
        ("environment", "Z\u00fcrich Prod"),
        ("project", "\u6771\u4eac-CCI"),
        ("version", "v1.3+build.7"),
        ("owner", "Team\u00a0Ops"),  # a no-break space is white space (\\p{Z})
    ],
)
def test_accepts_unicode_tag_values_aws_accepts(tmp_path: Path, key: str, value: str) -> None:
    assert getattr(settings_with(tmp_path, {key: value}), key) == value


@pytest.mark.parametrize(
    ("key", "value", "rule"),
    [
        ("owner", "ops@conversant.example", "may contain only Unicode letters, digits, white space or _ . : / = + -"),
        ("owner", "Smith & Co", "may contain only Unicode letters, digits, white space or _ . : / = + -"),
        ("project", "cci\tlite", "may contain only Unicode letters, digits, white space or _ . : / = + -"),
        ("version", "aws:v1", "must not start with 'aws:', which AWS reserves"),
        ("environment", "AWS:prod", "must not start with 'aws:', which AWS reserves"),
        ("owner", "o" * 257, "must be 1-256 characters"),
    ],
)
def test_refuses_tag_values_aws_refuses(tmp_path: Path, key: str, value: str, rule: str) -> None:
    (problem,) = problems_with(tmp_path, {key: value})
    assert problem.startswith(f"cdktf.json: context.cci.{key} becomes the ")
    assert f"tag of the key, the buckets and the table, and {rule}" in problem and problem.endswith(f"got {value!r}")


# --- ARNs: partition and account, the way lambda_role_arn is checked ------------------------


def test_refuses_admin_role_from_another_partition(tmp_path: Path) -> None:
    arn = "arn:aws:iam::123456789012:role/admin"
    assert problems_with(
        tmp_path, {"region": "cn-north-1", "account_id": "123456789012", "key_admin_role_arns": [arn]}
    ) == (
        f"cdktf.json: context.cci.key_admin_role_arns[0] {arn!r} is not a role of account 123456789012 in "
        "partition 'aws-cn'; KMS refuses a principal from another partition: name a role of the stack's own account",
    )


def test_refuses_admin_role_from_another_account_naming_the_account_rule(tmp_path: Path) -> None:
    # The tester's case: same partition, another account; the message blamed the partition.
    arn = "arn:aws:iam::111122223333:role/admin"
    assert problems_with(tmp_path, {"key_admin_role_arns": [arn]}) == (
        f"cdktf.json: context.cci.key_admin_role_arns[0] {arn!r} is a role of account 111122223333, not of the "
        "stack's account 591338347562; key administrators must be roles of the account that owns the key (a role "
        "of another account would administer it under that account's IAM, outside this one's control): name a "
        "role of account 591338347562",
    )


@pytest.mark.parametrize(
    ("region", "arn", "accepted"),
    [
        ("cn-north-1", "arn:aws-cn:iam::123456789012:role/admin", True),
        ("us-gov-west-1", "arn:aws-us-gov:iam::123456789012:role/admin", True),
        ("us-gov-west-1", "arn:aws:iam::123456789012:role/admin", False),
        ("eu-central-1", "arn:aws-cn:iam::123456789012:role/admin", False),
        ("eu-central-1", "arn:aws:iam::111122223333:role/admin", False),  # another account
        ("eu-central-1", "arn:aws:iam::123456789012:role/team/admin", True),
    ],
)
def test_admin_roles_must_be_of_the_stacks_account_and_partition(
    tmp_path: Path, region: str, arn: str, accepted: bool
) -> None:
    cci = {"region": region, "account_id": "123456789012", "key_admin_role_arns": [arn]}
    if accepted:
        assert settings_with(tmp_path, cci).key_admin_role_arns == (arn,)
    else:
        (problem,) = problems_with(tmp_path, cci)
        assert (
            "is not a role of account 123456789012 in partition" in problem
            or "not of the stack's account 123456789012" in problem
        )


def test_refuses_a_malformed_admin_role_with_the_rule(tmp_path: Path) -> None:
    (problem,) = problems_with(tmp_path, {"key_admin_role_arns": ["arn:aws:iam::591338347562:role/team lead"]})
    assert problem == (
        "cdktf.json: context.cci.key_admin_role_arns[0] must be an IAM role ARN (arn:<partition>:iam::<account>:"
        "role/<path><name>): the role name has only letters, digits and _ + = , . @ -, not U+0020 SPACE at "
        "character 36, got 'arn:aws:iam::591338347562:role/team lead'"
    )


# --- role ARNs in the key policy: one role each, named literally --------------------------------

WILDCARD_ROLE_ARNS = [
    (f"arn:aws:iam::{ACCOUNT}:role/*", "'*' U+002A ASTERISK at character 32, which AWS reads as a wildcard for any "
                                       "characters"),
    (f"arn:aws:iam::{ACCOUNT}:role/a?c", "'?' U+003F QUESTION MARK at character 33, which AWS reads as a wildcard "
                                         "for any one character"),
    (f"arn:aws:iam::{ACCOUNT}:role/ops/*/pipeline", "'*' U+002A ASTERISK at character 36, which AWS reads as a "
                                                    "wildcard for any characters"),
    (f"arn:aws:iam::{ACCOUNT}:role/${{aws:PrincipalTag/team}}/pipeline", "'$' U+0024 DOLLAR SIGN at character 32, "
                                                                         "which AWS reads as the start of a policy "
                                                                         "variable such as ${aws:username}"),
    (f"arn:aws:iam::{ACCOUNT}:role/price$/pipeline", "'$' U+0024 DOLLAR SIGN at character 37, which AWS reads as the "
                                                     "start of a policy variable such as ${aws:username}"),
]  # fmt: skip
WILDCARD_REFUSED = (
    "the key policy names this role (Principal, aws:PrincipalArn), where it would match other roles, or none: name "
    "exactly one role, without * ? or $"
)


@pytest.mark.parametrize(
    ("arn", "named"), WILDCARD_ROLE_ARNS, ids=[a.split(":role/")[1] for a, _ in WILDCARD_ROLE_ARNS]
)
@pytest.mark.parametrize("key", ["key_admin_role_arns", "lambda_role_arn"])
def test_refuses_a_wildcard_or_policy_variable_in_a_role_arn(tmp_path: Path, key: str, arn: str, named: str) -> None:
    """A role path may hold * ? $; in the key policy they would widen the admin grant or the guards' exemption."""
    where = f"cdktf.json: context.cci.{key}" + ("[0]" if key == "key_admin_role_arns" else "")
    assert problems_with(tmp_path, {key: [arn] if key == "key_admin_role_arns" else arn}) == (
        f"{where} has {named}; {WILDCARD_REFUSED}, got {arn!r}",
    )


def test_refuses_every_wildcard_role_arn_at_once_one_line_each_with_every_character(tmp_path: Path) -> None:
    admins = [f"arn:aws:iam::{ACCOUNT}:role/ops/*/x?", f"arn:aws:iam::{ACCOUNT}:role/platform-admin"]
    lambda_role = f"arn:aws:iam::{ACCOUNT}:role/${{aws:username}}"
    assert problems_with(tmp_path, {"key_admin_role_arns": admins, "lambda_role_arn": lambda_role}) == (
        "cdktf.json: context.cci.key_admin_role_arns[0] has '*' U+002A ASTERISK at character 36, which AWS reads as a "
        "wildcard for any characters; and '?' U+003F QUESTION MARK at character 39, which AWS reads as a wildcard "
        f"for any one character; {WILDCARD_REFUSED}, got {admins[0]!r}",
        "cdktf.json: context.cci.lambda_role_arn has '$' U+0024 DOLLAR SIGN at character 32, which AWS reads as the "
        f"start of a policy variable such as ${{aws:username}}; {WILDCARD_REFUSED}; besides, the role name has only "
        "letters, digits and _ + = , . @ -, not '{' U+007B LEFT CURLY BRACKET at character 33, ':' U+003A COLON at "
        f"character 37, '}}' U+007D RIGHT CURLY BRACKET at character 46, got {lambda_role!r}",
    )


def test_a_wildcard_role_arn_stops_the_synth_with_exit_2_and_no_traceback(tmp_path: Path) -> None:
    project = copy_project(tmp_path, {"lambda_role_arn": f"arn:aws:iam::{ACCOUNT}:role/cci/*"})
    result = subprocess.run(
        [sys.executable, "main.py"], cwd=project, capture_output=True, text=True, env=clean_env(tmp_path), check=False
    )
    assert (result.returncode, result.stdout) == (2, "")
    assert result.stderr == (
        "error: cdktf.json: context.cci.lambda_role_arn has '*' U+002A ASTERISK at character 36, which AWS reads as a "
        f"wildcard for any characters; {WILDCARD_REFUSED}, got 'arn:aws:iam::{ACCOUNT}:role/cci/*'\n"
    )


@pytest.mark.parametrize(
    "admins",
    [
        [f"arn:aws:iam::{ACCOUNT}:role/Admin", f"arn:aws:iam::{ACCOUNT}:role/admin"],  # case only
        [f"arn:aws:iam::{ACCOUNT}:role/admin", f"arn:aws:iam::{ACCOUNT}:role/ops/ADMIN"],  # path and case
        [f"arn:aws:iam::{ACCOUNT}:role/admin", f"arn:aws:iam::{ACCOUNT}:role/admin"],  # the same text
    ],
)
def test_refuses_admin_roles_that_name_one_role_whatever_the_case_and_path(tmp_path: Path, admins: list[str]) -> None:
    assert problems_with(tmp_path, {"key_admin_role_arns": [*admins, f"arn:aws:iam::{ACCOUNT}:role/other"]}) == (
        f"cdktf.json: context.cci.key_admin_role_arns lists one role 2 times ([0] {admins[0]!r}, [1] {admins[1]!r}): "
        "IAM role names are unique in an account whatever their letter case and path; list each role once",
    )


def test_accepts_admin_roles_of_different_names(tmp_path: Path) -> None:
    admins = [f"arn:aws:iam::{ACCOUNT}:role/admin", f"arn:aws:iam::{ACCOUNT}:role/admin2"]
    assert settings_with(tmp_path, {"key_admin_role_arns": admins}).key_admin_role_arns == tuple(admins)


@pytest.mark.parametrize("lambda_role", [None, f"arn:aws:iam::{ACCOUNT}:role/svc/cci-lite-lambda-role"])
def test_refuses_an_admin_role_that_is_the_pipeline_role_whatever_the_case(
    tmp_path: Path, lambda_role: str | None
) -> None:
    admin = f"arn:aws:iam::{ACCOUNT}:role/CCI-Lite-Lambda-Role"
    where = (
        "cdktf.json: context.cci.lambda_role_arn (null: the default "
        f"'arn:aws:iam::{ACCOUNT}:role/cci-lite-lambda-role')"
        if lambda_role is None
        else f"cdktf.json: context.cci.lambda_role_arn {lambda_role!r}"
    )
    assert problems_with(tmp_path, {"key_admin_role_arns": [admin], "lambda_role_arn": lambda_role}) == (
        f"{where} names the same role as context.cci.key_admin_role_arns[0] {admin!r}: the pipeline role uses the "
        "key and a key administrator manages it without using it (and is not exempt from the per-tenant guard), so "
        "one role cannot be both; name a separate administrator role",
    )


@pytest.mark.parametrize(
    ("region", "arn", "account"),
    [
        ("cn-north-1", f"arn:aws:iam::{ACCOUNT}:role/cci-lite-lambda-role", ACCOUNT),  # another partition
        ("eu-central-1", "arn:aws-cn:iam::111122223333:role/other", ACCOUNT),  # the tester's repro
        ("eu-central-1", "arn:aws:iam::111122223333:role/cci-lite-lambda-role", ACCOUNT),  # another account
    ],
)
def test_refuses_a_lambda_role_outside_the_stacks_account_guarded_tenants_or_not(
    tmp_path: Path, region: str, arn: str, account: str
) -> None:
    # The key policy names the pipeline role always (DenyTenantKeyManagement exempts it), not only with a guard.
    partition = "aws-cn" if region.startswith("cn-") else "aws"
    assert problems_with(tmp_path, {"region": region, "lambda_role_arn": arn}) == (
        f"cdktf.json: context.cci.lambda_role_arn {arn!r} is not a role of account {account} in partition "
        f"{partition!r}: the key policy exempts the pipeline role from its tenant Denies and lets it alone use a "
        "guarded tenant's context, so it must be the pipeline's role in the stack's own account: name a role of "
        f"account {account}",
    )


def test_the_default_lambda_role_is_the_stacks_own_in_every_partition(tmp_path: Path) -> None:
    default = settings_with(tmp_path, {"region": "cn-north-1", "lambda_role_arn": None})
    assert default.lambda_role_arn == f"arn:aws-cn:iam::{ACCOUNT}:role/cci-lite-lambda-role"
    check_guards(default, [Tenant(tenant_id="acme", display_name="Acme", kms_guard=True)], "t.json")


# --- the s3 backend's key: any account, the state bucket's region and partition -------------


@pytest.mark.parametrize(
    "kms_key_id",
    [
        KEY,
        MRK,  # a multi-Region key: mrk- and 32 hex digits
        "arn:aws:kms:eu-central-1:111122223333:key/mrk-1234abcd12ab34cd56ef1234567890ab",  # another account
        "arn:aws:kms:eu-central-1:591338347562:alias/terraform-state",
    ],
)
def test_accepts_state_keys_s3_can_use(tmp_path: Path, kms_key_id: str) -> None:
    backend = settings_with(tmp_path, {"backend": {**S3, "kms_key_id": kms_key_id}}).backend
    assert isinstance(backend, S3BackendSettings) and backend.kms_key_id == kms_key_id


@pytest.mark.parametrize(
    ("backend", "region", "partition"),
    [
        ({**S3, "kms_key_id": MRK.replace("eu-central-1", "eu-west-1")}, "eu-central-1", "aws"),
        (
            {
                **S3,
                "region": "cn-north-1",
                "kms_key_id": MRK.replace(":aws:kms:eu-central-1", ":aws-cn:kms:cn-northwest-1"),
            },
            "cn-north-1",
            "aws-cn",
        ),
        ({**S3, "region": "cn-north-1", "kms_key_id": MRK}, "cn-north-1", "aws-cn"),
    ],
)
def test_refuses_a_state_key_outside_the_state_buckets_region(
    tmp_path: Path, backend: dict[str, str], region: str, partition: str
) -> None:
    (problem,) = problems_with(tmp_path, {"backend": backend})
    assert problem.startswith("cdktf.json: context.cci.backend.kms_key_id ")
    assert problem.endswith(
        f"is not a key in region {region} of partition {partition!r}; S3 encrypts the state only with a key in the "
        "state bucket's region"
    )


@pytest.mark.parametrize(
    ("bucket", "reason"),
    [
        ("xn--state", "it must not start with 'xn--' (reserved by S3)"),
        ("state--ol-s3", "it must not end with '--ol-s3' (reserved by S3)"),
        ("10.0.0.1", "it must not be formatted as an IP address"),
    ],
)
def test_refuses_a_state_bucket_name_s3_refuses(tmp_path: Path, bucket: str, reason: str) -> None:
    assert problems_with(tmp_path, {"backend": {**S3, "bucket": bucket}}) == (
        f"cdktf.json: context.cci.backend.bucket must be an S3 bucket name ({reason}), got {bucket!r}",
    )


def test_refuses_a_state_key_longer_than_s3_allows(tmp_path: Path) -> None:
    (problem,) = problems_with(tmp_path, {"backend": {**S3, "key": "s/" + "\u00fc" * 512}})
    assert "must be an S3 object key (an S3 object key is 1-1024 bytes of UTF-8, this one 1026)" in problem


# --- no user text reaches cdktf as code --------------------------------------------------------


TOKEN_REFUSED = "which cdktf reads as one of its tokens and would replace"
NUMBER_TOKEN = "-8.109562212591379e+298"


@pytest.mark.parametrize("key", ["environment", "owner", "version", "project"])
def test_refuses_a_cdktf_number_token_the_tag_rule_lets_through(tmp_path: Path, key: str) -> None:
    """A number token is made only of characters AWS allows in a tag: only the token check stops it."""
    assert problems_with(tmp_path, {key: f"v{NUMBER_TOKEN}"}) == (
        f"cdktf.json: context.cci.{key} contains {NUMBER_TOKEN!r}, {TOKEN_REFUSED}, got 'v{NUMBER_TOKEN}'",
    )


@pytest.mark.parametrize("token", CDKTF_TOKENS[:3])
@pytest.mark.parametrize("key", ["environment", "owner", "version", "project"])
def test_string_list_and_map_tokens_break_the_tag_rule(tmp_path: Path, key: str, token: str) -> None:
    (problem,) = problems_with(tmp_path, {key: f"x{token}"})
    assert "may contain only Unicode letters, digits, white space or _ . : / = + -" in problem


def test_refuses_a_name_prefix_that_spells_a_cdktf_number_token(tmp_path: Path) -> None:
    prefix = "x-8109562212591379e283"  # parseFloat("-8109562212591379e283") is cdktf's first token double
    (problem, *_) = problems_with(tmp_path, {"name_prefix": prefix})
    assert (
        problem
        == f"cdktf.json: context.cci.name_prefix contains '-8109562212591379e283', {TOKEN_REFUSED}, got {prefix!r}"
    )


@pytest.mark.parametrize("token", [*CDKTF_TOKENS[1:3], NUMBER_TOKEN])
@pytest.mark.parametrize("key", ["key_admin_role_arns", "lambda_role_arn"])
def test_refuses_a_cdktf_token_in_a_role_path(tmp_path: Path, key: str, token: str) -> None:
    """IAM role paths may hold any of ! to DEL, so the role rule alone lets every token through.
    (A string token, ``${TfToken[...]}``, is refused before for its ``$``: see the policy-character tests.)"""
    arn = f"arn:aws:iam::{ACCOUNT}:role/x{token}/admin"
    where = f"cdktf.json: context.cci.{key}" + ("[0]" if key == "key_admin_role_arns" else "")
    assert problems_with(tmp_path, {key: [arn] if key == "key_admin_role_arns" else arn}) == (
        f"{where} contains {token!r}, {TOKEN_REFUSED}, got {arn!r}",
    )


@pytest.mark.parametrize(
    ("field", "value", "problem"),
    [
        (
            "key",
            "state/${var.env}/terraform.tfstate",
            "contains '${', which Terraform reads as the start of a template",
        ),
        ("key", "state/%{if x}/tfstate", "contains '%{', which Terraform reads as the start of a template"),
        ("key", "state/${TfToken[TOKEN.7]}", "contains '${TfToken[TOKEN.7]}', which cdktf reads as one of its tokens"),
        ("key", "state/-8.109562212591379e+298", "contains '-8.109562212591379e+298', which cdktf reads as one"),
    ],
)
def test_refuses_backend_values_terraform_or_cdktf_would_read_as_code(
    tmp_path: Path, field: str, value: str, problem: str
) -> None:
    (message,) = problems_with(tmp_path, {"backend": {**S3, field: value}})
    assert message.startswith(f"cdktf.json: context.cci.backend.{field} {problem}")


def test_refuses_a_template_in_a_local_state_path(tmp_path: Path) -> None:
    assert problems_with(tmp_path, {"backend": {"type": "local", "path": "state/${terraform.workspace}.tfstate"}}) == (
        "cdktf.json: context.cci.backend.path contains '${', which Terraform reads as the start of a template, "
        "got 'state/${terraform.workspace}.tfstate'",
    )
