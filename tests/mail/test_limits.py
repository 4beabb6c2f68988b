"""Hostile and huge input: bounded, and refused only with `UnparseableMessage`. The messages are made
here at run time (none is committed)."""

from __future__ import annotations

import base64
import hashlib
import os
import struct

import pytest

from supportdesk.mail import bodies, parsing
from supportdesk.mail.parsing import UnparseableMessage, parse_message
from tests.mail import tnef_writer

HEAD = b"From: ann@example.com\nTo: support@desk.example.com\nSubject: limits\n"


def _with_attachment(data: bytes, name: str = "big.bin") -> bytes:
    encoded = base64.encodebytes(data)
    return (
        HEAD + b"Content-Type: multipart/mixed; boundary=b\n\n--b\nContent-Type: text/plain\n\nsee file\n"
        b"--b\nContent-Type: application/octet-stream\n"
        b"Content-Disposition: attachment; filename=" + name.encode()
        + b"\nContent-Transfer-Encoding: base64\n\n" + encoded + b"--b--\n"
    )  # fmt: skip


def test_a_huge_attachment_within_the_limit_is_kept_whole() -> None:
    data = os.urandom(20 * 1024 * 1024)
    [attachment] = parse_message(_with_attachment(data)).attachments
    assert attachment.size == len(data)
    assert hashlib.sha256(attachment.content).digest() == hashlib.sha256(data).digest()


def test_an_attachment_over_the_limit_is_skipped_and_named() -> None:
    data = b"\0" * (parsing.MAX_ATTACHMENT_BYTES + 1)
    message = parse_message(_with_attachment(data, "disk.img"))
    assert message.attachments == ()
    [skipped] = message.skipped
    assert skipped.filename == "disk.img"
    assert skipped.size == len(data)
    assert "too large" in skipped.reason
    assert message.text.strip() == "see file"


def test_a_message_over_the_size_limit_is_unparseable() -> None:
    raw = HEAD + b"\n" + b"x" * (parsing.MAX_MESSAGE_BYTES + 1)
    with pytest.raises(UnparseableMessage, match="larger than"):
        parse_message(raw)


