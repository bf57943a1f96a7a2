/* SPDX-License-Identifier: LGPL-2.1-or-later */
#pragma once

/* The node's Open vSwitch as the lxc plugin sees it (lxc-ovsdb.c): its
 * bridges and ports, the internal ports of socket networking (lxc-socket.c),
 * whether a container's bridge exists (lxc-diff.c), the userspace bridges
 * (lxc-offload.c), the veths of plain LXC containers (backend/plain.c). */

#include <stdbool.h>
#include <stdint.h>

#include "diag.h"
#include "lxc-plugin.h"
#include "ovsdb-client.h"
#include "ovsdb-txn.h"

/* external_ids of the Port and Interface rows the lxc plugin creates: the
 * owner (OVSDB_OWNER_KEY) differs from the net plugin's ("op-dbus"), so
 * that plugin neither deletes nor claims them. */
#define LXC_SOCKET_OWNER "op-dbus-lxc"
#define LXC_SOCKET_CONTAINER_KEY "op-dbus-container"

/* An OVS port as OVSDB has it. */
typedef struct LxcOvsPort {
        char *name;
        char *uuid;                   /* Port row */
        char *bridge;                 /* the bridge it is on; NULL: on none */
        char *bridge_uuid;            /* ... its row */
        bool owned;                   /* external_ids:op-dbus-owner is LXC_SOCKET_OWNER */
        char *owner;                  /* external_ids:op-dbus-owner; NULL: none */
        uint32_t container;           /* external_ids:op-dbus-container; 0: none */
        int64_t ofport;               /* -1: none */
        int64_t tag;                  /* -1: none */
} LxcOvsPort;

typedef struct LxcOvsBridge {
        char *name;
        char *uuid;                   /* Bridge row */
        bool userspace;               /* datapath_type netdev: Open vSwitch's userspace datapath */
} LxcOvsBridge;

/* Every bridge and port of the node (the bridges' local ports included). */
typedef struct LxcOvsView {
        LxcOvsBridge *bridges;
        size_t n_bridges;
        LxcOvsPort *ports;
        size_t n_ports;
} LxcOvsView;

/* The node's Open vSwitch as the plugin sees it (LxcPlugin.ovs): its
 * OVSDB connection, the bridges and ports the last query read, the
 * network devices of the namespace ovs-vswitchd runs in. */
/* Reads them, at the start of the query after the containers. Without
 * OVSDB there is nothing of socket networking to manage: only a state
 * with socket networking fails then (errors in d). */
int lxc_ovs_query(LxcPlugin *l, Diag *d);
void lxc_ovs_done(LxcPlugin *l);
/* The view the last query read (every bridge and port); NULL when OVSDB
 * could not be read. */
const LxcOvsView *lxc_ovs_view(const LxcPlugin *l);
/* The plugin's OVSDB connection, made when needed (errors in d). */
int lxc_ovs_client(LxcPlugin *l, OvsdbClient **ret, Diag *d);
/* A view read now. */
int lxc_ovs_read_view(LxcPlugin *l, LxcOvsView *ret, Diag *d);

/* lxc-ovsdb.c */
void lxc_ovs_view_done(LxcOvsView *v);
const LxcOvsPort *lxc_ovs_find_port(const LxcOvsView *v, const char *name);
const LxcOvsBridge *lxc_ovs_find_bridge(const LxcOvsView *v, const char *name);
/* Reads every bridge and port. Errors in d. */
int lxc_ovs_read(OvsdbClient *c, LxcOvsView *ret, Diag *d);
/* Adds an internal port for container id to bridge (which must exist), with
 * VLAN tag (0: none) and ofport_request (<= 0: none), and waits until
 * ovs-vswitchd has applied it. *writes counts the write operations. */
int lxc_ovs_add_port(OvsdbClient *c, const char *bridge, const char *name, uint32_t id,
                     unsigned tag, int64_t ofport_request, int timeout_ms, unsigned *writes, Diag *d);
/* Takes the port off its bridge (OVSDB then deletes its rows) and waits
 * until ovs-vswitchd has applied it. */
int lxc_ovs_del_port(OvsdbClient *c, const LxcOvsPort *p, int timeout_ms, unsigned *writes, Diag *d);
/* Sets the Port's VLAN tag (0: none). */
int lxc_ovs_set_tag(OvsdbClient *c, const LxcOvsPort *p, unsigned tag, unsigned *writes, Diag *d);
/* Whether a bridge of this name exists as the last query found it: an
 * Open vSwitch bridge, or a network device (a Linux bridge) of the
 * namespace ovs-vswitchd runs in. 1 or 0; -ENODATA when neither could be
 * read. With ret_ovs_bridges (may be NULL): the Open vSwitch bridges,
 * sorted, ", "-separated (caller frees). */
int lxc_bridge_exists(const LxcPlugin *l, const char *name, char **ret_ovs_bridges);
/* A container's veth as LXC plugs it into Open vSwitch (the plain LXC
 * backend): lxc_ovs_plug() makes the network device name an access port
 * of VLAN tag (0: none) on bridge, taking a port of that name off its
 * bridge in the same transaction; lxc_ovs_unplug() takes it off Open
 * vSwitch, if there is one of that name (nothing when the query found no
 * Open vSwitch). Both count their writes and return once ovs-vswitchd has
 * carried them out. */
int lxc_ovs_plug(LxcPlugin *l, const char *bridge, const char *name, unsigned tag, Diag *d);
int lxc_ovs_unplug(LxcPlugin *l, const char *name, Diag *d);
