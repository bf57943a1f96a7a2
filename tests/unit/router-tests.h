/* SPDX-License-Identifier: LGPL-2.1-or-later */
#pragma once

/* What the unit tests of the router's plugins share: a section from
 * JSON text, and where a Diag has its errors. */

#include <json-c/json.h>

#include "diag.h"
#include "macro.h"
#include "tests.h"

/* The JSON of text (the caller puts it), or the test fails. */
static inline json_object *json_from_text(const char *text) {
        json_object *o = json_tokener_parse(text);

        if (!o)
                TEST_FAIL("not JSON: %s", text);
        return o;
}

/* Is there an error at exactly this JSON path? */
static inline bool diag_has_error_at(const Diag *d, const char *path) {
        for (size_t i = 0; i < d->n_entries; i++)
                if (d->entries[i].level == DIAG_ERROR && streq(d->entries[i].path, path))
                        return true;
        return false;
}
