"""Liveness and readiness answers."""

from __future__ import annotations

from typing import Literal

from . import Schema


class Health(Schema):
    status: Literal["ok"]


class Readiness(Schema):
    status: Literal["ready", "degraded", "unavailable"]
    checks: dict[str, object]
