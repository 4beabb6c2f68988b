"""Admins connect the desk's mailboxes on the admin pages and through the API (the password is
write-only and stored encrypted), check one now, and deal with quarantined mail: read it, import it
again, or throw it away. Mistakes are said, never a 500."""

from __future__ import annotations

from sqlalchemy import select

from supportdesk.core.db import unit_of_work
from supportdesk.inbound import receiving
from supportdesk.inbound.models import Mailbox as MailboxRow
from supportdesk.inbound.models import Receipt
from supportdesk.inbound.secrets import decrypt_password
from supportdesk.jobs import engine
from supportdesk.tickets.models import Ticket
from tests.conftest import form_token, login, page_text
from tests.factories import make_admin, make_requester, make_technician
from tests.inbound.conftest import add_desk_mailbox, write_mail

PAGE = "/admin/mailboxes"
API = "/api/v1/mailboxes"
SETTINGS = {
    "name": "IT support",
    "address": "Support@Example.com",
    "host": "imap.example.com",
    "port": 993,
    "security": "tls",
    "username": "support@example.com",
    "password": "s3cret imap password",
    "folder": "INBOX",
    "after_import": "move",
    "processed_folder": "Done",
    "unknown_senders": "create",
    "allowed_domains": ["example.com", "@Partner.Example.org"],
    "per_sender_per_hour": 30,
    "is_active": True,
}


def test_the_api_creates_reads_changes_and_deletes_a_mailbox_never_showing_its_password(
    clean_app, session, api_as
):
    api = api_as(make_admin(session))
    created = api.post(API, json=SETTINGS)
    assert created.status_code == 201, created.get_json()
    body = created.get_json()
    assert "password" not in body and "password_encrypted" not in body
    assert body["address"] == "support@example.com"
    assert body["allowed_domains"] == ["example.com", "partner.example.org"]
    mailbox_id = body["id"]
    row = session.get(MailboxRow, mailbox_id)
    assert "s3cret" not in row.password_encrypted
    assert decrypt_password(clean_app.config["SUPPORTDESK"], row.password_encrypted) == "s3cret imap password"
    assert [m["name"] for m in api.get(API).get_json()["items"]] == ["IT support"]
    changed = api.put(
        f"{API}/{mailbox_id}",
        json={
            **{k: v for k, v in SETTINGS.items() if k != "password"},
            "folder": "Support",
            "is_active": False,
        },
    )
    assert changed.status_code == 200, changed.get_json()
    session.expire_all()
    row = session.get(MailboxRow, mailbox_id)
    assert (row.folder, row.is_active) == ("Support", False)
    assert decrypt_password(clean_app.config["SUPPORTDESK"], row.password_encrypted) == "s3cret imap password"
    refused = api.post(
        API, json={**SETTINGS, "name": "Other", "host": "not a host!", "processed_folder": "INBOX"}
    )
    assert refused.status_code == 422
    assert {problem["field"] for problem in refused.get_json()["errors"]} == {"host", "processed_folder"}
    assert api.post(API, json={**SETTINGS, "name": "Other", "port": 0}).status_code == 422
    assert api.post(API, json={**SETTINGS, "folder": "INBOX"}).status_code == 422  # the name is taken
    assert api.delete(f"{API}/{mailbox_id}").status_code == 204
    assert api.get(f"{API}/{mailbox_id}").status_code == 404


def test_only_admins_may_see_or_change_mailboxes(clean_app, session, api_as):
    api = api_as(make_technician(session))
    assert api.get(API).status_code == 403
    assert api.post(API, json=SETTINGS).status_code == 403


