"""`/metrics`: for Prometheus only. It answers a bearer token (METRICS_TOKEN) or, without one, a
scraper on the same machine; nginx does not pass it on at all (deploy/nginx/supportdesk.conf.j2)."""

from __future__ import annotations

import hmac
import ipaddress

from flask import Blueprint, Response, current_app, request

from supportdesk.core import metrics
from supportdesk.core.errors import NotFound

bp = Blueprint("monitoring", __name__)


@bp.get("/metrics")
def scrape() -> Response:
    if not _may_scrape():
        raise NotFound("There is no such page.")
    return metrics.scrape(current_app._get_current_object())  # type: ignore[attr-defined]


def _may_scrape() -> bool:
    token: str | None = current_app.config["SUPPORTDESK"].metrics_token
    if token:
        given = request.headers.get("Authorization", "").removeprefix("Bearer ")
        return hmac.compare_digest(given.encode(), token.encode())
    if request.headers.get("X-Forwarded-For"):
        return False  # came through a proxy, so from outside this machine
    try:
        return ipaddress.ip_address(request.remote_addr or "").is_loopback
    except ValueError:
        return False
