"""Money on the wire and the seam to the card processor.

Payment networks are outside our reach, so the app talks to a `PaymentProvider`; the only one so
far is `TestPaymentProvider`, which behaves like a processor's test mode (fixed test card numbers,
idempotent by key). The provider lives in `state.payments` (see `setup_payments`), so a
test or a real provider can replace it without touching the endpoints.

Money is `Decimal`, parsed without ever passing through binary floating point, and leaves the
server as a string with exactly two decimals ("1250.00") so no client parses it as a float.
"""

from __future__ import annotations

import asyncio
import math
import re
import uuid
from dataclasses import dataclass, field
from decimal import Decimal, InvalidOperation
from typing import TYPE_CHECKING, Annotated, Any, Literal, Protocol

from aiohttp import web
from pydantic import BeforeValidator, Field, WithJsonSchema

from .errors import ValidationFailed

if TYPE_CHECKING:
    from .state import AppState

CENT = Decimal("0.01")
MAX_AMOUNT = Decimal("1000000000.00")
CURRENCY = "USD"
_MONEY_TEXT = re.compile(r"^-?\d{1,20}(\.\d{1,20})?$")
MONEY_PATTERN = r"^\d+\.\d{2}$"


def parse_money(value: Any) -> Decimal:
    """A positive amount with at most two decimals, at most MAX_AMOUNT.

    Accepts a JSON string ("1250.50") or number. A number arrives as a Python float; its shortest
    round-trip text (`repr`) is what the client wrote, so 1.001 stays 1.001 and is refused instead
    of being rounded. Booleans, NaN, infinities and exponent strings are refused.
    """
    if isinstance(value, bool):
        raise ValueError("amount must be a number or a decimal string")
    if isinstance(value, int):
        amount = Decimal(value)
    elif isinstance(value, float):
        if not math.isfinite(value):
            raise ValueError("amount must be a finite number")
        amount = Decimal(repr(value))
    elif isinstance(value, Decimal):
        amount = value
    elif isinstance(value, str):
        text = value.strip()
        if not _MONEY_TEXT.match(text):
            raise ValueError("amount must be a decimal like 1250.00")
        try:
            amount = Decimal(text)
        except InvalidOperation:
            raise ValueError("amount must be a decimal like 1250.00") from None
    else:
        raise ValueError("amount must be a number or a decimal string")
    if not amount.is_finite():
        raise ValueError("amount must be a finite number")
    if amount <= 0:
        raise ValueError("amount must be greater than 0")
    if amount > MAX_AMOUNT:
        raise ValueError(f"amount must be at most {MAX_AMOUNT}")
    if amount != amount.quantize(CENT):
        raise ValueError("amount must have at most 2 decimal places")
    return amount.quantize(CENT)


MoneyIn = Annotated[
    Decimal,
    BeforeValidator(parse_money),
    WithJsonSchema(
        {
            "oneOf": [{"type": "string", "pattern": r"^\d+(\.\d{1,2})?$"}, {"type": "number"}],
            "description": f"positive, at most 2 decimals, at most {MAX_AMOUNT}",
            "examples": ["1250.00"],
        }
    ),
]

Money = Annotated[
    str,
    Field(
        pattern=MONEY_PATTERN, examples=["1250.00"], description="a decimal string with exactly two decimals"
    ),
]


def money_str(amount: Decimal) -> str:
    """The wire format of money: "1250.00" (never a float, never an exponent)."""
    return f"{amount.quantize(CENT):f}"


# --------------------------------------------------------------------------------------------
# Prices (USD). One catalogue: the endpoints, the docs and the tests read these.
# --------------------------------------------------------------------------------------------

CREDIT_PRICE = Decimal("1.00")
MAX_CREDITS_PER_PURCHASE = 10_000

PlanName = Literal["free", "basic", "pro", "enterprise"]
PaidPlan = Literal["basic", "pro", "enterprise"]


@dataclass(frozen=True, slots=True)
class Plan:
    name: PlanName
    price: Decimal  # per period
    credits_per_period: int  # granted to the credit ledger when a period is paid
    months: int = 1


PLANS: dict[str, Plan] = {
    "free": Plan("free", Decimal("0.00"), 0),
    "basic": Plan("basic", Decimal("19.00"), 10),
    "pro": Plan("pro", Decimal("49.00"), 50),
    "enterprise": Plan("enterprise", Decimal("199.00"), 250),
}


# --------------------------------------------------------------------------------------------
# Idempotency-Key
# --------------------------------------------------------------------------------------------

_KEY = re.compile(r"^[\x21-\x7e]{1,255}$")


def idempotency_key(request: web.Request) -> str | None:
    """The optional `Idempotency-Key` header: 1-255 visible ASCII characters."""
    raw = request.headers.get("Idempotency-Key")
    if raw is None:
        return None
    key = raw.strip()
    if not _KEY.match(key):
        raise ValidationFailed(
            "Idempotency-Key must be 1-255 visible ASCII characters",
            details=[{"field": "Idempotency-Key", "message": "invalid", "type": "value_error"}],
        )
    return key


