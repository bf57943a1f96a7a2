# SPDX-License-Identifier: LGPL-2.1-or-later
"""The lxc plugin's Proxmox backend against the pct test double: real LXC
containers plugged into the OVS sandbox, created, changed and removed by
op-dbus, and only those op-dbus created."""

import copy
import json
import os
import re
import stat
import subprocess
import urllib.parse

import pytest

import netlab
from pve_fixture import PCT, pve_sim, pve_templates  # noqa: F401

# pct subcommands that change a container.
CHANGING = {"create", "set", "start", "stop", "shutdown", "reboot", "destroy", "resize", "push"}

PCT_WRAPPER = """#!/usr/bin/python3
import json, os, sys
with open({log!r}, "a") as f:
    f.write(json.dumps(sys.argv[1:]) + "\\n")
os.execv({pct!r}, [{pct!r}] + sys.argv[1:])
"""


class Node:
    """A simulated Proxmox node (pve-sim) with the OVS sandbox, and op-dbus
    run against both. Every pct call op-dbus makes is logged."""

    def __init__(self, ovs, opdbus, pve, tmp_path, tmp_state):
        self.ovs, self.opdbus, self.pve, self.tmp_state = ovs, opdbus, pve, tmp_state
        wrap = tmp_path / "wrap"
        wrap.mkdir()
        self.log = tmp_path / "pct-calls.log"
        (wrap / "pct").write_text(PCT_WRAPPER.format(log=str(self.log), pct=PCT))
        (wrap / "pct").chmod(0o755)
        self.env = {**pve.env()}
        self.env["PATH"] = f"{wrap}:{self.env['PATH']}"

    def run(self, state, *args, cmd="apply", check=None, env=None):
        path = self.tmp_state(state)
        res = self.opdbus.run(cmd, "--json", path, *args, check=check, json=True,
                              env={**self.env, **(env or {})}, timeout=180)
        return res

    def calls(self):
        """pct calls since the last one: [[subcommand, args...], ...]."""
        if not self.log.exists():
            return []
        lines = self.log.read_text().splitlines()
        self.log.write_text("")
        return [json.loads(line) for line in lines]

    def changing_calls(self):
        return [c for c in self.calls() if c and c[0] in CHANGING]

    def config(self, vmid):
        out = self.pve.pct("config", vmid, check=0).stdout
        return dict(line.split(": ", 1) for line in out.splitlines())

    def running(self, vmid):
        return self.pve.pct("status", vmid, check=0).stdout.strip() == "status: running"

    def ping(self, vmid, addr):
        return self.pve.pct("exec", vmid, "--", "ping", "-c", "1", "-W", "2", addr)


@pytest.fixture
def node(ovs, opdbus, pve_sim, tmp_path, tmp_state):  # noqa: F811
    return Node(ovs, opdbus, pve_sim(ovs), tmp_path, tmp_state)


def container(vmid, ip=None, **kw):
    c = {"id": vmid, "name": f"ct{vmid}", "template": "debian-12", "state": "running",
         "properties": {"memory": 256, "swap": 0, "rootfs_size": 1}}
    if ip:
        c["network"] = {"bridge": "vmbr0", "ipv4": ip,
                        "hwaddr": f"BC:24:11:00:{vmid // 100:02X}:{vmid % 100:02X}"}
    for key, value in kw.items():
        if isinstance(value, dict) and isinstance(c.get(key), dict):
            c[key].update(value)
        else:
            c[key] = value
    return c


def state(*containers, prune=False, bridge=True):
    """backend "auto": pct, which the node's PATH has."""
    lxc = {"containers": list(containers)}
    if prune:
        lxc["prune"] = True
    plugins = {"lxc": lxc}
    if bridge:
        plugins["net"] = {"bridges": [{"name": "vmbr0", "datapath_type": "netdev"}]}
    return {"version": 1, "plugins": plugins}


def changes(res, plugin="lxc"):
    return {(c["action"], c["path"], c["impact"]) for c in res.json["changes"] if c["plugin"] == plugin}


