# SPDX-License-Identifier: LGPL-2.1-or-later
"""The net plugin against a real Open vSwitch: bridges and ports declared in
JSON, applied transactionally, owned and nothing else touched."""

import json
import re
import subprocess
from pathlib import Path

import pytest

FIXTURES = Path(__file__).resolve().parents[1] / "fixtures"

BASE = {
    "version": 1,
    "plugins": {
        "net": {
            "bridges": [
                {
                    "name": "br0",
                    "datapath_type": "netdev",
                    "ports": [
                        {"name": "p1", "type": "internal", "tag": 10},
                        {"name": "p2", "type": "internal", "trunks": [20, 10], "vlan_mode": "trunk",
                         "external_ids": {"role": "uplink"}},
                        {"name": "p3", "type": "internal", "mtu_request": 1400},
                    ],
                }
            ]
        }
    },
}


UUID_RE = re.compile(r"[0-9a-f]{8}-[0-9a-f]{4}-[0-9a-f]{4}-[0-9a-f]{4}-[0-9a-f]{12}")
CONFIG_COLUMNS = {
    "Bridge": ["name", "datapath_type", "fail_mode", "stp_enable", "rstp_enable", "other_config",
               "external_ids", "ports"],
    "Port": ["name", "interfaces", "tag", "trunks", "vlan_mode", "external_ids"],
    "Interface": ["name", "type", "options", "mtu_request", "external_ids"],
}


def config_tables(ovs):
    """The configuration op-dbus may change, with row UUIDs replaced by the
    rows' names: a port deleted and restored by a rollback is the same port
    even though OVSDB gives the new row a new UUID."""
    names, rows = {}, []
    for table, columns in CONFIG_COLUMNS.items():
        out = subprocess.run(["ovsdb-client", "-f", "json", "dump", ovs.db_remote, "Open_vSwitch",
                              table, "_uuid", *columns], check=True, capture_output=True, text=True).stdout
        data = json.loads(out)
        for row in data["data"]:
            record = dict(zip(data["headings"], row))
            names[record["_uuid"][1]] = f"{table}:{record['name']}"
            rows.append((table, record))

    def canonical(value):
        text = UUID_RE.sub(lambda m: names.get(m.group(0), "?"), json.dumps(value, sort_keys=True))
        value = json.loads(text)
        if isinstance(value, list) and len(value) == 2 and value[0] in ("set", "map"):
            value = [value[0], sorted(value[1], key=json.dumps)]
        return value

    return sorted(json.dumps([t, {k: canonical(v) for k, v in r.items() if k != "_uuid"}], sort_keys=True)
                  for t, r in rows)


def ext_ids(ovs, table, name):
    return ovs.vsctl("get", table, name, "external_ids").strip()


def port_names(ovs, bridge):
    return set(ovs.vsctl("list-ports", bridge).split())


def test_apply_creates_owned_rows_and_reports_counts(ovs, opdbus, tmp_state):
    r = opdbus.run("apply", "--json", tmp_state(BASE), check=0, json=True)
    res = r.json
    assert res["ok"] and not res["rolled_back"] and res["errors"] == []
    assert res["generation"] == 1
    assert res["counts"]["ovsdb_ops"] > 0 and res["counts"]["flow_mods"] == 0
    assert {(c["action"], c["path"]) for c in res["changes"]} == {
        ("create", "bridge/br0"), ("create", "bridge/br0/port/p1"),
        ("create", "bridge/br0/port/p2"), ("create", "bridge/br0/port/p3")}

    assert port_names(ovs, "br0") == {"p1", "p2", "p3"}
    for table, name in [("Bridge", "br0"), ("Port", "p1"), ("Interface", "p1"), ("Port", "br0")]:
        ids = ext_ids(ovs, table, name)
        assert 'op-dbus-owner=op-dbus' in ids and 'op-dbus-generation="1"' in ids, (table, ids)
    assert ovs.vsctl("get", "Port", "p1", "tag").strip() == "10"
    assert ovs.vsctl("get", "Port", "p2", "trunks").strip() == "[10, 20]"
    assert ovs.vsctl("get", "Port", "p2", "vlan_mode").strip() == "trunk"
    assert 'role=uplink' in ext_ids(ovs, "Port", "p2")
    assert ovs.vsctl("get", "Interface", "p3", "mtu_request").strip() == "1400"
    # netdev bridges and internal ports are real devices in the sandbox netns
    assert {"br0", "p1", "p2", "p3"} <= set(ovs.links())


