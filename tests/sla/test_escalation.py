"""Warnings before a breach and escalation on one: the At risk view and the warnings follow each
policy's own warning time; the assignee (or the team while nobody has the ticket) is warned once per
target; a breach tells the team's lead and applies the policy's escalation, once; all of it is in the
ticket's activity log, and the notifications go through the outbox as each person chose."""

from __future__ import annotations

from datetime import UTC, datetime, timedelta

import pytest
from sqlalchemy import select

from supportdesk.accounts import leads
from supportdesk.core import clock
from supportdesk.core.errors import ValidationError
from supportdesk.jobs import engine
from supportdesk.notifications import preferences
from supportdesk.notifications.models import Notification, NotificationKind, OutboxMessage
from supportdesk.sla import escalation, settings
from supportdesk.sla import reads as sla_reads
from supportdesk.sla.reads import DueState
from supportdesk.tickets import queues, reads, service
from supportdesk.tickets.lifecycle import Priority
from supportdesk.tickets.models import Ticket, TicketEvent
from supportdesk.tickets.queues import QueueView
from tests.conftest import login, page_text
from tests.factories import (
    make_admin,
    make_calendar,
    make_policy,
    make_requester,
    make_team,
    make_technician,
)

T0 = datetime(2026, 11, 30, 9, 0, tzinfo=UTC)


def minutes(n: float) -> datetime:
    return T0 + timedelta(minutes=n)


@pytest.fixture
def desk(session):
    admin = make_admin(session, full_name="Ada Admin")
    people = {
        name: make_technician(session, full_name=full, email=f"{name}@example.com")
        for name, full in (
            ("sam", "Sam Okafor"),
            ("tess", "Tess Tech"),
            ("lena", "Lena Lead"),
            ("ed", "Ed Escalation"),
        )
    }
    service_desk = make_team(session, "Service Desk", members=[people["sam"], people["tess"], people["lena"]])
    escalations = make_team(session, "Escalations", members=[people["ed"]])
    leads.set_team_lead(session, admin, service_desk.id, people["lena"].id, lead=True)
    session.commit()
    return {
        **people,
        "admin": admin,
        "employee": make_requester(session, full_name="Erin Employee"),
        "team": service_desk,
        "escalations": escalations,
    }


def raise_at(session, desk, at, **fields):
    fields.setdefault("team_id", desk["team"].id)
    with clock.frozen_at(at):
        ticket = service.create_ticket(
            session,
            desk["sam"],
            subject=fields.pop("subject", "VPN drops"),
            requester_id=desk["employee"].id,
            **fields,
        )
    session.commit()
    return ticket


def run_at(session, at) -> int:
    with clock.frozen_at(at):
        done = escalation.escalate(session, at)
    session.commit()
    return done


def alerts(session, ticket) -> list[tuple[str, str | None]]:
    session.expire_all()
    rows = session.scalars(
        select(TicketEvent)
        .where(TicketEvent.ticket_id == ticket.id, TicketEvent.actor_id.is_(None))
        .order_by(TicketEvent.id)
    )
    return [(row.kind.value, row.new_value) for row in rows]


def told(session, kind) -> set[str]:
    session.expire_all()
    rows = session.scalars(select(Notification).where(Notification.kind == kind))
    return {_name(session, row.user_id) for row in rows}


def _name(session, user_id) -> str:
    from supportdesk.accounts.models import User

    return session.get(User, user_id).email.split("@")[0]


def mailed(session) -> list[str]:
    """Who was mailed a warning or a breach."""
    session.expire_all()
    rows = session.scalars(select(OutboxMessage).where(OutboxMessage.kind.in_(["sla_warning", "sla_breach"])))
    return sorted(row.recipients.split("@")[0] for row in rows)


