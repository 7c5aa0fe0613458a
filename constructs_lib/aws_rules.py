"""AWS's own rules for the names, tags, ARNs, account ids and regions the stack takes in.

Pure: no jsii import. Each rule is data (a pattern, a list, a limit), a check that
returns the problems in the user's words (without the "where", which the caller
knows) and the AWS documentation page it follows, named beside it. config.py
(settings), backends.py (state backends) and tenant_schema.py / tenants.schema.json
(tenants) all use these; tests hold the schema's patterns equal to the ones here.

Patterns are ECMA-262 regular expressions read with the ``u`` (Unicode) flag: the
dialect of JSON Schema's ``pattern``, of ajv and of editors. The program evaluates
them with ``regress`` (Rust's ECMA-262 engine, the one the ``jsonschema`` project
points to for ECMA patterns), never with Python's ``re``, whose ``$``, ``.``, ``\\s``
and ``\\d`` mean other things. So a pattern here means the same to the program, to
tenants.schema.json and to the editor showing it.
"""

from __future__ import annotations

import ipaddress
import unicodedata
from collections.abc import Callable, Iterable, Sequence
from dataclasses import dataclass
from functools import cache

import regress

# --- ECMA-262 patterns ---------------------------------------------------------------


@cache
def ecma(pattern: str) -> Callable[[str], bool]:
    """A test ``text -> bool``: does ``pattern`` (ECMA-262, ``u`` flag) match somewhere in ``text``.

    As in JSON Schema, a pattern is not anchored: write ``^...$``. ``$`` matches only
    at the very end (no ``m`` flag), ``.`` matches no line terminator (``\\n \\r
    \\u2028 \\u2029``), ``\\s`` is ECMA's white space (including ``\\ufeff`` and every
    ``Zs`` character) and ``\\p{L}`` is any Unicode letter. A string with a lone
    surrogate is not Unicode text and matches nothing. Raises ``regress.RegressError``
    for a pattern that is not ECMA-262.
    """
    find = regress.Regex(pattern, "u").find

    def matches(text: str) -> bool:
        try:
            return find(text) is not None
        except UnicodeEncodeError:  # a lone surrogate; jsonfile refuses those before
            return False

    return matches


def case_insensitive_pattern(words: Iterable[str]) -> str:
    """An ECMA-262 pattern matching exactly ``words``, whatever the letter case.

    JSON Schema patterns take no flags, so each letter becomes a class of every
    character that case-folds to the same letter (Unicode simple case folding, as
    ECMA-262's ``i`` flag would): ``s`` is ``[Ss\\u017f]`` (long s), ``k`` is ``[Kk\\u212a]``
    (Kelvin sign).
    """
    alternatives = []
    for word in sorted(words):
        parts = []
        for char in word:
            variants = sorted(_case_variants(char))
            if len(variants) == 1:
                parts.append(_escape(char))
            else:
                parts.append("[" + "".join(_escape(v) for v in variants) + "]")
        alternatives.append("".join(parts))
    return "^(?:" + "|".join(alternatives) + ")$"


@cache
def _fold_classes() -> dict[str, frozenset[str]]:
    classes: dict[str, set[str]] = {}
    for code in range(0x110000):
        if 0xD800 <= code <= 0xDFFF:
            continue
        char = chr(code)
        folded = char.casefold()
        if len(folded) == 1 and folded != char:
            classes.setdefault(folded, {folded}).add(char)
    return {key: frozenset(value) for key, value in classes.items()}


def _case_variants(char: str) -> frozenset[str]:
    folded = char.casefold()
    return _fold_classes().get(folded, frozenset({char})) if len(folded) == 1 else frozenset({char})


def _escape(char: str) -> str:
    # ECMA-262's syntax characters and '/', the only identity escapes the u flag allows.
    return "\\" + char if char in r"\^$.|?*+()[]{}/" else char


# --- characters, named ------------------------------------------------------------------

#: How many refused characters one message names; the rest are counted.
NAMED_CHARACTERS_MAX = 5


#: Control characters have no Unicode name; these are their aliases (Unicode's NameAliases.txt).
_CONTROL_NAMES: dict[str, str] = {
    "\x00": "NULL",
    "\t": "CHARACTER TABULATION",
    "\n": "LINE FEED",
    "\x0b": "LINE TABULATION",
    "\x0c": "FORM FEED",
    "\r": "CARRIAGE RETURN",
    "\x1b": "ESCAPE",
    "\x7f": "DELETE",
    "\x85": "NEXT LINE",
}


