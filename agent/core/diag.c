/* SPDX-License-Identifier: LGPL-2.1-or-later */
#include <stdarg.h>
#include <stdio.h>

#include "diag.h"

static const char *const diag_level_table[_DIAG_LEVEL_MAX] = {
        [DIAG_ERROR] = "error",
        [DIAG_WARNING] = "warning",
        [DIAG_NOTE] = "note",
};

const char *diag_level_to_string(DiagLevel l) {
        if (l < 0 || l >= _DIAG_LEVEL_MAX)
                return NULL;
        return diag_level_table[l];
}

void diag_done(Diag *d) {
        if (!d)
                return;
        for (size_t i = 0; i < d->n_entries; i++) {
                free(d->entries[i].path);
                free(d->entries[i].message);
        }
        free(d->entries);
        *d = (Diag) {};
}

/* A path or message is one line of text: what it quotes from a state (a
 * key, a value) or from a tool's output may hold line breaks, escape
 * sequences or other control characters, which would forge or garble the
 * lines around it. Line breaks and tabs become spaces, the rest '?'. */
static void make_printable(char *s) {
        for (; *s; s++)
                if (*s == '\n' || *s == '\r' || *s == '\t')
                        *s = ' ';
                else if ((unsigned char) *s < 0x20 || *s == 0x7f)
                        *s = '?';
}

int diag_addv(Diag *d, DiagLevel level, const char *path, const char *fmt, va_list ap) {
        _cleanup_(freep) char *p = NULL, *m = NULL;
        int r;

        if (!d)
                return 0;

        p = strdup(path ?: "");
        if (!p || vasprintf(&m, fmt, ap) < 0)
                return -ENOMEM;
        make_printable(p);
        make_printable(m);

        r = greedy_realloc((void **) &d->entries, &d->allocated, d->n_entries + 1, sizeof(DiagEntry));
        if (r < 0)
                return r;

        d->entries[d->n_entries++] = (DiagEntry) {
                .level = level,
                .path = TAKE_PTR(p),
                .message = TAKE_PTR(m),
        };
        return 0;
}

int diag_add(Diag *d, DiagLevel level, const char *path, const char *fmt, ...) {
        va_list ap;
        int r;

        va_start(ap, fmt);
        r = diag_addv(d, level, path, fmt, ap);
        va_end(ap);
        return r;
}

size_t diag_count(const Diag *d, DiagLevel level) {
        size_t n = 0;

        for (size_t i = 0; d && i < d->n_entries; i++)
                if (d->entries[i].level == level)
                        n++;
        return n;
}

int diag_move(Diag *dst, Diag *src) {
        int r;

        r = greedy_realloc((void **) &dst->entries, &dst->allocated,
                           dst->n_entries + src->n_entries, sizeof(DiagEntry));
        if (r < 0)
                return r;

        if (src->n_entries > 0) /* both may be NULL when empty */
                memcpy(dst->entries + dst->n_entries, src->entries, src->n_entries * sizeof(DiagEntry));
        dst->n_entries += src->n_entries;
        free(src->entries);
        *src = (Diag) {};
        return 0;
}

char *diag_entry_format(const DiagEntry *e) {
        char *s;

        if (!e->path || !e->path[0])
                return strdup(e->message);
        if (asprintf(&s, "%s: %s", e->path, e->message) < 0)
                return NULL;
        return s;
}

json_object *diag_to_json(const Diag *d, DiagLevel level) {
        json_object *a = json_object_new_array();

        if (!a)
                return NULL;

        for (size_t i = 0; d && i < d->n_entries; i++) {
                _cleanup_(freep) char *s = NULL;

                if (d->entries[i].level != level)
                        continue;
                s = diag_entry_format(&d->entries[i]);
                if (!s || json_object_array_add(a, json_object_new_string(s)) < 0) {
                        json_object_put(a);
                        return NULL;
                }
        }
        return a;
}

void diag_print(const Diag *d, FILE *f, const char *prefix) {
        for (size_t i = 0; d && i < d->n_entries; i++) {
                _cleanup_(freep) char *s = diag_entry_format(&d->entries[i]);

                fprintf(f, "%s%s: %s\n", prefix ?: "",
                        diag_level_to_string(d->entries[i].level), s ?: "(out of memory)");
        }
}
