"""Bad input never gets through: python main.py refuses it, in the user's words.

Every case runs the real main job in a subprocess and checks the exit status, the
message (file, tenant, field, the bad value, what is allowed), that no traceback is
printed, that it answers before the provider bindings load, and that a previous
output directory is left byte for byte as it was.
"""

from __future__ import annotations

import json
import os
import subprocess
import sys
import time
from pathlib import Path
from typing import Any

import pytest

from constructs_lib.output import output_files
from tests.helpers import PROJECT_DIR, copy_project

PREVIOUS = {"manifest.json": b'{"previous": true}', "stacks/cci-lite-production/cdk.tf.json": b'{"old": "output"}'}
#: Rejections come back long before a synth could (the bindings take 10 s or more to load).
FAST_S = 5.0


def run_main(
    tmp_path: Path,
    *,
    tenants: str | bytes | dict[str, Any] | None = None,
    env: dict[str, str] | None = None,
    project: Path = PROJECT_DIR,
    args: tuple[str, ...] = (),
) -> subprocess.CompletedProcess[str]:
    """Run main.py against a previous output directory and assert it survives untouched."""
    out = tmp_path / "cdktf.out"
    for name, data in PREVIOUS.items():
        (out / name).parent.mkdir(parents=True, exist_ok=True)
        (out / name).write_bytes(data)
    full_env = {**os.environ, "CDKTF_OUTDIR": str(out), **(env or {})}
    if tenants is not None:
        tenants_file = tmp_path / "tenants.json"
        if isinstance(tenants, dict):
            tenants = json.dumps(tenants)
        tenants_file.write_bytes(tenants if isinstance(tenants, bytes) else tenants.encode("utf-8"))
        full_env["CCI_TENANTS_FILE"] = str(tenants_file)
    started = time.monotonic()
    result = subprocess.run(
        [sys.executable, str(project / "main.py"), *args],
        cwd=tmp_path,
        env=full_env,
        capture_output=True,
        text=True,
        timeout=120,
    )
    elapsed = time.monotonic() - started
    assert output_files(out) == PREVIOUS
    assert sorted(p.name for p in tmp_path.iterdir() if p.name.startswith(".cdktf.out")) == []
    if result.returncode == 2:
        assert elapsed < FAST_S, f"rejection took {elapsed:.1f}s: validation must run before the bindings load"
    return result


def rejected(result: subprocess.CompletedProcess[str]) -> list[str]:
    """The error lines of a rejected run, after checking the rejection is clean."""
    assert result.returncode == 2, result.stderr
    assert "Traceback" not in result.stderr
    assert result.stdout == ""
    lines = result.stderr.splitlines()
    assert lines and all(line.startswith("error: ") for line in lines), lines
    return [line.removeprefix("error: ") for line in lines]


def tenant_doc(*tenants: dict[str, Any]) -> dict[str, Any]:
    return {"tenants": list(tenants)}


# --- files ---------------------------------------------------------------------------


def test_missing_tenants_file(tmp_path: Path) -> None:
    result = run_main(tmp_path, env={"CCI_TENANTS_FILE": "nowhere/tenants.json"})
    assert rejected(result) == ["nowhere/tenants.json: file not found"]


def test_tenants_path_is_a_directory(tmp_path: Path) -> None:
    (tmp_path / "dir").mkdir()
    assert rejected(run_main(tmp_path, env={"CCI_TENANTS_FILE": "dir"})) == ["dir: cannot be read: Is a directory"]


def test_tenants_file_not_utf8(tmp_path: Path) -> None:
    (message,) = rejected(run_main(tmp_path, tenants=b'{"tenants": [{"tenant_id": "caf\xe9"}]}'))
    assert message == "tenants.json: is not UTF-8 text (byte 31 is 0xe9)"


def test_tenants_file_not_json(tmp_path: Path) -> None:
    (message,) = rejected(run_main(tmp_path, tenants='{"tenants": [{"tenant_id": "acme",}]}'))
    assert message == (
        "tenants.json: is not valid JSON: Expecting property name enclosed in double quotes at line 1 column 35"
    )


