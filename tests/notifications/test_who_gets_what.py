"""Who is told what, by email through the real relay and in the app: the requester on creation, on
every public reply and on resolution; the assignee (or the team while nobody has the ticket) on a
requester's reply and on assignment; watchers on what the requester sees. Never a word of an internal
note to a requester."""

from __future__ import annotations

import email
from email import policy

import pytest
from sqlalchemy import select

from supportdesk.jobs import engine
from supportdesk.mail.composing import make_message_id
from supportdesk.notifications import outbox, preferences, watchers
from supportdesk.notifications.models import Notification, NotificationKind
from supportdesk.tickets import service
from supportdesk.tickets.lifecycle import Status
from tests.factories import make_category, make_requester, make_team, make_technician, make_ticket


def mail_by_recipient(app, smtp_sink) -> dict[str, list[email.message.EmailMessage]]:
    engine.run_queued(app)
    received: dict[str, list[email.message.EmailMessage]] = {}
    for message in smtp_sink.received:
        parsed = email.message_from_bytes(message.data, policy=policy.default)
        for recipient in message.recipients:
            received.setdefault(recipient, []).append(parsed)
    smtp_sink.reset()
    return received


def in_app(session, user) -> list[Notification]:
    session.expire_all()
    return list(session.scalars(select(Notification).where(Notification.user_id == user.id)))


@pytest.fixture
def desk(session):
    erin = make_requester(session, email="erin@example.com", full_name="Erin Employee")
    sam = make_technician(session, email="sam@example.com", full_name="Sam Okafor")
    tess = make_technician(session, email="tess@example.com", full_name="Tess Tech")
    team = make_team(session, "Service Desk", members=[sam, tess])
    category = make_category(session, "Hardware", team=team)
    return {"erin": erin, "sam": sam, "tess": tess, "team": team, "category": category}


def root_id(app, number):
    config = app.config["SUPPORTDESK"]
    return make_message_id(
        {"ticket": number}, domain=outbox.mail_domain(config), secret=outbox.mail_secret(config)
    )


def test_raising_a_ticket_acknowledges_it_to_the_requester_with_its_number(
    relay_app, session, smtp_sink, desk
):
    with relay_app.app_context():
        ticket = make_ticket(
            session, desk["erin"], subject="VPN drops every hour", category_id=desk["category"].id
        )
    mail = mail_by_recipient(relay_app, smtp_sink)
    [ack] = mail["erin@example.com"]
    assert ack["Subject"] == f"[#{ticket.number}] VPN drops every hour"
    assert ack["Message-ID"] == root_id(relay_app, ticket.number)  # the thread's first message
    assert ack["Auto-Submitted"] == "auto-generated"
    text = ack.get_body(("plain",)).get_content()
    assert f"#{ticket.number}" in text and f"/portal/tickets/{ticket.number}" in text
    assert "VPN drops every hour" in ack.get_body(("html",)).get_content()
    assert set(mail) == {"erin@example.com"}


def test_a_public_reply_reaches_the_requester_and_watchers_threaded_and_not_its_author(
    relay_app, session, smtp_sink, desk
):
    boss = make_requester(session, email="boss@example.com", full_name="Bea Boss")
    with relay_app.app_context():
        ticket = make_ticket(session, desk["erin"], subject="New laptop", category_id=desk["category"].id)
        watchers.add_watcher(session, desk["sam"], ticket.number, boss.email)
        session.commit()
        mail_by_recipient(relay_app, smtp_sink)
        service.add_comment(session, desk["sam"], ticket.number, "Which **model** would you like?")
        session.commit()
    mail = mail_by_recipient(relay_app, smtp_sink)
    assert set(mail) == {"erin@example.com", "boss@example.com"}
    for recipient in ("erin@example.com", "boss@example.com"):
        [reply] = mail[recipient]
        assert reply["In-Reply-To"] == root_id(relay_app, ticket.number)
        assert root_id(relay_app, ticket.number) in reply["References"]
        assert reply["Subject"] == f"[#{ticket.number}] New laptop"
        assert "Which **model** would you like?" in reply.get_body(("plain",)).get_content()
        assert "<strong>model</strong>" in reply.get_body(("html",)).get_content()
        assert "Sam Okafor" in reply.get_body(("plain",)).get_content()
    assert mail["erin@example.com"][0]["Message-ID"] != mail["boss@example.com"][0]["Message-ID"]
    [note] = in_app(session, desk["erin"])
    assert note.kind == NotificationKind.REPLY and note.read_at is None
    assert in_app(session, desk["sam"]) == []  # nobody is told of their own reply