def test_second_apply_writes_nothing(ovs, opdbus, tmp_state):
    path = tmp_state(BASE)
    opdbus.run("apply", path, check=0)
    before = ovs.dump()
    r = opdbus.run("apply", "--json", path, check=0, json=True)
    assert r.json["counts"]["ovsdb_ops"] == 0
    assert r.json["changes"] == [] and r.json["changed"] is False
    assert r.json["generation"] == 1
    assert ovs.dump() == before
    # and the plan after a successful apply is empty
    plan = opdbus.run("plan", "--json", path, check=0, json=True).json
    assert plan["changes"] == []
    opdbus.run("verify", path, check=0)


def test_query_round_trips(ovs, opdbus, tmp_state):
    opdbus.run("apply", tmp_state(BASE), check=0)
    live = opdbus.run("query", check=0, json=True).json
    assert live["version"] == 1
    (bridge,) = live["plugins"]["net"]["bridges"]
    assert bridge["name"] == "br0" and bridge["datapath_type"] == "netdev"
    assert [p["name"] for p in bridge["ports"]] == ["p1", "p2", "p3"]
    # the query output is itself a state that changes nothing
    r = opdbus.run("apply", "--json", tmp_state(live), check=0, json=True)
    assert r.json["counts"]["ovsdb_ops"] == 0


def test_foreign_port_survives_and_owned_port_is_removed(ovs, opdbus, tmp_state):
    opdbus.run("apply", tmp_state(BASE), check=0)
    ovs.vsctl("add-port", "br0", "handmade", "--", "set", "Interface", "handmade", "type=internal")
    ovs.vsctl("add-port", "br0", "veth100i0", "--", "set", "Interface", "veth100i0", "type=internal")

    smaller = json.loads(json.dumps(BASE))
    smaller["plugins"]["net"]["bridges"][0]["ports"] = [{"name": "p1", "type": "internal", "tag": 10}]
    r = opdbus.run("apply", "--json", tmp_state(smaller), check=0, json=True)
    assert {(c["action"], c["path"]) for c in r.json["changes"]} == {
        ("delete", "bridge/br0/port/p2"), ("delete", "bridge/br0/port/p3")}
    assert port_names(ovs, "br0") == {"p1", "handmade", "veth100i0"}

    # An empty net section removes everything op-dbus owns, and only that
    # (br0 goes with the ports on it, which needs --allow-outage).
    ovs.vsctl("add-br", "vmbr0", "--", "set", "Bridge", "vmbr0", "datapath_type=netdev")
    opdbus.run("apply", "--allow-outage", tmp_state({"version": 1, "plugins": {"net": {"bridges": []}}}),
               check=0)
    assert ovs.vsctl("list-br").split() == ["vmbr0"]


