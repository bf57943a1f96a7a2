/* SPDX-License-Identifier: LGPL-2.1-or-later */
/* op-dbus --help and op-dbus help [COMMAND]: one table of the commands
 * (docs/cli.md lists the same; tests/integration/test_docs.py compares). */
#include <stdio.h>

#include "op-dbus.h"
#include "log.h"
#include "profiles.h"

/* The summary of init ends with the list of profiles. */
static void print_profiles(void) {
        fputs(" (profiles: ", stdout);
        for (const Profile *p = builtin_profiles; p->name; p++)
                printf("%s%s", p == builtin_profiles ? "" : ", ", p->name);
        putchar(')');
}

static const CliVerbHelp verbs[] = {
        { "init", "--profile NAME [--set KEY=VALUE]... [-o FILE [--force]]",
          "Print a starting state",
          "Prints the profile's state, or writes it to FILE (mode 0600). An existing\n"
          "FILE is refused and left as it is, unless --force is given: then the new\n"
          "state replaces it and the old one is kept as FILE.bak.\n"
          "--set KEY=VALUE fills in a placeholder the profile leaves: vps_ip,\n"
          "vps_public_ip, uuid, client_public_key, warp_public_key. A VMess id (uuid)\n"
          "that is not given is generated. --list-profiles prints the profiles'\n"
          "names, one a line.", print_profiles },
        { "validate", "FILE",
          "Check a state file; changes nothing",
          "Checks FILE against the state format (strict JSON, the schema, the rules\n"
          "between objects) and prints every error with its JSON path. Reads\n"
          "nothing on the host." },
        { "plan", "[FILE]",
          "Show what apply would change",
          "Prints each action apply would take, with its object path and its\n"
          "traffic impact, in colour on a terminal. Changes nothing. FILE defaults\n"
          "to $OPDBUS_STATE, else " DEFAULT_STATE_FILE "." },
        { "apply", "[FILE] [--dry-run] [--confirm-timeout SEC] [--allow-outage]",
          "Make the host match FILE, transactionally",
          "Validates FILE, takes the lock, reads the host, applies the differences\n"
          "and verifies them; if a step fails, every change is rolled back. The\n"
          "verified state is stored as a new generation (see checkpoints).\n"
          "--dry-run is plan. --confirm-timeout SEC (needs the daemon) rolls the\n"
          "apply back unless 'op-dbus confirm' comes within SEC seconds.\n"
          "--allow-outage: carry out changes that cut traffic off (deleting a\n"
          "bridge that has ports, destroying a container); without it they are\n"
          "refused and nothing is changed. FILE defaults to $OPDBUS_STATE, else\n"
          DEFAULT_STATE_FILE "." },
        { "confirm", "",
          "Keep a confirm-timeout apply",
          "Keeps the apply made with --confirm-timeout that waits for\n"
          "confirmation (needs the daemon)." },
        { "status", "",
          "Show the daemon, the applied state and warnings",
          "One screen to read first: whether the daemon runs (and how to start\n"
          "it), the applied generation with when, what and by whom, whether the\n"
          "state file is applied, a confirm window waiting, the last drift\n"
          "repairs, whether Open vSwitch and Proxmox answer, the objects of each\n"
          "plugin, and warnings. Reads the state directory and the state file\n"
          "($OPDBUS_STATE, else " DEFAULT_STATE_FILE "); works without the daemon\n"
          "and says what it cannot know then. Changes nothing." },
        { "render", "--container ID [FILE]",
          "Print the files op-dbus would push into a container",
          "Renders the services of container ID in FILE ($OPDBUS_STATE, else\n"
          DEFAULT_STATE_FILE ") as apply does: each file with its path and mode,\n"
          "the key files the services use, the units and the packages. Secrets of\n"
          "the state (VMess ids) are shown as <redacted>. Reads FILE only." },
        { "query", "",
          "Print the live state op-dbus owns",
          "Prints what op-dbus owns on the host as a state document: applying it\n"
          "changes nothing. With --plugin P, only P's section." },
        { "diff", "[FILE] [--from N [--to M]]",
          "Show differences between FILE and the host",
          "One line per difference: '+' create, '~' modify, '-' delete, in colour\n"
          "on a terminal. Exit status 3 when the host differs from FILE. FILE\n"
          "defaults to $OPDBUS_STATE, else " DEFAULT_STATE_FILE ".\n"
          "With --from N: what changed from stored generation N to generation M\n"
          "(--to; default the newest), member by member, secrets redacted; exit\n"
          "status 3 when they differ." },
        { "verify", "[FILE]",
          "Check that the host matches FILE",
          "Checks that the host matches FILE and that Open vSwitch reports no\n"
          "error on op-dbus's interfaces. Exit status 3 when it does not. FILE\n"
          "defaults to $OPDBUS_STATE, else " DEFAULT_STATE_FILE "." },
        { "show", "[--format text|dot|svg]",
          "Print the node: bridges, ports, containers, steering, flows",
          "Prints the live topology, like ovs-vsctl show, with what op-dbus knows:\n"
          "every bridge and port (type, ofport, the container and interface it\n"
          "serves), op-dbus's containers (id, name, state), the socket ports, the\n"
          "steering of the flow policies (from which port to which) and the\n"
          "packets and drops of op-dbus's flows per table. Reads the host; changes\n"
          "nothing. --format dot prints Graphviz source, --format svg draws it\n"
          "with Graphviz's dot (package graphviz); --json the view as JSON." },
        { "checkpoints", "",
          "List stored verified states",
          "Lists the stored verified states: generation, time, and who applied\n"
          "what, why, with how many changes (the audit trail)." },
        { "rollback", "[--to N] [--allow-outage]",
          "Apply a stored state (default: the previous one)",
          "Applies stored generation N (default: the one before the newest) as a\n"
          "new generation. 'op-dbus checkpoints' lists the generations. Like apply,\n"
          "it refuses to cut traffic off without --allow-outage." },
        { "restore-flows", "[--bridge B]",
          "Put back op-dbus's flows (after ovs-vswitchd restarted)",
          "Re-installs op-dbus's OpenFlow flows from the last applied state, after\n"
          "ovs-vswitchd restarted and lost them. --bridge B: only B, which must\n"
          "be a bridge the applied state puts flows on." },
        { "run", "[--state FILE] [--audit-interval SEC] [--container-audit-interval SEC]",
          "Run the daemon (org.opdbus on the system bus)",
          "Applies FILE (default $OPDBUS_STATE, else " DEFAULT_STATE_FILE "), then serves\n"
          "org.opdbus on the system bus and keeps the host matching the applied\n"
          "state. --audit-interval: how often op-dbus's flows are checked [10];\n"
          "--container-audit-interval: how often the containers are [30]." },
        { "version", "",
          "Print the version",
          "Prints the version (the same as --version)." },
        { "help", "[COMMAND]",
          "This help, or a command's",
          "Prints the list of commands and options, or what COMMAND does." },
};

