# SPDX-License-Identifier: LGPL-2.1-or-later
"""agent/lib/nft, the nftables library, against the kernel (docs/nft.md).

The library is driven through tests/nft-driver (built with the project),
which reads a ruleset as JSON and applies, plans, dumps or watches it in
the network namespace it runs in. Every test runs in namespaces it creates
(never the host's), deleted by the fixture; `nft` is the oracle:

  * a ruleset with every expression kind, applied by the library, lists
    (`nft -j list table`) exactly as the same ruleset loaded with `nft -f`
    in another fresh namespace, and reads back with every rule's identity;
  * a second apply sends nothing and keeps the counters of traffic that
    went through a rule; one set element added or removed is one message;
  * a batch with one object the kernel refuses changes nothing, and the
    error names that object;
  * a table of someone else (`inet fw4`) is never touched;
  * rules keep their order and handles when others are added, moved,
    replaced or removed; interval sets changed step by step hold what
    `nft -f` would load;
  * the monitor reports changes of the caller's tables by others only;
  * real packets: masquerade and a drop rule in a router namespace between
    two others (veth pairs, kernel TCP).

Environment: OPDBUS_BUILD_DIR (default build-test below the source root).
"""

import copy
import json
import os
import re
import secrets
import socket
import subprocess
from pathlib import Path

import pytest

from netlab import in_netns, tcp_dropped, tcp_exchange
from ovs_sandbox import CREATED_NETNS, NETNS_PREFIX, netns_list

SOURCE_ROOT = Path(os.environ.get("OPDBUS_SOURCE_ROOT") or Path(__file__).resolve().parents[2])
SANITIZER_RE = re.compile(r"Sanitizer|^\S+:\d+:\d+: runtime error: ", re.M)
CMD_TIMEOUT = 60


def run(cmd, check=True, input=None):
    result = subprocess.run([str(c) for c in cmd], capture_output=True, text=True,
                            input=input, timeout=CMD_TIMEOUT, check=False)
    if check and result.returncode != 0:
        raise AssertionError(f"{' '.join(result.args)} exited with {result.returncode}:\n"
                             f"{result.stdout}{result.stderr}")
    return result


@pytest.fixture(scope="module")
def driver_bin(built_program):
    return built_program("tests/nft-driver")


class Netns:
    """A network namespace of the test, with the driver and nft in it."""

    def __init__(self, name, driver, tmp):
        self.name, self.driver, self.tmp = name, driver, tmp
        self.ip = None

    def run(self, *cmd, check=True, input=None):
        return run(["ip", "netns", "exec", self.name, *cmd], check=check, input=input)

    def nft(self, *args, check=True, input=None):
        return self.run("nft", *args, check=check, input=input)

    def load(self, text):
        """Loads a ruleset with nft -f (one transaction)."""
        self.nft("-f", "-", input=text)

    def listing(self, family, table, mask=True):
        """nft -j list table, with handles and counter values masked."""
        doc = json.loads(self.nft("-j", "list", "table", family, table).stdout)
        return masked(doc) if mask else doc

    def ruleset(self):
        """nft -j list ruleset as it is (handles and counters included)."""
        return json.loads(self.nft("-j", "list", "ruleset").stdout)

    def drive(self, verb, model, rc=0):
        path = self.tmp / f"model-{secrets.token_hex(4)}.json"
        path.write_text(json.dumps(model))
        result = self.run(self.driver, verb, path, check=False)
        if SANITIZER_RE.search(result.stderr):
            raise AssertionError(f"sanitizer report from nft-driver {verb}:\n{result.stderr}")
        if result.returncode != rc:
            raise AssertionError(f"nft-driver {verb} exited with {result.returncode} (expected {rc}):\n"
                                 f"{result.stdout}{result.stderr}")
        return result.stdout

    def apply(self, model, ok=True):
        out = json.loads(self.drive("apply", model, rc=0 if ok else 1))
        assert out["ok"] == ok, out
        return out

    def plan(self, model):
        return [line for line in self.drive("plan", model).splitlines() if line]

    def dump(self, model):
        return json.loads(self.drive("dump", model))

    def socket(self, family, type, proto=0):
        with in_netns(self.name):
            return socket.socket(family, type, proto)


def masked(doc):
    """A listing without what differs between equal rulesets: handles and
    the values of counters."""
    doc = copy.deepcopy(doc)
    for item in doc["nftables"]:
        for obj in item.values():
            if not isinstance(obj, dict):
                continue
            obj.pop("handle", None)
            for expr in obj.get("expr", []):
                if "counter" in expr:
                    expr["counter"] = {"packets": 0, "bytes": 0}
    return doc


