"""Investments: create (idempotent), the portfolio, the history and recommendations.

An investment is a commitment recorded against a published pitch the investor may see (and, for
an NDA-protected pitch, holds an approved NDA for); it is created 'pending' and settled outside
this API. Amounts are USD, NUMERIC in the database and "1250.00" strings on the wire.
"""

from __future__ import annotations

import logging
from typing import Any

from pitchey.storage.investments import Investment, InvestmentStore, Portfolio

from ..api import Api, Call, Reply
from ..errors import Forbidden, IdempotencyConflict, NdaRequired, NotFound
from ..payments import CURRENCY, idempotency_key, money_str
from ..schemas import PageQuery, pagination
from ..schemas.money import (
    InvestmentCreate,
    InvestmentOut,
    PortfolioOut,
    PositionOut,
    RecommendationOut,
    StatusTotalOut,
)
from ._shared import pitch_out, realtime_hub, visible_pitch

log = logging.getLogger("pitchey.server.investments")

api = Api()

REPLAYED_HEADER = "Idempotent-Replayed"


def portfolio_out(p: Portfolio) -> PortfolioOut:
    return PortfolioOut(
        total_invested=money_str(p.invested),
        investment_count=p.investments,
        position_count=len(p.positions),
        by_status=[StatusTotalOut.model_validate(s) for s in p.by_status],
        positions=[
            PositionOut(
                pitch_id=x.pitch_id,
                pitch_title=x.pitch_title,
                genre=x.genre,
                amount=money_str(x.amount),
                count=x.count,
                first_investment_at=x.first_at,
                last_investment_at=x.last_at,
            )
            for x in p.positions
        ],
    )


def store(call: Call[Any, Any]) -> InvestmentStore:
    return InvestmentStore(call.state.database)


def _replay(inv: Investment, body: InvestmentCreate) -> Reply:
    """The stored answer for a retried create; the same key on another request is refused."""
    if inv.pitch_id != body.pitch_id or inv.amount != body.amount:
        raise IdempotencyConflict(details={"investmentId": inv.id})
    return Reply(InvestmentOut.model_validate(inv), status=200, headers={REPLAYED_HEADER: "true"})


@api.route(
    "POST",
    "/api/investments/create",
    body=InvestmentCreate,
    response=InvestmentOut,
    status=201,
    also=(200,),
    permission=("create", "investment"),
    tags=("investments",),
    errors=(NotFound, Forbidden, NdaRequired, IdempotencyConflict),
    summary="Invest in a published pitch (idempotent with an Idempotency-Key header)",
)
async def create_investment(call: Call[InvestmentCreate, Any]) -> Reply:
    body = call.body
    me = call.user
    key = idempotency_key(call.request)
    investments = store(call)
    if key is not None:
        stored = await investments.by_key(me.user_id, key)
        if stored is not None:
            return _replay(stored, body)
    pitch, _, decision = await visible_pitch(call, body.pitch_id)
    if pitch.status != "published":
        raise Forbidden("This pitch is not open for investment")
    if pitch.require_nda and not decision.shows_protected:
        raise NdaRequired("Sign this pitch's NDA before investing")
    inv, created = await investments.create(me.user_id, pitch.id, body.amount, key)
    if not created:  # a concurrent retry with the same key won the insert
        return _replay(inv, body)
    await _notify_owner(call, pitch.user_id, pitch.title, inv)
    return Reply(InvestmentOut.model_validate(inv), status=201)


async def _notify_owner(call: Call[Any, Any], owner_id: int, title: str, inv: Investment) -> None:
    """Tell the pitch owner, after the commit. The investment stands even if this fails."""
    try:
        investor = await call.state.users.by_id(inv.investor_id)
        name = (
            investor.name or investor.company_name or investor.username if investor else None
        ) or "An investor"
        amount = money_str(inv.amount)
        await realtime_hub(call).notify(
            owner_id,
            "new_investment",
            f"New investment in {title}",
            f"{name} invested {amount} {CURRENCY}",
            {
                "pitchId": inv.pitch_id,
                "investmentId": inv.id,
                "investorId": inv.investor_id,
                "amount": amount,
                "currency": CURRENCY,
            },
        )
    except Exception:
        log.warning("could not notify owner %s of investment %s", owner_id, inv.id, exc_info=True)


@api.route(
    "GET",
    "/api/investments/portfolio",
    response=PortfolioOut,
    permission=("read", "portfolio"),
    tags=("investments",),
    summary="The investor's totals, per-status breakdown and per-pitch positions",
)
async def get_portfolio(call: Call[Any, Any]) -> PortfolioOut:
    return portfolio_out(await store(call).portfolio(call.user.user_id))


@api.route(
    "GET",
    "/api/investments/history",
    query=PageQuery,
    response=InvestmentOut,
    response_list=True,
    permission=("read", "portfolio"),
    tags=("investments",),
    summary="The investor's investments, newest first (paginated)",
)
async def get_history(call: Call[Any, PageQuery]) -> Reply:
    q = call.query
    rows, total = await store(call).history(call.user.user_id, limit=q.limit, offset=q.offset)
    return Reply([InvestmentOut.model_validate(r) for r in rows], meta=pagination(q, total))


def reason_text(code: str, genre: str | None, format: str | None = None) -> str:
    g = (genre or "").strip() or "this genre"
    f = (format or "").strip() or "this format"
    return {
        "nda_access": "You have NDA access to this pitch",
        "followed_creator": "From a creator you follow",
        "preferred_genre": f"Matches your preferred genre: {g}",
        "preferred_format": f"Matches your preferred format: {f}",
        "preferred_budget": "Within your preferred budget range",
        "invested_genre": f"Because you invested in {g}",
        "nda_genre": f"Because you signed NDAs for {g} pitches",
        "liked_genre": f"Because you liked {g} pitches",
        "trending": "Trending",
    }.get(code, "New on Pitchey")


@api.route(
    "GET",
    "/api/investment/recommendations",
    query=PageQuery,
    response=RecommendationOut,
    response_list=True,
    permission=("read", "portfolio"),
    tags=("investments",),
    summary="Published pitches ranked for this investor, each with the reason why",
)
async def get_recommendations(call: Call[Any, PageQuery]) -> Reply:
    q = call.query
    me = call.user
    recs, total = await store(call).recommendations(me.user_id, me.user_type, limit=q.limit, offset=q.offset)
    out = [
        RecommendationOut(
            pitch=pitch_out(r.pitch, show_protected=r.has_nda),
            score=r.score,
            reason=reason_text(r.reason_code, r.pitch.genre, r.pitch.format),
            reason_code=r.reason_code,
        )
        for r in recs
    ]
    return Reply(out, meta=pagination(q, total))
