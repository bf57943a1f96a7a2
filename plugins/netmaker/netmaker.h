/* SPDX-License-Identifier: LGPL-2.1-or-later */
#pragma once

/* The "netmaker" plugin: joining the node's containers to a Netmaker mesh.
 * This build validates the section; enabling the integration comes later,
 * so "enabled": true is valid but cannot be planned or applied yet. */

#include <stdbool.h>

#include <json-c/json.h>

#include "diag.h"
#include "plugin.h"

#define NETMAKER_TOKEN_FILE_DEFAULT "/etc/op-dbus/netmaker.env"

/* The desired state of the section. */
typedef struct NetmakerConfig {
        bool enabled;                 /* default false */
        char *token_file;             /* absolute path of the enrollment token; never NULL after parsing */
        char *default_network;        /* network containers join; NULL: not given */
        char *api_endpoint;           /* http:// or https:// URL; NULL: not given */
} NetmakerConfig;

typedef struct NetmakerPlugin {
        Plugin plugin;
        NetmakerConfig want;
} NetmakerPlugin;

extern const PluginVTable netmaker_plugin_vtable;

/* netmaker-parse.c */
void netmaker_config_done(NetmakerConfig *c);
/* Validates plugins.netmaker (section not NULL) into c; -EINVAL when
 * errors were recorded in d. */
int netmaker_parse(NetmakerConfig *c, json_object *section, Diag *d);
