"""The production company's team, resources and timeline pages in a real browser: inviting a
member who accepts from the notification (and a refused invitation in words), booking a resource
with the double booking refused by the database shown in words, the timeline's Gantt chart with a
moved phase carrying its dependents and a cycle refused, and deleting a project refused while it
has bookings, then allowed once archived. Each page is checked with axe and shot at desktop and
phone sizes."""

from __future__ import annotations

import re
from datetime import date, timedelta
from typing import Any

from playwright.sync_api import expect

from .conftest import unique_email
from .page_helpers import data


def _project(ctx: Any, base: str, title: str, **fields: Any) -> dict[str, Any]:
    body = {"title": title, "budget": "250000.00", **fields}
    return data(ctx.request.post(f"{base}/api/production/projects", data=body), 201)


def test_team_invite_accept_from_notification_and_refusal(new_context, api_register, axe_check, shot):
    owner_ctx = new_context()
    api_register(owner_ctx, "production", companyName="Northlight Films", name="Nora North")
    member_email = unique_email("crew")
    member_ctx = new_context()
    api_register(member_ctx, "production", email=member_email, name="Mo Member", companyName="Mo Studio")

    page = owner_ctx.new_page()
    page.goto("/production/team")
    expect(page.get_by_role("heading", level=1, name="Team")).to_be_visible()
    expect(page.get_by_text("No one has joined your team yet.")).to_be_visible()
    axe_check(page, "team (empty)")

    # A refusal in words: an email with no production account.
    page.get_by_label("Email").fill("nobody-here@example.com")
    page.get_by_role("button", name="Send invitation").click()
    expect(page.get_by_role("alert")).to_contain_text("No production account uses nobody-here@example.com")
    expect(page.get_by_label("Email")).to_have_value("nobody-here@example.com")  # nothing typed is lost

    page.get_by_label("Email").fill(member_email)
    page.get_by_label("Role", exact=True).select_option("producer")
    page.get_by_role("button", name="Send invitation").click()
    expect(page.get_by_text(f"Invited {member_email} as Producer")).to_be_visible()
    pending = page.get_by_role("list", name="Pending invitations")
    expect(pending).to_contain_text("Mo Member")

    # The invitee follows the notification to the team page and accepts.
    member = member_ctx.new_page()
    member.goto("/notifications")
    link = member.get_by_role("link", name=re.compile("Northlight Films invited you"))
    expect(link).to_be_visible()
    link.click()
    expect(member).to_have_url(re.compile("/production/team$"))
    accept = member.get_by_role("button", name="Accept the invitation from Northlight Films")
    expect(accept).to_be_visible()
    axe_check(member, "team (invitation)")
    shot(member, "team-invitation")
    shot(member, "team-invitation", phone=True)
    accept.click()
    expect(member.get_by_role("list", name="Your teams")).to_contain_text("Northlight Films")

    # The owner sees the member active, with the role they can change.
    page.reload()
    members = page.get_by_role("list", name="Team members")
    expect(members).to_contain_text("Mo Member")
    expect(page.get_by_label("Role of Mo Member")).to_have_value("producer")
    page.get_by_label("Role of Mo Member").select_option("viewer")
    expect(page.get_by_label("Role of Mo Member")).to_have_value("viewer")
    axe_check(page, "team (member)")
    shot(page, "team")
    shot(page, "team", phone=True)
    # Removing asks first.
    page.get_by_role("button", name="Remove Mo Member").click()
    page.get_by_role("button", name="Remove Mo Member now").click()
    expect(page.get_by_text("No one has joined your team yet.")).to_be_visible()


