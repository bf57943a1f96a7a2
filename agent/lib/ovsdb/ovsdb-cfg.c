/* SPDX-License-Identifier: LGPL-2.1-or-later */
/* ovs-vswitchd's progress through the database: every configuration
 * change bumps Open_vSwitch.next_cfg, and ovs-vswitchd sets cur_cfg to it
 * once it has carried the change out (bridges and ports exist, datapaths
 * are up). */
#include <errno.h>
#include <time.h>

#include "json-util.h"
#include "macro.h"
#include "ovsdb-client.h"

static json_object *cfg_columns(bool next) {
        json_object *a = json_object_new_array();

        json_object_array_add(a, json_object_new_string("cur_cfg"));
        if (next)
                json_object_array_add(a, json_object_new_string("next_cfg"));
        return a;
}

static int64_t int_member(json_object *row, const char *name) {
        json_object *v;

        return json_object_object_get_ex(row, name, &v) && json_object_is_type(v, json_type_int)
                ? json_object_get_int64(v) : -1;
}

int ovsdb_read_cfg(OvsdbClient *c, int64_t *ret_cur, int64_t *ret_next, char **reterr) {
        _cleanup_(json_object_putp) json_object *results = NULL;
        json_object *ops = json_object_new_array(), *o = json_object_new_object(), *rows, *row;
        int r;

        json_object_object_add(o, "op", json_object_new_string("select"));
        json_object_object_add(o, "table", json_object_new_string("Open_vSwitch"));
        json_object_object_add(o, "where", json_object_new_array());
        json_object_object_add(o, "columns", cfg_columns(true));
        json_object_array_add(ops, o);
        r = ovsdb_client_transact(c, "Open_vSwitch", ops, &results, reterr);
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
        json_object *ops = json_object_new_array(), *o = json_object_new_object();
        json_object *rows = json_object_new_array(), *row = json_object_new_object();

        json_object_object_add(o, "op", json_object_new_string("wait"));
        json_object_object_add(o, "table", json_object_new_string("Open_vSwitch"));
        json_object_object_add(o, "where", json_object_new_array());
        json_object_object_add(o, "columns", cfg_columns(false));
        json_object_object_add(o, "until", json_object_new_string("!="));
        json_object_object_add(row, "cur_cfg", json_object_new_int64(cur));
        json_object_array_add(rows, row);
        json_object_object_add(o, "rows", rows);
        json_object_object_add(o, "timeout", json_object_new_int(timeout_ms));
        json_object_array_add(ops, o);
        return ovsdb_client_transact(c, "Open_vSwitch", ops, NULL, reterr);
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
