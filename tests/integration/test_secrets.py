# SPDX-License-Identifier: LGPL-2.1-or-later
"""No secret in any output channel (docs/services.md "Secrets",
docs/netmaker.md "Keeping the token secret", docs/reliability.md "Access
and secrets").

One node (the OVS sandbox, the Proxmox test double, a Netmaker stand-in
over HTTPS) runs the daemon with -v and a container holding every kind of
secret op-dbus handles: the WireGuard private key op-dbus generates inside
it, a Warp account key put there by the operator, an Xray VMess id (part
of the state document) and the Netmaker enrollment token with its key,
which op-dbus injects (two of them: the token is replaced once). The
state is applied, planned, queried, verified, changed with a confirm
window, rolled back and repaired after tampering, through the CLI (text
and --json, through the daemon and without it) and over D-Bus, with
failures provoked: a token file with the wrong mode, a server that cannot
be reached, an apply that fails and is rolled back.

Then every channel is searched for each secret, as it is and in its
encoded forms (base64, hex, the raw bytes in files, JSON-escaped): the
output of every command and call, every message the daemon sent on the
bus (replies, errors, signals), the daemon's log, the pct command lines,
and every file below the state and run directories and the Proxmox
configuration. The VMess id is part of the state, so the checkpoints hold
it: it may be in files of mode 0600 below the state directory only. A hit
fails the test, naming the channel.
"""

import base64
import binascii
import json
import os
import re
import secrets
import stat
import subprocess
import uuid
from pathlib import Path

import pytest

pytest.register_assert_rewrite("dbus_fixture")

from dbus_fixture import (BUS_NAME, INTERFACE, OBJECT_PATH, PROPERTIES,  # noqa: E402
                          options_args)
from pve_fixture import pve_sim, pve_templates  # noqa: E402, F401
from test_lxc import Node  # noqa: E402
from test_netmaker import Token, closed_port, https_server, pki, write_token_file  # noqa: E402, F401

pytest_plugins = ("dbus_fixture",)

VMID = 330
WG_KEY = "/etc/wireguard/private.key"
WARP_KEY = "/etc/wireguard/warp.key"
WG_CONF = "/etc/wireguard/wg0.conf"
PEER = "xTIBA5rboUvnH4htodjb6e697QjLERt1NAB4mZqp8Dg="      # public keys: not secret
WARP_PUBLIC = "bmXOC+F1FxEMF9dyiK2H5/1SUtzH0JuVo51h2wPfgyo="
CT_TOKEN = "/etc/netmaker/enrollment-token"


def node_state(token_file, xray_port=1080, api_endpoint=None, vmess_id=None):
    ct = {
        "id": VMID, "name": f"ct{VMID}", "template": "debian-12", "state": "running",
        "network": {"bridge": "mesh", "veth": True, "ipv4": "10.61.0.30/24"},
        "properties": {"memory": 256, "swap": 0, "rootfs_size": 1, "network_type": "netmaker"},
        "services": ["wireguard", "wg-quick@wg-warp", "xray"],
        "config": {
            "wg0": {"address": "10.99.0.1/24", "listen_port": 51820, "private_key_file": WG_KEY,
                    "peers": [{"public_key": PEER, "allowed_ips": ["10.99.0.0/24"]}]},
            "wg-quick": {"interface": "wg-warp", "address": "10.99.1.2/32", "private_key_file": WARP_KEY,
                         "endpoint": "engage.cloudflareclient.com:2408", "public_key": WARP_PUBLIC},
            "xray": {"inbound": {"port": xray_port, "protocol": "socks"},
                     "outbound": {"protocol": "vmess", "server": "203.0.113.7", "port": 443, "id": vmess_id,
                                  "alterId": 0, "security": "auto",
                                  "streamSettings": {"network": "tcp", "security": "tls"}}},
        },
    }
    netmaker = {"enabled": True, "token_file": token_file}
    if api_endpoint:
        netmaker["api_endpoint"] = api_endpoint
    return {"version": 1, "plugins": {
        "net": {"bridges": [{"name": "mesh", "datapath_type": "netdev"}]},
        "lxc": {"backend": "pct", "containers": [ct]},
        "netmaker": netmaker,
    }}


