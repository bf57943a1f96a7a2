/* SPDX-License-Identifier: LGPL-2.1-or-later */
#pragma once

/* Building "transact" requests of the Open_vSwitch database (RFC 7047
 * 5.2): the one set of operation builders op-dbus writes with.
 *
 * An OvsdbTxn collects operations in order and counts the ones that
 * write. Rows that already exist are guarded with a "wait" of timeout 0
 * on their name (ovsdb_txn_guard_name): a row deleted or renamed since it
 * was read aborts the whole transaction (-ETIMEDOUT from
 * ovsdb_client_transact), and the caller reads again. Sets of references
 * (Bridge.ports, Open_vSwitch.bridges) are changed with "mutate", never
 * read, modified and written back. A transaction that changes what
 * ovs-vswitchd carries out ends with ovsdb_txn_bump_next_cfg(); once it
 * is committed, ovsdb_wait_applied() waits until ovs-vswitchd has caught
 * up, as ovs-vsctl does.
 *
 * Rows op-dbus creates carry its ownership tags in external_ids
 * (ovsdb_owned_ids): OVSDB_OWNER_KEY names the owner, further keys (the
 * generation, a container) come from the caller.
 *
 * Builders take ownership of the json objects passed to them (where
 * clauses, rows, values). Allocation failures of json-c are not checked
 * one by one: ovsdb_txn_commit() refuses a transaction with a lost
 * operation (-ENOMEM). Functions return a negative errno and never log. */

#include <stdint.h>

#include <json-c/json.h>

#include "ovsdb-client.h"

/* external_ids keys op-dbus reserves on the rows it creates. */
#define OVSDB_TAG_PREFIX "op-dbus-"
#define OVSDB_OWNER_KEY "op-dbus-owner"
#define OVSDB_GENERATION_KEY "op-dbus-generation"

typedef struct OvsdbTxn {
        json_object *ops;             /* the operations, in order */
        unsigned writes;              /* how many of them write (insert, update, mutate) */
        unsigned named;               /* named-uuids handed out so far */
        int error;                    /* -ENOMEM once an operation could not be built */
        const char *db;               /* the database (static); NULL: Open_vSwitch */
} OvsdbTxn;

int ovsdb_txn_init(OvsdbTxn *t);
void ovsdb_txn_done(OvsdbTxn *t);

/* [[column, function, value]] */
json_object *ovsdb_where(const char *column, const char *function, json_object *value);
/* [["_uuid", "==", ["uuid", uuid]]] */
json_object *ovsdb_where_uuid(const char *uuid);
/* [["name", "==", name]] */
json_object *ovsdb_where_name(const char *name);

/* Reads columns (NULL-terminated) of the rows where matches (NULL: every
 * row); its result holds "rows" (ovsdb_result_rows). */
void ovsdb_txn_select(OvsdbTxn *t, const char *table, json_object *where, const char *const *columns);
/* Inserts row; returns the ["named-uuid", ...] atom that refers to it in
 * the same transaction (a new reference; NULL on allocation failure). */
json_object *ovsdb_txn_insert(OvsdbTxn *t, const char *table, json_object *row);
void ovsdb_txn_update(OvsdbTxn *t, const char *table, json_object *where, json_object *row);
/* Deletes the rows where matches (of a root table: rows of other tables
 * go when nothing refers to them any more). */
void ovsdb_txn_delete(OvsdbTxn *t, const char *table, json_object *where);
/* One mutation of one column: [column, mutator, value]. */
void ovsdb_txn_mutate(OvsdbTxn *t, const char *table, json_object *where, const char *column,
                      const char *mutator, json_object *value);
/* Deletes the atoms of the array del, then inserts those of the array
 * ins, in the set column of the rows where matches (one operation; either
 * array may be NULL or empty; nothing is added when both are). */
void ovsdb_txn_mutate_set(OvsdbTxn *t, const char *table, json_object *where, const char *column,
                          json_object *del, json_object *ins);
/* Sets key to value in the map column of the rows where matches (value
 * NULL: removes key). One operation: the key is deleted, then the pair
 * inserted, since "insert" leaves a key that is there alone. */
