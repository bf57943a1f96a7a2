# SPDX-License-Identifier: LGPL-2.1-or-later
"""Tests of the test harness itself: the OVS sandbox and the fixtures."""

import os
import re
import secrets
import subprocess

import pytest

from netlab import in_netns
from ovs_sandbox import CREATED_NETNS, NETNS_PREFIX, OvsCommandError, OvsSandbox, netns_list, process_alive
from pve_fixture import PveSim, pve_templates  # noqa: F401  (the fixture)


def unique_name(prefix="opdt"):
    """An interface name that certainly does not exist on the host."""
    return prefix + secrets.token_hex(4)  # 12 characters, below IFNAMSIZ


def add_netdev_bridge(sandbox, bridge):
    sandbox.vsctl("add-br", bridge, "--", "set", "bridge", bridge, "datapath_type=netdev")


def add_internal_port(sandbox, bridge, port, *port_settings):
    sandbox.vsctl("add-port", bridge, port, *port_settings,
                  "--", "set", "interface", port, "type=internal")


def host_link_index(name):
    """The ifindex of the interface of that name in the host namespace, or
    None if there is none."""
    result = subprocess.run(["ip", "-o", "link", "show", "dev", name],
                            capture_output=True, text=True, check=False)
    return int(result.stdout.split(":")[0]) if result.returncode == 0 else None


# ---- sandbox start-up ------------------------------------------------------


def test_sandbox_starts(ovs):
    pids = ovs.pids()
    assert set(pids) == {"ovsdb-server", "ovs-vswitchd"}
    assert all(process_alive(pid) for pid in pids.values())

    # Both daemons are in the sandbox namespace, not the host's.
    for pid in pids.values():
        netns = subprocess.run(["ip", "netns", "identify", str(pid)],
                               capture_output=True, text=True, check=True).stdout
        assert netns.strip() == ovs.netns

    assert ovs.vsctl("get", "Open_vSwitch", ".", "datapath_types") == "[netdev]"
    assert ovs.vsctl("list-br") == ""
    assert os.path.exists(ovs.db_sock)
    assert ovs.db_sock.startswith(ovs.dir + "/")

    env = ovs.env()
    assert env["OPDBUS_OVSDB"] == "unix:" + ovs.db_sock
    assert env["OVS_RUNDIR"] == ovs.dir
    for var in ("OPDBUS_STATE_DIR", "OPDBUS_RUN_DIR", "OPDBUS_PVE_DIR"):
        assert env[var].startswith(ovs.dir + "/")
        assert os.path.isdir(env[var])

    # Nothing went to the host's OVS run directory.
    assert "/var/run/openvswitch" not in " ".join(env.values())


def test_netdev_bridge_is_a_tap_in_the_sandbox_netns_only(ovs):
    # The host may have an ovs-netdev of its own: the host's Open vSwitch
    # makes one for its userspace datapath (install.sh's ovsbr0 on a machine
    # without the kernel module). The sandbox must neither create one there
    # nor replace that one.
    host_netdev = host_link_index("ovs-netdev")
    bridge, port = unique_name(), unique_name("opdp")
    add_netdev_bridge(ovs, bridge)
    add_internal_port(ovs, bridge, port)

    assert bridge in ovs.links()
    assert port in ovs.links()
    details = ovs.netns_exec("ip", "-d", "link", "show", "dev", bridge).stdout
    assert "tun type tap" in details

    assert "ovs-netdev" in ovs.links()
    assert host_link_index(bridge) is None
    assert host_link_index(port) is None
    assert host_link_index("ovs-netdev") == host_netdev

    # The OpenFlow management socket is in the sandbox directory.
    flows = ovs.ofctl("dump-flows", bridge, options=["--no-stats"])
    assert "actions=NORMAL" in flows
    assert os.path.exists(os.path.join(ovs.dir, bridge + ".mgmt"))


