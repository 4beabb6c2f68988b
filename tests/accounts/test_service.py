import pytest
from sqlalchemy import select

from supportdesk.accounts import service
from supportdesk.accounts.models import Role, User
from supportdesk.accounts.passwords import hash_password, needs_rehash, verify_password
from supportdesk.core.db import unit_of_work
from supportdesk.core.errors import NotFound, PermissionDenied, ValidationError
from supportdesk.tickets import categories
from tests.factories import PASSWORD, make_admin, make_requester, make_team, make_technician


def test_register_normalises_email_and_refuses_duplicates_whatever_the_case(session):
    user = service.register_user(
        session, email="  Jane.Doe@Example.COM ", full_name=" Jane Doe ", password="long enough"
    )
    session.commit()
    assert (user.email, user.full_name, user.role) == ("jane.doe@example.com", "Jane Doe", Role.REQUESTER)
    assert user.password_hash.startswith("$argon2id$")
    with pytest.raises(ValidationError, match="already exists"), unit_of_work(session):
        service.register_user(
            session, email="JANE.DOE@example.com", full_name="Other", password="long enough"
        )


def test_register_validates_fields(session):
    with pytest.raises(ValidationError) as raised, unit_of_work(session):
        service.register_user(session, email="not-an-email", full_name=" ", password="short")
    assert {e.field for e in raised.value.errors} == {"email", "full_name", "password"}
    with pytest.raises(ValidationError, match="full_name"), unit_of_work(session):
        service.register_user(session, email="a@b.co", full_name="x" * 121, password="long enough")


def test_authenticate(session):
    user = make_requester(session, email="sam@example.com")
    assert service.authenticate(session, "SAM@example.com", PASSWORD).id == user.id
    assert user.last_login_at is None, "checking a password is not yet a sign-in"
    service.record_sign_in(session, user)
    assert user.last_login_at is not None
    assert service.authenticate(session, "sam@example.com", "wrong password") is None
    assert service.authenticate(session, "nobody@example.com", PASSWORD) is None
    user.is_active = False
    session.commit()
    assert service.authenticate(session, "sam@example.com", PASSWORD) is None


def test_outdated_hashes_are_upgraded_at_sign_in(session):
    from argon2 import PasswordHasher

    user = make_requester(session)
    user.password_hash = PasswordHasher(time_cost=1, memory_cost=8192).hash(PASSWORD)
    session.commit()
    assert needs_rehash(user.password_hash)
    service.authenticate(session, user.email, PASSWORD)
    session.commit()
    assert not needs_rehash(user.password_hash)


def test_passwords_verify_only_against_the_right_hash():
    stored = hash_password("correct horse")
    assert verify_password(stored, "correct horse")
    assert not verify_password(stored, "battery staple")
    assert not verify_password(None, "anything")
    assert not verify_password("not a hash", "anything")


def test_only_admins_manage_users_teams_and_categories(session):
    tech = make_technician(session)
    for call in (
        lambda: service.create_user(
            session, tech, email="x@example.com", full_name="X", password="password1", role=Role.ADMIN
        ),
        lambda: service.update_user(session, tech, tech.id, role=Role.ADMIN),
        lambda: service.list_users(session, tech),
        lambda: service.create_team(session, tech, "Rogue team"),
        lambda: service.set_team_members(session, tech, 1, []),
        lambda: categories.create_category(session, tech, "Rogue"),
        lambda: categories.update_category(session, tech, 1, name="Rogue"),
    ):
        with pytest.raises(PermissionDenied):
            call()
    assert session.scalars(select(User).where(User.role == Role.ADMIN)).first() is None


