/* SPDX-License-Identifier: LGPL-2.1-or-later */
#include <errno.h>
#include <stdio.h>
#include <string.h>
#include <unistd.h>

#include "checkpoint.h"
#include "confirm.h"
#include "json-util.h"
#include "repairs.h"
#include "status.h"

/* Shown of the repairs kept. */
#define STATUS_REPAIRS 5

static int add(json_object *o, const char *key, json_object *v) {
        if (!v)
                return -ENOMEM;
        return json_object_object_add(o, key, v) < 0 ? -ENOMEM : 0;
}

/* Adds the length of every list of objects below o to counts[key]. */
static void count_lists(json_object *o, json_object *counts) {
        if (!json_object_is_type(o, json_type_object))
                return;
        json_object_object_foreach(o, key, value) {
                json_object *n;
                size_t len;

                if (!json_object_is_type(value, json_type_array))
                        continue;
                len = json_object_array_length(value);
                if (len == 0 || !json_object_is_type(json_object_array_get_idx(value, 0), json_type_object))
                        continue;
                if (json_object_object_get_ex(counts, key, &n))
                        json_object_set_int64(n, json_object_get_int64(n) + (int64_t) len);
                else
                        json_object_object_add(counts, key, json_object_new_int64((int64_t) len));
                for (size_t i = 0; i < len; i++)
                        count_lists(json_object_array_get_idx(value, i), counts);
        }
}

static json_object *object_counts(json_object *state) {
        json_object *out = json_object_new_object(), *plugins;

        if (out && json_object_object_get_ex(state, "plugins", &plugins) && json_object_is_type(plugins, json_type_object)) {
                json_object_object_foreach(plugins, name, section) {
                        json_object *counts = json_object_new_object();

                        if (!counts)
                                break;
                        count_lists(section, counts);
                        json_object_object_add(out, name, counts);
                }
        }
        return out;
}

/* e as "PATH: message", as a JSON string. */
static json_object *entry_string(const DiagEntry *e) {
        _cleanup_(freep) char *s = diag_entry_format(e);

        return s ? json_object_new_string(s) : NULL;
}

static int add_applied(json_object *out, const char *state_dir, json_object **ret_state) {
        _cleanup_(json_object_putp) json_object *list = NULL;
        size_t n;
        int r;

        r = checkpoint_list_json(state_dir, &list);
        if (r < 0 && r != -ENOENT)
                return r;
        n = list ? json_object_array_length(list) : 0;
        if (n == 0) {
                *ret_state = NULL;
                return json_object_object_add(out, "applied", NULL) < 0 ? -ENOMEM : 0;
        }
        json_object *last = json_object_array_get_idx(list, n - 1), *g;

        json_object_object_del(last, "path");
        if (json_object_object_get_ex(last, "generation", &g) &&
            checkpoint_load(state_dir, json_object_get_uint64(g), ret_state) < 0)
                *ret_state = NULL;
        return add(out, "applied", json_object_get(last));
}

static int add_confirm(json_object *out, const char *state_dir) {
        _cleanup_(confirm_window_done) ConfirmWindow w = {};
        json_object *o;
        char deadline[ISO8601_MAX];
        int r;

        if (confirm_window_init(&w, state_dir) < 0)
                return -ENOMEM;
        r = confirm_window_load(&w);
        if (r <= 0)
                return json_object_object_add(out, "confirm", NULL) < 0 ? -ENOMEM : 0;
        o = json_object_new_object();
        if (!o)
                return -ENOMEM;
        json_object_object_add(o, "generation", json_object_new_int64((int64_t) w.generation));
        json_object_object_add(o, "deadline", json_object_new_string(format_iso8601(w.deadline, false, deadline,
                                                                                     sizeof deadline)));
        json_object_object_add(o, "deadline_unix", json_object_new_int64((int64_t) (w.deadline / 1000000)));
        return add(out, "confirm", o);
}

static json_object *last_repairs(const char *state_dir) {
        _cleanup_(json_object_putp) json_object *all = NULL;
        json_object *out;
        size_t n;

        if (repairs_load(state_dir, &all) < 0)
                return NULL;
        out = json_object_new_array();
        n = json_object_array_length(all);
        for (size_t i = n > STATUS_REPAIRS ? n - STATUS_REPAIRS : 0; out && i < n; i++)
                json_object_array_add(out, json_object_get(json_object_array_get_idx(all, i)));
        return out;
}

/* The state file against the applied state, and its placeholders. */
static json_object *state_file_status(const Product *product, const char *path, json_object *applied) {
        _cleanup_(state_doc_freep) StateDoc *doc = NULL;
        _cleanup_(diag_done) Diag d = {};
        json_object *o = json_object_new_object(), *differs = json_object_new_array(),
                    *placeholders = json_object_new_array(), *mine, *theirs, *section;
        bool exists = access(path, F_OK) >= 0;

        if (!o || !differs || !placeholders) {
                json_object_put(o), json_object_put(differs), json_object_put(placeholders);
                return NULL;
        }
        json_object_object_add(o, "path", json_object_new_string(path));
        json_object_object_add(o, "exists", json_object_new_boolean(exists));
        if (exists && state_doc_load(path, &doc, &d) < 0 && d.n_entries > 0)
                json_object_object_add(o, "error", entry_string(&d.entries[0]));
        if (doc && json_object_object_get_ex(doc->root, "plugins", &mine) && json_object_is_type(mine, json_type_object)) {
                bool have = applied && json_object_object_get_ex(applied, "plugins", &theirs);

                json_object_object_foreach(mine, name, value) {
                        if (!have || !json_object_object_get_ex(theirs, name, &section) ||
                            !json_object_equal(section, value))
                                json_object_array_add(differs, json_object_new_string(name));
                }
                diag_done(&d);
                (void) state_doc_check_placeholders(doc, product->placeholders, &d);
                for (size_t i = 0; i < d.n_entries; i++)
                        json_object_array_add(placeholders, entry_string(&d.entries[i]));
                json_object_object_add(o, "applied", json_object_new_boolean(json_object_array_length(differs) == 0));
        }
        json_object_object_add(o, "differs", differs);
        json_object_object_add(o, "placeholders", placeholders);
        return o;
}

int status_from_files(const Product *product, const char *state_dir, const char *state_file, json_object **ret) {
        _cleanup_(json_object_putp) json_object *out = json_object_new_object(), *applied = NULL;
        _cleanup_(freep) char *pending = NULL;
        int r;

        if (!out || asprintf(&pending, "%s/checkpoints/pending.json", state_dir) < 0)
                return -ENOMEM;
        r = add_applied(out, state_dir, &applied);
        if (r >= 0)
                r = add(out, "interrupted", json_object_new_boolean(access(pending, F_OK) >= 0));
        if (r >= 0)
                r = add_confirm(out, state_dir);
        if (r >= 0)
                r = add(out, "repairs", last_repairs(state_dir));
        if (r >= 0)
                r = add(out, "objects", applied ? object_counts(applied) : json_object_new_object());
        if (r >= 0 && state_file)
                r = add(out, "state_file", state_file_status(product, state_file, applied));
        if (r < 0)
                return r;
        *ret = TAKE_PTR(out);
        return 0;
}
