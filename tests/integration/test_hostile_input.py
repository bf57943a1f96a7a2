# SPDX-License-Identifier: LGPL-2.1-or-later
"""Hostile input: state documents and state files that op-dbus must refuse
without touching the host.

One live host serves the whole table: a private Open vSwitch and the
Proxmox test double (tests/pve-sim) with a state applied to them (BASELINE:
a bridge with ports, flows and a flow policy, a container op-dbus created).
Each row of HOSTILE is applied to it with `op-dbus apply`, and must exit 2
(invalid) with an error at the row's JSON path that says what the row
expects, while the host stays exactly as it was: the OVSDB configuration,
the flows of every bridge, the Proxmox containers (`pct list` and their
configurations) and op-dbus's state directory (checkpoints, ledgers, flow
records) are dumped before and after and compared.

The table is data, so that more sections (the router's) join it the same
way: Hostile(name, doc, path, message), where doc is a state document (a
dict, a deep copy of BASELINE changed with `change`), the text of one
(str or bytes, for what is not JSON), or a function of the live host that
returns either; path is the JSON path the error names ("" for the document
as a whole) and message a fragment of that error. A section whose rows
need another live host adds its own fixture and table, and runs them with
check_refused().

Below the table, the state file itself: what op-dbus must not read
(devices, FIFOs, files others could have written, files over 16 MiB),
with the exact messages, and a state nested to the limit that is applied
and rolled back to.
"""

import copy
import hashlib
import json
import os
import shutil
import subprocess
import tempfile
from dataclasses import dataclass
from pathlib import Path
from typing import Any

import pytest

from conftest import SOURCE_ROOT, OpDbus
from ovs_sandbox import OvsSandbox
from pve_fixture import OVS_LOG_ALLOW, PveSim, pve_templates  # noqa: F401

EXIT_INVALID = 2
BRIDGE = "hbr0"
CTID = 100

BASELINE = {
    "version": 1,
    "plugins": {
        "net": {"bridges": [{
            "name": BRIDGE, "datapath_type": "netdev",
            "ports": [{"name": "hp0", "type": "internal", "tag": 10},
                      {"name": "hp1", "type": "internal", "vlan_mode": "trunk", "trunks": [10, 20]}],
        }]},
        "openflow": {
            "obfuscation_level": 1,
            "bridges": [{"name": BRIDGE, "flows": [
                {"table": 30, "priority": 10, "match_fields": {"tcp": "", "tp_dst": 443},
                 "actions": [{"type": "drop"}]},
            ]}],
            "flow_policies": [{"name": "ports", "selector": "port:hp*",
                               "template": {"table": 10, "priority": 100, "match": "udp,tp_dst=53",
                                            "actions": [{"type": "normal"}]}}],
        },
        "lxc": {"backend": "pct", "containers": [{
            "id": CTID, "name": "ct100", "template": "debian-12", "state": "stopped",
            "network": {"bridge": BRIDGE, "ipv4": "10.61.0.100/24", "hwaddr": "BC:24:11:00:01:00"},
            "properties": {"memory": 256, "swap": 0, "rootfs_size": 1},
        }]},
    },
}


@dataclass(frozen=True)
class Hostile:
    name: str
    doc: Any            # dict, str, bytes, or a function of the live host returning one
    path: str           # the JSON path of the error ("" for the document as a whole)
    message: str        # a fragment of the error
    secret: str = ""    # a secret in the document that no output may show


def _step(obj, key):
    return obj[int(key[1:-1])] if key.startswith("[") else obj[key]


def _keys(path):
    """"plugins.net.bridges[0].name" -> ["plugins", "net", "bridges", "[0]", "name"]"""
    out = []
    for part in path.split("."):
        while "[" in part:
            head, rest = part.split("[", 1)
            if head:
                out.append(head)
            idx, part = rest.split("]", 1)
            out.append(f"[{idx}]")
        if part:
            out.append(part)
    return out


def change(*edits):
    """A copy of BASELINE with edits applied: (path, value) sets the value
    (appending to an array when the index is its length); (path, DELETE)
    removes it."""
    def build(_host=None):
        doc = copy.deepcopy(BASELINE)
        for path, value in edits:
            keys = _keys(path)
            parent = doc
            for k in keys[:-1]:
                parent = _step(parent, k)
            last = keys[-1]
            if last.startswith("["):
                i = int(last[1:-1])
                if value is DELETE:
                    del parent[i]
                elif i == len(parent):
                    parent.append(value)
                else:
                    parent[i] = value
            elif value is DELETE:
                del parent[last]
            else:
                parent[last] = value
        return doc
    return build


DELETE = object()


def raw(text):
    """Text to write as it is (not JSON, or JSON json.dumps cannot write)."""
    return text


