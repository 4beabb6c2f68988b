"""Render the nginx site template: `python deploy/render_nginx.py [--set key=value ...]`.

The defaults are the ones compose uses (deploy/compose/nginx.conf is this script's output; a test checks
that it is current). Ansible renders the same template with the VM's values."""

from __future__ import annotations

import argparse
from pathlib import Path

from jinja2 import Environment, FileSystemLoader, StrictUndefined

HERE = Path(__file__).resolve().parent
COMPOSE_VALUES: dict[str, object] = {
    "server_name": "_",
    "http_port": 80,
    "https_port": 443,
    "upstreams": ["app:8000"],
    "tls_certificate": "/etc/nginx/tls/fullchain.pem",
    "tls_certificate_key": "/etc/nginx/tls/privkey.pem",
    "static_root": "/srv/static",
    "client_max_body_size": "60m",
    "http2_directive": True,  # compose runs nginx 1.26
    "acme_webroot": None,
    "metrics_port": None,
    "metrics_allow": [],
    "metrics_instances": [],
}


def render(**values: object) -> str:
    environment = Environment(  # noqa: S701 - nginx configuration, not HTML
        loader=FileSystemLoader(HERE / "nginx"), undefined=StrictUndefined, keep_trailing_newline=True
    )
    return environment.get_template("supportdesk.conf.j2").render(**{**COMPOSE_VALUES, **values})


def main() -> None:
    parser = argparse.ArgumentParser(description=__doc__)
    parser.add_argument("--set", action="append", default=[], metavar="KEY=VALUE")
    arguments = parser.parse_args()
    values: dict[str, object] = {}
    for item in arguments.set:
        key, _, value = item.partition("=")
        values[key] = value.split(",") if key == "upstreams" else value
    print(render(**values), end="")


if __name__ == "__main__":
    main()
