"""The releases the deploy test ships, all real artifacts from deploy/build_release.py:
- the current tree;
- "next": the current tree plus a migration (expand: a nullable column and an index built
  CONCURRENTLY), as the next release of the desk would add one;
- "broken": "next" plus another migration, whose app fails to start (gunicorn cannot import the app
  module it is told to load), so its migrations run and the previous release must serve on them."""

from __future__ import annotations

import shutil
from pathlib import Path

from deploy.build_release import CONTENTS, build, git_version

ROOT = Path(__file__).resolve().parents[2]

NEXT_MIGRATION = '''"""Deploy test: the next release adds a column and an index (expand-then-contract)."""

import sqlalchemy as sa
from alembic import op

from supportdesk.core.migrating import create_index_concurrently

revision = "d3910e5e0001"
down_revision = "{head}"


def upgrade():
    with op.batch_alter_table("tickets") as batch:
        batch.add_column(sa.Column("deploy_test_note", sa.Text(), nullable=True))
    create_index_concurrently("ix_tickets_deploy_test_note", "tickets", ["deploy_test_note"])


def downgrade():
    op.drop_index("ix_tickets_deploy_test_note", table_name="tickets")
    with op.batch_alter_table("tickets") as batch:
        batch.drop_column("deploy_test_note")
'''

BROKEN_MIGRATION = '''"""Deploy test: the broken release's migration (it runs; the app then fails to start)."""

import sqlalchemy as sa
from alembic import op

revision = "d3910e5e0002"
down_revision = "d3910e5e0001"


def upgrade():
    op.create_table("deploy_test_broken", sa.Column("id", sa.Integer(), primary_key=True))


def downgrade():
    op.drop_table("deploy_test_broken")
'''


def _copy_tree(destination: Path) -> Path:
    destination.mkdir(parents=True)
    for name in CONTENTS:
        source = ROOT / name
        if source.is_dir():
            shutil.copytree(source, destination / name, ignore=shutil.ignore_patterns("__pycache__"))
        else:
            shutil.copy2(source, destination / name)
    return destination


def current_head() -> str:
    from supportdesk.core.health import expected_heads

    (head,) = expected_heads()
    return head


def build_all(work: Path, output: Path) -> dict[str, Path]:
    version = git_version(ROOT)
    releases = {"current": build(ROOT, version, output)}

    following = _copy_tree(work / "next")
    (following / "migrations" / "versions" / "29991231_d3910e5e0001_deploy_test_next.py").write_text(
        NEXT_MIGRATION.format(head=current_head())
    )
    releases["next"] = build(following, f"{version}-next", output)

    broken = _copy_tree(work / "broken")
    shutil.copy2(
        following / "migrations" / "versions" / "29991231_d3910e5e0001_deploy_test_next.py",
        broken / "migrations" / "versions" / "29991231_d3910e5e0001_deploy_test_next.py",
    )
    (broken / "migrations" / "versions" / "29991231_d3910e5e0002_deploy_test_broken.py").write_text(
        BROKEN_MIGRATION
    )
    settings = broken / "deploy" / "gunicorn.conf.py"
    text = settings.read_text()
    assert 'wsgi_app = "supportdesk.app:create_app()"' in text
    settings.write_text(
        text.replace('"supportdesk.app:create_app()"', '"supportdesk.no_such_module:create_app()"')
    )
    releases["broken"] = build(broken, f"{version}-broken", output)
    return releases
