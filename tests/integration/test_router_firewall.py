# SPDX-License-Identifier: LGPL-2.1-or-later
"""op-router's firewall section against the kernel (docs/router.md).

Every test builds a router topology in network namespaces it creates (and
deletes): a router namespace with veth devices named as on a GL-MT6000
(eth1 the WAN, lan1..lan5), an upstream namespace behind eth1 with a
server (198.51.100.1), a LAN server (192.168.1.10 behind lan1), a LAN
client (192.168.2.10 behind lan2), a guest (192.168.5.10 behind lan5) and
a tunnel endpoint behind wg0 (a veth standing for the tunnel; the guest's
traffic is routed into it by a policy rule). The state is docs/router.md's
example, applied by op-router inside the router namespace; nft is the
oracle. Real packets prove what the rules mean:

  * LAN clients reach the upstream server, which sees the router's WAN
    address; traffic between two LAN ports keeps its source address;
  * the port forward reaches the LAN server from the WAN, and through the
    WAN address from the LAN (reflection); the guest cannot reach the LAN;
    the WAN reaches the router only where a rule allows it;
  * the kill switch: a guest flow through the tunnel does not leave
    through eth1 when the tunnel goes away, IPv4 and IPv6, DNS included
    (a capture on the upstream side), and it does without the kill switch;
  * a second apply sends nothing and keeps the counters;
  * bad input names its JSON path and changes nothing;
  * a foreign inet fw4 table and ip nat table survive every apply,
    removal and rollback; a failure injected after the firewall's batch
    leaves the ruleset as it was.
"""

import copy
import json
import os
import re
import signal
import socket
import subprocess
import threading
import time
from pathlib import Path

import pytest

from netlab import CONNECT_TIMEOUT, Peer, Sniffer, tcp_dropped, tcp_exchange
from router_fixture import sh

pytest_plugins = ("router_fixture",)

ROOT = Path(__file__).resolve().parents[2]
WAN_ADDR = "198.51.100.2"
UPSTREAM = "198.51.100.1"
UPSTREAM6 = "2001:db8:1::1"



def doc_state(sections=("firewall",)):
    """The state of docs/router.md with exactly these sections."""
    blocks = re.findall(r"```json\n(.*?)```", (ROOT / "docs" / "router.md").read_text(), re.S)
    return next(json.loads(b) for b in blocks if set(json.loads(b).get("plugins", {})) == set(sections))


class Node(Peer):
    """A namespace of the topology; dev is its interface towards the router."""

    def __init__(self, name, ns, ip, dev="eth0"):
        super().__init__(name, ns, ip)
        self.dev = dev

    def run(self, *cmd, check=True, input=None):
        return sh("ip", "netns", "exec", self.ns, *cmd, check=check, input=input)


