"""Reproducible releases: the lock pins every dependency pyproject.toml names, at the same version, with
hashes; the release artifact carries a wheel for each locked package and is the same bytes when built
twice from the same tree."""

from __future__ import annotations

import hashlib
import re
import tarfile
import tomllib
from pathlib import Path

from deploy.build_release import build

ROOT = Path(__file__).resolve().parents[2]


def _locked() -> dict[str, str]:
    text = (ROOT / "requirements.lock").read_text()
    return {
        name.lower().replace("_", "-"): version
        for name, version in re.findall(r"^([A-Za-z0-9_.\-]+)==([^\s;\\]+)", text, re.MULTILINE)
    }


def test_the_lock_pins_what_pyproject_pins_with_hashes():
    pins = tomllib.loads((ROOT / "pyproject.toml").read_text())["project"]["dependencies"]
    locked = _locked()
    for pin in pins:
        name, version = re.fullmatch(r"([A-Za-z0-9_.\-]+)(?:\[[^\]]+\])?==(\S+)", pin).groups()
        assert locked.get(name.lower().replace("_", "-")) == version, f"{pin}: run `make lock`"
    blocks = re.split(r"\n(?=[A-Za-z])", (ROOT / "requirements.lock").read_text().split("\n", 2)[2])
    assert all("--hash=sha256:" in block for block in blocks if "==" in block)


def test_a_release_holds_a_wheel_for_every_locked_package_and_builds_the_same_twice(tmp_path):
    first = build(ROOT, "reproducible", tmp_path / "one")
    second = build(ROOT, "reproducible", tmp_path / "two")
    assert hashlib.sha256(first.read_bytes()).digest() == hashlib.sha256(second.read_bytes()).digest()
    with tarfile.open(first) as archive:
        names = archive.getnames()
    wheels = {
        re.sub(r"[-_.]+", "-", Path(name).name.split("-")[0]).lower()
        for name in names
        if name.startswith("wheels/") and name.endswith(".whl")
    }
    assert set(_locked()) <= wheels
    assert {"RELEASE", "requirements.lock", "supportdesk/app.py", "deploy/gunicorn.conf.py"} <= set(names)
    assert "supportdesk/static/vendor/htmx.min.js" in names  # no registry needed on the server
    assert not [name for name in names if name.startswith("tests/") or "__pycache__" in name]
