"""`make deploy-test`: deploy SupportDesk for real to a throwaway Debian 12 VM and put it through what an
operator does. Each step prints as it goes and a summary with timings comes at the end.

 1. build the releases (the current tree; "next" with a migration; "broken", whose app fails to start)
 2. boot the VM (cached base image; KVM when it boots, else software emulation)
 3. site.yml on the fresh VM; check through nginx over HTTPS: sign in, raise a ticket, /readyz
 4. site.yml again: nothing may change
 5. a backup off the VM (restic over SFTP to this machine), a failing one must raise an alert
 6. deploy "next" (a migration) with traffic running: no failed request
 7. deploy "broken": the automatic rollback leaves "next" serving on the newer schema
 8. restore the backup taken before the upgrade: recreate, restore, migrate, start
 9. rollback.yml: the first release serves on the newer schema
10. TLS renewal, metrics from another host through the allow-list, the firewall's neighbours
11. reboot the VM: the desk comes back
"""

from __future__ import annotations

import argparse
import json
import os
import re
import secrets
import shutil
import ssl
import subprocess
import sys
import tempfile
import threading
import time
import urllib.error
import urllib.request
from collections.abc import Iterator
from contextlib import contextmanager
from http.server import BaseHTTPRequestHandler, ThreadingHTTPServer
from pathlib import Path

from tests.deploy_vm import multi, releases
from tests.deploy_vm.vm import CACHE, VM, base_image, free_port, log
from tests.deploy_vm.web import Browser, Load

ROOT = Path(__file__).resolve().parents[2]
ANSIBLE = ROOT / "deploy" / "ansible"
BIN = Path(sys.executable).parent
ADMIN = ("admin@desk.test", "an-admin-password-for-the-vm")
EMPLOYEE = ("employee@desk.test", "an-employee-password-for-the-vm")
ATTACHMENT = b"paper jam in tray 2\n" * 200
GUEST_PORTS = {"ssh": 22, "http": 80, "https": 443, "metrics": 9180}
HOST_FROM_GUEST = "10.0.2.2"  # QEMU user networking: this machine's loopback, seen from the guest
RECAP = re.compile(r"^(\S+)\s*:\s*ok=(\d+)\s+changed=(\d+)\s+unreachable=(\d+)\s+failed=(\d+)", re.MULTILINE)

timings: list[tuple[str, float, str]] = []


@contextmanager
def step(name: str) -> Iterator[None]:
    log(f"=== {name}")
    started = time.monotonic()
    try:
        yield
    except BaseException:
        timings.append((name, time.monotonic() - started, "FAILED"))
        log(f"=== FAILED: {name} ({time.monotonic() - started:.0f} s)")
        raise
    timings.append((name, time.monotonic() - started, "ok"))
    log(f"=== ok: {name} ({time.monotonic() - started:.0f} s)")


class Alerts(BaseHTTPRequestHandler):
    """Stands in for the chat or paging webhook the operator configures: records what it is sent."""

    received: list[dict[str, str]] = []

    def do_POST(self) -> None:
        body = self.rfile.read(int(self.headers.get("Content-Length", "0")))
        Alerts.received.append(json.loads(body or b"{}"))
        self.send_response(204)
        self.end_headers()

    def log_message(self, *_args: object) -> None:
        return


