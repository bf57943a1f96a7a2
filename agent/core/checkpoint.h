/* SPDX-License-Identifier: LGPL-2.1-or-later */
#pragma once

/* The checkpoint store: the last N verified states, one file per
 * generation under <state_dir>/checkpoints/, each written atomically:
 *   {"generation": 7, "created": "2026-01-01T00:00:00Z",
 *    "digest": "<FNV-1a 64 of the state's JSON tree>",
 *    "sections": ["a", "b"], "record": {...}, "state": {...}}
 * The record is the audit trail: who made the generation, from what, why,
 * and a summary of its changes (CheckpointRecord, built by the caller;
 * never secrets). The digest lets an unchanged re-apply be recognised, and the names of
 * the plugin sections an apply that replaces all of them be merged,
 * without reading the whole previous state back. */

#include <stdint.h>

#include <json-c/json.h>

#include "macro.h"

#define CHECKPOINTS_KEEP_DEFAULT 5

typedef struct CheckpointInfo {
        uint64_t generation;
        char *created;       /* ISO 8601 UTC */
        char *path;
        json_object *record; /* the audit record, NULL for a checkpoint without one */
} CheckpointInfo;

void checkpoint_info_array_free(CheckpointInfo *a, size_t n);

/* Room an apply wants in the state directory besides its checkpoint: the
 * records and ledgers the plugins write, and their temporary copies. */
#define CHECKPOINT_MARGIN (4u << 20)

/* Saves state (not consumed) as generation, with its audit record (not
 * consumed, may be NULL), and prunes all but the newest keep checkpoints. */
int checkpoint_save(const char *state_dir, uint64_t generation, json_object *state, json_object *record,
                    unsigned keep);

/* An apply stores its checkpoint in two steps, so that a state directory
 * that cannot take it fails the apply before the host is touched:
 * checkpoint_prepare() writes the checkpoint of generation as
 * <state_dir>/checkpoints/pending.json, once the file system has room for
 * it plus CHECKPOINT_MARGIN (-ENOSPC otherwise, with the bytes free and
 * needed); checkpoint_commit() makes it that generation (a rename, which
 * needs no room) once the apply is verified; checkpoint_discard() removes
 * it when the apply fails. A pending checkpoint left behind is the state
 * an interrupted apply was making. */
int checkpoint_prepare(const char *state_dir, uint64_t generation, json_object *state, json_object *record,
                       uint64_t *ret_free, uint64_t *ret_needed);
int checkpoint_commit(const char *state_dir, uint64_t generation);
void checkpoint_discard(const char *state_dir);
/* The state and generation of the pending checkpoint; -ENOENT when none. */
int checkpoint_load_pending(const char *state_dir, uint64_t *ret_generation, json_object **ret_state);
/* Removes all but the newest keep checkpoints. */
int checkpoint_prune(const char *state_dir, unsigned keep);
/* Lists checkpoints, oldest first. */
int checkpoint_list(const char *state_dir, CheckpointInfo **ret, size_t *ret_n);
/* The list as JSON: [{"generation", "created", "path", "record"}],
 * oldest first ("record" only where the checkpoint has one). */
int checkpoint_list_json(const char *state_dir, json_object **ret);
/* Loads the state of one generation (-ENOENT if it is not stored). */
int checkpoint_load(const char *state_dir, uint64_t generation, json_object **ret_state);
/* Digest of a state document (its compact JSON text). */
uint64_t checkpoint_digest(json_object *state);
/* The digest stored with a generation; -ENOENT/-EBADMSG when missing. */
int checkpoint_load_digest(const char *state_dir, uint64_t generation, uint64_t *ret);
/* The names of the plugin sections of a generation (a JSON array of
 * strings), read from the start of its file only; -EBADMSG for a
 * checkpoint written without them. */
int checkpoint_load_sections(const char *state_dir, uint64_t generation, json_object **ret);
/* The newest generation stored, or 0 when there is none. */
int checkpoint_latest(const char *state_dir, uint64_t *ret_generation);
