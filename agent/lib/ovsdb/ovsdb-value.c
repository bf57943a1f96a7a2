/* SPDX-License-Identifier: LGPL-2.1-or-later */

/* Building and decoding OVSDB values (RFC 7047 5.1): atoms, ["uuid", ...],
 * ["named-uuid", ...], ["set", [...]] and ["map", [[k, v], ...]]. */

#include <errno.h>
#include <string.h>

#include <json-c/json.h>

#include "json-util.h"
#include "macro.h"
#include "ovsdb-client.h"

static bool id_start_char(char c) {
        return (c >= 'A' && c <= 'Z') || (c >= 'a' && c <= 'z') || c == '_';
}

static bool ascii_digit(char c) {
        return c >= '0' && c <= '9';
}

static bool ascii_xdigit(char c) {
        return ascii_digit(c) || (c >= 'a' && c <= 'f') || (c >= 'A' && c <= 'F');
}

bool ovsdb_is_valid_id(const char *s) {
        if (!s || !id_start_char(s[0]))
                return false;

        for (s++; *s; s++)
                if (!id_start_char(*s) && !ascii_digit(*s))
                        return false;

        return true;
}

/* 8-4-4-4-12 hex digits. */
static bool uuid_is_valid(const char *s) {
        size_t i;

        for (i = 0; s[i]; i++) {
                if (i == 8 || i == 13 || i == 18 || i == 23) {
                        if (s[i] != '-')
                                return false;
                } else if (!ascii_xdigit(s[i]))
                        return false;
        }

        return i == 36;
}

/* [first, second]; consumes both, even on failure. */
static json_object *pair_new(json_object *first, json_object *second) {
        _cleanup_(json_object_putp) json_object *a = NULL, *f = first, *s = second;

        if (!f || !s)
                return NULL;

        a = json_object_new_array_ext(2);
        if (!a)
                return NULL;
        if (json_array_append_take(a, TAKE_PTR(f)) < 0 || json_array_append_take(a, TAKE_PTR(s)) < 0)
                return NULL;

        return TAKE_PTR(a);
}

/* [tag, v]; consumes v, even on failure. */
static json_object *tagged(const char *tag, json_object *v) {
        return pair_new(json_object_new_string(tag), v);
}

/* Returns NULL if uuid is not of the form 8-4-4-4-12 hex digits. */
json_object *ovsdb_uuid(const char *uuid) {
        if (!uuid || !uuid_is_valid(uuid))
                return NULL;
        return tagged("uuid", json_object_new_string(uuid));
}

/* Returns NULL if name is not a valid <id>. */
json_object *ovsdb_named_uuid(const char *name) {
        if (!ovsdb_is_valid_id(name))
                return NULL;
        return tagged("named-uuid", json_object_new_string(name));
}

/* Returns NULL (after dropping it) if array is not an array. */
json_object *ovsdb_set(json_object *array) {
        if (!json_object_is_type(array, json_type_array)) {
                json_object_put(array);
                return NULL;
        }
        return tagged("set", array);
}

static bool is_atom(json_object *v) {
        return json_object_is_type(v, json_type_string) ||
                json_object_is_type(v, json_type_int) ||
                json_object_is_type(v, json_type_double) ||
                json_object_is_type(v, json_type_boolean);
}

/* Values are normally strings; other atoms (integer, real, boolean) are
 * passed through. Returns NULL for anything that is not an object of
 * atoms. */
json_object *ovsdb_map_from_object(json_object *obj) {
        _cleanup_(json_object_putp) json_object *pairs = NULL;

        if (!json_object_is_type(obj, json_type_object))
                return NULL;

        pairs = json_object_new_array();
        if (!pairs)
                return NULL;

        json_object_object_foreach(obj, key, val) {
                if (!is_atom(val))
                        return NULL;
                if (json_array_append_take(pairs, pair_new(json_object_new_string(key), json_object_get(val))) < 0)
                        return NULL;
        }

        return tagged("map", TAKE_PTR(pairs));
}

/* For [tag, [...]] returns the inner array (borrowed), otherwise NULL. */
static json_object *tagged_array(json_object *value, const char *tag) {
        json_object *t, *inner;

        if (!json_object_is_type(value, json_type_array) || json_object_array_length(value) != 2)
                return NULL;

        t = json_object_array_get_idx(value, 0);
        inner = json_object_array_get_idx(value, 1);
        if (!json_object_is_type(t, json_type_string) || !streq(json_object_get_string(t), tag) ||
            !json_object_is_type(inner, json_type_array))
                return NULL;

        return inner;
}

