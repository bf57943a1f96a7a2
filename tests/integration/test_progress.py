# SPDX-License-Identifier: LGPL-2.1-or-later
"""Long steps of an apply are told as they begin (docs/dbus.md "Progress",
docs/cli.md "Output"): creating and starting a container on the Proxmox
test double. The daemon emits Progress(plugin, step) and logs the same
line; op-dbus apply prints each step on standard error when that is a
terminal, and nothing when it is not."""

import os
import pty
import select
import subprocess

import pytest

from pve_fixture import OVS_LOG_ALLOW, pve_sim, pve_templates  # noqa: F401

pytest_plugins = ("dbus_fixture",)


def state(vmid, run):
    return {"version": 1, "plugins": {
        "net": {"bridges": [{"name": "ovsbr0", "datapath_type": "netdev"}]},
        "lxc": {"containers": [{"id": vmid, "name": f"ct{vmid}", "template": "debian-12",
                                "state": "running" if run else "stopped",
                                "properties": {"memory": 128, "swap": 0, "rootfs_size": 1},
                                "network": {"bridge": "ovsbr0", "ipv4": "10.35.0.50/24"}}]}}}


@pytest.mark.ovs_log_allow(*OVS_LOG_ALLOW)
def test_the_daemon_announces_each_long_step(start_daemon, ovs, pve_sim):  # noqa: F811
    pve = pve_sim(ovs)
    d = start_daemon(env=pve.env(), audit_interval=0)
    mark = d.mark()
    assert d.apply(state(351, run=False)).result()["ok"]
    steps = [m["payload"]["data"] for m in d.signals("Progress", since=mark)]
    assert ["lxc", "creating container 351 (ct351)"] in steps, steps
    assert "lxc: creating container 351 (ct351)" in d.log_text()


def run_on_a_terminal(argv, env):
    """argv with standard error on a pseudo-terminal: (exit status, what it
    wrote there)."""
    master, slave = pty.openpty()
    p = subprocess.Popen(argv, env=env, stdin=subprocess.DEVNULL, stdout=subprocess.PIPE, stderr=slave)
    os.close(slave)
    out = b""
    while True:
        ready, _, _ = select.select([master], [], [], 1)
        if ready:
            try:
                chunk = os.read(master, 4096)
            except OSError:
                break
            if not chunk:
                break
            out += chunk
        elif p.poll() is not None:
            break
    p.wait(timeout=300)
    p.stdout.close()
    os.close(master)
    return p.returncode, out.decode(errors="replace")


@pytest.mark.ovs_log_allow(*OVS_LOG_ALLOW)
def test_the_cli_prints_steps_on_a_terminal_only(ovs, opdbus, pve_sim, tmp_state):  # noqa: F811
    pve = pve_sim(ovs)
    env = {**opdbus.env, **pve.env(), "OPDBUS_NO_DAEMON": "1"}
    rc, err = run_on_a_terminal([opdbus.binary, "apply", str(tmp_state(state(352, run=True), "a.json"))], env)
    assert rc == 0, err
    assert "op-dbus: lxc: creating container 352 (ct352)..." in err, err
    assert "op-dbus: lxc: starting container 352..." in err, err

    r = opdbus.run("apply", tmp_state(state(353, run=False), "b.json"), env={**pve.env(), "OPDBUS_NO_DAEMON": "1"})
    assert r.returncode == 0, r.describe()
    assert "creating container" not in r.stderr
