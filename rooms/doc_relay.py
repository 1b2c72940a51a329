"""Document updates and awareness between nodes, over Redis pub/sub (the backplane's Redis).

Each node subscribes only to the documents it has open (`pitchey:doc:<pitchId>:<name>`) and
ignores what it published itself. Pub/sub may drop messages while Redis is away; the order does
not matter to a CRDT, a loss does: when the subscription comes back, every open document is told
to catch up from PostgreSQL (where every update was stored before it was relayed).
"""

from __future__ import annotations

import asyncio
import contextlib
import logging
import secrets
from collections.abc import Callable
from typing import Any

import redis.asyncio as aioredis
from redis.exceptions import RedisError

log = logging.getLogger("pitchey.docs")

PREFIX = "pitchey:doc:"
CATCH_UP = b"r"  # the kind handed to a document when it should re-read its log


class RedisDocRelay:
    def __init__(self, url: str) -> None:
        self.redis: Any = aioredis.Redis.from_url(url, socket_connect_timeout=2, socket_timeout=5)
        self.node = secrets.token_bytes(8)
        self._subs: dict[str, Callable[[bytes, bytes], None]] = {}
        self._pubsub: Any = None
        self._task: asyncio.Task[None] | None = None
        self._connected = asyncio.Event()

    async def start(self) -> None:
        self._task = asyncio.create_task(self._read_forever(), name="doc-relay")

    async def close(self) -> None:
        if self._task is not None:
            self._task.cancel()
            with contextlib.suppress(asyncio.CancelledError):
                await self._task
        if self._pubsub is not None:
            with contextlib.suppress(Exception):
                await self._pubsub.aclose()
        with contextlib.suppress(Exception):
            await self.redis.aclose()

    async def attach(self, key: str, deliver: Callable[[bytes, bytes], None]) -> None:
        self._subs[PREFIX + key] = deliver
        if self._pubsub is not None and self._connected.is_set():
            try:
                await self._pubsub.subscribe(PREFIX + key)
            except (RedisError, OSError) as exc:
                log.warning("document relay: subscribe failed (%s)", exc)

    async def detach(self, key: str) -> None:
        self._subs.pop(PREFIX + key, None)
        if self._pubsub is not None and self._connected.is_set():
            with contextlib.suppress(RedisError, OSError):
                await self._pubsub.unsubscribe(PREFIX + key)

    async def publish(self, key: str, kind: bytes, payload: bytes) -> None:
        try:
            await self.redis.publish(PREFIX + key, self.node + kind + payload)
        except (RedisError, OSError) as exc:
            # Stored already; the other nodes catch up from the database when Redis is back.
            log.warning("document relay: publish failed (%s)", exc)

    async def _read_forever(self) -> None:
        delay = 0.2
        first = True
        while True:
            try:
                self._pubsub = self.redis.pubsub(ignore_subscribe_messages=True)
                await self._pubsub.subscribe(PREFIX + "__node__")
                if self._subs:
                    await self._pubsub.subscribe(*self._subs)
                self._connected.set()
                if not first:
                    for deliver in list(self._subs.values()):
                        deliver(CATCH_UP, b"")
                first = False
                delay = 0.2
                while True:
                    message = await self._pubsub.get_message(timeout=0.5)
                    if message is None or message.get("type") != "message":
                        continue
                    data: bytes = message["data"]
                    if data[:8] == self.node:
                        continue
                    channel = message["channel"]
                    name = channel.decode() if isinstance(channel, bytes) else channel
                    target = self._subs.get(name)
                    if target is not None:
                        target(data[8:9], data[9:])
            except asyncio.CancelledError:
                raise
            except (RedisError, OSError) as exc:
                self._connected.clear()
                first = False
                log.warning("document relay: Redis unreachable (%s)", exc)
                with contextlib.suppress(Exception):
                    await self._pubsub.aclose()
                await asyncio.sleep(delay)
                delay = min(delay * 2, 2.0)
