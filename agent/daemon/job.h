/* SPDX-License-Identifier: LGPL-2.1-or-later */
#pragma once

/* A daemon's unit of work: what a caller (or the daemon itself) asks for,
 * and, once the worker ran it, the result. The front that queued a job
 * keeps what it needs to answer in origin (a method call, say); the job
 * frees it with origin_free and otherwise never looks into it. */

#include <stdarg.h>
#include <stdbool.h>
#include <stdint.h>

#include <json-c/json.h>

#include "macro.h"
#include "plan.h"
#include "reconcile.h"

typedef enum JobKind {
        JOB_APPLY,            /* a document from a caller, a reload or start-up */
        JOB_PLAN,
        JOB_VERIFY,
        JOB_QUERY,
        JOB_ROLLBACK,         /* to a checkpoint (0: the previous one) */
        JOB_RESTORE,          /* put back the named plugins, in scope, from the applied
                               * state (or state_path); recorded as no new generation */
        JOB_HEAL,             /* re-apply the applied state after drift */
        JOB_CONFIRM_ROLLBACK, /* the confirm window ran out */
} JobKind;

typedef struct Job {
        JobKind kind;
        struct Job *next;

        /* input, set by the loop thread */
        char *state_json;             /* APPLY, PLAN */
        char *state_path;             /* APPLY, RESTORE: from a file */
        char **plugins;               /* only these plugins, NULL-terminated; NULL: all */
        char *scope;                  /* RESTORE: PluginContext.scope ("" or NULL: all) */
        char *plugin;                 /* QUERY one plugin */
        bool dry_run;
        bool allow_outage;            /* APPLY, ROLLBACK: the caller accepts cutting traffic off */
        unsigned confirm_timeout;     /* seconds; 0: none */
        uint64_t to;                  /* ROLLBACK */
        json_object *rollback_state;  /* CONFIRM_ROLLBACK: the state to restore */
        uint64_t deadline_usec;       /* CLOCK_MONOTONIC: give up (busy) if not started by then */
        char *requester;              /* who asked, for the log: "SIGHUP", "ApplyState from uid 0, pid 42" */
        bool automatic;               /* the daemon's own (drift, audits): logged only if it did something */
        bool restricted;              /* asked by a caller other than root (PluginContext.restricted) */
        const char *restore_kind;     /* RESTORE: the count that says how much was put back ... */
        const char *const *restore_noun; /* ... and what it counts (WatchVTable), or NULL */
        const char *reason;           /* for the audit record: "state-file", ...; NULL: by kind
                                       * ("apply", "rollback", "confirm-timeout") */
        char *source;                 /* what is applied, for the audit record: "D-Bus ApplyState";
                                       * NULL: state_path */
        int64_t caller_uid;           /* who asked (job_new: this process); -1: not known */
        int64_t caller_pid;
        char *caller_process;         /* its name; NULL: not known */
        void *origin;                 /* the front's, e.g. the call to answer */
        void (*origin_free)(void *origin);

        /* output, set by the worker */
        int status;                   /* ReconcileStatus */
        int error;                    /* negative errno */
        bool busy;                    /* never started: deadline passed */
        char *result_json;
        char *error_text;             /* first error line, for the front's errors */
        uint64_t generation;
        bool changed;
        ApplyCounts counts;           /* what the reconcile sent */
        json_object *snapshot;        /* APPLY with confirm: the state before */
        json_object *drift;           /* HEAL: array of {plugin, path, action, detail} */
} Job;

Job *job_new(JobKind kind);
/* A job the daemon starts by itself (requester: why). */
Job *job_new_automatic(JobKind kind, const char *requester);
/* A restore of one plugin of product, in scope (NULL: all). */
Job *job_new_restore(const Product *product, const char *plugin, const char *scope);
Job *job_free(Job *j);
DEFINE_TRIVIAL_CLEANUP_FUNC(Job *, job_free);
/* Frees a list linked by next. */
void job_free_list(Job *j);
/* The same work again (it found its document out of date), taking over
 * the origin. Only for jobs that work from the applied state. */
Job *job_again(Job *j);
bool job_changes_host(const Job *j);
int job_set_requester(Job *j, const char *fmt, ...) _printf_(2, 3);
/* How much a restore put back (its restore_kind), 0 for other jobs. */
unsigned job_restored(const Job *j);

/* job-log.c: one line for each job that changes the host */
/* "<requester>: <what happened>", or NULL when an automatic job did
 * nothing worth telling. */
char *job_log_line(const Job *j);
/* Logs the line at a level that fits the outcome. */
void job_log(const Job *j, const char *line);
