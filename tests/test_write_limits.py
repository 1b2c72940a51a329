"""The write limits (per user and per client IP) on one node: counted in this process by
`LocalWindows`, the sliding-window counter of the `limits` library without its awaits (issue 16).
A refusal is 429 with the real wait in `Retry-After`; one caller's writes never spend another's
budget. The clock is injected: no test here waits for time to pass."""

from __future__ import annotations

from typing import Any

from limits import parse
from realtime_helpers import bearer, make_pitch, user

from pitchey.server.ratelimit import LocalWindows


class Clock:
    def __init__(self, now: float) -> None:
        self.now = now

    def __call__(self) -> float:
        return self.now


def test_the_window_slides_the_way_limits_counts() -> None:
    clock = Clock(600.0)  # the start of a one-minute window
    windows = LocalWindows(parse("3/minute"), clock)
    assert [windows.hit("a") for _ in range(3)] == [0.0, 0.0, 0.0]
    wait = windows.hit("a")
    assert wait >= 59.0  # full until the window ends: nothing older decays meanwhile
    assert windows.hit("b") == 0.0  # another key has its own budget
    # Next window: the previous one still weighs 3 x (what is left of it), so the first hits
    # are refused until enough of it has slid by.
    clock.now = 660.0
    assert windows.hit("a") > 0
    clock.now = 660.0 + 25  # 35/60 of 3 left: floor(1.75) = 1, room for 2
    assert windows.hit("a") == 0.0
    assert windows.hit("a") == 0.0
    assert windows.hit("a") > 0
    # Two windows later nothing is left of it.
    clock.now = 800.0
    assert [windows.hit("a") for _ in range(3)] == [0.0, 0.0, 0.0]


def test_a_refusal_says_when_a_hit_would_fit() -> None:
    clock = Clock(1200.0)
    windows = LocalWindows(parse("2/minute"), clock)
    windows.hit("k")
    windows.hit("k")
    wait = windows.hit("k")
    start = clock.now
    clock.now = start + wait - 1  # a second early: still refused (a refusal counts nothing)
    assert windows.hit("k") > 0
    clock.now = start + wait  # then it fits
    assert windows.hit("k") == 0.0


def test_forgotten_keys_leave_memory_bounded() -> None:
    clock = Clock(0.0)
    windows = LocalWindows(parse("5/second"), clock)
    for i in range(LocalWindows._SWEEP_EVERY - 1):
        windows.hit(f"k{i}")
    clock.now = 10.0
    windows.hit("last")  # the sweep: every earlier key is two windows old
    assert list(windows._windows) == ["last"]


async def test_a_user_over_the_write_limit_gets_429_and_others_do_not(make_client: Any, expect: Any) -> None:
    client = await make_client(write_user_limit="3/minute", write_ip_limit="1000/minute")
    _, creator = await user(client, "creator")
    pitch = await make_pitch(client, creator)  # a write of the creator's: their budget only
    _, investor = await user(client, "investor")
    path = f"/api/pitches/{pitch['id']}/like"
    for method in ("POST", "DELETE", "POST"):
        await expect(await client.request(method, path, headers=bearer(investor)), 200)
    resp = await client.request("DELETE", path, headers=bearer(investor))
    body = await expect(resp, 429, "RATE_LIMITED")
    assert 1 <= int(resp.headers["Retry-After"]) <= 60
    assert body["error"]["details"]["retryAfter"] == int(resp.headers["Retry-After"])
    # The refused write changed nothing, and another investor still may.
    _, other = await user(client, "investor")
    liked = await expect(await client.post(path, headers=bearer(other)), 200)
    assert liked["data"]["likeCount"] == 2
    # Reads are not limited.
    await expect(await client.get(f"/api/pitches/{pitch['id']}", headers=bearer(investor)), 200)


async def test_writes_from_one_address_are_limited_whoever_signs_in(make_client: Any, expect: Any) -> None:
    client = await make_client(write_user_limit="1000/minute", write_ip_limit="3/minute")
    _, creator = await user(client, "creator")
    pitch = await make_pitch(client, creator)  # 1
    path = f"/api/pitches/{pitch['id']}/like"
    _, a = await user(client, "investor")
    _, b = await user(client, "investor")
    await expect(await client.post(path, headers=bearer(a)), 200)  # 2
    await expect(await client.post(path, headers=bearer(b)), 200)  # 3
    resp = await client.delete(path, headers=bearer(a))
    await expect(resp, 429, "RATE_LIMITED")
    assert "address" in (await resp.json())["error"]["message"]
