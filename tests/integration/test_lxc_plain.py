# SPDX-License-Identifier: LGPL-2.1-or-later
"""The lxc plugin's plain LXC backend (`backend: "lxc"`, no pct on PATH):
real LXC containers on a private lxcpath, plugged by LXC itself into a
bridge of the OVS sandbox, created, changed and removed by op-dbus, and
only those op-dbus created.

op-dbus runs inside the sandbox's network namespace, so that LXC creates
the host ends of the veths there, next to the sandbox's ovs-vswitchd, and
LXC's command sockets (abstract, hence per namespace) are found again by
the next run. It is entered with `nsenter --net`, plus a private mount
namespace with a sysfs of that network namespace: LXC looks the bridge up
in /sys/class/net (and decides there whether it is an OVS bridge).
`ip netns exec` would do that too, but it also hides the cgroup mounts
below /sys, which LXC needs; here they are bound back.

The containers' root file system is LXC's busybox template, made into an
archive once per session without the template's DHCP client (it would
flush the address LXC configures); one test creates a container from the
busybox template itself, by name."""

import json
import os
import re
import shutil
import signal
import tempfile
import time

import pytest

import netlab
from pve_fixture import pids_naming, remove_lxc_lock_dir, run
from test_netmaker import (PROXY_VARIABLES, TOKEN_PATH, UNIT_LINK, UNIT_PATH, HttpsServer, Token,  # noqa: F401
                           pki, write_token_file)

NO_PCT_PATH = "/usr/sbin:/usr/bin:/sbin:/bin"

# A container's NIC disappears with its network namespace before LXC
# removes its port (as on Proxmox, see pve_fixture.OVS_LOG_ALLOW).
pytestmark = pytest.mark.ovs_log_allow(
    r"error receiving data from veth\d+i0",
    r"veth\d+i0.*(No such device|Network is down)",
)

# Runs a program inside the sandbox's network namespace with a sysfs of
# that namespace (see the module docstring): first re-executes itself
# under nsenter and unshare, then mounts and execs the program.
IN_NETNS = """#!/usr/bin/python3
import os, subprocess, sys, tempfile
NETNS = {netns!r}
PROGRAM = {program!r}
if os.environ.get("OPDBUS_TEST_IN_NETNS") != NETNS:
    os.environ["OPDBUS_TEST_IN_NETNS"] = NETNS
    os.execvp("nsenter", ["nsenter", "--net=/run/netns/" + NETNS, "--", "unshare", "--mount",
                          "--propagation", "private", "--", sys.executable, __file__, *sys.argv[1:]])
del os.environ["OPDBUS_TEST_IN_NETNS"]
sysfs = tempfile.mkdtemp(prefix="sysfs-")
subprocess.run(["mount", "-t", "sysfs", "sysfs", sysfs], check=True)
subprocess.run(["mount", "--rbind", "/sys/fs/cgroup", sysfs + "/fs/cgroup"], check=True)
subprocess.run(["mount", "--move", sysfs, "/sys"], check=True)
os.rmdir(sysfs)
os.execv(PROGRAM, [PROGRAM, *sys.argv[1:]])
"""


@pytest.fixture(scope="session")
def busybox_archive():
    """A root file system archive from LXC's busybox template, without the
    DHCP client its rcS starts."""
    if os.geteuid() != 0:
        pytest.skip("LXC containers need root")
    missing = [t for t in ("lxc-create", "lxc-start", "lxc-usernsexec", "nsenter", "unshare", "tar")
               if not shutil.which(t)]
    if missing or not os.path.exists("/bin/busybox"):
        pytest.skip("the plain LXC tests need the Debian packages lxc and busybox-static "
                    f"(missing: {' '.join(missing) or '/bin/busybox'})")
    d = tempfile.mkdtemp(prefix="opdbus-lxc-tmpl-", dir="/tmp")
    os.chmod(d, 0o755)
    try:
        res = run(["lxc-create", "-P", d, "-n", "tmpl", "-t", "busybox"])
        assert res.returncode == 0, res.stderr
        rcs = os.path.join(d, "tmpl/rootfs/etc/init.d/rcS")
        with open(rcs) as f:
            text = f.read()
        with open(rcs, "w") as f:
            f.write(text.replace("/bin/udhcpc\n", ""))
        archive = os.path.join(d, "busybox-rootfs.tar.gz")
        res = run(["tar", "-czf", archive, "--numeric-owner", "-C", os.path.join(d, "tmpl/rootfs"), "."])
        assert res.returncode == 0, res.stderr
        run(["lxc-destroy", "-P", d, "-n", "tmpl"])
        os.chmod(archive, 0o644)
        yield archive
    finally:
        run(["lxc-destroy", "-P", d, "-n", "tmpl"])
        shutil.rmtree(d, ignore_errors=True)
        remove_lxc_lock_dir(d)


