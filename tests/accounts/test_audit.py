"""Every audited change writes its entry, in the change's own transaction, with who, from where, and the
values before and after (never a secret); a refused change writes none; entries cannot be changed."""

from __future__ import annotations

from datetime import timedelta

import pyotp
import pytest
from sqlalchemy import select, text
from sqlalchemy.exc import DBAPIError

from supportdesk.accounts import audit, recovery, service, twofactor
from supportdesk.accounts.audit import CHANGED, AuditEntry
from supportdesk.accounts.models import Role, TwoFactor
from supportdesk.core import clock
from supportdesk.core.errors import ValidationError
from supportdesk.core.origin import Origin
from supportdesk.inbound import mailboxes
from supportdesk.inbound.mailboxes import MailboxFields
from supportdesk.routing import settings as routing
from supportdesk.routing.models import AssignmentMode
from supportdesk.sla import settings as sla
from supportdesk.tickets import teams as team_tickets
from tests.factories import PASSWORD, ROUND_THE_CLOCK, make_admin, make_team, make_technician

HERE = Origin(ip="203.0.113.7", user_agent="Firefox/140", via="web")


def entries(session) -> list[AuditEntry]:  # type: ignore[no-untyped-def]
    session.expire_all()
    return list(session.scalars(select(AuditEntry).order_by(AuditEntry.id)))


def only(session, action: str) -> AuditEntry:  # type: ignore[no-untyped-def]
    found = [e for e in entries(session) if e.action == action]
    assert len(found) == 1, [e.action for e in entries(session)]
    return found[0]


def test_creating_a_user_records_who_from_where_and_what(session):
    admin = make_admin(session, email="ada@example.com")
    user = service.create_user(
        session, admin, email="New@Example.com", full_name="Nina New", password=PASSWORD,
        role=Role.TECHNICIAN, origin=HERE,
    )  # fmt: skip
    session.commit()
    entry = only(session, "user.created")
    assert (entry.actor_id, entry.actor_label) == (admin.id, "ada@example.com")
    assert (entry.ip, entry.user_agent, entry.via) == ("203.0.113.7", "Firefox/140", "web")
    assert (entry.target_type, entry.target_id, entry.target_label) == ("user", user.id, "new@example.com")
    assert entry.after == {"email": "new@example.com", "full_name": "Nina New", "role": "technician"}
    assert "password" not in str(entry.after) and entry.created_at is not None


def test_a_role_change_a_rename_and_a_deactivation_are_each_their_entry(session):
    admin = make_admin(session)
    tess = make_technician(session, full_name="Tess")
    service.update_user(session, admin, tess.id, role=Role.ADMIN, full_name="Tess T", origin=HERE)
    session.commit()
    assert only(session, "user.role_changed").before == {"role": "technician"}
    assert only(session, "user.role_changed").after == {"role": "admin"}
    assert only(session, "user.renamed").after == {"full_name": "Tess T"}
    service.update_user(session, admin, tess.id, is_active=False, origin=HERE)
    session.commit()
    assert only(session, "user.deactivated").after == {"is_active": False}
    service.update_user(session, admin, tess.id, is_active=True, origin=HERE)
    session.commit()
    assert only(session, "user.reactivated").before == {"is_active": False}


def test_saving_a_user_as_they_were_records_nothing(session):
    admin = make_admin(session)
    tess = make_technician(session)
    service.update_user(session, admin, tess.id, role=Role.TECHNICIAN, is_active=True, origin=HERE)
    session.commit()
    assert entries(session) == []


def test_a_refused_change_records_nothing(session):
    admin = make_admin(session)
    with pytest.raises(ValidationError):
        service.update_user(session, admin, admin.id, role=Role.REQUESTER, origin=HERE)
    session.rollback()
    with pytest.raises(ValidationError):
        service.create_team(session, admin, "   ", origin=HERE)
    session.rollback()
    assert entries(session) == []


def test_a_temporary_password_is_recorded_without_the_password_or_its_hash(session):
    admin = make_admin(session)
    tess = make_technician(session)
    service.set_temporary_password(session, admin, tess.id, "temporary-secret-1", origin=HERE)
    session.commit()
    entry = only(session, "user.temporary_password")
    assert entry.after == {"password": CHANGED, "must_change_password": True}
    assert "temporary-secret-1" not in str(entry.after) and tess.password_hash not in str(entry.after)