class Topology:
    def __init__(self, make_netns):
        self.netns = make_netns

    def build(self, bare=False):
        """bare: the router namespace gets its links only (op-router's
        interfaces and routes sections do the rest), and the LAN hosts are
        on one network (a bridge over lan1 and lan2)."""
        self.router = Node("router", self.netns("router"), WAN_ADDR, dev="eth1")
        self.upstream = Node("upstream", self.netns("upstream"), UPSTREAM)
        self.lanserver = Node("lanserver", self.netns("lanserver"), "192.168.1.10")
        self.lanclient = Node("lanclient", self.netns("lanclient"), "192.168.2.10")
        self.guest = Node("guest", self.netns("guest"), "192.168.5.10")
        self.far = Node("far", self.netns("far"), "10.99.0.1")
        self.spare = self.netns("spare")
        r = self.router
        for node in (self.upstream, self.lanserver, self.lanclient, self.guest, self.far):
            node.run("sysctl", "-q", "-w", "net.ipv6.conf.all.accept_dad=0", "net.ipv6.conf.default.accept_dad=0")
        r.run("sysctl", "-q", "-w", "net.ipv6.conf.all.accept_dad=0", "net.ipv6.conf.default.accept_dad=0")
        links = [("eth1", self.upstream.ns), ("lan1", self.lanserver.ns), ("lan2", self.lanclient.ns),
                 ("lan5", self.guest.ns), ("wg0", self.far.ns)]
        for dev, ns in links:
            r.run("ip", "link", "add", dev, "type", "veth", "peer", "name", "eth0", "netns", ns)
        for dev in ("lan3", "lan4"):
            r.run("ip", "link", "add", dev, "type", "veth", "peer", "name", dev, "netns", self.spare)
        lan2 = "192.168.1.20" if bare else "192.168.2.10"
        self.lanclient.ip = lan2
        addresses = [] if bare else [
            (r, "eth1", ["198.51.100.2/24", "2001:db8:1::2/64"]),
            (r, "lan1", ["192.168.1.1/24"]), (r, "lan2", ["192.168.2.1/24"]),
            (r, "lan5", ["192.168.5.1/24", "fd05::1/64"]), (r, "wg0", ["10.99.0.2/30", "fd99::2/64"]),
        ]
        addresses += [
            (self.upstream, "eth0", ["198.51.100.1/24", "2001:db8:1::1/64"]),
            (self.lanserver, "eth0", ["192.168.1.10/24"]), (self.lanclient, "eth0", [lan2 + "/24"]),
            (self.guest, "eth0", ["192.168.5.10/24", "fd05::10/64"]),
            (self.far, "eth0", ["10.99.0.1/30", "fd99::1/64"]),
        ]
        for node, dev, addrs in addresses:
            for a in addrs:
                node.run("ip", "addr", "add", a, "dev", dev, *(["nodad"] if ":" in a else []))
            node.run("ip", "link", "set", dev, "up")
        for dev in ("lan3", "lan4"):
            r.run("ip", "link", "set", dev, "up")
        r.run("sysctl", "-q", "-w", "net.ipv4.ip_forward=1", "net.ipv6.conf.all.forwarding=1")
        if not bare:
            self.route_router()
        for node, gw in ((self.lanserver, "192.168.1.1"), (self.lanclient, "192.168.1.1" if bare else "192.168.2.1"),
                         (self.guest, "192.168.5.1")):
            node.run("ip", "route", "add", "default", "via", gw)
        self.guest.run("ip", "-6", "route", "add", "default", "via", "fd05::1")
        # behind the tunnel: the same upstream addresses, "the internet"
        self.far.run("ip", "addr", "add", f"{UPSTREAM}/32", "dev", "lo")
        self.far.run("ip", "addr", "add", f"{UPSTREAM6}/128", "dev", "lo")
        self.far.run("ip", "-6", "route", "add", "fd05::/64", "via", "fd99::2")
        return self

    def route_router(self):
        r = self.router
        r.run("ip", "route", "add", "default", "via", UPSTREAM, "dev", "eth1")
        r.run("ip", "-6", "route", "add", "default", "via", UPSTREAM6, "dev", "eth1")
        # the guest's way out is the tunnel: table 100, for what comes in on lan5
        r.run("ip", "route", "add", "default", "via", "10.99.0.1", "dev", "wg0", "table", "100")
        r.run("ip", "-6", "route", "add", "default", "via", "fd99::1", "dev", "wg0", "table", "100")
        r.run("ip", "rule", "add", "iif", "lan5", "lookup", "100", "priority", "100")
        r.run("ip", "-6", "rule", "add", "iif", "lan5", "lookup", "100", "priority", "100")


@pytest.fixture
def net(router_netns):
    return Topology(router_netns).build()


@pytest.fixture
def router(net, oprouter, tmp_state):
    """op-router in the router namespace: router.apply(state, ...) runs
    `apply --json` and returns the result."""
    runner = oprouter.in_netns(net.router.ns)

    class Router:
        run = runner

        @staticmethod
        def verify(state):
            return runner.run("verify", "--json", tmp_state(state), json=True)

        @staticmethod
        def apply(state, *args, rc=0, env=None):
            r = runner.run("apply", "--json", *args, tmp_state(state), json=True, env=env)
            assert r.returncode == rc, r.describe()
            return r.json

    return Router


