/* SPDX-License-Identifier: LGPL-2.1-or-later */
/* op-router --help and op-router help [COMMAND]: one table of the commands
 * (docs/router.md lists the same; tests/integration/test_router_cli.py
 * compares). */
#include <stdio.h>

#include "log.h"
#include "op-router.h"

static const CliVerbHelp verbs[] = {
        { "validate", "FILE",
          "Check a state file; changes nothing",
          "Checks FILE against the router's state format (strict JSON, the schema,\n"
          "the rules between objects) and the secrets it refers to, and prints\n"
          "every error with its JSON path. Reads nothing on the host." },
        { "plan", "[FILE]",
          "Show what apply would change",
          "Prints each action apply would take (for the firewall: each rule, chain,\n"
          "set and table), with its object path and its impact. Changes nothing." },
        { "apply", "[FILE] [--dry-run] [--confirm-timeout SEC] [--allow-outage]",
          "Make the router match FILE, transactionally",
          "Validates FILE, takes the lock, reads the router, applies the\n"
          "differences (the firewall in one nftables transaction) and verifies\n"
          "them; if a step fails, every change is rolled back. The verified state\n"
          "is stored as a new generation (see checkpoints). --dry-run is plan.\n"
          "--confirm-timeout SEC: the apply is reverted unless 'op-router confirm'\n"
          "comes within SEC seconds (90 is a good choice for remote work). The\n"
          "daemon (op-router run) keeps the timer: without one running, it is\n"
          "refused and nothing is changed.\n"
          "--allow-outage: carry out changes that cut a network off; without it\n"
          "they are refused and nothing is changed." },
        { "confirm", "",
          "Keep an apply made with --confirm-timeout",
          "Keeps the apply made with --confirm-timeout that waits for\n"
          "confirmation; after the deadline the daemon has reverted it." },
        { "query", "",
          "Print the live state op-router owns",
          "Prints what op-router owns on the router as a state document: applying\n"
          "it changes nothing. Secrets are shown as references, never as values.\n"
          "With --plugin P, only P's section." },
        { "diff", "[FILE] [--from N [--to M]]",
          "Show differences between FILE and the router",
          "One line per difference: '+' create, '~' modify, '-' delete. Exit\n"
          "status 3 when the router differs from FILE.\n"
          "With --from N: what changed from stored generation N to generation M\n"
          "(--to; default the newest), member by member; exit status 3 when\n"
          "they differ." },
        { "verify", "[FILE]",
          "Check that the router matches FILE",
          "Reads the router again and checks that applying FILE would change\n"
          "nothing. Exit status 3 when it does not." },
        { "checkpoints", "",
          "List stored verified states",
          "Lists the stored verified states: generation, time, file." },
        { "rollback", "[--to N] [--allow-outage]",
          "Apply a stored state (default: the previous one)",
          "Applies stored generation N (default: the one before the newest) as a\n"
          "new generation; the keys it names are read from the secrets file.\n"
          "'op-router checkpoints' lists the generations. Like apply, it refuses to cut a\n"
          "network off without --allow-outage." },
        { "run", "[FILE]",
          "The daemon: apply FILE and keep the confirm timer",
          "Runs in the foreground (for procd or systemd): applies FILE (default\n"
          "$OPROUTER_STATE, else " DEFAULT_ROUTER_STATE_FILE ") at start, reverts an apply that is not\n"
          "confirmed in time (and, at start, one still waiting: the daemon was\n"
          "restarted inside its window), applies FILE again on SIGHUP and exits\n"
          "on SIGTERM." },
        { "version", "",
          "Print the version",
          "Prints the version (the same as --version)." },
        { "help", "[COMMAND]",
          "This help, or a command's",
          "Prints the list of commands and options, or what COMMAND does." },
};

void help(void) {
        printf("Usage: op-router [OPTIONS] COMMAND [ARGS]\n"
               "\n"
               "Makes this router's firewall match a state file.\n"
               "\n"
               "Commands:\n");
        cli_help_commands(verbs, ELEMENTSOF(verbs));
        printf("\n"
               "FILE may be '-' for standard input; plan, apply, diff and verify default to\n"
               "$OPROUTER_STATE, else " DEFAULT_ROUTER_STATE_FILE ".\n"
               "'op-router help COMMAND' and 'man op-router' say more.\n"
               "\n"
               "Options:\n"
               "  --plugin P           Only this plugin (repeatable; apply, plan, query, ...)\n"
               "  --json               Machine-readable output\n"
               "  --state-dir DIR      Checkpoints [$OPROUTER_STATE_DIR, " DEFAULT_ROUTER_STATE_DIR "]\n"
               "  --run-dir DIR        Lock file [$OPROUTER_RUN_DIR, " DEFAULT_ROUTER_RUN_DIR "]\n"
               "  --secrets FILE       Secrets the state refers to\n"
               "                       [$OPROUTER_SECRETS, " DEFAULT_ROUTER_SECRETS_FILE "]\n"
               "  --timeout SEC        Bound for each call to the kernel [10]\n"
               "  --lock-timeout SEC   How long to wait for another apply [30]\n"
               "  --keep-checkpoints N Verified states kept [5]\n"
               "  -v, --verbose        Show each step of the reconcile driver, with timings\n"
               "  -h, --help           This help\n"
               "  --version            Print the version\n"
               "  --list-plugins       Print the plugins' names, one a line\n"
               "\n"
               "Exit status: 0 ok, 1 apply failed and rolled back, 2 invalid input,\n"
               "3 router differs, 4 busy, 5 unavailable, 6 rollback failed.\n");
}

int verb_help(const char *verb) {
        return cli_verb_help("op-router", "docs/router.md", verbs, ELEMENTSOF(verbs), verb, help);
}
