"""Journeys 1 and 3, the creator, in a real browser against a real `pitchey serve`.

1. A creator signs up through the UI, lands on /creator (figures at zero, the range kept in the
   URL), creates a pitch with every field as a draft (a budget with three decimals is refused by the
   page, one with 13 digits by the API: its VALIDATION_ERROR detail lands on the budget field, and
   nothing typed is lost), uploads a real PNG poster and a real PDF deck over a throttled link and
   sees the progress bar move, is told in words when a PNG is sent as a deck, publishes, and watches
   the "My pitches" numbers change without a reload while an investor (another browser context)
   views and likes the pitch. The dashboard then shows the view and the like in its figures and in
   the chart, whose code is loaded only there, with the same numbers as a table.
3. Investors request the NDA of two pitches; the creator's inbox at /creator/ndas (and the bell's
   unread count) show the requests without a reload; one is approved, the other rejected with a
   reason; the statuses change in place and the investors see the decisions.

axe-core runs on every page of the journeys; screenshots of each end state (desktop and phone)
go to test-artifacts/screenshots/.
"""

from __future__ import annotations

import re
import struct
import uuid
import zlib
from typing import Any

import pytest
from playwright.sync_api import expect

from .conftest import nav

pytestmark = pytest.mark.viewports  # each journey also runs at 390x844

PASSWORD = "a long enough password"


# --------------------------------------------------------------------------------------------
# Real files: a PNG and a PDF built byte by byte (the server sniffs the content, not the name)
# --------------------------------------------------------------------------------------------


