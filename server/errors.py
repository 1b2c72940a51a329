"""Typed errors, and the one table that maps them to HTTP status and stable error codes.

Handlers raise domain errors (`PitchNotFound`, `NdaRequired`, ...); the error middleware turns any
`ApiError` into the envelope. Clients key on `code`, never on `message`.
"""

from __future__ import annotations

from typing import Any, ClassVar


class ApiError(Exception):
    """Base of every error a client may see. Subclasses fix `status` and `code`."""

    status: ClassVar[int] = 500
    code: ClassVar[str] = "INTERNAL"
    default_message: ClassVar[str] = "Internal server error"

    def __init__(
        self,
        message: str | None = None,
        *,
        details: Any = None,
        headers: dict[str, str] | None = None,
    ) -> None:
        self.message = message or self.default_message
        self.details = details
        self.headers = headers or {}
        super().__init__(self.message)


class InvalidJson(ApiError):
    status, code, default_message = 400, "INVALID_JSON", "Request body is not valid JSON"


class ValidationFailed(ApiError):
    status, code, default_message = 422, "VALIDATION_ERROR", "Request failed validation"


class BadRequest(ApiError):
    status, code, default_message = 400, "VALIDATION_ERROR", "Bad request"


class Unauthorized(ApiError):
    status, code, default_message = 401, "UNAUTHORIZED", "Authentication required"


class InvalidCredentials(ApiError):
    status, code, default_message = 401, "INVALID_CREDENTIALS", "Invalid email or password"


class Forbidden(ApiError):
    status, code, default_message = 403, "FORBIDDEN", "You are not allowed to do this"


class WrongPortal(ApiError):
    status, code, default_message = 403, "WRONG_PORTAL", "This account belongs to another portal"


class NotFound(ApiError):
    status, code, default_message = 404, "NOT_FOUND", "Not found"


class MethodNotAllowed(ApiError):
    status, code, default_message = 405, "METHOD_NOT_ALLOWED", "Method not allowed"


class Conflict(ApiError):
    status, code, default_message = 409, "CONFLICT", "Conflict"


class EmailExists(ApiError):
    status, code, default_message = 409, "EMAIL_EXISTS", "An account with this email already exists"


class UsernameExists(ApiError):
    status, code, default_message = 409, "USERNAME_EXISTS", "This username is taken"


class MalformedRequest(ApiError):
    """aiohttp's HTTP parser refused the request (a bad request line, a NUL in a header...)."""

    status, code, default_message = 400, "BAD_REQUEST", "The request could not be parsed"


class UriTooLong(ApiError):
    status, code, default_message = 414, "URI_TOO_LONG", "The request line is too long"


class HeadersTooLarge(ApiError):
    status, code, default_message = 431, "HEADERS_TOO_LARGE", "A request header is too large"


class PayloadTooLarge(ApiError):
    status, code, default_message = 413, "PAYLOAD_TOO_LARGE", "Request body is too large"


class UnsupportedMediaType(ApiError):
    status, code, default_message = 415, "UNSUPPORTED_MEDIA_TYPE", "Unsupported content type"


class RateLimited(ApiError):
    status, code, default_message = 429, "RATE_LIMITED", "Too many requests"

    def __init__(self, retry_after: float, message: str | None = None) -> None:
        seconds = max(1, int(retry_after + 0.999))
        super().__init__(message, details={"retryAfter": seconds}, headers={"Retry-After": str(seconds)})


class Unavailable(ApiError):
    status, code, default_message = 503, "UNAVAILABLE", "Service temporarily unavailable"


class PitchNotFound(NotFound):
    default_message = "Pitch not found"


class NdaRequired(Forbidden):
    code = "NDA_REQUIRED"
    default_message = "An approved NDA is required"


# added (money): payments and idempotent retries.
class PaymentDeclined(ApiError):
    status, code, default_message = 402, "PAYMENT_DECLINED", "The card was declined"


class PaymentProviderFailed(ApiError):
    status, code = 502, "PAYMENT_PROVIDER_ERROR"
    default_message = "The payment provider failed; nothing was charged"


class IdempotencyConflict(Conflict):
    code = "IDEMPOTENCY_CONFLICT"
    default_message = "This Idempotency-Key was already used with a different request"


class IdempotencyInProgress(Conflict):
    code = "IDEMPOTENCY_IN_PROGRESS"
    default_message = "A request with this Idempotency-Key is still being processed; retry shortly"
