# SPDX-License-Identifier: LGPL-2.1-or-later
"""agent/lib/rtnl (docs/rtnl.md): its dumps and primitives against the
kernel, with `ip -j` as the oracle, in network namespaces the tests create.

The library is driven through tests/rtnl-driver (built with the project):
one dump (printed as JSON) or one primitive per run, in a namespace named
by a namespace file (/run/netns/NAME), an open file descriptor of one
(fd:PATH) or a process id. Every namespace and process a test creates is
removed by its fixtures.

The kernel of the test machines has no 8021q, dummy or WireGuard module:
creating those kinds must fail with EOPNOTSUPP there (and succeed where the
kernel has them); tests/unit/test-rtnl.c proves their messages.
"""

import ipaddress
import json
import re
import secrets
import subprocess
import time
from pathlib import Path

import pytest

from ovs_sandbox import CREATED_NETNS, NETNS_PREFIX, netns_list, process_alive

SANITIZER_RE = re.compile(r"Sanitizer|^\S+:\d+:\d+: runtime error: ", re.M)
CMD_TIMEOUT = 30

PROTO = 217  # RTNL_PROTO_OPDBUS

SCOPES = {"global": 0, "universe": 0, "site": 200, "link": 253, "host": 254, "nowhere": 255}
ROUTE_TYPES = {"unicast": 1, "local": 2, "broadcast": 3, "anycast": 4, "multicast": 5, "blackhole": 6,
               "unreachable": 7, "prohibit": 8, "throw": 9}
RULE_ACTIONS = {"blackhole": 6, "unreachable": 7, "prohibit": 8}
TABLES = {"default": 253, "main": 254, "local": 255}
IFA_F_NODAD = 0x02
MACVLAN_MODES = {"private": 1, "vepa": 2, "bridge": 4, "passthru": 8, "source": 16}


def run(cmd, check=True, input=None):
    result = subprocess.run([str(c) for c in cmd], capture_output=True, text=True,
                            input=input, timeout=CMD_TIMEOUT, check=False)
    if check and result.returncode != 0:
        raise AssertionError(f"{' '.join(result.args)} exited with {result.returncode}:\n"
                             f"{result.stdout}{result.stderr}")
    return result


def rt_protos():
    """Route protocol names as iproute2 prints them -> numbers."""
    names = {}
    files = [Path("/etc/iproute2/rt_protos"), *sorted(Path("/etc/iproute2/rt_protos.d").glob("*.conf"))]
    for f in files:
        if f.is_file():
            for line in f.read_text().splitlines():
                parts = line.split("#")[0].split()
                if len(parts) >= 2 and parts[0].isdigit():
                    names[parts[1]] = int(parts[0])
    return names


PROTOCOLS = rt_protos()


def number(value, names):
    return names[value] if value in names else int(value, 0)


# ---- the driver and the namespaces ------------------------------------------------


@pytest.fixture(scope="module")
def driver_bin(built_program):
    return built_program("tests/rtnl-driver")


class Netns:
    """A network namespace of the test; ip and the driver run in it."""

    def __init__(self, name, driver):
        self.name, self.driver = name, driver
        self.path = f"/run/netns/{name}"

    def ip(self, *args, check=True):
        return run(["ip", "-n", self.name, *args], check=check)

    def ip_json(self, *args):
        return json.loads(self.ip("-j", *args).stdout or "[]")

    def drive(self, verb, *args, rc=0, netns=None):
        """Runs the driver on this namespace (or on netns: a path, fd:PATH
        or pid); returns its stdout, or on failure its "error: ENAME"."""
        cmd = [self.driver, verb, netns or self.path, *args]
        result = run(cmd, check=False)
        output = f"{' '.join(map(str, cmd))}\n--- stdout\n{result.stdout}--- stderr\n{result.stderr}"
        assert not SANITIZER_RE.search(result.stderr), f"sanitizer report:\n{output}"
        assert result.returncode == rc, f"exit code {result.returncode}, expected {rc}:\n{output}"
        return result.stdout.strip() if rc == 0 else result.stderr.strip()

    def fails(self, verb, *args, netns=None):
        """The errno name of a primitive that must fail."""
        out = self.drive(verb, *args, rc=1, netns=netns)
        return re.match(r"error: (\w+):", out).group(1)

    def dump(self, what, family=None, netns=None):
        return json.loads(self.drive("dump", what, *([family] if family else []), netns=netns))

    def ifindex(self, name):
        return self.ip_json("link", "show", "dev", name)[0]["ifindex"]


