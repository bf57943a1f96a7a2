# SPDX-License-Identifier: LGPL-2.1-or-later
"""Storages of the simulated node (etc/pve/storage.cfg).

Every storage is backed by plain directories below $PVE_SIM_ROOT; volume
names follow the storage type as Proxmox would name them:

  dir       <sid>:<vmid>/vm-<vmid>-disk-<n>.raw   (<path>/images/<vmid>/...)
  lvmthin   <sid>:vm-<vmid>-disk-<n>               (var/lib/pve-sim/lvm/<vg>/...)
  zfspool   <sid>:subvol-<vmid>-disk-<n>           (/<pool>/...)

A volume is a directory that is used as the container's root filesystem
directly (no image file, no loop device, no quota).
"""

import os
import re
import shutil

from .env import out
from .errors import PveError
from .schema import STORAGE_ID_RE


# PVE::Storage::Plugin::parse_volname (with $ISO_EXT_RE_0, $VZTMPL_EXT_RE_1,
# $BACKUP_EXT_RE_2): a template must end in .tar, .tar.gz, .tar.xz, .tar.zst
# or .tar.bz2.
DIR_VOLNAME_RES = (
    ("iso", r"iso/([^/]+\.(?:iso|img))"),
    ("vztmpl", r"vztmpl/([^/]+\.(?:tar(?!\.)|tar\.(?:gz|xz|zst|bz2)))"),
    ("backup", r"backup/([^/]+\.(?:tgz|(?:tar|vma)(?:\.(?:gz|lzo|zst|bz2))?))"),
    ("snippets", r"snippets/([^/]+)"),
)


def parse_storage_cfg(env):
    path = os.path.join(env.pve, "storage.cfg")
    ids = {}
    cur = None
    with open(path) as f:
        for line in f:
            line = line.rstrip("\n")
            if not line.strip() or line.lstrip().startswith("#"):
                continue
            m = re.fullmatch(r"(\S+):\s*(\S+)\s*", line)
            if m and not line[0].isspace():
                cur = {"type": m.group(1), "content": set()}
                ids[m.group(2)] = cur
                continue
            m = re.fullmatch(r"\s+(\S+)(?:\s+(.*\S))?\s*", line)
            if m and cur is not None:
                key, value = m.group(1), m.group(2) or ""
                if key == "content":
                    cur["content"] = set(x for x in re.split(r"[,;\s]+", value) if x)
                else:
                    cur[key] = value
    return ids


