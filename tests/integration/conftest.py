# SPDX-License-Identifier: LGPL-2.1-or-later
"""Fixtures for the op-dbus integration tests.

  ovs        a private Open vSwitch (OvsSandbox) per test; the test fails at
             teardown if the OVS logs contain unexpected ERR/EMER lines
             (allow expected ones with @pytest.mark.ovs_log_allow(regex, ...))
  opdbus     runs the op-dbus binary ($OPDBUS_BIN); when the test also uses
             `ovs`, the binary is pointed at that sandbox
  tmp_state  writes a state document to a temporary JSON file
  pve_sim    factory: pve_sim(ovs=None, node="pve") -> a simulated Proxmox VE
             node backed by real LXC containers (tests/pve-sim)

Host state the session adapts to (the host's files are never changed):
  /etc/subuid, /etc/subgid  unprivileged containers map ids 100000-165535;
             with shadow's newuidmap installed (the lxc package recommends
             uidmap) LXC maps them through it, which needs that range for
             root, as a Proxmox VE node has it. Where the host's files lack
             it, the session runs in a mount namespace of its own whose
             copies of both files have it (private_subid_files)

Environment:
  OPDBUS_SOURCE_ROOT   repository root (default: derived from this file)
  OPDBUS_BIN           the op-dbus binary (default: build-test/agent/op-dbus/op-dbus
                       below the source root); relative paths are taken
                       relative to the source root
  OPDBUS_BUILD_FAILED  set to 1 by tests/run when the build failed, so that
                       tests needing the binary say so instead of running a
                       stale one
"""

import ctypes
import itertools
import json
import os
import re
import shutil
import subprocess
import tempfile
import threading
from dataclasses import dataclass
from pathlib import Path
from typing import Any

import pytest

from ovs_sandbox import CREATED_NETNS, OvsSandbox, close_all, leftover_daemons, netns_list

SOURCE_ROOT = Path(os.environ.get("OPDBUS_SOURCE_ROOT") or Path(__file__).resolve().parents[2])

# OpDbus.run() has a parameter named "json", which hides the module there.
_json_loads = json.loads

# Number of OVS log lines attached to the report of a failed test.
LOG_TAIL_LINES = 40

# Sanitizer reports in the binary's stderr. Any of them fails the test, even
# if the exit code was expected.
SANITIZER_PATTERNS = [
    re.compile(r"^==\d+==ERROR: (Address|Leak|Memory|Thread)Sanitizer", re.M),
    re.compile(r"^\S+:\d+:\d+: runtime error: ", re.M),  # UBSan
    re.compile(r"^SUMMARY: UndefinedBehaviorSanitizer", re.M),
]


# The ids unprivileged containers map to (pct-sim and plain LXC alike).
IDMAP_BASE, IDMAP_COUNT = 100000, 65536
CLONE_NEWNS = 0x00020000


def _has_root_range(path):
    try:
        lines = Path(path).read_text().splitlines()
    except FileNotFoundError:
        return False
    for line in lines:
        fields = line.split(":")
        if len(fields) == 3 and fields[0] in ("root", "0") and fields[1].isdigit() \
                and fields[2].isdigit() and int(fields[1]) <= IDMAP_BASE \
                and int(fields[1]) + int(fields[2]) >= IDMAP_BASE + IDMAP_COUNT:
            return True
    return False


def private_subid_files():
    """Where newuidmap is installed and /etc/subuid or /etc/subgid gives
    root no range for the containers' ids, move this process (still single
    threaded, so that its children follow) into a mount namespace of its
    own, mounts no longer propagating to the host, and bind copies of both
    files with the range added over them. Returns the directory of the
    copies and the files they replace ((None, []) when nothing is needed)."""
    files = ("/etc/subuid", "/etc/subgid")
    if os.geteuid() != 0 or not (shutil.which("newuidmap") or shutil.which("newgidmap")):
        return None, []
    missing = [f for f in files if not _has_root_range(f)]
    if not missing or threading.active_count() != 1:
        return None, []
    if ctypes.CDLL(None, use_errno=True).unshare(CLONE_NEWNS) != 0:
        return None, []
    subprocess.run(["mount", "--make-rslave", "/"], check=True)
    copies = tempfile.mkdtemp(prefix="opdbus-subid-")
    for path in missing:
        copy = os.path.join(copies, os.path.basename(path))
        text = Path(path).read_text() if os.path.exists(path) else ""
        Path(copy).write_text(text + ("" if not text or text.endswith("\n") else "\n")
                              + f"root:{IDMAP_BASE}:{IDMAP_COUNT}\n")
        os.chmod(copy, 0o644)
        subprocess.run(["mount", "--bind", copy, path], check=True)
    return copies, missing