@pytest.fixture
def netns(driver_bin, tmp_path):
    """Factory: a fresh network namespace (lo up), deleted afterwards."""
    created = []

    def make():
        name = NETNS_PREFIX + "nft" + secrets.token_hex(3)
        run(["ip", "netns", "add", name])
        CREATED_NETNS.add(name)  # the session's leak check covers it too
        created.append(name)
        ns = Netns(name, driver_bin, tmp_path)
        ns.run("ip", "link", "set", "lo", "up")
        return ns

    yield make
    for name in created:
        pids = run(["ip", "netns", "pids", name], check=False).stdout.split()
        for pid in pids:
            run(["kill", "-9", pid], check=False)
        run(["ip", "netns", "delete", name])
        assert name not in netns_list()


def test_host_program_does_not_link_libnftnl(driver_bin):
    """The library is for the router build: op-dbus itself goes without."""
    binary = Path(os.environ.get("OPDBUS_BIN") or driver_bin.parents[1] / "agent" / "op-dbus" / "op-dbus")
    if not binary.is_absolute():
        binary = SOURCE_ROOT / binary
    needed = run(["readelf", "-d", binary]).stdout
    assert "libc.so" in needed
    assert "libnftnl" not in needed and "libmnl" not in needed
    assert "libnftnl" in run(["readelf", "-d", driver_bin]).stdout


# ---- rulesets -------------------------------------------------------------------

def M(field, value, negate=False):
    return ["match", field, "!=", value] if negate else ["match", field, value]


def S(field, name, negate=False):
    return ["set", field, "!=", name] if negate else ["set", field, name]


A, D = ["accept"], ["drop"]


def rules(*lst):
    return [r if isinstance(r, dict) else {"exprs": r} for r in lst]


# Every expression kind of the library, and the same in nft's language.
ORACLE_NFT = """
table inet t {
  set s4 { type ipv4_addr; flags interval; elements = { 10.0.0.0/24, 10.0.1.0/24, 192.168.1.5, 172.16.0.1-172.16.0.9 } }
  set s6 { type ipv6_addr; elements = { ::1, fe80::1 } }
  set ports { type inet_service; flags constant; elements = { 22, 80, 443 } }
  set pr { type inet_service; flags interval; elements = { 1000-2000, 8080 } }
  set ifs { type ifname; elements = { "lan1", "lan2" } }
  set marks { type mark; elements = { 0x1, 0x2 } }
  set protos { type inet_proto; elements = { 6, 17 } }
  set macs { type ether_addr; elements = { 02:00:00:00:00:01 } }
  chain input { type filter hook input priority 0; policy drop;
    ct state established,related accept
    ct state invalid drop
    iifname "lo" accept
    iif "lo" accept
    meta l4proto tcp tcp dport 22 accept
    ip saddr 10.0.0.0/8 tcp dport @ports counter accept
    ip saddr @s4 drop
    ip saddr != @s4 udp dport 53 accept
    ip6 saddr fe80::/10 icmpv6 type nd-neighbor-solicit accept
    icmp type echo-request limit rate 10/second burst 5 packets accept
    tcp dport 1000-2000 log prefix "x: " level warn drop
    meta nfproto ipv4 th dport 53 accept
    meta mark 0x10 accept
    ct status dnat accept
    tcp sport 1024-65535 reject with tcp reset
    reject with icmpx type admin-prohibited
    reject with icmp type host-unreachable
    jump other
    goto other
    iifname @ifs accept
    meta mark @marks accept
    meta l4proto @protos accept
    ether saddr @macs drop
    ip6 daddr @s6 drop
    tcp dport != 22 accept
    tcp dport != 1000-2000 accept
    iifname != "lan1" oifname "wg*" accept
    ip saddr != 10.0.0.0/9 accept
    ip6 saddr 2001:db8::/32 accept
    ip6 daddr 2001:db8::/127 drop
    udp dport @pr accept
    th sport @ports accept
    limit rate over 1024000 bytes/second drop
    limit rate 5/minute burst 10 packets
    log
    log level info
    ip saddr 1.2.3.4-1.2.3.9 accept
    ip daddr != 1.2.3.4-1.2.3.9 accept
    tcp dport 22 reject
    ip saddr 1.2.3.4 reject
    meta nfproto ipv6 reject
    ip6 saddr ::1 reject with tcp reset
    tcp dport 22 reject with icmp type host-unreachable
    udp sport 53 return
    oif "lo" accept
    counter comment "named"
    ip6 saddr != @s6 reject with icmpv6 type admin-prohibited
    ct state new tcp dport 443 counter log prefix "in " level info limit rate 3/hour burst 2 packets accept
  }
  chain other { }
  chain forward { type filter hook forward priority 0; policy accept;
    tcp flags syn tcp option maxseg size set rt mtu
  }
  chain postrouting { type nat hook postrouting priority 100;
    oifname "eth1" masquerade
    ip daddr 10.1.0.0/16 snat ip to 192.168.0.1
  }
  chain prerouting { type nat hook prerouting priority -100;
    iifname "eth1" tcp dport 8080 dnat ip to 10.0.0.2:80
    iifname "eth1" udp dport 53 dnat ip to 10.0.0.2
    iifname "eth1" tcp dport 2222 dnat ip6 to [fd00::2]:22
  }
}
table ip t4 {
  chain c {
    tcp dport 22 accept
    ip saddr 1.2.3.4 drop
    icmp type echo-request accept
    reject
    reject with tcp reset
    tcp flags syn tcp option maxseg size set rt mtu
  }
  chain n { type nat hook prerouting priority -100;
    tcp dport 80 dnat to 10.0.0.2:80
    dnat to 10.0.0.2
  }
  chain p { type nat hook postrouting priority 100;
    oifname "x" masquerade
    snat to 1.2.3.4
  }
}
table ip6 t6 {
  chain c {
    reject
    ip6 saddr ::1 tcp dport 22 reject with tcp reset
    icmpv6 type echo-request accept
  }
}
table netdev n {
  chain ing { type filter hook ingress device "lo" priority 0; policy accept;
    meta mark 1 drop
  }
}
"""

