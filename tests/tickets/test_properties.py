"""Random sequences of actions by random actors, driven through the services, must keep the desk's
invariants: one audit event per change, +1 version per write, timestamps that match the status, no
transition outside the table, and no requester reading another's ticket or any internal note."""

from __future__ import annotations

from collections import Counter

from hypothesis import HealthCheck, settings
from hypothesis import strategies as st
from hypothesis.stateful import RuleBasedStateMachine, invariant, rule, run_state_machine_as_test
from sqlalchemy import select

from supportdesk.core.db import unit_of_work
from supportdesk.core.errors import DomainError, InvalidTransition, NotFound
from supportdesk.tickets import lifecycle, paging, reads, service, validation
from supportdesk.tickets.lifecycle import Priority, Status
from supportdesk.tickets.models import Ticket, TicketEvent
from supportdesk.tickets.service import TicketChanges
from tests.conftest import _wipe
from tests.factories import make_admin, make_requester, make_technician


def make_machine(app):
    class DeskMachine(RuleBasedStateMachine):
        def __init__(self) -> None:
            super().__init__()
            self.ctx = app.app_context()
            self.ctx.push()
            _wipe(app)
            self.session = app.extensions["supportdesk.sessionmaker"]()
            self.actors = [
                make_requester(self.session),
                make_requester(self.session),
                make_technician(self.session),
                make_admin(self.session),
            ]
            self.numbers: list[int] = []
            self.writes: Counter[int] = Counter()  # successful writes per ticket number
            self.changes: Counter[int] = Counter()  # audit-worthy changes per ticket number

        def teardown(self) -> None:
            self.session.close()
            self.ctx.pop()

        actor_index = st.integers(0, 3)

        @rule(actor=actor_index, subject=st.text(min_size=0, max_size=40), priority=st.sampled_from(Priority))
        def create(self, actor, subject, priority):
            try:
                with unit_of_work(self.session):
                    ticket = service.create_ticket(
                        self.session, self.actors[actor], subject=subject, priority=priority
                    )
            except DomainError:
                return
            self.numbers.append(ticket.number)
            self.writes[ticket.number] += 1
            self.changes[ticket.number] += 1

        @rule(actor=actor_index, pick=st.integers(0, 50), goal=st.sampled_from(Status))
        def transition(self, actor, pick, goal):
            if not self.numbers:
                return
            number = self.numbers[pick % len(self.numbers)]
            user = self.actors[actor]
            before = self._status(number)
            try:
                with unit_of_work(self.session):
                    service.transition(self.session, user, number, goal)
            except NotFound:
                assert not user.is_staff
                return
            except InvalidTransition:
                # No clock travel here, so every reopen is within the window: only the table refuses.
                assert goal not in lifecycle.allowed_transitions(before, user.role)
                return
            assert goal in lifecycle.allowed_transitions(before, user.role)
            self.writes[number] += 1
            self.changes[number] += 1

        @rule(
            actor=actor_index,
            pick=st.integers(0, 50),
            priority=st.sampled_from(Priority),
            assign=st.booleans(),
            subject=st.text(max_size=20),
        )
        def update(self, actor, pick, priority, assign, subject):
            if not self.numbers:
                return
            number = self.numbers[pick % len(self.numbers)]
            user = self.actors[actor]
            before = self.session.scalars(select(Ticket).where(Ticket.number == number)).one()
            old = (before.priority, before.assignee_id, before.subject)
            assignee = self.actors[2].id if assign else None
            try:
                with unit_of_work(self.session):
                    service.update_ticket(
                        self.session,
                        user,
                        number,
                        TicketChanges(priority=priority, assignee_id=assignee, subject=subject),
                        expected_version=before.version,
                    )
            except DomainError:
                return
            assert user.is_staff
            stored = validation.clean_subject(subject, [])  # control characters go, as the service does
            changed = (priority is not old[0]) + (assignee != old[1]) + (stored != old[2])
            if changed:
                self.writes[number] += 1
                self.changes[number] += changed

        @rule(actor=actor_index, pick=st.integers(0, 50), internal=st.booleans(), body=st.text(max_size=30))
        def comment(self, actor, pick, internal, body):
            if not self.numbers:
                return
            number = self.numbers[pick % len(self.numbers)]
            before = self._status(number)
            user = self.actors[actor]
            try:
                with unit_of_work(self.session):
                    service.add_comment(self.session, user, number, body, internal=internal)
            except DomainError:
                return
            assert user.is_staff or not internal
            after = self._status(number)
            # An internal note leaves the ticket row (its version) alone unless it moved the status.
            self.writes[number] += 1 if not internal or after is not before else 0
            self.changes[number] += 1 + (after is not before)

        def _status(self, number: int) -> Status:
            return self.session.scalars(select(Ticket.status).where(Ticket.number == number)).one()

        @invariant()
        def audit_trail_and_versions_match_the_changes(self):
            self.session.expire_all()
            tickets = {t.number: t for t in self.session.scalars(select(Ticket))}
            counts = Counter(
                number
                for (number,) in self.session.execute(
                    select(Ticket.number).join(TicketEvent, TicketEvent.ticket_id == Ticket.id)
                )
            )
            for number, ticket in tickets.items():
                assert counts[number] == self.changes[number]
                assert ticket.version == self.writes[number]

        @invariant()
        def timestamps_match_the_status(self):
            for ticket in self.session.scalars(select(Ticket)):
                assert (ticket.resolved_at is not None) == (ticket.status in lifecycle.DONE_STATUSES)
                assert (ticket.closed_at is not None) == (ticket.status is Status.CLOSED)

        @invariant()
        def requesters_never_read_others_tickets_or_internal_notes(self):
            for requester in self.actors[:2]:
                for ticket in reads.list_tickets(self.session, requester, page=paging.PageRequest(100)).items:
                    assert ticket.requester.id == requester.id
                for number in self.numbers:
                    try:
                        comments = reads.list_comments(self.session, requester, number)
                    except NotFound:
                        owner = self.session.scalars(
                            select(Ticket.requester_id).where(Ticket.number == number)
                        ).one()
                        assert owner != requester.id
                        continue
                    assert all(not c.internal for c in comments)

    return DeskMachine


def test_random_actions_keep_the_desks_invariants(app):
    run_state_machine_as_test(
        make_machine(app),
        settings=settings(
            max_examples=25,
            stateful_step_count=25,
            deadline=None,
            suppress_health_check=[HealthCheck.too_slow],
        ),
    )