class Host:
    """A host without Proxmox: a private lxcpath, the OVS sandbox, and
    op-dbus run in the sandbox's network namespace."""

    def __init__(self, ovs, opdbus, tmp_path, tmp_state, archive):
        self.ovs, self.opdbus, self.tmp_state, self.archive = ovs, opdbus, tmp_state, archive
        # below /tmp and searchable: unprivileged containers (uid 100000)
        # must reach their root file systems
        self.lxcpath = tempfile.mkdtemp(prefix="opdbus-lxc-", dir="/tmp")
        os.chmod(self.lxcpath, 0o755)
        self.tmp_path = tmp_path
        opdbus.binary = self.in_netns(opdbus.binary)
        opdbus.env.update({"OPDBUS_LXC_PATH": self.lxcpath, "PATH": NO_PCT_PATH})

    def run(self, state, *args, cmd="apply", check=None, env=None):
        return self.opdbus.run(cmd, "--json", self.tmp_state(state), *args, check=check, json=True,
                               env=env, timeout=300)

    def in_netns(self, program):
        """A wrapper that runs program as op-dbus runs (IN_NETNS)."""
        wrapper = self.tmp_path / f"{os.path.basename(program)}-in-netns"
        wrapper.write_text(IN_NETNS.format(netns=self.ovs.netns, program=program))
        wrapper.chmod(0o755)
        return str(wrapper)

    def start_by_hand(self, ct):
        """lxc-start, run where LXC can plug the veth into the sandbox's
        bridge (with the sandbox's OVS_RUNDIR, for its ovs-vsctl)."""
        res = run([self.in_netns(shutil.which("lxc-start")), "-P", self.lxcpath, "-n", ct],
                  timeout=120, env={**os.environ, **self.ovs.env()})
        assert res.returncode == 0, res.stderr

    def tool(self, tool, ct, *args, input=None):
        """An LXC tool on a container, in the sandbox's network namespace
        (where LXC's command socket is)."""
        return run(["nsenter", f"--net=/run/netns/{self.ovs.netns}", "--", tool, "-P", self.lxcpath,
                     "-n", ct, *args], input=input, timeout=120)

    def inside(self, ct, *cmd):
        return self.tool("lxc-attach", ct, "--clear-env", "--", *cmd)

    def running(self, ct):
        return self.tool("lxc-info", ct, "-s", "-H").stdout.strip() == "RUNNING"

    def ping(self, ct, addr, attempts=3):
        """Pings until a reply comes (an address that did not answer for a
        while, e.g. on another bridge, stays unresolved for a moment)."""
        for _ in range(attempts):
            res = self.inside(ct, "ping", "-c", "1", "-W", "2", addr)
            if res.returncode == 0:
                break
        return res

    def ids(self):
        return sorted(int(n) for n in os.listdir(self.lxcpath)
                      if n.isdigit() and os.path.exists(os.path.join(self.lxcpath, n, "config")))

    def config_text(self, ct):
        with open(os.path.join(self.lxcpath, str(ct), "config")) as f:
            return f.read()

    def config(self, ct):
        """key -> value of the last line with that key."""
        conf = {}
        for line in self.config_text(ct).splitlines():
            if "=" in line and not line.lstrip().startswith("#"):
                key, value = line.split("=", 1)
                conf[key.strip()] = value.strip()
        return conf

    def record(self, ct):
        with open(os.path.join(self.lxcpath, str(ct), "op-dbus.json")) as f:
            return json.load(f)

    def memory_limit(self, ct):
        """The running container's memory limit in bytes (v2 or v1)."""
        for key in ("memory.max", "memory.limit_in_bytes"):
            res = self.tool("lxc-cgroup", ct, key)
            if res.returncode == 0:
                return int(res.stdout.strip())
        raise AssertionError(f"no memory limit readable for {ct}")

    def handmade(self, ct, *extra):
        """A container made with lxc-create by hand: no op-dbus record."""
        res = self.tool("lxc-create", ct, "-t", "busybox", *extra)
        assert res.returncode == 0, res.stderr

    def links(self):
        out = run(["nsenter", f"--net=/run/netns/{self.ovs.netns}", "--", "ip", "-j", "link", "show"]).stdout
        return [link["ifname"] for link in json.loads(out or "[]")
                if re.fullmatch(r"veth\d+[it]0", link["ifname"])]

    def close(self):
        """Destroys every container (whatever the test left), then checks
        that nothing of them remains. Returns the problems found."""
        problems = {}
        for name in sorted(os.listdir(self.lxcpath)):
            if os.path.isdir(os.path.join(self.lxcpath, name)):
                res = self.tool("lxc-destroy", name, "-f")
                if res.returncode != 0 and os.path.exists(os.path.join(self.lxcpath, name, "config")):
                    problems.setdefault("destroy failed", []).append(f"{name}: {res.stderr.strip()}")
        pids = pids_naming(self.lxcpath)
        for pid in pids:
            try:
                os.kill(pid, signal.SIGKILL)
            except ProcessLookupError:
                pass
        if pids:
            problems["processes"] = pids
        deadline = time.monotonic() + 5
        while pids_naming(self.lxcpath) and time.monotonic() < deadline:
            time.sleep(0.05)
        if os.path.exists(f"/run/netns/{self.ovs.netns}"):
            # a stopped container's network namespace goes away asynchronously
            deadline = time.monotonic() + 5
            while self.links() and time.monotonic() < deadline:
                time.sleep(0.05)
            links = self.links()
            for name in links:
                run(["nsenter", f"--net=/run/netns/{self.ovs.netns}", "--", "ip", "link", "delete", name])
            if links:
                problems["interfaces"] = links
        shutil.rmtree(self.lxcpath, ignore_errors=True)
        remove_lxc_lock_dir(self.lxcpath)
        return problems


