"""Processes killed at the worst moments (SIGKILL, no clean-up) lose nothing and send nothing twice."""

from __future__ import annotations

import json
import signal
import subprocess
import sys
from datetime import timedelta

from supportdesk.core import clock
from supportdesk.notifications import delivery
from tests.notifications.conftest import outbox_count, queue_messages


def run_dying(mode, app, tmp_path, **settings):
    url = app.config["SUPPORTDESK"].database_url
    result = subprocess.run(  # noqa: S603 - this interpreter, our own module
        [
            sys.executable,
            "-m",
            "tests.notifications.dying_process",
            mode,
            url,
            str(tmp_path),
            json.dumps(settings),
        ],
        capture_output=True,
        text=True,
        timeout=60,
    )
    assert result.returncode == -signal.SIGKILL, result.stderr


def test_a_process_killed_before_its_commit_leaves_no_message_to_send(
    relay_app, session, smtp_sink, tmp_path
):
    run_dying("writer", relay_app, tmp_path)
    assert outbox_count(session) == 0
    with relay_app.app_context():
        assert delivery.deliver_due().sent == 0
    assert smtp_sink.received == []


def test_a_worker_killed_mid_send_is_followed_by_exactly_one_delivery(
    relay_app, session, smtp_sink, tmp_path
):
    queue_messages(relay_app, session)
    config = relay_app.config["SUPPORTDESK"]
    relay = {
        name: getattr(config, name)
        for name in (
            "smtp_host",
            "smtp_port",
            "smtp_security",
            "smtp_username",
            "smtp_password",
            "smtp_ca_file",
        )
    }
    run_dying("sender", relay_app, tmp_path, **relay)
    assert smtp_sink.received == []  # the relay dropped the half-sent message
    assert outbox_count(session, "sending") == 1  # claimed by the dead worker
    with clock.frozen_at(clock.now() + delivery.LEASE + timedelta(seconds=1)), relay_app.app_context():
        assert delivery.deliver_due().sent == 1
        assert delivery.deliver_due().sent == 0
    assert len(smtp_sink.wait_for(1)) == 1
    assert outbox_count(session, "sent") == 1
