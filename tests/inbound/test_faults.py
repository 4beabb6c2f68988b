"""Faults in the middle of a poll lose nothing and import nothing twice: the IMAP connection cut at
every point of the conversation (the login, a fetch, between a commit and the move), and the poller
killed (SIGKILL) while fetching, before its commit and between its commit and the move. The next poll
imports every message exactly once."""

from __future__ import annotations

import json
import signal
import subprocess
import sys
from datetime import timedelta

from sqlalchemy import func, select

from supportdesk.core import clock
from supportdesk.core.db import unit_of_work
from supportdesk.inbound import polling
from supportdesk.inbound.models import Mailbox as MailboxRow
from supportdesk.inbound.models import Receipt
from supportdesk.tickets.models import Ticket
from tests.factories import make_requester
from tests.inbound.conftest import add_desk_mailbox, write_mail
from tests.inbound.faults import CuttingProxy
from tests.inbound.test_fetching import poll

MESSAGES = 3


def _deliver(account, tag: str) -> None:
    for n in range(MESSAGES):
        body = f"Message {n} of {tag}.\n" + "Some detail about the fault. " * 400  # several packets each
        account.deliver(write_mail("erin@example.com", f"{tag} message {n}", body))


def _tickets(session, tag: str) -> list[str]:
    session.expire_all()
    return sorted(session.scalars(select(Ticket.subject).where(Ticket.subject.like(f"{tag} %"))))


def _all_imported_once(session, account, row, tag: str, why: str) -> None:
    assert _tickets(session, tag) == [f"{tag} message {n}" for n in range(MESSAGES)], why
    assert account.messages() == [], f"{why}: mail left in the inbox"
    assert len(account.messages("Processed")) == MESSAGES, why
    session.expire_all()
    count = session.scalar(select(func.count()).select_from(Receipt).where(Receipt.mailbox_id == row.id))
    assert count == MESSAGES, why


def test_a_connection_cut_anywhere_in_a_poll_loses_nothing_and_imports_nothing_twice(
    imap_app, session, dovecot
):
    make_requester(session, email="erin@example.com")
    proxy = CuttingProxy(dovecot.port)
    try:
        # A whole poll through the proxy, to learn where the server's answers end.
        account = dovecot.add_mailbox()
        row = add_desk_mailbox(imap_app, session, account, port=proxy.port)
        _deliver(account, "whole")
        assert poll(imap_app, row).imported == MESSAGES
        boundaries = list(proxy.boundaries)
        assert boundaries[-1] > 30_000
        # Every point between two answers, and one inside each piece (mid-fetch); not after the last
        # answer (the logout's), where nothing is left to lose.
        cuts = sorted({*boundaries[:-1], *(b - 100 for b in boundaries if b > 200)} - {boundaries[-1]})
        stopped = 0
        for point, cut in enumerate(cuts):
            tag = f"cut{point}"
            account = dovecot.add_mailbox()
            row = add_desk_mailbox(imap_app, session, account, port=proxy.port)
            _deliver(account, tag)
            proxy.cut_after = cut
            first = poll(imap_app, row)
            stopped += first.error is not None
            assert len(_tickets(session, tag)) == first.imported  # what it says it imported, it did
            proxy.cut_after = None
            assert poll(imap_app, row).error is None
            _all_imported_once(session, account, row, tag, f"after a cut at byte {cut} of {boundaries[-1]}")
        # Most cuts must have broken a poll (else the proxy cut nowhere that mattered). Not all: the
        # points were learned from one poll, and on a loaded machine the server's answers arrive
        # grouped differently, so a few points fall where no read is pending (CI saw 43 of 47).
        assert stopped >= len(cuts) * 3 // 4
    finally:
        proxy.close()


def _run_dying(mode: str, app, row, tmp_path) -> None:
    config = app.config["SUPPORTDESK"]
    settings = {"imap_ca_file": config.imap_ca_file, "imap_timeout_seconds": 5}
    result = subprocess.run(  # noqa: S603 - this interpreter, our own module
        [
            sys.executable,
            "-m",
            "tests.inbound.dying_poller",
            mode,
            str(row.id),
            config.database_url,
            str(tmp_path),
            json.dumps(settings),
        ],
        capture_output=True,
        text=True,
        timeout=60,
    )
    assert result.returncode == -signal.SIGKILL, result.stderr


def test_a_poller_killed_at_the_worst_moments_loses_nothing_and_imports_nothing_twice(
    imap_app, session, dovecot, tmp_path
):
    make_requester(session, email="erin@example.com")
    for mode, imported_before_death in (("mid-fetch", 1), ("before-commit", 0), ("after-commit", MESSAGES)):
        account = dovecot.add_mailbox()
        row = add_desk_mailbox(imap_app, session, account)
        tag = mode.replace("-", "")
        _deliver(account, tag)
        _run_dying(mode, imap_app, row, tmp_path)
        assert len(_tickets(session, tag)) == imported_before_death, mode
        assert len(account.messages()) == MESSAGES, mode  # imported ones are moved after their commit
        # The dead poller's claim on the mailbox holds until its lease ends; then the next poll reads it.
        assert poll(imap_app, row).skipped
        with clock.frozen_at(clock.now() + polling.LEASE + timedelta(seconds=1)):
            assert poll(imap_app, row).error is None
        _all_imported_once(session, account, row, tag, f"after a poller died {mode}")


def test_a_server_that_is_down_leaves_the_mailbox_with_its_error_and_free_for_the_next_poll(
    imap_app, session, dovecot
):
    account = dovecot.add_mailbox()
    row = add_desk_mailbox(imap_app, session, account, port=1)  # nothing listens there
    result = poll(imap_app, row)
    assert result.error is not None and "refused" in result.error
    session.expire_all()
    stored = session.get(MailboxRow, row.id)
    assert stored.last_error == result.error and stored.polling_until is None
    with imap_app.app_context(), unit_of_work(session):
        session.get(MailboxRow, row.id).port = dovecot.port
    make_requester(session, email="erin@example.com")
    account.deliver(write_mail("erin@example.com", "After the outage", "Hello again."))
    assert poll(imap_app, row).imported == 1
    session.expire_all()
    assert session.get(MailboxRow, row.id).last_error is None


def test_a_wrong_password_is_said_on_the_mailbox_and_nothing_is_read(imap_app, session, dovecot):
    account = dovecot.add_mailbox()
    row = add_desk_mailbox(imap_app, session, dovecot.add_mailbox(), username=account.user)
    account.deliver(write_mail("erin@example.com", "Unread", "Hello."))
    result = poll(imap_app, row)
    assert result.error is not None and "authentication" in result.error.lower()
    assert len(account.messages()) == 1
