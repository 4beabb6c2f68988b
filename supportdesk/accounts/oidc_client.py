"""The OpenID Connect relying party, through Authlib: the authorization code flow with PKCE (S256), a
state and a nonce kept in the signed session cookie and used once, the ID token verified against the
keys of the provider's JWKS (an unknown key id fetches the JWKS again, once: the provider rotated its
keys), its issuer and audience checked, and the provider's sign-out URL (RP-initiated logout).

The provider's discovery document and keys are fetched on first use and kept by the process."""

from __future__ import annotations

from typing import Any

import requests
from authlib.common.urls import add_params_to_uri
from authlib.integrations.base_client import MismatchingStateError, OAuthError
from authlib.integrations.flask_client import FlaskOAuth2App
from authlib.integrations.flask_client.integration import FlaskIntegration
from flask import current_app, request
from joserfc import jwt
from joserfc.errors import InvalidKeyIdError, JoseError
from joserfc.jwk import KeySet
from joserfc.jws import JWSRegistry
from werkzeug.wrappers import Response

from supportdesk.core.oidc_settings import OidcSettings

_NAME = "oidc"
# Seconds of clock difference tolerated between the provider and us on iat/exp/nbf.
_LEEWAY = 60
# The one event a back-channel logout token carries (OpenID Connect Back-Channel Logout 1.0, 2.4).
BACKCHANNEL_LOGOUT_EVENT = "http://schemas.openid.net/event/backchannel-logout"


class ProviderError(Exception):
    """The sign-in through the provider failed: `message` is for the person, `status` for the page."""

    def __init__(self, message: str, status: int = 400, detail: str = "") -> None:
        super().__init__(f"{message} {detail}".strip())
        self.message = message
        self.status = status
        self.detail = detail


def _client(settings: OidcSettings) -> FlaskOAuth2App:
    """One client per app and settings (tests change settings on a running app), metadata kept in it."""
    clients: dict[OidcSettings, FlaskOAuth2App] = current_app.extensions.setdefault("supportdesk.oidc", {})
    client = clients.get(settings)
    if client is None:
        client = FlaskOAuth2App(
            FlaskIntegration(_NAME),
            _NAME,
            client_id=settings.client_id,
            client_secret=settings.client_secret,
            server_metadata_url=settings.discovery_url,
            client_kwargs={
                "scope": settings.scopes,
                "code_challenge_method": "S256",
                "token_endpoint_auth_method": "client_secret_basic",
                "default_timeout": settings.timeout_seconds,
            },
        )
        clients[settings] = client
    return client


def _metadata(settings: OidcSettings) -> dict[str, Any]:
    client = _client(settings)
    try:
        metadata: dict[str, Any] = client.load_server_metadata()
    except (requests.RequestException, ValueError) as error:
        raise ProviderError("The identity provider cannot be reached. Try again in a minute.", 502) from error
    if metadata.get("issuer") != settings.issuer:
        # OpenID Connect Discovery: the document must name the issuer it was fetched for.
        client.server_metadata.clear()
        raise ProviderError(
            "The identity provider is misconfigured (its discovery names another issuer).",
            502,
            f"expected {settings.issuer!r}, got {metadata.get('issuer')!r}",
        )
    return metadata


def begin(settings: OidcSettings, redirect_uri: str) -> Response:
    """The redirect to the provider's authorization endpoint; state, nonce and the PKCE verifier wait
    in the session for the callback."""
    _metadata(settings)
    response: Response = _client(settings).authorize_redirect(redirect_uri)
    return response


