/* SPDX-License-Identifier: LGPL-2.1-or-later */
#include <inttypes.h>
#include <stdio.h>

#include "checkpoint.h"
#include "fileio.h"
#include "json-util.h"
#include "log.h"
#include "manager.h"
#include "reconcile.h"
#include "strbuf.h"

#define ERROR_INVALID_STATE "org.opdbus.Error.InvalidState"
#define ERROR_BUSY          "org.opdbus.Error.Busy"
#define ERROR_APPLY_FAILED  "org.opdbus.Error.ApplyFailed"
#define ERROR_ACCESS_DENIED "org.opdbus.Error.AccessDenied"
#define ERROR_UNAVAILABLE   "org.opdbus.Error.Unavailable"
#define ERROR_NO_CHECKPOINT "org.opdbus.Error.NoCheckpoint"
#define ERROR_NOT_PENDING   "org.opdbus.Error.NotPending"


static int caller_uid(sd_bus_message *msg, uid_t *ret) {
        _cleanup_(sd_bus_creds_unrefp) sd_bus_creds *creds = NULL;
        int r;

        r = sd_bus_query_sender_creds(msg, SD_BUS_CREDS_EUID, &creds);
        if (r >= 0)
                r = sd_bus_creds_get_euid(creds, ret);
        return r;
}

/* Methods that change the host need uid 0, whatever the bus policy says. */
int manager_check_root(sd_bus_message *msg, sd_bus_error *error) {
        uid_t uid;
        int r;

        r = caller_uid(msg, &uid);
        if (r < 0)
                return sd_bus_error_setf(error, ERROR_ACCESS_DENIED, "cannot determine the caller: %s", strerror(-r));
        if (uid != 0)
                return sd_bus_error_setf(error, ERROR_ACCESS_DENIED,
                                         "%s changes the host and needs uid 0 (caller has uid %u)",
                                         sd_bus_message_get_member(msg), (unsigned) uid);
        return 0;
}

char *bus_caller(sd_bus_message *msg) {
        _cleanup_(sd_bus_creds_unrefp) sd_bus_creds *creds = NULL;
        const char *member = sd_bus_message_get_member(msg);
        uid_t uid;
        pid_t pid;
        char *s;

        if (sd_bus_query_sender_creds(msg, SD_BUS_CREDS_EUID | SD_BUS_CREDS_PID, &creds) >= 0 &&
            sd_bus_creds_get_euid(creds, &uid) >= 0 && sd_bus_creds_get_pid(creds, &pid) >= 0) {
                if (asprintf(&s, "%s from uid %u, pid %d", member, (unsigned) uid, (int) pid) < 0)
                        return NULL;
        } else if (asprintf(&s, "%s from %s", member, strna(sd_bus_message_get_sender(msg))) < 0)
                return NULL;
        return s;
}

static void message_unref(void *msg) {
        sd_bus_message_unref(msg);
}

/* Queues j to answer msg later. The work of a caller other than root
 * (or one that cannot be told) is restricted: op-dbus reads no file and
 * contacts no server the caller names (PluginContext.restricted). */
/* The audit record's caller and source: the sender's uid, pid and name,
 * and the method when the state came in the call. */
static int set_caller(sd_bus_message *msg, Job *j) {
        _cleanup_(sd_bus_creds_unrefp) sd_bus_creds *creds = NULL;
        const char *comm;
        uid_t uid;
        pid_t pid;

        j->caller_uid = j->caller_pid = -1;
        free(j->caller_process);
        j->caller_process = NULL;
        if (sd_bus_query_sender_creds(msg, SD_BUS_CREDS_EUID | SD_BUS_CREDS_PID | SD_BUS_CREDS_COMM | SD_BUS_CREDS_AUGMENT, &creds) >= 0) {
                if (sd_bus_creds_get_euid(creds, &uid) >= 0)
                        j->caller_uid = uid;
                if (sd_bus_creds_get_pid(creds, &pid) >= 0)
                        j->caller_pid = pid;
                if (sd_bus_creds_get_comm(creds, &comm) >= 0 && !(j->caller_process = strdup(comm)))
                        return -ENOMEM;
        }
        if (!j->state_path && !j->source && asprintf(&j->source, "D-Bus %s", sd_bus_message_get_member(msg)) < 0)
                return -ENOMEM;
        return 0;
}

