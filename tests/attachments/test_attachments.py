import io
import os
import subprocess

import pytest
from sqlalchemy import func, select

from supportdesk.app import create_app
from supportdesk.attachments import service
from supportdesk.attachments.models import Attachment
from supportdesk.attachments.service import FileStore, Limits, Upload, sanitise_filename, sniff_image_type
from supportdesk.attachments.storage import LocalStorage
from supportdesk.core.db import unit_of_work
from supportdesk.core.errors import NotFound, ValidationError
from supportdesk.tickets import service as tickets
from supportdesk.tickets.models import Comment, Ticket
from tests.conftest import form_token, login, make_config, page_text
from tests.factories import make_requester, make_technician, make_ticket

PNG = b"\x89PNG\r\n\x1a\n" + b"\x00" * 64


@pytest.fixture
def files(tmp_path):
    return FileStore(LocalStorage(tmp_path / "store"), Limits(per_file=1000, per_ticket=1500))


def upload(name, data):
    return Upload(name, io.BytesIO(data))


@pytest.mark.parametrize(
    ("given", "expected"),
    [
        ("../../etc/passwd", "passwd"),
        ("..\\..\\boot.ini", "boot.ini"),
        ("report.pdf", "report.pdf"),
        ("  .htaccess", "htaccess"),
        ("<img src=x onerror=alert(1)>.png", "_img src=x onerror=alert(1)_.png"),
        ("a\x00b\nc.txt", "a_b_c.txt"),
        ("", "attachment"),
        ("...", "attachment"),
        ("x" * 300 + ".jpeg", "x" * 145 + ".jpeg"),
    ],
)
def test_filenames_are_sanitised(given, expected):
    assert sanitise_filename(given) == expected


def test_images_are_recognised_by_their_bytes_only():
    assert sniff_image_type(PNG) == "image/png"
    assert sniff_image_type(b"\xff\xd8\xff\xe0rest") == "image/jpeg"
    assert sniff_image_type(b"GIF89a....") == "image/gif"
    assert sniff_image_type(b"RIFF\x00\x00\x00\x00WEBPVP8 ") == "image/webp"
    assert sniff_image_type(b"<svg xmlns='http://www.w3.org/2000/svg' onload='alert(1)'/>") is None
    assert sniff_image_type(b"<html><script>alert(1)</script>") is None


def test_files_are_stored_under_generated_names_outside_static(session, files):
    alice = make_requester(session)
    ticket = tickets.create_ticket(
        session, alice, subject="Screen", uploads=[upload("../../shot.png", PNG)], files=files
    )
    session.commit()
    stored = session.scalars(select(Attachment)).one()
    assert stored.filename == "shot.png" and stored.content_type == "image/png" and stored.is_inline_image
    assert stored.ticket_id == ticket.id and stored.size_bytes == len(PNG)
    path = files.storage.path_for(stored.storage_key)
    assert path.read_bytes() == PNG and "shot" not in str(path)
    assert path.is_relative_to(files.storage.root)


def test_a_disguised_file_is_not_an_image(session, files):
    alice = make_requester(session)
    tickets.create_ticket(
        session, alice, subject="x", uploads=[upload("cat.png", b"<html>not a png</html>")], files=files
    )
    session.commit()
    stored = session.scalars(select(Attachment)).one()
    assert stored.content_type == "application/octet-stream"
    assert not stored.is_inline_image


@pytest.mark.parametrize(
    ("uploads", "message"),
    [
        ([("big.bin", b"x" * 1001)], "larger than"),
        ([("a.bin", b"x" * 900), ("b.bin", b"x" * 900)], "over its"),
        ([("empty.txt", b"")], "is empty"),
        ([(f"f{i}.txt", b"x") for i in range(11)], "at most 10"),
    ],
)
def test_limits_refuse_the_whole_upload_and_keep_nothing(session, files, uploads, message):
    alice = make_requester(session)
    with pytest.raises(ValidationError, match=message), unit_of_work(session):
        tickets.create_ticket(
            session, alice, subject="x", uploads=[upload(n, d) for n, d in uploads], files=files
        )
    session.rollback()
    assert session.scalars(select(Attachment)).all() == []
    assert not [p for p in files.storage.root.rglob("*") if p.is_file()]


def test_uploads_need_a_store(session):
    with pytest.raises(ValueError, match="FileStore"), unit_of_work(session):
        tickets.create_ticket(session, make_requester(session), subject="x", uploads=[upload("a", b"1")])


def test_files_of_internal_notes_are_for_the_desk_only(session, files):
    alice, tech = make_requester(session), make_technician(session)
    ticket = make_ticket(session, alice)
    tickets.add_comment(
        session,
        tech,
        ticket.number,
        "log attached",
        internal=True,
        uploads=[upload("server.log", b"secret")],
        files=files,
    )
    session.commit()
    tickets.add_comment(
        session, tech, ticket.number, "here is the guide", uploads=[upload("guide.pdf", b"%PDF")], files=files
    )
    session.commit()
    assert [a.filename for a in service.attachments_for(session, alice, ticket.id)] == ["guide.pdf"]
    assert len(service.attachments_for(session, tech, ticket.id)) == 2
    secret = session.scalars(select(Attachment).where(Attachment.filename == "server.log")).one()
    with pytest.raises(NotFound):
        service.get_attachment(session, alice, ticket.id, secret.id)


def test_storage_keys_must_be_generated_hex(files):
    with pytest.raises(ValueError):
        files.storage.path_for("../../etc/passwd")


# --- served through the ticket's permission -----------------------------------------------------------