def test_two_containers_on_ovs_ping_and_second_apply_does_nothing(node):
    doc = state(container(301, "10.50.0.1/24"),
                container(302, "10.50.0.2/24", network={"firewall": True}))
    res = node.run(doc, check=0)
    assert changes(res) == {("create", "container/301", "no traffic impact"),
                            ("create", "container/302", "no traffic impact")}
    assert res.json["counts"]["commands"] == 4  # two creates, two starts
    created = [c[:2] for c in node.changing_calls()]
    assert created == [["create", "301"], ["start", "301"], ["create", "302"], ["start", "302"]]

    # Proxmox plugged the NICs: the veth, and the firewall bridge's link
    assert set(node.ovs.vsctl("list-ports", "vmbr0").split()) == {"veth301i0", "fwln302o0"}
    conf = node.config(301)
    assert conf["tags"] == "op-dbus" and conf["unprivileged"] == "1" and conf["memory"] == "256"
    assert conf["net0"] == "name=eth0,bridge=vmbr0,hwaddr=BC:24:11:00:03:01,ip=10.50.0.1/24,type=veth"
    assert "firewall=1" in node.config(302)["net0"]
    assert conf["rootfs"].startswith("local-lvm:") and conf["rootfs"].endswith("size=1G")
    assert urllib.parse.unquote(conf["description"]).splitlines() == [
        "Managed by op-dbus: changes made here are undone by its next apply.",
        "op-dbus template: debian-12", f"op-dbus volume: {node.pve.template}"]

    res = node.ping(301, "10.50.0.2")
    assert res.returncode == 0, res.stdout + res.stderr
    res = node.ping(302, "10.50.0.1")
    assert res.returncode == 0, res.stdout + res.stderr

    # the second apply changes nothing and runs no changing pct command
    res = node.run(doc, check=0)
    assert res.json["changes"] == [] and res.json["counts"]["commands"] == 0
    assert node.changing_calls() == []
    node.run(doc, cmd="verify", check=0)

    # the query lists both; applied as a state it changes nothing either
    live = node.opdbus.run("query", check=0, json=True, env=node.env).json
    cts = live["plugins"]["lxc"]["containers"]
    assert [c["id"] for c in cts] == [301, 302]
    assert cts[1]["network"]["port_name"] == "fwln302o0" and cts[1]["template"] == "debian-12"
    res = node.run(live, check=0)
    assert res.json["changes"] == [] and res.json["counts"]["commands"] == 0


def offload_warnings(res):
    return [w for w in res.json["warnings"] if "checksum offload" in w]


def test_veth_on_a_userspace_bridge_warns_with_the_command_that_fixes_it(node):
    """Proxmox makes its containers' veths itself. On a bridge of the
    userspace datapath, which loses what a veth sends with transmit checksum
    offload (test_traffic.py), the plan names the port and the command that
    turns the offload off in the container; the command works as printed,
    TCP between the containers then passes, and the warning goes."""
    doc = state(container(301, "10.50.0.1/24"),
                container(302, "10.50.0.2/24", network={"firewall": True}))
    node.run(doc, check=0)

    def pid(vmid):
        out = node.pve.pct("status", vmid, "--verbose", check=0).stdout
        return int(re.search(r"^pid: (\d+)$", out, re.M).group(1))

    def peer(vmid):
        return netlab.Peer(f"ct{vmid}", f"/proc/{pid(vmid)}/ns/net", f"10.50.0.{vmid - 300}")

    netlab.tcp_dropped(peer(301), "10.50.0.2", 5001, server=peer(302))
    res = node.run(doc, cmd="plan", check=0)
    assert res.json["changes"] == []
    commands = {}
    for vmid, port, path in ((301, "veth301i0", 0), (302, "fwln302o0", 1)):
        cmd = (f"nsenter -t \"$(pct status {vmid} --verbose | sed -n 's/^pid: //p')\" -n "
               "ethtool -K eth0 tx off")
        commands[vmid] = cmd
        assert (f"plugins.lxc.containers[{path}]: container {vmid}: {port} is on bridge vmbr0, "
                "which uses Open vSwitch's userspace datapath, and eth0 in the container sends "
                "with transmit checksum offload, so its TCP and UDP traffic through the bridge is "
                "lost; turn the offload off (again after every start of the container): "
                f"{cmd}") in offload_warnings(res), res.json["warnings"]
    assert len(offload_warnings(res)) == 2

    for cmd in commands.values():
        r = subprocess.run(["bash", "-c", cmd], env={**os.environ, **node.env},
                           capture_output=True, text=True, timeout=60)
        assert r.returncode == 0, r.stderr
    assert offload_warnings(node.run(doc, cmd="plan", check=0)) == []
    assert netlab.tcp_exchange(peer(301), peer(302), 5001) == "10.50.0.1"
    assert netlab.udp_exchange(peer(302), peer(301), 5002) == "10.50.0.2"

    # A container the apply is about to start: the same command, for later.
    doc["plugins"]["lxc"]["containers"].append(container(303, "10.50.0.3/24"))
    res = node.run(doc, cmd="plan", check=0)
    cmd = ("nsenter -t \"$(pct status 303 --verbose | sed -n 's/^pid: //p')\" -n "
           "ethtool -K eth0 tx off")
    assert offload_warnings(res) == [
        "plugins.lxc.containers[2]: container 303 starts with veth303i0 on bridge vmbr0, which "
        "uses Open vSwitch's userspace datapath: its TCP and UDP traffic through the bridge is "
        "lost while eth0 in the container sends with transmit checksum offload; once it runs, "
        f"turn the offload off (again after every start): {cmd}"]


