"""`pitchey record` and `pitchey replay`: their arguments and what they run (docs/replay.md).

Exit codes: 0 done, 1 the replay found lost or reordered events (gaps or duplicates), 2 bad input:
a refused file, an unreachable target, a refused login or registration.
"""

from __future__ import annotations

import argparse
import asyncio
import contextlib
import json
import os
import re
import sys
from collections.abc import Callable
from contextlib import AbstractContextManager
from datetime import UTC, datetime
from pathlib import Path
from typing import Any

from .stream import StreamError, read_stream, write_stream
from .synthetic import PROFILES

OpenDatabase = Callable[[], AbstractContextManager[str]]


def _duration(text: str) -> float:
    """`90`, `90s`, `10m`, `1h` -> seconds."""
    m = re.fullmatch(r"(\d+(?:\.\d+)?)([smh]?)", text.strip())
    if m is None:
        raise argparse.ArgumentTypeError(f"not a duration: {text!r} (e.g. 90s, 10m, 1h)")
    return float(m.group(1)) * {"": 1, "s": 1, "m": 60, "h": 3600}[m.group(2)]


def _speed(text: str) -> float:
    if text == "max":
        return 0.0
    m = re.fullmatch(r"(\d+(?:\.\d+)?)x?", text)
    if m is None or float(m.group(1)) <= 0:
        raise argparse.ArgumentTypeError(f"not a speed: {text!r} (1x, 10x, max)")
    return float(m.group(1))


def _when(text: str) -> datetime:
    try:
        when = datetime.fromisoformat(text)
    except ValueError:
        raise argparse.ArgumentTypeError(f"not an ISO-8601 time: {text!r}") from None
    return when if when.tzinfo else when.replace(tzinfo=UTC)


def add_parsers(sub: Any) -> None:
    """Add `record` and `replay` to the `pitchey` command's subparsers."""
    rec = sub.add_parser(
        "record",
        help="record a stream file from a live server's rooms or from the database",
        description="Write a stream file (docs/replay.md): what a signed-in observer sees in the given "
        "rooms (its token from PITCHEY_TOKEN), or the messages, likes, views and NDA events stored "
        "in the database (--from-db; found as `pitchey serve` finds it).",
    )
    rec.add_argument("-o", "--output", required=True, help="the stream file to write")
    rec.add_argument("--url", help="the server to observe, e.g. http://127.0.0.1:8080")
    rec.add_argument("--rooms", help="comma-separated rooms to observe, e.g. pitch:1,pitch:2")
    rec.add_argument("--duration", type=_duration, default=600.0, help="how long to observe (10m)")
    rec.add_argument("--from-db", action="store_true", help="record what the database holds")
    rec.add_argument("--since", type=_when, help="with --from-db: from this time (ISO-8601)")
    rec.add_argument("--until", type=_when, help="with --from-db: until this time (ISO-8601)")
    rec.add_argument("--keep-text", action="store_true", help="keep message texts (emails still removed)")

    rep = sub.add_parser(
        "replay",
        help="replay a stream file (or a synthetic profile) against a server and report",
        description="Replay the actions of a stream file against --url with the recorded timing "
        "(scaled by --speed), --scale copies of its actors, and report deliveries, latency and "
        "the per-room sequence check (docs/replay.md).",
    )
    rep.add_argument("file", nargs="?", help="the stream file (or use --synthetic)")
    rep.add_argument("--url", help="the target, e.g. http://127.0.0.1:8080; several nodes comma-separated")
    rep.add_argument("--synthetic", choices=sorted(PROFILES), help="generate a profile instead of a file")
    rep.add_argument("--investors", type=int, help="synthetic: number of investors")
    rep.add_argument("--duration", type=_duration, help="synthetic: seconds the profile spans")
    rep.add_argument("--seed", type=int, default=1, help="synthetic: random seed (default 1)")
    rep.add_argument("--save", help="write the synthetic stream to this file")
    rep.add_argument("--speed", type=_speed, default=1.0, help="1x, 10x, ... or max (default 1x)")
    rep.add_argument("--scale", type=int, default=1, help="copies of the stream's actors (default 1)")
    rep.add_argument("--workers", type=int, default=1, help="processes to spread the copies over")
    rep.add_argument("--tokens", help="JSON file {alias: token} to use instead of registering")
    rep.add_argument("--report", help="write the JSON report here")
    rep.add_argument("--html", help="write the HTML report here")
    rep.add_argument("--settle", type=float, default=5.0, help="seconds to wait for the last deliveries")
    rep.add_argument("--quiet", action="store_true", help="no live progress line")


