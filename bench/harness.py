"""Processes under test and the load generators that drive them.

Every server runs in its own process (never the orchestrator's interpreter), every client load in
`bench/loadgen.py` processes, and the orchestrator only starts, times, samples /proc and collects.
One embedded PostgreSQL (pgserver) serves the whole run; each pitchey server gets a fresh database.
"""

from __future__ import annotations

import http.client
import itertools
import json
import os
import resource
import shutil
import signal
import socket
import subprocess
import sys
import tempfile
import time
from pathlib import Path
from typing import Any

from bench.common import rss_bytes

ROOT = Path(__file__).resolve().parent.parent
CLK_TCK = os.sysconf("SC_CLK_TCK")
PASSWORD = "bench-password-0123456789"
_ids = itertools.count(1)


def raise_nofile() -> int:
    """Lift the soft open-files limit to the hard one; children (servers, clients) inherit it."""
    soft, hard = resource.getrlimit(resource.RLIMIT_NOFILE)
    if soft < hard:
        resource.setrlimit(resource.RLIMIT_NOFILE, (hard, hard))
    return resource.getrlimit(resource.RLIMIT_NOFILE)[0]


def free_port() -> int:
    with socket.socket() as s:
        s.bind(("127.0.0.1", 0))
        return int(s.getsockname()[1])


def cpu_seconds(pid: int) -> float:
    """User + system CPU time of a process so far."""
    try:
        with open(f"/proc/{pid}/stat") as f:
            fields = f.read().rsplit(")", 1)[1].split()
    except OSError:
        return 0.0
    return (int(fields[11]) + int(fields[12])) / CLK_TCK


def children_of(pid: int) -> list[int]:
    out = []
    for entry in os.listdir("/proc"):
        if not entry.isdigit():
            continue
        try:
            with open(f"/proc/{entry}/stat") as f:
                ppid = int(f.read().rsplit(")", 1)[1].split()[1])
        except (OSError, ValueError, IndexError):
            continue
        if ppid == pid:
            out.append(int(entry))
    return out


def loadavg() -> str:
    with open("/proc/loadavg") as f:
        return " ".join(f.read().split()[:3])


def machine_jiffies() -> tuple[int, int]:
    """(busy, total) CPU time of the whole machine so far, from /proc/stat."""
    with open("/proc/stat") as f:
        values = [int(v) for v in f.readline().split()[1:]]
    idle = values[3] + values[4]  # idle + iowait
    return sum(values) - idle, sum(values)


def wait_quiet(threshold: float = 30.0, max_wait: float = 30.0, sample: float = 1.0) -> float:
    """Wait until the machine is nearly idle (busy below `threshold` % of one core over `sample`
    seconds), at most `max_wait` seconds; return the last busy figure.

    Call it between windows, when the processes under test are idle: what is busy then is other
    users' work on this shared machine, and a window started in a quiet moment is a fairer one.
    """
    deadline = time.monotonic() + max_wait
    ncpu = os.cpu_count() or 1
    while True:
        b0, t0 = machine_jiffies()
        time.sleep(sample)
        b1, t1 = machine_jiffies()
        busy = 100 * ncpu * (b1 - b0) / max(1, t1 - t0)
        if busy < threshold or time.monotonic() >= deadline:
            return busy


class CpuMeter:
    """CPU used by a set of processes between start() and stop(), as a share of one core."""

    def __init__(self, pids: dict[str, list[int]]) -> None:
        self.pids = pids
        self.t0 = 0.0
        self.c0: dict[str, float] = {}

    def start(self) -> None:
        self.t0 = time.monotonic()
        self.c0 = {k: sum(cpu_seconds(p) for p in v) for k, v in self.pids.items()}
        self.m0 = machine_jiffies()

    def stop(self) -> dict[str, float]:
        """Per group, % of one core; "machine": all CPUs busy, "others": busy outside the groups
        (other users' processes on this shared machine), both in % of one core."""
        dt = time.monotonic() - self.t0
        out = {
            k: round(100 * (sum(cpu_seconds(p) for p in v) - self.c0[k]) / dt, 1)
            for k, v in self.pids.items()
        }
        busy0, total0 = self.m0
        busy1, total1 = machine_jiffies()
        ncpu = os.cpu_count() or 1
        machine = 100 * ncpu * (busy1 - busy0) / max(1, total1 - total0)
        out["machine"] = round(machine, 1)
        out["others"] = round(max(0.0, machine - sum(out[k] for k in self.pids)), 1)
        return out


