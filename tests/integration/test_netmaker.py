# SPDX-License-Identifier: LGPL-2.1-or-later
"""The netmaker plugin: the enrollment token file, the Netmaker server
check over HTTPS, and the injection into containers.

The server is a local HTTPS server on 127.0.0.1 that each test starts, with
a CA and server certificates made by the `openssl` command; op-dbus trusts
that CA through OPDBUS_CA_FILE. The container in the server tests does not
exist (the private Proxmox directory of the `opdbus` fixture is empty), so
op-dbus plans to inject once it exists, and checks the server first. The
injection tests use the Proxmox test double (tests/pve-sim) with real
containers created by pct, and `--plugin netmaker` so that only this plugin
acts, on the containers of an applied state made to have the document's
lxc section.

Every test checks that the token, and the key it carries, appear nowhere in
op-dbus's output.
"""

import base64
import http.server
import json
import os
import secrets
import shutil
import socket
import ssl
import subprocess
import threading
from pathlib import Path

import pytest

from pve_fixture import pve_sim, pve_templates  # noqa: F401

EXIT_INVALID = 2
EXIT_UNAVAILABLE = 5

PROXY_VARIABLES = ("http_proxy", "https_proxy", "all_proxy", "HTTP_PROXY", "HTTPS_PROXY", "ALL_PROXY",
                   "no_proxy", "NO_PROXY")

TOKEN_PATH = "/etc/netmaker/enrollment-token"
UNIT_PATH = "/etc/systemd/system/netmaker-first-boot.service"
UNIT_LINK = "/etc/systemd/system/multi-user.target.wants/netmaker-first-boot.service"
# The Proxmox tag of the containers op-dbus created (and so manages).
OWNER_TAG = "op-dbus"

with open(Path(__file__).resolve().parents[2] / "schemas" / "state.schema.json") as _f:
    SCHEMA = json.load(_f)

needs_root = pytest.mark.skipif(os.geteuid() != 0, reason="the token file must be owned by root")


# ---- PKI ------------------------------------------------------------------------------


def _openssl(*args, cwd):
    subprocess.run(["openssl", *args], cwd=cwd, check=True, capture_output=True)


def _make_ca(d, name):
    _openssl("req", "-x509", "-newkey", "ec", "-pkeyopt", "ec_paramgen_curve:prime256v1", "-nodes",
             "-keyout", f"{name}.key", "-out", f"{name}.pem", "-days", "2", "-subj", f"/CN=op-dbus test {name}",
             "-addext", "basicConstraints=critical,CA:TRUE",
             "-addext", "keyUsage=critical,keyCertSign,cRLSign", cwd=d)


def _make_cert(d, name, ca, san):
    with open(os.path.join(d, f"{name}.ext"), "w") as f:
        f.write(f"subjectAltName={san}\nbasicConstraints=CA:FALSE\n"
                "keyUsage=digitalSignature\nextendedKeyUsage=serverAuth\n")
    _openssl("req", "-newkey", "ec", "-pkeyopt", "ec_paramgen_curve:prime256v1", "-nodes",
             "-keyout", f"{name}.key", "-out", f"{name}.csr", "-subj", f"/CN={name}", cwd=d)
    _openssl("x509", "-req", "-in", f"{name}.csr", "-CA", f"{ca}.pem", "-CAkey", f"{ca}.key",
             "-CAcreateserial", "-out", f"{name}.pem", "-days", "2", "-extfile", f"{name}.ext", cwd=d)
    return os.path.join(d, f"{name}.pem"), os.path.join(d, f"{name}.key")


@pytest.fixture(scope="module")
def pki(tmp_path_factory):
    """ca.pem (what op-dbus trusts), a server certificate for 127.0.0.1 from
    it, one from another CA, and one of the CA for another name."""
    if not shutil.which("openssl"):
        pytest.skip("the openssl command is needed to make test certificates")
    d = str(tmp_path_factory.mktemp("pki"))
    _make_ca(d, "ca")
    _make_ca(d, "rogue")
    return {
        "ca": os.path.join(d, "ca.pem"),
        "good": _make_cert(d, "server", "ca", "IP:127.0.0.1,DNS:localhost"),
        "rogue": _make_cert(d, "rogue-server", "rogue", "IP:127.0.0.1,DNS:localhost"),
        "wrong-name": _make_cert(d, "other-name", "ca", "DNS:other.example.org"),
    }