def test_tenants_file_with_nan(tmp_path: Path) -> None:
    (message,) = rejected(run_main(tmp_path, tenants='{"tenants": [{"tenant_id": "acme", "kms_guard": NaN}]}'))
    assert message == "tenants.json: is not valid JSON: NaN is not allowed in JSON"


def test_accepts_a_utf8_byte_order_mark_in_the_tenants_file(tmp_path: Path) -> None:
    """Windows editors may start UTF-8 with a BOM; RFC 8259 lets a parser ignore it, and the program does."""
    text = '{"tenants": [{"tenant_id": "Acme"}]}'
    (message,) = rejected(run_main(tmp_path, tenants=b"\xef\xbb\xbf" + text.encode("utf-8")))
    assert message == (
        "tenants.json: tenants[0] ('Acme'): tenant_id must be 3-63 lowercase letters, digits or hyphens, "
        "starting and ending with a letter or digit, not 'A' U+0041 LATIN CAPITAL LETTER A at character 1, got 'Acme'"
    )


def test_accepts_a_utf8_byte_order_mark_in_cdktf_json(tmp_path: Path) -> None:
    project = copy_project(tmp_path, {"account_id": "5913"})
    (project / "cdktf.json").write_bytes(b"\xef\xbb\xbf" + (project / "cdktf.json").read_bytes())
    assert rejected(run_main(tmp_path, project=project)) == [
        "cdktf.json: context.cci.account_id must be a 12-digit AWS account id, got '5913'"
    ]


@pytest.mark.parametrize(
    ("text", "expected"),
    [
        ("[" * 5000 + "]" * 5000, "tenants.json: is not usable JSON: its lists and objects nest too deeply"),
        (
            '{"tenants": [], "n": ' + "7" * 5000 + "}",
            "tenants.json: is not valid JSON: a number has more than 4300 digits",
        ),
        (
            b"\xff\xfe{\x00}\x00",
            "tenants.json: is UTF-16 text (it starts with a UTF-16 byte-order mark); save it as UTF-8",
        ),
        (
            b"\xfe\xff\x00{\x00}",
            "tenants.json: is UTF-16 text (it starts with a UTF-16 byte-order mark); save it as UTF-8",
        ),
        (
            b"\xef\xbb\xbf\xef\xbb\xbf{}",
            "tenants.json: starts with two byte-order marks; save it as UTF-8 (with one at most)",
        ),
        (b"\xef\xbb\xbf{}\xff", "tenants.json: is not UTF-8 text (byte 5 is 0xff)"),  # counted in the file
    ],
)
def test_refuses_unusable_files_in_plain_words(tmp_path: Path, text: str | bytes, expected: str) -> None:
    (message,) = rejected(run_main(tmp_path, tenants=text))
    assert message == expected
    for python_word in ("codec", "utf-8-sig", "Error", "sys.", "recursion", "decode"):
        assert python_word not in message


def test_duplicate_json_keys_in_one_object(tmp_path: Path) -> None:
    text = '{"tenants": [{"tenant_id": "acme", "kms_guard": true, "kms_guard": false}]}'
    assert rejected(run_main(tmp_path, tenants=text)) == [
        "tenants.json: tenants[0] has the key 'kms_guard' more than once; keys must be unique"
    ]


# --- shape and fields --------------------------------------------------------------


def test_wrong_top_level_shape(tmp_path: Path) -> None:
    assert rejected(run_main(tmp_path, tenants='[{"tenant_id": "acme"}]')) == [
        'tenants.json: must be an object like {"tenants": [...]}, got [{"tenant_id": "acme"}]'
    ]


