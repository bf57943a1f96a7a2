# SPDX-License-Identifier: LGPL-2.1-or-later
"""op-dbus init --profile, --set and the placeholders profiles leave."""

import json
import re
import stat

import pytest

from pve_fixture import pve_sim, pve_templates  # noqa: F401
from test_schema import VALID_DIR, _fill

PROFILES = ["none", "privacy-client", "privacy-vps", "netmaker"]
KEY = "xTIBA5rboUvnH4htodjb6e697QjLERt1NAB4mZqp8Dg="
WARP = "bmXOC+F1FxEMF9dyiK2H5/1SUtzH0JuVo51h2wPfgyo="
UUID_RE = re.compile(r"^[0-9a-f]{8}-[0-9a-f]{4}-[0-9a-f]{4}-[0-9a-f]{4}-[0-9a-f]{12}$")


def strings(value):
    if isinstance(value, dict):
        return [s for v in value.values() for s in strings(v)]
    if isinstance(value, list):
        return [s for v in value for s in strings(v)]
    return [value] if isinstance(value, str) else []


@pytest.mark.parametrize("profile", PROFILES)
def test_every_profile_is_a_canonical_document(opdbus, profile):
    doc = opdbus.run("init", "--profile", profile, check=0, json=True).json
    assert doc["version"] == 1 and set(doc) == {"version", "plugins"}


def test_privacy_client_placeholders_are_listed_with_paths(opdbus, tmp_path):
    out = tmp_path / "state.json"
    r = opdbus.run("init", "--profile", "privacy-client", "-o", out, check=0)
    assert stat.S_IMODE(out.stat().st_mode) == 0o600
    # the VMess id is generated from the kernel's random UUID source
    assert "generated the VMess id" in r.stderr
    (xray,) = [c for c in json.loads(out.read_text())["plugins"]["lxc"]["containers"] if c["id"] == 102]
    assert UUID_RE.match(xray["config"]["xray"]["outbound"]["id"])
    for verb in ("validate", "plan", "apply"):
        r = opdbus.run(verb, out, check=2)
        for path, word in [
            ("plugins.lxc.containers[0].config.wg0.peers[0].public_key", "CLIENT_PUBLIC_KEY"),
            ("plugins.lxc.containers[1].config.wg-quick.public_key", "WARP_PUBLIC_KEY"),
            ("plugins.lxc.containers[2].config.xray.outbound.server", "VPS_IP"),
        ]:
            assert f"{path}: placeholder {word}:" in r.stderr, r.stderr


def test_set_fills_placeholders(opdbus):
    doc = opdbus.run("init", "--profile", "privacy-client", "--set", "vps_ip=203.0.113.7",
                     "--set", f"client_public_key={KEY}", "--set", f"warp_public_key={WARP}",
                     "--set", "uuid=1b671a64-40d5-491e-99b0-da01ff1f3341", check=0, json=True).json
    values = strings(doc)
    assert "203.0.113.7" in values and KEY in values and WARP in values
    assert "1b671a64-40d5-491e-99b0-da01ff1f3341" in values
    assert not {"VPS_IP", "UUID", "CLIENT_PUBLIC_KEY", "WARP_PUBLIC_KEY"} & set(values)


def test_vps_profile_needs_its_public_ip(opdbus, tmp_state):
    doc = opdbus.run("init", "--profile", "privacy-vps", check=0, json=True).json
    r = opdbus.run("validate", tmp_state(doc), check=2)
    assert "plugins.lxc.containers[0].network.public_ip: placeholder VPS_PUBLIC_IP" in r.stderr
    doc = opdbus.run("init", "--profile", "privacy-vps", "--set", "vps_public_ip=198.51.100.4",
                     check=0, json=True).json
    opdbus.run("validate", tmp_state(doc), check=0)


@pytest.mark.parametrize("profile,other,other_name", [
    ("privacy-client", "privacy-vps", "the VPS"),
    ("privacy-vps", "privacy-client", "the privacy client"),
])
def test_generated_id_names_the_other_end(opdbus, tmp_path, profile, other, other_name):
    out = tmp_path / "state.json"
    r = opdbus.run("init", "--profile", profile, "-o", out, check=0)
    uuid = strings(json.loads(out.read_text()))
    (line,) = [line for line in r.stderr.splitlines() if "generated the VMess id" in line]
    (generated,) = [u for u in uuid if UUID_RE.match(u) and u in line]
    assert f"give {other_name} the same one: op-dbus init --profile {other} --set uuid={generated}" in line


@pytest.mark.parametrize("profile", ["none", "privacy-client"])
def test_init_does_not_overwrite_and_claims_nothing(opdbus, tmp_path, profile):
    (tmp_path / "out").mkdir()
    existing = tmp_path / "out" / "existing.json"
    existing.write_text("{}\n")
    r = opdbus.run("init", "--profile", profile, "-o", existing, check=2)
    assert f"cannot write {existing}: File exists" in r.stderr
    assert "generated" not in r.stderr and "VMess" not in r.stderr, r.stderr
    assert existing.read_text() == "{}\n"
    assert [p.name for p in existing.parent.iterdir()] == ["existing.json"]  # no temporary file left


@pytest.mark.parametrize("args,message", [
    (["--set", "bogus=1"], "unknown key"),
    (["--set", "vps_ip=1.2.3"], "is not an IPv4 address"),
    (["--set", "uuid=not-a-uuid"], "is not a UUID"),
    (["--set", "client_public_key=short"], "is not a WireGuard key"),
    (["--set", "vps_ip"], "expected KEY=VALUE"),
])
def test_bad_set_values_are_refused(opdbus, args, message):
    r = opdbus.run("init", "--profile", "privacy-client", *args, check=2)
    assert message in r.stderr


