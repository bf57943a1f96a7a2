/* SPDX-License-Identifier: LGPL-2.1-or-later */
/* op-dbus: declarative Open vSwitch and container state for Proxmox VE nodes. */
#include <getopt.h>
#include <inttypes.h>
#include <stdio.h>

#include "checkpoint.h"
#include "op-dbus.h"
#include "fileio.h"
#include "json-util.h"
#include "log.h"
#include "profiles.h"
#include "plugins.h"
#include "settings.h"

#define DEFAULT_TIMEOUT_MS (10 * 1000)

static const char *env_or(const char *name, const char *fallback) {
        const char *v = getenv(name);

        return v && v[0] ? v : fallback;
}

static int parse_seconds_ms(const char *s, int *ret) {
        char *end;
        double v;

        errno = 0;
        v = strtod(s, &end);
        if (errno || end == s || *end || v < 0 || v > 86400)
                return -EINVAL;
        *ret = (int) (v * 1000);
        return 0;
}

/* Appends s (borrowed) to a NULL-terminated list. */
static int strv_push(char ***l, size_t *n, char *s) {
        char **t = realloc(*l, (*n + 2) * sizeof(char *));

        if (!t)
                return -ENOMEM;
        *l = t;
        t[(*n)++] = s;
        t[*n] = NULL;
        return 0;
}

static bool strv_contains(char **l, const char *s) {
        for (; l && *l; l++)
                if (streq(*l, s))
                        return true;
        return false;
}

enum {
        ARG_OVSDB = 0x100,
        ARG_STATE_DIR,
        ARG_RUN_DIR,
        ARG_PVE_DIR,
        ARG_JSON,
        ARG_DRY_RUN,
        ARG_PLUGIN,
        ARG_PROFILE,
        ARG_TO,
        ARG_TIMEOUT,
        ARG_LOCK_TIMEOUT,
        ARG_KEEP,
        ARG_BRIDGE,
        ARG_STATE,
        ARG_AUDIT,
        ARG_CONTAINER_AUDIT,
        ARG_CONFIRM_TIMEOUT,
        ARG_INTERFACES,
        ARG_SET,
        ARG_VERSION,
        ARG_ALLOW_OUTAGE,
};

