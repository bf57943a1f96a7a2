# SPDX-License-Identifier: LGPL-2.1-or-later
"""Who may do what on org.opdbus, against the real daemon.

The access matrix: every method of the contract
(schemas/org.opdbus.StateManager.xml), every property read and set,
introspection and org.freedesktop.DBus.Peer, for root, a member of the
group opdbus and another user; on a bus with the project's policy and on
one that lets everyone call everything (where the daemon's own check is
all that is left). The expected answer of each cell comes from the
documents: the bus policy systemd/org.opdbus.conf, the policy table of
docs/systemd.md and "Who may call what" of docs/dbus.md, which the first
test holds against each other. Then the signals each caller receives, and
what a plan asked for by a caller other than root may make the daemon,
which runs as root, read or contact.

Callers are uid 65534 with and without the supplementary group opdbus
(dbus_fixture.user_prefix); whether the daemon answered a call or the bus
refused it is read from the root monitor on the bus: the sender of the
reply.
"""

import json
import os
import re
import shutil
import socket
import subprocess
import tempfile
import threading
import time
import xml.etree.ElementTree as ET
from pathlib import Path

import pytest

pytest.register_assert_rewrite("dbus_fixture")

from dbus_fixture import (BUS_NAME, DBUS_NAME, INTERFACE, INTERFACE_XML, OBJECT_PATH,  # noqa: E402
                          POLICY_FILE, PROPERTIES, SOURCE_ROOT, options_args, user_prefix)
from test_netmaker import Token, write_token_file  # noqa: E402
from pve_fixture import OVS_LOG_ALLOW, pve_sim, pve_templates  # noqa: E402,F401

pytest_plugins = ("dbus_fixture",)

ERR = "org.opdbus.Error."
DAEMON_DENIED = ERR + "AccessDenied"
BUS_DENIED = "org.freedesktop.DBus.Error.AccessDenied"
INTROSPECTABLE = "org.freedesktop.DBus.Introspectable"
PEER = "org.freedesktop.DBus.Peer"
USERS = ("root", "opdbus", "nobody")

# What a cell of the matrix may say.
ANSWERED = "answered by the daemon"
REFUSED_BY_BUS = "refused by the bus (AccessDenied)"
REFUSED_BY_DAEMON = "refused by the daemon (org.opdbus.Error.AccessDenied)"


# ---- what the documents say ------------------------------------------------------------

def _contract():
    root = ET.parse(INTERFACE_XML).getroot()
    (iface,) = [i for i in root.iter("interface") if i.get("name") == INTERFACE]
    return ([m.get("name") for m in iface.iter("method")],
            [p.get("name") for p in iface.iter("property")],
            [s.get("name") for s in iface.iter("signal")])


METHODS, PROPERTY_NAMES, SIGNALS = _contract()


def _table_row(path, first_cell):
    """The cells of the markdown table row whose first cell starts with
    first_cell."""
    for line in Path(path).read_text().splitlines():
        cells = [c.strip() for c in line.strip().strip("|").split("|")]
        if line.startswith("|") and cells[0].startswith(first_cell):
            return cells
    raise AssertionError(f"{path}: no table row for {first_cell!r}")


def _names(text):
    """(interface, member) of the backticked names in text: `QueryState`,
    `Properties.Get`, `Get`, `Introspect`, ..."""
    short = {"Get": PROPERTIES, "GetAll": PROPERTIES, "Set": PROPERTIES, "Introspect": INTROSPECTABLE,
             "Ping": PEER, "GetMachineId": PEER}
    out = set()
    for name in re.findall(r"`([A-Za-z.]+)`", text):
        if "." in name:
            iface, member = name.rsplit(".", 1)
            out.add((f"org.freedesktop.DBus.{iface}", member))
        elif name in short:
            out.add((short[name], name))
        elif name in METHODS:
            out.add((INTERFACE, name))
    return out


