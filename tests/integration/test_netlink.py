# SPDX-License-Identifier: LGPL-2.1-or-later
"""Socket networking: agent/lib/rtnl moves an interface into a container's
network namespace and configures it there (docs/socket-networking.md).

The library is driven through tests/netlink-driver (built with the
project). A "container" is a process in a network namespace of its own
(`unshare --net sleep infinity`), which is what the library sees of an LXC
container: an init PID whose /proc/PID/ns/net it enters. Every namespace
and process a test creates is removed by its fixtures.

  * plain namespaces: a veth pair in a private "host" namespace, one end
    moved into a container;
  * the OVS sandbox (netdev datapath): internal ports (tap devices) moved
    into two containers, which then ping each other through the bridge;
    what a container restart and an ovs-vswitchd restart do to them.

Environment: OPDBUS_BUILD_DIR (default build-test below the source root).
"""

import json
import os
import re
import secrets
import subprocess
import time
from pathlib import Path

import pytest

from ovs_sandbox import CREATED_NETNS, NETNS_PREFIX, netns_list, process_alive

SOURCE_ROOT = Path(os.environ.get("OPDBUS_SOURCE_ROOT") or Path(__file__).resolve().parents[2])

# Sanitizer reports in the driver's stderr fail the test whatever the exit code.
SANITIZER_RE = re.compile(r"Sanitizer|^\S+:\d+:\d+: runtime error: ", re.M)

# What ovs-vswitchd logs at ERR when the namespace holding one of its tap
# devices goes away (container stopped): it still has the tap's fd open.
TAP_GONE_ERR = r"dpif_netdev\|ERR\|error receiving data from internal_\d+: File descriptor in bad state"

CMD_TIMEOUT = 30

# Seconds to wait for the kernel to dismantle a stopped container's
# namespace (asynchronous; slow on a loaded machine).
NETNS_GONE_TIMEOUT = 30


def run(cmd, check=True, input=None):
    result = subprocess.run([str(c) for c in cmd], capture_output=True, text=True,
                            input=input, timeout=CMD_TIMEOUT, check=False)
    if check and result.returncode != 0:
        raise AssertionError(f"{' '.join(result.args)} exited with {result.returncode}:\n"
                             f"{result.stdout}{result.stderr}")
    return result


def wait_for(what, predicate, timeout=10):
    deadline = time.monotonic() + timeout
    while not predicate():
        if time.monotonic() > deadline:
            raise AssertionError(f"timed out waiting for {what}")
        time.sleep(0.05)


# ---- the driver ---------------------------------------------------------------


@pytest.fixture(scope="module")
def driver_bin():
    if os.environ.get("OPDBUS_BUILD_FAILED") == "1":
        pytest.fail("the op-dbus build failed (see the build stage output)", pytrace=False)
    build = Path(os.environ.get("OPDBUS_BUILD_DIR") or SOURCE_ROOT / "build-test")
    if not build.is_absolute():
        build = SOURCE_ROOT / build
    path = build / "tests" / "netlink-driver"
    if not (path.is_file() and os.access(path, os.X_OK)):
        pytest.fail(f"{path} not found: build the project (./tests/run does) or set "
                    "OPDBUS_BUILD_DIR", pytrace=False)
    return path


class Driver:
    """Runs tests/netlink-driver, optionally inside a named namespace."""

    def __init__(self, path, netns=None):
        self.path = path
        self.netns = netns

    def __call__(self, *args, rc=0):
        """Run the driver; returns its stdout without the newline. rc: the
        expected exit code. On failure the driver prints "error: ENAME: ..."."""
        cmd = [self.path, *args]
        if self.netns:
            cmd = ["ip", "netns", "exec", self.netns, *cmd]
        result = run(cmd, check=False)
        output = f"{' '.join(map(str, cmd))}\n--- stdout\n{result.stdout}--- stderr\n{result.stderr}"
        assert not SANITIZER_RE.search(result.stderr), f"sanitizer report:\n{output}"
        assert result.returncode == rc, f"exit code {result.returncode}, expected {rc}:\n{output}"
        return (result.stdout if rc == 0 else result.stderr).strip()

    def in_netns(self, netns):
        return Driver(self.path, netns)


@pytest.fixture
def driver(driver_bin):
    return Driver(driver_bin)


