# SPDX-License-Identifier: LGPL-2.1-or-later
"""The op-dbus daemon (`op-dbus run`) over D-Bus.

Each test runs the daemon as root against a private Open vSwitch (`ovs`) and
a private bus modelled on the system bus (dbus_fixture.py), with the
project's policy (systemd/org.opdbus.conf) unless it says otherwise. Calls go
through busctl, as an operator's would; the error name of a failed call and
every signal come from a root monitor on that bus.

The contract is schemas/org.opdbus.StateManager.xml and docs/dbus.md. Who
may call what, and receives which signals, is test_access.py's.
"""

import fcntl
import json
import os
import re
import signal
import subprocess
import time

import pytest

pytest.register_assert_rewrite("dbus_fixture")

from dbus_fixture import (BUS_NAME, INTERFACE, INTERFACE_XML, OBJECT_PATH,  # noqa: E402
                          PROPERTIES, interface_members, options_args)
from ovs_sandbox import OvsSandbox  # noqa: E402

pytest_plugins = ("dbus_fixture",)

ERR = "org.opdbus.Error."
PROPERTY_NAMES = ("Version", "Status", "Generation", "LastResult", "StatePath", "Settings")
STATUSES = ("idle", "applying", "awaiting-confirm", "degraded")

# How fast the daemon must react (seconds), as documented in docs/dbus.md.
DRIFT_SIGNAL_WITHIN = 1.0
DRIFT_HEALED_WITHIN = 2.0
FLOWS_RESTORED_WITHIN = 2.0
# A read of a property while an apply runs.
PROMPT_READ = 1.0


# ---- states ------------------------------------------------------------------------


def port(name, **kw):
    return {"name": name, "type": "internal", **kw}


def bridge(name="br0", ports=("p1",), **kw):
    return {"name": name, "datapath_type": "netdev",
            "ports": [p if isinstance(p, dict) else port(p) for p in ports], **kw}


def state(*bridges, openflow=None):
    """A state with these bridges (default: br0 with port p1)."""
    plugins = {"net": {"bridges": list(bridges) if bridges else [bridge()]}}
    if openflow is not None:
        plugins["openflow"] = openflow
    return {"version": 1, "plugins": plugins}


def flows_state(bridge_name="br0"):
    """br0 with the table layout of openflow (no security flows, level 0)."""
    return state(bridge(bridge_name, ports=("p1",)),
                 openflow={"enable_security_flows": False, "obfuscation_level": 0,
                           "bridges": [{"name": bridge_name}]})


def many_ports(prefix, n=100):
    """br0 with n internal ports: an apply that takes a moment (~2 s)."""
    return state(bridge("br0", ports=[f"{prefix}{i}" for i in range(n)]))


# ---- host ---------------------------------------------------------------------------


def bridges_of(ovs):
    return set(ovs.vsctl("list-br").split())


def ports_of(ovs, bridge_name="br0"):
    if bridge_name not in bridges_of(ovs):
        return None
    return set(ovs.vsctl("list-ports", bridge_name).split())


OPDBUS_COOKIE_CLASSES = (0xDEAD, 0xCAFE, 0xBEEF, 0xD0B5, 0xF10C, 0xFACE)


def opdbus_flows(ovs, bridge_name="br0"):
    """op-dbus's flows on the bridge (its cookie classes), sorted, no stats."""
    out = ovs.ofctl("dump-flows", bridge_name, options=("-O", "OpenFlow14", "--no-stats"))
    flows = []
    for line in out.splitlines():
        m = re.search(r"cookie=(0x[0-9a-f]+)", line)
        if m and int(m.group(1), 16) >> 48 in OPDBUS_COOKIE_CLASSES:
            flows.append(line.strip())
    return sorted(flows)


def wait_until(predicate, timeout, interval=0.05):
    """Seconds until predicate() was true, or None after timeout."""
    start = time.monotonic()
    while True:
        if predicate():
            return time.monotonic() - start
        if time.monotonic() - start > timeout:
            return None
        time.sleep(interval)


def args_of(msg):
    return msg["payload"]["data"]


def paths(result, action=None):
    return {c["path"] for c in result["changes"] if action is None or c["action"] == action}


def cli_result_keys(opdbus, tmp_state):
    """The keys of `op-dbus plan --json` output (same as apply's)."""
    return set(opdbus.run("plan", "--json", tmp_state({"version": 1}, name="empty.json"),
                          check=0, json=True).json)


# ---- the private bus itself (no daemon needed) --------------------------------------


def test_private_bus_loads_the_project_policy(system_bus, opdbus_group):
    """The bus starts with systemd/org.opdbus.conf included; every kind of
    caller can connect; nobody but the daemon owns org.opdbus."""
    config = open(system_bus.config_path).read()
    assert "systemd/org.opdbus.conf</include>" in config
    for user in ("root", "opdbus", "nobody"):
        r = system_bus.busctl("--json=short", "call", "org.freedesktop.DBus",
                              "/org/freedesktop/DBus", "org.freedesktop.DBus", "GetId",
                              as_user=user)
        assert r.ok, r.describe()
    assert system_bus.name_owner(BUS_NAME) is None
    # A call to the absent service is answered by the bus, not refused.
    r = system_bus.busctl("call", BUS_NAME, OBJECT_PATH, INTERFACE, "QueryState")
    assert r.error_name == "org.freedesktop.DBus.Error.ServiceUnknown", r.describe()


# ---- contract -----------------------------------------------------------------------


