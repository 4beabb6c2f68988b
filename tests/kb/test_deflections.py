"""Articles that answer a ticket before it is raised: suggested while an employee types (published
public ones only, for everyone), "This solved it" counted as a deflection, the admins' figures per
article and per category beside the tickets raised; and the composer's picker of article links."""

from __future__ import annotations

from datetime import timedelta

import pytest
from sqlalchemy import func, select

from supportdesk.core import clock
from supportdesk.core.errors import NotFound, PermissionDenied
from supportdesk.kb import reads, service
from supportdesk.kb.models import Deflection, Visibility
from tests.conftest import form_token, login, page_text
from tests.factories import make_admin, make_category, make_requester, make_technician, make_ticket


@pytest.fixture
def kb(session):
    sam = make_technician(session, email="sam@example.com", full_name="Sam Okafor")
    ada = make_admin(session, email="ada@example.com", full_name="Ada Admin")
    erin = make_requester(session, email="erin@example.com", full_name="Erin Employee")
    vpn, mail = make_category(session, "VPN"), make_category(session, "Email")
    articles = {}
    for key, title, body, category, visibility, publish in [
        ("vpn", "VPN keeps disconnecting", "Switch the VPN client to TCP.", vpn, Visibility.PUBLIC, True),
        ("runbook", "VPN gateway runbook", "Restart the VPN gateway.", vpn, Visibility.INTERNAL, True),
        ("draft", "VPN outage (draft)", "The VPN is down.", vpn, Visibility.PUBLIC, False),
        (
            "mail",
            "Outlook asks for a password",
            "Sign out of Outlook and in again.",
            mail,
            Visibility.PUBLIC,
            True,
        ),
    ]:
        article = service.create_article(
            session, sam, title=title, body=body, category_id=category.id, visibility=visibility
        )
        if publish:
            service.publish_article(session, sam, article.id)
        articles[key] = article
    session.commit()
    return {"sam": sam, "ada": ada, "erin": erin, "vpn": vpn, "mail": mail, **articles}


def deflections(session) -> int:
    return session.scalar(select(func.count(Deflection.id)))


def test_suggestions_are_published_public_articles_for_everyone(session, kb):
    for who in ("erin", "sam"):
        found = reads.suggest_articles(session, kb[who], "my vpn disconnects all the time")
        assert [h.title for h in found] == ["VPN keeps disconnecting"], who
    # Any meaningful word of the subject, then the description.
    assert [h.title for h in reads.suggest_articles(session, kb["erin"], "Help", "outlook password")] == [
        "Outlook asks for a password"
    ]
    # Titles and tags first, then the text of the articles.
    assert [h.title for h in reads.suggest_articles(session, kb["erin"], "vpn over tcp")] == [
        "VPN keeps disconnecting"
    ]
    assert [h.title for h in reads.suggest_articles(session, kb["erin"], "outlook tcp")] == [
        "Outlook asks for a password",
        "VPN keeps disconnecting",
    ]
    assert reads.suggest_articles(session, kb["erin"], "it", "") == []
    assert reads.suggest_articles(session, kb["erin"], "the and for", "") == []


def test_this_solved_it_counts_a_deflection_for_a_public_article_only(session, kb):
    erin = kb["erin"]
    deflection = service.record_deflection(session, erin, kb["vpn"].id, "  VPN   drops\x01 again ")
    session.commit()
    assert (deflection.category_id, deflection.user_id, deflection.query) == (
        kb["vpn"].category_id,
        erin.id,
        "VPN drops again",
    )
    for hidden in ("runbook", "draft"):
        with pytest.raises(NotFound):
            service.record_deflection(session, erin, kb[hidden].id, "x")
        with pytest.raises(NotFound):  # not for the desk either: nobody was offered it
            service.record_deflection(session, kb["sam"], kb[hidden].id, "x")
    with pytest.raises(NotFound):
        service.record_deflection(session, erin, 999_999, "x")
    session.rollback()
    assert deflections(session) == 1


def test_admins_see_deflections_per_article_and_per_category(session, kb):
    erin = kb["erin"]
    for _ in range(3):
        service.record_deflection(session, erin, kb["vpn"].id, "vpn")
    service.record_deflection(session, erin, kb["mail"].id, "outlook")
    old = service.record_deflection(session, erin, kb["mail"].id, "outlook, last year")
    old.created_at = clock.now() - timedelta(days=400)
    session.commit()
    make_ticket(session, erin, subject="VPN again", category_id=kb["vpn"].id)
    make_ticket(session, erin, subject="Printer", category_id=None)
    report = reads.deflection_report(session, kb["ada"], clock.now() - timedelta(days=30))
    assert report.total == 4
    assert [(r.title, r.deflections) for r in report.by_article] == [
        ("VPN keeps disconnecting", 3),
        ("Outlook asks for a password", 1),
    ]
    assert [(r.name, r.deflections, r.tickets, r.rate) for r in report.by_category] == [
        ("VPN", 3, 1, 0.75),
        ("Email", 1, 0, 1.0),
    ]
    assert reads.deflection_report(session, kb["ada"], clock.now() - timedelta(days=500)).total == 5
    with pytest.raises(PermissionDenied):
        reads.deflection_report(session, kb["sam"], clock.now())


def test_the_new_ticket_form_suggests_and_this_solved_it_leaves_it(client, session, kb):
    login(client, "erin@example.com")
    assert 'hx-get="/portal/help/suggestions"' in page_text(client.get("/portal/new"))
    part = page_text(client.get("/portal/help/suggestions?subject=vpn+disconnects&description="))
    assert "<mark>VPN</mark> keeps <mark>disconnecting</mark>" in part and "This solved it" in part
    assert "runbook" not in part and "outage" not in part
    assert page_text(client.get("/portal/help/suggestions?subject=zz")).strip() == ""

    token = form_token(client, "/portal/new")
    solved = client.post(
        f"/portal/help/{kb['vpn'].id}/solved",
        data={"subject": "vpn disconnects"},
        headers={"HX-Request": "true", "X-CSRFToken": token["csrf_token"]},
    )
    assert solved.status_code == 204 and solved.headers["HX-Redirect"] == "/portal/"
    assert "No ticket was raised" in page_text(client.get("/portal/"))
    refused = client.post(f"/portal/help/{kb['runbook'].id}/solved", data={**token, "subject": "x"})
    assert refused.status_code == 404 and "gateway" not in page_text(refused)
    session.expire_all()
    assert session.scalars(select(Deflection.query)).all() == ["vpn disconnects"]

    client.delete_cookie("session")
    login(client, "ada@example.com")
    page = page_text(client.get("/admin/kb/deflections?days=7"))
    assert "VPN keeps disconnecting" in page and "100%" in page
    assert client.get("/admin/kb/deflections?days=%C2%B2").status_code == 200
    client.delete_cookie("session")
    login(client, "sam@example.com")
    assert client.get("/admin/kb/deflections").status_code == 404


def test_the_composer_picker_offers_links_to_public_articles(client, session, kb):
    login(client, "sam@example.com")
    options = page_text(client.get("/desk/kb/picker?q=vpn"))
    link = f"[VPN keeps disconnecting](http://localhost/portal/help/{kb['vpn'].id})"
    assert f'data-body="{link}"' in options
    assert "runbook" not in options and "outage" not in options
    assert "Outlook asks" in page_text(client.get("/desk/kb/picker"))
    assert "No published public article matches" in page_text(client.get("/desk/kb/picker?q=zzz"))
    client.delete_cookie("session")
    login(client, "erin@example.com")
    assert client.get("/desk/kb/picker?q=vpn").status_code == 404
