/* SPDX-License-Identifier: LGPL-2.1-or-later */
#pragma once

/* The routes plugin (section "routes", docs/router.md): static routes and
 * policy rules, over agent/lib/rtnl. Every route and rule op-router makes
 * carries the protocol number RTNL_PROTO_OPDBUS (217); a route or rule
 * with another protocol is someone else's and is never changed.
 *
 *   parse   section -> RtConfig, every error with its JSON path (no I/O)
 *   query   the links, routes and rules of the namespace (rtnl dumps)
 *   diff    RtConfig against the dumps (rt_diff, pure): what to delete,
 *           replace and add, each with its plan action
 *   apply   those changes, one rtnetlink request each */

#include <stdbool.h>
#include <stdint.h>

#include <json-c/json.h>

#include "diag.h"
#include "plan.h"
#include "rtnl.h"

#define RT_TABLE_MAIN 254
#define RT_METRIC_IPV6_DEFAULT 1024
/* The priorities of the kernel's own rules (local 0, main 32766, default
 * 32767) are not op-router's to take. */
#define RT_RULE_PRIORITY_MAX 32765

typedef struct RtRoute {
        char *path;                  /* plugins.routes.routes[i] */
        char *dev;                   /* the output interface's name, or NULL */
        RtnlRoute r;                 /* oif unset: resolved against the links at diff */
} RtRoute;

typedef struct RtRule {
        char *path;                  /* plugins.routes.rules[i] */
        RtnlRule r;                  /* one per family ("family": any makes two) */
} RtRule;

typedef struct RtConfig {
        bool present;                /* the section is there: owned routes and rules not in it go */
        char **declared;             /* links the state's interfaces section makes (NULL-terminated):
                                      * a route may name one before it exists */
        RtRoute *routes;
        size_t n_routes;
        RtRule *rules;
        size_t n_rules;
} RtConfig;

void rt_config_done(RtConfig *c);
/* section: the plugin's section (NULL: absent, nothing is managed). */
int rt_parse(RtConfig *c, json_object *section, Diag *d);
/* Adds the names of the links an interfaces section makes (bridges, vlans,
 * macvlans) to c->declared. */
int rt_config_declare(RtConfig *c, json_object *interfaces);

/* What the namespace has. */
typedef struct RtLive {
        RtnlLink *links;
        size_t n_links;
        RtnlRoute *routes;
        size_t n_routes;
        RtnlRule *rules;
        size_t n_rules;
} RtLive;

void rt_live_done(RtLive *l);

/* Routes by their key (family, table, destination, metric: what the
 * kernel keeps one route of), for lookups in lists of thousands: slots
 * hold index + 1 into the list, 0 is free. Every route of a key is in the
 * run of slots from rt_key_slot() to the next free one. */
typedef struct RtKeyIndex {
        size_t *slots;
        size_t mask;
} RtKeyIndex;

bool rt_route_key_equal(const RtnlRoute *a, const RtnlRoute *b);
/* Room for n routes; -ENOMEM. */
int rt_key_index_init(RtKeyIndex *x, size_t n);
void rt_key_index_done(RtKeyIndex *x);
void rt_key_index_add(RtKeyIndex *x, const RtnlRoute *r, size_t i);
/* The first slot to look at for r's key. */
size_t rt_key_slot(const RtKeyIndex *x, const RtnlRoute *r);

typedef enum RtOpType {
        RT_DELETE_RULE,
        RT_DELETE_ROUTE,
        RT_REPLACE_ROUTE,
        RT_ADD_ROUTE,
        RT_ADD_RULE,
} RtOpType;

typedef struct RtOp {
        RtOpType type;
        char dev[RTNL_IFNAME_SIZE];  /* a route's interface not made yet at diff: looked up when sent */
        RtnlRoute route;             /* routes: as sent (deletes: as dumped) */
        RtnlRule rule;
} RtOp;

typedef struct RtChanges {
        RtOp *ops;                   /* in the order they are sent */
        size_t n_ops;
} RtChanges;

void rt_changes_done(RtChanges *c);
/* The changes that make live match c (the owned routes and rules only),
 * with one plan action each; conflicts with someone else's routes and
 * rules, and interfaces that are not there, are errors at their JSON path
 * (-EINVAL). Pure. */
int rt_diff(const RtConfig *c, const RtLive *live, RtChanges *ret, Plan *plan, Diag *d);
/* The owned routes and rules of live as a section of the state. */
int rt_live_to_json(const RtLive *live, json_object **ret);
/* "10.0.0.0/8", "default", "fd00::/64 table 100 metric 5 via ... dev ..." */
char *rt_route_describe(const RtnlRoute *r, const RtLive *live);
char *rt_rule_describe(const RtnlRule *r);
