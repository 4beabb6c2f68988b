"""Throwaway Debian 12 virtual machines for the deploy test: QEMU on a copy-on-write layer over the
cached base image, SSH and the web ports forwarded to loopback ports only."""

from __future__ import annotations

import fcntl
import hashlib
import os
import shutil
import socket
import subprocess
import time
from dataclasses import dataclass, field
from pathlib import Path

HERE = Path(__file__).resolve().parent
CACHE = Path(os.environ.get("DEPLOY_TEST_CACHE", "/var/cache/supportdesk-deploy-test"))
# KVM answers on these machines but guests have stalled in early boot under it; a guest that has not
# reached SSH in this long under KVM is started again under software emulation (about a minute).
KVM_GRACE_SECONDS = 45
TCG_BOOT_SECONDS = 600


def log(message: str) -> None:
    print(f"[{time.strftime('%H:%M:%S')}] {message}", flush=True)


def free_port() -> int:
    with socket.socket() as probe:
        probe.bind(("127.0.0.1", 0))
        return int(probe.getsockname()[1])


def base_image() -> Path:
    """The cached base image for the current build script, built first when missing (one build at a
    time on this machine). Its directory is named by the script's hash, so a changed script builds anew."""
    script = HERE / "build-image.sh"
    key = hashlib.sha256(script.read_bytes()).hexdigest()[:16]
    directory = CACHE / f"bookworm-{key}"
    CACHE.mkdir(parents=True, exist_ok=True)
    with open(CACHE / ".lock", "w") as lock:
        fcntl.flock(lock, fcntl.LOCK_EX)
        if (directory / "base.img").exists():
            log(f"base image: cached ({directory})")
            return directory
        log("base image: not cached, building it (debootstrap, then the stack's packages in a chroot)")
        started = time.monotonic()
        subprocess.run(["sh", str(script), str(directory)], check=True)
        log(f"base image: built in {time.monotonic() - started:.0f} s")
        for old in CACHE.glob("bookworm-*"):
            if old != directory:
                shutil.rmtree(old, ignore_errors=True)  # images of older build scripts
    return directory