int manager_queue_call(Manager *m, sd_bus_message *msg, Job *j) {
        uid_t uid;

        if (set_caller(msg, j) < 0) {
                job_free(j);
                return -ENOMEM;
        }
        j->origin = sd_bus_message_ref(msg);
        j->origin_free = message_unref;
        j->restricted = caller_uid(msg, &uid) < 0 || uid != 0;
        if (job_changes_host(j)) {
                j->deadline_usec = now_usec() + (uint64_t) m->lock_timeout_ms * 1000;
                if (!j->requester && !(j->requester = bus_caller(msg))) {
                        job_free(j);
                        return -ENOMEM;
                }
        }
        (void) manager_queue(m, j);
        return 1;
}

static int apply_common(Manager *m, sd_bus_message *msg, const char *state, Job *j, sd_bus_error *error) {
        if (!j || !(j->state_json = strdup(state))) {
                job_free(j);
                return -ENOMEM;
        }
        return manager_queue_call(m, msg, j);
}

static int method_apply_state(sd_bus_message *msg, void *userdata, sd_bus_error *error) {
        Manager *m = userdata;
        const char *state;
        int r;

        r = manager_check_root(msg, error);
        if (r < 0)
                return r;
        r = sd_bus_message_read(msg, "s", &state);
        if (r < 0)
                return r;
        return apply_common(m, msg, state, job_new(JOB_APPLY), error);
}

static int read_plugins(sd_bus_message *msg, Job *j) {
        _cleanup_(freep) char **l = NULL;
        size_t n = 0;
        const char *s;
        int r;

        r = sd_bus_message_enter_container(msg, 'v', "as");
        if (r < 0)
                return r;
        r = sd_bus_message_enter_container(msg, 'a', "s");
        if (r < 0)
                return r;
        while ((r = sd_bus_message_read(msg, "s", &s)) > 0) {
                char **t = reallocarray(l, n + 2, sizeof(char *));

                if (!t)
                        return -ENOMEM;
                l = t;
                if (!(l[n++] = strdup(s)))
                        return -ENOMEM;
                l[n] = NULL;
        }
        if (r < 0)
                return r;
        j->plugins = TAKE_PTR(l);
        r = sd_bus_message_exit_container(msg);
        if (r >= 0)
                r = sd_bus_message_exit_container(msg);
        return r;
}

/* The options a method takes (bits), for read_options(). */
enum {
        OPT_DRY_RUN         = 1 << 0,
        OPT_PLUGINS         = 1 << 1,
        OPT_CONFIRM_TIMEOUT = 1 << 2,
        OPT_ALLOW_OUTAGE    = 1 << 3,
        OPT_SOURCE          = 1 << 4,
        OPTS_APPLY          = OPT_DRY_RUN | OPT_PLUGINS | OPT_CONFIRM_TIMEOUT | OPT_ALLOW_OUTAGE | OPT_SOURCE,
        OPTS_PLAN           = OPT_PLUGINS,
        OPTS_ROLLBACK       = OPT_ALLOW_OUTAGE,
};

static const struct {
        unsigned bit;
        const char *name;
        const char *type;
} option_table[] = {
        { OPT_DRY_RUN,         "dry_run",         "b" },
        { OPT_PLUGINS,         "plugins",         "as" },
        { OPT_CONFIRM_TIMEOUT, "confirm_timeout", "u" },
        { OPT_ALLOW_OUTAGE,    "allow_outage",    "b" },
        { OPT_SOURCE,          "source",          "s" },
};

/* "dry_run, plugins" (with_types: "dry_run: b, plugins: as") of the
 * options in mask. */
