"""An admin finds a job that failed and a message that could not be sent, and starts both again."""

from __future__ import annotations

import pytest
from playwright.sync_api import expect

from supportdesk.jobs.models import FailedJob
from supportdesk.notifications.models import OutboxMessage
from tests.e2e.test_flows import sign_in
from tests.factories import make_admin

pytestmark = pytest.mark.e2e


@pytest.mark.parametrize("width", [1280, 360])
def test_an_admin_retries_a_failed_job_and_a_failed_message(
    browser, live_server, session, screenshot_dir, width
):
    make_admin(session, email="ada@example.com", full_name="Ada Admin")
    session.add(
        FailedJob(
            task_name="supportdesk.jobs.tasks.deliver_outbox",
            arguments='{"args": [], "kwargs": {}}',
            error="could not connect to the relay: [Errno 111] Connection refused",
            details="Traceback (most recent call last): ...",
            attempts=6,
        )
    )
    session.add(
        OutboxMessage(
            kind="test",
            message_id="<mail-1.abc@example.com>",
            sender="support@example.com",
            recipients="erin@example.com",
            subject="[#1001] Laptop battery drains in an hour",
            raw="Subject: x\n\nbody\n",
            status="failed",
            attempts=8,
            last_error="(451, b'4.3.0 Temporary failure, try again later')",
        )
    )
    session.commit()
    device = "desktop" if width > 600 else "phone"
    page = browser.new_context(viewport={"width": width, "height": 900}).new_page()
    sign_in(page, live_server, "ada@example.com")
    page.goto(f"{live_server}/admin/users")
    page.get_by_role("link", name="Jobs").click()
    expect(page.get_by_role("heading", name="Jobs that failed")).to_be_visible()
    expect(page.get_by_text("could not connect to the relay")).to_be_visible()
    expect(page.get_by_text("[#1001] Laptop battery drains in an hour")).to_be_visible()
    overflow = page.evaluate("document.documentElement.scrollWidth - document.documentElement.clientWidth")
    assert overflow <= 0, f"the jobs page scrolls sideways at {width}px"
    page.screenshot(path=str(screenshot_dir / f"admin-jobs-{device}.png"), full_page=True)

    page.get_by_role("button", name="Retry").click()
    expect(page.get_by_text("deliver_outbox queued again.")).to_be_visible()
    expect(page.get_by_text("No failed jobs.")).to_be_visible()
    page.get_by_role("button", name="Send again").click()
    expect(page.get_by_text("The message will be sent again.")).to_be_visible()
    expect(page.get_by_text("No failed mail.")).to_be_visible()
