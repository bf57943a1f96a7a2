# SPDX-License-Identifier: LGPL-2.1-or-later
"""install.sh staged into a temporary --destdir: what it installs, that the
state file it writes is valid, that a second run changes nothing, --force,
--uninstall, the deployment modes and the interactive menu (through a
pseudo-terminal). Always --destdir and --no-deps: nothing here touches the
host's /etc, /usr, services or Open vSwitch. The runs without --destdir
(a machine without systemd) happen in a throwaway copy-on-write view of
the machine (run_install_without_systemd). install.sh runs from a copy of
the source tree, so that it builds in a build-release/ of its own (see
own_tree)."""

import hashlib
import json
import os
import select
import shutil
import subprocess
import time
from pathlib import Path

import pytest

pytest.register_assert_rewrite("dbus_fixture")

pytest_plugins = ("dbus_fixture",)

SOURCE = Path(__file__).resolve().parents[2]
ROOT = SOURCE
INSTALL = ROOT / "install.sh"
SYSTEMD_SRC = SOURCE / "systemd"
PREFIX = "/usr/local"

MENU = """Select deployment mode:

  [1] Full (Proxmox) - All features
  [2] Standalone - OVS + Flows only (no containers)
  [3] Privacy Client - WireGuard + Warp + XRay Client
  [4] Privacy VPS - XRay Server only
  [5] Agent - Minimal (D-Bus plugins only)

Enter mode [1-5]:"""


def tree(root):
    """{relative path: (mode, sha256)} of every file below root."""
    out = {}
    for dirpath, _, files in os.walk(root):
        for f in files:
            p = Path(dirpath) / f
            out[str(p.relative_to(root))] = (p.stat().st_mode & 0o7777,
                                             hashlib.sha256(p.read_bytes()).hexdigest())
    return out


def run_install(destdir, *args, check=True):
    """install.sh --destdir DESTDIR --no-deps ARGS, without a terminal."""
    return subprocess.run([str(INSTALL), "--destdir", str(destdir), "--no-deps", *map(str, args)],
                          cwd=ROOT, stdin=subprocess.DEVNULL, capture_output=True, text=True,
                          timeout=600, check=check)


def install_standalone(destdir, *args):
    return run_install(destdir, "--mode", "standalone", "--yes", *args)


def pkg_config(package, variable):
    r = subprocess.run(["pkg-config", f"--variable={variable}", package],
                       capture_output=True, text=True)
    return r.stdout.strip() if r.returncode == 0 else ""


def expected_files(prefix=PREFIX):
    """Where meson installs each file (systemd/meson.build): systemd.pc and
    dbus-1.pc decide, else directories below the prefix."""
    datadir = pkg_config("dbus-1", "datadir") or f"{prefix}/share"
    unitdir = pkg_config("systemd", "systemdsystemunitdir") or f"{prefix}/lib/systemd/system"
    return {
        "binary": f"{prefix}/sbin/op-dbus",
        "hook": f"{prefix}/sbin/op-dbus-ovs-hook",
        "unit": unitdir + "/op-dbus.service",
        "dropin": unitdir + "/ovs-vswitchd.service.d/op-dbus.conf",
        "policy": f"{datadir}/dbus-1/system.d/org.opdbus.conf",
        "activation": f"{datadir}/dbus-1/system-services/org.opdbus.service",
        "tmpfiles": (pkg_config("systemd", "tmpfilesdir") or f"{prefix}/lib/tmpfiles.d") + "/op-dbus.conf",
        "sysusers": (pkg_config("systemd", "sysusersdir") or f"{prefix}/lib/sysusers.d") + "/op-dbus.conf",
        # man/meson.build, completion/meson.build: below the prefix
        "man8": f"{prefix}/share/man/man8/op-dbus.8",
        "man5": f"{prefix}/share/man/man5/op-dbus-state.5",
        "completion": f"{prefix}/share/bash-completion/completions/op-dbus",
    }


def below(root, path):
    return Path(root) / path.lstrip("/")


