"""Mail server fixtures (a plugin of the root conftest, so every test folder can use them): one Dovecot
and one SMTP sink per test session, a fresh mailbox and an emptied sink per test. Skipped with the
reason when a tool is missing; under CI=true that is a failure."""

from __future__ import annotations

import dataclasses
import os
import shutil
from collections.abc import Iterator

import pytest
from flask import Flask

from tests.mail.servers import Dovecot, Mailbox, SmtpSink, missing_tools, session_folder


def _require_tools() -> None:
    reason = missing_tools()
    if reason:
        if os.environ.get("CI") == "true":
            pytest.fail(f"mail server tests cannot run under CI=true: {reason}")
        pytest.skip(reason)


@pytest.fixture(scope="session")
def dovecot() -> Iterator[Dovecot]:
    _require_tools()
    root = session_folder()
    server = Dovecot(root)
    server.start()
    try:
        yield server
    finally:
        server.stop()
        shutil.rmtree(root, ignore_errors=True)


@pytest.fixture
def mailbox(dovecot: Dovecot) -> Mailbox:
    """An empty IMAP account of its own."""
    return dovecot.add_mailbox()


@pytest.fixture(scope="session")
def smtp_server(dovecot: Dovecot) -> Iterator[SmtpSink]:
    sink = SmtpSink(dovecot.certificate)
    sink.start()
    try:
        yield sink
    finally:
        sink.stop()


@pytest.fixture
def smtp_sink(smtp_server: SmtpSink) -> SmtpSink:
    """The session's SMTP relay, emptied, accepting, and up."""
    smtp_server.reset()
    return smtp_server


@pytest.fixture
def relay_app(clean_app: Flask, smtp_sink: SmtpSink) -> Iterator[Flask]:
    """The app sending through the suite's relay, as production sends through its smarthost."""
    settings = clean_app.config["SUPPORTDESK"]
    clean_app.config["SUPPORTDESK"] = dataclasses.replace(
        settings,
        smtp_host="localhost",
        smtp_port=smtp_sink.port,
        smtp_security="starttls",
        smtp_username=smtp_sink.user,
        smtp_password=smtp_sink.password,
        smtp_ca_file=str(smtp_sink.certificate.cert),
        smtp_timeout_seconds=5,
    )
    yield clean_app
    clean_app.config["SUPPORTDESK"] = settings
