"""Categories, tickets, their comments and the audit trail of every change."""

from __future__ import annotations

import enum
from collections.abc import Collection
from datetime import datetime

from sqlalchemy import (
    Boolean,
    ColumnElement,
    ForeignKey,
    Index,
    Integer,
    Sequence,
    String,
    Text,
    UniqueConstraint,
    literal_column,
    text,
)
from sqlalchemy.orm import Mapped, mapped_column, relationship

from supportdesk.accounts.models import Team, User, enum_column
from supportdesk.core.db import Base, UTCDateTime, utcnow
from supportdesk.tickets.lifecycle import ACTIVE_STATUSES, Priority, Status

# The predicate of the partial indexes of active tickets: "status IN ('new', 'on_hold', 'open', 'pending')".
ACTIVE_SQL = f"status IN ({', '.join(repr(s.value) for s in sorted(ACTIVE_STATUSES))})"
# Active tickets that have breached a service-level target (the reports' "open and breached now").
BREACHED_SQL = f"{ACTIVE_SQL} AND (first_response_breached OR resolution_breached)"
SUBJECT_MAX = 200


def _active_index(name: str, *columns: str) -> Index:
    """An index over active tickets only (about a tenth of a desk), on both databases."""
    return Index(name, *columns, postgresql_where=text(ACTIVE_SQL), sqlite_where=text(ACTIVE_SQL))


DESCRIPTION_MAX = 20_000
COMMENT_MAX = 20_000
FIRST_TICKET_NUMBER = 1001

# PostgreSQL hands out ticket numbers from a sequence so concurrent creations never collide;
# SQLite (one writer at a time) takes the next number after the highest.
ticket_number_seq = Sequence("ticket_number_seq", start=FIRST_TICKET_NUMBER, metadata=Base.metadata)


class Category(Base):
    __tablename__ = "categories"

    id: Mapped[int] = mapped_column(primary_key=True)
    name: Mapped[str] = mapped_column(String(80), unique=True)
    default_team_id: Mapped[int | None] = mapped_column(ForeignKey("teams.id", ondelete="SET NULL"))
    is_active: Mapped[bool] = mapped_column(Boolean, default=True)

    default_team: Mapped[Team | None] = relationship()

    def __repr__(self) -> str:
        return f"<Category {self.id} {self.name}>"


def ticket_reference(number: int) -> str:
    """How people write a ticket's number: #1042."""
    return f"#{number}"