# ---- servers --------------------------------------------------------------------------


class _Handler(http.server.BaseHTTPRequestHandler):
    def do_GET(self):  # noqa: N802 - http.server's naming
        srv = self.server
        srv.requests.append({"path": self.path, "headers": dict(self.headers)})
        if srv.mode == "redirect-loop":
            self.send_response(302)
            self.send_header("Location", f"/hop{len(srv.requests)}")
            self.end_headers()
            return
        if srv.mode == "redirect-once" and self.path == "/api/server/health":
            self.send_response(302)
            self.send_header("Location", "/moved/health")
            self.end_headers()
            return
        status = srv.status if self.path in ("/api/server/health", "/moved/health") else 404
        body = b'{"status": "ok"}' if status == 200 else b'{"error": "no"}'
        self.send_response(status)
        self.send_header("Content-Type", "application/json")
        self.send_header("Content-Length", str(len(body)))
        self.end_headers()
        self.wfile.write(body)

    def log_message(self, fmt, *args):
        pass


class _TlsServer(http.server.ThreadingHTTPServer):
    daemon_threads = True

    def handle_error(self, request, client_address):
        pass  # clients that reject our certificate end the handshake


class HttpsServer:
    """A Netmaker stand-in on 127.0.0.1: GET /api/server/health answers
    `status` (mode "ok"), or redirects ("redirect-once", "redirect-loop")."""

    def __init__(self, cert, key, status=200, mode="ok"):
        self.httpd = _TlsServer(("127.0.0.1", 0), _Handler)
        self.httpd.requests = []
        self.httpd.status = status
        self.httpd.mode = mode
        ctx = ssl.SSLContext(ssl.PROTOCOL_TLS_SERVER)
        ctx.load_cert_chain(cert, key)
        self.httpd.socket = ctx.wrap_socket(self.httpd.socket, server_side=True)
        self.port = self.httpd.server_address[1]
        self.thread = threading.Thread(target=self.httpd.serve_forever, daemon=True)
        self.thread.start()

    @property
    def requests(self):
        return self.httpd.requests

    def close(self):
        self.httpd.shutdown()
        self.httpd.server_close()
        self.thread.join(timeout=5)


@pytest.fixture
def https_server(pki):
    """Factory: https_server(cert="good", status=200, mode="ok")."""
    servers = []

    def start(cert="good", status=200, mode="ok"):
        s = HttpsServer(*pki[cert], status=status, mode=mode)
        servers.append(s)
        return s

    yield start
    for s in servers:
        s.close()


@pytest.fixture
def silent_port():
    """A port that accepts TCP connections and never says anything."""
    s = socket.socket(socket.AF_INET, socket.SOCK_STREAM)
    s.bind(("127.0.0.1", 0))
    s.listen(8)
    yield s.getsockname()[1]
    s.close()


def closed_port():
    s = socket.socket(socket.AF_INET, socket.SOCK_STREAM)
    s.bind(("127.0.0.1", 0))
    port = s.getsockname()[1]
    s.close()
    return port


# ---- tokens and states ------------------------------------------------------------------


class Token:
    """A Netmaker enrollment token (base64 of JSON) with a random key."""

    def __init__(self, server=None, fields=None, raw=None):
        self.key = "nmkey-" + secrets.token_hex(16)
        if raw is not None:
            self.value = raw
        else:
            obj = {"server": server, "value": self.key} if fields is None else fields
            self.value = base64.b64encode(json.dumps(obj).encode()).decode()

    def assert_absent(self, *texts):
        for text in texts:
            assert self.value not in text, "the token appears in op-dbus's output"
            assert self.key not in text, "the token's key appears in op-dbus's output"


def write_token_file(path, token, mode=0o600):
    with open(path, "w") as f:
        f.write(f'# Netmaker enrollment token\nNETMAKER_TOKEN="{token.value}"\n')
    os.chmod(path, mode)
    return str(path)


def state(token_file, containers=(104,), bridge="mesh", declare=("mesh",), api_endpoint=None):
    netmaker = {"enabled": True, "token_file": token_file, "default_network": "containers"}
    if api_endpoint:
        netmaker["api_endpoint"] = api_endpoint
    return {
        "version": 1,
        "plugins": {
            "net": {"bridges": [{"name": b} for b in declare]},
            "lxc": {"containers": [
                {"id": cid, "name": f"app{cid}", "network": {"bridge": bridge, "veth": True},
                 "properties": {"network_type": "netmaker"}} for cid in containers]},
            "netmaker": netmaker,
        },
    }


