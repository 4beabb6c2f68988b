"""What `parse_message` makes of headers, charsets, bodies and machine-sent mail, beyond the corpus."""

from __future__ import annotations

from datetime import UTC, datetime

import pytest

from supportdesk.mail.parsing import AutomatedKind, UnparseableMessage, parse_message


def _mail(
    headers: str, body: bytes = b"Hello\n", *, content_type: str = "text/plain; charset=utf-8"
) -> bytes:
    head = f"From: Ann Example <ann@example.com>\nTo: support@desk.example.com\n{headers}"
    if "Content-Type:" not in headers:
        head += f"\nContent-Type: {content_type}"
    return head.strip("\n").encode("utf-8", "surrogateescape") + b"\n\n" + body


MIXED = (
    b"From: ann@example.com\nContent-Type: multipart/mixed; boundary=b\n\n"
    b"--b\nContent-Type: text/plain\n\nx\n"
)

# Headers ---------------------------------------------------------------------------------------------


def test_addresses_are_lower_cased_and_names_decoded() -> None:
    message = parse_message(
        _mail(
            'Subject: x\nCc: "Doe, Jane" <Jane.Doe@Example.COM>, =?utf-8?B?w4lsb2TDqWU=?= <e@example.com>,'
            " plain@example.com\nReply-To: <Ann.Private@Example.com>"
        )
    )
    assert [(a.address, a.name) for a in message.cc] == [
        ("jane.doe@example.com", "Doe, Jane"),
        ("e@example.com", "Élodée"),
        ("plain@example.com", ""),
    ]
    assert message.reply_to[0].address == "ann.private@example.com"


def test_an_encoded_word_cannot_smuggle_a_second_address_into_a_name() -> None:
    # The name decodes to text with a comma and brackets: it stays one name, not two addresses.
    encoded = "=?utf-8?Q?Mallory_=3Cboss=40example.com=3E=2C_x?="
    message = parse_message(
        b"From: " + encoded.encode() + b" <mallory@evil.example>\nTo: support@desk.example.com\n\nHi\n"
    )
    assert message.sender.address == "mallory@evil.example"
    assert message.sender.name == "Mallory <boss@example.com>, x"


def test_a_message_without_any_sender_address_is_unparseable() -> None:
    with pytest.raises(UnparseableMessage, match="sender"):
        parse_message(b"To: support@desk.example.com\nSubject: hi\n\nbody\n")
    with pytest.raises(UnparseableMessage, match="sender"):
        parse_message(b"From: nobody\nTo: support@desk.example.com\n\nbody\n")


def test_the_sender_header_stands_in_for_a_broken_from() -> None:
    message = parse_message(b"From: undisclosed\nSender: Relay <relay@example.com>\n\nbody\n")
    assert message.sender.address == "relay@example.com"


def test_message_ids_are_normalised_and_references_bounded() -> None:
    many = " ".join(f"<m{i}@example.com>" for i in range(500))
    message = parse_message(
        _mail(
            "Message-ID:   <abc@example.com>  \n"
            f"In-Reply-To: garbage <p1@example.com> <p2@x>\nReferences: {many}"
        )
    )
    assert message.message_id == "<abc@example.com>"
    assert message.in_reply_to == "<p1@example.com>"
    assert len(message.references) == 50
    assert message.references[0] == "<m0@example.com>"  # the thread's root is kept
    assert message.references[-1] == "<m499@example.com>"


def test_a_message_id_without_brackets_is_accepted_and_bracketed() -> None:
    assert parse_message(_mail("Message-ID: bare@example.com")).message_id == "<bare@example.com>"
    assert parse_message(_mail("Message-ID: <>")).message_id is None
    assert parse_message(_mail("Subject: none")).message_id is None