def test_changes_get_exactly_the_planned_action(node):
    doc = state(container(311, "10.51.0.1/24"))
    node.run(doc, check=0)
    node.calls()

    # memory: set in place on the running container
    doc["plugins"]["lxc"]["containers"][0]["properties"]["memory"] = 512
    plan = node.run(doc, cmd="plan", check=0)
    (change,) = plan.json["changes"]
    assert (change["action"], change["impact"], change["detail"]) == (
        "modify", "no traffic impact", "memory 256 -> 512")
    res = node.run(doc, check=0)
    assert changes(res) == {("modify", "container/311", "no traffic impact")}
    assert node.changing_calls() == [["set", "311", "--memory", "512"]]
    assert node.config(311)["memory"] == "512" and node.running(311)

    # hwaddr: the NIC is re-created and re-plugged (port flap), no restart
    doc["plugins"]["lxc"]["containers"][0]["network"]["hwaddr"] = "02:00:00:00:03:11"
    res = node.run(doc, check=0)
    assert changes(res) == {("replug", "container/311", "port flap")}
    calls = node.changing_calls()
    assert [c[:2] for c in calls] == [["set", "311"]] and calls[0][2] == "--net0"
    assert "hwaddr=02:00:00:00:03:11" in calls[0][3]
    inside = node.pve.pct("exec", 311, "--", "ip", "link", "show", "eth0", check=0).stdout
    assert "02:00:00:00:03:11" in inside
    assert "veth311i0" in node.ovs.vsctl("list-ports", "vmbr0").split()

    # features take effect at the next start: modify with a restart
    doc["plugins"]["lxc"]["containers"][0]["properties"]["features"] = {"nesting": True}
    res = node.run(doc, check=0)
    assert changes(res) == {("modify", "container/311", "container restart")}
    assert [c[:2] for c in node.changing_calls()] == [["set", "311"], ["shutdown", "311"], ["start", "311"]]
    assert node.config(311)["features"] == "nesting=1" and node.running(311)

    # a smaller root filesystem or another privilege level: destroyed and created again
    smaller = copy.deepcopy(doc)
    smaller["plugins"]["lxc"]["containers"][0]["properties"].update(
        {"unprivileged": False, "allow_privileged": True})
    plan = node.run(smaller, cmd="plan", check=0)
    (change,) = plan.json["changes"]
    assert (change["action"], change["impact"]) == ("recreate", "container destroyed")
    assert "unprivileged 1 -> 0" in change["detail"] and "data is lost" in change["detail"]
    assert any("root user is root on the host" in w for w in plan.json["warnings"])

    # stop: the state says so
    doc["plugins"]["lxc"]["containers"][0]["state"] = "stopped"
    res = node.run(doc, check=0)
    assert changes(res) == {("modify", "container/311", "container restart")}
    assert not node.running(311)


def test_foreign_container_is_left_alone_and_cannot_be_declared(node):
    pve = node.pve
    pve.create(320, "--hostname", "handmade", "--memory", "128")
    before = pve.read_conf(320)
    doc = state(container(321, state="stopped"), prune=True)
    res = node.run(doc, check=0)
    assert changes(res) == {("create", "container/321", "no traffic impact")}
    assert pve.read_conf(320) == before

    res = node.run(state(container(320, state="stopped")), check=2)
    (error,) = res.json["errors"]
    assert error.startswith("plugins.lxc.containers[0]: container 320 already exists and was not created by op-dbus")
    assert res.json["counts"]["commands"] == 0 and pve.read_conf(320) == before

    # an id a virtual machine uses is refused as well
    pve.add_vm(322)
    res = node.run(state(container(322, state="stopped")), check=2)
    assert "already used by a virtual machine on node pve" in res.json["errors"][0]


