"""/notifications in a real browser: a creator's notifications arrive live while the page is open
(an investor follows, writes and asks for an NDA in another browser context), the unread filter,
mark one and mark all read (a failed mark-all is shown in words and nothing is lost), and a click
goes to what a notification is about. The page load makes no request per notification.
"""

from __future__ import annotations

import re
from typing import Any

from playwright.sync_api import expect

from .page_helpers import LIVE, ApiLog, data, track_live, wait_user_room


def _mark(page: Any) -> None:
    page.evaluate("() => { window.__noReload = true; }")


def _not_reloaded(page: Any) -> None:
    assert page.evaluate("() => window.__noReload === true"), "the page was reloaded"


def test_notifications_live_filter_and_mark_read(
    new_context, live_server, api_register, api_create_published_pitch, axe_check, shot, shot_phone
):
    creator_ctx = new_context()
    creator = api_register(creator_ctx, "creator", name="Nina Notified")
    pitch = api_create_published_pitch(creator_ctx, requireNda=True)
    investor_ctx = new_context()
    investor = api_register(investor_ctx, "investor", name="Otto Investor")
    base = live_server.url

    page = creator_ctx.new_page()
    frames = track_live(page)
    api = ApiLog(page)
    page.goto("/notifications")
    expect(page.get_by_role("heading", level=1, name="Notifications")).to_be_visible()
    expect(page.get_by_text("No notifications yet.")).to_be_visible()
    expect(page.get_by_role("button", name="Mark all read")).to_be_disabled()
    wait_user_room(page, frames)
    page.wait_for_load_state("networkidle")
    api.assert_no_repeats("notifications page load (empty)")
    axe_check(page, "notifications (empty)")
    _mark(page)

    # Three things happen elsewhere; each notification appears without a reload.
    data(investor_ctx.request.post(f"{base}/api/follows", data={"userId": creator["id"]}), 201)
    items = page.get_by_role("list", name="Notifications").get_by_role("listitem")
    expect(items).to_have_count(1, timeout=LIVE)
    expect(items.first).to_contain_text("Otto Investor started following you")
    data(
        investor_ctx.request.post(
            f"{base}/api/messages/send",
            data={"recipientId": creator["id"], "content": "Hi Nina, quick question."},
        ),
        201,
    )
    expect(items).to_have_count(2, timeout=LIVE)
    expect(items.first).to_contain_text("New message from Otto Investor")
    expect(items.first).to_contain_text("Hi Nina, quick question.")
    data(investor_ctx.request.post(f"{base}/api/ndas/request", data={"pitchId": pitch["id"]}), 201)
    expect(items).to_have_count(3, timeout=LIVE)
    expect(page.get_by_test_id("unread-summary")).to_have_text("3 unread")
    _not_reloaded(page)
    # The bell agrees with the page.
    expect(page.get_by_role("button", name="Notifications, 3 unread")).to_be_visible()
    axe_check(page, "notifications (three unread)")
    shot(page, "notifications-live")

    # Mark one read: it stays in "All", without its New badge; the count drops everywhere.
    follow_note = items.filter(has_text="started following you")
    follow_note.get_by_role("button", name=re.compile("^Mark read")).click()
    expect(follow_note.get_by_role("button", name=re.compile("^Mark read"))).to_have_count(0)
    expect(page.get_by_test_id("unread-summary")).to_have_text("2 unread")
    expect(page.get_by_role("button", name="Notifications, 2 unread")).to_be_visible()

    # The unread filter, kept in the URL.
    page.get_by_role("link", name="Unread", exact=True).click()
    expect(page).to_have_url(re.compile(r"/notifications\?filter=unread$"))
    unread = page.get_by_role("list", name="Unread notifications").get_by_role("listitem")
    expect(unread).to_have_count(2)
    expect(page.get_by_role("list", name="Unread notifications")).not_to_contain_text("started following you")

    # Mark all read fails on the way (the network drops): said in words, the items still unread.
    page.route("**/api/notifications/read-all", lambda route: route.abort())
    page.get_by_role("button", name="Mark all read").click()
    expect(page.get_by_role("alert")).to_contain_text("Cannot reach Pitchey")
    expect(unread).to_have_count(2)
    expect(page.get_by_test_id("unread-summary")).to_have_text("2 unread")
    shot(page, "notifications-mark-all-failed")
    page.unroute("**/api/notifications/read-all")

    # Then it works.
    page.get_by_role("button", name="Mark all read").click()
    expect(page.get_by_role("status").filter(has_text="Marked 2 notifications read.")).to_be_visible()
    expect(page.get_by_text("Nothing unread: you are all caught up.")).to_be_visible()
    expect(page.get_by_test_id("unread-summary")).to_have_text("Nothing unread.")
    expect(page.get_by_role("button", name="Notifications, none unread")).to_be_visible()
    stored = investor_ctx.request.get(f"{base}/api/notifications")  # the investor's own: untouched
    assert stored.ok
    mine = creator_ctx.request.get(f"{base}/api/notifications?unreadOnly=true").json()
    assert mine["data"] == [] and mine["meta"]["unreadCount"] == 0, mine

    # A new one arrives live in the unread view too.
    data(
        investor_ctx.request.post(
            f"{base}/api/messages/send", data={"recipientId": creator["id"], "content": "One more thing."}
        ),
        201,
    )
    expect(unread).to_have_count(1, timeout=LIVE)
    expect(unread.first).to_contain_text("One more thing.")
    _not_reloaded(page)
    axe_check(page, "notifications (unread filter)")

    # A click goes to what it is about: the message opens its conversation (and is read).
    unread.first.get_by_role("link").click()
    expect(page).to_have_url(re.compile(rf"/messages/{investor['id']}$"))
    expect(page.get_by_role("log", name="Messages with Otto Investor")).to_contain_text("One more thing.")

    # The NDA request leads the creator to the NDA inbox.
    page.goto("/notifications")
    page.get_by_role("link", name=re.compile("requested an NDA for")).click()
    expect(page).to_have_url(re.compile(r"/creator/ndas$"))

    # A page load asks once for the list (and once for the bell), never per notification.
    api.reset()
    page.goto("/notifications")
    expect(page.get_by_role("list", name="Notifications").get_by_role("listitem")).to_have_count(4)
    page.wait_for_load_state("networkidle")
    api.assert_no_repeats("notifications page load")
    assert api.paths()["GET /api/notifications"] == 2, api.calls  # the page and the bell
    assert not [c for c in api.calls if "/read" in c], api.calls
    shot(page, "notifications-all-read")
    shot_phone(page, "notifications-all-read")


def test_notifications_phone(new_context, live_server, api_register, axe_check, shot):
    ctx = new_context(phone=True)
    user = api_register(ctx, "production", companyName="Harbour Pictures")
    other = new_context()
    follower = api_register(other, "creator", name="Pia Pitcher")
    data(other.request.post(f"{live_server.url}/api/follows", data={"userId": user["id"]}), 201)

    page = ctx.new_page()
    page.goto("/notifications")
    items = page.get_by_role("list", name="Notifications").get_by_role("listitem")
    expect(items).to_have_count(1)
    expect(items.first).to_contain_text("Pia Pitcher started following you")
    # Nothing sticks out of a phone's width.
    width = page.evaluate("() => document.documentElement.scrollWidth")
    assert width <= 390, f"the page is {width}px wide on a 390px phone"
    axe_check(page, "notifications (phone)")
    shot(page, "notifications-phone-view")
    items.first.get_by_role("link").click()
    # A new follower leads to the follower's public profile.
    expect(page).to_have_url(re.compile(rf"/users/{follower['id']}$"))
    expect(page.get_by_role("heading", name="Pia Pitcher", level=1)).to_be_visible()
