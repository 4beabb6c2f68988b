"""IMAP IDLE: the server tells the desk of new mail the moment it arrives, and the worker reads the
mailbox then instead of at the next minute's poll (which stays, for servers without IDLE and for
anything IDLE misses)."""

from __future__ import annotations

import threading
import time

from sqlalchemy import select

from supportdesk.inbound import watching
from supportdesk.inbound.imap import ImapFolder
from supportdesk.jobs import engine
from supportdesk.tickets.models import Ticket
from tests.factories import make_requester
from tests.inbound.conftest import write_mail


def test_idle_hears_new_mail_at_once_and_times_out_without(imap_app, session, mailbox, desk_mailbox):
    with imap_app.app_context():
        settings = watching.settings_of(desk_mailbox.id)
    assert settings is not None
    with ImapFolder(settings) as folder:
        assert folder.wait_for_new_mail(1) is False
    later = threading.Timer(0.5, mailbox.deliver, args=(write_mail("erin@example.com", "Ping", "Hello."),))
    with ImapFolder(settings) as folder:
        started = time.monotonic()
        later.start()
        assert folder.wait_for_new_mail(15) is True
        assert time.monotonic() - started < 10


def test_the_watcher_has_a_new_message_imported_without_waiting_for_the_poll(
    imap_app, session, mailbox, desk_mailbox
):
    make_requester(session, email="erin@example.com")
    watcher = watching.MailboxWatcher(imap_app, idle_seconds=5, refresh_seconds=1)
    watcher.start()
    try:
        deadline = time.monotonic() + 10
        while not watcher.watching() and time.monotonic() < deadline:
            time.sleep(0.1)
        assert watcher.watching() == {desk_mailbox.id}
        time.sleep(0.5)  # the IDLE command is on its way
        mailbox.deliver(write_mail("erin@example.com", "Heard at once", "No minute to wait."))
        while engine.huey.pending_count() == 0 and time.monotonic() < deadline:
            time.sleep(0.1)
        assert engine.huey.pending_count() >= 1  # the worker was asked to read the mailbox
    finally:
        watcher.stop()
    engine.run_queued(imap_app)
    session.expire_all()
    assert [t.subject for t in session.scalars(select(Ticket))] == ["Heard at once"]
