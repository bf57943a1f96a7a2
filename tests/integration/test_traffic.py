# SPDX-License-Identifier: LGPL-2.1-or-later
"""Real kernel TCP and UDP through a bridge of Open vSwitch's userspace
datapath, at every security level.

The packet tests of test_flows.py build their frames by hand, with correct
checksums. The connections here are the kernels' own, between network
namespaces this test creates (netlab.py): containers attached as op-dbus
attaches them (an OVS internal port moved into the container: socket
networking) and as Proxmox does (a veth pair, eth0 inside, veth<id>i0 on
the bridge). The bridge is a netdev bridge, the datapath
`"datapath_type": "auto"` picks where the kernel has no Open vSwitch module.

What the userspace datapath needs (docs/flows.md, "The userspace
datapath"): a kernel sends TCP and UDP with the checksum left to the NIC
when the interface offers transmit checksum offload. A veth does; the
datapath reads such a packet from the veth's peer as it is and forwards it
with the checksum never filled in, and the receiving kernel drops it. So a
container on a veth needs the offload off on its side (`ethtool -K eth0 tx
off`); an internal port is a tap device, which has no such offload.
"""

import re

import pytest

import netlab
from netlab import tcp_dropped, tcp_exchange, tcp_refused, udp_dropped, udp_exchange
from netlab import lab  # noqa: F401  (the fixture)

NET = "10.78.0"
ATTACHMENTS = ("internal", "veth")
TCP_PORT, CLOSED_PORT, UDP_PORT = 5001, 5002, 5003


def mac_of(n):
    return f"02:00:00:01:{n >> 8 & 0xff:02x}:{n & 0xff:02x}"


def container(lab, cid, attach, tx_off=True):
    """Container `cid` at 10.78.0.<cid % 256>, attached as `attach` says.
    A veth gets transmit checksum offload off unless tx_off is False."""
    host = lab.add_host(f"c{cid}", mac_of(cid), f"{NET}.{cid % 256}", container_id=cid,
                        veth=attach == "veth")
    if attach == "veth" and tx_off:
        host.offload(tx=False)
    return host


def uplink(lab):
    """A host on a port that serves no container (an uplink)."""
    return lab.add_host("u", mac_of(0xF0FE), f"{NET}.254", port="uplink0")


def state(level, hosts, policies=(), dns=None):
    section = {
        "enable_security_flows": level > 0,
        "obfuscation_level": level,
        "bridges": [{"name": "br0", "socket_ports": [h.socket_port() for h in hosts]}],
        "flow_policies": list(policies),
    }
    if dns:
        section["dns_resolver"] = dns
    return {"version": 1, "plugins": {"openflow": section}}


def steer(name, selector, port):
    return {"name": name, "selector": selector,
            "template": {"table": 10, "priority": 1000,
                         "actions": [{"type": "output", "port": port}]}}


def apply(opdbus, tmp_state, doc):
    res = opdbus.run("apply", "--json", tmp_state(doc), check=0, json=True).json
    assert res["warnings"] == [], res["warnings"]
    return res


# ---- what the datapath needs -------------------------------------------------------


def test_veths_need_transmit_checksum_offload_off(ovs, lab):
    """No op-dbus flows at all, only the bridge's NORMAL flow: between
    veths with the kernel's default offload no TCP connection comes about
    and no UDP datagram arrives; with the offload off on the containers'
    side (what op-dbus's plan tells the operator to run) both work."""
    a = container(lab, 100, "veth", tx_off=False)
    b = container(lab, 101, "veth", tx_off=False)
    assert a.ping(b.ip, wait=netlab.CONNECT_TIMEOUT), "ICMP (checksummed by the kernel) must pass"
    tcp_dropped(a, b.ip, TCP_PORT, server=b)
    udp_dropped(a, b, UDP_PORT)

    # Offload off on the veth's OVS end changes nothing: the packets are
    # made by the kernel that sends them.
    for host in (a, b):
        ovs.netns_exec("ethtool", "-K", host.port, "tx", "off")
    tcp_dropped(a, b.ip, TCP_PORT, server=b)

    a.offload(tx=False)
    b.offload(tx=False)
    assert tcp_exchange(a, b, TCP_PORT) == a.ip
    udp_exchange(a, b, UDP_PORT)


