# SPDX-License-Identifier: LGPL-2.1-or-later
"""Contract tests of the Proxmox VE test double (tests/pve-sim).

The expected texts and exit codes are those of Proxmox's pct as derived
from its sources (pve-container, pve-common): they pin the double to the
real tool, so that op-dbus is tested against what it will meet on a node.
"""

import fcntl
import json
import os
import re
import subprocess
import time

import pytest

from ovs_sandbox import OvsSandbox
from pve_fixture import OVS_LOG_ALLOW, PCT, PveSim, pve_sim, pve_templates  # noqa: F401

U_CREATE = "pct create <vmid> <ostemplate> [OPTIONS]\n"
U_SET = "pct set <vmid> [OPTIONS]\n"
U_STATUS = "pct status <vmid> [OPTIONS]\n"
U_EXEC = "pct exec <vmid> [<extra-args>] [OPTIONS]\n"
PV = "400 Parameter verification failed.\n"
NETS = ", ".join(sorted(f"net{i}" for i in range(32)))


def add_netdev_bridge(ovs, name):
    ovs.vsctl("add-br", name, "--", "set", "bridge", name, "datapath_type=netdev")


# ---- shared node for the error table ----------------------------------------------


@pytest.fixture(scope="module")
def node(pve_templates):
    """A node with CT 100 (stopped), CT 101 (running), CT 102 (stopped,
    locked 'backup') and a VM 200."""
    ovs = OvsSandbox()
    sim = None
    try:
        add_netdev_bridge(ovs, "vmbr0")
        sim = PveSim(pve_templates, ovs=ovs)
        for vmid, ip in ((100, "10.9.0.100/24"), (101, "10.9.0.101/24"), (102, "10.9.0.102/24")):
            sim.create(vmid, "--hostname", f"ct{vmid}",
                       "--net0", f"name=eth0,bridge=vmbr0,hwaddr=BC:24:11:00:09:{vmid - 100:02X},"
                       f"ip={ip}")
        sim.pct("start", 101, check=0)
        sim.pct("set", 102, "--lock", "backup", check=0)
        sim.add_vm(200)
        yield sim
    finally:
        problems = sim.close() if sim else {}
        check = ovs.check_logs(OVS_LOG_ALLOW)
        ovs.close()
    assert not problems, f"pve-sim left things behind: {problems}"
    assert not check.errors, "\n".join(check.errors)


T = "local:vztmpl/{tmpl}"

