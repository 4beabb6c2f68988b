"""The ceiling the benchmark compares with: a bare Flask app under the same gunicorn settings.
`/ok` answers a constant; `/page` runs one indexed SELECT of 25 rows and renders them with Jinja."""

from __future__ import annotations

import os

from flask import Flask, render_template_string
from sqlalchemy import create_engine, text

from supportdesk.core.config import normalise_database_url

app = Flask(__name__)
engine = create_engine(normalise_database_url(os.environ["DATABASE_URL"]), pool_size=5)
PAGE = """<!doctype html><title>Tickets</title><table>{% for r in rows %}<tr><td>#{{ r.number }}</td>
<td>{{ r.subject }}</td><td>{{ r.status }}</td><td>{{ r.updated_at }}</td></tr>{% endfor %}</table>"""


@app.get("/ok")
def ok() -> str:
    return "ok"


@app.get("/page")
def page() -> str:
    with engine.connect() as connection:
        rows = connection.execute(
            text(
                "SELECT number, subject, status, updated_at FROM tickets WHERE status = 'open' "
                "ORDER BY updated_at DESC LIMIT 25"
            )
        ).all()
    return render_template_string(PAGE, rows=rows)