def ruleset(node, mask=True):
    """nft -j list ruleset; masked: without handles and counter values."""
    doc = json.loads(node.run("nft", "-j", "list", "ruleset").stdout)
    if not mask:
        return doc
    doc = copy.deepcopy(doc)
    for item in doc["nftables"]:
        for obj in item.values():
            if isinstance(obj, dict):
                obj.pop("handle", None)
                for expr in obj.get("expr", []):
                    if "counter" in expr:
                        expr["counter"] = {"packets": 0, "bytes": 0}
    return doc


def tables(node):
    return sorted(re.findall(r"^table (\S+ \S+)", node.run("nft", "list", "tables").stdout, re.M))


def foreign_tables(node):
    """OpenWrt's fw4 table and a hand-made nat table: not op-router's."""
    node.run("nft", "-f", "-", input="""
table inet fw4 {
  set banned { type ipv4_addr; elements = { 192.0.2.99 } }
  chain input { type filter hook input priority filter; policy accept;
    ip saddr @banned counter drop
    tcp dport 2323 counter drop comment "hand-made"
  }
  chain forward { type filter hook forward priority filter; policy accept; }
}
table ip nat {
  chain postrouting { type nat hook postrouting priority srcnat; policy accept;
    oifname "eth9" masquerade
  }
}
""")


def listing(node, family, name):
    return json.loads(node.run("nft", "-j", "list", "table", family, name).stdout)


def tcp_to(client, address, port, server, bind):
    """A kernel TCP connection from client to address:port, accepted by
    server listening on bind:port2 (bind = (addr, port2)); returns the
    address the server saw, after a round trip of data."""
    got, errors = {}, []
    listener = server.socket(socket.AF_INET, socket.SOCK_STREAM)
    conn = client.socket(socket.AF_INET, socket.SOCK_STREAM)

    def serve():
        try:
            c, peer = listener.accept()
            with c:
                c.settimeout(CONNECT_TIMEOUT)
                data = c.recv(64)
                c.sendall(data[::-1])
                got["peer"] = peer[0]
        except OSError as e:
            errors.append(repr(e))

    with listener, conn:
        listener.setsockopt(socket.SOL_SOCKET, socket.SO_REUSEADDR, 1)
        listener.bind(bind)
        listener.listen(1)
        listener.settimeout(CONNECT_TIMEOUT)
        t = threading.Thread(target=serve, daemon=True)
        t.start()
        conn.settimeout(CONNECT_TIMEOUT)
        conn.connect((address, port))
        conn.sendall(b"hello router")
        assert conn.recv(64) == b"retuor olleh"
        t.join(CONNECT_TIMEOUT)
    assert not errors, errors
    return got["peer"]


# ---- the tests --------------------------------------------------------------------


def test_traffic_of_the_documented_state(net, router):
    res = router.apply(doc_state())
    assert res["ok"] and res["counts"]["nft_messages"] > 0, res
    assert tables(net.router) == ["inet op-router"]

    # LAN -> WAN: masqueraded to the WAN address; LAN port to LAN port: not
    assert tcp_exchange(net.lanclient, net.upstream, 5001) == WAN_ADDR
    assert tcp_exchange(net.lanclient, net.lanserver, 5002) == "192.168.2.10"
    # port forward from the WAN; the LAN server sees the upstream host
    assert tcp_to(net.upstream, WAN_ADDR, 8080, net.lanserver, ("192.168.1.10", 80)) == UPSTREAM
    # reflection: a LAN client through the WAN address; answers come back
    # through the router
    assert tcp_to(net.lanclient, WAN_ADDR, 8080, net.lanserver, ("192.168.1.10", 80)) == "192.168.1.1"
    # the guest cannot reach the LAN
    tcp_dropped(net.guest, "192.168.1.10", 5003, server=net.lanserver)
    # WAN -> router: ping is allowed by a rule, the rest is dropped
    assert net.upstream.run("ping", "-n", "-q", "-c", "1", "-W", "3", WAN_ADDR, check=False).returncode == 0
    tcp_dropped(net.upstream, WAN_ADDR, 22, server=net.router)
    # the guest's traffic goes through the tunnel, masqueraded to its address
    assert tcp_exchange(net.guest, Node("far", net.far.ns, UPSTREAM), 5004) == "10.99.0.2"