@pytest.mark.ovs_log_allow(r"\|bridge\|ERR\|failed to create bridge nosuchbr: ")
def test_failed_creations_are_rolled_back(node):
    pve = node.pve
    # a template that is not in the cache: refused by the plan, with what to fetch
    src = os.path.join(pve.template_dir, "debian-13-standard_13.6-1_amd64.tar.gz")
    pve_fixture_build(src)
    res = node.run(state(container(330, state="stopped", template="debian-13")), check=2)
    (error,) = res.json["errors"]
    assert error == ("plugins.lxc.containers[0].template: template \"debian-13\" is not in the template cache "
                     "of storage local; `pveam download local debian-13-standard_13.6-1_amd64.tar.gz` fetches it")
    res = node.run(state(container(330, state="stopped", template="nosuch-1")), check=2)
    assert "`pveam available` does not offer it either" in res.json["errors"][0]

    # a bridge the state declares, but only the lxc section is applied:
    # the applied state would have the container on a bridge nobody
    # creates, refused before anything is touched
    doc = state(container(331, "10.53.0.1/24", network={"bridge": "nosuchbr"}))
    doc["plugins"]["net"]["bridges"].append({"name": "nosuchbr", "datapath_type": "netdev"})
    res = node.run(doc, "--plugin", "lxc", check=2)
    assert res.json["errors"][0].startswith('plugins.lxc.containers[0].network.bridge: bridge "nosuchbr" does '
                                            "not exist"), res.json["errors"]
    assert node.changing_calls() == []

    # a bridge OVSDB has but ovs-vswitchd could not create (no such
    # datapath type): the start fails, the container goes again
    node.ovs.vsctl("add-br", "nosuchbr", "--", "set", "Bridge", "nosuchbr", "datapath_type=nosuch")
    res = node.run(state(container(331, "10.53.0.1/24", network={"bridge": "nosuchbr"})), check=1)
    assert res.json["rolled_back"]
    assert any("bridge 'nosuchbr' does not exist" in e for e in res.json["errors"]), res.json["errors"]
    assert pve.ct_ids() == []
    calls = [c[:2] for c in node.changing_calls()]
    assert calls == [["create", "331"], ["start", "331"], ["destroy", "331"]]


def test_rollback_restores_settings_and_removes_what_the_apply_created(node):
    node.run(state(container(340, state="stopped")), check=0)
    doc = state(container(340, state="stopped", properties={"memory": 512}),
                container(341, state="stopped"))
    res = node.run(doc, check=1, env={"OPDBUS_FAULT_INJECT": "lxc"})
    assert res.json["rolled_back"] and res.json["status"] == "failed"
    assert {(c["action"], c["path"]) for c in res.json["rollback_changes"] if c["plugin"] == "lxc"} == {
        ("modify", "container/340"), ("delete", "container/341")}
    assert node.pve.ct_ids() == [340]
    assert node.config(340)["memory"] == "256"


def test_tun_keys_go_before_the_first_section(node):
    pve = node.pve
    doc = state(container(350, "10.54.0.1/24"))
    node.run(doc, check=0)
    node.calls()
    # a snapshot section, as `pct snapshot` would leave it
    text = pve.read_conf(350)
    pve.write_conf(350, text + "parent: snap1\n\n[snap1]\narch: amd64\nhostname: old\nmemory: 128\n"
                   "snaptime: 1700000001\n")
    before = pve.read_conf(350)
    mode = stat.S_IMODE(os.stat(pve.conf_path(350)).st_mode)

    doc["plugins"]["lxc"]["containers"][0]["services"] = ["wg-quick@wg0"]
    plan = node.run(doc, cmd="plan", check=0)
    (change,) = plan.json["changes"]
    assert (change["action"], change["impact"]) == ("modify", "container restart")
    assert "TUN device off -> on" in change["detail"]
    node.run(doc, check=0)

    after = pve.read_conf(350)
    lines = ["lxc.cgroup2.devices.allow: c 10:200 rwm",
             "lxc.mount.entry: /dev/net/tun dev/net/tun none bind,create=file"]
    main, section = after.split("\n[snap1]\n", 1)
    assert main.splitlines()[-2:] == lines
    assert section.startswith("arch: amd64\n")
    assert after.replace("".join(line + "\n" for line in lines), "") == before
    assert stat.S_IMODE(os.stat(pve.conf_path(350)).st_mode) == mode
    assert [c[:2] for c in node.changing_calls()] == [["shutdown", "350"], ["start", "350"]]
    res = pve.pct("exec", 350, "--", "ls", "-l", "/dev/net/tun")
    assert res.returncode == 0 and res.stdout.startswith("c"), res.stdout + res.stderr

    res = node.run(doc, check=0)
    assert res.json["changes"] == [] and node.changing_calls() == []


