# SPDX-License-Identifier: LGPL-2.1-or-later
"""The CLI prints the same through the daemon as without it (docs/cli.md,
"With and without the daemon").

Every verb runs twice on the same node: once with the daemon owning
org.opdbus on the (private) system bus, once with OPDBUS_NO_DAEMON=1. The
host and the checkpoints are put back to the same state before each run,
so standard output and the exit code must be equal; only generation
numbers are compared relative to the newest generation before the run.
The runs through the daemon must really reach it: the bus monitor must see
the CLI's call."""

import fcntl
import json
import os
import re
import subprocess
import time

import pytest

pytest.register_assert_rewrite("dbus_fixture")

from dbus_fixture import BUS_NAME, INTERFACE  # noqa: E402

pytest_plugins = ("dbus_fixture",)

OPENFLOW = {"enable_security_flows": False, "obfuscation_level": 0, "bridges": [{"name": "br0"}]}
SECURITY = {**OPENFLOW, "enable_security_flows": True, "obfuscation_level": 2}


def port(name):
    return {"name": name, "type": "internal"}


def doc(ports, openflow=OPENFLOW, net=True):
    plugins = {}
    if net:
        plugins["net"] = {"bridges": [{"name": "br0", "datapath_type": "netdev",
                                       "ports": [port(p) for p in ports]}]}
    if openflow is not None:
        plugins["openflow"] = openflow
    return {"version": 1, "plugins": plugins}


# The node's state before each run, and the one applied just before it (so
# that `rollback` always has the same previous generation).
BASE = doc(("p1", "p2"))
PREVIOUS = doc(("p1",), openflow=None)
# The documents the verbs are given: a change in both sections, and an
# openflow section alone (what `--plugin openflow` is used with).
FILES = {
    "file": doc(("p1", "p3"), openflow=SECURITY),
    "openflow_file": doc((), openflow=SECURITY, net=False),
}

# (id, arguments, whether the verb goes to the daemon when it runs).
# {file} and {openflow_file} are the documents above; {to} is the
# generation of PREVIOUS.
CASES = [
    ("validate", ["validate", "{file}"], False),
    ("validate-plugin", ["validate", "--plugin", "net", "{file}"], False),
    ("plan", ["plan", "{file}"], True),
    ("plan-plugin-openflow", ["plan", "--plugin", "openflow", "{openflow_file}"], True),
    ("plan-plugin-net", ["plan", "--plugin", "net", "{file}"], True),
    ("apply-dry-run", ["apply", "--dry-run", "{file}"], True),
    ("apply-dry-run-plugin", ["apply", "--dry-run", "--plugin", "openflow", "{openflow_file}"], True),
    ("apply", ["apply", "{file}"], True),
    ("apply-plugin-openflow", ["apply", "--plugin", "openflow", "{openflow_file}"], True),
    ("apply-plugin-net", ["apply", "--plugin", "net", "{file}"], True),
    ("diff", ["diff", "{file}"], False),
    ("diff-plugin", ["diff", "--plugin", "openflow", "{openflow_file}"], False),
    ("verify", ["verify", "{file}"], False),
    ("verify-plugin", ["verify", "--plugin", "net", "{file}"], False),
    ("query", ["query"], True),
    ("query-plugin-net", ["query", "--plugin", "net"], True),
    ("query-plugin-openflow", ["query", "--plugin", "openflow"], True),
    ("query-plugin-lxc", ["query", "--plugin", "lxc"], True),
    ("query-two-plugins", ["query", "--plugin", "openflow", "--plugin", "net"], True),
    ("checkpoints", ["checkpoints"], True),
    ("rollback", ["rollback"], True),
    ("rollback-to", ["rollback", "--to", "{to}"], True),
    ("rollback-to-missing", ["rollback", "--to", "999999"], True),
    ("rollback-to-beyond-32-bits", ["rollback", "--to", "4294967297"], False),
    ("restore-flows", ["restore-flows"], True),
    ("restore-flows-bridge", ["restore-flows", "--bridge", "br0"], True),
]

# Unknown plugin names: refused the same way, on standard error too.
UNKNOWN_PLUGIN_CASES = [
    ("validate", ["validate", "--plugin", "nett", "{file}"]),
    ("plan", ["plan", "--plugin", "nett", "{file}"]),
    ("apply-dry-run", ["apply", "--dry-run", "--plugin", "nett", "{file}"]),
    ("apply", ["apply", "--plugin", "nett", "{file}"]),
    ("diff", ["diff", "--plugin", "nett", "{file}"]),
    ("verify", ["verify", "--plugin", "nett", "{file}"]),
    ("query", ["query", "--plugin", "nett"]),
    ("query-two", ["query", "--plugin", "net", "--plugin", "nett"]),
]

