"""Bringing people in from a CSV file: upload (kept as a staged import), preview, apply.

The preview is a plan: per line, what would be created or updated, or why the line is refused (a bad
address, the same address twice, an account that already exists, a role or team the desk does not
have). Applying re-reads the file and re-plans against the database as it is now, in one unit of work:
nothing is imported unless every line is fine, and if the plan is no longer the one the admin saw (the
file or the desk changed in between) nothing is imported and the new preview is shown. New people are
invited by email (through the outbox, in the same unit of work)."""

from __future__ import annotations

import hashlib
import json
from dataclasses import dataclass, field, replace
from datetime import datetime, timedelta

from sqlalchemy import Boolean, ForeignKey, Integer, String, Text, delete, select
from sqlalchemy.orm import Mapped, Session, mapped_column

from supportdesk.accounts import audit, invitations, policy
from supportdesk.accounts.directory_models import DirectoryAccount
from supportdesk.accounts.models import STAFF_ROLES, Role, Team, User
from supportdesk.accounts.passwords import unusable_password
from supportdesk.accounts.people_csv import CsvPerson, CsvRefused, decode, parse_text
from supportdesk.accounts.service import normalise_email, user_field_errors
from supportdesk.core import clock
from supportdesk.core.db import Base, UTCDateTime, get_by_id
from supportdesk.core.errors import Conflict, NotFound, ValidationError
from supportdesk.core.origin import Origin

KEPT_FOR = timedelta(days=1)  # a staged file nobody applied is dropped after this


class UserImport(Base):
    """An uploaded file waiting to be applied (its text, decoded); emptied once applied."""

    __tablename__ = "user_imports"

    id: Mapped[int] = mapped_column(primary_key=True)
    admin_id: Mapped[int] = mapped_column(ForeignKey("users.id", ondelete="CASCADE"), index=True)
    filename: Mapped[str] = mapped_column(String(200))
    content: Mapped[str] = mapped_column(Text)
    sha256: Mapped[str] = mapped_column(String(64))
    update_existing: Mapped[bool] = mapped_column(Boolean, default=False)
    invite: Mapped[bool] = mapped_column(Boolean, default=True)
    created_at: Mapped[datetime] = mapped_column(UTCDateTime)
    applied_at: Mapped[datetime | None] = mapped_column(UTCDateTime)
    created_count: Mapped[int] = mapped_column(Integer, default=0)
    updated_count: Mapped[int] = mapped_column(Integer, default=0)


@dataclass(frozen=True, slots=True)
class PlannedLine:
    line: int
    email: str
    full_name: str
    action: str  # "create", "update", "unchanged", "error"
    role: str
    teams: tuple[str, ...] | None
    changes: tuple[str, ...] = ()  # for an update, what changes, in words
    errors: tuple[str, ...] = ()


@dataclass(frozen=True, slots=True)
class Plan:
    import_id: int
    filename: str
    lines: list[PlannedLine]
    digest: str
    update_existing: bool
    invite: bool
    ignored_columns: tuple[str, ...] = field(default=())

    def count(self, action: str) -> int:
        return sum(1 for line in self.lines if line.action == action)

    @property
    def errors(self) -> list[PlannedLine]:
        return [line for line in self.lines if line.action == "error"]


def stage(
    session: Session, actor: User, filename: str, data: bytes, *, update_existing: bool, invite: bool
) -> Plan:
    """Keep an uploaded file and plan it (CsvRefused when the file cannot be read at all)."""
    policy.require_desk_manager(actor)
    text = decode(data)
    parsed = parse_text(text)  # refuses before anything is kept
    now = clock.now()
    session.execute(delete(UserImport).where(UserImport.created_at < now - KEPT_FOR))
    staged = UserImport(
        admin_id=actor.id,
        filename="".join(ch for ch in filename if ch.isprintable())[:200] or "people.csv",
        content=text,  # read again on apply
        sha256=hashlib.sha256(data).hexdigest(),
        update_existing=update_existing,
        invite=invite,
        created_at=now,
    )
    session.add(staged)
    session.flush()
    return _plan(session, actor, staged, parsed.people, parsed.ignored)


