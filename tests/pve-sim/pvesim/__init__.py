# SPDX-License-Identifier: LGPL-2.1-or-later
"""A test double of Proxmox VE's pct and pveam backed by real LXC containers."""
