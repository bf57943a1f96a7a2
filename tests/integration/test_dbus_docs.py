# SPDX-License-Identifier: LGPL-2.1-or-later
"""docs/dbus.md cannot drift from the daemon: every `busctl` command line in
its ```sh blocks is run, as written, against `op-dbus run` on a private bus
(dbus_fixture.py), in the order of the page.

How the page is read (each command may be one line or continued with `\\`):

  - A command is a line of a ```sh block that contains `busctl`. Other
    lines (`usermod ...`) are shown to the reader but not run.
  - The comment right above a command says what it is for; every command
    needs one.
  - `# expect: ERROR.NAME` above a command: it must fail with that D-Bus
    error. Otherwise it must exit 0 and no call to org.opdbus may fail.
  - `# while CONDITION:` above a command: the test sets up CONDITION (one of
    CONDITIONS below) around that command only.
  - `busctl ... monitor ...` runs until it is interrupted: the test starts
    it, checks that it is monitoring, makes an apply happen if the monitor
    would show it (and then checks that it did), and stops it with SIGINT.

Each command runs with `bash -c` (pipefail set) in a directory that holds
state.json, the example state of the page; `--address=<private bus>` is
inserted after every `busctl`, so nothing reaches the host's bus.
"""

import contextlib
import fcntl
import json
import os
import re
import shlex
import signal
import subprocess
import time
from dataclasses import dataclass

import pytest

pytest.register_assert_rewrite("dbus_fixture")

from dbus_fixture import (BUS_NAME, INTERFACE, INTERFACE_XML, SOURCE_ROOT,  # noqa: E402
                          busctl_env, interface_members)

pytest_plugins = ("dbus_fixture",)

DOC = SOURCE_ROOT / "docs" / "dbus.md"

BUS_ACCESS_DENIED = "org.freedesktop.DBus.Error.AccessDenied"

CONDITIONS = (
    "another apply holds the lock",
    "ovsdb-server is stopped",
    "the daemon runs with OPDBUS_FAULT_INJECT=net",
    "the bus policy lets everyone call op-dbus",
)

# Signals an apply emits, which a monitor example must then show.
APPLY_SIGNALS = ("StateApplied", "PropertiesChanged")

COMMAND_TIMEOUT = 120


# ---- parsing the page -----------------------------------------------------------------


@dataclass
class Example:
    line: int          # line number in docs/dbus.md
    command: str       # as written, continuation lines joined
    purpose: str       # the comment above it
    expect: str = None       # error name from "# expect:"
    condition: str = None    # from "# while ...:"

    @property
    def is_monitor(self):
        return re.search(r"\bbusctl\b[^|]*\bmonitor\b", self.command) is not None

    def __str__(self):
        return f"docs/dbus.md:{self.line}: {self.command}"


def sh_blocks(text):
    """[(line number of the first line, [lines])] of the ```sh blocks."""
    blocks, current, start = [], None, 0
    for n, line in enumerate(text.splitlines(), 1):
        if current is None:
            if line.strip() == "```sh":
                current, start = [], n + 1
        elif line.strip() == "```":
            blocks.append((start, current))
            current = None
        else:
            current.append(line)
    assert current is None, "unterminated ```sh block"
    return blocks


def parse_examples(text):
    """The busctl commands of the page, with their comments."""
    examples = []
    for start, lines in sh_blocks(text):
        comments, expect, condition = [], None, None
        i = 0
        while i < len(lines):
            n = start + i
            line = lines[i].rstrip()
            while line.endswith("\\") and i + 1 < len(lines):
                i += 1
                line = line[:-1] + " " + lines[i].strip()
            i += 1
            stripped = line.strip()
            if not stripped:
                continue
            if stripped.startswith("#"):
                body = stripped.lstrip("#").strip()
                m = re.fullmatch(r"expect:\s*(\S+)", body)
                if m:
                    expect = m.group(1)
                    continue
                m = re.fullmatch(r"while (.+):", body)
                if m:
                    condition = m.group(1)
                    continue
                comments.append(body)
                continue
            if re.search(r"\bbusctl\b", stripped):
                if condition:
                    comments.append(f"while {condition}")
                examples.append(Example(n, stripped, " ".join(comments), expect, condition))
            else:
                assert expect is None and condition is None, (
                    f"docs/dbus.md:{n}: '# expect:' / '# while' above a command without busctl")
            comments, expect, condition = [], None, None
    return examples


