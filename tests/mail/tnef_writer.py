"""A small writer of TNEF (winmail.dat) blobs, laid out as Outlook writes them ([MS-OXTNEF]): version,
OEM code page, message class, the message's MAPI properties, then per attachment its rendering data,
8.3 title, bytes and MAPI properties (long file name, MIME type). The corpus's Outlook message carries
one made here (no real customer's winmail.dat can be published), and the tests build hostile ones."""

from __future__ import annotations

import struct
from collections.abc import Sequence

SIGNATURE = 0x223E9F78
LEVEL_MESSAGE, LEVEL_ATTACHMENT = 0x01, 0x02
ATT_TNEF_VERSION = 0x00089006
ATT_OEM_CODEPAGE = 0x00069007
ATT_MESSAGE_CLASS = 0x00078008
ATT_MSG_PROPS = 0x00069003
ATT_ATTACH_REND_DATA = 0x00069002
ATT_ATTACH_TITLE = 0x00018010
ATT_ATTACH_DATA = 0x0006800F
ATT_ATTACHMENT = 0x00069005
PT_LONG, PT_STRING8, PT_UNICODE, PT_BINARY = 0x0003, 0x001E, 0x001F, 0x0102
PR_ATTACH_METHOD, PR_ATTACH_LONG_FILENAME, PR_ATTACH_MIME_TAG = 0x3705, 0x3707, 0x370E
PR_INTERNET_CPID, PR_SUBJECT = 0x3FDE, 0x0037


def attribute(level: int, attribute_id: int, data: bytes) -> bytes:
    checksum = sum(data) & 0xFFFF
    return struct.pack("<BII", level, attribute_id, len(data)) + data + struct.pack("<H", checksum)


def _padded(data: bytes) -> bytes:
    return data + b"\0" * (-len(data) % 4)


def mapi_properties(properties: Sequence[tuple[int, int, int | str | bytes]]) -> bytes:
    out = [struct.pack("<I", len(properties))]
    for kind, tag, value in properties:
        out.append(struct.pack("<HH", kind, tag))
        if kind == PT_LONG:
            assert isinstance(value, int)
            out.append(struct.pack("<I", value))
            continue
        if kind == PT_UNICODE:
            assert isinstance(value, str)
            raw = (value + "\0").encode("utf-16-le")
        elif kind == PT_STRING8:
            assert isinstance(value, str)
            raw = (value + "\0").encode("cp1252")
        else:
            assert isinstance(value, bytes)
            raw = value
        out.append(struct.pack("<II", 1, len(raw)) + _padded(raw))
    return b"".join(out)


def winmail_dat(subject: str, attachments: Sequence[tuple[str, str, bytes]], key: int = 0x1A2B) -> bytes:
    """(long file name, MIME type, bytes) per attachment."""
    parts = [
        struct.pack("<IH", SIGNATURE, key),
        attribute(LEVEL_MESSAGE, ATT_TNEF_VERSION, struct.pack("<I", 0x00010000)),
        attribute(LEVEL_MESSAGE, ATT_OEM_CODEPAGE, struct.pack("<II", 1252, 0)),
        attribute(LEVEL_MESSAGE, ATT_MESSAGE_CLASS, b"IPM.Microsoft Mail.Note\0"),
        attribute(
            LEVEL_MESSAGE,
            ATT_MSG_PROPS,
            mapi_properties([(PT_LONG, PR_INTERNET_CPID, 65001), (PT_UNICODE, PR_SUBJECT, subject)]),
        ),
    ]
    for name, mime_type, data in attachments:
        stem, _, extension = name.rpartition(".")
        short = (
            (stem.encode("ascii", "ignore")[:6].upper() or b"FILE") + b"~1." + extension[:3].upper().encode()
        )
        parts += [
            attribute(LEVEL_ATTACHMENT, ATT_ATTACH_REND_DATA, struct.pack("<HIHHI", 1, 0xFFFFFFFF, 0, 0, 0)),
            attribute(LEVEL_ATTACHMENT, ATT_ATTACH_TITLE, short + b"\0"),
            attribute(LEVEL_ATTACHMENT, ATT_ATTACH_DATA, data),
            attribute(
                LEVEL_ATTACHMENT,
                ATT_ATTACHMENT,
                mapi_properties(
                    [
                        (PT_LONG, PR_ATTACH_METHOD, 1),
                        (PT_UNICODE, PR_ATTACH_LONG_FILENAME, name),
                        (PT_STRING8, PR_ATTACH_MIME_TAG, mime_type),
                    ]
                ),
            ),
        ]
    return b"".join(parts)
