# SPDX-License-Identifier: LGPL-2.1-or-later
"""The examples in the documentation are real: every JSON state example
validates, the README's example applies to a real Open vSwitch, the
commands of every ```sh block run (see test_sh_blocks_run), and cli.md and
the dependency lists agree with the program and its build."""

import json
import os
import re
import stat
import subprocess
from pathlib import Path

import pytest

ROOT = Path(__file__).resolve().parents[2]
STATE_KEYS = {"version", "plugins", "net", "openflow", "lxc", "netmaker", "ovn"}

pytest_plugins = ("router_fixture",)


def json_blocks(path):
    return [m.group(1) for m in re.finditer(r"```json\n(.*?)```", path.read_text(), re.S)]


def state_examples(path):
    """JSON blocks that are state documents (not results or fragments)."""
    out = []
    for block in json_blocks(path):
        data = json.loads(block)
        if isinstance(data, dict) and data and set(data) <= STATE_KEYS and "ok" not in data:
            out.append(data)
    return out


DOCS = [ROOT / "README.md", *sorted((ROOT / "docs").glob("*.md"))]


@pytest.mark.parametrize("doc", DOCS, ids=lambda p: p.name)
def test_json_blocks_parse(doc):
    for block in json_blocks(doc):
        json.loads(block)


# Pages whose states are op-router's (router_fixture), not op-dbus's.
ROUTER_DOCS = {"router.md"}


@pytest.mark.parametrize("doc", DOCS, ids=lambda p: p.name)
def test_state_examples_validate(doc, request, tmp_state):
    program = request.getfixturevalue("oprouter" if doc.name in ROUTER_DOCS else "opdbus")
    if doc.name in ROUTER_DOCS:
        program.write_secrets(*state_examples(doc))
    for example in state_examples(doc):
        r = program.run("validate", tmp_state(example))
        assert r.returncode == 0, f"{doc.name}: {json.dumps(example)}\n{r.stderr}"


def test_readme_example_applies(ovs, opdbus, tmp_state):
    (example,) = state_examples(ROOT / "README.md")
    path = tmp_state(example)
    opdbus.run("apply", path, check=0)
    opdbus.run("verify", path, check=0)
    assert set(ovs.vsctl("list-ports", "ovsbr0").split()) == {"uplink0", "trunk0"}


# ---- docs/cli.md against the program ------------------------------------------------


def help_entries(opdbus):
    """(command and usage, summary) for each command `op-dbus --help` lists."""
    text = opdbus.run("--help", check=0).stdout.split("\nCommands:\n")[1].split("\n\n")[0]
    entries, usage = [], None
    for line in text.splitlines():
        m = re.match(r"  (\S.*?)(?: {2,}(\S.*))?$", line)
        if m and not line.startswith("   "):
            usage = m.group(1)
            if m.group(2):
                entries.append((usage, m.group(2)))
        elif usage:
            entries.append((usage, line.strip()))
    return entries


def test_cli_md_lists_every_command_as_help_does(opdbus):
    cli = (ROOT / "docs" / "cli.md").read_text()
    entries = help_entries(opdbus)
    assert len(entries) >= 14
    for usage, _ in entries:
        assert f"| `{usage}` |" in cli, f"docs/cli.md has no row for `{usage}`"
    (profiles,) = [re.search(r"\(profiles: (.*)\)", s).group(1) for u, s in entries if u.startswith("init ")]
    (init_row,) = [line for line in cli.splitlines() if line.startswith("| `init ")]
    for name in profiles.split(", "):
        assert f"`{name}`" in init_row, f"the init row of docs/cli.md does not name profile {name}"


# ---- the dependency lists against meson.build ----------------------------------------

# what meson setup needs: an optional dependency (required : false, such as
# bash-completion's directory) is not among them
MESON_DEPENDENCY = re.compile(r"dependency\('([^']+)'(?!\s*,\s*required\s*:\s*false)")
FROM_LIBC = {"threads", "dl"}
BUILD_TOOLS = {"meson", "ninja-build", "pkg-config", "gcc", "libc6-dev", "python3"}