def _policy():
    """{context: (set of (interface, member or None) it may call, receives
    signals)} from systemd/org.opdbus.conf; the default context receives
    them unless it denies them."""
    out = {}
    for p in ET.parse(POLICY_FILE).getroot().findall("policy"):
        key = p.get("group") or p.get("user") or p.get("context")
        calls, signals = set(), key == "default"
        for rule in p:
            is_signal = rule.get("receive_sender") == BUS_NAME and rule.get("receive_type") == "signal"
            if rule.tag == "allow" and rule.get("send_destination") == BUS_NAME:
                calls.add((rule.get("send_interface"), rule.get("send_member")))
            if is_signal:
                signals = rule.tag == "allow"
        out[key] = (calls, signals)
    return out


def group_calls():
    """What a member of opdbus may call, per docs/systemd.md."""
    return _names(_table_row(SOURCE_ROOT / "docs" / "systemd.md", "members of the group")[1])


def changing_methods():
    """The methods the daemon itself refuses to callers other than root,
    per docs/dbus.md."""
    text = " ".join((SOURCE_ROOT / "docs" / "dbus.md").read_text().split())
    m = re.search(r"daemon itself refuses every method that changes the host \(([^)]*)\)", text)
    assert m, "docs/dbus.md no longer says which methods the daemon refuses to others"
    return {member for _, member in _names(m.group(1))}


def test_the_documents_and_the_policy_agree():
    """docs/systemd.md, docs/dbus.md (its table and each method's "Who:")
    and org.opdbus.conf say the same, and name only members of the
    contract."""
    policy = _policy()
    group = group_calls()
    assert group, "docs/systemd.md names nothing for the group"
    assert policy["opdbus"][0] == group, "org.opdbus.conf and docs/systemd.md differ for the group"
    dbus_md = SOURCE_ROOT / "docs" / "dbus.md"
    assert _names(_table_row(dbus_md, "members of the group")[1]) == group, \
        "docs/dbus.md and docs/systemd.md differ for the group"
    # Root: whole interfaces; nobody else: nothing.
    root_interfaces = {i for i, m in policy["root"][0]}
    assert all(m is None for _, m in policy["root"][0])
    assert root_interfaces == {INTERFACE, PROPERTIES, INTROSPECTABLE, PEER}
    row = _table_row(SOURCE_ROOT / "docs" / "systemd.md", "root")[1]
    assert all(f"`{i}`" in row for i in root_interfaces), row
    assert policy["default"][0] == set()
    assert _table_row(SOURCE_ROOT / "docs" / "systemd.md", "everyone else")[1].startswith("nothing")
    # Signals: root and the group.
    assert policy["root"][1] and policy["opdbus"][1] and not policy["default"][1]
    assert [c for c in _table_row(dbus_md, "everyone else")][2] == "no"
    assert _table_row(dbus_md, "members of the group")[2] == "yes"
    # Each method's "Who:".
    text = dbus_md.read_text()
    for member in METHODS:
        section = re.search(rf"^### {member}\n(.*?)(?=^### |\Z)", text, re.S | re.M)
        assert section, f"docs/dbus.md has no section for {member}"
        who = re.search(r"^Who: ([^.]*)\.", section.group(1), re.M).group(1)
        assert (who == "root, group `opdbus`") == ((INTERFACE, member) in group), f"{member}: Who: {who}"
        assert (who == "root") == (member in changing_methods()), f"{member}: Who: {who}"
    assert {m for i, m in group if i == INTERFACE} | changing_methods() == set(METHODS)


# ---- states and calls ------------------------------------------------------------------


def port(name):
    return {"name": name, "type": "internal"}


def net_state(*ports, bridge="br0"):
    return {"version": 1, "plugins": {"net": {"bridges": [
        {"name": bridge, "datapath_type": "netdev", "ports": [port(p) for p in ports]}]}}}


def method_calls():
    """(interface, member, signature, args) of every method of the
    contract, with arguments it works with; in an order in which root's
    calls can each succeed (Confirm confirms ApplyStateWithOptions)."""
    doc = json.dumps(net_state("p1", "p9"))
    args = {
        "ApplyState": ("s", doc),
        "ApplyStateWithOptions": ("sa{sv}", doc, *options_args(confirm_timeout=60)),
        "Confirm": ("",),
        "Plan": ("s", doc),
        "PlanWithOptions": ("sa{sv}", doc, *options_args(plugins=["net"])),
        "QueryState": ("",),
        "QueryPlugin": ("s", "net"),
        "Verify": ("",),
        "ListCheckpoints": ("",),
        "Rollback": ("u", "0"),
        "RollbackWithOptions": ("ua{sv}", "0", "0"),
        "RestoreFlows": ("ss", "", ""),
    }
    assert set(args) == set(METHODS), "a method of the contract has no arguments here"
    return [(INTERFACE, m, *args[m]) for m in args]


