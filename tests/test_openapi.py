"""The generated OpenAPI document, and schemathesis throwing generated requests at every operation:
no 5xx, and every response matches the document."""

from __future__ import annotations

import pytest
import schemathesis
from hypothesis import HealthCheck, given, settings
from schemathesis import checks

from supportdesk.accounts import tokens
from supportdesk.tickets import service
from tests.conftest import _wipe
from tests.factories import PASSWORD, make_admin, make_category, make_requester, make_team, make_ticket


def test_the_document_describes_every_api_route(client, clean_app):
    spec = client.get("/api/v1/openapi.json").get_json()
    assert spec["openapi"].startswith("3.")
    documented = {(method.upper(), path) for path, ops in spec["paths"].items() for method in ops}
    routed = set()
    for rule in clean_app.url_map.iter_rules():
        if rule.rule.startswith("/api/v1/") and rule.endpoint.startswith("api."):
            path = rule.rule.replace("<id:", "{").replace(">", "}")
            routed |= {(m, path) for m in rule.methods - {"HEAD", "OPTIONS"}}
    assert routed == documented
    ticket = spec["components"]["schemas"]["TicketOut"]
    assert ticket["properties"]["status"]["$ref"] == "#/components/schemas/Status"
    assert spec["components"]["schemas"]["TicketCreate"]["additionalProperties"] is False


def test_interactive_docs_page(client):
    page = client.get("/api/docs")
    assert page.status_code == 200
    assert "swagger-ui-bundle.js" in page.get_data(as_text=True)
    assert (
        "'unsafe-inline'" not in page.headers["Content-Security-Policy"].split("script-src")[1].split(";")[0]
    )


@pytest.fixture
def api_schema(clean_app, session):
    """The live document of an app holding a little data, for schemathesis."""
    team = make_team(session, "Network")
    make_category(session, "VPN", team=team)
    admin = make_admin(session, email="schema-admin@example.com")
    ticket = make_ticket(session, make_requester(session))
    service.add_comment(session, admin, ticket.number, "hello")
    session.commit()
    _, secret = tokens.issue_token(session, admin.email, PASSWORD, "schemathesis")
    session.commit()
    clean_app.config["SCHEMATHESIS_TOKEN"] = secret
    return schemathesis.openapi.from_wsgi("/api/v1/openapi.json", clean_app)


def test_generated_requests_never_break_the_api(api_schema, clean_app):
    """Every operation, bounded examples each: no 5xx, status codes, content types, headers and bodies
    as documented. (Driven through hypothesis directly: schemathesis' pytest plugin does not support
    this pytest's parametrised fixtures.)"""
    token = clean_app.config["SCHEMATHESIS_TOKEN"]
    validations = [
        checks.not_a_server_error,
        checks.status_code_conformance,
        checks.content_type_conformance,
        checks.response_schema_conformance,
        checks.response_headers_conformance,
    ]
    operations = [result.ok() for result in api_schema.get_all_operations()]
    assert len(operations) >= 17

    for operation in operations:

        @given(case=operation.as_strategy())
        @settings(
            max_examples=25,
            deadline=None,
            suppress_health_check=list(HealthCheck),
            derandomize=True,
            database=None,
        )
        def exercise(case):  # type: ignore[no-untyped-def]
            case.call_and_validate(headers={"Authorization": f"Bearer {token}"}, checks=validations)

        exercise()


def _seed_for_sequences(app) -> str:
    """Empty tables and the same few rows: every sequence starts from the same state, so hypothesis sees
    the same answers to the same steps (otherwise it reports its own generation as flaky)."""
    _wipe(app)
    session = app.extensions["supportdesk.sessionmaker"]()
    try:
        team = make_team(session, "Network")
        make_category(session, "VPN", team=team)
        admin = make_admin(session, email="sequence-admin@example.com")
        ticket = make_ticket(session, make_requester(session))
        service.add_comment(session, admin, ticket.number, "hello")
        _, secret = tokens.issue_token_for(session, admin, "schemathesis")
        session.commit()
        return secret
    finally:
        session.close()


def test_stateful_sequences_never_break_the_api(clean_app):
    """Sequences of calls that feed each other (a created ticket's number into its comments, patches and
    events; a created team into a category), with the links schemathesis infers from the document: no
    5xx, and every response as documented. Each sequence starts from the same seeded tables."""
    schema = schemathesis.openapi.from_wsgi("/api/v1/openapi.json", clean_app)
    base = schema.as_state_machine()
    assert schema.statistic.transitions.total >= 20  # links were inferred: steps feed each other
    validations = [
        checks.not_a_server_error,
        checks.status_code_conformance,
        checks.content_type_conformance,
        checks.response_schema_conformance,
    ]

    class Sequences(base):  # type: ignore[misc, valid-type]
        def setup(self) -> None:
            self.token = _seed_for_sequences(clean_app)

        def get_call_kwargs(self, case):  # type: ignore[no-untyped-def]
            return {"headers": {"Authorization": f"Bearer {self.token}"}}

        def validate_response(self, response, case, additional_checks=None, **kwargs):  # type: ignore[no-untyped-def]
            case.validate_response(response, checks=validations, transport_kwargs=kwargs or None)

    Sequences.run(
        settings=settings(
            max_examples=30,
            stateful_step_count=8,
            deadline=None,
            database=None,
            derandomize=True,
            suppress_health_check=list(HealthCheck),
        )
    )
