# SPDX-License-Identifier: LGPL-2.1-or-later
"""Where the simulated node keeps its state, and process helpers.

Everything lives below $PVE_SIM_ROOT, laid out like a Proxmox node:

  etc/pve/nodes/<node>/lxc/<vmid>.conf     container configurations
  etc/pve/nodes/<node>/qemu-server/        VM configurations (only the ids
                                           matter: they block CT ids)
  etc/pve/lxc, etc/pve/qemu-server         symlinks to the local node's dirs
  etc/pve/storage.cfg                      storage definitions
  var/lib/vz/template/cache/               templates of storage 'local'
  var/lib/lxc/<vmid>/config                generated LXC configuration
  run/lock/lxc/pve-config-<vmid>.lock      configuration locks
  run/pve/ct-<vmid>.stderr                 lxc-start's stderr (start log)
  run/pve-sim/ct-<vmid>.json               how a running CT was started
  var/log/pve-sim/commands.log             external commands (JSON lines)
"""

import fcntl
import json
import os
import shlex
import subprocess
import sys
import time

from .errors import PveError

ENV_ROOT = "PVE_SIM_ROOT"
SIM_DIR = os.path.dirname(os.path.dirname(os.path.abspath(__file__)))

DEFAULT_STORAGE_CFG = """\
dir: local
\tpath /var/lib/vz
\tcontent iso,vztmpl,backup

lvmthin: local-lvm
\tthinpool data
\tvgname pve
\tcontent rootdir,images

"""


class Env:
    def __init__(self):
        root = os.environ.get(ENV_ROOT)
        if not root:
            raise PveError(f"{ENV_ROOT} is not set: the test double only works on a private "
                           "state directory\n")
        root = os.path.realpath(root)
        if root == "/" or not os.path.isdir(root):
            raise PveError(f"{ENV_ROOT} '{root}' is not an existing directory (or is /)\n")
        self.root = root
        self.node = os.environ.get("PVE_SIM_NODE") or "pve"
        self.netns = os.environ.get("PVE_SIM_NETNS") or None
        self.ovsdb = (os.environ.get("PVE_SIM_OVSDB") or os.environ.get("OPDBUS_OVSDB")
                      or (f"unix:{os.environ['OVS_RUNDIR']}/db.sock"
                          if os.environ.get("OVS_RUNDIR") else None))
        lt = os.environ.get("PVE_SIM_LOCK_TIMEOUT")
        self.lock_timeout = float(lt) if lt else None
        self.template_source = os.environ.get("PVE_SIM_TEMPLATE_SOURCE") or None
        self._init_layout()

    # ---- paths ------------------------------------------------------------

    def path(self, *parts):
        """Absolute path of a node path such as '/etc/pve/storage.cfg'."""
        rel = os.path.join(*parts).lstrip("/")
        return os.path.join(self.root, rel)

    @property
    def pve(self):
        return self.path("etc/pve")

    def node_dir(self, node=None):
        return os.path.join(self.pve, "nodes", node or self.node)

    def conf_path(self, vmid, node=None):
        return os.path.join(self.node_dir(node), "lxc", f"{vmid}.conf")

    def cfs_path(self, vmid, node=None):
        """The path as pmxcfs names it in messages."""
        return f"nodes/{node or self.node}/lxc/{vmid}.conf"

    @property
    def lxcpath(self):
        return self.path("var/lib/lxc")

    def lock_path(self, vmid):
        return self.path(f"run/lock/lxc/pve-config-{vmid}.lock")

    def runstate_path(self, vmid):
        return self.path(f"run/pve-sim/ct-{vmid}.json")

    def stderr_log(self, vmid):
        return self.path(f"run/pve/ct-{vmid}.stderr")

    def _init_layout(self):
        for d in (
            self.node_dir() + "/lxc",
            self.node_dir() + "/qemu-server",
            self.path("etc/pve/firewall"),
            self.path("var/lib/vz/template/cache"),
            self.path("var/lib/lxc"),
            self.path("run/lock/lxc"),
            self.path("run/pve"),
            self.path("run/pve-sim"),
            self.path("var/log/pve-sim"),
        ):
            os.makedirs(d, exist_ok=True)
        for name in ("lxc", "qemu-server"):
            link = os.path.join(self.pve, name)
            target = f"nodes/{self.node}/{name}"
            if os.path.islink(link) and os.readlink(link) != target:
                os.unlink(link)
            if not os.path.lexists(link):
                os.symlink(target, link)
        cfg = os.path.join(self.pve, "storage.cfg")
        if not os.path.exists(cfg):
            with open(cfg, "w") as f:
                f.write(DEFAULT_STORAGE_CFG)

    # ---- cluster-wide guest list -----------------------------------------

    def guest_owner(self, vmid):
        """(type, node) of the guest using vmid anywhere in the 'cluster',
        or None. Type is 'lxc' or 'qemu'."""
        nodes = os.path.join(self.pve, "nodes")
        for node in sorted(os.listdir(nodes)):
            for typ, sub in (("lxc", "lxc"), ("qemu", "qemu-server")):
                if os.path.exists(os.path.join(nodes, node, sub, f"{vmid}.conf")):
                    return typ, node
        return None

    def local_ct_ids(self):
        d = os.path.join(self.node_dir(), "lxc")
        ids = []
        for name in os.listdir(d):
            if name.endswith(".conf") and name[:-5].isdigit():
                ids.append(int(name[:-5]))
        return sorted(ids)

    # ---- command execution ------------------------------------------------

    def log_command(self, argv, netns=None):
        try:
            with open(self.path("var/log/pve-sim/commands.log"), "a") as f:
                f.write(json.dumps({"time": time.time(), "netns": netns, "argv": argv}) + "\n")
        except OSError:
            pass

    def netns_prefix(self, netns):
        if not netns:
            return []
        return ["nsenter", f"--net=/run/netns/{netns}", "--"]

    def run(self, argv, netns=None, check=True, log=False, input=None, timeout=60,
            errmsg=None):
        """Run a command (inside netns if given). Returns CompletedProcess.
        With check, a failure dies with Proxmox's run_command message."""
        if log:
            self.log_command(argv, netns)
        full = self.netns_prefix(netns) + list(argv)
        try:
            res = subprocess.run(full, input=input, capture_output=True, text=True,
                                 timeout=timeout, stdin=None if input is not None
                                 else subprocess.DEVNULL)
        except FileNotFoundError:
            if check:
                raise PveError(f"command '{shlex.join(argv)}' failed: not found\n")
            return subprocess.CompletedProcess(full, 127, "", "not found")
        except subprocess.TimeoutExpired:
            if check:
                raise PveError(f"command '{shlex.join(argv)}' failed: got timeout\n")
            return subprocess.CompletedProcess(full, 124, "", "timeout")
        if check and res.returncode != 0:
            msg = errmsg or f"command '{shlex.join(argv)}' failed: exit code {res.returncode}\n"
            if res.stderr.strip() and not errmsg:
                msg = res.stderr.strip() + "\n" + msg
            raise PveError(msg)
        return res

    def netns_exists(self, netns):
        return netns is None or os.path.exists(f"/run/netns/{netns}")


