"""Account use cases: users, roles, teams, signing in. Admin-only operations ask the policy first; like
every service, these flush and leave the commit to the caller's unit of work."""

from __future__ import annotations

import re
import secrets
from typing import Any

from sqlalchemy import bindparam, func, select
from sqlalchemy.orm import Session, selectinload

from supportdesk.accounts import audit, policy
from supportdesk.accounts.directory_models import DirectoryAccount
from supportdesk.accounts.models import ApiToken, Role, Team, User, active_staff
from supportdesk.accounts.passwords import (
    MIN_PASSWORD_LENGTH,
    hash_password,
    needs_rehash,
    unusable_password,
    verify_password,
)
from supportdesk.core import clock
from supportdesk.core.db import ID_MAX, flush_unique, get_by_id
from supportdesk.core.errors import FieldError, NotFound, ValidationError
from supportdesk.core.origin import Origin

# ASCII only: a Cyrillic "a" (U+0430) in "admin@example.com" would make a look-alike of a real account.
_EMAIL = re.compile(r"^[A-Za-z0-9.!#$%&'*+/=?^_`{|}~-]+@[A-Za-z0-9-]+(\.[A-Za-z0-9-]+)+$")


def normalise_email(email: str) -> str:
    return email.strip().lower()


def find_user(session: Session, user_id: int) -> User | None:
    """A user by id: every signed-in request reads its user (a deactivation or a sign-out elsewhere
    counts at once), with a statement built once."""
    if not 1 <= user_id <= ID_MAX:
        return None
    return session.scalars(_USER_BY_ID, {"user_id": user_id}).one_or_none()


_USER_BY_ID = select(User).where(User.id == bindparam("user_id"))


def find_user_by_email(session: Session, email: str) -> User | None:
    return session.scalars(select(User).where(User.email == normalise_email(email))).one_or_none()


def authenticate(session: Session, email: str, password: str) -> User | None:
    """The active user with these credentials, or None; not yet a sign-in (a second factor may be
    owed: `record_sign_in` marks one). Unknown emails cost the same argon2 verify as
    known ones, so timing does not reveal which emails have accounts."""
    user = find_user_by_email(session, email)
    ok = verify_password(user.password_hash if user else None, password)
    if user is None or not ok or not user.is_active:
        return None
    if is_directory_account(session, user):
        return None  # the directory checks this account's password; a local one never counts
    if needs_rehash(user.password_hash):
        user.password_hash = hash_password(password)
        session.flush()
    return user


def record_sign_in(session: Session, user: User) -> None:
    """The user is signed in: every factor their account asks for has been proven."""
    user.last_login_at = clock.now()
    session.flush()


def end_sessions(session: Session, user: User) -> None:
    """Every session of `user`, in every browser, ends on its next request."""
    user.session_epoch += 1
    session.flush()


def change_password(session: Session, actor: User, current_password: str, new_password: str) -> User:
    """A new password ends every other session and revokes every API token of the user."""
    _refuse_directory_account(session, actor, "current_password")
    if not verify_password(actor.password_hash, current_password):
        raise ValidationError.single("current_password", "is not your current password")
    if len(new_password) < MIN_PASSWORD_LENGTH:
        raise ValidationError.single("new_password", f"must be at least {MIN_PASSWORD_LENGTH} characters")
    actor.password_hash = hash_password(new_password)
    actor.must_change_password = False
    actor.session_epoch += 1
    _revoke_tokens(actor)
    session.flush()
    return actor


def register_user(
    session: Session, *, email: str, full_name: str, password: str | None, role: Role = Role.REQUESTER
) -> User:
    """Create a user without an acting admin: for the CLI and the demo data. Without a password the
    account has none that works until its owner chooses one (an invitation's link)."""
    errors = _validate_user(email, full_name, errors=[])
    if password is not None and len(password) < MIN_PASSWORD_LENGTH:
        errors.append(FieldError("password", f"must be at least {MIN_PASSWORD_LENGTH} characters"))
    if errors:
        raise ValidationError(errors)
    user = User(
        email=normalise_email(email),
        full_name=full_name.strip(),
        role=role,
        password_hash=unusable_password() if password is None else hash_password(password),
        is_active=True,
    )
    session.add(user)
    flush_unique(session, "email", "a user with this email already exists")
    return user


def create_user(
    session: Session,
    actor: User,
    *,
    email: str,
    full_name: str,
    password: str | None,
    role: Role,
    origin: Origin | None = None,
) -> User:
    """An admin adds someone: with a password to pass on, or none (the face then invites them)."""
    policy.require_desk_manager(actor)
    user = register_user(session, email=email, full_name=full_name, password=password, role=role)
    audit.record(
        session,
        actor,
        origin,
        "user.created",
        target_type="user",
        target_id=user.id,
        target_label=user.email,
        after={"email": user.email, "full_name": user.full_name, "role": user.role.value},
    )
    return user


