"""Shared fixtures for the attack suite: a small desk with two requesters, and a database snapshot to
prove that a refused request changed nothing."""

from __future__ import annotations

import hashlib
import io

import pytest
from sqlalchemy import select

from supportdesk.accounts import tokens
from supportdesk.attachments.models import Attachment
from supportdesk.attachments.web import file_store
from supportdesk.core.db import Base
from supportdesk.tickets import service
from tests.factories import make_admin, make_category, make_requester, make_team, make_technician

SECRET_SUBJECT = "Bob's confidential salary question"


@pytest.fixture
def desk(clean_app, session):
    team = make_team(session, "Service Desk")
    category = make_category(session, "Accounts", team=team)
    alice = make_requester(session, email="alice@example.com", full_name="Alice Attacker")
    bob = make_requester(session, email="bob@example.com", full_name="Bob Victim")
    tech = make_technician(session, email="tech@example.com", full_name="Tess Tech", teams=[team])
    admin = make_admin(session, email="admin@example.com", full_name="Ada Admin")
    with clean_app.test_request_context():
        store = file_store()
    from supportdesk.attachments.service import Upload

    ticket = service.create_ticket(
        session,
        bob,
        subject=SECRET_SUBJECT,
        description="Please keep this private",
        uploads=[Upload("payslip.pdf", io.BytesIO(b"%PDF-1.4 secret"))],
        files=store,
    )
    session.commit()
    service.add_comment(session, tech, ticket.number, "Internal: HR is involved", internal=True)
    session.commit()
    bob_token, _ = tokens.issue_token_for(session, bob, "bob's script")
    session.commit()
    attachment_id = session.scalars(select(Attachment.id)).one()
    return {
        "alice": alice,
        "bob": bob,
        "tech": tech,
        "admin": admin,
        "team": team,
        "category": category,
        "number": ticket.number,
        "attachment_id": attachment_id,
        "bob_token_id": bob_token.id,
    }


# Sign-in bookkeeping, written by authentication itself rather than by the request's own action.
BOOKKEEPING = {("api_tokens", "last_used_at"), ("users", "last_login_at")}


def snapshot(session) -> str:
    """A digest of every row of every table: equal before and after means nothing changed."""
    session.expire_all()
    digest = hashlib.sha256()
    with session.get_bind().connect() as connection:
        for table in Base.metadata.sorted_tables:
            columns = [c for c in table.columns if (table.name, c.name) not in BOOKKEEPING]
            rows = connection.execute(select(*columns).order_by(*table.primary_key.columns)).all()
            digest.update(f"{table.name}:{rows!r}".encode())
    return digest.hexdigest()
