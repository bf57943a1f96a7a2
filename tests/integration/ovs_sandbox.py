# SPDX-License-Identifier: LGPL-2.1-or-later
"""A private, fully isolated Open vSwitch instance for integration tests.

OvsSandbox starts a real ovsdb-server and ovs-vswitchd:

  * all files (database, sockets, pid files, logs, bridge management
    sockets) live in a fresh temporary directory; OVS_RUNDIR, OVS_DBDIR,
    OVS_LOGDIR and OVS_SYSCONFDIR point there, so nothing falls back to the
    host's /var/run/openvswitch or /etc/openvswitch;
  * both daemons run inside a network namespace of their own
    ("opdbus-t-<random>"); ovs-vswitchd is started with --disable-system,
    so only the userspace ("netdev") datapath exists and the tap devices it
    creates for bridges and internal ports appear in that namespace only.

Bridges must therefore be created with datapath_type=netdev.

close() (also run by the context manager and, as a last resort, at
interpreter exit) stops the daemons, deletes the namespace and removes the
directory. It only ever touches processes, namespaces and files that this
object created.
"""

import atexit
import json
import os
import re
import secrets
import shutil
import signal
import subprocess
import tempfile
import time
from typing import NamedTuple

OVS_SCHEMA = "/usr/share/openvswitch/vswitch.ovsschema"
NETNS_PREFIX = "opdbus-t-"

# Unix socket paths are limited to 107 bytes. pytest's tmp_path can be long,
# so the sandbox directory is always created directly below /tmp.
SANDBOX_PARENT = "/tmp"

# Default timeout (seconds) for OVS command line tools.
CMD_TIMEOUT = 30

# Log lines that ovs-vswitchd/ovsdb-server write in normal operation of this
# sandbox and that are not a sign of trouble. Matched with re.search against
# the raw log line.
DEFAULT_LOG_ALLOW = (
    # Probing the kernel datapath at start-up; there is none by design
    # (--disable-system). Logged at INFO today, listed in case that changes.
    r"Generic Netlink family 'ovs_datapath' does not exist",
)

# Namespaces created, and daemons started ({pid: sandbox directory}), by
# this process. Used by the test session's leak check; entries are never
# removed.
CREATED_NETNS = set()
STARTED_DAEMONS = {}

# Sandboxes not closed yet; closed at interpreter exit as a last resort.
_LIVE = set()


class OvsCommandError(RuntimeError):
    """An OVS command (or other helper command) exited with a failure."""

    def __init__(self, cmd, returncode, stdout, stderr):
        self.cmd = list(cmd)
        self.returncode = returncode
        self.stdout = stdout
        self.stderr = stderr
        super().__init__(
            f"command failed with exit code {returncode}: {' '.join(self.cmd)}\n"
            f"stdout:\n{_text(stdout)}\nstderr:\n{_text(stderr)}"
        )


class LogCheck(NamedTuple):
    """Result of OvsSandbox.check_logs(): unexpected lines by severity."""

    errors: list  # ERR and EMER lines
    warnings: list  # WARN lines


def _text(data):
    if isinstance(data, bytes):
        return data.decode("utf-8", errors="replace")
    return data or ""


def _run(cmd, *, env=None, input=None, timeout=CMD_TIMEOUT, check=True, text=True):
    """Run cmd, capture its output, raise OvsCommandError on failure if check."""
    if text and isinstance(input, bytes):
        input = input.decode()
    result = subprocess.run(
        [str(c) for c in cmd],
        env=env,
        input=input,
        capture_output=True,
        text=text,
        timeout=timeout,
        check=False,
    )
    if check and result.returncode != 0:
        raise OvsCommandError(result.args, result.returncode, result.stdout, result.stderr)
    return result


def _process_state(pid):
    """The state letter from /proc/PID/stat ('R', 'S', 'Z', ...) or None."""
    try:
        with open(f"/proc/{pid}/stat") as f:
            stat = f.read()
    except (FileNotFoundError, ProcessLookupError):
        return None
    # Format: "PID (COMM) STATE ..."; COMM may contain spaces and parentheses.
    return stat.rsplit(")", 1)[1].split()[0]