def test_resources_booking_calendar_and_double_booking_in_words(
    new_context, live_server, api_register, axe_check, shot
):
    base = live_server.url
    ctx = new_context()
    api_register(ctx, "production", companyName="Harbour Pictures")
    project = _project(ctx, base, "Salt and Iron")
    page = ctx.new_page()
    page.goto("/production/resources")
    expect(page.get_by_role("heading", level=1, name="Resources")).to_be_visible()
    expect(page.get_by_text("No crew, equipment or locations yet.")).to_be_visible()
    axe_check(page, "resources (empty)")

    page.get_by_label("Name").fill("Dana Reyes (DoP)")
    page.get_by_label("Cost per day (USD)").fill("750.5")
    page.get_by_role("button", name="Add resource").click()
    expect(page.get_by_role("heading", name="Dana Reyes (DoP)", exact=True)).to_be_visible()

    card = page.get_by_role("region", name="Dana Reyes (DoP)", exact=True)
    card.get_by_label("First day").fill("2027-03-01")
    card.get_by_label("Last day").fill("2027-03-10")
    card.get_by_role("button", name="Book Dana Reyes (DoP)").click()
    expect(
        card.get_by_text("Booked for 10 days on Salt and Iron: $7,505.00 added to its budget.")
    ).to_be_visible()
    # The calendar shows the booking on its days.
    day = page.get_by_role("listitem", name=re.compile(r"Friday, March 5: 1 booking"))
    expect(day).to_contain_text("Dana Reyes (DoP) — Salt and Iron")

    # The double booking: the database refuses it, the page says so in words.
    card.get_by_label("First day").fill("2027-03-08")
    card.get_by_label("Last day").fill("2027-03-12")
    card.get_by_role("button", name="Book Dana Reyes (DoP)").click()
    alert = card.get_by_role("alert")
    expect(alert).to_contain_text("Not booked:")
    expect(alert).to_contain_text("already booked from 2027-03-01 to 2027-03-10 for Salt and Iron")
    axe_check(page, "resources (double booking)")
    shot(page, "resources")
    shot(page, "resources", phone=True)

    # The cost reached the project's budget line.
    got = data(ctx.request.get(f"{base}/api/production/projects/{project['id']}"))
    assert {line["category"]: line["allocated"] for line in got["budgetLines"]} == {"Crew": "7505.00"}


def test_timeline_gantt_moves_dependents_and_refuses_a_cycle(
    new_context, live_server, api_register, axe_check, shot
):
    base = live_server.url
    ctx = new_context()
    api_register(ctx, "production")
    project = _project(ctx, base, "Night Ferry", milestones=[{"title": "Wrap", "dueDate": "2027-03-20"}])
    pid = project["id"]
    data(
        ctx.request.put(
            f"{base}/api/production/projects/{pid}/timeline",
            data={
                "phases": [
                    {"phase": "pre_production", "startDate": "2027-02-01", "endDate": "2027-02-28"},
                    {
                        "phase": "shooting",
                        "startDate": "2027-03-01",
                        "endDate": "2027-03-31",
                        "dependsOn": ["pre_production"],
                    },
                    {
                        "phase": "post",
                        "startDate": "2027-04-01",
                        "endDate": "2027-05-15",
                        "dependsOn": ["shooting"],
                    },
                ]
            },
        )
    )
    page = ctx.new_page()
    page.goto(f"/production/projects/{pid}")
    page.get_by_role("link", name="Open the timeline").click()
    expect(page.get_by_role("heading", level=1, name="Timeline: Night Ferry")).to_be_visible()
    table = page.get_by_role("table", name="Phases with their dates")
    expect(table).to_contain_text("Apr 1, 2027")
    expect(page.get_by_text("during Shooting")).to_be_visible()
    axe_check(page, "timeline")
    shot(page, "timeline")
    shot(page, "timeline", phone=True)

    # Lengthen pre-production by a week: shooting and post move a week later.
    page.get_by_label("Pre-production ends").fill("2027-03-07")
    page.get_by_role("button", name="Save timeline").click()
    expect(page.get_by_text("Timeline saved.")).to_be_visible()
    post_row = table.get_by_role("row").filter(has=page.get_by_role("rowheader", name="Post-production"))
    expect(post_row).to_contain_text("Apr 8, 2027")

    # A cycle is refused in words.
    pre = page.get_by_role("group", name="Pre-production follows")
    pre.get_by_label("Post-production").check()
    page.get_by_role("button", name="Save timeline").click()
    expect(page.get_by_role("alert")).to_contain_text("Dependencies form a cycle")
    shot(page, "timeline-cycle")

    # A phase that ended unfinished shows on the dashboard as overdue, linked to the timeline.
    ended = (date.today() - timedelta(days=2)).isoformat()
    began = (date.today() - timedelta(days=20)).isoformat()
    late = {"phase": "development", "startDate": began, "endDate": ended}
    data(ctx.request.put(f"{base}/api/production/projects/{pid}/timeline", data={"phases": [late]}))
    page.goto("/production")
    overdue = page.get_by_role("region", name="Overdue phases")
    expect(overdue).to_contain_text("Development")
    overdue.get_by_role("link", name="Night Ferry").click()
    expect(page.get_by_role("status").filter(has_text="Overdue:")).to_contain_text("Development")


