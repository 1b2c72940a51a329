"""The web app's weight and speed (issue 8): JS per public page, and time to the first pitch card.

Both figures come from a real `pitchey serve` (the shipped build in server/webdist) on the
run's embedded PostgreSQL, loaded by Debian's Chromium through Playwright, with a fresh browser
context (empty cache) for every load:

* JS per page  - every script response a public page loads (`/`, `/browse`, `/pitches/{id}`),
                 gzip'd at level 9 and summed: what a first visit downloads. Goal: at most
                 200 KB each. The landing page's chunks are listed in the notes.
* first card   - milliseconds from navigation start to the first pitch card in the DOM (a
                 MutationObserver installed before any script runs), median of N loads of `/`
                 with 12 published pitches, against the same markup as a static HTML page served
                 by the same server in the same run (a copy of the build with one extra file,
                 served through PITCHEY_WEB_DIR). The ratio is what the app's JS, its API calls
                 and rendering cost over plain HTML.

    python -m bench.bench_web [--quick]
"""

from __future__ import annotations

import gzip
import shutil
import statistics
import sys
import tempfile
import time
from pathlib import Path
from typing import Any

from bench import harness as h
from bench.common import Row

WEBDIST = h.ROOT / "server" / "webdist"
CHROMIUM = "/usr/bin/chromium"
CHROMIUM_ARGS = [
    "--no-sandbox",
    "--disable-gpu",
    "--disable-background-networking",
    "--disable-component-update",
    "--disable-sync",
    "--no-first-run",
    "--disable-quic",
]
JS_BUDGET_KB = 200.0
# A pitch card is a link to a pitch inside an article; the static page uses the same markup.
CARD = 'article a[href^="/pitches/"]'
FIRST_CARD_PROBE = (
    "(() => { const sel = "
    + repr(CARD)
    + ";"
    + """
  const mark = () => { if (!window.__firstCard && document.querySelector(sel)) {
    window.__firstCard = performance.now(); } };
  new MutationObserver(mark).observe(document, { childList: true, subtree: true });
  document.addEventListener("DOMContentLoaded", mark);
})();
"""
)

STATIC_PAGE = """<!doctype html>
<html lang="en"><head><meta charset="utf-8"><title>Pitchey (static)</title>
<link rel="stylesheet" href="/assets/{css}"></head>
<body><main><h1>Trending</h1><div>{cards}</div></main></body></html>
"""


def _static_copy(workdir: Path, titles: list[tuple[int, str]]) -> Path:
    """The shipped build plus one static page holding the same cards as plain HTML."""
    web = workdir / "webdist"
    shutil.copytree(WEBDIST, web)
    css = next((p.name for p in (web / "assets").glob("index-*.css")), "")
    cards = "".join(
        f'<article><a href="/pitches/{pid}"><h3>{title}</h3></a><p>Drama · Feature</p></article>'
        for pid, title in titles
    )
    (web / "static-cards.html").write_text(STATIC_PAGE.format(css=css, cards=cards))
    return web


def _seed(server: h.ServerProc, n: int) -> list[tuple[int, str]]:
    rest = h.Rest(server.port)
    try:
        _, creator = rest.register("creator")
        out = []
        for i in range(n):
            body = {
                "title": f"Bench pitch {i}",
                "logline": "A benchmark walks into a browser.",
                "genre": "drama",
                "format": "feature",
                "status": "published",
            }
            p = rest.call("POST", "/api/pitches", body, creator)
            out.append((int(p["id"]), str(p["title"])))
        return out
    finally:
        rest.close()


def _js_weight(browser: Any, url: str) -> tuple[float, list[tuple[str, int]]]:
    """KB of gzip'd JS a first visit to `url` downloads, and each script's gzip'd bytes."""
    ctx = browser.new_context()
    page = ctx.new_page()
    scripts: list[Any] = []
    page.on("response", lambda r: scripts.append(r) if r.request.resource_type == "script" else None)
    page.goto(url, wait_until="networkidle")
    sizes = [(r.url.rsplit("/", 1)[-1], len(gzip.compress(r.body(), 9))) for r in scripts]
    ctx.close()
    return sum(s for _, s in sizes) / 1024, sizes