def test_modify_replug_and_recreate_are_planned_with_impact(ovs, opdbus, tmp_state):
    opdbus.run("apply", tmp_state(BASE), check=0)
    changed = json.loads(json.dumps(BASE))
    ports = changed["plugins"]["net"]["bridges"][0]["ports"]
    ports[0]["tag"] = 20                       # modify
    ports[2]["type"] = "patch"                 # recreate
    ports[2]["options"] = {"peer": "p4"}
    del ports[2]["mtu_request"]
    moved = ports.pop(1)                       # replug to br1
    changed["plugins"]["net"]["bridges"].append(
        {"name": "br1", "datapath_type": "netdev",
         "ports": [moved, {"name": "p4", "type": "patch", "options": {"peer": "p3"}}]})
    path = tmp_state(changed)

    plan = opdbus.run("plan", "--json", path, check=0, json=True).json["changes"]
    kinds = {c["path"]: (c["action"], c["impact"]) for c in plan}
    assert kinds["bridge/br0/port/p1"] == ("modify", "forwarding change")
    assert kinds["bridge/br0/port/p3"] == ("recreate", "port flap")
    assert kinds["bridge/br1/port/p2"] == ("replug", "port flap")
    assert kinds["bridge/br1"] == ("create", "no traffic impact")

    before = ovs.dump()
    opdbus.run("apply", "--dry-run", path, check=0)
    assert ovs.dump() == before

    opdbus.run("apply", path, check=0)
    assert port_names(ovs, "br1") == {"p2", "p4"}
    assert ovs.vsctl("get", "Interface", "p3", "type").strip() == "patch"
    assert opdbus.run("plan", "--json", path, check=0, json=True).json["changes"] == []


def test_foreign_bridge_gets_ports_but_is_never_deleted(ovs, opdbus, tmp_state):
    ovs.vsctl("add-br", "vmbr0", "--", "set", "Bridge", "vmbr0", "datapath_type=netdev",
              "fail_mode=standalone")
    state = {"version": 1, "plugins": {"net": {"bridges": [
        {"name": "vmbr0", "fail_mode": "secure", "ports": [{"name": "opd0", "type": "internal"}]}]}}}
    r = opdbus.run("apply", "--json", tmp_state(state), check=0, json=True)
    assert [c["path"] for c in r.json["changes"]] == ["bridge/vmbr0/port/opd0"]
    assert any("not created by op-dbus" in w for w in r.json["warnings"])
    assert ovs.vsctl("get", "Bridge", "vmbr0", "fail_mode").strip() == "standalone"
    assert "op-dbus" not in ext_ids(ovs, "Bridge", "vmbr0")

    opdbus.run("apply", tmp_state({"version": 1, "plugins": {"net": {"bridges": []}}}), check=0)
    assert ovs.vsctl("list-br").split() == ["vmbr0"]
    assert port_names(ovs, "vmbr0") == set()


def test_existing_foreign_port_is_a_conflict(ovs, opdbus, tmp_state):
    ovs.vsctl("add-br", "vmbr0", "--", "set", "Bridge", "vmbr0", "datapath_type=netdev")
    ovs.vsctl("add-port", "vmbr0", "tap100i0", "--", "set", "Interface", "tap100i0", "type=internal")
    before = ovs.dump()
    state = {"version": 1, "plugins": {"net": {"bridges": [
        {"name": "br0", "datapath_type": "netdev", "ports": [{"name": "tap100i0", "type": "internal"}]}]}}}
    r = opdbus.run("apply", tmp_state(state), check=2)
    assert "plugins.net.bridges[0].ports[0]" in r.stderr
    assert "was not created by op-dbus" in r.stderr
    assert ovs.dump() == before


PROFILE_LIKE = {"version": 1, "plugins": {
    "net": {"bridges": [{"name": "ovsbr0", "datapath_type": "netdev",
                         "ports": [{"name": "uplink0", "type": "internal"}]}]},
    "openflow": {"enable_security_flows": True, "obfuscation_level": 1, "bridges": [{"name": "ovsbr0"}]}}}


def flow_dump(ovs, bridge):
    return sorted(ovs.ofctl("dump-flows", bridge, options=("--no-stats",)).splitlines())


