# SPDX-License-Identifier: LGPL-2.1-or-later
"""An aarch64 virtual machine for tests: Debian's arm64 kernel under
qemu-system-aarch64 (TCG), booted from an initramfs made for one run.

The initramfs holds busybox (busybox-static:arm64), the kernel modules of
tests/vm/modules.txt with their dependencies (loaded by insmod at boot, in
order; on-demand loading is off, so a module missing from the list makes a
check fail), Debian's arm64 tools as oracles (nft, ip, bridge, wg, tcpdump:
the dynamically linked programs with their libraries and the loader), the
static programs of the aarch64 build, data files, and scenario scripts.
The guest runs each scenario in a network namespace of its own, prints the
output of every check between markers on the console and powers off; the
host reads the console and reports each check.

    vm = Machine.prepare(cache)            # kernel, busybox, tools (cached)
    result = vm.run(scenarios={"name": "script text"},
                    programs={"nft-driver": Path(...)},
                    files={"/vm/data/x.json": b"..."})
    result.check("name", "check-name")     # -> Check(rc, output)

Scenario scripts are busybox sh with the helpers of guest/check.sh:
`check NAME CMD...` runs CMD, captures its output and exit status;
`expect_fail NAME CMD...` passes when CMD fails. Programs are in /vm/bin
(on PATH), files where `files` puts them.

Packages are downloaded with apt-get download into the cache
(build-vm-aarch64/ below the source root unless OPDBUS_VM_CACHE is set)
and extracted there; nothing is installed on the host. The architecture
arm64 must be known to dpkg (tests/deps-aarch64.sh adds it).

Command line (a developer's loop):
    python3 tests/vm/aarch64vm.py [--program PATH]... [--file GUEST=HOST]...
            SCENARIO.sh...
prints every check with its output and exits 0 when all passed.
"""

import argparse
import json
import os
import re
import shutil
import stat
import subprocess
import sys
import time
from dataclasses import dataclass, field
from pathlib import Path

HERE = Path(__file__).resolve().parent
SOURCE_ROOT = HERE.parents[1]
GUEST_DIR = HERE / "guest"
MODULES_FILE = HERE / "modules.txt"

ARCH = "arm64"
TRIPLET = "aarch64-linux-gnu"
LOADER = "ld-linux-aarch64.so.1"
KERNEL_META = "linux-image-arm64"

# Debian's programs in the guest: name -> (package, path in the package).
TOOLS = {
    "nft": ("nftables", "usr/sbin/nft"),
    "ip": ("iproute2", "bin/ip"),
    "bridge": ("iproute2", "sbin/bridge"),
    "wg": ("wireguard-tools", "usr/bin/wg"),
    "tcpdump": ("tcpdump", "usr/bin/tcpdump"),
}
DEFAULT_TOOLS = ("nft", "ip", "bridge", "wg", "tcpdump")

QEMU = "qemu-system-aarch64"
# -nographic: the serial console on stdout (stdin is /dev/null); -nic none:
# no network card, whose option ROM qemu-system-arm does not ship
QEMU_ARGS = ["-M", "virt", "-cpu", "cortex-a53", "-m", "512M", "-smp", "1",
             "-nographic", "-nic", "none", "-no-reboot"]
# quiet console: only the checks' output and kernel emergencies
KERNEL_CMDLINE = "console=ttyAMA0 rdinit=/init panic=-1 quiet loglevel=1"
BOOT_TIMEOUT = 600

MARK = re.compile(r"^@@(\S+)(?: (.*))?$")


class VMError(Exception):
    """The machine could not be prepared or did not run to the end."""


def log(msg):
    print(f"aarch64vm: {msg}", file=sys.stderr, flush=True)


