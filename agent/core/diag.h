/* SPDX-License-Identifier: LGPL-2.1-or-later */
#pragma once

/* Diagnostics collected while validating and planning: every problem is
 * recorded with the JSON path it concerns, so all of them can be reported
 * at once ("plugins.example.items[1].name: ..."). */

#include <stdio.h>

#include <json-c/json.h>

#include "macro.h"

typedef enum DiagLevel {
        DIAG_ERROR,
        DIAG_WARNING,
        DIAG_NOTE,
        _DIAG_LEVEL_MAX,
} DiagLevel;

typedef struct DiagEntry {
        DiagLevel level;
        char *path;     /* JSON path or file:line:col; may be empty */
        char *message;  /* what is wrong and what would be right */
} DiagEntry;

typedef struct Diag {
        DiagEntry *entries;
        size_t n_entries;
        size_t allocated;
} Diag;

void diag_done(Diag *d);

int diag_add(Diag *d, DiagLevel level, const char *path, const char *fmt, ...) _printf_(4, 5);
int diag_addv(Diag *d, DiagLevel level, const char *path, const char *fmt, va_list ap) _printf_(4, 0);

#define diag_error(d, path, ...)   diag_add((d), DIAG_ERROR, (path), __VA_ARGS__)
#define diag_warning(d, path, ...) diag_add((d), DIAG_WARNING, (path), __VA_ARGS__)
#define diag_note(d, path, ...)    diag_add((d), DIAG_NOTE, (path), __VA_ARGS__)

size_t diag_count(const Diag *d, DiagLevel level);
/* Moves all entries of src to the end of dst. */
int diag_move(Diag *dst, Diag *src);

/* "path: message" */
char *diag_entry_format(const DiagEntry *e);
/* Array of "path: message" strings of the given level (new reference). */
json_object *diag_to_json(const Diag *d, DiagLevel level);
/* One line per entry: "<prefix>error: path: message". */
void diag_print(const Diag *d, FILE *f, const char *prefix);

const char *diag_level_to_string(DiagLevel l) _pure_;
