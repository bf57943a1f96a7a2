/* SPDX-License-Identifier: LGPL-2.1-or-later */
#pragma once

/* The audit trail: each checkpoint records who made its generation, from
 * what, why, and what it changed. */

#include <stddef.h>
#include <stdint.h>

#include <json-c/json.h>

#include "plan.h"

/* Who asks for an apply and why. reason: "apply", "rollback", "reload",
 * "confirm-timeout", ...; source: what is applied ("/etc/x/state.json",
 * "D-Bus ApplyState", "checkpoint 4"); uid, pid and process of the caller
 * (-1, -1 and NULL when not known). */
typedef struct ApplyOrigin {
        const char *reason;
        const char *source;
        int64_t uid;
        int64_t pid;
        const char *process;
} ApplyOrigin;

/* Actions named one by one in a record; the rest are counted. */
#define AUDIT_ACTIONS_MAX 20

/* The record of an apply (origin may be NULL: nothing known):
 *   {"reason", "source", "uid", "pid", "process",
 *    "changes": {"total": N, "create": N, ...},
 *    "actions": ["create PLUGIN PATH: DETAIL", ...], "more_actions": N}
 * from the actions that are carried out (held ones are not). Plans never
 * hold secrets, so neither does the record. NULL on ENOMEM. */
json_object *audit_record_new(const ApplyOrigin *origin, const Plan *plans, size_t n_plans);