def test_openflow_bridge_that_does_not_exist_is_refused(ovs, opdbus, tmp_state):
    opdbus.run("apply", tmp_state(PROFILE_LIKE), check=0)
    flows = flow_dump(ovs, "ovsbr0")
    assert len(flows) > 1
    before = ovs.dump()

    typo = json.loads(json.dumps(PROFILE_LIKE))
    typo["plugins"]["openflow"]["bridges"][0]["name"] = "ovsbr9"
    for verb in ("plan", "apply"):
        r = opdbus.run(verb, tmp_state(typo), check=2)
        assert ('plugins.openflow.bridges[0].name: bridge "ovsbr9" does not exist and plugins.net '
                'does not declare it; the bridges here are: ovsbr0') in r.stderr, r.stderr
    assert ovs.dump() == before
    assert flow_dump(ovs, "ovsbr0") == flows
    assert "ovsbr9" not in ovs.vsctl("list-br").split()


def test_openflow_on_an_existing_bridge_needs_no_net_section(ovs, opdbus, tmp_state):
    # a bridge op-dbus does not own (e.g. vmbr0 from /etc/network/interfaces)
    ovs.vsctl("add-br", "vmbr0", "--", "set", "Bridge", "vmbr0", "datapath_type=netdev")
    state = {"openflow": {"enable_security_flows": False, "obfuscation_level": 0,
                          "bridges": [{"name": "vmbr0"}]}}
    r = opdbus.run("apply", "--json", tmp_state(state), check=0, json=True)
    assert [c["path"] for c in r.json["changes"]] == ["bridge/vmbr0/flows"]
    assert "op-dbus-owner" not in ext_ids(ovs, "Bridge", "vmbr0")

    # a bridge nobody declares is not created from openflow.bridges
    state["openflow"]["bridges"].append({"name": "ovsbr0"})
    r = opdbus.run("apply", tmp_state(state), check=2)
    assert ('plugins.openflow.bridges[1].name: bridge "ovsbr0" does not exist and plugins.net '
            'does not declare it; the bridges here are: vmbr0') in r.stderr, r.stderr
    assert ovs.vsctl("list-br").split() == ["vmbr0"]


def _invalid_cases():
    for sub in ("invalid", "invalid-semantic"):
        expected = json.loads((FIXTURES / sub / "expected.json").read_text())
        for name, path in sorted(expected.items()):
            yield pytest.param(FIXTURES / sub / name, path, id=f"{sub}/{name}")


@pytest.mark.parametrize("fixture,path", list(_invalid_cases()))
def test_invalid_input_changes_nothing(ovs, opdbus, fixture, path):
    opdbus.run("apply", FIXTURES / "valid" / "net-minimal.json", check=0)
    before = ovs.dump()
    r = opdbus.run("apply", fixture, check=2)
    assert path in r.stderr, r.stderr
    assert ovs.dump() == before


def test_all_errors_are_reported_at_once(opdbus, tmp_state):
    state = {"version": 1, "plugins": {"net": {"bridges": [
        {"name": "br0", "colour": "blue", "ports": [
            {"name": "averyveryverylongname", "tag": 5000},
            {"name": "ok0", "trunks": [1, 1]}]}]}}}
    r = opdbus.run("validate", tmp_state(state), check=2)
    for needle in [
        "plugins.net.bridges[0].colour: unknown key",
        'plugins.net.bridges[0].ports[0].name: "averyveryverylongname" is 21 bytes, interface names are at most 15',
        "plugins.net.bridges[0].ports[0].tag: 5000 is out of range, expected 0..4095",
        "plugins.net.bridges[0].ports[1].trunks[1]: VLAN 1 is listed twice",
    ]:
        assert needle in r.stderr, r.stderr


def test_syntax_error_names_line_and_column(opdbus, tmp_state):
    path = tmp_state('{\n  "version": 1,\n  "plugins": {\n    "net": {"bridges": [}\n  }\n}\n')
    r = opdbus.run("validate", path, check=2)
    assert f"{path}:4:" in r.stderr and "invalid JSON" in r.stderr


def test_state_from_stdin(ovs, opdbus):
    r = opdbus.run("apply", "--json", "-", input=json.dumps(BASE), check=0, json=True)
    assert r.json["ok"]
    assert port_names(ovs, "br0") == {"p1", "p2", "p3"}