def make_png(width: int = 96, height: int = 64) -> bytes:
    """An RGB gradient as a valid PNG (signature, IHDR, zlib'd IDAT, IEND, CRCs)."""
    rows = b"".join(
        b"\x00" + b"".join(bytes(((x * 255) // width, (y * 255) // height, 160)) for x in range(width))
        for y in range(height)
    )

    def chunk(kind: bytes, data: bytes) -> bytes:
        return (
            struct.pack(">I", len(data))
            + kind
            + data
            + struct.pack(">I", zlib.crc32(kind + data) & 0xFFFFFFFF)
        )

    header = struct.pack(">IIBBBBB", width, height, 8, 2, 0, 0, 0)
    return (
        b"\x89PNG\r\n\x1a\n"
        + chunk(b"IHDR", header)
        + chunk(b"IDAT", zlib.compress(rows))
        + chunk(b"IEND", b"")
    )


def make_pdf(title: str, pad_lines: int = 0) -> bytes:
    """A one-page PDF with a correct xref table; `pad_lines` of text make it larger."""
    lines = [f"BT /F1 18 Tf 40 760 Td ({title}) Tj ET"]
    lines += [
        f"BT /F1 8 Tf 40 {700 - (i % 80) * 8} Td (Scene {i}: the train leaves at dawn.) Tj ET"
        for i in range(pad_lines)
    ]
    content = "\n".join(lines).encode()
    objects = [
        b"<< /Type /Catalog /Pages 2 0 R >>",
        b"<< /Type /Pages /Kids [3 0 R] /Count 1 >>",
        b"<< /Type /Page /Parent 2 0 R /MediaBox [0 0 612 792] /Contents 4 0 R"
        b" /Resources << /Font << /F1 5 0 R >> >> >>",
        b"<< /Length " + str(len(content)).encode() + b" >>\nstream\n" + content + b"\nendstream",
        b"<< /Type /Font /Subtype /Type1 /BaseFont /Helvetica >>",
    ]
    out = bytearray(b"%PDF-1.4\n")
    offsets = []
    for n, body in enumerate(objects, start=1):
        offsets.append(len(out))
        out += f"{n} 0 obj\n".encode() + body + b"\nendobj\n"
    xref = len(out)
    out += f"xref\n0 {len(objects) + 1}\n0000000000 65535 f \n".encode()
    out += b"".join(f"{o:010d} 00000 n \n".encode() for o in offsets)
    out += f"trailer\n<< /Size {len(objects) + 1} /Root 1 0 R >>\nstartxref\n{xref}\n%%EOF\n".encode()
    return bytes(out)


def _data(resp: Any) -> Any:
    assert resp.ok, f"{resp.status}: {resp.text()[:300]}"
    return resp.json()["data"]


def _is_recharts(ctx: Any, url: str) -> bool:
    """Whether a script the page loaded holds recharts (its class names survive minification)."""
    return "recharts-surface" in ctx.request.get(url).text()


def _mark(page: Any) -> None:
    """A flag in the page's JS world: still there later means the page was never reloaded."""
    page.evaluate("() => { window.__noReload = true; }")


def _not_reloaded(page: Any) -> None:
    assert page.evaluate("() => window.__noReload === true"), "the page was reloaded"


# --------------------------------------------------------------------------------------------
# Journey 1
# --------------------------------------------------------------------------------------------


def test_creator_journey(new_context, live_server, api_register, axe_check, shot, shot_phone):
    token = uuid.uuid4().hex[:6]
    title = f"Night Train {token}"
    ctx = new_context()
    page = ctx.new_page()
    scripts: list[str] = []
    page.on("request", lambda r: scripts.append(r.url) if r.resource_type == "script" else None)

    # Sign up through the UI, as a creator.
    page.goto("/creator/register")
    expect(page.get_by_role("radio", name="Creator")).to_be_checked()
    page.get_by_label("Full name").fill("Cleo Creator")
    page.get_by_role("textbox", name="Email").fill(f"cleo-{token}@example.com")
    page.get_by_label("Password", exact=True).fill(PASSWORD)
    page.get_by_role("button", name="Create account").click()

    # The dashboard: figures at zero, nothing to chart yet, the range kept in the URL.
    expect(page).to_have_url(re.compile(r"/creator$"))
    expect(page.get_by_role("heading", level=1, name="Welcome back, Cleo Creator")).to_be_visible()
    expect(page.get_by_role("button", name="Sign out")).to_be_visible()
    figures = page.get_by_role("region", name=re.compile("^Figures"))
    expect(figures).to_contain_text("Views")
    expect(figures).to_contain_text("All time: 0 pitches (0 published)")
    chart = page.get_by_role("region", name="Views and likes")
    expect(chart).to_contain_text("No views or likes yet")
    page.get_by_label("Range").select_option("7d")
    expect(page).to_have_url(re.compile(r"/creator\?range=7d$"))
    expect(chart).to_contain_text("Last 7 days")
    page.wait_for_load_state("networkidle")
    axe_check(page, "creator dashboard (empty)")
    shot(page, "journey-creator-dashboard-empty")

    # A new pitch with every field. First a budget with three decimals: refused by the page.
    page.get_by_role("link", name="New pitch").click()
    expect(page).to_have_url(re.compile(r"/creator/pitches/new$"))
    page.get_by_label("Title", exact=True).fill(title)
    page.get_by_label("Logline", exact=True).fill(
        "A night porter must stop a sleeper train before it reaches the border."
    )
    page.get_by_label("Genre", exact=True).select_option("Thriller")
    page.get_by_label("Format", exact=True).select_option("Feature film")
    page.get_by_label("Synopsis", exact=True).fill(
        "Act one: the porter finds the letter.\nAct two: the border.\nAct three: dawn."
    )
    budget = page.get_by_label("Budget (USD)")
    budget.fill("2500000.505")
    page.get_by_label("Target audience", exact=True).fill("Adults 25-54 who love European thrillers")
    page.get_by_label("Visibility", exact=True).select_option("public")
    page.get_by_label("Require an NDA to see the synopsis, budget and deck").check()
    page.get_by_role("button", name="Save as draft").click()
    expect(budget).to_have_attribute("aria-invalid", "true")
    expect(budget).to_be_focused()
    expect(page.get_by_text("at most 2 decimals")).to_be_visible()
    expect(page).to_have_url(re.compile(r"/creator/pitches/new$"))

    # Then 13 digits: the page lets it through, the API refuses it and its detail is at the field.
    with page.expect_response(
        lambda r: r.url.endswith("/api/pitches") and r.request.method == "POST"
    ) as sent:
        budget.fill("1000000000000")
        page.get_by_role("button", name="Save as draft").click()
    assert sent.value.status == 422
    expect(budget).to_have_attribute("aria-invalid", "true")
    expect(budget).to_be_focused()
    expect(page.locator(f"#{budget.get_attribute('id')}-error")).to_contain_text(
        "must be at most 999999999999.99"
    )
    # Nothing typed was lost.
    expect(page.get_by_label("Title", exact=True)).to_have_value(title)
    expect(page.get_by_label("Genre", exact=True)).to_have_value("Thriller")
    expect(page.get_by_label("Target audience", exact=True)).to_have_value(
        "Adults 25-54 who love European thrillers"
    )
    expect(page.get_by_label("Require an NDA to see the synopsis, budget and deck")).to_be_checked()
    axe_check(page, "new pitch (with a field error)")
    shot(page, "journey-creator-new-pitch-error")

    budget.fill("2,500,000.50")
    page.get_by_role("button", name="Save as draft").click()
    expect(page).to_have_url(re.compile(r"/creator/pitches/\d+/edit$"))
    pitch_id = int(page.url.rsplit("/", 2)[1])
    expect(page.get_by_role("status").filter(has_text="Draft saved")).to_be_visible()
    expect(page.get_by_role("heading", level=2, name="Status: Draft")).to_be_visible()
    stored = _data(ctx.request.get(f"{live_server.url}/api/pitches/{pitch_id}"))
    assert stored["status"] == "draft" and stored["title"] == title
    assert stored["genre"] == "Thriller" and stored["format"] == "Feature film"
    assert str(stored["budget"]) == "2500000.50"
    assert stored["targetAudience"] == "Adults 25-54 who love European thrillers"
    assert stored["visibility"] == "public" and stored["requireNda"] is True
    assert stored["synopsis"].startswith("Act one") and stored["logline"].startswith("A night porter")

    # The deck over a throttled link: the progress bar is seen between 0 and 100 %.
    deck = make_pdf(title, pad_lines=9000)
    assert len(deck) > 400_000
    cdp = ctx.new_cdp_session(page)
    cdp.send("Network.enable")
    cdp.send(
        "Network.emulateNetworkConditions",
        {"offline": False, "latency": 20, "downloadThroughput": -1, "uploadThroughput": 200 * 1024},
    )
    page.get_by_label("Upload pitch deck").set_input_files(
        files=[{"name": "night-train-deck.pdf", "mimeType": "application/pdf", "buffer": deck}]
    )
    progress = page.get_by_role("progressbar", name="Pitch deck upload progress")
    expect(progress).to_be_visible()
    page.wait_for_function(
        """() => { const p = document.querySelector('progress[data-kind="deck"]');
                   return p !== null && p.value > 0 && p.value < 100; }""",
        timeout=15_000,
    )
    expect(page.get_by_text("Uploaded night-train-deck.pdf")).to_be_visible(timeout=30_000)
    expect(progress).to_have_attribute("value", "100")
    cdp.send(
        "Network.emulateNetworkConditions",
        {"offline": False, "latency": 0, "downloadThroughput": -1, "uploadThroughput": -1},
    )

    # The poster: a real PNG, shown from the server as a thumbnail.
    page.get_by_label("Upload poster").set_input_files(
        files=[{"name": "poster.png", "mimeType": "image/png", "buffer": make_png()}]
    )
    expect(page.get_by_text("Uploaded poster.png")).to_be_visible()
    files = page.get_by_role("list", name="Uploaded files")
    expect(files.get_by_role("listitem")).to_have_count(2)
    expect(files).to_contain_text("night-train-deck.pdf")
    # The deck of an NDA pitch is protected by default, the poster is not.
    expect(files.get_by_role("checkbox", name="NDA only: night-train-deck.pdf")).to_be_checked()
    # The poster's own image (the deck gets a first-page preview image of its own, a job later).
    thumb = files.get_by_role("listitem").filter(has_text="poster.png").locator("img")
    expect(thumb).to_have_count(1)
    page.wait_for_function(
        "() => [...document.querySelectorAll('ul[aria-label=\"Uploaded files\"] img')]"
        ".some(i => i.complete && i.naturalWidth === 96)"
    )

    # A PNG sent as the deck is refused, in words.
    page.get_by_label("Upload pitch deck").set_input_files(
        files=[{"name": "not-a-deck.pdf", "mimeType": "application/pdf", "buffer": make_png()}]
    )
    expect(page.get_by_role("alert").filter(has_text="not-a-deck.pdf")).to_contain_text(
        "That file type is not accepted: a deck must be"
    )
    expect(files.get_by_role("listitem")).to_have_count(2)
    media = _data(ctx.request.get(f"{live_server.url}/api/pitches/{pitch_id}/media"))
    assert sorted((m["kind"], m["contentType"], m["protected"]) for m in media) == [
        ("deck", "application/pdf", True),
        ("poster", "image/png", False),
    ]
    axe_check(page, "edit pitch (files uploaded)")

    # Publish.
    page.get_by_role("button", name="Publish", exact=True).click()
    expect(
        page.get_by_role("status").filter(has_text="Published. Investors can find it now.")
    ).to_be_visible()
    expect(page.get_by_role("heading", level=2, name="Status: Published")).to_be_visible()
    assert _data(ctx.request.get(f"{live_server.url}/api/pitches/{pitch_id}"))["status"] == "published"
    page.wait_for_load_state("networkidle")
    shot(page, "journey-creator-edit-published")
    shot_phone(page, "journey-creator-edit-published")

    # My pitches: the numbers at zero; then an investor, in another browser, views and likes.
    nav(page, "My pitches")
    expect(page).to_have_url(re.compile(r"/creator/pitches$"))
    row = page.get_by_role("row").filter(has=page.get_by_role("link", name=title, exact=True))
    views, likes = row.get_by_test_id("views"), row.get_by_test_id("likes")
    expect(row).to_contain_text("Published")
    expect(views).to_have_text("0")
    expect(likes).to_have_text("0")
    page.wait_for_load_state("networkidle")
    axe_check(page, "my pitches")
    _mark(page)

    investor = new_context()
    api_register(investor, "investor", name="Ivy Investor")
    seen = _data(investor.request.get(f"{live_server.url}/api/pitches/{pitch_id}"))
    assert seen["viewCount"] == 1 and seen["protected"] is True
    expect(views).to_have_text("1")
    expect(likes).to_have_text("0")
    _data(investor.request.post(f"{live_server.url}/api/pitches/{pitch_id}/like"))
    expect(likes).to_have_text("1")
    # A second investor: the counts keep following.
    other = new_context()
    api_register(other, "investor", name="Otto Investor")
    _data(other.request.get(f"{live_server.url}/api/pitches/{pitch_id}"))
    _data(other.request.post(f"{live_server.url}/api/pitches/{pitch_id}/like"))
    expect(views).to_have_text("2")
    expect(likes).to_have_text("2")
    _data(other.request.delete(f"{live_server.url}/api/pitches/{pitch_id}/like"))
    expect(likes).to_have_text("1")
    _not_reloaded(page)
    shot(page, "journey-creator-my-pitches-live")
    shot_phone(page, "journey-creator-my-pitches-live")

    # The dashboard now charts them; the chart's code was not loaded before this point.
    assert not [u for u in scripts if "DashboardChart" in u], (
        "the chart chunk loaded before the chart was needed"
    )
    loaded_before = set(scripts)
    assert not [u for u in loaded_before if _is_recharts(ctx, u)], (
        "recharts was loaded before the dashboard chart"
    )
    nav(page, "Dashboard")
    expect(page).to_have_url(re.compile(r"/creator$"))
    expect(figures).to_contain_text("All time: 1 pitch (1 published) · 2 views · 1 like")
    chart = page.get_by_role("region", name="Views and likes")
    picture = chart.get_by_role("img", name=re.compile("Views and likes per day"))
    expect(picture).to_have_attribute("aria-label", re.compile("2 views and 1 like in all"))
    expect(picture.locator(".recharts-bar")).to_have_count(2)  # views and likes
    expect(picture.locator(".recharts-bar-rectangle path").first).to_be_visible()  # today's bars, drawn
    assert [u for u in scripts if "DashboardChart" in u], "the chart chunk was never loaded"
    assert [u for u in set(scripts) - loaded_before if _is_recharts(ctx, u)], (
        "recharts came with no new script"
    )
    chart.get_by_text("Show the numbers as a table").click()
    table = chart.get_by_role("table", name="Views and likes per day")
    expect(table.get_by_role("row")).to_have_count(31)  # header + 30 days (the default range)
    today = table.get_by_role("row").last
    expect(today.get_by_role("cell").nth(0)).to_have_text("2")
    expect(today.get_by_role("cell").nth(1)).to_have_text("1")
    chart.get_by_text("Show the numbers as a table").click()  # folded again for the screenshot
    expect(table).to_be_hidden()
    top = page.get_by_role("region", name="Top pitches")
    expect(top).to_contain_text(title)
    expect(top).to_contain_text("2 views · 1 like")
    page.wait_for_load_state("networkidle")
    axe_check(page, "creator dashboard (with activity)")
    shot(page, "journey-creator-dashboard")
    shot_phone(page, "journey-creator-dashboard")


# --------------------------------------------------------------------------------------------
# Journey 3
# --------------------------------------------------------------------------------------------


def test_creator_ndas_live(
    new_context, live_server, api_register, api_create_published_pitch, axe_check, shot, shot_phone
):
    token = uuid.uuid4().hex[:6]
    creator = new_context()
    api_register(creator, "creator", name="Nadia Creator")
    first = api_create_published_pitch(
        creator, title=f"Salt Roads {token}", requireNda=True, budget="900000.00"
    )
    second = api_create_published_pitch(creator, title=f"Glass Harbour {token}", requireNda=True)

    page = creator.new_page()
    page.goto("/creator/ndas")
    expect(page.get_by_role("heading", level=1, name="NDA requests")).to_be_visible()
    expect(page.get_by_text("No requests waiting")).to_be_visible()
    page.wait_for_load_state("networkidle")
    axe_check(page, "NDA inbox (empty)")
    _mark(page)

    # Two investors ask, each from their own browser.
    ivy, otto = new_context(), new_context()
    api_register(ivy, "investor", name="Ivy Investor")
    api_register(otto, "investor", name="Otto Investor")
    ivy_nda = _data(
        ivy.request.post(
            f"{live_server.url}/api/ndas/request",
            data={"pitchId": first["id"], "message": "We fund maritime dramas.\nHappy to sign."},
        )
    )
    otto_nda = _data(otto.request.post(f"{live_server.url}/api/ndas/request", data={"pitchId": second["id"]}))

    # They appear without a reload, in the inbox and on the bell.
    inbox = page.get_by_role("list", name="Pending NDA requests")
    ivy_card = inbox.get_by_role("listitem").filter(has_text="Ivy Investor")
    otto_card = inbox.get_by_role("listitem").filter(has_text="Otto Investor")
    expect(ivy_card).to_contain_text(f"Salt Roads {token}")
    expect(ivy_card).to_contain_text("We fund maritime dramas.")
    expect(otto_card).to_contain_text(f"Glass Harbour {token}")
    expect(ivy_card).to_contain_text("Pending")
    bell = page.get_by_role("banner").get_by_role("button", name=re.compile("^Notifications"))
    expect(bell).to_have_accessible_name(re.compile(r"\b2 unread"))
    _not_reloaded(page)
    page.wait_for_load_state("networkidle")
    axe_check(page, "NDA inbox (two requests)")
    shot(page, "journey-creator-ndas-requests")

    # Approve Ivy's, reject Otto's with a reason: the statuses change in place.
    ivy_card.get_by_role("button", name=f"Approve Ivy Investor's request for Salt Roads {token}").click()
    expect(ivy_card).to_contain_text("Approved")
    expect(ivy_card.get_by_role("button", name=re.compile("^Approve"))).to_have_count(0)
    otto_card.get_by_role("button", name=f"Reject Otto Investor's request for Glass Harbour {token}").click()
    reason = otto_card.get_by_label("Reason for Otto Investor (optional)")
    expect(reason).to_be_focused()
    reason.fill("The budget is beyond what we can share at this stage.")
    otto_card.get_by_role("button", name="Reject request").click()
    expect(otto_card).to_contain_text("Rejected")
    expect(otto_card).to_contain_text("Reason given: The budget is beyond what we can share at this stage.")
    _not_reloaded(page)
    axe_check(page, "NDA inbox (decided)")
    shot(page, "journey-creator-ndas-decided")
    shot_phone(page, "journey-creator-ndas-decided")

    # The investors see the decisions; Ivy now reads the protected fields.
    ivy_list = _data(ivy.request.get(f"{live_server.url}/api/ndas/outgoing-requests"))
    assert [(n["id"], n["status"]) for n in ivy_list] == [(ivy_nda["id"], "approved")]
    otto_list = _data(otto.request.get(f"{live_server.url}/api/ndas/outgoing-requests"))
    assert [(n["id"], n["status"], n["reason"]) for n in otto_list] == [
        (otto_nda["id"], "rejected", "The budget is beyond what we can share at this stage.")
    ]
    unlocked = _data(ivy.request.get(f"{live_server.url}/api/pitches/{first['id']}"))
    assert unlocked["protected"] is False and str(unlocked["budget"]) == "900000.00"

    # The Signed tab lists the approved one, the Pending tab (on the next visit) none.
    page.get_by_role("navigation", name="Filter by status").get_by_role("link", name="Signed").click()
    expect(page).to_have_url(re.compile(r"/creator/ndas\?status=approved$"))
    signed = page.get_by_role("list", name="Signed NDA requests")
    expect(signed.get_by_role("listitem")).to_have_count(1)
    expect(signed).to_contain_text("Ivy Investor")
    expect(signed).to_contain_text("Approved")
    page.get_by_role("navigation", name="Filter by status").get_by_role("link", name="Pending").click()
    expect(page.get_by_text("No requests waiting")).to_be_visible()
    page.get_by_role("navigation", name="Filter by status").get_by_role("link", name="Signed").click()
    page.wait_for_load_state("networkidle")
    axe_check(page, "NDA inbox (signed)")
    shot(page, "journey-creator-ndas-signed")


# --------------------------------------------------------------------------------------------
# The editor's other exits: unsaved changes, deleting a file, deleting the pitch
# --------------------------------------------------------------------------------------------


def test_pitch_editor_guards_and_deletes(
    new_context, live_server, api_register, api_create_published_pitch, axe_check, shot
):
    ctx = new_context()
    api_register(ctx, "creator", name="Dora Delete")
    pitch = api_create_published_pitch(ctx, status="draft", title=f"Paper Moon {uuid.uuid4().hex[:6]}")
    page = ctx.new_page()
    page.goto(f"/creator/pitches/{pitch['id']}/edit")
    title = page.get_by_label("Title", exact=True)
    expect(title).to_have_value(pitch["title"])

    # Unsaved changes: leaving asks first; staying keeps what was typed.
    title.fill("Paper Moon, revised")
    expect(page.get_by_text("Unsaved changes")).to_be_visible()
    nav(page, "My pitches")
    stay = page.get_by_role("button", name="Stay and keep editing")
    expect(stay).to_be_focused()
    expect(
        page.get_by_role("status").filter(has_text="You have unsaved changes in this pitch.")
    ).to_be_visible()
    stay.click()
    expect(page).to_have_url(re.compile(rf"/creator/pitches/{pitch['id']}/edit$"))
    expect(title).to_have_value("Paper Moon, revised")
    page.get_by_role("button", name="Save draft").click()
    expect(page.get_by_role("status").filter(has_text="Changes saved.")).to_be_visible()
    expect(page.get_by_role("heading", level=1)).to_have_text("Edit: Paper Moon, revised")

    # A file uploaded, then deleted.
    page.get_by_label("Upload poster").set_input_files(
        files=[{"name": "old-poster.png", "mimeType": "image/png", "buffer": make_png(32, 32)}]
    )
    files = page.get_by_role("list", name="Uploaded files")
    expect(files.get_by_role("listitem")).to_have_count(1)
    files.get_by_role("button", name="Delete old-poster.png").click()
    expect(page.get_by_text("No files yet.")).to_be_visible()
    assert _data(ctx.request.get(f"{live_server.url}/api/pitches/{pitch['id']}/media")) == []

    # Deleting the pitch asks for confirmation, then it is gone.
    page.get_by_role("button", name="Delete this pitch…").click()
    confirm = page.get_by_role("group", name="Confirm deletion")
    expect(confirm).to_contain_text("Delete “Paper Moon, revised”")
    expect(confirm.get_by_role("button", name="Delete permanently")).to_be_focused()
    axe_check(page, "edit pitch (confirm deletion)")
    shot(page, "journey-creator-delete-confirm")
    confirm.get_by_role("button", name="Keep it").click()
    expect(confirm).to_have_count(0)
    page.get_by_role("button", name="Delete this pitch…").click()
    confirm.get_by_role("button", name="Delete permanently").click()
    expect(page).to_have_url(re.compile(r"/creator/pitches$"))
    expect(page.get_by_text("You have no pitches yet.")).to_be_visible()
    assert ctx.request.get(f"{live_server.url}/api/pitches/{pitch['id']}").status == 404


# --------------------------------------------------------------------------------------------
# One pitch's analytics, live: a viewer arrives, is counted and seen, then leaves
# --------------------------------------------------------------------------------------------


def test_pitch_analytics_live(
    new_context, live_server, api_register, api_create_published_pitch, axe_check, shot, shot_phone
):
    creator = new_context()
    api_register(creator, "creator", name="Ana Lytics")
    pitch = api_create_published_pitch(creator, title=f"Cold Light {uuid.uuid4().hex[:6]}")
    page = creator.new_page()
    page.goto("/creator/pitches")
    row = page.get_by_role("row").filter(has=page.get_by_role("link", name=pitch["title"], exact=True))
    row.get_by_role("link", name=f"Analytics of {pitch['title']}").click()
    expect(page).to_have_url(re.compile(rf"/creator/pitches/{pitch['id']}/analytics$"))
    expect(page.get_by_role("heading", level=1, name=f"Analytics: {pitch['title']}")).to_be_visible()
    now = page.get_by_role("region", name="All time and right now")
    expect(now).to_contain_text("0Views, all time")
    expect(now).to_contain_text("0people viewing now")
    period = page.get_by_role("region", name="In the last 30 days")
    expect(period).to_contain_text("0Unique viewers")
    page.get_by_label("Range").select_option("7d")
    expect(page).to_have_url(re.compile(r"/analytics\?range=7d$"))
    period = page.get_by_role("region", name="In the last 7 days")
    expect(period.get_by_role("img", name=re.compile("0 views and 0 likes in all"))).to_be_visible()
    _mark(page)

    # An investor opens the public page in another browser: counted, seen, then gone.
    investor = new_context()
    api_register(investor, "investor", name="Vic Viewer")
    visitor = investor.new_page()
    visitor.goto(f"/pitches/{pitch['id']}")
    expect(visitor.get_by_role("heading", level=1, name=pitch["title"])).to_be_visible()
    expect(now).to_contain_text("1Views, all time")
    expect(now).to_contain_text("1person viewing now")
    expect(period).to_contain_text("1Unique viewers")
    expect(period.get_by_role("img", name=re.compile("1 view and 0 likes in all"))).to_be_visible()
    _data(investor.request.post(f"{live_server.url}/api/pitches/{pitch['id']}/like"))
    expect(now).to_contain_text("1Likes, all time")
    expect(period.get_by_role("img", name=re.compile("1 view and 1 like in all"))).to_be_visible()
    page.wait_for_load_state("networkidle")
    axe_check(page, "pitch analytics (a viewer present)")
    shot(page, "journey-creator-pitch-analytics")
    shot_phone(page, "journey-creator-pitch-analytics")
    visitor.close()
    expect(now).to_contain_text("0people viewing now")
    _not_reloaded(page)
