# SPDX-License-Identifier: LGPL-2.1-or-later
"""The systemd and D-Bus integration files in systemd/ (docs/systemd.md):

  - the configured unit passes `systemd-analyze verify` and has the settings
    the daemon relies on; every directive it uses is documented,
  - the D-Bus policy is accepted by a real dbus-daemon and enforces who may
    own org.opdbus, call which method and receive the signals, also through
    D-Bus activation (a private bus with a system-bus-like configuration,
    a stand-in service that owns org.opdbus, busctl as root, as a member of
    the group "opdbus" and as another user),
  - the activation file, tmpfiles.d and sysusers.d snippets do what they say
    (systemd-tmpfiles and systemd-sysusers with --root),
  - `meson install --destdir` puts every file where it belongs, with the
    directories from pkg-config or from the meson options.

Nothing here starts a service on the host or touches the host's /etc, /run
or system bus: the private dbus-daemon runs in its own mount namespace, where
a copy of /etc/group that has the group "opdbus" is mounted over /etc/group.

Environment: OPDBUS_BUILD_DIR (default build-test below the source root),
OPDBUS_SOURCE_ROOT, OPDBUS_BUILD_FAILED (see conftest.py).
"""

import configparser
import grp
import json
import os
import re
import select
import shutil
import signal
import stat
import subprocess
import tempfile
import time
import xml.etree.ElementTree as ET
from pathlib import Path

import pytest

SOURCE_ROOT = Path(os.environ.get("OPDBUS_SOURCE_ROOT") or Path(__file__).resolve().parents[2])
SYSTEMD_DIR = SOURCE_ROOT / "systemd"
SCHEMA = SOURCE_ROOT / "schemas" / "org.opdbus.StateManager.xml"
DOC = SOURCE_ROOT / "docs" / "systemd.md"

BUS_NAME = "org.opdbus"
OBJECT_PATH = "/org/opdbus/state"
INTERFACE = "org.opdbus.StateManager"
GROUP = "opdbus"
STATE_FILE = "/etc/op-dbus/state.json"
EXEC_START_ARGS = f"run --state {STATE_FILE}"

# What members of the group may call (docs/systemd.md, org.opdbus.conf).
GROUP_METHODS = {"QueryState", "QueryPlugin", "Plan", "PlanWithOptions", "Verify", "ListCheckpoints"}
GROUP_STANDARD = {
    ("org.freedesktop.DBus.Properties", "Get"),
    ("org.freedesktop.DBus.Properties", "GetAll"),
    ("org.freedesktop.DBus.Introspectable", "Introspect"),
}
STANDARD = [
    ("org.freedesktop.DBus.Properties", "Get"),
    ("org.freedesktop.DBus.Properties", "GetAll"),
    ("org.freedesktop.DBus.Properties", "Set"),
    ("org.freedesktop.DBus.Introspectable", "Introspect"),
    ("org.freedesktop.DBus.Peer", "Ping"),
    ("org.freedesktop.DBus.Peer", "GetMachineId"),
]

NOBODY = 65534
TIMEOUT = 10  # seconds, for anything that waits on the private bus

# dbus-daemon lines that are not configuration problems: raising the fd
# limit fails in a container; the rest are logged by the tests' own calls.
BENIGN_BUS_LOG = re.compile(
    r"Failed to set fd limit|Rejected send message|Activating service|Activated service"
)


def schema_methods():
    root = ET.parse(SCHEMA).getroot()
    (iface,) = [i for i in root.iter("interface") if i.get("name") == INTERFACE]
    return [m.get("name") for m in iface.iter("method")]


def run(cmd, check=True, **kw):
    proc = subprocess.run([str(c) for c in cmd], capture_output=True, text=True,
                          timeout=kw.pop("timeout", 600), **kw)
    if check and proc.returncode != 0:
        pytest.fail(f"command failed ({proc.returncode}): {' '.join(map(str, cmd))}\n"
                    f"--- stdout ---\n{proc.stdout}\n--- stderr ---\n{proc.stderr}", pytrace=False)
    return proc


def need_root():
    if os.geteuid() != 0:
        pytest.skip("needs root (setpriv, unshare, mount, file ownership)")


def need_tools(*tools):
    missing = [t for t in tools if not shutil.which(t)]
    if missing:
        pytest.fail(f"missing tools {missing}: tests/deps.sh installs them", pytrace=False)


def parse_unit(path):
    """{section: [(key, value), ...]} of a unit file (keys may repeat)."""
    sections, current = {}, None
    for raw in Path(path).read_text().splitlines():
        line = raw.strip()
        if not line or line[0] in "#;":
            continue
        if line.startswith("[") and line.endswith("]"):
            current = sections.setdefault(line[1:-1], [])
            continue
        key, _, value = line.partition("=")
        current.append((key.strip(), value.strip()))
    return sections


def unit_values(sections, section, key):
    """Values of key in section; space-separated lists are split."""
    return [v for k, value in sections.get(section, []) if k == key for v in value.split()]


