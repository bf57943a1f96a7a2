/* SPDX-License-Identifier: LGPL-2.1-or-later */
/* Confirmed apply: after an apply with a confirm timeout, the state before
 * it is kept in <state-dir>/confirm.json together with the deadline. If
 * Confirm() does not come in time, that state is applied again. The file
 * makes the deadline survive a crash or a reboot: at start-up a deadline
 * that has passed rolls back at once. */
#include <inttypes.h>
#include <stdio.h>
#include <time.h>

#include "fileio.h"
#include "json-util.h"
#include "log.h"
#include "manager.h"

static char *confirm_path(Manager *m) {
        char *s;

        if (asprintf(&s, "%s/confirm.json", m->ctx.state_dir) < 0)
                return NULL;
        return s;
}

static uint64_t now_realtime_usec(void) {
        struct timespec ts;

        (void) clock_gettime(CLOCK_REALTIME, &ts);
        return (uint64_t) ts.tv_sec * 1000000ULL + (uint64_t) ts.tv_nsec / 1000;
}

bool manager_confirm_pending(Manager *m) {
        return m->confirm_deadline > 0;
}

static void disarm(Manager *m) {
        m->confirm_timer = sd_event_source_disable_unref(m->confirm_timer);
        m->confirm_deadline = 0;
        json_object_put(m->confirm_state);
        m->confirm_state = NULL;
}

static int on_deadline(sd_event_source *s, uint64_t usec, void *userdata) {
        Manager *m = userdata;
        char deadline[ISO8601_MAX];
        Job *j;

        log_debug("The apply of generation %" PRIu64 " was not confirmed in time; rolling back.",
                  m->confirm_generation);
        j = job_new(JOB_CONFIRM_ROLLBACK);
        if (!j || job_set_requester(j, "confirm timeout: generation %" PRIu64 " was not confirmed by %s",
                                    m->confirm_generation,
                                    format_iso8601(m->confirm_deadline, false, deadline, sizeof deadline)) < 0) {
                job_free(j);
                return log_error_errno(-ENOMEM, "Out of memory.");
        }
        j->rollback_state = json_object_get(m->confirm_state);
        m->confirm_timer = sd_event_source_disable_unref(m->confirm_timer);
        return manager_queue(m, j);
}

static int arm_timer(Manager *m) {
        uint64_t now = now_realtime_usec();
        int r;

        m->confirm_timer = sd_event_source_disable_unref(m->confirm_timer);
        r = sd_event_add_time(m->event, &m->confirm_timer, CLOCK_REALTIME,
                              MAX(m->confirm_deadline, now), 10 * 1000, on_deadline, m);
        if (r < 0)
                return r;
        manager_update_status(m);
        return manager_emit_confirm_pending(m, m->confirm_deadline > now ?
                                            (unsigned) ((m->confirm_deadline - now + 999999) / 1000000) : 0);
}

static int arm(Manager *m, unsigned seconds, uint64_t generation, json_object *rollback_state) {
        _cleanup_(json_object_putp) json_object *o = json_object_new_object();
        _cleanup_(freep) char *path = confirm_path(m);
        const char *text;
        int r;

        if (!rollback_state)
                return -ENODATA;
        if (!o || !path)
                return -ENOMEM;
        disarm(m);
        m->confirm_deadline = now_realtime_usec() + (uint64_t) seconds * 1000000ULL;
        m->confirm_generation = generation;
        m->confirm_state = json_object_get(rollback_state);

        json_object_object_add(o, "deadline_usec", json_object_new_int64((int64_t) m->confirm_deadline));
        json_object_object_add(o, "generation", json_object_new_int64((int64_t) generation));
        json_object_object_add(o, "rollback_state", json_object_get(rollback_state));
        text = json_object_to_json_string_ext(o, JSON_C_TO_STRING_PRETTY);
        r = mkdir_p(m->ctx.state_dir, 0700);
        if (r >= 0)
                r = write_file_atomic(path, text, strlen(text), 0600);
        if (r < 0) {
                disarm(m);
                return r;
        }
        return arm_timer(m);
}

