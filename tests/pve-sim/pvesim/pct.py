# SPDX-License-Identifier: LGPL-2.1-or-later
"""The pct commands (PVE::CLI::pct and the API methods behind them)."""

import os
import re
import subprocess
import sys

from . import conf as confmod
from . import ha, lxcctl, nsutil, schema
from .cli import Cli, Command
from .env import ConfigLock, Env, Worker, out, warn
from .errors import PCT_PM, PveError, WorkerExit, raise_param_exc
from .network import Net
from .setup import Setup, detect_architecture, detect_ostype
from .storage import Storage

# Every command Proxmox's pct defines; needed for unique-prefix expansion.
PCT_COMMANDS = [
    "clone", "config", "console", "cpusets", "create", "delsnapshot", "destroy", "df",
    "enter", "exec", "fsck", "fstrim", "list", "listsnapshot", "migrate", "mount",
    "move-volume", "pending", "pull", "push", "reboot", "remote-migrate", "rescan", "resize",
    "restore", "resume", "rollback", "set", "shutdown", "snapshot", "start", "status", "stop",
    "suspend", "template", "unlock", "unmount",
]

NEW_DISK_RE = re.compile(r"(?:([^/:\s]+):)?(\d+(?:\.\d+)?)")

FASTPLUG = {"description", "onboot", "startup", "protection", "hostname", "hookscript",
            "cores", "tags", "lock"}

_env = None


def env():
    global _env
    if _env is None:
        _env = Env()
    return _env


def B(**kw):
    """An optional boolean parameter."""
    d = {"type": "boolean", "optional": 1}
    d.update(kw)
    return d


VMID = dict(schema.VMID_PARAM)

# ---- workers ----------------------------------------------------------------------


def run_worker(func, noexit=False):
    """fork_worker in CLI (synchronous) mode: the task's output goes to
    stdout; on failure the error text goes to stderr with newlines turned
    into spaces, and the exit code is 255 (0 for workers without exit
    handler: push, pull, pveam download)."""
    Worker.active = True
    try:
        func()
    except (PveError, OSError) as e:
        sys.stdout.flush()
        text = str(e) if isinstance(e, PveError) else f"{e}\n"
        if text.endswith("\n"):
            text = text[:-1]
        text = text.replace("\n", " ")
        sys.stderr.write(text + "\n")
        sys.stderr.flush()
        raise WorkerExit(0 if noexit else 255)
    finally:
        Worker.active = False
    return 0


def wwarn(text):
    """Perl warn: inside a worker it is part of the task output (stdout)."""
    if Worker.active:
        out(text.rstrip("\n"))
    else:
        warn(text)


# ---- helpers ------------------------------------------------------------------------


def get_unique_tags(value):
    seen = {}
    for tag in schema.split_list(value):
        seen.setdefault(tag.lower(), tag.lower())
    return ";".join(sorted(seen))


def verify_nameserver_list(value):
    for server in schema.split_list(value):
        schema.verify_ip_with_ll_iface(server)
    return " ".join(schema.split_list(value))


def verify_searchdomain_list(value):
    return " ".join(schema.split_list(value))


def check_vmid_unused(e, vmid):
    owner = e.guest_owner(vmid)
    if owner:
        typ, node = owner
        kind = "VM" if typ == "qemu" else "CT"
        raise PveError(f"{kind} {vmid} already exists on node '{node}'\n")


def volume_belongs_to(storage, volid, vmid):
    try:
        sid, volname = storage.parse_volume_id(volid)
        _vt, _name, owner = storage.parse_volname(sid, volname)
        return owner == str(vmid)
    except PveError:
        return False


def add_unused_volume(conf, volid):
    for i in range(schema.MAX_UNUSED):
        key = f"unused{i}"
        if conf.get(key) == volid:
            return key
    for i in range(schema.MAX_UNUSED):
        key = f"unused{i}"
        if key not in conf:
            conf[key] = volid
            return key
    raise PveError("Too many unused volumes - please delete them first.\n")


def apply_pending_mountpoint(e, storage, vmid, conf, opt, running):
    mp = schema.parse_volume(opt, conf["pending"][opt])
    m = NEW_DISK_RE.fullmatch(mp["volume"])
    if mp["type"] == "volume" and m:
        sid = m.group(1)
        size = float(m.group(2))
        scfg = storage.config(sid)
        if "rootdir" not in scfg["content"]:
            raise PveError(f"storage '{sid}' does not allow content type 'rootdir' (Container)\n")
        uid, gid = lxcctl.root_ids(conf)
        volid = storage.alloc(sid, vmid, size, uid, gid)
        mp["volume"] = volid
        mp["size"] = int(size * (1 << 30))
        conf["pending"][opt] = schema.print_volume(opt, mp)
    if conf.get(opt):
        old = schema.parse_volume(opt, conf[opt])
        if old["type"] == "volume" and old["volume"] != mp["volume"]:
            add_unused_volume(conf, old["volume"])


def apply_pending(e, storage, vmid, conf, selection, errors):
    """Config::vmconfig_apply_pending."""
    pending = conf["pending"]
    for opt in sorted(confmod.parse_pending_delete(pending.get("delete"))):
        if selection is not None and opt not in selection:
            continue
        try:
            if re.fullmatch(r"mp\d+", opt):
                mp = schema.parse_volume(opt, conf[opt])
                if mp["type"] == "volume":
                    add_unused_volume(conf, mp["volume"])
            elif re.fullmatch(r"unused\d+", opt):
                vol = schema.parse_volume(opt, conf[opt])["volume"]
                if volume_belongs_to(storage, vol, vmid):
                    storage.free(vol)
        except PveError as err:
            msg = f"unable to apply pending change {opt} : {err}"
            errors[opt] = msg
            wwarn(msg)
            continue
        conf.pop(opt, None)
        confmod.remove_from_pending_delete(conf, opt)
    confmod.cleanup_pending(conf)
    for opt in sorted(pending):
        if opt == "delete":
            continue
        if selection is not None and opt not in selection:
            continue
        try:
            if re.fullmatch(r"mp\d+", opt):
                apply_pending_mountpoint(e, storage, vmid, conf, opt, False)
            elif re.fullmatch(r"net\d+", opt):
                pending[opt] = schema.print_net(schema.parse_net(pending[opt]))
        except PveError as err:
            msg = f"unable to apply pending change {opt} : {err}"
            errors[opt] = msg
            wwarn(msg)
            continue
        conf[opt] = pending.pop(opt)


