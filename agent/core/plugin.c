/* SPDX-License-Identifier: LGPL-2.1-or-later */
#include <stdarg.h>
#include <stdio.h>

#include "plugin.h"

void plugin_progress(const Plugin *p, const char *fmt, ...) {
        va_list ap;
        char *what;
        int r;

        if (!p->ctx || !p->ctx->progress)
                return;
        va_start(ap, fmt);
        r = vasprintf(&what, fmt, ap);
        va_end(ap);
        if (r < 0)
                return;
        p->ctx->progress(p->ctx->progress_userdata, p->vtable->name, what);
        free(what);
}

int plugin_new(const PluginVTable *vt, const PluginContext *ctx, Plugin **ret) {
        Plugin *p;

        if (vt->object_size < sizeof(Plugin))
                return -EINVAL;
        p = calloc(1, vt->object_size);
        if (!p)
                return -ENOMEM;
        p->vtable = vt;
        p->ctx = ctx;
        *ret = p;
        return 0;
}

Plugin *plugin_free(Plugin *p) {
        if (!p)
                return NULL;
        if (p->vtable->done)
                p->vtable->done(p);
        free(p);
        return NULL;
}

WatchEvent *watch_events_add(WatchEvents *e, WatchEventKind kind, const char *scope, const char *fmt, ...) {
        _cleanup_(freep) char *text = NULL, *s = NULL;
        WatchEvent *events;
        va_list ap;
        int r;

        va_start(ap, fmt);
        r = vasprintf(&text, fmt, ap);
        va_end(ap);
        if (r < 0) {
                text = NULL;
                return NULL;
        }
        if (scope && !(s = strdup(scope)))
                return NULL;
        events = reallocarray(e->events, e->n + 1, sizeof(WatchEvent));
        if (!events)
                return NULL;
        e->events = events;
        events[e->n] = (WatchEvent) { .kind = kind, .scope = TAKE_PTR(s), .text = TAKE_PTR(text) };
        return &events[e->n++];
}

void watch_events_done(WatchEvents *e) {
        for (size_t i = 0; i < e->n; i++) {
                free(e->events[i].scope);
                free(e->events[i].text);
        }
        free(e->events);
        *e = (WatchEvents) {};
}

int watch_new(const WatchVTable *vt, const PluginContext *ctx, Watch **ret) {
        Watch *w;

        if (vt->object_size < sizeof(Watch))
                return -EINVAL;
        w = calloc(1, vt->object_size);
        if (!w)
                return -ENOMEM;
        w->vtable = vt;
        w->ctx = ctx;
        *ret = w;
        return 0;
}

Watch *watch_free(Watch *w) {
        if (!w)
                return NULL;
        if (w->vtable->done)
                w->vtable->done(w);
        free(w);
        return NULL;
}

static ssize_t index_of(const PluginVTable *const *v, size_t n, const char *name) {
        for (size_t i = 0; i < n; i++)
                if (streq(v[i]->name, name))
                        return (ssize_t) i;
        return -1;
}

/* Depth-first visit: mark 1 = in progress, 2 = done. */
static int visit(const PluginVTable *const *v, size_t n, size_t i, int *mark,
                 const PluginVTable **out, size_t *n_out) {
        int r;

        if (mark[i] == 2)
                return 0;
        if (mark[i] == 1)
                return -ELOOP;
        mark[i] = 1;

        for (const char *const *a = v[i]->after; a && *a; a++) {
                ssize_t j = index_of(v, n, *a);

                if (j < 0)
                        continue; /* optional dependency not built in */
                r = visit(v, n, (size_t) j, mark, out, n_out);
                if (r < 0)
                        return r;
        }

        mark[i] = 2;
        out[(*n_out)++] = v[i];
        return 0;
}

int plugin_registry_init(PluginRegistry *reg, const PluginVTable *const *vtables, size_t n) {
        _cleanup_(freep) int *mark = NULL;
        _cleanup_(freep) const PluginVTable **out = NULL;
        size_t n_out = 0;
        int r;

        mark = calloc(n + 1, sizeof(int));
        out = calloc(n + 1, sizeof(PluginVTable *));
        if (!mark || !out)
                return -ENOMEM;

        for (size_t i = 0; i < n; i++) {
                if (index_of(vtables, i, vtables[i]->name) >= 0)
                        return -EEXIST;
                r = visit(vtables, n, i, mark, out, &n_out);
                if (r < 0)
                        return r;
        }

        reg->sorted = TAKE_PTR(out);
        reg->n = n_out;
        return 0;
}

void plugin_registry_done(PluginRegistry *reg) {
        free(reg->sorted);
        *reg = (PluginRegistry) {};
}

const PluginVTable *plugin_registry_find(const PluginRegistry *reg, const char *name) {
        for (size_t i = 0; i < reg->n; i++)
                if (streq(reg->sorted[i]->name, name))
                        return reg->sorted[i];
        return NULL;
}

char *plugin_registry_names(const PluginRegistry *reg) {
        size_t len = 1;
        char *s, *p;

        for (size_t i = 0; i < reg->n; i++)
                len += strlen(reg->sorted[i]->name) + 2;
        s = p = malloc(len);
        if (!s)
                return NULL;
        *p = 0;
        for (size_t i = 0; i < reg->n; i++)
                p = stpcpy(stpcpy(p, i ? ", " : ""), reg->sorted[i]->name);
        return s;
}
