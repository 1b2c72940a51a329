"""The OpenAPI 3.1 document, built from the endpoint declarations and their pydantic schemas."""

from __future__ import annotations

from collections import Counter
from typing import Any

from pydantic import BaseModel
from pydantic.json_schema import models_json_schema

from .api import Endpoint, body_required, openapi_path
from .errors import (
    ApiError,
    Forbidden,
    HeadersTooLarge,
    InvalidJson,
    MalformedRequest,
    NotFound,
    PayloadTooLarge,
    RateLimited,
    Unauthorized,
    Unavailable,
    UnsupportedMediaType,
    UriTooLong,
    ValidationFailed,
)
from .settings import Settings

_REF = "#/components/schemas/{model}"
DEFAULT_COOKIE = Settings.model_fields["cookie_name"].default

_ERROR_ENVELOPE = {
    "type": "object",
    "required": ["success", "error", "meta"],
    "properties": {
        "success": {"const": False},
        "error": {
            "type": "object",
            "required": ["code", "message"],
            "properties": {
                "code": {"type": "string"},
                "message": {"type": "string"},
                "details": {},
            },
        },
        "meta": {"$ref": "#/components/schemas/Meta"},
    },
}
_META = {
    "type": "object",
    "required": ["requestId", "timestamp"],
    "properties": {"requestId": {"type": "string"}, "timestamp": {"type": "string"}},
    "additionalProperties": True,
}


def _envelope(data_schema: dict[str, Any]) -> dict[str, Any]:
    return {
        "type": "object",
        "required": ["success", "data", "meta"],
        "properties": {
            "success": {"const": True},
            "data": data_schema,
            "meta": {"$ref": "#/components/schemas/Meta"},
        },
    }


# Statuses that more than one cause can answer, described once for every cause.
_DESCRIPTIONS = {
    400: "The HTTP parser refused the request (BAD_REQUEST), or the body is not JSON (INVALID_JSON)",
    403: "Not allowed: another portal's action, not the owner, or a cross-origin cookie write",
    404: "No such object (or one the caller may not know exists), or an id that is not one",
    422: "The body or query fails its schema (VALIDATION_ERROR); `details` names each field",
}


def _operation_id(ep: Endpoint, *, qualified: bool) -> str:
    name = ep.handler.__name__
    if qualified:
        name = f"{ep.handler.__module__.rsplit('.', 1)[-1]}_{name}"
    return f"{ep.method.lower()}_{name}"


def _no_null(schema: dict[str, Any]) -> dict[str, Any]:
    """A query parameter's schema without its `null` branch: a query string can leave a parameter
    out but cannot send null (an optional `int | None` field is simply absent)."""
    branches = schema.get("anyOf")
    if not isinstance(branches, list) or not any(b.get("type") == "null" for b in branches):
        return schema
    rest = [b for b in branches if b.get("type") != "null"]
    out = {k: v for k, v in schema.items() if k != "anyOf" and not (k == "default" and v is None)}
    if len(rest) == 1:
        return {**rest[0], **out}
    return {**out, "anyOf": rest}


def _errors(ep: Endpoint, has_params: bool) -> list[type[ApiError]]:
    """Every error status the endpoint can answer, in the order they are checked."""
    # The HTTP parser's refusals come before routing, for any request (the "limits" of aiohttp's
    # parser: the request line, one header's size).
    errors: list[type[ApiError]] = [MalformedRequest, UriTooLong, HeadersTooLarge]
    if has_params:
        errors.append(NotFound)  # an id or enum value that matches nothing
    if ep.auth != "none":
        errors.append(Unauthorized)  # optional auth too: a bad token is refused, not ignored
        if ep.method not in ("GET", "HEAD", "OPTIONS"):
            errors.append(Forbidden)  # a cookie-authenticated write from another origin
    if ep.portals:
        errors.append(Forbidden)
    if ep.rate_limit != "none":
        errors.append(RateLimited)
    if ep.body is not None:
        errors += [PayloadTooLarge, UnsupportedMediaType, InvalidJson, ValidationFailed]
    if ep.query is not None:
        errors.append(ValidationFailed)
    errors += ep.errors
    if "system" not in ep.tags:
        errors.append(Unavailable)  # the database is unreachable
    return errors