def seed_applied_state(state_dir, doc):
    """The applied state of a node where the document's net and lxc
    sections were applied (their containers made with pct, or not there):
    with `--plugin netmaker`, the netmaker plugin works on the containers of
    the applied state (docs/state.md, "The applied state"). Stored as op-dbus
    stores it, a checkpoint (agent/core/checkpoint.h)."""
    cp = Path(state_dir) / "checkpoints"
    cp.mkdir(parents=True, exist_ok=True)
    gens = sorted(int(p.name[len("gen-"):-len(".json")]) for p in cp.glob("gen-*.json"))
    plugins = json.loads((cp / f"gen-{gens[-1]:020d}.json").read_text())["state"]["plugins"] if gens else {}
    wanted = {**plugins, **{k: v for k, v in doc["plugins"].items() if k in ("net", "lxc")}}
    if gens and wanted == plugins:
        return
    n = (gens[-1] if gens else 0) + 1
    (cp / f"gen-{n:020d}.json").write_text(json.dumps(
        {"generation": n, "created": "2026-01-01T00:00:00Z", "digest": "0" * 16,
         "state": {"version": 1, "plugins": wanted}}))


@pytest.fixture
def nm(opdbus, pki, tmp_path, tmp_state):
    """Runs op-dbus for the netmaker plugin: trusting the test CA, without
    proxies, never showing the token; the document's net and lxc sections
    are the applied state's (seed_applied_state)."""
    for var in PROXY_VARIABLES:
        opdbus.env.pop(var, None)
    opdbus.env["OPDBUS_CA_FILE"] = pki["ca"]

    class Runner:
        def __init__(self):
            self.token_file = str(tmp_path / "netmaker.env")

        def run(self, token, *args, check=None, env=None):
            for a in args:
                if str(a).endswith(".json"):
                    with open(a) as f:
                        seed_applied_state({**opdbus.env, **(env or {})}["OPDBUS_STATE_DIR"], json.load(f))
            res = opdbus.run(*args, "--plugin", "netmaker", "--json", check=check, json=True, env=env)
            token.assert_absent(res.stdout, res.stderr)
            return res

        def plan(self, token, doc, check=None, env=None):
            return self.run(token, "plan", tmp_state(doc), check=check, env=env)

    return Runner()


def errors(res):
    return "\n".join(res.json["errors"])


# ---- the server check ---------------------------------------------------------------------


@needs_root
def test_healthy_server_passes_and_plans_the_injection(nm, https_server):
    srv = https_server()
    token = Token(f"127.0.0.1:{srv.port}")
    res = nm.plan(token, state(write_token_file(nm.token_file, token)), check=0)

    assert res.json["ok"] is True
    assert [(c["path"], c["action"], c["impact"]) for c in res.json["changes"]] == \
        [("netmaker/container/104", "create", "no traffic impact")]
    assert "once container 104 exists" in res.json["changes"][0]["detail"]
    assert [r["path"] for r in srv.requests] == ["/api/server/health"]
    # nothing secret goes to the server
    token.assert_absent(json.dumps(srv.requests))


@needs_root
def test_api_endpoint_is_checked_instead_of_the_token_server(nm, https_server):
    srv = https_server()
    token = Token("netmaker.invalid")
    doc = state(write_token_file(nm.token_file, token), api_endpoint=f"https://127.0.0.1:{srv.port}/")
    res = nm.plan(token, doc, check=0)

    assert [r["path"] for r in srv.requests] == ["/api/server/health"]
    assert any("the enrollment token names netmaker.invalid" in w for w in res.json["warnings"])


@needs_root
def test_one_redirect_is_followed(nm, https_server):
    srv = https_server(mode="redirect-once")
    token = Token(f"127.0.0.1:{srv.port}")
    nm.plan(token, state(write_token_file(nm.token_file, token)), check=0)
    assert [r["path"] for r in srv.requests] == ["/api/server/health", "/moved/health"]


@needs_root
def test_redirects_are_bounded(nm, https_server):
    srv = https_server(mode="redirect-loop")
    token = Token(f"127.0.0.1:{srv.port}")
    res = nm.plan(token, state(write_token_file(nm.token_file, token)), check=EXIT_UNAVAILABLE)

    assert "too many redirects" in errors(res)
    assert len(srv.requests) == 4  # the request and three redirects


