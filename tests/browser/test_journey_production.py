"""Journey 4, production company, in a real browser against a real `pitchey serve`.

A company signs up through the UI, opens /production, creates a project from a published pitch (a
creator made it in another context; two investors put money in it through the API) with two budget
lines and two milestones, records expenses, and sees the budget view (allocated vs spent per line,
over budget flagged) and the investment overview (the real sum) change. Bad input on the way: an
amount with three decimals (refused by the page) and one too large (refused by the API, its
VALIDATION_ERROR detail shown on the right row); nothing typed is lost. axe on every page.
"""

from __future__ import annotations

import re
import uuid
from datetime import UTC, datetime, timedelta
from typing import Any

import pytest
from playwright.sync_api import expect

from .conftest import nav

pytestmark = pytest.mark.viewports  # each journey also runs at 390x844

PASSWORD = "a long enough password"


def _invest(context: Any, base: str, pitch_id: int, amount: str) -> None:
    resp = context.request.post(
        f"{base}/api/investments/create",
        data={"pitchId": pitch_id, "amount": amount},
        headers={"Idempotency-Key": uuid.uuid4().hex},
    )
    assert resp.status == 201, resp.text()


def _budget_row(page: Any, category: str) -> Any:
    table = page.get_by_role("table", name="Allocated and spent per budget line")
    return table.get_by_role("row").filter(has=page.get_by_role("rowheader", name=re.compile(f"^{category}")))