@pytest.fixture
def host(ovs, opdbus, tmp_path, tmp_state, busybox_archive):
    h = Host(ovs, opdbus, tmp_path, tmp_state, busybox_archive)
    yield h
    problems = h.close()
    if problems:
        pytest.fail(f"containers or their traces were left behind: {problems}", pytrace=False)


def container(host, ct, ip=None, **kw):
    c = {"id": ct, "name": f"ct{ct}", "template": host.archive, "state": "running",
         "properties": {"memory": 256, "swap": 0}}
    if ip:
        c["network"] = {"bridge": "vmbr0", "ipv4": ip, "hwaddr": f"BC:24:11:00:{ct // 100:02X}:{ct % 100:02X}"}
    for key, value in kw.items():
        if isinstance(value, dict) and isinstance(c.get(key), dict):
            c[key].update(value)
        else:
            c[key] = value
    return c


def state(*containers, prune=False, backend="lxc"):
    lxc = {"backend": backend, "containers": list(containers)}
    if prune:
        lxc["prune"] = True
    return {"version": 1, "plugins": {"net": {"bridges": [{"name": "vmbr0", "datapath_type": "netdev"}]},
                                      "lxc": lxc}}


def changes(res, plugin="lxc"):
    return {(c["action"], c["path"], c["impact"]) for c in res.json["changes"] if c["plugin"] == plugin}


def test_two_containers_on_ovs_ping_and_second_apply_does_nothing(host):
    doc = state(container(host, 301, "10.60.0.1/24"), container(host, 302, "10.60.0.2/24"))
    res = host.run(doc, check=0)
    assert changes(res) == {("create", "container/301", "no traffic impact"),
                            ("create", "container/302", "no traffic impact")}
    # two creates, two starts, and the containers' eth0 on a userspace bridge
    # sending without checksum offload (see test_veth_on_a_userspace_bridge)
    assert res.json["counts"]["commands"] == 6
    assert host.running("301") and host.running("302")

    # LXC plugged the veths into the OVS bridge, under Proxmox's names
    assert set(host.ovs.vsctl("list-ports", "vmbr0").split()) == {"veth301i0", "veth302i0"}
    conf = host.config(301)
    assert conf["lxc.uts.name"] == "ct301" and conf["lxc.net.0.link"] == "vmbr0"
    assert conf["lxc.net.0.veth.pair"] == "veth301i0" and conf["lxc.net.0.hwaddr"] == "BC:24:11:00:03:01"
    assert conf["lxc.net.0.ipv4.address"] == "10.60.0.1/24" and conf["lxc.net.0.name"] == "eth0"
    assert conf["lxc.idmap"] == "g 0 100000 65536"  # unprivileged
    assert conf["lxc.rootfs.path"] == f"dir:{host.lxcpath}/301/rootfs"
    assert conf["lxc.signal.halt"] == "SIGUSR1"  # busybox init
    assert host.record(301)["managed_by"] == "op-dbus" and host.record(301)["template"] == host.archive
    assert host.memory_limit("301") == 256 * 1024 * 1024
    assert os.stat(f"{host.lxcpath}/301/rootfs/bin/busybox").st_uid == 100000
    assert host.inside("301", "hostname").stdout.strip() == "ct301"

    res = host.ping("301", "10.60.0.2")
    assert res.returncode == 0, res.stdout + res.stderr
    res = host.ping("302", "10.60.0.1")
    assert res.returncode == 0, res.stdout + res.stderr

    # the second apply changes nothing and runs no changing command
    res = host.run(doc, check=0)
    assert res.json["changes"] == [] and res.json["counts"]["commands"] == 0
    host.run(doc, cmd="verify", check=0)

    # the query lists both; applied as a state it changes nothing either
    live = host.opdbus.run("query", check=0, json=True).json
    lxc = live["plugins"]["lxc"]
    assert lxc["backend"] == "lxc" and [c["id"] for c in lxc["containers"]] == [301, 302]
    ct = lxc["containers"][0]
    assert ct["network"]["port_name"] == "veth301i0" and ct["template"] == host.archive
    assert ct["properties"]["memory"] == 256 and ct["properties"]["unprivileged"] is True
    res = host.run(live, check=0)
    assert res.json["changes"] == [] and res.json["counts"]["commands"] == 0


