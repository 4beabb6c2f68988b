"""The ticket figures Prometheus sees: tickets created, and the active queue sizes read at scrape time."""

from __future__ import annotations

from flask import Flask
from prometheus_client import Counter
from prometheus_client.core import GaugeMetricFamily, Metric
from prometheus_client.registry import Collector
from sqlalchemy import func, select

from supportdesk.core import metrics
from supportdesk.core.db import db
from supportdesk.tickets.lifecycle import ACTIVE_STATUSES, Status
from supportdesk.tickets.models import Ticket, status_in

TICKETS_CREATED = Counter(
    "supportdesk_tickets_created_total", "Tickets raised, by the raiser's role", ["role"]
)


class QueueSizes(Collector):
    """Active tickets per status, counted when Prometheus asks (one query over the partial index of
    active tickets, so it stays cheap at a million tickets)."""

    def __init__(self, app: Flask) -> None:
        self.app = app

    def collect(self) -> list[Metric]:
        gauge = GaugeMetricFamily("supportdesk_tickets_active", "Tickets not yet resolved", labels=["status"])
        with self.app.app_context():
            query = (
                select(Ticket.status, func.count()).where(status_in(ACTIVE_STATUSES)).group_by(Ticket.status)
            )
            rows: dict[Status, int] = dict(db.session().execute(query).all())
        for status in sorted(ACTIVE_STATUSES):
            gauge.add_metric([status.value], rows.get(status, 0))
        return [gauge]


def init_app(app: Flask) -> None:
    metrics.collect_at_scrape(app, QueueSizes)
