"""Every setting SupportDesk reads, taken from environment variables in this one place."""

from __future__ import annotations

import os
import re
import secrets
from collections.abc import Mapping
from dataclasses import dataclass
from pathlib import Path
from typing import TYPE_CHECKING
from zoneinfo import ZoneInfo, ZoneInfoNotFoundError

from flask import current_app

from supportdesk.core.oidc_settings import OidcSettings, OidcSettingsError, oidc_from_env

if TYPE_CHECKING:
    from supportdesk.core.directory_settings import DirectorySettings

ENVIRONMENTS = ("development", "test", "production")
JOBS_BACKENDS = ("redis", "sqlite", "memory")
# starttls: a plain connection upgraded before AUTH (port 587); tls: TLS from the start (465); none:
# a relay on the same host or network that needs neither (port 25).
SMTP_SECURITY = ("starttls", "tls", "none")
_PLAIN_ADDRESS = re.compile(r"[a-z0-9.!#$%&'*+/=?^_`{|}~-]+@[a-z0-9](?:[a-z0-9.-]*[a-z0-9])?")
# The Alembic migrations, shipped beside the package.
MIGRATIONS_DIR = Path(__file__).resolve().parents[2] / "migrations"


class ConfigError(RuntimeError):
    """The environment asks for something SupportDesk refuses to run with."""