def start_sftp_server(work: Path, port: int) -> tuple[subprocess.Popen[bytes], Path, str]:
    """The backup host: OpenSSH's sshd on a loopback port, SFTP only, into a folder of this run.
    Debian's openssh-server package is unpacked into the cache, not installed, so no SSH daemon is
    set up on this machine."""
    unpacked = CACHE / "openssh-server"
    if not (unpacked / "usr" / "sbin" / "sshd").exists():
        download = work / "debs"
        download.mkdir()
        subprocess.run(
            ["apt-get", "download", "-q", "openssh-server", "openssh-sftp-server"], cwd=download, check=True,
            capture_output=True,
        )  # fmt: skip
        for deb in download.glob("*.deb"):
            subprocess.run(["dpkg-deb", "-x", str(deb), str(unpacked)], check=True)
    backup = work / "backup-host"
    (backup / "restic").mkdir(parents=True)
    host_key = backup / "host_ed25519"
    subprocess.run(["ssh-keygen", "-q", "-t", "ed25519", "-N", "", "-f", str(host_key)], check=True)
    client_key = backup / "client_ed25519"
    subprocess.run(["ssh-keygen", "-q", "-t", "ed25519", "-N", "", "-f", str(client_key)], check=True)
    shutil.copy(client_key.with_suffix(".pub"), backup / "authorized_keys")
    (backup / "sshd_config").write_text(
        f"ListenAddress 127.0.0.1:{port}\nHostKey {host_key}\nPidFile {backup}/sshd.pid\n"
        f"AuthorizedKeysFile {backup}/authorized_keys\nPasswordAuthentication no\nKbdInteractiveAuthentication no\n"
        "PermitRootLogin prohibit-password\nUsePAM no\nStrictModes no\nSubsystem sftp internal-sftp\n"
        "ForceCommand internal-sftp\nAllowTcpForwarding no\nX11Forwarding no\n"
    )
    # sshd drops privileges to this user and directory (what installing openssh-server would create).
    if subprocess.run(["id", "sshd"], capture_output=True, check=False).returncode != 0:
        log("creating the system user sshd (sshd's privilege separation user)")
        subprocess.run(
            [
                "useradd",
                "--system",
                "--no-create-home",
                "--home-dir",
                "/run/sshd",
                "--shell",
                "/usr/sbin/nologin",
                "sshd",
            ],
            check=True,
        )
    Path("/run/sshd").mkdir(exist_ok=True)
    server = _run_sshd(backup, "wb")
    public = host_key.with_suffix(".pub").read_text().split()
    known_hosts = f"[{HOST_FROM_GUEST}]:{port} {public[0]} {public[1]}"
    return server, client_key, known_hosts


class Deployment:
    def __init__(
        self,
        work: Path,
        vm: VM,
        extra_vars: dict[str, object],
        inventory: dict[str, list[tuple[VM, str]]] | None = None,
    ) -> None:
        """`inventory`: group name -> [(VM, extra host variables)]; by default the one VM in both groups."""
        self.work = work
        self.vm = vm
        self.extra_vars = extra_vars
        self.env = {
            **os.environ,
            "SUPPORTDESK_SECRET_KEY": secrets.token_urlsafe(48),
            "SUPPORTDESK_DB_PASSWORD": secrets.token_urlsafe(24),
            "SUPPORTDESK_METRICS_TOKEN": secrets.token_urlsafe(24),
            "SUPPORTDESK_BACKUP_PASSWORD": secrets.token_urlsafe(24),
            "ANSIBLE_CONFIG": str(ANSIBLE / "ansible.cfg"),
            "ANSIBLE_HOME": str(work / "ansible-home"),
            "ANSIBLE_LOCAL_TEMP": str(work / "ansible-tmp"),
            "ANSIBLE_SSH_ARGS": " ".join(
                [
                    "-o ControlMaster=auto",
                    "-o ControlPersist=300s",
                    f"-o ControlPath={work}/cm-%C",
                    f"-o UserKnownHostsFile={vm.known_hosts}",
                    "-o StrictHostKeyChecking=yes",
                ]
            ),
            "ANSIBLE_FORCE_COLOR": "0",
            "PATH": f"{BIN}{os.pathsep}{os.environ['PATH']}",
        }
        self.inventory = work / "inventory.ini"
        groups = inventory or {"supportdesk_db": [(vm, "")], "supportdesk_app": [(vm, "")]}
        lines: list[str] = []
        for group, members in groups.items():
            lines.append(f"[{group}]")
            lines += [
                f"{member.name} ansible_host=127.0.0.1 ansible_port={member.forwards['ssh']} ansible_user=root "
                f"ansible_ssh_private_key_file={member.key} {variables}".rstrip()
                for member, variables in members
            ]
            lines.append("")
        lines += ["[supportdesk:children]", "supportdesk_db", "supportdesk_app", ""]
        self.inventory.write_text("\n".join(lines))
        self.runs = 0

    def playbook(self, playbook: str, release: Path | None = None, expect_failure: bool = False) -> str:
        """Run a playbook; returns its output (also in the work folder). Prints the changed tasks."""
        self.runs += 1
        extra = dict(self.extra_vars)
        if release is not None:
            extra["supportdesk_artifact"] = str(release)
            extra["supportdesk_version"] = release.name.removeprefix("supportdesk-").removesuffix(".tar.gz")
        (self.work / "extra-vars.json").write_text(json.dumps(extra))
        output_file = self.work / f"ansible-{self.runs:02d}-{playbook.replace('.yml', '')}.log"
        started = time.monotonic()
        with output_file.open("w") as output:
            done = subprocess.run(
                [str(BIN / "ansible-playbook"), "-i", str(self.inventory), "-e", f"@{self.work / 'extra-vars.json'}",
                 "--diff", playbook],
                cwd=ANSIBLE, env=self.env, stdout=output, stderr=subprocess.STDOUT, check=False,
            )  # fmt: skip
        text = output_file.read_text()
        tasks = _changed_tasks(text)
        log(
            f"{playbook}: exit {done.returncode} in {time.monotonic() - started:.0f} s; changed: {tasks or 'nothing'}"
        )
        if (done.returncode != 0) != expect_failure:
            print(text[-6000:], flush=True)
            raise AssertionError(f"{playbook} exited {done.returncode} (log: {output_file})")
        return text

    def recap(self, text: str) -> dict[str, int]:
        found = RECAP.findall(text)
        assert found, "no play recap"
        _, ok, changed, unreachable, failed = found[-1]
        return {
            "ok": int(ok),
            "changed": int(changed),
            "unreachable": int(unreachable),
            "failed": int(failed),
        }


