"""Bad input, frame size, command rate limits, slow consumers, heartbeats and shutdown drain."""

from __future__ import annotations

import asyncio
import os
import shutil
import signal
import socket
import sys

import aiohttp
import orjson
import websockets
from aiohttp import WSMsgType
from realtime_helpers import (
    RawWs,
    connect,
    make_pitch,
    metric_value,
    prometheus,
    protocols,
    realtime,
    user,
    wait_until,
)

# ---------------------------------------------------------------------------------------------
# Bad input: an error frame, and the session goes on
# ---------------------------------------------------------------------------------------------


async def test_bad_frames_get_errors_and_the_session_goes_on(make_client):
    client = await make_client()
    _, token = await user(client)
    conn = await connect(client, token)
    cases = [
        ("{not json", "BAD_FRAME", None),
        ("[1, 2, 3]", "BAD_FRAME", None),
        ('"just a string"', "BAD_FRAME", None),
        ('{"type": "dance", "id": "d1"}', "UNKNOWN_TYPE", "d1"),
        ('{"id": "t1"}', "BAD_FRAME", "t1"),
        ('{"type": 7, "id": "t2"}', "BAD_FRAME", "t2"),
        ('{"type": "subscribe", "id": "s1"}', "BAD_FRAME", "s1"),
        ('{"type": "subscribe", "room": "pitch:1", "id": "s2", "data": {"since": -1}}', "BAD_FRAME", "s2"),
        ('{"type": "presence", "id": 5}', "BAD_FRAME", 5),
        ('{"type": "ping", "id": true}', "BAD_FRAME", None),
    ]
    for raw, code, cid in cases:
        await conn.send_raw(raw)
        err = await conn.expect("error")
        assert err["data"]["code"] == code, (raw, err)
        assert isinstance(err["data"]["message"], str) and err["data"]["message"]
        assert err.get("id") == cid, (raw, err)
        await conn.ping()
    await conn.ws.send_bytes(b'{"type": "ping"}')
    err = await conn.expect("error")
    assert err["data"]["code"] == "BAD_FRAME"
    await conn.ping()
    assert conn.close_code is None


async def test_oversized_frame_closes_1009(make_client):
    client = await make_client()
    _, token = await user(client)
    conn = await connect(client, token)
    # Just under the limit is fine (a BAD_FRAME error for the too-long text, not a close).
    text = "x" * (60 * 1024)
    await conn.send("message", "pitch:1", data={"text": text})
    assert (await conn.expect("error"))["data"]["code"] == "BAD_FRAME"
    await conn.ping()
    big = orjson.dumps({"type": "message", "room": "pitch:1", "data": {"text": "y" * (70 * 1024)}}).decode()
    await conn.send_raw(big)
    assert await conn.closed() == 1009
    await wait_until(lambda: len(realtime(client).sessions.sessions) == 0, what="the session to end")


async def test_rate_limit_errors_then_close_1008(make_client):
    client = await make_client(ws_rate=5, ws_burst=5)
    _, token = await user(client)
    conn = await connect(client, token)
    for i in range(10):
        await conn.send("ping", id=i)
    pongs = [await conn.expect("pong", where=lambda f, i=i: f["id"] == i) for i in range(5)]
    assert len(pongs) == 5
    limited = [await conn.expect("error", where=lambda f, i=i: f.get("id") == i) for i in range(5, 10)]
    for err in limited:
        assert err["data"]["code"] == "RATE_LIMITED"
        assert err["data"]["retryAfter"] > 0
    # Waiting for the bucket lets commands through again.
    await asyncio.sleep(limited[-1]["data"]["retryAfter"] + 0.05)
    await conn.ping()
    # Persisting: more than 20 violations within 10 s closes the socket with 1008.
    for i in range(40):
        await conn.send("ping", id=100 + i)
    assert await conn.closed() == 1008
    codes = {f["data"]["code"] for f in conn.backlog if f["type"] == "error"}
    assert codes == {"RATE_LIMITED"}


async def test_rate_limit_covers_malformed_and_binary_frames(make_client):
    """A flood of bad frames is no way around the limit: it is limited, then closed."""
    client = await make_client(ws_rate=5, ws_burst=5)
    _, token = await user(client)
    conn = await connect(client, token)
    for _ in range(3):
        await conn.send_raw("{nope")
    for _ in range(2):
        await conn.ws.send_bytes(b"\x00\x01")
    for _ in range(5):
        assert (await conn.expect("error"))["data"]["code"] == "BAD_FRAME"
    await conn.send_raw('{"type": "dance", "id": "x"}')
    err = await conn.expect("error", where=lambda f: f.get("id") == "x")
    assert err["data"]["code"] == "RATE_LIMITED"
    await conn.ws.send_bytes(b"\x00")
    assert (await conn.expect("error"))["data"]["code"] == "RATE_LIMITED"
    for _ in range(40):
        await conn.send_raw("{nope")
    assert await conn.closed() == 1008


