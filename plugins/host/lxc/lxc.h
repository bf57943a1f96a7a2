/* SPDX-License-Identifier: LGPL-2.1-or-later */
#pragma once

/* The "lxc" plugin: containers on the node. The section is validated into
 * the desired model (LxcConfig); query reads the node's containers through
 * a backend (LxcBackendOps: Proxmox VE's pct, or plain LXC) into the
 * live model; the pure diff compares both in one normalised form (LxcSpec)
 * and records the changes apply carries out through the same backend. */

#include <netinet/in.h>
#include <stdbool.h>
#include <stdint.h>
#include <sys/types.h>

#include <json-c/json.h>

#include "diag.h"
#include "plan.h"
#include "plugin.h"
#include "pve-id.h"
#include "services.h"

/* The Proxmox tag that marks a container op-dbus created. */
#define LXC_OWNER_TAG "op-dbus"

/* Creation defaults (see docs/containers.md). */
#define LXC_DEFAULT_ROOTFS_GIB 4
#define LXC_DEFAULT_MEMORY 512           /* MiB, Proxmox's default */
#define LXC_DEFAULT_SWAP 512             /* MiB, pct create's default (a config without swap: has none) */
#define LXC_TEMPLATE_STORAGE "local"     /* where short template names are looked up */

/* Optional booleans without a default: the host's own default applies
 * when unset. */
typedef enum LxcTristate {
        LXC_UNSET = -1,
        LXC_FALSE = 0,
        LXC_TRUE = 1,
} LxcTristate;

typedef enum LxcBackend {
        LXC_BACKEND_AUTO,             /* pct on Proxmox VE, lxc elsewhere */
        LXC_BACKEND_PCT,
        LXC_BACKEND_LXC,
        _LXC_BACKEND_MAX,
} LxcBackend;

typedef enum LxcRunState {
        LXC_RUN_STATE_UNSET = -1,     /* leave the run state alone */
        LXC_RUN_STATE_RUNNING,
        LXC_RUN_STATE_STOPPED,
        _LXC_RUN_STATE_MAX,
} LxcRunState;

typedef enum LxcDrift {
        LXC_DRIFT_HEAL,               /* change the container back (default) */
        LXC_DRIFT_REPORT,             /* only report the difference */
        _LXC_DRIFT_MAX,
} LxcDrift;

typedef enum LxcNetworkType {
        LXC_NETWORK_TYPE_UNSET = -1,
        LXC_NETWORK_TYPE_BRIDGE,      /* an OVS bridge */
        LXC_NETWORK_TYPE_NETMAKER,    /* the Netmaker mesh */
        _LXC_NETWORK_TYPE_MAX,
} LxcNetworkType;

/* The container's network interface ("network"). Strings are NULL when
 * not given. */
typedef struct LxcNetwork {
        char *bridge;                 /* bridge the interface attaches to */
        bool bridge_declared;         /* plugins.net of the same document declares it */
        LxcTristate veth;             /* attach with a veth pair */
        LxcTristate socket_networking; /* attach through an OVS internal port */
        char *port_name;              /* the container's OVS port */
        bool has_ipv4;
        struct in_addr ipv4;          /* address ... */
        unsigned ipv4_prefixlen;      /* ... and prefix length 0..32 */
        bool has_gateway;
        struct in_addr gateway;
        bool has_hwaddr;
        uint8_t hwaddr[6];
        unsigned tag;                 /* VLAN 1..4094; 0: untagged */
        LxcTristate firewall;         /* Proxmox firewall on the interface */
        LxcTristate wg_tunnel;        /* the port is a WireGuard tunnel interface */
        char *public_ip;              /* informational, not checked */
} LxcNetwork;

/* One entry of an object-form "features": {"nesting": true}. */
typedef struct LxcFeature {
        char *name;
        bool enabled;
} LxcFeature;

/* Creation settings ("properties"). Strings are NULL and integers -1 when
 * not given. */
