"""The knowledge base (issue 21, US-90), walked in a browser at desktop and phone widths: a technician
writes an article (a draft first, with a live preview), publishes it and corrects it, and reads who
changed what; an internal article stays in the desk; an employee finds the public one in the portal by
category and by search (the words highlighted), reads it, and never meets the internal one."""

from __future__ import annotations

import re

import pytest
from playwright.sync_api import Page, expect
from sqlalchemy import func, select

from supportdesk.accounts.models import User
from supportdesk.kb import service
from supportdesk.kb.models import Article, ArticleState, Deflection, Visibility
from supportdesk.tickets import service as tickets
from supportdesk.tickets.lifecycle import Status
from supportdesk.tickets.models import Comment, Ticket
from tests.e2e.test_flows import sign_in, sign_out
from tests.e2e.test_technician_day import open_page
from tests.factories import make_admin, make_category, make_requester, make_technician, make_ticket

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


@pytest.fixture
def answered(session):
    sam = make_technician(session, email="sam@example.com", full_name="Sam Okafor")
    erin = make_requester(session, email="erin@example.com", full_name="Erin Employee")
    make_admin(session, email="ada@example.com", full_name="Ada Admin")
    vpn = make_category(session, "VPN")
    article = service.create_article(
        session,
        sam,
        title="VPN keeps disconnecting",
        body="Switch the client to **TCP**: Settings, Connection, Protocol.",
        category_id=vpn.id,
    )
    service.publish_article(session, sam, article.id)
    runbook = service.create_article(
        session,
        sam,
        title="VPN gateway runbook",
        body="Restart the VPN gateway.",
        visibility=Visibility.INTERNAL,
    )
    service.publish_article(session, sam, runbook.id)
    session.commit()
    return {"article": article.id, "erin": erin}


@pytest.mark.parametrize("device", ["desktop", "phone"])
def test_an_article_answers_an_employee_before_the_ticket_is_raised(
    browser, live_server, answered, session, device, screenshot_dir
):
    page = open_page(browser, device)
    sign_in(page, live_server, "erin@example.com")
    open_menu(page, "New ticket")
    page.get_by_label("Subject").type("My VPN disconnects every hour")
    suggested = page.get_by_role("list", name="Suggested help articles")
    expect(suggested.get_by_role("listitem")).to_have_count(1)
    expect(suggested.locator("mark", has_text="disconnecting")).to_be_visible()  # the same stem
    expect(suggested.get_by_role("link", name=re.compile("VPN keeps disconnecting"))).to_be_visible()
    expect(page.get_by_text("gateway runbook")).to_have_count(0)
    page.screenshot(path=str(screenshot_dir / f"kb-suggestions-{device}.png"), full_page=True)
    suggested.get_by_role("button", name=re.compile("This solved it")).click()
    expect(page.get_by_text("Glad that solved it. No ticket was raised")).to_be_visible()
    expect(page.get_by_role("heading", name="My tickets")).to_be_visible()
    session.expire_all()
    assert session.scalar(select(func.count(Ticket.id))) == 0
    assert session.scalars(select(Deflection.query)).all() == ["My VPN disconnects every hour"]
    sign_out(page)

    sign_in(page, live_server, "ada@example.com")
    page.goto(f"{live_server}/admin/users")
    page.get_by_role("link", name="Deflections").click()
    per_article = page.get_by_role("table", name="Per article")
    expect(per_article.get_by_role("row", name=re.compile("VPN keeps disconnecting.*1"))).to_be_visible()
    per_category = page.get_by_role("table", name=re.compile("Per category"))
    expect(per_category.get_by_role("row", name=re.compile(r"VPN\s+1\s+0\s+100%"))).to_be_visible()
    page.screenshot(path=str(screenshot_dir / f"kb-admin-deflections-{device}.png"), full_page=True)
    page.context.close()


@pytest.mark.parametrize("device", ["desktop", "phone"])
def test_a_technician_puts_an_article_link_in_a_reply(browser, live_server, answered, session, device):
    ticket = make_ticket(session, answered["erin"], subject="VPN drops")
    page = open_page(browser, device)
    sign_in(page, live_server, "sam@example.com")
    page.goto(f"{live_server}/desk/tickets/{ticket.number}")
    page.locator("html[data-sd-ready]").wait_for(state="attached")
    composer = page.get_by_label("Message")
    composer.click()
    composer.type("This should fix it: ??")
    picker = page.get_by_role("combobox", name="Find a help article")
    expect(picker).to_be_focused()
    picker.type("vpn")
    options = page.get_by_role("listbox", name="Help articles").get_by_role("option")
    expect(options).to_have_count(1)  # the internal runbook is not offered for a reply
    picker.press("Enter")
    link = f"[VPN keeps disconnecting]({live_server}/portal/help/{answered['article']})"
    expect(composer).to_have_value(f"This should fix it: {link}")
    page.get_by_text("Reply to requester").click()
    page.get_by_role("button", name="Send reply to requester").click()
    expect(page.get_by_role("link", name="VPN keeps disconnecting")).to_be_visible()
    session.expire_all()
    sent = session.scalars(select(Comment).order_by(Comment.id.desc()).limit(1)).one()
    assert sent.body == f"This should fix it: {link}" and not sent.internal
    page.context.close()


@pytest.mark.parametrize("device", ["desktop", "phone"])
def test_a_resolved_tickets_answer_becomes_an_article(browser, live_server, answered, session, device):
    sam = session.scalars(select(User).where(User.email == "sam@example.com")).one()
    ticket = make_ticket(
        session, answered["erin"], subject="Teams camera is black", description="Since the update."
    )
    tickets.add_comment(
        session, sam, ticket.number, "Allow the camera in Privacy settings, then restart Teams."
    )
    session.commit()
    tickets.transition(session, sam, ticket.number, Status.RESOLVED)
    session.commit()
    page = open_page(browser, device)
    sign_in(page, live_server, "sam@example.com")
    page.goto(f"{live_server}/desk/tickets/{ticket.number}")
    page.get_by_role("button", name="Make a help article from the answer").click()
    expect(page.get_by_text(f"Draft article made from #{ticket.number}.")).to_be_visible()
    expect(page.get_by_label("Title")).to_have_value("Teams camera is black")
    expect(page.get_by_label("Article")).to_have_value(re.compile("Allow the camera in Privacy settings"))
    page.get_by_label("Title").fill("Teams shows a black camera")
    page.get_by_role("button", name="Save and publish").click()
    expect(page.get_by_text("Article “Teams shows a black camera” saved.")).to_be_visible()
    expect(page.locator(".sd-kb-body h2", has_text="The answer")).to_be_visible()
    session.expire_all()
    article = session.scalars(select(Article).where(Article.title == "Teams shows a black camera")).one()
    assert article.state is ArticleState.PUBLISHED
    page.context.close()
