"""A multi-connection WebSocket load generator: raw non-blocking sockets, one epoll loop, no asyncio.

One process holds many client connections to one server and speaks just enough of three protocols
to be a subscriber or a publisher of a room:

* ``pitchey``  - ``/ws`` with the ``pitchey.v1`` + ``bearer.<jwt>`` subprotocols, then
                 ``subscribe`` to a pitch room (or only the automatic user room);
* ``aiohttp``  - the bare baseline (bench/baseline_aiohttp.py): every socket is a subscriber;
* ``socketio`` - Engine.IO v4 over a WebSocket, namespace ``/``, ``join`` event with an ack;
* ``rooms``    - the bare baseline with rooms (bench/baseline_aiohttp_rooms.py): ``subscribe``
                 to named rooms, each answered ``subscribed``; a published event names its room.

With ``rooms`` (a list of room names) and ``per_conn`` in the configuration, each connection
subscribes to ``per_conn`` of them instead of one room: connection number g (counted across
processes from ``token_offset``) takes rooms g, g + s, g + 2s, ... (mod the number of rooms, s =
rooms // per_conn), so with as many connections as rooms every room has exactly ``per_conn``
subscribers. A publisher configured so (``per_conn`` = every room) publishes to the rooms in turn.

The same receive path serves all three servers so their figures are comparable: a minimal RFC 6455
frame parser counts the *event* text frames (those starting with the protocol's event prefix)
that arrive inside a measurement window, and optionally extracts the publisher's wall-clock send
time (``@<time_ns>@`` inside the event text) to record publish-to-delivery latency. Client frames
are masked with an all-zero key (legal framing, and the server still unmasks), so the client spends
no CPU on XOR.

It is driven by the orchestrator over stdin/stdout, one JSON object per line:

    <- first line:   the configuration: proto, host, port, n, role, room, tokens, ...
    -> {"event": "ready", ...}           once every connection is set up (or failed)
    <- {"cmd": "window", "start": t0, "end": t1, "latency": bool, "read_interval": s}
    -> {"event": "window", "frames": n, "bytes": n, ...}   after t1
    <- {"cmd": "publish", "mode": "saturate"|"burst"|"rate", "window": 32, "pace": "echo"|"ack",
        "rate": 50, "pad": 0, "start", "end"}
        saturate: keep `window` messages in flight, each freed by its echo (the publisher's own
        copy of the broadcast) or, with pace=ack, by pitchey's `ack`; burst: send a window, wait
        for all of it to come back, repeat; rate: `rate` messages per second
    -> {"event": "published", "sent": n, "echoed": n, ...}
    <- {"cmd": "stall", "count": 1}      stop reading the first connection(s) (slow consumer)
    <- {"cmd": "unstall"}                read them again; report how the server treated them
    <- {"cmd": "quit"}
"""

from __future__ import annotations

import array
import base64
import contextlib
import errno
import json
import os
import select
import socket
import sys
import tempfile
import time
from datetime import UTC, datetime
from typing import Any

CONNECTING, HTTP, SETUP, READY, CLOSED = range(5)

EVENT_PREFIX = {
    "pitchey": b'{"type":"message"',
    "aiohttp": b'{"type":"message"',
    "socketio": b'42["message"',
    "rooms": b'{"type":"message"',
}
PATHS = {
    "pitchey": "/ws",
    "aiohttp": "/ws",
    "socketio": "/socket.io/?EIO=4&transport=websocket",
    "rooms": "/ws",
}
ROOM = "bench"  # socket.io room name (pitchey uses the configured pitch room)


def client_frame(payload: bytes, opcode: int = 1) -> bytes:
    """A masked client frame with a zero masking key (so the payload goes out unchanged)."""
    n = len(payload)
    if n < 126:
        head = bytes((0x80 | opcode, 0x80 | n))
    elif n < 65536:
        head = bytes((0x80 | opcode, 0x80 | 126)) + n.to_bytes(2, "big")
    else:
        head = bytes((0x80 | opcode, 0x80 | 127)) + n.to_bytes(8, "big")
    return head + b"\0\0\0\0" + payload


