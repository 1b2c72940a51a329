"""The investor's paginated history and a creator's pitch analytics, in a real browser against a
real `pitchey serve`.

History: linked from the portfolio, 20 a page, the page kept in the URL (a reload keeps it), one
API request per page load, a page past the server's limit refused in words with its request id,
all at phone size. Analytics: linked from My pitches, views/likes/unique viewers over a range kept
in the URL, the change against the range before in words, and the "viewing now" figure following a
second person arriving on and leaving the pitch page (two browser contexts).
"""

from __future__ import annotations

import re
from collections import Counter
from typing import Any

from playwright.sync_api import expect

LIVE = 10_000  # ms


def _api_counter(page: Any) -> Counter[str]:
    seen: Counter[str] = Counter()

    def on_request(req: Any) -> None:
        path = re.sub(r"^https?://[^/]+", "", req.url).split("?")[0]
        if path.startswith("/api/"):
            seen[f"{req.method} {path}"] += 1

    page.on("request", on_request)
    return seen


def _invest(ctx: Any, base: str, pitch_id: int, amount: str) -> None:
    resp = ctx.request.post(f"{base}/api/investments/create", data={"pitchId": pitch_id, "amount": amount})
    assert resp.status == 201, resp.text()


def test_investment_history_pages_at_phone_size(
    new_context, live_server, api_register, api_create_published_pitch, axe_check, shot, shot_phone
):
    creator = new_context()
    api_register(creator, "creator")
    pitch = api_create_published_pitch(creator, title="Harbour Lights history")
    ctx = new_context(phone=True)
    api_register(ctx, "investor", name="Hal History")
    for n in range(1, 24):  # 23 investments: 20 on page 1, 3 on page 2
        _invest(ctx, live_server.url, pitch["id"], f"{n}.{n:02d}")

    page = ctx.new_page()
    page.goto("/investor/portfolio")
    page.get_by_role("link", name="Investment history").click()
    expect(page).to_have_url(re.compile(r"/investor/history$"))
    # Count from a settled page: the click's own request may still be in flight otherwise.
    page.wait_for_load_state("networkidle")
    calls = _api_counter(page)
    page.reload()
    rows = page.get_by_test_id("history-row")
    expect(rows).to_have_count(20)
    expect(page.get_by_test_id("history-count")).to_have_text("23 investments in all")
    expect(rows.first).to_contain_text("$23.23")  # newest first
    expect(rows.first).to_contain_text("Harbour Lights history")
    # The job worker of the live server settles investments within moments.
    expect(rows.first).to_contain_text(re.compile("Pending|Completed"))
    page.wait_for_load_state("networkidle")
    assert calls["GET /api/investments/history"] == 1, calls
    assert not any("/api/pitches/" in c for c in calls), f"a request per row: {calls}"
    pager = page.get_by_role("navigation", name="History pages")
    expect(pager).to_contain_text("Page 1 of 2")
    expect(pager.get_by_role("button", name="Previous page")).to_be_disabled()
    axe_check(page, "investment history (page 1, phone)")
    shot(page, "history-page1-phone")

    pager.get_by_role("button", name="Next page").click()
    expect(page).to_have_url(re.compile(r"/investor/history\?page=2$"))
    expect(rows).to_have_count(3)
    expect(rows.first).to_contain_text("$3.03")
    expect(rows.last).to_contain_text("$1.01")
    expect(pager).to_contain_text("Page 2 of 2")
    expect(pager.get_by_role("button", name="Next page")).to_be_disabled()
    page.reload()  # the URL keeps the page
    expect(rows).to_have_count(3)
    expect(rows.last).to_contain_text("$1.01")
    page.get_by_role("navigation", name="History pages").get_by_role("button", name="Previous page").click()
    expect(page).to_have_url(re.compile(r"/investor/history$"))
    expect(rows).to_have_count(20)
    page.set_viewport_size({"width": 1280, "height": 800})
    shot(page, "history-page1")

    # Refused by the server: words and the request id to quote.
    with page.expect_response(lambda r: "/api/investments/history" in r.url) as answer:
        page.goto("/investor/history?page=100001")
    assert answer.value.status == 422
    rid = answer.value.headers["x-request-id"]
    alert = page.get_by_role("alert")
    expect(alert).to_contain_text("page")
    expect(page.get_by_test_id("request-id")).to_contain_text(rid)
    axe_check(page, "investment history (refused)")
    shot(page, "history-refused")
    page.get_by_role("link", name="Go to the first page").click()
    expect(rows).to_have_count(20)

    # Someone with no investments gets words and a way on, not an empty table.
    other = new_context()
    api_register(other, "investor")
    empty = other.new_page()
    empty.goto("/investor/history")
    expect(empty.get_by_text("You have not invested yet.")).to_be_visible()
    expect(empty.get_by_role("link", name="Browse pitches")).to_be_visible()