# ---- containers and namespaces --------------------------------------------------


class Container:
    """A stand-in for a running container: a process in a network namespace
    of its own, like an LXC container's init."""

    def __init__(self):
        self.proc = subprocess.Popen(["unshare", "--net", "--", "sleep", "infinity"],
                                     stdin=subprocess.DEVNULL, stdout=subprocess.DEVNULL,
                                     stderr=subprocess.DEVNULL)
        self.pid = self.proc.pid
        # After the exec of sleep, unshare has made the namespace.
        wait_for("the container process", self._started)

    def _started(self):
        if self.proc.poll() is not None:
            raise AssertionError(f"unshare exited with {self.proc.returncode}")
        try:
            with open(f"/proc/{self.pid}/comm") as f:
                return f.read().strip() == "sleep"
        except FileNotFoundError:
            return False

    def stop(self):
        """Ends the process; the kernel then dismantles its namespace."""
        if self.proc.poll() is None:
            self.proc.kill()
        self.proc.wait(timeout=10)

    def run(self, *cmd, check=True):
        return run(["nsenter", "-t", self.pid, "-n", *cmd], check=check)

    def ip_json(self, *args):
        return json.loads(self.run("ip", "-j", *args).stdout or "[]")

    def link(self, name):
        """`ip -d link` of an interface as a dict, or None."""
        result = self.run("ip", "-j", "-d", "link", "show", "dev", name, check=False)
        return json.loads(result.stdout)[0] if result.returncode == 0 else None

    def links(self):
        return sorted(link["ifname"] for link in self.ip_json("link", "show"))

    def ipv4(self, name):
        (link,) = self.ip_json("-4", "addr", "show", "dev", name)
        return sorted(f"{a['local']}/{a['prefixlen']}" for a in link["addr_info"])

    def default_routes(self):
        return [(r.get("gateway"), r.get("dev"), r.get("metric", 0))
                for r in self.ip_json("-4", "route", "show", "default")]

    def snapshot(self, name):
        """What configure sets, for comparing before and after a run."""
        link = self.link(name)
        return (link["ifindex"], link["ifname"], link["address"], link["mtu"],
                "UP" in link["flags"], self.ipv4(name), self.default_routes())

    def ping(self, address, attempts=10):
        for _ in range(attempts):
            if self.run("ping", "-c", "1", "-W", "1", address, check=False).returncode == 0:
                return True
        return False


@pytest.fixture
def containers():
    """Factory: containers() starts a Container; all are stopped at teardown."""
    started = []

    def start():
        container = Container()
        started.append(container)
        return container

    yield start
    for container in started:
        container.stop()
    assert not any(process_alive(c.pid) for c in started)


@pytest.fixture
def host_netns():
    """A private named namespace standing in for the host (where OVS would
    create the port), so nothing touches the real host namespace."""
    name = NETNS_PREFIX + "nl" + secrets.token_hex(3)
    run(["ip", "netns", "add", name])
    CREATED_NETNS.add(name)  # the session's leak check covers it too
    try:
        run(["ip", "-n", name, "link", "set", "lo", "up"])
        yield name
    finally:
        pids = run(["ip", "netns", "pids", name], check=False).stdout.split()
        assert not pids, f"processes left in {name}: {pids}"
        run(["ip", "netns", "delete", name])
    assert name not in netns_list()


def host_ip(netns, *args, check=True):
    return run(["ip", "-n", netns, *args], check=check)


def add_veth(netns, name, peer):
    host_ip(netns, "link", "add", name, "type", "veth", "peer", "name", peer)


# ---- plain namespaces -------------------------------------------------------------


