"""Deny by default: every route in the app's URL map has a rule here, and each rule is checked for
anonymous visitors, requesters who do not own the ticket, the wrong role, and requests without a CSRF
token. A route added without a rule fails the first test."""

from __future__ import annotations

import pytest
from flask import url_for

from tests.conftest import csrf_token, login, page_text
from tests.security.conftest import SECRET_SUBJECT, snapshot

# endpoint -> rule. Pages: public, signed_in, ticket (owner or desk), desk, admin; machine: Prometheus
# on the same host or with METRICS_TOKEN (tests/core/test_metrics.py).
# API: api_public, api_signed_in, api_ticket, api_desk, api_admin.
RULES = {
    "static": "public",
    "health.healthz": "public",
    "health.readyz": "public",
    "monitoring.scrape": "machine",
    "accounts.login": "public",
    "accounts.login_code": "public",
    "oidc.start": "public",
    "oidc.callback": "public",
    "oidc.backchannel_logout": "public",
    "recovery.forgot_password": "public",
    "recovery.reset_password": "public",
    "recovery.confirm_email": "public",
    "apidocs.docs": "public",
    "apidocs.openapi": "public",
    "api.create_token": "api_public",
    "landing": "signed_in",
    "accounts.logout": "signed_in",
    "accounts.api_tokens": "signed_in",
    "accounts.change_password": "signed_in",
    "twofactor.settings": "signed_in",
    "twofactor.start": "signed_in",
    "twofactor.confirm": "signed_in",
    "twofactor.disable": "signed_in",
    "twofactor.recovery_codes": "signed_in",
    "accounts.revoke_api_token": "own_token",
    "portal.home": "signed_in",
    "portal.new_ticket": "signed_in",
    "portal.similar": "signed_in",
    "preview": "signed_in",
    "portal.ticket": "ticket",
    "portal.change_status": "ticket",
    "portal.reply": "ticket",
    "attachments.download": "ticket",
    "desk.home": "desk",
    "desk.search": "desk",
    "desk.bulk": "desk",
    "desk.ticket": "desk",
    "desk.assign_to_me": "desk",
    "desk.reply": "desk",
    "desk.update": "desk",
    "desk.save_draft": "desk",
    "desk.presence": "desk",
    "desk.raise_ticket": "desk",
    "desk.find_requesters": "desk",
    "desk.canned_replies": "desk",
    "desk.update_canned_reply": "desk",
    "desk.delete_canned_reply": "desk",
    "desk.canned_picker": "desk",
    "admin.shared_replies": "admin",
    "api.list_canned_replies": "api_desk",
    "api.create_canned_reply": "api_desk",
    "api.update_canned_reply": "api_desk",
    "api.delete_canned_reply": "api_desk",
    "reports.home": "desk",
    "reports.export_report": "desk",
    "reports.export_tickets": "desk",
    "reports.request_export": "desk",
    "reports.export_status": "desk",
    "reports.download_export": "desk",
    "admin.users": "admin",
    "admin.audit_log": "admin",
    "admin.import_people": "admin",
    "admin.upload_people": "admin",
    "admin.import_preview": "admin",
    "admin.apply_import": "admin",
    "admin.invite_user": "admin",
    "invitations.accept_invitation": "public",
    "admin.export_audit_log": "admin",
    "api.list_audit_entries": "api_admin",
    "admin.update_user": "admin",
    "admin.reset_two_factor": "admin",
    "admin.set_temporary_password": "admin",
    "admin.teams": "admin",
    "admin.team_members": "admin",
    "admin.rename_team": "admin",
    "admin.delete_team": "admin",
    "admin.categories_page": "admin",
    "admin.update_category": "admin",
    "admin.jobs_page": "admin",
    "admin.retry_failed_job": "admin",
    "admin.dismiss_failed_job": "admin",
    "admin.retry_mail": "admin",
    "admin.mail_page": "admin",
    "admin.mail_message": "admin",
    "admin.mail_html": "admin",
    "recovery.change_email": "signed_in",
    "notifications.home": "signed_in",
    "notifications.badge": "signed_in",
    "notifications.open_one": "signed_in",
    "notifications.mark_all_read": "signed_in",
    "notifications.settings": "signed_in",
    "desk.similar_tickets": "desk",
    "desk.merge": "desk",
    "desk.link_parent": "desk",
    "desk.unlink_parent": "desk",
    "api.get_links": "api_ticket",
    "api.similar_tickets": "api_desk",
    "api.merge_ticket": "api_desk",
    "api.link_parent": "api_desk",
    "api.unlink_parent": "api_desk",
    "watchers.watchers_part": "desk",
    "watchers.add_watcher": "desk",
    "watchers.remove_watcher": "desk",
    "api.me": "api_signed_in",
    "api.list_tickets": "api_signed_in",
    "api.create_ticket": "api_signed_in",
    "api.list_tokens": "api_signed_in",
    "api.revoke_token": "api_own_token",
    "api.list_categories": "api_signed_in",
    "api.get_ticket": "api_ticket",
    "api.update_ticket": "api_ticket",
    "api.list_comments": "api_ticket",
    "api.add_comment": "api_ticket",
    "api.list_events": "api_ticket",
    "api.list_teams": "api_desk",
    "api.reports": "api_desk",
    "api.export_report": "api_desk",
    "api.export_tickets": "api_desk",
    "api.list_users": "api_admin",
    "api.create_user": "api_admin",
    "api.update_user": "api_admin",
    "api.create_team": "api_admin",
    "api.update_team": "api_admin",
    "api.create_category": "api_admin",
    "api.update_category": "api_admin",
    "desk.take_next_ticket": "desk",
    "desk.set_availability": "desk",
    "admin.assignment": "admin",
    "admin.save_team_assignment": "admin",
    "admin.create_routing_rule": "admin",
    "admin.delete_routing_rule": "admin",
    "api.list_team_assignments": "api_desk",
    "api.replace_team_assignment": "api_admin",
    "api.list_routing_rules": "api_desk",
    "api.create_routing_rule": "api_admin",
    "api.replace_routing_rule": "api_admin",
    "api.delete_routing_rule": "api_admin",
    "api.list_technicians": "api_desk",
    "api.set_my_availability": "api_desk",
    "api.take_next_ticket": "api_desk",
    "admin.service_levels": "admin",
    "admin.create_calendar": "admin",
    "admin.delete_calendar": "admin",
    "admin.create_policy": "admin",
    "admin.delete_policy": "admin",
    "api.list_calendars": "api_desk",
    "api.list_policies": "api_desk",
    "api.create_calendar": "api_admin",
    "api.replace_calendar": "api_admin",
    "api.delete_calendar": "api_admin",
    "api.create_policy": "api_admin",
    "api.replace_policy": "api_admin",
    "api.delete_policy": "api_admin",
    "admin.mailboxes_page": "admin",
    "admin.create_mailbox": "admin",
    "admin.mailbox": "admin",
    "admin.update_mailbox": "admin",
    "admin.delete_mailbox": "admin",
    "admin.check_mailbox": "admin",
    "admin.receipt_raw": "admin",
    "admin.retry_receipt": "admin",
    "admin.discard_receipt": "admin",
    "api.list_mailboxes": "api_admin",
    "api.create_mailbox": "api_admin",
    "api.get_mailbox": "api_admin",
    "api.replace_mailbox": "api_admin",
    "api.delete_mailbox": "api_admin",
    "api.list_mail_receipts": "api_admin",
    "api.retry_mail_receipt": "api_admin",
    "api.discard_mail_receipt": "api_admin",
    "satisfaction.rate": "ticket",
    "satisfaction.rate_from_link": "public",
    "api.get_rating": "api_ticket",
    "api.rate_ticket": "api_ticket",
    "portal.help_center": "signed_in",
    "portal.help_article": "signed_in",
    "desk.kb_articles": "desk",
    "desk.kb_new_article": "desk",
    "desk.kb_article": "desk",
    "desk.kb_edit_article": "desk",
    "desk.kb_publish_article": "desk",
    "desk.kb_unpublish_article": "desk",
    "desk.kb_article_history": "desk",
    "api.list_articles": "api_signed_in",
    "api.get_article": "api_signed_in",
    "api.create_article": "api_desk",
    "api.update_article": "api_desk",
    "api.list_article_versions": "api_desk",
    "portal.help_suggestions": "signed_in",
    "portal.help_solved": "signed_in",
    "admin.kb_deflections": "admin",
    "desk.kb_article_picker": "desk",
    "desk.kb_article_from_ticket": "desk",
}
MAILBOX = {
    "name": "Rogue",
    "address": "rogue@example.com",
    "host": "imap.example.com",
    "port": 993,
    "security": "tls",
    "username": "rogue",
    "password": "password123",
}

