"""Duplicates and incidents through the desk's pages, the portal and the API (issue 21, US-91)."""

from __future__ import annotations

import html
import re

import pytest
from sqlalchemy import select

from supportdesk.tickets import service
from supportdesk.tickets.lifecycle import Status
from supportdesk.tickets.models import Ticket
from tests.conftest import csrf_token, login, page_text
from tests.factories import make_requester, make_technician, make_ticket
from tests.test_query_counts import counting


def visible(response) -> str:  # type: ignore[no-untyped-def]
    """The page's text as a reader sees it: no tags, spaces collapsed."""
    text = re.sub(r"<script.*?</script>|<[^>]+>", " ", page_text(response), flags=re.S)
    return re.sub(r"\s+", " ", html.unescape(text)).replace(" .", ".").replace(" :", ":")


@pytest.fixture
def people(session):
    return {
        "alice": make_requester(session, full_name="Alice Able", email="alice@example.com"),
        "bob": make_requester(session, full_name="Bob Baker", email="bob@example.com"),
        "tech": make_technician(session, full_name="Tess Tech", email="tess@example.com"),
    }


@pytest.fixture
def vpn(session, people):
    """Alice's report of the VPN being down, Bob's duplicate of it, and an unrelated printer ticket."""
    survivor = make_ticket(
        session, people["alice"], subject="VPN is down", description="VPN gateway times out"
    )
    duplicate = make_ticket(
        session, people["bob"], subject="Cannot connect to VPN", description="VPN error 809"
    )
    other = make_ticket(session, people["bob"], subject="Printer jams", description="Tray 2 is stuck")
    service.add_comment(session, people["bob"], duplicate.number, "Tried from home too: same VPN error")
    session.commit()
    return {"survivor": survivor.number, "duplicate": duplicate.number, "other": other.number}


def test_the_desk_sees_similar_open_tickets_from_every_requester_but_not_the_ticket_itself(
    clean_app, client, people, vpn
):
    login(client, people["tech"].email)
    text = visible(client.get(f"/desk/tickets/{vpn['survivor']}/similar"))
    assert f"#{vpn['duplicate']} Cannot connect to VPN" in text and "Bob Baker" in text
    assert f"#{vpn['survivor']} VPN is down" not in text and "Printer jams" not in text


def test_similar_tickets_cost_a_few_statements_whatever_the_desk_holds(
    clean_app, client, session, people, vpn
):
    login(client, people["tech"].email)
    url = f"/desk/tickets/{vpn['survivor']}/similar"
    client.get(url)
    with counting(clean_app) as few:
        assert client.get(url).status_code == 200
    for n in range(30):
        make_ticket(session, people["bob"], subject=f"VPN drops every hour {n}")
    with counting(clean_app) as many:
        page = visible(client.get(url))
    assert len(many) == len(few) <= 3  # the user, the ticket, the ranked matches
    assert page.count("Merge into #") == 5  # a handful


def test_requesters_never_see_similar_tickets(clean_app, client, api_as, people, vpn):
    login(client, people["alice"].email)
    assert client.get(f"/desk/tickets/{vpn['survivor']}/similar").status_code == 404
    response = api_as(people["alice"]).get(f"/api/v1/tickets/{vpn['survivor']}/similar")
    assert response.status_code == 403


def test_merging_from_the_desk_shows_the_banner_and_the_conversation_on_the_survivor(
    clean_app, client, session, people, vpn
):
    login(client, people["tech"].email)
    token = csrf_token(client, f"/desk/tickets/{vpn['duplicate']}")
    response = client.post(
        f"/desk/tickets/{vpn['duplicate']}/merge",
        data={"csrf_token": token, "into": f"#{vpn['survivor']}", "message": "", "copy_requester": "y"},
    )
    assert response.status_code == 303 and response.headers["Location"].endswith(
        f"/desk/tickets/{vpn['survivor']}"
    )
    survivor_page = visible(client.get(f"/desk/tickets/{vpn['survivor']}"))
    assert f"Merged from #{vpn['duplicate']}" in survivor_page
    assert "Tried from home too: same VPN error" in survivor_page
    merged_page = visible(client.get(f"/desk/tickets/{vpn['duplicate']}"))
    assert f"This ticket was merged into #{vpn['survivor']} VPN is down" in merged_page