def character_name(char: str) -> str:
    """One character as a message names it: ``'*' U+002A ASTERISK``, or without the glyph for
    one that shows as nothing or joins its neighbour (``U+0301 COMBINING ACUTE ACCENT``,
    ``U+00A0 NO-BREAK SPACE``, ``U+000A`` control characters). The name is Unicode's
    (``unicodedata.name``); a character without one says its general category.
    https://www.unicode.org/reports/tr44/#General_Category_Values
    """
    code = f"U+{ord(char):04X}"
    category = unicodedata.category(char)
    name = unicodedata.name(char, "") or _CONTROL_NAMES.get(char) or f"(no name; category {category})"
    shown = category[0] not in "MCZ"  # marks join the quote before them; others print as nothing or move text
    return f"{char!r} {code} {name}" if shown else f"{code} {name}"


def named_characters(found: Sequence[tuple[int, str]]) -> str:
    """``'é' U+00E9 LATIN SMALL LETTER E WITH ACUTE at character 4, ...`` for (0-based index, char) pairs."""
    shown = [f"{character_name(char)} at character {index + 1}" for index, char in found[:NAMED_CHARACTERS_MAX]]
    more = len(found) - NAMED_CHARACTERS_MAX
    return ", ".join(shown) + (f" and {more} more" if more > 0 else "")


def character_classes(pattern: str) -> str | None:
    """An ECMA-262 pattern of one character that any bracket class of ``pattern`` allows, or None.

    ``^[a-z0-9][a-z0-9-]{1,61}[a-z0-9]$`` gives ``^(?:[a-z0-9]|[a-z0-9-]|[a-z0-9])$``: the
    characters the pattern can take anywhere. Used only to name what a refusal refused;
    the pattern itself decides validity.
    """
    classes: list[str] = []
    index = 0
    while index < len(pattern):
        char = pattern[index]
        if char == "\\":
            index += 2
            continue
        if char == "[":
            end = index + 1
            while end < len(pattern) and pattern[end] != "]":
                end += 2 if pattern[end] == "\\" else 1
            classes.append(pattern[index : end + 1])
            index = end
        index += 1
    return "^(?:" + "|".join(classes) + ")$" if classes else None


def characters_outside(text: str, pattern: str, *, offset: int = 0) -> list[tuple[int, str]]:
    """(index, char) of every character of ``text`` that no bracket class of ``pattern`` allows;
    ``offset`` is added to each 0-based index (where ``text`` starts in what the user wrote)."""
    one = character_classes(pattern)
    if one is None:
        return []
    allowed = ecma(one)
    return [(offset + index, char) for index, char in enumerate(text) if not allowed(char)]


def refused_characters(text: str, pattern: str, *, offset: int = 0) -> str:
    """``, not U+0301 COMBINING ACUTE ACCENT at character 5``: the characters ``pattern`` refuses in
    ``text`` (positions counted from 1, plus ``offset``), or "" when it refuses none by character."""
    found = characters_outside(text, pattern, offset=offset)
    return f", not {named_characters(found)}" if found else ""


# --- accounts, regions and partitions ------------------------------------------------

#: "A 12-digit number, such as 012345678901, that uniquely identifies an AWS account."
ACCOUNT_ID_DOC = "https://docs.aws.amazon.com/accounts/latest/reference/manage-acct-identifiers.html"
ACCOUNT_ID_PATTERN = "^[0-9]{12}$"

#: The characters of every region code (``eu-central-1``, ``us-gov-west-1``): only to name what a
#: refusal refused; the list of known regions decides validity.
REGION_CHARACTERS = "^[a-z0-9-]+$"

#: Partitions: "a group of AWS Regions. Each AWS account is scoped to one partition."
PARTITION_DOC = "https://docs.aws.amazon.com/IAM/latest/UserGuide/reference-arns.html"
REGIONS_DOC = "https://docs.aws.amazon.com/global-infrastructure/latest/regions/aws-regions.html"