FORM = {
    "body": "me too",
    "subject": "x",
    "priority": "normal",
    "status": "closed",
    "visibility": "public",
    "version": "1",
    "change": "priority:urgent",
    "tickets": "",
    "role": "admin",
    "active": "0",
    "name": "Rogue",
    "members": "",
    "default_team": "",
    "email": "evil@example.com",
    "full_name": "Evil",
    "password": "password123",
    "description": "x",
}
JSON = {
    "api.create_ticket": {"subject": "x"},
    "api.update_ticket": {"status": "closed"},
    "api.add_comment": {"body": "me too"},
    "api.create_user": {
        "email": "e@example.com",
        "full_name": "E",
        "role": "admin",
        "password": "password123",
    },
    "api.update_user": {"role": "admin"},
    "api.create_team": {"name": "Rogue"},
    "api.update_team": {"name": "R"},
    "api.create_category": {"name": "Rogue"},
    "api.update_category": {"name": "R"},
    "api.create_canned_reply": {"title": "Rogue", "body": "x"},
    "api.update_canned_reply": {"title": "R"},
    "api.create_calendar": {"name": "Rogue", "zone": "UTC", "weekly": {}},
    "api.replace_calendar": {"name": "Rogue", "zone": "UTC", "weekly": {}},
    "api.create_policy": {"name": "Rogue", "calendar_id": 1, "resolution_minutes": 60},
    "api.replace_policy": {"name": "Rogue", "calendar_id": 1, "resolution_minutes": 60},
    "api.create_mailbox": MAILBOX,
    "api.replace_mailbox": MAILBOX,
    "api.replace_team_assignment": {"mode": "round_robin", "max_open": 1},
    "api.create_routing_rule": {"name": "Rogue", "keywords": "vpn", "team_id": 1},
    "api.replace_routing_rule": {"name": "Rogue", "keywords": "vpn", "team_id": 1},
    "api.set_my_availability": {"available": True},
    "api.rate_ticket": {"score": "good"},
    "api.merge_ticket": {"into": 1},
    "api.link_parent": {"parent": 1},
    "api.create_article": {"title": "Rogue", "body": "x"},
    "api.update_article": {"title": "R"},
}