def standard_calls():
    """Properties (each property read and set, GetAll), Introspect, Peer."""
    calls = [(PROPERTIES, "Get", "ss", INTERFACE, p) for p in PROPERTY_NAMES]
    calls.append((PROPERTIES, "GetAll", "s", INTERFACE))
    calls += [(PROPERTIES, "Set", "ssv", INTERFACE, p, "s", "x") for p in PROPERTY_NAMES]
    calls += [(INTROSPECTABLE, "Introspect", ""), (PEER, "Ping", ""), (PEER, "GetMachineId", "")]
    return calls


def call(d, as_user, interface, member, signature="", *args):
    cmd = ["--json=short", "--timeout=120", "call", BUS_NAME, OBJECT_PATH, interface, member]
    if signature:
        cmd += [signature, *args]
    return d.busctl(*cmd, as_user=as_user)


def how_answered(d, since, interface, member, prop=None):
    """What became of the last call of interface.member (of the property
    prop, for Get and Set) seen on the bus since the mark:
    (ANSWERED | REFUSED_BY_BUS | REFUSED_BY_DAEMON, reply), from the sender
    of the reply."""
    d.bus.monitor.sync()
    with d.bus.monitor.cond:
        msgs = list(d.bus.monitor.messages[since:])
    calls = [m for m in msgs if m.get("type") == "method_call" and m.get("interface") == interface
             and m.get("member") == member and m.get("destination") in (BUS_NAME, d.unique_name)
             and (prop is None or ((m.get("payload") or {}).get("data") or [])[1:2] == [prop])]
    assert calls, f"no {interface}.{member} call seen on the bus"
    c = calls[-1]
    replies = [m for m in msgs if m.get("type") in ("method_return", "error")
               and m.get("destination") == c.get("sender") and m.get("reply_cookie") == c.get("cookie")]
    assert replies, f"no reply to {interface}.{member} seen on the bus"
    reply = replies[0]
    name = reply.get("error_name")
    if reply.get("sender") == DBUS_NAME:
        assert name == BUS_DENIED, f"the bus answered {member} with {name}"
        return REFUSED_BY_BUS, reply
    assert reply.get("sender") == d.unique_name, reply
    return (REFUSED_BY_DAEMON if name == DAEMON_DENIED else ANSWERED), reply


def expected(policy, user, interface, member):
    if user == "root":
        return ANSWERED
    if policy == "project":
        allowed = user == "opdbus" and (interface, member) in group_calls()
        return ANSWERED if allowed else REFUSED_BY_BUS
    # A bus that lets everyone call everything: the daemon's own check.
    if interface == INTERFACE and member in changing_methods():
        return REFUSED_BY_DAEMON
    return ANSWERED


def ports_of(ovs, bridge="br0"):
    return set(ovs.vsctl("list-ports", bridge).split())


# ---- the matrix ---------------------------------------------------------------------------


@pytest.mark.parametrize("policy,user", [("project", "root"), ("project", "opdbus"), ("project", "nobody"),
                                         ("permissive", "opdbus"), ("permissive", "nobody")])
