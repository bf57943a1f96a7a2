/* SPDX-License-Identifier: LGPL-2.1-or-later */
/* op-dbus: declarative Open vSwitch and container state for Proxmox VE nodes. */
#include <getopt.h>
#include <inttypes.h>
#include <stdio.h>

#include "op-dbus.h"
#include "fileio.h"
#include "json-util.h"
#include "log.h"
#include "profiles.h"
#include "plugins.h"
#include "settings.h"
#include "show.h"

static bool strv_contains(char **l, const char *s) {
        for (; l && *l; l++)
                if (streq(*l, s))
                        return true;
        return false;
}

/* op-dbus's own options; the common ones are the command line's (cli.h). */
enum {
        ARG_OVSDB = CLI_ARG_PROGRAM,
        ARG_PVE_DIR,
        ARG_PROFILE,
        ARG_BRIDGE,
        ARG_STATE,
        ARG_AUDIT,
        ARG_CONTAINER_AUDIT,
        ARG_INTERFACES,
        ARG_SET,
        ARG_FORCE,
        ARG_LIST_PROFILES,
        ARG_CONTAINER,
        ARG_FORMAT,
};

static int parse_argv(Cli *cli, int argc, char **argv) {
        static const struct option options[] = {
                CLI_COMMON_OPTIONS,
                { "output",           required_argument, NULL, 'o' },
                { "ovsdb",            required_argument, NULL, ARG_OVSDB },
                { "pve-dir",          required_argument, NULL, ARG_PVE_DIR },
                { "profile",          required_argument, NULL, ARG_PROFILE },
                { "bridge",           required_argument, NULL, ARG_BRIDGE },
                { "state",            required_argument, NULL, ARG_STATE },
                { "audit-interval",   required_argument, NULL, ARG_AUDIT },
                { "container-audit-interval", required_argument, NULL, ARG_CONTAINER_AUDIT },
                { "interfaces",       required_argument, NULL, ARG_INTERFACES },
                { "set",              required_argument, NULL, ARG_SET },
                { "force",            no_argument,       NULL, ARG_FORCE },
                { "list-profiles",    no_argument,       NULL, ARG_LIST_PROFILES },
                { "container",        required_argument, NULL, ARG_CONTAINER },
                { "format",           required_argument, NULL, ARG_FORMAT },
                {}
        };
        int c, r;

        while ((c = getopt_long(argc, argv, CLI_COMMON_SHORT_OPTIONS "o:", options, NULL)) >= 0) {
                r = cli_common_option(&cli->c, c, optarg);
                if (r < 0)
                        return r;
                if (r == CLI_OPTION_DONE)
                        continue;
                switch (c) {
                case 'o':
                        cli->output = optarg;
                        break;
                case ARG_OVSDB:
                        cli->host.ovsdb_address = optarg;
                        break;
                case ARG_PVE_DIR:
                        cli->host.pve_dir = optarg;
                        break;
                case ARG_PROFILE:
                        cli->profile = optarg;
                        break;
                case ARG_BRIDGE:
                        cli->bridge = optarg;
                        break;
                case ARG_STATE:
                        cli->state_path = optarg;
                        break;
                case ARG_SET:
                        if (cli_strv_push(&cli->sets, &cli->n_sets, optarg) < 0)
                                return log_error_errno(-ENOMEM, "Out of memory.");
                        break;
                case ARG_FORMAT:
                        cli->format = optarg;
                        break;
                case ARG_FORCE:
                        cli->force = true;
                        break;
                case ARG_LIST_PROFILES:
                        /* one name a line (shell completion); like --version, it ends here */
                        for (const Profile *p = builtin_profiles; p->name; p++)
                                puts(p->name);
                        exit(EXIT_OK);
                case ARG_INTERFACES:
                        cli->host.interfaces_path = optarg;
                        break;
                case ARG_CONTAINER: {
                        unsigned id;

                        /* Proxmox's guest ids: 100..999999999 */
                        if (sscanf(optarg, "%u%n", &id, &(int) { 0 }) != 1 || id < 100 || id > 999999999 ||
                            strspn(optarg, "0123456789") != strlen(optarg))
                                return log_error_errno(-EINVAL, "--container: \"%s\" is not a container id "
                                                       "(100..999999999).", optarg);
                        cli->container = id;
                        break;
                }
                case ARG_AUDIT:
                        if (cli_parse_seconds_ms(optarg, &cli->audit_interval_ms) < 0)
                                return log_error_errno(-EINVAL, "--audit-interval: \"%s\" is not a number of seconds.", optarg);
                        break;
                case ARG_CONTAINER_AUDIT:
                        if (cli_parse_seconds_ms(optarg, &cli->container_audit_interval_ms) < 0)
                                return log_error_errno(-EINVAL, "--container-audit-interval: \"%s\" is not a number of seconds.", optarg);
                        break;
                default:
                        return -EINVAL;
                }
        }
        return 0;
}