def test_internal_ports_need_nothing(ovs, lab):
    """An internal port of the userspace datapath is a tap device, whose
    transmit checksum offload is off (ovs-vswitchd does not enable it), and
    TCP works as it is."""
    a = container(lab, 100, "internal")
    b = container(lab, 101, "internal")
    for host in (a, b):
        features = host.run("ethtool", "-k", host.dev).stdout
        assert re.search(r"^tx-checksumming: off$", features, re.M), features
    assert tcp_exchange(a, b, TCP_PORT) == a.ip
    udp_exchange(a, b, UDP_PORT)


def test_a_veth_to_an_internal_port(ovs, lab):
    """The veth's side decides: a Proxmox container (veth) and a socket
    networking container (internal port) on the same bridge."""
    a = container(lab, 100, "veth", tx_off=False)
    b = container(lab, 101, "internal")
    tcp_dropped(a, b.ip, TCP_PORT, server=b)
    tcp_dropped(b, a.ip, TCP_PORT, server=a)   # a's SYN-ACK is the one that is lost
    a.offload(tx=False)
    tcp_exchange(a, b, TCP_PORT)
    tcp_exchange(b, a, TCP_PORT)


# ---- every level -------------------------------------------------------------------


@pytest.mark.parametrize("attach", ATTACHMENTS)
@pytest.mark.parametrize("level", [0, 1, 2])
def test_tcp_and_udp_between_containers(ovs, lab, opdbus, tmp_state, level, attach):
    a, b = container(lab, 100, attach), container(lab, 101, attach)
    u = uplink(lab)
    if level == 2:
        # Level 2 rewrites TTL, DSCP and ECN of what containers send: the
        # connections must survive it.
        a.run("sysctl", "-q", "-w", "net.ipv4.ip_default_ttl=100")
    apply(opdbus, tmp_state, state(level, [a, b]))

    assert tcp_exchange(a, b, TCP_PORT) == a.ip
    assert tcp_exchange(b, a, TCP_PORT) == b.ip
    tcp_refused(a, b.ip, CLOSED_PORT)
    assert udp_exchange(a, b, UDP_PORT) == a.ip
    # to and from a host that serves no container
    assert tcp_exchange(a, u, TCP_PORT) == a.ip
    assert tcp_exchange(u, b, TCP_PORT) == u.ip
    tcp_refused(u, a.ip, CLOSED_PORT)
    assert udp_exchange(u, a, UDP_PORT) == u.ip

    if level >= 1:
        # Conntrack judged the traffic valid: the exchanges above completed,
        # and at most a late duplicate was dropped as invalid (on a loaded
        # machine a retransmitted closing segment can arrive after the
        # userspace conntrack has closed the connection; dropping it changes
        # nothing). A misjudged connection would show as failed exchanges
        # and many drops.
        stats = netlab.flow_stats(ovs)
        assert stats[0xDEAD << 48 | 9 << 40]["n_packets"] <= 2, "conntrack-invalid drops"


@pytest.mark.parametrize("attach", ATTACHMENTS)
def test_level3_lets_a_steered_container_reach_its_next_hop_only(ovs, lab, opdbus, tmp_state,
                                                                 attach):
    """A privacy chain: G's traffic goes to W, its next hop; W forwards
    normally. G reaches W (TCP both ways, RST of a closed port, UDP); a
    connection G opens to anything else is dropped (it goes to W, whose
    kernel does not forward it), while connections opened towards G are
    answered."""
    g, w = container(lab, 100, attach), container(lab, 101, attach)
    u = uplink(lab)
    apply(opdbus, tmp_state, state(3, [g, w], policies=[
        steer("g-to-w", "container:100", "container:101"),
        {"name": "w-out", "selector": "container:101",
         "template": {"table": 10, "priority": 1000, "actions": [{"type": "normal"}]}}],
        dns=u.ip))

    # allowed: the next hop, and W onwards
    assert tcp_exchange(g, w, TCP_PORT) == g.ip
    tcp_refused(g, w.ip, CLOSED_PORT)
    assert udp_exchange(g, w, UDP_PORT) == g.ip
    assert tcp_exchange(w, u, TCP_PORT) == w.ip
    # connections opened towards G are answered
    assert tcp_exchange(u, g, TCP_PORT) == u.ip
    assert tcp_exchange(w, g, TCP_PORT) == w.ip
    tcp_refused(u, g.ip, CLOSED_PORT)

    # dropped: G past its next hop (not even U's RST comes back)
    with u.sniffer() as at_u:
        tcp_dropped(g, u.ip, CLOSED_PORT)
        udp_dropped(g, u, UDP_PORT)
        assert at_u.matching(lambda p: p.ip_src == g.ip) == [], "G's packets reached U"
