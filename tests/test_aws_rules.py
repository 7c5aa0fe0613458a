"""AWS's own rules, one kind at a time: bucket names, tags, ARNs, accounts, regions (constructs_lib.aws_rules)."""

from __future__ import annotations

import pytest

from constructs_lib import aws_rules
from constructs_lib.aws_rules import (
    bucket_name_problems,
    case_insensitive_pattern,
    default_tag_value_problems,
    ecma,
    iam_role_arn_problems,
    kms_key_arn_problems,
    partition_of,
    s3_object_key_problems,
)

# --- bucket names ------------------------------------------------------------------------


@pytest.mark.parametrize(
    ("name", "problem"),
    [
        ("xn--cci-input", "it must not start with 'xn--' (reserved by S3)"),
        ("sthree-cci", "it must not start with 'sthree-' (reserved by S3)"),
        ("sthree-configurator-x", "it must not start with 'sthree-' (reserved by S3)"),
        ("amzn-s3-demo-x", "it must not start with 'amzn-s3-demo-' (reserved by S3)"),
        ("cci-s3alias", "it must not end with '-s3alias' (reserved by S3)"),
        ("cci--ol-s3", "it must not end with '--ol-s3' (reserved by S3)"),
        ("cci.mrap", "it must not end with '.mrap' (reserved by S3)"),
        ("cci--usw2-az1--x-s3", "it must not end with '--x-s3' (reserved by S3)"),
        ("cci--table-s3", "it must not end with '--table-s3' (reserved by S3)"),
        ("cci-state-an", "it must not end with '-an' unless it is in an account regional namespace"),
        ("192.168.5.4", "it must not be formatted as an IP address"),
        ("cci..state", "it must not contain two adjacent periods"),
        ("Cci-state", "it may contain only lowercase letters, digits, '.' and '-'"),
        ("cci_state", "it may contain only lowercase letters, digits, '.' and '-'"),
        ("cci-st\u00e4te", "it may contain only lowercase letters, digits, '.' and '-'"),
        ("-cci-state", "it must begin and end with a letter or digit"),
        ("cci-state.", "it must begin and end with a letter or digit"),
        ("ab", "it must be 3-63 characters long, not 2"),
        ("a" * 64, "it must be 3-63 characters long, not 64"),
    ],
)
def test_refuses_bucket_names_s3_refuses(name: str, problem: str) -> None:
    assert any(p.startswith(problem) for p in bucket_name_problems(name)), bucket_name_problems(name)


@pytest.mark.parametrize(
    "name",
    [
        "abc",
        "a" * 63,
        "xn-cci",  # one hyphen: not the punycode prefix
        "sthree",
        "amzn-s3-demo",  # no trailing hyphen: not the reserved prefix
        "cci-s3alias-x",
        "cci.state.bucket",
        "192.168.5",
        "1.2.3.4.5",
        "cci-lite-athena-staging-591338347562-eu-central-1",
        "cci-state-111122223333-eu-central-1-an",  # an account regional namespace bucket
    ],
)
def test_accepts_bucket_names_s3_accepts(name: str) -> None:
    assert bucket_name_problems(name) == []


# --- tags --------------------------------------------------------------------------------


@pytest.mark.parametrize(
    "value", ["Soci\u00e9t\u00e9 G\u00e9n\u00e9rale", "Z\u00fcrich", "v1.3+build.7", "a:b/c=d", "\u6771\u4eac"]
)
def test_accepts_tag_values_aws_accepts_on_every_resource(value: str) -> None:
    assert default_tag_value_problems(value) == []


@pytest.mark.parametrize(
    ("value", "problem"),
    [
        ("ops@conversant.example", "may contain only"),  # DynamoDB's tag rule has no @
        ("Prod${x}", "may contain only"),
        ("a\tb", "may contain only"),
        ("\U0001f600", "may contain only"),
        ("aws:prod", "must not start with 'aws:'"),
        ("AWS:prod", "must not start with 'aws:'"),
        ("", "must be 1-256 characters"),
        ("v" * 257, "must be 1-256 characters"),
    ],
)
def test_refuses_tag_values_aws_refuses_on_the_table(value: str, problem: str) -> None:
    assert any(p.startswith(problem) for p in default_tag_value_problems(value))


