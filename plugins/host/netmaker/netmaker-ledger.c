/* SPDX-License-Identifier: LGPL-2.1-or-later */
/* The ledger: the containers op-dbus put an enrollment token into, in
 * <state-dir>/netmaker-injected, so that "op-dbus query" (which has no
 * state document) can report them:
 *
 *   token_file /etc/op-dbus/netmaker.env
 *   container 104 <sha256 of the token file injected>
 *   container 105 <sha256 ...>
 *
 * The digest tells whether a stopped container (which is not looked
 * into) holds the current token. */
#include <stdio.h>

#include "fileio.h"
#include "json-util.h"
#include "netmaker.h"
#include "pve-id.h"
#include "strbuf.h"

static char *ledger_path(const char *state_dir) {
        char *s;

        if (asprintf(&s, "%s/netmaker-injected", state_dir) < 0)
                return NULL;
        return s;
}

void netmaker_ledger_done(NetmakerLedger *l) {
        free(l->token_file);
        free(l->entries);
        *l = (NetmakerLedger) {};
}

NetmakerLedgerEntry *netmaker_ledger_find(const NetmakerLedger *l, uint32_t id) {
        for (size_t i = 0; i < l->n_entries; i++)
                if (l->entries[i].id == id)
                        return &l->entries[i];
        return NULL;
}

int netmaker_ledger_add(NetmakerLedger *l, uint32_t id, const char *digest) {
        NetmakerLedgerEntry *a, *e = netmaker_ledger_find(l, id);
        size_t i;

        if (!digest || strlen(digest) != SHA256_HEX_SIZE - 1)
                digest = "";
        if (e) {
                if (streq(e->digest, digest))
                        return 0;
                memcpy(e->digest, digest, strlen(digest) + 1);
                return 1;
        }
        a = realloc(l->entries, (l->n_entries + 1) * sizeof(NetmakerLedgerEntry));
        if (!a)
                return -ENOMEM;
        for (i = l->n_entries; i > 0 && a[i - 1].id > id; i--)
                a[i] = a[i - 1];
        a[i] = (NetmakerLedgerEntry) { .id = id };
        memcpy(a[i].digest, digest, strlen(digest) + 1);
        l->entries = a;
        l->n_entries++;
        return 1;
}

/* Unknown or malformed lines are skipped: the ledger only informs. */
static int ledger_line(NetmakerLedger *l, const char *line) {
        const char *end;
        uint32_t id;

        if (startswith(line, "container ")) {
                if (!pve_vmid_parse(line + 10, &end, &id) || (*end && *end != ' '))
                        return 0;
                return netmaker_ledger_add(l, id, *end ? end + 1 : NULL);
        }
        if (startswith(line, "token_file /")) {
                free(l->token_file);
                l->token_file = strdup(line + 11);
                return l->token_file ? 0 : -ENOMEM;
        }
        return 0;
}

int netmaker_ledger_load(NetmakerLedger *l, const char *state_dir) {
        _cleanup_(freep) char *path = NULL, *text = NULL;
        int r;

        netmaker_ledger_done(l);
        if (!state_dir)
                return 0;
        path = ledger_path(state_dir);
        if (!path)
                return -ENOMEM;
        r = read_optional_file(path, &text);
        if (r <= 0)
                return r;

        for (char *line = text, *eol; line && *line; line = eol ? eol + 1 : NULL) {
                eol = strchr(line, '\n');
                if (eol)
                        *eol = 0;
                r = ledger_line(l, line);
                if (r < 0)
                        return r;
        }
        return 0;
}

int netmaker_ledger_save(const NetmakerLedger *l, const char *state_dir) {
        _cleanup_(freep) char *path = NULL;
        _cleanup_(strbuf_done) StrBuf b = {};
        int r;

        if (!state_dir)
                return 0;
        path = ledger_path(state_dir);
        if (!path)
                return -ENOMEM;
        if (l->token_file && !strchr(l->token_file, '\n'))
                strbuf_printf(&b, "token_file %s\n", l->token_file);
        for (size_t i = 0; i < l->n_entries; i++)
                strbuf_printf(&b, "container %u%s%s\n", l->entries[i].id, l->entries[i].digest[0] ? " " : "",
                              l->entries[i].digest);
        if (b.error < 0)
                return b.error;
        r = mkdir_p(state_dir, 0700);
        if (r < 0)
                return r;
        return write_file_atomic(path, b.s ?: "", b.len, 0600);
}