def test_move_configure_idempotent(driver, host_netns, containers):
    c = containers()
    drv = driver.in_netns(host_netns)
    add_veth(host_netns, "vc0", "vh0")
    host_ip(host_netns, "addr", "add", "10.77.0.1/24", "dev", "vh0")
    host_ip(host_netns, "link", "set", "vh0", "up")

    assert drv("find", "vc0", c.pid) == "caller"
    assert drv("move", "vc0", c.pid) == "moved"
    assert drv("find", "vc0", c.pid) == "target"
    assert c.links() == ["lo", "vc0"]
    assert host_ip(host_netns, "link", "show", "vc0", check=False).returncode != 0
    # moving again: the interface is already there
    assert drv("move", "vc0", c.pid) == "unchanged"

    args = ("configure", c.pid, "vc0", "eth0", "02:00:5e:00:10:02", "10.77.0.2/24", "10.77.0.1", "1400")
    assert drv(*args) == "changed"

    link = c.link("eth0")
    assert link["address"] == "02:00:5e:00:10:02"
    assert link["mtu"] == 1400
    assert "UP" in link["flags"]
    assert link["linkinfo"]["info_kind"] == "veth"
    assert c.ipv4("eth0") == ["10.77.0.2/24"]
    assert c.default_routes() == [("10.77.0.1", "eth0", 0)]
    assert c.links() == ["eth0", "lo"]
    assert c.ping("10.77.0.1")

    # Again with the same values: succeeds and changes nothing (ifindex
    # included: the link was not recreated).
    before = c.snapshot("eth0")
    assert drv(*args) == "unchanged"
    assert driver(*args) == "unchanged"  # from any namespace: the pid decides
    assert c.snapshot("eth0") == before

    info = dict(line.split("=", 1) for line in driver("info", c.pid, "eth0").splitlines())
    assert info == {"ifindex": str(link["ifindex"]), "name": "eth0", "kind": "veth",
                    "mtu": "1400", "up": "1", "lower_up": "1", "hwaddr": "02:00:5e:00:10:02"}
    assert driver("exists", c.pid, "eth0") == "yes"
    assert driver("exists", c.pid, "vc0") == "no"


def test_configure_changes(driver, host_netns, containers):
    c = containers()
    drv = driver.in_netns(host_netns)
    add_veth(host_netns, "vc0", "vh0")
    host_ip(host_netns, "link", "set", "vh0", "up")
    drv("move", "vc0", c.pid)
    assert driver("configure", c.pid, "vc0", "eth0", "-", "10.77.0.2/24", "10.77.0.1") == "changed"
    ifindex = c.link("eth0")["ifindex"]

    # MAC and MTU of a link that is up: it is taken down for the MAC and up again.
    assert driver("configure", c.pid, "vc0", "eth0", "02:00:5e:00:10:09", "-", "-", "1300") == "changed"
    link = c.link("eth0")
    assert (link["address"], link["mtu"], "UP" in link["flags"]) == ("02:00:5e:00:10:09", 1300, True)

    # Without "exclusive" a new address is added next to the old one ...
    assert driver("configure", c.pid, "vc0", "eth0", "-", "10.77.0.3/24", "-") == "changed"
    assert c.ipv4("eth0") == ["10.77.0.2/24", "10.77.0.3/24"]
    # ... with it, the link ends up with exactly that address.
    assert driver("configure", c.pid, "vc0", "eth0", "-", "10.88.0.3/16", "10.88.0.1", "-",
                  "exclusive") == "changed"
    assert c.ipv4("eth0") == ["10.88.0.3/16"]
    assert c.default_routes() == [("10.88.0.1", "eth0", 0)]
    assert driver("configure", c.pid, "vc0", "eth0", "-", "10.88.0.3/16", "10.88.0.1", "-",
                  "exclusive") == "unchanged"

    # A default route via another gateway is replaced, not added to.
    c.run("ip", "route", "replace", "default", "via", "10.88.0.254", "dev", "eth0")
    assert driver("configure", c.pid, "vc0", "eth0", "-", "10.88.0.3/16", "10.88.0.1") == "changed"
    assert c.default_routes() == [("10.88.0.1", "eth0", 0)]

    # An address added by someone else with the same value is fine.
    c.run("ip", "addr", "add", "10.99.0.5/24", "dev", "eth0")
    assert driver("configure", c.pid, "vc0", "eth0", "-", "10.99.0.5/24", "-") == "unchanged"
    assert c.link("eth0")["ifindex"] == ifindex


