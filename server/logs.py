"""Logging: one line per request, text or JSON lines, and a filter that scrubs secrets.

Handlers never log bodies, headers or cookies; the filter is the second line of defence for anything
that slips into a message (a token in an exception text, say).
"""

from __future__ import annotations

import logging
import re
import sys
from typing import Any

import orjson

_SECRETS = [
    # JWTs: three base64url parts, the first starting with eyJ ('{"').
    (re.compile(r"eyJ[A-Za-z0-9_\-]{5,}\.[A-Za-z0-9_\-]{5,}\.[A-Za-z0-9_\-]+"), "[REDACTED-JWT]"),
    (re.compile(r"(?i)(bearer\s+)[^\s,;\"']+"), r"\1[REDACTED]"),
    (
        re.compile(
            r"(?i)(\"?(?:password|passwd|secret|token|cookie|authorization)\"?\s*[:=]\s*)"
            r"(\"[^\"]*\"|'[^']*'|[^\s,;}]+)"
        ),
        r"\1[REDACTED]",
    ),
    (re.compile(r"(?i)(ticket=)[^\s&\"']+"), r"\1[REDACTED]"),
]

_RESERVED = set(vars(logging.LogRecord("", 0, "", 0, "", (), None))) | {"message", "asctime"}


def redact(text: str) -> str:
    for pattern, repl in _SECRETS:
        text = pattern.sub(repl, text)
    return text


class RedactingFilter(logging.Filter):
    """Rewrites a record's final message with secrets removed."""

    def filter(self, record: logging.LogRecord) -> bool:
        try:
            message = record.getMessage()
        except Exception:  # a bad format string must not lose the record
            message = str(record.msg)
        clean = redact(message)
        if record.exc_info and not record.exc_text:
            record.exc_text = logging.Formatter().formatException(record.exc_info)
        if record.exc_text:
            record.exc_text = redact(record.exc_text)
        record.msg, record.args = clean, None
        return True


class JsonFormatter(logging.Formatter):
    def format(self, record: logging.LogRecord) -> str:
        out: dict[str, Any] = {
            "ts": self.formatTime(record, "%Y-%m-%dT%H:%M:%S") + f".{int(record.msecs):03d}Z",
            "level": record.levelname,
            "logger": record.name,
            "msg": record.getMessage(),
        }
        for key, value in vars(record).items():
            if key not in _RESERVED and not key.startswith("_"):
                out[key] = value
        if record.exc_text:
            out["exc"] = record.exc_text
        return orjson.dumps(out, default=str).decode()


# C0 and C1 controls, DEL, the Unicode line and paragraph separators, and the backslash that
# introduces our escapes (so an escape in the log is never ambiguous with text that was sent).
_CONTROLS = re.compile(r"[\x00-\x1f\x7f-\x9f\u2028\u2029\\]")


def _escape(match: re.Match[str]) -> str:
    ch = match.group()
    if ch == "\\":
        return "\\\\"
    code = ord(ch)
    return f"\\x{code:02x}" if code < 0x100 else f"\\u{code:04x}"


def escape_controls(text: str) -> str:
    """`text` on one line: control characters as `\\xNN` escapes (a `%0a` in a URL path must not
    start a forged line in the text log)."""
    return _CONTROLS.sub(_escape, text)


class TextFormatter(logging.Formatter):
    """One record, one line: the message's control characters are escaped; a traceback's lines
    follow indented, so no line a client can influence starts like a record."""

    def __init__(self) -> None:
        super().__init__("%(asctime)s %(levelname)s %(name)s %(message)s")
        self.converter = __import__("time").gmtime

    def format(self, record: logging.LogRecord) -> str:
        saved = record.msg, record.args, record.exc_text
        try:
            record.msg, record.args = escape_controls(record.getMessage()), None
            if record.exc_info and not record.exc_text:
                record.exc_text = self.formatException(record.exc_info)
            if record.exc_text:
                record.exc_text = "    " + record.exc_text.replace("\n", "\n    ")
            return super().format(record)
        finally:
            record.msg, record.args, record.exc_text = saved


class _Handler(logging.StreamHandler[Any]):
    """Ours on the root logger: marked so that configuring again replaces it (tests look for
    `_pitchey` too, on whichever handler class)."""

    _pitchey = True


def configure_logging(fmt: str = "text", level: str = "INFO", stream: Any = None) -> None:
    """Install one handler on the root logger (idempotent: replaces an earlier one of ours)."""
    root = logging.getLogger()
    for h in list(root.handlers):
        if getattr(h, "_pitchey", False):
            root.removeHandler(h)
    handler = _Handler(stream or sys.stderr)
    handler.setFormatter(JsonFormatter() if fmt == "json" else TextFormatter())
    handler.addFilter(RedactingFilter())
    root.addHandler(handler)
    root.setLevel(level)
    # aiohttp's own access log would print the raw request line; ours replaces it.
    logging.getLogger("aiohttp.access").disabled = True
    # pgserver narrates every pg_ctl call at INFO; its warnings and errors still come through.
    logging.getLogger("pgserver").setLevel(max(root.level, logging.WARNING))
