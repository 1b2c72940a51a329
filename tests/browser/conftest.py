"""The browser-test harness: a real `pitchey serve`, a real Chromium, Playwright's sync API.

Write browser tests as plain (sync) `def test_...` functions, never `async def`: while
Playwright's sync API is started, the thread has its event loop marked running, so no asyncio
test can run. That is why the browser is scoped to this package (tests/browser/__init__.py makes
it one): it is stopped after the last browser test, before pytest goes on to the async tests.

Session
    ``live_server``   a `pitchey serve` subprocess on a free loopback port, its own data dir, a
                      fresh database on the session's PostgreSQL, cheap password hashing and
                      generous rate limits; it serves a fresh `vite build` of web/ (the source
                      under test, not the committed server/webdist) through PITCHEY_WEB_DIR.
                      ``.url`` ("http://127.0.0.1:<port>"), ``.ws_url``, ``.dsn``, ``.logs()``.
                      The server is shared by every browser test: use unique emails
                      (``unique_email()``), never assume an empty database.

Package (tests/browser)
    ``browser``       Debian's Chromium (/usr/bin/chromium) launched through Playwright.

Viewports
    ``@pytest.mark.viewports`` (on a test or a module: ``pytestmark = pytest.mark.viewports``) runs
                      the test twice, ``[desktop]`` and ``[phone]``: in the phone run every
                      ``new_context()`` that does not say ``phone=`` itself is 390x844 (touch,
                      mobile). The journeys carry it (issue 11: they also pass on a phone).
                      ``viewport`` is the fixture holding "desktop" or "phone".

Per test
    ``new_context(phone=None, allow_page_errors=False, **options)``  a new BrowserContext (its
                      own cookies: one per person), base_url = the live server, so
                      ``page.goto("/browse")`` works. Desktop 1280x800, or 390x844 (touch,
                      mobile) with ``phone=True``; ``None`` follows the test's viewport (desktop
                      unless it runs as ``[phone]``). Closed after the test. After the test it
                      FAILS the test if any page of it hit a Content-Security-Policy violation,
                      or threw an uncaught exception (unless ``allow_page_errors=True``).
                      ``new_context.log(context)`` -> ``BrowserLog`` (.console_errors, .csp,
                      .page_errors) to assert on during the test.
    ``page``          ``new_context().new_page()``, for tests of one person.

Helpers (plain functions)
    ``nav(page, name)``  clicks the link `name` of the main navigation, opening the "Menu" first
                      when the page is phone-sized (there the navigation folds behind it).

Helpers (fixtures returning callables)
    ``api_register(context, portal="creator", email=None, password=PASSWORD, **extra) -> user``
                      registers through the API with ``context.request``, so the context holds
                      the HttpOnly session cookie (signed in for its pages). The user dict is the
                      API's, plus ``"password"``. Signing up through the UI is the journeys' job.
    ``api_create_published_pitch(context, **fields) -> pitch``  POST /api/pitches as the
                      context's (creator) user: published, public, with a unique title, any field
                      overridden by ``fields`` (API names, camelCase or snake_case).
    ``axe_check(page, name)``   runs axe-core (web/node_modules/axe-core) on the page and fails on
                      any violation of impact serious or critical, listed readably.
    ``shot(page, name, phone=False)``  full-page PNG in test-artifacts/screenshots/<name>.png at
                      the page's viewport; with ``phone=True`` (or ``shot_phone(page, name)``) the
                      page is resized to 390x844 for <name>-phone.png, then restored. A page that
                      is phone-sized already (a ``[phone]`` run) is always saved as <name>-phone.png.

Nothing is skipped: without Chromium, axe-core or node_modules the tests fail saying what is
missing (scripts/test installs all of it).
"""

from __future__ import annotations

import asyncio
import concurrent.futures
import contextlib
import itertools
import json
import os
import re
import shutil
import subprocess
import uuid
from collections.abc import Callable, Coroutine, Iterator
from dataclasses import dataclass, field
from pathlib import Path
from typing import Any, TypeVar

import asyncpg
import pytest
from fault_helpers import Node, node_env

T = TypeVar("T")

ROOT = Path(__file__).resolve().parents[2]
WEB = ROOT / "web"
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
AXE = WEB / "node_modules" / "axe-core" / "axe.min.js"
SCREENSHOTS = ROOT / "test-artifacts" / "screenshots"
DESKTOP = {"width": 1280, "height": 800}
PHONE = {"width": 390, "height": 844}
PASSWORD = "correct horse battery staple"
#: A directory holding a build of web/ already (scripts/test passes the one it just checked).
PREBUILT = os.environ.get("PITCHEY_TEST_WEBDIST")

