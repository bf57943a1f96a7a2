# SPDX-License-Identifier: LGPL-2.1-or-later
"""A private OVN cluster for integration tests: a central and N nodes.

  OvnCentral  the northbound and southbound ovsdb-servers (Debian's
              schemas, /usr/share/ovn/ovn-{nb,sb}.ovsschema) and ovn-northd,
              in a directory and a network namespace of their own. The
              cluster network lives in that namespace too: a Linux bridge
              ("cluster") that every node's uplink veth is a port of.
  OvnNode     an OvsSandbox (ovs_sandbox.py) with
                br-int   the integration bridge (netdev, fail_mode secure),
                         created here, since ovn-controller would create a
                         kernel-datapath one;
                br-phy   a netdev bridge holding the node's end of its veth
                         ("eth-cluster"); the node's tunnel address is on
                         br-phy's tap device in the node's namespace, which
                         is how the userspace datapath carries tunnels
                         (Open vSwitch's userspace-tunneling documentation:
                         ovs-vswitchd routes and resolves the tunnel's outer
                         header through that device);
              and an ovn-controller of its own (its system-id, Geneve).
  OvnCluster  both, and the Lab helpers (netlab.Lab) for containers:
              cluster.container(node, name, mac, ip) is a namespace on the
              node's br-int through a veth whose OVS port carries
              external_ids:iface-id = the logical port's name when given.

The daemons reach each other over unix sockets in the central's directory:
a unix socket is a file, so it crosses network namespaces, and neither the
control traffic nor a test depends on the tunnels for it. The databases
also listen on TCP on the loopback of the central's namespace, for
clients run there (OvnCentral.tcp_remote). Only the data
path (Geneve, UDP 6081) goes over the cluster network.

close() stops every daemon, deletes every namespace and removes every
directory this object created; the host's Open vSwitch and OVN (their
sockets under /var/run/openvswitch and /var/run/ovn) are never used: every
tool gets an explicit --db and OVS_RUNDIR/OVN_RUNDIR pointing here.
"""

import os
import shutil
import tempfile
import time

from netlab import Lab, run
from ovs_sandbox import (CREATED_NETNS, SANDBOX_PARENT, STARTED_DAEMONS, OvsSandbox, _kill_and_wait,
                         _pids_naming, _run, _runs_in, netns_list, process_alive)

NB_SCHEMA = "/usr/share/ovn/ovn-nb.ovsschema"
SB_SCHEMA = "/usr/share/ovn/ovn-sb.ovsschema"
CLUSTER_NET = "192.168.77"      # the cluster network: .1 unused, nodes from .11
GENEVE_PORT = 6081
CLUSTER_MTU = 1600
# The databases also listen on TCP, on the loopback of the central's
# namespace (tcp_remote): for a client run in that namespace.
NB_PORT, SB_PORT = 6641, 6642
OVN_TOOLS = ("ovsdb-server", "ovn-northd", "ovn-controller", "ovn-nbctl", "ovn-sbctl")


def missing_tools():
    """OVN programs and schemas that are not installed (tests/deps.sh installs them)."""
    missing = [t for t in OVN_TOOLS if shutil.which(t) is None]
    missing += [s for s in (NB_SCHEMA, SB_SCHEMA) if not os.path.exists(s)]
    return missing


def _wait_for(what, predicate, timeout=30):
    deadline = time.monotonic() + timeout
    while not predicate():
        if time.monotonic() > deadline:
            raise RuntimeError(f"timed out waiting for {what}")
        time.sleep(0.05)


