# SPDX-License-Identifier: LGPL-2.1-or-later
"""The OpenFlow pipeline op-dbus generates, proven with real packets.

Each test builds a small lab (netlab.py) on a private Open vSwitch:
"containers" are OVS internal ports named internal_<id>, moved into network
namespaces of their own and declared as openflow socket_ports with their MAC
and IPv4 address; plain hosts (an uplink, a DNS resolver) sit on ports that
serve no container. The bridge br0 is created with ovs-vsctl, so it does not
belong to op-dbus. Frames are built by hand and sent and captured on raw
sockets inside the namespaces; the hosts' kernels answer ARP, pings and TCP
for real.

A frame that must be dropped is sent together with a control frame that
must arrive, sent after it; only once the control has arrived is the absence
of the other frame taken as a drop. Where several flows could drop the same
frame, the packet counter of the flow that is meant to drop it is checked
too.
"""

import os
import re
import secrets
import signal
import socket
import threading
from pathlib import Path

import pytest

import netlab
from netlab import (ACK, BROADCAST, FIN, PSH, SYN, URG, dump_flows, flow_stats, is_opdbus,
                    link_local, opdbus_flows, router_advertisement_frame, tcp4_frame, udp4_frame,
                    udp6_frame)
from netlab import lab  # noqa: F401  (the fixture)

NET = "10.77.0"
OFF_CHAIN_RESOLVER = "192.0.2.53"
SEC, HIDE, LEAK, BASE, POLICY, USER = 0xDEAD, 0xCAFE, 0xBEEF, 0xD0B5, 0xF10C, 0xFACE


# ---- helpers --------------------------------------------------------------------


def mac_of(n):
    return f"02:00:00:00:{n >> 8 & 0xff:02x}:{n & 0xff:02x}"


def container(lab, cid, **kw):
    """Container `cid` on br0: port internal_<cid>, MAC mac_of(cid)
    (02:00:00:00:00:64 for 100), address 10.77.0.<cid % 256>."""
    return lab.add_host(f"c{cid}", mac_of(cid), f"{NET}.{cid % 256}", container_id=cid, **kw)


def plain(lab, name, port, octet):
    """A host on a port that serves no container."""
    return lab.add_host(name, mac_of(0xF000 + octet), f"{NET}.{octet}", port=port)


def cookie(cls, rule, subject=0, variant=0):
    """An op-dbus cookie (of-engine.h): class, rule, variant, subject."""
    return cls << 48 | rule << 40 | variant << 32 | subject


def marker(label):
    return f"<{label}:{secrets.token_hex(4)}>".encode()


def openflow(level, socket_ports=(), *, policies=(), flows=(), dns=None, security=True,
             bridge="br0"):
    section = {
        "enable_security_flows": security,
        "obfuscation_level": level,
        "bridges": [{"name": bridge, "socket_ports": list(socket_ports), "flows": list(flows)}],
        "flow_policies": list(policies),
    }
    if dns:
        section["dns_resolver"] = dns
    return section


def state(openflow_section=None, net=None):
    plugins = {}
    if net is not None:
        plugins["net"] = net
    if openflow_section is not None:
        plugins["openflow"] = openflow_section
    return {"version": 1, "plugins": plugins}


def apply(opdbus, tmp_state, doc, check=0):
    return opdbus.run("apply", "--json", tmp_state(doc), check=check, json=True).json


def steer(name, selector, port, table=10, priority=1000):
    return {"name": name, "selector": selector,
            "template": {"table": table, "priority": priority,
                         "actions": [{"type": "output", "port": port}]}}


def normal(name, selector, table=10, priority=1000):
    return {"name": name, "selector": selector,
            "template": {"table": table, "priority": priority, "actions": [{"type": "normal"}]}}


class Batch:
    """Frames to send, each with a label and a unique marker in its payload."""

    def __init__(self, items=()):
        self.items = list(items)  # (label, sender, marker, frame)

    def add(self, label, sender, build):
        """build(marker) -> frame"""
        m = marker(label)
        self.items.append((label, sender, m, build(m)))
        return self

    def only(self, *labels):
        return Batch(i for i in self.items if i[0] in labels)


def udp_control(sender, receiver):
    """A plain UDP frame sender -> receiver, for `delivered`."""
    return sender, lambda m: udp4_frame(sender.mac, receiver.mac, sender.ip, receiver.ip, 9, 9, m)


def delivered(receiver, batch, *, control=None, watch=(), settle=0.15):
    """Sends the batch's frames in order, then a control frame, and waits
    until the control has arrived at `receiver`; frames still in flight get
    `settle` seconds more.

    control: (sender, build(marker)); default: udp_control(first sender,
    receiver). watch: more hosts to capture on.
    Returns {label: [packets captured at receiver]} for the frames that
    arrived there; with watch, a dict {host: that} for receiver and watch."""
    items = batch.items
    control = control or udp_control(items[0][1], receiver)
    cm = marker("control")
    sniffers = {h: h.sniffer() for h in (receiver, *watch)}
    try:
        for _, source, _, frame in items:
            source.send(frame)
        control[0].send(control[1](cm))
        sniff = sniffers[receiver]
        got = sniff.wait_for(lambda p: p.has(cm), timeout=3)
        assert got is not None, (f"the control frame did not reach {receiver}; captured: "
                                 f"{sniff.drain()}")
        result = {}
        for host, sn in sniffers.items():
            packets = sn.drain(settle)
            result[host] = {label: [p for p in packets if p.has(m)]
                            for label, _, m, _ in items if any(p.has(m) for p in packets)}
    finally:
        for sn in sniffers.values():
            sn.close()
    return result if watch else result[receiver]


def counters(ovs):
    """{cookie: n_packets}, current."""
    return {c: s["n_packets"] for c, s in flow_stats(ovs).items()}


def delta(before, after, cookies):
    return {hex(c): after.get(c, 0) - before.get(c, 0) for c in cookies}


def foreign_flows(ovs):
    return [l for l in dump_flows(ovs) if not is_opdbus(l)]


# ---- 1. legitimate traffic --------------------------------------------------------