def test_configure_replaces_only_its_own_addresses(driver, host_netns, containers):
    """The address and default route op-dbus sets carry its protocol mark
    (217); of the link's other IPv4 addresses it deletes only those."""
    c = containers()
    add_veth(host_netns, "vc0", "vh0")
    driver.in_netns(host_netns)("move", "vc0", c.pid)
    assert driver("configure", c.pid, "vc0", "eth0", "-", "10.77.0.2/24", "10.77.0.1") == "changed"
    assert [r.get("protocol") for r in c.ip_json("-4", "route", "show", "default")] == ["217"]

    # the container adds addresses of its own, in another subnet and as IPv6
    c.run("ip", "addr", "add", "10.66.0.5/24", "dev", "eth0")
    c.run("ip", "addr", "add", "fd00:66::5/64", "dev", "eth0", "nodad")
    assert driver("configure", c.pid, "eth0", "eth0", "-", "10.88.0.3/16", "10.88.0.1", "-",
                  "exclusive") == "changed"
    assert c.ipv4("eth0") == ["10.66.0.5/24", "10.88.0.3/16"]
    assert "fd00:66::5" in [a["local"] for a in c.ip_json("-6", "addr", "show", "dev", "eth0")[0]["addr_info"]]
    assert driver("configure", c.pid, "eth0", "eth0", "-", "10.88.0.3/16", "10.88.0.1", "-",
                  "exclusive") == "unchanged"


def test_errors(driver, host_netns, containers):
    c = containers()
    drv = driver.in_netns(host_netns)

    assert drv("move", "nosuch0", c.pid, rc=1).startswith("error: ENODEV")
    assert drv("configure", c.pid, "nosuch0", "eth0", "-", "-", "-", rc=1).startswith("error: ENODEV")
    assert drv("find", "nosuch0", c.pid) == "none"
    assert driver("delete", c.pid, "nosuch0") == "unchanged"

    # Name clash in the container: the interface stays where it was.
    add_veth(host_netns, "dup0", "dup1")
    drv("move", "dup0", c.pid)
    add_veth(host_netns, "dup0", "dup2")
    assert drv("move", "dup0", c.pid, rc=1).startswith("error: EEXIST")
    assert drv("find", "dup0", c.pid) == "both"

    # Renaming onto an existing name.
    add_veth(host_netns, "vc0", "vh0")
    drv("move", "vc0", c.pid)
    assert driver("configure", c.pid, "vc0", "dup0", "-", "-", "-", rc=1).startswith("error: EEXIST")
    assert c.link("vc0") is not None

    # A gateway outside every connected network. The steps before the
    # route stay done (not a transaction); a corrected run converges.
    assert driver("configure", c.pid, "vc0", "eth0", "-", "10.77.0.2/24", "192.0.2.1",
                  rc=1).startswith("error: ENETUNREACH")
    assert c.ipv4("eth0") == ["10.77.0.2/24"] and c.default_routes() == []
    assert driver("configure", c.pid, "vc0", "eth0", "-", "10.77.0.2/24", "10.77.0.1") == "changed"

    # A pid in the caller's own namespace (a container sharing the host's).
    assert driver("move", "lo", os.getpid(), rc=1).startswith("error: EINVAL")

    # Process gone.
    gone = containers()
    gone.stop()
    assert driver("exists", gone.pid, "lo", rc=1).startswith("error: ESRCH")
    assert drv("move", "vh0", gone.pid, rc=1).startswith("error: ESRCH")

    # Invalid arguments never reach the kernel.
    assert driver("move", "a/b", c.pid, rc=1).startswith("error: EINVAL")
    assert driver("exists", c.pid, "x" * 16, rc=1).startswith("error: EINVAL")
    driver("move", "vc0", "pid", rc=2)  # the driver's own usage check

    assert driver("delete", c.pid, "dup0") == "deleted"
    assert c.links() == ["eth0", "lo"]


def ethtool_tx(c, name):
    """What `ethtool -k` says of the interface's transmit checksum offload."""
    out = c.run("ethtool", "-k", name).stdout
    return re.search(r"^tx-checksumming: (\S+)", out, re.M).group(1)