#: Region -> partition for the commercial, China and GovCloud regions that the AWS
#: provider 5.100.0 knows. The European Sovereign Cloud (aws-eusc) and the ISO
#: partitions are not here: the stack is not built or tested for them.
REGION_PARTITIONS: dict[str, str] = {
    region: "aws-cn" if region.startswith("cn-") else "aws-us-gov" if region.startswith("us-gov-") else "aws"
    for region in (
        "af-south-1", "ap-east-1", "ap-east-2", "ap-northeast-1", "ap-northeast-2",
        "ap-northeast-3", "ap-south-1", "ap-south-2", "ap-southeast-1", "ap-southeast-2",
        "ap-southeast-3", "ap-southeast-4", "ap-southeast-5", "ap-southeast-7",
        "ca-central-1", "ca-west-1", "cn-north-1", "cn-northwest-1", "eu-central-1",
        "eu-central-2", "eu-north-1", "eu-south-1", "eu-south-2", "eu-west-1", "eu-west-2",
        "eu-west-3", "il-central-1", "me-central-1", "me-south-1", "mx-central-1",
        "sa-east-1", "us-east-1", "us-east-2", "us-gov-east-1", "us-gov-west-1",
        "us-west-1", "us-west-2",
    )
}  # fmt: skip
PARTITIONS: tuple[str, ...] = ("aws", "aws-cn", "aws-us-gov")


def is_account_id(text: str) -> bool:
    return ecma(ACCOUNT_ID_PATTERN)(text)


def partition_of(region: str) -> str:
    """The partition of a region: ``aws``, ``aws-cn`` or ``aws-us-gov`` (``aws`` for an unknown one)."""
    return REGION_PARTITIONS.get(region, "aws")


# --- S3 bucket names -----------------------------------------------------------------

BUCKET_NAME_DOC = "https://docs.aws.amazon.com/AmazonS3/latest/userguide/bucketnamingrules.html"
BUCKET_NAME_MIN, BUCKET_NAME_MAX = 3, 63
BUCKET_NAME_CHARACTERS = "^[a-z0-9.-]*$"
#: Prefixes general purpose bucket names must not start with (sthree-configurator is under sthree-).
BUCKET_RESERVED_PREFIXES: tuple[str, ...] = ("xn--", "sthree-", "amzn-s3-demo-")
#: Suffixes reserved for access point aliases, Object Lambda, Multi-Region Access
#: Points, directory buckets and table buckets.
BUCKET_RESERVED_SUFFIXES: tuple[str, ...] = ("-s3alias", "--ol-s3", ".mrap", "--x-s3", "--table-s3")
#: Only a bucket in an account regional namespace, <prefix>-<account>-<region>-an, may end so.
#: https://docs.aws.amazon.com/AmazonS3/latest/userguide/gpbucketnamespaces.html
ACCOUNT_REGIONAL_SUFFIX = "-an"


def bucket_name_problems(name: str) -> list[str]:
    """Every general purpose bucket naming rule ``name`` breaks, in words; [] when valid."""
    problems: list[str] = []
    if not BUCKET_NAME_MIN <= len(name) <= BUCKET_NAME_MAX:
        problems.append(f"it must be {BUCKET_NAME_MIN}-{BUCKET_NAME_MAX} characters long, not {len(name)}")
    if not ecma(BUCKET_NAME_CHARACTERS)(name):
        problems.append(
            "it may contain only lowercase letters, digits, '.' and '-'"
            + refused_characters(name, BUCKET_NAME_CHARACTERS)
        )
    if not (name[:1].isascii() and name[:1].isalnum() and name[-1:].isascii() and name[-1:].isalnum()):
        problems.append("it must begin and end with a letter or digit")
    if ".." in name:
        problems.append("it must not contain two adjacent periods")
    if _is_ipv4(name):
        problems.append("it must not be formatted as an IP address")
    problems += [
        f"it must not start with {p!r} (reserved by S3)" for p in BUCKET_RESERVED_PREFIXES if name.startswith(p)
    ]
    problems += [f"it must not end with {s!r} (reserved by S3)" for s in BUCKET_RESERVED_SUFFIXES if name.endswith(s)]
    if name.endswith(ACCOUNT_REGIONAL_SUFFIX) and not _in_account_regional_namespace(name):
        problems.append(
            f"it must not end with {ACCOUNT_REGIONAL_SUFFIX!r} unless it is in an account regional namespace "
            "(<prefix>-<account>-<region>-an)"
        )
    return problems


def _is_ipv4(name: str) -> bool:
    try:
        ipaddress.IPv4Address(name)
    except ValueError:
        return False
    return True


def _in_account_regional_namespace(name: str) -> bool:
    stem = name.removesuffix(ACCOUNT_REGIONAL_SUFFIX)
    for region in REGION_PARTITIONS:
        if stem.endswith("-" + region):
            head = stem.removesuffix("-" + region)
            return len(head) > 13 and head[-13] == "-" and is_account_id(head[-12:])
    return False


