"""Every route, every portal, and an anonymous caller: what the permission matrix says is what
the server does. Ids in paths point at nothing, so ownership checks answer 404 and only the
portal check can answer 403."""

from __future__ import annotations

import re

import pytest

from pitchey.server.app import API
from pitchey.server.permissions import PERMISSIONS, allowed, portals_for

PORTALS = ("creator", "investor", "production")
_PARAM = re.compile(r"\{(\w+)(?::([^{}]+))?\}")


def concrete(path: str) -> str:
    def fill(m: re.Match[str]) -> str:
        name, pattern = m.group(1), m.group(2)
        if pattern and "|" in pattern:
            return pattern.split("|")[0]
        if name == "key":
            return "pitches/999999/none.png"
        return "999999"

    return _PARAM.sub(fill, path)


async def test_matrix_is_one_table_and_endpoints_follow_it(make_client):
    client = await make_client()
    endpoints = client.app[API].endpoints
    assert endpoints, "no endpoints declared"
    for ep in endpoints:
        if ep.permission is not None:
            action, resource = ep.permission
            assert ep.portals == portals_for(action, resource), ep.path
            assert ep.portals, f"{ep.method} {ep.path}: no portal may {action} {resource}"
    # The seed's own rows are all there.
    assert {"pitch", "media", "nda_template"} <= PERMISSIONS["creator"]["create"]
    assert {"investment", "nda_request", "message"} <= PERMISSIONS["investor"]["create"]
    assert {"project", "team", "resource"} <= PERMISSIONS["production"]["create"]
    assert allowed("production", "delete", "projects") and not allowed("investor", "create", "pitch")


async def test_every_route_for_every_portal_and_anonymous(make_client, register, auth_headers):
    client = await make_client(write_user_limit="100000/minute", write_ip_limit="100000/minute")
    tokens = {p: (await register(client, p))[1] for p in PORTALS}
    endpoints = client.app[API].endpoints
    checked = 0
    for ep in endpoints:
        path = concrete(ep.path)
        if path == "/ws" or path == "/api/auth/logout":  # logout would revoke the walkers' tokens
            continue
        kwargs = {"json": {}} if ep.method in ("POST", "PUT", "PATCH") else {}
        # Anonymous.
        resp = await client.request(ep.method, path, **kwargs)
        body = await resp.read()
        if ep.auth == "required":
            assert resp.status == 401, f"anonymous {ep.method} {path}: {resp.status} {body[:200]!r}"
        else:
            assert resp.status != 401, f"anonymous {ep.method} {path} refused: {body[:200]!r}"
        assert resp.status < 500, f"anonymous {ep.method} {path}: {resp.status} {body[:300]!r}"
        # Each portal.
        for portal in PORTALS:
            resp = await client.request(ep.method, path, headers=auth_headers(tokens[portal]), **kwargs)
            text = (await resp.read()).decode(errors="replace")
            assert resp.status < 500, f"{portal} {ep.method} {path}: {resp.status} {text[:300]}"
            assert resp.status != 401, f"{portal} {ep.method} {path}: 401 {text[:200]}"
            portal_refusal = resp.status == 403 and "accounts may do this" in text
            if ep.portals is not None and portal not in ep.portals:
                assert portal_refusal, f"{portal} {ep.method} {path} not refused: {resp.status}"
            else:
                assert not portal_refusal, f"{portal} {ep.method} {path} refused by portal"
            checked += 1
    assert checked >= 3 * 40, f"only {checked} route/portal pairs checked"


@pytest.mark.parametrize("portal", PORTALS)
async def test_logout_keeps_the_matrix_honest(make_client, register, auth_headers, portal):
    """A revoked token is anonymous everywhere, whatever its portal."""
    client = await make_client()
    _, token = await register(client, portal)
    assert (await client.post("/api/auth/logout", json={}, headers=auth_headers(token))).status == 200
    resp = await client.get("/api/notifications", headers=auth_headers(token))
    assert resp.status == 401
