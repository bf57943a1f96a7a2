# SPDX-License-Identifier: LGPL-2.1-or-later
"""The static aarch64 build in an aarch64 virtual machine running Debian's
arm64 kernel (tests/vm/aarch64vm.py; docs/router.md, "On the Flint 2 and
in the aarch64 VM").

One boot runs every scenario of tests/vm/scenarios/ (each in a network
namespace of its own) with the programs of the build in /vm/bin:

  * boot: the modules of tests/vm/modules.txt load, and nothing is loaded
    on demand;
  * links.sh: VLAN sub-interfaces, a bridge with VLAN filtering carrying
    tagged frames as declared (and dropping them when the VLAN is taken
    off the port), a dummy device, WireGuard with a handshake, and the
    static netlink-driver (agent/lib/rtnl) configuring and moving a link;
  * nft-oracle.sh: the static nft-driver (agent/lib/nft on libnftnl.a and
    agent/lib/mnl) applies the ruleset of every expression kind
    (test_nft.py's ORACLE_MODEL) against the aarch64 kernel; Debian's nft
    lists it exactly as it lists the same ruleset loaded from text
    (ORACLE_NFT) with nft -f, and a re-apply sends nothing;
  * sandbox.sh: the seccomp sandbox (agent/lib/sandbox) on the aarch64
    kernel: killed calls end the static sandbox-driver with SIGSYS, calls
    outside the list fail with EPERM, both run without the filter; a link
    dump, the state file, agent/lib/rtnl and the nftables batch work
    under the filter (nft lists the batch as the unfiltered one);
  * bridge-vlans.sh: op-router (under its filter) makes a filtering
    bridge with a port in VLAN 10 as pvid and one tagged 10 and 20, the
    bridge itself tagged 20 with a VLAN link br0.20 over it, and a VLAN
    link p3.30 on a plain port; captures show VLAN 10 untagged on the
    pvid port and tagged on the other, br0.20 answering tagged 20 and
    p3.30 tagged 30; a re-apply writes nothing; a change of the pvids
    failing after the interfaces' apply and the rollback verb leave
    `bridge -j vlan show`, `ip -j link` and `ip -j addr` as they were;
    the daemon puts back a pvid taken off by hand; an empty section takes
    it all away;
  * router.sh: the router program (agent/op-router/op-router) under its
    seccomp filter applies docs/router.md's walkthrough to a router made
    of veth pairs and namespaces: Seccomp: 2 in a running op-router's
    status, a re-apply that writes nothing, a ping across the LAN bridge,
    masquerade seen on the WAN side, the port forward, the guests through
    the tunnel; a failure injected after the firewall and the rollback
    verb leave the kernel's links, addresses, routes, rules and ruleset
    (Debian's ip and nft) as they were; the daemon (op-router run, in the
    background) under its filter: a route, an address and a firewall
    rule deleted by hand are back, an apply --confirm-timeout 2 without
    confirm is reverted to the dumps from before it, a confirmed one
    stays past its deadline, SIGTERM ends it with 0; --selftest-sandbox
    is killed by SIGSYS; the kill switch with the tunnel down; empty sections take
    away what op-router made.
  * dummy.sh: a dummy device made with ip, declared in the interfaces
    section's links with an MTU, up and two addresses: op-router (under
    its filter) applies them, ip -j shows them, a second apply writes
    nothing, an empty section takes the addresses away and leaves the
    device;
  * wireguard.sh: op-router makes and configures a WireGuard interface
    in each of two namespaces (two state directories, two secrets files):
    a handshake and a ping through the tunnel, a re-apply that writes
    nothing, a peer added while a ping runs over the other without losing
    a reply (one generic netlink message), a peer removed alone, a new
    private key planned as a tunnel restart, no key in query or the
    checkpoints, a failed change of key, port and peers rolled back, the
    kill switch over that tunnel (with it down, no guest packet leaves
    through the WAN), the link removed with the section's interfaces.

Scenario scripts say which programs they need on a line "# needs: NAME..."
(a program the build lacks fails the scenario), and find the files of
tests/vm/scenarios/NAME.d/ in /vm/data/NAME/. The router program
(agent/op-router/op-router, meson option "router") is in /vm/bin when the
build has it, for the router's scenarios.

Environment: OPDBUS_AARCH64_BUILD (default build-aarch64 below the source
root; tests/vm/build-aarch64 makes it), OPDBUS_VM_CACHE (the packages and
the kernel; default build-vm-aarch64).
"""

import json
import os
import re
import sys
from pathlib import Path

import pytest

HERE = Path(__file__).resolve().parent
ROOT = HERE.parents[1]
sys.path.insert(0, str(HERE))
sys.path.insert(0, str(ROOT / "tests/integration"))

import aarch64vm  # noqa: E402
from test_nft import ORACLE_MODEL, ORACLE_NFT, ORACLE_TABLES, masked  # noqa: E402
from test_router_firewall import doc_state  # noqa: E402
from test_router_walkthrough import SECTIONS, change_of_every_section  # noqa: E402

BUILD = Path(os.environ.get("OPDBUS_AARCH64_BUILD") or ROOT / "build-aarch64")
if not BUILD.is_absolute():
    BUILD = ROOT / BUILD
SCENARIO_DIR = HERE / "scenarios"
SCENARIOS = sorted(SCENARIO_DIR.glob("*.sh"))

