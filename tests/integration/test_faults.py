# SPDX-License-Identifier: LGPL-2.1-or-later
"""Faults during an apply (docs/reliability.md, "Faults"): op-dbus killed
with SIGKILL at random moments of a large apply (200 ports, about 10,000
flows), ovsdb-server and ovs-vswitchd killed or stopped during one, a
state directory that is read-only or full, a checkpoint that cannot be
stored, flows left by an apply that did not finish, and an apply without
the daemon while the daemon runs.

After each fault the next apply converges: the host matches the state,
every bridge, port and interface row carries op-dbus's owner tag (no row
is left behind untagged), and the checkpoint store loads. Faults that can
be found before anything is touched (the state directory) change nothing
and end with exit status 5.

The random moments come from a seed printed with the figures (run with
`-s` to see them); OPDBUS_FAULT_SEED=N repeats a run."""

import importlib.machinery
import importlib.util
import json
import os
import random
import signal
import subprocess
import sys
import time

import pytest

pytest.register_assert_rewrite("dbus_fixture")

import netlab  # noqa: E402
from conftest import SOURCE_ROOT  # noqa: E402

pytest_plugins = ("dbus_fixture",)

NO_DAEMON = {"OPDBUS_NO_DAEMON": "1"}
# Each call to a service is bounded by --timeout: short, so that a fault
# that makes op-dbus wait ends the apply soon. The applies that converge
# afterwards wait longer: ovs-vswitchd may still be carrying out what the
# interrupted apply wrote (creating or deleting 200 ports takes seconds on
# a loaded machine).
TIMEOUT = ("--timeout", "5")
CONVERGE = ("--timeout", "60")
# The faults below make an apply fail; it must end, bounded by the
# timeouts above, and never hang: well within this.
HANG = 180


def bench_flows():
    """bench/flows as a module: its states yield 10,000 flows."""
    sys.path.insert(0, str(SOURCE_ROOT / "bench"))
    loader = importlib.machinery.SourceFileLoader("bench_flows", str(SOURCE_ROOT / "bench" / "flows"))
    spec = importlib.util.spec_from_loader("bench_flows", loader)
    module = importlib.util.module_from_spec(spec)
    loader.exec_module(module)
    return module


# 200 container ports at obfuscation level 2 with 39 port policies: 200
# internal ports on br0 and 10,033 flows (bench/flows).
LARGE = bench_flows().policy_state(200, 39)
EMPTY = {"version": 1, "plugins": {"net": {"bridges": []}, "openflow": {}}}


def small(*ports, flows=True):
    plugins = {"net": {"bridges": [{"name": "br0", "datapath_type": "netdev",
                                    "ports": [{"name": p, "type": "internal"} for p in ports]}]}}
    if flows:
        plugins["openflow"] = {"enable_security_flows": True, "obfuscation_level": 1,
                               "bridges": [{"name": "br0"}]}
    return {"version": 1, "plugins": plugins}


def rows(ovs):
    """The bridge, port and interface rows op-dbus writes, by name."""
    return [ovs.dump(table, "name", "external_ids") for table in ("Bridge", "Port", "Interface")]


def unowned_rows(ovs):
    """Bridge, Port and Interface rows without op-dbus's owner tag: rows
    an apply left behind (the sandbox has no others)."""
    left = []
    for table in ("Bridge", "Port", "Interface"):
        out = json.loads(ovs.vsctl("--format=json", "--columns=name,external_ids", "list", table))
        for name, ids in out["data"]:
            if ["op-dbus-owner", "op-dbus"] not in ids[1]:
                left.append(f"{table} {name}")
    return left


def check_store(opdbus, ovs, pending=False):
    """The checkpoint store loads: every checkpoint is strict JSON with a
    state; unless pending, no apply is left prepared. Returns the newest
    generation."""
    listing = opdbus.run("checkpoints", "--json", check=0, json=True).json
    assert listing, "no checkpoint"
    for entry in listing:
        with open(entry["path"]) as f:
            assert "plugins" in json.load(f)["state"], entry
    path = os.path.join(ovs.env()["OPDBUS_STATE_DIR"], "checkpoints", "pending.json")
    assert pending or not os.path.exists(path)
    return listing[-1]["generation"]


