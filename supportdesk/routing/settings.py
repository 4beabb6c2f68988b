"""Admins set each team's automatic assignment and manage the routing rules. Everything is checked
before anything changes; the caller's unit of work commits."""

from __future__ import annotations

from dataclasses import dataclass

from sqlalchemy import select
from sqlalchemy.orm import Session, selectinload

from supportdesk.accounts import audit, leads, policy
from supportdesk.accounts.models import Team, User
from supportdesk.accounts.service import clean_name
from supportdesk.core.db import flush_unique, get_by_id
from supportdesk.core.errors import FieldError, NotFound, ValidationError
from supportdesk.core.origin import Origin
from supportdesk.routing import lifecycle
from supportdesk.routing.lifecycle import MAX_KEYWORDS
from supportdesk.routing.models import AssignmentMode, RoutingRule, TeamAssignment
from supportdesk.tickets.models import Category

MAX_OPEN_CAP = 1000
KEYWORDS_MAX_CHARS = 500
RULE_FIELDS = ("name", "position", "team_id", "category_id", "keywords")


def team_assignments(session: Session, actor: User) -> dict[int, TeamAssignment]:
    """Each team's setting that has one, by team id (teams without one assign nothing)."""
    policy.require_desk_member(actor)
    return {row.team_id: row for row in session.scalars(select(TeamAssignment))}


def set_team_assignment(
    session: Session,
    actor: User,
    team_id: int,
    *,
    mode: AssignmentMode,
    max_open: int | None = None,
    origin: Origin | None = None,
) -> TeamAssignment:
    policy.require_desk_manager(actor)
    team = get_by_id(session, Team, team_id)
    if team is None:
        raise NotFound(f"Team {team_id} was not found.")
    if max_open is not None and not 1 <= max_open <= MAX_OPEN_CAP:
        raise ValidationError.single("max_open", f"between 1 and {MAX_OPEN_CAP} open tickets, or no cap")
    setting = session.get(TeamAssignment, team_id)
    if setting is None:
        setting = TeamAssignment(team_id=team_id, mode=AssignmentMode.OFF)
        session.add(setting)
    was = audit.snapshot(setting, ("mode", "max_open"))
    setting.mode = mode
    setting.max_open = max_open
    session.flush()
    audit.record_changes(
        session,
        actor,
        origin,
        "team.assignment_changed",
        target_type="team",
        target_id=team_id,
        target_label=team.name,
        before=was,
        after=audit.snapshot(setting, ("mode", "max_open")),
    )
    return setting


@dataclass(frozen=True)
class TeamSetup:
    """A team as the assignment page and the API show it."""

    team_id: int
    team_name: str
    mode: AssignmentMode
    max_open: int | None
    lead_ids: list[int]
    members: list[tuple[int, str]]  # (id, name)


def team_setups(session: Session, actor: User) -> list[TeamSetup]:
    """Every team with its assignment, its leads and its members."""
    policy.require_desk_member(actor)
    settings = {row.team_id: row for row in session.scalars(select(TeamAssignment))}
    teams = list(session.scalars(select(Team).options(selectinload(Team.members)).order_by(Team.name)))
    chosen = leads.lead_ids_by_team(session, [team.id for team in teams])
    return [_setup(team, settings.get(team.id), chosen.get(team.id, set())) for team in teams]


def _setup(team: Team, setting: TeamAssignment | None, lead_ids: set[int]) -> TeamSetup:
    return TeamSetup(
        team_id=team.id,
        team_name=team.name,
        mode=setting.mode if setting is not None else AssignmentMode.OFF,
        max_open=setting.max_open if setting is not None else None,
        lead_ids=sorted(lead_ids),
        members=[(member.id, member.full_name) for member in team.members],
    )


