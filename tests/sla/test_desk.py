"""Service levels as the desk and the API show them: the due column, the At risk and Breached views,
the sidebar's targets, and the API's filter and sort."""

from __future__ import annotations

import re
from datetime import timedelta

import pytest

from supportdesk.core import clock
from supportdesk.core.db import utcnow
from supportdesk.sla import service as service_levels
from supportdesk.tickets import service
from tests.conftest import login, page_text
from tests.factories import make_calendar, make_policy, make_requester, make_technician


def raised_ago(session, who, subject, ago):
    with clock.frozen_at(utcnow() - ago):
        ticket = service.create_ticket(session, who, subject=subject)
    session.commit()
    return ticket


@pytest.fixture
def desk(session):
    make_policy(session, make_calendar(session, "Always"), "Standard", position=1, resolution_minutes=4 * 60)
    employee = make_requester(session, full_name="Erin Employee")
    return {
        "tech": make_technician(session, full_name="Tess Tech"),
        "late": raised_ago(session, employee, "Mail server down", timedelta(hours=5)),
        "soon": raised_ago(session, employee, "Printer jammed", timedelta(hours=3, minutes=30)),
        "fresh": raised_ago(session, employee, "New starter laptop", timedelta(minutes=1)),
    }


def rows(page: str) -> list[str]:
    return re.findall(r'class="sd-row-link"[^>]*>([^<]+)</a>', page)


def count_of(page: str, label: str) -> int:
    match = re.search(rf">{label} <span class=\"badge sd-count\">(\d+)</span>", page)
    assert match, label
    return int(match.group(1))


def test_the_queue_shows_time_left_and_views_of_what_is_at_risk_or_breached(client, desk):
    login(client, desk["tech"].email)
    everything = page_text(client.get("/desk/?view=open&sort=due"))
    assert rows(everything) == ["Mail server down", "Printer jammed", "New starter laptop"]
    assert re.search(r"Overdue by 1 h( \d+ min)?", everything)
    assert re.search(r"(29|30) min left", everything)
    assert re.search(r"3 h (58|59) min left", everything)
    assert count_of(everything, "At risk") == 1
    assert count_of(everything, "Breached") == 1
    assert rows(page_text(client.get("/desk/?view=at-risk"))) == ["Printer jammed"]
    assert rows(page_text(client.get("/desk/?view=breached"))) == ["Mail server down"]


def test_the_sidebar_shows_each_target_and_a_stopped_clock(client, session, desk):
    login(client, desk["tech"].email)
    page = page_text(client.get(f"/desk/tickets/{desk['late'].number}"))
    assert "Service level" in page and "Standard" in page
    assert re.search(r"Resolution</dt><dd><span class=\"sd-due sd-due-overdue\">", page)
    service.transition(session, desk["tech"], desk["soon"].number, service.Status.PENDING)
    session.commit()
    page = page_text(client.get(f"/desk/tickets/{desk['soon'].number}"))
    assert "Clock stopped while the ticket waits" in page
    assert rows(page_text(client.get("/desk/?view=at-risk"))) == []


def test_a_desk_without_service_levels_shows_no_due_column_or_views(client, session):
    tech = make_technician(session)
    raised_ago(session, make_requester(session), "Mouse", timedelta(hours=1))
    login(client, tech.email)
    page = page_text(client.get("/desk/?view=open"))
    assert "At risk" not in page and ">Due<" not in page
    assert rows(page) == ["Mouse"]


def test_the_api_filters_and_sorts_by_due_time(api_as, desk):
    api = api_as(desk["tech"])
    breached = api.get("/api/v1/tickets?due=breached").get_json()["items"]
    assert [t["subject"] for t in breached] == ["Mail server down"]
    ordered = api.get("/api/v1/tickets?sort=due&limit=2").get_json()
    assert [t["subject"] for t in ordered["items"]] == ["Mail server down", "Printer jammed"]
    rest = api.get(f"/api/v1/tickets?sort=due&limit=2&cursor={ordered['next_cursor']}").get_json()
    assert [t["subject"] for t in rest["items"]] == ["New starter laptop"]
    assert api.get("/api/v1/tickets?due=soonish").status_code == 422


def test_time_alone_marks_a_target_breached_and_only_the_desk_sees_it(api_as, session, desk):
    late = f"/api/v1/tickets/{desk['late'].number}"
    assert api_as(desk["tech"]).get(late).get_json()["service_level"]["resolution_breached"] is None
    with clock.frozen_at(utcnow()):
        assert service_levels.mark_breaches(session, clock.now()) == 1
        assert service_levels.mark_breaches(session, clock.now()) == 0
    session.commit()
    level = api_as(desk["tech"]).get(late).get_json()["service_level"]
    assert level["resolution_breached"] is True and level["next_due_at"] is not None
    employee = desk["late"].requester
    assert api_as(employee).get(late).get_json()["service_level"] is None