def test_production_company_journey(
    new_context, live_server, api_register, api_create_published_pitch, axe_check, shot, shot_phone
):
    token = "prod" + uuid.uuid4().hex[:6]

    # A creator publishes a pitch; two investors back it (2000.25 in all, summed by the server).
    creator = new_context()
    api_register(creator, "creator", name="Cora Creator")
    pitch = api_create_published_pitch(creator, title=f"Harbour Lights {token}", budget="750000.00")
    for amount in ("1250.50", "749.75"):
        investor = new_context()
        api_register(investor, "investor", name="Ivo Investor")
        _invest(investor, live_server.url, pitch["id"], amount)

    # The company signs up through the UI.
    ctx = new_context()
    page = ctx.new_page()
    page.goto("/production/register")
    expect(page.get_by_role("radio", name="Production company")).to_be_checked()
    page.get_by_label("Full name").fill("Petra Producer")
    page.get_by_role("textbox", name="Company").fill("Northlight Films")
    page.get_by_role("textbox", name="Email").fill(f"{token}-{uuid.uuid4().hex[:6]}@example.com")
    page.get_by_label("Password", exact=True).fill(PASSWORD)
    page.get_by_role("button", name="Create account").click()

    # /production: no projects yet, the figures at zero.
    expect(page).to_have_url(re.compile(r"/production$"))
    expect(page.get_by_role("heading", level=1, name="Production")).to_be_visible()
    projects = page.get_by_role("region", name="Projects")
    expect(projects).to_contain_text("No projects yet")
    overview = page.get_by_role("region", name="Investment in your pitches")
    expect(overview).to_contain_text("None of your projects is linked to a pitch yet")
    page.wait_for_load_state("networkidle")
    axe_check(page, "production dashboard (empty)")

    # New project: find the pitch by searching the published pitches.
    page.get_by_role("link", name="New project").click()
    expect(page).to_have_url(re.compile(r"/production/projects/new$"))
    page.get_by_label("Search published pitches").fill(token)
    page.get_by_role("button", name=f"Use this pitch: Harbour Lights {token}").click()
    chosen = re.compile(f"From the pitch\\s*Harbour Lights {token}")
    expect(page.get_by_role("region", name="Pitch")).to_contain_text(chosen)
    expect(page.get_by_label("Title")).to_have_value(f"Harbour Lights {token}")  # offered from the pitch

    page.get_by_label("Title").fill(f"Harbour Lights (feature) {token}")
    page.get_by_label("Stage").select_option(label="Pre-production")
    page.get_by_label("Total budget (USD)").fill("100000")
    page.get_by_label("Category, line 1").fill("Crew")
    page.get_by_label("Allocated, line 1").fill("60000")
    page.get_by_role("button", name="Add budget line").click()
    page.get_by_label("Category, line 2").fill("Equipment")
    page.get_by_label("Allocated, line 2").fill("40000.125")  # three decimals
    page.get_by_label("Milestone 1", exact=True).fill("Principal photography")
    page.get_by_label("Due date, milestone 1").fill("2031-03-01")
    page.get_by_role("button", name="Add milestone").click()
    page.get_by_label("Milestone 2", exact=True).fill("Picture lock")
    page.get_by_role("button", name="Create project").click()

    # The page refuses it: the error is on line 2's amount, which has the focus; nothing is lost.
    line2 = page.get_by_label("Allocated, line 2")
    expect(line2).to_have_attribute("aria-invalid", "true")
    expect(line2).to_be_focused()
    expect(page.get_by_text("Use a positive amount with at most 2 decimals")).to_be_visible()
    expect(page.get_by_label("Allocated, line 1")).not_to_have_attribute("aria-invalid", "true")
    expect(page).to_have_url(re.compile(r"/production/projects/new$"))
    for label, value in [
        ("Title", f"Harbour Lights (feature) {token}"),
        ("Total budget (USD)", "100000"),
        ("Category, line 1", "Crew"),
        ("Allocated, line 1", "60000"),
        ("Category, line 2", "Equipment"),
        ("Allocated, line 2", "40000.125"),
        ("Due date, milestone 1", "2031-03-01"),
    ]:
        expect(page.get_by_label(label, exact=True)).to_have_value(value)
    expect(page.get_by_label("Milestone 1", exact=True)).to_have_value("Principal photography")
    expect(page.get_by_label("Milestone 2", exact=True)).to_have_value("Picture lock")
    axe_check(page, "new project (with a field error)")
    shot(page, "journey-production-new-project-error")

    # Too large for the API (13 digits): its VALIDATION_ERROR detail `budgetLines.1.allocated`
    # lands on the second row, not on the first and not as a page-level message only.
    with page.expect_response(
        lambda r: r.url.endswith("/api/production/projects") and r.request.method == "POST"
    ) as sent:
        line2.fill("1000000000000")
        page.get_by_role("button", name="Create project").click()
    assert sent.value.status == 422
    expect(line2).to_have_attribute("aria-invalid", "true")
    expect(page.locator(f"#{line2.get_attribute('id')}-error")).to_contain_text(
        "must be at most 999999999999.99"
    )
    expect(page.get_by_label("Allocated, line 1")).not_to_have_attribute("aria-invalid", "true")
    expect(page.get_by_label("Milestone 2", exact=True)).to_have_value("Picture lock")

    line2.fill("40000")
    page.get_by_role("button", name="Create project").click()

    # The project page: the budget view with both lines, nothing spent yet.
    expect(page).to_have_url(re.compile(r"/production/projects/\d+$"))
    project_id = int(page.url.rsplit("/", 1)[1])
    expect(page.get_by_role("heading", level=1, name=f"Harbour Lights (feature) {token}")).to_be_visible()
    crew, equipment = _budget_row(page, "Crew"), _budget_row(page, "Equipment")
    expect(crew).to_contain_text("$60,000.00")
    expect(crew).to_contain_text("$0.00")
    expect(equipment).to_contain_text("$40,000.00")
    expect(page.get_by_role("region", name="Expenses")).to_contain_text("No expenses recorded yet")
    expect(page.get_by_role("region", name="About")).to_contain_text(f"Harbour Lights {token}")

    # Record an expense past Crew's allocation: the view updates without a reload and flags it.
    form = page.get_by_role("region", name="Record an expense")
    form.get_by_label("Budget line").select_option(label="Crew ($60,000.00 left)")
    form.get_by_label("Amount (USD)").fill("65000")
    form.get_by_label("Note").fill("Weeks 1-6 crew")
    form.get_by_role("button", name="Record expense").click()
    expect(form).to_contain_text("Recorded $65,000.00 against Crew.")
    expect(crew).to_contain_text("$65,000.00")
    expect(crew).to_contain_text("-$5,000.00")
    expect(crew).to_contain_text("Over budget")
    expect(equipment).not_to_contain_text("Over budget")
    expect(form.get_by_label("Amount (USD)")).to_have_value("")

    # A second one on Equipment, with a cents amount; the totals add up exactly.
    form.get_by_label("Budget line").select_option(label="Equipment ($40,000.00 left)")
    form.get_by_label("Amount (USD)").fill("1234.56")
    form.get_by_role("button", name="Record expense").click()
    expect(form).to_contain_text("Recorded $1,234.56 against Equipment.")
    expect(equipment).to_contain_text("$1,234.56")
    expect(equipment).to_contain_text("$38,765.44")
    totals = page.get_by_role("table", name="Allocated and spent per budget line").locator("tfoot")
    expect(totals).to_contain_text("$66,234.56")
    expect(totals).to_contain_text("$33,765.44")
    expenses = page.get_by_role("table", name="Expenses, latest first")
    expect(expenses.get_by_role("row")).to_have_count(3)  # header + 2
    expect(expenses).to_contain_text("Weeks 1-6 crew")

    # A milestone done.
    milestones = page.get_by_role("region", name="Milestones")
    expect(milestones).to_contain_text("0 of 2 done")
    milestones.get_by_label("Principal photography").check()
    expect(milestones).to_contain_text("1 of 2 done")
    expect(milestones.get_by_label("Principal photography")).to_be_checked()

    # The project as stored agrees with the page (and survives a reload).
    page.reload()
    expect(_budget_row(page, "Crew")).to_contain_text("-$5,000.00")
    expect(page.get_by_role("region", name="Milestones")).to_contain_text("1 of 2 done")
    resp = ctx.request.get(f"{live_server.url}/api/production/projects/{project_id}")
    stored = resp.json()["data"]
    assert stored["totals"]["spent"] == "66234.56" and stored["stage"] == "pre_production"
    assert [(b["category"], b["spent"]) for b in stored["budgetLines"]] == [
        ("Crew", "65000.00"),
        ("Equipment", "1234.56"),
    ]
    assert stored["pitchId"] == pitch["id"]
    page.wait_for_load_state("networkidle")
    axe_check(page, "project detail")
    expect(page.get_by_role("region", name="Budget").locator(".recharts-bar-rectangle").first).to_be_visible()
    shot(page, "journey-production-project")
    shot_phone(page, "journey-production-project")

    # Back to /production: the project, the figures and the real investment sums.
    nav(page, "Projects")
    expect(page).to_have_url(re.compile(r"/production$"))
    projects = page.get_by_role("region", name="Projects")
    card = projects.get_by_role("listitem").filter(has_text=f"Harbour Lights (feature) {token}")
    expect(card).to_contain_text("Spent $66,234.56 of $100,000.00")
    expect(card).to_contain_text("Pre-production")
    expect(card).to_contain_text("1 line over")
    expect(card).to_contain_text("Milestones 1/2")
    overview = page.get_by_role("region", name="Investment in your pitches")
    expect(overview.locator("dl")).to_contain_text("Invested$2,000.25")
    expect(overview.locator("dl")).to_contain_text("Investors2")
    row = overview.get_by_role("row").filter(has_text=f"Harbour Lights {token}")
    expect(row).to_contain_text("$2,000.25")
    figures = page.get_by_role("group", name="Your figures")
    expect(figures).to_contain_text("$66,234.56")
    expect(page.get_by_role("region", name="Over budget")).to_contain_text("$5,000.00 over")

    # The stage filter is in the URL and filters.
    projects.get_by_label("Stage").select_option(label="Completed")
    expect(page).to_have_url(re.compile(r"/production\?stage=completed$"))
    expect(projects).to_contain_text("No project is in completed")
    projects.get_by_label("Stage").select_option(label="All stages")
    expect(card).to_be_visible()

    page.wait_for_load_state("networkidle")
    axe_check(page, "production dashboard")
    shot(page, "journey-production-dashboard")
    shot_phone(page, "journey-production-dashboard")