# The programs of the build a scenario may ask for.
PROGRAMS = {
    "nft-driver": "tests/nft-driver",
    "netlink-driver": "tests/netlink-driver",
    "sandbox-driver": "tests/sandbox-driver",
    "op-router": "agent/op-router/op-router",
}

# Files the tests make for the scenarios (guest path -> content).
GENERATED = {
    "/vm/data/nft-oracle.json": json.dumps(ORACLE_MODEL),
    "/vm/data/nft-oracle.nft": ORACLE_NFT,
    "/vm/data/nft-tables": "".join(f"{family} {name}\n" for family, name in ORACLE_TABLES),
    # docs/router.md's walkthrough, and a change of all three sections
    "/vm/data/router/state.json": json.dumps(doc_state(SECTIONS)),
    "/vm/data/router/changed.json": json.dumps(change_of_every_section(doc_state(SECTIONS))),
}


def build_options(build):
    path = build / "meson-info" / "intro-buildoptions.json"
    if not path.exists():
        return None
    return {o["name"]: o["value"] for o in json.loads(path.read_text())}


def available_programs(build):
    """name -> path of the programs the build made. The router program is
    required where the build has the router product."""
    options = build_options(build)
    if options is None:
        raise AssertionError(f"{build} is not a meson build directory (tests/vm/build-aarch64 makes it)")
    found = {name: build / rel for name, rel in PROGRAMS.items() if (build / rel).is_file()}
    if options.get("router") is True and "op-router" not in found:
        raise AssertionError(f"{build} has the router product but no {PROGRAMS['op-router']}")
    return found


def needs(script_text):
    """The programs a scenario names on its "# needs:" lines."""
    return {n for line in re.findall(r"^#\s*needs:(.*)$", script_text, re.M) for n in line.split()}


def scenario_files(path):
    """The files of a scenario's NAME.d directory, as /vm/data/NAME/..."""
    d = path.with_suffix(".d")
    if not d.is_dir():
        return {}
    return {f"/vm/data/{path.stem}/{f.relative_to(d)}": f for f in sorted(d.rglob("*")) if f.is_file()}


def guest_inputs(build, scenario_paths):
    """(scenarios, programs, files) for Machine.run, or an error naming
    each program a scenario needs and the build lacks."""
    programs = available_programs(build)
    scenarios, files, missing = {}, dict(GENERATED), []
    for path in scenario_paths:
        text = path.read_text()
        for name in sorted(needs(text)):
            if name not in programs:
                missing.append(f"{path.name} needs {name}, which {build} does not have")
        scenarios[path.stem] = text
        files.update(scenario_files(path))
    if missing:
        raise AssertionError("\n".join(missing))
    return scenarios, programs, files


@pytest.fixture(scope="session")
def boot():
    """One boot with every scenario; the console is kept in
    build-vm-aarch64/run/last.console."""
    scenarios, programs, files = guest_inputs(BUILD, SCENARIOS)
    try:
        machine = aarch64vm.Machine.prepare()
    except aarch64vm.VMError as e:
        pytest.fail(f"the aarch64 machine could not be prepared: {e}")
    keep = machine.cache / "run" / "last"
    # the programs as they would go onto the router: stripped
    programs, sizes = aarch64vm.strip_programs(programs, machine.cache / "run" / "bin")
    print("\nstripped static aarch64 programs in the guest: "
          + ", ".join(f"{name} {size} bytes" for name, size in sorted(sizes.items())))
    result = machine.run(scenarios, programs, files, keep=keep)
    print(f"aarch64 guest {result.booted or '(did not boot)'}: {len(result.checks)} checks, "
          f"{len(result.failed())} failed; {result.timing()}; "
          f"console in {keep.with_suffix('.console')}")
    print(result.report())
    assert result.booted.endswith("aarch64"), f"the guest did not boot:\n{result.tail()}"
    assert result.done, f"the guest did not run to its end:\n{result.tail()}"
    return result


def test_modules_load_without_on_demand_loading(boot):
    modules = boot.check("boot", "modules")
    assert modules.ok, modules.output
    assert boot.check("boot", "no-on-demand-loading").ok


def test_kernel_has_seccomp(boot):
    """The aarch64 kernel reports seccomp in every process's status, as
    docs/router.md tells to check on the router; no filter on /init."""
    status = boot.check("boot", "seccomp")
    assert status.ok, status.output
    assert re.search(r"^Seccomp:\s+0$", status.output, re.M), status.output


@pytest.mark.parametrize("scenario", [p.stem for p in SCENARIOS])
def test_scenario(boot, scenario):
    assert scenario in boot.scenarios, f"scenario {scenario} did not run:\n{boot.tail()}"
    checks = [c for c in boot.checks if c.scenario == scenario]
    assert checks, f"scenario {scenario} ran no check (exit {boot.scenarios[scenario]})"
    assert not [c for c in checks if not c.ok], boot.report(scenario)


def listings(output):
    """The JSON documents of nft -j list table, one a line, masked."""
    return [masked(json.loads(line)) for line in output.splitlines() if line.startswith("{")]