ERROR_TABLE = [
    # -- vmid / arguments
    ("vmid-too-short", ["create", "99", T], PV
     + "vmid: invalid format - value does not look like a valid VM ID\n\n" + U_CREATE),
    ("vmid-not-a-number", ["create", "abc", T], PV
     + "vmid: type check ('integer') failed - got 'abc'\n" + U_CREATE),
    ("not-enough-arguments", ["create", "150"], "400 not enough arguments\n" + U_CREATE),
    ("too-many-arguments", ["status", "100", "101"], "400 too many arguments\n" + U_STATUS),
    # -- option parsing
    ("unknown-option", ["set", "100", "--foo", "1"],
     "Unknown option: foo\n400 unable to parse option\n" + U_SET),
    ("unknown-option-upper-case", ["set", "100", "--FOO=1"],
     "Unknown option: foo\n400 unable to parse option\n" + U_SET),
    ("option-without-value", ["set", "100", "--mem"],
     "Option memory requires an argument\n400 unable to parse option\n" + U_SET),
    ("ambiguous-option", ["set", "100", "--net", "x"],
     f"Option net is ambiguous ({NETS})\n400 unable to parse option\n" + U_SET),
    ("bad-boolean", ["set", "100", "--onboot", "maybe"],
     "400 unable to parse boolean option\n" + U_SET),
    ("exec-without-dashdash", ["exec", "101", "ls", "-la"],
     "Unknown option: la\n400 unable to parse option\n" + U_EXEC),
    # -- option values
    ("hostname-underscore", ["create", "150", T, "--hostname", "my_ct"], PV
     + "hostname: invalid format - value does not look like a valid DNS name\n\n" + U_CREATE),
    ("memory-minimum", ["set", "100", "--memory", "8"], PV
     + "memory: value must have a minimum value of 16\n" + U_SET),
    ("swap-negative", ["set", "100", "--swap", "-1"], PV
     + "swap: value must have a minimum value of 0\n" + U_SET),
    ("cores-maximum", ["set", "100", "--cores", "9000"], PV
     + "cores: value must have a maximum value of 8192\n" + U_SET),
    ("ostype-enum", ["set", "100", "--ostype", "windows"], PV
     + "ostype: value 'windows' does not have a value in the enumeration 'debian, devuan, "
       "ubuntu, centos, fedora, opensuse, archlinux, alpine, gentoo, nixos, unmanaged'\n" + U_SET),
    ("tags-invalid", ["set", "100", "--tags", "ok;not!ok"], PV
     + "tags: invalid format - invalid characters in tag\n\n" + U_SET),
    ("nameserver-invalid", ["set", "100", "--nameserver", "1.2.3"], PV
     + "nameserver: invalid format - value does not look like a valid IP address\n\n" + U_SET),
    ("searchdomain-invalid", ["set", "100", "--searchdomain", "a_b.example"], PV
     + "searchdomain: invalid format - value does not look like a valid DNS name\n\n" + U_SET),
    ("features-unknown-key", ["set", "100", "--features", "nesting=1,docker=1"], PV
     + "features: invalid format - invalid key in comma-separated list property: docker\n\n"
     + U_SET),
    ("storage-id-invalid", ["create", "150", T, "--storage", "1x"], PV
     + "storage: invalid format - storage ID '1x' contains illegal characters\n\n" + U_CREATE),
    ("password-too-short", ["create", "150", T, "--password", "abc"], PV
     + "password: value must be at least 5 characters long\n" + U_CREATE),
    ("unique-requires-restore", ["create", "150", T, "--unique"], PV
     + "restore: missing property required by 'unique'\n" + U_CREATE),
    # -- net[n] property strings
    ("net-without-name", ["set", "100", "--net0", "bridge=vmbr0"], PV
     + "net0: invalid format - format error\n"
       "net0.name: property is missing and it is not optional\n\n" + U_SET),
    ("net-unknown-key", ["set", "100", "--net0", "name=eth0,vlan=5"], PV
     + "net0: invalid format - invalid key in comma-separated list property: vlan\n\n" + U_SET),
    ("net-multicast-hwaddr", ["set", "100", "--net0", "name=eth0,hwaddr=01:00:5E:00:00:01"], PV
     + "net0: invalid format - format error\n"
       "net0.hwaddr: invalid format - value does not look like a valid unicast MAC address\n"
       "\n\n" + U_SET),
    ("net-ip-without-prefix", ["set", "100", "--net0", "name=eth0,ip=10.0.0.1"], PV
     + "net0: invalid format - format error\n"
       "net0.ip: invalid format - value does not look like a valid ipv4 network "
       "configuration\n\n\n" + U_SET),
    ("net-gw-invalid", ["set", "100", "--net0", "name=eth0,gw=10.0.0.300"], PV
     + "net0: invalid format - format error\n"
       "net0.gw: invalid format - value does not look like a valid IPv4 address\n\n\n" + U_SET),
    ("net-tag-maximum", ["set", "100", "--net0", "name=eth0,tag=4095"], PV
     + "net0: invalid format - format error\n"
       "net0.tag: value must have a maximum value of 4094\n\n" + U_SET),
    ("net-trunks-range", ["set", "100", "--net0", "name=eth0,trunks=10-20"], PV
     + "net0: invalid format - format error\n"
       "net0.trunks: value does not match the regex pattern\n\n" + U_SET),
    ("net-firewall-not-boolean", ["set", "100", "--net0", "name=eth0,firewall=maybe"], PV
     + "net0: invalid format - format error\n"
       "net0.firewall: type check ('boolean') failed - got 'maybe'\n\n" + U_SET),
    ("net-link-down-not-boolean", ["set", "100", "--net0", "name=eth0,link_down=2"], PV
     + "net0: invalid format - format error\n"
       "net0.link_down: type check ('boolean') failed - got '2'\n\n" + U_SET),
    # -- set semantics
    ("set-nothing", ["set", "100"], "no options specified\n"),
    ("set-unprivileged", ["set", "100", "--unprivileged", "0"],
     "unable to modify read-only option: 'unprivileged'\n"),
    ("delete-memory", ["set", "100", "--delete", "memory"],
     "unable to delete required option 'memory'\n"),
    ("delete-rootfs", ["set", "100", "--delete", "rootfs"],
     "unable to delete required option 'rootfs'\n"),
    ("delete-unknown", ["set", "100", "--delete", "foo"], PV
     + "delete: unknown option 'foo'\n" + U_SET),
    ("revert-unknown", ["set", "100", "--revert", "foo"], PV
     + "revert: unknown option 'foo'\n" + U_SET),
    # the configuration and its lock are checked before the names to delete
    ("delete-unknown-missing-ct", ["set", "999", "--delete", "foo"],
     "Configuration file 'nodes/pve/lxc/999.conf' does not exist\n"),
    ("delete-unknown-locked", ["set", "102", "--delete", "foo"], "CT is locked (backup)\n"),
    ("revert-unknown-locked", ["set", "102", "--revert", "foo"], "CT is locked (backup)\n"),
    # -- locks
    ("locked-set", ["set", "102", "--memory", "256"], "CT is locked (backup)\n"),
    ("locked-start", ["start", "102"], "CT is locked (backup)\n"),
    ("locked-destroy", ["destroy", "102"], "CT is locked (backup)\n"),
    ("unlock-without-lock", ["unlock", "100"], "no lock found trying to remove any lock\n"),
    # -- state
    ("config-missing", ["config", "999"],
     "Configuration file 'nodes/pve/lxc/999.conf' does not exist\n"),
    ("start-missing", ["start", "999"],
     "Configuration file 'nodes/pve/lxc/999.conf' does not exist\n"),
    ("start-running", ["start", "101"], "CT 101 already running\n"),
    ("stop-stopped", ["stop", "100"], "CT 100 not running\n"),
    ("stop-missing", ["stop", "999"], "CT 999 not running\n"),
    ("shutdown-stopped", ["shutdown", "100"], "CT 100 not running\n"),
    ("reboot-stopped", ["reboot", "100"], "VM 100 not running\n"),
    ("destroy-running", ["destroy", "101"], "unable to destroy CT 101 - container is running\n"),
    ("exec-stopped", ["exec", "100", "--", "true"], "container '100' not running!\n"),
    ("exec-missing-command", ["exec", "101"],
     "missing command at /usr/share/perl5/PVE/CLI/pct.pm line 246.\n"),
    ("push-stopped", ["push", "100", "/etc/hostname", "/root/x"],
     "can only push files to a running CT\n"),
    ("pull-stopped", ["pull", "100", "/etc/hostname", "/tmp/x"],
     "can only pull files from a running VM at /usr/share/perl5/PVE/CLI/pct.pm line 664.\n"),
    # -- create
    ("create-existing-ct", ["create", "100", T], "CT 100 already exists on node 'pve'\n"),
    ("create-id-of-vm", ["create", "200", T], "VM 200 already exists on node 'pve'\n"),
    ("create-storage-without-rootdir", ["create", "150", T, "--storage", "local"], PV
     + "storage: storage 'local' does not support container directories\n" + U_CREATE),
    ("create-storage-missing", ["create", "150", T, "--rootfs", "nope:4"],
     "storage 'nope' does not exist\n"),
    ("create-rootfs-with-unit", ["create", "150", T, "--rootfs", "local-lvm:8G"],
     "unable to create CT 150 - unable to parse lvm volume name '8G'\n"),
    ("create-template-missing", ["create", "150", "local:vztmpl/nope.tar.gz", "--rootfs",
                                 "local-lvm:1"],
     "unable to create CT 150 - can't find file 'local:vztmpl/nope.tar.gz'\n"),
    ("create-template-path-missing", ["create", "150", "/nonexistent/t.tar.gz", "--rootfs",
                                      "local-lvm:1"],
     "unable to create CT 150 - can't find file '/nonexistent/t.tar.gz'\n"),
    # a template file name must end in .tar[.gz|.xz|.zst|.bz2]: refused before
    # anything is allocated
    ("create-template-no-extension", ["create", "150", "local:vztmpl/nope", "--rootfs",
                                      "local-lvm:1"],
     "unable to parse directory volume name 'vztmpl/nope'\n"),
    ("create-template-bad-extension", ["create", "150", "local:vztmpl/nope.tar.lz4"],
     "unable to parse directory volume name 'vztmpl/nope.tar.lz4'\n"),
    ("create-template-wrong-type", ["create", "150", "local:iso/x.iso", "--rootfs", "local-lvm:1"],
     "unable to use volume local:iso/x.iso - content type needs to be 'vztmpl'\n"),
]


@pytest.mark.parametrize("args,stderr", [pytest.param(a, s, id=i) for i, a, s in ERROR_TABLE])
def test_rejected_invocations(node, args, stderr):
    tmpl = os.path.basename(node.template)
    args = [a.format(tmpl=tmpl) for a in args]
    before = {vmid: node.read_conf(vmid) for vmid in node.ct_ids()}
    res = node.pct(*args)
    assert (res.returncode, res.stderr) == (255, stderr), res.stdout
    # nothing changed, nothing was left behind by a failed create
    assert {vmid: node.read_conf(vmid) for vmid in node.ct_ids()} == before
    assert not os.path.exists(node.path("var/lib/pve-sim/lvm/pve/vm-150-disk-0"))
    assert node.lxc_state(101) == "RUNNING"


@pytest.mark.parametrize("word", ["foo", "s", "st", "li", "con"])
def test_unknown_or_ambiguous_command(node, word):
    res = node.pct(word, "100")
    assert res.returncode == 255
    assert res.stderr.startswith(f"ERROR: unknown command 'pct {word}'\n"
                                 "USAGE: pct <COMMAND> [ARGS] [OPTIONS]\n\n")
    assert res.stdout == ""


def test_aliases_are_not_prefixes(node):
    # CLIHandler: an alias (pct move_volume, pvesm nfsscan) works when given
    # in full, and takes no part in prefix expansion
    res = node.pct("move_volume", "100")
    assert (res.returncode, res.stderr) == (255, "pct move-volume: not implemented by the test double\n")
    res = node.pvesm("nfsscan")
    assert res.stderr == "pvesm scan: not implemented by the test double\n"
    res = node.pvesm("n")
    assert res.stderr.startswith("ERROR: unknown command 'pvesm n'\n")


