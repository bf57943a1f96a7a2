/* SPDX-License-Identifier: LGPL-2.1-or-later */
#pragma once

/* The reconcile driver: validate -> lock -> query -> diff -> snapshot ->
 * apply -> verify, in plugin dependency order, with automatic rollback to
 * the snapshot when any step after the first write fails. Success is
 * reported only after verification: re-query, re-diff, and the plan must be
 * empty. */

#include <stdbool.h>
#include <stdint.h>

#include <json-c/json.h>

#include "audit.h"
#include "diag.h"
#include "plan.h"
#include "plugin.h"
#include "state.h"

typedef enum ReconcileStatus {
        RECONCILE_OK,              /* converged (or the plan was computed) */
        RECONCILE_INVALID,         /* bad document or impossible plan; nothing touched */
        RECONCILE_BUSY,            /* another apply holds the lock */
        RECONCILE_UNAVAILABLE,     /* a service could not be reached; nothing touched */
        RECONCILE_FAILED,          /* apply or verify failed and was rolled back */
        RECONCILE_ROLLBACK_FAILED, /* apply failed and so did the rollback */
        RECONCILE_DRIFT,           /* verify: the host differs from the document */
        _RECONCILE_STATUS_MAX,
} ReconcileStatus;

/* What a program is made of: its plugins (in any order: the registry
 * orders them by their "after" declarations) and the placeholders its
 * starting states leave to fill in (terminated by word NULL; may be NULL). */
typedef struct Product {
        const char *name;                  /* the program, e.g. for logs */
        const PluginVTable *const *plugins;
        size_t n_plugins;
        const Placeholder *placeholders;
        const char *const *count_kinds;    /* kinds of writes its plugins count
                                            * (ApplyCounts), reported even at 0 */
        const char *allow_outage_hint;     /* how a caller allows outages, in messages (NULL:
                                            * "--allow-outage") */
} Product;

typedef struct Reconciler {
        const char *program;        /* the program's name, in messages (Product.name) */
        const char *allow_outage_hint; /* Product.allow_outage_hint */
        PluginRegistry registry;
        PluginContext ctx;
        unsigned keep_checkpoints;  /* checkpoints kept (default 5) */
        const Placeholder *placeholders; /* values left to fill in: refused everywhere */
        const char *const *count_kinds; /* reported in every result's counts */
        const char *fault_after;    /* a test aid of the programs: every apply fails right after
                                     * this plugin has written its changes (never a rollback);
                                     * "<plugin>:stop": stops there (SIGSTOP) until continued */
        int lock_timeout_ms;        /* how long a second apply waits */
        const ApplyOrigin *origin;  /* who asks and why, for the checkpoints' audit records
                                     * (NULL: not known); a rollback names its checkpoint */
} Reconciler;

typedef struct ReconcileOptions {
        bool dry_run;               /* plan only */
        char **only;                /* NULL-terminated plugin names, NULL = all */
        bool record;                /* store a checkpoint on success (default in apply: yes) */
        bool keep_snapshot;         /* return the state before the apply in the result */
        bool allow_outage;          /* carry out actions that cut traffic off (PlanAction.outage);
                                     * without it such a plan is refused as invalid */
        /* The document is the applied state of this generation (a repair):
         * once the lock is held, a newer generation means another apply
         * came first, and the document is out of date. The apply is not
         * made then: RECONCILE_BUSY with -ESTALE. NULL: no such check. */
        const uint64_t *applied_generation;
} ReconcileOptions;

typedef struct ReconcileResult {
        ReconcileStatus status;
        int error;                  /* negative errno of the failure, 0 if none */
        uint64_t generation;        /* generation of the verified state */
        bool changed;               /* something was written */
        bool rolled_back;
        bool dry_run;
        Plan plan;                  /* planned (dry run) or applied actions */
        Plan rollback_plan;         /* what the rollback did */
        Diag diag;                  /* errors, warnings, notes */
        ApplyCounts counts;         /* everything sent, rollback included */
        json_object *snapshot;      /* with keep_snapshot: what op-dbus owned before */
} ReconcileResult;

void reconciler_init(Reconciler *rc, const PluginContext *ctx);
void reconciler_done(Reconciler *rc);
int reconciler_register(Reconciler *rc, const PluginVTable *const *vtables, size_t n);
/* Registers the product's plugins and takes its placeholders. */
int reconciler_use_product(Reconciler *rc, const Product *product);

void reconcile_result_done(ReconcileResult *res);
const char *reconcile_status_to_string(ReconcileStatus s) _pure_;
/* {"ok", "status", "generation", "changes", "warnings", "errors",
 *  "rolled_back", "rollback_changes", "counts", "dry_run"} */
json_object *reconcile_result_to_json(const ReconcileResult *res);

/* Parse and validate only. */
int reconcile_validate(Reconciler *rc, const StateDoc *doc, const ReconcileOptions *o, ReconcileResult *res);
/* Validate, query and diff. */
int reconcile_plan(Reconciler *rc, const StateDoc *doc, const ReconcileOptions *o, ReconcileResult *res);
/* The full transaction (or a plan when o->dry_run). */
int reconcile_apply(Reconciler *rc, const StateDoc *doc, const ReconcileOptions *o, ReconcileResult *res);
/* Validate, query, diff and health checks; RECONCILE_DRIFT when the plan
 * is not empty. */
int reconcile_verify(Reconciler *rc, const StateDoc *doc, const ReconcileOptions *o, ReconcileResult *res);
/* -EINVAL (and an error in d for each) when a name in only is not a
 * registered plugin. */
int reconcile_check_plugins(Reconciler *rc, char **only, Diag *d);
/* The live state op-dbus owns, as a canonical state document; only the
 * plugins in only (NULL: all), which must exist. */
int reconcile_query(Reconciler *rc, char **only, json_object **ret, Diag *d);
/* The applied state (the newest checkpoint) as a document, and its
 * generation; RECONCILE_INVALID in res when there is none. */
int reconcile_applied_state(Reconciler *rc, StateDoc **ret, uint64_t *ret_generation, ReconcileResult *res);
/* Applies checkpoint "to" (0: the one before the newest) as a new
 * generation; like any apply, refused when it would cut traffic off unless
 * allow_outage. */
int reconcile_rollback(Reconciler *rc, uint64_t to, bool allow_outage, ReconcileResult *res);
/* The differences from stored generation from to stored generation to
 * (0: the newest), as json_compare() gives them, with every secret
 * replaced by PLUGIN_REDACTED (PluginVTable.redact); -ENOENT (an error in
 * d naming the stored ones) when one is not stored. */
int reconcile_compare_generations(Reconciler *rc, uint64_t from, uint64_t to, json_object **ret, Diag *d);
