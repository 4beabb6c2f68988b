"""A later release's migrations, made in a test: this release's chain plus one more revision."""

from __future__ import annotations

import shutil
import textwrap
from pathlib import Path

from supportdesk.core.config import MIGRATIONS_DIR as MIGRATIONS
from supportdesk.core.health import expected_heads


def migrations_plus(directory: Path, revision: str, upgrade: str, downgrade: str) -> Path:
    """Copy this release's migrations to `directory` and add `revision` on top of the head, with the
    given bodies for upgrade() and downgrade() (indented code, `op` and `sa` imported)."""
    shutil.copytree(MIGRATIONS, directory)
    (head,) = expected_heads()
    body = f"""\
import sqlalchemy as sa
from alembic import op

from supportdesk.core.migrating import create_index_concurrently

revision = "{revision}"
down_revision = "{head}"


def upgrade():
{textwrap.indent(textwrap.dedent(upgrade).strip(), "    ")}


def downgrade():
{textwrap.indent(textwrap.dedent(downgrade).strip(), "    ")}
"""
    (directory / "versions" / f"20991231_{revision}_later_release.py").write_text(body)
    return directory