async def test_rate_limit_without_persisting_keeps_the_session(make_client):
    client = await make_client(ws_rate=50, ws_burst=5)
    _, token = await user(client)
    conn = await connect(client, token)
    for _round in range(3):
        for i in range(8):
            await conn.send("ping", id=i)
        for i in range(8):
            await conn.expect(where=lambda f, i=i: f.get("id") == i)
        await asyncio.sleep(0.2)
    await conn.ping()
    assert conn.close_code is None


# ---------------------------------------------------------------------------------------------
# Slow consumers
# ---------------------------------------------------------------------------------------------


async def test_slow_consumer_is_closed_and_others_get_everything(make_client):
    client = await make_client(ws_send_buffer=64 * 1024, ws_rate=10_000, ws_burst=10_000)
    rt = realtime(client)
    _, owner_token = await user(client, "creator")
    slow_id, slow_token = await user(client, "investor")
    _, reader_token = await user(client, "production")
    pitch = await make_pitch(client, owner_token)
    room = f"pitch:{pitch['id']}"
    poster = await connect(client, owner_token)
    await poster.subscribe(room)
    reader = await connect(client, reader_token)
    await reader.subscribe(room)

    raw = await RawWs.open(client.host, client.port, slow_token, rcvbuf=4096)
    try:
        await raw.send_json({"type": "subscribe", "room": room, "id": "s"})
        await raw.read_until(f'"type":"subscribed","room":"{room}"'.encode())
        slow = next(s for s in rt.sessions.sessions if s.user_id == slow_id)
        # A small kernel send buffer on the server side too, so the bytes the client does not
        # read pile up in the session's userspace buffer quickly (a congested network).
        sock = slow.transport.get_extra_info("socket")
        sock.setsockopt(socket.SOL_SOCKET, socket.SO_SNDBUF, 4096)
        # From here on the raw client never reads. Post big messages until the server gives up.
        text = "z" * 3500
        sent = 0

        async def slow_closes() -> float:
            return metric_value(await prometheus(client), "pitchey_slow_consumer_closes_total")

        while await slow_closes() == 0 and sent < 400:
            ids = [await poster.send("message", room, data={"text": text}) for _ in range(10)]
            for cid in ids:
                await poster.expect("ack", where=lambda f, cid=cid: f.get("id") == cid)
            sent += 10
        assert sent < 400, "the slow consumer was never closed"
        # It never reads our close frame either: cut off shortly after, its session gone.
        await wait_until(
            lambda: slow not in rt.sessions.sessions, timeout=6, what="the slow consumer's session to end"
        )
    finally:
        raw.close()
    text_metrics = await prometheus(client)
    assert metric_value(text_metrics, "pitchey_slow_consumer_closes_total") == 1.0
    assert metric_value(text_metrics, "pitchey_ws_connections") == 2.0
    # The reader got every event, gapless: joins of poster(1), reader(2), slow(3), the messages
    # and the slow consumer's user_left when it went away.
    events = await reader.events(room, 1)
    while events[-1]["type"] != "user_left":
        events += await reader.events(room, 1)
    seqs = [e["seq"] for e in events]
    assert seqs == list(range(seqs[0], seqs[0] + len(seqs))), seqs
    assert [e["type"] for e in events].count("message") == sent
    assert events[-1]["data"]["userId"] == slow_id
    # The normal sessions are unaffected.
    await reader.ping()
    await poster.ping()


# ---------------------------------------------------------------------------------------------
# Heartbeat
# ---------------------------------------------------------------------------------------------


async def test_heartbeat_pings_the_client(make_client):
    client = await make_client(ws_heartbeat=0.2)
    _, token = await user(client)
    ws = await client.ws_connect("/ws", protocols=protocols(token), autoping=False)
    async with asyncio.timeout(3):
        while True:
            msg = await ws.receive()
            if msg.type == WSMsgType.PING:
                await ws.pong(msg.data)
                break
            assert msg.type == WSMsgType.TEXT, msg