/* A JSON null (NULL) has no elements. */
size_t ovsdb_set_length(json_object *value) {
        json_object *elements;

        if (!value)
                return 0;

        elements = tagged_array(value, "set");
        return elements ? json_object_array_length(elements) : 1;
}

/* NULL when i is out of range. */
json_object *ovsdb_set_get(json_object *value, size_t i) {
        json_object *elements;

        if (!value)
                return NULL;

        elements = tagged_array(value, "set");
        if (elements)
                return i < json_object_array_length(elements) ? json_object_array_get_idx(elements, i) : NULL;

        return i == 0 ? value : NULL;
}

static bool is_string_pair(json_object *pair) {
        return json_object_is_type(pair, json_type_array) &&
                json_object_array_length(pair) == 2 &&
                json_object_is_type(json_object_array_get_idx(pair, 0), json_type_string) &&
                json_object_is_type(json_object_array_get_idx(pair, 1), json_type_string);
}

/* Of duplicate keys (which a server never sends) the last one wins. */
json_object *ovsdb_map_to_object(json_object *value) {
        _cleanup_(json_object_putp) json_object *obj = NULL;
        json_object *pairs;
        size_t n;

        pairs = tagged_array(value, "map");
        if (!pairs)
                return NULL;

        obj = json_object_new_object();
        if (!obj)
                return NULL;

        n = json_object_array_length(pairs);
        for (size_t i = 0; i < n; i++) {
                json_object *pair = json_object_array_get_idx(pairs, i), *k, *v, *copy;

                if (!is_string_pair(pair))
                        return NULL;
                k = json_object_array_get_idx(pair, 0);
                v = json_object_array_get_idx(pair, 1);

                copy = json_object_new_string_len(json_object_get_string(v), json_object_get_string_len(v));
                if (!copy)
                        return NULL;
                if (json_object_object_add(obj, json_object_get_string(k), copy) < 0) {
                        json_object_put(copy);
                        return NULL;
                }
        }

        return TAKE_PTR(obj);
}

const char *ovsdb_uuid_string(json_object *value) {
        json_object *t, *u;

        if (!json_object_is_type(value, json_type_array) || json_object_array_length(value) != 2)
                return NULL;

        t = json_object_array_get_idx(value, 0);
        u = json_object_array_get_idx(value, 1);
        if (!json_object_is_type(t, json_type_string) || !streq(json_object_get_string(t), "uuid") ||
            !json_object_is_type(u, json_type_string))
                return NULL;

        return json_object_get_string(u);
}

json_object *ovsdb_result_rows(json_object *results, size_t i) {
        json_object *rows = NULL;

        if (!json_object_is_type(results, json_type_array) || i >= json_object_array_length(results) ||
            !json_object_object_get_ex(json_object_array_get_idx(results, i), "rows", &rows) ||
            !json_object_is_type(rows, json_type_array))
                return NULL;
        return rows;
}

static int cmp_ref(const void *a, const void *b) {
        return strcmp(((const struct OvsdbRowRef *) a)->uuid, ((const struct OvsdbRowRef *) b)->uuid);
}

int ovsdb_row_index_build(json_object *rows, const char *column, OvsdbRowIndex *ret) {
        size_t n = json_object_array_length(rows), allocated = 0;
        int r;

        *ret = (OvsdbRowIndex) {};
        for (size_t i = 0; i < n; i++) {
                json_object *row = json_object_array_get_idx(rows, i), *value = NULL;

                (void) json_object_object_get_ex(row, column, &value);
                for (size_t k = 0; k < ovsdb_set_length(value); k++) {
                        const char *uuid = ovsdb_uuid_string(ovsdb_set_get(value, k));

                        if (!uuid)
                                continue;
                        r = greedy_realloc((void **) &ret->refs, &allocated, ret->n + 1, sizeof(struct OvsdbRowRef));
                        if (r < 0)
                                return r;
                        ret->refs[ret->n++] = (struct OvsdbRowRef) { .uuid = uuid, .row = row };
                }
        }
        if (ret->n > 1)
                qsort(ret->refs, ret->n, sizeof(struct OvsdbRowRef), cmp_ref);
        return 0;
}

json_object *ovsdb_row_index_find(const OvsdbRowIndex *idx, const char *uuid) {
        struct OvsdbRowRef key = { .uuid = uuid }, *found;

        if (!uuid || idx->n == 0)
                return NULL;
        found = bsearch(&key, idx->refs, idx->n, sizeof(struct OvsdbRowRef), cmp_ref);
        return found ? found->row : NULL;
}

void ovsdb_row_index_done(OvsdbRowIndex *idx) {
        free(idx->refs);
        *idx = (OvsdbRowIndex) {};
}