def kill_switch_probe(net, sock4, sock6):
    """Sends DNS-sized UDP to the upstream server (IPv4, IPv6) on the
    guest's established flows; returns what the upstream side captured of
    it."""
    with Sniffer(net.upstream) as sniffer:
        for _ in range(3):
            sock4.send(b"query after the tunnel went away")
            sock6.send(b"query after the tunnel went away")
        sniffer.wait_for(lambda p: p.proto == 17, timeout=2.0)
        return [p for p in sniffer.drain(0.3) if p.proto == 17]


def guest_flows(net):
    """A UDP flow to port 53 from the guest, IPv4 and IPv6, answered
    through the tunnel (conntrack holds it as established)."""
    far4 = net.far.socket(socket.AF_INET, socket.SOCK_DGRAM)
    far6 = net.far.socket(socket.AF_INET6, socket.SOCK_DGRAM)
    sock4 = net.guest.socket(socket.AF_INET, socket.SOCK_DGRAM)
    sock6 = net.guest.socket(socket.AF_INET6, socket.SOCK_DGRAM)
    far4.bind((UPSTREAM, 53))
    far6.bind((UPSTREAM6, 53))
    for s in (far4, far6, sock4, sock6):
        s.settimeout(CONNECT_TIMEOUT)
    sock4.connect((UPSTREAM, 53))
    sock6.connect((UPSTREAM6, 53))
    for cli, srv in ((sock4, far4), (sock6, far6)):
        cli.send(b"query through the tunnel")
        data, peer = srv.recvfrom(256)
        assert data == b"query through the tunnel"
        srv.sendto(b"answer", peer)
        assert cli.recv(256) == b"answer"
    far4.close()
    far6.close()
    return sock4, sock6


@pytest.mark.parametrize("how", ["down", "deleted"])
def test_kill_switch_when_the_tunnel_goes_away(net, router, how):
    state = doc_state()
    router.apply(state)
    sock4, sock6 = guest_flows(net)
    with sock4, sock6:
        if how == "down":
            net.router.run("ip", "link", "set", "wg0", "down")
        else:
            net.router.run("ip", "link", "delete", "wg0")
        # the routes of table 100 are gone: the flow's packets would take
        # the main table's default route out of eth1
        assert "default" not in net.router.run("ip", "route", "show", "table", "100", check=False).stdout
        leaked = kill_switch_probe(net, sock4, sock6)
        assert leaked == [], f"the guest's traffic left through eth1: {leaked}"
        kill = [r["rule"] for r in ruleset(net.router, mask=False)["nftables"]
                if "rule" in r and r["rule"].get("comment", "").endswith("(kill switch)")
                and r["rule"]["chain"] == "forward"]
        packets = sum(e["counter"]["packets"] for r in kill for e in r["expr"] if "counter" in e)
        assert packets >= 6, kill

        # the same without the kill switch: the established IPv6 flow
        # leaks (what the kill switch is there for). The IPv4 flow does
        # not: it was masqueraded out of wg0, and the kernel forgets such
        # flows when their device goes.
        del state["plugins"]["firewall"]["kill_switch"]
        state["plugins"]["firewall"]["zones"][3]["interfaces"] = ["wg*"]
        router.apply(state, "--allow-outage")
        leaked = kill_switch_probe(net, sock4, sock6)
        assert 6 in {p.ip_version for p in leaked}, leaked


