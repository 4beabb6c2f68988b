import html
from urllib.parse import parse_qs, urlsplit

import pytest
from sqlalchemy import event

from tests.conftest import csrf_token, login
from tests.factories import PASSWORD, make_admin, make_requester, make_technician, make_ticket


def test_login_page_has_labelled_fields_and_a_csrf_token(client):
    page = client.get("/login").get_data(as_text=True)
    assert '<label class="form-label" for="email">Email</label>' in page
    assert '<label class="form-label" for="password">Password</label>' in page
    assert 'name="csrf_token"' in page


def test_anonymous_visitors_are_sent_to_sign_in(client):
    response = client.get("/portal/")
    assert response.status_code == 302
    assert response.headers["Location"].startswith("/login?next=/portal/")


@pytest.mark.parametrize(
    ("make", "landing", "heading"),
    [
        (make_requester, "/portal/", "My tickets"),
        (make_technician, "/desk/", "Unassigned"),
        (make_admin, "/desk/", "Unassigned"),
    ],
)
def test_each_role_lands_on_its_page(client, session, make, landing, heading):
    user = make(session)
    login(client, user.email)
    response = client.get("/")
    assert response.headers["Location"] == landing
    page = client.get(landing).get_data(as_text=True)
    assert f">{heading}</h1>" in page
    assert user.full_name in page


def test_wrong_password_gets_a_message_that_does_not_say_which_part_was_wrong(client, session):
    user = make_requester(session)
    for email in (user.email, "nobody@example.com"):
        token = csrf_token(client, "/login")
        response = client.post("/login", data={"email": email, "password": "wrong", "csrf_token": token})
        assert response.status_code == 401
        assert "do not match an active account" in response.get_data(as_text=True)


def test_login_without_csrf_token_is_refused(client, session):
    user = make_requester(session)
    response = client.post("/login", data={"email": user.email, "password": PASSWORD})
    assert response.status_code == 400
    assert client.get("/portal/").status_code == 302


def test_signing_in_follows_next_only_to_this_site(client, session):
    user = make_requester(session)
    for target, expected in (
        ("/portal/?tab=closed", "/portal/?tab=closed"),
        ("//evil.example", "/"),
        ("https://evil.example/", "/"),
        ("/\\evil.example", "/"),
    ):
        token = csrf_token(client, "/login")
        response = client.post(
            f"/login?next={target}", data={"email": user.email, "password": PASSWORD, "csrf_token": token}
        )
        assert response.headers["Location"] == expected
        client.post("/logout", data={"csrf_token": csrf_token(client, "/portal/")})


def test_signed_in_users_visiting_login_go_to_their_landing(client, session):
    user = make_requester(session)
    login(client, user.email)
    assert client.get("/login").headers["Location"] == "/"


def test_logout_ends_the_session(client, session):
    user = make_requester(session)
    login(client, user.email)
    response = client.post("/logout", data={"csrf_token": csrf_token(client, "/portal/")})
    assert response.headers["Location"] == "/login"
    assert client.get("/portal/").status_code == 302


def test_deactivated_users_sessions_end_and_they_cannot_sign_in(client, session):
    user = make_requester(session)
    login(client, user.email)
    user.is_active = False
    session.commit()
    assert client.get("/portal/").status_code == 302
    token = csrf_token(client, "/login")
    response = client.post("/login", data={"email": user.email, "password": PASSWORD, "csrf_token": token})
    assert response.status_code == 401


def test_session_cookie_is_httponly_and_samesite(client, session):
    user = make_requester(session)
    token = csrf_token(client, "/login")
    response = client.post("/login", data={"email": user.email, "password": PASSWORD, "csrf_token": token})
    cookie = response.headers["Set-Cookie"]
    assert "HttpOnly" in cookie and "SameSite=Lax" in cookie