def nested(levels):
    """A container config nested so that the document has `levels` levels."""
    value = {}
    for _ in range(levels - 6):   # the config object is level 6
        value = {"a": value}
    return change(("plugins.lxc.containers[0].config", value))


def deep_path(levels):
    return "plugins.lxc.containers[0].config" + ".a" * (levels - 6)


N = "plugins.net.bridges[0]"
P = f"{N}.ports[0]"
OF = "plugins.openflow"
F = f"{OF}.bridges[0].flows[0]"
T = f"{OF}.flow_policies[0].template"
C = "plugins.lxc.containers[0]"
NM = "plugins.netmaker"
OVN = "plugins.ovn"


def ovn_section(chassis=None, switch=None, port=None):
    """A valid ovn section with some values replaced."""
    return {"chassis": dict({"system_id": "pve1", "northbound": "unix:/nonexistent/ovnnb_db.sock",
                             "southbound": "tcp:192.0.2.1:6642", "encap_ip": "192.0.2.11"}, **(chassis or {})),
            "switches": [dict({"name": "ls1", "subnet": "10.1.0.0/24"}, **(switch or {}))],
            "ports": [dict({"name": "pa", "switch": "ls1", "mac": "02:00:00:00:01:0a", "ip": "10.1.0.10"},
                           **(port or {}))]}
BASE_TEXT = json.dumps(BASELINE)