def test_nft_batch_lists_as_nft_loads_it(boot):
    """Debian's nft is the oracle on the aarch64 kernel: the driver's
    ruleset and the same text loaded with nft -f list identically."""
    by_driver = listings(boot.check("nft-oracle", "listing-driver").output)
    by_nft = listings(boot.check("nft-oracle", "listing-nft").output)
    assert len(by_driver) == len(by_nft) == len(ORACLE_TABLES)
    for (family, name), lib, nft in zip(ORACLE_TABLES, by_driver, by_nft):
        assert lib == nft, f"{family} {name}"
    first = json.loads(boot.check("nft-oracle", "apply").output)
    assert first["ok"] and first["messages"] > 0, first
    again = json.loads(boot.check("nft-oracle", "reapply").output)
    assert again["ok"] and again["messages"] == 0, again
    text = boot.check("nft-oracle", "list-ruleset").output
    for family, name in ORACLE_TABLES:
        assert f"table {family} {name} {{" in text


SANDBOX_KILLED = ["execve", "execveat", "ptrace", "mount", "umount2", "chroot", "pivot_root", "swapon",
                  "bpf", "keyctl", "reboot", "init_module", "delete_module"]


def test_sandbox_kills_and_refuses_on_aarch64(boot):
    """The filter is in (Seccomp: 2); each killed call ends the driver
    with SIGSYS (159 in the shell) before printing anything, calls outside
    the list fail with EPERM; without the filter they all return."""
    assert re.search(r"^Seccomp:\s+2$", boot.check("sandbox", "status").output, re.M)
    size = int(boot.check("sandbox", "size").output)
    print(f"\nbuilt-in filter on aarch64: {size} BPF instructions")
    assert 20 < size < 4096
    for call in SANDBOX_KILLED:
        # the shell's own report, then the status; the driver printed nothing
        out = boot.check("sandbox", f"killed-{call}").output.splitlines()
        assert out == ["Bad system call", "status 159"], (call, out)
    free = boot.check("sandbox", "unfiltered-calls")
    assert free.ok, free.output
    assert [line.split()[0] for line in free.output.splitlines()] == [
        "execveat", "ptrace", "mount", "umount2", "chroot", "pivot_root", "swapon", "bpf", "keyctl", "reboot",
        "delete_module", "fork", "unshare", "setns"]
    assert free.output.splitlines()[-3:] == ["fork ok", "unshare ok", "setns ok"]
    assert boot.check("sandbox", "unfiltered-execve").output.strip() == "executed"
    refused = boot.check("sandbox", "refused")
    assert refused.output.splitlines() == ["fork errno EPERM", "unshare errno EPERM", "setns errno EPERM"]


def test_work_under_the_sandbox_on_aarch64(boot):
    """rtnetlink, the state file, agent/lib/rtnl and the nftables batch
    under the filter; the batch lists as the unfiltered one."""
    caged = json.loads(boot.check("sandbox", "work").output)
    free = json.loads(boot.check("sandbox", "work-unfiltered").output)
    assert caged.pop("seccomp") == 2 and free.pop("seccomp") == 0
    assert caged == free and caged["file"] == "written" and "sc-a" in caged["names"]
    assert boot.check("sandbox", "netlink-configure").output.strip() == "changed"
    assert "mtu=1400" in boot.check("sandbox", "netlink-info").output
    first = json.loads(boot.check("sandbox", "nft-apply").output)
    assert first["ok"] and first["messages"] > 0, first
    again = json.loads(boot.check("sandbox", "nft-reapply").output)
    assert again["ok"] and again["messages"] == 0, again
    caged_nft = listings(boot.check("sandbox", "nft-listing").output)
    free_nft = listings(boot.check("sandbox", "nft-listing-unfiltered").output)
    assert len(caged_nft) == len(ORACLE_TABLES) and caged_nft == free_nft


def test_bridge_ports_carry_the_declared_vlans(boot):
    """p2: VLAN 30 as pvid, untagged on egress; p1: VLAN 30 tagged; no
    VLAN 1 left on either."""
    out = boot.check("links", "bridge-vlan-config").output.splitlines()
    p2, p1 = (json.loads(line) for line in out if line.startswith("["))
    vlans = {entry["ifname"]: entry["vlans"] for entry in p1 + p2}
    assert vlans["p2"] == [{"vlan": 30, "flags": ["PVID", "Egress Untagged"]}]
    assert vlans["p1"] == [{"vlan": 30}]


# ---- VLANs of bridge ports made by op-router (bridge-vlans.sh) ----------------------------

def bridge_vlans(check):
    """ifname -> vlans of the first `bridge -j vlan show` a check printed."""
    line = next(line for line in check.output.splitlines() if line.startswith("["))
    return {entry["ifname"]: entry["vlans"] for entry in json.loads(line)}


def captured(check, port):
    """The ICMP lines a tagged_ping check captured on port."""
    section = check.output.split(f"== {port}\n", 1)[1].split("\n== ", 1)[0]
    return [line for line in section.splitlines() if "ICMP echo" in line]


def test_bridge_vlans_applied_by_op_router(boot):
    """The declared VLANs and nothing else (VLAN 1 is gone where the
    section lists VLANs); a second apply writes nothing."""
    assert boot.check("bridge-vlans", "topology").ok, boot.check("bridge-vlans", "topology").output
    first = boot.check("bridge-vlans", "apply")
    assert first.ok, first.output
    assert re.search(r"^Seccomp:\s+2$", first.output, re.M), first.output
    res = json_of(first)
    assert res["changed"] is True and res["counts"]["writes"] > 0, res
    assert bridge_vlans(boot.check("bridge-vlans", "vlan-config")) == {
        "p1": [{"vlan": 10, "flags": ["PVID", "Egress Untagged"]}],
        "p2": [{"vlan": 10}, {"vlan": 20}],
        "br0": [{"vlan": 20}],
    }
    again = json_of(boot.check("bridge-vlans", "reapply"))
    assert again["changed"] is False and again["counts"]["writes"] == 0, again
    assert boot.check("bridge-vlans", "verify").ok


