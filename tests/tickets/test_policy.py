"""The policy's per-object answers agree with the query scope every list starts from."""

from sqlalchemy import select

from supportdesk.tickets import policy, service
from supportdesk.tickets.models import Comment, Ticket
from tests.factories import make_admin, make_requester, make_technician, make_ticket


def test_can_see_agrees_with_the_query_scope_for_every_actor_and_ticket(session):
    alice, bob = make_requester(session), make_requester(session)
    tech, admin = make_technician(session), make_admin(session)
    retired = make_technician(session, is_active=False)
    for owner in (alice, bob, alice):
        make_ticket(session, owner)
    tickets = list(session.scalars(select(Ticket)))
    for actor in (alice, bob, tech, admin, retired):
        scoped = {t.id for t in session.scalars(policy.visible_tickets(actor))}
        assert scoped == {t.id for t in tickets if policy.can_see_ticket(actor, t)}
    assert {t.id for t in session.scalars(policy.visible_tickets(retired))} == set()


def test_can_see_comment_agrees_with_the_comment_scope(session):
    alice, bob, tech = make_requester(session), make_requester(session), make_technician(session)
    ticket = make_ticket(session, alice)
    service.add_comment(session, tech, ticket.number, "public answer")
    session.commit()
    service.add_comment(session, tech, ticket.number, "internal note", internal=True)
    session.commit()
    comments = list(session.scalars(select(Comment)))
    for actor in (alice, bob, tech):
        visible = {c.id for c in comments if policy.can_see_comment(actor, c)}
        scoped = {
            c.id
            for c in session.scalars(
                select(Comment).join(Ticket).where(policy.ticket_scope(actor), policy.comment_scope(actor))
            )
        }
        assert visible == scoped
    assert [c.body for c in comments if policy.can_see_comment(alice, c)] == ["public answer"]
    assert not any(policy.can_see_comment(bob, c) for c in comments)
