# SPDX-License-Identifier: LGPL-2.1-or-later
"""Storages of the simulated node (etc/pve/storage.cfg).

Every storage is backed by plain directories below $PVE_SIM_ROOT; volume
names follow the storage type as Proxmox would name them:

  dir       <sid>:<vmid>/vm-<vmid>-disk-<n>.raw   (<path>/images/<vmid>/...)
  lvmthin   <sid>:vm-<vmid>-disk-<n>               (var/lib/pve-sim/lvm/<vg>/...)
  lvm       <sid>:vm-<vmid>-disk-<n>               (var/lib/pve-sim/lvm/<vg>/...)
  zfspool   <sid>:subvol-<vmid>-disk-<n>           (/<pool>/...)

A volume is a directory that is used as the container's root filesystem
directly (no image file, no loop device, no quota). Its size is what it was
allocated or resized to, recorded in var/lib/pve-sim/volume-sizes.json.
The storages' sizes are those of the file system holding their
directories; a (thick) lvm storage's volume group is that big, and its
volumes take their full size from it, so that allocating or growing one
beyond the free space fails as LVM would.
"""

import json
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


def _lvm_size(size):
    """LVM's display of a size: "1.00 GiB"."""
    for unit, shift in (("TiB", 40), ("GiB", 30), ("MiB", 20)):
        if size >= 1 << shift:
            return f"{size / (1 << shift):.2f} {unit}"
    return f"{size / (1 << 10):.2f} KiB"


