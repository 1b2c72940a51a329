"""Field types every request model uses: text, ids, flags and amounts, strict and canonical.

- Text is `Line` or `Para` (protocol/text.py, shared with the WebSocket commands).
- An id in a body is a JSON integer in the column's range (BIGINT: 1..2^63-1): `true` is not 1,
  `"1"` is not 1, `1.5` is no id; anything else is a 422 naming the field, never a database error.
  In a query string an id is ASCII digits (`QueryId`), again within the range.
- A flag in a body is a JSON boolean (`1` and `"true"` are not).
- An amount is an ASCII decimal string or a JSON number with at most two decimals: no exponent,
  no underscores, no sign, no other scripts' digits, and never rounded (`1.001` is refused, as is
  `1.00000000000000000001`). JSON numbers are read from the request's own text (`load_json`),
  never through a binary float that would have rounded them already.
"""

from __future__ import annotations

import functools
import json
import re
from datetime import date, datetime
from decimal import Decimal, InvalidOperation
from typing import Annotated, Any, Final

import orjson
from pydantic import BeforeValidator, Field, WithJsonSchema

from pitchey.protocol.text import Line, Para, check_line, check_para

__all__ = [
    "MAX_BIGINT",
    "AmountIn",
    "Day",
    "DayCostIn",
    "Flag",
    "Id",
    "JsonInt",
    "JsonNumber",
    "Line",
    "Moment",
    "MoneyIn",
    "Para",
    "PositiveAmountIn",
    "QueryFlag",
    "QueryId",
    "QueryInt",
    "check_line",
    "check_para",
    "load_json",
    "parse_amount",
]

MAX_BIGINT: Final = 2**63 - 1

Id = Annotated[int, Field(ge=1, le=MAX_BIGINT, strict=True)]
"""An id in a JSON body: an integer of a BIGINT column, strictly (no bool, no string, no fraction).
An integral JSON number written `7.0` is the integer 7, as JSON Schema's `integer` (which the
document declares) counts it (`load_json` reads it as a `JsonInt`)."""


def _query_int(v: Any) -> Any:
    # A query string is text: ASCII digits only (pydantic alone would take " 1", "+1", "1_0").
    if isinstance(v, str) and not re.fullmatch(r"[0-9]{1,19}", v):
        raise ValueError("must be a whole number written in ASCII digits")
    return v


def _query_flag(v: Any) -> Any:
    # `true` / `false` as a client's URL builder writes them; pydantic alone would also take
    # `1`, `yes`, `on`, `T`..., so two spellings of one URL would be two cache entries.
    if isinstance(v, str) and v not in ("true", "false"):
        raise ValueError("must be true or false")
    return v


QueryFlag = Annotated[bool, BeforeValidator(_query_flag)]
"""A boolean in a query string: `true` or `false` only."""
QueryInt = Annotated[int, BeforeValidator(_query_int)]
"""A whole number in a query string (bounds at the use site)."""
QueryId = Annotated[int, Field(ge=1, le=MAX_BIGINT), BeforeValidator(_query_int)]
"""An id in a query string."""

_DAY: Final = re.compile(r"[0-9]{4}-[0-9]{2}-[0-9]{2}", re.ASCII)
_MOMENT: Final = re.compile(
    r"[0-9]{4}-[0-9]{2}-[0-9]{2}[Tt][0-9]{2}:[0-9]{2}:[0-9]{2}(\.[0-9]{1,9})?([Zz]|[+-][0-9]{2}:[0-9]{2})",
    re.ASCII,
)


def _day(v: Any) -> Any:
    # Only what `format: date` means (pydantic alone takes 0 as 1970-01-01, and datetimes).
    if isinstance(v, str) and not _DAY.fullmatch(v):
        raise ValueError("must be a date written YYYY-MM-DD")
    if not isinstance(v, (str, date)) or isinstance(v, datetime):
        raise ValueError("must be a date written YYYY-MM-DD")
    return v


def _moment(v: Any) -> Any:
    # Only what `format: date-time` means (RFC 3339: with a time zone; no Unix numbers).
    if isinstance(v, str) and not _MOMENT.fullmatch(v):
        raise ValueError("must be a date and time with its zone, e.g. 2026-12-01T09:30:00Z")
    if not isinstance(v, (str, datetime)):
        raise ValueError("must be a date and time with its zone, e.g. 2026-12-01T09:30:00Z")
    return v


Day = Annotated[date, BeforeValidator(_day)]
"""A date in a body or a query: `YYYY-MM-DD` only."""
Moment = Annotated[datetime, BeforeValidator(_moment)]
"""A point in time in a body or a query: RFC 3339 with a zone only."""

Flag = Annotated[bool, Field(strict=True)]
"""A boolean in a JSON body: `true` or `false` only."""


