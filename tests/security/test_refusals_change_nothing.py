"""A refused write changes nothing: for every state-changing page and API operation, a request the
desk refuses (invalid input, a rule, a stale version, a name already taken) leaves a digest of the whole
database exactly as it was, whatever the service had already done before it found the problem. A new
write route without a refusal case here fails the first test."""

from __future__ import annotations

from collections.abc import Callable
from dataclasses import dataclass
from typing import Any

import pytest
from sqlalchemy import select

from supportdesk.tickets.models import Ticket
from tests.conftest import csrf_token, login
from tests.factories import make_team, make_technician
from tests.security.conftest import snapshot

MAILBOX = {
    "name": "Support",
    "address": "support@example.com",
    "host": "imap.example.com",
    "port": 993,
    "security": "tls",
    "username": "support",
    "password": "imap password",
}

# Write routes that cannot be refused for their input: signing in and out, the live preview, which
# writes nothing at all, and marking one's own notifications read, which takes no input.
NOT_REFUSABLE = {"accounts.login", "accounts.logout", "preview", "notifications.mark_all_read"}


@dataclass(frozen=True)
class Refusal:
    who: str
    method: str
    path: Callable[[dict[str, Any]], str]
    body: Callable[[dict[str, Any]], dict[str, Any]]
    statuses: tuple[int, ...]


def _ticket(desk: dict[str, Any]) -> str:
    return str(desk["number"])


