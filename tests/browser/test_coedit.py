"""Live co-editing in a real browser (issue 12, the web side): "Write together" on a pitch's
documents over /ws/docs with the stock y-websocket provider and TipTap.

The owner invites an editor and a viewer from the collaborators panel; the editor follows the
notification to /collaborations and accepts; owner and editor type into the same synopsis and each
sees the other's text and named caret; both reach "All changes saved"; a reload keeps the text; the
viewer reads but cannot type; a stranger is refused in words; an editor removed while the document
is open is told so. Three writers typing into one paragraph at once converge, and a tab that loses
the network keeps editing and merges when it is back. Desktop and phone sizes (the first two),
axe-core, screenshots."""

from __future__ import annotations

import re
import time
from typing import Any

import pytest
from playwright.sync_api import expect

from .page_helpers import track_live, wait_user_room

LIVE = 15_000  # ms: how long a remote edit, a caret or a save may take to show


def editor(page: Any) -> Any:
    return page.get_by_test_id("doc-editor")


def doc_text(page: Any) -> str:
    """The document's text as stored: the editor's text without the other people's caret labels
    (decorations of this screen only)."""
    text: str = editor(page).evaluate(
        """el => { const c = el.cloneNode(true);
                  c.querySelectorAll('.collaboration-carets__caret').forEach(x => x.remove());
                  return Array.from(c.children).map(b => b.textContent).join('\\n'); }"""
    )
    return text


def open_doc(page: Any, pitch_id: int, doc: str = "synopsis") -> None:
    page.goto(f"/pitches/{pitch_id}/documents/{doc}")
    expect(editor(page)).to_be_visible(timeout=LIVE)
    expect(page.get_by_test_id("doc-status")).to_have_attribute("data-status", "saved", timeout=LIVE)


def type_at_end(page: Any, text: str) -> None:
    editor(page).click()
    page.keyboard.press("Control+End")
    page.keyboard.type(text, delay=15)


def accept_by_api(ctx: Any, url: str, pitch_id: int) -> None:
    resp = ctx.request.post(f"{url}/api/pitches/{pitch_id}/collaborators/accept", data={})
    assert resp.status == 200, resp.text()