def test_admin_creates_updates_and_deactivates_users(session):
    admin = make_admin(session)
    user = service.create_user(
        session,
        admin,
        email="new@example.com",
        full_name="New Person",
        password="password1",
        role=Role.TECHNICIAN,
    )
    session.commit()
    updated = service.update_user(
        session, admin, user.id, role=Role.REQUESTER, is_active=False, full_name="Renamed"
    )
    session.commit()
    assert (updated.role, updated.is_active, updated.full_name) == (Role.REQUESTER, False, "Renamed")
    assert {u.email for u in service.list_users(session, admin)} == {admin.email, "new@example.com"}
    with pytest.raises(NotFound), unit_of_work(session):
        service.update_user(session, admin, 9999, role=Role.ADMIN)
    with pytest.raises(ValidationError, match="full_name"), unit_of_work(session):
        service.update_user(session, admin, user.id, full_name="  ")


def test_admins_cannot_lock_themselves_out(session):
    admin = make_admin(session)
    with pytest.raises(ValidationError, match="yourself"), unit_of_work(session):
        service.update_user(session, admin, admin.id, is_active=False)
    with pytest.raises(ValidationError, match="yourself"), unit_of_work(session):
        service.update_user(session, admin, admin.id, role=Role.TECHNICIAN)


def test_teams_and_membership(session):
    admin = make_admin(session)
    tech = make_technician(session)
    requester = make_requester(session)
    team = service.create_team(session, admin, "  Network   Ops ")
    session.commit()
    assert team.name == "Network Ops"
    with pytest.raises(ValidationError, match="already exists"), unit_of_work(session):
        service.create_team(session, admin, "Network Ops")
    with pytest.raises(ValidationError, match="required"), unit_of_work(session):
        service.create_team(session, admin, "   ")
    with pytest.raises(ValidationError, match="80"), unit_of_work(session):
        service.create_team(session, admin, "x" * 81)
    service.set_team_members(session, admin, team.id, [tech.id, admin.id])
    session.commit()
    assert {m.id for m in team.members} == {tech.id, admin.id}
    with pytest.raises(ValidationError, match="technicians and admins"), unit_of_work(session):
        service.set_team_members(session, admin, team.id, [requester.id])
    with pytest.raises(ValidationError, match="do not exist"), unit_of_work(session):
        service.set_team_members(session, admin, team.id, [9999])
    with pytest.raises(NotFound), unit_of_work(session):
        service.set_team_members(session, admin, 9999, [])
    assert service.set_team_members(session, admin, team.id, []).members == []
    assert [t.name for t in service.list_teams(session, admin)] == ["Network Ops"]


def test_staff_list_holds_active_technicians_and_admins(session):
    tech = make_technician(session, full_name="A Tech")
    admin = make_admin(session, full_name="B Admin")
    make_technician(session, is_active=False)
    make_requester(session)
    assert [u.id for u in service.list_staff(session)] == [tech.id, admin.id]


def test_categories(session):
    admin = make_admin(session)
    network = make_team(session, "Network")
    vpn = categories.create_category(session, admin, " VPN ", default_team_id=network.id)
    session.commit()
    assert (vpn.name, vpn.default_team_id, vpn.is_active) == ("VPN", network.id, True)
    with pytest.raises(ValidationError, match="already exists"), unit_of_work(session):
        categories.create_category(session, admin, "VPN")
    with pytest.raises(ValidationError, match="default_team_id"), unit_of_work(session):
        categories.create_category(session, admin, "Wi-Fi", default_team_id=999)
    with pytest.raises(ValidationError, match="name"), unit_of_work(session):
        categories.create_category(session, admin, "")
    categories.update_category(
        session, admin, vpn.id, name="Remote access", is_active=False, clear_default_team=True
    )
    session.commit()
    assert (vpn.name, vpn.default_team_id, vpn.is_active) == ("Remote access", None, False)
    categories.update_category(session, admin, vpn.id, default_team_id=network.id)
    session.commit()
    assert vpn.default_team_id == network.id
    assert categories.list_categories(session) == []
    assert [c.name for c in categories.list_categories(session, active_only=False)] == ["Remote access"]
    with pytest.raises(NotFound), unit_of_work(session):
        categories.update_category(session, admin, 999, name="x")
