# SPDX-License-Identifier: LGPL-2.1-or-later
"""op-router's interfaces section against the kernel (docs/router.md).

A router namespace with veth devices named as on a GL-MT6000 (eth1,
lan1..lan3), their other ends in a LAN host's namespace and a spare one;
`ip -j` is the oracle:

  * existing links get their MTU and addresses, a bridge op-router makes
    gets its ports and addresses (alias op-router, the ledger, addresses
    with protocol 217), and a LAN host reaches the bridge's address;
  * a second apply sends nothing;
  * someone else's address and bridge survive every apply, removal and
    rollback; a bridge of someone else's by the name the state gives is a
    conflict named at its JSON path, and nothing changes;
  * removing a bridge needs --allow-outage, and removes only what
    op-router made;
  * a failure injected after the interfaces were changed leaves `ip -j
    link` and `ip -j addr` as they were.
"""

import json

import pytest
from router_fixture import settle_links, sh


pytest_plugins = ("router_fixture",)



class Net:
    def __init__(self, make_netns):
        self.netns = make_netns

    @staticmethod
    def run(ns, *cmd, check=True):
        return sh("ip", "netns", "exec", ns, *cmd, check=check)

    def build(self):
        self.router, self.lan, self.spare = self.netns("rtr"), self.netns("lan"), self.netns("spr")
        r = self.router
        self.run(r, "sysctl", "-q", "-w", "net.ipv6.conf.all.accept_dad=0", "net.ipv6.conf.default.accept_dad=0")
        self.run(r, "ip", "link", "add", "lan1", "type", "veth", "peer", "name", "eth0", "netns", self.lan)
        for dev in ("eth1", "lan2", "lan3"):
            self.run(r, "ip", "link", "add", dev, "type", "veth", "peer", "name", dev, "netns", self.spare)
            self.run(self.spare, "ip", "link", "set", dev, "up")
        self.run(self.lan, "ip", "addr", "add", "192.168.1.10/24", "dev", "eth0")
        self.run(self.lan, "ip", "link", "set", "eth0", "up")
        for dev in ("lan1", "lan2", "lan3"):
            self.run(r, "ip", "link", "set", dev, "up")
        return self

    def foreign(self):
        """Someone else's address and bridge."""
        self.run(self.router, "ip", "addr", "add", "192.0.2.5/24", "dev", "lan3")
        self.run(self.router, "ip", "link", "add", "br-x", "type", "bridge")
        self.run(self.router, "ip", "addr", "add", "10.9.9.9/24", "dev", "br-x")

    def links(self):
        return {link["ifname"]: link for link in json.loads(self.run(self.router, "ip", "-j", "-d", "link").stdout)}

    def addrs(self, dev):
        """(address, prefix length, protocol) of dev's addresses, without
        link-local ones; the protocol as tests/rtnl-driver dumps it (this
        iproute2 does not show it)."""
        index = self.links()[dev]["ifindex"]
        out = json.loads(sh(self.driver, "dump", f"/run/netns/{self.router}", "addresses").stdout)
        return [(a["local"], a["prefixlen"], a["protocol"]) for a in out
                if a["ifindex"] == index and not a["local"].startswith("fe80:")]

    def dumps(self):
        settle_links(self.router)
        return (self.run(self.router, "ip", "-j", "link").stdout, self.run(self.router, "ip", "-j", "addr").stdout)


@pytest.fixture
def net(built_program, router_netns):
    n = Net(router_netns)
    n.driver = built_program("tests/rtnl-driver")
    return n.build()


@pytest.fixture
def router(net, oprouter, tmp_state):
    runner = oprouter.in_netns(net.router)

    def apply(state, *args, rc=0, env=None):
        r = runner.run("apply", "--json", *args, tmp_state(state), json=True, env=env)
        assert r.returncode == rc, r.describe()
        return r.json

    apply.run = runner.run
    apply.state_dir = oprouter.state_dir
    return apply


