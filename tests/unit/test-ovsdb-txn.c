/* SPDX-License-Identifier: LGPL-2.1-or-later */

/* The OVSDB transaction builders (agent/lib/ovsdb/ovsdb-txn.h): the
 * operations they build, as RFC 7047 spells them, and what they count. */

#include <stdio.h>
#include <stdlib.h>
#include <string.h>

#include <json-c/json.h>

#include "json-util.h"
#include "macro.h"
#include "ovsdb-txn.h"

#define ASSERT(expr)                                                            \
        do {                                                                    \
                if (!(expr)) {                                                  \
                        fprintf(stderr, "%s:%d: %s: assertion failed: %s\n",   \
                                __FILE__, __LINE__, __func__, #expr);           \
                        abort();                                                \
                }                                                               \
        } while (0)

#define UUID_A "5b3a44c8-8a3e-4bb4-a9f1-31e0a6b1d7c2"
#define UUID_B "0f9e9d1c-3b1a-4a55-9d7e-2c1e4e8f6a10"

/* The operations of t, compact, with the spaces json-c puts in taken out. */
static void assert_ops(const OvsdbTxn *t, const char *want) {
        const char *s = json_object_to_json_string_ext(t->ops, JSON_C_TO_STRING_PLAIN | JSON_C_TO_STRING_NOSLASHESCAPE);

        if (!streq(s, want)) {
                fprintf(stderr, "operations:\n  %s\nexpected:\n  %s\n", s, want);
                abort();
        }
}

static void test_guard_and_remove_port(void) {
        _cleanup_(ovsdb_txn_done) OvsdbTxn t = {};

        ASSERT(ovsdb_txn_init(&t) == 0);
        ovsdb_txn_remove_port(&t, ovsdb_where_uuid(UUID_A), UUID_B, "veth100i0");
        ovsdb_txn_bump_next_cfg(&t);
        assert_ops(&t,
                   "[{\"op\":\"wait\",\"table\":\"Port\",\"where\":[[\"_uuid\",\"==\",[\"uuid\",\"" UUID_B "\"]]],"
                   "\"columns\":[\"name\"],\"until\":\"==\",\"rows\":[{\"name\":\"veth100i0\"}],\"timeout\":0},"
                   "{\"op\":\"mutate\",\"table\":\"Bridge\",\"where\":[[\"_uuid\",\"==\",[\"uuid\",\"" UUID_A "\"]]],"
                   "\"mutations\":[[\"ports\",\"delete\",[\"set\",[[\"uuid\",\"" UUID_B "\"]]]]]},"
                   "{\"op\":\"mutate\",\"table\":\"Open_vSwitch\",\"where\":[],\"mutations\":[[\"next_cfg\",\"+=\",1]]},"
                   "{\"op\":\"select\",\"table\":\"Open_vSwitch\",\"where\":[],\"columns\":[\"next_cfg\"]}]");
        /* the wait and the select write nothing */
        ASSERT(t.writes == 2 && t.error == 0);
}

static void test_insert_port_with_owner_tags(void) {
        _cleanup_(ovsdb_txn_done) OvsdbTxn t = {};
        _cleanup_(json_object_putp) json_object *user = json_object_new_object();
        json_object *iface = json_object_new_object(), *port = json_object_new_object(), *ins = json_object_new_array();

        ASSERT(ovsdb_txn_init(&t) == 0);
        json_object_object_add(user, "site", json_object_new_string("a"));
        /* op-dbus's own keys are not the user's to set */
        json_object_object_add(user, "op-dbus-owner", json_object_new_string("someone"));
        json_object_object_add(iface, "type", json_object_new_string("internal"));
        json_object_object_add(port, "external_ids",
                               ovsdb_owned_ids(user, "op-dbus", (const char *const[]) { "op-dbus-generation", "7", NULL }));
        json_object_array_add(ins, ovsdb_txn_insert_port(&t, "p1", iface, port));
        ovsdb_txn_mutate_set(&t, "Bridge", ovsdb_where_name("br0"), "ports", NULL, ins);
        assert_ops(&t,
                   "[{\"op\":\"insert\",\"table\":\"Interface\",\"row\":{\"type\":\"internal\",\"name\":\"p1\"},"
                   "\"uuid-name\":\"interface0\"},"
                   "{\"op\":\"insert\",\"table\":\"Port\",\"row\":{\"external_ids\":[\"map\",[[\"site\",\"a\"],"
                   "[\"op-dbus-owner\",\"op-dbus\"],[\"op-dbus-generation\",\"7\"]]],\"name\":\"p1\","
                   "\"interfaces\":[\"set\",[[\"named-uuid\",\"interface0\"]]]},\"uuid-name\":\"port1\"},"
                   "{\"op\":\"mutate\",\"table\":\"Bridge\",\"where\":[[\"name\",\"==\",\"br0\"]],"
                   "\"mutations\":[[\"ports\",\"insert\",[\"set\",[[\"named-uuid\",\"port1\"]]]]]}]");
        ASSERT(t.writes == 3 && t.error == 0);
}

static void test_mutate_map_key(void) {
        _cleanup_(ovsdb_txn_done) OvsdbTxn t = {};

        ASSERT(ovsdb_txn_init(&t) == 0);
        ovsdb_txn_mutate_map_key(&t, "Bridge", ovsdb_where_uuid(UUID_A), "external_ids", "op-dbus-fail-mode", "");
        ovsdb_txn_mutate_map_key(&t, "Bridge", ovsdb_where_uuid(UUID_A), "external_ids", "op-dbus-fail-mode", NULL);
        /* the key goes first: "insert" leaves a key that is there alone */
        assert_ops(&t,
                   "[{\"op\":\"mutate\",\"table\":\"Bridge\",\"where\":[[\"_uuid\",\"==\",[\"uuid\",\"" UUID_A "\"]]],"
                   "\"mutations\":[[\"external_ids\",\"delete\",[\"set\",[\"op-dbus-fail-mode\"]]],"
                   "[\"external_ids\",\"insert\",[\"map\",[[\"op-dbus-fail-mode\",\"\"]]]]]},"
                   "{\"op\":\"mutate\",\"table\":\"Bridge\",\"where\":[[\"_uuid\",\"==\",[\"uuid\",\"" UUID_A "\"]]],"
                   "\"mutations\":[[\"external_ids\",\"delete\",[\"set\",[\"op-dbus-fail-mode\"]]]]}]");
        ASSERT(t.writes == 2 && t.error == 0);
}

static void test_mutate_set_of_nothing_adds_nothing(void) {
        _cleanup_(ovsdb_txn_done) OvsdbTxn t = {};

        ASSERT(ovsdb_txn_init(&t) == 0);
        ovsdb_txn_mutate_set(&t, "Bridge", ovsdb_where_uuid(UUID_A), "ports", json_object_new_array(), NULL);
        assert_ops(&t, "[]");
        ASSERT(t.writes == 0);
}

static void test_lost_operation_is_not_sent(void) {
        _cleanup_(ovsdb_txn_done) OvsdbTxn t = {};

        ASSERT(ovsdb_txn_init(&t) == 0);
        /* not a uuid: the where clause cannot be built */
        ovsdb_txn_update(&t, "Port", ovsdb_where_uuid("not-a-uuid"), json_object_new_object());
        ASSERT(t.error == -ENOMEM);
        ASSERT(ovsdb_txn_commit(NULL, &t, NULL, NULL) == -ENOMEM);
}

static void test_next_cfg_of_results(void) {
        _cleanup_(json_object_putp) json_object *results =
                json_tokener_parse("[{\"count\":1},{\"rows\":[{\"next_cfg\":42}]}]");
        _cleanup_(json_object_putp) json_object *none = json_tokener_parse("[{\"count\":1}]");

        ASSERT(ovsdb_results_next_cfg(results) == 42);
        ASSERT(ovsdb_results_next_cfg(none) == -1);
}

int main(void) {
        test_guard_and_remove_port();
        test_insert_port_with_owner_tags();
        test_mutate_map_key();
        test_mutate_set_of_nothing_adds_nothing();
        test_lost_operation_is_not_sent();
        test_next_cfg_of_results();
        return 0;
}
