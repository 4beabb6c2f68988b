"""What a report is asked about: a date range of the desk's calendar, day or week periods, and the
team, category and priority filters; parsed from a query string with a clear error per field."""

from __future__ import annotations

from collections.abc import Mapping
from dataclasses import dataclass
from datetime import date, timedelta
from typing import TypeVar
from zoneinfo import ZoneInfo

from supportdesk.core.db import ID_MAX
from supportdesk.core.errors import FieldError, ValidationError
from supportdesk.reports.calendar import Granularity, Period, periods
from supportdesk.tickets.lifecycle import Priority

DEFAULT_DAYS = 28  # four weeks: what a desk lead looks back over on a Monday
MAX_DAYS = 366
# The days a desk can have tickets on (and every calendar computation stays in range).
EARLIEST, LATEST = date(1970, 1, 2), date(9998, 12, 31)


@dataclass(frozen=True)
class ReportFilters:
    first_day: date
    last_day: date
    granularity: Granularity = Granularity.DAY
    team_id: int | None = None
    category_id: int | None = None
    priority: Priority | None = None

    def periods(self, zone: ZoneInfo) -> list[Period]:
        return periods(self.first_day, self.last_day, self.granularity, zone)

    def query(self) -> dict[str, str]:
        """The filters as query-string values (for links, the export and the form)."""
        values = {
            "from": self.first_day.isoformat(),
            "to": self.last_day.isoformat(),
            "by": self.granularity.value,
            "team": "" if self.team_id is None else str(self.team_id),
            "category": "" if self.category_id is None else str(self.category_id),
            "priority": "" if self.priority is None else self.priority.value,
        }
        return {name: value for name, value in values.items() if value}


def default_filters(today: date) -> ReportFilters:
    return ReportFilters(first_day=today - timedelta(days=DEFAULT_DAYS - 1), last_day=today)


def parse_filters(args: Mapping[str, str], today: date) -> ReportFilters:
    """`from`, `to` (ISO dates), `by` (day or week), `team`, `category` (ids), `priority`; anything
    missing takes the default (the last four weeks to `today`, by day, no filter)."""
    errors: list[FieldError] = []
    last = _date(args, "to", today, errors)
    first = _date(args, "from", last - timedelta(days=DEFAULT_DAYS - 1), errors)
    if not errors and last < first:
        errors.append(FieldError("to", "must be on or after the first day"))
    elif not errors and (last - first).days + 1 > MAX_DAYS:
        errors.append(FieldError("to", f"a range covers at most {MAX_DAYS} days"))
    granularity = _choice(args, "by", Granularity, errors) or Granularity.DAY
    priority = _choice(args, "priority", Priority, errors)
    team, category = _id(args, "team", errors), _id(args, "category", errors)
    if errors:
        raise ValidationError(errors)
    return ReportFilters(first, last, granularity, team, category, priority)


def _date(args: Mapping[str, str], name: str, default: date, errors: list[FieldError]) -> date:
    raw = (args.get(name) or "").strip()
    if not raw:
        return default
    try:
        day = date.fromisoformat(raw)
    except ValueError:
        errors.append(FieldError(name, "must be a date such as 2026-11-02"))
        return default
    if not EARLIEST <= day <= LATEST:
        errors.append(FieldError(name, f"must be between {EARLIEST.isoformat()} and {LATEST.isoformat()}"))
        return default
    return day


E = TypeVar("E", Granularity, Priority)


def _choice(args: Mapping[str, str], name: str, kind: type[E], errors: list[FieldError]) -> E | None:
    raw = (args.get(name) or "").strip()
    if not raw:
        return None
    try:
        return kind(raw)
    except ValueError:
        errors.append(FieldError(name, f"must be one of {', '.join(member.value for member in kind)}"))
        return None


def _id(args: Mapping[str, str], name: str, errors: list[FieldError]) -> int | None:
    raw = (args.get(name) or "").strip()
    if not raw:
        return None
    if not raw.isascii() or not raw.isdigit() or not 1 <= int(raw) <= ID_MAX:
        errors.append(FieldError(name, "must be the id of one"))
        return None
    return int(raw)
