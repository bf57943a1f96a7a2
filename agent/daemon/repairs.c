/* SPDX-License-Identifier: LGPL-2.1-or-later */
#include <errno.h>
#include <stdio.h>
#include <string.h>
#include <time.h>

#include "confirm.h"
#include "fileio.h"
#include "json-util.h"
#include "macro.h"
#include "repairs.h"

static char *repairs_path(const char *state_dir) {
        char *p;

        return asprintf(&p, "%s/repairs.json", state_dir) < 0 ? NULL : p;
}

int repairs_load(const char *state_dir, json_object **ret) {
        _cleanup_(freep) char *path = repairs_path(state_dir), *buf = NULL;
        _cleanup_(diag_done) Diag d = {};
        json_object *o = NULL;
        int r;

        if (!path)
                return -ENOMEM;
        r = read_optional_file(path, &buf);
        if (r < 0)
                return r;
        if (r == 0 || json_parse_located(buf, strlen(buf), path, &o, &d) < 0 ||
            !json_object_is_type(o, json_type_array)) {
                /* none yet, or unreadable: a record, not a state; start over */
                json_object_put(o);
                o = json_object_new_array();
        }
        if (!o)
                return -ENOMEM;
        *ret = o;
        return 0;
}

/* "plugin path: detail" for each action of plan held (or not). */
static json_object *lines(json_object *plan, bool held) {
        json_object *a = json_object_new_array();

        for (size_t i = 0; a && i < json_object_array_length(plan); i++) {
                json_object *action = json_object_array_get_idx(plan, i);
                char *s;

                if (json_member_bool(action, "held") != held)
                        continue;
                if (asprintf(&s, "%s %s %s: %s", json_member_string(action, "action"),
                             json_member_string(action, "plugin"), json_member_string(action, "path"),
                             json_member_string(action, "detail")) < 0 ||
                    json_array_append_take(a, json_object_new_string(s)) < 0) {
                        free(s);
                        json_object_put(a);
                        return NULL;
                }
                free(s);
        }
        return a;
}

int repairs_record(const char *state_dir, uint64_t generation, json_object *plan) {
        _cleanup_(freep) char *path = repairs_path(state_dir);
        _cleanup_(json_object_putp) json_object *list = NULL, *keep = NULL;
        json_object *e = json_object_new_object(), *repaired = lines(plan, false), *held = lines(plan, true);
        char when[ISO8601_MAX];
        const char *text;
        size_t n, from;
        int r;

        if (!e || !repaired || !held || !path) {
                json_object_put(e);
                json_object_put(repaired);
                json_object_put(held);
                return -ENOMEM;
        }
        json_object_object_add(e, "time", json_object_new_string(format_iso8601(now_realtime_usec(), false,
                                                                                   when, sizeof when)));
        json_object_object_add(e, "generation", json_object_new_int64((int64_t) generation));
        json_object_object_add(e, "repaired", repaired);
        json_object_object_add(e, "held", held);
        r = repairs_load(state_dir, &list);
        if (r < 0 || json_array_append_take(list, e) < 0) {
                if (r >= 0)
                        r = -ENOMEM;
                return r;
        }
        n = json_object_array_length(list);
        from = n > REPAIRS_KEPT ? n - REPAIRS_KEPT : 0;
        keep = json_object_new_array();
        for (size_t i = from; keep && i < n; i++)
                if (json_object_array_add(keep, json_object_get(json_object_array_get_idx(list, i))) < 0)
                        return -ENOMEM;
        if (!keep)
                return -ENOMEM;
        text = json_object_to_json_string_ext(keep, JSON_C_TO_STRING_PRETTY | JSON_C_TO_STRING_NOSLASHESCAPE);
        r = mkdir_p(state_dir, 0700);
        if (r >= 0)
                r = write_file_atomic(path, text, strlen(text), 0600);
        return r;
}
