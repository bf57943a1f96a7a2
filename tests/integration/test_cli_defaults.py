# SPDX-License-Identifier: LGPL-2.1-or-later
"""Everyday defaults of the command line (docs/cli.md): plan, apply, diff
and verify take $OPDBUS_STATE, else /etc/op-dbus/state.json, when no FILE
is given; init -o FILE --force replaces FILE and keeps the old one as
FILE.bak; plan and diff are in colour on a terminal, and only there."""

import json
import os
import subprocess

import pytest

pytest_plugins = ("router_fixture",)

EMPTY = {"version": 1, "plugins": {}}
GREEN, RED, YELLOW, OFF = "\033[32m", "\033[31m", "\033[33m", "\033[0m"


# ---- the default state file ------------------------------------------------------


def test_plan_apply_diff_verify_take_opdbus_state(opdbus, tmp_state):
    path = tmp_state(EMPTY)
    env = {"OPDBUS_STATE": str(path)}
    r = opdbus.run("plan", env=env, check=0)
    assert r.stdout == f"No changes: the host matches {path}.\n"
    r = opdbus.run("apply", "--json", env=env, check=0)
    assert json.loads(r.stdout)["generation"] == 1
    opdbus.run("diff", env=env, check=0)
    r = opdbus.run("verify", env=env, check=0)
    assert r.stdout == f"{path}: the host matches (generation 1).\n"
    # a FILE given wins over the variable
    r = opdbus.run("plan", tmp_state({"version": 1}, name="other.json"), env=env, check=0)
    assert "other.json" in r.stdout
    # validate still needs its FILE
    r = opdbus.run("validate", env=env, check=2)
    assert r.stderr == "op-dbus: error: validate: missing FILE (use '-' for standard input).\n"


@pytest.mark.parametrize("verb", ["plan", "apply", "diff", "verify"])
def test_a_missing_default_state_file_is_named(opdbus, tmp_path, verb):
    missing = tmp_path / "nosuch.json"
    r = opdbus.run(verb, env={"OPDBUS_STATE": str(missing)}, check=2)
    assert r.stderr == (f"op-dbus: error: {verb}: no FILE given, and the default state file {missing} does not "
                        "exist: name a FILE, or set $OPDBUS_STATE to one.\n")
    assert not (tmp_path / "opdbus" / "state" / "checkpoints").exists()


def test_the_default_is_etc_op_dbus_state_json(opdbus):
    """Without the variable (or with it empty) the node's file; on a node
    without one, the error names it."""
    for verb in ("plan", "apply", "diff", "verify"):
        assert "$OPDBUS_STATE, else /etc/op-dbus/state.json" in " ".join(opdbus.run("help", verb, check=0).stdout.split())
    if os.path.exists("/etc/op-dbus/state.json"):
        pytest.skip("this node has /etc/op-dbus/state.json")
    for value in (None, ""):
        env = dict(opdbus.env)
        env.pop("OPDBUS_STATE", None)
        if value is not None:
            env["OPDBUS_STATE"] = value
        r = subprocess.run([opdbus.binary, "plan"], env=env, capture_output=True, text=True, timeout=60)
        assert r.returncode == 2
        assert "the default state file /etc/op-dbus/state.json does not exist" in r.stderr, r.stderr


def test_op_router_takes_oprouter_state(oprouter, tmp_state, tmp_path):
    path = tmp_state(EMPTY)
    r = oprouter.run("plan", env={"OPROUTER_STATE": str(path)}, check=0)
    assert r.stdout == f"No changes: the host matches {path}.\n"
    r = oprouter.run("verify", env={"OPROUTER_STATE": str(tmp_path / "nosuch.json")}, check=2)
    assert "$OPROUTER_STATE" in r.stderr and "nosuch.json" in r.stderr


# ---- init --force --------------------------------------------------------------------


def test_init_force_replaces_and_keeps_the_old_file(opdbus, tmp_path):
    target = tmp_path / "state.json"
    target.write_text("{}\n")
    target.chmod(0o600)

    r = opdbus.run("init", "--profile", "none", "-o", target, check=2)
    assert "--force replaces it and keeps it as" in r.stderr
    assert target.read_text() == "{}\n"
    assert not (tmp_path / "state.json.bak").exists()

    r = opdbus.run("init", "--profile", "none", "-o", target, "--force", check=0)
    assert r.stderr == f"op-dbus: init: replaced {target}; the old one is {target}.bak.\n"
    assert (tmp_path / "state.json.bak").read_text() == "{}\n"
    assert json.loads(target.read_text())["plugins"]["net"]["bridges"][0]["name"] == "ovsbr0"
    assert target.stat().st_mode & 0o777 == 0o600
    opdbus.run("validate", target, check=0)

    # again: the .bak is the file just replaced
    first = target.read_text()
    opdbus.run("init", "--profile", "netmaker", "-o", target, "--force", check=0)
    assert (tmp_path / "state.json.bak").read_text() == first
    assert "mesh" in target.read_text()
    assert sorted(p.name for p in tmp_path.iterdir() if p.name.startswith("state")) == ["state.json",
                                                                                       "state.json.bak"]


