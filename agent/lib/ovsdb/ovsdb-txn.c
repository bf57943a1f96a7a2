/* SPDX-License-Identifier: LGPL-2.1-or-later */
/* The operation builders of "transact" requests (ovsdb-txn.h). */
#include <ctype.h>
#include <errno.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>

#include "json-util.h"
#include "macro.h"
#include "ovsdb-txn.h"

int ovsdb_txn_init(OvsdbTxn *t) {
        *t = (OvsdbTxn) { .ops = json_object_new_array() };
        return t->ops ? 0 : -ENOMEM;
}

void ovsdb_txn_done(OvsdbTxn *t) {
        json_object_put(t->ops);
        *t = (OvsdbTxn) {};
}

static json_object *strings(const char *const *s) {
        json_object *a = json_object_new_array();

        for (; a && s && *s; s++)
                json_object_array_add(a, json_object_new_string(*s));
        return a;
}

json_object *ovsdb_where(const char *column, const char *function, json_object *value) {
        json_object *w = json_object_new_array(), *c = json_object_new_array();

        if (!w || !c || !value) {
                json_object_put(w);
                json_object_put(c);
                json_object_put(value);
                return NULL;
        }
        json_object_array_add(c, json_object_new_string(column));
        json_object_array_add(c, json_object_new_string(function));
        json_object_array_add(c, value);
        json_object_array_add(w, c);
        return w;
}

json_object *ovsdb_where_uuid(const char *uuid) {
        return ovsdb_where("_uuid", "==", ovsdb_uuid(uuid));
}

json_object *ovsdb_where_name(const char *name) {
        return ovsdb_where("name", "==", json_object_new_string(name));
}

/* A new operation at the end of t; the members it takes are consumed,
 * also when it cannot be built (t->error is set then). */
static json_object *op_new(OvsdbTxn *t, const char *op, const char *table, bool write, json_object *where) {
        json_object *o = json_object_new_object();

        if (!o || !where || json_object_array_add(t->ops, o) < 0) {
                json_object_put(o);
                json_object_put(where);
                t->error = -ENOMEM;
                return NULL;
        }
        json_object_object_add(o, "op", json_object_new_string(op));
        json_object_object_add(o, "table", json_object_new_string(table));
        json_object_object_add(o, "where", where);
        t->writes += write;
        return o;
}

/* Adds member key (consumed) to operation o (may be NULL). */
static void op_add(OvsdbTxn *t, json_object *o, const char *key, json_object *v) {
        if (!o || !v || json_object_object_add(o, key, v) < 0) {
                json_object_put(v);
                t->error = -ENOMEM;
        }
}

void ovsdb_txn_select(OvsdbTxn *t, const char *table, json_object *where, const char *const *columns) {
        json_object *o = op_new(t, "select", table, false, where ?: json_object_new_array());

        op_add(t, o, "columns", strings(columns));
}

json_object *ovsdb_txn_insert(OvsdbTxn *t, const char *table, json_object *row) {
        char name[64];
        size_t n = 0;
        json_object *o;

        /* "Interface" -> "interface3": a valid <id> (RFC 7047 3.1) */
        for (const char *c = table; *c && n < sizeof name - 12; c++)
                name[n++] = isalpha((unsigned char) *c) ? (char) tolower((unsigned char) *c) : '_';
        snprintf(name + n, sizeof name - n, "%u", t->named++);

        o = json_object_new_object();
        if (!o || !row || json_object_array_add(t->ops, o) < 0) {
                json_object_put(o);
                json_object_put(row);
                t->error = -ENOMEM;
                return NULL;
        }
        json_object_object_add(o, "op", json_object_new_string("insert"));
        json_object_object_add(o, "table", json_object_new_string(table));
        json_object_object_add(o, "row", row);
        json_object_object_add(o, "uuid-name", json_object_new_string(name));
        t->writes++;
        return ovsdb_named_uuid(name);
}

void ovsdb_txn_update(OvsdbTxn *t, const char *table, json_object *where, json_object *row) {
        json_object *o = op_new(t, "update", table, true, where);

        op_add(t, o, "row", row);
}

void ovsdb_txn_delete(OvsdbTxn *t, const char *table, json_object *where) {
        (void) op_new(t, "delete", table, true, where);
}