static char *option_names(unsigned mask, bool with_types) {
        _cleanup_(strbuf_done) StrBuf b = {};

        for (size_t i = 0; i < ELEMENTSOF(option_table); i++)
                if (mask & option_table[i].bit)
                        strbuf_printf(&b, "%s%s%s%s", b.len ? ", " : "", option_table[i].name,
                                      with_types ? ": " : "", with_types ? option_table[i].type : "");
        return strbuf_take(&b);
}

static int read_option(sd_bus_message *msg, Job *j, unsigned bit) {
        const char *source;
        int r, b = 0;

        switch (bit) {
        case OPT_PLUGINS:
                return read_plugins(msg, j);
        case OPT_SOURCE:
                r = sd_bus_message_read(msg, "v", "s", &source);
                if (r >= 0 && asprintf(&j->source, "D-Bus %s: %s", sd_bus_message_get_member(msg), source) < 0)
                        r = -ENOMEM;
                return r;
        case OPT_CONFIRM_TIMEOUT:
                return sd_bus_message_read(msg, "v", "u", &j->confirm_timeout);
        default:
                r = sd_bus_message_read(msg, "v", "b", &b);
                if (bit == OPT_DRY_RUN)
                        j->dry_run = b;
                else
                        j->allow_outage = b;
                return r;
        }
}

/* The a{sv} options of the *WithOptions methods; mask: those the method
 * takes. */
static int read_options(sd_bus_message *msg, Job *j, unsigned mask, sd_bus_error *error) {
        const char *key;
        int r;

        r = sd_bus_message_enter_container(msg, 'a', "{sv}");
        if (r < 0)
                return r;
        while ((r = sd_bus_message_enter_container(msg, 'e', "sv")) > 0) {
                _cleanup_(freep) char *names = NULL;
                unsigned bit = 0;

                r = sd_bus_message_read(msg, "s", &key);
                if (r < 0)
                        return r;
                for (size_t i = 0; i < ELEMENTSOF(option_table); i++)
                        if ((mask & option_table[i].bit) && streq(key, option_table[i].name))
                                bit = option_table[i].bit;
                if (!bit) {
                        names = option_names(mask, false);
                        return sd_bus_error_setf(error, SD_BUS_ERROR_INVALID_ARGS, "unknown option \"%s\", expected %s",
                                                 key, strna(names));
                }
                r = read_option(msg, j, bit);
                if (r < 0) {
                        names = option_names(mask, true);
                        return sd_bus_error_setf(error, SD_BUS_ERROR_INVALID_ARGS, "option \"%s\" has the wrong type (%s)",
                                                 key, strna(names));
                }
                r = sd_bus_message_exit_container(msg);
                if (r < 0)
                        return r;
        }
        if (r < 0)
                return r;
        return sd_bus_message_exit_container(msg);
}

static int method_apply_state_with_options(sd_bus_message *msg, void *userdata, sd_bus_error *error) {
        Manager *m = userdata;
        _cleanup_(job_freep) Job *j = job_new(JOB_APPLY);
        const char *state;
        int r;

        if (!j)
                return -ENOMEM;
        r = sd_bus_message_read(msg, "s", &state);
        if (r < 0)
                return r;
        r = read_options(msg, j, OPTS_APPLY, error);
        if (r < 0)
                return r;
        /* A dry run changes nothing: the read-only rules apply. */
        if (!j->dry_run && (r = manager_check_root(msg, error)) < 0)
                return r;
        if (j->dry_run && j->confirm_timeout > 0)
                return sd_bus_error_setf(error, SD_BUS_ERROR_INVALID_ARGS, "confirm_timeout makes no sense with dry_run");
        return apply_common(m, msg, state, TAKE_PTR(j), error);
}

static int method_plan(sd_bus_message *msg, void *userdata, sd_bus_error *error) {
        const char *state;
        int r;

        r = sd_bus_message_read(msg, "s", &state);
        if (r < 0)
                return r;
        return apply_common(userdata, msg, state, job_new(JOB_PLAN), error);
}

