/* SPDX-License-Identifier: LGPL-2.1-or-later */
#include <dirent.h>
#include <fcntl.h>
#include <inttypes.h>
#include <stdio.h>
#include <sys/stat.h>
#include <sys/statvfs.h>
#include <time.h>

#include "hash.h"
#include "checkpoint.h"
#include "fileio.h"
#include "json-util.h"

#define CHECKPOINT_PREFIX "gen-"
#define CHECKPOINT_SUFFIX ".json"

static char *checkpoint_dir(const char *state_dir) {
        char *s;

        if (asprintf(&s, "%s/checkpoints", state_dir) < 0)
                return NULL;
        return s;
}

static char *checkpoint_path(const char *state_dir, uint64_t generation) {
        char *s;

        if (asprintf(&s, "%s/checkpoints/" CHECKPOINT_PREFIX "%020" PRIu64 CHECKPOINT_SUFFIX,
                     state_dir, generation) < 0)
                return NULL;
        return s;
}

void checkpoint_info_array_free(CheckpointInfo *a, size_t n) {
        for (size_t i = 0; i < n; i++) {
                free(a[i].created);
                free(a[i].path);
                json_object_put(a[i].record);
        }
        free(a);
}

static int parse_name(const char *name, uint64_t *ret) {
        size_t len = strlen(name);
        char *end;
        unsigned long long g;

        if (!startswith(name, CHECKPOINT_PREFIX) || len <= strlen(CHECKPOINT_PREFIX CHECKPOINT_SUFFIX) ||
            !streq(name + len - strlen(CHECKPOINT_SUFFIX), CHECKPOINT_SUFFIX))
                return -EINVAL;
        errno = 0;
        g = strtoull(name + strlen(CHECKPOINT_PREFIX), &end, 10);
        if (errno != 0 || !streq(end, CHECKPOINT_SUFFIX))
                return -EINVAL;
        *ret = g;
        return 0;
}

static int cmp_generation(const void *a, const void *b) {
        uint64_t x = *(const uint64_t *) a, y = *(const uint64_t *) b;

        return x < y ? -1 : x > y;
}

/* Sorted generations present on disk. */
static int list_generations(const char *state_dir, uint64_t **ret, size_t *ret_n) {
        _cleanup_(freep) char *dir = checkpoint_dir(state_dir);
        _cleanup_(freep) uint64_t *gens = NULL;
        size_t n = 0, allocated = 0;
        DIR *d;
        struct dirent *de;
        int r = 0;

        if (!dir)
                return -ENOMEM;
        d = opendir(dir);
        if (!d) {
                if (errno != ENOENT)
                        return negative_errno();
        } else {
                while ((de = readdir(d))) {
                        uint64_t g;

                        if (parse_name(de->d_name, &g) < 0)
                                continue;
                        r = greedy_realloc((void **) &gens, &allocated, n + 1, sizeof(uint64_t));
                        if (r < 0)
                                break;
                        gens[n++] = g;
                }
                closedir(d);
                if (r < 0)
                        return r;
        }
        if (n > 0)
                qsort(gens, n, sizeof(uint64_t), cmp_generation);
        *ret = TAKE_PTR(gens);
        *ret_n = n;
        return 0;
}

int checkpoint_prune(const char *state_dir, unsigned keep) {
        _cleanup_(freep) uint64_t *gens = NULL;
        size_t n;
        int r, ret = 0;

        r = list_generations(state_dir, &gens, &n);
        if (r < 0)
                return r;
        for (size_t i = 0; i + keep < n; i++) {
                _cleanup_(freep) char *p = checkpoint_path(state_dir, gens[i]);

                if (!p)
                        return -ENOMEM;
                if (unlink(p) < 0 && errno != ENOENT)
                        RET_GATHER(ret, negative_errno());
        }
        return ret;
}

static char *pending_path(const char *state_dir) {
        char *s;

        if (asprintf(&s, "%s/checkpoints/pending.json", state_dir) < 0)
                return NULL;
        return s;
}

/* Hashes the tree itself rather than its serialisation: a 1.5 MB state
 * is not turned into text just to be hashed. Every value is preceded by
 * its type, strings and keys by their length, so different trees do not
 * run together. */
