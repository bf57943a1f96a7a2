/* SPDX-License-Identifier: LGPL-2.1-or-later */
#pragma once

/* Socket networking (lxc-socket.c): containers attached through an OVS
 * internal port moved into them ("socket_networking"). */

#include <stdbool.h>
#include <sys/types.h>

#include <json-c/json.h>

#include "diag.h"
#include "lxc-plugin.h"
#include "plan.h"

/* Plan time: whether the container's settings allow it (errors in d). */
int lxc_socket_check(const PluginContext *ctx, const LxcContainer *c, Diag *d);
/* At the end of lxc_query: the ports and where their devices are. */
int lxc_socket_query(LxcPlugin *l, Diag *d);
void lxc_socket_done(LxcPlugin *l);
/* After the containers' diff (it needs their changes): one action per
 * container at container/<id>/socket. */
int lxc_socket_diff(LxcPlugin *l, Plan *plan, Diag *d);
/* Adds the container's socket port (socket_networking, bridge, port_name,
 * tag) to its "network" in a live_to_json container object. */
int lxc_socket_network_to_json(const LxcPlugin *l, uint32_t id, json_object *container);
/* Whether the last diff recorded socket changes. */
bool lxc_socket_pending(const LxcPlugin *l);
/* Carries out the deletions (before the containers' changes) or the rest
 * (after them). */
int lxc_socket_apply(LxcPlugin *l, bool deletions, Diag *d);
/* After every start: adds the container's port if needed, moves it into
 * the network namespace of the container's init (pid) and configures it. */
int lxc_socket_attach(LxcPlugin *l, const LxcContainer *c, pid_t pid, Diag *d);
