# SPDX-License-Identifier: LGPL-2.1-or-later
"""The applied state is section-wise cumulative (docs/state.md, "The applied
state"): an apply replaces in it exactly the sections it applied (those the
document has, narrowed by --plugin) and keeps the others. A heal, a
restore-flows or a rollback works from it, so it never removes what an
earlier apply put on the host and no later apply asked to remove.

Each sequence runs in-process (the CLI without a daemon) and under the
daemon (dbus_fixture.py), against a private Open vSwitch and, where the
state has containers, the Proxmox test double."""

import copy
import json

import pytest

pytest.register_assert_rewrite("dbus_fixture")

import netlab  # noqa: E402
from pve_fixture import OVS_LOG_ALLOW, pve_sim, pve_templates  # noqa: E402,F401

pytest_plugins = ("dbus_fixture",)

NO_DAEMON = {"OPDBUS_NO_DAEMON": "1"}

NET = {"bridges": [{"name": "ovsbr0", "datapath_type": "netdev", "ports": [
    {"name": "uplink0", "type": "internal", "tag": 10},
    {"name": "trunk0", "type": "internal", "vlan_mode": "trunk", "trunks": [10, 20]}]}]}
OPENFLOW = {"enable_security_flows": True, "obfuscation_level": 1, "bridges": [{"name": "ovsbr0"}]}
LXC = {"containers": [{"id": 350, "name": "ct350", "template": "debian-12", "state": "stopped",
                       "properties": {"memory": 128, "swap": 0, "rootfs_size": 1},
                       "network": {"bridge": "ovsbr0", "ipv4": "10.35.0.50/24"}}]}


def doc(**sections):
    return {"version": 1, "plugins": copy.deepcopy(sections)}


FULL = doc(net=NET, openflow=OPENFLOW, lxc=LXC)
LXC_ONLY = doc(lxc=LXC)
NET_AND_FLOWS = doc(net=NET, openflow=OPENFLOW)
NET_ONLY = doc(net=NET)


def ports(ovs, bridge="ovsbr0"):
    return set(ovs.vsctl("list-ports", bridge).split())


def opdbus_flows(ovs):
    return netlab.opdbus_flows(ovs, "ovsbr0")


def newest_checkpoint(opdbus):
    listing = opdbus.run("checkpoints", "--json", check=0, json=True).json
    with open(listing[-1]["path"]) as f:
        return json.load(f)["state"]


# ---- a partial apply does not shrink the applied state ------------------------------


@pytest.mark.ovs_log_allow(*OVS_LOG_ALLOW)
def test_partial_applies_keep_the_other_sections_in_process(ovs, opdbus, pve_sim, tmp_state):
    env = {**pve_sim(ovs).env(), **NO_DAEMON}
    opdbus.run("apply", tmp_state(FULL), check=0, env=env)
    # a state with only the lxc section: net and openflow are left alone ...
    opdbus.run("apply", tmp_state(LXC_ONLY), check=0, env=env)
    # ... and an apply limited to a section the file has as it is
    res = opdbus.run("apply", "--json", "--plugin", "openflow", tmp_state(FULL), check=0, env=env,
                     json=True).json
    assert res["changes"] == []

    applied = newest_checkpoint(opdbus)
    assert applied["plugins"] == FULL["plugins"]
    # what a heal does: applying the applied state changes nothing
    plan = opdbus.run("plan", "--json", tmp_state(applied), check=0, env=env, json=True).json
    assert plan["changes"] == [], plan["changes"]
    assert ports(ovs) == {"uplink0", "trunk0"}


