# SPDX-License-Identifier: LGPL-2.1-or-later
"""Container networks across nodes through OVN, with real packets.

An OVN central (northbound and southbound ovsdb-server, ovn-northd) and two
nodes, each a private Open vSwitch with its own ovn-controller, joined by
a cluster network of veths (ovn_sandbox.py). Containers are namespaces on
each node's br-int. Traffic between nodes is Geneve over the userspace
datapath.
"""

import json
import os
import subprocess
import threading
import time

import pytest

from conftest import OpDbus, SANITIZER_PATTERNS
from netlab import CONNECT_TIMEOUT, Peer, in_netns, tcp_exchange, udp4_frame
from ovn_sandbox import GENEVE_PORT, OvnCluster, missing_tools

MAC_A, IP_A = "02:00:00:00:01:0a", "10.1.0.10"
MAC_B, IP_B = "02:00:00:00:01:0b", "10.1.0.11"


@pytest.fixture
def ovn_tools():
    missing = missing_tools()
    if missing:
        pytest.fail(f"OVN is not installed (missing {missing}): tests/deps.sh installs "
                    "ovn-central and ovn-host", pytrace=False)


@pytest.fixture
def cluster(ovn_tools):
    """Two nodes whose chassis settings op-dbus writes; their
    ovn-controllers run and wait for them."""
    c = OvnCluster(2, configure=False)
    try:
        yield c
    finally:
        c.close()


@pytest.fixture
def nodes(cluster, opdbus_bin, tmp_path):
    """One op-dbus runner per node, pointed at that node's Open vSwitch."""
    runners = []
    for node in cluster.nodes:
        env = dict(os.environ)
        env.update(node.ovs.env())
        env["DBUS_SYSTEM_BUS_ADDRESS"] = f"unix:path={tmp_path}/no-system-bus"
        runners.append(OpDbus(opdbus_bin, env, cwd=tmp_path))
    return runners


def section(cluster, node, ports=(), switches=(("ls1", "10.1.0.0/24"),)):
    return {"version": 1, "plugins": {"ovn": {
        "chassis": {"system_id": node.system_id, "northbound": cluster.central.nb_remote,
                    "southbound": cluster.central.sb_remote, "encap_type": "geneve",
                    "encap_ip": node.tunnel_ip, "bridge": "br-int"},
        "switches": [{"name": n, "subnet": s} for n, s in switches],
        "ports": list(ports),
    }}}


def lsp(name, mac, ip, interface=None, switch="ls1"):
    p = {"name": name, "switch": switch, "mac": mac, "ip": ip}
    if interface:
        p["interface"] = interface
    return p


def apply(runner, tmp_state, state, *args, check=True):
    r = runner.run("apply", "--json", *args, tmp_state(state), check=0 if check else None, json=True)
    return r.json


def nb_ports(cluster):
    """{name: (switch, addresses, port_security, external_ids)} of every
    logical switch port in the northbound database."""
    out = cluster.central.nbctl("--format=json", "--columns=_uuid,name,ports", "list", "Logical_Switch")
    switch_of = {}
    for row in json.loads(out)["data"]:
        ports = row[2]
        uuids = [ports[1]] if ports[0] == "uuid" else [u[1] for u in ports[1]]
        for u in uuids:
            switch_of[u] = row[1]
    out = cluster.central.nbctl("--format=json", "--columns=_uuid,name,addresses,port_security,external_ids",
                                "list", "Logical_Switch_Port")
    result = {}
    for uuid, name, addresses, security, ids in json.loads(out)["data"]:
        def strings(v):
            return [v] if isinstance(v, str) else [x for x in v[1]]
        result[name] = (switch_of.get(uuid[1]), strings(addresses), strings(security), dict(ids[1]))
    return result


def nb_switches(cluster):
    """[(name, external_ids)] of every logical switch, sorted."""
    out = cluster.central.nbctl("--format=json", "--columns=name,external_ids", "list", "Logical_Switch")
    return sorted((row[0], dict(row[1][1])) for row in json.loads(out)["data"])


class Capture:
    """tcpdump on the cluster network (a node's uplink veth, seen from the
    central's namespace), written to a file and read back."""

    def __init__(self, cluster, node, path):
        self.cluster, self.path = cluster, str(path)
        self.proc = subprocess.Popen(
            ["ip", "netns", "exec", cluster.central.netns, "tcpdump", "-n", "-U", "-i", node.uplink,
             "-w", self.path], stdout=subprocess.DEVNULL, stderr=subprocess.PIPE, text=True)
        # tcpdump says "listening on" once it captures
        line = self.proc.stderr.readline()
        assert "listening on" in line, line

    def stop(self):
        self.proc.terminate()
        self.proc.wait(10)
        self.proc.stderr.close()

    def count(self, expr):
        r = subprocess.run(["tcpdump", "-n", "-r", self.path, expr], capture_output=True, text=True, check=True)
        return len([l for l in r.stdout.splitlines() if l.strip()])


def check_geneve(cluster, a_host, b_host, tmp_path):
    """ICMP and a TCP connection from a container on node 1 to one on
    node 2, and on the cluster network only Geneve."""
    node = cluster.nodes[0]
    cap = Capture(cluster, node, tmp_path / "cluster.pcap")
    try:
        assert a_host.ping(b_host.ip, count=3, wait=2)
        seen = tcp_exchange(Peer("a", a_host.ns, a_host.ip), Peer("b", b_host.ns, b_host.ip), 5001)
        assert seen == a_host.ip
    finally:
        cap.stop()
    geneve = cap.count(f"udp dst port {GENEVE_PORT}")
    assert geneve >= 6, f"{geneve} Geneve packets on the cluster network"
    # the containers' packets cross it only inside Geneve
    assert cap.count(f"host {a_host.ip} or host {b_host.ip}") == 0
    assert cap.count(f"udp port {GENEVE_PORT} and not host {node.tunnel_ip}") == 0


# ---- the fixture itself (ovn-nbctl, without op-dbus) -----------------------------


def test_fixture_carries_geneve_between_two_nodes(ovn_tools, tmp_path):
    with OvnCluster(2) as c:
        a, b = c.nodes
        c.central.nbctl("ls-add", "ls1")
        for name, mac, ip in (("pa", MAC_A, IP_A), ("pb", MAC_B, IP_B)):
            c.central.nbctl("lsp-add", "ls1", name, "--", "lsp-set-addresses", name, f"{mac} {ip}")
        ha = c.container(a, "ca", MAC_A, IP_A, iface_id="pa")
        hb = c.container(b, "cb", MAC_B, IP_B, iface_id="pb")
        c.wait_port_up("pa")
        c.wait_port_up("pb")
        assert (c.port_chassis("pa"), c.port_chassis("pb")) == (a.system_id, b.system_id)
        check_geneve(c, ha, hb, tmp_path)