@pytest.mark.ovs_log_allow(r"nosuchnic0", r"could not open network device")
def test_port_rejected_by_ovs_rolls_back(ovs, opdbus, tmp_state):
    opdbus.run("apply", tmp_state(BASE), check=0)
    before = config_tables(ovs)
    bad = json.loads(json.dumps(BASE))
    bad["plugins"]["net"]["bridges"][0]["ports"][0]["tag"] = 99
    bad["plugins"]["net"]["bridges"][0]["ports"].append({"name": "nosuchnic0", "type": "system"})
    r = opdbus.run("apply", "--json", tmp_state(bad), check=1, json=True)
    res = r.json
    assert not res["ok"] and res["rolled_back"] and res["status"] == "failed"
    assert any("could not open network device nosuchnic0" in e for e in res["errors"])
    assert {c["path"] for c in res["rollback_changes"]} == {
        "bridge/br0/port/p1", "bridge/br0/port/nosuchnic0"}
    assert config_tables(ovs) == before
    assert res["generation"] == 1
    assert [c["generation"] for c in opdbus.run("checkpoints", "--json", check=0, json=True).json] == [1]


def test_failure_after_writing_rolls_back(ovs, opdbus, tmp_state):
    opdbus.run("apply", tmp_state(BASE), check=0)
    before = config_tables(ovs)
    changed = json.loads(json.dumps(BASE))
    changed["plugins"]["net"]["bridges"].append({"name": "br9", "datapath_type": "netdev"})
    changed["plugins"]["net"]["bridges"][0]["ports"].pop()
    r = opdbus.run("apply", "--json", tmp_state(changed), env={"OPDBUS_FAULT_INJECT": "net"},
                   check=1, json=True)
    assert r.json["rolled_back"]
    assert config_tables(ovs) == before


def test_ovsdb_unreachable_is_reported(opdbus, tmp_state):
    r = opdbus.run("apply", tmp_state(BASE), check=5)
    assert "cannot connect to OVSDB" in r.stderr


def test_rollback_restores_previous_checkpoint(ovs, opdbus, tmp_state):
    opdbus.run("apply", tmp_state(BASE), check=0)
    first = config_tables(ovs)
    second = json.loads(json.dumps(BASE))
    second["plugins"]["net"]["bridges"][0]["ports"] = [{"name": "q1", "type": "internal"}]
    opdbus.run("apply", tmp_state(second), check=0)
    assert port_names(ovs, "br0") == {"q1"}

    gens = [c["generation"] for c in opdbus.run("checkpoints", "--json", check=0, json=True).json]
    assert gens == [1, 2]
    r = opdbus.run("rollback", "--json", check=0, json=True)
    assert r.json["generation"] == 3
    assert port_names(ovs, "br0") == {"p1", "p2", "p3"}
    # the same ports and settings; only the generation tags are newer
    opdbus.run("verify", tmp_state(BASE), check=0)
    without_gen = lambda rows: sorted(re.sub(r'\["op-dbus-generation", "\d+"\]', "", r) for r in rows)
    assert without_gen(config_tables(ovs)) == without_gen(first)

    opdbus.run("rollback", "--to", "2", check=0)
    assert port_names(ovs, "br0") == {"q1"}
    opdbus.run("rollback", "--to", "77", check=2)


def test_checkpoints_are_pruned(ovs, opdbus, tmp_state):
    for i in range(7):
        state = json.loads(json.dumps(BASE))
        state["plugins"]["net"]["bridges"][0]["ports"][0]["tag"] = 100 + i
        opdbus.run("apply", "--keep-checkpoints", "3", tmp_state(state), check=0)
    gens = [c["generation"] for c in opdbus.run("checkpoints", "--json", check=0, json=True).json]
    assert gens == [5, 6, 7]