def check_converged(opdbus, ovs, path, doc):
    """The host matches doc, with no untagged row and a store that loads."""
    plan = opdbus.run("plan", "--json", path, check=0, env=NO_DAEMON, json=True).json
    assert plan["changes"] == [], plan["changes"]
    assert unowned_rows(ovs) == []
    generation = check_store(opdbus, ovs)
    opdbus.run("verify", path, check=0, env=NO_DAEMON)
    want = {p["name"] for b in doc["plugins"]["net"]["bridges"] for p in b.get("ports", [])}
    have = set(ovs.vsctl("list-ports", "br0").split()) if "br0" in ovs.vsctl("list-br").split() else set()
    assert have == want
    return generation


def popen(opdbus, *args, env=None, prefix=()):
    return subprocess.Popen([*prefix, opdbus.binary, *(str(a) for a in args)],
                            env={**opdbus.env, **NO_DAEMON, **(env or {})}, cwd=opdbus.cwd,
                            stdin=subprocess.DEVNULL, stdout=subprocess.PIPE, stderr=subprocess.PIPE,
                            text=True)


def wait_line(proc, words):
    """Reads proc's standard error until a line with words; returns the
    lines read."""
    lines = []
    for line in proc.stderr:
        lines.append(line)
        if words in line:
            return lines
    pytest.fail(f"op-dbus ended without writing {words!r}:\n{''.join(lines)}", pytrace=False)


def bridge_in_ovsdb(ovs, name="br0"):
    return name in ovs.vsctl("--no-wait", "list-br").split()


def poll(predicate, timeout=60, interval=0.005):
    deadline = time.monotonic() + timeout
    while not predicate():
        assert time.monotonic() < deadline, "timed out"
        time.sleep(interval)


# ---- op-dbus killed at random moments ------------------------------------------------


# A dump answered to an op-dbus that was killed meanwhile; a flow mod cut
# in half by the kill.
@pytest.mark.ovs_log_allow(r"\|vconn_stream\|ERR\|send: Broken pipe$",
                            r"\|vconn_stream\|ERR\|connection dropped mid-packet$")
def test_kill_9_at_random_moments_of_a_large_apply(ovs, opdbus, tmp_state):
    """Ten applies between the large state and none, each killed with
    SIGKILL at a random moment (every third one with a fault injected
    after the flows, so that the kill may hit its rollback); each is
    followed by an apply of the same state, which must converge."""
    seed = int(os.environ.get("OPDBUS_FAULT_SEED") or time.time())
    rng = random.Random(seed)
    paths = {"large": tmp_state(LARGE, "large.json"), "empty": tmp_state(EMPTY, "empty.json")}
    docs = {"large": LARGE, "empty": EMPTY}

    start = time.monotonic()
    opdbus.run("apply", *CONVERGE, paths["large"], check=0, env=NO_DAEMON, timeout=HANG)
    full = time.monotonic() - start
    converged, killed, outcomes = 0, 0, []
    for i in range(10):
        target = "empty" if i % 2 == 0 else "large"
        fault = {"OPDBUS_FAULT_INJECT": "openflow"} if i % 3 == 2 else {}
        delay = rng.uniform(0, full)
        proc = popen(opdbus, "apply", *CONVERGE, "--allow-outage", paths[target], env=fault)
        time.sleep(delay)
        proc.kill()
        proc.communicate(timeout=HANG)
        killed += proc.returncode == -signal.SIGKILL
        outcomes.append(f"{target} {'fault ' if fault else ''}{delay:.2f}s: "
                        f"{'killed' if proc.returncode == -signal.SIGKILL else f'exit {proc.returncode}'}")
        # what the kill left loads (an apply may be left prepared)
        check_store(opdbus, ovs, pending=True)

        res = opdbus.run("apply", "--json", *CONVERGE, "--allow-outage", paths[target], env=NO_DAEMON,
                         timeout=HANG, json=True)
        assert res.returncode == 0, f"after {outcomes[-1]} (seed {seed}):\n{res.describe()}"
        assert not [w for w in res.json["warnings"] if "cannot be read" in w], res.json["warnings"]
        check_converged(opdbus, ovs, paths[target], docs[target])
        converged += 1
    print(f"\nkill -9 at random moments (seed {seed}, a full apply took {full:.2f}s): "
          f"{killed} of 10 applies killed while running, {converged}/10 converged\n  " + "\n  ".join(outcomes))
    assert netlab.opdbus_flows(ovs, "br0")


