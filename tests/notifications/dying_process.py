"""A process that dies (SIGKILL, no clean-up of any kind) at a chosen moment, for the crash tests:

- `writer`: inside a unit of work that has written a message to the outbox, before the commit;
- `sender`: while delivering, after the relay accepted the envelope and before the message's data is
  complete (the relay then drops the half-sent message, as SMTP requires).

    python -m tests.notifications.dying_process MODE DATABASE_URL INSTANCE_DIR SETTINGS_JSON
"""

from __future__ import annotations

import json
import os
import signal
import smtplib
import sys
from pathlib import Path
from typing import Any

from supportdesk.app import create_app
from supportdesk.core.db import db
from supportdesk.mail.addresses import Address
from supportdesk.notifications import delivery, outbox
from tests.conftest import make_config


def die() -> None:
    os.kill(os.getpid(), signal.SIGKILL)


def main(mode: str, database_url: str, instance: str, settings: dict[str, Any]) -> None:
    app = create_app(make_config(database_url, Path(instance), **settings))
    with app.app_context():
        if mode == "writer":
            with db.transaction() as session:
                outbox.queue_message(
                    session,
                    kind="test",
                    to=[Address("alice@example.com")],
                    subject="Hi",
                    text="Body",
                    html=None,
                )
                session.flush()
                die()
        elif mode == "sender":

            def data_then_die(self: smtplib.SMTP, msg: Any) -> Any:
                self.putcmd("data")
                self.getreply()
                self.send(b"Subject: half a message\r\n")  # and no end of data: the relay must drop it
                die()

            smtplib.SMTP.data = data_then_die  # type: ignore[method-assign]
            delivery.deliver_due()
    raise SystemExit("the process was meant to die")


if __name__ == "__main__":
    main(sys.argv[1], sys.argv[2], sys.argv[3], json.loads(sys.argv[4]))
