/* SPDX-License-Identifier: LGPL-2.1-or-later */
#pragma once

/* json-c helpers: JSON paths for diagnostics, strict typed field access
 * that records a path-precise error for every problem, and parsing with
 * line/column positions. */

#include <netinet/in.h>
#include <stdbool.h>
#include <stdint.h>

#include <json-c/json.h>

#include "diag.h"
#include "macro.h"

DEFINE_TRIVIAL_CLEANUP_FUNC(json_object *, json_object_put);

/* Longest JSON path kept in a message; longer ones are cut. */
#define JSON_PATH_MAX 1024

/* "parent.key" ("key" when parent is empty) and "parent[i]". */
char *json_path_key(const char *parent, const char *key);
char *json_path_index(const char *parent, size_t i);

const char *json_type_name(json_type t) _pure_;

/* Records "path: expected an object, got <type>" unless o is an object. */
bool json_expect_object(json_object *o, const char *path, Diag *d);
/* Records an error for each key of o that is not in the NULL-terminated
 * list allowed. Returns the number of unknown keys. */
size_t json_check_keys(json_object *o, const char *path, const char *const *allowed, Diag *d);

/* The member key of o, whose path is member_path: 1 and *ret when it is
 * there, 0 when it is absent (recorded as an error only if required). */
int json_member(json_object *o, const char *key, const char *member_path, bool required,
                json_object **ret, Diag *d);

/* Appends v to the array a, taking v over even on failure; v == NULL (its
 * allocation failed) gives -ENOMEM. */
static inline int json_array_append_take(json_object *a, json_object *v) {
        if (!v)
                return -ENOMEM;
        if (json_object_array_add(a, v) < 0) {
                json_object_put(v);
                return -ENOMEM;
        }
        return 0;
}

/* Sets o's member key to v, taking v over even on failure; v == NULL (its
 * allocation failed) gives -ENOMEM. */
static inline int json_object_add_take(json_object *o, const char *key, json_object *v) {
        if (!v)
                return -ENOMEM;
        if (json_object_object_add(o, key, v) < 0) {
                json_object_put(v);
                return -ENOMEM;
        }
        return 0;
}

/* Lenient reads of documents op-dbus made itself (result documents): the
 * member's value, or "" / false / NULL when it is missing or of another
 * type. */
static inline const char *json_member_string(json_object *o, const char *key) {
        json_object *v;

        return json_object_object_get_ex(o, key, &v) ? json_object_get_string(v) : "";
}

static inline bool json_member_bool(json_object *o, const char *key) {
        json_object *v;

        return json_object_object_get_ex(o, key, &v) && json_object_get_boolean(v);
}

static inline json_object *json_member_array(json_object *o, const char *key) {
        json_object *v;

        return json_object_object_get_ex(o, key, &v) && json_object_is_type(v, json_type_array) ? v : NULL;
}

/* Field accessors. Each looks up key in the object o found at path and
 * returns 1 when the field is present and valid (and sets *ret), 0 when it
 * is absent (an error is recorded only if it is required), or -EINVAL when
 * it is present but invalid (the error is recorded). */
int json_get_string(json_object *o, const char *path, const char *key, bool required,
                    const char **ret, Diag *d);
int json_get_bool(json_object *o, const char *path, const char *key, bool *ret, Diag *d);
int json_get_int(json_object *o, const char *path, const char *key, bool required,
                 int64_t min, int64_t max, int64_t *ret, Diag *d);
/* values: NULL-terminated list; *ret is the index of the match. */
int json_get_enum(json_object *o, const char *path, const char *key,
                  const char *const *values, int *ret, Diag *d);
int json_get_array(json_object *o, const char *path, const char *key, bool required,
                   json_object **ret, Diag *d);
/* An object whose values are all strings. Keys starting with
 * reserved_prefix (if not NULL) are rejected. *ret is borrowed. */
int json_get_string_map(json_object *o, const char *path, const char *key,
                        const char *reserved_prefix, json_object **ret, Diag *d);

/* Like json_get_string, but *ret is a copy the caller frees (-ENOMEM when
 * it cannot be made). */
int json_get_string_dup(json_object *o, const char *path, const char *key, bool required,
                        char **ret, Diag *d);
/* Like json_get_string, for a value the caller checks against a format:
 * NUL bytes are refused (JSON allows "\u0000", a C string would silently
 * end there). */
int json_get_string_nonul(json_object *o, const char *path, const char *key, bool required,
                          const char **ret, Diag *d);

/* Formats used by several sections. The getters behave like the field
 * accessors above; the string must also match the format and may not
 * contain NUL bytes. */

/* A Linux interface name: 1..15 bytes of A-Z a-z 0-9 '_' '.' '-', and not
 * "." or "..". Otherwise records an error at path (when d is not NULL). */
bool json_check_ifname(const char *s, const char *path, Diag *d);
int json_get_ifname(json_object *o, const char *path, const char *key, bool required,
                    const char **ret, Diag *d);
/* A dotted-quad IPv4 address without leading zeros ("10.0.0.1"). With
 * ret_prefixlen, a prefix length 0..32 must follow ("10.0.0.100/24"). */
int json_get_ipv4(json_object *o, const char *path, const char *key, bool required,
                  struct in_addr *ret, unsigned *ret_prefixlen, Diag *d);
/* An Ethernet address: six colon-separated pairs of hex digits. */
int json_get_mac(json_object *o, const char *path, const char *key, bool required,
                 uint8_t ret[static 6], Diag *d);

/* Parses buf as strict JSON (RFC 8259), in one pass that builds the
 * json-c objects. Comments, single quotes, trailing commas, unquoted words,
 * leading zeros, raw control characters in strings, text that is not
 * UTF-8 and the like are syntax errors: -EBADMSG, with one error
 * "origin:line:column: invalid JSON: ..." at the JSON path where it was
 * found. A key given twice in one object (both places are named), a
 * number json-c cannot hold (an integer outside -2^63..2^64-1, a number
 * beyond the range of a double) and a string with an escaped NUL
 * ("\u0000", which would cut a C string short) are recorded at their
 * paths, all of them: -EINVAL. Paths are those of the document as written. Nesting is limited
 * to JSON_MAX_DEPTH levels. A document that is just "null" gives *ret
 * NULL. */
#define JSON_MAX_DEPTH 64
int json_parse_located(const char *buf, size_t len, const char *origin, json_object **ret, Diag *d);
/* For text json_parse_located() refused: 1 when it is an object with the
 * member key at its top level (as far as it can be read), 0 when it is an
 * object without it, -1 when it is not an object. */
int json_text_has_top_level_key(const char *buf, size_t len, const char *key);

/* Reads a whole file ("-" = standard input) into a NUL-terminated buffer. */
int read_full_file(const char *path, char **ret, size_t *ret_len);
/* A file that may be missing (ledgers, records): 1 and its text, or 0 and
 * *ret NULL when it does not exist, or a negative errno. */
int read_optional_file(const char *path, char **ret);

/* Deep copy (json_object_deep_copy with error mapping). */
int json_copy(json_object *src, json_object **ret);

/* Pretty, stable string (caller frees). */
char *json_to_string_pretty(json_object *o);