def test_prune(node):
    node.run(state(container(360, state="stopped"), container(361, state="stopped")), check=0)
    res = node.run(state(container(360, state="stopped")), check=0)
    assert res.json["changes"] == []
    assert any("container 361 (ct361) was created by op-dbus and is no longer in the state" in w
               for w in res.json["warnings"])
    assert node.pve.ct_ids() == [360, 361]

    # destroying a container needs the same consent as an outage
    node.calls()
    res = node.run(state(container(360, state="stopped"), prune=True), check=2)
    (error,) = res.json["errors"]
    assert error.startswith("container/361: delete would destroy container 361 and the data on its disks; "
                            "refused, nothing was changed"), error
    assert node.pve.ct_ids() == [360, 361] and node.changing_calls() == []
    res = node.run(state(container(360, state="stopped"), prune=True), "--allow-outage", check=0)
    assert changes(res) == {("delete", "container/361", "container destroyed")}
    assert node.pve.ct_ids() == [360]


def test_container_on_a_bridge_that_does_not_exist_is_refused(node):
    node.run(state(), check=0)  # vmbr0 exists from here on
    before = node.ovs.dump()
    typo = state(container(380, "10.50.0.80/24", network={"bridge": "nosuchbr"}))
    for cmd in ("plan", "apply"):
        res = node.run(typo, cmd=cmd, check=2)
        assert res.json["errors"] == [
            'plugins.lxc.containers[0].network.bridge: bridge "nosuchbr" does not exist (neither an Open vSwitch '
            "bridge nor a network device of this host) and plugins.net does not declare it; the Open vSwitch "
            "bridges here are: vmbr0"], res.json["errors"]
    assert node.changing_calls() == [] and node.pve.ct_ids() == [] and node.ovs.dump() == before

    # a bridge of the state's net section, an Open vSwitch bridge made by hand and a
    # Linux bridge in the namespace Open vSwitch runs in (where Proxmox plugs veths) are all fine
    node.ovs.vsctl("add-br", "vmbr1", "--", "set", "Bridge", "vmbr1", "datapath_type=netdev")
    node.ovs.netns_exec("ip", "link", "add", "vmbr2", "type", "bridge")
    declared = state(container(381, "10.50.0.81/24", network={"bridge": "vmbr9"}),
                     container(382, "10.50.0.82/24", network={"bridge": "vmbr1"}),
                     container(383, "10.50.0.83/24", network={"bridge": "vmbr2"}))
    declared["plugins"]["net"]["bridges"].append({"name": "vmbr9", "datapath_type": "netdev"})
    res = node.run(declared, cmd="plan", check=0)
    assert {"container/381", "container/382", "container/383"} <= {c["path"] for c in res.json["changes"]}