def unit_value(sections, section, key):
    values = [value for k, value in sections.get(section, []) if k == key]
    assert len(values) == 1, f"[{section}] {key}= set {len(values)} times"
    return values[0]


# ---- the build ----------------------------------------------------------------


@pytest.fixture(scope="module")
def build_dir():
    """The build directory under test, configured and up to date."""
    if os.environ.get("OPDBUS_BUILD_FAILED") == "1":
        pytest.fail("the op-dbus build failed (see the build stage output)", pytrace=False)
    need_tools("meson", "ninja")
    path = Path(os.environ.get("OPDBUS_BUILD_DIR") or SOURCE_ROOT / "build-test")
    if not path.is_absolute():
        path = SOURCE_ROOT / path
    if not (path / "build.ninja").is_file():
        run(["meson", "setup", path, SOURCE_ROOT])
    run(["ninja", "-C", path])  # also re-runs meson when a meson.build changed
    return path


def build_options(build):
    data = json.loads(run(["meson", "introspect", build, "--buildoptions"]).stdout)
    return {o["name"]: o["value"] for o in data}


def sbin_path(options):
    return Path(options["prefix"]) / options["sbindir"] / "op-dbus"


# ---- the unit -----------------------------------------------------------------


@pytest.fixture(scope="module")
def unit(build_dir):
    path = build_dir / "systemd" / "op-dbus.service"
    assert path.is_file(), f"{path} was not configured"
    return path


def test_unit_is_configured(unit, build_dir):
    assert not re.search(r"@\w+@", unit.read_text()), "unsubstituted @variable@ in the unit"
    sections = parse_unit(unit)
    exec_start = unit_value(sections, "Service", "ExecStart")
    assert exec_start == f"{sbin_path(build_options(build_dir))} {EXEC_START_ARGS}"


def test_unit_settings(unit):
    s = parse_unit(unit)
    assert unit_value(s, "Service", "Type") == "notify"
    assert unit_value(s, "Service", "NotifyAccess") == "main"
    assert unit_value(s, "Service", "ExecReload") == "/bin/kill -HUP $MAINPID"
    assert unit_value(s, "Service", "Restart") == "on-failure"
    assert unit_value(s, "Service", "RestartSec") == "2s"
    after = unit_values(s, "Unit", "After")
    assert {"openvswitch-switch.service", "pve-cluster.service"} <= set(after)
    assert "openvswitch-switch.service" in unit_values(s, "Unit", "Wants")
    assert "pve-guests.service" in unit_values(s, "Unit", "Before")
    # Hosts without Proxmox: nothing may pull in or bind to pve-cluster.
    for key in ("Requires", "Requisite", "BindsTo", "PartOf", "Wants"):
        assert "pve-cluster.service" not in unit_values(s, "Unit", key), key
    # Before=network.target would be a cycle with After=pve-cluster.service
    # (pve-cluster is ordered after network.target).
    assert "network.target" not in unit_values(s, "Unit", "Before")
    assert unit_values(s, "Install", "WantedBy") == ["multi-user.target"]


def test_unit_passes_systemd_analyze_verify(unit, build_dir, tmp_path):
    """verify needs the ExecStart binary to exist: check a copy of the unit
    whose ExecStart names the built binary instead of the installed one."""
    need_tools("systemd-analyze")
    binary = build_dir / "agent" / "op-dbus" / "op-dbus"
    assert os.access(binary, os.X_OK), f"{binary} was not built"
    installed = str(sbin_path(build_options(build_dir)))
    text = unit.read_text()
    assert f"ExecStart={installed} " in text
    copy = tmp_path / "op-dbus.service"
    copy.write_text(text.replace(f"ExecStart={installed} ", f"ExecStart={binary} "))
    r = verify(copy)
    assert r.returncode == 0 and not (r.stdout + r.stderr).strip(), \
        f"systemd-analyze verify:\n{r.stdout}{r.stderr}"


def verify(path):
    # --recursive-errors=no: only this unit, not the host's units it names.
    return run(["systemd-analyze", "verify", "--man=no", "--generators=no",
                "--recursive-errors=no", path], check=False, timeout=60)


def test_verify_reports_mistakes(build_dir, tmp_path):
    """The verify check above would catch a broken unit."""
    need_tools("systemd-analyze")
    binary = build_dir / "agent" / "op-dbus" / "op-dbus"
    bad = tmp_path / "op-dbus.service"
    bad.write_text(f"[Service]\nType=notify\nExecStart={binary} run\nProtectSytem=strict\n")
    r = verify(bad)
    assert r.returncode != 0 and "ProtectSytem" in r.stderr


def test_every_unit_directive_is_documented(unit):
    doc = DOC.read_text()
    for section, entries in parse_unit(unit).items():
        for key, _ in entries:
            assert f"`{key}=" in doc, f"[{section}] {key}= is not explained in {DOC.name}"


# ---- tmpfiles.d and sysusers.d ------------------------------------------------


TMPFILES_DIRS = {
    "etc/op-dbus": 0o755,
    "run/op-dbus": 0o755,
    "var/lib/op-dbus": 0o700,
    "var/lib/op-dbus/checkpoints": 0o700,
}