/* [column, mutator, value] (value consumed) */
static json_object *mutation(const char *column, const char *mutator, json_object *value) {
        json_object *m = json_object_new_array();

        if (!m || !value) {
                json_object_put(m);
                json_object_put(value);
                return NULL;
        }
        json_object_array_add(m, json_object_new_string(column));
        json_object_array_add(m, json_object_new_string(mutator));
        json_object_array_add(m, value);
        return m;
}

void ovsdb_txn_mutate(OvsdbTxn *t, const char *table, json_object *where, const char *column,
                      const char *mutator, json_object *value) {
        json_object *o = op_new(t, "mutate", table, true, where), *mutations = json_object_new_array();

        if (mutations)
                json_object_array_add(mutations, mutation(column, mutator, value));
        else
                json_object_put(value);
        op_add(t, o, "mutations", mutations);
}

static bool nonempty(json_object *a) {
        return a && json_object_array_length(a) > 0;
}

void ovsdb_txn_mutate_set(OvsdbTxn *t, const char *table, json_object *where, const char *column,
                          json_object *del, json_object *ins) {
        json_object *o, *mutations;

        if (!nonempty(del) && !nonempty(ins)) {
                json_object_put(where);
                json_object_put(del);
                json_object_put(ins);
                return;
        }
        o = op_new(t, "mutate", table, true, where);
        mutations = json_object_new_array();
        if (mutations && nonempty(del))
                json_object_array_add(mutations, mutation(column, "delete", ovsdb_set(json_object_get(del))));
        if (mutations && nonempty(ins))
                json_object_array_add(mutations, mutation(column, "insert", ovsdb_set(json_object_get(ins))));
        json_object_put(del);
        json_object_put(ins);
        op_add(t, o, "mutations", mutations);
}

/* Adds mutation m (consumed) to the array mutations (may be NULL). */
static void add_mutation(OvsdbTxn *t, json_object *mutations, json_object *m) {
        if (!mutations || !m || json_object_array_add(mutations, m) < 0) {
                json_object_put(m);
                t->error = -ENOMEM;
        }
}

void ovsdb_txn_mutate_map_key(OvsdbTxn *t, const char *table, json_object *where, const char *column,
                              const char *key, const char *value) {
        json_object *o = op_new(t, "mutate", table, true, where), *mutations = json_object_new_array();
        json_object *keys = json_object_new_array();

        if (keys)
                json_object_array_add(keys, json_object_new_string(key));
        add_mutation(t, mutations, mutation(column, "delete", ovsdb_set(keys)));
        if (value) {
                _cleanup_(json_object_putp) json_object *pair = json_object_new_object();

                if (pair)
                        json_object_object_add(pair, key, json_object_new_string(value));
                add_mutation(t, mutations, mutation(column, "insert", pair ? ovsdb_map_from_object(pair) : NULL));
        }
        op_add(t, o, "mutations", mutations);
}

void ovsdb_txn_wait(OvsdbTxn *t, const char *table, json_object *where, const char *const *columns,
                    const char *until, json_object *rows, int timeout_ms) {
        json_object *o = op_new(t, "wait", table, false, where);

        op_add(t, o, "columns", strings(columns));
        op_add(t, o, "until", json_object_new_string(until));
        op_add(t, o, "rows", rows);
        op_add(t, o, "timeout", json_object_new_int(timeout_ms));
}

/* [{column: value}] (value consumed) */
json_object *ovsdb_rows1(const char *column, json_object *value) {
        json_object *rows = json_object_new_array(), *row = json_object_new_object();

        if (!rows || !row || !value) {
                json_object_put(rows);
                json_object_put(row);
                json_object_put(value);
                return NULL;
        }
        json_object_object_add(row, column, value);
        json_object_array_add(rows, row);
        return rows;
}

void ovsdb_txn_guard_name(OvsdbTxn *t, const char *table, json_object *where, const char *name) {
        static const char *const columns[] = { "name", NULL };

        ovsdb_txn_wait(t, table, where, columns, "==", ovsdb_rows1("name", json_object_new_string(name)), 0);
}

void ovsdb_txn_bump_next_cfg(OvsdbTxn *t) {
        static const char *const columns[] = { "next_cfg", NULL };

        ovsdb_txn_mutate(t, "Open_vSwitch", json_object_new_array(), "next_cfg", "+=", json_object_new_int(1));
        ovsdb_txn_select(t, "Open_vSwitch", NULL, columns);
}

