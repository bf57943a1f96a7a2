# SPDX-License-Identifier: LGPL-2.1-or-later
"""setns(2) for push/pull: enter a container's mount (and user) namespace in
a forked child, like pct's push/pull workers do."""

import ctypes
import ctypes.util
import os
import re

CLONE_NEWNS = 0x00020000
CLONE_NEWUSER = 0x10000000

_libc = ctypes.CDLL(ctypes.util.find_library("c") or "libc.so.6", use_errno=True)


def setns(fd, nstype):
    if _libc.setns(fd, nstype) != 0:
        e = ctypes.get_errno()
        raise OSError(e, os.strerror(e))


def run_in_child(func):
    """Run func() in a forked child. func returns an error message (str) or
    None; the message is passed back to the parent and returned."""
    rfd, wfd = os.pipe()
    pid = os.fork()
    if pid == 0:
        os.close(rfd)
        msg = None
        try:
            msg = func()
        except BaseException as e:  # noqa: BLE001 - report anything to the parent
            msg = f"{e}\n"
        if msg:
            os.write(wfd, msg.encode("utf-8", errors="replace"))
        os.close(wfd)
        os._exit(0)
    os.close(wfd)
    chunks = []
    while True:
        data = os.read(rfd, 65536)
        if not data:
            break
        chunks.append(data)
    os.close(rfd)
    os.waitpid(pid, 0)
    text = b"".join(chunks).decode("utf-8", errors="replace")
    return text or None


def strerror(e):
    return os.strerror(e.errno) if isinstance(e, OSError) and e.errno else str(e)


def create_file(path, perms, user, group, passwd_lookup):
    """pct.pm create_file: returns an open fd or raises RuntimeError with
    Proxmox's message."""
    uid = gid = None
    if user is not None:
        if user.isdigit():
            uid = int(user)
        else:
            uid = passwd_lookup("passwd", user)
            if uid is None:
                raise RuntimeError(f"failed to get uid for: {user}\n")
    if group is not None:
        if group.isdigit():
            gid = int(group)
        else:
            gid = passwd_lookup("group", group)
            if gid is None:
                raise RuntimeError(f"failed to get gid for: {group}\n")
    mode = None
    if perms is not None:
        if re.fullmatch(r"0[xX][0-9a-fA-F]+", perms):
            mode = int(perms, 16)
        elif re.fullmatch(r"0[0-7]*", perms):
            mode = int(perms, 8)
        elif re.fullmatch(r"[1-9][0-9]*", perms):
            mode = int(perms)
        else:
            raise RuntimeError(f"invalid mode: '{perms}'\n")
    try:
        fd = os.open(path, os.O_WRONLY | os.O_CREAT | os.O_EXCL, 0)
        if mode is None:
            umask = os.umask(0)
            os.umask(umask)
            mode = 0o666 & ~umask
    except OSError:
        try:
            fd = os.open(path, os.O_WRONLY | os.O_CREAT | os.O_TRUNC)
        except OSError as e:
            raise RuntimeError(f"failed to create file: {path}: {strerror(e)}\n")
    if mode is not None:
        os.fchmod(fd, mode)
    if uid is not None or gid is not None:
        st = os.fstat(fd)
        try:
            os.fchown(fd, st.st_uid if uid is None else uid, st.st_gid if gid is None else gid)
        except OSError as e:
            raise RuntimeError(f"failed to change file owner: {strerror(e)}\n")
    return fd


def etc_lookup(kind, name):
    """getpwnam/getgrnam on the current root's /etc files."""
    try:
        with open(f"/etc/{kind}") as f:
            for line in f:
                fields = line.rstrip("\n").split(":")
                if len(fields) >= 3 and fields[0] == name and fields[2].isdigit():
                    return int(fields[2])
    except OSError:
        pass
    return None


def copy_fd(src, dst):
    while True:
        data = os.read(src, 1 << 16)
        if not data:
            break
        view = memoryview(data)
        while view:
            n = os.write(dst, view)
            view = view[n:]

