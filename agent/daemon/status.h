/* SPDX-License-Identifier: LGPL-2.1-or-later */
#pragma once

/* What a program's files say about it, for `status`: readable with or
 * without its daemon (the state directory and the state file only). */

#include <json-c/json.h>

#include "reconcile.h"

/* {"applied": {"generation", "created", "record"} | null,
 *  "interrupted": true when an apply was killed before it finished
 *                 (checkpoints/pending.json is left),
 *  "confirm": {"generation", "deadline", "deadline_unix"} | null,
 *  "repairs": the last few drift repairs (repairs.h), oldest first,
 *  "objects": {"<section>": {"<list>": N, ...}} counted in the applied
 *             state: every list of objects, also nested ones,
 *  "state_file": {"path", "exists", "applied": true when each of its
 *             sections is the applied state's, "differs": [sections],
 *             "placeholders": ["PATH: message", ...], "error": "..."}} */
int status_from_files(const Product *product, const char *state_dir, const char *state_file, json_object **ret);