def test_bridge_vlan_frames_are_tagged_as_declared(boot):
    """VLAN 10 leaves p1 (its pvid) untagged and p2 tagged 10; br0.20, on
    the bridge itself, answers tagged 20 on p2; p3.30 tagged 30 on p3;
    VLAN 20 is not on p1."""
    v10 = boot.check("bridge-vlans", "ping-vlan10")
    assert v10.ok, v10.output
    p1, p2 = captured(v10, "p1"), captured(v10, "p2")
    assert len(p1) >= 4 and not [line for line in p1 if "802.1Q" in line], v10.output
    assert len(p2) >= 4 and all("ethertype 802.1Q (0x8100), length 102: vlan 10," in line for line in p2), v10.output
    for name, port, vid in (("ping-vlan20", "p2", 20), ("ping-vlan30", "p3", 30)):
        c = boot.check("bridge-vlans", name)
        assert c.ok, c.output
        lines = captured(c, port)
        assert any("echo reply" in line for line in lines), c.output
        assert lines and all(f": vlan {vid}," in line for line in lines), c.output
    isolated = boot.check("bridge-vlans", "no-vlan20-on-p1")
    assert isolated.ok and "100% packet loss" in isolated.output, isolated.output


def test_bridge_vlans_roll_back(boot):
    """New pvids with a failure after the interfaces' apply, and the
    rollback verb after the change: bridge -j vlan show, ip -j link and
    ip -j addr as they were."""
    applied = boot.check("bridge-vlans", "dump-applied")
    assert applied.ok, applied.output
    res = json_of(boot.check("bridge-vlans", "fault-injected"))
    assert res["status"] == "failed" and res["rolled_back"] is True, res
    assert "port/br0/p1/vlan/20" in [c["path"] for c in res["changes"]], res["changes"]
    assert "port/br0/p1/vlan/10" in [c["path"] for c in res["rollback_changes"]], res["rollback_changes"]
    assert boot.check("bridge-vlans", "dump-after-fault").output == applied.output
    assert json_of(boot.check("bridge-vlans", "apply-changed"))["changed"] is True
    assert bridge_vlans(boot.check("bridge-vlans", "vlan-config-changed")) == {
        "p1": [{"vlan": 20, "flags": ["PVID", "Egress Untagged"]}],
        "p2": [{"vlan": 10}, {"vlan": 20}, {"vlan": 30}],
        "br0": [{"vlan": 20}],
    }
    assert json_of(boot.check("bridge-vlans", "rollback"))["changed"] is True
    assert boot.check("bridge-vlans", "dump-after-rollback").output == applied.output


def test_bridge_vlan_drift_is_repaired(boot):
    """The daemon puts back p1's pvid taken off by hand."""
    drift = boot.check("bridge-vlans", "drift-pvid")
    assert drift.ok, drift.output
    assert "Drift repaired: 1 change put back" in drift.output, drift.output
    assert bridge_vlans(drift) == {"p1": [{"vlan": 10, "flags": ["PVID", "Egress Untagged"]}]}


def test_bridge_vlans_removed(boot):
    """An empty section: the bridge and both VLAN links go, the ports stay,
    outside any bridge."""
    assert json_of(boot.check("bridge-vlans", "remove"))["changed"] is True
    after = boot.check("bridge-vlans", "after-remove")
    assert after.ok, after.output
    assert bridge_vlans(after) == {}, after.output
    assert "br0" not in after.output and "p3.30" not in after.output, after.output
    for port in ("p1", "p2", "p3"):
        assert re.search(rf"^{port}@", after.output, re.M), after.output


# ---- a dummy device as a declared link (dummy.sh) ------------------------------------------

def ip_link_json(check):
    """The one link of an `ip -j addr show dev` a check printed."""
    assert check.ok, check.output
    (link,) = json.loads(next(line for line in check.output.splitlines() if line.startswith("[")))
    return link


def test_dummy_link_declared(boot):
    """dum0, made with ip, declared in links with an MTU, up and two
    addresses: op-router (under its filter) sets them; a second apply
    writes nothing."""
    first = boot.check("dummy", "apply")
    assert first.ok, first.output
    assert re.search(r"^Seccomp:\s+2$", first.output, re.M), first.output
    res = json_of(first)
    assert res["changed"] is True and res["counts"]["writes"] == 3, res
    assert sorted(c["path"] for c in res["changes"]) == [
        "address/dum0/198.18.7.1/24", "address/dum0/2001:db8:7::1/64", "link/dum0"], res["changes"]
    link = ip_link_json(boot.check("dummy", "addr"))
    assert link["mtu"] == 1400 and "UP" in link["flags"] and link["operstate"] in ("UNKNOWN", "UP"), link
    assert {(a["local"], a["prefixlen"]) for a in link["addr_info"] if a.get("scope") == "global"} == {
        ("198.18.7.1", 24), ("2001:db8:7::1", 64)}, link
    again = json_of(boot.check("dummy", "reapply"))
    assert again["changed"] is False and again["counts"]["writes"] == 0, again
    assert again["counts"]["rtnl_messages"] == 0, again
    assert boot.check("dummy", "verify").ok


