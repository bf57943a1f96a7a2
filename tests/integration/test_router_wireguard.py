# SPDX-License-Identifier: LGPL-2.1-or-later
"""op-router's wireguard section and its secrets file, natively
(docs/router.md, "WireGuard" and "The secrets file").

This kernel has no WireGuard: what needs it (the link, the handshake, a
peer added while a ping runs over another, the tunnel restart of a new
key, removal) is proven in the aarch64 virtual machine
(tests/vm/scenarios/wireguard.sh). Here, in a namespace of the test:

  * errors of the section at their JSON paths, all at once, and nothing
    changes (no link, no checkpoint, no ledger);
  * a secrets file readable by others or owned by another user is refused,
    naming the file and why, and nothing changes;
  * a key written into the state is refused with where to move it;
  * a secret that is no key (bad base64, wrong length) is named with the
    file, never quoted;
  * no key appears in plan, apply, query or validate output (text and
    --json), in the state directory after a failed apply, or in an error;
  * the plan orders the link (interfaces) before the keys and peers
    (wireguard), and a kernel without WireGuard fails the apply cleanly:
    rolled back, the host as before.
"""

import base64
import json
import os

import pytest
from router_fixture import sh

pytest_plugins = ("router_fixture",)

PUB1 = "xTIBA5rboUvnH4htodjb6e697QjLERt1NAB4mZqp8Dg="
PUB2 = "TrMvSoP4jYQlY6RIzBgbssQqY3vxI2Pi+y71lOWWXX0="
EXIT_INVALID = 2


def state(**iface):
    wg0 = {"name": "wg0", "listen_port": 51820, "mtu": 1420, "addresses": ["10.99.0.2/30"],
           "private_key_secret": "wg0",
           "peers": [{"public_key": PUB1, "endpoint": "198.51.100.7:51820", "allowed_ips": ["0.0.0.0/0"],
                      "persistent_keepalive": 25, "preshared_key_secret": "psk"}]}
    wg0.update(iface)
    return {"version": 1, "plugins": {"wireguard": {"interfaces": [wg0]}}}


@pytest.fixture
def router(router_netns, oprouter):
    ns = router_netns("wg")
    runner = oprouter.in_netns(ns)
    runner.ns = ns
    runner.keys = oprouter.write_secrets(state())
    return runner


def host(ns):
    return (sh("ip", "netns", "exec", ns, "ip", "-j", "link").stdout,
            sh("ip", "netns", "exec", ns, "ip", "-j", "addr").stdout)


def nothing_kept(router):
    """No checkpoint, ledger, applied state or pending file."""
    return sorted(p.name for p in router.state_dir.rglob("*") if p.is_file()) == []


def no_key_in(router, *texts):
    for text in texts:
        for name, key in router.keys.items():
            assert key not in text, f"the key of secret {name} is in:\n{text}"
            assert key[:20] not in text, f"part of the key of secret {name} is in:\n{text}"


def test_valid_state_validates_and_plans_without_keys(router, tmp_state):
    path = tmp_state(state())
    r = router.run("validate", path)
    assert r.returncode == 0, r.describe()
    plan = router.run("plan", path)
    assert plan.returncode == 0, plan.describe()
    assert "create wireguard wg0" in plan.stdout, plan.stdout
    assert "set up wg0: private key from secret wg0, listen port 51820" in plan.stdout, plan.stdout
    assert f"add peer {PUB1[:8]}… to wg0" in plan.stdout, plan.stdout
    js = router.run("plan", "--json", path, json=True)
    # the link and its address first, then its key, port and peer
    assert [(c["plugin"], c["path"]) for c in js.json["changes"]] == [
        ("interfaces", "wireguard/wg0"), ("interfaces", "address/wg0/10.99.0.2/30"),
        ("wireguard", "wireguard/wg0"), ("wireguard", f"wireguard/wg0/peer/{PUB1[:8]}…")], js.json["changes"]
    no_key_in(router, r.stdout, r.stderr, plan.stdout, plan.stderr, js.stdout, js.stderr)


