# SPDX-License-Identifier: LGPL-2.1-or-later
"""Container services put in place by apply (docs/services.md): the files
agent/lib/services renders are pushed into the running container with pct
push (0600 for anything holding a key) and checked, missing WireGuard keys
are created and never overwritten, a second apply changes nothing, changes
and tampering are put back, and the plan names what the operator has to
do (packages, provided files). Most of the test double's containers
are busybox without systemd, which the plan says; one test boots the
host's systemd in a container to enable and start a real WireGuard
gateway (wg-quick with wireguard-go) and restart it on a change."""

import base64
import copy
import json

import pytest

from pve_fixture import PCT, SYSTEMD_MOUNTS, pve_sim, pve_templates  # noqa: F401
from test_lxc import Node, changes, container, state

PEER = "xTIBA5rboUvnH4htodjb6e697QjLERt1NAB4mZqp8Dg="
WARP = "bmXOC+F1FxEMF9dyiK2H5/1SUtzH0JuVo51h2wPfgyo="
KEY = "/etc/wireguard/private.key"
CONF = "/etc/wireguard/wg0.conf"
NFT = "/etc/wireguard/wg0.nft"  # the gateway's forwarding rules


@pytest.fixture
def node(ovs, opdbus, pve_sim, tmp_path, tmp_state):  # noqa: F811
    return Node(ovs, opdbus, pve_sim(ovs), tmp_path, tmp_state)


def gateway(vmid=310, port=51820, **kw):
    return container(vmid, services=["wireguard"], config={"wg0": {
        "address": "10.99.0.1/24", "listen_port": port, "private_key_file": KEY,
        "peers": [{"public_key": PEER, "allowed_ips": ["10.99.0.0/24"]}]}}, **kw)


def inside(node, vmid, *cmd):
    return node.pve.pct("exec", vmid, "--", *cmd, check=0).stdout


def stat(node, vmid, path):
    return inside(node, vmid, "stat", "-c", "%a %u", path).strip()


def services_change(res, vmid):
    found = [c for c in res.json["changes"] if c["path"] == f"container/{vmid}/services"]
    return found[0]["detail"] if found else None


def messages(res, level):
    """Messages are "<path>: <text>"."""
    return res.json.get(level, [])


def test_files_and_key_are_pushed_once(node):
    doc = state(gateway(), bridge=False)
    res = node.run(doc, check=0)
    assert ("modify", "container/310/services", "no traffic impact") in changes(res)
    detail = services_change(res, 310)
    assert f"write {CONF} (0600)" in detail and f"create the WireGuard key {KEY}" in detail, detail
    pushes = {c[3]: c[c.index("--perms") + 1] for c in node.calls() if c[0] == "push"}
    assert pushes == {CONF: "0600", NFT: "0600", KEY: "0600"}, pushes

    conf = inside(node, 310, "cat", CONF)
    assert "ListenPort = 51820" in conf and f"PublicKey = {PEER}" in conf
    assert stat(node, 310, CONF) == "600 0" and stat(node, 310, KEY) == "600 0"
    key = inside(node, 310, "cat", KEY).strip()
    raw = base64.b64decode(key, validate=True)
    assert len(raw) == 32 and raw[0] & 7 == 0 and raw[31] & 0xc0 == 0x40  # a Curve25519 private key
    # the key is never shown, and busybox's lack of systemd and dpkg is said
    assert key not in res.stdout + res.stderr
    notes = " ".join(messages(res, "notes"))
    assert "does not run systemd" in notes and "/var/lib/dpkg/status" in notes, notes

    res = node.run(doc, check=0)
    assert res.json["changes"] == [] and res.json["counts"]["commands"] == 0
    assert node.changing_calls() == []
    node.run(doc, cmd="verify", check=0)
    live = node.opdbus.run("query", check=0, json=True, env=node.env)
    assert key not in live.stdout


def test_a_change_rewrites_only_its_file_and_keeps_the_key(node):
    node.run(state(gateway(), bridge=False), check=0)
    key = inside(node, 310, "cat", KEY)
    node.calls()

    res = node.run(state(gateway(port=51821), bridge=False), cmd="plan", check=0)
    assert services_change(res, 310) == f"write {CONF} (0600)"
    res = node.run(state(gateway(port=51821), bridge=False), check=0)
    assert [c[3] for c in node.calls() if c[0] == "push"] == [CONF]
    assert "ListenPort = 51821" in inside(node, 310, "cat", CONF)
    assert inside(node, 310, "cat", KEY) == key


def test_tampering_is_put_back(node):
    doc = state(gateway(), bridge=False)
    node.run(doc, check=0)
    good = inside(node, 310, "cat", CONF)
    inside(node, 310, "sh", "-c", f"echo '# edited' >> {CONF}; chmod 0644 {CONF}")

    res = node.run(doc, cmd="plan", check=0)
    assert services_change(res, 310) == f"write {CONF} (0600)"
    node.run(doc, check=0)
    assert inside(node, 310, "cat", CONF) == good and stat(node, 310, CONF) == "600 0"

    # a key that is there is the operator's: never replaced
    inside(node, 310, "sh", "-c", f"echo mine > {KEY}")
    res = node.run(doc, check=0)
    assert res.json["changes"] == []
    assert inside(node, 310, "cat", KEY) == "mine\n"


def test_missing_package_is_named(node):
    doc = state(gateway(), bridge=False)
    node.run(doc, check=0)
    inside(node, 310, "sh", "-c", "mkdir -p /var/lib/dpkg; printf '%s\\n' "
           "'Package: procps' 'Status: install ok installed' '' "
           "'Package: wireguard-tools' 'Status: deinstall ok config-files' '' > /var/lib/dpkg/status")
    res = node.run(doc, cmd="plan", check=0)
    notes = [m for m in messages(res, "notes") if "Debian package" in m]
    assert len(notes) == 1 and "wireguard-tools" in notes[0] and "procps" not in notes[0], notes
    assert "pct exec 310 -- apt-get install --no-install-recommends" in notes[0]