# ---- ovsdb-server and ovs-vswitchd ----------------------------------------------------


def test_ovsdb_server_killed_between_query_and_transaction(ovs, opdbus, tmp_state):
    """op-dbus is stopped once it has read the host, ovsdb-server is
    killed, op-dbus goes on: its transaction finds the connection gone.
    The error says so (OVSDB rejected nothing); once ovsdb-server is back
    the next apply converges. (Between the read and the transaction op-dbus
    computes 10,000 flows, which gives the stop ample time.)"""
    opdbus.run("apply", *CONVERGE, tmp_state(LARGE), check=0, env=NO_DAEMON, timeout=HANG)
    doc = json.loads(json.dumps(LARGE))
    doc["plugins"]["net"]["bridges"][0]["ports"].append({"name": "extra0", "type": "internal"})
    path = tmp_state(doc)
    proc = popen(opdbus, "-v", "apply", *TIMEOUT, path)
    lines = wait_line(proc, "query openflow: read")
    os.kill(proc.pid, signal.SIGSTOP)
    try:
        ovs.stop_ovsdb(graceful=False)
    finally:
        os.kill(proc.pid, signal.SIGCONT)
    out, err = proc.communicate(timeout=HANG)
    err = "".join(lines) + err
    assert proc.returncode == 6, f"exit {proc.returncode}\n{out}\n{err}"
    assert "error: lost the connection to OVSDB during the transaction (Broken pipe): ovsdb-server stopped or " \
           "did not answer, so whether it was carried out is not known" in err, err
    assert "rejected" not in err, err

    ovs.start_ovsdb()
    opdbus.run("apply", *CONVERGE, path, check=0, env=NO_DAEMON, timeout=HANG)
    check_converged(opdbus, ovs, path, doc)


@pytest.mark.parametrize("daemon", ["ovsdb-server", "ovs-vswitchd"])
def test_open_vswitch_killed_mid_apply(ovs, opdbus, tmp_state, daemon):
    """ovsdb-server or ovs-vswitchd killed once the large apply has written
    the bridge to OVSDB: the apply ends; once it runs again, the next apply
    converges."""
    stop, start = {"ovsdb-server": (ovs.stop_ovsdb, ovs.start_ovsdb),
                   "ovs-vswitchd": (ovs.stop_vswitchd, ovs.start_vswitchd)}[daemon]
    path = tmp_state(LARGE)
    proc = popen(opdbus, "apply", *TIMEOUT, path)
    poll(lambda: bridge_in_ovsdb(ovs) or proc.poll() is not None)
    stop(graceful=False)
    out, err = proc.communicate(timeout=HANG)
    assert proc.returncode in (1, 5, 6), f"exit {proc.returncode}\n{out}\n{err}"
    start()
    opdbus.run("apply", *CONVERGE, path, check=0, env=NO_DAEMON, timeout=HANG)
    check_converged(opdbus, ovs, path, LARGE)