class JsonNumber(Decimal):
    """A JSON number with a fraction or an exponent, exactly as the client wrote it (`text`)."""

    text: str

    def __new__(cls, text: str) -> JsonNumber:
        number = super().__new__(cls, text)
        number.text = text
        return number


def _has_float(value: Any) -> bool:
    # Iterative: orjson nests up to 1,024 levels, deeper than Python's recursion limit.
    stack = [value]
    while stack:
        item = stack.pop()
        if isinstance(item, float):
            return True
        if isinstance(item, dict):
            stack.extend(item.values())
        elif isinstance(item, list):
            stack.extend(item)
    return False


def _no_constant(name: str) -> Any:
    raise ValueError(f"{name} is not JSON")


class JsonInt(int):
    """A JSON number written with a fraction or an exponent whose value is a whole number (`7.0`,
    `1e2`): an integer to every integer field, as JSON Schema's `integer` counts it, and still its
    text to an amount (which refuses the exponent)."""

    text: str

    def __new__(cls, value: int, text: str) -> JsonInt:
        number = super().__new__(cls, value)
        number.text = text
        return number


def _number(text: str) -> Any:
    number = JsonNumber(text)
    # A whole value becomes an int, unless it is too large to be any field's (`1e999999` must
    # not become a million-digit integer).
    if number.is_finite() and number.adjusted() < 30 and number == number.to_integral_value():
        return JsonInt(int(number), text)
    return number


def _exact(raw: bytes) -> Any:
    return json.loads(raw, parse_float=_number, parse_constant=_no_constant)


def load_json(raw: bytes) -> Any:
    """Parse a request body (raises `orjson.JSONDecodeError` for what is not JSON).

    orjson does the work; a body holding a number with a fraction or an exponent (orjson also
    reads integers beyond 64 bits as floats) is read again so that such numbers arrive exact:
    integers as integers, the others as `JsonNumber`, never as binary floats, which would have
    rounded `1.00000000000000000001` to 1.0 and hidden that `1e3` had an exponent. No field takes
    a float. A body orjson refuses only for an escaped unpaired surrogate (`"\\ud800"`, valid
    JSON grammar) is read by the standard library instead, so that the field holding it is
    refused by name (422) rather than the whole body (400)."""
    try:
        data = orjson.loads(raw)
    except orjson.JSONDecodeError as exc:
        if b"\\u" not in raw:
            raise
        try:
            return _exact(raw)
        except (ValueError, RecursionError):
            raise exc from None
    if _has_float(data):
        try:
            data = _exact(raw)
        except RecursionError:
            raise orjson.JSONDecodeError("nested too deeply", raw.decode(errors="replace"), 0) from None
    return data


_DECIMAL_TEXT: Final = re.compile(r"[0-9]{1,15}(\.[0-9]{1,2})?", re.ASCII)
_AMOUNT_PATTERN: Final = r"^[0-9]{1,15}(\.[0-9]{1,2})?$"
_CENT: Final = Decimal("0.01")
_ZERO: Final = Decimal("0")


def parse_amount(value: Any, *, minimum: Decimal, maximum: Decimal, exclusive_minimum: bool) -> Decimal:
    """An amount as the wire may carry it (see the module's rules), within its bounds; quantized
    to cents only when that changes no digit."""
    if isinstance(value, bool):
        raise ValueError("must be a decimal string like 1250.00 or a number")
    if type(value) is int:
        amount = Decimal(value)
    elif isinstance(value, (JsonInt, JsonNumber)):  # `7.0` is an amount; `1e2` is refused
        if not _DECIMAL_TEXT.fullmatch(value.text.removeprefix("-")):
            raise ValueError("must be written without an exponent and with at most 2 decimals")
        amount = Decimal(value.text)
    elif isinstance(value, str):
        if not _DECIMAL_TEXT.fullmatch(value):
            raise ValueError("must be a decimal like 1250.00: ASCII digits, at most 2 decimals")
        amount = Decimal(value)
    elif isinstance(value, Decimal):  # built in code
        amount = value
    elif isinstance(value, float):  # built in code; bodies never carry floats (load_json)
        text = repr(value)
        if not _DECIMAL_TEXT.fullmatch(text.removeprefix("-")):
            raise ValueError("must be written without an exponent and with at most 2 decimals")
        amount = Decimal(text)
    else:
        raise ValueError("must be a decimal string like 1250.00 or a number")
    try:
        if not amount.is_finite() or amount != amount.quantize(_CENT):
            raise ValueError("must have at most 2 decimal places")
    except InvalidOperation:
        raise ValueError("must have at most 2 decimal places") from None
    if amount < minimum or (exclusive_minimum and amount == minimum):
        raise ValueError(f"must be {'greater than' if exclusive_minimum else 'at least'} {minimum}")
    if amount > maximum:
        raise ValueError(f"must be at most {maximum}")
    if isinstance(value, str) and not _compiled_pattern(minimum, maximum, exclusive_minimum).fullmatch(value):
        # In range, yet spelled with more digits than the document's pattern allows ("000001").
        raise ValueError(f"must have at most {len(str(int(maximum)))} digits before the point")
    return amount.quantize(_CENT)


