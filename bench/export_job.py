"""`python -m bench.export_job <email>`: the export of every ticket as the desk makes it for a long list,
a background job (supportdesk/reports/background.py) run in a process of its own, as a job worker runs
it; timed from its start to the file's last row, with the process's RSS sampled every 100 ms. Prints
one JSON line: rows, seconds, worker_rss_mb_max. Leaves nothing behind (the file, its row and notice)."""

from __future__ import annotations

import json
import re
import secrets
import sys
import threading
import time
from pathlib import Path


def rss_mb() -> float:
    status = Path("/proc/self/status").read_text()
    return int(re.search(r"VmRSS:\s+(\d+)", status).group(1)) / 1024  # type: ignore[union-attr]


def main(email: str) -> int:
    from sqlalchemy import delete, select

    from supportdesk.accounts.models import User
    from supportdesk.app import create_app
    from supportdesk.core.config import current_config
    from supportdesk.core.db import db
    from supportdesk.notifications.models import Notification
    from supportdesk.reports import background
    from supportdesk.reports.models import TicketExport
    from supportdesk.tickets.lifecycle import Status

    app = create_app()
    with app.app_context():
        with db.transaction() as session:
            user = session.scalars(select(User).where(User.email == email)).one()
            export = TicketExport(
                user_id=user.id,
                # Every status: an explicit status filter replaces the view's, so this is every ticket.
                query={"view": ["open"], "status": [status.value for status in Status]},
                file_name=f"bench-{secrets.token_hex(8)}.csv",
            )
            session.add(export)
            session.flush()
            export_id = export.id
        largest = [rss_mb()]
        running = threading.Event()
        running.set()

        def sample() -> None:
            while running.is_set():
                largest.append(rss_mb())
                time.sleep(0.1)

        sampler = threading.Thread(target=sample, daemon=True)
        sampler.start()
        started = time.monotonic()
        try:
            rows = background.run_export(export_id)
        finally:
            seconds = time.monotonic() - started
            running.clear()
            sampler.join()
            with db.transaction() as session:
                export = session.get(TicketExport, export_id)
                if export is not None:
                    background.file_path(current_config(), export).unlink(missing_ok=True)
                    session.delete(export)
                session.execute(delete(Notification).where(Notification.export_id == export_id))
    print(
        json.dumps({"rows": rows, "seconds": round(seconds, 2), "worker_rss_mb_max": round(max(largest), 1)})
    )
    return 0


if __name__ == "__main__":
    sys.exit(main(sys.argv[1]))
