# SPDX-License-Identifier: LGPL-2.1-or-later
"""The files of the container services renderer (agent/lib/services), checked
with the real tools.

The unit test tests/unit/test-services renders the configuration blocks of
the privacy-client and privacy-vps profiles; with SERVICES_OUT set it writes
each example below $SERVICES_OUT/<example>/ (files at their container paths
and modes, plus manifest.json), and "test-services --render DIR" renders a
configuration given on standard input. Here:

  * the modes on disk are those the renderer asked for, secrets are 0600;
  * every wg-quick file passes `wg-quick strip`, every nft script `nft -c`;
  * every Xray configuration passes `v2ray -test` (Debian's v2ray reads the
    JSON format Xray does); the server's with its TLS files where systemd
    puts them for the service (/run/credentials/xray.service, in a private
    mount namespace);
  * the xray unit passes `systemd-analyze verify`, the sysusers file creates
    the user it runs as;
  * end to end, with wireguard-go (or the kernel module) and v2ray: tunnels
    between network namespaces the test creates, with the rendered files,
    hooks included, and the key files where the configuration says.

Environment: OPDBUS_BUILD_DIR (default build-test below the source root).
Tests that need a missing tool, or root, are skipped naming it.
"""

import json
import os
import re
import shutil
import signal
import subprocess
import time
from pathlib import Path

import pytest

from ovs_sandbox import CREATED_NETNS

SOURCE_ROOT = Path(os.environ.get("OPDBUS_SOURCE_ROOT") or Path(__file__).resolve().parents[2])
SANITIZER_RE = re.compile(r"^==\d+==ERROR: \w+Sanitizer|runtime error: ", re.M)
CREDENTIALS = "/run/credentials/xray.service"
# Keys of wg-quick(8) that `wg-quick strip` removes.
WG_QUICK_KEYS = {"Address", "DNS", "MTU", "Table", "PreUp", "PostUp", "PreDown", "PostDown", "SaveConfig"}


def run(cmd, *, check=True, timeout=60, input=None, env=None):
    cmd = [str(c) for c in cmd]
    proc = subprocess.run(cmd, capture_output=True, text=True, timeout=timeout, input=input,
                          env=env, check=False)
    if check and proc.returncode != 0:
        raise AssertionError(f"{' '.join(cmd)} exited with {proc.returncode}\n"
                             f"--- stdout\n{proc.stdout}--- stderr\n{proc.stderr}")
    return proc


def need(*tools):
    missing = [t for t in tools if not shutil.which(t)]
    if missing:
        pytest.skip(f"not installed: {', '.join(missing)}")


def need_root():
    if os.geteuid() != 0:
        pytest.skip("needs root (network and mount namespaces)")


def need_wireguard_implementation():
    if not (Path("/sys/module/wireguard").exists() or shutil.which("wireguard-go")):
        pytest.skip("not installed: wireguard-go (and no wireguard kernel module)")


# ---- rendering ------------------------------------------------------------------


@pytest.fixture(scope="module")
def services_bin():
    if os.environ.get("OPDBUS_BUILD_FAILED") == "1":
        pytest.fail("the op-dbus build failed (see the build stage output)", pytrace=False)
    build = Path(os.environ.get("OPDBUS_BUILD_DIR") or SOURCE_ROOT / "build-test")
    if not build.is_absolute():
        build = SOURCE_ROOT / build
    path = build / "tests" / "unit" / "test-services"
    if not (path.is_file() and os.access(path, os.X_OK)):
        pytest.fail(f"{path} not found: build the project (./tests/run does) or set "
                    "OPDBUS_BUILD_DIR", pytrace=False)
    return path


@pytest.fixture(scope="module")
def examples(services_bin, tmp_path_factory):
    """{name: (directory, manifest)} of the examples the unit test renders."""
    out = tmp_path_factory.mktemp("services")
    proc = run([services_bin], env={**os.environ, "SERVICES_OUT": str(out)})
    assert not SANITIZER_RE.search(proc.stderr), proc.stderr
    result = {d.name: (d, json.loads((d / "manifest.json").read_text()))
              for d in sorted(out.iterdir())}
    assert {"gateway", "warp", "xray-client", "xray-client-tls", "xray-server"} <= set(result)
    return result


