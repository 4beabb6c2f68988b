"""`make deploy-test TOPOLOGY=multi`: the same playbook on two VMs, a database VM (PostgreSQL, Redis, the
attachments shared over NFS, the backups) and an app VM that keeps nothing. The VMs reach each other on
a private link of their own (a QEMU socket network between the two, no bridge on this machine).

 1. boot both VMs, give each its address on the private link
 2. site.yml: the database role, the release and its migrations once, the app VM switched
 3. through the app VM's nginx over HTTPS: sign in, raise a ticket with an attachment; the file is on
    the database VM's disk, the app VM only mounts it; the app VM runs no database
 4. site.yml again: nothing changes
 5. a backup from the database VM, off it
 6. reboot the app VM: it comes back, mounts the attachments and serves the same desk
"""

from __future__ import annotations

import json
import ssl
from pathlib import Path

from tests.deploy_vm.vm import VM, free_port, log

PRIVATE = {"db": "192.168.77.10", "app": "192.168.77.11"}


def boot_pair(image: Path, work: Path, guest_ports: dict[str, int]) -> tuple[VM, VM]:
    link = free_port()
    database = VM(
        "db",
        image,
        work,
        {"ssh": free_port()},
        guest_ports,
        extra_netdev=[
            "-netdev", f"socket,id=p0,listen=127.0.0.1:{link}",
            "-device", "virtio-net-pci,netdev=p0,mac=52:54:00:77:00:10",
        ],
    )  # fmt: skip
    app = VM(
        "app",
        image,
        work,
        {name: free_port() for name in guest_ports},
        guest_ports,
        extra_netdev=[
            "-netdev", f"socket,id=p0,connect=127.0.0.1:{link}",
            "-device", "virtio-net-pci,netdev=p0,mac=52:54:00:77:00:11",
        ],
    )  # fmt: skip
    database.start()  # listens on the link first; the app VM connects to it
    app.start()
    for vm in (database, app):
        address = PRIVATE[vm.name]
        vm.ssh(
            "printf 'auto eth1\\niface eth1 inet static\\n  address %s/24\\n' "
            f"{address} > /etc/network/interfaces.d/private && ifup eth1"
        )
    app.ssh(f"ping -c 1 -W 5 {PRIVATE['db']}")
    # The base image has PostgreSQL and Redis for the one-VM desk; an app VM runs neither.
    app.ssh("systemctl disable --now postgresql redis-server")
    return database, app


def inventory(database: VM, app: VM) -> dict[str, list[tuple[VM, str]]]:
    return {
        "supportdesk_db": [(database, f"supportdesk_private_address={PRIVATE['db']}")],
        "supportdesk_app": [(app, f"supportdesk_private_address={PRIVATE['app']}")],
    }


def check_stateless_app(app: VM, database: VM) -> None:
    mounts = json.loads(app.ssh("findmnt --json --target /var/lib/supportdesk/attachments").stdout)
    (mount,) = mounts["filesystems"]
    assert mount["fstype"].startswith("nfs") and mount["source"].startswith(PRIVATE["db"]), mount
    stored = database.ssh("find /var/lib/supportdesk/attachments -type f | wc -l").stdout.strip()
    assert int(stored) >= 1, "the attachment is not on the database VM"
    assert app.ssh("systemctl is-active postgresql redis-server", check=False).stdout.split() == [
        "inactive",
        "inactive",
    ]
    log(f"app VM: attachments on NFS from {mount['source']}; {stored} file(s) on the database VM's disk")


def tls_for(app: VM, work: Path) -> ssl.SSLContext:
    certificate = work / "app-certificate.pem"
    certificate.write_text(app.ssh("cat /etc/ssl/supportdesk/fullchain.pem").stdout)
    return ssl.create_default_context(cafile=str(certificate))
