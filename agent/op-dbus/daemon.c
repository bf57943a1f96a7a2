/* SPDX-License-Identifier: LGPL-2.1-or-later */
/* op-dbus run: the daemon (agent/daemon) with op-dbus's plugins and
 * settings, and the part of the D-Bus interface that is op-dbus's own:
 * RestoreFlows, a restore of the openflow plugin, and FlowsRestored when
 * one put flows back (after ovs-vswitchd restarted, by the flow audit, or
 * asked for). */
#include "host.h"
#include "json-util.h"
#include "log.h"
#include "manager.h"
#include "op-dbus.h"
#include "plugins.h"
#include "settings.h"

#define FLOW_AUDIT_MS_DEFAULT (10 * 1000)
#define CONTAINER_AUDIT_MS_DEFAULT (30 * 1000)

/* RestoreFlows(s state_path, s bridge): the openflow plugin from the
 * state file (empty: the applied state), on one bridge (empty: all). */
static int method_restore_flows(sd_bus_message *msg, void *userdata, sd_bus_error *error) {
        Manager *m = userdata;
        const char *path, *bridge;
        Job *j;
        int r;

        r = manager_check_root(msg, error);
        if (r < 0)
                return r;
        r = sd_bus_message_read(msg, "ss", &path, &bridge);
        if (r < 0)
                return r;
        j = job_new_restore(m->product, "openflow", bridge);
        if (!j || !(j->state_path = strdup(path))) {
                job_free(j);
                return -ENOMEM;
        }
        return manager_queue_call(m, msg, j);
}

static const sd_bus_vtable opdbus_vtable[] = {
        SD_BUS_VTABLE_START(0),
        SD_BUS_METHOD_WITH_ARGS("RestoreFlows", SD_BUS_ARGS("s", state_path, "s", bridge),
                                SD_BUS_RESULT("s", result_json), method_restore_flows, SD_BUS_VTABLE_UNPRIVILEGED),
        SD_BUS_SIGNAL_WITH_ARGS("FlowsRestored", SD_BUS_ARGS("s", bridge, "u", count), 0),
        SD_BUS_VTABLE_END
};

/* A restore finished: FlowsRestored when it put flows back. */
static void restored(Manager *m, const Job *j) {
        unsigned n = apply_counts_get(&j->counts, COUNT_FLOW_MODS);
        int r;

        if (!j->plugins || !streq_ptr(j->plugins[0], "openflow") || n == 0)
                return;
        r = sd_bus_emit_signal(m->bus, OPDBUS_OBJECT_PATH, OPDBUS_INTERFACE, "FlowsRestored", "su",
                               j->scope ?: "", n);
        if (r < 0)
                log_debug_errno(r, "Cannot send FlowsRestored, ignoring: %m");
}

/* The daemon: serve org.opdbus until SIGTERM. */
int verb_run(Cli *cli) {
        _cleanup_(json_object_putp) json_object *settings = NULL;
        Manager *m = NULL;
        int r;

        r = manager_new(&m);
        if (r < 0) {
                log_error_errno(r, "Cannot set up the daemon: %m");
                return EXIT_UNAVAILABLE;
        }
        cli->host.flow_audit_ms = cli->audit_interval_ms >= 0 ? (unsigned) cli->audit_interval_ms :
                                  FLOW_AUDIT_MS_DEFAULT;
        cli->host.container_audit_ms = cli->container_audit_interval_ms >= 0 ?
                                       (unsigned) cli->container_audit_interval_ms : CONTAINER_AUDIT_MS_DEFAULT;
        m->product = &opdbus_product;
        m->ctx = cli->c.ctx;
        m->fault_after = getenv("OPDBUS_FAULT_INJECT");
        m->program_vtable = opdbus_vtable;
        m->program_userdata = m;
        m->restored = restored;
        settings = settings_to_json(cli);
        m->settings_json = settings ? strdup(json_object_to_json_string_ext(
                        settings, JSON_C_TO_STRING_PLAIN | JSON_C_TO_STRING_NOSLASHESCAPE)) : NULL;
        m->lock_timeout_ms = cli->c.lock_timeout_ms;
        m->keep_checkpoints = cli->c.keep_checkpoints;
        m->state_path = strdup(cli->state_path ?: cli->c.state_file);
        if (!m->state_path || !m->settings_json)
                r = -ENOMEM;
        if (r >= 0)
                r = manager_start(m);
        if (r >= 0)
                r = manager_run(m);
        manager_free(m);
        return r < 0 ? EXIT_UNAVAILABLE : EXIT_OK;
}
