"""GET /ws authentication: subprotocol, cookie, one-time ticket; refusals; revocation and expiry
closing a live session with 4001; the greeting; and a client built on the `websockets` library."""

from __future__ import annotations

import asyncio
import time
import uuid

import aiohttp
import jwt
import orjson
import pytest
import websockets
from conftest import expect_envelope
from realtime_helpers import (
    SUBPROTOCOL,
    Conn,
    app_state,
    bearer,
    connect,
    greeted,
    logout,
    make_pitch,
    protocols,
    realtime,
    user,
    wait_until,
)

from pitchey.protocol import decode_event

UPGRADE_HEADERS = {
    "Connection": "Upgrade",
    "Upgrade": "websocket",
    "Sec-WebSocket-Version": "13",
    "Sec-WebSocket-Key": "dGhlIHNhbXBsZSBub25jZQ==",
}


async def handshake_status(client, path="/ws", **kwargs) -> int:
    with pytest.raises(aiohttp.WSServerHandshakeError) as info:
        await client.ws_connect(path, **kwargs)
    return info.value.status


# ---------------------------------------------------------------------------------------------
# Ways in
# ---------------------------------------------------------------------------------------------


async def test_bearer_subprotocol_selects_pitchey_v1_and_greets(make_client):
    client = await make_client()
    uid, token = await user(client, "investor")
    ws = await client.ws_connect("/ws", protocols=protocols(token))
    assert ws.protocol == SUBPROTOCOL
    conn = Conn(ws)
    hello = await conn.expect()
    assert hello["type"] == "connected"
    assert hello["data"]["userId"] == uid
    assert hello["data"]["userType"] == "investor"
    assert isinstance(hello["data"]["sessionId"], str) and hello["data"]["sessionId"]
    own = await conn.expect()
    assert own["type"] == "subscribed" and own["room"] == f"user:{uid}", own
    assert own["data"]["seq"] == 0 and own["data"]["recovered"] is False
    assert isinstance(own["data"]["epoch"], str) and own["data"]["epoch"]
    assert own["data"]["presence"] == [{"userId": uid, "userType": "investor", "connections": 1}]


async def test_ping_pong_echoes_string_and_integer_ids(make_client):
    client = await make_client()
    _, token = await user(client)
    conn = await connect(client, token)
    for cid in ("abc-1", 42, 0):
        await conn.send("ping", id=cid)
        pong = await conn.expect("pong")
        assert pong["id"] == cid and pong["data"] == {}
    # Without an id, no id comes back.
    await conn.send_raw('{"type":"ping"}')
    pong = await conn.expect("pong")
    assert "id" not in pong


async def test_cookie_same_origin_accepted(make_client):
    client = await make_client()
    uid, token = await user(client)
    origin = f"http://{client.host}:{client.port}"
    ws = await client.ws_connect("/ws", headers={"Cookie": f"pitchey_session={token}"}, origin=origin)
    conn = await greeted(ws)
    assert conn.user_id == uid
    await conn.ping()


async def test_cookie_without_origin_accepted(make_client):
    """Non-browser clients send no Origin: nothing cross-site to defend against."""
    client = await make_client()
    uid, token = await user(client)
    ws = await client.ws_connect("/ws", headers={"Cookie": f"pitchey_session={token}"})
    assert (await greeted(ws)).user_id == uid


async def test_cookie_cross_origin_refused(make_client):
    client = await make_client()
    _, token = await user(client)
    status = await handshake_status(
        client, headers={"Cookie": f"pitchey_session={token}"}, origin="http://evil.example"
    )
    assert status == 403
    # The refusal is the JSON envelope.
    resp = await client.get(
        "/ws",
        headers={**UPGRADE_HEADERS, "Cookie": f"pitchey_session={token}", "Origin": "http://evil.example"},
    )
    await expect_envelope(resp, 403, "FORBIDDEN")
    assert len(realtime(client).sessions.sessions) == 0


