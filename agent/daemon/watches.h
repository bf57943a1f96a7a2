/* SPDX-License-Identifier: LGPL-2.1-or-later */
#pragma once

/* Keeping the host converged between applies: the watches the product's
 * plugins offer (PluginVTable.watch, agent/core/plugin.h) and what the
 * daemon does with what they report:
 *  - WATCH_DRIFT: a heal (JOB_HEAL) of the applied state, once no more
 *    drift came for HEAL_DEBOUNCE_USEC; none while nothing is applied;
 *  - WATCH_RESTORE: a restore (JOB_RESTORE) of that plugin, in the scope
 *    it names, at once;
 *  - WATCH_LOST / WATCH_BACK: degraded while any watched service is gone;
 *    when the last one is back, the daemon converges (watches_take_back);
 *  - audits run every interval a watch asks for, unless the daemon is
 *    busy (a job that changes the host is queued or runs) or degraded.
 * No event loop here: the daemon's loop waits for input on watches_fds()
 * and until watches_next(), calls watches_input() and watches_run(), and
 * queues what watches_take_job() hands out. Times are CLOCK_MONOTONIC
 * microseconds, passed in. */

#include <stdbool.h>
#include <stdint.h>

#include "job.h"
#include "plugin.h"
#include "reconcile.h"

#define HEAL_DEBOUNCE_USEC (100 * 1000)

typedef struct WatchEntry {
        const PluginVTable *plugin;
        Watch *watch;
        bool lost;                    /* its service is gone (WATCH_LOST) */
        uint64_t tick_at;             /* when it wants tick(); UINT64_MAX: never */
        uint64_t audit_every;         /* usec; 0: no audit */
        uint64_t audit_at;            /* the next audit */
} WatchEntry;

typedef struct Watches {
        const Product *product;
        const PluginContext *ctx;
        WatchEntry *entries;
        size_t n;
        uint64_t heal_at;             /* a heal is due then; UINT64_MAX: none */
        char *heal_requester;         /* who asked for it */
        Job *jobs;                    /* repairs to queue, in order */
        char *back;                   /* every service is back: why (to converge) */
} Watches;

/* One watch for each plugin of product that offers one. */
int watches_new(const Product *product, const PluginContext *ctx, Watches **ret);
Watches *watches_free(Watches *w);
DEFINE_TRIVIAL_CLEANUP_FUNC(Watches *, watches_free);
/* Starts the watches and arms them from the applied state. */
int watches_start(Watches *w, uint64_t now);
/* The applied state changed: every watch again, from it. */
void watches_arm(Watches *w, uint64_t now);
/* The file descriptors to wait on: up to n into fds; returns how many
 * there are. The set may change after any other call. */
size_t watches_fds(Watches *w, int *fds, size_t n);
/* fd has input. */
void watches_input(Watches *w, int fd, uint64_t now);
/* When watches_run() is due next; UINT64_MAX: never. */
uint64_t watches_next(const Watches *w);
/* Runs what is due at now: the heal, the watches' ticks, the audits.
 * busy: a job that changes the host is queued or runs. */
void watches_run(Watches *w, uint64_t now, bool busy);
/* A heal, after HEAL_DEBOUNCE_USEC (or with the one already due). */
void watches_heal(Watches *w, const char *requester, uint64_t now);
/* Whether a watched service is gone. */
bool watches_degraded(const Watches *w);
/* The next repair to queue (the caller owns it), NULL when none. */
Job *watches_take_job(Watches *w);
/* Why the daemon is to converge, once every service is back (the caller
 * frees it); NULL when not. */
char *watches_take_back(Watches *w);