def test_introspection_matches_the_contract(opdbus_daemon):
    live = interface_members(opdbus_daemon.introspect_xml())
    contract = interface_members(INTERFACE_XML.read_text())
    assert live["methods"] == contract["methods"]
    assert live["signals"] == contract["signals"]
    assert live["properties"] == contract["properties"]


def test_introspection_change_signals_match_the_contract(opdbus_daemon):
    """EmitsChangedSignal as in the contract: Version const, the others
    emit PropertiesChanged (no annotation = "true")."""
    live = interface_members(opdbus_daemon.introspect_xml())
    contract = interface_members(INTERFACE_XML.read_text())
    assert live["emits_changed"] == contract["emits_changed"]


def test_initial_properties(opdbus_daemon, opdbus):
    d = opdbus_daemon
    assert d.get("Status") == "idle"
    assert d.get("Generation") == 0
    assert d.get("StatePath") == str(d.state_path)
    version = opdbus.run("version", check=0).stdout.strip()
    assert d.get("Version") and d.get("Version") in version
    r = d.busctl("--json=short", "call", BUS_NAME, OBJECT_PATH, PROPERTIES, "GetAll", "s",
                 INTERFACE)
    assert r.ok, r.describe()
    assert set(r.data[0]) == set(PROPERTY_NAMES)


def test_ready_notification_after_the_first_apply(start_daemon, ovs):
    """With NOTIFY_SOCKET set, READY=1 comes after the state file was applied."""
    d = start_daemon(state(), wait=False)
    ready = d.notify.wait_for("READY=1", 60)
    assert ready is not None, f"no READY=1 on NOTIFY_SOCKET\n{d.log_tail()}"
    assert ports_of(ovs) == {"p1"}
    d.wait_ready()
    assert d.get("Generation") >= 1
    assert json.loads(d.get("LastResult"))["ok"] is True


# ---- apply, plan, query ---------------------------------------------------------------


def test_apply_state(opdbus_daemon, ovs, opdbus, tmp_state):
    d = opdbus_daemon
    gen0 = d.get("Generation")
    mark = d.mark()
    r = d.apply(state(bridge("br0", ports=("p1",))))
    assert r.ok, r.describe()
    result = r.result()

    # Same document as `op-dbus apply --json`.
    assert set(result) == cli_result_keys(opdbus, tmp_state)
    assert result["ok"] is True and result["status"] == "ok"
    assert result["changed"] is True and result["dry_run"] is False
    assert {"bridge/br0", "bridge/br0/port/p1"} <= paths(result, "create")
    gen = result["generation"]
    assert gen > gen0
    assert ports_of(ovs) == {"p1"}

    applied = d.wait_for("StateApplied", since=mark, predicate=lambda a: a[0] == gen)
    assert isinstance(json.loads(args_of(applied)[1]), (dict, list))
    value = d.wait_property_changed("Generation", since=mark)
    assert value in (gen, None)  # None: invalidated only
    d.wait_property_changed("LastResult", since=mark)
    assert d.get("Generation") == gen
    assert json.loads(d.get("LastResult")) == result
    assert d.get("Status") == "idle"

    # Status went through "applying" and back, announced by PropertiesChanged.
    statuses = [c["Status"] for c, _ in d.properties_changed(mark) if "Status" in c]
    assert "applying" in statuses and statuses[-1] == "idle", statuses


def test_apply_unchanged_state_changes_nothing(opdbus_daemon, ovs):
    d = opdbus_daemon
    first = d.apply(state()).result()
    dump = ovs.config_dump()
    again = d.apply(state()).result()
    assert again["ok"] is True and again["changed"] is False
    assert again["counts"]["ovsdb_ops"] == 0
    assert ovs.config_dump() == dump
    assert d.get("Generation") == first["generation"]


def test_apply_with_options(opdbus_daemon, ovs):
    d = opdbus_daemon
    doc = flows_state()

    # dry_run: the plan, nothing changes.
    gen0 = d.get("Generation")
    result = d.apply(doc, dry_run=True).result()
    assert result["dry_run"] is True and result["ok"] is True
    assert "bridge/br0" in paths(result, "create")
    assert "br0" not in bridges_of(ovs)
    assert d.get("Generation") == gen0

    # plugins: only the net section is applied, and the daemon does not
    # add the rest by itself afterwards (as drift of the openflow section).
    mark = d.mark()
    result = d.apply(doc, plugins=["net"]).result()
    assert result["ok"] is True
    assert {c["plugin"] for c in result["changes"]} == {"net"}
    assert ports_of(ovs) == {"p1"}
    time.sleep(3)
    assert opdbus_flows(ovs) == []
    assert d.signals("DriftDetected", since=mark) == []

    # Everything.
    result = d.apply(doc, plugins=["net", "openflow"]).result()
    assert {c["plugin"] for c in result["changes"]} == {"openflow"}
    assert len(opdbus_flows(ovs)) > 0


def test_plan(opdbus_daemon, ovs, opdbus, tmp_state):
    d = opdbus_daemon
    doc = state(bridge("br0", ports=("p1", "p2")))
    gen0 = d.get("Generation")
    mark = d.mark()
    r = d.call("Plan", "s", json.dumps(doc))
    assert r.ok, r.describe()
    plan = r.result()
    assert plan["dry_run"] is True and plan["ok"] is True
    assert paths(plan, "create") == {"bridge/br0", "bridge/br0/port/p1", "bridge/br0/port/p2"}
    assert "br0" not in bridges_of(ovs)
    assert d.get("Generation") == gen0
    assert d.signals("StateApplied", since=mark) == []

    cli = opdbus.run("plan", "--json", tmp_state(doc), check=0, json=True).json
    assert plan["changes"] == cli["changes"]
    assert set(plan) == set(cli)


