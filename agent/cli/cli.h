/* SPDX-License-Identifier: LGPL-2.1-or-later */
#pragma once

/* What every program's command line shares: the exit codes (docs/cli.md),
 * the output, rendered from a result's JSON as text or as JSON, the
 * options every program takes, the verbs run in-process against a
 * Reconciler, and the mechanics of the help table. A program adds its own
 * options, its verbs and its front ends (a daemon client) around them. */

#include <getopt.h>
#include <stdbool.h>

#include <json-c/json.h>

#include "reconcile.h"

/* Exit codes (docs/cli.md). */
enum {
        EXIT_OK = 0,
        EXIT_APPLY_FAILED = 1,      /* apply failed and was rolled back */
        EXIT_INVALID = 2,           /* invalid input or usage; nothing changed */
        EXIT_DRIFT = 3,             /* verify/diff: the host differs */
        EXIT_BUSY = 4,              /* another apply holds the lock */
        EXIT_UNAVAILABLE = 5,       /* a service (OVSDB) cannot be reached */
        EXIT_ROLLBACK_FAILED = 6,   /* apply failed and the rollback failed too */
        EXIT_DENIED = 7,            /* the daemon refused: not permitted */
};

int exit_code_for(ReconcileStatus s) _pure_;
/* The exit code a result JSON stands for. */
int exit_code_for_json(json_object *res);

/* Everything renders from the result JSON; json: print it as it is. */
void print_result(bool json, const char *verb, const char *origin, json_object *res);
void print_diff(bool json, const char *origin, json_object *res);
void print_json(json_object *o);
void print_checkpoints_table(json_object *list);
void print_generation_diff(json_object *changes);

/* ---- the options every program takes ---------------------------------------- */

typedef struct CliCommon {
        const char *program;        /* "op-dbus": in messages */
        void (*help)(void);         /* prints the program's help (-h) */
        const char *fault_env;      /* the variable of the programs' test aid (Reconciler.fault_after) */
        const Product *product;     /* its plugins, for --list-plugins */
        const char *state_file;     /* FILE of plan, apply, diff and verify when none is given */
        const char *state_env;      /* the variable that names state_file, in messages */
        PluginContext ctx;          /* state and run directories, timeout; ctx.settings: the program's */
        bool json;                  /* --json */
        bool dry_run;               /* apply --dry-run */
        bool allow_outage;          /* apply/rollback --allow-outage */
        char **only;                /* --plugin, repeatable; NULL-terminated, the strings borrowed */
        size_t n_only;
        unsigned long long to;      /* rollback --to; 0: the one before the newest; diff --to: 0 the newest */
        unsigned long long from;    /* diff --from: compare stored generations; 0: not given */
        unsigned confirm_timeout;   /* apply --confirm-timeout; 0: none */
        unsigned keep_checkpoints;  /* --keep-checkpoints */
        int lock_timeout_ms;        /* --lock-timeout */
} CliCommon;

/* getopt_long values of the common options; a program numbers its own
 * from CLI_ARG_PROGRAM on. */
enum {
        CLI_ARG_STATE_DIR = 0x100,
        CLI_ARG_RUN_DIR,
        CLI_ARG_JSON,
        CLI_ARG_DRY_RUN,
        CLI_ARG_PLUGIN,
        CLI_ARG_TO,
        CLI_ARG_TIMEOUT,
        CLI_ARG_LOCK_TIMEOUT,
        CLI_ARG_KEEP,
        CLI_ARG_CONFIRM_TIMEOUT,
        CLI_ARG_VERSION,
        CLI_ARG_ALLOW_OUTAGE,
        CLI_ARG_LIST_PLUGINS,
        CLI_ARG_FROM,
        CLI_ARG_PROGRAM = 0x200,
};

/* The common options' entries of a getopt_long table, and their short
 * options. */
#define CLI_COMMON_SHORT_OPTIONS "hv"
#define CLI_COMMON_OPTIONS                                                                      \
        { "help",             no_argument,       NULL, 'h' },                                   \
        { "verbose",          no_argument,       NULL, 'v' },                                   \
        { "state-dir",        required_argument, NULL, CLI_ARG_STATE_DIR },                     \
        { "run-dir",          required_argument, NULL, CLI_ARG_RUN_DIR },                       \
        { "json",             no_argument,       NULL, CLI_ARG_JSON },                          \
        { "dry-run",          no_argument,       NULL, CLI_ARG_DRY_RUN },                       \
        { "plugin",           required_argument, NULL, CLI_ARG_PLUGIN },                        \
        { "to",               required_argument, NULL, CLI_ARG_TO },                            \
        { "timeout",          required_argument, NULL, CLI_ARG_TIMEOUT },                       \
        { "lock-timeout",     required_argument, NULL, CLI_ARG_LOCK_TIMEOUT },                  \
        { "keep-checkpoints", required_argument, NULL, CLI_ARG_KEEP },                          \
        { "confirm-timeout",  required_argument, NULL, CLI_ARG_CONFIRM_TIMEOUT },               \
        { "version",          no_argument,       NULL, CLI_ARG_VERSION },                       \
        { "allow-outage",     no_argument,       NULL, CLI_ARG_ALLOW_OUTAGE },                  \
        { "list-plugins",     no_argument,       NULL, CLI_ARG_LIST_PLUGINS },                  \
        { "from",             required_argument, NULL, CLI_ARG_FROM }

