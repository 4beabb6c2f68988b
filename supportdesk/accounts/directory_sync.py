"""The directory sync: every account follows the company directory. People it lists get an account or
have theirs brought up to date (name, email, role and teams from groups); accounts of people it no
longer lists (removed, or left out by LDAP_USER_FILTER: disabled) are deactivated. Accounts the
directory does not own (local ones, local admins) are never touched.

Run by the worker every 15 minutes (`jobs/tasks.py`) and by `flask ldap-sync`; one unit of work per run,
so a directory that stops answering half-way changes nothing."""

from __future__ import annotations

from dataclasses import dataclass

import click
import structlog
from flask.cli import with_appcontext
from sqlalchemy import select
from sqlalchemy.orm import Session, selectinload

from supportdesk.accounts import directory_accounts
from supportdesk.accounts.directory import Directory, DirectoryUnavailable, normal_dn
from supportdesk.accounts.directory_models import DirectoryAccount
from supportdesk.accounts.models import Team, User
from supportdesk.core import clock
from supportdesk.core.config import current_config
from supportdesk.core.db import db
from supportdesk.core.directory_settings import DirectorySettings
from supportdesk.core.origin import Origin

log = structlog.get_logger("supportdesk.directory")


class NobodyFound(RuntimeError):
    """The directory listed nobody while accounts follow it: a base or filter gone wrong looks exactly
    like everyone leaving at once, so the run changes nothing."""


@dataclass
class SyncReport:
    seen: int = 0  # people the directory lists
    created: int = 0
    updated: int = 0
    deactivated: int = 0
    reactivated: int = 0
    unchanged: int = 0
    conflicts: int = 0

    def __str__(self) -> str:
        return (
            f"{self.created} created, {self.updated} updated, {self.deactivated} deactivated, "
            f"{self.reactivated} reactivated, {self.unchanged} unchanged, {self.conflicts} conflicts "
            f"({self.seen} people in the directory)"
        )

    @property
    def changed(self) -> int:
        return self.created + self.updated + self.deactivated + self.reactivated


def synchronise(
    session: Session,
    settings: DirectorySettings,
    directory: Directory | None = None,
    origin: Origin | None = None,
) -> SyncReport:
    """One pass over the directory (read in full before anything changes)."""
    directory = directory or Directory(settings)
    people = directory.everyone()
    members = directory.members()
    accounts = list(session.scalars(select(DirectoryAccount)))
    # Their users and teams in two statements, not two per person (held here: the session's identity
    # map keeps only what something refers to), and the mapped teams once.
    users = session.scalars(
        select(User)
        .join(DirectoryAccount, DirectoryAccount.user_id == User.id)
        .options(selectinload(User.teams))
    ).all()
    teams: dict[str, Team | None] = {}
    if not people and any(a.removed_at is None for a in accounts):
        raise NobodyFound(f"the directory lists nobody under {settings.user_base} with the user filter")
    now = clock.now()
    report = SyncReport(seen=len(people))
    by_entry = {a.entry_id: a for a in accounts}
    linked: set[int] = set()
    for person in people:
        dn = normal_dn(person.dn)
        groups = frozenset(group for group, dns in members.items() if dn in dns)
        account = by_entry.get(person.entry_id)
        change = directory_accounts.apply_person(
            session, settings, person, groups, now, account, origin=origin, teams=teams
        )
        if change.user is not None:
            linked.add(change.user.id)
        setattr(report, _COUNTERS[change.kind], getattr(report, _COUNTERS[change.kind]) + 1)
    for account in accounts:
        if account.user_id not in linked and directory_accounts.deactivate(session, account, now, origin):
            report.deactivated += 1
    session.flush()
    del users
    return report


_COUNTERS = {
    "created": "created",
    "updated": "updated",
    "reactivated": "reactivated",
    "unchanged": "unchanged",
    "conflict": "conflicts",
}


class _DryRun(Exception):
    """Not an error: leaves the unit of work so that it rolls back."""

    def __init__(self, report: SyncReport) -> None:
        self.report = report


def run_sync(origin: Origin | None = None, dry_run: bool = False) -> SyncReport | None:
    """One sync in its own unit of work (in an app context); None when no directory is connected.
    `origin` says in the audit log what ran it (the worker, the command line). A dry run does it all
    and rolls it back: the report says what a sync would do now."""
    settings = current_config().directory
    if settings is None:
        return None
    try:
        with db.transaction() as session:
            report = synchronise(session, settings, origin=origin)
            if dry_run:
                raise _DryRun(report)
    except _DryRun as rolled_back:
        return rolled_back.report
    log.info("directory synced", **vars(report))
    return report


@click.command("ldap-sync")
@click.option("--dry-run", is_flag=True, help="Say what a sync would change, and change nothing.")
@with_appcontext
def ldap_sync_command(dry_run: bool) -> None:
    """Bring every account in line with the company directory now (the worker does every 15 minutes)."""
    try:
        report = run_sync(Origin(ip=None, user_agent=None, via="cli"), dry_run=dry_run)
    except (DirectoryUnavailable, NobodyFound) as error:
        raise click.ClickException(f"Nothing changed: {error}") from None
    if report is None:
        raise click.ClickException("No directory is connected: set LDAP_URL and the other LDAP_ settings.")
    click.echo(f"{'Dry run, nothing changed' if dry_run else 'Directory synced'}: {report}.")