def test_huge_headers_are_unparseable() -> None:
    raw = HEAD + b"X-Filler: " + b"a" * parsing.MAX_HEADER_BYTES + b"\n\nbody\n"
    with pytest.raises(UnparseableMessage, match="header"):
        parse_message(raw)
    many = (
        HEAD
        + b"".join(b"Received: from relay%d\n" % i for i in range(parsing.MAX_HEADER_BYTES // 20))
        + b"\nx\n"
    )
    with pytest.raises(UnparseableMessage, match="header"):
        parse_message(many)


def test_deep_nesting_is_unparseable() -> None:
    depth = 2000
    opening = b"".join(
        b"Content-Type: multipart/mixed; boundary=b%d\n\n--b%d\n" % (i, i) for i in range(depth)
    )
    closing = b"".join(b"\n--b%d--\n" % i for i in reversed(range(depth)))
    raw = HEAD + opening + b"Content-Type: text/plain\n\ndeep\n" + closing
    with pytest.raises(UnparseableMessage, match="nest"):
        parse_message(raw)


def test_nesting_within_the_limit_is_read() -> None:
    depth = parsing.MAX_DEPTH - 2
    opening = b"".join(
        b"Content-Type: multipart/mixed; boundary=b%d\n\n--b%d\n" % (i, i) for i in range(depth)
    )
    closing = b"".join(b"\n--b%d--\n" % i for i in reversed(range(depth)))
    assert (
        parse_message(HEAD + opening + b"Content-Type: text/plain\n\ndeep\n" + closing).text.strip() == "deep"
    )


def test_thousands_of_parts_are_unparseable() -> None:
    parts = b"".join(b"--b\nContent-Type: text/plain\n\npart %d\n" % i for i in range(parsing.MAX_PARTS + 1))
    raw = HEAD + b"Content-Type: multipart/mixed; boundary=b\n\n" + parts + b"--b--\n"
    with pytest.raises(UnparseableMessage, match="parts"):
        parse_message(raw)


def test_thousands_of_encoded_words_are_bounded() -> None:
    subject = b" ".join([b"=?utf-8?q?a?="] * 50_000)
    message = parse_message(HEAD.replace(b"Subject: limits", b"Subject: " + subject[:200_000]) + b"\nbody\n")
    assert len(message.subject) <= parsing.MAX_SUBJECT_CHARS


def test_thousands_of_recipients_are_bounded() -> None:
    recipients = b", ".join(b"r%d@example.com" % i for i in range(9000))
    message = parse_message(HEAD + b"Cc: " + recipients + b"\n\nbody\n")
    assert len(message.cc) == parsing.MAX_ADDRESSES


def test_a_huge_text_body_is_bounded() -> None:
    body = (b"word " * 19 + b"\n") * 300_000  # 30 MB of text
    message = parse_message(HEAD + b"\n" + body)
    assert len(message.text) <= parsing.MAX_TEXT_CHARS
    assert len(message.reply) <= parsing.MAX_TEXT_CHARS


@pytest.mark.parametrize(
    "line",
    ["On " + "x " * 1200, "On " + "x" * 3000, "On On " * 400, "> On " + "x " * 1200, "Le " + "x " * 1200],
)
def test_text_that_makes_the_reply_parser_backtrack_is_bounded(line: str, monkeypatch) -> None:
    """Lines that each look like the start of a quote header are the reply parser's worst case (given
    whole, it took minutes): it is only ever given bounded text in bounded lines."""
    given: list[str] = []
    real = bodies._Splitter

    def spy(*args, **kwargs):  # type: ignore[no-untyped-def]
        given.append(kwargs["text"])
        return real(*args, **kwargs)

    monkeypatch.setattr(bodies, "_Splitter", spy)
    parse_message(HEAD + b"\n" + ((line + "\n") * 60).encode())
    assert given
    for text in given:
        assert len(text.replace(bodies._SPLIT + "\n", "")) <= bodies.MAX_REPLY_SCAN_CHARS
        assert (
            max(len(part.rstrip(bodies._SPLIT)) for part in text.split("\n")) <= bodies.MAX_REPLY_LINE_CHARS
        )


def test_deeply_nested_html_is_bounded() -> None:
    html = b"<div>" * 100_000 + b"deep" + b"</div>" * 100_000
    message = parse_message(HEAD + b"Content-Type: text/html\n\n" + html)
    assert message.html is None  # too deep to sanitise in reasonable time: the text is kept
    assert message.text.strip() == "deep"
    deep_enough = b"<div>" * 1000 + b"<p>deep <b>down</b></p>" + b"</div>" * 1000
    message = parse_message(HEAD + b"Content-Type: text/html\n\n" + deep_enough)
    assert message.html is not None and "<b>down</b>" in message.html
    assert message.text.strip() == "deep down"


def test_a_winmail_dat_claiming_billions_of_properties_is_kept_undecoded() -> None:
    blob = struct.pack("<IH", tnef_writer.SIGNATURE, 1) + tnef_writer.attribute(
        tnef_writer.LEVEL_MESSAGE, tnef_writer.ATT_MSG_PROPS, struct.pack("<I", 0xFFFFFFFF)
    )
    raw = (
        HEAD + b"Content-Type: multipart/mixed; boundary=b\n\n--b\nContent-Type: text/plain\n\nx\n"
        b'--b\nContent-Type: application/ms-tnef; name="winmail.dat"\nContent-Transfer-Encoding: base64\n\n'
        + base64.encodebytes(blob) + b"--b--\n"
    )  # fmt: skip
    [attachment] = parse_message(raw).attachments
    assert attachment.filename == "winmail.dat"


def test_a_winmail_dat_of_countless_tiny_attributes_is_kept_undecoded() -> None:
    blob = (
        struct.pack("<IH", tnef_writer.SIGNATURE, 1)
        + tnef_writer.attribute(tnef_writer.LEVEL_MESSAGE, 0x00069999, b"") * 200_000
    )
    raw = _with_attachment(blob, "winmail.dat").replace(b"application/octet-stream", b"application/ms-tnef")
    [attachment] = parse_message(raw).attachments
    assert attachment.filename == "winmail.dat"
    assert attachment.size == len(blob)


def test_a_winmail_dat_with_many_files_is_unpacked() -> None:
    files = [(f"file-{i}.txt", "text/plain", b"x" * i) for i in range(1, 21)]
    raw = _with_attachment(tnef_writer.winmail_dat("many", files), "winmail.dat")
    raw = raw.replace(b"application/octet-stream", b"application/ms-tnef")
    names = [a.filename for a in parse_message(raw).attachments]
    assert names == [name for name, _, _ in files]


def test_a_winmail_dat_that_breaks_the_decoder_is_kept() -> None:
    # Plausible layout, but an attachment property of a type tnefparse does not know.
    properties = struct.pack("<IHHI", 1, 0x7777, 0x3707, 0) + b"\0" * 8
    blob = (
        struct.pack("<IH", tnef_writer.SIGNATURE, 1)
        + tnef_writer.attribute(tnef_writer.LEVEL_ATTACHMENT, tnef_writer.ATT_ATTACH_REND_DATA, b"\0" * 14)
        + tnef_writer.attribute(tnef_writer.LEVEL_ATTACHMENT, tnef_writer.ATT_ATTACHMENT, properties)
    )
    raw = _with_attachment(blob, "winmail.dat")
    [attachment] = parse_message(raw).attachments
    assert attachment.filename == "winmail.dat"


def test_files_in_a_winmail_dat_without_a_type_get_one_from_their_name() -> None:
    blob = tnef_writer.winmail_dat("typeless", [("notes.txt", "", b"hello")])
    raw = _with_attachment(blob, "winmail.dat")
    [attachment] = parse_message(raw).attachments
    assert (attachment.filename, attachment.content_type, attachment.content) == (
        "notes.txt",
        "text/plain",
        b"hello",
    )