def hotplug_net(e, vmid, conf, opt, net, netid, netns):
    veth = f"veth{vmid}i{netid}"
    peer = veth + "p"
    nets = Net(e, netns)
    mtu = int(net["mtu"]) if net.get("mtu") else nets.read_bridge_mtu(net.get("bridge") or "")
    nets.veth_create(veth, peer, net.get("bridge"), net.get("hwaddr"), mtu)
    if not net.get("link_down") == "1":
        nets.tap_plug(veth, net["bridge"], net.get("tag"), net.get("firewall") == "1",
                      net.get("trunks"), net.get("rate"))
    # lxc-device add <peer> <name>: move the peer into the CT and rename it
    pid = lxcctl.find_lxc_pid(e, vmid)
    nets.ip("link", "set", "dev", peer, "netns", pid)
    res = lxcctl.attach_network(e, vmid, netns,
                                f"link set dev {peer} name {net['name']}\n"
                                f"link set dev {net['name']} up\n")
    if res.returncode != 0:
        raise PveError(f"Failed to add {peer} to {vmid}: {res.stderr.strip()}\n")


def update_ipconfig(e, vmid, old, new, netns):
    name = new["name"]
    cmds = []
    for ipkey, gwkey in (("ip", "gw"), ("ip6", "gw6")):
        oldip, newip = old.get(ipkey), new.get(ipkey)
        oldgw, newgw = old.get(gwkey), new.get(gwkey)
        static_old = oldip if oldip and oldip not in ("dhcp", "manual", "auto") else None
        static_new = newip if newip and newip not in ("dhcp", "manual", "auto") else None
        if static_old != static_new or oldgw != newgw:
            if oldgw:
                cmds.append(f"route del default via {oldgw} dev {name}")
            if static_old and static_old != static_new:
                cmds.append(f"addr del {static_old} dev {name}")
            if static_new and static_new != static_old:
                cmds.append(f"addr add {static_new} dev {name}")
            if newgw:
                cmds.append(f"route add default via {newgw} dev {name}"
                            + (" onlink" if ipkey == "ip" else ""))
    if cmds:
        lxcctl.attach_network(e, vmid, netns, "\n".join(cmds) + "\n")


def update_net(e, vmid, conf, opt, new, netid, netns):
    """PVE::LXC::update_net (hot-plug of netN on a running CT)."""
    veth = f"veth{vmid}i{netid}"
    nets = Net(e, netns)
    old_cfg = conf.get(opt)
    if not old_cfg:
        hotplug_net(e, vmid, conf, opt, new, netid, netns)
        update_ipconfig(e, vmid, {}, new, netns)
        return
    old = schema.parse_net(old_cfg)
    if old.get("hwaddr") != new.get("hwaddr") or old.get("name") != new.get("name"):
        nets.veth_delete(veth)
        del conf[opt]
        confmod.write_config(e, vmid, conf)
        hotplug_net(e, vmid, conf, opt, new, netid, netns)
        update_ipconfig(e, vmid, {}, new, netns)
        return
    if (old.get("bridge") != new.get("bridge") or old.get("tag") != new.get("tag")
            or (old.get("firewall") or "0") != (new.get("firewall") or "0")
            or (old.get("link_down") or "0") != (new.get("link_down") or "0")):
        if old.get("bridge"):
            nets.tap_unplug(veth)
            for k in ("bridge", "tag", "firewall"):
                old.pop(k, None)
            conf[opt] = schema.print_net(old)
            confmod.write_config(e, vmid, conf)
        if new.get("link_down") == "1":
            nets.ip("link", "set", "dev", veth, "down", check=False)
        else:
            nets.tap_plug(veth, new["bridge"], new.get("tag"), new.get("firewall") == "1",
                          new.get("trunks"), new.get("rate"))
            nets.ip("link", "set", "dev", veth, "up")
        for k in ("bridge", "tag", "firewall", "rate", "link_down"):
            if new.get(k):
                old[k] = new[k]
    elif old.get("rate") != new.get("rate"):
        old["rate"] = new.get("rate")  # tc rate limiting is not emulated
    conf[opt] = schema.print_net({k: v for k, v in old.items() if v is not None})
    confmod.write_config(e, vmid, conf)
    update_ipconfig(e, vmid, schema.parse_net(old_cfg), new, netns)


def hotplug_pending(e, storage, vmid, conf, selection, errors):
    """Config::vmconfig_hotplug_pending."""
    pending = conf["pending"]
    netns = lxcctl.netns_of(e, vmid)
    for opt in sorted(pending):
        if selection is not None and opt not in selection:
            continue
        if opt in FASTPLUG:
            conf[opt] = pending.pop(opt)
    for opt in sorted(confmod.parse_pending_delete(pending.get("delete"))):
        if selection is not None and opt not in selection:
            continue
        try:
            if opt in FASTPLUG or opt in ("swap", "cpulimit", "cpuunits"):
                pass
            elif re.fullmatch(r"unused\d+", opt):
                vol = schema.parse_volume(opt, conf[opt])["volume"]
                if volume_belongs_to(storage, vol, vmid):
                    storage.free(vol)
            elif re.fullmatch(r"net\d", opt):
                Net(e, netns).veth_delete(f"veth{vmid}i{opt[3:]}")
            else:
                continue  # not hot-pluggable: stays pending
        except PveError as err:
            errors[opt] = f"unable to hotplug {opt}: {err}"
            continue
        conf.pop(opt, None)
        confmod.remove_from_pending_delete(conf, opt)
    for opt in sorted(pending):
        if opt == "delete" or (selection is not None and opt not in selection):
            continue
        value = pending[opt]
        try:
            if opt in ("cpulimit", "cpuunits", "memory", "swap"):
                pass  # resource limits are recorded, not enforced
            elif re.fullmatch(r"net\d+", opt):
                net = schema.parse_net(value)
                value = schema.print_net(net)
                update_net(e, vmid, conf, opt, net, opt[3:], netns)
            else:
                continue  # not hot-pluggable: stays pending
        except PveError as err:
            errors[opt] = f"unable to hotplug {opt}: {err}"
            continue
        conf[opt] = value
        pending.pop(opt, None)


