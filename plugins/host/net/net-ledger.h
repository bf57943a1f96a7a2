/* SPDX-License-Identifier: LGPL-2.1-or-later */
#pragma once

/* What the net plugin will do to a bridge, for the plugins whose sections
 * refer to bridges (flows on it, containers plugged into it): they check
 * their references against it when they parse, before anything is
 * touched. */

#include <stdbool.h>

#include "state.h"

/* Does applying doc make the net plugin delete bridge name? It does when
 * doc applies a net section (one not kept from the applied state) that
 * does not declare the bridge, no openflow section doc applies names it
 * (the net plugin keeps those as they are), and op-dbus owns the bridge,
 * by its ledger under state_dir (the host's own bridges are never
 * deleted). Reads the ledger; false when it cannot. */
bool net_deletes_bridge(const StateDoc *doc, const char *state_dir, const char *name);

/* Does doc's openflow section (applied now or kept) put security flows
 * (level 1 and up) on bridge name? Such a bridge fails closed: fail_mode
 * secure, so that without op-dbus's flows it forwards nothing (after an
 * ovs-vswitchd restart, until restore-flows). Malformed values count as
 * the defaults: the openflow plugin reports them. */
bool net_openflow_secures_bridge(const StateDoc *doc, const char *name);