def test_second_apply_waits_for_the_lock(ovs, opdbus, tmp_state):
    run_dir = Path(opdbus.env["OPDBUS_RUN_DIR"])
    run_dir.mkdir(parents=True, exist_ok=True)
    holder = subprocess.Popen(["flock", str(run_dir / "apply.lock"), "sleep", "30"])
    try:
        import time
        time.sleep(0.3)
        r = opdbus.run("apply", "--lock-timeout", "0.5", tmp_state(BASE), check=4)
        assert "another apply is running" in r.stderr
    finally:
        holder.kill()
        holder.wait()
    opdbus.run("apply", tmp_state(BASE), check=0)


def test_diff_and_verify_exit_codes(ovs, opdbus, tmp_state):
    path = tmp_state(BASE)
    r = opdbus.run("diff", path, check=3)
    assert "+ net/bridge/br0/port/p1: type internal" in r.stdout
    opdbus.run("verify", path, check=3)
    opdbus.run("apply", path, check=0)
    opdbus.run("diff", path, check=0)
    ovs.vsctl("set", "Port", "p1", "tag=11")
    r = opdbus.run("verify", path, check=3)
    assert "bridge/br0/port/p1" in r.stderr and "tag 11 -> 10" in r.stderr


def test_plugin_filter(ovs, opdbus, tmp_state):
    r = opdbus.run("apply", "--plugin", "nosuch", tmp_state(BASE), check=2)
    assert 'unknown plugin "nosuch"' in r.stderr
    opdbus.run("apply", "--plugin", "net", tmp_state(BASE), check=0)
    assert port_names(ovs, "br0") == {"p1", "p2", "p3"}
    assert opdbus.run("query", "--plugin", "net", check=0, json=True).json["plugins"]["net"]["bridges"]


def test_init_none_profile_applies(ovs, opdbus, tmp_path):
    out = tmp_path / "state.json"
    opdbus.run("init", "--profile", "none", "-o", out, check=0)
    assert out.stat().st_mode & 0o777 == 0o600
    opdbus.run("init", "--profile", "none", "-o", out, check=2)  # never overwrites
    opdbus.run("init", "--profile", "nosuch", check=2)
    opdbus.run("apply", out, check=0)
    assert ovs.vsctl("list-br").split() == ["ovsbr0"]


def test_ownership_survives_wiped_external_ids(ovs, opdbus, tmp_state):
    """ifreload -a on Proxmox clears external_ids of rows it manages; op-dbus
    keeps a ledger and puts its tags back instead of losing the rows."""
    path = tmp_state(BASE)
    opdbus.run("apply", path, check=0)
    for table, name in [("Bridge", "br0"), ("Port", "p1"), ("Interface", "p1")]:
        ovs.vsctl("clear", table, name, "external_ids")
    plan = opdbus.run("plan", "--json", path, check=0, json=True).json["changes"]
    assert {c["path"] for c in plan} == {"bridge/br0", "bridge/br0/port/p1"}
    assert all("ownership tags (wiped) -> restored" in c["detail"] for c in plan)
    opdbus.run("apply", path, check=0)
    assert "op-dbus-owner=op-dbus" in ext_ids(ovs, "Port", "p1")
    assert "op-dbus-owner=op-dbus" in ext_ids(ovs, "Bridge", "br0")
    # rows that were never op-dbus's stay out of the ledger
    ovs.vsctl("add-br", "vmbr0", "--", "set", "Bridge", "vmbr0", "datapath_type=netdev")
    ovs.vsctl("add-port", "vmbr0", "tap100i0", "--", "set", "Interface", "tap100i0", "type=internal")
    opdbus.run("apply", path, check=0)
    opdbus.run("apply", "--allow-outage", tmp_state({"version": 1, "plugins": {"net": {"bridges": []}}}),
               check=0)
    assert ovs.vsctl("list-br").split() == ["vmbr0"]
    assert port_names(ovs, "vmbr0") == {"tap100i0"}


