"""Bad input is named, never dropped; rate limits and the cookie scheme are declared, not inferred.

- A body field an endpoint does not know is refused with 422 VALIDATION_ERROR naming it in
  `details` (top level and nested), and nothing is stored; so is an unknown query parameter.
- Every request body schema in the OpenAPI document says `additionalProperties: false`, nested
  objects included, and `Api.route` refuses to declare a model that would ignore unknown fields.
- Write rate limiting is the endpoint's `rate_limit` field, whatever its tags.
- The OpenAPI cookie scheme names the configured session cookie.
"""

from __future__ import annotations

from typing import Any

import pytest
from pydantic import BaseModel

from pitchey.server.api import Api, Call
from pitchey.server.app import build_api, openapi_document
from pitchey.server.schemas import Input, Schema


def _fields(body: dict[str, Any]) -> set[str]:
    return {d["field"] for d in body["error"]["details"]}


@pytest.mark.parametrize(
    ("field", "value"),
    [("requireNDA", True), ("shortSynopsis", "Short"), ("estimatedBudget", "1000000")],
)
async def test_unknown_pitch_field_is_refused_by_name(client, register, expect, auth_headers, field, value):
    _, token = await register(client, "creator")
    resp = await client.post(
        "/api/pitches", json={"title": "Spelled otherwise", field: value}, headers=auth_headers(token)
    )
    body = await expect(resp, 422, "VALIDATION_ERROR")
    assert _fields(body) == {field}
    assert body["error"]["details"][0]["type"] == "extra_forbidden"
    assert body["error"]["message"].startswith(f"{field}: ")
    # Nothing was stored without it.
    mine = await expect(await client.get("/api/pitches/my", headers=auth_headers(token)), 200)
    assert mine["data"] == []


async def test_every_unknown_field_is_named_at_once(client, register, expect, auth_headers):
    _, token = await register(client, "creator")
    resp = await client.post(
        "/api/pitches",
        json={"title": "T", "requireNDA": True, "shortSynopsis": "s", "estimatedBudget": 5},
        headers=auth_headers(token),
    )
    body = await expect(resp, 422, "VALIDATION_ERROR")
    assert _fields(body) == {"requireNDA", "shortSynopsis", "estimatedBudget"}


async def test_known_fields_in_either_spelling_still_work(client, register, expect, auth_headers):
    _, token = await register(client, "creator")
    resp = await client.post(
        "/api/pitches",
        json={"title": "T", "requireNda": True, "target_audience": "All"},
        headers=auth_headers(token),
    )
    data = (await expect(resp, 201))["data"]
    assert data["requireNda"] is True and data["targetAudience"] == "All"


async def test_unknown_nested_field_is_named_with_its_path(client, register, expect, auth_headers):
    _, token = await register(client, "production")
    resp = await client.post(
        "/api/production/projects",
        json={
            "title": "Nested",
            "budget": "1000.00",
            "budgetLines": [{"category": "Cast", "allocated": "10.00", "colour": "red"}],
        },
        headers=auth_headers(token),
    )
    body = await expect(resp, 422, "VALIDATION_ERROR")
    assert _fields(body) == {"budgetLines.0.colour"}


async def test_unknown_field_on_an_empty_body_is_refused(client, register, expect, auth_headers):
    _, token = await register(client, "creator")
    pitch = (
        await expect(
            await client.post(
                "/api/pitches", json={"title": "Liked", "status": "published"}, headers=auth_headers(token)
            ),
            201,
        )
    )["data"]
    resp = await client.post(
        f"/api/pitches/{pitch['id']}/like", json={"liked": True}, headers=auth_headers(token)
    )
    body = await expect(resp, 422, "VALIDATION_ERROR")
    assert _fields(body) == {"liked"}


async def test_unknown_query_parameter_is_refused_by_name(client, expect):
    body = await expect(await client.get("/api/pitches/browse?stauts=draft"), 422, "VALIDATION_ERROR")
    assert _fields(body) == {"stauts"}
    body = await expect(await client.get("/api/pitches/trending?limit=5&pageSize=5"), 422, "VALIDATION_ERROR")
    assert _fields(body) == {"pageSize"}
    await expect(await client.get("/api/pitches/trending?limit=5&page=1"), 200)


