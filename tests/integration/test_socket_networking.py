# SPDX-License-Identifier: LGPL-2.1-or-later
"""Socket networking in the lxc plugin (docs/socket-networking.md): a
container of the pct test double gets no veth but an OVS internal port of
the sandbox's netdev bridge, which op-dbus creates, moves into the
container's network namespace and configures there; after a container
restart and an ovs-vswitchd restart op-dbus attaches it again.

op-dbus runs inside the sandbox's network namespace, as it shares
ovs-vswitchd's namespace on a Proxmox node: that is where OVS creates the
port's device, and where op-dbus moves it from. (nsenter --net rather than
`ip netns exec`, which would remount /sys and hide the cgroup mounts LXC
needs.)"""

import json
import time

import pytest

from pve_fixture import pve_sim, pve_templates  # noqa: F401

# ovs-vswitchd logs an error for every tap that went with a container's
# namespace (see docs/socket-networking.md) until op-dbus adds the port again.
# A port moved into a container's namespace makes the netdev datapath log
# this once; modules that move ports share the allowance.
SOCKET_PORTS_LOG = pytest.mark.ovs_log_allow(
    r"dpif_netdev\|ERR\|error receiving data from internal_\d+: File descriptor in bad state",
)
pytestmark = SOCKET_PORTS_LOG

SOCK_MAC = "02:00:5e:31:00:10"


class Node:
    """The sandbox, the simulated Proxmox node, and op-dbus run in the
    sandbox's network namespace."""

    def __init__(self, ovs, opdbus_bin, pve, tmp_path, tmp_state):
        self.ovs, self.pve, self.tmp_state = ovs, pve, tmp_state
        self.wrapper = tmp_path / "op-dbus-in-netns"
        self.wrapper.write_text(f"#!/bin/sh\nexec nsenter --net=/run/netns/{ovs.netns} -- {opdbus_bin} \"$@\"\n")
        self.wrapper.chmod(0o755)
        self.env = {**ovs.env(), **pve.env()}

    def opdbus(self, opdbus, *args, check=None, env=None):
        return opdbus.run(*args, check=check, json=True, env={**self.env, **(env or {})}, timeout=180)

    def pct(self, *args, check=0):
        return self.pve.pct(*args, check=check)

    def inside(self, vmid, *cmd):
        return self.pve.pct("exec", vmid, "--", *cmd, check=0).stdout

    def ping(self, vmid, addr, attempts=5):
        for _ in range(attempts):
            if self.pve.pct("exec", vmid, "--", "ping", "-c", "1", "-W", "1", addr).returncode == 0:
                return True
        return False

    def port_ids(self, name):
        """external_ids of the Port row, or None when there is none."""
        out = self.ovs.vsctl("--format=json", "--columns=name,external_ids", "find", "Port", f"name={name}")
        rows = json.loads(out)["data"]
        if not rows:
            return None
        return dict(rows[0][1][1])


@pytest.fixture
def node(ovs, opdbus_bin, pve_sim, tmp_path, tmp_state):  # noqa: F811
    return Node(ovs, opdbus_bin, pve_sim(ovs), tmp_path, tmp_state)


@pytest.fixture
def opdbus_ns(node, opdbus):
    """The opdbus runner, with the binary run in the sandbox namespace."""
    opdbus.binary = str(node.wrapper)
    return opdbus


def container(vmid, network, **kw):
    c = {"id": vmid, "name": f"ct{vmid}", "template": "debian-12", "state": "running",
         "properties": {"memory": 256, "swap": 0, "rootfs_size": 1}, "network": network}
    c.update(kw)
    return c


def socket_net(**kw):
    return {"bridge": "vmbr0", "socket_networking": True, "ipv4": "10.31.0.10/24",
            "gateway": "10.31.0.1", "hwaddr": SOCK_MAC, **kw}


def veth_net(ip="10.31.0.11/24"):
    return {"bridge": "vmbr0", "ipv4": ip, "hwaddr": "02:00:5e:31:00:11"}


def state(*containers, net=True, lxc=True):
    plugins = {}
    if lxc:
        plugins["lxc"] = {"containers": list(containers)}
    if net:
        plugins["net"] = {"bridges": [{"name": "vmbr0", "datapath_type": "netdev"}]}
    return {"version": 1, "plugins": plugins}


def changes(res, plugin="lxc"):
    return {(c["action"], c["path"], c["impact"]) for c in res.json["changes"] if c["plugin"] == plugin}


def socket_changes(res):
    return {c for c in changes(res) if c[1].endswith("/socket")}


def assert_attached(node, vmid=310, port="internal_310"):
    link = node.inside(vmid, "ip", "link", "show", "eth0")
    assert SOCK_MAC in link and "UP" in link, link
    assert "inet 10.31.0.10/24" in node.inside(vmid, "ip", "-4", "addr", "show", "eth0")
    assert "default via 10.31.0.1 dev eth0" in node.inside(vmid, "ip", "route")
    assert port not in node.ovs.links()  # moved out of the OVS namespace
    assert node.ping(vmid, "10.31.0.11")