def test_set_for_a_placeholder_the_profile_does_not_have(opdbus):
    r = opdbus.run("init", "--profile", "none", "--set", "vps_ip=203.0.113.7", check=2)
    assert 'profile "none" has no VPS_IP' in r.stderr


def test_unknown_profile(opdbus):
    r = opdbus.run("init", "--profile", "gateway", check=2)
    assert 'unknown profile "gateway"' in r.stderr


def test_the_vmess_id_stays_out_of_plan_and_query(opdbus, ovs, pve_sim, tmp_state):  # noqa: F811
    """The VMess id is the one secret a state carries (docs/services.md,
    "Secrets"): plan, apply's refusal and query never print it."""
    secret = "1b671a64-40d5-491e-99b0-da01ff1f3341"
    doc = opdbus.run("init", "--profile", "privacy-client", "--set", "vps_ip=203.0.113.7",
                     "--set", f"client_public_key={KEY}", "--set", f"warp_public_key={WARP}",
                     "--set", f"uuid={secret}", check=0, json=True).json
    env = {**ovs.env(), **pve_sim(ovs).env()}
    path = tmp_state(doc)
    seen = []
    for verb in (["plan", "--json", path], ["plan", path], ["query", "--json"], ["query"]):
        r = opdbus.run(*verb, check=None, env=env)
        seen.append((verb[0], r.returncode))
        assert secret not in r.stdout and secret not in r.stderr, verb
    assert ("plan", 0) in seen, seen


def test_validate_reports_service_mistakes_with_their_paths(opdbus, tmp_state):
    """The services' configuration is checked when the state is validated
    (docs/services.md): a wrong key or id is an error at its path, and the
    value itself is not printed."""
    doc = opdbus.run("init", "--profile", "privacy-client", "--set", "vps_ip=203.0.113.7",
                     "--set", f"client_public_key={KEY}", "--set", f"warp_public_key={WARP}",
                     check=0, json=True).json
    containers = doc["plugins"]["lxc"]["containers"]
    containers[0]["config"]["wg0"]["peers"][0]["public_key"] = KEY[:-1]
    containers[2]["config"]["xray"]["outbound"]["id"] = "not-a-uuid-but-secret"
    r = opdbus.run("validate", tmp_state(doc), check=2)
    assert "plugins.lxc.containers[0].config.wg0.peers[0].public_key: " in r.stderr, r.stderr
    assert "plugins.lxc.containers[2].config.xray.outbound.id: the value is not a UUID" in r.stderr, r.stderr
    assert "not-a-uuid-but-secret" not in r.stderr


# ------------------------------------------- the design document's examples

DESIGN = sorted(VALID_DIR.glob("design-doc-*.json"))
FILL = ["--set", "vps_ip=203.0.113.7", "--set", f"client_public_key={KEY}", "--set", f"warp_public_key={WARP}",
        "--set", "uuid=1b671a64-40d5-491e-99b0-da01ff1f3341"]


def as_the_document_installs_it(opdbus, doc):
    """The full state configuration lists containers 100-102 by name only:
    its installation steps start from `init --profile privacy-client` and
    add the general containers to it (docs/profiles.md)."""
    plugins = doc.get("plugins", doc)  # canonical or bare, as the document wrote it
    containers = plugins.get("lxc", {}).get("containers", [])
    if all("template" in c or "template" in c.get("properties", {}) for c in containers):
        return doc
    base = opdbus.run("init", "--profile", "privacy-client", *FILL, check=0, json=True).json
    have = {c["id"] for c in base["plugins"]["lxc"]["containers"]}
    base["plugins"]["lxc"]["containers"] += [c for c in containers if c["id"] not in have]
    base["plugins"]["openflow"]["obfuscation_level"] = plugins["openflow"]["obfuscation_level"]
    return base


@pytest.mark.parametrize("path", DESIGN, ids=[p.stem for p in DESIGN])
def test_design_document_examples_plan(opdbus, ovs, pve_sim, tmp_state, path):  # noqa: F811
    """Every JSON example of the design document (kept as it is under
    tests/fixtures/valid/design-doc-*.json) plans on a node once its
    placeholders are filled. "debian-netmaker" is the template the
    document has the operator build first."""
    # The document's profiles name ovsbr0 only in openflow.bridges, and its
    # Netmaker container sits on mesh: they are for a node where these
    # bridges exist (op-dbus's installation leaves ovsbr0, the netmaker
    # profile adds mesh).
    for name in ("ovsbr0", "mesh"):
        ovs.vsctl("add-br", name, "--", "set", "Bridge", name, "datapath_type=netdev")
    pve = pve_sim(ovs)
    pve.add_template("debian-netmaker_1.0_amd64.tar.gz")
    doc = as_the_document_installs_it(opdbus, _fill(json.loads(path.read_text())))
    r = opdbus.run("plan", "--json", tmp_state(doc), check=None, json=True, env={**ovs.env(), **pve.env()})
    assert r.returncode == 0, r.stdout + r.stderr
    planned = {c["path"] for c in r.json["changes"]}
    for c in doc.get("plugins", doc).get("lxc", {}).get("containers", []):
        assert f"container/{c['id']}" in planned, planned