def test_reapply_sends_nothing_and_keeps_counters(net, router):
    state = doc_state()
    router.apply(state)
    # a LAN client to a blocked address: rejected, counted
    with pytest.raises(ConnectionRefusedError):
        with net.lanclient.socket(socket.AF_INET, socket.SOCK_STREAM) as s:
            s.settimeout(CONNECT_TIMEOUT)
            s.connect(("203.0.113.7", 80))

    def blocked_rule():
        (r,) = [r["rule"] for r in ruleset(net.router, mask=False)["nftables"]
                if "rule" in r and r["rule"].get("comment") == "rule no-blocked"]
        return r["handle"], next(e["counter"]["packets"] for e in r["expr"] if "counter" in e)

    before = blocked_rule()
    assert before[1] >= 1
    listed = ruleset(net.router, mask=False)
    res = router.apply(state)
    assert res["changed"] is False and res["changes"] == [], res
    assert res["counts"]["nft_messages"] == 0 and res["counts"]["writes"] == 0, res["counts"]
    assert blocked_rule() == before
    assert ruleset(net.router, mask=False) == listed
    assert router.verify(state).returncode == 0

    # one element more in the set: one set-element message, the rest kept
    state["plugins"]["firewall"]["sets"][0]["elements"].append("203.0.113.8")
    res = router.apply(state)
    assert res["counts"]["nft_messages"] == 1, res
    assert [c["path"] for c in res["changes"]] == ["set/blocked"], res["changes"]
    assert blocked_rule() == before


BAD = [
    # (what is wrong, how, the JSON path of the error, words of it)
    ("unknown key", lambda f: f["zones"][0].update(colour="blue"),
     "plugins.firewall.zones[0].colour", "unknown key"),
    ("wrong type", lambda f: f["zones"][1].update(masquerade="yes"),
     "plugins.firewall.zones[1].masquerade", "expected true or false"),
    ("invalid CIDR", lambda f: f["rules"][2].update(dest="10.0.0.1/33"),
     "plugins.firewall.rules[2].dest", "10.0.0.1/33"),
    ("long zone name", lambda f: f["zones"][1].update(name="guest-network-zone"),
     "plugins.firewall.zones[1].name", ""),
    ("unknown zone", lambda f: f["rules"][0].update({"from": "dmz"}),
     "plugins.firewall.rules[0].from", 'no zone "dmz"'),
    ("duplicate name", lambda f: f["rules"][1].update(name="guest-dhcp"),
     "plugins.firewall.rules[1].name", "duplicate rule name"),
    ("interface nowhere", lambda f: f["zones"][0]["interfaces"].append("lan9"),
     "plugins.firewall.zones[0].interfaces[4]", "interface lan9 is not on this router"),
    ("port forward to no zone", lambda f: f["port_forwards"][0].update(to="10.9.9.9:80"),
     "plugins.firewall.port_forwards[0].to", "10.9.9.9 is in no zone's networks"),
    ("kill switch against masquerade", lambda f: f["forwardings"].append({"from": "guest", "to": "wan"}),
     "plugins.firewall.forwardings[2]", "contradict"),
    ("overlapping set elements", lambda f: f["sets"][0]["elements"].append("192.0.2.128/25"),
     "plugins.firewall.sets[0]", "elements 192.0.2.0/24 and 192.0.2.128/25 overlap"),
]


@pytest.mark.parametrize("what,change,path,words", BAD, ids=[b[0] for b in BAD])
def test_bad_input_names_its_path_and_changes_nothing(net, router, what, change, path, words):
    router.apply(doc_state())
    before = ruleset(net.router, mask=False)
    state = doc_state()
    change(state["plugins"]["firewall"])
    res = router.apply(state, rc=2)
    assert res["ok"] is False and res["changed"] is False, res
    errors = [e for e in res["errors"] if e.startswith(path + ": ")]
    assert errors and words in errors[0], res["errors"]
    assert ruleset(net.router, mask=False) == before


