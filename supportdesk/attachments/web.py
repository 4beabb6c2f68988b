"""What the pages need to take uploads: the configured store and the request's files."""

from __future__ import annotations

from flask import request

from supportdesk.attachments.service import FileStore, Limits, Upload
from supportdesk.attachments.storage import LocalStorage
from supportdesk.core.config import current_config


def file_store() -> FileStore:
    config = current_config()
    return FileStore(
        LocalStorage(config.attachments_path),
        Limits(per_file=config.max_file_bytes, per_ticket=config.max_ticket_bytes),
    )


def uploads_from(field_name: str = "attachments") -> list[Upload]:
    return [Upload(f.filename or "", f.stream) for f in request.files.getlist(field_name) if f and f.filename]
