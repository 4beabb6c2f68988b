"""Prometheus metrics: requests and latency per endpoint, tickets created, and queue sizes read at
scrape time. Under gunicorn every worker writes to PROMETHEUS_MULTIPROC_DIR and a scrape adds them up
(see deploy/gunicorn.conf.py); a single process uses the default registry."""

from __future__ import annotations

import os
import time

from flask import Flask, Response, g, request
from prometheus_client import (
    CONTENT_TYPE_LATEST,
    CollectorRegistry,
    Counter,
    Histogram,
    generate_latest,
    multiprocess,
)
from prometheus_client.core import GaugeMetricFamily, Metric
from prometheus_client.registry import REGISTRY, Collector
from sqlalchemy import func, select

from supportdesk.db import db
from supportdesk.tickets.lifecycle import ACTIVE_STATUSES, Status
from supportdesk.tickets.models import Ticket, status_in

REQUESTS = Counter(
    "supportdesk_http_requests_total", "HTTP requests answered", ["method", "endpoint", "status"]
)
LATENCY = Histogram(
    "supportdesk_http_request_duration_seconds",
    "Time to answer an HTTP request",
    ["method", "endpoint"],
    buckets=(0.005, 0.01, 0.025, 0.05, 0.1, 0.25, 0.5, 1.0, 2.5, 5.0),
)
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


def scrape(app: Flask) -> Response:
    if os.environ.get("PROMETHEUS_MULTIPROC_DIR"):
        registry = CollectorRegistry()
        multiprocess.MultiProcessCollector(registry)  # type: ignore[no-untyped-call]
    else:
        registry = REGISTRY
    scrape_registry = CollectorRegistry()
    scrape_registry.register(QueueSizes(app))
    body = generate_latest(registry) + generate_latest(scrape_registry)
    return Response(body, mimetype=CONTENT_TYPE_LATEST)


def init_app(app: Flask) -> None:
    @app.before_request
    def _start() -> None:
        g.metrics_started = time.perf_counter()

    @app.after_request
    def _count(response: Response) -> Response:
        # The endpoint name, never the raw path: ids in paths would make a series per ticket.
        endpoint = request.endpoint or "unmatched"
        REQUESTS.labels(request.method, endpoint, str(response.status_code)).inc()
        started = g.get("metrics_started")
        if started is not None:
            LATENCY.labels(request.method, endpoint).observe(time.perf_counter() - started)
        return response
