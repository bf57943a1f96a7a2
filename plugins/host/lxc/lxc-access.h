/* SPDX-License-Identifier: LGPL-2.1-or-later */
#pragma once

/* The lxc plugin's containers for the other plugins of the host product
 * (the netmaker plugin): one container at a time, through the backend
 * plugins.lxc.backend chooses (Proxmox VE's pct, or plain LXC), so that
 * they run no container tool of their own and work with either backend
 * (lxc-access.c). Every call records its errors in d with the tool's own
 * message (the caller may rewrite them before they go further) and
 * returns a negative errno; calls that change a container count their
 * commands in counts (may be NULL). */

#include <stdbool.h>
#include <stddef.h>
#include <stdint.h>
#include <sys/types.h>

#include "diag.h"
#include "plan.h"
#include "plugin.h"

typedef struct LxcAccess LxcAccess;

/* What another plugin may know of a container. */
typedef struct LxcContainerInfo {
        bool exists;
        bool owned;                   /* op-dbus created it (the backend's mark of it) */
        bool running;                 /* looked at for op-dbus's containers only */
        uid_t root_uid;               /* the container's root user and group as the host */
        gid_t root_gid;               /* sees them: 0 privileged, 100000 (or its id map's) otherwise */
} LxcContainerInfo;

/* backend: plugins.lxc.backend as the document has it ("auto", "pct",
 * "lxc"; NULL: "auto"). Fails (errors at plugins.lxc.backend) when that
 * backend's tools are not there. */
int lxc_access_open(const PluginContext *ctx, const char *backend, LxcAccess **ret, Diag *d);
LxcAccess *lxc_access_free(LxcAccess *a);
/* What a container op-dbus did not create lacks, for messages ("it lacks
 * the Proxmox tag \"op-dbus\""). */
const char *lxc_access_not_owned(const LxcAccess *a);
/* How a stopped container's root file system is reached, for messages
 * ("pct mount"). */
const char *lxc_access_mount_how(const LxcAccess *a);

/* What the push is, for messages ("pct push"). */
const char *lxc_access_push_how(const LxcAccess *a);

int lxc_access_inspect(LxcAccess *a, uint32_t id, LxcContainerInfo *ret, Diag *d);
/* Runs "/bin/sh -c script" in the running container; *ret_out (may be
 * NULL): its standard output. changes: counted as a command. */
int lxc_access_exec(LxcAccess *a, uint32_t id, const char *script, bool changes, char **ret_out,
                    ApplyCounts *counts, Diag *d);
/* Writes data (len bytes) into the running container as dest with mode,
 * owned by its root. The data is never on a command line. */
int lxc_access_push(LxcAccess *a, uint32_t id, const char *data, size_t len, const char *dest, mode_t mode,
                    ApplyCounts *counts, Diag *d);
/* The root file system of a stopped container on the host (*ret_path),
 * until lxc_access_unmount(), which is to follow every mount that
 * succeeded. */
int lxc_access_mount(LxcAccess *a, uint32_t id, char **ret_path, ApplyCounts *counts, Diag *d);
int lxc_access_unmount(LxcAccess *a, uint32_t id, ApplyCounts *counts, Diag *d);
