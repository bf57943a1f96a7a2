# SPDX-License-Identifier: LGPL-2.1-or-later
"""A private D-Bus system bus and the op-dbus daemon on it.

Load it in a test module with

    pytest_plugins = ("dbus_fixture",)

(which also registers the report hook below), or import the fixtures by
name. Fixtures:

  opdbus_group  (session) the gid of the group "opdbus". The project's bus
                policy grants read access to that group; dbus-daemon ignores
                rules for groups that do not exist, so the private dbus-daemon
                runs in a mount namespace whose /etc/group is a copy with the
                group added (what the package's sysusers.d file does on a real
                node). The host's /etc/group is never changed.
  private_bus   factory: private_bus(policy="project") starts a dbus-daemon
                modelled on the system bus (see PrivateBus) and stops it at
                teardown. policy="project" includes systemd/org.opdbus.conf
                (from $OPDBUS_SOURCE_ROOT); policy="permissive" leaves it out
                and lets everyone own names and call everything, to reach the
                daemon's own access checks; policy="missing" leaves it out
                and keeps the default rules (nobody may own org.opdbus).
  system_bus    private_bus("project")
  start_daemon  factory: start_daemon(state=..., bus=..., audit_interval=...,
                lock_timeout=..., env=...) runs `$OPDBUS_BIN run --state FILE`
                as root against the test's OVS sandbox (the `ovs` fixture) and
                the private bus, with NOTIFY_SOCKET set to a socket of the
                fixture; waits until it has sent READY=1 (after its first
                apply) and owns org.opdbus, and returns an OpDbusDaemon. At
                teardown every daemon still running gets SIGTERM and must
                exit 0; a sanitizer report in its output fails the test.
  opdbus_daemon start_daemon() with no state file: nothing applied yet.

Nothing here ever talks to the host's system bus: every busctl runs with
--address=<private bus> (and DBUS_SYSTEM_BUS_ADDRESS pointing there too), and
the daemon gets DBUS_SYSTEM_BUS_ADDRESS=<private bus>.

Callers (as_user= of the busctl helpers):
  None / "root"  this process (uid 0)
  "opdbus"       uid 65534, gid 65534, supplementary group opdbus
                 (setpriv --reuid=65534 --regid=65534 --groups=<gid>)
  "nobody"       uid 65534, gid 65534, no supplementary group
dbus-daemon reads the caller's groups from the socket (SO_PEERGROUPS), so the
supplementary group set by setpriv is what the policy sees.

Error names: busctl prints only the message of a D-Bus error. A root monitor
(`busctl monitor --json=short`) runs on every private bus for the whole test;
it records every message, including calls the bus policy rejects and the error
replies. BusctlResult.error_name is taken from the error reply to the call.
The same monitor provides the signals (OpDbusDaemon.wait_for).
"""

import grp
import json
import os
import re
import select
import shlex
import shutil
import signal
import socket
import subprocess
import tempfile
import threading
import time
import xml.etree.ElementTree as ET
from dataclasses import dataclass
from pathlib import Path
from typing import Any

import pytest

SOURCE_ROOT = Path(os.environ.get("OPDBUS_SOURCE_ROOT") or Path(__file__).resolve().parents[2])
POLICY_FILE = SOURCE_ROOT / "systemd" / "org.opdbus.conf"
INTERFACE_XML = SOURCE_ROOT / "schemas" / "org.opdbus.StateManager.xml"
SYSTEM_CONF = Path("/usr/share/dbus-1/system.conf")

BUS_NAME = "org.opdbus"
OBJECT_PATH = "/org/opdbus/state"
INTERFACE = "org.opdbus.StateManager"
PROPERTIES = "org.freedesktop.DBus.Properties"
DBUS_NAME = "org.freedesktop.DBus"
DBUS_PATH = "/org/freedesktop/DBus"

OPDBUS_GROUP = "opdbus"
UNPRIVILEGED_UID = 65534
USERS = ("root", "opdbus", "nobody")

# Path and interface of the marker signals the monitor synchronises on.
SYNC_PATH = "/org/opdbus/test/sync"
SYNC_INTERFACE = "org.opdbus.Test"

# Unix socket paths are limited to 107 bytes: keep the bus directory short.
BUS_PARENT = "/tmp"

# Same patterns as conftest.py: a sanitizer report in the daemon's output
# fails the test.
SANITIZER_PATTERNS = [
    re.compile(r"^==\d+==ERROR: (Address|Leak|Memory|Thread)Sanitizer", re.M),
    re.compile(r"^\S+:\d+:\d+: runtime error: ", re.M),
    re.compile(r"^SUMMARY: UndefinedBehaviorSanitizer", re.M),
]

# What the daemon puts before each log line: the syslog level ("<5>")
# where stderr is not a terminal, and (not under the journal) the time.
LOG_TIMESTAMP = r"\d{4}-\d\d-\d\dT\d\d:\d\d:\d\d\.\d{3}[+-]\d\d:\d\d "
LOG_PREFIX = re.compile(rf"^(<[0-7]>)?({LOG_TIMESTAMP})?(op-dbus: (error: |warning: )?)?")

# Seconds. The daemon's start includes the first apply, under ASan.
DAEMON_START_TIMEOUT = 60
DAEMON_STOP_TIMEOUT = 30
BUSCTL_CALL_TIMEOUT = 120
LOG_TAIL_LINES = 60

# Live buses/daemons of the running test, for the failure report.
_LIVE_BUSES = []
_LIVE_DAEMONS = []


# ---- bus configuration ---------------------------------------------------------------