def update_pct_config(e, storage, vmid, conf, running, param, delete, revert):
    """Config::update_pct_config. Returns the hot-plug/apply errors."""
    conf.setdefault("pending", {})
    for opt in revert:
        conf["pending"].pop(opt, None)
        confmod.remove_from_pending_delete(conf, opt)
    modified = set()
    for opt in delete:
        if conf.get(opt) is None and conf["pending"].get(opt) is None:
            wwarn(f"cannot delete '{opt}' - not set in current configuration!\n")
            continue
        modified.add(opt)
        if opt in ("memory", "rootfs", "ostype"):
            raise PveError(f"unable to delete required option '{opt}'\n")
        if re.fullmatch(r"(unused|mp)\d+", opt):
            confmod.check_protection(conf, f"can't remove CT {vmid} drive '{opt}'")
        elif opt == "unprivileged":
            raise PveError(f"unable to delete read-only option: '{opt}'\n")
        confmod.add_to_pending_delete(conf, opt)
    for opt in sorted(param):
        modified.add(opt)
        value = param[opt]
        if re.fullmatch(r"mp\d+", opt) or opt == "rootfs":
            confmod.check_protection(conf, f"can't update CT {vmid} drive '{opt}'")
            mp = schema.parse_volume(opt, value)
            if mp["type"] == "volume":
                m = NEW_DISK_RE.fullmatch(mp["volume"])
                sid = m.group(1) if m else storage.parse_volume_id(mp["volume"])[0]
                if sid and "rootdir" not in storage.config(sid)["content"]:
                    raise PveError(f"storage '{sid}' does not allow content type 'rootdir' "
                                   "(Container)\n")
        elif opt == "nameserver":
            value = verify_nameserver_list(value)
        elif opt == "searchdomain":
            value = verify_searchdomain_list(value)
        elif opt == "unprivileged":
            raise PveError(f"unable to modify read-only option: '{opt}'\n")
        elif opt == "tags":
            value = get_unique_tags(value)
        elif re.fullmatch(r"net\d+", opt):
            res = schema.parse_property_string(schema.NETCONF_DESC, value)
            if res.get("mtu"):
                bmtu = Net(e, lxcctl.netns_of(e, vmid)).read_bridge_mtu(res.get("bridge"))
                if int(res["mtu"]) > bmtu:
                    raise PveError(f"{opt}: MTU size '{res['mtu']}' is bigger than bridge MTU "
                                   f"'{bmtu}'\n")
        elif re.fullmatch(r"dev\d+", opt):
            dev = schema.parse_device(value)
            if not os.path.exists(dev["path"]):
                raise PveError(f"Device {dev['path']} does not exist\n")
        elif opt == "cpuunits":
            value = str(min(max(int(value), 1), 10000))
        conf["pending"][opt] = value
        confmod.remove_from_pending_delete(conf, opt)
    confmod.cleanup_pending(conf)
    errors = {}
    if running:
        hotplug_pending(e, storage, vmid, conf, modified, errors)
    else:
        apply_pending(e, storage, vmid, conf, modified, errors)
    return errors


# ---- commands ------------------------------------------------------------------------


def cmd_status(p):
    e = env()
    vmid = p["vmid"]
    conf = confmod.load_config(e, vmid)
    running = lxcctl.check_running(e, vmid)
    if not p.get("verbose") == "1":
        out(f"status: {'running' if running else 'stopped'}")
        return 0
    stat = vmstatus(e, vmid, conf, running)
    for k in sorted(stat):
        if k == "cpu" or stat[k] is None:
            continue
        out(f"{k}: {stat[k]}")
    return 0


def vmstatus(e, vmid, conf, running):
    d = {"vmid": vmid, "type": "lxc", "status": "running" if running else "stopped"}
    d["name"] = re.sub(r"\s", "", conf.get("hostname") or f"CT{vmid}")
    d["cpus"] = conf.get("cores") or conf.get("cpulimit") or str(os.cpu_count() or 1)
    if conf.get("lock"):
        d["lock"] = conf["lock"]
    maxdisk = 4 << 30
    if conf.get("rootfs"):
        try:
            maxdisk = schema.parse_volume("rootfs", conf["rootfs"]).get("size") or maxdisk
        except PveError:
            pass
    d.update({"disk": 0, "maxdisk": maxdisk, "mem": 0, "swap": 0,
              "maxmem": int(conf.get("memory") or 512) * 1024 * 1024,
              "maxswap": int(conf.get("swap") or 0) * 1024 * 1024,
              "uptime": 0, "cpu": 0, "netin": 0, "netout": 0, "diskread": 0, "diskwrite": 0})
    if conf.get("tags"):
        d["tags"] = conf["tags"]
    if conf.get("template") == "1":
        d["template"] = 1
    if running:
        try:
            pid = lxcctl.find_lxc_pid(e, vmid)
            d["pid"] = pid
            with open(f"/proc/{pid}/stat") as f:
                start = int(f.read().rsplit(")", 1)[1].split()[19])
            with open("/proc/uptime") as f:
                up = float(f.read().split()[0])
            d["uptime"] = int(up - start / os.sysconf("SC_CLK_TCK"))
            st = os.statvfs(f"/proc/{pid}/root/")
            d["disk"] = (st.f_blocks - st.f_bfree) * st.f_frsize
            d["maxdisk"] = st.f_blocks * st.f_frsize
            d.update(_pressures(pid))
        except (PveError, OSError, ValueError):
            pass
    return d


def _cgroup2_root():
    with open("/proc/self/mountinfo") as f:
        for line in f:
            fields = line.split()
            if fields[fields.index("-") + 1] == "cgroup2":
                return fields[4]
    return None


def _pressures(pid):
    """ProcFSTools::read_cgroup_pressure of the CT's cgroup (here: its
    init's cgroup v2 group): pressure{cpu,io,memory}{some,full} = avg10."""
    res = {}
    root = _cgroup2_root()
    try:
        with open(f"/proc/{pid}/cgroup") as f:
            path = next(line.split(":", 2)[2].strip() for line in f if line.startswith("0::"))
    except (OSError, StopIteration):
        return res
    for typ in ("cpu", "memory", "io"):
        try:
            with open(os.path.join(root or "/sys/fs/cgroup", path.lstrip("/"), f"{typ}.pressure")) as f:
                text = f.read()
        except (OSError, TypeError):
            continue
        for m in re.finditer(r"^(some|full)\s+avg10=(\d+\.\d+)\s+avg60=\d+\.\d+\s+avg300=\d+\.\d+\s+"
                             r"total=\d+", text, re.M):
            res[f"pressure{typ}{m.group(1)}"] = m.group(2)
    return res


def cmd_list(p):
    e = env()
    rows = []
    for vmid in e.local_ct_ids():
        try:
            conf = confmod.load_config(e, vmid)
        except PveError:
            continue
        running = lxcctl.check_running(e, vmid)
        name = re.sub(r"\s", "", conf.get("hostname") or f"CT{vmid}")
        rows.append((vmid, "running" if running else "stopped", conf.get("lock") or "", name))
    if not rows:
        return 0
    fmt = "%-10s %-10s %-12s %-20s"
    out(fmt % ("VMID", "Status", "Lock", "Name"))
    for r in sorted(rows):
        out(fmt % r)
    return 0