def test_an_admin_adds_a_mailbox_on_the_page_and_edits_it_keeping_the_password(client, session, clean_app):
    admin = make_admin(session)
    login(client, admin.email)
    assert "No mailboxes yet" in page_text(client.get(PAGE))
    form = {
        **{k: str(v) for k, v in SETTINGS.items() if k not in ("allowed_domains", "is_active")},
        "allowed_domains": "example.com\npartner.example.org",
        "is_active": "y",
    }
    added = client.post(PAGE, data={**form_token(client, PAGE), **form}, follow_redirects=True)
    text = page_text(added)
    assert "Mailbox added" in text and "IT support" in text and "imap.example.com" in text
    assert "s3cret" not in added.get_data(as_text=True)
    row = session.scalars(select(MailboxRow)).one()
    edit = f"{PAGE}/{row.id}"
    assert "s3cret" not in client.get(edit).get_data(as_text=True)
    saved = client.post(
        edit,
        data={**form_token(client, edit), **form, "password": "", "unknown_senders": "reject"},
        follow_redirects=True,
    )
    assert "Mailbox saved" in page_text(saved)
    session.expire_all()
    row = session.get(MailboxRow, row.id)
    assert row.unknown_senders.value == "reject"
    assert decrypt_password(clean_app.config["SUPPORTDESK"], row.password_encrypted) == "s3cret imap password"
    wrong = client.post(
        PAGE,
        data={**form_token(client, PAGE), **form, "name": "Other", "port": "http"},
        follow_redirects=True,
    )
    assert wrong.status_code == 422 and "not saved" in page_text(wrong) and "port" in page_text(wrong)
    assert session.scalars(select(MailboxRow)).all() == [row]


def test_check_now_reads_the_mailbox_in_the_background(imap_app, session, mailbox):
    row = add_desk_mailbox(imap_app, session, mailbox)
    make_requester(session, email="erin@example.com")
    admin = make_admin(session, email="boss@example.com")
    client = imap_app.test_client()
    login(client, admin.email)
    mailbox.deliver(write_mail("erin@example.com", "Docking station", "No picture on the second screen."))
    checked = client.post(f"{PAGE}/{row.id}/check", data=form_token(client, PAGE), follow_redirects=True)
    assert "will be read in a moment" in page_text(checked)
    engine.run_queued(imap_app)
    assert [t.subject for t in session.scalars(select(Ticket))] == ["Docking station"]
    page = page_text(client.get(PAGE))
    assert "Docking station" in page and "raised #" in page  # the recent mail list


def test_quarantined_mail_is_read_retried_or_discarded_by_an_admin(imap_app, session, mailbox, api_as):
    row = add_desk_mailbox(imap_app, session, mailbox)
    make_requester(session, email="erin@example.com")
    good = write_mail("erin@example.com", "Projector", "The projector in room 2 is dark.")
    unreadable = (
        b"From: erin@example.com\r\nSubject: huge header\r\nX-Pad: " + b"a" * 300_000 + b"\r\n\r\nhi\r\n"
    )
    with imap_app.app_context(), unit_of_work(session):
        box = session.get(MailboxRow, row.id)
        # As the poller does when an import fails for a reason of the moment (the disk was full).
        first = receiving.quarantine(session, box, good, "import failed: StorageFull: the disk is full")
        second = receiving.receive(session, box, unreadable)
    admin = make_admin(session, email="boss@example.com")
    client = imap_app.test_client()
    login(client, admin.email)
    page = page_text(client.get(PAGE))
    assert "Quarantine (2)" in page and "the disk is full" in page and "header section is larger" in page
    download = client.get(f"/admin/mail-receipts/{first.id}/raw")
    assert download.status_code == 200 and download.data == good
    assert download.mimetype == "message/rfc822" and download.headers["Content-Disposition"].startswith(
        "attachment"
    )
    retried = client.post(
        f"/admin/mail-receipts/{first.id}/retry", data=form_token(client, PAGE), follow_redirects=True
    )
    assert "Imported: raised #" in page_text(retried)
    [ticket] = session.scalars(select(Ticket))
    assert ticket.subject == "Projector"
    still = client.post(
        f"/admin/mail-receipts/{second.receipt_id}/retry",
        data=form_token(client, PAGE),
        follow_redirects=True,
    )
    assert "still cannot be read" in page_text(still)
    api = api_as(admin)
    listed = api.get("/api/v1/mail-receipts?outcome=quarantined").get_json()["items"]
    assert [item["id"] for item in listed] == [second.receipt_id]
    discarded = api.post(f"/api/v1/mail-receipts/{second.receipt_id}/discard")
    assert discarded.status_code == 200 and discarded.get_json()["outcome"] == "discarded"
    session.expire_all()
    assert session.get(Receipt, second.receipt_id).raw is None
    assert api.post(f"/api/v1/mail-receipts/{second.receipt_id}/retry").status_code == 409
    assert "Quarantine (0)" in page_text(client.get(PAGE))