def tmpfiles(root, *actions):
    return run(["systemd-tmpfiles", *actions, f"--root={root}",
                SYSTEMD_DIR / "op-dbus.tmpfiles.conf"], timeout=60)


def test_tmpfiles_creates_the_directories(tmp_path):
    need_root()
    need_tools("systemd-tmpfiles")
    root = tmp_path / "root"
    root.mkdir()
    tmpfiles(root, "--create")
    for rel, mode in TMPFILES_DIRS.items():
        st = (root / rel).lstat()
        assert stat.S_ISDIR(st.st_mode), rel
        assert stat.S_IMODE(st.st_mode) == mode, f"{rel}: {oct(stat.S_IMODE(st.st_mode))}"
        assert (st.st_uid, st.st_gid) == (0, 0), rel


def test_tmpfiles_fixes_modes_and_removes_nothing(tmp_path):
    need_root()
    need_tools("systemd-tmpfiles")
    root = tmp_path / "root"
    checkpoints = root / "var/lib/op-dbus/checkpoints"
    checkpoints.mkdir(parents=True, mode=0o755)
    (root / "var/lib/op-dbus").chmod(0o755)
    kept = [checkpoints / "1.json", root / "run/op-dbus/lock"]
    kept[1].parent.mkdir(parents=True)
    for f in kept:
        f.write_text("{}\n")
        os.utime(f, (0, 0))  # as old as can be: any age-based clean-up would hit it
    tmpfiles(root, "--create", "--clean", "--remove")
    assert all(f.exists() for f in kept)
    assert stat.S_IMODE((root / "var/lib/op-dbus").stat().st_mode) == 0o700
    assert stat.S_IMODE(checkpoints.stat().st_mode) == 0o700


def read_group(path):
    out = {}
    if path.exists():
        for line in path.read_text().splitlines():
            name, _, gid, members = line.split(":")
            out[name] = (int(gid), members)
    return out


def test_sysusers_creates_the_system_group(tmp_path):
    need_root()
    need_tools("systemd-sysusers")
    root = tmp_path / "root"
    (root / "etc").mkdir(parents=True)
    conf = SYSTEMD_DIR / "op-dbus.sysusers.conf"
    run(["systemd-sysusers", f"--root={root}", conf], timeout=60)
    groups = read_group(root / "etc/group")
    assert GROUP in groups
    gid, members = groups[GROUP]
    assert 0 < gid < 1000 and members == "", groups[GROUP]  # a system group, empty
    users = (root / "etc/passwd").read_text() if (root / "etc/passwd").exists() else ""
    assert not re.search(rf"^{GROUP}:", users, re.M), "sysusers must create no user"

    before = (root / "etc/group").read_text()
    run(["systemd-sysusers", f"--root={root}", conf], timeout=60)
    assert (root / "etc/group").read_text() == before


# ---- the activation file and the policy, as files ------------------------------


def test_activation_file(unit):
    path = SYSTEMD_DIR / "org.opdbus.service"
    cp = configparser.ConfigParser(interpolation=None)
    cp.optionxform = str
    cp.read(path)
    assert cp.sections() == ["D-BUS Service"]
    assert dict(cp["D-BUS Service"]) == {
        "Name": BUS_NAME,
        "Exec": "/bin/false",
        "User": "root",
        "SystemdService": unit.name,
    }
    # The system bus only activates a name from a file named after it.
    assert path.name == BUS_NAME + ".service"


def test_policy_is_well_formed():
    root = ET.parse(SYSTEMD_DIR / "org.opdbus.conf").getroot()
    assert root.tag == "busconfig"
    policies = root.findall("policy")
    assert [p.attrib for p in policies] == [
        {"context": "default"}, {"group": GROUP}, {"user": "root"}]
    for p in policies:
        for rule in p:
            assert rule.tag in ("allow", "deny"), rule.tag
            # Every rule is about org.opdbus: the file must never widen
            # what may be sent to or owned on other services.
            assert BUS_NAME in (rule.get("own"), rule.get("send_destination"),
                                rule.get("receive_sender")), rule.attrib
    # The group of the policy is the one sysusers creates.
    assert re.search(rf"^g\s+{GROUP}\s", (SYSTEMD_DIR / "op-dbus.sysusers.conf").read_text(), re.M)


# ---- a private, system-bus-like dbus-daemon -------------------------------------

