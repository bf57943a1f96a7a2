/* SPDX-License-Identifier: LGPL-2.1-or-later */
#include <inttypes.h>
#include <signal.h>
#include <stdio.h>
#include <sys/stat.h>
#include <systemd/sd-daemon.h>

#include "checkpoint.h"
#include "json-util.h"
#include "log.h"
#include "manager.h"
#include "reconcile.h"

static const char *const status_table[_STATUS_MAX] = {
        [STATUS_IDLE] = "idle",
        [STATUS_APPLYING] = "applying",
        [STATUS_AWAITING_CONFIRM] = "awaiting-confirm",
        [STATUS_DEGRADED] = "degraded",
};

const char *manager_status_to_string(ManagerStatus s) {
        return s >= 0 && s < _STATUS_MAX ? status_table[s] : "unknown";
}

int manager_new(Manager **ret) {
        Manager *m = calloc(1, sizeof(Manager));
        int r;

        if (!m)
                return -ENOMEM;
        m->lock_timeout_ms = 30 * 1000;
        m->keep_checkpoints = CHECKPOINTS_KEEP_DEFAULT;
        r = sd_event_default(&m->event);
        if (r < 0) {
                free(m);
                return r;
        }
        *ret = m;
        return 0;
}

Manager *manager_free(Manager *m) {
        if (!m)
                return NULL;
        manager_watch_stop(m);
        sd_event_source_disable_unref(m->worker_source);
        worker_free(m->worker);
        sd_event_source_disable_unref(m->confirm_timer);
        confirm_window_done(&m->confirm);
        sd_bus_slot_unref(m->program_slot);
        sd_bus_slot_unref(m->vtable_slot);
        sd_bus_flush_close_unref(m->bus);
        sd_event_unref(m->event);
        free(m->state_path);
        free(m->last_result);
        free(m->settings_json);
        free(m);
        return NULL;
}

void manager_update_status(Manager *m) {
        ManagerStatus s = m->degraded ? STATUS_DEGRADED :
                          m->jobs_running > 0 ? STATUS_APPLYING :
                          confirm_window_pending(&m->confirm) ? STATUS_AWAITING_CONFIRM : STATUS_IDLE;

        if (s != m->status)
                manager_set_status(m, s);
}

static void notify_status(Manager *m, const char *text) {
        (void) sd_notifyf(false, "STATUS=%s (generation %" PRIu64 ")", text, m->generation);
}

/* READY=1 after start-up and after each reload, with the status text. */
static void notify_ready(Manager *m, const char *text) {
        m->ready = true;
        (void) sd_notifyf(false, "READY=1\nSTATUS=%s (generation %" PRIu64 ")", text, m->generation);
}

/* Applies the state file: at start-up, on SIGHUP, when a watched service
 * is back. */
int manager_queue_state_file(Manager *m, const char *requester) {
        Job *j;

        m->state_file_pending = false;
        if (access(m->state_path, F_OK) < 0) {
                log_notice("%s: no state file at %s yet; waiting for ApplyState.", requester, m->state_path);
                return 0;
        }
        j = job_new(JOB_APPLY);
        if (j)
                j->reason = "state-file";
        if (!j || !(j->state_path = strdup(m->state_path)) ||
            job_set_requester(j, "%s (%s)", requester, m->state_path) < 0) {
                job_free(j);
                return -ENOMEM;
        }
        log_debug("%s: applying %s.", requester, m->state_path);
        return manager_queue(m, j);
}

static int on_sighup(sd_event_source *s, const struct signalfd_siginfo *si, void *userdata) {
        Manager *m = userdata;

        (void) sd_notify(false, "RELOADING=1");
        m->reloading = true;
        if (manager_queue_state_file(m, "SIGHUP") < 0 || m->jobs_running == 0) {
                m->reloading = false;
                notify_ready(m, "reloaded (no state file)");
        }
        return 0;
}

static int on_sigterm(sd_event_source *s, const struct signalfd_siginfo *si, void *userdata) {
        Manager *m = userdata;

        (void) sd_notify(false, "STOPPING=1");
        log_info("Stopping.");
        return sd_event_exit(m->event, 0);
}

