"""Replay a stream file on Locust, for runs beyond one machine (master/worker mode).

    pip install 'pitchey-realtime[load]'
    F=$(python -c 'import pitchey.loadtest as m, os; print(os.path.dirname(m.__file__))')/locustfile.py
    PITCHEY_STREAM=launch.jsonl PITCHEY_SPEED=10 locust -f "$F" --host http://target:8080 --master
    # on each worker machine (same stream file):  ... locust -f "$F" --worker --master-host=MASTER
    # users = actors x copies: -u $((ACTORS * COPIES)) -r 200

Each Locust user plays one actor of the stream (``loadtest/tasks.py`` turns the file into per-actor
plans); consecutive users fill copy 0, then copy 1, ... of the stream's world, on each worker. The
REST calls go through Locust's HttpUser client (its statistics), the ``pitchey.v1`` commands over a
WebSocket (websockets' sync client, cooperative under Locust's gevent) and are reported as
"WS <type>" requests with the time to their reply. ``pitchey replay`` remains the tool for the
correctness figures (gaps, duplicates): Locust measures load, this file reproduces it.
"""

from __future__ import annotations

import itertools
import json
import os
import threading
import time
from typing import Any

from locust import HttpUser, task  # type: ignore[import-not-found, unused-ignore]
from locust.exception import StopUser  # type: ignore[import-not-found, unused-ignore]
from websockets.sync.client import connect as ws_connect

# Absolute imports: Locust loads this file by path, as a module outside any package.
from pitchey.loadtest.stream import read_stream
from pitchey.loadtest.tasks import ActorPlan, actor_plans, nda_created, nda_wanted, resolve
from pitchey.protocol import SUBPROTOCOL

STREAM = read_stream(os.environ.get("PITCHEY_STREAM", "stream.jsonl"))
SPEED = float(os.environ.get("PITCHEY_SPEED", "1").removesuffix("x") or 1)
PLANS: list[ActorPlan] = actor_plans(STREAM, SPEED)
RUN = os.environ.get("PITCHEY_RUN_ID", os.urandom(4).hex())
_next_user = itertools.count()


class CopyWorld:
    """One copy of the stream's world on this worker: ids appear as their creators publish them."""

    def __init__(self) -> None:
        self.start = time.monotonic()
        self.pitches: dict[str, int] = {}
        self.ndas: dict[tuple[str, str], int] = {}

    def wait_for(self, get: Any, timeout: float = 30.0) -> Any:
        deadline = time.monotonic() + timeout
        while time.monotonic() < deadline:
            value = get()
            if value is not None:
                return value
            time.sleep(0.05)  # gevent-patched: yields to the other users
        raise TimeoutError("an id this actor needs never appeared")


_copies: dict[int, CopyWorld] = {}


class StreamUser(HttpUser):  # type: ignore[misc]
    """Plays one actor's steps at their (scaled) times, then stops."""

    def on_start(self) -> None:
        n = next(_next_user)
        copy, index = divmod(n, len(PLANS))
        self.plan = PLANS[index]
        self.world = _copies.setdefault(copy, CopyWorld())
        self.ws: Any = None
        self.ids = itertools.count(1)
        email = f"locust-{RUN}-{os.getpid()}-{copy}-{self.plan.alias}@example.com"
        password = "locust-" + RUN + "-pw"
        with self.client.post(
            f"/api/auth/{self.plan.portal}/register",
            json={"email": email, "password": password},
            name="register",
            catch_response=True,
        ) as resp:
            if resp.status_code != 201:
                resp.failure(f"registration refused: HTTP {resp.status_code}")
                raise StopUser()
            self.token = resp.json()["data"]["token"]
        for alias in self.plan.owns:
            resp = self.client.post(
                "/api/pitches",
                json={"title": f"Replay {alias}", "status": "published", "visibility": "public"},
                headers=self._auth(),
                name="create pitch",
            )
            self.world.pitches[alias] = int(resp.json()["data"]["id"])

    def _auth(self) -> dict[str, str]:
        return {"Authorization": f"Bearer {self.token}"}

    @task  # type: ignore[misc, untyped-decorator, unused-ignore]
    def play(self) -> None:
        # Every pitch of this copy exists before anyone acts (their owners create them at start).
        self.world.wait_for(lambda: all(p in self.world.pitches for p in STREAM.header.pitches) or None)
        for step in self.plan.steps:
            delay = self.world.start + step.at - time.monotonic()
            if delay > 0:
                time.sleep(delay)
            a = step.action
            wanted = nda_wanted(a)
            if wanted is not None:
                self.world.wait_for(lambda w=wanted: self.world.ndas.get(w))
            call = resolve(
                a, self.world.pitches, self.world.ndas, command_id=f"{self.plan.alias}.{next(self.ids)}"
            )
            if call.kind == "connect":
                self._connect()
            elif call.kind == "disconnect":
                if self.ws is not None:
                    self.ws.close()
                    self.ws = None
            elif call.kind == "ws":
                self._command(a.name, call.frame or b"")
            else:
                with self.client.request(
                    call.method,
                    call.path,
                    json=call.body,
                    headers=self._auth(),
                    name=a.name,
                    catch_response=True,
                ) as resp:
                    if resp.status_code >= 300:
                        resp.failure(f"HTTP {resp.status_code}")
                    elif (created := nda_created(a)) is not None:
                        self.world.ndas[created] = int(resp.json()["data"]["id"])
        raise StopUser()

    def _connect(self) -> None:
        base = self.host.rstrip("/")
        url = ("wss" if base.startswith("https") else "ws") + base[base.index("://") :] + "/ws"
        started = time.perf_counter()
        try:
            self.ws = ws_connect(url, subprotocols=[SUBPROTOCOL, f"bearer.{self.token}"])  # type: ignore[list-item]
            exc: Exception | None = None
        except Exception as e:  # reported to Locust, not raised: the user carries on
            exc = e
        self._fire("connect", started, exc)
        if self.ws is not None:
            self.replies: dict[str, float] = {}
            threading.Thread(target=self._reader, daemon=True).start()

    def _reader(self) -> None:
        """Drain the socket (a subscriber that does not read is closed as a slow consumer)."""
        try:
            for raw in self.ws:
                frame = json.loads(raw)
                started = self.replies.pop(str(frame.get("id")), None)
                if started is not None:
                    err = RuntimeError(str(frame["data"].get("code"))) if frame["type"] == "error" else None
                    self._fire(f"reply {frame['type']}", started, err)
        except Exception:  # the socket closed: the next connect step opens another
            return

    def _command(self, name: str, frame: bytes) -> None:
        if self.ws is None:
            self._fire(name, time.perf_counter(), RuntimeError("not connected"))
            return
        cmd_id = json.loads(frame).get("id")
        if cmd_id is not None:
            self.replies[str(cmd_id)] = time.perf_counter()
        self.ws.send(frame.decode())

    def _fire(self, name: str, started: float, exc: Exception | None) -> None:
        self.environment.events.request.fire(
            request_type="WS",
            name=name,
            response_time=(time.perf_counter() - started) * 1000,
            response_length=0,
            exception=exc,
            context={},
        )