def render(services_bin, root, config, services):
    """Renders {"config", "services"} into root (a container's /); returns the
    manifest."""
    proc = run([services_bin, "--render", root], check=False,
               input=json.dumps({"config": config, "services": services}))
    assert not SANITIZER_RE.search(proc.stderr), proc.stderr
    assert proc.returncode == 0, f"render failed:\n{proc.stderr}"
    return json.loads((Path(root) / "manifest.json").read_text())


def files_of(examples, suffix):
    """(example, path) of the rendered WireGuard files ending in suffix."""
    return [(name, d / f["path"].lstrip("/")) for name, (d, m) in examples.items()
            for f in m["files"] if f["path"].startswith("/etc/wireguard/") and f["path"].endswith(suffix)]


def wg_keypair():
    private = run(["wg", "genkey"]).stdout.strip()
    public = run(["wg", "pubkey"], input=private + "\n").stdout.strip()
    return private, public


def put_key(root, path, key):
    """A key file in a container's tree, as the lxc plugin creates it."""
    p = Path(root) / path.lstrip("/")
    p.parent.mkdir(parents=True, exist_ok=True)
    p.write_text(key + "\n")
    p.chmod(0o600)


# ---- namespaces -----------------------------------------------------------------

_COUNTER = iter(range(1, 1000))


class Netns:
    """A named network namespace of this test, standing in for a container or
    a host. close() ends the processes left in it (wireguard-go daemons the
    hooks started, servers) by their pids, then deletes it."""

    def __init__(self, role, root=None):
        self.name = f"svc{os.getpid() % 100000}-{role}"
        self.root = root      # the container's file tree, mounted over /etc/wireguard
        run(["ip", "netns", "add", self.name])
        CREATED_NETNS.add(self.name)
        self.exec("ip", "link", "set", "lo", "up")

    def exec(self, *cmd, check=True, timeout=30, env=None):
        return run(["ip", "netns", "exec", self.name, *cmd], check=check, timeout=timeout, env=env)

    def popen(self, *cmd, env=None):
        return subprocess.Popen(["ip", "netns", "exec", self.name, *map(str, cmd)], env=env,
                                stdout=subprocess.DEVNULL, stderr=subprocess.PIPE, text=True)

    def in_container(self, *cmd, check=True):
        """Runs cmd with the container's /etc/wireguard mounted over the
        host's, in a private mount namespace."""
        script = 'mount --bind "$1/etc/wireguard" /etc/wireguard && shift && exec "$@"'
        return self.exec("unshare", "-m", "--propagation", "private", "sh", "-c", script, "sh",
                         str(self.root), *cmd, check=check)

    def close(self):
        for sig in (signal.SIGTERM, signal.SIGKILL):
            pids = run(["ip", "netns", "pids", self.name], check=False).stdout.split()
            for pid in pids:
                try:
                    os.kill(int(pid), sig)
                except ProcessLookupError:
                    pass
            if not pids:
                break
            time.sleep(0.3)
        run(["ip", "netns", "del", self.name], check=False)


def link(a, a_name, a_addr, b, b_name, b_addr=None):
    """A veth pair between namespaces a and b (b may be a bridge namespace:
    then b_name is enslaved to br0 there)."""
    n = next(_COUNTER)
    t1, t2 = f"sv{os.getpid() % 10000}x{n}a", f"sv{os.getpid() % 10000}x{n}b"
    run(["ip", "link", "add", t1, "type", "veth", "peer", "name", t2])
    run(["ip", "link", "set", t1, "netns", a.name])
    run(["ip", "link", "set", t2, "netns", b.name])
    a.exec("ip", "link", "set", t1, "name", a_name)
    b.exec("ip", "link", "set", t2, "name", b_name)
    for ns, name, addr in ((a, a_name, a_addr), (b, b_name, b_addr)):
        if addr == "bridge":
            ns.exec("ip", "link", "set", name, "master", "br0")
        elif addr:
            ns.exec("ip", "addr", "add", addr, "dev", name)
        ns.exec("ip", "link", "set", name, "up")