def run(cmd, **kw):
    kw.setdefault("check", True)
    kw.setdefault("capture_output", True)
    kw.setdefault("text", True)
    try:
        return subprocess.run([str(c) for c in cmd], **kw)
    except subprocess.CalledProcessError as e:
        raise VMError(f"{' '.join(e.cmd)} exited with {e.returncode}:\n{e.stdout or ''}{e.stderr or ''}") from e
    except FileNotFoundError as e:
        raise VMError(f"{cmd[0]} is not installed (tests/deps-aarch64.sh installs it)") from e


# ---- Debian packages ---------------------------------------------------------------

class Archive:
    """arm64 packages downloaded into CACHE/debs and extracted into
    CACHE/pkgs/<file name>; a package is fetched again when the archive's
    candidate version changes. apt-cache is slow here (no package cache:
    seconds a call), so what is asked of it is asked at once."""

    def __init__(self, cache):
        self.debs = cache / "debs"
        self.pkgs = cache / "pkgs"
        self.debs.mkdir(parents=True, exist_ok=True)
        self.pkgs.mkdir(parents=True, exist_ok=True)
        self.known = {}         # package -> {"file", "depends"}

    def query(self, packages, required=True):
        """Learn the candidate versions of packages (one apt-cache call for
        those not known yet). required=False: leave out those the archive
        does not have (virtual packages)."""
        ask = sorted({p for p in packages if p and p not in self.known})
        if not ask:
            return
        out = run(["apt-cache", "show", "--no-all-versions", *[f"{p}:{ARCH}" for p in ask]],
                  check=False).stdout
        for para in out.split("\n\n"):
            f = dict(re.findall(r"^(Package|Version|Architecture|Depends): (.*)$", para, re.M))
            if all(k in f for k in ("Package", "Version", "Architecture")):
                # the file name apt-get download writes (an epoch's colon quoted)
                self.known[f["Package"]] = {
                    "file": f"{f['Package']}_{f['Version'].replace(':', '%3a')}_{f['Architecture']}.deb",
                    "depends": f.get("Depends", ""),
                }
        missing = [p for p in ask if p not in self.known]
        if missing and required:
            raise VMError(f"not in the {ARCH} archive: {', '.join(missing)} "
                          "(is arm64 added to dpkg? tests/deps-aarch64.sh)")

    def extract(self, packages):
        """Download and extract packages; returns package -> its tree."""
        packages = sorted(set(packages))
        self.query(packages)
        fetch = [p for p in packages if not (self.debs / self.known[p]["file"]).exists()]
        if fetch:
            log(f"apt-get download {' '.join(fetch)}")
            run(["apt-get", "download", "-q", "-o", "APT::Sandbox::User=root",
                 *[f"{p}:{ARCH}" for p in fetch]], cwd=self.debs)
        trees = {}
        for p in packages:
            f = self.known[p]["file"]
            tree = self.pkgs / f.removesuffix(".deb")
            if not tree.is_dir():
                tmp = tree.with_name(tree.name + ".tmp")
                shutil.rmtree(tmp, ignore_errors=True)
                run(["dpkg-deb", "-x", self.debs / f, tmp])
                tmp.rename(tree)
            trees[p] = tree
        return trees


def packages_of_sonames(sonames):
    """soname -> the Debian package that ships it, found through what the
    host has installed (its amd64 or arm64 copy); unknown ones are left
    out."""
    out = run(["dpkg-query", "-S", *[f"*-linux-gnu/{s}" for s in sonames]], check=False).stdout
    found = {}
    for line in out.splitlines():
        pkgs, _, path = line.partition(": ")
        soname = path.rsplit("/", 1)[-1]
        if soname not in sonames or soname in found:
            continue
        for pkg in pkgs.split(", "):
            name, _, arch = pkg.partition(":")
            if arch in ("amd64", ARCH):
                found[soname] = name
                break
    return found


def library_depends(depends):
    """The library packages of a Depends field: the first alternative of
    each, without version or architecture qualifiers, where its name says
    it is a library (lib*, zlib*)."""
    names = []
    for dep in depends.split(","):
        name = re.sub(r"\(.*?\)|:\w+", "", dep.split("|")[0]).strip()
        if name.startswith(("lib", "zlib")):
            names.append(name)
    return names