/* "confirm": {"deadline", "deadline_unix", "seconds", "command"} in the
 * result; without a window, a warning that says why. */
void manager_confirm_open(Manager *m, Job *j) {
        _cleanup_(json_object_putp) json_object *res = json_tokener_parse(j->result_json ?: "");
        char deadline[ISO8601_MAX];
        json_object *c, *warnings;
        const char *text;
        int r;

        r = arm(m, j->confirm_timeout, j->generation, j->snapshot);
        if (!res)
                return;
        if (r < 0) {
                _cleanup_(freep) char *w = NULL;

                if (asprintf(&w, "no confirm window: %s; the apply stays as it is", r == -ENODATA ?
                             "the state before it was not kept" : strerror(-r)) >= 0 &&
                    json_object_object_get_ex(res, "warnings", &warnings))
                        json_object_array_add(warnings, json_object_new_string(w));
        } else {
                c = json_object_new_object();
                if (!c)
                        return;
                json_object_object_add(c, "deadline", json_object_new_string(
                                               format_iso8601(m->confirm_deadline, false, deadline, sizeof deadline)));
                json_object_object_add(c, "deadline_unix",
                                       json_object_new_int64((int64_t) (m->confirm_deadline / 1000000)));
                json_object_object_add(c, "seconds", json_object_new_int64(j->confirm_timeout));
                json_object_object_add(c, "command", json_object_new_string("op-dbus confirm"));
                json_object_object_add(res, "confirm", c);
        }
        text = json_object_to_json_string_ext(res, JSON_C_TO_STRING_PLAIN | JSON_C_TO_STRING_NOSLASHESCAPE);
        free(j->result_json);
        j->result_json = strdup_or_null(text);
}

int manager_confirm_load(Manager *m) {
        _cleanup_(freep) char *path = confirm_path(m), *buf = NULL;
        _cleanup_(json_object_putp) json_object *o = NULL;
        _cleanup_(diag_done) Diag d = {};
        json_object *deadline, *generation, *state;
        int r;

        if (!path)
                return -ENOMEM;
        r = read_optional_file(path, &buf);
        if (r <= 0)
                return r;
        /* Read as strictly as a state file: its state may be applied. */
        if (json_parse_located(buf, strlen(buf), path, &o, &d) < 0)
                return -EBADMSG;
        if (!json_object_object_get_ex(o, "deadline_usec", &deadline) ||
            !json_object_object_get_ex(o, "generation", &generation) ||
            !json_object_object_get_ex(o, "rollback_state", &state))
                return -EBADMSG;

        m->confirm_deadline = (uint64_t) json_object_get_int64(deadline);
        m->confirm_generation = (uint64_t) json_object_get_int64(generation);
        m->confirm_state = json_object_get(state);
        log_notice("An apply (generation %" PRIu64 ") awaits confirmation from before the restart.",
                   m->confirm_generation);
        return arm_timer(m); /* fires at once if the deadline has passed */
}

int manager_confirm(Manager *m, const char *requester) {
        _cleanup_(freep) char *path = confirm_path(m);

        if (!manager_confirm_pending(m))
                return -ENOENT;
        if (!path)
                return -ENOMEM;
        if (unlink(path) < 0 && errno != ENOENT)
                return negative_errno();
        log_notice("%s: generation %" PRIu64 " confirmed; it stays.", requester, m->confirm_generation);
        disarm(m);
        manager_update_status(m);
        return 0;
}

void manager_confirm_done(Manager *m, bool ok) {
        _cleanup_(freep) char *path = confirm_path(m);

        if (!ok)
                return; /* keep the file: the next start tries again */
        if (path)
                (void) unlink(path);
        disarm(m);
}