@pytest.fixture
def netns(driver_bin):
    """Factory: a fresh network namespace (lo up, no IPv6 duplicate address
    detection, so that addresses and their routes do not change between two
    dumps), deleted afterwards with every process in it."""
    created = []

    def make():
        name = NETNS_PREFIX + "rtnl" + secrets.token_hex(3)
        run(["ip", "netns", "add", name])
        CREATED_NETNS.add(name)  # the session's leak check covers it too
        created.append(name)
        ns = Netns(name, driver_bin)
        run(["ip", "netns", "exec", name, "sysctl", "-q", "-w", "net.ipv6.conf.all.accept_dad=0",
             "net.ipv6.conf.default.accept_dad=0"])
        ns.ip("link", "set", "lo", "up")
        return ns

    yield make
    for name in created:
        for pid in run(["ip", "netns", "pids", name], check=False).stdout.split():
            run(["kill", "-9", pid], check=False)
        run(["ip", "netns", "delete", name])
        assert name not in netns_list()


@pytest.fixture
def process_in():
    """Factory: a process in a named namespace (its pid names the namespace)."""
    procs = []

    def start(ns):
        p = subprocess.Popen(["ip", "netns", "exec", ns.name, "sleep", "infinity"],
                             stdin=subprocess.DEVNULL, stdout=subprocess.DEVNULL, stderr=subprocess.DEVNULL)
        procs.append(p)
        # ip netns exec becomes sleep (exec) once it has entered the namespace
        for _ in range(200):
            if Path(f"/proc/{p.pid}/comm").read_text().strip() == "sleep":
                return p.pid
            subprocess.run(["sleep", "0.01"])
        raise AssertionError("the process did not start")

    yield start
    for p in procs:
        p.kill()
        p.wait(timeout=10)
    assert not any(process_alive(p.pid) for p in procs)


# ---- the oracle: ip -j, normalised to what the library reports ----------------------


def links_by_ip(ns):
    """{ifindex: (name, kind, address, mtu, up, lower_up, master, link, alias, mode)}"""
    out = {}
    for d in ns.ip_json("-d", "link", "show"):
        info = d.get("linkinfo", {})
        link = d.get("link")
        if "link_index" in d:
            link = ("index", d["link_index"], d["link_netnsid"])
        mode = MACVLAN_MODES.get(info.get("info_data", {}).get("mode")) if info.get("info_kind") == "macvlan" else 0
        out[d["ifindex"]] = (d["ifname"], info.get("info_kind", ""), d.get("address"), d["mtu"], "UP" in d["flags"],
                             "LOWER_UP" in d["flags"], d.get("master"), link, d.get("ifalias", ""), mode)
    return out


def links_by_rtnl(dump):
    names = {l["ifindex"]: l["ifname"] for l in dump}
    out = {}
    for l in dump:
        link = None
        if l["link"]:
            link = names.get(l["link"]) if l["link_netnsid"] < 0 else ("index", l["link"], l["link_netnsid"])
        out[l["ifindex"]] = (l["ifname"], l["kind"], l.get("address"), l["mtu"], l["up"], l["lower_up"],
                             names.get(l["master"]), link, l["alias"], l["macvlan_mode"])
    return out


def addresses_by_ip(ns):
    out = set()
    for d in ns.ip_json("addr", "show"):
        for a in d["addr_info"]:
            out.add((d["ifindex"], a["family"], a["local"], a["prefixlen"], a.get("address"), a.get("broadcast"),
                     SCOPES[a["scope"]], bool(a.get("nodad"))))
    return out


def addresses_by_rtnl(dump):
    return {(a["ifindex"], a["family"], a["local"], a["prefixlen"], a.get("peer"), a.get("broadcast"), a["scope"],
             bool(a["flags"] & IFA_F_NODAD)) for a in dump}


def cidr(address, length):
    return str(ipaddress.ip_network(f"{address}/{length}", strict=False))


