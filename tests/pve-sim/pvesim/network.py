# SPDX-License-Identifier: LGPL-2.1-or-later
"""Host-side NIC plumbing as done by PVE::Network (tap_plug, tap_unplug,
veth_create, veth_delete) and lxcnetaddbr.

All commands run in the network namespace of the simulated node: either the
caller is already inside it (LXC hooks, started by a monitor that lives
there), or `netns` names it and commands are wrapped in nsenter. ovs-vsctl
always gets --db=<the sandbox's OVSDB>; without a configured OVSDB no OVS
command is run at all, so the host's Open vSwitch is never touched.

Every ovs-vsctl invocation is appended to var/log/pve-sim/commands.log with
the arguments Proxmox would pass (without --db/--timeout).
"""

import json
import re

from .errors import PveError


def parse_tap_name(iface):
    m = re.fullmatch(r"(?:veth|tap)(\d+)i(\d+)", iface)
    return (m.group(1), m.group(2)) if m else (None, None)


def fwbr_names(vmid, devid):
    return (f"fwbr{vmid}i{devid}", f"fwln{vmid}i{devid}", f"fwpr{vmid}p{devid}",
            f"fwln{vmid}o{devid}")


class Net:
    def __init__(self, env, netns=None, ovsdb=None):
        self.env = env
        self.netns = netns
        self.ovsdb = ovsdb if ovsdb is not None else env.ovsdb

    # ---- primitives -------------------------------------------------------

    def ip(self, *args, check=True):
        return self.env.run(["ip", *map(str, args)], netns=self.netns, check=check)

    def vsctl(self, *args, check=True):
        """ovs-vsctl against the simulated node's OVSDB. Returns the
        CompletedProcess, or None when no OVSDB is configured."""
        if not self.ovsdb:
            if check:
                raise PveError("no OVSDB configured for the test double (PVE_SIM_OVSDB)\n")
            return None
        args = [str(a) for a in args]
        self.env.log_command(["ovs-vsctl", *args], self.netns)
        return self.env.run(["ovs-vsctl", f"--db={self.ovsdb}", "--timeout=20", *args],
                            netns=self.netns, check=check)

    def link(self, name):
        """`ip -d -j link show dev name` as a dict, or None."""
        res = self.ip("-d", "-j", "link", "show", "dev", name, check=False)
        if res.returncode != 0 or not res.stdout.strip():
            return None
        try:
            data = json.loads(res.stdout)
        except ValueError:
            return None
        return data[0] if data else None

    def exists(self, name):
        return self.link(name) is not None

    def is_linux_bridge(self, name):
        info = self.link(name)
        return bool(info) and info.get("linkinfo", {}).get("info_kind") == "bridge"

    def ovs_br_exists(self, name):
        if not self.ovsdb:
            return False
        res = self.vsctl("br-exists", name, check=False)
        return res is not None and res.returncode == 0

    def read_bridge_mtu(self, bridge):
        info = self.link(bridge) if bridge else None
        if not info or not info.get("mtu"):
            raise PveError(f"bridge '{bridge or ''}' does not exist\n")
        return int(info["mtu"])

    def disable_ipv6(self, iface):
        self.env.run(["sh", "-c", f"echo 1 > /proc/sys/net/ipv6/conf/{iface}/disable_ipv6"],
                     netns=self.netns, check=False)

    # ---- PVE::Network -------------------------------------------------------

    def _ovs_add_port(self, bridge, iface, tag, internal, trunks, mtu):
        cmd = ["--", "add-port", bridge, iface]
        if trunks:
            trunks = trunks.replace(";", ",")
        if trunks and tag:
            cmd += [f"tag={tag}", f"trunks={trunks}", "vlan_mode=native-untagged"]
        elif trunks:
            cmd += [f"trunks={trunks}"]
        elif tag:
            cmd += [f"tag={tag}"]
        cmd += ["--", "set", "Interface", iface, f"mtu_request={mtu}"]
        if internal:
            cmd += ["--", "set", "Interface", iface, "type=internal"]
        self.vsctl(*cmd)

    def _cleanup_firewall_bridge(self, iface):
        vmid, devid = parse_tap_name(iface)
        if vmid is None:
            return
        fwbr, vethfw, _peer, ovsint = fwbr_names(vmid, devid)
        if self.exists(ovsint):
            self.vsctl("del-port", ovsint, check=False)
        if self.exists(vethfw):
            self.ip("link", "delete", "dev", vethfw, check=False)
        if self.exists(fwbr):
            self.ip("link", "set", "dev", fwbr, "down", check=False)
            self.ip("link", "delete", "dev", fwbr, check=False)

    def _linux_bridge_vlan(self, bridge, iface, tag, trunks):
        info = self.link(bridge) or {}
        vlan_aware = info.get("linkinfo", {}).get("info_data", {}).get("vlan_filtering")
        if not vlan_aware:
            if tag or trunks:
                raise PveError("VLANs on a bridge that is not VLAN aware are not supported "
                               "by the test double\n")
            return
        self.env.run(["bridge", "vlan", "del", "dev", iface, "vid", "1-4094"],
                     netns=self.netns, check=False)
        if trunks:
            for vid in trunks.split(";"):
                self.env.run(["bridge", "vlan", "add", "dev", iface, "vid", vid],
                             netns=self.netns)
        elif not tag:
            self.env.run(["bridge", "vlan", "add", "dev", iface, "vid", "2-4094"],
                         netns=self.netns)
        self.env.run(["bridge", "vlan", "add", "dev", iface, "vid", str(tag or 1), "pvid",
                      "untagged"], netns=self.netns)

    def tap_plug(self, iface, bridge, tag=None, firewall=False, trunks=None, rate=None):
        # 1. always try to remove the port from any OVS bridge, errors ignored
        if self.ovsdb:
            self.vsctl("del-port", iface, check=False)
        # 2. bridge type
        if self.is_linux_bridge(bridge):
            ovs = False
        elif self.ovs_br_exists(bridge):
            ovs = True
        else:
            raise PveError(f"bridge '{bridge}' is neither a linux nor an OVS bridge!\n")
        mtu = self.read_bridge_mtu(bridge)
        # 3. stale firewall devices
        self._cleanup_firewall_bridge(iface)
        vmid, devid = parse_tap_name(iface)
        if ovs:
            if firewall:
                fwbr, _vethfw, _peer, ovsint = fwbr_names(vmid, devid)
                self.ip("link", "add", "name", fwbr, "mtu", mtu, "type", "bridge")
                self.ip("link", "set", "dev", fwbr, "up")
                self.ip("link", "set", "dev", iface, "master", fwbr)
                self._ovs_add_port(bridge, ovsint, tag, True, trunks, mtu)
                self.ip("link", "set", "dev", ovsint, "up")
                self.ip("link", "set", "dev", ovsint, "master", fwbr)
            else:
                self._ovs_add_port(bridge, iface, tag, False, trunks, mtu)
                self.disable_ipv6(iface)
        else:
            if firewall:
                fwbr, vethfw, vethfwpeer, _ovsint = fwbr_names(vmid, devid)
                self.ip("link", "add", "name", fwbr, "mtu", mtu, "type", "bridge")
                self.ip("link", "set", "dev", fwbr, "up")
                self.ip("link", "add", "name", vethfw, "mtu", mtu, "type", "veth", "peer",
                        "name", vethfwpeer, "mtu", mtu)
                self.ip("link", "set", "dev", vethfw, "up")
                self.ip("link", "set", "dev", vethfwpeer, "up")
                self.ip("link", "set", "dev", vethfw, "master", fwbr)
                self.ip("link", "set", "dev", iface, "master", fwbr)
                self.ip("link", "set", "dev", vethfwpeer, "master", bridge)
                self._linux_bridge_vlan(bridge, vethfwpeer, tag, trunks)
            else:
                self.ip("link", "set", "dev", iface, "master", bridge)
                self._linux_bridge_vlan(bridge, iface, tag, trunks)

    def tap_unplug(self, iface):
        info = self.link(iface)
        if info and info.get("master"):
            self.ip("link", "set", "dev", iface, "nomaster", check=False)
        self._cleanup_firewall_bridge(iface)
        if self.ovsdb:
            self.vsctl("del-port", iface, check=False)

    def veth_create(self, veth, peer, bridge, mac, mtu=None):
        if mtu is None:
            mtu = self.read_bridge_mtu(bridge)
        if not self.exists(veth):
            cmd = ["link", "add", "name", veth, "mtu", mtu, "type", "veth", "peer", "name",
                   peer, "mtu", mtu]
            if mac:
                cmd += ["addr", mac]
            self.ip(*cmd)
        self.disable_ipv6(veth)
        self.disable_ipv6(peer)
        self.ip("link", "set", veth, "up")
        self.ip("link", "set", peer, "up")

    def veth_delete(self, veth):
        if self.exists(veth):
            self.ip("link", "delete", "dev", veth, check=False)
        try:
            self.tap_unplug(veth)
        except PveError:
            pass


