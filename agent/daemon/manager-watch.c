/* SPDX-License-Identifier: LGPL-2.1-or-later */
/* Keeping the host converged while the daemon runs:
 *  - an OVSDB "monitor" of bridges, ports and interfaces: any change out
 *    of band (a port deleted by hand, ifreload wiping ports) schedules a
 *    heal, which re-applies the applied state and reports DriftDetected;
 *  - when ovsdb-server goes away the daemon is degraded and reconnects
 *    with backoff, then converges;
 *  - one OpenFlow connection per bridge op-dbus has flows on: the switch
 *    closes it when ovs-vswitchd stops, so a restart (which loses every
 *    flow) is noticed at once and the flows are restored;
 *  - a periodic audit restores flows deleted by hand. */
#include <stdio.h>

#include "checkpoint.h"
#include "host.h"
#include "json-util.h"
#include "log.h"
#include "manager.h"
#include "ofp-client.h"
#include "ovsdb-client.h"

#define DRIFT_DEBOUNCE_USEC (100 * 1000)
#define RECONNECT_MIN_MS 100
#define RECONNECT_MAX_MS 5000
#define OF_RETRY_USEC (100 * 1000)
/* A lost OpenFlow connection still not back after this long, while no
 * apply runs (one that deletes the bridge ends the watch): worth a warning. */
#define OF_LOST_WARN_USEC (10 * 1000 * 1000)

typedef struct OfWatch {
        Manager *manager;
        char *bridge;
        OfpClient *client;
        sd_event_source *io;
        sd_event_source *retry;
        bool lost;                    /* the connection dropped: restore on reconnect */
        uint64_t lost_usec;           /* CLOCK_MONOTONIC when it dropped */
        bool warned;                  /* the warning about it was logged */
} OfWatch;

static uint64_t now_mono(void) {
        struct timespec ts;

        (void) clock_gettime(CLOCK_MONOTONIC, &ts);
        return (uint64_t) ts.tv_sec * 1000000ULL + (uint64_t) ts.tv_nsec / 1000;
}

/* A job of the daemon's own; requester: why (for the log). */
static int queue_simple(Manager *m, JobKind kind, const char *bridge, const char *requester) {
        Job *j = job_new_automatic(kind, requester);

        if (!j || (bridge && !(j->bridge = strdup(bridge)))) {
                job_free(j);
                return -ENOMEM;
        }
        return manager_queue(m, j);
}

/* ---- drift ------------------------------------------------------------- */

static int on_drift_timer(sd_event_source *s, uint64_t usec, void *userdata) {
        Manager *m = userdata;
        uint64_t latest = 0;

        m->drift_timer = sd_event_source_disable_unref(m->drift_timer);
        if (checkpoint_latest(m->ctx.state_dir, &latest) < 0 || latest == 0)
                return 0; /* nothing applied yet: nothing can drift */
        return queue_simple(m, JOB_HEAL, NULL, "drift repair (Open vSwitch changed)");
}

static void schedule_heal(Manager *m) {
        if (m->drift_timer)
                return;
        (void) sd_event_add_time_relative(m->event, &m->drift_timer, CLOCK_MONOTONIC,
                                          DRIFT_DEBOUNCE_USEC, 0, on_drift_timer, m);
}

/* ---- OVSDB monitor ------------------------------------------------------ */

static void monitor_close(Manager *m) {
        m->ovsdb_source = sd_event_source_disable_unref(m->ovsdb_source);
        m->ovsdb_monitor = ovsdb_client_free(m->ovsdb_monitor);
}

static int monitor_connect(Manager *m);

static int on_reconnect(sd_event_source *s, uint64_t usec, void *userdata) {
        Manager *m = userdata;

        m->reconnect_timer = sd_event_source_disable_unref(m->reconnect_timer);
        if (monitor_connect(m) >= 0)
                return 0;
        m->reconnect_delay_ms = MIN(MAX(m->reconnect_delay_ms * 2, (unsigned) RECONNECT_MIN_MS),
                                    (unsigned) RECONNECT_MAX_MS);
        return sd_event_add_time_relative(m->event, &m->reconnect_timer, CLOCK_MONOTONIC,
                                          (uint64_t) m->reconnect_delay_ms * 1000, 0, on_reconnect, m);
}

static void monitor_lost(Manager *m, int error) {
        monitor_close(m);
        if (!m->degraded) {
                log_warning_errno(error, "Lost the connection to OVSDB (%m); degraded until it is back.");
                m->degraded = true;
                manager_update_status(m);
        }
        if (!m->reconnect_timer)
                (void) sd_event_add_time_relative(m->event, &m->reconnect_timer, CLOCK_MONOTONIC,
                                                  (uint64_t) MAX(m->reconnect_delay_ms, (unsigned) RECONNECT_MIN_MS) * 1000,
                                                  0, on_reconnect, m);
}

