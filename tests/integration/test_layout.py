# SPDX-License-Identifier: LGPL-2.1-or-later
"""The layers of the tree (docs/hacking.md): the reconciler core speaks no
product's words, the daemon names no plugin and nothing they drive, and
the libraries, the core and the daemon include nothing from the layers
above them."""

import re
from pathlib import Path

ROOT = Path(__file__).resolve().parents[2]

# Words of the host product's world: Open vSwitch, OpenFlow, Proxmox,
# containers and what runs in them.
PRODUCT_WORDS = re.compile(
    r"\b(ovs\w*|ovsdb\w*|openflow\w*|vswitch\w*|bridges?|flows?|proxmox|pve\w*|pct|lxc\w*|"
    r"containers?|netmaker|wireguard|xray|warp)\b", re.I)


def include_names(path):
    return re.findall(r'^#include "([^"]+)"', path.read_text(), re.M)


def test_core_headers_speak_no_products_words():
    found = []
    for header in sorted((ROOT / "agent/core").glob("*.h")):
        for n, line in enumerate(header.read_text().splitlines(), 1):
            for m in PRODUCT_WORDS.finditer(line):
                found.append(f"{header.relative_to(ROOT)}:{n}: {m.group(0)!r} in: {line.strip()}")
    assert not found, "\n".join(found)


def test_core_includes_only_the_core():
    core = {p.name for p in (ROOT / "agent/core").glob("*.h")}
    found = [f"{src.relative_to(ROOT)} includes {name}"
             for src in sorted((ROOT / "agent/core").glob("*.[ch]"))
             for name in include_names(src) if name not in core]
    assert not found, "\n".join(found)


def test_libraries_include_only_the_core_and_themselves():
    core = {p.name for p in (ROOT / "agent/core").glob("*.h")}
    found = []
    for lib in sorted(p for p in (ROOT / "agent/lib").iterdir() if p.is_dir()):
        own = {p.name for p in lib.glob("*.h")}
        for src in sorted(lib.glob("*.[ch]")):
            for name in include_names(src):
                if name not in core and name not in own:
                    found.append(f"{src.relative_to(ROOT)} includes {name}")
    assert not found, "\n".join(found)


def test_no_program_of_the_product_runs_ovs_vsctl():
    """op-dbus speaks OVSDB itself (docs/ovsdb.md): no C source builds a
    command line of ovs-vsctl. (LXC runs it for its own veths.)"""
    found = [f"{src.relative_to(ROOT)}:{n}: {line.strip()}"
             for top in ("agent", "plugins")
             for src in sorted((ROOT / top).rglob("*.[ch]"))
             for n, line in enumerate(src.read_text().splitlines(), 1)
             if '"ovs-vsctl"' in line]
    assert not found, "\n".join(found)


# The host product's plugins and what they drive; the daemon knows neither
# (the plugins offer their event sources through PluginVTable.watch).
DAEMON_WORDS = re.compile(
    r"\b(lxc\w*|openflow\w*|net|netmaker\w*|ovs\w*|ovsdb\w*|vswitch\w*|flows?|bridges?|containers?|"
    r"pct|proxmox|pve\w*)\b", re.I)


def test_daemon_names_no_plugin_and_no_ovs():
    found = [f"{src.relative_to(ROOT)}:{n}: {m.group(0)!r} in: {line.strip()}"
             for src in sorted((ROOT / "agent/daemon").rglob("*"))
             if src.is_file() and (src.suffix in (".c", ".h") or src.name == "meson.build")
             for n, line in enumerate(src.read_text().splitlines(), 1)
             for m in DAEMON_WORDS.finditer(line)]
    assert not found, "\n".join(found)


def test_daemon_includes_only_the_core_and_itself():
    core = {p.name for p in (ROOT / "agent/core").glob("*.h")}
    own = {p.name for p in (ROOT / "agent/daemon").rglob("*.h")}
    found = [f"{src.relative_to(ROOT)} includes {name}"
             for src in sorted((ROOT / "agent/daemon").rglob("*.[ch]"))
             for name in include_names(src) if name not in core and name not in own]
    assert not found, "\n".join(found)
