/* SPDX-License-Identifier: LGPL-2.1-or-later */
#include <fcntl.h>
#include <stdio.h>

#include "checkpoint.h"
#include "file-trust.h"
#include "fileio.h"
#include "json-util.h"
#include "state.h"

StateDoc *state_doc_free(StateDoc *doc) {
        if (!doc)
                return NULL;
        json_object_put(doc->root);
        json_object_put(doc->applied);
        free(doc->applied_dir);
        free(doc->origin);
        free(doc);
        return NULL;
}

static int state_doc_new(json_object *root, const char *origin, bool bare, StateDoc **ret) {
        StateDoc *doc;

        doc = calloc(1, sizeof *doc);
        if (!doc)
                return -ENOMEM;
        doc->origin = strdup(origin ?: "<state>");
        if (!doc->origin) {
                free(doc);
                return -ENOMEM;
        }
        doc->root = root;
        doc->bare = bare;
        *ret = doc;
        return 0;
}

int state_doc_new_empty(const char *origin, StateDoc **ret) {
        _cleanup_(json_object_putp) json_object *root = json_object_new_object();
        json_object *plugins = json_object_new_object();
        int r;

        if (!root || !plugins) {
                json_object_put(plugins);
                return -ENOMEM;
        }
        json_object_object_add(root, "version", json_object_new_int(STATE_VERSION));
        json_object_object_add(root, "plugins", plugins);

        r = state_doc_new(root, origin, false, ret);
        if (r < 0)
                return r;
        root = NULL;
        return 0;
}

/* Checks the canonical envelope {"version": 1, "plugins": {...}}. */
static int check_canonical(json_object *root, Diag *d) {
        static const char *const keys[] = { "version", "plugins", NULL };
        json_object *plugins;
        int64_t version;
        int r, ok = 1;

        if (json_check_keys(root, "", keys, d) > 0)
                ok = 0;

        r = json_get_int(root, "", "version", true, STATE_VERSION, STATE_VERSION, &version, d);
        if (r <= 0)
                ok = 0;

        if (json_object_object_get_ex(root, "plugins", &plugins) &&
            !json_expect_object(plugins, "plugins", d))
                ok = 0;

        return ok ? 0 : -EINVAL;
}

/* Where a scan is: built into a path only when something is found. */
typedef struct ScanAt {
        const struct ScanAt *up;
        const char *key;              /* NULL: an array element */
        size_t index;
} ScanAt;

static char *scan_path(const ScanAt *at) {
        _cleanup_(freep) char *up = NULL;

        if (!at->up)
                return strdup(at->key);
        up = scan_path(at->up);
        if (!up)
                return NULL;
        return at->key ? json_path_key(up, at->key) : json_path_index(up, at->index);
}

/* The first object or array (in document order) at level limit + 1,
 * where o is at level depth: reported, and true. */
static bool too_deep(json_object *o, const ScanAt *at, unsigned depth, Diag *d) {
        json_type t = json_object_get_type(o);

        if (t != json_type_object && t != json_type_array)
                return false;
        if (depth > STATE_MAX_DEPTH) {
                _cleanup_(freep) char *path = scan_path(at);

                diag_error(d, path ?: "", "nested %u levels deep: a state may nest at most %d levels "
                           "(the top-level object is level 1, \"plugins\" level 2, a plugin section level 3)",
                           depth, STATE_MAX_DEPTH);
                return true;
        }
        if (t == json_type_object) {
                json_object_object_foreach(o, key, val)
                        if (too_deep(val, &(ScanAt) { .up = at, .key = key }, depth + 1, d))
                                return true;
                return false;
        }
        for (size_t i = 0; i < json_object_array_length(o); i++)
                if (too_deep(json_object_array_get_idx(o, i), &(ScanAt) { .up = at, .index = i }, depth + 1, d))
                        return true;
        return false;
}

static int check_depth(json_object *root, Diag *d) {
        json_object *plugins = NULL;

        (void) json_object_object_get_ex(root, "plugins", &plugins);
        return too_deep(plugins, &(ScanAt) { .key = "plugins" }, 2, d) ? -EINVAL : 0;
}

