"""Bytes to text the way mail needs it: labels that lie, labels nobody knows, RFC 2047 encoded-words
and raw 8-bit headers. Every function here returns text and never raises."""

from __future__ import annotations

import base64
import binascii
import codecs
import functools
import re
from email.message import Message

# Labels whose real-world text is a superset of what they name (as browsers treat them, WHATWG).
_SUPERSETS = {
    "us-ascii": "utf-8", "ascii": "utf-8", "iso-8859-1": "cp1252", "latin1": "cp1252", "latin-1": "cp1252",
    "iso8859-1": "cp1252", "iso_8859-1": "cp1252", "l1": "cp1252", "iso-8859-9": "cp1254",
    "gb2312": "gb18030", "gbk": "gb18030", "x-gbk": "gb18030", "euc-cn": "gb18030",
    "ks_c_5601-1987": "cp949", "euc-kr": "cp949", "x-windows-949": "cp949", "windows-949": "cp949",
    "shift_jis": "cp932", "shift-jis": "cp932", "sjis": "cp932", "x-sjis": "cp932", "windows-31j": "cp932",
    "iso-2022-jp": "iso2022_jp_ext", "tis-620": "cp874", "iso-8859-11": "cp874", "utf8": "utf-8",
}  # fmt: skip
_ENCODED_WORD = re.compile(r"=\?([^?\s]{1,64})\?([QqBb])\?([^?\s]*)\?=")
_BETWEEN_WORDS = re.compile(r"[ \t\r\n]*")


@functools.lru_cache(maxsize=256)
def _codec(label: str | None) -> str | None:
    """The Python text codec for a charset label, or None when the label names none."""
    if not label:
        return None
    name = label.strip().strip("\"'").lower().split("*", 1)[0]  # RFC 2231 language suffix
    name = _SUPERSETS.get(name, name)
    try:
        b"".decode(name)  # refuses labels of bytes-to-bytes codecs (zlib, base64, ...)
        return codecs.lookup(name).name
    except (LookupError, ValueError):
        return None


def decode_text(data: bytes, label: str | None) -> str:
    """Decode with the declared charset; a lying or unknown label falls back to UTF-8, then windows-1252
    (what mislabelled Western mail almost always is) or the declared codec with replacements."""
    codec = _codec(label)
    if codec is not None and codec not in ("utf-8", "ascii"):
        try:
            return data.decode(codec)
        except UnicodeDecodeError:
            pass
    try:
        return data.decode("utf-8")
    except UnicodeDecodeError:
        if codec is None or codec in ("utf-8", "ascii") or codec.startswith("cp"):
            return data.decode("cp1252", errors="replace")
        return data.decode(codec, errors="replace")


def raw_header_text(value: str) -> str:
    """A header as the parser left it: 8-bit bytes survive as surrogate escapes; read them as UTF-8, or
    windows-1252 when they are not UTF-8."""
    if value.isascii():
        return value
    try:
        return decode_text(value.encode("ascii", "surrogateescape"), None)
    except UnicodeEncodeError:  # already text
        return value


class Headers:
    """A message's headers by lower-case name, read as text once (8-bit bytes as above; the library's
    own reading turns them into replacement characters)."""

    def __init__(self, message: Message) -> None:
        self._raw: dict[str, list[str]] = {}
        for key, value in message.raw_items():
            self._raw.setdefault(key.lower(), []).append(str(value))

    def all(self, name: str) -> list[str]:
        return [raw_header_text(value) for value in self._raw.get(name.lower(), ())]

    def first(self, name: str) -> str:
        values = self._raw.get(name.lower())
        return raw_header_text(values[0]) if values else ""


def _word_bytes(encoding: str, payload: str) -> bytes | None:
    try:
        if encoding in "Bb":
            return base64.b64decode(payload + "=" * (-len(payload) % 4), validate=True)
        quoted = re.sub(
            rb"=([0-9A-Fa-f]{2})", lambda m: bytes([int(m.group(1), 16)]), payload.encode("ascii")
        )
        return quoted.replace(b"_", b" ")
    except (binascii.Error, ValueError, UnicodeError):
        return None


def decode_words(text: str) -> str:
    """Decode RFC 2047 encoded-words. Whitespace between two encoded-words goes; adjacent words in one
    charset are joined as bytes first (clients split multi-byte characters across words). A malformed
    word stays as written."""
    out: list[str] = []
    pending: list[bytes] = []
    pending_label: str | None = None
    position = 0

    def flush() -> None:
        nonlocal pending, pending_label
        if pending:
            out.append(decode_text(b"".join(pending), pending_label))
        pending, pending_label = [], None

    for match in _ENCODED_WORD.finditer(text):
        gap = text[position : match.start()]
        data = _word_bytes(match.group(2), match.group(3))
        if data is None:
            flush()
            out.append(gap + match.group(0))
        else:
            label = match.group(1)
            if not (pending and _BETWEEN_WORDS.fullmatch(gap)):
                flush()
                out.append(gap)
            elif _codec(label) != _codec(pending_label):
                flush()
            pending.append(data)
            pending_label = label
        position = match.end()
    flush()
    out.append(text[position:])
    return "".join(out)
