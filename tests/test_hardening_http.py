"""Hostile HTTP at the edge (issue 10): aiohttp's own parser refusals come back in our envelope
with the right status and a stable code, logged at WARNING without a traceback; log lines escape
control characters, so a `%0a` in a URL path cannot forge a line in the text access log.

Raw sockets throughout: an HTTP client library would refuse to send these requests."""

from __future__ import annotations

import asyncio
import socket
from collections.abc import AsyncIterator

import orjson
import pytest
from aiohttp import web

from pitchey.server.httpserver import Runner
from pitchey.server.logs import escape_controls


@pytest.fixture
async def served(app_factory) -> AsyncIterator[int]:
    """The app behind the runner `pitchey serve` uses, on a free loopback port."""
    runner = Runner(app_factory(), access_log=None)
    await runner.setup()
    with socket.socket() as s:
        s.bind(("127.0.0.1", 0))
        port = s.getsockname()[1]
    site = web.TCPSite(runner, "127.0.0.1", port)
    await site.start()
    try:
        yield port
    finally:
        await runner.cleanup()


async def raw_request(port: int, data: bytes) -> tuple[int, dict[str, str], bytes]:
    reader, writer = await asyncio.open_connection("127.0.0.1", port)
    try:
        writer.write(data)
        await writer.drain()
        async with asyncio.timeout(5):
            raw = await reader.read()  # the parser's answers close the connection
    finally:
        writer.close()
    head, _, body = raw.partition(b"\r\n\r\n")
    lines = head.decode("latin-1").split("\r\n")
    status = int(lines[0].split()[1])
    headers = {k.lower(): v.strip() for k, _, v in (line.partition(":") for line in lines[1:])}
    return status, headers, body


def request(path: str = "/health", headers: bytes = b"") -> bytes:
    return f"GET {path} HTTP/1.1\r\nHost: x\r\nConnection: close\r\n".encode() + headers + b"\r\n"


@pytest.mark.parametrize(
    ("data", "status", "code", "level"),
    [
        (request("/api/pitches/" + "a" * 8300), 414, "URI_TOO_LONG", "WARNING"),
        (request(headers=b"X-Big: " + b"b" * 20_000 + b"\r\n"), 431, "HEADERS_TOO_LARGE", "WARNING"),
        (request(headers=b"X-Nul: a\x00b\r\n"), 400, "BAD_REQUEST", "WARNING"),
        # Not HTTP at all (TLS on the port, a scanner): answered the same, logged at DEBUG.
        (b"GARBAGE\r\n\r\n", 400, "BAD_REQUEST", "DEBUG"),
    ],
    ids=["8KB-url", "huge-header", "nul-in-header", "garbage"],
)
async def test_parser_refusals_are_enveloped_and_logged_without_traceback(
    served, log_capture, data, status, code, level
):
    logs = log_capture("text", "DEBUG")
    got, headers, body = await raw_request(served, data)
    assert got == status
    assert headers["content-type"].startswith("application/json")
    envelope = orjson.loads(body)
    assert envelope["success"] is False
    assert envelope["error"]["code"] == code
    assert envelope["meta"]["requestId"] == headers["x-request-id"]
    text = logs.getvalue()
    assert "Traceback" not in text
    refused = [line for line in text.splitlines() if "refused by the HTTP parser" in line]
    assert len(refused) == 1
    assert f" {level} pitchey.server.http " in refused[0]
    assert headers["x-request-id"] in refused[0]
    assert " ERROR " not in text


async def test_the_server_still_serves_after_refusals(served):
    for data in (request("/" + "a" * 9000), request(headers=b"X-Nul: \x00\r\n")):
        await raw_request(served, data)
    status, _, _ = await raw_request(served, request("/health"))
    assert status == 200


async def test_a_newline_in_the_path_cannot_forge_an_access_line(make_client, log_capture):
    logs = log_capture("text", "INFO")
    client = await make_client()
    forged = "2026-01-01 00:00:00,000 INFO pitchey.access forged GET /api/admin 200 1.0ms"
    resp = await client.get("/api/nope%0a" + forged.replace(" ", "%20") + "%0d%00")
    assert resp.status == 404
    lines = logs.getvalue().splitlines()
    assert not any(line.startswith("2026-01-01") for line in lines)
    access = [line for line in lines if "pitchey.access" in line and "/api/nope" in line]
    assert len(access) == 1
    assert "/api/nope\\x0a2026-01-01" in access[0] and access[0].endswith("404 " + access[0].split()[-1])
    assert "\\x0d\\x00" in access[0]


async def test_a_traceback_cannot_start_a_line_either(log_capture):
    import logging

    logs = log_capture("text", "INFO")
    try:
        raise ValueError("boom\n2026-01-01 00:00:00,000 INFO forged")
    except ValueError:
        logging.getLogger("pitchey.test").exception("failed for %s", "a\nb")
    lines = logs.getvalue().splitlines()
    assert "failed for a\\x0ab" in lines[0]
    assert all(line.startswith("    ") for line in lines[1:])


def test_escape_controls():
    assert (
        escape_controls("a\nb\r\t\x00\x7f\x85\u2028\\z é") == "a\\x0ab\\x0d\\x09\\x00\\x7f\\x85\\u2028\\\\z é"
    )
