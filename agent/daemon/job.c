/* SPDX-License-Identifier: LGPL-2.1-or-later */
#include <errno.h>
#include <stdio.h>
#include <unistd.h>

#include "job.h"

Job *job_new(JobKind kind) {
        Job *j = calloc(1, sizeof(Job));

        if (!j)
                return NULL;
        j->kind = kind;
        j->caller_uid = getuid();
        j->caller_pid = getpid();
        if (!(j->caller_process = strdup(program_invocation_short_name)))
                return job_free(j);
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

static char **strv_one(const char *s) {
        char **l = calloc(2, sizeof(char *));

        if (l && !(l[0] = strdup(s))) {
                free(l);
                return NULL;
        }
        return l;
}

Job *job_new_restore(const Product *product, const char *plugin, const char *scope) {
        Job *j = job_new(JOB_RESTORE);

        if (!j || !(j->plugins = strv_one(plugin)) || (scope && !(j->scope = strdup(scope))))
                return job_free(j);
        for (size_t i = 0; i < product->n_plugins; i++)
                if (streq(product->plugins[i]->name, plugin) && product->plugins[i]->watch) {
                        j->restore_kind = product->plugins[i]->watch->restore_kind;
                        j->restore_noun = product->plugins[i]->watch->restore_noun;
                }
        return j;
}

static void strv_free(char **l) {
        for (char **p = l; p && *p; p++)
                free(*p);
        free(l);
}

static char **strv_copy(char **l) {
        size_t n = 0;
        char **c;

        while (l[n])
                n++;
        c = calloc(n + 1, sizeof(char *));
        if (!c)
                return NULL;
        for (size_t i = 0; i < n; i++)
                if (!(c[i] = strdup(l[i]))) {
                        strv_free(c);
                        return NULL;
                }
        return c;
}

Job *job_free(Job *j) {
        if (!j)
                return NULL;
        free(j->requester);
        free(j->source);
        free(j->caller_process);
        free(j->state_json);
        free(j->state_path);
        strv_free(j->plugins);
        free(j->scope);
        free(j->plugin);
        json_object_put(j->rollback_state);
        if (j->origin && j->origin_free)
                j->origin_free(j->origin);
        free(j->result_json);
        free(j->error_text);
        json_object_put(j->snapshot);
        json_object_put(j->drift);
        free(j);
        return NULL;
}

void job_free_list(Job *j) {
        while (j) {
                Job *next = j->next;

                job_free(j);
                j = next;
        }
}

Job *job_again(Job *j) {
        Job *again = job_new(j->kind);

        if (!again || (j->scope && !(again->scope = strdup(j->scope))) ||
            (j->plugins && !(again->plugins = strv_copy(j->plugins))) ||
            (j->state_path && !(again->state_path = strdup(j->state_path))) ||
            (j->requester && !(again->requester = strdup(j->requester))))
                return job_free(again);
        again->automatic = j->automatic;
        again->restricted = j->restricted;
        again->deadline_usec = j->deadline_usec;
        again->restore_kind = j->restore_kind;
        again->restore_noun = j->restore_noun;
        again->origin = TAKE_PTR(j->origin);
        again->origin_free = j->origin_free;
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

int job_set_requester(Job *j, const char *fmt, ...) {
        va_list ap;
        char *s;
        int r;

        va_start(ap, fmt);
        r = vasprintf(&s, fmt, ap);
        va_end(ap);
        if (r < 0)
                return -ENOMEM;
        free(j->requester);
        j->requester = s;
        return 0;
}

unsigned job_restored(const Job *j) {
        return j->kind == JOB_RESTORE && j->restore_kind ? apply_counts_get(&j->counts, j->restore_kind) : 0;
}