# --- other names the stack derives from name_prefix ---------------------------------

#: Alias names: 1-256 characters, alphanumeric, '/', '_' and '-', starting with alias/;
#: alias/aws/ is reserved for AWS managed keys.
KMS_ALIAS_DOC = "https://docs.aws.amazon.com/kms/latest/developerguide/alias-create.html"
KMS_ALIAS_NAME_PATTERN = "^alias/[a-zA-Z0-9/_-]+$"
KMS_ALIAS_NAME_MAX = 256

#: Table names: 3-255 characters, a-z, A-Z, 0-9, '_', '-' and '.'.
DYNAMODB_TABLE_DOC = (
    "https://docs.aws.amazon.com/amazondynamodb/latest/developerguide/HowItWorks.NamingRulesDataTypes.html"
)
DYNAMODB_TABLE_NAME_PATTERN = "^[a-zA-Z0-9_.-]+$"
DYNAMODB_TABLE_NAME_MIN, DYNAMODB_TABLE_NAME_MAX = 3, 255

#: Role names: 1-64 characters of [\\w+=,.@-]; paths: '/' or '/.../' of ! to DEL, at most 512.
IAM_ROLE_DOC = "https://docs.aws.amazon.com/IAM/latest/APIReference/API_CreateRole.html"
IAM_ROLE_NAME_PATTERN = "^[a-zA-Z0-9_+=,.@-]+$"
IAM_ROLE_NAME_MAX = 64
IAM_PATH_PATTERN = "^(?:/|/[\\u0021-\\u007F]+/)$"
IAM_PATH_MAX = 512


def kms_alias_name_problems(name: str, *, creating: bool) -> list[str]:
    """An alias name (``alias/...``); ``creating`` adds the rule for a new alias: not under alias/aws/."""
    problems = []
    if not ecma(KMS_ALIAS_NAME_PATTERN)(name):
        problems.append(
            "a KMS alias is alias/ followed by letters, digits, '/', '_' or '-'"
            + refused_characters(name, KMS_ALIAS_NAME_PATTERN)
        )
    if len(name) > KMS_ALIAS_NAME_MAX:
        problems.append(f"a KMS alias has at most {KMS_ALIAS_NAME_MAX} characters, this one {len(name)}")
    if creating and name.startswith("alias/aws/"):
        problems.append("alias/aws/ is reserved for AWS managed keys")
    return problems


def dynamodb_table_name_problems(name: str) -> list[str]:
    problems = []
    if not ecma(DYNAMODB_TABLE_NAME_PATTERN)(name):
        problems.append(
            "a DynamoDB table name has only letters, digits, '_', '-' and '.'"
            + refused_characters(name, DYNAMODB_TABLE_NAME_PATTERN)
        )
    if not DYNAMODB_TABLE_NAME_MIN <= len(name) <= DYNAMODB_TABLE_NAME_MAX:
        problems.append(f"a DynamoDB table name has {DYNAMODB_TABLE_NAME_MIN}-{DYNAMODB_TABLE_NAME_MAX} characters")
    return problems


def iam_role_name_problems(name: str, *, offset: int = 0) -> list[str]:
    """A role name's problems; ``offset``: where the name starts in what the user wrote (an ARN)."""
    problems = []
    if not ecma(IAM_ROLE_NAME_PATTERN)(name):
        problems.append(
            "an IAM role name has only letters, digits and _ + = , . @ -"
            + refused_characters(name, IAM_ROLE_NAME_PATTERN, offset=offset)
        )
    if not 1 <= len(name) <= IAM_ROLE_NAME_MAX:
        problems.append(f"an IAM role name has 1-{IAM_ROLE_NAME_MAX} characters, this one {len(name)}")
    return problems


# --- tags ------------------------------------------------------------------------------

#: Tag naming limits and requirements: keys 1-128 and values 0-256 Unicode characters;
#: letters, digits, white space and _ . : / = + - @; the aws: prefix, in any case, is
#: reserved for AWS in keys and values; 50 user tags per resource.
TAG_DOC = "https://docs.aws.amazon.com/tag-editor/latest/userguide/tagging.html"
#: The pattern AWS's tagging APIs state for keys and values (Resource Groups Tagging
#: API, IAM, S3 Control): Unicode letters (\\p{L}), separators (\\p{Z}), numbers (\\p{N}).
TAG_API_DOC = "https://docs.aws.amazon.com/resourcegroupstagging/latest/APIReference/API_Tag.html"
TAG_CHARACTERS = "^[\\p{L}\\p{Z}\\p{N}_.:/=+\\-@]*$"
TAG_CHARACTERS_WORDS = "Unicode letters, digits, white space or _ . : / = + - @"
TAG_KEY_MAX = 128
TAG_VALUE_MAX = 256
TAGS_PER_RESOURCE_MAX = 50
TAG_RESERVED_PREFIX = "^[aA][wW][sS]:"

