"""How a ticket list is asked for: one parser of the query string for the desk, the portal and the API,
with a typed assignee, and cursors that refuse anything they did not make."""

from __future__ import annotations

import base64
import json
import re
from datetime import UTC, datetime

import pytest
from werkzeug.datastructures import MultiDict

from supportdesk.core.apikit import parse_query
from supportdesk.core.errors import ValidationError
from supportdesk.tickets.lifecycle import Priority, Status
from supportdesk.tickets.paging import (
    AssignedTo,
    Assignee,
    PortalQuery,
    Sort,
    SortKey,
    TicketFilters,
    TicketQuery,
    decode_cursor,
    encode_cursor,
)
from tests.conftest import login, page_text
from tests.factories import make_requester, make_technician, make_ticket


def query(**values: str | list[str]) -> TicketQuery:
    return parse_query(TicketQuery, MultiDict(values))


def test_the_query_string_becomes_typed_filters():
    parsed = query(
        status=["new", "open"], priority="high", assignee="me", team="3", q="  vpn  ", sort="-priority"
    )
    assert parsed.filters() == TicketFilters(
        statuses=frozenset({Status.NEW, Status.OPEN}),
        priorities=frozenset({Priority.HIGH}),
        assignee=Assignee.ME,
        team_ids=frozenset({3}),
        text="vpn",
    )
    assert parsed.sort == Sort(SortKey.PRIORITY, descending=True)
    assert query(assignee="none").assignee is Assignee.NOBODY
    assert query(assignee="42").assignee == AssignedTo(42)


def test_blank_fields_mean_no_filter():
    """A form's "any" option sends an empty value."""
    assert (
        query(status="", assignee="", team="", category="", q="   ", cursor="").filters() == TicketFilters()
    )


@pytest.mark.parametrize(
    ("name", "value"),
    [
        ("assignee", "someone"),
        ("assignee", "0"),
        ("assignee", "99999999999"),
        ("status", "bogus"),
        ("priority", "9"),
        ("team", "abc"),
        ("team", "2147483648"),
        ("sort", "-password"),
        ("limit", "0"),
        ("limit", "101"),
        ("q", "x" * 201),
        ("updated_since", "2026-01-01T10:00:00"),
        ("updated_since", "9999-12-31T23:59:59-14:00"),
    ],
)
def test_a_bad_value_is_a_validation_error_naming_its_parameter(name, value):
    with pytest.raises(ValidationError) as refused:
        query(**{name: value})
    assert [e.field for e in refused.value.errors] == [name]


def test_a_view_is_narrowed_by_the_filters_given():
    view = TicketFilters(
        statuses=frozenset({Status.NEW, Status.OPEN}), assignee=Assignee.NOBODY, my_teams=True
    )
    assert query(priority="urgent").filters(view) == TicketFilters(
        statuses=view.statuses,
        priorities=frozenset({Priority.URGENT}),
        assignee=Assignee.NOBODY,
        my_teams=True,
    )
    assert query(status="pending", assignee="me").filters(view).statuses == frozenset({Status.PENDING})
    assert query(assignee="me").filters(view).assignee is Assignee.ME


def test_the_portal_reads_its_own_few_parameters_with_the_same_types():
    parsed = parse_query(PortalQuery, MultiDict({"tab": "closed", "q": " printer ", "utm_source": "mail"}))
    assert (parsed.tab, parsed.q, parsed.cursor) == ("closed", "printer", None)
    assert parse_query(PortalQuery, MultiDict({"tab": "bogus"})).tab == "open"
    with pytest.raises(ValidationError, match="q"):
        parse_query(PortalQuery, MultiDict({"q": "x" * 201}))


@pytest.mark.parametrize(
    ("key", "value"),
    [
        (SortKey.UPDATED_AT, datetime(2026, 11, 29, 9, 0, 12, 345678, tzinfo=UTC)),
        (SortKey.CREATED_AT, datetime(2025, 1, 1, tzinfo=UTC)),
        (SortKey.PRIORITY, 3),
        (SortKey.NUMBER, 1042),
    ],
)
def test_a_cursor_names_the_last_row_it_was_made_for(key, value):
    assert decode_cursor(encode_cursor(key, value, 7), key) == (value, 7)


def raw_cursor(document: object) -> str:
    return base64.urlsafe_b64encode(json.dumps(document).encode()).decode().rstrip("=")


@pytest.mark.parametrize(
    "cursor",
    [
        "garbage!",
        "",
        raw_cursor(["number", 10**400, 1]),
        raw_cursor(["number", 1, 10**30]),
        raw_cursor(["number", 1, -1]),
        raw_cursor(["updated_at", "2026-11-29T09:00:00", 1]),
        raw_cursor(["updated_at", "not a date", 1]),
        raw_cursor(["number", [[[[1]]]], 1]),
        base64.urlsafe_b64encode(b"[" * 5000 + b"]" * 5000).decode(),
        raw_cursor({"key": "number"}),
        raw_cursor(["priority", 1, 1]),
        "A" * 5000,
    ],
)
def test_any_other_cursor_is_a_validation_error(cursor):
    with pytest.raises(ValidationError, match="cursor"):
        decode_cursor(cursor, SortKey.NUMBER if "priority" not in str(cursor) else SortKey.UPDATED_AT)


def test_the_desk_and_the_api_list_the_same_tickets_for_the_same_query(client, api_as, session):
    tech = make_technician(session, email="tech@example.com")
    requester = make_requester(session)
    for subject, priority in (("Printer jam", "high"), ("VPN drops", "low"), ("Printer toner", "low")):
        make_ticket(session, requester, subject=subject, priority=Priority(priority))
    api = api_as(tech)
    login(client, tech.email)
    for query_string in (
        "priority=low",
        "q=printer",
        "status=new&priority=high",
        "sort=number",
        "assignee=none",
    ):
        desk_page = page_text(client.get(f"/desk/?view=open&{query_string}"))
        on_desk = re.findall(r'class="sd-row-link"[^>]*>([^<]+)</a>', desk_page)
        listed = api.get(f"/api/v1/tickets?{query_string}").get_json()["items"]
        assert on_desk == [t["subject"] for t in listed], query_string


@pytest.mark.parametrize("text", ["²", "①", "١٢٣", "#²³"])
def test_unicode_digits_are_words_not_ticket_numbers(client, api_as, session, text):
    tech = make_technician(session, email="tech@example.com")
    assert api_as(tech).get("/api/v1/tickets", query_string={"q": text}).status_code == 200
    login(client, tech.email)
    assert client.get("/desk/", query_string={"q": text}).status_code == 200