@pytest.mark.viewports
def test_owner_and_editor_write_together(
    new_context, live_server, api_register, api_create_published_pitch, axe_check, shot
):
    owner_ctx, editor_ctx = new_context(), new_context()
    viewer_ctx, stranger_ctx = new_context(), new_context()
    api_register(owner_ctx, "creator", name="Olive Owner")
    ed = api_register(editor_ctx, "investor", name="Eddie Editor")
    vi = api_register(viewer_ctx, "production", name="Vera Viewer", companyName="Vera Films")
    api_register(stranger_ctx, "creator", name="Stan Stranger")
    pitch = api_create_published_pitch(owner_ctx, synopsis="Act one begins at dawn.")
    pid, title = pitch["id"], pitch["title"]

    # The owner opens the documents (the synopsis starts with the pitch's synopsis) and invites
    # an editor and a viewer by email from the collaborators panel.
    owner = owner_ctx.new_page()
    open_doc(owner, pid)
    expect(editor(owner)).to_contain_text("Act one begins at dawn.")
    panel = owner.get_by_role("region", name="Collaborators")
    panel.get_by_label("Email of the person to invite").fill(ed["email"])
    panel.get_by_label("Role", exact=True).select_option("editor")
    panel.get_by_role("button", name="Send invitation").click()
    expect(panel.get_by_text("Invited Eddie Editor as editor.")).to_be_visible()
    panel.get_by_label("Email of the person to invite").fill(vi["email"])
    panel.get_by_label("Role", exact=True).select_option("viewer")
    panel.get_by_role("button", name="Send invitation").click()
    expect(panel.get_by_text(re.compile(r"Invited .* as viewer\."))).to_be_visible()
    expect(panel.get_by_test_id("collaborator")).to_have_count(2)
    # A refusal in words, with what was typed kept.
    panel.get_by_label("Email of the person to invite").fill("nobody-here@example.com")
    panel.get_by_role("button", name="Send invitation").click()
    expect(panel.get_by_role("alert")).to_be_visible()
    expect(panel.get_by_label("Email of the person to invite")).to_have_value("nobody-here@example.com")

    # The editor follows the notification to /collaborations, accepts, and opens the document.
    writer = editor_ctx.new_page()
    writer.goto("/notifications")
    writer.get_by_role("link", name=re.compile(f"You are invited to edit .{re.escape(title)}")).click()
    expect(writer).to_have_url(re.compile("/collaborations$"))
    invitation = writer.get_by_test_id("invitation")
    expect(invitation).to_contain_text(title)
    expect(invitation).to_contain_text("as editor")
    axe_check(writer, "Collaborations with an invitation")
    shot(writer, "coedit-invitation")
    writer.get_by_role("button", name=f"Accept the invitation to {title}").click()
    mine = writer.get_by_role("list", name="Pitches I collaborate on")
    expect(mine).to_contain_text(title)
    mine.get_by_role("link", name=f"Write the documents of {title}").click()
    expect(editor(writer)).to_be_visible(timeout=LIVE)
    expect(writer.get_by_test_id("doc-status")).to_have_attribute("data-status", "saved", timeout=LIVE)
    expect(editor(writer)).to_contain_text("Act one begins at dawn.")

    # Both type; each sees the other's words and named caret.
    type_at_end(owner, " The owner adds a storm.")
    expect(editor(writer)).to_contain_text("The owner adds a storm.", timeout=LIVE)
    type_at_end(writer, " The editor adds a ferry.")
    expect(editor(owner)).to_contain_text("The editor adds a ferry.", timeout=LIVE)
    expect(owner.locator(".collaboration-carets__label", has_text="Eddie Editor")).to_be_visible(timeout=LIVE)
    expect(writer.locator(".collaboration-carets__label", has_text="Olive Owner")).to_be_visible(timeout=LIVE)
    expect(owner.get_by_role("list", name="People in this document")).to_contain_text("Eddie Editor")
    for p in (owner, writer):
        expect(p.get_by_test_id("doc-status")).to_have_text("All changes saved", timeout=LIVE)
    axe_check(owner, "Write together (owner)")
    shot(owner, "coedit-owner")
    shot(writer, "coedit-editor")

    # Another document is another text: the treatment starts empty.
    writer.get_by_role("navigation", name="Documents").get_by_role("link", name="Treatment").click()
    expect(writer.get_by_test_id("doc-status")).to_have_attribute("data-status", "saved", timeout=LIVE)
    expect(editor(writer)).not_to_contain_text("storm")
    type_at_end(writer, "Treatment draft.")
    expect(writer.get_by_test_id("doc-status")).to_have_text("All changes saved", timeout=LIVE)

    # A reload keeps every word (stored by the server, not held by the tab).
    owner.reload()
    expect(owner.get_by_test_id("doc-status")).to_have_attribute("data-status", "saved", timeout=LIVE)
    expect(editor(owner)).to_contain_text(
        "Act one begins at dawn. The owner adds a storm. The editor adds a ferry."
    )

    # The viewer reads, live, but cannot type.
    accept_by_api(viewer_ctx, live_server.url, pid)
    reader = viewer_ctx.new_page()
    open_doc(reader, pid)
    expect(editor(reader)).to_contain_text("The editor adds a ferry.")
    expect(editor(reader)).to_have_attribute("contenteditable", "false")
    expect(reader.get_by_text("You can read this document as it is written")).to_be_visible()
    expect(reader.get_by_role("toolbar")).to_have_count(0)
    editor(reader).click()
    reader.keyboard.type("VIEWER TYPED")
    type_at_end(owner, " Seen live by the viewer.")
    expect(editor(reader)).to_contain_text("Seen live by the viewer.", timeout=LIVE)
    expect(editor(reader)).not_to_contain_text("VIEWER TYPED")
    expect(editor(owner)).not_to_contain_text("VIEWER TYPED")
    expect(reader.get_by_test_id("doc-status")).to_contain_text("read only")
    shot(reader, "coedit-viewer")

    # A stranger is refused in words, and no document is shown.
    stranger = stranger_ctx.new_page()
    stranger.goto(f"/pitches/{pid}/documents/synopsis")
    expect(stranger.get_by_test_id("doc-refused")).to_have_text(
        re.compile("You do not have access to this document")
    )
    expect(editor(stranger)).to_have_count(0)
    axe_check(stranger, "Write together refused")
    shot(stranger, "coedit-refused")


