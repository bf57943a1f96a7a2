/* SPDX-License-Identifier: LGPL-2.1-or-later */
#pragma once

/* Plugins own one section of the state document each. A plugin is a
 * vtable plus an instance struct whose first member is Plugin. The driver
 * (reconcile.c) calls, per plugin and in dependency order:
 *
 *   parse  -> query -> diff -> [apply -> query -> diff (must be empty) -> verify]
 *
 * parse and diff do no I/O. query replaces any live state read before, so
 * the same instance can be re-queried for verification. */

#include <stdbool.h>
#include <stdint.h>

#include <json-c/json.h>

#include "diag.h"
#include "plan.h"
#include "state.h"

/* What every plugin of every product is given. A program's own settings
 * for its plugins (where its services are: sockets, directories, files)
 * are in settings, a struct the program and its plugins share; the core
 * does not look into it. */
typedef struct PluginContext {
        const char *state_dir;      /* persistent state (checkpoints, ledgers) */
        const char *run_dir;        /* runtime state (lock) */
        int timeout_ms;             /* bound for every call to a service */
        uint64_t generation;        /* generation an apply is writing (set by the driver) */
        bool healing;               /* repairing drift: objects with drift "report" are left alone */
        bool restoring;             /* putting back the snapshot of a failed apply (set by the driver) */
        /* Only this part of the plugin's section, as the plugin names its
         * parts (a restore of one of them); NULL: all of it. A plugin whose
         * section has no parts ignores it; one that has them refuses, in
         * parse, a scope that names none of the document's. */
        const char *scope;
        const void *settings;       /* the program's settings for its plugins */
        /* The document comes from a caller who may plan but not change the
         * host (a caller of the daemon other than root). Such a caller must not make
         * the program, which runs as root, read what it names: plugins make
         * no network requests, and a document naming files, paths or
         * servers other than the applied state's is refused before
         * anything is read (check_restricted). */
        bool restricted;
        /* Told of each long step of an apply (creating or starting a guest,
         * putting its services in place), from the thread that applies:
         * the plugin's name and what it does now. NULL: nobody listens. */
        void (*progress)(void *userdata, const char *plugin, const char *what);
        void *progress_userdata;
} PluginContext;

typedef struct Plugin Plugin;

/* ---- Watches: what a daemon learns from a plugin between applies ----
 *
 * A daemon keeps the host converged while it runs. A plugin that can tell
 * when something of its own may have changed offers a watch
 * (PluginVTable.watch): file descriptors to wait on, a time to be called
 * back, a periodic audit, and what it finds, as events. A watch only
 * observes and reports: the daemon debounces, queues the repairs, keeps
 * its status (degraded while a service is gone) and skips audits while it
 * is busy or degraded. Times are milliseconds and nothing belongs to an
 * event loop, so a daemon can drive watches from any loop. */

typedef enum WatchEventKind {
        WATCH_DRIFT,      /* something of the plugin's may have changed out of band:
                           * heal from the applied state (the daemon waits a moment
                           * for more changes first) */
        WATCH_RESTORE,    /* the plugin's service restarted and lost what op-dbus had
                           * put there: restore the plugin now, from the applied state,
                           * in scope (PluginContext.scope) */
        WATCH_LOST,       /* the plugin's service is gone: the daemon is degraded until
                           * the watch reports WATCH_BACK */
        WATCH_BACK,       /* the service is back: the daemon converges */
        WATCH_LOG,        /* text for the daemon's log, at level */
        _WATCH_EVENT_MAX,
} WatchEventKind;

typedef struct WatchEvent {
        WatchEventKind kind;
        char *scope;      /* RESTORE: the part to restore; NULL: all */
        /* DRIFT: what changed ("drift repair (<text>)" names the heal);
         * RESTORE: why (names the restore); LOST, BACK, LOG: the message. */
        char *text;
        int error;        /* LOST: why it is gone (negative errno) */
        int level;        /* LOG: syslog priority */
} WatchEvent;

typedef struct WatchEvents {
        WatchEvent *events;
        size_t n;
} WatchEvents;

/* Appends an event; NULL when out of memory (then the event is lost). */
WatchEvent *watch_events_add(WatchEvents *e, WatchEventKind kind, const char *scope, const char *fmt, ...)
        _printf_(4, 5);
void watch_events_done(WatchEvents *e);

typedef struct Watch Watch;

typedef struct WatchVTable {
        size_t object_size;             /* size of the instance struct (first member: Watch) */

        /* Optional: starts watching what does not depend on the applied
         * state. A service that cannot be reached is an event
         * (WATCH_LOST), not a failure; returns a negative errno only for
         * failures of its own (out of memory). */
        int (*start)(Watch *w, WatchEvents *out);
        /* Optional: what to watch: the plugin as it parsed the applied state's
         * section (NULL: nothing applied, or no section). Called after
         * start and after every apply and repair; keeps nothing of
         * applied, which is freed after the call. */
        int (*arm)(Watch *w, const Plugin *applied, WatchEvents *out);
        /* The file descriptors to wait on for input: up to n into fds
         * (NULL when n is 0); returns how many there are (more than n:
         * ask again with more room). The set may change after any call
         * into the watch. */
        size_t (*fds)(Watch *w, int *fds, size_t n);
        /* fd, one of fds, has input (or was closed by the other side). */
        void (*input)(Watch *w, int fd, WatchEvents *out);
        /* Milliseconds until tick wants to be called (a retry); -1: never. */
        int (*timeout_ms)(Watch *w);
        /* The timeout passed. busy: the daemon runs a job that changes the
         * host (an apply may take what is watched away for a while). */
        void (*tick)(Watch *w, bool busy, WatchEvents *out);

        /* Optional: a periodic audit, every audit_interval_ms (0: none),
         * which looks for what no event tells (WATCH_DRIFT,
         * WATCH_RESTORE); its repairs are named after audit_name. */
        const char *audit_name;
        unsigned (*audit_interval_ms)(Watch *w);
        void (*audit)(Watch *w, WatchEvents *out);

        /* For the log of a restore of this plugin: the kind of writes it
         * counts (ApplyCounts) and what one of them puts back, singular
         * and plural ("restored 3 rules"). */
        const char *restore_kind;
        const char *restore_noun[2];

        /* Frees the instance's contents (not the instance). */
        void (*done)(Watch *w);
} WatchVTable;

