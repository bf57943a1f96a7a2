# SPDX-License-Identifier: LGPL-2.1-or-later
"""op-router run, the daemon, and commit-confirm (docs/router.md, "The
daemon" and "Commit-confirm"), in network namespaces the test creates:
the state applied at start, SIGHUP, SIGTERM; a route, an address and a
firewall rule deleted by hand are put back; an apply with
--confirm-timeout that nobody confirms is reverted (the kernel's dumps
byte-identical to before it), one confirmed stays, and one whose daemon
is killed inside the window is reverted when the daemon starts again."""

import copy
import difflib
import json
import signal
import subprocess
import time

import pytest

from test_router_firewall import Node, ruleset
from router_fixture import sh

pytest_plugins = ("router_fixture",)



class Net:
    """A router namespace with eth1 (WAN) and lan1, an upstream and a LAN
    client behind them."""

    def __init__(self, make_netns):
        self.router, self.upstream, self.lan = make_netns("rtr"), make_netns("up"), make_netns("lan")
        r = self.router
        # no duplicate address detection: a link-local address's
        # "tentative" must not change the dumps while a test compares them
        self.run(r, "sysctl", "-q", "-w", "net.ipv6.conf.default.accept_dad=0", "net.ipv6.conf.all.accept_dad=0")
        self.run(r, "ip", "link", "add", "eth1", "type", "veth", "peer", "name", "eth0", "netns", self.upstream)
        self.run(r, "ip", "link", "add", "lan1", "type", "veth", "peer", "name", "eth0", "netns", self.lan)
        for ns, dev, addr in ((r, "eth1", "198.51.100.2/24"), (self.upstream, "eth0", "198.51.100.1/24"),
                              (self.lan, "eth0", "192.168.1.10/24")):
            self.run(ns, "ip", "addr", "add", addr, "dev", dev)
            self.run(ns, "ip", "link", "set", dev, "up")
        self.run(r, "ip", "link", "set", "lan1", "up")

    @staticmethod
    def run(ns, *cmd, check=True, input=None):
        return sh("ip", "netns", "exec", ns, *cmd, check=check, input=input)

    def dumps(self):
        out = [self.run(self.router, "ip", "-j", *cmd).stdout for cmd in (
            ("link",), ("addr",), ("route", "show", "table", "all"), ("-6", "route", "show", "table", "all"),
            ("rule",), ("-6", "rule"))]
        return out, ruleset(Node("router", self.router, None))


STATE = {"version": 1, "plugins": {
    "interfaces": {"links": [{"name": "lan1", "addresses": ["192.168.1.1/24"]}]},
    "routes": {"routes": [{"to": "10.60.0.0/16", "via": "198.51.100.1", "metric": 5}]},
    "firewall": {
        "zones": [
            {"name": "lan", "interfaces": ["lan1"], "input": "accept", "forward": "accept"},
            {"name": "wan", "interfaces": ["eth1"], "input": "drop", "forward": "drop", "masquerade": True},
        ],
        "forwardings": [{"from": "lan", "to": "wan"}],
        "rules": [{"name": "ping", "from": "wan", "proto": "icmp", "icmp_type": "echo-request",
                   "action": "accept"}],
    },
}}


def changed_state():
    """STATE with a second address, another route and another rule."""
    s = copy.deepcopy(STATE)
    s["plugins"]["interfaces"]["links"][0]["addresses"].append("192.168.7.1/24")
    s["plugins"]["routes"]["routes"].append({"to": "10.70.0.0/16", "via": "198.51.100.1"})
    s["plugins"]["firewall"]["rules"].append({"name": "ssh", "from": "wan", "proto": "tcp", "dest_port": 22,
                                              "action": "accept"})
    return s


class Daemon:
    """op-router run FILE in the router namespace; its log is kept."""

    def __init__(self, oprouter, ns, path, log_path):
        self.log_path = log_path
        self.log_file = open(log_path, "ab")
        env = dict(oprouter.env)
        self.proc = subprocess.Popen(["ip", "netns", "exec", ns, oprouter.binary, "run", str(path)], env=env,
                                     stdout=self.log_file, stderr=subprocess.STDOUT)

    def log(self):
        return self.log_path.read_text()

    def wait_for(self, text, timeout=60):
        """Polls the log for text (the deadline is only a guard against a
        test that would hang)."""
        start = time.monotonic()
        while text not in self.log():
            assert self.proc.poll() is None, f"the daemon exited ({self.proc.returncode}):\n{self.log()}"
            assert time.monotonic() - start < timeout, f"no {text!r} in the daemon's log:\n{self.log()}"
            time.sleep(0.05)
        return time.monotonic() - start

    def send(self, sig):
        self.proc.send_signal(sig)

    def stop(self, sig=signal.SIGTERM):
        if self.proc.poll() is None:
            self.proc.send_signal(sig)
            self.proc.wait(timeout=60)
        self.log_file.close()
        return self.proc.returncode