def cmd_config(p):
    e = env()
    vmid = p["vmid"]
    if p.get("snapshot") and p.get("current") == "1":
        raise_param_exc({"snapshot": "cannot use 'snapshot' parameter with 'current'",
                         "current": "cannot use 'snapshot' parameter with 'current'"})
    conf = confmod.load_config(e, vmid)
    if p.get("snapshot"):
        snap = conf["snapshots"].get(p["snapshot"])
        if snap is None:
            raise PveError(f"snapshot '{p['snapshot']}' does not exist\n")
        cur = dict(snap)
        cur["digest"] = conf["digest"]
    else:
        cur = confmod.load_current_config(conf, p.get("current") == "1")
    for k in sorted(cur):
        if k in ("digest", "lxc"):
            continue
        v = cur[k]
        if k == "description":
            v = confmod.encode_text(v)
        out(f"{k}: {v}")
    for k, v in cur.get("lxc") or []:
        out(f"{k}: {v}")
    return 0


def cmd_pending(p):
    e = env()
    conf = confmod.load_config(e, p["vmid"])
    pending = conf["pending"]
    deletes = confmod.parse_pending_delete(pending.get("delete"))
    keys = set(k for k in conf if k not in ("pending", "snapshots", "lxc", "digest"))
    keys |= set(k for k in pending if k != "delete")
    for k in sorted(keys):
        v, pv = conf.get(k), pending.get(k)
        if k == "description":
            v = confmod.encode_text(v) if v is not None else None
            pv = confmod.encode_text(pv) if pv is not None else None
        if v is not None:
            if k in deletes:
                out(f"del {k}: {v}")
            elif pv is not None:
                out(f"cur {k}: {v}")
                out(f"new {k}: {pv}")
            else:
                out(f"cur {k}: {v}")
        elif pv is not None:
            out(f"new {k}: {pv}")
    return 0


def check_delete_revert(p, delete, revert):
    for opt in revert:
        if not schema.option_exists(opt):
            raise_param_exc({"revert": f"unknown option '{opt}'"})
        if opt in p:
            raise_param_exc({"revert": f"you can't use '-{opt}' and '-revert {opt}' at the same time"})
    for opt in delete:
        if not schema.option_exists(opt):
            raise_param_exc({"delete": f"unknown option '{opt}'"})
        if opt in p:
            raise_param_exc({"delete": f"you can't use '-{opt}' and -delete {opt}' at the same time"})
        if opt in revert:
            raise_param_exc({"delete": f"you can't use '-delete {opt}' and '-revert {opt}' at the same time"})


def cmd_set(p):
    e = env()
    p = dict(p)
    p.pop("node", None)
    vmid = p.pop("vmid")
    digest = p.pop("digest", None)
    if not p:
        raise PveError("no options specified\n")
    delete = schema.split_list(p.pop("delete", None))
    revert = schema.split_list(p.pop("revert", None))
    storage = Storage(e)
    with ConfigLock(e, vmid):
        # API2::LXC::Config update_vm: the configuration, its lock and the
        # digest come before the --delete/--revert names are checked
        conf = confmod.load_config(e, vmid)
        confmod.check_lock(conf)
        if digest and digest != conf["digest"]:
            raise PveError("detected modified configuration - file changed by other user? "
                           "Try again.\n")
        check_delete_revert(p, delete, revert)
        running = lxcctl.check_running(e, vmid)
        errors = update_pct_config(e, storage, vmid, conf, running, p, delete, revert)
        if errors:
            raise_param_exc(errors)
        confmod.write_config(e, vmid, conf)
    return 0


def _check_template_access(storage, ostemplate):
    """PVE::Storage::check_volume_access for the template, before the
    worker: the volume name must parse (a template file name ends in .tar,
    .tar.gz, .tar.xz, .tar.zst or .tar.bz2) and be a template. Whether the
    file exists is only found out in the worker."""
    if ostemplate == "-":
        raise PveError("pipe can only be used with restore tasks\n")
    sid, volname = storage.parse_volume_id(ostemplate, noerr=True)
    if sid:
        vtype, _name, _owner = storage.parse_volname(sid, volname)
        if vtype != "vztmpl":
            raise PveError(f"unable to use volume {ostemplate} - content type needs to be "
                           "'vztmpl'\n")


def _abs_filesystem_path(storage, volid):
    """PVE::Storage::abs_filesystem_path (a template: a plain file)."""
    sid, _volname = storage.parse_volume_id(volid, noerr=True)
    path = storage.path(volid) if sid else (os.path.abspath(volid) if os.path.isfile(volid) else None)
    if not (path and os.path.isfile(path)):
        raise PveError(f"can't find file '{volid}'\n")
    return path


def _extract(e, archive, rootfs, uid, gid):
    comp = []
    if re.search(r"\.t?gz$", archive):
        comp = ["-z"]
    elif archive.endswith(".xz"):
        comp = ["-J"]
    elif archive.endswith(".zst"):
        comp = ["--zstd"]
    elif archive.endswith(".bz2"):
        comp = ["-j"]
    cmd = ["tar", "xpf", "-", *comp, "--totals", "--one-file-system", "-p", "--sparse",
           "--numeric-owner", "-C", rootfs, "--skip-old-files", "--anchored",
           "--exclude", "./dev/*"]
    if uid:
        cmd = ["lxc-usernsexec", "-m", f"u:0:{uid}:65536", "-m", f"g:0:{gid}:65536", "--"] + cmd
    with open(archive, "rb") as f:
        res = subprocess.run(cmd, stdin=f, capture_output=True, text=True)
    for line in (res.stdout + res.stderr).splitlines():
        if line.strip():
            out(line)
    if res.returncode != 0:
        raise PveError(f"command '{' '.join(cmd)}' failed: exit code {res.returncode}\n")


