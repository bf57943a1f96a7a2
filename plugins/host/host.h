/* SPDX-License-Identifier: LGPL-2.1-or-later */
#pragma once

/* What the host product's plugins share: where the host's services are
 * (the program's settings, PluginContext.settings), the impact classes of
 * their actions and the kinds of writes they count. */

#include "plan.h"
#include "plugin.h"

typedef struct HostSettings {
        const char *ovsdb_address;   /* e.g. "unix:/var/run/openvswitch/db.sock" */
        const char *ovs_rundir;      /* OVS_RUNDIR: the bridges' management sockets */
        const char *pve_dir;         /* Proxmox's cluster file system, /etc/pve */
        const char *interfaces_path; /* ifupdown's /etc/network/interfaces */
        unsigned flow_audit_ms;      /* the daemon's flow audit, every ...; 0: none */
        unsigned container_audit_ms; /* the daemon's heal while containers are applied, every ...; 0: none */
} HostSettings;

/* The context's host settings; all unset when the program gave none. */
static inline const HostSettings *host_settings(const PluginContext *ctx) {
        static const HostSettings none = {};

        return ctx->settings ?: &none;
}

/* Impact classes, by rank. */
extern const ImpactClass impact_flow_change;       /* forwarding behaviour changes */
extern const ImpactClass impact_port_flap;         /* the port goes down and up */
extern const ImpactClass impact_port_removed;      /* the port and its traffic go away */
extern const ImpactClass impact_container_restart; /* a container is restarted */
extern const ImpactClass impact_bridge_outage;     /* every port of the bridge loses traffic */
extern const ImpactClass impact_container_loss;    /* a container is destroyed */
#define IMPACT_FLOW_CHANGE (&impact_flow_change)
#define IMPACT_PORT_FLAP (&impact_port_flap)
#define IMPACT_PORT_REMOVED (&impact_port_removed)
#define IMPACT_CONTAINER_RESTART (&impact_container_restart)
#define IMPACT_BRIDGE_OUTAGE (&impact_bridge_outage)
#define IMPACT_CONTAINER_LOSS (&impact_container_loss)

/* Kinds of writes (ApplyCounts): OVSDB operations, OpenFlow flow mods. */
#define COUNT_OVSDB_OPS "ovsdb_ops"
#define COUNT_FLOW_MODS "flow_mods"
extern const char *const host_count_kinds[];
