"""Outgoing mail: threading headers, stable ids, the reply address, the subject token, no injection."""

from __future__ import annotations

import email
import email.policy
from datetime import UTC, datetime

import pytest
from hypothesis import given, settings
from hypothesis import strategies as st

from supportdesk.mail.addresses import Address
from supportdesk.mail.composing import (
    Thread,
    compose_message,
    identity_from_message_id,
    make_message_id,
    make_reply_address,
    reply_thread,
    strip_reply_prefixes,
    subject_with_token,
    ticket_from_reply_address,
    ticket_number_in_subject,
)
from supportdesk.mail.parsing import parse_message

SECRET = b"a-test-secret-of-thirty-two-bytes!!"
OTHER_SECRET = b"another-secret-of-thirty-two-bytes"
DESK = Address("support@desk.example.com", "SupportDesk")
WHEN = datetime(2024, 3, 12, 9, 15, tzinfo=UTC)


def _compose(**overrides: object) -> email.message.EmailMessage:
    arguments: dict[str, object] = {
        "sender": DESK,
        "to": [Address("paul@example.com", "Paul Meyer")],
        "subject": "[#1042] Printer on floor 3 jams",
        "text": "Hello Paul,\n\ncould you restart the printer?\n",
        "html": "<p>Hello Paul,</p><p>could you restart the printer?</p>",
        "message_id": "<ticket-1042.comment-77.abc@desk.example.com>",
        "date": WHEN,
    }
    arguments.update(overrides)
    return compose_message(**arguments)  # type: ignore[arg-type]


def _reparsed(message: email.message.EmailMessage) -> email.message.EmailMessage:
    raw = message.as_bytes(policy=email.policy.SMTP)
    parsed = email.message_from_bytes(raw, policy=email.policy.default)
    assert isinstance(parsed, email.message.EmailMessage)
    return parsed


# Message-IDs -----------------------------------------------------------------------------------------


def test_message_ids_are_stable_and_say_what_they_are() -> None:
    first = make_message_id({"ticket": 1042, "comment": 77}, domain="desk.example.com", secret=SECRET)
    assert first == make_message_id({"ticket": 1042, "comment": 77}, domain="desk.example.com", secret=SECRET)
    assert first.startswith("<ticket-1042.comment-77.")
    assert first.endswith("@desk.example.com>")
    assert first != make_message_id({"ticket": 1042, "comment": 78}, domain="desk.example.com", secret=SECRET)
    assert first != make_message_id(
        {"ticket": 1042, "comment": 77}, domain="desk.example.com", secret=OTHER_SECRET
    )
    assert make_message_id({"ticket": 1042}, domain="desk.example.com", secret=SECRET).startswith(
        "<ticket-1042."
    )


def test_our_message_ids_read_back_and_forgeries_do_not() -> None:
    ours = make_message_id({"ticket": 1042, "comment": 77}, domain="desk.example.com", secret=SECRET)
    assert identity_from_message_id(ours, domain="desk.example.com", secret=SECRET) == {
        "ticket": "1042",
        "comment": "77",
    }
    assert identity_from_message_id(ours.upper(), domain="desk.example.com", secret=SECRET) is None
    forged = ours.replace("ticket-1042", "ticket-1043")
    for candidate in (
        forged,
        ours.replace("desk.example.com", "evil.example"),
        "<ticket-1042.comment-77@desk.example.com>",
        "<CAHx5kQ0b3tV@mail.gmail.com>",
        "",
        "<>",
    ):
        assert identity_from_message_id(candidate, domain="desk.example.com", secret=SECRET) is None
    assert identity_from_message_id(ours, domain="desk.example.com", secret=OTHER_SECRET) is None


@pytest.mark.parametrize(
    "identity",
    [
        {},
        {"Ticket": 1},
        {"ticket": "a.b"},
        {"ticket": "x@y"},
        {"ticket": -1},
        {"ticket-no": 1},
        {"ticket": ""},
    ],
)
def test_message_id_identities_must_be_plain(identity: dict[str, int | str]) -> None:
    with pytest.raises(ValueError, match="identity"):
        make_message_id(identity, domain="desk.example.com", secret=SECRET)


