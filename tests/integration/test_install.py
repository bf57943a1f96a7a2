# SPDX-License-Identifier: LGPL-2.1-or-later
"""install.sh staged into a temporary --destdir: what it installs, that the
state file it writes is valid, and that a second run changes nothing."""

import hashlib
import os
import subprocess
from pathlib import Path

ROOT = Path(__file__).resolve().parents[2]


def tree(root):
    """{relative path: (mode, sha256)} of every file below root."""
    out = {}
    for dirpath, _, files in os.walk(root):
        for f in files:
            p = Path(dirpath) / f
            out[str(p.relative_to(root))] = (p.stat().st_mode & 0o7777,
                                             hashlib.sha256(p.read_bytes()).hexdigest())
    return out


def run_install(destdir):
    return subprocess.run([str(ROOT / "install.sh"), "--destdir", str(destdir), "--no-deps"],
                          cwd=ROOT, capture_output=True, text=True, timeout=600, check=True)


def test_install_into_destdir_is_complete_and_idempotent(tmp_path):
    dest = tmp_path / "root"
    out = run_install(dest).stdout
    assert "nothing started or applied" in out

    binary = dest / "usr/local/sbin/op-dbus"
    state = dest / "etc/op-dbus/state.json"
    assert os.access(binary, os.X_OK)
    assert state.stat().st_mode & 0o777 == 0o600
    assert (dest / "var/lib/op-dbus").stat().st_mode & 0o777 == 0o700
    version = subprocess.run([binary, "version"], capture_output=True, text=True, check=True).stdout
    assert version.startswith("op-dbus ")
    subprocess.run([binary, "validate", state], check=True, capture_output=True)

    first = tree(dest)
    again = run_install(dest).stdout
    assert "keeping the existing" in again
    assert tree(dest) == first


def test_install_rejects_unknown_option():
    r = subprocess.run([str(ROOT / "install.sh"), "--bogus"], capture_output=True, text=True)
    assert r.returncode != 0 and "unknown option '--bogus'" in r.stderr