# -- PostgreSQL --------------------------------------------------------------------------------


class Postgres:
    """One embedded PostgreSQL for the run, in a temporary directory."""

    def __init__(self) -> None:
        import pgserver

        self.dir = Path(tempfile.mkdtemp(prefix="pitchey-bench-pg-"))
        os.chmod(self.dir, 0o777)  # pgserver runs postgres as its own user when we are root
        self.server = pgserver.get_server(  # type: ignore[attr-defined]
            self.dir / "pgdata", cleanup_mode="delete"
        )
        self.dsn = self.server.get_uri()

    def create_database(self) -> str:
        name = f"bench_{os.getpid()}_{next(_ids)}"
        self.server.psql(f"CREATE DATABASE {name};")
        return self.server.get_uri(database=name)

    def pids(self) -> list[int]:
        pid = self.server.get_pid()
        return [pid, *children_of(pid)] if pid else []

    def close(self) -> None:
        self.server.cleanup()
        shutil.rmtree(self.dir, ignore_errors=True)


# -- servers under test ------------------------------------------------------------------------


class ServerProc:
    def __init__(self, kind: str, argv: list[str], env: dict[str, str], port: int, workdir: Path) -> None:
        self.kind = kind
        self.port = port
        self.workdir = workdir
        self.log_path = workdir / f"{kind}-{port}.log"
        self._log = open(self.log_path, "w")  # noqa: SIM115 - closed in stop()
        self.proc = subprocess.Popen(
            argv, env=env, cwd=ROOT, stdout=subprocess.PIPE, stderr=self._log, text=True
        )
        deadline = time.monotonic() + 60
        assert self.proc.stdout is not None
        while True:
            line = self.proc.stdout.readline()
            if "listening" in line:
                break
            if (not line and self.proc.poll() is not None) or time.monotonic() > deadline:
                self._log.flush()
                raise RuntimeError(f"{kind} did not start:\n{self.log_path.read_text()[-3000:]}")

    @property
    def pid(self) -> int:
        return self.proc.pid

    def rss(self) -> int:
        return rss_bytes(self.pid)

    def stop(self) -> None:
        if self.proc.poll() is None:
            self.proc.send_signal(signal.SIGTERM)
            try:
                self.proc.wait(15)
            except subprocess.TimeoutExpired:
                self.proc.kill()
                self.proc.wait()
        self._log.close()


def start_pitchey(pg: Postgres, workdir: Path, **env_extra: str) -> ServerProc:
    port = free_port()
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
            "PITCHEY_WS_RATE": "1000000",
            "PITCHEY_WS_BURST": "1000000",
            "PITCHEY_LOG_LEVEL": "WARNING",
        }
    )
    env.update(env_extra)
    # BENCH_PITCHEY_MODULE runs another entry module instead (a patched or profiled server).
    argv = [sys.executable, "-m", os.environ.get("BENCH_PITCHEY_MODULE", "pitchey.server.cli"), "serve"]
    return ServerProc("pitchey", argv, env, port, workdir)


def start_baseline(kind: str, workdir: Path) -> ServerProc:
    port = free_port()
    module = {"aiohttp": "bench.baseline_aiohttp", "socketio": "bench.baseline_socketio"}[kind]
    return ServerProc(kind, [sys.executable, "-m", module, str(port)], dict(os.environ), port, workdir)


# -- REST set-up of pitchey accounts and a pitch -------------------------------------------------