def net_up_hook(env, vmid, iface, conf):
    """lxcnetaddbr: plug the host side of a starting CT's NIC. Runs inside
    the node's network namespace (LXC's script.up)."""
    from . import schema
    m = re.fullmatch(r"veth(\d+)i(\d+)", iface)
    netconf = None
    if m:
        if m.group(1) != str(vmid):
            raise PveError(f"got unexpected interface name '{iface}'\n")
        netconf = conf.get(f"net{m.group(2)}")
    if netconf is None:
        raise PveError(f"unable to find network definition for interface '{iface}'\n")
    net = schema.parse_net(netconf)
    bridge = net.get("bridge")
    if not bridge:
        raise PveError("missing bridge configuration\n")
    state = {}
    try:
        with open(env.runstate_path(vmid)) as f:
            state = json.load(f)
    except (OSError, ValueError):
        pass
    nets = Net(env, None, state.get("ovsdb", env.ovsdb))
    if not nets.exists(iface):
        return
    mtu = nets.read_bridge_mtu(bridge)
    nets.ip("link", "set", "dev", iface, "up", "mtu", mtu)
    nets.ip("addr", "add", "0.0.0.0/0", "dev", iface, check=False)
    if net.get("link_down") == "1":
        nets.ip("link", "set", "dev", iface, "down")
        return
    nets.tap_plug(iface, bridge, net.get("tag"), net.get("firewall") == "1",
                  net.get("trunks"), net.get("rate"))
    nets.ip("link", "set", "dev", iface, "up")


def poststop_cleanup(env, vmid, conf, netns=None, ovsdb=None):
    """lxc-pve-poststop-hook: remove what tap_plug created."""
    nets = Net(env, netns, ovsdb)
    for key in sorted(conf):
        m = re.fullmatch(r"net(\d+)", key)
        if not m:
            continue
        iface = f"veth{vmid}i{m.group(1)}"
        try:
            nets.veth_delete(iface)   # includes tap_unplug
        except PveError:
            pass
    # make sure no Linux device of ours survives (e.g. the peer of a failed
    # hot-plug); fwln<vmid>o<N> belongs to OVS and was removed above
    for iface in list_links(nets, vmid):
        nets.ip("link", "delete", "dev", iface, check=False)


def list_links(nets, vmid):
    res = nets.ip("-j", "link", "show", check=False)
    try:
        links = json.loads(res.stdout or "[]")
    except ValueError:
        return []
    pat = re.compile(rf"(veth{vmid}i\d+p?|fwbr{vmid}i\d+|fwln{vmid}i\d+|fwpr{vmid}p\d+)")
    return [l["ifname"] for l in links if pat.fullmatch(l.get("ifname", ""))]
