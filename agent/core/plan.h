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

/* How much an action disturbs traffic. The plugins define their classes
 * (what an outage is, and of what, is theirs to say); the
 * core orders and compares them by rank and prints their labels. */
typedef struct ImpactClass {
        unsigned rank;       /* 0: none; higher disturbs more */
        const char *label;   /* for people and the JSON, e.g. "link flap" */
} ImpactClass;

typedef const ImpactClass *Impact;

/* The one class every product has. */
extern const ImpactClass impact_none;
#define IMPACT_NONE (&impact_none)

typedef struct PlanAction {
        const char *plugin;  /* static: the plugin's name */
        ActionKind kind;
        Impact impact;
        char *path;          /* object path, e.g. "group/a/item/b" */
        char *detail;        /* what changes, for humans ("mtu_request 1500 -> 9000") */
        bool held;           /* drift reported but left as it is (drift policy "report") */
        char *outage;        /* set by the plugin when the action cuts off traffic or
                              * destroys a guest: what it would cut, completing "delete
                              * would ..." ("cut off the traffic of a, b").
                              * The driver carries such an action out only when the
                              * caller allows outages (ReconcileOptions.allow_outage). */
} PlanAction;

typedef struct Plan {
        PlanAction *actions;
        size_t n_actions;
        size_t allocated;
} Plan;

/* What an apply sent: every write operation sent to a service, and every
 * external command run that changes something; the writes also per kind,
 * as the plugins name them (e.g. "rules", "routes"). */
#define APPLY_COUNT_KINDS_MAX 8

typedef struct ApplyCounts {
        unsigned writes;
        unsigned commands;
        size_t n_kinds;
        struct {
                const char *kind;    /* static */
                unsigned n;
        } kinds[APPLY_COUNT_KINDS_MAX];
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
/* Starts the counts with the kinds listed (NULL-terminated, may be NULL)
 * at 0, so that they are reported even when nothing was sent. */
void apply_counts_init(ApplyCounts *c, const char *const *kinds);
/* Adds n write operations of kind (a static string). */
void apply_counts_write(ApplyCounts *c, const char *kind, unsigned n);
/* The write operations of kind counted so far. */
unsigned apply_counts_get(const ApplyCounts *c, const char *kind) _pure_;
/* {"writes": N, "<kind>": N, ..., "commands": N} */
json_object *apply_counts_to_json(const ApplyCounts *c);
