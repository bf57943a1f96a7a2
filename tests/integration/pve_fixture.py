# SPDX-License-Identifier: LGPL-2.1-or-later
"""The Proxmox VE test double (tests/pve-sim) as a pytest fixture.

  pve_sim        factory: pve_sim(ovs=None, node="pve") returns a PveSim, a
                 simulated Proxmox node with its own state directory; with an
                 OvsSandbox the containers' NICs are plugged into that
                 sandbox (its OVSDB, inside its network namespace). Every
                 container is stopped and destroyed, and every file, veth
                 and firewall bridge removed, when the test ends; leftovers
                 fail the test.
  pve_templates  session-wide directory of busybox templates (the source of
                 `pveam download`)

Typical use:

    def test_x(ovs, pve_sim):
        ovs.vsctl("add-br", "vmbr0", "--", "set", "bridge", "vmbr0",
                  "datapath_type=netdev")
        pve = pve_sim(ovs)
        pve.pct("create", 100, pve.template, "--rootfs", "local-lvm:1",
                "--net0", "name=eth0,bridge=vmbr0,ip=10.0.0.1/24", check=0)
        pve.pct("start", 100, check=0)
        opdbus.run(..., env=pve.env())   # PVE_SIM_*, PATH with tests/pve-sim first
"""

import atexit
import json
import os
import re
import shutil
import signal
import subprocess
import tempfile
import time
from pathlib import Path

import pytest

SOURCE_ROOT = Path(os.environ.get("OPDBUS_SOURCE_ROOT") or Path(__file__).resolve().parents[2])
PVE_SIM_DIR = SOURCE_ROOT / "tests" / "pve-sim"
PCT = str(PVE_SIM_DIR / "pct")
PVEAM = str(PVE_SIM_DIR / "pveam")
PVESM = str(PVE_SIM_DIR / "pvesm")

# The default template: a busybox rootfs named like Proxmox's Debian 12 one.
DEFAULT_TEMPLATE = "debian-12-standard_12.7-1_amd64.tar." + ("zst" if shutil.which("zstd") else "gz")

# OVS log lines that are expected whenever a container stops: its netns
# (and with it the host side veth) goes away before the post-stop hook runs
# `ovs-vsctl del-port`, exactly as on Proxmox.
OVS_LOG_ALLOW = (
    r"error receiving data from (veth|fwln)\d+[io]\d+",
    r"(veth|fwln)\d+[io]\d+.*(No such device|Network is down)",
)

# State directories of sims not cleaned up yet (last resort at exit).
_LIVE = set()

_IFACE_RE = re.compile(r"(veth\d+i\d+p?|fwbr\d+i\d+|fwln\d+[io]\d+|fwpr\d+p\d+)")


# Options for pct create with add_systemd_template().
SYSTEMD_MOUNTS = ("--mp0", "/usr,mp=/usr,ro=1", "--mp1", "/var/lib/dpkg,mp=/var/lib/dpkg,ro=1")


def run(cmd, **kw):
    return subprocess.run([str(c) for c in cmd], capture_output=True, text=True, **kw)


def _links(netns):
    """{name: ifindex} of the namespace's interfaces."""
    cmd = ["ip", "-j", "link", "show"]
    if netns:
        cmd = ["nsenter", f"--net=/run/netns/{netns}", "--"] + cmd
    res = run(cmd)
    try:
        return {link["ifname"]: link["ifindex"] for link in json.loads(res.stdout or "[]")}
    except ValueError:
        return {}


def pids_naming(path):
    """Live processes whose command line names path or a file below it
    (LXC's monitors name their lxcpath)."""
    pattern = re.compile(re.escape(path) + r"(/|\s|$)")
    pids = []
    for entry in os.listdir("/proc"):
        if not entry.isdigit():
            continue
        try:
            with open(f"/proc/{entry}/cmdline", "rb") as f:
                cmdline = f.read().replace(b"\0", b" ").decode(errors="replace")
            with open(f"/proc/{entry}/stat") as f:
                state = f.read().rsplit(")", 1)[1].split()[0]
        except OSError:
            continue
        if state not in ("Z", "X") and pattern.search(cmdline):
            pids.append(int(entry))
    return pids


