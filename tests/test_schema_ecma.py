"""The program reads tenants.schema.json as editors do: compared with ajv (ECMA-262, u flag) in node.

Property tests (hypothesis) over generated documents and strings full of what Python's
``re`` and ECMA-262 read differently: line terminators (\\n \\r \\u2028 \\u2029), the
byte-order mark \\ufeff, NBSP and other Unicode white space, control characters that
Python calls white space (\\x1c-\\x1f, \\x85), letters such as é and ü, case-folding
look-alikes (the long s, the Kelvin sign), other scripts' digits and astral characters.

Generated characters are those Python's Unicode database assigns (no category Cn):
node and regress may know newer Unicode versions, and a character unassigned here is
not a disagreement about the standard's meaning.
"""

from __future__ import annotations

import json
from typing import Any

import pytest
from hypothesis import HealthCheck, given, settings
from hypothesis import strategies as st

from constructs_lib import aws_rules
from constructs_lib.aws_rules import ecma
from constructs_lib.config import parse_tenants
from constructs_lib.errors import ConfigError
from constructs_lib.literal_text import cdktf_token
from constructs_lib.tenant_schema import _validator_class, conforms, schema, schema_problems
from tests.ecma import EcmaOracle
from tests.test_tenant_properties import valid_documents

#: Where Python's re and ECMA-262 part ways, and AWS's tag rule draws its lines.
TRICKY = (
    "\n\r\u2028\u2029\ufeff\u00a0\u1680\u2000\u2007\u200a\u202f\u205f\u3000\u180e\u200b\t\x0b\x0c"
    "\x1c\x1d\x1e\x1f\x85 \u00e9\u00fcZ\u017f\u212a\u0130\u0131\u0301\u0663\u00b2\u216b"
    "\U0001f600\U0001d400\U00010400_.:/=+-@$%{}#&[]aAwWsS0"
)
chars = st.one_of(
    st.sampled_from(TRICKY),
    st.characters(exclude_categories=("Cs", "Cn")),
)
texts = st.text(alphabet=chars, max_size=12)
#: Strings near the schema's edges: a valid core with a tricky character before, inside or after.
near_valid = st.builds(
    lambda core, extra, where: {0: extra + core, 1: core[:2] + extra + core[2:], 2: core + extra}[where],
    st.sampled_from(["acme", "Acme Corp", "CostCenter", "Z\u00fcrich", "cc-100", "tenant_id", "aws:x", "Owner"]),
    st.text(alphabet=st.sampled_from(TRICKY), min_size=0, max_size=2),
    st.integers(0, 2),
)
strings = st.one_of(texts, near_valid)

tag_maps = st.dictionaries(strings, st.one_of(strings, st.integers(0, 2)), max_size=3)
tenants = st.fixed_dictionaries(
    {"tenant_id": st.one_of(strings, st.from_regex(r"[a-z0-9][a-z0-9-]{1,8}[a-z0-9]", fullmatch=True))},
    optional={"display_name": strings, "kms_guard": st.one_of(st.booleans(), strings), "tags": tag_maps},
)
documents = st.one_of(
    valid_documents(),
    st.fixed_dictionaries({"tenants": st.lists(tenants, max_size=3)}),
)

PROPERTY = settings(deadline=None, max_examples=300, suppress_health_check=[HealthCheck.too_slow])


def program_accepts(document: Any) -> bool:
    """The program's verdict on the schema's rules (parse_tenants adds what a schema cannot say)."""
    return schema_problems(document, "t.json") == []


@PROPERTY
@given(documents)
def test_the_program_and_ajv_agree_on_every_generated_document(ecma_oracle: EcmaOracle, document: Any) -> None:
    document = json.loads(json.dumps(document))  # as a file would give it
    ajv = ecma_oracle.schema_valid(document)
    assert program_accepts(document) == ajv, document
    assert conforms(document) == ajv, document
    assert any(_validator_class()(schema()).iter_errors(document)) != ajv, document


def schema_patterns(node: Any) -> list[str]:
    """Every ``pattern`` in a schema."""
    found: list[str] = []
    if isinstance(node, dict):
        for keyword, value in node.items():
            if keyword == "pattern" and isinstance(value, str):
                found.append(value)
            else:
                found += schema_patterns(value)
    elif isinstance(node, list):
        for item in node:
            found += schema_patterns(item)
    return found