def test_ovs_vswitchd_stopped_before_an_apply(ovs, opdbus, tmp_state):
    """ovs-vswitchd stopped (SIGSTOP) before the apply: it cannot read the
    flows, says why, and changes nothing."""
    opdbus.run("apply", tmp_state(small("p1")), check=0, env=NO_DAEMON)
    before = ovs.dump()
    path = tmp_state(small("p1", "p2"))
    os.kill(ovs.pids()["ovs-vswitchd"], signal.SIGSTOP)
    try:
        res = opdbus.run("apply", "--json", *TIMEOUT, path, check=5, env=NO_DAEMON, timeout=HANG, json=True)
    finally:
        os.kill(ovs.pids()["ovs-vswitchd"], signal.SIGCONT)
    assert res.json["errors"][0] == "bridge br0: cannot read its flows: ovs-vswitchd did not answer within 5 s; " \
                                    "is it running?", res.json["errors"]
    assert ovs.dump() == before
    opdbus.run("apply", *CONVERGE, path, check=0, env=NO_DAEMON, timeout=HANG)
    check_converged(opdbus, ovs, path, small("p1", "p2"))


def test_ovs_vswitchd_stopped_across_an_apply(ovs, opdbus, tmp_state):
    """ovs-vswitchd stopped (SIGSTOP) in the middle of a large apply, once
    the bridge is in OVSDB: the apply ends on its own, bounded by
    --timeout, says ovs-vswitchd did not follow, and rolls back as far as
    it can; once ovs-vswitchd runs again, the next apply converges."""
    path = tmp_state(LARGE)
    proc = popen(opdbus, "apply", "--json", *TIMEOUT, path)
    poll(lambda: bridge_in_ovsdb(ovs) or proc.poll() is not None)
    vswitchd = ovs.pids()["ovs-vswitchd"]
    os.kill(vswitchd, signal.SIGSTOP)
    try:
        out, err = proc.communicate(timeout=HANG)
    finally:
        os.kill(vswitchd, signal.SIGCONT)
    assert proc.returncode in (1, 6), f"exit {proc.returncode}\n{out}\n{err}"
    res = json.loads(out)
    assert res["rolled_back"], res
    assert [e for e in res["errors"] if "ovs-vswitchd did not apply configuration" in e], res["errors"]
    opdbus.run("apply", *CONVERGE, path, check=0, env=NO_DAEMON, timeout=HANG)
    check_converged(opdbus, ovs, path, LARGE)


def test_a_re_apply_waits_for_ovs_vswitchd_to_catch_up(ovs, opdbus, tmp_state):
    """An apply killed between its OVSDB transaction and ovs-vswitchd
    creating the bridge leaves OVSDB ahead of ovs-vswitchd. The next apply
    has nothing to write to OVSDB; it waits for ovs-vswitchd rather than
    find the bridge without its OpenFlow connection and its ports without
    numbers."""
    doc = small("p1", "p2")
    doc["plugins"]["openflow"]["flow_policies"] = [
        {"name": "web", "selector": "port:p*",
         "template": {"table": 10, "priority": 100, "match": "tcp,tp_dst=80", "actions": [{"type": "normal"}]}}]
    path = tmp_state(doc)
    vswitchd = ovs.pids()["ovs-vswitchd"]
    os.kill(vswitchd, signal.SIGSTOP)
    try:
        proc = popen(opdbus, "apply", *TIMEOUT, path)
        poll(lambda: bridge_in_ovsdb(ovs) or proc.poll() is not None)
        proc.kill()
        proc.communicate(timeout=HANG)
        # ovs-vswitchd resumes while the next apply runs
        proc = popen(opdbus, "apply", "--json", *TIMEOUT, path)
        time.sleep(1)
    finally:
        os.kill(vswitchd, signal.SIGCONT)
    out, err = proc.communicate(timeout=HANG)
    assert proc.returncode == 0, f"{out}\n{err}"
    res = json.loads(out)
    assert res["warnings"] == [], res["warnings"]
    assert netlab.opdbus_flows(ovs, "br0")
    check_converged(opdbus, ovs, path, doc)


# ---- the state directory ---------------------------------------------------------------


def in_namespace(setup, opdbus, *args, env=None):
    """Runs op-dbus in a private mount namespace, after the shell
    commands setup (which see $S, the state directory)."""
    cmd = ["unshare", "-m", "--propagation", "private", "sh", "-ec",
           f'{setup}\nexec "$0" "$@"', opdbus.binary, *(str(a) for a in args)]
    return subprocess.run(cmd, env={**opdbus.env, **NO_DAEMON, "S": opdbus.env["OPDBUS_STATE_DIR"], **(env or {})},
                          cwd=opdbus.cwd, capture_output=True, text=True, timeout=HANG)


