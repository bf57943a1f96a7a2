/* SPDX-License-Identifier: LGPL-2.1-or-later */
#pragma once

/* The op-dbus daemon: one sd-event loop for D-Bus, OVSDB and OpenFlow
 * watches, timers and signals. Reconciles run one at a time on a worker
 * thread (job.c) so the loop stays responsive while an apply runs; the
 * worker never touches the bus. */

#include <pthread.h>
#include <stdbool.h>
#include <stdint.h>

#include <json-c/json.h>
#include <systemd/sd-bus.h>
#include <systemd/sd-event.h>

#include "macro.h"
#include "plugin.h"
#include "reconcile.h"

#define OPDBUS_BUS_NAME "org.opdbus"
#define OPDBUS_OBJECT_PATH "/org/opdbus/state"
#define OPDBUS_INTERFACE "org.opdbus.StateManager"

typedef enum ManagerStatus {
        STATUS_IDLE,
        STATUS_APPLYING,
        STATUS_AWAITING_CONFIRM,
        STATUS_DEGRADED,
        _STATUS_MAX,
} ManagerStatus;

typedef enum JobKind {
        JOB_APPLY,            /* a document from the bus, SIGHUP or start-up */
        JOB_PLAN,
        JOB_VERIFY,
        JOB_QUERY,
        JOB_ROLLBACK,         /* to a checkpoint (0: the previous one) */
        JOB_RESTORE_FLOWS,    /* openflow only, from the applied state */
        JOB_HEAL,             /* re-apply the applied state after drift */
        JOB_CONFIRM_ROLLBACK, /* the confirm window ran out */
} JobKind;

typedef struct Manager Manager;

typedef struct Job {
        JobKind kind;
        struct Job *next;

        /* input, set by the loop thread */
        char *state_json;             /* APPLY, PLAN */
        char *state_path;             /* APPLY from a file */
        char **plugins;               /* --plugin filter, NULL-terminated */
        char *bridge;                 /* RESTORE_FLOWS */
        char *plugin;                 /* QUERY one plugin */
        bool dry_run;
        bool allow_outage;            /* APPLY, ROLLBACK: the caller accepts cutting traffic off */
        unsigned confirm_timeout;     /* seconds; 0: none */
        uint64_t to;                  /* ROLLBACK */
        json_object *rollback_state;  /* CONFIRM_ROLLBACK: the state to restore */
        uint64_t deadline_usec;       /* CLOCK_MONOTONIC: give up (Busy) if not started by then */
        sd_bus_message *call;         /* the method call to answer, or NULL */
        char *requester;              /* who asked, for the log: "SIGHUP", "ApplyState from uid 0, pid 42" */
        bool automatic;               /* the daemon's own (drift, audits): logged only if it did something */
        bool restricted;              /* asked by a caller other than root (PluginContext.restricted) */

        /* output, set by the worker */
        int status;                   /* ReconcileStatus */
        int error;                    /* negative errno */
        bool busy;                    /* never started: deadline passed */
        char *result_json;
        char *error_text;             /* first error line, for D-Bus errors */
        uint64_t generation;
        bool changed;
        unsigned flow_mods;
        json_object *snapshot;        /* APPLY with confirm: the state before */
        json_object *drift;           /* HEAL: array of {plugin, path, action, detail} */
} Job;

struct Manager {
        sd_event *event;
        sd_bus *bus;
        sd_bus_slot *vtable_slot;

        const Product *product;       /* the program's plugins and placeholders */
        PluginContext ctx;            /* for every reconcile; ctx.settings: the program's */
        const char *fault_after;      /* the programs' test aid (Reconciler.fault_after) */
        char *settings_json;          /* the Settings property: what the program says its
                                       * work depends on besides the document */
        char *state_path;             /* --state */
        unsigned audit_interval_sec;  /* periodic flow audit */
        unsigned container_audit_interval_sec; /* periodic heal while containers are applied */
        int lock_timeout_ms;
        unsigned keep_checkpoints;

        /* exported state */
        ManagerStatus status;
        uint64_t generation;
        char *last_result;            /* JSON of the last apply */
        bool degraded;
        bool ready;                   /* READY=1 was sent */
        bool reloading;               /* RELOADING=1 was sent; READY=1 follows the apply */

