# SPDX-License-Identifier: LGPL-2.1-or-later
"""The Debian packages (debian/, docs/install.md "From the Debian package"),
built and installed the way an operator does it.

One module-wide build and one clean Debian 12 root:

  * dpkg-buildpackage -us -uc -b on a copy of the tree makes
    op-dbus_<version>_amd64.deb and op-router_<version>_amd64.deb;
    lintian reports no error and no warning that debian/*.lintian-overrides
    does not justify;
  * debootstrap --variant=minbase bookworm from Debian's archive (the
    mirror of this machine's apt sources, or $OPDBUS_DEBIAN_MIRROR) makes
    the root, which the test removes; every command in it runs in a mount
    and PID namespace of its own (nothing it starts or mounts outlives
    it), with a policy-rc.d that starts no service;
  * apt-get install ./op-dbus_….deb resolves the dependencies from the
    archive (Open vSwitch among them); a state file and a checkpoint made
    before are not applied or touched by the installation; op-dbus version
    and validate work; the system group, the unit, the D-Bus policy, the
    tmpfiles and sysusers snippets, the manual pages and the bash
    completion are where the system reads them;
  * an upgrade to a later version of the same build (the package repacked
    with a higher version: dpkg runs every maintainer script of an
    upgrade) keeps the state file and the checkpoints byte for byte;
  * dpkg -r leaves them; dpkg -P removes them; op-router's package the
    same with its state and secrets files.
"""

import os
import re
import shutil
import subprocess
import tempfile
from pathlib import Path

import pytest

ROOT = Path(__file__).resolve().parents[2]
SUITE = "bookworm"


def run(cmd, **kw):
    kw.setdefault("check", True)
    kw.setdefault("text", True)
    kw.setdefault("capture_output", True)
    try:
        return subprocess.run(cmd, **kw)
    except subprocess.CalledProcessError as e:
        raise AssertionError(f"{cmd} exited with {e.returncode}:\n{e.stdout}\n{e.stderr}") from None


def version():
    first = (ROOT / "debian/changelog").read_text().splitlines()[0]
    m = re.match(r"op-dbus \(([^)]+)\)", first)
    assert m, f"debian/changelog: no version in {first!r}"
    return m.group(1)


def mirror():
    """Debian's archive as this machine's apt sources name it."""
    if os.environ.get("OPDBUS_DEBIAN_MIRROR"):
        return os.environ["OPDBUS_DEBIAN_MIRROR"]
    files = [Path("/etc/apt/sources.list")] + sorted(Path("/etc/apt/sources.list.d").glob("*"))
    for f in files:
        if not f.is_file():
            continue
        text = f.read_text(errors="replace")
        m = re.search(r"^URIs:\s*(\S+/debian)/?\s*$", text, re.M) or \
            re.search(r"^deb\s+(?:\[[^]]*\]\s+)?(\S+/debian)/?\s+" + SUITE, text, re.M)
        if m:
            return m.group(1)
    return "http://deb.debian.org/debian"


@pytest.fixture(scope="module")
def work():
    d = Path(tempfile.mkdtemp(prefix="opdbus-deb-"))
    yield d
    shutil.rmtree(d, ignore_errors=True)


@pytest.fixture(scope="module")
def debs(work):
    """The packages built from a copy of the tree's files (the build
    writes next to the source, never into the tree)."""
    src = work / "src"
    src.mkdir()
    files = run(["git", "-C", str(ROOT), "ls-files", "-z", "--cached", "--others",
                 "--exclude-standard"]).stdout.split("\0")
    for f in filter(None, files):
        p = ROOT / f
        if p.is_file():
            (src / f).parent.mkdir(parents=True, exist_ok=True)
            shutil.copy2(p, src / f)
    r = subprocess.run(["dpkg-buildpackage", "-us", "-uc", "-b"], cwd=src,
                       text=True, capture_output=True)
    assert r.returncode == 0, f"dpkg-buildpackage failed:\n{r.stdout[-6000:]}\n{r.stderr[-3000:]}"
    v = version()
    out = {name: work / f"{name}_{v}_amd64.deb" for name in ("op-dbus", "op-router")}
    for name, deb in out.items():
        assert deb.is_file(), f"{deb.name} was not built"
        print(f"{deb.name}: {deb.stat().st_size} bytes")
    out["changes"] = work / f"op-dbus_{v}_amd64.changes"
    return out