@pytest.fixture
def net(router_netns):
    return Net(router_netns)


@pytest.fixture
def daemon(net, oprouter, tmp_path):
    started = []

    def start(path):
        d = Daemon(oprouter, net.router, path, tmp_path / "daemon.log")
        started.append(d)
        return d

    yield start
    for d in started:
        d.stop(signal.SIGKILL)


def test_run_applies_at_start_reapplies_on_sighup_and_exits_on_sigterm(net, oprouter, tmp_state, daemon):
    path = tmp_state(STATE, "state.json")
    d = daemon(path)
    d.wait_for("start: apply of")
    assert "verified" in d.log(), d.log()
    runner = oprouter.in_netns(net.router)
    assert runner.run("verify", path).returncode == 0
    path.write_text(json.dumps(changed_state()))
    d.send(signal.SIGHUP)
    d.wait_for("SIGHUP: apply of")
    assert runner.run("verify", path).returncode == 0
    assert "192.168.7.1/24" in net.run(net.router, "ip", "-br", "addr", "show", "dev", "lan1").stdout
    assert d.stop() == 0
    assert "exiting" in d.log()


def wait_until(what, check, timeout=60):
    """Polls check() until it is true; returns how long that took (the
    deadline only keeps a broken daemon from hanging the test)."""
    start = time.monotonic()
    while not check():
        assert time.monotonic() - start < timeout, f"{what}: not repaired"
        time.sleep(0.02)
    return time.monotonic() - start


def owned_route(net):
    return "10.60.0.0/16" in net.run(net.router, "ip", "route", "show", "proto", "217").stdout


def lan_address(net):
    return "192.168.1.1/24" in net.run(net.router, "ip", "-br", "addr", "show", "dev", "lan1").stdout


def ping_rules(net):
    """The rules of op-router's input_wan chain made for the rule "ping"."""
    r = net.run(net.router, "nft", "-j", "list", "chain", "inet", "op-router", "input_wan", check=False)
    return [i["rule"] for i in json.loads(r.stdout or '{"nftables": []}')["nftables"]
            if "rule" in i and "ping" in i["rule"].get("comment", "")]


def ping_rule(net):
    return len(ping_rules(net)) == 1


@pytest.mark.parametrize("what", ["route", "address", "firewall rule"])
def test_drift_is_repaired(net, oprouter, tmp_state, daemon, what):
    """A route, an address or a firewall rule op-router made, deleted by
    hand, is back (well within a second, on an idle machine), the log
    says what was put back, and the kernel is as after the apply."""
    d = daemon(tmp_state(STATE, "state.json"))
    d.wait_for("start: apply of")
    before = net.dumps()
    if what == "route":
        check = owned_route
        net.run(net.router, "ip", "route", "del", "10.60.0.0/16", "proto", "217")
    elif what == "address":
        check = lan_address
        net.run(net.router, "ip", "addr", "del", "192.168.1.1/24", "dev", "lan1")
    else:
        check = ping_rule
        net.run(net.router, "nft", "delete", "rule", "inet", "op-router", "input_wan", "handle",
                ping_rules(net)[0]["handle"])
    took = wait_until(what, lambda: check(net))
    print(f"{what} repaired {took * 1000:.0f} ms after it was deleted")
    d.wait_for("Drift repaired: ")
    log = d.log()
    assert {"route": "routes create 10.60.0.0/16", "address": "interfaces create address/lan1/192.168.1.1/24",
            "firewall rule": "firewall create rule/input_wan/rule:ping:icmp"}[what] in log, log
    same_dumps(net.dumps(), before)
    # its own changes start no second repair
    assert log.count("put back in") == 1, log


def test_an_apply_from_the_cli_is_what_the_daemon_keeps(net, oprouter, tmp_state, daemon):
    """The daemon repairs towards the applied state, the newest
    checkpoint: an apply made with the CLI while it runs is kept, not
    undone as drift, and is what a later repair puts back."""
    d = daemon(tmp_state(STATE, "state.json"))
    d.wait_for("start: apply of")
    runner = oprouter.in_netns(net.router)
    changed = tmp_state(changed_state(), "changed.json")
    r = runner.run("apply", changed)
    assert r.returncode == 0, r.describe()
    net.run(net.router, "ip", "route", "del", "10.70.0.0/16", "proto", "217")
    d.wait_for("Drift repaired: routes create 10.70.0.0/16")
    assert runner.run("verify", changed).returncode == 0
    assert "10.60.0.0/16" in net.run(net.router, "ip", "route").stdout