def test_query_state_and_plugin_match_the_cli(opdbus_daemon, ovs, opdbus):
    d = opdbus_daemon
    d.apply(state(bridge("br0", ports=(port("p1", tag=10), "p2")),
                  bridge("br1", ports=("p3",)))).result()
    query = d.call_json("QueryState")
    assert query == opdbus.run("query", check=0, json=True).json
    assert {b["name"] for b in query["plugins"]["net"]["bridges"]} == {"br0", "br1"}

    net = d.call_json("QueryPlugin", "s", "net")
    assert net == opdbus.run("query", "--plugin", "net", check=0, json=True).json["plugins"]["net"]

    # Nothing of netmaker's on the host: no section in QueryState, null here.
    assert "netmaker" not in query["plugins"]
    assert d.call_json("QueryPlugin", "s", "netmaker") is None

    r = d.call("QueryPlugin", "s", "nosuchplugin")
    assert r.error_name == ERR + "InvalidState", r.describe()
    assert 'unknown plugin "nosuchplugin", expected one of: ' in r.error_message


def test_list_checkpoints_matches_the_cli(opdbus_daemon, ovs, opdbus):
    d = opdbus_daemon
    assert d.call_json("ListCheckpoints") == []
    g1 = d.apply(state(bridge("br0", ports=("p1",)))).result()["generation"]
    g2 = d.apply(state(bridge("br0", ports=("p1", "p2")))).result()["generation"]
    g3 = d.apply(state(bridge("br0", ports=("p1",))), source=("s", "/root/state.json")).result()["generation"]
    g4 = d.call_json("Rollback", "u", str(g2))["generation"]
    listed = d.call_json("ListCheckpoints")
    assert listed == opdbus.run("checkpoints", "--json", check=0, json=True).json
    assert [c["generation"] for c in listed][-4:] == [g1, g2, g3, g4]
    assert all(set(c) == {"generation", "created", "path", "record"} for c in listed)
    # The audit trail: who (the caller's credentials, as the bus tells
    # them), from what, why and what changed.
    records = {c["generation"]: c["record"] for c in listed}
    assert records[g2]["reason"] == "apply" and records[g2]["source"] == "D-Bus ApplyState"
    assert records[g2]["uid"] == 0 and records[g2]["process"] == "busctl" and records[g2]["pid"] > 0
    assert records[g2]["changes"] == {"total": 1, "create": 1}
    assert records[g2]["actions"] == ["create net bridge/br0/port/p2: " + records[g2]["actions"][0].split(": ", 1)[1]]
    assert records[g3]["source"] == "D-Bus ApplyStateWithOptions: /root/state.json"
    assert records[g3]["changes"] == {"total": 1, "delete": 1}
    assert records[g4]["reason"] == "rollback" and records[g4]["source"] == f"checkpoint {g2}"
    assert records[g4]["process"] == "busctl"
    text = opdbus.run("checkpoints").stdout
    assert re.search(rf"^{g4} +\S+ +rollback +1 +uid 0, busctl\[\d+\] +checkpoint {g2}$", text, re.M), text
    assert "           create net bridge/br0/port/p2" in text


def test_verify(opdbus_daemon, ovs):
    d = opdbus_daemon
    d.apply(state(bridge("br0", ports=("p1",)))).result()
    report = d.call_json("Verify")
    assert report["ok"] is True and report["status"] == "ok"
    assert report["changes"] == []


def test_rollback(opdbus_daemon, ovs):
    d = opdbus_daemon
    ga = d.apply(state(bridge("br0", ports=("p1",)))).result()["generation"]
    gb = d.apply(state(bridge("br0", ports=("p1", "p2")))).result()["generation"]
    assert ports_of(ovs) == {"p1", "p2"}

    # 0: the checkpoint before the newest one.
    mark = d.mark()
    result = d.call_json("Rollback", "u", "0")
    assert result["ok"] is True and result["changed"] is True
    assert paths(result, "delete") == {"bridge/br0/port/p2"}
    assert ports_of(ovs) == {"p1"}
    assert result["generation"] > gb
    assert d.get("Generation") == result["generation"]
    d.wait_property_changed("Generation", since=mark)
    # As dbus.md says: RolledBack for a requested rollback too.
    rolled = d.wait_for("RolledBack", since=mark)
    generation, reason, rolled_result = rolled["payload"]["data"]
    assert generation == result["generation"]
    assert reason.startswith("Rollback from uid 0, pid ") and reason.endswith(
        f", to the previous generation: applied generation {generation}, 1 change: delete net/bridge/br0/port/p2"), reason
    assert json.loads(rolled_result)["ok"] is True
    assert d.call_json("Verify")["ok"] is True

    # A generation by number.
    result = d.call_json("Rollback", "u", str(gb))
    assert ports_of(ovs) == {"p1", "p2"}
    assert result["generation"] > ga


