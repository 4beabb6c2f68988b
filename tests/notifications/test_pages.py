"""The in-app notification list, its unread count in the top bar, email preferences, watchers in the
desk, the mail catcher admins read sent mail in, and the portal's promise on raising a ticket."""

from __future__ import annotations

from sqlalchemy import select

from supportdesk.jobs import engine
from supportdesk.notifications.models import Notification, OutboxMessage, TicketWatcher
from supportdesk.tickets import service
from tests.conftest import form_token, login, page_text
from tests.factories import make_admin, make_requester, make_team, make_technician, make_ticket


def setup_desk(session):
    erin = make_requester(session, email="erin@example.com", full_name="Erin Employee")
    sam = make_technician(session, email="sam@example.com", full_name="Sam Okafor")
    make_team(session, "Service Desk", members=[sam])
    return erin, sam


def test_the_top_bar_counts_unread_notifications_and_the_list_opens_them(clean_app, client, session):
    erin, sam = setup_desk(session)
    with clean_app.app_context():
        ticket = make_ticket(session, erin, subject="Laptop")
        service.add_comment(session, sam, ticket.number, "Is it charging?")
        session.commit()
        service.add_comment(session, sam, ticket.number, "Please try another charger.")
        session.commit()
    login(client, erin.email)
    assert "2" in page_text(client.get("/notifications/badge"))
    page = page_text(client.get("/notifications"))
    assert page.count("Sam Okafor replied") == 2 and "Laptop" in page
    [first, _] = session.scalars(select(Notification).where(Notification.user_id == erin.id)).all()
    response = client.get(f"/notifications/{first.id}")
    assert response.status_code == 302 and response.headers["Location"].endswith(
        f"/portal/tickets/{ticket.number}"
    )
    assert "1" in page_text(client.get("/notifications/badge"))
    client.post("/notifications/read", data=form_token(client, "/notifications"))
    assert page_text(client.get("/notifications/badge")).strip() == ""


def test_nobody_opens_someone_elses_notification(clean_app, client, session):
    erin, sam = setup_desk(session)
    with clean_app.app_context():
        ticket = make_ticket(session, erin, subject="Laptop")
        service.add_comment(session, sam, ticket.number, "Is it charging?")
        session.commit()
    [theirs] = session.scalars(select(Notification).where(Notification.user_id == erin.id)).all()
    login(client, make_requester(session).email)
    assert client.get(f"/notifications/{theirs.id}").status_code == 404
    session.expire_all()
    assert session.get(Notification, theirs.id).read_at is None


def test_a_user_turns_email_off_for_replies(clean_app, client, session):
    erin, sam = setup_desk(session)
    login(client, erin.email)
    page = page_text(client.get("/notifications/settings"))
    assert (
        "A reply on a ticket" in page and "A ticket assigned to me" not in page
    )  # requesters only see theirs
    response = client.post(
        "/notifications/settings",
        data={**form_token(client, "/notifications/settings"), "email_created": "1", "email_resolved": "1"},
    )
    assert response.status_code == 302
    with clean_app.app_context():
        ticket = make_ticket(session, erin, subject="Phone")
        service.add_comment(session, sam, ticket.number, "Which phone?")
        session.commit()
    rows = session.scalars(select(OutboxMessage).where(OutboxMessage.recipients == "erin@example.com")).all()
    assert [r.kind for r in rows] == ["created"]


def test_the_desk_adds_and_removes_watchers(clean_app, client, session):
    erin, sam = setup_desk(session)
    boss = make_requester(session, email="boss@example.com", full_name="Bea Boss")
    with clean_app.app_context():
        ticket = make_ticket(session, erin, subject="Laptop")
    login(client, sam.email)
    path = f"/desk/tickets/{ticket.number}"
    response = client.post(f"{path}/watchers", data={**form_token(client, path), "email": "BOSS@example.com"})
    assert response.status_code == 302
    assert "Bea Boss" in page_text(client.get(f"{path}/watchers"))  # the sidebar loads this part
    refused = client.post(
        f"{path}/watchers", data={**form_token(client, path), "email": "nobody@example.com"}
    )
    assert refused.status_code == 302
    assert "No active user has that email" in page_text(client.get(path))
    client.post(f"{path}/watchers/{boss.id}/remove", data=form_token(client, path))
    assert session.scalars(select(TicketWatcher)).all() == []


def test_a_requester_cannot_manage_watchers(clean_app, client, session):
    erin, _ = setup_desk(session)
    with clean_app.app_context():
        ticket = make_ticket(session, erin, subject="Laptop")
    login(client, erin.email)
    token = form_token(client, f"/portal/tickets/{ticket.number}")
    response = client.post(f"/desk/tickets/{ticket.number}/watchers", data={**token, "email": erin.email})
    assert response.status_code == 404
    assert session.scalars(select(TicketWatcher)).all() == []


def test_admins_read_sent_mail_in_the_mail_catcher(clean_app, client, session):
    erin, _ = setup_desk(session)
    with clean_app.app_context():
        ticket = make_ticket(session, erin, subject="Keyboard <b>sticky</b>")
    engine.run_queued(clean_app)
    login(client, make_admin(session).email)
    page = page_text(client.get("/admin/mail"))
    assert f"[#{ticket.number}] Keyboard &lt;b&gt;sticky&lt;/b&gt;" in page and "erin@example.com" in page
    [row] = session.scalars(select(OutboxMessage)).all()
    shown = client.get(f"/admin/mail/{row.id}")
    assert shown.status_code == 200 and f"/portal/tickets/{ticket.number}" in page_text(shown)
    html = client.get(f"/admin/mail/{row.id}/html")
    assert html.headers["Content-Security-Policy"].startswith("sandbox")
    assert "<b>sticky</b>" not in page_text(html)  # the subject is escaped in the HTML body too


def test_the_portal_promise_on_raising_a_ticket_is_true(clean_app, client, session):
    erin, _ = setup_desk(session)
    login(client, erin.email)
    response = client.post(
        "/portal/new",
        data={**form_token(client, "/portal/new"), "subject": "Mouse", "description": "Broken"},
        follow_redirects=True,
    )
    assert "We have emailed you a confirmation at erin@example.com" in page_text(response)
    assert session.scalars(select(OutboxMessage.kind)).all() == ["created"]
