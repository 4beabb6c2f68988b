"""The account API: tokens, who am I, and the admins' users, teams and categories."""

from __future__ import annotations

from http import HTTPStatus

from flask import Response

from supportdesk.accounts import service, tokens
from supportdesk.accounts.models import ApiToken, Team, User
from supportdesk.accounts.schemas import (
    CategoryCreate,
    CategoryList,
    CategoryOut,
    CategoryPatch,
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
    UserOut,
    UserPatch,
)
from supportdesk.core import ratelimit
from supportdesk.core.apikit import bp, current_actor, json_response, registry
from supportdesk.core.db import db
from supportdesk.tickets import categories, policy
from supportdesk.tickets.models import Category


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


def category_out(category: Category) -> CategoryOut:
    return CategoryOut(
        id=category.id,
        name=category.name,
        default_team_id=category.default_team_id,
        is_active=category.is_active,
    )


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
    token, secret = tokens.issue_token(db.session(), body.email, body.password, body.name)
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
    tokens.revoke_token(db.session(), current_actor(), token_id)
    return json_response(None, HTTPStatus.NO_CONTENT)


@registry.route(bp, "/me", "GET", summary="Who this token belongs to", tag="Users", responses={200: UserOut})
def me() -> Response:
    return json_response(user_out(current_actor()))


# --- admin: users, teams, categories --------------------------------------------------------------------


@registry.route(bp, "/users", "GET", summary="Every user (admins)", tag="Users", responses={200: UserList})
def list_users() -> Response:
    return json_response(
        UserList(items=[user_out(u) for u in service.list_users(db.session(), current_actor())])
    )


@registry.route(
    bp,
    "/users",
    "POST",
    summary="Create a user (admins)",
    tag="Users",
    body=UserCreate,
    responses={201: UserOut},
)
def create_user(body: UserCreate) -> Response:
    user = service.create_user(
        db.session(),
        current_actor(),
        email=body.email,
        full_name=body.full_name,
        password=body.password,
        role=body.role,
    )
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
    user = service.update_user(
        db.session(),
        current_actor(),
        user_id,
        role=body.role,
        is_active=body.is_active,
        full_name=body.full_name,
    )
    return json_response(user_out(user))


@registry.route(
    bp, "/teams", "GET", summary="Teams and their members (the desk)", tag="Teams", responses={200: TeamList}
)
def list_teams() -> Response:
    policy.require_desk_member(current_actor())
    return json_response(TeamList(items=[team_out(t) for t in service.list_teams(db.session())]))


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
    team = service.create_team(db.session(), current_actor(), body.name)
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
    session, actor = db.session(), current_actor()
    policy.require_desk_manager(actor)
    team = service.rename_team(session, actor, team_id, body.name) if body.name is not None else None
    if body.member_ids is not None:
        team = service.set_team_members(session, actor, team_id, body.member_ids)
    if team is None:
        team = service.get_team(session, actor, team_id)
    return json_response(team_out(team))


@registry.route(
    bp,
    "/categories",
    "GET",
    summary="Categories and where they route",
    tag="Categories",
    responses={200: CategoryList},
)
def list_categories() -> Response:
    actor = current_actor()
    items = categories.list_categories(db.session(), active_only=not policy.may_manage_desk(actor))
    return json_response(CategoryList(items=[category_out(c) for c in items]))


@registry.route(
    bp,
    "/categories",
    "POST",
    summary="Create a category (admins)",
    tag="Categories",
    body=CategoryCreate,
    responses={201: CategoryOut},
)
def create_category(body: CategoryCreate) -> Response:
    category = categories.create_category(db.session(), current_actor(), body.name, body.default_team_id)
    return json_response(category_out(category), HTTPStatus.CREATED)


@registry.route(
    bp,
    "/categories/<id:category_id>",
    "PATCH",
    summary="Change a category (admins)",
    tag="Categories",
    body=CategoryPatch,
    responses={200: CategoryOut},
)
def update_category(category_id: int, body: CategoryPatch) -> Response:
    category = categories.update_category(
        db.session(),
        current_actor(),
        category_id,
        name=body.name,
        default_team_id=body.default_team_id,
        clear_default_team="default_team_id" in body.model_fields_set and body.default_team_id is None,
        is_active=body.is_active,
    )
    return json_response(category_out(category))
