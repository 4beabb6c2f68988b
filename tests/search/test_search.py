"""Full-text search over subject, description and replies, on both databases, scoped by the policy."""

import pytest

from supportdesk.search.service import terms
from supportdesk.tickets import reads, service
from supportdesk.tickets.paging import TicketFilters
from supportdesk.tickets.service import TicketChanges
from tests.factories import make_requester, make_technician, make_ticket


def found(session, actor, text):
    return {t.number for t in reads.list_tickets(session, actor, TicketFilters(text=text)).items}


@pytest.fixture
def desk(session):
    alice, bob, tech = make_requester(session), make_requester(session), make_technician(session)
    vpn = make_ticket(session, alice, subject="VPN keeps dropping", description="Since the update on Monday.")
    printer = make_ticket(
        session, bob, subject="Printer on 3rd floor", description="Error 13.B2 on every job."
    )
    service.add_comment(session, tech, printer.number, "The fuser unit is worn out; replacement ordered.")
    session.commit()
    service.add_comment(session, tech, vpn.number, "Suspect the keepalive bug in client 5.2.1", internal=True)
    session.commit()
    return {"alice": alice, "bob": bob, "tech": tech, "vpn": vpn.number, "printer": printer.number}


def test_words_in_comments_descriptions_and_subjects_are_found(session, desk):
    tech = desk["tech"]
    assert found(session, tech, "fuser") == {desk["printer"]}
    assert found(session, tech, "monday") == {desk["vpn"]}
    assert found(session, tech, "printer floor") == {desk["printer"]}
    assert found(session, tech, "replacement ordered") == {desk["printer"]}


def test_stemming_and_prefixes_work_while_typing(session, desk):
    assert found(session, desk["tech"], "dropped") == {desk["vpn"]}  # stem of "dropping"
    assert found(session, desk["tech"], "repla") == {desk["printer"]}  # prefix of the last word


def test_requesters_find_only_their_tickets_and_never_by_internal_notes(session, desk):
    assert found(session, desk["tech"], "keepalive") == {desk["vpn"]}
    assert found(session, desk["alice"], "keepalive") == set()
    assert found(session, desk["alice"], "fuser") == set()  # Bob's ticket
    assert found(session, desk["bob"], "fuser") == {desk["printer"]}


def test_ticket_numbers_are_found_too(session, desk):
    assert found(session, desk["tech"], f"#{desk['vpn']}") == {desk["vpn"]}


def test_subject_changes_are_searchable(session, desk):
    service.update_ticket(session, desk["tech"], desk["vpn"], TicketChanges(subject="Remote access outage"))
    session.commit()
    assert found(session, desk["tech"], "outage") == {desk["vpn"]}
    assert found(session, desk["alice"], "outage") == {desk["vpn"]}
    assert found(session, desk["tech"], "keepalive") == {desk["vpn"]}  # internal text kept


@pytest.mark.parametrize("query", ['"', "'", "AND OR NOT", "*", "NEAR(", "a:b", "\\", "%_", "🙂", "-", "((("])
def test_any_input_is_a_query_never_an_error(session, desk, query):
    found(session, desk["tech"], query)


def test_terms_drop_operators_and_limit_length():
    assert terms('printer "jam" OR -fire*') == ["printer", "jam", "or", "fire"]
    assert len(terms("word " * 50)) == 8


def test_suggestions_use_any_meaningful_word_and_stay_in_scope(session, desk):
    alice_vpn = reads.suggest_similar(session, desk["alice"], "my vpn is not working")
    assert [t.number for t in alice_vpn] == [desk["vpn"]]
    assert reads.suggest_similar(session, desk["alice"], "printer floor") == []
    assert reads.suggest_similar(session, desk["alice"], "the and is") == []
    assert [t.number for t in reads.suggest_similar(session, desk["tech"], "printer")] == [desk["printer"]]


def test_a_word_in_both_a_public_reply_and_an_internal_note_is_found_by_the_requester(session, desk):
    service.add_comment(session, desk["tech"], desk["vpn"], "Please try the keepalive setting again.")
    session.commit()
    assert found(session, desk["alice"], "keepalive") == {desk["vpn"]}


def test_postgresql_searches_one_stored_vector_through_its_gin_index(session, desk):
    """Parsing the text once per change (a stored tsvector, internal notes weighted apart) is what keeps
    seeding and writes cheap; both scopes must still reach the rows through the GIN index."""
    if session.get_bind().dialect.name != "postgresql":
        pytest.skip("PostgreSQL only")
    from sqlalchemy import select, text

    from supportdesk.search.service import matching_tickets
    from supportdesk.tickets.models import Ticket

    session.execute(text("SET LOCAL enable_seqscan = off"))
    for actor in (desk["tech"], desk["alice"]):
        query = select(Ticket.id).where(matching_tickets(session, actor, "keepalive"))
        compiled = query.compile(session.get_bind())
        explained = session.connection().exec_driver_sql(f"EXPLAIN {compiled.string}", compiled.params)
        plan = "\n".join(row[0] for row in explained)
        assert "ix_ticket_search_document" in plan
        assert "to_tsvector" not in plan  # read from the stored column, never parsed per row


def test_a_search_considers_only_the_most_recent_matches(session, desk, monkeypatch):
    """Like Zendesk's 1,000-result cap: a word in every ticket costs the same as a rare one."""
    import supportdesk.search.service as search_service

    requester = desk["alice"]
    newer = [make_ticket(session, requester, subject=f"Monitor flickers {i}").number for i in range(3)]
    monkeypatch.setattr(search_service, "MAX_MATCHES", 2)
    assert found(session, desk["tech"], "monitor") == set(newer[-2:])