def test_foreign_tables_survive_apply_removal_and_rollback(net, router):
    foreign_tables(net.router)
    fw4, nat = listing(net.router, "inet", "fw4"), listing(net.router, "ip", "nat")

    def untouched():
        assert listing(net.router, "inet", "fw4") == fw4
        assert listing(net.router, "ip", "nat") == nat

    state = doc_state()
    router.apply(state)
    untouched()
    assert tables(net.router) == ["inet fw4", "inet op-router", "ip nat"]
    state["plugins"]["firewall"]["rules"].pop()
    router.apply(state)
    untouched()
    router.apply({"version": 1, "plugins": {"firewall": {}}})
    untouched()
    assert tables(net.router) == ["inet fw4", "ip nat"]
    r = router.run.run("rollback", "--json", json=True)
    assert r.returncode == 0, r.describe()
    untouched()
    assert tables(net.router) == ["inet fw4", "inet op-router", "ip nat"]
    r = router.run.run("rollback", "--to", "1", "--json", json=True)
    assert r.returncode == 0, r.describe()
    untouched()
    # a section without content removes op-router's table only; a state
    # without the section leaves the firewall alone
    router.apply({"version": 1, "plugins": {}})
    assert "inet op-router" in tables(net.router)


def test_failure_after_the_firewall_leaves_the_ruleset_as_it_was(net, router):
    foreign_tables(net.router)
    state = doc_state()
    router.apply(state)
    before = ruleset(net.router)
    changed = doc_state()
    changed["plugins"]["firewall"]["rules"].pop()
    changed["plugins"]["firewall"]["sets"][0]["elements"].append("203.0.113.8")
    changed["plugins"]["firewall"]["zones"][1]["input"] = "reject"
    res = router.apply(changed, rc=1, env={"OPROUTER_FAULT_INJECT": "firewall"})
    assert res["rolled_back"] is True, res
    assert any("fault injected" in e for e in res["errors"]), res["errors"]
    assert ruleset(net.router) == before
    assert router.verify(state).returncode == 0


def stopped(pid):
    with open(f"/proc/{pid}/stat") as f:
        return f.read().rsplit(")", 1)[1].split()[0] == "T"


def apply_with_a_change_after_the_batch(router, path, change):
    """op-router apply, stopped right after the firewall's batch
    (OPROUTER_FAULT_INJECT=firewall:stop); change() runs before it goes on
    to the verification. Returns the exit code and the JSON result."""
    run = router.run
    proc = subprocess.Popen([*run.prefix, run.binary, "apply", "--json", str(path)],
                            env={**run.env, "OPROUTER_FAULT_INJECT": "firewall:stop"},
                            stdout=subprocess.PIPE, stderr=subprocess.PIPE, text=True)
    try:
        deadline = time.monotonic() + 120   # a hang, not a measurement
        while not stopped(proc.pid):
            assert proc.poll() is None, proc.communicate()
            assert time.monotonic() < deadline, "op-router never stopped after the firewall's batch"
            time.sleep(0.01)
        change()
    finally:
        os.kill(proc.pid, signal.SIGCONT)
    out, err = proc.communicate(timeout=120)
    assert proc.returncode in (0, 1), err
    return proc.returncode, json.loads(out)


@pytest.mark.parametrize("forwards", ["with a port forward", "without"])
def test_a_change_between_the_batch_and_its_verification_is_found(net, router, tmp_state, forwards):
    """The verification after the firewall's batch: someone's change to
    op-router's table between the batch and the verification fails the
    apply, which is rolled back; someone's table made then is left alone
    and the apply succeeds. Without port forwards the verification reads
    the ruleset's generation instead of the table when no one changed the
    ruleset since the batch: this proves it reads the table when someone
    did."""
    foreign_tables(net.router)
    state = doc_state()
    if forwards == "without":
        del state["plugins"]["firewall"]["port_forwards"]
    router.apply(state)
    before = ruleset(net.router)
    changed = copy.deepcopy(state)
    changed["plugins"]["firewall"]["sets"][0]["elements"].append("203.0.113.8")
    changed["plugins"]["firewall"]["rules"].pop()

    # in op-router's table: an element of its set, a rule in its chain
    for words in (["add", "element", "inet", "op-router", "blocked", "{ 198.18.0.1 }"],
                  ["add", "rule", "inet", "op-router", "input", "tcp", "dport", "2424", "accept"]):
        rc, res = apply_with_a_change_after_the_batch(router, tmp_state(changed), lambda: net.router.run("nft", *words))
        assert rc == 1 and res["rolled_back"] is True, res
        assert any("verification failed" in e for e in res["errors"]), res["errors"]
        assert ruleset(net.router) == before

    # someone's own table: the verification reads op-router's table, which is right
    rc, res = apply_with_a_change_after_the_batch(
        router, tmp_state(changed), lambda: net.router.run("nft", "add", "table", "inet", "someone"))
    assert rc == 0 and res["changed"] is True, res
    assert "inet someone" in tables(net.router)
    assert router.verify(changed).returncode == 0
    # and nothing in between: verified from the generation
    rc, res = apply_with_a_change_after_the_batch(router, tmp_state(state), lambda: None)
    assert rc == 0 and res["changed"] is True, res
    assert router.verify(state).returncode == 0