#define CLI_DEFAULT_TIMEOUT_MS (10 * 1000)
#define CLI_DEFAULT_LOCK_TIMEOUT_MS (30 * 1000)

/* The value of the environment variable name, or fallback when it is
 * unset or empty. */
const char *cli_env_or(const char *name, const char *fallback);

/* A number of seconds (0..86400, fractions allowed) as milliseconds. */
int cli_parse_seconds_ms(const char *s, int *ret);
/* Appends s (borrowed) to the NULL-terminated list *l of *n strings. */
int cli_strv_push(char ***l, size_t *n, const char *s);

/* Defaults: the state and run directories from their variables (state_env,
 * run_env) or the defaults given; the timeouts and the checkpoints kept
 * as docs/cli.md says. */
void cli_common_init(CliCommon *c, const char *program, const char *state_env, const char *state_default,
                     const char *run_env, const char *run_default, const char *fault_env);
void cli_common_done(CliCommon *c);

typedef enum CliOption {
        CLI_OPTION_NOT_COMMON,      /* not a common option: the program's own */
        CLI_OPTION_DONE,            /* taken */
} CliOption;

/* Takes one option getopt_long returned (opt, its argument arg); a bad
 * value is logged and -EINVAL returned. -h prints the program's help,
 * --version its version and --list-plugins its plugins' names, then the
 * process exits. */
int cli_common_option(CliCommon *c, int opt, const char *arg);

/* Prints "PROGRAM VERSION"; returns EXIT_OK. */
int cli_print_version(const CliCommon *c);

/* ---- the verbs, in-process ---------------------------------------------------- */

typedef int (*CliReconcileFn)(Reconciler *rc, const StateDoc *doc, const ReconcileOptions *o, ReconcileResult *res);

/* The driver function of a verb that takes FILE (validate, plan, apply,
 * diff, verify), or NULL. */
CliReconcileFn cli_file_verb(const char *verb);
/* The FILE argument of the verb at argv[optind], or NULL after saying
 * what is wrong. Without one, plan, apply, diff and verify take
 * c->state_file; validate needs FILE. */
const char *cli_need_file(const CliCommon *c, int argc, char **argv, const char *verb);
/* The optional argument of the verb at argv[optind] (help TOPIC, run
 * FILE): 0 with *ret set (NULL: none), or -EINVAL after saying there are
 * more. */
int cli_optional_arg(int argc, char **argv, const char *verb, const char **ret);
/* false after saying so when the verb at argv[optind] has arguments. */
bool cli_no_args(int argc, char **argv, const char *verb);

/* A reconciler for the product with the options' settings; logs why not. */
int cli_setup_reconciler(const CliCommon *c, const Product *product, Reconciler *rc);

/* Prints a result computed here, exactly as a daemon's result prints;
 * returns the exit code. diff's differences are drift, as for verify. */
int cli_finish(const CliCommon *c, const char *verb, const char *origin, ReconcileResult *res);

/* "<stdin>" for "-", else file. */
const char *cli_origin(const char *file);
/* What an apply of file records as its source: its absolute name (in
 * *buf, freed by the caller), "standard input" for "-". */
const char *cli_source(const char *file, char **buf);
/* This process as the caller of an apply (Reconciler.origin). */
ApplyOrigin cli_apply_origin(const CliCommon *c, const char *reason, const char *source);

/* validate, plan, apply, diff, verify FILE in this process. */
int cli_run_file_verb(const CliCommon *c, Reconciler *rc, const char *verb, const char *file);
/* query: the live state the program owns (of the --plugin plugins). */
int cli_run_query(const CliCommon *c, Reconciler *rc);
/* checkpoints: the stored generations. */
int cli_run_checkpoints(const CliCommon *c);
/* rollback [--to N]. */
int cli_run_rollback(const CliCommon *c, Reconciler *rc);
/* With --from: false after saying so unless verb is diff without FILE. */
bool cli_generation_diff_args(const CliCommon *c, int argc, char **argv, const char *verb);
/* diff --from N [--to M]: what changed between two stored generations. */
int cli_run_generation_diff(const CliCommon *c, Reconciler *rc);

/* ---- help ---------------------------------------------------------------------- */

typedef struct CliVerbHelp {
        const char *verb;
        const char *usage;          /* the arguments after the verb */
        const char *summary;        /* one line for --help */
        const char *details;        /* help VERB */
        void (*summary_more)(void); /* prints more of the summary line (or NULL) */
} CliVerbHelp;

/* The "Commands:" entries of --help, one per verb. */
void cli_help_commands(const CliVerbHelp *verbs, size_t n);
/* help [VERB]: help() for every command, else what VERB does (docs: the
 * page that has the details, e.g. "docs/cli.md"). */
int cli_verb_help(const char *program, const char *docs, const CliVerbHelp *verbs, size_t n, const char *verb,
                  void (*help)(void));
