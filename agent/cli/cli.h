/* SPDX-License-Identifier: LGPL-2.1-or-later */
#pragma once

/* What every program's command line shares: the exit codes (docs/cli.md)
 * and the output, rendered from a result's JSON as text or as JSON. */

#include <stdbool.h>

#include <json-c/json.h>

#include "reconcile.h"

/* Exit codes (docs/cli.md). */
enum {
        EXIT_OK = 0,
        EXIT_APPLY_FAILED = 1,      /* apply failed and was rolled back */
        EXIT_INVALID = 2,           /* invalid input or usage; nothing changed */
        EXIT_DRIFT = 3,             /* verify/diff: the host differs */
        EXIT_BUSY = 4,              /* another apply holds the lock */
        EXIT_UNAVAILABLE = 5,       /* a service (OVSDB) cannot be reached */
        EXIT_ROLLBACK_FAILED = 6,   /* apply failed and the rollback failed too */
        EXIT_DENIED = 7,            /* the daemon refused: not permitted */
};

int exit_code_for(ReconcileStatus s) _pure_;
/* The exit code a result JSON stands for. */
int exit_code_for_json(json_object *res);

/* Everything renders from the result JSON; json: print it as it is. */
void print_result(bool json, const char *verb, const char *origin, json_object *res);
void print_diff(bool json, const char *origin, json_object *res);
void print_json(json_object *o);
void print_checkpoints_table(json_object *list);
