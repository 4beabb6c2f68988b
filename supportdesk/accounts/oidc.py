"""Signing in with an OpenID Connect provider, once its ID token is verified (oidc_client.py does that):
who the person is here, whether they may come in, and what role and teams their groups give them.

A user is matched by the provider's (issuer, subject). A first sign-in links to an existing account only
when the provider vouches for the email (email_verified true, or the claim OIDC_EMAIL_VERIFIED_CLAIM
names): an unverified email claim is exactly what someone would send to take over another's account.
Services flush; the caller commits."""

from __future__ import annotations

import secrets
from collections.abc import Iterable, Mapping
from typing import Any

from sqlalchemy import select
from sqlalchemy.orm import Session

from supportdesk.accounts import audit
from supportdesk.accounts import service as accounts
from supportdesk.accounts.identities import ExternalIdentity
from supportdesk.accounts.models import Role, Team, User
from supportdesk.core import clock
from supportdesk.core.errors import ValidationError
from supportdesk.core.oidc_settings import OidcSettings
from supportdesk.core.origin import Origin

# The session key that says this browser signed in through the provider (and keeps the ID token for
# the provider's sign-out). Such a session skips the local second factor: the provider did it.
SIGNED_IN_WITH_PROVIDER = "oidc"
GOOGLE_ISSUER = "https://accounts.google.com"


class SignInRefused(Exception):
    """The provider said who the person is, and SupportDesk will not let them in: `reason` is for them."""

    def __init__(self, code: str, reason: str) -> None:
        super().__init__(reason)
        self.code = code
        self.reason = reason


def sign_in(
    session: Session, settings: OidcSettings, claims: Mapping[str, Any], origin: Origin | None = None
) -> User:
    """The user these verified claims sign in, created or linked on a first sign-in; role and teams
    follow the provider's groups (when mapped); last sign-in times are set. What the provider changed
    goes in the admin audit log, with no actor (the provider) and the browser's `origin`."""
    subject = claims.get("sub")
    if not isinstance(subject, str) or not 1 <= len(subject) <= 255:
        raise SignInRefused("no-subject", "The identity provider did not say who you are.")
    email = _email(claims)
    if settings.allowed_domains and not _of_allowed_domain(settings, claims, email):
        raise SignInRefused(
            "other-domain",
            "Your account at the identity provider is not one of this desk's. Ask the IT desk.",
        )
    identity = session.scalars(
        select(ExternalIdentity).where(
            ExternalIdentity.issuer == settings.issuer, ExternalIdentity.subject == subject
        )
    ).one_or_none()
    created = linked = False
    if identity is None:
        user, created = _first_sign_in(session, settings, claims, email)
        identity = ExternalIdentity(user=user, issuer=settings.issuer, subject=subject)
        session.add(identity)
        linked = True
    user = identity.user
    if not user.is_active:
        raise SignInRefused("deactivated", "Your SupportDesk account is deactivated. Ask the IT desk.")
    was_role = user.role
    team_changes = _map_groups(session, settings, user, _groups(claims, settings.groups_claim))
    identity.email = email
    identity.last_login_at = clock.now()
    accounts.record_sign_in(session, user)  # the provider proved every factor it asks for
    _audit(session, origin, user, identity, created, linked, was_role, team_changes)
    return user


def end_sessions_of(session: Session, settings: OidcSettings, subject: str) -> User | None:
    """The provider ended this person's session (back-channel logout): every desk session of theirs
    ends on its next request. None when the desk does not know them."""
    identity = session.scalars(
        select(ExternalIdentity).where(
            ExternalIdentity.issuer == settings.issuer, ExternalIdentity.subject == subject
        )
    ).one_or_none()
    if identity is None:
        return None
    accounts.end_sessions(session, identity.user)
    return identity.user


def may_use_password(settings: OidcSettings | None, user: User) -> bool:
    """Local passwords stay for staff (a way in when the provider is down); for employees, only when
    the desk keeps them (OIDC_EMPLOYEE_PASSWORDS)."""
    return settings is None or settings.employee_passwords or user.is_staff


def _first_sign_in(
    session: Session, settings: OidcSettings, claims: Mapping[str, Any], email: str | None
) -> tuple[User, bool]:
    """The account a first sign-in links to, and whether it was created for it."""
    verified = _is_verified(claims.get(settings.email_verified_claim))
    if email is None:
        raise SignInRefused(
            "no-email", "The identity provider did not give your email address, so no account can match."
        )
    if not verified:
        # Neither link (a takeover) nor create (the address would be squatted before its owner comes).
        raise SignInRefused(
            "unverified-email",
            "The identity provider does not confirm that your email address is yours, so SupportDesk "
            "cannot match it to an account. Ask the IT desk.",
        )
    existing = accounts.find_user_by_email(session, email)
    if existing is not None:
        return existing, False
    if not settings.create_users:
        raise SignInRefused(
            "no-account",
            "There is no SupportDesk account for you yet, and accounts are not created on first sign-in "
            "here. Ask the IT desk to add you.",
        )
    try:
        user = accounts.register_user(
            session,
            email=email,
            full_name=_full_name(claims, email),
            # Nobody knows it: the person signs in through the provider (or chooses one by a reset).
            password=secrets.token_urlsafe(32),
            role=Role.REQUESTER,
        )
    except ValidationError as error:
        raise SignInRefused(
            "invalid-profile", f"Your profile cannot make an account: {error.detail}"
        ) from None
    return user, True