# A generation number after these words, or first on a line of the
# checkpoints table.
GENERATION_WORDS = re.compile(r"(generation |\"generation\": |gen-0*|--to |^|stored ones are |\.\.)(\d+)(?=\D)", re.M)
TIMESTAMP = re.compile(r"\d{4}-\d\d-\d\dT\d\d:\d\d:\d\dZ")
# The caller's pid in the checkpoints' audit records.
PID = re.compile(r"(\[|\"pid\": )\d+")
# Checkpoints kept (the default of --keep-checkpoints).
KEEP_CHECKPOINTS = 5


def normalise(text, base):
    """Generation numbers relative to base ("G+1", "G-1"; 0, none, stays)
    and no checkpoint times."""
    def rel(m):
        n = int(m.group(2))
        return m.group(0) if n == 0 else f"{m.group(1)}G{n - base:+d}"
    return PID.sub(r"\1PID", TIMESTAMP.sub("TIME", GENERATION_WORDS.sub(rel, text)))


class Node:
    """The daemon on the test's OVS, and the CLI run both ways."""

    def __init__(self, daemon, opdbus, tmp_path):
        self.daemon = daemon
        self.opdbus = opdbus
        self.files = {}
        for name, content in FILES.items():
            path = tmp_path / f"{name}.json"
            path.write_text(json.dumps(content, indent=2) + "\n")
            self.files[name] = str(path)
        # As many generations as are kept: every reset() leaves the same
        # list of checkpoints, relative to the newest.
        while len(self.daemon.call_json("ListCheckpoints")) < KEEP_CHECKPOINTS:
            self.reset()

    def reset(self):
        """BASE applied right after PREVIOUS; returns the generation of
        BASE."""
        for state in (PREVIOUS, BASE):
            result = self.daemon.apply(state).result()
            assert result["ok"] is True, result
        return self.daemon.get("Generation")

    def run(self, args, through_daemon, env=None):
        base = self.reset()
        values = {**self.files, "to": str(base - 1)}
        argv = [a.format(**values) for a in args]
        env = {**(env or {}), "DBUS_SYSTEM_BUS_ADDRESS": self.daemon.bus.address}
        if not through_daemon:
            env["OPDBUS_NO_DAEMON"] = "1"
        mark = self.daemon.mark()
        r = self.opdbus.run(*argv, env=env, timeout=180)
        self.daemon.bus.monitor.sync()
        calls = [m for m in self.daemon.bus.monitor.messages[mark:]
                 if m.get("type") == "method_call" and m.get("interface") == INTERFACE
                 and m.get("destination") in (BUS_NAME, self.daemon.unique_name)]
        return r, base, calls


@pytest.fixture
def node(start_daemon, opdbus, ovs, tmp_path):
    return Node(start_daemon(BASE), opdbus, tmp_path)


def both_ways(node, args, json_output):
    args = (["--json"] if json_output else []) + list(args)
    daemon, base_d, calls_d = node.run(args, through_daemon=True)
    local, base_l, calls_l = node.run(args, through_daemon=False)
    assert calls_l == [], f"OPDBUS_NO_DAEMON=1 still called the daemon: {calls_l}"
    return (daemon, base_d, calls_d), (local, base_l)


@pytest.mark.parametrize("json_output", [False, True], ids=["text", "json"])
@pytest.mark.parametrize("args,via_daemon", [(c[1], c[2]) for c in CASES],
                         ids=[c[0] for c in CASES])
def test_same_output_with_and_without_the_daemon(node, args, via_daemon, json_output):
    (daemon, base_d, calls), (local, base_l) = both_ways(node, args, json_output)
    if via_daemon:
        assert calls, f"the CLI did not call the daemon\n{daemon.describe()}"
    else:
        assert calls == [], f"the CLI called the daemon: {calls}"
    what = f"\n--- through the daemon ---\n{daemon.describe()}\n" \
           f"--- without it ---\n{local.describe()}"
    assert daemon.returncode == local.returncode, what
    assert normalise(daemon.stdout, base_d) == normalise(local.stdout, base_l), what
    if json_output and daemon.stdout.strip():
        json.loads(daemon.stdout)