def test_unique_prefixes_and_option_forms(node):
    # unique command prefixes
    assert node.pct("conf", "100", check=0).stdout == node.pct("config", "100").stdout
    assert node.pct("stat", "101", check=0).stdout == "status: running\n"
    # -opt value, --opt value, --opt=value, abbreviations, any case, options
    # before the positional arguments
    for args in (["set", "100", "-memory", "300"], ["set", "100", "--memory", "301"],
                 ["set", "100", "--memory=302"], ["set", "--MEM", "303", "100"],
                 ["set", "-Memory=304", "--", "100"]):
        node.pct(*args, check=0)
    assert "memory: 304\n" in node.pct("config", "100").stdout
    # bare boolean means 1; booleans take yes/no/on/off/true/false
    node.pct("set", "100", "--onboot", check=0)
    assert "onboot: 1\n" in node.read_conf(100)
    node.pct("set", "100", "--onboot", "OFF", check=0)
    assert "onboot: 0\n" in node.read_conf(100)
    # list options can be repeated
    node.pct("set", "100", "--tags", "b", "--tags", "A;c", "--tags", "a", check=0)
    assert "tags: a;b;c\n" in node.read_conf(100)
    node.pct("set", "100", "--delete", "onboot", "--delete", "tags", check=0)
    conf = node.read_conf(100)
    assert "onboot" not in conf and "tags" not in conf
    node.pct("set", "100", "--memory", "512", check=0)


def test_delete_unset_option_only_warns(node):
    res = node.pct("set", "100", "--delete", "cpulimit", check=0)
    assert res.stderr == "cannot delete 'cpulimit' - not set in current configuration!\n"


def test_config_lock_timeout(node):
    # PVE::Tools::lock_file_full: "trying to acquire lock..." once the lock
    # is busy, then the timeout's error
    lock = node.path("run/lock/lxc/pve-config-100.lock")
    fd = os.open(lock, os.O_RDWR | os.O_CREAT)
    try:
        fcntl.flock(fd, fcntl.LOCK_EX)
        t0 = time.monotonic()
        res = node.pct("set", "100", "--memory", "256", env={"PVE_SIM_LOCK_TIMEOUT": "0.5"})
        assert time.monotonic() - t0 < 5
    finally:
        os.close(fd)
    assert (res.returncode, res.stderr) == (
        255, f"trying to acquire lock...\ncan't lock file '{lock}' - got timeout\n")
    assert "memory: 256" not in node.read_conf(100)


def test_config_lock_wait_succeeds(node):
    # ... or " OK" once the holder lets go, and the command goes on
    lock = node.path("run/lock/lxc/pve-config-100.lock")
    fd = os.open(lock, os.O_RDWR | os.O_CREAT)
    fcntl.flock(fd, fcntl.LOCK_EX)
    proc = subprocess.Popen([PCT, "set", "100", "--memory", "257"], stdout=subprocess.PIPE,
                            stderr=subprocess.PIPE, text=True, env={**os.environ, **node.env()})
    try:
        assert proc.stderr.readline() == "trying to acquire lock...\n"
    finally:
        os.close(fd)
    out, err = proc.communicate(timeout=60)
    assert (proc.returncode, out, err) == (0, "", " OK\n")
    assert "memory: 257\n" in node.read_conf(100)
    node.pct("set", "100", "--memory", "512", check=0)


def test_protection_blocks_destroy(node):
    node.pct("set", "100", "--protection", "1", check=0)
    try:
        res = node.pct("destroy", "100")
        assert (res.returncode, res.stderr) == (255,
                                                "can't remove CT 100 - protection mode enabled\n")
    finally:
        node.pct("set", "100", "--delete", "protection", check=0)
    assert os.path.exists(node.conf_path(100))


def test_missing_bridge_on_start(node):
    node.pct("set", "100", "--net1", "name=eth1,bridge=vmbr9", check=0)
    try:
        res = node.pct("start", "100")
        assert (res.returncode, res.stderr) == (255, "bridge 'vmbr9' does not exist\n")
        assert node.pct("status", "100").stdout == "status: stopped\n"
        assert node.lxc_state(100) != "RUNNING"
    finally:
        node.pct("set", "100", "--delete", "net1", check=0)


def test_worker_failure_newlines_become_spaces(node, tmp_path):
    # a create that fails inside its worker: message on stderr, one line
    res = node.pct("create", "150", "local:vztmpl/nope.tar.gz", "--rootfs", "local-lvm:1")
    assert res.returncode == 255
    assert res.stderr.count("\n") == 1
    # the volume is allocated before the template is looked for, and freed again
    assert res.stdout == ('  Logical volume "vm-150-disk-0" created.\n'
                          "can't find file 'local:vztmpl/nope.tar.gz'\n"
                          '  Logical volume "vm-150-disk-0" successfully removed.\n')
    # a template name that cannot be a template fails before that
    res = node.pct("create", "150", "local:vztmpl/nope", "--rootfs", "local-lvm:1")
    assert (res.returncode, res.stdout) == (255, "")


def test_root_only(node):
    res = subprocess.run(["setpriv", "--reuid=65534", "--regid=65534", "--clear-groups", PCT,
                          "list"], capture_output=True, text=True, env={**os.environ, **node.env()})
    assert (res.returncode, res.stderr) == (255, "please run as root\n")


def test_refuses_to_run_without_root_dir(tmp_path):
    env = {k: v for k, v in os.environ.items() if not k.startswith("PVE_SIM_")}
    res = subprocess.run([PCT, "list"], capture_output=True, text=True, env=env)
    assert res.returncode == 255
    assert "PVE_SIM_ROOT is not set" in res.stderr
    res = subprocess.run([PCT, "list"], capture_output=True, text=True,
                         env={**env, "PVE_SIM_ROOT": str(tmp_path / "missing")})
    assert res.returncode == 255
    assert not (tmp_path / "missing").exists()


# ---- positive tests ---------------------------------------------------------------