# A mapped team, whether the mapping created it, and its members' emails before the sign-in.
_TeamChange = tuple[Team, bool, list[str]]


def _map_groups(
    session: Session, settings: OidcSettings, user: User, groups: frozenset[str]
) -> list[_TeamChange]:
    if settings.maps_roles:
        if groups & settings.admin_groups:
            user.role = Role.ADMIN
        elif groups & settings.technician_groups:
            user.role = Role.TECHNICIAN
        else:
            user.role = Role.REQUESTER
    if not settings.team_groups:
        return []
    # Only the teams the mapping names follow the provider; teams an admin manages by hand stay.
    mapped = {team for _, team in settings.team_groups}
    wanted = {team for group, team in settings.team_groups if group in groups} if user.is_staff else set()
    teams, new_names = _teams_named(session, mapped)
    changes = [
        (team, name in new_names, sorted(m.email for m in team.members)) for name, team in teams.items()
    ]
    kept = [t for t in user.teams if t.name not in mapped]
    user.teams = kept + [teams[name] for name in sorted(wanted)]
    session.flush()
    return changes


def _audit(
    session: Session,
    origin: Origin | None,
    user: User,
    identity: ExternalIdentity,
    created: bool,
    linked: bool,
    was_role: Role,
    team_changes: list[_TeamChange],
) -> None:
    def entry(action: str, target: User | Team, label: str, before: Any = None, after: Any = None) -> None:
        kind = "user" if isinstance(target, User) else "team"
        audit.record_changes(
            session,
            None,
            origin,
            action,
            target_type=kind,
            target_id=target.id,
            target_label=label,
            before=before or {},
            after=after,
        )

    if created:
        entry(
            "user.created",
            user,
            user.email,
            after={"email": user.email, "full_name": user.full_name, "role": user.role.value},
        )
    if linked:
        entry(
            "sign_in.provider_linked",
            user,
            user.email,
            after={"issuer": identity.issuer, "subject": identity.subject},
        )
    if not created:
        entry("user.role_changed", user, user.email, {"role": was_role.value}, {"role": user.role.value})
    for team, team_created, members in sorted(team_changes, key=lambda change: change[0].name):
        if team_created:
            entry("team.created", team, team.name, after={"name": team.name})
        entry(
            "team.members_changed",
            team,
            team.name,
            {"members": members},
            {"members": sorted(m.email for m in team.members)},
        )


def _teams_named(session: Session, names: Iterable[str]) -> tuple[dict[str, Team], set[str]]:
    """The mapped teams, created when missing (the admin named them in the mapping), and which were."""
    names = set(names)
    found = {t.name: t for t in session.scalars(select(Team).where(Team.name.in_(names)))}
    created = names - found.keys()
    for name in sorted(created):
        found[name] = Team(name=name)
        session.add(found[name])
    session.flush()
    return found, created


def _of_allowed_domain(settings: OidcSettings, claims: Mapping[str, Any], email: str | None) -> bool:
    """A verified email of an allowed domain, and Google's `hd` (the Workspace the account belongs to:
    a consumer account can carry a company address) among them when sent."""
    verified = _is_verified(claims.get(settings.email_verified_claim))
    if email is None or not verified or email.rsplit("@", 1)[-1] not in settings.allowed_domains:
        return False
    hosted = claims.get("hd")
    if hosted is None:
        return settings.issuer != GOOGLE_ISSUER  # at Google, no hd is a consumer account
    return isinstance(hosted, str) and hosted.lower() in settings.allowed_domains


def _email(claims: Mapping[str, Any]) -> str | None:
    email = claims.get("email")
    if not isinstance(email, str) or not email.strip():
        return None
    return accounts.normalise_email(email)


def _is_verified(value: object) -> bool:
    # A JSON true; some providers (older Cognito, some SAML bridges) send the string "true".
    return value is True or (isinstance(value, str) and value.lower() == "true")


def _groups(claims: Mapping[str, Any], claim: str) -> frozenset[str]:
    value = claims.get(claim)
    if isinstance(value, str):
        return frozenset(value.split())
    if isinstance(value, list):
        return frozenset(str(v) for v in value if isinstance(v, str | int))
    return frozenset()


def _full_name(claims: Mapping[str, Any], email: str) -> str:
    name = claims.get("name")
    if not isinstance(name, str) or not name.strip():
        parts = [claims.get("given_name"), claims.get("family_name")]
        name = " ".join(p for p in parts if isinstance(p, str) and p.strip())
    return " ".join(name.split())[:120] or email.split("@", 1)[0]
