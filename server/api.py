"""Endpoints declared once: path, schemas, who may call. The same declaration validates requests,
authenticates callers and yields the OpenAPI 3.1 document, so the docs cannot drift from the code.
"""

from __future__ import annotations

import re
from collections.abc import Awaitable, Callable
from dataclasses import dataclass, field
from typing import TYPE_CHECKING, Any, Generic, Literal, TypeVar

import orjson
from aiohttp import web
from pydantic import BaseModel, ValidationError

from . import envelope
from .auth import Principal
from .errors import (
    ApiError,
    Forbidden,
    InvalidJson,
    NotFound,
    PayloadTooLarge,
    Unauthorized,
    UnsupportedMediaType,
    ValidationFailed,
)
from .permissions import Action, portals_for
from .schemas.fields import load_json

if TYPE_CHECKING:
    from .state import AppState

B = TypeVar("B", bound=BaseModel)
Q = TypeVar("Q", bound=BaseModel)

Auth = Literal["required", "optional", "none"]
# How an endpoint is rate-limited, declared on the endpoint (never inferred from its tags):
# "write": the per-user and per-IP write limits before the body is read (the default of every
# method but GET/HEAD/OPTIONS); "auth": the handler applies the auth limits itself (per IP, and
# failed logins per email), so the write limits do not count it twice; "none": not limited.
RateLimit = Literal["write", "auth", "none"]
_SAFE_METHODS = frozenset({"GET", "HEAD", "OPTIONS"})

#: The largest id a path may name: every id column is a BIGINT identity.
MAX_ID = 2**63 - 1
#: What the router accepts for a path id (`{id}`, `{userId}`, ...): ASCII digits only, so a static
#: route (`/api/pitches/browse`) can never be taken for an id route of another method, and a word
#: where an id belongs matches no route at all (404), for every method alike.
ID_PATTERN = "[0-9]+"


@dataclass(slots=True)
class Reply:
    """What a handler returns when plain data is not enough (status, headers, cookies)."""

    data: Any
    status: int = 200
    headers: dict[str, str] = field(default_factory=dict)
    set_cookies: list[tuple[str, str, dict[str, Any]]] = field(default_factory=list)
    delete_cookies: list[tuple[str, dict[str, Any]]] = field(default_factory=list)
    meta: dict[str, Any] | None = None


class Call(Generic[B, Q]):
    """One request as a handler sees it: validated body and query, the caller, the app state."""

    __slots__ = ("_body", "_query", "principal", "request", "state")

    def __init__(
        self,
        request: web.Request,
        state: AppState,
        principal: Principal | None,
        body: B | None,
        query: Q | None,
    ) -> None:
        self.request = request
        self.state = state
        self.principal = principal
        self._body = body
        self._query = query

    @property
    def body(self) -> B:
        assert self._body is not None, "endpoint declared no body schema"
        return self._body

    @property
    def query(self) -> Q:
        assert self._query is not None, "endpoint declared no query schema"
        return self._query

    @property
    def user(self) -> Principal:
        if self.principal is None:
            raise Unauthorized()
        return self.principal

    def path_id(self, name: str = "id") -> int:
        """An integer id from the path (1..MAX_ID, as the document declares); anything else is
        simply not found."""
        raw = self.request.match_info.get(name, "")
        # The length first: int() of thousands of digits is refused (and slow).
        if not raw.isascii() or not raw.isdigit() or len(raw) > 19 or not 1 <= int(raw) <= MAX_ID:
            raise NotFound()
        return int(raw)


Handler = Callable[[Call[Any, Any]], Awaitable[Any]]


@dataclass(frozen=True)
class Endpoint:
    method: str
    path: str
    handler: Handler
    summary: str
    tags: tuple[str, ...]
    auth: Auth = "required"
    portals: tuple[str, ...] | None = None
    body: type[BaseModel] | None = None
    query: type[BaseModel] | None = None
    response: type[BaseModel] | None = None
    response_list: bool = False
    status: int = 200
    errors: tuple[type[ApiError], ...] = ()
    permission: tuple[Action, str] | None = None
    # OpenAPI fragments for endpoints that read or write raw bodies themselves (multipart
    # uploads, file downloads): "requestBody" replaces the JSON one, "responses" are merged in.
    openapi_extra: dict[str, Any] | None = None
    rate_limit: RateLimit = "write"
    # Other success statuses the handler answers besides `status` (a follow that already existed
    # answers 200 where a new one answers 201); the document declares each.
    also: tuple[int, ...] = ()


