/* SPDX-License-Identifier: LGPL-2.1-or-later */
/* The lxc plugin's watch (PluginVTable.watch). Containers change without
 * OVSDB noticing: a restart takes a socket networking port's interface
 * with the old network namespace, a container is stopped by hand. While
 * the applied state has containers, a periodic audit finds that as drift.
 * And ovs-vswitchd takes the internal ports it had moved into containers
 * when it restarts: one OpenFlow connection per bridge with socket
 * networking ports tells when, and that is drift at once. */
#include "fileio.h"
#include "host.h"
#include "lxc-plugin.h"
#include "switch-links.h"

typedef struct LxcWatch {
        Watch watch;
        bool containers;              /* the applied state has containers */
        SwitchLinks links;            /* bridges with socket networking ports */
} LxcWatch;

static const char *rundir(const LxcWatch *l) {
        return host_settings(l->watch.ctx)->ovs_rundir;
}

static bool on_socket(const LxcContainer *c) {
        return c->has_network && c->network.socket_networking == LXC_TRUE && c->network.bridge;
}

/* The bridges of the socket networking ports, each once. */
static size_t socket_bridges(const LxcConfig *want, char **names) {
        size_t n = 0;

        for (size_t i = 0; i < want->n_containers; i++) {
                const LxcContainer *c = &want->containers[i];
                bool seen = false;

                if (!on_socket(c))
                        continue;
                for (size_t k = 0; k < n; k++)
                        seen = seen || streq(names[k], c->network.bridge);
                if (!seen)
                        names[n++] = c->network.bridge;
        }
        return n;
}

static int lxc_watch_arm(Watch *w, const Plugin *applied, WatchEvents *out) {
        LxcWatch *l = (LxcWatch *) w;
        const LxcConfig *want = applied ? &((const LxcPlugin *) applied)->want : NULL;
        _cleanup_(freep) char **names = NULL;
        size_t n = 0;

        l->containers = want && want->n_containers > 0;
        if (l->containers) {
                names = calloc(want->n_containers, sizeof(char *));
                if (!names)
                        return -ENOMEM;
                n = socket_bridges(want, names);
        }
        return switch_links_set(&l->links, rundir(l), names, n, now_usec());
}

static size_t lxc_watch_fds(Watch *w, int *fds, size_t n) {
        return switch_links_fds(&((LxcWatch *) w)->links, fds, n);
}

/* ovs-vswitchd restarted: the socket networking ports on the bridges that
 * came back are gone from their containers. */
static void report_back(LxcWatch *l, WatchEvents *out) {
        for (size_t i = 0; i < l->links.n; i++) {
                SwitchLink *s = &l->links.links[i];

                if (!s->back)
                        continue;
                s->back = false;
                (void) watch_events_add(out, WATCH_DRIFT, NULL, "OpenFlow connection to %s back after %.1f s: "
                                        "ovs-vswitchd restarted, or the bridge was re-created", s->bridge,
                                        (double) s->gone_usec / 1e6);
        }
}

static void lxc_watch_input(Watch *w, int fd, WatchEvents *out) {
        LxcWatch *l = (LxcWatch *) w;

        if (switch_links_input(&l->links, rundir(l), fd, now_usec()))
                report_back(l, out);
}

static int lxc_watch_timeout_ms(Watch *w) {
        return switch_links_timeout_ms(&((LxcWatch *) w)->links, now_usec());
}

static void lxc_watch_tick(Watch *w, bool busy, WatchEvents *out) {
        LxcWatch *l = (LxcWatch *) w;

        switch_links_tick(&l->links, rundir(l), now_usec());
        report_back(l, out);
}

static unsigned lxc_watch_audit_interval_ms(Watch *w) {
        return host_settings(w->ctx)->container_audit_ms;
}

static void lxc_watch_audit(Watch *w, WatchEvents *out) {
        if (((LxcWatch *) w)->containers)
                (void) watch_events_add(out, WATCH_DRIFT, NULL, "container audit");
}

static void lxc_watch_done(Watch *w) {
        switch_links_done(&((LxcWatch *) w)->links);
}

const WatchVTable lxc_watch_vtable = {
        .object_size = sizeof(LxcWatch),
        .arm = lxc_watch_arm,
        .fds = lxc_watch_fds,
        .input = lxc_watch_input,
        .timeout_ms = lxc_watch_timeout_ms,
        .tick = lxc_watch_tick,
        .audit_name = "container audit",
        .audit_interval_ms = lxc_watch_audit_interval_ms,
        .audit = lxc_watch_audit,
        .done = lxc_watch_done,
};