def test_errors_at_their_paths_and_nothing_changes(router, tmp_state):
    before = host(router.ns)
    bad = state(private_key=router.keys["wg0"], listen_port=0, mtu=10, addresses=["10.99.0.2"],
                peers=[{"public_key": "c2hvcnQ=", "endpoint": "vpn.example.com:51820",
                        "allowed_ips": ["10.0.0.1/24"], "preshared_key": router.keys["psk"],
                        "persistent_keepalive": 70000},
                       {"public_key": PUB2, "preshared_key_secret": "nosuch", "allowed_ip": []}])
    for verb in ("validate", "plan", "apply"):
        r = router.run(verb, "--json", tmp_state(bad), json=True)
        assert r.returncode == EXIT_INVALID, r.describe()
        errors = r.json["errors"]
        p = "plugins.wireguard.interfaces[0]"
        for path in (f"{p}.private_key", f"{p}.listen_port", f"{p}.mtu", f"{p}.addresses[0]",
                     f"{p}.peers[0].public_key", f"{p}.peers[0].endpoint", f"{p}.peers[0].allowed_ips[0]",
                     f"{p}.peers[0].preshared_key", f"{p}.peers[0].persistent_keepalive",
                     f"{p}.peers[1].preshared_key_secret", f"{p}.peers[1].allowed_ip"):
            assert any(e.startswith(path + ": ") for e in errors), (path, errors)
        no_key_in(router, r.stdout, r.stderr)
    assert host(router.ns) == before
    assert nothing_kept(router)


def test_inline_key_says_where_to_move_it(router, tmp_state):
    r = router.run("validate", tmp_state(state(private_key=router.keys["wg0"])))
    assert r.returncode == EXIT_INVALID, r.describe()
    assert ("plugins.wireguard.interfaces[0].private_key: a key is never written into the state (its "
            "checkpoints and plans are not secret): move it into the secrets file "
            f"{router.secrets} as \"wg0\": \"<base64 key>\" and write \"private_key_secret\": \"wg0\" here "
            "instead") in r.stderr, r.stderr
    no_key_in(router, r.stdout, r.stderr)


@pytest.mark.parametrize("mode", [0o640, 0o604, 0o644, 0o660], ids=lambda m: f"{m:04o}")
def test_secrets_file_readable_by_others_is_refused(router, tmp_state, mode):
    os.chmod(router.secrets, mode)
    before = host(router.ns)
    for verb in ("validate", "plan", "apply"):
        r = router.run(verb, tmp_state(state()))
        assert r.returncode == EXIT_INVALID, r.describe()
        assert (f"the secrets file {router.secrets} has mode {mode:04o}: it must not be accessible to group or "
                f"others, expected 0600 (chmod 0600 {router.secrets})") in r.stderr, r.stderr
        no_key_in(router, r.stdout, r.stderr)
    assert host(router.ns) == before
    assert nothing_kept(router)


def test_secrets_file_of_another_owner_is_refused(router, tmp_state):
    os.chown(router.secrets, 1000, 1000)
    before = host(router.ns)
    r = router.run("apply", tmp_state(state()))
    assert r.returncode == EXIT_INVALID, r.describe()
    assert f"the secrets file {router.secrets} is owned by uid 1000: it must be owned by" in r.stderr, r.stderr
    assert host(router.ns) == before
    assert nothing_kept(router)


def test_missing_secrets_file(router, tmp_state):
    router.secrets.unlink()
    r = router.run("validate", tmp_state(state()))
    assert r.returncode == EXIT_INVALID, r.describe()
    assert f"the secrets file {router.secrets} does not exist" in r.stderr, r.stderr


@pytest.mark.parametrize("value", [
    "not base64 at all!!!!!!!!!!!!!!!!!!!!!!!!!!=",                # 44 characters, not base64
    base64.b64encode(os.urandom(31)).decode(),                     # wrong length
    base64.b64encode(os.urandom(33)).decode(),
    base64.b64encode(os.urandom(32)).decode().rstrip("="),         # no padding
    12345,
])
def test_secret_that_is_no_key(router, tmp_state, value):
    keys = dict(router.keys, wg0=value)
    router.secrets.write_text(json.dumps(keys))
    r = router.run("plan", tmp_state(state()))
    assert r.returncode == EXIT_INVALID, r.describe()
    assert (f"plugins.wireguard.interfaces[0].private_key_secret: the secrets file {router.secrets}: the secret "
            "\"wg0\" is not a WireGuard key (base64 of 32 bytes") in r.stderr, r.stderr
    if isinstance(value, str) and len(value) > 8:
        assert value[:12] not in r.stdout + r.stderr, r.stderr