def test_wrong_field_types_are_all_reported(tmp_path: Path) -> None:
    doc = tenant_doc(
        {"tenant_id": "acme", "kms_guard": "yes", "display_name": 7},
        "globex",  # type: ignore[arg-type]
        {"tenant_id": "initech", "tags": ["CostCenter"]},
    )
    assert rejected(run_main(tmp_path, tenants=doc)) == [
        "tenants.json: tenants[0] ('acme'): display_name must be 1-256 characters, with no line break and no white "
        "space at either end, got 7",
        "tenants.json: tenants[0] ('acme'): kms_guard must be true or false, got 'yes'",
        "tenants.json: tenants[1] must be an object with tenant_id and optionally display_name, kms_guard, tags, "
        "got 'globex'",
        "tenants.json: tenants[2] ('initech'): tags must be an object of at most 44 tags (AWS allows 50 per "
        'resource; the stack sets 6), got ["CostCenter"]',
    ]


def test_unknown_fields_are_typos_not_defaults(tmp_path: Path) -> None:
    doc = {"tenants": [{"tenant_id": "acme", "kms_gaurd": True}], "tenant": []}
    assert rejected(run_main(tmp_path, tenants=doc)) == [
        "tenants.json: unknown field 'tenant'; allowed: $schema, tenants",
        "tenants.json: tenants[0] ('acme'): unknown field 'kms_gaurd'; allowed: display_name, kms_guard, tags, "
        "tenant_id",
    ]


@pytest.mark.parametrize(
    ("bad_id", "named"),
    [
        ("ab", ""),  # too short
        ("a" * 64, ""),  # too long
        ("Acme", ", not 'A' U+0041 LATIN CAPITAL LETTER A at character 1"),  # upper case
        ("acme_corp", ", not '_' U+005F LOW LINE at character 5"),  # underscore
        ("acme/../globex", ", not '/' U+002F SOLIDUS at character 5, '.' U+002E FULL STOP at character 6, "
         "'.' U+002E FULL STOP at character 7, '/' U+002F SOLIDUS at character 8"),  # escapes its prefix
        ("-acme", ""),  # leading hyphen
        ("acme-", ""),  # trailing hyphen
        ("\u0430cme", ", not '\u0430' U+0430 CYRILLIC SMALL LETTER A at character 1"),  # looks like acme
        ("acme\n", ", not U+000A LINE FEED at character 5"),  # trailing newline
        ("acme\u0301", ", not U+0301 COMBINING ACUTE ACCENT at character 5"),  # decomposed accent
    ],
)  # fmt: skip
def test_invalid_tenant_id_names_each_refused_character(tmp_path: Path, bad_id: str, named: str) -> None:
    (message,) = rejected(run_main(tmp_path, tenants=tenant_doc({"tenant_id": bad_id})))
    assert message == (
        f"tenants.json: tenants[0] ({bad_id!r}): tenant_id must be 3-63 lowercase letters, digits or hyphens, "
        f"starting and ending with a letter or digit{named}, got {bad_id!r}"
    )


@pytest.mark.parametrize(
    ("display_name", "named"),
    [
        (" Acme", "U+0020 SPACE at character 1"),
        ("Acme\u00a0", "U+00A0 NO-BREAK SPACE at character 5"),
        ("\ufeffAcme", "U+FEFF ZERO WIDTH NO-BREAK SPACE at character 1"),
        ("Acme\u2028Corp", "U+2028 LINE SEPARATOR at character 5"),
        ("Acme\nCorp\r", "U+000A LINE FEED at character 5, U+000D CARRIAGE RETURN at character 10"),
    ],
)
def test_refuses_a_display_name_naming_each_edge_space_or_line_break(
    tmp_path: Path, display_name: str, named: str
) -> None:
    (message,) = rejected(run_main(tmp_path, tenants=tenant_doc({"tenant_id": "acme", "display_name": display_name})))
    assert message == (
        "tenants.json: tenants[0] ('acme'): display_name must be 1-256 characters, with no line break and no white "
        f"space at either end, not {named}, got {display_name!r}"
    )