def remove_lxc_lock_dir(lxcpath):
    """Removes LXC's lock files for an lxcpath (/run/lxc/lock/<lxcpath>) and
    the parents that are empty then; returns the files that were there."""
    lockdir = "/run/lxc/lock" + lxcpath
    left = []
    if os.path.isdir(lockdir):
        left = [os.path.relpath(os.path.join(d, f), lockdir) for d, _dirs, files in os.walk(lockdir) for f in files]
        shutil.rmtree(lockdir, ignore_errors=True)
    d = os.path.dirname(lockdir)
    while d.startswith("/run/lxc/lock/"):
        try:
            os.rmdir(d)
        except OSError:
            break
        d = os.path.dirname(d)
    return left


class PveSim:
    """One simulated Proxmox VE node (see tests/pve-sim/README.md)."""

    def __init__(self, template_dir, ovs=None, node="pve"):
        self.ovs = ovs
        self.node = node
        self.template_dir = str(template_dir)
        # Directly below /tmp and world-searchable: unprivileged containers
        # (uid 100000) must be able to reach their root filesystems.
        self.root = tempfile.mkdtemp(prefix="pve-sim-", dir="/tmp")
        os.chmod(self.root, 0o755)
        _LIVE.add(self)
        self.closed = False
        self.netns = ovs.netns if ovs else None
        self.ovsdb = ovs.db_remote if ovs else None
        # Without a sandbox the containers' interfaces would be in the
        # host's namespace, next to those of a Proxmox node's own
        # containers (veth100i0, ...): only interfaces of this sim's
        # container ids that were not there before are the sim's.
        self.vmids = set()
        self.host_links = {} if self.netns else self._container_links()
        self.template = self.add_template(DEFAULT_TEMPLATE)

    # ---- environment ---------------------------------------------------------

    def env(self):
        """The variables to add to an environment to run pct/pveam (or
        op-dbus) against this node: PVE_SIM_*, OPDBUS_PVE_DIR and a PATH
        with tests/pve-sim first."""
        env = {}
        env.update({
            "PVE_SIM_ROOT": self.root,
            "PVE_SIM_NODE": self.node,
            "PVE_SIM_TEMPLATE_SOURCE": self.template_dir,
            "OPDBUS_PVE_DIR": self.path("etc/pve"),
            "PATH": f"{PVE_SIM_DIR}:{os.environ.get('PATH', '/usr/sbin:/usr/bin:/sbin:/bin')}",
        })
        if self.netns:
            env["PVE_SIM_NETNS"] = self.netns
        if self.ovsdb:
            env["PVE_SIM_OVSDB"] = self.ovsdb
        return env

    def path(self, rel):
        return os.path.join(self.root, rel.lstrip("/"))

    # ---- tools ----------------------------------------------------------------

    def _tool(self, tool, args, check, input, timeout, env):
        run_env = dict(os.environ)
        run_env.update(self.env())
        if env:
            run_env.update(env)
        res = subprocess.run([tool, *(str(a) for a in args)], input=input, capture_output=True,
                             text=True, env=run_env, timeout=timeout)
        if check is not None and check is not False:
            expected = 0 if check is True else check
            assert res.returncode == expected, (
                f"{os.path.basename(tool)} {' '.join(map(str, args))}: exit code "
                f"{res.returncode}, expected {expected}\n--- stdout ---\n{res.stdout}"
                f"--- stderr ---\n{res.stderr}")
        return res

    def pct(self, *args, check=None, input=None, timeout=120, env=None):
        """Run pct; check=None accepts any exit code, True/int requires it."""
        return self._tool(PCT, args, check, input, timeout, env)

    def pveam(self, *args, check=None, input=None, timeout=60, env=None):
        return self._tool(PVEAM, args, check, input, timeout, env)

    def pvesm(self, *args, check=None, input=None, timeout=60, env=None):
        return self._tool(PVESM, args, check, input, timeout, env)

    def add_storage(self, text):
        """Appends a storage definition to etc/pve/storage.cfg, e.g.
        "zfspool: local-zfs\n\tpool rpool/data\n\tcontent images,rootdir\n"."""
        with open(self.path("etc/pve/storage.cfg"), "a") as f:
            f.write(text.rstrip("\n") + "\n\n")

    def add_template(self, name, storage="local"):
        """Make a template available in the storage's cache; returns its
        volume id. Built (busybox) on first use in the session."""
        src = os.path.join(self.template_dir, name)
        if not os.path.exists(src):
            run([PVE_SIM_DIR / "mkbusyboxtmpl", src], check=True)
        self.pveam("download", storage, name, check=0)
        return f"{storage}:vztmpl/{name}"

    def add_systemd_template(self, name="debian-12-systemd_12.0-1_amd64.tar.gz"):
        """A template whose containers boot the host's systemd: /usr and
        dpkg's database come from the host through read-only bind mount
        points (SYSTEMD_MOUNTS, to pass to create), the rest is a minimal
        Debian /etc. Its usr/bin/sh is busybox, for pct create's
        architecture check; the bind mount hides it at run time."""
        src = os.path.join(self.template_dir, name)
        if not os.path.exists(src):
            with tempfile.TemporaryDirectory(prefix="pve-sim-sd-") as tmp:
                root = os.path.join(tmp, "rootfs")
                for d in ("usr/bin", "etc/systemd/system", "var/lib/dpkg", "var/log", "run", "tmp", "proc",
                          "sys", "dev", "root", "home", "mnt"):
                    os.makedirs(os.path.join(root, d), exist_ok=True)
                for link, target in (("bin", "usr/bin"), ("sbin", "usr/sbin"), ("lib", "usr/lib"),
                                     ("lib64", "usr/lib64")):
                    os.symlink(target, os.path.join(root, link))
                shutil.copy2("/bin/busybox", os.path.join(root, "usr/bin/sh"))
                with open("/usr/lib/os-release") as f:
                    os_release = f.read()
                files = {"etc/passwd": "root:x:0:0:root:/root:/bin/sh\n"
                                       "nobody:x:65534:65534:nobody:/nonexistent:/usr/sbin/nologin\n",
                         "etc/group": "root:x:0:\nnogroup:x:65534:\n", "etc/machine-id": "",
                         "etc/hostname": "localhost\n", "etc/hosts": "127.0.0.1 localhost\n",
                         "etc/os-release": os_release, "etc/debian_version": "12.0\n",
                         "etc/resolv.conf": "", "etc/fstab": ""}
                for rel, content in files.items():
                    with open(os.path.join(root, rel), "w") as f:
                        f.write(content)
                run(["tar", "-czf", src, "--numeric-owner", "--owner=0", "--group=0", "-C", root, "."],
                     check=True)
        self.pveam("download", "local", name, check=0)
        return f"local:vztmpl/{name}"

    def create(self, vmid, *opts, template=None, check=0):
        """pct create with sensible test defaults (1 GiB rootfs on
        local-lvm, unprivileged); extra options override them."""
        self.vmids.add(int(vmid))
        args = ["create", vmid, template or self.template]
        names = {str(o).lstrip("-").lower() for o in opts if str(o).startswith("-")}
        if "rootfs" not in names:
            args += ["--rootfs", "local-lvm:1"]
        if "unprivileged" not in names:
            args += ["--unprivileged", "1"]
        return self.pct(*args, *opts, check=check)

    # ---- files ------------------------------------------------------------------

    def conf_path(self, vmid):
        return self.path(f"etc/pve/nodes/{self.node}/lxc/{vmid}.conf")

    def read_conf(self, vmid):
        with open(self.conf_path(vmid)) as f:
            return f.read()

    def write_conf(self, vmid, text):
        with open(self.conf_path(vmid), "w") as f:
            f.write(text)

    def add_raw_lxc(self, vmid, *lines):
        """Insert raw lxc.* lines before the first [section], as an admin
        (or op-dbus) editing the file would."""
        text = self.read_conf(vmid)
        m = re.search(r"^\[", text, re.M)
        pos = m.start() if m else len(text)
        head, tail = text[:pos], text[pos:]
        if head and not head.endswith("\n"):
            head += "\n"
        if m:
            head = head.rstrip("\n") + "\n"
        self.write_conf(vmid, head + "".join(line + "\n" for line in lines)
                        + ("\n" if m else "") + tail)

    def add_vm(self, vmid, node=None):
        """A QEMU VM config (its id is taken cluster-wide)."""
        d = self.path(f"etc/pve/nodes/{node or self.node}/qemu-server")
        os.makedirs(d, exist_ok=True)
        with open(os.path.join(d, f"{vmid}.conf"), "w") as f:
            f.write("memory: 512\nname: vm\n")

    def commands(self):
        """External commands the double ran (ovs-vsctl, lxc-start, ...)."""
        try:
            with open(self.path("var/log/pve-sim/commands.log")) as f:
                return [json.loads(line) for line in f]
        except FileNotFoundError:
            return []

    def vsctl_calls(self):
        return [c["argv"][1:] for c in self.commands() if c["argv"][0] == "ovs-vsctl"]

    def lxc(self, tool, vmid, *args):
        """Run an LXC tool against a container of this node (in its netns)."""
        cmd = [tool, "-P", self.path("var/lib/lxc"), "-n", str(vmid), *map(str, args)]
        if self.netns:
            cmd = ["nsenter", f"--net=/run/netns/{self.netns}", "--"] + cmd
        return run(cmd)

    def lxc_state(self, vmid):
        return self.lxc("lxc-info", vmid, "-s", "-H").stdout.strip() or None

    def _container_links(self):
        return {n: i for n, i in _links(self.netns).items() if _IFACE_RE.fullmatch(n)}

    def links(self):
        """Host side devices of this node's containers (in the netns)."""
        links = self._container_links()
        if self.netns:
            return sorted(links)
        return sorted(n for n, i in links.items() if self.host_links.get(n) != i
                      and int(re.match(r"\D+(\d+)", n).group(1)) in self.vmids)

    def ct_ids(self):
        d = self.path(f"etc/pve/nodes/{self.node}/lxc")
        try:
            ids = sorted(int(n[:-5]) for n in os.listdir(d) if n.endswith(".conf"))
        except FileNotFoundError:
            return []
        self.vmids.update(ids)
        return ids

    # ---- clean-up ----------------------------------------------------------------

    def leftovers(self):
        """Anything of this sim that still exists besides its directory."""
        res = {}
        lxcpath = self.path("var/lib/lxc")
        if os.path.isdir(lxcpath):
            names = run(["lxc-ls", "-P", lxcpath]).stdout.split()
            if names:
                res["lxc containers"] = names
        pids = pids_naming(self.root)
        if pids:
            res["processes"] = pids
        mounts = self.mounts()
        if mounts:
            res["mounts"] = mounts
        links = self.links() if (self.netns is None or os.path.exists(
            f"/run/netns/{self.netns}")) else []
        if links:
            res["interfaces"] = links
        return res

    def mounts(self):
        """File systems mounted below the sim's directory (pct mount)."""
        with open("/proc/self/mountinfo") as f:
            return [line.split()[4] for line in f if line.split()[4].startswith(self.root + "/")]

    def close(self):
        """Stop and destroy every container, remove what is left, delete the
        state directory. Returns a description of what had to be removed by
        force (empty if the double cleaned up after itself)."""
        if self.closed:
            return {}
        problems = {}
        for vmid in self.ct_ids():
            res = self.pct("destroy", vmid, "--force", "--purge")
            if res.returncode != 0:
                # e.g. protection or a lock set by the test
                text = self.read_conf(vmid)
                text = re.sub(r"^(lock|protection):.*\n", "", text, flags=re.M)
                self.write_conf(vmid, text)
                res = self.pct("destroy", vmid, "--force", "--purge")
                if res.returncode != 0:
                    problems.setdefault("destroy failed", []).append(
                        f"{vmid}: {res.stderr.strip()}")
        left = self.leftovers()
        if left:
            problems.update(left)
            self._force_cleanup()
        # LXC's own lock files for our lxcpath (/run/lxc/lock/<lxcpath>)
        left_locks = remove_lxc_lock_dir(self.root)
        if left_locks:
            problems["lxc lock files"] = left_locks
        shutil.rmtree(self.root, ignore_errors=True)
        if os.path.exists(self.root):
            problems["directory"] = self.root
        self.closed = True
        _LIVE.discard(self)
        return problems

    def _force_cleanup(self):
        for mount in reversed(self.mounts()):
            run(["umount", "-l", mount])
        lxcpath = self.path("var/lib/lxc")
        for name in run(["lxc-ls", "-P", lxcpath]).stdout.split():
            self.lxc("lxc-stop", name, "--kill")
        pids = pids_naming(self.root)
        for pid in pids:
            try:
                os.kill(pid, signal.SIGKILL)
            except ProcessLookupError:
                pass
        deadline = time.monotonic() + 5
        while pids_naming(self.root) and time.monotonic() < deadline:
            time.sleep(0.05)
        if self.netns is None or os.path.exists(f"/run/netns/{self.netns}"):
            prefix = ["nsenter", f"--net=/run/netns/{self.netns}", "--"] if self.netns else []
            for name in self.links():
                if name.startswith("fwln") and "o" in name[4:] and self.ovsdb:
                    run(prefix + ["ovs-vsctl", f"--db={self.ovsdb}", "--if-exists", "del-port",
                                   name])
                else:
                    run(prefix + ["ip", "link", "delete", "dev", name])