@pytest.mark.parametrize(
    ("header", "expected"),
    [
        ("Date: Tue, 12 Mar 2024 10:30:55 +0100", datetime(2024, 3, 12, 9, 30, 55, tzinfo=UTC)),
        ("Date: Tue, 12 Mar 2024 10:30:55 -0000", datetime(2024, 3, 12, 10, 30, 55, tzinfo=UTC)),
        ("Date: yesterday-ish", None),
        ("Date: Tue, 99 Foo 2024 99:99:99 +9999", None),
        ("Subject: no date", None),
    ],
)
def test_dates(header: str, expected: datetime | None) -> None:
    assert parse_message(_mail(header)).date == expected


@pytest.mark.parametrize(
    ("header", "expected"),
    [
        ("=?utf-8?q?caf=C3=A9?=", "café"),
        ("=?ISO-8859-1?Q?caf=E9?=", "café"),
        ("=?iso-8859-1?q?=93quoted=94?=", "\u201cquoted\u201d"),  # labelled Latin-1, written as windows-1252
        ("=?utf-8?b?w6k=?= =?utf-8?b?w6k=?=", "éé"),  # whitespace between encoded words vanishes
        ("=?x-no-such-charset?q?caf=C3=A9?=", "café"),  # an unknown label: UTF-8, else windows-1252
        ("=?utf-8?q?caf=E9?=", "café"),  # labelled UTF-8 but windows-1252 bytes
        ("=?utf-8?b?!!!notbase64?=", "=?utf-8?b?!!!notbase64?="),  # broken: left as written
        ("=?gb2312?b?1tDOxA==?=", "中文"),
        ("=?ks_c_5601-1987?b?x9Gx2w==?=", "한글"),
        ("Re:\t  folded\n   subject", "Re: folded subject"),
        ("", ""),
    ],
)
def test_subjects_decode_every_way_mail_writes_them(header: str, expected: str) -> None:
    assert parse_message(_mail(f"Subject: {header}")).subject == expected


def test_raw_eight_bit_headers_are_read_as_utf8_or_windows_1252() -> None:
    utf8 = b"From: ann@example.com\nSubject: Gr\xc3\xbc\xc3\x9fe\n\nx"
    cp1252 = b"From: ann@example.com\nSubject: Gr\xfc\xdfe \x80\n\nx"
    assert parse_message(utf8).subject == "Grüße"
    assert parse_message(cp1252).subject == "Grüße €"


def test_control_characters_never_reach_the_subject() -> None:
    message = parse_message(_mail("Subject: =?utf-8?q?a=0D=0Ab=00c=1Bd?="))
    assert message.subject == "a b c d"


# Bodies ----------------------------------------------------------------------------------------------


def test_body_charsets_and_their_fallbacks() -> None:
    latin = parse_message(
        _mail(
            "Subject: x", "Gr\xfc\xdfe \x80".encode("latin-1"), content_type="text/plain; charset=iso-8859-1"
        )
    )
    assert latin.text == "Grüße €"
    unlabelled = parse_message(_mail("Subject: x", "Grüße".encode(), content_type="text/plain"))
    assert unlabelled.text == "Grüße"
    wrong = parse_message(_mail("Subject: x", b"caf\xe9", content_type='text/plain; charset="utf-8"'))
    assert wrong.text == "café"
    bogus = parse_message(_mail("Subject: x", "ñ".encode(), content_type="text/plain; charset=utf-8mb4"))
    assert bogus.text == "ñ"


def test_format_flowed_with_delsp() -> None:
    # With DelSp=yes the space before a soft break is the writer's and goes; a space between words is
    # written twice.
    body = b"This is a lo \r\nng line.\r\n> quoted soft  \r\n> line\r\n-- \r\nsig\r\n"
    message = parse_message(
        _mail("Subject: x", body, content_type="text/plain; charset=utf-8; format=flowed; delsp=yes")
    )
    assert message.text == "This is a long line.\n> quoted soft line\n-- \nsig\n"