@pytest.mark.parametrize("level", [0, 1])
def test_legitimate_traffic_passes(ovs, lab, opdbus, tmp_state, level):
    a, b = container(lab, 100), container(lab, 101)
    res = apply(opdbus, tmp_state, state(openflow(level, [a.socket_port(), b.socket_port()])))
    assert res["counts"]["flow_mods"] > 0
    security = [l for l in opdbus_flows(ovs) if netlab.cookie_of(l) >> 48 == SEC]
    assert bool(security) == (level >= 1), security

    # ARP resolution and ICMP, answered by the kernels
    assert a.neighbour(b.ip) is None
    assert a.ping(b.ip, count=2), "ping between two containers failed"
    assert a.neighbour(b.ip) == b.mac
    assert b.neighbour(a.ip) == a.mac

    # a TCP connection, data both ways
    server = b.socket(socket.AF_INET, socket.SOCK_STREAM)
    client = a.socket(socket.AF_INET, socket.SOCK_STREAM)
    with server, client:
        server.bind((b.ip, 5001))
        server.listen(1)
        server.settimeout(5)
        client.settimeout(5)
        client.connect((b.ip, 5001))
        conn, peer = server.accept()
        with conn:
            assert peer[0] == a.ip
            client.sendall(b"hello from a")
            assert conn.recv(100) == b"hello from a"
            conn.sendall(b"hello from b")
            assert client.recv(100) == b"hello from b"

    # a DHCP client broadcast: no address yet
    m = marker("dhcp-discover")
    with b.sniffer() as sniff:
        a.send(udp4_frame(a.mac, BROADCAST, "0.0.0.0", "255.255.255.255", 68, 67, m))
        p = sniff.wait_for(lambda p: p.has(m))
    assert p is not None, "the DHCP client broadcast did not arrive"
    assert (p.src, p.dst, p.ip_src, p.ip_dst, p.sport, p.dport) == (
        a.mac, BROADCAST, "0.0.0.0", "255.255.255.255", 68, 67)

    if level >= 1:
        # The traffic went through level 1's admission flows, and none was dropped.
        n = counters(ovs)
        for cid in (100, 101):
            assert n[cookie(SEC, 20, cid)] > 0, "IPv4 admission"
            assert n[cookie(SEC, 21, cid)] > 0, "ARP admission"
            assert n[cookie(SEC, 25, cid)] == 0, "admission drop"
        assert n[cookie(SEC, 22, 100)] == 1, "DHCP client admission"
        assert n[cookie(SEC, 9)] == 0, "conntrack-invalid drop"


@pytest.mark.parametrize("level", [0, 1])
def test_ipv6_between_containers(ovs, lab, opdbus, tmp_state, level):
    """Level 1 admits IPv6 from a container with its own MAC; neighbour
    discovery and a ping must work."""
    a = container(lab, 100, ipv6="fd00::100/64")
    b = container(lab, 101, ipv6="fd00::101/64")
    apply(opdbus, tmp_state, state(openflow(level, [a.socket_port(), b.socket_port()])))
    ok = a.run("ping", "-6", "-n", "-c", "1", "-W", "1", b.ip6, check=False).returncode == 0
    n = counters(ovs)
    assert ok, ("ping6 between two containers failed; packets dropped as conntrack-invalid "
                f"(cookie {cookie(SEC, 9):#x}): {n.get(cookie(SEC, 9))}")


# ---- 2. level 1 drops -----------------------------------------------------------------


def test_level1_drops_spoofed_and_bogus_frames(ovs, lab, opdbus, tmp_state):
    a, b = container(lab, 100), container(lab, 101)
    u = plain(lab, "u", "uplink0", 254)
    apply(opdbus, tmp_state, state(openflow(1, [a.socket_port(), b.socket_port()])))

    def udp_from(h, *, mac=None, ip=None, dst_mac=None, dst=None, sport=1000, dport=2000):
        return lambda m: udp4_frame(mac or h.mac, dst_mac or b.mac, ip or h.ip, dst or b.ip,
                                    sport, dport, m)

    def tcp_from(h, flags):
        return lambda m: tcp4_frame(h.mac, b.mac, h.ip, b.ip, 40000, 80, flags, m)

    dhcp_client = dict(ip="0.0.0.0", dst_mac=BROADCAST, dst="255.255.255.255", sport=68, dport=67)
    batch = (Batch()
             .add("spoofed-ip", a, udp_from(a, ip=f"{NET}.77"))
             .add("spoofed-mac", a, udp_from(a, mac="02:00:00:00:99:99"))
             .add("xmas", a, tcp_from(a, FIN | PSH | URG))
             # the same with ACK: the sanity flow must catch both
             .add("xmas-ack", a, tcp_from(a, FIN | PSH | URG | ACK))
             .add("null", a, tcp_from(a, 0))
             .add("syn-fin", a, tcp_from(a, SYN | FIN))
             .add("rogue-dhcp", a, udp_from(a, dst_mac=BROADCAST, dst="255.255.255.255",
                                            sport=67, dport=68))
             .add("rogue-dhcp6", a, lambda m: udp6_frame(a.mac, "33:33:00:01:00:02",
                                                         link_local(a.mac), "ff02::1:2",
                                                         547, 546, m))
             .add("ra", a, lambda m: router_advertisement_frame(a.mac, m))
             # from a port that serves no container: the sanity flows only
             .add("u-mcast-mac", u, udp_from(u, mac="01:00:5e:00:00:01"))
             .add("u-src-0/8", u, udp_from(u, ip="0.0.0.9"))
             .add("u-src-mcast", u, udp_from(u, ip="224.1.2.3"))
             .add("u-src-class-e", u, udp_from(u, ip="240.1.2.3"))
             # controls: the same kinds of frame with correct addresses / flags
             .add("ok-udp", a, udp_from(a))
             .add("ok-syn", a, tcp_from(a, SYN))
             .add("ok-dhcp-client", a, udp_from(a, **dhcp_client))
             .add("ok-ipv6", a, lambda m: udp6_frame(a.mac, b.mac, "fd00::100", "fd00::101",
                                                     1000, 2000, m))
             .add("ok-u-udp", u, udp_from(u))
             .add("ok-u-syn", u, tcp_from(u, SYN))
             .add("ok-u-dhcp-client", u, udp_from(u, **dhcp_client)))
    before = counters(ovs)
    seen = delivered(b, batch)
    assert set(seen) == {label for label, *_ in batch.items if label.startswith("ok-")}
    # and unchanged
    assert seen["ok-dhcp-client"][0].ip_src == "0.0.0.0"
    assert seen["ok-syn"][0].tcp_flags == SYN

    # Each frame was stopped by the flow meant for it (conntrack alone would
    # reject some of the TCP frames as invalid, too).
    expected = {
        cookie(SEC, 25, 100): 2,  # spoofed IP, spoofed MAC: admission drop for container 100
        cookie(SEC, 2): 2,        # FIN+PSH+URG, with and without ACK
        cookie(SEC, 1): 1,        # no flags
        cookie(SEC, 3): 1,        # SYN+FIN
        cookie(SEC, 26, 100): 1,  # DHCP server reply
        cookie(SEC, 27, 100): 1,  # DHCPv6 server reply
        cookie(SEC, 28, 100): 1,  # router advertisement
        cookie(SEC, 8): 1,        # multicast source MAC
        cookie(SEC, 4): 1,        # source 0.0.0.0/8
        cookie(SEC, 6): 1,        # source 224.0.0.0/4
        cookie(SEC, 7): 1,        # source 240.0.0.0/4
        cookie(SEC, 5): 2,        # the DHCP client broadcasts pass the 0.0.0.0/8 rule
        cookie(SEC, 9): 0,        # nothing reached conntrack's invalid drop
    }
    assert delta(before, counters(ovs), expected) == {hex(c): n for c, n in expected.items()}


