from sqlalchemy import func, select

from supportdesk.accounts.models import Role, Team, User
from supportdesk.tickets.lifecycle import Status
from supportdesk.tickets.models import Category, Comment, Ticket, TicketEvent
from tests.factories import make_requester, make_technician, make_ticket


def test_create_user_makes_the_first_admin(clean_app, session):
    runner = clean_app.test_cli_runner()
    result = runner.invoke(
        args=[
            "create-user",
            "--email",
            "Boss@Example.com",
            "--name",
            "The Boss",
            "--role",
            "admin",
            "--password",
            "s3cret-pass",
        ]
    )
    assert result.exit_code == 0, result.output
    assert "Created admin boss@example.com" in result.output
    user = session.scalars(select(User)).one()
    assert (user.role, user.full_name) == (Role.ADMIN, "The Boss")


def test_create_user_reports_bad_input_without_a_traceback(clean_app):
    result = clean_app.test_cli_runner().invoke(
        args=["create-user", "--email", "bad", "--name", "X", "--password", "short"]
    )
    assert result.exit_code == 1
    assert "email: is not a valid email address" in result.output
    assert "Traceback" not in result.output


def test_seed_demo_loads_a_realistic_desk_once(clean_app, session):
    runner = clean_app.test_cli_runner()
    result = runner.invoke(args=["seed-demo"])
    assert result.exit_code == 0, result.output
    assert "admin@example.com" in result.output and "demo1234" in result.output
    count = lambda model: session.scalar(select(func.count()).select_from(model))  # noqa: E731
    assert (count(Team), count(Category), count(Ticket)) == (3, 8, 300)
    roles = dict(session.execute(select(User.role, func.count()).group_by(User.role)).all())
    assert roles == {Role.ADMIN: 1, Role.TECHNICIAN: 5, Role.REQUESTER: 40}
    statuses = {s for (s,) in session.execute(select(Ticket.status).distinct())}
    assert statuses == set(Status)
    assert count(Comment) > 300 and count(TicketEvent) > count(Ticket)
    employee = session.scalars(select(User).where(User.email == "employee@example.com")).one()
    assert session.scalar(select(func.count(Ticket.id)).where(Ticket.requester_id == employee.id)) >= 10
    again = runner.invoke(args=["seed-demo"])
    assert "already loaded" in again.output and count(Ticket) == 300


def test_close_resolved_closes_old_resolved_tickets(clean_app, session):
    from datetime import timedelta

    from supportdesk.core import clock
    from supportdesk.tickets import service

    tech = make_technician(session)
    ticket = make_ticket(session, make_requester(session))
    with clock.frozen_at(clock.now() - timedelta(days=30)):
        service.transition(session, tech, ticket.number, Status.RESOLVED)
        session.commit()
    result = clean_app.test_cli_runner().invoke(args=["close-resolved"])
    assert "Closed 1 ticket(s) resolved more than 7 days ago." in result.output
    session.expire_all()
    assert session.get(Ticket, ticket.id).status is Status.CLOSED