ORACLE_INPUT = rules(
    [["ct state", "established", "related"], A],
    [["ct state", "invalid"], D],
    [M("iifname", "lo"), A],
    [M("iif", "1"), A],
    [M("meta l4proto", "tcp"), M("tcp dport", "22"), A],
    [M("ip saddr", "10.0.0.0/8"), S("tcp dport", "ports"), ["counter"], A],
    [S("ip saddr", "s4"), D],
    [S("ip saddr", "s4", True), M("udp dport", "53"), A],
    [M("ip6 saddr", "fe80::/10"), M("icmpv6 type", "nd-neighbor-solicit"), A],
    [M("icmp type", "echo-request"), ["limit", {"rate": 10, "unit": "second", "burst": 5}], A],
    [M("tcp dport", "1000-2000"), ["log", "x: ", 4], D],
    [M("meta nfproto", "ipv4"), M("th dport", "53"), A],
    [M("meta mark", "0x10"), A],
    [["ct status", "dnat"], A],
    [M("tcp sport", "1024-65535"), ["reject", "tcp reset"]],
    [["reject", "icmpx", 3]],
    [["reject", "icmp", 1]],
    [["jump", "other"]],
    [["goto", "other"]],
    [S("iifname", "ifs"), A],
    [S("meta mark", "marks"), A],
    [S("meta l4proto", "protos"), A],
    [S("ether saddr", "macs"), D],
    [S("ip6 daddr", "s6"), D],
    [M("tcp dport", "22", True), A],
    [M("tcp dport", "1000-2000", True), A],
    [M("iifname", "lan1", True), M("oifname", "wg*"), A],
    [M("ip saddr", "10.0.0.0/9", True), A],
    [M("ip6 saddr", "2001:db8::/32"), A],
    [M("ip6 daddr", "2001:db8::/127"), D],
    [S("udp dport", "pr"), A],
    [S("th sport", "ports"), A],
    [["limit", {"rate": 1024000, "unit": "second", "bytes": True, "over": True}], D],
    [["limit", {"rate": 5, "unit": "minute", "burst": 10}]],
    [["log", None, -1]],
    [["log", None, 6]],
    [M("ip saddr", "1.2.3.4-1.2.3.9"), A],
    [M("ip daddr", "1.2.3.4-1.2.3.9", True), A],
    [M("tcp dport", "22"), ["reject"]],
    [M("ip saddr", "1.2.3.4"), ["reject"]],
    [M("meta nfproto", "ipv6"), ["reject"]],
    [M("ip6 saddr", "::1"), ["reject", "tcp reset"]],
    [M("tcp dport", "22"), ["reject", "icmp", 1]],
    [M("udp sport", "53"), ["return"]],
    [M("oif", "1"), A],
    {"name": "a-name", "comment": "named", "exprs": [["counter"]]},
    [S("ip6 saddr", "s6", True), ["reject", "icmpv6", 1]],
    [["ct state", "new"], M("tcp dport", "443"), ["counter"], ["log", "in ", 6],
     ["limit", {"rate": 3, "unit": "hour", "burst": 2}], A],
)