REFUSALS: dict[str, Refusal] = {
    # --- the API -----------------------------------------------------------------------------------
    "api.create_token": Refusal(
        "nobody",
        "POST",
        lambda d: "/api/v1/tokens",
        lambda d: {"email": "bob@example.com", "password": "wrong password", "name": "x"},
        (403,),
    ),
    "api.revoke_token": Refusal(
        "alice", "DELETE", lambda d: f"/api/v1/tokens/{d['bob_token_id']}", lambda d: {}, (404,)
    ),
    "api.create_ticket": Refusal(
        "tech",
        "POST",
        lambda d: "/api/v1/tickets",
        lambda d: {"subject": "New laptop", "category_id": 999_999, "requester_id": d["alice"].id},
        (422,),
    ),
    "api.update_ticket": Refusal(
        "tech",
        "PATCH",
        lambda d: f"/api/v1/tickets/{_ticket(d)}",
        lambda d: {"priority": "urgent", "subject": "Renamed", "assignee_id": d["alice"].id},
        (422,),
    ),
    "api.add_comment": Refusal(
        "bob", "POST", lambda d: f"/api/v1/tickets/{_ticket(d)}/comments", lambda d: {"body": " \n "}, (422,)
    ),
    "api.create_user": Refusal(
        "admin",
        "POST",
        lambda d: "/api/v1/users",
        lambda d: {
            "email": "BOB@example.com",
            "full_name": "Bob Again",
            "role": "admin",
            "password": "x" * 12,
        },
        (422,),
    ),
    "api.update_user": Refusal(
        "admin",
        "PATCH",
        lambda d: f"/api/v1/users/{d['admin'].id}",
        lambda d: {"full_name": "Ada Renamed", "is_active": False},
        (422,),
    ),
    "api.create_team": Refusal(
        "admin", "POST", lambda d: "/api/v1/teams", lambda d: {"name": "Service Desk"}, (422,)
    ),
    "api.update_team": Refusal(
        "admin",
        "PATCH",
        lambda d: f"/api/v1/teams/{d['team'].id}",
        lambda d: {"name": "New", "member_ids": [999_999]},
        (422,),
    ),
    "api.create_category": Refusal(
        "admin",
        "POST",
        lambda d: "/api/v1/categories",
        lambda d: {"name": "Printers", "default_team_id": 999_999},
        (422,),
    ),
    "api.update_category": Refusal(
        "admin",
        "PATCH",
        lambda d: f"/api/v1/categories/{d['category'].id}",
        lambda d: {"name": "Renamed", "default_team_id": 999_999},
        (422,),
    ),
    "api.create_calendar": Refusal(
        "admin",
        "POST",
        lambda d: "/api/v1/sla/calendars",
        lambda d: {"name": "Office", "zone": "Mars/Olympus_Mons", "weekly": {"0": [[540, 1020]]}},
        (422,),
    ),
    "api.replace_calendar": Refusal(
        "admin",
        "PUT",
        lambda d: "/api/v1/sla/calendars/1",
        lambda d: {"name": "Office", "zone": "UTC", "weekly": {"0": [[600, 540]]}},
        (422,),
    ),
    "api.delete_calendar": Refusal(
        "tech", "DELETE", lambda d: "/api/v1/sla/calendars/1", lambda d: {}, (403,)
    ),
    "api.create_policy": Refusal(
        "admin",
        "POST",
        lambda d: "/api/v1/sla/policies",
        lambda d: {"name": "Urgent", "calendar_id": 999_999, "resolution_minutes": 60},
        (422,),
    ),
    "api.replace_policy": Refusal(
        "admin",
        "PUT",
        lambda d: "/api/v1/sla/policies/1",
        lambda d: {"name": "Urgent", "calendar_id": 999_999, "first_response_minutes": 30},
        (422,),
    ),
    "api.delete_policy": Refusal("tech", "DELETE", lambda d: "/api/v1/sla/policies/1", lambda d: {}, (403,)),
    # --- pages ---------------------------------------------------------------------------------------
    "admin.create_calendar": Refusal(
        "admin",
        "POST",
        lambda d: "/admin/service-levels/calendars",
        lambda d: {
            "name": "Office",
            "zone": "Nowhere/Atlantis",
            "days": "0",
            "start": "09:00",
            "end": "17:00",
        },
        (302,),
    ),
    "admin.delete_calendar": Refusal(
        "tech", "POST", lambda d: "/admin/service-levels/calendars/1/delete", lambda d: {}, (404,)
    ),
    "admin.create_policy": Refusal(
        "admin",
        "POST",
        lambda d: "/admin/service-levels/policies",
        lambda d: {"name": "Urgent", "calendar": "999999", "resolution_hours": "inf"},
        (302,),
    ),
    "desk.take_next_ticket": Refusal("alice", "POST", lambda d: "/desk/next", lambda d: {}, (404,)),
    "desk.set_availability": Refusal(
        "alice", "POST", lambda d: "/desk/availability", lambda d: {"available": "1"}, (404,)
    ),
    "api.take_next_ticket": Refusal("alice", "POST", lambda d: "/api/v1/tickets/next", lambda d: {}, (403,)),
    "admin.save_team_assignment": Refusal(
        "admin",
        "POST",
        lambda d: f"/admin/assignment/teams/{d['team'].id}",
        lambda d: {"mode": "round_robin", "max_open": "0"},
        (302,),
    ),
    "admin.create_routing_rule": Refusal(
        "admin",
        "POST",
        lambda d: "/admin/assignment/rules",
        lambda d: {"name": "R", "team": str(d["team"].id)},
        (302,),
    ),
    "admin.delete_routing_rule": Refusal(
        "tech", "POST", lambda d: "/admin/assignment/rules/1/delete", lambda d: {}, (404,)
    ),
    "api.replace_team_assignment": Refusal(
        "admin",
        "PUT",
        lambda d: f"/api/v1/routing/teams/{d['team'].id}",
        lambda d: {"mode": "round_robin", "max_open": 0},
        (422,),
    ),
    "api.create_routing_rule": Refusal(
        "admin",
        "POST",
        lambda d: "/api/v1/routing/rules",
        lambda d: {"name": "R", "keywords": "vpn", "team_id": 999_999},
        (422,),
    ),
    "api.replace_routing_rule": Refusal(
        "admin",
        "PUT",
        lambda d: "/api/v1/routing/rules/1",
        lambda d: {"name": "R", "keywords": "vpn", "team_id": 999_999},
        (422,),
    ),
    "api.delete_routing_rule": Refusal(
        "tech", "DELETE", lambda d: "/api/v1/routing/rules/1", lambda d: {}, (403,)
    ),
    "api.set_my_availability": Refusal(
        "alice", "PUT", lambda d: "/api/v1/routing/availability", lambda d: {"available": True}, (403,)
    ),
    "admin.delete_policy": Refusal(
        "tech", "POST", lambda d: "/admin/service-levels/policies/1/delete", lambda d: {}, (404,)
    ),
    "accounts.api_tokens": Refusal(
        "bob", "POST", lambda d: "/account/tokens", lambda d: {"name": "x" * 81}, (422,)
    ),
    "accounts.revoke_api_token": Refusal(
        "alice", "POST", lambda d: f"/account/tokens/{d['bob_token_id']}/revoke", lambda d: {}, (404,)
    ),
    "accounts.change_password": Refusal(
        "bob",
        "POST",
        lambda d: "/account/password",
        lambda d: {"current_password": "wrong", "new_password": "x" * 12, "confirm": "x" * 12},
        (422,),
    ),
    # A code without a password step first: back to the sign-in page, nobody signed in.
    "accounts.login_code": Refusal(
        "nobody", "POST", lambda d: "/login/code", lambda d: {"code": "123456"}, (302,)
    ),
    "admin.reset_two_factor": Refusal(
        "tech", "POST", lambda d: f"/admin/users/{d['bob'].id}/two-factor/reset", lambda d: {}, (404,)
    ),
    "twofactor.start": Refusal(
        "bob", "POST", lambda d: "/account/two-factor/start", lambda d: {"password": "wrong"}, (422,)
    ),
    "twofactor.confirm": Refusal(
        "bob", "POST", lambda d: "/account/two-factor/confirm", lambda d: {"code": "123456"}, (422,)
    ),
    "twofactor.disable": Refusal(
        "bob",
        "POST",
        lambda d: "/account/two-factor/disable",
        lambda d: {"password": "password123", "code": "123456"},
        (422,),
    ),
    "twofactor.recovery_codes": Refusal(
        "bob", "POST", lambda d: "/account/two-factor/recovery-codes", lambda d: {"code": "123456"}, (422,)
    ),
    "portal.new_ticket": Refusal(
        "alice",
        "POST",
        lambda d: "/portal/new",
        lambda d: {"subject": "VPN", "priority": "urgent", "category": str(d["category"].id)},
        (422,),
    ),
    "portal.reply": Refusal(
        "bob", "POST", lambda d: f"/portal/tickets/{_ticket(d)}/reply", lambda d: {"body": " "}, (422,)
    ),
    "portal.change_status": Refusal(
        "bob", "POST", lambda d: f"/portal/tickets/{_ticket(d)}/reopen", lambda d: {"version": "1"}, (302,)
    ),
    "desk.reply": Refusal(
        "tech",
        "POST",
        lambda d: f"/desk/tickets/{_ticket(d)}/reply",
        lambda d: {"body": " ", "visibility": "public"},
        (422,),
    ),
    "desk.update": Refusal(
        "tech",
        "POST",
        lambda d: f"/desk/tickets/{_ticket(d)}/update",
        lambda d: {
            "status": "closed",
            "priority": "urgent",
            "assignee": str(d["alice"].id),
            "team": "",
            "category": "",
            "version": "2",
        },
        (422,),
    ),
    "desk.save_draft": Refusal(
        "tech",
        "POST",
        lambda d: f"/desk/tickets/{_ticket(d)}/draft",
        lambda d: {"body": "Half an answer", "visibility": "shouted"},
        (422,),
    ),
    "desk.presence": Refusal(
        "tech", "POST", lambda d: f"/desk/tickets/{_ticket(d)}/presence", lambda d: {"typing": "yes"}, (422,)
    ),
    "desk.assign_to_me": Refusal(
        "tech",
        "POST",
        lambda d: f"/desk/tickets/{_ticket(d)}/assign-to-me",
        lambda d: {"version": "0"},  # a version the ticket no longer has: shown again (PRG), unchanged
        (303,),
    ),
    "desk.bulk": Refusal(
        "tech",
        "POST",
        lambda d: "/desk/bulk",
        lambda d: {"tickets": _ticket(d), "change": "assign:999999", "next": "/desk/"},
        (302,),
    ),
    "admin.users": Refusal(
        "admin",
        "POST",
        lambda d: "/admin/users",
        lambda d: {
            "full_name": "Bob Again",
            "email": "bob@example.com",
            "role": "admin",
            "password": "x" * 12,
        },
        (422,),
    ),
    "admin.update_user": Refusal(
        "admin", "POST", lambda d: f"/admin/users/{d['admin'].id}", lambda d: {"active": "0"}, (302,)
    ),
    "admin.teams": Refusal(
        "admin", "POST", lambda d: "/admin/teams", lambda d: {"name": "Service Desk"}, (422,)
    ),
    "admin.team_members": Refusal(
        "admin",
        "POST",
        lambda d: f"/admin/teams/{d['team'].id}/members",
        lambda d: {"members": [str(d["tech"].id), str(d["alice"].id)]},
        (302,),
    ),
    "admin.categories_page": Refusal(
        "admin",
        "POST",
        lambda d: "/admin/categories",
        lambda d: {"name": "Accounts", "default_team": ""},
        (422,),
    ),
    "admin.update_category": Refusal(
        "admin",
        "POST",
        lambda d: f"/admin/categories/{d['category'].id}",
        lambda d: {"default_team": "999999", "active": "0"},
        (302,),
    ),
    "reports.request_export": Refusal(
        "alice", "POST", lambda d: "/reports/exports", lambda d: {"view": "open"}, (404,)
    ),
    "admin.retry_failed_job": Refusal(
        "admin", "POST", lambda d: "/admin/jobs/failed/999999/retry", lambda d: {}, (404,)
    ),
    "admin.dismiss_failed_job": Refusal(
        "admin", "POST", lambda d: "/admin/jobs/failed/999999/dismiss", lambda d: {}, (404,)
    ),
    "admin.retry_mail": Refusal("admin", "POST", lambda d: "/admin/mail/999999/retry", lambda d: {}, (404,)),
    # SSO is off in these tests: the provider's back channel is not there at all.
    "oidc.backchannel_logout": Refusal(
        "nobody",
        "POST",
        lambda d: "/login/oidc/backchannel-logout",
        lambda d: {"logout_token": "a.b.c"},
        (404,),
    ),
    "recovery.forgot_password": Refusal(
        "nobody", "POST", lambda d: "/password/forgot", lambda d: {"email": ""}, (422,)
    ),
    "recovery.reset_password": Refusal(
        "nobody",
        "POST",
        lambda d: "/password/reset/forged",
        lambda d: {"password": "x" * 12, "confirm": "x" * 12},
        (400,),
    ),
    "recovery.change_email": Refusal(
        "alice",
        "POST",
        lambda d: "/account/email",
        lambda d: {"email": "bob@example.com", "password": "password123"},
        (422,),
    ),
    "notifications.settings": Refusal(
        "alice",
        "POST",
        lambda d: "/notifications/settings",
        lambda d: {"email_reply": "1", "email_note": "1"},  # internal notes are not a requester's choice
        (422,),
    ),
    "watchers.add_watcher": Refusal(
        "tech",
        "POST",
        lambda d: f"/desk/tickets/{_ticket(d)}/watchers",
        lambda d: {"email": "nobody@example.com"},
        (302,),
    ),
    "admin.create_mailbox": Refusal(
        "admin",
        "POST",
        lambda d: "/admin/mailboxes",
        lambda d: {**MAILBOX, "port": "993", "host": "not a host!"},
        (422,),
    ),
    "admin.update_mailbox": Refusal(
        "admin", "POST", lambda d: "/admin/mailboxes/999999", lambda d: {**MAILBOX, "port": "993"}, (404,)
    ),
    "admin.delete_mailbox": Refusal(
        "tech", "POST", lambda d: "/admin/mailboxes/999999/delete", lambda d: {}, (404,)
    ),
    "admin.check_mailbox": Refusal(
        "admin", "POST", lambda d: "/admin/mailboxes/999999/check", lambda d: {}, (404,)
    ),
    "admin.retry_receipt": Refusal(
        "admin", "POST", lambda d: "/admin/mail-receipts/999999/retry", lambda d: {}, (404,)
    ),
    "admin.discard_receipt": Refusal(
        "admin", "POST", lambda d: "/admin/mail-receipts/999999/discard", lambda d: {}, (404,)
    ),
    "api.create_mailbox": Refusal(
        "admin",
        "POST",
        lambda d: "/api/v1/mailboxes",
        lambda d: {**MAILBOX, "processed_folder": "INBOX"},
        (422,),
    ),
    "api.replace_mailbox": Refusal(
        "admin", "PUT", lambda d: "/api/v1/mailboxes/999999", lambda d: MAILBOX, (404,)
    ),
    "api.delete_mailbox": Refusal(
        "tech", "DELETE", lambda d: "/api/v1/mailboxes/999999", lambda d: {}, (403,)
    ),
    "api.retry_mail_receipt": Refusal(
        "admin", "POST", lambda d: "/api/v1/mail-receipts/999999/retry", lambda d: {}, (404,)
    ),
    "api.discard_mail_receipt": Refusal(
        "admin", "POST", lambda d: "/api/v1/mail-receipts/999999/discard", lambda d: {}, (404,)
    ),
    # --- duplicates and incidents: a ticket merged into (or made the incident of) itself, a ticket
    # taken out of an incident it is not in
    "desk.merge": Refusal(
        "tech", "POST", lambda d: f"/desk/tickets/{_ticket(d)}/merge", lambda d: {"into": _ticket(d)}, (303,)
    ),
    "desk.link_parent": Refusal(
        "tech",
        "POST",
        lambda d: f"/desk/tickets/{_ticket(d)}/parent",
        lambda d: {"parent": _ticket(d)},
        (303,),
    ),
    "desk.unlink_parent": Refusal(
        "tech", "POST", lambda d: f"/desk/tickets/{_ticket(d)}/parent/remove", lambda d: {}, (303,)
    ),
    "api.merge_ticket": Refusal(
        "tech",
        "POST",
        lambda d: f"/api/v1/tickets/{_ticket(d)}/merge",
        lambda d: {"into": d["number"]},
        (422,),
    ),
    "api.link_parent": Refusal(
        "tech",
        "PUT",
        lambda d: f"/api/v1/tickets/{_ticket(d)}/parent",
        lambda d: {"parent": d["number"]},
        (422,),
    ),
    "api.unlink_parent": Refusal(
        "tech", "DELETE", lambda d: f"/api/v1/tickets/{_ticket(d)}/parent", lambda d: {}, (409,)
    ),
    "watchers.remove_watcher": Refusal(
        "alice",
        "POST",
        lambda d: f"/desk/tickets/{_ticket(d)}/watchers/{d['tech'].id}/remove",
        lambda d: {},
        (404,),
    ),
    # --- the desk raising a ticket for a requester: the new requester is added, then the ticket is
    # refused (no such category), and the new account must go with it.
    "desk.raise_ticket": Refusal(
        "tech",
        "POST",
        lambda d: "/desk/new",
        lambda d: {
            "subject": "Walk-in",
            "new_name": "Walter Walk-in",
            "new_email": "walter@example.com",
            "category": "999999",
            "priority": "normal",
        },
        (422,),
    ),
    # --- canned replies: an unknown placeholder, another's or no such reply, a technician's shared one
    "desk.canned_replies": Refusal(
        "tech", "POST", lambda d: "/desk/replies", lambda d: {"title": "Bad", "body": "Hi {{ nope }}"}, (422,)
    ),
    "desk.update_canned_reply": Refusal(
        "tech", "POST", lambda d: "/desk/replies/999999", lambda d: {"title": "x", "body": "y"}, (404,)
    ),
    "desk.delete_canned_reply": Refusal(
        "tech", "POST", lambda d: "/desk/replies/999999/delete", lambda d: {}, (404,)
    ),
    "admin.shared_replies": Refusal(
        "admin", "POST", lambda d: "/admin/replies", lambda d: {"title": "", "body": "Hi"}, (422,)
    ),
    "api.create_canned_reply": Refusal(
        "tech",
        "POST",
        lambda d: "/api/v1/canned-replies",
        lambda d: {"title": "Shared", "body": "x", "shared": True},
        (403,),
    ),
    "api.update_canned_reply": Refusal(
        "tech", "PATCH", lambda d: "/api/v1/canned-replies/999999", lambda d: {"title": "x"}, (404,)
    ),
    "api.delete_canned_reply": Refusal(
        "tech", "DELETE", lambda d: "/api/v1/canned-replies/999999", lambda d: {}, (404,)
    ),
    # --- satisfaction: a score that is not one, a forged link, a ticket not resolved yet
    "satisfaction.rate": Refusal(
        "bob", "POST", lambda d: f"/portal/tickets/{_ticket(d)}/rating", lambda d: {"score": "meh"}, (422,)
    ),
    "satisfaction.rate_from_link": Refusal(
        "nobody", "POST", lambda d: "/rate/forged", lambda d: {"score": "good"}, (400,)
    ),
    "api.rate_ticket": Refusal(
        "bob", "POST", lambda d: f"/api/v1/tickets/{_ticket(d)}/rating", lambda d: {"score": "good"}, (409,)
    ),
    # --- knowledge base: an article without a title, an unknown category, no such article
    "desk.kb_new_article": Refusal(
        "tech",
        "POST",
        lambda d: "/desk/kb/new",
        lambda d: {"title": " ", "body": "x", "visibility": "public"},
        (422,),
    ),
    "desk.kb_edit_article": Refusal(
        "tech", "POST", lambda d: "/desk/kb/999999/edit", lambda d: {"title": "x", "body": "y"}, (404,)
    ),
    "desk.kb_publish_article": Refusal(
        "tech", "POST", lambda d: "/desk/kb/999999/publish", lambda d: {}, (404,)
    ),
    "desk.kb_unpublish_article": Refusal(
        "tech", "POST", lambda d: "/desk/kb/999999/unpublish", lambda d: {}, (404,)
    ),
    "portal.help_solved": Refusal(
        "alice", "POST", lambda d: "/portal/help/999999/solved", lambda d: {}, (404,)
    ),
    # Bob's ticket is not resolved: no answer to make an article of.
    "desk.kb_article_from_ticket": Refusal(
        "tech", "POST", lambda d: f"/desk/tickets/{_ticket(d)}/article", lambda d: {}, (422,)
    ),
    "api.create_article": Refusal(
        "tech",
        "POST",
        lambda d: "/api/v1/kb/articles",
        lambda d: {"title": "VPN", "body": "x", "category_id": 999_999, "state": "published"},
        (422,),
    ),
    "api.update_article": Refusal(
        "tech", "PATCH", lambda d: "/api/v1/kb/articles/999999", lambda d: {"state": "published"}, (404,)
    ),
    # --- a temporary password too short to keep
    # --- people from a CSV file: no file; an import that is not there; invitations
    "admin.upload_people": Refusal("admin", "POST", lambda d: "/admin/users/import", lambda d: {}, (422,)),
    "admin.apply_import": Refusal(
        "admin", "POST", lambda d: "/admin/users/import/999999/apply", lambda d: {"digest": "0" * 64}, (404,)
    ),
    "admin.invite_user": Refusal(
        "tech", "POST", lambda d: f"/admin/users/{d['bob'].id}/invite", lambda d: {}, (404,)
    ),
    "invitations.accept_invitation": Refusal(
        "nobody",
        "POST",
        lambda d: "/invitation/forged",
        lambda d: {"password": "x" * 12, "confirm": "x" * 12},
        (400,),
    ),
    "admin.set_temporary_password": Refusal(
        "admin",
        "POST",
        lambda d: f"/admin/users/{d['bob'].id}/password",
        lambda d: {"password": "short"},
        (422,),
    ),
    # --- a team renamed to a taken name; a team deleted "into" itself
    "admin.rename_team": Refusal(
        "admin",
        "POST",
        lambda d: f"/admin/teams/{d['team'].id}/name",
        lambda d: {"name": "Printers team"},
        (422,),
    ),
    "admin.delete_team": Refusal(
        "admin",
        "POST",
        lambda d: f"/admin/teams/{d['team'].id}/delete",
        lambda d: {"move_to": str(d["team"].id)},
        (422,),
    ),
}