class Chroot:
    """A Debian 12 root made by debootstrap; commands run inside it in
    their own mount and PID namespaces."""

    def __init__(self, path):
        self.path = path

    def sh(self, script, check=True):
        r = subprocess.run(
            ["unshare", "--mount", "--pid", "--fork", "--propagation", "private",
             f"--mount-proc={self.path}/proc", "chroot", str(self.path),
             "/usr/bin/env", "-i", "PATH=/usr/sbin:/usr/bin:/sbin:/bin", "LC_ALL=C.UTF-8",
             "DEBIAN_FRONTEND=noninteractive", "/bin/sh", "-ec", script],
            text=True, capture_output=True)
        if check:
            assert r.returncode == 0, f"in the chroot: {script}\nexit {r.returncode}\n{r.stdout}\n{r.stderr}"
        return r

    def file(self, p):
        return self.path / p.lstrip("/")


@pytest.fixture(scope="module")
def chroot(work):
    root = work / "root"
    r = subprocess.run(["debootstrap", "--variant=minbase", SUITE, str(root), mirror()],
                       text=True, capture_output=True)
    assert r.returncode == 0, f"debootstrap failed:\n{r.stdout[-3000:]}\n{r.stderr[-3000:]}"
    policy = root / "usr/sbin/policy-rc.d"
    policy.write_text("#!/bin/sh\n# no service starts in this test root\nexit 101\n")
    policy.chmod(0o755)
    c = Chroot(root)
    c.sh("apt-get update -q")
    yield c
    # Everything ran in namespaces that are gone: nothing is mounted here.
    with open("/proc/self/mountinfo") as f:
        assert str(root) not in f.read(), "a mount in the test root survived"
    shutil.rmtree(root, ignore_errors=True)


def test_lintian_is_clean(debs):
    r = subprocess.run(["lintian", "--fail-on", "none", str(debs["changes"])],
                       text=True, capture_output=True)
    print(r.stdout)
    bad = [l for l in r.stdout.splitlines() if l.startswith(("E:", "W:"))]
    assert not bad, "lintian errors or warnings not justified in debian/*.lintian-overrides:\n" + "\n".join(bad)


def repack(deb, new_version, out):
    """The same package with a higher version: dpkg treats installing it
    as an upgrade and runs every maintainer script of one."""
    tree = out.parent / (out.name + ".d")
    run(["dpkg-deb", "-R", str(deb), str(tree)])
    control = tree / "DEBIAN/control"
    text = control.read_text()
    control.write_text(re.sub(r"^Version: .*$", f"Version: {new_version}", text, flags=re.M))
    run(["dpkg-deb", "-b", "--root-owner-group", str(tree), str(out)])
    shutil.rmtree(tree)
    return out


STATE = '{"version": 1, "plugins": {}}\n'
CHECKPOINT = '{"generation": 1, "note": "made before the package was installed"}\n'