class OvnCentral:
    """Northbound and southbound ovsdb-servers and ovn-northd."""

    DAEMONS = ("ovn-northd", "ovsdb-server-nb", "ovsdb-server-sb")

    def __init__(self):
        self.dir = tempfile.mkdtemp(prefix="opdbus-ovn-", dir=SANDBOX_PARENT)
        self.netns = None
        self._closed = False
        try:
            self._create()
        except BaseException:
            self.close()
            raise

    def path(self, name):
        return os.path.join(self.dir, name)

    @property
    def nb_remote(self):
        return "unix:" + self.path("nb.sock")

    @property
    def sb_remote(self):
        return "unix:" + self.path("sb.sock")

    @staticmethod
    def tcp_remote(db):
        """tcp:127.0.0.1:PORT of "nb" or "sb", reachable inside the central's namespace."""
        return f"tcp:127.0.0.1:{NB_PORT if db == 'nb' else SB_PORT}"

    def env(self):
        env = dict(os.environ)
        for var in ("OVS_RUNDIR", "OVS_DBDIR", "OVS_LOGDIR", "OVS_SYSCONFDIR",
                    "OVN_RUNDIR", "OVN_DBDIR", "OVN_LOGDIR", "OVN_SYSCONFDIR"):
            env[var] = self.dir
        return env

    def _create(self):
        self.netns = "opdbus-ovn-" + os.path.basename(self.dir)[-8:].replace("_", "x")
        run(["ip", "netns", "add", self.netns])
        CREATED_NETNS.add(self.netns)
        self.netns_exec("ip", "link", "set", "lo", "up")
        self.netns_exec("ip", "link", "add", "cluster", "mtu", str(CLUSTER_MTU), "type", "bridge")
        self.netns_exec("ip", "link", "set", "cluster", "up")
        for db, schema, port in (("nb", NB_SCHEMA, NB_PORT), ("sb", SB_SCHEMA, SB_PORT)):
            _run(["ovsdb-tool", "create", self.path(f"{db}.db"), schema], env=self.env())
            self._start(f"ovsdb-server-{db}", "ovsdb-server",
                        [self.path(f"{db}.db"), f"--remote=punix:{self.path(db + '.sock')}",
                         f"--remote=ptcp:{port}:127.0.0.1"])
        # The clients create their rows; the NB_Global/SB_Global rows are
        # what ovn-ctl's start creates first.
        self.nbctl("--no-wait", "init")
        self.sbctl("init")
        self._start("ovn-northd", "ovn-northd",
                    [f"--ovnnb-db={self.nb_remote}", f"--ovnsb-db={self.sb_remote}"])

    def _start(self, name, program, args):
        cmd = ["ip", "netns", "exec", self.netns, program, *args,
               f"--pidfile={self.path(name + '.pid')}", f"--log-file={self.path(name + '.log')}",
               f"--unixctl={self.path(name + '.ctl')}", "--detach", "--no-chdir", "-vconsole:err"]
        _run(cmd, env=self.env())
        with open(self.path(name + ".pid")) as f:
            STARTED_DAEMONS[int(f.read().strip())] = self.dir

    def netns_exec(self, *cmd, check=True):
        return _run(["ip", "netns", "exec", self.netns, *cmd], check=check)

    def nbctl(self, *args):
        return _run(["ovn-nbctl", f"--db={self.nb_remote}", "--timeout=20", *args],
                    env=self.env()).stdout.rstrip("\n")

    def sbctl(self, *args):
        return _run(["ovn-sbctl", f"--db={self.sb_remote}", "--timeout=20", *args],
                    env=self.env()).stdout.rstrip("\n")

    def appctl(self, daemon, *args, check=True):
        result = _run(["ovs-appctl", "-t", self.path(daemon + ".ctl"), "--timeout=10", *args],
                      env=self.env(), check=check)
        return result.stdout if check else result

    def log_lines(self, daemon):
        try:
            with open(self.path(daemon + ".log"), errors="replace") as f:
                return f.read().splitlines()
        except FileNotFoundError:
            return []

    def close(self):
        if self._closed:
            return
        problems = []
        for daemon in self.DAEMONS:
            if os.path.exists(self.path(daemon + ".ctl")):
                self.appctl(daemon, "exit", check=False)
        try:
            _wait_for("the central's daemons to exit", lambda: not _pids_naming(self.dir), 5)
        except RuntimeError:
            pass
        try:
            _kill_and_wait(_pids_naming(self.dir))
        except Exception as e:
            problems.append(str(e))
        if self.netns and self.netns in netns_list():
            r = _run(["ip", "netns", "delete", self.netns], check=False)
            if r.returncode:
                problems.append(f"deleting {self.netns}: {r.stderr.strip()}")
        shutil.rmtree(self.dir, ignore_errors=True)
        self._closed = True
        if problems:
            raise RuntimeError("OvnCentral.close(): " + "; ".join(problems))


