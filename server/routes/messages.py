"""Endpoints: messages (see docs/api.md)."""

from __future__ import annotations

from ..api import Api

api = Api()