def test_interfaces_file_conflict_is_a_warning(ovs, opdbus, tmp_state, tmp_path):
    interfaces = tmp_path / "interfaces"
    interfaces.write_text("auto vmbr0\niface vmbr0 inet manual\n\tovs_type OVSBridge\n\tovs_ports eno1\n\n"
                          "auto lo\niface lo inet loopback\n")
    state = {"version": 1, "plugins": {"net": {"bridges": [
        {"name": "vmbr0", "datapath_type": "netdev",
         "ports": [{"name": "opd0", "type": "internal"}, {"name": "veth100i0", "type": "internal"}]}]}}}
    r = opdbus.run("validate", "--interfaces", interfaces, tmp_state(state), check=0)
    assert "plugins.net.bridges[0].ports[0]" in r.stderr and "ifreload -a" in r.stderr
    assert "ports[1]" not in r.stderr  # veth* names are condoned by ifupdown2 on Proxmox
    r = opdbus.run("plan", "--json", "--interfaces", interfaces, tmp_state(state), check=0, json=True)
    assert len(r.json["warnings"]) == 1


# ---- deleting a bridge that carries traffic needs --allow-outage -----------------------

def outage_state(*bridges):
    return {"version": 1, "plugins": {"net": {"bridges": [
        {"name": name, "datapath_type": "netdev", "ports": [{"name": p, "type": "internal"} for p in ports]}
        for name, ports in bridges]}}}


def test_deleting_a_bridge_with_ports_needs_allow_outage(ovs, opdbus, tmp_state):
    opdbus.run("apply", tmp_state(outage_state(("br0", ["p1"]), ("br1", []))), check=0)
    # a guest's port, which op-dbus does not own, on the bridge
    ovs.vsctl("add-port", "br0", "veth100i0", "--", "set", "Interface", "veth100i0", "type=internal")
    before = ovs.dump()
    gone = tmp_state(outage_state(("br2", ["q1"])))

    plan = opdbus.run("plan", "--json", gone, check=0, json=True).json
    (delete,) = [c for c in plan["changes"] if c["path"] == "bridge/br0"]
    assert delete["outage"] == "cut off the traffic of its ports p1, veth100i0", delete
    assert "outage" not in [c for c in plan["changes"] if c["path"] == "bridge/br1"][0]
    assert ("bridge/br0: delete would cut off the traffic of its ports p1, veth100i0; apply refuses it "
            "without --allow-outage, or the D-Bus option allow_outage") in plan["warnings"], plan["warnings"]

    r = opdbus.run("apply", gone, check=2)
    assert ("error: bridge/br0: delete would cut off the traffic of its ports p1, veth100i0; refused, "
            "nothing was changed (to accept the outage: --allow-outage, or the D-Bus option "
            "allow_outage)") in r.stderr, r.stderr
    assert "bridge/br1" not in r.stderr  # a bridge with only its local port cuts nothing off
    assert ovs.dump() == before
    assert [c["generation"] for c in opdbus.run("checkpoints", "--json", check=0, json=True).json] == [1]

    opdbus.run("apply", "--allow-outage", gone, check=0)
    assert ovs.vsctl("list-br").split() == ["br2"]

    # a rollback is an apply like any other: back to br0 and br1 deletes br2
    r = opdbus.run("rollback", check=2)
    assert "bridge/br2: delete would cut off the traffic of its port q1; refused" in r.stderr, r.stderr
    assert ovs.vsctl("list-br").split() == ["br2"]
    opdbus.run("rollback", "--allow-outage", check=0)
    assert ovs.vsctl("list-br").split() == ["br0", "br1"]


# ---- a bridge without a datapath is not a success --------------------------------------

# ovs-vswitchd of the sandbox runs with --disable-system: like a node
# without the openvswitch kernel module, it cannot create a kernel datapath.
NO_KERNEL_DATAPATH = (r"bridge\|ERR\|failed to create bridge brs: ",)
SYSTEM_BRIDGE = {"version": 1, "plugins": {"net": {"bridges": [
    {"name": "brs", "datapath_type": "system", "ports": [{"name": "ps1", "type": "internal"}]}]}}}