def needed(binary):
    """The DT_NEEDED entries of an aarch64 ELF file."""
    out = run([f"{TRIPLET}-readelf", "-d", binary]).stdout
    return re.findall(r"\(NEEDED\)\s+Shared library: \[([^]]+)\]", out)


def find_in_tree(tree, soname):
    for d in (f"lib/{TRIPLET}", f"usr/lib/{TRIPLET}", "lib", "usr/lib"):
        p = tree / d / soname
        if p.exists():
            return p
    return None


# ---- the kernel ---------------------------------------------------------------------

@dataclass
class Kernel:
    version: str
    image: Path
    moddir: Path            # lib/modules/<version>
    deps: dict = field(default_factory=dict)        # module -> [module]
    softdeps: dict = field(default_factory=dict)    # module -> (pre, post)
    paths: dict = field(default_factory=dict)       # module -> path of its .ko
    builtin: set = field(default_factory=set)
    aliases: dict = field(default_factory=dict)     # alias -> [module]

    @staticmethod
    def modname(path):
        return Path(path).name.split(".ko")[0].replace("-", "_")

    @classmethod
    def load(cls, root):
        mods = sorted((root / "lib/modules").iterdir())
        if len(mods) != 1:
            raise VMError(f"expected one kernel in {root}, found {[m.name for m in mods]}")
        moddir = mods[0]
        version = moddir.name
        image = root / "boot" / f"vmlinuz-{version}"
        if not (moddir / "modules.dep").exists():
            # The package ships no modules.dep: the host's depmod handles
            # arm64 modules.
            log(f"depmod -b {root} {version}")
            run(["depmod", "-b", root, version])
        k = cls(version, image, moddir)
        for line in (moddir / "modules.dep").read_text().splitlines():
            target, _, rest = line.partition(":")
            name = cls.modname(target)
            k.paths[name] = moddir / target
            k.deps[name] = [cls.modname(d) for d in rest.split()]
        for line in (moddir / "modules.builtin").read_text().splitlines():
            k.builtin.add(cls.modname(line))
        for line in (moddir / "modules.softdep").read_text().splitlines():
            m = re.match(r"softdep (\S+) (.*)$", line)
            if not m:
                continue
            pre, post, cur = [], [], None
            for word in m.group(2).split():
                if word in ("pre:", "post:"):
                    cur = pre if word == "pre:" else post
                elif cur is not None:
                    cur.append(word)
            k.softdeps[m.group(1).replace("-", "_")] = (pre, post)
        for line in (moddir / "modules.alias").read_text().splitlines():
            parts = line.split()
            if len(parts) == 3 and parts[0] == "alias":
                k.aliases.setdefault(parts[1], []).append(parts[2].replace("-", "_"))
        return k

    def resolve(self, name):
        """A module name or alias -> module names (empty when built in)."""
        name = name.replace("-", "_")
        if name in self.paths:
            return [name]
        if name in self.builtin:
            return []
        for target in self.aliases.get(name, []) + self.aliases.get(name.replace("_", "-"), []):
            if target in self.paths or target in self.builtin:
                return self.resolve(target)
        raise VMError(f"kernel {self.version} has no module {name}")

    def load_order(self, names):
        """The modules to insmod for names, dependencies and soft
        dependencies first, each once."""
        order, seen = [], set()

        def visit(mod):
            if mod in seen:
                return
            seen.add(mod)
            pre, post = self.softdeps.get(mod, ([], []))
            for p in pre:
                for m in self.resolve(p):
                    visit(m)
            for d in self.deps.get(mod, []):
                visit(d)
            order.append(mod)
            for p in post:
                for m in self.resolve(p):
                    visit(m)

        for name in names:
            for mod in self.resolve(name):
                visit(mod)
        return order


