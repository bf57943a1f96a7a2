# SPDX-License-Identifier: LGPL-2.1-or-later
"""docs/router.md's walk from an empty router to a LAN, a WAN and a guest
network, applied by op-router to a router namespace that has its links
and nothing else (test_router_firewall's topology, bare): the interfaces,
routes and firewall sections in one apply, in that order, then real
packets (masquerade out of the WAN, the port forward, the guests through
the tunnel and nowhere else when it is gone), a second apply that sends
nothing, and empty sections that take away everything op-router made and
nothing else."""

import json
import socket

import pytest

from netlab import tcp_exchange
from router_fixture import settle_links
from test_router_firewall import (UPSTREAM, WAN_ADDR, Node, Topology, doc_state, guest_flows,
                                  kill_switch_probe, ruleset, tcp_to)

pytest_plugins = ("router_fixture",)

SECTIONS = ("interfaces", "routes", "firewall")


@pytest.fixture
def bare(router_netns):
    return Topology(router_netns).build(bare=True)


def test_walkthrough(bare, oprouter, tmp_state):
    net = bare
    runner = oprouter.in_netns(net.router.ns)
    state = doc_state(SECTIONS)
    path = tmp_state(state)
    for verb in ("validate", "plan"):
        r = runner.run(verb, path)
        assert r.returncode == 0, r.describe()
    r = runner.run("apply", "--json", path, json=True)
    assert r.returncode == 0, r.describe()
    plugins = [c["plugin"] for c in r.json["changes"]]
    assert plugins == sorted(plugins, key=SECTIONS.index), "interfaces, then routes, then the firewall"
    r = runner.run("verify", path)
    assert r.returncode == 0, r.describe()

    # the LAN reaches the WAN, masqueraded; the WAN reaches the LAN's web
    # server through the port forward
    assert tcp_exchange(net.lanclient, net.upstream, 5001) == WAN_ADDR
    assert tcp_to(net.upstream, WAN_ADDR, 8080, net.lanserver, ("192.168.1.10", 80)) == UPSTREAM
    # the guests leave through the tunnel, by op-router's rule and route
    assert tcp_exchange(net.guest, Node("far", net.far.ns, UPSTREAM), 5004) == "10.99.0.2"

    again = runner.run("apply", "--json", path, json=True).json
    assert again["changed"] is False and again["counts"]["writes"] == 0, again

    # the tunnel goes: not one guest packet leaves through eth1
    sock4, sock6 = guest_flows(net)
    with sock4, sock6:
        net.router.run("ip", "link", "delete", "wg0")
        assert kill_switch_probe(net, sock4, sock6) == []

    # empty sections: op-router's objects go, the links stay
    empty = {"version": 1, "plugins": {s: {} for s in SECTIONS}}
    r = runner.run("apply", "--json", "--allow-outage", tmp_state(empty), json=True)
    assert r.returncode == 0, r.describe()
    assert "op-router" not in net.router.run("nft", "list", "tables").stdout
    assert "br-lan" not in net.router.run("ip", "-br", "link").stdout
    assert "proto 217" not in net.router.run("ip", "route", "show", "table", "all").stdout
    assert "proto 217" not in net.router.run("ip", "rule").stdout
    addrs = json.loads(net.router.run("ip", "-j", "addr", "show", "dev", "eth1").stdout)[0]["addr_info"]
    assert [a for a in addrs if a.get("scope") != "link"] == []
    assert ruleset(net.router) == {"nftables": [ruleset(net.router)["nftables"][0]]}   # metainfo only
    with pytest.raises(OSError):
        with net.lanclient.socket(socket.AF_INET, socket.SOCK_STREAM) as s:
            s.settimeout(2)
            s.connect((UPSTREAM, 5001))


def kernel_dumps(router):
    """What the router namespace holds: ip -j link/addr/route/rule and the
    ruleset, without the kernel's counters and handles."""
    settle_links(router.ns)
    out = [router.run("ip", "-j", *cmd).stdout for cmd in (
        ("link",), ("addr",), ("route", "show", "table", "all"), ("-6", "route", "show", "table", "all"),
        ("rule",), ("-6", "rule"))]
    return out, ruleset(router)


def change_of_every_section(state):
    """The walkthrough's state changed in all three sections (tests/vm's
    router scenario applies it too): an address on lan5, lan4 out of
    br-lan into a new bridge br-guest, a route, a rule, br-guest in the
    guest zone."""
    changed = json.loads(json.dumps(state))
    plugins = changed["plugins"]
    plugins["interfaces"]["links"][1]["addresses"].append("192.168.6.1/24")
    plugins["interfaces"]["bridges"].append({"name": "br-guest", "ports": ["lan4"]})
    plugins["interfaces"]["bridges"][0]["ports"].remove("lan4")
    plugins["routes"]["routes"].append({"to": "10.60.0.0/16", "via": "198.51.100.1", "metric": 5})
    plugins["routes"]["rules"].append({"priority": 120, "iif": "br-guest", "table": 100})
    plugins["firewall"]["zones"][1]["interfaces"].append("br-guest")
    return changed


def test_failure_after_the_firewall_rolls_every_section_back(bare, oprouter, tmp_state):
    net = bare
    runner = oprouter.in_netns(net.router.ns)
    state = doc_state(SECTIONS)
    r = runner.run("apply", "--json", tmp_state(state), json=True)
    assert r.returncode == 0, r.describe()
    before = kernel_dumps(net.router)
    changed = change_of_every_section(state)
    r = runner.run("apply", "--json", "--allow-outage", tmp_state(changed), json=True,
                   env={"OPROUTER_FAULT_INJECT": "firewall"})
    assert r.returncode == 1 and r.json["rolled_back"] is True, r.describe()
    assert {c["plugin"] for c in r.json["changes"]} == set(SECTIONS), r.json["changes"]
    assert kernel_dumps(net.router) == before