def test_veth_on_a_userspace_bridge_sends_without_checksum_offload(host):
    """vmbr0 uses the userspace datapath, which loses what a veth sends
    with transmit checksum offload (test_traffic.py): op-dbus turns it off
    on the container's eth0 after each start, and again when a container
    restarted by hand has it back; TCP and UDP between the containers work."""
    doc = state(container(host, 305, "10.60.0.5/24"), container(host, 306, "10.60.0.6/24"))
    host.run(doc, check=0)

    def pid(ct):
        return int(host.tool("lxc-info", ct, "-p", "-H").stdout.strip())

    def tx(ct):
        out = run(["nsenter", "-t", str(pid(ct)), "-n", "ethtool", "-k", "eth0"]).stdout
        return re.search(r"^tx-checksumming: (\S+)", out, re.M).group(1)

    def peer(ct):
        return netlab.Peer(f"ct{ct}", f"/proc/{pid(ct)}/ns/net", f"10.60.0.{ct - 300}")

    assert (tx("305"), tx("306")) == ("off", "off")
    assert netlab.tcp_exchange(peer(305), peer(306), 5001) == "10.60.0.5"
    assert netlab.udp_exchange(peer(306), peer(305), 5002) == "10.60.0.6"

    host.tool("lxc-stop", "305")
    host.start_by_hand("305")
    assert tx("305") == "on"
    res = host.run(doc, cmd="plan", check=0)
    assert [(c["action"], c["path"], c["impact"], c["detail"]) for c in res.json["changes"]] == [
        ("modify", "container/305/offload", "no traffic impact",
         "eth0: transmit checksum offload on -> off (bridge vmbr0 uses the userspace datapath)")]
    res = host.run(doc, check=0)
    assert res.json["counts"]["commands"] == 1 and tx("305") == "off"
    assert netlab.tcp_exchange(peer(306), peer(305), 5001) == "10.60.0.6"
    assert host.run(doc, check=0).json["changes"] == []


def test_container_from_the_busybox_template(host):
    c = container(host, 303, "10.61.0.3/24", template="busybox", network={"tag": 5})
    del c["network"]["hwaddr"]
    res = host.run(state(c), check=0)
    assert changes(res) == {("create", "container/303", "no traffic impact")}
    assert host.running("303")
    # the VLAN tag: LXC makes the port an access port
    assert host.ovs.vsctl("get", "Port", "veth303i0", "tag") == "5"
    assert host.ovs.vsctl("get", "Port", "veth303i0", "vlan_mode") == "access"
    text = host.config_text(303)
    # the template's own lines stay; op-dbus's block follows them
    head, block = text.split("# op-dbus: ", 1)
    assert "lxc.signal.halt = SIGUSR1" in head and "lxc.uts.name" not in head
    assert "lxc.uts.name = ct303" in block and "lxc.net.0.veth.vlan.id = 5" in block
    assert host.record(303)["template"] == "busybox"
    assert host.inside("303", "hostname").stdout.strip() == "ct303"
    # no hwaddr in the state: one is generated (locally administered) and kept
    mac = host.config(303)["lxc.net.0.hwaddr"]
    assert re.fullmatch(r"[0-9A-F]{2}(:[0-9A-F]{2}){5}", mac) and int(mac[:2], 16) & 3 == 2
    assert mac.lower() in host.inside("303", "ip", "link", "show", "eth0").stdout

    res = host.run(state(c), check=0)
    assert res.json["changes"] == [] and res.json["counts"]["commands"] == 0


def cgroups_of(pid):
    """The cgroup paths of a process, one per hierarchy line."""
    with open(f"/proc/{pid}/cgroup") as f:
        return [line.rstrip("\n").split(":", 2)[2] for line in f]


def test_containers_leave_the_callers_cgroup(host):
    """As docs/containers.md and docs/systemd.md say: LXC (root, its default
    lxc.cgroup.relative = 0) puts a container op-dbus starts, and its
    monitor, in cgroups of their own, not below op-dbus's, so stopping
    op-dbus.service (KillMode=mixed) does not kill them."""
    host.run(state(container(host, 341)), check=0)
    init = int(host.tool("lxc-info", "341", "-p", "-H").stdout.strip())
    (monitor,) = [pid for pid in pids_naming(host.lxcpath) if pid != init and "341" in
                  open(f"/proc/{pid}/cmdline").read().replace("\0", " ").split()]
    ours = cgroups_of(os.getpid())
    for pid, kind in ((init, "payload"), (monitor, "monitor")):
        theirs = cgroups_of(pid)
        assert any(f"lxc.{kind}.341" in path for path in theirs), (kind, theirs)
        for mine, path in zip(ours, theirs):
            assert mine == "/" or not path.startswith(mine + "/"), (kind, mine, path)


