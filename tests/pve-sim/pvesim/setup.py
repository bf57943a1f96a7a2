# SPDX-License-Identifier: LGPL-2.1-or-later
"""What PVE::LXC::Setup does inside the container's root filesystem:
detect the architecture and distribution after extracting a template, and
(re)write hostname, hosts, network configuration and resolv.conf before
every start. Skipped for ostype 'unmanaged' and, per file, when a
'.pve-ignore.<name>' file sits next to it.
"""

import os
import re
import struct

from .errors import PveError


def _resolve_in_root(rootfs, path, depth=0):
    """Follow symlinks of path inside rootfs (absolute links stay inside)."""
    if depth > 20:
        return None
    full = os.path.join(rootfs, path.lstrip("/"))
    if os.path.islink(full):
        target = os.readlink(full)
        if not target.startswith("/"):
            target = os.path.join(os.path.dirname("/" + path.lstrip("/")), target)
        return _resolve_in_root(rootfs, os.path.normpath(target), depth + 1)
    return full


def detect_architecture(rootfs):
    """PVE::LXC::Tools::detect_architecture: ELF header of /bin/sh."""
    path = _resolve_in_root(rootfs, "/bin/sh")
    try:
        with open(path, "rb") as f:
            hdr = f.read(20)
    except (OSError, TypeError):
        raise PveError("unable to open /bin/sh in the container - unknown architecture\n")
    if len(hdr) < 20 or hdr[:4] != b"\x7fELF":
        raise PveError("/bin/sh is not an ELF binary - unknown architecture\n")
    elf_class = hdr[4]
    machine = struct.unpack("<H", hdr[18:20])[0]
    arch = {0x3E: "amd64", 0x03: "i386", 0xB7: "arm64", 0x28: "armhf"}.get(machine)
    if machine == 0xF3:
        arch = "riscv64" if elf_class == 2 else "riscv32"
    if not arch:
        raise PveError(f"unsupported ELF machine type {machine}\n")
    return arch


def detect_ostype(rootfs):
    def exists(p):
        return os.path.exists(os.path.join(rootfs, p.lstrip("/")))

    def read(p):
        try:
            with open(os.path.join(rootfs, p.lstrip("/"))) as f:
                return f.read()
        except OSError:
            return ""

    if re.search(r"DISTRIB_ID=Ubuntu", read("/etc/lsb-release")):
        return "ubuntu"
    if exists("/etc/devuan_version"):
        return "devuan"
    if exists("/etc/debian_version"):
        return "debian"
    if exists("/etc/alpine-release"):
        return "alpine"
    if exists("/etc/arch-release"):
        return "archlinux"
    if exists("/etc/gentoo-release"):
        return "gentoo"
    if exists("/etc/fedora-release"):
        return "fedora"
    if exists("/etc/centos-release") or exists("/etc/redhat-release"):
        return "centos"
    if exists("/etc/SuSE-release") or re.search(r"^ID=\"?opensuse", read("/etc/os-release"), re.M):
        return "opensuse"
    if exists("/etc/NIXOS"):
        return "nixos"
    raise PveError("unable to detect OS distribution\n")