@dataclass
class VM:
    name: str
    image: Path
    work: Path
    forwards: dict[str, int]  # guest port name ("ssh", "http", "https", ...) -> loopback port
    guest_ports: dict[str, int]
    extra_netdev: list[str] = field(default_factory=list)
    process: subprocess.Popen[bytes] | None = None
    accelerator: str = ""

    @property
    def key(self) -> Path:
        return self.image / "id_ed25519"

    @property
    def known_hosts(self) -> Path:
        return self.work / "known_hosts"  # one file for every VM of the run (Ansible reads one)

    @property
    def console(self) -> Path:
        return self.work / f"{self.name}.console.log"

    def ssh_options(self) -> list[str]:
        return [
            "-i", str(self.key), "-o", "IdentitiesOnly=yes", "-o", "BatchMode=yes",
            "-o", f"UserKnownHostsFile={self.known_hosts}", "-o", "StrictHostKeyChecking=yes",
            "-o", "ConnectTimeout=10", "-o", "LogLevel=ERROR",
        ]  # fmt: skip

    def ssh(self, command: str, check: bool = True, timeout: float = 600) -> subprocess.CompletedProcess[str]:
        done = subprocess.run(
            ["ssh", *self.ssh_options(), "-p", str(self.forwards["ssh"]), "root@127.0.0.1", command],
            capture_output=True, text=True, timeout=timeout, check=False,
        )  # fmt: skip
        if check and done.returncode != 0:
            raise AssertionError(
                f"{self.name}$ {command}\nexit {done.returncode}\n{done.stdout}{done.stderr}"
            )
        return done

    def start(self) -> None:
        disk = self.work / f"{self.name}.qcow2"
        subprocess.run(
            ["qemu-img", "create", "-q", "-f", "qcow2", "-b", str(self.image / "base.img"), "-F", "raw", str(disk)],
            check=True,
        )  # fmt: skip
        if Path("/dev/kvm").exists() and os.environ.get("DEPLOY_TEST_ACCEL") != "tcg":
            self._boot("kvm", KVM_GRACE_SECONDS)
            if self._reached_ssh(KVM_GRACE_SECONDS):
                return
            log(f"{self.name}: no SSH after {KVM_GRACE_SECONDS} s under KVM; starting again under TCG")
            self.stop()
            disk.unlink()
            subprocess.run(
                ["qemu-img", "create", "-q", "-f", "qcow2", "-b", str(self.image / "base.img"), "-F", "raw",
                 str(disk)],
                check=True,
            )  # fmt: skip
        self._boot("tcg", TCG_BOOT_SECONDS)
        if not self._reached_ssh(TCG_BOOT_SECONDS):
            raise AssertionError(f"{self.name} did not boot; console:\n{self.console.read_text()[-3000:]}")

    def _boot(self, accelerator: str, grace: float) -> None:
        self.accelerator = accelerator
        forwards = ",".join(
            f"hostfwd=tcp:127.0.0.1:{port}-:{self.guest_ports[name]}" for name, port in self.forwards.items()
        )
        accel = (
            ["-accel", "kvm", "-cpu", "qemu64"]
            if accelerator == "kvm"
            else ["-accel", "tcg,thread=multi", "-cpu", "max"]
        )
        command = [
            "qemu-system-x86_64", *accel, "-m", "2048", "-smp", "2", "-nographic", "-no-user-config",
            "-kernel", str(self.image / "vmlinuz"), "-initrd", str(self.image / "initrd.img"),
            "-append", "root=/dev/vda rw console=ttyS0 net.ifnames=0 quiet",
            "-drive", f"file={self.work / (self.name + '.qcow2')},format=qcow2,if=virtio,cache=unsafe",
            "-netdev", f"user,id=n0,{forwards}", "-device", "virtio-net-pci,netdev=n0",
            *self.extra_netdev,
        ]  # fmt: skip
        log(f"{self.name}: booting under {accelerator.upper()} (SSH on 127.0.0.1:{self.forwards['ssh']})")
        self.process = subprocess.Popen(
            command, stdin=subprocess.DEVNULL, stdout=self.console.open("ab"), stderr=subprocess.STDOUT
        )

    def _reached_ssh(self, seconds: float) -> bool:
        started = time.monotonic()
        deadline = started + seconds
        while time.monotonic() < deadline:
            if self.process is not None and self.process.poll() is not None:
                return False
            scan = subprocess.run(
                ["ssh-keyscan", "-T", "5", "-t", "ed25519", "-p", str(self.forwards["ssh"]), "127.0.0.1"],
                capture_output=True, text=True, check=False,
            )  # fmt: skip
            if scan.returncode == 0 and "ssh-ed25519" in scan.stdout:
                # The guest made its host key on first boot; pinned from here on (a reboot must keep it).
                marker = f"[127.0.0.1]:{self.forwards['ssh']} "
                if not self.known_hosts.exists() or marker not in self.known_hosts.read_text():
                    with self.known_hosts.open("a") as known:
                        known.write(scan.stdout)
                if self.ssh("true", check=False, timeout=30).returncode == 0:
                    log(f"{self.name}: SSH answers after {time.monotonic() - started:.0f} s")
                    return True
            time.sleep(3)
        return False

    def wait_for_reboot(self) -> float:
        """Reboot the guest and wait for SSH again (QEMU restarts the kernel; the disk stays)."""
        started = time.monotonic()
        self.ssh("systemctl reboot", check=False, timeout=30)
        time.sleep(10)
        while self.ssh("true", check=False, timeout=30).returncode == 0:
            time.sleep(3)  # still going down
        if not self._reached_ssh(TCG_BOOT_SECONDS):
            raise AssertionError(
                f"{self.name} did not come back; console:\n{self.console.read_text()[-3000:]}"
            )
        return time.monotonic() - started

    def stop(self) -> None:
        if self.process is not None and self.process.poll() is None:
            self.process.terminate()
            try:
                self.process.wait(timeout=20)
            except subprocess.TimeoutExpired:
                self.process.kill()
                self.process.wait()
        self.process = None
