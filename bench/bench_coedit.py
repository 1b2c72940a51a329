"""Suite `coedit`: live co-editing (`/ws/docs`, issue 12) against a bare pycrdt-websocket server.

The server under test is a real `pitchey serve` on the embedded PostgreSQL (every update checked,
appended to PostgreSQL with its author's role checked in the same statement, then applied and
relayed: the output gate). The baseline is bench/baseline_ywebsocket.py: pycrdt-websocket's own
`WebsocketServer` in its own process, no auth, no store (updates live in memory only). Both speak
the y-websocket protocol over aiohttp. The clients are y-websocket clients on pycrdt, in
`python -m bench.bench_coedit --client` processes (never the servers' or the orchestrator's
interpreter), driven over stdin/stdout as bench/loadgen.py is.

Every figure is measured on both servers in the same run, windows interleaved:

1. One document, 50 editors (each its own user, invited and accepted as an editor). Each editor
   types into its own paragraph; an update inserts a word and a 32-character marker (editor,
   sequence number, send time in ns): 38 characters, a 66-byte message, about what y-prosemirror
   sends for a typed word or two. Paced: 2 updates/s per editor (100/s into the document, 4,900 deliveries/s),
   far below either server's ceiling; the figure is, per update, the time from its send to the
   moment the last of the 49 other editors has it (p50, p99), per-delivery figures in the notes.
   Saturating: each editor keeps `WINDOW` updates in flight (an update counts as landed when
   every other editor in its client process has it); updates/s delivered to all 49.
2. 1,000 documents open at once, each with a writer and a reader connection (two client
   processes per server: writers, readers). Memory per open document: the server's RSS after
   every document is open and holds a 1 KB paragraph, minus its RSS before, over 1,000. Then
   200 updates/s spread round-robin over the documents: writer-to-reader p50/p99.
3. Loading a document of 10,050 updates (typed words, one update each). Ours end to end, cold:
   three documents filled, the server killed (kill -9, so nothing is compacted on the way
   out), started again on the same database, then for each document the time from connect to
   sync step 2 received. With the shipped compaction (every 100 updates) that is one snapshot
   and a 50-update tail; with `PITCHEY_DOC_COMPACT_EVERY=1000000` (same build, same restart) it
   is a replay of all 10,050. Then, the documents closed and passivated (compacted on the way
   out, `PITCHEY_ROOM_IDLE_TIMEOUT=2` on these two servers), each is opened once more: the
   issue's "cold document, room passivated first". The CPU-only figures load the same updates with pycrdt
   (`rooms.docs.load_doc`) in a child process. pycrdt-websocket without a store has no cold
   load (a room is deleted with its last client): where it fits is (a) a join of the
   document while it is in memory, both servers, and (b) its pycrdt-store `SQLiteYStore`
   replay (checkpoint every 100 updates, its default), in a child process.

    python -m bench --only coedit [--quick]
    python -m bench.bench_coedit [--quick]
    BENCH_COEDIT_COMPACT_EVERY=5000 python -m bench --only coedit   # parts 1-2, another interval
"""

from __future__ import annotations

import array
import asyncio
import contextlib
import http.client
import json
import os
import re
import shutil
import statistics
import subprocess
import sys
import tempfile
import time
from dataclasses import dataclass
from pathlib import Path
from typing import Any

from bench import harness as h
from bench.common import Row

EDITORS = 50
EDITOR_RATE = 2.0  # updates/s per editor in the paced windows (100/s into the document)
WINDOW = 4  # updates in flight per editor in the saturating windows
DOCS = 1000
DOCS_RATE = 200.0  # updates/s spread over the 1,000 documents
FILLER = 1000  # characters of each 1,000-document paragraph
LOG_UPDATES = 10_050  # 10,000 compacted + a 50-update tail with the shipped PITCHEY_DOC_COMPACT_EVERY
LOAD_DOCS = ("synopsis", "treatment", "notes")
NAMES = ("synopsis", "treatment", "notes")
SUITE = "coedit"
DRAIN = 2.0  # seconds after the senders stop during which deliveries still count


@dataclass(frozen=True)
class Plan:
    """The sizes of a run: the full one, or `--quick`'s smoke run (well under a minute)."""

    editors: int = EDITORS
    rounds: int = 3
    seconds: float = 8.0  # paced windows
    sat_seconds: float = 5.0
    docs: int = DOCS
    docs_rate: float = DOCS_RATE
    log_updates: int = LOG_UPDATES
    quiet_wait: float = 10.0  # at most this long for the shared machine to calm before a window
    drain: float = DRAIN

    @classmethod
    def make(cls, quick: bool) -> Plan:
        if not quick:
            return cls()
        return cls(10, 1, 1.5, 1.5, 60, 60.0, 250, 0.0, 1.0)


MARK = re.compile(rb"#(\d{4})(\d{7})(\d{19})#")


# -- the client process --------------------------------------------------------------------------


class _Rec:
    """What one client process records during a window."""

    def __init__(self) -> None:
        self.active = False
        self.track = False  # saturating windows: count each update's landings in this process
        self.since = 0
        self.lat: array.array[int] = array.array("q")
        self.upd: dict[tuple[int, int], list[int]] = {}
        self.pending: dict[tuple[int, int], int] = {}
        self.landed: dict[int, asyncio.Event] = {}
        self.inflight: dict[int, int] = {}

    def reset(self, since: int, track: bool) -> None:
        self.__init__()  # type: ignore[misc]
        self.active = True
        self.track = track
        self.since = since


REC = _Rec()