ORACLE_MODEL = {"tables": [
    {"family": "inet", "name": "t",
     "sets": [
         {"name": "s4", "type": "ipv4_addr", "flags": ["interval"],
          "elements": ["10.0.0.0/24", "10.0.1.0/24", "192.168.1.5", "172.16.0.1-172.16.0.9"]},
         {"name": "s6", "type": "ipv6_addr", "elements": ["::1", "fe80::1"]},
         {"name": "ports", "type": "inet_service", "flags": ["constant"], "elements": ["22", "80", "443"]},
         {"name": "pr", "type": "inet_service", "flags": ["interval"], "elements": ["1000-2000", "8080"]},
         {"name": "ifs", "type": "ifname", "elements": ["lan1", "lan2"]},
         {"name": "marks", "type": "mark", "elements": ["0x1", "0x2"]},
         {"name": "protos", "type": "inet_proto", "elements": ["6", "17"]},
         {"name": "macs", "type": "ether_addr", "elements": ["02:00:00:00:00:01"]},
     ],
     "chains": [
         {"name": "input", "type": "filter", "hook": "input", "priority": 0, "policy": "drop",
          "rules": ORACLE_INPUT},
         {"name": "other"},
         {"name": "forward", "type": "filter", "hook": "forward", "priority": 0,
          "rules": rules([["mss clamp"]])},
         {"name": "postrouting", "type": "nat", "hook": "postrouting", "priority": 100,
          "rules": rules([M("oifname", "eth1"), ["masquerade"]],
                         [M("ip daddr", "10.1.0.0/16"), ["snat", "192.168.0.1"]])},
         {"name": "prerouting", "type": "nat", "hook": "prerouting", "priority": -100,
          "rules": rules([M("iifname", "eth1"), M("tcp dport", "8080"), ["dnat", "10.0.0.2:80"]],
                         [M("iifname", "eth1"), M("udp dport", "53"), ["dnat", "10.0.0.2"]],
                         [M("iifname", "eth1"), M("tcp dport", "2222"), ["dnat", "[fd00::2]:22"]])},
     ]},
    {"family": "ip", "name": "t4", "chains": [
        {"name": "c", "rules": rules(
            [M("tcp dport", "22"), A],
            [M("ip saddr", "1.2.3.4"), D],
            [M("icmp type", "echo-request"), A],
            [["reject"]],
            [["reject", "tcp reset"]],
            [["mss clamp"]])},
        {"name": "n", "type": "nat", "hook": "prerouting", "priority": -100, "rules": rules(
            [M("tcp dport", "80"), ["dnat", "10.0.0.2:80"]],
            [["dnat", "10.0.0.2"]])},
        {"name": "p", "type": "nat", "hook": "postrouting", "priority": 100, "rules": rules(
            [M("oifname", "x"), ["masquerade"]],
            [["snat", "1.2.3.4"]])}]},
    {"family": "ip6", "name": "t6", "chains": [
        {"name": "c", "rules": rules(
            [["reject"]],
            [M("ip6 saddr", "::1"), M("tcp dport", "22"), ["reject", "tcp reset"]],
            [M("icmpv6 type", "echo-request"), A])}]},
    {"family": "netdev", "name": "n", "chains": [
        {"name": "ing", "type": "filter", "hook": "ingress", "priority": 0, "device": "lo",
         "rules": rules([M("meta mark", "1"), D])}]},
]}

ORACLE_TABLES = [("inet", "t"), ("ip", "t4"), ("ip6", "t6"), ("netdev", "n")]


def test_every_expression_lists_as_nft_loads_it(netns):
    """nft is the oracle: the library's ruleset and the same text loaded
    with nft -f list identically (handles and counter values aside)."""
    by_nft, by_lib = netns(), netns()
    by_nft.load(ORACLE_NFT)
    result = by_lib.apply(ORACLE_MODEL)
    assert result["messages"] > 0 and result["changes"] > 0
    for family, name in ORACLE_TABLES:
        assert by_lib.listing(family, name) == by_nft.listing(family, name), f"{family} {name}"

    # Read back: every rule carries its identity, and the expressions as
    # read hash to it (what is sent is what is read).
    dump = by_lib.dump(ORACLE_MODEL)
    count = 0
    for table in dump["tables"]:
        for chain in table["chains"]:
            for rule in chain["rules"]:
                assert rule["identity"] == rule["digest"], (table["name"], chain["name"], rule)
                assert rule["handle"] > 0
                count += 1
    assert count == sum(len(c.get("rules", [])) for t in ORACLE_MODEL["tables"] for c in t["chains"])
    named = [r for r in dump["tables"][0]["chains"][0]["rules"] if r.get("name")]
    assert [(r["name"], r["comment"]) for r in named] == [("a-name", "named")]
    # Converged: nothing to do, nothing sent.
    assert by_lib.plan(ORACLE_MODEL) == []
    assert by_lib.apply(ORACLE_MODEL)["messages"] == 0


# ---- a router between two namespaces ----------------------------------------------