def test_refused_plans(node):
    bad = state(container(370, properties={"unprivileged": False}))
    res = node.run(bad, cmd="plan", check=2)
    assert res.json["errors"][0].startswith("plugins.lxc.containers[0].properties.unprivileged: a privileged container")
    # allowed: created, with a warning in the plan and in the apply
    ok = state(container(371, state="stopped", properties={"unprivileged": False, "allow_privileged": True}))
    res = node.run(ok, check=0)
    warnings = [w for w in res.json["warnings"] if "root user is root on the host" in w or
                "root inside it is root on the host" in w]
    assert len(warnings) == 2, res.json["warnings"]
    assert node.config(371).get("unprivileged", "0") == "0"
    assert [c[:4] for c in node.changing_calls()] == [["create", "371", node.pve.template, "--unprivileged"]]

    # backend "lxc" is plain LXC (test_lxc_plain.py), whose templates are LXC's own,
    # on a private lxcpath here
    plain = {"OPDBUS_LXC_PATH": node.pve.path("var/lib/plain-lxc")}
    lxc = state(container(370))
    lxc["plugins"]["lxc"]["backend"] = "lxc"
    res = node.run(lxc, cmd="plan", check=2, env=plain)
    not_lxc = "plugins.lxc.containers[0].template: template \"debian-12\" is neither one of LXC's templates"
    assert res.json["errors"][0].startswith(not_lxc)
    # "auto" without pct on PATH is plain LXC as well; with nothing to manage that is fine
    no_pct = {"PATH": "/usr/sbin:/usr/bin:/sbin:/bin", **plain}
    res = node.run(state(container(370)), cmd="plan", check=2, env=no_pct)
    assert res.json["errors"][0].startswith(not_lxc)
    node.run(state(), cmd="plan", check=0, env=no_pct)

    sock = state(container(370, network={"socket_networking": True}))
    res = node.run(sock, cmd="plan", check=2)
    assert res.json["errors"][0].startswith(
        "plugins.lxc.containers[0].network: socket networking needs \"bridge\"")

    port = state(container(370, "10.55.0.1/24", network={"port_name": "veth370x"}))
    res = node.run(port, cmd="plan", check=2)
    assert 'names this container\'s port on vmbr0 "veth370i0"' in res.json["errors"][0]
    assert node.changing_calls() == []


def pve_fixture_build(path):
    """A second template in the download source (not in the cache)."""
    import subprocess
    from pve_fixture import PVE_SIM_DIR
    if not os.path.exists(path):
        subprocess.run([str(PVE_SIM_DIR / "mkbusyboxtmpl"), path], check=True)


def test_environment_lines_do_not_hide_the_configuration(node):
    # Two lxc.environment.runtime lines make `pct config` print "env: A\0B"
    # (pve-container >= 6.0.15); the keys sorted after it (hostname, memory,
    # net0, tags, ...) are still the container's.
    doc = state(container(380, "10.58.0.1/24", state="stopped"))
    node.run(doc, check=0)
    node.pve.add_raw_lxc(380, "lxc.environment.runtime: HTTP_PROXY=http://proxy:3128",
                         "lxc.environment.runtime: LANG=C.UTF-8")
    assert "\0" in node.pve.pct("config", 380, check=0).stdout
    res = node.run(doc, cmd="plan", check=0)
    assert res.json["changes"] == [] and res.json["errors"] == [], res.json
    live = node.opdbus.run("query", check=0, json=True, env=node.env).json
    (ct,) = live["plugins"]["lxc"]["containers"]
    assert (ct["id"], ct["name"], ct["network"]["ipv4"]) == (380, "ct380", "10.58.0.1/24")
    node.calls()
    node.run(doc, check=0)
    assert node.changing_calls() == []
    assert node.pve.read_conf(380).count("lxc.environment.runtime: ") == 2


def test_missing_swap_line_means_no_swap(node):
    # Proxmox gives a container whose configuration has no "swap:" line no
    # swap at all (pct create writes 512, a hand-written config may not)
    doc = state(container(381, state="stopped", properties={"swap": 512}))
    node.run(doc, check=0)
    node.pve.pct("set", 381, "--delete", "swap", check=0)
    assert "swap:" not in node.pve.read_conf(381)
    plan = node.run(doc, cmd="plan", check=0)
    (change,) = plan.json["changes"]
    assert (change["action"], change["detail"]) == ("modify", "swap 0 -> 512")
    node.calls()
    node.run(doc, check=0)
    assert node.changing_calls() == [["set", "381", "--swap", "512"]]
    assert node.config(381)["swap"] == "512"


def test_nets_from_net10_go_with_a_restart(node):
    # Proxmox hot-unplugs only net0..net9 (^net(\d)$): deleting net10 from
    # a running container stays pending until it starts again
    doc = state(container(382, "10.59.0.1/24"))
    node.run(doc, check=0)
    for net in ("net1", "net10"):
        node.pve.pct("set", 382, f"--{net}", f"name=eth{net[3:]},bridge=vmbr0", check=0)
    plan = node.run(doc, cmd="plan", check=0)
    (change,) = plan.json["changes"]
    assert (change["action"], change["impact"]) == ("modify", "container restart"), change
    assert "net10 (set) -> (removed: op-dbus manages net0 only; Proxmox removes net10 and above at the next start)" \
        in change["detail"]
    node.calls()
    node.run(doc, check=0)
    assert [c[:2] for c in node.changing_calls()] == [["set", "382"], ["shutdown", "382"], ["start", "382"]]
    current = node.pve.pct("config", 382, "--current", check=0).stdout
    assert "net1:" not in current and "net10:" not in current and node.running(382)
    res = node.run(doc, cmd="plan", check=0)
    assert res.json["changes"] == []