@pytest.mark.ovs_log_allow(*OVS_LOG_ALLOW)
def test_partial_applies_then_drift_heal_keeps_everything(start_daemon, ovs, pve_sim):
    pve = pve_sim(ovs)
    d = start_daemon(FULL, env=pve.env(), audit_interval=0)
    assert ports(ovs) == {"uplink0", "trunk0"}
    flows = opdbus_flows(ovs)
    assert flows

    assert d.apply(LXC_ONLY).result()["ok"]
    res = d.apply(FULL, plugins=["openflow"]).result()
    assert res["ok"] and res["changes"] == []

    # an unrelated change by hand: the heal re-applies the applied state
    mark = d.mark()
    ovs.vsctl("set", "Port", "uplink0", "tag=99")
    d.wait_for("DriftDetected", timeout=10, since=mark,
               predicate=lambda a: a[1] == "bridge/ovsbr0/port/uplink0")
    d.wait_status("idle", 30)
    assert ports(ovs) == {"uplink0", "trunk0"}
    assert ovs.vsctl("get", "Port", "uplink0", "tag") == "10"
    assert opdbus_flows(ovs) == flows
    assert 350 in pve.ct_ids()
    drift = [m["payload"]["data"] for m in d.signals("DriftDetected", since=mark)]
    assert [a[1] for a in drift] == ["bridge/ovsbr0/port/uplink0"], drift


def test_a_document_without_net_leaves_bridges_and_ports_alone(ovs, opdbus, tmp_state):
    opdbus.run("apply", tmp_state(NET_AND_FLOWS), check=0, env=NO_DAEMON)
    before = ovs.dump()
    res = opdbus.run("apply", "--json", tmp_state(doc(openflow=OPENFLOW)), check=0, env=NO_DAEMON,
                     json=True).json
    assert res["changes"] == [], res["changes"]
    assert ports(ovs) == {"uplink0", "trunk0"}
    assert ovs.dump() == before


# ---- restore-flows after an apply without the openflow section ---------------------


def test_restore_flows_after_a_net_only_apply_in_process(ovs, opdbus, tmp_state):
    opdbus.run("apply", tmp_state(NET_AND_FLOWS), check=0, env=NO_DAEMON)
    flows = opdbus_flows(ovs)
    assert flows
    opdbus.run("apply", tmp_state(NET_ONLY), check=0, env=NO_DAEMON)
    assert opdbus_flows(ovs) == flows, "a state without openflow leaves the flows alone"

    ovs.ofctl("del-flows", "ovsbr0")
    res = opdbus.run("restore-flows", "--json", check=0, env=NO_DAEMON, json=True).json
    assert res["counts"]["flow_mods"] > 0, res
    assert opdbus_flows(ovs) == flows


def test_restore_flows_after_a_net_only_apply_under_the_daemon(start_daemon, ovs):
    d = start_daemon(NET_AND_FLOWS, audit_interval=0)
    flows = opdbus_flows(ovs)
    assert flows
    assert d.apply(NET_ONLY).result()["ok"]
    assert opdbus_flows(ovs) == flows

    ovs.ofctl("del-flows", "ovsbr0")
    res = d.call_json("RestoreFlows", "ss", "", "")
    assert res["counts"]["flow_mods"] > 0, res
    assert opdbus_flows(ovs) == flows


# ---- the applied state an apply makes is consistent as a whole ----------------------

BR0 = {"bridges": [{"name": "br0", "datapath_type": "netdev", "ports": [{"name": "p1", "type": "internal"}]}]}
BR9 = {"bridges": [{"name": "br9", "datapath_type": "netdev", "ports": [{"name": "q1", "type": "internal"}]}]}
FLOWS_BR0 = {"enable_security_flows": False, "obfuscation_level": 0, "bridges": [{"name": "br0"}]}
FLOWS_BR9 = {"enable_security_flows": False, "obfuscation_level": 0, "bridges": [{"name": "br9"}]}
KEPT_ERROR = ('plugins.openflow.bridges[0].name: bridge "br0" is one op-dbus created and plugins.net no longer '
              "declares it: this apply deletes it, and the flows for it with it; plugins.openflow is kept from "
              "the applied state (generation 1) because the document has no openflow section: to change it, "
              "include one, for example without this or an empty one")