def test_dhcp_server_and_router_advertisements_allowed_per_port(ovs, lab, opdbus, tmp_state):
    a, b = container(lab, 100), container(lab, 101)
    batch = (Batch()
             .add("rogue-dhcp", a, lambda m: udp4_frame(a.mac, BROADCAST, a.ip, "255.255.255.255",
                                                        67, 68, m))
             .add("rogue-dhcp6", a, lambda m: udp6_frame(a.mac, "33:33:00:01:00:02",
                                                         link_local(a.mac), "ff02::1:2",
                                                         547, 546, m))
             .add("ra", a, lambda m: router_advertisement_frame(a.mac, m)))

    apply(opdbus, tmp_state, state(openflow(1, [a.socket_port(), b.socket_port()])))
    assert set(delivered(b, batch)) == set()

    allowed = a.socket_port(allow_dhcp_server=True, allow_router_advertisements=True)
    res = apply(opdbus, tmp_state, state(openflow(1, [allowed, b.socket_port()])))
    assert res["counts"]["flow_mods"] == 3, "the three per-port drop flows go"
    before = counters(ovs)
    seen = set(delivered(b, batch))
    moved = {hex(c): n - before.get(c, 0) for c, n in counters(ovs).items() if n != before.get(c, 0)}
    assert {"rogue-dhcp", "rogue-dhcp6"} <= seen, f"flows that counted packets: {moved}"
    assert "ra" in seen, ("the router advertisement was dropped although allowed; "
                          f"flows that counted packets: {moved}")


# ---- 3. level 2 --------------------------------------------------------------------------


def test_level2_normalises_ttl_dscp_ecn(ovs, lab, opdbus, tmp_state):
    a, b = container(lab, 100), container(lab, 101)
    u = plain(lab, "u", "uplink0", 254)
    tos = 46 << 2 | 1  # DSCP EF, ECN ECT(1)
    batch = (Batch()
             .add("udp4", a, lambda m: udp4_frame(a.mac, b.mac, a.ip, b.ip, 1000, 2000, m,
                                                  ttl=5, tos=tos))
             .add("syn4", a, lambda m: tcp4_frame(a.mac, b.mac, a.ip, b.ip, 40000, 80, SYN, m,
                                                  ttl=5, tos=tos))
             .add("udp6", a, lambda m: udp6_frame(a.mac, b.mac, "fd00::100", "fd00::101",
                                                  1000, 2000, m, hlim=5, tclass=tos))
             .add("from-uplink", u, lambda m: udp4_frame(u.mac, b.mac, u.ip, b.ip, 1000, 2000, m,
                                                         ttl=5, tos=tos)))

    def fields(seen):
        return {label: (pkts[0].ttl, pkts[0].dscp, pkts[0].ecn) for label, pkts in seen.items()}

    # Control: at level 1 the frames arrive as sent.
    apply(opdbus, tmp_state, state(openflow(1, [a.socket_port(), b.socket_port()])))
    assert fields(delivered(b, batch)) == {l: (5, 46, 1) for l in ("udp4", "syn4", "udp6",
                                                                   "from-uplink")}

    apply(opdbus, tmp_state, state(openflow(2, [a.socket_port(), b.socket_port()])))
    got = fields(delivered(b, batch))
    assert got == {"udp4": (64, 0, 0), "syn4": (64, 0, 0), "udp6": (64, 0, 0),
                   # a port that serves no container is left alone
                   "from-uplink": (5, 46, 1)}

    # and what a kernel sends: ping with TTL 5 and TOS 0xb9
    with b.sniffer() as sniff:
        assert a.run("ping", "-n", "-c", "1", "-W", "1", "-t", "5", "-Q", str(tos),
                     b.ip, check=False).returncode == 0
        p = sniff.wait_for(lambda p: p.icmp_type == 8 and p.ip_src == a.ip)
    assert p is not None and (p.ttl, p.dscp, p.ecn) == (64, 0, 0), p


# ---- 4. level 3 privacy chain ----------------------------------------------------------