def test_init_force_without_an_existing_file_just_writes_it(opdbus, tmp_path):
    target = tmp_path / "new.json"
    opdbus.run("init", "--profile", "none", "-o", target, "--force", check=0)
    opdbus.run("validate", target, check=0)
    assert not (tmp_path / "new.json.bak").exists()


def test_init_force_leaves_a_directory_alone(opdbus, tmp_path):
    target = tmp_path / "dir.json"
    target.mkdir()
    r = opdbus.run("init", "--profile", "none", "-o", target, "--force", check=2)
    assert r.stderr == f"op-dbus: error: init: {target} is not a regular file; not replacing it.\n"
    assert target.is_dir() and not (tmp_path / "dir.json.bak").exists()


def test_list_profiles_and_plugins(opdbus, oprouter):
    assert opdbus.run("init", "--list-profiles", check=0).stdout.split() == [
        "netmaker", "none", "privacy-client", "privacy-vps"]
    assert opdbus.run("--list-plugins", check=0).stdout.split() == ["net", "lxc", "openflow", "netmaker", "ovn"]
    assert oprouter.run("--list-plugins", check=0).stdout.split() == ["interfaces", "routes", "wireguard", "firewall"]


# ---- colour ----------------------------------------------------------------------------


def on_pty(binary, args, env):
    """Runs binary with standard output on a pseudo-terminal; its output
    with the terminal's line ends made \\n, and the exit status."""
    master, slave = os.openpty()
    try:
        proc = subprocess.Popen([binary, *map(str, args)], stdin=subprocess.DEVNULL, stdout=slave,
                                stderr=subprocess.DEVNULL, env=env)
    finally:
        os.close(slave)
    out = b""
    try:
        while True:
            try:
                chunk = os.read(master, 65536)
            except OSError:  # EIO: the child closed the terminal
                break
            if not chunk:
                break
            out += chunk
    finally:
        os.close(master)
    return out.decode().replace("\r\n", "\n"), proc.wait(timeout=60)


BEFORE = {"version": 1, "plugins": {"net": {"bridges": [{"name": "br0", "datapath_type": "netdev", "ports": [
    {"name": "p1", "type": "internal", "tag": 10},
    {"name": "p2", "type": "internal"},
]}]}}}
AFTER = {"version": 1, "plugins": {"net": {"bridges": [{"name": "br0", "datapath_type": "netdev", "ports": [
    {"name": "p1", "type": "internal", "tag": 20},
    {"name": "p3", "type": "internal"},
]}]}}}


def coloured_lines(text):
    """{colour: [lines]} of the lines that start with a colour."""
    out = {}
    for line in text.splitlines():
        for colour in (GREEN, RED, YELLOW):
            if line.startswith(colour):
                assert line.endswith(OFF), repr(line)
                out.setdefault(colour, []).append(line)
    return out


@pytest.fixture
def changed(ovs, opdbus, tmp_state):
    """A bridge applied as BEFORE, and AFTER's file: p3 added, p2 removed,
    p1's tag changed."""
    opdbus.run("apply", tmp_state(BEFORE), check=0)
    return tmp_state(AFTER)


def test_plan_and_diff_in_colour_on_a_terminal(opdbus, changed):
    env = dict(opdbus.env, TERM="xterm")
    env.pop("NO_COLOR", None)
    plan, status = on_pty(opdbus.binary, ["plan", changed], env)
    assert status == 0
    lines = coloured_lines(plan)
    assert len(lines[GREEN]) == 1 and "bridge/br0/port/p3" in lines[GREEN][0], plan
    assert len(lines[RED]) == 1 and "bridge/br0/port/p2" in lines[RED][0], plan
    assert len(lines[YELLOW]) == 1 and "bridge/br0/port/p1" in lines[YELLOW][0], plan

    diff, status = on_pty(opdbus.binary, ["diff", changed], env)
    assert status == 3
    lines = coloured_lines(diff)
    assert lines[GREEN] == [f"{GREEN}+ net/bridge/br0/port/p3: " + lines[GREEN][0].split(": ", 1)[1]]
    assert lines[RED][0].startswith(f"{RED}- net/bridge/br0/port/p2")
    assert lines[YELLOW][0].startswith(f"{YELLOW}~ net/bridge/br0/port/p1")

    # the same text as without colour
    piped = opdbus.run("diff", changed, check=3).stdout
    assert diff.replace(GREEN, "").replace(RED, "").replace(YELLOW, "").replace(OFF, "") == piped
    assert "\033" not in piped and "\033" not in opdbus.run("plan", changed, check=0).stdout


@pytest.mark.parametrize("how", ["NO_COLOR=1", "NO_COLOR=", "TERM=dumb", "--json"])
def test_no_colour(opdbus, changed, how):
    env = dict(opdbus.env, TERM="xterm")
    env.pop("NO_COLOR", None)
    args = []
    if how == "--json":
        args = ["--json"]
    else:
        name, value = how.split("=")
        env[name] = value
    for verb in ("plan", "diff"):
        out, status = on_pty(opdbus.binary, [verb, *args, changed], env)
        assert status == (0 if verb == "plan" else 3)
        assert "p3" in out and "\033" not in out, (how, out)