def _walk(schema: Any, schemas: dict[str, Any], seen: set[str], out: list[str], where: str) -> None:
    """Every object schema reachable from `schema` that does not forbid additional properties."""
    if isinstance(schema, dict):
        ref = schema.get("$ref")
        if isinstance(ref, str):
            name = ref.rsplit("/", 1)[-1]
            if name not in seen:
                seen.add(name)
                _walk(schemas[name], schemas, seen, out, name)
            return
        is_object = schema.get("type") == "object" and "properties" in schema
        if is_object and schema.get("additionalProperties") is not False:
            out.append(where)
        for key, value in schema.items():
            if key != "additionalProperties":
                _walk(value, schemas, seen, out, where)
    elif isinstance(schema, list):
        for item in schema:
            _walk(item, schemas, seen, out, where)


def test_every_body_schema_forbids_additional_properties():
    doc = openapi_document()
    schemas = doc["components"]["schemas"]
    bodies = 0
    open_objects: list[str] = []
    for path, ops in doc["paths"].items():
        for method, op in ops.items():
            content = op.get("requestBody", {}).get("content", {}).get("application/json")
            if content is None:
                continue
            bodies += 1
            _walk(content["schema"], schemas, set(), open_objects, f"{method.upper()} {path}")
    assert bodies >= 20
    assert open_objects == []


def test_every_body_and_query_model_forbids_unknown_fields():
    for ep in build_api().endpoints:
        for model in (ep.body, ep.query):
            if model is not None:
                assert issubclass(model, Input), (ep.method, ep.path, model)
                assert model.model_config.get("extra") == "forbid", (ep.method, ep.path, model)


def test_a_model_that_ignores_unknown_fields_cannot_be_declared():
    class Lenient(Schema):
        name: str

    class Strict(Input):
        name: str

    async def handler(call: Call[Any, Any]) -> None:
        return None

    api = Api()
    with pytest.raises(TypeError, match="Lenient must forbid unknown fields"):
        api.route("POST", "/x", summary="x", body=Lenient)(handler)
    with pytest.raises(TypeError, match="Lenient must forbid unknown fields"):
        api.route("GET", "/x", summary="x", query=Lenient)(handler)
    api.route("POST", "/x", summary="x", body=Strict)(handler)
    assert not issubclass(Lenient, Input) and isinstance(Lenient, type) and issubclass(Lenient, BaseModel)


# -- rate limits, declared ----------------------------------------------------------------------


def test_rate_limit_is_declared_not_inferred_from_tags():
    async def handler(call: Call[Any, Any]) -> None:
        return None

    api = Api()
    api.route("POST", "/a", summary="a", tags=("auth",))(handler)
    api.route("GET", "/b", summary="b")(handler)
    api.route("POST", "/c", summary="c", rate_limit="none")(handler)
    assert [ep.rate_limit for ep in api.endpoints] == ["write", "none", "none"]
    by_path = {(ep.method, ep.path): ep.rate_limit for ep in build_api().endpoints}
    assert by_path[("POST", "/api/auth/{portal:creator|investor|production}/register")] == "auth"
    assert by_path[("POST", "/api/auth/{portal:creator|investor|production}/login")] == "auth"
    assert by_path[("POST", "/api/auth/logout")] == "none"
    assert by_path[("POST", "/api/pitches")] == "write"
    # The document lists 429 exactly where something limits the endpoint.
    doc = openapi_document()
    assert "429" in doc["paths"]["/api/auth/{portal}/login"]["post"]["responses"]
    assert "429" in doc["paths"]["/api/pitches"]["post"]["responses"]
    assert "429" not in doc["paths"]["/api/auth/logout"]["post"]["responses"]
    assert "429" not in doc["paths"]["/api/auth/session"]["get"]["responses"]


async def test_writes_are_limited_by_the_declaration(make_client, register, expect, auth_headers):
    client = await make_client(write_user_limit="2/minute")
    _, token = await register(client, "creator")
    for i in range(2):
        await expect(
            await client.post("/api/pitches", json={"title": f"P{i}"}, headers=auth_headers(token)), 201
        )
    await expect(await client.post("/api/pitches", json={"title": "P3"}, headers=auth_headers(token)), 429)
    # Logging out declares no limit: it works for a caller over its write limit.
    await expect(await client.post("/api/auth/logout", json={}, headers=auth_headers(token)), 200)


# -- the cookie scheme --------------------------------------------------------------------------


async def test_openapi_cookie_scheme_names_the_configured_cookie(make_client, expect):
    client = await make_client(cookie_name="studio_session")
    resp = await client.get("/api/openapi.json")
    assert resp.status == 200
    doc = await resp.json()
    assert doc["components"]["securitySchemes"]["cookie"] == {
        "type": "apiKey",
        "in": "cookie",
        "name": "studio_session",
    }
    assert openapi_document()["components"]["securitySchemes"]["cookie"]["name"] == "pitchey_session"
