"""The admins' mailbox pages: the desk's mailboxes (add, edit, check now, delete), the quarantine
(download, import again, discard) and the mail read lately. Forms are parsed in `forms.py`; each
change is one unit of work around the service."""

from __future__ import annotations

from http import HTTPStatus

from flask import flash, redirect, render_template, request, url_for
from flask_login import current_user
from flask_wtf import FlaskForm
from werkzeug.wrappers import Response

from supportdesk.accounts.admin import bp
from supportdesk.core.db import db
from supportdesk.core.errors import Conflict, ValidationError
from supportdesk.core.origin import request_origin
from supportdesk.inbound import mailboxes, reads, receiving
from supportdesk.inbound.forms import form_values, mailbox_fields
from supportdesk.inbound.models import Outcome

RECENT = 50


def _page(values: dict[str, str], error: ValidationError | None = None) -> tuple[str, int]:
    session = db.session()
    page = render_template(
        "admin/mailboxes.html",
        mailboxes=mailboxes.list_mailboxes(session, current_user),
        quarantined=reads.list_receipts(session, current_user, outcome=Outcome.QUARANTINED),
        quarantined_count=reads.quarantined_count(session, current_user),
        recent=reads.list_receipts(session, current_user, limit=RECENT),
        values=values,
        errors={e.field: e.message for e in error.errors} if error else {},
    )
    return page, HTTPStatus.UNPROCESSABLE_ENTITY if error else HTTPStatus.OK


@bp.get("/mailboxes")
def mailboxes_page() -> tuple[str, int]:
    return _page(form_values(None))


@bp.post("/mailboxes")
def create_mailbox() -> Response | tuple[str, int]:
    if not FlaskForm().validate_on_submit():
        flash("The form expired; try again.", "warning")
        return redirect(url_for("admin.mailboxes_page"))
    try:
        fields = mailbox_fields(request.form, creating=True)
        with db.transaction() as session:
            mailboxes.create_mailbox(session, current_user, fields, origin=request_origin())
    except ValidationError as error:
        flash(f"The mailbox was not saved: {error.detail}", "danger")
        return _page({k: v for k, v in request.form.items() if k != "password"}, error)
    flash("Mailbox added. It is read every minute; Check now reads it at once.", "success")
    return redirect(url_for("admin.mailboxes_page"))


def _edit_page(
    mailbox_id: int, values: dict[str, str] | None, error: ValidationError | None
) -> tuple[str, int]:
    mailbox = mailboxes.get_mailbox(db.session(), current_user, mailbox_id)
    page = render_template(
        "admin/mailbox.html",
        mailbox=mailbox,
        values=values if values is not None else form_values(mailbox),
        errors={e.field: e.message for e in error.errors} if error else {},
    )
    return page, HTTPStatus.UNPROCESSABLE_ENTITY if error else HTTPStatus.OK


@bp.get("/mailboxes/<id:mailbox_id>")
def mailbox(mailbox_id: int) -> tuple[str, int]:
    return _edit_page(mailbox_id, None, None)


@bp.post("/mailboxes/<id:mailbox_id>")
def update_mailbox(mailbox_id: int) -> Response | tuple[str, int]:
    if not FlaskForm().validate_on_submit():
        flash("The form expired; try again.", "warning")
        return redirect(url_for("admin.mailbox", mailbox_id=mailbox_id))
    try:
        fields = mailbox_fields(request.form, creating=False)
        with db.transaction() as session:
            mailboxes.update_mailbox(session, current_user, mailbox_id, fields, origin=request_origin())
    except ValidationError as error:
        flash(f"The mailbox was not saved: {error.detail}", "danger")
        return _edit_page(mailbox_id, {k: v for k, v in request.form.items() if k != "password"}, error)
    flash("Mailbox saved.", "success")
    return redirect(url_for("admin.mailboxes_page"))


@bp.post("/mailboxes/<id:mailbox_id>/delete")
def delete_mailbox(mailbox_id: int) -> Response:
    if FlaskForm().validate_on_submit():
        with db.transaction() as session:
            mailboxes.delete_mailbox(session, current_user, mailbox_id, origin=request_origin())
        flash("Mailbox deleted. Tickets it raised stay.", "success")
    return redirect(url_for("admin.mailboxes_page"))


@bp.post("/mailboxes/<id:mailbox_id>/check")
def check_mailbox(mailbox_id: int) -> Response:
    if FlaskForm().validate_on_submit():
        found = mailboxes.get_mailbox(db.session(), current_user, mailbox_id)
        from supportdesk.jobs import tasks  # the jobs know the domains, not the other way round

        tasks.poll_mailbox_now(found.id)
        flash(f"{found.name} will be read in a moment.", "success")
    return redirect(url_for("admin.mailboxes_page"))


@bp.get("/mail-receipts/<id:receipt_id>/raw")
def receipt_raw(receipt_id: int) -> Response:
    raw, filename = reads.quarantined_bytes(db.session(), current_user, receipt_id)
    response = Response(raw, mimetype="message/rfc822")
    response.headers["Content-Disposition"] = f'attachment; filename="{filename}"'
    response.headers["X-Content-Type-Options"] = "nosniff"
    return response


@bp.post("/mail-receipts/<id:receipt_id>/retry")
def retry_receipt(receipt_id: int) -> Response:
    if FlaskForm().validate_on_submit():
        try:
            with db.transaction() as session:
                receipt = receiving.retry_quarantined(session, current_user, receipt_id)
                outcome, detail = receipt.outcome, receipt.detail
        except (Conflict, ValidationError) as error:
            flash(error.detail, "warning")
        else:
            if outcome is Outcome.QUARANTINED:
                flash(f"Still quarantined: {detail}", "warning")
            else:
                flash(f"Imported: {detail or outcome.value}.", "success")
    return redirect(url_for("admin.mailboxes_page"))


@bp.post("/mail-receipts/<id:receipt_id>/discard")
def discard_receipt(receipt_id: int) -> Response:
    if FlaskForm().validate_on_submit():
        try:
            with db.transaction() as session:
                receiving.discard_quarantined(session, current_user, receipt_id)
        except Conflict as error:
            flash(error.detail, "warning")
        else:
            flash("Discarded. If the server delivers it again, it is not imported.", "success")
    return redirect(url_for("admin.mailboxes_page"))