def example_state(text):
    """The state the examples use: the page's first ```json block that is a
    state document (saved as state.json)."""
    for block in re.findall(r"```json\n(.*?)```", text, re.S):
        data = json.loads(block)
        if isinstance(data, dict) and "plugins" in data and "ok" not in data:
            return data
    raise AssertionError("docs/dbus.md has no example state")


def contract_errors():
    """The error names listed in the contract's comment."""
    text = INTERFACE_XML.read_text()
    m = re.search(r"Errors:(.*?)(?:\n\s*\n|-->)", text, re.S)
    assert m, "the contract lists no errors"
    listed = m.group(1).replace("org.opdbus.Error.", ".")
    return [f"org.opdbus.Error.{name}" for name in re.findall(r"\.([A-Z]\w+)", listed)]


@pytest.fixture(scope="module")
def doc_text():
    return DOC.read_text()


# ---- the page itself (no daemon needed) ------------------------------------------------


def test_examples_are_well_formed(doc_text):
    examples = parse_examples(doc_text)
    assert len(examples) >= 30, f"only {len(examples)} busctl examples found"
    known_errors = set(contract_errors()) | {BUS_ACCESS_DENIED}
    for ex in examples:
        assert ex.purpose, f"{ex}: no comment says what the example is for"
        assert ex.expect is None or ex.expect in known_errors, f"{ex}: unknown error {ex.expect}"
        assert ex.condition is None or ex.condition in CONDITIONS, (
            f"{ex}: the test does not know how to set up '{ex.condition}'")
        assert not (ex.is_monitor and ex.expect), f"{ex}: a monitor cannot expect an error"
        assert "--address" not in ex.command, f"{ex}: examples use the system bus"
        shlex.split(ex.command)  # balanced quotes


def test_every_member_is_documented(doc_text):
    """Each method, property, signal and error of the contract has a section
    (methods, signals, errors) and a busctl example."""
    members = interface_members(INTERFACE_XML.read_text())
    examples = parse_examples(doc_text)
    commands = [ex.command for ex in examples]
    headings = set(re.findall(r"^#+ (\S+)\s*$", doc_text, re.M))
    missing = []
    for method in members["methods"]:
        if method not in headings:
            missing.append(f"section for method {method}")
        if not any(re.search(rf"{re.escape(INTERFACE)} {method}\b", c) for c in commands):
            missing.append(f"example calling {method}")
    for prop in members["properties"]:
        if not any(re.search(rf"\bget-property\b.*\b{prop}\b", c) for c in commands):
            missing.append(f"get-property example for {prop}")
        if f"`{prop}`" not in doc_text:
            missing.append(f"description of property {prop}")
    for sig in members["signals"]:
        if sig not in headings:
            missing.append(f"section for signal {sig}")
        if not any(re.search(r"\bmonitor\b", c) and f"member='{sig}'" in c for c in commands):
            missing.append(f"monitor example for {sig}")
    for error in contract_errors():
        if error not in headings:
            missing.append(f"section for {error}")
        if not any(ex.expect == error for ex in examples):
            missing.append(f"example failing with {error}")
    if not any(ex.expect == BUS_ACCESS_DENIED for ex in examples):
        missing.append(f"example failing with {BUS_ACCESS_DENIED}")
    assert not missing, "docs/dbus.md lacks:\n" + "\n".join(missing)


