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
from collections.abc import Callable
from dataclasses import dataclass, field
from decimal import Decimal, InvalidOperation
from typing import TYPE_CHECKING, Annotated, Any, Literal, Protocol

import aiohttp
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
    payment_method: str | None = None
    """A successful card charge's reusable reference (renewals charge it; never a card number)."""


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

    async def charge_saved(
        self, amount: Decimal, currency: str, payment_method: str, idempotency_key: str
    ) -> ChargeResult:
        """Charge a saved payment method off-session (subscription renewals); as `charge`."""
        ...

    async def transfer(
        self, amount: Decimal, currency: str, reference: str, idempotency_key: str
    ) -> ChargeResult:
        """Move an investment's funds from the investor's account on file (settlement); as
        `charge`: one transfer per key, `PaymentProviderError` when nothing was moved."""
        ...


class TestPaymentProvider:
    """A card processor's test mode, in memory.

    4242 4242 4242 4242, 5555 5555 5555 4444, 3782 822463 10005: succeed.
    4000 0000 0000 0002: declined `card_declined`; 4000 0000 0000 9995: `insufficient_funds`.
    4000 0000 0000 0119: a processing error (PaymentProviderError), nothing charged.
    4000 0000 0000 0341: the first charge succeeds, off-session charges of the saved method
    (renewals) are declined `card_declined`.
    A successful charge saves the card as `pm_test_<last four>`; `charge_saved` charges it.
    Transfers (investment settlement) succeed, except amounts ending in .02 (declined
    `transfer_declined`) and in .19 (a processing error).
    Any other (Luhn-valid) number: declined `test_mode_live_card`, as test modes refuse real cards.

    `calls` counts every charge call; `charged` lists (key, amount) of each distinct successful
    charge, so tests can prove a retried payment was charged once. `latency` simulates the network.
    """

    __test__ = False  # not a pytest test class
    SUCCEED = frozenset({"4242424242424242", "5555555555554444", "378282246310005"})
    DECLINE = {"4000000000000002": "card_declined", "4000000000009995": "insufficient_funds"}
    ERROR = frozenset({"4000000000000119"})

    RENEWAL_DECLINE = frozenset({"4000000000000341"})

    def __init__(self, latency: float = 0.0) -> None:
        self.latency = latency
        self.calls = 0
        self.charged: list[tuple[str, Decimal]] = []
        self._results: dict[str, asyncio.Future[ChargeResult]] = {}

    async def charge(
        self, amount: Decimal, currency: str, card: CardDetails, idempotency_key: str
    ) -> ChargeResult:
        def decide() -> ChargeResult:
            if card.number in self.ERROR:
                raise PaymentProviderError("processing_error", "the processor failed")
            if card.number in self.SUCCEED or card.number in self.RENEWAL_DECLINE:
                return ChargeResult(_ref("ch"), "succeeded", payment_method=f"pm_test_{card.last4}")
            return ChargeResult(_ref("ch"), "declined", self.DECLINE.get(card.number, "test_mode_live_card"))

        return await self._once(idempotency_key, amount, decide)

    async def charge_saved(
        self, amount: Decimal, currency: str, payment_method: str, idempotency_key: str
    ) -> ChargeResult:
        def decide() -> ChargeResult:
            last4 = payment_method.removeprefix("pm_test_")
            if any(n.endswith(last4) for n in self.RENEWAL_DECLINE):
                return ChargeResult(_ref("ch"), "declined", "card_declined")
            if any(n.endswith(last4) for n in self.SUCCEED) and len(last4) == 4:
                return ChargeResult(_ref("ch"), "succeeded", payment_method=payment_method)
            return ChargeResult(_ref("ch"), "declined", "payment_method_unknown")

        return await self._once(idempotency_key, amount, decide)

    async def transfer(
        self, amount: Decimal, currency: str, reference: str, idempotency_key: str
    ) -> ChargeResult:
        def decide() -> ChargeResult:
            cents = str(amount.quantize(CENT))[-2:]
            if cents == "19":
                raise PaymentProviderError("processing_error", "the processor failed")
            if cents == "02":
                return ChargeResult(_ref("tr"), "declined", "transfer_declined")
            return ChargeResult(_ref("tr"), "succeeded")

        return await self._once(idempotency_key, amount, decide)

    async def _once(
        self, idempotency_key: str, amount: Decimal, decide: Callable[[], ChargeResult]
    ) -> ChargeResult:
        """One outcome per key: a repeated key gets the first call's result (even while that
        call is still running); an error is not remembered, as nothing was charged."""
        self.calls += 1
        known = self._results.get(idempotency_key)
        if known is not None:
            return await asyncio.shield(known)
        future: asyncio.Future[ChargeResult] = asyncio.get_running_loop().create_future()
        self._results[idempotency_key] = future
        try:
            if self.latency:
                await asyncio.sleep(self.latency)
            result = decide()
            if result.status == "succeeded":
                self.charged.append((idempotency_key, amount))
        except BaseException as exc:
            # Errors are not remembered: nothing was charged, so a retry may try again.
            del self._results[idempotency_key]
            shared = exc if isinstance(exc, Exception) else PaymentProviderError("cancelled")
            future.set_exception(shared)
            future.exception()  # mark retrieved: no "never retrieved" warning
            raise
        future.set_result(result)
        return result