def routes(app):
    for rule in app.url_map.iter_rules():
        for method in sorted(rule.methods - {"HEAD", "OPTIONS"}):
            yield rule, method


def build(app, rule, desk) -> str:
    values = {
        "number": desk["number"],
        "attachment_id": desk["attachment_id"],
        "token_id": desk["bob_token_id"],
        "user_id": desk["bob"].id,
        "team_id": desk["team"].id,
        "category_id": desk["category"].id,
        "calendar_id": 1,
        "policy_id": 1,
        "rule_id": 1,
        "reply_id": 999_999,
        "article_id": 999_999,
        "action": "close",
        "job_id": 999_999,
        "message_id": 999_999,
        "notification_id": 999_999,
        "mailbox_id": 999_999,
        "export_id": 999_999,
        "import_id": 999_999,
        "receipt_id": 999_999,
        "token": "not-a-token",
        "filename": "css/supportdesk.css",
        "name": "volume",
    }
    with app.test_request_context():
        return url_for(rule.endpoint, **{k: v for k, v in values.items() if k in rule.arguments})


def test_every_route_has_a_rule(app):
    endpoints = {rule.endpoint for rule in app.url_map.iter_rules()}
    assert endpoints - set(RULES) == set(), "routes without an authorisation rule"
    assert set(RULES) - endpoints == set(), "rules for routes that no longer exist"


def send(client, method, path, endpoint, token=None, headers=None, csrf=True):
    headers = dict(headers or {})
    if endpoint.startswith("api."):
        kwargs = {"json": JSON.get(endpoint, {})} if method in ("POST", "PATCH", "PUT") else {}
        if endpoint == "api.update_ticket":
            headers["If-Match"] = '"1"'
        return client.open(path, method=method, headers=headers, **kwargs)
    data = dict(FORM)
    if csrf and method == "POST":
        data["csrf_token"] = token
    return client.open(path, method=method, data=data if method == "POST" else None)