def test_pitch_analytics_range_change_and_viewers_now(
    new_context, live_server, api_register, api_create_published_pitch, axe_check, shot, shot_phone
):
    creator = new_context()
    api_register(creator, "creator", name="Ana Analytics")
    pitch = api_create_published_pitch(creator, title="Tidewater analytics")
    # Two investors look at it today; one likes it.
    for liker in (True, False):
        viewer = new_context()
        api_register(viewer, "investor")
        resp = viewer.request.get(f"{live_server.url}/api/pitches/{pitch['id']}")
        assert resp.ok, resp.text()
        if liker:
            assert viewer.request.post(f"{live_server.url}/api/pitches/{pitch['id']}/like").ok

    page = creator.new_page()
    page.goto("/creator/pitches")
    calls = _api_counter(page)
    page.get_by_role("link", name=f"Analytics of {pitch['title']}").click()
    expect(page).to_have_url(re.compile(rf"/creator/pitches/{pitch['id']}/analytics$"))
    expect(page.get_by_role("heading", level=1)).to_have_text(f"Analytics: {pitch['title']}")
    section = page.get_by_role("region", name="In the last 30 days")
    expect(section.get_by_text("Unique viewers")).to_be_visible()
    expect(section).to_contain_text("2 views, up from none the 30 days before.")
    expect(section).to_contain_text("1 like, up from none the 30 days before.")
    expect(section.locator("figcaption")).to_contain_text("2 views and 1 like in all")
    page.wait_for_load_state("networkidle")
    # The range and the longer one the comparison reads: never a request per day or per row.
    analytics_calls = {c: n for c, n in calls.items() if "/api/analytics/" in c}
    assert analytics_calls == {f"GET /api/analytics/pitch/{pitch['id']}": 2}, calls
    axe_check(page, "pitch analytics (30 days)")

    # The range changes; the URL keeps it; the comparison follows it.
    page.get_by_label("Range").select_option("7d")
    expect(page).to_have_url(re.compile(r"range=7d"))
    section = page.get_by_role("region", name="In the last 7 days")
    expect(section).to_contain_text("2 views, up from none the 7 days before.")
    page.reload()
    expect(page.get_by_label("Range")).to_have_value("7d")
    expect(page.get_by_role("region", name="In the last 7 days")).to_be_visible()

    # Viewing now: a second person opens the pitch page, then leaves it.
    card = page.get_by_test_id("viewers-now")
    now = card.locator("span").first
    expect(card).to_contain_text("people viewing now")
    expect(now).to_have_text("0", timeout=LIVE)
    visitor_ctx = new_context()
    api_register(visitor_ctx, "production", name="Vic Visitor", companyName="Vic Films")
    visitor = visitor_ctx.new_page()
    visitor.goto(f"/pitches/{pitch['id']}")
    expect(visitor.get_by_role("heading", level=1)).to_have_text(pitch["title"])
    expect(now).to_have_text("1", timeout=LIVE)
    expect(card).to_contain_text("person viewing now")
    # The visitor's view lands in the range's figures live, without a reload.
    expect(page.get_by_role("region", name="In the last 7 days").locator("figcaption")).to_contain_text(
        "3 views", timeout=LIVE
    )
    expect(page.get_by_test_id("range-change")).to_contain_text("3 views, up from none the 7 days before.")
    page.wait_for_load_state("networkidle")
    axe_check(page, "pitch analytics (someone viewing)")
    shot(page, "pitch-analytics")
    shot_phone(page, "pitch-analytics")
    visitor.close()
    expect(now).to_have_text("0", timeout=LIVE)

    # 90 days: nothing longer to compare with, said so; the table view holds the numbers.
    page.get_by_label("Range").select_option("90d")
    expect(page.get_by_test_id("range-change")).to_contain_text("No comparison for this range")
    page.get_by_text("Show the numbers as a table").click()
    table = page.get_by_role("table", name="Views and likes per day")
    expect(table.locator("tbody tr")).to_have_count(90)
    expect(table.locator("tbody tr").last.locator("td").first).to_have_text("3")