STATE = {"version": 1, "plugins": {"interfaces": {
    "links": [{"name": "eth1", "mtu": 1400, "up": True, "addresses": ["198.51.100.2/24", "2001:db8:1::2/64"]}],
    "bridges": [{"name": "br-lan", "ports": ["lan1", "lan2"], "addresses": ["192.168.1.1/24", "fd00:1::1/64"]}],
}}}


def test_links_bridges_and_addresses(net, router):
    res = router(STATE)
    assert res["ok"], res
    links = net.links()
    assert links["eth1"]["mtu"] == 1400 and "UP" in links["eth1"]["flags"]
    assert links["br-lan"]["linkinfo"]["info_kind"] == "bridge"
    assert links["br-lan"].get("ifalias") == "op-router"
    assert links["lan1"]["master"] == "br-lan" and links["lan2"]["master"] == "br-lan"
    assert "master" not in links["lan3"]
    assert net.addrs("br-lan") == [("192.168.1.1", 24, 217), ("fd00:1::1", 64, 217)]
    assert net.addrs("eth1") == [("198.51.100.2", 24, 217), ("2001:db8:1::2", 64, 217)]
    ledger = json.loads((router.state_dir / "interfaces.ledger").read_text())
    assert ledger["links"] == ["br-lan"]
    assert "br-lan 192.168.1.1/24" in ledger["addresses"]
    # a LAN host reaches the router through the bridge
    assert net.run(net.lan, "ping", "-n", "-q", "-c", "1", "-W", "3", "192.168.1.1", check=False).returncode == 0

    again = router(STATE)
    assert again["changed"] is False and again["changes"] == [], again
    assert again["counts"]["writes"] == 0 and again["counts"]["rtnl_messages"] == 0, again["counts"]


def test_foreign_address_and_bridge_survive(net, router):
    net.foreign()
    before = (net.addrs("lan3"), net.addrs("br-x"))

    def untouched():
        assert (net.addrs("lan3"), net.addrs("br-x")) == before
        assert "br-x" in net.links()

    router(STATE)
    untouched()
    changed = json.loads(json.dumps(STATE))
    changed["plugins"]["interfaces"]["bridges"][0]["ports"] = ["lan1"]
    changed["plugins"]["interfaces"]["links"][0]["addresses"] = ["198.51.100.2/24"]
    res = router(changed)
    assert sorted(c["path"] for c in res["changes"]) == ["address/eth1/2001:db8:1::2/64", "port/br-lan/lan2"], res
    untouched()
    res = router({"version": 1, "plugins": {"interfaces": {}}}, rc=2)
    assert any(e.startswith("bridge/br-lan: delete would cut off the hosts it connects") for e in res["errors"]), res
    router({"version": 1, "plugins": {"interfaces": {}}}, "--allow-outage")
    assert "br-lan" not in net.links() and net.addrs("eth1") == []
    untouched()
    r = router.run("rollback", "--to", "1", "--allow-outage", "--json", json=True)
    assert r.returncode == 0, r.describe()
    assert net.links()["lan2"]["master"] == "br-lan"
    assert net.addrs("br-lan") == [("192.168.1.1", 24, 217), ("fd00:1::1", 64, 217)]
    untouched()


def test_someone_elses_bridge_is_a_conflict(net, router):
    net.foreign()
    router(STATE)
    before = net.dumps()
    state = json.loads(json.dumps(STATE))
    state["plugins"]["interfaces"]["bridges"].append({"name": "br-x", "ports": ["lan3"]})
    state["plugins"]["interfaces"]["links"].append({"name": "lan3", "addresses": ["192.0.2.5/24"]})
    res = router(state, rc=2)
    assert any(e.startswith("plugins.interfaces.bridges[1].name: br-x exists and is not op-router's")
               for e in res["errors"]), res["errors"]
    assert any(e.startswith("plugins.interfaces.links[1].addresses[0]: 192.0.2.5/24 is on lan3 already and is "
                            "not op-router's") for e in res["errors"]), res["errors"]
    assert net.dumps() == before