class Setup:
    """Writes the files a Proxmox setup plugin manages. Files are owned by
    the container's root (rootuid/rootgid on the host)."""

    def __init__(self, rootfs, conf, vmid, rootuid=0, rootgid=0):
        self.rootfs = rootfs
        self.conf = conf
        self.vmid = vmid
        self.uid = rootuid
        self.gid = rootgid

    def _ignored(self, path):
        d, name = os.path.split(path)
        return os.path.exists(os.path.join(self.rootfs, d.lstrip("/"), f".pve-ignore.{name}"))

    def _write(self, path, content, mode=0o644):
        if self._ignored(path):
            return
        full = os.path.join(self.rootfs, path.lstrip("/"))
        d = os.path.dirname(full)
        if not os.path.isdir(d):
            os.makedirs(d, exist_ok=True)
            os.chown(d, self.uid, self.gid)
        if os.path.islink(full):
            os.unlink(full)
        tmp = full + ".pve-sim.tmp"
        with open(tmp, "w") as f:
            f.write(content)
        os.chmod(tmp, mode)
        os.chown(tmp, self.uid, self.gid)
        os.rename(tmp, full)

    def hostname(self):
        return self.conf.get("hostname") or f"CT{self.vmid}"

    def set_hostname(self):
        name = self.hostname()
        short = name.split(".")[0]
        self._write("/etc/hostname", short + "\n")
        hosts = ("127.0.0.1\tlocalhost.localdomain localhost\n"
                 "::1\t\tlocalhost.localdomain localhost ip6-localhost ip6-loopback\n"
                 "fe00::0\t\tip6-localnet\nff00::0\t\tip6-mcastprefix\n"
                 "ff02::1\t\tip6-allnodes\nff02::2\t\tip6-allrouters\n"
                 "# --- BEGIN PVE ---\n")
        names = f"{name} {short}" if name != short else name
        hosts += f"127.0.1.1 {names}\n# --- END PVE ---\n"
        self._write("/etc/hosts", hosts)

    def setup_network(self, nets):
        """Debian-style /etc/network/interfaces (also read by busybox ifup)."""
        text = "auto lo\niface lo inet loopback\n"
        for _idx, net in nets:
            name = net.get("name")
            ip, gw = net.get("ip"), net.get("gw")
            ip6, gw6 = net.get("ip6"), net.get("gw6")
            if ip:
                method = {"dhcp": "dhcp", "manual": "manual"}.get(ip, "static")
                text += f"\nauto {name}\niface {name} inet {method}\n"
                if method == "static":
                    text += f"\taddress {ip}\n"
                    if gw:
                        text += f"\tgateway {gw}\n"
            if ip6:
                method = {"dhcp": "dhcp", "manual": "manual", "auto": "auto"}.get(ip6, "static")
                if not ip:
                    text += f"\nauto {name}\n"
                text += f"iface {name} inet6 {method}\n"
                if method == "static":
                    text += f"\taddress {ip6}\n"
                    if gw6:
                        text += f"\tgateway {gw6}\n"
        self._write("/etc/network/interfaces", text)

    def set_dns(self):
        ns = self.conf.get("nameserver")
        sd = self.conf.get("searchdomain")
        if ns is None and sd is None:
            ns_list, sd_list = host_dns()
        else:
            ns_list = (ns or "").split()
            sd_list = (sd or "").split()
        text = "# --- BEGIN PVE ---\n"
        if sd_list:
            text += "search " + " ".join(sd_list) + "\n"
        for server in ns_list:
            text += f"nameserver {server}\n"
        text += "# --- END PVE ---\n"
        self._write("/etc/resolv.conf", text)

    def set_timezone(self):
        tz = self.conf.get("timezone")
        if not tz:
            return
        if tz == "host":
            try:
                with open("/etc/timezone") as f:
                    tz = f.read().strip()
            except OSError:
                return
        self._write("/etc/timezone", tz + "\n")

    def set_user_password(self, password):
        import crypt  # noqa: deprecated module, still shipped with Python 3.11
        hashed = crypt.crypt(password, crypt.mksalt(crypt.METHOD_SHA512))
        path = os.path.join(self.rootfs, "etc/shadow")
        lines = []
        try:
            with open(path) as f:
                lines = f.read().splitlines()
        except OSError:
            pass
        out, found = [], False
        for line in lines:
            fields = line.split(":")
            if fields and fields[0] == "root":
                fields += [""] * (9 - len(fields))
                fields[1] = hashed
                line = ":".join(fields)
                found = True
            out.append(line)
        if not found:
            out.append(f"root:{hashed}:19000:0:99999:7:::")
        self._write("/etc/shadow", "\n".join(out) + "\n", 0o640)

    def set_ssh_keys(self, keys):
        self._write("/root/.ssh/authorized_keys", keys if keys.endswith("\n") else keys + "\n",
                    0o600)

    def run(self, nets):
        """post_create_hook / pre_start_hook of a managed distribution."""
        if self.conf.get("ostype") == "unmanaged":
            return
        self.set_hostname()
        self.setup_network(nets)
        self.set_dns()
        self.set_timezone()


def host_dns():
    ns, sd = [], []
    try:
        with open("/etc/resolv.conf") as f:
            for line in f:
                m = re.match(r"\s*nameserver\s+(\S+)", line)
                if m:
                    ns.append(m.group(1))
                m = re.match(r"\s*(?:search|domain)\s+(.+)", line)
                if m:
                    sd = m.group(1).split()
    except OSError:
        pass
    return ns, sd