def iso_now(precision: int = 3) -> str:
    now = datetime.now(UTC)
    frac = f"{now.microsecond:06d}"[:precision]
    return now.strftime("%Y-%m-%dT%H:%M:%S.") + frac + "Z"


class Conn:
    __slots__ = (
        "buf",
        "close_code",
        "fd",
        "idx",
        "out",
        "rooms",
        "sock",
        "stage",
        "stall_bytes",
        "stalled",
        "token",
        "unconfirmed",
    )

    def __init__(self, idx: int, token: str | None, rooms: list[str] | None = None) -> None:
        self.idx = idx
        self.token = token
        self.rooms = rooms or []  # many-rooms mode: the rooms this connection subscribes to
        self.unconfirmed = len(self.rooms)
        self.sock: socket.socket | None = None
        self.fd = -1
        self.buf = b""
        self.out = b""
        self.stage = CONNECTING
        self.close_code: int | None = None
        self.stalled = False
        self.stall_bytes = 0


class LoadGen:
    def __init__(self, cfg: dict[str, Any]) -> None:
        self.cfg = cfg
        self.proto: str = cfg["proto"]
        self.host: str = cfg.get("host", "127.0.0.1")
        self.port: int = cfg["port"]
        self.role: str = cfg.get("role", "sub")
        self.room: str | None = cfg.get("room")
        self.n: int = cfg.get("n", 1)
        self.concurrency: int = cfg.get("concurrency", 100)
        tokens = cfg.get("tokens") or [None]
        offset = cfg.get("token_offset", 0)
        self.all_rooms: list[str] = cfg.get("rooms") or []
        per_conn: int = cfg.get("per_conn", 0)

        def rooms_of(g: int) -> list[str] | None:
            if not self.all_rooms or not per_conn:
                return None
            n_rooms = len(self.all_rooms)
            stride = max(1, n_rooms // per_conn)
            return [self.all_rooms[(g + k * stride) % n_rooms] for k in range(min(per_conn, n_rooms))]

        self.conns = [
            Conn(i, tokens[(offset + i) % len(tokens)], rooms_of(offset + i)) for i in range(self.n)
        ]
        self.pub_turn = 0  # many-rooms publisher: the next room in turn
        self.prefix = EVENT_PREFIX[self.proto]
        self.ep = select.epoll()
        self.by_fd: dict[int, Conn] = {}
        self.pending = list(reversed(self.conns))  # not yet connecting
        self.in_setup = 0
        self.ready = 0
        self.failed = 0
        self.fail_reasons: dict[str, int] = {}
        self.closed_codes: dict[str, int] = {}
        self.start_at: float = cfg.get("start_at", 0.0)
        self.ready_reported = False
        # measurement window
        self.win: dict[str, Any] | None = None
        self.win_frames = 0
        self.win_bytes = 0
        self.lat: array.array[int] = array.array("q")
        # publisher
        self.pub: dict[str, Any] | None = None
        self.sent = 0
        self.echoed = 0
        self.acked = 0
        self.pace_on_ack = False
        self.errors = 0
        self.error_codes: dict[str, int] = {}
        self.inflight = 0
        self.next_send = 0.0
        self.seq = 0
        self.stdin_buf = b""
        self.read_interval = 0.0
        self.running = True
        self.pitchey_user_id = 0
        self.ep.register(sys.stdin.fileno(), select.EPOLLIN)

    # -- output ------------------------------------------------------------------------------

    @staticmethod
    def emit(obj: dict[str, Any]) -> None:
        sys.stdout.write(json.dumps(obj) + "\n")
        sys.stdout.flush()

    def fail(self, c: Conn, reason: str) -> None:
        if c.stage in (HTTP, SETUP, CONNECTING):
            self.in_setup -= 1
            self.failed += 1
            self.fail_reasons[reason] = self.fail_reasons.get(reason, 0) + 1
        elif c.stage == READY:
            key = str(c.close_code if c.close_code is not None else reason)
            self.closed_codes[key] = self.closed_codes.get(key, 0) + 1
        self.drop(c)

    def drop(self, c: Conn) -> None:
        c.stage = CLOSED
        if c.sock is not None:
            if c.fd in self.by_fd:
                del self.by_fd[c.fd]
                if not c.stalled:
                    with contextlib.suppress(OSError, ValueError):
                        self.ep.unregister(c.fd)
            c.sock.close()
            c.sock = None

    # -- connection setup ----------------------------------------------------------------------

    def start_more(self) -> None:
        while self.pending and self.in_setup < self.concurrency:
            c = self.pending.pop()
            s = socket.socket(socket.AF_INET, socket.SOCK_STREAM)
            s.setblocking(False)
            s.setsockopt(socket.IPPROTO_TCP, socket.TCP_NODELAY, 1)
            c.sock = s
            c.fd = s.fileno()
            self.by_fd[c.fd] = c
            self.in_setup += 1
            err = s.connect_ex((self.host, self.port))
            if err not in (0, errno.EINPROGRESS):
                self.fail(c, f"connect:{errno.errorcode.get(err, err)}")
                continue
            c.stage = CONNECTING
            self.ep.register(c.fd, select.EPOLLOUT)

    def request(self, c: Conn) -> bytes:
        key = base64.b64encode(os.urandom(16)).decode()
        lines = [
            f"GET {PATHS[self.proto]} HTTP/1.1",
            f"Host: {self.host}:{self.port}",
            "Upgrade: websocket",
            "Connection: Upgrade",
            f"Sec-WebSocket-Key: {key}",
            "Sec-WebSocket-Version: 13",
        ]
        if self.proto == "pitchey":
            lines.append(f"Sec-WebSocket-Protocol: pitchey.v1, bearer.{c.token}")
        return ("\r\n".join(lines) + "\r\n\r\n").encode()

    def on_connected(self, c: Conn) -> None:
        assert c.sock is not None
        err = c.sock.getsockopt(socket.SOL_SOCKET, socket.SO_ERROR)
        if err:
            self.fail(c, f"connect:{errno.errorcode.get(err, err)}")
            return
        c.stage = HTTP
        self.ep.modify(c.fd, select.EPOLLIN)
        self.send(c, self.request(c))

    def on_http(self, c: Conn, data: bytes) -> None:
        c.buf += data
        end = c.buf.find(b"\r\n\r\n")
        if end < 0:
            if len(c.buf) > 65536:
                self.fail(c, "http:too-long")
            return
        head, c.buf = c.buf[:end], c.buf[end + 4 :]
        status = head.split(b"\r\n", 1)[0]
        if b" 101 " not in status + b" ":
            self.fail(c, "http:" + status.decode(errors="replace")[9:12])
            return
        c.stage = SETUP
        if c.rooms and self.proto in ("pitchey", "rooms"):
            for room in c.rooms:
                self.send_text(c, json.dumps({"type": "subscribe", "room": room, "id": "s"}).encode())
        elif self.proto == "pitchey" and self.room:
            self.send_text(c, json.dumps({"type": "subscribe", "room": self.room, "id": "s"}).encode())
        if c.buf:
            data, c.buf = c.buf, b""
            self.on_frames(c, data)

    def setup_text(self, c: Conn, payload: bytes) -> None:
        """A text frame during setup: advance the protocol's handshake."""
        if self.proto == "pitchey":
            ev = json.loads(payload)
            kind = ev.get("type")
            if kind == "connected":
                self.pitchey_user_id = ev["data"]["userId"]
            elif kind == "subscribed":
                room = ev.get("room", "")
                if c.rooms:
                    if not room.startswith("user:"):
                        c.unconfirmed -= 1
                        if c.unconfirmed == 0:
                            self.mark_ready(c)
                elif (self.room and room == self.room) or (not self.room and room.startswith("user:")):
                    self.mark_ready(c)
            elif kind == "error":
                self.fail(c, "error:" + ev.get("data", {}).get("code", "?"))
        elif self.proto == "aiohttp":
            if payload.startswith(b'{"type":"subscribed"'):
                self.mark_ready(c)
        elif self.proto == "rooms":
            if payload.startswith(b'{"type":"subscribed"'):
                c.unconfirmed -= 1
                if c.unconfirmed == 0:
                    self.mark_ready(c)
        else:  # socket.io
            if payload.startswith(b"0{"):
                self.send_text(c, b"40")
            elif payload.startswith(b"40"):
                self.send_text(c, b'421["join","' + ROOM.encode() + b'"]')
            elif payload.startswith(b"43"):
                self.mark_ready(c)
            elif payload == b"2":
                self.send_text(c, b"3")
            elif payload.startswith(b"44"):
                self.fail(c, "sio:connect-error")

    def mark_ready(self, c: Conn) -> None:
        c.stage = READY
        self.in_setup -= 1
        self.ready += 1

    def maybe_report_ready(self) -> None:
        if self.ready_reported or self.pending or self.in_setup > 0:
            return
        self.ready_reported = True
        self.emit(
            {
                "event": "ready",
                "ready": self.ready,
                "failed": self.failed,
                "fail_reasons": self.fail_reasons,
                "finished_at": time.time(),
                "user_id": self.pitchey_user_id,
            }
        )

    # -- sending -------------------------------------------------------------------------------

    def send(self, c: Conn, data: bytes) -> None:
        if c.sock is None:
            return
        if c.out:
            c.out += data
            return
        try:
            n = c.sock.send(data)
        except BlockingIOError:
            n = 0
        except OSError:
            self.fail(c, "send")
            return
        if n < len(data):
            c.out = data[n:]
            if not c.stalled:
                self.ep.modify(c.fd, select.EPOLLIN | select.EPOLLOUT)

    def send_text(self, c: Conn, payload: bytes) -> None:
        self.send(c, client_frame(payload))

    def flush_out(self, c: Conn) -> None:
        data, c.out = c.out, b""
        self.send(c, data)
        if not c.out and c.sock is not None and not c.stalled:
            self.ep.modify(c.fd, select.EPOLLIN)

    # -- receiving -----------------------------------------------------------------------------

    def on_frames(self, c: Conn, data: bytes) -> None:
        """Parse frames out of `data` (plus what was buffered); the hot path."""
        if c.buf:
            data = c.buf + data
        n = len(data)
        i = 0
        ready = c.stage == READY
        prefix = self.prefix
        win = self.win
        counting = ready and win is not None and win["start"] <= time.time() < win["end"]
        lat = self.lat if counting and win is not None and win["latency"] else None
        now_ns = time.time_ns() if lat is not None else 0
        frames = 0
        nbytes = 0
        pub = self.role == "pub"
        while n - i >= 2:
            b1 = data[i + 1] & 0x7F
            if b1 < 126:
                h = 2
            elif b1 == 126:
                if n - i < 4:
                    break
                b1 = (data[i + 2] << 8) | data[i + 3]
                h = 4
            else:
                if n - i < 10:
                    break
                b1 = int.from_bytes(data[i + 2 : i + 10], "big")
                h = 10
            end = i + h + b1
            if end > n:
                break
            op = data[i] & 0x0F
            if op == 1:
                if ready:
                    if data.startswith(prefix, i + h):
                        if counting:
                            frames += 1
                            nbytes += b1
                            if lat is not None:
                                a = data.find(b"@", i + h, end)
                                if a >= 0:
                                    sent_ns = int(data[a + 1 : a + 20])
                                    lat.append(sent_ns)
                                    lat.append(now_ns - sent_ns)
                        if pub:
                            self.echoed += 1
                            if self.inflight > 0 and not self.pace_on_ack:
                                self.inflight -= 1
                    elif pub and data.startswith(b'{"type":"ack"', i + h):
                        self.acked += 1
                        if self.inflight > 0 and self.pace_on_ack:
                            self.inflight -= 1
                    elif pub and data.startswith(b'{"type":"error"', i + h):
                        self.errors += 1
                        k = data.find(b'"code":"', i + h, end)
                        code = data[k + 8 : data.find(b'"', k + 8, end)].decode() if k >= 0 else "?"
                        self.error_codes[code] = self.error_codes.get(code, 0) + 1
                    elif self.proto == "socketio" and end - i - h == 1 and data[i + h] == 0x32:
                        self.send_text(c, b"3")  # engine.io ping -> pong
                else:
                    self.setup_text(c, data[i + h : end])
                    if c.stage == CLOSED:
                        return
                    ready = c.stage == READY
            elif op == 9:  # ping -> pong with the same payload
                self.send(c, client_frame(data[i + h : end], 0xA))
            elif op == 8:
                if b1 >= 2:
                    c.close_code = (data[i + h] << 8) | data[i + h + 1]
                else:
                    c.close_code = 1005
                self.fail(c, "close")
                return
            i = end
        c.buf = data[i:] if i < n else b""
        if frames:
            self.win_frames += frames
            self.win_bytes += nbytes

    def on_readable(self, c: Conn) -> None:
        assert c.sock is not None
        try:
            data = c.sock.recv(262144)
        except BlockingIOError:
            return
        except OSError:
            self.fail(c, "recv")
            return
        if not data:
            self.fail(c, "eof")
            return
        if c.stage == HTTP:
            self.on_http(c, data)
        else:
            self.on_frames(c, data)

    # -- commands from the orchestrator ----------------------------------------------------------

    def on_stdin(self) -> None:
        chunk = os.read(sys.stdin.fileno(), 65536)
        if not chunk:
            self.running = False
            return
        self.stdin_buf += chunk
        while b"\n" in self.stdin_buf:
            line, self.stdin_buf = self.stdin_buf.split(b"\n", 1)
            if line.strip():
                self.command(json.loads(line))

    def command(self, cmd: dict[str, Any]) -> None:
        kind = cmd["cmd"]
        if kind == "window":
            self.win = cmd
            self.read_interval = cmd.get("read_interval", 0.0)
            self.win_frames = 0
            self.win_bytes = 0
            self.lat = array.array("q")
            self.win_closed_before = sum(self.closed_codes.values())
        elif kind == "publish":
            self.pub = cmd
            self.sent = self.echoed = self.acked = self.errors = self.inflight = 0
            self.error_codes = {}
            self.pace_on_ack = cmd.get("pace") == "ack"
            self.next_send = cmd["start"]
        elif kind == "stall":
            for c in [c for c in self.conns if c.stage == READY][: cmd.get("count", 1)]:
                c.stalled = True
                self.ep.unregister(c.fd)
        elif kind == "unstall":
            self.unstall()
        elif kind == "stats":
            self.emit(
                {
                    "event": "stats",
                    "open": sum(c.stage == READY for c in self.conns),
                    "closed": self.closed_codes,
                }
            )
        elif kind == "quit":
            self.running = False

    def unstall(self) -> None:
        """Read what the stalled connections were sent: did the server close them, and how?"""
        report = []
        for c in self.conns:
            if not c.stalled:
                continue
            c.stalled = False
            got = 0
            code = None
            if c.sock is not None:
                c.sock.setblocking(True)
                c.sock.settimeout(2.0)
                tail = b""
                try:
                    while True:
                        data = c.sock.recv(1 << 20)
                        if not data:
                            break
                        got += len(data)
                        tail = (tail + data)[-256:]
                except (TimeoutError, OSError):
                    pass
                # A close frame (0x88) near the end tells the code the server closed with.
                k = tail.rfind(b"\x88")
                if k >= 0 and k + 4 <= len(tail) and tail[k + 1] & 0x7F >= 2:
                    code = (tail[k + 2] << 8) | tail[k + 3]
                self.drop(c)
            report.append({"bytes_buffered": got, "close_code": code})
        self.emit({"event": "unstalled", "conns": report})

    # -- publishing ----------------------------------------------------------------------------

    def message(self) -> bytes:
        self.seq += 1
        stamp = f"@{time.time_ns()}@" + "x" * (self.pub or {}).get("pad", 0)
        room = self.room
        if self.all_rooms and self.conns and self.conns[0].rooms:  # many rooms: each in turn
            room = self.all_rooms[self.pub_turn % len(self.all_rooms)]
            self.pub_turn += 1
        if self.proto == "pitchey":
            text = f'{{"text":"{stamp}"}}'
            return f'{{"type":"message","room":"{room}","id":{self.seq},"data":{text}}}'.encode()
        # The bare and socket.io baselines broadcast an event shaped (and sized) like pitchey's
        # (the rooms baseline routes it by its "room").
        event = (
            f'{{"type":"message","room":"{room if self.proto == "rooms" else "pitch:1"}","seq":{self.seq},'
            f'"timestamp":"{iso_now(3)}","data":{{"id":{self.seq},"pitchId":1,"userId":2,'
            f'"userType":"creator","text":"{stamp}","createdAt":"{iso_now(6)}"}}}}'
        )
        if self.proto == "socketio":
            return f'42["publish",{event}]'.encode()
        return event.encode()

    def publish_tick(self, now: float) -> float | None:
        """Send what is due; return seconds until the next send (None: nothing scheduled)."""
        pub = self.pub
        if pub is None or not self.conns or self.conns[0].stage != READY:
            return None
        c = self.conns[0]
        if now >= pub["end"]:
            self.emit(
                {
                    "event": "published",
                    "sent": self.sent,
                    "echoed": self.echoed,
                    "acked": self.acked,
                    "errors": self.errors,
                    "error_codes": self.error_codes,
                }
            )
            self.pub = None
            return None
        if now < pub["start"]:
            return float(pub["start"]) - now
        if pub["mode"] == "burst":
            # Send a whole window, then wait until every message of it came back.
            if self.inflight == 0:
                for _ in range(pub["window"]):
                    self.send_text(c, self.message())
                    self.sent += 1
                    self.inflight += 1
            return 0.05
        if pub["mode"] == "saturate":
            while self.inflight < pub["window"]:
                self.send_text(c, self.message())
                self.sent += 1
                self.inflight += 1
            return 0.05
        while now >= self.next_send:
            self.send_text(c, self.message())
            self.sent += 1
            self.next_send += 1.0 / pub["rate"]
        return max(0.0, self.next_send - time.time())

    # -- the loop --------------------------------------------------------------------------------

    def run(self) -> None:
        if self.start_at:
            time.sleep(max(0.0, self.start_at - time.time()))
        self.start_more()
        ep = self.ep
        stdin_fd = sys.stdin.fileno()
        by_fd = self.by_fd
        while self.running:
            timeout = 0.2
            now = time.time()
            if self.pub is not None:
                t = self.publish_tick(now)
                if t is not None:
                    timeout = min(timeout, t)
            win = self.win
            if win is not None:
                if now >= win["end"]:
                    self.finish_window()
                else:
                    timeout = min(
                        timeout, max(0.001, win["end"] - now) if now >= win["start"] else win["start"] - now
                    )
            for fd, ev in ep.poll(timeout):
                if fd == stdin_fd:
                    self.on_stdin()
                    continue
                c = by_fd.get(fd)
                if c is None:
                    continue
                if c.stage == CONNECTING:
                    self.on_connected(c)
                    continue
                if ev & select.EPOLLOUT and c.out:
                    self.flush_out(c)
                if ev & (select.EPOLLIN | select.EPOLLERR | select.EPOLLHUP) and c.sock is not None:
                    self.on_readable(c)
            if self.pending or self.in_setup:
                self.start_more()
            self.maybe_report_ready()
            if self.read_interval:
                # Throughput windows: read every socket in batches, so the client spends its CPU
                # per batch of frames rather than per frame and the server stays the bottleneck.
                time.sleep(self.read_interval)

    def finish_window(self) -> None:
        assert self.win is not None
        out: dict[str, Any] = {
            "event": "window",
            "frames": self.win_frames,
            "bytes": self.win_bytes,
            "open": sum(c.stage == READY and not c.stalled for c in self.conns),
            "closed": self.closed_codes,
            "closed_in_window": sum(self.closed_codes.values()) - self.win_closed_before,
        }
        if self.win["latency"]:
            fd, path = tempfile.mkstemp(prefix="bench-lat-", suffix=".bin")
            with os.fdopen(fd, "wb") as f:
                self.lat.tofile(f)
            out["lat_file"] = path
            out["lat_n"] = len(self.lat) // 2  # (send time, latency) pairs, in ns
        self.win = None
        self.read_interval = 0.0
        self.emit(out)


def main() -> None:
    cfg = json.loads(sys.stdin.buffer.readline())  # the first line is the configuration
    LoadGen(cfg).run()


if __name__ == "__main__":
    main()
