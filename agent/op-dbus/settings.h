/* SPDX-License-Identifier: LGPL-2.1-or-later */
#pragma once

/* What a reconcile depends on besides the document: where the services
 * and op-dbus's files are, how long it waits, how many checkpoints it
 * keeps, and the environment variables the plugins read. The daemon
 * publishes its own as the Settings property; the CLI builds the same
 * object from its options and environment, and works without the daemon
 * when the two differ, so that a command never silently uses settings it
 * was not given. */

#include <json-c/json.h>

#include "op-dbus.h"

json_object *settings_to_json(const Cli *cli);

/* The first setting whose value differs between mine and theirs (as
 * settings_to_json() makes them): 1, with its name for people ("--ovsdb
 * ($OPDBUS_OVSDB)") and both values as JSON text; 0 when they agree. */
int settings_difference(json_object *mine, json_object *theirs, const char **ret_name,
                        const char **ret_mine, const char **ret_theirs);