def test_the_at_risk_view_uses_each_policys_own_warning_time(session, desk):
    calendar = make_calendar(session)
    make_policy(
        session, calendar, "Urgent", priority=Priority.URGENT, resolution_minutes=120, warning_minutes=90
    )
    make_policy(session, calendar, "Everything else", resolution_minutes=120, warning_minutes=30)
    urgent = raise_at(session, desk, T0, subject="Mail server down", priority=Priority.URGENT)
    normal = raise_at(session, desk, T0, subject="Printer jammed")
    with clock.frozen_at(minutes(60)):  # both fall due in an hour
        at_risk = reads.list_tickets(session, desk["sam"], queues.view_filters(QueueView.AT_RISK))
        assert [t.subject for t in at_risk.items] == ["Mail server down"]
        assert queues.queue_counts(session, desk["sam"], fresh=True)[QueueView.AT_RISK] == 1
        shown = sla_reads.next_due(session, [urgent, normal], clock.now())
        assert shown[urgent.id].state is DueState.AT_RISK
        assert shown[normal.id].state is DueState.ON_TRACK
    with clock.frozen_at(minutes(95)):
        at_risk = reads.list_tickets(session, desk["sam"], queues.view_filters(QueueView.AT_RISK))
        assert {t.subject for t in at_risk.items} == {"Mail server down", "Printer jammed"}


def test_the_assignee_is_warned_once_before_the_first_response_falls_due(session, desk):
    make_policy(session, first_response_minutes=120, resolution_minutes=480, warning_minutes=30)
    ticket = raise_at(session, desk, T0, assignee_id=desk["sam"].id)
    assert run_at(session, minutes(60)) == 0  # an hour left: not yet
    assert run_at(session, minutes(100)) == 1
    assert alerts(session, ticket) == [("sla_warning", "first_response")]
    assert told(session, NotificationKind.SLA_WARNING) == {"sam"}
    assert mailed(session) == ["sam"]
    assert run_at(session, minutes(105)) == 0  # again: nothing twice
    assert run_at(session, minutes(110)) == 0
    assert alerts(session, ticket) == [("sla_warning", "first_response")]
    assert mailed(session) == ["sam"]


def test_the_team_is_warned_while_nobody_has_the_ticket_as_each_chose(session, desk):
    make_policy(session, resolution_minutes=240, warning_minutes=60)
    preferences.set_email_preferences(session, desk["tess"], {NotificationKind.SLA_WARNING: False})
    session.commit()
    ticket = raise_at(session, desk, T0)
    assert run_at(session, minutes(200)) == 1
    assert alerts(session, ticket) == [("sla_warning", "resolution")]
    assert told(session, NotificationKind.SLA_WARNING) == {"sam", "tess", "lena"}  # in the app: all
    assert mailed(session) == ["lena", "sam"]  # by email: not Tess, who turned it off


def test_a_breach_tells_the_teams_lead_and_escalates_once(session, desk, client):
    make_policy(
        session,
        first_response_minutes=60,
        resolution_minutes=480,
        warning_minutes=15,
        escalate_priority=True,
        escalate_to_team_id=desk["escalations"].id,
    )
    ticket = raise_at(session, desk, T0, assignee_id=desk["sam"].id)
    assert run_at(session, minutes(61)) == 1  # found late: a breach, no warning first
    assert alerts(session, ticket)[0] == ("sla_breach", "first_response")
    kinds = [kind for kind, _ in alerts(session, ticket)]
    assert kinds[1:] == ["priority", "team", "assignee"]  # Sam is not in the team it moved to
    moved = session.get(Ticket, ticket.id)
    assert (moved.priority, moved.team_id, moved.assignee_id) == (Priority.HIGH, desk["escalations"].id, None)
    assert told(session, NotificationKind.SLA_BREACH) == {"lena", "ed"}
    for later in (62, 90, 120):
        assert run_at(session, minutes(later)) == 0
    session.expire_all()
    assert session.get(Ticket, ticket.id).priority is Priority.HIGH  # raised one step, once
    assert len(alerts(session, ticket)) == 4
    login(client, desk["lena"].email)
    page = page_text(client.get(f"/desk/tickets/{ticket.number}"))
    assert "recorded a breach of the first response target" in page
    assert "changed priority from “normal” to “high”" in page


