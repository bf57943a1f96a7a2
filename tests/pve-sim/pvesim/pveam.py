# SPDX-License-Identifier: LGPL-2.1-or-later
"""pveam: the container template tool (PVE::CLI::pveam).

There is no network access: the "available" templates are the files in
the directory named by $PVE_SIM_TEMPLATE_SOURCE (all in section 'system'),
and `pveam download` copies from there into the storage's template cache.
"""

import os
import re
import shutil
import sys

from .cli import Cli, Command
from .env import Env, out
from .errors import PveError, raise_param_exc
from .pct import run_worker
from .storage import Storage

PVEAM_COMMANDS = ["update", "download", "available", "list", "remove"]


def _available(env):
    src = env.template_source
    if not src or not os.path.isdir(src):
        return {}
    return {name: os.path.join(src, name) for name in sorted(os.listdir(src))
            if re.search(r"\.tar(\.(gz|xz|zst|bz2))?$", name)}


def cmd_update(p):
    Env()
    out("update successful")
    return 0


def cmd_available(p):
    env = Env()
    for name in _available(env):
        if p.get("section") and p["section"] != "system":
            continue
        m = re.search(r"_(amd64|arm64|armhf|i386|riscv32|riscv64)\.tar", name)
        out("%-15s %-60s %s" % ("system", name, m.group(1) if m else "amd64"))
    return 0


def cmd_list(p):
    env = Env()
    storage = Storage(env)
    items = storage.template_list(p["storage"])
    out("%-60s %-6s" % ("NAME", "SIZE"))
    for volid, size in items:
        out("%-60s %-4.2fMB" % (volid, size / (1024 * 1024)))
    return 0


def cmd_download(p):
    env = Env()
    storage = Storage(env)
    avail = _available(env)
    template = p["template"]
    if template not in avail:
        raise_param_exc({"template": "no such template"})
    sid = p["storage"]
    scfg = storage.config(sid)
    if "vztmpl" not in scfg["content"]:
        raise PveError(f"storage '{sid}' does not support templates\n")
    dest = storage.path(f"{sid}:vztmpl/{template}")

    def worker():
        url = f"file://{avail[template]}"
        out(f"downloading {url} to {dest}")
        os.makedirs(os.path.dirname(dest), exist_ok=True)
        tmp = dest + ".tmp_dwnl"
        try:
            shutil.copyfile(avail[template], tmp)
            os.rename(tmp, dest)
        except OSError as err:
            raise PveError(f"download failed: {err}\n")
        out(f"download of '{url}' to '{dest}' finished")

    return run_worker(worker, noexit=True)


def cmd_remove(p):
    env = Env()
    storage = Storage(env)
    volid = p["template_path"]
    sid, volname = storage.parse_volume_id(volid)
    vtype, _n, _o = storage.parse_volname(sid, volname)
    if vtype != "vztmpl":
        raise PveError(f"unable to use volume {volid} - content type needs to be 'vztmpl'\n")
    path = storage.path(volid)
    if not os.path.isfile(path):
        raise PveError(f"can't find file '{volid}'\n")
    os.unlink(path)
    return 0


def main(argv):
    if argv and os.geteuid() != 0:
        sys.stderr.write("please run as root\n")
        return 255
    sid = {"type": "string", "format": "pve-storage-id"}
    node = os.environ.get("PVE_SIM_NODE") or "pve"
    cmds = [
        Command("update", [], {}, cmd_update),
        Command("available", [], {"section": {"type": "string", "optional": 1,
                                              "enum": ["system", "mail", "turnkeylinux"]}},
                cmd_available),
        Command("list", ["storage"], {"storage": sid}, cmd_list, fixed={"node": node}),
        Command("download", ["storage", "template"],
                {"storage": sid, "template": {"type": "string", "maxLength": 255}},
                cmd_download, fixed={"node": node}, worker="noexit"),
        Command("remove", ["template_path"], {"template_path": {"type": "string",
                                                                "maxLength": 255}},
                cmd_remove, fixed={"node": node}),
    ]
    return Cli("pveam", cmds, PVEAM_COMMANDS).run(argv)