def meson_packages():
    """The Debian package of each pkg-config dependency in the meson.build
    files: the owner of its .pc file on this (Debian) machine."""
    names = set()
    for f in ROOT.rglob("meson.build"):
        if not any(part.startswith("build") for part in f.relative_to(ROOT).parts[:-1]):
            names |= set(MESON_DEPENDENCY.findall(f.read_text()))
    packages = {}
    for name in sorted(names - FROM_LIBC):
        pcdir = subprocess.run(["pkg-config", "--variable=pcfiledir", name],
                               capture_output=True, text=True).stdout.strip()
        assert pcdir, f"pkg-config does not know {name}, which a meson.build needs"
        owner = subprocess.run(["dpkg-query", "-S", f"{pcdir}/{name}.pc"], capture_output=True, text=True)
        assert owner.returncode == 0, owner.stderr
        packages[name] = owner.stdout.split(":")[0]
    return packages


def shell_array(path, name):
    """The words of the bash array NAME=( ... ), without comments."""
    words = []
    text = path.read_text().split(f"\n{name}=(", 1)[1]
    for line in text.splitlines():
        code = line.split("#")[0]
        words += code.split(")")[0].split()
        if ")" in code:
            return set(words)
    raise AssertionError(f"{path}: {name}=( does not end")


def package_lists():
    install_md = (ROOT / "docs" / "install.md").read_text()
    systemd_md = (ROOT / "docs" / "systemd.md").read_text()
    return {
        "docs/install.md": set(re.search(r"Debian packages is missing\s*\(`--no-deps` skips it\):\s*`([^`]+)`",
                                         install_md).group(1).split()),
        "docs/systemd.md": set(re.search(r"apt-get install ((?:[^\n\\]|\\\n)+)", systemd_md)
                               .group(1).replace("\\\n", " ").split()),
        "install.sh": shell_array(ROOT / "install.sh", "PACKAGES"),
        "tests/deps.sh": shell_array(ROOT / "tests" / "deps.sh", "PACKAGES"),
    }


def test_package_lists_have_what_meson_setup_needs():
    needed = meson_packages()
    assert {"json-c", "libsystemd", "libnl-3.0", "libcurl"} <= set(needed)
    lists = package_lists()
    for where, packages in lists.items():
        missing = sorted((set(needed.values()) | BUILD_TOOLS) - packages)
        assert not missing, f"{where} does not list {missing} (meson.build needs {needed})"
    assert lists["docs/install.md"] == lists["install.sh"], "docs/install.md lists other packages than install.sh"


# ---- the ```sh blocks, run -------------------------------------------------------------
#
# Every ```sh block of README.md and docs/*.md is run as a sequence of
# commands (one per line, `\` continues a line), in page order, on a
# sandboxed node: a private Open vSwitch, op-dbus without the daemon, and a
# directory standing for the node's root, where "/etc/op-dbus" of a command
# points to. The node is one install.sh set up: /etc/op-dbus/state.json is
# the 'none' profile, applied. Each command must exit 0, or the status a
# "# expect: exit N" comment above it names. Not run are:
#   - a block right after a line "<!-- not run by test_docs: REASON -->";
#   - `op-dbus run` (the daemon: test_dbus.py, test_dbus_docs.py);
#   - docs/dbus.md, whose busctl commands test_dbus_docs.py runs.
# Commands that would reach the host (sudo, apt-get, systemctl, pct, ...)
# fail in the sandbox: their blocks must be marked.

NOT_RUN_MARK = re.compile(r"^<!-- not run by test_docs: (.+) -->$")
HOST_COMMANDS = ("sudo", "apt-get", "systemctl", "pct", "pveam", "curl", "busctl", "usermod",
                 "meson", "ninja", "ovs-vsctl", "lxc-start", "lxc-attach", "install.sh")
# ... of which these are stubs in the sandbox (op-dbus itself runs the others)
STUBBED = ("sudo", "apt-get", "systemctl", "curl", "busctl", "usermod", "meson", "ninja")
PLACEHOLDER = re.compile(r"<[a-z][^<>]*>")