def profile(binary, name):
    """The state `op-dbus init --profile NAME` prints, or None if unknown."""
    r = subprocess.run([binary, "init", "--profile", name], capture_output=True, text=True)
    return json.loads(r.stdout) if r.returncode == 0 else None


def run_in_pty(args, answer, timeout=600):
    """Runs args with a pseudo-terminal as stdin, stdout and stderr; writes
    answer once the mode prompt shows. Returns (exit code, output)."""
    master, slave = os.openpty()
    proc = subprocess.Popen(args, cwd=ROOT, stdin=slave, stdout=slave, stderr=slave,
                            start_new_session=True)
    os.close(slave)
    out, answered = b"", False
    deadline = time.monotonic() + timeout
    try:
        while True:
            ready, _, _ = select.select([master], [], [], max(0.0, deadline - time.monotonic()))
            if not ready:
                proc.kill()
                pytest.fail(f"install.sh did not finish within {timeout}s:\n{out.decode(errors='replace')}")
            try:
                chunk = os.read(master, 4096)
            except OSError:  # EIO: every process has closed the terminal
                break
            if not chunk:
                break
            out += chunk
            if not answered and b"Enter mode [1-5]:" in out:
                os.write(master, answer.encode())
                answered = True
    finally:
        os.close(master)
    rc = proc.wait(timeout=60)
    assert answered, f"no prompt:\n{out.decode(errors='replace')}"
    return rc, out.decode(errors="replace").replace("\r\n", "\n")


@pytest.fixture(scope="module", autouse=True)
def own_tree(tmp_path_factory):
    """install.sh builds in build-release/ next to itself. On a node where
    op-dbus was installed from this tree, that directory belongs to the
    installation (install.sh --uninstall takes the prefix from it), so the
    tests run install.sh from a copy of the tree (without its build
    directories), which has a build-release/ of its own."""
    global ROOT, INSTALL
    copy = tmp_path_factory.mktemp("tree") / "op-dbus"
    shutil.copytree(SOURCE, copy, symlinks=True,
                    ignore=lambda d, names: [n for n in names if n in (".git", "__pycache__") or
                                             (Path(d) == SOURCE and n.startswith("build"))])
    ROOT, INSTALL = copy, copy / "install.sh"
    yield copy
    ROOT, INSTALL = SOURCE, SOURCE / "install.sh"


def build_dir_state(path):
    """What tells whether a build directory was (re)configured or built."""
    return {f.name: f.stat().st_mtime_ns for f in (path / "build.ninja", path / ".ninja_log",
                                                    path / "meson-private" / "coredata.dat")
            if f.exists()}


def test_the_source_trees_build_directory_is_left_alone(tmp_path):
    before = build_dir_state(SOURCE / "build-release")
    install_standalone(tmp_path / "root")
    assert build_dir_state(SOURCE / "build-release") == before


# ---- standalone, non-interactive ------------------------------------------