class Api:
    """The registry of endpoints; `install()` wires them into an aiohttp app."""

    def __init__(self) -> None:
        self.endpoints: list[Endpoint] = []

    def route(
        self,
        method: str,
        path: str,
        *,
        summary: str,
        tags: tuple[str, ...] = (),
        auth: Auth = "required",
        portals: tuple[str, ...] | None = None,
        body: type[BaseModel] | None = None,
        query: type[BaseModel] | None = None,
        response: type[BaseModel] | None = None,
        response_list: bool = False,
        status: int = 200,
        errors: tuple[type[ApiError], ...] = (),
        permission: tuple[Action, str] | None = None,
        openapi_extra: dict[str, Any] | None = None,
        rate_limit: RateLimit | None = None,
        also: tuple[int, ...] = (),
    ) -> Callable[[Handler], Handler]:
        """Declare an endpoint. `permission=(action, resource)` consults the portal matrix
        (server/permissions.py); `portals` restricts to account types directly. `rate_limit`
        defaults to "write" for writes and "none" for reads (see `RateLimit`).

        Body and query models must refuse unknown fields (`server.schemas.Input`): a field the
        endpoint does not know is answered 422 naming it, never silently dropped."""
        if permission is not None and portals is None:
            portals = portals_for(*permission)
        if rate_limit is None:
            rate_limit = "none" if method.upper() in _SAFE_METHODS else "write"
        for model in (body, query):
            if model is not None and model.model_config.get("extra") != "forbid":
                raise TypeError(f"{method} {path}: {model.__name__} must forbid unknown fields")

        def register(handler: Handler) -> Handler:
            self.endpoints.append(
                Endpoint(
                    method.upper(),
                    path,
                    handler,
                    summary,
                    tags,
                    auth,
                    portals,
                    body,
                    query,
                    response,
                    response_list,
                    status,
                    errors,
                    permission,
                    openapi_extra,
                    rate_limit,
                    also,
                )
            )
            return handler

        return register

    def include(self, other: Api) -> None:
        self.endpoints.extend(other.endpoints)

    def install(self, app: web.Application) -> None:
        for ep in self.endpoints:
            handler = _wrap(ep)
            path = router_path(ep.path)
            if ep.method == "GET":
                # add_get also answers HEAD (load balancers' health checks use it).
                app.router.add_get(path, handler, name=_route_name(ep))
            else:
                app.router.add_route(ep.method, path, handler, name=_route_name(ep))


def is_id_param(name: str) -> bool:
    """`id`, `userId`, `user_id`: a path parameter naming a row by its BIGINT id."""
    return name == "id" or name.endswith(("Id", "_id"))


def router_path(path: str) -> str:
    """The path as aiohttp routes it: an id parameter without a pattern of its own matches only
    ASCII digits (`{id}` -> `{id:[0-9]+}`)."""

    def sub(m: re.Match[str]) -> str:
        name, pattern = m.group(1), m.group(2)
        if pattern is None and is_id_param(name):
            return "{" + name + ":" + ID_PATTERN + "}"
        return m.group(0)

    return _PARAM.sub(sub, path)


def _route_name(ep: Endpoint) -> str:
    return f"{ep.handler.__module__.rsplit('.', 1)[-1]}.{ep.handler.__name__}"


def _wrap(ep: Endpoint) -> Callable[[web.Request], Awaitable[web.StreamResponse]]:
    from .state import APP_STATE  # local: state imports the services, which import api types

    async def handle(request: web.Request) -> web.StreamResponse:
        state = request.app[APP_STATE]
        principal: Principal | None = None
        if ep.auth != "none":
            principal = authenticate(request, state)
            if principal is None and ep.auth == "required":
                raise Unauthorized()
            if principal is not None and ep.portals and principal.user_type not in ep.portals:
                raise Forbidden(f"Only {', '.join(ep.portals)} accounts may do this")
        if ep.rate_limit == "write":
            await state.write_limiter.hit(
                principal.user_id if principal else None,
                client_ip(request, state.settings.trust_proxy),
            )
        body = await _read_body(request, ep.body) if ep.body is not None else None
        query = _validate(ep.query, dict(request.query)) if ep.query is not None else None
        result = await ep.handler(Call(request, state, principal, body, query))
        if isinstance(result, web.StreamResponse):
            return result
        reply = result if isinstance(result, Reply) else Reply(result, status=ep.status)
        response = envelope.success(
            request, reply.data, status=reply.status, meta_extra=reply.meta, headers=reply.headers
        )
        for name, value, opts in reply.set_cookies:
            response.set_cookie(name, value, **opts)
        for name, opts in reply.delete_cookies:
            response.del_cookie(name, **opts)
        return response

    handle.__name__ = ep.handler.__name__
    return handle


def client_ip(request: web.Request, trust_proxy: bool) -> str:
    if trust_proxy:
        # The last hop is the one our proxy appended; earlier entries are whatever the client
        # sent, so trusting the first would let anyone pick a fresh IP per request.
        forwarded = request.headers.get("X-Forwarded-For", "")
        last = forwarded.split(",")[-1].strip()
        if last:
            return last
    return request.remote or "unknown"


