/* SPDX-License-Identifier: LGPL-2.1-or-later */
/* The worker thread: runs jobs one at a time and hands the results back
 * through an eventfd. */
#include <pthread.h>
#include <stdio.h>
#include <sys/eventfd.h>
#include <unistd.h>

#include "fileio.h"
#include "json-util.h"
#include "repairs.h"
#include "strbuf.h"
#include "worker.h"

struct Worker {
        WorkerConfig cfg;
        pthread_t thread;
        bool started;
        pthread_mutex_t lock;
        pthread_cond_t cond;
        Job *queue, *done;            /* under lock */
        WorkerProgress *progress;     /* under lock, oldest first */
        bool stopping;
        int done_fd;                  /* eventfd: jobs finished */
};

static void set_result(Job *j, json_object *o) {
        const char *s = json_object_to_json_string_ext(o, JSON_C_TO_STRING_PLAIN | JSON_C_TO_STRING_NOSLASHESCAPE);

        j->result_json = strdup_or_null(s);
}

/* Every error as "path: message", one per line; NULL if there is none. */
static char *error_lines(const Diag *d) {
        _cleanup_(strbuf_done) StrBuf b = {};

        for (size_t i = 0; i < d->n_entries; i++) {
                _cleanup_(freep) char *line = NULL;

                if (d->entries[i].level != DIAG_ERROR)
                        continue;
                line = diag_entry_format(&d->entries[i]);
                if (b.len > 0)
                        strbuf_putc(&b, '\n');
                strbuf_puts(&b, line ?: "(out of memory)");
        }
        return b.len > 0 ? strbuf_take(&b) : NULL;
}

/* The result of a reconcile into the job. */
static void take_result(Job *j, ReconcileResult *res) {
        _cleanup_(json_object_putp) json_object *o = reconcile_result_to_json(res);

        set_result(j, o);
        j->status = res->status;
        j->error = res->error;
        j->generation = res->generation;
        j->changed = res->changed;
        j->counts = res->counts;
        j->snapshot = TAKE_PTR(res->snapshot);
        j->error_text = error_lines(&res->diag);
        /* Drift: what was repaired, and what is only reported (held). */
        if (j->kind == JOB_HEAL && res->plan.n_actions > 0)
                j->drift = plan_to_json(&res->plan);
}

/* The job's document; *ret_applied is set when it is the applied state
 * (to the generation it was read from). */
static int load_document(Reconciler *rc, Job *j, StateDoc **ret, uint64_t *ret_applied, bool *is_applied,
                         ReconcileResult *res) {
        int r;

        if (j->state_json)
                r = state_doc_parse(j->state_json, strlen(j->state_json), "<bus>", ret, &res->diag);
        else if (j->state_path && j->state_path[0])
                r = state_doc_load(j->state_path, ret, &res->diag);
        else if (j->rollback_state)
                r = state_doc_from_json(json_object_get(j->rollback_state), "rollback", ret, &res->diag);
        else {
                *is_applied = true;
                return reconcile_applied_state(rc, ret, ret_applied, res);
        }
        if (r < 0) {
                res->status = RECONCILE_INVALID;
                res->error = r;
        }
        return r;
}

static void run_query(Reconciler *rc, Job *j) {
        _cleanup_(json_object_putp) json_object *state = NULL;
        _cleanup_(diag_done) Diag d = {};
        char *only[] = { j->plugin, NULL };
        json_object *plugins, *section;
        int r;

        r = reconcile_query(rc, j->plugin ? only : NULL, &state, &d);
        j->status = r < 0 ? (r == -EINVAL ? RECONCILE_INVALID : RECONCILE_UNAVAILABLE) : RECONCILE_OK;
        j->error = MIN(r, 0);
        if (r < 0) {
                j->error_text = d.n_entries > 0 ? diag_entry_format(&d.entries[0]) : strdup(strerror(-r));
                return;
        }
        /* A plugin with nothing on the host has no section: null, as
         * plugins.<plugin> of QueryState reads then. */
        if (j->plugin && json_object_object_get_ex(state, "plugins", &plugins) &&
            json_object_object_get_ex(plugins, j->plugin, &section))
                set_result(j, section);
        else if (j->plugin)
                j->result_json = strdup("null");
        else
                set_result(j, state);
}