# The default policy of /usr/share/dbus-1/system.conf (dbus 1.14), mirrored
# rule for rule. {own} and {method_call} are "deny" for the project variant,
# "allow" for the permissive one.
_DEFAULT_POLICY = """\
  <policy context="default">
    <!-- All users can connect to system bus -->
    <allow user="*"/>

    <!-- Holes must be punched in service configuration files for
         name ownership and sending method calls -->
    <{own} own="*"/>
    <{method_call} send_type="method_call"/>

    <!-- Signals and reply messages (method returns, errors) are allowed
         by default -->
    <allow send_type="signal"/>
    <allow send_requested_reply="true" send_type="method_return"/>
    <allow send_requested_reply="true" send_type="error"/>

    <!-- All messages may be received by default -->
    <allow receive_type="method_call"/>
    <allow receive_type="method_return"/>
    <allow receive_type="error"/>
    <allow receive_type="signal"/>

    <!-- Allow anyone to talk to the message bus -->
    <allow send_destination="org.freedesktop.DBus"
           send_interface="org.freedesktop.DBus" />
    <allow send_destination="org.freedesktop.DBus"
           send_interface="org.freedesktop.DBus.Introspectable"/>
    <allow send_destination="org.freedesktop.DBus"
           send_interface="org.freedesktop.DBus.Properties"/>
    <allow send_destination="org.freedesktop.DBus"
           send_interface="org.freedesktop.DBus.Containers1"/>
    <!-- But disallow some specific bus services -->
    <deny send_destination="org.freedesktop.DBus"
          send_interface="org.freedesktop.DBus"
          send_member="UpdateActivationEnvironment"/>
    <deny send_destination="org.freedesktop.DBus"
          send_interface="org.freedesktop.DBus.Debug.Stats"/>
    <deny send_destination="org.freedesktop.DBus"
          send_interface="org.freedesktop.systemd1.Activator"/>
  </policy>

  <!-- Only systemd, which runs as root, may report activation failures. -->
  <policy user="root">
    <allow send_destination="org.freedesktop.DBus"
           send_interface="org.freedesktop.systemd1.Activator"/>
  </policy>

  <!-- root may monitor the system bus (the tests' signal monitor). -->
  <policy user="root">
    <allow send_destination="org.freedesktop.DBus"
           send_interface="org.freedesktop.DBus.Monitoring"/>
  </policy>

  <policy user="root">
    <allow send_destination="org.freedesktop.DBus"
           send_interface="org.freedesktop.DBus.Debug.Stats"/>
  </policy>
"""

_CONFIG = """\
<!DOCTYPE busconfig PUBLIC "-//freedesktop//DTD D-Bus Bus Configuration 1.0//EN"
 "http://www.freedesktop.org/standards/dbus/1.0/busconfig.dtd">
<!-- A private bus for the op-dbus tests, modelled on
     /usr/share/dbus-1/system.conf: same bus type, authentication and
     default policy. Left out: <user> (runs as the test's uid 0), <fork>,
     service activation, the pid file, syslog and the host's system.d
     directories. -->
<busconfig>
  <type>system</type>
  <auth>EXTERNAL</auth>
  <listen>unix:path={socket}</listen>

{policy}
{include}
</busconfig>
"""


def bus_config(socket_path, policy="project", policy_file=None):
    """The text of a bus configuration file. policy: "project" (the default
    system policy + <include> of systemd/org.opdbus.conf), "permissive"
    (no project policy; everyone may own any name and call anything) or
    "missing" (the default system policy alone, as on a node where the
    project's policy file was not installed)."""
    if policy == "missing":
        rules = _DEFAULT_POLICY.format(own="deny", method_call="deny")
        include = "  <!-- missing: no project policy -->\n"
    elif policy == "project":
        rules = _DEFAULT_POLICY.format(own="deny", method_call="deny")
        include = f"  <include>{policy_file or POLICY_FILE}</include>\n"
    elif policy == "permissive":
        rules = _DEFAULT_POLICY.format(own="allow", method_call="allow")
        include = "  <!-- permissive: no project policy -->\n"
    else:
        raise ValueError(f"unknown bus policy {policy!r}")
    return _CONFIG.format(socket=socket_path, policy=rules, include=include)


def ensure_opdbus_group():
    """gid for the group "opdbus": the host's if it has one, else a gid no
    group on the host uses. The host's /etc/group is never changed: the
    private dbus-daemon runs in a mount namespace that sees a copy of it
    with the group added (see PrivateBus._start)."""
    try:
        return grp.getgrnam(OPDBUS_GROUP).gr_gid
    except KeyError:
        pass
    used = {g.gr_gid for g in grp.getgrall()}
    return next(gid for gid in range(60999, 60000, -1) if gid not in used)


def _group_file(directory, gid):
    """A copy of /etc/group in which OPDBUS_GROUP has gid."""
    lines = [line for line in Path("/etc/group").read_text().splitlines()
             if not line.startswith(f"{OPDBUS_GROUP}:")]
    path = os.path.join(directory, "group")
    Path(path).write_text("\n".join([*lines, f"{OPDBUS_GROUP}:x:{gid}:"]) + "\n")
    os.chmod(path, 0o644)
    return path


def user_prefix(as_user, gid=None):
    """Command prefix that runs a command as one of USERS."""
    if as_user in (None, "root"):
        return []
    if as_user == "opdbus":
        gid = ensure_opdbus_group() if gid is None else gid
        return ["setpriv", f"--reuid={UNPRIVILEGED_UID}", f"--regid={UNPRIVILEGED_UID}",
                f"--groups={gid}"]
    if as_user == "nobody":
        return ["setpriv", f"--reuid={UNPRIVILEGED_UID}", f"--regid={UNPRIVILEGED_UID}",
                "--clear-groups"]
    raise ValueError(f"unknown user {as_user!r}, expected one of {USERS}")


