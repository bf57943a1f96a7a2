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
        uint64_t inputs;             /* what want was built from (for the record; 0: do not record) */
        /* What to change in the bridge's OVSDB row before its flows
         * (fail_mode, controllers); nothing when mode_change is false. */
        bool mode_change;
        OfModeChange mode;

        /* The diff: installed flows to delete first (gone, or changed so
         * that adding the new one would not replace them), then the flows
         * to add (new, or replacing the installed one). */
        const OfpFlow **remove;      /* into have */
        size_t n_remove, allocated_remove;
        const OfDesired **send;      /* into want */
        size_t n_send, allocated_send;
        unsigned n_added, n_changed, n_deleted;
} OfBridgeSync;

void of_bridge_sync_done(OfBridgeSync *b);
int of_record_add(OfRecord *r, const OfRecordEntry *e);
/* The installed flows with cookie: *ret_n of them from the one returned
 * (NULL: none). */
const OfpFlow *of_installed_find(const OfpFlowList *l, uint64_t cookie, size_t *ret_n);
/* Pure: fills remove/send and the counters. A flow whose installed match
 * is not the one meant (of-oxm.c) is sent again. With accept_pending, a
 * flow recorded as sent but not yet confirmed (digest 0) counts as
 * unchanged when the switch has it: the verification right after an
 * apply; a flow sent whose match the switch changed is then an error in
 * d (-EPROTO). */
int of_bridge_diff(OfBridgeSync *b, bool accept_pending, Diag *d);
/* The flow mods of the diff, as the bundle sends them: strict deletes of
 * the installed flows (table, priority and match as the switch reported
 * them, the cookie with all its bits), then adds. */
int of_bridge_flow_mods(const OfBridgeSync *b, OfpBundle *bundle);
/* Sends the diff as one atomic bundle on c; what was sent is recorded as
 * pending until of_bridge_confirm. A refused bundle changes nothing, and
 * each flow the switch refused is an error in d that names it. */
int of_bridge_apply(OfBridgeSync *b, OfpClient *c, const PluginContext *ctx, ApplyCounts *counts, Diag *d);
/* Records the digests the switch reports for the desired flows. */
int of_bridge_confirm(OfBridgeSync *b, const PluginContext *ctx);