def read_module_list(path=MODULES_FILE):
    """tests/vm/modules.txt: one module a line, # comments."""
    names = []
    for line in path.read_text().splitlines():
        line = line.split("#", 1)[0].strip()
        if line:
            names.extend(line.split())
    return names


# ---- the initramfs --------------------------------------------------------------------

class Cpio:
    """An uncompressed newc archive, the format the kernel unpacks."""

    def __init__(self):
        self.data = bytearray()
        self.ino = 1000
        self.dirs = set()

    def _entry(self, name, mode, body=b"", rdev=(0, 0)):
        self.ino += 1
        name_b = name.encode() + b"\0"
        fields = [self.ino, mode, 0, 0, 1, 0, len(body), 0, 0, rdev[0], rdev[1], len(name_b), 0]
        hdr = b"070701" + b"".join(b"%08X" % f for f in fields)
        self.data += hdr + name_b
        self.data += b"\0" * (-len(self.data) % 4)
        self.data += body
        self.data += b"\0" * (-len(self.data) % 4)

    def mkdir(self, path):
        path = path.strip("/")
        parts = path.split("/")
        for i in range(1, len(parts) + 1):
            d = "/".join(parts[:i])
            if d and d not in self.dirs:
                self.dirs.add(d)
                self._entry(d, stat.S_IFDIR | 0o755)

    def file(self, path, body, mode=0o644):
        path = path.strip("/")
        self.mkdir(os.path.dirname(path))
        self._entry(path, stat.S_IFREG | mode, bytes(body))

    def symlink(self, path, target):
        path = path.strip("/")
        self.mkdir(os.path.dirname(path))
        self._entry(path, stat.S_IFLNK | 0o777, target.encode())

    def chardev(self, path, major, minor):
        path = path.strip("/")
        self.mkdir(os.path.dirname(path))
        self._entry(path, stat.S_IFCHR | 0o600, rdev=(major, minor))

    def finish(self):
        self._entry("TRAILER!!!", 0)
        self.data += b"\0" * (-len(self.data) % 512)
        return bytes(self.data)


# ---- results ------------------------------------------------------------------------

@dataclass
class Check:
    scenario: str
    name: str
    rc: int
    output: str

    @property
    def ok(self):
        return self.rc == 0


@dataclass
class Result:
    console: str
    booted: str = ""                    # "uname -r uname -m" of the guest
    uptimes: dict = field(default_factory=dict)     # "init", "modules", "done" -> s
    done: bool = False                  # the guest ran to its end
    scenarios: dict = field(default_factory=dict)   # name -> exit status
    checks: list = field(default_factory=list)
    seconds: float = 0.0

    def check(self, scenario, name):
        for c in self.checks:
            if c.scenario == scenario and c.name == name:
                return c
        raise AssertionError(f"no check {scenario}/{name} in the guest's output:\n{self.tail()}")

    def failed(self):
        return [c for c in self.checks if not c.ok]

    def timing(self):
        """Where the time went: the guest's clock (since the kernel
        started) at /init, after the modules, at the end; and the host's
        from qemu's start to its exit."""
        u = self.uptimes
        parts = [f"{label} {u[k]:.1f} s" for k, label in
                 (("init", "kernel booted to /init in"), ("modules", "modules loaded at"),
                  ("done", "checks done at")) if k in u]
        return ", ".join(parts + [f"qemu start to power-off {self.seconds:.1f} s"])

    def tail(self, lines=60):
        return "\n".join(self.console.splitlines()[-lines:])

    def report(self, scenario=None):
        """Every check of scenario (or all), one line each, with the
        output of those that failed."""
        out = []
        for c in self.checks:
            if scenario is None or c.scenario == scenario:
                out.append(f"{'PASS' if c.ok else 'FAIL'} {c.scenario}/{c.name}"
                           + ("" if c.ok else f" (exit {c.rc})"))
                if not c.ok:
                    out.extend("    " + line for line in c.output.splitlines())
        return "\n".join(out)


