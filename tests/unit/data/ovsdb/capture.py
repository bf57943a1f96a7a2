#!/usr/bin/env python3
# SPDX-License-Identifier: LGPL-2.1-or-later
"""Record the exact bytes a real ovsdb-server sends and write them out as
C string literals (captures.h) for the unit tests.

Starts a private ovsdb-server in a temporary directory (never the system
one), runs a fixed script of requests over its unix socket and stores,
per request, every byte received in reply. Requests use the id 987654 so
the tests can substitute their own id.

    capture.py [OUTPUT]        (default: captures.h next to this script)
"""

import json
import os
import shutil
import socket
import subprocess
import sys
import tempfile
import time

SCHEMA = "/usr/share/openvswitch/vswitch.ovsschema"
ID = 987654

# A string full of framing hazards: braces and brackets, escaped quotes and
# backslashes, raw UTF-8 (2, 3 and 4 byte sequences) and a control char.
TRICKY_KEY = 'k{"}]'
TRICKY_VALUE = 'va"l}] [{ \\ \u00fc\u20ac\U0001F600 /\t\u0001'


class Server:
    def __init__(self):
        self.dir = tempfile.mkdtemp(prefix="ovsdb-capture-")
        self.sock = os.path.join(self.dir, "db.sock")
        db = os.path.join(self.dir, "conf.db")
        subprocess.run(["ovsdb-tool", "create", db, SCHEMA], check=True)
        subprocess.run(["ovsdb-server", db,
                        "--remote=punix:" + self.sock,
                        "--remote=db:Open_vSwitch,Open_vSwitch,manager_options",
                        "--unixctl=" + os.path.join(self.dir, "ctl"),
                        "--pidfile=" + os.path.join(self.dir, "pid"),
                        "--log-file=" + os.path.join(self.dir, "log"),
                        "--detach", "--no-chdir"], check=True)

    def stop(self):
        try:
            with open(os.path.join(self.dir, "pid")) as f:
                os.kill(int(f.read().strip()), 15)
            time.sleep(0.2)
        finally:
            shutil.rmtree(self.dir)


class Conn:
    def __init__(self, path):
        for _ in range(50):
            try:
                self.s = socket.socket(socket.AF_UNIX, socket.SOCK_STREAM)
                self.s.connect(path)
                return
            except (FileNotFoundError, ConnectionRefusedError):
                self.s.close()
                time.sleep(0.1)
        raise RuntimeError("cannot connect to " + path)

    def send(self, method, params, id=ID):
        self.s.sendall(json.dumps({"method": method, "params": params,
                                   "id": id}).encode())

    def recv(self, idle=0.3):
        self.s.settimeout(idle)
        out = b""
        while True:
            try:
                d = self.s.recv(65536)
            except socket.timeout:
                return out
            if not d:
                return out
            out += d

    def rpc(self, method, params):
        self.send(method, params)
        return self.recv()


def transact(*ops):
    return ["Open_vSwitch"] + list(ops)