@pytest.fixture
def netns_factory():
    made = []

    def make(role, root=None):
        ns = Netns(role, root)
        made.append(ns)
        return ns

    yield make
    for ns in reversed(made):
        ns.close()


@pytest.fixture
def processes():
    """Processes a test starts; terminated (by pid) at the end."""
    started = []
    yield started
    for proc in started:
        if proc.poll() is None:
            proc.terminate()
            try:
                proc.wait(timeout=5)
            except subprocess.TimeoutExpired:
                proc.kill()
                proc.wait()


def wait_for(what, predicate, timeout=15):
    deadline = time.monotonic() + timeout
    while not predicate():
        if time.monotonic() > deadline:
            raise AssertionError(f"timed out waiting for {what}")
        time.sleep(0.2)


def listening(ns, port):
    return lambda: re.search(rf":{port}\s", ns.exec("ss", "-Hltn").stdout) is not None


# ---- the rendered files ------------------------------------------------------------------


def test_modes_and_secrets(examples):
    for name, (d, manifest) in examples.items():
        for f in manifest["files"]:
            mode = (d / f["path"].lstrip("/")).stat().st_mode & 0o7777
            assert mode == f["mode"], f"{name}: {f['path']} has mode {mode:o}, expected {f['mode']:o}"
            if f["secret"] or f["path"].startswith("/etc/wireguard/"):
                assert mode == 0o600, f"{name}: {f['path']} holds a secret but has mode {mode:o}"
    # The VMess id makes the Xray configuration a secret.
    xray = {f["path"]: f for f in examples["xray-server"][1]["files"]}
    assert xray["/usr/local/etc/xray/config.json"]["secret"]
    assert [i["kind"] for i in examples["gateway"][1]["inputs"]] == ["wireguard-key"]


def test_wg_quick_strip(examples):
    need("wg-quick")
    confs = files_of(examples, ".conf")
    assert len(confs) >= 4
    for name, path in confs:
        proc = run(["wg-quick", "strip", path], check=False)
        assert proc.returncode == 0, f"{name}: wg-quick strip {path}:\n{proc.stderr}"
        assert "Warning" not in proc.stderr, f"{name}: {proc.stderr}"
        keys = {line.split("=")[0].strip() for line in proc.stdout.splitlines()
                if "=" in line and not line.lstrip().startswith("#")}
        assert keys and not keys & WG_QUICK_KEYS, f"{name}: left after strip: {keys & WG_QUICK_KEYS}"
        assert "PublicKey" in keys and "PrivateKey" not in keys


def test_nft_scripts(examples, netns_factory):
    need_root()
    need("nft")
    ns = netns_factory("nft")
    scripts = files_of(examples, ".nft")
    assert len(scripts) >= 3
    for name, path in scripts:
        ns.exec("nft", "-c", "-f", path)
        # Loading twice leaves one table: the script replaces its own.
        ns.exec("nft", "-f", path)
        ns.exec("nft", "-f", path)
    tables = ns.exec("nft", "list", "tables").stdout.split("\n")
    assert sorted(t for t in tables if t) == ["table ip op-dbus-wg-warp", "table ip op-dbus-wg0"]


def v2ray_test(config, cert=None, key=None):
    """v2ray -test, with the TLS files at the credential paths when given."""
    if cert is None:
        return run(["v2ray", "-test", "-config", config], check=False)
    script = (f'mount -t tmpfs -o mode=0755 tmpfs /run && mkdir -p {CREDENTIALS} && '
              f'cp "$1" {CREDENTIALS}/tls-0.crt && cp "$2" {CREDENTIALS}/tls-0.key && '
              f'exec v2ray -test -config "$3"')
    return run(["unshare", "-m", "--propagation", "private", "sh", "-c", script, "sh", cert, key, config],
               check=False)


@pytest.fixture(scope="module")
def tls_cert(tmp_path_factory):
    """A self-signed certificate for vps.test and its key."""
    need("openssl")
    d = tmp_path_factory.mktemp("tls")
    run(["openssl", "req", "-x509", "-newkey", "ec", "-pkeyopt", "ec_paramgen_curve:prime256v1",
         "-nodes", "-days", "2", "-subj", "/CN=vps.test", "-addext", "subjectAltName=DNS:vps.test",
         "-keyout", d / "key.pem", "-out", d / "cert.pem"])
    return d / "cert.pem", d / "key.pem"


