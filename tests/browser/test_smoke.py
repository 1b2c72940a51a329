"""The app loads in a real browser from `pitchey serve`: landing page, deep links, strict CSP, axe.

Also checks the harness itself can fail: a CSP violation and an axe finding are both caught.
"""

from __future__ import annotations

import json

import pytest


def test_landing_page_renders_clean(new_context, axe_check, shot, shot_phone):
    ctx = new_context()
    page = ctx.new_page()
    resp = page.goto("/")
    assert resp is not None and resp.status == 200
    csp = resp.headers.get("content-security-policy", "")
    assert "script-src 'self'" in csp and "object-src 'none'" in csp, csp
    assert resp.headers.get("x-frame-options") == "DENY"
    assert "Pitchey" in page.title()
    nav = page.get_by_role("navigation", name="Main")
    nav.wait_for()
    assert nav.get_by_role("link", name="Browse").is_visible()
    assert page.get_by_role("link", name="Pitchey home").is_visible()
    assert page.get_by_role("link", name="Sign in").is_visible()
    page.wait_for_load_state("networkidle")
    axe_check(page, "landing")
    shot(page, "smoke-landing")
    shot_phone(page, "smoke-landing")
    log = new_context.log(ctx)
    assert log.csp == [], log.csp
    assert log.page_errors == [], log.page_errors


def test_client_route_deep_link_loads(new_context):
    page = new_context().new_page()
    resp = page.goto("/browse")
    assert resp is not None and resp.status == 200
    assert resp.headers["content-type"].startswith("text/html")
    browse = page.get_by_role("navigation", name="Main").get_by_role("link", name="Browse")
    browse.wait_for()
    # The app's router took the path over: its NavLink marks the current page.
    assert browse.get_attribute("aria-current") == "page"
    assert page.url.endswith("/browse")


def test_unknown_api_path_is_still_json(new_context, live_server):
    page = new_context().new_page()
    resp = page.goto("/api/unknown")
    assert resp is not None and resp.status == 404
    assert resp.headers["content-type"].startswith("application/json")
    body = json.loads(resp.text())
    assert body["success"] is False and body["error"]["code"] == "NOT_FOUND"


def test_api_helpers_sign_the_context_in(new_context, api_register, api_create_published_pitch):
    ctx = new_context()
    user = api_register(ctx, "creator", name="Ada Creator")
    assert user["userType"] == "creator" and user["password"]
    pitch = api_create_published_pitch(ctx, title="Harness check pitch")
    assert pitch["status"] == "published" and pitch["title"] == "Harness check pitch"
    page = ctx.new_page()
    page.goto("/")
    # The HttpOnly cookie from the API call is the page's session too.
    page.get_by_role("button", name="Sign out").wait_for()
    assert page.evaluate("() => document.cookie") == ""  # and JavaScript cannot read it
    other = new_context().new_page()  # another person: separate cookies
    other.goto("/")
    other.get_by_role("link", name="Sign in").wait_for()


def test_csp_violations_are_caught(new_context):
    ctx = new_context()
    page = ctx.new_page()
    page.goto("/")
    page.get_by_role("navigation", name="Main").wait_for()
    page.evaluate(
        """() => {
            const s = document.createElement("script");
            s.textContent = "window.__injected = true";
            document.body.append(s);
        }"""
    )
    page.wait_for_function("() => true")
    assert page.evaluate("() => window.__injected === undefined")  # refused by script-src 'self'
    log = new_context.log(ctx)
    page.wait_for_timeout(200)  # the violation report is asynchronous
    assert any("script-src" in c for c in log.csp), log.console_errors
    log.csp.clear()  # seen and expected: do not fail this test at teardown


def test_axe_finds_serious_problems(new_context, axe_check):
    page = new_context().new_page()
    page.goto("/")
    page.get_by_role("navigation", name="Main").wait_for()
    # An image with no alternative text and a nameless button: both serious/critical for axe.
    page.evaluate(
        """() => {
            const img = document.createElement("img");
            img.src = "/favicon.svg";
            const b = document.createElement("button");
            document.querySelector("main").append(img, b);
        }"""
    )
    with pytest.raises(pytest.fail.Exception) as failed:
        axe_check(page, "broken on purpose")
    text = str(failed.value)
    assert "'broken on purpose'" in text
    assert "image-alt" in text and "button-name" in text, text


@pytest.mark.parametrize("phone", [False, True])
def test_viewports(new_context, phone):
    page = new_context(phone=phone).new_page()
    page.goto("/")
    assert page.viewport_size == ({"width": 390, "height": 844} if phone else {"width": 1280, "height": 800})
    assert page.evaluate("() => window.innerWidth") == (390 if phone else 1280)