static int parse_argv(Cli *cli, int argc, char **argv) {
        static const struct option options[] = {
                { "help",             no_argument,       NULL, 'h' },
                { "verbose",          no_argument,       NULL, 'v' },
                { "output",           required_argument, NULL, 'o' },
                { "ovsdb",            required_argument, NULL, ARG_OVSDB },
                { "state-dir",        required_argument, NULL, ARG_STATE_DIR },
                { "run-dir",          required_argument, NULL, ARG_RUN_DIR },
                { "pve-dir",          required_argument, NULL, ARG_PVE_DIR },
                { "json",             no_argument,       NULL, ARG_JSON },
                { "dry-run",          no_argument,       NULL, ARG_DRY_RUN },
                { "plugin",           required_argument, NULL, ARG_PLUGIN },
                { "profile",          required_argument, NULL, ARG_PROFILE },
                { "to",               required_argument, NULL, ARG_TO },
                { "timeout",          required_argument, NULL, ARG_TIMEOUT },
                { "lock-timeout",     required_argument, NULL, ARG_LOCK_TIMEOUT },
                { "keep-checkpoints", required_argument, NULL, ARG_KEEP },
                { "bridge",           required_argument, NULL, ARG_BRIDGE },
                { "state",            required_argument, NULL, ARG_STATE },
                { "audit-interval",   required_argument, NULL, ARG_AUDIT },
                { "container-audit-interval", required_argument, NULL, ARG_CONTAINER_AUDIT },
                { "confirm-timeout",  required_argument, NULL, ARG_CONFIRM_TIMEOUT },
                { "interfaces",       required_argument, NULL, ARG_INTERFACES },
                { "set",              required_argument, NULL, ARG_SET },
                { "version",          no_argument,       NULL, ARG_VERSION },
                { "allow-outage",     no_argument,       NULL, ARG_ALLOW_OUTAGE },
                {}
        };
        char *end;
        int c;

        while ((c = getopt_long(argc, argv, "hvo:", options, NULL)) >= 0)
                switch (c) {
                case 'h':
                        help();
                        exit(EXIT_OK);
                case ARG_VERSION:
                        printf("op-dbus %s\n", PACKAGE_VERSION);
                        exit(EXIT_OK);
                case 'v':
                        log_set_max_level(LOG_DEBUG);
                        break;
                case 'o':
                        cli->output = optarg;
                        break;
                case ARG_OVSDB:
                        cli->host.ovsdb_address = optarg;
                        break;
                case ARG_STATE_DIR:
                        cli->ctx.state_dir = optarg;
                        break;
                case ARG_RUN_DIR:
                        cli->ctx.run_dir = optarg;
                        break;
                case ARG_PVE_DIR:
                        cli->host.pve_dir = optarg;
                        break;
                case ARG_JSON:
                        cli->json = true;
                        break;
                case ARG_DRY_RUN:
                        cli->dry_run = true;
                        break;
                case ARG_ALLOW_OUTAGE:
                        cli->allow_outage = true;
                        break;
                case ARG_PLUGIN:
                        if (strv_push(&cli->only, &cli->n_only, optarg) < 0)
                                return log_error_errno(-ENOMEM, "Out of memory.");
                        break;
                case ARG_PROFILE:
                        cli->profile = optarg;
                        break;
                case ARG_TO:
                        /* strtoull() would take "-1" as 2^64-1 */
                        errno = 0;
                        cli->to = optarg[0] >= '1' && optarg[0] <= '9' ? strtoull(optarg, &end, 10) : 0;
                        /* The daemon's Rollback takes a 32-bit generation. */
                        if (errno || cli->to == 0 || *end || cli->to > UINT32_MAX)
                                return log_error_errno(-EINVAL, "--to: \"%s\" is not a generation number: expected "
                                                       "one of those 'op-dbus checkpoints' lists, such as 3.", optarg);
                        break;
                case ARG_TIMEOUT:
                        if (parse_seconds_ms(optarg, &cli->ctx.timeout_ms) < 0 || cli->ctx.timeout_ms <= 0)
                                return log_error_errno(-EINVAL, "--timeout: \"%s\" is not a number of seconds.", optarg);
                        break;
                case ARG_LOCK_TIMEOUT:
                        if (parse_seconds_ms(optarg, &cli->lock_timeout_ms) < 0)
                                return log_error_errno(-EINVAL, "--lock-timeout: \"%s\" is not a number of seconds.", optarg);
                        break;
                case ARG_BRIDGE:
                        cli->bridge = optarg;
                        break;
                case ARG_STATE:
                        cli->state_path = optarg;
                        break;
                case ARG_SET:
                        if (strv_push(&cli->sets, &cli->n_sets, optarg) < 0)
                                return log_error_errno(-ENOMEM, "Out of memory.");
                        break;
                case ARG_INTERFACES:
                        cli->host.interfaces_path = optarg;
                        break;
                case ARG_CONFIRM_TIMEOUT:
                        errno = 0;
                        cli->confirm_timeout = (unsigned) strtoul(optarg, &end, 10);
                        if (errno || *end || cli->confirm_timeout == 0 || cli->confirm_timeout > 86400)
                                return log_error_errno(-EINVAL, "--confirm-timeout: expected 1..86400 seconds, got \"%s\".", optarg);
                        break;
                case ARG_AUDIT:
                        if (parse_seconds_ms(optarg, &cli->audit_interval_ms) < 0)
                                return log_error_errno(-EINVAL, "--audit-interval: \"%s\" is not a number of seconds.", optarg);
                        break;
                case ARG_CONTAINER_AUDIT:
                        if (parse_seconds_ms(optarg, &cli->container_audit_interval_ms) < 0)
                                return log_error_errno(-EINVAL, "--container-audit-interval: \"%s\" is not a number of seconds.", optarg);
                        break;
                case ARG_KEEP:
                        errno = 0;
                        cli->keep_checkpoints = (unsigned) strtoul(optarg, &end, 10);
                        if (errno || *end || cli->keep_checkpoints == 0 || cli->keep_checkpoints > 1000)
                                return log_error_errno(-EINVAL, "--keep-checkpoints: expected 1..1000, got \"%s\".", optarg);
                        break;
                default:
                        return -EINVAL;
                }
        return 0;
}