def test_anonymous_visitors_are_sent_to_sign_in_or_get_401(app, client, session, desk):
    token = csrf_token(client, "/login")
    for rule, method in routes(app):
        kind = RULES[rule.endpoint]
        if kind in ("public", "api_public"):
            continue
        if kind == "machine":
            remote = client.get(build(app, rule, desk), environ_base={"REMOTE_ADDR": "203.0.113.9"})
            assert remote.status_code == 404, rule.rule
            continue
        before = snapshot(session)
        response = send(client, method, build(app, rule, desk), rule.endpoint, token)
        if kind.startswith("api_"):
            assert response.status_code == 401, (method, rule.rule)
            assert response.mimetype == "application/problem+json"
        else:
            assert response.status_code == 302, (method, rule.rule, response.status_code)
            assert response.headers["Location"].startswith("/login"), (method, rule.rule)
        assert SECRET_SUBJECT not in page_text(response)
        assert snapshot(session) == before, (method, rule.rule)


@pytest.mark.parametrize("who", ["alice", "tech"])
def test_the_wrong_user_gets_not_found_and_changes_nothing(app, client, session, desk, who):
    """Alice (another requester) on Bob's ticket, the desk and admin pages; Tess (technician) on admin."""
    login(client, desk[who].email)
    token = csrf_token(client, "/portal/new")
    refused = {"alice": ("ticket", "desk", "admin", "own_token"), "tech": ("admin", "own_token")}[who]
    checked = 0
    for rule, method in routes(app):
        if RULES[rule.endpoint] not in refused:
            continue
        before = snapshot(session)
        response = send(client, method, build(app, rule, desk), rule.endpoint, token)
        assert response.status_code == 404, (method, rule.rule, response.status_code)
        body = page_text(response)
        assert SECRET_SUBJECT not in body and "payslip" not in body and "HR is involved" not in body
        assert snapshot(session) == before, (method, rule.rule)
        checked += 1
    assert checked >= (8 if who == "tech" else 20)


@pytest.mark.parametrize("who", ["alice", "tech"])
def test_the_api_refuses_the_wrong_user_and_changes_nothing(app, api_as, session, desk, who):
    api = api_as(desk[who])
    expected = {
        "alice": {"api_ticket": 404, "api_desk": 403, "api_admin": 403, "api_own_token": 404},
        "tech": {"api_admin": 403, "api_own_token": 404},
    }[who]
    for rule, method in routes(app):
        status = expected.get(RULES[rule.endpoint])
        if status is None:
            continue
        before = snapshot(session)
        response = send(
            api.client,
            method,
            build(app, rule, desk),
            rule.endpoint,
            headers={"Authorization": f"Bearer {api.token}"},
        )
        assert response.status_code == status, (method, rule.rule, response.status_code)
        assert SECRET_SUBJECT not in page_text(response)
        assert snapshot(session) == before, (method, rule.rule)


# POST routes no browser form reaches, so no CSRF token: each is called by another server with a proof of
# its own, refused without it (the test named says so).
WITHOUT_CSRF = {
    # The identity provider's back-channel logout: a signed logout token, no cookie
    # (tests/accounts/test_oidc_backchannel_logout.py::test_a_logout_token_that_fails_a_check_ends_nothing).
    "oidc.backchannel_logout",
}


def test_every_state_changing_page_refuses_requests_without_a_csrf_token(app, client, session, desk):
    login(client, desk["admin"].email)
    for rule, method in routes(app):
        if method != "POST" or rule.endpoint.startswith("api.") or rule.endpoint in WITHOUT_CSRF:
            continue
        before = snapshot(session)
        response = send(client, method, build(app, rule, desk), rule.endpoint, csrf=False)
        assert response.status_code == 400, (rule.rule, response.status_code)
        # A page that says what happened and keeps the text (core/staleforms.py), not a bare 400.
        assert "nothing was saved" in page_text(response), rule.rule
        assert snapshot(session) == before, rule.rule


def test_htmx_calls_need_the_csrf_header(client, desk):
    login(client, desk["alice"].email)
    assert client.post("/preview", data={"description": "**x**"}).status_code == 400
    token = csrf_token(client, "/portal/new")
    response = client.post("/preview", data={"description": "**x**"}, headers={"X-CSRFToken": token})
    assert response.status_code == 200 and "<strong>x</strong>" in page_text(response)