def build_openapi(
    endpoints: list[Endpoint], *, title: str, version: str, cookie_name: str = DEFAULT_COOKIE
) -> dict[str, Any]:
    """The document; `cookie_name` is the session cookie the app is configured with."""
    models: set[type[BaseModel]] = set()
    for ep in endpoints:
        for m in (ep.body, ep.query, ep.response):
            if m is not None:
                models.add(m)
    ordered = sorted(models, key=lambda m: m.__name__)
    keys, defs = models_json_schema([(m, "validation") for m in ordered], by_alias=True, ref_template=_REF)
    schemas: dict[str, Any] = dict(defs.get("$defs", {}))
    schemas["Meta"] = _META
    schemas["ErrorEnvelope"] = _ERROR_ENVELOPE

    def ref(model: type[BaseModel]) -> dict[str, Any]:
        return keys[(model, "validation")]

    # operationIds must be unique (generated clients key their types by them): two modules'
    # handlers of one name (`invite` for a team and for a pitch's collaborators) get the module.
    plain = Counter(_operation_id(ep, qualified=False) for ep in endpoints)
    paths: dict[str, dict[str, Any]] = {}
    for ep in endpoints:
        path, params = openapi_path(ep.path)
        op: dict[str, Any] = {
            "operationId": _operation_id(ep, qualified=plain[_operation_id(ep, qualified=False)] > 1),
            "summary": ep.summary,
            "tags": list(ep.tags),
            "parameters": list(params),
        }
        if ep.query is not None:
            qschema = ep.query.model_json_schema(by_alias=True, ref_template=_REF)
            for name, sub in qschema.get("$defs", {}).items():
                schemas.setdefault(name, sub)  # what a parameter's schema refers to
            needed = set(qschema.get("required", []))
            for name, prop in qschema.get("properties", {}).items():
                op["parameters"].append(
                    {"name": name, "in": "query", "required": name in needed, "schema": _no_null(prop)}
                )
        if ep.body is not None:
            required = body_required(ep.body)
            op["requestBody"] = {
                # An endpoint whose fields are all optional takes no body at all (read as `{}`).
                "required": required,
                "content": {"application/json": {"schema": ref(ep.body)}},
            }
            body_schema = schemas.get(ep.body.__name__)
            if required and body_schema is not None and not body_schema.get("required"):
                # Every field optional, yet `{}` is refused ("send at least one field").
                body_schema["minProperties"] = 1
        data: dict[str, Any] = ref(ep.response) if ep.response is not None else {}
        if ep.response_list:
            data = {"type": "array", "items": data}
        success = {
            "description": "Success",
            "content": {"application/json": {"schema": _envelope(data)}},
        }
        op["responses"] = {str(status): success for status in (ep.status, *ep.also)}
        if ep.method == "GET" and ep.status == 200 and ep.response is not None:
            # Every JSON GET carries an ETag over its data (server/envelope.py).
            op["responses"]["304"] = {"description": "Not modified: If-None-Match named the current ETag"}
        for err in _errors(ep, bool(params)):
            op["responses"].setdefault(
                str(err.status),
                {
                    "description": _DESCRIPTIONS.get(err.status, err.default_message),
                    "content": {
                        "application/json": {"schema": {"$ref": "#/components/schemas/ErrorEnvelope"}}
                    },
                },
            )
        if ep.openapi_extra:
            op["responses"].update(ep.openapi_extra.get("responses", {}))
            op.update({k: v for k, v in ep.openapi_extra.items() if k != "responses"})
        if ep.auth == "required":
            op["security"] = [{"bearer": []}, {"cookie": []}]
        paths.setdefault(path, {})[ep.method.lower()] = op
    return {
        "openapi": "3.1.0",
        "info": {"title": title, "version": version},
        "paths": paths,
        "components": {
            "schemas": schemas,
            "securitySchemes": {
                "bearer": {"type": "http", "scheme": "bearer", "bearerFormat": "JWT"},
                "cookie": {"type": "apiKey", "in": "cookie", "name": cookie_name},
            },
        },
    }