def test_examples_apply_only_the_nodes_own_state(doc_text):
    """Pasted on a node, no example may put a state of its own in place of
    the node's (a document naming only br0 deletes the node's ovsbr0): every
    document an example applies or plans is state.json, the copy of the
    node's state file, or derived from it (or from a stored generation). A
    document written inline is allowed only where the call must fail."""
    changing = re.compile(rf"{re.escape(INTERFACE)} (ApplyState|ApplyStateWithOptions|Plan)\b")
    for ex in parse_examples(doc_text):
        if not changing.search(ex.command) or ex.expect == "org.opdbus.Error.InvalidState":
            continue
        call = ex.command.split(" | ")[0]
        assert "state.json" in call or ".state" in call, (
            f"{ex}: applies a document that is not the node's own state")
        assert "'{" not in call, f"{ex}: applies a document written inline"


def test_example_state_is_what_the_examples_apply(doc_text):
    """state.json is a netdev bridge state, so that it applies in the sandbox."""
    state = example_state(doc_text)
    bridges = state["plugins"]["net"]["bridges"]
    assert bridges and all(b.get("datapath_type") == "netdev" for b in bridges)


# ---- running the examples -------------------------------------------------------------


def with_address(command, address):
    """command with --address=ADDRESS after every busctl."""
    return re.sub(r"(?<![\w./-])busctl(?=\s)", f"busctl --address={shlex.quote(address)}",
                  command)


