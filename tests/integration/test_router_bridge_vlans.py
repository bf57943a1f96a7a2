# SPDX-License-Identifier: LGPL-2.1-or-later
"""The VLANs of bridge ports in op-router's interfaces section, on this
machine's kernel, which has bridges but no bridge VLAN filtering
(docs/router.md, "VLANs of bridge ports"; the kernel side is proven in
the aarch64 VM, tests/vm/scenarios/bridge-vlans.sh):

  * bad VLANs are refused by `validate` at their JSON paths, and change
    nothing;
  * `plan` shows one line per port and VLAN, with its impact;
  * an apply of a filtering bridge fails with a clear error naming the
    missing kernel feature, and is rolled back: `ip -j link` and `ip -j
    addr` as before, nothing of it left;
  * removing a bridge deletes the macvlan over it too, without an error
    for the child the kernel took along.
"""

import json
import time

import pytest

from test_router_interfaces import Net, net, router  # noqa: F401 (fixtures)

pytest_plugins = ("router_fixture",)
EXIT_INVALID = 2


def diff_dumps(a, b):
    import difflib
    return "\n".join(difflib.unified_diff(json.dumps(json.loads(a[0]), indent=1).splitlines(),
                                         json.dumps(json.loads(b[0]), indent=1).splitlines(), lineterm=""))


def settled(net):
    """The dumps once every link that is up has its carrier (a veth gets it
    shortly after its peer in the other namespace comes up)."""
    for _ in range(100):
        links = json.loads(net.dumps()[0])
        if not [link for link in links if "UP" in link["flags"] and "NO-CARRIER" in link["flags"]]:
            break
        time.sleep(0.1)
    return net.dumps()


def state(ports, **bridge):
    return {"version": 1, "plugins": {"interfaces": {
        "bridges": [{"name": "br-lan", "vlan_filtering": True, "ports": ports, **bridge}]}}}


FILTERING = state([{"name": "lan1", "vlans": {"pvid": 10}}, {"name": "lan2", "vlans": {"tagged": [10, 20]}}],
                  vlans={"tagged": [20]}, addresses=["192.168.10.1/24"])

P = "plugins.interfaces.bridges[0]"
REFUSED = [
    (state([{"name": "lan1", "vlans": {"pvid": 10}}], vlan_filtering=False), f"{P}.ports[0].vlans",
     "need \"vlan_filtering\": true"),
    (state(["lan1"], vlan_filtering=False, vlans={"pvid": 10}), f"{P}.vlans", "need \"vlan_filtering\": true"),
    (state([{"name": "lan1", "vlans": {"pvid": 4095}}]), f"{P}.ports[0].vlans.pvid", "4094"),
    (state([{"name": "lan1", "vlans": {"tagged": [0]}}]), f"{P}.ports[0].vlans.tagged[0]", "from 1 to 4094"),
    (state([{"name": "lan1", "vlans": {"pvid": 10, "tagged": [20, 10]}}]), f"{P}.ports[0].vlans.tagged[1]",
     "is the pvid already"),
    (state([{"name": "lan1", "vlans": {"tagged": [20, 20]}}]), f"{P}.ports[0].vlans.tagged[1]", "listed twice"),
    (state([{"name": "lan1", "vlans": {"untagged": [20]}}]), f"{P}.ports[0].vlans.untagged", ""),
    (state([{"name": "lan1", "pvid": 10}]), f"{P}.ports[0].pvid", ""),
]


@pytest.mark.parametrize("doc,path,words", REFUSED, ids=[r[1].split(".", 3)[-1] + "-" + str(i)
                                                        for i, r in enumerate(REFUSED)])
def test_refused_at_its_path(net, router, tmp_state, doc, path, words):
    before = settled(net)
    r = router.run("validate", tmp_state(doc))
    assert r.returncode == EXIT_INVALID, r.describe()
    line = next((line for line in r.stderr.splitlines() if f"{path}:" in line), None)
    assert line is not None and words in line, r.stderr
    r = router.run("apply", "--json", tmp_state(doc), json=True)
    assert r.returncode == EXIT_INVALID, r.describe()
    now = net.dumps()
    assert now == before, diff_dumps(before, now)


def test_plan_has_a_line_per_port_and_vlan(net, router, tmp_state):
    r = router.run("plan", "--json", tmp_state(FILTERING), json=True)
    assert r.returncode == 0, r.describe()
    lines = {c["path"]: (c["action"], c["impact"], c["detail"]) for c in r.json["changes"]}
    # the kernel gives a port that joins VLAN 1 as pvid; the section's set replaces it
    assert lines["port/br-lan/lan1/vlan/10"] == (
        "create", "lan outage", "lan1: VLAN 10 as pvid, untagged (untagged frames were in VLAN 1)")
    assert lines["port/br-lan/lan1/vlan/1"][:2] == ("delete", "lan outage")
    assert lines["port/br-lan/lan2/vlan/10"] == ("create", "no traffic impact", "lan2: VLAN 10 tagged")
    assert lines["port/br-lan/lan2/vlan/20"] == ("create", "no traffic impact", "lan2: VLAN 20 tagged")
    assert lines["port/br-lan/lan2/vlan/1"][:2] == ("delete", "lan outage")
    assert lines["bridge/br-lan/vlan/20"][2] == "br-lan (the bridge itself): VLAN 20 tagged"
    assert lines["bridge/br-lan/vlan/1"][0] == "delete"
    paths = [c["path"] for c in r.json["changes"]]
    # the new pvid before the old one goes
    assert paths.index("port/br-lan/lan1/vlan/10") < paths.index("port/br-lan/lan1/vlan/1")


def test_filtering_bridge_without_kernel_support_is_rolled_back(net, router):
    net.foreign()
    router({"version": 1, "plugins": {"interfaces": {
        "links": [{"name": "eth1", "addresses": ["198.51.100.2/24"]}]}}})
    before = settled(net)
    doc = json.loads(json.dumps(FILTERING))
    doc["plugins"]["interfaces"]["links"] = [{"name": "eth1", "mtu": 1400, "addresses": ["198.51.100.2/24",
                                                                                         "198.51.100.3/24"]}]
    res = router(doc, rc=1)
    assert res["rolled_back"] is True and res["status"] == "failed", res
    assert any("the kernel refused to create br-lan: Operation not supported (a bridge with vlan_filtering: this "
               "kernel has no bridge VLAN filtering, CONFIG_BRIDGE_VLAN_FILTERING)" in e for e in res["errors"]), \
        res["errors"]
    now = net.dumps()
    assert now == before, diff_dumps(before, now)
    assert "br-lan" not in net.links()


def test_bridge_removed_with_the_macvlan_over_it(net, router):
    doc = {"version": 1, "plugins": {"interfaces": {
        "bridges": [{"name": "br-lan", "ports": ["lan1"], "addresses": ["192.168.1.1/24"]}],
        "macvlans": [{"name": "mv-lan", "link": "br-lan", "addresses": ["192.168.1.2/24"]}]}}}
    router(doc)
    assert {"br-lan", "mv-lan"} <= set(net.links())
    res = router({"version": 1, "plugins": {"interfaces": {}}}, "--allow-outage")
    assert res["ok"] is True, res
    assert not {"br-lan", "mv-lan"} & set(net.links())
    assert router({"version": 1, "plugins": {"interfaces": {}}})["counts"]["writes"] == 0