#: The schema's patterns and every ECMA-262 pattern of aws_rules that the settings checks run.
PATTERNS = sorted(
    {
        *schema_patterns(schema()),
        aws_rules.ACCOUNT_ID_PATTERN,
        aws_rules.BUCKET_NAME_CHARACTERS,
        aws_rules.KMS_ALIAS_NAME_PATTERN,
        aws_rules.DYNAMODB_TABLE_NAME_PATTERN,
        aws_rules.IAM_ROLE_NAME_PATTERN,
        aws_rules.IAM_PATH_PATTERN,
        aws_rules.TAG_CHARACTERS,
        aws_rules.DYNAMODB_TAG_CHARACTERS,
        aws_rules.TAG_RESERVED_PREFIX,
        aws_rules.KMS_KEY_ID_PATTERN,
    }
)


def test_the_schema_has_the_patterns_this_suite_checks() -> None:
    assert len(schema_patterns(schema())) == 7


@pytest.mark.parametrize("pattern", PATTERNS)
@settings(deadline=None, max_examples=150, suppress_health_check=[HealthCheck.too_slow])
@given(text=strings)
def test_each_pattern_means_the_same_to_the_program_and_to_node(
    ecma_oracle: EcmaOracle, pattern: str, text: str
) -> None:
    assert ecma(pattern)(text) == ecma_oracle.matches(pattern, text), (pattern, text)


@pytest.mark.parametrize(
    ("pattern", "text", "expected"),
    [
        ("^[a-z0-9][a-z0-9-]{1,61}[a-z0-9]$", "acme\n", False),  # $ is the very end, not before a newline
        ("^\\S(.*\\S)?$", "a\rb", False),  # . matches no \r (Python's does)
        ("^\\S(.*\\S)?$", "a\u2028b", False),  # nor a line separator
        ("^\\S(.*\\S)?$", "\ufeffAcme", False),  # the BOM is white space in ECMA-262, not in Python
        ("^\\S(.*\\S)?$", "Acme\x1c", True),  # \x1c is white space in Python, not in ECMA-262
        ("^\\S(.*\\S)?$", "Acme\u00a0", False),
        ("^\\S(.*\\S)?$", "\U0001f600", True),  # one astral character, not two halves
        (aws_rules.TAG_CHARACTERS, "Z\u00fcrich", True),
        (aws_rules.TAG_CHARACTERS, "Soci\u00e9t\u00e9 G\u00e9n\u00e9rale", True),
        (aws_rules.TAG_CHARACTERS, "\u0663\u00b2\u216b", True),  # other digits and numbers are \p{N}
        (aws_rules.TAG_CHARACTERS, "e\u0301", False),  # a combining accent is a mark, not a letter
        (aws_rules.TAG_CHARACTERS, "\U0001d400", True),  # an astral letter
    ],
)
def test_known_differences_between_python_re_and_ecma_262(
    ecma_oracle: EcmaOracle, pattern: str, text: str, expected: bool
) -> None:
    assert ecma(pattern)(text) is expected
    assert ecma_oracle.matches(pattern, text) is expected


cdktf_texts = st.one_of(
    st.text(alphabet=st.sampled_from("0123456789eE.+-|$#&{}[]TfTokenKE:_ x"), max_size=30),
    st.builds(
        lambda sign, digits, exp, around: f"{around}{sign}{digits}e{exp}{around}",
        st.sampled_from(["-", "", "+", "--"]),
        st.sampled_from(["8.109562212591379", "8109562212591379", "8.1095622125914", "9", "1.5", "8.2"]),
        st.sampled_from(["+298", "298", "283", "+299", "+289", "5"]),
        st.sampled_from(["", "x", "v1.", "|"]),
    ),
    st.builds(
        lambda marker, key: f"{marker}{{TfToken[{key}]}}",
        st.sampled_from(["$", "#", "&", "%"]),
        st.text(alphabet=st.sampled_from("TOKEN.1a:_-/ "), min_size=0, max_size=8),
    ),
)


@settings(deadline=None, max_examples=400, suppress_health_check=[HealthCheck.too_slow])
@given(cdktf_texts)
def test_the_token_check_sees_what_cdktf_sees(ecma_oracle: EcmaOracle, text: str) -> None:
    assert (cdktf_token(text) is not None) == ecma_oracle.cdktf_token(text), text


def test_a_valid_file_with_case_twins_is_still_refused_by_the_program() -> None:
    """The one rule the schema cannot state, so ajv accepts it and the program does not."""
    document = {"tenants": [{"tenant_id": "acme", "tags": {"Team": "a", "team": "b"}}]}
    assert conforms(document)
    with pytest.raises(ConfigError, match="differ only by letter case"):
        parse_tenants(document, "t.json")
