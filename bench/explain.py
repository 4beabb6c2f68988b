"""Query plans of the queue, search and my-tickets queries on a benchmark database: the statements are
captured from real requests, then run under EXPLAIN (ANALYZE, BUFFERS). Usage: python -m bench.explain URL"""

from __future__ import annotations

import os
import sys

from sqlalchemy import event

# title: (who, page, a word only the statement to explain contains)
QUERIES = {
    "queue: unassigned (technician)": ("tech1@bench.example", "/desk/?view=unassigned", "LIMIT"),
    "queue counts (all six views, one statement)": ("tech1@bench.example", "/desk/?view=unassigned", "sum("),
    "full-text search": ("tech1@bench.example", "/desk/?view=open&status=closed&q=zebracorn", "LIMIT"),
    "my tickets (requester)": ("user1@bench.example", "/portal/", "LIMIT"),
    "global search (every status, words and requesters)": (
        "tech1@bench.example",
        "/desk/search?q=zebracorn",
        "LIMIT",
    ),
}


def main(url: str) -> None:
    os.environ.update(
        DATABASE_URL=url,
        SUPPORTDESK_ENV="test",
        SECRET_KEY="x" * 40,
        LOGIN_LIMIT_PER_ACCOUNT="1000 per minute",
        LOGIN_LIMIT_PER_ADDRESS="1000 per minute",
    )
    from supportdesk.accounts.service import find_user_by_email
    from supportdesk.app import create_app
    from supportdesk.core.db import db

    app = create_app()
    engine = app.extensions["supportdesk.engine"]
    from supportdesk.core import caching

    for title, (email, path, marker) in QUERIES.items():
        caching.forget_all()
        captured: list[tuple[str, object]] = []

        def listener(_conn, _cursor, statement, params, *_rest, captured=captured):  # type: ignore[no-untyped-def]
            captured.append((statement, params))

        with app.app_context():
            user = find_user_by_email(db.session(), email)
            session_id = user.get_id()  # type: ignore[union-attr]
        client = app.test_client()
        with client.session_transaction() as cookie:
            cookie["_user_id"] = session_id
            cookie["_fresh"] = True
        event.listen(engine, "before_cursor_execute", listener)
        client.get(path)
        event.remove(engine, "before_cursor_execute", listener)
        statement, params = next((s, p) for s, p in captured if "FROM tickets" in s and marker in s)
        raw = engine.raw_connection()
        try:
            cursor = raw.cursor()
            cursor.execute("EXPLAIN (ANALYZE, BUFFERS, COSTS OFF) " + statement, params)
            plan = "\n".join(row[0] for row in cursor.fetchall())
        finally:
            raw.close()
        print(f"### {title}\n\n`GET {path}`\n\n```\n{plan}\n```\n")


if __name__ == "__main__":
    main(sys.argv[1])