@pytest.fixture
def attached(clean_app, session):
    alice, bob, tech = make_requester(session), make_requester(session), make_technician(session)
    from supportdesk.attachments.web import file_store

    with clean_app.test_request_context():
        store = file_store()
    ticket = tickets.create_ticket(
        session,
        alice,
        subject="Files",
        files=store,
        uploads=[
            upload("shot.png", PNG),
            upload("page.html", b"<script>alert(1)</script>"),
            upload("logo.svg", b"<svg onload='alert(1)'/>"),
        ],
    )
    session.commit()
    ids = {a.filename: a.id for a in session.scalars(select(Attachment))}
    return {"alice": alice, "bob": bob, "tech": tech, "number": ticket.number, "ids": ids}


def test_owner_and_desk_download_others_get_not_found(client, attached):
    url = f"/tickets/{attached['number']}/attachments/{attached['ids']['shot.png']}"
    login(client, attached["bob"].email)
    assert client.get(url).status_code == 404
    client.delete_cookie("session")
    login(client, attached["alice"].email)
    response = client.get(url)
    assert response.status_code == 200 and response.data == PNG
    assert response.headers["Content-Disposition"].startswith("attachment;")


def test_only_real_images_are_served_inline(client, attached):
    login(client, attached["alice"].email)
    base = f"/tickets/{attached['number']}/attachments"
    image = client.get(f"{base}/{attached['ids']['shot.png']}?inline=1")
    assert image.headers["Content-Type"] == "image/png"
    assert image.headers["Content-Disposition"].startswith("inline")
    for name in ("page.html", "logo.svg"):
        response = client.get(f"{base}/{attached['ids'][name]}?inline=1")
        assert response.headers["Content-Type"] == "application/octet-stream"
        assert response.headers["Content-Disposition"].startswith("attachment;")
        assert response.headers["X-Content-Type-Options"] == "nosniff"
        assert "sandbox" in response.headers["Content-Security-Policy"]


def test_an_attachment_is_found_only_through_its_own_ticket(client, session, attached):
    other = make_ticket(session, attached["alice"], subject="Another")
    login(client, attached["alice"].email)
    response = client.get(f"/tickets/{other.number}/attachments/{attached['ids']['shot.png']}")
    assert response.status_code == 404


def test_ticket_page_lists_files_with_thumbnails(client, attached):
    login(client, attached["alice"].email)
    page = page_text(client.get(f"/portal/tickets/{attached['number']}"))
    assert 'class="sd-thumb"' in page and "page.html" in page and "logo.svg" in page


@pytest.fixture
def full_disk(tmp_path):
    """A real file system of 64 KB for the attachments (a tmpfs mount): uploads fill it for real."""
    disk = tmp_path / "disk"
    disk.mkdir()
    mounted = subprocess.run(  # noqa: S603 - fixed arguments
        ["/usr/bin/mount", "-t", "tmpfs", "-o", "size=64k", "tmpfs", str(disk)],
        capture_output=True,
        check=False,
    )
    if mounted.returncode != 0:
        if os.environ.get("CI") == "true":
            pytest.fail(f"cannot mount a small tmpfs: {mounted.stderr.decode()}")
        pytest.skip(f"cannot mount a small tmpfs (needs root): {mounted.stderr.decode().strip()}")
    yield disk
    subprocess.run(["/usr/bin/umount", str(disk)], check=True)  # noqa: S603


def _files_in(folder):
    return [p for p in folder.rglob("*") if p.is_file()]


def test_a_full_disk_refuses_the_upload_clearly_and_keeps_nothing_half_written(
    clean_app, database_url, session, tmp_path, full_disk
):
    application = create_app(make_config(database_url, tmp_path / "instance", attachments_path=full_disk))
    application.config["PROPAGATE_EXCEPTIONS"] = False
    requester, tech = make_requester(session), make_technician(session)
    number = make_ticket(session, requester).number
    portal, desk = application.test_client(), application.test_client()
    login(portal, requester.email)
    login(desk, tech.email)

    new = {
        **form_token(portal, "/portal/new"),
        "subject": "Scanner jams",
        "description": "Every page, since Monday.",
        "priority": "normal",
        "attachments": (io.BytesIO(b"%PDF" + b"x" * 200_000), "scan.pdf"),
    }
    response = portal.post("/portal/new", data=new, content_type="multipart/form-data")
    assert response.status_code in (422, 507)
    page = page_text(response)
    assert "disk" in page and "Every page, since Monday." in page  # the reason, and the text kept
    # A reply with two files, the second of which does not fit: neither file, nor the reply, is kept.
    reply = {
        **form_token(desk, f"/desk/tickets/{number}"),
        "body": "Here are the logs.",
        "visibility": "public",
        "attachments": [(io.BytesIO(b"a" * 20_000), "small.log"), (io.BytesIO(b"b" * 200_000), "big.log")],
    }
    response = desk.post(f"/desk/tickets/{number}/reply", data=reply, content_type="multipart/form-data")
    assert response.status_code in (422, 507)
    assert "disk" in page_text(response) and "Here are the logs." in page_text(response)
    assert _files_in(full_disk) == []
    assert session.scalar(select(func.count(Attachment.id))) == 0
    assert session.scalar(select(func.count(Ticket.id))) == 1
    assert session.scalars(select(Comment.body)).all() == []

    # Room again for what fits: the disk is usable, nothing was left behind.
    reply["attachments"] = [(io.BytesIO(b"a" * 20_000), "small.log")]
    assert (
        desk.post(f"/desk/tickets/{number}/reply", data=reply, content_type="multipart/form-data").status_code
        == 302
    )
    assert len(_files_in(full_disk)) == 1
    application.extensions["supportdesk.engine"].dispose()
