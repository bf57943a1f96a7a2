# SPDX-License-Identifier: LGPL-2.1-or-later
"""Shared helpers for the benchmarks: an optimised build of op-dbus, a
private Open vSwitch sandbox, and timing."""

import os
import statistics
import subprocess
import sys
import time
from pathlib import Path

ROOT = Path(__file__).resolve().parents[1]
sys.path.insert(0, str(ROOT / "tests" / "integration"))

from ovs_sandbox import OvsSandbox  # noqa: E402

BUILD = ROOT / "build-bench"


def build_release():
    """An optimised, sanitizer-free build, so the figures are the product's."""
    if not (BUILD / "build.ninja").exists():
        subprocess.run(["meson", "setup", str(BUILD), "--buildtype=release", "-Db_ndebug=true"],
                       cwd=ROOT, check=True, stdout=subprocess.DEVNULL)
    subprocess.run(["ninja", "-C", str(BUILD)], check=True, stdout=subprocess.DEVNULL)
    return BUILD / "agent" / "op-dbus" / "op-dbus"


def timed(fn):
    start = time.perf_counter()
    fn()
    return time.perf_counter() - start


def median_of(runs, fn, reset=None):
    """Median wall time of fn over runs repetitions; reset() runs untimed
    before each."""
    times = []
    for _ in range(runs):
        if reset:
            reset()
        times.append(timed(fn))
    return statistics.median(times)


def interleaved(runs, steps):
    """Times the steps round by round (A B C, A B C, ...) rather than one
    after the other, so that a change in the machine's load hits all of
    them alike. steps: (name, fn, reset or None); returns {name: [times]}."""
    times = {name: [] for name, _, _ in steps}
    for _ in range(runs):
        for name, fn, reset in steps:
            if reset:
                reset()
            times[name].append(timed(fn))
    return times


def median_ratio(a, b):
    """Median of the per-round ratios a[i] / b[i]."""
    return statistics.median(x / y for x, y in zip(a, b))


def run(cmd, env=None, stdin=None):
    return subprocess.run([str(c) for c in cmd], env=env, input=stdin, check=True,
                          capture_output=True, text=True)


def opdbus_env(ovs):
    env = dict(os.environ)
    env.update(ovs.env())
    return env


def verdict(ok):
    return "met" if ok else "MISSED"