@pytest.mark.ovs_log_allow(*NO_KERNEL_DATAPATH)
def test_bridge_without_datapath_fails_and_rolls_back(ovs, opdbus, tmp_state):
    opdbus.run("apply", tmp_state(BASE), check=0)
    before = config_tables(ovs)
    state = json.loads(json.dumps(BASE))
    state["plugins"]["net"]["bridges"] += SYSTEM_BRIDGE["plugins"]["net"]["bridges"]
    path = tmp_state(state)

    # planned without comment: whether the datapath can be made shows only
    # once ovs-vswitchd has tried
    plan = opdbus.run("plan", "--json", path, check=0, json=True).json
    assert {c["path"] for c in plan["changes"]} == {"bridge/brs", "bridge/brs/port/ps1"}
    res = opdbus.run("apply", "--json", path, check=1, json=True).json
    assert res["status"] == "failed" and res["rolled_back"]
    assert ('plugins.net.bridges[1]: Open vSwitch has no datapath for bridge "brs" (datapath_type system): '
            "ovs-vswitchd reports no datapath_id, so it forwards nothing; the kernel datapath needs the "
            "openvswitch kernel module") in "\n".join(res["errors"]), res["errors"]
    assert config_tables(ovs) == before
    assert "brs" not in ovs.vsctl("list-br").split()
    assert [c["generation"] for c in opdbus.run("checkpoints", "--json", check=0, json=True).json] == [1]


@pytest.mark.ovs_log_allow(*NO_KERNEL_DATAPATH)
def test_verify_reports_a_bridge_without_datapath(ovs, opdbus, tmp_state):
    # the host as the state describes it, made by hand: brs has no datapath
    ovs.vsctl("add-br", "brs", "--", "set", "Bridge", "brs", "datapath_type=system")
    ovs.wait_reconfigured()
    path = tmp_state({"version": 1, "plugins": {"net": {"bridges": [{"name": "brs"}]}}})
    r = opdbus.run("verify", path, check=3)
    assert 'plugins.net.bridges[0]: Open vSwitch has no datapath for bridge "brs"' in r.stderr, r.stderr


# ---- a bridge named like a network device of the host -------------------------------

def test_bridge_named_like_a_nic_is_refused(ovs, opdbus, tmp_state):
    """A bridge cannot take the name of a device that is not Open vSwitch's
    (the host's uplink eth0, say). Open vSwitch runs in a namespace of its
    own here: the devices looked at are those of that namespace."""
    opdbus.run("apply", tmp_state(BASE), check=0)
    ovs.netns_exec("ip", "link", "add", "eth0", "type", "veth", "peer", "name", "eth0peer")
    before = ovs.dump()
    state = json.loads(json.dumps(BASE))
    state["plugins"]["net"]["bridges"].append({"name": "eth0", "datapath_type": "netdev"})
    for verb in ("plan", "apply"):
        r = opdbus.run(verb, tmp_state(state), check=2)
        assert ('plugins.net.bridges[1].name: "eth0" is a network device of this host that is not an '
                "Open vSwitch bridge (a NIC, a Linux bridge, ...): a bridge cannot have its name; "
                "the Open vSwitch bridges here are: br0") in r.stderr, r.stderr
    assert ovs.dump() == before

    # a device of op-dbus's own namespace that Open vSwitch's does not have
    # is no obstacle: the bridge is made where Open vSwitch is
    with open("/proc/self/net/dev") as f:
        mine = {line.split(":")[0].strip() for line in f.readlines()[2:]}
    elsewhere = sorted(mine - set(ovs.links()) - {"lo"})
    if elsewhere:
        state["plugins"]["net"]["bridges"][1]["name"] = elsewhere[0]
        plan = opdbus.run("plan", "--json", tmp_state(state), check=0, json=True).json
        assert f"bridge/{elsewhere[0]}" in {c["path"] for c in plan["changes"]}