def _changed_tasks(text: str) -> list[str]:
    tasks: list[str] = []
    current = ""
    for line in text.splitlines():
        if line.startswith(("TASK [", "RUNNING HANDLER [")):
            current = line.split("[", 1)[1].rsplit("]", 1)[0]
        elif line.startswith("changed:") and current and current not in tasks:
            tasks.append(current)
    return tasks


def live_release(vm: VM) -> str:
    """The release each app instance actually runs (its working directory), not just the symlink."""
    out = vm.ssh(
        "for port in 8001 8002; do pid=$(systemctl show -p MainPID --value supportdesk@$port); "
        "readlink /proc/$pid/cwd; done"
    ).stdout.split()
    assert len(set(out)) == 1, f"instances on different releases: {out}"
    return Path(out[0]).name


def readyz(browser: Browser) -> dict[str, str]:
    status, _, body = browser.get("/readyz")
    assert status == 200, body
    return json.loads(body)


def main() -> None:
    parser = argparse.ArgumentParser(
        description=__doc__, formatter_class=argparse.RawDescriptionHelpFormatter
    )
    parser.add_argument("--keep", action="store_true", help="leave the VM running at the end, for a look")
    parser.add_argument("--topology", choices=("single", "multi"), default="single")
    arguments = parser.parse_args()
    for tool in ("qemu-system-x86_64", "qemu-img", "debootstrap", "ssh", "ssh-keyscan"):
        if not shutil.which(tool):
            sys.exit(f"deploy test: {tool} is missing (make deploy-test installs it)")
    began = time.monotonic()
    work = Path(tempfile.mkdtemp(prefix="supportdesk-deploy-test-", dir="/var/tmp"))
    log(f"deploy test: work folder {work}, cache {CACHE}")
    vm: VM | None = None
    vms: list[VM] = []  # the multi topology's
    sftp: subprocess.Popen[bytes] | None = None
    alerts_server: ThreadingHTTPServer | None = None
    try:
        with step("build the releases (current tree, next with a migration, broken)"):
            built = releases.build_all(work / "trees", work / "dist")
            for name, path in built.items():
                log(f"release {name}: {path.name} ({path.stat().st_size // 1024} KiB)")

        with step("base image"):
            image = base_image()

        sftp_port, alerts_port = free_port(), free_port()
        sftp, backup_key, backup_known_hosts = start_sftp_server(work, sftp_port)
        alerts_server = ThreadingHTTPServer(("127.0.0.1", alerts_port), Alerts)
        threading.Thread(target=alerts_server.serve_forever, daemon=True).start()

        backup_vars = {
            "supportdesk_backup_repository": f"sftp:root@{HOST_FROM_GUEST}:{work}/backup-host/restic",
            "supportdesk_backup_ssh_port": sftp_port,
            "supportdesk_backup_ssh_key_file": str(backup_key),
            "supportdesk_backup_known_hosts": backup_known_hosts,
            "supportdesk_alert_webhook": f"http://{HOST_FROM_GUEST}:{alerts_port}/alert",
        }
        if arguments.topology == "multi":
            run_multi(work, image, built["current"], backup_vars, vms)
            return
        forwards = {name: free_port() for name in GUEST_PORTS}
        vm = VM("desk", image, work, forwards, GUEST_PORTS)
        with step("boot the VM"):
            vm.start()
            log(f"VM runs under {vm.accelerator.upper()}; HTTPS on 127.0.0.1:{forwards['https']}")
            # Someone else's firewall table, which the playbook must leave alone.
            vm.ssh(
                "nft add table inet neighbour && nft add chain inet neighbour input '{ type filter hook input priority 10; }'"
            )

        deployment = Deployment(
            work,
            vm,
            {
                "supportdesk_server_name": "localhost",
                "supportdesk_workers_per_instance": 1,
                **backup_vars,
                "supportdesk_metrics_allow": [HOST_FROM_GUEST],
                "supportdesk_ready_retries": 150,  # instances start slowly under software emulation
            },
        )
        https = f"https://localhost:{forwards['https']}"

        with step("site.yml on the fresh VM"):
            deployment.playbook("site.yml", built["current"])
            certificate = work / "vm-certificate.pem"
            certificate.write_text(vm.ssh("cat /etc/ssl/supportdesk/fullchain.pem").stdout)
            tls = ssl.create_default_context(cafile=str(certificate))

        with step("the first admin and an employee (supportdesk-manage), sign in, raise a ticket, /readyz"):
            for (email, password), role, name in (
                (ADMIN, "admin", "First Admin"),
                (EMPLOYEE, "requester", "Emma Employee"),
            ):
                vm.ssh(
                    f"printf '%s\\n%s\\n' '{password}' '{password}' | "
                    f"supportdesk-manage create-user --role {role} --email {email} --name '{name}'"
                )
            employee = Browser(https, tls)
            employee.sign_in(*EMPLOYEE)
            first_ticket = employee.raise_ticket("Printer on floor 2", file=("error.log", ATTACHMENT))
            assert employee.attachment(first_ticket) == ATTACHMENT
            status, _, page = employee.get(f"/portal/tickets/{first_ticket}")
            assert status == 200 and "Printer on floor 2" in page
            assert readyz(employee) == {"status": "ok", "database": "ok", "redis": "ok", "migrations": "ok"}
            admin = Browser(https, tls)
            admin.sign_in(*ADMIN)
            assert admin.get("/admin/users")[0] == 200
            redirect = subprocess.run(
                ["curl", "-s", "-o", "/dev/null", "-w", "%{http_code} %{redirect_url}",
                 f"http://localhost:{forwards['http']}/login"],
                capture_output=True, text=True, check=True,
            ).stdout  # fmt: skip
            assert redirect.startswith("301 https://localhost"), redirect
            vm.ssh(
                "mkdir -p /var/lib/supportdesk-acme/.well-known/acme-challenge && "
                "echo challenge-token > /var/lib/supportdesk-acme/.well-known/acme-challenge/t0k3n"
            )
            challenge = urllib.request.urlopen(
                f"http://localhost:{forwards['http']}/.well-known/acme-challenge/t0k3n", timeout=30
            ).read()
            assert challenge == b"challenge-token\n", challenge
            log(
                f"ticket {first_ticket} raised and read back through nginx; /readyz ok; ACME webroot served on :80"
            )

        with step("site.yml again: nothing changes"):
            text = deployment.playbook("site.yml", built["current"])
            recap = deployment.recap(text)
            assert recap["changed"] == 0, f"the second run changed {recap['changed']}: {_changed_tasks(text)}"

        with step("backup off the VM (restic over SFTP); a failing backup raises an alert"):
            vm.ssh("systemctl start supportdesk-backup.service")
            snapshots = vm.ssh("supportdesk-restic snapshots --json").stdout
            before_upgrade = json.loads(snapshots)[-1]["short_id"]
            assert not vm.ssh("ls /var/backups/supportdesk/ | grep partial", check=False).stdout
            assert any((work / "backup-host" / "restic").rglob("*")), "nothing arrived on the backup host"
            log(f"backup snapshot {before_upgrade} on the backup host")
            after_backup_ticket = employee.raise_ticket("Raised after the backup")
            sftp.terminate()
            sftp.wait()
            failed = vm.ssh("systemctl start supportdesk-backup.service", check=False)
            assert failed.returncode != 0
            deadline = time.monotonic() + 120
            while not Alerts.received and time.monotonic() < deadline:
                time.sleep(2)
            assert Alerts.received and Alerts.received[0]["unit"] == "supportdesk-backup.service", (
                Alerts.received
            )
            assert (
                "supportdesk-backup.service failed"
                in vm.ssh("journalctl -t supportdesk-alert -p crit").stdout
            )
            assert not vm.ssh("ls /var/backups/supportdesk/ | grep partial", check=False).stdout
            log(f"alert received: {Alerts.received[0]['text']}")
            sftp = _run_sshd(work / "backup-host", "ab")

        with step("deploy the next release (a migration) with traffic running"):
            with Load(employee, first_ticket) as load:
                deployment.playbook("site.yml", built["next"])
                time.sleep(3)
            log(
                f"traffic during the switch: {load.requests} requests ({load.posts} tickets raised), "
                f"{len(load.failures)} failed"
            )
            assert load.requests > 20 and not load.failures, load.failures
            assert live_release(vm) == built["next"].name.removeprefix("supportdesk-").removesuffix(".tar.gz")
            assert readyz(employee)["migrations"] == "ok"
            assert (
                "deploy_test_note"
                in vm.ssh(
                    'runuser -u postgres -- psql -d supportdesk -tAc "SELECT column_name FROM information_schema.columns '
                    "WHERE table_name = 'tickets'\""
                ).stdout
            )

        with step(
            "deploy a release that fails to start: the automatic rollback keeps the previous one serving"
        ):
            with Load(employee, first_ticket) as load:
                text = deployment.playbook("site.yml", built["broken"], expect_failure=True)
            assert "did not become ready" in text
            next_version = built["next"].name.removeprefix("supportdesk-").removesuffix(".tar.gz")
            assert live_release(vm) == next_version
            answer = readyz(employee)
            assert answer["migrations"] == "ahead", answer  # the broken release's migration ran
            employee.raise_ticket("Raised after the automatic rollback")
            log(
                f"traffic during the failed deploy: {load.requests} requests, {len(load.failures)} failed "
                f"(allowed: requests nginx sent to the failing instance are retried on the other)"
            )
            assert not load.failures, load.failures

        with step("restore the backup taken before the upgrade (recreate, restore, migrate, start)"):
            # The commands of docs/operations.md ("Back up and restore"), with the snapshot from before
            # the upgrade in place of "latest".
            restore = (
                "set -e\n"
                "sudo systemctl stop supportdesk@8001 supportdesk@8002 supportdesk-worker\n"
                "sudo -u postgres dropdb supportdesk && sudo -u postgres createdb --owner supportdesk supportdesk\n"
                f"sudo supportdesk-restic restore {before_upgrade} --target /var/tmp/restore\n"
                "sudo sh -c 'set -a; . /etc/supportdesk/backup.env; set +a;\n"
                "  /usr/local/lib/supportdesk/restore.sh /var/tmp/restore/var/backups/supportdesk/supportdesk.dump \\\n"
                "    /var/tmp/restore/var/lib/supportdesk/attachments'\n"
                "sudo supportdesk-manage db upgrade\n"
                "sudo systemctl start supportdesk@8001 supportdesk@8002 supportdesk-worker\n"
                "sudo rm -rf /var/tmp/restore\n"
            )
            vm.ssh(f"cat > /root/restore-drill.sh <<'EOF'\n{restore}EOF\nsh /root/restore-drill.sh")
            _wait_ready(employee)
            assert employee.get(f"/portal/tickets/{first_ticket}")[0] == 200
            assert employee.attachment(first_ticket) == ATTACHMENT  # the file came back too
            try:
                employee.get(f"/portal/tickets/{after_backup_ticket}")
                raise AssertionError("a ticket raised after the backup survived the restore")
            except urllib.error.HTTPError as error:
                assert error.code == 404
            assert readyz(employee)["migrations"] == "ok"
            log("the pre-upgrade backup restored and migrated to the live release's schema")

        with step("rollback.yml: the first release serves on the newer schema"):
            deployment.playbook("rollback.yml")
            first_version = built["current"].name.removeprefix("supportdesk-").removesuffix(".tar.gz")
            assert live_release(vm) == first_version
            assert readyz(employee)["migrations"] == "ahead"
            employee.raise_ticket("Raised on the rolled-back release")
            units = vm.ssh("cat /etc/systemd/system/supportdesk@.service").stdout
            assert (
                units
                == vm.ssh(
                    f"cat /opt/supportdesk/releases/{first_version}/deploy/systemd/supportdesk@.service"
                ).stdout
            )

        with step("TLS renewal, metrics through the allow-list, the firewall's neighbours"):
            vm.ssh(
                "openssl req -x509 -newkey rsa:2048 -nodes -days 2 -subj /CN=localhost "
                "-keyout /etc/ssl/supportdesk/privkey.pem -out /etc/ssl/supportdesk/fullchain.pem 2>/dev/null && "
                "systemctl reload nginx && systemctl start supportdesk-selfsigned-tls.service"
            )
            end = vm.ssh("openssl x509 -enddate -noout -in /etc/ssl/supportdesk/fullchain.pem").stdout
            days = vm.ssh(
                'echo $(( ($(date -d "$(openssl x509 -enddate -noout -in /etc/ssl/supportdesk/fullchain.pem | cut -d= -f2)" +%s) - $(date +%s)) / 86400 ))'
            ).stdout.strip()
            assert int(days) > 300, end
            served = subprocess.run(
                f"openssl s_client -connect 127.0.0.1:{forwards['https']} -servername localhost </dev/null 2>/dev/null"
                " | openssl x509 -noout -enddate",
                shell=True, capture_output=True, text=True, check=False,
            ).stdout  # fmt: skip
            assert served.strip() == end.strip(), (served, end)
            log(f"self-signed certificate renewed before expiry and served: {end.strip()}")
            certificate.write_text(vm.ssh("cat /etc/ssl/supportdesk/fullchain.pem").stdout)
            tls = ssl.create_default_context(cafile=str(certificate))  # trust the renewed one from here on
            token = vm.ssh(
                "grep ^METRICS_TOKEN= /etc/supportdesk/supportdesk.env | cut -d= -f2-"
            ).stdout.strip()
            metrics_url = f"https://localhost:{forwards['metrics']}/metrics/8001"
            request = urllib.request.Request(metrics_url, headers={"Authorization": f"Bearer {token}"})
            with urllib.request.urlopen(request, context=tls, timeout=30) as response:
                assert "supportdesk_http_requests_total" in response.read().decode()
            try:
                urllib.request.urlopen(metrics_url, context=tls, timeout=30)
                raise AssertionError("metrics answered without the token")
            except urllib.error.HTTPError as error:
                assert (
                    error.code == 404
                )  # the app answers an unauthorised scrape as if /metrics did not exist
            outsider = vm.ssh(
                "curl -sk -o /dev/null -w '%{http_code}' https://$(hostname -I | cut -d' ' -f1):9180/metrics/8001",
                check=False,
            ).stdout
            assert outsider == "403", outsider
            tables = vm.ssh("nft list tables").stdout
            assert "inet neighbour" in tables and "inet supportdesk" in tables, tables
            log(
                "metrics: allowed host with token 200, without token refused, other address 403; "
                "the neighbour's firewall table survived"
            )

        with step("reboot the VM: the desk comes back"):
            seconds = vm.wait_for_reboot()
            log(f"rebooted in {seconds:.0f} s")
            returning = Browser(https, tls)
            _wait_ready(returning)
            returning.sign_in(*EMPLOYEE)
            assert "Printer on floor 2" in returning.get(f"/portal/tickets/{first_ticket}")[2]
            assert live_release(vm) == first_version
            assert "inet supportdesk" in vm.ssh("nft list tables").stdout
    finally:
        if alerts_server is not None:
            alerts_server.shutdown()
        if sftp is not None and sftp.poll() is None:
            sftp.terminate()
        for machine in [vm, *vms]:
            if machine is not None and not arguments.keep:
                machine.stop()
        print("\ndeploy test summary", flush=True)
        for name, seconds, outcome in timings:
            print(f"  {outcome:6} {seconds:6.0f} s  {name}", flush=True)
        print(f"  total  {time.monotonic() - began:6.0f} s", flush=True)
        if vm is not None and vm.accelerator:
            print(f"  (VM under {vm.accelerator.upper()}; work folder {work})", flush=True)
    shutil.rmtree(work, ignore_errors=True)