# The default policy of Debian's /usr/share/dbus-1/system.conf, then the
# policy under test. The test peer com.example.Peer stands for services
# op-dbus may call (polkit runs as a user other than root, for example).
BUS_CONFIG = """<!DOCTYPE busconfig PUBLIC "-//freedesktop//DTD D-Bus Bus Configuration 1.0//EN"
 "http://www.freedesktop.org/standards/dbus/1.0/busconfig.dtd">
<busconfig>
  <type>system</type>
  <auth>EXTERNAL</auth>
  <listen>unix:path={socket}</listen>
  <servicedir>{servicedir}</servicedir>
  <policy context="default">
    <allow user="*"/>
    <deny own="*"/>
    <deny send_type="method_call"/>
    <allow send_type="signal"/>
    <allow send_requested_reply="true" send_type="method_return"/>
    <allow send_requested_reply="true" send_type="error"/>
    <allow receive_type="method_call"/>
    <allow receive_type="method_return"/>
    <allow receive_type="error"/>
    <allow receive_type="signal"/>
    <allow send_destination="org.freedesktop.DBus" send_interface="org.freedesktop.DBus"/>
    <allow send_destination="org.freedesktop.DBus" send_interface="org.freedesktop.DBus.Introspectable"/>
    <allow send_destination="org.freedesktop.DBus" send_interface="org.freedesktop.DBus.Properties"/>
    <allow own="com.example.Peer"/>
    <allow send_destination="com.example.Peer"/>
  </policy>
  <include>{policy}</include>
</busconfig>
"""

# Stand-in for the daemon and its clients (sd-bus):
#   helper ADDRESS own NAME   owns NAME, prints OWNED (or OWN-FAILED); answers
#                             every method call with the string "ok" and
#                             prints CALL iface.member; on EmitTestSignal it
#                             emits StateApplied, on CallPeer it calls
#                             com.example.Peer and answers with its reply;
#                             prints SIGNAL iface.member for signals it gets
#                             (it subscribes to all of them)
#   helper ADDRESS listen     subscribes to signals from org.opdbus, prints
#                             LISTENING, then SIGNAL iface.member for each
#   helper ADDRESS emit       broadcasts com.example.Test.Ping, prints EMITTED
#   helper ADDRESS call-bare DEST PATH MEMBER
#                             calls MEMBER without an interface field, prints
#                             REPLY or ERROR error-name
HELPER_C = r"""
#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <systemd/sd-bus.h>

static const char *owned;

static int on_message(sd_bus_message *m, void *userdata, sd_bus_error *error) {
        sd_bus *bus = sd_bus_message_get_bus(m);
        sd_bus_message *reply = NULL;
        const char *text = "ok";

        if (sd_bus_message_is_signal(m, NULL, NULL)) {
                if (strcmp(sd_bus_message_get_sender(m) ?: "", "org.freedesktop.DBus") != 0) {
                        printf("SIGNAL %s.%s\n", sd_bus_message_get_interface(m), sd_bus_message_get_member(m));
                        fflush(stdout);
                }
                return 0;
        }
        if (!owned || !sd_bus_message_is_method_call(m, NULL, NULL) ||
            strcmp(sd_bus_message_get_destination(m) ?: "", "org.freedesktop.DBus") == 0)
                return 0;
        printf("CALL %s.%s\n", sd_bus_message_get_interface(m), sd_bus_message_get_member(m));
        fflush(stdout);
        if (sd_bus_message_is_method_call(m, NULL, "EmitTestSignal"))
                sd_bus_emit_signal(bus, "/org/opdbus/state", "org.opdbus.StateManager", "StateApplied",
                                   "ts", (uint64_t) 1, "{}");
        if (sd_bus_message_is_method_call(m, NULL, "CallPeer")) {
                sd_bus_error e = SD_BUS_ERROR_NULL;
                if (sd_bus_call_method(bus, "com.example.Peer", "/", "com.example.Peer", "Hello",
                                       &e, &reply, "") < 0 || sd_bus_message_read(reply, "s", &text) < 0)
                        text = e.name ?: "no-reply";
        }
        sd_bus_reply_method_return(m, "s", text);
        sd_bus_message_unref(reply);
        return 1;
}

int main(int argc, char **argv) {
        sd_bus *bus = NULL;
        int r;

        if (argc < 3)
                return 2;
        r = sd_bus_new(&bus);
        if (r >= 0)
                r = sd_bus_set_address(bus, argv[1]);
        if (r >= 0)
                r = sd_bus_set_bus_client(bus, 1);
        if (r >= 0)
                r = sd_bus_start(bus);
        if (r < 0) {
                fprintf(stderr, "connect: %s\n", strerror(-r));
                return 2;
        }
        if (strcmp(argv[2], "call-bare") == 0 && argc > 5) {
                /* a method call without an interface field */
                sd_bus_message *m = NULL, *reply = NULL;
                sd_bus_error e = SD_BUS_ERROR_NULL;

                r = sd_bus_message_new_method_call(bus, &m, argv[3], argv[4], NULL, argv[5]);
                if (r >= 0)
                        r = sd_bus_call(bus, m, 5 * 1000000ULL, &e, &reply);
                if (r < 0)
                        printf("ERROR %s\n", e.name ?: strerror(-r));
                else
                        printf("REPLY\n");
                return 0;
        }
        if (strcmp(argv[2], "emit") == 0) {
                r = sd_bus_emit_signal(bus, "/com/example/test", "com.example.Test", "Ping", "");
                if (r >= 0)
                        r = sd_bus_flush(bus);
                printf(r < 0 ? "EMIT-FAILED\n" : "EMITTED\n");
                return r < 0;
        }
        r = sd_bus_add_filter(bus, NULL, on_message, NULL);
        if (r >= 0)
                r = sd_bus_add_match(bus, NULL, strcmp(argv[2], "own") == 0 ? "type='signal'" :
                                     "type='signal',sender='org.opdbus'", NULL, NULL);
        if (r < 0) {
                fprintf(stderr, "setup: %s\n", strerror(-r));
                return 2;
        }
        if (strcmp(argv[2], "own") == 0 && argc > 3) {
                r = sd_bus_request_name(bus, argv[3], 0);
                if (r < 0) {
                        printf("OWN-FAILED %s\n", strerror(-r));
                        return 3;
                }
                owned = argv[3];
                printf("OWNED\n");
        } else
                printf("LISTENING\n");
        fflush(stdout);
        for (;;) {
                r = sd_bus_process(bus, NULL);
                if (r < 0)
                        return 4;
                if (r == 0)
                        sd_bus_wait(bus, UINT64_MAX);
        }
}
"""