static void cli_defaults(Cli *cli) {
        *cli = (Cli) {
                .ctx = {
                        .state_dir = env_or("OPDBUS_STATE_DIR", DEFAULT_STATE_DIR),
                        .run_dir = env_or("OPDBUS_RUN_DIR", DEFAULT_RUN_DIR),
                        .timeout_ms = DEFAULT_TIMEOUT_MS,
                },
                .host = {
                        .ovsdb_address = env_or("OPDBUS_OVSDB", DEFAULT_OVSDB),
                        .ovs_rundir = env_or("OVS_RUNDIR", "/var/run/openvswitch"),
                        .pve_dir = env_or("OPDBUS_PVE_DIR", DEFAULT_PVE_DIR),
                        .interfaces_path = env_or("OPDBUS_INTERFACES", "/etc/network/interfaces"),
                },
                .keep_checkpoints = CHECKPOINTS_KEEP_DEFAULT,
                .lock_timeout_ms = 30 * 1000,
                .audit_interval_ms = -1,
                .container_audit_interval_ms = -1,
        };
}

static int setup_reconciler(const Cli *cli, Reconciler *rc) {
        int r;

        reconciler_init(rc, &cli->ctx);
        rc->keep_checkpoints = cli->keep_checkpoints;
        rc->lock_timeout_ms = cli->lock_timeout_ms;
        r = reconciler_use_product(rc, &opdbus_product);
        rc->fault_after = getenv("OPDBUS_FAULT_INJECT");
        if (r < 0)
                return log_error_errno(r, "Cannot order the built-in plugins: %m");
        return 0;
}

static const char *need_file(int argc, char **argv, const char *verb) {
        if (optind + 1 >= argc) {
                log_error("%s: missing FILE (use '-' for standard input).", verb);
                return NULL;
        }
        if (optind + 2 < argc) {
                log_error("%s: unexpected argument \"%s\".", verb, argv[optind + 2]);
                return NULL;
        }
        return argv[optind + 1];
}

typedef int (*ReconcileFn)(Reconciler *rc, const StateDoc *doc, const ReconcileOptions *o, ReconcileResult *res);

/* validate, plan, apply, diff, verify: load FILE, run fn, print. */
/* Prints a result computed here, exactly as a daemon's result prints. */
static int finish(const Cli *cli, const char *verb, const char *origin, ReconcileResult *res) {
        _cleanup_(json_object_putp) json_object *o = NULL;

        /* A difference diff finds is drift, as for verify: the JSON and the
         * exit status say the same. */
        if (streq(verb, "diff") && res->status == RECONCILE_OK && res->plan.n_actions > 0)
                res->status = RECONCILE_DRIFT;
        o = reconcile_result_to_json(res);
        if (!o)
                return log_error_errno(-ENOMEM, "Out of memory."), EXIT_UNAVAILABLE;
        if (streq(verb, "diff"))
                print_diff(cli->json, origin, o);
        else
                print_result(cli->json, verb, origin, o);
        return exit_code_for(res->status);
}

/* The a{sv} of ApplyStateWithOptions, or of PlanWithOptions (plugins
 * only) when plan is set. */
static int append_options(sd_bus_message *m, const Cli *cli, bool plan) {
        int r;

        r = sd_bus_message_open_container(m, 'a', "{sv}");
        if (r >= 0 && !plan && cli->confirm_timeout > 0)
                r = sd_bus_message_append(m, "{sv}", "confirm_timeout", "u", cli->confirm_timeout);
        if (r >= 0 && !plan && cli->allow_outage)
                r = sd_bus_message_append(m, "{sv}", "allow_outage", "b", 1);
        if (r >= 0 && cli->only) {
                r = sd_bus_message_open_container(m, 'e', "sv");
                if (r >= 0)
                        r = sd_bus_message_append(m, "s", "plugins");
                if (r >= 0)
                        r = sd_bus_message_open_container(m, 'v', "as");
                if (r >= 0)
                        r = sd_bus_message_append_strv(m, cli->only);
                if (r >= 0)
                        r = sd_bus_message_close_container(m);
                if (r >= 0)
                        r = sd_bus_message_close_container(m);
        }
        if (r >= 0)
                r = sd_bus_message_close_container(m);
        return r;
}

/* apply and plan through the daemon; apply --dry-run is a plan. The file
 * is read and parsed here so syntax errors name the file, as they do
 * without the daemon. */
