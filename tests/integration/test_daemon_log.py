# SPDX-License-Identifier: LGPL-2.1-or-later
"""The daemon's log answers "what changed, when, and who asked": every
change is logged once, with who asked for it (start-up, SIGHUP, a method
call with the caller's uid and pid, a drift repair, a confirm timeout,
an OpenFlow reconnect), the generation, the objects and how it ended; each
line carries the time unless the log goes to the journal (docs/systemd.md,
"Logging"). The test reads the daemon's output (dbus_fixture.py)."""

import json
import os
import re
import time

import pytest

pytest.register_assert_rewrite("dbus_fixture")

from dbus_fixture import LOG_TIMESTAMP  # noqa: E402

pytest_plugins = ("dbus_fixture",)


def port(name):
    return {"name": name, "type": "internal"}


def state(ports=("p1",), bridge="br0", flows=False):
    plugins = {"net": {"bridges": [{"name": bridge, "datapath_type": "netdev",
                                    "ports": [port(p) for p in ports]}]}}
    if flows:
        plugins["openflow"] = {"enable_security_flows": False, "obfuscation_level": 0,
                               "bridges": [{"name": bridge}]}
    return {"version": 1, "plugins": plugins}


def the_line(d, mark, *words):
    """The one line after mark with all words; fails unless there is
    exactly one."""
    lines = [line for line in d.log_since(mark) if all(w in line for w in words)]
    assert len(lines) == 1, f"{len(lines)} lines with {words}:\n{d.log_tail()}"
    return lines[0]


def test_every_line_has_the_time_outside_the_journal(start_daemon):
    d = start_daemon(state())
    lines = [line for line in d.log_text().splitlines() if not line.startswith("==== ")]
    assert lines
    for line in lines:
        assert re.match(rf"^(<[0-7]>)?{LOG_TIMESTAMP}", line), line

    # Under the journal ($JOURNAL_STREAM names the stream stderr is), the
    # journal has the time: the lines do not.
    d.stop()
    st = os.stat(d.log_path)
    d.env["JOURNAL_STREAM"] = f"{st.st_dev}:{st.st_ino}"
    mark = d.log_mark()
    d.restart()
    d.sighup()
    d.wait_log(lambda line: line.startswith("SIGHUP"), 30, mark)
    new = [line for line in d.log_text()[mark:].splitlines() if not line.startswith("==== ")]
    assert new
    for line in new:
        assert not re.search(LOG_TIMESTAMP, line), line


def test_applies_are_logged_once_with_who_asked_and_the_objects(start_daemon, ovs):
    d = start_daemon(state(("p1",)))
    line = the_line(d, 0, "start-up", str(d.state_path))
    assert re.search(r"applied generation 1, 2 changes: create net/bridge/br0, "
                     r"create net/bridge/br0/port/p1$", line), line

    # ApplyState: the caller's uid and pid, the new generation, the objects.
    mark = d.log_mark()
    result = d.apply(state(("p1", "p2"))).result()
    line = the_line(d, mark, "ApplyState from uid 0, pid ")
    assert line.endswith(f"applied generation {result['generation']}, 1 change: "
                         "create net/bridge/br0/port/p2"), line

    # An apply that changes nothing says so.
    mark = d.log_mark()
    d.apply(state(("p1", "p2"))).result()
    line = the_line(d, mark, "ApplyState from uid 0")
    assert line.endswith(f"no changes, the host matches (generation {result['generation']})"), line

    # SIGHUP: the state file again.
    d.write_state(state(("p1", "p3")))
    mark, sig = d.log_mark(), d.mark()
    d.sighup()
    gen = d.wait_for("StateApplied", timeout=30, since=sig)["payload"]["data"][0]
    line = the_line(d, mark, "SIGHUP")
    assert line.endswith(f"applied generation {gen}, 2 changes: create net/bridge/br0/port/p3, "
                         "delete net/bridge/br0/port/p2"), line

    # Rollback.
    mark = d.log_mark()
    result = d.call_json("Rollback", "u", "0")
    line = the_line(d, mark, "Rollback from uid 0", "to the previous generation")
    assert line.endswith(f"applied generation {result['generation']}, 2 changes: "
                         "create net/bridge/br0/port/p2, delete net/bridge/br0/port/p3"), line

    # A refused document names the error; nothing changed.
    mark = d.log_mark()
    r = d.apply('{"version": 1, "plugins": {"net": {"bridges": [{"name": "br0", "ports": 3}]}}}')
    assert not r.ok
    line = the_line(d, mark, "ApplyState from uid 0")
    assert "refused, nothing changed: plugins.net.bridges[0].ports" in line, line

    # Reading calls are not changes.
    mark = d.log_mark()
    d.call_json("QueryState")
    d.call_json("Plan", "s", json.dumps(state(("p9",))))
    d.call_json("Verify")
    assert d.log_since(mark) == [], d.log_tail()