        /* jobs: queued by the loop, run by the worker, handed back */
        pthread_t worker;
        pthread_mutex_t lock;
        pthread_cond_t cond;
        Job *queue, *done;
        bool stopping;
        int done_fd;                  /* eventfd: the worker finished a job */
        sd_event_source *done_source;
        unsigned jobs_running;

        /* confirm window */
        sd_event_source *confirm_timer;
        uint64_t confirm_deadline;    /* CLOCK_REALTIME usec; 0: none */
        uint64_t confirm_generation;
        json_object *confirm_state;   /* what to restore if it runs out */

        /* watches */
        void *ovsdb_monitor;          /* OvsdbClient of the OVSDB monitor */
        sd_event_source *ovsdb_source;
        sd_event_source *reconnect_timer;
        unsigned reconnect_delay_ms;
        sd_event_source *drift_timer; /* debounce of monitor updates */
        sd_event_source *audit_timer;
        sd_event_source *container_timer;
        bool watch_containers;        /* the applied state has lxc containers */
        struct OfWatch *of_watches;   /* per bridge OpenFlow connection */
        size_t n_of_watches;
        bool state_file_pending;      /* the state file could not be applied yet */
};

const char *manager_status_to_string(ManagerStatus s);

int manager_new(Manager **ret);
Manager *manager_free(Manager *m);
int manager_start(Manager *m);
int manager_run(Manager *m);

/* job.c */
Job *job_new(JobKind kind);
Job *job_free(Job *j);
DEFINE_TRIVIAL_CLEANUP_FUNC(Job *, job_free);
int manager_start_worker(Manager *m);
void manager_stop_worker(Manager *m);
/* Queues j (ownership passes to the manager). */
int manager_queue(Manager *m, Job *j);
/* Called on the loop thread for every finished job. */
void manager_job_done(Manager *m, Job *j);
bool job_changes_host(const Job *j);
/* The same work again (it found its document out of date), taking over
 * the call to answer. Only for jobs that work from the applied state. */
Job *job_again(Job *j);
/* A job the daemon starts by itself (requester: why). */
Job *job_new_automatic(JobKind kind, const char *requester);
/* Status from degraded / confirm / running jobs. */
void manager_update_status(Manager *m);

/* manager-bus.c */
int manager_bus_setup(Manager *m);
void manager_bus_reply(Manager *m, Job *j);
int manager_emit_state_applied(Manager *m, Job *j);
int manager_emit_drift(Manager *m, const char *plugin, const char *path, const char *detail_json);
int manager_emit_flows_restored(Manager *m, const char *bridge, unsigned count);
int manager_emit_confirm_pending(Manager *m, unsigned seconds_left);
int manager_emit_rolled_back(Manager *m, uint64_t generation, const char *reason, const char *result_json);
void manager_set_status(Manager *m, ManagerStatus s);
void manager_properties_changed(Manager *m, const char *property);

/* manager-log.c: one line per job that changes the host */
int job_set_requester(Job *j, const char *fmt, ...) _printf_(2, 3);
/* Who sent a method call: "<member> from uid U, pid P". */
char *bus_caller(sd_bus_message *msg);
int job_set_caller(Job *j, sd_bus_message *msg);
/* "<requester>: <what happened>", or NULL when an automatic job did
 * nothing worth telling. */
char *job_log_line(const Job *j);
/* Logs the line at a level that fits the outcome. */
void job_log(const Job *j, const char *line);

/* manager-confirm.c */
/* Opens the window of a confirmed apply before it is answered, and adds
 * "confirm" (deadline, command) to its result. */
void manager_confirm_open(Manager *m, Job *j);
int manager_confirm_load(Manager *m);
/* Keeps the pending apply; requester: who confirmed, for the log. */
int manager_confirm(Manager *m, const char *requester);
bool manager_confirm_pending(Manager *m);
/* The rollback after a missed confirmation finished. */
void manager_confirm_done(Manager *m, bool ok);

/* manager-watch.c */
int manager_watch_start(Manager *m);
void manager_watch_stop(Manager *m);
/* The applied state changed (bridges with flows may differ). */
void manager_watch_refresh(Manager *m);
/* Queues the state file (start-up, SIGHUP, back from degraded); requester
 * names the occasion. */
int manager_queue_state_file(Manager *m, const char *requester);