def test_tag_characters_are_unicode_letters_digits_and_white_space() -> None:
    tag = ecma(aws_rules.TAG_CHARACTERS)
    assert tag("Z\u00fcrich") and tag("Stadt\u00a0Bern") and tag("\u0663") and tag("ops@x")
    assert not tag("50%") and not tag("a;b") and not tag("e\u0301") and not tag("{x}")


def test_case_insensitive_pattern_matches_every_case_and_folding_look_alike() -> None:
    matches = ecma(case_insensitive_pattern(["Version", "tenant_id"]))
    for key in ["Version", "version", "VERSION", "VerSion", "Ver\u017fion", "tenant_id", "TENANT_ID", "Tenant_Id"]:
        assert matches(key), key
    for key in ["Versions", "Versio", "tenant-id", "tenantid", " version"]:
        assert not matches(key), key
    assert "[Kk\u212a]" in case_insensitive_pattern(["k"])


# --- ARNs --------------------------------------------------------------------------------


@pytest.mark.parametrize(
    "arn",
    [
        "arn:aws:iam::123456789012:role/admin",
        "arn:aws-cn:iam::123456789012:role/admin",
        "arn:aws-us-gov:iam::123456789012:role/admin",
        "arn:aws:iam::123456789012:role/service-role/team/Admin+=,.@_-1",
        "arn:aws:iam::123456789012:role/" + "r" * 64,
        "arn:aws:iam::123456789012:role/${aws:username}/%{x}/admin",  # path characters are ! to DEL
    ],
)
def test_accepts_iam_role_arns(arn: str) -> None:
    assert iam_role_arn_problems(arn) == []


@pytest.mark.parametrize(
    ("arn", "problem"),
    [
        ("admin", "it is not an IAM role ARN"),
        ("arn:aws:iam::123456789012:user/admin", "it is not an IAM role ARN"),
        ("arn:aws:sts::123456789012:role/admin", "it is not an IAM role ARN"),
        ("arn:aws-iso:iam::123456789012:role/admin", "the partition must be one of aws, aws-cn, aws-us-gov"),
        ("arn:aws:iam:eu-central-1:123456789012:role/admin", "an IAM ARN has no region"),
        ("arn:aws:iam::12345678901:role/admin", "the account must be a 12-digit account id"),
        ("arn:aws:iam::123456789012:role/" + "r" * 65, "the role name has 1-64 characters"),
        ("arn:aws:iam::123456789012:role/team lead", "the role name has only letters"),
        ("arn:aws:iam::123456789012:role/", "the role name has 1-64 characters"),
        ("arn:aws:iam::123456789012:role/a b/admin", "the role path must be"),
        ("arn:aws:iam::123456789012:role//admin", "the role path must be"),
    ],
)
def test_refuses_iam_role_arns_iam_refuses(arn: str, problem: str) -> None:
    assert any(p.startswith(problem) for p in iam_role_arn_problems(arn)), iam_role_arn_problems(arn)


@pytest.mark.parametrize(
    "arn",
    [
        "arn:aws:kms:eu-central-1:591338347562:key/0d6b1f4e-5c9b-4a43-9f0a-1b2c3d4e5f60",
        "arn:aws:kms:eu-central-1:591338347562:key/mrk-1234abcd12ab34cd56ef1234567890ab",  # a multi-Region key
        "arn:aws-cn:kms:cn-north-1:591338347562:key/mrk-1234abcd12ab34cd56ef1234567890ab",
        "arn:aws:kms:us-east-1:111122223333:alias/terraform/state",
        "arn:aws:kms:us-east-1:111122223333:alias/aws/s3",  # an AWS managed key's alias may be named
    ],
)
def test_accepts_kms_key_and_alias_arns(arn: str) -> None:
    assert kms_key_arn_problems(arn) == []


