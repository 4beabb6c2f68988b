"""Admins manage business calendars and service-level policies. Everything is validated before anything
changes; every change asks for the open tickets' due times to be recomputed (`sla.recompute`), in the
same unit of work, so a change that rolls back asks for nothing."""

from __future__ import annotations

import re
from dataclasses import dataclass
from datetime import date
from typing import Any

from sqlalchemy import select
from sqlalchemy.orm import Session

from supportdesk.accounts import audit, policy
from supportdesk.accounts.models import Team, User
from supportdesk.accounts.service import clean_name
from supportdesk.core.db import flush_unique, get_by_id
from supportdesk.core.errors import Conflict, FieldError, NotFound, ValidationError
from supportdesk.core.origin import Origin
from supportdesk.sla.clock import Calendar, Window
from supportdesk.sla.models import BusinessCalendar, RecomputeRequest, SlaPolicy
from supportdesk.tickets.lifecycle import Priority
from supportdesk.tickets.models import Category

_YEARLY = re.compile(r"^--(0[1-9]|1[0-2])-(0[1-9]|[12][0-9]|3[01])$")
MAX_TARGET_MINUTES = 366 * 24 * 60
MAX_HOLIDAYS = 400
MAX_WARNING_MINUTES = 30 * 24 * 60
# What the audit log records of each (the values before and after a change).
CALENDAR_FIELDS = ("name", "zone", "weekly", "holidays")
POLICY_FIELDS = (
    "name",
    "position",
    "calendar_id",
    "priority",
    "category_id",
    "team_id",
    "first_response_minutes",
    "resolution_minutes",
    "warning_minutes",
    "escalate_priority",
    "escalate_to_team_id",
)


def list_calendars(session: Session, actor: User) -> list[BusinessCalendar]:
    policy.require_desk_member(actor)
    return list(session.scalars(select(BusinessCalendar).order_by(BusinessCalendar.name)))


def list_policies(session: Session, actor: User) -> list[SlaPolicy]:
    policy.require_desk_member(actor)
    return list(session.scalars(select(SlaPolicy).order_by(SlaPolicy.position, SlaPolicy.id)))


def clean_calendar(zone: str, weekly: dict[str, Any], holidays: list[str], errors: list[FieldError]) -> None:
    """Check a calendar's parts the way `Calendar` will read them; problems go to `errors`."""
    try:
        windows = {int(day): tuple(Window(int(s), int(e)) for s, e in spans) for day, spans in weekly.items()}
        Calendar(zone=zone, weekly=windows)
    except (ValueError, TypeError) as error:
        field = "zone" if "time zone" in str(error) else "weekly"
        errors.append(FieldError(field, str(error)))
    if len(holidays) > MAX_HOLIDAYS:
        errors.append(FieldError("holidays", f"at most {MAX_HOLIDAYS}"))
    for day in holidays:
        if _YEARLY.match(day):
            continue
        try:
            date.fromisoformat(day)
        except ValueError:
            errors.append(
                FieldError("holidays", f"{day!r} is neither a date (2026-12-24) nor --MM-DD (--12-25)")
            )


def save_calendar(
    session: Session,
    actor: User,
    *,
    calendar_id: int | None = None,
    name: str,
    zone: str,
    weekly: dict[str, Any],
    holidays: list[str],
    origin: Origin | None = None,
) -> BusinessCalendar:
    """Create a calendar, or replace one's contents (`calendar_id`)."""
    policy.require_desk_manager(actor)
    errors: list[FieldError] = []
    clean_calendar(zone, weekly, holidays, errors)
    if errors:
        raise ValidationError(errors)
    calendar = BusinessCalendar() if calendar_id is None else _calendar(session, calendar_id)
    was = None if calendar_id is None else audit.snapshot(calendar, CALENDAR_FIELDS)
    calendar.name = clean_name(name)
    calendar.zone = zone
    calendar.weekly = {str(int(day)): [[int(s), int(e)] for s, e in spans] for day, spans in weekly.items()}
    calendar.holidays = sorted(set(holidays))
    session.add(calendar)
    flush_unique(session, "name", "a calendar with this name already exists")
    audit.record_setting(session, actor, origin, "sla_calendar", calendar, CALENDAR_FIELDS, was)
    request_recompute(session)
    return calendar


def delete_calendar(session: Session, actor: User, calendar_id: int, *, origin: Origin | None = None) -> None:
    policy.require_desk_manager(actor)
    calendar = _calendar(session, calendar_id)
    if session.scalar(select(SlaPolicy.id).where(SlaPolicy.calendar_id == calendar.id).limit(1)) is not None:
        raise Conflict("A policy uses this calendar: give the policy another calendar first.")
    audit.record_deleted(session, actor, origin, "sla_calendar", calendar, CALENDAR_FIELDS)
    session.delete(calendar)
    session.flush()


