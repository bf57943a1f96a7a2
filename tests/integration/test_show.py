# SPDX-License-Identifier: LGPL-2.1-or-later
"""op-dbus show (docs/cli.md#show): the picture of a node built here, the
privacy chain of test_privacy_chain.py on the Proxmox test double and the
OVS sandbox. The text and the JSON name every bridge, port and container
and the chain's steering; the per-table counters are those Open vSwitch
reports; the SVG Graphviz draws holds a node for each object and an edge
for each steering policy, and headless Chromium renders it to a PNG that
is printed for a person to look at. show changes nothing, and says so on a
node where nothing was applied."""

import json
import os
import re
import shutil
import signal
import struct
import subprocess
import xml.etree.ElementTree as ET
import zlib
from pathlib import Path

import pytest

from netlab import flow_stats, lab  # noqa: F401  (the fixture)
from pve_fixture import pve_sim, pve_templates  # noqa: F401
from test_privacy_chain import SOCKET_PORTS_LOG, chain, node  # noqa: F401

pytestmark = SOCKET_PORTS_LOG

CONTAINERS = {100: "wireguard-gateway", 101: "warp-tunnel", 102: "xray-client"}
STEERING = {("wireguard-to-warp", "internal_100", "internal_101"),
            ("warp-to-xray", "internal_101", "internal_102"),
            ("xray-to-internet", "internal_102", "NORMAL")}
PIPELINE_TABLES = {0, 2, 3, 5, 8, 9, 10, 20}
SVG_NS = "{http://www.w3.org/2000/svg}"


def show(node, opdbus, *args, check=0):
    """op-dbus show in the sandbox's namespace (the chain fixture's wrapper), on the simulated node."""
    return opdbus.run("show", *args, check=check, json="--json" in args, env=node.env, timeout=180)


def bridges_and_ports(ovs):
    """{bridge: {its ports, the bridge's own port included}} as ovs-vsctl sees them."""
    return {br: set(ovs.vsctl("list-ports", br).split()) | {br} for br in ovs.vsctl("list-br").split()}


def traffic(node):
    """Packets through each policy, and some that level 3 drops (IPv6 from chain members)."""
    assert node.ping(100, "10.0.0.101")
    assert node.ping(101, "10.0.0.102")
    assert node.ping(102, "10.0.0.1")
    node.pve.pct("exec", 100, "--", "ping6", "-c", "2", "-W", "1", "-I", "eth0", "ff02::1")


def table_counters(ovs, bridge="ovsbr0"):
    """{table: (packets, dropped packets, flows)} of op-dbus's flows, from ovs-ofctl."""
    out = {}
    for cookie, s in flow_stats(ovs, bridge).items():
        if cookie >> 48 not in (0xdead, 0xcafe, 0xbeef, 0xd0b5, 0xf10c, 0xface):
            continue
        table = int(re.search(r"table=(\d+)", s["line"]).group(1)) if "table=" in s["line"] else 0
        packets, drops, flows = out.get(table, (0, 0, 0))
        out[table] = (packets + s["n_packets"], drops + (s["n_packets"] if s["line"].endswith("actions=drop") else 0),
                      flows + 1)
    return out