def test_a_refused_merge_says_why_on_the_ticket(clean_app, client, people, vpn):
    login(client, people["tech"].email)
    token = csrf_token(client, f"/desk/tickets/{vpn['duplicate']}")
    response = client.post(
        f"/desk/tickets/{vpn['duplicate']}/merge",
        data={"csrf_token": token, "into": str(vpn["duplicate"])},
        follow_redirects=True,
    )
    assert "A ticket cannot be merged into itself." in visible(response)
    response = client.post(
        f"/desk/tickets/{vpn['duplicate']}/merge",
        data={"csrf_token": token, "into": "²"},
        follow_redirects=True,
    )
    assert "by its number" in visible(response)


def test_the_requester_of_the_duplicate_sees_where_it_went_and_nothing_of_the_other_ticket(
    clean_app, client, session, people, vpn
):
    login(client, people["tech"].email)
    token = csrf_token(client, f"/desk/tickets/{vpn['duplicate']}")
    client.post(
        f"/desk/tickets/{vpn['duplicate']}/merge", data={"csrf_token": token, "into": str(vpn["survivor"])}
    )
    client.delete_cookie("session")
    login(client, people["bob"].email)
    page = visible(client.get(f"/portal/tickets/{vpn['duplicate']}"))
    assert f"merged into ticket #{vpn['survivor']}" in page
    assert "VPN is down" not in page and "gateway" not in page
    assert "Reopen ticket" not in page
    assert "handling this together with the same request" in page  # the public note
    assert client.get(f"/portal/tickets/{vpn['survivor']}").status_code == 404
    client.delete_cookie("session")
    login(client, people["alice"].email)
    page = visible(client.get(f"/portal/tickets/{vpn['survivor']}"))
    assert "same VPN error" not in page and "Merged from" not in page


def test_a_merged_ticket_stays_closed(clean_app, session, people, vpn, api_as):
    api = api_as(people["tech"])
    assert (
        api.post(f"/api/v1/tickets/{vpn['duplicate']}/merge", json={"into": vpn["survivor"]}).status_code
        == 200
    )
    version = session.scalar(select(Ticket.version).where(Ticket.number == vpn["duplicate"]))
    response = api.patch(
        f"/api/v1/tickets/{vpn['duplicate']}", json={"status": "open"}, headers={"If-Match": f'"{version}"'}
    )
    assert response.status_code == 409 and "merged" in response.json["detail"]


def test_the_api_merges_and_tells_each_side_what_it_may_know(clean_app, session, people, vpn, api_as):
    api = api_as(people["tech"])
    response = api.post(
        f"/api/v1/tickets/{vpn['duplicate']}/merge", json={"into": vpn["survivor"], "message": "Same outage."}
    )
    assert response.status_code == 200
    assert response.json["merged_into"] == {
        "number": vpn["survivor"],
        "status": "new",
        "subject": "VPN is down",
    }
    survivor = api.get(f"/api/v1/tickets/{vpn['survivor']}/links").json
    assert [m["number"] for m in survivor["merged_from"]] == [vpn["duplicate"]]
    bobs = api_as(people["bob"]).get(f"/api/v1/tickets/{vpn['duplicate']}/links").json
    assert bobs["merged_into"] == {"number": vpn["survivor"], "status": None, "subject": None}
    again = api.post(f"/api/v1/tickets/{vpn['duplicate']}/merge", json={"into": vpn["other"]})
    assert again.status_code == 409
    session.expire_all()
    assert session.scalar(select(Ticket.status).where(Ticket.number == vpn["duplicate"])) is Status.CLOSED
    assert (
        api_as(people["alice"])
        .post(f"/api/v1/tickets/{vpn['survivor']}/merge", json={"into": vpn["other"]})
        .status_code
        == 403
    )


@pytest.fixture
def incident(session, people, vpn):
    """Alice's ticket is the incident; Bob's two tickets are to be linked to it (`link_children`)."""
    return {"parent": vpn["survivor"], "children": [vpn["duplicate"], vpn["other"]]}


