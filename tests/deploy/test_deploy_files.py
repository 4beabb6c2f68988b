"""The deployment files are valid and keep their promises: the playbook passes ansible-lint and a syntax
check, the Dockerfile hadolint and runs as non-root, compose runs migrations before the app, the nginx
config compose uses is the template's current output, and no secret is written into any of them."""

from __future__ import annotations

import configparser
import os
import re
import shutil
import subprocess
import sys
from pathlib import Path

import pytest
import yaml

from deploy.render_nginx import render

ROOT = Path(__file__).resolve().parents[2]
DEPLOY = ROOT / "deploy"
BIN = Path(sys.executable).parent


def tool(name: str) -> str:
    found = shutil.which(name, path=f"{BIN}{os.pathsep}{os.environ.get('PATH', '')}")
    if not found:
        pytest.skip(f"{name} is not installed")
    return found


def test_the_playbook_passes_a_syntax_check_and_ansible_lint(tmp_path):
    env = {**os.environ, "ANSIBLE_LOCAL_TEMP": str(tmp_path / "tmp"), "ANSIBLE_HOME": str(tmp_path / "home")}
    for playbook in ("site.yml", "rollback.yml"):
        check = subprocess.run(
            [tool("ansible-playbook"), "--syntax-check", playbook],
            cwd=DEPLOY / "ansible", env=env, capture_output=True, text=True, check=False,
        )  # fmt: skip
        assert check.returncode == 0, check.stdout + check.stderr
    lint = subprocess.run(
        [tool("ansible-lint"), "--offline", "--nocolor", "site.yml", "rollback.yml"],
        cwd=DEPLOY / "ansible", env=env, capture_output=True, text=True, check=False,
    )  # fmt: skip
    assert lint.returncode == 0, lint.stdout + lint.stderr


def test_the_dockerfile_passes_hadolint_and_runs_as_non_root():
    dockerfile = (DEPLOY / "Dockerfile").read_text()
    assert len(re.findall(r"^FROM ", dockerfile, re.MULTILINE)) >= 2  # multi-stage
    users = re.findall(r"^USER (\S+)", dockerfile, re.MULTILINE)
    assert users and users[-1].split(":")[0] not in ("root", "0")
    lint = subprocess.run(
        [tool("hadolint"), str(DEPLOY / "Dockerfile")], capture_output=True, text=True, check=False
    )
    assert lint.returncode == 0, lint.stdout + lint.stderr


def test_compose_migrates_before_the_app_and_worker_start():
    compose = yaml.safe_load((DEPLOY / "compose.yaml").read_text())
    services = compose["services"]
    assert {"app", "worker", "nginx", "postgres", "redis", "migrate"} <= set(services)
    for name in ("app", "worker"):
        assert services[name]["depends_on"]["migrate"] == {"condition": "service_completed_successfully"}
    assert services["migrate"]["command"][-2:] == ["db", "upgrade"]
    assert "ports" not in services["app"] and "ports" not in services["postgres"]  # only nginx is exposed


def test_compose_nginx_config_is_the_templates_current_output():
    assert (DEPLOY / "compose" / "nginx.conf").read_text() == render(), (
        "run: python deploy/render_nginx.py > deploy/compose/nginx.conf"
    )


def test_nginx_never_serves_metrics_and_forwards_the_request_id():
    site = render()
    assert re.search(r"location = /metrics \{\s*return 404;", site)
    assert "proxy_set_header X-Request-ID $request_id;" in site
    assert "ssl_protocols TLSv1.2 TLSv1.3;" in site


def test_no_secret_is_written_into_the_deployment_files():
    secret_like = re.compile(r"(SECRET_KEY|PASSWORD|METRICS_TOKEN)[ \t]*[:=][ \t]*['\"]?[A-Za-z0-9_\-]{8,}")
    for path in DEPLOY.rglob("*"):
        if path.is_file() and path.suffix not in (".pyc",):
            text = path.read_text(errors="ignore")
            for match in secret_like.finditer(text):
                value = match.group(0)
                assert "${" in value or "{{" in value or "lookup(" in value, f"{path}: {value}"


