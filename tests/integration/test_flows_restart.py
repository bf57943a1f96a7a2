# SPDX-License-Identifier: LGPL-2.1-or-later
"""Bridges with op-dbus security flows fail closed, and ovs-vswitchd
restarts without a gap in the pipeline (docs/flows.md, "When ovs-vswitchd
restarts").

- A bridge with security flows (level 1 and up) gets fail_mode "secure":
  while its flows are missing (ovs-vswitchd just started, op-dbus not
  running) it forwards nothing. A bridge op-dbus programs has no
  controller; one set by hand is drift, reported and removed.
- op-dbus-ovs-hook (run by the drop-in for ovs-vswitchd.service) sets
  flow-restore-wait before ovs-vswitchd starts and, once it runs, restores
  the flows and clears it. The sandbox restarts ovs-vswitchd the way
  systemd would, with the hook (OvsSandbox.restart_vswitchd(hook=...)).
- During a restart (graceful and SIGKILL), a probe of one frame per
  millisecond between two container ports and a spoofing probe from one
  of them: no spoofed frame is ever delivered. The time without legitimate
  frames is printed (not asserted: it depends on the machine's load).

The "containers" are veths (Proxmox's veth<id>i0 names), which survive an
ovs-vswitchd restart, so the probes run across it.
"""

import os
import select
import socket
import struct
import subprocess
import threading
import time
from pathlib import Path

import pytest

import netlab
from netlab import Peer, lab, opdbus_flows, tcp_exchange, udp4_frame  # noqa: F401 (lab: the fixture)
from test_flows import NET, Batch, delivered, mac_of, openflow, state

# A graceful exit of ovs-vswitchd while conntrack (recirculation) datapath
# flows are in use logs the first; the next ovs-vswitchd starts afresh. The
# second: an ovs-vswitchd started right after the last one was killed asked
# ovsdb-server for its lock before the server had seen the killed one's
# connection close; it waits for the lock and goes on.
pytestmark = pytest.mark.ovs_log_allow(
    r"\|ofproto_dpif_rid\|ERR\|recirc_id \d+ left allocated when ofproto \(br0\) is destructed$",
    r"\|bridge\|ERR\|another ovs-vswitchd process is running, disabling this process \(pid \d+\) until it goes away$")

pytest.register_assert_rewrite("dbus_fixture")

from dbus_fixture import INTERFACE  # noqa: E402

pytest_plugins = ("dbus_fixture",)  # start_daemon

SOURCE_ROOT = Path(os.environ.get("OPDBUS_SOURCE_ROOT") or Path(__file__).resolve().parents[2])


def build_dir():
    path = Path(os.environ.get("OPDBUS_BUILD_DIR") or SOURCE_ROOT / "build-test")
    return path if path.is_absolute() else SOURCE_ROOT / path


def hook_for(opdbus, daemon=None):
    """hook(phase): runs the built op-dbus-ovs-hook against the sandbox, as
    the drop-in does: op-dbus in-process, or through daemon (its private
    bus; tests never reach the system bus)."""
    script = build_dir() / "systemd" / "op-dbus-ovs-hook"
    assert script.is_file(), f"{script} was not built"
    env = dict(opdbus.env, OPDBUS_BIN=opdbus.binary)
    if daemon:
        env["DBUS_SYSTEM_BUS_ADDRESS"] = daemon.bus.address

    def hook(phase):
        r = subprocess.run(["sh", str(script), phase], env=env, capture_output=True, text=True, timeout=60)
        assert r.returncode == 0, f"op-dbus-ovs-hook {phase}: {r.returncode}\n{r.stdout}{r.stderr}"
        for line in r.stderr.splitlines():
            assert "AddressSanitizer" not in line and "runtime error" not in line, r.stderr
    return hook


def vc(lab, cid):
    """Container `cid` on a veth veth<cid>i0 (its eth0 in a namespace)."""
    return lab.add_host(f"c{cid}", mac_of(cid), f"{NET}.{cid % 256}", container_id=cid, veth=True)


def apply(opdbus, tmp_state, doc):
    return opdbus.run("apply", "--json", tmp_state(doc), check=0, json=True).json


