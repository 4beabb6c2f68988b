"""Turning a ticket's audit events into notifications: who is told (`recipients_for`), then a line in
each one's in-app list and, unless they turned it off, a message in the outbox, in the same unit of
work as the change. Called by `hooks.py` just before that unit of work commits."""

from __future__ import annotations

from collections.abc import Iterable, Sequence
from dataclasses import dataclass

from flask import render_template
from sqlalchemy import select
from sqlalchemy.orm import Session

from supportdesk.accounts import leads
from supportdesk.accounts.models import Role, User
from supportdesk.core.clock import now
from supportdesk.core.config import Config
from supportdesk.core.richtext import render_markdown
from supportdesk.mail.addresses import Address
from supportdesk.mail.composing import Thread, make_message_id, subject_with_token
from supportdesk.notifications import outbox, preferences
from supportdesk.notifications.models import Notification, NotificationKind
from supportdesk.notifications.watchers import watcher_ids
from supportdesk.satisfaction import links as satisfaction_links
from supportdesk.satisfaction import policy as satisfaction_policy
from supportdesk.tickets.lifecycle import Status
from supportdesk.tickets.models import EventKind, Ticket, TicketEvent

EXCERPT = 280


@dataclass(frozen=True)
class Told:
    """One event's notification for one user."""

    user: User
    kind: NotificationKind


def recipients_for(session: Session, event: TicketEvent) -> list[Told]:
    """Who hears of this event, and as what. Nobody hears of their own action; an internal note only
    ever reaches staff."""
    ticket, actor = event.ticket, event.actor
    chosen: dict[int, Told] = {}

    def tell(users: Iterable[User | None], kind: NotificationKind, staff_only: bool = False) -> None:
        for user in users:
            if user is None or not user.is_active or (actor is not None and user.id == actor.id):
                continue
            if staff_only and not user.is_staff:
                continue
            chosen.setdefault(user.id, Told(user, kind))

    if event.kind is EventKind.CREATED:
        # The acknowledgement goes to the requester even when they raised it: it carries the number.
        requester = ticket.requester
        if requester.is_active:
            chosen[requester.id] = Told(requester, NotificationKind.CREATED)
    elif event.kind is EventKind.COMMENT and event.comment is not None:
        if event.comment.internal:
            tell([ticket.assignee, *_watchers(session, ticket)], NotificationKind.NOTE, staff_only=True)
        else:
            tell([ticket.requester, *_watchers(session, ticket)], NotificationKind.REPLY)
            if actor is not None and not actor.is_staff:
                tell(_desk_side(session, ticket), NotificationKind.REPLY, staff_only=True)
    elif event.kind is EventKind.STATUS and event.new_value == Status.RESOLVED.value:
        tell([ticket.requester, *_watchers(session, ticket)], NotificationKind.RESOLVED)
    elif event.kind is EventKind.ASSIGNEE and event.new_value is not None:
        tell([ticket.assignee], NotificationKind.ASSIGNED, staff_only=True)
    elif event.kind is EventKind.SLA_WARNING:
        tell(_desk_side(session, ticket), NotificationKind.SLA_WARNING, staff_only=True)
    elif event.kind is EventKind.SLA_BREACH:
        # The leads of the team it breached in (`old_value`) and of the team it is in now (an
        # escalation may have moved it), then whoever has it.
        teams = (
            {int(event.old_value)}
            if event.old_value and (event.old_value.isascii() and event.old_value.isdigit())
            else set()
        )
        if ticket.team_id is not None:
            teams.add(ticket.team_id)
        tell(leads.leads_of(session, teams), NotificationKind.SLA_BREACH, staff_only=True)
        tell(_desk_side(session, ticket), NotificationKind.SLA_BREACH, staff_only=True)
    return list(chosen.values())


def _watchers(session: Session, ticket: Ticket) -> list[User]:
    ids = watcher_ids(session, ticket.id)
    return list(session.scalars(select(User).where(User.id.in_(ids)))) if ids else []


def _desk_side(session: Session, ticket: Ticket) -> Sequence[User | None]:
    """The assignee; while nobody has the ticket, its team; with no team either, the whole desk."""
    if ticket.assignee is not None:
        return [ticket.assignee]
    if ticket.team is not None:
        return list(ticket.team.members)
    return list(session.scalars(select(User).where(User.role != Role.REQUESTER, User.is_active.is_(True))))


def notify(session: Session, config: Config, events: Sequence[TicketEvent]) -> None:
    """Notifications for these events (in an app context, inside the unit of work that made them)."""
    for event in events:
        told = recipients_for(session, event)
        if not told:
            continue
        by_kind: dict[NotificationKind, list[int]] = {}
        for item in told:
            by_kind.setdefault(item.kind, []).append(item.user.id)
        silent = {kind: preferences.not_by_email(session, ids, kind) for kind, ids in by_kind.items()}
        for item in told:
            _tell(session, config, event, item, by_email=item.user.id not in silent[item.kind])
    session.flush()