static int via_daemon(Cli *cli, sd_bus *bus, const char *verb, const char *file, const char *origin) {
        _cleanup_(sd_bus_message_unrefp) sd_bus_message *m = NULL;
        _cleanup_(reconcile_result_done) ReconcileResult res = {};
        _cleanup_(state_doc_freep) StateDoc *doc = NULL;
        const char *text;
        bool plan;
        int r;

        r = state_doc_load(file, &doc, &res.diag);
        if (r < 0) {
                res.status = RECONCILE_INVALID;
                return finish(cli, verb, origin, &res);
        }
        text = json_object_to_json_string_ext(doc->root, JSON_C_TO_STRING_PLAIN);
        plan = streq(verb, "plan") || cli->dry_run;
        r = client_new_call(bus, plan ? "PlanWithOptions" : "ApplyStateWithOptions", &m);
        if (r >= 0)
                r = sd_bus_message_append(m, "s", text);
        if (r >= 0)
                r = append_options(m, cli, plan);
        if (r < 0)
                return log_error_errno(r, "Cannot build the call: %m"), EXIT_UNAVAILABLE;
        return client_send(cli, bus, m, verb, origin);
}

#if defined(__SANITIZE_ADDRESS__)
#  define FREE_AT_EXIT 1
#elif defined(__has_feature)
#  if __has_feature(address_sanitizer)
#    define FREE_AT_EXIT 1
#  endif
#endif

/* The state document, left to the end of the process: a large state's
 * JSON tree (1.5 MB of flows is some 100,000 allocations) took a fifth
 * of a no-op apply to free, memory the kernel takes back at once. Built
 * with AddressSanitizer, it is freed, so that leak checks keep their
 * meaning. */
static void keep_until_exit(StateDoc **doc) {
#ifdef FREE_AT_EXIT
        (void) doc;
#else
        static StateDoc *kept;

        kept = TAKE_PTR(*doc);
        (void) kept;
#endif
}

/* validate, plan, apply, diff, verify: load FILE, run fn, print. */
static int verb_with_file(Cli *cli, const char *verb, const char *file, ReconcileFn fn) {
        _cleanup_(sd_bus_flush_close_unrefp) sd_bus *bus = NULL;
        _cleanup_(reconcile_result_done) ReconcileResult res = {};
        _cleanup_(state_doc_freep) StateDoc *doc = NULL;
        _cleanup_(reconciler_done) Reconciler rc = {};
        ReconcileOptions o = {
                .dry_run = cli->dry_run,
                .only = cli->only,
                .record = true,
                .allow_outage = cli->allow_outage,
        };
        const char *origin = streq(file, "-") ? "<stdin>" : file;
        bool daemon;
        int r;

        if (cli->dry_run && cli->confirm_timeout > 0) {
                log_error("apply: --confirm-timeout and --dry-run do not go together (a dry run changes nothing).");
                return EXIT_INVALID;
        }
        daemon = (streq(verb, "apply") || streq(verb, "plan")) && client_connect(cli, &bus) > 0;
        if (daemon)
                return via_daemon(cli, bus, verb, file, origin);
        if (cli->confirm_timeout > 0) {
                log_error("apply --confirm-timeout needs the op-dbus daemon (op-dbus run), which keeps the timer.");
                return EXIT_INVALID;
        }

        r = setup_reconciler(cli, &rc);
        if (r < 0)
                return EXIT_UNAVAILABLE;

        r = state_doc_load(file, &doc, &res.diag);
        if (r < 0) {
                res.status = RECONCILE_INVALID;
                res.error = r;
        } else
                (void) fn(&rc, doc, &o, &res);
        keep_until_exit(&doc);
        return finish(cli, verb, origin, &res);
}

/* query through the daemon: QueryState, or QueryPlugin for each plugin
 * asked for, put together in plugin order as reconcile_query() does. */
