"""The WebSocket rate limit under a burst (issue 10): 500 frames in one write used to end in 1006
(the server closed the socket with the rest of the burst unread, so the kernel answered with a
reset and the replies before it were lost). Now every command accepted before the limit closed
the connection gets its reply, then a 1008 close frame, then a clean TCP close."""

from __future__ import annotations

import asyncio
import contextlib
import struct

import orjson
from realtime_helpers import RawWs, make_pitch, masked_frame, realtime, user, wait_until

from pitchey.server import ws as ws_module


def parse_frames(data: bytes) -> tuple[list[tuple[int, bytes]], bytes]:
    """Complete unmasked server frames in `data` as (opcode, payload), and the rest."""
    frames: list[tuple[int, bytes]] = []
    while len(data) >= 2:
        opcode, n = data[0] & 0x0F, data[1] & 0x7F
        head = 2
        if n == 126:
            if len(data) < 4:
                break
            n, head = struct.unpack("!H", data[2:4])[0], 4
        elif n == 127:
            if len(data) < 10:
                break
            n, head = struct.unpack("!Q", data[2:10])[0], 10
        if len(data) < head + n:
            break
        frames.append((opcode, data[head : head + n]))
        data = data[head + n :]
    return frames, data


async def read_all(raw: RawWs, timeout: float = 10.0) -> tuple[list[tuple[int, bytes]], bool]:
    """Read until EOF, answering the server's close frame as a client does; (frames, clean EOF).
    A reset (ConnectionResetError) is what 1006 looked like on the wire."""
    loop = asyncio.get_running_loop()
    data, frames, answered = raw.received, [], False
    async with asyncio.timeout(timeout):
        while True:
            try:
                chunk = await loop.sock_recv(raw.sock, 65536)
            except ConnectionResetError:
                return frames, False
            if not chunk:
                return frames, True
            got, data = parse_frames(data + chunk)
            frames += got
            if not answered and any(op == 0x8 for op, _ in got):
                answered = True
                try:
                    await loop.sock_sendall(raw.sock, masked_frame(struct.pack("!H", 1000), opcode=0x8))
                except ConnectionResetError:
                    return frames, False


async def test_a_burst_of_500_frames_gets_its_replies_then_1008(make_client):
    client = await make_client()  # the defaults: 20 commands/s, a burst of 60
    _, owner = await user(client, "creator")
    uid, token = await user(client, "investor")
    pitch = await make_pitch(client, owner)
    room = f"pitch:{pitch['id']}"
    raw = await RawWs.open(client.host, client.port, token, rcvbuf=1 << 20)
    try:
        await raw.read_until(b'"type":"connected"')
        # One write: a subscribe, two messages (answered by the room, later) and 497 pings.
        commands = [{"type": "subscribe", "room": room, "id": "s"}]
        commands += [
            {"type": "message", "room": room, "id": f"m{i}", "data": {"text": "hi"}} for i in range(2)
        ]
        commands += [{"type": "ping", "id": i} for i in range(497)]
        # Padded with JSON whitespace to 4 KB each: 2 MB, more than the socket buffers hold, so
        # the client is still writing when the limit closes the connection (it reads meanwhile).
        burst = b"".join(masked_frame(orjson.dumps(c).ljust(4000)) for c in commands)
        reader = asyncio.create_task(read_all(raw))
        with contextlib.suppress(ConnectionError):
            await asyncio.get_running_loop().sock_sendall(raw.sock, burst)
        frames, clean = await reader
    finally:
        raw.close()
    assert clean, "the connection was reset: replies and the close frame may be lost (1006)"
    texts = [orjson.loads(p) for op, p in frames if op == 0x1]
    closes = [p for op, p in frames if op == 0x8]
    assert len(closes) == 1 and frames[-1][0] == 0x8, "one close frame, last"
    assert struct.unpack("!H", closes[0][:2])[0] == 1008
    assert closes[0][2:] == b"Rate limit exceeded"
    by_id = {f.get("id"): f for f in texts if f.get("id") is not None}
    # The commands the room answers got their answers, after their room turn.
    assert by_id["s"]["type"] == "subscribed"
    assert by_id["m0"]["type"] == "ack" and by_id["m1"]["type"] == "ack"
    # Every ping up to the one that closed the connection got its answer: a pong while the
    # bucket lasted, then RATE_LIMITED errors; none of the rest of the burst was processed.
    answered = sorted(i for i in by_id if isinstance(i, int))
    assert answered == list(range(len(answered)))
    kinds = [by_id[i]["type"] for i in answered]
    pongs = kinds.count("pong")
    assert 57 <= pongs < 65 and kinds[:pongs] == ["pong"] * pongs
    errors = [by_id[i] for i in answered[pongs:]]
    assert all(e["type"] == "error" and e["data"]["code"] == "RATE_LIMITED" for e in errors)
    assert len(errors) >= ws_module.MAX_VIOLATIONS
    assert len(answered) < 200
    await wait_until(lambda: not realtime(client).sessions.sessions, what="the session to end")
    # The other members of the room saw the two messages; the session left it.
    assert uid not in {s.user_id for s in realtime(client).sessions.sessions}
