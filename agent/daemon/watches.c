/* SPDX-License-Identifier: LGPL-2.1-or-later */
#include <stdio.h>

#include "checkpoint.h"
#include "json-util.h"
#include "log.h"
#include "watches.h"

#define NEVER UINT64_MAX

int watches_new(const Product *product, const PluginContext *ctx, Watches **ret) {
        _cleanup_(watches_freep) Watches *w = calloc(1, sizeof(Watches));
        int r;

        if (!w)
                return -ENOMEM;
        w->product = product;
        w->ctx = ctx;
        w->heal_at = NEVER;
        w->entries = calloc(product->n_plugins, sizeof(WatchEntry));
        if (!w->entries && product->n_plugins > 0)
                return -ENOMEM;
        for (size_t i = 0; i < product->n_plugins; i++) {
                const PluginVTable *vt = product->plugins[i];
                WatchEntry *e = &w->entries[w->n];

                if (!vt->watch)
                        continue;
                *e = (WatchEntry) { .plugin = vt, .tick_at = NEVER };
                r = watch_new(vt->watch, ctx, &e->watch);
                if (r < 0)
                        return r;
                w->n++;
        }
        *ret = TAKE_PTR(w);
        return 0;
}

Watches *watches_free(Watches *w) {
        if (!w)
                return NULL;
        for (size_t i = 0; i < w->n; i++)
                watch_free(w->entries[i].watch);
        free(w->entries);
        free(w->heal_requester);
        job_free_list(w->jobs);
        free(w->back);
        free(w);
        return NULL;
}

bool watches_degraded(const Watches *w) {
        for (size_t i = 0; i < w->n; i++)
                if (w->entries[i].lost)
                        return true;
        return false;
}

void watches_heal(Watches *w, const char *requester, uint64_t now) {
        if (w->heal_at != NEVER)
                return; /* one heal for every change until it runs */
        free(w->heal_requester);
        w->heal_requester = strdup(requester);
        w->heal_at = now + HEAL_DEBOUNCE_USEC;
}

static void add_job(Watches *w, Job *j) {
        Job **tail = &w->jobs;

        if (!j) {
                log_error_errno(-ENOMEM, "Out of memory, a repair is lost.");
                return;
        }
        while (*tail)
                tail = &(*tail)->next;
        *tail = j;
}

static void restore(Watches *w, WatchEntry *e, const WatchEvent *ev, const char *requester) {
        Job *j = job_new_restore(w->product, e->plugin->name, ev->scope);

        if (j) {
                j->automatic = true;
                if (!(j->requester = strdup(requester)))
                        j = job_free(j);
        }
        add_job(w, j);
}

static void lost(Watches *w, WatchEntry *e, const WatchEvent *ev) {
        if (e->lost)
                return;
        if (!watches_degraded(w))
                log_warning_errno(ev->error, "%s (%m); degraded until it is back.", ev->text);
        e->lost = true;
}

static void back(Watches *w, WatchEntry *e, const WatchEvent *ev) {
        if (!e->lost)
                return;
        e->lost = false;
        if (watches_degraded(w))
                return;
        log_notice("%s; converging.", ev->text);
        free(w->back);
        w->back = strdup(ev->text);
}

/* What the watch of e reported; audit: it was its audit. */
static void handle(Watches *w, WatchEntry *e, WatchEvents *events, bool audit, uint64_t now) {
        for (size_t i = 0; i < events->n; i++) {
                const WatchEvent *ev = &events->events[i];
                _cleanup_(freep) char *requester = NULL;

                switch (ev->kind) {
                case WATCH_DRIFT:
                        if (audit)
                                watches_heal(w, e->watch->vtable->audit_name, now);
                        else if (asprintf(&requester, "drift repair (%s)", ev->text) >= 0)
                                watches_heal(w, requester, now);
                        break;
                case WATCH_RESTORE:
                        restore(w, e, ev, audit ? e->watch->vtable->audit_name : ev->text);
                        break;
                case WATCH_LOST:
                        lost(w, e, ev);
                        break;
                case WATCH_BACK:
                        back(w, e, ev);
                        break;
                case WATCH_LOG:
                        log_full_errno(ev->level, 0, "%s", ev->text);
                        break;
                default:
                        break;
                }
        }
        watch_events_done(events);
        if (e->watch->vtable->timeout_ms && e->watch->vtable->tick) {
                int ms = e->watch->vtable->timeout_ms(e->watch);

                e->tick_at = ms < 0 ? NEVER : now + (uint64_t) ms * 1000;
        }
}

/* The applied state, for arming; NULL when nothing is applied. */
static StateDoc *applied_state(const Watches *w) {
        _cleanup_(json_object_putp) json_object *state = NULL;
        _cleanup_(diag_done) Diag d = {};
        StateDoc *doc = NULL;
        uint64_t latest = 0;

        if (checkpoint_latest(w->ctx->state_dir, &latest) < 0 || latest == 0 ||
            checkpoint_load(w->ctx->state_dir, latest, &state) < 0 ||
            state_doc_from_json(TAKE_PTR(state), "applied state", &doc, &d) < 0)
                return NULL;
        return doc;
}