def test_a_breach_without_escalation_tells_the_lead_and_the_assignee(session, desk):
    make_policy(session, resolution_minutes=60, warning_minutes=15)
    ticket = raise_at(session, desk, T0, assignee_id=desk["sam"].id)
    assert run_at(session, minutes(50)) == 1
    assert run_at(session, minutes(65)) == 1
    assert alerts(session, ticket) == [("sla_warning", "resolution"), ("sla_breach", "resolution")]
    assert told(session, NotificationKind.SLA_BREACH) == {"lena", "sam"}
    session.expire_all()
    still = session.get(Ticket, ticket.id)
    assert (still.priority, still.team_id, still.assignee_id) == (
        Priority.NORMAL,
        desk["team"].id,
        desk["sam"].id,
    )


def test_a_paused_clock_warns_nobody_and_an_old_breach_is_not_news(session, desk):
    make_policy(session, resolution_minutes=120, warning_minutes=30)
    paused = raise_at(session, desk, T0, subject="Waiting on the user")
    with clock.frozen_at(minutes(10)):
        service.transition(session, desk["sam"], paused.number, service.Status.PENDING)
    session.commit()
    assert run_at(session, minutes(100)) == 0
    old = raise_at(session, desk, minutes(-3 * 24 * 60), subject="Forgotten for days")
    assert run_at(session, minutes(101)) == 0  # breached days ago (a new policy, a long outage)
    assert alerts(session, old) == []


def test_the_job_runs_on_the_schedule():
    assert "escalate_service_levels" in engine.periodic_job_names()


def test_policies_keep_a_warning_time_and_an_escalation_that_must_make_sense(session, desk):
    calendar = make_calendar(session)
    with pytest.raises(ValidationError) as refused:
        settings.save_policy(
            session,
            desk["admin"],
            name="Bad",
            position=1,
            calendar_id=calendar.id,
            resolution_minutes=60,
            warning_minutes=0,
            escalate_to_team_id=999_999,
        )
    assert {e.field for e in refused.value.errors} == {"warning_minutes", "escalate_to_team_id"}
    session.rollback()
    saved = settings.save_policy(
        session,
        desk["admin"],
        name="Good",
        position=1,
        calendar_id=calendar.id,
        resolution_minutes=60,
        warning_minutes=45,
        escalate_priority=True,
        escalate_to_team_id=desk["escalations"].id,
    )
    session.commit()
    assert (saved.warning_minutes, saved.escalate_priority, saved.escalate_to_team_id) == (
        45,
        True,
        desk["escalations"].id,
    )


def test_only_admins_name_a_teams_lead_and_the_lead_is_a_member(session, desk):
    from supportdesk.core.errors import PermissionDenied

    with pytest.raises(PermissionDenied):
        leads.set_team_lead(session, desk["sam"], desk["team"].id, desk["sam"].id, lead=True)
    with pytest.raises(ValidationError):
        leads.set_team_lead(session, desk["admin"], desk["team"].id, desk["ed"].id, lead=True)
    assert leads.lead_ids(session, [desk["team"].id]) == {desk["lena"].id}


def test_the_job_pages_through_many_candidates_a_batch_at_a_time(session, desk):
    make_policy(session, resolution_minutes=60, warning_minutes=30)
    tickets = [raise_at(session, desk, minutes(n), subject=f"Ticket {n}") for n in range(5)]
    with clock.frozen_at(minutes(40)):
        assert escalation.escalate(session, minutes(40), batch=2) == 5  # three batches, none missed
    session.commit()
    assert all(alerts(session, t) == [("sla_warning", "resolution")] for t in tickets)
    with clock.frozen_at(minutes(41)):
        assert escalation.escalate(session, minutes(41), batch=2) == 0
