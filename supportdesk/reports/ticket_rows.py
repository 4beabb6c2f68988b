"""What a ticket list's CSV holds, whether streamed or written by a job: its columns, one row per
ticket, and the desk's query string that chose the list."""

from __future__ import annotations

from typing import Any

from pydantic import ConfigDict
from werkzeug.datastructures import MultiDict

from supportdesk.core.apikit import parse_query
from supportdesk.reports.csv_export import Value
from supportdesk.tickets import queues
from supportdesk.tickets.paging import TicketQuery

TICKET_COLUMNS = (
    "Number",
    "Subject",
    "Status",
    "Priority",
    "Requester",
    "Requester email",
    "Assignee",
    "Team",
    "Category",
    "Created (UTC)",
    "Updated (UTC)",
    "First response (UTC)",
    "Resolved (UTC)",
    "Closed (UTC)",
)


class TicketExportQuery(TicketQuery):
    """The desk's query string (a view narrowed by the list's filters); paging is ignored: all of it."""

    model_config = ConfigDict(extra="ignore")
    view: queues.QueueView = queues.QueueView.UNASSIGNED


def ticket_row(ticket: Any) -> tuple[Value, ...]:
    """A row of `tickets.whole_lists.iter_ticket_rows` as the CSV's cells."""
    return (
        ticket.number,
        ticket.subject,
        ticket.status,
        ticket.priority,
        ticket.requester_name,
        ticket.requester_email,
        ticket.assignee_name,
        ticket.team_name,
        ticket.category_name,
        ticket.created_at,
        ticket.updated_at,
        ticket.first_response_at,
        ticket.resolved_at,
        ticket.closed_at,
    )


def parse_list_query(args: MultiDict[str, str]) -> TicketExportQuery:
    """The desk's query string (a ValidationError naming each bad parameter)."""
    return parse_query(TicketExportQuery, args)


def query_values(args: MultiDict[str, str]) -> dict[str, list[str]]:
    """The parameters that choose the list, as stored with a background export (paging and the CSRF
    token left out)."""
    known = set(TicketExportQuery.model_fields) - {"limit", "cursor"}
    return {name: args.getlist(name) for name in args if name in known}
