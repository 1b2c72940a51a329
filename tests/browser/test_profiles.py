"""/settings, /users/:id, /investor/saved, the pitch page's Save toggle and the dashboards' profile
prompt in a real browser: each page's main action and one refusal shown in words, axe-core, and
screenshots at desktop and phone sizes."""

from __future__ import annotations

import re
import struct
import uuid
import zlib

from playwright.sync_api import expect

from .page_helpers import data


def png() -> bytes:
    def chunk(tag: bytes, body: bytes) -> bytes:
        return (
            struct.pack(">I", len(body)) + tag + body + struct.pack(">I", zlib.crc32(tag + body) & 0xFFFFFFFF)
        )

    ihdr = struct.pack(">IIBBBBB", 1, 1, 8, 2, 0, 0, 0)
    idat = zlib.compress(b"\x00\xd9\x46\xef")
    return b"\x89PNG\r\n\x1a\n" + chunk(b"IHDR", ihdr) + chunk(b"IDAT", idat) + chunk(b"IEND", b"")


def test_settings_profile_avatar_and_preferences(
    new_context, live_server, api_register, axe_check, shot, shot_phone
):
    taken = f"taken{uuid.uuid4().hex[:6]}"
    other = new_context()
    api_register(other, "creator", username=taken)
    ctx = new_context()
    me = api_register(ctx, "investor", name="Iris Investor")
    page = ctx.new_page()

    # The dashboard prompts for the missing profile fields; "Not now" hides it.
    page.goto("/investor")
    prompt = page.get_by_test_id("profile-prompt")
    expect(prompt).to_contain_text("Complete your profile")
    expect(prompt).to_contain_text("add your username, bio, company, location, website and avatar")
    axe_check(page, "Investor dashboard with the profile prompt")
    shot(page, "dashboard-profile-prompt")
    shot_phone(page, "dashboard-profile-prompt")
    prompt.get_by_role("button", name="Not now").click()
    expect(prompt).to_have_count(0)
    page.get_by_role("link", name="Settings").first.click()

    expect(page.get_by_role("heading", level=1, name="Settings")).to_be_visible()
    expect(page.get_by_label("First name")).to_have_value("Iris")
    expect(page.get_by_label("Last name")).to_have_value("Investor")
    axe_check(page, "Settings")

    # Refusals in words, on their fields, with what was typed kept.
    page.get_by_label("Username").fill(taken)
    page.get_by_label("Company").fill("Northwind Capital")
    page.get_by_role("button", name="Save profile").click()
    expect(page.get_by_text("This username is taken: try another.")).to_be_visible()
    expect(page.get_by_label("Company")).to_have_value("Northwind Capital")
    page.get_by_label("Username").fill(f"iris{uuid.uuid4().hex[:6]}")
    page.get_by_label("Website").fill("ftp://files.example.com")
    page.get_by_role("button", name="Save profile").click()
    expect(page.get_by_text(re.compile("must be an http:// or https:// web address"))).to_be_visible()
    expect(page.get_by_label("Website")).to_be_focused()
    page.get_by_label("Website").fill("https://northwind.example.com")
    page.get_by_label("Location").fill("Lisbon")
    page.get_by_label("Bio").fill("Backing character-driven drama since 2015.")
    page.get_by_role("button", name="Save profile").click()
    expect(page.get_by_text("Profile saved.")).to_be_visible()
    expect(page.get_by_test_id("completeness")).to_contain_text("88% complete: add your avatar")

    # Avatar: an image goes up with progress; a PDF is refused in words.
    page.get_by_label("Upload an avatar").set_input_files(
        files=[{"name": "deck.png", "mimeType": "image/png", "buffer": b"%PDF-1.4\nnot an image"}]
    )
    expect(
        page.get_by_text("That file is not accepted: an avatar must be a JPEG, PNG or WebP image.")
    ).to_be_visible()
    page.get_by_label("Upload an avatar").set_input_files(
        files=[{"name": "me.png", "mimeType": "image/png", "buffer": png()}]
    )
    expect(page.get_by_text("Avatar updated.")).to_be_visible()
    expect(page.get_by_test_id("completeness")).to_contain_text("100% complete")
    expect(page.get_by_role("button", name="Remove avatar")).to_be_visible()

    # Preferences: a kind off for live, and what this investor invests in.
    page.get_by_label("Messages: live").uncheck()
    page.get_by_label("New followers: email digest").check()
    page.get_by_label("Genres").fill("Drama, Thriller")
    page.get_by_label("Budget from (USD)").fill("1000")
    page.get_by_label("Budget up to (USD)").fill("500")
    page.get_by_role("button", name="Save preferences").click()
    expect(page.get_by_text(re.compile("budgetMin must not exceed budgetMax"))).to_be_visible()
    page.get_by_label("Budget up to (USD)").fill("250000")
    page.get_by_role("button", name="Save preferences").click()
    expect(page.get_by_text("Preferences saved.")).to_be_visible()
    prefs = data(ctx.request.get(f"{live_server.url}/api/user/preferences"))
    assert prefs["notifications"]["new_message"] == {"live": False, "emailDigest": False}
    assert prefs["notifications"]["new_follower"]["emailDigest"] is True
    assert prefs["investment"]["genres"] == ["Drama", "Thriller"]
    assert prefs["investment"]["budgetMax"] == "250000.00"
    axe_check(page, "Settings (filled)")
    shot(page, "settings")
    shot_phone(page, "settings")

    # The prompt is gone once the profile is complete.
    page.goto("/investor")
    expect(page.get_by_role("heading", level=1)).to_be_visible()
    expect(page.get_by_test_id("profile-prompt")).to_have_count(0)
    assert me["id"]

    # The settings page signs out too.
    page.goto("/settings")
    page.get_by_role("button", name="Sign out of Pitchey").click()
    expect(page).to_have_url(re.compile(r"/$"))
    expect(page.get_by_role("link", name="Sign in")).to_be_visible()


