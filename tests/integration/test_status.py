# SPDX-License-Identifier: LGPL-2.1-or-later
"""op-dbus status (docs/cli.md, "Status"): the screen an operator reads
first, with and without the daemon, on the test's Open vSwitch.

  * without the daemon: not running and how to start it, what it cannot
    know then; the applied generation with its audit record; whether the
    state file is applied (and which sections are not); object counts per
    plugin; Open vSwitch reachable; warnings for a bridge on the userspace
    datapath, placeholders left in the state file, an interrupted apply;
    status changes nothing;
  * with the daemon: running, its status and generation; a drift repair
    with its object; a confirm window with its deadline and the command
    that keeps the apply.
"""

import json
import time
from pathlib import Path


from pve_fixture import pve_sim, pve_templates  # noqa: E402,F401

pytest_plugins = ("dbus_fixture",)


def state(*ports):
    return {"version": 1, "plugins": {"net": {"bridges": [
        {"name": "br0", "datapath_type": "netdev",
         "ports": [{"name": p, "type": "internal"} for p in ports]}]}}}


def status(opdbus, env, json_output=True):
    args = ["status", "--json"] if json_output else ["status"]
    r = opdbus.run(*args, env=env, json=json_output)
    assert r.returncode == 0, r.describe()
    return r.json if json_output else r.stdout


def test_status_without_the_daemon(opdbus, ovs, tmp_state, tmp_path):
    path = tmp_state(state("p1"))
    env = {"OPDBUS_STATE": str(path), "OPDBUS_NO_DAEMON": "1"}
    r = opdbus.run("apply", path)
    assert r.returncode == 0, r.describe()
    gen = opdbus.run("checkpoints", "--json", json=True).json[-1]["generation"]
    dump = ovs.config_dump()

    s = status(opdbus, env)
    assert s["daemon"]["running"] is False and s["daemon"]["start"] in ("systemctl start op-dbus", "op-dbus run")
    assert "whether an apply runs now" in s["daemon"]["unknown"]
    assert s["applied"]["generation"] == gen
    assert s["applied"]["record"]["reason"] == "apply" and s["applied"]["record"]["source"] == str(path)
    assert s["state_file"] == {"path": str(path), "exists": True, "applied": True, "differs": [], "placeholders": []}
    assert s["objects"] == {"net": {"bridges": 1, "ports": 1}}
    assert s["confirm"] is None and s["interrupted"] is False and s["repairs"] == []
    assert s["services"]["openvswitch"]["reachable"] is True
    assert any("bridge br0 uses Open vSwitch's userspace datapath" in w for w in s["warnings"]), s["warnings"]

    text = status(opdbus, env, json_output=False)
    for line in ("      Daemon: not running; start it: ", f"     Applied: generation {gen} at ",
                 f"              apply of {path} by uid 0, op-dbus[", f"  State file: {path}: applied",
                 "     Confirm: none pending", "     Repairs: none recorded", "Open vSwitch: reachable at ",
                 "     Objects: net: 1 bridges, 1 ports", "    Warnings: bridge br0 uses"):
        assert line in text, text

    # the state file changed, and an apply was killed half-way
    path.write_text(json.dumps(state("p1", "p2")))
    pending = Path(opdbus.env["OPDBUS_STATE_DIR"]) / "checkpoints" / "pending.json"
    pending.write_text("{}")
    s = status(opdbus, env)
    assert s["state_file"]["applied"] is False and s["state_file"]["differs"] == ["net"]
    assert s["interrupted"] is True and any("an apply was interrupted" in w for w in s["warnings"])
    assert "not applied yet (net): 'op-dbus plan' shows what apply would change" in status(opdbus, env, False)
    pending.unlink()

    # placeholders left in the state file
    doc = opdbus.run("init", "--profile", "privacy-client", check=0).stdout
    path.write_text(doc)
    s = status(opdbus, env)
    assert s["state_file"]["placeholders"], s["state_file"]
    assert any(w.startswith(f"placeholder left in {path}: ") and "VPS_IP" in w for w in s["warnings"]), s["warnings"]

    # it changed nothing
    assert ovs.config_dump() == dump
    assert opdbus.run("checkpoints", "--json", json=True).json[-1]["generation"] == gen


def test_status_with_the_daemon(start_daemon, opdbus, ovs):
    d = start_daemon(state("p1", "p2"))
    env = {"DBUS_SYSTEM_BUS_ADDRESS": d.bus.address, "OPDBUS_STATE": str(d.state_path)}
    s = status(opdbus, env)
    assert s["daemon"]["running"] is True and s["daemon"]["status"] == "idle"
    assert s["daemon"]["generation"] == d.get("Generation") == s["applied"]["generation"]
    assert s["applied"]["record"]["reason"] == "state-file" and s["state_file"]["applied"] is True

    # a drift repair, with its object
    ovs.vsctl("--no-wait", "del-port", "br0", "p1")
    start = time.monotonic()
    while not status(opdbus, env)["repairs"]:
        assert time.monotonic() - start < 30, "no repair recorded"
        time.sleep(0.2)
    repair = status(opdbus, env)["repairs"][-1]
    assert any("bridge/br0/port/p1" in line for line in repair["repaired"]), repair
    assert f"(generation {repair['generation']}): " in status(opdbus, env, False)

    # a confirm window
    result = d.apply(state("p1", "p2", "p3"), confirm_timeout=600).result()
    s = status(opdbus, env)
    assert s["daemon"]["status"] == "awaiting-confirm"
    assert s["confirm"]["generation"] == result["generation"] and s["confirm"]["deadline_unix"] > time.time()
    assert (f"     Confirm: generation {result['generation']} is rolled back at {s['confirm']['deadline']} unless "
            "'op-dbus confirm' comes first") in status(opdbus, env, False)
    assert d.call("Confirm").ok
    assert status(opdbus, env)["confirm"] is None


def test_status_warns_of_a_missing_template(opdbus, ovs, pve_sim, tmp_state):  # noqa: F811
    pve = pve_sim(ovs)
    doc = state("p1")
    doc["plugins"]["lxc"] = {"containers": [{
        "id": 370, "name": "ct370", "template": "debian-99", "state": "stopped",
        "properties": {"memory": 128, "swap": 0, "rootfs_size": 1}, "network": {"bridge": "br0"}}]}
    path = tmp_state(doc)
    env = {**pve.env(), "OPDBUS_STATE": str(path), "OPDBUS_NO_DAEMON": "1"}
    s = status(opdbus, env)
    hits = [w for w in s["warnings"] if w.startswith("plugins.lxc.containers[0]") and "debian-99" in w]
    assert hits, s["warnings"]
    assert "pveam" in hits[0], hits
    print(hits[0])
    assert 370 not in pve.ct_ids()