def test_install_into_destdir_is_complete_and_idempotent(tmp_path):
    dest = tmp_path / "root"
    out = install_standalone(dest).stdout
    assert "nothing started or applied" in out

    files = expected_files()
    binary = below(dest, files["binary"])
    state = dest / "etc/op-dbus/state.json"
    assert os.access(binary, os.X_OK)
    assert state.stat().st_mode & 0o777 == 0o600
    assert (dest / "var/lib/op-dbus").stat().st_mode & 0o777 == 0o700
    version = subprocess.run([binary, "version"], capture_output=True, text=True, check=True).stdout
    assert version.startswith("op-dbus ")
    subprocess.run([binary, "validate", state], check=True, capture_output=True)
    assert json.loads(state.read_text()) == profile(binary, "none")

    # The systemd and D-Bus files, as in systemd/, the unit naming the binary.
    for key, src in [("policy", "org.opdbus.conf"), ("activation", "org.opdbus.service"),
                     ("tmpfiles", "op-dbus.tmpfiles.conf"), ("sysusers", "op-dbus.sysusers.conf")]:
        installed = below(dest, files[key])
        assert installed.read_bytes() == (SYSTEMD_SRC / src).read_bytes(), key
        assert installed.stat().st_mode & 0o777 == 0o644, key
    unit = below(dest, files["unit"]).read_text()
    assert f"ExecStart={PREFIX}/sbin/op-dbus run --state /etc/op-dbus/state.json\n" in unit
    assert "@sbindir@" not in unit
    # The hook in ovs-vswitchd's start, and the drop-in that runs it.
    dropin = below(dest, files["dropin"]).read_text()
    assert f"ExecStartPre=-{PREFIX}/sbin/op-dbus-ovs-hook start-pre\n" in dropin
    assert f"ExecStartPost=-{PREFIX}/sbin/op-dbus-ovs-hook start-post\n" in dropin
    hook = below(dest, files["hook"])
    assert hook.stat().st_mode & 0o777 == 0o755
    assert f'OPDBUS=${{OPDBUS_BIN:-{PREFIX}/sbin/op-dbus}}' in hook.read_text()

    # Exactly these files, and nothing else: the state file and which
    # profile it stands for.
    assert set(tree(dest)) == {f.lstrip("/") for f in files.values()} | {"etc/op-dbus/state.json",
                                                                         "var/lib/op-dbus/install-profile"}
    assert (dest / "var/lib/op-dbus/install-profile").read_text() == "none\n"

    first = tree(dest)
    again = install_standalone(dest).stdout
    assert "keeping the existing" in again
    assert tree(dest) == first


def test_force_backs_up_the_state_file(tmp_path):
    dest = tmp_path / "root"
    install_standalone(dest)
    state = dest / "etc/op-dbus/state.json"
    edited = '{"version": 1, "plugins": {"net": {"bridges": [{"name": "vmbr9"}]}}}\n'
    state.write_text(edited)

    out = install_standalone(dest, "--force").stdout
    (backup,) = (dest / "etc/op-dbus").glob("state.json.bak.*")
    assert f"backed up the old state file to {backup}" in out
    assert backup.read_text() == edited
    assert backup.stat().st_mode & 0o777 == 0o600
    assert state.stat().st_mode & 0o777 == 0o600
    binary = below(dest, expected_files()["binary"])
    assert json.loads(state.read_text()) == profile(binary, "none")

    # --force again: the file already is the profile; no second backup.
    first = tree(dest)
    out = install_standalone(dest, "--force").stdout
    assert "kept" in out
    assert tree(dest) == first


def test_uninstall_removes_the_installed_files_and_keeps_the_state(tmp_path):
    dest = tmp_path / "root"
    install_standalone(dest)
    state = dest / "etc/op-dbus/state.json"
    content = state.read_bytes()

    out = run_install(dest, "--uninstall").stdout
    for path in expected_files().values():
        assert not below(dest, path).exists(), path
        assert f"removed {below(dest, path)}" in out
    assert state.read_bytes() == content
    assert (dest / "var/lib/op-dbus").is_dir()
    assert set(tree(dest)) == {"etc/op-dbus/state.json", "var/lib/op-dbus/install-profile"}
    # Directories the installation made for these files are gone as well.
    assert not (dest / "usr").exists()

    again = run_install(dest, "--uninstall").stdout
    assert "removed 0 files" in again
    assert state.read_bytes() == content


def test_agent_mode_writes_an_empty_state(tmp_path):
    dest = tmp_path / "root"
    run_install(dest, "--mode", "agent", "--yes")
    state = dest / "etc/op-dbus/state.json"
    assert json.loads(state.read_text()) == {"version": 1, "plugins": {}}
    assert state.stat().st_mode & 0o777 == 0o600
    subprocess.run([below(dest, expected_files()["binary"]), "validate", state],
                   check=True, capture_output=True)