# ---- busctl ----------------------------------------------------------------------------


@dataclass
class BusctlResult:
    """One busctl run. json: parsed stdout (with --json); error_name and
    error_message: the D-Bus error the call got (from the bus monitor)."""

    args: list
    returncode: int
    stdout: str
    stderr: str
    json: Any = None
    error_name: str = None
    error_message: str = None
    seconds: float = 0.0

    @property
    def ok(self):
        return self.returncode == 0

    @property
    def data(self):
        """The "data" of busctl's JSON output (a list for call, the value
        for get-property)."""
        assert self.json is not None, f"no JSON output\n{self.describe()}"
        return self.json["data"]

    def result(self):
        """The JSON document in the first (string) return value."""
        assert self.ok, f"the call failed\n{self.describe()}"
        return json.loads(self.data[0])

    def describe(self):
        return (f"command: {shlex.join(self.args)}\nexit code: {self.returncode} "
                f"({self.seconds:.2f}s)\nerror: {self.error_name}: {self.error_message}\n"
                f"--- stdout ---\n{self.stdout[:4000]}\n--- stderr ---\n{self.stderr[:4000]}")


def options_args(dry_run=None, plugins=None, confirm_timeout=None, **extra):
    """busctl arguments for an a{sv} of ApplyStateWithOptions.
    extra: name=(signature, value...) for other entries."""
    entries = []
    if dry_run is not None:
        entries.append(["dry_run", "b", "true" if dry_run else "false"])
    if plugins is not None:
        entries.append(["plugins", "as", str(len(plugins)), *plugins])
    if confirm_timeout is not None:
        entries.append(["confirm_timeout", "u", str(confirm_timeout)])
    for name, value in extra.items():
        entries.append([name, *[str(v) for v in value]])
    return [str(len(entries)), *[a for e in entries for a in e]]


# ---- bus monitor -----------------------------------------------------------------------


class BusMonitor:
    """`busctl monitor --json=short` on the whole bus, as root. messages is
    the list of every message seen, in bus order, each a dict as busctl
    prints it plus "_t" (time.monotonic() when it was read)."""

    def __init__(self, address, log_path):
        self.address = address
        self.messages = []
        self.cond = threading.Condition()
        self._log = open(log_path, "w")
        self.proc = subprocess.Popen(
            ["busctl", f"--address={address}", "--json=short", "monitor"],
            stdin=subprocess.DEVNULL, stdout=subprocess.PIPE, stderr=self._log,
            text=True, bufsize=1, env=busctl_env(address))
        self._reader = threading.Thread(target=self._read, daemon=True)
        self._reader.start()
        self._sync_n = 0
        # The monitor is active once it sees our own marker.
        deadline = time.monotonic() + 15
        while not self.sync(timeout=0.5, check=False):
            if self.proc.poll() is not None or time.monotonic() > deadline:
                raise RuntimeError(f"busctl monitor did not start (exit {self.proc.poll()})")

    def _read(self):
        for line in self.proc.stdout:
            line = line.strip()
            if not line:
                continue
            try:
                msg = json.loads(line)
            except ValueError:
                msg = {"type": "unparsed", "text": line}
            msg["_t"] = time.monotonic()
            with self.cond:
                self.messages.append(msg)
                self.cond.notify_all()
        with self.cond:
            self.cond.notify_all()

    def mark(self):
        """Index of the next message: pass it as since= to look only at
        what comes after this point."""
        with self.cond:
            return len(self.messages)

    def wait_until(self, predicate, timeout, since=0):
        """First message at index >= since for which predicate(msg) is
        true, waiting up to timeout seconds; None if there is none."""
        deadline = time.monotonic() + timeout
        i = since
        with self.cond:
            while True:
                while i < len(self.messages):
                    if predicate(self.messages[i]):
                        return self.messages[i]
                    i += 1
                left = deadline - time.monotonic()
                if left <= 0:
                    return None
                self.cond.wait(left)

    def sync(self, timeout=10, check=True):
        """Emit a marker signal and wait until the monitor has seen it: then
        every message the bus routed before has been read too."""
        self._sync_n += 1
        token = f"sync-{os.getpid()}-{self._sync_n}-{time.monotonic_ns()}"
        since = self.mark()
        subprocess.run(["busctl", f"--address={self.address}", "emit", SYNC_PATH,
                        SYNC_INTERFACE, "Sync", "s", token],
                       env=busctl_env(self.address), capture_output=True, timeout=30)
        found = self.wait_until(
            lambda m: m.get("member") == "Sync" and m.get("path") == SYNC_PATH
            and _payload(m) == [token], timeout, since)
        if found is None and check:
            raise AssertionError("the bus monitor did not see the sync signal")
        return found is not None

    def signals(self, member=None, since=0, path=OBJECT_PATH, interface=None):
        """Signals on path (any sender), optionally only one member/interface."""
        with self.cond:
            msgs = list(self.messages[since:])
        return [m for m in msgs if m.get("type") == "signal" and m.get("path") == path
                and (member is None or m.get("member") == member)
                and (interface is None or m.get("interface") == interface)]

    def error_for(self, since, until=None, member=None, destinations=None, first_arg=None):
        """The error replies to method calls seen in messages[since:until],
        as (call, error) pairs. Only calls with that member / to one of
        those destinations / whose first argument is first_arg."""
        with self.cond:
            msgs = list(self.messages[since:until])
        calls = {}
        for m in msgs:
            if m.get("type") != "method_call":
                continue
            if member is not None and m.get("member") != member:
                continue
            if destinations is not None and m.get("destination") not in destinations:
                continue
            if first_arg is not None and (_payload(m) or [None])[0] != first_arg:
                continue
            calls[(m.get("sender"), m.get("cookie"))] = m
        pairs = []
        for m in msgs:
            if m.get("type") == "error":
                call = calls.get((m.get("destination"), m.get("reply_cookie")))
                if call is not None:
                    pairs.append((call, m))
        return pairs

    def describe(self, since=0, limit=80):
        """Readable list of the signals and errors seen (for failure messages)."""
        with self.cond:
            msgs = list(self.messages[since:])
        lines = []
        for m in msgs:
            if m.get("type") == "signal" and m.get("path") == SYNC_PATH:
                continue
            if (m.get("type") == "signal" and m.get("sender") == DBUS_NAME
                    and (_payload(m) or [None])[0] != BUS_NAME):
                continue  # the bus's own NameOwnerChanged/NameAcquired noise
            if m.get("type") in ("signal", "error"):
                what = m.get("error_name") or f"{m.get('interface')}.{m.get('member')}"
                lines.append(f"{m['type']:7} {m.get('sender')} {m.get('path') or ''} {what} "
                             f"{json.dumps(_payload(m))[:300]}")
        return "\n".join(lines[-limit:]) or "(none)"

    def close(self):
        if self.proc.poll() is None:
            self.proc.terminate()
            try:
                self.proc.wait(5)
            except subprocess.TimeoutExpired:
                self.proc.kill()
                self.proc.wait(5)
        self._reader.join(5)
        self._log.close()


