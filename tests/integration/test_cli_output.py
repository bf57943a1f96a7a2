# SPDX-License-Identifier: LGPL-2.1-or-later
"""What the op-dbus command prints: messages when stderr is not a terminal,
JSON that agrees with the exit status, and the verbs' small print-outs.

Every run here has its stderr on a pipe (as in a script or under
`| tee`), the case where messages used to lose their error."""

import json
import os
import re
import shutil
import subprocess

import pytest

from pve_fixture import OVS_LOG_ALLOW, pve_sim, pve_templates  # noqa: F401

pytest_plugins = ("dbus_fixture",)


def _without_dac_override(binary, *args, env):
    """Runs op-dbus as root but without the capabilities that let root
    ignore file permissions, so a mode 000 directory is refused."""
    if not shutil.which("setpriv"):
        pytest.skip("setpriv (util-linux) is not installed")
    cmd = ["setpriv", "--bounding-set=-dac_override,-dac_read_search", str(binary), *map(str, args)]
    return subprocess.run(cmd, capture_output=True, text=True, env=env, timeout=60, stdin=subprocess.DEVNULL)


def test_error_keeps_its_errno_with_stderr_on_a_pipe(opdbus, tmp_path):
    locked = tmp_path / "locked"
    locked.mkdir(mode=0o000)
    try:
        r = _without_dac_override(opdbus.binary, "--state-dir", locked, "checkpoints", env=opdbus.env)
    finally:
        locked.chmod(0o700)
    assert r.returncode == 5, r.stderr
    assert r.stderr == f"op-dbus: error: Cannot list checkpoints in {locked}: Permission denied\n"


def test_existing_output_file_says_file_exists(opdbus, tmp_path):
    existing = tmp_path / "existing.json"
    existing.write_text("{}\n")
    r = opdbus.run("init", "--profile", "none", "-o", existing, check=2)
    assert r.stderr.startswith(f"op-dbus: error: init: cannot write {existing}: File exists;"), r.stderr
    assert existing.read_text() == "{}\n"


def test_syslog_prefix_only_when_stderr_is_the_journal(opdbus, tmp_path):
    """systemd names its journal stream in $JOURNAL_STREAM (device:inode);
    "<N>" is printed only while stderr is that stream."""
    existing = tmp_path / "existing.json"
    existing.write_text("{}\n")
    read, write = os.pipe()
    try:
        st = os.fstat(write)
        for stream, prefix in ((f"{st.st_dev}:{st.st_ino}", "<3>init: cannot write"),
                               (f"{st.st_dev}:{st.st_ino + 1}", "op-dbus: error: init: cannot write"),
                               ("garbage", "op-dbus: error: init: cannot write")):
            env = dict(opdbus.env, JOURNAL_STREAM=stream)
            proc = subprocess.run([opdbus.binary, "init", "--profile", "none", "-o", str(existing)],
                                  stdout=subprocess.DEVNULL, stderr=write, env=env, timeout=60)
            assert proc.returncode == 2
            line = os.read(read, 65536).decode()
            assert line.startswith(prefix), (stream, line)
            assert "File exists" in line
    finally:
        os.close(read)
        os.close(write)


# ---- JSON results that agree with the exit status ---------------------------------

# In-process: a daemon on the host's bus must not answer these runs.
IN_PROCESS = {"OPDBUS_NO_DAEMON": "1"}

BRIDGE = {"version": 1, "plugins": {"net": {"bridges": [{"name": "br0", "datapath_type": "netdev"}]}}}


def test_diff_json_says_drift_when_it_exits_3(ovs, opdbus, tmp_state):
    path = tmp_state(BRIDGE)
    r = opdbus.run("diff", "--json", path, check=3, json=True, env=IN_PROCESS)
    assert (r.json["ok"], r.json["status"], r.json["has_changes"]) == (False, "drift", True), r.stdout
    assert [c["path"] for c in r.json["changes"]] == ["bridge/br0"]
    r = opdbus.run("diff", path, check=3, env=IN_PROCESS)
    assert r.stdout.startswith("+ net/bridge/br0: "), r.stdout

    opdbus.run("apply", path, check=0, env=IN_PROCESS)
    r = opdbus.run("diff", "--json", path, check=0, json=True, env=IN_PROCESS)
    assert (r.json["ok"], r.json["status"], r.json["has_changes"], r.json["changes"]) == (True, "ok", False, [])