@functools.cache
def _compiled_pattern(minimum: Decimal, maximum: Decimal, exclusive: bool) -> re.Pattern[str]:
    """The document's pattern for the string form, which the server holds a string to as well."""
    return re.compile(_amount_pattern(minimum, maximum, exclusive=exclusive), re.ASCII)


def _amount_pattern(minimum: Decimal, maximum: Decimal, *, exclusive: bool) -> str:
    """The string form's exact bounds as a regex: the maximum is all nines (999999999999.99: so
    many digits) or a power of ten (1000000000.00: fewer digits, or exactly it); an exclusive
    minimum of 0 refuses every spelling of zero (a lookahead)."""
    whole = str(int(maximum))
    fraction = r"(\.[0-9]{1,2})?"
    if set(whole) == {"9"} and maximum == Decimal(whole) + Decimal("0.99"):
        body = rf"[0-9]{{1,{len(whole)}}}{fraction}"
    elif whole == "1" + "0" * (len(whole) - 1) and maximum == Decimal(whole):
        body = rf"([0-9]{{1,{len(whole) - 1}}}{fraction}|{whole}(\.0{{1,2}})?)"
    else:
        raise ValueError(f"no exact pattern for the maximum {maximum}")
    assert minimum == 0, "amounts start at 0"
    return rf"^{'(?![0.]*$)' if exclusive else ''}{body}$"


def _amount_schema(minimum: Decimal, maximum: Decimal, *, exclusive: bool, what: str) -> dict[str, Any]:
    bound = "exclusiveMinimum" if exclusive else "minimum"
    return {
        "anyOf": [
            {"type": "string", "pattern": _amount_pattern(minimum, maximum, exclusive=exclusive)},
            {"type": "number", "multipleOf": 0.01, bound: float(minimum), "maximum": float(maximum)},
        ],
        "description": f"{what}: an ASCII decimal string or a JSON number, at most 2 decimals, no "
        f"exponent; {'above' if exclusive else 'from'} {minimum}, at most {maximum}",
        "examples": ["1250.00"],
    }


MAX_AMOUNT: Final = Decimal("1000000000.00")
"""What one payment or investment may be (server/payments.py's limit)."""
MAX_NUMERIC_14_2: Final = Decimal("999999999999.99")
MAX_NUMERIC_12_2: Final = Decimal("9999999999.99")


def _money(v: Any) -> Decimal:
    return parse_amount(v, minimum=_ZERO, maximum=MAX_AMOUNT, exclusive_minimum=True)


def _amount(v: Any) -> Decimal:
    return parse_amount(v, minimum=_ZERO, maximum=MAX_NUMERIC_14_2, exclusive_minimum=False)


def _positive_amount(v: Any) -> Decimal:
    return parse_amount(v, minimum=_ZERO, maximum=MAX_NUMERIC_14_2, exclusive_minimum=True)


def _day_cost(v: Any) -> Decimal:
    return parse_amount(v, minimum=_ZERO, maximum=MAX_NUMERIC_12_2, exclusive_minimum=False)


MoneyIn = Annotated[
    Decimal,
    BeforeValidator(_money),
    WithJsonSchema(_amount_schema(_ZERO, MAX_AMOUNT, exclusive=True, what="money")),
]
"""A payment, an investment, an investor's budget: above 0, at most 1,000,000,000.00."""
AmountIn = Annotated[
    Decimal,
    BeforeValidator(_amount),
    WithJsonSchema(_amount_schema(_ZERO, MAX_NUMERIC_14_2, exclusive=False, what="an amount")),
]
"""A budget or an allocation (NUMERIC(14,2)): 0 or more."""
PositiveAmountIn = Annotated[
    Decimal,
    BeforeValidator(_positive_amount),
    WithJsonSchema(_amount_schema(_ZERO, MAX_NUMERIC_14_2, exclusive=True, what="an amount")),
]
"""An expense (NUMERIC(14,2)): above 0."""
DayCostIn = Annotated[
    Decimal,
    BeforeValidator(_day_cost),
    WithJsonSchema(_amount_schema(_ZERO, MAX_NUMERIC_12_2, exclusive=False, what="a cost per day")),
]
"""A resource's cost per day (NUMERIC(12,2))."""