/* line: what was logged of the job (the reason of RolledBack). */
static void finish_apply(Manager *m, Job *j, const char *line) {
        if (j->status == RECONCILE_OK && !j->dry_run) {
                if (j->generation != m->generation) {
                        m->generation = j->generation;
                        manager_properties_changed(m, "Generation");
                }
                free(m->last_result);
                m->last_result = strdup_or_null(j->result_json);
                manager_properties_changed(m, "LastResult");
                (void) manager_emit_state_applied(m, j);
                manager_watch_refresh(m);
        } else if (j->status == RECONCILE_FAILED)
                (void) manager_emit_rolled_back(m, j->generation, line ?: "the apply failed", j->result_json);
        else if (j->status == RECONCILE_UNAVAILABLE && j->state_path)
                m->state_file_pending = true; /* applied when the service is back */
        if (j->status != RECONCILE_OK && !j->dry_run && j->result_json) {
                free(m->last_result);
                m->last_result = strdup(j->result_json);
                manager_properties_changed(m, "LastResult");
        }

        if (!m->ready || (m->reloading && j->state_path)) {
                m->reloading = false;
                notify_ready(m, j->status == RECONCILE_OK ? "converged" : "last apply failed");
        } else
                notify_status(m, j->status == RECONCILE_OK ? "converged" : "last apply failed");
}

/* A repair works from the newest applied state, which an apply without
 * the daemon may have stored: the daemon follows it (its Generation, what
 * the watches watch). */
static void follow_generation(Manager *m, Job *j) {
        if (j->status != RECONCILE_OK || j->generation == m->generation)
                return;
        m->generation = j->generation;
        manager_properties_changed(m, "Generation");
        manager_watch_refresh(m);
}

/* DriftDetected for every object found different ("healed": whether it
 * was put back). */
static void finish_heal(Manager *m, Job *j) {
        size_t n = j->drift ? json_object_array_length(j->drift) : 0;

        follow_generation(m, j);

        for (size_t i = 0; i < n; i++) {
                json_object *a = json_object_array_get_idx(j->drift, i), *plugin, *path, *held;
                bool reported_only = json_object_object_get_ex(a, "held", &held) && json_object_get_boolean(held);

                json_object_object_add(a, "healed", json_object_new_boolean(j->status == RECONCILE_OK && !reported_only));
                if (json_object_object_get_ex(a, "plugin", &plugin) && json_object_object_get_ex(a, "path", &path))
                        (void) manager_emit_drift(m, json_object_get_string(plugin), json_object_get_string(path),
                                                  json_object_to_json_string_ext(a, JSON_C_TO_STRING_PLAIN));
        }
}

static void job_done(Manager *m, Job *j) {
        _cleanup_(freep) char *line = NULL;

        /* A repair read the applied state, and an apply without the daemon
         * stored a newer one before the repair got the lock: repair from
         * that one. */
        if (j->status == RECONCILE_BUSY && j->error == -ESTALE) {
                Job *again = job_again(j);

                log_debug("%s: the applied state changed meanwhile; again.", strna(j->requester));
                if (again) {
                        (void) manager_queue(m, again);
                        return;
                }
        }

        /* A confirmed apply's window opens before the caller is answered:
         * the answer says until when, and how to confirm. */
        if (j->kind == JOB_APPLY && j->confirm_timeout > 0 && j->status == RECONCILE_OK && !j->dry_run)
                manager_confirm_open(m, j);
        /* Logged before the caller hears of it. */
        line = job_log_line(j);
        job_log(j, line);
        if (j->origin)
                manager_bus_reply(m, j);

        switch (j->kind) {
        case JOB_APPLY:
                finish_apply(m, j, line);
                break;
        case JOB_ROLLBACK:
                if (j->status == RECONCILE_OK) {
                        finish_apply(m, j, line);
                        (void) manager_emit_rolled_back(m, j->generation, line ?: "Rollback", j->result_json);
                }
                break;
        case JOB_CONFIRM_ROLLBACK:
                manager_confirm_done(m, j->status == RECONCILE_OK);
                if (j->status == RECONCILE_OK)
                        finish_apply(m, j, line);
                (void) manager_emit_rolled_back(m, j->generation, line ?: "the apply was not confirmed in time",
                                                j->result_json);
                break;
        case JOB_HEAL:
                finish_heal(m, j);
                break;
        case JOB_RESTORE:
                follow_generation(m, j);
                if (m->restored)
                        m->restored(m, j);
                break;
        default:
                break;
        }
        manager_update_status(m);
}

