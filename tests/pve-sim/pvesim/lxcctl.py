# SPDX-License-Identifier: LGPL-2.1-or-later
"""Running the containers with the LXC tools, on a private lxcpath.

Like pve-container@.service, the double runs `lxc-start -F` as the
container's monitor (detached, stderr to run/pve/ct-<vmid>.stderr). When
PVE_SIM_NETNS names a network namespace, the monitor and every LXC tool
that talks to it run inside that namespace (nsenter --net): the host side
veths are created there, next to the sandbox's ovs-vswitchd, and LXC's
abstract command socket is only reachable from there. Which namespace a CT
was started in is remembered in run/pve-sim/ct-<vmid>.json.
"""

import json
import os
import re
import shlex
import subprocess
import sys
import time

from . import conf as confmod
from . import schema
from .env import SIM_DIR, out
from .errors import PveError
from .network import Net, poststop_cleanup
from .setup import Setup

LXC_CONFIG_DIR = "/usr/share/lxc/config"
START_TIMEOUT = 10


# ---- run state --------------------------------------------------------------------


def load_runstate(env, vmid):
    try:
        with open(env.runstate_path(vmid)) as f:
            return json.load(f)
    except (OSError, ValueError):
        return None


def save_runstate(env, vmid, state):
    path = env.runstate_path(vmid)
    tmp = path + ".tmp"
    with open(tmp, "w") as f:
        json.dump(state, f)
    os.rename(tmp, path)


def clear_runstate(env, vmid):
    try:
        os.unlink(env.runstate_path(vmid))
    except FileNotFoundError:
        pass


def _proc_starttime(pid):
    try:
        with open(f"/proc/{pid}/stat") as f:
            stat = f.read()
    except OSError:
        return None
    fields = stat.rsplit(")", 1)[1].split()
    if fields[0] in ("Z", "X"):
        return None
    return fields[19]


def monitor_alive(state):
    if not state or not state.get("pid"):
        return False
    return _proc_starttime(state["pid"]) == state.get("starttime")


def check_running(env, vmid):
    """True while the CT's monitor (lxc-start) exists, i.e. while LXC's
    command socket for it would exist - the test PVE::LXC::check_running
    makes."""
    return monitor_alive(load_runstate(env, vmid))


def netns_of(env, vmid):
    state = load_runstate(env, vmid) or {}
    return state.get("netns", env.netns)


def lxc_argv(env, tool, vmid, *args, netns=None):
    return env.netns_prefix(netns) + [tool, "-P", env.lxcpath, "-n", str(vmid), *args]


LXC_LOCK_ROOT = "/run/lxc/lock"


def remove_lxc_lock(env, vmid):
    """LXC keeps a lock file per container in /run/lxc/lock/<lxcpath>/;
    remove ours and the then empty directories of our lxcpath."""
    d = LXC_LOCK_ROOT + env.lxcpath
    try:
        os.unlink(os.path.join(d, f".{vmid}"))
    except FileNotFoundError:
        pass
    while d.startswith(LXC_LOCK_ROOT + "/") and d != LXC_LOCK_ROOT:
        try:
            os.rmdir(d)
        except OSError:
            break
        d = os.path.dirname(d)


def find_lxc_pid(env, vmid):
    netns = netns_of(env, vmid)
    res = subprocess.run(lxc_argv(env, "lxc-info", vmid, "-p", "-H", netns=netns),
                         capture_output=True, text=True, stdin=subprocess.DEVNULL)
    pid = res.stdout.strip()
    if res.returncode != 0 or not pid.isdigit():
        raise PveError(f"unable to get PID for CT {vmid} (not running?)\n")
    return int(pid)


# ---- generated LXC configuration ---------------------------------------------------


def devices_cgroup_is_v1():
    try:
        with open("/proc/self/cgroup") as f:
            for line in f:
                parts = line.strip().split(":", 2)
                if len(parts) == 3 and "devices" in parts[1].split(","):
                    return True
    except OSError:
        pass
    return False


def hook_cmd(env, name):
    return " ".join(shlex.quote(x) for x in (sys.executable, os.path.join(SIM_DIR, name), env.root))


def nets_of(conf):
    res = []
    for key in conf:
        m = re.fullmatch(r"net(\d+)", key)
        if m and conf[key] is not None:
            res.append((int(m.group(1)), schema.parse_net(conf[key])))
    return sorted(res, key=lambda x: x[0])