def test_space_stuffed_flowed_lines_are_unstuffed() -> None:
    body = b" From the start\n >not a quote\n"
    message = parse_message(_mail("Subject: x", body, content_type="text/plain; format=flowed"))
    assert message.text == "From the start\n>not a quote\n"


def test_html_only_mail_gets_readable_text() -> None:
    html = (
        b"<html><body><p>First&nbsp;line</p><table><tr><td>a</td><td>b</td></tr></table>"
        b"<ul><li>one</li></ul></body></html>"
    )
    message = parse_message(_mail("Subject: x", html, content_type="text/html; charset=utf-8"))
    assert "First line" in message.text
    assert "one" in message.text
    assert message.reply.startswith("First line")


def test_images_keep_only_content_id_sources() -> None:
    html = (
        b'<p>see <img src="cid:shot@x" alt="shot"> and <img src="https://t.example/p.gif">'
        b' and <img src="data:image/png;base64,AAAA"></p><a href="mailto:a@example.com">mail</a>'
    )
    message = parse_message(_mail("Subject: x", html, content_type="text/html"))
    assert message.html is not None
    assert '<img src="cid:shot@x" alt="shot">' in message.html
    assert "t.example" not in message.html
    assert "data:" not in message.html
    assert 'href="mailto:a@example.com"' in message.html


def test_a_trailing_quote_in_any_language_is_cut_from_the_reply() -> None:
    body = (
        "Já está resolvido.\n\nEm ter., 12 de mar. de 2024 às 10:15, Suporte <\n"
        "support@desk.example.com> escreveu:\n\n> Pode tentar de novo?\n>\n"
    ).encode()
    assert parse_message(_mail("Subject: x", body)).reply == "Já está resolvido."


def test_long_lines_survive_the_reply_parser_whole() -> None:
    paragraph = " ".join(f"word{i}" for i in range(700))  # one line, as Outlook writes a paragraph
    body = f"{paragraph}\n\nOn Tue, 12 Mar 2024 at 09:15, Desk <d@example.com> wrote:\n> old\n".encode()
    assert parse_message(_mail("Subject: x", body)).reply == paragraph


def test_the_reply_is_at_most_a_comment_long() -> None:
    body = ("Long text. " * 5000).encode()
    reply = parse_message(_mail("Subject: x", body)).reply
    assert 19_000 < len(reply) <= 20_000


def test_interleaved_answers_are_kept() -> None:
    body = b"> Which floor?\n3rd floor.\n> Which printer?\nThe one by the window.\n"
    reply = parse_message(_mail("Subject: x", body)).reply
    assert "3rd floor." in reply
    assert "The one by the window." in reply


def test_a_reply_that_is_all_quote_keeps_the_text() -> None:
    body = b"On Tue, 12 Mar 2024 at 09:15, Desk <d@example.com> wrote:\n> only a quote\n"
    message = parse_message(_mail("Subject: x", body))
    assert message.reply == ""
    assert "only a quote" in message.text


def test_an_attached_message_is_an_eml_attachment() -> None:
    inner = b"From: x@example.com\nSubject: The original\n\nold text\n"
    raw = (
        b"From: ann@example.com\nSubject: fw\nContent-Type: multipart/mixed; boundary=b\n\n--b\n"
        b"Content-Type: text/plain\n\nsee attached\n--b\nContent-Type: message/rfc822\n\n"
        + inner
        + b"\n--b--\n"
    )
    message = parse_message(raw)
    assert message.text.strip() == "see attached"
    [attachment] = message.attachments
    assert attachment.filename == "The original.eml"
    assert attachment.content_type == "message/rfc822"
    assert b"old text" in attachment.content