def fail_mode(ovs, bridge="br0"):
    return ovs.vsctl("get", "Bridge", bridge, "fail_mode")


def udp(sender, receiver, payload, *, mac=None, ip=None):
    return udp4_frame(mac or sender.mac, receiver.mac, ip or sender.ip, receiver.ip, 4000, 4001, payload)


# ---- fail_mode secure --------------------------------------------------------------


def test_security_flows_make_the_bridge_fail_closed(ovs, lab, opdbus, tmp_state):
    """The apply sets fail_mode secure on a bridge it puts security flows
    on (one op-dbus did not create); after an ovs-vswitchd restart without
    op-dbus, the bridge forwards nothing, not even what the pipeline would
    let through, until restore-flows."""
    a, b = vc(lab, 100), vc(lab, 101)
    doc = state(openflow(1, [a.socket_port(), b.socket_port()]))
    assert fail_mode(ovs) == "[]"
    res = apply(opdbus, tmp_state, doc)
    assert "bridge/br0/fail_mode" in {c["path"] for c in res["changes"]}, res["changes"]
    assert fail_mode(ovs) == "secure"
    flows = opdbus_flows(ovs)
    legit = Batch().add("legit", a, lambda m: udp(a, b, m))
    spoofed = Batch().add("spoofed", a, lambda m: udp(a, b, m, ip=f"{NET}.77"))
    assert set(delivered(b, legit)) == {"legit"}

    ovs.restart_vswitchd()          # no hook: as when op-dbus is not there
    assert opdbus_flows(ovs) == []
    # Nothing at all is forwarded: not the spoofed frame, and not the
    # legitimate one either (so there is no control frame to wait for).
    with b.sniffer() as sn:
        a.send(*(frame for _, _, _, frame in spoofed.items + legit.items))
        arrived = sn.drain(1.0)
    assert [p for p in arrived if any(p.has(m) for _, _, m, _ in spoofed.items + legit.items)] == []
    r = opdbus.run("restore-flows", "--json", check=0, json=True)
    assert r.json["counts"]["flow_mods"] == len(flows)
    assert set(delivered(b, Batch(spoofed.items + legit.items), control=(a, lambda m: udp(a, b, m)))) == {"legit"}


def test_fail_mode_drift_is_reported_and_repaired(ovs, lab, opdbus, tmp_state):
    """fail_mode standalone set by hand (Open vSwitch then deletes the
    bridge's flows and forwards everything): verify and plan report it,
    apply sets secure again and puts the flows back."""
    a, b = vc(lab, 100), vc(lab, 101)
    path = tmp_state(state(openflow(1, [a.socket_port(), b.socket_port()])))
    opdbus.run("apply", path, check=0)
    flows = opdbus_flows(ovs)
    ovs.vsctl("set-fail-mode", "br0", "standalone")
    ovs.wait_reconfigured()
    r = opdbus.run("verify", path, check=None)
    assert r.returncode != 0 and "bridge/br0/fail_mode" in r.stderr, r.stdout + r.stderr
    plan = opdbus.run("plan", "--json", path, check=0, json=True).json
    assert "bridge/br0/fail_mode" in {c["path"] for c in plan["changes"]}
    res = opdbus.run("apply", "--json", path, check=0, json=True).json
    assert res["counts"]["ovsdb_ops"] == 2
    assert fail_mode(ovs) == "secure" and opdbus_flows(ovs) == flows
    opdbus.run("verify", path, check=0)
    spoofed = Batch().add("spoofed", a, lambda m: udp(a, b, m, mac="02:00:00:00:99:99"))
    assert set(delivered(b, spoofed, control=(a, lambda m: udp(a, b, m)))) == set()


