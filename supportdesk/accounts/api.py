"""The account API: tokens, who am I, and the admins' users and teams."""

from __future__ import annotations

from http import HTTPStatus

from flask import Response

from supportdesk.accounts import invitations, reads, service, tokens
from supportdesk.accounts.models import ApiToken, Team, User
from supportdesk.accounts.schemas import (
    TeamCreate,
    TeamList,
    TeamOut,
    TeamPatch,
    TokenCreate,
    TokenCreated,
    TokenList,
    TokenOut,
    UserCreate,
    UserList,
    UserListQuery,
    UserOut,
    UserPatch,
)
from supportdesk.core import ratelimit
from supportdesk.core.apikit import bp, current_actor, json_response, registry
from supportdesk.core.db import db
from supportdesk.core.origin import request_origin


def user_out(user: User) -> UserOut:
    return UserOut(
        id=user.id,
        email=user.email,
        full_name=user.full_name,
        role=user.role,
        is_active=user.is_active,
        team_ids=[t.id for t in user.teams],
        created_at=user.created_at,
        last_login_at=user.last_login_at,
    )


def token_out(token: ApiToken) -> TokenOut:
    return TokenOut(
        id=token.id,
        name=token.name,
        prefix=token.prefix,
        created_at=token.created_at,
        last_used_at=token.last_used_at,
        expires_at=token.expires_at,
    )


def team_out(team: Team) -> TeamOut:
    return TeamOut(id=team.id, name=team.name, member_ids=[m.id for m in team.members])


# --- tokens and me ------------------------------------------------------------------------------------


@registry.route(
    bp,
    "/tokens",
    "POST",
    summary="Exchange email and password for an API token",
    tag="Tokens",
    body=TokenCreate,
    responses={201: TokenCreated},
    authenticated=False,
)
@ratelimit.per_account
@ratelimit.per_address
def create_token(body: TokenCreate) -> Response:
    with db.transaction() as session:
        token, secret = tokens.issue_token(session, body.email, body.password, body.name)
    created = TokenCreated(
        id=token.id, token=secret, name=token.name, created_at=token.created_at, expires_at=token.expires_at
    )
    return json_response(created, HTTPStatus.CREATED, {"Cache-Control": "no-store"})


@registry.route(
    bp,
    "/tokens",
    "GET",
    summary="Your live tokens (never their secrets)",
    tag="Tokens",
    responses={200: TokenList},
)
def list_tokens() -> Response:
    return json_response(
        TokenList(items=[token_out(t) for t in tokens.list_tokens(db.session(), current_actor())])
    )


@registry.route(
    bp,
    "/tokens/<id:token_id>",
    "DELETE",
    summary="Revoke one of your tokens",
    tag="Tokens",
    responses={204: None},
)
def revoke_token(token_id: int) -> Response:
    with db.transaction() as session:
        tokens.revoke_token(session, current_actor(), token_id)
    return json_response(None, HTTPStatus.NO_CONTENT)


@registry.route(bp, "/me", "GET", summary="Who this token belongs to", tag="Users", responses={200: UserOut})
def me() -> Response:
    return json_response(user_out(current_actor()))


# --- admin: users, teams, categories --------------------------------------------------------------------


@registry.route(
    bp,
    "/users",
    "GET",
    summary="Users a page at a time, by name: ?q= part of a name or email, role, status (admins)",
    tag="Users",
    query=UserListQuery,
    responses={200: UserList},
)
def list_users(query: UserListQuery) -> Response:
    session = db.session()
    found = reads.user_page(
        session,
        current_actor(),
        reads.UserQuery(text=query.q, role=query.role, status=query.status, page=query.page, size=query.size),
    )
    users = service.users_with_teams(session, [row.id for row in found.rows])
    return json_response(
        UserList(items=[user_out(u) for u in users], total=found.total, page=found.page, pages=found.pages)
    )


@registry.route(
    bp,
    "/users",
    "POST",
    summary="Create a user (admins); without a password they are invited by email",
    tag="Users",
    body=UserCreate,
    responses={201: UserOut},
)
def create_user(body: UserCreate) -> Response:
    with db.transaction() as session:
        user = service.create_user(
            session,
            current_actor(),
            email=body.email,
            full_name=body.full_name,
            password=body.password,
            role=body.role,
            origin=request_origin("api"),
        )
        if body.password is None:
            invitations.invite(session, current_actor(), user, origin=request_origin("api"))
    return json_response(user_out(user), HTTPStatus.CREATED, {"Location": f"/api/v1/users/{user.id}"})


@registry.route(
    bp,
    "/users/<id:user_id>",
    "PATCH",
    summary="Change a user's name, role or status (admins)",
    tag="Users",
    body=UserPatch,
    responses={200: UserOut},
)
def update_user(user_id: int, body: UserPatch) -> Response:
    with db.transaction() as session:
        user = service.update_user(
            session,
            current_actor(),
            user_id,
            role=body.role,
            is_active=body.is_active,
            full_name=body.full_name,
            origin=request_origin("api"),
        )
    return json_response(user_out(user))


@registry.route(
    bp, "/teams", "GET", summary="Teams and their members (the desk)", tag="Teams", responses={200: TeamList}
)
def list_teams() -> Response:
    teams = service.list_teams(db.session(), current_actor())
    return json_response(TeamList(items=[team_out(t) for t in teams]))


@registry.route(
    bp,
    "/teams",
    "POST",
    summary="Create a team (admins)",
    tag="Teams",
    body=TeamCreate,
    responses={201: TeamOut},
)
def create_team(body: TeamCreate) -> Response:
    with db.transaction() as session:
        team = service.create_team(session, current_actor(), body.name, origin=request_origin("api"))
    return json_response(team_out(team), HTTPStatus.CREATED)


@registry.route(
    bp,
    "/teams/<id:team_id>",
    "PATCH",
    summary="Rename a team or set its members (admins)",
    tag="Teams",
    body=TeamPatch,
    responses={200: TeamOut},
)
def update_team(team_id: int, body: TeamPatch) -> Response:
    with db.transaction() as session:
        team = service.update_team(
            session,
            current_actor(),
            team_id,
            name=body.name,
            member_ids=body.member_ids,
            origin=request_origin("api"),
        )
    return json_response(team_out(team))