def test_attachment_names_are_made_safe() -> None:
    raw = (
        MIXED + b"--b\nContent-Type: application/octet-stream\n"
        b'Content-Disposition: attachment; filename="../../etc/passwd"\n\nAAAA\n'
        b"--b\nContent-Type: text/plain; name*=UTF-8''..%5C..%5Cboot.ini\n\nAAAA\n"
        b"--b\nContent-Type: application/pdf\n"
        b"Content-Disposition: attachment; filename*=UTF-8''r%C3%A9sum%C3%A9%0A.pdf\n\nAAAA\n"
        b"--b\nContent-Type: image/png\nContent-Disposition: attachment\n\nAAAA\n--b--\n"
    )
    names = [a.filename for a in parse_message(raw).attachments]
    assert names == ["passwd", "boot.ini", "résumé.pdf", "attachment-4.png"]


def test_a_broken_winmail_dat_is_kept_as_it_is() -> None:
    raw = (
        MIXED
        + b'--b\nContent-Type: application/ms-tnef; name="winmail.dat"\nContent-Transfer-Encoding: base64\n\n'
        b"eJ8+IgAAAAAA\n--b--\n"
    )
    [attachment] = parse_message(raw).attachments
    assert attachment.filename == "winmail.dat"
    assert attachment.content_type == "application/ms-tnef"


# Machine-sent mail -----------------------------------------------------------------------------------


@pytest.mark.parametrize(
    ("headers", "kind", "reason"),
    [
        ("Auto-Submitted: auto-replied", AutomatedKind.AUTO_REPLY, "Auto-Submitted: auto-replied"),
        (
            "Auto-Submitted: auto-notified; owner-email=x@example.com",
            AutomatedKind.AUTO_REPLY,
            "Auto-Submitted: auto-notified",
        ),
        ("X-Autoreply: yes", AutomatedKind.AUTO_REPLY, "X-Autoreply: yes"),
        ("X-Autorespond: vacation", AutomatedKind.AUTO_REPLY, "X-Autorespond: vacation"),
        (
            "X-Auto-Response-Suppress: OOF, AutoReply",
            AutomatedKind.AUTO_REPLY,
            "X-Auto-Response-Suppress: OOF, AutoReply",
        ),
        ("Precedence: bulk", AutomatedKind.BULK, "Precedence: bulk"),
        ("Precedence: JUNK", AutomatedKind.BULK, "Precedence: junk"),
        ("Precedence: list", AutomatedKind.MAILING_LIST, "Precedence: list"),
        ("List-Id: <news.example.com>", AutomatedKind.MAILING_LIST, "List-Id"),
        ("List-Unsubscribe: <https://example.com/u>", AutomatedKind.MAILING_LIST, "List-Unsubscribe"),
    ],
)
def test_automated_mail_is_recognised(headers: str, kind: AutomatedKind, reason: str) -> None:
    automated = parse_message(_mail(f"Subject: x\n{headers}")).automated
    assert automated is not None
    assert (automated.kind, automated.reason) == (kind, reason)


@pytest.mark.parametrize(
    "headers", ["Auto-Submitted: no", "Auto-Submitted: No (a person)", "Precedence: first-class", ""]
)
def test_mail_from_a_person_is_not_automated(headers: str) -> None:
    assert parse_message(_mail(f"Subject: x\n{headers}")).automated is None


@pytest.mark.parametrize(
    "sender",
    ["MAILER-DAEMON@mx.example.com", "postmaster@example.com", "Mailer-Daemon <mailer-daemon@x.example>"],
)
def test_mail_from_mailer_daemons_is_a_bounce(sender: str) -> None:
    raw = (
        f"From: {sender}\nSubject: failure notice\n\nSorry, I wasn't able to deliver your message.\n\n"
        "--- Below this line is a copy of the message.\n\n"
        "Message-ID: <ticket-7.k2j3h4g5f6@desk.example.com>\nSubject: x\n"
    ).encode()
    message = parse_message(raw)
    assert message.automated is not None
    assert message.automated.kind is AutomatedKind.BOUNCE
    assert message.bounce is not None
    assert message.bounce.original_message_id == "<ticket-7.k2j3h4g5f6@desk.example.com>"


