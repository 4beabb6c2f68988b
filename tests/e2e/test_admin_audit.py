"""An admin changes a technician's role, finds the change in the audit log (who, from where, before and
after), narrows the log to role changes and exports it as CSV. Desktop and phone."""

from __future__ import annotations

import csv
import io
import re
from pathlib import Path

import pytest
from playwright.sync_api import expect

from tests.e2e.test_flows import sign_in
from tests.e2e.test_technician_day import open_page
from tests.factories import make_admin, make_technician

pytestmark = pytest.mark.e2e


@pytest.mark.parametrize("device", ["desktop", "phone"])
def test_an_admin_changes_a_role_and_finds_and_exports_it(
    browser, live_server, session, device, screenshot_dir
):
    make_admin(session, email="ada@example.com", full_name="Ada Admin")
    make_technician(session, email="sam@example.com", full_name="Sam Okafor")
    page = open_page(browser, device)
    sign_in(page, live_server, "ada@example.com")
    page.goto(f"{live_server}/admin/users")
    row = page.get_by_role("row").filter(has_text="Sam Okafor")
    row.get_by_label("Role of Sam Okafor").select_option("admin")
    row.get_by_role("button", name="Save role of Sam Okafor").click()
    expect(page.get_by_text("Sam Okafor is now a admin", exact=False)).to_be_visible()
    # A team, to have more than one kind of entry to filter.
    page.goto(f"{live_server}/admin/teams")
    page.get_by_label("Name").fill("Network")
    page.get_by_role("button", name=re.compile("Create|Add")).click()

    page.get_by_role("link", name="Audit log").click()
    log = page.get_by_role("table")
    expect(log.get_by_role("row")).to_have_count(3)  # the header and two entries
    entry = log.get_by_role("row").filter(has_text="Role changed")
    expect(entry).to_contain_text("ada@example.com")
    expect(entry).to_contain_text("sam@example.com")
    expect(entry).to_contain_text("technician → admin")
    expect(entry).to_contain_text("127.0.0.1")
    page.get_by_label("Action").select_option("user.role_changed")
    page.get_by_role("button", name="Filter").click()
    expect(log.get_by_role("row")).to_have_count(2)
    page.screenshot(path=str(screenshot_dir / f"admin-audit-{device}.png"), full_page=True)

    with page.expect_download() as waiting:
        page.get_by_role("link", name="Export CSV").click()
    download = waiting.value
    rows = list(csv.reader(io.StringIO(Path(download.path()).read_text(encoding="utf-8-sig"))))
    assert len(rows) == 2, rows
    assert rows[1][2] == "ada@example.com" and rows[1][7] == "user.role_changed"
    assert rows[1][10] == "sam@example.com" and '"role": "admin"' in rows[1][12]
    page.context.close()
