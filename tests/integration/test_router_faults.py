# SPDX-License-Identifier: LGPL-2.1-or-later
"""Faults and hostile input for op-router (docs/router.md, "Faults and
hostile input"), held to what tests/integration/test_faults.py and
test_hostile_input.py ask of op-dbus.

A router namespace with one veth (eth1, its peer in a spare namespace)
carries a large state: 120 macvlans with an address each, 120 routes and
4 routing rules, a firewall of 300 rules and a set of 3,000 elements, so
that the link phase and the nftables batch take measurable time. Beside
it live someone else's nftables table and route, which op-router must
never touch.

  * op-router is killed with SIGKILL at random moments of applies between
    the large state and an empty one (every third one with a failure
    injected after the firewall, so that the kill may hit its rollback),
    and right after it started the link phase and the firewall's batch
    (found by its -v lines). After each kill the checkpoint store loads
    and the next apply converges: plan has nothing to do, verify passes,
    the foreign table and route are there as they were. Also at exact
    points: stopped by OPROUTER_FAULT_INJECT=PLUGIN:stop right after the
    link phase or the firewall's batch, and killed there.
  * A read-only or full state directory is found before the kernel is
    touched: exit 5, the error names the directory, the dumps are
    byte-identical.
  * A table of hostile inputs for the router's sections: each is refused
    with its JSON path and exit 2, and `ip -j link/addr/route/rule` and
    `nft -j list ruleset` are byte-identical before and after.

The random moments come from a seed printed with the figures (run with
`-s` to see them); OPROUTER_FAULT_SEED=N repeats a run."""

import json
import os
import random
import signal
import subprocess
import time

import pytest
from router_fixture import settle_links, sh as fixture_sh

pytest_plugins = ("router_fixture",)

HANG = 300
EMPTY = {"version": 1, "plugins": {"interfaces": {}, "routes": {}, "firewall": {}}}
FOREIGN_ROUTE = "203.0.113.0/24"


def large_state(n_links=120, n_rules=300, n_elements=3000):
    macvlans = [{"name": f"mv{i}", "link": "eth1", "addresses": [f"10.{1 + i // 250}.{i % 250}.1/24"]}
                for i in range(n_links)]
    routes = [{"to": f"172.16.{i}.0/24", "via": "10.0.0.254", "metric": 10} for i in range(n_links)]
    rules = [{"priority": 200 + i, "fwmark": f"0x{i + 1:x}/0xff", "table": 100 + i} for i in range(4)]
    elements = [f"100.{64 + i // 250}.{i % 250}.{1 + i % 7}" for i in range(n_elements)]
    elements = sorted(set(elements))
    fw_rules = [{"name": f"svc{i}", "from": "wan", "proto": "tcp", "dest_port": 1024 + i, "action": "accept"}
                for i in range(n_rules)]
    fw_rules.append({"name": "no-blocked", "from": "lan", "to": "wan", "dest_set": "blocked",
                     "action": "reject", "counter": True})
    return {"version": 1, "plugins": {
        "interfaces": {"links": [{"name": "eth1", "up": True, "addresses": ["10.0.0.1/16"]}],
                       "macvlans": macvlans},
        "routes": {"routes": routes, "rules": rules},
        "firewall": {
            "zones": [{"name": "lan", "interfaces": [f"mv{i}" for i in range(min(16, n_links))], "input": "accept",
                       "forward": "accept"},
                      {"name": "wan", "interfaces": ["eth1"], "masquerade": True}],
            "forwardings": [{"from": "lan", "to": "wan"}],
            "sets": [{"name": "blocked", "type": "ipv4_addr", "elements": elements}],
            "rules": fw_rules,
        }}}


LARGE = large_state()


def sh(*cmd, **kw):
    return fixture_sh(*cmd, timeout=HANG, **kw)


