"""The knowledge base's pages: the desk writes, publishes and reads the history; employees browse by
category, search and read, and an internal or draft article is a 404 for them wherever they ask."""

from __future__ import annotations

import pytest
from sqlalchemy import select

from supportdesk.kb import service
from supportdesk.kb.models import Article, ArticleState, Visibility
from tests.conftest import form_token, login, page_text
from tests.factories import make_category, make_requester, make_technician
from tests.html_safety import assert_page_inert


@pytest.fixture
def people(session):
    sam = make_technician(session, email="sam@example.com", full_name="Sam Okafor")
    erin = make_requester(session, email="erin@example.com", full_name="Erin Employee")
    vpn = make_category(session, "VPN")
    session.commit()
    return {"sam": sam, "erin": erin, "vpn": vpn}


def _article(session, actor, title, body, *, publish=True, **fields):
    article = service.create_article(session, actor, title=title, body=body, **fields)
    if publish:
        service.publish_article(session, actor, article.id)
    session.commit()
    return article


def test_a_technician_writes_publishes_and_revises_an_article(client, session, people):
    login(client, "sam@example.com")
    form = {
        **form_token(client, "/desk/kb/new"),
        "title": "Connect to the VPN",
        "body": "Open **GlobalProtect**.",
        "category": str(people["vpn"].id),
        "tags": "vpn, remote access",
        "visibility": "public",
        "action": "save",
    }
    refused = client.post("/desk/kb/new", data={**form, "title": " "})
    assert refused.status_code == 422 and "is required" in page_text(refused)
    created = client.post("/desk/kb/new", data=form)
    assert created.status_code == 302
    article = session.scalars(select(Article)).one()
    assert (article.state, article.tags) == (ArticleState.DRAFT, "vpn remote-access")
    page = page_text(client.get(created.headers["Location"], follow_redirects=True))
    assert "saved as a draft" in page and "<strong>GlobalProtect</strong>" in page

    url = f"/desk/kb/{article.id}"
    assert client.post(f"{url}/publish", data={**form_token(client, url), "version": "1"}).status_code == 302
    edit = page_text(client.get(f"{url}/edit"))
    assert 'value="2"' in edit and "Connect to the VPN" in edit
    saved = client.post(f"{url}/edit", data={**form, "title": "VPN from home", "version": "2"})
    assert saved.status_code == 302
    stale = client.post(f"{url}/edit", data={**form, "title": "Lost edit", "version": "2"})
    assert stale.status_code == 409 and "changed by someone else" in page_text(stale)
    assert "Lost edit" in page_text(stale)  # the text typed is still there to copy
    history = page_text(client.get(f"{url}/history"))
    assert "Version 3: title" in history and "Version 2: published" in history and "Sam Okafor" in history
    session.expire_all()
    assert session.get(Article, article.id).title == "VPN from home"
    listing = page_text(client.get("/desk/kb?state=published&visibility=public&category=%C2%B2&page=%D9%A3"))
    assert "VPN from home" in listing


def test_employees_browse_search_and_read_only_public_articles(client, session, people):
    sam = people["sam"]
    public = _article(
        session, sam, "Connect to the VPN", "Open the VPN client and sign in.", category_id=people["vpn"].id
    )
    internal = _article(
        session,
        sam,
        "VPN root access",
        "VPN admin password: in the vault.",
        visibility=Visibility.INTERNAL,
        category_id=people["vpn"].id,
    )
    draft = _article(session, sam, "VPN outage notice", "VPN is down (draft).", publish=False)
    login(client, "erin@example.com")
    home = page_text(client.get("/portal/help"))
    assert "Connect to the VPN" in home and '>VPN</a> <span class="text-body-secondary small">(1)' in home
    found = page_text(client.get("/portal/help?q=vpn"))
    assert "Connect to the <mark>VPN</mark>" in found
    for page in (home, found, page_text(client.get(f"/portal/help?category={people['vpn'].id}"))):
        assert "Connect to the" in page
        assert "root access" not in page and "outage" not in page and "vault" not in page
    assert client.get(f"/portal/help/{public.id}").status_code == 200
    for hidden in (internal, draft):
        response = client.get(f"/portal/help/{hidden.id}")
        assert response.status_code == 404 and "vault" not in page_text(response)
        assert client.get(f"/desk/kb/{hidden.id}").status_code == 404
    assert client.get("/desk/kb").status_code == 404


@pytest.mark.parametrize(
    "payload", ["<script>alert(1)</script>", "[x](javascript:alert(1))", '"><img src=x onerror=alert(1)>']
)
def test_hostile_article_text_is_inert(client, session, people, payload):
    sam = people["sam"]
    article = _article(session, sam, f"T {payload}"[:200], f"B {payload} vpn", tags=["vpn"])
    login(client, "sam@example.com")
    for url in (
        "/desk/kb",
        "/desk/kb?q=vpn",
        f"/desk/kb/{article.id}",
        f"/desk/kb/{article.id}/edit",
        f"/desk/kb/{article.id}/history",
        "/desk/kb/picker?q=vpn",
        "/desk/kb/picker",
    ):
        response = client.get(url)
        assert response.status_code == 200, url
        assert_page_inert(page_text(response))
    client.delete_cookie("session")
    login(client, "erin@example.com")
    for url in (
        "/portal/help",
        "/portal/help?q=vpn",
        "/portal/help?q=alert",
        f"/portal/help/{article.id}",
        "/portal/help/suggestions?subject=vpn",
    ):
        response = client.get(url)
        assert response.status_code == 200, url
        assert_page_inert(page_text(response))
