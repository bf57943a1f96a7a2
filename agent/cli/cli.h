/* SPDX-License-Identifier: LGPL-2.1-or-later */
#pragma once

#include <stdbool.h>

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
};

typedef struct Cli {
        PluginContext ctx;
        bool json;
        bool dry_run;
        char **only;                /* --plugin, repeatable */
        size_t n_only;
        const char *profile;        /* init --profile */
        const char *output;         /* init -o */
        unsigned long long to;      /* rollback --to */
        const char *bridge;         /* restore-flows --bridge */
        const char *state_path;     /* run --state */
        int audit_interval_ms;      /* run --audit-interval; -1: default */
        unsigned keep_checkpoints;
        int lock_timeout_ms;
} Cli;

int exit_code_for(ReconcileStatus s) _pure_;

/* output.c */
void print_result(const Cli *cli, const char *verb, const char *origin, const ReconcileResult *res);
void print_diff(const Cli *cli, const char *origin, const ReconcileResult *res);
void print_json(json_object *o);