def _fail(message: str) -> int:
    print(f"pitchey: {message}", file=sys.stderr)
    return 2


def run(args: argparse.Namespace, open_database: OpenDatabase) -> int:
    if args.command == "record":
        return _record(args, open_database)
    return _replay(args)


def _record(args: argparse.Namespace, open_database: OpenDatabase) -> int:
    from .record import RecordError, record_db, record_live

    try:
        if args.from_db:
            try:
                database = open_database()
                dsn = database.__enter__()
            except Exception as exc:  # bad settings, no embedded PostgreSQL: say which, exit 2
                return _fail(f"record: cannot open the database: {exc}")
            try:
                stream = asyncio.run(record_db(dsn, args.since, args.until, keep_text=args.keep_text))
            finally:
                database.__exit__(None, None, None)
        else:
            if not args.url or not args.rooms:
                return _fail("record: give --url and --rooms, or --from-db")
            token = os.environ.get("PITCHEY_TOKEN", "")
            if not token:
                return _fail("record: set PITCHEY_TOKEN to the observer's bearer token")
            rooms = [r.strip() for r in args.rooms.split(",") if r.strip()]
            stream = asyncio.run(record_live(args.url, token, rooms, args.duration, keep_text=args.keep_text))
    except RecordError as exc:
        return _fail(str(exc))
    write_stream(stream, args.output)
    print(
        f"pitchey: recorded {len(stream.actions)} actions of {len(stream.header.actors)} actors"
        f" to {args.output}"
    )
    return 0


def _replay(args: argparse.Namespace) -> int:
    from rich.console import Console

    from .replay import Options, SetupError
    from .report import print_table, to_html
    from .runner import run_replay

    if args.synthetic:
        kwargs: dict[str, Any] = {"seed": args.seed}
        if args.investors is not None:
            kwargs["investors"] = args.investors
        if args.duration is not None:
            kwargs["duration"] = args.duration
        stream = PROFILES[args.synthetic](**kwargs)
        if args.save:
            write_stream(stream, args.save)
    elif args.file:
        try:
            stream = read_stream(args.file)
        except StreamError as exc:
            return _fail(f"refused {exc}")
        except OSError as exc:
            return _fail(f"cannot read {args.file}: {exc.strerror}")
    else:
        return _fail("replay: give a stream FILE or --synthetic PROFILE")
    if not args.url:
        if args.save:
            return 0
        return _fail("replay: give --url of the target server")
    for url in args.url.split(","):
        if not re.match(r"https?://[^/]+/?$", url.strip()):
            return _fail(f"replay: --url must be http(s)://host[:port] (comma-separated), not {url!r}")
    if args.scale < 1 or args.workers < 1:
        return _fail("replay: --scale and --workers must be at least 1")
    tokens = None
    if args.tokens:
        try:
            tokens = json.loads(Path(args.tokens).read_text())
        except (OSError, ValueError) as exc:
            return _fail(f"cannot read the token file {args.tokens}: {exc}")
    opts = Options(url=args.url, speed=args.speed, scale=args.scale, settle=args.settle, tokens=tokens)
    console = Console(stderr=True)
    try:
        report = run_replay(stream, opts, args.workers, console=console, live=not args.quiet)
    except SetupError as exc:
        return _fail(str(exc))
    if args.report:
        Path(args.report).write_text(json.dumps(report, indent=1) + "\n")
    if args.html:
        Path(args.html).write_text(to_html(report))
    with contextlib.suppress(BrokenPipeError):
        print_table(report, Console())
    return 1 if report["correctness"]["gaps"] or report["correctness"]["duplicates"] else 0