typedef struct LxcProperties {
        LxcNetworkType network_type;
        char *template;               /* template to create from */
        int64_t memory;               /* MiB, >= 16 */
        int64_t swap;                 /* MiB, >= 0 */
        int64_t cores;                /* 1..8192 */
        char *storage;                /* storage of the root filesystem */
        int64_t rootfs_size;          /* GiB, >= 1 */
        LxcTristate unprivileged;
        LxcTristate allow_privileged; /* must be true to create a privileged container */
        char *features_string;        /* pct form "nesting=1,keyctl=1", if given as a string */
        LxcFeature *features;         /* if given as an object, in document order */
        size_t n_features;
        LxcTristate onboot;           /* start when the host boots */
        char *nameserver;
        char *searchdomain;
        char **tags;                  /* Proxmox tags */
        size_t n_tags;
} LxcProperties;

typedef struct LxcContainer {
        uint32_t id;                  /* VMID, PVE_VMID_MIN..PVE_VMID_MAX */
        char *name;                   /* hostname; NULL: not given */
        char *template;               /* OS template; NULL: not given */
        LxcTristate autostart;        /* start once created */
        LxcRunState state;
        LxcDrift drift;
        bool has_network;             /* "network" was given */
        LxcNetwork network;
        char **services;              /* services expected to run */
        size_t n_services;
        json_object *config;          /* free-form service configuration (own reference); NULL: not given */
        ServiceFiles rendered;        /* what config renders to (empty without config) */
        LxcProperties properties;
        char *path;                   /* JSON path, for messages */
} LxcContainer;

/* The desired state of the whole section. */
typedef struct LxcConfig {
        LxcBackend backend;
        bool prune;                   /* destroy containers op-dbus created that are no longer listed */
        char *container_profile;      /* informational; NULL: not given */
        LxcContainer *containers;
        size_t n_containers;
} LxcConfig;

/* A "key=value,key=value" property string (net0, features) as a list
 * sorted by key. Boolean values are normalised to "1"; false ones are
 * dropped, so "firewall=0" and no firewall compare equal. */
typedef struct LxcProp {
        char *key;
        char *value;
} LxcProp;

typedef struct LxcProps {
        LxcProp *items;
        size_t n;
} LxcProps;

/* A container's configuration in the form both sides of the diff use. */
typedef struct LxcSpec {
        uint32_t id;
        char *hostname;
        int64_t memory;               /* MiB */
        int64_t swap;                 /* MiB */
        int64_t cores;                /* -1: not set (every host core) */
        bool onboot;
        bool unprivileged;
        LxcProps features;
        char *nameserver;             /* space-separated; NULL: not set */
        char *searchdomain;           /* space-separated; NULL: not set */
        char *tags;                   /* ";"-joined, lower case, sorted, unique; NULL: none */
        bool has_net0;
        LxcProps net0;                /* without "type"; desired: without hwaddr unless given */
        char **extra_nets;            /* live: net1... (op-dbus manages net0 only) */
        size_t n_extra_nets;
        bool tun;                     /* both TUN raw keys are in the configuration */
        bool tun_partial;             /* live: only one of them is */
        char *storage;                /* rootfs storage; NULL: unknown */
        int64_t rootfs_mib;           /* rootfs size; -1: unknown */
        char *template;               /* template as the state names it (recorded in the description) */
        char *volume;                 /* the template volume it resolved to */
        char *description;            /* decoded, without trailing newlines; NULL: none */
} LxcSpec;

/* A container found on the node. */
typedef struct LxcLive {
        uint32_t id;
        bool running;
        bool owned;                   /* carries LXC_OWNER_TAG */
        bool ha_managed;              /* Proxmox HA decides whether it runs */
        char *lock;                   /* Proxmox config lock; NULL: none */
        LxcSpec spec;
} LxcLive;

/* A container id used elsewhere in the cluster (a VM, or a container on
 * another node), which `pct list` does not show. */
