/* SPDX-License-Identifier: LGPL-2.1-or-later */
#pragma once

/* The ovn plugin: this node as an OVN chassis (the keys ovn-controller
 * reads from the local Open_vSwitch row), the logical switches it declares
 * and its containers' logical switch ports, in OVN's northbound database.
 *
 * The northbound database is shared by every node of the cluster, so
 * everything op-dbus writes there says who wrote it (external_ids):
 *   Logical_Switch       op-dbus-owner=op-dbus and one key
 *                        op-dbus-node-<system-id>=declared per node that
 *                        declares it: a node takes its own key away and
 *                        deletes the switch only when no other node's is left;
 *   Logical_Switch_Port  op-dbus-owner=op-dbus, op-dbus-node=<system-id>:
 *                        a node changes and deletes only its own ports.
 * Every northbound transaction waits (timeout 0) on what the plan read:
 * a switch that is to be created is still absent, a row that is changed
 * still has its name, a switch that is deleted still has the declarers and
 * ports read. Another node's transaction in between makes it fail; the
 * plugin reads again and retries (OVN_CONFLICT_RETRIES), and says so. */

#include <netinet/in.h>
#include <stdbool.h>

#include <json-c/json.h>

#include "ovsdb-client.h"
#include "plugin.h"

#define OVN_OWNER_VALUE "op-dbus"
#define OVN_NODE_KEY "op-dbus-node"
#define OVN_DECLARER_PREFIX "op-dbus-node-"
#define OVN_IFACE_TAG "op-dbus-ovn-port"
#define OVN_SWITCH_KEY "op-dbus-switch"          /* of the DHCP_Options row of a switch */
#define OVN_DHCP_SERVER_MAC "02:00:00:00:00:fe"
#define OVN_CONFLICT_RETRIES 8
#define OVN_NB_DB "OVN_Northbound"
#define OVN_SB_DB "OVN_Southbound"

typedef struct OvnChassis {
        char *system_id;
        char *northbound;             /* the NB database op-dbus writes */
        char *southbound;             /* ovn-remote: the SB database ovn-controller reads */
        char *encap_type;             /* "geneve" */
        char *encap_ip;
        char *bridge;                 /* ovn-bridge: the integration bridge */
} OvnChassis;

typedef struct OvnSwitch {
        char *name;
        char *subnet;                 /* canonical "10.1.0.0/24" */
        struct in_addr net;
        unsigned prefix;
        char *path;
        json_object *dhcp;            /* DHCP_Options.options (an object of strings), or NULL: no DHCP */
        /* live */
        char *uuid;
        bool owned;                   /* op-dbus-owner=op-dbus */
        bool declared;                /* this node's declarer key is there */
        size_t n_declarers;           /* nodes whose declarer key is there */
        json_object *raw_ids;         /* external_ids and ports as read, for the guard */
        json_object *raw_ports;
        char *dhcp_uuid;              /* op-dbus's DHCP_Options row of the switch */
        char *dhcp_cidr;
} OvnSwitch;

typedef struct OvnPort {
        char *name;
        char *sw;                     /* its switch's name */
        char *address;                /* "MAC IP": addresses and port_security */
        char *interface;              /* the OVS Interface on the integration bridge; may be NULL */
        char *path;
        /* live */
        char *uuid;
        char *sw_uuid;
        char *security;               /* port_security as read */
        char *dhcp_uuid;              /* dhcpv4_options as read */
        bool owned;
        char *node;                   /* op-dbus-node */
} OvnPort;

typedef struct OvnIface {
        char *name, *uuid;
        char *iface_id;               /* external_ids:iface-id */
        char *tag;                    /* external_ids:op-dbus-ovn-port */
        char *bridge;                 /* the bridge of its port */
} OvnIface;

typedef struct OvnModel {
        OvnSwitch *switches;
        size_t n_switches;
        OvnPort *ports;
        size_t n_ports;
} OvnModel;

typedef struct OvnPlugin {
        Plugin plugin;
        bool present;
        OvnChassis chassis;
        OvnModel want, have;
        /* the local Open_vSwitch database */
        char *ovs_uuid;
        json_object *ovs_ids;         /* Open_vSwitch external_ids */
        OvnIface *ifaces;
        size_t n_ifaces;
        OvsdbClient *nb, *ovs;
        unsigned conflicts;           /* northbound transactions retried by the last apply */
} OvnPlugin;

extern const PluginVTable ovn_plugin_vtable;
extern const ImpactClass impact_switch_outage;

/* ovn-parse.c */
bool ovn_tcp_remote_valid(const char *s);
int ovn_parse(OvnPlugin *o, json_object *section, Diag *d);
void ovn_model_done(OvnModel *m);
void ovn_chassis_done(OvnChassis *c);
void ovn_ifaces_free(OvnPlugin *o);
OvnSwitch *ovn_find_switch(const OvnModel *m, const char *name);
OvnPort *ovn_find_port(const OvnModel *m, const char *name);
const OvnIface *ovn_find_iface(const OvnPlugin *o, const char *name);
/* The chassis keys of the Open_vSwitch row, in order, with their values. */
size_t ovn_chassis_keys(const OvnChassis *c, const char *keys[static 5], const char *values[static 5]);

/* ovn-query.c */
int ovn_query(OvnPlugin *o, Diag *d);

/* ovn-diff.c: the plan (plan not NULL) or the transactions carrying it
 * out (nb and ovs not NULL), from the same walk. */
typedef struct OvsdbTxn OvsdbTxn;
int ovn_walk(OvnPlugin *o, Plan *plan, OvsdbTxn *nb, OvsdbTxn *ovs, Diag *d);
int ovn_apply(OvnPlugin *o, ApplyCounts *counts, Diag *d);
