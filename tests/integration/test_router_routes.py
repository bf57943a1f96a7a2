# SPDX-License-Identifier: LGPL-2.1-or-later
"""op-router's routes section against the kernel (docs/router.md).

A router namespace (eth1 towards an upstream namespace, lan1 towards a
LAN host) in which op-router applies static routes and policy rules;
`ip -j` is the oracle:

  * the routes and rules are there with protocol 217, and packets take
    them;
  * a second apply sends nothing;
  * someone else's route, rule and address (protocol static, a hand-made
    rule, an address) survive every apply, removal and rollback; a route
    of someone else's at the same destination, table and metric is a
    conflict named at its JSON path, and nothing changes;
  * removing the default route needs --allow-outage;
  * a failure injected after the routes were changed leaves `ip -j route
    show table all` and `ip -j rule` as they were.
"""

import json

import pytest
from router_fixture import sh


pytest_plugins = ("router_fixture",)



class Net:
    def __init__(self, make_netns):
        self.netns = make_netns

    @staticmethod
    def run(ns, *cmd, check=True):
        return sh("ip", "netns", "exec", ns, *cmd, check=check)

    def build(self):
        self.router, self.upstream, self.lan = self.netns("rtr"), self.netns("up"), self.netns("lan")
        r = self.router
        self.run(r, "ip", "link", "add", "eth1", "type", "veth", "peer", "name", "eth0", "netns", self.upstream)
        self.run(r, "ip", "link", "add", "lan1", "type", "veth", "peer", "name", "eth0", "netns", self.lan)
        for ns, dev, addr in ((r, "eth1", "198.51.100.2/24"), (r, "lan1", "192.168.1.1/24"),
                              (self.upstream, "eth0", "198.51.100.1/24"), (self.lan, "eth0", "192.168.1.10/24")):
            self.run(ns, "ip", "addr", "add", addr, "dev", dev)
            self.run(ns, "ip", "link", "set", dev, "up")
        # behind the upstream: 10.60.0.1, reachable only with a route
        self.run(self.upstream, "ip", "addr", "add", "10.60.0.1/32", "dev", "lo")
        self.run(self.upstream, "ip", "route", "add", "192.168.1.0/24", "via", "198.51.100.2")
        self.run(self.lan, "ip", "route", "add", "default", "via", "192.168.1.1")
        self.run(r, "sysctl", "-q", "-w", "net.ipv4.ip_forward=1")
        return self

    def foreign(self):
        """Someone else's route, rule and address in the router namespace."""
        r = self.router
        self.run(r, "ip", "route", "add", "10.50.0.0/16", "via", "198.51.100.9", "proto", "static")
        self.run(r, "ip", "route", "add", "default", "via", "198.51.100.9", "table", "100", "proto", "static")
        self.run(r, "ip", "rule", "add", "priority", "300", "from", "10.99.0.0/16", "lookup", "100")
        self.run(r, "ip", "addr", "add", "192.168.1.2/24", "dev", "lan1")

    def routes(self):
        return json.loads(self.run(self.router, "ip", "-j", "route", "show", "table", "all").stdout)

    def rules(self):
        return json.loads(self.run(self.router, "ip", "-j", "rule").stdout)

    def dumps(self):
        return (self.run(self.router, "ip", "-j", "route", "show", "table", "all").stdout,
                self.run(self.router, "ip", "-j", "-6", "route", "show", "table", "all").stdout,
                self.run(self.router, "ip", "-j", "rule").stdout,
                self.run(self.router, "ip", "-j", "-6", "rule").stdout,
                self.run(self.router, "ip", "-j", "addr").stdout)


@pytest.fixture
def net(router_netns):
    return Net(router_netns).build()


@pytest.fixture
def router(net, oprouter, tmp_state):
    runner = oprouter.in_netns(net.router)

    def apply(state, *args, rc=0, env=None):
        r = runner.run("apply", "--json", *args, tmp_state(state), json=True, env=env)
        assert r.returncode == rc, r.describe()
        return r.json

    apply.run = runner.run
    apply.path = tmp_state
    return apply


