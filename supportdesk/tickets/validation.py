"""Checking a ticket's fields before anything changes: text cleaned and measured, and the people, teams
and categories a ticket may point at. Each check adds a FieldError instead of raising, so a request
hears about every problem at once."""

from __future__ import annotations

import re

from sqlalchemy.orm import Session

from supportdesk.accounts.models import Team, User
from supportdesk.core.db import get_by_id
from supportdesk.core.errors import FieldError
from supportdesk.tickets import policy
from supportdesk.tickets.models import SUBJECT_MAX, Category

_CONTROL_CHARS = re.compile(r"[\x00-\x08\x0b\x0c\x0e-\x1f\x7f]")


def clean_subject(subject: str, errors: list[FieldError]) -> str:
    cleaned = " ".join(_CONTROL_CHARS.sub("", subject).split())
    if not cleaned:
        errors.append(FieldError("subject", "is required"))
    elif len(cleaned) > SUBJECT_MAX:
        errors.append(FieldError("subject", f"must be at most {SUBJECT_MAX} characters"))
    return cleaned


def clean_text(text: str, name: str, limit: int, errors: list[FieldError], *, required: bool) -> str:
    cleaned = _CONTROL_CHARS.sub("", text).replace("\r\n", "\n").strip()
    if required and not cleaned:
        errors.append(FieldError(name, "is required"))
    elif len(cleaned) > limit:
        errors.append(FieldError(name, f"must be at most {limit:,} characters"))
    return cleaned


def load_requester(session: Session, user_id: int, errors: list[FieldError]) -> User | None:
    user = get_by_id(session, User, user_id)
    if user is None or not user.is_active:
        errors.append(FieldError("requester_id", "no active user has this id"))
        return None
    return user


def load_assignee(session: Session, user_id: int, errors: list[FieldError]) -> User | None:
    user = get_by_id(session, User, user_id)
    if user is None or not policy.may_be_assigned(user):
        errors.append(FieldError("assignee_id", "must be an active technician or admin"))
        return None
    return user


def load_team(session: Session, team_id: int, errors: list[FieldError]) -> Team | None:
    team = get_by_id(session, Team, team_id)
    if team is None:
        errors.append(FieldError("team_id", "no team has this id"))
    return team


def load_category(session: Session, category_id: int, errors: list[FieldError]) -> Category | None:
    category = get_by_id(session, Category, category_id)
    if category is None or not category.is_active:
        errors.append(FieldError("category_id", "no active category has this id"))
        return None
    return category