@needs_root
def test_refused(nm):
    port = closed_port()
    token = Token(f"127.0.0.1:{port}")
    res = nm.plan(token, state(write_token_file(nm.token_file, token)), check=EXIT_UNAVAILABLE)

    assert res.json["status"] == "unavailable"
    assert (f"plugins.netmaker.token_file: the Netmaker server does not answer GET "
            f"https://127.0.0.1:{port}/api/server/health: connection refused") in errors(res)


@needs_root
def test_timeout(nm, silent_port):
    token = Token(f"127.0.0.1:{silent_port}")
    res = nm.plan(token, state(write_token_file(nm.token_file, token)), check=EXIT_UNAVAILABLE)

    assert f"https://127.0.0.1:{silent_port}/api/server/health: no answer in time" in errors(res)


@needs_root
@pytest.mark.parametrize("cert", ["rogue", "wrong-name"])
def test_bad_certificate(nm, https_server, cert):
    srv = https_server(cert=cert)
    token = Token(f"127.0.0.1:{srv.port}")
    res = nm.plan(token, state(write_token_file(nm.token_file, token)), check=EXIT_UNAVAILABLE)

    assert f"https://127.0.0.1:{srv.port}/api/server/health: bad certificate" in errors(res)
    assert srv.requests == []


@needs_root
def test_system_trust_store_does_not_know_the_test_ca(nm, https_server):
    srv = https_server()
    token = Token(f"127.0.0.1:{srv.port}")
    res = nm.plan(token, state(write_token_file(nm.token_file, token)), check=EXIT_UNAVAILABLE,
                  env={"OPDBUS_CA_FILE": ""})
    # (on a host without any CA bundle the bundle cannot be read instead)
    assert "bad certificate" in errors(res) or "cannot read the CA bundle" in errors(res)


@needs_root
def test_http_error_status(nm, https_server):
    srv = https_server(status=503)
    token = Token(f"127.0.0.1:{srv.port}")
    res = nm.plan(token, state(write_token_file(nm.token_file, token)), check=EXIT_UNAVAILABLE)

    assert f"https://127.0.0.1:{srv.port}/api/server/health: HTTP status 503" in errors(res)


@needs_root
def test_http_endpoint_is_refused(nm, https_server):
    token = Token("127.0.0.1:1")
    doc = state(write_token_file(nm.token_file, token), api_endpoint="http://127.0.0.1:1")
    res = nm.plan(token, doc, check=EXIT_INVALID)
    assert 'plugins.netmaker.api_endpoint: "http://127.0.0.1:1" is not https' in errors(res)


# ---- the token file -----------------------------------------------------------------------


@needs_root
@pytest.mark.parametrize("case,make,message", [
    ("not-base64", lambda: Token(raw="this is not base64!"), "it is not base64"),
    ("not-json", lambda: Token(raw=base64.b64encode(b"nmkey-plain-text-secret").decode()),
     "it is base64, but not of a JSON object"),
    ("no-server", lambda: Token(fields={"value": "nmkey-abcdefabcdef"}), "names no Netmaker server"),
    ("bad-server", lambda: Token(fields={"server": "evil.example.org/x", "value": "nmkey-abcdefabcdef"}),
     "not a host name or host:port"),
])
def test_malformed_token(nm, https_server, case, make, message):
    srv = https_server()
    token = make()
    res = nm.plan(token, state(write_token_file(nm.token_file, token)), check=EXIT_INVALID)

    assert res.json["status"] == "invalid"
    assert f"plugins.netmaker.token_file: NETMAKER_TOKEN in {nm.token_file}" in errors(res)
    assert message in errors(res)
    assert srv.requests == []
    token.assert_absent(res.stdout, res.stderr)
    assert "nmkey-" not in res.stdout + res.stderr


@needs_root
def test_apiconnstring_tokens_are_accepted(nm, https_server):
    srv = https_server()
    token = Token(fields={"apiconnstring": f"127.0.0.1:{srv.port}", "network": "n", "key": "nmkey-0123456789"})
    nm.plan(token, state(write_token_file(nm.token_file, token)), check=0)
    assert [r["path"] for r in srv.requests] == ["/api/server/health"]


