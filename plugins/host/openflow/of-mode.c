/* SPDX-License-Identifier: LGPL-2.1-or-later */
/* A bridge's fail_mode and controllers (docs/flows.md, "When
 * ovs-vswitchd restarts"): changed in OVSDB, with the flows op-dbus does
 * not own kept across the change, which makes Open vSwitch delete every
 * flow of the bridge. */
#include <stdio.h>

#include "host.h"
#include "json-util.h"
#include "of-engine.h"
#include "ovsdb-client.h"
#include "ovsdb-txn.h"


/* [update Bridge, mutate its external_ids, next_cfg += 1] */
static void mode_ops(OvsdbTxn *t, const char *uuid, const OfModeChange *ch) {
        json_object *row = json_object_new_object();

        if (row && ch->set_fail_mode)
                json_object_object_add(row, "fail_mode", ch->fail_mode && ch->fail_mode[0] ?
                                       json_object_new_string(ch->fail_mode) : ovsdb_empty_set());
        if (row && ch->drop_controllers)
                json_object_object_add(row, "controller", ovsdb_empty_set());
        if (!row || json_object_object_length(row) > 0)
                ovsdb_txn_update(t, "Bridge", ovsdb_where_uuid(uuid), row);
        else
                json_object_put(row);
        if (ch->mark != OF_MARK_KEEP)
                ovsdb_txn_mutate_map_key(t, "Bridge", ovsdb_where_uuid(uuid), "external_ids", OF_FAIL_MODE_MARK,
                                         ch->mark == OF_MARK_SET ? ch->mark_value ?: "" : NULL);
        ovsdb_txn_bump_next_cfg(t);
}

static int change_row(const PluginContext *ctx, const char *bridge, const char *uuid, const OfModeChange *ch,
                      Diag *d) {
        _cleanup_(ovsdb_client_freep) OvsdbClient *client = NULL;
        _cleanup_(json_object_putp) json_object *res = NULL;
        _cleanup_(ovsdb_txn_done) OvsdbTxn t = {};
        _cleanup_(freep) char *err = NULL;
        int r;

        r = ovsdb_client_connect(host_settings(ctx)->ovsdb_address, ctx->timeout_ms, &client);
        if (r < 0) {
                diag_error(d, "", "cannot connect to OVSDB at %s: %s", host_settings(ctx)->ovsdb_address, strerror(-r));
                return r;
        }
        r = ovsdb_txn_init(&t);
        if (r >= 0) {
                mode_ops(&t, uuid, ch);
                r = ovsdb_txn_commit(client, &t, &res, &err);
        }
        if (r < 0) {
                diag_error(d, "", "bridge %s: cannot change its fail_mode or controllers in OVSDB: %s", bridge,
                           err ?: strerror(-r));
                return r;
        }
        r = ovsdb_wait_applied(client, res, ctx->timeout_ms, &err);
        if (r < 0) {
                diag_error(d, "", "bridge %s: %s", bridge, err ?: strerror(-r));
                return r;
        }
        return (int) t.writes;
}

/* Open vSwitch's own flow: the catch-all NORMAL of a bridge in standalone
 * mode, in table 0 at priority 0 with cookie 0. */
static bool ovs_default_flow(const OfpFlow *f) {
        const uint8_t *oxm;
        size_t len;

        return f->cookie == 0 && f->table == 0 && f->priority == 0 &&
               ofp_match_fields(f->body, f->body_len, &oxm, &len) >= 0 && len == 0;
}

static int put_back(OfpClient *c, const OfpFlowList *flows, const char *bridge, Diag *d) {
        _cleanup_(ofp_bundle_done) OfpBundle bundle = {};
        size_t n = 0;
        int r = 0;

        ofp_client_bundle_begin(c, &bundle);
        for (size_t i = 0; i < flows->n && r >= 0; i++) {
                const OfpFlow *f = &flows->flows[i];
                const uint8_t *oxm;
                size_t len, insts;

                if (of_cookie_is_ours(f->cookie) || ovs_default_flow(f))
                        continue;
                if (ofp_match_fields(f->body, f->body_len, &oxm, &len) < 0)
                        return -EBADMSG;
                insts = (4 + len + 7) / 8 * 8;        /* the ofp_match, padded to 8 bytes */
                if (insts > f->body_len)
                        return -EBADMSG;
                r = ofp_bundle_add_flow_mod(&bundle, &(OfpFlowMod) {
                        .command = OFPFC_ADD,
                        .table = f->table,
                        .priority = f->priority,
                        .idle_timeout = f->idle_timeout,
                        .hard_timeout = f->hard_timeout,
                        .cookie = f->cookie,
                        .match = oxm,
                        .match_len = len,
                        .instructions = f->body + insts,
                        .instructions_len = f->body_len - insts,
                });
                n++;
        }
        if (r >= 0 && n > 0)
                r = ofp_client_bundle_commit(c, &bundle);
        if (r < 0)
                diag_error(d, "", "bridge %s: cannot put back the %zu flows op-dbus does not own, which Open vSwitch "
                           "deleted when the bridge's fail_mode or controllers changed: %s", bridge, n,
                           r == -EPROTO ? "Open vSwitch refused them" : strerror(-r));
        return r;
}

int of_bridge_change_mode(const PluginContext *ctx, OfpClient *c, const char *bridge, const char *uuid,
                          const OfModeChange *ch, Diag *d) {
        _cleanup_(ofp_flow_list_done) OfpFlowList all = {};
        bool flushes = ch->set_fail_mode || ch->drop_controllers;
        int r, writes;

        if (flushes) {
                r = ofp_client_dump_flows(c, 0, 0, &all);
                if (r < 0) {
                        diag_error(d, "", "bridge %s: cannot read its flows: %s", bridge, strerror(-r));
                        return r;
                }
        }
        writes = change_row(ctx, bridge, uuid, ch, d);
        if (writes < 0 || !flushes)
                return writes;
        r = put_back(c, &all, bridge, d);
        return r < 0 ? r : writes;
}