@pytest.mark.viewports
def test_removed_editor_is_told_at_the_next_keystroke(
    new_context, live_server, api_register, api_create_published_pitch
):
    owner_ctx, editor_ctx = new_context(), new_context()
    api_register(owner_ctx, "creator", name="Rita Owner")
    ed = api_register(editor_ctx, "creator", name="Rex Editor")
    pitch = api_create_published_pitch(owner_ctx)
    pid = pitch["id"]

    # The invitation arrives live on an open /collaborations (no reload) and is accepted there.
    writer = editor_ctx.new_page()
    frames = track_live(writer)
    writer.goto("/collaborations")
    expect(writer.get_by_text("No invitation is waiting for an answer.")).to_be_visible()
    wait_user_room(writer, frames)
    resp = owner_ctx.request.post(
        f"{live_server.url}/api/pitches/{pid}/collaborators", data={"userId": ed["id"], "role": "editor"}
    )
    assert resp.status == 201, resp.text()
    writer.get_by_role("button", name=f"Accept the invitation to {pitch['title']}").click(timeout=LIVE)
    expect(writer.get_by_role("list", name="Pitches I collaborate on")).to_contain_text(pitch["title"])

    open_doc(writer, pid, "notes")
    type_at_end(writer, "Before removal.")
    expect(writer.get_by_test_id("doc-status")).to_have_text("All changes saved", timeout=LIVE)

    # The owner removes the editor from the panel (asked first).
    owner = owner_ctx.new_page()
    open_doc(owner, pid, "notes")
    row = owner.get_by_test_id("collaborator").filter(has_text="Rex Editor")
    row.get_by_role("button", name="Remove Rex Editor", exact=True).click()
    row.get_by_role("button", name="Remove Rex Editor now").click()
    expect(owner.get_by_test_id("collaborator")).to_have_count(0)

    # The editor's next change is refused and the page says why; nothing more is sent.
    type_at_end(writer, " After removal.")
    expect(writer.get_by_role("alert")).to_contain_text("no longer have access", timeout=LIVE)
    expect(writer.get_by_test_id("doc-status")).to_have_attribute("data-status", "closed")
    expect(editor(writer)).to_have_attribute("contenteditable", "false")
    owner.reload()
    expect(owner.get_by_test_id("doc-status")).to_have_attribute("data-status", "saved", timeout=LIVE)
    expect(editor(owner)).to_contain_text("Before removal.")
    expect(editor(owner)).not_to_contain_text("After removal.")


class DocLink:
    """Stands between a page and /ws/docs (Playwright's WebSocket routing): forwards every frame
    while up; `cut()` closes the page's sockets and refuses new ones until `restore()`, as a
    dropped network would, so the tab edits offline and merges on reconnect."""

    def __init__(self, page: Any) -> None:
        self.up = True
        self.open: list[tuple[Any, Any]] = []
        page.route_web_socket(re.compile(r"/ws/docs/"), self._route)

    def _route(self, ws: Any) -> None:
        if not self.up:
            ws.close(code=1001, reason="offline")
            return
        self.open.append((ws, ws.connect_to_server()))

    def cut(self) -> None:
        self.up = False
        for ws, server in self.open:
            server.close()
            ws.close(code=1001, reason="offline")
        self.open.clear()

    def restore(self) -> None:
        self.up = True

    def close_with(self, code: int, reason: str) -> None:
        """The server's close, as the page sees it: `code` and `reason` on the page's sockets."""
        for ws, server in self.open:
            server.close()
            ws.close(code=code, reason=reason)
        self.open.clear()