int state_doc_from_json(json_object *root, const char *origin, StateDoc **ret, Diag *d) {
        _cleanup_(json_object_putp) json_object *owned = root;
        json_object *canon;
        bool bare;
        int r;

        if (!json_expect_object(root, "", d))
                return -EINVAL;

        bare = !json_object_object_get_ex(root, "version", NULL) &&
               !json_object_object_get_ex(root, "plugins", NULL);

        if (!bare) {
                r = check_canonical(root, d);
                if (r < 0)
                        return r;
                if (!json_object_object_get_ex(root, "plugins", NULL))
                        json_object_object_add(root, "plugins", json_object_new_object());
                r = check_depth(root, d);
                if (r < 0)
                        return r;
                r = state_doc_new(root, origin, false, ret);
                if (r >= 0)
                        owned = NULL;
                return r;
        }

        /* Bare form: every top-level key is a plugin section. */
        canon = json_object_new_object();
        if (!canon)
                return -ENOMEM;
        json_object_object_add(canon, "version", json_object_new_int(STATE_VERSION));
        json_object_object_add(canon, "plugins", json_object_get(root));

        r = check_depth(canon, d);
        if (r >= 0)
                r = state_doc_new(canon, origin, true, ret);
        if (r < 0)
                json_object_put(canon);
        return r;
}

/* Moves the parser's errors to d. In the bare form the top-level keys are
 * plugin sections: their paths read plugins.<section> there too. */
static int move_parse_errors(const char *buf, size_t len, Diag *src, Diag *d) {
        bool bare = json_text_has_top_level_key(buf, len, "version") == 0 &&
                    json_text_has_top_level_key(buf, len, "plugins") == 0;

        for (size_t i = 0; bare && i < src->n_entries; i++) {
                DiagEntry *e = &src->entries[i];
                char *path;

                if (!e->path[0])
                        continue; /* the document as a whole */
                path = json_path_key("plugins", e->path);
                if (!path)
                        return -ENOMEM;
                free(e->path);
                e->path = path;
        }
        return diag_move(d, src);
}

int state_doc_parse(const char *buf, size_t len, const char *origin, StateDoc **ret, Diag *d) {
        _cleanup_(diag_done) Diag parse = {};
        json_object *root = NULL;
        int r;

        if (len > STATE_MAX_SIZE) {
                diag_error(d, "", "%s is %zu bytes: a state may be at most %u bytes (16 MiB)", origin, len, STATE_MAX_SIZE);
                return -EFBIG;
        }

        r = json_parse_located(buf, len, origin, &root, &parse);
        if (r < 0) {
                RET_GATHER(r, move_parse_errors(buf, len, &parse, d));
                return r;
        }
        return state_doc_from_json(root, origin, ret, d);
}

/* A state is applied as it is written: nobody but root and the user
 * op-dbus runs as may have written it. */
static const FileTrust state_file_trust = {
        .what = "the state file",
        .forbidden_mode = S_IWGRP | S_IWOTH,
        .mode_rule = "writable by group or others",
        .chmod = "go-w",
        .caller_may_own = true,
};

/* Opens path without blocking on a FIFO, and checks it before a byte is
 * read. */
static int open_state_file(const char *path, int *ret_fd, Diag *d) {
        _cleanup_(closep) int fd = -EBADF;
        struct stat st;
        int r;

        fd = open(path, O_RDONLY | O_CLOEXEC | O_NOCTTY | O_NONBLOCK);
        if (fd < 0 || fstat(fd, &st) < 0) {
                r = negative_errno();
                diag_error(d, "", "%s: cannot read: %s", path, strerror(-r));
                return r;
        }
        r = file_trust_check(fd, &st, path, &state_file_trust, "", d);
        if (r < 0)
                return r;
        if ((uint64_t) st.st_size > STATE_MAX_SIZE) {
                diag_error(d, "", "the state file %s is %jd bytes: a state may be at most %u bytes (16 MiB)",
                           path, (intmax_t) st.st_size, STATE_MAX_SIZE);
                return -EFBIG;
        }
        *ret_fd = TAKE_FD(fd);
        return 0;
}

