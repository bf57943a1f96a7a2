/* SPDX-License-Identifier: LGPL-2.1-or-later */
/* The ledger: every bridge and port row op-dbus owns, by UUID, in
 * <state-dir>/net-owned. On Proxmox, "ifreload -a" clears external_ids of
 * the rows it manages, which removes op-dbus's ownership tags; rows still
 * in the ledger stay owned and get their tags back. */
#include <stdio.h>

#include "fileio.h"
#include "json-util.h"
#include "net-ledger.h"
#include "net.h"
#include "strbuf.h"

static char *ledger_path(const char *state_dir) {
        char *s;

        if (asprintf(&s, "%s/net-owned", state_dir) < 0)
                return NULL;
        return s;
}

/* Is "<kind> <uuid> <name>" a line of text? */
static bool listed(const char *text, const char *kind, const char *uuid, const char *name) {
        char line[256];

        snprintf(line, sizeof line, "%s %s %s\n", kind, uuid, name);
        return strstr(text, line) != NULL;
}

int net_ledger_apply(NetModel *have, const char *state_dir) {
        _cleanup_(freep) char *path = ledger_path(state_dir), *text = NULL;
        int r;

        if (!path)
                return -ENOMEM;
        r = read_optional_file(path, &text);
        if (r <= 0)
                return r;

        for (size_t i = 0; i < have->n_bridges; i++) {
                NetBridge *b = &have->bridges[i];

                if (!b->owned && listed(text, "bridge", b->uuid, b->name))
                        b->owned = b->tags_missing = true;
        }
        for (size_t i = 0; i < have->n_ports; i++) {
                NetPort *p = &have->ports[i];

                if (!p->owned && p->uuid && listed(text, "port", p->uuid, p->name))
                        p->owned = p->tags_missing = true;
        }
        return 0;
}

int net_ledger_save(const NetModel *have, const char *state_dir) {
        _cleanup_(freep) char *path = ledger_path(state_dir);
        _cleanup_(strbuf_done) StrBuf b = {};
        int r;

        if (!path)
                return -ENOMEM;
        for (size_t i = 0; i < have->n_bridges; i++)
                if (have->bridges[i].owned)
                        strbuf_printf(&b, "bridge %s %s\n", have->bridges[i].uuid, have->bridges[i].name);
        for (size_t i = 0; i < have->n_ports; i++)
                if (have->ports[i].owned && have->ports[i].uuid)
                        strbuf_printf(&b, "port %s %s\n", have->ports[i].uuid, have->ports[i].name);
        if (b.error < 0)
                return b.error;
        r = mkdir_p(state_dir, 0700);
        if (r < 0)
                return r;
        return write_file_atomic(path, b.s ?: "", b.len, 0600);
}

/* Does section (net or openflow) have a bridge of this name in "bridges"? */
static bool section_names_bridge(json_object *section, const char *name) {
        json_object *bridges, *v;

        if (!section || !json_object_object_get_ex(section, "bridges", &bridges) ||
            !json_object_is_type(bridges, json_type_array))
                return false;
        for (size_t i = 0; i < json_object_array_length(bridges); i++)
                if (json_object_object_get_ex(json_object_array_get_idx(bridges, i), "name", &v) &&
                    json_object_is_type(v, json_type_string) && streq(json_object_get_string(v), name))
                        return true;
        return false;
}

bool net_deletes_bridge(const StateDoc *doc, const char *state_dir, const char *name) {
        _cleanup_(freep) char *path = NULL, *text = NULL;
        json_object *net = state_doc_section(doc, "net");
        size_t len = strlen(name);

        if (!net || state_doc_section_kept(doc, "net") || section_names_bridge(net, name))
                return false;
        if (!state_doc_section_kept(doc, "openflow") && section_names_bridge(state_doc_section(doc, "openflow"), name))
                return false;
        if (!state_dir || !(path = ledger_path(state_dir)) || read_optional_file(path, &text) <= 0)
                return false;
        /* Lines of "bridge <uuid> <name>". */
        for (const char *l = text; *l;) {
                const char *eol = strchrnul(l, '\n'), *sp = memrchr(l, ' ', (size_t) (eol - l));

                if (startswith(l, "bridge ") && sp && (size_t) (eol - sp - 1) == len && memcmp(sp + 1, name, len) == 0)
                        return true;
                l = *eol ? eol + 1 : eol;
        }
        return false;
}

bool net_openflow_secures_bridge(const StateDoc *doc, const char *name) {
        json_object *of = state_doc_section(doc, "openflow"), *v;

        if (!of || !json_object_is_type(of, json_type_object))
                return false;
        if (json_object_object_get_ex(of, "enable_security_flows", &v) && json_object_is_type(v, json_type_boolean) &&
            !json_object_get_boolean(v))
                return false;
        if (json_object_object_get_ex(of, "obfuscation_level", &v) && json_object_is_type(v, json_type_int) &&
            json_object_get_int64(v) < 1)
                return false;
        return section_names_bridge(of, name);
}