@needs_root
def test_token_file_readable_by_others_is_refused(nm, https_server):
    srv = https_server()
    token = Token(f"127.0.0.1:{srv.port}")
    path = write_token_file(nm.token_file, token, mode=0o644)
    res = nm.plan(token, state(path), check=EXIT_INVALID)

    assert (f"plugins.netmaker.token_file: the enrollment token file {path} has mode 0644: it must not be "
            "accessible to group or others, expected 0600") in errors(res)
    assert srv.requests == []


@needs_root
def test_token_file_not_owned_by_root_is_refused(nm, https_server):
    srv = https_server()
    token = Token(f"127.0.0.1:{srv.port}")
    path = write_token_file(nm.token_file, token)
    os.chown(path, 65534, 65534)
    res = nm.plan(token, state(path), check=EXIT_INVALID)
    assert f"the enrollment token file {path} is owned by uid 65534: it must be owned by root" in errors(res)


def test_missing_token_file(nm):
    token = Token("127.0.0.1:1")
    res = nm.plan(token, state(nm.token_file), check=EXIT_INVALID)
    assert f"the enrollment token file {nm.token_file} does not exist" in errors(res)


@needs_root
def test_validate_reads_neither_token_nor_server(nm, https_server, opdbus, tmp_state):
    srv = https_server()
    token = Token(f"127.0.0.1:{srv.port}")
    path = write_token_file(nm.token_file, token, mode=0o644)
    res = opdbus.run("validate", tmp_state(state(path)), check=0)
    token.assert_absent(res.stdout, res.stderr)
    assert srv.requests == []


def test_undeclared_bridge(nm):
    token = Token("127.0.0.1:1")
    res = nm.plan(token, state(nm.token_file, declare=("ovsbr0",)), check=EXIT_INVALID)
    assert ('plugins.lxc.containers[0].network.bridge: bridge "mesh" is not declared in plugins.net'
            in errors(res))


def test_netmaker_containers_without_the_section_warn(opdbus, tmp_state):
    doc = state("/nonexistent")
    del doc["plugins"]["netmaker"]
    res = opdbus.run("validate", "--json", tmp_state(doc), check=0, json=True)
    assert any("plugins.lxc.containers[0]" in w and "no plugins.netmaker section" in w
               for w in res.json["warnings"])


def test_query_without_injections_has_no_section(opdbus):
    res = opdbus.run("query", "--plugin", "netmaker", "--json", check=0, json=True)
    assert "netmaker" not in res.json["plugins"]


# ---- injection into containers (Proxmox test double) --------------------------------------


def ct_file(pve, vmid, path):
    return pve.pct("exec", vmid, "--", "cat", path, check=0).stdout


def ct_stat(pve, vmid, path):
    return pve.pct("exec", vmid, "--", "stat", "-c", "%a %u", path, check=0).stdout.strip()