def preview(session: Session, actor: User, import_id: int) -> Plan:
    staged = _staged(session, actor, import_id)
    parsed = parse_text(staged.content)
    return _plan(session, actor, staged, parsed.people, parsed.ignored)


def _staged(session: Session, actor: User, import_id: int) -> UserImport:
    policy.require_desk_manager(actor)
    staged = get_by_id(session, UserImport, import_id)
    if staged is None or staged.admin_id != actor.id:
        raise NotFound("This import was not found: upload the file again.")
    if staged.applied_at is not None:
        raise Conflict(
            f"This file was already imported ({staged.created_count} created, "
            f"{staged.updated_count} updated)."
        )
    return staged


def _plan(
    session: Session, actor: User, staged: UserImport, people: list[CsvPerson], ignored: tuple[str, ...]
) -> Plan:
    emails = [normalise_email(p.email) for p in people]
    existing = (
        {u.email: u for u in session.scalars(select(User).where(User.email.in_({e for e in emails if e})))}
        if emails
        else {}
    )
    teams = {t.name.lower(): t.name for t in session.scalars(select(Team))}
    directory = set(
        session.scalars(
            select(DirectoryAccount.user_id).where(
                DirectoryAccount.user_id.in_([u.id for u in existing.values()])
            )
        )
    )
    first_line: dict[str, int] = {}
    lines = []
    for person, email in zip(people, emails, strict=True):
        user = existing.get(email)
        line = _plan_line(actor, staged, person, email, user, teams, first_line)
        if user is not None and user.id in directory and line.action != "error":
            line = replace(
                line, action="error", changes=(), errors=("follows the company directory: change it there",)
            )
        lines.append(line)
        first_line.setdefault(email, person.line)
    body = json.dumps(
        [[p.line, p.email, p.full_name, p.action, p.role, p.teams, p.changes, p.errors] for p in lines],
        sort_keys=True,
    )
    digest = hashlib.sha256(
        f"{staged.sha256}\n{staged.update_existing}\n{staged.invite}\n{body}".encode()
    ).hexdigest()
    return Plan(staged.id, staged.filename, lines, digest, staged.update_existing, staged.invite, ignored)


def _plan_line(
    actor: User,
    staged: UserImport,
    person: CsvPerson,
    email: str,
    user: User | None,
    teams: dict[str, str],
    first_line: dict[str, int],
) -> PlannedLine:
    errors = list(person.problems)
    errors += [
        f"{e.field.replace('_', ' ')} {e.message}" for e in user_field_errors(person.email, person.full_name)
    ]
    if email in first_line:
        errors.append(f"the same email as line {first_line[email]}")
    role_text = person.role.strip().lower()
    role = None
    if role_text:
        role = next((r for r in Role if r.value == role_text), None)
        if role is None:
            errors.append(f"role “{person.role}” is not one of {', '.join(r.value for r in Role)}")
    team_names: tuple[str, ...] | None = None
    if person.teams is not None:
        unknown = [name for name in person.teams if name.lower() not in teams]
        if unknown:
            errors.append(f"no team is called {', '.join('“' + n + '”' for n in unknown)}")
        team_names = tuple(teams[n.lower()] for n in person.teams if n.lower() in teams)
    final_role = role or (user.role if user is not None else Role.REQUESTER)
    if team_names and final_role not in STAFF_ROLES:
        errors.append("only technicians and admins can join a team")
    changes: list[str] = []
    if user is not None:
        if not staged.update_existing:
            errors.append("already has an account (tick “Update people who already have an account”)")
        else:
            changes = _changes(user, person.full_name, role, team_names)
            if user.id == actor.id and role is not None and role is not Role.ADMIN:
                errors.append("is you: you cannot demote yourself")
    action = "error" if errors else ("create" if user is None else ("update" if changes else "unchanged"))
    return PlannedLine(
        person.line,
        email or person.email,
        person.full_name,
        action,
        final_role.value,
        team_names,
        tuple(changes),
        tuple(errors),
    )