def test_level3_privacy_chain(ovs, lab, opdbus, tmp_state):
    g, w, x = container(lab, 100), container(lab, 101), container(lab, 102)
    u = plain(lab, "u", "uplink0", 254)
    r = plain(lab, "r", "resolv0", 53)
    policies = [steer("gateway-to-warp", "container:100", "container:101"),
                steer("warp-to-xray", "container:101", "container:102"),
                normal("xray-out", "container:102")]
    ports = [g.socket_port(), w.socket_port(), x.socket_port()]
    res = apply(opdbus, tmp_state, state(openflow(3, ports, policies=policies, dns=r.ip)))
    assert res["warnings"] == []

    # along the chain
    assert g.ping(w.ip), "G -> W (its next hop)"
    assert w.ping(x.ip), "W -> X (its next hop)"
    assert x.ping(u.ip), "X -> U (X forwards normally)"
    # replies to connections opened from outside pass a confined member
    assert u.ping(g.ip), "U -> G: G's replies must pass"

    # G cannot reach U directly: its packets go to W, addressed to W's MAC
    with u.sniffer() as at_u, w.sniffer() as at_w:
        assert not g.ping(u.ip, wait=0.5), "G reached U directly"
        echo = lambda p: p.icmp_type == 8 and p.ip_src == g.ip and p.ip_dst == u.ip
        p = at_w.wait_for(echo, timeout=1)
        assert p is not None, "G's ping to U did not arrive at W"
        assert (p.src, p.dst) == (g.mac, w.mac)
        assert at_u.matching(echo) == []
    assert g.neighbour(u.ip) == u.mac, "ARP stays local: G resolved U"

    # nor W
    with u.sniffer() as at_u, x.sniffer() as at_x:
        assert not w.ping(u.ip, wait=0.5), "W reached U directly"
        echo = lambda p: p.icmp_type == 8 and p.ip_src == w.ip and p.ip_dst == u.ip
        p = at_x.wait_for(echo, timeout=1)
        assert p is not None and (p.src, p.dst) == (w.mac, x.mac), p
        assert at_u.matching(echo) == []

    # DNS only to the resolver, and then along the chain; no IPv6
    def dns(dst, dst_mac, proto="udp"):
        if proto == "udp":
            return lambda m: udp4_frame(g.mac, dst_mac, g.ip, dst, 33000, 53, m)
        return lambda m: tcp4_frame(g.mac, dst_mac, g.ip, dst, 33001, 53, SYN, m)

    batch = (Batch()
             .add("dns-off-chain", g, dns(OFF_CHAIN_RESOLVER, u.mac))
             .add("dns-tcp-off-chain", g, dns(OFF_CHAIN_RESOLVER, u.mac, "tcp"))
             .add("dns-to-u", g, dns(u.ip, u.mac))
             .add("ipv6", g, lambda m: udp6_frame(g.mac, w.mac, "fd00::100", "fd00::101",
                                                  1000, 2000, m))
             .add("dns6", g, lambda m: udp6_frame(g.mac, w.mac, "fd00::100", "fd00::53",
                                                  33000, 53, m))
             .add("dns-resolver", g, dns(r.ip, r.mac))
             .add("dns-tcp-resolver", g, dns(r.ip, r.mac, "tcp")))
    before = counters(ovs)
    seen = delivered(w, batch, watch=(u, r, x))
    assert set(seen[w]) == {"dns-resolver", "dns-tcp-resolver"}
    for p in seen[w]["dns-resolver"] + seen[w]["dns-tcp-resolver"]:
        assert (p.ip_dst, p.dport, p.dst) == (r.ip, 53, w.mac), p
    assert seen[u] == {} and seen[r] == {} and seen[x] == {}
    expected = {cookie(LEAK, 1, 100): 1,  # UDP DNS to the resolver: on to the policies
                cookie(LEAK, 2, 100): 1,  # TCP DNS to the resolver
                cookie(LEAK, 3, 100): 2,  # other UDP DNS
                cookie(LEAK, 4, 100): 1,  # other TCP DNS
                cookie(LEAK, 5, 100): 1,  # UDP DNS over IPv6
                cookie(LEAK, 7, 100): 1}  # IPv6
    assert delta(before, counters(ovs), expected) == {hex(c): n for c, n in expected.items()}

    # Control for the IPv6 drop: allowed, G's IPv6 goes to its next hop -
    # except DNS over IPv6.
    ports[0] = g.socket_port(allow_ipv6=True)
    apply(opdbus, tmp_state, state(openflow(3, ports, policies=policies, dns=r.ip)))
    assert set(delivered(w, batch.only("ipv6", "dns6"))) == {"ipv6"}


# ---- 5. steering makes the next hop's kernel accept the frames -------------------------


def test_steering_rewrites_destination_mac(ovs, lab, opdbus, tmp_state):
    a, b = container(lab, 100), container(lab, 101)
    u = plain(lab, "u", "uplink0", 254)
    extra = f"{NET}.200"
    # B owns `extra` on lo and does not answer ARP for it; A believes it is
    # at U's MAC.
    b.run("ip", "addr", "add", f"{extra}/32", "dev", "lo")
    b.run("sysctl", "-q", "-w", "net.ipv4.conf.all.arp_ignore=1", "net.ipv4.conf.all.arp_filter=1")
    a.run("ip", "neigh", "replace", extra, "lladdr", u.mac, "dev", a.port, "nud", "permanent")
    # B answers from `extra`, so only its MAC is declared.
    ports = [a.socket_port(), {"name": b.port, "container_id": 101, "hwaddr": b.mac}]

    echo = lambda p: p.icmp_type == 8 and p.ip_dst == extra
    apply(opdbus, tmp_state, state(openflow(1, ports)))
    with b.sniffer() as at_b, u.sniffer() as at_u:
        assert not a.ping(extra, wait=0.5), "without the policy the ping must fail"
        p = at_u.wait_for(echo, timeout=1)
        assert p is not None and p.dst == u.mac, "it goes to U's MAC"
        # (B may see it flooded, addressed to U's MAC, which its kernel ignores)
        assert [p for p in at_b.matching(echo) if p.dst != u.mac] == []

    res = apply(opdbus, tmp_state, state(openflow(1, ports, policies=[
        steer("a-via-b", "container:100", "container:101")])))
    assert res["warnings"] == []
    with b.sniffer() as at_b, u.sniffer() as at_u:
        assert a.ping(extra, count=2), "steered to B, B's kernel must accept and answer"
        p = at_b.wait_for(echo, timeout=1)
        assert p is not None and (p.src, p.dst) == (a.mac, b.mac), p
        assert at_u.matching(echo) == []


# ---- 6. foreign flows ---------------------------------------------------------------------


def test_foreign_flows_survive(ovs, lab, opdbus, tmp_state):
    a, b = container(lab, 100), container(lab, 101)
    of14 = ["-O", "OpenFlow14"]
    ovs.ofctl("add-flow", "br0", "table=30,cookie=0x1234,priority=5,ip,actions=drop", options=of14)
    # in a table op-dbus uses, with a cookie whose low bits look like a class
    ovs.ofctl("add-flow", "br0", "table=10,cookie=0xdead,priority=2,udp,tp_dst=9999,actions=drop",
              options=of14)
    foreign = foreign_flows(ovs)
    assert len(foreign) == 3, foreign  # with the bridge's default NORMAL flow
    # With security flows the bridge is made secure (docs/flows.md): Open
    # vSwitch's own default flow goes, the others are kept.
    kept = [f for f in foreign if f != "priority=0 actions=NORMAL"]
    assert len(kept) == 2, foreign

    base = state(openflow(1, [a.socket_port(), b.socket_port()]))
    changed = state(openflow(3, [a.socket_port(), b.socket_port()],
                             policies=[steer("a-via-b", "container:100", "container:101")],
                             flows=[{"table": 30, "priority": 7, "match_fields": {"dl_type": "0x0800"},
                                     "actions": [{"type": "normal"}]}], dns=f"{NET}.53"))
    for step, doc in [("apply", base), ("re-apply", base), ("state change", changed),
                      ("back", base)]:
        res = apply(opdbus, tmp_state, doc)
        assert foreign_flows(ovs) == kept, step
        assert opdbus_flows(ovs), step
        if step == "re-apply":
            assert res["counts"]["flow_mods"] == 0

    # A state without an openflow section leaves the flows alone ...
    flows = opdbus_flows(ovs)
    res = apply(opdbus, tmp_state, state(net={"bridges": []}))
    assert res["counts"]["flow_mods"] == 0
    assert opdbus_flows(ovs) == flows and foreign_flows(ovs) == kept

    # ... an openflow section without bridges removes all of op-dbus's flows,
    # and only those, and puts the bridge's fail_mode back (standalone: Open
    # vSwitch's default flow is back).
    res = apply(opdbus, tmp_state, state({"bridges": []}))
    assert opdbus_flows(ovs) == []
    assert foreign_flows(ovs) == foreign
    assert ovs.vsctl("get", "Bridge", "br0", "fail_mode") == "[]"
    assert a.ping(b.ip), "the bridge still forwards (the default NORMAL flow)"