/* Who asked for j and why, for the checkpoint's audit record. */
static ApplyOrigin job_origin(const Job *j) {
        return (ApplyOrigin) {
                .reason = j->reason ?: j->kind == JOB_CONFIRM_ROLLBACK ? "confirm-timeout" :
                                       j->kind == JOB_ROLLBACK ? "rollback" : "apply",
                .source = j->source ?: j->state_path,
                .uid = j->caller_uid,
                .pid = j->caller_pid,
                .process = j->caller_process,
        };
}

static void run_reconcile(Reconciler *rc, Job *j) {
        _cleanup_(reconcile_result_done) ReconcileResult res = {};
        _cleanup_(state_doc_freep) StateDoc *doc = NULL;
        uint64_t applied = 0;
        bool is_applied = false;
        ReconcileOptions o = {
                .dry_run = j->dry_run,
                .only = j->plugins,
                .record = true,
                .keep_snapshot = j->confirm_timeout > 0,
                .allow_outage = j->allow_outage,
        };

        ApplyOrigin origin = job_origin(j);

        rc->origin = &origin;
        switch (j->kind) {
        case JOB_ROLLBACK:
                (void) reconcile_rollback(rc, j->to, j->allow_outage, &res);
                take_result(j, &res);
                return;
        case JOB_CONFIRM_ROLLBACK:
                /* The rollback of an unconfirmed apply always puts back the
                 * state from before it. */
                o.allow_outage = true;
                break;
        case JOB_RESTORE:
                o.record = false;
                rc->ctx.scope = j->scope && j->scope[0] ? j->scope : NULL;
                break;
        case JOB_HEAL:
                o.record = false;
                rc->ctx.healing = true;
                break;
        default:
                break;
        }

        if (load_document(rc, j, &doc, &applied, &is_applied, &res) >= 0) {
                /* A repair must not undo an apply that came first. */
                if (is_applied)
                        o.applied_generation = &applied;
                if (j->kind == JOB_PLAN)
                        (void) reconcile_plan(rc, doc, &o, &res);
                else if (j->kind == JOB_VERIFY)
                        (void) reconcile_verify(rc, doc, &o, &res);
                else
                        (void) reconcile_apply(rc, doc, &o, &res);
        }
        take_result(j, &res);
        /* what status shows as the last repairs */
        if (j->kind == JOB_HEAL && j->status == RECONCILE_OK && j->drift)
                (void) repairs_record(rc->ctx.state_dir, j->generation, j->drift);
}

void worker_run_job(const WorkerConfig *cfg, Job *j) {
        _cleanup_(reconciler_done) Reconciler rc = {};
        int r;

        reconciler_init(&rc, &cfg->ctx);
        rc.lock_timeout_ms = cfg->lock_timeout_ms;
        rc.keep_checkpoints = cfg->keep_checkpoints;
        rc.ctx.restricted = j->restricted;
        r = reconciler_use_product(&rc, cfg->product);
        rc.fault_after = cfg->fault_after;
        if (r < 0) {
                j->status = RECONCILE_UNAVAILABLE;
                j->error = r;
                return;
        }
        if (j->kind == JOB_QUERY)
                run_query(&rc, j);
        else
                run_reconcile(&rc, j);
}

/* The job waited in the queue for longer than the lock timeout: it is
 * not run, and answers like an apply that waited that long for the lock
 * (a result with status "busy", which the CLI prints as it does its own). */
static void job_busy(const WorkerConfig *cfg, Job *j) {
        _cleanup_(reconcile_result_done) ReconcileResult res = { .status = RECONCILE_BUSY, .error = -EBUSY };

        diag_error(&res.diag, "", "another apply did not finish in time (this one waited %d ms for it in the "
                   "daemon's queue); try again", cfg->lock_timeout_ms);
        take_result(j, &res);
        j->busy = true;
}

/* Appends j to the list at *head. */
static void append(Job **head, Job *j) {
        while (*head)
                head = &(*head)->next;
        j->next = NULL;
        *head = j;
}

