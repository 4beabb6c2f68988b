"""The directory sync (the worker's scheduled job and `flask ldap-sync`): accounts follow the directory.
Created, updated (name, email, role and teams from groups), deactivated when removed or disabled, in one
unit of work per run; local accounts and admins not from the directory are never touched."""

from __future__ import annotations

import dataclasses

import pytest
from sqlalchemy import select

from supportdesk.accounts import directory_accounts, directory_sync
from supportdesk.accounts.directory import DirectoryUnavailable
from supportdesk.accounts.models import Role, Team, User
from supportdesk.jobs import engine
from tests.conftest import csrf_token
from tests.directory.fixtures import settings_for
from tests.directory.test_sign_in import sign_in, signed_in_as
from tests.factories import PASSWORD, make_admin, make_requester, make_team


def by_email(session) -> dict[str, User]:  # type: ignore[no-untyped-def]
    session.expire_all()
    return {u.email: u for u in session.scalars(select(User))}


def run(app):  # type: ignore[no-untyped-def]
    with app.app_context():
        return directory_sync.run_sync()


def counts(report) -> dict[str, int]:  # type: ignore[no-untyped-def]
    return {k: v for k, v in dataclasses.asdict(report).items() if v}


def test_a_sync_creates_everyone_with_their_role_and_teams(directory_app, session, ldap_tree):
    ldap_tree.add_user("ann", "pw-Ann-123", name="Ann Admin")
    ldap_tree.add_user("tom", "pw-Tom-123", name="Tom Tech")
    ldap_tree.add_user("eve", "pw-Eve-123", name="Eve Employee")
    ldap_tree.add_to_group("desk-admins", "ann")
    ldap_tree.add_to_group("desk-technicians", "ann")
    ldap_tree.add_to_group("desk-technicians", "tom")
    ldap_tree.add_to_group("network", "tom")
    ldap_tree.add_to_group("hardware", "tom")
    ldap_tree.add_to_group("network", "eve")  # a team is for staff: a requester joins none

    report = run(directory_app)

    assert counts(report) == {"created": 3, "seen": 3}
    people = by_email(session)
    assert {e: (u.full_name, u.role, [t.name for t in u.teams]) for e, u in people.items()} == {
        "ann@example.org": ("Ann Admin", Role.ADMIN, []),
        "tom@example.org": ("Tom Tech", Role.TECHNICIAN, ["Hardware", "Network"]),
        "eve@example.org": ("Eve Employee", Role.REQUESTER, []),
    }
    assert all(directory_accounts.is_directory_account(session, u) for u in people.values())
    assert counts(run(directory_app)) == {"unchanged": 3, "seen": 3}  # a second run changes nothing


def test_a_sync_follows_changes_of_name_email_and_groups(directory_app, session, ldap_tree):
    ldap_tree.add_user("tom", "pw-Tom-123", name="Tom Tech")
    ldap_tree.add_to_group("desk-technicians", "tom")
    ldap_tree.add_to_group("network", "tom")
    run(directory_app)
    tom_id = by_email(session)["tom@example.org"].id
    escalations = make_team(session, "Escalations", members=[session.get(User, tom_id)])  # not mapped

    ldap_tree.change_user("tom", cn="Thomas Tech", mail="thomas@example.org")
    ldap_tree.remove_from_group("network", "tom")
    ldap_tree.add_to_group("hardware", "tom")
    report = run(directory_app)

    assert counts(report) == {"updated": 1, "seen": 1}
    tom = by_email(session)["thomas@example.org"]
    assert (tom.id, tom.full_name, tom.role) == (tom_id, "Thomas Tech", Role.TECHNICIAN)
    # Mapped teams follow the groups; a team the admins run by hand keeps its member.
    assert sorted(t.name for t in tom.teams) == ["Escalations", "Hardware"]
    assert escalations.id in {t.id for t in tom.teams}

    ldap_tree.remove_from_group("desk-technicians", "tom")
    run(directory_app)
    tom = by_email(session)["thomas@example.org"]
    assert (tom.role, tom.teams) == (Role.REQUESTER, [])  # no longer staff: off every team