class OvnNode:
    """An Open vSwitch sandbox with its integration bridge, its uplink on the
    cluster network and its own ovn-controller."""

    def __init__(self, central, index, name=None):
        self.central = central
        self.index = index
        self.name = name or f"node{index}"
        self.system_id = f"chassis-{self.name}"
        self.tunnel_ip = f"{CLUSTER_NET}.{10 + index}"
        self.ovs = OvsSandbox()
        self.uplink = None
        self._controller_pid = None

    @property
    def netns(self):
        return self.ovs.netns

    def chassis_ids(self, nb=None, sb=None):
        """The Open_vSwitch external_ids ovn-controller reads, for this node."""
        return {
            "ovn-remote": sb or self.central.sb_remote,
            "ovn-encap-type": "geneve",
            "ovn-encap-ip": self.tunnel_ip,
            "system-id": self.system_id,
            "ovn-bridge": "br-int",
        }

    def setup(self, configure=True):
        """The bridges and the uplink; with configure, also the chassis
        settings (a test of the ovn plugin lets op-dbus write them)."""
        ovs = self.ovs
        ovs.netns_exec("sysctl", "-q", "-w", "net.ipv6.conf.all.disable_ipv6=1",
                       "net.ipv6.conf.default.disable_ipv6=1")
        ovs.vsctl("add-br", "br-int", "--", "set", "Bridge", "br-int", "datapath_type=netdev",
                  "fail_mode=secure", "other_config:disable-in-band=true")
        ovs.vsctl("add-br", "br-phy", "--", "set", "Bridge", "br-phy", "datapath_type=netdev")
        # The uplink: a veth from the node's namespace to the cluster bridge.
        self.uplink = f"cl-{self.ovs.netns[-8:]}"
        # Geneve adds 58 bytes (outer Ethernet, IPv4, UDP, Geneve header
        # with OVN's option) to the containers' 1500: the cluster network
        # carries more, as an underlay for OVN must.
        run(["ip", "link", "add", "eth-cluster", "mtu", str(CLUSTER_MTU), "netns", self.netns, "type", "veth",
             "peer", "name", self.uplink, "mtu", str(CLUSTER_MTU), "netns", self.central.netns])
        self.central.netns_exec("ip", "link", "set", self.uplink, "master", "cluster", "up")
        ovs.netns_exec("ip", "link", "set", "eth-cluster", "up")
        ovs.vsctl("add-port", "br-phy", "eth-cluster", "--", "set", "Interface", "eth-cluster",
                  f"mtu_request={CLUSTER_MTU}")
        ovs.netns_exec("ip", "addr", "add", f"{self.tunnel_ip}/24", "dev", "br-phy")
        ovs.netns_exec("ip", "link", "set", "br-int", "up")
        ovs.netns_exec("ip", "link", "set", "br-phy", "up")
        # datapath type of the bridge ovn-controller would create
        ovs.vsctl("set", "Open_vSwitch", ".", "external_ids:ovn-bridge-datapath-type=netdev")
        if configure:
            ids = self.chassis_ids()
            ovs.vsctl("set", "Open_vSwitch", ".", *(f"external_ids:{k}={v}" for k, v in ids.items()))

    def start_controller(self):
        ovs = self.ovs
        env = ovs._ovs_env()
        env["OVN_RUNDIR"] = env["OVN_LOGDIR"] = env["OVN_DBDIR"] = env["OVN_SYSCONFDIR"] = ovs.dir
        _run(["ip", "netns", "exec", self.netns, "ovn-controller", ovs.db_remote,
              f"--pidfile={ovs.path('ovn-controller.pid')}",
              f"--log-file={ovs.path('ovn-controller.log')}",
              "--detach", "--no-chdir", "-vconsole:err"], env=env)
        with open(ovs.path("ovn-controller.pid")) as f:
            self._controller_pid = int(f.read().strip())
        STARTED_DAEMONS[self._controller_pid] = ovs.dir

    def wait_chassis(self, timeout=30):
        """Until the southbound database has this node's chassis."""
        _wait_for(f"chassis {self.system_id} in the southbound database",
                  lambda: self.system_id in self.central.sbctl("--bare", "--columns=name", "list",
                                                               "Chassis").split(), timeout)

    def stop_controller(self):
        pid = self._controller_pid
        if pid and _runs_in(pid, self.ovs.dir):
            # --restart keeps the chassis and br-int's flows; the cluster
            # goes away with the test anyway.
            _run(["ovs-appctl", "-t", self.ovs.path(f"ovn-controller.{pid}.ctl"), "--timeout=10", "exit"],
                 env=self.ovs._ovs_env(), check=False)
            _wait_for("ovn-controller to exit", lambda: not process_alive(pid), 10)
        self._controller_pid = None

    def controller_log(self):
        try:
            with open(self.ovs.path("ovn-controller.log"), errors="replace") as f:
                return f.read()
        except FileNotFoundError:
            return ""

    def close(self):
        problems = []
        try:
            self.stop_controller()
        except Exception as e:
            problems.append(str(e))
        try:
            self.ovs.close()
        except Exception as e:
            problems.append(str(e))
        if problems:
            raise RuntimeError(f"OvnNode {self.name}: " + "; ".join(problems))