def save_policy(
    session: Session,
    actor: User,
    *,
    policy_id: int | None = None,
    name: str,
    position: int,
    calendar_id: int,
    priority: Priority | None = None,
    category_id: int | None = None,
    team_id: int | None = None,
    first_response_minutes: int | None = None,
    resolution_minutes: int | None = None,
    warning_minutes: int = 60,
    escalate_priority: bool = False,
    escalate_to_team_id: int | None = None,
    origin: Origin | None = None,
) -> SlaPolicy:
    """Create a policy, or replace one's settings (`policy_id`)."""
    policy.require_desk_manager(actor)
    errors: list[FieldError] = []
    if get_by_id(session, BusinessCalendar, calendar_id) is None:
        errors.append(FieldError("calendar_id", "no calendar has this id"))
    if category_id is not None and get_by_id(session, Category, category_id) is None:
        errors.append(FieldError("category_id", "no category has this id"))
    if team_id is not None and get_by_id(session, Team, team_id) is None:
        errors.append(FieldError("team_id", "no team has this id"))
    for field, minutes in (
        ("first_response_minutes", first_response_minutes),
        ("resolution_minutes", resolution_minutes),
    ):
        if minutes is not None and not 1 <= minutes <= MAX_TARGET_MINUTES:
            errors.append(FieldError(field, f"between 1 and {MAX_TARGET_MINUTES} minutes"))
    if not 1 <= warning_minutes <= MAX_WARNING_MINUTES:
        errors.append(FieldError("warning_minutes", f"between 1 and {MAX_WARNING_MINUTES} minutes"))
    if escalate_to_team_id is not None and get_by_id(session, Team, escalate_to_team_id) is None:
        errors.append(FieldError("escalate_to_team_id", "no team has this id"))
    if first_response_minutes is None and resolution_minutes is None:
        errors.append(
            FieldError("resolution_minutes", "set a first response target, a resolution target, or both")
        )
    if errors:
        raise ValidationError(errors)
    found = SlaPolicy() if policy_id is None else _policy(session, policy_id)
    was = None if policy_id is None else audit.snapshot(found, POLICY_FIELDS)
    found.name = clean_name(name)
    found.position = position
    found.calendar_id = calendar_id
    found.priority = priority
    found.category_id = category_id
    found.team_id = team_id
    found.first_response_minutes = first_response_minutes
    found.resolution_minutes = resolution_minutes
    found.warning_minutes = warning_minutes
    found.escalate_priority = escalate_priority
    found.escalate_to_team_id = escalate_to_team_id
    session.add(found)
    flush_unique(session, "name", "a policy with this name already exists")
    audit.record_setting(session, actor, origin, "sla_policy", found, POLICY_FIELDS, was)
    request_recompute(session)
    return found


def delete_policy(session: Session, actor: User, policy_id: int, *, origin: Origin | None = None) -> None:
    policy.require_desk_manager(actor)
    found = _policy(session, policy_id)
    audit.record_deleted(session, actor, origin, "sla_policy", found, POLICY_FIELDS)
    session.delete(found)
    session.flush()
    request_recompute(session)


@dataclass(frozen=True)
class Names:
    categories: dict[int, str]
    teams: dict[int, str]


@dataclass(frozen=True)
class Described:
    """A policy in words, for the admins' table."""

    applies_to: str  # "urgent priority, team Network" or "every ticket"
    warning: str  # "1 h before"
    on_breach: str  # "raise priority, move to Escalations", or "tell the team's lead"


def describe(found: SlaPolicy, names: Names) -> Described:
    conditions = []
    if found.priority is not None:
        conditions.append(f"{found.priority.value} priority")
    if found.category_id is not None:
        conditions.append(f"category {names.categories.get(found.category_id, '#' + str(found.category_id))}")
    if found.team_id is not None:
        conditions.append(f"team {names.teams.get(found.team_id, '#' + str(found.team_id))}")
    actions = ["raise priority"] if found.escalate_priority else []
    if found.escalate_to_team_id is not None:
        actions.append(
            f"move to {names.teams.get(found.escalate_to_team_id, '#' + str(found.escalate_to_team_id))}"
        )
    return Described(
        applies_to=", ".join(conditions) or "every ticket",
        warning=f"{_hours(found.warning_minutes)} before",
        on_breach=", ".join(actions) or "tell the team's lead",
    )


def _hours(minutes: int) -> str:
    hours, rest = divmod(minutes, 60)
    if not hours:
        return f"{rest} min"
    return f"{hours} h {rest} min" if rest else f"{hours} h"


def request_recompute(session: Session) -> None:
    """Ask the worker to bring every open ticket's due times in line with the current settings."""
    session.add(RecomputeRequest())


def _calendar(session: Session, calendar_id: int) -> BusinessCalendar:
    found = get_by_id(session, BusinessCalendar, calendar_id)
    if found is None:
        raise NotFound(f"Calendar {calendar_id} was not found.")
    return found


def _policy(session: Session, policy_id: int) -> SlaPolicy:
    found = get_by_id(session, SlaPolicy, policy_id)
    if found is None:
        raise NotFound(f"Policy {policy_id} was not found.")
    return found