class Storage:
    def __init__(self, env):
        self.env = env
        self.ids = parse_storage_cfg(env)

    def config(self, sid):
        scfg = self.ids.get(sid)
        if not scfg:
            raise PveError(f"storage '{sid}' does not exist\n")
        return scfg

    def enabled(self, sid, noerr=False):
        """PVE::Storage::storage_check_enabled on this node."""
        scfg = self.config(sid)
        if scfg.get("disable") in ("", "1"):
            if noerr:
                return None
            raise PveError(f"storage '{sid}' is disabled\n")
        nodes = scfg.get("nodes")
        if nodes and self.env.node not in [n for n in re.split(r"[,;\s]+", nodes) if n]:
            if noerr:
                return None
            raise PveError(f"storage '{sid}' is not available on node '{self.env.node}'\n")
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
        if typ in ("lvmthin", "lvm"):
            m = re.fullmatch(r"((vm|base)-(\d+)-\S+)" if typ == "lvmthin" else r"(()vm-(\d+)-\S+)",
                             volname)
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
        if typ in ("lvmthin", "lvm"):
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

    def _dir(self, sid, vmid=None):
        """The directory holding a storage's (or a CT's) volumes."""
        scfg = self.config(sid)
        typ = scfg["type"]
        if typ in ("lvmthin", "lvm"):
            return self.env.path(f"var/lib/pve-sim/lvm/{scfg.get('vgname', sid)}")
        if typ == "zfspool":
            return self.env.path(scfg.get("pool", sid))
        base = self.env.path(scfg.get("path", f"/mnt/pve/{sid}"))
        return base if vmid is None else os.path.join(base, "images", str(vmid))

    def _existing_names(self, sid, vmid):
        scfg = self.config(sid)
        typ = scfg["type"]
        if typ in ("lvmthin", "lvm"):
            d = self.env.path(f"var/lib/pve-sim/lvm/{scfg.get('vgname', sid)}")
        elif typ == "zfspool":
            d = self.env.path(scfg.get("pool", sid))
        else:
            d = os.path.join(self.env.path(scfg.get("path", f"/mnt/pve/{sid}")), "images", str(vmid))
        try:
            return set(os.listdir(d))
        except FileNotFoundError:
            return set()

    # ---- sizes --------------------------------------------------------------

    def _sizes_path(self):
        return self.env.path("var/lib/pve-sim/volume-sizes.json")

    def _sizes(self):
        try:
            with open(self._sizes_path()) as f:
                return json.load(f)
        except (OSError, ValueError):
            return {}

    def _set_size(self, volid, size):
        sizes = self._sizes()
        if size is None:
            sizes.pop(volid, None)
        else:
            sizes[volid] = int(size)
        os.makedirs(os.path.dirname(self._sizes_path()), exist_ok=True)
        tmp = self._sizes_path() + f".{os.getpid()}"
        with open(tmp, "w") as f:
            json.dump(sizes, f)
        os.rename(tmp, self._sizes_path())

    def size_info(self, volid):
        """PVE::Storage::volume_size_info: bytes, or None when unknown."""
        return self._sizes().get(volid)

    def status(self, sid):
        """(total, avail, used) in bytes, as the storage plugin reports them:
        the file system holding the storage; a thick LVM volume group loses
        the full size of every volume."""
        d = self._dir(sid)
        p = d
        while not os.path.exists(p):
            p = os.path.dirname(p)
        st = os.statvfs(p)
        total = st.f_blocks * st.f_frsize
        if self.config(sid)["type"] == "lvm":
            used = sum(size for volid, size in self._sizes().items()
                       if volid.startswith(f"{sid}:"))
            return total, max(total - used, 0), used
        return total, st.f_bavail * st.f_frsize, total - st.f_bfree * st.f_frsize

    def resize(self, volid, size):
        """PVE::Storage::volume_resize to size bytes (a worker's step: its
        output is task output)."""
        sid, volname = self.parse_volume_id(volid)
        scfg = self.config(sid)
        typ = scfg["type"]
        _vtype, name, _owner = self.parse_volname(sid, volname)
        old = self.size_info(volid) or 0
        if typ in ("lvmthin", "lvm"):
            vg = scfg.get("vgname", sid)
            path = f"/dev/{vg}/{name}"
            extents = -(-size // (4 << 20))
            if typ == "lvm":
                _total, free, _used = self.status(sid)
                need = extents - old // (4 << 20)
                if size - old > free:
                    raise PveError(f"error resizing volume '{path}':   Insufficient free space: "
                                   f"{need} extents needed, but only {free // (4 << 20)} "
                                   "available\n")
            out(f"  Size of logical volume {vg}/{name} changed from {_lvm_size(old)} "
                f"({old // (4 << 20)} extents) to {_lvm_size(size)} ({extents} extents).")
            out(f"  Logical volume {vg}/{name} successfully resized.")
        self._set_size(volid, size)

    # ---- allocation -------------------------------------------------------

    def alloc(self, sid, vmid, size_gib, rootuid=0, rootgid=0):
        """Allocate a new volume of size_gib on storage sid; returns volid."""
        scfg = self.config(sid)
        typ = scfg["type"]
        if typ == "lvm":
            _total, free, _used = self.status(sid)
            if free < int(size_gib * (1 << 30)):
                # LVMPlugin alloc_lvm_image compares bytes with KiB
                raise PveError(f"not enough free space ({free} < {int(size_gib * (1 << 20))})\n")
        existing = self._existing_names(sid, vmid)
        n = 0
        while True:
            if typ in ("lvmthin", "lvm"):
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
        volid = f"{sid}:{name}" if typ in ("lvmthin", "lvm", "zfspool") else f"{sid}:{vmid}/{name}"
        path = self.path(volid)
        os.makedirs(os.path.dirname(path), exist_ok=True)
        os.mkdir(path, 0o755)
        os.chown(path, rootuid, rootgid)
        self._set_size(volid, int(size_gib * (1 << 30)))
        if typ in ("lvmthin", "lvm"):
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
            if self.config(sid)["type"] in ("lvmthin", "lvm"):
                out(f'  Logical volume "{os.path.basename(path)}" successfully removed.')
        self._set_size(volid, None)
        parent = os.path.dirname(path)
        if self.config(sid)["type"] not in ("lvmthin", "lvm", "zfspool"):
            try:
                os.rmdir(parent)
            except OSError:
                pass

    def template_list(self, sid):
        scfg = self.enabled(sid)
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
