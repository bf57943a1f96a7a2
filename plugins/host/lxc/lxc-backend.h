/* SPDX-License-Identifier: LGPL-2.1-or-later */
#pragma once

/* The backends of the lxc plugin: how containers are managed (backend/:
 * Proxmox VE's pct, plain LXC), and what they share. */

#include <stdbool.h>
#include <stdint.h>
#include <sys/types.h>

#include "diag.h"
#include "lxc-access.h"
#include "lxc-plugin.h"

/* A way of managing containers. Every operation reports its errors in d
 * (with the tool's own message) and returns a negative errno. Operations
 * that change something count their commands in l->counts. */
struct LxcBackendOps {
        const char *name;
        /* Why a container is not op-dbus's, for messages: what it lacks. */
        const char *not_owned;
        /* Proxmox's rules for a running container: a new hostname, and the
         * removal of net10 and above (only ^net\d$ is hot-unplugged), take
         * effect at its next start. */
        bool next_start_rules;
        /* Every container of the node with its configuration. */
        int (*list)(LxcPlugin *l, LxcLive **ret, size_t *ret_n, Diag *d);
        /* Template volumes of a storage. */
        int (*templates)(LxcPlugin *l, const char *storage, char ***ret, size_t *ret_n, Diag *d);
        /* Templates that could be downloaded (file names). */
        int (*available)(LxcPlugin *l, char ***ret, size_t *ret_n, Diag *d);
        int (*create)(LxcPlugin *l, const LxcSpec *want, Diag *d);
        int (*start)(LxcPlugin *l, uint32_t id, Diag *d);
        int (*stop)(LxcPlugin *l, uint32_t id, Diag *d);
        /* Stops the container first if it runs; purges its other traces. */
        int (*destroy)(LxcPlugin *l, uint32_t id, Diag *d);
        /* Changes the options in which want and have differ. */
        int (*set)(LxcPlugin *l, const LxcSpec *want, const LxcSpec *have, Diag *d);
        int (*resize)(LxcPlugin *l, uint32_t id, int64_t mib, Diag *d);
        /* Makes the raw configuration lines present or absent. */
        int (*set_raw)(LxcPlugin *l, uint32_t id, const char *const *lines, bool present, Diag *d);
        /* The process id of a running container's init. */
        int (*pid)(LxcPlugin *l, uint32_t id, pid_t *ret, Diag *d);
        /* Runs "/bin/sh -c script" in a running container with input (may
         * be NULL) on its standard input; *ret_out (may be NULL): its
         * standard output. changes: counted as a change. */
        int (*exec)(LxcPlugin *l, uint32_t id, const char *script, const char *input, bool changes,
                    char **ret_out, Diag *d);
        /* Writes a file into a running container: dest gets data with
         * mode, owned by root (the container's). */
        int (*push)(LxcPlugin *l, uint32_t id, const char *data, size_t len, const char *dest, mode_t mode,
                    Diag *d);
        /* Whether a container with this id exists (after a failed create). */
        bool (*exists)(LxcPlugin *l, uint32_t id);
        /* Optional: the storages a container can be created on (NULL: the
         * backend has no storages). */
        int (*ct_storages)(LxcPlugin *l, char ***ret, size_t *ret_n, Diag *d);
        /* Optional: reads what the state's templates resolve against into
         * l->templates (NULL: Proxmox's template caches and pveam). */
        int (*query_templates)(LxcPlugin *l, Diag *d);
        /* Optional, plan time (pure): what this backend cannot carry out
         * for the state, as errors (and warnings) in d. */
        int (*check)(LxcPlugin *l, Diag *d);
        /* Optional: frees l->backend_data. */
        void (*free_data)(void *data);
        /* The container's veth is made from op-dbus's configuration (plain
         * LXC), not by the host's own tools (Proxmox): op-dbus sees to its
         * offloads (lxc-offload.c). */
        bool makes_veths;
        /* Optional: a shell expression for the init pid of container id,
         * for commands the plan prints (without it: the pid itself). */
        int (*pid_expression)(uint32_t id, char **ret);
        /* For other plugins (lxc-access.h), one container at a time,
         * without listing the node. open (optional): reads what the
         * backend needs first (plain LXC: where the containers are). */
        int (*open)(LxcPlugin *l, Diag *d);
        /* Whether the container exists and is op-dbus's; for op-dbus's,
         * whether it runs; its root's ids on the host. */
        int (*inspect)(LxcPlugin *l, uint32_t id, LxcContainerInfo *ret, Diag *d);
        /* A stopped container's root file system on the host, until unmount. */
        int (*mount)(LxcPlugin *l, uint32_t id, char **ret_path, Diag *d);
        int (*unmount)(LxcPlugin *l, uint32_t id, Diag *d);
        /* How mount reaches it and how push writes, for messages. */
        const char *mount_how;
        const char *push_how;
};

extern const LxcBackendOps lxc_pct_backend;
extern const LxcBackendOps lxc_lxc_backend;

/* lxc-argv.c: the argument vector of a tool a backend runs. An allocation
 * failure is kept in error (and later additions are ignored), so a command
 * line is built without a check per argument. */
typedef struct Argv {
        char **v;                      /* NULL-terminated */
        size_t n;
        int error;                     /* -ENOMEM once an addition failed */
} Argv;
void lxc_argv_done(Argv *a);
void lxc_argv_add(Argv *a, const char *s);
void lxc_argv_addf(Argv *a, const char *fmt, ...) __attribute__((__format__(printf, 2, 3)));

/* backend/pct.c: what the Proxmox tools print (pure) */
/* `pct list`: the containers, without their configuration. */
int lxc_pct_list_parse(const char *out, LxcLive **ret, size_t *ret_n, Diag *d);
/* `pct status --verbose`: the process id of the container's init. */
bool lxc_pct_status_pid(const char *out, pid_t *ret);
/* `pct mount`: the root file system it reports ("mounted CT 104 in
 * '/var/lib/lxc/104/rootfs'"), or NULL. */
char *lxc_pct_mounted_path(const char *out);
/* `pveam list` (column 0, after the "NAME" header) and `pveam available`
 * (column 1): that word of every line. */
int lxc_pveam_words(const char *out, size_t column, const char *header, char ***ret, size_t *ret_n);
