"""Knowledge-base articles (issue 21): technicians write, publish and revise them, every save kept as a
version; employees read and search only published public ones; search ranks and highlights, safely."""

from __future__ import annotations

import pytest

from supportdesk.core.errors import Conflict, NotFound, PermissionDenied, ValidationError
from supportdesk.kb import reads, service
from supportdesk.kb.models import ArticleState, Visibility
from tests.factories import make_admin, make_category, make_requester, make_technician


@pytest.fixture
def desk(session):
    sam = make_technician(session, full_name="Sam Okafor")
    ada = make_admin(session, full_name="Ada Admin")
    erin = make_requester(session, full_name="Erin Employee")
    vpn = make_category(session, "VPN")
    session.commit()
    return {"sam": sam, "ada": ada, "erin": erin, "vpn": vpn}


def _article(session, actor, title, body, *, publish=True, **fields):
    article = service.create_article(session, actor, title=title, body=body, **fields)
    session.commit()
    if publish:
        service.publish_article(session, actor, article.id)
        session.commit()
    return article


def titles(hits):
    return [h.title for h in hits]


def test_every_save_is_a_version_with_who_and_what_changed(session, desk):
    sam, ada = desk["sam"], desk["ada"]
    article = service.create_article(
        session,
        sam,
        title="  Connect to the  VPN ",
        body="Open the client.",
        category_id=desk["vpn"].id,
        tags=["VPN", " remote access ", "vpn"],
    )
    session.commit()
    assert (article.title, article.state, article.visibility) == (
        "Connect to the VPN",
        ArticleState.DRAFT,
        Visibility.PUBLIC,
    )
    assert article.tag_list == ["vpn", "remote-access"]
    service.update_article(
        session, ada, article.id, body="Open the client, then sign in.", expected_version=1
    )
    session.commit()
    service.publish_article(session, sam, article.id)
    session.commit()
    service.update_article(session, sam, article.id, visibility=Visibility.INTERNAL, title="VPN (desk)")
    session.commit()
    history = reads.article_versions(session, sam, article.id)
    assert [(v.number, v.editor_name, v.change) for v in history] == [
        (4, "Sam Okafor", "title, visibility"),
        (3, "Sam Okafor", "published"),
        (2, "Ada Admin", "body"),
        (1, "Sam Okafor", "created"),
    ]
    # Each version is the article as it was after that save.
    assert [(v.title, v.body) for v in history][1:3] == [
        ("Connect to the VPN", "Open the client, then sign in."),
        ("Connect to the VPN", "Open the client, then sign in."),
    ]
    assert history[3].body == "Open the client."
    view = reads.read_article(session, sam, article.id)
    assert (view.title, view.version, view.updated_by_name, view.category_name) == (
        "VPN (desk)",
        4,
        "Sam Okafor",
        "VPN",
    )
    assert "<p>Open the client, then sign in.</p>" in str(view.body_html)


def test_a_save_over_a_newer_version_is_refused_and_nothing_changes(session, desk):
    article = _article(session, desk["sam"], "Reset a password", "Use the self-service page.")
    with pytest.raises(Conflict):
        service.update_article(session, desk["ada"], article.id, title="Old edit", expected_version=1)
    session.rollback()
    assert reads.read_article(session, desk["sam"], article.id).title == "Reset a password"
    # Saving what is already there is no new version.
    service.update_article(session, desk["sam"], article.id, title="Reset a password")
    session.commit()
    assert len(reads.article_versions(session, desk["sam"], article.id)) == 2


def test_an_article_is_checked_before_it_is_kept(session, desk):
    sam = desk["sam"]
    with pytest.raises(ValidationError) as refused:
        service.create_article(session, sam, title=" ", body="  ", category_id=999_999, tags=["ok", "x" * 40])
    fields = {e.field for e in refused.value.errors}
    assert fields == {"title", "body", "category_id", "tags"}
    with pytest.raises(ValidationError):
        service.create_article(session, sam, title="x" * 201, body="ok")
    with pytest.raises(ValidationError):
        service.create_article(session, sam, title="Many tags", body="ok", tags=[f"t{i}" for i in range(11)])
    session.rollback()
    with pytest.raises(NotFound):
        service.update_article(session, sam, 999_999, title="x")
    with pytest.raises(NotFound):
        service.publish_article(session, sam, 2**40)