def _payload(msg):
    return (msg.get("payload") or {}).get("data")


def busctl_env(address):
    env = dict(os.environ)
    env.update({
        "DBUS_SYSTEM_BUS_ADDRESS": address,  # never the host's bus, even by mistake
        "SYSTEMD_PAGER": "cat",
        "PAGER": "cat",
        "SYSTEMD_COLORS": "0",
    })
    env.pop("DBUS_SESSION_BUS_ADDRESS", None)
    return env


# ---- private bus -----------------------------------------------------------------------


class PrivateBus:
    """A dbus-daemon modelled on the system bus, in a directory of its own
    below /tmp (world-searchable, so that uid 65534 reaches the socket).

    address   the bus address printed by dbus-daemon
    monitor   the BusMonitor recording every message"""

    def __init__(self, policy="project", gid=None):
        self.policy = policy
        self.gid = gid
        self.dir = tempfile.mkdtemp(prefix="opdbus-bus-", dir=BUS_PARENT)
        os.chmod(self.dir, 0o755)
        self.socket_path = os.path.join(self.dir, "system_bus_socket")
        self.config_path = os.path.join(self.dir, "system.conf")
        self.log_path = os.path.join(self.dir, "dbus-daemon.log")
        self.group_path = None
        self.proc = None
        self.monitor = None
        self.address = None
        _LIVE_BUSES.append(self)
        try:
            self._start()
        except BaseException:
            self.close()
            raise

    def _start(self):
        if self.policy == "project" and not POLICY_FILE.is_file():
            pytest.fail(f"the D-Bus policy {POLICY_FILE} does not exist", pytrace=False)
        with open(self.config_path, "w") as f:
            f.write(bus_config(self.socket_path, self.policy))
        read_fd, write_fd = os.pipe()
        # dbus-daemon resolves the policy's group="opdbus" by name: give it,
        # in a mount namespace of its own, an /etc/group that has it.
        self.group_path = _group_file(self.dir, self.gid if self.gid is not None
                                      else ensure_opdbus_group())
        with open(self.log_path, "w") as log:
            self.proc = subprocess.Popen(
                self.with_group(["dbus-daemon", f"--config-file={self.config_path}", "--nofork",
                                 f"--print-address={write_fd}"]),
                pass_fds=(write_fd,), stdin=subprocess.DEVNULL, stdout=log, stderr=log)
        os.close(write_fd)
        try:
            address = b""
            deadline = time.monotonic() + 15
            while not address.endswith(b"\n"):
                left = deadline - time.monotonic()
                if left <= 0 or not select.select([read_fd], [], [], left)[0]:
                    break
                chunk = os.read(read_fd, 4096)
                if not chunk:
                    break
                address += chunk
        finally:
            os.close(read_fd)
        address = address.decode().strip()
        if not address or self.proc.poll() is not None:
            raise RuntimeError(f"dbus-daemon did not start:\n{self.log_tail()}\n"
                               f"--- config ---\n{Path(self.config_path).read_text()}")
        assert address.startswith(f"unix:path={self.socket_path}"), address
        self.address = address
        self.monitor = BusMonitor(address, os.path.join(self.dir, "monitor.log"))

    def with_group(self, cmd):
        """cmd run in a mount namespace of its own whose /etc/group is the
        bus's (the host's groups plus "opdbus"), so that the group is known
        by name (`runuser -G opdbus`) whether or not the host has it. The
        host's /etc/group is never changed."""
        script = 'mount --bind "$1" /etc/group && shift && exec "$@"'
        return ["unshare", "--mount", "--propagation", "private", "--",
                "sh", "-c", script, "sh", self.group_path, *cmd]

    def busctl(self, *args, as_user=None, timeout=BUSCTL_CALL_TIMEOUT, error_filter=None):
        """Run `busctl --address=ADDR ARGS...` as as_user. For a failed call,
        the error name is looked up in the monitor: among the error replies
        seen while busctl ran, the one to the call whose member (and first
        argument, if that is ambiguous) matches; error_filter
        (dict of BusMonitor.error_for arguments) overrides that."""
        args = [str(a) for a in args]
        cmd = [*user_prefix(as_user, self.gid), "busctl", f"--address={self.address}", *args]
        since = self.monitor.mark()
        start = time.monotonic()
        proc = subprocess.run(cmd, capture_output=True, text=True, errors="replace",
                              env=busctl_env(self.address), timeout=timeout + 30,
                              stdin=subprocess.DEVNULL)
        result = BusctlResult(cmd, proc.returncode, proc.stdout, proc.stderr,
                              seconds=time.monotonic() - start)
        if any(a.startswith("--json") or a == "-j" for a in args) and proc.stdout.strip():
            try:
                result.json = json.loads(proc.stdout)
            except ValueError:
                pass
        if proc.returncode != 0:
            self.monitor.sync()
            criteria = error_filter if error_filter is not None else _error_criteria(args)
            pairs = self.monitor.error_for(since, **criteria)
            if pairs:
                call, error = pairs[-1]
                result.error_name = error.get("error_name")
                result.error_message = (_payload(error) or [None])[0]
        return result

    def name_owner(self, name):
        """Unique name owning name, or None."""
        r = self.busctl("--json=short", "call", DBUS_NAME, DBUS_PATH, DBUS_NAME,
                        "NameHasOwner", "s", name, timeout=10)
        if not r.ok or not r.data[0]:
            return None
        r = self.busctl("--json=short", "call", DBUS_NAME, DBUS_PATH, DBUS_NAME,
                        "GetNameOwner", "s", name, timeout=10)
        return r.data[0] if r.ok else None

    def connection_pid(self, unique_name):
        r = self.busctl("--json=short", "call", DBUS_NAME, DBUS_PATH, DBUS_NAME,
                        "GetConnectionUnixProcessID", "s", unique_name, timeout=10)
        return r.data[0] if r.ok else None

    def log_tail(self, lines=LOG_TAIL_LINES):
        try:
            tail = Path(self.log_path).read_text(errors="replace").splitlines()[-lines:]
        except FileNotFoundError:
            tail = []
        return "\n".join(tail)

    def close(self):
        if self.monitor is not None:
            self.monitor.close()
        if self.proc is not None and self.proc.poll() is None:
            self.proc.terminate()
            try:
                self.proc.wait(5)
            except subprocess.TimeoutExpired:
                self.proc.kill()
                self.proc.wait(5)
        shutil.rmtree(self.dir, ignore_errors=True)
        if self in _LIVE_BUSES:
            _LIVE_BUSES.remove(self)

    def __repr__(self):
        return f"<PrivateBus {self.address} policy={self.policy}>"


