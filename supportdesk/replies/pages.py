"""The canned-reply pages: a technician's own (on the desk), the shared ones (in the admin area), and
the composer's picker. Edits and deletions from either page go through the same two routes; the policy
says who may change which."""

from __future__ import annotations

from flask import flash, redirect, render_template, request, url_for
from flask_login import current_user
from werkzeug.wrappers import Response

from supportdesk.accounts.admin import bp as admin_bp
from supportdesk.core.db import db
from supportdesk.core.errors import ValidationError
from supportdesk.core.web import form_errors, safe_next
from supportdesk.replies import placeholders, reads, service
from supportdesk.replies.forms import CannedReplyForm
from supportdesk.tickets.desk import bp as desk_bp


@desk_bp.route("/replies", methods=["GET", "POST"])
def canned_replies() -> Response | str | tuple[str, int]:
    form = CannedReplyForm()
    if form.validate_on_submit():
        try:
            with db.transaction() as session:
                title = service.create_reply(
                    session, current_user, title=form.title.data or "", body=form.body.data or ""
                ).title
        except ValidationError as error:
            form_errors(form, error)
        else:
            flash(f"Reply “{title}” added.", "success")
            return redirect(url_for("desk.canned_replies"))
    return _page("replies/mine.html", form)


@admin_bp.route("/replies", methods=["GET", "POST"])
def shared_replies() -> Response | str | tuple[str, int]:
    form = CannedReplyForm()
    if form.validate_on_submit():
        try:
            with db.transaction() as session:
                title = service.create_reply(
                    session, current_user, title=form.title.data or "", body=form.body.data or "", shared=True
                ).title
        except ValidationError as error:
            form_errors(form, error)
        else:
            flash(f"Shared reply “{title}” added.", "success")
            return redirect(url_for("admin.shared_replies"))
    return _page("replies/shared.html", form)


@desk_bp.post("/replies/<id:reply_id>")
def update_canned_reply(reply_id: int) -> Response | str | tuple[str, int]:
    form = CannedReplyForm()
    back = _back(form)
    if not form.validate_on_submit():
        flash("The reply was not saved: check its title and text.", "danger")
        return redirect(back)
    try:
        with db.transaction() as session:
            title = service.update_reply(
                session, current_user, reply_id, title=form.title.data or "", body=form.body.data or ""
            ).title
    except ValidationError as error:
        # The page again, with this reply's form open and what was typed in it.
        edited = CannedReplyForm(formdata=None, title=form.title.data, body=form.body.data)
        form_errors(edited, error)
        template = "replies/shared.html" if back.startswith("/admin") else "replies/mine.html"
        return _page(template, CannedReplyForm(formdata=None), editing=reply_id, edited=edited)
    flash(f"Reply “{title}” saved.", "success")
    return redirect(back)


@desk_bp.post("/replies/<id:reply_id>/delete")
def delete_canned_reply(reply_id: int) -> Response:
    form = CannedReplyForm()
    back = _back(form)
    if form.validate_on_submit():
        with db.transaction() as session:
            title = service.delete_reply(session, current_user, reply_id).title
        flash(f"Reply “{title}” deleted.", "success")
    return redirect(back)


@desk_bp.get("/tickets/<id:number>/replies")
def canned_picker(number: int) -> str:
    """The composer's picker: the replies matching what was typed, filled in for this ticket."""
    found = reads.filled_for_ticket(db.session(), current_user, number, request.args.get("q", ""))
    return render_template(
        "replies/_picker_options.html", replies=found, text=request.args.get("q", "")[:100]
    )


def _back(form: CannedReplyForm) -> str:
    return safe_next(form.next.data, url_for("desk.canned_replies"))


def _page(
    template: str,
    form: CannedReplyForm,
    editing: int | None = None,
    edited: CannedReplyForm | None = None,
) -> tuple[str, int]:
    session = db.session()
    everything = reads.usable_replies(session, current_user)
    failed = bool(form.errors or form.form_errors or (edited is not None and edited.errors))
    return render_template(
        template,
        form=form,
        mine=[r for r in everything if not r.shared],
        shared=[r for r in everything if r.shared],
        fields=placeholders.FIELDS,
        editing=editing if editing is not None else request.args.get("edit", type=int),
        edited=edited,
    ), 422 if failed else 200
