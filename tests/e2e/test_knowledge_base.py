"""The knowledge base (issue 21, US-90), walked in a browser at desktop and phone widths: a technician
writes an article (a draft first, with a live preview), publishes it and corrects it, and reads who
changed what; an internal article stays in the desk; an employee finds the public one in the portal by
category and by search (the words highlighted), reads it, and never meets the internal one."""

from __future__ import annotations

import re

import pytest
from playwright.sync_api import Page, expect
from sqlalchemy import select

from supportdesk.kb import service
from supportdesk.kb.models import Article, ArticleState, Visibility
from tests.e2e.test_flows import sign_in, sign_out
from tests.e2e.test_technician_day import open_page
from tests.factories import make_category, make_requester, make_technician

pytestmark = pytest.mark.e2e


@pytest.fixture
def desk(session):
    sam = make_technician(session, email="sam@example.com", full_name="Sam Okafor")
    make_requester(session, email="erin@example.com", full_name="Erin Employee")
    vpn = make_category(session, "Network & VPN")
    internal = service.create_article(
        session,
        sam,
        title="VPN concentrator runbook",
        body="Restart the VPN concentrator from the admin console.",
        category_id=vpn.id,
        visibility=Visibility.INTERNAL,
    )
    service.publish_article(session, sam, internal.id)
    session.commit()
    return {"vpn": vpn}


def open_menu(page: Page, name: str) -> None:
    """A link of the main menu, unfolding it first at phone width."""
    page.locator("html[data-sd-ready]").wait_for(state="attached")
    toggler = page.get_by_role("button", name="Toggle navigation")
    if toggler.is_visible():
        toggler.click()
        page.locator("#sd-nav.show").wait_for()
    page.get_by_role("navigation", name="Main").get_by_role("link", name=name).click()


def article_in_db(session) -> Article:
    session.expire_all()
    return session.scalars(select(Article).where(Article.title.like("%home%"))).one()


@pytest.mark.parametrize("device", ["desktop", "phone"])
def test_a_technician_publishes_an_article_and_an_employee_finds_it(
    browser, live_server, desk, session, device, screenshot_dir
):
    page = open_page(browser, device)
    sign_in(page, live_server, "sam@example.com")
    open_menu(page, "Knowledge base")
    expect(page.get_by_role("heading", name="Knowledge base")).to_be_visible()
    expect(page.get_by_role("link", name="VPN concentrator runbook")).to_be_visible()
    page.get_by_role("link", name="New article").click()

    # A title is required; what was typed stays.
    page.get_by_label("Article").fill("1. Open **GlobalProtect**\n2. Sign in with your usual password")
    page.get_by_role("button", name="Save draft").click()
    expect(page.get_by_text("is required")).to_be_visible()
    expect(page.get_by_label("Article")).to_have_value(re.compile("GlobalProtect"))
    page.get_by_label("Title").fill("Connect to the VPN from home")
    page.get_by_label("Category").select_option(label="Network & VPN")
    page.get_by_label("Tags").fill("vpn, remote access")
    page.get_by_label("Article").press("Control+End")
    page.get_by_label("Article").type("\n3. Wait for the green shield")
    expect(page.locator("#body-preview strong", has_text="GlobalProtect")).to_be_visible()
    page.screenshot(path=str(screenshot_dir / f"kb-new-article-{device}.png"), full_page=True)
    page.get_by_role("button", name="Save draft").click()
    expect(page.get_by_text("Article “Connect to the VPN from home” saved as a draft.")).to_be_visible()
    expect(page.get_by_text("Draft: employees do not see it")).to_be_visible()
    assert article_in_db(session).state is ArticleState.DRAFT

    page.get_by_role("button", name="Publish").click()
    expect(page.get_by_text("Article “Connect to the VPN from home” published.")).to_be_visible()
    page.get_by_role("link", name="Edit").click()
    page.get_by_label("Article").fill(
        "1. Open **GlobalProtect**\n2. Sign in with your usual password\n3. Wait for the green shield\n\n"
        "Still red? Restart the laptop."
    )
    page.get_by_role("button", name="Save", exact=True).click()
    expect(page.get_by_text("Article “Connect to the VPN from home” saved.")).to_be_visible()
    expect(page.locator(".sd-kb-body")).to_contain_text("Still red? Restart the laptop.")
    page.get_by_role("link", name="History").click()
    expect(page.get_by_role("heading", name="Version 3: body")).to_be_visible()
    expect(page.get_by_role("heading", name="Version 2: published")).to_be_visible()
    expect(page.get_by_role("heading", name="Version 1: created")).to_be_visible()
    page.get_by_text("What changed in the text").click()
    expect(page.locator(".sd-diff-added", has_text="Still red? Restart the laptop.")).to_be_visible()
    page.screenshot(path=str(screenshot_dir / f"kb-history-{device}.png"), full_page=True)
    article = article_in_db(session)
    assert (article.state, article.version) == (ArticleState.PUBLISHED, 3)
    sign_out(page)

    # The employee: by category, then by search; the internal runbook is nowhere.
    sign_in(page, live_server, "erin@example.com")
    open_menu(page, "Help articles")
    expect(page.get_by_role("heading", name="Help articles")).to_be_visible()
    expect(page.get_by_text("VPN concentrator")).to_have_count(0)
    page.get_by_role("link", name="Network & VPN").click()
    expect(page.get_by_role("link", name="Connect to the VPN from home")).to_be_visible()
    expect(page.get_by_text("VPN concentrator")).to_have_count(0)
    page.get_by_label("Search help articles").fill("vpn shield")
    page.get_by_label("Search help articles").press("Enter")
    results = page.get_by_role("list", name=re.compile("Articles matching"))
    expect(results.get_by_role("listitem")).to_have_count(1)
    expect(results.locator("mark", has_text="shield")).to_be_visible()
    page.screenshot(path=str(screenshot_dir / f"kb-portal-search-{device}.png"), full_page=True)
    results.get_by_role("link").click()
    expect(page.get_by_role("heading", name="Connect to the VPN from home")).to_be_visible()
    expect(page.locator(".sd-kb-body strong", has_text="GlobalProtect")).to_be_visible()
    expect(page.get_by_text("vpn", exact=True)).to_be_visible()  # a tag
    page.screenshot(path=str(screenshot_dir / f"kb-portal-article-{device}.png"), full_page=True)

    page.goto(f"{live_server}/portal/help?q=concentrator")
    expect(page.get_by_text("No articles match “concentrator”.")).to_be_visible()
    page.context.close()
