"""Money: investments, the portfolio, recommendations, payments, credits and subscriptions.
Amounts are Decimal with two places (a JSON string on the wire)."""

from __future__ import annotations

import re
from datetime import UTC, datetime
from decimal import Decimal
from typing import Annotated, Any, Literal

from pydantic import BeforeValidator, ConfigDict, Field, SecretStr, field_validator, model_validator

from ..payments import (
    MAX_CREDITS_PER_PURCHASE,
    MONEY_PATTERN,
    CardDetails,
    PaidPlan,
    PlanName,
    luhn_ok,
    money_str,
)
from . import Input, Schema
from .catalog import PitchOut
from .fields import Id, MoneyIn


def _wire_money(v: Any) -> Any:
    return money_str(v) if isinstance(v, Decimal) else v


# An amount in an answer: "1250.00" on the wire. A stored Decimal is rendered on the way in, so an
# answer reads straight off its storage row (`PaymentOut.model_validate(payment)`).
Money = Annotated[
    str,
    Field(
        pattern=MONEY_PATTERN, examples=["1250.00"], description="a decimal string with exactly two decimals"
    ),
    BeforeValidator(_wire_money),  # outermost: runs first, before the pattern is checked
]

# -- investments --------------------------------------------------------------------------------

InvestmentStatus = Literal["pending", "completed", "failed", "cancelled", "refunded"]


class InvestmentCreate(Input):
    pitch_id: Id
    amount: MoneyIn


class InvestmentOut(Schema):
    id: int
    pitch_id: int
    pitch_title: str
    amount: Money
    currency: Literal["USD"] = "USD"
    status: InvestmentStatus
    created_at: datetime


class StatusTotalOut(Schema):
    status: InvestmentStatus
    count: int
    amount: Money


class PositionOut(Schema):
    pitch_id: int
    pitch_title: str
    genre: str | None
    amount: Money
    count: int
    first_investment_at: datetime
    last_investment_at: datetime


class PortfolioOut(Schema):
    currency: Literal["USD"] = "USD"
    total_invested: Money = Field(description="Sum of active (pending + completed) investments")
    investment_count: int = Field(description="Every investment, whatever its status")
    position_count: int = Field(description="Pitches with at least one active investment")
    by_status: list[StatusTotalOut]
    positions: list[PositionOut]


ReasonCode = Literal[
    "nda_access",
    "followed_creator",
    "preferred_genre",
    "preferred_format",
    "preferred_budget",
    "invested_genre",
    "nda_genre",
    "liked_genre",
    "trending",
    "new",
]


class RecommendationOut(Schema):
    pitch: PitchOut
    score: float
    reason: str
    reason_code: ReasonCode


# -- payments -----------------------------------------------------------------------------------


# 12-19 digits, maybe grouped by single spaces or dashes ("4242 4242 4242 4242"): the document's
# pattern and the server's rule alike (a lookahead counts the digits).
_CARD_NUMBER = r"(?=(?:[ \-]?[0-9]){12,19}$)[0-9]+(?:[ \-][0-9]+)*"


class CardIn(Input):
    """A card as typed: its form is validated here (422), never stored or logged (payments keep
    the brand and the last four digits only). What a schema cannot say, a number failing the Luhn
    check and an expired card, is a decline (`decline_code`: 402 PAYMENT_DECLINED before any
    charge, as card processors answer them), so a typo still never reaches the provider."""

    number: SecretStr = Field(
        description="12-19 digits; spaces and dashes are ignored",
        examples=["4242 4242 4242 4242"],
        json_schema_extra={"maxLength": 40, "pattern": f"^{_CARD_NUMBER}$"},
    )
    exp_month: int = Field(ge=1, le=12, strict=True)
    exp_year: int = Field(ge=2000, le=2100, strict=True)
    cvc: SecretStr = Field(
        description="3 or 4 digits",
        examples=["123"],
        json_schema_extra={"maxLength": 4, "pattern": r"^[0-9]{3,4}$"},
    )

    @field_validator("number", mode="before")
    @classmethod
    def _number(cls, v: Any) -> str:
        if not isinstance(v, str):
            raise ValueError("card number must be a string")
        if not re.fullmatch(_CARD_NUMBER, v, re.ASCII):
            raise ValueError("card number must be 12-19 digits, in groups split by single spaces or dashes")
        return v.replace(" ", "").replace("-", "")

    @field_validator("cvc", mode="before")
    @classmethod
    def _cvc(cls, v: Any) -> str:
        if not isinstance(v, str) or not (v.isascii() and v.isdigit() and 3 <= len(v) <= 4):
            raise ValueError("cvc must be 3 or 4 digits")
        return v

    def decline_code(self) -> str | None:
        """Why the card cannot be charged at all, in the provider's words (None: try it)."""
        if not luhn_ok(self.number.get_secret_value()):
            return "incorrect_number"
        now = datetime.now(UTC)
        if (self.exp_year, self.exp_month) < (now.year, now.month):
            return "expired_card"
        return None

    def details(self) -> CardDetails:
        return CardDetails(
            self.number.get_secret_value(), self.exp_month, self.exp_year, self.cvc.get_secret_value()
        )