void ovsdb_txn_mutate_map_key(OvsdbTxn *t, const char *table, json_object *where, const char *column,
                              const char *key, const char *value);
/* Waits until the rows where matches, read as columns, are (until "==")
 * or are not ("!=") the rows given, for at most timeout_ms; 0: fails the
 * transaction at once unless they already are. */
void ovsdb_txn_wait(OvsdbTxn *t, const char *table, json_object *where, const char *const *columns,
                    const char *until, json_object *rows, int timeout_ms);
/* [{column: value}]: one row of one column, for ovsdb_txn_wait(). */
json_object *ovsdb_rows1(const char *column, json_object *value);
/* The guard: fails the transaction at once unless the row where matches
 * is there and still has this name. */
void ovsdb_txn_guard_name(OvsdbTxn *t, const char *table, json_object *where, const char *name);
/* Asks ovs-vswitchd to reconfigure (Open_vSwitch.next_cfg += 1) and reads
 * the configuration it is to reach back (ovsdb_wait_applied). */
void ovsdb_txn_bump_next_cfg(OvsdbTxn *t);

/* ---- the Open_vSwitch schema ---------------------------------------------- */

/* external_ids of a row op-dbus owns: user's string keys (may be NULL; its
 * keys starting with OVSDB_TAG_PREFIX are dropped), OVSDB_OWNER_KEY=owner,
 * and the key/value pairs of tags (NULL-terminated, may be NULL), as an
 * OVSDB map. NULL on allocation failure. */
json_object *ovsdb_owned_ids(json_object *user, const char *owner, const char *const *tags);
/* Inserts an Interface and a Port of this name holding it. iface and port
 * (may be NULL) are their other columns. Returns the Port's named-uuid
 * atom (a new reference), for Bridge.ports. */
json_object *ovsdb_txn_insert_port(OvsdbTxn *t, const char *name, json_object *iface, json_object *port);
/* Takes the Port with this uuid off the bridge where matches (OVSDB then
 * deletes the Port and its Interfaces, which nothing else refers to),
 * guarded by the Port's name. */
void ovsdb_txn_remove_port(OvsdbTxn *t, json_object *bridge_where, const char *port_uuid, const char *port_name);
/* ["set", []]: an optional column left empty. */
json_object *ovsdb_empty_set(void);
/* An optional integer column: v, or empty when v < 0. */
json_object *ovsdb_opt_int(int64_t v);
/* An optional string column: s, or empty when NULL. */
json_object *ovsdb_opt_string(const char *s);

/* Sends the transaction (its operations stay in t). -ENOMEM when an
 * operation was lost; otherwise as ovsdb_client_transact(). */
int ovsdb_txn_commit(OvsdbClient *c, const OvsdbTxn *t, json_object **ret_results, char **reterr);
/* Every row of tables[i] (columns[i], NULL-terminated) read in one
 * transaction: ret_rows[i] the rows of tables[i], borrowed from
 * *ret_results (which the caller puts). -EBADMSG (and no *reterr) when an
 * answer holds no rows; otherwise as ovsdb_txn_commit(). */
int ovsdb_read_tables(OvsdbClient *c, const char *const *tables, const char *const *const *columns, size_t n,
                      json_object **ret_results, json_object **ret_rows, char **reterr);
/* The same in database db (NULL: Open_vSwitch), such as OVN's
 * OVN_Northbound. */
int ovsdb_read_tables_db(OvsdbClient *c, const char *db, const char *const *tables,
                         const char *const *const *columns, size_t n,
                         json_object **ret_results, json_object **ret_rows, char **reterr);
/* ovsdb-cfg.c: the next_cfg a committed transaction read back (ovsdb_txn_bump_next_cfg),
 * or -1. */
int64_t ovsdb_results_next_cfg(json_object *results);
/* Waits until ovs-vswitchd has carried out what the committed transaction
 * (its results) asked for. -EBADMSG when it read back no next_cfg,
 * -ETIMEDOUT when ovs-vswitchd did not get there in time; *reterr says
 * which, and how far ovs-vswitchd got. */
int ovsdb_wait_applied(OvsdbClient *c, json_object *results, int timeout_ms, char **reterr);
