"""Alembic environment: runs migrations against the app's own engine and models."""

from __future__ import annotations

import logging
from logging.config import fileConfig

from alembic import context
from flask import current_app

# Import every model module so the metadata is complete for autogenerate.
from supportdesk.accounts import audit as _audit  # noqa: F401
from supportdesk.accounts import directory_models as _directory  # noqa: F401
from supportdesk.accounts import identities as _identities  # noqa: F401
from supportdesk.accounts import importing as _importing  # noqa: F401
from supportdesk.accounts import models as _accounts  # noqa: F401
from supportdesk.attachments import models as _attachments  # noqa: F401
from supportdesk.core.db import Base, db
from supportdesk.core.migrating import is_described_by_models, record_lineage
from supportdesk.inbound import models as _inbound  # noqa: F401
from supportdesk.jobs import models as _jobs  # noqa: F401
from supportdesk.kb import models as _kb  # noqa: F401
from supportdesk.notifications import models as _notifications  # noqa: F401
from supportdesk.replies import models as _replies  # noqa: F401
from supportdesk.reports import models as _reports  # noqa: F401
from supportdesk.routing import models as _routing  # noqa: F401
from supportdesk.sla import models as _sla  # noqa: F401
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
    # Alembic runs the transaction (not an outer begin()), so a migration can step out of it for
    # CREATE INDEX CONCURRENTLY (supportdesk.core.migrating.create_index_concurrently).
    with db.engine().connect() as connection:
        context.configure(
            connection=connection,
            target_metadata=target_metadata,
            include_name=is_described_by_models,
            **options,
        )
        with context.begin_transaction():
            context.run_migrations()
            # What older releases' /readyz reads to know this schema descends from their head.
            record_lineage(connection, context.get_context().get_current_heads(), context.script)
        # SQLite: Alembic assumes non-transactional DDL there and opens no transaction of its own, so
        # commit what the connection began by itself (a no-op after Alembic's own commit).
        connection.commit()


if context.is_offline_mode():
    run_migrations_offline()
else:
    run_migrations_online()
