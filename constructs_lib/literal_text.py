"""Text that cdktf or Terraform would read as code instead of keeping it literally. No jsii import.

Every setting that reaches ``cdk.tf.json`` goes through cdktf's token resolution in
node, and then through Terraform, which reads each JSON string as a template:

- cdktf (0.21, ``cdktf/lib/tokens/private/encoding.js``) replaces, in any string,
  ``${TfToken[KEY]}`` (a string token), and refuses or replaces ``#{TfToken[KEY]}``
  (a list token) and ``&{TfToken[KEY]}`` (a map token), KEY being
  ``[a-zA-Z0-9:._-]+``. It also scans every string for number-like text
  (``NUMBER_TOKEN_REGEX`` below) and, where JavaScript's ``parseFloat`` of it is one
  of its token doubles (top 16 bits ``0xfdff``, about ``-8.1e+298``), replaces it
  with that token or fails with "unknown number token". A token key that is not
  registered fails the synth; one that is gives someone else's value.
- Terraform reads ``${...}`` as interpolation and ``%{...}`` as a directive; ``$${``
  and ``%%{`` are their literal forms.
  https://developer.hashicorp.com/terraform/language/expressions/strings#escape-sequences

The settings checks refuse the first kind in every string setting (no one means it),
and the second wherever it cannot be escaped (a backend block cannot evaluate
templates); tests prove the remaining settings reach ``cdk.tf.json`` literally.
"""

from __future__ import annotations

import re
import struct

#: cdktf's string, list and map token markers: BEGIN_*_TOKEN_MARKER + VALID_KEY_CHARS + END_TOKEN_MARKER.
CDKTF_TOKEN = re.compile(r"[$#&]\{TfToken\[[a-zA-Z0-9:._-]+\]\}")
#: cdktf's NUMBER_TOKEN_REGEX, character for character ('|' included), with JavaScript's ASCII \d.
CDKTF_NUMBER_TEXT = re.compile(r"[-|\d|.\+]+(e[-|\d|.|e|E|\+]+)", re.ASCII)
#: JavaScript's parseFloat: the longest prefix that is a StrDecimalLiteral.
_JS_FLOAT_PREFIX = re.compile(r"[+-]?(?:Infinity|(?:[0-9]+\.?[0-9]*|\.[0-9]+)(?:[eE][+-]?[0-9]+)?)", re.ASCII)
#: DOUBLE_TOKEN_MARKER_BITS: the top 16 bits of a double that encodes a cdktf number token.
_TOKEN_DOUBLE_MARKER = 0xFDFF
TERRAFORM_TEMPLATE = re.compile(r"[$%]\{")


def cdktf_token(text: str) -> str | None:
    """The part of ``text`` that cdktf would read as a token, or None."""
    match = CDKTF_TOKEN.search(text)
    if match:
        return match.group()
    if "e" not in text:  # the fast common case: no number text without an exponent
        return None
    for number in CDKTF_NUMBER_TEXT.finditer(text):
        prefix = _JS_FLOAT_PREFIX.match(number.group())
        if prefix and _is_token_double(float(prefix.group())):
            return number.group()
    return None


def _is_token_double(value: float) -> bool:
    (bits,) = struct.unpack("<Q", struct.pack("<d", value))
    return bool(bits >> 48 == _TOKEN_DOUBLE_MARKER)


def terraform_template(text: str) -> str | None:
    """``${`` or ``%{`` if ``text`` has one (Terraform would read a template there), else None."""
    match = TERRAFORM_TEMPLATE.search(text)
    return match.group() if match else None


def code_problem(text: str, *, templates: bool) -> str | None:
    """Why ``text`` cannot be kept literally, in the user's words, or None.

    ``templates``: also refuse ``${`` and ``%{`` (where the value cannot be escaped).
    """
    token = cdktf_token(text)
    if token is not None:
        return f"contains {token!r}, which cdktf reads as one of its tokens and would replace"
    if templates:
        sequence = terraform_template(text)
        if sequence is not None:
            return f"contains {sequence!r}, which Terraform reads as the start of a template"
    return None