def root_ids(conf):
    """Host uid/gid of the container's root."""
    custom = [v for k, v in conf.get("lxc") or [] if k == "lxc.idmap"]
    if custom:
        uid = gid = 0
        for entry in custom:
            f = entry.split()
            if len(f) == 4 and f[1] == "0":
                if f[0] == "u":
                    uid = int(f[2])
                elif f[0] == "g":
                    gid = int(f[2])
        return uid, gid
    if conf.get("unprivileged") == "1":
        return 100000, 100000
    return 0, 0


def update_lxc_config(env, vmid, conf, storage, netns):
    """PVE::LXC::update_lxc_config: write <lxcpath>/<vmid>/config."""
    d = os.path.join(env.lxcpath, str(vmid))
    os.makedirs(d, exist_ok=True)
    if conf.get("template") == "1":
        try:
            os.unlink(os.path.join(d, "config"))
        except FileNotFoundError:
            pass
        return
    arch = conf.get("arch")
    if not arch:
        raise PveError("missing 'arch' - internal error")
    ostype = conf.get("ostype")
    if not ostype:
        raise PveError("missing 'ostype' - internal error")
    raw_lxc = conf.get("lxc") or []
    unpriv = conf.get("unprivileged") == "1"
    custom_idmap = any(k == "lxc.idmap" for k, _v in raw_lxc)
    raw = f"lxc.arch = {arch}\n"
    inc = f"{LXC_CONFIG_DIR}/{ostype}.common.conf"
    if not os.path.isfile(inc):
        inc = f"{LXC_CONFIG_DIR}/common.conf"
    raw += f"lxc.include = {inc}\n"
    if unpriv or custom_idmap:
        inc = f"{LXC_CONFIG_DIR}/{ostype}.userns.conf"
        if not os.path.isfile(inc):
            inc = f"{LXC_CONFIG_DIR}/userns.conf"
        raw += f"lxc.include = {inc}\n"
    if unpriv and not custom_idmap:
        raw += "lxc.idmap = u 0 100000 65536\nlxc.idmap = g 0 100000 65536\n"
    if conf.get("console") == "0":
        raw += "lxc.console.path = none\n"
    raw += f"lxc.tty.max = {confmod.get_tty_count(conf)}\n"
    raw += "lxc.environment = TERM=linux\n"
    raw += f"lxc.uts.name = {conf.get('hostname') or f'CT{vmid}'}\n"
    features = schema.parse_features(conf.get("features"))
    if features.get("nesting") == "1":
        raw += f"lxc.include = {LXC_CONFIG_DIR}/nesting.conf\n"

    rootfs = schema.parse_volume("rootfs", conf["rootfs"]) if conf.get("rootfs") else None
    if not rootfs:
        raise PveError("missing 'rootfs' configuration\n")
    rootpath = volume_path(storage, rootfs["volume"])
    # busybox init halts on SIGUSR1 (LXC's default SIGPWR is ignored by it)
    init = os.path.realpath(os.path.join(rootpath, "sbin/init"))
    if init.startswith(rootpath) and os.path.basename(init) == "busybox":
        raw += "lxc.signal.halt = SIGUSR1\n"
    raw += f"lxc.rootfs.path = dir:{rootpath}\n"
    if rootfs.get("ro") == "1":
        raw += "lxc.rootfs.options = ro\n"

    for key in sorted((k for k in conf if re.fullmatch(r"mp\d+", k)), key=lambda k: int(k[2:])):
        mp = schema.parse_volume(key, conf[key])
        src = mp["volume"] if mp["type"] != "volume" else volume_path(storage, mp["volume"])
        opts = "bind,create=dir" + (",ro" if mp.get("ro") == "1" else "")
        raw += f"lxc.mount.entry = {src} {mp['mp'].lstrip('/')} none {opts} 0 0\n"
    cgroup_lines = []
    for key in sorted((k for k in conf if re.fullmatch(r"dev\d+", k)), key=lambda k: int(k[3:])):
        dev = schema.parse_device(conf[key])
        path = dev["path"]
        try:
            st = os.stat(path)
        except OSError:
            raise PveError(f"Device {path} does not exist\n")
        kind = "c" if (st.st_mode & 0o170000) == 0o020000 else "b"
        perms = "rm" if dev.get("deny-write") == "1" else "rwm"
        cgroup_lines.append(("lxc.cgroup2.devices.allow",
                             f"{kind} {os.major(st.st_rdev)}:{os.minor(st.st_rdev)} {perms}"))
        create = "file" if kind == "c" else "file"
        raw += f"lxc.mount.entry = {path} {path.lstrip('/')} none bind,create={create} 0 0\n"

    nets = Net(env, netns)
    for idx, net in nets_of(conf):
        raw += f"lxc.net.{idx}.type = veth\n"
        raw += f"lxc.net.{idx}.veth.pair = veth{vmid}i{idx}\n"
        if net.get("hwaddr"):
            raw += f"lxc.net.{idx}.hwaddr = {net['hwaddr']}\n"
        if net.get("name"):
            raw += f"lxc.net.{idx}.name = {net['name']}\n"
        if net.get("mtu"):
            raw += f"lxc.net.{idx}.mtu = {net['mtu']}\n"
        elif net.get("bridge"):
            raw += f"lxc.net.{idx}.mtu = {nets.read_bridge_mtu(net['bridge'])}\n"
        raw += f"lxc.net.{idx}.script.up = {hook_cmd(env, 'lxcnetaddbr')}\n"
    raw += f"lxc.hook.post-stop = {hook_cmd(env, 'lxc-pve-poststop-hook')}\n"

    for variable in re.split(r"\0+", conf.get("env") or ""):
        if variable:
            raw += f"lxc.environment.runtime = {variable}\n"
    mirror = devices_cgroup_is_v1()
    for k, v in cgroup_lines + [tuple(e) for e in raw_lxc]:
        raw += f"{k} = {v}\n"
        if mirror and k.startswith("lxc.cgroup2.devices."):
            # This host has the cgroup v1 devices controller (hybrid
            # layout); Proxmox VE 8/9 hosts are pure cgroup v2. Apply the
            # device rules where the kernel enforces them here.
            raw += f"lxc.cgroup.devices.{k[len('lxc.cgroup2.devices.'):]} = {v}\n"
    with open(os.path.join(d, "config"), "w") as f:
        f.write(raw)
    return raw