def test_xray_configs_pass_v2ray_test(examples, tls_cert, tmp_path):
    need("v2ray")
    for name in ("xray-client", "xray-client-tls"):
        config = examples[name][0] / "usr/local/etc/xray/config.json"
        proc = v2ray_test(config)
        assert proc.returncode == 0 and "Configuration OK" in proc.stdout, f"{name}:\n{proc.stdout}{proc.stderr}"

    need_root()
    server = examples["xray-server"][0] / "usr/local/etc/xray/config.json"
    proc = v2ray_test(server, *tls_cert)
    assert proc.returncode == 0 and "Configuration OK" in proc.stdout, proc.stdout + proc.stderr
    # The check bites: without the credentials, or with a broken id, v2ray refuses.
    assert v2ray_test(server).returncode != 0
    broken = tmp_path / "config.json"
    broken.write_text(server.read_text().replace("cf26aea6-", "cf26aea6x"))
    assert v2ray_test(broken, *tls_cert).returncode != 0


def test_xray_unit_and_user(examples, tmp_path):
    need_root()
    need("systemd-analyze", "systemd-sysusers")
    d = examples["xray-server"][0]
    unit = tmp_path / "xray.service"
    shutil.copy(d / "etc/systemd/system/xray.service", unit)
    # verify wants ExecStart's binary: a stand-in in a private mount namespace.
    script = ('mount -t tmpfs tmpfs /usr/local/bin && printf "#!/bin/sh\\n" >/usr/local/bin/xray && '
              'chmod 0755 /usr/local/bin/xray && exec systemd-analyze verify "$1"')
    proc = run(["unshare", "-m", "--propagation", "private", "sh", "-c", script, "sh", unit], check=False)
    complaints = [line for line in proc.stderr.splitlines() if "xray" in line]
    assert proc.returncode == 0 and not complaints, proc.stderr

    root = tmp_path / "root"
    (root / "etc/sysusers.d").mkdir(parents=True)
    shutil.copy(d / "etc/sysusers.d/op-dbus-xray.conf", root / "etc/sysusers.d/")
    run(["systemd-sysusers", f"--root={root}"])
    passwd = (root / "etc/passwd").read_text()
    assert re.search(r"^xray:x:\d+:\d+:Xray proxy \(op-dbus\):/:/usr/sbin/nologin$", passwd, re.M), passwd


# ---- end to end: WireGuard ---------------------------------------------------------------


def wg_up(ns, iface):
    ns.in_container("wg-quick", "up", iface)


def wg_down(ns, iface):
    ns.in_container("wg-quick", "down", iface)


def peer_address(lan, host, port, timeout=4):
    """Connects from lan to host:port; the echo server there answers with the
    address it sees. None when the connection fails."""
    code = ("import socket,sys\n"
            "s=socket.create_connection((sys.argv[1],int(sys.argv[2])),timeout=float(sys.argv[3]))\n"
            "print(s.recv(64).decode())\n")
    proc = lan.exec("python3", "-c", code, host, str(port), str(timeout), check=False, timeout=timeout + 10)
    return proc.stdout.strip() if proc.returncode == 0 else None


ECHO_SERVER = ("import socket\n"
               "s=socket.socket(); s.setsockopt(socket.SOL_SOCKET,socket.SO_REUSEADDR,1)\n"
               "s.bind(('0.0.0.0',7000)); s.listen()\n"
               "while True:\n"
               "    c,a=s.accept(); c.sendall(a[0].encode()); c.close()\n")