def test_missing_tenant_id(tmp_path: Path) -> None:
    assert rejected(run_main(tmp_path, tenants=tenant_doc({"display_name": "Acme"}))) == [
        "tenants.json: tenants[0]: tenant_id is missing; it must be 3-63 lowercase letters, digits or hyphens, "
        "starting and ending with a letter or digit"
    ]


def test_duplicate_tenant_ids(tmp_path: Path) -> None:
    doc = tenant_doc({"tenant_id": "acme"}, {"tenant_id": "globex"}, {"tenant_id": "acme", "kms_guard": True})
    assert rejected(run_main(tmp_path, tenants=doc)) == [
        "tenants.json: tenant_id 'acme' appears 2 times (tenants[0], tenants[2]); ids must be unique"
    ]


TAG_KEY_RULE = "must be 1-128 Unicode letters, digits, white space or _ . : / = + - @"
TAG_KEY_RESERVED = (
    "must not start with 'aws:' (AWS reserves it) and must not be tenant_id or a key the stack sets (Component, "
    "Environment, Owner, Project, Region, Tenant, Version), in any letter case"
)
TAG_VALUE_RULE = "must be a string of 0-256 Unicode letters, digits, white space or _ . : / = + - @"


@pytest.mark.parametrize(
    ("tags", "expected"),
    [
        ({"aws:cost": "x"}, f"tag key 'aws:cost' {TAG_KEY_RESERVED}"),
        ({"AWS:cost": "x"}, f"tag key 'AWS:cost' {TAG_KEY_RESERVED}"),
        ({"Tenant": "other"}, f"tag key 'Tenant' {TAG_KEY_RESERVED}"),
        ({"k" * 129: "x"}, f"tag key '{'k' * 129}' {TAG_KEY_RULE}"),
        ({"Cost#Center": "x"}, f"tag key 'Cost#Center' {TAG_KEY_RULE}, not '#' U+0023 NUMBER SIGN at character 5"),
        ({"Cost\tCenter": "x"}, f"tag key 'Cost\\tCenter' {TAG_KEY_RULE}, not U+0009 CHARACTER TABULATION at "
                                "character 5"),
        ({"Ke\u0301y": "x"}, f"tag key 'Ke\u0301y' {TAG_KEY_RULE}, not U+0301 COMBINING ACUTE ACCENT at character 3"),
        ({"CostCenter": "cc${1}"}, f"tag 'CostCenter' value 'cc${{1}}' {TAG_VALUE_RULE}, not '$' U+0024 DOLLAR SIGN at "
                                   "character 3, '{' U+007B LEFT CURLY BRACKET at character 4, '}' U+007D RIGHT "
                                   "CURLY BRACKET at character 6"),
        ({"Team": "Cafe\u0301"}, f"tag 'Team' value 'Cafe\u0301' {TAG_VALUE_RULE}, not U+0301 COMBINING ACUTE ACCENT "
                                 "at character 5"),
        ({"CostCenter": "v" * 257}, f"tag 'CostCenter' value '{'v' * 257}' {TAG_VALUE_RULE}"),
        ({"CostCenter": "aws:managed"}, "tag 'CostCenter' value 'aws:managed' must not start with 'aws:' in any "
                                        "letter case (AWS reserves it)"),
        ({"CostCenter": 100}, f"tag 'CostCenter' value 100 {TAG_VALUE_RULE}"),
    ],
)  # fmt: skip
def test_refuses_tags_aws_would_refuse_naming_each_refused_character(
    tmp_path: Path, tags: dict[str, Any], expected: str
) -> None:
    (message,) = rejected(run_main(tmp_path, tenants=tenant_doc({"tenant_id": "acme", "tags": tags})))
    assert message == f"tenants.json: tenants[0] ('acme'): {expected}"


