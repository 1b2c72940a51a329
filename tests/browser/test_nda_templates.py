"""NDA templates and signing in a real browser: a creator writes a template (and a second version),
requires it on a pitch in the pitch editor; an investor reads its text on the pitch page, accepts
it and requests access; the creator approves (countersigns); both download the signed agreement
from "Agreements". Refused: a third person gets 404 on the document, and the request cannot be
sent before the text is accepted. At desktop and phone size.
"""

from __future__ import annotations

import re
from pathlib import Path
from typing import Any

import pytest
from playwright.sync_api import expect

from .conftest import nav
from .page_helpers import LIVE

pytestmark = pytest.mark.viewports

BODY = (
    "# Confidentiality\n\n"
    "The **Receiving Party** keeps the pitch's synopsis, budget and deck secret.\n\n"
    "<b>not bold</b>"
)


def _signed_in(page: Any) -> None:
    """The header knows who is signed in (the portal's links are there) before the nav is used."""
    expect(page.get_by_role("banner").get_by_role("button", name="Sign out")).to_be_visible()


def _download(page: Any, link_name: str) -> str:
    with page.expect_download() as info:
        page.get_by_role("link", name=link_name).click()
    path = info.value.path()
    return Path(path).read_text(encoding="utf-8")


def test_template_accept_countersign_download(
    new_context, live_server, api_register, api_create_published_pitch, axe_check, shot, viewport
):
    base = live_server.url
    suffix = "" if viewport == "desktop" else "-phone"
    creator_ctx = new_context()
    api_register(creator_ctx, "creator", name="Nadia Noir")
    pitch = api_create_published_pitch(creator_ctx, requireNda=True, synopsis="The lighthouse was never lit.")

    # The creator writes a template.
    creator = creator_ctx.new_page()
    creator.goto("/creator")
    _signed_in(creator)
    nav(creator, "NDA templates")
    expect(creator.get_by_role("heading", level=1, name="NDA templates")).to_be_visible()
    expect(creator.get_by_text("You have no NDA templates yet.")).to_be_visible()
    creator.get_by_role("link", name="New template").click()
    expect(creator.get_by_role("heading", level=1, name="New NDA template")).to_be_visible()
    # Refused in words before anything is sent: every field is needed.
    creator.get_by_role("button", name="Create template").click()
    expect(creator.get_by_text("Give the template a title.")).to_be_visible()
    expect(creator.get_by_label("Title")).to_be_focused()
    creator.get_by_label("Title").fill("Pitch NDA")
    creator.get_by_label("Text of the agreement (Markdown)").fill(BODY)
    creator.get_by_label("Term in months").fill("24")
    creator.get_by_label("Jurisdiction").fill("England and Wales")
    creator.get_by_role("button", name="Create template").click()
    expect(creator.get_by_role("heading", level=1, name="Pitch NDA")).to_be_visible()
    expect(creator).to_have_url(re.compile(r"/creator/nda-templates/\d+$"))
    # An edit writes version 2; version 1 stays listed.
    creator.get_by_label("Term in months").fill("12")
    creator.get_by_role("button", name="Save new version").click()
    expect(creator.get_by_text("Saved as version 2.")).to_be_visible()
    versions = creator.get_by_role("list", name="Versions")
    expect(versions.get_by_role("listitem")).to_have_count(2)
    axe_check(creator, "NDA template editor")
    shot(creator, f"nda-template-editor{suffix}")

    # It is required on the pitch, in the pitch editor.
    creator.goto(f"/creator/pitches/{pitch['id']}/edit")
    creator.get_by_label("NDA template").select_option(label="Pitch NDA (version 2)")
    creator.get_by_role("button", name="Save changes").click()
    expect(creator.get_by_text(re.compile("^Saved "))).to_be_visible()
    shot(creator, f"nda-template-pitch-editor{suffix}")

    # The investor reads the text on the pitch page and must accept it before asking.
    investor_ctx = new_context()
    api_register(investor_ctx, "investor", name="Ivy Ives")
    investor = investor_ctx.new_page()
    investor.goto(f"/pitches/{pitch['id']}")
    text = investor.get_by_test_id("nda-text")
    expect(text).to_contain_text("The **Receiving Party** keeps")  # as typed: never as HTML
    expect(text).to_contain_text("<b>not bold</b>")
    expect(investor.get_by_text("Version 2 · term 1 year from approval · England and Wales")).to_be_visible()
    request = investor.get_by_role("button", name="Accept and request NDA")
    expect(request).to_be_disabled()
    axe_check(investor, "Pitch page with the NDA to accept")
    shot(investor, f"nda-template-accept{suffix}")
    investor.get_by_label("I have read and accept this NDA (version 2)").check()
    investor.get_by_label("Message to the creator (optional)").fill("Keen to read it.")
    request.click()
    expect(investor.get_by_test_id("nda-status")).to_contain_text("Pending")

    # The creator approves: the countersignature.
    creator.goto("/creator/ndas")
    expect(creator.get_by_test_id("nda-signing")).to_contain_text("approving countersigns it")
    creator.get_by_role("button", name=f"Approve Ivy Ives's request for {pitch['title']}").click()
    expect(investor.get_by_text("The lighthouse was never lit.")).to_be_visible(timeout=LIVE)

    # Both download the signed agreement from "Agreements".
    for page, role_text in ((investor, "You accepted it"), (creator, "you countersigned")):
        page.goto("/")
        _signed_in(page)
        nav(page, "Agreements")
        expect(page.get_by_role("heading", level=1, name="Signed agreements (1)")).to_be_visible()
        item = page.get_by_role("list", name="Signed agreements").get_by_role("listitem")
        expect(item).to_contain_text(role_text)
        expect(item.get_by_test_id("agreement-status")).to_have_text("In force")
        document = _download(page, f"Download agreement for {pitch['title']}")
        assert "Pitch NDA" in document and "Nadia Noir" in document and "Ivy Ives" in document
        assert "<strong>Receiving Party</strong>" in document  # the document renders the Markdown
        assert "&lt;b&gt;not bold&lt;/b&gt;" in document  # raw HTML stays text
        assert "Countersigned on" in document and "England and Wales" in document
    axe_check(investor, "Signed agreements")
    shot(investor, f"nda-agreements{suffix}")
    nda_id = int(investor.locator("[data-nda-id]").first.get_attribute("data-nda-id") or 0)

    # The document itself, as a page: standalone and printable, under its own strict CSP.
    doc_page = investor_ctx.new_page()
    resp = doc_page.goto(f"/api/ndas/{nda_id}/document")
    assert resp is not None and resp.status == 200
    assert "default-src 'none'" in resp.headers["content-security-policy"]
    expect(doc_page.get_by_role("heading", level=1, name="Pitch NDA")).to_be_visible()
    shot(doc_page, f"nda-document{suffix}")

    # A third person: the document does not exist for them.
    stranger_ctx = new_context()
    api_register(stranger_ctx, "investor", name="Stan Ger")
    refused = stranger_ctx.request.get(f"{base}/api/ndas/{nda_id}/document")
    assert refused.status == 404
    assert refused.json()["error"]["code"] == "NOT_FOUND"
    stranger = stranger_ctx.new_page()
    stranger.goto("/agreements")
    expect(stranger.get_by_text("No signed agreements yet.")).to_be_visible()