def test_create_defaults_and_conf_format(ovs, pve_sim):
    pve = pve_sim(ovs)
    res = pve.pct("create", 300, pve.template, "--rootfs", "local-lvm:1", check=0)
    assert res.stdout.splitlines()[0] == '  Logical volume "vm-300-disk-0" created.'
    assert f"extracting archive '{pve.path('var/lib/vz/template/cache/' + os.path.basename(pve.template))}'" in res.stdout
    assert "Detected container architecture: amd64" in res.stdout
    # PVE 9 defaults: unprivileged 1, hostname CT<vmid>, memory/swap 512
    assert pve.read_conf(300) == (
        "arch: amd64\n"
        "hostname: CT300\n"
        "memory: 512\n"
        "ostype: debian\n"
        "rootfs: local-lvm:vm-300-disk-0,size=1G\n"
        "swap: 512\n"
        "unprivileged: 1\n")
    # /etc/pve/lxc is a symlink to the node's directory, as on Proxmox
    assert os.readlink(pve.path("etc/pve/lxc")) == "nodes/pve/lxc"
    # rootfs is owned by the mapped root of the unprivileged CT
    assert os.stat(pve.path("var/lib/pve-sim/lvm/pve/vm-300-disk-0/etc/hostname")).st_uid == 100000

    # everything given on the command line, in Proxmox's stored form
    pve.pct("create", 301, pve.template, "--rootfs", "local-lvm:1", "--hostname", "web.example",
            "--memory", "256", "--swap", "0", "--cores", "2", "--unprivileged", "0",
            "--onboot", "yes", "--tags", "Web;db,web", "--nameserver", "1.1.1.1 9.9.9.9",
            "--searchdomain", "example.org", "--features", "nesting=1,keyctl=on",
            "--description", "line one\nline: two",
            "--net0", "bridge=vmbr0,name=eth0,ip=10.0.0.5/24,gw=10.0.0.1,tag=20,firewall=1,"
                      "hwaddr=BC:24:11:AB:CD:EF", check=0)
    assert pve.read_conf(301) == (
        "#line one\n"
        "#line%3A two\n"
        "arch: amd64\n"
        "cores: 2\n"
        "features: nesting=1,keyctl=on\n"
        "hostname: web.example\n"
        "memory: 256\n"
        "nameserver: 1.1.1.1 9.9.9.9\n"
        "net0: name=eth0,bridge=vmbr0,firewall=1,gw=10.0.0.1,hwaddr=BC:24:11:AB:CD:EF,"
        "ip=10.0.0.5/24,tag=20,type=veth\n"
        "onboot: 1\n"
        "ostype: debian\n"
        "rootfs: local-lvm:vm-301-disk-0,size=1G\n"
        "searchdomain: example.org\n"
        "swap: 0\n"
        "tags: db;web\n")
    # without hwaddr a BC:24:11 address is generated and stored
    pve.pct("set", 300, "--net0", "name=eth0,bridge=vmbr0", check=0)
    assert re.search(r"^net0: name=eth0,bridge=vmbr0,hwaddr=BC:24:11(:[0-9A-F]{2}){3},type=veth$",
                     pve.read_conf(300), re.M)


def test_list_status_config_output(ovs, pve_sim):
    add_netdev_bridge(ovs, "vmbr0")
    pve = pve_sim(ovs)
    assert pve.pct("list", check=0).stdout == ""
    pve.create(1000, "--hostname", "a-rather-long-hostname-not-truncated",
               "--net0", "name=eth0,bridge=vmbr0")
    pve.create(110, "--description", "hello")
    pve.pct("start", 1000, check=0)
    pve.pct("set", 110, "--lock", "backup", check=0)
    assert pve.pct("list", check=0).stdout == (
        "VMID       Status     Lock         Name                \n"
        "110        stopped    backup       CT110               \n"
        "1000       running                 a-rather-long-hostname-not-truncated\n")
    assert pve.pct("status", 1000, check=0).stdout == "status: running\n"
    assert pve.pct("status", 110, check=0).stdout == "status: stopped\n"
    verbose = pve.pct("status", 1000, "--verbose", check=0).stdout
    keys = [line.split(":")[0] for line in verbose.splitlines()]
    assert keys == sorted(keys)
    assert "cpu" not in keys
    fields = dict(line.split(": ", 1) for line in verbose.splitlines())
    assert fields["status"] == "running" and fields["vmid"] == "1000"
    assert fields["name"] == "a-rather-long-hostname-not-truncated"
    assert fields["maxmem"] == str(512 << 20) and fields["type"] == "lxc"
    assert int(fields["pid"]) > 1
    # a running CT: its cgroup's pressure stall averages (avg10), and the
    # size of the file system its root is on
    for key in ("pressurecpusome", "pressureiosome", "pressureiofull", "pressurememorysome",
                "pressurememoryfull"):
        assert re.fullmatch(r"\d+\.\d\d", fields[key]), (key, verbose)
    assert int(fields["maxdisk"]) > 0 and int(fields["disk"]) > 0
    stopped = dict(line.split(": ", 1) for line in
                   pve.pct("status", 110, "--verbose", check=0).stdout.splitlines())
    assert "pid" not in stopped and stopped["lock"] == "backup"
    assert not [k for k in stopped if k.startswith("pressure")]
    assert stopped["maxdisk"] == str(1 << 30)

    # config: sorted, description percent-encoded, raw lxc.* last in file order
    pve.pct("unlock", 110, check=0)
    pve.add_raw_lxc(110, "lxc.prlimit.nofile = 4096", "lxc.apparmor.profile: unconfined")
    out = pve.pct("config", 110, check=0).stdout
    assert out == (
        "arch: amd64\n"
        "description: hello%0A\n"
        "hostname: CT110\n"
        "memory: 512\n"
        "ostype: debian\n"
        "rootfs: local-lvm:vm-110-disk-0,size=1G\n"
        "swap: 512\n"
        "unprivileged: 1\n"
        "lxc.prlimit.nofile: 4096\n"
        "lxc.apparmor.profile: unconfined\n")
    # rewriting the file normalises raw keys to "k: v", keeping their order
    pve.pct("set", 110, "--cores", "1", check=0)
    assert pve.read_conf(110).endswith(
        "unprivileged: 1\nlxc.prlimit.nofile: 4096\nlxc.apparmor.profile: unconfined\n")


def test_pending_changes_on_running_ct(ovs, pve_sim):
    add_netdev_bridge(ovs, "vmbr0")
    pve = pve_sim(ovs)
    pve.create(120, "--net0", "name=eth0,bridge=vmbr0,hwaddr=BC:24:11:00:01:20")
    pve.pct("start", 120, check=0)
    # hot-pluggable options are applied at once, others go to [pve:pending]
    pve.pct("set", 120, "--hostname", "live", "--nameserver", "8.8.8.8", "--cores", "1",
            "--delete", "swap", check=0)
    conf = pve.read_conf(120)
    main, pending = conf.split("\n[pve:pending]\n")
    assert "hostname: live\n" in main and "cores: 1\n" in main
    assert "swap" not in main
    assert pending == "nameserver: 8.8.8.8\n"
    assert pve.pct("pending", 120, check=0).stdout.splitlines()[:4] == [
        "cur arch: amd64", "cur cores: 1", "cur hostname: live", "cur memory: 512"]
    assert "new nameserver: 8.8.8.8" in pve.pct("pending", 120).stdout
    assert "nameserver: 8.8.8.8\n" in pve.pct("config", 120, check=0).stdout
    assert "nameserver" not in pve.pct("config", 120, "--current", check=0).stdout
    # the new hostname is in the configuration, the CT gets it when it starts
    assert pve.pct("exec", 120, "--", "hostname", check=0).stdout == "CT120\n"
    # net1..net9 are unplugged at once, net10 and above only at the next start
    pve.pct("set", 120, "--net1", "name=eth1,bridge=vmbr0", "--net10", "name=eth10,bridge=vmbr0",
            check=0)
    pve.pct("set", 120, "--delete", "net1,net10", check=0)
    conf = pve.read_conf(120)
    assert "net1:" not in conf and "net10:" in conf.split("[pve:pending]")[0]
    assert "delete: net10\n" in conf.split("[pve:pending]")[1]
    pve.pct("stop", 120, check=0)
    assert "[pve:pending]" not in pve.read_conf(120)
    assert "nameserver: 8.8.8.8\n" in pve.read_conf(120) and "net10" not in pve.read_conf(120)
    pve.pct("start", 120, check=0)
    assert pve.pct("exec", 120, "--", "hostname", check=0).stdout == "live\n"


