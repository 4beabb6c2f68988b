"""The ticket forms: field definitions and labels, CSRF from Flask-WTF. Rules stay in the services."""

from __future__ import annotations

import secrets

from flask_wtf import FlaskForm
from wtforms import (
    BooleanField,
    HiddenField,
    IntegerField,
    MultipleFileField,
    RadioField,
    SelectField,
    StringField,
    TextAreaField,
)
from wtforms.validators import AnyOf, DataRequired, InputRequired, Length, NumberRange, Optional

from supportdesk.core.db import ID_MAX
from supportdesk.core.web import options, parse_id
from supportdesk.tickets.lifecycle import Priority, Status
from supportdesk.tickets.models import COMMENT_MAX, DESCRIPTION_MAX, SUBJECT_MAX


def optional_id(value: object) -> int | None:
    if value in (None, "", "None"):
        return None
    return parse_id(str(value))


class NewTicketForm(FlaskForm):  # type: ignore[misc]
    # A fresh token per form: posting the same form twice (double click, retry) raises one ticket.
    submission = HiddenField(default=lambda: secrets.token_urlsafe(18), validators=[Length(max=64)])
    subject = StringField("Subject", validators=[DataRequired(), Length(max=SUBJECT_MAX)])
    description = TextAreaField("Description", validators=[Length(max=DESCRIPTION_MAX)])
    # The offered categories are for showing the form; a submitted one is checked by the service.
    category = SelectField("Category", coerce=optional_id, validators=[Optional()], validate_choice=False)
    priority = SelectField("Priority", default=Priority.NORMAL.value)
    attachments = MultipleFileField("Attachments")


class RaiseForRequesterForm(NewTicketForm):
    """The desk raising a ticket for someone: an existing person (picked by search, sent as an id) or
    a new one (name and email). The service decides which and checks both."""

    requester = HiddenField(validators=[Optional(), Length(max=20)])
    new_name = StringField("New requester's name", validators=[Optional(), Length(max=120)])
    new_email = StringField("New requester's email", validators=[Optional(), Length(max=254)])


class ReplyForm(FlaskForm):  # type: ignore[misc]
    body = TextAreaField("Message", validators=[DataRequired(message="Write a message first.")])
    # The desk must say which kind it sends every time: no default, so a note never goes out by accident.
    visibility = RadioField(
        "Send as",
        choices=options([("public", "Reply to requester"), ("internal", "Internal note")]),
        validators=[InputRequired(message="Choose a public reply or an internal note.")],
    )
    attachments = MultipleFileField("Attachments")
    version = IntegerField(validators=[Optional()])
    # The last event the page showed: news since then is shown before a public reply goes out.
    seen = IntegerField(validators=[Optional(), NumberRange(0, ID_MAX)])
    send_anyway = HiddenField(validators=[Optional(), Length(max=5)])
    # "Send and set Pending / On hold / Resolved", then perhaps the next ticket of the queue view.
    then_status = HiddenField(validators=[Optional(), AnyOf(["pending", "on_hold", "resolved"])])
    then_next = BooleanField("Then open the next ticket")
    queue = HiddenField(validators=[Optional(), Length(max=20)])
    # On a parent incident: the public reply goes to every child's requester too (tickets/incidents.py).
    to_children = BooleanField("Also send to the requesters of the linked tickets")


class DraftForm(FlaskForm):  # type: ignore[misc]
    """The composer's text as the page saves it while the user types (checked by the draft service)."""

    body = TextAreaField()
    visibility = StringField(validators=[Optional(), Length(max=10)])


class PresenceForm(FlaskForm):  # type: ignore[misc]
    """An open ticket page saying it is there (and whether its user is typing), or that it closed."""

    typing = HiddenField(validators=[Optional(), AnyOf(["", "1"])])
    leaving = HiddenField(validators=[Optional(), AnyOf(["", "1"])])


class RequesterReplyForm(FlaskForm):  # type: ignore[misc]
    body = TextAreaField("Your reply", validators=[DataRequired(message="Write a message first.")])
    attachments = MultipleFileField("Attachments")


class TicketFieldsForm(FlaskForm):  # type: ignore[misc]
    status = SelectField("Status", choices=options((s.value, s.label) for s in Status))
    priority = SelectField("Priority", choices=options((p.value, p.value.capitalize()) for p in Priority))
    assignee = SelectField("Assignee", coerce=optional_id)
    team = SelectField("Team", coerce=optional_id)
    category = SelectField("Category", coerce=optional_id)
    version = IntegerField(validators=[InputRequired()])
    # What the page showed, so that a field the user left alone is no change (see
    # service.update_fields); "" is "none". Checked by `shown_fields` in the face.
    shown_status = HiddenField(validators=[Optional(), Length(max=20)])
    shown_priority = HiddenField(validators=[Optional(), Length(max=20)])
    shown_assignee = HiddenField(validators=[Optional(), Length(max=20)])
    shown_team = HiddenField(validators=[Optional(), Length(max=20)])
    shown_category = HiddenField(validators=[Optional(), Length(max=20)])
    seen = IntegerField(validators=[Optional(), NumberRange(0, ID_MAX)])


class VersionForm(FlaskForm):  # type: ignore[misc]
    """A button that acts on the ticket as the user saw it."""

    version = IntegerField(validators=[Optional()])


class BulkForm(FlaskForm):  # type: ignore[misc]
    # "assign:<id>", "assign:none", "status:<status>" or "priority:<priority>"
    change = StringField("Change", validators=[DataRequired(message="Choose what to change.")])
    next = HiddenField()


class MergeForm(FlaskForm):  # type: ignore[misc]
    """Merge this ticket into another: its number (#1042 or 1042), the words its requester reads
    (the desk's default when empty), and whether they are copied on the other ticket."""

    into = StringField(
        "Merge into ticket", validators=[DataRequired(message="Name a ticket."), Length(max=20)]
    )
    message = TextAreaField("Message to the requester", validators=[Optional(), Length(max=COMMENT_MAX)])
    copy_requester = BooleanField("Copy the requester on that ticket", default=True)


class ParentForm(FlaskForm):  # type: ignore[misc]
    parent = StringField("Incident", validators=[DataRequired(message="Name a ticket."), Length(max=20)])