HOSTILE = [
    # ---- not JSON: the strict parser's cases, reported where they are ----
    Hostile("comment", raw('{"version": 1, /* a note */ "plugins": {}}'), "",
            ":1:16: invalid JSON: a comment: JSON has no comments"),
    Hostile("trailing-comma", raw(BASE_TEXT[:-2] + ",}}"), "plugins",
            "invalid JSON: a comma before '}': JSON allows none after the last member"),
    Hostile("single-quotes", raw("{'version': 1}"), "",
            "invalid JSON: a key in single quotes: JSON strings take double quotes"),
    Hostile("unquoted-key", raw("{version: 1}"), "", "invalid JSON: the key version has no quotes"),
    Hostile("duplicate-key", raw(BASE_TEXT.replace('"name": "hp0"', '"name": "hp0", "name": "hp9"')), f"{P}.name",
            "this key is given twice in one object"),
    Hostile("nan", raw(BASE_TEXT.replace('"tag": 10', '"tag": NaN')), f"{P}.tag", "NaN is not a JSON number"),
    Hostile("leading-zero", raw(BASE_TEXT.replace('"tag": 10', '"tag": 010')), f"{P}.tag",
            "010 is not a JSON number: JSON numbers have no leading zeros"),
    Hostile("integer-beyond-64-bits", raw(BASE_TEXT.replace('"tag": 10', '"tag": 18446744073709551616')),
            f"{P}.tag", "18446744073709551616 is out of range: integers must lie in"),
    Hostile("raw-tab-in-string", raw(BASE_TEXT.replace('"hp0"', '"hp\t0"')), f"{P}.name",
            "invalid JSON: a tab inside a string: write it as \\t"),
    Hostile("not-utf8", raw(BASE_TEXT.replace('"hp0"', '"hp\udcff0"').encode("utf-8", "surrogateescape")),
            f"{P}.name", "invalid JSON: byte 0xFF is not UTF-8"),
    Hostile("byte-order-mark", raw(b"\xef\xbb\xbf" + BASE_TEXT.encode()), "",
            "the text starts with a byte order mark (EF BB BF)"),
    Hostile("empty", raw(""), "", "invalid JSON: the text is empty"),
    Hostile("two-documents", raw(BASE_TEXT + " {}"), "", "'{' after the end of the document"),
    Hostile("truncated", raw(BASE_TEXT[:200]), f"{N}.ports[1].vlan_mode",
            ":1:199: invalid JSON: a string that does not end: its closing '\"' is missing"),

    # ---- NUL, depth, placeholders ----
    Hostile("nul-in-port-name", change((f"{P}.name", "relp\u0000; x")), f"{P}.name",
            "this string has \\u0000 (a NUL character) in it"),
    Hostile("nul-in-free-form-config", change((f"{C}.config", {"wireguard": {"note": "a\u0000b"}})),
            f"{C}.config.wireguard.note", "this string has \\u0000 (a NUL character) in it"),
    Hostile("nested-too-deep", nested(33), deep_path(33), "nested 33 levels deep: a state may nest at most 32 levels"),
    Hostile("placeholder-left", change((f"{C}.network.gateway", "VPS_IP")), f"{C}.network.gateway",
            "placeholder VPS_IP"),

    # ---- the envelope ----
    Hostile("version-2", change(("version", 2)), "version", "2 is out of range, expected 1..1"),
    Hostile("unknown-top-level-key", change(("bogus", 1)), "bogus", "unknown key, expected one of: version, plugins"),
    Hostile("mixed-forms", change(("net", {})), "net", "unknown key, expected one of: version, plugins"),
    Hostile("plugins-not-object", change(("plugins", [])), "plugins", "expected an object, got an array"),
    Hostile("unknown-section", change(("plugins.routers", {})), "plugins.routers", "unknown plugin section"),
    Hostile("section-null", raw(BASE_TEXT.replace('"plugins": {"net": ', '"plugins": {"netmaker": null, "net": ')),
            "plugins.netmaker", "expected an object, got null"),

    # ---- net ----
    Hostile("bridge-name-separator", change((f"{N}.name", "br0;reboot")), f"{N}.name", "contains ';'"),
    Hostile("bridge-name-too-long", change((f"{N}.name", "b" * 16)), f"{N}.name", "is 16 bytes, interface names are at most 15"),
    Hostile("bridge-name-empty", change((f"{N}.name", "")), f"{N}.name", "interface names must not be empty"),
    Hostile("bridge-name-dotdot", change((f"{N}.name", "..")), f"{N}.name", "is not a valid interface name"),
    Hostile("port-name-newline", change((f"{P}.name", "hp0\nerror: hp9")), f"{P}.name",
            "\"hp0 error: hp9\" contains '?'; interface names may use letters, digits, '_', '.' and '-'"),
    Hostile("port-name-escape-sequence", change((f"{P}.name", "hp\u001b[2J0")), f"{P}.name", "\"hp?[2J0\" contains '?'"),
    Hostile("match-key-newline", change((f"{F}.match_fields", {"tcp": "", "tp_dst\nerror: x": 443})),
            f"{F}.match_fields.tp_dst error: x", "\"tp_dst?error: x\" is not a match field op-dbus knows"),
    Hostile("bridge-name-wrong-type", change((f"{N}.name", 7)), f"{N}.name", "expected a string, got an integer"),
    Hostile("duplicate-bridge", change(("plugins.net.bridges[1]", {"name": BRIDGE, "datapath_type": "netdev"})),
            "plugins.net.bridges[1]", "bridge \"hbr0\" is already declared at plugins.net.bridges[0]"),
    Hostile("duplicate-port", change((f"{N}.ports[2]", {"name": "hp0", "type": "internal"})), f"{N}.ports[2]",
            "port \"hp0\" is already declared at plugins.net.bridges[0].ports[0]; port names are unique on the host"),
    Hostile("port-named-as-bridge", change((f"{P}.name", BRIDGE)), P,
            "port \"hbr0\" has the name of bridge plugins.net.bridges[0]"),
    Hostile("tag-out-of-range", change((f"{P}.tag", 4096)), f"{P}.tag", "4096 is out of range, expected 0..4095"),
    Hostile("tag-as-string", change((f"{P}.tag", "10")), f"{P}.tag", "expected an integer, got a string"),
    Hostile("tag-negative", change((f"{P}.tag", -1)), f"{P}.tag", "-1 is out of range"),
    Hostile("mtu-too-small", change((f"{P}.mtu_request", 67)), f"{P}.mtu_request", "67 is out of range, expected 68..65535"),
    Hostile("trunks-duplicate", change((f"{N}.ports[1].trunks", [10, 20, 10])), f"{N}.ports[1].trunks[2]", "VLAN 10 is listed twice"),
    Hostile("access-with-trunks", change((f"{P}.vlan_mode", "access"), (f"{P}.trunks", [20])), P,
            "vlan_mode \"access\" cannot carry trunks"),
    Hostile("unknown-port-key", change((f"{P}.mtu", 1500)), f"{P}.mtu", "unknown key, expected one of: name"),
    Hostile("forged-ownership-tag", change((f"{P}.external_ids", {"op-dbus-owner": "op-dbus"})),
            f"{P}.external_ids.op-dbus-owner", "reserved for ownership tags"),
    Hostile("other-config-not-string", change((f"{N}.other_config", {"mac-aging-time": 300})),
            f"{N}.other_config.mac-aging-time", "expected a string, got an integer"),
    Hostile("vxlan-without-remote", change((f"{P}.type", "vxlan"), (f"{P}.tag", DELETE)), f"{P}.options", "a vxlan port needs options.remote_ip"),
    Hostile("patch-without-peer", change((f"{P}.type", "patch"), (f"{P}.tag", DELETE)), f"{P}.options", "a patch port needs options.peer"),
    Hostile("stp-and-rstp", change((f"{N}.stp_enable", True), (f"{N}.rstp_enable", True)), N,
            "stp_enable and rstp_enable cannot both be true"),
    Hostile("datapath-type-unknown", change((f"{N}.datapath_type", "dpdk")), f"{N}.datapath_type", "\"dpdk\" is not valid"),
    Hostile("ports-not-array", change((f"{N}.ports", {"hp0": {}})), f"{N}.ports", "expected an array, got an object"),

    # ---- openflow: injections into the flow text, prerequisites, ranges ----
    Hostile("set-field-value-injection",
            change((f"{F}.actions", [{"type": "set_field", "field": "reg1", "value": "1->reg0,output:CONTROLLER"}])),
            f"{F}.actions[0].value", "is not a value set_field can write to reg1"),
    Hostile("set-field-name-injection",
            change((f"{F}.actions", [{"type": "set_field", "field": "reg1,output:CONTROLLER,load:1->reg0", "value": 1}])),
            f"{F}.actions[0].field", "is not a field set_field can write"),
    Hostile("match-key-injection", change((f"{F}.match_fields", {"tcp": "", "nw_src=10.0.0.1,tp_dst": "443"})),
            f"{F}.match_fields.nw_src=10.0.0.1,tp_dst", "is not a match field op-dbus knows"),
    Hostile("match-value-injection", change((f"{F}.match_fields.tp_dst", "443,actions=output:CONTROLLER")),
            f"{F}.match_fields.tp_dst", "is not a valid tp_dst"),
    Hostile("protocol-value-injection", change((f"{F}.match_fields.tcp", ",in_port=1")),
            f"{F}.match_fields.tcp", "tcp names a protocol and takes no value"),
    Hostile("output-port-injection", change((f"{F}.actions", [{"type": "output", "port": "1,output:CONTROLLER"}])),
            f"{F}.actions[0].port", "is not a port"),
    Hostile("match-string-injection", change((f"{T}.match", "udp,tp_dst=53,actions=output:CONTROLLER")),
            f"{T}.match", "\"actions\" is not a match field op-dbus knows"),
    Hostile("transport-port-without-protocol", change((f"{F}.match_fields", {"tp_dst": 443})),
            f"{F}.match_fields.tp_dst", "tp_dst needs tcp, udp or sctp"),
    Hostile("address-without-ip", change((f"{F}.match_fields", {"nw_src": "10.0.0.1"})),
            f"{F}.match_fields.nw_src", "nw_src needs ip"),
    Hostile("icmp-type-on-tcp", change((f"{F}.match_fields.icmp_type", 3)), f"{F}.match_fields.icmp_type",
            "icmp_type needs icmp or icmp6"),
    Hostile("set-field-without-prerequisite",
            change((f"{F}.match_fields", {"ip": ""}),
                   (f"{F}.actions", [{"type": "set_field", "field": "tp_dst", "value": 1}])),
            f"{F}.actions[0].field", "set_field writes tp_dst, which needs tcp, udp or sctp"),
    Hostile("address-out-of-range", change((f"{F}.match_fields.nw_src", "300.1.1.1")), f"{F}.match_fields.nw_src",
            "\"300.1.1.1\" is not a valid nw_src"),
    Hostile("vlan-out-of-range", change((f"{F}.match_fields", {"dl_vlan": 5000})), f"{F}.match_fields.dl_vlan",
            "5000 is not a valid dl_vlan: expected an integer 0..4095"),
    Hostile("protocols-contradict", change((f"{F}.match_fields", {"ip": "", "ipv6": ""})), f"{F}.match_fields.ipv6",
            "contradicts the protocol named before it"),
    Hostile("policy-matches-another-port", change((f"{T}.match", "udp,in_port=hp1")), T,
            "the match names in_port hp1, but the policy applies to the port it selects, hp0"),
    Hostile("policy-matches-reg0", change((f"{T}.match", "udp,reg0=1/1")), f"{T}.match", "reg0 is not for policies"),
    Hostile("controller-action", change((f"{F}.actions", [{"type": "controller"}])), f"{F}.actions[0]",
            "there is no OpenFlow controller on this host"),
    Hostile("unknown-action", change((f"{F}.actions", [{"type": "exec", "command": "reboot"}])), f"{F}.actions[0].type",
            "\"exec\" is not valid, expected one of: output"),
    Hostile("output-to-unknown-port", change((f"{F}.actions", [{"type": "output", "port": "nosuch0"}])),
            f"{F}.actions[0].port", "\"nosuch0\" is not a port or container this state declares"),
    Hostile("cookie-outside-class", change((f"{F}.cookie", "0xdead000000000001")), F,
            "is outside the class of explicit flows"),
    Hostile("cookie-not-hex", change((f"{F}.cookie", "0xZZ")), f"{F}.cookie", "is not a valid cookie"),
    Hostile("resubmit-table-255", change((f"{F}.actions", [{"type": "resubmit", "table": 255}])),
            f"{F}.actions[0].table", "255 is out of range, expected 0..253"),
    Hostile("obfuscation-level-4", change((f"{OF}.obfuscation_level", 4)), f"{OF}.obfuscation_level",
            "4 is out of range, expected 0..3"),
    Hostile("dns-resolver-not-ip", change((f"{OF}.dns_resolver", "1.1.1.1;8.8.8.8")), f"{OF}.dns_resolver",
            "is not a valid IPv4 address"),
    Hostile("selector-injection", change((f"{OF}.flow_policies[0].selector", "container:100;rm")),
            f"{OF}.flow_policies[0].selector", "is not a valid selector"),
    Hostile("selector-reversed-range", change((f"{OF}.flow_policies[0].selector", "container:200-100")),
            f"{OF}.flow_policies[0].selector", "is an empty range"),
    Hostile("duplicate-policy", change((f"{OF}.flow_policies[1]", copy.deepcopy(BASELINE["plugins"]["openflow"]["flow_policies"][0]))),
            f"{OF}.flow_policies[1]", "flow policy \"ports\" is already declared"),
    Hostile("socket-port-bad-container", change((f"{OF}.bridges[0].socket_ports", [{"name": "internal_99", "container_id": 99}])),
            f"{OF}.bridges[0].socket_ports[0].container_id", "99 is out of range, expected a container id 100..999999999"),

    # ---- lxc: names and values that reach pct's command line ----
    Hostile("container-id-too-small", change((f"{C}.id", 99)), f"{C}.id",
            "99 is out of range, expected a container id 100..999999999"),
    Hostile("container-id-twice", change(("plugins.lxc.containers[1]", {"id": str(CTID)})), "plugins.lxc.containers[1]",
            "container 100 is already declared at plugins.lxc.containers[0]; container ids are unique"),
    Hostile("hostname-injection", change((f"{C}.name", "ct100 --unprivileged 0")), f"{C}.name",
            "\"ct100 --unprivileged 0\" is not a valid host name, expected letters, digits and '-'"),
    Hostile("template-injection", change((f"{C}.template", "debian-12\n--rootfs /")), f"{C}.template",
            "\"debian-12?--rootfs /\" is not a template: a name, file name, volume id or path, without whitespace"),
    Hostile("nameserver-injection", change((f"{C}.properties.nameserver", "1.1.1.1\nlxc.apparmor.profile: unconfined")),
            f"{C}.properties.nameserver", "\"1.1.1.1?lxc.apparmor.profile: unconfined\" is not a list of DNS server addresses"),
    Hostile("searchdomain-injection", change((f"{C}.properties.searchdomain", "example.org --delete rootfs")),
            f"{C}.properties.searchdomain", "\"example.org --delete rootfs\" is not a list of search domains"),
    Hostile("features-unknown", change((f"{C}.properties.features", "nesting=1,evil=1")), f"{C}.properties.features",
            "unknown feature \"evil\" (=1), expected nesting, keyctl, fuse, mknod, force_rw_sys or mount"),
    Hostile("tag-with-separator", change((f"{C}.properties.tags", ["ok", "a;b"])), f"{C}.properties.tags[1]",
            "\"a;b\" is not a Proxmox tag"),
    Hostile("storage-injection", change((f"{C}.properties.storage", "local-lvm --force")), f"{C}.properties.storage",
            "\"local-lvm --force\" is not a Proxmox storage id"),
    Hostile("privileged-without-consent", change((f"{C}.properties.unprivileged", False)), f"{C}.properties.unprivileged",
            "a privileged container (unprivileged: false) needs \"allow_privileged\": true"),
    Hostile("veth-and-socket", change((f"{C}.network.veth", True), (f"{C}.network.socket_networking", True)),
            f"{C}.network", "\"veth\" and \"socket_networking\" cannot both be true"),
    Hostile("ipv4-prefix-33", change((f"{C}.network.ipv4", "10.61.0.100/33")), f"{C}.network.ipv4",
            "has an invalid prefix length"),
    Hostile("hwaddr-injection", change((f"{C}.network.hwaddr", "BC:24:11:00:01:00,firewall=1")), f"{C}.network.hwaddr",
            "is not a MAC address"),
    Hostile("bridge-injection", change((f"{C}.network.bridge", "hbr0,tag=5")), f"{C}.network.bridge", "contains ','"),
    Hostile("memory-too-small", change((f"{C}.properties.memory", 8)), f"{C}.properties.memory", "8 is out of range"),
    Hostile("cores-zero", change((f"{C}.properties.cores", 0)), f"{C}.properties.cores", "0 is out of range"),
    Hostile("unknown-container-key", change((f"{C}.hookscript", "local:snippets/x.sh")), f"{C}.hookscript",
            "unknown key, expected one of: id, name, template"),
    Hostile("backend-unknown", change(("plugins.lxc.backend", "docker")), "plugins.lxc.backend", "\"docker\" is not valid"),
    Hostile("run-state-unknown", change((f"{C}.state", "paused")), f"{C}.state", "\"paused\" is not valid"),
    Hostile("services-not-strings", change((f"{C}.services", [1])), f"{C}.services[0]", "expected a string"),

    # ---- netmaker: files, endpoints, secrets ----
    Hostile("token-inline", change((NM, {"enabled": False, "token": "eyJzZXJ2ZXIiOiAiYXBpLmV4YW1wbGUub3JnIn0="})),
            f"{NM}.token", "unknown key, expected one of: enabled, token_file",
            secret="eyJzZXJ2ZXIiOiAiYXBpLmV4YW1wbGUub3JnIn0="),
    Hostile("token-in-token-file", change((NM, {"token_file": "NETMAKER_TOKEN=eyJzZXJ2ZXIiOiAiYS5leGFtcGxlIn0="})),
            f"{NM}.token_file", "not an absolute path: expected a path starting with '/'",
            secret="eyJzZXJ2ZXIiOiAiYS5leGFtcGxlIn0="),
    Hostile("token-file-relative", change((NM, {"token_file": "netmaker.env"})), f"{NM}.token_file",
            "not an absolute path: expected a path starting with '/' such as /etc/op-dbus/netmaker.env (the value is "
            "not shown, in case it is the token itself)"),
    Hostile("token-file-nul", change((NM, {"token_file": "/etc/op-dbus/netmaker.env\u0000x"})), f"{NM}.token_file",
            "this string has \\u0000"),
    Hostile("api-endpoint-scheme", change((NM, {"api_endpoint": "file:///etc/shadow"})), f"{NM}.api_endpoint",
            "\"file:///etc/shadow\" is not a valid API URL, expected http:// or https://"),
    Hostile("enabled-not-boolean", change((NM, {"enabled": "yes"})), f"{NM}.enabled", "expected true or false"),

    # ---- ovn: names that reach another database, remotes ----
    Hostile("ovn-system-id-newline", change((OVN, ovn_section(chassis={"system_id": "pve1\nop-dbus-owner"}))),
            f"{OVN}.chassis.system_id", "expected a system-id: 1 to 63 letters, digits"),
    Hostile("ovn-port-name-injection", change((OVN, ovn_section(port={"name": "pa;ovn-nbctl ls-del ls1"}))),
            f"{OVN}.ports[0].name", "expected a logical switch port name"),
    Hostile("ovn-northbound-ssl", change((OVN, ovn_section(chassis={"northbound": "ssl:192.0.2.1:6641"}))),
            f"{OVN}.chassis.northbound", "expected the northbound database as \"tcp:IP:PORT\" or \"unix:/PATH\""),
    Hostile("ovn-northbound-name", change((OVN, ovn_section(chassis={"northbound": "tcp:central:6641"}))),
            f"{OVN}.chassis.northbound", "expected the northbound database"),
    Hostile("ovn-mac-multicast", change((OVN, ovn_section(port={"mac": "01:00:5e:00:00:01"}))),
            f"{OVN}.ports[0].mac", "expected a unicast MAC address"),
    Hostile("ovn-ip-broadcast", change((OVN, ovn_section(port={"ip": "10.1.0.255"}))),
            f"{OVN}.ports[0].ip", "is not a host address of the subnet 10.1.0.0/24"),
    Hostile("ovn-dhcp-router-outside", change((OVN, ovn_section(switch={"dhcp": {"router": "10.2.0.1"}}))),
            f"{OVN}.switches[0].dhcp.router", "10.2.0.1 is not a host address of the subnet 10.1.0.0/24"),
]


