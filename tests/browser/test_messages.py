"""Messages in a real browser: two people, two browser contexts, one live conversation.

An investor (on a phone) opens a creator's pitch and uses "Message the creator"; an empty message
is refused by the page and one of 4,001 characters by the API (its words at the field, nothing
typed lost); the message is sent about the pitch. The creator's thread list (desktop) shows the
unread count and it grows live when another message arrives; opening the conversation reads them;
replies then appear in the other person's open conversation without a reload, both ways. A long
conversation loads older messages on demand; an unknown person is refused in words; page loads
make no request per row.
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


def test_messages_live_between_two_people(
    new_context, live_server, api_register, api_create_published_pitch, axe_check, shot, shot_phone
):
    creator_ctx = new_context()
    creator = api_register(creator_ctx, "creator", name="Cora Creator")
    pitch = api_create_published_pitch(creator_ctx)
    investor_ctx = new_context(phone=True)
    investor = api_register(investor_ctx, "investor", name="Ivan Investor")

    # The investor, on a phone, writes to the creator from the pitch page.
    inv = investor_ctx.new_page()
    inv_frames = track_live(inv)
    inv.goto(f"/pitches/{pitch['id']}")
    inv.get_by_role("link", name="Message the creator").click()
    expect(inv).to_have_url(re.compile(rf"/messages/{creator['id']}\?pitch={pitch['id']}$"))
    expect(inv.get_by_role("heading", name="Conversation with Cora Creator")).to_be_visible()
    form = inv.get_by_role("form", name="Write to Cora Creator")
    expect(form).to_contain_text(f"About {pitch['title']}")
    log = inv.get_by_role("log", name="Messages with Cora Creator")
    expect(log).to_contain_text("No messages yet")
    wait_user_room(inv, inv_frames)

    box = inv.get_by_label("Message to Cora Creator")
    send = inv.get_by_role("button", name="Send", exact=True)
    # Nothing written: the page says so and sends nothing.
    send.click()
    expect(inv.get_by_text("Write a message first.")).to_be_visible()
    expect(box).to_have_attribute("aria-invalid", "true")
    # Too long: the API refuses it, its words land at the field, the text stays.
    too_long = "x" * 4001
    with inv.expect_response(lambda r: r.url.endswith("/api/messages/send")) as sent:
        box.fill(too_long)
        send.click()
    assert sent.value.status == 422
    expect(inv.locator(f"#{box.get_attribute('id')}-error")).to_contain_text("4000")
    expect(box).to_have_value(too_long)
    expect(form).to_contain_text("4,001 of 4,000 characters")

    first = "Hello Cora, I loved the logline. Is the budget flexible?"
    box.fill(first)
    send.click()
    expect(log.get_by_role("listitem").filter(has_text=first)).to_be_visible()
    expect(box).to_have_value("")
    stored = data(creator_ctx.request.get(f"{live_server.url}/api/messages"))
    assert stored[0]["counterpart"]["id"] == investor["id"]
    assert stored[0]["lastMessage"]["pitchId"] == pitch["id"]  # sent about the pitch
    assert stored[0]["unreadCount"] == 1

    # The creator (desktop) sees the thread with its unread count.
    cre = creator_ctx.new_page()
    cre_frames = track_live(cre)
    cre.goto("/messages")
    wait_user_room(cre, cre_frames)
    thread = cre.get_by_role("link", name=re.compile("Ivan Investor"))
    expect(thread).to_contain_text("1 unread")
    expect(cre.get_by_test_id("unread-total")).to_have_text("1 unread")
    expect(cre.get_by_text("Choose a conversation")).to_be_visible()
    axe_check(cre, "messages (thread list)")
    _mark(cre)

    # Another message arrives while the list is open: the count grows without a reload.
    second = "Also: would you consider a co-production?"
    inv.get_by_label("Message to Cora Creator").fill(second)
    inv.get_by_role("button", name="Send", exact=True).click()
    expect(log.get_by_role("listitem").filter(has_text=second)).to_be_visible()
    expect(thread).to_contain_text("2 unread", timeout=LIVE)
    expect(cre.get_by_test_id("unread-total")).to_have_text("2 unread")
    expect(thread).to_contain_text(second)
    shot(cre, "messages-threads-unread")

    # Opening the conversation reads both; the counts go away.
    thread.click()
    expect(cre).to_have_url(re.compile(rf"/messages/{investor['id']}$"))
    cre_log = cre.get_by_role("log", name="Messages with Ivan Investor")
    expect(cre_log).to_contain_text(first)
    expect(cre_log).to_contain_text(second)
    expect(cre_log).to_contain_text(pitch["title"])  # "About <pitch>" on the message
    expect(thread).not_to_contain_text("unread", timeout=LIVE)
    expect(cre.get_by_test_id("unread-total")).to_have_text("All read")
    _not_reloaded(cre)

    # A reply appears in the investor's open conversation, live.
    _mark(inv)
    reply = "Thanks Ivan! Yes, within reason. Let's talk."
    cre.get_by_label("Message to Ivan Investor").fill(reply)
    cre.get_by_label("Message to Ivan Investor").press("Control+Enter")  # sent from the keyboard
    expect(cre_log.get_by_role("listitem").filter(has_text=reply)).to_be_visible()
    expect(log.get_by_role("listitem").filter(has_text=reply)).to_be_visible(timeout=LIVE)
    _not_reloaded(inv)

    # And the other way: the creator's open conversation receives the next one live, read at once.
    third = "Great, I'll send our terms tomorrow."
    inv.get_by_label("Message to Cora Creator").fill(third)
    inv.get_by_role("button", name="Send", exact=True).press("Enter")
    expect(cre_log.get_by_role("listitem").filter(has_text=third)).to_be_visible(timeout=LIVE)
    expect(thread).to_contain_text(third, timeout=LIVE)
    expect(thread).not_to_contain_text("unread")
    # Marked read on the server too, since the conversation was open and shown.
    for _ in range(100):
        threads = data(creator_ctx.request.get(f"{live_server.url}/api/messages"))
        if threads[0]["unreadCount"] == 0:
            break
        cre.wait_for_timeout(100)
    assert threads[0]["unreadCount"] == 0, threads[0]
    # Its "new message" notification is read as well: the bell does not count what was just seen.
    for _ in range(100):
        notes = data(creator_ctx.request.get(f"{live_server.url}/api/notifications"))
        note = next((n for n in notes if n["body"] == third), None)
        if note is not None and note["readAt"] is not None:
            break
        cre.wait_for_timeout(100)
    assert note is not None and note["readAt"] is not None, notes
    expect(cre.get_by_role("button", name="Notifications, 2 unread")).to_be_visible()
    _not_reloaded(cre)

    cre.wait_for_load_state("networkidle")
    axe_check(cre, "messages (conversation)")
    inv.wait_for_load_state("networkidle")
    axe_check(inv, "messages (conversation, phone)")
    shot(cre, "messages-conversation")
    shot(inv, "messages-conversation-phone-view")

    # On a phone the list and the conversation are one at a time, with a way back.
    inv.get_by_role("link", name="← All conversations").click()
    expect(inv).to_have_url(re.compile(r"/messages$"))
    inv_thread = inv.get_by_role("link", name=re.compile("Cora Creator"))
    expect(inv_thread).to_contain_text(third)
    expect(inv.get_by_role("log")).to_have_count(0)
    axe_check(inv, "messages (thread list, phone)")
    shot(inv, "messages-threads-phone-view")

    # A reload of the open conversation: one request per thing shown, none per message or thread.
    api = ApiLog(cre)
    cre.reload()
    expect(cre.get_by_role("log", name="Messages with Ivan Investor")).to_contain_text(third)
    cre.wait_for_load_state("networkidle")
    api.assert_no_repeats("conversation page load")
    paths = api.paths()
    assert paths[f"GET /api/messages/{investor['id']}"] == 1, api.calls
    assert paths["GET /api/messages"] == 1, api.calls
    assert not [c for c in api.calls if c.endswith("/read")], api.calls
    assert len(api.calls) <= 5, api.calls


def test_long_conversation_and_refusals(new_context, live_server, api_register, axe_check, shot):
    reader_ctx = new_context()
    reader = api_register(reader_ctx, "production", companyName="Northlight Films")
    writer_ctx = new_context()
    writer = api_register(writer_ctx, "creator", name="Wren Writer")
    for i in range(1, 36):
        data(
            writer_ctx.request.post(
                f"{live_server.url}/api/messages/send",
                data={"recipientId": reader["id"], "content": f"Numbered message {i:02d}"},
            ),
            201,
        )

    page = reader_ctx.new_page()
    api = ApiLog(page)
    page.goto(f"/messages/{writer['id']}")
    log = page.get_by_role("log", name="Messages with Wren Writer")
    items = log.get_by_role("listitem")
    # The newest 30 first; the oldest on demand.
    expect(items).to_have_count(30)
    expect(log).to_contain_text("Numbered message 35")
    expect(log).not_to_contain_text("Numbered message 05")
    page.wait_for_load_state("networkidle")
    assert api.paths()[f"GET /api/messages/{writer['id']}"] == 1, api.calls
    # Reading the conversation (a GET) marks nothing; the page, once it shows the messages, marks
    # them read with one POST for the conversation (up to the newest shown), none per message.
    read = f"POST /api/messages/conversations/{writer['id']}/read"
    assert api.paths()[read] == 1, api.calls
    assert not [c for c in api.calls if re.fullmatch(r"POST /api/messages/\d+/read", c)], api.calls
    page.get_by_role("button", name="Load older messages").click()
    expect(items).to_have_count(35)
    expect(items.first).to_contain_text("Numbered message 01")
    expect(page.get_by_role("button", name="Load older messages")).to_have_count(0)
    assert len([c for c in api.calls if c.startswith(f"GET /api/messages/{writer['id']}")]) == 2, api.calls
    # Read by opening: the list shows no unread messages.
    expect(page.get_by_role("link", name=re.compile("Wren Writer"))).not_to_contain_text("unread")
    axe_check(page, "messages (long conversation)")
    shot(page, "messages-long-conversation")

    # A person who does not exist: the API's words, and no composer.
    page.goto("/messages/987654321")
    expect(page.get_by_role("alert")).to_contain_text("User not found")
    expect(page.get_by_role("button", name="Send")).to_have_count(0)
    expect(page.get_by_role("link", name="All conversations").first).to_be_visible()
    axe_check(page, "messages (unknown person)")
    shot(page, "messages-unknown-person")

    # A person with no conversations yet sees the empty state.
    fresh_ctx = new_context()
    api_register(fresh_ctx, "investor")
    fresh = fresh_ctx.new_page()
    fresh.goto("/messages")
    expect(fresh.get_by_text("No conversations yet.")).to_be_visible()
    axe_check(fresh, "messages (empty)")
