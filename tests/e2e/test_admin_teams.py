"""An admin renames a team and deletes another, choosing where its tickets go (issue 15). Desktop and
phone."""

from __future__ import annotations

import pytest
from playwright.sync_api import expect
from sqlalchemy import select

from supportdesk.accounts.models import Team
from supportdesk.tickets.models import Ticket
from tests.e2e.test_flows import sign_in
from tests.e2e.test_technician_day import open_page
from tests.factories import make_admin, make_category, make_requester, make_team, make_ticket

pytestmark = pytest.mark.e2e


@pytest.fixture
def desk(session):
    make_admin(session, email="ada@example.com", full_name="Ada Admin")
    make_team(session, "Printers")
    hardware = make_team(session, "Hardware")
    laptops = make_category(session, "Laptops", team=hardware)
    erin = make_requester(session)
    for n in range(2):
        make_ticket(session, erin, subject=f"Jam {n}", category_id=laptops.id)
    session.commit()
    return {"hardware": hardware.id}


def names(session) -> list[str]:
    session.expire_all()
    return sorted(t.name for t in session.scalars(select(Team)))


@pytest.mark.parametrize("device", ["desktop", "phone"])
def test_an_admin_renames_and_deletes_teams(browser, live_server, desk, session, device, screenshot_dir):
    page = open_page(browser, device)
    sign_in(page, live_server, "ada@example.com")
    page.goto(f"{live_server}/admin/teams")
    printers = page.get_by_role("form", name="Rename Printers")
    printers.get_by_label("Name").fill("Print and scan")
    printers.get_by_role("button", name="Rename").click()
    expect(page.get_by_text("Printers is now called Print and scan.")).to_be_visible()
    assert names(session) == ["Hardware", "Print and scan"]

    # Deleting says what happens to its 2 tickets, asks first, and moves them where the admin chose.
    delete = page.get_by_role("form", name="Delete Hardware")
    expect(delete).to_contain_text("2 tickets")
    delete.get_by_label("Move its tickets to").select_option(label="Print and scan")
    page.screenshot(path=str(screenshot_dir / f"admin-teams-{device}.png"), full_page=True)
    page.once("dialog", lambda dialog: dialog.dismiss())
    delete.get_by_role("button", name="Delete team").click()
    assert names(session) == ["Hardware", "Print and scan"]
    page.once("dialog", lambda dialog: dialog.accept())
    delete.get_by_role("button", name="Delete team").click()
    expect(
        page.get_by_text("Team Hardware deleted: its 2 tickets are now with Print and scan.")
    ).to_be_visible()
    assert names(session) == ["Print and scan"]
    session.expire_all()
    assert {t.team.name for t in session.scalars(select(Ticket))} == {"Print and scan"}
    page.context.close()
