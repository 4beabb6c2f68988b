"""Importing people from CSV (the service, both databases): the preview says per line what would happen
and what is wrong; applying is whole or nothing, re-checked against the desk as it is, refused when the
plan changed since the preview; new people are invited by a link that works once and expires."""

from __future__ import annotations

import re
import time
from datetime import timedelta

import pytest
from sqlalchemy import event, func, select

from supportdesk.accounts import importing, invitations, service
from supportdesk.accounts.audit import AuditEntry
from supportdesk.accounts.models import Role, User
from supportdesk.accounts.recovery import LinkNotValid
from supportdesk.core import clock
from supportdesk.core.errors import Conflict, NotFound, ValidationError
from supportdesk.core.origin import Origin
from supportdesk.notifications.models import OutboxMessage
from tests.factories import make_admin, make_requester, make_team, make_technician

HERE = Origin("203.0.113.5", "Firefox", "web")
LINK = re.compile(r"http://127\.0\.0\.1:5000/invitation/([A-Za-z0-9._-]+)")

BAD_FILE = (
    "email,full_name,role,teams\n"
    "new.person@example.com,New Person,,\n"  # 2: fine
    "not-an-address,Bad Email,,\n"  # 3
    "new.person@EXAMPLE.com,Twice,,\n"  # 4: the same as line 2
    "erin@example.com,Erin Again,,\n"  # 5: has an account
    "rob@example.com,Rob,overlord,\n"  # 6: no such role
    "tina@example.com,Tina,technician,Network|Nowhere\n"  # 7: no such team
    "ray@example.com,Ray,requester,Network\n"  # 8: a requester in a team
)


def users(session) -> int:  # type: ignore[no-untyped-def]
    session.expire_all()
    return session.scalar(select(func.count()).select_from(User)) or 0


@pytest.fixture
def desk(session):  # type: ignore[no-untyped-def]
    admin = make_admin(session, email="ada@example.com", full_name="Ada Admin")
    make_requester(session, email="erin@example.com", full_name="Erin Employee")
    network = make_team(session, "Network")
    return {"admin": admin, "network": network}


def stage(app, session, admin, text: str, **options):  # type: ignore[no-untyped-def]
    with app.test_request_context():
        plan = importing.stage(
            session, admin, "people.csv", text.encode(), update_existing=options.get("update", False),
            invite=options.get("invite", True),
        )  # fmt: skip
        session.commit()
    return plan


def apply(app, session, admin, plan):  # type: ignore[no-untyped-def]
    with app.test_request_context():
        try:
            done = importing.apply(session, admin, plan.import_id, plan.digest, origin=HERE)
        except Exception:
            session.rollback()
            raise
        session.commit()
    return done


def test_the_preview_says_what_is_wrong_with_each_line(clean_app, session, desk):
    plan = stage(clean_app, session, desk["admin"], BAD_FILE)
    by_line = {line.line: line for line in plan.lines}
    assert by_line[2].action == "create"
    assert by_line[3].errors == ("email is not a valid email address",)
    assert by_line[4].errors == ("the same email as line 2",)
    assert "already has an account" in by_line[5].errors[0]
    assert "role “overlord” is not one of requester, technician, admin" in by_line[6].errors
    assert by_line[7].errors == ("no team is called “Nowhere”",)
    assert by_line[8].errors == ("only technicians and admins can join a team",)
    assert plan.count("error") == 6


def test_a_file_with_problems_imports_nothing(clean_app, session, desk):
    before = users(session)
    plan = stage(clean_app, session, desk["admin"], BAD_FILE)
    with pytest.raises(ValidationError, match="6 line"):
        apply(clean_app, session, desk["admin"], plan)
    assert users(session) == before
    assert session.scalar(select(func.count()).select_from(OutboxMessage)) == 0


def test_a_good_file_creates_everyone_invites_them_and_records_it(clean_app, session, desk):
    plan = stage(
        clean_app, session, desk["admin"],
        "email,full_name,role,teams\n"
        "New.Person@example.com,New Person,,\n"
        "tina@example.com,Tina,Technician,network\n",
    )  # fmt: skip
    done = apply(clean_app, session, desk["admin"], plan)
    assert (done.created, done.updated, done.invited) == (2, 0, 2)
    tina = service.find_user_by_email(session, "tina@example.com")
    assert tina.role is Role.TECHNICIAN and [t.name for t in tina.teams] == ["Network"]
    assert service.authenticate(session, "tina@example.com", tina.password_hash) is None  # no password yet
    mails = session.scalars(select(OutboxMessage).where(OutboxMessage.kind == "invitation")).all()
    assert sorted(m.recipients for m in mails) == ["new.person@example.com", "tina@example.com"]
    actions = [e.action for e in session.scalars(select(AuditEntry).order_by(AuditEntry.id))]
    assert actions == ["user.created", "user.created", "user.imported"]
    summary = session.scalars(select(AuditEntry).where(AuditEntry.action == "user.imported")).one()
    assert summary.after == {"created": 2, "updated": 0, "invited": 2} and summary.ip == "203.0.113.5"
    with pytest.raises(Conflict, match="already imported"):
        apply(clean_app, session, desk["admin"], plan)


