/* SPDX-License-Identifier: LGPL-2.1-or-later */
/* The plugins' watches in the sd-event loop (what they report and what
 * the daemon does with it: watches.c): an I/O source for each file
 * descriptor they wait on, one timer for whatever is due next, and after
 * every call into them, the repairs they asked for queued and the status
 * updated. */
#include "fileio.h"
#include "log.h"
#include "manager.h"

static void sync_watches(Manager *m);

static int on_watch_io(sd_event_source *s, int fd, uint32_t revents, void *userdata) {
        Manager *m = userdata;

        watches_input(m->watches, fd, now_usec());
        sync_watches(m);
        return 0;
}

static int on_watch_timer(sd_event_source *s, uint64_t usec, void *userdata) {
        Manager *m = userdata;

        watches_run(m->watches, now_usec(), m->jobs_running > 0);
        sync_watches(m);
        return 0;
}

static void free_sources(Manager *m) {
        for (size_t i = 0; i < m->n_watch_sources; i++)
                sd_event_source_disable_unref(m->watch_sources[i]);
        free(m->watch_sources);
        m->watch_sources = NULL;
        m->n_watch_sources = 0;
}

/* An I/O source for each file descriptor the watches wait on now. They
 * are made anew each time: a watch may have closed a descriptor and
 * opened another under the same number. */
static int sync_sources(Manager *m) {
        _cleanup_(freep) int *fds = NULL;
        size_t n;
        int r;

        free_sources(m);
        n = watches_fds(m->watches, NULL, 0);
        if (n == 0)
                return 0;
        fds = calloc(n, sizeof(int));
        m->watch_sources = calloc(n, sizeof(sd_event_source *));
        if (!fds || !m->watch_sources)
                return -ENOMEM;
        n = MIN(n, watches_fds(m->watches, fds, n));
        for (size_t i = 0; i < n; i++) {
                r = sd_event_add_io(m->event, &m->watch_sources[m->n_watch_sources], fds[i], EPOLLIN,
                                    on_watch_io, m);
                if (r < 0)
                        return r;
                m->n_watch_sources++;
        }
        return 0;
}

/* The timer, at what is due next. A timer already set to that time is
 * left alone: setting it again would take back that it is due. */
static int sync_timer(Manager *m) {
        uint64_t next = watches_next(m->watches), current = 0;
        int r, enabled = SD_EVENT_OFF;

        if (next == UINT64_MAX)
                return m->watch_timer ? sd_event_source_set_enabled(m->watch_timer, SD_EVENT_OFF) : 0;
        if (!m->watch_timer)
                return sd_event_add_time(m->event, &m->watch_timer, CLOCK_MONOTONIC, next, 0, on_watch_timer, m);
        if (sd_event_source_get_time(m->watch_timer, &current) >= 0 && current == next &&
            sd_event_source_get_enabled(m->watch_timer, &enabled) >= 0 && enabled != SD_EVENT_OFF)
                return 0;
        r = sd_event_source_set_time(m->watch_timer, next);
        if (r >= 0)
                r = sd_event_source_set_enabled(m->watch_timer, SD_EVENT_ONESHOT);
        return r;
}

/* After every call into the watches: their descriptors and time, the
 * repairs they asked for, the status. */
static void sync_watches(Manager *m) {
        _cleanup_(freep) char *back = NULL;
        Job *j;

        if (sync_sources(m) < 0 || sync_timer(m) < 0)
                log_error("Cannot wait for the watches' events; drift may go unnoticed.");
        while ((j = watches_take_job(m->watches)))
                (void) manager_queue(m, j);
        if (m->degraded != watches_degraded(m->watches)) {
                m->degraded = !m->degraded;
                manager_update_status(m);
        }
        back = watches_take_back(m->watches);
        if (back) {
                /* Converge: the state file if it could not be applied yet,
                 * else the applied state. */
                if (m->state_file_pending)
                        (void) manager_queue_state_file(m, back);
                else {
                        watches_heal(m->watches, back, now_usec());
                        (void) sync_timer(m);
                }
        }
}

void manager_watch_refresh(Manager *m) {
        if (!m->watches)
                return;
        watches_arm(m->watches, now_usec());
        sync_watches(m);
}

int manager_watch_start(Manager *m) {
        int r;

        r = watches_new(m->product, &m->ctx, &m->watches);
        if (r >= 0)
                r = watches_start(m->watches, now_usec());
        if (r < 0)
                return log_error_errno(r, "Cannot start the watches: %m");
        sync_watches(m);
        return 0;
}

void manager_watch_stop(Manager *m) {
        free_sources(m);
        m->watch_timer = sd_event_source_disable_unref(m->watch_timer);
        m->watches = watches_free(m->watches);
}
