# SPDX-License-Identifier: LGPL-2.1-or-later
"""Build a container template (a rootfs tarball) from Debian's static
busybox.

The template's file name decides which distribution it pretends to be, the
way Proxmox detects it after extraction:

  debian-<version>-...   /etc/debian_version = <version>    -> ostype debian
  ubuntu-<version>-...   /etc/lsb-release (DISTRIB_ID=Ubuntu) -> ubuntu
  alpine-<version>-...   /etc/alpine-release                 -> alpine
  anything else          no marker: create with --ostype unmanaged

Inside there is only busybox: /sbin/init is busybox init, running
/etc/init.d/rcS and nothing else; `sh`, `ip`, `cat`, ... are applets.
"""

import os
import re
import shutil
import stat
import struct
import subprocess
import tempfile

BUSYBOX = "/bin/busybox"

INITTAB = """\
::sysinit:/etc/init.d/rcS
::shutdown:/bin/umount -a -r
"""

RCS = """\
#!/bin/sh
mount -t tmpfs -o mode=0755,nosuid,nodev tmpfs /run 2>/dev/null
mkdir -p /run/network /var/log
ip link set lo up 2>/dev/null
"""


def _marker_files(name):
    m = re.match(r"(debian|ubuntu|alpine|devuan)-([0-9.]+)", name)
    files = {}
    if not m:
        files["etc/os-release"] = 'NAME="BusyBox"\nID=busybox\n'
        return files
    dist, ver = m.group(1), m.group(2)
    point = re.search(r"_([0-9][0-9.]*)-", name)
    full = point.group(1) if point else ver
    if dist == "debian":
        files["etc/debian_version"] = f"{full}\n"
        files["etc/os-release"] = (f'PRETTY_NAME="Debian GNU/Linux {ver} (busybox test image)"\n'
                                   f'NAME="Debian GNU/Linux"\nVERSION_ID="{ver}"\nID=debian\n')
    elif dist == "devuan":
        files["etc/devuan_version"] = f"{full}\n"
        files["etc/debian_version"] = f"{full}\n"
        files["etc/os-release"] = f'NAME="Devuan GNU/Linux"\nVERSION_ID="{ver}"\nID=devuan\n'
    elif dist == "ubuntu":
        files["etc/debian_version"] = "trixie/sid\n"
        files["etc/lsb-release"] = (f"DISTRIB_ID=Ubuntu\nDISTRIB_RELEASE={ver}\n"
                                    f'DISTRIB_DESCRIPTION="Ubuntu {ver}"\n')
        files["etc/os-release"] = f'NAME="Ubuntu"\nVERSION_ID="{ver}"\nID=ubuntu\n'
    else:
        files["etc/alpine-release"] = f"{full}\n"
        files["etc/os-release"] = f'NAME="Alpine Linux"\nVERSION_ID={full}\nID=alpine\n'
    return files


def _is_static(path):
    """True if the ELF file has no program interpreter (PT_INTERP)."""
    with open(path, "rb") as f:
        hdr = f.read(64)
        if hdr[:4] != b"\x7fELF" or hdr[4] != 2:
            return False
        phoff, = struct.unpack_from("<Q", hdr, 32)
        phentsize, phnum = struct.unpack_from("<HH", hdr, 54)
        f.seek(phoff)
        for _ in range(phnum):
            ph = f.read(phentsize)
            if struct.unpack_from("<I", ph, 0)[0] == 3:
                return False
    return True


def build_rootfs(root, name="busybox.tar.gz"):
    if not _is_static(BUSYBOX):
        raise RuntimeError(f"{BUSYBOX} is not statically linked: install busybox-static")
    for d in ("bin", "sbin", "usr/bin", "usr/sbin", "etc/init.d", "etc/network", "dev",
              "proc", "sys", "run", "root", "home", "mnt", "var/log", "var/tmp", "lib"):
        os.makedirs(os.path.join(root, d), exist_ok=True)
    os.chmod(os.path.join(root, "root"), 0o700)
    tmp = os.path.join(root, "tmp")
    os.makedirs(tmp, exist_ok=True)
    os.chmod(tmp, 0o1777)
    os.symlink("../run", os.path.join(root, "var/run"))
    shutil.copy2(BUSYBOX, os.path.join(root, "bin/busybox"))
    applets = subprocess.run([BUSYBOX, "--list-full"], capture_output=True, text=True,
                             check=True).stdout.split()
    for path in applets:
        link = os.path.join(root, path)
        if path == "bin/busybox" or os.path.lexists(link):
            continue
        os.symlink("/bin/busybox", link)
    files = {
        "etc/inittab": INITTAB,
        "etc/passwd": "root:x:0:0:root:/root:/bin/sh\nnobody:x:65534:65534:nobody:/nonexistent:/bin/false\n",
        "etc/group": "root:x:0:\nnogroup:x:65534:\n",
        "etc/shadow": "root:*:19000:0:99999:7:::\nnobody:*:19000:0:99999:7:::\n",
        "etc/hostname": "localhost\n",
        "etc/hosts": "127.0.0.1\tlocalhost\n",
        "etc/network/interfaces": "auto lo\niface lo inet loopback\n",
        "etc/resolv.conf": "",
        "etc/fstab": "",
    }
    files.update(_marker_files(name))
    for rel, content in files.items():
        with open(os.path.join(root, rel), "w") as f:
            f.write(content)
    os.chmod(os.path.join(root, "etc/shadow"), 0o640)
    rcs = os.path.join(root, "etc/init.d/rcS")
    with open(rcs, "w") as f:
        f.write(RCS)
    os.chmod(rcs, 0o755)


def build(output):
    """Write a template tarball to output; compression from the suffix."""
    name = os.path.basename(output)
    with tempfile.TemporaryDirectory(prefix="pve-sim-tmpl-") as tmp:
        root = os.path.join(tmp, "rootfs")
        os.mkdir(root)
        build_rootfs(root, name)
        comp = []
        if name.endswith(".zst"):
            comp = ["--zstd"]
        elif name.endswith(".gz"):
            comp = ["-z"]
        elif name.endswith(".xz"):
            comp = ["-J"]
        elif name.endswith(".bz2"):
            comp = ["-j"]
        subprocess.run(["tar", "-c", *comp, "-f", output, "--numeric-owner", "--owner=0",
                        "--group=0", "-C", root, "."], check=True)
    os.chmod(output, stat.S_IRUSR | stat.S_IWUSR | stat.S_IRGRP | stat.S_IROTH)
    return output