def test_the_log_refuses_a_secret_value(session):
    admin = make_admin(session)
    with pytest.raises(ValueError, match="never records a secret"):
        audit.record(
            session, admin, HERE, "user.created", target_type="user", target_id=1, target_label="x",
            after={"password_hash": "$argon2id$..."},
        )  # fmt: skip


def test_an_admin_changing_someones_email_is_recorded(clean_app, session):
    admin = make_admin(session)
    tess = make_technician(session, email="tess@example.com")
    with clean_app.test_request_context():
        recovery.request_email_change_for(session, admin, tess.id, "tess.new@example.com", origin=HERE)
    session.commit()
    entry = only(session, "user.email_change_requested")
    assert (entry.before, entry.after) == ({"email": "tess@example.com"}, {"email": "tess.new@example.com"})


def _two_factor_on(app, session, user) -> str:  # type: ignore[no-untyped-def]
    key = app.config["SUPPORTDESK"].secret_key
    twofactor.start(session, key, user, PASSWORD)
    secret = twofactor.pending_secret(session, key, user)
    twofactor.confirm(session, key, user, pyotp.TOTP(secret).at(clock.now()), origin=HERE)
    session.commit()
    return secret


def test_turning_two_factor_on_and_off_are_sign_in_method_changes(clean_app, session):
    tess = make_technician(session)
    secret = _two_factor_on(clean_app, session, tess)
    entry = only(session, "sign_in.two_factor_enabled")
    assert (entry.actor_id, entry.target_id, entry.after) == (tess.id, tess.id, {"two_factor": True})
    key = clean_app.config["SUPPORTDESK"].secret_key
    with clock.frozen_at(clock.now() + timedelta(seconds=60)):
        twofactor.disable(session, key, tess, PASSWORD, pyotp.TOTP(secret).at(clock.now()), origin=HERE)
    session.commit()
    assert only(session, "sign_in.two_factor_disabled").after == {"two_factor": False}


def test_an_admin_resetting_someones_two_factor_is_recorded(clean_app, session):
    admin = make_admin(session)
    tess = make_technician(session)
    _two_factor_on(clean_app, session, tess)
    twofactor.reset_for(session, admin, tess.id, origin=HERE)
    session.commit()
    entry = only(session, "user.two_factor_reset")
    assert (entry.actor_id, entry.target_id, entry.ip) == (admin.id, tess.id, "203.0.113.7")
    assert session.get(TwoFactor, tess.id) is None


def test_team_creation_rename_membership_and_deletion_are_recorded(session):
    admin = make_admin(session)
    amy = make_technician(session, email="amy@example.com")
    bob = make_technician(session, email="bob@example.com")
    team = service.create_team(session, admin, "Network", origin=HERE)
    session.commit()
    assert only(session, "team.created").after == {"name": "Network"}
    service.update_team(session, admin, team.id, name="Networks", member_ids=[amy.id, bob.id], origin=HERE)
    session.commit()
    assert only(session, "team.renamed").before == {"name": "Network"}
    members = only(session, "team.members_changed")
    assert (members.before, members.after) == (
        {"members": []},
        {"members": ["amy@example.com", "bob@example.com"]},
    )
    team_tickets.delete_team(session, admin, team.id, move_to_id=None, origin=HERE)
    session.commit()
    deleted = only(session, "team.deleted")
    assert (deleted.target_id, deleted.target_label) == (team.id, "Networks")
    assert deleted.before == {"name": "Networks", "members": ["amy@example.com", "bob@example.com"]}


def test_routing_settings_are_recorded(session):
    admin = make_admin(session)
    amy = make_technician(session)
    team = make_team(session, "Desk", members=[amy])
    routing.save_team_setup(
        session, admin, team.id, mode=AssignmentMode.ROUND_ROBIN, max_open=3, lead_ids=[amy.id], origin=HERE
    )
    session.commit()
    changed = [e for e in entries(session) if e.action == "team.assignment_changed"]
    assert [c.after for c in changed] == [{"mode": "round_robin", "max_open": 3}, {"lead_ids": [amy.id]}]
    rule = routing.save_rule(
        session, admin, name="VPN", position=1, team_id=team.id, keywords="vpn", origin=HERE
    )
    session.commit()
    assert only(session, "routing_rule.created").after["keywords"] == "vpn"
    routing.save_rule(
        session, admin, rule_id=rule.id, name="VPN", position=1, team_id=team.id, keywords="vpn, wifi",
        origin=HERE,
    )  # fmt: skip
    session.commit()
    updated = only(session, "routing_rule.updated")
    assert (updated.before, updated.after) == ({"keywords": "vpn"}, {"keywords": "vpn, wifi"})
    routing.delete_rule(session, admin, rule.id, origin=HERE)
    session.commit()
    assert only(session, "routing_rule.deleted").before["name"] == "VPN"