def test_an_internal_note_never_reaches_the_requester_or_a_requester_watching(
    relay_app, session, smtp_sink, desk
):
    boss = make_requester(session, email="boss@example.com")
    with relay_app.app_context():
        ticket = make_ticket(
            session, desk["erin"], subject="Salary question", category_id=desk["category"].id
        )
        service.assign(session, desk["tess"], ticket.number, desk["tess"].id)
        watchers.add_watcher(session, desk["tess"], ticket.number, boss.email)
        watchers.add_watcher(session, desk["tess"], ticket.number, desk["sam"].email)
        session.commit()
        mail_by_recipient(relay_app, smtp_sink)
        before = {u: len(in_app(session, desk[u])) for u in ("erin",)}
        service.add_comment(session, desk["sam"], ticket.number, "HR says no raise this year", internal=True)
        session.commit()
    mail = mail_by_recipient(relay_app, smtp_sink)
    assert set(mail) == {"tess@example.com"}  # the assignee; Sam wrote it
    assert "HR says no raise" in mail["tess@example.com"][0].get_body(("plain",)).get_content()
    assert len(in_app(session, desk["erin"])) == before["erin"] and in_app(session, boss) == []
    carrying = [
        row.recipients for row in session.scalars(select(outbox.OutboxMessage)) if "HR says" in row.raw
    ]
    assert carrying == ["tess@example.com"]


def test_a_requesters_reply_reaches_the_assignee_or_else_the_team(relay_app, session, smtp_sink, desk):
    with relay_app.app_context():
        unassigned = make_ticket(session, desk["erin"], subject="Printer", category_id=desk["category"].id)
        assigned = make_ticket(session, desk["erin"], subject="Monitor", category_id=desk["category"].id)
        service.assign(session, desk["sam"], assigned.number, desk["tess"].id)
        session.commit()
        mail_by_recipient(relay_app, smtp_sink)
        service.add_comment(session, desk["erin"], unassigned.number, "It jams on page two")
        session.commit()
        to_team = mail_by_recipient(relay_app, smtp_sink)
        service.add_comment(session, desk["erin"], assigned.number, "The cable is fine")
        session.commit()
        to_assignee = mail_by_recipient(relay_app, smtp_sink)
    assert set(to_team) == {"sam@example.com", "tess@example.com"}
    assert "It jams on page two" in to_team["sam@example.com"][0].get_body(("plain",)).get_content()
    assert (
        f"/desk/tickets/{unassigned.number}"
        in to_team["sam@example.com"][0].get_body(("plain",)).get_content()
    )
    assert set(to_assignee) == {"tess@example.com"}


def test_assignment_tells_the_new_assignee_unless_they_took_it_themselves(
    relay_app, session, smtp_sink, desk
):
    with relay_app.app_context():
        ticket = make_ticket(session, desk["erin"], subject="Badge", category_id=desk["category"].id)
        mail_by_recipient(relay_app, smtp_sink)
        service.assign(session, desk["sam"], ticket.number, desk["tess"].id)
        session.commit()
        given = mail_by_recipient(relay_app, smtp_sink)
        service.assign(session, desk["sam"], ticket.number, desk["sam"].id)
        session.commit()
        taken = mail_by_recipient(relay_app, smtp_sink)
    assert set(given) == {"tess@example.com"}
    assert "assigned to you" in given["tess@example.com"][0].get_body(("plain",)).get_content()
    assert taken == {}
    assert [n.kind for n in in_app(session, desk["tess"])] == [NotificationKind.ASSIGNED]


def test_resolution_tells_the_requester_with_a_way_to_say_it_is_not_fixed(
    relay_app, session, smtp_sink, desk
):
    with relay_app.app_context():
        ticket = make_ticket(session, desk["erin"], subject="Wi-Fi", category_id=desk["category"].id)
        mail_by_recipient(relay_app, smtp_sink)
        service.transition(session, desk["sam"], ticket.number, Status.RESOLVED)
        session.commit()
    mail = mail_by_recipient(relay_app, smtp_sink)
    [resolved] = mail["erin@example.com"]
    text = resolved.get_body(("plain",)).get_content()
    assert "resolved" in text and "not fixed" in text.lower()
    assert f"/portal/tickets/{ticket.number}" in text
    assert set(mail) == {"erin@example.com"}


def test_email_preferences_stop_the_mail_but_keep_the_in_app_notification(
    relay_app, session, smtp_sink, desk
):
    with relay_app.app_context():
        preferences.set_email_preferences(session, desk["erin"], {NotificationKind.REPLY: False})
        session.commit()
        ticket = make_ticket(session, desk["erin"], subject="Phone", category_id=desk["category"].id)
        mail_by_recipient(relay_app, smtp_sink)
        service.add_comment(session, desk["sam"], ticket.number, "Which phone?")
        session.commit()
    assert mail_by_recipient(relay_app, smtp_sink) == {}
    assert [n.kind for n in in_app(session, desk["erin"])] == [NotificationKind.REPLY]


def test_a_hostile_subject_cannot_add_headers(relay_app, session, smtp_sink, desk):
    with relay_app.app_context():
        ticket = make_ticket(
            session, desk["erin"], subject="Hi\u2028Bcc: victim@example.com", category_id=desk["category"].id
        )
    mail = mail_by_recipient(relay_app, smtp_sink)
    [ack] = mail["erin@example.com"]
    assert ack["Bcc"] is None and set(mail) == {"erin@example.com"}
    assert ack["Subject"].startswith(f"[#{ticket.number}] Hi")


def test_deactivated_users_are_not_written_to(relay_app, session, smtp_sink, desk):
    desk["erin"].is_active = False
    with relay_app.app_context():
        make_ticket(session, make_requester(session), subject="x")  # someone else's, so creation works
        session.commit()
        mail_by_recipient(relay_app, smtp_sink)
    assert in_app(session, desk["erin"]) == []