def _first_card_ms(browser: Any, url: str, trials: int) -> list[float]:
    out = []
    for _ in range(trials):
        ctx = browser.new_context()
        ctx.add_init_script(FIRST_CARD_PROBE)
        page = ctx.new_page()
        page.goto(url)
        # Polled with evaluate: wait_for_function evaluates strings, which our CSP forbids. The
        # time itself was taken by the observer in the page, so polling adds nothing to it.
        deadline = time.monotonic() + 30
        while (mark := page.evaluate("window.__firstCard")) is None:
            if time.monotonic() > deadline:
                raise RuntimeError(f"no pitch card at {url} within 30 s")
            page.wait_for_timeout(10)
        out.append(float(mark))
        ctx.close()
    return out


def run(quick: bool, notes: list[str]) -> list[Row]:
    from playwright.sync_api import sync_playwright

    if not (WEBDIST / "index.html").exists():
        raise RuntimeError("server/webdist is missing: run `cd web && npm ci && npm run build`")
    trials = 5 if quick else 25
    workdir = Path(tempfile.mkdtemp(prefix="pitchey-bench-web-"))
    pg = h.Postgres()
    server: h.ServerProc | None = None
    rows: list[Row] = []
    try:
        # Seed through a first server, then serve the copy with the static page from a second one
        # on the same database, so both pages come from one process in the measured run.
        db_url = pg.create_database()
        seeder = h.start_pitchey(pg, workdir, DATABASE_URL=db_url)
        try:
            titles = _seed(seeder, 12)
        finally:
            seeder.stop()
        web = _static_copy(workdir, titles)
        server = h.start_pitchey(pg, workdir, DATABASE_URL=db_url, PITCHEY_WEB_DIR=str(web))
        base = f"http://127.0.0.1:{server.port}"
        with sync_playwright() as pw:
            browser = pw.chromium.launch(executable_path=CHROMIUM, args=CHROMIUM_ARGS)
            try:
                pages = {"/": "landing", "/browse": "browse", f"/pitches/{titles[0][0]}": "pitch detail"}
                for path, name in pages.items():
                    kb, sizes = _js_weight(browser, base + path)
                    rows.append(
                        Row(
                            "web",
                            f"JS on {name} (gzip)",
                            kb,
                            "KB",
                            goal=f"<= {JS_BUDGET_KB:.0f} KB",
                            met=kb <= JS_BUDGET_KB,
                        )
                    )
                    if name == "landing":
                        by_size = sorted(sizes, key=lambda x: -x[1])
                        listed = ", ".join(f"{n} {s / 1024:.1f} KB" for n, s in by_size)
                        notes.append(f"web: landing scripts (gzip): {listed}")
                # Warm the server (first requests compile statements, fill the read cache) alike.
                _first_card_ms(browser, base + "/", 2)
                _first_card_ms(browser, base + "/static-cards.html", 2)
                app_ms: list[float] = []
                static_ms: list[float] = []
                for _ in range(trials):  # interleaved, so machine noise hits both alike
                    app_ms += _first_card_ms(browser, base + "/", 1)
                    static_ms += _first_card_ms(browser, base + "/static-cards.html", 1)
                app, static = statistics.median(app_ms), statistics.median(static_ms)
                rows.append(
                    Row(
                        "web",
                        "first pitch card, landing (p50)",
                        app,
                        "ms",
                        "static HTML page",
                        static,
                        goal="<= 4x static",
                        met=app <= 4 * static,
                    )
                )
                notes.append(
                    f"web: first card over {trials} fresh loads each: app p50 {app:.0f} ms "
                    f"(min {min(app_ms):.0f}, max {max(app_ms):.0f}); static p50 {static:.0f} ms "
                    f"(min {min(static_ms):.0f}, max {max(static_ms):.0f})"
                )
            finally:
                browser.close()
    finally:
        if server is not None:
            server.stop()
        pg.close()
        shutil.rmtree(workdir, ignore_errors=True)
    return rows


if __name__ == "__main__":
    from bench.common import format_table

    notes: list[str] = []
    print(format_table(run("--quick" in sys.argv, notes)))
    for n in notes:
        print(f"- {n}")