@needs_root
def test_injection_end_to_end(nm, https_server, opdbus, pve_sim, tmp_state):  # noqa: F811
    pve = pve_sim()
    for vmid in (104, 105, 106):
        pve.create(vmid, "--hostname", f"ct{vmid}", "--tags", OWNER_TAG)
    pve.pct("start", 104, check=0)
    pve.pct("start", 106, check=0)   # running, but not in the state: never touched
    srv = https_server()
    token = Token(f"127.0.0.1:{srv.port}")
    doc = state(write_token_file(nm.token_file, token), containers=(104, 105))
    env = pve.env()

    res = nm.plan(token, doc, check=0, env=env)
    changes = {c["path"]: c for c in res.json["changes"]}
    assert changes["netmaker/container/104"]["action"] == "create"
    assert changes["netmaker/container/105"]["action"] == "create"
    assert "stopped container's root file system (pct mount)" in changes["netmaker/container/105"]["detail"]

    res = nm.run(token, "apply", tmp_state(doc), check=0, env=env)
    assert res.json["counts"]["commands"] == 6  # 104: mkdir, 2 pushes, enable; 105: mount, unmount
    assert ct_file(pve, 104, TOKEN_PATH) == token.value + "\n"
    assert ct_stat(pve, 104, TOKEN_PATH) == "600 0"
    unit = ct_file(pve, 104, UNIT_PATH)
    assert "ConditionPathExists=!/var/lib/netmaker/joined" in unit
    assert ('ExecStart=/bin/sh -c \'netclient join -t "$(cat /etc/netmaker/enrollment-token)" && '
            "mkdir -p /var/lib/netmaker && touch /var/lib/netmaker/joined'") in unit
    assert pve.pct("exec", 104, "--", "readlink", UNIT_LINK, check=0).stdout.strip() == UNIT_PATH
    assert pve.pct("exec", 106, "--", "test", "-e", TOKEN_PATH).returncode != 0
    for c in pve.commands():
        token.assert_absent(" ".join(c["argv"]))
    # the stopped container was mounted and unmounted again: no lock, no mount
    assert "lock" not in pve.read_conf(105) and pve.mounts() == []

    # converged: nothing to do, and no need to ask the server again
    asked = len(srv.requests)
    res = nm.plan(token, doc, check=0, env=env)
    assert [c["path"] for c in res.json["changes"] if not c.get("held")] == []
    assert len(srv.requests) == asked

    # query reports what is there, never the token
    res = nm.run(token, "query", check=0, env=env)
    assert res.json["plugins"]["netmaker"] == {
        "enabled": True, "token_file": nm.token_file,
        "injected": [{"id": 104, "running": True, "token": True, "unit": True},
                     {"id": 105, "running": False}]}
    # ... and its output is a valid state, for op-dbus and for the schema
    opdbus.run("validate", tmp_state(res.json, name="query.json"), check=0)
    jsonschema = pytest.importorskip("jsonschema")
    jsonschema.Draft202012Validator(SCHEMA).validate(res.json)

    # a new token replaces the old one
    token2 = Token(f"127.0.0.1:{srv.port}")
    write_token_file(nm.token_file, token2)
    res = nm.plan(token2, doc, check=0, env=env)
    token.assert_absent(res.stdout, res.stderr)
    assert [(c["path"], c["action"]) for c in res.json["changes"] if not c.get("held")] == \
        [("netmaker/container/104", "modify"), ("netmaker/container/105", "modify")]
    nm.run(token2, "apply", tmp_state(doc), check=0, env=env)
    assert ct_file(pve, 104, TOKEN_PATH) == token2.value + "\n"


@needs_root
def test_stopped_container_is_injected_through_its_root_file_system(nm, https_server, pve_sim,  # noqa: F811
                                                                     tmp_state):
    """The same files, the same owner (the container's root, uid 100000 on
    the host for an unprivileged container) and the same check, whether
    the container runs or not; once started, the running check agrees."""
    pve = pve_sim()
    pve.create(105, "--tags", OWNER_TAG)
    srv = https_server()
    token = Token(f"127.0.0.1:{srv.port}")
    doc = state(write_token_file(nm.token_file, token), containers=(105,))
    env = pve.env()

    res = nm.run(token, "apply", tmp_state(doc), check=0, env=env)
    assert [c["path"] for c in res.json["changes"]] == ["netmaker/container/105"]
    assert "lock" not in pve.read_conf(105) and pve.mounts() == []
    res = nm.plan(token, doc, check=0, env=env)
    assert res.json["changes"] == []   # the ledger knows this token is in there

    pve.pct("start", 105, check=0)
    assert ct_file(pve, 105, TOKEN_PATH) == token.value + "\n"
    assert ct_stat(pve, 105, TOKEN_PATH) == "600 0"
    assert ct_stat(pve, 105, "/etc/netmaker") == "700 0"
    assert pve.pct("exec", 105, "--", "readlink", UNIT_LINK, check=0).stdout.strip() == UNIT_PATH
    res = nm.plan(token, doc, check=0, env=env)
    assert res.json["changes"] == []   # running: looked into, and as it should be

    # a new token while it is stopped again: injected again
    pve.pct("stop", 105, check=0)
    token2 = Token(f"127.0.0.1:{srv.port}")
    write_token_file(nm.token_file, token2)
    res = nm.run(token2, "apply", tmp_state(doc), check=0, env=env)
    assert [(c["path"], c["action"]) for c in res.json["changes"]] == [("netmaker/container/105", "modify")]
    token.assert_absent(res.stdout, res.stderr)
    pve.pct("start", 105, check=0)
    assert ct_file(pve, 105, TOKEN_PATH) == token2.value + "\n"