def _error_criteria(args):
    """Which call a busctl command line makes: {member, first_arg}."""
    words = [a for a in args if not a.startswith("-")]
    if not words:
        return {}
    verb = words[0]
    if verb == "call" and len(words) >= 5:
        criteria = {"member": words[4]}
        # call SERVICE PATH INTERFACE MEMBER SIGNATURE ARG...: a string
        # first argument tells concurrent calls of one member apart.
        if len(words) >= 7 and words[5][:1] == "s":
            criteria["first_arg"] = words[6]
        return criteria
    if verb == "get-property":
        return {"member": "Get"}
    if verb == "introspect":
        return {"member": "Introspect"}
    return {}


# ---- the daemon ------------------------------------------------------------------------


class NotifySocket:
    """A datagram socket for sd_notify(); messages: list of (monotonic, text)."""

    def __init__(self, path):
        self.path = path
        self.messages = []
        self.cond = threading.Condition()
        self.sock = socket.socket(socket.AF_UNIX, socket.SOCK_DGRAM)
        self.sock.bind(path)
        self._closed = False
        self._thread = threading.Thread(target=self._read, daemon=True)
        self._thread.start()

    def _read(self):
        while not self._closed:
            try:
                ready = select.select([self.sock], [], [], 0.2)[0]
                if not ready:
                    continue
                data = self.sock.recv(65536)
            except OSError:
                return
            with self.cond:
                self.messages.append((time.monotonic(), data.decode(errors="replace")))
                self.cond.notify_all()

    def mark(self):
        with self.cond:
            return len(self.messages)

    def wait_for(self, line, timeout, since=0):
        """First message at index >= since containing the line (e.g.
        "READY=1") as (monotonic time, text), or None."""
        deadline = time.monotonic() + timeout
        with self.cond:
            while True:
                for t, text in self.messages[since:]:
                    if line in text.split("\n"):
                        return t, text
                left = deadline - time.monotonic()
                if left <= 0:
                    return None
                self.cond.wait(left)

    def close(self):
        self._closed = True
        self._thread.join(2)
        self.sock.close()
        try:
            os.unlink(self.path)
        except FileNotFoundError:
            pass