/* ---- the Open_vSwitch schema ------------------------------------------------ */

json_object *ovsdb_owned_ids(json_object *user, const char *owner, const char *const *tags) {
        _cleanup_(json_object_putp) json_object *m = json_object_new_object();

        if (!m)
                return NULL;
        if (user) {
                json_object_object_foreach(user, k, v)
                        if (strncmp(k, OVSDB_TAG_PREFIX, strlen(OVSDB_TAG_PREFIX)) != 0 &&
                            json_object_is_type(v, json_type_string))
                                json_object_object_add(m, k, json_object_new_string(json_object_get_string(v)));
        }
        json_object_object_add(m, OVSDB_OWNER_KEY, json_object_new_string(owner));
        for (; tags && tags[0] && tags[1]; tags += 2)
                json_object_object_add(m, tags[0], json_object_new_string(tags[1]));
        return ovsdb_map_from_object(m);
}

json_object *ovsdb_txn_insert_port(OvsdbTxn *t, const char *name, json_object *iface, json_object *port) {
        _cleanup_(json_object_putp) json_object *iface_atom = NULL;
        json_object *ifaces;

        iface = iface ?: json_object_new_object();
        port = port ?: json_object_new_object();
        if (iface)
                json_object_object_add(iface, "name", json_object_new_string(name));
        iface_atom = ovsdb_txn_insert(t, "Interface", iface);

        ifaces = json_object_new_array();
        if (port && ifaces && iface_atom) {
                json_object_array_add(ifaces, json_object_get(iface_atom));
                json_object_object_add(port, "name", json_object_new_string(name));
                json_object_object_add(port, "interfaces", ovsdb_set(TAKE_PTR(ifaces)));
        }
        json_object_put(ifaces);
        return ovsdb_txn_insert(t, "Port", port);
}

void ovsdb_txn_remove_port(OvsdbTxn *t, json_object *bridge_where, const char *port_uuid, const char *port_name) {
        json_object *del = json_object_new_array();

        ovsdb_txn_guard_name(t, "Port", ovsdb_where_uuid(port_uuid), port_name);
        if (del)
                json_object_array_add(del, ovsdb_uuid(port_uuid));
        else
                t->error = -ENOMEM;
        ovsdb_txn_mutate_set(t, "Bridge", bridge_where, "ports", del, NULL);
}

json_object *ovsdb_empty_set(void) {
        return ovsdb_set(json_object_new_array());
}

json_object *ovsdb_opt_int(int64_t v) {
        return v >= 0 ? json_object_new_int64(v) : ovsdb_empty_set();
}

json_object *ovsdb_opt_string(const char *s) {
        return s ? json_object_new_string(s) : ovsdb_empty_set();
}

/* ---- sending -------------------------------------------------------------- */

int ovsdb_txn_commit(OvsdbClient *c, const OvsdbTxn *t, json_object **ret_results, char **reterr) {
        if (t->error < 0 || !t->ops)
                return -ENOMEM;
        return ovsdb_client_transact(c, t->db ?: "Open_vSwitch", json_object_get(t->ops), ret_results, reterr);
}

int ovsdb_read_tables(OvsdbClient *c, const char *const *tables, const char *const *const *columns, size_t n,
                      json_object **ret_results, json_object **ret_rows, char **reterr) {
        return ovsdb_read_tables_db(c, NULL, tables, columns, n, ret_results, ret_rows, reterr);
}

int ovsdb_read_tables_db(OvsdbClient *c, const char *db, const char *const *tables,
                         const char *const *const *columns, size_t n,
                         json_object **ret_results, json_object **ret_rows, char **reterr) {
        _cleanup_(json_object_putp) json_object *results = NULL;
        _cleanup_(ovsdb_txn_done) OvsdbTxn t = {};
        int r;

        r = ovsdb_txn_init(&t);
        if (r < 0)
                return r;
        t.db = db;
        for (size_t i = 0; i < n; i++)
                ovsdb_txn_select(&t, tables[i], NULL, columns[i]);
        r = ovsdb_txn_commit(c, &t, &results, reterr);
        if (r < 0)
                return r;
        for (size_t i = 0; i < n; i++) {
                ret_rows[i] = ovsdb_result_rows(results, i);
                if (!ret_rows[i])
                        return -EBADMSG;
        }
        *ret_results = TAKE_PTR(results);
        return 0;
}
