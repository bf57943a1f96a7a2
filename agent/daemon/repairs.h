/* SPDX-License-Identifier: LGPL-2.1-or-later */
#pragma once

/* The drift repairs a daemon made, kept in <state-dir>/repairs.json
 * (0600), newest last, at most REPAIRS_KEPT: what `status` shows as the
 * last repairs, with or without the daemon. Each entry:
 *   {"time": "2026-01-01T00:00:00Z", "generation": N,
 *    "repaired": ["ACTION PLUGIN PATH: DETAIL", ...],
 *    "held": [...]}            (drift policy "report": left as found) */

#include <stdint.h>

#include <json-c/json.h>

#define REPAIRS_KEPT 20

/* Appends a repair of the applied state generation, from its plan as
 * plan_to_json() gives it. */
int repairs_record(const char *state_dir, uint64_t generation, json_object *plan);
/* The entries, oldest first ([] when there are none). */
int repairs_load(const char *state_dir, json_object **ret);
