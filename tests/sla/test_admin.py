"""Admins set up service levels from the admin pages; mistakes are said, never a 500."""

from __future__ import annotations

from supportdesk.sla.models import BusinessCalendar, RecomputeRequest, SlaPolicy
from tests.conftest import form_token, login, page_text
from tests.factories import make_admin, make_team

PAGE = "/admin/service-levels"


def test_an_admin_creates_a_calendar_and_a_policy_and_deletes_them(client, session):
    admin = make_admin(session)
    team = make_team(session, "Network")
    login(client, admin.email)
    assert "No policies: tickets have no due times" in page_text(client.get(PAGE))
    created = client.post(
        f"{PAGE}/calendars",
        data={
            **form_token(client, PAGE),
            "name": "Berlin office",
            "zone": "Europe/Berlin",
            "days": ["0", "1", "2", "3", "4"],
            "start": "08:30",
            "end": "17:00",
            "holidays": "2026-12-24\n--12-25\n",
        },
        follow_redirects=True,
    )
    assert "Calendar created" in page_text(created)
    calendar = session.query(BusinessCalendar).one()
    assert calendar.weekly["0"] == [[510, 1020]] and "6" not in calendar.weekly
    assert calendar.holidays == ["--12-25", "2026-12-24"]
    page = page_text(
        client.post(
            f"{PAGE}/policies",
            data={
                **form_token(client, PAGE),
                "name": "Network urgent",
                "position": "0",
                "priority": "urgent",
                "team": str(team.id),
                "calendar": str(calendar.id),
                "first_response_hours": "0.5",
                "resolution_hours": "4",
            },
            follow_redirects=True,
        )
    )
    assert "Policy created" in page and "urgent priority, team Network" in page
    assert "Mon 08:30\u201317:00" in page
    policy = session.query(SlaPolicy).one()
    assert (policy.first_response_minutes, policy.resolution_minutes) == (30, 240)
    assert session.query(RecomputeRequest).count() >= 2
    refused = client.post(
        f"{PAGE}/calendars/{calendar.id}/delete", data=form_token(client, PAGE), follow_redirects=True
    )
    assert "A policy uses this calendar" in page_text(refused)
    client.post(f"{PAGE}/policies/{policy.id}/delete", data=form_token(client, PAGE))
    client.post(f"{PAGE}/calendars/{calendar.id}/delete", data=form_token(client, PAGE))
    session.expire_all()
    assert session.query(SlaPolicy).count() == 0 and session.query(BusinessCalendar).count() == 0


def test_mistakes_in_the_forms_are_said_and_nothing_is_saved(client, session):
    login(client, make_admin(session).email)
    bad_calendars = [
        {"name": "Odd", "zone": "Europe/Berlin", "days": "0", "start": "17:00", "end": "09:00"},
        {"name": "Odd", "zone": "Nowhere/Atlantis", "days": "0", "start": "09:00", "end": "17:00"},
        {"name": "Odd", "zone": "UTC", "days": "0", "start": "9 am", "end": "17:00"},
        {"name": "Odd", "zone": "UTC", "days": "0", "start": "09:00", "end": "17:00", "holidays": "Xmas"},
    ]
    for data in bad_calendars:
        response = client.post(
            f"{PAGE}/calendars", data={**form_token(client, PAGE), **data}, follow_redirects=True
        )
        assert response.status_code == 200 and "The calendar was not saved" in page_text(response), data
    for data in (
        {"name": "P", "calendar": "999999", "resolution_hours": "4"},
        {"name": "P", "calendar": "", "resolution_hours": "4"},
        {"name": "P", "calendar": "abc", "resolution_hours": "4"},
        {"name": "P", "calendar": "1", "resolution_hours": "inf"},
        {"name": "P", "calendar": "1", "resolution_hours": "nan"},
        {"name": "P", "calendar": "1", "position": "99999999999"},
        {"name": "P", "calendar": "1", "priority": "whenever", "resolution_hours": "4"},
    ):
        response = client.post(
            f"{PAGE}/policies", data={**form_token(client, PAGE), **data}, follow_redirects=True
        )
        assert response.status_code == 200 and "The policy was not saved" in page_text(response), data
    assert session.query(BusinessCalendar).count() == 0 and session.query(SlaPolicy).count() == 0