def _port(ovs, name, column):
    return ovs.vsctl("get", "Port", name, column)


def test_start_plugs_veth_into_sandbox_bridge(ovs, pve_sim):
    add_netdev_bridge(ovs, "vmbr0")
    pve = pve_sim(ovs)
    pve.create(130, "--hostname", "ct130",
               "--net0", "name=eth0,bridge=vmbr0,hwaddr=BC:24:11:00:01:30,ip=10.1.0.130/24,"
                         "gw=10.1.0.1,tag=10")
    res = pve.pct("start", 130, check=0)
    assert res.stdout == res.stderr == ""
    # a real LXC container, running
    assert pve.lxc_state(130) == "RUNNING"
    # host side veth in the sandbox namespace, plugged like tap_plug does
    assert "veth130i0" in ovs.links()
    assert _port(ovs, "veth130i0", "tag") == "10"
    assert _port(ovs, "veth130i0", "trunks") == "[]"
    assert ovs.vsctl("port-to-br", "veth130i0") == "vmbr0"
    assert ovs.vsctl("get", "Interface", "veth130i0", "mtu_request") == "1500"
    assert ovs.vsctl("get", "Port", "veth130i0", "external_ids") == "{}"
    assert pve.vsctl_calls() == [
        ["del-port", "veth130i0"],
        ["br-exists", "vmbr0"],
        ["--", "add-port", "vmbr0", "veth130i0", "tag=10", "--", "set", "Interface",
         "veth130i0", "mtu_request=1500"],
    ]
    # the container side: name, MAC, address, gateway, hostname
    res = pve.pct("exec", 130, "--", "sh", "-c",
                  "cat /sys/class/net/eth0/address; ip addr show eth0; ip route; hostname",
                  check=0)
    assert "bc:24:11:00:01:30" in res.stdout
    assert "inet 10.1.0.130/24" in res.stdout
    assert "default via 10.1.0.1 dev eth0" in res.stdout
    assert res.stdout.rstrip().endswith("ct130")
    # exit code of exec is the inner command's
    assert pve.pct("exec", 130, "--", "sh", "-c", "exit 7").returncode == 7
    # unprivileged: root inside is uid 100000 outside
    uid_map = pve.pct("exec", 130, "--", "cat", "/proc/self/uid_map", check=0).stdout.split()
    assert uid_map == ["0", "100000", "65536"]

    # trunks + tag: native-untagged
    pve.pct("stop", 130, check=0)
    assert "veth130i0" not in ovs.vsctl("list-ports", "vmbr0").split()
    pve.pct("set", 130, "--net0", "name=eth0,bridge=vmbr0,hwaddr=BC:24:11:00:01:30,tag=10,"
                                  "trunks=20;30", check=0)
    pve.pct("start", 130, check=0)
    assert _port(ovs, "veth130i0", "trunks") == "[20, 30]"
    assert _port(ovs, "veth130i0", "vlan_mode") == "native-untagged"
    pve.pct("stop", 130, check=0)
    assert ovs.vsctl("list-ports", "vmbr0") == ""
    assert pve.links() == []


def test_firewall_bridge_plumbing(ovs, pve_sim):
    add_netdev_bridge(ovs, "vmbr0")
    pve = pve_sim(ovs)
    pve.create(140, "--net0", "name=eth0,bridge=vmbr0,hwaddr=BC:24:11:00:01:40,firewall=1,tag=7")
    pve.pct("start", 140, check=0)
    links = ovs.links()
    assert {"veth140i0", "fwbr140i0", "fwln140o0"} <= set(links)
    # the OVS port is the internal port fwln<vmid>o<n>, not the veth
    assert ovs.vsctl("list-ports", "vmbr0").split() == ["fwln140o0"]
    assert ovs.vsctl("get", "Interface", "fwln140o0", "type") == "internal"
    assert _port(ovs, "fwln140o0", "tag") == "7"
    # both the veth and fwln are enslaved to the Linux bridge fwbr140i0
    for dev in ("veth140i0", "fwln140o0"):
        info = json.loads(ovs.netns_exec("ip", "-j", "link", "show", "dev", dev).stdout)[0]
        assert info["master"] == "fwbr140i0"
    assert ["--", "add-port", "vmbr0", "fwln140o0", "tag=7", "--", "set", "Interface",
            "fwln140o0", "mtu_request=1500", "--", "set", "Interface", "fwln140o0",
            "type=internal"] in pve.vsctl_calls()
    pve.pct("stop", 140, check=0)
    assert ovs.vsctl("list-ports", "vmbr0") == ""
    assert not {"veth140i0", "fwbr140i0", "fwln140o0"} & set(ovs.links())


def test_two_containers_ping_through_ovs(ovs, pve_sim):
    add_netdev_bridge(ovs, "vmbr0")
    pve = pve_sim(ovs)
    pve.create(151, "--net0", "name=eth0,bridge=vmbr0,hwaddr=BC:24:11:00:01:51,ip=10.2.0.1/24,"
                              "tag=30")
    pve.create(152, "--unprivileged", "0",
               "--net0", "name=eth0,bridge=vmbr0,hwaddr=BC:24:11:00:01:52,ip=10.2.0.2/24,tag=30,"
                         "firewall=1")
    pve.pct("start", 151, check=0)
    pve.pct("start", 152, check=0)
    res = pve.pct("exec", 151, "--", "ping", "-c", "3", "-W", "2", "10.2.0.2")
    assert res.returncode == 0, res.stdout + res.stderr
    assert "3 packets received" in res.stdout
    res = pve.pct("exec", 152, "--", "ping", "-c", "1", "-W", "2", "10.2.0.1")
    assert res.returncode == 0, res.stdout + res.stderr
    # a different VLAN does not reach them
    pve.pct("set", 152, "--net0", "name=eth0,bridge=vmbr0,hwaddr=BC:24:11:00:01:52,"
                                  "ip=10.2.0.2/24,tag=31,firewall=1", check=0)
    assert _port(ovs, "fwln152o0", "tag") == "31"
    res = pve.pct("exec", 151, "--", "ping", "-c", "1", "-W", "1", "10.2.0.2")
    assert res.returncode != 0