def parse_console(text):
    """Reads the markers guest/check.sh and guest/init print."""
    res = Result(console=text)
    scenario, cur, buf = "boot", None, []
    for raw in text.replace("\r", "").split("\n"):
        m = MARK.match(raw)
        if not m:
            if cur is not None:
                buf.append(raw)
            continue
        what, arg = m.group(1), m.group(2) or ""
        if what == "BOOT":
            res.booted = arg
        elif what == "SCENARIO":
            scenario = arg
        elif what == "SCENARIO-END":
            name, _, rc = arg.rpartition(" ")
            res.scenarios[name] = int(rc) if rc.lstrip("-").isdigit() else -1
            scenario = "boot"
        elif what == "CHECK":
            cur, buf = arg, []
        elif what == "END" and cur is not None:
            name, _, rc = arg.rpartition(" ")
            res.checks.append(Check(scenario, cur, int(rc) if rc.lstrip("-").isdigit() else -1,
                                    "\n".join(buf)))
            cur, buf = None, []
        elif what == "UPTIME":
            name, _, secs = arg.partition(" ")
            try:
                res.uptimes[name] = float(secs)
            except ValueError:
                pass
        elif what == "DONE":
            res.done = True
    if cur is not None:     # the guest stopped inside a check
        res.checks.append(Check(scenario, cur, -1, "\n".join(buf) + "\n(the guest stopped here)"))
    return res


def strip_programs(programs, dest):
    """Stripped copies of the aarch64 programs (name -> path) in dest, as
    they would go onto a router; returns (name -> copy, name -> bytes)."""
    dest.mkdir(parents=True, exist_ok=True)
    copies, sizes = {}, {}
    for name, path in programs.items():
        copy = dest / name
        run([f"{TRIPLET}-strip", "-o", copy, path])
        copies[name], sizes[name] = copy, copy.stat().st_size
    return copies, sizes


# ---- the machine ----------------------------------------------------------------------

