"""Users, their roles, and the teams they belong to."""

from __future__ import annotations

import enum
from datetime import datetime

from sqlalchemy import Boolean, Column, ColumnElement, ForeignKey, Integer, String, Table, and_, false
from sqlalchemy.orm import Mapped, mapped_column, relationship

from supportdesk.core.db import Base, StoredEnum, UTCDateTime, utcnow


class Role(enum.StrEnum):
    REQUESTER = "requester"
    TECHNICIAN = "technician"
    ADMIN = "admin"


# The desk: who works tickets, may be assigned one, and sees internal notes.
STAFF_ROLES = (Role.TECHNICIAN, Role.ADMIN)


def enum_column(enum_class: type[enum.StrEnum]) -> StoredEnum:
    """Store enums as their lower-case values in a plain VARCHAR, the same on every backend."""
    return StoredEnum(enum_class)


team_members = Table(
    "team_members",
    Base.metadata,
    Column("team_id", Integer, ForeignKey("teams.id", ondelete="CASCADE"), primary_key=True),
    Column("user_id", Integer, ForeignKey("users.id", ondelete="CASCADE"), primary_key=True, index=True),
    # A team's lead is one of its members (a team may have several): told when a ticket breaches.
    Column("is_lead", Boolean, nullable=False, default=False, server_default=false()),
)


class User(Base):
    __tablename__ = "users"

    id: Mapped[int] = mapped_column(primary_key=True)
    # Stored lower-cased, so uniqueness and look-ups are case-insensitive on every backend.
    email: Mapped[str] = mapped_column(String(254), unique=True)
    full_name: Mapped[str] = mapped_column(String(120))
    role: Mapped[Role] = mapped_column(enum_column(Role), default=Role.REQUESTER)
    password_hash: Mapped[str] = mapped_column(String(255))
    is_active: Mapped[bool] = mapped_column(Boolean, default=True)
    created_at: Mapped[datetime] = mapped_column(UTCDateTime, default=utcnow)
    last_login_at: Mapped[datetime | None] = mapped_column(UTCDateTime)
    # Part of every session's identity: raising it ends all of the user's sessions at once (sign-out,
    # password change, deactivation), although session cookies are kept by the browsers.
    session_epoch: Mapped[int] = mapped_column(Integer, default=0, server_default="0")
    # Set with a temporary password an admin chose: until the user picks their own, every page leads
    # to the password page and the API issues them no token.
    must_change_password: Mapped[bool] = mapped_column(Boolean, default=False, server_default=false())

    teams: Mapped[list[Team]] = relationship(
        secondary=team_members, back_populates="members", order_by="Team.name"
    )

    # What Flask-Login asks of a signed-in user (is_active is the column above).
    @property
    def is_authenticated(self) -> bool:
        return True

    @property
    def is_anonymous(self) -> bool:
        return False

    def get_id(self) -> str:
        return f"{self.id}.{self.session_epoch}"

    @property
    def is_staff(self) -> bool:
        return self.role in STAFF_ROLES

    @property
    def is_admin(self) -> bool:
        return self.role is Role.ADMIN

    def __repr__(self) -> str:
        return f"<User {self.id} {self.email} {self.role.value}>"


def active_staff() -> ColumnElement[bool]:
    """Users who work tickets and may be assigned one (active technicians and admins), as a WHERE clause."""
    return and_(User.is_active.is_(True), User.role.in_(STAFF_ROLES))


class Team(Base):
    __tablename__ = "teams"

    id: Mapped[int] = mapped_column(primary_key=True)
    name: Mapped[str] = mapped_column(String(80), unique=True)
    created_at: Mapped[datetime] = mapped_column(UTCDateTime, default=utcnow)

    members: Mapped[list[User]] = relationship(
        secondary=team_members, back_populates="teams", order_by="User.full_name"
    )

    def __repr__(self) -> str:
        return f"<Team {self.id} {self.name}>"


class ApiToken(Base):
    """A personal API token. Only a SHA-256 of the secret is kept: the secret is 256 random bits, so a
    fast hash is enough (no dictionary to attack), and look-up by hash is one indexed query."""

    __tablename__ = "api_tokens"

    id: Mapped[int] = mapped_column(primary_key=True)
    user_id: Mapped[int] = mapped_column(ForeignKey("users.id", ondelete="CASCADE"), index=True)
    name: Mapped[str] = mapped_column(String(80))
    token_hash: Mapped[str] = mapped_column(String(64), unique=True)
    # The first characters of the secret, to recognise a token in a list without revealing it.
    prefix: Mapped[str] = mapped_column(String(12))
    created_at: Mapped[datetime] = mapped_column(UTCDateTime, default=utcnow)
    last_used_at: Mapped[datetime | None] = mapped_column(UTCDateTime)
    expires_at: Mapped[datetime] = mapped_column(UTCDateTime)
    revoked_at: Mapped[datetime | None] = mapped_column(UTCDateTime)

    user: Mapped[User] = relationship()


class TwoFactor(Base):
    """A user's authenticator (TOTP) secret, encrypted with a key derived from SECRET_KEY. Pending until
    the user confirms it with a current code (enabled_at set); one row per user."""

    __tablename__ = "two_factor"

    user_id: Mapped[int] = mapped_column(ForeignKey("users.id", ondelete="CASCADE"), primary_key=True)
    secret_encrypted: Mapped[str] = mapped_column(String(255))
    enabled_at: Mapped[datetime | None] = mapped_column(UTCDateTime)
    # The time step of the last code accepted: a code of that step or an earlier one is a replay.
    last_used_step: Mapped[int] = mapped_column(Integer, default=0, server_default="0")
    created_at: Mapped[datetime] = mapped_column(UTCDateTime, default=utcnow)


class RecoveryCode(Base):
    """A one-time recovery code, kept as a SHA-256 (50 random bits behind the sign-in throttle: no
    dictionary to attack, and the check is one indexed look-up)."""

    __tablename__ = "two_factor_recovery_codes"

    id: Mapped[int] = mapped_column(primary_key=True)
    user_id: Mapped[int] = mapped_column(ForeignKey("users.id", ondelete="CASCADE"), index=True)
    code_hash: Mapped[str] = mapped_column(String(64))
    used_at: Mapped[datetime | None] = mapped_column(UTCDateTime)
    created_at: Mapped[datetime] = mapped_column(UTCDateTime, default=utcnow)