class Proc:
    """A helper process whose stdout lines are read with a timeout."""

    def __init__(self, cmd):
        self.cmd = [str(c) for c in cmd]
        self.p = subprocess.Popen(self.cmd, stdin=subprocess.DEVNULL, stdout=subprocess.PIPE,
                                  stderr=subprocess.PIPE)
        self.lines = []
        self._buf = b""

    def _read(self, timeout):
        ready, _, _ = select.select([self.p.stdout], [], [], timeout)
        if not ready:
            return False
        chunk = os.read(self.p.stdout.fileno(), 4096)
        if not chunk:
            return False
        self._buf += chunk
        *done, self._buf = self._buf.split(b"\n")
        self.lines += [d.decode() for d in done]
        return True

    def wait_line(self, pattern, timeout=TIMEOUT):
        """The first line (seen so far or later) matching pattern, else None."""
        deadline = time.monotonic() + timeout
        while True:
            for line in self.lines:
                if re.search(pattern, line):
                    return line
            left = deadline - time.monotonic()
            if left <= 0 or (not self._read(left) and self.p.poll() is not None):
                return None

    def drain(self, seconds=0.3):
        deadline = time.monotonic() + seconds
        while (left := deadline - time.monotonic()) > 0:
            self._read(left)
        return self.lines

    def stop(self):
        if self.p.poll() is None:
            self.p.send_signal(signal.SIGTERM)
            try:
                self.p.wait(timeout=5)
            except subprocess.TimeoutExpired:
                self.p.kill()
                self.p.wait()
        self.p.stdout.close()
        self.p.stderr.close()


def as_user(groups):
    """setpriv prefix: root (None), or uid/gid nobody with these
    supplementary groups."""
    if groups is None:
        return []
    return ["setpriv", f"--reuid={NOBODY}", f"--regid={NOBODY}",
            f"--groups={','.join(map(str, groups))}" if groups else "--clear-groups"]


class Bus:
    def __init__(self, workdir, gid, helper):
        self.dir = workdir
        self.gid = gid
        self.helper = helper
        self.address = None
        self.log = workdir / "dbus-daemon.log"
        self.proc = None
        self.users = {"root": None, "member": [gid], "other": []}

    def busctl(self, user, *args, destination=BUS_NAME, path=OBJECT_PATH, timeout=5):
        cmd = [*as_user(self.users[user]), "busctl", f"--address={self.address}",
               f"--timeout={timeout}", "call", destination, path, *args]
        return run(cmd, check=False, timeout=60)

    def call(self, user, interface, member, destination=BUS_NAME):
        """'allowed' (the stand-in answered), 'denied' or the error text."""
        r = self.busctl(user, interface, member, destination=destination)
        if r.returncode == 0 and r.stdout.strip() == 's "ok"':
            return "allowed"
        if r.returncode != 0 and "Access denied" in r.stderr:
            return "denied"
        return f"rc={r.returncode} {r.stdout.strip()} {r.stderr.strip()}"

    def spawn(self, user, *args):
        return Proc([*as_user(self.users[user]), self.helper, self.address, *args])

    def log_text(self):
        return self.log.read_text(errors="replace")


@pytest.fixture(scope="module")
def shared_dir():
    """A directory the unprivileged test user may enter (pytest's own
    temporary directories are private to root)."""
    d = Path(tempfile.mkdtemp(prefix="opdbus-systemd."))
    d.chmod(0o755)
    yield d
    shutil.rmtree(d, ignore_errors=True)


@pytest.fixture(scope="module")
def helper(shared_dir):
    need_tools("cc", "pkg-config")
    src = shared_dir / "helper.c"
    src.write_text(HELPER_C)
    flags = run(["pkg-config", "--cflags", "--libs", "libsystemd"]).stdout.split()
    exe = shared_dir / "helper"
    run(["cc", "-std=gnu11", "-Wall", "-o", exe, src, *flags], timeout=120)
    exe.chmod(0o755)
    return exe


def free_gid():
    used = {g.gr_gid for g in grp.getgrall()}
    return next(g for g in range(60900, 61900) if g not in used)


