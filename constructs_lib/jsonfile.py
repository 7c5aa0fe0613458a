"""Strict JSON reading for hand-edited files: no duplicate keys, no NaN, UTF-8 only.

Strings must be Unicode text: JSON lets ``"\\ud800"`` stand alone, Unicode does not, and
no AWS API or UTF-8 file can carry it.

Python's json module keeps the last of two equal keys without a word, so a tenant
written with ``kms_guard`` twice would silently lose one. Here every duplicate is an
error that names where it is.
"""

from __future__ import annotations

import json
import re
from collections.abc import Iterator
from pathlib import Path
from typing import Any

from constructs_lib.errors import ConfigError


class _Object(dict[str, Any]):
    """A JSON object that remembers the keys it saw more than once."""

    duplicates: list[str]


def _object(pairs: list[tuple[str, Any]]) -> _Object:
    obj = _Object()
    obj.duplicates = []
    for key, value in pairs:
        if key in obj and key not in obj.duplicates:
            obj.duplicates.append(key)
        obj[key] = value
    return obj


class _DuplicateKey(Exception):
    """Raised by the fast parse at the first duplicated key."""


def _unique_object(pairs: list[tuple[str, Any]]) -> dict[str, Any]:
    obj = dict(pairs)
    if len(obj) != len(pairs):
        raise _DuplicateKey
    return obj


#: A \u escape of a UTF-16 surrogate: JSON allows a lone one, Unicode text does not.
_SURROGATE_ESCAPE = re.compile(r"\\u[dD][89a-fA-F]")


def _nodes(value: Any, path: list[str | int]) -> Iterator[tuple[list[str | int], Any]]:
    """Every value of a parsed document with its path, each parent before its children."""
    yield path, value
    if isinstance(value, dict):
        for key, child in value.items():
            yield from _nodes(child, [*path, key])
    elif isinstance(value, list):
        for index, child in enumerate(value):
            yield from _nodes(child, [*path, index])


def _surrogates(text: str) -> str:
    """``U+D800 at character 3``: where each lone surrogate of ``text`` is (they have no Unicode name)."""
    return ", ".join(f"U+{ord(c):04X} at character {i + 1}" for i, c in enumerate(text) if 0xD800 <= ord(c) <= 0xDFFF)


def _surrogate_problems(document: Any, label: str) -> list[str]:
    problems: list[str] = []
    for path, value in _nodes(document, []):
        key = path[-1] if path else None
        if isinstance(key, str) and not _is_text(key):
            problems.append(
                f"{label}: {json_path(path[:-1])} has a key with a lone UTF-16 surrogate ({_surrogates(key)}), {key!r}"
            )
        if isinstance(value, str) and not _is_text(value):
            problems.append(
                f"{label}: {json_path(path)} has a lone UTF-16 surrogate ({_surrogates(value)}), {value!r}; "
                "it is not Unicode text"
            )
    return problems


def _is_text(value: str) -> bool:
    try:
        value.encode("utf-8")
    except UnicodeEncodeError:
        return False
    return True


def _plain(error: ValueError) -> str:
    """A JSON ValueError in the user's words, not Python's."""
    text = str(error)
    if "integer string conversion" in text:  # CPython's cap on the digits of one integer
        return "a number has more than 4300 digits"
    return text


def _no_constant(name: str) -> Any:
    raise ValueError(f"{name} is not allowed in JSON")


def describe(value: Any) -> str:
    """A value as the user wrote it: strings quoted Python-style, the rest as JSON."""
    return repr(value) if isinstance(value, str) else json.dumps(value)


def json_path(path: list[str | int]) -> str:
    """``['tenants', 2, 'tags']`` -> ``tenants[2].tags``."""
    text = ""
    for part in path:
        text += f"[{part}]" if isinstance(part, int) else (f".{part}" if text else part)
    return text or "the top level"


def _duplicate_problems(document: Any, label: str) -> list[str]:
    return [
        f"{label}: {json_path(path)} has the key {key!r} more than once; keys must be unique"
        for path, value in _nodes(document, [])
        if isinstance(value, _Object)
        for key in value.duplicates
    ]


def load_json(path: Path, label: str) -> Any:
    """Parse ``path`` strictly; ``label`` names the file in messages.

    Raises ConfigError for a missing or unreadable file, text that is not UTF-8 (UTF-16,
    two byte-order marks, bytes that are no UTF-8),
    invalid JSON, NaN or Infinity, every duplicated key and every string with a lone
    surrogate (all listed). A leading UTF-8 byte-order mark is ignored. The common
    case, a clean file, costs one C-speed parse.
    """
    try:
        data = path.read_bytes()
    except FileNotFoundError:
        raise ConfigError([f"{label}: file not found"]) from None
    except OSError as exc:
        raise ConfigError([f"{label}: cannot be read: {exc.strerror}"]) from None
    # A byte-order mark is how some Windows editors start a UTF-8 file. RFC 8259 lets
    # a parser ignore it, and this one does (line and column numbers stay the same).
    # https://www.rfc-editor.org/rfc/rfc8259#section-8.1
    marked = data.startswith(b"\xef\xbb\xbf")
    data = data.removeprefix(b"\xef\xbb\xbf")
    if data.startswith(b"\xef\xbb\xbf"):
        raise ConfigError([f"{label}: starts with two byte-order marks; save it as UTF-8 (with one at most)"])
    if data.startswith((b"\xff\xfe", b"\xfe\xff")):
        raise ConfigError([f"{label}: is UTF-16 text (it starts with a UTF-16 byte-order mark); save it as UTF-8"])
    try:
        text = data.decode("utf-8")
    except UnicodeDecodeError as exc:
        offset = exc.start + (3 if marked else 0)  # counted in the file, byte-order mark included
        raise ConfigError([f"{label}: is not UTF-8 text (byte {offset} is 0x{data[exc.start]:02x})"]) from None
    try:
        try:
            document = json.loads(text, object_pairs_hook=_unique_object, parse_constant=_no_constant)
        except _DuplicateKey:
            # Parse again, slowly, to name every duplicate and where it is.
            remembered = json.loads(text, object_pairs_hook=_object, parse_constant=_no_constant)
            raise ConfigError(_duplicate_problems(remembered, label)) from None
    except json.JSONDecodeError as exc:
        raise ConfigError([f"{label}: is not valid JSON: {exc.msg} at line {exc.lineno} column {exc.colno}"]) from None
    except RecursionError:
        raise ConfigError([f"{label}: is not usable JSON: its lists and objects nest too deeply"]) from None
    except ValueError as exc:
        raise ConfigError([f"{label}: is not valid JSON: {_plain(exc)}"]) from None
    if _SURROGATE_ESCAPE.search(text):
        surrogates = _surrogate_problems(document, label)
        if surrogates:
            raise ConfigError(surrogates)
    return document
