/* SPDX-License-Identifier: LGPL-2.1-or-later */
/* Decoding OVSDB values (RFC 7047 5.1) as the plugins read them from
 * replies: every JSON value of the input goes through the set, map and
 * uuid helpers, and every array through the row index by "_uuid" and by
 * the set columns that reference rows. */
#include "fuzz.h"
#include "json-util.h"
#include "ovsdb-client.h"

static const char *const index_columns[] = { "_uuid", "ports", "interfaces", "bridges" };

static void check_value(json_object *v) {
        size_t n = ovsdb_set_length(v);
        _cleanup_(json_object_putp) json_object *map = ovsdb_map_to_object(v);
        const char *uuid = ovsdb_uuid_string(v);

        for (size_t i = 0; i < n; i++) {
                json_object *e = ovsdb_set_get(v, i);

                FUZZ_CHECK(e || !v || json_object_is_type(v, json_type_array));
                (void) ovsdb_uuid_string(e);
        }
        FUZZ_CHECK(!ovsdb_set_get(v, n));

        if (map) {
                /* Written back and read again, a map stays the same. */
                _cleanup_(json_object_putp) json_object *wire = ovsdb_map_from_object(map), *again = NULL;

                FUZZ_CHECK(wire);
                again = ovsdb_map_to_object(wire);
                FUZZ_CHECK(again && json_object_equal(map, again));
        }
        if (uuid) {
                _cleanup_(json_object_putp) json_object *u = ovsdb_uuid(uuid);

                /* What the server sends as a uuid is one op-dbus can send back. */
                if (u)
                        FUZZ_CHECK(streq(ovsdb_uuid_string(u), uuid));
        }
        if (json_object_is_type(v, json_type_string)) {
                _cleanup_(json_object_putp) json_object *named = ovsdb_named_uuid(json_object_get_string(v));

                FUZZ_CHECK(!named == !ovsdb_is_valid_id(json_object_get_string(v)));
        }
}

/* Every row the index finds for a uuid lists that uuid in the column. */
static void check_index(json_object *rows, const char *column) {
        _cleanup_(ovsdb_row_index_done) OvsdbRowIndex idx = {};

        FUZZ_CHECK(ovsdb_row_index_build(rows, column, &idx) >= 0);
        for (size_t i = 0; i < idx.n; i++) {
                json_object *row = ovsdb_row_index_find(&idx, idx.refs[i].uuid), *value = NULL;
                bool listed = false;

                FUZZ_CHECK(row);
                FUZZ_CHECK(json_object_object_get_ex(row, column, &value));
                for (size_t k = 0; k < ovsdb_set_length(value) && !listed; k++)
                        listed = streq_ptr(ovsdb_uuid_string(ovsdb_set_get(value, k)), idx.refs[i].uuid);
                FUZZ_CHECK(listed);
        }
        FUZZ_CHECK(!ovsdb_row_index_find(&idx, NULL));
}

static void walk(json_object *v, unsigned depth) {
        check_value(v);
        if (depth > 64)
                return;
        if (json_object_is_type(v, json_type_array)) {
                for (size_t i = 0; i < ELEMENTSOF(index_columns); i++)
                        check_index(v, index_columns[i]);
                for (size_t i = 0; i < json_object_array_length(v); i++)
                        walk(json_object_array_get_idx(v, i), depth + 1);
        } else if (json_object_is_type(v, json_type_object)) {
                json_object_object_foreach(v, key, val) {
                        (void) key;
                        walk(val, depth + 1);
                }
        }
}

int LLVMFuzzerTestOneInput(const uint8_t *data, size_t size) {
        _cleanup_(json_object_putp) json_object *v = NULL;
        json_tokener *tok;

        if (size > FUZZ_MAX_INPUT)
                return 0;
        tok = json_tokener_new();
        FUZZ_CHECK(tok);
        v = json_tokener_parse_ex(tok, (const char *) data, (int) size);
        if (json_tokener_get_error(tok) == json_tokener_success)
                walk(v, 0);
        json_tokener_free(tok);
        return 0;
}
