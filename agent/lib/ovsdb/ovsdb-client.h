/* SPDX-License-Identifier: LGPL-2.1-or-later */
#pragma once

/* A small, blocking OVSDB (RFC 7047) JSON-RPC client over a stream socket.
 *
 * Framing: ovsdb-server sends JSON values back to back with no delimiter,
 * so replies are split by an incremental parser (JsonStream), never by
 * lines or by single reads. Requests carry increasing integer ids; while a
 * reply is awaited, "echo" requests from the server are answered and
 * notifications ("update", "update2", "locked", ...) are queued for the
 * caller.
 *
 * All functions return 0 (or a non-negative count) on success and a
 * negative errno on failure. They do not log. */

#include <stdbool.h>
#include <stddef.h>
#include <stdint.h>

#include <json-c/json.h>

#include "macro.h"

/* ---- Incremental JSON value splitter ------------------------------------ */

typedef struct JsonStream JsonStream;

JsonStream *json_stream_new(void);
JsonStream *json_stream_free(JsonStream *s);
/* Append bytes received from the peer. */
int json_stream_feed(JsonStream *s, const char *data, size_t len);
/* Take the next complete top-level JSON value: returns 1 and sets *ret,
 * 0 when more bytes are needed, -EBADMSG on malformed input (the stream is
 * then unusable). Whitespace between values is skipped. The result does
 * not depend on how the bytes were cut into feeds. A byte that cannot
 * start a value or appear outside a string, or nesting deeper than json-c
 * parses (32), fails at once; other errors inside an object or array are
 * found when the value is complete. */
int json_stream_next(JsonStream *s, json_object **ret);

/* ---- Client -------------------------------------------------------------- */

typedef struct OvsdbClient OvsdbClient;

/* address: "unix:/path/db.sock" (or a bare absolute path), or
 * "tcp:IP:PORT" ("tcp:[IPv6]:PORT"; no names, no SSL: -EPROTONOSUPPORT
 * for "ssl:"). A TCP connection needs timeout_ms > 0. timeout_ms bounds
 * every later call that waits for the server (connect, reply). */
int ovsdb_client_connect(const char *address, int timeout_ms, OvsdbClient **ret);
OvsdbClient *ovsdb_client_free(OvsdbClient *c);
DEFINE_TRIVIAL_CLEANUP_FUNC(OvsdbClient *, ovsdb_client_free);

/* Generic JSON-RPC call. params is consumed (reference stolen) even on
 * failure. On success *ret_result holds the "result" member (caller owns).
 * When the server answers with a non-null "error", returns -EREMOTEIO and,
 * if reterr is set, stores the error rendered as text ("error: details"). */
int ovsdb_client_call(OvsdbClient *c, const char *method, json_object *params,
                      json_object **ret_result, char **reterr);

/* "transact" on database db with the operations array ops (consumed).
 * Checks the per-operation results: if any operation reports an error (or
 * the result array is shorter than ops, meaning the server aborted), returns
 * -EREMOTEIO and stores a message naming the failing operation's index, its
 * "error" and "details". A "timed out" error of a "wait" operation returns
 * -ETIMEDOUT instead; a constraint violation of an index returns -EEXIST.
 * On success *ret_results (optional) receives the result array. */
int ovsdb_client_transact(OvsdbClient *c, const char *db, json_object *ops,
                          json_object **ret_results, char **reterr);

/* ovs-vswitchd's progress (ovsdb-cfg.c): the Open_vSwitch row's cur_cfg
 * (the configuration ovs-vswitchd has carried out) and next_cfg (the one
 * asked for). */
int ovsdb_read_cfg(OvsdbClient *c, int64_t *ret_cur, int64_t *ret_next, char **reterr);
/* Waits until cur_cfg reaches target, for at most about timeout_ms (the
 * client's bound on a reply): -ETIMEDOUT when it does not. *ret_cur
 * (optional): the last cur_cfg read. */
int ovsdb_wait_cur_cfg(OvsdbClient *c, int64_t target, int timeout_ms, int64_t *ret_cur, char **reterr);

/* Pop one queued notification (method + params), if any: returns 1 when one
 * was taken, 0 when the queue is empty. Caller owns *ret. */
int ovsdb_client_pop_notification(OvsdbClient *c, json_object **ret);

/* Wait up to timeout_ms for a notification to arrive (answering echo
 * requests meanwhile): returns 1 when one is queued, 0 on timeout. */
int ovsdb_client_wait_notification(OvsdbClient *c, int timeout_ms);

/* The underlying socket, for event loops. */
int ovsdb_client_fd(OvsdbClient *c);

/* ---- Helpers for building operations -------------------------------------- */

/* True if s is a valid OVSDB <id>: [A-Za-z_][A-Za-z0-9_]* (RFC 7047 3.1). */
bool ovsdb_is_valid_id(const char *s);

/* ["uuid", "<uuid>"] and ["named-uuid", "<id>"] atoms. */
json_object *ovsdb_uuid(const char *uuid);
json_object *ovsdb_named_uuid(const char *name);
/* ["set", [...]] from an array of atoms (consumed). */
json_object *ovsdb_set(json_object *array);
/* ["map", [[k, v], ...]] from a json object of string values (not consumed). */
json_object *ovsdb_map_from_object(json_object *obj);

/* Decode helpers for values read back from the server. An OVSDB set column
 * may come back either as a bare atom or ["set", [...]]; these normalise. */
/* Number of elements; for a bare atom, 1. */
size_t ovsdb_set_length(json_object *value);
/* Element i (borrowed). */
json_object *ovsdb_set_get(json_object *value, size_t i);
/* Converts ["map", [[k, v]...]] with string keys and values into a plain
 * json object (new reference). Returns NULL for anything else. */
json_object *ovsdb_map_to_object(json_object *value);
/* For ["uuid", "x"] returns "x" (borrowed), otherwise NULL. */
const char *ovsdb_uuid_string(json_object *value);
/* The "rows" array of result i of a transaction's results (borrowed), or
 * NULL when there is no such result or it has no rows array. */
json_object *ovsdb_result_rows(json_object *results, size_t i);

/* The rows of a select result by uuid, to resolve references in O(log n)
 * instead of scanning the rows for each one: by the row's "_uuid" (column
 * "_uuid"), or by each uuid in a set column (column "ports" of Bridge rows:
 * the bridge a port belongs to). Borrows the rows: valid while they are. */
typedef struct OvsdbRowIndex {
        struct OvsdbRowRef {
                const char *uuid;
                json_object *row;
        } *refs;
        size_t n;
} OvsdbRowIndex;

int ovsdb_row_index_build(json_object *rows, const char *column, OvsdbRowIndex *ret);
/* The row with this uuid (may be NULL), or NULL. */
json_object *ovsdb_row_index_find(const OvsdbRowIndex *idx, const char *uuid);
void ovsdb_row_index_done(OvsdbRowIndex *idx);
