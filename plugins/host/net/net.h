/* SPDX-License-Identifier: LGPL-2.1-or-later */
#pragma once

/* The "net" plugin: Open vSwitch bridges and ports, spoken to through
 * OVSDB. Desired and live state use the same model so the diff is a plain
 * comparison. */

#include <stdint.h>

#include <json-c/json.h>

#include "diag.h"
#include "ovs-netns.h"
#include "ovsdb-txn.h"
#include "plan.h"
#include "plugin.h"

/* The owner (external_ids:op-dbus-owner, OVSDB_OWNER_KEY) of the rows the
 * net plugin creates; they also carry OVSDB_GENERATION_KEY. */
#define NET_OWNER_VALUE "op-dbus"

typedef struct NetPort {
        char *name;
        char *bridge;                 /* bridge the port is (to be) on */
        char *type;                   /* OVS interface type; "" = system */
        int64_t tag;                  /* -1: none */
        int64_t *trunks;              /* sorted */
        size_t n_trunks;
        char *vlan_mode;              /* NULL: not set */
        int64_t mtu_request;          /* -1: not set */
        json_object *options;         /* object of strings, never NULL */
        json_object *external_ids;    /* user keys only, never NULL */
        char *path;                   /* desired: JSON path for messages */

        int drift;                    /* desired: NET_DRIFT_*; inherits the bridge's */

        /* live only */
        char *uuid;                   /* Port row */
        char *iface_uuid;             /* Interface row */
        bool owned;                   /* carries our owner tag, or is in the ledger */
        bool tags_missing;            /* owned by the ledger only: the tags were wiped */
        char *error;                  /* Interface.error, NULL if none */
} NetPort;

enum {
        NET_DRIFT_UNSET,
        NET_DRIFT_HEAL,               /* the daemon repairs drift (default) */
        NET_DRIFT_REPORT,             /* the daemon only reports it */
};

typedef struct NetBridge {
        char *name;
        char *datapath_type;          /* desired may be "auto" */
        char *fail_mode;              /* NULL: not set */
        bool stp_enable;
        bool rstp_enable;
        json_object *other_config;    /* never NULL */
        json_object *external_ids;    /* user keys only, never NULL */
        char *path;                   /* desired: JSON path for messages */
        bool has_settings;            /* desired: any bridge setting was given */
        bool keep_only;               /* desired: named only in openflow.bridges: kept if it
                                       * exists, never created or changed */
        int drift;                    /* desired: NET_DRIFT_* */

        /* live only */
        char *uuid;
        bool owned;                   /* carries our owner tag, or is in the ledger */
        bool tags_missing;            /* owned by the ledger only: the tags were wiped */
        bool has_datapath;            /* ovs-vswitchd reports a datapath_id: the bridge forwards */
        size_t n_port_uuids;
} NetBridge;

typedef struct NetModel {
        NetBridge *bridges;
        size_t n_bridges, allocated_bridges;
        NetPort *ports;               /* the bridges' local ports are not listed */
        size_t n_ports, allocated_ports;
} NetModel;

/* A change the diff decided on; apply turns them into OVSDB operations. */
typedef enum NetChangeKind {
        NET_BRIDGE_CREATE,
        NET_BRIDGE_MODIFY,
        NET_BRIDGE_DELETE,
        NET_PORT_CREATE,
        NET_PORT_MODIFY,
        NET_PORT_REPLUG,
        NET_PORT_RECREATE,
        NET_PORT_DELETE,
} NetChangeKind;

typedef struct NetChange {
        NetChangeKind kind;
        const NetBridge *want_bridge;  /* desired bridge (create/modify) */
        const NetBridge *have_bridge;  /* live bridge (modify/delete, and target of port changes) */
        const NetPort *want_port;
        const NetPort *have_port;
} NetChange;

typedef struct NetPlugin {
        Plugin plugin;
        NetModel want;
        NetModel have;
        bool have_queried;
        char *auto_datapath;          /* what "auto" resolves to on this host */
        OvsNetdevs netdevs;           /* network devices of the namespace ovs-vswitchd runs in */
        NetChange *changes;
        size_t n_changes, allocated_changes;
        void *ovsdb;                  /* OvsdbClient, opened by query */
        bool applied;                 /* this instance wrote to OVSDB */
} NetPlugin;

extern const PluginVTable net_plugin_vtable;
extern const WatchVTable net_watch_vtable;

/* net-model.c */
void net_model_done(NetModel *m);
int net_model_add_bridge(NetModel *m, NetBridge **ret);
int net_model_add_port(NetModel *m, NetPort **ret);
NetBridge *net_model_find_bridge(const NetModel *m, const char *name);
NetPort *net_model_find_port(const NetModel *m, const char *name);
bool net_trunks_equal(const NetPort *a, const NetPort *b);
char *net_trunks_to_string(const NetPort *p);

/* net-parse.c */
int net_parse(NetModel *want, const StateDoc *doc, json_object *section, Diag *d);
/* Warns about op-dbus ports on bridges that /etc/network/interfaces
 * declares: ifreload -a deletes them. */
void net_check_interfaces_file(const NetModel *want, const char *path, Diag *d);

/* net-ledger.c: what op-dbus owns, kept under the state directory so
 * ownership survives external_ids being wiped (ifreload does that). */
int net_ledger_apply(NetModel *have, const char *state_dir);
int net_ledger_save(const NetModel *have, const char *state_dir);

/* net-query.c */
int net_query(NetPlugin *n, Diag *d);
int net_live_to_json(const NetModel *have, json_object **ret);

/* net-diff.c (pure) */
int net_diff(NetPlugin *n, Plan *plan, Diag *d);

/* net-apply.c */
int net_apply(NetPlugin *n, ApplyCounts *counts, Diag *d);