class Router:
    """The router namespace, its spare peer and someone else's objects."""

    def __init__(self, make_netns, oprouter):
        self.ns, self.spare = make_netns("rtr"), make_netns("spr")
        self.op = oprouter.in_netns(self.ns)
        self.run("sysctl", "-q", "-w", "net.ipv6.conf.all.accept_dad=0", "net.ipv6.conf.default.accept_dad=0")
        self.run("ip", "link", "add", "eth1", "type", "veth", "peer", "name", "eth1", "netns", self.spare)
        self.run("ip", "link", "set", "eth1", "up")
        sh("ip", "netns", "exec", self.spare, "ip", "link", "set", "eth1", "up")
        # someone else's: a route on eth1 and an nftables table
        self.run("ip", "addr", "add", "192.0.2.1/24", "dev", "eth1")
        self.run("ip", "route", "add", FOREIGN_ROUTE, "via", "192.0.2.254", "dev", "eth1")
        self.run("nft", "-f", "-", input="table inet foreign {\n chain input {\n"
                 "  type filter hook input priority 10; policy accept;\n  tcp dport 4242 counter accept\n }\n}\n")
        self.foreign_before = self.foreign()

    def run(self, *cmd, check=True, input=None):
        return sh("ip", "netns", "exec", self.ns, *cmd, check=check, input=input)

    def foreign(self):
        table = json.loads(self.run("nft", "-j", "list", "table", "inet", "foreign").stdout)
        rules = [{k: v for k, v in e["rule"].items() if k != "handle"} for e in table["nftables"] if "rule" in e]
        route = self.run("ip", "-j", "route", "show", FOREIGN_ROUTE).stdout
        return rules, json.loads(route)

    def dumps(self):
        settle_links(self.ns)
        out = [self.run("ip", "-j", *what).stdout for what in
               (("link",), ("addr",), ("route", "show", "table", "all"), ("-6", "route", "show", "table", "all"),
                ("rule",), ("-6", "rule"))]
        return out + [self.run("nft", "-j", "list", "ruleset").stdout]

    def popen(self, *args, env=None, prefix=()):
        return subprocess.Popen([*prefix, *self.op.prefix, self.op.binary, *(str(a) for a in args)],
                                env={**self.op.env, **(env or {})}, cwd=self.op.cwd, stdin=subprocess.DEVNULL,
                                stdout=subprocess.PIPE, stderr=subprocess.PIPE, text=True)


@pytest.fixture
def router(router_netns, oprouter):
    return Router(router_netns, oprouter)


def check_store(router):
    """Every checkpoint is strict JSON with a state; returns the newest
    generation."""
    listing = router.op.run("checkpoints", "--json", check=0, json=True).json
    assert listing, "no checkpoint"
    for entry in listing:
        with open(entry["path"]) as f:
            assert "plugins" in json.load(f)["state"], entry
    return listing[-1]["generation"]


def check_converged(router, path):
    plan = router.op.run("plan", "--json", path, check=0, json=True, timeout=HANG).json
    assert plan["changes"] == [], plan["changes"]
    router.op.run("verify", path, check=0, timeout=HANG)
    check_store(router)
    assert router.foreign() == router.foreign_before


def wait_line(proc, words):
    lines = []
    for line in proc.stderr:
        lines.append(line)
        if words in line:
            return lines
    pytest.fail(f"op-router ended without writing {words!r}:\n{''.join(lines)}", pytrace=False)


# ---- op-router killed --------------------------------------------------------------------


