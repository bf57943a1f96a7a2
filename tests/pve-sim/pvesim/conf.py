# SPDX-License-Identifier: LGPL-2.1-or-later
"""Reading and writing <vmid>.conf exactly like PVE::LXC::Config.

A parsed configuration is a dict of option -> string value, plus:
  'lxc'         list of [key, value] raw lxc.* entries, in file order
  'pending'     dict for the [pve:pending] section (may hold 'delete')
  'snapshots'   dict name -> section dict
  'digest'      SHA1 of the file contents
  'description' text decoded from the '#' lines (ends with a newline)
"""

import hashlib
import os
import re
import urllib.parse

from . import schema
from .env import warn
from .errors import PveError

VALID_LXC_KEYS = {
    "lxc.apparmor.profile": 1, "lxc.apparmor.allow_incomplete": 1,
    "lxc.apparmor.allow_nesting": 1, "lxc.apparmor.raw": 1, "lxc.selinux.context": 1,
    "lxc.include": 1, "lxc.arch": 1, "lxc.uts.name": 1, "lxc.signal.halt": 1,
    "lxc.signal.reboot": 1, "lxc.signal.stop": 1, "lxc.init.cmd": 1, "lxc.init.cwd": 1,
    "lxc.pty.max": 1, "lxc.console.logfile": 1, "lxc.console.path": 1, "lxc.tty.max": 1,
    "lxc.devtty.dir": 1, "lxc.hook.autodev": 1, "lxc.autodev": 1, "lxc.kmsg": 1,
    "lxc.mount.fstab": 1, "lxc.mount.entry": 1, "lxc.mount.auto": 1,
    "lxc.rootfs.path": "lxc.rootfs.path is auto generated from rootfs",
    "lxc.rootfs.mount": 1,
    "lxc.rootfs.options": "lxc.rootfs.options is not supported, please use mount point "
                          "options in the \"rootfs\" key",
    "lxc.cap.drop": 1, "lxc.cap.keep": 1, "lxc.seccomp.profile": 1,
    "lxc.seccomp.notify.proxy": 1, "lxc.seccomp.notify.cookie": 1, "lxc.idmap": 1,
    "lxc.hook.pre-start": 1, "lxc.hook.pre-mount": 1, "lxc.hook.mount": 1,
    "lxc.hook.start": 1, "lxc.hook.stop": 1, "lxc.hook.post-stop": 1, "lxc.hook.clone": 1,
    "lxc.hook.destroy": 1, "lxc.hook.version": 1, "lxc.log.level": 1, "lxc.log.file": 1,
    "lxc.start.auto": 1, "lxc.start.delay": 1, "lxc.start.order": 1, "lxc.group": 1,
    "lxc.environment": 1, "lxc.environment.runtime": 1, "lxc.environment.hooks": 1,
    "lxc.sysctl.fs.mqueue": 1, "lxc.sysctl.kernel.msgmax": 1, "lxc.sysctl.kernel.msgmnb": 1,
    "lxc.sysctl.kernel.msgmni": 1, "lxc.sysctl.kernel.sem": 1, "lxc.sysctl.kernel.shmall": 1,
    "lxc.sysctl.kernel.shmmax": 1, "lxc.sysctl.kernel.shmmni": 1,
    "lxc.sysctl.kernel.shm_rmid_forced": 1,
}

DEPRECATED_LXC_KEYS = {
    "lxc.aa_profile": "lxc.apparmor.profile", "lxc.aa_allow_incomplete": "lxc.apparmor.allow_incomplete",
    "lxc.console": "lxc.console.path", "lxc.devttydir": "lxc.tty.dir",
    "lxc.haltsignal": "lxc.signal.halt", "lxc.rebootsignal": "lxc.signal.reboot",
    "lxc.stopsignal": "lxc.signal.stop", "lxc.id_map": "lxc.idmap",
    "lxc.init_cmd": "lxc.init.cmd", "lxc.loglevel": "lxc.log.level",
    "lxc.logfile": "lxc.log.file", "lxc.mount": "lxc.mount.fstab",
    "lxc.network.type": "lxc.net.INDEX.type", "lxc.network.flags": "lxc.net.INDEX.flags",
    "lxc.network.link": "lxc.net.INDEX.link", "lxc.network.mtu": "lxc.net.INDEX.mtu",
    "lxc.network.name": "lxc.net.INDEX.name", "lxc.network.hwaddr": "lxc.net.INDEX.hwaddr",
    "lxc.network.ipv4": "lxc.net.INDEX.ipv4.address",
    "lxc.network.ipv4.gateway": "lxc.net.INDEX.ipv4.gateway",
    "lxc.network.ipv6": "lxc.net.INDEX.ipv6.address",
    "lxc.network.ipv6.gateway": "lxc.net.INDEX.ipv6.gateway",
    "lxc.network.script.up": "lxc.net.INDEX.script.up",
    "lxc.network.script.down": "lxc.net.INDEX.script.down",
    "lxc.pts": "lxc.pty.max", "lxc.se_context": "lxc.selinux.context",
    "lxc.seccomp": "lxc.seccomp.profile", "lxc.tty": "lxc.tty.max",
    "lxc.utsname": "lxc.uts.name",
}