@pytest.mark.parametrize("args", [c[1] for c in UNKNOWN_PLUGIN_CASES],
                         ids=[c[0] for c in UNKNOWN_PLUGIN_CASES])
def test_unknown_plugin_is_refused_the_same_way(node, args):
    (daemon, base_d, _), (local, base_l) = both_ways(node, args, json_output=False)
    what = f"\n--- through the daemon ---\n{daemon.describe()}\n" \
           f"--- without it ---\n{local.describe()}"
    assert daemon.returncode == local.returncode == 2, what
    assert daemon.stdout == local.stdout, what
    assert daemon.stderr == local.stderr, what
    assert 'unknown plugin "nett"' in daemon.stderr, what


@pytest.mark.parametrize("json_output", [False, True], ids=["text", "json"])
@pytest.mark.parametrize("args", [["restore-flows"], ["rollback"], ["checkpoints"], ["query"]],
                         ids=["restore-flows", "rollback", "checkpoints", "query"])
def test_same_output_before_anything_was_applied(start_daemon, opdbus, ovs, args, json_output):
    """Nothing applied yet (no checkpoint): the same refusals and empty
    answers both ways."""
    d = start_daemon()
    args = (["--json"] if json_output else []) + args
    env = {"DBUS_SYSTEM_BUS_ADDRESS": d.bus.address}
    daemon = opdbus.run(*args, env=env)
    local = opdbus.run(*args, env={**env, "OPDBUS_NO_DAEMON": "1"})
    what = f"\n--- through the daemon ---\n{daemon.describe()}\n--- without it ---\n{local.describe()}"
    assert daemon.returncode == local.returncode, what
    assert daemon.stdout == local.stdout, what
    assert d.get("Generation") == 0


# Settings given to the CLI that the daemon does not share: the command
# runs without the daemon and says so, in one line.
OTHER_SETTINGS = [
    ("ovsdb", ["--ovsdb", "unix:/nonexistent.sock"], {}, "--ovsdb"),
    ("state-dir", ["--state-dir", "{tmp}"], {}, "--state-dir"),
    ("lock-timeout", ["--lock-timeout", "7"], {}, "--lock-timeout"),
    ("keep-checkpoints", ["--keep-checkpoints", "2"], {}, "--keep-checkpoints"),
    ("env-run-dir", [], {"OPDBUS_RUN_DIR": "{tmp}"}, "$OPDBUS_RUN_DIR"),
    ("env-lxc-path", [], {"OPDBUS_LXC_PATH": "{tmp}"}, "$OPDBUS_LXC_PATH"),
]


@pytest.mark.parametrize("options,env,name", [c[1:] for c in OTHER_SETTINGS],
                         ids=[c[0] for c in OTHER_SETTINGS])
def test_settings_the_daemon_does_not_share_run_without_it(node, tmp_path, options, env, name):
    options = [o.format(tmp=tmp_path) for o in options]
    env = {k: v.format(tmp=tmp_path) for k, v in env.items()}
    args = [*options, "plan", "{file}"]
    daemon, base_d, calls = node.run(args, through_daemon=True, env=env)
    local, base_l, _ = node.run(args, through_daemon=False, env=env)
    what = f"\n--- with the daemon running ---\n{daemon.describe()}\n" \
           f"--- OPDBUS_NO_DAEMON=1 ---\n{local.describe()}"
    assert calls == [], f"the CLI used the daemon: {calls}{what}"
    notes = [line for line in daemon.stderr.splitlines() if "running without the daemon" in line]
    assert len(notes) == 1 and name in notes[0], what
    assert daemon.returncode == local.returncode, what
    assert normalise(daemon.stdout, base_d) == normalise(local.stdout, base_l), what
    assert daemon.stderr.replace(notes[0] + "\n", "") == local.stderr, what


def test_the_daemons_own_settings_go_to_the_daemon(node, ovs):
    """The same values as the daemon's, given as options: no reason to
    leave the daemon out."""
    env = ovs.env()
    args = ["--ovsdb", env["OPDBUS_OVSDB"], "--state-dir", env["OPDBUS_STATE_DIR"],
            "--lock-timeout", "30", "--keep-checkpoints", str(KEEP_CHECKPOINTS), "plan", "{file}"]
    r, _, calls = node.run(args, through_daemon=True)
    assert calls, f"the CLI did not call the daemon\n{r.describe()}"
    assert "running without the daemon" not in r.stderr, r.describe()
    assert r.returncode == 0, r.describe()


