"""The import pages: upload, preview, apply; a malformed file is a clear 422, never a 500; a changed
plan is refused with the new preview; the invitation page; adding one person without a password invites
them (page and API)."""

from __future__ import annotations

import re

import pytest
from sqlalchemy import func, select

from supportdesk.accounts.models import User
from supportdesk.notifications.models import OutboxMessage
from tests.conftest import form_token, login, page_text
from tests.factories import make_admin, make_requester

PAGE = "/admin/users/import"
LINK = re.compile(r"http://127\.0\.0\.1:5000(/invitation/[A-Za-z0-9._-]+)")


def upload(client, data: bytes, name: str = "people.csv", **fields):  # type: ignore[no-untyped-def]
    from io import BytesIO

    return client.post(
        PAGE,
        data={**form_token(client, PAGE), "file": (BytesIO(data), name), "invite": "1", **fields},
        content_type="multipart/form-data",
    )


def users(session) -> int:  # type: ignore[no-untyped-def]
    session.expire_all()
    return session.scalar(select(func.count()).select_from(User)) or 0


def invitation_link(session, address: str) -> str:  # type: ignore[no-untyped-def]
    session.expire_all()
    raw = session.scalars(select(OutboxMessage.raw).where(OutboxMessage.recipients == address)).all()[-1]
    return LINK.search(raw.replace("=\r\n", "").replace("=3D", "=")).group(1)


def test_upload_preview_fix_and_apply(client, session):
    admin = make_admin(session)
    login(client, admin.email)
    assert "Import people from a CSV file" in page_text(client.get(PAGE))
    bad = upload(client, b"email,full_name\nnew@example.com,New\nnot an address,Bad\n")
    assert bad.status_code == 302
    preview = page_text(client.get(bad.headers["Location"]))
    assert "1 line cannot be imported" in preview and "email is not a valid email address" in preview
    assert "Import 1 person" not in preview  # no apply button while a line is wrong
    fixed = client.get(
        upload(client, b"email,full_name\nnew@example.com,New\nok@example.com,Okay\n").headers["Location"]
    )
    digest = re.search(r'name="digest" value="([0-9a-f]{64})"', page_text(fixed)).group(1)
    action = re.search(r'action="(/admin/users/import/\d+/apply)"', page_text(fixed)).group(1)
    before = users(session)
    done = client.post(action, data={**form_token(client, PAGE), "digest": digest}, follow_redirects=True)
    assert "Imported: 2 created, 0 updated; 2 invited by email." in page_text(done)
    assert users(session) == before + 2
    again = client.post(action, data={**form_token(client, PAGE), "digest": digest})
    assert again.status_code == 409


def test_a_plan_changed_since_the_preview_is_refused_with_the_new_preview(client, session):
    admin = make_admin(session)
    login(client, admin.email)
    preview = client.get(upload(client, b"email,full_name\nlate@example.com,Late\n").headers["Location"])
    digest = re.search(r'name="digest" value="([0-9a-f]{64})"', page_text(preview)).group(1)
    action = re.search(r'action="(/admin/users/import/\d+/apply)"', page_text(preview)).group(1)
    make_requester(session, email="late@example.com")
    before = users(session)
    refused = client.post(action, data={**form_token(client, PAGE), "digest": digest})
    assert refused.status_code == 409
    assert "changed since the preview" in page_text(refused) and "already has an account" in page_text(
        refused
    )
    assert users(session) == before


@pytest.mark.parametrize(
    ("data", "says"),
    [
        (b"", "The file is empty."),
        (b"PK\x03\x04\x14\x00", "spreadsheet workbook"),
        (b"name;role\nA;admin\n", "no email column"),
        (b'email,full_name\n"unclosed,A\n', "cannot be read as CSV"),
        (b"\xff\xfeA\x00\xd8", "UTF-16"),
        (b"email,full_name\n" + b"x" * (2 * 1024 * 1024 + 1), "larger than 2 MB"),
    ],
)
def test_a_file_that_cannot_be_read_is_a_clear_422(client, session, data, says):
    admin = make_admin(session)
    login(client, admin.email)
    response = upload(client, data)
    assert response.status_code == 422
    assert says in page_text(response)


def test_no_file_chosen_is_a_clear_422(client, session):
    login(client, make_admin(session).email)
    response = client.post(PAGE, data=form_token(client, PAGE), content_type="multipart/form-data")
    assert response.status_code == 422 and "Choose a CSV file" in page_text(response)


def test_the_invitation_page_sets_the_password_once(clean_app, client, session):
    admin = make_admin(session)
    login(client, admin.email)
    client.post(
        "/admin/users",
        data={
            **form_token(client, "/admin/users"),
            "full_name": "Ivy",
            "email": "ivy@example.com",
            "role": "requester",
        },
    )
    path = invitation_link(session, "ivy@example.com")
    guest = clean_app.test_client()
    assert "ivy@example.com" in page_text(guest.get(path))
    mismatch = guest.post(
        path, data={**form_token(guest, path), "password": "ivy password", "confirm": "other"}
    )
    assert mismatch.status_code == 422
    chosen = guest.post(
        path, data={**form_token(guest, path), "password": "ivy password", "confirm": "ivy password"}
    )
    assert chosen.status_code == 302
    assert guest.get(path).status_code == 400  # once
    login(guest, "ivy@example.com", "ivy password")


def test_sending_an_invitation_again_and_by_the_api(client, session, api_as):
    admin = make_admin(session)
    erin = make_requester(session, email="erin@example.com")
    login(client, admin.email)
    sent = client.post(
        f"/admin/users/{erin.id}/invite", data=form_token(client, "/admin/users"), follow_redirects=True
    )
    assert "Invitation sent to erin@example.com" in page_text(sent)
    created = api_as(admin).post(
        "/api/v1/users", json={"email": "api@example.com", "full_name": "Api Person"}
    )
    assert created.status_code == 201
    assert invitation_link(session, "api@example.com").startswith("/invitation/")