def routes_by_ip(ns, family):
    index = {l["ifname"]: l["ifindex"] for l in ns.ip_json("link", "show")}
    out = []
    for r in ns.ip_json("-4" if family == "inet" else "-6", "-d", "route", "show", "table", "all"):
        full = 32 if family == "inet" else 128
        dst = r["dst"]
        if dst == "default":
            dst = "0.0.0.0/0" if family == "inet" else "::/0"
        elif "/" not in dst:
            dst = f"{dst}/{full}"
        out.append((family, number(r.get("table", "main"), TABLES), str(ipaddress.ip_network(dst)),
                    r.get("gateway"), index.get(r.get("dev"), 0), r.get("metric", 0),
                    number(r.get("protocol", "unspec"), PROTOCOLS), SCOPES[r.get("scope", "global")],
                    ROUTE_TYPES[r.get("type", "unicast")]))
    return sorted(out)


def routes_by_rtnl(dump):
    return sorted((r["family"], r["table"], cidr(r["dst"], r["dst_len"]), r.get("gateway"), r["oif"], r["metric"],
                   r["protocol"], r["scope"], r["type"]) for r in dump)


def rules_by_ip(ns, family):
    out = []
    for r in ns.ip_json("-4" if family == "inet" else "-6", "-d", "rule", "show"):
        src = cidr(r["src"], r["srclen"]) if r.get("src", "all") != "all" and "srclen" in r else None
        if r.get("src", "all") != "all" and "srclen" not in r:
            src = cidr(r["src"], 32 if family == "inet" else 128)
        dst = cidr(r["dst"], r.get("dstlen", 32 if family == "inet" else 128)) if "dst" in r else None
        mark = (int(r.get("fwmark", "0"), 16), int(r.get("fwmask", "0xffffffff"), 16)) \
            if "fwmark" in r or "fwmask" in r else None
        out.append((family, r["priority"], src, dst, r.get("iif", ""), r.get("oif", ""), mark,
                    number(r.get("table", "0"), TABLES), number(r.get("protocol", "unspec"), PROTOCOLS),
                    RULE_ACTIONS.get(r.get("action"), 1), "not" in r))
    return sorted(out)


def rules_by_rtnl(dump):
    return sorted((r["family"], r["priority"], cidr(r["src"], r["src_len"]) if r["src_len"] else None,
                   cidr(r["dst"], r["dst_len"]) if r["dst_len"] else None, r["iif"], r["oif"],
                   (r["fwmark"], r["fwmask"]) if "fwmark" in r else None, r["table"], r["protocol"], r["action"],
                   bool(r["flags"] & 0x2)) for r in dump)


def assert_same_as_ip(ours, theirs):
    """ours() (the library's dump) equals theirs() (ip's), compared while
    the kernel holds still: ip's view right before and right after ours
    must agree (the kernel adds IPv6 link-local routes and addresses on its
    own a moment after links come up); else all three are read again."""
    for _ in range(50):
        before = theirs()
        mine = ours()
        after = theirs()
        if before == after:
            break
        time.sleep(0.1)
    assert mine == after


def assert_dumps_match_ip(ns, netns=None):
    """Every dump of the library, in ns (opened as netns says), equals ip's view."""
    assert_same_as_ip(lambda: links_by_rtnl(ns.dump("links", netns=netns)), lambda: links_by_ip(ns))
    assert_same_as_ip(lambda: addresses_by_rtnl(ns.dump("addresses", netns=netns)), lambda: addresses_by_ip(ns))
    for family in ("inet", "inet6"):
        assert_same_as_ip(lambda: routes_by_rtnl(ns.dump("routes", family, netns=netns)),
                          lambda: routes_by_ip(ns, family))
        assert_same_as_ip(lambda: rules_by_rtnl(ns.dump("rules", family, netns=netns)),
                          lambda: rules_by_ip(ns, family))
    # both families at once
    assert_same_as_ip(lambda: routes_by_rtnl(ns.dump("routes", netns=netns)),
                      lambda: sorted(routes_by_ip(ns, "inet") + routes_by_ip(ns, "inet6")))
    assert_same_as_ip(lambda: rules_by_rtnl(ns.dump("rules", netns=netns)),
                      lambda: sorted(rules_by_ip(ns, "inet") + rules_by_ip(ns, "inet6")))


# ---- dumps ----------------------------------------------------------------------------


