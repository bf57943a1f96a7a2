/* SPDX-License-Identifier: LGPL-2.1-or-later */
/* What the two files of the plain LXC backend share: plain-host.c (the
 * tools, the host, configuration files, listing) and plain.c (templates,
 * creating, running and changing containers). See plain.c. */
#pragma once

#include <stdbool.h>
#include <stdint.h>

#include "lxc-backend.h"
#include "lxc-containers.h"


#define LXC_TEMPLATE_DIR "/usr/share/lxc/templates"
#define LXC_CONFIG_DIR "/usr/share/lxc/config"
#define NESTING_CONF LXC_CONFIG_DIR "/nesting.conf"
#define RECORD_FILE "op-dbus.json"
#define START_LOG "op-dbus-start.log"
#define CONF_HEADER "# op-dbus: the settings below are op-dbus's; its next apply puts back what is changed here"
#define OWNER_MARK "op-dbus"

/* The id map of unprivileged containers (as on Proxmox). */
#define IDMAP_BASE 100000U
#define IDMAP_COUNT 65536U

#define MIB (1024 * 1024)
#define CPU_PERIOD_US 100000

#define TIMEOUT_CREATE_MS (10 * 60 * 1000)
#define TIMEOUT_POWER_MS (5 * 60 * 1000)
/* How long a stop waits for a clean shutdown before it kills. */
#define SHUTDOWN_TIMEOUT_S "30"

typedef enum Cgroup {
        CGROUP_NONE,
        CGROUP_V1,                    /* a cgroup v1 controller: lxc.cgroup.* keys */
        CGROUP_V2,                    /* the unified hierarchy: lxc.cgroup2.* keys */
} Cgroup;

/* What the last query found out about the host (LxcPlugin.backend_data). */
typedef struct PlainHost {
        char *lxcpath;                /* where the containers are */
        Cgroup memory;                /* how memory is limited */
        Cgroup swap;                  /* v1: through memory+swap (memsw) */
        Cgroup cpu;
        Cgroup devices;               /* v1: the devices controller; v2: LXC's BPF device programs */
        char *idmap_problem;          /* why unprivileged containers cannot be created; NULL: they can */
        char *ovsdb_problem;          /* why LXC's ovs-vsctl may miss op-dbus's OVSDB; NULL: same database */
} PlainHost;


/* One line of an LXC configuration. */
typedef struct ConfLine {
        char *text;                   /* as written, without the newline */
        char *key;                    /* NULL: blank line or comment */
        char *value;                  /* without surrounding blanks and quotes */
} ConfLine;

typedef struct Conf {
        ConfLine *lines;
        size_t n;
} Conf;

PlainHost *plain_host_of(const LxcPlugin *l);
/* Reads what the backend needs for one container (lxc-access.h). */
int plain_open(LxcPlugin *l, Diag *d);
/* Whether op-dbus's record marks container id as op-dbus's: 1 or 0. */
int plain_owned(const PlainHost *h, uint32_t id);
void plain_host_free(void *p);
void plain_argv_tool(Argv *a, const char *tool, const PlainHost *h, uint32_t id);
int plain_timeout_for(const LxcPlugin *l, int base_ms);
char *plain_failure_text(const char *err, const char *out);
int plain_run_input(LxcPlugin *l, const Argv *a, const char *input, int timeout_ms, char **ret_out, Diag *d);
int plain_run(LxcPlugin *l, const Argv *a, int timeout_ms, char **ret_out, Diag *d);
void plain_conf_done(Conf *c);
bool plain_split_line(char *s, char **ret_key, char **ret_value);
int plain_path_of(const PlainHost *h, uint32_t id, const char *file, char **ret);
int plain_conf_read(const PlainHost *h, uint32_t id, Conf *ret);
const char *plain_devices_alias(const char *key);
bool plain_is_raw_line(const ConfLine *c, const char *raw);
int plain_record_write(LxcPlugin *l, const LxcSpec *want);
int plain_list(LxcPlugin *l, LxcLive **ret, size_t *ret_n, Diag *d);

/* net0 properties and the LXC keys they are (lxc.net.0.<key>); ends with
 * { NULL, NULL }. */
typedef struct PlainNetKey {
        const char *prop;
        const char *key;
} PlainNetKey;
extern const PlainNetKey plain_net_keys[];