def volume_path(storage, volid):
    if volid.startswith("/"):
        return volid
    return storage.path(volid)


def check_traversable(path, uid):
    """An unprivileged CT's root (uid 100000) must reach its rootfs."""
    if uid == 0:
        return
    p = os.path.dirname(os.path.abspath(path))
    while p and p != "/":
        st = os.stat(p)
        if not st.st_mode & 0o001 and st.st_uid != uid:
            raise PveError(f"directory '{p}' is not searchable by others: unprivileged "
                           "containers need every parent of their rootfs to be (chmod o+x)\n")
        p = os.path.dirname(p)


# ---- start / stop ----------------------------------------------------------------------


def print_ct_stderr_log(env, vmid):
    try:
        with open(env.stderr_log(vmid), errors="replace") as f:
            log = f.read()
    except OSError:
        return
    for line in log.splitlines():
        m = re.fullmatch(rf"\s*(lxc-start:?\s+{vmid}:?\s*\S+\s*)?(.*?)\s*", line)
        out(m.group(2) if m else line)


def vm_start(env, vmid, conf, storage, debug=False):
    """PVE::LXC::vm_start (after the pending changes were applied)."""
    netns = env.netns
    if not env.netns_exists(netns):
        raise PveError(f"network namespace '{netns}' does not exist\n")
    update_lxc_config(env, vmid, conf, storage, netns)
    rootfs = schema.parse_volume("rootfs", conf["rootfs"])
    rootpath = volume_path(storage, rootfs["volume"])
    uid, gid = root_ids(conf)
    check_traversable(rootpath, uid)
    # lxc-pve-prestart-hook: the setup plugin rewrites the managed files
    Setup(rootpath, conf, vmid, uid, gid).run(nets_of(conf))

    state = {"netns": netns, "ovsdb": env.ovsdb, "pid": None, "starttime": None}
    save_runstate(env, vmid, state)
    log = env.stderr_log(vmid)
    try:
        os.unlink(log)
    except FileNotFoundError:
        pass
    argv = lxc_argv(env, "lxc-start", vmid, "-F", netns=netns)
    if debug or conf.get("debug") == "1":
        argv += ["-l", "DEBUG", "-o", "/dev/stderr"]
    env.log_command(argv, netns)
    with open(log, "w") as errf:
        proc = subprocess.Popen(argv, stdin=subprocess.DEVNULL, stdout=subprocess.DEVNULL,
                                stderr=errf, start_new_session=True, close_fds=True)
    state["pid"] = proc.pid
    for _ in range(100):
        state["starttime"] = _proc_starttime(proc.pid)
        if state["starttime"]:
            break
        time.sleep(0.01)
    save_runstate(env, vmid, state)

    deadline = time.monotonic() + START_TIMEOUT
    ok = False
    while time.monotonic() < deadline:
        if proc.poll() is not None:
            break
        res = subprocess.run(lxc_argv(env, "lxc-info", vmid, "-s", "-H", netns=netns),
                             capture_output=True, text=True, stdin=subprocess.DEVNULL)
        st = res.stdout.strip()
        if st == "RUNNING":
            ok = True
            break
        time.sleep(0.05)
    if not ok:
        if proc.poll() is None:
            subprocess.run(lxc_argv(env, "lxc-stop", vmid, "--kill", netns=netns),
                           capture_output=True, stdin=subprocess.DEVNULL)
            try:
                proc.wait(10)
            except subprocess.TimeoutExpired:
                proc.kill()
                proc.wait()
        poststop_cleanup(env, vmid, conf, netns, env.ovsdb)
        clear_runstate(env, vmid)
        print_ct_stderr_log(env, vmid)
        raise PveError(f"startup for container '{vmid}' failed\n")
    if debug or conf.get("debug") == "1":
        print_ct_stderr_log(env, vmid)
    configure_guest_network(env, vmid, conf, netns)