def test_privacy_client_stops_at_the_placeholders(tmp_path):
    dest = tmp_path / "root"
    install_standalone(dest)
    binary = below(dest, expected_files()["binary"])
    if profile(binary, "privacy-client") is None:
        pytest.skip("this op-dbus has no privacy-client profile")
    probe = tmp_path / "probe.json"
    subprocess.run([binary, "init", "--profile", "privacy-client", "-o", probe], check=True)
    check = subprocess.run([binary, "validate", probe], capture_output=True, text=True)
    if check.returncode != 2 or "placeholder" not in check.stdout + check.stderr:
        pytest.skip("this op-dbus does not refuse placeholders")

    r = run_install(dest, "--mode", "privacy-client", "--yes", "--force")
    state = dest / "etc/op-dbus/state.json"
    assert json.loads(state.read_text())["plugins"]["lxc"]["container_profile"] == "privacy-client"
    assert state.stat().st_mode & 0o777 == 0o600
    assert "still contains placeholders" in r.stdout
    # Every line op-dbus validate prints about the file, e.g.
    # "plugins...server: placeholder VPS_IP: the public IPv4 address of your VPS".
    check = subprocess.run([binary, "validate", state], capture_output=True, text=True)
    assert check.returncode == 2
    for line in filter(None, (check.stdout + check.stderr).splitlines()):
        assert line in r.stdout, line
    for word in ("VPS_IP", "CLIENT_PUBLIC_KEY"):
        assert any(word in line and "placeholder" in line for line in r.stdout.splitlines()), word
    assert "op-dbus apply /etc/op-dbus/state.json" in r.stdout
    assert "systemctl enable --now op-dbus" in r.stdout
    assert "nothing started or applied" in r.stdout

    # Again without --force: the file is kept, the placeholders shown again.
    kept = state.read_bytes()
    again = run_install(dest, "--mode", "privacy-client", "--yes")
    assert "keeping the existing" in again.stdout and "still contains placeholders" in again.stdout
    assert state.read_bytes() == kept


# ---- another mode on an installed node --------------------------------------

def test_another_mode_does_not_silently_keep_the_state(tmp_path):
    """A node installed as standalone ('none'), then install.sh --mode
    privacy-vps --yes: refused before anything is installed, saying how to
    replace or keep the state; --force replaces it (backup kept) and
    --keep-state keeps it."""
    dest = tmp_path / "root"
    install_standalone(dest)
    state = dest / "etc/op-dbus/state.json"
    binary = below(dest, expected_files()["binary"])
    before = tree(dest)

    r = run_install(dest, "--mode", "privacy-vps", "--yes", check=False)
    assert r.returncode == 1, r.stdout + r.stderr
    assert (f"install.sh: {state} exists and was written from the 'none' profile; "
            "mode privacy-vps writes the 'privacy-vps' profile.") in r.stderr
    assert "--force        to replace it with the 'privacy-vps' profile" in r.stderr
    assert "--keep-state   to keep it as it is for mode privacy-vps" in r.stderr
    assert "installing into" not in r.stdout
    assert tree(dest) == before

    r = run_install(dest, "--mode", "privacy-vps", "--yes", "--force")
    (backup,) = (dest / "etc/op-dbus").glob("state.json.bak.*")
    assert json.loads(backup.read_text()) == profile(binary, "none")
    vps = json.loads(state.read_text())
    assert vps["plugins"]["lxc"]["container_profile"] == "privacy-vps"
    assert (dest / "var/lib/op-dbus/install-profile").read_text() == "privacy-vps\n"

    # Back to standalone, keeping the VPS's state: said once, then kept.
    r = run_install(dest, "--mode", "standalone", "--yes", check=False)
    assert r.returncode == 1 and "written from the 'privacy-vps' profile" in r.stderr
    run_install(dest, "--mode", "standalone", "--yes", "--keep-state")
    assert json.loads(state.read_text()) == vps
    assert "keeping the existing" in install_standalone(dest).stdout
    assert json.loads(state.read_text()) == vps

    r = run_install(dest, "--mode", "standalone", "--yes", "--keep-state", "--force", check=False)
    assert r.returncode == 1 and "not both" in r.stderr