#: DynamoDB lists fewer characters: "letters, white space, and numbers, plus + - = . _ : /"
#: (no @). The stack's default tags land on the config table too, so they follow this.
DYNAMODB_TAG_DOC = "https://docs.aws.amazon.com/amazondynamodb/latest/developerguide/TaggingRestrictions.html"
DYNAMODB_TAG_CHARACTERS = "^[\\p{L}\\p{Z}\\p{N}_.:/=+\\-]*$"
DYNAMODB_TAG_CHARACTERS_WORDS = "Unicode letters, digits, white space or _ . : / = + -"

#: IAM compares tag keys case-insensitively: a role cannot carry both Tenant and
#: tenant, and a principal tag is looked up whatever its case.
IAM_TAG_DOC = "https://docs.aws.amazon.com/IAM/latest/UserGuide/id_tags.html"


def default_tag_value_problems(value: str) -> list[str]:
    """A value for a tag on every resource of the stack (KMS key, S3 buckets, DynamoDB table)."""
    problems = []
    if not 1 <= len(value) <= TAG_VALUE_MAX:
        problems.append(f"must be 1-{TAG_VALUE_MAX} characters")
    if not ecma(DYNAMODB_TAG_CHARACTERS)(value):
        problems.append(
            f"may contain only {DYNAMODB_TAG_CHARACTERS_WORDS} (DynamoDB's tag rule)"
            + refused_characters(value, DYNAMODB_TAG_CHARACTERS)
        )
    if ecma(TAG_RESERVED_PREFIX)(value):
        problems.append("must not start with 'aws:', which AWS reserves")
    return problems


# --- ARNs ------------------------------------------------------------------------------


@dataclass(frozen=True, kw_only=True)
class Arn:
    """``arn:partition:service:region:account-id:resource`` split at its first five colons."""

    partition: str
    service: str
    region: str
    account: str
    resource: str


def parse_arn(text: str) -> Arn | None:
    parts = text.split(":", 5)
    if len(parts) != 6 or parts[0] != "arn":
        return None
    _, partition, service, region, account, resource = parts
    return Arn(partition=partition, service=service, region=region, account=account, resource=resource)


def iam_role_arn_problems(text: str) -> list[str]:
    """``arn:<partition>:iam::<account>:role/<path><name>``: the rules ``text`` breaks; [] when valid."""
    arn = parse_arn(text)
    if arn is None or arn.service != "iam" or not arn.resource.startswith("role/"):
        return ["it is not an IAM role ARN"]
    problems = _partition_and_account_problems(arn)
    if arn.region:
        problems.append("an IAM ARN has no region")
    path_and_name = arn.resource.removeprefix("role")
    cut = path_and_name.rfind("/") + 1
    path, name = path_and_name[:cut], path_and_name[cut:]
    if not ecma(IAM_PATH_PATTERN)(path) or len(path) > IAM_PATH_MAX:
        problems.append(
            f"the role path must be '/' or '/.../' of at most {IAM_PATH_MAX} printable ASCII characters"
            + refused_characters(path, IAM_PATH_PATTERN, offset=len(text) - len(path_and_name))
        )
    problems += [
        problem.replace("an IAM role name", "the role name")
        for problem in iam_role_name_problems(name, offset=len(text) - len(name))
    ]
    return problems


#: "IAM user, group, role, and policy names must be unique within the account. Names are not
#: distinguished by case." A role is its account and its name, whatever the case and the path.
IAM_NAME_UNIQUENESS_DOC = IAM_ROLE_DOC


def iam_role_identity(text: str) -> tuple[str, str, str] | None:
    """(partition, account, case-folded role name): the role a valid role ARN names, or None.

    Two ARNs with the same identity name one role (the path does not tell roles apart).
    """
    arn = parse_arn(text)
    if arn is None or arn.service != "iam" or not arn.resource.startswith("role/"):
        return None
    return arn.partition, arn.account, arn.resource.rsplit("/", 1)[-1].casefold()