class OpDbusDaemon:
    """One `op-dbus run` (restart() starts a new process with the same
    arguments, environment and state file).

    proc, pid        the current process
    unique_name      its unique name on the bus once it owns org.opdbus
    state_path       the --state FILE (write it with write_state())
    bus              the PrivateBus; bus.monitor has every message
    notify           the NotifySocket given as NOTIFY_SOCKET"""

    def __init__(self, binary, bus, env, state_path, cwd, log_path, args=(), global_args=()):
        self.binary = str(binary)
        self.bus = bus
        self.env = env
        self.state_path = Path(state_path)
        self.cwd = cwd
        self.log_path = Path(log_path)
        self.args = list(args)
        self.global_args = list(global_args)
        self.proc = None
        self.unique_name = None
        self.ready = None  # (time, text) of this process's READY=1
        self._notify_mark = 0
        self.exit_codes = []  # (pid, returncode) of every process that ended
        self.notify = NotifySocket(os.path.join(bus.dir, f"notify-{len(_LIVE_DAEMONS)}"))
        self._log = None
        _LIVE_DAEMONS.append(self)

    # ---- process ----------------------------------------------------------

    @property
    def command(self):
        return [self.binary, *self.global_args, "run", "--state", str(self.state_path),
                *self.args]

    @property
    def pid(self):
        return self.proc.pid if self.proc else None

    def running(self):
        return self.proc is not None and self.proc.poll() is None

    def start(self, wait=True):
        assert not self.running(), "the daemon is already running"
        env = dict(self.env)
        env["NOTIFY_SOCKET"] = self.notify.path
        self._log = open(self.log_path, "a")
        self._log.write(f"==== {shlex.join(self.command)}\n")
        self._log.flush()
        self._notify_mark = self.notify.mark()
        self.ready = None
        self.proc = subprocess.Popen(self.command, env=env, cwd=self.cwd,
                                     stdin=subprocess.DEVNULL, stdout=self._log,
                                     stderr=subprocess.STDOUT)
        self.unique_name = None
        if wait:
            self.wait_ready()
        return self

    def wait_ready(self, timeout=DAEMON_START_TIMEOUT):
        """Wait until this process has sent READY=1 (after its first apply)
        and owns org.opdbus on the bus."""
        deadline = time.monotonic() + timeout
        while True:
            if self.proc.poll() is not None:
                self._ended()
                pytest.fail(f"op-dbus run exited with {self.proc.returncode} before it was "
                            f"ready\n{self.log_tail()}", pytrace=False)
            if self.ready is None:
                self.ready = self.notify.wait_for("READY=1", 0.05, since=self._notify_mark)
                if self.ready is None:
                    if time.monotonic() > deadline:
                        pytest.fail(f"op-dbus run sent no READY=1 within {timeout}s "
                                    f"(NOTIFY_SOCKET)\n{self.log_tail()}", pytrace=False)
                    continue
            owner = self.bus.name_owner(BUS_NAME)
            if owner is not None:
                pid = self.bus.connection_pid(owner)
                assert pid == self.proc.pid, (
                    f"{BUS_NAME} is owned by pid {pid}, not by the daemon (pid {self.proc.pid})")
                self.unique_name = owner
                return owner
            if time.monotonic() > deadline:
                pytest.fail(f"op-dbus run did not take the name {BUS_NAME} within {timeout}s\n"
                            f"{self.log_tail()}", pytrace=False)
            time.sleep(0.05)

    def _ended(self):
        if self.proc is not None and self.proc.returncode is not None:
            entry = (self.proc.pid, self.proc.returncode)
            if entry not in self.exit_codes:
                self.exit_codes.append(entry)
        self.check_sanitizers()

    def send_signal(self, sig):
        assert self.running(), "the daemon is not running"
        os.kill(self.proc.pid, sig)

    def sighup(self):
        self.send_signal(signal.SIGHUP)

    def stop(self, timeout=DAEMON_STOP_TIMEOUT):
        """SIGTERM; asserts that the daemon exits 0 within timeout and that
        org.opdbus is released."""
        self.send_signal(signal.SIGTERM)
        try:
            rc = self.proc.wait(timeout)
        except subprocess.TimeoutExpired:
            self.proc.kill()
            self.proc.wait(10)
            self._ended()
            pytest.fail(f"op-dbus run did not exit within {timeout}s of SIGTERM\n"
                        f"{self.log_tail()}", pytrace=False)
        self._ended()
        assert rc == 0, f"op-dbus run exited with {rc} after SIGTERM\n{self.log_tail()}"
        assert self.bus.name_owner(BUS_NAME) is None, f"{BUS_NAME} still owned after exit"
        return rc

    def kill(self):
        """SIGKILL, as in a crash; waits until the process is gone."""
        self.send_signal(signal.SIGKILL)
        self.proc.wait(10)
        self._ended()

    def restart(self, wait=True):
        """Start a new process (the old one must have ended)."""
        assert not self.running()
        return self.start(wait=wait)

    # ---- files ------------------------------------------------------------

    def write_state(self, state):
        """Write the --state file (dict: as JSON; str: as it is)."""
        text = state if isinstance(state, str) else json.dumps(state, indent=2) + "\n"
        tmp = self.state_path.with_suffix(".tmp")
        tmp.write_text(text)
        tmp.rename(self.state_path)

    def log_text(self):
        try:
            return self.log_path.read_text(errors="replace")
        except FileNotFoundError:
            return ""

    def log_mark(self):
        """The length of the daemon's output so far (for log_since)."""
        return len(self.log_text())

    def log_since(self, mark=0):
        """The daemon's output lines after log_mark() returned mark, with the
        syslog level prefix ("<5>") and the timestamp taken off."""
        return [LOG_PREFIX.sub("", line) for line in self.log_text()[mark:].splitlines()
                if not line.startswith("==== ")]

    def wait_log(self, predicate, timeout, mark=0):
        """The first line after mark for which predicate(line) is true;
        fails after timeout seconds."""
        deadline = time.monotonic() + timeout
        while True:
            for line in self.log_since(mark):
                if predicate(line):
                    return line
            if time.monotonic() > deadline:
                pytest.fail(f"no such line in the daemon's output within {timeout}s\n"
                            f"{self.log_tail()}", pytrace=False)
            time.sleep(0.1)

    def log_tail(self, lines=LOG_TAIL_LINES):
        tail = self.log_text().splitlines()[-lines:]
        return f"--- last {len(tail)} lines of the daemon's output ---\n" + "\n".join(tail)

    def check_sanitizers(self):
        text = self.log_text()
        for pattern in SANITIZER_PATTERNS:
            if pattern.search(text):
                pytest.fail(f"sanitizer error in op-dbus run\n{self.log_tail(200)}",
                            pytrace=False)

    # ---- bus helpers ------------------------------------------------------

    def busctl(self, *args, as_user=None, timeout=BUSCTL_CALL_TIMEOUT, error_filter=None):
        """busctl --address=ADDR ARGS... (see PrivateBus.busctl)."""
        return self.bus.busctl(*args, as_user=as_user, timeout=timeout,
                               error_filter=error_filter)

    def call(self, member, signature="", *args, as_user=None, timeout=BUSCTL_CALL_TIMEOUT):
        """busctl --json=short call org.opdbus /org/opdbus/state
        org.opdbus.StateManager MEMBER [SIGNATURE ARGS...]"""
        cmd = ["--json=short", f"--timeout={timeout}", "call", BUS_NAME, OBJECT_PATH,
               INTERFACE, member]
        if signature:
            cmd += [signature, *args]
        return self.busctl(*cmd, as_user=as_user, timeout=timeout)

    def call_json(self, member, signature="", *args, as_user=None):
        """call() that must succeed; returns the JSON of its string result."""
        r = self.call(member, signature, *args, as_user=as_user)
        assert r.ok, f"{member} failed\n{r.describe()}\n{self.log_tail()}"
        return r.result()

    def apply(self, state, as_user=None, **options):
        """ApplyState(state), or ApplyStateWithOptions when options are
        given (dry_run=, plugins=, confirm_timeout=). state: dict or str."""
        text = state if isinstance(state, str) else json.dumps(state)
        if options:
            return self.call("ApplyStateWithOptions", "sa{sv}", text, *options_args(**options),
                             as_user=as_user)
        return self.call("ApplyState", "s", text, as_user=as_user)

    def get_property(self, name, as_user=None):
        """busctl get-property: a BusctlResult (value in .data)."""
        return self.busctl("--json=short", "get-property", BUS_NAME, OBJECT_PATH, INTERFACE,
                           name, as_user=as_user, timeout=30)

    def get(self, name, as_user=None):
        """The value of a property (must succeed)."""
        r = self.get_property(name, as_user=as_user)
        assert r.ok, f"reading {name} failed\n{r.describe()}"
        return r.data

    def status(self):
        return self.get("Status")

    def wait_status(self, wanted, timeout):
        """Poll Status until it is wanted (or one of wanted); returns the
        seconds it took. Fails with the last value otherwise."""
        wanted = (wanted,) if isinstance(wanted, str) else tuple(wanted)
        start = time.monotonic()
        value = None
        while time.monotonic() - start < timeout:
            value = self.status()
            if value in wanted:
                return time.monotonic() - start
            time.sleep(0.1)
        pytest.fail(f"Status is {value!r}, expected {wanted} within {timeout}s\n"
                    f"signals:\n{self.bus.monitor.describe()}\n{self.log_tail()}",
                    pytrace=False)

    def introspect_xml(self):
        r = self.busctl("--xml-interface", "introspect", BUS_NAME, OBJECT_PATH, timeout=30)
        assert r.ok, r.describe()
        return r.stdout

    # ---- signals ----------------------------------------------------------

    def mark(self):
        return self.bus.monitor.mark()

    def signals(self, member=None, since=0):
        """Signals of org.opdbus.StateManager on /org/opdbus/state."""
        return self.bus.monitor.signals(member, since, interface=INTERFACE)

    def wait_for(self, member, timeout=5, since=0, predicate=None):
        """The first StateManager signal `member` at index >= since (for
        which predicate(args) is true); fails after timeout seconds.
        Returns the message (args in message["payload"]["data"])."""
        msg = self.bus.monitor.wait_until(
            lambda m: m.get("type") == "signal" and m.get("path") == OBJECT_PATH
            and m.get("interface") == INTERFACE and m.get("member") == member
            and (predicate is None or predicate(_payload(m))),
            timeout, since)
        if msg is None:
            pytest.fail(f"no {member} signal within {timeout}s; signals seen:\n"
                        f"{self.bus.monitor.describe(since)}\n{self.log_tail()}", pytrace=False)
        return msg

    def properties_changed(self, since=0):
        """[(changed {name: value}, invalidated [names])] of the interface."""
        out = []
        for m in self.bus.monitor.signals("PropertiesChanged", since, interface=PROPERTIES):
            iface, changed, invalidated = _payload(m)
            if iface == INTERFACE:
                out.append(({k: v["data"] for k, v in changed.items()}, invalidated))
        return out

    def wait_property_changed(self, name, timeout=5, since=0):
        """The first PropertiesChanged for `name` at index >= since: its new
        value, or None if it was only invalidated."""
        def match(m):
            if not (m.get("type") == "signal" and m.get("member") == "PropertiesChanged"
                    and m.get("path") == OBJECT_PATH):
                return False
            iface, changed, invalidated = _payload(m)
            return iface == INTERFACE and (name in changed or name in invalidated)

        msg = self.bus.monitor.wait_until(match, timeout, since)
        if msg is None:
            pytest.fail(f"no PropertiesChanged for {name} within {timeout}s; signals seen:\n"
                        f"{self.bus.monitor.describe(since)}", pytrace=False)
        changed = _payload(msg)[1]
        return changed[name]["data"] if name in changed else None

    # ---- teardown ---------------------------------------------------------

    def close(self):
        """Stop a daemon still running (SIGTERM; must exit 0)."""
        problems = []
        try:
            if self.running():
                self.send_signal(signal.SIGTERM)
                try:
                    self.proc.wait(DAEMON_STOP_TIMEOUT)
                except subprocess.TimeoutExpired:
                    self.proc.kill()
                    self.proc.wait(10)
                    problems.append(f"did not exit within {DAEMON_STOP_TIMEOUT}s of SIGTERM")
                self._ended()
                if self.proc.returncode != 0 and not problems:
                    problems.append(f"exited with {self.proc.returncode} after SIGTERM")
        finally:
            if self._log:
                self._log.close()
            self.notify.close()
            if self in _LIVE_DAEMONS:
                _LIVE_DAEMONS.remove(self)
        return problems


