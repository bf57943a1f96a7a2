/* SPDX-License-Identifier: LGPL-2.1-or-later */
/* The confirm window's timer (the record and its rules: confirm.c): if
 * Confirm() does not come by the deadline, the state from before the
 * apply is applied again. */
#include <inttypes.h>

#include "log.h"
#include "manager.h"

static int on_deadline(sd_event_source *s, uint64_t usec, void *userdata) {
        Manager *m = userdata;
        Job *j;

        log_debug("The apply of generation %" PRIu64 " was not confirmed in time; rolling back.",
                  m->confirm.generation);
        m->confirm_timer = sd_event_source_disable_unref(m->confirm_timer);
        j = confirm_window_rollback_job(&m->confirm);
        if (!j)
                return log_error_errno(-ENOMEM, "Out of memory.");
        return manager_queue(m, j);
}

/* The timer of the open window; ConfirmPending says how long it has. */
static int arm_timer(Manager *m) {
        uint64_t now = now_realtime_usec();
        int r;

        m->confirm_timer = sd_event_source_disable_unref(m->confirm_timer);
        r = sd_event_add_time(m->event, &m->confirm_timer, CLOCK_REALTIME,
                              MAX(m->confirm.deadline, now), 10 * 1000, on_deadline, m);
        if (r < 0)
                return r;
        manager_update_status(m);
        return manager_emit_confirm_pending(m, confirm_window_seconds_left(&m->confirm, now));
}

static void disarm(Manager *m) {
        m->confirm_timer = sd_event_source_disable_unref(m->confirm_timer);
}

void manager_confirm_open(Manager *m, Job *j) {
        disarm(m);
        if (confirm_window_open(&m->confirm, j, "op-dbus confirm") && arm_timer(m) < 0)
                log_warning("Cannot start the timer of the confirm window, ignoring.");
}

int manager_confirm_load(Manager *m) {
        int r = confirm_window_load(&m->confirm);

        if (r <= 0)
                return r;
        log_notice("An apply (generation %" PRIu64 ") awaits confirmation from before the restart.",
                   m->confirm.generation);
        return arm_timer(m); /* fires at once if the deadline has passed */
}

int manager_confirm(Manager *m, const char *requester) {
        int r = confirm_window_confirm(&m->confirm);

        if (r < 0)
                return r;
        log_notice("%s: generation %" PRIu64 " confirmed; it stays.", requester, m->confirm.generation);
        disarm(m);
        manager_update_status(m);
        return 0;
}

void manager_confirm_done(Manager *m, bool ok) {
        confirm_window_rolled_back(&m->confirm, ok);
        if (ok)
                disarm(m);
}