@dataclass(frozen=True)
class Config:
    env: str
    database_url: str
    secret_key: str
    instance_path: Path
    auto_close_days: int
    reopen_window_days: int
    max_file_bytes: int
    max_ticket_bytes: int
    session_cookie_secure: bool
    attachments_path: Path
    ratelimit_storage_uri: str
    login_limit_per_account: str
    login_limit_per_address: str
    redis_url: str | None = None
    trusted_proxies: int = 0
    metrics_token: str | None = None
    log_json: bool = False
    # Background jobs (Huey): "redis" (production: shared by every worker on every machine), "sqlite"
    # (a file in the instance folder: `make run` with no Redis), "memory" (tests run them by hand).
    jobs_backend: str = "sqlite"
    worker_threads: int = 4
    # Outgoing mail. No SMTP_HOST: nothing leaves the machine, and the admins' mail page shows what would
    # have been sent (the mail catcher of `make run`).
    smtp_host: str | None = None
    smtp_port: int = 587
    smtp_security: str = "starttls"
    smtp_username: str | None = None
    smtp_password: str | None = None
    smtp_ca_file: str | None = None
    smtp_timeout_seconds: int = 30
    # Incoming mail (desk mailboxes read over IMAP; each mailbox's server and login are set by admins).
    imap_ca_file: str | None = None  # a private CA's certificate; otherwise the system's
    imap_timeout_seconds: int = 30
    imap_idle: bool = True  # the worker keeps an IDLE connection per mailbox, besides the minute's poll
    mail_from: str = "support@supportdesk.localhost"
    mail_from_name: str = "SupportDesk"
    reset_limit_per_account: str = "3 per 15 minutes"
    reset_limit_per_address: str = "20 per hour"
    # Where people reach the desk: links in mail are built on it.
    public_url: str = "http://127.0.0.1:5000"
    # The desk's calendar: where its days start and end (reports count per local day and week).
    desk_timezone: str = "UTC"
    # Roles ("admin", "technician") whose users must sign in with a second factor.
    require_two_factor: tuple[str, ...] = ()
    # The company directory (LDAP / Active Directory) people sign in with: core/directory_settings.py.
    directory: DirectorySettings | None = None
    # OpenID Connect sign-in (OIDC_*: see oidc_settings.py); None when OIDC_ISSUER is not set.
    oidc: OidcSettings | None = None

    @property
    def is_production(self) -> bool:
        return self.env == "production"

    @classmethod
    def from_env(cls, environ: Mapping[str, str] | None = None) -> Config:
        environ = os.environ if environ is None else environ
        env = environ.get("SUPPORTDESK_ENV", "development")
        if env not in ENVIRONMENTS:
            raise ConfigError(f"SUPPORTDESK_ENV must be one of {', '.join(ENVIRONMENTS)}, not {env!r}")
        instance_path = Path(environ.get("SUPPORTDESK_INSTANCE", Path.cwd() / "instance")).resolve()
        security = environ.get("SMTP_SECURITY", "starttls")
        if security not in SMTP_SECURITY:
            raise ConfigError(f"SMTP_SECURITY must be one of {', '.join(SMTP_SECURITY)}, not {security!r}")
        return cls(
            env=env,
            database_url=normalise_database_url(
                environ.get("DATABASE_URL") or f"sqlite:///{instance_path / 'supportdesk.db'}"
            ),
            secret_key=_secret_key(environ, env, instance_path),
            instance_path=instance_path,
            auto_close_days=_positive_int(environ, "AUTO_CLOSE_DAYS", 7),
            reopen_window_days=_positive_int(environ, "REOPEN_WINDOW_DAYS", 14),
            max_file_bytes=_positive_int(environ, "MAX_FILE_BYTES", 10 * 1024 * 1024),
            max_ticket_bytes=_positive_int(environ, "MAX_TICKET_BYTES", 50 * 1024 * 1024),
            # Secure cookies in production; SESSION_COOKIE_SECURE=0 only for plain-HTTP loopback benchmarks.
            session_cookie_secure=environ.get("SESSION_COOKIE_SECURE", "1" if env == "production" else "0")
            == "1",
            attachments_path=Path(environ.get("ATTACHMENTS_DIR") or instance_path / "attachments").resolve(),
            ratelimit_storage_uri=environ.get("RATELIMIT_STORAGE_URI", "memory://"),
            login_limit_per_account=environ.get("LOGIN_LIMIT_PER_ACCOUNT", "5 per minute;20 per hour"),
            login_limit_per_address=environ.get("LOGIN_LIMIT_PER_ADDRESS", "30 per minute"),
            # Checked by /readyz and used by the worker's lock; rate limits name their own storage.
            redis_url=environ.get("REDIS_URL") or None,
            # How many proxies (nginx: 1) stand in front and set X-Forwarded-For / -Proto / -Host.
            trusted_proxies=_non_negative_int(environ, "TRUSTED_PROXIES", 0),
            metrics_token=environ.get("METRICS_TOKEN") or None,
            log_json=environ.get("LOG_FORMAT", "json" if env == "production" else "console") == "json",
            jobs_backend=_jobs_backend(environ),
            worker_threads=_positive_int(environ, "WORKER_THREADS", 4),
            smtp_host=environ.get("SMTP_HOST") or None,
            smtp_port=_positive_int(environ, "SMTP_PORT", 465 if security == "tls" else 587),
            smtp_security=security,
            smtp_username=environ.get("SMTP_USERNAME") or None,
            smtp_password=environ.get("SMTP_PASSWORD") or None,
            smtp_ca_file=environ.get("SMTP_CA_FILE") or None,
            smtp_timeout_seconds=_positive_int(environ, "SMTP_TIMEOUT_SECONDS", 30),
            imap_ca_file=environ.get("IMAP_CA_FILE") or None,
            imap_timeout_seconds=_positive_int(environ, "IMAP_TIMEOUT_SECONDS", 30),
            imap_idle=environ.get("IMAP_IDLE", "1") not in ("0", "false", "no", "off"),
            mail_from=_mail_from(environ),
            mail_from_name=environ.get("MAIL_FROM_NAME", "SupportDesk"),
            public_url=_public_url(environ),
            reset_limit_per_account=environ.get("RESET_LIMIT_PER_ACCOUNT", "3 per 15 minutes"),
            reset_limit_per_address=environ.get("RESET_LIMIT_PER_ADDRESS", "20 per hour"),
            desk_timezone=_time_zone(environ, "DESK_TIMEZONE", "UTC"),
            require_two_factor=_staff_roles(environ, "REQUIRE_TWO_FACTOR"),
            directory=_directory_settings(environ),
            oidc=_oidc(environ),
        )


def _oidc(environ: Mapping[str, str]) -> OidcSettings | None:
    try:
        return oidc_from_env(environ)
    except OidcSettingsError as error:
        raise ConfigError(str(error)) from None


