/* SPDX-License-Identifier: LGPL-2.1-or-later */
/* The options every program takes (docs/cli.md): where the state and the
 * lock are, the output, the plugin filter, the timeouts and the arguments
 * of apply and rollback. */
#include <stdio.h>

#include "checkpoint.h"
#include "cli.h"
#include "log.h"

const char *cli_env_or(const char *name, const char *fallback) {
        const char *v = getenv(name);

        return v && v[0] ? v : fallback;
}

void cli_common_init(CliCommon *c, const char *program, const char *state_env, const char *state_default,
                     const char *run_env, const char *run_default, const char *fault_env) {
        *c = (CliCommon) {
                .program = program,
                .fault_env = fault_env,
                .ctx = {
                        .state_dir = cli_env_or(state_env, state_default),
                        .run_dir = cli_env_or(run_env, run_default),
                        .timeout_ms = CLI_DEFAULT_TIMEOUT_MS,
                },
                .keep_checkpoints = CHECKPOINTS_KEEP_DEFAULT,
                .lock_timeout_ms = CLI_DEFAULT_LOCK_TIMEOUT_MS,
        };
}

void cli_common_done(CliCommon *c) {
        free(c->only);
        c->only = NULL;
        c->n_only = 0;
}

int cli_parse_seconds_ms(const char *s, int *ret) {
        char *end;
        double v;

        errno = 0;
        v = strtod(s, &end);
        if (errno || end == s || *end || v < 0 || v > 86400)
                return -EINVAL;
        *ret = (int) (v * 1000);
        return 0;
}

int cli_strv_push(char ***l, size_t *n, const char *s) {
        char **t = realloc(*l, (*n + 2) * sizeof(char *));

        if (!t)
                return -ENOMEM;
        *l = t;
        t[(*n)++] = (char *) s;
        t[*n] = NULL;
        return 0;
}

static int parse_unsigned(const char *s, unsigned min, unsigned max, unsigned *ret) {
        unsigned long v;
        char *end;

        errno = 0;
        v = strtoul(s, &end, 10);
        if (errno || end == s || *end || v < min || v > max)
                return -EINVAL;
        *ret = (unsigned) v;
        return 0;
}

int cli_print_version(const CliCommon *c) {
        printf("%s %s\n", c->program, PACKAGE_VERSION);
        return EXIT_OK;
}

int cli_common_option(CliCommon *c, int opt, const char *arg) {
        char *end;

        switch (opt) {
        case 'h':
                c->help();
                exit(EXIT_OK);
        case CLI_ARG_VERSION:
                exit(cli_print_version(c));
        case CLI_ARG_LIST_PLUGINS:
                /* one name a line, in the program's order (shell completion) */
                for (size_t i = 0; c->product && i < c->product->n_plugins; i++)
                        puts(c->product->plugins[i]->name);
                exit(EXIT_OK);
        case 'v':
                log_set_max_level(LOG_DEBUG);
                return CLI_OPTION_DONE;
        case CLI_ARG_STATE_DIR:
                c->ctx.state_dir = arg;
                return CLI_OPTION_DONE;
        case CLI_ARG_RUN_DIR:
                c->ctx.run_dir = arg;
                return CLI_OPTION_DONE;
        case CLI_ARG_JSON:
                c->json = true;
                return CLI_OPTION_DONE;
        case CLI_ARG_DRY_RUN:
                c->dry_run = true;
                return CLI_OPTION_DONE;
        case CLI_ARG_ALLOW_OUTAGE:
                c->allow_outage = true;
                return CLI_OPTION_DONE;
        case CLI_ARG_PLUGIN:
                if (cli_strv_push(&c->only, &c->n_only, arg) < 0)
                        return log_error_errno(-ENOMEM, "Out of memory.");
                return CLI_OPTION_DONE;
        case CLI_ARG_TO:
        case CLI_ARG_FROM: {
                unsigned long long *g = opt == CLI_ARG_TO ? &c->to : &c->from;

                /* strtoull() would take "-1" as 2^64-1 */
                errno = 0;
                *g = arg[0] >= '1' && arg[0] <= '9' ? strtoull(arg, &end, 10) : 0;
                /* The daemon's Rollback takes a 32-bit generation. */
                if (errno || *g == 0 || *end || *g > UINT32_MAX)
                        return log_error_errno(-EINVAL, "--%s: \"%s\" is not a generation number: expected "
                                               "one of those '%s checkpoints' lists, such as 3.",
                                               opt == CLI_ARG_TO ? "to" : "from", arg, c->program);
                return CLI_OPTION_DONE;
        }
        case CLI_ARG_TIMEOUT:
                if (cli_parse_seconds_ms(arg, &c->ctx.timeout_ms) < 0 || c->ctx.timeout_ms <= 0)
                        return log_error_errno(-EINVAL, "--timeout: \"%s\" is not a number of seconds.", arg);
                return CLI_OPTION_DONE;
        case CLI_ARG_LOCK_TIMEOUT:
                if (cli_parse_seconds_ms(arg, &c->lock_timeout_ms) < 0)
                        return log_error_errno(-EINVAL, "--lock-timeout: \"%s\" is not a number of seconds.", arg);
                return CLI_OPTION_DONE;
        case CLI_ARG_CONFIRM_TIMEOUT:
                if (parse_unsigned(arg, 1, 86400, &c->confirm_timeout) < 0)
                        return log_error_errno(-EINVAL, "--confirm-timeout: expected 1..86400 seconds, got \"%s\".", arg);
                return CLI_OPTION_DONE;
        case CLI_ARG_KEEP:
                if (parse_unsigned(arg, 1, 1000, &c->keep_checkpoints) < 0)
                        return log_error_errno(-EINVAL, "--keep-checkpoints: expected 1..1000, got \"%s\".", arg);
                return CLI_OPTION_DONE;
        default:
                return CLI_OPTION_NOT_COMMON;
        }
}