def cmd_create(p):
    e = env()
    p = dict(p)
    p.pop("node", None)
    vmid = p.pop("vmid")
    unprivileged = p.pop("unprivileged", None)
    if unprivileged is None:
        unprivileged = "1"   # Proxmox VE 9 (pve-container >= 6.0.6) default
    if p.pop("restore", None) == "1":
        raise PveError("restore is not implemented by the test double\n")
    p.pop("force", None)
    p.pop("unique", None)
    p.pop("pool", None)
    ha_managed = p.pop("ha-managed", None) == "1"
    p.pop("bwlimit", None)
    p.pop("ignore-unpack-errors", None)
    start = p.pop("start", None) == "1"
    password = p.pop("password", None)
    ssh_keys = p.pop("ssh-public-keys", None)
    check_vmid_unused(e, vmid)
    if ssh_keys is not None:
        for line in ssh_keys.splitlines():
            if not line.strip() or line.lstrip().startswith("#"):
                continue
            if not re.match(r"(ssh-(rsa|dss|ed25519)|ecdsa-sha2-\S+|sk-\S+)\s+[A-Za-z0-9+/=]+",
                            line.strip()):
                raise PveError("SSH public key validation error\n")
    storage_id = p.pop("storage", None) or "local"
    storage = Storage(e)
    ostemplate = p.pop("ostemplate")
    _check_template_access(storage, ostemplate)

    def check_and_activate_storage(sid):
        scfg = storage.enabled(sid)
        if "rootdir" not in scfg["content"]:
            raise_param_exc({"storage": f"storage '{sid}' does not support container directories"})

    mp_param = {}
    no_disk = {}
    for opt, value in p.items():
        if opt == "rootfs" or re.fullmatch(r"mp\d+", opt):
            mp_param[opt] = f"{storage_id}:{value}" if re.fullmatch(r"\d+(\.\d+)?", value) else value
        elif re.fullmatch(r"unused\d+", opt):
            wwarn(f"ignoring '{opt}', cannot create/restore with unused volume\n")
        else:
            no_disk[opt] = value
    if mp_param and "rootfs" not in mp_param:
        raise PveError("mount points configured, but 'rootfs' not set - aborting\n")
    for opt, value in mp_param.items():
        mp = schema.parse_volume(opt, value)
        if mp["type"] != "volume":
            continue
        m = NEW_DISK_RE.fullmatch(mp["volume"])
        sid = m.group(1) if m and m.group(1) else storage.parse_volume_id(mp["volume"], True)[0]
        if sid:
            check_and_activate_storage(sid)
    if "rootfs" not in mp_param:
        check_and_activate_storage(storage_id)
        mp_param["rootfs"] = f"{storage_id}:4"

    conf = {"pending": {}}
    update_pct_config(e, storage, vmid, conf, False, no_disk, [], [])
    conf.pop("pending", None)
    if unprivileged == "1":
        conf["unprivileged"] = "1"
    uid, gid = lxcctl.root_ids(conf)

    # AbstractConfig::create_and_lock_config, before the worker
    try:
        with ConfigLock(e, vmid, timeout=5):
            check_vmid_unused(e, vmid)
            confmod.create_and_lock_config(e, vmid, {})
    except PveError as err:
        raise PveError(f"unable to create CT {vmid} - {err}")

    def worker():
        with ConfigLock(e, vmid):
            vollist = []
            try:
                for opt in ["rootfs"] + sorted((k for k in mp_param if k != "rootfs"),
                                               key=lambda k: int(k[2:])):
                    mp = schema.parse_volume(opt, mp_param[opt])
                    m = NEW_DISK_RE.fullmatch(mp["volume"])
                    if mp["type"] == "volume" and m:
                        sid = m.group(1) or storage_id
                        size = float(m.group(2))
                        volid = storage.alloc(sid, vmid, size, uid, gid)
                        vollist.append(volid)
                        mp["volume"] = volid
                        mp["size"] = int(size * (1 << 30))
                    elif mp["type"] == "volume":
                        sid, volname = storage.parse_volume_id(mp["volume"])
                        storage.parse_volname(sid, volname)
                        if not os.path.isdir(storage.path(mp["volume"])):
                            raise PveError(f"volume '{mp['volume']}' does not exist\n")
                    conf[opt] = schema.print_volume(opt, mp)
                rootpath = lxcctl.volume_path(storage, schema.parse_volume("rootfs", conf["rootfs"])["volume"])
                if uid:
                    lxcctl.check_traversable(rootpath, uid)
                # Create::archive_is_oci_format warns, restore_archive dies
                try:
                    _abs_filesystem_path(storage, ostemplate)
                except PveError as err:
                    wwarn(str(err))
                archive = _abs_filesystem_path(storage, ostemplate)
                out(f"extracting archive '{archive}'")
                _extract(e, archive, rootpath, uid, gid)
                if not conf.get("arch"):
                    conf["arch"] = detect_architecture(rootpath)
                    out(f"Detected container architecture: {conf['arch']}")
                if not conf.get("ostype"):
                    conf["ostype"] = detect_ostype(rootpath)
                setup = Setup(rootpath, conf, vmid, uid, gid)
                setup.run(lxcctl.nets_of(conf))
                if conf.get("ostype") != "unmanaged":
                    if password is not None:
                        setup.set_user_password(password)
                    if ssh_keys:
                        setup.set_ssh_keys(ssh_keys)
                conf.setdefault("hostname", f"CT{vmid}")
                if not conf.get("memory"):
                    conf["memory"] = "512"
                conf.setdefault("swap", "512")
                confmod.write_config(e, vmid, conf)
            except (PveError, OSError) as err:
                for vol in vollist:
                    try:
                        storage.free(vol)
                    except (PveError, OSError):
                        pass
                try:
                    os.unlink(e.conf_path(vmid))
                except OSError:
                    pass
                msg = str(err) if isinstance(err, PveError) else f"{err}\n"
                raise PveError(f"unable to create CT {vmid} - {msg}")
        if start:
            do_start(vmid, skiplock=False, debug=False)
        if ha_managed:
            out("Add as HA resource")
            ha.set_state(e, vmid, "started" if start else "stopped")

    return run_worker(worker)


def _password_mapping(value):
    if value:
        return value
    if not sys.stdin.isatty():
        raise PveError("unable to read password - no terminal (pass --password <value>)\n")
    import getpass
    pw1 = getpass.getpass("Enter password: ")
    pw2 = getpass.getpass("Retype password: ")
    if pw1 != pw2:
        raise PveError("passwords do not match\n")
    return pw1


def _read_file_param(path):
    try:
        with open(path) as f:
            return f.read()
    except OSError as err:
        raise PveError(f"unable to open file '{path}' - {os.strerror(err.errno)}\n")


def do_start(vmid, skiplock, debug):
    e = env()
    storage = Storage(e)
    with ConfigLock(e, vmid):
        conf = confmod.load_config(e, vmid)
        if conf.get("template") == "1":
            raise PveError("you can't start a CT if it's a template\n")
        # a CT mounted with pct mount may still be started
        if not skiplock and conf.get("lock") != "mounted":
            confmod.check_lock(conf)
        if conf["pending"]:
            errors = {}
            apply_pending(e, storage, vmid, conf, None, errors)
            confmod.write_config(e, vmid, conf)
            conf = confmod.load_config(e, vmid)
        lxcctl.vm_start(e, vmid, conf, storage, debug)


def _ha_request(e, vmid, what, state):
    """An HA-managed CT (API2::LXC::Status): the worker only asks the HA
    manager (ha-manager set / crm-command stop) and returns."""
    def worker():
        out(f"Requesting HA {what} for CT {vmid}")
        ha.set_state(e, vmid, state)

    return run_worker(worker)


def cmd_start(p):
    e = env()
    vmid = p["vmid"]
    if lxcctl.check_running(e, vmid):
        raise PveError(f"CT {vmid} already running\n")
    if ha.is_managed(e, vmid):
        return _ha_request(e, vmid, "start", "started")
    return run_worker(lambda: do_start(vmid, p.get("skiplock") == "1", p.get("debug") == "1"))


