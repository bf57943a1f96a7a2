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

import pytest

from conftest import OpDbus, SANITIZER_PATTERNS
from netlab import CONNECT_TIMEOUT, Peer, tcp_exchange, udp4_frame
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
        errors = c.log_errors()
        assert not errors, "ERR lines in the cluster's logs:\n" + "\n".join(errors)
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


def section(cluster, node, ports=(), switches=(("ls1", "10.1.0.0/24"),), dhcp=None):
    return {"version": 1, "plugins": {"ovn": {
        "chassis": {"system_id": node.system_id, "northbound": cluster.central.nb_remote,
                    "southbound": cluster.central.sb_remote, "encap_type": "geneve",
                    "encap_ip": node.tunnel_ip, "bridge": "br-int"},
        "switches": [dict({"name": n, "subnet": s}, **({"dhcp": dhcp} if dhcp is not None else {}))
                     for n, s in switches],
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
        assert not c.log_errors()


# ---- the ovn plugin ----------------------------------------------------------------


def reaches(host, address, attempts=10):
    """True once host gets an answer to a ping of address: the first
    packets to another node may go while ovn-controller still installs
    flows, or while the tunnel's next hop is being resolved."""
    return any(host.ping(address, count=1, wait=1) for _ in range(attempts))


def two_containers(cluster):
    a, b = cluster.nodes
    return cluster.container(a, "ca", MAC_A, IP_A), cluster.container(b, "cb", MAC_B, IP_B)


def apply_both(cluster, nodes, tmp_state, ha, hb):
    a, b = cluster.nodes
    ra = apply(nodes[0], tmp_state, section(cluster, a, [lsp("pa", MAC_A, IP_A, ha.port)]))
    rb = apply(nodes[1], tmp_state, section(cluster, b, [lsp("pb", MAC_B, IP_B, hb.port)]))
    return ra, rb


def test_two_nodes_reach_each_other_over_a_logical_switch(cluster, nodes, tmp_state, tmp_path):
    a, b = cluster.nodes
    ha, hb = two_containers(cluster)
    ra, rb = apply_both(cluster, nodes, tmp_state, ha, hb)
    assert ra["ok"] and rb["ok"] and not ra["warnings"] and not rb["warnings"], (ra, rb)
    # the chassis, written where ovn-controller reads it
    ids = a.ovs.vsctl("get", "Open_vSwitch", ".", "external_ids")
    for k, v in a.chassis_ids().items():
        assert f'{k}="{v}"' in ids or f"{k}={v}" in ids, ids
    assert b.ovs.vsctl("get", "Interface", hb.port, "external_ids:iface-id") == '"pb"' \
        or b.ovs.vsctl("get", "Interface", hb.port, "external_ids:iface-id") == "pb"
    # the rows, tagged with their owner and node; the switch declared by both
    ports = nb_ports(cluster)
    assert ports["pa"][:3] == ("ls1", [f"{MAC_A} {IP_A}"], [f"{MAC_A} {IP_A}"])
    assert ports["pa"][3] == {"op-dbus-owner": "op-dbus", "op-dbus-node": a.system_id}
    assert ports["pb"][3]["op-dbus-node"] == b.system_id
    assert nb_switches(cluster) == [("ls1", {"op-dbus-owner": "op-dbus",
                                             f"op-dbus-node-{a.system_id}": "declared",
                                             f"op-dbus-node-{b.system_id}": "declared"})]
    # verified: each port is bound to its node's chassis
    assert (cluster.port_chassis("pa"), cluster.port_chassis("pb")) == (a.system_id, b.system_id)
    cluster.wait_port_up("pa")
    cluster.wait_port_up("pb")
    check_geneve(cluster, ha, hb, tmp_path)


def test_second_apply_sends_no_northbound_write(cluster, nodes, tmp_state):
    a, b = cluster.nodes
    ha, hb = two_containers(cluster)
    apply_both(cluster, nodes, tmp_state, ha, hb)
    nb_db = cluster.central.path("nb.db")
    size = os.path.getsize(nb_db)  # ovsdb-server appends every committed transaction
    ra, rb = apply_both(cluster, nodes, tmp_state, ha, hb)
    for r in (ra, rb):
        assert r["ok"] and not r["changes"] and r["counts"]["ovsdb_ops"] == 0, r
    assert os.path.getsize(nb_db) == size
    plan = nodes[0].run("plan", "--json", tmp_state(section(cluster, a, [lsp("pa", MAC_A, IP_A, ha.port)])),
                        check=0, json=True).json
    assert plan["changes"] == []


def test_port_security_drops_a_spoofed_source(cluster, nodes, tmp_state):
    ha, hb = two_containers(cluster)
    apply_both(cluster, nodes, tmp_state, ha, hb)
    cluster.wait_port_up("pa")
    cluster.wait_port_up("pb")
    assert reaches(ha, IP_B)  # learns B's MAC, proves the path

    def frame(src_mac, src_ip, marker):
        return udp4_frame(src_mac, MAC_B, src_ip, IP_B, 4000, 4001, marker)

    with hb.sniffer() as s:
        ha.send(frame(MAC_A, IP_A, b"genuine"))
        assert s.wait_for(lambda p: p.has(b"genuine"), timeout=CONNECT_TIMEOUT)
        ha.send(frame("02:00:00:00:01:99", IP_A, b"spoofed-mac"), frame(MAC_A, "10.1.0.99", b"spoofed-ip"))
        ha.send(frame(MAC_A, IP_A, b"after"))
        assert s.wait_for(lambda p: p.has(b"after"), timeout=CONNECT_TIMEOUT)
        assert not s.matching(lambda p: p.has(b"spoofed-mac") or p.has(b"spoofed-ip"))


def test_a_port_deleted_by_hand_is_created_again(cluster, nodes, tmp_state):
    a, _ = cluster.nodes
    ha, hb = two_containers(cluster)
    apply_both(cluster, nodes, tmp_state, ha, hb)
    cluster.central.nbctl("lsp-del", "pa")
    r = apply(nodes[0], tmp_state, section(cluster, a, [lsp("pa", MAC_A, IP_A, ha.port)]))
    assert [(c["action"], c["path"]) for c in r["changes"]] == [("create", "port/pa")], r
    assert nb_ports(cluster)["pa"][3]["op-dbus-node"] == a.system_id
    cluster.wait_port_up("pa")
    assert reaches(ha, IP_B)


def test_removing_node_b_ports_removes_only_them(cluster, nodes, tmp_state):
    a, b = cluster.nodes
    ha, hb = two_containers(cluster)
    apply_both(cluster, nodes, tmp_state, ha, hb)
    r = apply(nodes[1], tmp_state, section(cluster, b, []))
    assert sorted((c["action"], c["path"]) for c in r["changes"]) == [
        ("delete", "port/pb"), ("modify", f"interface/{hb.port}")], r
    assert sorted(nb_ports(cluster)) == ["pa"]
    ids = b.ovs.vsctl("get", "Interface", hb.port, "external_ids")
    assert "iface-id" not in ids and "op-dbus" not in ids, ids
    # B no longer declaring the switch leaves it to A
    r = apply(nodes[1], tmp_state, section(cluster, b, [], switches=()))
    assert [(c["action"], c["path"], c["impact"]) for c in r["changes"]] == [
        ("modify", "switch/ls1", "no traffic impact")], r
    assert nb_switches(cluster) == [("ls1", {"op-dbus-owner": "op-dbus",
                                             f"op-dbus-node-{a.system_id}": "declared"})]
    assert sorted(nb_ports(cluster)) == ["pa"]


def test_removing_a_switch_with_ports_is_an_outage(cluster, nodes, tmp_state):
    a, _ = cluster.nodes
    apply(nodes[0], tmp_state, section(cluster, a, [lsp("pa", MAC_A, IP_A)]))
    cluster.central.nbctl("lsp-add", "ls1", "by-hand")
    r = nodes[0].run("apply", "--json", tmp_state(section(cluster, a, [], switches=())), check=2, json=True).json
    assert any("switch/ls1: delete would cut off the traffic of the logical switch ports" in e
               and "by-hand" in e for e in r["errors"]), r
    assert sorted(nb_ports(cluster)) == ["by-hand", "pa"]
    r = apply(nodes[0], tmp_state, section(cluster, a, [], switches=()), "--allow-outage")
    assert nb_switches(cluster) == [] and nb_ports(cluster) == {}


def test_a_foreign_row_is_not_taken_over(cluster, nodes, tmp_state):
    a, b = cluster.nodes
    apply(nodes[1], tmp_state, section(cluster, b, [lsp("pb", MAC_B, IP_B)]))
    cluster.central.nbctl("ls-add", "ls-hand")
    st = section(cluster, a, [lsp("pb", MAC_B, IP_B)], switches=(("ls1", "10.1.0.0/24"), ("ls-hand", "10.2.0.0/24")))
    r = nodes[0].run("apply", "--json", tmp_state(st), check=2, json=True).json
    errors = "\n".join(r["errors"])
    assert 'plugins.ovn.switches[1]: logical switch "ls-hand" exists' in errors, errors
    assert f'plugins.ovn.ports[0]: logical switch port "pb" exists in the northbound database and belongs ' \
           f"to node {b.system_id}" in errors, errors
    assert nb_ports(cluster)["pb"][3]["op-dbus-node"] == b.system_id


def test_both_nodes_applying_at_once_end_with_the_union(cluster, nodes, tmp_state, tmp_path):
    """Both nodes' op-dbus started together, round after round: the
    northbound database ends with exactly what they declared, and an apply
    fails for nothing but a conflict it reports and retries. Even rounds
    move both nodes' ports to new switches (both create them at once, and
    leave the last round's); odd rounds empty both states (both leave the
    switches at once: the last one out deletes each, and its DHCP
    options)."""
    a, b = cluster.nodes
    rounds, per_node = 20, 4
    for rnd in range(rounds):
        if rnd % 2:
            switches, plan = (), {a.name: [], b.name: []}
        else:
            switches = ((f"ls{rnd}-1", "10.1.0.0/24"), (f"ls{rnd}-2", "10.2.0.0/24"))
            plan = {node.name: [lsp(f"n{i}-r{rnd}-p{k}", f"02:00:00:{i:02x}:{rnd:02x}:{k:02x}",
                                    f"10.{1 + k % 2}.0.{10 + 100 * i + rnd * per_node + k}",
                                    switch=f"ls{rnd}-{1 + k % 2}") for k in range(per_node)]
                    for i, node in enumerate((a, b))}
        files = [tmp_state(section(cluster, node, plan[node.name], switches, dhcp={})) for node in (a, b)]
        procs = [subprocess.Popen([runner.binary, "apply", "--json", f], env=runner.env, cwd=runner.cwd,
                                  stdout=subprocess.PIPE, stderr=subprocess.PIPE, text=True)
                 for runner, f in zip(nodes, files)]
        for p in procs:
            out, err = p.communicate(timeout=120)
            assert not any(pat.search(err) for pat in SANITIZER_PATTERNS), err
            res = json.loads(out)
            assert p.returncode == 0 and res["ok"], (res["errors"], res["changes"], err)
            for w in res["warnings"]:
                assert "read again and retried" in w, w
        want = {p["name"]: (p["switch"], [f"{p['mac']} {p['ip']}"]) for ports in plan.values() for p in ports}
        have = nb_ports(cluster)
        assert {n: v[:2] for n, v in have.items()} == want, f"round {rnd}"
        assert nb_switches(cluster) == [(name, {"op-dbus-owner": "op-dbus",
                                                f"op-dbus-node-{a.system_id}": "declared",
                                                f"op-dbus-node-{b.system_id}": "declared"})
                                        for name, _ in switches], f"round {rnd}"
        assert sorted(row[2]["op-dbus-switch"] for row in nb_dhcp(cluster)) == [name for name, _ in switches]


@pytest.mark.parametrize("field,value,path,message", [
    ("mac", "02:00:00:00:01", "plugins.ovn.ports[0].mac", "MAC"),
    ("mac", "03:00:00:00:01:0a", "plugins.ovn.ports[0].mac", "unicast"),
    ("ip", "10.9.0.10", "plugins.ovn.ports[0].ip", '10.9.0.10 is not a host address of the subnet 10.1.0.0/24 of logical switch "ls1"'),
    ("switch", "nope", "plugins.ovn.ports[0].switch", 'unknown logical switch "nope"'),
    ("interface", "a/b", "plugins.ovn.ports[0].interface", "interface name"),
])
def test_validation_errors_name_the_path(opdbus, tmp_state, field, value, path, message):
    port = {"name": "pa", "switch": "ls1", "mac": MAC_A, "ip": IP_A, field: value}
    st = {"version": 1, "plugins": {"ovn": {
        "chassis": {"system_id": "pve1", "northbound": "unix:/nonexistent/nb.sock",
                    "southbound": "tcp:192.0.2.1:6642", "encap_ip": "192.0.2.11"},
        "switches": [{"name": "ls1", "subnet": "10.1.0.0/24"}], "ports": [port]}}}
    r = opdbus.run("validate", "--json", tmp_state(st), check=2, json=True).json
    assert any(e.startswith(path + ":") and message in e for e in r["errors"]), r["errors"]


def test_validation_of_the_chassis_and_switches(opdbus, tmp_state):
    st = {"version": 1, "plugins": {"ovn": {
        "chassis": {"system_id": "pve 1", "northbound": "ssl:192.0.2.1:6641", "southbound": "x",
                    "encap_type": "vxlan", "encap_ip": "192.0.2.300"},
        "switches": [{"name": "ls1", "subnet": "10.1.0.5/24"}, {"name": "ls1", "subnet": "10.2.0.0/24"}]}}}
    errors = opdbus.run("validate", "--json", tmp_state(st), check=2, json=True).json["errors"]
    for path in ("plugins.ovn.chassis.system_id", "plugins.ovn.chassis.northbound",
                 "plugins.ovn.chassis.southbound", "plugins.ovn.chassis.encap_type",
                 "plugins.ovn.chassis.encap_ip", "plugins.ovn.switches[0].subnet", "plugins.ovn.switches[1]"):
        assert any(e.startswith(path + ":") for e in errors), (path, errors)
    assert any("10.1.0.5/24 is not a network address: expected 10.1.0.0/24" in e for e in errors), errors


def nb_dhcp(cluster):
    """[(cidr, options, external_ids)] of every DHCP_Options row."""
    out = cluster.central.nbctl("--format=json", "--columns=cidr,options,external_ids", "list", "DHCP_Options")
    return [(row[0], dict(row[1][1]), dict(row[2][1])) for row in json.loads(out)["data"]]


def test_dhcp_gives_a_container_its_port_address(cluster, nodes, tmp_state, tmp_path):
    a, _ = cluster.nodes
    ha = cluster.container(a, "ca", MAC_A, IP_A)
    dhcp = {"router": "10.1.0.1", "dns": "10.1.0.53", "lease_time": 600}
    st = section(cluster, a, [lsp("pa", MAC_A, IP_A, ha.port)], dhcp=dhcp)
    r = apply(nodes[0], tmp_state, st)
    assert ("create", "dhcp/ls1") in [(c["action"], c["path"]) for c in r["changes"]], r
    assert nb_dhcp(cluster) == [("10.1.0.0/24",
                                 {"server_id": "10.1.0.1", "server_mac": "02:00:00:00:00:fe", "lease_time": "600",
                                  "router": "10.1.0.1", "dns_server": "10.1.0.53"},
                                 {"op-dbus-owner": "op-dbus", "op-dbus-switch": "ls1"})]
    assert apply(nodes[0], tmp_state, st)["counts"]["ovsdb_ops"] == 0
    cluster.wait_port_up("pa")

    # the container asks, without an address of its own (the netmask comes
    # from the subnet)
    script = tmp_path / "udhcpc.sh"
    script.write_text('#!/bin/sh\necho "$1 $ip $subnet $router $dns $lease" >> "$0.out"\n')
    script.chmod(0o755)
    ha.run("ip", "addr", "flush", "dev", ha.dev)
    ha.run("busybox", "udhcpc", "-i", ha.dev, "-f", "-q", "-n", "-t", "10", "-T", "1", "-s", str(script),
           timeout=60)
    bound = [l for l in (tmp_path / "udhcpc.sh.out").read_text().splitlines() if l.startswith("bound ")]
    assert bound == [f"bound {IP_A} 255.255.255.0 10.1.0.1 10.1.0.53 600"], bound

    # DHCP off: the row goes, and the port's reference with it
    r = apply(nodes[0], tmp_state, section(cluster, a, [lsp("pa", MAC_A, IP_A, ha.port)]))
    assert nb_dhcp(cluster) == []
    assert cluster.central.nbctl("get", "Logical_Switch_Port", "pa", "dhcpv4_options") == "[]"
    assert apply(nodes[0], tmp_state, section(cluster, a, [lsp("pa", MAC_A, IP_A, ha.port)]))["counts"]["ovsdb_ops"] == 0


def test_northbound_and_southbound_over_tcp(cluster, opdbus_bin, tmp_state, tmp_path):
    """op-dbus in the central's namespace reaches the databases over TCP
    (tcp:127.0.0.1:...), and the local Open vSwitch over its unix socket."""
    a, _ = cluster.nodes
    ha = cluster.container(a, "ca", MAC_A, IP_A)
    env = dict(os.environ)
    env.update(a.ovs.env())
    env["DBUS_SYSTEM_BUS_ADDRESS"] = f"unix:path={tmp_path}/no-system-bus"
    runner = OpDbus(opdbus_bin, env, cwd=tmp_path, prefix=["ip", "netns", "exec", cluster.central.netns])
    st = section(cluster, a, [lsp("pa", MAC_A, IP_A, ha.port)])
    st["plugins"]["ovn"]["chassis"]["northbound"] = cluster.central.tcp_remote("nb")
    r = apply(runner, tmp_state, st)
    assert r["ok"] and not r["warnings"], r  # verified: pa bound to node 1's chassis
    assert nb_ports(cluster)["pa"][3]["op-dbus-node"] == a.system_id
    assert cluster.port_chassis("pa") == a.system_id
    assert apply(runner, tmp_state, st)["counts"]["ovsdb_ops"] == 0


def test_a_failed_apply_is_rolled_back_in_the_northbound_database(cluster, nodes, tmp_state):
    """A fault right after the ovn plugin has written: the rollback puts
    the northbound rows back as they were, from an empty database and
    from an applied state."""
    a, _ = cluster.nodes
    fault = {"OPDBUS_FAULT_INJECT": "ovn"}
    st = section(cluster, a, [lsp("pa", MAC_A, IP_A)], dhcp={})
    r = nodes[0].run("apply", "--json", tmp_state(st), env=fault, check=1, json=True).json
    assert r["rolled_back"], r
    assert nb_switches(cluster) == [] and nb_ports(cluster) == {} and nb_dhcp(cluster) == []

    apply(nodes[0], tmp_state, st)
    before = (nb_switches(cluster), nb_ports(cluster), nb_dhcp(cluster))
    changed = section(cluster, a, [lsp("pa", "02:00:00:00:01:aa", "10.1.0.99"), lsp("pa2", MAC_B, IP_B)],
                      switches=(("ls1", "10.1.0.0/24"), ("ls2", "10.2.0.0/24")))
    r = nodes[0].run("apply", "--json", tmp_state(changed), env=fault, check=1, json=True).json
    assert r["rolled_back"] and r["rollback_changes"], r
    assert (nb_switches(cluster), nb_ports(cluster), nb_dhcp(cluster)) == before


def test_a_port_not_bound_in_time_is_a_warning(cluster, nodes, tmp_state):
    """Verify reads the southbound Port_Binding: without ovn-controller on
    the node nothing claims the port, which the apply says (and keeps)."""
    a, _ = cluster.nodes
    ha = cluster.container(a, "ca", MAC_A, IP_A)
    a.stop_controller()
    st = section(cluster, a, [lsp("pa", MAC_A, IP_A, ha.port)])
    r = nodes[0].run("--timeout", "2", "apply", "--json", tmp_state(st), check=0, json=True).json
    assert r["warnings"] == [f'plugins.ovn.ports[0]: logical switch port "pa" is not bound to this chassis '
                             f'({a.system_id}) yet: is ovn-controller running and connected to '
                             f'{cluster.central.sb_remote}?'], r
    assert cluster.port_chassis("pa") is None
    a.start_controller()
    cluster.wait_port_up("pa")
    assert cluster.port_chassis("pa") == a.system_id


def test_an_interface_off_the_integration_bridge_is_refused(cluster, nodes, tmp_state):
    a, _ = cluster.nodes
    st = section(cluster, a, [lsp("pa", MAC_A, IP_A, "eth-cluster")])
    r = nodes[0].run("apply", "--json", tmp_state(st), check=2, json=True).json
    assert r["errors"] == ['plugins.ovn.ports[0].interface: interface "eth-cluster" is on bridge br-phy, not on '
                           "the integration bridge br-int: ovn-controller binds only the ports of br-int"], r
    assert nb_ports(cluster) == {}
