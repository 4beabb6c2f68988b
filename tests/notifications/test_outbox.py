"""The outbox: a message is written in the same transaction as the change that causes it and is sent
by a job after the commit, once, through the real relay (aiosmtpd with STARTTLS and AUTH)."""

from __future__ import annotations

import email
from datetime import timedelta
from email import policy

import pytest
from sqlalchemy import select

from supportdesk.core import clock
from supportdesk.core.db import unit_of_work
from supportdesk.jobs import engine
from supportdesk.mail.addresses import Address
from supportdesk.notifications import delivery, outbox
from supportdesk.notifications.models import OutboxMessage
from tests.factories import make_admin
from tests.notifications.conftest import outbox_count, queue_messages


def test_a_change_that_rolls_back_sends_nothing(relay_app, session, smtp_sink):
    def change_that_fails():
        with relay_app.app_context(), unit_of_work(session):
            outbox.queue_message(
                session, kind="test", to=[Address("alice@example.com")], subject="Hi", text="Body", html=None
            )
            raise RuntimeError("the change failed after its message was written")

    with pytest.raises(RuntimeError):
        change_that_fails()
    assert engine.run_queued(relay_app) == 0  # nothing was even asked to deliver
    with relay_app.app_context():
        delivery.deliver_due()
    assert outbox_count(session) == 0
    assert smtp_sink.received == []


def test_a_committed_message_is_delivered_once_through_the_relay(relay_app, session, smtp_sink):
    [message_id] = queue_messages(relay_app, session, to="bob@example.com")
    assert smtp_sink.received == []  # services never send: the commit only asks a job to
    assert engine.run_queued(relay_app) == 1
    [received] = smtp_sink.wait_for(1)
    assert received.recipients == ("bob@example.com",)
    assert received.login == smtp_sink.user  # authenticated, after STARTTLS (the relay requires both)
    parsed = email.message_from_bytes(received.data, policy=policy.default)
    row = session.get(OutboxMessage, message_id)
    assert parsed["Message-ID"] == row.message_id
    assert parsed["Subject"] == "Message 0"
    assert parsed.get_body(("plain",)).get_content().strip() == "Plain body 0"
    assert "HTML body 0" in parsed.get_body(("html",)).get_content()
    # The job running again (a duplicate enqueue, the periodic sweep) sends nothing more.
    with relay_app.app_context():
        assert delivery.deliver_due().sent == 0
    engine.run_queued(relay_app)
    assert len(smtp_sink.received) == 1
    assert outbox_count(session, "sent") == 1


def test_relay_down_then_back_delivers_every_message_exactly_once(relay_app, session, smtp_sink):
    with smtp_sink.down():
        ids = queue_messages(relay_app, session, count=3)
        engine.run_queued(relay_app)
        assert outbox_count(session, "pending") == 3  # kept, with a later attempt planned
        rows = session.scalars(select(OutboxMessage)).all()
        assert all(r.attempts == 1 and r.next_attempt_at > clock.now() for r in rows)
        assert all("connect" in (r.last_error or "").lower() for r in rows)
        with relay_app.app_context():
            assert delivery.deliver_due().sent == 0  # not due yet: the backoff holds
    later = clock.now() + timedelta(minutes=5)
    with clock.frozen_at(later), relay_app.app_context():
        assert delivery.deliver_due().sent == 3
        assert delivery.deliver_due().sent == 0
    received = smtp_sink.wait_for(3)
    assert len(received) == 3
    ids_received = {email.message_from_bytes(r.data)["Message-ID"] for r in received}
    session.expire_all()
    assert ids_received == {session.get(OutboxMessage, i).message_id for i in ids}


def test_a_refusing_relay_is_retried_with_growing_delays_then_the_message_waits_for_an_admin(
    relay_app, session, smtp_sink
):
    [message_id] = queue_messages(relay_app, session)
    delays = []
    moment = clock.now()
    with smtp_sink.refusing():
        for _ in range(delivery.MAX_ATTEMPTS):
            with clock.frozen_at(moment), relay_app.app_context():
                delivery.deliver_due()
            session.expire_all()
            row = session.get(OutboxMessage, message_id)
            if row.status == "failed":
                break
            delays.append(row.next_attempt_at - moment)
            moment = row.next_attempt_at
    assert row.status == "failed" and row.attempts == delivery.MAX_ATTEMPTS
    assert "451" in row.last_error
    assert delays == sorted(delays) and delays[0] < delays[-1]  # backoff grows
    # An admin sends it again once the relay is fixed.
    admin = make_admin(session)
    with relay_app.app_context(), unit_of_work(session):
        outbox.retry_message(session, admin, message_id)
    engine.run_queued(relay_app)
    assert len(smtp_sink.wait_for(1)) == 1
    assert outbox_count(session, "sent") == 1


def test_a_relay_that_refuses_a_recipient_for_good_fails_the_message_at_once(relay_app, session, smtp_sink):
    [message_id] = queue_messages(relay_app, session)
    with smtp_sink.refusing("550 5.7.1 Relaying denied"):
        engine.run_queued(relay_app)
    session.expire_all()
    row = session.get(OutboxMessage, message_id)
    assert row.status == "failed" and row.attempts == 1 and "550" in row.last_error


def test_a_message_claimed_by_a_worker_that_died_is_sent_once_after_its_lease(relay_app, session, smtp_sink):
    [message_id] = queue_messages(relay_app, session)
    with relay_app.app_context(), unit_of_work(session):
        claimed = delivery.claim_due(session, clock.now(), limit=10)  # then the worker died
    assert [m.id for m in claimed] == [message_id]
    with relay_app.app_context():
        assert delivery.deliver_due().sent == 0  # another worker leaves a claimed message alone
    with clock.frozen_at(clock.now() + delivery.LEASE + timedelta(seconds=1)), relay_app.app_context():
        assert delivery.deliver_due().sent == 1
        assert delivery.deliver_due().sent == 0
    assert len(smtp_sink.wait_for(1)) == 1


def test_without_a_relay_mail_is_kept_for_the_mail_catcher_and_not_sent(clean_app, session, smtp_sink):
    queue_messages(clean_app, session)
    engine.run_queued(clean_app)
    assert outbox_count(session, "sent") == 1
    [row] = session.scalars(select(OutboxMessage)).all()
    assert row.relay == "catcher"
    assert smtp_sink.received == []


def test_header_injection_in_a_subject_or_name_is_neutralised_not_refused(relay_app, session, smtp_sink):
    with relay_app.app_context(), unit_of_work(session):
        outbox.queue_message(
            session,
            kind="test",
            to=[Address("alice@example.com", "Alice\r\nBcc: victim@example.com")],
            subject="Printer\r\nBcc: victim@example.com",
            text="Body",
            html=None,
        )
    engine.run_queued(relay_app)
    [received] = smtp_sink.wait_for(1)
    parsed = email.message_from_bytes(received.data, policy=policy.default)
    assert parsed["Bcc"] is None and received.recipients == ("alice@example.com",)
    assert parsed["Subject"] == "Printer Bcc: victim@example.com"