def test_hostname_of_a_running_container_takes_a_restart(node):
    # Proxmox writes a new hostname into the configuration at once, but the
    # container gets it only when it starts again
    doc = state(container(383, "10.59.0.3/24"))
    node.run(doc, check=0)
    doc["plugins"]["lxc"]["containers"][0]["name"] = "renamed383"
    plan = node.run(doc, cmd="plan", check=0)
    (change,) = plan.json["changes"]
    assert (change["action"], change["impact"], change["detail"]) == (
        "modify", "container restart", "hostname ct383 -> renamed383; restarts the container for it")
    node.calls()
    node.run(doc, check=0)
    assert [c[:2] for c in node.changing_calls()] == [["set", "383"], ["shutdown", "383"], ["start", "383"]]
    assert node.pve.pct("exec", 383, "--", "hostname", check=0).stdout == "renamed383\n"
    # a stopped container just gets the new name
    doc["plugins"]["lxc"]["containers"][0].update({"name": "again383", "state": "stopped"})
    node.run(doc, check=0)
    doc["plugins"]["lxc"]["containers"][0]["name"] = "third383"
    plan = node.run(doc, cmd="plan", check=0)
    (change,) = plan.json["changes"]
    assert (change["impact"], change["detail"]) == ("no traffic impact", "hostname again383 -> third383")


def test_failed_resize_fails_the_apply(node):
    # pct resize exits 0 when its worker fails (lvextend without space):
    # the error on standard error, and the size read back, tell
    with open(node.pve.path("etc/pve/storage.cfg"), "a") as f:
        f.write("lvm: thick\n\tvgname vg1\n\tcontent rootdir,images\n\n")
    doc = state(container(384, state="stopped", properties={"storage": "thick"}))
    node.run(doc, check=0)
    node.calls()
    doc["plugins"]["lxc"]["containers"][0]["properties"]["rootfs_size"] = 2
    node.run(doc, check=0)
    assert node.changing_calls() == [["resize", "384", "rootfs", "2048M"]]
    assert node.config(384)["rootfs"] == "thick:vm-384-disk-0,size=2G"

    doc["plugins"]["lxc"]["containers"][0]["properties"]["rootfs_size"] = 1000000
    res = node.run(doc, check=1)
    assert res.json["status"] == "failed", res.json
    assert any("Insufficient free space" in e for e in res.json["errors"]), res.json["errors"]
    assert not any("Insufficient free space" in w for w in res.json["warnings"]), res.json["warnings"]
    assert node.config(384)["rootfs"] == "thick:vm-384-disk-0,size=2G"


def test_rollback_after_a_resize_keeps_the_container(node):
    # a volume is never shrunk: when an apply that grew the root file system
    # fails later and rolls back, the container stays (with its larger
    # disk) instead of being destroyed and created again at its old size
    doc = state(container(387, state="stopped"))
    node.run(doc, check=0)
    volume = node.config(387)["rootfs"].split(",")[0]
    node.calls()
    doc["plugins"]["lxc"]["containers"][0]["properties"]["rootfs_size"] = 2
    res = node.run(doc, check=1, env={"OPDBUS_FAULT_INJECT": "lxc"})
    assert res.json["status"] == "failed", res.json
    assert node.changing_calls() == [["resize", "387", "rootfs", "2048M"]]
    assert node.config(387)["rootfs"] == f"{volume},size=2G"
    assert any(w.startswith("plugins.lxc.containers[0].properties.rootfs_size: rollback: the root file system "
                            "of container 387 has 2048 MiB") for w in res.json["warnings"]), res.json["warnings"]

    # asking for less later plans nothing but the warning
    doc["plugins"]["lxc"]["containers"][0]["properties"]["rootfs_size"] = 1
    plan = node.run(doc, cmd="plan", check=0)
    assert plan.json["changes"] == []
    assert any("a volume is never shrunk" in w for w in plan.json["warnings"]), plan.json["warnings"]


