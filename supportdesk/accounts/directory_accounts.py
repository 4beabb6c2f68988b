"""Accounts that follow the company directory: signing in by a bind as the person's own entry, and
bringing a user in line with their entry (created, updated, given back, deactivated), which sign-in and
the sync share. Like every service these flush and leave the commit to the caller's unit of work.

A directory person whose email already belongs to an account the directory does not own is a conflict,
never a link: in many directories people may edit their own mail attribute, and linking by it would
hand them someone else's account (an admin's, say)."""

from __future__ import annotations

from dataclasses import dataclass
from datetime import datetime
from typing import Any

import structlog
from sqlalchemy import func, select
from sqlalchemy.orm import Session

from supportdesk.accounts import audit
from supportdesk.accounts import service as accounts
from supportdesk.accounts.directory import Directory, DirectoryPerson, DirectoryUnavailable
from supportdesk.accounts.directory_models import DirectoryAccount
from supportdesk.accounts.models import STAFF_ROLES, Role, Team, User
from supportdesk.accounts.passwords import verify_password
from supportdesk.core import clock
from supportdesk.core.config import current_config
from supportdesk.core.directory_settings import DirectorySettings
from supportdesk.core.errors import ValidationError
from supportdesk.core.origin import Origin

log = structlog.get_logger("supportdesk.directory")
# Not an argon2 hash: no password ever verifies against it (the directory checks directory passwords).
NO_LOCAL_PASSWORD = "!directory"  # noqa: S105 - a marker, not a secret


is_directory_account = accounts.is_directory_account


def own_password_matches(session: Session, user: User, password: str) -> bool:
    """A signed-in user proving again that it is them (two-factor set-up, turning it off): their local
    password, or for a directory account the directory's (a bind as their entry)."""
    account = session.get(DirectoryAccount, user.id)
    if account is None:
        return verify_password(user.password_hash, password)
    settings = current_config().directory
    if settings is None or not password:
        return False
    try:
        return Directory(settings).password_matches(account.dn, password)
    except DirectoryUnavailable:
        log.exception("the directory did not answer a password check")
        raise ValidationError.single(
            "password", "could not be checked: the company directory does not answer just now"
        ) from None


def authenticate(
    session: Session,
    settings: DirectorySettings | None,
    login: str,
    password: str,
    origin: Origin | None = None,
) -> User | None:
    """The sign-in page's check: a local account by its email and password, as without a directory;
    anyone else through the directory. Raises DirectoryUnavailable when the directory is needed and
    does not answer."""
    if settings is None:
        return accounts.authenticate(session, login, password)
    local = accounts.find_user_by_email(session, login) if "@" in login else None
    if local is not None and not is_directory_account(session, local):
        return accounts.authenticate(session, login, password)
    return sign_in(session, settings, login, password, origin=origin)


def sign_in(
    session: Session,
    settings: DirectorySettings,
    login: str,
    password: str,
    directory: Directory | None = None,
    origin: Origin | None = None,
) -> User | None:
    """The user the directory knows by this name or email, if `password` binds as their entry; their
    account is created or brought up to date from the entry first."""
    if not password:  # refused before the directory hears of it: an empty password binds anonymously
        return None
    directory = directory or Directory(settings)
    person = directory.find_person(login)
    if person is None:
        verify_password(None, password)  # about the time a local account's check takes
        return None
    if not directory.password_matches(person.dn, password):
        return None
    groups = directory.groups_of(person.dn)
    change = apply_person(session, settings, person, groups, clock.now(), origin=origin)
    user = change.user
    if user is None or not user.is_active:
        return None
    return user  # not yet a sign-in: a second factor may be owed (accounts.record_sign_in marks one)


@dataclass(frozen=True)
class Change:
    user: User | None
    kind: str  # created, updated, reactivated, unchanged, conflict


def role_from_groups(settings: DirectorySettings, groups: frozenset[str]) -> Role | None:
    """The role the groups give (the first mapped group that matches: admins are listed first), a
    requester's when none does; None when no role groups are set (roles stay the admins' business)."""
    if not settings.role_groups:
        return None
    for role, group in settings.role_groups:
        if group in groups:
            return Role(role)
    return Role.REQUESTER


def find_account(session: Session, person: DirectoryPerson) -> DirectoryAccount | None:
    """The account linked to this entry; else one linked to the same user name (an entry deleted and
    created again keeps its person's account). A desk has one directory: a new LDAP_URL for it (another
    domain controller) keeps everyone's account."""
    account = session.scalars(
        select(DirectoryAccount).where(DirectoryAccount.entry_id == person.entry_id).limit(1)
    ).first()
    if account is None:
        account = session.scalars(
            select(DirectoryAccount)
            .where(func.lower(DirectoryAccount.username) == person.username.lower())
            .limit(1)
        ).first()
    return account


