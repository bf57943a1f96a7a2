/* SPDX-License-Identifier: LGPL-2.1-or-later */
/* The net plugin's watch (PluginVTable.watch): an OVSDB "monitor" of
 * bridges, ports and interfaces. Any change out of band (a port deleted
 * by hand, ifreload wiping ports) is drift. When ovsdb-server goes away
 * the watch reports it lost and connects again with backoff (100 ms,
 * doubling up to 5 s), then reports it back. */
#include <stdio.h>

#include "fileio.h"
#include "host.h"
#include "json-util.h"
#include "net.h"
#include "ovsdb-client.h"

#define RECONNECT_MIN_MS 100
#define RECONNECT_MAX_MS 5000

typedef struct NetWatch {
        Watch watch;
        OvsdbClient *monitor;         /* NULL: not connected */
        bool lost;                    /* reported lost, not back yet */
        unsigned delay_ms;            /* backoff of the next retry */
        uint64_t retry_at;            /* CLOCK_MONOTONIC usec */
} NetWatch;

static json_object *monitor_columns(const char *const *cols) {
        json_object *o = json_object_new_object(), *a = json_object_new_array();

        for (; *cols; cols++)
                json_object_array_add(a, json_object_new_string(*cols));
        json_object_object_add(o, "columns", a);
        return o;
}

static int monitor_connect(NetWatch *n) {
        static const char *const bridge[] = { "name", "ports", "external_ids", "fail_mode", "datapath_type",
                                              "stp_enable", "rstp_enable", "other_config", NULL };
        static const char *const port[] = { "name", "interfaces", "tag", "trunks", "vlan_mode", "external_ids", NULL };
        static const char *const iface[] = { "name", "type", "options", "mtu_request", "external_ids", NULL };
        _cleanup_(json_object_putp) json_object *result = NULL;
        _cleanup_(freep) char *err = NULL;
        json_object *params, *reqs;
        OvsdbClient *c = NULL;
        int r;

        r = ovsdb_client_connect(host_settings(n->watch.ctx)->ovsdb_address, 2000, &c);
        if (r < 0)
                return r;
        params = json_object_new_array();
        reqs = json_object_new_object();
        json_object_object_add(reqs, "Bridge", monitor_columns(bridge));
        json_object_object_add(reqs, "Port", monitor_columns(port));
        json_object_object_add(reqs, "Interface", monitor_columns(iface));
        json_object_array_add(params, json_object_new_string("Open_vSwitch"));
        json_object_array_add(params, json_object_new_string("op-dbus"));
        json_object_array_add(params, reqs);
        r = ovsdb_client_call(c, "monitor", params, &result, &err);
        if (r < 0) {
                ovsdb_client_free(c);
                return r;
        }
        n->monitor = c;
        n->delay_ms = 0;
        return 0;
}

/* The connection is gone (or never came): lost, and a retry. */
static void monitor_lost(NetWatch *n, int error, WatchEvents *out) {
        WatchEvent *e;

        n->monitor = ovsdb_client_free(n->monitor);
        n->retry_at = now_usec() + (uint64_t) MAX(n->delay_ms, (unsigned) RECONNECT_MIN_MS) * 1000;
        if (n->lost)
                return;
        n->lost = true;
        e = watch_events_add(out, WATCH_LOST, NULL, "Lost the connection to OVSDB");
        if (e)
                e->error = error;
}

static int net_watch_start(Watch *w, WatchEvents *out) {
        NetWatch *n = (NetWatch *) w;
        int r;

        r = monitor_connect(n);
        if (r < 0)
                monitor_lost(n, r, out);
        return 0;
}

static size_t net_watch_fds(Watch *w, int *fds, size_t n) {
        NetWatch *nw = (NetWatch *) w;

        if (!nw->monitor)
                return 0;
        if (n > 0)
                fds[0] = ovsdb_client_fd(nw->monitor);
        return 1;
}

static void net_watch_input(Watch *w, int fd, WatchEvents *out) {
        NetWatch *n = (NetWatch *) w;
        json_object *msg = NULL;
        bool changed = false;
        int r;

        r = ovsdb_client_wait_notification(n->monitor, 0);
        if (r < 0) {
                monitor_lost(n, r, out);
                return;
        }
        while (ovsdb_client_pop_notification(n->monitor, &msg) > 0) {
                if (streq_ptr(json_member_string(msg, "method"), "update"))
                        changed = true;
                json_object_put(msg);
        }
        if (changed)
                (void) watch_events_add(out, WATCH_DRIFT, NULL, "Open vSwitch changed");
}

static int net_watch_timeout_ms(Watch *w) {
        NetWatch *n = (NetWatch *) w;
        uint64_t now = now_usec();

        if (n->monitor)
                return -1;
        return n->retry_at <= now ? 0 : (int) ((n->retry_at - now + 999) / 1000);
}

static void net_watch_tick(Watch *w, bool busy, WatchEvents *out) {
        NetWatch *n = (NetWatch *) w;

        if (n->monitor || n->retry_at > now_usec())
                return;
        if (monitor_connect(n) < 0) {
                n->delay_ms = MIN(MAX(n->delay_ms * 2, (unsigned) RECONNECT_MIN_MS), (unsigned) RECONNECT_MAX_MS);
                n->retry_at = now_usec() + (uint64_t) n->delay_ms * 1000;
                return;
        }
        if (n->lost) {
                n->lost = false;
                (void) watch_events_add(out, WATCH_BACK, NULL, "OVSDB is back");
        }
}

static void net_watch_done(Watch *w) {
        NetWatch *n = (NetWatch *) w;

        n->monitor = ovsdb_client_free(n->monitor);
}

const WatchVTable net_watch_vtable = {
        .object_size = sizeof(NetWatch),
        .start = net_watch_start,
        .fds = net_watch_fds,
        .input = net_watch_input,
        .timeout_ms = net_watch_timeout_ms,
        .tick = net_watch_tick,
        .done = net_watch_done,
};