@pytest.mark.parametrize("fault", ["net"])
def test_a_failed_apply_is_logged_with_what_was_undone(start_daemon, ovs, fault):
    d = start_daemon(state(("p1",)))
    # Again with the fault: its start-up apply has nothing to change.
    d.stop()
    d.env["OPDBUS_FAULT_INJECT"] = fault
    d.restart()
    mark = d.log_mark()
    r = d.apply(state(("p1", "p2")))
    assert not r.ok
    line = the_line(d, mark, "ApplyState from uid 0", "failed and was rolled back")
    assert "fault injected" in line, line
    assert "attempted: create net/bridge/br0/port/p2" in line, line
    assert "undone: delete net/bridge/br0/port/p2" in line, line
    assert line.endswith("the host is back at generation 1 (verified)"), line


def test_drift_repairs_name_each_object(start_daemon, ovs):
    d = start_daemon(state(("p1", "p2", "p3")))
    mark, sig = d.log_mark(), d.mark()
    ovs.vsctl("del-port", "br0", "p1")
    ovs.vsctl("del-port", "br0", "p3")
    d.wait_for("DriftDetected", timeout=10, since=sig)
    d.wait_log(lambda line: "drift repair" in line and "p3" in line, 30, mark)
    repaired = [line for line in d.log_since(mark) if line.startswith("drift repair")]
    objects = [p for line in repaired for p in re.findall(r"create net/bridge/br0/port/p\d", line)]
    assert sorted(objects) == ["create net/bridge/br0/port/p1", "create net/bridge/br0/port/p3"], \
        d.log_tail()
    # A heal that finds nothing to do says nothing.
    mark = d.log_mark()
    time.sleep(1)
    assert not [line for line in d.log_since(mark) if "drift" in line], d.log_tail()


def test_confirm_timeout_logs_what_it_reverted(start_daemon, ovs):
    d = start_daemon(state(("p1",)))
    mark, sig = d.log_mark(), d.mark()
    result = d.apply(state(("p1", "q1")), confirm_timeout=2).result()
    gen = result["generation"]
    line = the_line(d, mark, "ApplyStateWithOptions from uid 0")
    assert re.search(rf"applied generation {gen}, 1 change: create net/bridge/br0/port/q1; "
                     rf"rolled back at \S+ unless confirmed \('op-dbus confirm'\)$", line), line

    rolled = d.wait_for("RolledBack", timeout=20, since=sig)
    back_gen, reason, result_json = rolled["payload"]["data"]
    line = the_line(d, mark, "confirm timeout")
    assert re.search(rf"^confirm timeout: generation {gen} was not confirmed by \S+: put the state "
                     rf"from before it back as generation {back_gen}, 1 change: "
                     r"delete net/bridge/br0/port/q1; verified$", line), line
    # The signal carries the same, and the result of the revert.
    assert reason == line
    revert = json.loads(result_json)
    assert revert["ok"] is True and revert["generation"] == back_gen
    assert [(c["action"], c["path"]) for c in revert["changes"]] == [("delete", "bridge/br0/port/q1")]


def test_confirm_is_logged_with_who_confirmed(start_daemon, ovs):
    d = start_daemon(state(("p1",)))
    gen = d.apply(state(("p1", "q1")), confirm_timeout=60).result()["generation"]
    mark = d.log_mark()
    assert d.call("Confirm").ok
    line = the_line(d, mark, "Confirm from uid 0")
    assert line.endswith(f"generation {gen} confirmed; it stays."), line


def test_a_vswitchd_restart_is_logged_with_the_flows_restored(start_daemon, ovs):
    d = start_daemon(state(("p1",), flows=True))
    mark, sig = d.log_mark(), d.mark()
    ovs.stop_vswitchd()
    ovs.start_vswitchd()
    d.wait_for("FlowsRestored", timeout=15, since=sig)
    line = d.wait_log(lambda line: "OpenFlow connection to br0 back" in line, 10, mark)
    assert re.search(r"\(ovs-vswitchd restarted, or the bridge was re-created\): restored \d+ flows: "
                     r"create openflow/bridge/br0/flows$", line), line



def test_no_lost_openflow_connection_when_op_dbus_deletes_the_bridge(start_daemon, ovs):
    """The bridge's OpenFlow connection ends because op-dbus deleted the
    bridge: the apply line says so; nothing about a lost connection."""
    d = start_daemon(state(("p1",), flows=True))
    mark = d.log_mark()
    # The flows move to br9 with it (a document that left the applied
    # state's flows on br0 would be refused: test_applied_state.py).
    result = d.apply(state(("q1",), bridge="br9", flows=True), allow_outage=("b", "true")).result()
    line = the_line(d, mark, "ApplyStateWithOptions from uid 0")
    assert "delete net/bridge/br0" in line and f"generation {result['generation']}" in line, line
    time.sleep(2)
    assert [line for line in d.log_since(mark) if "OpenFlow" in line] == [], d.log_tail()


def test_a_long_openflow_outage_is_a_warning(start_daemon, ovs):
    d = start_daemon(state(("p1",), flows=True))
    mark = d.log_mark()
    ovs.stop_vswitchd()
    try:
        line = d.wait_log(lambda line: "No OpenFlow connection to br0" in line, 40, mark)
        assert "ovs-vswitchd is not running, or the bridge is gone" in line, line
    finally:
        ovs.start_vswitchd()
    d.wait_log(lambda line: "OpenFlow connection to br0 back" in line, 30, mark)