static int on_ovsdb_io(sd_event_source *s, int fd, uint32_t revents, void *userdata) {
        Manager *m = userdata;
        json_object *n = NULL;
        bool changed = false;
        int r;

        r = ovsdb_client_wait_notification(m->ovsdb_monitor, 0);
        if (r < 0) {
                monitor_lost(m, r);
                return 0;
        }
        while (ovsdb_client_pop_notification(m->ovsdb_monitor, &n) > 0) {
                json_object *method;

                if (json_object_object_get_ex(n, "method", &method) &&
                    streq_ptr(json_object_get_string(method), "update"))
                        changed = true;
                json_object_put(n);
        }
        if (changed)
                schedule_heal(m);
        return 0;
}

static json_object *monitor_columns(const char *const *cols) {
        json_object *o = json_object_new_object(), *a = json_object_new_array();

        for (; *cols; cols++)
                json_object_array_add(a, json_object_new_string(*cols));
        json_object_object_add(o, "columns", a);
        return o;
}

static int monitor_connect(Manager *m) {
        static const char *const bridge[] = { "name", "ports", "external_ids", "fail_mode", "datapath_type",
                                              "stp_enable", "rstp_enable", "other_config", NULL };
        static const char *const port[] = { "name", "interfaces", "tag", "trunks", "vlan_mode", "external_ids", NULL };
        static const char *const iface[] = { "name", "type", "options", "mtu_request", "external_ids", NULL };
        _cleanup_(json_object_putp) json_object *result = NULL;
        _cleanup_(freep) char *err = NULL;
        json_object *params, *reqs;
        OvsdbClient *c = NULL;
        int r;

        r = ovsdb_client_connect(host_settings(&m->ctx)->ovsdb_address, 2000, &c);
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
        if (r >= 0)
                r = sd_event_add_io(m->event, &m->ovsdb_source, ovsdb_client_fd(c), EPOLLIN, on_ovsdb_io, m);
        if (r < 0) {
                ovsdb_client_free(c);
                return r;
        }
        m->ovsdb_monitor = c;
        m->reconnect_delay_ms = 0;
        if (m->degraded) {
                log_notice("OVSDB is back; converging.");
                m->degraded = false;
                manager_update_status(m);
                if (m->state_file_pending)
                        (void) manager_queue_state_file(m, "OVSDB back");
                else
                        schedule_heal(m);
        }
        return 0;
}

/* ---- OpenFlow connections: ovs-vswitchd restarts ------------------------- */

static void of_watch_close(OfWatch *w) {
        w->io = sd_event_source_disable_unref(w->io);
        w->client = ofp_client_free(w->client);
}

static int of_watch_connect(OfWatch *w);

static int on_of_retry(sd_event_source *s, uint64_t usec, void *userdata) {
        OfWatch *w = userdata;
        Manager *m = w->manager;

        w->retry = sd_event_source_disable_unref(w->retry);
        if (of_watch_connect(w) >= 0)
                return 0;
        if (w->lost && !w->warned && m->jobs_running == 0 && now_mono() - w->lost_usec >= OF_LOST_WARN_USEC) {
                log_warning("No OpenFlow connection to %s for %u s: ovs-vswitchd is not running, or the bridge "
                            "is gone; op-dbus puts its flows back when the bridge is there again.",
                            w->bridge, (unsigned) (OF_LOST_WARN_USEC / 1000000));
                w->warned = true;
        }
        return sd_event_add_time_relative(m->event, &w->retry, CLOCK_MONOTONIC, OF_RETRY_USEC, 0,
                                          on_of_retry, w);
}

static int on_of_io(sd_event_source *s, int fd, uint32_t revents, void *userdata) {
        OfWatch *w = userdata;
        int r;

        r = ofp_client_process(w->client);
        if (r >= 0)
                return 0;
        /* ovs-vswitchd went away (it comes back with empty flow tables), or
         * the bridge was deleted: by hand (the drift repair puts it back),
         * or by an apply of op-dbus (which then ends this watch). Nothing
         * to say yet: the flows are restored, and logged, on reconnect. */
        log_debug("Lost the OpenFlow connection to %s.", w->bridge);
        of_watch_close(w);
        w->lost = true;
        w->lost_usec = now_mono();
        w->warned = false;
        return on_of_retry(NULL, 0, w);
}

static int of_watch_connect(OfWatch *w) {
        Manager *m = w->manager;
        _cleanup_(freep) char *addr = NULL;
        int r;

        if (asprintf(&addr, "unix:%s/%s.mgmt", host_settings(&m->ctx)->ovs_rundir, w->bridge) < 0)
                return -ENOMEM;
        r = ofp_client_connect(addr, 1000, &w->client);
        if (r < 0)
                return r;
        r = sd_event_add_io(m->event, &w->io, ofp_client_fd(w->client), EPOLLIN, on_of_io, w);
        if (r < 0) {
                of_watch_close(w);
                return r;
        }
        if (w->lost) {
                _cleanup_(freep) char *why = NULL;

                w->lost = false;
                if (asprintf(&why, "OpenFlow connection to %s back after %.1f s (ovs-vswitchd restarted, "
                             "or the bridge was re-created)", w->bridge,
                             (double) (now_mono() - w->lost_usec) / 1e6) < 0)
                        return -ENOMEM;
                (void) queue_simple(m, JOB_RESTORE_FLOWS, w->bridge, why);
                /* ovs-vswitchd restarted: socket-networked containers lost
                 * the interface it had moved into them. */
                if (m->watch_containers)
                        (void) queue_simple(m, JOB_HEAL, NULL, why);
        }
        return 0;
}