def _after_stop(e, storage, vmid):
    conf = confmod.load_config(e, vmid)
    if conf["pending"]:
        errors = {}
        apply_pending(e, storage, vmid, conf, None, errors)
        confmod.write_config(e, vmid, conf)


def cmd_stop(p):
    e = env()
    vmid = p["vmid"]
    if not lxcctl.check_running(e, vmid):
        raise PveError(f"CT {vmid} not running\n")
    if ha.is_managed(e, vmid):
        if p.get("overrule-shutdown") == "1":
            raise_param_exc({"overrule-shutdown": "Not applicable for HA resources."})
        return _ha_request(e, vmid, "stop", "stopped")

    def worker():
        storage = Storage(e)
        with ConfigLock(e, vmid):
            conf = confmod.load_config(e, vmid)
            if p.get("skiplock") != "1" and conf.get("lock") != "mounted":
                confmod.check_lock(conf)
            lxcctl.vm_stop(e, vmid, True)
            _after_stop(e, storage, vmid)

    return run_worker(worker)


def cmd_shutdown(p):
    e = env()
    vmid = p["vmid"]
    timeout = int(p.get("timeout") or 60)
    force = p.get("forceStop") == "1"
    if not lxcctl.check_running(e, vmid):
        raise PveError(f"CT {vmid} not running\n")
    if ha.is_managed(e, vmid):
        return _ha_request(e, vmid, "stop", "stopped")

    def worker():
        storage = Storage(e)
        with ConfigLock(e, vmid):
            conf = confmod.load_config(e, vmid)
            confmod.check_lock(conf)
            lxcctl.vm_stop(e, vmid, False, timeout, force)
            _after_stop(e, storage, vmid)

    return run_worker(worker)


def cmd_reboot(p):
    e = env()
    vmid = p["vmid"]
    timeout = int(p["timeout"]) if p.get("timeout") else None
    if not lxcctl.check_running(e, vmid):
        raise PveError(f"VM {vmid} not running\n")

    def worker():
        storage = Storage(e)
        with ConfigLock(e, vmid):
            lxcctl.vm_stop(e, vmid, False, timeout, True)
            conf = confmod.load_config(e, vmid)
            if conf["pending"]:
                apply_pending(e, storage, vmid, conf, None, {})
                confmod.write_config(e, vmid, conf)
                conf = confmod.load_config(e, vmid)
            lxcctl.vm_start(e, vmid, conf, storage)

    return run_worker(worker)


def destroy_lxc_container(e, storage, vmid, conf, unreferenced):
    """PVE::LXC::destroy_lxc_container with a replacement configuration
    holding only `lock: destroyed` (removed by the caller at the end)."""
    vols = []
    for section in (conf, conf.get("pending") or {}):
        for key in sorted(section):
            if key == "rootfs" or re.fullmatch(r"(mp|unused)\d+", key):
                try:
                    vol = schema.parse_volume(key, section[key])
                except PveError:
                    continue
                if (vol["type"] == "volume" and volume_belongs_to(storage, vol["volume"], vmid)
                        and vol["volume"] not in vols):
                    vols.append(vol["volume"])
    if unreferenced:
        for sid, scfg in storage.ids.items():
            if "rootdir" not in scfg["content"]:
                continue
            for name in storage._existing_names(sid, vmid):
                volid = (f"{sid}:{name}" if scfg["type"] in ("lvmthin", "lvm", "zfspool")
                         else f"{sid}:{vmid}/{name}")
                if volume_belongs_to(storage, volid, vmid) and volid not in vols:
                    vols.append(volid)
    for vol in vols:
        try:
            storage.free(vol)
        except (PveError, OSError) as err:
            wwarn(f"unable to free volume '{vol}' - {err}")
    d = os.path.join(e.lxcpath, str(vmid))
    for name in ("config",):
        try:
            os.unlink(os.path.join(d, name))
        except FileNotFoundError:
            pass
    try:
        os.rmdir(os.path.join(d, "rootfs"))
    except OSError:
        pass
    try:
        os.rmdir(d)
    except OSError:
        pass
    confmod.write_config(e, vmid, {"lock": "destroyed"})
    for path in (e.stderr_log(vmid),):
        try:
            os.unlink(path)
        except FileNotFoundError:
            pass
    lxcctl.clear_runstate(e, vmid)
    lxcctl.remove_lxc_lock(e, vmid)


def cmd_destroy(p):
    e = env()
    vmid = p["vmid"]
    force = p.get("force") == "1"
    conf = confmod.load_config(e, vmid)

    def early_checks(c):
        confmod.check_protection(c, f"can't remove CT {vmid}")
        confmod.check_lock(c)
        ha_managed = ha.is_configured(e, vmid)
        if p.get("purge") != "1" and ha_managed:
            raise PveError(f"unable to remove CT {vmid} - used in HA resources and purge parameter "
                           "not set.\n")
        return ha_managed

    early_checks(conf)
    running_error = f"unable to destroy CT {vmid} - container is running\n"
    if not force and lxcctl.check_running(e, vmid):
        raise PveError(running_error)

    def worker():
        storage = Storage(e)
        with ConfigLock(e, vmid):
            c = confmod.load_config(e, vmid)
            ha_managed = early_checks(c)
            if lxcctl.check_running(e, vmid):
                if not force:
                    raise PveError(running_error)
                out(f"forced to stop CT {vmid} before destroying!")
                lxcctl.vm_stop(e, vmid, True)
            destroy_lxc_container(e, storage, vmid, c, p.get("destroy-unreferenced-disks") == "1")
            try:
                os.unlink(e.path(f"etc/pve/firewall/{vmid}.fw"))  # Firewall::remove_vmfw_conf
            except FileNotFoundError:
                pass
            if p.get("purge") == "1":
                out(f"purging CT {vmid} from related configurations..")
                if ha_managed:
                    ha.remove(e, vmid)
                    out(f"NOTE: removed CT {vmid} from HA resource configuration.")
            # only now the configuration goes (Proxmox: against reuse races)
            os.unlink(e.conf_path(vmid))

    return run_worker(worker)


API2_LXC_PM = "/usr/share/perl5/PVE/API2/LXC.pm"