# --------------------------------------------------------------------------------------------
# Cards
# --------------------------------------------------------------------------------------------


def luhn_ok(digits: str) -> bool:
    """The Luhn checksum every real card number satisfies (catches typos before any charge)."""
    if not digits.isdigit():
        return False
    total = 0
    for i, ch in enumerate(reversed(digits)):
        d = int(ch)
        if i % 2 == 1:
            d *= 2
            if d > 9:
                d -= 9
        total += d
    return total % 10 == 0


def card_brand(digits: str) -> str:
    if digits.startswith("4"):
        return "visa"
    if digits[:2] in ("34", "37"):
        return "amex"
    if "51" <= digits[:2] <= "55" or "2221" <= digits[:4] <= "2720":
        return "mastercard"
    if digits.startswith(("6011", "65")):
        return "discover"
    return "unknown"


@dataclass(frozen=True, slots=True)
class CardDetails:
    """A card as handed to the provider. `number` and `cvc` stay out of repr (and so of logs)."""

    number: str = field(repr=False)
    exp_month: int
    exp_year: int
    cvc: str = field(repr=False)

    @property
    def last4(self) -> str:
        return self.number[-4:]

    @property
    def brand(self) -> str:
        return card_brand(self.number)


# --------------------------------------------------------------------------------------------
# The provider seam
# --------------------------------------------------------------------------------------------


@dataclass(frozen=True, slots=True)
class ChargeResult:
    id: str
    status: Literal["succeeded", "declined"]
    decline_code: str | None = None


class PaymentProviderError(Exception):
    """The provider could not be reached, timed out or failed: nothing was charged."""

    def __init__(self, code: str = "processing_error", message: str | None = None) -> None:
        self.code = code
        super().__init__(message or code)


class PaymentProvider(Protocol):
    async def charge(
        self, amount: Decimal, currency: str, card: CardDetails, idempotency_key: str
    ) -> ChargeResult:
        """Charge `amount`; the same `idempotency_key` always yields the same result and at
        most one charge. Raises `PaymentProviderError` for network errors and timeouts."""
        ...


class TestPaymentProvider:
    """A card processor's test mode, in memory.

    4242 4242 4242 4242, 5555 5555 5555 4444, 3782 822463 10005: succeed.
    4000 0000 0000 0002: declined `card_declined`; 4000 0000 0000 9995: `insufficient_funds`.
    4000 0000 0000 0119: a processing error (PaymentProviderError), nothing charged.
    Any other (Luhn-valid) number: declined `test_mode_live_card`, as test modes refuse real cards.

    `calls` counts every charge call; `charged` lists (key, amount) of each distinct successful
    charge, so tests can prove a retried payment was charged once. `latency` simulates the network.
    """

    __test__ = False  # not a pytest test class
    SUCCEED = frozenset({"4242424242424242", "5555555555554444", "378282246310005"})
    DECLINE = {"4000000000000002": "card_declined", "4000000000009995": "insufficient_funds"}
    ERROR = frozenset({"4000000000000119"})

    def __init__(self, latency: float = 0.0) -> None:
        self.latency = latency
        self.calls = 0
        self.charged: list[tuple[str, Decimal]] = []
        self._results: dict[str, asyncio.Future[ChargeResult]] = {}

    async def charge(
        self, amount: Decimal, currency: str, card: CardDetails, idempotency_key: str
    ) -> ChargeResult:
        self.calls += 1
        known = self._results.get(idempotency_key)
        if known is not None:
            return await asyncio.shield(known)
        future: asyncio.Future[ChargeResult] = asyncio.get_running_loop().create_future()
        self._results[idempotency_key] = future
        try:
            if self.latency:
                await asyncio.sleep(self.latency)
            if card.number in self.ERROR:
                raise PaymentProviderError("processing_error", "the processor failed")
            if card.number in self.SUCCEED:
                result = ChargeResult(f"ch_test_{uuid.uuid4().hex[:24]}", "succeeded")
                self.charged.append((idempotency_key, amount))
            else:
                code = self.DECLINE.get(card.number, "test_mode_live_card")
                result = ChargeResult(f"ch_test_{uuid.uuid4().hex[:24]}", "declined", code)
        except BaseException as exc:
            # Errors are not remembered: nothing was charged, so a retry may try again.
            del self._results[idempotency_key]
            shared = exc if isinstance(exc, Exception) else PaymentProviderError("cancelled")
            future.set_exception(shared)
            future.exception()  # mark retrieved: no "never retrieved" warning
            raise
        future.set_result(result)
        return result


def setup_payments(state: AppState, provider: PaymentProvider | None = None) -> None:
    """Choose the payment provider for this app (the test provider unless one is given)."""
    if state.payments is None or provider is not None:
        state.payments = provider or TestPaymentProvider()


def payment_provider(state: AppState) -> PaymentProvider:
    provider = state.payments
    assert provider is not None, "setup_payments was not called"
    return provider