STATE = {"version": 1, "plugins": {"routes": {
    "routes": [
        {"to": "default", "via": "198.51.100.1"},
        {"to": "10.60.0.0/16", "via": "198.51.100.1", "metric": 5},
        {"to": "default", "type": "blackhole", "table": 200, "metric": 100},
        {"to": "10.70.0.0/24", "dev": "lan1", "table": 200},
    ],
    "rules": [
        {"priority": 100, "iif": "lan1", "to": "10.70.0.0/16", "table": 200},
        {"priority": 110, "fwmark": "0x10/0xff", "table": 200},
    ],
}}}


def owned(objs):
    return [o for o in objs if str(o.get("protocol")) == "217"]


def foreign(objs):
    return [o for o in objs if str(o.get("protocol")) not in ("217", "kernel")]


def test_routes_and_rules_marked_and_taken(net, router):
    assert net.run(net.router, "ping", "-n", "-q", "-c", "1", "-W", "2", "10.60.0.1", check=False).returncode != 0
    res = router(STATE)
    assert res["counts"]["rtnl_messages"] == 7, res["counts"]   # 4 routes, 1 + 2 rules (two families)
    routes = owned(net.routes())
    assert sorted((r["dst"], r.get("table", "main")) for r in routes) == [
        ("10.60.0.0/16", "main"), ("10.70.0.0/24", "200"), ("default", "200"), ("default", "main")]
    assert {r.get("type", "unicast") for r in routes if r.get("table") == "200"} == {"blackhole", "unicast"}
    rules = owned(net.rules())
    assert sorted(r["priority"] for r in rules) == [100, 110]
    assert [r["priority"] for r in owned(json.loads(net.run(net.router, "ip", "-j", "-6", "rule").stdout))] == [110]
    # packets take them: the router reaches what is behind the upstream
    assert net.run(net.router, "ping", "-n", "-q", "-c", "1", "-W", "3", "10.60.0.1", check=False).returncode == 0

    again = router(STATE)
    assert again["changed"] is False and again["changes"] == [], again
    assert again["counts"]["writes"] == 0 and again["counts"]["rtnl_messages"] == 0, again["counts"]
    r = router.run("verify", "--json", router.path(STATE), json=True)
    assert r.returncode == 0, r.describe()


def test_foreign_routes_rules_and_addresses_survive(net, router):
    net.foreign()
    before = (foreign(net.routes()), foreign(net.rules()),
              net.run(net.router, "ip", "-j", "addr", "show", "dev", "lan1").stdout)

    def untouched():
        assert (foreign(net.routes()), foreign(net.rules()),
                net.run(net.router, "ip", "-j", "addr", "show", "dev", "lan1").stdout) == before

    router(STATE)
    untouched()
    changed = json.loads(json.dumps(STATE))
    changed["plugins"]["routes"]["routes"][1]["via"] = "198.51.100.9"
    changed["plugins"]["routes"]["rules"].pop()
    res = router(changed)
    assert [c["action"] for c in res["changes"]] == ["modify", "delete", "delete"], res["changes"]
    untouched()
    # an empty section removes op-router's routes only; the default route
    # needs consent
    res = router({"version": 1, "plugins": {"routes": {}}}, rc=2)
    assert any("--allow-outage" in e and e.startswith("default via 198.51.100.1") for e in res["errors"]), res
    router({"version": 1, "plugins": {"routes": {}}}, "--allow-outage")
    assert owned(net.routes()) == [] and owned(net.rules()) == []
    untouched()
    r = router.run("rollback", "--allow-outage", "--json", json=True)
    assert r.returncode == 0, r.describe()
    assert len(owned(net.routes())) == 4
    untouched()
    r = router.run("rollback", "--to", "1", "--allow-outage", "--json", json=True)
    assert r.returncode == 0, r.describe()
    assert len(owned(net.rules())) == 2   # and one IPv6 rule
    untouched()


def test_someone_elses_route_at_the_same_key_is_a_conflict(net, router):
    net.foreign()
    router(STATE)
    before = net.dumps()
    state = json.loads(json.dumps(STATE))
    state["plugins"]["routes"]["routes"].append({"to": "10.50.0.0/16", "via": "198.51.100.1"})
    state["plugins"]["routes"]["routes"].append({"to": "10.1.0.0/16", "dev": "lan9"})
    res = router(state, rc=2)
    assert any(e.startswith("plugins.routes.routes[4]: the route 10.50.0.0/16 via 198.51.100.9 dev eth1 "
                            "(protocol 4) is not op-router's") for e in res["errors"]), res["errors"]
    assert any(e.startswith("plugins.routes.routes[5].dev: interface lan9 is not on this router")
               for e in res["errors"]), res["errors"]
    assert net.dumps() == before