def attach_network(env, vmid, netns, batch):
    """Run `ip -batch` in the CT's network namespace (host ip binary, like
    `lxc-attach -s NETWORK -- /sbin/ip ...` in Proxmox)."""
    argv = lxc_argv(env, "lxc-attach", vmid, "-s", "NETWORK", "--clear-env", "--",
                    "ip", "-force", "-batch", "-", netns=netns)
    res = subprocess.run(argv, input=batch, capture_output=True, text=True)
    return res


def configure_guest_network(env, vmid, conf, netns):
    """What the distribution's network service does with the configuration
    Proxmox wrote: bring the NICs up and apply static addresses/gateways.
    (DHCP and SLAAC are not emulated.)"""
    cmds = ["link set lo up"]
    for _idx, net in nets_of(conf):
        name = net.get("name")
        cmds.append(f"link set {name} up")
        ip, gw = net.get("ip"), net.get("gw")
        if ip and ip not in ("dhcp", "manual"):
            cmds.append(f"addr add {ip} dev {name}")
            if gw:
                cmds.append(f"route add default via {gw} dev {name} onlink")
        ip6, gw6 = net.get("ip6"), net.get("gw6")
        if ip6 and ip6 not in ("dhcp", "manual", "auto"):
            cmds.append(f"addr add {ip6} dev {name} nodad")
            if gw6:
                cmds.append(f"route add default via {gw6} dev {name}")
    attach_network(env, vmid, netns, "\n".join(cmds) + "\n")


def wait_monitor_exit(env, vmid, timeout):
    state = load_runstate(env, vmid)
    deadline = time.monotonic() + timeout
    while monitor_alive(state):
        if time.monotonic() > deadline:
            return False
        time.sleep(0.05)
    return True


def vm_stop(env, vmid, kill, shutdown_timeout=None, kill_after_timeout=False):
    """PVE::LXC::vm_stop."""
    state = load_runstate(env, vmid)
    if not monitor_alive(state):
        return
    netns = state.get("netns")
    cmd = ["lxc-stop"]
    if kill:
        cmd.append("--kill")
    else:
        if not kill_after_timeout:
            cmd.append("--nokill")
        if shutdown_timeout is not None:
            cmd += ["--timeout", str(shutdown_timeout)]
    wait = (shutdown_timeout or 0) + 10
    argv = lxc_argv(env, cmd[0], vmid, *cmd[1:], netns=netns)
    env.log_command(argv, netns)
    res = subprocess.run(argv, capture_output=True, text=True, stdin=subprocess.DEVNULL)
    if res.returncode != 0:
        msg = (res.stderr.strip() + "\n") if res.stderr.strip() else ""
        if msg:
            out(msg.rstrip("\n"))
        if not wait_monitor_exit(env, vmid, 1 if not kill_after_timeout else wait):
            raise PveError("container did not stop\n")
    elif not wait_monitor_exit(env, vmid, wait):
        raise PveError("container did not stop\n")
    clear_runstate(env, vmid)