def test_hotplug_nic_on_running_ct(ovs, pve_sim):
    add_netdev_bridge(ovs, "vmbr0")
    pve = pve_sim(ovs)
    pve.create(160, "--net0", "name=eth0,bridge=vmbr0,hwaddr=BC:24:11:00:01:60")
    pve.pct("start", 160, check=0)
    pve.pct("set", 160, "--net1", "name=lan1,bridge=vmbr0,hwaddr=BC:24:11:00:01:61,"
                                  "ip=10.3.0.1/24,tag=3", check=0)
    assert _port(ovs, "veth160i1", "tag") == "3"
    res = pve.pct("exec", 160, "--", "ip", "addr", "show", "lan1", check=0)
    assert "bc:24:11:00:01:61" in res.stdout and "10.3.0.1/24" in res.stdout
    # a new address is applied in the CT, a new tag re-plugs the port
    pve.pct("set", 160, "--net1", "name=lan1,bridge=vmbr0,hwaddr=BC:24:11:00:01:61,"
                                  "ip=10.3.0.2/24,tag=4", check=0)
    res = pve.pct("exec", 160, "--", "ip", "addr", "show", "lan1", check=0)
    assert "10.3.0.2/24" in res.stdout and "10.3.0.1/24" not in res.stdout
    assert _port(ovs, "veth160i1", "tag") == "4"
    # removing it unplugs and deletes the veth
    pve.pct("set", 160, "--delete", "net1", check=0)
    assert "veth160i1" not in ovs.links()
    assert ovs.vsctl("list-ports", "vmbr0").split() == ["veth160i0"]
    assert pve.pct("exec", 160, "--", "ip", "link", "show", "lan1").returncode != 0
    assert "net1" not in pve.read_conf(160)
    # a bridge that does not exist: the hot-plug error of Proxmox
    res = pve.pct("set", 160, "--net2", "name=eth2,bridge=vmbr7,hwaddr=BC:24:11:00:01:62")
    assert (res.returncode, res.stderr) == (
        255, PV + "net2: unable to hotplug net2: bridge 'vmbr7' does not exist\n\n" + U_SET)


def test_push_and_pull(ovs, pve_sim, tmp_path):
    add_netdev_bridge(ovs, "vmbr0")
    pve = pve_sim(ovs)
    pve.create(170)
    pve.pct("start", 170, check=0)
    src = tmp_path / "payload"
    src.write_text("payload\n")
    res = pve.pct("push", 170, src, "/root/payload", "--perms", "640", "--user", "nobody",
                  check=0)
    assert res.stdout == res.stderr == ""
    res = pve.pct("exec", 170, "--", "sh", "-c", "stat -c '%a %U' /root/payload; cat /root/payload",
                  check=0)
    assert res.stdout == "640 nobody\npayload\n"
    # owned by the mapped uid of 'nobody' on the host side
    st = os.stat(pve.path("var/lib/pve-sim/lvm/pve/vm-170-disk-0/root/payload"))
    assert st.st_uid == 100000 + 65534
    # quirk: errors inside the push/pull worker exit 0
    res = pve.pct("push", 170, src, "/no/such/dir/file")
    assert (res.returncode, res.stdout, res.stderr) == (
        0, "", "failed to create file: /no/such/dir/file: No such file or directory\n")
    res = pve.pct("push", 170, tmp_path / "missing", "/root/x")
    assert (res.returncode, res.stderr) == (0, f"failed to open {tmp_path}/missing for reading\n")
    dest = tmp_path / "pulled"
    pve.pct("pull", 170, "/etc/hostname", dest, check=0)
    assert dest.read_text() == "CT170\n"
    res = pve.pct("pull", 170, "/etc/missing", tmp_path / "x")
    assert (res.returncode, res.stderr) == (0, "failed to open /etc/missing: No such file or directory\n")


def test_raw_lxc_keys_applied_on_restart(ovs, pve_sim):
    add_netdev_bridge(ovs, "vmbr0")
    pve = pve_sim(ovs)
    for vmid, unpriv in ((180, "1"), (181, "0")):
        pve.create(vmid, "--unprivileged", unpriv,
                   "--net0", f"name=eth0,bridge=vmbr0,hwaddr=BC:24:11:00:01:{vmid - 100:02X}")
        pve.pct("start", vmid, check=0)
        assert pve.pct("exec", vmid, "--", "test", "-e", "/dev/net/tun").returncode == 1
        # a pending change puts a section into the file; raw keys go before it
        pve.pct("set", vmid, "--nameserver", "9.9.9.9", check=0)
        assert "\n[pve:pending]\n" in pve.read_conf(vmid)
        pve.add_raw_lxc(vmid, "lxc.cgroup2.devices.allow: c 10:200 rwm",
                        "lxc.mount.entry: /dev/net/tun dev/net/tun none bind,create=file")
        conf = pve.read_conf(vmid)
        assert conf.index("lxc.mount.entry") < conf.index("[pve:pending]")
        pve.pct("stop", vmid, check=0)
        pve.pct("start", vmid, check=0)
        res = pve.pct("exec", vmid, "--", "ls", "-l", "/dev/net/tun", check=0)
        assert res.stdout.startswith("c") and "10, 200" in res.stdout
        # the raw keys survive rewrites of the file, in order, as "k: v"
        assert pve.read_conf(vmid).endswith(
            "lxc.cgroup2.devices.allow: c 10:200 rwm\n"
            "lxc.mount.entry: /dev/net/tun dev/net/tun none bind,create=file\n")
        lxc_conf = open(pve.path(f"var/lib/lxc/{vmid}/config")).read()
        assert "lxc.mount.entry = /dev/net/tun dev/net/tun none bind,create=file\n" in lxc_conf
    # a privileged CT may also open the device (the cgroup rule is applied)
    res = pve.pct("exec", 181, "--", "sh", "-c", "cat /dev/net/tun 2>&1; true", check=0)
    assert "Operation not permitted" not in res.stdout


def test_environment_runtime_lines_are_env(pve_sim):
    # pve-container 6.0.15: lxc.environment.runtime lines are the "env"
    # option, shown by pct config with raw NUL characters between them
    pve = pve_sim()
    pve.create(185, "--hostname", "envct", "--tags", "a;b")
    pve.add_raw_lxc(185, "lxc.environment.runtime: FOO=1", "lxc.apparmor.profile: unconfined",
                    "lxc.environment.runtime: BAR=two words")
    res = pve.pct("config", 185, check=0)
    lines = res.stdout.split("\n")
    keys = [line.split(":", 1)[0] for line in lines if line]
    assert "env: FOO=1\0BAR=two words" in lines
    assert keys == sorted(keys[:-1]) + ["lxc.apparmor.profile"]
    assert {"hostname", "memory", "rootfs", "tags", "unprivileged"} < set(keys)
    # written back as lxc.environment.runtime lines, ahead of the other raw keys
    pve.pct("set", 185, "--memory", "300", check=0)
    assert pve.read_conf(185).endswith("lxc.environment.runtime: FOO=1\n"
                                       "lxc.environment.runtime: BAR=two words\n"
                                       "lxc.apparmor.profile: unconfined\n")
    # one line: no NUL
    pve.write_conf(185, pve.read_conf(185).replace("lxc.environment.runtime: BAR=two words\n", ""))
    assert "env: FOO=1\n" in pve.pct("config", 185, check=0).stdout