_counter = itertools.count(1)


def unique_email(prefix: str = "user") -> str:
    return f"{prefix}{next(_counter)}-{uuid.uuid4().hex[:6]}@example.com"


def _run_sync(coro: Coroutine[Any, Any, T]) -> T:
    """Run a coroutine on a private loop in another thread (never pytest-asyncio's loop)."""
    with concurrent.futures.ThreadPoolExecutor(1) as pool:
        return pool.submit(asyncio.run, coro).result()


# --------------------------------------------------------------------------------------------
# The server
# --------------------------------------------------------------------------------------------


@dataclass
class LiveServer:
    url: str
    ws_url: str
    dsn: str
    node: Node

    def logs(self, lines: int = 60) -> str:
        return self.node.tail(lines)


def _build_web(out: Path) -> Path:
    """`vite build` of web/ into `out` (about 2 s): the pages as they are in the working tree."""
    if PREBUILT:
        prebuilt = Path(PREBUILT)
        if not (prebuilt / "index.html").is_file():
            pytest.fail(f"PITCHEY_TEST_WEBDIST={PREBUILT} has no index.html", pytrace=False)
        return prebuilt
    if not (WEB / "node_modules" / ".bin" / "vite").exists():
        pytest.fail("web/node_modules is missing: run scripts/test (or `cd web && npm ci`)", pytrace=False)
    npx = shutil.which("npx")
    if npx is None:
        pytest.fail("npx (Node.js) is not installed: run scripts/test", pytrace=False)
    proc = subprocess.run(
        [npx, "vite", "build", "--outDir", str(out), "--emptyOutDir", "--logLevel", "warn"],
        cwd=WEB,
        capture_output=True,
        text=True,
        timeout=300,
    )
    if proc.returncode != 0 or not (out / "index.html").is_file():
        output = f"{proc.stdout[-3000:]}\n{proc.stderr[-3000:]}"
        pytest.fail(f"vite build of web/ failed:\n{output}", pytrace=False)
    return out


async def _create_database(server_url: str, name: str) -> None:
    conn = await asyncpg.connect(server_url)
    try:
        await conn.execute(f'DROP DATABASE IF EXISTS "{name}" WITH (FORCE)')
        await conn.execute(f'CREATE DATABASE "{name}"')
    finally:
        await conn.close()


async def _drop_database(server_url: str, name: str) -> None:
    conn = await asyncpg.connect(server_url)
    try:
        await conn.execute(f'DROP DATABASE IF EXISTS "{name}" WITH (FORCE)')
    finally:
        await conn.close()


def _dsn_for(server_url: str, name: str) -> str:
    from urllib.parse import urlsplit, urlunsplit

    return urlunsplit(urlsplit(server_url)._replace(path="/" + name))


@pytest.fixture(scope="session")
def live_server(pg_server_url: str, tmp_path_factory: pytest.TempPathFactory) -> Iterator[LiveServer]:
    base = tmp_path_factory.mktemp("live")
    web_dir = _build_web(base / "webdist")
    name = f"pitchey_browser_{uuid.uuid4().hex[:8]}"
    _run_sync(_create_database(pg_server_url, name))
    dsn = _dsn_for(pg_server_url, name)
    data_dir = base / "data"
    data_dir.mkdir()
    env = node_env(dsn, data_dir, PITCHEY_WEB_DIR=str(web_dir), PITCHEY_DB_TIMEOUT="10")
    node = Node("live", env, base / "logs")
    node.logs.mkdir()
    node.start()
    try:
        _run_sync(node.wait_healthy(60))
        yield LiveServer(url=node.base, ws_url=node.ws_url, dsn=dsn, node=node)
    finally:
        if node.alive():
            node.terminate()
            try:
                _run_sync(node.wait_exit(15))
            except AssertionError:
                node.kill()
        with contextlib.suppress(Exception):
            _run_sync(_drop_database(pg_server_url, name))


# --------------------------------------------------------------------------------------------
# The browser
# --------------------------------------------------------------------------------------------


@pytest.fixture(scope="package")
def _playwright() -> Iterator[Any]:
    try:
        from playwright.sync_api import sync_playwright
    except ImportError:
        pytest.fail("playwright is not installed: run scripts/test (pip install -e '.[dev]')", pytrace=False)
    pw = sync_playwright().start()
    try:
        yield pw
    finally:
        pw.stop()