class Routed:
    """client (10.91.1.2) -- router (10.91.1.1 | 10.91.2.1) -- server
    (10.91.2.2). The server has no route back to the client's network:
    only masqueraded traffic gets an answer."""

    def __init__(self, netns):
        self.client, self.router, self.server = netns(), netns(), netns()
        self.client.ip, self.server.ip = "10.91.1.2", "10.91.2.2"
        r = self.router
        r.run("ip", "link", "add", "r-lan", "type", "veth", "peer", "name", "c0", "netns", self.client.name)
        r.run("ip", "link", "add", "r-up", "type", "veth", "peer", "name", "s0", "netns", self.server.name)
        for ns, dev, addr in ((r, "r-lan", "10.91.1.1/24"), (r, "r-up", "10.91.2.1/24"),
                              (self.client, "c0", "10.91.1.2/24"), (self.server, "s0", "10.91.2.2/24")):
            ns.run("ip", "addr", "add", addr, "dev", dev)
            ns.run("ip", "link", "set", dev, "up")
        self.client.run("ip", "route", "add", "default", "via", "10.91.1.1")
        r.run("sysctl", "-q", "-w", "net.ipv4.ip_forward=1")


def router_model(extra_forward=()):
    return {"tables": [{"family": "inet", "name": "router", "chains": [
        {"name": "forward", "type": "filter", "hook": "forward", "priority": 0, "policy": "accept",
         "rules": rules({"name": "web", "exprs": [M("tcp dport", "8080"), ["counter"], A]},
                        [M("tcp dport", "2323"), ["counter"], D],
                        *extra_forward)},
        {"name": "postrouting", "type": "nat", "hook": "postrouting", "priority": 100,
         "rules": rules([M("oifname", "r-up"), ["masquerade"]])},
    ]}]}


def web_counter(ns, model):
    rule = next(r for r in ns.dump(model)["tables"][0]["chains"][0]["rules"] if r.get("name") == "web")
    return rule["handle"], rule["packets"]


def test_real_packets_masquerade_and_drop(netns):
    net = Routed(netns)
    client, server = net.client, net.server
    # Without the firewall the server cannot answer the client.
    net.router.apply(router_model())
    peer = tcp_exchange(client, server, 8080)
    assert peer == "10.91.2.1", "masquerade: the server must see the router's address"
    tcp_dropped(client, "10.91.2.2", 2323, server=server)


def test_reapply_sends_nothing_and_keeps_counters(netns):
    net = Routed(netns)
    model = router_model()
    first = net.router.apply(model)
    assert first["messages"] == 6  # table, two chains, three rules: one batch
    tcp_exchange(net.client, net.server, 8080)
    handle, packets = web_counter(net.router, model)
    assert packets > 0

    generation = net.router.run(net.router.driver, "generation").stdout
    again = net.router.apply(model)
    assert again == {"ok": True, "messages": 0, "changes": 0, "elements": 0}
    assert web_counter(net.router, model) == (handle, packets)
    # Nothing sent, no transaction: the generation tells a caller so cheaply.
    assert net.router.run(net.router.driver, "generation").stdout == generation

    # A rule added after it leaves it alone, counter and all.
    grown = router_model(extra_forward=[[M("udp dport", "53"), D]])
    result = net.router.apply(grown)
    assert (result["messages"], result["changes"]) == (1, 1)
    assert web_counter(net.router, grown) == (handle, packets)
    assert int(net.router.run(net.router.driver, "generation").stdout) == int(generation) + 1


# ---- sets --------------------------------------------------------------------------

def addresses(n, skip=()):
    return [f"10.{i >> 16 & 255}.{i >> 8 & 255}.{i & 255}" for i in range(n) if i not in skip]


def set_model(elements, interval=(), set_type="ipv4_addr"):
    sets = [{"name": "blocked", "type": set_type, "elements": elements}]
    if interval is not None:
        sets.append({"name": "nets", "type": "ipv4_addr", "flags": ["interval"], "elements": list(interval)})
    return {"tables": [{"family": "inet", "name": "t", "sets": sets, "chains": [
        {"name": "input", "type": "filter", "hook": "input", "priority": 0,
         "rules": rules([S("ip saddr", "blocked"), D], [S("ip saddr", "nets"), D])}]}]}


def set_elements(ns, name):
    doc = ns.nft("-j", "list", "set", "inet", "t", name).stdout
    s = json.loads(doc)["nftables"][1]["set"]
    return s.get("elem", [])