typedef struct LxcTakenId {
        uint32_t id;
        char *what;                   /* "VM" or "CT" */
        char *node;
} LxcTakenId;

/* A storage's template cache (`pveam list`). */
typedef struct LxcTemplateCache {
        char *storage;
        char **volumes;               /* "local:vztmpl/<file>" */
        size_t n_volumes;
        char *error;                  /* the listing failed: why; NULL: ok */
} LxcTemplateCache;

typedef struct LxcTemplates {
        LxcTemplateCache *caches;
        size_t n_caches;
        char **available;             /* `pveam available`: downloadable file names (plain LXC: LXC's template names) */
        size_t n_available;
        char **paths;                 /* absolute template paths that exist */
        size_t n_paths;
        /* The backend's own resolution (plain LXC); NULL: Proxmox's caches. */
        int (*resolve)(const struct LxcTemplates *t, const char *requested, char **ret, char **ret_hint);
} LxcTemplates;

/* What the diff decided for one container; apply carries it out. */
typedef enum LxcChangeKind {
        LXC_CHANGE_CREATE,
        LXC_CHANGE_UPDATE,            /* set, resize, raw keys, start, stop, restart */
        LXC_CHANGE_RECREATE,          /* destroy, then create */
        LXC_CHANGE_DELETE,
} LxcChangeKind;

enum {
        LXC_DO_STOP_FIRST = 1 << 0,   /* stop before changing (state: stopped) */
        LXC_DO_SET        = 1 << 1,   /* options differ */
        LXC_DO_RESIZE     = 1 << 2,   /* the root filesystem grows */
        LXC_DO_RAW        = 1 << 3,   /* the TUN raw keys change */
        LXC_DO_RESTART    = 1 << 4,   /* a change takes effect at the next start */
        LXC_DO_START      = 1 << 5,   /* start at the end */
};

typedef struct LxcChange {
        LxcChangeKind kind;
        unsigned flags;               /* LXC_DO_* */
        const LxcContainer *want_ct;  /* NULL for delete */
        const LxcSpec *want;          /* NULL for delete */
        const LxcLive *have;          /* NULL for create */
} LxcChange;

typedef struct LxcPlugin LxcPlugin;
/* Socket networking's live state and changes (lxc-socket.c). */
typedef struct LxcSocket LxcSocket;
/* What a container's services look like inside it (lxc-services.c). */
typedef struct LxcServiceLive LxcServiceLive;
/* Containers' veths on userspace bridges (lxc-offload.c). */
typedef struct LxcOffload LxcOffload;
/* The node's Open vSwitch as the plugin sees it (lxc-ovsdb.c). */
typedef struct LxcOvs LxcOvs;

/* A way of managing containers. Every operation reports its errors in d
 * (with the tool's own message) and returns a negative errno. Operations
 * that change something count their commands in l->counts. */
typedef struct LxcBackendOps {
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
} LxcBackendOps;

struct LxcPlugin {
        Plugin plugin;
        LxcConfig want;
        const LxcBackendOps *backend;  /* chosen by query; NULL: none */
        const char *backend_missing;   /* backend asked for but not available: why */
        bool have_queried;
        LxcLive *have;
        size_t n_have;
        LxcTakenId *taken;
        size_t n_taken;
        LxcTemplates templates;
        /* The storages containers can be created on (ct_storages), read
         * only when a container may be created; its failure, kept for the
         * diff. */
        char **ct_storages;
        size_t n_ct_storages;
        bool ct_storages_read;
        char *ct_storages_error;
        LxcSpec *specs;                /* desired, one per container (computed by the diff) */
        size_t n_specs;
        LxcChange *changes;
        size_t n_changes, allocated_changes;
        ApplyCounts *counts;           /* during apply */
        LxcSocket *socket;             /* socket networking: ports, where they are, changes */
        LxcServiceLive *services;      /* one per container of the state */
        size_t n_services;
        LxcOffload *offload;           /* veths on userspace bridges that send with checksum offload */
        LxcOvs *ovs;                   /* OVSDB: the connection, the bridges and ports, the devices */
        void *backend_data;            /* what the backend's last query found (its free_data frees it) */
};