static int query_via_daemon(Cli *cli, Reconciler *rc, sd_bus *bus) {
        _cleanup_(json_object_putp) json_object *state = NULL;
        json_object *plugins;
        int r;

        if (!cli->only) {
                _cleanup_(sd_bus_message_unrefp) sd_bus_message *m = NULL;

                if (client_new_call(bus, "QueryState", &m) < 0)
                        return EXIT_UNAVAILABLE;
                return client_send(cli, bus, m, "query", "");
        }

        state = json_object_new_object();
        plugins = json_object_new_object();
        if (!state || !plugins) {
                json_object_put(plugins);
                return log_error_errno(-ENOMEM, "Out of memory."), EXIT_UNAVAILABLE;
        }
        json_object_object_add(state, "version", json_object_new_int(STATE_VERSION));
        json_object_object_add(state, "plugins", plugins);
        for (size_t i = 0; i < rc->registry.n; i++) {
                _cleanup_(sd_bus_message_unrefp) sd_bus_message *m = NULL;
                const char *name = rc->registry.sorted[i]->name;
                json_object *section = NULL;

                if (!strv_contains(cli->only, name))
                        continue;
                r = client_new_call(bus, "QueryPlugin", &m);
                if (r >= 0)
                        r = sd_bus_message_append(m, "s", name);
                if (r < 0)
                        return EXIT_UNAVAILABLE;
                r = client_call(cli, bus, m, "query", "", &section);
                if (r != EXIT_OK)
                        return r;
                if (section) /* null: nothing of this plugin's on the host */
                        json_object_object_add(plugins, name, section);
        }
        print_json(state);
        return EXIT_OK;
}

static int verb_query(Cli *cli) {
        _cleanup_(sd_bus_flush_close_unrefp) sd_bus *bus = NULL;
        _cleanup_(reconciler_done) Reconciler rc = {};
        _cleanup_(json_object_putp) json_object *state = NULL;
        _cleanup_(diag_done) Diag d = {};
        int r;

        r = setup_reconciler(cli, &rc);
        if (r < 0)
                return EXIT_UNAVAILABLE;
        /* Unknown names are refused here, the same way with and without
         * the daemon. */
        if (reconcile_check_plugins(&rc, cli->only, &d) < 0) {
                diag_print(&d, stderr, "");
                return EXIT_INVALID;
        }
        if (client_connect(cli, &bus) > 0)
                return query_via_daemon(cli, &rc, bus);

        r = reconcile_query(&rc, cli->only, &state, &d);
        diag_print(&d, stderr, "");
        if (r < 0)
                return r == -EINVAL ? EXIT_INVALID : EXIT_UNAVAILABLE;
        print_json(state);
        return EXIT_OK;
}

static int verb_checkpoints(Cli *cli) {
        _cleanup_(sd_bus_flush_close_unrefp) sd_bus *bus = NULL;
        _cleanup_(json_object_putp) json_object *a = NULL;
        int r;

        if (client_connect(cli, &bus) > 0) {
                _cleanup_(sd_bus_message_unrefp) sd_bus_message *m = NULL;

                if (client_new_call(bus, "ListCheckpoints", &m) < 0)
                        return EXIT_UNAVAILABLE;
                return client_send(cli, bus, m, "checkpoints", "");
        }
        r = checkpoint_list_json(cli->ctx.state_dir, &a);
        if (r < 0) {
                log_error_errno(r, "Cannot list checkpoints in %s: %m", cli->ctx.state_dir);
                return EXIT_UNAVAILABLE;
        }
        if (cli->json)
                print_json(a);
        else
                print_checkpoints_table(a);
        return EXIT_OK;
}

static int verb_rollback(Cli *cli) {
        _cleanup_(sd_bus_flush_close_unrefp) sd_bus *bus = NULL;
        _cleanup_(reconcile_result_done) ReconcileResult res = {};
        _cleanup_(reconciler_done) Reconciler rc = {};
        int r;

        if (client_connect(cli, &bus) > 0) {
                _cleanup_(sd_bus_message_unrefp) sd_bus_message *m = NULL;

                r = client_new_call(bus, cli->allow_outage ? "RollbackWithOptions" : "Rollback", &m);
                if (r >= 0)
                        r = sd_bus_message_append(m, "u", (uint32_t) cli->to);
                if (r >= 0 && cli->allow_outage)
                        r = sd_bus_message_append(m, "a{sv}", 1, "allow_outage", "b", 1);
                if (r < 0)
                        return EXIT_UNAVAILABLE;
                return client_send(cli, bus, m, "rollback", "the checkpoint");
        }
        r = setup_reconciler(cli, &rc);
        if (r < 0)
                return EXIT_UNAVAILABLE;
        (void) reconcile_rollback(&rc, cli->to, cli->allow_outage, &res);
        return finish(cli, "rollback", "the checkpoint", &res);
}

/* Puts back every flow op-dbus owns, from the newest checkpoint: after
 * ovs-vswitchd restarts, its flow tables are empty. */