class Session:
    """The daemon and bus the examples currently run against."""

    def __init__(self, start_daemon, private_bus, bus, ovs, state, cwd):
        self.start_daemon = start_daemon
        self.private_bus = private_bus
        self.main_bus = self.bus = bus
        self.ovs = ovs
        self.state = state
        self.cwd = cwd
        # lock_timeout: the Busy example waits this long.
        self.main = self.daemon = start_daemon(state, lock_timeout=2)

    @contextlib.contextmanager
    def condition(self, name):
        if name is None:
            yield
        elif name == "another apply holds the lock":
            lock = os.path.join(self.ovs.env()["OPDBUS_RUN_DIR"], "apply.lock")
            fd = os.open(lock, os.O_RDWR | os.O_CREAT, 0o600)
            try:
                fcntl.flock(fd, fcntl.LOCK_EX)
                yield
            finally:
                os.close(fd)
        elif name == "ovsdb-server is stopped":
            self.ovs.stop_ovsdb()
            try:
                yield
            finally:
                self.ovs.start_ovsdb()
                self.daemon.wait_status("idle", 30)
        elif name == "the daemon runs with OPDBUS_FAULT_INJECT=net":
            with self.other_daemon(self.main_bus, env={"OPDBUS_FAULT_INJECT": "net"}):
                yield
        elif name == "the bus policy lets everyone call op-dbus":
            with self.other_daemon(self.private_bus("permissive")):
                yield
        else:
            raise AssertionError(f"unknown condition {name!r}")

    @contextlib.contextmanager
    def other_daemon(self, bus, env=None):
        """Stop the main daemon and run another one (on bus, with env)."""
        self.main.stop()
        other = self.start_daemon(bus=bus, env=env)
        self.bus, self.daemon = bus, other
        try:
            yield
        finally:
            other.stop()
            self.bus, self.daemon = self.main_bus, self.main
            self.main.restart()

    def trigger_apply(self):
        """Two applies that change the host and put it back as it was."""
        extra = json.loads(json.dumps(self.state))
        extra["plugins"]["net"]["bridges"][0].setdefault("ports", []).append(
            {"name": "p9", "type": "internal"})
        for doc in (extra, self.state):
            r = self.daemon.apply(doc)
            assert r.ok, r.describe()

    def shell(self, command, **kw):
        env = busctl_env(self.bus.address)
        # The examples name the group (runuser -G opdbus): it exists in
        # the bus's view of /etc/group, whether or not the host has it.
        return subprocess.Popen(self.bus.with_group(["bash", "-c", "set -o pipefail\n" + command]),
                                cwd=self.cwd,
                                env=env, stdin=subprocess.DEVNULL, stdout=subprocess.PIPE,
                                stderr=subprocess.PIPE, text=True, **kw)

    def run(self, ex):
        """Run one example; raises AssertionError if it does not behave."""
        with self.condition(ex.condition):
            if ex.is_monitor:
                self._run_monitor(ex)
            else:
                self._run_call(ex)

    def _run_call(self, ex):
        since = self.bus.monitor.mark()
        proc = self.shell(with_address(ex.command, self.bus.address))
        try:
            out, err = proc.communicate(timeout=COMMAND_TIMEOUT)
        except subprocess.TimeoutExpired:
            proc.kill()
            out, err = proc.communicate()
            raise AssertionError(f"still running after {COMMAND_TIMEOUT}s\n{err}")
        self.bus.monitor.sync()
        errors = self.bus.monitor.error_for(since, destinations={BUS_NAME,
                                                                 self.daemon.unique_name})
        names = [e.get("error_name") for _, e in errors]
        detail = f"exit {proc.returncode}\nstdout: {out[:2000]}\nstderr: {err[:2000]}"
        if ex.expect:
            assert proc.returncode != 0, f"succeeded, expected {ex.expect}\n{detail}"
            assert names and names[-1] == ex.expect, (
                f"failed with {names or 'no D-Bus error'}, expected {ex.expect}\n{detail}")
        else:
            assert proc.returncode == 0, f"{detail}\nD-Bus errors: {names}"
            assert not names, f"calls to {BUS_NAME} failed: {names}\n{detail}"

    def _monitors(self):
        return self.bus.log_tail(100000).count("became a monitor")

    def _run_monitor(self, ex):
        member = re.search(r"member='(\w+)'", ex.command)
        shows = member.group(1) if member else "StateApplied"
        triggered = shows in APPLY_SIGNALS
        before = self._monitors()
        proc = self.shell(with_address(ex.command, self.bus.address), start_new_session=True)
        try:
            started = None
            deadline = time.monotonic() + 10
            while time.monotonic() < deadline and proc.poll() is None:
                if self._monitors() > before:
                    started = True
                    break
                time.sleep(0.05)
            assert started and proc.poll() is None, (
                f"the monitor did not start (exit {proc.poll()})")
            if triggered:
                mark = self.daemon.mark()
                self.trigger_apply()
                self.daemon.wait_for("StateApplied", since=mark)
            time.sleep(0.5)
            assert proc.poll() is None, f"the monitor ended by itself (exit {proc.returncode})"
        finally:
            if proc.poll() is None:
                os.killpg(proc.pid, signal.SIGINT)
            try:
                out, err = proc.communicate(timeout=10)
            except subprocess.TimeoutExpired:
                os.killpg(proc.pid, signal.SIGKILL)
                out, err = proc.communicate()
        if triggered:
            assert out.strip(), f"the monitor showed nothing of the apply\nstderr: {err}"
            if "|" not in ex.command:
                assert shows in out, f"the monitor did not show {shows}\n{out[:3000]}"
        assert "Failed" not in err and "Invalid" not in err, err


def test_examples_run(doc_text, start_daemon, private_bus, system_bus, ovs, tmp_path):
    state = example_state(doc_text)
    cwd = tmp_path / "cwd"
    cwd.mkdir()
    (cwd / "state.json").write_text(json.dumps(state, indent=2) + "\n")
    session = Session(start_daemon, private_bus, system_bus, ovs, state, cwd)

    failures = []
    for ex in parse_examples(doc_text):
        try:
            session.run(ex)
        except AssertionError as e:
            failures.append(f"{ex}\n  ({ex.purpose})\n  {e}".replace("\n", "\n    "))
    assert not failures, (f"{len(failures)} example(s) of docs/dbus.md do not work:\n\n"
                          + "\n\n".join(failures))
