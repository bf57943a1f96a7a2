/* SPDX-License-Identifier: LGPL-2.1-or-later */
#pragma once

/* What differs between two JSON documents, member by member. */

#include <json-c/json.h>

/* The differences from a to b (either may be NULL: nothing), in document
 * order, as an array of
 *   {"change": "added"|"removed"|"changed", "path": "...", "from": v, "to": v}
 * ("from" only for removed and changed, "to" only for added and changed).
 * Paths are written as state errors are, "plugins.a.items[name=x].size":
 * objects compare member by member; an array whose elements are all
 * objects with a string "name", or all with an integer "id", pairs its
 * elements by that key ("[name=x]", "[id=100]"); any other array is one
 * value. 0 or -ENOMEM. */
int json_compare(json_object *a, json_object *b, json_object **ret);
