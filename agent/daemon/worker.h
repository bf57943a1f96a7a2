/* SPDX-License-Identifier: LGPL-2.1-or-later */
#pragma once

/* The worker: a thread that runs a daemon's jobs one at a time, each with
 * a reconciler of its own set up from the product, so the daemon's loop
 * stays responsive while an apply runs. Jobs in (worker_submit), results
 * out (worker_take_done, once worker_fd is readable). The worker knows
 * nothing of the daemon around it: it reads its configuration and the
 * jobs it is given, and nothing else. */

#include "job.h"
#include "plugin.h"
#include "reconcile.h"

typedef struct WorkerConfig {
        const Product *product;       /* the program's plugins and placeholders */
        PluginContext ctx;            /* for every reconcile; ctx.settings: the program's */
        const char *fault_after;      /* the programs' test aid (Reconciler.fault_after) */
        int lock_timeout_ms;
        unsigned keep_checkpoints;
} WorkerConfig;

typedef struct Worker Worker;

/* A long step of the job the worker runs (PluginContext.progress),
 * handed to the loop with the finished jobs. */
typedef struct WorkerProgress {
        struct WorkerProgress *next;
        char *plugin;
        char *what;
} WorkerProgress;

/* The steps told since the last call, oldest first (worker_fd() becomes
 * readable for them too); free each with worker_progress_free(). */
WorkerProgress *worker_take_progress(Worker *w);
WorkerProgress *worker_progress_free(WorkerProgress *p);

/* Starts the thread; cfg is copied (what it points to must outlive the
 * worker). */
int worker_new(const WorkerConfig *cfg, Worker **ret);
/* Stops the thread after the job it runs; frees the jobs not handed back. */
Worker *worker_free(Worker *w);
DEFINE_TRIVIAL_CLEANUP_FUNC(Worker *, worker_free);
/* Readable when finished jobs wait to be taken. */
int worker_fd(const Worker *w);
/* Queues j (ownership passes to the worker until it is handed back). */
void worker_submit(Worker *w, Job *j);
/* The finished jobs, in the order they finished, linked by next (the
 * caller frees them); NULL when there are none. */
Job *worker_take_done(Worker *w);
/* Runs j on the calling thread, as the worker would. */
void worker_run_job(const WorkerConfig *cfg, Job *j);
