"""Who may use the desk and who runs it: the account rules every domain's policy builds on."""

from __future__ import annotations

from supportdesk.accounts.models import User
from supportdesk.core.errors import PermissionDenied


def may_use_desk(actor: User) -> bool:
    """The queue and the desk pages are for technicians and admins."""
    return actor.is_active and actor.is_staff


def may_manage_desk(actor: User) -> bool:
    """Users, teams and categories are the admins' business."""
    return actor.is_active and actor.is_admin


def require_desk_manager(actor: User) -> None:
    if not may_manage_desk(actor):
        raise PermissionDenied("Only admins can manage users, teams and categories.")


def require_desk_member(actor: User) -> None:
    if not may_use_desk(actor):
        raise PermissionDenied("Only the desk can read this.")


def two_factor_required(user: User, roles: tuple[str, ...]) -> bool:
    """Whether the desk's setting (REQUIRE_TWO_FACTOR) holds this user to a second factor."""
    return user.role.value in roles