def test_removing_a_bridge_with_ports_needs_allow_outage(start_daemon, ovs, opdbus):
    d = start_daemon(state(bridge("br0", ports=("p1",))))
    gen = d.get("Generation")
    before = ovs.config_dump()
    other = state(bridge("br1", ports=("q1",)))

    r = d.apply(other)
    assert r.error_name == ERR + "InvalidState", r.describe()
    assert ("bridge/br0: delete would cut off the traffic of its port p1; refused, nothing was "
            "changed (to accept the outage: --allow-outage, or the D-Bus option allow_outage)"
            ) in r.error_message, r.describe()
    r = d.apply(other, allow_outage=("b", "false"))
    assert r.error_name == ERR + "InvalidState", r.describe()
    assert ovs.config_dump() == before and d.get("Generation") == gen

    # through the daemon, the CLI passes its flag on
    since = d.bus.monitor.mark()
    cli = opdbus.run("apply", "-", input=json.dumps(other), check=2,
                     env={"DBUS_SYSTEM_BUS_ADDRESS": d.bus.address})
    assert "refused, nothing was changed" in cli.stderr, cli.stderr
    assert ovs.config_dump() == before
    opdbus.run("apply", "--allow-outage", "-", input=json.dumps(other), check=0,
               env={"DBUS_SYSTEM_BUS_ADDRESS": d.bus.address})
    assert bridges_of(ovs) == {"br1"} and ports_of(ovs, "br1") == {"q1"}
    call_seen(d, "ApplyStateWithOptions", since)

    # a rollback to br0 would remove br1 with q1
    r = d.call("Rollback", "u", "0")
    assert r.error_name == ERR + "InvalidState", r.describe()
    assert "bridge/br1: delete would cut off the traffic of its port q1; refused" in r.error_message
    assert bridges_of(ovs) == {"br1"}
    result = d.call_json("RollbackWithOptions", "ua{sv}", "0", "1", "allow_outage", "b", "true")
    assert result["ok"] is True
    assert bridges_of(ovs) == {"br0"} and ports_of(ovs) == {"p1"}
    r = d.call("RollbackWithOptions", "ua{sv}", "0", "1", "dry_run", "b", "true")
    assert r.error_name == "org.freedesktop.DBus.Error.InvalidArgs", r.describe()


def test_rollback_without_checkpoint(opdbus_daemon, ovs):
    d = opdbus_daemon
    r = d.call("Rollback", "u", "0")
    assert r.error_name == ERR + "NoCheckpoint", r.describe()
    d.apply(state()).result()
    for to in ("0", "999"):
        r = d.call("Rollback", "u", to)
        assert r.error_name == ERR + "NoCheckpoint", r.describe()
    assert ports_of(ovs) == {"p1"}


def test_restore_flows_method(start_daemon, ovs):
    d = start_daemon(flows_state())
    wanted = opdbus_flows(ovs)
    assert wanted
    ovs.ofctl("del-flows", "br0", "cookie=0xd0b5000000000000/0xffff000000000000")
    result = d.call_json("RestoreFlows", "ss", "", "br0")
    assert result["ok"] is True
    assert opdbus_flows(ovs) == wanted
    result = d.call_json("RestoreFlows", "ss", "", "")
    assert result["ok"] is True
    assert opdbus_flows(ovs) == wanted
    r = d.call("RestoreFlows", "ss", "", "nosuch")
    assert r.error_name == ERR + "InvalidState", r.describe()
    assert r.error_message.startswith('plugins.openflow.bridges: no bridge "nosuch" among those the applied state '
                                      "puts flows on (br0)"), r.error_message


# ---- errors ---------------------------------------------------------------------------


def test_invalid_json_is_invalid_state(opdbus_daemon, ovs):
    d = opdbus_daemon
    gen0 = d.get("Generation")
    for member, sig, args in (("ApplyState", "s", ()),
                              ("ApplyStateWithOptions", "sa{sv}", options_args(dry_run=False)),
                              ("Plan", "s", ())):
        r = d.call(member, sig, '{"version": 1, "plugins": {', *args)
        assert r.error_name == ERR + "InvalidState", r.describe()
        # Like the CLI: "<where>:LINE:COLUMN: invalid JSON: ..."
        assert re.search(r"1:\d+: invalid JSON", r.error_message), r.error_message
    assert d.get("Generation") == gen0
    assert bridges_of(ovs) == set()


def test_state_over_the_bus_is_strict_json(opdbus_daemon, ovs):
    """What json-c would accept (comments, trailing commas, a key given
    twice, of which it keeps the last) is refused, at its place."""
    d = opdbus_daemon
    two_ports = ('{"version": 1, "plugins": {"net": {"bridges": [{"name": "br0", "datapath_type": "netdev",\n'
                 ' "ports": [{"name": "p1", "type": "internal"}],\n'
                 ' "ports": [{"name": "p2", "type": "internal"}]}]}}}')
    cases = [
        ('{"version": 1, "plugins": {"net": {"bridges": [{"name": "br0"},]}}}',
         r"^plugins\.net\.bridges: <bus>:1:64: invalid JSON: a comma before '\]'"),
        ('{"version": 1, // the node\n "plugins": {}}',
         r"^<bus>:1:16: invalid JSON: a comment: JSON has no comments"),
        (two_ports, r"^plugins\.net\.bridges\[0\]\.ports: this key is given twice in one object, "
                    r"at <bus>:2:2 and at <bus>:3:2"),
    ]
    for text, error in cases:
        for member, sig, args in (("ApplyState", "s", ()),
                                  ("ApplyStateWithOptions", "sa{sv}", options_args(dry_run=False)),
                                  ("Plan", "s", ())):
            r = d.call(member, sig, text, *args)
            assert r.error_name == ERR + "InvalidState", r.describe()
            assert re.search(error, r.error_message, re.M), r.error_message
    assert d.get("Generation") == 0
    assert bridges_of(ovs) == set()


def test_invalid_state_names_the_json_path(opdbus_daemon, ovs):
    d = opdbus_daemon
    bad = state(bridge("br0", ports=(port("p1", type="bogus"),)))
    mark = d.mark()
    for member, sig, args in (("ApplyState", "s", ()),
                              ("ApplyStateWithOptions", "sa{sv}", options_args(confirm_timeout=30)),
                              ("Plan", "s", ())):
        r = d.call(member, sig, json.dumps(bad), *args)
        assert r.error_name == ERR + "InvalidState", r.describe()
        assert "plugins.net.bridges[0].ports[0].type" in r.error_message, r.error_message
    assert d.get("Generation") == 0
    assert d.get("Status") == "idle"
    assert bridges_of(ovs) == set()
    assert d.signals("StateApplied", since=mark) == []