def is_https(request: web.Request, trust_proxy: bool) -> bool:
    if trust_proxy and request.headers.get("X-Forwarded-Proto", "").lower() == "https":
        return True
    return request.secure


def authenticate(request: web.Request, state: AppState) -> Principal | None:
    """The caller from `Authorization: Bearer` or the session cookie; None when neither is sent.

    A credential that is present but bad is a 401, never a silent fall-back to anonymous.
    Cookie-authenticated writes must come from an allowed origin (CSRF defence beside SameSite).
    """
    header = request.headers.get("Authorization")
    if header is not None:
        scheme, _, token = header.partition(" ")
        if scheme.lower() != "bearer" or not token.strip():
            raise Unauthorized("Authorization header must be 'Bearer <token>'")
        return state.tokens.verify(token.strip(), "bearer")
    cookie = request.cookies.get(state.settings.cookie_name)
    if cookie:
        principal = state.tokens.verify(cookie, "cookie")
        if request.method not in _SAFE_METHODS:
            origin = request.headers.get("Origin")
            if origin is not None and not _same_origin(request, origin, state):
                raise Forbidden("Cross-origin request with a session cookie")
        return principal
    return None


def _same_origin(request: web.Request, origin: str, state: AppState) -> bool:
    origin = origin.rstrip("/")
    if origin in state.settings.cors_origins:
        return True
    scheme = "https" if is_https(request, state.settings.trust_proxy) else "http"
    return origin == f"{scheme}://{request.host}"


async def _read_body(request: web.Request, model: type[B]) -> B:
    """The JSON body validated by `model`. A body must say `Content-Type: application/json` (or a
    `+json` type): anything else, a missing type included, is 415 before it is read. No body at all
    (or only whitespace) is read as `{}`, so an endpoint whose fields are all optional takes an
    empty request and one with required fields answers 422 naming them (the document says which:
    `requestBody.required`, see `body_required`)."""
    from .state import MAX_BODY

    length = request.content_length
    limit = request.app[MAX_BODY]
    if length is not None and length > limit:
        raise PayloadTooLarge(f"Request body exceeds {limit} bytes")
    ctype = request.content_type
    if request.body_exists and not is_json_type(ctype):
        raise UnsupportedMediaType("Send the body as application/json")
    try:
        raw = await request.read()
    except web.HTTPRequestEntityTooLarge:
        raise PayloadTooLarge(f"Request body exceeds {limit} bytes") from None
    if not raw.strip():
        data: Any = {}
    else:
        try:
            # Numbers with a fraction or an exponent arrive exact (schemas/fields.py: load_json).
            data = load_json(raw)
        except orjson.JSONDecodeError:
            raise InvalidJson() from None
    if not isinstance(data, dict):
        raise ValidationFailed(
            "Request body must be a JSON object",
            details=[{"field": "", "message": "must be a JSON object", "type": "model_type"}],
        )
    return _validate(model, data)


def is_json_type(ctype: str) -> bool:
    return ctype == "application/json" or (ctype.startswith("application/") and ctype.endswith("+json"))


def body_required(model: type[BaseModel]) -> bool:
    """Whether `model` needs a body: it refuses `{}` (a required field, or a rule such as "send at
    least one field"). Otherwise an empty request is the same as `{}`."""
    try:
        model.model_validate({})
    except ValidationError:
        return True
    return False


def _validate(model: type[B], data: dict[str, Any]) -> B:
    try:
        return model.model_validate(data)
    except ValidationError as exc:
        details = [
            {
                "field": ".".join(str(p) for p in err["loc"]),
                # pydantic prefixes a validator's own words with "Value error, ": people see the words.
                "message": err["msg"].removeprefix("Value error, "),
                "type": err["type"],
            }
            for err in exc.errors(include_url=False, include_input=False)
        ]
        first = details[0] if details else {"field": "", "message": "invalid"}
        where = f"{first['field']}: " if first["field"] else ""
        raise ValidationFailed(f"{where}{first['message']}", details=details) from None


_PARAM = re.compile(r"\{(\w+)(?::([^{}]+))?\}")


def openapi_path(path: str) -> tuple[str, list[dict[str, Any]]]:
    """aiohttp path -> OpenAPI path and its path parameters (regex alternatives become enums)."""
    params: list[dict[str, Any]] = []

    def sub(m: re.Match[str]) -> str:
        name, pattern = m.group(1), m.group(2)
        schema: dict[str, Any] = {"type": "string"}
        if pattern and re.fullmatch(r"[\w\-]+(\|[\w\-]+)+", pattern):
            schema["enum"] = pattern.split("|")
        elif is_id_param(name):
            schema = {"type": "integer", "minimum": 1, "maximum": MAX_ID}
        params.append({"name": name, "in": "path", "required": True, "schema": schema})
        return "{" + name + "}"

    return _PARAM.sub(sub, path), params