def add_requester(session: Session, actor: User, *, email: str, full_name: str) -> User:
    """The desk adds someone who called or walked in and has no account yet. Their password is a
    random secret nobody is told: they choose their own with "Forgot password" when they first want
    to sign in (the desk's tickets reach them by email meanwhile)."""
    policy.require_desk_member(actor)
    return register_user(
        session, email=email, full_name=full_name, password=secrets.token_urlsafe(32), role=Role.REQUESTER
    )


def update_user(
    session: Session,
    actor: User,
    user_id: int,
    *,
    role: Role | None = None,
    is_active: bool | None = None,
    full_name: str | None = None,
    origin: Origin | None = None,
) -> User:
    policy.require_desk_manager(actor)
    user = get_by_id(session, User, user_id)
    if user is None:
        raise NotFound(f"User {user_id} was not found.")
    if user.id == actor.id and (is_active is False or (role is not None and role is not Role.ADMIN)):
        # An admin locking themselves out is almost always a mistake, and may leave no admin at all.
        raise ValidationError.single(
            "role" if role is not None else "is_active",
            "you cannot demote or deactivate yourself; ask another admin",
        )
    if full_name is not None:
        errors = _validate_user(user.email, full_name, errors=[])
        if errors:
            raise ValidationError(errors)
    was = {"full_name": user.full_name, "role": user.role.value, "is_active": user.is_active}
    if full_name is not None:
        user.full_name = full_name.strip()
    if role is not None:
        user.role = role
    if is_active is not None:
        user.is_active = is_active
        if not is_active:
            _revoke_tokens(user)
            user.session_epoch += 1
    session.flush()
    _record_user_changes(session, actor, origin, user, was)
    return user


def _record_user_changes(
    session: Session, actor: User, origin: Origin | None, user: User, was: dict[str, Any]
) -> None:
    """One audit entry per kind of change (a role change and a deactivation are filtered apart)."""
    now = {"full_name": user.full_name, "role": user.role.value, "is_active": user.is_active}
    actions = {
        "full_name": "user.renamed",
        "role": "user.role_changed",
        "is_active": "user.reactivated" if user.is_active else "user.deactivated",
    }
    audit.record_user_fields(session, actor, origin, user, was, now, actions)


def _revoke_tokens(user: User) -> None:
    """A deactivated user's API tokens stop working now, not just while they stay deactivated."""
    session = Session.object_session(user)
    assert session is not None
    now = clock.now()
    for token in session.scalars(
        select(ApiToken).where(ApiToken.user_id == user.id, ApiToken.revoked_at.is_(None))
    ):
        token.revoked_at = now


def list_users(session: Session, actor: User) -> list[User]:
    policy.require_desk_manager(actor)
    return list(session.scalars(select(User).order_by(func.lower(User.full_name), User.id)))


def users_with_teams(session: Session, user_ids: list[int]) -> list[User]:
    """These users, in this order, with their teams read in one more statement (not one per user)."""
    if not user_ids:
        return []
    found = {
        u.id: u
        for u in session.scalars(select(User).where(User.id.in_(user_ids)).options(selectinload(User.teams)))
    }
    return [found[i] for i in user_ids if i in found]


def list_staff(session: Session) -> list[User]:
    """Who a ticket may be assigned to."""
    return list(session.scalars(select(User).where(active_staff()).order_by(User.full_name)))


def create_team(session: Session, actor: User, name: str, *, origin: Origin | None = None) -> Team:
    policy.require_desk_manager(actor)
    team = Team(name=clean_name(name))
    session.add(team)
    flush_unique(session, "name", "a team with this name already exists")
    audit.record(
        session,
        actor,
        origin,
        "team.created",
        target_type="team",
        target_id=team.id,
        target_label=team.name,
        after={"name": team.name},
    )
    return team


def set_team_members(
    session: Session, actor: User, team_id: int, user_ids: list[int], *, origin: Origin | None = None
) -> Team:
    return update_team(session, actor, team_id, member_ids=user_ids, origin=origin)


def rename_team(
    session: Session, actor: User, team_id: int, name: str, *, origin: Origin | None = None
) -> Team:
    return update_team(session, actor, team_id, name=name, origin=origin)


def update_team(
    session: Session,
    actor: User,
    team_id: int,
    *,
    name: str | None = None,
    member_ids: list[int] | None = None,
    origin: Origin | None = None,
) -> Team:
    """Rename a team and/or set its members: both are checked before either changes."""
    team = get_team(session, actor, team_id)
    new_name = clean_name(name) if name is not None else None
    members = _team_members(session, member_ids) if member_ids is not None else None
    old_name, old_members = team.name, sorted(m.email for m in team.members)
    if members is not None:
        team.members = members
    if new_name is not None:
        team.name = new_name
    flush_unique(session, "name", "a team with this name already exists")
    for action, before, after in (
        ("team.renamed", {"name": old_name}, {"name": team.name}),
        (
            "team.members_changed",
            {"members": old_members},
            {"members": sorted(m.email for m in team.members)},
        ),
    ):
        audit.record_changes(
            session,
            actor,
            origin,
            action,
            target_type="team",
            target_id=team.id,
            target_label=team.name,
            before=before,
            after=after,
        )
    return team


