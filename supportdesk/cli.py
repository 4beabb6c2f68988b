"""Command-line tasks: `flask create-user`, `flask seed-demo`, `flask close-resolved`, `flask run-worker`
(the job engine's consumer and scheduler)."""

from __future__ import annotations

import click
from flask import Flask, current_app
from flask.cli import with_appcontext

from supportdesk.accounts import service as accounts
from supportdesk.accounts.models import Role
from supportdesk.core.db import db
from supportdesk.core.errors import ValidationError


@click.command("create-user")
@with_appcontext
@click.option("--email", prompt=True, help="Sign-in email address.")
@click.option("--name", "full_name", prompt="Full name", help="The name shown on tickets.")
@click.option(
    "--role", type=click.Choice([r.value for r in Role]), default=Role.REQUESTER.value, show_default=True
)
@click.password_option(help="At least 8 characters; asked for when not given.")
def create_user_command(email: str, full_name: str, role: str, password: str) -> None:
    """Create a user (the first admin: --role admin)."""
    try:
        with db.transaction() as session:
            user = accounts.register_user(
                session, email=email, full_name=full_name, password=password, role=Role(role)
            )
    except ValidationError as error:
        raise click.ClickException(error.detail) from None
    click.echo(f"Created {user.role.value} {user.email} (id {user.id}).")


@click.command("seed-demo")
@with_appcontext
@click.option("--force", is_flag=True, help="Seed even when demo data is already present.")
def seed_demo_command(force: bool) -> None:
    """Load deterministic demo teams, users and 300 tickets (once)."""
    from supportdesk import demo

    if not force and demo.already_seeded(db.session()):
        click.echo("Demo data is already loaded.")
    else:
        with db.transaction() as session:
            summary = demo.seed(session)
        click.echo(f"Loaded {summary}.")
    click.echo(demo.LOGINS_TEXT)


@click.command("close-resolved")
@with_appcontext
def close_resolved_command() -> None:
    """Close tickets resolved longer ago than AUTO_CLOSE_DAYS now (the worker does it every 5 minutes)."""
    from supportdesk.jobs import tasks

    days = current_app.config["SUPPORTDESK"].auto_close_days
    closed = tasks.close_resolved(days)
    click.echo(f"Closed {closed} ticket(s) resolved more than {days} days ago.")


@click.command("run-worker")
@with_appcontext
@click.option("--once", is_flag=True, help="Run every periodic job and everything queued once, then exit.")
def run_worker_command(once: bool) -> None:
    """Run the job engine's consumer (Huey): queued jobs on WORKER_THREADS threads, and the scheduler,
    until stopped (SIGTERM waits for running jobs; SIGINT too); and, unless IMAP_IDLE=0, the desk
    mailboxes' IDLE watcher."""
    from supportdesk.jobs import engine

    app = current_app._get_current_object()  # type: ignore[attr-defined]
    if once:
        for name in engine.run_periodic(app):
            click.echo(f"Ran {name}.")
        click.echo(f"Ran {engine.run_queued(app)} queued job(s).")
        return
    if app.config["SUPPORTDESK"].imap_idle:
        from supportdesk.inbound.watching import MailboxWatcher

        MailboxWatcher(app).start()  # new mail read at once (IMAP IDLE), besides the minute's poll
    engine.run_consumer(app)


def init_app(app: Flask) -> None:
    from supportdesk.accounts.directory_sync import ldap_sync_command

    for command in (create_user_command, seed_demo_command, close_resolved_command, run_worker_command):
        app.cli.add_command(command)
    app.cli.add_command(ldap_sync_command)
