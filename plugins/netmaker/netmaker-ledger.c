/* SPDX-License-Identifier: LGPL-2.1-or-later */
/* The ledger: the containers op-dbus put an enrollment token into, in
 * <state-dir>/netmaker-injected, so that "op-dbus query" (which has no
 * state document) can report them:
 *
 *   token_file /etc/op-dbus/netmaker.env
 *   container 104
 *   container 105
 */
#include <stdio.h>

#include "fileio.h"
#include "json-util.h"
#include "lxc.h"
#include "netmaker.h"
#include "strbuf.h"

static char *ledger_path(const char *state_dir) {
        char *s;

        if (asprintf(&s, "%s/netmaker-injected", state_dir) < 0)
                return NULL;
        return s;
}

void netmaker_ledger_done(NetmakerLedger *l) {
        free(l->token_file);
        free(l->ids);
        *l = (NetmakerLedger) {};
}

bool netmaker_ledger_has(const NetmakerLedger *l, uint32_t id) {
        for (size_t i = 0; i < l->n_ids; i++)
                if (l->ids[i] == id)
                        return true;
        return false;
}

int netmaker_ledger_add(NetmakerLedger *l, uint32_t id) {
        uint32_t *a;
        size_t i;

        if (netmaker_ledger_has(l, id))
                return 0;
        a = realloc(l->ids, (l->n_ids + 1) * sizeof(uint32_t));
        if (!a)
                return -ENOMEM;
        for (i = l->n_ids; i > 0 && a[i - 1] > id; i--)
                a[i] = a[i - 1];
        a[i] = id;
        l->ids = a;
        l->n_ids++;
        return 1;
}

/* Unknown or malformed lines are skipped: the ledger only informs. */
static int ledger_line(NetmakerLedger *l, const char *line) {
        const char *end;
        uint32_t id;

        if (startswith(line, "container ")) {
                if (!lxc_id_parse(line + 10, &end, &id) || *end)
                        return 0;
                return netmaker_ledger_add(l, id);
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
        r = read_full_file(path, &text, NULL);
        if (r == -ENOENT)
                return 0;
        if (r < 0)
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
        for (size_t i = 0; i < l->n_ids; i++)
                strbuf_printf(&b, "container %u\n", l->ids[i]);
        if (b.error < 0)
                return b.error;
        r = mkdir_p(state_dir, 0700);
        if (r < 0)
                return r;
        return write_file_atomic(path, b.s ?: "", b.len, 0600);
}