# ---- the live host -----------------------------------------------------------------


class LiveHost:
    """The OVS sandbox and the Proxmox double with BASELINE applied, and
    op-dbus pointed at both."""

    def __init__(self, ovs, pve, opdbus, work):
        self.ovs, self.pve, self.opdbus, self.work = ovs, pve, opdbus, work
        self.state_dir = Path(opdbus.env["OPDBUS_STATE_DIR"])
        self.n = 0

    def write(self, doc):
        """The document's file (0600 in a directory of root's)."""
        self.n += 1
        path = self.work / f"hostile-{self.n}.json"
        if callable(doc):
            doc = doc(self)
        if isinstance(doc, (dict, list)):
            doc = json.dumps(doc, indent=1, ensure_ascii=False)
        path.write_bytes(doc if isinstance(doc, bytes) else doc.encode("utf-8", "surrogateescape"))
        path.chmod(0o600)
        return path

    def dumps(self):
        """Everything an apply could change, in a comparable form."""
        flows = {}
        for br in self.ovs.vsctl("list-br").split():
            flows[br] = self.ovs.ofctl("dump-flows", br, options=("-O", "OpenFlow14", "--no-stats"))
        files = {}
        for p in sorted(self.state_dir.rglob("*")):
            if p.is_file():
                files[str(p.relative_to(self.state_dir))] = hashlib.sha256(p.read_bytes()).hexdigest()
        configs = {vmid: self.pve.read_conf(vmid) for vmid in self.pve.ct_ids()}
        return {
            "ovsdb": self.ovs.config_dump(),
            "flows": flows,
            "pct list": self.pve.pct("list", check=0).stdout,
            "pct configs": configs,
            "state dir": files,
        }