def test_failure_after_the_routes_leaves_the_kernel_as_it_was(net, router):
    net.foreign()
    router(STATE)
    before = net.dumps()
    changed = json.loads(json.dumps(STATE))
    changed["plugins"]["routes"]["routes"][1]["metric"] = 6
    changed["plugins"]["routes"]["routes"].append({"to": "10.80.0.0/16", "via": "192.168.1.10"})
    changed["plugins"]["routes"]["rules"][0]["priority"] = 101
    res = router(changed, rc=1, env={"OPROUTER_FAULT_INJECT": "routes"})
    assert res["rolled_back"] is True, res
    assert net.dumps() == before


def test_route_through_a_bridge_the_same_state_makes(net, router):
    """The routes section may name a link the interfaces section of the
    same state makes: planned before it exists, sent after it is made;
    and both go together."""
    state = {"version": 1, "plugins": {
        "interfaces": {"bridges": [{"name": "br-lan", "ports": ["lan1"], "addresses": ["192.168.7.1/24"]}]},
        "routes": {"routes": [{"to": "10.8.0.0/16", "dev": "br-lan"}, {"to": "10.9.0.0/16", "via": "192.168.7.5"}]}}}
    r = router.run("plan", router.path(state))
    assert r.returncode == 0, r.describe()
    router(state)
    assert {(r["dst"], r["dev"]) for r in owned(net.routes())} == {("10.8.0.0/16", "br-lan"), ("10.9.0.0/16", "br-lan")}
    assert router(state)["counts"]["writes"] == 0
    res = router({"version": 1, "plugins": {"interfaces": {}, "routes": {}}}, "--allow-outage")
    assert res["ok"], res
    assert owned(net.routes()) == [] and "br-lan" not in net.run(net.router, "ip", "-br", "link").stdout


def test_a_thousand_routes_are_matched_by_their_key(net, router):
    """1,000 routes, looked up by their key (destination, table, metric)
    in the section and in the dump: a re-apply sends nothing, a changed
    gateway is one change, a metric more is one route added and one
    deleted, and two routes of the section with the same key are each
    named at their path, with the earlier one."""
    routes = [{"to": f"10.{200 + (i >> 8)}.{i & 255}.0/24", "via": "198.51.100.1"} for i in range(1000)]
    state = {"version": 1, "plugins": {"routes": {"routes": routes}}}
    assert router(state)["counts"]["rtnl_messages"] == 1000
    assert len(owned(net.routes())) == 1000
    assert router(state)["counts"]["writes"] == 0

    changed = json.loads(json.dumps(state))
    changed["plugins"]["routes"]["routes"][500]["via"] = "198.51.100.9"
    changed["plugins"]["routes"]["routes"][900]["metric"] = 7
    res = router(changed)
    assert sorted((c["action"], c["path"].split()[0]) for c in res["changes"]) == [
        ("create", "10.203.132.0/24"), ("delete", "10.203.132.0/24"), ("modify", "10.201.244.0/24")], res["changes"]
    assert res["counts"]["rtnl_messages"] == 3, res["counts"]

    before = net.dumps()
    dup = json.loads(json.dumps(state))
    dup["plugins"]["routes"]["routes"] += [dict(routes[10]), {"to": routes[700]["to"], "via": "198.51.100.9"},
                                           dict(routes[10], metric=3)]
    res = router(dup, rc=2)
    clash = "the same destination, table and metric as "
    assert [e for e in res["errors"] if clash in e] == [
        f"plugins.routes.routes[1000]: {clash}plugins.routes.routes[10]: the kernel keeps one route of the two; "
        "give them different metrics",
        f"plugins.routes.routes[1001]: {clash}plugins.routes.routes[700]: the kernel keeps one route of the two; "
        "give them different metrics"], res["errors"]
    assert net.dumps() == before