@pytest.mark.parametrize(
    "key",
    ["tenant_id", "TENANT_ID", "Tenant_Id", "tenant", "TENANT", "environment", "PROJECT", "oWnEr", "Ver\u017fion"],
)
def test_refuses_tags_that_claim_an_identity_in_any_letter_case(tmp_path: Path, key: str) -> None:
    """Issue 13, item 4: the guard trusts tenant_id; IAM compares tag keys case-insensitively."""
    (message,) = rejected(run_main(tmp_path, tenants=tenant_doc({"tenant_id": "acme", "tags": {key: "globex"}})))
    assert message == f"tenants.json: tenants[0] ('acme'): tag key {key!r} {TAG_KEY_RESERVED}"


def test_refuses_tag_keys_of_one_tenant_that_differ_only_by_case(tmp_path: Path) -> None:
    doc = tenant_doc(
        {"tenant_id": "acme", "tags": {"CostCenter": "a", "costcenter": "b", "COSTCENTER": "c", "Team": "x"}},
        {"tenant_id": "globex", "tags": {"CostCenter": "a"}},
        {"tenant_id": "initech", "tags": {"Team": "a", "team": "b"}},
    )
    assert rejected(run_main(tmp_path, tenants=doc)) == [
        "tenants.json: tenants[0] ('acme'): tag keys 'CostCenter', 'costcenter', 'COSTCENTER' differ only by letter "
        "case; AWS (IAM) compares tag keys case-insensitively, so keep one of them",
        "tenants.json: tenants[2] ('initech'): tag keys 'Team', 'team' differ only by letter case; AWS (IAM) "
        "compares tag keys case-insensitively, so keep one of them",
    ]


def test_too_many_tags(tmp_path: Path) -> None:
    tags = {f"Key{i}": "v" for i in range(45)}
    (message,) = rejected(run_main(tmp_path, tenants=tenant_doc({"tenant_id": "acme", "tags": tags})))
    assert message.startswith("tenants.json: tenants[0] ('acme'): tags must be an object of at most 44 tags")


# --- settings --------------------------------------------------------------------------


@pytest.mark.parametrize(
    ("env", "expected"),
    [
        ({"CCI_ACCOUNT_ID": "59133834756"}, "CCI_ACCOUNT_ID must be a 12-digit AWS account id, got '59133834756'"),
        (
            {"CCI_ACCOUNT_ID": "5913383475\uff162"},
            "CCI_ACCOUNT_ID must be a 12-digit AWS account id, not '\uff16' U+FF16 FULLWIDTH DIGIT SIX at character "
            "11, got '5913383475\uff162'",
        ),
        ({"CCI_REGION": "eu-central-3"}, "CCI_REGION must be an AWS region such as 'eu-central-1', got 'eu-central-3'"),
        ({"CCI_ENVIRONMENT": ""}, "CCI_ENVIRONMENT must be a non-empty string, got ''"),
        (
            {"CCI_ENVIRONMENT": "Prod${x}"},
            "CCI_ENVIRONMENT becomes the Environment tag of the key, the buckets and the table, and may contain "
            "only Unicode letters, digits, white space or _ . : / = + - (DynamoDB's tag rule), not '$' U+0024 DOLLAR "
            "SIGN at character 5, '{' U+007B LEFT CURLY BRACKET at character 6, '}' U+007D RIGHT CURLY BRACKET at "
            "character 8, got 'Prod${x}'",
        ),
        (
            {"CCI_ENVIRONMENT": "Produccio\u0301n"},
            "CCI_ENVIRONMENT becomes the Environment tag of the key, the buckets and the table, and may contain "
            "only Unicode letters, digits, white space or _ . : / = + - (DynamoDB's tag rule), not U+0301 COMBINING "
            "ACUTE ACCENT at character 10, got 'Produccio\u0301n'",
        ),
    ],
)
def test_bad_environment_overrides(tmp_path: Path, env: dict[str, str], expected: str) -> None:
    assert rejected(run_main(tmp_path, env=env)) == [expected]