def build_topology(a, b):
    """Links, addresses, routes and rules of many shapes in a, made with ip."""
    a.ip("link", "add", "va", "address", "02:00:5e:10:00:01", "mtu", "1400", "type", "veth", "peer", "name", "vb")
    a.ip("link", "set", "va", "alias", "op-dbus:lan", "up")
    a.ip("link", "add", "br0", "type", "bridge")
    a.ip("link", "set", "vb", "master", "br0", "up")
    a.ip("link", "set", "br0", "up")
    a.ip("link", "add", "mv0", "link", "va", "type", "macvlan", "mode", "bridge")
    a.ip("link", "add", "xa", "type", "veth", "peer", "name", "xb", "netns", b.name)  # peer elsewhere
    a.ip("link", "set", "xa", "up")

    a.ip("addr", "add", "10.5.0.1/24", "brd", "+", "dev", "va")
    a.ip("addr", "add", "10.5.0.9/24", "dev", "va")                       # a secondary, no broadcast
    a.ip("addr", "add", "10.6.0.1", "peer", "10.6.0.2/32", "dev", "xa")   # point-to-point
    a.ip("addr", "add", "fd00:5::1/64", "dev", "va", "nodad")
    a.ip("addr", "add", "192.0.2.1/32", "dev", "lo", "scope", "host")

    a.ip("route", "add", "10.8.0.0/16", "via", "10.5.0.2", "metric", "5", "proto", "static")
    a.ip("route", "add", "10.8.0.0/16", "via", "10.5.0.3", "metric", "6", "table", "1000", "proto", str(PROTO))
    a.ip("route", "add", "default", "via", "10.5.0.254", "dev", "va")
    a.ip("route", "add", "blackhole", "10.9.0.0/16", "table", "100", "proto", str(PROTO))
    a.ip("route", "add", "unreachable", "10.10.0.0/16")
    a.ip("route", "add", "prohibit", "10.11.0.1")
    a.ip("route", "add", "10.7.0.0/16", "dev", "va", "src", "10.5.0.1")
    a.ip("-6", "route", "add", "fd00:7::/48", "via", "fd00:5::2", "metric", "300", "proto", "boot")
    a.ip("-6", "route", "add", "unreachable", "fd00:8::/48", "table", "100", "proto", str(PROTO))

    a.ip("rule", "add", "from", "10.1.0.0/24", "to", "10.2.0.0/16", "iif", "va", "oif", "vb",
         "fwmark", "0x10/0xff", "table", "100", "priority", "500", "protocol", str(PROTO))
    a.ip("rule", "add", "fwmark", "0x20", "priority", "600", "blackhole", "protocol", str(PROTO))
    a.ip("rule", "add", "not", "from", "10.3.0.0/16", "priority", "650", "prohibit")
    a.ip("rule", "add", "fwmark", "0/0x1", "table", "1000", "priority", "700")
    a.ip("-6", "rule", "add", "from", "fd00::/8", "priority", "800", "unreachable", "protocol", "static")


def test_dumps_match_ip(netns):
    a, b = netns(), netns()
    build_topology(a, b)
    assert_dumps_match_ip(a)
    assert_dumps_match_ip(b)

    # the parts the oracle above folds away
    links = {l["ifname"]: l for l in a.dump("links")}
    assert links["va"]["alias"] == "op-dbus:lan" and links["mv0"]["kind"] == "macvlan"
    assert links["vb"]["master"] == links["br0"]["ifindex"]
    assert links["mv0"]["link"] == links["va"]["ifindex"] and links["mv0"]["macvlan_mode"] == 4
    assert links["xa"]["link_netnsid"] >= 0     # its peer is in another namespace
    assert links["lo"]["kind"] == "" and links["lo"]["up"]
    routes = a.dump("routes", "inet")
    (hole,) = [r for r in routes if r["type"] == 6]
    assert (hole["dst"], hole["dst_len"], hole["table"], hole["protocol"]) == ("10.9.0.0", 16, 100, PROTO)
    assert all(r["family"] == "inet6" for r in a.dump("routes", "inet6"))


def test_namespaces_by_path_fd_and_pid(netns, process_in):
    a, b = netns(), netns()
    build_topology(a, b)
    pid = process_in(a)
    for name in (a.path, f"fd:{a.path}", str(pid)):
        assert_dumps_match_ip(a, netns=name)
    assert a.drive("same", a.path, netns=f"fd:{a.path}") == "yes"
    assert a.drive("same", a.path, netns=str(pid)) == "yes"
    assert a.drive("same", b.path) == "no"
    assert a.drive("same", "-", netns="-") == "yes"

    # what cannot be opened
    assert a.fails("dump", "links", netns="/run/netns/" + NETNS_PREFIX + "none") == "ENOENT"
    assert a.fails("dump", "links", netns=__file__) == "EINVAL"  # not a namespace
    gone = subprocess.Popen(["true"])
    gone.wait()
    assert a.fails("dump", "links", netns=str(gone.pid)) == "ESRCH"


