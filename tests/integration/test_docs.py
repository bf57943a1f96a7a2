# SPDX-License-Identifier: LGPL-2.1-or-later
"""The examples in the documentation are real: every JSON state example
validates, and the README's example applies to a real Open vSwitch."""

import json
import re
import subprocess
from pathlib import Path

import pytest

ROOT = Path(__file__).resolve().parents[2]
STATE_KEYS = {"version", "plugins", "net", "openflow", "lxc", "netmaker"}


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


@pytest.mark.parametrize("doc", DOCS, ids=lambda p: p.name)
def test_state_examples_validate(doc, opdbus, tmp_state):
    for example in state_examples(doc):
        r = opdbus.run("validate", tmp_state(example))
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

MESON_DEPENDENCY = re.compile(r"dependency\('([^']+)'")
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
    assert {"json-c", "libsystemd", "libnl-3.0", "libnl-route-3.0", "libcurl"} <= set(needed)
    lists = package_lists()
    for where, packages in lists.items():
        missing = sorted((set(needed.values()) | BUILD_TOOLS) - packages)
        assert not missing, f"{where} does not list {missing} (meson.build needs {needed})"
    assert lists["docs/install.md"] == lists["install.sh"], "docs/install.md lists other packages than install.sh"