class Storage:
    def __init__(self, env):
        self.env = env
        self.ids = parse_storage_cfg(env)

    def config(self, sid):
        scfg = self.ids.get(sid)
        if not scfg:
            raise PveError(f"storage '{sid}' does not exist\n")
        return scfg

    # ---- volume names -----------------------------------------------------

    @staticmethod
    def parse_volume_id(volid, noerr=False):
        m = re.fullmatch(rf"({STORAGE_ID_RE}):(.+)", volid, re.I | re.S)
        if not m:
            if noerr:
                return None, None
            raise PveError(f"unable to parse volume ID '{volid}'\n")
        return m.group(1), m.group(2)

    def parse_volname(self, sid, volname):
        """(vtype, name, owner vmid) of a volume on storage sid."""
        scfg = self.config(sid)
        typ = scfg["type"]
        if typ == "lvmthin":
            m = re.fullmatch(r"((vm|base)-(\d+)-\S+)", volname)
            if not m:
                raise PveError(f"unable to parse lvm volume name '{volname}'\n")
            return "images", m.group(1), m.group(3)
        if typ == "zfspool":
            m = re.fullmatch(r"(((base|vm)-(\d+)-\S+)|(subvol-(\d+)-\S+))", volname)
            if not m:
                raise PveError(f"unable to parse zfs volume name '{volname}'\n")
            return "images", m.group(1), m.group(4) or m.group(6)
        m = re.fullmatch(r"(\d+)/(\S+)", volname)
        if m:
            return "images", m.group(2), m.group(1)
        for vtype, regex in DIR_VOLNAME_RES:
            m = re.fullmatch(regex, volname, re.I if vtype in ("iso", "vztmpl") else 0)
            if m:
                return vtype, m.group(1), None
        raise PveError(f"unable to parse directory volume name '{volname}'\n")

    def path(self, volid):
        """Absolute (host) path of a volume."""
        sid, volname = self.parse_volume_id(volid)
        scfg = self.config(sid)
        vtype, name, vmid = self.parse_volname(sid, volname)
        typ = scfg["type"]
        if typ == "lvmthin":
            return self.env.path(f"var/lib/pve-sim/lvm/{scfg.get('vgname', sid)}/{name}")
        if typ == "zfspool":
            return self.env.path(f"{scfg.get('pool', sid)}/{name}")
        base = self.env.path(scfg.get("path", f"/mnt/pve/{sid}"))
        sub = {"images": f"images/{vmid}", "vztmpl": "template/cache", "iso": "template/iso",
               "backup": "dump", "snippets": "snippets"}[vtype]
        return os.path.join(base, sub, name)

    def node_path(self, host_path):
        """The path as it would be on a real node (without the sim root)."""
        rel = os.path.relpath(host_path, self.env.root)
        return "/" + rel

    # ---- allocation -------------------------------------------------------

    def _existing_names(self, sid, vmid):
        scfg = self.config(sid)
        typ = scfg["type"]
        if typ == "lvmthin":
            d = self.env.path(f"var/lib/pve-sim/lvm/{scfg.get('vgname', sid)}")
        elif typ == "zfspool":
            d = self.env.path(scfg.get("pool", sid))
        else:
            d = os.path.join(self.env.path(scfg.get("path", f"/mnt/pve/{sid}")), "images", str(vmid))
        try:
            return set(os.listdir(d))
        except FileNotFoundError:
            return set()

    def alloc(self, sid, vmid, size_gib, rootuid=0, rootgid=0):
        """Allocate a new volume of size_gib on storage sid; returns volid."""
        scfg = self.config(sid)
        typ = scfg["type"]
        existing = self._existing_names(sid, vmid)
        n = 0
        while True:
            if typ == "lvmthin":
                name = f"vm-{vmid}-disk-{n}"
            elif typ == "zfspool":
                name = f"subvol-{vmid}-disk-{n}"
            elif size_gib:
                name = f"vm-{vmid}-disk-{n}.raw"
            else:
                name = f"subvol-{vmid}-disk-{n}.subvol"
            if name not in existing:
                break
            n += 1
        volid = f"{sid}:{name}" if typ in ("lvmthin", "zfspool") else f"{sid}:{vmid}/{name}"
        path = self.path(volid)
        os.makedirs(os.path.dirname(path), exist_ok=True)
        os.mkdir(path, 0o755)
        os.chown(path, rootuid, rootgid)
        if typ == "lvmthin":
            out(f'  Logical volume "{name}" created.')
        elif typ == "dir" and size_gib:
            out(f"Formatting '{self.node_path(path)}', fmt=raw size={int(size_gib * (1 << 30))} "
                "preallocation=off")
        return volid

    def free(self, volid):
        path = self.path(volid)
        sid, volname = self.parse_volume_id(volid)
        if os.path.isdir(path) and not os.path.islink(path):
            shutil.rmtree(path)
            if self.config(sid)["type"] == "lvmthin":
                out(f'  Logical volume "{os.path.basename(path)}" successfully removed.')
        parent = os.path.dirname(path)
        if self.config(sid)["type"] not in ("lvmthin", "zfspool"):
            try:
                os.rmdir(parent)
            except OSError:
                pass

    def template_list(self, sid):
        scfg = self.config(sid)
        if "vztmpl" not in scfg["content"]:
            raise PveError("Storage does not support templates!\n")
        d = os.path.join(self.env.path(scfg.get("path", f"/mnt/pve/{sid}")), "template", "cache")
        res = []
        try:
            names = sorted(os.listdir(d))
        except FileNotFoundError:
            names = []
        for name in names:
            if re.search(r"\.tar(\.(gz|xz|zst|bz2))?$", name):
                res.append((f"{sid}:vztmpl/{name}", os.path.getsize(os.path.join(d, name))))
        return res