def process_alive(pid):
    """True if pid is a running process. Zombies count as exited: detached
    daemons are reaped by PID 1, which may happen a little later."""
    state = _process_state(pid)
    return state is not None and state not in ("Z", "X")


def _process_cmdline(pid):
    try:
        with open(f"/proc/{pid}/cmdline", "rb") as f:
            return f.read().replace(b"\0", b" ").decode(errors="replace")
    except (FileNotFoundError, ProcessLookupError):
        return ""


def _runs_in(pid, directory):
    """True if pid is a live process whose command line names a file in
    directory (our daemons get their pid file, log etc. there), which
    guards against pid reuse."""
    return process_alive(pid) and directory + "/" in _process_cmdline(pid)


def _pids_naming(directory):
    """Live processes whose command line names a file in directory."""
    return [int(e) for e in os.listdir("/proc") if e.isdigit() and _runs_in(int(e), directory)]


def _kill_and_wait(pids, timeout=5):
    """SIGKILL the processes and wait until they have exited."""
    for pid in pids:
        try:
            os.kill(pid, signal.SIGKILL)
        except ProcessLookupError:
            pass
    deadline = time.monotonic() + timeout
    while any(process_alive(p) for p in pids):
        if time.monotonic() > deadline:
            raise RuntimeError(f"processes did not exit: {pids}")
        time.sleep(0.02)


def close_all():
    """Close every sandbox of this process that is still open."""
    for sandbox in list(_LIVE):
        try:
            sandbox.close()
        except Exception:
            pass


def leftover_daemons():
    """Pids of daemons started by this process that are still running."""
    return sorted(pid for pid, directory in STARTED_DAEMONS.items() if _runs_in(pid, directory))


def netns_list():
    """Names of all named network namespaces (ip netns list)."""
    out = _run(["ip", "netns", "list"]).stdout
    # Lines look like "name" or "name (id: 3)".
    return [line.split()[0] for line in out.splitlines() if line.strip()]


def _persistent_columns():
    """{table: [non-ephemeral column names]} from the vswitchd schema."""
    with open(OVS_SCHEMA) as f:
        schema = json.load(f)
    return {
        table: sorted(c for c, spec in info["columns"].items() if not spec.get("ephemeral"))
        for table, info in sorted(schema["tables"].items())
    }