static void cli_defaults(Cli *cli) {
        *cli = (Cli) {
                .host = {
                        .ovsdb_address = cli_env_or("OPDBUS_OVSDB", DEFAULT_OVSDB),
                        .ovs_rundir = cli_env_or("OVS_RUNDIR", "/var/run/openvswitch"),
                        .pve_dir = cli_env_or("OPDBUS_PVE_DIR", DEFAULT_PVE_DIR),
                        .interfaces_path = cli_env_or("OPDBUS_INTERFACES", "/etc/network/interfaces"),
                },
                .audit_interval_ms = -1,
                .container_audit_interval_ms = -1,
        };
        cli_common_init(&cli->c, "op-dbus", "OPDBUS_STATE_DIR", DEFAULT_STATE_DIR, "OPDBUS_RUN_DIR", DEFAULT_RUN_DIR,
                        "OPDBUS_FAULT_INJECT");
        cli->c.help = help;
        cli->c.product = &opdbus_product;
        cli->c.state_env = "OPDBUS_STATE";
        cli->c.state_file = cli_env_or(cli->c.state_env, DEFAULT_STATE_FILE);
}

static int setup_reconciler(const Cli *cli, Reconciler *rc) {
        return cli_setup_reconciler(&cli->c, &opdbus_product, rc);
}

/* The a{sv} of ApplyStateWithOptions (source: the file, for the audit
 * record), or of PlanWithOptions (plugins only) when plan is set. */