class Ticket(Base):
    __tablename__ = "tickets"
    __table_args__ = (
        Index("ix_tickets_status_updated_at", "status", "updated_at"),
        Index("ix_tickets_updated_at", "updated_at"),
        Index("ix_tickets_assignee_id_status", "assignee_id", "status"),
        Index("ix_tickets_team_id_status", "team_id", "status"),
        Index("ix_tickets_requester_id_updated_at", "requester_id", "updated_at"),
        Index("ix_tickets_category_id", "category_id"),
        # The desk's views list the few active tickets newest first: walking this small index in order
        # answers them without sorting every active ticket (most of a desk's tickets are closed).
        _active_index("ix_tickets_active_updated_at", "updated_at"),
        # The same, per requester ("my tickets") and per assignee ("Mine", and "Unassigned" under NULL).
        _active_index("ix_tickets_active_requester_updated_at", "requester_id", "updated_at"),
        _active_index("ix_tickets_active_assignee_updated_at", "assignee_id", "updated_at"),
        # Covers every column the queue counts read, so counting active tickets never visits the table.
        _active_index("ix_tickets_active_counts", "status", "assignee_id", "team_id"),
        # Reports count the tickets raised and resolved in a date range (supportdesk/reports/).
        Index("ix_tickets_created_at", "created_at"),
        Index("ix_tickets_resolved_at", "resolved_at"),
        # "At risk" and "Breached": the few active tickets with a running target. Only those: an index
        # of every active ticket would compete with the covering one the queue counts read.
        Index(
            "ix_tickets_active_next_due_at",
            "next_due_at",
            postgresql_where=text(f"{ACTIVE_SQL} AND next_due_at IS NOT NULL"),
            sqlite_where=text(f"{ACTIVE_SQL} AND next_due_at IS NOT NULL"),
        ),
        # The reports' open tickets breached now: a few, out of every active ticket.
        Index(
            "ix_tickets_active_breached",
            "team_id",
            postgresql_where=text(BREACHED_SQL),
            sqlite_where=text(BREACHED_SQL),
        ),
        # The tickets merged into one, and the children of an incident: a few rows, so partial indexes.
        Index(
            "ix_tickets_merged_into_id",
            "merged_into_id",
            postgresql_where=text("merged_into_id IS NOT NULL"),
            sqlite_where=text("merged_into_id IS NOT NULL"),
        ),
        Index(
            "ix_tickets_parent_id",
            "parent_id",
            postgresql_where=text("parent_id IS NOT NULL"),
            sqlite_where=text("parent_id IS NOT NULL"),
        ),
    )

    id: Mapped[int] = mapped_column(primary_key=True)
    number: Mapped[int] = mapped_column(Integer, unique=True)
    subject: Mapped[str] = mapped_column(String(SUBJECT_MAX))
    description: Mapped[str] = mapped_column(Text, default="")
    status: Mapped[Status] = mapped_column(enum_column(Status), default=Status.NEW)
    priority: Mapped[Priority] = mapped_column(enum_column(Priority), default=Priority.NORMAL)
    requester_id: Mapped[int] = mapped_column(ForeignKey("users.id", ondelete="RESTRICT"))
    assignee_id: Mapped[int | None] = mapped_column(ForeignKey("users.id", ondelete="SET NULL"))
    team_id: Mapped[int | None] = mapped_column(ForeignKey("teams.id", ondelete="SET NULL"))
    category_id: Mapped[int | None] = mapped_column(ForeignKey("categories.id", ondelete="SET NULL"))
    created_at: Mapped[datetime] = mapped_column(UTCDateTime, default=utcnow)
    updated_at: Mapped[datetime] = mapped_column(UTCDateTime, default=utcnow)
    first_response_at: Mapped[datetime | None] = mapped_column(UTCDateTime)
    resolved_at: Mapped[datetime | None] = mapped_column(UTCDateTime)
    closed_at: Mapped[datetime | None] = mapped_column(UTCDateTime)
    version: Mapped[int] = mapped_column(Integer)
    # Service levels, kept right by `sla.service` in the same transaction as every change.
    # No foreign key (SQLite cannot add one in place); deleting a policy recomputes its tickets.
    sla_policy_id: Mapped[int | None] = mapped_column(Integer)
    first_response_due_at: Mapped[datetime | None] = mapped_column(UTCDateTime)
    first_response_breached: Mapped[bool | None] = mapped_column(Boolean)
    resolution_due_at: Mapped[datetime | None] = mapped_column(UTCDateTime)
    resolution_breached: Mapped[bool | None] = mapped_column(Boolean)
    sla_worked_seconds: Mapped[int] = mapped_column(Integer, default=0, server_default=text("0"))
    sla_clock_since: Mapped[datetime | None] = mapped_column(UTCDateTime)
    next_due_at: Mapped[datetime | None] = mapped_column(UTCDateTime)
    # Duplicates and incidents (tickets/merging.py, tickets/incidents.py). Ticket ids, without foreign
    # keys (SQLite cannot add one in place): a merged ticket is closed and names the ticket the desk
    # carries on in; a child ticket names its parent incident (one level: a parent is never a child).
    merged_into_id: Mapped[int | None] = mapped_column(Integer)
    parent_id: Mapped[int | None] = mapped_column(Integer)

    # SQLAlchemy adds `WHERE version = <loaded>` to every UPDATE and raises StaleDataError when another
    # transaction got there first: the backstop behind the explicit expected-version checks.
    __mapper_args__ = {"version_id_col": version}

    requester: Mapped[User] = relationship(foreign_keys=[requester_id])
    assignee: Mapped[User | None] = relationship(foreign_keys=[assignee_id])
    team: Mapped[Team | None] = relationship()
    category: Mapped[Category | None] = relationship()
    comments: Mapped[list[Comment]] = relationship(
        back_populates="ticket", order_by="Comment.id", cascade="all, delete-orphan"
    )
    events: Mapped[list[TicketEvent]] = relationship(
        back_populates="ticket", order_by="TicketEvent.id", cascade="all, delete-orphan"
    )

    @property
    def reference(self) -> str:
        return ticket_reference(self.number)

    def __repr__(self) -> str:
        return f"<Ticket {self.reference} {self.status.value}>"


class Comment(Base):
    __tablename__ = "comments"

    id: Mapped[int] = mapped_column(primary_key=True)
    ticket_id: Mapped[int] = mapped_column(ForeignKey("tickets.id", ondelete="CASCADE"), index=True)
    author_id: Mapped[int] = mapped_column(ForeignKey("users.id", ondelete="RESTRICT"))
    body: Mapped[str] = mapped_column(Text)
    internal: Mapped[bool] = mapped_column(Boolean, default=False)
    created_at: Mapped[datetime] = mapped_column(UTCDateTime, default=utcnow)

    ticket: Mapped[Ticket] = relationship(back_populates="comments")
    author: Mapped[User] = relationship()