def test_fail_mode_is_put_back_when_the_security_flows_go(ovs, lab, opdbus, tmp_state):
    """The fail_mode a bridge had before op-dbus made it secure is kept in
    its external_ids and put back at level 0, and when the bridge leaves
    openflow.bridges."""
    a, b = vc(lab, 100), vc(lab, 101)
    ovs.vsctl("set-fail-mode", "br0", "standalone")
    ports = [a.socket_port(), b.socket_port()]
    for level, mode in ((1, "secure"), (0, "standalone"), (2, "secure")):
        apply(opdbus, tmp_state, state(openflow(level, ports)))
        assert fail_mode(ovs) == mode, level
    assert ovs.vsctl("get", "Bridge", "br0", "external_ids:op-dbus-fail-mode") == "standalone"
    apply(opdbus, tmp_state, state({"bridges": []}))
    assert fail_mode(ovs) == "standalone" and opdbus_flows(ovs) == []
    assert "op-dbus-fail-mode" not in ovs.vsctl("get", "Bridge", "br0", "external_ids")
    assert set(delivered(b, Batch().add("any", a, lambda m: udp(a, b, m, ip=f"{NET}.77")))) == {"any"}


def test_a_controller_set_by_hand_is_drift(ovs, lab, opdbus, tmp_state):
    """op-dbus never sets a controller on a bridge it programs; one set by
    hand (Open vSwitch then deletes the bridge's flows) is reported by
    verify and plan and removed by apply, at level 0 too."""
    a, b = vc(lab, 100), vc(lab, 101)
    for level in (1, 0):
        path = tmp_state(state(openflow(level, [a.socket_port(), b.socket_port()])))
        opdbus.run("apply", path, check=0)
        flows = opdbus_flows(ovs)
        assert ovs.vsctl("get", "Bridge", "br0", "controller") == "[]"
        ovs.vsctl("set-controller", "br0", "tcp:127.0.0.1:9")
        ovs.wait_reconfigured()
        r = opdbus.run("verify", path, check=None)
        assert r.returncode != 0 and "bridge/br0/controller" in r.stderr, r.stdout + r.stderr
        plan = opdbus.run("plan", "--json", path, check=0, json=True).json
        assert "bridge/br0/controller" in {c["path"] for c in plan["changes"]}
        opdbus.run("apply", path, check=0)
        assert ovs.vsctl("get", "Bridge", "br0", "controller") == "[]"
        assert ovs.vsctl("list", "Controller") == ""
        assert opdbus_flows(ovs) == flows
        opdbus.run("verify", path, check=0)


def test_net_bridge_with_security_flows_is_secure(ovs, opdbus, tmp_state):
    """A bridge plugins.net declares without fail_mode is made secure when
    it carries security flows, standalone otherwise; "standalone" next to
    security flows is refused with its path."""
    net = {"bridges": [{"name": "br0", "datapath_type": "netdev"}]}
    opdbus.run("apply", tmp_state(state(openflow(1), net=net)), check=0)
    assert fail_mode(ovs) == "secure"
    opdbus.run("apply", tmp_state(state(openflow(0), net=net)), check=0)
    assert fail_mode(ovs) == "[]"
    bad = {"bridges": [{"name": "br0", "datapath_type": "netdev", "fail_mode": "standalone"}]}
    r = opdbus.run("validate", tmp_state(state(openflow(2), net=bad)), check=2)
    assert "plugins.net.bridges[0].fail_mode" in r.stderr and '"secure"' in r.stderr, r.stderr
    assert fail_mode(ovs) == "[]"


# ---- the hook --------------------------------------------------------------------------


def test_hook_restores_and_clears_flow_restore_wait(ovs, lab, opdbus, tmp_state):
    a, b = vc(lab, 100), vc(lab, 101)
    apply(opdbus, tmp_state, state(openflow(2, [a.socket_port(), b.socket_port()])))
    flows = opdbus_flows(ovs)
    seen = {}
    hook = hook_for(opdbus)

    def watching(phase):
        hook(phase)
        seen[phase] = ovs.vsctl("--no-wait", "get", "Open_vSwitch", ".", "other_config")

    ovs.restart_vswitchd(hook=watching)
    assert 'flow-restore-wait="true"' in seen["start-pre"]
    assert "flow-restore-wait" not in seen["start-post"]
    assert opdbus_flows(ovs) == flows