static void arm_one(Watches *w, WatchEntry *e, const StateDoc *doc, uint64_t now) {
        _cleanup_(plugin_freep) Plugin *p = NULL;
        _cleanup_(diag_done) Diag d = {};
        WatchEvents events = {};
        int r = -ENOENT;

        if (!e->watch->vtable->arm)
                return;
        if (doc && plugin_new(e->plugin, w->ctx, &p) >= 0)
                r = e->plugin->parse(p, doc, state_doc_section(doc, e->plugin->name), &d);
        if (r < 0 && r != -ENOENT)
                log_debug("The applied state's %s section does not parse, not watched (%s).", e->plugin->name,
                          d.n_entries > 0 ? d.entries[0].message : strerror(-r));
        r = e->watch->vtable->arm(e->watch, r > 0 ? p : NULL, &events);
        if (r < 0)
                log_warning_errno(r, "Cannot watch %s, ignoring: %m", e->plugin->name);
        handle(w, e, &events, false, now);
}

void watches_arm(Watches *w, uint64_t now) {
        _cleanup_(state_doc_freep) StateDoc *doc = applied_state(w);

        for (size_t i = 0; i < w->n; i++)
                arm_one(w, &w->entries[i], doc, now);
}

int watches_start(Watches *w, uint64_t now) {
        for (size_t i = 0; i < w->n; i++) {
                WatchEntry *e = &w->entries[i];
                const WatchVTable *vt = e->watch->vtable;
                WatchEvents events = {};
                int r;

                if (vt->start) {
                        r = vt->start(e->watch, &events);
                        handle(w, e, &events, false, now);
                        if (r < 0)
                                return log_error_errno(r, "Cannot watch %s: %m", e->plugin->name);
                }
                e->audit_every = vt->audit && vt->audit_interval_ms ?
                                 (uint64_t) vt->audit_interval_ms(e->watch) * 1000 : 0;
                e->audit_at = e->audit_every > 0 ? now + e->audit_every : NEVER;
        }
        watches_arm(w, now);
        return 0;
}

size_t watches_fds(Watches *w, int *fds, size_t n) {
        size_t total = 0;

        for (size_t i = 0; i < w->n; i++) {
                const WatchVTable *vt = w->entries[i].watch->vtable;

                if (vt->fds)
                        total += vt->fds(w->entries[i].watch, total < n ? fds + total : NULL,
                                         total < n ? n - total : 0);
        }
        return total;
}

/* The watch fd belongs to. */
static WatchEntry *owner(Watches *w, int fd) {
        for (size_t i = 0; i < w->n; i++) {
                const WatchVTable *vt = w->entries[i].watch->vtable;
                _cleanup_(freep) int *mine = NULL;
                size_t n;

                if (!vt->fds || (n = vt->fds(w->entries[i].watch, NULL, 0)) == 0)
                        continue;
                mine = calloc(n, sizeof(int));
                if (!mine)
                        return NULL;
                n = MIN(n, vt->fds(w->entries[i].watch, mine, n));
                for (size_t j = 0; j < n; j++)
                        if (mine[j] == fd)
                                return &w->entries[i];
        }
        return NULL;
}

void watches_input(Watches *w, int fd, uint64_t now) {
        WatchEntry *e = owner(w, fd);
        WatchEvents events = {};

        if (!e || !e->watch->vtable->input)
                return;
        e->watch->vtable->input(e->watch, fd, &events);
        handle(w, e, &events, false, now);
}

uint64_t watches_next(const Watches *w) {
        uint64_t next = w->heal_at;

        for (size_t i = 0; i < w->n; i++)
                next = MIN(next, MIN(w->entries[i].tick_at, w->entries[i].audit_at));
        return next;
}

static void run_heal(Watches *w) {
        _cleanup_(freep) char *requester = TAKE_PTR(w->heal_requester);
        uint64_t latest = 0;

        w->heal_at = NEVER;
        if (checkpoint_latest(w->ctx->state_dir, &latest) < 0 || latest == 0)
                return; /* nothing applied yet: nothing can drift */
        add_job(w, job_new_automatic(JOB_HEAL, requester ?: "drift repair"));
}

void watches_run(Watches *w, uint64_t now, bool busy) {
        for (size_t i = 0; i < w->n; i++) {
                WatchEntry *e = &w->entries[i];
                WatchEvents events = {};

                if (e->tick_at <= now && e->watch->vtable->tick) {
                        e->watch->vtable->tick(e->watch, busy, &events);
                        handle(w, e, &events, false, now);
                }
                if (e->audit_at <= now) {
                        e->audit_at = now + e->audit_every;
                        if (busy || watches_degraded(w))
                                continue;
                        e->watch->vtable->audit(e->watch, &events);
                        handle(w, e, &events, true, now);
                }
        }
        if (w->heal_at <= now)
                run_heal(w);
}

Job *watches_take_job(Watches *w) {
        Job *j = w->jobs;

        if (j) {
                w->jobs = j->next;
                j->next = NULL;
        }
        return j;
}

char *watches_take_back(Watches *w) {
        return TAKE_PTR(w->back);
}