def test_text_and_json_name_every_object_and_the_steering(chain, opdbus):
    node, _ = chain
    traffic(node)
    before = table_counters(node.ovs)
    text = show(node, opdbus).stdout
    view = show(node, opdbus, "--json").json
    after = table_counters(node.ovs)
    print(f"\n--- op-dbus show ---\n{text}")

    live = bridges_and_ports(node.ovs)
    assert "uplink0" in live["ovsbr0"]
    for bridge, ports in live.items():
        assert f"Bridge {bridge}:" in text
        for port in ports:
            assert f"Port {port}:" in text, port
    for vmid, name in CONTAINERS.items():
        assert re.search(rf"^        {vmid} {name}: running, on ovsbr0 port internal_{vmid}$", text, re.M), text
        assert f"internal_{vmid} on ovsbr0: eth0 of container {vmid}" in text
    for policy, src, dst in STEERING:
        assert re.search(rf"^            {policy}: {src} -> {dst}, table 10, \d+ packets?$", text, re.M), text
    assert text.startswith("Applied generation 1\n")

    assert view["generation"] == 1
    assert {b["name"]: {p["name"] for p in b["ports"]} for b in view["bridges"]} == live
    (br,) = [b for b in view["bridges"] if b["name"] == "ovsbr0"]
    assert (br["datapath_type"], br["fail_mode"], br["owner"]) == ("netdev", "secure", "op-dbus")
    ports = {p["name"]: p for p in br["ports"]}
    for vmid in CONTAINERS:
        p = ports[f"internal_{vmid}"]
        assert (p["type"], p["owner"], p["container"], p["container_interface"]) == \
            ("internal", "op-dbus-lxc", vmid, "eth0")
        assert p["ofport"] == int(node.ovs.vsctl("get", "Interface", f"internal_{vmid}", "ofport"))
    assert ports["uplink0"]["container"] is None
    assert {(c["id"], c["name"], c["state"], c["port"], c["socket_networking"]) for c in view["containers"]} == \
        {(vmid, name, "running", f"internal_{vmid}", True) for vmid, name in CONTAINERS.items()}
    assert {(s["policy"], s["from"], s["to"]) for s in br["steering"]} == STEERING
    assert all(s["packets"] > 0 for s in br["steering"]), br["steering"]

    # the counters are Open vSwitch's, read between two dumps of ovs-ofctl
    tables = {t["table"]: t for t in br["pipeline"]["tables"]}
    assert set(tables) == PIPELINE_TABLES
    assert br["pipeline"]["obfuscation_level"] == 3
    for number, t in tables.items():
        assert before[number][0] <= t["packets"] <= after[number][0], (number, t, before, after)
        assert before[number][1] <= t["drops"] <= after[number][1], (number, t, before, after)
        assert t["flows"] == before[number][2] == after[number][2], (number, t, before)
    assert tables[9]["drops"] > 0          # the IPv6 the leak guard dropped
    assert re.search(r"^            9     leak guard +\d+ +\d+ +[1-9]\d*$", text, re.M), text
    assert view["notes"] == []

    # docs/cli.md shows this node: the same lines but for the counters, the same members
    doc_text, doc_json = docs_examples()
    assert normalised(doc_text) == normalised(text)
    assert members(doc_json) == members(view), json.dumps(view, indent=1)


DOCS = Path(__file__).resolve().parents[2] / "docs" / "cli.md"


def docs_examples():
    """The output of show and of show --json in docs/cli.md."""
    section = DOCS.read_text().split("## The picture of the node\n")[1].split("\n## ")[0]
    text = re.search(r"\n```\n(Applied generation.*?)```", section, re.S).group(1)
    return text, json.loads(re.search(r"```json\n(.*?)```", section, re.S).group(1))


def normalised(text):
    """Lines with every number N and runs of blanks as one."""
    return [re.sub(r" +", " ", re.sub(r"\d+ packets?", "N packets", re.sub(r"(?<![_\w])\d+", "N", line)))
            for line in text.splitlines()]


def members(value):
    """The members of every object, as paths (array elements merged)."""
    if isinstance(value, dict):
        return {k for k in value} | {f"{k}.{m}" for k, v in value.items() for m in members(v)}
    if isinstance(value, list):
        return set().union(*(members(v) for v in value)) if value else set()
    return set()


