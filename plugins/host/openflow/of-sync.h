/* SPDX-License-Identifier: LGPL-2.1-or-later */
#pragma once

#include "of-engine.h"

/* One bridge's flows: desired, installed, recorded, and the difference. */
typedef struct OfBridgeSync {
        char *name;
        bool reachable;              /* its management socket answered */
        const OfFlowSet *want;       /* sorted by cookie; owned by the plugin */
        OfpFlowList have;            /* op-dbus's cookies only, sorted */
        OfRecord record;
        uint64_t section;            /* digest of the openflow section wanted (for the record) */

        /* The diff: flows to send (added or replaced) and cookies to delete
         * first (gone, or changed so that "add" would not replace them). */
        const OfDesired **send;
        size_t n_send, allocated_send;
        uint64_t *remove;
        size_t n_remove, allocated_remove;
        unsigned n_added, n_changed, n_deleted;
} OfBridgeSync;

void of_bridge_sync_done(OfBridgeSync *b);
int of_record_add(OfRecord *r, const OfRecordEntry *e);
const OfpFlow *of_installed_find(const OfpFlowList *l, uint64_t cookie);
/* Pure: fills send/remove and the counters. A flow whose installed match
 * is not the one meant (of-oxm.c) is sent again. With accept_pending, a
 * flow recorded as sent but not yet confirmed (digest 0) counts as
 * unchanged when the switch has it: the verification right after an
 * apply; a flow sent whose match the switch changed is then an error in
 * d (-EPROTO). */
int of_bridge_diff(OfBridgeSync *b, bool accept_pending, Diag *d);
/* One atomic bundle through ovs-ofctl; what was sent is recorded as
 * pending until of_bridge_confirm. -EPROTO when ovs-ofctl reported that
 * Open vSwitch changed a match it sent (the bundle is in then). */
int of_bridge_apply(OfBridgeSync *b, const PluginContext *ctx, ApplyCounts *counts, Diag *d);
/* Records the digests the switch reports for the desired flows. */
int of_bridge_confirm(OfBridgeSync *b, const PluginContext *ctx);
