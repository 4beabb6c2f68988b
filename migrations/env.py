"""Alembic environment: runs migrations against the app's own engine and models."""

from __future__ import annotations

import logging
from logging.config import fileConfig

from alembic import context
from flask import current_app

# Import every model module so the metadata is complete for autogenerate.
from supportdesk.accounts import models as _accounts  # noqa: F401
from supportdesk.attachments import models as _attachments  # noqa: F401
from supportdesk.core.db import Base, db
from supportdesk.search.models import is_modelled
from supportdesk.tickets import models as _tickets  # noqa: F401

config = context.config
if config.config_file_name is not None and not logging.getLogger().handlers:
    fileConfig(config.config_file_name)

target_metadata = Base.metadata


def run_migrations_offline() -> None:
    context.configure(
        url=str(db.engine().url), target_metadata=target_metadata, literal_binds=True, render_as_batch=True
    )
    with context.begin_transaction():
        context.run_migrations()


def run_migrations_online() -> None:
    options = current_app.extensions["migrate"].configure_args
    # begin(), not connect(): the work is committed at the end even where Alembic assumes
    # non-transactional DDL (SQLite) and so opens no transaction of its own.
    with db.engine().begin() as connection:
        context.configure(
            connection=connection, target_metadata=target_metadata, include_name=is_modelled, **options
        )
        with context.begin_transaction():
            context.run_migrations()


if context.is_offline_mode():
    run_migrations_offline()
else:
    run_migrations_online()
