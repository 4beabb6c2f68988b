"""Every message of the corpus parses to what its sidecar says (see corpus/README.md)."""

from __future__ import annotations

import hashlib
import json
from pathlib import Path
from typing import Any

import pytest

from supportdesk.mail.parsing import InboundMessage, parse_message

CORPUS = Path(__file__).parent / "corpus"
MESSAGES = sorted(CORPUS.glob("*.eml"))
REQUIRED = {"message_id", "from", "to", "subject", "date", "attachments", "automated", "bounce"}


def _address(address: Any) -> dict[str, str]:
    return {"address": address.address, "name": address.name}


def _observed(message: InboundMessage) -> dict[str, Any]:
    """The parsed message in the sidecar's vocabulary."""
    return {
        "message_id": message.message_id,
        "in_reply_to": message.in_reply_to,
        "references": list(message.references),
        "from": _address(message.sender),
        "reply_to": [_address(a) for a in message.reply_to],
        "to": [_address(a) for a in message.to],
        "cc": [_address(a) for a in message.cc],
        "delivered_to": list(message.delivered_to),
        "subject": message.subject,
        "date": message.date.isoformat() if message.date else None,
        "reply": message.reply,
        "html": message.html,
        "attachments": [
            {
                "filename": a.filename,
                "content_type": a.content_type,
                "size": a.size,
                "sha256": hashlib.sha256(a.content).hexdigest(),
                "content_id": a.content_id,
                "inline": a.inline,
            }
            for a in message.attachments
        ],
        "automated": (
            {"kind": message.automated.kind.value, "reason": message.automated.reason}
            if message.automated
            else None
        ),
        "bounce": (
            {
                "original_message_id": message.bounce.original_message_id,
                "recipients": list(message.bounce.recipients),
                "status": message.bounce.status,
                "permanent": message.bounce.permanent,
            }
            if message.bounce
            else None
        ),
    }


def test_the_corpus_covers_what_the_desk_meets() -> None:
    names = {path.stem for path in MESSAGES}
    assert len(names) >= 25
    for path in MESSAGES:
        assert path.with_suffix(".json").exists(), f"{path.name} has no sidecar"
    assert not {p.stem for p in CORPUS.glob("*.json")} - names, "a sidecar without a message"


@pytest.mark.parametrize("path", MESSAGES, ids=[p.stem for p in MESSAGES])
def test_message_parses_to_its_sidecar(path: Path) -> None:
    expected = json.loads(path.with_suffix(".json").read_text(encoding="utf-8"))
    assert expected.keys() >= REQUIRED, f"{path.name}'s sidecar misses {REQUIRED - expected.keys()}"
    message = parse_message(path.read_bytes())
    observed = _observed(message)
    for key, value in expected.items():
        if key == "text_contains":
            for fragment in value:
                assert fragment in message.text, f"text lacks {fragment!r}:\n{message.text}"
        elif key == "text_excludes":
            for fragment in value:
                assert fragment not in message.text, f"text has {fragment!r}:\n{message.text}"
        elif key == "html_contains":
            assert message.html is not None
            for fragment in value:
                assert fragment in message.html, f"HTML lacks {fragment!r}:\n{message.html}"
        elif key == "html_excludes":
            assert message.html is not None
            for fragment in value:
                assert fragment.lower() not in message.html.lower(), f"HTML has {fragment!r}:\n{message.html}"
        else:
            assert observed[key] == value, f"{key}: {observed[key]!r} != {value!r}"
    if "reply_to" not in expected:
        assert observed["reply_to"] == []


@pytest.mark.parametrize("path", MESSAGES, ids=[p.stem for p in MESSAGES])
def test_message_parses_the_same_with_crlf_line_ends(path: Path) -> None:
    """IMAP hands messages over with CRLF; Maildir and these files keep LF."""
    raw = path.read_bytes()
    assert b"\r\n" not in raw
    assert parse_message(raw.replace(b"\n", b"\r\n")) == parse_message(raw)
