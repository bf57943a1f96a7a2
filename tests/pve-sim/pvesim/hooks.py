# SPDX-License-Identifier: LGPL-2.1-or-later
"""LXC hooks of the double (the counterparts of Proxmox's lxcnetaddbr and
lxc-pve-poststop-hook). LXC runs them from the container's monitor, i.e.
inside the simulated node's network namespace."""

import os
import sys

from .errors import PveError


def _env(root):
    os.environ["PVE_SIM_ROOT"] = root
    from .env import Env
    return Env()


def lxcnetaddbr(argv):
    from . import conf as confmod
    from .network import net_up_hook
    try:
        if len(argv) != 6:
            raise PveError("got unexpected argument count\n")
        root, vmid, arg2, arg3, typ, iface = argv
        if arg2 != "net":
            raise PveError(f"got unexpected argument ({arg2} != net)\n")
        if arg3 != "up":
            raise PveError(f"got unexpected argument ({arg3} != up)\n")
        if typ != "veth":
            raise PveError(f"got unexpected argument ({typ} != veth)\n")
        env = _env(root)
        conf = confmod.load_config(env, vmid)
        net_up_hook(env, vmid, iface, conf)
    except PveError as e:
        sys.stderr.write(str(e))
        return 255
    return 0


def poststop(argv):
    from . import conf as confmod
    from .lxcctl import load_runstate
    from .network import poststop_cleanup
    try:
        root, vmid = argv[0], argv[1]
        env = _env(root)
        conf = confmod.load_config(env, vmid)
        state = load_runstate(env, vmid) or {}
        poststop_cleanup(env, vmid, conf, None, state.get("ovsdb", env.ovsdb))
    except PveError as e:
        sys.stderr.write(str(e))
        return 255
    return 0