def test_a_read_only_state_directory_changes_nothing(ovs, opdbus, tmp_state):
    opdbus.run("apply", tmp_state(small("p1")), check=0, env=NO_DAEMON)
    before = ovs.dump()
    res = in_namespace('mount --bind "$S" "$S"; mount -o remount,bind,ro "$S"', opdbus,
                       "apply", "--json", tmp_state(LARGE))
    assert res.returncode == 5, f"{res.stdout}\n{res.stderr}"
    out = json.loads(res.stdout)
    assert out["status"] == "unavailable" and out["changed"] is False, out
    state_dir = opdbus.env["OPDBUS_STATE_DIR"]
    assert out["errors"] == [f"cannot write the checkpoint of this apply in {state_dir}/checkpoints: "
                             "Read-only file system; nothing was changed"], out["errors"]
    assert ovs.dump() == before
    assert check_store(opdbus, ovs) == 1


def test_a_full_state_directory_changes_nothing(ovs, opdbus, tmp_state):
    """The state directory is a small file system, full: found before the
    host is touched, with what is free and what the apply needs."""
    opdbus.run("apply", tmp_state(small("p1")), check=0, env=NO_DAEMON)
    before = ovs.dump()
    copy = opdbus.cwd / "state-copy"
    subprocess.run(["cp", "-a", opdbus.env["OPDBUS_STATE_DIR"], str(copy)], check=True)
    res = in_namespace(f'mount -t tmpfs -o size=8m tmpfs "$S"; cp -a {copy}/. "$S"/; '
                       'dd if=/dev/zero of="$S/fill" bs=64k 2>/dev/null || true', opdbus,
                       "apply", "--json", tmp_state(LARGE))
    assert res.returncode == 5, f"{res.stdout}\n{res.stderr}"
    out = json.loads(res.stdout)
    assert out["status"] == "unavailable" and out["changed"] is False, out
    assert len(out["errors"]) == 1 and " has 0 bytes free, and this apply needs about " in out["errors"][0] \
        and out["errors"][0].endswith("(its checkpoint and op-dbus's records); nothing was changed"), out["errors"]
    assert ovs.dump() == before


def test_a_checkpoint_that_cannot_be_stored_rolls_the_apply_back(ovs, opdbus, tmp_state):
    """The state directory becomes read-only after the checkpoint was
    prepared and before it is stored: the apply is rolled back (exit 1),
    so that the applied state stays what the host has; the rows carry the
    generation of the state they are in."""
    first = tmp_state(small("p1", flows=False))
    second = tmp_state(small("p1", "p2", flows=False))
    opdbus.run("apply", first, check=0, env=NO_DAEMON)
    before = rows(ovs)
    proc = subprocess.Popen(
        ["unshare", "-m", "--propagation", "private", "sh", "-ec", 'mount --bind "$S" "$S"; exec "$0" "$@"',
         opdbus.binary, "-v", "apply", "--json", str(second)],
        env={**opdbus.env, **NO_DAEMON, "S": opdbus.env["OPDBUS_STATE_DIR"]}, cwd=opdbus.cwd,
        stdin=subprocess.DEVNULL, stdout=subprocess.PIPE, stderr=subprocess.PIPE, text=True)
    wait_line(proc, "checkpoint: generation 2 prepared")
    os.kill(proc.pid, signal.SIGSTOP)
    try:
        subprocess.run(["nsenter", "-t", str(proc.pid), "-m", "mount", "-o", "remount,bind,ro",
                        opdbus.env["OPDBUS_STATE_DIR"]], check=True)
    finally:
        os.kill(proc.pid, signal.SIGCONT)
    out, err = proc.communicate(timeout=HANG)
    assert proc.returncode == 1, f"{out}\n{err}"
    res = json.loads(out)
    assert res["rolled_back"] and res["generation"] == 1, res
    assert [e for e in res["errors"] if e.startswith(
        "the changes were verified, but their checkpoint cannot be stored in ")
        and e.endswith(": Read-only file system; rolling them back, since op-dbus would not know what the host has")
    ], res["errors"]
    assert rows(ovs) == before
    assert ovs.vsctl("get", "Bridge", "br0", "external_ids:op-dbus-generation") == '"1"'
    # the prepared checkpoint could not be removed either: it is only used
    # for flows that no stored checkpoint describes
    assert check_store(opdbus, ovs, pending=True) == 1
    opdbus.run("apply", second, check=0, env=NO_DAEMON)
    assert check_store(opdbus, ovs) == 2


