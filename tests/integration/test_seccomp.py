# SPDX-License-Identifier: LGPL-2.1-or-later
"""The seccomp sandbox (agent/lib/sandbox; docs/router.md, "The seccomp
sandbox") on this machine's kernel:

  * under the built-in filter, the killed calls (execve, ptrace, mount,
    module loading, bpf, keyctl, reboot, ...) end the process with SIGSYS,
    and calls outside the list (fork, unshare, setns) fail with EPERM;
    without the filter the same calls run (or fail for their own reasons):
    each test checks both, so it fails where the filter is not loaded;
  * real work succeeds under the filter, in a network namespace of the
    test: a link dump over rtnetlink and a state file written with fsync
    and rename (tests/sandbox-driver), the nftables batch of every
    expression kind (tests/nft-driver --sandbox, compared with the same
    batch without the filter, listed by nft), link configuration through
    agent/lib/rtnl (tests/netlink-driver --sandbox).

The same checks run in the aarch64 VM (tests/vm/scenarios/sandbox.sh).
LeakSanitizer stops the process's threads with clone and ptrace at exit,
which the filter refuses: the sanitized drivers run with detect_leaks=0
under the filter (their runs without it keep it).
"""

import json
import os
import re
import secrets
import signal
import subprocess

import pytest

from ovs_sandbox import CREATED_NETNS, NETNS_PREFIX, netns_list
from test_nft import ORACLE_MODEL, ORACLE_TABLES, masked

SANITIZER_RE = re.compile(r"Sanitizer|^\S+:\d+:\d+: runtime error: ", re.M)
CMD_TIMEOUT = 60

# Killed by the filter; each is harmless without it (sandbox-driver try).
KILLED = ["execve", "execveat", "ptrace", "mount", "umount2", "chroot", "pivot_root", "swapon",
          "bpf", "keyctl", "reboot", "init_module", "delete_module"]
# Not in the built-in list: EPERM.
REFUSED = ["fork", "unshare", "setns"]


def env(sandboxed):
    e = dict(os.environ)
    if sandboxed:
        e["ASAN_OPTIONS"] = re.sub(r"detect_leaks=\d", "", e.get("ASAN_OPTIONS", "")) + ":detect_leaks=0"
    return e


def run(cmd, *, sandboxed, check=True, input=None):
    result = subprocess.run([str(c) for c in cmd], capture_output=True, text=True, input=input,
                            timeout=CMD_TIMEOUT, check=False, env=env(sandboxed))
    if SANITIZER_RE.search(result.stderr):
        raise AssertionError(f"sanitizer report from {' '.join(result.args)}:\n{result.stderr}")
    if check and result.returncode != 0:
        raise AssertionError(f"{' '.join(result.args)} exited with {result.returncode}:\n"
                             f"{result.stdout}{result.stderr}")
    return result


@pytest.fixture(scope="module")
def sandbox_bin(built_program):
    return built_program("tests/sandbox-driver")


@pytest.fixture
def netns():
    """Factory: a fresh network namespace (lo up), deleted afterwards."""
    created = []

    def make():
        name = NETNS_PREFIX + "sc" + secrets.token_hex(3)
        subprocess.run(["ip", "netns", "add", name], check=True)
        CREATED_NETNS.add(name)
        created.append(name)
        subprocess.run(["ip", "netns", "exec", name, "ip", "link", "set", "lo", "up"], check=True)
        return name

    yield make
    for name in created:
        subprocess.run(["ip", "netns", "delete", name], check=True)
        assert name not in netns_list()


def in_ns(ns, *cmd):
    return ["ip", "netns", "exec", ns, *cmd]


def add_veth(ns):
    subprocess.run(in_ns(ns, "ip", "link", "add", "sc-a", "type", "veth", "peer", "name", "sc-b"), check=True)


def test_kernel_has_seccomp_filters():
    """The check docs/router.md gives for a router's kernel."""
    with open("/proc/self/status") as f:
        assert re.search(r"^Seccomp:\s+\d", f.read(), re.M), "this kernel has no seccomp"


def test_status_shows_the_filter(sandbox_bin):
    assert re.search(r"^Seccomp:\s+2$", run([sandbox_bin, "status"], sandboxed=True).stdout, re.M)
    assert re.search(r"^Seccomp:\s+0$", run([sandbox_bin, "--no-sandbox", "status"], sandboxed=False).stdout, re.M)


@pytest.mark.parametrize("call", KILLED)
def test_killed_calls_end_the_process(sandbox_bin, call):
    """SIGSYS before the call does anything (execve runs nothing); the
    same call without the filter returns."""
    r = run([sandbox_bin, "try", call], sandboxed=True, check=False)
    assert r.returncode == -signal.SIGSYS, (r.returncode, r.stdout, r.stderr)
    assert r.stdout == ""
    free = run([sandbox_bin, "--no-sandbox", "try", call], sandboxed=False)
    expected = "executed\n" if call == "execve" else rf"^{call} (ok|errno E[A-Z]+)\n$"
    assert re.search(expected, free.stdout), free.stdout


def test_calls_outside_the_list_fail_with_eperm(sandbox_bin):
    r = run([sandbox_bin, "try", *REFUSED], sandboxed=True)
    assert r.stdout.splitlines() == [f"{c} errno EPERM" for c in REFUSED]
    free = run([sandbox_bin, "--no-sandbox", "try", *REFUSED], sandboxed=False)
    assert free.stdout.splitlines() == [f"{c} ok" for c in REFUSED]


