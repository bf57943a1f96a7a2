# SPDX-License-Identifier: LGPL-2.1-or-later
"""The daemon keeps socket networking attached (docs/socket-networking.md,
"The daemon"): a container restarted by hand loses the interface op-dbus
moved into it, and nothing in OVSDB says so; the periodic container heal
(--container-audit-interval) puts it back and reports the drift, and an
ovs-vswitchd restart queues that heal at once. The same heal puts a
container's service files back when they are changed by hand.

The daemon runs in the sandbox's network namespace, like the CLI in
test_socket_networking.py, on the private bus of dbus_fixture."""

import pytest

from pve_fixture import pve_sim, pve_templates  # noqa: F401
from test_socket_networking import (SOCKET_PORTS_LOG, assert_attached, container, node,  # noqa: F401
                                    socket_net, state, veth_net, wait_for)

pytest_plugins = ("dbus_fixture",)

pytestmark = SOCKET_PORTS_LOG


@pytest.fixture
def opdbus_bin(opdbus_bin, ovs, tmp_path):
    """The binary under test, started in the sandbox's network namespace."""
    wrapper = tmp_path / "op-dbus-daemon-in-netns"
    wrapper.write_text(f"#!/bin/sh\nexec nsenter --net=/run/netns/{ovs.netns} -- {opdbus_bin} \"$@\"\n")
    wrapper.chmod(0o755)
    return wrapper


def detached(node, vmid=310):
    """True until the address is back; a container that is (re)starting
    just now cannot be looked into and counts as detached."""
    res = node.pve.pct("exec", vmid, "--", "ip", "-4", "addr", "show", check=None)
    return res.returncode != 0 or "inet 10.31.0.10/24" not in res.stdout


def test_daemon_reattaches_after_a_container_restart(node, start_daemon):
    doc = state(container(310, socket_net()), container(311, veth_net()))
    d = start_daemon(doc, env=node.env, args=("--container-audit-interval", "1"))
    assert d.get("Status") != "degraded"
    assert_attached(node)

    mark = d.mark()
    node.pct("stop", 310)
    # a heal between the two may start the container itself (its state is
    # "running"): then this start finds it running, and the heal attached it
    node.pct("start", 310, check=None)
    wait_for("the container heal", lambda: not detached(node), timeout=30)
    assert_attached(node)
    d.wait_for("DriftDetected", timeout=5, since=mark,
               predicate=lambda args: args[0] == "lxc" and args[1].startswith("container/310"))

    # ovs-vswitchd restart: the heal is queued at once, not after the interval
    node.ovs.restart_vswitchd()
    wait_for("the new tap attached", lambda: "internal_310" not in node.ovs.links() and not detached(node),
             timeout=30)
    assert_attached(node)


def test_daemon_puts_a_tampered_service_file_back(node, start_daemon):
    """The container heal also covers the services inside the container
    (docs/services.md): a wg-quick configuration edited by hand is found as
    drift and written again."""
    wg0 = {"address": "10.99.0.1/24", "listen_port": 51820, "private_key_file": "/etc/wireguard/private.key",
           "peers": [{"public_key": "xTIBA5rboUvnH4htodjb6e697QjLERt1NAB4mZqp8Dg=", "allowed_ips": ["10.99.0.0/24"]}]}
    doc = state(container(311, veth_net(), services=["wireguard"], config={"wg0": wg0}))
    d = start_daemon(doc, env=node.env, args=("--container-audit-interval", "1"))
    conf = "/etc/wireguard/wg0.conf"
    wait_for("the services in place", lambda: "ListenPort = 51820" in node.inside(311, "cat", conf), timeout=30)
    good = node.inside(311, "cat", conf)

    mark = d.mark()
    node.inside(311, "sh", "-c", f"echo 'ListenPort = 1' >> {conf}")
    wait_for("the file written again", lambda: node.inside(311, "cat", conf) == good, timeout=30)
    d.wait_for("DriftDetected", timeout=5, since=mark,
               predicate=lambda args: args[0] == "lxc" and args[1] == "container/311/services")