def capture(srv):
    caps = []  # (name, description, bytes)

    def add(name, desc, data):
        assert data, name
        caps.append((name, desc, data))

    c = Conn(srv.sock)
    add("list_dbs", 'reply to {"method":"list_dbs","params":[]}',
        c.rpc("list_dbs", []))
    add("unknown_method", 'reply to {"method":"foo","params":[]}',
        c.rpc("foo", []))
    add("unknown_db", 'reply to {"method":"transact","params":["Nope"]}',
        c.rpc("transact", ["Nope"]))

    setup = transact(
        {"op": "insert", "table": "Manager", "uuid-name": "mgr",
         "row": {"target": "punix:" + os.path.join(srv.dir, "probe.sock"),
                 "inactivity_probe": 1000}},
        {"op": "insert", "table": "Bridge", "uuid-name": "br_ovsbr0",
         "row": {"name": "ovsbr0",
                 "external_ids": ["map", [[TRICKY_KEY, TRICKY_VALUE],
                                          ["plain", "x"]]]}},
        {"op": "insert", "table": "Open_vSwitch", "uuid-name": "ovs",
         "row": {"bridges": ["named-uuid", "br_ovsbr0"],
                 "manager_options": ["named-uuid", "mgr"]}})
    add("insert", "reply to a transact inserting Manager, Bridge and "
        "Open_vSwitch rows", c.rpc("transact", setup))

    add("select", "reply to a transact selecting name, external_ids, "
        "ports and _uuid of every Bridge",
        c.rpc("transact", transact(
            {"op": "select", "table": "Bridge", "where": [],
             "columns": ["name", "external_ids", "ports", "_uuid"]})))
    add("select_ovs", "reply to a transact selecting every Open_vSwitch row",
        c.rpc("transact", transact(
            {"op": "select", "table": "Open_vSwitch", "where": []})))

    add("op_error", "reply to a transact of 3 operations whose second "
        "names an unknown column",
        c.rpc("transact", transact(
            {"op": "select", "table": "Bridge", "where": []},
            {"op": "insert", "table": "Bridge", "row": {"bad": 1}},
            {"op": "select", "table": "Bridge", "where": []})))
    add("wait_timeout", 'reply to a transact whose "wait" (timeout 0) fails',
        c.rpc("transact", transact(
            {"op": "wait", "table": "Bridge", "timeout": 0,
             "where": [["name", "==", "ovsbr0"]], "columns": ["name"],
             "until": "==", "rows": [{"name": "other"}]})))
    add("dup_index", "reply to a transact inserting a second Bridge named "
        "ovsbr0 (commit fails: extra trailing result)",
        c.rpc("transact", transact(
            {"op": "insert", "table": "Bridge", "uuid-name": "dup",
             "row": {"name": "ovsbr0"}},
            {"op": "mutate", "table": "Open_vSwitch", "where": [],
             "mutations": [["bridges", "insert",
                            ["set", [["named-uuid", "dup"]]]]]})))
    add("enum_violation", "reply to a transact inserting a Bridge with an "
        "invalid fail_mode",
        c.rpc("transact", transact(
            {"op": "insert", "table": "Bridge",
             "row": {"name": "x", "fail_mode": "bogus"}})))

    # Notifications: a monitor on one connection, a change from another.
    m = Conn(srv.sock)
    add("monitor", 'reply to {"method":"monitor","params":["Open_vSwitch",'
        '"mon",{"Bridge":{"columns":["name","external_ids"]}}]}',
        m.rpc("monitor", ["Open_vSwitch", "mon",
                          {"Bridge": {"columns": ["name", "external_ids"]}}]))
    add("monitor_cond",
        'reply to a "monitor_cond" of Bridge name and external_ids',
        m.rpc("monitor_cond", ["Open_vSwitch", "mon2",
                               {"Bridge": [{"columns": ["name",
                                                        "external_ids"]}]}]))
    add("monitor_cond_since", 'reply to a "monitor_cond_since" of Bridge',
        m.rpc("monitor_cond_since", ["Open_vSwitch", "mon3",
                                     {"Bridge": [{"columns": ["name",
                                                              "external_ids"]}]},
                                     "00000000-0000-0000-0000-000000000000"]))
    c.rpc("transact", transact(
        {"op": "mutate", "table": "Bridge", "where": [],
         "mutations": [["external_ids", "insert",
                        ["map", [["new{", "\u00e9\"}"]]]]]}))
    add("update", "update, update2 and update3 notifications sent to the "
        "monitoring connection after external_ids changed",
        m.recv())

    # Locks: a holds "L", b waits, a unlocks (b gets "locked"), then s
    # steals it from b (b gets "stolen").
    a, b, s = Conn(srv.sock), Conn(srv.sock), Conn(srv.sock)
    a.rpc("lock", ["L"])
    add("lock_wait", 'reply to {"method":"lock","params":["L"]} while '
        "another client holds L", b.rpc("lock", ["L"]))
    a.rpc("unlock", ["L"])
    add("locked", '"locked" notification', b.recv())
    s.rpc("steal", ["L"])
    add("stolen", '"stolen" notification', b.recv())

    # The server probes idle connections of the Manager remote.
    p = Conn(os.path.join(srv.dir, "probe.sock"))
    add("echo", "echo request sent by the server to an idle connection",
        p.recv(idle=2.5))
    for conn in (c, m, a, b, s, p):
        conn.s.close()
    return caps


def c_literal(data):
    lines, cur = [], ""
    for byte in data:
        ch = chr(byte)
        if ch in '"\\':
            esc = "\\" + ch
        elif ch == "?":
            esc = "\\?"
        elif 0x20 <= byte < 0x7f:
            esc = ch
        else:
            esc = "\\%03o" % byte
        if len(cur) + len(esc) > 68:
            lines.append(cur)
            cur = ""
        cur += esc
    lines.append(cur)
    return "\n".join('        "%s"' % l for l in lines)


def write_header(caps, path):
    out = ["/* SPDX-License-Identifier: LGPL-2.1-or-later */",
           "#pragma once",
           "",
           "#include <stddef.h>",
           "",
           '#include "macro.h"',
           "",
           "/* Bytes received from ovsdb-server (Open vSwitch %s), verbatim."
           % ovs_version(),
           " * Generated by capture.py; do not edit. Requests used the id %d."
           % ID,
           " * Replies are not newline-terminated. */",
           ""]
    for name, desc, data in caps:
        out.append("/* %s (%d bytes) */" % (desc, len(data)))
        out.append("static const char capture_%s[] _unused_ =" % name)
        out.append(c_literal(data) + ";")
        out.append("")
    out.append("/* Every capture in the order the server sent them. */")
    out.append("static const struct {")
    out.append("        const char *name;")
    out.append("        const char *data;")
    out.append("        size_t size;")
    out.append("} captures[] _unused_ = {")
    for name, _, _ in caps:
        out.append('        { "%s", capture_%s, sizeof(capture_%s) - 1 },'
                   % (name, name, name))
    out.append("};")
    with open(path, "w") as f:
        f.write("\n".join(out) + "\n")


def ovs_version():
    r = subprocess.run(["ovsdb-server", "--version"], capture_output=True,
                       text=True, check=True)
    return r.stdout.split()[-1]


def main():
    path = sys.argv[1] if len(sys.argv) > 1 else os.path.join(
        os.path.dirname(os.path.abspath(__file__)), "captures.h")
    srv = Server()
    try:
        caps = capture(srv)
    finally:
        srv.stop()
    write_header(caps, path)


if __name__ == "__main__":
    main()
