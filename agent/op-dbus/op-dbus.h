/* SPDX-License-Identifier: LGPL-2.1-or-later */
#pragma once

/* op-dbus, the host program: its options, and the parts of the command
 * line that are its own (init and its profiles, help, the daemon client). */

#include <stdbool.h>
#include <stdint.h>

#include <systemd/sd-bus.h>

#include "cli.h"
#include "host.h"
#include "plugin.h"

#define BUS_NAME "org.opdbus"
#define OBJECT_PATH "/org/opdbus/state"
#define INTERFACE "org.opdbus.StateManager"

typedef struct Cli {
        CliCommon c;                /* the options every program takes; c.ctx.settings points at host */
        HostSettings host;          /* where the host's services are */
        const char *profile;        /* init --profile */
        char **sets;                /* init --set KEY=VALUE, repeatable */
        size_t n_sets;
        const char *output;         /* init -o */
        bool force;                 /* init --force: replace -o FILE, keeping FILE.bak */
        const char *bridge;         /* restore-flows --bridge */
        uint32_t container;         /* render --container; 0: not given */
        const char *format;         /* show --format; NULL: text */
        const char *state_path;     /* run --state */
        int audit_interval_ms;      /* run --audit-interval; -1: default */
        int container_audit_interval_ms; /* run --container-audit-interval; -1: default */
} Cli;

/* daemon.c: op-dbus run */
int verb_run(Cli *cli);

/* status.c: the status screen */
int verb_status(Cli *cli);

/* render.c: render --container ID [FILE] */
int verb_render(Cli *cli, const char *file);

/* init.c */
int verb_init(Cli *cli);

/* help.c: --help, and help [VERB] (NULL: every command) */
void help(void);
int verb_help(const char *verb);

/* client.c: talking to the daemon */
/* 1 and *ret when the daemon runs (and OPDBUS_NO_DAEMON is not 1) and,
 * unless cli is NULL, works with the same settings as cli; else 0 (with a
 * note on standard error when only the settings differ). */
int client_connect(const Cli *cli, sd_bus **ret);
int client_new_call(sd_bus *bus, const char *method, sd_bus_message **ret);
/* Sends the call; *ret is its JSON result (NULL if none). Prints a failed
 * call; returns the exit code. */
int client_call(const Cli *cli, sd_bus *bus, sd_bus_message *msg, const char *verb, const char *origin,
                json_object **ret);
/* Sends the call and prints its result; returns the exit code. */
int client_send(const Cli *cli, sd_bus *bus, sd_bus_message *msg, const char *verb, const char *origin);