extern const PluginVTable lxc_plugin_vtable;
extern const LxcBackendOps lxc_pct_backend;
extern const LxcBackendOps lxc_lxc_backend;

/* The raw keys that give a container /dev/net/tun. */
extern const char *const lxc_tun_lines[];

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
/* Whether an executable of this name is in PATH. */
bool lxc_in_path(const char *name);

/* lxc-parse.c */
void lxc_config_done(LxcConfig *c);
/* Validates plugins.lxc (section not NULL) into c; -EINVAL when errors
 * were recorded in d. */
int lxc_parse(LxcConfig *c, json_object *section, Diag *d);

/* Options of a spec that `pct set` (or the backend's equivalent) changes. */
typedef enum LxcField {
        LXC_FIELD_HOSTNAME,
        LXC_FIELD_MEMORY,
        LXC_FIELD_SWAP,
        LXC_FIELD_CORES,
        LXC_FIELD_ONBOOT,
        LXC_FIELD_TAGS,
        LXC_FIELD_DESCRIPTION,
        LXC_FIELD_FEATURES,
        LXC_FIELD_NAMESERVER,
        LXC_FIELD_SEARCHDOMAIN,
        LXC_FIELD_NET0,
        LXC_FIELD_EXTRA_NETS,
        _LXC_FIELD_MAX,
} LxcField;

/* lxc-spec.c: the normalised form (pure) */
bool lxc_spec_field_differs(const LxcSpec *want, const LxcSpec *have, LxcField f);
/* net0 as it is to be set: want's, keeping have's hwaddr when the state
 * gives none (Proxmox would generate a new one). */
char *lxc_spec_net0_string(const LxcSpec *want, const LxcSpec *have);
void lxc_props_done(LxcProps *p);
/* Parses "k=v,k=v"; a bare word without '=' becomes the value of
 * default_key (NULL: refused). -EINVAL on a malformed string. */
int lxc_props_parse(const char *s, const char *default_key, LxcProps *ret);
const char *lxc_props_get(const LxcProps *p, const char *key);
int lxc_props_set(LxcProps *p, const char *key, const char *value);
void lxc_props_unset(LxcProps *p, const char *key);
/* "k=v,k=v"; with first, that key comes first (net0's name). */
char *lxc_props_format(const LxcProps *p, const char *first);
/* Space-separated list from one separated by ',', ';' or whitespace
 * (s may be NULL); *ret is NULL for an empty list. tags: lower case,
 * sorted, unique and ";"-joined instead. */
int lxc_list_normalize(const char *s, bool tags, char **ret);
void lxc_spec_done(LxcSpec *s);
void lxc_live_done(LxcLive *l);
/* The description op-dbus keeps on its containers (records the template). */
char *lxc_description_build(const char *template, const char *volume);
/* Reads the template record back from a description. */
int lxc_description_parse(const char *description, char **ret_template, char **ret_volume);
/* Whether the container needs /dev/net/tun (wg_tunnel, or a VPN service). */
bool lxc_container_wants_tun(const LxcContainer *c);
/* Whether the container gets net0 (a veth on network.bridge). */
bool lxc_container_has_veth(const LxcContainer *c);
/* The OVS port Proxmox plugs for net0 (veth<id>i0 or fwln<id>o0). */
void lxc_veth_port_name(uint32_t id, bool firewall, char ret[static 16]);
/* The desired spec of c, completed from have (may be NULL) where the state
 * leaves creation settings open. volume: the resolved template (NULL when
 * not needed or unknown); storage: the storage a new container goes to
 * when the state names none (NULL: none chosen). */
int lxc_spec_from_container(const LxcContainer *c, const LxcLive *have, const char *volume, const char *storage,
                            LxcSpec *ret);