void help(void) {
        printf("Usage: op-dbus [OPTIONS] COMMAND [ARGS]\n"
               "\n"
               "Makes the Open vSwitch configuration of this node match a state file.\n"
               "\n"
               "Commands:\n");
        cli_help_commands(verbs, ELEMENTSOF(verbs));
        printf("\n"
               "FILE may be '-' for standard input; plan, apply, diff and verify default to\n"
               "$OPDBUS_STATE, else " DEFAULT_STATE_FILE ".\n"
               "'op-dbus help COMMAND' and 'man op-dbus' say more.\n"
               "\n"
               "Options:\n"
               "  --plugin P           Only this plugin (repeatable; apply, plan, query, ...)\n"
               "  --json               Machine-readable output\n"
               "  --ovsdb ADDR         OVSDB address [$OPDBUS_OVSDB, " DEFAULT_OVSDB "]\n"
               "  --state-dir DIR      Checkpoints [$OPDBUS_STATE_DIR, " DEFAULT_STATE_DIR "]\n"
               "  --run-dir DIR        Lock file [$OPDBUS_RUN_DIR, " DEFAULT_RUN_DIR "]\n"
               "  --pve-dir DIR        Proxmox configuration [$OPDBUS_PVE_DIR, " DEFAULT_PVE_DIR "]\n"
               "  --interfaces FILE    ifupdown configuration checked for conflicts\n"
               "                       [$OPDBUS_INTERFACES, /etc/network/interfaces]\n"
               "  --timeout SEC        Bound for each call to a service [10]\n"
               "  --lock-timeout SEC   How long to wait for another apply [30]\n"
               "  --keep-checkpoints N Verified states kept [5]\n"
               "  -v, --verbose        Show each step of the reconcile driver, with timings\n"
               "  -h, --help           This help\n"
               "  --version            Print the version\n"
               "  --list-plugins       Print the plugins' names, one a line\n"
               "\n"
               "Exit status: 0 ok, 1 apply failed and rolled back, 2 invalid input,\n"
               "3 host differs, 4 busy, 5 service unavailable, 6 rollback failed,\n"
               "7 refused by the daemon (not permitted).\n");
}

int verb_help(const char *verb) {
        return cli_verb_help("op-dbus", "docs/cli.md", verbs, ELEMENTSOF(verbs), verb, help);
}