@pytest.fixture(scope="module")
def host(pve_templates, tmp_path_factory):  # noqa: F811
    ovs = OvsSandbox()
    pve = None
    try:
        pve = PveSim(pve_templates, ovs=ovs)
        work = tmp_path_factory.mktemp("hostile")
        private = work / "opdbus"
        for sub in ("state", "run", "lxc"):
            (private / sub).mkdir(parents=True)
        env = dict(os.environ)
        env.update(ovs.env())
        env.update(pve.env())
        env.update({"OPDBUS_STATE_DIR": str(private / "state"), "OPDBUS_RUN_DIR": str(private / "run"),
                    "OPDBUS_INTERFACES": str(private / "interfaces"), "OPDBUS_NO_DAEMON": "1"})
        binary = Path(os.environ.get("OPDBUS_BIN") or "build-test/agent/op-dbus/op-dbus")
        if not binary.is_absolute():
            binary = SOURCE_ROOT / binary
        live = LiveHost(ovs, pve, OpDbus(binary, env, cwd=work), work)
        res = live.opdbus.run("apply", "--json", live.write(BASELINE), json=True, timeout=180)
        assert res.json["ok"], res.describe()
        yield live
    finally:
        left = pve.close() if pve else {}
        check = ovs.check_logs(OVS_LOG_ALLOW)
        ovs.close()
    assert not left, f"pve-sim did not clean up after itself: {left}"
    assert not check.errors, "unexpected ERR/EMER lines in the OVS logs:\n" + "\n".join(check.errors)