# ---- 7. no-op re-apply, minimal changes ------------------------------------------------


def test_reapply_sends_nothing_and_keeps_counters(ovs, lab, opdbus, tmp_state):
    a, b = container(lab, 100), container(lab, 101)
    flow = {"table": 30, "priority": 100, "cookie": "0x7",
            "match_fields": {"dl_type": "0x0800", "nw_dst": f"{NET}.250"},
            "actions": [{"type": "drop"}]}
    # on the path of IPv4 traffic (the policy table), so it counts packets
    counted = {"table": 10, "priority": 50, "cookie": "0x8", "match_fields": {"dl_type": "0x0800"},
               "actions": [{"type": "resubmit", "table": 20}]}

    def doc(*flows):
        return state(openflow(2, [a.socket_port(), b.socket_port()], flows=flows))

    first = apply(opdbus, tmp_state, doc(flow, counted))
    assert first["counts"]["flow_mods"] == len(opdbus_flows(ovs))

    assert a.ping(b.ip, count=3, interval=0.05)
    stats = flow_stats(ovs)
    busy = {c: s for c, s in stats.items() if c >> 48 in netlab.OPDBUS_CLASSES and s["n_packets"]}
    assert {cookie(SEC, 20, 100), cookie(HIDE, 1, 100), 0xFACE000000000008} <= set(busy)

    def assert_untouched(where):
        now = flow_stats(ovs)
        for c, s in busy.items():
            assert now[c]["n_packets"] == s["n_packets"], f"{where}: {c:#x} was reset"
            assert now[c]["duration"] >= s["duration"], f"{where}: {c:#x} was re-added"

    res = apply(opdbus, tmp_state, doc(flow, counted))
    assert res["counts"]["flow_mods"] == 0 and res["changes"] == []
    assert_untouched("re-apply")

    # one explicit flow's actions change: that flow only
    flows_before = opdbus_flows(ovs)
    flow["actions"] = [{"type": "normal"}]
    res = apply(opdbus, tmp_state, doc(flow, counted))
    assert res["counts"]["flow_mods"] in (1, 2)
    flows_after = opdbus_flows(ovs)
    changed = sorted(set(flows_before) ^ set(flows_after))
    assert [netlab.cookie_of(l) for l in changed] == [0xFACE000000000007] * 2, changed
    assert_untouched("actions changed")

    # and removing it is one delete
    res = apply(opdbus, tmp_state, doc(counted))
    assert res["counts"]["flow_mods"] == 1
    assert sorted(set(flows_after) - set(opdbus_flows(ovs))) == [
        l for l in flows_after if netlab.cookie_of(l) == 0xFACE000000000007]
    assert len(opdbus_flows(ovs)) == len(flows_after) - 1
    assert_untouched("flow removed")


def test_removing_an_explicit_flow_leaves_the_others_alone(ovs, lab, opdbus, tmp_state):
    """Explicit flows without a cookie: removing one must not disturb the
    others (no flow mods for them, counters kept)."""
    a, b = container(lab, 100), container(lab, 101)
    first = {"table": 30, "priority": 100, "match_fields": {"dl_type": "0x0800"},
             "actions": [{"type": "drop"}]}
    counted = {"table": 10, "priority": 50, "match_fields": {"dl_type": "0x0800"},
               "actions": [{"type": "resubmit", "table": 20}]}

    def doc(*flows):
        return state(openflow(1, [a.socket_port(), b.socket_port()], flows=flows))

    apply(opdbus, tmp_state, doc(first, counted))
    assert a.ping(b.ip, count=3, interval=0.05)
    before = flow_stats(ovs)
    (cookie_counted,) = [c for c, s in before.items() if "table=10, n_packets" in s["line"]
                         and c >> 48 == USER]
    assert before[cookie_counted]["n_packets"] >= 3

    res = apply(opdbus, tmp_state, doc(counted))
    after = flow_stats(ovs)
    kept = {c: s for c, s in after.items() if c >> 48 == USER}
    assert res["counts"]["flow_mods"] == 1, (
        f"removing flows[0] sent {res['counts']['flow_mods']} flow mods; explicit flows now: "
        f"{[s['line'] for s in kept.values()]}")
    assert len(kept) == 1
    (s,) = kept.values()
    assert s["n_packets"] == before[cookie_counted]["n_packets"], "its counters were reset"


def test_two_bridges_get_their_flows(ovs, opdbus, tmp_state):
    """Each bridge's desired flows are built in turn; building the second
    must not move the first's (a use after free under AddressSanitizer)."""
    doc = {"version": 1, "plugins": {
        "net": {"bridges": [{"name": "br0", "datapath_type": "netdev"}, {"name": "br1", "datapath_type": "netdev"}]},
        "openflow": {"bridges": [{"name": "br0"}, {"name": "br1"}]}}}
    path = tmp_state(doc)
    opdbus.run("apply", path, check=0)
    flows = {br: [line for line in dump_flows(ovs, br) if is_opdbus(line)] for br in ("br0", "br1")}
    assert flows["br0"] and len(flows["br0"]) == len(flows["br1"])
    r = opdbus.run("apply", "--json", path, check=0, json=True)
    assert r.json["changed"] is False and r.json["counts"]["flow_mods"] == 0