def test_kill_9_at_random_moments_of_a_large_apply(router, tmp_state):
    """Ten applies between the large state and the empty one, each killed
    with SIGKILL at a random moment; each is followed by an apply of the
    same state, which must converge."""
    seed = int(os.environ.get("OPROUTER_FAULT_SEED") or time.time())
    rng = random.Random(seed)
    paths = {"large": tmp_state(LARGE, "large.json"), "empty": tmp_state(EMPTY, "empty.json")}
    full = 0
    for target in ("large", "empty", "large"):
        start = time.monotonic()
        router.op.run("apply", "--allow-outage", paths[target], check=0, timeout=HANG)
        full = max(full, time.monotonic() - start)
    check_converged(router, paths["large"])
    converged, killed, outcomes = 0, 0, []
    for i in range(10):
        target = "empty" if i % 2 == 0 else "large"
        fault = {"OPROUTER_FAULT_INJECT": "firewall"} if i % 3 == 2 else {}
        delay = rng.uniform(0, full)
        proc = router.popen("apply", "--allow-outage", paths[target], env=fault)
        time.sleep(delay)
        proc.kill()
        proc.communicate(timeout=HANG)
        killed += proc.returncode == -signal.SIGKILL
        outcomes.append(f"{target} {'fault ' if fault else ''}{delay:.2f}s: "
                        f"{'killed' if proc.returncode == -signal.SIGKILL else f'exit {proc.returncode}'}")
        check_store(router)
        res = router.op.run("apply", "--json", "--allow-outage", paths[target], timeout=HANG, json=True)
        assert res.returncode == 0, f"after {outcomes[-1]} (seed {seed}):\n{res.describe()}"
        check_converged(router, paths[target])
        converged += 1
    print(f"\nop-router kill -9 at random moments (seed {seed}, the longer full apply took {full:.2f}s): "
          f"{killed} of 10 applies killed while running, {converged}/10 converged\n  " + "\n  ".join(outcomes))


# Where each phase begins and ends in the -v output: the link phase runs
# between the prepared checkpoint and "apply interfaces"; the firewall's
# batch is built and sent after its second diff (the one made after the
# interfaces and routes changed) and before "apply firewall".
PHASES = {"links": (("checkpoint: generation",), "apply interfaces:"),
          "firewall": (("query firewall again", "diff firewall:"), "apply firewall:")}


def phase_ms(lines, end):
    line = next(x for x in lines if end in x)
    return float(line.rsplit(" in ", 1)[1].split(" ms")[0])


@pytest.mark.parametrize("phase", sorted(PHASES))
def test_kill_9_inside_a_phase(router, tmp_state, phase):
    """Killed inside the link phase (120 macvlans and their addresses made
    or deleted) or inside the firewall's batch (300 rules and 3,000 set
    elements added, or the table deleted): the kill comes at a point of
    the phase's length, measured first, after the line that opens the
    phase; whether it came before the phase ended is read from what
    op-router wrote. Large, empty, large, ..., and after each kill the
    next apply converges."""
    opens, closes = PHASES[phase]
    paths = {"large": tmp_state(LARGE, "large.json"), "empty": tmp_state(EMPTY, "empty.json")}
    length = {}
    for target in ("large", "empty"):
        res = router.op.run("-v", "apply", "--allow-outage", paths[target], check=0, timeout=HANG)
        length[target] = phase_ms(res.stderr.splitlines(), closes) / 1000
    inside, outcomes = 0, []
    for i, fraction in enumerate((0.0, 0.1, 0.3, 0.5, 0.7, 0.9)):
        target = "large" if i % 2 == 0 else "empty"
        proc = router.popen("-v", "apply", "--allow-outage", paths[target])
        for words in opens:
            lines = wait_line(proc, words)
        time.sleep(fraction * length[target])
        proc.kill()
        _, err = proc.communicate(timeout=HANG)
        hit = proc.returncode == -signal.SIGKILL and closes not in err
        inside += hit
        outcomes.append(f"{target} at {fraction:.0%} of {length[target] * 1000:.1f} ms: "
                        f"{'inside' if hit else 'after the phase' if proc.returncode < 0 else f'exit {proc.returncode}'}")
        check_store(router)
        res = router.op.run("-v", "apply", "--allow-outage", paths[target], timeout=HANG)
        assert res.returncode == 0, f"after {outcomes[-1]}:\n{''.join(lines)}{err}\n{res.describe()}"
        check_converged(router, paths[target])
    print(f"\nop-router kill -9 inside the {phase} phase: {inside} of 6 kills inside it, 6/6 converged\n  "
          + "\n  ".join(outcomes))


def stopped(pid):
    with open(f"/proc/{pid}/stat") as f:
        return f.read().rsplit(")", 1)[1].split()[0] == "T"