def save_team_setup(
    session: Session,
    actor: User,
    team_id: int,
    *,
    mode: AssignmentMode,
    max_open: int | None,
    lead_ids: list[int] | None,
    origin: Origin | None = None,
) -> TeamSetup:
    """A team's assignment and (when given) its leads, both checked before either changes."""
    policy.require_desk_manager(actor)
    team = get_by_id(session, Team, team_id)
    if team is None:
        raise NotFound(f"Team {team_id} was not found.")
    member_ids = {member.id for member in team.members}
    errors: list[FieldError] = []
    if max_open is not None and not 1 <= max_open <= MAX_OPEN_CAP:
        errors.append(FieldError("max_open", f"between 1 and {MAX_OPEN_CAP} open tickets, or no cap"))
    if lead_ids is not None and set(lead_ids) - member_ids:
        errors.append(FieldError("lead_ids", "a team's lead must be one of its members: add them first"))
    if errors:
        raise ValidationError(errors)
    setting = set_team_assignment(session, actor, team_id, mode=mode, max_open=max_open, origin=origin)
    if lead_ids is not None:
        was = sorted(leads.lead_ids(session, [team_id]))
        leads.set_leads(session, actor, team_id, lead_ids)
        audit.record_changes(
            session,
            actor,
            origin,
            "team.assignment_changed",
            target_type="team",
            target_id=team_id,
            target_label=team.name,
            before={"lead_ids": was},
            after={"lead_ids": sorted(set(lead_ids))},
        )
    return _setup(
        team, setting, set(lead_ids) if lead_ids is not None else leads.lead_ids(session, [team_id])
    )


def list_rules(session: Session, actor: User) -> list[RoutingRule]:
    policy.require_desk_member(actor)
    return list(session.scalars(select(RoutingRule).order_by(RoutingRule.position, RoutingRule.id)))


def save_rule(
    session: Session,
    actor: User,
    *,
    rule_id: int | None = None,
    name: str,
    position: int,
    team_id: int,
    category_id: int | None = None,
    keywords: str = "",
    origin: Origin | None = None,
) -> RoutingRule:
    """Create a rule, or replace one's settings (`rule_id`)."""
    policy.require_desk_manager(actor)
    errors: list[FieldError] = []
    if get_by_id(session, Team, team_id) is None:
        errors.append(FieldError("team_id", "no team has this id"))
    if category_id is not None and get_by_id(session, Category, category_id) is None:
        errors.append(FieldError("category_id", "no category has this id"))
    words = lifecycle.keywords_of(keywords)
    if len(keywords) > KEYWORDS_MAX_CHARS or len(words) > MAX_KEYWORDS:
        errors.append(
            FieldError("keywords", f"at most {MAX_KEYWORDS} keywords, {KEYWORDS_MAX_CHARS} characters")
        )
    if category_id is None and not words:
        errors.append(FieldError("keywords", "give the rule a category, keywords, or both"))
    if not 0 <= position <= 10_000:
        errors.append(FieldError("position", "between 0 and 10000"))
    if errors:
        raise ValidationError(errors)
    rule = RoutingRule() if rule_id is None else _rule(session, rule_id)
    was = None if rule_id is None else audit.snapshot(rule, RULE_FIELDS)
    rule.name = clean_name(name)
    rule.position = position
    rule.team_id = team_id
    rule.category_id = category_id
    rule.keywords = ", ".join(words)
    session.add(rule)
    flush_unique(session, "name", "a rule with this name already exists")
    audit.record_setting(session, actor, origin, "routing_rule", rule, RULE_FIELDS, was)
    return rule


def describe_rule(rule: RoutingRule, category_names: dict[int, str]) -> str:
    """What a rule asks of a ticket, in words: "keywords vpn, wifi; category Printers"."""
    parts = []
    if rule.keywords:
        parts.append(f"keywords {rule.keywords}")
    if rule.category_id is not None:
        parts.append(f"category {category_names.get(rule.category_id, '#' + str(rule.category_id))}")
    return "; ".join(parts) or "every ticket"


def delete_rule(session: Session, actor: User, rule_id: int, *, origin: Origin | None = None) -> None:
    policy.require_desk_manager(actor)
    rule = _rule(session, rule_id)
    audit.record_deleted(session, actor, origin, "routing_rule", rule, RULE_FIELDS)
    session.delete(rule)
    session.flush()


def _rule(session: Session, rule_id: int) -> RoutingRule:
    found = get_by_id(session, RoutingRule, rule_id)
    if found is None:
        raise NotFound(f"Routing rule {rule_id} was not found.")
    return found
