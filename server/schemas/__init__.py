"""Request and response models, one module per area next to the routes that use them.

The convention: route modules (server/routes/*.py) declare no models; they import them from
`server/schemas/<area>.py`. This package's root holds what every area shares: the two bases
(`Schema` for answers, `Input` for request bodies and queries) and the one pagination model.
camelCase on the wire, snake_case in code.
"""

from __future__ import annotations

from typing import Any

from pydantic import ConfigDict, Field

from pitchey.protocol.models import WireModel

from .fields import QueryInt

__all__ = ["Empty", "Input", "PageQuery", "Schema", "pagination"]


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


class Empty(Input):
    """The body of a write that takes no fields (`{}` or nothing)."""


class PageQuery(Input):
    """`page` (from 1) and `limit` (1..100, default 20) of every list."""

    page: QueryInt = Field(1, ge=1, le=100_000)
    limit: QueryInt = Field(20, ge=1, le=100)

    @property
    def offset(self) -> int:
        return (self.page - 1) * self.limit


def pagination(q: PageQuery, total: int, **extra: Any) -> dict[str, Any]:
    """The `meta` of a page: `{pagination: {page, limit, total, hasMore}}` plus any extra keys."""
    return {
        "pagination": {
            "page": q.page,
            "limit": q.limit,
            "total": total,
            "hasMore": q.offset + q.limit < total,
        },
        **extra,
    }