# ---- primitives ---------------------------------------------------------------------------


def link(ns, name):
    return links_by_ip(ns)[ns.ifindex(name)]


def test_link_primitives(netns):
    a, b = netns(), netns()

    # a veth with its peer created in another namespace, an alias (a second request)
    out = a.drive("link-add", "veth", "va", "peer", "vb", "peer-netns", b.path, "mtu", "1400",
                  "address", "02:00:5e:10:00:01", "alias", "op-dbus:lan", "up")
    assert out == "ok writes=2 dumps=0"
    assert link(a, "va")[:5] == ("va", "veth", "02:00:5e:10:00:01", 1400, True)
    assert link(a, "va")[8] == "op-dbus:lan"
    assert link(b, "vb")[1] == "veth"
    assert a.fails("link-add", "veth", "va", "peer", "vc") == "EEXIST"

    a.drive("link-add", "bridge", "br0", "up")
    a.drive("link-add", "veth", "pa", "peer", "pb")
    a.drive("link-set", "pa", "master", "br0", "up")
    assert link(a, "pa")[6] == "br0"
    a.drive("link-add", "macvlan", "mv0", "link", "va", "mode", "bridge")
    assert link(a, "mv0")[1] == "macvlan" and link(a, "mv0")[7] == "va" and link(a, "mv0")[9] == 4

    # change: MTU, MAC, alias, master, name, down; the rest stays
    ifindex = a.ifindex("pa")
    a.drive("link-set", "pa", "mtu", "1300", "address", "02:00:5e:10:00:09", "alias", "x", "nomaster")
    assert link(a, "pa")[2:4] == ("02:00:5e:10:00:09", 1300)
    assert link(a, "pa")[6] is None and link(a, "pa")[8] == "x"
    a.drive("link-set", "pa", "down")
    a.drive("link-set", "pa", "name", "pa2", "alias", "")      # an empty alias removes it
    assert links_by_ip(a)[ifindex][0] == "pa2" and links_by_ip(a)[ifindex][8] == ""
    assert not links_by_ip(a)[ifindex][4]
    assert a.fails("link-set", "pa2", "name", "va") == "EEXIST"
    assert a.fails("link-set", "nosuch0", "up") == "ENODEV"

    # delete: a veth takes its peer along
    a.drive("link-del", "pa2")
    assert "pb" not in [l[0] for l in links_by_ip(a).values()]
    assert a.fails("link-del", "pa2") == "ENODEV"
    assert_dumps_match_ip(a)


def test_kinds_this_kernel_may_lack(netns):
    """VLAN, dummy and WireGuard links: created where the kernel has the
    kind, refused with EOPNOTSUPP where it does not; never half made."""
    a = netns()
    a.ip("link", "add", "va", "type", "veth", "peer", "name", "vb")
    cases = [(("vlan", "va.10", "link", "va", "id", "10"), lambda l: l[1] == "vlan"),
             (("vlan", "va.20", "link", "va", "id", "20", "protocol", "802.1ad"), lambda l: l[1] == "vlan"),
             (("dummy", "dm0"), lambda l: l[1] == "dummy"),
             (("wireguard", "wg0", "alias", "op-dbus:wan"), lambda l: l[1] == "wireguard" and l[8] == "op-dbus:wan")]
    for args, check in cases:
        result = run([a.driver, "link-add", a.path, *args], check=False)
        assert not SANITIZER_RE.search(result.stderr), result.stderr
        if result.returncode == 0:
            assert check(link(a, args[1])), link(a, args[1])
        else:
            assert result.stderr.startswith("error: EOPNOTSUPP"), result.stderr
            assert args[1] not in [l[0] for l in links_by_ip(a).values()]
    vlans = {l["ifname"]: l for l in a.dump("links") if l["kind"] == "vlan"}
    if vlans:
        assert (vlans["va.10"]["vlan_id"], vlans["va.10"]["vlan_protocol"]) == (10, 0x8100)
        assert (vlans["va.20"]["vlan_id"], vlans["va.20"]["vlan_protocol"]) == (20, 0x88a8)
    # the arguments the kernel would refuse never reach it
    assert a.drive("link-add", "vlan", "v0", "link", "va", "id", "4095", rc=1).startswith("error: EINVAL")