def test_portal_lists_only_the_requesters_own_tickets_by_tab(client, session):
    alice = make_requester(session)
    bob = make_requester(session)
    tech = make_technician(session)
    make_ticket(session, alice, subject="Alice's monitor flickers")
    make_ticket(session, bob, subject="Bob's secret salary question")
    done = make_ticket(session, alice, subject="Alice's old VPN problem")
    from supportdesk.tickets import service
    from supportdesk.tickets.lifecycle import Status

    service.transition(session, tech, done.number, Status.RESOLVED)
    session.commit()
    login(client, alice.email)
    open_tab = client.get("/portal/").get_data(as_text=True)
    assert "Alice&#39;s monitor flickers" in open_tab
    assert "Bob" not in open_tab and "old VPN" not in open_tab
    closed_tab = client.get("/portal/?tab=closed").get_data(as_text=True)
    assert "Alice&#39;s old VPN problem" in closed_tab and "monitor" not in closed_tab
    assert "monitor" in client.get("/portal/?tab=bogus").get_data(as_text=True)


def test_portal_empty_state_says_so(client, session):
    login(client, make_requester(session).email)
    assert "You have no open tickets." in client.get("/portal/").get_data(as_text=True)


def test_desk_lists_everyones_open_tickets_and_pages_through_them(client, session):
    tech = make_technician(session)
    alice = make_requester(session, full_name="Alice Anders")
    for i in range(27):
        make_ticket(session, alice, subject=f"Ticket number {i}")
    login(client, tech.email)
    first = client.get("/desk/").get_data(as_text=True)
    assert first.count('class="sd-subject"') == 25 and "Alice Anders" in first
    assert "Next page" in first
    next_url = first.split('href="/desk/?cursor=')[1].split('"')[0]
    second = client.get(f"/desk/?cursor={next_url}").get_data(as_text=True)
    assert second.count('class="sd-subject"') == 2 and "Next page" not in second and "First page" in second


def test_requesters_get_not_found_on_the_desk(client, session):
    login(client, make_requester(session).email)
    response = client.get("/desk/")
    assert response.status_code == 404
    assert "This page is for the support desk." in response.get_data(as_text=True)


def test_a_bad_cursor_is_a_clear_error_not_a_crash(client, session):
    login(client, make_technician(session).email)
    response = client.get("/desk/?cursor=nonsense")
    assert response.status_code == 422
    assert "cursor" in response.get_data(as_text=True)


def test_ticket_text_is_escaped(client, session):
    alice = make_requester(session)
    make_ticket(session, alice, subject="<script>alert(1)</script>")
    login(client, alice.email)
    page = client.get("/portal/").get_data(as_text=True)
    assert "<script>alert(1)</script>" not in page
    assert "&lt;script&gt;alert(1)&lt;/script&gt;" in page


def test_every_request_reads_its_user_afresh_with_one_statement(clean_app, session):
    """Nothing a permission depends on is cached: the signed-in user is read on every request (one
    statement), so each sees their own name, and a deactivation counts on the very next request."""
    people = [make_technician(session), make_technician(session)]
    statements: list[str] = []
    engine = clean_app.extensions["supportdesk.engine"]

    def record(_conn, _cursor, statement, *_args):  # type: ignore[no-untyped-def]
        statements.append(statement)

    clients = []
    for person in people:
        client = clean_app.test_client()
        login(client, person.email)
        clients.append(client)
    pages = []
    event.listen(engine, "before_cursor_execute", record)
    try:
        for client in clients:
            statements.clear()
            pages.append(client.get("/desk/?view=open").get_data(as_text=True))
            assert len([s for s in statements if "FROM users" in s and "users.id =" in s]) == 1
    finally:
        event.remove(engine, "before_cursor_execute", record)
    assert [person.full_name in page for person, page in zip(people, pages, strict=True)] == [True, True]
    people[0].is_active = False
    session.commit()
    assert clients[0].get("/desk/?view=open").status_code == 302


def test_the_next_page_keeps_every_filter_repeated_ones_included(client, session):
    tech = make_technician(session)
    alice = make_requester(session)
    for i in range(27):
        make_ticket(session, alice, subject=f"Ticket number {i}")
    login(client, tech.email)
    first = client.get("/desk/?view=open&status=new&status=open&sort=-number").get_data(as_text=True)
    next_url = html.unescape(first.split(">Next page<")[0].rsplit('href="', 1)[1].split('"')[0])
    assert next_url.startswith("/desk/?")
    query = parse_qs(urlsplit(next_url).query)
    assert (query["view"], query["status"], query["sort"], len(query["cursor"])) == (
        ["open"],
        ["new", "open"],
        ["-number"],
        1,
    )
    second = client.get(next_url).get_data(as_text=True)
    assert second.count('class="sd-subject"') == 2 and "Ticket number 1<" in second