def test_reapply_of_the_verified_state_still_finds_every_change(ovs, lab, opdbus, tmp_state):
    """A re-apply of the state last verified does not build the desired
    flows when what they are built from (the code, the sections, the ports)
    is what the record of that apply holds and the switch reports exactly
    the flows recorded. Each change on the host below must still be found
    and repaired, with the flows the full comparison would send."""
    a, b = container(lab, 100), container(lab, 101)
    path = tmp_state(state(openflow(2, [a.socket_port(), b.socket_port()],
                                    policies=[normal("web", "container:*")])))
    record = Path(ovs.env()["OPDBUS_STATE_DIR"]) / "flows" / "br0"

    def reapply():
        res = opdbus.run("apply", "--json", path, check=0, json=True).json
        assert res["ok"], res["errors"]
        return res["counts"]["flow_mods"]

    assert reapply() > 0
    assert "\ninputs " in record.read_text(), "a quiet, verified apply records its inputs"
    installed = opdbus_flows(ovs)
    assert reapply() == 0 and opdbus_flows(ovs) == installed

    sec = cookie(SEC, 20, 100)
    assert any(netlab.cookie_of(l) == sec for l in installed)
    ovs.ofctl("mod-flows", "br0", f"cookie={sec:#x}/-1,actions=drop", options=["-O", "OpenFlow14"])
    assert reapply() == 1, "a flow whose actions were changed by hand is sent again"
    assert opdbus_flows(ovs) == installed

    ovs.ofctl("del-flows", "br0", f"cookie={sec:#x}/-1", options=["-O", "OpenFlow14"])
    assert reapply() == 1, "a flow deleted by hand is put back"
    assert opdbus_flows(ovs) == installed

    stray = cookie(USER, 0, 0, 0) | 0x77
    ovs.ofctl("add-flow", "br0", f"cookie={stray:#x},table=30,priority=5,ip,actions=drop",
              options=["-O", "OpenFlow14"])
    assert reapply() == 1, "a flow with an op-dbus cookie added by hand is deleted"
    assert opdbus_flows(ovs) == installed

    ovs.vsctl("set", "Bridge", "br0", "fail_mode=standalone")
    reapply()
    assert ovs.vsctl("get", "Bridge", "br0", "fail_mode") == "secure", \
        "a fail_mode changed by hand is set back"
    assert opdbus_flows(ovs) == installed

    ovs.vsctl("set-controller", "br0", "tcp:127.0.0.1:9")
    reapply()
    assert ovs.vsctl("get-controller", "br0") == "", "a controller set by hand is removed"
    assert opdbus_flows(ovs) == installed

    # a container's port plugged in by hand: the same state gives it flows
    container(lab, 102)
    assert reapply() > 0
    assert any(netlab.cookie_of(l) & 0xFFFFFFFF == 102 for l in opdbus_flows(ovs))


def test_ports_are_read_again_once_vswitchd_has_caught_up(ovs, lab, opdbus, tmp_state):
    """The ports are read in one transaction with OVSDB's configuration
    numbers. When ovs-vswitchd has not carried out the newest configuration
    (a port just added has no OpenFlow number yet), the apply waits for it
    and reads the ports again: the new port gets its flows."""
    a, b = container(lab, 100), container(lab, 101)
    path = tmp_state(state(openflow(2, [a.socket_port(), b.socket_port()])))
    assert apply(opdbus, tmp_state, state(openflow(2, [a.socket_port(), b.socket_port()])))["ok"]
    pid = int(Path(ovs.pidfile("ovs-vswitchd")).read_text())
    os.kill(pid, signal.SIGSTOP)
    resume = threading.Timer(0.5, os.kill, (pid, signal.SIGCONT))
    try:
        # what a waiting ovs-vsctl commits: the change and next_cfg + 1
        next_cfg = int(ovs.vsctl("--no-wait", "get", "Open_vSwitch", ".", "next_cfg"))
        ovs.vsctl("--no-wait", "add-port", "br0", "internal_102", "--", "set", "Interface", "internal_102",
                  "type=internal", "--", "set", "Open_vSwitch", ".", f"next_cfg={next_cfg + 1}")
        resume.start()
        res = opdbus.run("apply", "--json", path, check=0, json=True).json
    finally:
        resume.cancel()
        os.kill(pid, signal.SIGCONT)
    assert res["ok"], res["errors"]
    assert int(ovs.vsctl("get", "Interface", "internal_102", "ofport")) > 0
    assert any(netlab.cookie_of(l) & 0xFFFFFFFF == 102 for l in opdbus_flows(ovs)), \
        "the port added while ovs-vswitchd was behind has no flows"


# ---- 8. restore-flows after ovs-vswitchd restarts -------------------------------------


def test_restore_flows_after_restart(ovs, lab, opdbus, tmp_state):
    g, w = container(lab, 100), container(lab, 101)
    ports = [g.socket_port(), w.socket_port()]
    doc = state(openflow(3, ports, dns=f"{NET}.53",
                         policies=[steer("g-to-w", "container:100", "container:101")],
                         flows=[{"table": 30, "priority": 5, "match_fields": {"dl_type": "0x86dd"},
                                 "actions": [{"type": "drop"}]}]))
    apply(opdbus, tmp_state, doc)
    before = opdbus_flows(ovs)
    classes = {netlab.cookie_of(l) >> 48 for l in before}
    assert classes == set(netlab.OPDBUS_CLASSES), f"{sorted(map(hex, classes))}"
    ofports = {h.port: h.ofport for h in (g, w)}

    ovs.restart_vswitchd()
    lab.replug()
    assert opdbus_flows(ovs) == [], "ovs-vswitchd kept flows across the restart"
    assert {h.port: h.ofport for h in (g, w)} == ofports
    # The bridge fails closed (fail_mode secure): nothing is forwarded, not
    # even the control frame delivered() waits for.
    spoofed = Batch().add("spoofed", g, lambda m: udp4_frame(g.mac, w.mac, f"{NET}.77", w.ip,
                                                             1000, 2000, m))
    with pytest.raises(AssertionError, match="the control frame did not reach"):
        delivered(w, spoofed)

    r = opdbus.run("restore-flows", "--json", check=0, json=True)
    assert r.json["counts"]["flow_mods"] == len(before)
    assert opdbus_flows(ovs) == before
    assert set(delivered(w, spoofed)) == set(), "the restored flows filter again"
    assert g.ping(w.ip)
    r = opdbus.run("restore-flows", "--json", check=0, json=True)
    assert r.json["counts"]["flow_mods"] == 0
    r = opdbus.run("restore-flows", "--bridge", "br0", "--json", check=0, json=True)
    assert r.json["counts"]["flow_mods"] == 0
    # and a plan of the applied state has nothing to do
    assert opdbus.run("plan", "--json", tmp_state(doc), check=0, json=True).json["changes"] == []


# ---- 9. errors ------------------------------------------------------------------------------


def _flow(actions, **kw):
    return {"table": 30, "priority": 10, "match_fields": {"dl_type": "0x0800"},
            "actions": actions, **kw}


@pytest.mark.parametrize("case,path,message", [
    pytest.param({"flows": [_flow([{"type": "output", "port": "nosuchport"}])]},
                 "plugins.openflow.bridges[0].flows[0].actions[0]", "nosuchport",
                 id="output-to-missing-port"),
    pytest.param({"flows": [_flow([{"type": "drop"}], cookie="0xdead000000000001")]},
                 "plugins.openflow.bridges[0].flows[0]", "0xdead000000000001",
                 id="cookie-outside-class"),
    pytest.param({"flows": [_flow([{"type": "controller"}])]},
                 "plugins.openflow.bridges[0].flows[0].actions[0]", "controller",
                 id="controller-action"),
    pytest.param({"policies": [{"name": "to-controller", "selector": "container:100",
                                "template": {"table": 10, "priority": 5,
                                             "actions": [{"type": "controller"}]}}]},
                 "plugins.openflow.flow_policies[0].template.actions[0]", "controller",
                 id="controller-in-policy"),
])
def test_invalid_flow_is_refused(ovs, lab, opdbus, tmp_state, case, path, message):
    a = container(lab, 100)
    apply(opdbus, tmp_state, state(openflow(1, [a.socket_port()])))
    before = dump_flows(ovs)
    r = opdbus.run("apply", tmp_state(state(openflow(1, [a.socket_port()], **case))), check=2)
    assert path in r.stderr and message in r.stderr, r.stderr
    assert dump_flows(ovs) == before