def with_flow(doc, nw_dst):
    doc = json.loads(json.dumps(doc))
    doc["plugins"]["openflow"]["bridges"][0]["flows"] = [
        {"table": 30, "priority": 100, "match_fields": {"dl_type": "0x0800", "nw_dst": nw_dst},
         "actions": [{"type": "drop"}]}]
    return doc


def test_a_rollback_puts_back_the_flows_of_an_apply_that_did_not_finish(ovs, opdbus, tmp_state):
    """An apply that installed its flows and was killed before it stored
    its checkpoint leaves flows that the newest checkpoint does not have
    (the prepared checkpoint has them). A later apply that fails rolls
    back to the flows that were there, not to the older checkpoint's."""
    opdbus.run("apply", tmp_state(with_flow(small("p1"), "10.0.0.1")), check=0, env=NO_DAEMON)
    opdbus.run("apply", tmp_state(with_flow(small("p1"), "10.0.0.2")), check=0, env=NO_DAEMON)
    flows = netlab.opdbus_flows(ovs, "br0")
    assert [f for f in flows if "10.0.0.2" in f]
    # The store as such a kill leaves it: generation 2 prepared, not stored.
    cp = os.path.join(opdbus.env["OPDBUS_STATE_DIR"], "checkpoints")
    os.rename(os.path.join(cp, f"gen-{2:020d}.json"), os.path.join(cp, "pending.json"))

    res = opdbus.run("apply", "--json", tmp_state(with_flow(small("p1", "p2"), "10.0.0.3")), check=1,
                     env={**NO_DAEMON, "OPDBUS_FAULT_INJECT": "openflow"}, json=True).json
    assert res["rolled_back"], res
    assert "the flows on bridge br0 are those of an apply that did not finish (generation 2), not those of " \
           "the applied state" in res["notes"], res["notes"]
    assert netlab.opdbus_flows(ovs, "br0") == flows
    assert set(ovs.vsctl("list-ports", "br0").split()) == {"p1"}


# ---- the daemon and an apply without it -------------------------------------------------


def test_a_repair_does_not_undo_a_large_apply_made_without_the_daemon(start_daemon, opdbus, ovs, tmp_state):
    """The daemon runs; an apply without it (OPDBUS_NO_DAEMON=1) of 200
    ports and 10,000 flows changes OVSDB under the daemon's monitor, which
    starts a repair of the state it knew. The repair finds a newer
    generation once it has the lock and does not apply the older one."""
    d = start_daemon(small("p1"))
    mark = d.mark()
    log = d.log_mark()
    res = opdbus.run("apply", "--json", "--allow-outage", tmp_state(LARGE), check=0, env=NO_DAEMON,
                     timeout=HANG, json=True).json
    flows = netlab.opdbus_flows(ovs, "br0")
    assert len(flows) > 10000
    # The repair the change started has run, and a later audit too.
    time.sleep(3)
    d.wait_status("idle", 60)
    assert set(ovs.vsctl("list-ports", "br0").split()) == {p["name"] for p in
                                                           LARGE["plugins"]["net"]["bridges"][0]["ports"]}
    assert netlab.opdbus_flows(ovs, "br0") == flows
    assert d.signals("DriftDetected", since=mark) == [], d.log_tail()
    assert not [line for line in d.log_since(log) if line.startswith("drift repair")], d.log_tail()
    assert d.get("Generation") == res["generation"]