static int append_options(sd_bus_message *m, const Cli *cli, bool plan, const char *source) {
        int r;

        r = sd_bus_message_open_container(m, 'a', "{sv}");
        if (r >= 0 && !plan && source)
                r = sd_bus_message_append(m, "{sv}", "source", "s", source);
        if (r >= 0 && !plan && cli->c.confirm_timeout > 0)
                r = sd_bus_message_append(m, "{sv}", "confirm_timeout", "u", cli->c.confirm_timeout);
        if (r >= 0 && !plan && cli->c.allow_outage)
                r = sd_bus_message_append(m, "{sv}", "allow_outage", "b", 1);
        if (r >= 0 && cli->c.only) {
                r = sd_bus_message_open_container(m, 'e', "sv");
                if (r >= 0)
                        r = sd_bus_message_append(m, "s", "plugins");
                if (r >= 0)
                        r = sd_bus_message_open_container(m, 'v', "as");
                if (r >= 0)
                        r = sd_bus_message_append_strv(m, cli->c.only);
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
        _cleanup_(freep) char *abs = NULL;
        _cleanup_(reconcile_result_done) ReconcileResult res = {};
        _cleanup_(state_doc_freep) StateDoc *doc = NULL;
        const char *text;
        bool plan;
        int r;

        r = state_doc_load(file, &doc, &res.diag);
        if (r < 0) {
                res.status = RECONCILE_INVALID;
                return cli_finish(&cli->c, verb, origin, &res);
        }
        text = json_object_to_json_string_ext(doc->root, JSON_C_TO_STRING_PLAIN);
        plan = streq(verb, "plan") || cli->c.dry_run;
        r = client_new_call(bus, plan ? "PlanWithOptions" : "ApplyStateWithOptions", &m);
        if (r >= 0)
                r = sd_bus_message_append(m, "s", text);
        if (r >= 0)
                r = append_options(m, cli, plan, cli_source(file, &abs));
        if (r < 0)
                return log_error_errno(r, "Cannot build the call: %m"), EXIT_UNAVAILABLE;
        return client_send(cli, bus, m, verb, origin);
}

/* validate, plan, apply, diff, verify FILE: plan and apply through the
 * daemon when it runs, the others (and all without it) in this process. */
static int verb_with_file(Cli *cli, const char *verb, const char *file) {
        _cleanup_(sd_bus_flush_close_unrefp) sd_bus *bus = NULL;
        _cleanup_(reconciler_done) Reconciler rc = {};
        bool daemon;

        if (cli->c.dry_run && cli->c.confirm_timeout > 0) {
                log_error("apply: --confirm-timeout and --dry-run do not go together (a dry run changes nothing).");
                return EXIT_INVALID;
        }
        daemon = (streq(verb, "apply") || streq(verb, "plan")) && client_connect(cli, &bus) > 0;
        if (daemon)
                return via_daemon(cli, bus, verb, file, cli_origin(file));
        if (cli->c.confirm_timeout > 0) {
                log_error("apply --confirm-timeout needs the op-dbus daemon (op-dbus run), which keeps the timer.");
                return EXIT_INVALID;
        }
        if (setup_reconciler(cli, &rc) < 0)
                return EXIT_UNAVAILABLE;
        return cli_run_file_verb(&cli->c, &rc, verb, file);
}

/* query through the daemon: QueryState, or QueryPlugin for each plugin
 * asked for, put together in plugin order as reconcile_query() does. */
static int query_via_daemon(Cli *cli, Reconciler *rc, sd_bus *bus) {
        _cleanup_(json_object_putp) json_object *state = NULL;
        json_object *plugins;
        int r;

        if (!cli->c.only) {
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

                if (!strv_contains(cli->c.only, name))
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
        _cleanup_(diag_done) Diag d = {};

        if (setup_reconciler(cli, &rc) < 0)
                return EXIT_UNAVAILABLE;
        /* Unknown names are refused here, the same way with and without
         * the daemon. */
        if (reconcile_check_plugins(&rc, cli->c.only, &d) < 0) {
                diag_print(&d, stderr, "");
                return EXIT_INVALID;
        }
        if (client_connect(cli, &bus) > 0)
                return query_via_daemon(cli, &rc, bus);
        return cli_run_query(&cli->c, &rc);
}

static int verb_checkpoints(Cli *cli) {
        _cleanup_(sd_bus_flush_close_unrefp) sd_bus *bus = NULL;

        if (client_connect(cli, &bus) > 0) {
                _cleanup_(sd_bus_message_unrefp) sd_bus_message *m = NULL;

                if (client_new_call(bus, "ListCheckpoints", &m) < 0)
                        return EXIT_UNAVAILABLE;
                return client_send(cli, bus, m, "checkpoints", "");
        }
        return cli_run_checkpoints(&cli->c);
}

static int verb_rollback(Cli *cli) {
        _cleanup_(sd_bus_flush_close_unrefp) sd_bus *bus = NULL;
        _cleanup_(reconciler_done) Reconciler rc = {};
        int r;

        if (client_connect(cli, &bus) > 0) {
                _cleanup_(sd_bus_message_unrefp) sd_bus_message *m = NULL;

                r = client_new_call(bus, cli->c.allow_outage ? "RollbackWithOptions" : "Rollback", &m);
                if (r >= 0)
                        r = sd_bus_message_append(m, "u", (uint32_t) cli->c.to);
                if (r >= 0 && cli->c.allow_outage)
                        r = sd_bus_message_append(m, "a{sv}", 1, "allow_outage", "b", 1);
                if (r < 0)
                        return EXIT_UNAVAILABLE;
                return client_send(cli, bus, m, "rollback", "the checkpoint");
        }
        if (setup_reconciler(cli, &rc) < 0)
                return EXIT_UNAVAILABLE;
        return cli_run_rollback(&cli->c, &rc);
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
        cli->c.ctx.scope = cli->bridge;
        r = setup_reconciler(cli, &rc);
        if (r < 0)
                return EXIT_UNAVAILABLE;

        if (reconcile_applied_state(&rc, &doc, &latest, &res) >= 0) {
                o.applied_generation = &latest; /* an apply that takes the lock first wins */
                (void) reconcile_apply(&rc, doc, &o, &res);
        }
        return cli_finish(&cli->c, "restore-flows", "the applied state", &res);
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

/* diff --from N [--to M]: stored generations compared, in this process. */
static int verb_generation_diff(Cli *cli, int argc, char **argv, const char *verb) {
        _cleanup_(reconciler_done) Reconciler rc = {};

        if (!cli_generation_diff_args(&cli->c, argc, argv, verb))
                return EXIT_INVALID;
        if (setup_reconciler(cli, &rc) < 0)
                return EXIT_UNAVAILABLE;
        return cli_run_generation_diff(&cli->c, &rc);
}

static int dispatch(Cli *cli, int argc, char **argv) {
        const char *verb = argv[optind], *arg;

        if (streq(verb, "render")) {
                if (cli_optional_arg(argc, argv, verb, &arg) < 0)
                        return EXIT_INVALID;
                if (cli->container == 0) {
                        log_error("render: which container? 'op-dbus render --container ID [FILE]'.");
                        return EXIT_INVALID;
                }
                return verb_render(cli, arg ?: cli->c.state_file);
        }
        if (streq(verb, "help")) {
                if (cli_optional_arg(argc, argv, verb, &arg) < 0)
                        return EXIT_INVALID;
                return verb_help(arg);
        }
        if (cli->c.from)
                return verb_generation_diff(cli, argc, argv, verb);
        if (cli_file_verb(verb)) {
                arg = cli_need_file(&cli->c, argc, argv, verb);
                return arg ? verb_with_file(cli, verb, arg) : EXIT_INVALID;
        }
        if (!cli_no_args(argc, argv, verb))
                return EXIT_INVALID;
        if (streq(verb, "query"))
                return verb_query(cli);
        if (streq(verb, "status"))
                return verb_status(cli);
        if (streq(verb, "checkpoints"))
                return verb_checkpoints(cli);
        if (streq(verb, "rollback"))
                return verb_rollback(cli);
        if (streq(verb, "restore-flows"))
                return verb_restore_flows(cli);
        if (streq(verb, "run"))
                return verb_run(cli);
        if (streq(verb, "show"))
                return verb_show(cli);
        if (streq(verb, "confirm"))
                return verb_confirm(cli);
        if (streq(verb, "init"))
                return verb_init(cli);
        if (streq(verb, "version"))
                return cli_print_version(&cli->c);
        log_error("Unknown command \"%s\"; see 'op-dbus --help'.", verb);
        return EXIT_INVALID;
}

int main(int argc, char **argv) {
        Cli cli;
        int r;

        cli_defaults(&cli);
        cli.c.ctx.settings = &cli.host;
        r = parse_argv(&cli, argc, argv);
        if (r >= 0 && optind >= argc)
                help();
        if (r >= 0 && optind < argc)
                r = dispatch(&cli, argc, argv);
        else
                r = EXIT_INVALID;
        cli_common_done(&cli.c);
        free(cli.sets);
        return r;
}
