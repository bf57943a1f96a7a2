/* SPDX-License-Identifier: LGPL-2.1-or-later */
#pragma once

/* What the three parts of the "lxc" plugin share: the containers
 * themselves (lxc-containers.h), socket networking (lxc-socket.h) and the
 * services in containers (lxc-services.h), with the offloads of veths on
 * userspace bridges (lxc-offload.h) and the node's Open vSwitch
 * (lxc-ovsdb.h) beside them.
 *
 * The section is validated into the desired model (LxcConfig); query reads
 * the node's containers through a backend (lxc-backend.h: Proxmox VE's
 * pct, or plain LXC) into the live model (LxcLive); the pure diff compares
 * both in one normalised form (LxcSpec) and records the changes
 * (LxcChange) apply carries out through the same backend. Each part reads
 * the others' results through the lookups below (lxc-model.c), which call
 * none of them. */

#include <netinet/in.h>
#include <stdbool.h>
#include <stdint.h>
#include <sys/types.h>

#include <json-c/json.h>

#include "diag.h"
#include "plan.h"
#include "plugin.h"
#include "services.h"

/* The Proxmox tag that marks a container op-dbus created. */
#define LXC_OWNER_TAG "op-dbus"

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
/* How containers are managed: pct or plain LXC (lxc-backend.h). */
typedef struct LxcBackendOps LxcBackendOps;
/* Socket networking's live state and changes (lxc-socket.c). */
typedef struct LxcSocket LxcSocket;
/* What a container's services look like inside it (lxc-services.c). */
typedef struct LxcServiceLive LxcServiceLive;
/* Containers' veths on userspace bridges (lxc-offload.c). */
typedef struct LxcOffload LxcOffload;
/* The node's Open vSwitch as the plugin sees it (lxc-ovsdb.c). */
typedef struct LxcOvs LxcOvs;

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
extern const WatchVTable lxc_watch_vtable;

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
/* Counts one command run on the node (during apply). */
static inline void lxc_count_command(LxcPlugin *l) {
        if (l->counts)
                l->counts->commands++;
}