class Rest:
    def __init__(self, port: int) -> None:
        self.conn = http.client.HTTPConnection("127.0.0.1", port, timeout=30)

    def call(self, method: str, path: str, body: Any, token: str | None = None) -> Any:
        headers = {"Content-Type": "application/json"}
        if token:
            headers["Authorization"] = f"Bearer {token}"
        self.conn.request(method, path, json.dumps(body), headers)
        resp = self.conn.getresponse()
        data = json.loads(resp.read() or b"null")
        if resp.status >= 300:
            raise RuntimeError(f"{method} {path} -> {resp.status}: {data}")
        return data["data"]

    def register(self, portal: str) -> tuple[int, str]:
        email = f"{portal}-{os.getpid()}-{next(_ids)}@bench.example.com"
        data = self.call("POST", f"/api/auth/{portal}/register", {"email": email, "password": PASSWORD})
        return int(data["user"]["id"]), str(data["token"])

    def close(self) -> None:
        self.conn.close()


def pitchey_fixture(server: ServerProc, users: int) -> dict[str, Any]:
    """A creator with a published pitch, and `users` investor accounts (tokens)."""
    rest = Rest(server.port)
    try:
        creator_id, creator = rest.register("creator")
        pitch = rest.call("POST", "/api/pitches", {"title": "Bench pitch", "status": "published"}, creator)
        tokens = [rest.register("investor")[1] for _ in range(users)]
    finally:
        rest.close()
    return {"creator": creator, "creator_id": creator_id, "room": f"pitch:{pitch['id']}", "tokens": tokens}


# -- load generator processes ------------------------------------------------------------------


class Client:
    """One bench/loadgen.py process."""

    def __init__(self, cfg: dict[str, Any]) -> None:
        self.cfg = cfg
        self.proc = subprocess.Popen(
            [sys.executable, "-m", "bench.loadgen"],
            cwd=ROOT,
            stdin=subprocess.PIPE,
            stdout=subprocess.PIPE,
            text=True,
        )
        self.send(**cfg)

    @property
    def pid(self) -> int:
        return self.proc.pid

    def send(self, **cmd: Any) -> None:
        assert self.proc.stdin is not None
        self.proc.stdin.write(json.dumps(cmd) + "\n")
        self.proc.stdin.flush()

    def wait(self, event: str, timeout: float = 300.0) -> dict[str, Any]:
        assert self.proc.stdout is not None
        deadline = time.monotonic() + timeout
        while time.monotonic() < deadline:
            line = self.proc.stdout.readline()
            if not line:
                raise RuntimeError(f"load generator exited (rc={self.proc.poll()}) waiting for {event!r}")
            msg: dict[str, Any] = json.loads(line)
            if msg.get("event") == event:
                return msg
        raise TimeoutError(event)

    def close(self) -> None:
        if self.proc.poll() is None:
            try:
                self.send(cmd="quit")
                self.proc.wait(10)
            except (OSError, subprocess.TimeoutExpired):
                self.proc.kill()
                self.proc.wait()


def spawn_clients(
    proto: str,
    port: int,
    total: int,
    procs: int,
    *,
    room: str | None = None,
    tokens: list[str] | None = None,
    concurrency: int = 64,
    start_at: float = 0.0,
) -> list[Client]:
    """`total` subscriber connections spread over `procs` load generator processes."""
    clients = []
    per = [total // procs + (1 if i < total % procs else 0) for i in range(procs)]
    offset = 0
    for n in per:
        clients.append(
            Client(
                {
                    "proto": proto,
                    "port": port,
                    "n": n,
                    "role": "sub",
                    "room": room,
                    "tokens": tokens,
                    "token_offset": offset,
                    "concurrency": concurrency,
                    "start_at": start_at,
                }
            )
        )
        offset += n
    return clients


def close_all(*groups: Any) -> None:
    for g in groups:
        for c in g if isinstance(g, list) else [g]:
            if c is not None:
                c.close()
