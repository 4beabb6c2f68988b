import pytest

from supportdesk.app import create_app
from supportdesk.core.config import Config, ConfigError, normalise_database_url


def test_defaults_use_a_sqlite_file_in_the_instance_folder_and_generate_a_secret_once(tmp_path):
    config = Config.from_env({"SUPPORTDESK_INSTANCE": str(tmp_path)})
    assert config.env == "development"
    assert config.database_url == f"sqlite:///{tmp_path / 'supportdesk.db'}"
    assert (config.auto_close_days, config.reopen_window_days) == (7, 14)
    assert (config.max_file_bytes, config.max_ticket_bytes) == (10 * 1024 * 1024, 50 * 1024 * 1024)
    assert len(config.secret_key) >= 32
    assert (tmp_path / "secret_key").stat().st_mode & 0o777 == 0o600
    assert Config.from_env({"SUPPORTDESK_INSTANCE": str(tmp_path)}).secret_key == config.secret_key


def test_settings_come_from_the_environment(tmp_path):
    config = Config.from_env(
        {
            "SUPPORTDESK_INSTANCE": str(tmp_path),
            "DATABASE_URL": "postgres://u@db/desk",
            "SECRET_KEY": "k" * 40,
            "AUTO_CLOSE_DAYS": "3",
            "REOPEN_WINDOW_DAYS": "30",
            "MAX_FILE_BYTES": "1000",
            "MAX_TICKET_BYTES": "5000",
        }
    )
    assert config.database_url == "postgresql+psycopg://u@db/desk"
    assert (config.auto_close_days, config.reopen_window_days, config.max_file_bytes) == (3, 30, 1000)


def test_production_refuses_to_start_without_a_real_secret(tmp_path):
    with pytest.raises(ConfigError, match="SECRET_KEY is required"):
        Config.from_env({"SUPPORTDESK_ENV": "production", "SUPPORTDESK_INSTANCE": str(tmp_path)})
    with pytest.raises(ConfigError, match="at least 32"):
        Config.from_env({"SUPPORTDESK_ENV": "production", "SECRET_KEY": "short"})


def test_production_cookies_are_secure_and_debug_is_off(tmp_path):
    config = Config.from_env(
        {
            "SUPPORTDESK_ENV": "production",
            "SECRET_KEY": "s" * 40,
            "SUPPORTDESK_INSTANCE": str(tmp_path),
            "DATABASE_URL": f"sqlite:///{tmp_path / 'p.db'}",
        }
    )
    app = create_app(config)
    assert app.config["SESSION_COOKIE_SECURE"] and app.config["REMEMBER_COOKIE_SECURE"]
    assert app.debug is False


@pytest.mark.parametrize(
    ("name", "value", "message"),
    [
        ("SUPPORTDESK_ENV", "staging", "must be one of"),
        ("AUTO_CLOSE_DAYS", "soon", "whole number"),
        ("REOPEN_WINDOW_DAYS", "0", "at least 1"),
        ("JOBS_BACKEND", "celery", "JOBS_BACKEND must be one of"),
        ("JOBS_BACKEND", "redis", "JOBS_BACKEND=redis needs REDIS_URL"),
        ("SMTP_SECURITY", "ssl3", "SMTP_SECURITY must be one of"),
        ("MAIL_FROM", "Support <support@example.com>", "MAIL_FROM must be a plain address"),
    ],
)
def test_bad_settings_are_named(tmp_path, name, value, message):
    with pytest.raises(ConfigError, match=message):
        Config.from_env({"SUPPORTDESK_INSTANCE": str(tmp_path), name: value})


def test_database_urls_are_normalised():
    assert normalise_database_url("postgresql://x/y") == "postgresql+psycopg://x/y"
    assert normalise_database_url("sqlite:///a.db") == "sqlite:///a.db"


def test_operations_settings(tmp_path):
    config = Config.from_env(
        {
            "SUPPORTDESK_INSTANCE": str(tmp_path),
            "SUPPORTDESK_ENV": "production",
            "SECRET_KEY": "k" * 40,
            "REDIS_URL": "redis://cache:6379/0",
            "TRUSTED_PROXIES": "1",
            "METRICS_TOKEN": "scrape",
            "WORKER_THREADS": "8",
        }
    )
    assert config.redis_url == "redis://cache:6379/0"
    assert (config.trusted_proxies, config.metrics_token) == (1, "scrape")
    assert config.log_json and config.worker_threads == 8
    plain = Config.from_env({"SUPPORTDESK_INSTANCE": str(tmp_path), "LOG_FORMAT": "console"})
    assert (plain.redis_url, plain.trusted_proxies, plain.metrics_token) == (None, 0, None)
    assert not plain.log_json
    with pytest.raises(ConfigError, match="TRUSTED_PROXIES must be at least 0"):
        Config.from_env({"SUPPORTDESK_INSTANCE": str(tmp_path), "TRUSTED_PROXIES": "-1"})


def test_jobs_and_mail_settings(tmp_path):
    embedded = Config.from_env({"SUPPORTDESK_INSTANCE": str(tmp_path)})
    assert (embedded.jobs_backend, embedded.smtp_host, embedded.mail_from) == (
        "sqlite",
        None,
        "support@supportdesk.localhost",
    )
    relayed = Config.from_env(
        {
            "SUPPORTDESK_INSTANCE": str(tmp_path),
            "REDIS_URL": "redis://cache:6379/0",
            "SMTP_HOST": "smtp.example.com",
            "SMTP_SECURITY": "tls",
            "SMTP_USERNAME": "desk",
            "SMTP_PASSWORD": "secret",
            "MAIL_FROM": "Help@Example.com",
        }
    )
    assert relayed.jobs_backend == "redis"
    assert (relayed.smtp_host, relayed.smtp_port, relayed.smtp_security) == ("smtp.example.com", 465, "tls")
    assert (relayed.smtp_username, relayed.smtp_password, relayed.mail_from) == (
        "desk",
        "secret",
        "help@example.com",
    )