async def test_cookie_from_configured_cors_origin_accepted(make_client):
    client = await make_client(cors_origins="http://app.example")
    uid, token = await user(client)
    ws = await client.ws_connect(
        "/ws", headers={"Cookie": f"pitchey_session={token}"}, origin="http://app.example"
    )
    assert (await greeted(ws)).user_id == uid


async def test_ticket_works_once(make_client):
    client = await make_client()
    uid, token = await user(client, "production")
    resp = await client.get("/api/ws/token", headers=bearer(token))
    data = (await expect_envelope(resp, 200))["data"]
    ticket = data["ticket"]
    assert data["expiresIn"] == 60
    assert data["url"] == f"/ws?ticket={ticket}"
    ws = await client.ws_connect(data["url"])
    conn = await greeted(ws)
    assert conn.user_id == uid
    await conn.ping()
    # The same ticket again: refused, even while the first socket is open.
    assert await handshake_status(client, data["url"]) == 401
    await conn.close()
    assert await handshake_status(client, data["url"]) == 401


async def test_ticket_needs_authentication(make_client):
    client = await make_client()
    await expect_envelope(await client.get("/api/ws/token"), 401, "UNAUTHORIZED")


async def test_ticket_expires(make_client):
    client = await make_client(ws_ticket_ttl=0.3)
    _, token = await user(client)
    resp = await client.get("/api/ws/token", headers=bearer(token))
    ticket = (await expect_envelope(resp, 200))["data"]["ticket"]
    await asyncio.sleep(0.5)  # a timer: the ticket's lifetime
    assert await handshake_status(client, f"/ws?ticket={ticket}") == 401


async def test_ticket_of_a_logged_out_token_refused(make_client):
    client = await make_client()
    _, token = await user(client)
    resp = await client.get("/api/ws/token", headers=bearer(token))
    ticket = (await expect_envelope(resp, 200))["data"]["ticket"]
    await logout(client, token)
    assert await handshake_status(client, f"/ws?ticket={ticket}") == 401


async def test_unknown_ticket_refused(make_client):
    client = await make_client()
    assert await handshake_status(client, "/ws?ticket=nope") == 401


# ---------------------------------------------------------------------------------------------
# Refusals at the handshake
# ---------------------------------------------------------------------------------------------


async def test_no_credentials_refused_with_json_401(make_client):
    client = await make_client()
    assert await handshake_status(client, protocols=(SUBPROTOCOL,)) == 401
    resp = await client.get("/ws", headers={**UPGRADE_HEADERS, "Sec-WebSocket-Protocol": SUBPROTOCOL})
    body = await expect_envelope(resp, 401, "UNAUTHORIZED")
    assert "bearer" in body["error"]["message"]
    assert len(realtime(client).sessions.sessions) == 0


async def test_bad_token_refused(make_client):
    client = await make_client()
    assert await handshake_status(client, protocols=protocols("not.a.jwt")) == 401
    resp = await client.get(
        "/ws", headers={**UPGRADE_HEADERS, "Sec-WebSocket-Protocol": "pitchey.v1, bearer.x.y.z"}
    )
    await expect_envelope(resp, 401, "UNAUTHORIZED")


async def test_token_in_query_string_is_not_accepted(make_client):
    client = await make_client()
    _, token = await user(client)
    assert await handshake_status(client, f"/ws?token={token}") == 401
    assert await handshake_status(client, f"/ws?access_token={token}") == 401


async def test_revoked_token_refused_at_handshake(make_client):
    client = await make_client()
    _, token = await user(client)
    await logout(client, token)
    assert await handshake_status(client, protocols=protocols(token)) == 401
    assert await handshake_status(client, headers={"Cookie": f"pitchey_session={token}"}) == 401


# ---------------------------------------------------------------------------------------------
# Live sessions losing their credentials
# ---------------------------------------------------------------------------------------------