def test_message_id_domains_must_be_host_names() -> None:
    for domain in ("", "desk example.com", "a>b", "x@y", "desk.example.com\r\n"):
        with pytest.raises(ValueError, match="domain"):
            make_message_id({"ticket": 1}, domain=domain, secret=SECRET)


# Reply addresses -------------------------------------------------------------------------------------


def test_reply_addresses_route_back_to_their_ticket() -> None:
    address = make_reply_address(1042, mailbox="support@desk.example.com", secret=SECRET)
    local, _, domain = address.partition("@")
    assert local.startswith("support+1042-")
    assert domain == "desk.example.com"
    assert len(local) <= 64
    assert address == make_reply_address(1042, mailbox="support@desk.example.com", secret=SECRET)
    assert ticket_from_reply_address(address, mailbox="support@desk.example.com", secret=SECRET) == 1042
    # Some servers change the case of what they deliver; the tag survives.
    assert (
        ticket_from_reply_address(address.upper(), mailbox="support@desk.example.com", secret=SECRET) == 1042
    )
    assert (
        ticket_from_reply_address(f"<{address}>", mailbox="Support@Desk.Example.com", secret=SECRET) == 1042
    )


def test_a_tampered_reply_address_is_refused() -> None:
    address = make_reply_address(1042, mailbox="support@desk.example.com", secret=SECRET)
    local, _, domain = address.partition("@")
    tag = local.rsplit("-", 1)[1]
    flipped = tag[:-1] + ("a" if tag[-1] != "a" else "b")
    forgeries = [
        address.replace("+1042-", "+1043-"),
        address.replace("+1042-", "+01042-"),
        f"support+1042-{flipped}@{domain}",
        f"support+1042-{tag[:-1]}@{domain}",
        f"support+1042-{tag}x@{domain}",
        f"support+1042@{domain}",
        f"support+1042-{tag}@evil.example",
        f"other+1042-{tag}@{domain}",
        f"support-1042-{tag}@{domain}",
        "support@desk.example.com",
        "",
        "not an address",
        f"support+99999999999999999999-{tag}@{domain}",
    ]
    for forged in forgeries:
        assert ticket_from_reply_address(forged, mailbox="support@desk.example.com", secret=SECRET) is None, (
            forged
        )
    assert ticket_from_reply_address(address, mailbox="support@desk.example.com", secret=OTHER_SECRET) is None
    assert ticket_from_reply_address(address, mailbox="help@desk.example.com", secret=SECRET) is None


@settings(max_examples=200, deadline=None)
@given(st.integers(min_value=1, max_value=2**31 - 1), st.integers(min_value=1, max_value=2**31 - 1))
def test_no_reply_address_opens_another_ticket(number: int, other: int) -> None:
    address = make_reply_address(number, mailbox="support@desk.example.com", secret=SECRET)
    tag = address.split("@")[0].rsplit("-", 1)[1]
    transplanted = f"support+{other}-{tag}@desk.example.com"
    expected = number if other == number else None
    assert (
        ticket_from_reply_address(transplanted, mailbox="support@desk.example.com", secret=SECRET) == expected
    )


def test_reply_address_arguments_are_checked() -> None:
    with pytest.raises(ValueError, match="ticket"):
        make_reply_address(0, mailbox="support@desk.example.com", secret=SECRET)
    with pytest.raises(ValueError, match="mailbox"):
        make_reply_address(1, mailbox="support+x@desk.example.com", secret=SECRET)
    with pytest.raises(ValueError, match="secret"):
        make_reply_address(1, mailbox="support@desk.example.com", secret=b"short")