def test_dummy_link_left_when_undeclared(boot):
    """An empty section takes the addresses away; dum0 (not op-router's)
    stays, a dummy, with its MTU and state; a second empty apply writes
    nothing."""
    res = json_of(boot.check("dummy", "remove"))
    assert res["changed"] is True, res
    assert sorted((c["action"], c["path"]) for c in res["changes"]) == [
        ("delete", "address/dum0/198.18.7.1/24"), ("delete", "address/dum0/2001:db8:7::1/64")], res["changes"]
    link = ip_link_json(boot.check("dummy", "after-remove"))
    assert link["linkinfo"]["info_kind"] == "dummy", link
    assert link["mtu"] == 1400 and "UP" in link["flags"], link
    assert [a for a in link["addr_info"] if a.get("scope") == "global"] == [], link
    again = json_of(boot.check("dummy", "remove-again"))
    assert again["changed"] is False and again["counts"]["writes"] == 0, again


# ---- the harness itself, without a boot --------------------------------------------------

def test_scenario_inputs(tmp_path):
    """A scenario's "# needs:" line and NAME.d files reach the guest; a
    program the build lacks is an error, not a skip."""
    build = tmp_path / "build"
    (build / "meson-info").mkdir(parents=True)
    (build / "meson-info" / "intro-buildoptions.json").write_text(
        json.dumps([{"name": "router", "value": True}]))
    (build / "agent/op-router").mkdir(parents=True)
    (build / "agent/op-router/op-router").write_bytes(b"\x7fELF")
    scenario = tmp_path / "router-basic.sh"
    scenario.write_text("# needs: op-router\ncheck apply op-router apply /vm/data/router-basic/state.json\n")
    (tmp_path / "router-basic.d").mkdir()
    (tmp_path / "router-basic.d" / "state.json").write_text("{}")

    scenarios, programs, files = guest_inputs(build, [scenario])
    assert scenarios == {"router-basic": scenario.read_text()}
    assert programs == {"op-router": build / "agent/op-router/op-router"}
    assert files["/vm/data/router-basic/state.json"] == tmp_path / "router-basic.d" / "state.json"

    scenario.write_text("# needs: op-router nft-driver\n")
    with pytest.raises(AssertionError, match="needs nft-driver"):
        guest_inputs(build, [scenario])
    (build / "agent/op-router/op-router").unlink()
    with pytest.raises(AssertionError, match="has the router product but no"):
        guest_inputs(build, [scenario])


def read_newc(data):
    """name -> (mode, body) of a newc archive."""
    entries, off = {}, 0
    while True:
        assert data[off:off + 6] == b"070701"
        f = [int(data[off + 6 + 8 * i: off + 14 + 8 * i], 16) for i in range(13)]
        mode, size, namesize = f[1], f[6], f[11]
        name = data[off + 110: off + 110 + namesize - 1].decode()
        off = (off + 110 + namesize + 3) & ~3
        body = data[off: off + size]
        off = (off + size + 3) & ~3
        if name == "TRAILER!!!":
            return entries
        entries[name] = (mode, body)


def test_initramfs_layout(tmp_path):
    """What the guest's init relies on: busybox, the init, the modules in
    load order, the programs in /vm/bin, the scenarios in order, data."""
    fake = tmp_path / "elf"
    fake.write_bytes(b"\x7fELF")
    kernel = aarch64vm.Kernel("v", fake, tmp_path, paths={"a": fake, "b": fake},
                              deps={"a": [], "b": ["a"]})
    m = aarch64vm.Machine(tmp_path, kernel, fake, {}, kernel.load_order(["b"]))
    data = m.initramfs({"first": "check x true\n", "second": "true\n"},
                       {"op-router": fake}, {"/vm/data/first/s.json": "{}"})
    e = read_newc(data)
    assert e["init"][0] & 0o111 and e["bin/busybox"][0] & 0o111
    assert e["vm/modules"][1] == b"a\nb\n"
    assert "lib/modules/a.ko" in e and "lib/modules/b.ko" in e
    assert e["vm/bin/op-router"][0] & 0o111
    assert e["vm/scenario-order"][1] == b"00-first\n01-second\n"
    assert e["vm/scenarios/00-first"][1] == b"check x true\n"
    assert e["vm/data/first/s.json"][1] == b"{}"
    assert e["dev/console"][0] >> 12 == 0o02      # a character device


def test_module_order_follows_dependencies(tmp_path):
    """Dependencies and soft dependencies (through aliases) load first,
    each once; built-in modules are skipped; unknown names are errors."""
    fake = tmp_path / "ko"
    k = aarch64vm.Kernel("v", fake, tmp_path,
                         paths={m: fake for m in ("nf_tables", "nfnetlink", "libcrc32c", "crc32c_generic", "nft_ct")},
                         deps={"nf_tables": ["nfnetlink", "libcrc32c"], "nfnetlink": [], "libcrc32c": [],
                               "crc32c_generic": [], "nft_ct": ["nf_tables", "nfnetlink", "libcrc32c"]},
                         softdeps={"libcrc32c": (["crc32c"], [])},
                         builtin={"x_tables"}, aliases={"crc32c": ["crc32c_generic"]})
    order = k.load_order(["nft_ct", "nf_tables", "x_tables"])
    assert order == ["nfnetlink", "crc32c_generic", "libcrc32c", "nf_tables", "nft_ct"]
    with pytest.raises(aarch64vm.VMError, match="no module nope"):
        k.load_order(["nope"])