def test_wireguard_end_to_end(services_bin, tmp_path, netns_factory, processes):
    """A client network (lan) behind the Warp container, which tunnels to a
    WireGuard gateway (cloud, standing in for Cloudflare and rendered from a
    wg0 block) on its eth0 segment; behind the gateway an Internet host (inet).

        lan 10.0.0.100 --+-- 10.0.0.101 eth0 warp [wg-warp 10.99.0.2]
                         +-- 10.0.0.1   eth0 cloud [wg0 10.99.0.1] out0 198.51.100.1 -- inet 198.51.100.2

    lan's traffic enters the tunnel at warp and leaves the gateway
    masqueraded; with the tunnel down it is dropped, although warp and cloud
    could route it directly."""
    need_root()
    need("wg", "wg-quick", "nft", "ip", "python3")
    need_wireguard_implementation()
    if not Path("/etc/wireguard").is_dir():
        pytest.skip("/etc/wireguard missing (the wireguard-tools package creates it)")
    for iface in ("wg0", "wg-warp"):
        if Path(f"/run/wireguard/{iface}.sock").exists():
            pytest.skip(f"a userspace WireGuard interface {iface} already runs on this host")

    gw_private, gw_public = wg_keypair()
    warp_private, warp_public = wg_keypair()
    cloud_root, warp_root = tmp_path / "cloud", tmp_path / "warp"

    m = render(services_bin, cloud_root, {"wg0": {
        "address": "10.99.0.1/24", "listen_port": 51820,
        "private_key_file": "/etc/wireguard/private.key",
        "peers": [{"public_key": warp_public, "allowed_ips": ["10.99.0.2/32"]}]}}, ["wireguard"])
    assert m["inputs"][0]["kind"] == "wireguard-key"
    put_key(cloud_root, m["inputs"][0]["path"], gw_private)
    m = render(services_bin, warp_root, {"wg-quick": {
        "interface": "wg-warp", "address": "10.99.0.2/32",
        "private_key_file": "/etc/wireguard/warp-private.key",
        "endpoint": "10.0.0.1:51820", "public_key": gw_public, "persistent_keepalive": 5}},
        ["wg-quick@wg-warp"])
    assert m["warnings"] == [] and m["units"] == ["wg-quick@wg-warp.service"]
    put_key(warp_root, m["inputs"][0]["path"], warp_private)

    sw = netns_factory("sw")
    sw.exec("ip", "link", "add", "br0", "type", "bridge")
    sw.exec("ip", "link", "set", "br0", "up")
    lan, warp = netns_factory("lan"), netns_factory("warp", warp_root)
    cloud, inet = netns_factory("cloud", cloud_root), netns_factory("inet")
    link(lan, "eth0", "10.0.0.100/24", sw, "p-lan", "bridge")
    link(warp, "eth0", "10.0.0.101/24", sw, "p-warp", "bridge")
    link(cloud, "eth0", "10.0.0.1/24", sw, "p-cloud", "bridge")
    link(cloud, "out0", "198.51.100.1/24", inet, "eth0", "198.51.100.2/24")
    lan.exec("ip", "route", "add", "default", "via", "10.0.0.101")
    warp.exec("ip", "route", "add", "default", "via", "10.0.0.1")
    inet.exec("ip", "route", "add", "default", "via", "198.51.100.1")
    processes.append(inet.popen("python3", "-c", ECHO_SERVER))
    wait_for("the echo server", listening(inet, 7000))

    wg_up(cloud, "wg0")
    wg_up(warp, "wg-warp")
    assert warp.exec("wg", "show", "wg-warp", "public-key").stdout.strip() == warp_public

    # Through both tunnels: inet sees the gateway's address.
    wait_for("a connection through the tunnel", lambda: peer_address(lan, "198.51.100.2", 7000) is not None, 30)
    assert peer_address(lan, "198.51.100.2", 7000) == "198.51.100.1"
    assert "10.99.0.2/32" in cloud.exec("wg", "show", "wg0", "allowed-ips").stdout

    # Tunnel down: lan's traffic is dropped at warp, not routed around the tunnel.
    wg_down(warp, "wg-warp")
    assert peer_address(lan, "198.51.100.2", 7000, timeout=2) is None
    warp.exec("ping", "-c", "1", "-W", "2", "198.51.100.2")   # warp itself still has its route

    # Up again: the hooks do not pile up rules.
    wg_up(warp, "wg-warp")
    wait_for("the tunnel again", lambda: peer_address(lan, "198.51.100.2", 7000) == "198.51.100.1", 30)
    rules = warp.exec("ip", "-4", "rule", "show").stdout
    assert rules.count("iif eth0 lookup main suppress_prefixlength 0") == 1, rules
    assert rules.count("iif eth0 lookup 51820") == 1, rules
    assert "blackhole default" in warp.exec("ip", "-4", "route", "show", "table", "51820").stdout
    assert warp.exec("nft", "list", "tables").stdout.count("op-dbus-wg-warp") == 1

    wg_down(warp, "wg-warp")
    wg_down(cloud, "wg0")
    assert "op-dbus-wg0" not in cloud.exec("nft", "list", "tables").stdout


