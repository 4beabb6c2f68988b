"""A desk lead's Monday: from the queue to the reports, narrowed to a team by week, the numbers behind a
chart, in both themes, on a desktop and on a phone."""

from __future__ import annotations

from datetime import timedelta

import pytest
from playwright.sync_api import expect

from supportdesk.core import clock
from supportdesk.sla.models import BusinessCalendar, SlaPolicy
from supportdesk.tickets import service
from supportdesk.tickets.lifecycle import Priority, Status
from tests.e2e.test_flows import sign_in
from tests.factories import make_admin, make_category, make_team, make_technician

pytestmark = pytest.mark.e2e


@pytest.fixture
def busy_desk(session):  # type: ignore[no-untyped-def]
    lead = make_technician(session, email="lena@example.com", full_name="Lena Lead")
    sam = make_technician(session, email="sam@example.com", full_name="Sam Okafor")
    network = make_team(session, "Network", members=[lead, sam])
    make_team(session, "Payroll")
    categories = [make_category(session, name, team=network) for name in ("VPN", "Wifi", "Printers")]
    admin = make_admin(session, email="ada@example.com")
    # Round the clock: a first answer within 4.5 hours, a resolution within 30.
    calendar = BusinessCalendar(
        name="Always", zone="UTC", weekly={str(day): [[0, 24 * 60]] for day in range(7)}, holidays=[]
    )
    session.add(calendar)
    session.flush()
    session.add(
        SlaPolicy(
            name="Standard",
            position=1,
            calendar_id=calendar.id,
            first_response_minutes=270,
            resolution_minutes=30 * 60,
        )
    )
    session.commit()
    # Every change at least 20 hours in the past, so none falls on a later day than the report's today.
    start = clock.now() - timedelta(days=21)
    for i in range(30):
        with clock.frozen_at(start + timedelta(hours=15 * i)):
            ticket = service.create_ticket(
                session,
                admin,
                subject=f"Network trouble {i}",
                team_id=network.id,
                category_id=categories[i % 3].id,
                priority=Priority.HIGH if i % 4 == 0 else Priority.NORMAL,
                assignee_id=(lead if i % 2 else sam).id,
            )
        with clock.frozen_at(start + timedelta(hours=15 * i + 2 + i % 5)):
            service.add_comment(session, lead, ticket.number, "On it")
        if i % 3:
            with clock.frozen_at(start + timedelta(hours=15 * i + 20 + i)):
                service.transition(session, lead, ticket.number, Status.RESOLVED)
        session.commit()
    return network


# A function, not an expression: Playwright evaluates a bare expression with eval, which the page's
# Content-Security-Policy refuses whenever the first check fails and it polls again.
NINE_CHARTS = "() => !!window.Chart && Object.keys(window.Chart.instances).length === 9"


@pytest.mark.parametrize(("width", "device"), [(1280, "desktop"), (390, "phone")])
def test_a_desk_lead_reads_the_week(browser, live_server, busy_desk, screenshot_dir, width, device) -> None:  # type: ignore[no-untyped-def]
    context = browser.new_context(viewport={"width": width, "height": 900}, color_scheme="light")
    page = context.new_page()
    errors: list[str] = []

    def console(message) -> None:  # type: ignore[no-untyped-def]
        if message.type == "error":
            errors.append(f"{message.text} {message.location}")

    page.on("console", console)
    sign_in(page, live_server, "lena@example.com")
    page.wait_for_url("**/desk/**")  # a technician lands on the queue
    toggler = page.get_by_role("button", name="Toggle navigation")
    if toggler.is_visible():
        toggler.click()
        page.locator("#sd-nav.show").wait_for()
    page.get_by_role("link", name="Reports").click()
    expect(page.get_by_role("heading", name="Reports", level=1)).to_be_visible()
    expect(page.get_by_role("heading", name="Tickets created and resolved per day")).to_be_visible()
    # Nine charts drawn, none empty.
    page.wait_for_function(NINE_CHARTS)
    assert page.evaluate("document.documentElement.scrollWidth - document.documentElement.clientWidth") <= 0
    page.screenshot(path=str(screenshot_dir / f"reports-{device}-light.png"), full_page=True)

    page.get_by_label("Team", exact=True).select_option(label="Network")
    page.get_by_label("Per", exact=True).select_option("week")
    page.get_by_role("button", name="Show").click()
    expect(page.get_by_role("heading", name="Tickets created and resolved per week")).to_be_visible()
    page.wait_for_function(NINE_CHARTS)

    # The numbers behind the volume chart: 30 tickets raised in the four weeks, 20 resolved.
    volume = page.locator("#r-volume-table")
    page.locator("section", has=volume).get_by_text("The numbers").click()
    expect(volume).to_be_visible()
    cells = volume.locator("tbody tr")
    created = sum(int(cells.nth(i).locator("td").nth(0).inner_text()) for i in range(cells.count()))
    resolved = sum(int(cells.nth(i).locator("td").nth(1).inner_text()) for i in range(cells.count()))
    assert (created, resolved) == (30, 20)
    # Service levels: answered within 2-6 hours (met up to 4.5), resolved within 21-49 (met up to 30),
    # four open tickets whose first answer came late.
    levels = page.locator("#r-service-levels-team-table")
    page.locator("section", has=levels).get_by_text("The numbers").click()
    expect(levels.locator("tbody tr")).to_have_count(1)
    cells = levels.locator("tbody tr").first.locator("th, td").all_inner_texts()
    assert cells == ["Network", "18", "12", "60.0", "7", "13", "35.0", "4"]
    technicians = page.locator("#r-technicians-table")
    expect(technicians).to_contain_text("Lena Lead")
    expect(technicians).to_contain_text("Sam Okafor")

    # Dark theme: the charts are drawn again in its colours.
    if page.get_by_role("button", name="Toggle navigation").is_visible():
        page.get_by_role("button", name="Toggle navigation").click()
        page.locator("#sd-nav.show").wait_for()
    page.get_by_role("button", name="Switch between light and dark theme").click()
    page.wait_for_function(
        "() => Object.values(window.Chart.instances)[0].options.scales.x.ticks.color !== '#212529'"
    )
    page.screenshot(path=str(screenshot_dir / f"reports-{device}-dark.png"), full_page=True)
    # The site has no favicon (a 404 every browser asks for); anything else is our error.
    assert [e for e in errors if "favicon.ico" not in e] == []
    context.close()