def test_confirm_without_pending_apply(opdbus_daemon):
    r = opdbus_daemon.call("Confirm")
    assert r.error_name == ERR + "NotPending", r.describe()


@pytest.mark.parametrize("fault", ["net"])
def test_apply_failed_is_rolled_back(start_daemon, ovs, fault):
    """A plugin fails after writing (OPDBUS_FAULT_INJECT): ApplyFailed and
    the host is as before."""
    d = start_daemon(env={"OPDBUS_FAULT_INJECT": fault})
    mark = d.mark()
    r = d.apply(state())
    assert r.error_name == ERR + "ApplyFailed", r.describe()
    assert bridges_of(ovs) == set()
    assert d.get("Generation") == 0
    assert d.get("Status") == "idle"
    assert d.signals("StateApplied", since=mark) == []
    # As dbus.md says: RolledBack for a failed apply, with its first error.
    rolled = d.wait_for("RolledBack", since=mark)
    assert f"failed and was rolled back: {fault}: fault injected after apply" in rolled["payload"]["data"][1], rolled


def test_busy_when_another_apply_holds_the_lock(start_daemon, ovs):
    """`op-dbus apply` from a shell holds $OPDBUS_RUN_DIR/apply.lock; the
    daemon waits --lock-timeout, then answers Busy."""
    d = start_daemon(lock_timeout=1)
    lock_path = os.path.join(ovs.env()["OPDBUS_RUN_DIR"], "apply.lock")
    fd = os.open(lock_path, os.O_RDWR | os.O_CREAT, 0o600)
    try:
        fcntl.flock(fd, fcntl.LOCK_EX)
        r = d.apply(state())
        assert r.error_name == ERR + "Busy", r.describe()
        assert r.seconds < 15
        assert bridges_of(ovs) == set()
        assert d.get("Status") == "idle"
    finally:
        os.close(fd)
    assert d.apply(state()).result()["ok"] is True
    assert ports_of(ovs) == {"p1"}


# ---- concurrency ----------------------------------------------------------------------


def start_call(d, member, signature, *args):
    """A busctl call running in the background (Popen)."""
    cmd = ["busctl", f"--address={d.bus.address}", "--json=short", "--timeout=120", "call",
           BUS_NAME, OBJECT_PATH, INTERFACE, member, signature, *args]
    return subprocess.Popen(cmd, stdout=subprocess.PIPE, stderr=subprocess.PIPE, text=True,
                            env={**os.environ, "DBUS_SYSTEM_BUS_ADDRESS": d.bus.address})


def call_seen(d, member, since, timeout=10):
    """Wait until the bus has routed a call of member to the daemon."""
    msg = d.bus.monitor.wait_until(
        lambda m: m.get("type") == "method_call" and m.get("member") == member
        and m.get("destination") in (BUS_NAME, d.unique_name), timeout, since)
    assert msg is not None, f"no {member} call seen on the bus"
    return msg


def test_status_is_applying_while_an_apply_runs(opdbus_daemon, ovs):
    d = opdbus_daemon
    mark = d.mark()
    call = start_call(d, "ApplyState", "s", json.dumps(many_ports("a")))
    call_seen(d, "ApplyState", mark)
    seen, slowest = [], 0.0
    while call.poll() is None:
        start = time.monotonic()
        value = d.get("Status")
        took = time.monotonic() - start
        if call.poll() is None:  # the apply was still running after the read
            seen.append(value)
            slowest = max(slowest, took)
        time.sleep(0.02)
    out, err = call.communicate()
    assert call.returncode == 0, err
    assert json.loads(json.loads(out)["data"][0])["ok"] is True
    assert "applying" in seen, f"Status during the apply: {seen}"
    assert set(seen) <= set(STATUSES), seen
    assert slowest < PROMPT_READ, f"reading Status took {slowest:.2f}s during an apply"
    assert d.get("Status") == "idle"
    assert len(ports_of(ovs)) == 100


def test_concurrent_applies_do_not_interleave(opdbus_daemon, ovs):
    """Two applies at once: both succeed one after the other, or the second
    gets Busy. Never a mix of both states."""
    d = opdbus_daemon
    docs = {"a": many_ports("a"), "b": many_ports("b")}
    mark = d.mark()
    calls = {"a": start_call(d, "ApplyState", "s", json.dumps(docs["a"]))}
    call_seen(d, "ApplyState", mark)
    calls["b"] = start_call(d, "ApplyState", "s", json.dumps(docs["b"]))
    outcome = {}
    for key, call in calls.items():
        out, err = call.communicate(timeout=180)
        outcome[key] = json.loads(json.loads(out)["data"][0]) if call.returncode == 0 else err
    ports = ports_of(ovs)
    want = {k: {p["name"] for p in docs[k]["plugins"]["net"]["bridges"][0]["ports"]} for k in docs}

    assert isinstance(outcome["a"], dict) or isinstance(outcome["b"], dict), outcome
    if isinstance(outcome["a"], dict) and isinstance(outcome["b"], dict):
        first, second = sorted(("a", "b"), key=lambda k: outcome[k]["generation"])
        assert outcome[second]["generation"] == outcome[first]["generation"] + 1
        # The second started from the first's result, complete.
        assert paths(outcome[first], "delete") == set()
        assert paths(outcome[second], "delete") == {f"bridge/br0/port/{p}" for p in want[first]}
        assert paths(outcome[second], "create") == {f"bridge/br0/port/{p}" for p in want[second]}
        assert ports == want[second]
    else:
        # One of them was refused, as Busy, and the host is the other's.
        done = "a" if isinstance(outcome["a"], dict) else "b"
        refused = "b" if done == "a" else "a"
        errors = d.bus.monitor.error_for(mark, member="ApplyState")
        assert [e.get("error_name") for _, e in errors] == [ERR + "Busy"], outcome[refused]
        assert ports == want[done]
    applied = [args_of(m)[0] for m in d.signals("StateApplied", since=mark)]
    assert applied == sorted(o["generation"] for o in outcome.values() if isinstance(o, dict))