static uint64_t hash_json(uint64_t h, json_object *o) {
        json_type t = json_object_get_type(o);
        uint8_t tag = (uint8_t) t;

        h = hash64_update(h, &tag, 1);
        switch (t) {
        case json_type_object: {
                json_object_object_foreach(o, key, val) {
                        size_t n = strlen(key);

                        h = hash64_update(h, &n, sizeof n);
                        h = hash64_update(h, key, n);
                        h = hash_json(h, val);
                }
                return h;
        }
        case json_type_array:
                for (size_t i = 0, n = json_object_array_length(o); i < n; i++)
                        h = hash_json(h, json_object_array_get_idx(o, i));
                return h;
        case json_type_string: {
                size_t n = (size_t) json_object_get_string_len(o);

                h = hash64_update(h, &n, sizeof n);
                return hash64_update(h, json_object_get_string(o), n);
        }
        case json_type_int: {
                /* Both readings: json-c keeps values above INT64_MAX as uint64. */
                int64_t i = json_object_get_int64(o);
                uint64_t u = json_object_get_uint64(o);

                h = hash64_update(h, &i, sizeof i);
                return hash64_update(h, &u, sizeof u);
        }
        case json_type_double: {
                double v = json_object_get_double(o);

                return hash64_update(h, &v, sizeof v);
        }
        case json_type_boolean:
                tag = (uint8_t) json_object_get_boolean(o);
                return hash64_update(h, &tag, 1);
        default:
                return h;
        }
}

uint64_t checkpoint_digest(json_object *state) {
        return hash_json(HASH64_INIT, state);
}

/* The names of the state's plugin sections, as a JSON array on one line. */
static char *section_names(json_object *state) {
        _cleanup_(json_object_putp) json_object *names = json_object_new_array();
        json_object *plugins;

        if (!names)
                return NULL;
        if (json_object_object_get_ex(state, "plugins", &plugins) && json_object_is_type(plugins, json_type_object)) {
                json_object_object_foreach(plugins, key, value) {
                        (void) value;
                        if (json_object_array_add(names, json_object_new_string(key)) < 0)
                                return NULL;
                }
        }
        return strdup(json_object_to_json_string_ext(names, JSON_C_TO_STRING_PLAIN));
}

/* The file of a checkpoint: written by hand so the digest and the names of
 * the sections come first and can be read alone. */
static char *checkpoint_body(uint64_t generation, json_object *state, json_object *record) {
        _cleanup_(freep) char *text = NULL, *sections = NULL, *rec = NULL;
        char created[32], *body;
        time_t t = time(NULL);
        struct tm tm;

        strftime(created, sizeof created, "%Y-%m-%dT%H:%M:%SZ", gmtime_r(&t, &tm));
        text = json_to_string_pretty(state);
        sections = section_names(state);
        if (record && asprintf(&rec, "  \"record\": %s,\n",
                               json_object_to_json_string_ext(record, JSON_C_TO_STRING_PLAIN)) < 0)
                return NULL;
        if (!text || !sections)
                return NULL;
        if (asprintf(&body, "{\n  \"generation\": %" PRIu64 ",\n  \"created\": \"%s\",\n"
                     "  \"digest\": \"%016" PRIx64 "\",\n  \"sections\": %s,\n%s  \"state\": %s\n}\n",
                     generation, created, checkpoint_digest(state), sections, rec ?: "", text) < 0)
                return NULL;
        return body;
}

int checkpoint_prepare(const char *state_dir, uint64_t generation, json_object *state, json_object *record,
                       uint64_t *ret_free, uint64_t *ret_needed) {
        _cleanup_(freep) char *dir = checkpoint_dir(state_dir), *path = pending_path(state_dir), *body = NULL;
        struct statvfs sv;
        uint64_t avail;
        int r;

        body = checkpoint_body(generation, state, record);
        if (!dir || !path || !body)
                return -ENOMEM;
        r = mkdir_p(dir, 0700);
        if (r < 0)
                return r;
        /* The pending checkpoint replaced below counts as free. */
        *ret_needed = strlen(body) + CHECKPOINT_MARGIN;
        if (statvfs(dir, &sv) < 0)
                return negative_errno();
        avail = (uint64_t) sv.f_bavail * sv.f_frsize;
        *ret_free = avail;
        if (avail < *ret_needed) {
                struct stat st;

                if (stat(path, &st) < 0 || avail + (uint64_t) st.st_size < *ret_needed)
                        return -ENOSPC;
        }
        return write_file_atomic(path, body, strlen(body), 0600);
}