# ---- secrets and their forms ------------------------------------------------------------


class Secret:
    """A secret value and the forms it could leak in: as it is, JSON-escaped,
    and for a value that is base64 or a UUID its bytes in hex (both
    cases), base64 (with and without padding, URL-safe) and, in files, the
    raw bytes."""

    def __init__(self, name, value):
        self.name = name
        self.value = value
        texts = {value, value.replace("/", "\\/")}
        raw = None
        try:
            raw = uuid.UUID(value).bytes if re.fullmatch(r"[0-9a-fA-F-]{36}", value) else \
                base64.b64decode(value, validate=True)
        except (ValueError, binascii.Error):
            pass
        if raw is not None and len(raw) >= 16:
            b64 = base64.b64encode(raw).decode()
            texts |= {raw.hex(), raw.hex().upper(), b64, b64.rstrip("="), b64.replace("/", "\\/"),
                      base64.urlsafe_b64encode(raw).decode().rstrip("="), value.upper(), value.lower()}
        self.texts = sorted(texts)
        self.raw = raw if raw is not None and len(raw) >= 16 else None

    def found_in(self, data):
        """The first form of the secret in data (str or bytes), or None."""
        if isinstance(data, bytes):
            if self.raw is not None and self.raw in data:
                return "its raw bytes"
            data = data.decode("latin-1")
        for form in self.texts:
            if form in data:
                return "as it is" if form == self.value else f"encoded as {form[:12]}..."
        return None


def token_secrets(name, token):
    """The token, its key, and the JSON the token decodes to."""
    decoded = base64.b64decode(token.value).decode()
    return [Secret(name, token.value), Secret(f"{name}'s key", token.key), Secret(f"{name} decoded", decoded)]


# ---- the channels ------------------------------------------------------------------------


class Channels:
    """Every output op-dbus produced, by name."""

    def __init__(self, d, node):
        self.d = d
        self.node = node
        self.text = {}

    def add(self, name, text):
        n, key = 1, name
        while key in self.text:
            n += 1
            key = f"{name} #{n}"
        self.text[key] = text or ""

    def cli(self, *args, no_daemon=False, env=None, check=None):
        """op-dbus ARGS (through the daemon unless no_daemon); both streams
        are channels."""
        run_env = dict(self.d.env)
        if no_daemon:
            run_env["OPDBUS_NO_DAEMON"] = "1"
        run_env.update(env or {})
        p = subprocess.run([os.environ.get("OPDBUS_BIN", "build-test/agent/cli/op-dbus"), *args],
                           env=run_env, capture_output=True, text=True, timeout=300)
        label = f"op-dbus {' '.join(a if len(a) < 40 else Path(a).name for a in args)}" + \
                (" (without the daemon)" if no_daemon else "")
        self.add(f"{label}: stdout", p.stdout)
        self.add(f"{label}: stderr", p.stderr)
        if check is not None:
            assert p.returncode == check, f"{label}: exit {p.returncode}\n{p.stdout}\n{p.stderr}"
        return p

    def bus(self, member, signature="", *args, interface=INTERFACE, ok=None):
        r = self.d.busctl("--json=short", "--timeout=300", "call", BUS_NAME, OBJECT_PATH, interface, member,
                          *([signature, *args] if signature else []))
        self.add(f"busctl call {member}", f"{r.stdout}\n{r.stderr}\n{r.error_message or ''}")
        if ok is not None:
            assert r.ok == ok, r.describe()
        return r


def files_below(*dirs):
    for top in dirs:
        for root, _dirs, names in os.walk(top):
            for name in names:
                path = os.path.join(root, name)
                st = os.lstat(path)
                if stat.S_ISREG(st.st_mode):
                    yield path, st


# ---- the sweep ----------------------------------------------------------------------------


