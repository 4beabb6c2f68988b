"""The rating's faces: the requester's one click on the portal, the desk's sidebar and activity log
(comment escaped), the API for reading and for the requester's rating. Both databases."""

from __future__ import annotations

import pytest
from sqlalchemy import select

from supportdesk.satisfaction.models import Rating
from supportdesk.tickets import service as tickets
from supportdesk.tickets.lifecycle import Status
from tests.conftest import csrf_token, login, page_text
from tests.factories import make_admin, make_requester, make_technician, make_ticket

HOSTILE = '<img src=x onerror="alert(1)">Slow & <b>rude</b>'


@pytest.fixture
def people(session):
    return {
        "erin": make_requester(session, email="erin@example.com", full_name="Erin Employee"),
        "other": make_requester(session, email="olga@example.com", full_name="Olga Other"),
        "tech": make_technician(session, email="sam@example.com", full_name="Sam Okafor"),
        "admin": make_admin(session, email="ada@example.com", full_name="Ada Admin"),
    }


@pytest.fixture
def ticket(session, people):
    made = make_ticket(session, people["erin"], "VPN drops every hour")
    tickets.transition(session, people["tech"], made.number, Status.RESOLVED)
    session.commit()
    return made


def rate_on_portal(client, number, score, comment=""):
    token = csrf_token(client, f"/portal/tickets/{number}")
    return client.post(
        f"/portal/tickets/{number}/rating", data={"csrf_token": token, "score": score, "comment": comment}
    )


def test_the_portal_offers_one_click_and_records_it(client, session, people, ticket):
    login(client, "erin@example.com")
    page = page_text(client.get(f"/portal/tickets/{ticket.number}"))
    assert "How did we do?" in page and 'name="score" value="good"' in page
    response = rate_on_portal(client, ticket.number, "bad", HOSTILE)
    assert response.status_code == 302
    page = page_text(client.get(response.headers["Location"]))
    assert "your rating (bad) is recorded" in page
    assert "Your rating" in page and "You can change your rating or comment; that closes" in page
    assert HOSTILE not in page and "&lt;img src=x" in page

    assert rate_on_portal(client, ticket.number, "good", "Fine after all").status_code == 302
    rating = session.scalars(select(Rating)).one()
    session.refresh(rating)
    assert (rating.score.value, rating.comment) == ("good", "Fine after all")


def test_a_bad_score_keeps_the_page_with_the_error(client, session, people, ticket):
    login(client, "erin@example.com")
    response = rate_on_portal(client, ticket.number, "excellent", "x" * 2001)
    assert response.status_code == 422
    page = page_text(response)
    assert "Choose good or bad." in page and "at most 2000 characters" in page
    assert session.scalars(select(Rating)).all() == []


def test_an_open_ticket_offers_no_rating_and_refuses_one(client, session, people):
    open_ticket = make_ticket(session, people["erin"], "Printer")
    login(client, "erin@example.com")
    assert "How did we do?" not in page_text(client.get(f"/portal/tickets/{open_ticket.number}"))
    response = rate_on_portal(client, open_ticket.number, "good")
    assert response.status_code == 302
    assert "not resolved" in page_text(client.get(response.headers["Location"]))
    assert session.scalars(select(Rating)).all() == []


def test_the_desk_sees_the_rating_escaped_and_in_the_activity_log(client, session, people, ticket):
    login(client, "erin@example.com")
    rate_on_portal(client, ticket.number, "bad", HOSTILE)
    rate_on_portal(client, ticket.number, "good", HOSTILE)
    client.delete_cookie("session")
    login(client, "sam@example.com")
    page = page_text(client.get(f"/desk/tickets/{ticket.number}"))
    assert "Satisfaction" in page and 'data-sd-rating="good"' in page
    assert HOSTILE not in page and "&lt;img src=x onerror=" in page
    assert "rated the answer Bad" in page and "changed their rating from Bad to Good" in page


def test_the_api_reads_ratings_and_only_the_requester_rates(api_as, session, people, ticket):
    erin, tech, other = api_as(people["erin"]), api_as(people["tech"]), api_as(people["other"])
    before = erin.get(f"/api/v1/tickets/{ticket.number}/rating").get_json()
    assert before["can_rate"] is True and before["current"] is None and before["ratings"] == []

    made = erin.post(f"/api/v1/tickets/{ticket.number}/rating", json={"score": "bad", "comment": "Slow"})
    assert made.status_code == 200, made.get_json()
    assert made.get_json()["score"] == "bad" and made.get_json()["comment"] == "Slow"

    seen = tech.get(f"/api/v1/tickets/{ticket.number}/rating").get_json()
    assert seen["can_rate"] is False and seen["current"]["score"] == "bad"
    assert [r["score"] for r in seen["ratings"]] == ["bad"]

    refused = tech.post(f"/api/v1/tickets/{ticket.number}/rating", json={"score": "good"})
    assert refused.status_code == 403
    assert other.get(f"/api/v1/tickets/{ticket.number}/rating").status_code == 404
    assert other.post(f"/api/v1/tickets/{ticket.number}/rating", json={"score": "good"}).status_code == 404

    invalid = erin.post(f"/api/v1/tickets/{ticket.number}/rating", json={"score": "great"})
    assert invalid.status_code == 422 and "score" in invalid.get_data(as_text=True)
    unknown = erin.post(f"/api/v1/tickets/{ticket.number}/rating", json={"score": "good", "stars": 5})
    assert unknown.status_code in (400, 422)
    assert session.scalars(select(Rating.score)).all() == ["bad"] or [
        s.value for s in session.scalars(select(Rating.score)).all()
    ] == ["bad"]
