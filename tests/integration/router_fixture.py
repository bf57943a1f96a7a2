# SPDX-License-Identifier: LGPL-2.1-or-later
"""op-router under test.

Load it in a test module with

    pytest_plugins = ("router_fixture",)

Fixtures:

  oprouter_bin  the op-router binary of the build under test
                ($OPROUTER_BIN, default build-test/agent/op-router/op-router
                below the source root; a relative path is taken relative
                to the source root)
  router_netns  factory: router_netns(role) creates a network namespace of
                the test (lo up) and returns its name; every one is deleted
                at teardown, with what runs in it
  oprouter      runner (conftest.OpDbus) for op-router with private
                directories: $OPROUTER_STATE_DIR, $OPROUTER_RUN_DIR and
                $OPROUTER_SECRETS (a file that does not exist until a test
                writes it: oprouter.secrets) below the test's tmp_path.
                oprouter.write_secrets(DOC...) writes it (mode 0600) with a
                fresh key for every secret the documents name.
                oprouter.in_netns(NAME) is the same runner inside network
                namespace NAME (ip netns exec).

Environment:
  OPROUTER_BIN         the op-router binary (see above)
  OPDBUS_BUILD_FAILED  1: the build failed; the tests say so instead of
                       running a stale binary
"""

import base64
import json
import os
import secrets
import subprocess
from pathlib import Path

import pytest

from conftest import SOURCE_ROOT, OpDbus
from ovs_sandbox import CREATED_NETNS, NETNS_PREFIX, netns_list


class OpRouter(OpDbus):
    """Runs op-router; secrets is the path of its secrets file."""

    def __init__(self, binary, env, cwd, secrets, prefix=()):
        super().__init__(binary, env, cwd, prefix)
        self.secrets = secrets

    def in_netns(self, name):
        return OpRouter(self.binary, self.env, self.cwd, self.secrets, ["ip", "netns", "exec", name])

    @property
    def state_dir(self):
        return Path(self.env["OPROUTER_STATE_DIR"])

    def write_secrets(self, *docs, keys=None):
        """Writes the secrets file (0600): keys (name -> base64), and a
        fresh key for every other secret the documents name; returns the
        names and keys."""
        keys = dict(keys or {})
        for name in sorted(set().union(set(), *(secret_names(d) for d in docs)) - set(keys)):
            keys[name] = base64.b64encode(os.urandom(32)).decode()
        self.secrets.parent.mkdir(parents=True, exist_ok=True)
        fd = os.open(self.secrets, os.O_WRONLY | os.O_CREAT | os.O_TRUNC, 0o600)
        with os.fdopen(fd, "w") as f:
            f.write(json.dumps(keys))
        os.chmod(self.secrets, 0o600)
        return keys

    @property
    def run_dir(self):
        return Path(self.env["OPROUTER_RUN_DIR"])


def secret_names(o):
    """The names of the secrets a state refers to (the values of keys
    ending in _secret)."""
    if isinstance(o, dict):
        return ({v for k, v in o.items() if k.endswith("_secret") and isinstance(v, str)} |
                {n for v in o.values() for n in secret_names(v)})
    if isinstance(o, list):
        return {n for v in o for n in secret_names(v)}
    return set()


@pytest.fixture
def oprouter_bin():
    """Path of the op-router binary under test."""
    if os.environ.get("OPDBUS_BUILD_FAILED") == "1":
        pytest.fail("the build failed (see the build stage output); not running a possibly stale binary",
                    pytrace=False)
    path = Path(os.environ.get("OPROUTER_BIN") or "build-test/agent/op-router/op-router")
    if not path.is_absolute():
        path = SOURCE_ROOT / path
    if not (path.is_file() and os.access(path, os.X_OK)):
        pytest.fail(f"op-router not found at {path}: build it (./tests/run does) or set OPROUTER_BIN",
                    pytrace=False)
    return path


@pytest.fixture
def oprouter(oprouter_bin, tmp_path):
    """Runner for op-router with private state, run and secrets paths."""
    private = tmp_path / "op-router"
    for sub in ("state", "run", "etc"):
        (private / sub).mkdir(parents=True)
    secrets = private / "etc" / "secrets.json"
    env = dict(os.environ, OPROUTER_STATE_DIR=str(private / "state"), OPROUTER_RUN_DIR=str(private / "run"),
               OPROUTER_SECRETS=str(secrets))
    env.pop("OPROUTER_FAULT_INJECT", None)
    return OpRouter(oprouter_bin, env, tmp_path, secrets)


def sh(*cmd, check=True, input=None, timeout=60):
    """Runs cmd (no shell); a failure is an AssertionError with its output
    unless check is false."""
    r = subprocess.run([str(c) for c in cmd], capture_output=True, text=True, input=input, timeout=timeout,
                       check=False)
    if check and r.returncode != 0:
        raise AssertionError(f"{' '.join(r.args)} exited with {r.returncode}:\n{r.stdout}{r.stderr}")
    return r


def settle_links(ns):
    """Makes the kernel finish its pending work on every link of namespace
    ns before the test compares dumps: it works a link's operstate out in
    its linkwatch work, a moment after the request that brought the link
    up was answered (for op-router as for ip), and does it at once for a
    link asked for by name (RTM_GETLINK)."""
    names = [link["ifname"] for link in json.loads(sh("ip", "-n", ns, "-j", "link").stdout)]
    sh("ip", "-n", ns, "-batch", "-", input="".join(f"link show dev {name}\n" for name in names))


def _ip(*args, check=True):
    return subprocess.run(["ip", *args], capture_output=True, text=True, timeout=60, check=check)


@pytest.fixture
def router_netns():
    """Factory: router_netns(role) is a new network namespace named after
    role (lo up); all are deleted at teardown."""
    created = []

    def make(role):
        name = NETNS_PREFIX + "r" + role[:6] + secrets.token_hex(3)
        _ip("netns", "add", name)
        CREATED_NETNS.add(name)  # the session's leak check covers it too
        created.append(name)
        _ip("netns", "exec", name, "ip", "link", "set", "lo", "up")
        return name

    yield make
    for name in created:
        for pid in _ip("netns", "pids", name, check=False).stdout.split():
            subprocess.run(["kill", "-9", pid], check=False)
        _ip("netns", "delete", name, check=False)
        assert name not in netns_list()
