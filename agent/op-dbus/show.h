/* SPDX-License-Identifier: LGPL-2.1-or-later */
#pragma once

/* op-dbus show: the node as op-dbus sees it, read from the host
 * (show.c), and drawn as text or as Graphviz (show-render.c). The view
 * is one JSON document (docs/cli.md#show):
 *
 *   {"generation": N (0: nothing applied),
 *    "bridges": [{"name", "datapath_type", "fail_mode", "owner",
 *                 "ports": [{"name", "type", "ofport", "tag", "owner",
 *                            "container", "container_interface"}],
 *                 "pipeline": {"obfuscation_level", "security_flows",
 *                              "tables": [{"table", "name", "flows",
 *                                          "packets", "drop_flows", "drops"}]},
 *                 "steering": [{"policy", "table", "from", "to", "packets"}]}],
 *    "containers": [{"id", "name", "state", "bridge", "port", "socket_networking"}],
 *    "notes": ["..."]}
 *
 * Members whose value is not known are null. */

#include <json-c/json.h>

#include "op-dbus.h"

/* Reading the view: a member (NULL when absent), a string member (NULL
 * when absent or not a string), the length of an array (0 for anything
 * else). */
static inline json_object *show_member(json_object *o, const char *key) {
        json_object *v = NULL;

        (void) json_object_object_get_ex(o, key, &v);
        return v;
}

static inline const char *show_string(json_object *o, const char *key) {
        json_object *v = show_member(o, key);

        return json_object_is_type(v, json_type_string) ? json_object_get_string(v) : NULL;
}

static inline size_t show_len(json_object *a) {
        return json_object_is_type(a, json_type_array) ? json_object_array_length(a) : 0;
}

/* op-dbus show [--format text|dot|svg] [--json]; returns the exit code. */
int verb_show(Cli *cli);

/* The node's view; *ret is set on success. Errors are logged; returns
 * the exit code. */
int show_collect(Cli *cli, json_object **ret);

/* The view as text, like ovs-vsctl show. */
void show_render_text(json_object *view, FILE *f);
/* The view as Graphviz source: a node for each bridge ("bridge/B"),
 * port ("port/B/P"), container ("container/N") and pipeline table
 * ("table/B/T"), an edge for each steering policy from its port to its
 * target. */
char *show_render_dot(json_object *view);