def test_existing_people_are_updated_when_asked(clean_app, session, desk):
    sam = make_technician(session, email="sam@example.com", full_name="Sam")
    plan = stage(
        clean_app, session, desk["admin"],
        "email,full_name,role,teams\n"
        "sam@example.com,Sam Okafor,technician,Network\n"
        "erin@example.com,Erin Employee,,\n",
        update=True,
    )  # fmt: skip
    assert [(line.action, line.changes) for line in plan.lines] == [
        ("update", ("name Sam → Sam Okafor", "teams none → Network")),
        ("unchanged", ()),
    ]
    assert apply(clean_app, session, desk["admin"], plan).updated == 1
    session.expire_all()
    sam = session.get(User, sam.id)
    assert sam.full_name == "Sam Okafor" and [t.name for t in sam.teams] == ["Network"]
    assert {e.action for e in session.scalars(select(AuditEntry))} == {
        "user.renamed", "user.teams_changed", "user.imported",
    }  # fmt: skip
    assert session.scalar(select(func.count()).select_from(OutboxMessage)) == 0  # nobody new, nobody invited


def test_a_plan_that_changed_since_the_preview_is_refused(clean_app, session, desk):
    plan = stage(
        clean_app, session, desk["admin"], "email,full_name\nlate@example.com,Late\nother@example.com,O\n"
    )
    make_requester(session, email="late@example.com")  # someone else added them meanwhile
    before = users(session)
    with pytest.raises(Conflict, match="changed since the preview"):
        apply(clean_app, session, desk["admin"], plan)
    assert users(session) == before
    forged = importing.Plan(plan.import_id, plan.filename, plan.lines, "0" * 64, False, True)
    with pytest.raises(Conflict):
        apply(clean_app, session, desk["admin"], forged)


def test_a_staged_import_is_its_admins_only(clean_app, session, desk):
    plan = stage(clean_app, session, desk["admin"], "email,full_name\nx@example.com,X\n")
    other = make_admin(session)
    with pytest.raises(NotFound):
        importing.preview(session, other, plan.import_id)


def test_the_invitation_link_sets_a_password_once_and_expires(clean_app, session, desk):
    plan = stage(
        clean_app, session, desk["admin"], "email,full_name\nnina@example.com,Nina\nolaf@example.com,Olaf\n"
    )
    apply(clean_app, session, desk["admin"], plan)
    tokens = {
        m.recipients: LINK.search(m.raw.replace("=\r\n", "").replace("=3D", "=")).group(1)
        for m in session.scalars(select(OutboxMessage))
    }
    with clean_app.test_request_context():
        invitations.accept(session, tokens["nina@example.com"], "nina's own password")
        session.commit()
        assert service.authenticate(session, "nina@example.com", "nina's own password") is not None
        with pytest.raises(LinkNotValid):
            invitations.accept(session, tokens["nina@example.com"], "another password")
        session.rollback()
        later = clock.now() + timedelta(days=invitations.INVITE_DAYS, minutes=1)
        with clock.frozen_at(later), pytest.raises(LinkNotValid):
            invitations.user_for_invitation(session, tokens["olaf@example.com"])
        assert (
            invitations.user_for_invitation(session, tokens["olaf@example.com"]).email == "olaf@example.com"
        )


def test_a_thousand_people_in_one_go(clean_app, session, desk):
    rows = "".join(f"person{n:04}@example.com,Person {n:04},,\n" for n in range(1000))
    plan = stage(clean_app, session, desk["admin"], "email,full_name,role,teams\n" + rows)
    assert plan.count("create") == 1000
    statements = []
    engine = clean_app.extensions["supportdesk.engine"]
    listener = lambda *args: statements.append(1)  # noqa: E731
    event.listen(engine, "before_cursor_execute", listener)
    started = time.monotonic()
    try:
        done = apply(clean_app, session, desk["admin"], plan)
    finally:
        event.remove(engine, "before_cursor_execute", listener)
    assert done.created == 1000 and users(session) == 1002
    assert time.monotonic() - started < 60
    # At most five statements a person (the account, its team links, its audit entry, its invitation
    # mail; SQLite inserts the accounts one by one): no argon2 hash, no look-up per line.
    assert len(statements) <= 5 * 1000 + 50