# ---- config locks ---------------------------------------------------------------


class Worker:
    """Whether a task worker runs: fork_worker sends the worker's stderr to
    its stdout, so what Perl prints on STDERR there reaches pct's stdout."""
    active = False


def perl_stderr(text):
    """print STDERR: on stderr, or inside a worker in the task output."""
    stream = sys.stdout if Worker.active else sys.stderr
    stream.write(text)
    stream.flush()


class ConfigLock:
    """flock() on the CT's lock file, like PVE::Tools::lock_file_full: when
    the lock is busy it says "trying to acquire lock..." and waits, then
    " OK" once it has it, or dies with "can't lock file '<path>' - got
    timeout" when the timeout (run_with_timeout's alarm) expires first."""

    def __init__(self, env, vmid, timeout=10):
        self.env = env
        self.path = env.lock_path(vmid)
        self.timeout = env.lock_timeout if env.lock_timeout is not None else timeout
        self.fd = None

    def __enter__(self):
        try:
            self.fd = os.open(self.path, os.O_WRONLY | os.O_APPEND | os.O_CREAT | os.O_CLOEXEC, 0o644)
        except OSError as err:
            raise PveError(f"can't lock file '{self.path}' - can't open file - "
                           f"{os.strerror(err.errno)}\n")
        try:
            fcntl.flock(self.fd, fcntl.LOCK_EX | fcntl.LOCK_NB)
            return self
        except BlockingIOError:
            pass
        perl_stderr("trying to acquire lock...\n")
        deadline = time.monotonic() + self.timeout
        while True:
            try:
                fcntl.flock(self.fd, fcntl.LOCK_EX | fcntl.LOCK_NB)
                perl_stderr(" OK\n")
                return self
            except BlockingIOError:
                if time.monotonic() >= deadline:
                    os.close(self.fd)
                    self.fd = None
                    raise PveError(f"can't lock file '{self.path}' - got timeout\n")
                time.sleep(0.05)

    def __exit__(self, *exc):
        if self.fd is not None:
            os.close(self.fd)
            self.fd = None


def out(text=""):
    sys.stdout.write(text + "\n")
    sys.stdout.flush()


def warn(text):
    sys.stderr.write(text if text.endswith("\n") else text + "\n")
    sys.stderr.flush()
