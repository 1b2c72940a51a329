"""Request and response models, one module per area next to the routes that use them.

The convention: route modules (server/routes/*.py) declare no models; they import them from
`server/schemas/<area>.py`. This package's root holds what every area shares: the two bases
(`Schema` for answers, `Input` for request bodies and queries) and the one pagination model.
camelCase on the wire, snake_case in code.
"""

from __future__ import annotations

from collections.abc import Callable
from typing import Any

from pydantic import BaseModel, ConfigDict, Field

from pitchey.protocol.models import WireModel

from .fields import QueryInt

__all__ = ["Empty", "Input", "PageQuery", "Schema", "at_least_one", "exactly_one", "not_null", "pagination"]


class Schema(WireModel):
    """Base of answers: camelCase aliases, either spelling accepted when built in code, and read
    straight off a storage dataclass where the fields match (`Model.model_validate(row)`).

    The same base as the models live frames carry (protocol/models.py): the things both show (an
    NDA, a message, a notification) are defined there once and re-exported by the area modules."""


class Input(Schema):
    """Base of request bodies and query models: a field the endpoint does not know is refused
    (422 VALIDATION_ERROR naming it), never dropped. `Api.route` refuses to declare a body or a
    query model that would ignore unknown fields.

    Its fields use the strict types of `fields` (text as `Line`/`Para`, ids as `Id`, flags as
    `Flag`, amounts as `MoneyIn`/`AmountIn`...): `tests/test_hostile_input.py` fails on a plain
    `str` or `int` field of a request model."""

    model_config = ConfigDict(extra="forbid")


def not_null(*names: str) -> Callable[[dict[str, Any], type[BaseModel]], None]:
    """`json_schema_extra` for a partial update whose optional fields refuse `null` when sent
    (`title: Line | None = None` plus a validator saying "title cannot be null"): the document
    shows those fields without their null branch, so it allows exactly what the server takes."""

    def edit(schema: dict[str, Any], model: type[BaseModel]) -> None:
        props = schema.get("properties", {})
        for name in names:
            field = model.model_fields[name]
            key = field.alias if field.alias in props else name
            prop = props.get(key)
            if not isinstance(prop, dict) or "anyOf" not in prop:
                continue
            rest = [b for b in prop["anyOf"] if b.get("type") != "null"]
            kept = {k: v for k, v in prop.items() if k not in ("anyOf", "default")}
            props[key] = {**rest[0], **kept} if len(rest) == 1 else {**kept, "anyOf": rest}

    return edit


def exactly_one(first: str, second: str) -> Callable[[dict[str, Any], type[BaseModel]], None]:
    """`json_schema_extra` for "send exactly one of `first` and `second`" (the other absent or
    null), in the document next to the validator that enforces it."""

    def edit(schema: dict[str, Any], model: type[BaseModel]) -> None:
        a = model.model_fields[first].alias or first
        b = model.model_fields[second].alias or second
        # if/then/else rather than oneOf: the same rule, and generated clients keep plain types.
        schema["if"] = {"required": [a], "properties": {a: {"not": {"type": "null"}}}}
        schema["then"] = {"properties": {b: {"type": "null"}}}
        schema["else"] = {"required": [b], "properties": {b: {"not": {"type": "null"}}}}

    return edit


def at_least_one(*names: str) -> Callable[[dict[str, Any], type[BaseModel]], None]:
    """`json_schema_extra` for "send one of these, not null" (a new budget line needs a category
    unless it names an existing line's `id`), as the document's `anyOf`."""

    def edit(schema: dict[str, Any], model: type[BaseModel]) -> None:
        keys = [model.model_fields[n].alias or n for n in names]
        schema["anyOf"] = [{"required": [k], "properties": {k: {"not": {"type": "null"}}}} for k in keys]

    return edit


class Empty(Input):
    """The body of a write that takes no fields (`{}` or nothing)."""


class PageQuery(Input):
    """`page` (from 1) and `limit` (1..100, default 20) of every list."""

    page: QueryInt = Field(1, ge=1, le=100_000)
    limit: QueryInt = Field(20, ge=1, le=100)

    @property
    def offset(self) -> int:
        return (self.page - 1) * self.limit


def pagination(q: PageQuery, total: int, *, capped: bool = False, **extra: Any) -> dict[str, Any]:
    """The `meta` of a page: `{pagination: {page, limit, total, hasMore}}` plus any extra keys.

    `capped`: `total` is a lower bound (a catalog list stops counting at a cap, storage/pitches.py
    TOTAL_CAP, and says so with `totalIsCapped: true`; `hasMore` stays exact)."""
    page = {
        "page": q.page,
        "limit": q.limit,
        "total": total,
        "hasMore": q.offset + q.limit < total,
    }
    if capped:
        page["totalIsCapped"] = True
    return {"pagination": page, **extra}
