# SPDX-License-Identifier: LGPL-2.1-or-later
"""Many applies and heals through one daemon: its memory stays bounded and
it keeps no file descriptor (docs/reliability.md, "Load").

The daemon applies, over D-Bus, two states in turn (br0 with a port more
or less); after every HEAL_EVERY applies a port it owns is deleted by hand
and the daemon's repair (DriftDetected, the port back) is waited for. Its
resident memory (VmRSS) and open descriptors are read while it is idle:
at the start, after the warm-up (the first WARMUP_SHARE of the applies,
WARMUP_MIN at least: allocator pools, the bus connection's buffers and the
sanitizer's quarantine fill up there), every tenth of the way and at the
end. After the warm-up the
descriptors must not change and the memory may grow by RSS_GROWTH_KB at
most.

OPDBUS_LOAD_APPLIES sets the number of applies: 1,000 by default (what
./tests/run runs), 10,000 for the long run the document describes. The
daemon runs with AddressSanitizer's quarantine bounded
(quarantine_size_mb), so that freed memory it holds back to find
use-after-free does not pass for growth; its leak check at exit still
runs.
"""

import json
import os
import re
import time
from collections import Counter

import pytest

pytest.register_assert_rewrite("dbus_fixture")

pytest_plugins = ("dbus_fixture",)

APPLIES = int(os.environ.get("OPDBUS_LOAD_APPLIES", "1000"))
HEAL_EVERY = 10
WARMUP_SHARE = 0.2
WARMUP_MIN = 200
RSS_GROWTH_KB = 8 * 1024
QUARANTINE_MB = 16


def state(*ports):
    return {"version": 1, "plugins": {"net": {"bridges": [
        {"name": "br0", "datapath_type": "netdev", "ports": [{"name": p, "type": "internal"} for p in ports]}]}}}


def rss_kb(pid):
    with open(f"/proc/{pid}/status") as f:
        for line in f:
            if line.startswith("VmRSS:"):
                return int(line.split()[1])
    raise AssertionError(f"no VmRSS for {pid}")


def descriptors(pid):
    """What the process's descriptors point to, sorted, without socket and
    pipe inode numbers (a connection made again is the same one)."""
    out = []
    for fd in os.listdir(f"/proc/{pid}/fd"):
        try:
            out.append(re.sub(r":\[\d+\]$", "", os.readlink(f"/proc/{pid}/fd/{fd}")))
        except FileNotFoundError:
            pass
    return sorted(out)


def test_applies_and_heals_keep_memory_and_descriptors_bounded(start_daemon, ovs, record_property):
    asan = os.environ.get("ASAN_OPTIONS", "")
    d = start_daemon(state("p1"), audit_interval=3600,
                     env={"ASAN_OPTIONS": f"{asan}:quarantine_size_mb={QUARANTINE_MB}" if asan else ""})
    docs = [json.dumps(state("p1", "p2")), json.dumps(state("p1"))]
    warmup = max(WARMUP_MIN, int(APPLIES * WARMUP_SHARE))
    assert APPLIES >= 2 * warmup, f"OPDBUS_LOAD_APPLIES={APPLIES}: at least {2 * WARMUP_MIN} applies, please"
    samples = {}

    def sample(name):
        d.wait_status("idle", 30)
        samples[name] = (rss_kb(d.pid), descriptors(d.pid), time.monotonic())

    sample("start")
    heals = 0
    for i in range(1, APPLIES + 1):
        r = d.call("ApplyState", "s", docs[i % 2])
        assert r.ok, f"apply {i}\n{r.describe()}"
        if i % HEAL_EVERY == 0:
            since = d.mark()
            ovs.vsctl("--no-wait", "del-port", "br0", "p1")
            d.wait_for("DriftDetected", timeout=30, since=since, predicate=lambda a: a[1] == "bridge/br0/port/p1")
            heals += 1
            # The monitor keeps every message; the test needs none of the old.
            with d.bus.monitor.cond:
                del d.bus.monitor.messages[:]
        if i == warmup:
            sample("warm")
        elif i % max(1, APPLIES // 10) == 0 and i < APPLIES:
            sample(i)
    sample("end")
    d.wait_status("idle", 30)
    assert d.call_json("Verify")["ok"] is True

    (rss0, fds0, t0), (rss1, fds1, t1), (rss2, fds2, t2) = samples["start"], samples["warm"], samples["end"]
    rate = (APPLIES - warmup) / (t2 - t1)
    report = (f"{APPLIES} applies and {heals} heals through the daemon: RSS {rss0 / 1024:.1f} MiB at the start, "
              f"{rss1 / 1024:.1f} MiB after {warmup} applies, {rss2 / 1024:.1f} MiB at the end "
              f"({(rss2 - rss1) / 1024:+.1f} MiB after the warm-up); {len(fds0)}/{len(fds1)}/{len(fds2)} "
              f"descriptors; {rate:.1f} applies (with their heals) per second after the warm-up, "
              f"{APPLIES / (t2 - t0):.1f} overall")
    curve = ", ".join(f"{k}: {v[0] / 1024:.1f}" for k, v in samples.items())
    print(f"\n{report}\nRSS (MiB) after n applies: {curve}\ndescriptors at the end: {', '.join(fds2)}")
    for key, value in (("applies", APPLIES), ("heals", heals), ("rss_start_kb", rss0), ("rss_warm_kb", rss1),
                       ("rss_end_kb", rss2), ("fds_start", len(fds0)), ("fds_warm", len(fds1)),
                       ("fds_end", len(fds2)), ("applies_per_s", round(rate, 1))):
        record_property(key, value)
    assert fds2 == fds1, (f"descriptors after the warm-up: {dict(Counter(fds2) - Counter(fds1))} more, "
                          f"{dict(Counter(fds1) - Counter(fds2))} fewer")
    assert rss2 - rss1 <= RSS_GROWTH_KB, report