def test_changes_get_exactly_the_planned_action(host):
    doc = state(container(host, 311, "10.62.0.1/24"), container(host, 312, "10.62.0.2/24"))
    host.run(doc, check=0)
    ct, peer = doc["plugins"]["lxc"]["containers"]

    # memory: set in place on the running container, cgroup included
    ct["properties"]["memory"] = 512
    plan = host.run(doc, cmd="plan", check=0)
    (change,) = plan.json["changes"]
    assert (change["action"], change["impact"], change["detail"]) == ("modify", "no traffic impact", "memory 256 -> 512")
    res = host.run(doc, check=0)
    assert changes(res) == {("modify", "container/311", "no traffic impact")}
    assert res.json["counts"]["commands"] == 1
    assert host.memory_limit("311") == 512 * 1024 * 1024 and host.running("311")

    # the host name: changed live
    ct["name"] = "renamed"
    res = host.run(doc, check=0)
    assert changes(res) == {("modify", "container/311", "no traffic impact")}
    assert host.inside("311", "hostname").stdout.strip() == "renamed"
    assert host.config(311)["lxc.uts.name"] == "renamed"

    # hwaddr: the NIC changes (link down and up: a port flap), no restart
    ct["network"]["hwaddr"] = "02:00:00:00:03:11"
    res = host.run(doc, check=0)
    assert changes(res) == {("replug", "container/311", "port flap")}
    inside = host.inside("311", "ip", "addr", "show", "eth0").stdout
    assert "02:00:00:00:03:11" in inside and "10.62.0.1/24" in inside
    assert "veth311i0" in host.ovs.vsctl("list-ports", "vmbr0").split()
    res = host.ping("311", "10.62.0.2")
    assert res.returncode == 0, res.stdout + res.stderr

    # a VLAN tag: the port is plugged again (both, so that they still meet)
    ct["network"]["tag"] = peer["network"]["tag"] = 7
    res = host.run(doc, check=0)
    assert changes(res) == {("replug", "container/311", "port flap"), ("replug", "container/312", "port flap")}
    assert host.ovs.vsctl("get", "Port", "veth311i0", "tag") == "7"
    res = host.ping("311", "10.62.0.2")
    assert res.returncode == 0, res.stdout + res.stderr

    # features take effect at the next start: modify with a restart
    ct["properties"]["features"] = {"nesting": True}
    res = host.run(doc, check=0)
    assert changes(res) == {("modify", "container/311", "container restart")}
    assert res.json["counts"]["commands"] == 4  # set, stop, start, eth0 without checksum offload
    assert "lxc.include = /usr/share/lxc/config/nesting.conf" in host.config_text(311)
    assert host.running("311") and host.ovs.vsctl("get", "Port", "veth311i0", "tag") == "7"
    res = host.ping("311", "10.62.0.2")
    assert res.returncode == 0, res.stdout + res.stderr

    # another privilege level: destroyed and created again
    privileged = json.loads(json.dumps(doc))
    privileged["plugins"]["lxc"]["containers"][0]["properties"].update(
        {"unprivileged": False, "allow_privileged": True})
    plan = host.run(privileged, cmd="plan", check=0)
    (change,) = plan.json["changes"]
    assert (change["action"], change["impact"]) == ("recreate", "container destroyed")
    assert "unprivileged 1 -> 0" in change["detail"] and "data is lost" in change["detail"]

    # stop: the state says so
    ct["state"] = "stopped"
    res = host.run(doc, check=0)
    assert changes(res) == {("modify", "container/311", "container restart")}
    assert host.running("312")
    assert not host.running("311")
    assert "veth311i0" not in host.ovs.vsctl("list-ports", "vmbr0").split()
    res = host.run(doc, check=0)
    assert res.json["changes"] == []


def test_nic_changes_on_a_running_container(host):
    """What Proxmox hot-plugs is changed live here too: no restart."""
    doc = state(container(host, 315, "10.66.0.1/24"), container(host, 316, "10.66.0.2/24"))
    doc["plugins"]["net"]["bridges"].append({"name": "vmbr1", "datapath_type": "netdev"})
    host.run(doc, check=0)
    ct = doc["plugins"]["lxc"]["containers"][0]
    pid = host.tool("lxc-info", "315", "-p", "-H").stdout.strip()

    # another bridge: re-plugged
    ct["network"]["bridge"] = "vmbr1"
    res = host.run(doc, check=0)
    assert changes(res) == {("replug", "container/315", "port flap")}
    assert host.ovs.vsctl("list-ports", "vmbr1").split() == ["veth315i0"]
    assert host.ping("315", "10.66.0.2", attempts=1).returncode != 0
    ct["network"]["bridge"] = "vmbr0"
    host.run(doc, check=0)
    res = host.ping("315", "10.66.0.2")
    assert res.returncode == 0, res.stdout + res.stderr

    # no NIC: removed; a NIC again: added, with address and gateway
    network = ct.pop("network")
    res = host.run(doc, check=0)
    assert changes(res) == {("modify", "container/315", "port removed")}
    assert "eth0" not in host.inside("315", "ip", "link").stdout
    assert "veth315i0" not in host.ovs.vsctl("list-ports", "vmbr0").split() and "veth315i0" not in host.links()
    ct["network"] = dict(network, gateway="10.66.0.254")
    res = host.run(doc, check=0)
    assert changes(res) == {("modify", "container/315", "no traffic impact")}
    assert "default via 10.66.0.254 dev eth0" in host.inside("315", "ip", "route").stdout
    res = host.ping("315", "10.66.0.2")
    assert res.returncode == 0, res.stdout + res.stderr
    assert host.tool("lxc-info", "315", "-p", "-H").stdout.strip() == pid  # never restarted
    res = host.run(doc, check=0)
    assert res.json["changes"] == []

    # a NIC added live is not LXC's: op-dbus removes it when it stops the container
    ct["state"] = "stopped"
    host.run(doc, check=0)
    assert "veth315i0" not in host.ovs.vsctl("list-ports", "vmbr0").split() and "veth315i0" not in host.links()
    ct["state"] = "running"
    host.run(doc, check=0)
    res = host.ping("315", "10.66.0.2")
    assert res.returncode == 0, res.stdout + res.stderr