def apply_person(
    session: Session,
    settings: DirectorySettings,
    person: DirectoryPerson,
    groups: frozenset[str],
    now: datetime,
    account: DirectoryAccount | None = None,
    origin: Origin | None = None,
    teams: dict[str, Team | None] | None = None,
) -> Change:
    """Create or update the account of a person the directory lists (and lets in); what changes goes
    in the admin audit log with no actor (the directory's doing) and `origin`. `teams`: the mapped
    teams already read by name (a sync reads them once, not once per person)."""
    email = accounts.normalise_email(person.email)
    full_name = " ".join(person.full_name.split())[:120] or person.username
    if accounts._validate_user(email, full_name, errors=[]):
        log.warning("directory person skipped: not a valid email", dn=person.dn)
        return Change(None, "conflict")
    role = role_from_groups(settings, groups)
    account = account or find_account(session, person)
    if account is None:
        if accounts.find_user_by_email(session, email) is not None:
            log.warning("directory person not linked: their email belongs to a local account", dn=person.dn)
            return Change(None, "conflict")
        user = User(
            email=email,
            full_name=full_name,
            role=role or Role.REQUESTER,
            password_hash=NO_LOCAL_PASSWORD,
            is_active=True,
        )
        session.add(user)
        session.flush()
        session.add(
            DirectoryAccount(
                user_id=user.id,
                server=settings.url,
                entry_id=person.entry_id,
                dn=person.dn,
                username=person.username,
                synced_at=now,
            )
        )
        _set_teams(session, settings, user, groups, teams)
        session.flush()
        audit.record(
            session,
            None,
            origin,
            "user.created",
            target_type="user",
            target_id=user.id,
            target_label=user.email,
            after={**_audited(user), "directory": person.dn},
        )
        return Change(user, "created")

    linked = session.get(User, account.user_id)
    assert linked is not None  # the row goes with its user (ON DELETE CASCADE)
    user = linked
    before = _snapshot(user, account)
    was = _audited(user)
    kind = "updated"
    seen = (settings.url, person.entry_id, person.dn, person.username)
    if (account.server, account.entry_id, account.dn, account.username) != seen:
        account.server, account.entry_id, account.dn, account.username = seen
    user.full_name = full_name
    if email != user.email:
        if accounts.find_user_by_email(session, email) is None:
            user.email = email
        else:
            log.warning("directory email not taken over: another account uses it", dn=person.dn)
            kind = "conflict"
    if role is not None:
        user.role = role
    _set_teams(session, settings, user, groups, teams)
    if not user.is_active and account.removed_at is not None:
        user.is_active, account.removed_at = True, None
        kind = "reactivated"
    if kind == "updated" and _snapshot(user, account) == before:
        kind = "unchanged"
    else:
        account.synced_at = now  # when the directory last changed the account
    session.flush()
    _record_changes(session, origin, user, was)
    return Change(user, kind)


def deactivate(
    session: Session, account: DirectoryAccount, now: datetime, origin: Origin | None = None
) -> bool:
    """The directory removed or disabled the person: their account stops now (sessions and API tokens
    end), and comes back only if the directory lists them again. False when it was already inactive."""
    user = session.get(User, account.user_id)
    assert user is not None
    if not user.is_active:
        return False
    was = _audited(user)
    user.is_active = False
    user.session_epoch += 1
    accounts._revoke_tokens(user)
    account.removed_at = now
    session.flush()
    _record_changes(session, origin, user, was)
    return True


def _set_teams(
    session: Session,
    settings: DirectorySettings,
    user: User,
    groups: frozenset[str],
    known: dict[str, Team | None] | None = None,
) -> None:
    """Staff are in the mapped teams whose groups they are in, and out of the other mapped teams; teams
    no group maps stay as the admins set them. Someone who is not staff is in no team at all."""
    if user.role not in STAFF_ROLES:
        user.teams = []
        return
    if not settings.team_groups:
        return
    wanted: dict[str, bool] = {}
    for name, group in settings.team_groups:
        wanted[name] = wanted.get(name, False) or group in groups
    teams = known if known is not None else {}
    unread = [name for name in wanted if name not in teams]
    if unread:
        teams.update(dict.fromkeys(unread))
        teams.update({t.name: t for t in session.scalars(select(Team).where(Team.name.in_(unread)))})
    for name, member in wanted.items():
        if member and teams[name] is None:
            teams[name] = Team(name=name)
            session.add(teams[name])
    kept = [t for t in user.teams if t.name not in wanted]
    mapped = [teams[name] for name, member in wanted.items() if member]
    wanted_teams = kept + [t for t in mapped if t is not None]
    if [t.name for t in user.teams] != [t.name for t in wanted_teams]:
        user.teams = wanted_teams


def _snapshot(user: User, account: DirectoryAccount) -> tuple[object, ...]:
    return (
        user.email,
        user.full_name,
        user.role,
        user.is_active,
        tuple(sorted(t.name for t in user.teams)),
        account.dn,
        account.username,
    )


def _audited(user: User) -> dict[str, Any]:
    return {
        "email": user.email,
        "full_name": user.full_name,
        "role": user.role.value,
        "teams": sorted(t.name for t in user.teams),
        "is_active": user.is_active,
    }


_ACTIONS = (
    ("full_name", "user.renamed"),
    ("email", "user.email_changed"),
    ("role", "user.role_changed"),
    ("teams", "team.members_changed"),
)


def _record_changes(session: Session, origin: Origin | None, user: User, was: dict[str, Any]) -> None:
    """One audit entry per kind of change, as for an admin's (a role change and a deactivation are
    filtered apart)."""
    now = _audited(user)
    activity = "user.reactivated" if user.is_active else "user.deactivated"
    for field, action in (*_ACTIONS, ("is_active", activity)):
        audit.record_changes(
            session,
            None,
            origin,
            action,
            target_type="user",
            target_id=user.id,
            target_label=user.email,
            before={field: was[field]},
            after={field: now[field]},
        )