def test_access_matrix(start_daemon, private_bus, ovs, policy, user):
    """Every call of the contract as `user`: answered by the daemon or
    refused, as the documents say; a refused call changes nothing."""
    bus = private_bus(policy)
    d = start_daemon(net_state("p1"), bus=bus)
    d.apply(net_state("p1", "p2")).result()  # something to roll back to
    generation = d.get("Generation")

    wrong = []
    for interface, member, signature, *args in method_calls() + standard_calls():
        since = d.mark()
        r = call(d, user, interface, member, signature, *args)
        first = args[1] if member in ("Get", "Set") else None
        got, reply = how_answered(d, since, interface, member, first)
        want = expected(policy, user, interface, member)
        label = f"{interface}.{member}{f'({first})' if first else ''}"
        if got != want:
            wrong.append(f"{label}: {got}, expected {want} ({r.error_name}: {r.error_message})")
        elif got == ANSWERED and user == "root" and member != "Set" and not r.ok:
            wrong.append(f"{label}: failed for root: {r.error_name}: {r.error_message}")
        elif got == ANSWERED and member == "Set":
            assert reply.get("error_name") == "org.freedesktop.DBus.Error.PropertyReadOnly", reply
    assert not wrong, f"as {user} on a bus with the {policy} policy:\n" + "\n".join(wrong)

    if user != "root":
        assert ports_of(ovs) == {"p1", "p2"}
        assert d.get("Generation") == generation
        assert d.get("Status") == "idle"


# ---- signals -----------------------------------------------------------------------------


class SignalListener:
    """dbus-monitor as one of the users, with match rules for op-dbus's
    signals and, to show that it receives signals at all, the bus's
    NameOwnerChanged. (Not being root, dbus-monitor cannot become a
    monitor and adds the rules as an ordinary client.)"""

    def __init__(self, bus, user):
        self.user = user
        self.lines = []
        self.proc = subprocess.Popen(
            [*user_prefix(user, bus.gid), "dbus-monitor", "--address", bus.address,
             f"type='signal',sender='{BUS_NAME}'",
             f"type='signal',sender='{DBUS_NAME}',member='NameOwnerChanged'"],
            stdin=subprocess.DEVNULL, stdout=subprocess.PIPE, stderr=subprocess.STDOUT, text=True)
        self.thread = threading.Thread(target=self._read, daemon=True)
        self.thread.start()

    def _read(self):
        for line in self.proc.stdout:
            self.lines.append(line.rstrip("\n"))

    def members(self, interface):
        found = set()
        for line in list(self.lines):
            m = re.match(r"^signal .*interface=([\w.]+); member=(\w+)", line)
            if m and m.group(1) == interface:
                found.add(m.group(2))
        return found

    def stop(self):
        self.proc.terminate()
        try:
            self.proc.wait(5)
        except subprocess.TimeoutExpired:
            self.proc.kill()
            self.proc.wait()
        self.thread.join(5)


@pytest.mark.ovs_log_allow(*OVS_LOG_ALLOW)
def test_signals_reach_root_and_the_group_only(start_daemon, system_bus, ovs, pve_sim):  # noqa: F811
    """Every signal of the contract, and PropertiesChanged, as the daemon
    emits them: received by root and by a member of opdbus, by no one else
    (docs/dbus.md, "Who may call what")."""
    flows = {"enable_security_flows": False, "obfuscation_level": 0, "bridges": [{"name": "br0"}]}
    base = net_state("p1")
    base["plugins"]["openflow"] = flows
    d = start_daemon(base, audit_interval=3600, env=pve_sim(ovs).env())
    listeners = {u: SignalListener(system_bus, u) for u in USERS}
    try:
        # Each listener is in place once it sees a NameOwnerChanged of a
        # connection made after it started.
        deadline = time.monotonic() + 30
        while not all("NameOwnerChanged" in l.members(DBUS_NAME) for l in listeners.values()):
            assert time.monotonic() < deadline, {u: l.lines[-5:] for u, l in listeners.items()}
            d.get("Status")
            time.sleep(0.2)

        since = d.mark()
        more = json.loads(json.dumps(base))
        more["plugins"]["net"]["bridges"][0]["ports"].append(port("p2"))
        more["plugins"]["lxc"] = {"containers": [{                    # Progress: creating it
            "id": 360, "name": "ct360", "template": "debian-12", "state": "stopped",
            "properties": {"memory": 128, "swap": 0, "rootfs_size": 1}, "network": {"bridge": "br0"}}]}
        d.apply(more).result()                                        # StateApplied, PropertiesChanged
        d.apply(base, confirm_timeout=120).result()                   # ConfirmPending
        assert call(d, "root", INTERFACE, "Confirm").ok
        ovs.vsctl("--no-wait", "del-port", "br0", "p1")               # DriftDetected
        d.wait_for("DriftDetected", timeout=15, since=since)
        d.wait_status("idle", 15)
        ovs.ofctl("del-flows", "br0")
        r = call(d, "root", INTERFACE, "RestoreFlows", "ss", "", "")  # FlowsRestored
        assert r.ok, r.describe()
        assert call(d, "root", INTERFACE, "Rollback", "u", "0").ok    # RolledBack
        for member in SIGNALS:  # some follow the reply to the call
            d.wait_for(member, timeout=15, since=since)
        d.wait_property_changed("Generation", since=since)

        # Everything emitted has reached the listeners that get it: one
        # more NameOwnerChanged after it, seen by all.
        deadline = time.monotonic() + 30
        for listener in listeners.values():
            seen = len(listener.lines)
            while not any("NameOwnerChanged" in line for line in listener.lines[seen:]):
                assert time.monotonic() < deadline, listener.lines[-5:]
                d.get("Status")
                time.sleep(0.2)
    finally:
        for listener in listeners.values():
            listener.stop()

    for user, listener in listeners.items():
        got = listener.members(INTERFACE) | (listener.members(PROPERTIES) & {"PropertiesChanged"})
        want = set(SIGNALS) | {"PropertiesChanged"} if user in ("root", "opdbus") else set()
        assert got == want, f"{user} received {sorted(got)}, expected {sorted(want)}"