# Unparseable input -----------------------------------------------------------------------------------


@pytest.mark.parametrize("raw", [b"", b"\n\n\n", b"\x00\x01\x02", b"just some text without headers"])
def test_nothing_like_a_message_is_unparseable(raw: bytes) -> None:
    with pytest.raises(UnparseableMessage):
        parse_message(raw)


def test_unparseable_says_why() -> None:
    with pytest.raises(UnparseableMessage) as caught:
        parse_message(b"")
    assert str(caught.value)
    assert caught.value.reason == str(caught.value)


# Corners ---------------------------------------------------------------------------------------------


def test_a_read_receipt_is_automated() -> None:
    raw = (
        b"From: ann@example.com\nSubject: Read: x\n"
        b"Content-Type: multipart/report; report-type=disposition-notification; boundary=b\n\n"
        b"--b\nContent-Type: text/plain\n\nYour message was read.\n"
        b"--b\nContent-Type: message/disposition-notification\n\nFinal-Recipient: rfc822; ann@example.com\n"
        b"--b--\n"
    )
    message = parse_message(raw)
    assert message.is_automated
    assert message.automated is not None
    assert message.automated.kind is AutomatedKind.AUTO_REPLY
    assert message.bounce is None


def test_a_plain_bounce_names_its_failed_recipients() -> None:
    raw = (
        b"From: MAILER-DAEMON@mx.example.com\nSubject: failure notice\n"
        b"X-Failed-Recipients: Gone@Example.org, other@example.org\n\nSorry.\n"
    )
    bounce = parse_message(raw).bounce
    assert bounce is not None
    assert bounce.recipients == ("gone@example.org", "other@example.org")
    assert bounce.original_message_id is None
    assert bounce.permanent


def test_nesting_past_the_limit_but_within_the_library_is_unparseable() -> None:
    depth = 50
    opening = b"".join(
        b"Content-Type: multipart/mixed; boundary=b%d\n\n--b%d\n" % (i, i) for i in range(depth)
    )
    closing = b"".join(b"\n--b%d--\n" % i for i in reversed(range(depth)))
    raw = b"From: ann@example.com\n" + opening + b"Content-Type: text/plain\n\ndeep\n" + closing
    with pytest.raises(UnparseableMessage, match="nested"):
        parse_message(raw)


def test_a_date_past_the_calendar_is_no_date() -> None:
    assert parse_message(_mail("Date: Fri, 31 Dec 9999 23:00:00 -0200")).date is None


def test_long_file_names_keep_their_extension() -> None:
    name = "x" * 300 + ".pdf"
    part = f'--b\nContent-Type: application/pdf\nContent-Disposition: attachment; filename="{name}"\n\nAAAA\n'
    [attachment] = parse_message(MIXED + part.encode() + b"--b--\n").attachments
    assert len(attachment.filename) == 200
    assert attachment.filename.endswith("x.pdf")


def test_encoded_words_in_different_charsets_side_by_side() -> None:
    assert parse_message(_mail("Subject: =?utf-8?q?a?= =?iso-8859-1?q?=E9?=")).subject == "aé"


def test_flowed_quote_depth_change_ends_a_paragraph() -> None:
    body = b"> soft \nnot quoted\n"
    message = parse_message(_mail("Subject: x", body, content_type="text/plain; format=flowed"))
    assert message.text == "> soft \nnot quoted\n"


def test_an_attached_message_without_subject_or_with_a_name() -> None:
    def attached(headers: bytes) -> str:
        raw = (
            MIXED
            + b"--b\nContent-Type: message/rfc822\n"
            + headers
            + b"\nFrom: x@example.com\n\nold\n--b--\n"
        )
        [attachment] = parse_message(raw).attachments
        return attachment.filename

    assert attached(b"") == "message.eml"
    assert attached(b'Content-Disposition: attachment; filename="original.eml"\n') == "original.eml"