def _ref(prefix: str) -> str:
    return f"{prefix}_test_{uuid.uuid4().hex[:24]}"


class HttpPaymentProvider:
    """A payment processor behind HTTP (`PITCHEY_PAYMENTS_URL`), the seam a real processor's
    adapter plugs into; the tests run a processor in test mode on loopback with it, so a
    charge survives the crash of the node that asked for it (tests/payment_processor.py).

    `POST {url}/v1/charges`, `/v1/charges/saved`, `/v1/transfers`, JSON in and out, the
    idempotency key in the `Idempotency-Key` header; any answer but 200 with a result is a
    `PaymentProviderError` (nothing charged, as the key makes the retry safe).
    """

    def __init__(self, url: str, timeout: float = 10.0) -> None:
        self.url = url.rstrip("/")
        self.timeout = timeout

    async def _post(self, path: str, body: dict[str, Any], key: str) -> ChargeResult:
        # A session per call: payments are rare, and nothing is left open at shutdown.
        try:
            async with (
                aiohttp.ClientSession(timeout=aiohttp.ClientTimeout(total=self.timeout)) as http,
                http.post(self.url + path, json=body, headers={"Idempotency-Key": key}) as resp,
            ):
                if resp.status != 200:
                    raise PaymentProviderError("processing_error", f"processor answered {resp.status}")
                got = await resp.json()
        except (aiohttp.ClientError, TimeoutError) as exc:
            raise PaymentProviderError("processing_error", type(exc).__name__) from None
        if not isinstance(got, dict) or got.get("status") not in ("succeeded", "declined"):
            raise PaymentProviderError("processing_error", "processor answered without a result")
        return ChargeResult(str(got["id"]), got["status"], got.get("declineCode"), got.get("paymentMethod"))

    async def charge(
        self, amount: Decimal, currency: str, card: CardDetails, idempotency_key: str
    ) -> ChargeResult:
        body = {
            "amount": money_str(amount),
            "currency": currency,
            "card": {
                "number": card.number,
                "expMonth": card.exp_month,
                "expYear": card.exp_year,
                "cvc": card.cvc,
            },
        }
        return await self._post("/v1/charges", body, idempotency_key)

    async def charge_saved(
        self, amount: Decimal, currency: str, payment_method: str, idempotency_key: str
    ) -> ChargeResult:
        body = {"amount": money_str(amount), "currency": currency, "paymentMethod": payment_method}
        return await self._post("/v1/charges/saved", body, idempotency_key)

    async def transfer(
        self, amount: Decimal, currency: str, reference: str, idempotency_key: str
    ) -> ChargeResult:
        body = {"amount": money_str(amount), "currency": currency, "reference": reference}
        return await self._post("/v1/transfers", body, idempotency_key)


def setup_payments(state: AppState, provider: PaymentProvider | None = None) -> None:
    """Choose the payment provider for this app: the one given, the HTTP processor of
    `PITCHEY_PAYMENTS_URL`, else the in-memory test mode."""
    if provider is not None:
        state.payments = provider
    elif state.payments is None:
        url = state.settings.payments_url
        state.payments = HttpPaymentProvider(url) if url else TestPaymentProvider()


def payment_provider(state: AppState) -> PaymentProvider:
    provider = state.payments
    assert provider is not None, "setup_payments was not called"
    return provider
