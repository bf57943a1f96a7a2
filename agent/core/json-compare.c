/* SPDX-License-Identifier: LGPL-2.1-or-later */
#include <errno.h>
#include <stdio.h>
#include <string.h>

#include "json-compare.h"
#include "json-util.h"
#include "macro.h"

static int add(json_object *out, const char *change, const char *path, json_object *from, json_object *to) {
        _cleanup_(json_object_putp) json_object *o = json_object_new_object();

        if (!o || json_object_object_add(o, "change", json_object_new_string(change)) < 0 ||
            json_object_object_add(o, "path", json_object_new_string(path)) < 0 ||
            (from && json_object_object_add(o, "from", json_object_get(from)) < 0) ||
            (to && json_object_object_add(o, "to", json_object_get(to)) < 0))
                return -ENOMEM;
        return json_array_append_take(out, TAKE_PTR(o));
}

/* The key that pairs the elements of array a (and b): "name" when every
 * element of both is an object with a string "name", else "id" likewise
 * with an integer; NULL: compare the arrays as values. */
static const char *pairing_key(json_object *a, json_object *b) {
        static const struct {
                const char *key;
                json_type type;
        } keys[] = { { "name", json_type_string }, { "id", json_type_int } };

        for (size_t k = 0; k < ELEMENTSOF(keys); k++) {
                bool all = true;

                for (int side = 0; side < 2 && all; side++) {
                        json_object *arr = side ? b : a;

                        for (size_t i = 0; i < json_object_array_length(arr) && all; i++) {
                                json_object *e = json_object_array_get_idx(arr, i), *v;

                                all = json_object_is_type(e, json_type_object) &&
                                      json_object_object_get_ex(e, keys[k].key, &v) && json_object_is_type(v, keys[k].type);
                        }
                }
                if (all && (json_object_array_length(a) > 0 || json_object_array_length(b) > 0))
                        return keys[k].key;
        }
        return NULL;
}

static json_object *find_by(json_object *arr, const char *key, json_object *value) {
        for (size_t i = 0; i < json_object_array_length(arr); i++) {
                json_object *e = json_object_array_get_idx(arr, i), *v;

                if (json_object_object_get_ex(e, key, &v) && json_object_equal(v, value))
                        return e;
        }
        return NULL;
}

static int compare(json_object *a, json_object *b, const char *path, json_object *out);

static int compare_arrays(json_object *a, json_object *b, const char *key, const char *path, json_object *out) {
        int r = 0;

        /* b's elements in b's order (changed or added), then a's that b lacks */
        for (size_t i = 0; i < json_object_array_length(b) && r >= 0; i++) {
                json_object *e = json_object_array_get_idx(b, i), *v = NULL;
                _cleanup_(freep) char *p = NULL;

                (void) json_object_object_get_ex(e, key, &v);
                if (asprintf(&p, "%s[%s=%s]", path, key, json_object_get_string(v)) < 0)
                        return -ENOMEM;
                r = compare(find_by(a, key, v), e, p, out);
        }
        for (size_t i = 0; i < json_object_array_length(a) && r >= 0; i++) {
                json_object *e = json_object_array_get_idx(a, i), *v = NULL;
                _cleanup_(freep) char *p = NULL;

                (void) json_object_object_get_ex(e, key, &v);
                if (find_by(b, key, v))
                        continue;
                if (asprintf(&p, "%s[%s=%s]", path, key, json_object_get_string(v)) < 0)
                        return -ENOMEM;
                r = add(out, "removed", p, e, NULL);
        }
        return r;
}

static int compare_objects(json_object *a, json_object *b, const char *path, json_object *out) {
        int r = 0;

        json_object_object_foreach(b, kb, vb) {
                _cleanup_(freep) char *p = path[0] ? json_path_key(path, kb) : strdup(kb);
                json_object *va = NULL;

                if (!p)
                        return -ENOMEM;
                (void) json_object_object_get_ex(a, kb, &va);
                r = compare(va, vb, p, out);
                if (r < 0)
                        return r;
        }
        json_object_object_foreach(a, ka, va) {
                _cleanup_(freep) char *p = NULL;

                if (json_object_object_get_ex(b, ka, NULL))
                        continue;
                p = path[0] ? json_path_key(path, ka) : strdup(ka);
                if (!p)
                        return -ENOMEM;
                r = add(out, "removed", p, va, NULL);
                if (r < 0)
                        return r;
        }
        return 0;
}

/* a or b may be NULL (the member or element is only on one side). */
static int compare(json_object *a, json_object *b, const char *path, json_object *out) {
        const char *key;

        if (!a && !b)
                return 0;
        if (!a)
                return add(out, "added", path, NULL, b);
        if (!b)
                return add(out, "removed", path, a, NULL);
        if (json_object_equal(a, b))
                return 0;
        if (json_object_is_type(a, json_type_object) && json_object_is_type(b, json_type_object))
                return compare_objects(a, b, path, out);
        if (json_object_is_type(a, json_type_array) && json_object_is_type(b, json_type_array) &&
            (key = pairing_key(a, b)))
                return compare_arrays(a, b, key, path, out);
        return add(out, "changed", path, a, b);
}

int json_compare(json_object *a, json_object *b, json_object **ret) {
        _cleanup_(json_object_putp) json_object *out = json_object_new_array();
        int r;

        if (!out)
                return -ENOMEM;
        r = compare(a, b, "", out);
        if (r < 0)
                return r;
        *ret = TAKE_PTR(out);
        return 0;
}
