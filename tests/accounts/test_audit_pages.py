"""The audit log as admins read it: the page with its filters and keyset paging, the CSV export (safe to
open in a spreadsheet), the API; and the address recorded is the client's, as Flask sees it behind the
proxy."""

from __future__ import annotations

import csv
import io
from datetime import UTC, datetime, timedelta

from sqlalchemy import select

from supportdesk.accounts import audit
from supportdesk.accounts.audit import AuditEntry
from supportdesk.app import create_app
from supportdesk.core import clock
from supportdesk.core.origin import Origin
from tests.conftest import form_token, login, make_config, page_text
from tests.factories import make_admin, make_technician

PAGE = "/admin/audit"
BROWSER = {"REMOTE_ADDR": "198.51.100.23"}


def _entries(session) -> list[AuditEntry]:  # type: ignore[no-untyped-def]
    session.expire_all()
    return list(session.scalars(select(AuditEntry).order_by(AuditEntry.id)))


def test_a_role_changed_on_the_page_is_in_the_log_with_address_and_browser(client, session):
    admin = make_admin(session, email="ada@example.com")
    tess = make_technician(session, email="tess@example.com")
    login(client, admin.email)
    client.post(
        f"/admin/users/{tess.id}",
        data={**form_token(client, "/admin/users"), "role": "admin"},
        environ_base=BROWSER,
        headers={"User-Agent": "Mozilla/5.0 (X11) Firefox/140"},
    )
    [entry] = _entries(session)
    assert (entry.action, entry.ip, entry.via) == ("user.role_changed", "198.51.100.23", "web")
    assert entry.user_agent == "Mozilla/5.0 (X11) Firefox/140"
    page = page_text(client.get(PAGE))
    assert "Role changed" in page and "tess@example.com" in page and "198.51.100.23" in page
    assert "technician → admin" in page


def test_behind_the_proxy_the_clients_address_is_recorded(app, database_url, tmp_path, session):
    proxied = create_app(make_config(database_url, tmp_path, trusted_proxies=1)).test_client()
    admin = make_admin(session)
    tess = make_technician(session)
    login(proxied, admin.email)
    proxied.post(
        f"/admin/users/{tess.id}",
        data={**form_token(proxied, "/admin/users"), "active": "0"},
        environ_base={"REMOTE_ADDR": "10.0.0.2"},
        headers={"X-Forwarded-For": "192.0.2.44"},
    )
    assert [(e.action, e.ip) for e in _entries(session)] == [("user.deactivated", "192.0.2.44")]


def _seed(session, admin, count: int, action: str = "team.created", start: datetime | None = None) -> None:  # type: ignore[no-untyped-def]
    start = start or datetime(2026, 11, 1, 9, tzinfo=UTC)
    for n in range(count):
        with clock.frozen_at(start + timedelta(minutes=n)):
            audit.record(
                session, admin, Origin("192.0.2.1", None, "web"), action, target_type="team", target_id=n + 1,
                target_label=f"Team {n}", after={"name": f"Team {n}"},
            )  # fmt: skip
    session.commit()


def test_the_page_pages_by_keyset_newest_first_without_gaps_or_repeats(client, session):
    admin = make_admin(session)
    _seed(session, admin, 120)
    login(client, admin.email)
    seen: list[str] = []
    url = PAGE
    pages = 0
    while url:
        page = page_text(client.get(url))
        seen += [
            line.split("Team ", 1)[1].split("<", 1)[0]
            for line in page.splitlines()
            if "</span> Team " in line
        ]
        pages += 1
        marker = 'href="/admin/audit?before='
        url = ("/admin/audit?before=" + page.split(marker, 1)[1].split('"', 1)[0]) if marker in page else ""
    assert pages == 3
    assert seen == [str(n) for n in range(119, -1, -1)]


def test_the_filters_narrow_the_page(client, session):
    admin = make_admin(session, email="ada@example.com")
    other = make_admin(session, email="otto@example.com")
    _seed(session, admin, 3, "team.created", datetime(2026, 11, 1, 9, tzinfo=UTC))
    _seed(session, other, 2, "team.renamed", datetime(2026, 11, 5, 9, tzinfo=UTC))
    login(client, admin.email)

    def rows(query: str) -> int:
        return page_text(client.get(PAGE + query)).count('data-sd-audit="')

    assert rows("") == 5
    assert rows("?actor=OTTO") == 2
    assert rows("?action=team.created") == 3
    assert rows("?target=team+1") == 2  # one each
    assert rows("?since=2026-11-02") == 2
    assert rows("?until=2026-11-01") == 3
    assert rows("?since=2026-11-01&until=2026-11-01&actor=otto") == 0
    refused = client.get(PAGE + "?since=yesterday&action=nothing.at_all")
    assert refused.status_code == 422
    assert "since" in page_text(refused) and "action" in page_text(refused)
    assert client.get(PAGE + "?before=%C2%B2").status_code == 422  # a Unicode digit


def test_the_export_has_the_filtered_entries_and_no_formula(client, session):
    admin = make_admin(session, email="ada@example.com")
    login(client, admin.email)
    client.post("/admin/teams", data={**form_token(client, "/admin/teams"), "name": '=HYPERLINK("x")'})
    client.post("/admin/teams", data={**form_token(client, "/admin/teams"), "name": "@SUM(A1)"})
    _seed(session, admin, 2, "team.renamed")
    response = client.get("/admin/audit.csv?action=team.created")
    assert response.status_code == 200 and response.mimetype == "text/csv"
    assert "attachment" in response.headers["Content-Disposition"]
    rows = list(csv.reader(io.StringIO(response.get_data(as_text=True).lstrip("\ufeff"))))
    assert rows[0][:3] == ["id", "time (UTC)", "actor"]
    body = rows[1:]
    assert len(body) == 2
    assert {row[10] for row in body} == {'\'=HYPERLINK("x")', "'@SUM(A1)"}
    assert all(row[2] == "ada@example.com" and row[7] == "team.created" for row in body)


def test_the_log_is_for_admins_only(client, session):
    tech = make_technician(session)
    login(client, tech.email)
    assert client.get(PAGE).status_code == 404
    assert client.get("/admin/audit.csv").status_code == 404


def test_the_api_lists_pages_and_filters_and_records_its_own_changes(client, session, api_as):
    admin = make_admin(session, email="ada@example.com")
    tess = make_technician(session, email="tess@example.com")
    api = api_as(admin)
    changed = api.patch(
        f"/api/v1/users/{tess.id}", json={"role": "admin"}, environ_base={"REMOTE_ADDR": "192.0.2.99"}
    )
    assert changed.status_code == 200
    _seed(session, admin, 60)
    first = api.get("/api/v1/admin/audit?size=50")
    assert first.status_code == 200 and first.headers["Cache-Control"] == "no-store"
    body = first.get_json()
    assert len(body["items"]) == 50 and body["next_before"] == body["items"][-1]["id"]
    second = api.get(f"/api/v1/admin/audit?size=50&before={body['next_before']}").get_json()
    assert len(second["items"]) == 11 and second["next_before"] is None
    [role] = api.get("/api/v1/admin/audit?action=user.role_changed").get_json()["items"]
    assert (role["actor"], role["ip"], role["via"], role["target"]) == (
        "ada@example.com", "192.0.2.99", "api", "tess@example.com",
    )  # fmt: skip
    assert (role["before"], role["after"]) == ({"role": "technician"}, {"role": "admin"})
    assert api.get("/api/v1/admin/audit?since=2026-13-01").status_code == 422
    assert api_as(make_technician(session)).get("/api/v1/admin/audit").status_code == 403