static void *worker_main(void *userdata) {
        Worker *w = userdata;

        pthread_mutex_lock(&w->lock);
        for (;;) {
                uint64_t one = 1;
                Job *j;

                while (!w->queue && !w->stopping)
                        pthread_cond_wait(&w->cond, &w->lock);
                if (w->stopping)
                        break;
                j = w->queue;
                w->queue = j->next;
                j->next = NULL;
                pthread_mutex_unlock(&w->lock);

                if (j->deadline_usec && now_usec() > j->deadline_usec)
                        job_busy(&w->cfg, j);
                else
                        worker_run_job(&w->cfg, j);

                pthread_mutex_lock(&w->lock);
                append(&w->done, j); /* in the order they finished */
                (void) write(w->done_fd, &one, sizeof one);
        }
        pthread_mutex_unlock(&w->lock);
        return NULL;
}

/* PluginContext.progress, in the worker's thread: queued for the loop. */
static void on_progress(void *userdata, const char *plugin, const char *what) {
        Worker *w = userdata;
        WorkerProgress *p = calloc(1, sizeof(WorkerProgress)), **tail;
        uint64_t one = 1;

        if (!p || !(p->plugin = strdup(plugin)) || !(p->what = strdup(what))) {
                worker_progress_free(p);
                return; /* a step untold is no failure */
        }
        pthread_mutex_lock(&w->lock);
        for (tail = &w->progress; *tail; tail = &(*tail)->next)
                ;
        *tail = p;
        (void) write(w->done_fd, &one, sizeof one);
        pthread_mutex_unlock(&w->lock);
}

WorkerProgress *worker_progress_free(WorkerProgress *p) {
        if (p) {
                free(p->plugin);
                free(p->what);
                free(p);
        }
        return NULL;
}

WorkerProgress *worker_take_progress(Worker *w) {
        WorkerProgress *list;

        pthread_mutex_lock(&w->lock);
        list = w->progress;
        w->progress = NULL;
        pthread_mutex_unlock(&w->lock);
        return list;
}

int worker_new(const WorkerConfig *cfg, Worker **ret) {
        _cleanup_(worker_freep) Worker *w = calloc(1, sizeof(Worker));
        int r;

        if (!w)
                return -ENOMEM;
        w->cfg = *cfg;
        w->cfg.ctx.progress = on_progress;
        w->cfg.ctx.progress_userdata = w;
        pthread_mutex_init(&w->lock, NULL);
        pthread_cond_init(&w->cond, NULL);
        w->done_fd = eventfd(0, EFD_CLOEXEC | EFD_NONBLOCK);
        if (w->done_fd < 0)
                return negative_errno();
        r = -pthread_create(&w->thread, NULL, worker_main, w);
        if (r < 0)
                return r;
        w->started = true;
        *ret = TAKE_PTR(w);
        return 0;
}

Worker *worker_free(Worker *w) {
        if (!w)
                return NULL;
        if (w->started) {
                pthread_mutex_lock(&w->lock);
                w->stopping = true;
                pthread_cond_signal(&w->cond);
                pthread_mutex_unlock(&w->lock);
                (void) pthread_join(w->thread, NULL);
        }
        job_free_list(w->queue);
        job_free_list(w->done);
        while (w->progress) {
                WorkerProgress *next = w->progress->next;

                worker_progress_free(w->progress);
                w->progress = next;
        }
        if (w->done_fd >= 0)
                close(w->done_fd);
        pthread_mutex_destroy(&w->lock);
        pthread_cond_destroy(&w->cond);
        free(w);
        return NULL;
}

int worker_fd(const Worker *w) {
        return w->done_fd;
}

void worker_submit(Worker *w, Job *j) {
        pthread_mutex_lock(&w->lock);
        append(&w->queue, j);
        pthread_cond_signal(&w->cond);
        pthread_mutex_unlock(&w->lock);
}

Job *worker_take_done(Worker *w) {
        uint64_t n;
        Job *list;

        (void) read(w->done_fd, &n, sizeof n);
        pthread_mutex_lock(&w->lock);
        list = w->done;
        w->done = NULL;
        pthread_mutex_unlock(&w->lock);
        return list;
}