static void of_watches_free(Manager *m) {
        for (size_t i = 0; i < m->n_of_watches; i++) {
                of_watch_close(&m->of_watches[i]);
                sd_event_source_disable_unref(m->of_watches[i].retry);
                free(m->of_watches[i].bridge);
        }
        free(m->of_watches);
        m->of_watches = NULL;
        m->n_of_watches = 0;
}

/* plugins.<plugin>.<member> of the applied state; *ret NULL when absent. */
static int applied_member(Manager *m, const char *plugin, const char *member, json_object **ret) {
        _cleanup_(json_object_putp) json_object *state = NULL;
        json_object *plugins, *section, *value;
        uint64_t latest = 0;
        int r;

        *ret = NULL;
        r = checkpoint_latest(m->ctx.state_dir, &latest);
        if (r < 0 || latest == 0)
                return r;
        r = checkpoint_load(m->ctx.state_dir, latest, &state);
        if (r < 0)
                return r;
        if (json_object_object_get_ex(state, "plugins", &plugins) &&
            json_object_object_get_ex(plugins, plugin, &section) &&
            json_object_object_get_ex(section, member, &value))
                *ret = json_object_get(value);
        return 0;
}

void manager_watch_refresh(Manager *m) {
        _cleanup_(json_object_putp) json_object *bridges = NULL;
        size_t n;

        _cleanup_(json_object_putp) json_object *containers = NULL;

        m->watch_containers = applied_member(m, "lxc", "containers", &containers) >= 0 && containers &&
                              json_object_is_type(containers, json_type_array) &&
                              json_object_array_length(containers) > 0;
        of_watches_free(m);
        if (applied_member(m, "openflow", "bridges", &bridges) < 0 || !bridges)
                return;
        n = json_object_array_length(bridges);
        m->of_watches = calloc(n + 1, sizeof(OfWatch));
        if (!m->of_watches)
                return;
        for (size_t i = 0; i < n; i++) {
                json_object *name;
                OfWatch *w = &m->of_watches[m->n_of_watches];

                if (!json_object_object_get_ex(json_object_array_get_idx(bridges, i), "name", &name))
                        continue;
                *w = (OfWatch) { .manager = m, .bridge = strdup(json_object_get_string(name)) };
                if (!w->bridge)
                        continue;
                m->n_of_watches++;
                if (of_watch_connect(w) < 0)
                        (void) on_of_retry(NULL, 0, w);
        }
}

/* ---- audit --------------------------------------------------------------- */

static int on_audit(sd_event_source *s, uint64_t usec, void *userdata) {
        Manager *m = userdata;

        if (!m->degraded && m->jobs_running == 0)
                for (size_t i = 0; i < m->n_of_watches; i++)
                        if (m->of_watches[i].client)
                                (void) queue_simple(m, JOB_RESTORE_FLOWS, m->of_watches[i].bridge, "flow audit");
        (void) sd_event_source_set_time(s, now_mono() + (uint64_t) m->audit_interval_sec * 1000000ULL);
        return 0;
}

/* Containers change without OVSDB noticing (a restart takes a socket
 * port's interface with the old network namespace; a container stopped by
 * hand): while the applied state has containers, heal it periodically. */
static int on_container_audit(sd_event_source *s, uint64_t usec, void *userdata) {
        Manager *m = userdata;

        if (m->watch_containers && !m->degraded && m->jobs_running == 0)
                (void) queue_simple(m, JOB_HEAL, NULL, "container audit");
        (void) sd_event_source_set_time(s, now_mono() + (uint64_t) m->container_audit_interval_sec * 1000000ULL);
        return 0;
}

static int add_periodic(Manager *m, sd_event_source **s, unsigned sec, sd_event_time_handler_t cb) {
        int r;

        if (sec == 0)
                return 0;
        r = sd_event_add_time_relative(m->event, s, CLOCK_MONOTONIC, (uint64_t) sec * 1000000ULL, 0, cb, m);
        if (r < 0)
                return r;
        return sd_event_source_set_enabled(*s, SD_EVENT_ON);
}

int manager_watch_start(Manager *m) {
        int r;

        if (monitor_connect(m) < 0)
                monitor_lost(m, -ECONNREFUSED);
        manager_watch_refresh(m);
        r = add_periodic(m, &m->audit_timer, m->audit_interval_sec, on_audit);
        if (r < 0)
                return r;
        return add_periodic(m, &m->container_timer, m->container_audit_interval_sec, on_container_audit);
}

void manager_watch_stop(Manager *m) {
        monitor_close(m);
        of_watches_free(m);
        m->reconnect_timer = sd_event_source_disable_unref(m->reconnect_timer);
        m->drift_timer = sd_event_source_disable_unref(m->drift_timer);
        m->audit_timer = sd_event_source_disable_unref(m->audit_timer);
        m->container_timer = sd_event_source_disable_unref(m->container_timer);
}