def test_secrets_file_not_json_is_not_quoted(router, tmp_state):
    router.secrets.write_text('{"wg0": "' + router.keys["wg0"] + '", ')
    r = router.run("validate", tmp_state(state()))
    assert r.returncode == EXIT_INVALID, r.describe()
    assert f"the secrets file {router.secrets} is not a JSON object of names and base64 keys" in r.stderr
    no_key_in(router, r.stdout, r.stderr)


def test_apply_without_wireguard_in_the_kernel_rolls_back(router, tmp_state):
    """This kernel has no WireGuard: the link cannot be made; the apply
    fails, changes nothing, and keeps no key anywhere."""
    before = host(router.ns)
    r = router.run("apply", "--json", tmp_state(state()), json=True)
    assert r.returncode != 0 and r.json["rolled_back"] is True, r.describe()
    assert any("the kernel refused to create wg0" in e for e in r.json["errors"]), r.json["errors"]
    assert host(router.ns) == before
    no_key_in(router, r.stdout, r.stderr)
    for f in router.state_dir.rglob("*"):
        if f.is_file():
            no_key_in(router, f.read_text(errors="replace"))
    q = router.run("query", "--json", json=True)
    assert q.json["plugins"]["wireguard"] == {"interfaces": []}, q.json
    no_key_in(router, q.stdout, q.stderr)


def test_name_of_an_interfaces_link_is_refused(router, tmp_state):
    doc = state()
    doc["plugins"]["interfaces"] = {"bridges": [{"name": "wg0"}]}
    r = router.run("validate", "--json", tmp_state(doc), json=True)
    assert r.returncode == EXIT_INVALID, r.describe()
    assert any(e.startswith("plugins.wireguard.interfaces[0]: wg0 is named twice (also plugins.interfaces."
                            "bridges[0])") for e in r.json["errors"]), r.json["errors"]


def test_firewall_zone_may_name_a_wireguard_interface(router, tmp_state):
    doc = state()
    doc["plugins"]["firewall"] = {"zones": [{"name": "vpn", "interfaces": ["wg0"], "masquerade": True}]}
    r = router.run("plan", tmp_state(doc))
    assert r.returncode == 0, r.describe()


def test_port_forward_into_a_wireguard_network(router, tmp_state):
    """The wireguard section's addresses count as declared: a zone of wg0
    covers 10.99.0.0/30 before wg0 exists."""
    doc = state()
    doc["plugins"]["firewall"] = {
        "zones": [{"name": "outside", "interfaces": ["lo"]}, {"name": "vpn", "interfaces": ["wg0"]}],
        "port_forwards": [{"name": "web", "from": "outside", "proto": "tcp", "external_port": 8080,
                           "to": "10.99.0.1:80"}]}
    r = router.run("plan", tmp_state(doc))
    assert r.returncode == 0, r.describe()


def test_wireguard_alone_after_an_interfaces_section(router, tmp_state):
    """The links are the interfaces plugin's: a document with only the
    wireguard section still makes (or removes) them when an earlier apply
    stored an interfaces section, which stays as it was."""
    first = {"version": 1, "plugins": {"interfaces": {"bridges": [{"name": "br9"}]}}}
    r = router.run("apply", tmp_state(first))
    assert r.returncode == 0, r.describe()
    only = {"version": 1, "plugins": {"wireguard": {"interfaces": [{"name": "wg0", "private_key_secret": "wg0"}]}}}
    plan = router.run("plan", "--json", tmp_state(only), json=True)
    assert plan.returncode == 0, plan.describe()
    assert [(c["plugin"], c["path"]) for c in plan.json["changes"]] == [
        ("interfaces", "wireguard/wg0"), ("wireguard", "wireguard/wg0")], plan.json["changes"]