def check_refused(host, doc, path, message, secret=""):
    """Applies doc: exit 2, an error at path containing message, and the
    host exactly as before; secret (if given) in no output. Returns the
    errors."""
    before = host.dumps()
    res = host.opdbus.run("apply", "--json", host.write(doc), json=True, timeout=180)
    errors = res.json["errors"]
    assert not secret or (secret not in res.stdout and secret not in res.stderr), "the secret is shown"
    assert res.returncode == EXIT_INVALID and res.json["status"] == "invalid", res.describe()
    prefix = f"{path}: " if path else ""
    assert not any(ord(c) < 0x20 or ord(c) == 0x7f for e in errors for c in e), \
        f"an error carries a control character: {errors!r}"
    hits = [e for e in errors if e.startswith(prefix) and message in e[len(prefix):]]
    if not path:
        # a top-level error names no path: it must not start with a key
        hits = [e for e in hits if not e.split(": ", 1)[0].startswith(("plugins", "version"))]
    assert hits, f"no error at {path or '(the document)'} containing {message!r}:\n" + "\n".join(errors)
    assert host.dumps() == before, "the refused document changed the host"
    return errors


def test_table_has_every_kind():
    names = [h.name for h in HOSTILE]
    assert len(names) == len(set(names))
    assert len(HOSTILE) >= 60