def test_another_delimiter_can_be_used() -> None:
    address = make_reply_address(7, mailbox="help@desk.example.com", secret=SECRET, delimiter="-")
    assert address.startswith("help-7-")
    assert (
        ticket_from_reply_address(address, mailbox="help@desk.example.com", secret=SECRET, delimiter="-") == 7
    )


# Subject token ---------------------------------------------------------------------------------------


def test_subject_token_is_added_once() -> None:
    assert subject_with_token("Printer jams", 1042) == "[#1042] Printer jams"
    assert subject_with_token("[#1042] Printer jams", 1042) == "[#1042] Printer jams"
    assert subject_with_token("", 1042) == "[#1042]"


@pytest.mark.parametrize(
    ("subject", "number"),
    [
        ("Re: [#1042] Printer jams", 1042),
        ("AW: AW: [#1042] Drucker", 1042),
        ("SV: [#7] Skrivare", 7),
        ("Fwd: RE: [#1042] Printer", 1042),
        ("RE[2]: [#1042] Printer", 1042),
        ("[EXTERNAL] Re: [#1042] Printer", 1042),
        ("Re: Printer [#1042]", 1042),
        ("回复: [#1042] 打印机", 1042),
        ("Re: [# 1042] Printer", None),
        ("Re: #1042 Printer", None),
        ("Re: [#abc] Printer", None),
        ("Re: [#99999999999] Printer", None),
        ("Re: [#0] Printer", None),
        ("Printer", None),
        ("", None),
    ],
)
def test_ticket_number_in_subject(subject: str, number: int | None) -> None:
    assert ticket_number_in_subject(subject) == number


@pytest.mark.parametrize(
    ("subject", "stripped"),
    [
        ("Re: Printer", "Printer"),
        ("RE: AW: Fwd: SV: VS: WG: TR: Printer", "Printer"),
        ("Re[3]: Printer", "Printer"),
        ("Fw: Printer", "Printer"),
        ("回复：打印机", "打印机"),
        ("Réponse: Printer", "Réponse: Printer"),
        ("Re: ", ""),
        ("Printer: Re: jam", "Printer: Re: jam"),
    ],
)
def test_reply_prefixes_are_stripped(subject: str, stripped: str) -> None:
    assert strip_reply_prefixes(subject) == stripped


# Composing -------------------------------------------------------------------------------------------


def test_a_composed_message_has_both_bodies_and_threading_headers() -> None:
    thread = reply_thread("<ticket-1042.abc@desk.example.com>", ["<root@desk.example.com>"])
    message = _reparsed(
        _compose(
            thread=thread,
            reply_to=Address("support+1042-x@desk.example.com", "SupportDesk"),
            cc=[Address("lead@example.com", "")],
        )
    )
    assert message["Message-ID"] == "<ticket-1042.comment-77.abc@desk.example.com>"
    assert message["In-Reply-To"] == "<ticket-1042.abc@desk.example.com>"
    assert message["References"] == "<root@desk.example.com> <ticket-1042.abc@desk.example.com>"
    assert message["From"] == "SupportDesk <support@desk.example.com>"
    assert message["To"] == "Paul Meyer <paul@example.com>"
    assert message["Cc"] == "lead@example.com"
    assert message["Reply-To"] == "SupportDesk <support+1042-x@desk.example.com>"
    assert message["Date"] == "Tue, 12 Mar 2024 09:15:00 +0000"
    assert message["Auto-Submitted"] is None
    assert message.get_content_type() == "multipart/alternative"
    plain = message.get_body(("plain",))
    html = message.get_body(("html",))
    assert plain is not None and html is not None
    assert plain.get_content().replace("\r\n", "\n") == "Hello Paul,\n\ncould you restart the printer?\n"
    assert "<p>could you restart the printer?</p>" in html.get_content()


def test_a_text_only_message() -> None:
    message = _reparsed(_compose(html=None))
    assert message.get_content_type() == "text/plain"
    assert message.get_content().replace("\r\n", "\n") == "Hello Paul,\n\ncould you restart the printer?\n"


