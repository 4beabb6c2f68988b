"""Business calendars and service-level policies. A ticket's due times live on the ticket itself
(`tickets.models.Ticket`), kept right by `sla.service` in the same transaction as every change."""

from __future__ import annotations

from datetime import date, datetime
from typing import Any

from sqlalchemy import JSON, Boolean, ForeignKey, Integer, String, false, text
from sqlalchemy.orm import Mapped, mapped_column, relationship

from supportdesk.accounts.models import Team, enum_column
from supportdesk.core.db import Base, UTCDateTime, utcnow
from supportdesk.sla.clock import Calendar, Window
from supportdesk.tickets.lifecycle import Priority


class BusinessCalendar(Base):
    """Working hours per weekday in a time zone, and holidays.

    `weekly` maps a weekday ("0" = Monday) to [[start, end], ...] in minutes after local midnight;
    `holidays` lists ISO dates ("2026-12-24") and, for holidays every year, "--MM-DD" (ISO 8601's
    form for a day without a year)."""

    __tablename__ = "sla_calendars"

    id: Mapped[int] = mapped_column(primary_key=True)
    name: Mapped[str] = mapped_column(String(80), unique=True)
    zone: Mapped[str] = mapped_column(String(64))
    weekly: Mapped[dict[str, Any]] = mapped_column(JSON, default=dict)
    holidays: Mapped[list[str]] = mapped_column(JSON, default=list)

    def to_calendar(self) -> Calendar:
        one_off = frozenset(date.fromisoformat(day) for day in self.holidays if not day.startswith("--"))
        yearly = frozenset((int(day[2:4]), int(day[5:7])) for day in self.holidays if day.startswith("--"))
        weekly = {
            int(day): tuple(Window(int(start), int(end)) for start, end in windows)
            for day, windows in self.weekly.items()
        }
        return Calendar(zone=self.zone, weekly=weekly, holidays=one_off, yearly_holidays=yearly)


class SlaPolicy(Base):
    """Targets for the tickets it matches. Policies are tried in `position` order; the first whose
    conditions all hold applies (an empty condition matches anything)."""

    __tablename__ = "sla_policies"

    id: Mapped[int] = mapped_column(primary_key=True)
    name: Mapped[str] = mapped_column(String(80), unique=True)
    position: Mapped[int] = mapped_column(Integer, default=0)
    priority: Mapped[Priority | None] = mapped_column(enum_column(Priority))
    category_id: Mapped[int | None] = mapped_column(ForeignKey("categories.id", ondelete="CASCADE"))
    team_id: Mapped[int | None] = mapped_column(ForeignKey("teams.id", ondelete="CASCADE"))
    calendar_id: Mapped[int] = mapped_column(ForeignKey("sla_calendars.id", ondelete="RESTRICT"))
    first_response_minutes: Mapped[int | None] = mapped_column(Integer)
    resolution_minutes: Mapped[int | None] = mapped_column(Integer)
    # How long before a target falls due its ticket is "at risk" and its people are warned (wall-clock
    # minutes: a warning is about the time left on the clock on the wall).
    warning_minutes: Mapped[int] = mapped_column(Integer, default=60, server_default=text("60"))
    # What a breach does besides telling the team's lead: raise the priority one step, move the ticket
    # to another team (either, both or neither).
    escalate_priority: Mapped[bool] = mapped_column(Boolean, default=False, server_default=false())
    escalate_to_team_id: Mapped[int | None] = mapped_column(ForeignKey("teams.id", ondelete="SET NULL"))

    calendar: Mapped[BusinessCalendar] = relationship()
    team: Mapped[Team | None] = relationship(foreign_keys=[team_id])


class RecomputeRequest(Base):
    """A change to the calendars or policies, waiting for the worker to recompute the open tickets'
    due times. Written in the same transaction as the change; `done_through_id` is how far the pass
    has got (by ticket id), so an interrupted pass resumes where it stopped."""

    __tablename__ = "sla_recompute_requests"

    id: Mapped[int] = mapped_column(primary_key=True)
    requested_at: Mapped[datetime] = mapped_column(UTCDateTime, default=utcnow)
    done_through_id: Mapped[int] = mapped_column(Integer, default=0)