def test_policy_selecting_nothing_warns(ovs, lab, opdbus, tmp_state):
    a = container(lab, 100)
    res = apply(opdbus, tmp_state, state(openflow(
        1, [a.socket_port()], policies=[normal("nobody", "container:555"),
                                        normal("a-out", "container:100")])))
    assert res["ok"]
    warnings = [w for w in res["warnings"] if "plugins.openflow.flow_policies[0]" in w]
    assert len(warnings) == 1 and "selects no port" in warnings[0], res["warnings"]
    assert not any("flow_policies[1]" in w for w in res["warnings"])
    assert any(netlab.cookie_of(l) >> 48 == POLICY for l in opdbus_flows(ovs))


def test_match_string_may_name_a_port(ovs, lab, opdbus, tmp_state):
    """A policy's match string naming a port by name: op-dbus puts its
    number in the flow (flows go to ovs-ofctl with --no-names), and a name
    that is not on the bridge is an error with the policy's path."""
    a, b = container(lab, 100), container(lab, 101)
    block = {"name": "no-ping-from-a", "selector": "container:100",
             "template": {"table": 10, "priority": 1200, "match": f"icmp,in_port={a.port}",
                          "actions": [{"type": "drop"}]}}
    apply(opdbus, tmp_state, state(openflow(1, [a.socket_port(), b.socket_port()])))
    assert a.ping(b.ip)
    res = apply(opdbus, tmp_state, state(openflow(1, [a.socket_port(), b.socket_port()], policies=[block])))
    assert res["ok"], res
    ofport = ovs.vsctl("get", "Interface", a.port, "ofport").strip()
    policy = [line for line in opdbus_flows(ovs) if netlab.cookie_of(line) >> 48 == POLICY]
    assert len(policy) == 1 and f"in_port={ofport}" in policy[0], policy
    assert not a.ping(b.ip, wait=0.5), "the policy drops a's pings"

    block["template"]["match"] = "icmp,in_port=nosuchport"
    r = opdbus.run("apply", "--json", tmp_state(state(openflow(1, [a.socket_port(), b.socket_port()],
                                                                policies=[block]))), check=2, json=True)
    assert any(e.startswith("plugins.openflow.flow_policies[0].template: ") and "nosuchport" in e
               for e in r.json["errors"]), r.json["errors"]


# ---- 10. a bundle Open vSwitch rejects rolls everything back --------------------------


def test_rejected_bundle_rolls_back(ovs, lab, opdbus, tmp_state):
    """A flow Open vSwitch refuses, in a state that also changes the net
    section and many other flows: exit 1, the error names the flow and
    why, the net change is rolled back and the flows are exactly as
    before. Table 30 is limited to one flow, the state puts two there:
    ovs-vswitchd refuses the bundle at commit."""
    a, b = container(lab, 100), container(lab, 101)
    ports = [a.socket_port(), b.socket_port()]
    apply(opdbus, tmp_state, state(openflow(1, ports)))
    ovs.vsctl("--", "--id=@ft", "create", "Flow_Table", "flow_limit=1",
              "overflow_policy=refuse", "--", "set", "Bridge", "br0", "flow_tables:30=@ft")
    bad = [_flow([{"type": "drop"}]), _flow([{"type": "normal"}], priority=11)]
    flows_before = dump_flows(ovs)
    ports_before = ovs.vsctl("list-ports", "br0").split()
    bridges_before = ovs.vsctl("list-br").split()

    net = {"bridges": [{"name": "br0", "ports": [{"name": "extra0", "type": "internal"}]},
                       {"name": "br9", "datapath_type": "netdev"}]}
    r = opdbus.run("apply", "--json", tmp_state(state(openflow(2, ports, flows=bad), net=net)),
                   check=1, json=True)
    res = r.json
    assert not res["ok"] and res["rolled_back"], r.describe()
    assert any("flow bundle was rejected" in e for e in res["errors"]), res["errors"]
    # the flow it refused, by its path, cookie, table and priority, and why
    refused = [e for e in res["errors"] if "Open vSwitch refused the flow" in e]
    assert len(refused) == 1, res["errors"]
    assert re.match(r"plugins\.openflow\.bridges\[0\]\.flows\[[01]\]: bridge br0: Open vSwitch refused the flow "
                    r"with cookie 0xface[0-9a-f]{12} \(table 30, priority 1[01], dl_type=0x0800\): "
                    r"OFPFMFC_TABLE_FULL \(the table is full\)$", refused[0]), refused
    # the net change had been made, and was undone
    assert {c["path"] for c in res["rollback_changes"]} == {"bridge/br9", "bridge/br0/port/extra0"}
    assert ovs.vsctl("list-ports", "br0").split() == ports_before
    assert ovs.vsctl("list-br").split() == bridges_before
    assert dump_flows(ovs) == flows_before
    assert a.ping(b.ip), "traffic still flows"