def run_multi(work: Path, image: Path, release: Path, backup_vars: dict[str, object], vms: list[VM]) -> None:
    with step("boot the database VM and the app VM, joined by a private link"):
        database, app = multi.boot_pair(image, work, GUEST_PORTS)
        vms += [database, app]
    deployment = Deployment(
        work,
        app,
        {
            "supportdesk_server_name": "localhost",
            "supportdesk_workers_per_instance": 1,
            "supportdesk_ready_retries": 150,
            **backup_vars,
        },
        inventory=multi.inventory(database, app),
    )
    https = f"https://localhost:{app.forwards['https']}"
    with step("site.yml on both VMs"):
        deployment.playbook("site.yml", release)
        tls = multi.tls_for(app, work)
    with step(
        "sign in and raise a ticket with an attachment through the app VM; the file lives on the database VM"
    ):
        app.ssh(
            f"printf '%s\\n%s\\n' '{EMPLOYEE[1]}' '{EMPLOYEE[1]}' | "
            f"supportdesk-manage create-user --role requester --email {EMPLOYEE[0]} --name 'Emma Employee'"
        )
        employee = Browser(https, tls)
        employee.sign_in(*EMPLOYEE)
        ticket = employee.raise_ticket("Printer on floor 2", file=("error.log", ATTACHMENT))
        assert employee.attachment(ticket) == ATTACHMENT
        assert readyz(employee) == {"status": "ok", "database": "ok", "redis": "ok", "migrations": "ok"}
        multi.check_stateless_app(app, database)
    with step("site.yml again: nothing changes"):
        text = deployment.playbook("site.yml", release)
        assert deployment.recap(text)["changed"] == 0, _changed_tasks(text)
    with step("backup from the database VM, off it"):
        database.ssh("systemctl start supportdesk-backup.service")
        assert json.loads(database.ssh("supportdesk-restic snapshots --json").stdout)
    with step("reboot the app VM: it mounts the attachments again and serves the same desk"):
        app.wait_for_reboot()
        _wait_ready(employee)
        assert employee.attachment(ticket) == ATTACHMENT
        multi.check_stateless_app(app, database)


def _run_sshd(backup: Path, mode: str) -> subprocess.Popen[bytes]:
    server = subprocess.Popen(
        [
            str(CACHE / "openssh-server" / "usr" / "sbin" / "sshd"),
            "-D",
            "-e",
            "-f",
            str(backup / "sshd_config"),
        ],
        stdout=(backup / "sshd.log").open(mode),
        stderr=subprocess.STDOUT,
    )
    time.sleep(1)
    if server.poll() is not None:
        raise AssertionError(f"the backup host's sshd did not start: {(backup / 'sshd.log').read_text()}")
    return server


def _wait_ready(browser: Browser, seconds: float = 300) -> None:
    deadline = time.monotonic() + seconds
    while True:
        try:
            if browser.get("/readyz", timeout=20)[0] == 200:
                return
        except (urllib.error.URLError, OSError):
            pass
        if time.monotonic() > deadline:
            raise AssertionError("the desk did not become ready")
        time.sleep(3)


if __name__ == "__main__":
    main()