static int method_plan_with_options(sd_bus_message *msg, void *userdata, sd_bus_error *error) {
        _cleanup_(job_freep) Job *j = job_new(JOB_PLAN);
        const char *state;
        int r;

        if (!j)
                return -ENOMEM;
        r = sd_bus_message_read(msg, "s", &state);
        if (r < 0)
                return r;
        r = read_options(msg, j, OPTS_PLAN, error);
        if (r < 0)
                return r;
        return apply_common(userdata, msg, state, TAKE_PTR(j), error);
}

static int method_query_state(sd_bus_message *msg, void *userdata, sd_bus_error *error) {
        Job *j = job_new(JOB_QUERY);

        if (!j)
                return -ENOMEM;
        return manager_queue_call(userdata, msg, j);
}

static int method_query_plugin(sd_bus_message *msg, void *userdata, sd_bus_error *error) {
        const char *plugin;
        Job *j;
        int r;

        r = sd_bus_message_read(msg, "s", &plugin);
        if (r < 0)
                return r;
        j = job_new(JOB_QUERY);
        if (!j || !(j->plugin = strdup(plugin))) {
                job_free(j);
                return -ENOMEM;
        }
        return manager_queue_call(userdata, msg, j);
}

static int method_verify(sd_bus_message *msg, void *userdata, sd_bus_error *error) {
        Job *j = job_new(JOB_VERIFY);

        if (!j)
                return -ENOMEM;
        return manager_queue_call(userdata, msg, j);
}

static int method_confirm(sd_bus_message *msg, void *userdata, sd_bus_error *error) {
        _cleanup_(freep) char *caller = NULL;
        Manager *m = userdata;
        int r;

        r = manager_check_root(msg, error);
        if (r < 0)
                return r;
        caller = bus_caller(msg);
        r = manager_confirm(m, caller ?: "Confirm");
        if (r == -ENOENT)
                return sd_bus_error_set(error, ERROR_NOT_PENDING, "no apply is waiting for confirmation");
        if (r < 0)
                return r;
        return sd_bus_reply_method_return(msg, NULL);
}

static int rollback_common(sd_bus_message *msg, void *userdata, bool options, sd_bus_error *error) {
        _cleanup_(job_freep) Job *j = job_new(JOB_ROLLBACK);
        _cleanup_(freep) char *caller = NULL;
        uint32_t to;
        int r;

        if (!j)
                return -ENOMEM;
        r = manager_check_root(msg, error);
        if (r < 0)
                return r;
        r = sd_bus_message_read(msg, "u", &to);
        if (r < 0)
                return r;
        if (options && (r = read_options(msg, j, OPTS_ROLLBACK, error)) < 0)
                return r;
        caller = bus_caller(msg);
        if (!caller)
                return -ENOMEM;
        j->to = to;
        if (to > 0)
                r = job_set_requester(j, "%s, to generation %" PRIu32, caller, to);
        else
                r = job_set_requester(j, "%s, to the previous generation", caller);
        if (r < 0)
                return r;
        return manager_queue_call(userdata, msg, TAKE_PTR(j));
}

static int method_rollback(sd_bus_message *msg, void *userdata, sd_bus_error *error) {
        return rollback_common(msg, userdata, false, error);
}

static int method_rollback_with_options(sd_bus_message *msg, void *userdata, sd_bus_error *error) {
        return rollback_common(msg, userdata, true, error);
}

static int method_list_checkpoints(sd_bus_message *msg, void *userdata, sd_bus_error *error) {
        Manager *m = userdata;
        _cleanup_(json_object_putp) json_object *a = NULL;
        int r;

        r = checkpoint_list_json(m->ctx.state_dir, &a);
        if (r < 0)
                return sd_bus_error_setf(error, ERROR_UNAVAILABLE, "cannot list checkpoints in %s: %s",
                                         m->ctx.state_dir, strerror(-r));
        return sd_bus_reply_method_return(msg, "s", json_object_to_json_string_ext(a, JSON_C_TO_STRING_PLAIN));
}