#: What AWS reads, in an ARN inside a policy, as something other than the character itself.
#: ``*`` and ``?`` are wildcards in the ARN condition operators (ArnEquals, ArnLike,
#: ArnNotEquals: "each of the six colon-delimited components ... can include
#: multi-character match wildcards (*) or single-character match wildcards (?)") and in
#: Resource; the Principal element takes no partial wildcard at all. ``${`` starts a
#: policy variable (``${aws:username}``) in Resource and in condition values; ``$`` is
#: refused whole, since ``$`` is no character of a role name and only a variable needs it.
#: An IAM role path may hold all three (CreateRole's Path is ! to DEL), so the role rule
#: alone lets them through.
#: https://docs.aws.amazon.com/IAM/latest/UserGuide/reference_policies_elements_condition_operators.html#Conditions_ARN
#: https://docs.aws.amazon.com/IAM/latest/UserGuide/reference_policies_variables.html
#: https://docs.aws.amazon.com/IAM/latest/UserGuide/reference_policies_elements_principal.html
POLICY_ARN_SPECIAL: dict[str, str] = {
    "*": "a wildcard for any characters",
    "?": "a wildcard for any one character",
    "$": "the start of a policy variable such as ${aws:username}",
}


def policy_arn_problems(text: str) -> list[str]:
    """Each character of ``text`` that AWS reads as a wildcard or a policy variable in a policy's ARN,
    with its position and what AWS reads it as; [] when the ARN names itself literally."""
    return [
        f"{character_name(char)} at character {index + 1}, which AWS reads as {POLICY_ARN_SPECIAL[char]}"
        for index, char in enumerate(text)
        if char in POLICY_ARN_SPECIAL
    ]


#: Key identifiers: a key id (UUID), a multi-Region key id (mrk- and 32 hex digits), or an alias.
KMS_KEY_ID_DOC = "https://docs.aws.amazon.com/kms/latest/developerguide/concepts.html#key-id"
KMS_KEY_ID_PATTERN = "^(?:[0-9a-f]{8}-[0-9a-f]{4}-[0-9a-f]{4}-[0-9a-f]{4}-[0-9a-f]{12}|mrk-[0-9a-f]{32})$"


def kms_key_arn_problems(text: str) -> list[str]:
    """``arn:<partition>:kms:<region>:<account>:key/<id>`` (a UUID, or ``mrk-`` and 32 hex
    digits for a multi-Region key) or ``...:alias/<name>``; [] when valid."""
    arn = parse_arn(text)
    if arn is None or arn.service != "kms":
        return ["it is not a KMS key ARN"]
    problems = _partition_and_account_problems(arn)
    if arn.region not in REGION_PARTITIONS:
        problems.append(f"{arn.region!r} is not an AWS region")
    elif arn.partition in PARTITIONS and partition_of(arn.region) != arn.partition:
        problems.append(f"region {arn.region} is in partition {partition_of(arn.region)!r}, not {arn.partition!r}")
    kind, _, ident = arn.resource.partition("/")
    if kind == "key":
        if not ecma(KMS_KEY_ID_PATTERN)(ident):
            problems.append("the key id must be a UUID, or mrk- and 32 hex digits for a multi-Region key")
    elif kind == "alias":
        problems += kms_alias_name_problems(arn.resource, creating=False)
    else:
        problems.append("the resource must be key/<key id> or alias/<alias name>")
    return problems


def _partition_and_account_problems(arn: Arn) -> list[str]:
    problems = []
    if arn.partition not in PARTITIONS:
        problems.append(f"the partition must be one of {', '.join(PARTITIONS)}, not {arn.partition!r}")
    if not is_account_id(arn.account):
        problems.append("the account must be a 12-digit account id")
    return problems


# --- S3 object keys --------------------------------------------------------------------

#: "a sequence of Unicode characters encoded in UTF-8, with a maximum length of 1,024 bytes".
S3_OBJECT_KEY_DOC = "https://docs.aws.amazon.com/AmazonS3/latest/userguide/object-keys.html"
S3_OBJECT_KEY_MAX_BYTES = 1024


def s3_object_key_problems(key: str) -> list[str]:
    size = len(key.encode("utf-8", errors="surrogatepass"))
    if not 1 <= size <= S3_OBJECT_KEY_MAX_BYTES:
        return [f"an S3 object key is 1-{S3_OBJECT_KEY_MAX_BYTES} bytes of UTF-8, this one {size}"]
    return []