class YConn:
    """One y-websocket connection: answers the server's step 1, counts step 2s (checkpoints), and
    for a writer holds a pycrdt document with its own paragraph. Readers never decode updates
    with pycrdt: the marker in the raw bytes is all the bench needs, so clients stay cheap."""

    def __init__(self, ws: Any, wid: int, group: str, local_peers: int) -> None:
        from pycrdt import Doc, XmlFragment

        self.ws = ws
        self.wid = wid
        self.group = group
        self.local_peers = local_peers  # other connections of this document in this process
        self.doc: Any = Doc()
        self.fragment = self.doc.get("default", type=XmlFragment)
        self.text: Any = None
        self.length = 0
        self.seq = 0
        self.step2 = 0
        self.step2_bytes = 0
        self.changed = asyncio.Event()
        self.closed = False
        self.reader = asyncio.get_running_loop().create_task(self._read())

    async def _read(self) -> None:
        import aiohttp

        from pitchey.protocol.yjs import SyncStep1, decode_message, sync_step2_message

        try:
            async for msg in self.ws:
                if msg.type != aiohttp.WSMsgType.BINARY:
                    continue
                data: bytes = msg.data
                if len(data) < 2 or data[0] != 0:
                    continue  # awareness: not used here
                sub = data[1]
                if sub == 2:
                    if REC.active:
                        self._delivered(data)
                elif sub == 1:
                    self.step2 += 1
                    self.step2_bytes = len(data)
                    self.changed.set()
                elif sub == 0:
                    m = decode_message(data)
                    assert isinstance(m, SyncStep1)
                    await self.ws.send_bytes(sync_step2_message(self.doc.get_update(m.state_vector)))
        except Exception:
            pass
        finally:
            self.closed = True
            self.changed.set()

    def _delivered(self, data: bytes) -> None:
        now = time.time_ns()
        m = MARK.search(data)
        if m is None:
            return
        wid, seq, sent = int(m[1]), int(m[2]), int(m[3])
        if wid == self.wid or sent < REC.since:
            return  # pycrdt-websocket echoes an update to its sender too; older windows' stragglers
        lat = now - sent
        REC.lat.append(lat)
        key = (wid, seq)
        got = REC.upd.get(key)
        if got is None:
            REC.upd[key] = [lat, 1]
        else:
            got[0] = max(got[0], lat)
            got[1] += 1
        left = REC.pending.get(key)
        if left is not None:
            if left <= 1:
                del REC.pending[key]
                REC.inflight[wid] -= 1
                REC.landed[wid].set()
            else:
                REC.pending[key] = left - 1

    async def start(self) -> None:
        from pitchey.protocol.yjs import sync_step1_message

        await self.ws.send_bytes(sync_step1_message(self.doc.get_state()))
        await self.until_step2(1)

    async def until_step2(self, n: int, timeout: float = 120.0) -> None:
        deadline = time.monotonic() + timeout
        while self.step2 < n:
            if self.closed:
                raise ConnectionError(f"closed ({self.ws.close_code}) before step 2")
            self.changed.clear()
            if self.step2 >= n:
                return
            await asyncio.wait_for(self.changed.wait(), max(0.01, deadline - time.monotonic()))

    async def checkpoint(self) -> None:
        """Step 1, then wait for its step 2: on pitchey, everything sent before is stored."""
        from pitchey.protocol.yjs import sync_step1_message

        want = self.step2 + 1
        await self.ws.send_bytes(sync_step1_message(self.doc.get_state()))
        await self.until_step2(want)

    def _edit(self, text: str) -> bytes:
        from pycrdt import XmlElement, XmlText

        from pitchey.protocol.yjs import update_message

        before = self.doc.get_state()
        with self.doc.transaction():
            if self.text is None:
                paragraph = self.fragment.children.append(XmlElement("paragraph"))
                self.text = paragraph.children.append(XmlText(""))
            self.text.insert(self.length, text)
        self.length += len(text)
        return update_message(self.doc.get_update(before))

    async def paragraph(self, filler: int) -> None:
        await self.ws.send_bytes(self._edit(("lorem ipsum dolor sit amet " * (filler // 27 + 1))[:filler]))

    async def send_marked(self) -> None:
        self.seq += 1
        if self.local_peers and REC.track:
            REC.pending[(self.wid, self.seq)] = self.local_peers
            REC.inflight[self.wid] = REC.inflight.get(self.wid, 0) + 1
        await self.ws.send_bytes(self._edit(f"word #{self.wid:04d}{self.seq:07d}{time.time_ns():019d}# "))

    async def send_word(self, i: int) -> None:
        await self.ws.send_bytes(self._edit(f"w{i} "))


class ClientProc:
    """The state of one `--client` process."""

    def __init__(self) -> None:
        self.conns: list[YConn] = []
        self.session: Any = None

    async def connect_one(
        self, port: int, path: str, token: str | None, wid: int, group: str, local_peers: int
    ) -> YConn:
        protocols = ("pitchey.v1", f"bearer.{token}") if token else ()
        ws = await self.session.ws_connect(
            f"http://127.0.0.1:{port}{path}", protocols=protocols, max_msg_size=0, autoping=True
        )
        conn = YConn(ws, wid, group, local_peers)
        await conn.start()
        return conn

    async def connect(self, cmd: dict[str, Any]) -> dict[str, Any]:
        t0 = time.monotonic()
        sem = asyncio.Semaphore(int(cmd.get("concurrency", 32)))
        groups: dict[str, int] = {}
        for c in cmd["conns"]:
            groups[c["path"]] = groups.get(c["path"], 0) + 1
        errors: list[str] = []

        async def one(c: dict[str, Any]) -> None:
            async with sem:
                try:
                    conn = await self.connect_one(
                        cmd["port"], c["path"], c.get("token"), c["wid"], c["path"], groups[c["path"]] - 1
                    )
                except Exception as exc:
                    errors.append(repr(exc))
                    return
                self.conns.append(conn)
                if c.get("filler") is not None and c["wid"] >= 0:
                    await conn.paragraph(int(c["filler"]))

        await asyncio.gather(*(one(c) for c in cmd["conns"]))
        # Every opening paragraph stored (pitchey) / applied (baseline) before we go on.
        await asyncio.gather(*(c.checkpoint() for c in self.conns if c.wid >= 0 and c.text is not None))
        return {
            "event": "connected",
            "n": len(self.conns),
            "errors": errors[:5],
            "failed": len(errors),
            "seconds": time.monotonic() - t0,
        }

    async def run(self, cmd: dict[str, Any]) -> dict[str, Any]:
        start_at, seconds, rate = float(cmd["start_at"]), float(cmd["seconds"]), float(cmd["rate"])
        end = start_at + seconds
        REC.reset(int(start_at * 1e9), track=rate <= 0)
        writers = [c for c in self.conns if c.wid >= 0 and not c.closed]
        await asyncio.sleep(max(0.0, start_at - time.time()))
        sent = 0
        if rate > 0:
            k = 0
            while True:
                t = start_at + k / rate
                if t >= end:
                    break
                delay = t - time.time()
                if delay > 0:
                    await asyncio.sleep(delay)
                w = writers[k % len(writers)]
                if not w.closed:
                    await w.send_marked()
                    sent += 1
                k += 1
        else:
            window = int(cmd["window"])
            counts = [0] * len(writers)

            async def saturate(i: int, w: YConn) -> None:
                landed = REC.landed.setdefault(w.wid, asyncio.Event())
                while time.time() < end and not w.closed:
                    if REC.inflight.get(w.wid, 0) >= window:
                        landed.clear()
                        with contextlib.suppress(TimeoutError):
                            await asyncio.wait_for(landed.wait(), max(0.01, end - time.time()))
                        continue
                    await w.send_marked()
                    counts[i] += 1

            await asyncio.gather(*(saturate(i, w) for i, w in enumerate(writers)))
            sent = sum(counts)
        await asyncio.sleep(max(0.0, end + float(cmd["drain"]) - time.time()))
        REC.active = False
        return {
            "event": "done",
            "sent": sent,
            "closed": sum(c.closed for c in self.conns),
            "lat": [x // 1000 for x in REC.lat],  # microseconds
            "upd": [[w, s, v[0] // 1000, v[1]] for (w, s), v in REC.upd.items()],
        }

    async def fill(self, cmd: dict[str, Any]) -> dict[str, Any]:
        """Open a writer on each path and type `updates` words into it, one update each."""
        t0 = time.monotonic()

        async def one(i: int, path: str) -> None:
            conn = await self.connect_one(cmd["port"], path, cmd.get("token"), 9000 + i, path, 0)
            self.conns.append(conn)
            n = int(cmd["updates"])
            for k in range(n):
                await conn.send_word(k)
                if k % 1000 == 999:
                    await conn.checkpoint()  # keeps the socket buffers bounded
            await conn.checkpoint()

        await asyncio.gather(*(one(i, p) for i, p in enumerate(cmd["paths"])))
        return {"event": "filled", "seconds": time.monotonic() - t0}

    async def load(self, cmd: dict[str, Any]) -> dict[str, Any]:
        """Connect to a document and time it until its sync step 2 has arrived."""
        from pitchey.protocol.yjs import sync_step1_message

        token = cmd.get("token")
        protocols = ("pitchey.v1", f"bearer.{token}") if token else ()
        t0 = time.perf_counter()
        ws = await self.session.ws_connect(
            f"http://127.0.0.1:{cmd['port']}{cmd['path']}", protocols=protocols, max_msg_size=0
        )
        conn = YConn(ws, -1, cmd["path"], 0)
        await ws.send_bytes(sync_step1_message(b"\x00"))
        await conn.until_step2(1)
        ms = (time.perf_counter() - t0) * 1000
        size = conn.step2_bytes
        await ws.close()
        return {"event": "loaded", "ms": ms, "bytes": size}

    async def close_all(self) -> dict[str, Any]:
        await asyncio.gather(*(c.ws.close() for c in self.conns), return_exceptions=True)
        self.conns.clear()
        return {"event": "closed"}


async def _client_main() -> None:
    import aiohttp

    proc = ClientProc()
    proc.session = aiohttp.ClientSession(connector=aiohttp.TCPConnector(limit=0))
    loop = asyncio.get_running_loop()
    try:
        while True:
            line = await loop.run_in_executor(None, sys.stdin.readline)
            if not line:
                break
            cmd = json.loads(line)
            name = cmd["cmd"]
            if name == "quit":
                break
            try:
                out = (
                    await {
                        "connect": proc.connect,
                        "run": proc.run,
                        "fill": proc.fill,
                        "load": proc.load,
                    }[name](cmd)
                    if name != "close"
                    else await proc.close_all()
                )
            except Exception as exc:
                out = {"event": "error", "error": repr(exc)}
            sys.stdout.write(json.dumps(out, separators=(",", ":")) + "\n")
            sys.stdout.flush()
    finally:
        with contextlib.suppress(Exception):
            await proc.close_all()
        await proc.session.close()


def _cpu_main(n: int) -> None:
    """CPU-only load figures (pycrdt) and pycrdt-store's SQLiteYStore replay, as JSON."""
    from pycrdt import Doc, XmlElement, XmlFragment, XmlText
    from pycrdt.store import SQLiteYStore

    from pitchey.protocol.yjs import EMPTY_UPDATE
    from pitchey.rooms.docs import load_doc, merge

    doc: Any = Doc()
    fragment = doc.get("default", type=XmlFragment)
    updates: list[bytes] = []
    text: Any = None
    length = 0
    for k in range(n):
        before = doc.get_state()
        with doc.transaction():
            if text is None:
                text = fragment.children.append(XmlElement("paragraph")).children.append(XmlText(""))
            text.insert(length, f"w{k} ")
        length += len(f"w{k} ")
        updates.append(doc.get_update(before))
    cut = n - n % 100
    snapshot, _ = merge(EMPTY_UPDATE, updates[:cut])
    tail = updates[cut:]

    def best(f: Any, reps: int = 5) -> float:
        times = []
        for _ in range(reps):
            t0 = time.perf_counter()
            f()
            times.append((time.perf_counter() - t0) * 1000)
        return statistics.median(times)

    out: dict[str, Any] = {
        "updates": n,
        "tail": len(tail),
        "snapshot_bytes": len(snapshot),
        "log_bytes": sum(map(len, updates)),
        "snap_ms": best(lambda: load_doc(snapshot, tail)),
        "replay_ms": best(lambda: load_doc(EMPTY_UPDATE, updates)),
    }
    base = Path(
        tempfile.mkdtemp(prefix="coedit-ystore-", dir="/dev/shm" if os.path.isdir("/dev/shm") else None)
    )

    async def ystore(interval: int | None) -> tuple[float, float]:
        class Store(SQLiteYStore):
            db_path = str(base / f"ystore-{interval}.db")
            checkpoint_interval = interval

        t0 = time.perf_counter()
        async with Store("doc") as store:
            for u in updates:
                await store.write(u)
        write_s = time.perf_counter() - t0
        times = []
        for _ in range(3):
            async with Store("doc") as store:
                target: Any = Doc()
                t0 = time.perf_counter()
                await store.apply_updates(target)
                times.append((time.perf_counter() - t0) * 1000)
        return statistics.median(times), write_s

    try:
        out["ystore_ckpt_ms"], out["ystore_ckpt_write_s"] = asyncio.run(ystore(100))
        out["ystore_replay_ms"], out["ystore_replay_write_s"] = asyncio.run(ystore(None))
    finally:
        shutil.rmtree(base, ignore_errors=True)
    print(json.dumps(out))


# -- the orchestrator ----------------------------------------------------------------------------


class CoClient:
    """One `--client` process."""

    def __init__(self) -> None:
        self.proc = subprocess.Popen(
            [sys.executable, "-m", "bench.bench_coedit", "--client"],
            cwd=h.ROOT,
            stdin=subprocess.PIPE,
            stdout=subprocess.PIPE,
            text=True,
        )

    @property
    def pid(self) -> int:
        return self.proc.pid

    def send(self, **cmd: Any) -> None:
        assert self.proc.stdin is not None
        self.proc.stdin.write(json.dumps(cmd) + "\n")
        self.proc.stdin.flush()

    def wait(self) -> dict[str, Any]:
        assert self.proc.stdout is not None
        line = self.proc.stdout.readline()
        if not line:
            raise RuntimeError(f"coedit client exited (rc={self.proc.poll()})")
        msg: dict[str, Any] = json.loads(line)
        if msg.get("event") == "error":
            raise RuntimeError(f"coedit client: {msg['error']}")
        return msg

    def ask(self, **cmd: Any) -> dict[str, Any]:
        self.send(**cmd)
        return self.wait()

    def close(self) -> None:
        if self.proc.poll() is None:
            try:
                self.send(cmd="quit")
                self.proc.wait(20)
            except (OSError, subprocess.TimeoutExpired):
                self.proc.kill()
                self.proc.wait()


def _pitchey_env(pg: h.Postgres, workdir: Path, **extra: str) -> dict[str, str]:
    port = h.free_port()
    data_dir = workdir / f"pitchey-{port}"
    data_dir.mkdir(parents=True, exist_ok=True)
    env = dict(os.environ)
    env.update(
        {
            "PITCHEY_PORT": str(port),
            "PITCHEY_DATA_DIR": str(data_dir),
            "DATABASE_URL": pg.create_database(),
            "PITCHEY_ARGON2_PROFILE": "cheapest",
            "PITCHEY_AUTH_IP_LIMIT": "100000/minute",
            "PITCHEY_WRITE_USER_LIMIT": "100000/minute",
            "PITCHEY_WRITE_IP_LIMIT": "100000/minute",
            # The per-connection update limit (50/s) would close the fill and saturating writers.
            "PITCHEY_DOC_UPDATE_RATE": "1000000",
            "PITCHEY_DOC_UPDATE_BURST": "1000000",
            "PITCHEY_LOG_LEVEL": "WARNING",
        }
    )
    env.update(extra)
    return env


def _serve(env: dict[str, str], workdir: Path) -> h.ServerProc:
    argv = [sys.executable, "-m", "pitchey.server.cli", "serve"]
    return h.ServerProc("pitchey", argv, env, int(env["PITCHEY_PORT"]), workdir)


def _baseline(workdir: Path) -> h.ServerProc:
    port = h.free_port()
    argv = [sys.executable, "-m", "bench.baseline_ywebsocket", str(port)]
    return h.ServerProc("ywebsocket", argv, dict(os.environ), port, workdir)


def _pct(values: list[int] | list[float], q: float) -> float:
    if not values:
        return float("nan")
    s = sorted(values)
    return float(s[min(len(s) - 1, int(q * len(s)))])


def _metrics(port: int) -> dict[str, float]:
    """Pitchey's unlabelled Prometheus figures (GET /metrics, open to loopback)."""
    conn = http.client.HTTPConnection("127.0.0.1", port, timeout=10)
    try:
        conn.request("GET", "/metrics")
        text = conn.getresponse().read().decode()
    finally:
        conn.close()
    out: dict[str, float] = {}
    for line in text.splitlines():
        parts = line.split()
        if len(parts) == 2 and not line.startswith("#") and "{" not in parts[0]:
            with contextlib.suppress(ValueError):
                out[parts[0]] = float(parts[1])
    return out


# Nielsen's 0.1 s: a remote keystroke or an opened document within it feels instantaneous.
LIVE = 100.0


class Side:
    """One server (pitchey or the bare baseline) with its client processes for one part."""

    def __init__(self, name: str, server: h.ServerProc, pg: h.Postgres | None, plan: Plan) -> None:
        self.name = name
        self.plan = plan
        self.server = server
        self.pg = pg
        self.clients: list[CoClient] = []
        self.windows: list[dict[str, Any]] = []

    def meter(self) -> h.CpuMeter:
        pids: dict[str, list[int]] = {"server": [self.server.pid], "clients": [c.pid for c in self.clients]}
        if self.pg is not None:
            pids["postgres"] = self.pg.pids()
        return h.CpuMeter(pids)

    def window(
        self, seconds: float, rate_per_client: list[float], window: int, expect: int
    ) -> dict[str, Any]:
        if self.plan.quiet_wait:
            h.wait_quiet(max_wait=self.plan.quiet_wait)
        start_at = time.time() + 0.3
        meter = self.meter()
        for c, rate in zip(self.clients, rate_per_client, strict=True):
            c.send(
                cmd="run", start_at=start_at, seconds=seconds, rate=rate, window=window, drain=self.plan.drain
            )
        # CPU over the sending window itself (not the drain after it).
        time.sleep(max(0.0, start_at - time.time()))
        meter.start()
        time.sleep(max(0.0, start_at + seconds - time.time()))
        cpu = meter.stop()
        outs = [c.wait() for c in self.clients]
        lat: list[int] = []
        upd: dict[tuple[int, int], list[int]] = {}
        for o in outs:
            lat.extend(o["lat"])
            for w, s, v, n in o["upd"]:
                got = upd.get((w, s))
                if got is None:
                    upd[(w, s)] = [v, n]
                else:
                    got[0] = max(got[0], v)
                    got[1] += n
        sent = sum(o["sent"] for o in outs)
        complete = [v for v, n in upd.values() if n >= expect]
        w = {
            "seconds": seconds,
            "sent": sent,
            "deliveries": len(lat),
            "lat": lat,
            "all": complete,
            "incomplete": sent - len(complete),
            "closed": sum(o["closed"] for o in outs),
            "cpu": cpu,
        }
        self.windows.append(w)
        return w

    def close(self) -> None:
        for c in self.clients:
            c.close()
        self.clients = []


def _cpu_note(w: dict[str, Any]) -> str:
    c = w["cpu"]
    pg = f", postgres {c['postgres']:.0f}%" if "postgres" in c else ""
    return f"server {c['server']:.0f}%{pg}, clients {c['clients']:.0f}%, others {c['others']:.0f}%"


def _register_team(port: int, editors: int) -> tuple[int, str, list[str]]:
    """A creator with a pitch and `editors - 1` other users invited and accepted as editors."""
    rest = h.Rest(port)
    try:
        _, owner = rest.register("creator")
        pitch = rest.call("POST", "/api/pitches", {"title": "Co-edited pitch", "status": "published"}, owner)
        pid = int(pitch["id"])
        tokens = [owner]
        for i in range(editors - 1):
            uid, tok = rest.register("production" if i % 2 else "investor")
            rest.call("POST", f"/api/pitches/{pid}/collaborators", {"userId": uid, "role": "editor"}, owner)
            rest.call("POST", f"/api/pitches/{pid}/collaborators/accept", {}, tok)
            tokens.append(tok)
    finally:
        rest.close()
    return pid, owner, tokens


# -- part 1: 50 editors in one document ----------------------------------------------------------


def one_document(
    plan: Plan, pg: h.Postgres, ours: h.ServerProc, bare: h.ServerProc, notes: list[str]
) -> list[Row]:
    n = plan.editors
    others = n - 1
    pid, _, tokens = _register_team(ours.port, n)
    m0 = _metrics(ours.port)
    sides = [Side("pitchey", ours, pg, plan), Side("pycrdt-websocket", bare, None, plan)]
    try:
        for side in sides:
            path = f"/ws/docs/{pid}/notes" if side.server is ours else "/bench/one-document"
            conns = [
                {"path": path, "token": tokens[i] if side.server is ours else None, "wid": i, "filler": 200}
                for i in range(n)
            ]
            side.clients = [CoClient(), CoClient()]
            for c, part in zip(side.clients, [conns[: n // 2], conns[n // 2 :]], strict=True):
                c.send(cmd="connect", port=side.server.port, conns=part, concurrency=8)
            for c in side.clients:
                got = c.wait()
                if got["failed"]:
                    raise RuntimeError(
                        f"{side.name}: {got['failed']} editors failed to connect: {got['errors']}"
                    )
        per_client = n * EDITOR_RATE / 2
        paced: dict[str, list[dict[str, Any]]] = {s.name: [] for s in sides}
        sat: dict[str, list[dict[str, Any]]] = {s.name: [] for s in sides}
        for _ in range(plan.rounds):
            for side in sides:
                paced[side.name].append(side.window(plan.seconds, [per_client, per_client], 0, others))
        for _ in range(plan.rounds):
            for side in sides:
                sat[side.name].append(side.window(plan.sat_seconds, [0.0, 0.0], WINDOW, others))
    finally:
        for side in sides:
            side.close()
    m1 = _metrics(ours.port)

    def d(name: str) -> float:
        return m1.get(name, 0.0) - m0.get(name, 0.0)

    turns = max(1.0, d("pitchey_doc_update_seconds_count"))
    notes.append(
        f"coedit {n} editors, pitchey's /metrics over all its windows: "
        f"{d('pitchey_doc_updates_total'):,.0f} updates stored in "
        f"{d('pitchey_doc_update_commits_total'):,.0f} commits (mean batch "
        f"{d('pitchey_doc_update_batch_sum') / max(1.0, d('pitchey_doc_update_batch_count')):.1f}), "
        f"mean turn (checked, stored, applied, relayed) "
        f"{1000 * d('pitchey_doc_update_seconds_sum') / turns:.1f} ms; "
        f"{d('pitchey_doc_compactions_total'):,.0f} compactions (each rewriting the "
        "whole document as a snapshot and a version)"
    )
    all_lat = {k: [x for w in ws for x in w["all"]] for k, ws in paced.items()}
    one_lat = {k: [x for w in ws for x in w["lat"]] for k, ws in paced.items()}
    p = {k: (_pct(v, 0.5) / 1000, _pct(v, 0.99) / 1000) for k, v in all_lat.items()}
    rate = {k: statistics.median(len(w["all"]) / w["seconds"] for w in ws) for k, ws in sat.items()}
    for k in paced:
        ws = paced[k]
        notes.append(
            f"coedit {n} editors paced ({n * EDITOR_RATE:.0f} updates/s), {k}: "
            f"{sum(w['sent'] for w in ws):,} updates sent, {sum(w['incomplete'] for w in ws)} not at all "
            f"{others} within {plan.drain:.0f} s of the window's end; per delivery "
            f"p50 {_pct(one_lat[k], 0.5) / 1000:.2f} ms, p99 {_pct(one_lat[k], 0.99) / 1000:.2f} ms "
            f"({len(one_lat[k]):,} deliveries); CPU per window: " + "; ".join(_cpu_note(w) for w in ws)
        )
        ws = sat[k]
        s_lat = [x for w in ws for x in w["all"]]
        notes.append(
            f"coedit {n} editors saturating ({WINDOW} in flight each), {k}: windows "
            + ", ".join(f"{len(w['all']) / w['seconds']:,.0f}" for w in ws)
            + f" updates/s to all {others}; to-all p50 {_pct(s_lat, 0.5) / 1000:.1f} ms, "
            + f"p99 {_pct(s_lat, 0.99) / 1000:.1f} ms; "
            + f"connections closed {max(w['closed'] for w in ws)}; CPU per window: "
            + "; ".join(_cpu_note(w) for w in ws)
        )
    o, b = "pitchey", "pycrdt-websocket"
    base = "bare pycrdt-websocket (same run)"
    what = f"{n} editors in one document, {n * EDITOR_RATE:.0f} updates/s"
    return [
        Row(SUITE, f"{what}: update to all {others} other editors, p50", p[o][0], "ms", base, p[b][0]),
        Row(
            SUITE,
            f"{what}: update to all {others} other editors, p99",
            p[o][1],
            "ms",
            base,
            p[b][1],
            f"<= {LIVE:.0f} ms (feels live)",
            p[o][1] <= LIVE,
        ),
        Row(
            SUITE,
            f"{n} editors in one document, {WINDOW} updates in flight each: updates/s to all {others}",
            rate[o],
            "upd/s",
            base,
            rate[b],
        ),
    ]


# -- part 2: 1,000 documents open at once -----------------------------------------------------


def _doc_paths(port: int, docs: int) -> tuple[str, str, list[str]]:
    """`docs` documents (three per pitch) of one owner, with one editor invited to each pitch."""
    rest = h.Rest(port)
    try:
        _, owner = rest.register("creator")
        uid, editor = rest.register("production")
        paths: list[str] = []
        while len(paths) < docs:
            body = {"title": f"Pitch {len(paths) // 3}", "status": "published"}
            pid = int(rest.call("POST", "/api/pitches", body, owner)["id"])
            rest.call("POST", f"/api/pitches/{pid}/collaborators", {"userId": uid, "role": "editor"}, owner)
            rest.call("POST", f"/api/pitches/{pid}/collaborators/accept", {}, editor)
            paths += [f"/ws/docs/{pid}/{name}" for name in NAMES]
    finally:
        rest.close()
    return owner, editor, paths[:docs]


def many_documents(
    plan: Plan, pg: h.Postgres, ours: h.ServerProc, bare: h.ServerProc, notes: list[str]
) -> list[Row]:
    docs = plan.docs
    owner, editor, paths = _doc_paths(ours.port, docs)
    sides = [Side("pitchey", ours, pg, plan), Side("pycrdt-websocket", bare, None, plan)]
    rss: dict[str, dict[str, float]] = {}
    runs: dict[str, list[dict[str, Any]]] = {s.name: [] for s in sides}
    try:
        for side in sides:
            mine = side.server is ours
            ps = paths if mine else [f"/bench/doc-{i}" for i in range(docs)]
            writers = [
                {"path": p, "token": owner if mine else None, "wid": i, "filler": FILLER}
                for i, p in enumerate(ps)
            ]
            readers = [{"path": p, "token": editor if mine else None, "wid": -1} for p in ps]
            time.sleep(1.0)
            before = side.server.rss()
            side.clients = [CoClient(), CoClient()]
            t0 = time.monotonic()
            for c, conns in zip(side.clients, (writers, readers), strict=True):
                got = c.ask(cmd="connect", port=side.server.port, conns=conns, concurrency=32)
                if got["failed"]:
                    raise RuntimeError(f"{side.name}: {got['failed']} connections failed: {got['errors']}")
            opened = time.monotonic() - t0
            time.sleep(1.0)
            rss[side.name] = {"before": before, "after": side.server.rss(), "open_s": opened}
        for _ in range(plan.rounds):
            for side in sides:
                runs[side.name].append(side.window(plan.seconds, [plan.docs_rate, 0.0], 0, 1))
        for side in sides:
            rss[side.name]["end"] = side.server.rss()
    finally:
        for side in sides:
            side.close()
    lat = {k: [x for w in ws for x in w["lat"]] for k, ws in runs.items()}
    per_doc = {k: (v["after"] - v["before"]) / docs / 1024 for k, v in rss.items()}
    mib = 2**20
    for k, ws in runs.items():
        r = rss[k]
        notes.append(
            f"coedit {docs:,} documents, {k}: RSS {r['before'] / mib:.0f} MiB before, "
            f"{r['after'] / mib:.0f} MiB with every document open ({2 * docs:,} connections, opened in "
            f"{r['open_s']:.1f} s), {r['end'] / mib:.0f} MiB after the windows; "
            f"{sum(w['sent'] for w in ws):,} updates, {sum(w['incomplete'] for w in ws)} undelivered; "
            "CPU per window: " + "; ".join(_cpu_note(w) for w in ws)
        )
    o, b = "pitchey", "pycrdt-websocket"
    base = "bare pycrdt-websocket (same run)"
    what = f"{docs:,} documents open, {plan.docs_rate:.0f} updates/s across them"
    return [
        Row(
            SUITE,
            f"{what}: writer to reader p50",
            _pct(lat[o], 0.5) / 1000,
            "ms",
            base,
            _pct(lat[b], 0.5) / 1000,
        ),
        Row(
            SUITE,
            f"{what}: writer to reader p99",
            _pct(lat[o], 0.99) / 1000,
            "ms",
            base,
            _pct(lat[b], 0.99) / 1000,
            f"<= {LIVE:.0f} ms (feels live)",
            _pct(lat[o], 0.99) / 1000 <= LIVE,
        ),
        Row(
            SUITE,
            f"memory per open document (RSS delta / {docs:,}; 2 connections and a ~1 KB paragraph each)",
            per_doc[o],
            "KiB",
            base,
            per_doc[b],
        ),
    ]


# -- part 3: loading a document of 10,050 updates -----------------------------------------------


class LongLog:
    """A pitchey server whose documents hold a long log: filled, then killed (kill -9, so nothing
    is compacted on the way out: the log stays as the writes left it), then served again."""

    def __init__(self, pg: h.Postgres, workdir: Path, label: str, **extra: str) -> None:
        self.label = label
        self.workdir = workdir
        # Idle documents passivate 2 s after their last connection (for the passivated figure).
        self.env = _pitchey_env(pg, workdir, PITCHEY_ROOM_IDLE_TIMEOUT="2", **extra)
        self.server = _serve(self.env, workdir)
        self.filler = CoClient()
        rest = h.Rest(self.server.port)
        try:
            _, self.owner = rest.register("creator")
            body = {"title": "Long log", "status": "published"}
            pid = int(rest.call("POST", "/api/pitches", body, self.owner)["id"])
            warm = int(rest.call("POST", "/api/pitches", body, self.owner)["id"])
        finally:
            rest.close()
        self.paths = [f"/ws/docs/{pid}/{name}" for name in NAMES]
        self.warm = f"/ws/docs/{warm}/notes"

    def fill(self, n: int) -> None:
        self.filler.send(cmd="fill", port=self.server.port, paths=self.paths, token=self.owner, updates=n)

    def filled(self, notes: list[str], n: int) -> None:
        got = self.filler.wait()
        self.filler.ask(cmd="fill", port=self.server.port, paths=[self.warm], token=self.owner, updates=10)
        notes.append(
            f"coedit load, {self.label}: {len(self.paths)} documents of {n:,} updates written in "
            f"{got['seconds']:.1f} s (one writer each, at once)"
        )
        self.server.proc.kill()
        self.server.proc.wait()
        self.server.stop()
        self.filler.close()

    def _docs_open(self) -> float:
        return _metrics(self.server.port).get("pitchey_docs_open", -1.0)

    def loads(self, passivated: bool) -> dict[str, Any]:
        """Cold loads after the restart, warm ones, and (`passivated`) loads after passivation."""
        self.env["PITCHEY_PORT"] = str(h.free_port())  # the killed server's port may linger
        self.server = _serve(self.env, self.workdir)
        client = CoClient()
        out: dict[str, Any] = {}
        try:

            def load(path: str) -> dict[str, Any]:
                return client.ask(cmd="load", port=self.server.port, path=path, token=self.owner)

            for _ in range(3):  # the restarted process's first connections pay for its own warm-up
                load(self.warm)
            cold = [load(p) for p in self.paths]
            out["cold"] = [float(x["ms"]) for x in cold]
            out["bytes"] = int(cold[0]["bytes"])
            out["warm"] = [float(load(p)["ms"]) for p in self.paths]
            if passivated:
                deadline = time.monotonic() + 30
                while self._docs_open() > 0 and time.monotonic() < deadline:
                    time.sleep(0.5)
                out["passivated_left"] = self._docs_open()
                load(self.warm)
                out["passivated"] = [float(load(p)["ms"]) for p in self.paths]
        finally:
            client.close()
            self.server.stop()
        return out


def load_time(plan: Plan, pg: h.Postgres, bare: h.ServerProc, workdir: Path, notes: list[str]) -> list[Row]:
    n = plan.log_updates
    compacting = LongLog(pg, workdir, "shipped compaction (every 100 updates)")
    whole = LongLog(pg, workdir, "no compaction", PITCHEY_DOC_COMPACT_EVERY="1000000")
    bfill, bclient = CoClient(), CoClient()
    try:
        # The three fills at once (their writers are separate documents, so they overlap well).
        compacting.fill(n)
        whole.fill(n)
        # The baseline: the same documents typed into pycrdt-websocket and kept open by their
        # writers (without a store a room dies with its last client), then joined.
        bpaths = [f"/bench/long-{i}" for i in range(len(NAMES))]
        bfill.send(cmd="fill", port=bare.port, paths=bpaths, updates=n)
        compacting.filled(notes, n)
        whole.filled(notes, n)
        bfill.wait()
        bclient.ask(cmd="load", port=bare.port, path="/bench/warm-up")
        warm_b = [float(bclient.ask(cmd="load", port=bare.port, path=p)["ms"]) for p in bpaths]
    finally:
        bclient.close()
        bfill.close()
    c = compacting.loads(passivated=True)
    r = whole.loads(passivated=False)
    out = subprocess.run(
        [sys.executable, "-m", "bench.bench_coedit", "--cpu", str(n)],
        cwd=h.ROOT,
        capture_output=True,
        text=True,
        check=True,
    )
    cpu = json.loads(out.stdout)
    med = statistics.median

    def ms(xs: list[float]) -> str:
        return ", ".join(f"{x:.1f}" for x in xs) + " ms"

    notes.append(
        f"coedit load of {n:,} updates, connect to sync step 2 received (3 documents each; step 2 is "
        f"{c['bytes']:,} bytes): cold after kill -9 and restart, snapshot + tail {ms(c['cold'])}, whole log "
        f"{ms(r['cold'])}; in memory {ms(c['warm'])} / {ms(r['warm'])}; after passivation (compacted on the "
        f"way out; {c['passivated_left']:.0f} documents still open when measured) {ms(c['passivated'])}; "
        f"pycrdt-websocket join in memory {ms(warm_b)}"
    )
    notes.append(
        "coedit load, CPU only (pycrdt, rooms.docs.load_doc, median of 5): "
        f"snapshot ({cpu['snapshot_bytes']:,} B) + {cpu['tail']}-update tail {cpu['snap_ms']:.2f} ms vs "
        f"{cpu['updates']:,} updates ({cpu['log_bytes']:,} B) {cpu['replay_ms']:.2f} ms; "
        "pycrdt-store SQLiteYStore.apply_updates (median of 3): checkpoint every 100 (its default) "
        f"{cpu['ystore_ckpt_ms']:.2f} ms, no checkpoints {cpu['ystore_replay_ms']:.2f} ms (writing the "
        f"{cpu['updates']:,} updates took it {cpu['ystore_ckpt_write_s']:.1f} s / "
        f"{cpu['ystore_replay_write_s']:.1f} s on tmpfs)"
    )
    what = f"document of {n:,} updates"
    whole_log = "same build, PITCHEY_DOC_COMPACT_EVERY=1000000: replays the whole log"
    return [
        Row(
            SUITE,
            f"cold load of a {what} (restarted node), connect to sync step 2: "
            f"snapshot + {n % 100}-update tail",
            med(c["cold"]),
            "ms",
            whole_log,
            med(r["cold"]),
            f"<= {LIVE:.0f} ms (opens at once)",
            med(c["cold"]) <= LIVE,
        ),
        Row(
            SUITE,
            f"load of a {what} after passivation (snapshot only), connect to sync step 2",
            med(c["passivated"]),
            "ms",
            whole_log,
            med(r["cold"]),
        ),
        Row(
            SUITE,
            f"load of a {what}, CPU only (pycrdt): snapshot + tail",
            cpu["snap_ms"],
            "ms",
            f"replay of all {n:,}",
            cpu["replay_ms"],
        ),
        Row(
            SUITE,
            f"join of a {what} held in memory, connect to sync step 2",
            med(c["warm"]),
            "ms",
            "bare pycrdt-websocket (same run)",
            med(warm_b),
        ),
        Row(
            SUITE,
            f"cold load of a {what}: ours end to end vs pycrdt-store's own replay",
            med(c["cold"]),
            "ms",
            "pycrdt-store SQLiteYStore.apply_updates, checkpoint every 100, in-process",
            cpu["ystore_ckpt_ms"],
        ),
    ]


# -- the suite -------------------------------------------------------------------------------


def run(quick: bool = False, notes: list[str] | None = None) -> list[Row]:
    notes = notes if notes is not None else []
    plan = Plan.make(quick)
    h.raise_nofile()
    workdir = Path(tempfile.mkdtemp(prefix="pitchey-bench-coedit-"))
    pg = h.Postgres()
    servers: list[h.ServerProc] = []
    t0 = time.monotonic()
    try:
        # BENCH_COEDIT_COMPACT_EVERY: parts 1 and 2 with another compaction interval (an experiment;
        # the figures to report use the shipped one).
        every = os.environ.get("BENCH_COEDIT_COMPACT_EVERY")
        extra = {"PITCHEY_DOC_COMPACT_EVERY": every} if every else {}
        if every:
            notes.append(
                f"coedit: parts 1 and 2 with PITCHEY_DOC_COMPACT_EVERY={every} (not the shipped 100)"
            )
        ours = _serve(_pitchey_env(pg, workdir, **extra), workdir)
        servers.append(ours)
        bare = _baseline(workdir)
        servers.append(bare)
        rows = one_document(plan, pg, ours, bare, notes)
        rows += many_documents(plan, pg, ours, bare, notes)
        for s in servers:
            s.stop()
        servers.clear()
        bare = _baseline(workdir)
        servers.append(bare)
        rows += load_time(plan, pg, bare, workdir, notes)
        notes.append(
            "coedit fairness: pitchey appends every update to PostgreSQL (fsync on; the author's role "
            "checked in the same statement) before it applies or relays it (the output gate), checks it on a "
            "scratch document first, and authenticates every connection; the baseline has no auth, stores "
            "nothing and echoes every update to its sender too. Pitchey runs with "
            "PITCHEY_DOC_UPDATE_RATE/BURST raised to 1,000,000 (the shipped 50/s per connection would "
            "close the fill and saturating writers); "
            f"everything else shipped defaults. Suite: {time.monotonic() - t0:.0f} s"
        )
        return rows
    finally:
        for s in servers:
            s.stop()
        pg.close()
        shutil.rmtree(workdir, ignore_errors=True)


if __name__ == "__main__":
    if sys.argv[1:2] == ["--client"]:
        asyncio.run(_client_main())
    elif sys.argv[1:2] == ["--cpu"]:
        _cpu_main(int(sys.argv[2]))
    else:
        from bench.common import format_table

        out_notes: list[str] = []
        out_rows = run("--quick" in sys.argv[1:], out_notes)
        print(format_table(out_rows))
        print()
        for line in out_notes:
            print(f"- {line}")