def test_state_without_record_is_kept_only_when_it_is_the_modes(tmp_path):
    """A state file from before the record (or written by hand): kept when
    it is what the mode writes, refused otherwise."""
    dest = tmp_path / "root"
    install_standalone(dest)
    record = dest / "var/lib/op-dbus/install-profile"
    record.unlink()
    assert "keeping the existing" in install_standalone(dest).stdout
    assert record.read_text() == "none\n"

    record.unlink()
    state = dest / "etc/op-dbus/state.json"
    state.write_text('{"version": 1, "plugins": {"net": {"bridges": [{"name": "vmbr9"}]}}}\n')
    r = run_install(dest, "--mode", "standalone", "--yes", check=False)
    assert r.returncode == 1
    assert f"install.sh: {state} exists and is not the 'none' profile, which mode standalone writes." in r.stderr
    assert not record.exists()


# ---- refusals -------------------------------------------------------------

def test_install_rejects_unknown_option():
    r = subprocess.run([str(INSTALL), "--bogus"], capture_output=True, text=True,
                       stdin=subprocess.DEVNULL)
    assert r.returncode != 0 and "unknown option '--bogus'" in r.stderr


def test_without_mode_and_terminal_asks_for_mode(tmp_path):
    r = run_install(tmp_path / "root", check=False)
    assert r.returncode != 0
    assert "pass --mode full|standalone|privacy-client|privacy-vps|agent" in r.stderr
    assert not (tmp_path / "root").exists()


def test_unknown_mode_is_refused(tmp_path):
    r = run_install(tmp_path / "root", "--mode", "everything", "--yes", check=False)
    assert r.returncode != 0 and "unknown mode 'everything'" in r.stderr


def test_unknown_profile_is_refused_before_installing(tmp_path):
    dest = tmp_path / "root"
    r = run_install(dest, "--mode", "standalone", "--profile", "no-such-profile", "--yes", check=False)
    assert r.returncode != 0
    assert "cannot make a state from profile 'no-such-profile'" in r.stderr
    assert tree(dest) == {}


# ---- the menu, through a pseudo-terminal ----------------------------------

def test_menu_standalone(tmp_path):
    dest = tmp_path / "root"
    rc, out = run_in_pty([str(INSTALL), "--destdir", str(dest), "--no-deps"], "2\n")
    assert MENU in out
    assert rc == 0, out
    assert "the 'none' profile" in out
    assert "nothing started or applied" in out
    binary = below(dest, expected_files()["binary"])
    assert json.loads((dest / "etc/op-dbus/state.json").read_text()) == profile(binary, "none")


def test_menu_invalid_selection(tmp_path):
    dest = tmp_path / "root"
    rc, out = run_in_pty([str(INSTALL), "--destdir", str(dest), "--no-deps"], "9\n")
    assert MENU in out
    assert "Invalid selection" in out
    assert rc != 0
    assert not dest.exists()


# ---- without systemd: a throwaway view of this machine ----------------------

# Makes $1 a tmpfs, mounts there an overlay whose lower layer is / and whose
# writes stay in the tmpfs, gives it the real /proc, /sys and /dev, an empty
# /run (no systemd, no system bus: a container or a chroot) and the
# directories $2 (":"-separated) at their own paths; runs the rest in it.
SCRATCH_ROOT = r"""
set -eu
w=$1 binds=$2; shift 2
mount -t tmpfs tmpfs "$w"
mkdir "$w/upper" "$w/work" "$w/root"
mount -t overlay overlay -o "lowerdir=/,upperdir=$w/upper,workdir=$w/work" "$w/root" || exit 77
for d in proc sys dev; do mount --rbind "/$d" "$w/root/$d"; done
mount -t tmpfs tmpfs "$w/root/run"
IFS=:
for d in $binds; do mkdir -p "$w/root$d" && mount --bind "$d" "$w/root$d"; done
exec chroot "$w/root" env -C "$PWD" "$@"
"""


