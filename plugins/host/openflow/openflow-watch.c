/* SPDX-License-Identifier: LGPL-2.1-or-later */
/* The openflow plugin's watch (PluginVTable.watch): one OpenFlow
 * connection per bridge the applied state puts flows on. ovs-vswitchd
 * closes it when it stops, and a restart loses every flow: when the
 * connection is back, the bridge's flows are to be restored. A periodic
 * audit restores the flows of every bridge that is there, which puts back
 * flows deleted by hand. */
#include <syslog.h>

#include "fileio.h"
#include "host.h"
#include "openflow.h"
#include "switch-links.h"

/* A lost connection still not back after this long, while no apply runs
 * (one that deletes the bridge ends the watch): worth a warning. */
#define LOST_WARN_USEC (10 * 1000 * 1000)

typedef struct OpenflowWatch {
        Watch watch;
        SwitchLinks links;            /* one per bridge with flows */
} OpenflowWatch;

static const char *rundir(const OpenflowWatch *o) {
        return host_settings(o->watch.ctx)->ovs_rundir;
}

/* Restores for the bridges that came back. */
static void report_back(OpenflowWatch *o, WatchEvents *out) {
        for (size_t i = 0; i < o->links.n; i++) {
                SwitchLink *l = &o->links.links[i];

                if (!l->back)
                        continue;
                l->back = false;
                (void) watch_events_add(out, WATCH_RESTORE, l->bridge, "OpenFlow connection to %s back after %.1f s "
                                        "(ovs-vswitchd restarted, or the bridge was re-created)", l->bridge,
                                        (double) l->gone_usec / 1e6);
        }
}

static int openflow_watch_arm(Watch *w, const Plugin *applied, WatchEvents *out) {
        OpenflowWatch *o = (OpenflowWatch *) w;
        const OpenflowConfig *want = applied ? openflow_plugin_want(applied) : NULL;
        _cleanup_(freep) char **names = NULL;
        size_t n = want ? want->n_bridges : 0;

        if (n > 0) {
                names = calloc(n, sizeof(char *));
                if (!names)
                        return -ENOMEM;
                for (size_t i = 0; i < n; i++)
                        names[i] = want->bridges[i].name;
        }
        return switch_links_set(&o->links, rundir(o), names, n, now_usec());
}

static size_t openflow_watch_fds(Watch *w, int *fds, size_t n) {
        return switch_links_fds(&((OpenflowWatch *) w)->links, fds, n);
}

static void openflow_watch_input(Watch *w, int fd, WatchEvents *out) {
        OpenflowWatch *o = (OpenflowWatch *) w;
        SwitchLink *l = switch_links_input(&o->links, rundir(o), fd, now_usec());
        WatchEvent *e;

        if (!l)
                return;
        /* Dropped: ovs-vswitchd went away, or the bridge was deleted: by
         * hand (the drift repair puts it back), or by an apply of op-dbus
         * (which then ends this watch). Nothing to say yet: the flows are
         * restored, and logged, on reconnect. */
        if (l->lost && (e = watch_events_add(out, WATCH_LOG, NULL, "Lost the OpenFlow connection to %s.", l->bridge)))
                e->level = LOG_DEBUG;
        report_back(o, out);
}

static int openflow_watch_timeout_ms(Watch *w) {
        return switch_links_timeout_ms(&((OpenflowWatch *) w)->links, now_usec());
}

static void openflow_watch_tick(Watch *w, bool busy, WatchEvents *out) {
        OpenflowWatch *o = (OpenflowWatch *) w;
        uint64_t now = now_usec();

        switch_links_tick(&o->links, rundir(o), now);
        report_back(o, out);
        for (size_t i = 0; i < o->links.n; i++) {
                SwitchLink *l = &o->links.links[i];
                WatchEvent *e;

                if (!l->lost || l->warned || busy || now - l->lost_usec < LOST_WARN_USEC)
                        continue;
                e = watch_events_add(out, WATCH_LOG, NULL, "No OpenFlow connection to %s for %u s: ovs-vswitchd is "
                                     "not running, or the bridge is gone; op-dbus puts its flows back when the "
                                     "bridge is there again.", l->bridge, (unsigned) (LOST_WARN_USEC / 1000000));
                if (e)
                        e->level = LOG_WARNING;
                l->warned = true;
        }
}

static unsigned openflow_watch_audit_interval_ms(Watch *w) {
        return host_settings(w->ctx)->flow_audit_ms;
}

/* Every bridge that is there: its flows again (nothing when they match). */
static void openflow_watch_audit(Watch *w, WatchEvents *out) {
        OpenflowWatch *o = (OpenflowWatch *) w;

        for (size_t i = 0; i < o->links.n; i++)
                if (o->links.links[i].client)
                        (void) watch_events_add(out, WATCH_RESTORE, o->links.links[i].bridge, "flow audit");
}

static void openflow_watch_done(Watch *w) {
        switch_links_done(&((OpenflowWatch *) w)->links);
}

const WatchVTable openflow_watch_vtable = {
        .object_size = sizeof(OpenflowWatch),
        .arm = openflow_watch_arm,
        .fds = openflow_watch_fds,
        .input = openflow_watch_input,
        .timeout_ms = openflow_watch_timeout_ms,
        .tick = openflow_watch_tick,
        .audit_name = "flow audit",
        .audit_interval_ms = openflow_watch_audit_interval_ms,
        .audit = openflow_watch_audit,
        .restore_kind = COUNT_FLOW_MODS,
        .restore_noun = { "flow", "flows" },
        .done = openflow_watch_done,
};