def wait_for(what, predicate, timeout=30):
    deadline = time.monotonic() + timeout
    while not predicate():
        assert time.monotonic() < deadline, f"timed out waiting for {what}"
        time.sleep(0.1)


def test_socket_container_lifecycle(node, opdbus_ns, tmp_state):
    doc = tmp_state(state(container(310, socket_net()), container(311, veth_net())))

    # the plan before the containers exist: the port is created, then attached after the start
    res = node.opdbus(opdbus_ns, "plan", "--json", doc, check=0)
    assert socket_changes(res) == {("create", "container/310/socket", "no traffic impact")}
    (detail,) = [c["detail"] for c in res.json["changes"] if c["path"] == "container/310/socket"]
    assert detail == ("OVS internal port internal_310 on vmbr0, moved into the container after its start as "
                      f"eth0 (10.31.0.10/24, gateway 10.31.0.1, MAC {SOCK_MAC})")

    res = node.opdbus(opdbus_ns, "apply", "--json", doc, check=0)
    assert ("create", "container/310", "no traffic impact") in changes(res)
    assert res.json["counts"]["ovsdb_ops"] > 0
    assert_attached(node)
    assert node.ping(311, "10.31.0.10")
    ports = set(node.ovs.vsctl("list-ports", "vmbr0").split())
    assert ports == {"internal_310", "veth311i0"}
    assert "veth310i0" not in node.ovs.links() and "net0" not in node.pve.read_conf(310)
    assert node.port_ids("internal_310") == {"op-dbus-owner": "op-dbus-lxc", "op-dbus-container": "310"}
    assert node.ovs.vsctl("get", "Interface", "internal_310", "type") == "internal"
    ofport = node.ovs.vsctl("get", "Interface", "internal_310", "ofport")

    # converged: nothing to do, nothing sent
    res = node.opdbus(opdbus_ns, "apply", "--json", doc, check=0)
    assert res.json["changes"] == []
    assert res.json["counts"] == {"writes": 0, "ovsdb_ops": 0, "flow_mods": 0, "commands": 0}

    # the query shows the socket port; applied as a state it changes nothing
    live = node.opdbus(opdbus_ns, "query", check=0).json
    (ct,) = [c for c in live["plugins"]["lxc"]["containers"] if c["id"] == 310]
    assert ct["network"] == {"bridge": "vmbr0", "socket_networking": True, "port_name": "internal_310"}
    res = node.opdbus(opdbus_ns, "apply", "--json", tmp_state(live), check=0)
    assert res.json["changes"] == []

    # a failed apply is rolled back to that state: the port stays attached
    bigger = state(container(310, socket_net(), properties={"memory": 512, "swap": 0, "rootfs_size": 1}),
                   container(311, veth_net()))
    res = node.opdbus(opdbus_ns, "apply", "--json", tmp_state(bigger), check=1, env={"OPDBUS_FAULT_INJECT": "lxc"})
    assert res.json["rolled_back"]
    assert not [c for c in res.json["rollback_changes"] if c["path"].endswith("/socket")]
    assert node.port_ids("internal_310") is not None
    assert_attached(node)

    # a restart by hand: the tap went with the old namespace; the port is added again
    node.pct("stop", 310)
    node.pct("start", 310)
    res = node.opdbus(opdbus_ns, "plan", "--json", doc, check=0)
    assert changes(res) == {("recreate", "container/310/socket", "port flap")}
    res = node.opdbus(opdbus_ns, "apply", "--json", doc, check=0)
    assert changes(res) == {("recreate", "container/310/socket", "port flap")}
    # taken off the bridge and added again (two transactions), moved in, configured
    assert res.json["counts"] == {"writes": 6, "ovsdb_ops": 6, "flow_mods": 0, "commands": 2}
    assert_attached(node)
    assert node.ovs.vsctl("get", "Interface", "internal_310", "ofport") == ofport

    # ovs-vswitchd restart: a new tap in its namespace, the old one stale in the container
    node.ovs.restart_vswitchd()
    wait_for("the new tap", lambda: "internal_310" in node.ovs.links())
    res = node.opdbus(opdbus_ns, "plan", "--json", doc, check=0)
    (change,) = [c for c in res.json["changes"] if c["path"] == "container/310/socket"]
    assert (change["action"], change["impact"]) == ("replug", "port flap")
    assert "stale one in the container is deleted" in change["detail"]
    res = node.opdbus(opdbus_ns, "apply", "--json", doc, check=0)
    assert ("replug", "container/310/socket", "port flap") in changes(res)
    assert_attached(node)

    # drift inside the container: address and route are configured again
    node.inside(310, "ip", "addr", "flush", "dev", "eth0")
    res = node.opdbus(opdbus_ns, "plan", "--json", doc, check=0)
    (change,) = res.json["changes"]
    assert (change["action"], change["path"]) == ("modify", "container/310/socket")
    assert change["detail"].startswith("address and default route missing")
    node.opdbus(opdbus_ns, "apply", "--json", doc, check=0)
    assert_attached(node)

    # the net plugin leaves the port alone (it is not its own), with or without the lxc section
    for only_net in (state(lxc=False), state()):
        res = node.opdbus(opdbus_ns, "apply", "--json", tmp_state(only_net), check=0)
        assert res.json["changes"] == []
        assert "internal_310" in node.ovs.vsctl("list-ports", "vmbr0").split()
    res = node.opdbus(opdbus_ns, "plan", "--json", doc, check=0)
    assert res.json["changes"] == []

    # back to a veth: the port goes, Proxmox plugs veth310i0
    veth = tmp_state(state(container(310, {**veth_net("10.31.0.10/24"), "hwaddr": SOCK_MAC}),
                           container(311, veth_net())))
    res = node.opdbus(opdbus_ns, "apply", "--json", veth, check=0)
    assert ("delete", "container/310/socket", "port removed") in changes(res)
    assert node.port_ids("internal_310") is None
    assert set(node.ovs.vsctl("list-ports", "vmbr0").split()) == {"veth310i0", "veth311i0"}
    assert node.ping(310, "10.31.0.11")

    # and to socket networking again, on the running container: the veth goes, the port comes
    res = node.opdbus(opdbus_ns, "apply", "--json", doc, check=0)
    assert changes(res) == {("modify", "container/310", "port removed"),
                            ("create", "container/310/socket", "no traffic impact")}
    assert set(node.ovs.vsctl("list-ports", "vmbr0").split()) == {"internal_310", "veth311i0"}
    assert_attached(node)