class Machine:
    """The kernel, busybox and the tools, prepared once; run() builds an
    initramfs and boots it."""

    def __init__(self, cache, kernel, busybox, tools, modules):
        self.cache, self.kernel, self.busybox = cache, kernel, busybox
        self.tools = tools              # name -> ELF path on the host
        self.libs = {}                  # soname -> path on the host
        self.modules = modules          # load order
        self.loader = None

    @classmethod
    def prepare(cls, cache=None, tools=DEFAULT_TOOLS, modules=None):
        cache = Path(cache or os.environ.get("OPDBUS_VM_CACHE") or SOURCE_ROOT / "build-vm-aarch64")
        archive = Archive(cache)
        # What the last run found: the kernel package and the packages of
        # the tools' libraries, asked of apt-cache with the rest at once.
        manifest_path = cache / "manifest.json"
        try:
            manifest = json.loads(manifest_path.read_text())
        except (OSError, ValueError):
            manifest = {}
        manifest.setdefault("sonames", {})
        tool_packages = {TOOLS[t][0] for t in tools}
        archive.query([KERNEL_META, manifest.get("kernel"), "busybox-static", "libc6",
                       *tool_packages, *manifest["sonames"].values()])

        m = re.search(r"\b(linux-image-[0-9]\S*?)(?::" + ARCH + r")?(?=[\s,]|$)",
                      archive.known[KERNEL_META]["depends"])
        if not m:
            raise VMError(f"cannot resolve {KERNEL_META}:{ARCH}: "
                          f"Depends: {archive.known[KERNEL_META]['depends']}")
        manifest["kernel"] = m.group(1)
        trees = archive.extract({manifest["kernel"], "busybox-static", *tool_packages})
        kernel = Kernel.load(trees[manifest["kernel"]])
        busybox = trees["busybox-static"] / "bin/busybox"
        machine = cls(cache, kernel, busybox, {t: trees[TOOLS[t][0]] / TOOLS[t][1] for t in tools},
                      kernel.load_order(modules if modules is not None else read_module_list()))
        machine._resolve_libraries(archive, trees, manifest["sonames"], tool_packages)
        manifest_path.write_text(json.dumps(manifest, indent=1, sort_keys=True) + "\n")
        return machine

    def _resolve_libraries(self, archive, trees, sonames, tool_packages):
        """The shared libraries of the tools, transitively, from the arm64
        packages that ship them (sonames: soname -> package, known from an
        earlier run or found now: through the packages the host has
        installed, else in the library dependencies of the tools' arm64
        packages)."""
        frontier = list(self.tools.values())
        while frontier:
            wanted = {n for elf in frontier for n in needed(elf)} - set(self.libs)
            unknown = sorted(n for n in wanted if n not in sonames)
            if unknown:
                found = packages_of_sonames(unknown)
                rest = [n for n in unknown if n not in found]
                if rest:
                    found.update(self._search_dependencies(archive, trees, tool_packages, rest))
                missing = [n for n in unknown if n not in found]
                if missing:
                    raise VMError(f"no {ARCH} package found for {', '.join(missing)} "
                                  f"in the dependencies of {', '.join(sorted(tool_packages))}")
                sonames.update(found)
            trees.update(archive.extract({sonames[n] for n in wanted}))
            frontier = []
            for n in sorted(wanted):
                path = find_in_tree(trees[sonames[n]], n)
                if path is None:
                    raise VMError(f"{sonames[n]}:{ARCH} does not ship {n}")
                self.libs[n] = path.resolve()
                frontier.append(self.libs[n])
        if self.tools:
            libc = archive.extract(["libc6"])["libc6"]
            self.loader = find_in_tree(libc, LOADER).resolve()

    @staticmethod
    def _search_dependencies(archive, trees, packages, sonames):
        """soname -> package for sonames, found in the library packages
        the arm64 packages depend on, level by level."""
        found, seen, level = {}, set(packages), list(packages)
        while level and len(found) < len(sonames):
            archive.query(level, required=False)
            deps = {d for p in level if p in archive.known
                    for d in library_depends(archive.known[p]["depends"])} - seen
            seen |= deps
            archive.query(deps, required=False)
            level = sorted(d for d in deps if d in archive.known)
            trees.update(archive.extract(level))
            for n in sonames:
                for d in level:
                    if n not in found and find_in_tree(trees[d], n):
                        found[n] = d
        return found

    def initramfs(self, scenarios, programs=None, files=None):
        c = Cpio()
        for d in ("bin", "sbin", "usr/bin", "usr/sbin", "dev", "proc", "sys", "tmp", "run",
                  "var", "etc", "root", "vm/bin", "vm/scenarios", "lib/modules"):
            c.mkdir(d)
        c.symlink("var/run", "/run")
        c.chardev("dev/console", 5, 1)
        c.chardev("dev/null", 1, 3)
        c.file("bin/busybox", self.busybox.read_bytes(), 0o755)
        c.file("init", (GUEST_DIR / "init").read_bytes(), 0o755)
        c.file("vm/check.sh", (GUEST_DIR / "check.sh").read_bytes())
        c.file("etc/passwd", b"root:x:0:0:root:/root:/bin/sh\n")
        c.file("etc/group", b"root:x:0:\n")
        # modules, flat, with the order to load them in
        for mod in self.modules:
            c.file(f"lib/modules/{mod}.ko", self.kernel.paths[mod].read_bytes())
        c.file("vm/modules", "".join(m + "\n" for m in self.modules).encode())
        # Debian's tools, their libraries and the loader
        for name, path in self.tools.items():
            c.file(f"usr/local/sbin/{name}", path.read_bytes(), 0o755)
        for soname, path in self.libs.items():
            c.file(f"lib/{TRIPLET}/{soname}", path.read_bytes(), 0o755)
        if self.loader:
            c.file(f"lib/{LOADER}", self.loader.read_bytes(), 0o755)
        # the programs under test
        for name, path in (programs or {}).items():
            c.file(f"vm/bin/{name}", Path(path).read_bytes(), 0o755)
        for guest, body in (files or {}).items():
            c.file(guest, body.read_bytes() if isinstance(body, Path) else
                   (body.encode() if isinstance(body, str) else body))
        order = []
        for i, (name, text) in enumerate(scenarios.items()):
            if not re.fullmatch(r"[A-Za-z0-9_.-]+", name):
                raise VMError(f"scenario name {name!r}: letters, digits, '.', '_' and '-' only")
            fname = f"{i:02d}-{name}"
            c.file(f"vm/scenarios/{fname}", text.encode() if isinstance(text, str) else text, 0o755)
            order.append(fname)
        c.file("vm/scenario-order", "".join(f + "\n" for f in order).encode())
        return c.finish()

    def run(self, scenarios, programs=None, files=None, timeout=BOOT_TIMEOUT, keep=None):
        """Boots with the scenarios (name -> script text) and returns the
        Result. keep: a path to write the initramfs and the console to."""
        workdir = self.cache / "run"
        workdir.mkdir(parents=True, exist_ok=True)
        initrd = workdir / f"initramfs-{os.getpid()}.cpio"
        initrd.write_bytes(self.initramfs(scenarios, programs, files))
        cmd = [QEMU, *QEMU_ARGS, "-kernel", self.kernel.image, "-initrd", initrd,
               "-append", KERNEL_CMDLINE]
        start = time.monotonic()
        try:
            proc = subprocess.run([str(c) for c in cmd], stdin=subprocess.DEVNULL,
                                  capture_output=True, timeout=timeout)
            console = proc.stdout.decode(errors="replace")
            if proc.returncode != 0:
                console += f"\n(qemu exited with {proc.returncode}: {proc.stderr.decode(errors='replace')})"
        except subprocess.TimeoutExpired as e:
            console = (e.stdout or b"").decode(errors="replace") + f"\n(no power-off within {timeout} s)"
        except FileNotFoundError as e:
            raise VMError(f"{QEMU} is not installed (tests/deps-aarch64.sh installs qemu-system-arm)") from e
        finally:
            if keep:
                shutil.copy(initrd, Path(keep).with_suffix(".cpio"))
            initrd.unlink(missing_ok=True)
        result = parse_console(console)
        result.seconds = time.monotonic() - start
        if keep:
            Path(keep).with_suffix(".console").write_text(console)
        return result


