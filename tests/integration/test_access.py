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
test holds against each other. Then the signals each caller receives.

Callers are uid 65534 with and without the supplementary group opdbus
(dbus_fixture.user_prefix); whether the daemon answered a call or the bus
refused it is read from the root monitor on the bus: the sender of the
reply.
"""

import json
import re
import subprocess
import threading
import time
import xml.etree.ElementTree as ET
from pathlib import Path

import pytest

pytest.register_assert_rewrite("dbus_fixture")

from dbus_fixture import (BUS_NAME, DBUS_NAME, INTERFACE, INTERFACE_XML, OBJECT_PATH,  # noqa: E402
                          POLICY_FILE, PROPERTIES, SOURCE_ROOT, options_args, user_prefix)

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


def test_signals_reach_root_and_the_group_only(start_daemon, system_bus, ovs):
    """Every signal of the contract, and PropertiesChanged, as the daemon
    emits them: received by root and by a member of opdbus, by no one else
    (docs/dbus.md, "Who may call what")."""
    flows = {"enable_security_flows": False, "obfuscation_level": 0, "bridges": [{"name": "br0"}]}
    base = net_state("p1")
    base["plugins"]["openflow"] = flows
    d = start_daemon(base, audit_interval=3600)
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

