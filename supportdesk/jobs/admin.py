"""The admins' jobs page: jobs that failed for good (retry or dismiss), the outbox's state and its
failed messages (send again), and the schedule."""

from __future__ import annotations

from flask import flash, redirect, render_template, url_for
from flask_login import current_user
from flask_wtf import FlaskForm
from werkzeug.wrappers import Response

from supportdesk.accounts.admin import bp
from supportdesk.core.config import current_config
from supportdesk.core.db import db
from supportdesk.core.errors import Conflict
from supportdesk.jobs import engine, service
from supportdesk.notifications import outbox

SCHEDULE = {
    "deliver_outbox_sweep": "every minute: mail whose retry has come",
    "poll_mailboxes": "every minute: new mail in the desk mailboxes made tickets and replies",
    "close_resolved_tickets": "every 5 minutes: close tickets resolved longer ago than AUTO_CLOSE_DAYS",
}


@bp.get("/jobs")
def jobs_page() -> str:
    session = db.session()
    config = current_config()
    return render_template(
        "admin/jobs.html",
        failed_jobs=service.list_failed_jobs(session, current_user),
        mail_counts=outbox.outbox_counts(session),
        failed_mail=outbox.failed_messages(session, current_user),
        schedule=[(name, SCHEDULE.get(name, "")) for name in sorted(engine.periodic_job_names())],
        backend=config.jobs_backend,
        relay=f"{config.smtp_host}:{config.smtp_port}" if config.smtp_host else None,
    )


@bp.post("/jobs/failed/<id:job_id>/retry")
def retry_failed_job(job_id: int) -> Response:
    if FlaskForm().validate_on_submit():
        try:
            with db.transaction() as session:
                failed = service.retry_failed_job(session, current_user, job_id)
        except Conflict as error:
            flash(error.detail, "warning")
        else:
            flash(f"{failed.task_name.rpartition('.')[2]} queued again.", "success")
    return redirect(url_for("admin.jobs_page"))


@bp.post("/jobs/failed/<id:job_id>/dismiss")
def dismiss_failed_job(job_id: int) -> Response:
    if FlaskForm().validate_on_submit():
        try:
            with db.transaction() as session:
                service.dismiss_failed_job(session, current_user, job_id)
        except Conflict as error:
            flash(error.detail, "warning")
        else:
            flash("Dismissed.", "success")
    return redirect(url_for("admin.jobs_page"))


@bp.post("/mail/<id:message_id>/retry")
def retry_mail(message_id: int) -> Response:
    if FlaskForm().validate_on_submit():
        try:
            with db.transaction() as session:
                outbox.retry_message(session, current_user, message_id)
        except Conflict as error:
            flash(error.detail, "warning")
        else:
            flash("The message will be sent again.", "success")
    return redirect(url_for("admin.jobs_page"))