def _directory_settings(environ: Mapping[str, str]) -> DirectorySettings | None:
    from supportdesk.core.directory_settings import directory_settings  # it raises our ConfigError

    return directory_settings(environ)


def _staff_roles(environ: Mapping[str, str], name: str) -> tuple[str, ...]:
    roles = tuple(dict.fromkeys(r.strip() for r in environ.get(name, "").split(",") if r.strip()))
    unknown = [r for r in roles if r not in ("admin", "technician")]
    if unknown:
        raise ConfigError(f"{name} names roles among admin and technician, not {', '.join(unknown)}")
    return roles


def _jobs_backend(environ: Mapping[str, str]) -> str:
    backend = environ.get("JOBS_BACKEND") or ("redis" if environ.get("REDIS_URL") else "sqlite")
    if backend not in JOBS_BACKENDS:
        raise ConfigError(f"JOBS_BACKEND must be one of {', '.join(JOBS_BACKENDS)}, not {backend!r}")
    if backend == "redis" and not environ.get("REDIS_URL"):
        raise ConfigError("JOBS_BACKEND=redis needs REDIS_URL")
    return backend


def _public_url(environ: Mapping[str, str]) -> str:
    url = environ.get("PUBLIC_URL", "http://127.0.0.1:5000").strip().rstrip("/")
    if not re.fullmatch(r"https?://[^\s/?#]+(/[^\s?#]*)?", url):
        raise ConfigError(
            f"PUBLIC_URL must be an http(s) address such as https://desk.example.com, not {url!r}"
        )
    return url


def _mail_from(environ: Mapping[str, str]) -> str:
    address = environ.get("MAIL_FROM", "support@supportdesk.localhost").strip().lower()
    if not _PLAIN_ADDRESS.fullmatch(address):
        raise ConfigError(f"MAIL_FROM must be a plain address such as support@example.com, not {address!r}")
    return address


def current_config() -> Config:
    """The settings of the app handling the current request or command."""
    config: Config = current_app.config["SUPPORTDESK"]
    return config


def normalise_database_url(url: str) -> str:
    """Use the psycopg 3 driver for plain PostgreSQL URLs, as Heroku-style environments give them."""
    for prefix in ("postgres://", "postgresql://"):
        if url.startswith(prefix):
            return "postgresql+psycopg://" + url[len(prefix) :]
    return url


def _positive_int(environ: Mapping[str, str], name: str, default: int) -> int:
    return _int_at_least(environ, name, default, 1)


def _non_negative_int(environ: Mapping[str, str], name: str, default: int) -> int:
    return _int_at_least(environ, name, default, 0)


def _int_at_least(environ: Mapping[str, str], name: str, default: int, least: int) -> int:
    raw = environ.get(name)
    if raw is None or raw == "":
        return default
    try:
        value = int(raw)
    except ValueError:
        raise ConfigError(f"{name} must be a whole number, not {raw!r}") from None
    if value < least:
        raise ConfigError(f"{name} must be at least {least}, not {value}")
    return value


def _time_zone(environ: Mapping[str, str], name: str, default: str) -> str:
    raw = environ.get(name) or default
    try:
        ZoneInfo(raw)
    except (ZoneInfoNotFoundError, ValueError):
        raise ConfigError(f"{name} must be an IANA time zone such as Europe/Berlin, not {raw!r}") from None
    return raw


def _secret_key(environ: Mapping[str, str], env: str, instance_path: Path) -> str:
    given = environ.get("SECRET_KEY")
    if given:
        if env == "production" and len(given) < 32:
            raise ConfigError("SECRET_KEY must be at least 32 characters in production")
        return given
    if env == "production":
        raise ConfigError("SECRET_KEY is required in production; refusing to start without one")
    # Development and tests keep a key generated once, so sessions survive restarts.
    key_file = instance_path / "secret_key"
    if key_file.exists():
        return key_file.read_text().strip()
    instance_path.mkdir(parents=True, exist_ok=True)
    key = secrets.token_urlsafe(48)
    key_file.write_text(key)
    key_file.chmod(0o600)
    return key
