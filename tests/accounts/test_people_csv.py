"""Reading a CSV file of people: what spreadsheets write is read (BOM, UTF-16, Windows-1252,
semicolons, tabs, quoted cells, header spellings); what cannot be read is refused with a reason, never
an exception of another kind; a round trip through Python's csv writer gives the same people back."""

from __future__ import annotations

import csv
import io

import pytest
from hypothesis import given, settings
from hypothesis import strategies as st

from supportdesk.accounts.people_csv import MAX_BYTES, MAX_ROWS, CsvRefused, parse_people, split_teams


def test_a_plain_file_with_every_column():
    parsed = parse_people(
        b"email,full_name,role,teams\n"
        b"erin@example.com,Erin Employee,,\n"
        b'sam@example.com,"Okafor, Sam",Technician,Network|Service Desk\n'
    )
    erin, sam = parsed.people
    assert (erin.line, erin.email, erin.full_name, erin.role, erin.teams) == (
        2, "erin@example.com", "Erin Employee", "", (),
    )  # fmt: skip
    assert (sam.line, sam.full_name, sam.role, sam.teams) == (
        3,
        "Okafor, Sam",
        "Technician",
        ("Network", "Service Desk"),
    )


def test_excel_in_europe_semicolons_a_bom_and_other_header_names():
    data = "\ufeffE-mail;Name;Team\r\nzoë@example.com;Zoë Ündset;Network\r\n".encode()
    [zoe] = parse_people(data).people
    assert (zoe.email, zoe.full_name, zoe.role, zoe.teams) == (
        "zoë@example.com",
        "Zoë Ündset",
        "",
        ("Network",),
    )


def test_utf16_and_windows_1252_and_tabs():
    text = "email\tfull_name\nrene@example.com\tRené Ça\n"
    assert parse_people(text.encode("utf-16")).people[0].full_name == "René Ça"
    assert parse_people(text.encode("cp1252")).people[0].full_name == "René Ça"


def test_blank_lines_are_skipped_and_lines_numbered_as_in_the_file():
    people = parse_people(b"email,full_name\n\na@example.com,A\n,\nb@example.com,B\n").people
    assert [(p.line, p.email) for p in people] == [(3, "a@example.com"), (5, "b@example.com")]


def test_a_line_with_cells_too_many_is_a_problem_of_that_line():
    [person] = parse_people(b"email,full_name\na@example.com,A,extra\n").people
    assert person.problems == ("has 3 cells where the first line names 2 columns",)


def test_no_teams_column_leaves_teams_alone():
    assert parse_people(b"email,full_name\na@example.com,A\n").people[0].teams is None


@pytest.mark.parametrize(
    ("data", "says"),
    [
        (b"", "empty"),
        (b"   \n", "empty"),
        (b"PK\x03\x04rest of a workbook", "workbook"),
        (b"email,full_name\x00\n", "not text"),
        (b"name,role\nA,admin\n", "no email column"),
        (b"email,role\na@example.com,admin\n", "no full_name column"),
        (b"email,full_name,mail\na,b,c\n", "more than once"),
        (b"email,full_name\n", "no one in it"),
        (b'email,full_name\n"a@example.com,A\n', "cannot be read as CSV"),
        (b"\xff\xfeA\x00\xd8", "UTF-16"),
        (b"email,full_name\n\x81\x8d\x8f\x90\x9d,A\n", "neither UTF-8 nor Windows-1252"),
    ],
)
def test_what_cannot_be_read_is_refused_with_a_reason(data, says):
    with pytest.raises(CsvRefused, match=says):
        parse_people(data)


def test_size_and_row_caps():
    with pytest.raises(CsvRefused, match="larger than 2 MB"):
        parse_people(b"email,full_name\n" + b"a" * MAX_BYTES)
    rows = "".join(f"p{n}@example.com,P {n}\n" for n in range(MAX_ROWS + 1))
    with pytest.raises(CsvRefused, match=f"more than {MAX_ROWS} people"):
        parse_people(("email,full_name\n" + rows).encode())
    exactly = "".join(f"p{n}@example.com,P {n}\n" for n in range(MAX_ROWS))
    assert len(parse_people(("email,full_name\n" + exactly).encode()).people) == MAX_ROWS


def test_team_names_split_on_bars_and_semicolons_once_each():
    assert split_teams(" Network | Service  Desk;Network ;") == ("Network", "Service Desk")


@settings(max_examples=200, deadline=None)
@given(st.binary(max_size=400))
def test_any_bytes_are_read_or_refused_never_crash(data):
    message = "read"
    try:
        parse_people(b"email,full_name\n" + data)
    except CsvRefused as refused:
        message = refused.message
    assert message


_cell = st.text(
    alphabet=st.characters(blacklist_categories=("Cs", "Cc"), blacklist_characters="\x00"), max_size=30
).map(lambda s: " ".join(s.split()))


@settings(max_examples=150, deadline=None)
@given(
    st.lists(st.tuples(_cell.filter(bool), _cell.filter(bool)), min_size=1, max_size=20),
    st.sampled_from([",", ";", "\t"]),
    st.sampled_from(["utf-8", "utf-8-sig", "utf-16"]),
)
def test_what_the_csv_writer_writes_comes_back(rows, delimiter, encoding):
    buffer = io.StringIO()
    writer = csv.writer(buffer, delimiter=delimiter)
    writer.writerow(["email", "full_name"])
    writer.writerows(rows)
    people = parse_people(buffer.getvalue().encode(encoding)).people
    assert [(p.email, p.full_name) for p in people] == [(e.strip(), n) for e, n in rows]