def test_a_repair_does_not_undo_an_apply_made_without_the_daemon(start_daemon, opdbus, ovs,
                                                                    tmp_state):
    """An apply without the daemon (OPDBUS_NO_DAEMON=1) holds the lock; a
    change in OVSDB meanwhile makes the daemon start a drift repair, which
    reads the applied state and waits for the lock. When it gets the lock,
    the applied state is the one the other apply stored: the repair must
    not put the older one back."""
    d = start_daemon(state(bridge("br0", ports=("p1",))))
    want = {"p1", *(f"a{i}" for i in range(60))}
    path = tmp_state(state(bridge("br0", ports=sorted(want))))
    lock = os.path.join(ovs.env()["OPDBUS_RUN_DIR"], "apply.lock")
    fd = os.open(lock, os.O_RDWR | os.O_CREAT, 0o600)
    cli = subprocess.Popen([opdbus.binary, "apply", str(path)],
                           env={**opdbus.env, "OPDBUS_NO_DAEMON": "1"}, cwd=opdbus.cwd,
                           stdin=subprocess.DEVNULL, stdout=subprocess.PIPE,
                           stderr=subprocess.PIPE, text=True)
    try:
        # Stop the apply while it holds the lock.
        while True:
            try:
                fcntl.flock(fd, fcntl.LOCK_EX | fcntl.LOCK_NB)
                fcntl.flock(fd, fcntl.LOCK_UN)
                assert cli.poll() is None, "the apply ended before it was seen holding the lock"
                time.sleep(0.001)
            except BlockingIOError:
                os.kill(cli.pid, signal.SIGSTOP)
                break
        # A change of someone else's: the daemon starts a repair, which
        # waits for the lock.
        mark = d.mark()
        ovs.vsctl("--no-wait", "add-br", "xbr", "--", "set", "bridge", "xbr", "datapath_type=netdev")
        d.wait_status("applying", 10)
        time.sleep(0.5)
    finally:
        os.kill(cli.pid, signal.SIGCONT)
        os.close(fd)
    out, err = cli.communicate(timeout=120)
    assert cli.returncode == 0, f"{out}\n{err}"
    d.wait_status("idle", 30)
    assert ports_of(ovs) == want
    assert d.signals("DriftDetected", since=mark) == [], d.log_tail()
    assert not [line for line in d.log_since() if line.startswith("drift repair")], d.log_tail()


# ---- confirm window -------------------------------------------------------------------


def with_br1(doc):
    doc = json.loads(json.dumps(doc))
    doc["plugins"]["net"]["bridges"].append(bridge("br1", ports=("q1",)))
    return doc


def test_confirm_timeout_rolls_back(start_daemon, ovs):
    base = state(bridge("br0", ports=("p1",)))
    d = start_daemon(base)
    mark = d.mark()
    result = d.apply(with_br1(base), confirm_timeout=2).result()
    returned = time.monotonic()
    assert result["ok"] is True
    assert ports_of(ovs, "br1") == {"q1"}
    assert d.get("Status") == "awaiting-confirm"
    pending = d.wait_for("ConfirmPending", since=mark)
    assert 0 < args_of(pending)[0] <= 2

    rolled = d.wait_for("RolledBack", timeout=15, since=mark)
    waited = rolled["_t"] - returned
    assert waited > 1.5, f"rolled back after {waited:.2f}s, the window was 2s"
    assert isinstance(args_of(rolled)[1], str) and args_of(rolled)[1]
    assert "br1" not in bridges_of(ovs)
    assert ports_of(ovs, "br0") == {"p1"}
    d.wait_status("idle", 5)
    assert d.call_json("Verify")["ok"] is True


def test_confirm_keeps_the_state(start_daemon, ovs):
    base = state(bridge("br0", ports=("p1",)))
    d = start_daemon(base)
    mark = d.mark()
    d.apply(with_br1(base), confirm_timeout=2).result()
    assert d.get("Status") == "awaiting-confirm"
    r = d.call("Confirm")
    assert r.ok, r.describe()
    assert d.get("Status") == "idle"
    time.sleep(3.5)  # past the window
    assert d.signals("RolledBack", since=mark) == []
    assert ports_of(ovs, "br1") == {"q1"}
    assert d.call("Confirm").error_name == ERR + "NotPending"


def test_crash_inside_the_confirm_window_rolls_back(start_daemon, ovs):
    """SIGKILL while an apply awaits confirmation: the next start puts the
    state before that apply back. (No state file, so that the start itself
    applies nothing.)"""
    d = start_daemon()
    base = state(bridge("br0", ports=("p1",)))
    d.apply(base).result()
    d.apply(with_br1(base), confirm_timeout=5).result()
    assert d.get("Status") == "awaiting-confirm"
    d.kill()
    assert ports_of(ovs, "br1") == {"q1"}  # nobody rolled back yet

    mark = d.mark()
    d.restart()
    took = wait_until(lambda: "br1" not in bridges_of(ovs), 5 + 15)
    assert took is not None, (f"br1 still there after the restart; signals:\n"
                              f"{d.bus.monitor.describe(mark)}")
    assert ports_of(ovs, "br0") == {"p1"}
    d.wait_status("idle", 10)
    print(f"rolled back {took:.2f}s after the restart; RolledBack signal: "
          f"{bool(d.signals('RolledBack', since=mark))}")