/* Answers a queued call from its finished job. */
void manager_bus_reply(Manager *m, Job *j) {
        sd_bus_message *call = j->origin;
        const char *name = NULL, *text = j->error_text ?: (j->error < 0 ? strerror(-j->error) : "failed");
        int r;

        if (j->busy)
                name = ERROR_BUSY, text = "another apply did not finish in time; try again";
        else if (j->kind == JOB_VERIFY && j->status == RECONCILE_DRIFT)
                name = NULL; /* a report that says what differs */
        else if (j->status == RECONCILE_INVALID)
                name = j->error == -ENOENT ? ERROR_NO_CHECKPOINT :
                       j->error == -EACCES ? ERROR_ACCESS_DENIED : ERROR_INVALID_STATE;
        else if (j->status == RECONCILE_BUSY)
                name = ERROR_BUSY;
        else if (j->status == RECONCILE_UNAVAILABLE)
                name = ERROR_UNAVAILABLE;
        else if (j->status == RECONCILE_FAILED || j->status == RECONCILE_ROLLBACK_FAILED)
                name = ERROR_APPLY_FAILED;

        /* The message: the errors, then the whole result for programs. */
        if (name && j->result_json)
                r = sd_bus_reply_method_errorf(call, name, "%s\nresult: %s", text, j->result_json);
        else if (name)
                r = sd_bus_reply_method_errorf(call, name, "%s", text);
        else
                r = sd_bus_reply_method_return(call, "s", j->result_json ?: "{}");
        if (r < 0)
                log_debug_errno(r, "Cannot reply to %s, ignoring: %m", sd_bus_message_get_member(call));
}

static int property_get_status(sd_bus *bus, const char *path, const char *interface, const char *property,
                               sd_bus_message *reply, void *userdata, sd_bus_error *error) {
        Manager *m = userdata;

        return sd_bus_message_append(reply, "s", manager_status_to_string(m->status));
}

static int property_get_string(sd_bus *bus, const char *path, const char *interface, const char *property,
                               sd_bus_message *reply, void *userdata, sd_bus_error *error) {
        Manager *m = userdata;

        if (streq(property, "Version"))
                return sd_bus_message_append(reply, "s", PACKAGE_VERSION);
        if (streq(property, "LastResult"))
                return sd_bus_message_append(reply, "s", m->last_result ?: "{}");
        if (streq(property, "Settings"))
                return sd_bus_message_append(reply, "s", m->settings_json ?: "{}");
        return sd_bus_message_append(reply, "s", m->state_path);
}