def _resize_load_and_check(e, storage, vmid, disk, digest, request, ext):
    """API2::LXC resize_vm's $load_and_check."""
    conf = confmod.load_config(e, vmid)
    confmod.check_lock(conf)
    if digest and digest != conf["digest"]:
        raise PveError("detected modified configuration - file changed by other user? Try again.\n")
    mp = schema.parse_volume(disk, conf.get(disk) or "")
    volid = mp["volume"]
    sid, volname = storage.parse_volume_id(volid)
    _vtype, _name, owner = storage.parse_volname(sid, volname)
    if str(vmid) != str(owner):
        raise PveError(f"can't resize mount point owned by another container ({owner})",
                       location=(API2_LXC_PM, 2386))
    size = storage.size_info(volid)
    if size is None:
        raise PveError(f"Could not determine current size of volume '{volid}'\n")
    newsize = int(size + request if ext else request)
    if newsize < size:
        raise PveError("unable to shrink disk size\n")
    if newsize == size:
        raise PveError("disk is already at specified size\n")
    return conf, mp, volid, newsize


def cmd_resize(p):
    """pct resize: a worker without exit handler (pct.pm has no $upid_exit
    for it), so a failure inside it is printed but exits 0. The file
    system inside the volume is not resized (the volumes are directories)."""
    e = env()
    vmid, disk, sizestr = p["vmid"], p["disk"], p["size"]
    ext = sizestr.startswith("+")
    request = schema.parse_size(sizestr.lstrip("+"))
    storage = Storage(e)
    _resize_load_and_check(e, storage, vmid, disk, p.get("digest"), request, ext)

    def worker():
        with ConfigLock(e, vmid):
            conf, mp, volid, newsize = _resize_load_and_check(e, storage, vmid, disk, p.get("digest"),
                                                              request, ext)
            storage.resize(volid, newsize)
            mp["size"] = newsize
            conf[disk] = schema.print_volume(disk, mp)
            confmod.write_config(e, vmid, conf)

    return run_worker(worker, noexit=True)


def cmd_unlock(p):
    e = env()
    vmid = p["vmid"]
    with ConfigLock(e, vmid):
        conf = confmod.load_config(e, vmid)
        if not conf.get("lock"):
            raise PveError("no lock found trying to remove any lock\n")
        del conf["lock"]
        confmod.write_config(e, vmid, conf)
    return 0


def _rootfs_mountpoint(e, vmid):
    return e.path("var/lib/lxc", str(vmid), "rootfs")


def _is_mountpoint(path):
    with open("/proc/self/mountinfo") as f:
        return any(line.split()[4] == path for line in f)


def cmd_mount(p):
    """Mount the container's root file system on the host, holding the
    'mounted' lock (Proxmox: set_lock, then mount_all)."""
    e = env()
    vmid = p["vmid"]
    storage = Storage(e)
    with ConfigLock(e, vmid):
        conf = confmod.load_config(e, vmid)
        confmod.check_lock(conf)
        conf["lock"] = "mounted"
        confmod.write_config(e, vmid, conf)
        rootfs = schema.parse_volume("rootfs", conf["rootfs"])
        target = _rootfs_mountpoint(e, vmid)
        os.makedirs(target, exist_ok=True)
        if not _is_mountpoint(target):
            res = subprocess.run(["mount", "--bind", lxcctl.volume_path(storage, rootfs["volume"]), target],
                                 capture_output=True, text=True)
            if res.returncode != 0:
                raise PveError(f"mount failed: {res.stderr.strip()}\n")
    out(f"mounted CT {vmid} in '{target}'")
    return 0


def cmd_unmount(p):
    """Unmount it and remove the 'mounted' lock (Proxmox: umount_all,
    then remove_lock, which insists on that lock)."""
    e = env()
    vmid = p["vmid"]
    with ConfigLock(e, vmid):
        conf = confmod.load_config(e, vmid)
        target = _rootfs_mountpoint(e, vmid)
        if _is_mountpoint(target):
            subprocess.run(["umount", target], check=False)
        if not conf.get("lock"):
            # AbstractConfig::remove_lock: "'$lock' " then " lock"
            raise PveError("no lock found trying to remove 'mounted'  lock\n")
        if conf["lock"] != "mounted":
            raise PveError(f"found lock '{conf['lock']}' trying to remove 'mounted' lock\n")
        del conf["lock"]
        confmod.write_config(e, vmid, conf)
    return 0


def _attach_argv(e, vmid, keep_env, args):
    netns = lxcctl.netns_of(e, vmid)
    return lxcctl.lxc_argv(e, "lxc-attach", vmid, "--keep-env" if keep_env else "--clear-env",
                           *(["--", *args] if args is not None else []), netns=netns)


def cmd_exec(p):
    e = env()
    vmid = p["vmid"]
    confmod.load_config(e, vmid)
    if not lxcctl.check_running(e, vmid):
        raise PveError(f"container '{vmid}' not running!\n")
    if not p.get("extra-args"):
        raise PveError("missing command", location=(PCT_PM, 246))
    argv = _attach_argv(e, vmid, p.get("keep-env", "1") == "1", p["extra-args"])
    sys.stdout.flush()
    sys.stderr.flush()
    os.execvp(argv[0], argv)


def cmd_enter(p):
    e = env()
    vmid = p["vmid"]
    confmod.load_config(e, vmid)
    if not lxcctl.check_running(e, vmid):
        raise PveError(f"container '{vmid}' not running!\n")
    argv = _attach_argv(e, vmid, p.get("keep-env", "1") == "1", None)
    sys.stdout.flush()
    os.execvp(argv[0], argv)


def _perms(p):
    perms = p.get("perms")
    if perms is not None and not perms.startswith("0"):
        perms = "0" + perms
    return perms


def cmd_push(p):
    e = env()
    vmid = p["vmid"]
    src, dest = p["file"], p["destination"]
    perms, user, group = _perms(p), p.get("user"), p.get("group")
    with ConfigLock(e, vmid):
        if not lxcctl.check_running(e, vmid):
            raise PveError("can only push files to a running CT\n")
        conf = confmod.load_config(e, vmid)
        unpriv = conf.get("unprivileged") == "1"

        def worker():
            pid = lxcctl.find_lxc_pid(e, vmid)

            def child():
                try:
                    srcfd = os.open(src, os.O_RDONLY)
                except OSError:
                    return f"failed to open {src} for reading\n"
                try:
                    mntfd = os.open(f"/proc/{pid}/ns/mnt", os.O_RDONLY)
                except OSError:
                    return "failed to open the container's mount namespace\n"
                userfd = None
                if unpriv:
                    try:
                        userfd = os.open(f"/proc/{pid}/ns/user", os.O_RDONLY)
                    except OSError:
                        return "failed to open the container's user namespace\n"
                try:
                    nsutil.setns(mntfd, nsutil.CLONE_NEWNS)
                except OSError:
                    return "failed to enter the container's mount namespace\n"
                os.close(mntfd)
                os.chdir("/")
                if unpriv:
                    try:
                        nsutil.setns(userfd, nsutil.CLONE_NEWUSER)
                    except OSError:
                        return "failed to enter the container's user namespace\n"
                    os.setgid(0)
                    os.setuid(0)
                try:
                    dst = nsutil.create_file(dest, perms, user, group, nsutil.etc_lookup)
                except RuntimeError as err:
                    return str(err)
                nsutil.copy_fd(srcfd, dst)
                os.close(dst)
                return None

            msg = nsutil.run_in_child(child)
            if msg:
                raise PveError(msg)

        return run_worker(worker, noexit=True)