def _team_members(session: Session, user_ids: list[int]) -> list[User]:
    wanted = [i for i in set(user_ids) if 1 <= i <= ID_MAX]
    users = list(session.scalars(select(User).where(User.id.in_(wanted)))) if wanted else []
    if len(users) != len(set(user_ids)):
        raise ValidationError.single("member_ids", "some of these users do not exist")
    if any(not u.is_staff for u in users):
        raise ValidationError.single("member_ids", "only technicians and admins can join a team")
    return users


def get_team(session: Session, actor: User, team_id: int) -> Team:
    policy.require_desk_manager(actor)
    team = get_by_id(session, Team, team_id)
    if team is None:
        raise NotFound(f"Team {team_id} was not found.")
    return team


def list_teams(session: Session, actor: User) -> list[Team]:
    """Every team (the desk sees them all; changing them is the admins' business)."""
    policy.require_desk_member(actor)
    return list(session.scalars(select(Team).order_by(Team.name)))


def clean_name(name: str, field: str = "name") -> str:
    """A team, category or token name: spaces collapsed, 1 to 80 characters."""
    cleaned = " ".join(name.split())
    if not cleaned:
        raise ValidationError.single(field, "is required")
    if len(cleaned) > 80:
        raise ValidationError.single(field, "must be at most 80 characters")
    return cleaned


def user_field_errors(email: str, full_name: str) -> list[FieldError]:
    """What is wrong with this email and name for an account (the CSV import checks each line)."""
    return _validate_user(email, full_name, errors=[])


def _validate_user(email: str, full_name: str, errors: list[FieldError]) -> list[FieldError]:
    email = normalise_email(email)
    if not _EMAIL.match(email) or len(email) > 254:
        errors.append(FieldError("email", "is not a valid email address"))
    name = full_name.strip()
    if not name:
        errors.append(FieldError("full_name", "is required"))
    elif len(name) > 120:
        errors.append(FieldError("full_name", "must be at most 120 characters"))
    return errors


def replace_password(session: Session, user: User, new_password: str) -> User:
    """Set a new password the caller has already authorised (a reset link): every session and API
    token of the user ends."""
    if len(new_password) < MIN_PASSWORD_LENGTH:
        raise ValidationError.single("password", f"must be at least {MIN_PASSWORD_LENGTH} characters")
    user.password_hash = hash_password(new_password)
    user.must_change_password = False
    user.session_epoch += 1
    _revoke_tokens(user)
    session.flush()
    return user


def set_temporary_password(
    session: Session, actor: User, user_id: int, password: str, *, origin: Origin | None = None
) -> User:
    """An admin lets someone locked out back in: the password is theirs to pass on, it works to sign
    in once more, and nothing but choosing a new one is possible until they have. Every session and
    API token of the user ends now."""
    policy.require_desk_manager(actor)
    user = get_by_id(session, User, user_id)
    if user is None:
        raise NotFound(f"User {user_id} was not found.")
    _refuse_directory_account(session, user, "password")
    if user.id == actor.id:
        raise ValidationError.single("password", "is your own: change it on the Password page")
    if len(password) < MIN_PASSWORD_LENGTH:
        raise ValidationError.single("password", f"must be at least {MIN_PASSWORD_LENGTH} characters")
    user.password_hash = hash_password(password)
    user.must_change_password = True
    user.session_epoch += 1
    _revoke_tokens(user)
    session.flush()
    audit.record(
        session,
        actor,
        origin,
        "user.temporary_password",
        target_type="user",
        target_id=user.id,
        target_label=user.email,
        after={"password": audit.CHANGED, "must_change_password": True},
    )
    return user


def is_directory_account(session: Session, user: User) -> bool:
    """The company directory owns the account: its password and email are the directory's."""
    return session.get(DirectoryAccount, user.id) is not None


def _refuse_directory_account(session: Session, user: User, field: str) -> None:
    if is_directory_account(session, user):
        raise ValidationError.single(
            field, "is the company directory's: change it there (this account signs in with it)"
        )


def free_email(session: Session, email: str, current: str | None = None) -> str:
    """`email` normalised, if it is a valid address no other account uses; otherwise refused."""
    email = normalise_email(email)
    if not _EMAIL.match(email) or len(email) > 254:
        raise ValidationError.single("email", "is not a valid email address")
    if email == current:
        raise ValidationError.single("email", "is already your address")
    if find_user_by_email(session, email) is not None:
        raise ValidationError.single("email", "is already used by another account")
    return email
