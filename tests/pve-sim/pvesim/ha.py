# SPDX-License-Identifier: LGPL-2.1-or-later
"""The HA resources of the simulated cluster (etc/pve/ha/resources.cfg,
PVE::HA::Config). There is no HA manager: what pct asks of it (ha-manager
set/add/crm-command) is written into resources.cfg as the CRM would, and
nothing starts or stops the container on its behalf."""

import json
import os
import re

RESOURCES = "etc/pve/ha/resources.cfg"
MANAGER_STATUS = "etc/pve/ha/manager_status"


def read_resources(env):
    """sid ("ct:100") -> {key: value}, in file order."""
    res = {}
    cur = None
    try:
        with open(env.path(RESOURCES)) as f:
            lines = f.read().splitlines()
    except FileNotFoundError:
        return res
    for line in lines:
        if not line.strip() or line.lstrip().startswith("#"):
            continue
        m = re.fullmatch(r"(\S+):\s*(\S+)\s*", line)
        if m and not line[0].isspace():
            cur = res[f"{m.group(1).lower()}:{m.group(2)}"] = {}
            continue
        m = re.fullmatch(r"\s+(\S+)(?:\s+(.*\S))?\s*", line)
        if m and cur is not None:
            cur[m.group(1)] = m.group(2) or ""
    return res


def write_resources(env, res):
    """PVE::SectionConfig::write_config: header, then the sorted keys."""
    text = ""
    for sid, props in res.items():
        typ, name = sid.split(":", 1)
        text += f"{typ}: {name}\n" + "".join(f"\t{k} {props[k]}\n" for k in sorted(props)) + "\n"
    path = env.path(RESOURCES)
    os.makedirs(os.path.dirname(path), exist_ok=True)
    with open(path + ".tmp", "w") as f:
        f.write(text)
    os.rename(path + ".tmp", path)


def is_configured(env, vmid):
    """PVE::HA::Config::service_is_configured."""
    return f"ct:{vmid}" in read_resources(env)


def is_managed(env, vmid):
    """PVE::HA::Config::vm_is_ha_managed: configured, not 'ignored', and
    HA not disarmed in 'ignore' mode."""
    props = read_resources(env).get(f"ct:{vmid}")
    if props is None or props.get("state") == "ignored":
        return False
    try:
        with open(env.path(MANAGER_STATUS)) as f:
            disarm = (json.load(f) or {}).get("disarm")
    except (OSError, ValueError, AttributeError):
        disarm = None
    return not (disarm and disarm.get("mode") == "ignore")


def set_state(env, vmid, state):
    """What the CRM makes of `ha-manager set ct:N --state X`, `crm-command
    stop` (state stopped) and `ha-manager add ct:N --state X`."""
    res = read_resources(env)
    res.setdefault(f"ct:{vmid}", {})["state"] = state
    write_resources(env, res)


def remove(env, vmid):
    res = read_resources(env)
    if res.pop(f"ct:{vmid}", None) is not None:
        write_resources(env, res)
