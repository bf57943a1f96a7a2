/* SPDX-License-Identifier: LGPL-2.1-or-later */
#pragma once

/* A typed plan: what a reconcile will do to each object, and how much it
 * disturbs traffic. Plugins fill it from their pure diff; the driver,
 * the CLI and the bus render it. */

#include <stdbool.h>
#include <stdint.h>

#include <json-c/json.h>

#include "macro.h"

typedef enum ActionKind {
        ACTION_CREATE,
        ACTION_MODIFY,
        ACTION_REPLUG,
        ACTION_RECREATE,
        ACTION_DELETE,
        _ACTION_KIND_MAX,
        _ACTION_KIND_INVALID = -EINVAL,
} ActionKind;

typedef enum Impact {
        IMPACT_NONE,              /* no traffic impact */
        IMPACT_PORT_FLAP,         /* the port goes down and up */
        IMPACT_PORT_REMOVED,      /* the port and its traffic go away */
        IMPACT_BRIDGE_OUTAGE,     /* every port of the bridge loses traffic */
        IMPACT_FLOW_CHANGE,       /* forwarding behaviour changes */
        IMPACT_CONTAINER_RESTART, /* a container is restarted */
        IMPACT_CONTAINER_LOSS,    /* a container is destroyed */
        _IMPACT_MAX,
        _IMPACT_INVALID = -EINVAL,
} Impact;

typedef struct PlanAction {
        const char *plugin;  /* static: the plugin's name */
        ActionKind kind;
        Impact impact;
        char *path;          /* object path, e.g. "bridge/ovsbr0/port/p1" */
        char *detail;        /* what changes, for humans ("mtu_request 1500 -> 9000") */
        bool held;           /* drift reported but left as it is (drift policy "report") */
        char *outage;        /* set by the plugin when the action cuts off traffic or
                              * destroys a guest: what it would cut, completing "delete
                              * would ..." ("cut off the traffic of its ports p1, p2").
                              * The driver carries such an action out only when the
                              * caller allows outages (ReconcileOptions.allow_outage). */
} PlanAction;

typedef struct Plan {
        PlanAction *actions;
        size_t n_actions;
        size_t allocated;
} Plan;

/* Counters reported by an apply. */
typedef struct ApplyCounts {
        unsigned ovsdb_ops;   /* OVSDB write operations sent */
        unsigned flow_mods;   /* OpenFlow flow modifications sent */
        unsigned commands;    /* external commands that change something */
} ApplyCounts;

void plan_done(Plan *p);
int plan_add(Plan *p, const char *plugin, ActionKind kind, Impact impact,
             const char *path, const char *detail_fmt, ...) _printf_(6, 7);
int plan_move(Plan *dst, Plan *src);
/* Marks the last action added as held. */
void plan_hold_last(Plan *p);
/* Records what the last action added would cut off (see PlanAction.outage). */
int plan_set_outage(Plan *p, const char *fmt, ...) _printf_(2, 3);
/* Actions that will be carried out (not held). */
size_t plan_count_active(const Plan *p) _pure_;

const char *action_kind_to_string(ActionKind k) _pure_;
const char *impact_to_string(Impact i) _pure_;

json_object *plan_action_to_json(const PlanAction *a);
json_object *plan_to_json(const Plan *p);
json_object *apply_counts_to_json(const ApplyCounts *c);
void apply_counts_add(ApplyCounts *dst, const ApplyCounts *src);
