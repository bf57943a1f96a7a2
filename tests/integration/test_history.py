# SPDX-License-Identifier: LGPL-2.1-or-later
"""diff --from N [--to M]: what changed between two stored generations
(docs/cli.md, "The audit trail").

  * op-router applies three states to a namespace of the test; the
    differences between their generations are listed member by member,
    list elements paired by their name, in text and JSON; exit 3 when
    they differ, 0 when not; --to defaults to the newest;
  * a generation that is not stored, --from with another verb and with a
    FILE are bad usage (exit 2), and nothing is changed;
  * op-dbus's stored states hold the Xray VMess ids of the containers'
    services: the comparison shows "<redacted>" in their place, never
    the id (checkpoints written as op-dbus writes them, in a state
    directory of the test).
"""

import json
import re
import uuid
from pathlib import Path

from router_fixture import sh

pytest_plugins = ("router_fixture",)


def router_state(addresses, routes=()):
    return {"version": 1, "plugins": {
        "interfaces": {"bridges": [{"name": "br-lan", "addresses": list(addresses)}]},
        "routes": {"routes": [{"to": to, "dev": "br-lan"} for to in routes]},
    }}


def test_generations_of_op_router_compared(router_netns, oprouter, tmp_state):
    ns = router_netns("hist")
    r = oprouter.in_netns(ns)
    for i, doc in enumerate((router_state(["192.168.1.1/24"]),
                             router_state(["192.168.1.1/24", "192.168.2.1/24"], ["10.9.0.0/16"]),
                             router_state(["192.168.2.1/24"]))):
        res = r.run("apply", tmp_state(doc, f"s{i}.json"))
        assert res.returncode == 0, res.describe()
    gens = [c["generation"] for c in r.run("checkpoints", "--json", json=True).json]
    assert len(gens) == 3

    res = r.run("diff", "--from", gens[0], "--to", gens[1])
    assert res.returncode == 3, res.describe()
    assert res.stdout.splitlines() == [
        '~ plugins.interfaces.bridges[name=br-lan].addresses: ["192.168.1.1/24"] -> '
        '["192.168.1.1/24","192.168.2.1/24"]',
        '~ plugins.routes.routes: [] -> [{"to":"10.9.0.0/16","dev":"br-lan"}]',
    ], res.stdout
    # --to: the newest by default; JSON
    res = r.run("diff", "--json", "--from", gens[1], json=True)
    assert res.returncode == 3
    assert res.json == [
        {"change": "changed", "path": "plugins.interfaces.bridges[name=br-lan].addresses",
         "from": ["192.168.1.1/24", "192.168.2.1/24"], "to": ["192.168.2.1/24"]},
        {"change": "changed", "path": "plugins.routes.routes",
         "from": [{"to": "10.9.0.0/16", "dev": "br-lan"}], "to": []},
    ]
    res = r.run("diff", "--from", gens[2], "--to", gens[2])
    assert res.returncode == 0 and res.stdout == ""

    before = sh("ip", "netns", "exec", ns, "ip", "-j", "addr").stdout
    res = r.run("diff", "--from", "99")
    assert res.returncode == 2 and "there is no checkpoint 99" in res.stderr, res.describe()
    res = r.run("apply", "--from", gens[0], tmp_state(router_state([]), "empty.json"))
    assert res.returncode == 2 and "--from goes with diff only" in res.stderr, res.describe()
    res = r.run("diff", "--from", gens[0], tmp_state(router_state([]), "empty2.json"))
    assert res.returncode == 2 and "takes no FILE" in res.stderr, res.describe()
    assert sh("ip", "netns", "exec", ns, "ip", "-j", "addr").stdout == before
    assert len(r.run("checkpoints", "--json", json=True).json) == 3


def xray_container(vmid, vmess_id, port):
    return {"id": vmid, "name": f"ct{vmid}", "template": "debian-12",
            "network": {"bridge": "br0", "veth": True, "ipv4": "10.61.0.30/24"},
            "services": ["xray"],
            "config": {"xray": {"inbound": {"port": port, "protocol": "socks"},
                                "outbound": {"protocol": "vmess", "server": "203.0.113.7", "port": 443,
                                             "id": vmess_id, "alterId": 0, "security": "auto"}}}}


def write_checkpoint(state_dir, generation, state):
    d = state_dir / "checkpoints"
    d.mkdir(parents=True, exist_ok=True, mode=0o700)
    path = d / f"gen-{generation:020d}.json"
    path.write_text(json.dumps({"generation": generation, "created": "2026-01-01T00:00:00Z",
                                "digest": "0000000000000000", "sections": list(state["plugins"]),
                                "state": state}, indent=2))
    path.chmod(0o600)


def test_secrets_of_stored_states_are_redacted(opdbus):
    state_dir = Path(opdbus.env["OPDBUS_STATE_DIR"])
    first, second = str(uuid.uuid4()), str(uuid.uuid4())
    net = {"bridges": [{"name": "br0"}]}
    write_checkpoint(state_dir, 1, {"version": 1, "plugins": {"net": net, "lxc": {"containers": []}}})
    write_checkpoint(state_dir, 2, {"version": 1, "plugins": {
        "net": net, "lxc": {"containers": [xray_container(101, first, 1080)]}}})
    write_checkpoint(state_dir, 3, {"version": 1, "plugins": {
        "net": net, "lxc": {"containers": [xray_container(101, second, 1081)]}}})

    outputs = []
    for args in (("--from", "1", "--to", "2"), ("--from", "2", "--to", "3"), ("--json", "--from", "1")):
        res = opdbus.run("diff", *args)
        assert res.returncode == 3, res.describe()
        outputs.append(res.stdout)
        assert res.stderr == ""
    text = "\n".join(outputs)
    for secret in (first, second):
        assert secret not in text and secret.replace("-", "") not in text.replace("-", "")
    assert outputs[0].startswith("+ plugins.lxc.containers[name=ct101]: {"), outputs[0]
    assert '"id":"<redacted>"' in outputs[0]
    # a secret that changed alone is no difference to show; the port is
    assert outputs[1].splitlines() == [
        "~ plugins.lxc.containers[name=ct101].config.xray.inbound.port: 1080 -> 1081"], outputs[1]
    added = json.loads(outputs[2])[0]
    assert added["change"] == "added" and added["to"]["config"]["xray"]["outbound"]["id"] == "<redacted>"
    # the container's own id is no secret
    assert re.search(r'"id":101', outputs[0])
