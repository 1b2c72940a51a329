"""Small helpers of the shared pages' browser tests (messages, notifications, NDAs sent):
waiting for the live connection, counting the API requests of a page load, API shortcuts."""

from __future__ import annotations

import json
import time
from collections import Counter
from typing import Any
from urllib.parse import urlsplit

LIVE = 10_000  # ms: how long a live update may take to show


def track_live(page: Any) -> list[dict[str, Any]]:
    """Record every frame the page's WebSockets receive (call before the first goto)."""
    frames: list[dict[str, Any]] = []

    def on_frame(payload: str | bytes) -> None:
        try:
            frame = json.loads(payload)
        except ValueError:
            return
        if isinstance(frame, dict):
            frames.append(frame)

    page.on("websocket", lambda ws: ws.on("framereceived", on_frame))
    return frames


def wait_user_room(page: Any, frames: list[dict[str, Any]], timeout_s: float = 10) -> None:
    """Wait until the live client has joined the signed-in person's own room: from then on an
    event in `user:<id>` reaches the page (events before it are not promised to)."""
    deadline = time.monotonic() + timeout_s
    while not any(
        f.get("type") == "subscribed" and str(f.get("room", "")).startswith("user:") for f in frames
    ):
        assert time.monotonic() < deadline, f"the page never joined its user room; frames: {frames[:5]}"
        page.wait_for_timeout(50)


class ApiLog:
    """The API requests a page makes (method and path with query), to count them per page load."""

    def __init__(self, page: Any) -> None:
        self.calls: list[str] = []
        page.on("request", self._on)

    def _on(self, request: Any) -> None:
        url = urlsplit(request.url)
        if url.path.startswith("/api/"):
            self.calls.append(f"{request.method} {url.path}{'?' + url.query if url.query else ''}")

    def reset(self) -> None:
        self.calls.clear()

    def paths(self) -> Counter[str]:
        return Counter(c.split("?", 1)[0] for c in self.calls)

    def assert_no_repeats(self, what: str) -> None:
        """Each request at most once: a request per row would repeat one path with other ids."""
        repeated = {c: n for c, n in Counter(self.calls).items() if n > 1}
        assert not repeated, f"{what}: repeated API requests {repeated} in {self.calls}"


def data(resp: Any, status: int = 200) -> Any:
    assert resp.status == status, f"expected {status}, got {resp.status}: {resp.text()[:400]}"
    return resp.json()["data"]