class OvnCluster:
    """A central and n nodes, each node's ovn-controller registered."""

    def __init__(self, n=2, configure=True, start=True):
        self.central = None
        self.nodes = []
        self.labs = {}
        try:
            self.central = OvnCentral()
            for i in range(1, n + 1):
                node = OvnNode(self.central, i)
                self.nodes.append(node)
                node.setup(configure)
                self.labs[node.name] = Lab(node.ovs)
                self.labs[node.name]._bridges.add("br-int")
                if start:
                    node.start_controller()
            if start and configure:
                for node in self.nodes:
                    node.wait_chassis()
        except BaseException:
            self.close()
            raise

    def container(self, node, name, mac, ip, *, iface_id=None, prefix=24):
        """A namespace on node's br-int through a veth (eth0 inside, transmit
        checksum offload off; the OVS port is v<name>), its port's
        external_ids:iface-id = iface_id when given."""
        lab = self.labs[node.name]
        host = lab.add_host(name, mac, ip, port=f"v{name}"[:15], bridge="br-int", veth=True,
                            prefix=prefix)
        # The userspace datapath (Open vSwitch 3.1) does not complete the
        # checksums a veth leaves to offloading: TCP and UDP would arrive
        # with bad ones (ICMP, summed by the kernel, would not show it).
        host.offload(False)
        if iface_id:
            node.ovs.vsctl("set", "Interface", host.port, f"external_ids:iface-id={iface_id}")
        return host

    def wait_port_up(self, lsp, timeout=30):
        """Until northd reports the logical switch port up (bound and its
        flows installed by the chassis that claimed it)."""
        _wait_for(f"logical switch port {lsp} up",
                  lambda: self.central.nbctl("--if-exists", "get", "Logical_Switch_Port", lsp,
                                             "up") == "true", timeout)

    def port_chassis(self, lsp):
        """The name of the chassis the southbound Port_Binding of lsp is bound to, or None."""
        uuid = self.central.sbctl("--bare", "--columns=chassis", "find", "Port_Binding",
                                  f"logical_port={lsp}")
        if not uuid:
            return None
        return self.central.sbctl("--bare", "--columns=name", "list", "Chassis", uuid) or None

    def log_errors(self):
        """The ERR and EMER lines of every daemon's log (the central's, and
        each node's ovsdb-server, ovs-vswitchd and ovn-controller)."""
        paths = []
        if self.central:
            paths += [self.central.path(d + ".log") for d in OvnCentral.DAEMONS]
        for node in self.nodes:
            paths += [node.ovs.path(d + ".log") for d in ("ovsdb-server", "ovs-vswitchd", "ovn-controller")]
        errors = []
        for path in paths:
            try:
                with open(path, errors="replace") as f:
                    errors += [f"{os.path.basename(path)}: {line.rstrip()}" for line in f
                               if "|ERR|" in line or "|EMER|" in line]
            except FileNotFoundError:
                pass
        return errors

    def close(self):
        problems = []
        for name, lab in self.labs.items():
            try:
                lab.close()
            except Exception as e:
                problems.append(f"{name}: {e}")
        for node in self.nodes:
            try:
                node.close()
            except Exception as e:
                problems.append(str(e))
        if self.central:
            try:
                self.central.close()
            except Exception as e:
                problems.append(str(e))
        self.nodes, self.labs, self.central = [], {}, None
        if problems:
            raise RuntimeError("OvnCluster.close(): " + "; ".join(problems))

    def __enter__(self):
        return self

    def __exit__(self, *exc):
        self.close()
