"""Prometheus metrics: requests and latency per endpoint, and whatever the domains register to be
read at scrape time (queue sizes). Under gunicorn every worker writes to PROMETHEUS_MULTIPROC_DIR and a
scrape adds them up (see deploy/gunicorn.conf.py); a single process uses the default registry."""

from __future__ import annotations

import os
import time
from collections.abc import Callable

from flask import Flask, Response, g, request
from prometheus_client import (
    CONTENT_TYPE_LATEST,
    CollectorRegistry,
    Counter,
    Histogram,
    generate_latest,
    multiprocess,
)
from prometheus_client.registry import REGISTRY, Collector

REQUESTS = Counter(
    "supportdesk_http_requests_total", "HTTP requests answered", ["method", "endpoint", "status"]
)
LATENCY = Histogram(
    "supportdesk_http_request_duration_seconds",
    "Time to answer an HTTP request",
    ["method", "endpoint"],
    buckets=(0.005, 0.01, 0.025, 0.05, 0.1, 0.25, 0.5, 1.0, 2.5, 5.0),
)


# Every label value comes from a closed set: a client inventing HTTP methods would otherwise add a series
# per method to every worker, never freed. (Endpoints are the URL map's; status codes are three digits.)
KNOWN_METHODS = frozenset({"GET", "HEAD", "POST", "PUT", "PATCH", "DELETE", "OPTIONS"})


def scrape(app: Flask) -> Response:
    if os.environ.get("PROMETHEUS_MULTIPROC_DIR"):
        registry = CollectorRegistry()
        multiprocess.MultiProcessCollector(registry)  # type: ignore[no-untyped-call]
    else:
        registry = REGISTRY
    scrape_registry = CollectorRegistry()
    for make_collector in app.extensions.get(SCRAPE_COLLECTORS, []):
        scrape_registry.register(make_collector(app))
    body = generate_latest(registry) + generate_latest(scrape_registry)
    return Response(body, mimetype=CONTENT_TYPE_LATEST)


SCRAPE_COLLECTORS = "supportdesk.scrape_collectors"


def collect_at_scrape(app: Flask, make_collector: Callable[[Flask], Collector]) -> None:
    """Have a domain's figures (queue sizes, say) read each time Prometheus scrapes."""
    app.extensions.setdefault(SCRAPE_COLLECTORS, []).append(make_collector)


def init_app(app: Flask) -> None:
    @app.before_request
    def _start() -> None:
        g.metrics_started = time.perf_counter()

    @app.after_request
    def _count(response: Response) -> Response:
        # The endpoint name, never the raw path: ids in paths would make a series per ticket.
        endpoint = request.endpoint or "unmatched"
        method = request.method if request.method in KNOWN_METHODS else "other"
        REQUESTS.labels(method, endpoint, str(response.status_code)).inc()
        started = g.get("metrics_started")
        if started is not None:
            LATENCY.labels(method, endpoint).observe(time.perf_counter() - started)
        return response