def test_hook_restores_through_the_running_daemon(ovs, lab, opdbus, start_daemon):
    """With the op-dbus daemon running, the hook's restore-flows is the
    daemon's RestoreFlows job (next to the restore the daemon starts itself
    when it sees ovs-vswitchd back): the hook succeeds, the flows are back
    and flow-restore-wait is cleared."""
    a, b = vc(lab, 100), vc(lab, 101)
    d = start_daemon(state(openflow(2, [a.socket_port(), b.socket_port()])), audit_interval=0)
    flows = opdbus_flows(ovs)
    assert flows and fail_mode(ovs) == "secure"
    mark = d.mark()
    ovs.restart_vswitchd(hook=hook_for(opdbus, daemon=d))
    d.bus.monitor.sync()
    calls = [m.get("member") for m in d.bus.monitor.messages[mark:]
             if m.get("type") == "method_call" and m.get("interface") == INTERFACE]
    assert "RestoreFlows" in calls, calls
    assert opdbus_flows(ovs) == flows
    assert "flow-restore-wait" not in ovs.vsctl("--no-wait", "get", "Open_vSwitch", ".", "other_config")
    spoofed = Batch().add("spoofed", a, lambda m: udp(a, b, m, mac="02:00:00:00:99:99"))
    assert set(delivered(b, spoofed, control=(a, lambda m: udp(a, b, m)))) == set()


def test_hook_on_a_node_where_nothing_was_applied(ovs, opdbus):
    """An installed node with no applied state: the hook has nothing to
    restore, succeeds and still clears flow-restore-wait."""
    ovs.restart_vswitchd(hook=hook_for(opdbus))
    assert "flow-restore-wait" not in ovs.vsctl("--no-wait", "get", "Open_vSwitch", ".", "other_config")


# ---- no gap: probes during the restart ------------------------------------------------

PROBE, SPOOF = b"opdbus-probe", b"opdbus-spoof"


class Probe:
    """Sends a frame a -> b every millisecond (PROBE, sequence number) and
    after each a spoofed one from a's port (SPOOF: a's MAC with another
    address, or another MAC); counts what arrives at b."""

    def __init__(self, a, b):
        self.a, self.b = a, b
        self.sent = []            # send time of each sequence number
        self.got = {}             # sequence number -> arrival time
        self.spoofed = 0
        self.stop = threading.Event()
        self.rx = b.socket(socket.AF_PACKET, socket.SOCK_RAW, socket.htons(0x0003))
        self.rx.setsockopt(socket.SOL_SOCKET, socket.SO_RCVBUF, 8 << 20)
        self.rx.bind((b.dev, 0))
        self.tx = a.socket(socket.AF_PACKET, socket.SOCK_RAW)
        self.tx.bind((a.dev, 0))
        self.threads = [threading.Thread(target=self._send), threading.Thread(target=self._receive)]

    def __enter__(self):
        for t in self.threads:
            t.start()
        return self

    def __exit__(self, *exc):
        self.stop.set()
        for t in self.threads:
            t.join()
        self.rx.close()
        self.tx.close()

    def _send(self):
        a, b = self.a, self.b
        start = time.monotonic()
        seq = 0
        while not self.stop.is_set():
            self.sent.append(time.monotonic())
            self.tx.send(udp(a, b, PROBE + struct.pack("!I", seq)))
            spoof = dict(ip=f"{NET}.200") if seq % 2 else dict(mac="02:00:00:00:99:99", ip=f"{NET}.201")
            self.tx.send(udp(a, b, SPOOF + struct.pack("!I", seq), **spoof))
            seq += 1
            delay = start + seq / 1000 - time.monotonic()
            if delay > 0:
                time.sleep(delay)

    def _receive(self):
        while not self.stop.is_set():
            if not select.select([self.rx], [], [], 0.1)[0]:
                continue
            data, addr = self.rx.recvfrom(2048)
            if addr[2] == socket.PACKET_OUTGOING:
                continue
            if (i := data.find(PROBE)) >= 0:
                self.got.setdefault(struct.unpack("!I", data[i + len(PROBE):i + len(PROBE) + 4])[0],
                                    time.monotonic())
            elif SPOOF in data:
                self.spoofed += 1

    def wait_for_probes(self, after_seq, timeout=30):
        deadline = time.monotonic() + timeout
        while time.monotonic() < deadline:
            if any(s > after_seq for s in list(self.got)):
                return
            time.sleep(0.01)
        raise AssertionError(f"no probe frame arrived after sequence {after_seq}")

    def gap_ms(self):
        """The longest time between two probes sent that both arrived with
        none arriving of those sent in between: the forwarding loss."""
        seqs = sorted(self.got)
        longest = 0.0
        for x, y in zip(seqs, seqs[1:]):
            longest = max(longest, self.sent[y] - self.sent[x])
        return longest * 1000