def test_only_the_desk_writes_articles(session, desk):
    erin = desk["erin"]
    article = _article(session, desk["sam"], "Printer jams", "Open tray 2.")
    with pytest.raises(PermissionDenied):
        service.create_article(session, erin, title="Mine", body="x")
    with pytest.raises(PermissionDenied):
        service.update_article(session, erin, article.id, title="Hacked")
    with pytest.raises(PermissionDenied):
        service.unpublish_article(session, erin, article.id)
    with pytest.raises(PermissionDenied):
        reads.article_versions(session, erin, article.id)
    session.rollback()


def test_requesters_read_only_published_public_articles(session, desk):
    sam, erin = desk["sam"], desk["erin"]
    public = _article(session, sam, "Printer jams", "Open tray 2 and pull the paper.")
    internal = _article(
        session, sam, "Printer admin password", "Printer secret is hunter2.", visibility=Visibility.INTERNAL
    )
    draft = _article(session, sam, "Printer recall", "Printer recall draft.", publish=False)
    unpublished = _article(session, sam, "Old printer guide", "Printer from 2010.")
    service.unpublish_article(session, sam, unpublished.id)
    session.commit()

    assert [r.title for r in reads.list_articles(session, erin).items] == ["Printer jams"]
    assert {r.title for r in reads.list_articles(session, sam).items} == {
        "Printer jams",
        "Printer admin password",
        "Printer recall",
        "Old printer guide",
    }
    assert reads.read_article(session, erin, public.id).title == "Printer jams"
    for hidden in (internal, draft, unpublished):
        with pytest.raises(NotFound):
            reads.read_article(session, erin, hidden.id)
        assert reads.read_article(session, sam, hidden.id).id == hidden.id
    assert titles(reads.search_articles(session, erin, "printer")) == ["Printer jams"]
    assert titles(reads.search_articles(session, erin, "hunter2")) == []
    assert titles(reads.search_articles(session, erin, "printer", any_word=True)) == ["Printer jams"]
    assert set(titles(reads.search_articles(session, sam, "printer"))) == {
        "Printer jams",
        "Printer admin password",
        "Printer recall",
        "Old printer guide",
    }
    assert [c.name for c in reads.portal_categories(session, erin)] == []


def test_search_ranks_stems_prefixes_and_highlights_safely(session, desk):
    sam, erin = desk["sam"], desk["erin"]
    _article(session, sam, "Printing a PDF", "Choose a printer and press print.")
    _article(session, sam, "Wi-Fi passwords", "The printer in the lobby has its own network.", tags=["wifi"])
    _article(
        session,
        sam,
        "Connect a printer",
        "Add the printer from Settings. Printers <script>x</script>.",
        tags=["printer"],
        category_id=desk["vpn"].id,
    )
    hits = reads.search_articles(session, erin, "printers")
    # A match in the title and tags outranks one in the body only.
    assert titles(hits)[0] == "Connect a printer"
    assert titles(reads.search_articles(session, erin, "conn")) == ["Connect a printer"]  # while typing
    assert titles(reads.search_articles(session, erin, "wifi")) == ["Wi-Fi passwords"]  # by tag
    assert titles(reads.search_articles(session, erin, "print", category_id=desk["vpn"].id)) == [
        "Connect a printer"
    ]
    # Every word must match the article; each is marked where it is (one in the title, one far down
    # the body: the snippet is the part around it).
    long_body = "Keep it plugged in overnight. " * 12 + "Calibrate the cells once a month."
    _article(session, sam, "Laptop battery", long_body)
    (both,) = reads.search_articles(session, erin, "laptop calibrate")
    assert "<mark>Laptop</mark>" in str(both.title_html)
    assert "<mark>Calibrate</mark>" in str(both.snippet_html)
    top = hits[0]
    assert "<mark>printer</mark>" in str(top.title_html).lower()
    snippet = str(top.snippet_html)
    assert "<mark>" in snippet and "<script" not in snippet and "</script" not in snippet
    # SQLite shows the text escaped; PostgreSQL's ts_headline drops what looks like a tag.
    assert "script" not in snippet or "&lt;script&gt;" in snippet
    # Words only: operators and quotes of either database's syntax are just text.
    assert reads.search_articles(session, erin, '"printer" OR * NEAR( -:') is not None
    assert reads.search_articles(session, erin, "   ") == []
    assert [c.name for c in reads.portal_categories(session, erin)] == ["VPN"]