# ---- what a plan asked for by another user may make the daemon read ----------------------
#
# The group opdbus may plan, and the daemon plans as root. A plan of a
# caller other than root therefore names only the files and servers the
# applied state names (docs/dbus.md, "Plans of callers other than root"):
# anything else is refused before it is read, and no network request is
# made at all.


def netmaker_state(token_file, api_endpoint=None, container=104):
    """br0, a Netmaker container that does not exist yet (so that a plan
    looks at the token and the server: it would inject once it exists) and
    the netmaker section."""
    netmaker = {"enabled": True, "token_file": token_file}
    if api_endpoint:
        netmaker["api_endpoint"] = api_endpoint
    doc = net_state("p1")
    doc["plugins"]["lxc"] = {"containers": [
        {"id": container, "name": f"app{container}", "template": "busybox",
         "network": {"bridge": "br0", "veth": True}, "properties": {"network_type": "netmaker"}}]}
    doc["plugins"]["netmaker"] = netmaker
    return doc


def configured(doc):
    """doc without its containers: what root applies so that the applied
    state names the token file and the endpoint (nothing is injected)."""
    doc = json.loads(json.dumps(doc))
    del doc["plugins"]["lxc"]
    return doc


def plan_as(d, user, doc, plugins):
    r = call(d, user, INTERFACE, "PlanWithOptions", "sa{sv}", json.dumps(doc), *options_args(plugins=plugins))
    return (r.error_name, r.error_message) if not r.ok else ("ok", r.stdout)


class Listener:
    """A TCP listener on 127.0.0.1 that counts the connections made to it
    and closes each at once."""

    def __init__(self):
        self.sock = socket.socket(socket.AF_INET, socket.SOCK_STREAM)
        self.sock.bind(("127.0.0.1", 0))
        self.sock.listen(16)
        self.port = self.sock.getsockname()[1]
        self.connections = 0
        self.thread = threading.Thread(target=self._accept, daemon=True)
        self.thread.start()

    def _accept(self):
        while True:
            try:
                conn, _ = self.sock.accept()
            except OSError:
                return
            self.connections += 1
            conn.close()

    def close(self):
        self.sock.close()


@pytest.fixture
def listener():
    listeners = []

    def start():
        listeners.append(Listener())
        return listeners[-1]

    yield start
    for l in listeners:
        l.close()


@pytest.fixture
def files(tmp_path):
    """Root's files the group must learn nothing about: a valid token file
    (0600), one with group and other permissions, one that is no token, a
    directory, and a path that does not exist."""
    d = tmp_path / "root-only"
    d.mkdir(mode=0o700)
    paths = {
        "token": write_token_file(d / "token.env", Token("127.0.0.1:9")),
        "readable": write_token_file(d / "readable.env", Token("127.0.0.1:9"), 0o644),
        "garbage": write_token_file(d / "garbage.env", Token(raw="no token")),
        "directory": str(d / "dir"),
        "missing": str(d / "missing.env"),
    }
    os.mkdir(paths["directory"])
    return paths