@needs_root
def test_symlinks_in_a_stopped_container_are_not_followed(nm, https_server, pve_sim, tmp_state):  # noqa: F811
    """The container's root owns its files: /etc/netmaker pointing at the
    host's /etc must not make op-dbus write there."""
    pve = pve_sim()
    pve.create(105, "--tags", OWNER_TAG)
    pve.pct("start", 105, check=0)
    pve.pct("exec", 105, "--", "sh", "-c", "rm -rf /etc/netmaker; ln -s /tmp/escape /etc/netmaker", check=0)
    pve.pct("stop", 105, check=0)
    srv = https_server()
    token = Token(f"127.0.0.1:{srv.port}")
    doc = state(write_token_file(nm.token_file, token), containers=(105,))

    res = nm.run(token, "apply", tmp_state(doc), check=1, env=pve.env())
    assert "a directory on the way is a symbolic link" in errors(res)
    assert not os.path.exists("/tmp/escape/enrollment-token")
    assert "lock" not in pve.read_conf(105) and pve.mounts() == []


@needs_root
def test_injection_checks_what_landed(nm, https_server, pve_sim, tmp_state):  # noqa: F811
    """pct push exits 0 when it cannot create the file: the check after it
    must notice (here: the token's path is a directory)."""
    pve = pve_sim()
    pve.create(104, "--tags", OWNER_TAG)
    pve.pct("start", 104, check=0)
    pve.pct("exec", 104, "--", "mkdir", "-p", TOKEN_PATH, check=0)
    srv = https_server()
    token = Token(f"127.0.0.1:{srv.port}")
    doc = state(write_token_file(nm.token_file, token))

    res = nm.run(token, "apply", tmp_state(doc), check=1, env=pve.env())
    assert res.json["rolled_back"] is True
    assert (f"netmaker/container/104: pct push reported success, but {TOKEN_PATH} in container 104 "
            "is missing") in errors(res)


@needs_root
def test_containers_op_dbus_did_not_create_are_not_touched(nm, https_server, pve_sim, tmp_state):  # noqa: F811
    pve = pve_sim()
    pve.create(104, "--tags", "prod")
    pve.pct("start", 104, check=0)
    srv = https_server()
    token = Token(f"127.0.0.1:{srv.port}")
    doc = state(write_token_file(nm.token_file, token))

    res = nm.run(token, "apply", tmp_state(doc), check=EXIT_INVALID, env=pve.env())
    assert ('plugins.lxc.containers[0]: container 104 exists but was not created by op-dbus '
            '(it lacks the Proxmox tag "op-dbus")') in errors(res)
    assert pve.pct("exec", 104, "--", "test", "-e", TOKEN_PATH).returncode != 0
    assert srv.requests == []


@needs_root
def test_lxc_creates_the_container_then_netmaker_injects(ovs, opdbus, nm, https_server, pve_sim,  # noqa: F811
                                                          tmp_state):
    """The whole state: net creates the mesh bridge, lxc creates and starts
    the container on it, netmaker (after lxc) reads the new container and
    injects; the second apply changes nothing."""
    pve = pve_sim(ovs)
    srv = https_server()
    token = Token(f"127.0.0.1:{srv.port}")
    doc = state(write_token_file(nm.token_file, token), containers=())
    doc["plugins"]["net"]["bridges"] = [{"name": "mesh", "datapath_type": "netdev"}]
    doc["plugins"]["lxc"] = {"backend": "pct", "containers": [
        {"id": 304, "name": "app304", "template": "debian-12", "state": "running",
         "network": {"bridge": "mesh", "veth": True, "ipv4": "10.60.0.4/24"},
         "properties": {"network_type": "netmaker", "memory": 256, "swap": 0, "rootfs_size": 1}}]}
    env = pve.env()

    res = opdbus.run("apply", "--json", tmp_state(doc), check=0, json=True, env=env, timeout=180)
    token.assert_absent(res.stdout, res.stderr)
    assert [(c["plugin"], c["action"], c["path"]) for c in res.json["changes"]] == [
        ("net", "create", "bridge/mesh"), ("lxc", "create", "container/304"),
        ("netmaker", "create", "netmaker/container/304")]
    assert ct_file(pve, 304, TOKEN_PATH) == token.value + "\n"
    assert pve.pct("exec", 304, "--", "readlink", UNIT_LINK, check=0).stdout.strip() == UNIT_PATH

    res = opdbus.run("apply", "--json", tmp_state(doc), check=0, json=True, env=env, timeout=180)
    assert res.json["changes"] == [] and res.json["counts"]["commands"] == 0