def pytest_configure(config):
    copies, replaced = private_subid_files()
    if replaced:
        config.stash[SUBID_KEY] = (copies, replaced)
    config.addinivalue_line(
        "markers",
        "ovs_log_allow(*regexes): OVS log ERR/EMER lines matching one of the "
        "regexes (re.search) do not fail the test",
    )


SUBID_KEY = pytest.StashKey[tuple]()


def pytest_report_header(config):
    copies, replaced = config.stash.get(SUBID_KEY, (None, []))
    if replaced:
        return [f"root's container id range added to private copies of {', '.join(replaced)} "
                "(newuidmap is installed)"]
    return []


def pytest_unconfigure(config):
    copies, replaced = config.stash.get(SUBID_KEY, (None, []))
    for path in replaced:
        subprocess.run(["umount", path], check=False)
    if copies:
        shutil.rmtree(copies, ignore_errors=True)


@pytest.hookimpl(hookwrapper=True)
def pytest_runtest_makereport(item, call):
    """When a test using the `ovs` fixture fails, attach the end of both OVS
    logs to its report (the sandbox is still running at this point)."""
    outcome = yield
    report = outcome.get_result()
    if report.when != "call" or not report.failed:
        return
    sandbox = item.funcargs.get("ovs") if hasattr(item, "funcargs") else None
    if isinstance(sandbox, OvsSandbox) and sandbox.dir:
        for daemon in ("ovsdb-server", "ovs-vswitchd"):
            report.sections.append(
                (f"OVS sandbox {daemon}.log", sandbox.log_tail(daemon, LOG_TAIL_LINES))
            )


# ---- OVS sandbox -----------------------------------------------------------


@pytest.fixture
def ovs(request):
    """A private, isolated ovsdb-server + ovs-vswitchd (see ovs_sandbox.py)."""
    sandbox = OvsSandbox()
    yield sandbox

    allow = [regex for mark in request.node.iter_markers("ovs_log_allow") for regex in mark.args]
    try:
        check = sandbox.check_logs(allow)
    finally:
        sandbox.close()
    if check.errors:
        pytest.fail(
            "unexpected ERR/EMER lines in the OVS logs (allow expected ones with "
            "@pytest.mark.ovs_log_allow(regex)):\n" + "\n".join(check.errors),
            pytrace=False,
        )


@pytest.fixture(scope="session", autouse=True)
def _no_leftover_sandboxes():
    """After the session: no namespace or OVS daemon created by it remains.
    Leftovers are reported, then cleaned up."""
    yield
    leftover_netns = sorted(CREATED_NETNS & set(netns_list()))
    leftover_pids = leftover_daemons()
    close_all()
    assert not leftover_netns and not leftover_pids, (
        f"OVS sandboxes not cleaned up: namespaces {leftover_netns}, daemon pids {leftover_pids}"
    )


# ---- op-dbus binary --------------------------------------------------------


@dataclass
class OpDbusResult:
    """Outcome of one op-dbus run (like subprocess.CompletedProcess)."""

    args: list
    returncode: int
    stdout: str
    stderr: str
    json: Any = None  # parsed stdout when run(json=True)

    def describe(self):
        return (
            f"command: {' '.join(self.args)}\nexit code: {self.returncode}\n"
            f"--- stdout ---\n{self.stdout}\n--- stderr ---\n{self.stderr}"
        )


class OpDbus:
    """Runs the op-dbus binary (or another program of the build, such as
    op-router) with a fixed environment, behind prefix (e.g. ["ip", "netns",
    "exec", NAME]) when one is given."""

    def __init__(self, binary, env, cwd, prefix=()):
        self.binary = str(binary)
        self.env = env
        self.cwd = cwd
        self.prefix = [str(p) for p in prefix]

    def run(self, *args, input=None, check=None, json=False, timeout=60, env=None):
        """Run op-dbus with args.

        input   text (or bytes) for stdin; stdin is empty otherwise
        check   None: any exit code is accepted; True: it must be 0;
                an int: it must be that code
        json    parse stdout as JSON into result.json
        env     extra environment variables for this run

        Always fails the test if the binary was killed by a signal or a
        sanitizer reported an error."""
        cmd = [*self.prefix, self.binary, *(str(a) for a in args)]
        run_env = dict(self.env)
        if env:
            run_env.update(env)
        if isinstance(input, bytes):
            input = input.decode()
        proc = subprocess.run(
            cmd,
            input=input if input is not None else "",
            capture_output=True,
            text=True,
            errors="replace",
            env=run_env,
            cwd=self.cwd,
            timeout=timeout,
            check=False,
        )
        result = OpDbusResult(cmd, proc.returncode, proc.stdout, proc.stderr)

        for pattern in SANITIZER_PATTERNS:
            if pattern.search(proc.stderr):
                pytest.fail(f"sanitizer error in op-dbus\n{result.describe()}", pytrace=False)
        if proc.returncode < 0:
            pytest.fail(f"op-dbus was killed by signal {-proc.returncode}\n{result.describe()}",
                        pytrace=False)

        expected = 0 if check is True else check
        if expected is not None and expected is not False and proc.returncode != expected:
            pytest.fail(f"op-dbus exited with {proc.returncode}, expected {expected}\n"
                        f"{result.describe()}", pytrace=False)

        if json:
            try:
                result.json = _json_loads(proc.stdout)
            except ValueError as e:
                pytest.fail(f"op-dbus output is not JSON ({e})\n{result.describe()}",
                            pytrace=False)
        return result