def test_tx_checksum_offload(driver, host_netns, containers):
    """The setting `ethtool -K IFNAME tx on|off` changes, in a container's
    namespace, read and changed only when it differs."""
    c = containers()
    add_veth(host_netns, "vc0", "vh0")
    driver.in_netns(host_netns)("move", "vc0", c.pid)

    assert driver("txcsum", c.pid, "vc0") == "on" and ethtool_tx(c, "vc0") == "on"
    assert driver("txcsum", c.pid, "vc0", "off") == "changed"
    assert driver("txcsum", c.pid, "vc0") == "off" and ethtool_tx(c, "vc0") == "off"
    assert driver("txcsum", c.pid, "vc0", "off") == "unchanged"
    assert driver("txcsum", c.pid, "vc0", "on") == "changed"
    assert ethtool_tx(c, "vc0") == "on"
    # the peer, in the other namespace, was never touched
    assert driver.in_netns(host_netns)("txcsum", "0", "vh0") == "on"

    assert driver("txcsum", c.pid, "nosuch0", rc=1).startswith("error: ENODEV")
    assert driver("txcsum", c.pid, "x" * 16, "off", rc=1).startswith("error: EINVAL")
    gone = containers()
    gone.stop()
    assert driver("txcsum", gone.pid, "lo", rc=1).startswith("error: ESRCH")
    driver("txcsum", c.pid, "vc0", "maybe", rc=2)


def test_container_stop_destroys_moved_veth(driver, host_netns, containers):
    """A veth (like any interface of a virtual kind) is destroyed with the
    namespace it was moved into, and takes its peer with it."""
    c = containers()
    add_veth(host_netns, "vc0", "vh0")
    driver.in_netns(host_netns)("move", "vc0", c.pid)
    c.stop()
    # The kernel dismantles a namespace asynchronously.
    wait_for("the veth pair to go",
             lambda: host_ip(host_netns, "link", "show", "vh0", check=False).returncode != 0,
             timeout=NETNS_GONE_TIMEOUT)


# ---- OVS internal ports (netdev datapath) -------------------------------------------


class SockNet:
    """An OVS sandbox with the netdev bridge br0, containers and the driver
    running in the sandbox namespace (where OVS creates its ports)."""

    def __init__(self, ovs, containers, driver):
        self.ovs = ovs
        self.containers = containers
        self.drv = driver.in_netns(ovs.netns)
        self.driver = driver
        ovs.vsctl("add-br", "br0", "--", "set", "bridge", "br0", "datapath_type=netdev")

    def add_port(self, port, ofport):
        self.ovs.vsctl("add-port", "br0", port, "--", "set", "interface", port,
                       "type=internal", f"ofport_request={ofport}")
        self.ovs.wait_reconfigured()
        assert port in self.ovs.links()

    def recreate_port(self, port, ofport):
        """Make ovs-vswitchd create the port's tap again: delete the port and
        add it back in a second transaction (in one transaction it sees no
        change and keeps its dead tap)."""
        self.ovs.vsctl("del-port", "br0", port)
        self.ovs.wait_reconfigured()
        self.add_port(port, ofport)

    def attach(self, container, port, mac, address, check_changed=True):
        assert self.drv("move", port, container.pid) == "moved"
        out = self.drv("configure", container.pid, port, "eth0", mac, address, "10.78.0.1")
        assert out == "changed" or not check_changed

    def ofport(self, port):
        return int(self.ovs.vsctl("get", "interface", port, "ofport"))


@pytest.fixture
def socknet(containers, ovs, driver):
    # Requested in this order, the containers outlive the OVS sandbox: its
    # log check runs before they stop (stopping a container with a tap
    # inside makes ovs-vswitchd log errors; tests about that allow them).
    return SockNet(ovs, containers, driver)


def test_ovs_internal_ports_ping(socknet):
    ovs = socknet.ovs
    socknet.add_port("internal_100", 100)
    socknet.add_port("internal_101", 101)
    c1, c2 = socknet.containers(), socknet.containers()

    socknet.attach(c1, "internal_100", "02:00:5e:00:64:00", "10.78.0.100/24")
    socknet.attach(c2, "internal_101", "02:00:5e:00:65:00", "10.78.0.101/24")

    # The ports left the OVS namespace; OVS keeps them (it holds the taps).
    assert "internal_100" not in ovs.links() and "internal_101" not in ovs.links()
    assert set(ovs.vsctl("list-ports", "br0").split()) == {"internal_100", "internal_101"}
    assert socknet.drv("find", "internal_100", c1.pid) == "none"  # renamed to eth0
    info = dict(line.split("=", 1) for line in socknet.driver("info", c1.pid, "eth0").splitlines())
    assert (info["kind"], info["up"], info["lower_up"]) == ("tun", "1", "1")

    assert c1.ping("10.78.0.101")
    assert c2.ping("10.78.0.100")

    # A tap of the userspace datapath: its transmit checksum offload is off,
    # and cannot be turned on (ovs-vswitchd reads it without offloads).
    assert socknet.driver("txcsum", c1.pid, "eth0") == "off"
    assert socknet.driver("txcsum", c1.pid, "eth0", "off") == "unchanged"
    assert socknet.driver("txcsum", c1.pid, "eth0", "on", rc=1).startswith("error: EOPNOTSUPP")

    # Configuring again changes nothing and traffic keeps flowing.
    before = c1.snapshot("eth0")
    assert socknet.driver("configure", c1.pid, "internal_100", "eth0", "02:00:5e:00:64:00",
                          "10.78.0.100/24", "10.78.0.1") == "unchanged"
    assert c1.snapshot("eth0") == before
    assert c1.ping("10.78.0.101")
    assert (socknet.ofport("internal_100"), socknet.ofport("internal_101")) == (100, 101)
    assert not ovs.check_logs().errors


