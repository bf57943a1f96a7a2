/* SPDX-License-Identifier: LGPL-2.1-or-later */
#pragma once

/* lxc-offload.c: transmit checksum offload of containers' veths on
 * bridges of Open vSwitch's userspace datapath, which drops what such a
 * veth sends (docs/flows.md). */

#include <stdbool.h>

#include "diag.h"
#include "lxc-plugin.h"
#include "plan.h"

/* After the OVS view is read: the running containers' net0 on a
 * userspace bridge whose side still has the offload on. */
int lxc_offload_query(LxcPlugin *l, Diag *d);
void lxc_offload_done(LxcPlugin *l);
/* After the containers' diff: plain LXC's containers of the state get an
 * action at container/<id>/offload; the others a warning with the command
 * that turns it off. */
int lxc_offload_diff(LxcPlugin *l, Plan *plan, Diag *d);
bool lxc_offload_pending(const LxcPlugin *l);
/* After the containers' changes: turns it off in plain LXC's containers
 * of the state that run (started, re-plugged or found so by the diff). */
int lxc_offload_apply(LxcPlugin *l, Diag *d);
