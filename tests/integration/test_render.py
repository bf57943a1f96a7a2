# SPDX-License-Identifier: LGPL-2.1-or-later
"""op-dbus render --container ID [FILE] (docs/cli.md, docs/services.md):
the files op-dbus would push into a container, rendered from the state
file as apply renders them, with the state's secrets (the VMess id) as
<redacted>; the key files the services use, the units and the packages.
Reads the state file only."""

import json

VMESS_ID = "1b671a64-40d5-491e-99b0-da01ff1f3341"
KEY = "xTIBA5rboUvnH4htodjb6e697QjLERt1NAB4mZqp8Dg="
WARP = "bmXOC+F1FxEMF9dyiK2H5/1SUtzH0JuVo51h2wPfgyo="


def privacy_client(opdbus, tmp_state):
    doc = opdbus.run("init", "--profile", "privacy-client", "--set", "vps_ip=203.0.113.7",
                     "--set", f"client_public_key={KEY}", "--set", f"warp_public_key={WARP}",
                     "--set", f"uuid={VMESS_ID}", json=True).json
    return tmp_state(doc)


def test_render_shows_the_files_with_secrets_redacted(opdbus, tmp_state):
    path = privacy_client(opdbus, tmp_state)
    r = opdbus.run("render", "--container", "102", path)
    assert r.returncode == 0, r.describe()
    assert VMESS_ID not in r.stdout + r.stderr and VMESS_ID.replace("-", "") not in r.stdout
    assert "# /usr/local/etc/xray/config.json (mode 0600, secret values redacted)" in r.stdout
    assert '"id": "<redacted>"' in r.stdout
    assert "# units enabled and started: xray.service" in r.stdout

    r = opdbus.run("render", "--json", "--container", "102", path, json=True)
    assert r.returncode == 0 and VMESS_ID not in json.dumps(r.json)
    files = {f["path"]: f for f in r.json["files"]}
    xray = json.loads(files["/usr/local/etc/xray/config.json"]["content"])
    assert xray["outbounds"][0]["settings"]["vnext"][0]["users"][0]["id"] == "<redacted>"
    assert files["/usr/local/etc/xray/config.json"]["mode"] == "0600"
    assert files["/usr/local/etc/xray/config.json"]["secret"] is True

    # the WireGuard container: configuration and rules, the key stays a file
    r = opdbus.run("render", "--json", "--container", "101", path, json=True)
    assert r.returncode == 0
    assert {f["path"] for f in r.json["files"]} >= {"/etc/wireguard/wg-warp.conf", "/etc/wireguard/wg-warp.nft"}
    assert {"path": "/etc/wireguard/warp-private.key", "kind": "provided"} in r.json["inputs"]
    assert "wg-quick@wg-warp.service" in r.json["units"] and "wireguard-tools" in r.json["packages"]


def test_render_of_the_default_state_file(opdbus, tmp_state):
    path = privacy_client(opdbus, tmp_state)
    r = opdbus.run("render", "--container", "102", env={"OPDBUS_STATE": str(path)})
    assert r.returncode == 0 and "xray" in r.stdout, r.describe()


def test_render_bad_usage(opdbus, tmp_state):
    path = privacy_client(opdbus, tmp_state)
    r = opdbus.run("render", path)
    assert r.returncode == 2 and "which container?" in r.stderr
    r = opdbus.run("render", "--container", "555", path)
    assert r.returncode == 2 and "has no container 555 in plugins.lxc.containers" in r.stderr
    r = opdbus.run("render", "--container", "abc", path)
    assert r.returncode == 2 and "is not a container id" in r.stderr
    bad = json.loads(path.read_text())
    bad["plugins"]["lxc"]["containers"][2]["config"]["xray"]["outbound"]["id"] = "not-a-uuid"
    r = opdbus.run("render", "--container", "102", tmp_state(bad, "bad.json"))
    assert r.returncode == 2 and "plugins.lxc.containers[2].config.xray.outbound.id" in r.stderr, r.describe()
    assert "not-a-uuid" not in r.stderr
