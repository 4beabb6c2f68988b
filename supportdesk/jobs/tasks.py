"""The desk's jobs and its schedule. Importing this module registers them with the engine (the app
does at start, so the web processes can enqueue and the workers can run them)."""

from __future__ import annotations

from datetime import timedelta

from huey import crontab

from supportdesk.accounts import directory_sync
from supportdesk.core.clock import now
from supportdesk.core.config import current_config
from supportdesk.core.db import db
from supportdesk.core.origin import Origin
from supportdesk.inbound import polling
from supportdesk.jobs.engine import job, periodic_job
from supportdesk.notifications import delivery
from supportdesk.reports import background
from supportdesk.sla import escalation, recompute
from supportdesk.sla import service as service_levels
from supportdesk.tickets import service as tickets

CLOSE_BATCH = 500


@job(retries=5, retry_delay=30, retry_backoff=2)
def deliver_outbox() -> int:
    """Send what is due in the outbox; asked for after every commit that wrote to it."""
    return delivery.deliver_due().sent


@periodic_job(crontab(minute="*"))
def deliver_outbox_sweep() -> int:
    """Every minute: messages whose retry has come, and those a dead worker had claimed."""
    return delivery.deliver_due().sent


@periodic_job(crontab(minute="*"))
def poll_mailboxes() -> int:
    """Every minute: each active desk mailbox read, its new mail made tickets and comments."""
    return sum(result.imported for result in polling.poll_all().values())


@job(retries=0)
def poll_mailbox_now(mailbox_id: int) -> int:
    """An admin's "Check now" (a failure shows on the mailbox; the minute's poll is the retry)."""
    return polling.poll_mailbox(mailbox_id).imported


@job(retries=3, retry_delay=30, retry_backoff=2)
def export_ticket_list(export_id: int) -> int:
    """A ticket list too long to stream in a request, written to a file for the one who asked."""
    return background.run_export(export_id)


@periodic_job(crontab(minute="17", hour="*"))
def purge_old_exports() -> int:
    """Every hour: exported lists older than a week, files and rows."""
    return background.purge_old_exports()


@periodic_job(crontab(minute="*/5"))
def close_resolved_tickets() -> int:
    """Close tickets resolved longer ago than AUTO_CLOSE_DAYS, a batch per unit of work."""
    return close_resolved(current_config().auto_close_days)


def close_resolved(auto_close_days: int) -> int:
    """How many tickets were closed (in an app context)."""
    closed = 0
    while True:
        with db.transaction() as session:
            done = tickets.close_resolved_tickets(
                session, now(), timedelta(days=auto_close_days), CLOSE_BATCH
            )
        closed += done
        if done < CLOSE_BATCH:
            return closed


SLA_BATCH = 500


@periodic_job(crontab(minute="*"))
def recompute_due_times() -> int:
    """After admins changed calendars or policies: the open tickets' due times again, a batch per unit
    of work (an interrupted pass resumes at the next run)."""
    recomputed = 0
    while True:
        with db.transaction() as session:
            done = recompute.recompute_batch(session, now(), SLA_BATCH)
        if done is None:
            return recomputed
        recomputed += done


@periodic_job(crontab(minute="*"))
def mark_breaches() -> int:
    """Flag the tickets whose service-level target time alone has passed, a batch per unit of work."""
    marked = 0
    while True:
        with db.transaction() as session:
            done = service_levels.mark_breaches(session, now(), SLA_BATCH)
        marked += done
        if done < SLA_BATCH:
            return marked


@periodic_job(crontab(minute="*"))
def escalate_service_levels() -> int:
    """Warn before a target falls due and escalate a breach, once each per target (a batch of
    candidates per unit of work; a ticket being changed is left for the next minute)."""
    moment = now()
    raised, position = 0, None
    while True:
        with db.transaction() as session:
            done, position = escalation.escalate_batch(session, moment, position, escalation.BATCH)
        raised += done
        if position is None:
            return raised


@periodic_job(crontab(minute="*/15"))
def sync_directory() -> int:
    """Every 15 minutes: accounts follow the company directory (created, updated, deactivated), in one
    unit of work; nothing to do without LDAP_URL. How many accounts changed."""
    report = directory_sync.run_sync(Origin(ip=None, user_agent=None, via="job"))
    return report.changed if report is not None else 0