def test_a_second_daemon_is_refused(net, oprouter, tmp_state, daemon):
    path = tmp_state(STATE, "state.json")
    d = daemon(path)
    d.wait_for("start: apply of")
    r = oprouter.in_netns(net.router).run("run", path)
    assert r.returncode == 4, r.describe()
    assert "another op-router daemon is running" in r.stderr


def test_confirm_timeout_without_a_daemon_is_refused(net, oprouter, tmp_state):
    runner = oprouter.in_netns(net.router)
    before = net.dumps()
    r = runner.run("apply", "--confirm-timeout", "90", tmp_state(STATE))
    assert r.returncode == 5, r.describe()
    assert "no op-router daemon is running to keep the timer" in r.stderr
    assert "Nothing was changed" in r.stderr
    same_dumps(net.dumps(), before)
    assert not (oprouter.state_dir / "confirm.json").exists()


def confirmed_apply(net, oprouter, tmp_state, daemon, seconds):
    """The daemon applies STATE; then the changed state is applied with a
    confirm window of seconds. Returns the daemon, the dumps from before
    the confirmed apply and its result."""
    d = daemon(tmp_state(STATE, "state.json"))
    d.wait_for("start: apply of")
    before = net.dumps()
    r = oprouter.in_netns(net.router).run("apply", "--json", "--confirm-timeout", seconds,
                                          tmp_state(changed_state(), "changed.json"), json=True)
    assert r.returncode == 0, r.describe()
    assert r.json["confirm"]["command"] == "op-router confirm"
    assert (oprouter.state_dir / "confirm.json").stat().st_mode & 0o777 == 0o600
    assert net.dumps() != before
    return d, before, r.json


def same_dumps(a, b):
    """a == b, and what differs when they do not."""
    for x, y in zip(a[0], b[0]):
        assert x == y, "\n".join(difflib.unified_diff(json.dumps(json.loads(y), indent=1).splitlines(),
                                                      json.dumps(json.loads(x), indent=1).splitlines(), lineterm=""))
    assert a[1] == b[1]


def test_a_window_that_runs_out_is_reverted(net, oprouter, tmp_state, daemon):
    d, before, res = confirmed_apply(net, oprouter, tmp_state, daemon, 2)
    took = d.wait_for("Revert of an unconfirmed apply")
    print(f"reverted {took:.2f} s after the apply returned (window: 2 s)")
    assert "Revert of an unconfirmed apply: verified" in d.log(), d.log()
    assert f"Generation {res['generation']} was not confirmed" in d.log()
    same_dumps(net.dumps(), before)
    assert not (oprouter.state_dir / "confirm.json").exists()
    r = oprouter.in_netns(net.router).run("confirm")
    assert r.returncode == 2 and "no apply is waiting for confirmation" in r.stderr
    # The audit trail: the daemon's apply of its file, the operator's
    # apply, and the daemon's revert, each with who made it.
    listed = oprouter.run("checkpoints", "--json", json=True).json
    records = [c["record"] for c in listed]
    assert [r["reason"] for r in records] == ["state-file", "apply", "confirm-timeout"], records
    assert records[0]["source"].endswith("/state.json") and records[0]["process"] == "op-router"
    assert records[1]["source"].endswith("/changed.json") and records[1]["pid"] != records[0]["pid"]
    assert records[1]["changes"]["total"] == 3 and len(records[1]["actions"]) == 3
    assert records[2]["pid"] == d.proc.pid and records[2]["process"] == "op-router"
    assert records[2]["changes"] == {"total": 3, "delete": 3}


def test_a_confirmed_apply_stays(net, oprouter, tmp_state, daemon):
    d, before, res = confirmed_apply(net, oprouter, tmp_state, daemon, 3)
    d.wait_for(f"Generation {res['generation']} waits for confirmation")
    after = net.dumps()
    r = oprouter.in_netns(net.router).run("confirm", "--json", json=True)
    assert r.returncode == 0, r.describe()
    assert r.json == {"confirmed": True, "generation": res["generation"]}
    d.wait_for(f"Generation {res['generation']} was confirmed.")
    # past the deadline, nothing is put back
    time.sleep(4)
    assert "Revert" not in d.log()
    assert net.dumps() == after
    r = oprouter.in_netns(net.router).run("confirm")
    assert r.returncode == 2 and "no apply is waiting for confirmation" in r.stderr


def test_a_daemon_killed_inside_the_window_reverts_at_its_next_start(net, oprouter, tmp_state, daemon):
    d, before, res = confirmed_apply(net, oprouter, tmp_state, daemon, 600)
    d.stop(signal.SIGKILL)
    again = daemon(tmp_state(STATE, "state.json"))
    again.wait_for("Revert of an unconfirmed apply")
    assert "its window was open when the daemon started" in again.log()
    assert "Revert of an unconfirmed apply: verified" in again.log(), again.log()
    same_dumps(net.dumps(), before)
    assert not (oprouter.state_dir / "confirm.json").exists()
