"""A poller that dies (SIGKILL, no clean-up) at a chosen moment of reading a mailbox, for the crash
tests:

- `mid-fetch`: while the second message is being fetched;
- `before-commit`: inside the unit of work that imported the first message, before its commit;
- `after-commit`: once the messages' tickets are committed, before they are moved.

    python -m tests.inbound.dying_poller MODE MAILBOX_ID DATABASE_URL INSTANCE_DIR SETTINGS_JSON
"""

from __future__ import annotations

import json
import os
import signal
import sys
from pathlib import Path
from typing import Any

from supportdesk.app import create_app
from supportdesk.inbound import imap, polling, receiving
from tests.conftest import make_config


def die() -> None:
    os.kill(os.getpid(), signal.SIGKILL)


def main(mode: str, mailbox_id: int, database_url: str, instance: str, settings: dict[str, Any]) -> None:
    app = create_app(make_config(database_url, Path(instance), **settings))
    fetch, receive, done = imap.ImapFolder.fetch, receiving.receive, imap.ImapFolder.done
    fetched: list[int] = []

    def dying_fetch(self: imap.ImapFolder, uid: int) -> bytes | None:
        fetched.append(uid)
        if len(fetched) == 2:
            die()
        return fetch(self, uid)

    def dying_receive(*args: Any, **kwargs: Any) -> receiving.Received:
        received = receive(*args, **kwargs)
        die()  # flushed, not committed
        return received

    def dying_done(self: imap.ImapFolder, uids: list[int]) -> None:
        die()  # committed, not moved
        done(self, uids)

    if mode == "mid-fetch":
        imap.ImapFolder.fetch = dying_fetch  # type: ignore[method-assign]
    elif mode == "before-commit":
        receiving.receive = dying_receive  # type: ignore[assignment]
    elif mode == "after-commit":
        imap.ImapFolder.done = dying_done  # type: ignore[method-assign]
    with app.app_context():
        polling.poll_mailbox(mailbox_id)
    raise SystemExit("the process was meant to die")


if __name__ == "__main__":
    main(sys.argv[1], int(sys.argv[2]), sys.argv[3], sys.argv[4], json.loads(sys.argv[5]))