def test_resize(pve_sim):
    pve = pve_sim()
    with open(pve.path("etc/pve/storage.cfg"), "a") as f:
        f.write("lvm: thick\n\tvgname vg1\n\tcontent rootdir,images\n\n")
    pve.create(186)
    res = pve.pct("resize", 186, "rootfs", "2G", check=0)
    assert (res.stdout, res.stderr) == (
        "  Size of logical volume pve/vm-186-disk-0 changed from 1.00 GiB (256 extents) to "
        "2.00 GiB (512 extents).\n  Logical volume pve/vm-186-disk-0 successfully resized.\n", "")
    assert "rootfs: local-lvm:vm-186-disk-0,size=2G\n" in pve.read_conf(186)
    pve.pct("resize", 186, "rootfs", "+512M", check=0)
    assert "rootfs: local-lvm:vm-186-disk-0,size=2560M\n" in pve.read_conf(186)
    # checks before the worker: non-zero exit
    for args, err in ((["rootfs", "1G"], "unable to shrink disk size\n"),
                      (["rootfs", "2560M"], "disk is already at specified size\n"),
                      (["rootfs", "2X"], "400 Parameter verification failed.\n"
                       "size: value does not match the regex pattern\n"
                       "pct resize <vmid> <disk> <size> [OPTIONS]\n")):
        res = pve.pct("resize", 186, *args)
        assert (res.returncode, res.stderr) == (255, err)
    pve.pct("set", 186, "--lock", "backup", check=0)
    res = pve.pct("resize", 186, "rootfs", "3G")
    assert (res.returncode, res.stderr) == (255, "CT is locked (backup)\n")
    pve.pct("unlock", 186, check=0)
    # a failure inside the worker (lvextend) is printed, but the exit code is
    # 0: pct.pm has no exit handler for resize; the size stays
    pve.create(187, "--rootfs", "thick:1")
    before = pve.read_conf(187)
    res = pve.pct("resize", 187, "rootfs", "+1000000G")
    assert res.returncode == 0 and res.stdout == ""
    assert re.fullmatch(r"error resizing volume '/dev/vg1/vm-187-disk-0':   Insufficient free space: "
                        r"\d+ extents needed, but only \d+ available\n", res.stderr), res.stderr
    assert pve.read_conf(187) == before


def test_ha_managed_containers(pve_sim):
    # API2::LXC::Status: for an HA-managed CT, start/shutdown/stop only
    # queue a request with the HA manager (there is none in the double:
    # the request lands in ha/resources.cfg) and return
    pve = pve_sim()
    pve.create(188, "--ha-managed", "1")
    res = pve.pct("create", 189, pve.template, "--rootfs", "local-lvm:1", "--ha-managed", check=0)
    assert res.stdout.endswith("Add as HA resource\n")
    resources = pve.path("etc/pve/ha/resources.cfg")
    assert open(resources).read() == "ct: 188\n\tstate stopped\n\nct: 189\n\tstate stopped\n\n"
    res = pve.pct("start", 188, check=0)
    assert (res.stdout, res.stderr) == ("Requesting HA start for CT 188\n", "")
    assert pve.pct("status", 188, check=0).stdout == "status: stopped\n"
    assert "ct: 188\n\tstate started\n" in open(resources).read()
    # an 'ignored' resource is not managed: pct acts itself
    with open(resources, "w") as f:
        f.write("ct: 188\n\tstate ignored\n\nct: 189\n\tstate stopped\n\n")
    res = pve.pct("start", 188, check=0)
    assert "Requesting HA" not in res.stdout
    assert pve.pct("status", 188, check=0).stdout == "status: running\n"
    with open(resources, "w") as f:
        f.write("ct: 188\n\tstate started\n\nct: 189\n\tstate stopped\n\n")
    res = pve.pct("shutdown", 188, "--timeout", "5", check=0)
    assert (res.stdout, res.stderr) == ("Requesting HA stop for CT 188\n", "")
    assert pve.pct("status", 188, check=0).stdout == "status: running\n"
    res = pve.pct("stop", 188, "--overrule-shutdown")
    assert (res.returncode, res.stderr) == (255, "400 Parameter verification failed.\n"
                                            "overrule-shutdown: Not applicable for HA resources.\n"
                                            "pct stop <vmid> [OPTIONS]\n")
    res = pve.pct("stop", 188, check=0)
    assert res.stdout == "Requesting HA stop for CT 188\n"
    # destroy needs --purge, which also removes the HA resource
    res = pve.pct("destroy", 189)
    assert (res.returncode, res.stderr) == (
        255, "unable to remove CT 189 - used in HA resources and purge parameter not set.\n")
    res = pve.pct("destroy", 189, "--purge", check=0)
    assert res.stdout.endswith("purging CT 189 from related configurations..\n"
                               "NOTE: removed CT 189 from HA resource configuration.\n")
    assert open(resources).read() == "ct: 188\n\tstate stopped\n\n"
    pve.pct("destroy", 188, "--purge", "--force", check=0)


def test_mount_and_start_while_mounted(pve_sim):
    pve = pve_sim()
    pve.create(192)
    res = pve.pct("mount", 192, check=0)
    assert res.stdout == f"mounted CT 192 in '{pve.path('var/lib/lxc/192/rootfs')}'\n"
    res = pve.pct("set", 192, "--memory", "256")
    assert (res.returncode, res.stderr) == (255, "CT is locked (mounted)\n")
    # start and stop are allowed while it is mounted (API2/LXC/Status.pm)
    pve.pct("start", 192, check=0)
    pve.pct("stop", 192, check=0)
    pve.pct("unmount", 192, check=0)
    assert "lock:" not in pve.read_conf(192)
    res = pve.pct("unmount", 192)
    assert (res.returncode, res.stderr) == (255, "no lock found trying to remove 'mounted'  lock\n")


def test_pending_delete_of_a_false_value_is_shown(pve_sim):
    # load_current_config drops a pending deletion only "if $conf->{$opt}":
    # a value of 0 is still shown
    pve = pve_sim()
    pve.create(193, "--console", "0", "--tty", "3")
    pve.pct("start", 193, check=0)
    pve.pct("set", 193, "--delete", "console,tty", check=0)
    assert "[pve:pending]\ndelete: console,tty\n" in pve.read_conf(193)
    merged = pve.pct("config", 193, check=0).stdout
    assert "console: 0\n" in merged and "tty:" not in merged
    assert "tty: 3\n" in pve.pct("config", 193, "--current", check=0).stdout


def test_destroy_removes_everything(ovs, pve_sim):
    add_netdev_bridge(ovs, "vmbr0")
    pve = pve_sim(ovs)
    pve.create(190, "--net0", "name=eth0,bridge=vmbr0,hwaddr=BC:24:11:00:01:90,firewall=1")
    pve.pct("start", 190, check=0)
    res = pve.pct("destroy", 190, "--force", check=0)
    assert res.stdout == ('forced to stop CT 190 before destroying!\n'
                          '  Logical volume "vm-190-disk-0" successfully removed.\n')
    assert pve.pct("list", check=0).stdout == ""
    assert not os.path.exists(pve.conf_path(190))
    assert not os.path.exists(pve.path("var/lib/pve-sim/lvm/pve/vm-190-disk-0"))
    assert not os.path.exists(pve.path("var/lib/lxc/190"))
    assert pve.leftovers() == {}
    assert ovs.vsctl("list-ports", "vmbr0") == ""
    res = pve.pct("status", 190)
    assert (res.returncode, res.stderr) == (
        255, "Configuration file 'nodes/pve/lxc/190.conf' does not exist\n")
    # --purge: also from the related configurations (backup, replication, HA)
    pve.create(191)
    res = pve.pct("destroy", 191, "--purge", check=0)
    assert res.stdout == ('  Logical volume "vm-191-disk-0" successfully removed.\n'
                          "purging CT 191 from related configurations..\n")
    assert pve.ct_ids() == []