def test_one_element_is_one_message(netns):
    ns = netns()
    base = addresses(10000, skip={5000})
    first = ns.apply(set_model(base, ["10.200.0.0/16"]))
    assert first["elements"] == 9999 + 3  # and the interval set's zero, start and end
    assert len(set_elements(ns, "blocked")) == 9999

    one_more = ns.apply(set_model(addresses(10000), ["10.200.0.0/16"]))
    assert one_more == {"ok": True, "messages": 1, "changes": 0, "elements": 1}
    assert "10.0.19.136" in set_elements(ns, "blocked")
    one_less = ns.apply(set_model(addresses(10000, skip={77}), ["10.200.0.0/16"]))
    assert one_less == {"ok": True, "messages": 1, "changes": 0, "elements": 1}
    assert ns.apply(set_model(addresses(10000, skip={77}), ["10.200.0.0/16"]))["messages"] == 0

    # A prefix more in an interval set: its start and end, in one message
    # (next to the other one: the other's end stays, as nft writes it).
    grown = ns.apply(set_model(addresses(10000, skip={77}), ["10.200.0.0/16", "10.201.0.0/16"]))
    assert (grown["messages"], grown["elements"]) == (1, 2)
    assert ns.plan(set_model(addresses(10000, skip={77}), ["10.200.0.0/16", "10.201.0.0/16"])) == []


INTERVAL_STEPS = [
    ["10.0.0.0/24"],
    ["10.0.0.0/24", "10.0.1.0/24"],                       # adjacent
    ["10.0.0.0/23"],                                      # merged
    ["10.0.0.0/25", "10.0.0.128/25", "10.0.1.0/24"],      # split
    ["10.0.0.5-10.0.0.9", "192.168.0.0/16", "255.255.255.0/24"],
    ["0.0.0.0/8", "10.0.0.5-10.0.0.9"],                   # from zero
    ["10.0.0.6-10.0.0.8"],                                # shrunk inside
    [],
    ["172.16.0.0/12"],
]


def test_interval_set_changes_match_nft(netns):
    """An interval set changed step by step (elements added and removed
    in place) holds, at each step, what nft -f loads for that step."""
    ns = netns()
    for step in INTERVAL_STEPS:
        model = set_model([], step)
        ns.apply(model)
        assert ns.plan(model) == [], step
        oracle = netns()
        elements = ", ".join(step)
        oracle.load("table inet t {\n set nets { type ipv4_addr; flags interval; "
                    + (f"elements = {{ {elements} }}" if step else "") + " }\n}")
        assert set_elements(ns, "nets") == set_elements(oracle, "nets"), step
        dumped = ns.dump(model)["tables"][0]["sets"][1]["elements"]
        assert dumped == sorted(step, key=lambda e: socket.inet_aton(e.split("/")[0].split("-")[0])), step


# ---- failures ----------------------------------------------------------------------

BASE = {"tables": [{"family": "inet", "name": "t",
                    "sets": [{"name": "v4", "type": "ipv4_addr", "elements": ["192.0.2.1"]},
                             {"name": "v6", "type": "ipv6_addr", "elements": ["2001:db8::1"]}],
                    "chains": [
                        {"name": "input", "type": "filter", "hook": "input", "priority": 0, "policy": "drop",
                         "rules": rules([["ct state", "established", "related"], A],
                                        [M("tcp dport", "22"), ["counter"], A])}]}]}


def test_refused_object_changes_nothing(netns):
    ns = netns()
    ns.load("table inet fw4 {\n chain input { type filter hook input priority 0; tcp dport 22 accept; }\n}")
    ns.apply(BASE)
    before = ns.ruleset()

    # Additions everywhere, and one rule the kernel refuses: an IPv4
    # address looked up in a set of IPv6 addresses.
    bad = copy.deepcopy(BASE)
    t = bad["tables"][0]
    t["sets"][0]["elements"].append("192.0.2.2")
    t["sets"].append({"name": "new", "type": "inet_service", "elements": ["80"]})
    t["chains"].append({"name": "extra"})
    t["chains"][0]["rules"].insert(1, {"exprs": [M("udp dport", "53"), A]})
    t["chains"][0]["rules"].append({"name": "wrong", "exprs": [S("ip saddr", "v6"), D]})
    t["chains"][0]["policy"] = "accept"
    out = ns.apply(bad, ok=False)
    # The kernel finds the register holds 4 bytes where the set wants 16.
    assert out["errno"] in ("ENODATA", "EINVAL", "ERANGE"), out
    assert out["object"] == 'rule inet t input #4 "wrong"'
    assert out["messages"] > 1
    assert ns.ruleset() == before

    # A chain the kernel refuses: a NAT chain on the forward hook.
    bad = copy.deepcopy(BASE)
    bad["tables"][0]["chains"].append({"name": "bad", "type": "nat", "hook": "forward", "priority": 0})
    bad["tables"][0]["chains"][0]["rules"].append({"exprs": [M("udp dport", "53"), A]})
    out = ns.apply(bad, ok=False)
    assert (out["errno"], out["object"]) == ("EOPNOTSUPP", "chain inet t bad")
    assert ns.ruleset() == before

    # What the library itself refuses never reaches the kernel.
    bad = copy.deepcopy(BASE)
    bad["tables"][0]["chains"][0]["rules"].append({"exprs": [["jump", "nowhere"]]})
    result = ns.run(ns.driver, "apply", write(ns, bad), check=False)
    assert result.returncode == 1 and '"errno":"ENOENT"' in result.stdout
    assert ns.ruleset() == before