@pytest.mark.parametrize("graceful", [True, False], ids=["graceful", "sigkill"])
def test_no_gap_and_no_spoofed_frame_across_a_restart(ovs, lab, opdbus, tmp_state, graceful, capsys):
    a, b = vc(lab, 100), vc(lab, 101)
    apply(opdbus, tmp_state, state(openflow(2, [a.socket_port(), b.socket_port()])))
    flows = opdbus_flows(ovs)
    hook = hook_for(opdbus)
    with Probe(a, b) as p:
        p.wait_for_probes(-1)
        stopped, started, restored = ovs.restart_vswitchd(graceful=graceful, hook=hook)
        last_sent = len(p.sent)
        p.wait_for_probes(last_sent)
        time.sleep(0.2)
    assert opdbus_flows(ovs) == flows
    assert p.spoofed == 0, f"{p.spoofed} spoofed frames were delivered"
    assert len(p.got) > 0
    with capsys.disabled():
        print(f"\nrestart ({'graceful' if graceful else 'SIGKILL'}): {len(p.sent)} probes sent, "
              f"{len(p.got)} delivered, longest gap {p.gap_ms():.0f} ms; ovs-vswitchd stopped -> ready "
              f"{(started - stopped) * 1000:.0f} ms, ready -> flows restored (hook) "
              f"{(restored - started) * 1000:.0f} ms; spoofed delivered: {p.spoofed}")


# ---- the management path ---------------------------------------------------------------


def _host_and_uplink(ovs, lab):
    """The node's own address on br0's local port (in the sandbox's
    namespace) and an uplink host on a port that serves no container."""
    uplink = lab.add_host("uplink", mac_of(0xF001), f"{NET}.1", port="uplink0", veth=True)
    uplink.offload(tx=False)  # a veth under the userspace datapath (docs/flows.md)
    ovs.netns_exec("ip", "addr", "add", f"{NET}.2/24", "dev", "br0")
    return Peer("node", ovs.netns, f"{NET}.2"), uplink


def test_management_path_with_op_dbus_stopped(ovs, lab, opdbus, start_daemon):
    """The op-dbus daemon applies level 1 and is stopped; ovs-vswitchd
    restarts through the hook, which restores the flows in-process, and the
    node's own address reaches the uplink again (real TCP), through the
    level 1 pipeline, which lets every port that serves no container
    through."""
    c = vc(lab, 100)
    node, uplink = _host_and_uplink(ovs, lab)
    d = start_daemon(state(openflow(1, [c.socket_port()])), audit_interval=0)
    flows = opdbus_flows(ovs)
    assert flows and fail_mode(ovs) == "secure"
    tcp_exchange(node, uplink, 8080, size=4096)
    d.stop()
    ovs.restart_vswitchd(hook=hook_for(opdbus))
    assert opdbus_flows(ovs) == flows
    tcp_exchange(node, uplink, 8081, size=4096)


def test_management_path_on_a_bridge_without_security_flows(ovs, lab, opdbus, tmp_state):
    """A bridge op-dbus creates with no security flows stays standalone:
    after an ovs-vswitchd restart with no op-dbus at all (no hook), the
    node still reaches its uplink."""
    net = {"bridges": [{"name": "br0", "datapath_type": "netdev"}]}
    opdbus.run("apply", tmp_state(state(net=net)), check=0)
    node, uplink = _host_and_uplink(ovs, lab)
    assert fail_mode(ovs) == "[]"
    tcp_exchange(node, uplink, 8080, size=4096)
    ovs.restart_vswitchd()
    tcp_exchange(node, uplink, 8081, size=4096)