@pytest.fixture(scope="module")
def bus(helper, shared_dir):
    """dbus-daemon with BUS_CONFIG, in a mount namespace whose /etc/group has
    the group "opdbus" (a gid unused on the host). Its socket is in a
    directory every user may enter."""
    need_root()
    need_tools("dbus-daemon", "busctl", "unshare", "setpriv")
    work = shared_dir / "bus"
    work.mkdir(mode=0o755)
    b = None
    try:
        gid = free_gid()
        group = work / "group"
        lines = [l for l in Path("/etc/group").read_text().splitlines()
                 if not l.startswith(f"{GROUP}:")]
        group.write_text("\n".join([*lines, f"{GROUP}:x:{gid}:"]) + "\n")
        servicedir = work / "services"
        servicedir.mkdir()
        shutil.copy(SYSTEMD_DIR / "org.opdbus.service", servicedir)
        conf = work / "bus.conf"
        conf.write_text(BUS_CONFIG.format(socket=work / "socket", servicedir=servicedir,
                                          policy=SYSTEMD_DIR / "org.opdbus.conf"))
        b = Bus(work, gid, helper)
        with open(b.log, "wb") as log:
            script = ('mount --bind "$1" /etc/group && '
                      'exec dbus-daemon --config-file="$2" --nofork --nopidfile --print-address')
            b.proc = subprocess.Popen(
                ["unshare", "--mount", "--propagation", "private", "--",
                 "sh", "-c", script, "sh", str(group), str(conf)],
                stdin=subprocess.DEVNULL, stdout=subprocess.PIPE, stderr=log)
        ready, _, _ = select.select([b.proc.stdout], [], [], TIMEOUT)
        line = b.proc.stdout.readline().decode().strip() if ready else ""
        if not line.startswith("unix:"):
            b.proc.kill()
            b.proc.wait()
            pytest.fail(f"dbus-daemon did not start:\n{b.log_text()}", pytrace=False)
        b.address = line
        yield b
    finally:
        if b and b.proc:
            if b.proc.poll() is None:
                b.proc.terminate()
                try:
                    b.proc.wait(timeout=5)
                except subprocess.TimeoutExpired:
                    b.proc.kill()
                    b.proc.wait()
            b.proc.stdout.close()


@pytest.fixture
def daemon(bus):
    """The stand-in daemon owning org.opdbus, as root."""
    p = bus.spawn("root", "own", BUS_NAME)
    try:
        assert p.wait_line(r"^OWNED$"), f"root cannot own {BUS_NAME}: {p.drain()}\n{bus.log_text()}"
        yield p
    finally:
        p.stop()


def test_bus_accepts_the_configuration(bus):
    """dbus-daemon started with the policy and the activation file, without a
    configuration error or warning (e.g. about an unknown group)."""
    assert bus.proc.poll() is None
    problems = [l for l in bus.log_text().splitlines() if not BENIGN_BUS_LOG.search(l)]
    assert not problems, "dbus-daemon:\n" + "\n".join(problems)
    r = bus.busctl("root", "org.freedesktop.DBus", "ListActivatableNames",
                   destination="org.freedesktop.DBus", path="/org/freedesktop/DBus")
    assert r.returncode == 0 and f'"{BUS_NAME}"' in r.stdout, r.stdout + r.stderr


@pytest.mark.parametrize("user", ["member", "other"])
def test_only_root_may_own_the_name(bus, user):
    p = bus.spawn(user, "own", BUS_NAME)
    try:
        line = p.wait_line(r"^OWN")
        assert line and line.startswith("OWN-FAILED"), f"{user}: {line} {p.drain()}"
    finally:
        p.stop()


def expected(user, interface, member):
    if user == "root":
        return "allowed"
    if user == "member" and (member in GROUP_METHODS if interface == INTERFACE
                             else (interface, member) in GROUP_STANDARD):
        return "allowed"
    return "denied"


def test_method_calls_follow_the_policy(bus, daemon):
    calls = [(INTERFACE, m) for m in schema_methods()] + STANDARD
    assert GROUP_METHODS <= {m for _, m in calls}, "the contract lost a read-only method"
    wrong = []
    for user in ("root", "member", "other"):
        for interface, member in calls:
            got = bus.call(user, interface, member)
            if got != expected(user, interface, member):
                wrong.append(f"{user}: {interface}.{member}: {got}")
    assert not wrong, "\n".join(wrong)


def test_other_interfaces_are_denied_even_to_root(bus, daemon):
    for user in ("root", "member"):
        assert bus.call(user, "org.freedesktop.DBus.ObjectManager", "GetManagedObjects") == "denied"


def test_calls_without_interface_are_denied(bus, daemon):
    """The allow rules name an interface; a call that has none matches none
    of them (for root neither)."""
    for user in ("root", "member"):
        p = bus.spawn(user, "call-bare", BUS_NAME, OBJECT_PATH, "QueryState")
        try:
            line = p.wait_line(r"^(REPLY|ERROR)")
            assert line == "ERROR org.freedesktop.DBus.Error.AccessDenied", f"{user}: {line}"
        finally:
            p.stop()