# ---- end to end: Xray ----------------------------------------------------------------------


def test_xray_end_to_end(services_bin, tmp_path, tls_cert, netns_factory, processes):
    """The rendered client (SOCKS in, VMess over TLS out) and server (VMess
    over TLS in, freedom out), run by v2ray in two namespaces. A web server
    listens on the server's loopback only, so only a request that went
    through the tunnel can reach it; a client with another id gets nothing."""
    need_root()
    need("v2ray", "curl", "python3", "ip")
    cert, key = tls_cert
    uuid = "d2bc0efb-a10c-4e1a-b66b-82dbaef50cd3"
    server_root, client_root, wrong_root = tmp_path / "server", tmp_path / "client", tmp_path / "wrong"

    render(services_bin, server_root, {"xray": {
        "inbound": {"port": 443, "protocol": "vmess", "settings": {"clients": [{"id": uuid, "alterId": 0}]},
                    "streamSettings": {"network": "tcp", "security": "tls", "tlsSettings": {
                        "certificates": [{"certificateFile": "/etc/xray/cert.pem",
                                          "keyFile": "/etc/xray/key.pem"}]}}},
        "outbound": {"protocol": "freedom"}}}, ["xray"])
    for port, root, user in ((1080, client_root, uuid), (1081, wrong_root, "00000000-0000-4000-8000-000000000000")):
        m = render(services_bin, root, {"xray": {
            "inbound": {"port": port, "protocol": "socks", "listen": "127.0.0.1"},
            "outbound": {"protocol": "vmess", "server": "10.10.0.1", "port": 443, "id": user,
                         "alterId": 0, "security": "auto",
                         "streamSettings": {"security": "tls", "tlsSettings": {"serverName": "vps.test"}}}}},
            ["xray"])
        assert m["warnings"] == []

    www = tmp_path / "www"
    www.mkdir()
    token = os.urandom(8).hex()
    (www / "token").write_text(token)

    vps, cli = netns_factory("vps"), netns_factory("cli")
    link(vps, "eth0", "10.10.0.1/24", cli, "eth0", "10.10.0.2/24")
    processes.append(vps.popen("python3", "-m", "http.server", "8080", "--bind", "127.0.0.1",
                               "--directory", www))
    # The server as systemd runs it: TLS files in the credentials directory.
    script = (f'mount -t tmpfs -o mode=0755 tmpfs /run && mkdir -p {CREDENTIALS} && '
              f'cp "$1" {CREDENTIALS}/tls-0.crt && cp "$2" {CREDENTIALS}/tls-0.key && '
              f'exec v2ray -config "$3"')
    processes.append(vps.popen("unshare", "-m", "--propagation", "private", "sh", "-c", script, "sh",
                               cert, key, server_root / "usr/local/etc/xray/config.json"))
    # The clients trust the test's certificate (Go reads SSL_CERT_FILE).
    env = {**os.environ, "SSL_CERT_FILE": str(cert)}
    for root in (client_root, wrong_root):
        processes.append(cli.popen("v2ray", "-config", root / "usr/local/etc/xray/config.json", env=env))
    for ns, port in ((vps, 8080), (vps, 443), (cli, 1080), (cli, 1081)):
        wait_for(f"port {port} in {ns.name}", listening(ns, port))

    def fetch(port):
        return cli.exec("curl", "-sS", "--max-time", "10", "--socks5-hostname", f"127.0.0.1:{port}",
                        "http://127.0.0.1:8080/token", check=False, timeout=20)

    ok = fetch(1080)
    assert ok.returncode == 0 and ok.stdout == token, ok.stderr + "".join(
        p.stderr.read() if p.poll() is not None and p.stderr else "" for p in processes)
    assert fetch(1081).returncode != 0
