"""Requesters never see an internal or draft knowledge-base article anywhere: not in the portal's list,
categories or search, not by guessing its id (404, as for one that does not exist), not through the
API's list, search, filters, article or versions. Tested like internal notes: secret words in the hidden
articles, looked for in every response an employee can get."""

from __future__ import annotations

from supportdesk.kb import service
from supportdesk.kb.models import Visibility
from tests.conftest import csrf_token, login, page_text

SECRET = "zebracorn"


def test_no_page_or_api_call_shows_an_employee_a_hidden_article(client, api_as, session, desk):
    tech, alice = desk["tech"], desk["alice"]
    public = service.create_article(
        session,
        tech,
        title="Reset a password",
        body="Use the self-service page.",
        category_id=desk["category"].id,
    )
    service.publish_article(session, tech, public.id)
    internal = service.create_article(
        session,
        tech,
        title=f"Password vault {SECRET}",
        body=f"Vault {SECRET} password reset",
        tags=[SECRET],
        category_id=desk["category"].id,
        visibility=Visibility.INTERNAL,
    )
    service.publish_article(session, tech, internal.id)
    draft = service.create_article(
        session,
        tech,
        title=f"Password draft {SECRET}",
        body=f"Draft {SECRET} password",
        category_id=desk["category"].id,
    )
    unpublished = service.create_article(session, tech, title=f"Old password {SECRET}", body=f"Old {SECRET}")
    service.publish_article(session, tech, unpublished.id)
    service.unpublish_article(session, tech, unpublished.id)
    session.commit()
    hidden = (internal.id, draft.id, unpublished.id)

    login(client, alice.email)
    pages = [
        "/portal/help",
        f"/portal/help?category={desk['category'].id}",
        "/portal/help?q=password",
        f"/portal/help?q={SECRET}",
        f"/portal/help?q={SECRET[:4]}",
        "/portal/help?q=vault",
        "/portal/help?q=password&state=draft&visibility=internal",
        "/portal/help/suggestions?subject=password+vault&description=draft+old",
        f"/portal/help/suggestions?subject={SECRET}",
    ]
    for url in pages:
        response = client.get(url)
        assert response.status_code == 200, url
        text = page_text(response).lower()
        for title in ("password vault", "password draft", "old password"):
            assert title not in text, (url, title)
        for article_id in hidden:
            assert f'/portal/help/{article_id}"' not in text, url
        if SECRET[:4] not in url:  # the search box shows what was typed
            assert SECRET not in text, url
    assert "Reset a password" in page_text(client.get("/portal/help"))
    assert "(1)" in page_text(client.get("/portal/help"))  # the category counts the public article only
    for article_id in hidden:
        for url in (f"/portal/help/{article_id}", f"/desk/kb/{article_id}", f"/desk/kb/{article_id}/history"):
            response = client.get(url)
            assert response.status_code == 404, url
            assert SECRET not in page_text(response), url

    # Nor can an employee count one as having solved their problem.
    token = csrf_token(client, "/portal/new")
    for article_id in hidden:
        response = client.post(
            f"/portal/help/{article_id}/solved", data={"csrf_token": token, "subject": "x"}
        )
        assert response.status_code == 404 and SECRET not in page_text(response)

    api = api_as(alice)
    for url in (
        "/api/v1/kb/articles",
        "/api/v1/kb/articles?q=password",
        f"/api/v1/kb/articles?q={SECRET}",
        "/api/v1/kb/articles?visibility=internal",
        "/api/v1/kb/articles?state=draft",
        f"/api/v1/kb/articles?category_id={desk['category'].id}",
    ):
        response = api.get(url)
        assert response.status_code == 200, url
        assert SECRET not in page_text(response), url
    assert [a["id"] for a in api.get("/api/v1/kb/articles").json["items"]] == [public.id]
    for article_id in hidden:
        for url in (f"/api/v1/kb/articles/{article_id}", f"/api/v1/kb/articles/{article_id}/versions"):
            response = api.get(url)
            assert response.status_code in (403, 404), url
            assert SECRET not in page_text(response), url
        assert api.get(f"/api/v1/kb/articles/{article_id}").status_code == 404
