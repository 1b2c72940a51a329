"""The OpenAPI 3.1 document, built from the endpoint declarations and their pydantic schemas."""

from __future__ import annotations

from typing import Any

from pydantic import BaseModel
from pydantic.json_schema import models_json_schema

from .api import Endpoint, openapi_path
from .errors import (
    ApiError,
    Forbidden,
    InvalidJson,
    NotFound,
    PayloadTooLarge,
    RateLimited,
    Unauthorized,
    Unavailable,
    UnsupportedMediaType,
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

    paths: dict[str, dict[str, Any]] = {}
    for ep in endpoints:
        path, params = openapi_path(ep.path)
        op: dict[str, Any] = {
            "operationId": f"{ep.method.lower()}_{ep.handler.__name__}",
            "summary": ep.summary,
            "tags": list(ep.tags),
            "parameters": list(params),
        }
        if ep.query is not None:
            qschema = ep.query.model_json_schema(by_alias=True, ref_template=_REF)
            required = set(qschema.get("required", []))
            for name, prop in qschema.get("properties", {}).items():
                op["parameters"].append(
                    {"name": name, "in": "query", "required": name in required, "schema": prop}
                )
        if ep.body is not None:
            op["requestBody"] = {
                "required": True,
                "content": {"application/json": {"schema": ref(ep.body)}},
            }
        data: dict[str, Any] = ref(ep.response) if ep.response is not None else {}
        if ep.response_list:
            data = {"type": "array", "items": data}
        op["responses"] = {
            str(ep.status): {
                "description": "Success",
                "content": {"application/json": {"schema": _envelope(data)}},
            }
        }
        errors: list[type[ApiError]] = list(ep.errors)
        if ep.auth != "none":
            errors.append(Unauthorized)  # optional auth too: a bad token is refused, not ignored
        if ep.portals:
            errors.append(Forbidden)
        if params:
            errors.append(NotFound)  # an id or enum value that matches nothing
        if ep.body is not None:
            errors += [InvalidJson, ValidationFailed, PayloadTooLarge, UnsupportedMediaType]
        if ep.query is not None:
            errors.append(ValidationFailed)
        if ep.rate_limit != "none":
            errors.append(RateLimited)
        if "system" not in ep.tags:
            errors.append(Unavailable)  # the database is unreachable
        for err in errors:
            op["responses"].setdefault(
                str(err.status),
                {
                    "description": err.default_message,
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