def link_children(api, incident):
    for child in incident["children"]:
        response = api.put(f"/api/v1/tickets/{child}/parent", json={"parent": incident["parent"]})
        assert response.status_code == 200 and response.json["parent"]["number"] == incident["parent"]


def test_the_desk_links_a_ticket_to_an_incident_and_the_parent_lists_it(clean_app, client, people, vpn):
    login(client, people["tech"].email)
    token = csrf_token(client, f"/desk/tickets/{vpn['duplicate']}")
    response = client.post(
        f"/desk/tickets/{vpn['duplicate']}/parent",
        data={"csrf_token": token, "parent": f"#{vpn['survivor']}"},
    )
    assert response.status_code == 303
    child_page = visible(client.get(f"/desk/tickets/{vpn['duplicate']}"))
    assert f"Part of #{vpn['survivor']} VPN is down" in child_page
    parent_page = visible(client.get(f"/desk/tickets/{vpn['survivor']}"))
    assert "Incident: 1 linked ticket (1 open)" in parent_page
    assert f"#{vpn['duplicate']} Cannot connect to VPN" in parent_page
    assert "Also send this reply to the requesters of the 1 linked ticket" in parent_page
    client.post(f"/desk/tickets/{vpn['duplicate']}/parent/remove", data={"csrf_token": token})
    assert "Incident:" not in visible(client.get(f"/desk/tickets/{vpn['survivor']}"))


def test_a_desk_reply_on_the_parent_reaches_the_childrens_requesters(
    clean_app, client, session, api_as, people, incident
):
    link_children(api_as(people["tech"]), incident)
    login(client, people["tech"].email)
    token = csrf_token(client, f"/desk/tickets/{incident['parent']}")
    response = client.post(
        f"/desk/tickets/{incident['parent']}/reply",
        data={
            "csrf_token": token,
            "body": "The VPN gateway is back.",
            "visibility": "public",
            "to_children": "y",
            "then_status": "resolved",
        },
        follow_redirects=True,
    )
    assert "and to the requesters of 2 linked ticket(s)" in visible(response)
    client.delete_cookie("session")
    login(client, people["bob"].email)
    page = visible(client.get(f"/portal/tickets/{incident['children'][0]}"))
    assert "The VPN gateway is back." in page and "Solved" in page
    assert "VPN is down" not in page and "Incident" not in page


def test_an_internal_note_is_refused_for_the_children_and_nothing_is_sent(
    clean_app, client, session, api_as, people, incident
):
    link_children(api_as(people["tech"]), incident)
    login(client, people["tech"].email)
    token = csrf_token(client, f"/desk/tickets/{incident['parent']}")
    response = client.post(
        f"/desk/tickets/{incident['parent']}/reply",
        data={"csrf_token": token, "body": "note", "visibility": "internal", "to_children": "y"},
    )
    assert response.status_code == 422 and "Only a public reply" in visible(response)


def test_the_api_links_replies_to_children_and_unlinks(clean_app, session, api_as, people, incident):
    api = api_as(people["tech"])
    link_children(api, incident)
    links_of_parent = api.get(f"/api/v1/tickets/{incident['parent']}/links").json
    assert [c["number"] for c in links_of_parent["children"]] == incident["children"]
    reply = api.post(
        f"/api/v1/tickets/{incident['parent']}/comments", json={"body": "Fixed.", "to_children": True}
    )
    assert reply.status_code == 201
    for child in incident["children"]:
        bodies = [c["body"] for c in api.get(f"/api/v1/tickets/{child}/comments").json["items"]]
        assert bodies[-1] == "Fixed."
    bob = api_as(people["bob"])
    assert bob.get(f"/api/v1/tickets/{incident['children'][0]}/links").json["parent"] is None
    refused = bob.post(
        f"/api/v1/tickets/{incident['children'][0]}/comments", json={"body": "hi", "to_children": True}
    )
    assert refused.status_code == 403
    assert api.delete(f"/api/v1/tickets/{incident['children'][0]}/parent").json["parent"] is None
    assert api.delete(f"/api/v1/tickets/{incident['children'][0]}/parent").status_code == 409