def main():
    ap = argparse.ArgumentParser(description=__doc__.split("\n\n")[0])
    ap.add_argument("--program", action="append", default=[], help="a static aarch64 program, into /vm/bin")
    ap.add_argument("--file", action="append", default=[], metavar="GUEST=HOST", help="a file for the guest")
    ap.add_argument("--cache", help="download and extraction directory")
    ap.add_argument("--console", action="store_true", help="print the whole console")
    ap.add_argument("scenario", nargs="+", type=Path)
    args = ap.parse_args()

    programs = {Path(p).name: Path(p) for p in args.program}
    files = {}
    for f in args.file:
        guest, _, host = f.partition("=")
        files[guest] = Path(host)
    try:
        vm = Machine.prepare(args.cache)
        result = vm.run({s.stem: s.read_text() for s in args.scenario}, programs, files)
    except VMError as e:
        print(f"error: {e}", file=sys.stderr)
        return 1
    if args.console:
        print(result.console)
    print(result.report())
    print(f"guest: {result.booted or 'did not boot'}; {len(result.checks)} checks, "
          f"{len(result.failed())} failed; {result.timing()}")
    if not result.done:
        print("the guest did not run to its end:\n" + result.tail(), file=sys.stderr)
    return 0 if result.done and result.checks and not result.failed() else 1


if __name__ == "__main__":
    sys.exit(main())
