"""How each team hands out its tickets, who is taking tickets, and the rules that route new tickets."""

from __future__ import annotations

import enum
from datetime import datetime

from sqlalchemy import Boolean, ForeignKey, Integer, String
from sqlalchemy.orm import Mapped, mapped_column

from supportdesk.accounts.models import enum_column
from supportdesk.core.db import Base, UTCDateTime, utcnow


class AssignmentMode(enum.StrEnum):
    OFF = "off"  # tickets wait in the team's queue for someone to take them
    ROUND_ROBIN = "round_robin"  # each available member in turn
    LEAST_LOADED = "least_loaded"  # the available member with the fewest open tickets


class TeamAssignment(Base):
    """A team's automatic assignment. No row means off. The row is also the lock that makes a team's
    automatic assignments take turns (`routing.service`)."""

    __tablename__ = "team_assignment"

    team_id: Mapped[int] = mapped_column(ForeignKey("teams.id", ondelete="CASCADE"), primary_key=True)
    mode: Mapped[AssignmentMode] = mapped_column(enum_column(AssignmentMode), default=AssignmentMode.OFF)
    # At most this many open tickets each (None: no cap); counted over all of a technician's tickets.
    max_open: Mapped[int | None] = mapped_column(Integer)
    # Round-robin's place: the member who got the last ticket (no foreign key: a stale id just means
    # "start from the next one").
    last_user_id: Mapped[int | None] = mapped_column(Integer)


class Availability(Base):
    """Whether a technician is taking tickets (they say so in the desk). No row means not available."""

    __tablename__ = "technician_availability"

    user_id: Mapped[int] = mapped_column(ForeignKey("users.id", ondelete="CASCADE"), primary_key=True)
    available: Mapped[bool] = mapped_column(Boolean, default=False)
    changed_at: Mapped[datetime] = mapped_column(UTCDateTime, default=utcnow)


class RoutingRule(Base):
    """Sends a new ticket to a team when all its conditions hold (a category; any of its keywords in
    the subject). Tried in `position` order; the first that matches wins."""

    __tablename__ = "routing_rules"

    id: Mapped[int] = mapped_column(primary_key=True)
    name: Mapped[str] = mapped_column(String(80), unique=True)
    position: Mapped[int] = mapped_column(Integer, default=0)
    category_id: Mapped[int | None] = mapped_column(ForeignKey("categories.id", ondelete="CASCADE"))
    keywords: Mapped[str] = mapped_column(String(500), default="")  # comma-separated
    team_id: Mapped[int] = mapped_column(ForeignKey("teams.id", ondelete="CASCADE"))