class EventKind(enum.StrEnum):
    CREATED = "created"
    STATUS = "status"
    PRIORITY = "priority"
    ASSIGNEE = "assignee"
    TEAM = "team"
    CATEGORY = "category"
    SUBJECT = "subject"
    COMMENT = "comment"
    # Written by the service-level job (no actor); new_value names the target ("first_response",
    # "resolution"). One of each per target and ticket at most: the record that makes the job idempotent.
    SLA_WARNING = "sla_warning"
    SLA_BREACH = "sla_breach"
    # Raised by the desk for someone else: the requester as they were named then ("Name (email)").
    REQUESTER = "requester"
    # The requester rated the ticket's resolution (supportdesk/satisfaction/): the score given, and the
    # one it replaced when they changed it.
    RATING = "rating"
    # Merges: on the duplicate, new_value names the ticket it went into ("#1042"); on that ticket,
    # MERGED_FROM names the duplicate. Incidents: on the child, PARENT (old and new parent, "#1042" or
    # None); on the parent, CHILD (old_value a child unlinked, new_value a child linked).
    MERGED_INTO = "merged_into"
    MERGED_FROM = "merged_from"
    PARENT = "parent"
    CHILD = "child"


class TicketEvent(Base):
    """One row per change to a ticket; never updated or deleted by the application."""

    __tablename__ = "ticket_events"
    # Reports replay the creations and status changes since a date (supportdesk/reports/reads.py).
    __table_args__ = (Index("ix_ticket_events_kind_created_at", "kind", "created_at"),)

    id: Mapped[int] = mapped_column(primary_key=True)
    ticket_id: Mapped[int] = mapped_column(ForeignKey("tickets.id", ondelete="CASCADE"), index=True)
    # None for changes the system makes on its own (auto-close).
    actor_id: Mapped[int | None] = mapped_column(ForeignKey("users.id", ondelete="SET NULL"))
    kind: Mapped[EventKind] = mapped_column(enum_column(EventKind))
    old_value: Mapped[str | None] = mapped_column(String(255))
    new_value: Mapped[str | None] = mapped_column(String(255))
    # Set for comment events, so an internal note's event can be hidden with the note.
    comment_id: Mapped[int | None] = mapped_column(ForeignKey("comments.id", ondelete="CASCADE"))
    created_at: Mapped[datetime] = mapped_column(UTCDateTime, default=utcnow)

    ticket: Mapped[Ticket] = relationship(back_populates="events")
    actor: Mapped[User | None] = relationship()
    comment: Mapped[Comment | None] = relationship()


class CreationKey(Base):
    """An idempotency key: the first ticket a user created with this key (the API's Idempotency-Key
    header, the new-ticket form's hidden token), so a retried request returns it instead of a second."""

    __tablename__ = "creation_keys"
    __table_args__ = (UniqueConstraint("user_id", "key", name="uq_creation_keys_user_id_key"),)

    id: Mapped[int] = mapped_column(primary_key=True)
    user_id: Mapped[int] = mapped_column(ForeignKey("users.id", ondelete="CASCADE"))
    key: Mapped[str] = mapped_column(String(200))
    # A digest of the request, so the same key with a different request is refused, not confused.
    fingerprint: Mapped[str] = mapped_column(String(64))
    ticket_id: Mapped[int] = mapped_column(ForeignKey("tickets.id", ondelete="CASCADE"))
    created_at: Mapped[datetime] = mapped_column(UTCDateTime, default=utcnow)


def status_in(statuses: Collection[Status]) -> ColumnElement[bool]:
    """`tickets.status IN (...)`. For the active set it is written exactly as the partial indexes'
    predicate: SQLite uses a partial index only when the query repeats that term word for word, and a
    bound `IN (?, ?, ?, ?)` made it scan every ticket."""
    if frozenset(statuses) == ACTIVE_STATUSES:
        return literal_column(ACTIVE_SQL)  # untyped: a Boolean would be rendered "... = 1" on SQLite
    return Ticket.status.in_(sorted(statuses))


class Draft(Base):
    """What a user has typed on a ticket and not sent yet, kept on the server: a reload, a refused
    form or another device of theirs finds it again. One per user and ticket; sending the reply (or
    emptying the box) removes it."""

    __tablename__ = "drafts"

    user_id: Mapped[int] = mapped_column(ForeignKey("users.id", ondelete="CASCADE"), primary_key=True)
    ticket_id: Mapped[int] = mapped_column(
        ForeignKey("tickets.id", ondelete="CASCADE"), primary_key=True, index=True
    )
    body: Mapped[str] = mapped_column(Text)
    # "public" or "internal" once the user has chosen; None before (the desk must choose every time).
    visibility: Mapped[str | None] = mapped_column(String(10))
    updated_at: Mapped[datetime] = mapped_column(UTCDateTime, default=utcnow)


class TicketPresence(Base):
    """Who has a ticket open right now: each open page says so every few seconds (and whether its
    user is typing), and says goodbye when it closes. Rows of pages gone quiet are ignored, and
    removed the next time anyone opens that ticket."""

    __tablename__ = "ticket_presence"

    ticket_id: Mapped[int] = mapped_column(ForeignKey("tickets.id", ondelete="CASCADE"), primary_key=True)
    user_id: Mapped[int] = mapped_column(ForeignKey("users.id", ondelete="CASCADE"), primary_key=True)
    seen_at: Mapped[datetime] = mapped_column(UTCDateTime)
    typing_at: Mapped[datetime | None] = mapped_column(UTCDateTime)