def test_port_owned_by_someone_else_is_refused(node, opdbus_ns, tmp_state):
    node.ovs.vsctl("add-br", "vmbr0", "--", "set", "Bridge", "vmbr0", "datapath_type=netdev")
    node.ovs.vsctl("add-port", "vmbr0", "internal_320", "--", "set", "Interface", "internal_320", "type=internal")
    doc = tmp_state(state(container(320, socket_net(ipv4="10.32.0.10/24", gateway="10.32.0.1")), net=False))
    res = node.opdbus(opdbus_ns, "plan", "--json", doc, check=2)
    (error,) = res.json["errors"]
    assert error.startswith('plugins.lxc.containers[0].network.port_name: port "internal_320" already exists '
                            "on bridge vmbr0 and was not created by op-dbus"), error
    assert node.pve.ct_ids() == []

    # static checks: a bridge is needed, the Proxmox firewall is not available
    bad = tmp_state(state(container(321, {"socket_networking": True, "firewall": True}), net=False))
    res = node.opdbus(opdbus_ns, "plan", "--json", bad, check=2)
    assert set(res.json["errors"]) == {
        'plugins.lxc.containers[0].network: socket networking needs "bridge": the OVS bridge the '
        "container's port is added to",
        "plugins.lxc.containers[0].network.firewall: the Proxmox firewall works on a veth only; filter a "
        "socket networking port with the openflow plugin's flows instead",
    }


def test_stopped_and_pruned_socket_container(node, opdbus_ns, tmp_state):
    doc = state(container(330, socket_net(ipv4="10.33.0.10/24", gateway="10.33.0.1", tag=33), state="stopped"))
    res = node.opdbus(opdbus_ns, "apply", "--json", tmp_state(doc), check=0)
    assert socket_changes(res) == {("create", "container/330/socket", "no traffic impact")}
    # a stopped container's port stays in OVS's namespace until it starts
    assert "internal_330" in node.ovs.links()
    assert node.ovs.vsctl("get", "Port", "internal_330", "tag") == "33"

    doc["plugins"]["lxc"]["containers"][0]["state"] = "running"
    doc["plugins"]["lxc"]["containers"][0]["network"]["tag"] = 34
    res = node.opdbus(opdbus_ns, "apply", "--json", tmp_state(doc), check=0)
    (change,) = [c for c in res.json["changes"] if c["path"] == "container/330/socket"]
    assert (change["action"], change["impact"]) == ("replug", "no traffic impact")
    assert change["detail"].endswith("; tag 33 -> 34")
    assert "inet 10.33.0.10/24" in node.inside(330, "ip", "-4", "addr", "show", "eth0")
    assert "internal_330" not in node.ovs.links()
    assert node.ovs.vsctl("get", "Port", "internal_330", "tag") == "34"

    doc["plugins"]["lxc"]["containers"] = []
    doc["plugins"]["lxc"]["prune"] = True
    res = node.opdbus(opdbus_ns, "apply", "--json", "--allow-outage", tmp_state(doc), check=0)
    assert changes(res) == {("delete", "container/330", "container destroyed"),
                            ("delete", "container/330/socket", "port removed")}
    assert node.port_ids("internal_330") is None and node.pve.ct_ids() == []
    assert "internal_330" not in node.ovs.vsctl("list-ports", "vmbr0").split()