def test_dump_is_stable(ovs):
    add_netdev_bridge(ovs, "br0")
    add_internal_port(ovs, "br0", "p1", "tag=10")

    first = ovs.dump()
    assert isinstance(first, bytes)
    assert b"Bridge table" in first and b"br0" in first
    assert ovs.dump() == first

    # A single table with chosen columns.
    bridges = ovs.dump("Bridge", "name", "datapath_type").decode()
    assert "br0" in bridges and "netdev" in bridges

    # dump() includes run-time columns (statistics, link_state, ...) that
    # change once an interface is up and passes traffic (IPv6 router
    # solicitations, for one); config_dump() leaves them out.
    config = ovs.config_dump()
    assert b"statistics" not in config
    assert b"br0" in config and b"p1" in config
    ovs.netns_exec("ip", "link", "set", "p1", "up")
    assert ovs.config_dump() == config


def test_two_sandboxes_with_the_same_bridge_name():
    with OvsSandbox() as a, OvsSandbox() as b:
        assert a.netns != b.netns and a.dir != b.dir
        for sandbox in (a, b):
            add_netdev_bridge(sandbox, "br0")
            add_internal_port(sandbox, "br0", "p1")
        assert "br0" in a.links() and "br0" in b.links()
        assert a.vsctl("get", "Bridge", "br0", "_uuid") != b.vsctl("get", "Bridge", "br0", "_uuid")

        a.ofctl("add-flow", "br0", "priority=100,in_port=1,actions=drop")
        assert "priority=100" in a.ofctl("dump-flows", "br0", options=["--no-stats"])
        assert "priority=100" not in b.ofctl("dump-flows", "br0", options=["--no-stats"])

        a.vsctl("del-br", "br0")
        assert "br0" not in a.links()
        assert b.vsctl("list-br") == "br0"
        assert "br0" in b.links()

        assert a.check_logs().errors == [] and b.check_logs().errors == []


def test_restart_vswitchd_keeps_the_database(ovs):
    add_netdev_bridge(ovs, "br0")
    add_internal_port(ovs, "br0", "p1", "tag=10")
    before = ovs.config_dump()
    old_pid = ovs.pids()["ovs-vswitchd"]

    ovs.restart_vswitchd()
    assert ovs.pids()["ovs-vswitchd"] != old_pid
    assert not process_alive(old_pid)
    assert ovs.config_dump() == before
    assert {"br0", "p1"} <= set(ovs.links())
    assert "actions=NORMAL" in ovs.ofctl("dump-flows", "br0")

    # After a crash as well.
    ovs.restart_vswitchd(graceful=False)
    assert ovs.config_dump() == before
    add_internal_port(ovs, "br0", "p2")  # waits for the new ovs-vswitchd
    assert "p2" in ovs.links()


def test_dump_while_vswitchd_is_stopped(ovs):
    add_netdev_bridge(ovs, "br0")
    ovs.stop_vswitchd()
    assert "ovs-vswitchd" not in ovs.pids()
    # Changes the database (and next_cfg); nobody applies it yet.
    ovs.vsctl("--no-wait", "add-br", "br1", "--", "set", "bridge", "br1", "datapath_type=netdev")
    assert b"br1" in ovs.dump()
    ovs.start_vswitchd()
    assert {"br0", "br1"} <= set(ovs.links())


def test_ovsdb_outage_and_restart(ovs):
    add_netdev_bridge(ovs, "br0")
    ovs.stop_ovsdb()
    assert "ovsdb-server" not in ovs.pids()
    with pytest.raises(OvsCommandError):
        ovs.vsctl("list-br", timeout=1)

    ovs.start_ovsdb()
    assert ovs.vsctl("list-br") == "br0"
    # ovs-vswitchd is connected again: a new bridge gets its tap device.
    add_netdev_bridge(ovs, "br1")
    assert "br1" in ovs.links()

    # Same after ovsdb-server is killed.
    ovs.stop_ovsdb(graceful=False)
    ovs.start_ovsdb()
    assert ovs.vsctl("list-br").split() == ["br0", "br1"]

    # An outage is reported as warnings, not errors.
    check = ovs.check_logs()
    assert check.errors == []
    assert any("connection dropped" in line for line in check.warnings)


