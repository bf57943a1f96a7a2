# SPDX-License-Identifier: LGPL-2.1-or-later
"""pvesm: the storage manager (PVE::CLI::pvesm). Only `pvesm status` is
reproduced: the storages of etc/pve/storage.cfg with their sizes
(PVE::API2::Storage::Status index, PVE::Storage::storage_info)."""

import os
import sys

from . import schema
from .cli import Cli, Command
from .env import Env, out
from .errors import raise_param_exc
from .storage import Storage

PVESM_COMMANDS = [
    "add", "alloc", "apiinfo", "export", "extractconfig", "free", "import", "list", "path",
    "prune-backups", "remove", "scan", "set", "status",
]
# pvesm.pm's aliases of "scan <type>" (not implemented by the double)
PVESM_ALIASES = {"cifsscan": "scan", "iscsiscan": "scan", "lvmscan": "scan", "lvmthinscan": "scan",
                 "nfsscan": "scan", "zfsscan": "scan"}


def storage_info(env, storage, content):
    """PVE::Storage::storage_info: with a content filter only enabled
    storages holding one of the types; sizes of the enabled ones."""
    types = schema.split_list(content) if content is not None else None
    info = {}
    for sid, scfg in storage.ids.items():
        enabled = storage.enabled(sid, noerr=True) is not None
        if types is not None and (not enabled or not any(t in scfg["content"] for t in types)):
            continue
        info[sid] = {"type": scfg["type"], "total": 0, "avail": 0, "used": 0, "active": 0,
                     "enabled": 1 if enabled else 0}
    for sid, d in info.items():
        if d["enabled"]:
            d["total"], d["avail"], d["used"] = storage.status(sid)
            d["active"] = 1
    return info


def print_status(res):
    """pvesm.pm's $print_status."""
    maxlen = max([len(sid) for sid in res] or [0]) + 1
    out(f"%-{maxlen}s %10s %10s %15s %15s %15s %8s" % (
        "Name", "Type", "Status", "Total (KiB)", "Used (KiB)", "Available (KiB)", "%"))
    for sid in sorted(res):
        d = res[sid]
        active = "active" if d["active"] else "inactive"
        per = f"{d['used'] * 100 / d['total']: 7.2f}%" if d["total"] > 0 else f"{0: 7.2f}%"
        if not d["enabled"]:
            per, active = f"{'N/A':>8}", "disabled"
        out(f"%-{maxlen}s %10s %10s %15d %15d %15d %s" % (
            sid, d["type"], active, int(d["total"] / 1024), int(d["used"] / 1024),
            int(d["avail"] / 1024), per))


def cmd_status(p):
    env = Env()
    storage = Storage(env)
    info = storage_info(env, storage, p.get("content"))
    if p.get("storage") and p["storage"] not in info:
        raise_param_exc({"storage": "No such storage."})
    res = {sid: d for sid, d in info.items()
           if (not p.get("storage") or sid == p["storage"])
           and not (p.get("enabled") == "1" and not d["enabled"])}
    print_status(res)
    return 0


def main(argv):
    if argv and os.geteuid() != 0:
        sys.stderr.write("please run as root\n")
        return 255
    node = os.environ.get("PVE_SIM_NODE") or "pve"
    cmds = [
        Command("status", [], {
            "storage": {"type": "string", "format": "pve-storage-id", "optional": 1},
            "content": {"type": "string", "format": "pve-storage-content-list", "optional": 1},
            "enabled": {"type": "boolean", "optional": 1},
            "target": {"type": "string", "format": "pve-node", "optional": 1},
            "format": {"type": "boolean", "optional": 1},
        }, cmd_status, fixed={"node": node}),
    ]
    return Cli("pvesm", cmds, PVESM_COMMANDS, PVESM_ALIASES).run(argv)