def png_pixels_vary(data):
    """Whether a PNG (8-bit RGB or RGBA, not interlaced) has more than one
    colour: its rows unfiltered one by one until two pixels differ."""
    assert data[:8] == b"\x89PNG\r\n\x1a\n"
    pos, idat, header = 8, b"", None
    while pos < len(data):
        length, kind = struct.unpack(">I4s", data[pos:pos + 8])
        chunk = data[pos + 8:pos + 8 + length]
        if kind == b"IHDR":
            header = struct.unpack(">IIBBBBB", chunk)
        elif kind == b"IDAT":
            idat += chunk
        pos += 12 + length
    width, height, depth, colour, _, _, interlace = header
    assert width > 0 and height > 0 and depth == 8 and colour in (2, 6) and interlace == 0, header
    bpp = 3 if colour == 2 else 4
    raw, stride = zlib.decompress(idat), width * bpp
    prev, first = bytearray(stride), None
    for y in range(height):
        ftype, line = raw[y * (stride + 1)], bytearray(raw[y * (stride + 1) + 1:(y + 1) * (stride + 1)])
        for i in range(stride):
            a = line[i - bpp] if i >= bpp else 0
            b = prev[i]
            c = prev[i - bpp] if i >= bpp else 0
            if ftype == 1:
                line[i] = (line[i] + a) & 0xff
            elif ftype == 2:
                line[i] = (line[i] + b) & 0xff
            elif ftype == 3:
                line[i] = (line[i] + (a + b) // 2) & 0xff
            elif ftype == 4:
                p = a + b - c
                pa, pb, pc = abs(p - a), abs(p - b), abs(p - c)
                line[i] = (line[i] + (a if pa <= pb and pa <= pc else b if pb <= pc else c)) & 0xff
        pixels = {bytes(line[i:i + bpp]) for i in range(0, stride, bpp)}
        first = first or next(iter(pixels))
        if len(pixels | {first}) > 1:
            return True
        prev = line
    return False


def make_png(rows, colour=2):
    """A PNG of the given rows of pixels (tuples), each row filtered with Sub."""
    bpp = 3 if colour == 2 else 4

    def chunk(kind, data):
        return struct.pack(">I", len(data)) + kind + data + struct.pack(">I", zlib.crc32(kind + data))
    raw = b""
    for row in rows:
        flat = bytes(v for px in row for v in px)
        raw += b"\x01" + bytes((flat[i] - (flat[i - bpp] if i >= bpp else 0)) & 0xff for i in range(len(flat)))
    header = struct.pack(">IIBBBBB", len(rows[0]), len(rows), 8, colour, 0, 0, 0)
    return b"\x89PNG\r\n\x1a\n" + chunk(b"IHDR", header) + chunk(b"IDAT", zlib.compress(raw)) + chunk(b"IEND", b"")


def test_the_png_check_tells_one_colour_from_a_picture():
    white, black = (255, 255, 255), (0, 0, 0)
    assert not png_pixels_vary(make_png([[white] * 4] * 3))
    assert png_pixels_vary(make_png([[white] * 4, [white] * 4, [white, white, black, white]]))
    assert png_pixels_vary(make_png([[(255, 255, 255, 255)] * 2, [(255, 255, 255, 0)] * 2], colour=6))


def screenshot(svg, png, tmp_path):
    """Headless Chromium's rendering of svg into png (on a page that scales
    it to the window, so that all of it is in the picture), with a profile
    of its own under tmp_path; every process it started is killed at the
    end."""
    chromium = shutil.which("chromium")
    assert chromium, "chromium is not installed (tests/deps.sh installs it)"
    page = tmp_path / "node.html"
    page.write_text(f'<!DOCTYPE html><html><body style="margin:0;background:white">'
                    f'<img src="{svg.name}" style="max-width:100vw;max-height:100vh"></body></html>')
    home = tmp_path / "chromium-home"
    home.mkdir()
    env = {**os.environ, "HOME": str(home), "XDG_CONFIG_HOME": str(home), "XDG_CACHE_HOME": str(home)}
    proc = subprocess.Popen([chromium, "--headless", "--no-sandbox", "--disable-gpu", "--no-first-run",
                             f"--user-data-dir={tmp_path / 'chromium-profile'}", f"--screenshot={png}",
                             "--window-size=1600,1200", f"file://{page}"],
                            stdout=subprocess.PIPE, stderr=subprocess.STDOUT, env=env, start_new_session=True)
    try:
        out, _ = proc.communicate(timeout=120)
    finally:
        try:
            os.killpg(proc.pid, signal.SIGKILL)
        except ProcessLookupError:
            pass
        proc.wait()
        for pid in chromium_processes(tmp_path):   # any that left its process group
            try:
                os.kill(pid, signal.SIGKILL)
            except ProcessLookupError:
                pass
    return out.decode(errors="replace")


def chromium_processes(tmp_path):
    """Processes whose command line names this test's Chromium profile."""
    found = []
    for proc in Path("/proc").iterdir():
        try:
            if proc.name.isdigit() and str(tmp_path / "chromium-profile") in (proc / "cmdline").read_text():
                found.append(int(proc.name))
        except OSError:
            pass
    return found


def test_svg_has_the_graph_and_chromium_draws_it(chain, opdbus, tmp_path):
    node, _ = chain
    traffic(node)
    svg = tmp_path / "node.svg"
    res = show(node, opdbus, "--format", "svg")
    svg.write_text(res.stdout)
    print(f"\nop-dbus show --format svg: {svg}")

    root = ET.fromstring(res.stdout)   # valid XML
    assert root.tag == f"{SVG_NS}svg"
    titles = {kind: {g.find(f"{SVG_NS}title").text for g in root.iter(f"{SVG_NS}g") if g.get("class") == kind}
              for kind in ("node", "edge")}
    for bridge, ports in bridges_and_ports(node.ovs).items():
        assert f"bridge/{bridge}" in titles["node"]
        for port in ports:
            assert f"port/{bridge}/{port}" in titles["node"], port
    for vmid in CONTAINERS:
        assert f"container/{vmid}" in titles["node"]
        assert f"port/ovsbr0/internal_{vmid}->container/{vmid}" in titles["edge"]
    for _, src, dst in STEERING:
        target = "target/ovsbr0/NORMAL" if dst == "NORMAL" else f"port/ovsbr0/{dst}"
        assert f"port/ovsbr0/{src}->{target}" in titles["edge"], titles["edge"]
    assert {f"table/ovsbr0/{t}" for t in PIPELINE_TABLES} <= titles["node"]
    texts = [t.text for t in root.iter(f"{SVG_NS}text")]
    assert "wireguard-to-warp" in texts and "table 9 leak guard" in texts
    assert any(re.fullmatch(r"\d+ flows, \d+ packets, [1-9]\d* dropped", t) for t in texts), texts

    png = tmp_path / "node.png"
    log = screenshot(svg, png, tmp_path)
    print(f"its screenshot by headless Chromium: {png}")
    assert png.is_file() and png.stat().st_size > 0, log
    assert png_pixels_vary(png.read_bytes()), "the screenshot is a single colour"
    assert not chromium_processes(tmp_path), "Chromium left processes behind"


def test_show_changes_nothing(chain, opdbus):
    """Open vSwitch's database and flows, the containers and op-dbus's
    state directory are the same before and after."""
    node, _ = chain
    before = (node.ovs.config_dump(), opdbus_flow_lines(node.ovs), node.pct("list").stdout,
              state_files(node.ovs))
    assert "flows/ovsbr0" in before[3] and any(f.startswith("checkpoints/gen-") for f in before[3])
    for args in ((), ("--json",), ("--format", "dot"), ("--format", "svg")):
        show(node, opdbus, *args)
    assert node.ovs.config_dump() == before[0]
    assert opdbus_flow_lines(node.ovs) == before[1]
    assert node.pct("list").stdout == before[2]
    assert state_files(node.ovs) == before[3]


def state_files(ovs):
    """Every file of op-dbus's state directory with its size and mtime."""
    root = Path(ovs.env()["OPDBUS_STATE_DIR"])
    return {str(p.relative_to(root)): (p.stat().st_size, p.stat().st_mtime_ns) for p in root.rglob("*")}


def opdbus_flow_lines(ovs):
    """Every flow of every bridge, without counters."""
    return {br: ovs.ofctl("dump-flows", br, options=["-O", "OpenFlow14", "--no-stats"])
            for br in ovs.vsctl("list-br").split()}


def test_nothing_applied(ovs, opdbus):
    ovs.vsctl("add-br", "br9", "--", "set", "Bridge", "br9", "datapath_type=netdev")
    text = opdbus.run("show", check=0).stdout
    assert text.startswith("No state applied\n"), text
    assert "    Bridge br9: datapath netdev, fail_mode standalone\n        Port br9: internal, ofport LOCAL\n" in text
    assert "Note: no state has been applied on this node" in text
    view = opdbus.run("show", "--json", check=0, json=True).json
    assert view["generation"] == 0
    assert [b["name"] for b in view["bridges"]] == ["br9"] and "pipeline" not in view["bridges"][0]
    assert any("no state has been applied" in n for n in view["notes"])
    assert ET.fromstring(opdbus.run("show", "--format", "svg", check=0).stdout).tag == f"{SVG_NS}svg"


def test_svg_without_graphviz_says_to_install_it(ovs, opdbus, tmp_path):
    bin_dir = tmp_path / "bin"     # a PATH without dot
    bin_dir.mkdir()
    res = opdbus.run("show", "--format", "svg", check=5, env={"PATH": str(bin_dir)})
    assert "Graphviz's dot is not installed" in res.stderr and "apt-get install graphviz" in res.stderr
    assert res.stdout == ""


def test_bad_format_and_without_ovsdb(opdbus):
    res = opdbus.run("show", "--format", "png", check=2)
    assert "use text, dot or svg" in res.stderr
    res = opdbus.run("show", "--json", "--format", "dot", check=2)
    res = opdbus.run("show", check=5)        # the opdbus fixture's OVSDB address has no server
    assert "cannot connect to OVSDB" in res.stderr


def test_completion_offers_show_and_its_formats(opdbus, tmp_path):
    from test_completion import complete
    comp = lambda *words: complete(opdbus, words, tmp_path, opdbus.env)  # noqa: E731
    assert comp("sh") == ["show"]
    assert comp("show", "--f") == ["--format"]
    assert comp("show", "--format", "") == ["text", "dot", "svg"]
    assert comp("show", "--format", "svg", "--j") == ["--json"]


def test_a_proxmox_veth_port_and_its_container(node, opdbus, tmp_state):  # noqa: F811
    """A container attached as Proxmox attaches it (veth<id>i0, its net0),
    and a container of the node that op-dbus does not own."""
    from test_socket_networking import container, state, veth_net
    opdbus.binary = str(node.wrapper)
    res = node.opdbus(opdbus, "apply", "--json", tmp_state(state(container(311, veth_net()))), check=0)
    assert res.json["ok"], res.json
    node.ovs.vsctl("add-port", "vmbr0", "veth312i1", "--", "set", "Interface", "veth312i1", "type=internal")
    try:
        text, view = show(node, opdbus).stdout, show(node, opdbus, "--json").json
    finally:
        node.ovs.vsctl("del-port", "vmbr0", "veth312i1")    # pve-sim checks its veth names at the end

    assert "        Port veth311i0: system, ofport " in text, text
    assert "            Container 311 ct311 (running), net0 inside\n" in text, text
    assert "            Container 312 (not op-dbus's), net1 inside\n" in text, text
    assert "        311 ct311: running, on vmbr0 port veth311i0\n" in text, text
    (br,) = view["bridges"]
    ports = {p["name"]: p for p in br["ports"]}
    assert (ports["veth311i0"]["container"], ports["veth311i0"]["container_interface"]) == (311, "net0")
    assert "pipeline" not in br and "steering" not in br     # no openflow section applied
