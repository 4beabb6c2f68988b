"""Forgot my password: a link by email that is signed, works once, expires, and says nothing about
which addresses have accounts; throttled. Changing my email address takes a click in a message sent to
the new address, and the old one is told."""

from __future__ import annotations

import re
from datetime import timedelta

import pytest
from sqlalchemy import select

from supportdesk.accounts.models import User
from supportdesk.core import clock
from supportdesk.jobs import engine
from supportdesk.notifications.models import OutboxMessage
from tests.conftest import csrf_token, form_token, login, page_text
from tests.factories import make_requester

LINK = re.compile(r"http://127\.0\.0\.1:5000(/password/reset/[A-Za-z0-9._-]+)")
CONFIRM = re.compile(r"http://127\.0\.0\.1:5000(/account/email/confirm/[A-Za-z0-9._-]+)")
SAME_ANSWER = "If an account uses that address, we have sent it a link to choose a new password."


def mail_to(session, address: str) -> list[OutboxMessage]:
    session.expire_all()
    return list(session.scalars(select(OutboxMessage).where(OutboxMessage.recipients == address)))


def ask_for_reset(client, email: str):
    return client.post(
        "/password/forgot",
        data={**form_token(client, "/password/forgot"), "email": email},
        follow_redirects=True,
    )


def reset_link(session, address: str) -> str:
    [message] = [m for m in mail_to(session, address) if m.kind == "password_reset"][-1:]
    found = LINK.search(message.raw.replace("=\r\n", "").replace("=3D", "="))
    assert found, message.raw
    return found.group(1)


def choose_password(client, path: str, password: str = "a new password 42"):
    token = csrf_token(client, "/password/forgot")  # a dead link's page has no form to take one from
    return client.post(path, data={"csrf_token": token, "password": password, "confirm": password})


def test_a_forgotten_password_is_reset_by_a_link_that_works_once(clean_app, client, session):
    erin = make_requester(session, email="erin@example.com")
    epoch = erin.session_epoch
    assert SAME_ANSWER in page_text(ask_for_reset(client, "Erin@Example.com "))
    path = reset_link(session, "erin@example.com")
    assert "Choose a new password" in page_text(client.get(path))
    response = choose_password(client, path)
    assert response.status_code == 302 and response.headers["Location"].endswith("/login")
    session.expire_all()
    assert session.get(User, erin.id).session_epoch == epoch + 1  # every old session ends
    login(client, "erin@example.com", "a new password 42")
    client.post("/logout", data=form_token(client, "/portal/"))
    again = choose_password(client, path, "yet another password")
    assert again.status_code == 400 and "no longer valid" in page_text(again)  # used once, then dead


def test_the_answer_never_says_whether_an_account_exists(clean_app, client, session):
    make_requester(session, email="erin@example.com")
    make_requester(session, email="gone@example.com", is_active=False)
    answers = {
        e: ask_for_reset(client, e) for e in ("erin@example.com", "nobody@example.com", "gone@example.com")
    }
    assert {r.status_code for r in answers.values()} == {200}
    # CSRF tokens carry a timestamp: they differ from one second to the next, whatever the address.
    bodies = {re.sub(r'value="[^"]+"|"X-CSRFToken": "[^"]+"', "", page_text(r)) for r in answers.values()}
    assert len(bodies) == 1 and SAME_ANSWER in bodies.pop()
    assert mail_to(session, "nobody@example.com") == [] and mail_to(session, "gone@example.com") == []
    assert len(mail_to(session, "erin@example.com")) == 1


def test_a_link_expires_after_an_hour(clean_app, client, session):
    make_requester(session, email="erin@example.com")
    ask_for_reset(client, "erin@example.com")
    path = reset_link(session, "erin@example.com")
    with clock.frozen_at(clock.now() + timedelta(minutes=61)):
        response = choose_password(client, path)
    assert response.status_code == 400 and "no longer valid" in page_text(response)


def test_a_forged_or_mangled_link_is_refused(clean_app, client, session):
    make_requester(session, email="erin@example.com")
    ask_for_reset(client, "erin@example.com")
    path = reset_link(session, "erin@example.com")
    for forged in (path[:-3] + "abc", "/password/reset/1.2.3", "/password/reset/" + "x" * 500):
        assert client.get(forged).status_code == 400
        assert choose_password(client, forged).status_code == 400


def test_asking_too_often_is_throttled_without_saying_more(clean_app, client, session):
    make_requester(session, email="erin@example.com")
    statuses = [ask_for_reset(client, "erin@example.com").status_code for _ in range(8)]
    assert statuses[:3] == [200, 200, 200] and statuses[-1] == 429
    assert len(mail_to(session, "erin@example.com")) <= 3


def test_the_reset_mail_is_not_readable_by_admins_once_a_relay_has_sent_it(
    relay_app, client, session, smtp_sink
):
    make_requester(session, email="erin@example.com")
    ask_for_reset(client, "erin@example.com")
    engine.run_queued(relay_app)
    [received] = smtp_sink.wait_for(1)
    assert b"/password/reset/" in received.data.replace(b"=\r\n", b"")
    [kept] = mail_to(session, "erin@example.com")
    assert kept.status == "sent" and "/password/reset/" not in kept.raw.replace("=\r\n", "")


def test_a_new_email_address_is_confirmed_from_that_address_and_the_old_one_is_told(
    clean_app, client, session
):
    erin = make_requester(session, email="erin@example.com")
    login(client, "erin@example.com")
    response = client.post(
        "/account/email",
        data={
            **form_token(client, "/account/email"),
            "email": "erin.new@example.com",
            "password": "password123",
        },
        follow_redirects=True,
    )
    assert "sent a link to erin.new@example.com" in page_text(response)
    session.expire_all()
    assert session.get(User, erin.id).email == "erin@example.com"  # nothing changes before the click
    [notice] = mail_to(session, "erin@example.com")
    assert "erin.new@example.com" in notice.raw
    [confirmation] = mail_to(session, "erin.new@example.com")
    path = CONFIRM.search(confirmation.raw.replace("=\r\n", "").replace("=3D", "=")).group(1)
    assert client.get(path, follow_redirects=True).status_code == 200
    session.expire_all()
    assert session.get(User, erin.id).email == "erin.new@example.com"
    assert client.get(path).status_code == 400  # once


def test_changing_the_email_needs_the_password_and_a_free_address(clean_app, client, session):
    make_requester(session, email="erin@example.com")
    make_requester(session, email="taken@example.com")
    login(client, "erin@example.com")
    wrong = client.post(
        "/account/email",
        data={**form_token(client, "/account/email"), "email": "x@example.com", "password": "not it"},
    )
    taken = client.post(
        "/account/email",
        data={
            **form_token(client, "/account/email"),
            "email": "taken@example.com",
            "password": "password123",
        },
    )
    assert wrong.status_code == 422 and taken.status_code == 422
    assert "already" in page_text(taken)
    assert mail_to(session, "x@example.com") == [] and mail_to(session, "taken@example.com") == []


@pytest.mark.parametrize("path", ["/password/forgot", "/account/email"])
def test_the_pages_have_what_a_person_needs(clean_app, client, session, path):
    make_requester(session, email="erin@example.com")
    if path.startswith("/account"):
        login(client, "erin@example.com")
    assert client.get(path).status_code == 200
