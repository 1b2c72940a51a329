"""The one text type: what a client may send as text, over REST and over `pitchey.v1`.

Every text a client sends reaches PostgreSQL or another client, so it is checked once, here, at
the edge, and a bad one is refused naming its field (422 over REST, an `error` frame with the
command's id over the WebSocket); it never reaches a room or the database. PostgreSQL `text`
cannot hold U+0000 and a lone surrogate cannot be encoded as UTF-8 at all: either used to fail
inside a room's turn, restarting the room. The other control characters (C0 but tab and line
breaks, DEL, C1) are never typed by a person, are how terminal and log-forging tricks start, and
are refused too. Bidirectional marks and other format characters are allowed: they are part of
writing in Arabic or Hebrew.

`Line` is one line (a title, a name); `Para` may span lines (a message, a synopsis). Their length
limits are set where they are used (`Field(max_length=...)`, counted in code points as PostgreSQL
counts characters). The OpenAPI document carries the same rule as a `pattern`.
"""

from __future__ import annotations

import re
from collections.abc import Callable
from typing import Annotated, Any, Final

from pydantic import BeforeValidator, GetJsonSchemaHandler
from pydantic.json_schema import JsonSchemaValue
from pydantic_core import core_schema

__all__ = [
    "LINE_PATTERN",
    "PARA_PATTERN",
    "Line",
    "Para",
    "TextPattern",
    "check_line",
    "check_para",
    "text_problem",
]

# Code points no text field accepts; line breaks and tab are added for one-line fields.
_NEVER = "\x00-\x08\x0b\x0c\x0e-\x1f\x7f-\x9f\ud800-\udfff"
_BAD_PARA: Final = re.compile(f"[{_NEVER}]")
_BAD_LINE: Final = re.compile(f"[{_NEVER}\t\n\r]")

# The same rule for the OpenAPI document, as ECMA-262 regexes (`\uXXXX` escapes, anchored), for
# every Unicode string. They leave the surrogates out: a lone surrogate is no Unicode scalar value,
# so regex engines over Unicode strings (Rust's, in jsonschema-rs and so in schemathesis) refuse a
# pattern naming the range, and a validator that cannot compile the pattern drops it whole, control
# characters included. A JSON string carrying one (`"\ud800"`) is refused by the validators above.
PARA_PATTERN: Final = r"^[^\u0000-\u0008\u000b\u000c\u000e-\u001f\u007f-\u009f]*$"
LINE_PATTERN: Final = r"^[^\u0000-\u001f\u007f-\u009f]*$"


def text_problem(value: str, *, multiline: bool) -> str | None:
    """Why `value` is not acceptable text (None when it is)."""
    bad = (_BAD_PARA if multiline else _BAD_LINE).search(value)
    if bad is None:
        return None
    char = bad.group()
    if char == "\x00":
        return "must not contain NUL (U+0000) characters"
    if "\ud800" <= char <= "\udfff":
        return "must not contain unpaired surrogates"
    if char in "\t\n\r":
        return "must be one line (no tabs or line breaks)"
    return f"must not contain control characters (U+{ord(char):04X})"


def check_line(value: str) -> str:
    problem = text_problem(value, multiline=False)
    if problem is not None:
        raise ValueError(problem)
    return value


def check_para(value: str) -> str:
    problem = text_problem(value, multiline=True)
    if problem is not None:
        raise ValueError(problem)
    return value


class TextPattern:
    """Adds the text rule to the field's JSON schema without making pydantic enforce the regex
    (its regex engine cannot express surrogates; the validator above enforces the rule)."""

    __slots__ = ("pattern",)

    def __init__(self, pattern: str) -> None:
        self.pattern = pattern

    def __get_pydantic_json_schema__(
        self, schema: core_schema.CoreSchema, handler: GetJsonSchemaHandler
    ) -> JsonSchemaValue:
        out: dict[str, Any] = handler(schema)
        out.setdefault("pattern", self.pattern)
        return out


def _raw(check: Callable[[str], str]) -> Callable[[Any], Any]:
    # Before the model strips white space: "a\x85" must be refused as the document's pattern
    # refuses it, not trimmed to "a" (U+0085 and U+001C-U+001F are white space to str.strip).
    def before(value: Any) -> Any:
        return check(value) if isinstance(value, str) else value

    return before


Line = Annotated[str, BeforeValidator(_raw(check_line)), TextPattern(LINE_PATTERN)]
"""One line of text: no control characters, no line breaks, no NUL, no unpaired surrogates."""

Para = Annotated[str, BeforeValidator(_raw(check_para)), TextPattern(PARA_PATTERN)]
"""Text that may span lines (tab, LF, CR allowed); otherwise as `Line`."""