def write(ns, model):
    path = ns.tmp / f"model-{secrets.token_hex(4)}.json"
    path.write_text(json.dumps(model))
    return path


FW4 = """
table inet fw4 {
  set blocked { type ipv4_addr; flags interval; elements = { 198.51.100.0/24 } }
  chain input { type filter hook input priority 0; policy accept;
    ip saddr @blocked counter drop
    tcp dport 22 counter accept
  }
  chain mine { }
}
table ip t {
  chain c { counter; }
}
"""


def test_foreign_tables_untouched(netns):
    """A table of someone else (OpenWrt's fw4), and one with the name of
    the caller's in another family, survive everything the caller does to
    its own table, handles and counters included."""
    ns = netns()
    ns.load(FW4)

    def foreign():
        return ns.listing("inet", "fw4", mask=False), ns.listing("ip", "t", mask=False)

    before = foreign()
    ns.apply(BASE)
    changed = copy.deepcopy(BASE)
    changed["tables"][0]["chains"][0]["rules"].pop()
    changed["tables"][0]["chains"].append({"name": "mine"})
    ns.apply(changed)
    dump = ns.dump(changed)
    assert [(t["family"], t["name"]) for t in dump["tables"]] == [("inet", "t")]
    ns.apply({"tables": [{"family": "inet", "name": "t", "absent": True}]})
    assert foreign() == before
    assert "inet t" not in ns.nft("list", "tables").stdout.replace("table ", "")


# ---- rules in order --------------------------------------------------------------

def port_rules(*ports):
    out = []
    for p in ports:
        if isinstance(p, tuple):
            name, port = p
            out.append({"name": name, "exprs": [M("tcp dport", str(port)), ["counter"], A]})
        else:
            out.append({"exprs": [M("tcp dport", str(p)), ["counter"], A]})
    return {"tables": [{"family": "inet", "name": "t", "chains": [
        {"name": "input", "type": "filter", "hook": "input", "priority": 0, "rules": out}]}]}


def listed_ports(ns):
    """(handle, port) of the rules of inet t input, in the kernel's order."""
    doc = ns.listing("inet", "t", mask=False)
    out = []
    for item in doc["nftables"]:
        rule = item.get("rule")
        if rule:
            port = next(e["match"]["right"] for e in rule["expr"] if "match" in e)
            out.append((rule["handle"], port))
    return out


def test_rules_keep_order_and_handles(netns):
    ns = netns()
    ns.apply(port_rules(1, 2, 3, ("four", 4), 5))
    h = dict((port, handle) for handle, port in listed_ports(ns))

    # New at the front and in the middle, one gone, a named one changed
    # (replaced where it is), one moved to the end.
    result = ns.apply(port_rules(100, 1, 3, 33, ("four", 44), 5, 2))
    assert [p for _, p in listed_ports(ns)] == [100, 1, 3, 33, 44, 5, 2]
    now = dict((port, handle) for handle, port in listed_ports(ns))
    for port in (1, 3, 5):
        assert now[port] == h[port], f"rule {port} was touched"
    # four replaced in place (the kernel keeps the handle); 2 deleted and
    # added again at the end; 100 and 33 added
    assert now[44] == h[4] and now[2] != h[2]
    assert (result["messages"], result["changes"]) == (5, 5)
    assert ns.apply(port_rules(100, 1, 3, 33, ("four", 44), 5, 2))["messages"] == 0

    # A rule added by hand into the caller's table is not the caller's: it goes.
    ns.nft("insert", "rule", "inet", "t", "input", "tcp", "dport", "9", "accept")
    assert ns.plan(port_rules(100, 1, 3, 33, ("four", 44), 5, 2)) == [
        f"delete rule inet t input handle {max(h for h, _ in listed_ports(ns))}"]
    ns.apply(port_rules(100, 1, 3, 33, ("four", 44), 5, 2))
    assert [p for _, p in listed_ports(ns)] == [100, 1, 3, 33, 44, 5, 2]