def test_console_markers():
    text = ("noise\r\n@@BOOT 6.1 aarch64\r\n@@UPTIME init 4.25\r\n@@SCENARIO s\r\n@@CHECK a\r\nout\r\n@@END a 0\r\n"
            "kernel: x\r\n@@CHECK b\r\nbad\r\n@@END b 3\r\n@@SCENARIO-END s 0\r\n@@CHECK c\r\npartial\r\n")
    r = aarch64vm.parse_console(text)
    assert r.booted == "6.1 aarch64" and not r.done
    assert r.uptimes == {"init": 4.25}
    assert [(c.scenario, c.name, c.rc, c.output) for c in r.checks[:2]] == [("s", "a", 0, "out"), ("s", "b", 3, "bad")]
    assert r.checks[2].rc == -1 and "stopped" in r.checks[2].output
    assert r.scenarios == {"s": 0}
    assert [c.name for c in r.failed()] == ["b", "c"]


# ---- the router program (router.sh) ----------------------------------------------------

def json_of(check):
    """The JSON document a check printed (op-router --json), between the
    first "{" and the last "}"."""
    out = check.output
    assert "{" in out, out
    return json.loads(out[out.index("{"): out.rindex("}") + 1])


def kernel_state(check):
    """The dumps of router.sh (ip -j link, addr, routes, rules; nft -j list
    ruleset), the ruleset without handles and counter values."""
    assert check.ok, check.output
    docs = [json.loads(line) for line in check.output.splitlines() if line.startswith(("[", "{"))]
    assert len(docs) == 7, check.output
    return docs[:-1] + [masked(docs[-1])]


def differences(a, b):
    names = ["ip link", "ip addr", "ip route", "ip -6 route", "ip rule", "ip -6 rule", "nft list ruleset"]
    return [name for name, x, y in zip(names, a, b) if x != y]


def test_router_runs_under_its_filter(boot):
    """A running op-router (its first apply, waiting for its state on a
    pipe) has its filter in."""
    running = boot.check("router", "running-apply")
    assert running.ok, running.output
    assert re.search(r"^Name:\s+op-router$", running.output, re.M), running.output
    assert re.search(r"^Seccomp:\s+2$", running.output, re.M), running.output
    assert re.search(r"^NoNewPrivs:\s+1$", running.output, re.M), running.output
    print(f"\nrouter scenario: done at {boot.uptimes.get('router', 0):.1f} s of the guest's clock "
          f"(the one before it at {boot.uptimes.get('nft-oracle', 0):.1f} s)")


def test_router_selftest_sandbox_is_killed(boot):
    """op-router --selftest-sandbox asks the kernel to run a program once
    its filter is in: SIGSYS, before it prints anything."""
    out = boot.check("router", "selftest-sandbox").output.splitlines()
    assert out == ["Bad system call", "status 159"], out


def test_router_walkthrough_applies_and_converges(boot):
    for name in ("topology", "validate", "plan", "verify", "checkpoints"):
        c = boot.check("router", name)
        assert c.ok, (name, c.output)
    first = json_of(boot.check("router", "apply"))
    assert first["changed"] is True and first["counts"]["writes"] > 0, first
    plugins = [c["plugin"] for c in first["changes"]]
    assert set(plugins) == set(SECTIONS) and plugins == sorted(plugins, key=SECTIONS.index), plugins
    again = json_of(boot.check("router", "reapply"))
    assert again["changed"] is False and again["counts"]["writes"] == 0, again


def test_router_packets(boot):
    """Across br-lan; out of the WAN with the router's address; the port
    forward to the LAN's web server; the guests out through the tunnel."""
    assert boot.check("router", "lan-bridge-ping").ok, boot.check("router", "lan-bridge-ping").output
    masq = boot.check("router", "masquerade")
    assert masq.ok, masq.output
    assert "198.51.100.2 > 198.51.100.1: ICMP echo request" in masq.output, masq.output
    assert "192.168.1." not in masq.output, masq.output
    fwd = boot.check("router", "port-forward")
    lines = fwd.output.splitlines()
    assert fwd.ok and "served by 192.168.1.10" in lines, fwd.output
    assert "the server received: asked from the WAN" in lines, fwd.output
    tunnel = boot.check("router", "guest-tunnel")
    assert tunnel.ok, tunnel.output
    assert "10.99.0.2 > 198.51.100.1: ICMP echo request" in tunnel.output, tunnel.output
    assert "192.168.5." not in tunnel.output, tunnel.output


def test_router_failed_apply_rolls_back(boot):
    """A change of all three sections that fails after the firewall's
    batch: links, addresses, routes, rules and the ruleset as before."""
    res = json_of(boot.check("router", "fault-injected"))
    assert res["status"] == "failed" and res["rolled_back"] is True, res
    assert {c["plugin"] for c in res["changes"]} == set(SECTIONS), res["changes"]
    applied = kernel_state(boot.check("router", "dump-applied"))
    after = kernel_state(boot.check("router", "dump-after-fault"))
    assert differences(applied, after) == []