def test_a_plan_of_the_group_reads_no_token_file_it_names(start_daemon, files, tmp_path):
    """Through PlanWithOptions and Plan, a member of opdbus naming root's
    files as token_file gets the same answer whatever the file is (the
    daemon refuses before reading it, naming the field); root's plans of
    the same documents tell the files apart, which is what the group must
    not learn."""
    own = write_token_file(tmp_path / "netmaker.env", Token("127.0.0.1:9"))
    d = start_daemon(configured(netmaker_state(own)))

    for method in ("PlanWithOptions", "Plan"):
        answers = {}
        for name, path in files.items():
            doc = netmaker_state(path)
            if method == "Plan":
                r = call(d, "opdbus", INTERFACE, "Plan", "s", json.dumps(doc))
                answers[name] = (r.error_name, r.error_message)
            else:
                answers[name] = plan_as(d, "opdbus", doc, ["lxc", "netmaker"])
        assert len(set(answers.values())) == 1, f"{method}: the answers differ:\n" + \
            "\n".join(f"{k}: {v}" for k, v in answers.items())
        name, message = answers["token"]
        assert name == DAEMON_DENIED, answers["token"]
        assert message.startswith("plugins.netmaker.token_file: not the token file of the applied state"), message
        assert files["token"] not in message

    root = {name: plan_as(d, "root", netmaker_state(path), ["lxc", "netmaker"]) for name, path in files.items()}
    assert len(set(root.values())) >= 3, root


def test_a_plan_of_the_group_makes_no_network_request(start_daemon, listener, tmp_path):
    """The endpoint a member of opdbus names is refused and not contacted;
    with the applied state's endpoint the plan is made without asking the
    server, and says so. Root's plan asks it."""
    server = listener()
    other = listener()
    endpoint = f"https://127.0.0.1:{server.port}"
    own = write_token_file(tmp_path / "netmaker.env", Token(f"127.0.0.1:{server.port}"))
    d = start_daemon(configured(netmaker_state(own, endpoint)))

    name, message = plan_as(d, "opdbus", netmaker_state(own, f"https://127.0.0.1:{other.port}"), ["lxc", "netmaker"])
    assert name == DAEMON_DENIED and message.startswith("plugins.netmaker.api_endpoint: "), message

    name, out = plan_as(d, "opdbus", netmaker_state(own, endpoint), ["lxc", "netmaker"])
    assert name == "ok", out
    result = json.loads(json.loads(out)["data"][0])
    assert [c["path"] for c in result["changes"]] == ["container/104", "netmaker/container/104"]
    assert any(n.startswith("plugins.netmaker.api_endpoint: the Netmaker server was not checked")
               for n in result["notes"]), result["notes"]
    name, _ = plan_as(d, "opdbus", netmaker_state(own), ["lxc", "netmaker"])  # the token's server
    assert name == "ok"
    assert (server.connections, other.connections) == (0, 0)

    name, message = plan_as(d, "root", netmaker_state(own, endpoint), ["lxc", "netmaker"])
    assert name == ERR + "Unavailable", message
    assert server.connections >= 1


def ovn_state(northbound, southbound="tcp:192.0.2.1:6642"):
    return {"version": 1, "plugins": {"ovn": {
        "chassis": {"system_id": "pve1", "northbound": northbound, "southbound": southbound,
                    "encap_ip": "192.0.2.11"},
        "switches": [{"name": "ls1", "subnet": "10.1.0.0/24"}]}}}