def test_every_write_route_has_a_refusal_case(app):
    writes = {
        rule.endpoint
        for rule in app.url_map.iter_rules()
        if rule.methods & {"POST", "PATCH", "PUT", "DELETE"}
    }
    assert writes - set(REFUSALS) - NOT_REFUSABLE == set(), "write routes without a refusal case"
    assert set(REFUSALS) - writes == set(), "refusal cases for routes that no longer exist"


@pytest.mark.parametrize("endpoint", sorted(REFUSALS))
def test_a_refused_write_changes_nothing(clean_app, client, api_as, session, desk, endpoint):
    make_team(session, "Printers team", members=[make_technician(session)])
    case = REFUSALS[endpoint]
    path, body = case.path(desk), case.body(desk)
    if endpoint.startswith("api."):
        caller = client if case.who == "nobody" else api_as(desk[case.who]).client
        headers = {} if case.who == "nobody" else {"Authorization": f"Bearer {api_as(desk[case.who]).token}"}
        if endpoint == "api.update_ticket":  # the current ETag: refused for the body, not the version
            version = session.scalar(select(Ticket.version).where(Ticket.number == desk["number"]))
            headers["If-Match"] = f'"{version}"'
        before = snapshot(session)
        response = caller.open(path, method=case.method, json=body or None, headers=headers)
    else:
        if case.who != "nobody":
            login(client, desk[case.who].email)
        body = {**body, "csrf_token": csrf_token(client, "/login" if case.who == "nobody" else "/portal/new")}
        before = snapshot(session)
        response = client.open(path, method=case.method, data=body)
    assert response.status_code in case.statuses, (
        endpoint,
        response.status_code,
        response.get_data(as_text=True)[:500],
    )
    assert snapshot(session) == before, f"{endpoint} was refused but changed the database"