async def test_logout_closes_live_sessions_of_that_token_with_4001(make_client):
    client = await make_client()
    uid, token = await user(client)
    _, other_token = await user(client)
    a = await connect(client, token)
    b = await connect(client, token)
    other = await connect(client, other_token)
    started = time.monotonic()
    await logout(client, token)
    assert await a.closed(timeout=2.0) == 4001
    assert await b.closed(timeout=2.0) == 4001
    assert time.monotonic() - started < 2.0
    # Another user's session is untouched, and the server forgot the closed ones.
    await other.ping()
    await wait_until(
        lambda: len(realtime(client).sessions.sessions) == 1, what="closed sessions to leave the registry"
    )
    assert {s.user_id for s in realtime(client).sessions.sessions} != {uid}


async def test_logout_of_another_token_of_the_same_user_keeps_this_session(make_client, login):
    client = await make_client()
    _, token = await user(client)
    email = (await (await client.get("/api/auth/session", headers=bearer(token))).json())["data"]["user"][
        "email"
    ]
    _, second = await login(client, "creator", email)
    conn = await connect(client, token)
    await logout(client, second)
    await conn.ping()
    assert conn.close_code is None


async def test_session_closed_4001_when_its_token_expires(make_client):
    client = await make_client()
    uid, token = await user(client, "investor")
    state = app_state(client)
    secret = state.settings.secret_file.read_text().strip()
    email = (await (await client.get("/api/auth/session", headers=bearer(token))).json())["data"]["user"][
        "email"
    ]
    now = int(time.time())
    short = jwt.encode(
        {
            "sub": str(uid),
            "userId": uid,
            "email": email,
            "userType": "investor",
            "iat": now,
            "exp": now + 2,
            "jti": str(uuid.uuid4()),
        },
        secret,
        algorithm="HS256",
    )
    conn = await connect(client, short)
    await conn.ping()
    code = await conn.closed(timeout=5.0)
    assert code == 4001
    assert time.time() >= now + 2 - 0.05  # not before the token's expiry
    await wait_until(
        lambda: len(realtime(client).sessions.sessions) == 0, what="the expired session to leave the registry"
    )


# ---------------------------------------------------------------------------------------------
# A client built on the `websockets` library
# ---------------------------------------------------------------------------------------------


async def test_websockets_library_client(make_client):
    client = await make_client()
    owner_id, owner_token = await user(client, "creator")
    pitch = await make_pitch(client, owner_token)
    room = f"pitch:{pitch['id']}"
    _, viewer_token = await user(client, "investor")
    url = str(client.make_url("/ws")).replace("http://", "ws://", 1)
    async with websockets.connect(
        url, subprotocols=[SUBPROTOCOL, f"bearer.{owner_token}"], open_timeout=5
    ) as ws:
        assert ws.subprotocol == SUBPROTOCOL

        async def recv(type_: str) -> dict:
            async with asyncio.timeout(5):
                while True:
                    raw = await ws.recv()
                    decode_event(raw)
                    frame = orjson.loads(raw)
                    if frame["type"] == type_:
                        return frame

        hello = await recv("connected")
        assert hello["data"]["userId"] == owner_id
        await ws.send(orjson.dumps({"type": "subscribe", "room": room, "id": 1}).decode())
        sub = await recv("subscribed")
        while sub["room"] != room:
            sub = await recv("subscribed")
        assert sub["id"] == 1
        joined = await recv("user_joined")
        assert joined["room"] == room and joined["data"]["userId"] == owner_id
        # A REST like by someone else reaches this client live.
        resp = await client.post(f"/api/pitches/{pitch['id']}/like", json={}, headers=bearer(viewer_token))
        await expect_envelope(resp, 200)
        liked = await recv("like_update")
        assert liked["room"] == room
        assert liked["seq"] == joined["seq"] + 1
        assert liked["data"]["likes"] == 1 and liked["data"]["liked"] is True