def test_install_upgrade_remove_purge_op_dbus(debs, chroot, work):
    c = chroot
    pkgs = c.file("/tmp/pkgs")
    pkgs.mkdir(exist_ok=True)
    shutil.copy2(debs["op-dbus"], pkgs)
    # An operator's files from before: installing must neither apply nor
    # change them.
    c.file("/etc/op-dbus").mkdir(parents=True, exist_ok=True)
    c.file("/etc/op-dbus/state.json").write_text(STATE)
    cp = c.file("/var/lib/op-dbus/checkpoints")
    cp.mkdir(parents=True, exist_ok=True)
    (cp / "1.json").write_text(CHECKPOINT)

    deb = debs["op-dbus"].name
    c.sh(f"apt-get install -y -q --no-install-recommends /tmp/pkgs/{deb}")
    r = c.sh("dpkg-query -W -f='${Status} ${Version}\\n' op-dbus openvswitch-switch")
    assert r.stdout.count("install ok installed") == 2, r.stdout

    assert version().split("-")[0] in c.sh("op-dbus version").stdout
    c.sh("op-dbus init --profile none > /tmp/none.json && op-dbus validate /tmp/none.json")
    bad = c.sh("printf '{\"version\": 1, \"plugins\": {\"net\": {\"bridges\": 3}}}' > /tmp/bad.json; "
               "op-dbus validate /tmp/bad.json", check=False)
    assert bad.returncode == 2 and "plugins.net.bridges" in bad.stdout + bad.stderr, bad

    for f in ("/lib/systemd/system/op-dbus.service",
              "/lib/systemd/system/ovs-vswitchd.service.d/op-dbus.conf",
              "/usr/share/dbus-1/system.d/org.opdbus.conf",
              "/usr/lib/tmpfiles.d/op-dbus.conf", "/usr/lib/sysusers.d/op-dbus.conf",
              "/usr/share/man/man8/op-dbus.8.gz", "/usr/share/man/man5/op-dbus-state.5.gz",
              "/usr/share/bash-completion/completions/op-dbus"):
        assert c.file(f).is_file(), f"{f} is not installed"
    c.sh("getent group opdbus")
    assert oct(c.file("/var/lib/op-dbus").stat().st_mode & 0o777) == "0o700"
    # nothing applied, nothing enabled
    assert sorted(p.name for p in cp.iterdir()) == ["1.json"]
    assert not list(c.path.glob("etc/systemd/system/*.wants/op-dbus.service"))

    up = repack(debs["op-dbus"], version() + "+upgrade1", work / "op-dbus_upgrade_amd64.deb")
    shutil.copy2(up, pkgs)
    c.sh(f"apt-get install -y -q --no-install-recommends /tmp/pkgs/{up.name}")
    assert version() + "+upgrade1" in c.sh("dpkg-query -W -f='${Version}' op-dbus").stdout
    assert c.file("/etc/op-dbus/state.json").read_text() == STATE
    assert (cp / "1.json").read_text() == CHECKPOINT
    c.sh("op-dbus validate /etc/op-dbus/state.json")

    c.sh("dpkg -r op-dbus")
    assert not c.file("/usr/sbin/op-dbus").exists()
    assert c.file("/etc/op-dbus/state.json").read_text() == STATE
    assert (cp / "1.json").read_text() == CHECKPOINT

    c.sh("dpkg -P op-dbus")
    assert not c.file("/etc/op-dbus").exists()
    assert not c.file("/var/lib/op-dbus").exists()


ROUTER_STATE = '{"version": 1, "plugins": {"routes": {"routes": []}}}\n'
SECRETS = '{}\n'


def test_install_remove_purge_op_router(debs, chroot):
    c = chroot
    pkgs = c.file("/tmp/pkgs")
    pkgs.mkdir(exist_ok=True)
    shutil.copy2(debs["op-router"], pkgs)
    c.sh(f"apt-get install -y -q --no-install-recommends /tmp/pkgs/{debs['op-router'].name}")
    for f in ("/lib/systemd/system/op-router.service", "/usr/share/man/man8/op-router.8.gz",
              "/usr/share/bash-completion/completions/op-router"):
        assert c.file(f).is_file(), f"{f} is not installed"
    assert not c.file("/etc/init.d/op-router").exists(), "the procd script is OpenWrt's"
    c.sh("op-router version")
    c.file("/etc/op-router").mkdir(parents=True, exist_ok=True)
    c.file("/etc/op-router/state.json").write_text(ROUTER_STATE)
    secrets = c.file("/etc/op-router/secrets.json")
    secrets.write_text(SECRETS)
    secrets.chmod(0o600)
    c.sh("op-router validate /etc/op-router/state.json")

    c.sh("dpkg -r op-router")
    assert not c.file("/usr/sbin/op-router").exists()
    assert c.file("/etc/op-router/state.json").read_text() == ROUTER_STATE
    assert secrets.read_text() == SECRETS

    c.sh("dpkg -P op-router")
    assert not c.file("/etc/op-router").exists()