def _changes(user: User, full_name: str, role: Role | None, teams: tuple[str, ...] | None) -> list[str]:
    changes = []
    if full_name and full_name != user.full_name:
        changes.append(f"name {user.full_name} → {full_name}")
    if role is not None and role is not user.role:
        changes.append(f"role {user.role.value} → {role.value}")
    current = sorted(t.name for t in user.teams)
    if teams is not None and sorted(teams) != current:
        changes.append(f"teams {', '.join(current) or 'none'} → {', '.join(sorted(teams)) or 'none'}")
    return changes


@dataclass(frozen=True, slots=True)
class Applied:
    created: int
    updated: int
    invited: int


def apply(
    session: Session, actor: User, import_id: int, digest: str, *, origin: Origin | None = None
) -> Applied:
    """Import the staged file as previewed, whole or not at all."""
    plan = preview(session, actor, import_id)
    if plan.digest != digest:
        raise Conflict(
            "The file or the desk changed since the preview (someone added one of these people, say): "
            "nothing was imported. Look at the new preview and apply again."
        )
    if plan.errors:
        raise ValidationError.single(
            "file", f"{len(plan.errors)} line(s) have problems: fix them in the file and upload it again"
        )
    staged = _staged(session, actor, import_id)
    teams = {t.name: t for t in session.scalars(select(Team))}
    existing = {
        u.email: u
        for u in session.scalars(select(User).where(User.email.in_([line.email for line in plan.lines])))
    }
    created: list[User] = []
    updated = 0
    for line in plan.lines:
        if line.action == "create":
            user = User(
                email=line.email,
                full_name=line.full_name,
                role=Role(line.role),
                password_hash=unusable_password(),
                is_active=True,
            )
            user.teams = [teams[n] for n in line.teams or ()]
            session.add(user)
            created.append(user)
        elif line.action == "update":
            _update(session, actor, origin, existing[line.email], line, teams)
            updated += 1
    session.flush()
    for user in created:
        audit.record(
            session,
            actor,
            origin,
            "user.created",
            target_type="user",
            target_id=user.id,
            target_label=user.email,
            after={
                "email": user.email,
                "full_name": user.full_name,
                "role": user.role.value,
                "teams": sorted(t.name for t in user.teams),
                "source": f"import of {plan.filename}",
            },
        )
        if plan.invite:
            invitations.invite(session, actor, user, origin=origin, audited=False)
    audit.record(
        session,
        actor,
        origin,
        "user.imported",
        target_type="import",
        target_id=staged.id,
        target_label=plan.filename,
        after={"created": len(created), "updated": updated, "invited": len(created) if plan.invite else 0},
    )
    staged.applied_at = clock.now()
    staged.created_count, staged.updated_count = len(created), updated
    staged.content = ""  # the people's data is in their accounts now; the file need not stay
    session.flush()
    return Applied(len(created), updated, len(created) if plan.invite else 0)


def _update(
    session: Session,
    actor: User,
    origin: Origin | None,
    user: User,
    line: PlannedLine,
    teams: dict[str, Team],
) -> None:
    was = {"full_name": user.full_name, "role": user.role.value, "teams": sorted(t.name for t in user.teams)}
    if line.full_name:
        user.full_name = line.full_name
    user.role = Role(line.role)
    if line.teams is not None:
        user.teams = [teams[n] for n in line.teams]
    now = {"full_name": user.full_name, "role": user.role.value, "teams": sorted(t.name for t in user.teams)}
    actions = {"full_name": "user.renamed", "role": "user.role_changed", "teams": "user.teams_changed"}
    audit.record_user_fields(session, actor, origin, user, was, now, actions)


__all__ = ["Applied", "CsvRefused", "Plan", "PlannedLine", "UserImport", "apply", "preview", "stage"]