def test_failure_after_the_interfaces_leaves_the_kernel_as_it_was(net, router):
    net.foreign()
    router(STATE)
    before = net.dumps()
    changed = json.loads(json.dumps(STATE))
    changed["plugins"]["interfaces"]["links"][0]["mtu"] = 1300
    changed["plugins"]["interfaces"]["links"][0]["addresses"].append("198.51.100.7/24")
    changed["plugins"]["interfaces"]["bridges"].append({"name": "br-guest", "ports": ["lan3"],
                                                        "addresses": ["192.168.5.1/24"]})
    res = router(changed, rc=1, env={"OPROUTER_FAULT_INJECT": "interfaces"})
    assert res["rolled_back"] is True, res
    assert net.dumps() == before


def test_a_change_the_kernel_refuses_among_the_links_is_rolled_back(net, router):
    """New links are made down and unlabelled, and labelled and brought up
    once their addresses are on them: when the kernel refuses an address
    in between (IPv6 is off on new links here), the links made so far are
    labelled all the same, and the rollback removes every one of them."""
    net.foreign()
    router(STATE)
    before = net.dumps()
    net.run(net.router, "sysctl", "-q", "-w", "net.ipv6.conf.default.disable_ipv6=1")
    changed = json.loads(json.dumps(STATE))
    changed["plugins"]["interfaces"]["macvlans"] = [
        {"name": f"mv{i}", "link": "eth1", "addresses": [f"198.51.100.{30 + i}/24"] if i != 3 else ["fd07::3/64"]}
        for i in range(6)]
    res = router(changed, rc=1)
    assert any("the kernel refused to add the address fd07::3/64 on mv3" in e for e in res["errors"]), res["errors"]
    assert res["rolled_back"] is True, res
    net.run(net.router, "sysctl", "-q", "-w", "net.ipv6.conf.default.disable_ipv6=0")
    assert net.dumps() == before


def test_macvlans(net, router):
    state = {"version": 1, "plugins": {"interfaces": {"macvlans": [
        {"name": "mv0", "link": "eth1", "addresses": ["198.51.100.20/24"]},
        {"name": "mv1", "link": "eth1", "mode": "private"}]}}}
    res = router(state)
    assert [c["path"] for c in res["changes"] if c["action"] == "create"][:2] == ["macvlan/mv0", "address/mv0/198.51.100.20/24"]
    links = net.links()
    assert links["mv0"]["linkinfo"]["info_data"]["mode"] == "bridge"
    assert links["mv1"]["linkinfo"]["info_data"]["mode"] == "private"
    assert links["mv0"].get("ifalias") == "op-router" and "UP" in links["mv0"]["flags"]
    assert net.addrs("mv0") == [("198.51.100.20", 24, 217)]
    assert router(state)["counts"]["writes"] == 0
    # another mode: made anew
    state["plugins"]["interfaces"]["macvlans"][1]["mode"] = "vepa"
    res = router(state, "--allow-outage")
    assert [(c["action"], c["path"]) for c in res["changes"]] == [("recreate", "macvlan/mv1")], res["changes"]
    assert net.links()["mv1"]["linkinfo"]["info_data"]["mode"] == "vepa"
    router({"version": 1, "plugins": {"interfaces": {}}}, "--allow-outage")
    assert "mv0" not in net.links() and "mv1" not in net.links()


def test_firewall_zone_on_a_macvlan_the_state_makes(net, router, tmp_state):
    """A zone may name a macvlan the same state makes, and a port forward
    go to the network of its address, before the macvlan exists."""
    state = {"version": 1, "plugins": {
        "interfaces": {"macvlans": [{"name": "mv2", "link": "eth1", "addresses": ["10.5.0.1/24"]}]},
        "firewall": {"zones": [{"name": "dmz", "interfaces": ["mv2"]}, {"name": "wan", "interfaces": ["lan3"]}],
                     "port_forwards": [{"name": "web", "from": "wan", "proto": "tcp", "external_port": 80,
                                        "to": "10.5.0.9:80"}]}}}
    r = router.run("plan", tmp_state(state))
    assert r.returncode == 0, r.describe()
    router(state)
    assert "mv2" in net.links()