def test_missing_provided_file_is_a_warning_with_its_path(node):
    warp = container(311, services=["wg-quick@wg-warp"], config={"wg-quick": {
        "interface": "wg-warp", "address": "10.99.1.2/32", "private_key_file": "/etc/wireguard/warp.key",
        "endpoint": "engage.cloudflareclient.com:2408", "public_key": WARP}})
    doc = state(warp, bridge=False)
    res = node.run(doc, check=0)
    assert res.json["ok"], res.json
    assert "/etc/wireguard/wg-warp.conf" in services_change(res, 311)
    warnings = [w for w in messages(res, "warnings") if "warp.key" in w]
    assert warnings and warnings[0].startswith("plugins.lxc.containers[0].config.wg-quick.private_key_file: ")
    assert "pct push 311" in warnings[0]
    assert [c[3] for c in node.calls() if c[0] == "push"] == ["/etc/wireguard/wg-warp.conf", "/etc/wireguard/wg-warp.nft"]
    assert node.pve.pct("exec", 311, "--", "test", "-e", "/etc/wireguard/warp.key").returncode == 1


def test_stopped_container_gets_its_services_when_it_runs(node):
    doc = state(gateway(state="stopped"), bridge=False)
    res = node.run(doc, check=0)
    assert services_change(res, 310) is None
    assert any("is not running" in m for m in messages(res, "notes"))
    assert [c for c in node.calls() if c[0] == "push"] == []

    running = copy.deepcopy(doc)
    running["plugins"]["lxc"]["containers"][0]["state"] = "running"
    res = node.run(running, check=0)
    assert services_change(res, 310) and stat(node, 310, CONF) == "600 0"


def test_bad_service_config_changes_nothing(node):
    bad = gateway()
    bad["config"]["wg0"]["listen_port"] = 70000
    res = node.run(state(bad, bridge=False), check=2)
    assert not res.json["ok"]
    assert any(e.startswith("plugins.lxc.containers[0].config.wg0.listen_port: ") for e in res.json["errors"]), \
        json.dumps(res.json["errors"])
    assert node.calls() == [] or all(c[0] not in ("create", "push") for c in node.calls())


def wg(node, vmid, *args):
    return node.pve.pct("exec", vmid, "--", "wg", "show", "wg0", *args, check=0).stdout.strip()


# pct in a private mount namespace whose /dev/net/tun is a 0666 node, as
# udev makes it on a Debian or Proxmox host (this machine's is 0600, which
# an unprivileged container's root cannot open). The host's node is not
# touched; the namespace lives as long as the container started in it.
TUN_PCT = """#!/bin/sh
exec unshare -m --propagation private sh -c '
mount -t tmpfs tmpfs {dev} && mknod -m 0666 {dev}/tun c 10 200 && mount --bind {dev}/tun /dev/net/tun &&
exec {pct} "$@"' pct "$@"
"""


def test_units_are_enabled_started_and_restarted_under_systemd(node, tmp_path):
    """A container booting systemd, with the host's packages (its /usr and
    dpkg database): op-dbus writes the files, creates the key, enables and
    starts wg-quick@wg0 (wireguard-go, through /dev/net/tun), restarts it
    when its file changes, and then has nothing left to do."""
    wrap = tmp_path / "tun-pct"
    (wrap / "dev").mkdir(parents=True)
    (wrap / "pct").write_text(TUN_PCT.format(dev=wrap / "dev", pct=PCT))
    (wrap / "pct").chmod(0o755)
    node.env["PATH"] = f"{wrap}:{node.env['PATH']}"
    vol = node.pve.add_systemd_template()
    node.pve.create(320, "--tags", "op-dbus", "--hostname", "ct320", *SYSTEMD_MOUNTS, template=vol)
    doc = state(gateway(320, template="debian-12-systemd"), bridge=False)

    res = node.run(doc, check=0)
    assert res.json["ok"], res.json
    # started with TUN for wireguard-go (it was not running: nothing to look into yet)
    assert services_change(res, 320).endswith("enable and start the units where installed")
    assert not [n for n in messages(res, "notes") if "Debian package" in n or "systemd" in n], res.json["notes"]
    assert inside(node, 320, "systemctl", "is-enabled", "wg-quick@wg0.service").strip() == "enabled"
    assert inside(node, 320, "systemctl", "is-active", "wg-quick@wg0.service").strip() == "active"
    assert wg(node, 320, "listen-port") == "51820"
    public = inside(node, 320, "sh", "-c", f"wg pubkey < {KEY}").strip()
    assert wg(node, 320, "public-key") == public

    res = node.run(state(gateway(320, port=51821, template="debian-12-systemd"), bridge=False), check=0)
    assert services_change(res, 320) == f"write {CONF} (0600), restart wg-quick@wg0.service"
    assert res.json["changes"][0]["impact"] == "port flap"
    assert wg(node, 320, "listen-port") == "51821" and wg(node, 320, "public-key") == public

    res = node.run(state(gateway(320, port=51821, template="debian-12-systemd"), bridge=False), check=0)
    assert res.json["changes"] == [] and res.json["counts"]["commands"] == 0

    # stopped by hand: started again by the next apply
    inside(node, 320, "systemctl", "stop", "wg-quick@wg0.service")
    res = node.run(state(gateway(320, port=51821, template="debian-12-systemd"), bridge=False), check=0)
    assert services_change(res, 320) == "start wg-quick@wg0.service"
    assert inside(node, 320, "systemctl", "is-active", "wg-quick@wg0.service").strip() == "active"