@pytest.mark.parametrize(
    ("arn", "problem"),
    [
        ("alias/state", "it is not a KMS key ARN"),
        ("arn:aws:s3:::bucket", "it is not a KMS key ARN"),
        ("arn:aws:kms:eu-central-1:591338347562:key/mrk-1234abcd", "the key id must be a UUID, or mrk-"),
        ("arn:aws:kms:eu-central-1:591338347562:key/MRK-1234ABCD12AB34CD56EF1234567890AB", "the key id must be"),
        ("arn:aws:kms:eu-central-1:591338347562:key/0D6B1F4E-5C9B-4A43-9F0A-1B2C3D4E5F60", "the key id must be"),
        ("arn:aws:kms:eu-central-3:591338347562:key/mrk-1234abcd12ab34cd56ef1234567890ab", "'eu-central-3' is not"),
        ("arn:aws:kms:cn-north-1:591338347562:key/mrk-1234abcd12ab34cd56ef1234567890ab", "region cn-north-1 is in"),
        ("arn:aws:kms:eu-central-1:591338347562:alias/state.key", "a KMS alias is alias/ followed by"),
        ("arn:aws:kms:eu-central-1:591338347562:grant/x", "the resource must be key/<key id> or alias/<alias name>"),
    ],
)
def test_refuses_kms_arns_kms_refuses(arn: str, problem: str) -> None:
    assert any(p.startswith(problem) for p in kms_key_arn_problems(arn)), kms_key_arn_problems(arn)


# --- accounts, regions, object keys ----------------------------------------------------------


@pytest.mark.parametrize(
    ("region", "partition"),
    [("eu-central-1", "aws"), ("cn-north-1", "aws-cn"), ("cn-northwest-1", "aws-cn"), ("us-gov-west-1", "aws-us-gov")],
)
def test_each_region_names_its_partition(region: str, partition: str) -> None:
    assert partition_of(region) == partition
    assert aws_rules.REGION_PARTITIONS[region] == partition


def test_account_ids_are_twelve_ascii_digits() -> None:
    assert aws_rules.is_account_id("012345678901")
    for bad in ["12345678901", "1234567890123", "5913383475\uff162", "59133834756\u0663", "591338347562\n"]:
        assert not aws_rules.is_account_id(bad), bad


def test_s3_object_keys_are_up_to_1024_bytes_of_utf8() -> None:
    assert s3_object_key_problems("a" * 1024) == []
    assert s3_object_key_problems("\u00fc" * 512) == []
    assert s3_object_key_problems("\u00fc" * 513) == ["an S3 object key is 1-1024 bytes of UTF-8, this one 1026"]


# --- characters, named: every character refusal says which character, where --------------


@pytest.mark.parametrize(
    ("char", "named"),
    [
        ("*", "'*' U+002A ASTERISK"),
        ("\u00e9", "'\u00e9' U+00E9 LATIN SMALL LETTER E WITH ACUTE"),
        ("\u0301", "U+0301 COMBINING ACUTE ACCENT"),  # a mark joins the quote before it: no glyph
        ("\u00a0", "U+00A0 NO-BREAK SPACE"),
        ("\u200b", "U+200B ZERO WIDTH SPACE"),
        ("\u202e", "U+202E RIGHT-TO-LEFT OVERRIDE"),
        ("\n", "U+000A LINE FEED"),  # no Unicode name: its alias
        ("\x01", "U+0001 (no name; category Cc)"),
        ("\U0001f600", "'\U0001f600' U+1F600 GRINNING FACE"),
    ],
)
def test_character_name_is_code_point_and_unicode_name_with_the_glyph_only_when_visible(char: str, named: str) -> None:
    assert aws_rules.character_name(char) == named


@pytest.mark.parametrize(
    ("pattern", "text", "refused"),
    [
        (aws_rules.BUCKET_NAME_CHARACTERS, "Cci_state", [(0, "C"), (3, "_")]),
        (aws_rules.TAG_CHARACTERS, "Cafe\u0301", [(4, "\u0301")]),  # decomposed: the accent is a mark
        (aws_rules.TAG_CHARACTERS, "Caf\u00e9", []),  # composed: a letter
        (aws_rules.IAM_ROLE_NAME_PATTERN, "a?c", [(1, "?")]),
        (aws_rules.IAM_PATH_PATTERN, "/t\u00e9am/", [(2, "\u00e9")]),
        ("^[a-z0-9][a-z0-9-]{1,61}[a-z0-9]$", "-acme-", []),  # refused for its ends, not a character
        ("^\\S(.*\\S)?$", " x", []),  # no character class: nothing to name by character
    ],
)
def test_characters_outside_a_pattern_are_those_no_class_of_it_allows(
    pattern: str, text: str, refused: list[tuple[int, str]]
) -> None:
    assert aws_rules.characters_outside(text, pattern) == refused