int state_doc_load(const char *path, StateDoc **ret, Diag *d) {
        _cleanup_(freep) char *buf = NULL;
        _cleanup_(closep) int fd = -EBADF;
        bool in = streq(path, "-");
        const char *origin = in ? "<stdin>" : path;
        size_t len;
        int r;

        if (in) {
                fd = fcntl(STDIN_FILENO, F_DUPFD_CLOEXEC, 3);
                if (fd < 0) {
                        r = negative_errno();
                        diag_error(d, "", "%s: cannot read: %s", origin, strerror(-r));
                        return r;
                }
        } else {
                r = open_state_file(path, &fd, d);
                if (r < 0)
                        return r;
        }
        r = read_fd_bounded(fd, STATE_MAX_SIZE, &buf, &len);
        if (r == -EFBIG)
                diag_error(d, "", "%s has more than %u bytes: a state may be at most %u bytes (16 MiB)",
                           in ? "standard input" : path, STATE_MAX_SIZE, STATE_MAX_SIZE);
        else if (r < 0)
                diag_error(d, "", "%s: cannot read: %s", origin, strerror(-r));
        if (r < 0)
                return r;
        return state_doc_parse(buf, len, origin, ret, d);
}

json_object *state_doc_plugins(const StateDoc *doc) {
        json_object *p = NULL;

        (void) json_object_object_get_ex(doc->root, "plugins", &p);
        return p;
}

json_object *state_doc_section(const StateDoc *doc, const char *plugin) {
        json_object *s = NULL;

        if (!json_object_object_get_ex(state_doc_plugins(doc), plugin, &s))
                return NULL;
        return s;
}

/* Reads the deferred applied state into doc->applied, which is a cache:
 * the document is const to its readers. */
static void load_deferred(const StateDoc *doc) {
        StateDoc *d = (StateDoc *) doc;
        _cleanup_(json_object_putp) json_object *state = NULL;
        json_object *plugins;

        d->applied_deferred = false;
        if (!d->applied_dir || checkpoint_load(d->applied_dir, d->applied_generation, &state) < 0 ||
            !json_object_object_get_ex(state, "plugins", &plugins) ||
            !json_object_is_type(plugins, json_type_object))
                return;
        json_object_put(d->applied);
        d->applied = json_object_get(plugins);
}

json_object *state_doc_applied_section(const StateDoc *doc, const char *plugin) {
        json_object *s = NULL;

        if (doc->applied_deferred)
                load_deferred(doc);
        if (!doc->applied || !json_object_object_get_ex(doc->applied, plugin, &s))
                return NULL;
        return s;
}

bool state_doc_section_kept(const StateDoc *doc, const char *plugin) {
        json_object *s;

        if (doc->applied_deferred)
                return false;   /* the apply replaces every section */
        s = state_doc_applied_section(doc, plugin);

        return s && s == state_doc_section(doc, plugin);
}

int state_doc_set_section(StateDoc *doc, const char *plugin, json_object *section) {
        json_object *plugins = state_doc_plugins(doc);

        if (!section) {
                json_object_object_del(plugins, plugin);
                return 0;
        }
        return json_object_object_add(plugins, plugin, section) < 0 ? -ENOMEM : 0;
}

char *state_section_path(const char *plugin) {
        return json_path_key("plugins", plugin);
}

static const Placeholder *placeholder_of(const char *s, const Placeholder *list) {
        if (!(*s >= 'A' && *s <= 'Z'))
                return NULL; /* placeholders are upper-case words */
        for (const Placeholder *p = list; p->word; p++)
                if (streq(s, p->word))
                        return p;
        return NULL;
}

static size_t scan_placeholders(json_object *o, const ScanAt *at, const Placeholder *list, Diag *d) {
        const Placeholder *p;
        size_t n = 0;

        switch (json_object_get_type(o)) {
        case json_type_string:
                p = placeholder_of(json_object_get_string(o), list);
                if (p) {
                        _cleanup_(freep) char *path = scan_path(at);

                        diag_error(d, path ?: "", "placeholder %s: %s (op-dbus init --set %s=...)",
                                   p->word, p->hint, p->set_key);
                }
                return p ? 1 : 0;
        case json_type_object: {
                json_object_object_foreach(o, key, val)
                        n += scan_placeholders(val, &(ScanAt) { .up = at, .key = key }, list, d);
                return n;
        }
        case json_type_array:
                for (size_t i = 0; i < json_object_array_length(o); i++)
                        n += scan_placeholders(json_object_array_get_idx(o, i), &(ScanAt) { .up = at, .index = i },
                                               list, d);
                return n;
        default:
                return 0;
        }
}

size_t state_doc_check_placeholders(const StateDoc *doc, const Placeholder *list, Diag *d) {
        if (!list)
                return 0;
        return scan_placeholders(state_doc_plugins(doc), &(ScanAt) { .key = "plugins" }, list, d);
}
