"""Build a release artifact: `python deploy/build_release.py [--source DIR] [--version V] [--output DIR]`.

One tarball, `supportdesk-<version>.tar.gz`, holds everything a server needs to install the release
without reaching any registry: the application, its migrations and deployment files, the front-end
files `make assets` fetched, `requirements.lock` and a wheel for every locked dependency (checked
against the lock's hashes when downloaded, and again by pip on the server). Built from the same
inputs it is the same bytes: files in sorted order, fixed times and owners, no compression timestamp.
The playbook (deploy/ansible) copies it to each server and installs it offline."""

from __future__ import annotations

import argparse
import gzip
import io
import re
import subprocess
import sys
import tarfile
import tempfile
from pathlib import Path

ROOT = Path(__file__).resolve().parent.parent
# What a server runs: the package, its migrations, the deployment files (gunicorn settings, backup
# scripts, units), and the lock. Tests, benchmarks and docs stay in the repository.
CONTENTS = ("supportdesk", "migrations", "deploy", "pyproject.toml", "README.md", "requirements.lock")
SKIPPED = {"__pycache__", ".mypy_cache", ".ruff_cache"}
# Wheels a server can load: CPython 3.11 ABI (abi3 included) on x86_64 with glibc 2.36 (Debian 12) or
# newer; pip does not widen one manylinux tag to older glibcs by itself, so list them.
PLATFORM = [
    *(argument for minor in range(17, 37) for argument in ("--platform", f"manylinux_2_{minor}_x86_64")),
    *("--platform", "manylinux2014_x86_64", "--python-version", "3.11", "--implementation", "cp"),
]


def git_version(source: Path) -> str:
    done = subprocess.run(
        ["git", "rev-parse", "--short=12", "HEAD"], cwd=source, capture_output=True, text=True, check=False
    )
    if done.returncode != 0:
        sys.exit("not a git checkout: pass --version")
    return done.stdout.strip()


def download_wheels(lock: Path, destination: Path) -> None:
    """Every locked dependency as a binary wheel for the servers (Debian 12 / Ubuntu 24.04: CPython
    3.11+ on x86_64), whatever machine builds the release; pip checks each file against the lock.
    pip judges environment markers by the interpreter running it, not the target (redis needs
    async-timeout on Debian 12's Python 3.11.2, not on a 3.11.7 build machine), so the download
    ignores markers; the server's pip applies them when it installs."""
    unmarked = destination.parent / "requirements-unmarked.txt"
    unmarked.write_text(re.sub(r" ;[^\\\n]*", " ", lock.read_text()))
    subprocess.run(
        [sys.executable, "-m", "pip", "download", "--quiet", "--disable-pip-version-check",
         "--only-binary=:all:", "--no-deps", "--require-hashes", *PLATFORM,
         "--dest", str(destination), "--requirement", str(unmarked)],
        check=True,
    )  # fmt: skip


def _normalised(info: tarfile.TarInfo) -> tarfile.TarInfo | None:
    if SKIPPED & set(Path(info.name).parts) or info.name.endswith(".pyc"):
        return None
    info.uid = info.gid = 0
    info.uname = info.gname = "root"
    info.mtime = 0
    info.mode = 0o755 if info.isdir() or info.mode & 0o100 else 0o644
    return info


def _add_sorted(archive: tarfile.TarFile, path: Path, name: str) -> None:
    archive.add(path, arcname=name, recursive=False, filter=_normalised)
    if path.is_dir() and path.name not in SKIPPED:
        for child in sorted(path.iterdir()):
            _add_sorted(archive, child, f"{name}/{child.name}")


def build(source: Path, version: str, output: Path) -> Path:
    if not (source / "supportdesk" / "static" / "vendor" / ".installed").exists():
        sys.exit(f"{source}: front-end files missing; run `make assets` first")
    output.mkdir(parents=True, exist_ok=True)
    artifact = output / f"supportdesk-{version}.tar.gz"
    with tempfile.TemporaryDirectory() as scratch:
        wheels = Path(scratch) / "wheels"
        download_wheels(source / "requirements.lock", wheels)
        (Path(scratch) / "RELEASE").write_text(f"{version}\n")
        buffer = io.BytesIO()
        with tarfile.open(fileobj=buffer, mode="w", format=tarfile.PAX_FORMAT) as archive:
            for name in CONTENTS:
                _add_sorted(archive, source / name, name)
            _add_sorted(archive, wheels, "wheels")
            _add_sorted(archive, Path(scratch) / "RELEASE", "RELEASE")
        partial = artifact.with_name(artifact.name + ".partial")
        with open(partial, "wb") as raw, gzip.GzipFile(fileobj=raw, mode="wb", mtime=0, filename="") as gz:
            gz.write(buffer.getvalue())
        partial.replace(artifact)
    return artifact


def main() -> None:
    parser = argparse.ArgumentParser(
        description=__doc__, formatter_class=argparse.RawDescriptionHelpFormatter
    )
    parser.add_argument("--source", type=Path, default=ROOT, help="the tree to pack (default: this checkout)")
    parser.add_argument("--version", help="release name (default: the commit, 12 hex digits)")
    parser.add_argument("--output", type=Path, default=ROOT / "dist")
    arguments = parser.parse_args()
    source = arguments.source.resolve()
    print(build(source, arguments.version or git_version(source), arguments.output.resolve()))


if __name__ == "__main__":
    main()