@pytest.mark.parametrize(
    ("region", "named"),
    [
        ("eu-central-1\u0301", ", not U+0301 COMBINING ACUTE ACCENT at character 13"),  # the tester's repro
        ("eu-\u200bcentral-1", ", not U+200B ZERO WIDTH SPACE at character 4"),
        (
            "EU-central-1",
            ", not 'E' U+0045 LATIN CAPITAL LETTER E at character 1, 'U' U+0055 LATIN CAPITAL LETTER U at character 2",
        ),
        ("eu-central-3", ""),  # every character is a region's: the region is simply unknown
    ],
)
def test_refuses_a_region_naming_each_character_no_region_has_invisible_characters(
    tmp_path: Path, region: str, named: str
) -> None:
    project = copy_project(tmp_path, {"region": region})
    assert rejected(run_main(tmp_path, project=project)) == [
        f"cdktf.json: context.cci.region must be an AWS region such as 'eu-central-1'{named}, got {region!r}"
    ]


def test_bad_cdktf_json_context_reports_every_problem(tmp_path: Path) -> None:
    project = copy_project(
        tmp_path,
        {"account_id": 591338347562, "region": "eu-central-1 ", "noncurrent_version_expiration_days": "1", "colour": 1},
    )
    assert rejected(run_main(tmp_path, project=project)) == [
        "cdktf.json: context.cci.colour is not a known setting (known: account_id, adopt_file, backend, environment, "
        "environments, key_admin_role_arns, lambda_role_arn, name_prefix, noncurrent_version_expiration_days, owner, "
        "project, region, retired_stacks, tenants_file, version)",
        "cdktf.json: context.cci.account_id must be a non-empty string, got 591338347562",
        "cdktf.json: context.cci.region must be an AWS region such as 'eu-central-1', not U+0020 SPACE at character "
        "13, got 'eu-central-1 '",
        "cdktf.json: context.cci.noncurrent_version_expiration_days must be a whole number of days from 1 to 3650, "
        "got '1'",
    ]


@pytest.mark.parametrize(
    ("prefix", "reserved"), [("xn--cci", "xn--"), ("sthree-cci", "sthree-"), ("amzn-s3-demo-x", "amzn-s3-demo-")]
)
def test_refuses_a_name_prefix_whose_bucket_names_s3_reserves(tmp_path: Path, prefix: str, reserved: str) -> None:
    """Terraform and the emulator would accept these names; only real S3 refuses them, at apply."""
    (message,) = rejected(run_main(tmp_path, project=copy_project(tmp_path, {"name_prefix": prefix})))
    assert message == (
        f"cdktf.json: context.cci.name_prefix {prefix!r} makes the name '{prefix}-input-591338347562-eu-central-1' "
        f"(account 591338347562, region eu-central-1), and S3 refuses it: it must not start with {reserved!r} "
        "(reserved by S3); choose a shorter or different name_prefix"
    )


def test_refuses_an_admin_role_from_another_partition(tmp_path: Path) -> None:
    """KMS refuses, at apply, a key-policy principal from another partition; the key would be half made."""
    project = copy_project(
        tmp_path, {"region": "cn-north-1", "key_admin_role_arns": ["arn:aws:iam::123456789012:role/admin"]}
    )
    assert rejected(run_main(tmp_path, project=project)) == [
        "cdktf.json: context.cci.key_admin_role_arns[0] 'arn:aws:iam::123456789012:role/admin' is not a role of "
        "account 591338347562 in partition 'aws-cn'; KMS refuses a principal from another partition: name a role "
        "of the stack's own account"
    ]


# --- guards -----------------------------------------------------------------------------


@pytest.mark.parametrize("guarded", [True, False])
def test_refuses_a_lambda_role_in_another_account_guarded_tenants_or_not(tmp_path: Path, guarded: bool) -> None:
    project = copy_project(tmp_path, {"lambda_role_arn": "arn:aws:iam::111122223333:role/cci-lite-lambda-role"})
    doc = tenant_doc({"tenant_id": "acme", "kms_guard": guarded}, {"tenant_id": "globex"})
    assert rejected(run_main(tmp_path, project=project, tenants=doc)) == [
        "cdktf.json: context.cci.lambda_role_arn 'arn:aws:iam::111122223333:role/cci-lite-lambda-role' is not a "
        "role of account 591338347562 in partition 'aws': the key policy exempts the pipeline role from its tenant "
        "Denies and lets it alone use a guarded tenant's context, so it must be the pipeline's role in the stack's "
        "own account: name a role of account 591338347562"
    ]