def test_people_removed_or_disabled_in_the_directory_are_deactivated_and_signed_out(
    directory_app, client, session, ldap_tree
):
    ldap_tree.add_user("ann", "pw-Ann-123")
    ldap_tree.add_user("bob", "pw-Bob-123")
    ldap_tree.add_user("cat", "pw-Cat-123")
    assert sign_in(client, "bob", "pw-Bob-123").status_code == 302
    run(directory_app)

    ldap_tree.remove_user("bob")
    config = directory_app.config["SUPPORTDESK"]
    directory_app.config["SUPPORTDESK"] = dataclasses.replace(
        config,
        directory=settings_for(
            ldap_tree, LDAP_USER_FILTER="(&(objectClass=inetOrgPerson)(!(employeeType=disabled)))"
        ),
    )
    ldap_tree.change_user("cat", employeeType="disabled")
    report = run(directory_app)

    assert counts(report) == {"deactivated": 2, "unchanged": 1, "seen": 1}
    people = by_email(session)
    assert {e: u.is_active for e, u in people.items()} == {
        "ann@example.org": True,
        "bob@example.org": False,
        "cat@example.org": False,
    }
    assert signed_in_as(client) is None  # bob's open session ended with the sync
    assert sign_in(client, "bob", "pw-Bob-123").status_code == 401
    assert sign_in(client, "cat", "pw-Cat-123").status_code == 401

    ldap_tree.change_user("cat", employeeType=None)  # enabled again: the directory gives them back
    assert counts(run(directory_app)) == {"reactivated": 1, "unchanged": 1, "seen": 2}
    assert by_email(session)["cat@example.org"].is_active
    assert sign_in(client, "cat", "pw-Cat-123").status_code == 302


def test_local_accounts_and_local_admins_are_never_touched(directory_app, session, ldap_tree):
    admin = make_admin(session, email="root@example.com")
    local = make_requester(session, email="contractor@example.com")
    ldap_tree.add_user("ann", "pw-Ann-123")
    run(directory_app)
    ldap_tree.remove_user("ann")
    ldap_tree.add_user("zed", "pw-Zed-123")
    report = run(directory_app)
    assert counts(report) == {"created": 1, "deactivated": 1, "seen": 1}
    people = by_email(session)
    assert people[admin.email].is_active and people[admin.email].role is Role.ADMIN
    assert people[local.email].is_active


def test_an_account_an_admin_deactivated_stays_deactivated(directory_app, session, ldap_tree):
    ldap_tree.add_user("ann", "pw-Ann-123")
    run(directory_app)
    ann = by_email(session)["ann@example.org"]
    ann.is_active = False  # an admin's decision, not the directory's
    session.commit()
    assert counts(run(directory_app)) == {"unchanged": 1, "seen": 1}
    assert not by_email(session)["ann@example.org"].is_active


def test_an_email_taken_by_a_local_account_is_a_conflict_not_a_takeover(directory_app, session, ldap_tree):
    make_requester(session, email="ann@example.org", full_name="Local Ann")
    ldap_tree.add_user("ann", "pw-Ann-123", name="Directory Ann")
    ldap_tree.add_user("bob", "pw-Bob-123")
    report = run(directory_app)
    assert counts(report) == {"created": 1, "conflicts": 1, "seen": 2}
    people = by_email(session)
    assert people["ann@example.org"].full_name == "Local Ann"
    assert not directory_accounts.is_directory_account(session, people["ann@example.org"])


def test_a_directory_that_answers_with_nobody_changes_nothing(directory_app, session, ldap_tree):
    ldap_tree.add_user("ann", "pw-Ann-123")
    run(directory_app)
    ldap_tree.remove_user("ann")
    # A base or filter gone wrong looks like everyone leaving at once: refused, nobody deactivated.
    with pytest.raises(directory_sync.NobodyFound):
        run(directory_app)
    assert by_email(session)["ann@example.org"].is_active


def test_a_directory_that_does_not_answer_changes_nothing(directory_app, session, ldap_tree):
    ldap_tree.add_user("ann", "pw-Ann-123")
    config = directory_app.config["SUPPORTDESK"]
    directory_app.config["SUPPORTDESK"] = dataclasses.replace(
        config, directory=settings_for(ldap_tree, LDAP_URL="ldaps://localhost:1")
    )
    with pytest.raises(DirectoryUnavailable):
        run(directory_app)
    assert by_email(session) == {}


def test_flask_ldap_sync_reports_its_counts(directory_app, session, ldap_tree):
    ldap_tree.add_user("ann", "pw-Ann-123")
    ldap_tree.add_user("bob", "pw-Bob-123")
    result = directory_app.test_cli_runner().invoke(args=["ldap-sync"])
    assert result.exit_code == 0, result.output
    assert "2 created, 0 updated, 0 deactivated, 0 reactivated, 0 unchanged, 0 conflicts" in result.output