struct Watch {
        const WatchVTable *vtable;
        const PluginContext *ctx;
};

/* Tells ctx->progress (if any) what p does now. */
void plugin_progress(const Plugin *p, const char *fmt, ...) _printf_(2, 3);

/* Allocates an instance of vt. */
int watch_new(const WatchVTable *vt, const PluginContext *ctx, Watch **ret);
Watch *watch_free(Watch *w);
DEFINE_TRIVIAL_CLEANUP_FUNC(Watch *, watch_free);

typedef struct PluginVTable {
        const char *name;               /* section key in "plugins" */
        const char *const *after;       /* plugins applied before this one (NULL-terminated) */
        /* Other sections this plugin's parse reads and acts on (NULL-
         * terminated, or NULL): it takes part in an apply of any of them,
         * also when its own section is kept from the applied state. */
        const char *const *also_reads;
        size_t object_size;             /* size of the instance struct */

        /* Validates the plugin's section (NULL when absent) and keeps the
         * desired model. Returns 1 when there is something to manage, 0 when
         * the plugin has nothing to do for this document, -EINVAL when
         * errors were recorded in d. Reads at most local configuration
         * files named by the program's settings; never services. */
        int (*parse)(Plugin *p, const StateDoc *doc, json_object *section, Diag *d);
        /* Optional; called after a successful parse when ctx->restricted:
         * records an error at every value of the document that would make
         * the plugin read a file, look at a path somewhere or contact a
         * server that the applied state's section (applied; NULL
         * when the applied state has none) does not name, and returns
         * -EACCES if there is one. No I/O. */
        int (*check_restricted)(Plugin *p, json_object *applied, Diag *d);
        /* Optional: asks for live state whose answer takes the other side
         * long to prepare (sends requests, does not wait), right before
         * the plugins are queried in order; the plugin's next query
         * collects the answers. Failures are left for query to find. */
        void (*prefetch)(Plugin *p);
        /* Reads the live state (replacing what an earlier query read). */
        int (*query)(Plugin *p, Diag *d);
        /* Pure: compares desired and live, appends actions to plan and
         * warnings/notes to d. Conflicts that make the plan impossible are
         * errors in d (and a -EINVAL return). */
        int (*diff)(Plugin *p, Plan *plan, Diag *d);
        /* Carries out what the last diff computed. */
        int (*apply)(Plugin *p, ApplyCounts *counts, Diag *d);
        /* Optional health check after a converged re-query (errors in d). */
        int (*verify)(Plugin *p, Diag *d);
        /* The live state op-dbus owns, as this plugin's section of a state
         * document: applying it reproduces the current host. */
        int (*live_to_json)(Plugin *p, json_object **ret);
        /* live_to_json answers from the newest checkpoint, which an apply
         * does not change before it succeeds: the driver asks only when it
         * must roll back. */
        bool snapshot_from_checkpoint;
        /* Optional: replaces every secret value of section (its part of a
         * stored state, a copy the caller owns) with PLUGIN_REDACTED, for
         * output that shows stored states (diff --from). No I/O. */
        void (*redact)(json_object *section);
        /* Optional: what a daemon watches for this plugin (above). */
        const WatchVTable *watch;
        /* Frees the instance's contents (not the instance). */
        void (*done)(Plugin *p);
} PluginVTable;

/* What stands for a secret value in output. */
#define PLUGIN_REDACTED "<redacted>"

/* How a plugin's check_restricted ends the message at a refused value. */
#define PLUGIN_RESTRICTED_HINT \
        "a plan asked for by a caller other than root may name only the files and servers of the applied state; " \
        "root may plan this document"

struct Plugin {
        const PluginVTable *vtable;
        const PluginContext *ctx;
};

/* Tells ctx->progress (if any) what p does now. */
void plugin_progress(const Plugin *p, const char *fmt, ...) _printf_(2, 3);

/* Allocates an instance of vt. */
int plugin_new(const PluginVTable *vt, const PluginContext *ctx, Plugin **ret);
Plugin *plugin_free(Plugin *p);
DEFINE_TRIVIAL_CLEANUP_FUNC(Plugin *, plugin_free);

/* The set of plugins compiled into a program, in dependency order. */
typedef struct PluginRegistry {
        const PluginVTable **sorted;
        size_t n;
} PluginRegistry;

/* Orders vtables so every plugin comes after those it names in "after"
 * (ties keep the given order; names of plugins not built in are ignored).
 * Fails with -ELOOP on a cycle and -EEXIST on a duplicate name. */
int plugin_registry_init(PluginRegistry *reg, const PluginVTable *const *vtables, size_t n);
void plugin_registry_done(PluginRegistry *reg);
const PluginVTable *plugin_registry_find(const PluginRegistry *reg, const char *name);
/* "a, b, ..." (caller frees). */
char *plugin_registry_names(const PluginRegistry *reg);