def test_a_confirmed_apply_says_until_when_and_how_to_confirm(node):
    """apply --confirm-timeout: the deadline (local time and seconds) and
    the command that keeps the apply, in text and in JSON."""
    env = {"DBUS_SYSTEM_BUS_ADDRESS": node.daemon.bus.address}
    node.reset()
    before = time.time()
    r = node.opdbus.run("apply", "--confirm-timeout", "600", node.files["file"], env=env)
    after = time.time()
    assert r.returncode == 0, r.describe()
    m = re.search(r"^Not confirmed yet: run 'op-dbus confirm' before "
                  r"(\d{4}-\d\d-\d\d \d\d:\d\d:\d\d) \S+ \(within 600 s\), "
                  r"or the daemon rolls this apply back\.$", r.stdout, re.M)
    assert m, r.describe()
    shown = time.mktime(time.strptime(m.group(1), "%Y-%m-%d %H:%M:%S"))
    assert before + 600 - 1 <= shown <= after + 600, r.describe()
    assert node.daemon.get("Status") == "awaiting-confirm"
    node.opdbus.run("confirm", env=env, check=0)
    assert node.daemon.get("Status") == "idle"

    node.reset()
    before = time.time()
    r = node.opdbus.run("--json", "apply", "--confirm-timeout", "600", node.files["file"], env=env,
                        json=True, check=0)
    after = time.time()
    confirm = r.json["confirm"]
    assert set(confirm) == {"deadline", "deadline_unix", "seconds", "command"}, confirm
    assert confirm["seconds"] == 600 and confirm["command"] == "op-dbus confirm"
    assert before + 600 - 1 <= confirm["deadline_unix"] <= after + 600, confirm
    assert re.fullmatch(r"\d{4}-\d\d-\d\dT\d\d:\d\d:\d\d[+-]\d\d:\d\d", confirm["deadline"]), confirm
    node.opdbus.run("confirm", env=env, check=0)

    # Without a confirm timeout, no "confirm" member.
    node.reset()
    r = node.opdbus.run("--json", "apply", node.files["file"], env=env, json=True, check=0)
    assert "confirm" not in r.json


def test_a_busy_apply_prints_its_result_with_and_without_the_daemon(start_daemon, opdbus, ovs, tmp_path):
    """Another apply holds the lock for longer than --lock-timeout: the
    apply is Busy (exit status 4) and, with --json, prints its result
    either way: through the daemon both when it waited for the lock and
    when it waited in the daemon's queue behind an apply that did."""
    d = start_daemon(BASE, lock_timeout=1)
    path = tmp_path / "file.json"
    path.write_text(json.dumps(FILES["file"]))
    args = [opdbus.binary, "--lock-timeout", "1", "--json", "apply", str(path)]
    env = {**opdbus.env, "DBUS_SYSTEM_BUS_ADDRESS": d.bus.address}
    fd = os.open(os.path.join(ovs.env()["OPDBUS_RUN_DIR"], "apply.lock"), os.O_RDWR | os.O_CREAT, 0o600)
    try:
        fcntl.flock(fd, fcntl.LOCK_EX)
        mark = d.log_mark()
        # the last waits in the daemon's queue for longer than the lock
        # timeout, behind the others that wait for the lock
        procs = [subprocess.Popen(args, env=env, stdin=subprocess.DEVNULL, stdout=subprocess.PIPE,
                                  stderr=subprocess.PIPE, text=True) for _ in range(3)]
        outs = [p.communicate(timeout=120) for p in procs]
        local = opdbus.run(*args[1:], env={**env, "OPDBUS_NO_DAEMON": "1"})
    finally:
        os.close(fd)
    assert [line for line in d.log_since(mark) if "not run: another apply did not finish" in line], d.log_tail()
    want = json.loads(local.stdout)
    assert local.returncode == 4 and want["status"] == "busy", local.describe()
    for p, (out, err) in zip(procs, outs):
        assert p.returncode == 4, f"{out}\n{err}"
        res = json.loads(out)
        assert {k: res[k] for k in ("ok", "status", "changed", "changes", "rolled_back")} == \
               {k: want[k] for k in ("ok", "status", "changed", "changes", "rolled_back")}, out
        assert res["errors"] and "another apply" in res["errors"][0], res