SKIP_KEYS = ("digest", "description", "pending", "snapshots", "snapname", "env", "lxc")


def encode_text(text):
    """PVE::Tools::encode_text: percent-encode control, high-bit and ':'."""
    out = []
    for b in text.encode("utf-8"):
        if 0x20 <= b <= 0x39 or 0x3B <= b <= 0x7E:
            out.append(chr(b))
        else:
            out.append(f"%{b:02X}")
    return "".join(out)


def decode_text(data):
    return urllib.parse.unquote_to_bytes(data).decode("utf-8", errors="replace")


def is_valid_lxc_conf_key(vmid, key):
    if key.startswith("lxc.limit."):
        warn(f"vm {vmid} - {key}: lxc.limit.* was renamed to lxc.prlimit.*\n")
        return 1
    if key in DEPRECATED_LXC_KEYS:
        warn(f"vm {vmid} - {key} is deprecated and was renamed to {DEPRECATED_LXC_KEYS[key]}\n")
        return 1
    if key in VALID_LXC_KEYS:
        return VALID_LXC_KEYS[key]
    if re.match(r"lxc\.cgroup2?\.", key) or key.startswith("lxc.prlimit.") or key.startswith("lxc.net."):
        return 1
    return 0


def parse_config(vmid, raw):
    res = {"digest": hashlib.sha1(raw.encode("utf-8")).hexdigest(), "snapshots": {},
           "pending": {}}
    conf = res
    descr = ""
    section = ""
    for line in raw.split("\n"):
        if re.fullmatch(r"\s*", line):
            continue
        m = re.fullmatch(r"\[pve:pending\]\s*", line, re.I)
        if m:
            section = "pending"
            if descr:
                conf["description"] = descr
            descr = ""
            conf = res["pending"] = {}
            continue
        m = re.fullmatch(r"\[([a-z][a-z0-9_\-]+)\]\s*", line, re.I)
        if m:
            section = m.group(1)
            if descr:
                conf["description"] = descr
            descr = ""
            conf = res["snapshots"][section] = {}
            continue
        m = re.fullmatch(r"#(.*)", line)
        if m:
            descr += decode_text(m.group(1)) + "\n"
            continue
        m = re.fullmatch(r"(lxc\.[a-z0-9_\-.]+)(:|\s*=)\s*(.*?)\s*", line)
        if m:
            key, value = m.group(1), m.group(3)
            validity = is_valid_lxc_conf_key(vmid, key)
            if key == "lxc.environment.runtime":
                # since pve-container 6.0.15 these lines are the "env"
                # option, its entries joined by NUL characters
                conf["env"] = value if conf.get("env") is None else conf["env"] + "\0" + value
            elif validity == 1:
                conf.setdefault("lxc", []).append([key, value])
            elif validity:
                warn(f"vm {vmid} - {key}: {validity}\n")
            else:
                warn(f"vm {vmid} - unable to parse config: {line}\n")
            continue
        m = re.fullmatch(r"(description):\s*(.*\S)\s*", line)
        if m:
            descr += decode_text(m.group(2))
            continue
        m = re.search(r"snapstate:\s*(prepare|delete)\s*$", line)
        if m:
            conf["snapstate"] = m.group(1)
            continue
        m = re.fullmatch(r"delete:\s*(.*\S)\s*", line)
        if m:
            if section == "pending":
                conf["delete"] = m.group(1)
            else:
                warn(f"vm {vmid} - property 'delete' is only allowed in [pve:pending]\n")
            continue
        m = re.fullmatch(r"([a-z][a-z_]*\d*):\s*(.+?)\s*", line)
        if m:
            key, value = m.group(1), m.group(2)
            try:
                value = schema.config_check_type(key, value)
            except PveError as e:
                warn(f"vm {vmid} - unable to parse value of '{key}' - {e}")
            conf[key] = value
            continue
        warn(f"vm {vmid} - unable to parse config: {line}\n")
    if descr:
        conf["description"] = descr
    res.pop("snapstate", None)
    return res