def test_unique_name_is_no_way_around(bus, daemon):
    r = bus.busctl("root", "org.freedesktop.DBus", "GetNameOwner", "s", BUS_NAME,
                   destination="org.freedesktop.DBus", path="/org/freedesktop/DBus")
    unique = r.stdout.split('"')[1]
    assert unique.startswith(":")
    assert bus.call("other", INTERFACE, "QueryState", destination=unique) == "denied"
    assert bus.call("member", INTERFACE, "ApplyState", destination=unique) == "denied"
    assert bus.call("member", INTERFACE, "QueryState", destination=unique) == "allowed"


def test_signals_reach_root_and_the_group_only(bus, daemon):
    listeners = {u: bus.spawn(u, "listen") for u in ("root", "member", "other")}
    try:
        for u, p in listeners.items():
            assert p.wait_line(r"^LISTENING$"), u
        assert bus.call("root", INTERFACE, "EmitTestSignal") == "allowed"
        for u in ("root", "member"):
            assert listeners[u].wait_line(rf"^SIGNAL {INTERFACE}\.StateApplied$"), u
        assert not any(l.startswith("SIGNAL") for l in listeners["other"].drain(0.5))
    finally:
        for p in listeners.values():
            p.stop()


def test_daemon_still_gets_broadcasts_and_replies(bus, daemon):
    """The default deny must not cut op-dbus off from other services:
    broadcast signals it subscribes to, and replies to its own calls from a
    service not running as root (polkit, for instance)."""
    emitter = bus.spawn("other", "emit")
    try:
        assert emitter.wait_line(r"^EMITTED$")
    finally:
        emitter.stop()
    assert daemon.wait_line(r"^SIGNAL com\.example\.Test\.Ping$"), daemon.drain()

    peer = bus.spawn("other", "own", "com.example.Peer")
    try:
        assert peer.wait_line(r"^OWNED$"), peer.drain()
        r = bus.busctl("root", INTERFACE, "CallPeer")
        assert r.returncode == 0 and r.stdout.strip() == 's "ok"', r.stdout + r.stderr
        assert peer.wait_line(r"^CALL com\.example\.Peer\.Hello$")
    finally:
        peer.stop()


def test_activation_only_for_allowed_callers(bus):
    """With org.opdbus not running, a call the policy allows starts the
    service (here Exec=/bin/false runs and fails: there is no systemd);
    a denied call is refused before anything is started."""
    def activations():
        return bus.log_text().count(f"Activating service name='{BUS_NAME}'")

    n = activations()
    assert bus.call("other", INTERFACE, "QueryState") == "denied"
    assert bus.call("member", INTERFACE, "ApplyState") == "denied"
    assert activations() == n

    r = bus.busctl("member", INTERFACE, "QueryState")
    assert r.returncode != 0 and "exited with status 1" in r.stderr, r.stdout + r.stderr
    assert activations() == n + 1


# ---- meson install ---------------------------------------------------------------


def pkgconfig_var(package, var):
    r = run(["pkg-config", f"--variable={var}", package], check=False)
    return r.stdout.strip() if r.returncode == 0 else ""


def expected_dirs(options):
    """The install directories as systemd/meson.build chooses them."""
    prefix = Path(options["prefix"])
    dirs = {}
    for opt, fallback in (("systemdsystemunitdir", "lib/systemd/system"),
                          ("tmpfilesdir", "lib/tmpfiles.d"),
                          ("sysusersdir", "lib/sysusers.d")):
        dirs[opt] = options[opt] or pkgconfig_var("systemd", opt) or str(prefix / fallback)
    datadir = pkgconfig_var("dbus-1", "datadir") or str(prefix / options["datadir"])
    dirs["dbuspolicydir"] = options["dbuspolicydir"] or f"{datadir}/dbus-1/system.d"
    dirs["dbussystemservicedir"] = (options["dbussystemservicedir"]
                                    or f"{datadir}/dbus-1/system-services")
    return dirs


def expected_files(dirs, unit):
    """{installed path: expected content}"""
    src = {
        "dbuspolicydir": ("org.opdbus.conf", SYSTEMD_DIR / "org.opdbus.conf"),
        "dbussystemservicedir": ("org.opdbus.service", SYSTEMD_DIR / "org.opdbus.service"),
        "tmpfilesdir": ("op-dbus.conf", SYSTEMD_DIR / "op-dbus.tmpfiles.conf"),
        "sysusersdir": ("op-dbus.conf", SYSTEMD_DIR / "op-dbus.sysusers.conf"),
        "systemdsystemunitdir": ("op-dbus.service", unit),
    }
    files = {f"{dirs[k]}/{name}": path.read_text()
             for k, (name, path) in src.items() if dirs[k] != "no"}
    if dirs["systemdsystemunitdir"] != "no":
        # the drop-in for ovs-vswitchd.service (docs/flows.md)
        files[f"{dirs['systemdsystemunitdir']}/ovs-vswitchd.service.d/op-dbus.conf"] = \
            (unit.parent / "ovs-vswitchd-op-dbus.conf").read_text()
    return files