def test_refuses_a_guarded_tenant_id_that_spells_a_cdktf_number_token(tmp_path: Path) -> None:
    """A valid id, but in the key policy cdktf would read it as a token and the synth would crash."""
    doc = tenant_doc(
        {"tenant_id": "x-8109562212591379e283", "kms_guard": True},
        {"tenant_id": "y-8109562212591379e283"},  # unguarded: it stays in tenants.tf.json, out of cdktf
        {"tenant_id": "acme-1e5", "kms_guard": True},  # a number, but not one of cdktf's token doubles
    )
    assert rejected(run_main(tmp_path, tenants=doc)) == [
        "tenants.json: kms_guard on 'x-8109562212591379e283' cannot be honoured: the id contains "
        "'-8109562212591379e283', which cdktf reads as one of its number tokens in the key policy; drop the guard "
        "or choose another tenant_id"
    ]


def test_guards_beyond_the_key_policy_limit_cannot_be_honoured(tmp_path: Path) -> None:
    doc = tenant_doc(*({"tenant_id": f"{i:04d}-{'x' * 58}", "kms_guard": True} for i in range(600)))
    (message,) = rejected(run_main(tmp_path, tenants=doc))
    assert message.startswith("tenants.json: key policy would be ")
    assert "with 600 guarded tenants; KMS refuses more than 32768" in message


# --- bugs and arguments ----------------------------------------------------------------


def test_a_real_bug_is_one_line_without_debug_and_a_traceback_with_it(tmp_path: Path) -> None:
    project = copy_project(tmp_path, {}, without="tenants.schema.json")
    quiet = run_main(tmp_path, project=project, env={"CCI_TENANTS_FILE": str(PROJECT_DIR / "tenants.json")})
    assert quiet.returncode == 1
    assert "Traceback" not in quiet.stderr
    (line,) = quiet.stderr.splitlines()
    assert line.startswith("error: internal error, not a problem with your input: FileNotFoundError: ")
    assert line.endswith("(run with --debug for the traceback)")
    loud = run_main(
        tmp_path, project=project, env={"CCI_TENANTS_FILE": str(PROJECT_DIR / "tenants.json")}, args=("--debug",)
    )
    assert loud.returncode == 1
    assert "Traceback (most recent call last)" in loud.stderr and "tenants.schema.json" in loud.stderr


def test_unknown_argument(tmp_path: Path) -> None:
    assert rejected(run_main(tmp_path, args=("--tenants",))) == [
        "unknown argument '--tenants'; usage: python main.py [--debug]"
    ]


def test_every_problem_in_the_file_is_reported_at_once(tmp_path: Path) -> None:
    """The README's example."""
    doc = tenant_doc(
        {"tenant_id": "initech"},
        {"tenant_id": "Acme_Corp"},
        {"tenant_id": "globex", "kms_gaurd": True},
        {"tenant_id": "initech"},
    )
    assert rejected(run_main(tmp_path, tenants=doc)) == [
        "tenants.json: tenants[1] ('Acme_Corp'): tenant_id must be 3-63 lowercase letters, digits or hyphens, "
        "starting and ending with a letter or digit, not 'A' U+0041 LATIN CAPITAL LETTER A at character 1, '_' "
        "U+005F LOW LINE at character 5, 'C' U+0043 LATIN CAPITAL LETTER C at character 6, got 'Acme_Corp'",
        "tenants.json: tenants[2] ('globex'): unknown field 'kms_gaurd'; allowed: display_name, kms_guard, tags, "
        "tenant_id",
        "tenants.json: tenant_id 'initech' appears 2 times (tenants[0], tenants[3]); ids must be unique",
    ]