def run_install_without_systemd(tmp_path, *args, env=None, binds=()):
    """install.sh --no-deps ARGS as root and without --destdir, in a mount
    namespace of its own whose / is a copy-on-write overlay of the real one
    (see SCRATCH_ROOT): it installs into /usr/local, /etc and /var there,
    and nothing reaches the machine. env replaces these variables (None:
    removes them)."""
    if os.geteuid() != 0:
        pytest.skip("needs root (mount namespaces, overlayfs)")
    scratch = tmp_path / "scratch-root"
    scratch.mkdir()
    run_env = dict(os.environ)
    for key, value in (env or {}).items():
        if value is None:
            run_env.pop(key, None)
        else:
            run_env[key] = value
    r = subprocess.run(["unshare", "--mount", "--propagation", "private", "--",
                        "sh", "-c", SCRATCH_ROOT, "sh", str(scratch), ":".join(map(str, binds)),
                        str(INSTALL), "--no-deps", *map(str, args)],
                       cwd=ROOT, stdin=subprocess.DEVNULL, capture_output=True, text=True,
                       timeout=900, env=run_env)
    if r.returncode == 77:
        pytest.skip(f"overlayfs over / is not available here: {r.stderr.strip()}")
    return r


def test_without_systemd_and_system_bus_says_how_to_get_a_bus(tmp_path):
    """No systemd and no system bus (this is what a container or chroot
    looks like): install.sh installs and says that the daemon needs a system
    bus, and how to start one, before telling the operator to start the
    daemon."""
    r = run_install_without_systemd(tmp_path, "--mode", "agent", "--yes",
                                    env={"DBUS_SYSTEM_BUS_ADDRESS": None})
    assert r.returncode == 0, r.stdout + r.stderr
    out = r.stdout
    missing = ("==> no D-Bus system bus answers at unix:path=/run/dbus/system_bus_socket: "
               "'op-dbus run' (the daemon) cannot start without one; start it:")
    assert missing in out, out
    assert "      mkdir -p /run/dbus && dbus-daemon --system" in out, out
    start = "==> systemd is not running this machine: once the system bus runs, start the daemon yourself:"
    assert start in out, out
    assert out.index(missing) < out.index(start)
    assert out.rstrip().endswith("op-dbus run --state /etc/op-dbus/state.json"), out


def test_without_systemd_with_a_system_bus(tmp_path, system_bus):
    """The system bus of $DBUS_SYSTEM_BUS_ADDRESS answers: the daemon can
    be started as it is."""
    r = run_install_without_systemd(tmp_path, "--mode", "agent", "--yes",
                                    env={"DBUS_SYSTEM_BUS_ADDRESS": system_bus.address},
                                    binds=[system_bus.dir])
    assert r.returncode == 0, r.stdout + r.stderr
    out = r.stdout
    assert (f"==> the D-Bus system bus answers at {system_bus.address} "
            "(from $DBUS_SYSTEM_BUS_ADDRESS)") in out, out
    assert "no D-Bus system bus" not in out, out
    assert "==> systemd is not running this machine: start the daemon yourself:\n" \
           "      op-dbus run --state /etc/op-dbus/state.json" in out, out


def test_refused_where_the_debian_package_is_installed(tmp_path):
    """The package owns op-dbus's files on a node that has it: install.sh
    (and --uninstall) refuse and say how to upgrade or remove the package;
    nothing is installed (docs/install.md, "From the Debian package")."""
    fake = tmp_path / "bin"
    fake.mkdir()
    (fake / "dpkg-query").write_text("#!/bin/sh\n# what dpkg-query says where the op-dbus package is installed\n"
                                     "printf 'install ok installed'\n")
    (fake / "dpkg-query").chmod(0o755)
    for i, args in enumerate((("--mode", "agent", "--yes"), ("--uninstall",))):
        work = tmp_path / str(i)
        work.mkdir()
        r = run_install_without_systemd(work, *args, env={"PATH": f"{fake}:{os.environ['PATH']}"},
                                        binds=(fake,))
        assert r.returncode != 0, r.stdout + r.stderr
        assert "the Debian package op-dbus is installed here" in r.stderr, r.stderr
        assert "==> " not in r.stdout, r.stdout
