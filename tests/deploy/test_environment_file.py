"""The environment file the playbook writes is one the application reads: every setting an operator
chooses in the playbook's variables reaches the running desk, and the file names no setting the desk
does not know (a typo there would be silently ignored in production)."""

from __future__ import annotations

import re
from pathlib import Path

import jinja2
import yaml

from supportdesk.core.config import Config

ROOT = Path(__file__).resolve().parents[2]
ANSIBLE = ROOT / "deploy" / "ansible"
# Read by the process manager rather than the application.
OUTSIDE_THE_APP = {"GUNICORN_WORKERS"}


def rendered(**chosen: object) -> dict[str, str]:
    defaults = yaml.safe_load((ANSIBLE / "group_vars" / "all.yml").read_text())
    plain = {k: v for k, v in defaults.items() if not (isinstance(v, str) and "{{" in v)}
    values = {
        **plain,
        "supportdesk_data": "/var/lib/supportdesk",
        "supportdesk_database_url": "postgresql://supportdesk:pw@127.0.0.1:5432/supportdesk",
        "supportdesk_secret_key": "s" * 48,
        "supportdesk_redis_url": "redis://127.0.0.1:6379/0",
        "supportdesk_metrics_token": "t" * 32,
        "supportdesk_server_name": "desk.example.com",
        "supportdesk_mail_from": "support@desk.example.com",
        "supportdesk_smtp_password": "",
        **chosen,
    }
    # An environment file, not HTML: nothing to escape.
    template = jinja2.Environment(undefined=jinja2.StrictUndefined, keep_trailing_newline=True)  # noqa: S701
    text = template.from_string((ANSIBLE / "templates" / "supportdesk.env.j2").read_text()).render(values)
    lines = [line for line in text.splitlines() if line.strip() and not line.startswith("#")]
    return dict(line.split("=", 1) for line in lines)


def names_the_app_reads() -> set[str]:
    source = (ROOT / "supportdesk" / "core" / "config.py").read_text()
    return set(re.findall(r'environ(?:\.get\(|\[|, )\s*"([A-Z][A-Z0-9_]*)"', source))


def test_the_default_file_starts_a_production_desk():
    config = Config.from_env(rendered())
    assert config.env == "production"
    assert config.require_two_factor == ()


def test_settings_an_operator_chooses_reach_the_desk():
    config = Config.from_env(
        rendered(
            supportdesk_require_two_factor=["admin", "technician"],
            supportdesk_desk_timezone="Europe/Berlin",
            supportdesk_settings={"IMAP_IDLE": "0", "AUTO_CLOSE_DAYS": 10, "MAIL_FROM_NAME": "IT Help"},
        )
    )
    assert config.require_two_factor == ("admin", "technician")
    assert str(config.desk_timezone) == "Europe/Berlin"
    assert config.imap_idle is False
    assert config.auto_close_days == 10
    assert config.mail_from_name == "IT Help"


def test_the_file_names_only_settings_the_desk_reads():
    written = rendered(supportdesk_smtp_host="smtp.example.com", supportdesk_require_two_factor=["admin"])
    assert set(written) - OUTSIDE_THE_APP <= names_the_app_reads()