def test_three_writers_converge_and_offline_edits_merge(
    new_context, live_server, api_register, api_create_published_pitch
):
    """Desktop only: what it checks is the merge, not the layout."""
    owner_ctx, a_ctx, b_ctx = new_context(), new_context(), new_context()
    api_register(owner_ctx, "creator", name="Nora Owner")
    pitch = api_create_published_pitch(owner_ctx, synopsis="Start.")
    pid = pitch["id"]
    for ctx, name in ((a_ctx, "Abe Writer"), (b_ctx, "Bea Writer")):
        user = api_register(ctx, "creator", name=name)
        resp = owner_ctx.request.post(
            f"{live_server.url}/api/pitches/{pid}/collaborators",
            data={"userId": user["id"], "role": "editor"},
        )
        assert resp.status == 201, resp.text()
        accept_by_api(ctx, live_server.url, pid)
    owner, a, b = owner_ctx.new_page(), a_ctx.new_page(), b_ctx.new_page()
    link = DocLink(b)
    pages = [owner, a, b]
    for p in pages:
        open_doc(p, pid)
        editor(p).click()
        p.keyboard.press("Control+End")

    # Three people type into the same paragraph at once, a character each in turn.
    words = [" nora-one", " abe-two", " bea-three"]
    for i in range(max(len(w) for w in words)):
        for p, w in zip(pages, words, strict=True):
            if i < len(w):
                p.keyboard.type(w[i])
    for p in pages:
        expect(p.get_by_test_id("doc-status")).to_have_text("All changes saved", timeout=LIVE)
    for w in words:
        for p in pages:
            expect(editor(p)).to_contain_text(w.strip(), timeout=LIVE)
    texts = {doc_text(p) for p in pages}
    assert len(texts) == 1, texts

    # Bea loses the network, writes on; Nora writes meanwhile; Bea comes back and both merge.
    link.cut()
    expect(b.get_by_test_id("doc-status")).to_have_attribute("data-status", "offline", timeout=LIVE)
    type_at_end(b, " Written offline.")
    expect(b.get_by_test_id("doc-status")).to_contain_text("kept in this tab")
    type_at_end(owner, " Written meanwhile.")
    expect(editor(a)).to_contain_text("Written meanwhile.", timeout=LIVE)
    expect(editor(a)).not_to_contain_text("Written offline.")
    link.restore()
    expect(b.get_by_test_id("doc-status")).to_have_text("All changes saved", timeout=LIVE)
    for p in pages:
        expect(editor(p)).to_contain_text("Written offline.", timeout=LIVE)
        expect(editor(p)).to_contain_text("Written meanwhile.", timeout=LIVE)
    texts = {doc_text(p) for p in pages}
    assert len(texts) == 1, texts
    # And the server has it: a fresh load shows the merged text.
    owner.reload()
    expect(owner.get_by_test_id("doc-status")).to_have_attribute("data-status", "saved", timeout=LIVE)
    merged = texts.pop()
    assert "Written offline." in merged and "Written meanwhile." in merged, merged
    deadline = time.monotonic() + LIVE / 1000
    while doc_text(owner) != merged:
        assert time.monotonic() < deadline, (doc_text(owner), merged)
        owner.wait_for_timeout(100)


def test_versions_list_and_restore(new_context, live_server, api_register, api_create_published_pitch, shot):
    """Desktop only. A version is saved when the last editor leaves; restoring it brings its text
    back for everyone at once, as a new change."""
    owner_ctx, reader_ctx = new_context(), new_context()
    api_register(owner_ctx, "creator", name="Vic Owner")
    reader = api_register(reader_ctx, "investor", name="Rae Reader")
    pid = api_create_published_pitch(owner_ctx, synopsis="First draft.")["id"]
    resp = owner_ctx.request.post(
        f"{live_server.url}/api/pitches/{pid}/collaborators", data={"userId": reader["id"], "role": "viewer"}
    )
    assert resp.status == 201, resp.text()
    accept_by_api(reader_ctx, live_server.url, pid)

    first = owner_ctx.new_page()
    open_doc(first, pid, "notes")
    type_at_end(first, "Kept words.")
    expect(first.get_by_test_id("doc-status")).to_have_text("All changes saved", timeout=LIVE)
    first.close()  # the last editor leaves: the server saves a version

    owner = owner_ctx.new_page()
    open_doc(owner, pid, "notes")
    versions = owner.get_by_role("list", name="Versions of the notes")
    deadline = time.monotonic() + LIVE / 1000
    while versions.get_by_test_id("version").count() == 0:
        assert time.monotonic() < deadline, "no version listed after the last editor left"
        owner.get_by_role("button", name="Refresh the versions").click()
        owner.wait_for_timeout(300)
    expect(versions.get_by_test_id("version").first).to_contain_text("by Vic Owner")
    type_at_end(owner, " Words to take back.")
    expect(owner.get_by_test_id("doc-status")).to_have_text("All changes saved", timeout=LIVE)

    watcher = reader_ctx.new_page()
    open_doc(watcher, pid, "notes")
    expect(editor(watcher)).to_contain_text("Words to take back.")
    # A reader sees the versions but has no Restore.
    expect(watcher.get_by_role("list", name="Versions of the notes")).to_be_visible()
    expect(watcher.get_by_role("button", name=re.compile("^Restore"))).to_have_count(0)

    row = versions.get_by_test_id("version").first
    row.get_by_role("button", name=re.compile("^Restore the version of")).click()
    row.get_by_role("button", name=re.compile("^Restore the version of .* now$")).click()
    expect(owner.get_by_text(re.compile("Restored the version of .*: everyone sees it now."))).to_be_visible()
    for p in (owner, watcher):
        expect(editor(p)).not_to_contain_text("Words to take back.", timeout=LIVE)
        expect(editor(p)).to_contain_text("Kept words.")
    shot(owner, "coedit-versions")