def _generate_raw(conf):
    raw = ""
    for cl in (conf.get("description") or "").split("\n"):
        if cl == "":
            continue
        raw += "#" + encode_text(cl) + "\n"
    for key in sorted(conf):
        if key in SKIP_KEYS:
            continue
        value = str(conf[key])
        if "\n" in value:
            raise PveError(f"detected invalid newline inside property '{key}'\n")
        raw += f"{key}: {value}\n"
    for variable in re.split(r"\0+", conf.get("env") or ""):
        if variable:
            raw += f"lxc.environment.runtime: {variable}\n"
    for k, v in conf.get("lxc") or []:
        if k != "lxc.environment.runtime":
            raw += f"{k}: {v}\n"
    return raw


def write_config_text(conf):
    conf.pop("snapstate", None)
    raw = _generate_raw(conf)
    if conf.get("pending"):
        raw += "\n[pve:pending]\n" + _generate_raw(conf["pending"])
    for name in sorted(conf.get("snapshots") or {}):
        raw += f"\n[{name}]\n" + _generate_raw(conf["snapshots"][name])
    return raw


def load_config(env, vmid):
    path = env.conf_path(vmid)
    try:
        with open(path, encoding="utf-8") as f:
            raw = f.read()
    except FileNotFoundError:
        raise PveError(f"Configuration file '{env.cfs_path(vmid)}' does not exist\n")
    return parse_config(vmid, raw)


def write_config(env, vmid, conf):
    path = env.conf_path(vmid)
    tmp = f"{path}.tmp.{os.getpid()}"
    with open(tmp, "w", encoding="utf-8") as f:
        f.write(write_config_text(conf))
    os.rename(tmp, path)


def create_and_lock_config(env, vmid, conf):
    """Write a new config with lock=create; fails if it exists."""
    path = env.conf_path(vmid)
    conf = dict(conf)
    conf["lock"] = "create"
    fd = os.open(path, os.O_WRONLY | os.O_CREAT | os.O_EXCL, 0o640)
    with os.fdopen(fd, "w") as f:
        f.write(write_config_text(conf))


def check_lock(conf):
    if conf.get("lock"):
        raise PveError(f"CT is locked ({conf['lock']})\n")


def check_protection(conf, msg):
    if conf.get("protection") == "1":
        raise PveError(f"{msg} - protection mode enabled\n")


# ---- pending changes ----------------------------------------------------------------


def parse_pending_delete(text):
    res = {}
    for item in schema.split_list(text or ""):
        force = item.startswith("!")
        res[item.lstrip("!")] = force
    return res


def print_pending_delete(hash_):
    return ",".join(("!" if force else "") + k for k, force in sorted(hash_.items()))


def add_to_pending_delete(conf, key, force=False):
    h = parse_pending_delete(conf["pending"].get("delete"))
    conf["pending"].pop(key, None)
    h[key] = force
    conf["pending"]["delete"] = print_pending_delete(h)


def remove_from_pending_delete(conf, key):
    h = parse_pending_delete(conf["pending"].get("delete"))
    h.pop(key, None)
    if h:
        conf["pending"]["delete"] = print_pending_delete(h)
    else:
        conf["pending"].pop("delete", None)


def cleanup_pending(conf):
    pending = conf["pending"]
    changes = False
    for opt in list(pending):
        if opt == "delete":
            continue
        if conf.get(opt) is not None and pending[opt] == conf[opt]:
            changes = True
            del pending[opt]
    h = parse_pending_delete(pending.get("delete"))
    keep = {k: f for k, f in h.items() if conf.get(k) is not None}
    if len(keep) != len(h):
        changes = True
    if keep:
        pending["delete"] = print_pending_delete(keep)
    else:
        pending.pop("delete", None)
    return changes


def load_current_config(conf, current):
    res = {k: v for k, v in conf.items() if k not in ("snapshots", "pending")}
    if not current:
        for opt, value in conf["pending"].items():
            if opt == "delete":
                continue
            res[opt] = value
        for opt in parse_pending_delete(conf["pending"].get("delete")):
            if res.get(opt) not in (None, "", "0"):  # Perl: "delete ... if $conf->{$opt}"
                del res[opt]
    return res


def get_tty_count(conf):
    return int(conf.get("tty") or 2)