static const sd_bus_vtable manager_vtable[] = {
        SD_BUS_VTABLE_START(0),
        SD_BUS_PROPERTY("Version", "s", property_get_string, 0, SD_BUS_VTABLE_PROPERTY_CONST),
        SD_BUS_PROPERTY("Status", "s", property_get_status, 0, SD_BUS_VTABLE_PROPERTY_EMITS_CHANGE),
        SD_BUS_PROPERTY("Generation", "t", NULL, offsetof(Manager, generation), SD_BUS_VTABLE_PROPERTY_EMITS_CHANGE),
        SD_BUS_PROPERTY("LastResult", "s", property_get_string, 0, SD_BUS_VTABLE_PROPERTY_EMITS_CHANGE),
        SD_BUS_PROPERTY("StatePath", "s", property_get_string, 0, SD_BUS_VTABLE_PROPERTY_CONST),
        SD_BUS_PROPERTY("Settings", "s", property_get_string, 0, SD_BUS_VTABLE_PROPERTY_CONST),

        /* Every method is reachable by the bus policy's rules; those that
         * change the host check the caller's uid themselves. */
        SD_BUS_METHOD_WITH_ARGS("ApplyState", SD_BUS_ARGS("s", state_json), SD_BUS_RESULT("s", result_json),
                                method_apply_state, SD_BUS_VTABLE_UNPRIVILEGED),
        SD_BUS_METHOD_WITH_ARGS("ApplyStateWithOptions", SD_BUS_ARGS("s", state_json, "a{sv}", options),
                                SD_BUS_RESULT("s", result_json), method_apply_state_with_options,
                                SD_BUS_VTABLE_UNPRIVILEGED),
        SD_BUS_METHOD_WITH_ARGS("Plan", SD_BUS_ARGS("s", state_json), SD_BUS_RESULT("s", plan_json),
                                method_plan, SD_BUS_VTABLE_UNPRIVILEGED),
        SD_BUS_METHOD_WITH_ARGS("PlanWithOptions", SD_BUS_ARGS("s", state_json, "a{sv}", options),
                                SD_BUS_RESULT("s", plan_json), method_plan_with_options, SD_BUS_VTABLE_UNPRIVILEGED),
        SD_BUS_METHOD_WITH_ARGS("QueryState", SD_BUS_NO_ARGS, SD_BUS_RESULT("s", state_json),
                                method_query_state, SD_BUS_VTABLE_UNPRIVILEGED),
        SD_BUS_METHOD_WITH_ARGS("QueryPlugin", SD_BUS_ARGS("s", plugin), SD_BUS_RESULT("s", json),
                                method_query_plugin, SD_BUS_VTABLE_UNPRIVILEGED),
        SD_BUS_METHOD_WITH_ARGS("Verify", SD_BUS_NO_ARGS, SD_BUS_RESULT("s", report_json),
                                method_verify, SD_BUS_VTABLE_UNPRIVILEGED),
        SD_BUS_METHOD_WITH_ARGS("Confirm", SD_BUS_NO_ARGS, SD_BUS_NO_RESULT,
                                method_confirm, SD_BUS_VTABLE_UNPRIVILEGED),
        SD_BUS_METHOD_WITH_ARGS("Rollback", SD_BUS_ARGS("u", to), SD_BUS_RESULT("s", result_json),
                                method_rollback, SD_BUS_VTABLE_UNPRIVILEGED),
        SD_BUS_METHOD_WITH_ARGS("RollbackWithOptions", SD_BUS_ARGS("u", to, "a{sv}", options),
                                SD_BUS_RESULT("s", result_json), method_rollback_with_options,
                                SD_BUS_VTABLE_UNPRIVILEGED),
        SD_BUS_METHOD_WITH_ARGS("ListCheckpoints", SD_BUS_NO_ARGS, SD_BUS_RESULT("s", json),
                                method_list_checkpoints, SD_BUS_VTABLE_UNPRIVILEGED),

        SD_BUS_SIGNAL_WITH_ARGS("StateApplied", SD_BUS_ARGS("t", generation, "s", summary_json), 0),
        SD_BUS_SIGNAL_WITH_ARGS("DriftDetected", SD_BUS_ARGS("s", plugin, "s", object_path, "s", detail_json), 0),
        SD_BUS_SIGNAL_WITH_ARGS("ConfirmPending", SD_BUS_ARGS("u", seconds_left), 0),
        SD_BUS_SIGNAL_WITH_ARGS("RolledBack", SD_BUS_ARGS("t", generation, "s", reason, "s", result_json), 0),
        SD_BUS_SIGNAL_WITH_ARGS("Progress", SD_BUS_ARGS("s", plugin, "s", step), 0),
        SD_BUS_VTABLE_END
};

void manager_properties_changed(Manager *m, const char *property) {
        int r = sd_bus_emit_properties_changed(m->bus, OPDBUS_OBJECT_PATH, OPDBUS_INTERFACE, property, NULL);

        if (r < 0)
                log_debug_errno(r, "Cannot announce %s, ignoring: %m", property);
}

void manager_set_status(Manager *m, ManagerStatus s) {
        m->status = s;
        manager_properties_changed(m, "Status");
}

int manager_emit_progress(Manager *m, const char *plugin, const char *step) {
        return sd_bus_emit_signal(m->bus, OPDBUS_OBJECT_PATH, OPDBUS_INTERFACE, "Progress", "ss", plugin, step);
}

int manager_emit_state_applied(Manager *m, Job *j) {
        return sd_bus_emit_signal(m->bus, OPDBUS_OBJECT_PATH, OPDBUS_INTERFACE, "StateApplied", "ts",
                                  j->generation, j->result_json ?: "{}");
}

