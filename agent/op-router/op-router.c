/* SPDX-License-Identifier: LGPL-2.1-or-later */
/* op-router: declarative firewall (and, as its plugins grow, links,
 * addresses, routes and tunnels) for a router, on the reconciler core. */
#include <getopt.h>
#include <stdio.h>
#include <sys/syscall.h>
#include <unistd.h>

#include "log.h"
#include "op-router.h"
#include "plugins.h"
#include "sandbox.h"

/* op-router's own options; the common ones are the command line's (cli.h). */
enum {
        ARG_SECRETS = CLI_ARG_PROGRAM,
};

static int parse_argv(Cli *cli, int argc, char **argv) {
        static const struct option options[] = {
                CLI_COMMON_OPTIONS,
                { "secrets", required_argument, NULL, ARG_SECRETS },
                {}
        };
        int c, r;

        while ((c = getopt_long(argc, argv, CLI_COMMON_SHORT_OPTIONS, options, NULL)) >= 0) {
                r = cli_common_option(&cli->c, c, optarg);
                if (r < 0)
                        return r;
                if (r == CLI_OPTION_DONE)
                        continue;
                switch (c) {
                case ARG_SECRETS:
                        cli->router.secrets_path = optarg;
                        break;
                default:
                        return -EINVAL;
                }
        }
        return 0;
}

static void cli_defaults(Cli *cli) {
        *cli = (Cli) {
                .router = {
                        .secrets_path = cli_env_or("OPROUTER_SECRETS", DEFAULT_ROUTER_SECRETS_FILE),
                },
        };
        cli_common_init(&cli->c, "op-router", "OPROUTER_STATE_DIR", DEFAULT_ROUTER_STATE_DIR, "OPROUTER_RUN_DIR",
                        DEFAULT_ROUTER_RUN_DIR, "OPROUTER_FAULT_INJECT");
        cli->c.help = help;
        cli->c.product = &oprouter_product;
        cli->c.state_env = "OPROUTER_STATE";
        cli->c.state_file = cli_env_or(cli->c.state_env, DEFAULT_ROUTER_STATE_FILE);
}

static int verb_with_file(Cli *cli, const char *verb, const char *file) {
        _cleanup_(reconciler_done) Reconciler rc = {};

        if (cli->c.dry_run && cli->c.confirm_timeout > 0) {
                log_error("apply: --confirm-timeout and --dry-run do not go together (a dry run changes nothing).");
                return EXIT_INVALID;
        }
        if (cli->c.confirm_timeout > 0 && streq(verb, "apply"))
                return oprouter_apply_confirmed(&cli->c, file);
        if (cli_setup_reconciler(&cli->c, &oprouter_product, &rc) < 0)
                return EXIT_UNAVAILABLE;
        return cli_run_file_verb(&cli->c, &rc, verb, file);
}

static int verb_query(Cli *cli) {
        _cleanup_(reconciler_done) Reconciler rc = {};

        if (cli_setup_reconciler(&cli->c, &oprouter_product, &rc) < 0)
                return EXIT_UNAVAILABLE;
        return cli_run_query(&cli->c, &rc);
}

static int verb_rollback(Cli *cli) {
        _cleanup_(reconciler_done) Reconciler rc = {};

        if (cli_setup_reconciler(&cli->c, &oprouter_product, &rc) < 0)
                return EXIT_UNAVAILABLE;
        return cli_run_rollback(&cli->c, &rc);
}

/* diff --from N [--to M]: stored generations compared, in this process. */
static int verb_generation_diff(Cli *cli, int argc, char **argv, const char *verb) {
        _cleanup_(reconciler_done) Reconciler rc = {};

        if (!cli_generation_diff_args(&cli->c, argc, argv, verb))
                return EXIT_INVALID;
        if (cli_setup_reconciler(&cli->c, &oprouter_product, &rc) < 0)
                return EXIT_UNAVAILABLE;
        return cli_run_generation_diff(&cli->c, &rc);
}

static int dispatch(Cli *cli, int argc, char **argv) {
        const char *verb = argv[optind], *arg;

        if (streq(verb, "help") || streq(verb, "run")) {
                if (cli_optional_arg(argc, argv, verb, &arg) < 0)
                        return EXIT_INVALID;
                return streq(verb, "help") ? verb_help(arg) : oprouter_run(&cli->c, arg);
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
        if (streq(verb, "checkpoints"))
                return cli_run_checkpoints(&cli->c);
        if (streq(verb, "rollback"))
                return verb_rollback(cli);
        if (streq(verb, "confirm"))
                return oprouter_confirm(&cli->c);
        if (streq(verb, "version"))
                return cli_print_version(&cli->c);
        log_error("Unknown command \"%s\"; see 'op-router --help'.", verb);
        return EXIT_INVALID;
}

#if defined(__SANITIZE_ADDRESS__)
#  define HAVE_LSAN 1
#elif defined(__has_feature)
#  if __has_feature(address_sanitizer)
#    define HAVE_LSAN 1
#  endif
#endif

#ifdef HAVE_LSAN
/* LeakSanitizer's check at exit stops the process's threads with clone and
 * ptrace, which the filter refuses: a sanitized op-router that entered it
 * leaves the check out (the plugins' unit tests and the drivers keep
 * theirs). */
static bool sandboxed;
int __lsan_is_turned_off(void);
int __lsan_is_turned_off(void) {
        return sandboxed;
}
#define SET_SANDBOXED() (sandboxed = true)
#else
#define SET_SANDBOXED() ((void) 0)
#endif

/* The seccomp filter goes in before any verb runs: op-router runs no other
 * program, loads no module, mounts nothing (docs/router.md, "The seccomp
 * sandbox"). A kernel without seccomp filters is refused rather than run
 * unconfined. */
static int enter_sandbox(void) {
        int r = sandbox_enter(NULL, NULL);

        if (r >= 0)
                SET_SANDBOXED();
        else if (r == -ENOSYS)
                log_error("This kernel has no seccomp filters (grep Seccomp /proc/self/status); op-router runs only "
                          "under its filter.");
        else if (r < 0)
                log_error_errno(r, "Could not enter the seccomp sandbox: %m");
        return r;
}

/* --selftest-sandbox (not in the help): enters the filter, then asks the
 * kernel to run a program (the bare system call: op-router links no
 * function that starts one), which the filter answers by killing the
 * process with SIGSYS. Returning at all means the filter did not hold. */
static int selftest_sandbox(void) {
        char *const argv[] = { (char *) "/bin/true", NULL };

        if (enter_sandbox() < 0)
                return EXIT_UNAVAILABLE;
        (void) syscall(SYS_execve, argv[0], argv, environ);
        log_error("selftest-sandbox: execve was not stopped by the filter: %m");
        return EXIT_APPLY_FAILED;
}

int main(int argc, char **argv) {
        Cli cli;
        int r;

        if (argc == 2 && streq(argv[1], "--selftest-sandbox"))
                return selftest_sandbox();
        cli_defaults(&cli);
        cli.c.ctx.settings = &cli.router;
        r = parse_argv(&cli, argc, argv);
        if (r >= 0 && optind >= argc)
                help();
        if (r >= 0 && optind < argc && enter_sandbox() < 0)
                r = EXIT_UNAVAILABLE;
        else if (r >= 0 && optind < argc)
                r = dispatch(&cli, argc, argv);
        else
                r = EXIT_INVALID;
        cli_common_done(&cli.c);
        return r;
}