/* lxc-template.c (pure) */
void lxc_templates_done(LxcTemplates *t);
/* The template c asks for: its own, else its properties' (NULL: none). */
static inline const char *lxc_requested_template(const LxcContainer *c) {
        return c->template ?: c->properties.template;
}
/* The storage a requested template is looked up in (*ret NULL for an
 * absolute path). */
int lxc_template_storage(const char *requested, char **ret);
/* Resolves a requested template to a volume id: 1 and *ret set when found,
 * 0 when not found (*ret_hint: what to do), -ENOMEM. */
int lxc_template_resolve(const LxcTemplates *t, const char *requested, char **ret, char **ret_hint);

/* lxc-conf.c */
/* Parses `pct config` output (len bytes, which may include NUL bytes)
 * into spec (and the config lock). */
int lxc_conf_parse(const char *text, size_t len, LxcSpec *spec, char **ret_lock);
/* Returns a copy of a Proxmox container configuration file with lines
 * present (inserted at the end of the main section, before the first
 * [section]) or absent (removed from the main section). Other lines stay
 * byte for byte. *ret_changed tells whether anything changed. */
int lxc_conf_edit_raw(const char *text, const char *const *lines, bool present, char **ret, bool *ret_changed);
/* Whether Proxmox HA manages container id (PVE::HA::Config::vm_is_ha_managed):
 * resources (ha/resources.cfg, may be NULL) has a section "ct: <id>" whose
 * state is not "ignored", and manager_status (ha/manager_status, may be
 * NULL) does not say HA is disarmed in "ignore" mode. */
bool lxc_ha_managed(const char *resources, const char *manager_status, uint32_t id);
/* Edits <pve_dir>/lxc/<id>.conf under Proxmox's config lock, atomically. */
int lxc_conf_file_edit_raw(const char *pve_dir, uint32_t id, const char *const *lines, bool present,
                           int timeout_ms, bool *ret_changed);

/* backend/pct.c: what the Proxmox tools print (pure) */
/* `pct list`: the containers, without their configuration. */
int lxc_pct_list_parse(const char *out, LxcLive **ret, size_t *ret_n, Diag *d);
/* `pct status --verbose`: the process id of the container's init. */
bool lxc_pct_status_pid(const char *out, pid_t *ret);
/* `pveam list` (column 0, after the "NAME" header) and `pveam available`
 * (column 1): that word of every line. */
int lxc_pveam_words(const char *out, size_t column, const char *header, char ***ret, size_t *ret_n);

/* lxc-model.c: lookups every part of the plugin reads */
const LxcContainer *lxc_config_find(const LxcConfig *c, uint32_t id);
const LxcLive *lxc_find_live(const LxcPlugin *l, uint32_t id);
/* The change the diff decided on for container id; NULL: none. */
const LxcChange *lxc_find_change(const LxcPlugin *l, uint32_t id);
/* The run state after the apply: the state's, else as it is (a new
 * container starts when autostart asks for it). have may be NULL. */
bool lxc_runs_after(const LxcContainer *c, const LxcLive *have);
/* Whether the diff destroys and creates the container again. */
bool lxc_change_recreates(const LxcPlugin *l, uint32_t id);
/* A heal leaves what differs in container c (may be NULL) as it is
 * ("drift": "report"). */
bool lxc_held(const LxcPlugin *l, const LxcContainer *c);
/* The container is attached through an OVS internal port (socket networking). */
bool lxc_uses_socket(const LxcContainer *c);

/* lxc-query.c */
int lxc_query(LxcPlugin *l, Diag *d);
void lxc_live_set_done(LxcPlugin *l);

/* lxc-diff.c (pure) */
int lxc_diff(LxcPlugin *l, Plan *plan, Diag *d);
void lxc_specs_done(LxcPlugin *l);

/* lxc-apply.c */
int lxc_apply(LxcPlugin *l, ApplyCounts *counts, Diag *d);