def test_a_plan_of_the_group_connects_to_no_ovn_database_it_names(start_daemon, tmp_path):
    """The northbound and southbound databases a member of opdbus names
    are refused (op-dbus would connect to them as root) and not connected
    to; root's plan connects."""
    path = tmp_path / "nb.sock"
    sock = socket.socket(socket.AF_UNIX, socket.SOCK_STREAM)
    sock.bind(str(path))
    sock.listen(16)
    sock.settimeout(0.1)
    d = start_daemon()
    with sock:
        for doc, field in ((ovn_state(f"unix:{path}"), "northbound"),
                           (ovn_state(f"unix:{path}", f"unix:{path}"), "southbound")):
            name, message = plan_as(d, "opdbus", doc, ["ovn"])
            assert name == DAEMON_DENIED, message
            assert f"plugins.ovn.chassis.{field}: not the {field} database of the applied state" in message, message
            with pytest.raises(socket.timeout):
                sock.accept()
        accepted = []

        def accept():
            sock.settimeout(30)
            conn, _ = sock.accept()
            accepted.append(True)
            conn.close()

        thread = threading.Thread(target=accept, daemon=True)
        thread.start()
        name, message = plan_as(d, "root", ovn_state(f"unix:{path}"), ["ovn"])
        thread.join(30)
        assert accepted and name == ERR + "Unavailable", message  # root's plan connected


def test_a_plan_of_the_group_names_no_template_or_container_file(start_daemon, files):
    """A template file and the inputs of a container's services (here a
    WireGuard key file) are looked for as root: a member of opdbus may name
    only those of the applied state."""
    archive = Path(files["token"]).with_name("rootfs.tar.gz")
    archive.write_bytes(b"")
    os.chmod(archive, 0o600)
    d = start_daemon(net_state("p1"))

    def container(**kw):
        doc = net_state("p1")
        doc["plugins"]["lxc"] = {"containers": [{"id": 200, "name": "ct200", **kw}]}
        return doc

    answers = {}
    for path in (str(archive), files["missing"] + ".tar.gz"):
        for where in ("template", "properties"):
            kw = {"template": path} if where == "template" else {"properties": {"template": path}}
            answers[(path, where)] = plan_as(d, "opdbus", container(**kw), ["lxc"])
    for (path, where), (name, message) in answers.items():
        field = "template" if where == "template" else "properties.template"
        assert name == DAEMON_DENIED, (path, message)
        assert message.startswith(f"plugins.lxc.containers[0].{field}: not a template file of the applied state"), \
            message
    assert answers[(str(archive), "template")] == answers[(files["missing"] + ".tar.gz", "template")]
    assert plan_as(d, "root", container(template=str(archive)), ["lxc"]) != \
        plan_as(d, "root", container(template=files["missing"] + ".tar.gz"), ["lxc"])

    wg = {"services": ["wireguard"], "config": {"wg0": {
        "address": "10.99.0.1/24", "private_key_file": "/etc/wireguard/private.key", "peers": []}}}
    name, message = plan_as(d, "opdbus", container(**wg), ["lxc"])
    assert name == DAEMON_DENIED, message
    assert message.startswith("plugins.lxc.containers[0].config.wg0.private_key_file: not a file of container 200 "
                              "in the applied state"), message


def test_op_dbus_plan_of_the_group_is_refused_alike(start_daemon, files, tmp_path, opdbus_bin):
    """`op-dbus plan` run by a member of opdbus goes to the daemon: exit
    status 7 (refused), the same output for an existing and a missing
    file."""
    own = write_token_file(tmp_path / "netmaker.env", Token("127.0.0.1:9"))
    d = start_daemon(configured(netmaker_state(own)))
    shared = Path(tempfile.mkdtemp(prefix="opdbus-access-"))
    try:
        shared.chmod(0o755)
        doc = shared / "state.json"
        outputs = {}
        for name in ("token", "missing"):
            doc.write_text(json.dumps(netmaker_state(files[name])))
            doc.chmod(0o644)
            for args in ((), ("--json",)):
                p = subprocess.run([*user_prefix("opdbus", d.bus.gid), str(opdbus_bin), "plan", *args, str(doc)],
                                   capture_output=True, text=True, env=d.env, cwd=shared, timeout=120)
                outputs[(name, args)] = (p.returncode, p.stdout, p.stderr)
    finally:
        shutil.rmtree(shared)
    for args in ((), ("--json",)):
        assert outputs[("token", args)] == outputs[("missing", args)], outputs
        code, out, err = outputs[("token", args)]
        assert code == 7, outputs[("token", args)]
        assert "plugins.netmaker.token_file: not the token file of the applied state" in out + err