def check_installed(dest, files):
    for path, content in files.items():
        f = Path(f"{dest}{path}")
        assert f.is_file(), f"{path} not installed"
        assert f.read_text() == content, f"{path} differs from its source"
        assert stat.S_IMODE(f.stat().st_mode) == 0o644, path


def test_meson_install_puts_every_file_in_place(build_dir, unit, tmp_path):
    dest = tmp_path / "dest"
    run(["meson", "install", "-C", build_dir, "--destdir", dest, "--no-rebuild", "--quiet"])
    options = build_options(build_dir)
    files = expected_files(expected_dirs(options), unit)
    assert len(files) == 6
    check_installed(dest, files)
    assert os.access(Path(f"{dest}{sbin_path(options)}"), os.X_OK), "ExecStart names no installed binary"
    assert os.access(Path(f"{dest}{sbin_path(options)}-ovs-hook"), os.X_OK), "the drop-in names no installed hook"

    # Where systemd looks: the tools find the snippets by name below --root.
    if os.geteuid() == 0 and shutil.which("systemd-tmpfiles") and shutil.which("systemd-sysusers"):
        (dest / "etc").mkdir(exist_ok=True)
        run(["systemd-tmpfiles", f"--root={dest}", "--create", "op-dbus.conf"], timeout=60)
        run(["systemd-sysusers", f"--root={dest}", "op-dbus.conf"], timeout=60)
        assert stat.S_IMODE((dest / "var/lib/op-dbus/checkpoints").stat().st_mode) == 0o700
        assert GROUP in read_group(dest / "etc/group")


def test_meson_options_choose_the_directories(tmp_path):
    """A build configured with every directory option ("no" for one), then
    `meson install --tags systemd`: exactly these files, nothing else."""
    need_tools("meson")
    build = tmp_path / "build"
    opts = {
        "systemdsystemunitdir": "/usr/lib/systemd/system",
        "tmpfilesdir": "/opt/t/tmpfiles.d",
        "sysusersdir": "no",
        "dbuspolicydir": "/opt/d/system.d",
        "dbussystemservicedir": "/opt/d/system-services",
    }
    run(["meson", "setup", build, SOURCE_ROOT, "--prefix=/usr",
         *[f"-D{k}={v}" for k, v in opts.items()]], timeout=300)
    dest = tmp_path / "dest"
    run(["meson", "install", "-C", build, "--destdir", dest, "--tags", "systemd",
         "--no-rebuild", "--quiet"])
    unit = build / "systemd" / "op-dbus.service"
    assert unit_value(parse_unit(unit), "Service", "ExecStart") == f"/usr/sbin/op-dbus {EXEC_START_ARGS}"
    files = expected_files(opts, unit)
    check_installed(dest, files)
    installed = {"/" + str(p.relative_to(dest)) for p in dest.rglob("*") if p.is_file()}
    assert installed == set(files)


# ---- the drop-in for ovs-vswitchd.service -----------------------------------------

OVS_VSWITCHD_UNIT = Path("/lib/systemd/system/ovs-vswitchd.service")


def dropin_copy(build_dir, root, text=None):
    """The installed ovs-vswitchd.service with op-dbus's drop-in next to
    it in root, the drop-in naming a copy of the built hook (verify wants
    the programs to exist and be executable)."""
    hook = root / "op-dbus-ovs-hook"
    hook.write_text((build_dir / "systemd" / "op-dbus-ovs-hook").read_text())
    hook.chmod(0o755)
    installed = str(sbin_path(build_options(build_dir))) + "-ovs-hook"
    dropin = text or (build_dir / "systemd" / "ovs-vswitchd-op-dbus.conf").read_text()
    assert text or f"ExecStartPre=-{installed} start-pre\n" in dropin
    (root / "ovs-vswitchd.service").write_text(OVS_VSWITCHD_UNIT.read_text())
    (root / "ovs-vswitchd.service.d").mkdir()
    (root / "ovs-vswitchd.service.d" / "op-dbus.conf").write_text(dropin.replace(installed, str(hook)))
    return root / "ovs-vswitchd.service"


def test_ovs_vswitchd_dropin_passes_systemd_analyze_verify(build_dir, tmp_path):
    """Checked against the Open vSwitch unit of this machine; a misspelt
    key in the drop-in fails the same check, so the drop-in is read."""
    need_tools("systemd-analyze")
    if not OVS_VSWITCHD_UNIT.is_file():
        pytest.skip(f"{OVS_VSWITCHD_UNIT} is not installed")
    r = verify(dropin_copy(build_dir, tmp_path))
    assert r.returncode == 0 and not (r.stdout + r.stderr).strip(), \
        f"systemd-analyze verify:\n{r.stdout}{r.stderr}"
    bad = tmp_path / "bad"
    bad.mkdir()
    r = verify(dropin_copy(build_dir, bad, "[Service]\nExecStartPots=-/bin/true\n"))
    assert r.returncode != 0 and "ExecStartPots" in r.stderr, r.stderr