def test_notifications_ask_auto_responders_to_stay_quiet() -> None:
    message = _reparsed(_compose(auto_submitted=True))
    assert message["Auto-Submitted"] == "auto-generated"
    assert message["X-Auto-Response-Suppress"] == "All"


def test_reply_thread_keeps_the_root_and_stays_bounded() -> None:
    references = [f"<m{i}@x>" for i in range(100)]
    thread = reply_thread("<parent@x>", references)
    assert thread.in_reply_to == "<parent@x>"
    assert thread.references[0] == "<m0@x>"
    assert thread.references[-1] == "<parent@x>"
    assert len(thread.references) <= 20
    assert reply_thread("<parent@x>").references == ("<parent@x>",)
    assert Thread(None, ()).in_reply_to is None


def test_non_ascii_names_and_subjects_are_encoded_and_read_back() -> None:
    message = _compose(
        sender=Address("support@desk.example.com", "Servicedesk Müller & Söhne"),
        to=[Address("zoe@example.com", 'Zoë "Z" Łukasiewicz, Jr.')],
        subject="[#1042] Drucker im 3. Stock – Papierstau „wieder“ 🖨️",
        text="Grüße 🖨️\n",
    )
    raw = message.as_bytes(policy=email.policy.SMTP)
    head = raw.split(b"\r\n\r\n", 1)[0]
    assert all(byte < 128 for byte in head)
    parsed = parse_message(raw)
    assert parsed.subject == "[#1042] Drucker im 3. Stock – Papierstau „wieder“ 🖨️"
    assert parsed.sender.name == "Servicedesk Müller & Söhne"
    assert parsed.to[0].name == 'Zoë "Z" Łukasiewicz, Jr.'
    assert parsed.to[0].address == "zoe@example.com"
    assert parsed.text == "Grüße 🖨️\n"


def test_line_breaks_in_a_subject_or_name_cannot_add_headers() -> None:
    message = _reparsed(
        _compose(
            subject="Hello\r\nBcc: victim@example.com",
            to=[Address("paul@example.com", "Paul\nBcc: victim@example.com")],
            sender=Address("support@desk.example.com", "Desk\u2028X-Evil: 1\x00"),
        )
    )
    assert message["Bcc"] is None
    assert message["X-Evil"] is None
    assert message["Subject"] == "Hello Bcc: victim@example.com"
    assert message["To"].addresses[0].display_name == "Paul Bcc: victim@example.com"
    assert message["To"].addresses[0].addr_spec == "paul@example.com"


@pytest.mark.parametrize(
    "address",
    ["", "paul", "paul@", "@example.com", "pa ul@example.com", "paul@example.com\r\nBcc: x@y", "a<b@c"],
)
def test_a_bad_address_is_refused(address: str) -> None:
    with pytest.raises(ValueError, match="address"):
        _compose(to=[Address(address, "Paul")])


def test_a_message_needs_a_recipient() -> None:
    with pytest.raises(ValueError, match="recipient"):
        _compose(to=[])


EXPECTED_HEADERS = {"from", "to", "subject", "date", "message-id", "mime-version", "content-type"}


@settings(max_examples=300, deadline=None)
@given(subject=st.text(max_size=300), name=st.text(max_size=120), body=st.text(max_size=300))
def test_no_subject_or_name_yields_a_header_with_a_line_break(subject: str, name: str, body: str) -> None:
    message = _compose(subject=subject, to=[Address("paul@example.com", name)], text=body, html=None)
    raw = message.as_bytes(policy=email.policy.SMTP)
    parsed = email.message_from_bytes(raw, policy=email.policy.default)
    names = {key.lower() for key in parsed}
    assert names - {"content-transfer-encoding"} == EXPECTED_HEADERS
    for key, value in parsed.items():
        assert "\r" not in str(value) and "\n" not in str(value), (key, value)
    assert parsed["To"].addresses[0].addr_spec == "paul@example.com"
    assert len(parsed["To"].addresses) == 1
