"""IMAP IDLE: a thread per active mailbox keeps a connection open in IDLE, and the moment the server
says mail arrived it asks the workers to read that mailbox (`poll_mailbox_now`), so the import keeps
every guarantee of the poll (one unit of work a message, moved after the commit, the mailbox's lease).
The minute's poll stays: for servers without IDLE, and for whatever IDLE misses. `flask run-worker`
starts the watcher beside the job consumer (IMAP_IDLE=0 turns it off); with several workers each
watches, and the lease makes their polls take turns."""

from __future__ import annotations

import threading

import structlog
from flask import Flask
from sqlalchemy import select

from supportdesk.core.config import current_config
from supportdesk.core.db import db
from supportdesk.inbound.imap import ImapFolder, ImapSettings, MailboxUnavailable
from supportdesk.inbound.models import Mailbox
from supportdesk.inbound.polling import imap_settings
from supportdesk.inbound.secrets import UnreadablePassword

log = structlog.get_logger("supportdesk.inbound")

IDLE_SECONDS = 25 * 60  # RFC 2177: servers may drop an IDLE after 30 minutes; start a new one before
RETRY_SECONDS = 30  # after a connection failed


def settings_of(mailbox_id: int) -> ImapSettings | None:
    """An active mailbox's settings (in an app context), or None."""
    mailbox = db.session().get(Mailbox, mailbox_id)
    if mailbox is None or not mailbox.is_active:
        return None
    try:
        return imap_settings(current_config(), mailbox)
    except UnreadablePassword:
        return None


class MailboxWatcher:
    def __init__(self, app: Flask, idle_seconds: float = IDLE_SECONDS, refresh_seconds: float = 60) -> None:
        self.app = app
        self.idle_seconds = idle_seconds
        self.refresh_seconds = refresh_seconds
        self._stopping = threading.Event()
        self._threads: dict[int, tuple[threading.Thread, ImapSettings]] = {}
        self._supervisor = threading.Thread(target=self._supervise, name="mailbox-watcher", daemon=True)

    def start(self) -> None:
        self._supervisor.start()

    def stop(self) -> None:
        self._stopping.set()
        self._supervisor.join(timeout=5)
        for thread, _ in list(self._threads.values()):
            thread.join(timeout=self.idle_seconds + 5)

    def watching(self) -> set[int]:
        return {mailbox_id for mailbox_id, (thread, _) in self._threads.items() if thread.is_alive()}

    def _supervise(self) -> None:
        """Every refresh: a watching thread for each active mailbox (a new one when its settings
        changed: the old one ends after its current IDLE)."""
        while not self._stopping.is_set():
            try:
                with self.app.app_context():
                    ids = list(db.session().scalars(select(Mailbox.id).where(Mailbox.is_active.is_(True))))
                    wanted = {mailbox_id: settings_of(mailbox_id) for mailbox_id in ids}
            except Exception:  # the database is away for a moment: try again at the next refresh
                log.warning("could not read the mailboxes to watch", exc_info=True)
                wanted = {}
            for mailbox_id, settings in wanted.items():
                current = self._threads.get(mailbox_id)
                if settings is None or (current and current[0].is_alive() and current[1] == settings):
                    continue
                thread = threading.Thread(
                    target=self._watch, args=(mailbox_id, settings), name=f"idle-{mailbox_id}", daemon=True
                )
                self._threads[mailbox_id] = (thread, settings)
                thread.start()
            self._stopping.wait(self.refresh_seconds)

    def _still_wanted(self, mailbox_id: int, settings: ImapSettings) -> bool:
        current = self._threads.get(mailbox_id)
        return not self._stopping.is_set() and current is not None and current[1] == settings

    def _watch(self, mailbox_id: int, settings: ImapSettings) -> None:
        from supportdesk.jobs import tasks  # the jobs know the domains, not the other way round

        while self._still_wanted(mailbox_id, settings):
            try:
                with ImapFolder(settings) as folder:
                    while self._still_wanted(mailbox_id, settings):
                        if folder.wait_for_new_mail(self.idle_seconds):
                            with self.app.app_context():
                                tasks.poll_mailbox_now(mailbox_id)
            except MailboxUnavailable as error:
                log.warning(
                    "cannot watch the mailbox; the minute's poll goes on",
                    mailbox=mailbox_id,
                    error=str(error),
                )
                self._stopping.wait(RETRY_SECONDS)
            except Exception:  # the queue being away must not end the watching for good
                log.exception("watching the mailbox failed", mailbox=mailbox_id)
                self._stopping.wait(RETRY_SECONDS)