int manager_emit_drift(Manager *m, const char *plugin, const char *path, const char *detail_json) {
        return sd_bus_emit_signal(m->bus, OPDBUS_OBJECT_PATH, OPDBUS_INTERFACE, "DriftDetected", "sss",
                                  plugin, path, detail_json);
}

int manager_emit_confirm_pending(Manager *m, unsigned seconds_left) {
        return sd_bus_emit_signal(m->bus, OPDBUS_OBJECT_PATH, OPDBUS_INTERFACE, "ConfirmPending", "u", seconds_left);
}

int manager_emit_rolled_back(Manager *m, uint64_t generation, const char *reason, const char *result_json) {
        return sd_bus_emit_signal(m->bus, OPDBUS_OBJECT_PATH, OPDBUS_INTERFACE, "RolledBack", "tss",
                                  generation, reason, result_json ?: "{}");
}

#define DEFAULT_SYSTEM_BUS_ADDRESS "unix:path=/run/dbus/system_bus_socket"

/* No system bus: which address was tried, and how to get a bus there. */
static int no_system_bus(int error) {
        const char *env = getenv("DBUS_SYSTEM_BUS_ADDRESS");
        bool set = env && env[0];

        log_error("Cannot connect to the system bus at %s (%s): %s.", set ? env : DEFAULT_SYSTEM_BUS_ADDRESS,
                  set ? "from $DBUS_SYSTEM_BUS_ADDRESS" : "the default; $DBUS_SYSTEM_BUS_ADDRESS is not set",
                  strerror(-error));
        if (error != -ENOENT && error != -ECONNREFUSED)
                return error;
        log_notice("No D-Bus system bus runs there; op-dbus run serves org.opdbus on it.");
        log_notice("The system bus comes with the dbus package (apt-get install dbus): start it with "
                   "'systemctl start dbus', or without systemd with 'mkdir -p /run/dbus && dbus-daemon --system'; "
                   "it reads op-dbus's policy from /usr/share/dbus-1/system.d/org.opdbus.conf.");
        log_notice("For tests, run op-dbus on a private bus: 'dbus-daemon --config-file=FILE --print-address' "
                   "with a system-type configuration that includes that policy, and DBUS_SYSTEM_BUS_ADDRESS set "
                   "to the address it prints. Without the daemon, 'op-dbus apply' works all the same.");
        return error;
}

int manager_bus_setup(Manager *m) {
        int r;

        r = sd_bus_open_system(&m->bus);
        if (r < 0)
                return no_system_bus(r);
        r = sd_bus_add_object_vtable(m->bus, &m->vtable_slot, OPDBUS_OBJECT_PATH, OPDBUS_INTERFACE,
                                     manager_vtable, m);
        if (r >= 0 && m->program_vtable)
                r = sd_bus_add_object_vtable(m->bus, &m->program_slot, OPDBUS_OBJECT_PATH, OPDBUS_INTERFACE,
                                             m->program_vtable, m->program_userdata);
        if (r < 0)
                return log_error_errno(r, "Cannot register %s: %m", OPDBUS_OBJECT_PATH);
        r = sd_bus_request_name(m->bus, OPDBUS_BUS_NAME, 0);
        if (r == -EACCES || r == -EPERM)
                return log_error_errno(r, "The system bus does not let op-dbus own %s: its policy "
                                       "org.opdbus.conf is missing from the bus's system.d directory "
                                       "(/usr/share/dbus-1/system.d/), or the bus has not read it yet "
                                       "(systemctl reload dbus).", OPDBUS_BUS_NAME);
        if (r == -EEXIST)
                return log_error_errno(r, "%s is owned by another process: another op-dbus run?", OPDBUS_BUS_NAME);
        if (r < 0)
                return log_error_errno(r, "Cannot own %s: %m", OPDBUS_BUS_NAME);
        r = sd_bus_attach_event(m->bus, m->event, SD_EVENT_PRIORITY_NORMAL);
        if (r < 0)
                return log_error_errno(r, "Cannot attach the bus to the event loop: %m");
        return 0;
}