def _tell(session: Session, config: Config, event: TicketEvent, told: Told, *, by_email: bool) -> None:
    ticket, user, kind = event.ticket, told.user, told.kind
    actor_name = event.actor.full_name if event.actor is not None else "SupportDesk"
    comment = event.comment.body if event.comment is not None else ""
    title = _title(kind, actor_name, ticket, event)
    if kind is not NotificationKind.CREATED:  # the requester raised it: a confirmation, not news
        session.add(
            Notification(
                user_id=user.id,
                ticket_id=ticket.id,
                kind=kind,
                title=title[:300],
                excerpt=" ".join((comment or "").split())[:EXCERPT],
                created_at=now(),
            )
        )
    if not by_email:
        return
    link = _link(config, user, ticket)
    context = {
        "kind": kind.value,
        "user": user,
        "ticket": ticket,
        "actor_name": actor_name,
        "comment": comment,
        "comment_html": render_markdown(comment) if comment else "",
        "description_html": render_markdown(ticket.description) if ticket.description else "",
        "link": link,
        "settings_link": f"{config.public_url}/notifications/settings",
        "title": title,
        "target": _target_label(event),
        "due_words": _due_words(event),
        "rating_links": _rating_links(config, user, event) if kind is NotificationKind.RESOLVED else None,
    }
    secret, domain = outbox.mail_secret(config), outbox.mail_domain(config)
    root = make_message_id({"ticket": ticket.number}, domain=domain, secret=secret)
    first = kind is NotificationKind.CREATED
    outbox.queue_message(
        session,
        # The requester's copy with rating links is kept only until a relay has it (delivery.py).
        kind="resolved_rating" if context["rating_links"] else kind.value,
        to=[Address(user.email, user.full_name)],
        subject=subject_with_token(ticket.subject, ticket.number),
        text=render_template("mail/notification.txt", **context),
        html=render_template("mail/notification.html", **context),
        ticket_id=ticket.id,
        identity={"ticket": ticket.number}
        if first
        else {"ticket": ticket.number, "event": event.id, "to": user.id},
        thread=None if first else Thread(in_reply_to=root, references=(root,)),
    )


def _target_label(event: TicketEvent) -> str:
    return (event.new_value or "").replace("_", " ")


def _due_words(event: TicketEvent) -> str:
    """When the warned target falls due, from now: "in 25 min" (wall-clock time)."""
    ticket = event.ticket
    due = ticket.first_response_due_at if event.new_value == "first_response" else ticket.resolution_due_at
    if due is None:
        return "soon"
    minutes = max(0, int((due - now()).total_seconds() // 60))
    hours, minutes = divmod(minutes, 60)
    return f"in {hours} h {minutes} min" if hours else f"in {minutes} min"


def _title(kind: NotificationKind, actor_name: str, ticket: Ticket, event: TicketEvent) -> str:
    target = _target_label(event)
    return {
        NotificationKind.CREATED: f"{ticket.reference} is raised",
        NotificationKind.REPLY: f"{actor_name} replied on {ticket.reference} {ticket.subject}",
        NotificationKind.NOTE: f"{actor_name} added an internal note on {ticket.reference} {ticket.subject}",
        NotificationKind.RESOLVED: f"{ticket.reference} {ticket.subject} is resolved",
        NotificationKind.ASSIGNED: f"{actor_name} assigned {ticket.reference} {ticket.subject} to you",
        NotificationKind.SLA_WARNING: (
            f"{ticket.reference} {ticket.subject}: the {target} is due {_due_words(event)}"
        ),
        NotificationKind.SLA_BREACH: f"{ticket.reference} {ticket.subject}: the {target} target was missed",
    }[kind]


def _rating_links(config: Config, user: User, event: TicketEvent) -> dict[str, str] | None:
    """The resolution mail's "good" and "bad" links, for the requester only: a signed token bound to
    the ticket, this resolution (the event) and them (satisfaction/links.py)."""
    if not satisfaction_policy.may_rate(user, event.ticket.requester_id):
        return None
    token = satisfaction_links.token_for(event.ticket.id, event.id, user.id)
    return {score: f"{config.public_url}/rate/{token}?score={score}" for score in ("good", "bad")}


def _link(config: Config, user: User, ticket: Ticket) -> str | None:
    """Where this user opens the ticket: the desk for staff, the portal for its requester; a requester
    copied on someone else's ticket has no page for it (the mail is all they get)."""
    if user.is_staff:
        return f"{config.public_url}/desk/tickets/{ticket.number}"
    if user.id == ticket.requester_id:
        return f"{config.public_url}/portal/tickets/{ticket.number}"
    return None