def test_an_apply_that_breaks_a_kept_section_is_refused_in_process(ovs, opdbus, tmp_state):
    """The applied state has flows on br0; a document with only a net
    section that replaces br0 by br9 would delete br0 and leave the kept
    openflow section naming a bridge that is gone (every later heal and
    restore-flows would fail). It is refused, naming the kept section, and
    nothing changes; with the openflow section updated it works."""
    opdbus.run("apply", tmp_state(doc(net=BR0, openflow=FLOWS_BR0)), check=0, env=NO_DAEMON)
    before = ovs.dump()
    res = opdbus.run("apply", "--json", "--allow-outage", tmp_state(doc(net=BR9)), check=2, env=NO_DAEMON,
                     json=True).json
    assert res["errors"] == [KEPT_ERROR], res["errors"]
    assert res["changed"] is False
    assert ovs.dump() == before
    assert len(opdbus.run("checkpoints", "--json", check=0, json=True).json) == 1
    # validate and plan say the same
    out = opdbus.run("validate", tmp_state(doc(net=BR9)), check=2, env=NO_DAEMON)
    assert KEPT_ERROR in out.stderr, out.stderr

    # an empty openflow section, or one on br9: the apply works ...
    for flows in ({}, FLOWS_BR9):
        res = opdbus.run("apply", "--json", "--allow-outage", tmp_state(doc(net=BR9, openflow=flows)), check=0,
                         env=NO_DAEMON, json=True).json
        assert res["ok"], res
        assert ovs.vsctl("list-br").split() == ["br9"]
        # ... and the applied state is whole: applying it changes nothing,
        # restore-flows finds its bridge
        applied = newest_checkpoint(opdbus)
        assert applied["plugins"] == {"net": BR9, "openflow": flows}
        plan = opdbus.run("plan", "--json", tmp_state(applied), check=0, env=NO_DAEMON, json=True).json
        assert plan["changes"] == [] and plan["errors"] == [], plan
        opdbus.run("restore-flows", check=0, env=NO_DAEMON)
        # back to br0 for the next round
        opdbus.run("apply", "--allow-outage", tmp_state(doc(net=BR0, openflow=FLOWS_BR0)), check=0, env=NO_DAEMON)


def test_a_kept_section_is_checked_against_the_sections_applied(ovs, opdbus, tmp_state):
    """References across sections are checked against the applied state
    the apply makes: a flow of the kept openflow section sends to port p1,
    which the new net section drops."""
    flows = {**FLOWS_BR0, "bridges": [{"name": "br0", "flows": [
        {"table": 30, "priority": 10, "match_fields": {"dl_type": "0x0800"},
         "actions": [{"type": "output", "port": "p1"}]}]}]}
    opdbus.run("apply", tmp_state(doc(net=BR0, openflow=flows)), check=0, env=NO_DAEMON)
    before = ovs.dump()
    net = {"bridges": [{**BR0["bridges"][0], "ports": [{"name": "p2", "type": "internal"}]}]}
    res = opdbus.run("apply", "--json", tmp_state(doc(net=net)), check=2, env=NO_DAEMON, json=True).json
    assert [e for e in res["errors"] if e.startswith(
        'plugins.openflow.bridges[0].flows[0].actions[0].port: "p1" is not a port')] == res["errors"], res
    assert "kept from the applied state (generation 1)" in res["errors"][0]
    assert ovs.dump() == before
    # an openflow section alone may send to a port the applied net declares
    res = opdbus.run("apply", "--json", tmp_state(doc(openflow=flows)), check=0, env=NO_DAEMON, json=True).json
    assert res["ok"] and res["changes"] == [], res


def test_an_apply_that_breaks_a_kept_section_is_refused_under_the_daemon(start_daemon, ovs):
    d = start_daemon(doc(net=BR0, openflow=FLOWS_BR0), audit_interval=0)
    before = ovs.dump()
    r = d.apply(doc(net=BR9), allow_outage=("b", "true"))
    assert r.error_name == "org.opdbus.Error.InvalidState", r.describe()
    assert KEPT_ERROR in r.error_message, r.error_message
    assert ovs.dump() == before

    res = d.apply(doc(net=BR9, openflow=FLOWS_BR9), allow_outage=("b", "true")).result()
    assert res["ok"], res
    assert ovs.vsctl("list-br").split() == ["br9"]
    # a heal of the applied state is clean
    mark = d.mark()
    log = d.log_mark()
    ovs.vsctl("set", "Port", "q1", "tag=99")
    d.wait_for("DriftDetected", timeout=10, since=mark)
    d.wait_status("idle", 30)
    assert ovs.vsctl("get", "Port", "q1", "tag") == "[]"
    assert not [line for line in d.log_since(log) if "error" in line.lower()], d.log_tail()
    res = d.call_json("RestoreFlows", "ss", "", "")
    assert res["ok"], res
