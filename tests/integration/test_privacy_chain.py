# SPDX-License-Identifier: LGPL-2.1-or-later
"""The privacy-client profile end to end (docs/profiles.md): `init
--profile privacy-client` with --set values, applied on the Proxmox test
double and the OVS sandbox, gives three running containers on ovsbr0 with
socket networking, the chain's steering policies and level-3 protection.
An "uplink" namespace the test creates stands for the node's way out
(10.0.0.1, the XRay client's gateway). `init --profile privacy-vps` gives
the VPS side: one container whose TLS port is the only one reachable from
the uplink."""

import errno
import socket

import pytest

from netlab import lab  # noqa: F401  (the fixture)
from pve_fixture import pve_sim, pve_templates  # noqa: F401
from test_socket_networking import SOCKET_PORTS_LOG, node  # noqa: F401

KEY = "xTIBA5rboUvnH4htodjb6e697QjLERt1NAB4mZqp8Dg="
WARP = "bmXOC+F1FxEMF9dyiK2H5/1SUtzH0JuVo51h2wPfgyo="
UPLINK_MAC = "02:00:5e:00:00:01"

pytestmark = SOCKET_PORTS_LOG


@pytest.fixture
def chain(node, opdbus, lab, tmp_state):  # noqa: F811
    doc = opdbus.run("init", "--profile", "privacy-client", "--set", "vps_ip=203.0.113.7",
                     "--set", f"client_public_key={KEY}", "--set", f"warp_public_key={WARP}",
                     "--set", "uuid=1b671a64-40d5-491e-99b0-da01ff1f3341", check=0, json=True).json
    opdbus.binary = str(node.wrapper)
    res = node.opdbus(opdbus, "apply", "--json", tmp_state(doc), check=0)
    assert res.json["ok"], res.json
    lab._bridges.add("ovsbr0")  # op-dbus's bridge: the lab only adds a port
    uplink = lab.add_host("uplink", UPLINK_MAC, "10.0.0.1", port="uplink0", bridge="ovsbr0")
    return node, uplink


def tcp_from(node, vmid, dst, port):
    """A TCP connection attempt from inside the container (busybox nc)."""
    node.pve.pct("exec", vmid, "--", "nc", "-w", "1", dst, str(port))


def dns_from(node, vmid, server):
    """A DNS query (UDP port 53) from inside the container to server."""
    node.pve.pct("exec", vmid, "--", "timeout", "2", "nslookup", "example.org", server)


def seen(sniffer, src, dport, dst=None):
    return sniffer.wait_for(lambda p: getattr(p, "ip_src", None) == src and getattr(p, "dport", None) == dport
                            and (dst is None or p.ip_dst == dst), timeout=1.5)


def test_three_containers_on_ovsbr0(chain):
    node, _ = chain
    for vmid in (100, 101, 102):
        assert "status: running" in node.pct("status", vmid).stdout
    ports = set(node.ovs.vsctl("list-ports", "ovsbr0").split())
    assert {"internal_100", "internal_101", "internal_102"} <= ports, ports


def test_services_are_in_the_containers(chain):
    """The apply put each member's service files in place (docs/services.md)."""
    node, _ = chain
    for vmid, path in ((100, "/etc/wireguard/wg0.conf"), (100, "/etc/wireguard/private.key"),
                       (101, "/etc/wireguard/wg-warp.conf"), (102, "/usr/local/etc/xray/config.json")):
        out = node.pct("exec", vmid, "--", "stat", "-c", "%a %u", path).stdout.strip()
        assert out == "600 0", (vmid, path, out)
    assert "socks" in node.inside(102, "cat", "/usr/local/etc/xray/config.json")


def test_each_hop_reaches_the_next(chain):
    node, _ = chain
    assert node.ping(100, "10.0.0.101")   # WireGuard gateway -> Warp
    assert node.ping(101, "10.0.0.102")   # Warp -> XRay client
    assert node.ping(102, "10.0.0.1")     # XRay client -> uplink


def test_gateway_and_warp_cannot_reach_the_uplink(chain):
    node, uplink = chain
    with uplink.sniffer() as s:
        tcp_from(node, 102, "10.0.0.1", 4000)   # the control: the last hop gets out
        assert seen(s, "10.0.0.102", 4000)
        tcp_from(node, 100, "10.0.0.1", 4001)
        tcp_from(node, 101, "10.0.0.1", 4002)
        assert not seen(s, "10.0.0.100", 4001)
        assert not seen(s, "10.0.0.101", 4002)


def test_off_chain_dns_is_dropped(chain):
    node, uplink = chain
    with uplink.sniffer() as s:
        dns_from(node, 102, "1.1.1.1")          # the resolver: routed out through the uplink
        assert seen(s, "10.0.0.102", 53, dst="1.1.1.1")
        dns_from(node, 102, "10.0.0.1")         # anyone else
        assert not seen(s, "10.0.0.102", 53, dst="10.0.0.1")


def test_ipv6_from_chain_members_is_dropped(chain):
    node, uplink = chain
    with uplink.sniffer() as s:
        for vmid in (100, 102):
            node.pve.pct("exec", vmid, "--", "ping6", "-c", "2", "-W", "1", "-I", "eth0", "ff02::1")
        assert not s.wait_for(lambda p: getattr(p, "ip_version", None) == 6, timeout=1.5)


def connect(host, address, port):
    """"open" (a listener answered), "refused" (the container's kernel
    answered with a reset: the port is reachable) or "timeout" (dropped)."""
    with host.socket(socket.AF_INET, socket.SOCK_STREAM) as s:
        s.settimeout(2)
        try:
            s.connect((address, port))
            return "open"
        except ConnectionRefusedError:
            return "refused"
        except (socket.timeout, TimeoutError):
            return "timeout"
        except OSError as e:
            if e.errno == errno.EHOSTUNREACH:
                return "timeout"
            raise


def test_vps_only_its_tls_port_is_reachable(node, opdbus, lab, tmp_state):  # noqa: F811
    doc = opdbus.run("init", "--profile", "privacy-vps", "--set", "vps_public_ip=198.51.100.4",
                     check=0, json=True).json
    opdbus.binary = str(node.wrapper)
    res = node.opdbus(opdbus, "apply", "--json", tmp_state(doc), check=0)
    assert res.json["ok"], res.json
    assert "status: running" in node.pct("status", 100).stdout
    lab._bridges.add("ovsbr0")
    uplink = lab.add_host("uplink", UPLINK_MAC, "10.0.0.1", port="uplink0", bridge="ovsbr0")

    assert connect(uplink, "10.0.0.100", 443) == "refused"   # reached the container (no listener there)
    for port in (22, 80, 8443):
        assert connect(uplink, "10.0.0.100", port) == "timeout", port
    # the container's own connections out still get their replies
    assert node.ping(100, "10.0.0.1")
