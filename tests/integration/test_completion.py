# SPDX-License-Identifier: LGPL-2.1-or-later
"""Bash completion (completion/op-dbus, completion/op-router, each after
completion/op-complete.bash: the files the build makes and installs, in
build-test/completion), loaded into bash with bash-completion and asked to complete through COMP_WORDS,
COMP_CWORD and COMPREPLY: commands, options (per command), profile and
plugin names, the generations of rollback --to from real checkpoints (with
the --state-dir of the command line), files where a FILE goes. Commands and
options are compared with --help, so that completion cannot fall behind."""

import os
import re
import shlex
import subprocess
from pathlib import Path

import pytest

ROOT = Path(__file__).resolve().parents[2]
BASH_COMPLETION = Path("/usr/share/bash-completion/bash_completion")
BUILD_DIR = Path(os.environ.get("OPDBUS_BUILD_DIR") or ROOT / "build-test")

pytest_plugins = ("router_fixture",)


def complete(program, words, cwd, env):
    """COMPREPLY for the command line words (the last one is completed),
    with program as COMP_WORDS[0], from the program's completion file."""
    name = Path(program.binary).name
    function = "_op_dbus" if name == "op-dbus" else "_op_router"
    words = [program.binary, *map(str, words)]
    line = " ".join(words)
    script = f"""
source {shlex.quote(str(BASH_COMPLETION))}
source {shlex.quote(str(BUILD_DIR / "completion" / name))}
COMP_WORDS=({" ".join(shlex.quote(w) for w in words)})
COMP_CWORD={len(words) - 1}
COMP_LINE={shlex.quote(line)}
COMP_POINT={len(line)}
COMPREPLY=()
{function}
printf '%s\\n' "${{COMPREPLY[@]}}"
"""
    r = subprocess.run(["bash", "--norc", "--noprofile", "-c", script], cwd=cwd, env=env, capture_output=True,
                       text=True, timeout=60)
    assert r.returncode == 0 and r.stderr == "", r.stderr
    return [w for w in r.stdout.split("\n") if w]


@pytest.fixture(autouse=True)
def needs_bash_completion():
    if not BASH_COMPLETION.exists():
        pytest.fail("bash-completion is not installed (tests/deps.sh installs it)", pytrace=False)


def help_commands(program):
    block = program.run("--help", check=0).stdout.split("\nCommands:\n")[1].split("\n\n")[0]
    return re.findall(r"^  ([a-z-]+)(?: |$)", block, re.M)


def options_in(text):
    return set(re.findall(r"(?<![\w-])(--?[a-zA-Z][\w-]*)", text))


@pytest.mark.parametrize("name", ["op-dbus", "op-router"])
def test_commands_and_options_are_those_of_help(name, request, tmp_path):
    program = request.getfixturevalue("opdbus" if name == "op-dbus" else "oprouter")
    comp = lambda *words: complete(program, words, tmp_path, program.env)  # noqa: E731
    verbs = help_commands(program)
    assert comp("") == verbs
    assert comp("ch") == ["checkpoints"]
    assert comp("--json", "--state-dir", tmp_path, "pl") == ["plan"]
    assert comp("help", "v") == [v for v in verbs if v.startswith("v")]

    full = program.run("--help", check=0).stdout
    offered = set(comp("--"))
    assert options_in(full.split("\nOptions:\n")[1]) - {"-h", "-v"} <= offered
    for verb in verbs:
        usage = program.run("help", verb, check=0).stdout.splitlines()[0]
        wanted = options_in(usage.split(f" {verb}", 1)[1]) - {"-o"}
        offered = set(comp(verb, "--"))
        assert wanted <= offered, (verb, wanted - offered)
    if name == "op-dbus":
        assert "--list-profiles" in comp("init", "--")
    # per command: what only another command takes is not offered
    assert "--allow-outage" in comp("apply", "--a") and "--to" not in comp("apply", "--")
    assert "--to" in comp("rollback", "--t") and "--dry-run" not in comp("rollback", "--")


def test_profiles_plugins_and_placeholders(opdbus, oprouter, tmp_path):
    comp = lambda *words: complete(opdbus, words, tmp_path, opdbus.env)  # noqa: E731
    profiles = opdbus.run("init", "--list-profiles", check=0).stdout.split()
    assert comp("init", "--profile", "") == profiles
    assert comp("init", "--profile", "pri") == ["privacy-client", "privacy-vps"]
    assert comp("--plugin", "") == ["net", "lxc", "openflow", "netmaker", "ovn"]
    assert comp("plan", "--plugin", "op") == ["openflow"]
    assert comp("init", "--set", "vps") == ["vps_ip=", "vps_public_ip="]
    assert "--force" in comp("init", "--profile", "none", "-o", "x.json", "--f")
    assert complete(oprouter, ["query", "--plugin", ""], tmp_path, oprouter.env) == \
        ["interfaces", "routes", "wireguard", "firewall"]


def test_files_where_a_file_goes(opdbus, oprouter, tmp_path):
    work = tmp_path / "work"
    work.mkdir()
    (work / "state.json").write_text("{}")
    (work / "states").mkdir()
    (work / "other.txt").write_text("")
    comp = lambda *words: complete(opdbus, words, work, opdbus.env)  # noqa: E731
    for verb in ("validate", "plan", "apply", "diff", "verify"):
        assert sorted(comp(verb, "sta")) == ["state.json", "states"], verb
    assert sorted(comp("run", "--state", "st")) == ["state.json", "states"]
    assert sorted(comp("init", "--profile", "none", "-o", "o")) == ["other.txt"]
    assert comp("--state-dir", "s") == ["states"]  # directories only
    assert comp("query", "sta") == []  # query takes no FILE
    assert sorted(complete(oprouter, ["run", "st"], work, oprouter.env)) == ["state.json", "states"]


BRIDGE = {"version": 1, "plugins": {"net": {"bridges": [{"name": "br0", "datapath_type": "netdev"}]}}}
TWO = {"version": 1, "plugins": {"net": {"bridges": [
    {"name": "br0", "datapath_type": "netdev"}, {"name": "br1", "datapath_type": "netdev"}]}}}


def test_rollback_to_offers_the_generations_of_the_state_dir(ovs, opdbus, tmp_state, tmp_path):
    """Three real generations in a state directory named on the command
    line; the environment's state directory has none."""
    mine = tmp_path / "my-state"
    for state in (BRIDGE, TWO, BRIDGE):
        opdbus.run("apply", "--allow-outage", "--state-dir", mine, tmp_state(state), check=0)
    listed = opdbus.run("checkpoints", "--json", "--state-dir", mine, check=0).stdout
    assert re.findall(r'"generation": (\d+)', listed) == ["1", "2", "3"]

    comp = lambda *words: complete(opdbus, words, tmp_path, opdbus.env)  # noqa: E731
    assert comp("--state-dir", mine, "rollback", "--to", "") == ["1", "2", "3"]
    assert comp("rollback", "--state-dir", mine, "--to", "2") == ["2"]
    assert comp(f"--state-dir={mine}", "rollback", "--to", "") == ["1", "2", "3"]
    # without --state-dir: the environment's ($OPDBUS_STATE_DIR), which has none
    assert comp("rollback", "--to", "") == []
    env = dict(opdbus.env, OPDBUS_STATE_DIR=str(mine))
    assert complete(opdbus, ["rollback", "--to", ""], tmp_path, env) == ["1", "2", "3"]
