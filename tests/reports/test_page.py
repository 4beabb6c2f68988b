"""The reports page: every figure as a chart with its numbers in a table, one set of filters for all of
them, a technician's own teams only, and clear answers to bad filters."""

from __future__ import annotations

import re

import pytest
from sqlalchemy import select

from supportdesk.tickets import service
from supportdesk.tickets.lifecycle import Status
from supportdesk.tickets.models import Ticket
from tests.conftest import login, page_text
from tests.factories import make_admin, make_category, make_requester, make_team, make_technician, make_ticket


@pytest.fixture
def desk(session):  # type: ignore[no-untyped-def]
    lead = make_technician(session, full_name="Lena Lead", email="lena@example.com")
    other = make_technician(session, full_name="Otto Other", email="otto@example.com")
    network = make_team(session, "Network", members=[lead])
    payroll = make_team(session, "Payroll", members=[other])
    vpn = make_category(session, "VPN", team=network)
    salaries = make_category(session, "Salaries", team=payroll)
    admin = make_admin(session, full_name="Ada Admin", email="ada@example.com")
    for subject in ("VPN drops", "VPN slow", "Wifi gone"):
        ticket = make_ticket(
            session, admin, subject, team_id=network.id, category_id=vpn.id, assignee_id=lead.id
        )
    service.add_comment(session, lead, ticket.number, "Looking into it")
    service.transition(session, lead, ticket.number, Status.RESOLVED)
    session.commit()
    make_ticket(
        session, admin, "Payslip wrong", team_id=payroll.id, category_id=salaries.id, assignee_id=other.id
    )
    return {"lead": lead, "network": network, "payroll": payroll, "vpn": vpn, "admin": admin}


def tables(html: str) -> dict[str, str]:
    """Each figure's table, by its caption."""
    found = re.findall(r"<caption[^>]*>(.*?)</caption>(.*?)</table>", html, flags=re.S)
    return {re.sub(r"<[^>]+>|\s+", " ", caption).strip(): body for caption, body in found}


def test_a_desk_lead_sees_every_figure_of_their_team(client, desk) -> None:  # type: ignore[no-untyped-def]
    login(client, "lena@example.com")
    response = client.get("/reports/")
    assert response.status_code == 200
    html = page_text(response)
    found = tables(html)
    for caption in (
        "Tickets created and resolved per day",
        "Open tickets at the end of each day, by status",
        "Open tickets at the end of each day, by team",
        "First response and resolution times",
        "Technicians: open tickets now and resolved in the range",
        "Top categories by tickets raised",
    ):
        assert caption in found, caption
    assert "Lena Lead" in found["Technicians: open tickets now and resolved in the range"]
    assert "VPN" in found["Top categories by tickets raised"]
    # Nothing of the other team: its ticket, technician, category or team name.
    assert "Otto Other" not in html and "Payroll" not in html
    assert "Salaries" not in found["Top categories by tickets raised"]
    # Every chart is drawn from a table by our own script (the CSP allows no inline script).
    assert html.count("data-sd-chart=") == 12  # nine, and satisfaction by team, category, technician
    assert "vendor/chart.umd.min.js" in html and "<script>" not in html


def test_the_filters_apply_to_every_figure(client, desk) -> None:  # type: ignore[no-untyped-def]
    login(client, "ada@example.com")
    everything = tables(page_text(client.get("/reports/")))
    assert "Salaries" in everything["Top categories by tickets raised"]
    narrowed = tables(page_text(client.get(f"/reports/?team={desk['network'].id}&by=week")))
    assert "Salaries" not in narrowed["Top categories by tickets raised"]
    assert "Tickets created and resolved per week" in narrowed


def test_a_technician_may_not_ask_for_another_team(client, desk) -> None:  # type: ignore[no-untyped-def]
    login(client, "lena@example.com")
    assert client.get(f"/reports/?team={desk['payroll'].id}").status_code == 403


@pytest.mark.parametrize(
    ("query", "message"),
    [
        ("from=yesterday", "must be a date"),
        ("from=0369-11-01&to=0369-11-22", "must be between 1970-01-02 and 9998-12-31"),
        ("from=2026-11-10&to=2026-11-01", "on or after the first day"),
        ("from=2020-01-01&to=2026-01-01", "at most 366 days"),
        ("by=month", "must be one of day, week"),
        ("team=abc", "must be the id of one"),
        ("priority=whenever", "must be one of"),
    ],
)
def test_bad_filters_get_a_clear_answer(client, desk, query, message) -> None:  # type: ignore[no-untyped-def]
    login(client, "ada@example.com")
    response = client.get(f"/reports/?{query}")
    assert response.status_code == 422
    assert message in page_text(response)


def test_reports_are_for_the_desk_only(client, session, desk) -> None:  # type: ignore[no-untyped-def]
    assert client.get("/reports/").status_code == 302
    login(client, make_requester(session, email="erin@example.com").email)
    assert client.get("/reports/").status_code == 404


def test_the_desk_navigation_links_to_the_reports(client, desk) -> None:  # type: ignore[no-untyped-def]
    login(client, "lena@example.com")
    assert 'href="/reports/"' in page_text(client.get("/desk/"))


def test_a_desk_lead_sees_service_levels_by_team_category_and_technician(client, session, desk) -> None:  # type: ignore[no-untyped-def]
    # The outcome each ticket stores (supportdesk/sla keeps it): met (False), breached (True).
    outcomes = {"VPN drops": (True, None), "VPN slow": (False, None), "Wifi gone": (False, True)}
    for ticket in session.scalars(select(Ticket).where(Ticket.subject.in_(outcomes))):
        ticket.sla_policy_id = 1
        ticket.first_response_breached, ticket.resolution_breached = outcomes[ticket.subject]
        ticket.sla_worked_seconds = 5400
    session.commit()
    login(client, "lena@example.com")
    found = tables(page_text(client.get("/reports/")))
    columns = (
        "First responses met | First responses breached | First responses met (%) | "
        "Resolutions met | Resolutions breached | Resolutions met (%) | Open and breached now"
    )
    expected = {
        "Service levels by team": "Network | 2 | 1 | 66.7 | 0 | 1 | 0.0 | 1",
        "Service levels by category": "VPN | 2 | 1 | 66.7 | 0 | 1 | 0.0 | 1",
        "Service levels by technician": "Lena Lead | 2 | 1 | 66.7 | 0 | 1 | 0.0 | 1",
    }
    for caption, row in expected.items():
        assert caption in found, caption
        cells = [
            re.sub(r"<[^>]+>", "", cell).strip()
            for cell in re.findall(r"<t[hd][^>]*>(.*?)</t[hd]>", found[caption])
        ]
        assert " | ".join(cells) == f"{caption.split()[-1].capitalize()} | {columns} | {row}"
    # Resolution in working time (the service level's clock, pauses left out), beside calendar time.
    assert "Resolution, working time" in found["First response and resolution times"]
    assert "1.5" in found["First response and resolution times"]
    # The same through the export, and nothing of the other team's.
    assert client.get("/reports/export/service-levels-team.csv").status_code == 200
    assert "Payroll" not in found["Service levels by team"]