def test_a_page_that_cannot_load_says_so_in_words(new_context, api_register, axe_check):
    """The route error boundary: a page's code that cannot be fetched (a deploy replaced it, or the
    network dropped) gives words and a way on, not a blank screen."""
    ctx = new_context(allow_page_errors=True)
    api_register(ctx, "investor")
    page = ctx.new_page()
    page.route(re.compile(r"/assets/History-[^/]*\.js$"), lambda route: route.abort("connectionreset"))
    page.goto("/investor/history")
    expect(page.get_by_role("heading", level=1)).to_have_text("Something went wrong")
    expect(page.get_by_role("alert")).to_contain_text("a newer version of Pitchey may be out")
    expect(page.get_by_role("button", name="Reload the page")).to_be_visible()
    expect(page.get_by_role("link", name="Go to the home page")).to_be_visible()
    axe_check(page, "route error")


def test_production_following_pages_with_one_request_each(
    new_context, live_server, api_register, api_create_published_pitch, axe_check, shot_phone
):
    """/production/following at phone size: 20 a page, the page in the URL, one API request per
    page load whatever the number of rows; a page past the server's limit refused in words."""
    creator = new_context()
    cleo = api_register(creator, "creator", name="Cleo Prolific")
    ctx = new_context(phone=True)
    api_register(ctx, "production", name="Fay Follower", companyName="Fay Films")
    resp = ctx.request.post(f"{live_server.url}/api/follows", data={"userId": cleo["id"]})
    assert resp.status == 201, resp.text()
    for n in range(1, 23):  # 22 published pitches: 20 on page 1, 2 on page 2
        api_create_published_pitch(creator, title=f"Prolific {n:02d} {cleo['id']}")

    page = ctx.new_page()
    calls = _api_counter(page)
    page.goto("/production/following")
    items = page.get_by_role("list", name="Published pitches").get_by_role("listitem")
    expect(items).to_have_count(20)
    expect(items.first).to_contain_text(f"Prolific 22 {cleo['id']}")  # newest first
    expect(items.first).to_contain_text("Cleo Prolific published it")
    page.wait_for_load_state("networkidle")
    assert calls["GET /api/production/following"] == 1, calls
    assert not any(c.startswith("GET /api/pitches/") for c in calls), f"a request per row: {calls}"
    axe_check(page, "production following (phone)")
    shot_phone(page, "production-following")

    page.get_by_role("navigation", name="Activity pages").get_by_role("button", name="Next").click()
    expect(page).to_have_url(re.compile(r"/production/following\?page=2$"))
    expect(items).to_have_count(2)
    expect(items.last).to_contain_text(f"Prolific 01 {cleo['id']}")
    assert calls["GET /api/production/following"] == 2, calls

    with page.expect_response(lambda r: "/api/production/following" in r.url) as answer:
        page.goto("/production/following?page=100001")
    assert answer.value.status == 422
    expect(page.get_by_role("alert")).to_contain_text("page")
    expect(page.get_by_test_id("request-id")).to_contain_text(answer.value.headers["x-request-id"])