@pytest.mark.parametrize("case", HOSTILE, ids=lambda h: h.name)
def test_hostile_document_is_refused(host, case):
    check_refused(host, case.doc, case.path, case.message, case.secret)


# ---- the state file itself ------------------------------------------------------------


def _other_state():
    """A valid state that would change the host: one more port."""
    return change((f"{N}.ports[2]", {"name": "hp2", "type": "internal"}))()


def check_file_refused(host, path, errors, stdin=None):
    """Applies the state file at path (or standard input): exit 2 with
    exactly these errors, nothing changed."""
    before = host.dumps()
    res = host.opdbus.run("apply", "--json", path, input=stdin, json=True, timeout=60)
    assert res.returncode == EXIT_INVALID and res.json["status"] == "invalid", res.describe()
    assert res.json["errors"] == errors
    assert host.dumps() == before, "the refused file changed the host"


def test_link_to_a_file_anyone_may_write_is_refused(host, tmp_path):
    shared = tmp_path / "shared"
    shared.mkdir()
    shared.chmod(0o777)
    target = shared / "state.json"
    target.write_text(json.dumps(_other_state()))
    target.chmod(0o666)
    link = tmp_path / "state.json"
    link.symlink_to(target)
    check_file_refused(host, link, [
        f"the state file {link} (a link to {target}) has mode 0666: it must not be writable by group or others "
        f"(chmod go-w {target})",
        f"the state file {link} (a link to {target}) is in {shared}, which has mode 0777: no directory on the way "
        f"to it may be writable by group or others, unless it is sticky like /tmp (chmod go-w {shared})",
    ])


