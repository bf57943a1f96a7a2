/* SPDX-License-Identifier: LGPL-2.1-or-later */
/* ovs-vswitchd's progress through the database: every configuration
 * change bumps Open_vSwitch.next_cfg, and ovs-vswitchd sets cur_cfg to it
 * once it has carried the change out (bridges and ports exist, datapaths
 * are up). */
#include <errno.h>
#include <inttypes.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <time.h>

#include "json-util.h"
#include "macro.h"
#include "ovsdb-txn.h"

static int64_t int_member(json_object *row, const char *name) {
        json_object *v;

        return json_object_object_get_ex(row, name, &v) && json_object_is_type(v, json_type_int)
                ? json_object_get_int64(v) : -1;
}

int ovsdb_read_cfg(OvsdbClient *c, int64_t *ret_cur, int64_t *ret_next, char **reterr) {
        static const char *const columns[] = { "cur_cfg", "next_cfg", NULL };
        _cleanup_(json_object_putp) json_object *results = NULL;
        _cleanup_(ovsdb_txn_done) OvsdbTxn t = {};
        json_object *rows, *row;
        int r;

        r = ovsdb_txn_init(&t);
        if (r < 0)
                return r;
        ovsdb_txn_select(&t, "Open_vSwitch", NULL, columns);
        r = ovsdb_txn_commit(c, &t, &results, reterr);
        if (r < 0)
                return r;
        rows = ovsdb_result_rows(results, 0);
        if (!rows || json_object_array_length(rows) != 1)
                return -EBADMSG;
        row = json_object_array_get_idx(rows, 0);
        *ret_cur = int_member(row, "cur_cfg");
        *ret_next = int_member(row, "next_cfg");
        return *ret_cur < 0 || *ret_next < 0 ? -EBADMSG : 0;
}

static int64_t now_ms(void) {
        struct timespec ts;

        (void) clock_gettime(CLOCK_MONOTONIC, &ts);
        return (int64_t) ts.tv_sec * 1000 + ts.tv_nsec / 1000000;
}

/* Blocks (server side) until cur_cfg differs from cur, or for timeout_ms. */
static int wait_change(OvsdbClient *c, int64_t cur, int timeout_ms, char **reterr) {
        static const char *const columns[] = { "cur_cfg", NULL };
        _cleanup_(ovsdb_txn_done) OvsdbTxn t = {};
        int r;

        r = ovsdb_txn_init(&t);
        if (r < 0)
                return r;
        ovsdb_txn_wait(&t, "Open_vSwitch", json_object_new_array(), columns, "!=",
                       ovsdb_rows1("cur_cfg", json_object_new_int64(cur)), timeout_ms);
        return ovsdb_txn_commit(c, &t, NULL, reterr);
}

int ovsdb_wait_cur_cfg(OvsdbClient *c, int64_t target, int timeout_ms, int64_t *ret_cur, char **reterr) {
        /* The server's wait ends before the client's own bound on a reply. */
        int64_t deadline = now_ms() + MAX(timeout_ms - 1000, timeout_ms / 2);
        int64_t cur = -1, next;
        int r;

        for (;;) {
                int64_t left;

                r = ovsdb_read_cfg(c, &cur, &next, reterr);
                if (r < 0)
                        break;
                if (cur >= target)
                        break;
                left = deadline - now_ms();
                if (left <= 0) {
                        r = -ETIMEDOUT;
                        break;
                }
                r = wait_change(c, cur, (int) left, reterr);
                if (r < 0 && r != -ETIMEDOUT)
                        break;
        }
        if (ret_cur)
                *ret_cur = cur;
        return r;
}

int64_t ovsdb_results_next_cfg(json_object *results) {
        size_t n = json_object_is_type(results, json_type_array) ? json_object_array_length(results) : 0;
        json_object *rows, *row, *v;

        for (size_t i = n; i > 0; i--)
                if ((rows = ovsdb_result_rows(results, i - 1)) &&
                    json_object_array_length(rows) == 1 &&
                    (row = json_object_array_get_idx(rows, 0)) &&
                    json_object_object_get_ex(row, "next_cfg", &v) &&
                    json_object_is_type(v, json_type_int))
                        return json_object_get_int64(v);
        return -1;
}

int ovsdb_wait_applied(OvsdbClient *c, json_object *results, int timeout_ms, char **reterr) {
        _cleanup_(freep) char *err = NULL;
        int64_t target = ovsdb_results_next_cfg(results), cur = -1;
        int r;

        if (target < 0) {
                if (reterr)
                        *reterr = strdup("OVSDB did not report next_cfg");
                return -EBADMSG;
        }
        r = ovsdb_wait_cur_cfg(c, target, timeout_ms, &cur, &err);
        if (r >= 0 || !reterr)
                return r;
        if (r == -ETIMEDOUT ?
            asprintf(reterr, "ovs-vswitchd did not apply configuration %" PRId64 " in time (it is at %" PRId64
                     "); is it running?", target, cur) < 0 :
            asprintf(reterr, "waiting for ovs-vswitchd failed: %s", err ?: strerror(-r)) < 0) {
                *reterr = NULL;
                return -ENOMEM;
        }
        return r;
}