def finish(settings: OidcSettings) -> tuple[dict[str, Any], str]:
    """The callback: the code exchanged (with the PKCE verifier) for tokens, the ID token verified. The
    claims of the ID token (completed by the userinfo endpoint's, for the same subject) and the raw ID
    token (for the provider's sign-out)."""
    metadata = _metadata(settings)
    client = _client(settings)
    if request.args.get("error"):
        raise ProviderError(
            "The identity provider did not sign you in.", 401, request.args.get("error_description", "")
        )
    # RFC 9207: a provider that names itself on the response must be ours (no mix-up with another).
    if "iss" in request.args and request.args["iss"] != settings.issuer:
        raise ProviderError("This answer came from another identity provider.", 400)
    audience = {"essential": True, "value": settings.client_id}
    try:
        token = client.authorize_access_token(
            claims_options={"iss": {"essential": True, "value": settings.issuer}, "aud": audience},
            leeway=_LEEWAY,
        )
    except MismatchingStateError as error:
        raise ProviderError(
            "This sign-in was already used or has expired (or began in another browser). Please sign in "
            "again.",
            400,
        ) from error
    except OAuthError as error:
        # invalid_grant: the code was already used, expired, or not issued to us (PKCE).
        raise ProviderError("The identity provider refused the sign-in.", 401, str(error)) from error
    except JoseError as error:
        raise ProviderError(
            "The identity provider's answer failed SupportDesk's checks, so you are not signed in.",
            401,
            f"{type(error).__name__}: {error}",
        ) from error
    except requests.RequestException as error:
        raise ProviderError("The identity provider cannot be reached. Try again in a minute.", 502) from error
    id_claims = token.get("userinfo")
    if not id_claims or not token.get("id_token"):
        raise ProviderError("The identity provider sent no ID token.", 401)
    claims = dict(id_claims)
    if metadata.get("userinfo_endpoint"):
        claims = {**_userinfo(client, token, claims["sub"]), **claims}
    return claims, str(token["id_token"])


def _userinfo(client: FlaskOAuth2App, token: dict[str, Any], subject: str) -> dict[str, Any]:
    """Claims a provider gives only at its userinfo endpoint (email, groups): for the same subject only."""
    try:
        info = dict(client.userinfo(token=token))
    except (requests.RequestException, OAuthError, ValueError) as error:
        raise ProviderError("The identity provider cannot be reached. Try again in a minute.", 502) from error
    if info.get("sub") != subject:
        raise ProviderError("The identity provider's answers do not agree on who you are.", 401)
    return info


def logout_url(settings: OidcSettings, id_token: str | None, post_logout_redirect_uri: str) -> str | None:
    """The provider's end-session URL (RP-initiated logout), or None when it has none or is not reachable:
    the local sign-out has happened either way."""
    try:
        metadata = _metadata(settings)
    except ProviderError:
        return None
    if not metadata.get("end_session_endpoint"):
        return None
    # No state: nothing comes back but the browser, to the sign-in page, and nothing there depends on it.
    params = [
        *([("id_token_hint", id_token)] if id_token else []),
        ("post_logout_redirect_uri", post_logout_redirect_uri),
        ("client_id", settings.client_id),
    ]
    url: str = add_params_to_uri(metadata["end_session_endpoint"], params)
    return url


def verify_logout_token(settings: OidcSettings, token: str) -> dict[str, Any]:
    """The claims of a back-channel logout token the provider posted, once every check of the spec
    (2.6) holds: signed by a key of the provider's JWKS (fetched again once for an unknown key id), our
    issuer and audience, issued within the leeway and not expired, the logout event, no nonce (an ID
    token is not a logout token), and a subject (the desk knows people by subject, not by session)."""
    metadata = _metadata(settings)
    client = _client(settings)
    algorithms = [
        a for a in metadata.get("id_token_signing_alg_values_supported") or ["RS256"] if a != "none"
    ]
    registry = JWSRegistry(algorithms=algorithms, strict_check_header=False)
    try:
        try:
            decoded = jwt.decode(token, KeySet.import_key_set(client.fetch_jwk_set()), registry=registry)
        except InvalidKeyIdError:
            keys = KeySet.import_key_set(client.fetch_jwk_set(force=True))
            decoded = jwt.decode(token, keys, registry=registry)
        jwt.JWTClaimsRegistry(
            leeway=_LEEWAY,
            iss={"essential": True, "value": settings.issuer},
            aud={"essential": True, "value": settings.client_id},
            iat={"essential": True},
        ).validate(decoded.claims)
    except (JoseError, ValueError) as error:
        raise ProviderError("Not a valid logout token.", 400, f"{type(error).__name__}: {error}") from error
    except requests.RequestException as error:
        raise ProviderError("The identity provider's keys cannot be fetched.", 502) from error
    claims: dict[str, Any] = dict(decoded.claims)
    events = claims.get("events")
    if not isinstance(events, dict) or BACKCHANNEL_LOGOUT_EVENT not in events:
        raise ProviderError("Not a valid logout token.", 400, "no back-channel logout event")
    if "nonce" in claims:
        raise ProviderError("Not a valid logout token.", 400, "a nonce: an ID token, not a logout token")
    subject = claims.get("sub")
    if not isinstance(subject, str) or not 1 <= len(subject) <= 255:
        raise ProviderError("Not a valid logout token.", 400, "no subject")
    return claims
