/* SPDX-License-Identifier: LGPL-2.1-or-later */
/* The worker thread: runs reconciles one at a time and hands the results
 * back to the loop thread through an eventfd. It never touches the bus. */
#include <inttypes.h>
#include <stdio.h>
#include <sys/eventfd.h>

#include "checkpoint.h"
#include "fileio.h"
#include "host.h"
#include "json-util.h"
#include "log.h"
#include "manager.h"
#include "reconcile.h"
#include "strbuf.h"

Job *job_new(JobKind kind) {
        Job *j = calloc(1, sizeof(Job));

        if (j)
                j->kind = kind;
        return j;
}

Job *job_new_automatic(JobKind kind, const char *requester) {
        Job *j = job_new(kind);

        if (j && !(j->requester = strdup(requester)))
                return job_free(j);
        if (j)
                j->automatic = true;
        return j;
}

Job *job_free(Job *j) {
        if (!j)
                return NULL;
        free(j->requester);
        free(j->state_json);
        free(j->state_path);
        if (j->plugins)
                for (char **p = j->plugins; *p; p++)
                        free(*p);
        free(j->plugins);
        free(j->bridge);
        free(j->plugin);
        json_object_put(j->rollback_state);
        sd_bus_message_unref(j->call);
        free(j->result_json);
        free(j->error_text);
        json_object_put(j->snapshot);
        json_object_put(j->drift);
        free(j);
        return NULL;
}

Job *job_again(Job *j) {
        Job *again = job_new(j->kind);

        if (!again || (j->bridge && !(again->bridge = strdup(j->bridge))) ||
            (j->state_path && !(again->state_path = strdup(j->state_path))) ||
            (j->requester && !(again->requester = strdup(j->requester))))
                return job_free(again);
        again->automatic = j->automatic;
        again->restricted = j->restricted;
        again->deadline_usec = j->deadline_usec;
        again->call = TAKE_PTR(j->call);
        return again;
}

bool job_changes_host(const Job *j) {
        switch (j->kind) {
        case JOB_PLAN:
        case JOB_VERIFY:
        case JOB_QUERY:
                return false;
        case JOB_APPLY:
                return !j->dry_run;
        default:
                return true;
        }
}

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
        j->flow_mods = apply_counts_get(&res->counts, COUNT_FLOW_MODS);
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