def test_close_removes_everything():
    sandbox = OvsSandbox()
    add_netdev_bridge(sandbox, "br0")
    directory, netns = sandbox.dir, sandbox.netns
    daemon_pids = list(sandbox.pids().values())
    # A process a test left running inside the namespace.
    stray = subprocess.Popen(["ip", "netns", "exec", netns, "sleep", "600"])
    assert netns in netns_list()

    sandbox.close()
    assert stray.wait(timeout=10) != 0
    assert netns not in netns_list()
    assert not os.path.exists(directory)
    assert not any(process_alive(pid) for pid in daemon_pids)

    sandbox.close()  # idempotent


def test_close_after_failed_daemon():
    """close() works whatever state the sandbox is in."""
    sandbox = OvsSandbox()
    sandbox.stop_vswitchd(graceful=False)
    sandbox.stop_ovsdb(graceful=False)
    sandbox.close()
    assert sandbox.netns not in netns_list()
    assert not os.path.exists(sandbox.dir)


def test_pve_sim_leaves_a_nodes_own_container_interfaces_alone(pve_templates):
    """Without an OVS sandbox the double's containers live in the caller's
    network namespace, which on a Proxmox node holds the node's own
    containers' interfaces. The double's clean-up neither reports nor
    deletes them, even those of a container id it uses itself. Played in a
    namespace of the test's own, as the node's."""
    ns = NETNS_PREFIX + "pve" + secrets.token_hex(3)
    subprocess.run(["ip", "netns", "add", ns], check=True)
    CREATED_NETNS.add(ns)
    try:
        node_links = ("veth100i0", "fwbr100i0", "veth101i0")
        subprocess.run(["ip", "-n", ns, "link", "add", "veth100i0", "type", "veth",
                        "peer", "name", "veth101i0"], check=True)
        subprocess.run(["ip", "-n", ns, "link", "add", "fwbr100i0", "type", "bridge"], check=True)
        with in_netns(ns):
            sim = PveSim(pve_templates)
            try:
                sim.create(100, "--hostname", "sim100")
                assert sim.links() == []
            finally:
                problems = sim.close()
        assert problems == {}
        out = subprocess.run(["ip", "-n", ns, "-o", "link", "show"], capture_output=True,
                             text=True, check=True).stdout
        assert all(f" {name}" in out for name in node_links), out
    finally:
        subprocess.run(["ip", "netns", "delete", ns], check=False)


# ---- log checking ----------------------------------------------------------


# ovsdb-server answering ovs-vswitchd while it exits: the one warning a
# clean graceful restart may log (its last status update crosses the exit).
VSWITCHD_EXIT_RACE = re.compile(r"^ovsdb-server: .*\|(jsonrpc\|WARN\|unix#\d+: send error: Broken pipe|"
                                r"reconnect\|WARN\|unix#\d+: connection dropped \(Broken pipe\))$")


def test_clean_run_has_no_log_errors_or_warnings(ovs):
    add_netdev_bridge(ovs, "br0")
    add_internal_port(ovs, "br0", "p1")
    ovs.wait_reconfigured()
    ovs.restart_vswitchd()
    errors, warnings = ovs.check_logs()
    assert errors == []
    assert [w for w in warnings if not VSWITCHD_EXIT_RACE.match(w)] == []


@pytest.mark.ovs_log_allow(r"patch type requires valid 'peer' argument")
def test_log_errors_are_found_and_can_be_allowed(ovs):
    # A patch port without a peer makes ovs-vswitchd log an ERR line. The
    # marker above keeps the fixture from failing this test at teardown.
    add_netdev_bridge(ovs, "br0")
    ovs.vsctl("add-port", "br0", "patch0", "--", "set", "interface", "patch0", "type=patch")

    errors = ovs.check_logs().errors
    assert errors and all("|ERR|" in line for line in errors)
    assert all(line.startswith("ovs-vswitchd: ") for line in errors)
    assert ovs.check_logs(allow=[r"requires valid 'peer'"]).errors == []


def test_missing_system_interface_is_only_a_warning(ovs):
    add_netdev_bridge(ovs, "br0")
    ovs.vsctl("add-port", "br0", "nosuchdev0")
    check = ovs.check_logs()
    assert check.errors == []
    assert any("could not open network device nosuchdev0" in line for line in check.warnings)


