"""Values shown to a reader exactly, with nothing hidden, joined or reordered. No jsii import.

A tenant's display name, a tag or a policy value is user data: it may hold a NUL, a
bell, a carriage return that rewinds a terminal line, a right-to-left override
(U+202E) that reverses the text after it on screen, a zero-width space, or Markdown
that a rendered page would turn into markup or hide (``<!-- -->``, a ``|`` that ends a
table cell). ``code`` is the one helper every report value goes through: a Markdown
code span (nothing inside one is markup) of ``visible(value)`` in which ``|`` and
backticks are escaped too, so no value can break a table or end its span.

``visible`` writes as ``\\uXXXX`` (``\\UXXXXXXXX`` above U+FFFF) every character of
Unicode general category Cc (controls), Cf (format: bidi overrides and isolates,
zero-width joiners, the byte-order mark), Cs, Co, Cn (surrogates, private use,
unassigned), Zl and Zp (line and paragraph separators), and Zs other than the ASCII
space (no-break and other spaces that look like one), every Default_Ignorable_Code_Point
(Unicode's DerivedCoreProperties: characters that render as nothing, such as U+034F,
U+3164, the variation selectors), and an ASCII space at either end of the value. A
backslash is written ``\\\\``, so every backslash sequence in the output is one of these
escapes and the text is unambiguous. Categories are those of the running Python's
``unicodedata``. https://www.unicode.org/reports/tr44/#General_Category_Values
"""

from __future__ import annotations

import unicodedata

#: Categories whose characters do not show as themselves.
_HIDDEN_CATEGORIES = frozenset({"Cc", "Cf", "Cs", "Co", "Cn", "Zl", "Zp"})
#: Default_Ignorable_Code_Point (Unicode 15.1 DerivedCoreProperties.txt), as ranges.
_DEFAULT_IGNORABLE: tuple[tuple[int, int], ...] = (
    (0x00AD, 0x00AD),
    (0x034F, 0x034F),
    (0x061C, 0x061C),
    (0x115F, 0x1160),
    (0x17B4, 0x17B5),
    (0x180B, 0x180F),
    (0x200B, 0x200F),
    (0x202A, 0x202E),
    (0x2060, 0x206F),
    (0x3164, 0x3164),
    (0xFE00, 0xFE0F),
    (0xFEFF, 0xFEFF),
    (0xFFA0, 0xFFA0),
    (0xFFF0, 0xFFF8),
    (0x1BCA0, 0x1BCA3),
    (0x1D173, 0x1D17A),
    (0xE0000, 0xE0FFF),
)


def _hidden(char: str) -> bool:
    category = unicodedata.category(char)
    if category in _HIDDEN_CATEGORIES or (category == "Zs" and char != " "):
        return True
    point = ord(char)
    return any(low <= point <= high for low, high in _DEFAULT_IGNORABLE)


def _escape(char: str) -> str:
    point = ord(char)
    return f"\\u{point:04x}" if point <= 0xFFFF else f"\\U{point:08x}"


def visible(text: str) -> str:
    """``text`` with every character that would not show as itself escaped (see the module docstring)."""
    if (
        text.isascii()
        and text.isprintable()
        and "\\" not in text
        and not text.startswith(" ")
        and not text.endswith(" ")
    ):
        return text  # the common case, quickly
    shown = ["\\\\" if c == "\\" else _escape(c) if _hidden(c) else c for c in text]
    for end in (0, -1):
        if shown and shown[end] == " ":
            shown[end] = _escape(" ")
    return "".join(shown)


def code(text: str) -> str:
    """``text`` as a Markdown code span that shows it exactly and cannot break a table: ``visible`` plus
    ``|`` and the backtick escaped. The empty string, which a code span cannot hold, is ``(empty)``."""
    if text == "":
        return "(empty)"
    return "`" + visible(text).replace("|", "\\u007c").replace("`", "\\u0060") + "`"
