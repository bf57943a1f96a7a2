/* SPDX-License-Identifier: LGPL-2.1-or-later */
#pragma once

/* The desired-state document. Two spellings are accepted and both are
 * normalised to the canonical one:
 *   canonical: {"version": 1, "plugins": {"net": {...}, ...}}
 *   bare:      {"<plugin>": {...}, ...}   (read as version 1)
 * Plugin sections are validated by their plugins; this module checks only
 * the envelope. */

#include <stdint.h>

#include <json-c/json.h>

#include "diag.h"

#define STATE_VERSION 1

/* How deeply a state document may nest, in its canonical form: the
 * top-level object is level 1, "plugins" level 2, a plugin section level
 * 3. Checkpoints and the confirm record keep a state one level below
 * their own top-level object, and are read back with the same parser,
 * whose limit (JSON_MAX_DEPTH) is higher: what op-dbus stores it can
 * always read again. */
#define STATE_MAX_DEPTH 32

/* The largest state a program reads: a file, standard input or a state
 * sent to its daemon. The largest states seen are about 1.5 MB. */
#define STATE_MAX_SIZE (16U * 1024U * 1024U)

typedef struct StateDoc {
        json_object *root;   /* canonical form, owned */
        char *origin;        /* file name, "<stdin>" or a label */
        bool bare;           /* the input used the bare form */
        /* Set on the document an apply makes the applied state (the
         * applied state with the sections the apply applies replaced):
         * the applied state's "plugins" before the apply, of generation
         * applied_generation (the sections it keeps are shared with it).
         * NULL: not such a document, or nothing was applied before. */
        json_object *applied;
        uint64_t applied_generation;
        /* The apply replaces every section of generation applied_generation,
         * which was therefore not read: applied is empty until
         * state_doc_applied_section() is asked for a section, which reads
         * that checkpoint from applied_dir (the state directory). */
        bool applied_deferred;
        char *applied_dir;
} StateDoc;

StateDoc *state_doc_free(StateDoc *doc);
DEFINE_TRIVIAL_CLEANUP_FUNC(StateDoc *, state_doc_free);

/* Parses text; syntax errors are reported as "origin:line:col". Text
 * over STATE_MAX_SIZE is an error. */
int state_doc_parse(const char *buf, size_t len, const char *origin, StateDoc **ret, Diag *d);
/* Reads path ("-" = standard input) and parses it. A file must be one
 * op-dbus may act on (file-trust.h): a regular file owned by root or by
 * the user op-dbus runs as, writable by nobody else, in directories
 * nobody else can write; standard input is taken as it is. Either is
 * read up to STATE_MAX_SIZE only. */
int state_doc_load(const char *path, StateDoc **ret, Diag *d);
/* Takes a reference to root (always consumed). A document nested deeper
 * than STATE_MAX_DEPTH is an error at the path of its first object or array
 * below the limit. */
int state_doc_from_json(json_object *root, const char *origin, StateDoc **ret, Diag *d);
/* An empty canonical document. */
int state_doc_new_empty(const char *origin, StateDoc **ret);

/* The "plugins" object (borrowed). */
json_object *state_doc_plugins(const StateDoc *doc);
/* A plugin's section, or NULL when absent (borrowed). */
json_object *state_doc_section(const StateDoc *doc, const char *plugin);
/* Is the plugin's section one the apply keeps as the applied state has
 * it, rather than one it applies? Plugins that refer to other sections
 * use it to tell what the apply changes. */
bool state_doc_section_kept(const StateDoc *doc, const char *plugin);
/* The plugin's section of the applied state before the apply (borrowed),
 * NULL when it has none. */
/* The applied state's section plugin (NULL: it has none). On a document
 * whose applied state is deferred, the first call reads it from its
 * checkpoint (the document caches it; a checkpoint that cannot be read
 * counts as one without the section). */
json_object *state_doc_applied_section(const StateDoc *doc, const char *plugin);
/* Replaces (or with section NULL removes) a plugin's section; takes a
 * reference to section. */
int state_doc_set_section(StateDoc *doc, const char *plugin, json_object *section);
/* "plugins.<name>" (caller frees). */
char *state_section_path(const char *plugin);

/* A value a profile leaves for the operator to fill in. */
typedef struct Placeholder {
        const char *word;        /* upper case, e.g. "VPS_IP" */
        const char *set_key;     /* init --set key, e.g. "vps_ip" */
        const char *hint;        /* what to put there */
} Placeholder;

/* Records an error for every string in the document that is exactly one
 * of the placeholder words (list terminated by word NULL), with its JSON
 * path. Returns the number found. */
size_t state_doc_check_placeholders(const StateDoc *doc, const Placeholder *list, Diag *d);