def test_service_level_settings_are_recorded(session):
    admin = make_admin(session)
    calendar = sla.save_calendar(
        session, admin, name="Office", zone="UTC", weekly=ROUND_THE_CLOCK, holidays=[], origin=HERE
    )
    session.commit()
    assert only(session, "sla_calendar.created").after["zone"] == "UTC"
    sla.save_calendar(
        session, admin, calendar_id=calendar.id, name="Office", zone="Europe/Paris", weekly=ROUND_THE_CLOCK,
        holidays=["--12-25"], origin=HERE,
    )  # fmt: skip
    session.commit()
    updated = only(session, "sla_calendar.updated")
    assert updated.before == {"zone": "UTC", "holidays": []}
    assert updated.after == {"zone": "Europe/Paris", "holidays": ["--12-25"]}
    found = sla.save_policy(
        session,
        admin,
        name="Urgent",
        position=1,
        calendar_id=calendar.id,
        resolution_minutes=240,
        origin=HERE,
    )
    session.commit()
    assert only(session, "sla_policy.created").after["resolution_minutes"] == 240
    sla.save_policy(
        session, admin, policy_id=found.id, name="Urgent", position=1, calendar_id=calendar.id,
        resolution_minutes=120, origin=HERE,
    )  # fmt: skip
    session.commit()
    assert only(session, "sla_policy.updated").after == {"resolution_minutes": 120}
    sla.delete_policy(session, admin, found.id, origin=HERE)
    sla.delete_calendar(session, admin, calendar.id, origin=HERE)
    session.commit()
    assert only(session, "sla_policy.deleted").target_label == "Urgent"
    assert only(session, "sla_calendar.deleted").target_label == "Office"


def test_mailbox_settings_are_recorded_and_the_password_only_as_changed(clean_app, session):
    admin = make_admin(session)
    fields = MailboxFields(
        name="Support", address="support@example.com", host="imap.example.com", port=993, security="tls",
        username="support", password="imap-secret-password",
    )  # fmt: skip
    with clean_app.app_context():
        box = mailboxes.create_mailbox(session, admin, fields, origin=HERE)
        session.commit()
        created = only(session, "mailbox.created")
        assert created.after["host"] == "imap.example.com" and created.after["password"] == CHANGED
        mailboxes.update_mailbox(
            session, admin, box.id, MailboxFields(**{**fields.__dict__, "password": None, "port": 9993}),
            origin=HERE,
        )  # fmt: skip
        session.commit()
        updated = only(session, "mailbox.updated")
        assert (updated.before, updated.after) == ({"port": 993}, {"port": 9993})
        mailboxes.delete_mailbox(session, admin, box.id, origin=HERE)
        session.commit()
    assert only(session, "mailbox.deleted").before["name"] == "Support"
    assert all("imap-secret-password" not in str((e.before, e.after)) for e in entries(session))
    assert all(box.password_encrypted not in str((e.before, e.after)) for e in entries(session))


def test_entries_are_append_only(session, backend):
    admin = make_admin(session)
    service.create_team(session, admin, "Network", origin=HERE)
    session.commit()
    entry = entries(session)[0]
    entry.target_label = "rewritten"
    with pytest.raises(PermissionError):
        session.flush()
    session.rollback()
    session.delete(entries(session)[0])
    with pytest.raises(PermissionError):
        session.flush()
    session.rollback()
    if backend == "postgresql":  # the database itself refuses too
        with pytest.raises(DBAPIError, match="append-only"):
            session.execute(text("UPDATE audit_entries SET target_label = 'x'"))
        session.rollback()
        with pytest.raises(DBAPIError, match="append-only"):
            session.execute(text("DELETE FROM audit_entries"))
        session.rollback()
    assert [e.target_label for e in entries(session)] == ["Network"]
