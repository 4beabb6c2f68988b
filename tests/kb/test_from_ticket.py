"""A resolved ticket's answer becomes a draft article in one step: the subject as its title, the
problem and the desk's last public reply as its text, the ticket's category; never an internal note."""

from __future__ import annotations

import pytest
from sqlalchemy import select

from supportdesk.core.errors import NotFound, PermissionDenied, ValidationError
from supportdesk.kb import reads, service
from supportdesk.kb.models import Article, ArticleState
from supportdesk.tickets import service as tickets
from supportdesk.tickets.lifecycle import Status
from tests.conftest import form_token, login, page_text
from tests.factories import make_category, make_requester, make_technician, make_ticket


@pytest.fixture
def solved(session):
    sam = make_technician(session, email="sam@example.com", full_name="Sam Okafor")
    erin = make_requester(session, email="erin@example.com", full_name="Erin Employee")
    vpn = make_category(session, "VPN")
    ticket = make_ticket(
        session, erin, subject="VPN drops every hour", description="Since Monday.", category_id=vpn.id
    )
    tickets.add_comment(session, sam, ticket.number, "First try: reboot.")
    session.commit()
    tickets.add_comment(session, sam, ticket.number, "Erin is on the layoff list", internal=True)
    session.commit()
    tickets.add_comment(session, erin, ticket.number, "Still dropping.")
    session.commit()
    tickets.add_comment(session, sam, ticket.number, "Switch the client to **TCP** in Settings.")
    session.commit()
    tickets.transition(session, sam, ticket.number, Status.RESOLVED)
    session.commit()
    return {"sam": sam, "erin": erin, "vpn": vpn, "number": ticket.number}


def test_a_resolved_tickets_answer_becomes_a_draft_article(session, solved):
    article = service.draft_from_ticket(session, solved["sam"], solved["number"])
    session.commit()
    assert (article.title, article.state, article.category_id) == (
        "VPN drops every hour",
        ArticleState.DRAFT,
        solved["vpn"].id,
    )
    assert "Since Monday." in article.body and "Switch the client to **TCP** in Settings." in article.body
    assert "layoff" not in article.body and "reboot" not in article.body
    (version,) = reads.article_versions(session, solved["sam"], article.id)
    assert version.change == f"created from ticket #{solved['number']}"


def test_only_a_resolved_ticket_with_an_answer_and_only_the_desk(session, solved):
    sam, erin = solved["sam"], solved["erin"]
    with pytest.raises(PermissionDenied):
        service.draft_from_ticket(session, erin, solved["number"])
    with pytest.raises(NotFound):
        service.draft_from_ticket(session, sam, 999_999)
    open_ticket = make_ticket(session, erin, subject="Printer")
    tickets.add_comment(session, sam, open_ticket.number, "Looking at it.")
    session.commit()
    with pytest.raises(ValidationError):
        service.draft_from_ticket(session, sam, open_ticket.number)
    unanswered = make_ticket(session, erin, subject="Nothing said")
    tickets.transition(session, sam, unanswered.number, Status.RESOLVED)
    session.commit()
    with pytest.raises(ValidationError):
        service.draft_from_ticket(session, sam, unanswered.number)
    session.rollback()
    assert session.scalars(select(Article)).all() == []


def test_the_ticket_page_makes_the_draft_and_opens_it(client, session, solved):
    login(client, "sam@example.com")
    url = f"/desk/tickets/{solved['number']}"
    assert "Make a help article" in page_text(client.get(url))
    made = client.post(f"{url}/article", data=form_token(client, url))
    assert made.status_code == 302 and made.headers["Location"].endswith("/edit")
    page = page_text(client.get(made.headers["Location"]))
    assert "Draft article made from" in page and "Switch the client to **TCP** in Settings." in page