def test_public_profile_follow_and_unknown_user(
    new_context, live_server, api_register, api_create_published_pitch, axe_check, shot, shot_phone
):
    creator_ctx = new_context()
    creator = api_register(
        creator_ctx, "creator", name="Cora Creator", username=f"cora{uuid.uuid4().hex[:6]}"
    )
    data(
        creator_ctx.request.put(
            f"{live_server.url}/api/user/profile",
            data={"bio": "I write quiet films about loud families.", "location": "Leeds"},
        )
    )
    pitch = api_create_published_pitch(creator_ctx)
    api_create_published_pitch(creator_ctx, status="draft", title="Unseen draft")

    # Anonymous: the profile, no email, a way to sign in to follow.
    anon = new_context().new_page()
    anon.goto(f"/users/{creator['id']}")
    expect(anon.get_by_role("heading", level=1, name="Cora Creator")).to_be_visible()
    expect(anon.get_by_text("I write quiet films about loud families.")).to_be_visible()
    expect(anon.get_by_role("link", name="Sign in to follow")).to_be_visible()
    expect(anon.get_by_role("link", name=pitch["title"])).to_be_visible()
    expect(anon.get_by_text("Unseen draft")).to_have_count(0)
    assert creator["email"] not in anon.content()

    ctx = new_context()
    api_register(ctx, "investor", name="Ivo Investor")
    page = ctx.new_page()
    page.goto(f"/pitches/{pitch['id']}")
    page.get_by_role("link", name="Cora Creator").click()
    expect(page).to_have_url(re.compile(f"/users/{creator['id']}$"))
    expect(page.get_by_test_id("follower-count")).to_have_text("0")
    page.get_by_role("button", name="Follow").click()
    expect(page.get_by_role("button", name="Following")).to_have_attribute("aria-pressed", "true")
    expect(page.get_by_test_id("follower-count")).to_have_text("1")
    axe_check(page, "Public profile")
    shot(page, "public-profile")
    shot_phone(page, "public-profile")
    page.get_by_role("button", name="Following").click()
    expect(page.get_by_test_id("follower-count")).to_have_text("0")

    # A profile that does not exist is said in words.
    page.goto("/users/987654321")
    expect(page.get_by_text("User not found")).to_be_visible()


def test_saved_pitches_toggle_list_and_a_refusal(
    new_context, live_server, api_register, api_create_published_pitch, axe_check, shot, shot_phone
):
    creator_ctx = new_context()
    api_register(creator_ctx, "creator", name="Sam Studio")
    first = api_create_published_pitch(creator_ctx)
    second = api_create_published_pitch(creator_ctx, requireNda=True, budget="50000.00")
    ctx = new_context()
    api_register(ctx, "investor")
    page = ctx.new_page()

    page.goto("/investor/saved")
    expect(page.get_by_role("heading", level=1, name="Saved pitches")).to_be_visible()
    expect(page.get_by_text("Nothing saved yet.")).to_be_visible()
    axe_check(page, "Saved pitches (empty)")

    for p in (first, second):
        page.goto(f"/pitches/{p['id']}")
        save = page.get_by_test_id("save-pitch")
        expect(save).to_have_text("Save for later")
        save.click()
        expect(save).to_have_text("Saved")
        expect(save).to_have_attribute("aria-pressed", "true")

    page.get_by_role("link", name="Saved", exact=True).first.click()
    grid = page.get_by_role("list", name="Your saved pitches")
    expect(grid.get_by_role("listitem")).to_have_count(2)
    expect(grid.get_by_role("link", name=second["title"])).to_be_visible()
    axe_check(page, "Saved pitches")
    shot(page, "saved-pitches")
    shot_phone(page, "saved-pitches")
    page.get_by_role("button", name=f"Remove {first['title']} from saved").click()
    expect(grid.get_by_role("listitem")).to_have_count(1)

    # The owner sees how many saved it.
    owner = creator_ctx.new_page()
    owner.goto(f"/pitches/{second['id']}")
    expect(owner.get_by_test_id("save-count")).to_have_text("1")

    # Refusal: the pitch went private after the page loaded; saving it is refused in words.
    third = api_create_published_pitch(creator_ctx)
    page.goto(f"/pitches/{third['id']}")
    save = page.get_by_test_id("save-pitch")
    expect(save).to_have_text("Save for later")
    data(
        creator_ctx.request.put(
            f"{live_server.url}/api/pitches/{third['id']}", data={"visibility": "private"}
        )
    )
    save.click()
    expect(page.get_by_text("This pitch is private")).to_be_visible()