@pytest.mark.parametrize("plugin", ["interfaces", "firewall"])
def test_kill_9_at_an_exact_point_between_phases(router, tmp_state, plugin):
    """Killed at an exact point of a large apply: right after the link
    phase (the links, addresses made; routes and firewall not yet), or
    right after the firewall's batch was committed (not yet verified, its
    checkpoint not yet a generation). op-router stops there on its own
    (OPROUTER_FAULT_INJECT=PLUGIN:stop) and is killed while stopped; the
    next apply converges and nobody else's objects were touched."""
    paths = {"large": tmp_state(LARGE, "large.json"), "empty": tmp_state(EMPTY, "empty.json")}
    assert router.op.run("apply", paths["empty"], timeout=HANG).returncode == 0
    for target in ("large", "empty", "large"):
        proc = router.popen("apply", "--allow-outage", paths[target],
                            env={"OPROUTER_FAULT_INJECT": f"{plugin}:stop"})
        deadline = time.monotonic() + HANG   # a hang, not a measurement
        while not stopped(proc.pid):
            assert proc.poll() is None, proc.communicate()
            assert time.monotonic() < deadline, f"op-router never stopped after {plugin}"
            time.sleep(0.01)
        proc.kill()
        proc.communicate(timeout=HANG)
        assert proc.returncode == -signal.SIGKILL
        check_store(router)
        res = router.op.run("apply", "--allow-outage", paths[target], timeout=HANG)
        assert res.returncode == 0, f"after a kill at {plugin}:stop of {target}:\n{res.describe()}"
        check_converged(router, paths[target])


# ---- the state directory -----------------------------------------------------------------


def in_namespace(router, setup, *args):
    cmd = [*router.op.prefix, "unshare", "-m", "--propagation", "private", "sh", "-ec",
           f'{setup}\nexec "$0" "$@"', router.op.binary, *(str(a) for a in args)]
    return subprocess.run(cmd, env={**router.op.env, "S": router.op.env["OPROUTER_STATE_DIR"]},
                          cwd=router.op.cwd, capture_output=True, text=True, timeout=HANG)


def test_a_read_only_state_directory_changes_nothing(router, tmp_state):
    small = {"version": 1, "plugins": {"interfaces": {"links": [{"name": "eth1", "addresses": ["10.0.0.1/16"]}]}}}
    router.op.run("apply", tmp_state(small), check=0)
    before = router.dumps()
    res = in_namespace(router, 'mount --bind "$S" "$S"; mount -o remount,bind,ro "$S"',
                       "apply", "--json", "--allow-outage", tmp_state(LARGE))
    assert res.returncode == 5, f"{res.stdout}\n{res.stderr}"
    out = json.loads(res.stdout)
    assert out["changed"] is False, out
    state_dir = router.op.env["OPROUTER_STATE_DIR"]
    assert [e for e in out["errors"] if state_dir in e and "Read-only file system" in e], out["errors"]
    assert router.dumps() == before
    assert check_store(router) == 1


def test_a_full_state_directory_changes_nothing(router, tmp_state):
    small = {"version": 1, "plugins": {"interfaces": {"links": [{"name": "eth1", "addresses": ["10.0.0.1/16"]}]}}}
    router.op.run("apply", tmp_state(small), check=0)
    before = router.dumps()
    copy = router.op.cwd / "state-copy"
    sh("cp", "-a", router.op.env["OPROUTER_STATE_DIR"], copy)
    res = in_namespace(router, f'mount -t tmpfs -o size=1m tmpfs "$S"; cp -a {copy}/. "$S"/; '
                       'dd if=/dev/zero of="$S/fill" bs=64k 2>/dev/null || true',
                       "apply", "--json", "--allow-outage", tmp_state(LARGE))
    assert res.returncode == 5, f"{res.stdout}\n{res.stderr}"
    out = json.loads(res.stdout)
    assert out["changed"] is False, out
    state_dir = router.op.env["OPROUTER_STATE_DIR"]
    assert len(out["errors"]) == 1 and state_dir in out["errors"][0] and "free" in out["errors"][0], out["errors"]
    assert router.dumps() == before


# ---- hostile input -----------------------------------------------------------------------


def section(name, body):
    return {"version": 1, "plugins": {name: body}}