def test_plan_json_has_changes_but_changed_nothing(ovs, opdbus, tmp_state):
    """changed: something was written to the host; has_changes: the
    changes list (what would be, or was, done) is not empty."""
    path = tmp_state(BRIDGE)
    for verb in (("plan",), ("apply", "--dry-run")):
        r = opdbus.run(*verb, "--json", path, check=0, json=True, env=IN_PROCESS)
        assert (r.json["changed"], r.json["has_changes"], len(r.json["changes"])) == (False, True, 1), r.stdout
    assert ovs.vsctl("list-br").split() == []

    r = opdbus.run("apply", "--json", path, check=0, json=True, env=IN_PROCESS)
    assert (r.json["changed"], r.json["has_changes"]) == (True, True)
    r = opdbus.run("plan", "--json", path, check=0, json=True, env=IN_PROCESS)
    assert (r.json["changed"], r.json["has_changes"], r.json["changes"]) == (False, False, [])
    r = opdbus.run("apply", "--json", path, check=0, json=True, env=IN_PROCESS)
    assert (r.json["changed"], r.json["has_changes"]) == (False, False)


# ---- rollback --to --------------------------------------------------------------


@pytest.mark.parametrize("to", ["-1", "0", "3x", "", "4294967296"])
def test_rollback_to_refuses_what_is_not_a_generation(opdbus, to):
    r = opdbus.run("rollback", "--to", to, check=2, env=IN_PROCESS)
    assert r.stderr == (f'op-dbus: error: --to: "{to}" is not a generation number: expected one of those '
                        "'op-dbus checkpoints' lists, such as 3.\n")


def test_rollback_to_a_generation_that_is_not_stored(ovs, opdbus, tmp_state):
    r = opdbus.run("rollback", "--to", "7", check=2, env=IN_PROCESS)
    assert r.stderr == "error: there is no checkpoint 7: none is stored\n"
    opdbus.run("apply", tmp_state(BRIDGE), check=0, env=IN_PROCESS)
    two = {"version": 1, "plugins": {"net": {"bridges": [{"name": "br1", "datapath_type": "netdev"}]}}}
    opdbus.run("apply", tmp_state(two), check=0, env=IN_PROCESS)
    r = opdbus.run("rollback", "--to", "7", check=2, env=IN_PROCESS)
    assert r.stderr == "error: there is no checkpoint 7: the stored ones are 1..2 (op-dbus checkpoints lists them)\n"
    assert ovs.vsctl("list-br").split() == ["br1"]


# ---- restore-flows --bridge -------------------------------------------------------

FLOWS = {"version": 1, "plugins": {
    "net": {"bridges": [{"name": "br0", "datapath_type": "netdev"}, {"name": "br1", "datapath_type": "netdev"}]},
    "openflow": {"bridges": [{"name": "br0"}, {"name": "br1"}]}}}


def test_restore_flows_for_a_bridge_without_flows_is_an_error(ovs, opdbus, tmp_state):
    opdbus.run("apply", tmp_state(FLOWS), check=0, env=IN_PROCESS)
    r = opdbus.run("restore-flows", "--bridge", "nosuch", check=2, env=IN_PROCESS)
    assert r.stderr == ('error: plugins.openflow.bridges: no bridge "nosuch" among those the applied state '
                        "puts flows on (br0, br1)\n"), r.stderr
    assert "No changes" not in r.stdout
    r = opdbus.run("restore-flows", "--bridge", "br1", "--json", check=0, json=True, env=IN_PROCESS)
    assert r.json["status"] == "ok"


def test_restore_flows_when_the_applied_state_has_no_flows(ovs, opdbus, tmp_state):
    opdbus.run("apply", tmp_state(BRIDGE), check=0, env=IN_PROCESS)
    r = opdbus.run("restore-flows", "--bridge", "br0", check=2, env=IN_PROCESS)
    assert 'no bridge "br0" among those the applied state puts flows on (none)' in r.stderr, r.stderr


# ---- query prints a state document ------------------------------------------------

POPULATED = {"version": 1, "plugins": {
    "net": {"bridges": [{"name": "br0", "datapath_type": "netdev", "ports": [
        {"name": "p1", "type": "internal", "tag": 10},
        {"name": "p2", "type": "internal", "vlan_mode": "trunk", "trunks": [10, 20]}]}]},
    "openflow": {"obfuscation_level": 1, "bridges": [{"name": "br0", "flows": [
        {"table": 30, "priority": 100, "match_fields": {"dl_type": "0x0800", "nw_dst": "10.9.0.1"},
         "actions": [{"type": "drop"}]}]}]},
    "lxc": {"containers": [{"id": 301, "name": "ct301", "template": "debian-12", "state": "running",
                            "properties": {"memory": 256, "swap": 0, "rootfs_size": 1},
                            "network": {"bridge": "br0", "ipv4": "10.60.0.1/24", "hwaddr": "BC:24:11:00:03:01"}}]},
}}