static int verb_restore_flows(Cli *cli) {
        _cleanup_(sd_bus_flush_close_unrefp) sd_bus *bus = NULL;
        _cleanup_(reconcile_result_done) ReconcileResult res = {};
        _cleanup_(reconciler_done) Reconciler rc = {};
        _cleanup_(state_doc_freep) StateDoc *doc = NULL;
        char *only[] = { (char *) "openflow", NULL };
        ReconcileOptions o = { .only = only, .record = false };
        uint64_t latest = 0;
        int r;

        if (client_connect(cli, &bus) > 0) {
                _cleanup_(sd_bus_message_unrefp) sd_bus_message *m = NULL;

                r = client_new_call(bus, "RestoreFlows", &m);
                if (r >= 0)
                        r = sd_bus_message_append(m, "ss", "", cli->bridge ?: "");
                if (r < 0)
                        return EXIT_UNAVAILABLE;
                return client_send(cli, bus, m, "restore-flows", "the applied state");
        }
        cli->ctx.scope = cli->bridge;
        r = setup_reconciler(cli, &rc);
        if (r < 0)
                return EXIT_UNAVAILABLE;

        if (reconcile_applied_state(&rc, &doc, &latest, &res) >= 0) {
                o.applied_generation = &latest; /* an apply that takes the lock first wins */
                (void) reconcile_apply(&rc, doc, &o, &res);
        }
        return finish(cli, "restore-flows", "the applied state", &res);
}

static int verb_confirm(Cli *cli) {
        _cleanup_(sd_bus_flush_close_unrefp) sd_bus *bus = NULL;
        _cleanup_(sd_bus_message_unrefp) sd_bus_message *m = NULL;

        if (client_connect(NULL, &bus) <= 0) {
                log_error("confirm: the op-dbus daemon is not running, so no apply can be waiting for confirmation.");
                return EXIT_INVALID;
        }
        if (client_new_call(bus, "Confirm", &m) < 0)
                return EXIT_UNAVAILABLE;
        return client_send(cli, bus, m, "confirm", "");
}

static int dispatch(Cli *cli, int argc, char **argv) {
        static const struct {
                const char *verb;
                ReconcileFn fn;
        } file_verbs[] = {
                { "validate", reconcile_validate },
                { "plan",     reconcile_plan },
                { "apply",    reconcile_apply },
                { "diff",     reconcile_plan },
                { "verify",   reconcile_verify },
        };
        const char *verb = argv[optind], *file;

        if (streq(verb, "help")) {
                if (optind + 2 < argc) {
                        log_error("help: unexpected argument \"%s\".", argv[optind + 2]);
                        return EXIT_INVALID;
                }
                return verb_help(optind + 1 < argc ? argv[optind + 1] : NULL);
        }

        for (size_t i = 0; i < ELEMENTSOF(file_verbs); i++)
                if (streq(verb, file_verbs[i].verb)) {
                        file = need_file(argc, argv, verb);
                        return file ? verb_with_file(cli, verb, file, file_verbs[i].fn) : EXIT_INVALID;
                }

        if (optind + 1 < argc) {
                log_error("%s: unexpected argument \"%s\".", verb, argv[optind + 1]);
                return EXIT_INVALID;
        }
        if (streq(verb, "query"))
                return verb_query(cli);
        if (streq(verb, "checkpoints"))
                return verb_checkpoints(cli);
        if (streq(verb, "rollback"))
                return verb_rollback(cli);
        if (streq(verb, "restore-flows"))
                return verb_restore_flows(cli);
        if (streq(verb, "run"))
                return verb_run(cli);
        if (streq(verb, "confirm"))
                return verb_confirm(cli);
        if (streq(verb, "init"))
                return verb_init(cli);
        if (streq(verb, "version")) {
                printf("op-dbus %s\n", PACKAGE_VERSION);
                return EXIT_OK;
        }
        log_error("Unknown command \"%s\"; see 'op-dbus --help'.", verb);
        return EXIT_INVALID;
}

int main(int argc, char **argv) {
        Cli cli;
        int r;

        cli_defaults(&cli);
        cli.ctx.settings = &cli.host;
        r = parse_argv(&cli, argc, argv);
        if (r < 0) {
                free(cli.only);
                return EXIT_INVALID;
        }
        if (optind >= argc) {
                help();
                free(cli.only);
                return EXIT_INVALID;
        }
        r = dispatch(&cli, argc, argv);
        free(cli.only);
        free(cli.sets);
        return r;
}