def interface_members(xml_text, interface=INTERFACE):
    """The members of one interface of an introspection document:
    {"methods": {name: [(arg, type, direction)]},
     "signals": {name: [(arg, type)]},
     "properties": {name: (type, access)},
     "emits_changed": {property: value of EmitsChangedSignal, "true" if absent}}"""
    root = ET.fromstring(xml_text)
    found = [i for i in root.iter("interface") if i.get("name") == interface]
    assert len(found) == 1, f"interface {interface} appears {len(found)} times"
    iface = found[0]
    out = {"methods": {}, "signals": {}, "properties": {}, "emits_changed": {}}
    for m in iface.findall("method"):
        out["methods"][m.get("name")] = [
            (a.get("name"), a.get("type"), a.get("direction", "in")) for a in m.findall("arg")]
    for s in iface.findall("signal"):
        out["signals"][s.get("name")] = [(a.get("name"), a.get("type")) for a in s.findall("arg")]
    for p in iface.findall("property"):
        out["properties"][p.get("name")] = (p.get("type"), p.get("access"))
        emits = "true"
        for a in p.findall("annotation"):
            if a.get("name") == "org.freedesktop.DBus.Property.EmitsChangedSignal":
                emits = a.get("value")
        out["emits_changed"][p.get("name")] = emits
    return out