@pytest.fixture(scope="package")
def browser(_playwright: Any) -> Iterator[Any]:
    if not os.access(CHROMIUM, os.X_OK):
        pytest.fail(f"{CHROMIUM} not found: run scripts/test (apt-get install chromium)", pytrace=False)
    b = _playwright.chromium.launch(executable_path=CHROMIUM, args=CHROMIUM_ARGS)
    try:
        yield b
    finally:
        b.close()


@dataclass
class BrowserLog:
    """What the pages of one context reported: console errors, CSP violations, uncaught errors."""

    console_errors: list[str] = field(default_factory=list)
    csp: list[str] = field(default_factory=list)
    page_errors: list[str] = field(default_factory=list)


# Reports every CSP violation as a console error, in words, whatever Chromium itself logs.
_CSP_LISTENER = """
document.addEventListener("securitypolicyviolation", (e) => {
  console.error(`[csp] ${e.effectiveDirective} blocked ${e.blockedURI || "inline"} on ${e.documentURI}`);
});
"""


class ContextFactory:
    def __init__(self, browser: Any, base_url: str, phone: bool = False) -> None:
        self.browser = browser
        self.base_url = base_url
        self.phone = phone  # the default of the test's viewport
        self.made: list[tuple[Any, BrowserLog, bool]] = []

    def __call__(self, *, phone: bool | None = None, allow_page_errors: bool = False, **options: Any) -> Any:
        if phone is None:
            phone = self.phone
        settings: dict[str, Any] = {"base_url": self.base_url, "viewport": PHONE if phone else DESKTOP}
        if phone:
            settings.update(is_mobile=True, has_touch=True)
        settings.update(options)
        ctx = self.browser.new_context(**settings)
        ctx.set_default_timeout(10_000)
        log = BrowserLog()

        def on_console(msg: Any) -> None:
            if msg.type != "error":
                return
            text = f"{msg.text} ({msg.location.get('url', '')})" if msg.location else msg.text
            log.console_errors.append(text)
            if "[csp]" in msg.text or "Content Security Policy" in msg.text:
                log.csp.append(text)

        ctx.on("console", on_console)
        ctx.on("weberror", lambda err: log.page_errors.append(str(err.error)))
        ctx.add_init_script(_CSP_LISTENER)
        self.made.append((ctx, log, allow_page_errors))
        return ctx

    def log(self, ctx: Any) -> BrowserLog:
        for made, log, _ in self.made:
            if made is ctx:
                return log
        raise KeyError("not a context of new_context()")

    def close_all(self) -> list[str]:
        problems: list[str] = []
        for ctx, log, allow_page_errors in self.made:
            with contextlib.suppress(Exception):
                ctx.close()
            problems += [f"CSP violation: {c}" for c in log.csp]
            if not allow_page_errors:
                problems += [f"uncaught error in page: {e}" for e in log.page_errors]
        return problems


VIEWPORTS = ("desktop", "phone")


def pytest_configure(config: pytest.Config) -> None:
    config.addinivalue_line("markers", "viewports: run the test at desktop and at phone size")


def pytest_generate_tests(metafunc: pytest.Metafunc) -> None:
    if metafunc.definition.get_closest_marker("viewports") and "viewport" in metafunc.fixturenames:
        metafunc.parametrize("viewport", VIEWPORTS, indirect=True)


@pytest.fixture
def viewport(request: pytest.FixtureRequest) -> str:
    """ "desktop", or "phone" in the phone run of a test marked `viewports`."""
    value = str(getattr(request, "param", "desktop"))
    assert value in VIEWPORTS, value
    return value


@pytest.fixture
def new_context(browser: Any, live_server: LiveServer, viewport: str) -> Iterator[ContextFactory]:
    factory = ContextFactory(browser, live_server.url, phone=viewport == "phone")
    yield factory
    problems = factory.close_all()
    if problems:
        pytest.fail("the browser reported:\n  " + "\n  ".join(problems), pytrace=False)


@pytest.fixture
def page(new_context: ContextFactory) -> Any:
    return new_context().new_page()


# --------------------------------------------------------------------------------------------
# Navigation
# --------------------------------------------------------------------------------------------


def nav(page: Any, name: str) -> None:
    """Follow the main navigation's link `name`; on a phone the navigation is behind "Menu"."""
    main = page.get_by_role("navigation", name="Main")
    link = main.get_by_role("link", name=name, exact=True)
    menu = page.get_by_role("banner").get_by_role("button", name="Menu", exact=True)
    if menu.is_visible() and menu.get_attribute("aria-expanded") != "true":
        menu.click()
    link.click()


# --------------------------------------------------------------------------------------------
# API shortcuts (for the people a journey needs but does not sign up through the UI)
# --------------------------------------------------------------------------------------------


