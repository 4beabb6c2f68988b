"""The knowledge base through the JSON API: the desk writes (drafts, publishing, versions, stale saves
refused), everyone signed in reads and searches what the policy allows, and an employee gets a 404 for
an internal or draft article exactly as for one that does not exist."""

from __future__ import annotations

import pytest

from tests.factories import make_category, make_requester, make_technician


@pytest.fixture
def people(session):
    sam = make_technician(session, full_name="Sam Okafor")
    erin = make_requester(session, full_name="Erin Employee")
    vpn = make_category(session, "VPN")
    session.commit()
    return {"sam": sam, "erin": erin, "vpn": vpn}


def test_the_desk_writes_publishes_and_revises_articles(session, people, api_as):
    sam = api_as(people["sam"])
    created = sam.post(
        "/api/v1/kb/articles",
        json={
            "title": "Connect to the VPN",
            "body": "1. Open **GlobalProtect**\n2. Sign in",
            "category_id": people["vpn"].id,
            "tags": ["vpn", "Remote Access"],
        },
    )
    assert created.status_code == 201, created.json
    article = created.json
    assert article["state"] == "draft" and article["visibility"] == "public" and article["version"] == 1
    assert article["tags"] == ["vpn", "remote-access"] and article["category"]["name"] == "VPN"
    assert "<strong>GlobalProtect</strong>" in article["body_html"]
    assert created.headers["Location"].endswith(f"/kb/articles/{article['id']}")
    url = f"/api/v1/kb/articles/{article['id']}"

    changed = sam.patch(
        url, json={"state": "published", "title": "Connect to the VPN from home", "version": 1}
    )
    assert changed.status_code == 200, changed.json
    assert (changed.json["state"], changed.json["version"], changed.json["title"]) == (
        "published",
        3,
        "Connect to the VPN from home",
    )
    assert changed.json["published_at"] is not None
    stale = sam.patch(url, json={"body": "Overwrites a newer version", "version": 1})
    assert stale.status_code == 409
    assert sam.patch(url, json={"category_id": None}).json["category"] is None

    versions = sam.get(f"{url}/versions").json["items"]
    assert [(v["number"], v["change"], v["editor"]) for v in versions] == [
        (4, "category", "Sam Okafor"),
        (3, "published", "Sam Okafor"),
        (2, "title", "Sam Okafor"),
        (1, "created", "Sam Okafor"),
    ]
    refused = sam.post("/api/v1/kb/articles", json={"title": "x", "body": "y", "category_id": 999_999})
    assert refused.status_code == 422 and refused.json["errors"][0]["field"] == "category_id"
    assert sam.post("/api/v1/kb/articles", json={"title": "x", "body": "y", "extra": 1}).status_code == 422
    assert sam.patch("/api/v1/kb/articles/999999", json={"title": "x"}).status_code == 404


def test_employees_read_and_search_only_published_public_articles(session, people, api_as):
    sam, erin = api_as(people["sam"]), api_as(people["erin"])
    ids = {}
    for title, body, visibility, state in [
        ("VPN from home", "Open the VPN client.", "public", "published"),
        ("VPN admin console", "The VPN root password is in the vault.", "internal", "published"),
        ("VPN outage draft", "VPN is down, draft.", "public", "draft"),
    ]:
        response = sam.post(
            "/api/v1/kb/articles",
            json={"title": title, "body": body, "visibility": visibility, "state": state},
        )
        assert response.status_code == 201
        ids[title] = response.json["id"]

    assert [a["title"] for a in erin.get("/api/v1/kb/articles").json["items"]] == ["VPN from home"]
    found = erin.get("/api/v1/kb/articles?q=vpn").json["items"]
    assert [a["title"] for a in found] == ["VPN from home"]
    assert "<mark>VPN</mark>" in found[0]["snippet_html"]
    assert erin.get("/api/v1/kb/articles?q=vault").json["items"] == []
    # Asking for the desk's filters gives an employee nothing more.
    assert erin.get("/api/v1/kb/articles?visibility=internal").json["items"] == []
    assert erin.get("/api/v1/kb/articles?state=draft&q=vpn").json["items"] == []
    assert erin.get(f"/api/v1/kb/articles/{ids['VPN from home']}").status_code == 200
    for hidden in ("VPN admin console", "VPN outage draft"):
        response = erin.get(f"/api/v1/kb/articles/{ids[hidden]}")
        assert response.status_code == 404 and "vault" not in response.get_data(as_text=True)
    assert erin.get(f"/api/v1/kb/articles/{ids['VPN from home']}/versions").status_code == 403
    assert erin.post("/api/v1/kb/articles", json={"title": "Mine", "body": "x"}).status_code == 403
    assert erin.patch(f"/api/v1/kb/articles/{ids['VPN from home']}", json={"title": "x"}).status_code == 403

    assert len(sam.get("/api/v1/kb/articles").json["items"]) == 3
    assert [a["title"] for a in sam.get("/api/v1/kb/articles?visibility=internal").json["items"]] == [
        "VPN admin console"
    ]
    assert {a["title"] for a in sam.get("/api/v1/kb/articles?q=vpn").json["items"]} == set(ids)
    assert sam.get("/api/v1/kb/articles?page=0").status_code == 422