@pytest.mark.ovs_log_allow(TAP_GONE_ERR)
def test_ovs_container_restart(socknet):
    """When the container stops, its namespace goes and the tap with it;
    ovs-vswitchd does not recreate it on its own."""
    ovs = socknet.ovs
    socknet.add_port("internal_100", 100)
    socknet.add_port("internal_101", 101)
    c1, c2 = socknet.containers(), socknet.containers()
    socknet.attach(c1, "internal_100", "02:00:5e:00:64:00", "10.78.0.100/24")
    socknet.attach(c2, "internal_101", "02:00:5e:00:65:00", "10.78.0.101/24")
    assert c2.ping("10.78.0.100")

    c1.stop()
    wait_for("ovs-vswitchd to notice the dead tap",
             lambda: any(re.search(TAP_GONE_ERR, line) for line in ovs.log_lines("ovs-vswitchd")),
             timeout=NETNS_GONE_TIMEOUT)
    assert "internal_100" not in ovs.links()
    ovs.vsctl("set", "interface", "internal_100", "external_ids:poke=1")  # any reconfiguration
    ovs.wait_reconfigured()
    assert "internal_100" not in ovs.links()
    assert "internal_100" in ovs.vsctl("list-ports", "br0").split()

    # Recovery: recreate the port, move it into the restarted container.
    socknet.recreate_port("internal_100", 100)
    c1 = socknet.containers()
    socknet.attach(c1, "internal_100", "02:00:5e:00:64:00", "10.78.0.100/24")
    assert socknet.ofport("internal_100") == 100
    assert c1.ping("10.78.0.101")
    assert c2.ping("10.78.0.100")


def test_ovs_vswitchd_restart(socknet):
    """A new ovs-vswitchd creates fresh taps in its own namespace; the one in
    the container stays behind without carrier (no process holds it)."""
    ovs = socknet.ovs
    socknet.add_port("internal_100", 100)
    socknet.add_port("internal_101", 101)
    c1, c2 = socknet.containers(), socknet.containers()
    socknet.attach(c1, "internal_100", "02:00:5e:00:64:00", "10.78.0.100/24")
    socknet.attach(c2, "internal_101", "02:00:5e:00:65:00", "10.78.0.101/24")
    assert c1.ping("10.78.0.101")

    ovs.restart_vswitchd()
    assert {"internal_100", "internal_101"} <= set(ovs.links())
    assert socknet.drv("find", "internal_100", c1.pid) == "caller"
    orphan = dict(line.split("=", 1) for line in socknet.driver("info", c1.pid, "eth0").splitlines())
    assert (orphan["kind"], orphan["up"], orphan["lower_up"]) == ("tun", "1", "0")
    assert not c1.ping("10.78.0.101", attempts=2)

    # Recovery: delete the orphans, move the new taps in, configure again.
    for c, port, mac, address in ((c1, "internal_100", "02:00:5e:00:64:00", "10.78.0.100/24"),
                                  (c2, "internal_101", "02:00:5e:00:65:00", "10.78.0.101/24")):
        assert socknet.driver("delete", c.pid, "eth0") == "deleted"
        socknet.attach(c, port, mac, address)
    assert c1.ping("10.78.0.101")
    assert c2.ping("10.78.0.100")
    assert (socknet.ofport("internal_100"), socknet.ofport("internal_101")) == (100, 101)