def test_foreign_container_is_left_alone_and_cannot_be_declared(host):
    host.handmade("320")
    host.handmade("web")
    before = host.config_text(320)
    res = host.run(state(container(host, 321, state="stopped"), prune=True), check=0)
    assert changes(res) == {("create", "container/321", "no traffic impact")}
    assert host.config_text(320) == before and host.ids() == [320, 321]

    res = host.run(state(container(host, 320, state="stopped")), check=2)
    (error,) = res.json["errors"]
    assert error.startswith("plugins.lxc.containers[0]: container 320 already exists and was not created by op-dbus "
                            "(it has no op-dbus.json record)"), error
    assert res.json["counts"]["commands"] == 0 and host.config_text(320) == before

    # nor does the query show them
    live = host.opdbus.run("query", check=0, json=True).json
    assert [c["id"] for c in live["plugins"]["lxc"]["containers"]] == [321]


@pytest.mark.ovs_log_allow(r"\|bridge\|ERR\|failed to create bridge nosuchbr: ")
def test_failed_creations_are_rolled_back(host):
    res = host.run(state(container(host, 330, template="nosuch")), check=2)
    (error,) = res.json["errors"]
    assert error.startswith('plugins.lxc.containers[0].template: template "nosuch" is neither one of LXC\'s templates')
    assert "busybox" in error
    res = host.run(state(container(host, 330, template="/nonexistent/rootfs.tar.gz")), check=2)
    assert res.json["errors"] == [
        "plugins.lxc.containers[0].template: template file /nonexistent/rootfs.tar.gz does not exist or cannot be read"]
    res = host.run(state(container(host, 330, template="download")), check=2)
    assert "the download template needs a distribution and a release" in res.json["errors"][0]

    # a bridge the state declares, but only the lxc section is applied:
    # the applied state would have the container on a bridge nobody
    # creates, refused before anything is touched
    doc = state(container(host, 331, "10.63.0.1/24", network={"bridge": "nosuchbr"}))
    doc["plugins"]["net"]["bridges"].append({"name": "nosuchbr", "datapath_type": "netdev"})
    res = host.run(doc, "--plugin", "lxc", check=2)
    assert res.json["errors"][0].startswith('plugins.lxc.containers[0].network.bridge: bridge "nosuchbr" does '
                                            "not exist"), res.json["errors"]
    assert host.ids() == []

    # a bridge OVSDB has but ovs-vswitchd could not create (no such
    # datapath type): the start fails, the container goes again
    host.ovs.vsctl("add-br", "nosuchbr", "--", "set", "Bridge", "nosuchbr", "datapath_type=nosuch")
    res = host.run(state(container(host, 331, "10.63.0.1/24", network={"bridge": "nosuchbr"})), check=1)
    assert res.json["rolled_back"]
    assert any("`lxc-start 331` failed" in e and "nosuchbr" in e and "doesn't exist" in e
               for e in res.json["errors"]), res.json["errors"]
    assert host.ids() == [] and not os.path.exists(f"{host.lxcpath}/331")
    # no port left and no interface
    assert "veth331i0" not in host.ovs.vsctl("show") and host.links() == []


def test_rollback_restores_settings_and_removes_what_the_apply_created(host):
    host.run(state(container(host, 340, state="stopped")), check=0)
    doc = state(container(host, 340, state="stopped", properties={"memory": 512}),
                container(host, 341, state="stopped"))
    res = host.run(doc, check=1, env={"OPDBUS_FAULT_INJECT": "lxc"})
    assert res.json["rolled_back"] and res.json["status"] == "failed"
    assert {(c["action"], c["path"]) for c in res.json["rollback_changes"] if c["plugin"] == "lxc"} == {
        ("modify", "container/340"), ("delete", "container/341")}
    assert host.ids() == [340]
    conf = host.config(340)
    assert (conf.get("lxc.cgroup2.memory.max") or conf.get("lxc.cgroup.memory.limit_in_bytes")) == str(256 * 1024 * 1024)