def test_refused_characters_counts_positions_from_one_and_names_at_most_five() -> None:
    assert aws_rules.refused_characters("ab\u0301", "^[a-z]*$") == ", not U+0301 COMBINING ACUTE ACCENT at character 3"
    assert aws_rules.refused_characters("x" + "_" * 7, "^[a-z]*$").endswith(
        "'_' U+005F LOW LINE at character 6 and 2 more"
    )
    assert aws_rules.refused_characters("abc", "^[a-z]*$") == ""


def test_role_arn_problems_name_characters_at_their_place_in_the_arn() -> None:
    arn = "arn:aws:iam::591338347562:role/t\u00e9am/lead\u0301"
    assert iam_role_arn_problems(arn) == [
        "the role path must be '/' or '/.../' of at most 512 printable ASCII characters, not "
        "'\u00e9' U+00E9 LATIN SMALL LETTER E WITH ACUTE at character 33",
        "the role name has only letters, digits and _ + = , . @ -, not U+0301 COMBINING ACUTE ACCENT at character 41",
    ]


# --- ARNs in a policy: what AWS reads as a wildcard or a policy variable -------------------


@pytest.mark.parametrize(
    ("arn", "problems"),
    [
        ("arn:aws:iam::123456789012:role/*", ["'*' U+002A ASTERISK at character 32, which AWS reads as a wildcard "
                                              "for any characters"]),
        ("arn:aws:iam::123456789012:role/a?c", ["'?' U+003F QUESTION MARK at character 33, which AWS reads as a "
                                                "wildcard for any one character"]),
        ("arn:aws:iam::123456789012:role/${aws:username}", ["'$' U+0024 DOLLAR SIGN at character 32, which AWS "
                                                            "reads as the start of a policy variable such as "
                                                            "${aws:username}"]),
        ("arn:aws:iam::123456789012:role/ops/*/x?", ["'*' U+002A ASTERISK at character 36, which AWS reads as a "
                                                     "wildcard for any characters", "'?' U+003F QUESTION MARK at "
                                                     "character 39, which AWS reads as a wildcard for any one "
                                                     "character"]),
        ("arn:aws:iam::123456789012:role/ops/%{x}!#/admin", []),  # a path may hold these; AWS reads them literally
        ("arn:aws:iam::123456789012:role/cci-lite-lambda-role", []),
    ],
)  # fmt: skip
def test_policy_arn_problems_name_every_wildcard_and_variable_character(arn: str, problems: list[str]) -> None:
    assert aws_rules.policy_arn_problems(arn) == problems


def test_iam_accepts_wildcard_characters_in_a_role_path_so_only_the_policy_rule_refuses_them() -> None:
    # CreateRole's Path is '/' or '/' ! to DEL '/': the IAM rule alone would let these through.
    assert iam_role_arn_problems("arn:aws:iam::123456789012:role/ops/*/x") == []
    assert iam_role_arn_problems("arn:aws:iam::123456789012:role/${x}/y") == []


@pytest.mark.parametrize(
    ("one", "other"),
    [
        ("arn:aws:iam::123456789012:role/Admin", "arn:aws:iam::123456789012:role/admin"),
        (
            "arn:aws:iam::123456789012:role/admin",
            "arn:aws:iam::123456789012:role/ops/ADMIN",
        ),  # the path tells none apart
    ],
)
def test_role_identity_is_account_and_name_whatever_the_case_and_path(one: str, other: str) -> None:
    assert aws_rules.iam_role_identity(one) == aws_rules.iam_role_identity(other)


def test_role_identity_tells_accounts_partitions_and_names_apart() -> None:
    identities = {
        aws_rules.iam_role_identity(arn)
        for arn in (
            "arn:aws:iam::123456789012:role/admin",
            "arn:aws:iam::210987654321:role/admin",
            "arn:aws-cn:iam::123456789012:role/admin",
            "arn:aws:iam::123456789012:role/admin2",
        )
    }
    assert len(identities) == 4
    assert aws_rules.iam_role_identity("arn:aws:s3:::bucket") is None