def close_all():
    for sim in list(_LIVE):
        try:
            sim.close()
        except Exception:  # noqa: BLE001 - last resort, keep going
            pass


atexit.register(close_all)


@pytest.fixture(scope="session")
def pve_templates(tmp_path_factory):
    """Directory with busybox templates, shared by the session."""
    if os.geteuid() != 0:
        pytest.skip("the Proxmox test double needs root")
    missing = [tool for tool in ("lxc-start", "lxc-attach", "lxc-usernsexec", "nsenter", "tar")
               if not shutil.which(tool)]
    if missing or not os.path.exists("/bin/busybox"):
        pytest.skip("the Proxmox test double needs the Debian packages lxc and busybox-static "
                    f"(missing: {' '.join(missing) or '/bin/busybox'}); run tests/deps.sh")
    d = tmp_path_factory.mktemp("pve-templates")
    os.chmod(d, 0o755)
    return d


@pytest.fixture
def pve_sim(request, pve_templates):
    """Factory: pve_sim(ovs=None, node="pve") -> PveSim. Everything is
    cleaned up at the end of the test; leftovers fail it."""
    sims = []
    if "ovs" in request.fixturenames:
        # set the sandbox up first, so that it is torn down after the sims
        request.getfixturevalue("ovs")
    # Expected OVS log lines of stopping containers (see OVS_LOG_ALLOW).
    request.node.add_marker(pytest.mark.ovs_log_allow(*OVS_LOG_ALLOW))

    def make(ovs=None, node="pve"):
        sim = PveSim(pve_templates, ovs=ovs, node=node)
        sims.append(sim)
        return sim

    yield make

    problems = {}
    for sim in reversed(sims):
        left = sim.close()
        if left:
            problems[sim.root] = left
    if problems:
        pytest.fail(f"pve-sim did not clean up after itself: {problems}", pytrace=False)