static void run_reconcile(Manager *m, Reconciler *rc, Job *j) {
        _cleanup_(reconcile_result_done) ReconcileResult res = {};
        _cleanup_(state_doc_freep) StateDoc *doc = NULL;
        char *only_openflow[] = { (char *) "openflow", NULL };
        uint64_t applied = 0;
        bool is_applied = false;
        ReconcileOptions o = {
                .dry_run = j->dry_run,
                .only = j->plugins,
                .record = true,
                .keep_snapshot = j->confirm_timeout > 0,
                .allow_outage = j->allow_outage,
        };

        switch (j->kind) {
        case JOB_ROLLBACK:
                (void) reconcile_rollback(rc, j->to, j->allow_outage, &res);
                take_result(j, &res);
                return;
        case JOB_CONFIRM_ROLLBACK:
                /* The safety net of a confirmed apply always puts back the
                 * state from before it. */
                o.allow_outage = true;
                break;
        case JOB_RESTORE_FLOWS:
                o.only = only_openflow;
                o.record = false;
                rc->ctx.scope = j->bridge && j->bridge[0] ? j->bridge : NULL;
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
}

static void run_job(Manager *m, Job *j) {
        _cleanup_(reconciler_done) Reconciler rc = {};
        int r;

        reconciler_init(&rc, &m->ctx);
        rc.lock_timeout_ms = m->lock_timeout_ms;
        rc.keep_checkpoints = m->keep_checkpoints;
        rc.ctx.restricted = j->restricted;
        r = reconciler_use_product(&rc, m->product);
        rc.fault_after = m->fault_after;
        if (r < 0) {
                j->status = RECONCILE_UNAVAILABLE;
                j->error = r;
                return;
        }
        if (j->kind == JOB_QUERY)
                run_query(&rc, j);
        else
                run_reconcile(m, &rc, j);
}

/* The job waited in the queue for longer than the lock timeout: it is
 * not run, and answers like an apply that waited that long for the lock
 * (a result with status "busy", which the CLI prints as it does its own). */
static void job_busy(Manager *m, Job *j) {
        _cleanup_(reconcile_result_done) ReconcileResult res = { .status = RECONCILE_BUSY, .error = -EBUSY };

        diag_error(&res.diag, "", "another apply did not finish in time (this one waited %d ms for it in the "
                   "daemon's queue); try again", m->lock_timeout_ms);
        take_result(j, &res);
        j->busy = true;
}

static void *worker_main(void *userdata) {
        Manager *m = userdata;

        pthread_mutex_lock(&m->lock);
        for (;;) {
                uint64_t one = 1;
                Job *j;

                while (!m->queue && !m->stopping)
                        pthread_cond_wait(&m->cond, &m->lock);
                if (m->stopping)
                        break;
                j = m->queue;
                m->queue = j->next;
                j->next = NULL;
                pthread_mutex_unlock(&m->lock);

                if (j->deadline_usec && now_usec() > j->deadline_usec)
                        job_busy(m, j);
                else
                        run_job(m, j);

                pthread_mutex_lock(&m->lock);
                /* Keep completion order: append at the tail. */
                Job **tail = &m->done;
                while (*tail)
                        tail = &(*tail)->next;
                *tail = j;
                (void) write(m->done_fd, &one, sizeof one);
        }
        pthread_mutex_unlock(&m->lock);
        return NULL;
}

static int on_done(sd_event_source *s, int fd, uint32_t revents, void *userdata) {
        Manager *m = userdata;
        uint64_t n;
        Job *list;

        (void) read(fd, &n, sizeof n);
        pthread_mutex_lock(&m->lock);
        list = m->done;
        m->done = NULL;
        pthread_mutex_unlock(&m->lock);

        while (list) {
                Job *j = list;

                list = j->next;
                j->next = NULL;
                if (job_changes_host(j))
                        m->jobs_running--;
                manager_job_done(m, j);
                job_free(j);
        }
        return 0;
}

int manager_start_worker(Manager *m) {
        int r;

        m->done_fd = eventfd(0, EFD_CLOEXEC | EFD_NONBLOCK);
        if (m->done_fd < 0)
                return negative_errno();
        r = sd_event_add_io(m->event, &m->done_source, m->done_fd, EPOLLIN, on_done, m);
        if (r < 0)
                return r;
        r = -pthread_create(&m->worker, NULL, worker_main, m);
        return r;
}

void manager_stop_worker(Manager *m) {
        pthread_mutex_lock(&m->lock);
        m->stopping = true;
        pthread_cond_signal(&m->cond);
        pthread_mutex_unlock(&m->lock);
        (void) pthread_join(m->worker, NULL);

        for (Job *j = m->queue, *n; j; j = n) {
                n = j->next;
                job_free(j);
        }
        for (Job *j = m->done, *n; j; j = n) {
                n = j->next;
                job_free(j);
        }
        m->queue = m->done = NULL;
        m->done_source = sd_event_source_unref(m->done_source);
        if (m->done_fd >= 0)
                close(m->done_fd);
        m->done_fd = -1;
}

int manager_queue(Manager *m, Job *j) {
        Job **tail;

        pthread_mutex_lock(&m->lock);
        for (tail = &m->queue; *tail; tail = &(*tail)->next)
                ;
        *tail = j;
        pthread_cond_signal(&m->cond);
        pthread_mutex_unlock(&m->lock);
        if (job_changes_host(j)) {
                m->jobs_running++;
                manager_update_status(m);
        }
        return 0;
}