ZFS_NODE = ("dir: local\n\tpath /var/lib/vz\n\tcontent iso,vztmpl,backup\n\n"
            "zfspool: local-zfs\n\tpool rpool/data\n\tsparse 1\n\tcontent images,rootdir\n\n")


def test_storage_of_a_new_container(node):
    # a node installed on ZFS has local-zfs, not local-lvm: a container
    # goes to the node's only storage for containers, and the plan says so
    with open(node.pve.path("etc/pve/storage.cfg"), "w") as f:
        f.write(ZFS_NODE)
    doc = state(container(385, state="stopped"), bridge=False)
    plan = node.run(doc, cmd="plan", check=0)
    (change,) = plan.json["changes"]
    assert change["detail"] == f"from {node.pve.template} on storage local-zfs"
    node.run(doc, check=0)
    assert node.config(385)["rootfs"] == "local-zfs:subvol-385-disk-0,size=1G"
    node.calls()

    # with two of them the state has to say which
    node.pve.add_storage("dir: nas\n\tpath /mnt/pve/nas\n\tcontent rootdir,backup")
    doc = state(container(385, state="stopped"), container(386, state="stopped"), bridge=False)
    res = node.run(doc, cmd="plan", check=2)
    assert res.json["errors"] == [
        "plugins.lxc.containers[1].properties.storage: this node has 2 storages that can hold containers "
        "(local-zfs, nas); name the one for container 386 in \"storage\""]
    doc["plugins"]["lxc"]["containers"][1]["properties"]["storage"] = "local-lvm"
    res = node.run(doc, cmd="plan", check=2)
    assert res.json["errors"] == [
        "plugins.lxc.containers[1].properties.storage: storage \"local-lvm\" cannot hold containers on this "
        "node; `pvesm status --content rootdir` lists local-zfs, nas"]
    doc["plugins"]["lxc"]["containers"][1]["properties"]["storage"] = "nas"
    plan = node.run(doc, cmd="plan", check=0)
    assert [c["detail"] for c in plan.json["changes"]] == [f"from {node.pve.template} on storage nas"]
    # the existing container stays where it is (no error for it), and
    # planning changed nothing
    assert [c for c in node.calls() if c[0] in CHANGING] == []


def test_ha_managed_container(node):
    # Proxmox HA decides whether an HA-managed container runs: pct start and
    # shutdown only queue a request with HA. op-dbus changes its settings,
    # but never starts, stops, restarts or destroys it.
    ct = container(387, "10.59.0.7/24")
    doc = state(ct)
    node.run(doc, check=0)
    os.makedirs(node.pve.path("etc/pve/ha"), exist_ok=True)
    with open(node.pve.path("etc/pve/ha/resources.cfg"), "w") as f:
        f.write("ct: 387\n\tstate started\n\n")
    node.calls()

    ct["state"] = "stopped"
    res = node.run(doc, check=0)
    assert res.json["changes"] == [] and node.changing_calls() == [] and node.running(387)
    assert ("plugins.lxc.containers[0]: container 387 is managed by Proxmox HA, which decides whether it runs: "
            "it is running, the state says stopped; op-dbus leaves it to HA (`ha-manager set ct:387 --state stopped`)"
            in res.json["warnings"]), res.json["warnings"]

    ct["properties"]["features"] = {"nesting": True}
    plan = node.run(doc, cmd="plan", check=0)
    (change,) = [c for c in plan.json["changes"] if c["plugin"] == "lxc"]
    assert (change["action"], change["impact"], change["detail"]) == (
        "modify", "no traffic impact",
        "features (unset) -> nesting=1; takes effect when the container starts again, which is up to Proxmox HA")
    node.run(doc, check=0)
    assert node.changing_calls() == [["set", "387", "--features", "nesting=1"]] and node.running(387)
    # pending in Proxmox until HA starts it again: nothing more to do
    plan = node.run(doc, cmd="plan", check=0)
    assert [c for c in plan.json["changes"] if c["plugin"] == "lxc"] == []

    ct["properties"].update({"unprivileged": False, "allow_privileged": True})
    res = node.run(doc, cmd="plan", check=2)
    assert "but Proxmox HA manages it" in res.json["errors"][0], res.json["errors"]

    res = node.run(state(prune=True), check=0)
    assert res.json["changes"] == [] and node.pve.ct_ids() == [387]
    assert any("Proxmox HA manages it; it is left as it is" in w for w in res.json["warnings"])
    os.unlink(node.pve.path("etc/pve/ha/resources.cfg"))