def test_no_secret_in_any_output(start_daemon, ovs, opdbus, pve_sim, pki, https_server, tmp_path,  # noqa: F811
                                 tmp_state):
    pve = pve_sim(ovs)
    node = Node(ovs, opdbus, pve, tmp_path, tmp_state)
    server = https_server()
    vmess_id = str(uuid.uuid4())
    # The second token names a server that cannot be reached.
    tokens = [Token(f"127.0.0.1:{server.port}"), Token(f"127.0.0.1:{closed_port()}"),
              Token(f"127.0.0.1:{server.port}")]
    token_file = write_token_file(tmp_path / "netmaker.env", tokens[0])
    env = {**node.env, "OPDBUS_CA_FILE": pki["ca"]}
    for var in ("http_proxy", "https_proxy", "all_proxy", "HTTP_PROXY", "HTTPS_PROXY", "ALL_PROXY"):
        env[var] = ""
    d = start_daemon(env=env, args=("-v", "--container-audit-interval", "5"))
    out = Channels(d, node)

    state_dir = tmp_path / "states"
    state_dir.mkdir(mode=0o700)

    def doc_file(doc, name):
        path = state_dir / name
        path.write_text(json.dumps(doc, indent=2))
        path.chmod(0o600)
        return str(path)

    doc = node_state(token_file, vmess_id=vmess_id)
    main = doc_file(doc, "state.json")
    changed = doc_file(node_state(token_file, xray_port=1081, vmess_id=vmess_id), "changed.json")

    # Apply: the container, its services, the generated key, the token.
    out.cli("apply", "--json", main, check=0)
    pve.pct("exec", VMID, "--", "sh", "-c", f"test -s {CT_TOKEN}")
    warp_key = base64.b64encode(secrets.token_bytes(32)).decode()
    pve.pct("exec", VMID, "--", "sh", "-c", f"umask 077; echo {warp_key} > {WARP_KEY}")
    out.cli("apply", main, check=0)
    wg_key = pve.pct("exec", VMID, "--", "cat", WG_KEY).stdout.strip()
    assert len(base64.b64decode(wg_key)) == 32

    # Read: every command, text and JSON, with and without the daemon.
    for no_daemon in (False, True):
        for fmt in ((), ("--json",)):
            out.cli("validate", *fmt, main, no_daemon=no_daemon)
            out.cli("plan", *fmt, main, no_daemon=no_daemon, check=0)
            out.cli("apply", "--dry-run", *fmt, main, no_daemon=no_daemon, check=0)
            out.cli("verify", *fmt, main, no_daemon=no_daemon)
            out.cli("diff", *fmt, main, no_daemon=no_daemon)
            out.cli("checkpoints", *fmt, no_daemon=no_daemon, check=0)
        out.cli("query", no_daemon=no_daemon, check=0)
        for plugin in ("net", "lxc", "netmaker"):
            out.cli("query", "--plugin", plugin, no_daemon=no_daemon, check=0)
    out.cli("-v", "plan", main, no_daemon=True, check=0)
    text = json.dumps(doc)
    for member, sig, args in (("Plan", "s", (text,)), ("PlanWithOptions", "sa{sv}", (text, *options_args())),
                              ("ApplyState", "s", (text,)), ("QueryState", "", ()), ("Verify", "", ()),
                              ("ListCheckpoints", "", ())):
        out.bus(member, sig, *args, ok=True)
    for plugin in ("net", "lxc", "netmaker"):
        out.bus("QueryPlugin", "s", plugin, ok=True)
    out.bus("GetAll", "s", INTERFACE, interface=PROPERTIES, ok=True)

    # Change with a confirm window, confirm; change again and roll back.
    out.cli("apply", "--confirm-timeout", "120", changed, check=0)
    out.cli("confirm", check=0)
    out.cli("rollback", "--json", check=0)
    out.bus("ApplyStateWithOptions", "sa{sv}", json.dumps(node_state(token_file, xray_port=1082, vmess_id=vmess_id)),
            *options_args(confirm_timeout=120), ok=True)
    out.bus("Confirm", ok=True)
    out.bus("Rollback", "u", "0", ok=True)
    out.cli("-v", "apply", "--json", main, no_daemon=True, check=0)

    # Tampering inside the container: the daemon's container audit repairs it.
    since = d.mark()
    pve.pct("exec", VMID, "--", "sh", "-c", f"echo '# edited' >> {WG_CONF}")
    d.wait_for("DriftDetected", timeout=90, since=since, predicate=lambda a: a[1] == f"container/{VMID}/services")

    # Failures: a token file others may read; a new token whose server, or
    # an endpoint that, cannot be reached (the daemon's container audit
    # fails on it too); an apply that fails and is rolled back.
    os.chmod(token_file, 0o644)
    out.cli("plan", main, check=2)
    out.cli("apply", "--json", main, check=2)
    out.bus("Plan", "s", text, ok=False)
    os.chmod(token_file, 0o600)
    write_token_file(token_file, tokens[1])
    out.cli("plan", "--json", main, check=5)
    out.bus("ApplyState", "s", text, ok=False)
    unreachable = node_state(token_file, api_endpoint=f"https://127.0.0.1:{closed_port()}", vmess_id=vmess_id)
    out.bus("Plan", "s", json.dumps(unreachable), ok=False)
    out.cli("apply", doc_file(unreachable, "unreachable.json"), check=5)
    write_token_file(token_file, tokens[2])
    out.cli("apply", "--json", changed, no_daemon=True, env={"OPDBUS_FAULT_INJECT": "lxc"}, check=1)
    out.cli("apply", "--json", main, check=0)  # the new token goes in
    assert pve.pct("exec", VMID, "--", "cat", CT_TOKEN).stdout.strip() == tokens[2].value
    out.cli("verify", "--json", main, check=0)
    d.stop()

    # ---- the sweep ----
    all_secrets = [Secret("the generated WireGuard key", wg_key), Secret("the Warp key", warp_key),
                   Secret("the VMess id", vmess_id)]
    for i, token in enumerate(tokens):
        all_secrets += token_secrets(f"Netmaker token {i + 1}", token)
    may_be_stored = {"the VMess id"}  # part of the state: in the checkpoints

    channels = dict(out.text)
    members = {(m.get("sender"), m.get("cookie")): m.get("member") for m in d.bus.monitor.messages
               if m.get("type") == "method_call"}
    for i, msg in enumerate(d.bus.monitor.messages):
        if msg.get("sender") != d.unique_name:
            continue  # the calls themselves carry the documents sent
        what = msg.get("member") if msg.get("type") == "signal" else \
            f"to {members.get((msg.get('destination'), msg.get('reply_cookie')))}"
        channels[f"bus message {i} from the daemon ({msg.get('type')} {what})"] = json.dumps(msg, ensure_ascii=False)
    channels["the daemon's log"] = d.log_text()
    channels["pct command lines"] = "\n".join(json.dumps(c) for c in node.calls())
    channels["commands of the Proxmox test double"] = "\n".join(json.dumps(c) for c in pve.commands())

    hits = []
    for name, data in channels.items():
        for s in all_secrets:
            how = s.found_in(data)
            if how:
                hits.append(f"{s.name} {how} in {name}")
    private = []
    dirs = (ovs.path("state"), ovs.path("run"), pve.path("etc/pve"))
    for path, st in files_below(*dirs):
        data = Path(path).read_bytes()
        for s in all_secrets:
            how = s.found_in(data)
            if not how:
                continue
            if s.name in may_be_stored and path.startswith(ovs.path("state")) and st.st_mode & 0o077 == 0 \
                    and st.st_uid == 0:
                private.append(f"{s.name} in {path} ({stat.S_IMODE(st.st_mode):04o})")
                continue
            hits.append(f"{s.name} {how} in the file {path} ({stat.S_IMODE(st.st_mode):04o})")
    print(f"{len(channels)} output channels and the files below {', '.join(dirs)} searched for "
          f"{len(all_secrets)} secrets; stored privately: {len(private)} file(s)")
    assert not hits, "secrets found:\n" + "\n".join(hits)
    assert private, "the VMess id is in no checkpoint: was the state applied at all?"
    assert any("/checkpoints/" in p for p in private)