def test_pveam(pve_sim):
    pve = pve_sim()
    name = os.path.basename(pve.template)
    assert pve.pveam("available", check=0).stdout == f"system          {name:<60} amd64\n"
    out = pve.pveam("list", "local", check=0).stdout.splitlines()
    assert out[0] == f"{'NAME':<60} SIZE  "
    assert re.fullmatch(rf"local:vztmpl/{re.escape(name)}\s+\d+\.\d\dMB", out[1])
    res = pve.pveam("download", "local", "nope.tar.gz")
    assert (res.returncode, res.stderr) == (
        255, PV + "template: no such template\npveam download <storage> <template>\n")
    assert pve.pveam("update", check=0).stdout == "update successful\n"


def test_pvesm_status(pve_sim):
    pve = pve_sim()
    pve.add_storage("zfspool: local-zfs\n\tpool rpool/data\n\tsparse 1\n\tcontent images,rootdir")
    pve.add_storage("lvm: off\n\tvgname vg1\n\tcontent rootdir,images\n\tdisable")
    pve.add_storage("dir: elsewhere\n\tpath /srv/x\n\tcontent rootdir\n\tnodes other1,other2")
    row = r"%s +%s +%s +\d+ +\d+ +\d+ +( \d|\d\d|100)\.\d\d%%"
    # pvesm.pm's $print_status: the name column as wide as the longest name + 1
    res = pve.pvesm("status", check=0)
    lines = res.stdout.splitlines()
    header = "%-{}s %10s %10s %15s %15s %15s %8s".format
    assert lines[0] == header(10) % ("Name", "Type", "Status", "Total (KiB)", "Used (KiB)",
                                     "Available (KiB)", "%")
    assert [line.split()[0] for line in lines[1:]] == ["elsewhere", "local", "local-lvm", "local-zfs", "off"]
    assert lines[-1] == "%-10s %10s %10s %15d %15d %15d %8s" % ("off", "lvm", "disabled", 0, 0, 0, "N/A")
    assert re.fullmatch(row % ("local-zfs ", "   zfspool", "    active"), lines[4]), lines[4]
    # --content: storages that may hold that type, enabled and on this node
    res = pve.pvesm("status", "--content", "rootdir", check=0)
    lines = res.stdout.splitlines()
    assert lines[0].startswith("Name" + " " * 13 + "Type") and len(lines) == 3
    assert re.fullmatch(row % ("local-lvm ", "   lvmthin", "    active"), lines[1]), lines[1]
    assert re.fullmatch(row % ("local-zfs ", "   zfspool", "    active"), lines[2]), lines[2]
    res = pve.pvesm("status", "--content", "vztmpl", check=0)
    assert [line.split()[0] for line in res.stdout.splitlines()] == ["Name", "local"]
    res = pve.pvesm("status", "--storage", "nope")
    assert (res.returncode, res.stderr) == (255, "400 Parameter verification failed.\n"
                                            "storage: No such storage.\npvesm status  [OPTIONS]\n")
    # pct create checks the same (PVE::Storage::storage_check_enabled)
    for store, err in (("off", "storage 'off' is disabled\n"),
                       ("elsewhere", "storage 'elsewhere' is not available on node 'pve'\n")):
        res = pve.pct("create", 150, pve.template, "--rootfs", f"{store}:1")
        assert (res.returncode, res.stderr) == (255, err)
    res = pve.pvesm("status", "--content", "disks")
    assert (res.returncode, res.stderr) == (
        255, "400 Parameter verification failed.\ncontent: invalid format - invalid content type "
        "'disks'\n\npvesm status  [OPTIONS]\n")


def test_create_with_start_and_ct_of_other_cluster_node(ovs, pve_sim):
    add_netdev_bridge(ovs, "vmbr0")
    pve = pve_sim(ovs)
    pve.create(210, "--net0", "name=eth0,bridge=vmbr0,hwaddr=BC:24:11:00:02:10", "--start", "1")
    assert pve.lxc_state(210) == "RUNNING"
    # a CT id used on another node of the cluster is taken as well
    os.makedirs(pve.path("etc/pve/nodes/pve2/lxc"))
    with open(pve.path("etc/pve/nodes/pve2/lxc/211.conf"), "w") as f:
        f.write("memory: 512\n")
    res = pve.create(211, check=None)
    assert (res.returncode, res.stderr) == (255, "CT 211 already exists on node 'pve2'\n")
    assert pve.pct("list", check=0).stdout.count("\n") == 2


def test_conf_sections_roundtrip(pve_sim):
    pve = pve_sim()
    pve.create(220, "--hostname", "snappy")
    conf = pve.read_conf(220)
    # a file as Proxmox writes it with a snapshot and pending changes, with a
    # raw key in "=" form and one Proxmox refuses
    pve.write_conf(220, (
        "#first line\n#second %3A line\n" + conf + "parent: snap1\n"
        "lxc.prlimit.nofile = 1024\n"
        "lxc.rootfs.path: /somewhere\n"
        "\n[pve:pending]\nswap: 256\n"
        "\n[snap2]\narch: amd64\nhostname: old2\nsnaptime: 1700000002\n"
        "\n[snap1]\narch: amd64\nhostname: old1\nmemory: 128\nsnaptime: 1700000001\n"))
    res = pve.pct("config", 220, check=0)
    assert res.stderr == "vm 220 - lxc.rootfs.path: lxc.rootfs.path is auto generated from rootfs\n"
    assert res.stdout.startswith("arch: amd64\ndescription: first line%0Asecond %3A line%0A\n")
    assert "swap: 256\n" in res.stdout and "parent: snap1\n" in res.stdout
    assert res.stdout.endswith("lxc.prlimit.nofile: 1024\n")
    assert "swap: 512\n" in pve.pct("config", 220, "--current", check=0).stdout
    assert pve.pct("config", 220, "--snapshot", "snap1", check=0).stdout == (
        "arch: amd64\nhostname: old1\nmemory: 128\nsnaptime: 1700000001\n")
    res = pve.pct("config", 220, "--snapshot", "snap9")
    assert (res.returncode, res.stderr.splitlines()[-1]) == (255, "snapshot 'snap9' does not exist")
    # a change of one option leaves the pending one alone; sections sorted,
    # raw keys normalised, the refused key dropped
    pve.pct("set", 220, "--cores", "2", check=0)
    assert pve.read_conf(220) == (
        "#first line\n#second %3A line\n"
        "arch: amd64\ncores: 2\nhostname: snappy\nmemory: 512\nostype: debian\nparent: snap1\n"
        "rootfs: local-lvm:vm-220-disk-0,size=1G\nswap: 512\nunprivileged: 1\n"
        "lxc.prlimit.nofile: 1024\n"
        "\n[pve:pending]\nswap: 256\n"
        "\n[snap1]\narch: amd64\nhostname: old1\nmemory: 128\nsnaptime: 1700000001\n"
        "\n[snap2]\narch: amd64\nhostname: old2\nsnaptime: 1700000002\n")
    assert pve.pct("pending", 220, check=0).stdout.splitlines()[-3:] == [
        "cur swap: 512", "new swap: 256", "cur unprivileged: 1"]
    # revert drops the pending change
    pve.pct("set", 220, "--revert", "swap", check=0)
    assert "[pve:pending]" not in pve.read_conf(220)
