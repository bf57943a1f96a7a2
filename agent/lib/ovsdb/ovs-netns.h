/* SPDX-License-Identifier: LGPL-2.1-or-later */
#pragma once

/* The network devices of the network namespace ovs-vswitchd runs in. On a
 * node that is the host's; the test suite runs Open vSwitch in a namespace
 * of its own, where op-dbus does not run. The names come from
 * /proc/<pid>/net/dev of the ovs-vswitchd whose pid file is in OVS_RUNDIR:
 * that file shows the process's namespace without entering it. When no
 * ovs-vswitchd runs, they are those of the caller's namespace. Does not
 * log. */

#include <stdbool.h>
#include <stddef.h>

typedef struct OvsNetdevs {
        char **names;                 /* sorted */
        size_t n;
} OvsNetdevs;

/* Reads the device names; a negative errno when they cannot be read. */
int ovs_netdevs_read(const char *ovs_rundir, OvsNetdevs *ret);
bool ovs_netdevs_has(const OvsNetdevs *l, const char *name);
void ovs_netdevs_done(OvsNetdevs *l);