/* lxc-services.c: the files and units of a container's services (see
 * agent/lib/services), put into it once it runs. */
/* At the end of lxc_query: looks into the running containers. */
int lxc_services_query(LxcPlugin *l, Diag *d);
void lxc_services_done(LxcPlugin *l);
/* After the containers' diff: one action per container at
 * container/<id>/services. */
int lxc_services_diff(LxcPlugin *l, Plan *plan, Diag *d);
bool lxc_services_pending(const LxcPlugin *l);
/* Last in an apply, when the containers run and are attached. */
int lxc_services_apply(LxcPlugin *l, Diag *d);
/* What the inspection script printed in a container with the services'
 * files f (out is modified), into s, which it replaces. */
int lxc_services_parse_inspection(char *out, const ServiceFiles *f, LxcServiceLive *s);
LxcServiceLive *lxc_service_live_new(void);
LxcServiceLive *lxc_service_live_free(LxcServiceLive *s);

/* lxc-offload.c: transmit checksum offload of containers' veths on
 * bridges of Open vSwitch's userspace datapath, which drops what such a
 * veth sends (docs/flows.md). After lxc_socket_query: the running
 * containers' net0 there whose side still has the offload on. */
int lxc_offload_query(LxcPlugin *l, Diag *d);
void lxc_offload_done(LxcPlugin *l);
/* After the containers' diff: plain LXC's containers of the state get an
 * action at container/<id>/offload; the others a warning with the command
 * that turns it off. */
int lxc_offload_diff(LxcPlugin *l, Plan *plan, Diag *d);
bool lxc_offload_pending(const LxcPlugin *l);
/* After the containers' changes: turns it off in plain LXC's containers
 * of the state that run (started, re-plugged or found so by the diff). */
int lxc_offload_apply(LxcPlugin *l, Diag *d);

/* lxc-ovsdb.c: whether a bridge of this name exists as the last query
 * found it: an Open vSwitch bridge, or a network device (a Linux bridge) of
 * the namespace ovs-vswitchd runs in. 1 or 0; -ENODATA when neither could
 * be read. With ret_ovs_bridges (may be NULL): the Open vSwitch bridges,
 * sorted, ", "-separated (caller frees). */
int lxc_bridge_exists(const LxcPlugin *l, const char *name, char **ret_ovs_bridges);
/* lxc-ovsdb.c, at query and in live_set_done (lxc-ovsdb.h has the rest) */
int lxc_ovs_query(LxcPlugin *l, Diag *d);
void lxc_ovs_done(LxcPlugin *l);

/* lxc-json.c */
int lxc_live_to_json(const LxcPlugin *l, json_object **ret);

/* lxc-socket.c: containers attached through an OVS internal port moved
 * into them ("socket_networking"). */
/* Plan time: whether the container's settings allow it (errors in d). */
int lxc_socket_check(const PluginContext *ctx, const LxcContainer *c, Diag *d);
/* At the end of lxc_query: the ports and where their devices are. */
int lxc_socket_query(LxcPlugin *l, Diag *d);
void lxc_socket_done(LxcPlugin *l);
/* After the containers' diff (it needs their changes): one action per
 * container at container/<id>/socket. */
int lxc_socket_diff(LxcPlugin *l, Plan *plan, Diag *d);
/* Adds the container's socket port (socket_networking, bridge, port_name,
 * tag) to its "network" in a live_to_json container object. */
int lxc_socket_network_to_json(const LxcPlugin *l, uint32_t id, json_object *container);
/* Whether the last diff recorded socket changes. */
bool lxc_socket_pending(const LxcPlugin *l);
/* Carries out the deletions (before the containers' changes) or the rest
 * (after them). */
int lxc_socket_apply(LxcPlugin *l, bool deletions, Diag *d);
/* After every start: adds the container's port if needed, moves it into
 * the network namespace of the container's init (pid) and configures it. */
int lxc_socket_attach(LxcPlugin *l, const LxcContainer *c, pid_t pid, Diag *d);
