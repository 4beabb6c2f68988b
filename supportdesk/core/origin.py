"""Where a change came from, for the admin audit log: the client's address as Flask sees it (behind
ProxyFix, the real client's) and its user agent. Faces build it from the request and hand it to the
services that record the change; services never reach for the request themselves."""

from __future__ import annotations

from dataclasses import dataclass

from flask import request

USER_AGENT_MAX = 255


@dataclass(frozen=True, slots=True)
class Origin:
    ip: str | None
    user_agent: str | None
    via: str  # "web", "api", "cli", "job"


# A change without a request behind it (the CLI, a background job, the demo data).
SYSTEM = Origin(ip=None, user_agent=None, via="system")


def request_origin(via: str = "web") -> Origin:
    """The current request's origin (call it in a face, inside a request)."""
    agent = request.headers.get("User-Agent", "")
    return Origin(ip=request.remote_addr, user_agent=agent[:USER_AGENT_MAX] or None, via=via)