LONG = "x" * 16
HOSTILE = [
    # (id, raw text or document, the JSON path the error must name, or
    # its beginning)
    ("nul-in-link-name", section("interfaces", {"links": [{"name": "eth\u00001"}]}),
     "plugins.interfaces.links[0].name"),
    ("nul-in-zone-name", section("firewall", {"zones": [{"name": "l\u0000an", "interfaces": ["eth1"]}]}),
     "plugins.firewall.zones[0].name"),
    ("nul-in-address", section("interfaces", {"links": [{"name": "eth1", "addresses": ["10.0.0.1/16\u0000"]}]}),
     "plugins.interfaces.links[0].addresses[0]"),
    ("nul-in-set-element", section("firewall", {"sets": [{"name": "s", "type": "ipv4_addr",
                                                          "elements": ["10.0.0.1\u0000"]}]}),
     "plugins.firewall.sets[0].elements[0]"),
    ("link-name-too-long", section("interfaces", {"links": [{"name": LONG}]}), "plugins.interfaces.links[0].name"),
    ("macvlan-name-too-long", section("interfaces", {"macvlans": [{"name": LONG, "link": "eth1"}]}),
     "plugins.interfaces.macvlans[0].name"),
    ("route-dev-too-long", section("routes", {"routes": [{"to": "10.9.0.0/16", "dev": LONG}]}),
     "plugins.routes.routes[0].dev"),
    ("rule-iif-too-long", section("routes", {"rules": [{"priority": 100, "iif": LONG, "table": 100}]}),
     "plugins.routes.rules[0].iif"),
    ("set-name-too-long", section("firewall", {"sets": [{"name": "s" * 300, "type": "ipv4_addr"}]}),
     "plugins.firewall.sets[0].name"),
    ("route-to-host-bits", section("routes", {"routes": [{"to": "10.9.0.1/16", "dev": "eth1"}]}),
     "plugins.routes.routes[0].to"),
    ("route6-to-host-bits", section("routes", {"routes": [{"to": "2001:db8::1/32", "dev": "eth1"}]}),
     "plugins.routes.routes[0].to"),
    ("zone-subnet-host-bits", section("firewall", {"zones": [{"name": "lan", "interfaces": ["eth1"],
                                                              "subnets": ["192.168.1.1/24"]}]}),
     "plugins.firewall.zones[0].subnets[0]"),
    ("huge-mtu", section("interfaces", {"links": [{"name": "eth1", "mtu": 10 ** 30}]}),
     "plugins.interfaces.links[0].mtu"),
    ("negative-mtu", section("interfaces", {"links": [{"name": "eth1", "mtu": -1500}]}),
     "plugins.interfaces.links[0].mtu"),
    ("float-mtu", section("interfaces", {"links": [{"name": "eth1", "mtu": 1500.5}]}),
     "plugins.interfaces.links[0].mtu"),
    ("huge-vlan-id", section("interfaces", {"vlans": [{"name": "v", "link": "eth1", "id": 2 ** 64}]}),
     "plugins.interfaces.vlans[0].id"),
    ("huge-metric", section("routes", {"routes": [{"to": "10.9.0.0/16", "dev": "eth1", "metric": 2 ** 32}]}),
     "plugins.routes.routes[0].metric"),
    ("huge-table", section("routes", {"routes": [{"to": "10.9.0.0/16", "dev": "eth1", "table": 2 ** 40}]}),
     "plugins.routes.routes[0].table"),
    ("huge-rule-priority", section("routes", {"rules": [{"priority": 2 ** 33, "table": 100}]}),
     "plugins.routes.rules[0].priority"),
    ("huge-port", section("firewall", {"rules": [{"name": "r", "proto": "tcp", "dest_port": 10 ** 20,
                                                  "action": "accept"}]}),
     "plugins.firewall.rules[0].dest_port"),
    ("huge-limit-rate", section("firewall", {"rules": [{"name": "r", "proto": "icmp", "action": "accept",
                                                        "limit": {"rate": 2 ** 63, "per": "second"}}]}),
     "plugins.firewall.rules[0].limit.rate"),
    ("interfaces-not-object", section("interfaces", []), "plugins.interfaces"),
    ("routes-not-object", section("routes", "routes"), "plugins.routes"),
    ("firewall-not-object", section("firewall", 7), "plugins.firewall"),
    ("links-not-array", section("interfaces", {"links": {"name": "eth1"}}), "plugins.interfaces.links"),
    ("link-not-object", section("interfaces", {"links": ["eth1"]}), "plugins.interfaces.links[0]"),
    ("link-name-number", section("interfaces", {"links": [{"name": 1}]}), "plugins.interfaces.links[0].name"),
    ("link-up-string", section("interfaces", {"links": [{"name": "eth1", "up": "yes"}]}),
     "plugins.interfaces.links[0].up"),
    ("addresses-string", section("interfaces", {"links": [{"name": "eth1", "addresses": "10.0.0.1/16"}]}),
     "plugins.interfaces.links[0].addresses"),
    ("bridge-ports-object", section("interfaces", {"bridges": [{"name": "br0", "ports": {"eth1": 1}}]}),
     "plugins.interfaces.bridges[0].ports"),
    ("nul-in-port-name", section("interfaces", {"bridges": [{"name": "br0", "ports": ["eth1\u0000x"]}]}),
     "plugins.interfaces.bridges[0].ports[0]"),
    ("huge-port-pvid", section("interfaces", {"bridges": [{"name": "br0", "vlan_filtering": True, "ports": [
        {"name": "eth1", "vlans": {"pvid": 2 ** 64}}]}]}), "plugins.interfaces.bridges[0].ports[0].vlans.pvid"),
    ("float-tagged-vlan", section("interfaces", {"bridges": [{"name": "br0", "vlan_filtering": True, "ports": [
        {"name": "eth1", "vlans": {"tagged": [10.5]}}]}]}), "plugins.interfaces.bridges[0].ports[0].vlans.tagged[0]"),
    ("tagged-vlans-object", section("interfaces", {"bridges": [{"name": "br0", "vlan_filtering": True,
                                                               "vlans": {"tagged": {"10": True}}}]}),
     "plugins.interfaces.bridges[0].vlans.tagged"),
    ("route-not-object", section("routes", {"routes": [["10.9.0.0/16"]]}), "plugins.routes.routes[0]"),
    ("route-via-number", section("routes", {"routes": [{"to": "10.9.0.0/16", "via": 10}]}),
     "plugins.routes.routes[0].via"),
    ("rule-table-string", section("routes", {"rules": [{"priority": 100, "table": "main-ish"}]}),
     "plugins.routes.rules[0].table"),
    ("zones-not-array", section("firewall", {"zones": {"lan": {}}}), "plugins.firewall.zones"),
    ("zone-interfaces-string", section("firewall", {"zones": [{"name": "lan", "interfaces": "eth1"}]}),
     "plugins.firewall.zones[0].interfaces"),
    ("set-elements-object", section("firewall", {"sets": [{"name": "s", "type": "ipv4_addr",
                                                           "elements": {"a": 1}}]}),
     "plugins.firewall.sets[0].elements"),
    ("set-element-number", section("firewall", {"sets": [{"name": "s", "type": "ipv4_addr", "elements": [1]}]}),
     "plugins.firewall.sets[0].elements[0]"),
    ("rule-limit-array", section("firewall", {"rules": [{"name": "r", "proto": "icmp", "action": "accept",
                                                         "limit": [10, "second"]}]}),
     "plugins.firewall.rules[0].limit"),
    ("unknown-key-link", section("interfaces", {"links": [{"name": "eth1", "speed": 1000}]}),
     "plugins.interfaces.links[0].speed"),
    ("unknown-key-routes", section("routes", {"routes": [], "neighbours": []}), "plugins.routes.neighbours"),
    ("unknown-key-set", section("firewall", {"sets": [{"name": "s", "type": "ipv4_addr", "timeout": 5}]}),
     "plugins.firewall.sets[0].timeout"),
    ("unknown-key-port-forward", section("firewall", {"port_forwards": [
        {"name": "w", "from": "wan", "proto": "tcp", "external_port": 80, "to": "192.168.1.10:80", "x": 1}]}),
     "plugins.firewall.port_forwards[0].x"),
    ("deep-nesting", '{"version": 1, "plugins": {"firewall": {"zones": [' + "[" * 5000 + "]" * 5000 + "]}}}",
     "plugins.firewall.zones[0][0]"),
    ("deep-nesting-in-unknown-key", '{"version": 1, "plugins": {"routes": {"x": ' + "{\"a\":" * 3000 + "1"
     + "}" * 3000 + "}}}", "plugins.routes.x.a"),
    ("duplicate-key-section", '{"version": 1, "plugins": {"routes": {}, "routes": {}}}', "plugins.routes"),
    ("duplicate-key-link", '{"version": 1, "plugins": {"interfaces": {"links": '
     '[{"name": "eth1", "name": "eth2"}]}}}', "plugins.interfaces.links[0].name"),
    ("duplicate-key-rule", '{"version": 1, "plugins": {"firewall": {"rules": [{"name": "r", "proto": "tcp", '
     '"dest_port": 22, "action": "accept", "action": "drop"}]}}}', "plugins.firewall.rules[0].action"),
    ("nan-metric", '{"version": 1, "plugins": {"routes": {"routes": [{"to": "10.9.0.0/16", "dev": "eth1", '
     '"metric": NaN}]}}}', "plugins.routes.routes[0].metric"),
    ("number-overflow", '{"version": 1, "plugins": {"interfaces": {"links": [{"name": "eth1", '
     '"mtu": 1' + "0" * 400 + "}]}}}", "plugins.interfaces.links[0].mtu"),
    ("truncated", '{"version": 1, "plugins": {"firewall": {"zones": [{"name": "lan"', "plugins.firewall.zones[0].name"),
    ("invalid-utf8", b'{"version": 1, "plugins": {"firewall": {"zones": [{"name": "l\xff\xfe", '
     b'"interfaces": ["eth1"]}]}}}', "plugins.firewall.zones[0].name"),
    ("wireguard-name-too-long", section("wireguard", {"interfaces": [{"name": LONG, "private_key_secret": "k"}]}),
     "plugins.wireguard.interfaces[0].name"),
    ("wireguard-nul-in-secret-name", section("wireguard", {"interfaces": [{"name": "wg0",
                                                                           "private_key_secret": "k\u0000x"}]}),
     "plugins.wireguard.interfaces[0].private_key_secret"),
    ("wireguard-inline-key", section("wireguard", {"interfaces": [{"name": "wg0", "private_key_secret": "k",
                                                                   "private_key": "A" * 43 + "="}]}),
     "plugins.wireguard.interfaces[0].private_key"),
    ("wireguard-endpoint-overflow", section("wireguard", {"interfaces": [{"name": "wg0", "private_key_secret": "k",
                                                                          "peers": [{"public_key": "A" * 43 + "=",
                                                                                     "endpoint": "[" + "1:" * 400 + "]:1"}]}]}),
     "plugins.wireguard.interfaces[0].peers[0].endpoint"),
]


@pytest.mark.parametrize("doc,where", [(d, w) for _, d, w in HOSTILE], ids=[i for i, _, _ in HOSTILE])
def test_hostile_input_is_refused_and_changes_nothing(router, tmp_state, doc, where):
    router.op.run("apply", "--allow-outage", tmp_state(LARGE_SMALL), check=0, timeout=HANG)
    before = router.dumps()
    path = router.op.cwd / "hostile.json"
    if isinstance(doc, bytes):
        path.write_bytes(doc)
    elif isinstance(doc, str):
        path.write_text(doc)
    else:
        path.write_text(json.dumps(doc))
    res = router.op.run("apply", "--allow-outage", path, timeout=HANG)
    assert res.returncode == 2, res.describe()
    assert f"error: {where}" in res.stderr, f"does not name {where!r}:\n{res.stderr}"
    assert router.dumps() == before
    assert router.foreign() == router.foreign_before


LARGE_SMALL = large_state(n_links=4, n_rules=8, n_elements=20)