def test_address_primitives(netns):
    a = netns()
    a.ip("link", "add", "va", "type", "veth", "peer", "name", "vb")
    a.ip("link", "set", "va", "up")

    a.drive("addr-add", "va", "10.5.0.1/24", "brd", "+", "proto", str(PROTO))
    a.drive("addr-add", "va", "10.6.0.1/32", "peer", "10.6.0.2")
    a.drive("addr-add", "va", "fd00:5::1/64", "nodad", "proto", str(PROTO))
    a.ip("addr", "add", "10.5.0.7/24", "dev", "va")     # someone else's
    assert_dumps_match_ip(a)
    got = {(x["local"], x["prefixlen"]): x for x in a.dump("addresses")}
    assert got[("10.5.0.1", 24)]["broadcast"] == "10.5.0.255"
    assert got[("10.6.0.1", 32)]["peer"] == "10.6.0.2"
    # the mark (iproute2 6.1 does not show it): ours carry it, the other not
    assert {k for k, x in got.items() if x["protocol"] == PROTO} == {("10.5.0.1", 24), ("fd00:5::1", 64)}

    assert a.fails("addr-add", "va", "10.5.0.1/24") == "EEXIST"
    a.drive("addr-del", "va", "10.5.0.7/24")            # a secondary goes alone
    a.drive("addr-del", "va", "fd00:5::1/64")
    assert a.fails("addr-del", "va", "fd00:5::1/64") == "EADDRNOTAVAIL"
    assert {(x["local"], x["prefixlen"]) for x in a.dump("addresses") if x["ifindex"] == a.ifindex("va")} >= \
        {("10.5.0.1", 24), ("10.6.0.1", 32)}
    assert_dumps_match_ip(a)


def test_route_primitives_and_the_mark(netns):
    a = netns()
    a.ip("link", "add", "va", "type", "veth", "peer", "name", "vb")
    a.ip("link", "set", "va", "up")
    a.ip("link", "set", "vb", "up")
    a.ip("addr", "add", "10.5.0.1/24", "dev", "va")
    a.ip("addr", "add", "fd00:5::1/64", "dev", "va", "nodad")
    # someone else's routes, one to the same destination in another table
    a.ip("route", "add", "10.8.0.0/16", "via", "10.5.0.2", "proto", "static")
    a.ip("route", "add", "10.12.0.0/16", "via", "10.5.0.2", "table", "1000", "proto", "boot")

    ours = [("10.8.0.0/16", "via", "10.5.0.3", "dev", "va", "metric", "5", "table", "1000"),
            ("default", "via", "10.5.0.254", "table", "1000"),
            ("10.9.0.0/16", "type", "blackhole", "table", "100"),
            ("10.10.0.0/16", "type", "unreachable"),
            ("10.11.0.1", "type", "prohibit"),
            ("10.7.0.0/16", "dev", "va", "scope", "253", "src", "10.5.0.1"),
            ("fd00:7::/48", "via", "fd00:5::2", "metric", "300"),
            ("default", "inet6", "type", "unreachable", "table", "100")]
    for route in ours:
        assert a.drive("route-add", *route, "proto", str(PROTO)).startswith("ok writes=1")
    assert_dumps_match_ip(a)
    marked = [r for r in a.dump("routes") if r["protocol"] == PROTO]
    assert len(marked) == len(ours)
    assert {(r["dst"], r["dst_len"], r["table"]) for r in a.dump("routes") if r["protocol"] != PROTO} >= \
        {("10.8.0.0", 16, 254), ("10.12.0.0", 16, 1000)}

    # add is exclusive, replace is not
    assert a.fails("route-add", "10.8.0.0/16", "via", "10.5.0.4", "metric", "5", "table", "1000") == "EEXIST"
    a.drive("route-replace", "10.8.0.0/16", "via", "10.5.0.4", "metric", "5", "table", "1000", "proto", str(PROTO))
    (r,) = [r for r in a.dump("routes", "inet") if r["table"] == 1000 and r["dst"] == "10.8.0.0"]
    assert (r["gateway"], r["metric"], r["protocol"]) == ("10.5.0.4", 5, PROTO)
    assert a.fails("route-add", "10.13.0.0/16", "via", "192.0.2.1", "dev", "va") == "ENETUNREACH"

    # delete what a dump reported: the main table's route to 10.8.0.0/16 stays
    for route in (("10.8.0.0/16", "via", "10.5.0.4", "dev", "va", "metric", "5", "table", "1000"),
                  ("default", "via", "10.5.0.254", "dev", "va", "table", "1000"),
                  ("10.9.0.0/16", "type", "blackhole", "table", "100"),
                  ("10.10.0.0/16", "type", "unreachable"),
                  ("10.11.0.1", "type", "prohibit"),
                  ("10.7.0.0/16", "dev", "va"),
                  ("fd00:7::/48", "via", "fd00:5::2", "dev", "va", "metric", "300"),
                  ("default", "inet6", "type", "unreachable", "table", "100")):
        a.drive("route-del", *route, "proto", str(PROTO))
    assert [r for r in a.dump("routes") if r["protocol"] == PROTO] == []
    assert ("10.8.0.0", 16, 254) in {(r["dst"], r["dst_len"], r["table"]) for r in a.dump("routes")}
    assert a.fails("route-del", "10.9.0.0/16", "type", "blackhole", "table", "100") == "ESRCH"
    assert_dumps_match_ip(a)