def _json(resp: Any, expected: int, what: str) -> Any:
    text = resp.text()
    assert resp.status == expected, f"{what}: expected {expected}, got {resp.status}: {text[:500]}"
    body = json.loads(text)
    assert body.get("success") is True, body
    return body["data"]


@pytest.fixture
def api_register(live_server: LiveServer) -> Callable[..., dict[str, Any]]:
    def register(
        context: Any,
        portal: str = "creator",
        email: str | None = None,
        password: str = PASSWORD,
        **extra: Any,
    ) -> dict[str, Any]:
        payload = {"email": email or unique_email(portal), "password": password, **extra}
        resp = context.request.post(f"{live_server.url}/api/auth/{portal}/register", data=payload)
        data = _json(resp, 201, f"register a {portal}")
        cookies = [c["name"] for c in context.cookies(live_server.url)]
        assert "pitchey_session" in cookies, f"no session cookie after register: {cookies}"
        return {**data["user"], "password": password}

    return register


@pytest.fixture
def api_create_published_pitch(live_server: LiveServer) -> Callable[..., dict[str, Any]]:
    def create(context: Any, **fields: Any) -> dict[str, Any]:
        n = next(_counter)
        body = {
            "title": f"Browser pitch {n} {uuid.uuid4().hex[:4]}",
            "logline": "A lighthouse keeper finds a message that rewrites a town's history.",
            "genre": "Drama",
            "format": "Feature Film",
            "synopsis": "Act one. Act two. Act three.",
            "status": "published",
            "visibility": "public",
            **fields,
        }
        resp = context.request.post(f"{live_server.url}/api/pitches", data=body)
        data: dict[str, Any] = _json(resp, 201, "create a pitch")
        return data

    return create


# --------------------------------------------------------------------------------------------
# Accessibility and screenshots
# --------------------------------------------------------------------------------------------


def run_axe(page: Any, name: str) -> list[dict[str, Any]]:
    """axe-core's violations of impact serious/critical on the page as it is now."""
    if not AXE.is_file():
        pytest.fail(f"{AXE} missing: run scripts/test (or `cd web && npm ci`)", pytrace=False)
    # Evaluated through the DevTools protocol, which the page's CSP does not govern; an injected
    # <script> (page.add_script_tag) would be refused by script-src 'self', as it should be.
    if not page.evaluate("() => typeof window.axe === 'object'"):
        page.evaluate("() => {" + AXE.read_text(encoding="utf-8") + "\n}")
    result = page.evaluate(
        """async () => {
            const r = await window.axe.run(document, { resultTypes: ["violations"] });
            return r.violations;
        }"""
    )
    return [v for v in result if v.get("impact") in ("serious", "critical")]


def format_axe(name: str, violations: list[dict[str, Any]]) -> str:
    lines = [f"axe: {len(violations)} serious/critical violation(s) on {name!r}:"]
    for v in violations:
        lines.append(f"- [{v['impact']}] {v['id']}: {v['help']} ({v.get('helpUrl', '')})")
        for node in v.get("nodes", [])[:8]:
            target = " ".join(str(t) for t in node.get("target", []))
            summary = re.sub(r"\s+", " ", node.get("failureSummary", "")).strip()
            lines.append(f"    at {target}: {summary[:300]}")
            lines.append(f"       {node.get('html', '')[:200]}")
    return "\n".join(lines)


@pytest.fixture
def axe_check() -> Callable[[Any, str], None]:
    def check(page: Any, name: str) -> None:
        violations = run_axe(page, name)
        if violations:
            pytest.fail(format_axe(name, violations), pytrace=False)

    return check


def take_shot(page: Any, name: str, phone: bool = False) -> Path:
    SCREENSHOTS.mkdir(parents=True, exist_ok=True)
    if page.viewport_size == PHONE:
        phone = True  # a phone run: never write the desktop name with a phone picture
    if not phone:
        path = SCREENSHOTS / f"{name}.png"
        page.screenshot(path=str(path), full_page=True)
        return path
    path = SCREENSHOTS / (name + ("" if name.endswith("-phone") else "-phone") + ".png")
    before = page.viewport_size
    page.set_viewport_size(PHONE)
    try:
        page.evaluate("() => new Promise((r) => requestAnimationFrame(() => requestAnimationFrame(r)))")
        page.screenshot(path=str(path), full_page=True)
    finally:
        if before and before != PHONE:
            page.set_viewport_size(before)
    return path


@pytest.fixture
def shot() -> Callable[..., Path]:
    return take_shot


@pytest.fixture
def shot_phone() -> Callable[[Any, str], Path]:
    return lambda page, name: take_shot(page, name, phone=True)