def test_flow_mods_on_the_wire(ovs, lab, opdbus, tmp_state):
    """What op-dbus sends to the switch, as a proxy in front of the
    bridge's management socket records it: one bundle per apply, a change
    of one flow is one flow mod (an add that replaces it), and a flow that
    goes is a strict delete of that flow that matches its whole cookie."""
    a, b = container(lab, 100), container(lab, 101)
    keep = {"table": 30, "priority": 7, "cookie": "0x7", "match_fields": {"ip": "", "nw_dst": f"{NET}.7"},
            "actions": [{"type": "drop"}]}
    change = {"table": 30, "priority": 8, "cookie": "0x8", "match_fields": {"ip": "", "nw_dst": f"{NET}.8"},
              "actions": [{"type": "drop"}]}

    def doc(*flows):
        return state(openflow(1, [a.socket_port(), b.socket_port()], flows=flows))

    with netlab.OfpProxy(ovs) as proxy:
        res = opdbus.run("apply", "--json", tmp_state(doc(keep, change)), check=0, json=True, env=proxy.env()).json
        assert len(proxy.flow_mods()) == res["counts"]["flow_mods"] == len(opdbus_flows(ovs))
        assert {m.command for m in proxy.flow_mods()} == {netlab.OFPFC_ADD}

        del proxy.sent[:]
        res = opdbus.run("apply", "--json", tmp_state(doc(keep, change)), check=0, json=True, env=proxy.env()).json
        assert res["counts"]["flow_mods"] == 0 and proxy.flow_mods() == []

        change["actions"] = [{"type": "normal"}]
        res = opdbus.run("apply", "--json", tmp_state(doc(keep, change)), check=0, json=True, env=proxy.env()).json
        assert res["counts"]["flow_mods"] == 1
        assert proxy.flow_mods() == [netlab.FlowMod(netlab.OFPFC_ADD, 0xFACE000000000008, 0, 30, 8)]

        del proxy.sent[:]
        res = opdbus.run("apply", "--json", tmp_state(doc(keep)), check=0, json=True, env=proxy.env()).json
        assert res["counts"]["flow_mods"] == 1
        assert proxy.flow_mods() == [netlab.FlowMod(netlab.OFPFC_DELETE_STRICT, 0xFACE000000000008,
                                                    0xFFFFFFFFFFFFFFFF, 30, 8)]
    kept = [line for line in opdbus_flows(ovs) if netlab.cookie_of(line) >> 48 == USER]
    assert [netlab.cookie_of(line) for line in kept] == [0xFACE000000000007], kept


# ---- 11. what Open vSwitch installs is what was meant --------------------------------------


# One explicit flow per match field op-dbus knows (of-fields.c), with values
# of each form: masks, prefixes, flags, and the protocols they need.
EVERY_FIELD = [
    {"tcp": "", "tp_src": "0x400/0xff00", "tp_dst": 443, "tcp_flags": "+syn-ack", "nw_dst": "10.77.0.0/24"},
    {"dl_type": "0x0800", "nw_proto": 17, "tp_dst": 53, "nw_src": "10.77.0.0/255.255.255.0", "nw_tos": 8,
     "nw_ecn": 1, "nw_ttl": 64},
    {"sctp6": "", "tp_dst": "1/0xf", "ipv6_src": "fd00::/64", "ipv6_dst": "fd00::1", "ipv6_label": 5},
    {"icmp": "", "icmp_type": 3, "icmp_code": 1, "ip_dscp": 10},
    {"icmp6": "", "icmp_type": 135, "nd_target": "fe80::1", "nd_sll": "02:00:00:00:00:01"},
    {"icmp6": "", "icmp_type": 136, "nd_tll": "02:00:00:00:00:02"},
    {"arp": "", "arp_op": 1, "arp_spa": "10.77.0.1", "arp_tpa": "10.77.0.0/24", "arp_sha": "02:00:00:00:00:01",
     "arp_tha": "02:00:00:00:00:00/ff:ff:ff:00:00:00"},
    {"rarp": "", "nw_src": "10.77.0.9"},
    {"in_port": "LOCAL", "dl_src": "02:00:00:00:00:00/ff:ff:00:00:00:00", "dl_dst": "02:00:00:00:00:05",
     "dl_vlan": 10, "dl_vlan_pcp": 3},
    {"dl_vlan_pcp": 5, "metadata": "0x5/0xff", "tun_id": "0x10", "pkt_mark": 3},
    {"ct_state": "+trk+est-new", "ct_zone": 5, "ct_mark": "1/1", "reg7": "0x10/0xf0", "reg15": 4294967295},
    {"ipv6": "", "ipv6_src": "fe80::/10", "nw_ttl": 1},
]


def test_every_field_is_installed_as_meant(ovs, lab, opdbus, tmp_state):
    """Flows naming every match field op-dbus knows apply, verify (the match
    Open vSwitch reports is the one op-dbus computed for them), and a second
    apply has nothing to send."""
    a = container(lab, 100)
    flows = [{"table": 30, "priority": 100 + i, "match_fields": m, "actions": [{"type": "drop"}]}
             for i, m in enumerate(EVERY_FIELD)]
    flows.append({"table": 30, "priority": 1, "match_fields": {"ip": ""},
                  "actions": [{"type": "set_field", "field": "nw_ttl", "value": 9},
                              {"type": "set_field", "field": "ip_dscp", "value": 3},
                              {"type": "set_field", "field": "dl_src", "value": "02:00:00:00:00:09"},
                              {"type": "set_field", "field": "reg3", "value": 7},
                              {"type": "normal"}]})
    doc = state(openflow(1, [a.socket_port()], flows=flows))
    res = apply(opdbus, tmp_state, doc)
    assert res["ok"], res
    res = apply(opdbus, tmp_state, doc)
    assert res["counts"]["flow_mods"] == 0 and res["changes"] == [], res
    opdbus.run("verify", tmp_state(doc), check=0)


def test_connection_closed_after_the_read_is_made_again(ovs, lab, opdbus, tmp_state):
    """The flows are read and written on one connection; when the switch
    has closed it in between (ovs-vswitchd stopped, the bridge was made
    again), the writes go on a new one."""
    a = container(lab, 100)
    doc = state(openflow(1, [a.socket_port()], flows=[_flow([{"type": "drop"}])]))
    with netlab.OfpProxy(ovs, hangup_after_dump=True) as proxy:
        res = opdbus.run("apply", "--json", tmp_state(doc), check=0, json=True, env=proxy.env()).json
    assert res["ok"] and res["counts"]["flow_mods"] == len(opdbus_flows(ovs)) > 0, res


def test_flow_installed_with_another_match_fails_verification(ovs, lab, opdbus, tmp_state):
    """A flow the switch holds with another match than the one sent (here
    tp_dst taken out on the way, by a proxy in front of the management
    socket) fails the verification, which reads the flows back: the apply
    is rolled back."""
    a = container(lab, 100)
    apply(opdbus, tmp_state, state(openflow(1, [a.socket_port()])))
    before = dump_flows(ovs)
    flow = {"table": 30, "priority": 10, "cookie": "0x5", "match_fields": {"tcp": "", "tp_dst": 443},
            "actions": [{"type": "drop"}]}
    with netlab.OfpProxy(ovs, drop=(0x8000, 14)) as proxy:    # OXM tcp_dst
        r = opdbus.run("apply", "--json", tmp_state(state(openflow(1, [a.socket_port()], flows=[flow]))),
                       check=1, json=True, env=proxy.env())
    res = r.json
    assert res["rolled_back"], r.describe()
    assert any(e.startswith("plugins.openflow.bridges[0].flows[0]: bridge br0: Open vSwitch installed the flow "
                            "with cookie 0xface000000000005 (table 30, priority 10) with another match than the "
                            "one sent (dl_type=0x0800,nw_proto=6,tcp_dst=443)")
               for e in res["errors"]), res["errors"]
    assert dump_flows(ovs) == before