def test_start_a_project_from_a_followed_creators_pitch(
    new_context, live_server, api_register, api_create_published_pitch, axe_check, shot
):
    """The other way in: the following feed links a pitch to /production/projects/new?pitchId=.
    Also the empty states of a project without lines, and a project that is not there."""
    token = "feed" + uuid.uuid4().hex[:6]
    creator = new_context()
    cora = api_register(creator, "creator", name=f"Cora {token}")

    ctx = new_context()
    api_register(ctx, "production", name="Paz Producer", companyName="Southlight")
    resp = ctx.request.post(f"{live_server.url}/api/follows", data={"userId": cora["id"]})
    assert resp.status == 201, resp.text()
    pitch = api_create_published_pitch(creator, title=f"Tidewater {token}", genre="Mystery")

    page = ctx.new_page()
    page.goto("/production")
    feed = page.get_by_role("region", name="From people you follow")
    expect(feed.get_by_role("link", name=f"Tidewater {token}", exact=True)).to_be_visible()
    expect(feed).to_contain_text(f"Cora {token} published")
    feed.get_by_role("link", name="See all from people you follow").click()
    expect(page).to_have_url(re.compile(r"/production/following$"))
    expect(page.get_by_role("heading", level=1, name="From people you follow")).to_be_visible()
    item = page.get_by_role("listitem").filter(has_text=f"Tidewater {token}")
    expect(item).to_contain_text("Mystery")
    page.wait_for_load_state("networkidle")
    axe_check(page, "production following")
    shot(page, "production-following")
    item.get_by_role("link", name=f"Start a project from Tidewater {token}").click()

    # Arriving with ?pitchId=: the pitch is chosen and the title offered; the empty rows are not sent.
    expect(page).to_have_url(re.compile(rf"/production/projects/new\?pitchId={pitch['id']}$"))
    expect(page.get_by_role("region", name="Pitch")).to_contain_text(f"Tidewater {token}")
    expect(page.get_by_label("Title")).to_have_value(f"Tidewater {token}")
    page.get_by_label("Total budget (USD)").fill("5,000.5")
    page.get_by_role("button", name="Create project").click()
    expect(page).to_have_url(re.compile(r"/production/projects/\d+$"))
    expect(page.get_by_role("heading", level=1, name=f"Tidewater {token}")).to_be_visible()
    expect(page.get_by_role("group", name="Budget totals")).to_contain_text("$5,000.50")
    expect(page.get_by_role("region", name="Budget")).to_contain_text("No budget lines yet")
    expect(page.get_by_role("region", name="Record an expense")).to_contain_text("add one first")
    expect(page.get_by_role("region", name="Milestones")).to_contain_text("No milestones yet")

    # A line added by editing the project; then an expense can be recorded against it.
    page.get_by_role("button", name="Edit project").click()
    edit = page.get_by_role("region", name="Edit project")
    edit.get_by_role("button", name="Add budget line").click()
    edit.get_by_label("Category, line 1").fill("Locations")
    edit.get_by_label("Allocated, line 1").fill("2500")
    edit.get_by_label("Stage").select_option(label="Production")
    axe_check(page, "edit project")
    shot(page, "production-edit-project")
    edit.get_by_role("button", name="Save changes").click()
    expect(edit).to_be_hidden()
    expect(_budget_row(page, "Locations")).to_contain_text("$2,500.00")
    expect(page.get_by_role("heading", level=1).locator("..")).to_contain_text("Production")
    form = page.get_by_role("region", name="Record an expense")
    form.get_by_label("Amount (USD)").fill("12.345")
    form.get_by_role("button", name="Record expense").click()
    expect(form.get_by_label("Amount (USD)")).to_have_attribute("aria-invalid", "true")
    expect(form.get_by_label("Amount (USD)")).to_have_value("12.345")
    form.get_by_label("Amount (USD)").fill("12.34")
    form.get_by_role("button", name="Record expense").click()
    expect(_budget_row(page, "Locations")).to_contain_text("$2,487.66")

    # One dated yesterday: spending now spans two days, so the spend-over-time view appears, with
    # its figures as a table too (the chart itself is hidden from assistive technology).
    yesterday = (datetime.now(UTC).date() - timedelta(days=1)).isoformat()
    expect(page.get_by_role("region", name="Spend over time")).to_have_count(0)
    form.get_by_label("Amount (USD)").fill("100")
    form.get_by_label("Date spent").fill(yesterday)
    form.get_by_label("Note").fill("Scouting trip")
    form.get_by_role("button", name="Record expense").click()
    expect(_budget_row(page, "Locations")).to_contain_text("$2,387.66")
    spend = page.get_by_role("region", name="Spend over time")
    expect(spend).to_contain_text("$112.34 spent from")
    expect(spend).to_contain_text("on 2 days")
    spend.get_by_text("Spend by day as a table").click()
    days = spend.get_by_role("table", name="Spend by day")
    expect(days.get_by_role("row")).to_have_count(3)
    expect(days.get_by_role("row").nth(1)).to_contain_text("$100.00")
    expect(days.get_by_role("row").nth(2)).to_contain_text("$12.34")
    expect(days.get_by_role("row").nth(2)).to_contain_text("$112.34")
    page.wait_for_load_state("networkidle")
    axe_check(page, "project without milestones")
    # The charts are drawn (lazily loaded) before the picture is taken.
    expect(page.get_by_role("region", name="Budget").locator("svg.recharts-surface").first).to_be_visible()
    expect(spend.locator(".recharts-line").first).to_be_visible()
    shot(page, "journey-production-from-feed")

    # Another company's project, or none: said in words.
    page.goto("/production/projects/999999999")
    expect(page.get_by_role("heading", level=1, name="Project not found")).to_be_visible()
    expect(page.get_by_role("alert")).to_contain_text("not found")