def sh_commands(path):
    """(line, command, expected exit status) of the blocks that are run, and
    (line, reason) of those that are not."""
    run, skipped = [], []
    lines = path.read_text().splitlines()
    i = 0
    while i < len(lines):
        if lines[i].strip() != "```sh":
            i += 1
            continue
        m = NOT_RUN_MARK.match(lines[i - 1].strip()) if i > 0 else None
        start, i = i + 1, i + 1
        block = []
        while lines[i].strip() != "```":
            block.append((i + 1, lines[i]))
            i += 1
        if m:
            skipped.append((start, m.group(1)))
            continue
        expect, k = 0, 0
        while k < len(block):
            n, line = block[k]
            while line.rstrip().endswith("\\") and k + 1 < len(block):
                k += 1
                line = line.rstrip()[:-1] + " " + block[k][1].strip()
            k += 1
            text = line.strip()
            if not text:
                continue
            if text.startswith("#"):
                m = re.fullmatch(r"#\s*expect: exit (\d+)", text)
                if m:
                    expect = int(m.group(1))
                continue
            if not re.match(r"op-dbus(\s+-\S+)*\s+run\b", text):
                run.append((n, text, expect))
            expect = 0
    return run, skipped


RUN_DOCS = [p for p in DOCS if p.name != "dbus.md"]
WITH_COMMANDS = [p for p in RUN_DOCS if sh_commands(p)[0]]


def test_sh_blocks_are_run_or_say_why_not():
    for doc in RUN_DOCS:
        commands, skipped = sh_commands(doc)
        for n, reason in skipped:
            assert reason.strip(), f"{doc.name}:{n}: a block not run must say why"
        for n, command, _ in commands:
            first = command.split()[0]
            assert first not in HOST_COMMANDS and not first.startswith("./"), (
                f"{doc.name}:{n}: `{command}` would reach the host: mark its block "
                "<!-- not run by test_docs: REASON -->")
            assert not PLACEHOLDER.search(command), (
                f"{doc.name}:{n}: `{command}` has a placeholder: mark its block")


def sandbox_node(ovs, opdbus, root):
    """A node as install.sh leaves it, below root; returns the environment
    its commands run with."""
    bindir = root / "bin"
    bindir.mkdir(parents=True)
    (bindir / "op-dbus").symlink_to(opdbus.binary)
    for name in STUBBED:
        stub = bindir / name
        stub.write_text(f"#!/bin/sh\necho 'test_docs: {name} is not run in the docs sandbox' >&2\nexit 127\n")
        stub.chmod(0o755)
    env = dict(opdbus.env, OPDBUS_NO_DAEMON="1", PATH=f"{bindir}:{os.environ['PATH']}")
    etc = root / "etc" / "op-dbus"
    etc.mkdir(parents=True)
    state = etc / "state.json"
    subprocess.run(["op-dbus", "init", "--profile", "none", "-o", state], env=env, check=True,
                   capture_output=True)
    subprocess.run(["op-dbus", "apply", state], env=env, check=True, capture_output=True)
    assert stat.S_IMODE(state.stat().st_mode) == 0o600
    return env


def test_sh_blocks_that_run():
    assert {p.name for p in WITH_COMMANDS} >= {"README.md", "profiles.md", "state.md", "flows.md"}


@pytest.mark.parametrize("doc", WITH_COMMANDS, ids=lambda p: p.name)
def test_sh_blocks_run(doc, ovs, opdbus, tmp_path):
    commands, _ = sh_commands(doc)
    root = tmp_path / "node"
    env = sandbox_node(ovs, opdbus, root)
    cwd = tmp_path / "cwd"
    cwd.mkdir()
    for n, command, expect in commands:
        here = command.replace("/etc/op-dbus", str(root / "etc" / "op-dbus"))
        r = subprocess.run(["bash", "-c", "set -o pipefail\n" + here], cwd=cwd, env=env,
                           capture_output=True, text=True, timeout=120, stdin=subprocess.DEVNULL)
        assert r.returncode == expect, (f"{doc.name}:{n}: `{command}` exited {r.returncode}, expected {expect}\n"
                                        f"stdout: {r.stdout[-2000:]}\nstderr: {r.stderr[-2000:]}")