def cmd_pull(p):
    e = env()
    vmid = p["vmid"]
    path, dest = p["path"], p["destination"]
    perms, user, group = _perms(p), p.get("user"), p.get("group")
    with ConfigLock(e, vmid):
        if not lxcctl.check_running(e, vmid):
            raise PveError("can only pull files from a running VM", location=(PCT_PM, 664))

        def worker():
            pid = lxcctl.find_lxc_pid(e, vmid)

            def child():
                try:
                    dst = nsutil.create_file(dest, perms, user, group, nsutil.etc_lookup)
                except RuntimeError as err:
                    return str(err)
                try:
                    mntfd = os.open(f"/proc/{pid}/ns/mnt", os.O_RDONLY)
                    nsutil.setns(mntfd, nsutil.CLONE_NEWNS)
                except OSError:
                    return "failed to enter the container's mount namespace\n"
                os.chdir("/")
                try:
                    srcfd = os.open(path, os.O_RDONLY)
                except OSError as err:
                    return f"failed to open {path}: {nsutil.strerror(err)}\n"
                nsutil.copy_fd(srcfd, dst)
                os.close(dst)
                return None

            msg = nsutil.run_in_child(child)
            if msg:
                raise PveError(msg)

        return run_worker(worker, noexit=True)


# ---- command table -----------------------------------------------------------------------

FIXED = {"node": "pve"}


def _table():
    set_props = schema.json_config_properties({
        "vmid": VMID,
        "delete": {"type": "string", "format": "pve-configid-list", "optional": 1},
        "revert": {"type": "string", "format": "pve-configid-list", "optional": 1},
        "digest": {"type": "string", "maxLength": 40, "optional": 1},
    })
    create_props = schema.json_config_properties({
        "vmid": VMID,
        "ostemplate": {"type": "string", "maxLength": 255},
        "password": {"type": "string", "optional": 1, "minLength": 5, "interactive": 1},
        "ssh-public-keys": {"type": "string", "optional": 1},
        "storage": {"type": "string", "format": "pve-storage-id", "optional": 1},
        "force": B(),
        "unique": B(requires="restore"),
        "restore": B(),
        "pool": {"type": "string", "format": "pve-poolid", "optional": 1},
        "ignore-unpack-errors": B(),
        "start": B(),
        "bwlimit": {"type": "number", "minimum": 0, "optional": 1},
        "ha-managed": B(),
    })
    vm = {"vmid": VMID}
    file_opts = {"user": {"type": "string", "optional": 1},
                 "group": {"type": "string", "optional": 1},
                 "perms": {"type": "string", "optional": 1}}
    return [
        Command("create", ["vmid", "ostemplate"], create_props, cmd_create, fixed=FIXED,
                worker="upid"),
        Command("set", ["vmid"], set_props, cmd_set, fixed=FIXED),
        Command("start", ["vmid"], {**vm, "skiplock": B(), "debug": B()}, cmd_start,
                fixed=FIXED, worker="upid"),
        Command("stop", ["vmid"], {**vm, "skiplock": B(), "overrule-shutdown": B()}, cmd_stop,
                fixed=FIXED, worker="upid"),
        Command("shutdown", ["vmid"], {**vm, "timeout": {"type": "integer", "minimum": 0,
                                                         "optional": 1},
                                       "forceStop": B()}, cmd_shutdown, fixed=FIXED,
                worker="upid"),
        Command("reboot", ["vmid"], {**vm, "timeout": {"type": "integer", "minimum": 0,
                                                       "optional": 1}}, cmd_reboot,
                fixed=FIXED, worker="upid"),
        Command("destroy", ["vmid"], {**vm, "force": B(), "purge": B(),
                                      "destroy-unreferenced-disks": B()}, cmd_destroy,
                fixed=FIXED, worker="upid"),
        Command("status", ["vmid"], {**vm, "verbose": B()}, cmd_status),
        Command("list", [], {}, cmd_list, fixed=FIXED),
        Command("config", ["vmid"], {**vm, "current": B(),
                                     "snapshot": {"type": "string", "format": "pve-configid",
                                                  "maxLength": 40, "optional": 1}},
                cmd_config, fixed=FIXED),
        Command("pending", ["vmid"], dict(vm), cmd_pending, fixed=FIXED),
        Command("exec", ["vmid", "extra-args"],
                {**vm, "keep-env": B(), "extra-args": {"type": "array", "optional": 1,
                                                       "items": {"type": "string"}}},
                cmd_exec),
        Command("enter", ["vmid"], {**vm, "keep-env": B()}, cmd_enter),
        Command("push", ["vmid", "file", "destination"],
                {**vm, "file": {"type": "string"}, "destination": {"type": "string"},
                 **file_opts}, cmd_push, worker="noexit"),
        Command("pull", ["vmid", "path", "destination"],
                {**vm, "path": {"type": "string"}, "destination": {"type": "string"},
                 **file_opts}, cmd_pull, worker="noexit"),
        Command("resize", ["vmid", "disk", "size"],
                {**vm, "disk": {"type": "string", "enum": ["rootfs"] + [f"mp{i}" for i in
                                                                        range(schema.MAX_MOUNT_POINTS)]},
                 "size": {"type": "string", "pattern": r"\+?\d+(\.\d+)?[KMGT]?"},
                 "digest": {"type": "string", "maxLength": 40, "optional": 1}},
                cmd_resize, fixed=FIXED, worker="noexit"),
        Command("unlock", ["vmid"], dict(vm), cmd_unlock),
        Command("mount", ["vmid"], dict(vm), cmd_mount),
        Command("unmount", ["vmid"], dict(vm), cmd_unmount),
    ]


def main(argv):
    if argv and os.geteuid() != 0:
        sys.stderr.write("please run as root\n")
        return 255
    cli = Cli("pct", _table(), PCT_COMMANDS, {"move_volume": "move-volume"})
    # node name of the simulated host
    FIXED["node"] = os.environ.get("PVE_SIM_NODE") or "pve"
    cli.commands["create"].mappings = {"password": _password_mapping,
                                       "ssh-public-keys": _read_file_param}
    try:
        return cli.run(argv)
    except PveError as err:  # e.g. PVE_SIM_ROOT missing
        sys.stderr.write(str(err))
        return 255