@pytest.mark.ovs_log_allow(*OVS_LOG_ALLOW)
def test_query_prints_documents_that_validate(ovs, opdbus, pve_sim, start_daemon, tmp_state):  # noqa: F811
    """query and query --plugin P, in-process and through the daemon (whose
    QueryPlugin answers a bare section): the same state document, which
    validates; the whole of it, applied, changes nothing."""
    pve = pve_sim(ovs)
    local = {**pve.env(), **IN_PROCESS}
    opdbus.run("apply", tmp_state(POPULATED), check=0, env=local)
    daemon = start_daemon(env=pve.env())
    via_daemon = {**pve.env(), "DBUS_SYSTEM_BUS_ADDRESS": daemon.bus.address}

    for only in ([], ["--plugin", "net"], ["--plugin", "openflow"], ["--plugin", "lxc"],
                 ["--plugin", "netmaker"], ["--plugin", "openflow", "--plugin", "net"]):
        here = opdbus.run("query", *only, check=0, env=local)
        there = opdbus.run("query", *only, check=0, env=via_daemon)
        assert there.stdout == here.stdout, only
        doc = json.loads(here.stdout)
        assert set(doc) == {"version", "plugins"}
        assert set(doc["plugins"]) <= set(only[1::2] or POPULATED["plugins"]), only
        opdbus.run("validate", "-", input=here.stdout, check=0, env=local)
        if not only:
            plan = opdbus.run("plan", "--json", "-", input=here.stdout, check=0, json=True, env=local).json
            assert plan["has_changes"] is False, plan["changes"]
    assert set(json.loads(here.stdout)["plugins"]) == {"net", "openflow"}
    assert json.loads(opdbus.run("query", check=0, env=local).stdout)["plugins"]["lxc"]["containers"]

    for env in (local, via_daemon):
        r = opdbus.run("query", "--plugin", "nett", check=2, env=env)
        assert r.stderr.startswith('error: unknown plugin "nett", expected one of: '), r.stderr


# ---- --version, help [COMMAND] ----------------------------------------------------


def test_version_option_and_verb(opdbus):
    a = opdbus.run("--version", check=0).stdout
    assert re.fullmatch(r"op-dbus \d+\.\d+\.\d+\n", a), a
    assert opdbus.run("version", check=0).stdout == a


def test_help_lists_every_command_and_explains_each(opdbus):
    full = opdbus.run("--help", check=0).stdout
    assert opdbus.run("help", check=0).stdout == full
    commands = re.findall(r"^  ([a-z-]+)(?: |$)", full.split("\nCommands:\n")[1].split("\n\n")[0], re.M)
    assert {"init", "validate", "apply", "query", "rollback", "run", "version", "help"} <= set(commands)
    for verb in commands:
        r = opdbus.run("help", verb, check=0)
        assert r.stdout.startswith(f"Usage: op-dbus [OPTIONS] {verb}"), r.stdout
        assert len(r.stdout.splitlines()) >= 5, r.stdout
        # ... and the dispatcher knows it
        r = opdbus.run(verb, "x", "y", "z", env=IN_PROCESS)
        assert "Unknown command" not in r.stderr, (verb, r.stderr)
    r = opdbus.run("help", "nosuch", check=2)
    assert r.stderr == "op-dbus: error: help: unknown command \"nosuch\"; 'op-dbus help' lists them.\n"


# ---- -v ---------------------------------------------------------------------------


def test_verbose_shows_the_drivers_steps(ovs, opdbus, tmp_state):
    doc = {"version": 1, "plugins": {"net": {"bridges": [{"name": "br0", "datapath_type": "netdev",
                                                          "ports": [{"name": "p1", "type": "internal"}]}]},
                                     "openflow": {"bridges": [{"name": "br0"}]}}}
    path = tmp_state(doc)
    r = opdbus.run("-v", "apply", path, check=0, env=IN_PROCESS)
    lines = r.stderr.splitlines()
    assert lines and all(line.startswith("op-dbus: debug: ") for line in lines), r.stderr
    steps = [line[len("op-dbus: debug: "):] for line in lines]
    expected = [
        r"validate net: takes part", r"validate lxc: no section, left alone", r"validate openflow: takes part",
        r"validate: valid in [\d.]+ ms", r"lock \S+/apply\.lock: taken after [\d.]+ ms",
        r"query net: read in [\d.]+ ms", r"query openflow: read in [\d.]+ ms",
        r"diff net: 2 actions", r"diff openflow: 1 action",
        r"apply net: 2 actions, ([1-9]\d*) writes \(ovsdb_ops \1, flow_mods 0\), 0 commands, done in [\d.]+ ms",
        r"query openflow again, after the changes before it: read in [\d.]+ ms",
        r"apply openflow: 1 action, ([1-9]\d*) writes \(ovsdb_ops 0, flow_mods \1\), 0 commands, done in [\d.]+ ms",
        r"verify: the host matches, in [\d.]+ ms", r"checkpoint: stored generation 1",
    ]
    for pattern in expected:
        assert any(re.fullmatch(pattern, step) for step in steps), (pattern, r.stderr)

    r = opdbus.run("-v", "plan", path, check=0, env=IN_PROCESS)
    assert "op-dbus: debug: diff net: 0 actions" in r.stderr.splitlines(), r.stderr
    assert opdbus.run("apply", path, check=0, env=IN_PROCESS).stderr == ""