# ---- watching the host ----------------------------------------------------------------


def test_drift_is_detected_and_healed(start_daemon, ovs, record_property):
    d = start_daemon(state(bridge("br0", ports=("p1", "p2"))))
    mark = d.mark()
    start = time.monotonic()
    ovs.vsctl("--no-wait", "del-port", "br0", "p1")
    drift = d.wait_for("DriftDetected", timeout=10, since=mark,
                       predicate=lambda a: a[0] == "net" and "p1" in a[1])
    detected = drift["_t"] - start
    waited = time.monotonic() - start
    healed = wait_until(lambda: ports_of(ovs) == {"p1", "p2"}, 10)
    healed = None if healed is None else waited + healed
    record_property("drift_detected_s", round(detected, 3))
    record_property("drift_healed_s", None if healed is None else round(healed, 3))
    print(f"DriftDetected after {detected:.3f}s, port back after {healed:.3f}s"
          if healed is not None else f"DriftDetected after {detected:.3f}s, port not back")
    assert isinstance(json.loads(args_of(drift)[2]), dict)
    assert detected <= DRIFT_SIGNAL_WITHIN, f"DriftDetected after {detected:.2f}s"
    assert healed is not None and healed <= DRIFT_HEALED_WITHIN, f"port back after {healed}s"
    assert d.call_json("Verify")["ok"] is True


def test_a_heal_does_not_cut_traffic_off(start_daemon, ovs):
    """A heal that would delete a bridge with ports (here one that carries
    op-dbus's tag, as an earlier state's bridge would) is refused: the drift
    is reported, not repaired, and the daemon says why."""
    d = start_daemon(state(bridge("br0", ports=("p1",))))
    mark = d.mark()
    ovs.vsctl("add-br", "brx", "--", "set", "Bridge", "brx", "datapath_type=netdev",
              "external_ids:op-dbus-owner=op-dbus",
              "--", "add-port", "brx", "px", "--", "set", "Interface", "px", "type=internal")
    drift = d.wait_for("DriftDetected", timeout=10, since=mark,
                       predicate=lambda a: a[1] == "bridge/brx")
    detail = json.loads(args_of(drift)[2])
    assert detail["healed"] is False and detail["outage"] == "cut off the traffic of its port px", detail
    assert bridges_of(ovs) == {"br0", "brx"} and ports_of(ovs, "brx") == {"px"}
    assert wait_until(lambda: "drift repair (Open vSwitch changed): refused, nothing changed: bridge/brx: delete would "
                      "cut off the traffic of its port px; refused" in d.log_text(), 10) is not None, d.log_tail()


def test_drift_report_mode_is_not_healed(start_daemon, ovs):
    """drift: report leaves the difference; Verify reports it."""
    d = start_daemon(state(bridge("br0", ports=("p1", "p2"), drift="report")))
    ovs.vsctl("del-port", "br0", "p1")
    time.sleep(2)
    assert ports_of(ovs) == {"p2"}
    r = d.call("Verify")
    assert r.ok, r.describe()
    report = r.result()
    assert report["ok"] is False and report["status"] == "drift"
    assert "bridge/br0/port/p1" in paths(report)


def test_drift_report_mode_emits_drift_detected(start_daemon, ovs):
    d = start_daemon(state(bridge("br0", ports=("p1", "p2"), drift="report")))
    mark = d.mark()
    ovs.vsctl("del-port", "br0", "p1")
    drift = d.wait_for("DriftDetected", timeout=5, since=mark,
                       predicate=lambda a: a[0] == "net" and "p1" in a[1])
    assert isinstance(json.loads(args_of(drift)[2]), dict)
    assert ports_of(ovs) == {"p2"}


def test_flows_restored_after_vswitchd_restart(start_daemon, ovs, record_property):
    d = start_daemon(flows_state())
    before = opdbus_flows(ovs)
    assert before, "the table layout was not installed"
    mark = d.mark()
    ovs.stop_vswitchd()
    ovs.start_vswitchd()
    ready = time.monotonic()
    restored = d.wait_for("FlowsRestored", timeout=15, since=mark,
                          predicate=lambda a: a[0] == "br0")
    after = restored["_t"] - ready
    record_property("flows_restored_s", round(after, 3))
    print(f"FlowsRestored {after:.3f}s after ovs-vswitchd was ready")
    assert after <= FLOWS_RESTORED_WITHIN, f"FlowsRestored {after:.2f}s after the restart"
    assert args_of(restored)[1] == len(before)
    assert wait_until(lambda: opdbus_flows(ovs) == before, 2) is not None
    assert d.get("Status") == "idle"


def test_flows_deleted_by_hand_are_restored_by_the_audit(start_daemon, ovs, record_property):
    d = start_daemon(flows_state(), audit_interval=1)
    before = opdbus_flows(ovs)
    assert before
    ovs.ofctl("del-flows", "br0", "cookie=0xd0b5000000000000/0xffff000000000000")
    assert opdbus_flows(ovs) == []
    took = wait_until(lambda: opdbus_flows(ovs) == before, 5)
    record_property("audit_restored_s", took)
    assert took is not None, "the flows were not restored within 5s (audit interval 1s)"
    # the next audit (every second) may be running: idle once it is done
    assert wait_until(lambda: d.get("Status") == "idle", 5) is not None, d.get("Status")