def test_filter_size(sandbox_bin):
    """Far below the kernel's 4096 instructions (docs/router.md records it)."""
    n = int(run([sandbox_bin, "size"], sandboxed=False).stdout)
    print(f"\nbuilt-in filter: {n} BPF instructions (x86_64)")
    assert 20 < n < 4096


def test_link_dump_and_state_file_under_the_filter(sandbox_bin, netns, tmp_path):
    """rtnetlink and the state directory's write, fsync, rename and lock
    work under the filter, exactly as without it."""
    ns = netns()
    add_veth(ns)
    caged = json.loads(run(in_ns(ns, sandbox_bin, "work", tmp_path / "a"), sandboxed=True).stdout)
    free = json.loads(run(in_ns(ns, sandbox_bin, "--no-sandbox", "work", tmp_path / "b"), sandboxed=False).stdout)
    assert caged.pop("seccomp") == 2 and free.pop("seccomp") == 0
    assert caged == free == {"links": 3, "names": ["lo", "sc-b", "sc-a"], "file": "written"}
    assert (tmp_path / "a/state/state.json").read_text() == (tmp_path / "b/state/state.json").read_text()
    assert sorted(p.name for p in (tmp_path / "a/state").iterdir()) == [".lock", "state.json"]


def listings(ns):
    out = []
    for family, name in ORACLE_TABLES:
        doc = json.loads(subprocess.run(in_ns(ns, "nft", "-j", "list", "table", family, name),
                                        capture_output=True, text=True, check=True).stdout)
        out.append(masked(doc))
    return out


def test_nft_batch_under_the_filter(built_program, netns, tmp_path):
    """The batch of every expression kind, applied under the filter and
    without it in two namespaces: nft lists the same rulesets; a re-apply
    and the monitor's generation query work under the filter too."""
    driver = built_program("tests/nft-driver")
    model = tmp_path / "model.json"
    model.write_text(json.dumps(ORACLE_MODEL))
    caged, free = netns(), netns()

    first = json.loads(run(in_ns(caged, driver, "--sandbox", "apply", model), sandboxed=True).stdout)
    assert first["ok"] and first["messages"] > 0, first
    plain = json.loads(run(in_ns(free, driver, "apply", model), sandboxed=False).stdout)
    assert first == plain
    assert listings(caged) == listings(free)
    again = json.loads(run(in_ns(caged, driver, "--sandbox", "apply", model), sandboxed=True).stdout)
    assert again["ok"] and again["messages"] == 0, again
    assert run(in_ns(caged, driver, "--sandbox", "plan", model), sandboxed=True).stdout == ""
    assert int(run(in_ns(caged, driver, "--sandbox", "generation"), sandboxed=True).stdout) > 0


def seccomp_mode(pid):
    with open(f"/proc/{pid}/status") as f:
        return int(re.search(r"^Seccomp:\s+(\d)", f.read(), re.M).group(1))


def test_nft_monitor_and_batch_in_a_filtered_process(built_program, netns, tmp_path):
    """One process, its filter seen from outside (Seccomp: 2 in its
    status): the nftables monitor and a batch applied through it."""
    driver = built_program("tests/nft-driver")
    model = tmp_path / "model.json"
    model.write_text(json.dumps(ORACLE_MODEL))
    ns = netns()
    with subprocess.Popen(in_ns(ns, driver, "--sandbox", "watch", model), stdin=subprocess.PIPE,
                          stdout=subprocess.PIPE, stderr=subprocess.PIPE, text=True, env=env(True)) as p:
        try:
            assert p.stdout.readline() == "ready\n", p.stderr.read()
            assert seccomp_mode(p.pid) == 2     # ip netns exec runs the driver in its place
            p.stdin.write(f"apply {model}\ndrain\n")
            p.stdin.flush()
            result = json.loads(p.stdout.readline())
            assert result["ok"] and result["messages"] > 0, result
            assert p.stdout.readline() == "unchanged\n"    # its own batch, ignored
            p.stdin.close()
            assert p.wait(timeout=CMD_TIMEOUT) == 0, p.stderr.read()
        finally:
            p.kill()
    assert listings(ns)[0]["nftables"]


def test_netlink_driver_under_the_filter(built_program, netns):
    """agent/lib/rtnl (libnl) configures a link under the filter."""
    driver = built_program("tests/netlink-driver")
    ns = netns()
    add_veth(ns)
    out = run(in_ns(ns, driver, "--sandbox", "configure", "0", "sc-a", "-", "-", "192.0.2.1/24", "-", "1400"),
              sandboxed=True).stdout
    assert out.strip() == "changed"
    info = dict(line.split("=", 1) for line in
                run(in_ns(ns, driver, "--sandbox", "info", "0", "sc-a"), sandboxed=True).stdout.split())
    assert info["mtu"] == "1400" and info["kind"] == "veth"
    addr = subprocess.run(in_ns(ns, "ip", "-j", "addr", "show", "sc-a"), capture_output=True, text=True,
                          check=True).stdout
    assert "192.0.2.1" in addr
    # another namespace needs setns in a thread: not in the built-in list
    r = run(in_ns(ns, driver, "--sandbox", "info", str(os.getpid()), "lo"), sandboxed=True, check=False)
    assert r.returncode == 1 and "error: EPERM" in r.stderr, r.stderr
