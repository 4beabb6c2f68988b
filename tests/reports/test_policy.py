"""Who sees which figures: admins the whole desk, technicians their own teams' tickets only, nobody else
anything. No figure may leak a ticket of another team."""

from __future__ import annotations

from zoneinfo import ZoneInfo

import pytest

from supportdesk.core import clock
from supportdesk.core.errors import PermissionDenied
from supportdesk.reports import reads
from supportdesk.reports.filters import ReportFilters
from supportdesk.reports.policy import may_see_reports, report_scope
from supportdesk.tickets import service
from supportdesk.tickets.lifecycle import Status
from tests.factories import make_admin, make_category, make_requester, make_team, make_technician, make_ticket

UTC = ZoneInfo("UTC")


@pytest.fixture
def desk(session):  # type: ignore[no-untyped-def]
    alice, bob = make_technician(session, full_name="Alice"), make_technician(session, full_name="Bob")
    loner = make_technician(session, full_name="Loner")
    network = make_team(session, "Network", members=[alice])
    payroll = make_team(session, "Payroll", members=[bob])
    secret = make_category(session, "Salary questions", team=payroll)
    raiser = make_admin(session, full_name="Lead")  # the desk may route a ticket to a team as it is raised
    ours = make_ticket(session, raiser, "VPN down", team_id=network.id, assignee_id=alice.id)
    for subject in ("Raise for Carol", "Bonus for Dan"):
        theirs = make_ticket(
            session, raiser, subject, team_id=payroll.id, category_id=secret.id, assignee_id=bob.id
        )
        service.transition(session, bob, theirs.number, Status.RESOLVED)
        session.commit()
    make_ticket(session, raiser, "No team yet")
    return {"alice": alice, "bob": bob, "loner": loner, "network": network, "payroll": payroll, "ours": ours}


def figures(session, actor, **filters):  # type: ignore[no-untyped-def]
    today = clock.now().date()
    asked = ReportFilters(first_day=today, last_day=today, **filters)
    scope = report_scope(session, actor, asked)
    return (
        reads.volume(session, scope, asked, UTC),
        reads.backlog(session, scope, asked, UTC),
        reads.times(session, scope, asked, UTC),
        reads.technicians(session, scope, asked, UTC),
        reads.top_categories(session, scope, asked, UTC),
    )


def test_a_technician_sees_only_the_tickets_of_their_teams(session, desk) -> None:  # type: ignore[no-untyped-def]
    volume, backlog, times, technicians, categories = figures(session, desk["alice"])
    assert volume.created == [1] and volume.resolved == [0]
    assert backlog.counts == [{(desk["network"].id, Status.NEW): 1}]
    assert times.resolution.count == 0
    assert [t.name for t in technicians] == ["Alice"]
    assert [c.name for c in categories] == [None]


def test_an_admin_sees_the_whole_desk(session, desk) -> None:  # type: ignore[no-untyped-def]
    volume, backlog, times, technicians, categories = figures(session, make_admin(session))
    assert volume.created == [4] and volume.resolved == [2]
    assert sum(backlog.counts[0].values()) == 2
    assert times.resolution.count == 2
    assert {t.name for t in technicians} == {"Alice", "Bob"}
    assert [(c.name, c.created) for c in categories] == [("Salary questions", 2), (None, 2)]


def test_a_technician_cannot_filter_on_another_team(session, desk) -> None:  # type: ignore[no-untyped-def]
    with pytest.raises(PermissionDenied):
        figures(session, desk["alice"], team_id=desk["payroll"].id)
    volume, *_ = figures(session, desk["alice"], team_id=desk["network"].id)
    assert volume.created == [1]


def test_a_technician_without_a_team_sees_no_ticket(session, desk) -> None:  # type: ignore[no-untyped-def]
    volume, backlog, times, technicians, categories = figures(session, desk["loner"])
    assert volume.created == [0] and backlog.counts == [{}] and technicians == [] and categories == []
    assert times.first_response.count == 0


def test_only_active_staff_see_reports(session, desk) -> None:  # type: ignore[no-untyped-def]
    assert may_see_reports(desk["alice"]) and may_see_reports(make_admin(session))
    assert not may_see_reports(make_requester(session))
    assert not may_see_reports(make_technician(session, is_active=False))
    with pytest.raises(PermissionDenied):
        figures(session, make_requester(session))