def test_chains_and_sets_change(netns):
    ns = netns()
    model = copy.deepcopy(BASE)
    ns.apply(model)
    handles = [r["handle"] for r in ns.dump(model)["tables"][0]["chains"][0]["rules"]]

    # A policy is changed in place: one message, the rules stay.
    model["tables"][0]["chains"][0]["policy"] = "accept"
    assert ns.apply(model)["messages"] == 1
    assert [r["handle"] for r in ns.dump(model)["tables"][0]["chains"][0]["rules"]] == handles
    assert "policy accept" in ns.nft("list", "chain", "inet", "t", "input").stdout

    # A priority cannot be: the chain is made anew with its rules.
    model["tables"][0]["chains"][0]["priority"] = 10
    ns.apply(model)
    assert ns.plan(model) == []
    assert "priority filter + 10" in ns.nft("list", "chain", "inet", "t", "input").stdout

    # A set of another type is made anew, and the rule using it with it.
    model["tables"][0]["sets"][0] = {"name": "v4", "type": "inet_service", "elements": ["22"]}
    model["tables"][0]["chains"][0]["rules"].append({"exprs": [S("tcp dport", "v4"), A]})
    ns.apply(model)
    model["tables"][0]["sets"][0] = {"name": "v4", "type": "inet_service", "flags": ["interval"],
                                     "elements": ["22", "1000-2000"]}
    ns.apply(model)
    assert ns.plan(model) == []

    # A table put to sleep by hand is woken.
    ns.nft("add", "table", "inet", "t", "{ flags dormant; }")
    assert ns.plan(model) == ["update table inet t"]
    ns.apply(model)
    assert "dormant" not in ns.nft("list", "table", "inet", "t").stdout

    # What the model no longer has goes, and a disowned table with it.
    model["tables"][0]["sets"].pop(1)
    model["tables"][0]["chains"].append({"name": "spare"})
    ns.apply(model)
    model["tables"][0]["chains"].pop()
    out = ns.plan(model)
    assert out == ["delete chain inet t spare"]
    ns.apply({"tables": [{"family": "inet", "name": "t", "absent": True}]})
    assert ns.nft("list", "tables").stdout.strip() == ""


# ---- the monitor -------------------------------------------------------------------

class Watch:
    """nft-driver watch in a namespace: one command, one answer."""

    def __init__(self, ns, model):
        self.proc = subprocess.Popen(["ip", "netns", "exec", ns.name, ns.driver, "watch", write(ns, model)],
                                     stdin=subprocess.PIPE, stdout=subprocess.PIPE, stderr=subprocess.PIPE,
                                     text=True)
        assert self.proc.stdout.readline().strip() == "ready"

    def ask(self, line):
        self.proc.stdin.write(line + "\n")
        self.proc.stdin.flush()
        return self.proc.stdout.readline().strip()

    def close(self):
        self.proc.stdin.close()
        rc = self.proc.wait(timeout=CMD_TIMEOUT)
        err = self.proc.stderr.read()
        self.proc.stdout.close()
        self.proc.stderr.close()
        assert not SANITIZER_RE.search(err), err
        assert rc == 0, err


def test_stale_plan_is_refused(netns):
    """A plan carries the generation its dump was read at: when the
    ruleset changed meanwhile the kernel refuses the whole batch."""
    ns = netns()
    ns.apply(BASE)
    grown = copy.deepcopy(BASE)
    grown["tables"][0]["sets"][0]["elements"].append("192.0.2.7")
    w = Watch(ns, BASE)
    try:
        assert w.ask(f"plan {write(ns, grown)}") == "1"
        ns.nft("add", "rule", "inet", "fw4x", "c", "accept", check=False)  # no such table: no change
        ns.nft("add", "table", "ip", "elsewhere")                           # any change at all
        before = ns.ruleset()
        result = json.loads(w.ask("commit"))
        assert (result["ok"], result["errno"]) == (False, "ERESTART")
        assert ns.ruleset() == before
        # Read again, planned again: it goes through.
        assert json.loads(w.ask(f"apply {write(ns, grown)}"))["messages"] == 1
    finally:
        w.close()

def test_monitor_reports_changes_by_others(netns):
    ns = netns()
    ns.load(FW4)
    ns.apply(BASE)
    w = Watch(ns, BASE)
    try:
        assert w.ask("drain") == "unchanged"
        # Someone else's table: not the caller's business.
        ns.nft("add", "rule", "inet", "fw4", "input", "tcp", "dport", "80", "accept")
        assert w.ask("drain") == "unchanged"
        # The caller's table changed by hand: drift.
        ns.nft("add", "rule", "inet", "t", "input", "tcp", "dport", "80", "accept")
        assert w.ask("drain") == "changed"
        assert w.ask("drain") == "unchanged"
        # The caller's own apply (the one repairing it) is not drift.
        grown = copy.deepcopy(BASE)
        grown["tables"][0]["sets"][0]["elements"].append("192.0.2.9")
        result = json.loads(w.ask(f"apply {write(ns, grown)}"))
        assert result["ok"] and result["messages"] == 2  # the hand-made rule out, one element in
        assert w.ask("drain") == "unchanged"
        ns.nft("delete", "element", "inet", "t", "v4", "{ 192.0.2.9 }")
        assert w.ask("drain") == "changed"
        ns.nft("delete", "table", "inet", "t")
        assert w.ask("drain") == "changed"
    finally:
        w.close()