def test_degraded_while_ovsdb_is_down(start_daemon, ovs):
    d = start_daemon(state(bridge("br0", ports=("p1", "p2"))))
    bridge_uuid = ovs.vsctl("get", "Bridge", "br0", "_uuid")
    p1_uuid = ovs.vsctl("get", "Port", "p1", "_uuid")

    ovs.stop_ovsdb()
    d.wait_status("degraded", 15)
    time.sleep(1)
    assert d.running(), f"the daemon exited without OVSDB\n{d.log_tail()}"
    for member, sig, args in (("QueryState", "", ()), ("ApplyState", "s", (json.dumps(state()),))):
        r = d.call(member, sig, *args, timeout=60)
        assert r.error_name == ERR + "Unavailable", f"{member}\n{r.describe()}"

    # While it is down, p1 disappears from the database (an offline edit).
    txn = ["Open_vSwitch", {"op": "mutate", "table": "Bridge",
                            "where": [["_uuid", "==", ["uuid", bridge_uuid]]],
                            "mutations": [["ports", "delete", ["uuid", p1_uuid]]]}]
    subprocess.run(["ovsdb-tool", "transact", ovs.db_path, json.dumps(txn)], check=True,
                   capture_output=True)

    ovs.start_ovsdb()
    d.wait_status("idle", 30)
    assert wait_until(lambda: ports_of(ovs) == {"p1", "p2"}, 15) is not None, ports_of(ovs)
    assert d.call_json("Verify")["ok"] is True


# ---- starting without a bus, or without the policy ------------------------------------


def test_run_without_a_system_bus_says_what_is_missing(opdbus, tmp_path):
    """No bus where DBUS_SYSTEM_BUS_ADDRESS points: op-dbus run names the
    address it tried and says how to get a bus (never the host's bus: the
    address is always set here)."""
    missing = tmp_path / "no-bus" / "system_bus_socket"
    r = opdbus.run("run", "--state", tmp_path / "state.json",
                   env={"DBUS_SYSTEM_BUS_ADDRESS": f"unix:path={missing}"})
    assert r.returncode == 5, r.describe()
    err = r.stderr
    assert f"unix:path={missing} (from $DBUS_SYSTEM_BUS_ADDRESS): No such file or directory" in err, err
    assert "No D-Bus system bus runs there" in err, err
    for hint in ("apt-get install dbus", "systemctl start dbus", "dbus-daemon --system",
                 "/usr/share/dbus-1/system.d/org.opdbus.conf",
                 "DBUS_SYSTEM_BUS_ADDRESS set to the address it prints"):
        assert hint in err, f"{hint!r} missing\n{err}"
    assert r.stdout == ""


def test_run_on_a_bus_without_the_policy_says_so(start_daemon, private_bus):
    d = start_daemon(bus=private_bus("missing"), wait=False)
    rc = d.proc.wait(60)
    assert rc == 5, d.log_tail()
    assert "The system bus does not let op-dbus own org.opdbus: its policy org.opdbus.conf " \
           "is missing" in d.log_text(), d.log_tail()


# ---- signals to the process -----------------------------------------------------------


def test_sighup_reapplies_the_state_file(start_daemon, ovs):
    d = start_daemon(state(bridge("br0", ports=("p1",))))
    assert d.get("StatePath") == str(d.state_path)
    gen = d.get("Generation")
    d.write_state(state(bridge("br0", ports=("p1", "p2"))))
    mark = d.mark()
    d.sighup()
    applied = d.wait_for("StateApplied", timeout=30, since=mark)
    assert args_of(applied)[0] > gen
    assert ports_of(ovs) == {"p1", "p2"}
    assert d.get("Generation") == args_of(applied)[0]
    assert "bridge/br0/port/p2" in paths(json.loads(d.get("LastResult")), "create")


def test_cli_under_test_never_reaches_a_daemon_on_the_hosts_bus(start_daemon, ovs, tmp_state,
                                                                monkeypatch, request):
    """Where op-dbus is installed, its daemon owns org.opdbus on the host's
    system bus. The `opdbus` fixture keeps the binary under test away from
    it: what the CLI would hand to a running daemon runs in-process against
    the test's own Open vSwitch. Here a daemon with an Open vSwitch of its
    own plays the host's, and the test's environment names its bus."""
    with OvsSandbox() as host_ovs:
        host = start_daemon(state(bridge("hostbr0")), env=host_ovs.env())
        monkeypatch.setenv("DBUS_SYSTEM_BUS_ADDRESS", host.bus.address)
        opdbus = request.getfixturevalue("opdbus")
        mark = host.mark()
        doc = tmp_state(state(bridge("br0")))
        for verb in ("plan", "apply", "query"):
            opdbus.run(verb, *([doc] if verb != "query" else []), check=0)
        assert bridges_of(host_ovs) == {"hostbr0"}
        assert bridges_of(ovs) == {"br0"}
        assert opdbus.run("checkpoints", "--json", check=0, json=True).json
        host.bus.monitor.sync()
        calls = [m.get("member") for m in host.bus.monitor.messages[mark:]
                 if m.get("type") == "method_call"
                 and m.get("destination") in (BUS_NAME, host.unique_name)]
        assert calls == []
        host.stop()


def test_sigterm_exits_0_and_leaves_the_host(start_daemon, ovs):
    d = start_daemon(state(bridge("br0", ports=("p1",))))
    d.stop()
    assert ports_of(ovs) == {"p1"}
