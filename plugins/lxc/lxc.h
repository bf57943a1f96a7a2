/* SPDX-License-Identifier: LGPL-2.1-or-later */
#pragma once

/* The "lxc" plugin: containers on the node. This build validates the
 * section into the desired model below; creating and changing containers
 * comes later, so a document that lists containers is valid but cannot be
 * planned or applied yet. */

#include <netinet/in.h>
#include <stdbool.h>
#include <stdint.h>

#include <json-c/json.h>

#include "diag.h"
#include "plugin.h"

/* Proxmox container ids (VMIDs). */
#define LXC_ID_MIN 100U
#define LXC_ID_MAX 999999999U

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
        uint32_t id;                  /* VMID, LXC_ID_MIN..LXC_ID_MAX */
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

typedef struct LxcPlugin {
        Plugin plugin;
        LxcConfig want;
} LxcPlugin;

extern const PluginVTable lxc_plugin_vtable;

/* lxc-parse.c */
void lxc_config_done(LxcConfig *c);
/* Validates plugins.lxc (section not NULL) into c; -EINVAL when errors
 * were recorded in d. */
int lxc_parse(LxcConfig *c, json_object *section, Diag *d);

/* Parses the container id at the start of s: 3..9 digits without a leading
 * zero. *end points after the digits. */
bool lxc_id_parse(const char *s, const char **end, uint32_t *ret);
/* A container id field: a JSON integer LXC_ID_MIN..LXC_ID_MAX or a string
 * of its digits ("100"). Behaves like the json_get_* accessors. */
int lxc_get_container_id(json_object *o, const char *path, const char *key, bool required,
                         uint32_t *ret, Diag *d);