int checkpoint_commit(const char *state_dir, uint64_t generation) {
        _cleanup_(freep) char *from = pending_path(state_dir), *to = checkpoint_path(state_dir, generation);
        _cleanup_(closep) int dfd = -EBADF;
        _cleanup_(freep) char *dir = checkpoint_dir(state_dir);

        if (!from || !to || !dir)
                return -ENOMEM;
        if (rename(from, to) < 0)
                return negative_errno();
        dfd = open(dir, O_RDONLY | O_DIRECTORY | O_CLOEXEC);
        if (dfd < 0 || fsync(dfd) < 0)
                return negative_errno();
        return 0;
}

void checkpoint_discard(const char *state_dir) {
        _cleanup_(freep) char *path = pending_path(state_dir);

        if (path)
                (void) unlink(path);
}

int checkpoint_save(const char *state_dir, uint64_t generation, json_object *state, json_object *record,
                    unsigned keep) {
        uint64_t avail, needed;
        int r;

        r = checkpoint_prepare(state_dir, generation, state, record, &avail, &needed);
        if (r >= 0)
                r = checkpoint_commit(state_dir, generation);
        if (r < 0) {
                checkpoint_discard(state_dir);
                return r;
        }
        return checkpoint_prune(state_dir, MAX(keep, 1u));
}

/* The first size - 1 bytes of a generation's file, NUL-terminated: what
 * is written before the state (generation, digest, sections). */
static int read_head(const char *state_dir, uint64_t generation, char *head, size_t size) {
        _cleanup_(freep) char *path = checkpoint_path(state_dir, generation);
        _cleanup_(closep) int fd = -EBADF;
        ssize_t n;

        if (!path)
                return -ENOMEM;
        fd = open(path, O_RDONLY | O_CLOEXEC);
        if (fd < 0)
                return negative_errno();
        n = read(fd, head, size - 1);
        if (n < 0)
                return negative_errno();
        head[n] = 0;
        return 0;
}

int checkpoint_load_digest(const char *state_dir, uint64_t generation, uint64_t *ret) {
        char head[512];
        const char *p;
        unsigned long long v;
        int r;

        r = read_head(state_dir, generation, head, sizeof head);
        if (r < 0)
                return r;
        p = strstr(head, "\"digest\": \"");
        if (!p || sscanf(p + strlen("\"digest\": \""), "%16llx", &v) != 1)
                return -EBADMSG;
        *ret = v;
        return 0;
}

int checkpoint_load_sections(const char *state_dir, uint64_t generation, json_object **ret) {
        _cleanup_(diag_done) Diag d = {};
        json_object *names = NULL;
        char head[4096];
        const char *p, *end;
        int r;

        r = read_head(state_dir, generation, head, sizeof head);
        if (r < 0)
                return r;
        p = strstr(head, "\n  \"sections\": ");
        if (!p || !(p = strchr(p, '[')) || !(end = strchr(p, '\n')))
                return -EBADMSG;      /* an older checkpoint, or names too long to read alone */
        if (end[-1] == ',')
                end--;
        if (json_parse_located(p, (size_t) (end - p), "checkpoint", &names, &d) < 0 ||
            !json_object_is_type(names, json_type_array)) {
                json_object_put(names);
                return -EBADMSG;
        }
        *ret = names;
        return 0;
}

/* Read as strictly as a state file: a checkpoint's state is applied. */
static int load_file(const char *path, json_object **ret) {
        _cleanup_(freep) char *buf = NULL;
        _cleanup_(diag_done) Diag d = {};
        json_object *o = NULL;
        size_t len;
        int r;

        r = read_full_file(path, &buf, &len);
        if (r < 0)
                return r;
        r = json_parse_located(buf, len, path, &o, &d);
        if (r < 0 || !json_object_is_type(o, json_type_object)) {
                json_object_put(o);
                return -EBADMSG;
        }
        *ret = o;
        return 0;
}