# ---- op-dbus runner and state files ------------------------------------------

FAKE_OPDBUS = """#!/bin/sh
# Stand-in for op-dbus: reports its arguments, environment and stdin as JSON.
case "$1" in
    fail) echo "failing on purpose" >&2; exit 3 ;;
    asan) echo "==42==ERROR: AddressSanitizer: heap-use-after-free" >&2; exit 0 ;;
    ubsan) echo "agent/core/x.c:10:5: runtime error: signed integer overflow" >&2; exit 0 ;;
    crash) kill -SEGV $$ ;;
    text) echo "not json"; exit 0 ;;
esac
stdin=$(cat)
jq -n --arg args "$*" --arg stdin "$stdin" --arg cwd "$PWD" \
    '{args: $args, stdin: $stdin, cwd: $cwd,
      env: (env | with_entries(select(.key | test("^(OPDBUS_|OVS_RUNDIR$|ASAN_)"))))}'
"""


class TestOpDbusRunner:
    """The opdbus fixture, run against a stand-in binary."""

    @pytest.fixture
    def opdbus_bin(self, tmp_path):
        path = tmp_path / "fake-op-dbus"
        path.write_text(FAKE_OPDBUS)
        path.chmod(0o755)
        return path

    def test_without_sandbox_never_uses_the_host_ovs(self, opdbus, tmp_path):
        result = opdbus.run("apply", "--dry-run", check=True, json=True)
        assert result.returncode == 0
        assert result.json["args"] == "apply --dry-run"
        assert result.json["cwd"] == str(tmp_path)
        env = result.json["env"]
        assert env["OPDBUS_OVSDB"].startswith(f"unix:{tmp_path}/")
        for var in ("OVS_RUNDIR", "OPDBUS_STATE_DIR", "OPDBUS_RUN_DIR", "OPDBUS_PVE_DIR"):
            assert env[var].startswith(f"{tmp_path}/")

    def test_with_sandbox(self, ovs, opdbus):
        result = opdbus.run("show", json=True)
        assert result.json["env"]["OPDBUS_OVSDB"] == ovs.db_remote
        assert {k: v for k, v in result.json["env"].items() if k in ovs.env()} == ovs.env()

    def test_input_and_extra_env(self, opdbus):
        result = opdbus.run("apply", "-", input='{"a": 1}', env={"OPDBUS_X": "y"}, json=True)
        assert result.json["stdin"] == '{"a": 1}'
        assert result.json["env"]["OPDBUS_X"] == "y"

    def test_exit_code_checks(self, opdbus):
        assert opdbus.run("fail").returncode == 3
        assert opdbus.run("fail", check=3).returncode == 3
        with pytest.raises(pytest.fail.Exception, match="exited with 3, expected 0"):
            opdbus.run("fail", check=True)
        with pytest.raises(pytest.fail.Exception, match="exited with 0, expected 2"):
            opdbus.run("text", check=2)

    @pytest.mark.parametrize("mode", ["asan", "ubsan"])
    def test_sanitizer_reports_fail(self, opdbus, mode):
        with pytest.raises(pytest.fail.Exception, match="sanitizer error"):
            opdbus.run(mode)

    def test_crash_fails(self, opdbus):
        with pytest.raises(pytest.fail.Exception, match="killed by signal 11"):
            opdbus.run("crash")

    def test_json_parse_error_fails(self, opdbus):
        with pytest.raises(pytest.fail.Exception, match="not JSON"):
            opdbus.run("text", json=True)


def test_tmp_state(tmp_state, tmp_path):
    first = tmp_state({"bridges": [{"name": "vmbr0"}]})
    second = tmp_state("{ not json")
    named = tmp_state({}, name="other.json")
    assert first == tmp_path / "state.json"
    assert second == tmp_path / "state-1.json"
    assert named == tmp_path / "other.json"
    assert first.read_text().startswith("{")
    assert '"vmbr0"' in first.read_text()
    assert second.read_text() == "{ not json"
