# SPDX-License-Identifier: LGPL-2.1-or-later
"""The router program's service files (docs/router.md, "Running under
procd" and "The systemd unit"):

  * packaging/openwrt/op-router.init, the procd init script: its syntax
    under busybox ash (the router's shell; dash where busybox is missing),
    and what it hands to procd, with procd's shell functions replaced by
    ones that record their calls (procd itself cannot run here);
  * systemd/op-router.service.in: systemd-analyze verify (no systemd as
    PID 1 is needed for it) and the confinement settings.
"""

import os
import re
import shutil
import subprocess
from pathlib import Path

import pytest

SOURCE_ROOT = Path(os.environ.get("OPDBUS_SOURCE_ROOT") or Path(__file__).resolve().parents[2])
INIT = SOURCE_ROOT / "packaging/openwrt/op-router.init"
UNIT = SOURCE_ROOT / "systemd/op-router.service.in"


def shell():
    """busybox ash where busybox has it, else dash."""
    busybox = shutil.which("busybox")
    if busybox and "ash" in subprocess.run([busybox, "--list"], capture_output=True, text=True).stdout.split():
        return [busybox, "ash"]
    dash = shutil.which("dash")
    assert dash, "neither busybox ash nor dash is installed"
    return [dash]


def test_init_script_syntax():
    r = subprocess.run([*shell(), "-n", INIT], capture_output=True, text=True)
    assert r.returncode == 0, r.stderr
    assert INIT.read_text().startswith("#!/bin/sh /etc/rc.common\n")
    assert os.access(INIT, os.X_OK)


def test_syntax_check_catches_mistakes(tmp_path):
    bad = tmp_path / "bad.init"
    bad.write_text(INIT.read_text().replace("procd_close_instance\n}", "procd_close_instance\n"))
    assert subprocess.run([*shell(), "-n", bad], capture_output=True).returncode != 0


# procd's functions (/lib/functions/procd.sh) as recorders: one line each.
STUBS = """
procd_open_instance() { echo "open_instance $*"; }
procd_close_instance() { echo "close_instance"; }
procd_set_param() { echo "set_param $*"; }
procd_send_signal() { echo "send_signal $*"; }
"""


def procd_calls(function):
    script = f". {INIT}\n{STUBS}\n{function}\necho USE_PROCD=$USE_PROCD START=$START STOP=$STOP\n"
    r = subprocess.run([*shell(), "-c", script], capture_output=True, text=True, check=True)
    return r.stdout.splitlines()


def test_start_service_hands_procd_the_program():
    assert procd_calls("start_service") == [
        "open_instance ",
        "set_param command /usr/sbin/op-router run",
        "set_param respawn 3600 5 5",
        "set_param stdout 1",
        "set_param stderr 1",
        "set_param term_timeout 30",
        "close_instance",
        "USE_PROCD=1 START=95 STOP=10",
    ]


def test_reload_sends_sighup():
    assert procd_calls("reload_service")[0] == "send_signal op-router * HUP"


def parse_unit(text):
    sections, current = {}, None
    for line in text.splitlines():
        line = line.strip()
        if not line or line.startswith("#"):
            continue
        m = re.fullmatch(r"\[(\w+)\]", line)
        if m:
            current = sections.setdefault(m.group(1), [])
        else:
            key, _, value = line.partition("=")
            current.append((key, value))
    return sections


def values(sections, section, key):
    return [v for k, v in sections.get(section, []) if k == key]


def verify(path):
    return subprocess.run(["systemd-analyze", "verify", "--man=no", "--generators=no",
                           "--recursive-errors=no", path], capture_output=True, text=True, timeout=60)


@pytest.fixture
def unit_copy(tmp_path):
    """The unit with @sbindir@ replaced by a directory holding an
    executable op-router: verify wants ExecStart's program to exist."""
    sbin = tmp_path / "sbin"
    sbin.mkdir()
    (sbin / "op-router").write_text("#!/bin/sh\n")
    (sbin / "op-router").chmod(0o755)
    copy = tmp_path / "op-router.service"
    copy.write_text(UNIT.read_text().replace("@sbindir@", str(sbin)))
    return copy


def test_unit_passes_systemd_analyze_verify(unit_copy):
    assert shutil.which("systemd-analyze"), "systemd-analyze is not installed"
    assert not re.search(r"@\w+@", unit_copy.read_text())
    r = verify(unit_copy)
    assert r.returncode == 0 and not (r.stdout + r.stderr).strip(), f"{r.stdout}{r.stderr}"


def test_verify_catches_mistakes(unit_copy):
    unit_copy.write_text(unit_copy.read_text().replace("ProtectSystem=strict", "ProtectSytem=strict"))
    r = verify(unit_copy)
    assert r.returncode != 0 and "ProtectSytem" in r.stderr


def test_unit_confinement():
    s = parse_unit(UNIT.read_text())
    assert values(s, "Service", "ExecStart") == ["@sbindir@/op-router run"]
    assert values(s, "Service", "ExecReload") == ["/bin/kill -HUP $MAINPID"]
    assert values(s, "Service", "CapabilityBoundingSet") == ["CAP_NET_ADMIN CAP_NET_RAW"]
    assert values(s, "Service", "NoNewPrivileges") == ["yes"]
    assert values(s, "Service", "SystemCallFilter") == ["@system-service", "~@privileged @resources"]
    assert values(s, "Service", "StateDirectory") == ["op-router"]
    assert values(s, "Service", "ProtectSystem") == ["strict"]
    # /proc/sys/net stays writable: no ProtectKernelTunables
    assert not values(s, "Service", "ProtectKernelTunables")
    assert values(s, "Install", "WantedBy") == ["multi-user.target"]


def test_every_unit_directive_is_documented():
    doc = (SOURCE_ROOT / "docs/router.md").read_text()
    section = doc[doc.index("### The systemd unit"):]
    for name, entries in parse_unit(UNIT.read_text()).items():
        for key, _ in entries:
            assert f"`{key}" in section, f"docs/router.md does not explain {key}="
