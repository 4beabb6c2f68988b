"""winmail.dat (TNEF) unpacked with tnefparse, behind a check of its layout: tnefparse copies the rest
of the blob for every attribute and loops as often as a property count claims, so a hostile blob could
cost minutes. A blob that fails the check, or tnefparse, stays one ordinary attachment."""

from __future__ import annotations

import logging
import mimetypes
import struct
from dataclasses import dataclass

from tnefparse import TNEF

MAX_TNEF_ATTRIBUTES = 512
_SIGNATURE = b"\x78\x9f\x3e\x22"
_PROPERTY_LISTS = {0x9003, 0x9005}  # attMsgProps, attAttachment: a count, then MAPI properties
_MIME_TAG = 0x370E
_HEADER = struct.Struct("<BHHI")  # level, attribute id, attribute type, length

logging.getLogger("tnefparse").setLevel(logging.ERROR)  # it warns about every odd blob it reads


@dataclass(frozen=True, slots=True)
class TnefFile:
    filename: str
    content_type: str
    content: bytes


def _plausible(blob: bytes) -> bool:
    """Walk the attributes as tnefparse will; refuse what would make it slow or recurse."""
    if not blob.startswith(_SIGNATURE):
        return False
    offset, count = 6, 0
    while offset + 12 < len(blob):
        count += 1
        if count > MAX_TNEF_ATTRIBUTES:
            return False
        _, name, _, length = _HEADER.unpack_from(blob, offset)
        data = blob[offset + 9 : offset + 9 + length]
        if name in _PROPERTY_LISTS:
            claimed = struct.unpack_from("<I", data)[0] if len(data) >= 4 else 0
            if claimed * 6 > len(data) or _SIGNATURE in data:  # each property takes 6 bytes or more
                return False
        offset += min(len(blob) - offset, length + 11)
    return True


def _text(value: object) -> str:
    if isinstance(value, list):
        value = value[0] if value else ""
    if isinstance(value, bytes):
        value = value.decode("cp1252", errors="replace")
    return str(value).strip("\x00") if value is not None else ""


def unpack(blob: bytes) -> list[TnefFile] | None:
    """The files inside a winmail.dat, or None when it cannot (safely) be read."""
    if not _plausible(blob):
        return None
    try:
        tnef = TNEF(blob, do_checksum=False)
        files = []
        for attachment in tnef.attachments:
            name = _text(attachment.long_filename()) or _text(attachment.name)
            mime_tags = [a.data for a in attachment.mapi_attrs if a.name == _MIME_TAG]
            content_type = _text(mime_tags[0]).lower() if mime_tags else ""
            if "/" not in content_type:
                content_type = mimetypes.guess_type(name)[0] or "application/octet-stream"
            content = bytes(attachment.data or b"")
            if name or content:  # tnefparse leaves a nameless, empty file where it gave up
                files.append(TnefFile(name, content_type, content))
    except Exception:  # a third-party decoder fed hostile bytes: any failure means "unreadable"
        return None
    return files