def test_delete_project_refused_until_archived(new_context, live_server, api_register, axe_check, shot):
    base = live_server.url
    ctx = new_context()
    api_register(ctx, "production")
    project = _project(ctx, base, "Glass Harbour")
    res = data(
        ctx.request.post(
            f"{base}/api/production/resources",
            data={"kind": "location", "name": "Pier 9", "costPerDay": "300"},
        ),
        201,
    )
    data(
        ctx.request.post(
            f"{base}/api/production/resources/{res['id']}/allocations",
            data={"projectId": project["id"], "startDate": "2027-05-01", "endDate": "2027-05-02"},
        ),
        201,
    )
    page = ctx.new_page()
    page.goto(f"/production/projects/{project['id']}")
    expect(page.get_by_role("heading", level=1, name="Glass Harbour")).to_be_visible()
    page.get_by_role("button", name="Delete project").click()
    page.get_by_role("button", name="Delete “Glass Harbour” for good").click()
    alert = page.get_by_role("alert").filter(has_text="Not deleted.")
    expect(alert).to_contain_text("The project has 1 resource booking(s); archive it first, then delete it")
    axe_check(page, "project (delete refused)")
    shot(page, "project-delete-refused")
    shot(page, "project-delete-refused", phone=True)

    page.get_by_role("button", name="Archive project").click()
    expect(page.get_by_text("Glass Harbour is archived.")).to_be_visible()
    page.get_by_role("button", name="Delete “Glass Harbour” for good").click()
    expect(page).to_have_url(re.compile("/production$"))
    assert ctx.request.get(f"{base}/api/production/projects/{project['id']}").status == 404


def test_team_member_sees_presence_and_timeline_change_live(new_context, live_server, api_register, shot):
    base = live_server.url
    owner_ctx = new_context()
    api_register(owner_ctx, "production", companyName="Tidewater Films")
    member_email = unique_email("live")
    member_ctx = new_context()
    api_register(member_ctx, "production", email=member_email)
    invited = data(
        owner_ctx.request.post(f"{base}/api/production/team", data={"email": member_email, "role": "viewer"}),
        201,
    )
    data(member_ctx.request.post(f"{base}/api/production/team/invitations/{invited['id']}/accept", data={}))
    project = _project(owner_ctx, base, "Low Tide")
    pid = project["id"]
    phase = {"phase": "shooting", "startDate": "2027-03-01", "endDate": "2027-03-31"}
    data(owner_ctx.request.put(f"{base}/api/production/projects/{pid}/timeline", data={"phases": [phase]}))

    member = member_ctx.new_page()
    member.goto(f"/production/projects/{pid}/timeline")
    expect(member.get_by_role("heading", level=1, name="Timeline: Low Tide")).to_be_visible()
    owner = owner_ctx.new_page()
    owner.goto(f"/production/projects/{pid}/timeline")
    expect(member.get_by_test_id("team-here")).to_have_text(
        "1 other team member is on this project now.", timeout=10_000
    )

    owner.get_by_label("Shooting ends").fill("2027-04-10")
    owner.get_by_role("button", name="Save timeline").click()
    expect(owner.get_by_text("Timeline saved.")).to_be_visible()
    table = member.get_by_role("table", name="Phases with their dates")
    expect(table).to_contain_text("Apr 10, 2027", timeout=10_000)
    # A viewer reads the timeline; the form to change it is not theirs.
    expect(member.get_by_text(re.compile("viewer, you read the timeline"))).to_be_visible()
    expect(member.get_by_role("button", name="Save timeline")).to_have_count(0)
    shot(member, "timeline-live-member")


def test_team_viewer_sees_the_company_resources_and_may_not_book(new_context, live_server, api_register):
    base = live_server.url
    owner_ctx = new_context()
    api_register(owner_ctx, "production", companyName="Quayside Films")
    member_email = unique_email("viewer")
    member_ctx = new_context()
    api_register(member_ctx, "production", email=member_email)
    invited = data(
        owner_ctx.request.post(f"{base}/api/production/team", data={"email": member_email, "role": "viewer"}),
        201,
    )
    data(member_ctx.request.post(f"{base}/api/production/team/invitations/{invited['id']}/accept", data={}))
    _project(owner_ctx, base, "Dry Dock")
    data(
        owner_ctx.request.post(
            f"{base}/api/production/resources",
            data={"kind": "equipment", "name": "Crane 40", "costPerDay": "900"},
        ),
        201,
    )

    page = member_ctx.new_page()
    page.goto("/production/resources")
    page.get_by_label("Whose resources").select_option(label="Quayside Films")
    card = page.get_by_role("region", name="Crane 40", exact=True)
    expect(card).to_be_visible()
    card.get_by_label("First day").fill("2027-06-01")
    card.get_by_label("Last day").fill("2027-06-02")
    card.get_by_role("button", name="Book Crane 40").click()
    expect(card.get_by_role("alert")).to_contain_text("A team viewer may not book resources")