def test_the_systemd_units_are_valid(tmp_path):
    """`systemd-analyze verify`: only the paths that exist on the VM alone may be missing here."""
    names = (
        "supportdesk-worker.service",
        "supportdesk-backup.service",
        "supportdesk-backup.timer",
        "supportdesk-firewall.service",
        "supportdesk-selfsigned-tls.service",
        "supportdesk-selfsigned-tls.timer",
    )
    units = [DEPLOY / "systemd" / name for name in names]
    instance = tmp_path / "supportdesk@8001.service"  # a template is verified through an instance
    instance.write_text((DEPLOY / "systemd" / "supportdesk@.service").read_text())
    alert = tmp_path / "supportdesk-alert@supportdesk-backup.service.service"
    alert.write_text((DEPLOY / "systemd" / "supportdesk-alert@.service").read_text())
    units.append(alert)
    done = subprocess.run(
        [tool("systemd-analyze"), "verify", *map(str, units), str(instance)],
        capture_output=True, text=True, check=False,
    )  # fmt: skip
    problems = [
        line
        for line in (done.stdout + done.stderr).splitlines()
        if line.strip()
        and not re.search(
            r"/opt/supportdesk/current|/usr/local/lib/supportdesk/|/etc/supportdesk/|/usr/sbin/nft ", line
        )
    ]
    assert problems == []


def test_nginx_http2_follows_the_nginx_version():
    """`listen ... http2` is deprecated from nginx 1.25.1 (compose's 1.26) in favour of `http2 on;`,
    which Debian 12's 1.22 does not know: the playbook and the smoke test pick by version."""
    current = render(http2_directive=True)
    assert "http2 on;" in current and "ssl http2" not in current
    older = render(http2_directive=False)
    assert "http2 on;" not in older and "listen 443 ssl http2;" in older


def test_acme_challenges_are_served_on_port_80_and_everything_else_redirected():
    site = render(acme_webroot="/var/lib/supportdesk-acme")
    plain = site.split("server {")[1]  # the port-80 server
    assert re.search(r"location /\.well-known/acme-challenge/ \{\s*root /var/lib/supportdesk-acme;", plain)
    assert "return 301 https://" in plain


def test_metrics_are_served_to_the_allow_list_only():
    site = render(
        metrics_port=9180, metrics_allow=["192.0.2.7", "198.51.100.0/24"], metrics_instances=[8001, 8002]
    )
    metrics = site.split("listen 9180 ssl;")[1]
    assert "allow 192.0.2.7;" in metrics and "allow 198.51.100.0/24;" in metrics
    assert metrics.index("deny all;") > metrics.index("allow 198.51.100.0/24;")
    assert "location = /metrics/8001" in metrics and "proxy_pass http://127.0.0.1:8002/metrics;" in metrics
    assert "listen 9180" not in render()  # no allow-list, no metrics port


def test_the_firewall_replaces_only_its_own_table():
    rules = (DEPLOY / "ansible" / "templates" / "firewall.nft.j2").read_text()
    assert "flush ruleset" not in rules
    assert "table inet supportdesk\ndelete table inet supportdesk\n" in rules


def test_a_failed_backup_leaves_no_partial_file(tmp_path):
    """pg_dump fails half-way (here: no database answers): the script fails and leaves nothing that
    could pass for a backup."""
    tool("pg_dump")
    done = subprocess.run(
        [str(DEPLOY / "backup.sh"), str(tmp_path)],
        env={**os.environ, "DATABASE_URL": "postgresql://nobody@127.0.0.1:1/none"},
        capture_output=True, text=True, check=False,
    )  # fmt: skip
    assert done.returncode != 0
    assert list(tmp_path.iterdir()) == []


def test_ansible_cfg_names_no_default_inventory():
    """Every run names its inventory (-i), so none lands on the example's hosts by accident."""
    config = configparser.ConfigParser()
    config.read(DEPLOY / "ansible" / "ansible.cfg")
    assert "inventory" not in config["defaults"]


def test_an_instance_being_restarted_gets_no_new_requests():
    site = render(upstreams=["127.0.0.1:8001", "127.0.0.1:8002"], drained_upstreams=["127.0.0.1:8001"])
    assert "server 127.0.0.1:8001 max_fails=3 fail_timeout=10s down;" in site
    assert "server 127.0.0.1:8002 max_fails=3 fail_timeout=10s;" in site
    assert " down;" not in render(upstreams=["127.0.0.1:8001", "127.0.0.1:8002"])