def test_tun_device(host):
    doc = state(container(host, 350, "10.64.0.1/24"))
    host.run(doc, check=0)
    doc["plugins"]["lxc"]["containers"][0]["services"] = ["wg-quick@wg0"]
    plan = host.run(doc, cmd="plan", check=0)
    (change,) = plan.json["changes"]
    assert (change["action"], change["impact"]) == ("modify", "container restart")
    assert "TUN device off -> on" in change["detail"]
    host.run(doc, check=0)
    text = host.config_text(350)
    assert re.search(r"^lxc\.cgroup2?\.devices\.allow = c 10:200 rwm$", text, re.M)
    assert "lxc.mount.entry = /dev/net/tun dev/net/tun none bind,create=file\n" in text
    res = host.inside("350", "ls", "-l", "/dev/net/tun")
    assert res.returncode == 0 and res.stdout.startswith("c"), res.stdout + res.stderr
    res = host.run(doc, check=0)
    assert res.json["changes"] == []

    # and gone again
    doc["plugins"]["lxc"]["containers"][0]["services"] = []
    host.run(doc, check=0)
    assert "/dev/net/tun" not in host.config_text(350)


def test_services_through_lxc_attach(host):
    """The services of a container on the plain LXC backend go in through
    lxc-attach (LXC has no push): the same files, modes, owner and key, and
    a second apply changes nothing."""
    wg0 = {"address": "10.99.0.1/24", "listen_port": 51820, "private_key_file": "/etc/wireguard/private.key",
           "peers": [{"public_key": "xTIBA5rboUvnH4htodjb6e697QjLERt1NAB4mZqp8Dg=", "allowed_ips": ["10.99.0.0/24"]}]}
    doc = state(container(host, 360, "10.65.0.1/24", services=["wireguard"], config={"wg0": wg0}))
    res = host.run(doc, check=0)
    assert ("modify", "container/360/services", "no traffic impact") in changes(res)
    for path in ("/etc/wireguard/wg0.conf", "/etc/wireguard/wg0.nft", "/etc/wireguard/private.key"):
        out = host.inside("360", "stat", "-c", "%a %u", path).stdout.strip()
        assert out == "600 0", (path, out)
    assert "ListenPort = 51820" in host.inside("360", "cat", "/etc/wireguard/wg0.conf").stdout
    key = host.inside("360", "cat", "/etc/wireguard/private.key").stdout.strip()
    assert len(key) == 44 and key not in res.stdout + res.stderr
    assert not [f for f in host.inside("360", "ls", "-a", "/etc/wireguard").stdout.split() if "op-dbus-new" in f]

    res = host.run(doc, check=0)
    assert res.json["changes"] == [] and res.json["counts"]["commands"] == 0


def test_prune(host):
    host.run(state(container(host, 360, state="stopped"), container(host, 361, state="stopped")), check=0)
    res = host.run(state(container(host, 360, state="stopped")), check=0)
    assert res.json["changes"] == []
    assert any("container 361 (ct361) was created by op-dbus and is no longer in the state" in w
               for w in res.json["warnings"])
    assert host.ids() == [360, 361]

    res = host.run(state(container(host, 360, state="stopped"), prune=True), check=2)
    assert "delete would destroy container 361 and the data on its disks; refused" in res.json["errors"][0]
    assert host.ids() == [360, 361]
    res = host.run(state(container(host, 360, state="stopped"), prune=True), "--allow-outage", check=0)
    assert changes(res) == {("delete", "container/361", "container destroyed")}
    assert host.ids() == [360]


def test_refused_plans_and_auto(host):
    res = host.run(state(container(host, 370, properties={"features": "nesting=1,keyctl=1"})), cmd="plan", check=2)
    assert res.json["errors"] == [
        'plugins.lxc.containers[0].properties.features: feature "keyctl" has no equivalent with the plain LXC backend '
        '(only "nesting" has: it includes LXC\'s nesting.conf); remove it, or use the pct backend']
    res = host.run(state(container(host, 370, "10.65.0.1/24", network={"firewall": True})), cmd="plan", check=2)
    assert res.json["errors"][0].startswith("plugins.lxc.containers[0].network.firewall: the Proxmox firewall")
    res = host.run(state(container(host, 370, properties={"nameserver": "10.0.0.53"})), cmd="plan", check=2)
    assert res.json["errors"][0].startswith("plugins.lxc.containers[0].properties.nameserver: LXC does not configure")

    # storage and size have no meaning for a directory: warned about, not refused
    res = host.run(state(container(host, 370, properties={"storage": "local-lvm", "rootfs_size": 8})), cmd="plan", check=0)
    assert any(w.startswith("plugins.lxc.containers[0].properties.storage: ignored by the plain LXC backend")
               for w in res.json["warnings"])
    assert any(w.startswith("plugins.lxc.containers[0].properties.rootfs_size: ignored") for w in res.json["warnings"])

    # "auto" without pct on PATH is plain LXC
    res = host.run(state(container(host, 370), backend="auto"), cmd="plan", check=0)
    assert changes(res) == {("create", "container/370", "no traffic impact")}
    assert host.ids() == []