/* The worker finished jobs. */
static int on_worker_done(sd_event_source *s, int fd, uint32_t revents, void *userdata) {
        Manager *m = userdata;
        Job *list = worker_take_done(m->worker);
        WorkerProgress *p = worker_take_progress(m->worker);

        /* the long steps of the running job: logged and announced */
        while (p) {
                WorkerProgress *next = p->next;

                log_info("%s: %s", p->plugin, p->what);
                (void) manager_emit_progress(m, p->plugin, p->what);
                worker_progress_free(p);
                p = next;
        }

        while (list) {
                Job *j = list;

                list = j->next;
                j->next = NULL;
                if (job_changes_host(j))
                        m->jobs_running--;
                job_done(m, j);
                job_free(j);
        }
        return 0;
}

static int start_worker(Manager *m) {
        WorkerConfig cfg = {
                .product = m->product,
                .ctx = m->ctx,
                .fault_after = m->fault_after,
                .lock_timeout_ms = m->lock_timeout_ms,
                .keep_checkpoints = m->keep_checkpoints,
        };
        int r;

        r = worker_new(&cfg, &m->worker);
        if (r < 0)
                return r;
        return sd_event_add_io(m->event, &m->worker_source, worker_fd(m->worker), EPOLLIN, on_worker_done, m);
}

int manager_queue(Manager *m, Job *j) {
        bool changes = job_changes_host(j);

        worker_submit(m->worker, j);
        if (changes) {
                m->jobs_running++;
                manager_update_status(m);
        }
        return 0;
}

int manager_start(Manager *m) {
        sigset_t mask;
        int r;

        /* The journal stamps every line itself; anywhere else the log must
         * say when. */
        log_set_timestamps(!log_stderr_is_journal());

        /* Signals go to the loop (signalfd), never to the worker thread. */
        sigemptyset(&mask);
        sigaddset(&mask, SIGHUP);
        sigaddset(&mask, SIGTERM);
        sigaddset(&mask, SIGINT);
        if (sigprocmask(SIG_BLOCK, &mask, NULL) < 0)
                return negative_errno();
        r = sd_event_add_signal(m->event, NULL, SIGHUP, on_sighup, m);
        if (r >= 0)
                r = sd_event_add_signal(m->event, NULL, SIGTERM, on_sigterm, m);
        if (r >= 0)
                r = sd_event_add_signal(m->event, NULL, SIGINT, on_sigterm, m);
        if (r < 0)
                return log_error_errno(r, "Cannot watch signals: %m");

        (void) checkpoint_latest(m->ctx.state_dir, &m->generation);

        r = confirm_window_init(&m->confirm, m->ctx.state_dir);
        if (r >= 0)
                r = start_worker(m);
        if (r < 0)
                return log_error_errno(r, "Cannot start the worker thread: %m");
        r = manager_bus_setup(m);
        if (r < 0)
                return r;
        r = manager_confirm_load(m);
        if (r < 0)
                log_warning_errno(r, "Cannot read the pending confirmation, ignoring: %m");
        r = manager_watch_start(m);
        if (r < 0)
                return r;
        r = manager_queue_state_file(m, "start-up");
        if (r < 0)
                return r;
        if (m->jobs_running == 0)
                notify_ready(m, "waiting for a state");
        return 0;
}

int manager_run(Manager *m) {
        int r = sd_event_loop(m->event);

        if (r < 0)
                return log_error_errno(r, "Event loop failed: %m");
        return 0;
}