def test_rule_primitives_and_the_mark(netns):
    a = netns()
    a.ip("rule", "add", "from", "10.4.0.0/16", "table", "100", "priority", "400")   # someone else's
    ours = [("from", "10.1.0.0/24", "to", "10.2.0.0/16", "iif", "va", "oif", "vb", "fwmark", "0x10/0xff",
             "table", "100", "priority", "500"),
            ("fwmark", "0x20", "priority", "600", "action", "blackhole"),
            ("not", "from", "10.3.0.0/16", "priority", "650", "action", "prohibit"),
            ("fwmark", "0/0x1", "table", "1000", "priority", "700"),
            ("inet6", "from", "fd00::/8", "priority", "800", "action", "unreachable")]
    for rule in ours:
        a.drive("rule-add", *rule, "proto", str(PROTO))
    assert_dumps_match_ip(a)
    assert len([r for r in a.dump("rules") if r["protocol"] == PROTO]) == len(ours)

    assert a.fails("rule-add", *ours[0], "proto", str(PROTO)) == "EEXIST"
    for rule in ours:
        a.drive("rule-del", *rule, "proto", str(PROTO))
    assert a.fails("rule-del", *ours[1], "proto", str(PROTO)) == "ENOENT"
    assert [r for r in a.dump("rules") if r["protocol"] == PROTO] == []
    assert 400 in [r["priority"] for r in a.dump("rules", "inet")]
    assert_dumps_match_ip(a)


def test_move_between_namespaces(netns, process_in):
    a, b = netns(), netns()
    pid = process_in(b)
    a.ip("link", "add", "va", "type", "veth", "peer", "name", "vb")
    a.ip("link", "set", "va", "up")

    a.drive("link-move", "va", b.path)                       # by namespace file
    assert "va" in [l[0] for l in links_by_ip(b).values()]
    assert not link(b, "va")[4]                              # the kernel took it down
    b.drive("link-move", "va", f"fd:{a.path}")               # by file descriptor
    a.drive("link-move", "va", str(pid))                     # by process
    assert "va" not in [l[0] for l in links_by_ip(a).values()]
    a.drive("link-move", "vb", a.path)                       # into its own namespace: nothing happens
    assert "vb" in [l[0] for l in links_by_ip(a).values()]

    b.ip("link", "add", "vb", "type", "veth", "peer", "name", "vc")
    assert a.fails("link-move", "vb", b.path) == "EEXIST"    # the name is taken there
    assert a.fails("link-move", "lo", b.path) == "EINVAL"    # loopback stays
    a.ip("link", "add", "br0", "type", "bridge")
    assert a.fails("link-move", "br0", b.path) == "EINVAL"   # so does a bridge
    assert_dumps_match_ip(a)
    assert_dumps_match_ip(b)


def test_tx_checksum(netns):
    a = netns()
    a.ip("link", "add", "va", "type", "veth", "peer", "name", "vb")
    assert a.drive("txcsum", "va") == "on"
    assert a.drive("txcsum", "va", "off") == "off"
    out = run(["ip", "netns", "exec", a.name, "ethtool", "-k", "va"]).stdout
    assert re.search(r"^tx-checksumming: off", out, re.M)
    assert a.drive("txcsum", "va", "on") == "on"
    assert a.fails("txcsum", "nosuch0") == "ENODEV"