class CreditPurchaseBody(Input):
    credits: int = Field(ge=1, le=MAX_CREDITS_PER_PURCHASE, strict=True)
    card: CardIn


class SubscribeBody(Input):
    plan: PaidPlan
    card: CardIn


class ProcessBody(Input):
    """The seed's generic entry: what is bought, and optionally the amount the client shows
    (refused when it differs from the price, so a stale price list cannot charge wrongly)."""

    purpose: Literal["credits", "subscription"]
    credits: int | None = Field(None, ge=1, le=MAX_CREDITS_PER_PURCHASE, strict=True)
    plan: PaidPlan | None = None
    amount: MoneyIn | None = None
    currency: Literal["USD"] = "USD"
    card: CardIn

    # The rule below, as the document states it: credits (and no plan), or a plan (and no credits).
    model_config = ConfigDict(
        json_schema_extra={
            "oneOf": [
                {
                    "properties": {
                        "purpose": {"const": "credits"},
                        "credits": {"type": "integer"},
                        "plan": {"type": "null"},
                    },
                    "required": ["purpose", "credits"],
                },
                {
                    "properties": {
                        "purpose": {"const": "subscription"},
                        "plan": {"type": "string"},
                        "credits": {"type": "null"},
                    },
                    "required": ["purpose", "plan"],
                },
            ]
        }
    )

    @model_validator(mode="after")
    def _what(self) -> ProcessBody:
        if self.purpose == "credits" and (self.credits is None or self.plan is not None):
            raise ValueError("purpose 'credits' takes credits (and no plan)")
        if self.purpose == "subscription" and (self.plan is None or self.credits is not None):
            raise ValueError("purpose 'subscription' takes a plan (and no credits)")
        return self


class PaymentOut(Schema):
    id: int
    amount: Money
    currency: str
    purpose: Literal["credits", "subscription", "renewal"] = Field(
        description="renewal: a subscription's period renewed by the platform, not by a request"
    )
    plan: PaidPlan | None
    credits: int | None
    status: Literal["pending", "succeeded", "declined", "failed"]
    card_brand: str
    card_last4: str
    provider_ref: str | None
    failure_code: str | None
    created_at: datetime
    settled_at: datetime | None


SubscriptionStatus = Literal["none", "active", "past_due", "cancelled", "expired"]


class SubscriptionOut(Schema):
    plan: PlanName
    status: SubscriptionStatus
    effective_plan: PlanName = Field(
        description="What the user gets now: the plan while paid up (even if cancelled), else free"
    )
    price: Money
    currency: Literal["USD"] = "USD"
    credits_per_period: int
    current_period_start: datetime | None = None
    current_period_end: datetime | None = None
    renews: bool


class PaymentResult(Schema):
    payment: PaymentOut
    credits_added: int
    credit_balance: int | None = Field(description="Balance right after this payment, when it added credits")
    subscription: SubscriptionOut | None
    replayed: bool


class CreditBalanceOut(Schema):
    balance: int
    credit_price: Money
    currency: Literal["USD"] = "USD"
    updated_at: datetime | None


class LedgerEntryOut(Schema):
    id: int
    delta: int
    balance_after: int
    reason: Literal["purchase", "subscription_grant", "spend", "refund", "adjustment"]
    payment_id: int | None
    note: str | None
    created_at: datetime


class PlanOut(Schema):
    name: PlanName
    price: Money
    credits_per_period: int
    months: int


class PlansOut(Schema):
    currency: Literal["USD"] = "USD"
    credit_price: Money
    max_credits_per_purchase: int
    plans: list[PlanOut]