def test_nda_holder_reads_the_documents(
    new_context, live_server, api_register, api_create_published_pitch, shot
):
    """Desktop only. An approved-NDA holder reads the documents, live, with no toolbar, no
    collaborators list and no Restore; before the approval the documents are refused."""
    owner_ctx, investor_ctx = new_context(), new_context()
    api_register(owner_ctx, "creator", name="Nia Owner")
    api_register(investor_ctx, "investor", name="Ian Holder")
    pid = api_create_published_pitch(owner_ctx, requireNda=True, synopsis="Protected plot.")["id"]
    base = live_server.url

    holder = investor_ctx.new_page()
    holder.goto(f"/pitches/{pid}/documents/synopsis")
    expect(holder.get_by_test_id("doc-refused")).to_contain_text("You do not have access to this document")

    resp = investor_ctx.request.post(f"{base}/api/ndas/request", data={"pitchId": pid})
    assert resp.status == 201, resp.text()
    nda_id = resp.json()["data"]["id"]
    resp = owner_ctx.request.post(f"{base}/api/ndas/{nda_id}/approve", data={})
    assert resp.status == 200, resp.text()

    owner = owner_ctx.new_page()
    open_doc(owner, pid)
    open_doc(holder, pid)
    expect(holder.get_by_text("NDA holder · reads only")).to_be_visible()
    expect(editor(holder)).to_contain_text("Protected plot.")
    expect(editor(holder)).to_have_attribute("contenteditable", "false")
    expect(holder.get_by_role("toolbar")).to_have_count(0)
    expect(holder.get_by_role("region", name="Collaborators")).to_have_count(0)
    expect(holder.get_by_role("region", name="Versions")).to_be_visible()
    type_at_end(owner, " A twist.")
    expect(editor(holder)).to_contain_text("A twist.", timeout=LIVE)
    expect(holder.get_by_test_id("doc-status")).to_have_text("Up to date · read only")
    shot(holder, "coedit-nda-holder")


def test_close_codes_in_words(new_context, api_register, api_create_published_pitch):
    """Desktop only. The server's documented closes reach the person as words: a rate pause
    reconnects by itself; a change too large stops the document and says so."""
    ctx = new_context()
    api_register(ctx, "creator", name="Cal Owner")
    pid = api_create_published_pitch(ctx)["id"]
    page = ctx.new_page()
    link = DocLink(page)
    open_doc(page, pid, "notes")

    link.close_with(4029, "Too many updates")
    expect(page.get_by_role("status").filter(has_text="Too many changes too fast")).to_be_visible()
    expect(page.get_by_test_id("doc-status")).to_have_attribute("data-status", "saved", timeout=LIVE)
    type_at_end(page, "Still here.")
    expect(page.get_by_test_id("doc-status")).to_have_text("All changes saved", timeout=LIVE)

    link.close_with(4013, "Update too large")
    expect(page.get_by_role("alert")).to_contain_text("too large to save")
    expect(page.get_by_test_id("doc-status")).to_have_attribute("data-status", "closed")
    expect(editor(page)).to_have_attribute("contenteditable", "false")
    expect(page.get_by_role("button", name="Reload the page")).to_be_visible()
    page.wait_for_timeout(3000)  # a terminal close is not retried
    assert link.open == [], "the page reconnected after a terminal close"