int checkpoint_list(const char *state_dir, CheckpointInfo **ret, size_t *ret_n) {
        _cleanup_(freep) uint64_t *gens = NULL;
        CheckpointInfo *a;
        size_t n;
        int r;

        r = list_generations(state_dir, &gens, &n);
        if (r < 0)
                return r;
        a = calloc(n + 1, sizeof(CheckpointInfo));
        if (!a)
                return -ENOMEM;

        for (size_t i = 0; i < n; i++) {
                _cleanup_(json_object_putp) json_object *o = NULL;
                json_object *c;

                a[i].generation = gens[i];
                a[i].path = checkpoint_path(state_dir, gens[i]);
                if (!a[i].path) {
                        checkpoint_info_array_free(a, n);
                        return -ENOMEM;
                }
                if (load_file(a[i].path, &o) < 0)
                        continue;
                if (json_object_object_get_ex(o, "created", &c))
                        a[i].created = strdup_or_null(json_object_get_string(c));
                if (json_object_object_get_ex(o, "record", &c) && json_object_is_type(c, json_type_object))
                        a[i].record = json_object_get(c);
        }
        *ret = a;
        *ret_n = n;
        return 0;
}

int checkpoint_list_json(const char *state_dir, json_object **ret) {
        _cleanup_(json_object_putp) json_object *a = json_object_new_array();
        CheckpointInfo *list = NULL;
        size_t n = 0;
        int r;

        if (!a)
                return -ENOMEM;
        r = checkpoint_list(state_dir, &list, &n);
        if (r < 0)
                return r;
        for (size_t i = 0; i < n; i++) {
                json_object *o = json_object_new_object();

                json_object_object_add(o, "generation", json_object_new_int64((int64_t) list[i].generation));
                json_object_object_add(o, "created", json_object_new_string(strna(list[i].created)));
                json_object_object_add(o, "path", json_object_new_string(list[i].path));
                if (list[i].record)
                        json_object_object_add(o, "record", json_object_get(list[i].record));
                json_object_array_add(a, o);
        }
        checkpoint_info_array_free(list, n);
        *ret = TAKE_PTR(a);
        return 0;
}

/* A checkpoint file: its object, and its state (borrowed from it). */
static int load_checkpoint_file(const char *path, json_object **ret, json_object **ret_state) {
        json_object *o = NULL, *s;
        int r;

        if (!path)
                return -ENOMEM;
        r = load_file(path, &o);
        if (r < 0)
                return r;
        if (!json_object_object_get_ex(o, "state", &s) || !json_object_is_type(s, json_type_object)) {
                json_object_put(o);
                return -EBADMSG;
        }
        *ret = o;
        *ret_state = s;
        return 0;
}

int checkpoint_load(const char *state_dir, uint64_t generation, json_object **ret_state) {
        _cleanup_(freep) char *path = checkpoint_path(state_dir, generation);
        _cleanup_(json_object_putp) json_object *o = NULL;
        json_object *s;
        int r;

        r = load_checkpoint_file(path, &o, &s);
        if (r < 0)
                return r;
        *ret_state = json_object_get(s);
        return 0;
}

int checkpoint_load_pending(const char *state_dir, uint64_t *ret_generation, json_object **ret_state) {
        _cleanup_(freep) char *path = pending_path(state_dir);
        _cleanup_(json_object_putp) json_object *o = NULL;
        json_object *s, *g;
        int r;

        r = load_checkpoint_file(path, &o, &s);
        if (r < 0)
                return r;
        if (!json_object_object_get_ex(o, "generation", &g) || !json_object_is_type(g, json_type_int))
                return -EBADMSG;
        *ret_generation = json_object_get_uint64(g);
        *ret_state = json_object_get(s);
        return 0;
}

int checkpoint_latest(const char *state_dir, uint64_t *ret_generation) {
        _cleanup_(freep) uint64_t *gens = NULL;
        size_t n;
        int r;

        r = list_generations(state_dir, &gens, &n);
        if (r < 0)
                return r;
        *ret_generation = n > 0 ? gens[n - 1] : 0;
        return 0;
}