class OvsSandbox:
    """A private ovsdb-server + ovs-vswitchd in their own netns and directory.

    Typical use:

        with OvsSandbox() as ovs:
            ovs.vsctl("add-br", "br0", "--", "set", "bridge", "br0",
                      "datapath_type=netdev")
            print(ovs.dump().decode())
    """

    def __init__(self):
        self.dir = None
        self.netns = None
        self._pids = {}  # daemon name -> pid of the current instance
        self._closed = False
        try:
            self._create()
        except BaseException:
            self.close()
            raise

    # ---- paths ------------------------------------------------------------

    def path(self, name):
        """Absolute path of a file inside the sandbox directory."""
        return os.path.join(self.dir, name)

    @property
    def db_path(self):
        return self.path("conf.db")

    @property
    def db_sock(self):
        return self.path("db.sock")

    @property
    def db_remote(self):
        """The OVSDB address, e.g. 'unix:/tmp/opdbus-ovs-XXXX/db.sock'."""
        return "unix:" + self.db_sock

    def mgmt_remote(self, bridge):
        """The OpenFlow management socket of a bridge, for ovs-ofctl."""
        return "unix:" + self.path(f"{bridge}.mgmt")

    def ctl_path(self, daemon):
        """unixctl socket of 'ovsdb-server' or 'ovs-vswitchd'."""
        return self.path(f"{daemon}.ctl")

    def log_path(self, daemon):
        return self.path(f"{daemon}.log")

    def pidfile(self, daemon):
        return self.path(f"{daemon}.pid")

    # ---- environment ------------------------------------------------------

    def _ovs_env(self):
        """Environment for OVS daemons and tools: every OVS directory is the
        sandbox directory, so nothing can default to the host's."""
        env = dict(os.environ)
        for var in ("OVS_RUNDIR", "OVS_DBDIR", "OVS_LOGDIR", "OVS_SYSCONFDIR"):
            env[var] = self.dir
        return env

    def env(self):
        """Environment variables for running op-dbus against this sandbox."""
        return {
            "OPDBUS_OVSDB": self.db_remote,
            "OVS_RUNDIR": self.dir,
            "OPDBUS_STATE_DIR": self.path("state"),
            "OPDBUS_RUN_DIR": self.path("run"),
            "OPDBUS_PVE_DIR": self.path("pve"),
            # plain LXC's containers: never the host's /var/lib/lxc
            "OPDBUS_LXC_PATH": self.path("lxc"),
            # never the host's own ifupdown configuration
            "OPDBUS_INTERFACES": self.path("interfaces"),
        }

    # ---- set-up -----------------------------------------------------------

    def _create(self):
        _LIVE.add(self)
        self.dir = tempfile.mkdtemp(prefix="opdbus-ovs-", dir=SANDBOX_PARENT)
        # Directories op-dbus expects to exist (as systemd would create them).
        for sub in ("state", "run", "pve"):
            os.mkdir(self.path(sub))

        self._create_netns()
        _run(["ovsdb-tool", "create", self.db_path, OVS_SCHEMA], env=self._ovs_env())
        self.start_ovsdb()
        self.vsctl("--no-wait", "init")
        self.start_vswitchd()

    def _create_netns(self):
        for _ in range(10):
            name = NETNS_PREFIX + secrets.token_hex(4)
            if name in netns_list():
                continue
            result = _run(["ip", "netns", "add", name], check=False)
            if result.returncode == 0:
                self.netns = name
                CREATED_NETNS.add(name)
                break
        else:
            raise RuntimeError("could not create a network namespace")
        self.netns_exec("ip", "link", "set", "lo", "up")

    # ---- daemons ----------------------------------------------------------

    def _daemon_args(self, daemon):
        return [
            f"--pidfile={self.pidfile(daemon)}",
            f"--log-file={self.log_path(daemon)}",
            f"--unixctl={self.ctl_path(daemon)}",
            "--detach",
            "--no-chdir",
            # Errors before the log file is open still reach our stderr.
            "-vconsole:err",
        ]

    def _start_daemon(self, daemon, args):
        if daemon in self._pids and process_alive(self._pids[daemon]):
            raise RuntimeError(f"{daemon} is already running")
        cmd = ["ip", "netns", "exec", self.netns, daemon, *args, *self._daemon_args(daemon)]
        try:
            # With --detach the command returns once the daemon is ready.
            _run(cmd, env=self._ovs_env())
        except OvsCommandError as e:
            raise RuntimeError(f"{daemon} did not start:\n{e}\n{self.log_tail(daemon)}") from e
        pid = self._read_pidfile(daemon)
        if pid is None:
            raise RuntimeError(f"{daemon} started but wrote no pid file")
        self._pids[daemon] = pid
        STARTED_DAEMONS[pid] = self.dir

    def _read_pidfile(self, daemon):
        try:
            with open(self.pidfile(daemon)) as f:
                pid = int(f.read().strip())
        except (OSError, ValueError):
            return None
        return pid if self._is_our_process(pid) else None

    def _is_our_process(self, pid):
        return self.dir is not None and _runs_in(pid, self.dir)

    def _stop_daemon(self, daemon, graceful=True):
        """Stop a daemon and wait until it has exited.

        graceful: ask it to exit through its control socket first (a clean
        shutdown logs nothing above INFO), then SIGTERM, then SIGKILL.
        Otherwise SIGKILL it at once, as in a crash."""
        pid = self._pids.pop(daemon, None) or self._read_pidfile(daemon)
        if pid is None or not process_alive(pid) or not self._is_our_process(pid):
            return
        if graceful:
            self.appctl(daemon, "exit", check=False, timeout=5)
            if self._wait_exit(pid, 5):
                return
            steps = ((signal.SIGTERM, 5), (signal.SIGKILL, 5))
        else:
            steps = ((signal.SIGKILL, 5),)
        for sig, wait in steps:
            try:
                os.kill(pid, sig)
            except ProcessLookupError:
                return
            if self._wait_exit(pid, wait):
                return
        raise RuntimeError(f"{daemon} (pid {pid}) did not exit")

    @staticmethod
    def _wait_exit(pid, timeout):
        deadline = time.monotonic() + timeout
        while process_alive(pid):
            if time.monotonic() > deadline:
                return False
            time.sleep(0.02)
        return True

    def _wait_for(self, what, predicate, timeout=15):
        deadline = time.monotonic() + timeout
        while True:
            if predicate():
                return
            if time.monotonic() > deadline:
                raise RuntimeError(f"timed out waiting for {what}")
            time.sleep(0.05)

    def start_ovsdb(self, wait_vswitchd=True):
        """Start ovsdb-server on the sandbox database and socket.

        If ovs-vswitchd is running (a restart after stop_ovsdb()), also wait
        until it has reconnected, unless wait_vswitchd is False. Its
        reconnection back-off grows to 8 s, so this can take a few seconds
        after a long outage."""
        reconnects = self._vswitchd_db_connects()
        self._start_daemon(
            "ovsdb-server",
            [self.db_path, f"--remote=punix:{self.db_sock}"],
        )
        self._wait_for(
            "ovsdb-server to accept connections",
            lambda: _run(["ovsdb-client", "list-dbs", self.db_remote], check=False,
                         env=self._ovs_env(), timeout=5).returncode == 0,
        )
        if wait_vswitchd and "ovs-vswitchd" in self.pids():
            self._wait_for(
                "ovs-vswitchd to reconnect to ovsdb-server",
                lambda: self._vswitchd_db_connects() > reconnects,
                timeout=30,
            )

    def _vswitchd_db_connects(self):
        """How often ovs-vswitchd has logged a successful database connect."""
        suffix = f"|reconnect|INFO|{self.db_remote}: connected"
        return sum(1 for line in self.log_lines("ovs-vswitchd") if line.endswith(suffix))

    def stop_ovsdb(self, graceful=True):
        """Stop ovsdb-server (the database file is kept); graceful=False
        kills it with SIGKILL. ovs-vswitchd keeps running and reconnects
        once start_ovsdb() is called."""
        self._stop_daemon("ovsdb-server", graceful)

    def start_vswitchd(self):
        """Start ovs-vswitchd (userspace datapath only) and wait until it
        has connected to the database and applied the configuration."""
        self._start_daemon(
            "ovs-vswitchd",
            [self.db_remote, "--disable-system"],
        )
        self._wait_for(
            "ovs-vswitchd to answer on its control socket",
            lambda: self.appctl("ovs-vswitchd", "version", check=False).returncode == 0,
        )
        self._wait_for(
            "ovs-vswitchd to register the netdev datapath",
            lambda: "netdev" in self.vsctl("--no-wait", "get", "Open_vSwitch", ".",
                                           "datapath_types"),
        )
        self.wait_reconfigured()

    def stop_vswitchd(self, graceful=True):
        """Stop ovs-vswitchd; graceful=False kills it with SIGKILL. The
        database is unchanged. The tap devices of the userspace datapath are
        persistent: they stay in the namespace (and are reused by the next
        ovs-vswitchd) until close() deletes the namespace."""
        self._stop_daemon("ovs-vswitchd", graceful)

    def restart_vswitchd(self, graceful=True, hook=None):
        """Restart ovs-vswitchd on the same database.

        hook: called as hook("start-pre") after ovs-vswitchd has stopped
        and before it starts, and hook("start-post") once it runs: what
        systemd does with the ExecStartPre= and ExecStartPost= of
        ovs-vswitchd.service (op-dbus's drop-in runs op-dbus-ovs-hook
        there). Returns the times (time.monotonic()) at which ovs-vswitchd
        was stopped, started (ready), and the post hook had returned."""
        self.stop_vswitchd(graceful)
        stopped = time.monotonic()
        if hook:
            hook("start-pre")
        self.start_vswitchd()
        started = time.monotonic()
        if hook:
            hook("start-post")
        return stopped, started, time.monotonic()

    def wait_reconfigured(self, timeout=15):
        """Wait until ovs-vswitchd has applied the latest configuration
        request (cur_cfg == next_cfg). Does not change the database."""

        def done():
            out = self.vsctl("--no-wait", "get", "Open_vSwitch", ".", "cur_cfg", "next_cfg")
            cur, nxt = out.split()
            return cur == nxt

        self._wait_for("ovs-vswitchd to apply the configuration", done, timeout)

    def pids(self):
        """{daemon: pid} of the running daemons."""
        return {d: p for d, p in self._pids.items()
                if process_alive(p) and self._is_our_process(p)}

    # ---- tools ------------------------------------------------------------

    def vsctl(self, *args, timeout=10):
        """Run ovs-vsctl against the sandbox; returns stdout without the
        trailing newline. Global options such as --no-wait may be given
        before the command. Raises OvsCommandError on failure."""
        cmd = ["ovs-vsctl", f"--db={self.db_remote}", f"--timeout={timeout}", *args]
        return _run(cmd, env=self._ovs_env(), timeout=timeout + 5).stdout.rstrip("\n")

    def ofctl(self, command, bridge, *args, options=()):
        """Run 'ovs-ofctl [options] COMMAND <bridge mgmt socket> ARGS...'.
        For stable output of dump-flows pass "--no-stats" in options."""
        cmd = ["ovs-ofctl", *options, command, self.mgmt_remote(bridge), *args]
        return _run(cmd, env=self._ovs_env()).stdout

    def appctl(self, daemon, *args, check=True, timeout=10):
        """Run ovs-appctl against 'ovs-vswitchd' or 'ovsdb-server'. Returns
        stdout, or the CompletedProcess if check=False."""
        cmd = ["ovs-appctl", "-t", self.ctl_path(daemon), f"--timeout={timeout}", *args]
        result = _run(cmd, env=self._ovs_env(), check=check, timeout=timeout + 5)
        return result.stdout if check else result

    def netns_exec(self, *cmd, input=None, check=True, timeout=CMD_TIMEOUT):
        """Run a command inside the sandbox network namespace; returns the
        CompletedProcess (text mode)."""
        return _run(["ip", "netns", "exec", self.netns, *cmd],
                    input=input, check=check, timeout=timeout)

    def links(self):
        """Names of the network interfaces inside the sandbox namespace."""
        out = self.netns_exec("ip", "-o", "link", "show").stdout
        # "3: br0: <BROADCAST,...> ..." (veth peers show as "name@peer").
        return [line.split(":")[1].strip().split("@")[0] for line in out.splitlines()]

    def dump(self, *table_and_columns, settle=True):
        """'ovsdb-client dump' of the sandbox database, as bytes.

        Optionally restricted to one table and some of its columns
        (dump("Bridge", "name", "ports")). With settle=True (the default),
        waits until ovs-vswitchd has stopped writing to the database first,
        so two dumps of an unchanged configuration are byte-identical."""
        if settle:
            return self.settle(*table_and_columns)
        return self._dump(*table_and_columns)

    def _dump(self, *table_and_columns):
        cmd = ["ovsdb-client", "dump", self.db_remote, "Open_vSwitch", *table_and_columns]
        return _run(cmd, env=self._ovs_env(), text=False).stdout

    def config_dump(self):
        """Like dump(), but without the columns the schema marks as
        ephemeral: the run-time state ovs-vswitchd reports (statistics,
        link_state, link_resets, ifindex, mac_in_use, status, ...). That
        state changes with traffic and across ovs-vswitchd restarts; the
        rest is the configuration, which survives restarts byte for byte."""
        self.settle()
        parts = []
        for table, columns in _persistent_columns().items():
            parts.append(self._dump(table, "_uuid", *columns))
        return b"".join(parts)

    def settle(self, *table_and_columns, interval=0.1, timeout=10):
        """Dump the database until two dumps `interval` seconds apart are
        identical; returns that dump. ovs-vswitchd updates status columns
        (ofport, link state, ...) asynchronously after a change, so first
        wait until it has applied the configuration (if it is running)."""
        if "ovs-vswitchd" in self.pids():
            self.wait_reconfigured(timeout)
        deadline = time.monotonic() + timeout
        previous = self._dump(*table_and_columns)
        while True:
            time.sleep(interval)
            current = self._dump(*table_and_columns)
            if current == previous:
                return current
            if time.monotonic() > deadline:
                raise RuntimeError("the OVS database did not settle")
            previous = current

    # ---- logs -------------------------------------------------------------

    def log_lines(self, daemon):
        try:
            with open(self.log_path(daemon), errors="replace") as f:
                return f.read().splitlines()
        except FileNotFoundError:
            return []

    def log_tail(self, daemon, lines=40):
        tail = self.log_lines(daemon)[-lines:]
        return f"--- last {len(tail)} lines of {daemon}.log ---\n" + "\n".join(tail)

    def check_logs(self, allow=()):
        """Scan both daemon logs. Returns LogCheck(errors, warnings): the
        ERR/EMER lines and the WARN lines, each prefixed with the daemon
        name, except those matching a regex in `allow` or in
        DEFAULT_LOG_ALLOW."""
        patterns = [re.compile(p) for p in (*DEFAULT_LOG_ALLOW, *allow)]
        errors, warnings = [], []
        for daemon in ("ovsdb-server", "ovs-vswitchd"):
            for line in self.log_lines(daemon):
                # "2024-01-01T00:00:00.000Z|00042|module|LEVEL|message"
                fields = line.split("|", 4)
                if len(fields) < 5:
                    continue  # continuation line of a multi-line message
                level = fields[3]
                if level not in ("EMER", "ERR", "WARN"):
                    continue
                if any(p.search(line) for p in patterns):
                    continue
                (warnings if level == "WARN" else errors).append(f"{daemon}: {line}")
        return LogCheck(errors, warnings)

    # ---- tear-down --------------------------------------------------------

    def close(self):
        """Stop the daemons, delete the namespace, remove the directory.

        Idempotent; every step is attempted even if an earlier one fails,
        and raises RuntimeError at the end if something could not be
        cleaned. If close() itself is interrupted (Ctrl-C), the sandbox stays
        registered and is closed again at interpreter exit."""
        if self._closed:
            return
        problems = []

        if self.dir is not None:
            for daemon in ("ovs-vswitchd", "ovsdb-server"):
                try:
                    self._stop_daemon(daemon)
                except Exception as e:  # keep going: clean up the rest
                    problems.append(f"stopping {daemon}: {e}")
            # Anything else naming our directory: a daemon whose pid file was
            # not written yet (interrupted start), an OVS tool still running.
            try:
                _kill_and_wait(_pids_naming(self.dir))
            except Exception as e:
                problems.append(str(e))

        if self.netns is not None:
            # Whatever still runs in the namespace (e.g. something a test
            # started with netns_exec), so that the namespace really goes.
            try:
                result = _run(["ip", "netns", "pids", self.netns], check=False)
                _kill_and_wait([int(p) for p in result.stdout.split()])
            except Exception as e:
                problems.append(f"killing processes in {self.netns}: {e}")
            if self.netns in netns_list():
                result = _run(["ip", "netns", "delete", self.netns], check=False)
                if result.returncode != 0:
                    problems.append(f"deleting netns {self.netns}: {result.stderr.strip()}")

        if self.dir is not None:
            shutil.rmtree(self.dir, ignore_errors=True)
            if os.path.exists(self.dir):
                problems.append(f"could not remove {self.dir}")

        self._closed = True
        _LIVE.discard(self)
        if problems:
            raise RuntimeError("OvsSandbox.close(): " + "; ".join(problems))

    def __enter__(self):
        return self

    def __exit__(self, *exc):
        self.close()

    def __repr__(self):
        return f"<OvsSandbox dir={self.dir} netns={self.netns}>"


# Last resort, e.g. after an interrupted test run.
atexit.register(close_all)