def test_router_rollback_verb(boot):
    """The change applied, then the rollback verb: the kernel as the
    walkthrough's apply left it."""
    changed = json_of(boot.check("router", "apply-changed"))
    assert changed["changed"] is True, changed
    applied = kernel_state(boot.check("router", "dump-applied"))
    assert set(differences(applied, kernel_state(boot.check("router", "dump-changed")))) >= {
        "ip link", "ip addr", "ip route", "ip rule", "nft list ruleset"}
    back = json_of(boot.check("router", "rollback"))
    assert back["changed"] is True, back
    assert differences(applied, kernel_state(boot.check("router", "dump-after-rollback"))) == []
    assert boot.check("router", "verify-after-rollback").ok


def test_router_kill_switch(boot):
    """A guest's IPv6 flow through the tunnel, then the tunnel down: not
    one of its packets leaves through the WAN."""
    ks = boot.check("router", "kill-switch")
    assert ks.ok, ks.output
    before, _, after = ks.output.partition("through eth1 after the tunnel went down:")
    assert "bytes from 2001:db8:1::1" in before, ks.output
    assert "the ping was still running" in before, ks.output
    assert after.strip() == "", ks.output


def test_router_removal(boot):
    """Empty sections: op-router's table, bridge, routes, rules and
    addresses go; the links stay."""
    res = json_of(boot.check("router", "remove"))
    assert res["changed"] is True, res
    after = boot.check("router", "after-remove")
    assert after.ok, after.output
    text = after.output
    assert "op-router" not in text and "br-lan" not in text and "proto 217" not in text, text
    for link in ("eth1", "lan1", "lan2", "lan5", "wg0"):
        assert re.search(rf"^{link}@", text, re.M), (link, text)
    eth1 = json.loads(text[text.index("[{"):])[0]["addr_info"]
    assert [a for a in eth1 if a.get("scope") != "link"] == [], eth1


# ---- the daemon (router.sh, op-router run) ---------------------------------------------

def test_router_daemon_runs_under_its_filter(boot):
    """op-router run, started in the background on the walkthrough's
    state, has its filter in."""
    start = boot.check("router", "daemon-start")
    assert start.ok, start.output
    assert re.search(r"^Name:\s+op-router$", start.output, re.M), start.output
    assert re.search(r"^Seccomp:\s+2$", start.output, re.M), start.output
    assert re.search(r"^NoNewPrivs:\s+1$", start.output, re.M), start.output
    assert "start: apply of /vm/data/router/state.json" in start.output, start.output


@pytest.mark.parametrize("what", ["route", "address", "rule"])
def test_router_daemon_repairs_drift(boot, what):
    """A route, an address and a firewall rule of op-router's, deleted by
    hand (ip, nft) while the daemon runs, are back."""
    drift = boot.check("router", f"drift-{what}")
    assert drift.ok, drift.output
    took = re.search(rf"^{what}: back after (\d+) ms$", drift.output, re.M)
    assert took, drift.output
    print(f"\n{what} deleted by hand: back after {took.group(1)} ms (aarch64, TCG)")


def test_router_daemon_repairs_to_the_applied_state(boot):
    """The three repairs are logged, and the kernel is as the walkthrough's
    apply left it."""
    log = boot.check("router", "drift-log")
    assert log.ok and log.output.count("Drift repaired:") >= 3, log.output
    for what in ("routes create", "interfaces create address/lan5/192.168.5.1/24",
                 "firewall create rule/input_wan/rule:ping:icmp"):
        assert what in log.output, (what, log.output)
    applied = kernel_state(boot.check("router", "dump-applied"))
    assert differences(applied, kernel_state(boot.check("router", "dump-after-drift"))) == []


def test_router_unconfirmed_apply_is_reverted(boot):
    """apply --confirm-timeout 2 of the change, no confirm: the daemon
    reverts it, the kernel as before the apply."""
    res = json_of(boot.check("router", "unconfirmed-apply"))
    assert res["changed"] is True and res["confirm"]["seconds"] == 2, res
    rev = boot.check("router", "unconfirmed-reverted")
    assert rev.ok, rev.output
    assert f"Generation {res['generation']} was not confirmed" in rev.output, rev.output
    assert "Revert of an unconfirmed apply: verified" in rev.output, rev.output
    print("\n" + rev.output.splitlines()[0])
    applied = kernel_state(boot.check("router", "dump-applied"))
    assert differences(applied, kernel_state(boot.check("router", "dump-after-revert"))) == []


def test_router_confirmed_apply_stays(boot):
    """apply --confirm-timeout 5 of the change, then confirm: past the
    deadline the change is still there."""
    res = json_of(boot.check("router", "confirmed-apply"))
    assert res["changed"] is True and res["confirm"]["seconds"] == 5, res
    confirmed = json_of(boot.check("router", "confirm"))
    assert confirmed == {"confirmed": True, "generation": res["generation"]}, confirmed
    applied = kernel_state(boot.check("router", "dump-applied"))
    changed = kernel_state(boot.check("router", "dump-confirmed-apply"))
    assert set(differences(applied, changed)) >= {"ip link", "ip addr", "ip route", "ip rule", "nft list ruleset"}
    past = boot.check("router", "dump-past-deadline")
    assert f"Generation {res['generation']} was confirmed." in past.output, past.output
    # the one revert of the log is the earlier, unconfirmed apply's
    assert past.output.count("was not confirmed") == 1, past.output
    assert differences(changed, kernel_state(past)) == []


