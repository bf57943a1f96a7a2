/* SPDX-License-Identifier: LGPL-2.1-or-later */
#include <inttypes.h>
#include <stdio.h>
#include <time.h>
#include <unistd.h>

#include "confirm.h"
#include "fileio.h"
#include "json-util.h"

uint64_t now_realtime_usec(void) {
        struct timespec ts;

        (void) clock_gettime(CLOCK_REALTIME, &ts);
        return (uint64_t) ts.tv_sec * 1000000ULL + (uint64_t) ts.tv_nsec / 1000;
}

int confirm_window_init(ConfirmWindow *c, const char *state_dir) {
        *c = (ConfirmWindow) {};
        if (!(c->state_dir = strdup(state_dir)) || asprintf(&c->path, "%s/confirm.json", state_dir) < 0) {
                c->path = NULL;
                confirm_window_done(c);
                return -ENOMEM;
        }
        return 0;
}

static void disarm(ConfirmWindow *c) {
        c->deadline = 0;
        json_object_put(c->state);
        c->state = NULL;
}

void confirm_window_done(ConfirmWindow *c) {
        disarm(c);
        free(c->path);
        free(c->state_dir);
        *c = (ConfirmWindow) {};
}

bool confirm_window_pending(const ConfirmWindow *c) {
        return c->deadline > 0;
}

unsigned confirm_window_seconds_left(const ConfirmWindow *c, uint64_t now) {
        return c->deadline > now ? (unsigned) ((c->deadline - now + 999999) / 1000000) : 0;
}

static int arm(ConfirmWindow *c, unsigned seconds, uint64_t generation, json_object *rollback_state) {
        _cleanup_(json_object_putp) json_object *o = json_object_new_object();
        const char *text;
        int r;

        if (!rollback_state)
                return -ENODATA;
        if (!o)
                return -ENOMEM;
        disarm(c);
        c->deadline = now_realtime_usec() + (uint64_t) seconds * 1000000ULL;
        c->generation = generation;
        c->state = json_object_get(rollback_state);

        json_object_object_add(o, "deadline_usec", json_object_new_int64((int64_t) c->deadline));
        json_object_object_add(o, "generation", json_object_new_int64((int64_t) generation));
        json_object_object_add(o, "rollback_state", json_object_get(rollback_state));
        text = json_object_to_json_string_ext(o, JSON_C_TO_STRING_PRETTY);
        r = mkdir_p(c->state_dir, 0700);
        if (r >= 0)
                r = write_file_atomic(c->path, text, strlen(text), 0600);
        if (r < 0) {
                disarm(c);
                return r;
        }
        return 0;
}

/* "confirm": {"deadline", "deadline_unix", "seconds", "command"} in the
 * result; without a window, a warning that says why. */
bool confirm_window_open(ConfirmWindow *c, Job *j, const char *command) {
        _cleanup_(json_object_putp) json_object *res = json_tokener_parse(j->result_json ?: "");
        char deadline[ISO8601_MAX];
        json_object *o, *warnings;
        const char *text;
        int r;

        r = arm(c, j->confirm_timeout, j->generation, j->snapshot);
        if (!res)
                return r >= 0;
        if (r < 0) {
                _cleanup_(freep) char *w = NULL;

                if (asprintf(&w, "no confirm window: %s; the apply stays as it is", r == -ENODATA ?
                             "the state before it was not kept" : strerror(-r)) >= 0 &&
                    json_object_object_get_ex(res, "warnings", &warnings))
                        json_object_array_add(warnings, json_object_new_string(w));
        } else {
                o = json_object_new_object();
                if (!o)
                        return true;
                json_object_object_add(o, "deadline", json_object_new_string(
                                               format_iso8601(c->deadline, false, deadline, sizeof deadline)));
                json_object_object_add(o, "deadline_unix", json_object_new_int64((int64_t) (c->deadline / 1000000)));
                json_object_object_add(o, "seconds", json_object_new_int64(j->confirm_timeout));
                json_object_object_add(o, "command", json_object_new_string(command));
                json_object_object_add(res, "confirm", o);
        }
        text = json_object_to_json_string_ext(res, JSON_C_TO_STRING_PLAIN | JSON_C_TO_STRING_NOSLASHESCAPE);
        free(j->result_json);
        j->result_json = strdup_or_null(text);
        return r >= 0;
}

int confirm_window_load(ConfirmWindow *c) {
        _cleanup_(freep) char *buf = NULL;
        _cleanup_(json_object_putp) json_object *o = NULL;
        _cleanup_(diag_done) Diag d = {};
        json_object *deadline, *generation, *state;
        int r;

        r = read_optional_file(c->path, &buf);
        if (r <= 0)
                return r;
        /* Read as strictly as a state file: its state may be applied. */
        if (json_parse_located(buf, strlen(buf), c->path, &o, &d) < 0)
                return -EBADMSG;
        if (!json_object_object_get_ex(o, "deadline_usec", &deadline) ||
            !json_object_object_get_ex(o, "generation", &generation) ||
            !json_object_object_get_ex(o, "rollback_state", &state))
                return -EBADMSG;

        disarm(c);
        c->deadline = (uint64_t) json_object_get_int64(deadline);
        c->generation = (uint64_t) json_object_get_int64(generation);
        c->state = json_object_get(state);
        return 1;
}

int confirm_window_confirm(ConfirmWindow *c) {
        if (!confirm_window_pending(c))
                return -ENOENT;
        if (unlink(c->path) < 0 && errno != ENOENT)
                return negative_errno();
        disarm(c);
        return 0;
}

Job *confirm_window_rollback_job(const ConfirmWindow *c) {
        char deadline[ISO8601_MAX];
        Job *j = job_new(JOB_CONFIRM_ROLLBACK);

        if (!j || job_set_requester(j, "confirm timeout: generation %" PRIu64 " was not confirmed by %s",
                                    c->generation, format_iso8601(c->deadline, false, deadline, sizeof deadline)) < 0)
                return job_free(j);
        j->rollback_state = json_object_get(c->state);
        return j;
}

void confirm_window_rolled_back(ConfirmWindow *c, bool ok) {
        if (!ok)
                return; /* keep the file: the next start tries again */
        (void) unlink(c->path);
        disarm(c);
}
