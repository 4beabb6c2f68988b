"""A temporary password set by an admin: sessions and tokens end, the API refuses the account until
the user has chosen their own, and only admins set one (never on themselves)."""

from __future__ import annotations

import pytest

from supportdesk.accounts import service, tokens
from supportdesk.core.errors import PermissionDenied, ValidationError
from tests.conftest import csrf_token, login
from tests.factories import make_admin, make_requester, make_technician


def test_a_temporary_password_ends_sessions_and_must_be_changed(clean_app, client, session):
    admin = make_admin(session)
    erin = make_requester(session, email="erin@example.com")
    epoch = erin.session_epoch
    service.set_temporary_password(session, admin, erin.id, "Tmp-4821-desk")
    session.commit()
    assert erin.must_change_password and erin.session_epoch == epoch + 1
    # No API token for an account that must change its password first.
    with pytest.raises(PermissionDenied):
        tokens.issue_token(session, "erin@example.com", "Tmp-4821-desk", "script")
    session.rollback()
    login(client, "erin@example.com", "Tmp-4821-desk")
    assert client.get("/portal/").headers["Location"].startswith("/account/password")
    response = client.post(
        "/account/password",
        data={
            "csrf_token": csrf_token(client, "/account/password"),
            "current_password": "Tmp-4821-desk",
            "new_password": "my own secret 77",
            "confirm": "my own secret 77",
        },
    )
    assert response.status_code == 302
    session.expire_all()
    assert not session.get(type(erin), erin.id).must_change_password
    assert client.get("/portal/").status_code == 200


def test_only_admins_set_temporary_passwords_and_never_their_own(session):
    admin = make_admin(session)
    erin = make_requester(session)
    with pytest.raises(PermissionDenied):
        service.set_temporary_password(session, make_technician(session), erin.id, "Tmp-4821-desk")
    with pytest.raises(ValidationError):
        service.set_temporary_password(session, admin, erin.id, "short")
    with pytest.raises(ValidationError):
        service.set_temporary_password(session, admin, admin.id, "Tmp-4821-desk")