@pytest.mark.parametrize("kind", ["group-writable", "owned-by-another-user", "in-a-directory-of-another-user"])
def test_file_others_could_have_written_is_refused(host, tmp_path, kind):
    d = tmp_path / "d"
    d.mkdir()
    path = d / "state.json"
    path.write_text(json.dumps(_other_state()))
    path.chmod(0o600)
    if kind == "group-writable":
        path.chmod(0o660)
        error = f"the state file {path} has mode 0660: it must not be writable by group or others (chmod go-w {path})"
    elif kind == "owned-by-another-user":
        os.chown(path, 65534, 65534)
        error = f"the state file {path} is owned by uid 65534: it must be owned by root (chown root: {path})"
    else:
        os.chown(d, 65534, 65534)
        error = (f"the state file {path} is in {d}, which is owned by uid 65534: every directory on the way to it "
                 f"must be owned by root (chown root: {d})")
    check_file_refused(host, path, [error])


@pytest.mark.parametrize("kind", ["fifo", "character-device", "directory"])
def test_what_is_not_a_regular_file_is_refused_unread(host, tmp_path, kind):
    """A FIFO would block the read forever, /dev/zero never end it."""
    if kind == "fifo":
        path = tmp_path / "state.fifo"
        os.mkfifo(path, 0o600)
        what = "a FIFO"
    elif kind == "character-device":
        path, what = Path("/dev/zero"), "a character device"
    else:
        path, what = tmp_path, "a directory"
    check_file_refused(host, path, [f"the state file {path} is not a regular file (it is {what})"])


def _padded(size):
    """A valid state of exactly size bytes (the rest is whitespace)."""
    text = json.dumps(_other_state())
    return text + " " * (size - len(text))


def test_file_over_16_mib_is_refused(host, tmp_path):
    path = tmp_path / "big.json"
    path.write_text(_padded(16 * 1024 * 1024 + 1))
    path.chmod(0o600)
    check_file_refused(host, path, [f"the state file {path} is 16777217 bytes: a state may be at most "
                                    "16777216 bytes (16 MiB)"])
    path.write_text(_padded(16 * 1024 * 1024))
    host.opdbus.run("validate", path, check=0)


def test_standard_input_over_16_mib_is_refused(host):
    check_file_refused(host, "-", ["standard input has more than 16777216 bytes: a state may be at most "
                                   "16777216 bytes (16 MiB)"], stdin=_padded(16 * 1024 * 1024 + 1))


@pytest.fixture
def user_home():
    """A directory of uid 65534 right below /tmp (pytest's are root's
    only)."""
    home = Path(tempfile.mkdtemp(prefix="opdbus-hostile-", dir="/tmp"))
    home.chmod(0o755)
    os.chown(home, 65534, 65534)
    yield home
    shutil.rmtree(home)


def test_user_validates_a_file_of_their_own(host, user_home):
    """Who is not root may validate (and plan) a file they own; a file of
    another user is refused for them too."""
    mine, theirs = user_home / "mine.json", user_home / "theirs.json"
    for path, uid in ((mine, 65534), (theirs, 1)):
        path.write_text(json.dumps(BASELINE))
        path.chmod(0o644)
        os.chown(path, uid, uid)
    user = ["setpriv", "--reuid=65534", "--regid=65534", "--clear-groups", str(host.opdbus.binary)]
    env = dict(host.opdbus.env, ASAN_OPTIONS=os.environ.get("ASAN_OPTIONS", "") + ":detect_leaks=0")
    res = subprocess.run([*user, "validate", str(mine)], capture_output=True, text=True, env=env, timeout=60)
    assert res.returncode == 0, res.stderr
    res = subprocess.run([*user, "validate", str(theirs)], capture_output=True, text=True, env=env, timeout=60)
    assert res.returncode == EXIT_INVALID, res.stderr
    assert (f"error: the state file {theirs} is owned by uid 1: it must be owned by root or by you (uid 65534) "
            f"(chown root: {theirs})") in res.stderr


# ---- depth: the limit is the same for what is stored and what is read back --------------


def test_state_at_the_depth_limit_is_applied_and_rolled_back_to(host):
    """Checkpoints keep a state one level down and are read back with the
    same parser: a state at the limit is applied, and a rollback to it
    reads it again (one level more is refused at validate, see the table)."""
    deep = nested(32)()
    res = host.opdbus.run("apply", "--json", host.write(deep), json=True, timeout=180)
    assert res.json["ok"], res.describe()
    generation = res.json["generation"]
    res = host.opdbus.run("apply", "--json", host.write(BASELINE), json=True, timeout=180)
    assert res.json["ok"] and res.json["generation"] == generation + 1, res.describe()
    res = host.opdbus.run("rollback", "--to", generation, "--json", json=True, timeout=180)
    assert res.json["ok"], res.describe()
    res = host.opdbus.run("verify", host.write(deep), timeout=180)
    assert res.returncode == 0, res.describe()
    host.opdbus.run("apply", "--json", host.write(BASELINE), check=0, timeout=180)