@pytest.mark.parametrize("forwards", ["with a port forward", "without"])
def test_reapply_after_someone_changed_the_table(net, router, forwards):
    """A re-apply of the applied state reads the table once and plans once
    (without port forwards, the check that the table is what the applied
    state makes is that plan): the same state re-applied sends nothing and
    warns of nothing; after someone added an element to op-router's set,
    it warns that the table was changed and takes the element out."""
    state = doc_state()
    if forwards == "without":
        del state["plugins"]["firewall"]["port_forwards"]
    router.apply(state)
    before = ruleset(net.router)
    res = router.apply(state)
    assert res["changes"] == [] and res["warnings"] == [], res
    net.router.run("nft", "add", "element", "inet", "op-router", "blocked", "{ 198.18.0.1 }")
    res = router.apply(state)
    assert [(c["action"], c["detail"]) for c in res["changes"]] == [
        ("modify", "delete 2 elements from set inet op-router blocked")], res["changes"]   # a start and an end
    assert any("was changed by someone else" in w for w in res["warnings"]), res["warnings"]
    assert ruleset(net.router) == before


def test_the_record_of_a_verification_is_of_its_namespace(oprouter, router_netns, tmp_state, built_program):
    """A re-apply of the applied state reads the ruleset's generation
    instead of the table when the generation is the one the state
    directory's record of the last verification names. The record names
    the namespace too: another namespace sharing the state directory,
    brought to the very same generation, has its table read (and made)."""
    driver = built_program("tests/nft-driver")
    state = {"version": 1, "plugins": {"firewall": {
        "zones": [{"name": "lan", "interfaces": ["lo"], "input": "accept", "forward": "accept"}],
        "sets": [{"name": "blocked", "type": "ipv4_addr", "elements": ["192.0.2.0/24", "203.0.113.7"]}],
        "rules": [{"name": "no-blocked", "from": "lan", "src_set": "blocked", "action": "drop"}]}}}
    path = tmp_state(state)
    a, b = router_netns("reca"), router_netns("recb")

    def listing(ns):
        return sh("ip", "netns", "exec", ns, "nft", "list", "ruleset").stdout

    def generation(ns):
        return int(sh("ip", "netns", "exec", ns, driver, "generation").stdout)

    res = oprouter.in_netns(a).run("apply", "--json", path, json=True)
    assert res.returncode == 0 and res.json["changed"] is True, res.describe()
    recorded = int((oprouter.state_dir / "firewall.verified").read_text().split()[2])
    assert recorded == generation(a)
    res = oprouter.in_netns(a).run("apply", "--json", path, json=True)
    assert res.returncode == 0 and res.json["changes"] == [], res.describe()

    # namespace b: transactions of its own until its generation is a's
    for i in range(recorded):
        if generation(b) >= recorded:
            break
        sh("ip", "netns", "exec", b, "nft", "add", "table", "inet", f"t{i}")
    assert generation(b) == recorded
    assert "op-router" not in listing(b)
    res = oprouter.in_netns(b).run("apply", "--json", path, json=True)
    assert res.returncode == 0 and res.json["changed"] is True, res.describe()
    assert "table inet op-router" in listing(b)
    assert oprouter.in_netns(b).run("verify", "--json", path, json=True).returncode == 0
