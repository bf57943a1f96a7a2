/* SPDX-License-Identifier: LGPL-2.1-or-later */
#pragma once

/* op-router, the router program: its options and its help. It links the
 * core, the nftables library and its plugins; no D-Bus, no Open vSwitch,
 * no Proxmox, and it runs no other program. */

#include "cli.h"
#include "router.h"

typedef struct Cli {
        CliCommon c;                /* the options every program takes; c.ctx.settings points at router */
        RouterSettings router;      /* what the plugins are given */
} Cli;

/* help.c: --help, and help [VERB] (NULL: every command) */
void help(void);
int verb_help(const char *verb);

/* daemon.c: commit-confirm through files, and the daemon */
int oprouter_apply_confirmed(const CliCommon *c, const char *file);
int oprouter_confirm(const CliCommon *c);
/* run [FILE] (NULL: the default state file) */
int oprouter_run(const CliCommon *c, const char *file);