def test_router_daemon_stops_on_sigterm(boot):
    stop = boot.check("router", "daemon-sigterm")
    assert stop.ok and "the daemon exited with 0" in stop.output, stop.output
    assert "exiting." in stop.output, stop.output
    assert json_of(boot.check("router", "apply-after-daemon"))["changed"] is True


# ---- WireGuard made by op-router (wireguard.sh) -------------------------------------------

def test_wireguard_applied_and_converges(boot):
    """Each side: the link made (interfaces), then its key, port and peer
    (wireguard); Debian's wg shows them; a second apply writes nothing."""
    for side in ("a", "b"):
        res = json_of(boot.check("wireguard", f"wg-apply-{side}"))
        assert res["changed"] is True and res["counts"]["genl_messages"] == 2, res
        plugins = [c["plugin"] for c in res["changes"]]
        assert plugins == sorted(plugins, key=["interfaces", "wireguard"].index), plugins
    show = boot.check("wireguard", "wg-show-a")
    assert show.ok and "listening port: 51821" in show.output and "allowed ips: 10.98.0.2/32" in show.output, \
        show.output
    link = boot.check("wireguard", "wg-link-a")
    assert link.ok and "mtu 1420" in link.output and "wireguard" in link.output, link.output
    again = json_of(boot.check("wireguard", "wg-reapply"))
    assert again["changed"] is False and again["counts"]["writes"] == 0, again
    assert again["counts"]["genl_messages"] == 0 and again["counts"]["rtnl_messages"] == 0, again
    assert boot.check("wireguard", "wg-verify").ok


def test_wireguard_handshake_and_ping(boot):
    c = boot.check("wireguard", "wg-handshake-ping")
    assert c.ok, c.output


def test_wireguard_peer_added_without_loss(boot):
    """Adding a peer is one WG_CMD_SET_DEVICE naming only it: the ping over
    the other peer, running meanwhile, loses nothing."""
    c = boot.check("wireguard", "wg-add-peer-without-loss")
    assert c.ok, c.output
    res = json_of(c)
    assert res["counts"]["genl_messages"] == 1 and res["counts"]["rtnl_messages"] == 0, res["counts"]
    assert [(a["plugin"], a["action"]) for a in res["changes"]] == [("wireguard", "create")], res["changes"]
    print("\nwireguard: " + " ".join(line for line in c.output.splitlines() if "packets transmitted" in line))
    assert boot.check("wireguard", "wg-two-peers").ok


def test_wireguard_peer_removed_alone(boot):
    c = boot.check("wireguard", "wg-remove-peer")
    assert c.ok, c.output
    res = json_of(c)
    assert res["counts"]["genl_messages"] == 1, res["counts"]
    assert [(a["plugin"], a["action"]) for a in res["changes"]] == [("wireguard", "delete")], res["changes"]


def test_wireguard_new_key_is_a_tunnel_restart(boot):
    c = boot.check("wireguard", "wg-new-key-plan")
    assert c.ok, c.output
    assert "wga: private key from secret wga-2" in c.output, c.output


def test_wireguard_query_names_the_secrets(boot):
    c = boot.check("wireguard", "wg-query-names-secrets")
    assert c.ok, c.output
    (wga,) = json_of(c)["plugins"]["wireguard"]["interfaces"]
    assert wga["private_key_secret"] == "<redacted>" and wga["listen_port"] == 51821, wga
    assert wga["addresses"] == ["10.98.0.1/24"] and wga["mtu"] == 1420, wga


def test_wireguard_failed_apply_rolls_back(boot):
    """A new key, port and peer, failing after the WireGuard phase: the
    kernel has the key, port and peers from before (the snapshot names
    the key by its secret)."""
    c = boot.check("wireguard", "wg-fault-rolled-back")
    assert c.ok, c.output
    res = json_of(c)
    assert res["status"] == "failed" and res["rolled_back"] is True, res
    assert "the private key is the one from before" in c.output, c.output


def test_wireguard_kill_switch(boot):
    """The kill switch over the tunnel op-router made, for a guest VLAN
    (lan5.10, made by op-router; the guest's frames arrive tagged 10): the
    guest's pings went through wga (no echo request on the WAN while it
    was up) and, with wga down, not one left through the WAN."""
    applied = json_of(boot.check("wireguard", "wg-kill-switch-apply"))
    assert applied["changed"] is True and applied["status"] == "ok", applied
    assert ("interfaces", "create", "vlan/lan5.10") in [(a["plugin"], a["action"], a["path"])
                                                        for a in applied["changes"]], applied["changes"]
    tagged = boot.check("wireguard", "wg-guest-vlan")
    assert tagged.ok and "vlan 10" in tagged.output, tagged.output
    ks = boot.check("wireguard", "wg-kill-switch")
    assert ks.ok, ks.output
    assert "the ping was still running" in ks.output, ks.output
    through_wan = ks.output.split("echo requests through the WAN (u0), tunnel up or down:")[1]
    assert "echo request" not in through_wan, ks.output
    print("\nwireguard kill switch: " + " ".join(
        line for line in ks.output.splitlines() if "packets transmitted" in line or "WireGuard packets" in line))


def test_wireguard_removal(boot):
    res = json_of(boot.check("wireguard", "wg-removal-apply"))
    assert res["changed"] is True, res
    assert ("interfaces", "delete") in [(a["plugin"], a["action"]) for a in res["changes"]], res["changes"]
    assert boot.check("wireguard", "wg-removed").ok, boot.check("wireguard", "wg-removed").output