# ovs-vswitchd logs an error for the socket port's tap that goes with the
# container's namespace at the end (docs/socket-networking.md)
@pytest.mark.ovs_log_allow(
    r"dpif_netdev\|ERR\|error receiving data from internal_\d+: File descriptor in bad state")
def test_socket_networking_and_a_container_selector(host):
    """The containers scenario of test_containers_scenario.py on plain LXC
    (without firewall=1, which is Proxmox's): a veth container and a socket
    networking one reach each other through OVS, container:N resolves to the
    socket port, and the second apply changes nothing."""
    sock = container(host, 342, network={"bridge": "vmbr0", "socket_networking": True,
                                         "ipv4": "10.63.0.42/24", "hwaddr": "02:00:5e:63:00:42"})
    doc = state(container(host, 341, "10.63.0.41/24"), sock)
    doc["plugins"]["openflow"] = {
        "obfuscation_level": 1, "bridges": [{"name": "vmbr0"}],
        "flow_policies": [{"name": "web-342", "selector": "container:342",
                           "template": {"table": 10, "priority": 900, "match": "tcp,tp_dst=80",
                                        "actions": [{"type": "normal"}]}}]}
    res = host.run(doc, check=0)
    assert res.json["ok"], res.json
    assert host.running("341") and host.running("342")
    ports = set(host.ovs.vsctl("list-ports", "vmbr0").split())
    assert {"veth341i0", "internal_342"} <= ports, ports
    assert "inet 10.63.0.42/24" in host.inside("342", "ip", "-4", "addr", "show", "eth0").stdout
    assert host.ping("341", "10.63.0.42").returncode == 0
    assert host.ping("342", "10.63.0.41").returncode == 0

    ofport = host.ovs.vsctl("get", "Interface", "internal_342", "ofport")
    policy = [line for line in host.ovs.ofctl("dump-flows", "vmbr0", "table=10").splitlines() if "tp_dst=80" in line]
    assert policy and all(f"in_port={ofport}" in line.replace(" ", ",").split(",") for line in policy), policy

    res = host.run(doc, check=0)
    assert res.json["changes"] == [] and res.json["counts"] == {"writes": 0, "ovsdb_ops": 0, "flow_mods": 0, "commands": 0}


def test_netmaker_containers_get_their_token_through_the_lxc_backend(host, pki):  # noqa: F811
    """Netmaker on plain LXC: the netmaker plugin reaches the containers
    through the lxc plugin's backend, so a running container receives the
    token and the unit through lxc-attach and a stopped one through its
    root file system, owned by the container's root as the host sees it
    (uid 100000: the containers are unprivileged); the second apply
    changes nothing. The Netmaker stand-in listens in the namespace
    op-dbus runs in."""
    for var in PROXY_VARIABLES:
        host.opdbus.env.pop(var, None)
    host.opdbus.env["OPDBUS_CA_FILE"] = pki["ca"]
    with netlab.in_netns(host.ovs.netns):
        srv = HttpsServer(*pki["good"])
    try:
        token = Token(f"127.0.0.1:{srv.port}")
        nm = {"network_type": "netmaker"}
        doc = state(container(host, 381, "10.64.0.81/24", properties=nm),
                    container(host, 382, "10.64.0.82/24", properties=nm, state="stopped"))
        doc["plugins"]["netmaker"] = {"enabled": True, "default_network": "containers",
                                      "token_file": write_token_file(host.tmp_path / "netmaker.env", token)}

        res = host.run(doc, cmd="plan", check=0)
        token.assert_absent(res.stdout, res.stderr)
        assert {(a, p) for a, p, _ in changes(res, "netmaker")} == {
            ("create", "netmaker/container/381"), ("create", "netmaker/container/382")}

        res = host.run(doc, check=0)
        token.assert_absent(res.stdout, res.stderr)
        assert res.json["ok"], res.json
        assert host.running("381") and not host.running("382")
        assert host.inside("381", "cat", TOKEN_PATH).stdout == token.value + "\n"
        assert host.inside("381", "stat", "-c", "%a %u", TOKEN_PATH).stdout.strip() == "600 0"
        assert host.inside("381", "readlink", UNIT_LINK).stdout.strip() == UNIT_PATH
        rootfs = os.path.join(host.lxcpath, "382", "rootfs")
        st = os.lstat(rootfs + TOKEN_PATH)
        assert (st.st_mode & 0o777, st.st_uid, st.st_gid) == (0o600, 100000, 100000)
        with open(rootfs + TOKEN_PATH) as f:
            assert f.read() == token.value + "\n"
        assert os.readlink(rootfs + UNIT_LINK) == UNIT_PATH

        res = host.run(doc, check=0)
        assert res.json["changes"] == [], res.json["changes"]

        # the stopped container, once started, sees the files as its own root's
        host.start_by_hand("382")
        assert host.inside("382", "stat", "-c", "%a %u", TOKEN_PATH).stdout.strip() == "600 0"
        assert host.inside("382", "cat", TOKEN_PATH).stdout == token.value + "\n"
    finally:
        srv.close()