def test_flask_ldap_sync_says_when_no_directory_is_connected(clean_app):
    result = clean_app.test_cli_runner().invoke(args=["ldap-sync"])
    assert result.exit_code == 1
    assert "LDAP_URL" in result.output


def test_the_worker_syncs_on_its_schedule(directory_app, session, ldap_tree):
    assert "sync_directory" in {name.rsplit(".", 1)[-1] for name in engine.periodic_job_names()}
    from supportdesk.jobs import tasks

    ldap_tree.add_user("ann", "pw-Ann-123")
    with directory_app.app_context():
        assert tasks.sync_directory.call_local() == 1
    assert "ann@example.org" in by_email(session)


def test_the_worker_job_does_nothing_without_a_directory(clean_app, session):
    from supportdesk.jobs import tasks

    with clean_app.app_context():
        assert tasks.sync_directory.call_local() == 0


def test_a_person_removed_from_the_directory_cannot_sign_in_after_the_next_sync(
    directory_app, client, session, ldap_tree
):
    ldap_tree.add_user("bob", "pw-Bob-123")
    run(directory_app)
    assert sign_in(client, "bob", "pw-Bob-123").status_code == 302
    client.post("/logout", data={"csrf_token": csrf_token(client, "/portal/")})
    ldap_tree.remove_user("bob")
    ldap_tree.add_user("keep", "pw-Keep-123")
    run(directory_app)
    assert sign_in(client, "bob", "pw-Bob-123").status_code == 401
    assert sign_in(client, "bob@example.org", "pw-Bob-123").status_code == 401
    assert sign_in(client, "bob@example.org", PASSWORD).status_code == 401
    assert not by_email(session)["bob@example.org"].is_active
    assert session.scalars(select(Team)).all() == []


def test_another_server_of_the_same_directory_keeps_everyone_s_account(directory_app, session, ldap_tree):
    ldap_tree.add_user("ann", "pw-Ann-123")
    run(directory_app)
    config = directory_app.config["SUPPORTDESK"]
    directory_app.config["SUPPORTDESK"] = dataclasses.replace(
        config,
        directory=settings_for(ldap_tree, LDAP_URL=ldap_tree.server.ldap_url),  # StartTLS now
    )
    assert counts(run(directory_app)) == {"unchanged": 1, "seen": 1}
    assert list(by_email(session)) == ["ann@example.org"]


def test_a_sync_that_changes_nothing_runs_the_same_statements_for_3_people_or_30(
    directory_app, session, ldap_tree
):
    from tests.test_query_counts import counting

    def add(first: int, last: int) -> None:
        for n in range(first, last):
            ldap_tree.add_user(f"tech{n}", "pw-Tech-123")
            ldap_tree.add_to_group("desk-technicians", f"tech{n}")
            ldap_tree.add_to_group("network", f"tech{n}")

    sizes = []
    for first, last in ((0, 3), (3, 30)):
        add(first, last)
        run(directory_app)  # the new people's accounts
        with counting(directory_app) as statements:
            assert counts(run(directory_app)) == {"unchanged": last, "seen": last}
        sizes.append(len(statements))
    assert sizes[0] == sizes[1], sizes
    assert sizes[1] <= 8


def test_a_directory_that_stops_at_its_size_limit_changes_nothing(directory_app, session, ldap_tree):
    # The suite's slapd answers the service account 40 entries at most (OpenLDAP's default is 500):
    # a sync that saw only the first 40 would deactivate everyone after them.
    for n in range(41):
        ldap_tree.add_user(f"p{n}", "pw-P-123")
    with pytest.raises(DirectoryUnavailable, match="size limit"):
        run(directory_app)
    assert by_email(session) == {}


def test_flask_ldap_sync_dry_run_says_what_it_would_do_and_changes_nothing(directory_app, session, ldap_tree):
    ldap_tree.add_user("ann", "pw-Ann-123")
    ldap_tree.add_user("bob", "pw-Bob-123")
    run(directory_app)
    ldap_tree.remove_user("bob")
    ldap_tree.add_user("cat", "pw-Cat-123")
    ldap_tree.add_to_group("desk-technicians", "cat")
    ldap_tree.add_to_group("network", "cat")
    result = directory_app.test_cli_runner().invoke(args=["ldap-sync", "--dry-run"])
    assert result.exit_code == 0, result.output
    assert "Dry run, nothing changed: 1 created, 0 updated, 1 deactivated" in result.output
    people = by_email(session)
    assert sorted(people) == ["ann@example.org", "bob@example.org"]
    assert people["bob@example.org"].is_active
    assert session.scalars(select(Team)).all() == []