@pytest.fixture
def opdbus_bin():
    """Path of the op-dbus binary under test."""
    if os.environ.get("OPDBUS_BUILD_FAILED") == "1":
        pytest.fail("the op-dbus build failed (see the build stage output); "
                    "not running a possibly stale binary", pytrace=False)
    path = Path(os.environ.get("OPDBUS_BIN") or "build-test/agent/op-dbus/op-dbus")
    if not path.is_absolute():
        path = SOURCE_ROOT / path
    return path


@pytest.fixture(scope="session")
def built_program():
    """Factory: built_program("tests/nft-driver") is the path of a program
    of the build under test ($OPDBUS_BUILD_DIR, default build-test), or
    the test fails saying how to build it."""
    def find(relative):
        if os.environ.get("OPDBUS_BUILD_FAILED") == "1":
            pytest.fail("the op-dbus build failed (see the build stage output)", pytrace=False)
        build = Path(os.environ.get("OPDBUS_BUILD_DIR") or SOURCE_ROOT / "build-test")
        if not build.is_absolute():
            build = SOURCE_ROOT / build
        path = build / relative
        if not (path.is_file() and os.access(path, os.X_OK)):
            pytest.fail(f"{path} not found: build the project (./tests/run does) or set "
                        "OPDBUS_BUILD_DIR", pytrace=False)
        return path
    return find


@pytest.fixture
def opdbus(request, opdbus_bin, tmp_path):
    """Runner for the op-dbus binary. With the `ovs` fixture in the same test
    the binary talks to that sandbox; otherwise it gets private directories
    and an OVSDB address where nothing listens, never the host's OVS. It
    never reaches the host's system bus either (DBUS_SYSTEM_BUS_ADDRESS)."""
    if not (opdbus_bin.is_file() and os.access(opdbus_bin, os.X_OK)):
        pytest.fail(f"op-dbus binary not found at {opdbus_bin}: build it (./tests/run does) "
                    "or set OPDBUS_BIN", pytrace=False)

    env = dict(os.environ)
    if "ovs" in request.fixturenames:
        env.update(request.getfixturevalue("ovs").env())
    else:
        private = tmp_path / "opdbus"
        for sub in ("state", "run", "pve"):
            (private / sub).mkdir(parents=True)
        env.update({
            "OPDBUS_OVSDB": f"unix:{private}/no-ovsdb.sock",
            "OVS_RUNDIR": str(private),
            "OPDBUS_STATE_DIR": str(private / "state"),
            "OPDBUS_RUN_DIR": str(private / "run"),
            "OPDBUS_PVE_DIR": str(private / "pve"),
            "OPDBUS_LXC_PATH": str(private / "lxc"),
            "OPDBUS_INTERFACES": str(private / "interfaces"),
        })
    # Never the host's system bus: where op-dbus is installed, its daemon
    # owns org.opdbus there, and the commands the CLI hands to a running
    # daemon (apply, plan, query, ...) would reach it and change the host.
    # Nothing listens at this address, so the CLI runs them in-process. A
    # test that wants a daemon of its own passes its bus with env=.
    env["DBUS_SYSTEM_BUS_ADDRESS"] = f"unix:path={tmp_path}/no-system-bus"
    return OpDbus(opdbus_bin, env, cwd=tmp_path)


# ---- state files -----------------------------------------------------------


@pytest.fixture
def tmp_state(tmp_path):
    """Factory: tmp_state(data, name=None) writes data to a JSON file in the
    test's temporary directory and returns its Path. dict/list values are
    serialised; str/bytes are written as they are (for malformed input).
    Files are named state.json, state-1.json, ... unless name is given."""
    counter = itertools.count()

    def write(data, name=None):
        if name is None:
            n = next(counter)
            name = "state.json" if n == 0 else f"state-{n}.json"
        path = tmp_path / name
        if isinstance(data, bytes):
            path.write_bytes(data)
        elif isinstance(data, str):
            path.write_text(data)
        else:
            path.write_text(json.dumps(data, indent=2) + "\n")
        return path

    return write
