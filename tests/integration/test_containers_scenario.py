# SPDX-License-Identifier: LGPL-2.1-or-later
"""The containers scenario of docs/containers.md: three containers of the
pct test double on one netdev bridge, one on a plain veth, one behind the
Proxmox firewall bridge (firewall=1) and one with socket networking, with
a flow policy whose selector names a container. They all run, their ports
carry the names Proxmox gives them, they reach each other through Open
vSwitch, the selector resolves to the container's port, and a second apply
changes nothing."""

from pve_fixture import pve_sim, pve_templates  # noqa: F401
from test_socket_networking import SOCKET_PORTS_LOG, container, node, opdbus_ns, socket_net  # noqa: F401

pytestmark = SOCKET_PORTS_LOG


def veth(last, firewall=False):
    return {"bridge": "vmbr0", "ipv4": f"10.31.0.{last}/24", "hwaddr": f"02:00:5e:31:00:{last:02x}",
            "firewall": firewall}


SCENARIO = {"version": 1, "plugins": {
    "net": {"bridges": [{"name": "vmbr0", "datapath_type": "netdev"}]},
    "lxc": {"containers": [container(320, veth(20)),
                           container(321, veth(21, firewall=True)),
                           container(322, socket_net(ipv4="10.31.0.22/24", hwaddr="02:00:5e:31:00:16"))]},
    "openflow": {"obfuscation_level": 1, "bridges": [{"name": "vmbr0"}],
                 "flow_policies": [{"name": "web-321", "selector": "container:321",
                                    "template": {"table": 10, "priority": 900, "match": "tcp,tp_dst=80",
                                                 "actions": [{"type": "normal"}]}}]}}}


def ofport(node, name):
    return int(node.ovs.vsctl("get", "Interface", name, "ofport"))


def test_three_containers(node, opdbus_ns, tmp_state, tmp_path):
    doc = tmp_state(SCENARIO)

    # on a Proxmox node whose /etc/network/interfaces declares vmbr0, only
    # the socket port is exposed to "ifreload -a" (veth*, fwln* are kept)
    interfaces = tmp_path / "interfaces"
    interfaces.write_text("auto vmbr0\niface vmbr0 inet manual\n\tovs_type OVSBridge\n")
    res = node.opdbus(opdbus_ns, "plan", "--json", "--interfaces", str(interfaces), doc, check=0)
    (warning,) = [w for w in res.json["warnings"] if "ifreload" in w]
    assert warning.startswith("plugins.lxc.containers[2].network: bridge vmbr0 is declared in") and \
        'port "internal_322" is removed on every reload' in warning, warning
    res = node.opdbus(opdbus_ns, "apply", "--json", doc, check=0)
    assert res.json["ok"], res.json

    for vmid in (320, 321, 322):
        assert "status: running" in node.pct("status", vmid).stdout
    ports = set(node.ovs.vsctl("list-ports", "vmbr0").split())
    # the names Proxmox gives them: a veth, the firewall bridge's link, the socket port
    assert {"veth320i0", "fwln321o0", "internal_322"} <= ports, ports
    assert "veth321i0" not in ports  # behind fwbr321i0, not on OVS

    # through Open vSwitch, each way the three can talk
    assert node.ping(320, "10.31.0.21")
    assert node.ping(320, "10.31.0.22")
    assert node.ping(322, "10.31.0.21")

    # container:321 is the firewall link's OpenFlow port
    dump = node.ovs.ofctl("dump-flows", "vmbr0", "table=10")
    policy = [line for line in dump.splitlines() if "tp_dst=80" in line]
    assert policy, dump
    want = f"in_port={ofport(node, 'fwln321o0')}"
    assert all(want in line.replace(" ", ",").split(",") for line in policy), (want, policy)

    # the second apply: nothing to do, no pct call that changes anything
    res = node.opdbus(opdbus_ns, "apply", "--json", doc, check=0)
    assert res.json["ok"] and res.json["changes"] == [], res.json["changes"]
    assert res.json["counts"] == {"writes": 0, "ovsdb_ops": 0, "flow_mods": 0, "commands": 0}, res.json["counts"]
    state_after = node.opdbus(opdbus_ns, "query", "--json", check=0).json
    assert {c["id"] for c in state_after["plugins"]["lxc"]["containers"]} >= {320, 321, 322}