# ---- fixtures --------------------------------------------------------------------------


@pytest.fixture(scope="session")
def opdbus_group():
    """gid of the group "opdbus" (the host's, or an unused one)."""
    return ensure_opdbus_group()


@pytest.fixture
def private_bus(opdbus_group):
    """Factory: private_bus(policy="project" | "permissive") -> PrivateBus."""
    buses = []

    def start(policy="project"):
        bus = PrivateBus(policy, gid=opdbus_group)
        buses.append(bus)
        return bus

    yield start
    for bus in reversed(buses):
        bus.close()


@pytest.fixture
def system_bus(private_bus):
    """A private bus with the project's policy."""
    return private_bus("project")


@pytest.fixture
def start_daemon(ovs, opdbus_bin, system_bus, tmp_path):
    """Factory: start_daemon(state=None, bus=None, audit_interval=None,
    lock_timeout=None, env=None, args=(), wait=True) -> OpDbusDaemon.

    state   None: the --state file does not exist; a dict or str: written
            to it first
    bus     a PrivateBus (default: system_bus, the project policy)
    env     extra environment variables for the daemon"""
    if not (opdbus_bin.is_file() and os.access(opdbus_bin, os.X_OK)):
        pytest.fail(f"op-dbus binary not found at {opdbus_bin}", pytrace=False)
    daemons = []

    def start(state=None, bus=None, audit_interval=None, lock_timeout=None, env=None,
              args=(), wait=True):
        bus = bus or system_bus
        n = len(daemons)
        workdir = tmp_path / f"daemon-{n}"
        workdir.mkdir()
        daemon_env = dict(os.environ)
        daemon_env.update(ovs.env())
        daemon_env["DBUS_SYSTEM_BUS_ADDRESS"] = bus.address
        daemon_env.pop("DBUS_SESSION_BUS_ADDRESS", None)
        daemon_env.pop("NOTIFY_SOCKET", None)
        if env:
            daemon_env.update(env)
        extra = list(args)
        if audit_interval is not None:
            extra += ["--audit-interval", str(audit_interval)]
        global_args = ["--lock-timeout", str(lock_timeout)] if lock_timeout is not None else []
        daemon = OpDbusDaemon(opdbus_bin, bus, daemon_env, workdir / "state.json", workdir,
                              workdir / "daemon.log", extra, global_args)
        daemons.append(daemon)
        if state is not None:
            daemon.write_state(state)
        return daemon.start(wait=wait)

    yield start

    problems = []
    for daemon in reversed(daemons):
        problems += [f"op-dbus run (pid {daemon.pid}): {p}" for p in daemon.close()]
    for daemon in daemons:
        daemon.check_sanitizers()
    if problems:
        pytest.fail("\n".join(problems) + "\n" + daemons[-1].log_tail(), pytrace=False)


@pytest.fixture
def opdbus_daemon(start_daemon):
    """The daemon with a --state file that does not exist (nothing applied
    at start), on a bus with the project's policy."""
    return start_daemon()


# ---- failure report --------------------------------------------------------------------


@pytest.hookimpl(hookwrapper=True)
def pytest_runtest_makereport(item, call):
    """When a test fails, attach the daemons' output, the signals and
    errors seen on the bus, and the dbus-daemon log."""
    outcome = yield
    report = outcome.get_result()
    if report.when != "call" or not report.failed:
        return
    for daemon in list(_LIVE_DAEMONS):
        report.sections.append((f"op-dbus run (pid {daemon.pid}) output", daemon.log_tail()))
    for bus in list(_LIVE_BUSES):
        if bus.monitor is not None:
            report.sections.append((f"signals and errors on {bus.dir}", bus.monitor.describe()))
        report.sections.append((f"dbus-daemon {bus.dir}", bus.log_tail()))
