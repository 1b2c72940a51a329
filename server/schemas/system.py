"""Liveness and readiness answers."""

from __future__ import annotations

from typing import Literal

from . import Schema


class Health(Schema):
    status: Literal["ok"]


class Readiness(Schema):
    status: Literal["ready", "degraded", "unavailable"]
    checks: dict[str, object]


class SentryConfig(Schema):
    """Where the web app reports its errors (Sentry's browser SDK), with the server's release."""

    dsn: str
    environment: str
    release: str


class ClientConfig(Schema):
    """What the web app needs from the server at start, not built into its bundle."""

    release: str
    sentry: SentryConfig | None = None
    """Absent (null) while error reporting is off (no SENTRY_WEB_DSN or SENTRY_DSN)."""
