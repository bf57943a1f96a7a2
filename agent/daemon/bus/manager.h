/* SPDX-License-Identifier: LGPL-2.1-or-later */
#pragma once

/* The daemon's sd-bus/sd-event front: one sd-event loop for the bus, the
 * plugins' watches, timers and signals, around the event-loop-neutral
 * parts in agent/daemon (the worker, the confirm window, the watches and
 * heal scheduling). Reconciles run one at a time on the worker thread, so
 * the loop stays responsive while an apply runs; the worker never touches
 * the bus. The program says what the daemon is made of (its Product and
 * settings) and may add methods and signals of its own to the interface
 * (program_vtable) and hear of finished restores (restored). */

#include <stdbool.h>
#include <stdint.h>

#include <json-c/json.h>
#include <systemd/sd-bus.h>
#include <systemd/sd-event.h>

#include "confirm.h"
#include "job.h"
#include "macro.h"
#include "plugin.h"
#include "reconcile.h"
#include "watches.h"
#include "worker.h"

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

typedef struct Manager Manager;

struct Manager {
        sd_event *event;
        sd_bus *bus;
        sd_bus_slot *vtable_slot;
        sd_bus_slot *program_slot;

        /* set by the program before manager_start() */
        const Product *product;       /* the program's plugins and placeholders */
        PluginContext ctx;            /* for every reconcile; ctx.settings: the program's */
        const char *fault_after;      /* the programs' test aid (Reconciler.fault_after) */
        char *settings_json;          /* the Settings property: what the program says its
                                       * work depends on besides the document */
        char *state_path;             /* --state */
        int lock_timeout_ms;
        unsigned keep_checkpoints;
        /* Methods and signals of the program's own on the same interface,
         * their handlers called with program_userdata. */
        const sd_bus_vtable *program_vtable;
        void *program_userdata;
        /* A restore (JOB_RESTORE) finished; the program may tell of it. */
        void (*restored)(Manager *m, const Job *j);

        /* exported state */
        ManagerStatus status;
        uint64_t generation;
        char *last_result;            /* JSON of the last apply */
        bool ready;                   /* READY=1 was sent */
        bool reloading;               /* RELOADING=1 was sent; READY=1 follows the apply */

        /* jobs: queued by the loop, run by the worker, handed back */
        Worker *worker;
        sd_event_source *worker_source;
        unsigned jobs_running;        /* that change the host */

        /* confirm window */
        ConfirmWindow confirm;
        sd_event_source *confirm_timer;

        /* the plugins' watches */
        Watches *watches;
        sd_event_source **watch_sources; /* one per file descriptor */
        size_t n_watch_sources;
        sd_event_source *watch_timer;
        bool degraded;                /* a watched service is gone */
        bool state_file_pending;      /* the state file could not be applied yet */
};

const char *manager_status_to_string(ManagerStatus s);

int manager_new(Manager **ret);
Manager *manager_free(Manager *m);
int manager_start(Manager *m);
int manager_run(Manager *m);

/* Queues j (ownership passes to the manager). */
int manager_queue(Manager *m, Job *j);
/* Status from degraded / confirm / running jobs. */
void manager_update_status(Manager *m);
/* Queues the state file (start-up, SIGHUP, a service back); requester
 * names the occasion. */
int manager_queue_state_file(Manager *m, const char *requester);

/* manager-bus.c */
int manager_bus_setup(Manager *m);
/* For methods: refuses a caller whose uid is not 0 (methods that change
 * the host). */
int manager_check_root(sd_bus_message *msg, sd_bus_error *error);
/* Queues j to answer msg when it is done. Returns 1 (the reply comes
 * later) or a negative errno. */
int manager_queue_call(Manager *m, sd_bus_message *msg, Job *j);
void manager_bus_reply(Manager *m, Job *j);
int manager_emit_state_applied(Manager *m, Job *j);
/* A long step of the running apply (PluginContext.progress). */
int manager_emit_progress(Manager *m, const char *plugin, const char *step);
int manager_emit_drift(Manager *m, const char *plugin, const char *path, const char *detail_json);
int manager_emit_confirm_pending(Manager *m, unsigned seconds_left);
int manager_emit_rolled_back(Manager *m, uint64_t generation, const char *reason, const char *result_json);
void manager_set_status(Manager *m, ManagerStatus s);
void manager_properties_changed(Manager *m, const char *property);
/* Who sent a method call: "<member> from uid U, pid P". */
char *bus_caller(sd_bus_message *msg);

/* manager-confirm.c */
/* Opens the window of a confirmed apply before it is answered. */
void manager_confirm_open(Manager *m, Job *j);
int manager_confirm_load(Manager *m);
/* Keeps the pending apply; requester: who confirmed, for the log. */
int manager_confirm(Manager *m, const char *requester);
/* The rollback after a missed confirmation finished. */
void manager_confirm_done(Manager *m, bool ok);

/* manager-watch.c */
int manager_watch_start(Manager *m);
void manager_watch_stop(Manager *m);
/* The applied state changed: the watches follow it. */
void manager_watch_refresh(Manager *m);
