"""What the directory changes is in the admin audit log like an admin's change: who (nobody: the
directory), when, from where (the sign-in's address, the worker, the command line), before and after."""

from __future__ import annotations

from sqlalchemy import select

from supportdesk.accounts.audit import AuditEntry
from tests.directory.test_sign_in import sign_in


def entries(session) -> list[tuple[str, str, str, dict | None, dict | None]]:  # type: ignore[no-untyped-def]
    session.expire_all()
    return [
        (e.action, e.target_label, e.via, e.before, e.after)
        for e in session.scalars(select(AuditEntry).order_by(AuditEntry.id))
        if e.actor_id is None
    ]


def test_the_sync_s_changes_are_in_the_audit_log(directory_app, session, ldap_tree):
    ldap_tree.add_user("tom", "pw-Tom-123", name="Tom Tech")
    ldap_tree.add_user("eve", "pw-Eve-123", name="Eve Employee")
    ldap_tree.add_to_group("desk-technicians", "tom")
    ldap_tree.add_to_group("network", "tom")
    assert directory_app.test_cli_runner().invoke(args=["ldap-sync"]).exit_code == 0
    created = entries(session)
    assert sorted((a, label, via) for a, label, via, _, _ in created) == [
        ("user.created", "eve@example.org", "cli"),
        ("user.created", "tom@example.org", "cli"),
    ]
    [tom] = [after for _, label, _, _, after in created if label == "tom@example.org"]
    assert tom == {
        "email": "tom@example.org",
        "full_name": "Tom Tech",
        "role": "technician",
        "teams": ["Network"],
        "is_active": True,
        "directory": ldap_tree.user_dn("tom"),
    }

    ldap_tree.remove_from_group("desk-technicians", "tom")
    ldap_tree.change_user("tom", cn="Thomas Tech", mail="thomas@example.org")
    ldap_tree.remove_user("eve")
    from supportdesk.jobs import tasks

    with directory_app.app_context():
        tasks.sync_directory.call_local()
    changed = entries(session)[2:]
    assert sorted((a, label, via, before, after) for a, label, via, before, after in changed) == sorted(
        [
            (
                "user.renamed",
                "thomas@example.org",
                "job",
                {"full_name": "Tom Tech"},
                {"full_name": "Thomas Tech"},
            ),
            (
                "user.email_changed",
                "thomas@example.org",
                "job",
                {"email": "tom@example.org"},
                {"email": "thomas@example.org"},
            ),
            ("user.role_changed", "thomas@example.org", "job", {"role": "technician"}, {"role": "requester"}),
            ("team.members_changed", "thomas@example.org", "job", {"teams": ["Network"]}, {"teams": []}),
            ("user.deactivated", "eve@example.org", "job", {"is_active": True}, {"is_active": False}),
        ]
    )


def test_an_account_made_at_sign_in_is_in_the_audit_log_with_the_address(
    directory_app, client, session, ldap_tree
):
    ldap_tree.add_user("ann", "pw-Ann-123")
    assert sign_in(client, "ann", "pw-Ann-123").status_code == 302
    [(action, label, via, _, after)] = entries(session)
    assert (action, label, via, after["role"]) == ("user.created", "ann@example.org", "web", "requester")
    [entry] = session.scalars(select(AuditEntry)).all()
    assert entry.ip == "127.0.0.1"
