"""Property tests: no input makes the parser raise anything but `UnparseableMessage`."""

from __future__ import annotations

from hypothesis import HealthCheck, given, settings
from hypothesis import strategies as st

from supportdesk.mail.parsing import InboundMessage, UnparseableMessage, parse_message

HEADER_NAMES = [
    "From", "To", "Cc", "Reply-To", "Sender", "Subject", "Date", "Message-ID", "In-Reply-To", "References",
    "Content-Type", "Content-Transfer-Encoding", "Content-Disposition", "Auto-Submitted", "Precedence",
    "List-Id", "X-Auto-Response-Suppress", "Delivered-To", "MIME-Version",
]  # fmt: skip
CONTENT_TYPES = [
    "text/plain", "text/html", "multipart/mixed; boundary=b", "multipart/alternative; boundary=b",
    "multipart/report; report-type=delivery-status; boundary=b", "message/rfc822", "application/ms-tnef",
    "message/delivery-status", "text/rfc822-headers", "text/plain; charset=utf-7",
    "text/plain; format=flowed",
]  # fmt: skip

NOISE = [
    b"\n", b"--b\n", b"--b--\n", b"Content-Type: ", b"multipart/mixed; boundary=b\n", b"text/html\n",
    b"=?utf-8?b?", b"?=", b"<div>", b"begin 644 x\n", b"\r", b"=\n", b"Content-Transfer-Encoding: base64\n",
    b"quoted-printable\n", b"AAAA", b"x",
]  # fmt: skip

header_bytes = st.binary(max_size=200) | st.text(max_size=200).map(
    lambda t: t.encode("utf-8", "surrogatepass")
)


def _parse(raw: bytes) -> InboundMessage | None:
    try:
        return parse_message(raw)
    except UnparseableMessage:
        return None


@settings(max_examples=300, suppress_health_check=[HealthCheck.too_slow], deadline=None)
@given(st.binary(max_size=4000))
def test_arbitrary_bytes(raw: bytes) -> None:
    _parse(raw)


@settings(max_examples=300, deadline=None)
@given(
    st.lists(st.tuples(st.sampled_from(HEADER_NAMES), header_bytes), max_size=12),
    st.sampled_from(CONTENT_TYPES),
    st.binary(max_size=500),
)
def test_arbitrary_header_values(headers: list[tuple[str, bytes]], content_type: str, body: bytes) -> None:
    raw = b"From: ann@example.com\n" + b"".join(
        name.encode() + b": " + value + b"\n" for name, value in headers
    )
    raw += (
        b"Content-Type: "
        + content_type.encode()
        + b"\n\n--b\nContent-Type: text/plain\n\n"
        + body
        + b"\n--b--\n"
    )
    message = _parse(raw)
    if message is not None:
        for text in (message.subject, message.sender.name, *(a.name for a in message.to)):
            assert not any(ord(c) < 32 for c in text), text


@settings(max_examples=200, deadline=None)
@given(st.lists(st.sampled_from(NOISE), max_size=60))
def test_mime_shaped_noise(pieces: list[bytes]) -> None:
    _parse(b"From: ann@example.com\nContent-Type: multipart/mixed; boundary=b\n\n" + b"".join(pieces))