async def test_silent_peer_dropped_after_heartbeat(make_client):
    client = await make_client(ws_heartbeat=0.2)
    _, token = await user(client)
    ws = await client.ws_connect("/ws", protocols=protocols(token), autoping=False)
    # Never answers pings (autoping off, and we do not pong): the server drops the session.
    await wait_until(
        lambda: len(realtime(client).sessions.sessions) == 0,
        timeout=3,
        what="the silent session to be dropped",
    )
    await ws.close()


# ---------------------------------------------------------------------------------------------
# Shutdown drain
# ---------------------------------------------------------------------------------------------


async def test_shutdown_closes_clients_with_1012(make_client):
    client = await make_client()
    _, token = await user(client)
    _, token2 = await user(client, "investor")
    a = await connect(client, token)
    b = await connect(client, token2)
    await a.ping()
    closing = asyncio.create_task(client.server.close())
    try:
        assert await a.closed(timeout=5) == 1012
        assert await b.closed(timeout=5) == 1012
    finally:
        await asyncio.wait_for(closing, 10)


async def test_shutdown_passivates_rooms_with_snapshots(make_client, db_conn):
    client = await make_client()
    _, token = await user(client)
    pitch = await make_pitch(client, token)
    room = f"pitch:{pitch['id']}"
    conn = await connect(client, token)
    sub = await conn.subscribe(room)
    await conn.post(room, "before restart")
    await client.server.close()
    assert await conn.closed() == 1012
    row = await db_conn.fetchrow("SELECT epoch, seq FROM room_snapshots WHERE room = $1", room)
    assert row is not None
    assert row["epoch"] == sub["data"]["epoch"] and row["seq"] == 3  # join, message, left


async def test_new_connection_while_draining_gets_1012(make_client):
    client = await make_client()
    _, token = await user(client)
    realtime(client).draining = True
    ws = await client.ws_connect("/ws", protocols=protocols(token))
    msg = await ws.receive(timeout=5)
    assert msg.type == WSMsgType.CLOSE and msg.data == 1012
    assert isinstance(ws, aiohttp.ClientWebSocketResponse)


def _free_port() -> int:
    with socket.socket() as s:
        s.bind(("127.0.0.1", 0))
        return int(s.getsockname()[1])


async def test_sigterm_closes_clients_with_1012(clean_db, tmp_path):
    """The real `pitchey serve` process: SIGTERM drains WebSocket clients with 1012, exits 0."""
    port = _free_port()
    exe = shutil.which("pitchey")
    cmd = [exe] if exe else [sys.executable, "-m", "pitchey.server.cli"]
    env = {
        k: v
        for k, v in os.environ.items()
        if not k.startswith("PITCHEY_") and k not in ("DATABASE_URL", "JWT_SECRET")
    }
    env.update(DATABASE_URL=clean_db, PITCHEY_DATA_DIR=str(tmp_path), PITCHEY_ARGON2_PROFILE="cheapest")
    log = (tmp_path / "serve.log").open("w+")
    proc = await asyncio.create_subprocess_exec(
        *cmd, "serve", "--port", str(port), env=env, stdout=log, stderr=log, start_new_session=True
    )
    base = f"http://127.0.0.1:{port}"
    try:
        async with aiohttp.ClientSession() as http:
            async with asyncio.timeout(30):
                while True:
                    assert proc.returncode is None, "server exited early"
                    try:
                        async with http.get(base + "/health") as resp:
                            if resp.status == 200:
                                break
                    except aiohttp.ClientConnectionError:
                        pass
                    await asyncio.sleep(0.1)
            async with http.post(
                base + "/api/auth/creator/register",
                json={"email": "sigterm@example.com", "password": "a long enough password"},
            ) as r:
                assert r.status == 201, await r.text()
                token = (await r.json())["data"]["token"]
        async with websockets.connect(
            f"ws://127.0.0.1:{port}/ws", subprotocols=["pitchey.v1", f"bearer.{token}"]
        ) as ws:
            hello = orjson.loads(await asyncio.wait_for(ws.recv(), 5))
            assert hello["type"] == "connected"
            proc.send_signal(signal.SIGTERM)
            async with asyncio.timeout(10):
                try:
                    while True:
                        await ws.recv()
                except websockets.ConnectionClosed as exc:
                    assert exc.rcvd is not None and exc.rcvd.code == 1012, exc
        assert await asyncio.wait_for(proc.wait(), 20) == 0
    finally:
        if proc.returncode is None:
            proc.kill()
            await proc.wait()
        log.seek(0)
        output = log.read()
        log.close()
    assert "Traceback" not in output, output
