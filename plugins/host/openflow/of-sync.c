/* SPDX-License-Identifier: LGPL-2.1-or-later */
/* Reading flows back and changing them.
 *
 * Every op-dbus flow has a cookie of its own. For each cookie op-dbus keeps
 * a hash of what it last sent and the digest of the flow as the switch
 * reported it right after (the record, <state-dir>/flows/<bridge>). A flow
 * is unchanged when the switch still reports that digest and the desired
 * flow still hashes to what was sent; otherwise it is sent again. Nothing is sent for unchanged
 * flows, so their counters survive a re-apply. */
#include <inttypes.h>
#include <stdio.h>

#include "exec.h"
#include "fileio.h"
#include "host.h"
#include "json-util.h"
#include "of-engine.h"
#include "of-sync.h"
#include "strbuf.h"

void of_record_done(OfRecord *r) {
        free(r->entries);
        *r = (OfRecord) {};
}

static char *record_path(const char *state_dir, const char *bridge) {
        char *s;

        if (asprintf(&s, "%s/flows/%s", state_dir, bridge) < 0)
                return NULL;
        return s;
}

static int cmp_entry(const void *a, const void *b) {
        uint64_t x = ((const OfRecordEntry *) a)->cookie, y = ((const OfRecordEntry *) b)->cookie;

        return x < y ? -1 : x > y;
}

const OfRecordEntry *of_record_find(const OfRecord *r, uint64_t cookie) {
        OfRecordEntry key = { .cookie = cookie };

        return r->n ? bsearch(&key, r->entries, r->n, sizeof(OfRecordEntry), cmp_entry) : NULL;
}

int of_record_add(OfRecord *r, const OfRecordEntry *e) {
        int k;

        k = greedy_realloc((void **) &r->entries, &r->allocated, r->n + 1, sizeof(OfRecordEntry));
        if (k < 0)
                return k;
        r->entries[r->n++] = *e;
        return 0;
}

/* One hex number of 1..16 digits at *p, then a blank or the end of the
 * line (not consumed). */
static bool parse_hex64(const char **p, uint64_t *ret) {
        const char *s = *p;
        uint64_t v = 0;
        size_t n = 0;

        for (;; s++, n++) {
                unsigned d;

                if (*s >= '0' && *s <= '9')
                        d = (unsigned) (*s - '0');
                else if (*s >= 'a' && *s <= 'f')
                        d = (unsigned) (*s - 'a' + 10);
                else if (*s >= 'A' && *s <= 'F')
                        d = (unsigned) (*s - 'A' + 10);
                else
                        break;
                v = v << 4 | d;
        }
        if (n == 0 || n > 16 || (*s != ' ' && *s != 0))
                return false;
        *p = s;
        *ret = v;
        return true;
}

/* Lines of "<cookie> <digest> <spec hash> <identity hash>", hex. A missing
 * file is an empty record; a damaged line (or one in an older format) is
 * ignored: its flow is sent again. */
int of_record_load(const char *state_dir, const char *bridge, OfRecord *ret) {
        _cleanup_(freep) char *path = record_path(state_dir, bridge), *buf = NULL;
        char *line, *save = NULL;
        int r;

        if (!path)
                return -ENOMEM;
        r = read_optional_file(path, &buf);
        if (r <= 0)
                return r;

        for (line = strtok_r(buf, "\n", &save); line; line = strtok_r(NULL, "\n", &save)) {
                const char *p = line;
                uint64_t v[4];
                size_t k;

                /* "section <digest> <generation>" */
                if (startswith(line, "section ")) {
                        p += strlen("section ");
                        if (parse_hex64(&p, &v[0]) && *p++ == ' ' && parse_hex64(&p, &v[1]) && !*p) {
                                ret->section = v[0];
                                ret->generation = v[1];
                        }
                        continue;
                }

                for (k = 0; k < 4 && parse_hex64(&p, &v[k]); k++)
                        if (*p == ' ')
                                p++;
                if (k < 4 || *p)
                        continue;
                r = of_record_add(ret, &(OfRecordEntry) { .cookie = v[0], .digest = v[1], .spec_hash = v[2],
                                                          .id_hash = v[3] });
                if (r < 0)
                        return r;
        }
        /* Saved in cookie order; sort only what was edited by hand. */
        for (size_t i = 1; i < ret->n; i++)
                if (ret->entries[i - 1].cookie > ret->entries[i].cookie) {
                        qsort(ret->entries, ret->n, sizeof(OfRecordEntry), cmp_entry);
                        break;
                }
        return 0;
}

int of_record_save(const char *state_dir, const char *bridge, const OfRecord *rec) {
        _cleanup_(freep) char *dir = NULL, *path = record_path(state_dir, bridge);
        _cleanup_(strbuf_done) StrBuf b = {};
        int r;

        if (!path || asprintf(&dir, "%s/flows", state_dir) < 0)
                return -ENOMEM;
        if (rec->n == 0)
                return unlink(path) < 0 && errno != ENOENT ? negative_errno() : 0;
        r = mkdir_p(dir, 0700);
        if (r < 0)
                return r;

        if (rec->section != 0) {
                strbuf_puts(&b, "section ");
                strbuf_hex64(&b, rec->section);
                strbuf_putc(&b, ' ');
                strbuf_hex64(&b, rec->generation);
                strbuf_putc(&b, '\n');
        }
        for (size_t i = 0; i < rec->n; i++) {
                strbuf_hex64(&b, rec->entries[i].cookie);
                strbuf_putc(&b, ' ');
                strbuf_hex64(&b, rec->entries[i].digest);
                strbuf_putc(&b, ' ');
                strbuf_hex64(&b, rec->entries[i].spec_hash);
                strbuf_putc(&b, ' ');
                strbuf_hex64(&b, rec->entries[i].id_hash);
                strbuf_putc(&b, '\n');
        }
        if (b.error < 0)
                return b.error;
        /* A cache: if it is lost, the flows are sent once more. */
        return write_file_replace(path, b.s, b.len, 0600);
}

static char *mgmt_address(const PluginContext *ctx, const char *bridge) {
        char *s;

        if (asprintf(&s, "unix:%s/%s.mgmt", host_settings(ctx)->ovs_rundir, bridge) < 0)
                return NULL;
        return s;
}

static int cmp_flow(const void *a, const void *b) {
        uint64_t x = ((const OfpFlow *) a)->cookie, y = ((const OfpFlow *) b)->cookie;

        return x < y ? -1 : x > y;
}

void of_dump_request_done(OfDumpRequest *q) {
        q->client = ofp_client_free(q->client);
        q->error = 0;
}

void of_dump_request_send(const PluginContext *ctx, const char *bridge, OfDumpRequest *ret) {
        _cleanup_(freep) char *addr = mgmt_address(ctx, bridge);
        int r;

        *ret = (OfDumpRequest) {};
        if (!addr) {
                ret->error = -ENOMEM;
                return;
        }
        r = ofp_client_connect(addr, ctx->timeout_ms, &ret->client);
        if (r >= 0)
                r = ofp_client_dump_flows_send(ret->client, 0, 0, &ret->xid);
        if (r < 0) {
                of_dump_request_done(ret);
                ret->error = r;
        }
}

int of_dump_request_collect(OfDumpRequest *q, OfpFlowList *ret) {
        OfpFlowList all = {};
        int r;

        r = q->error < 0 ? q->error : ofp_client_dump_flows_recv(q->client, q->xid, &all);
        of_dump_request_done(q);
        if (r < 0) {
                ofp_flow_list_done(&all);
                return r;
        }

        /* Keep op-dbus's flows only; hand the others' buffers back. */
        for (size_t i = 0; i < all.n; i++) {
                if (!of_cookie_is_ours(all.flows[i].cookie)) {
                        free(all.flows[i].body);
                        continue;
                }
                r = greedy_realloc((void **) &ret->flows, &ret->allocated, ret->n + 1, sizeof(OfpFlow));
                if (r < 0) {
                        for (size_t j = i; j < all.n; j++)
                                free(all.flows[j].body);
                        free(all.flows);
                        return r;
                }
                ret->flows[ret->n++] = all.flows[i];
        }
        free(all.flows);
        if (ret->n > 1)
                qsort(ret->flows, ret->n, sizeof(OfpFlow), cmp_flow);
        return 0;
}

int of_installed_read(const PluginContext *ctx, const char *bridge, OfpFlowList *ret) {
        OfDumpRequest q;

        of_dump_request_send(ctx, bridge, &q);
        return of_dump_request_collect(&q, ret);
}

const OfpFlow *of_installed_find(const OfpFlowList *l, uint64_t cookie) {
        OfpFlow key = { .cookie = cookie };

        return l->n ? bsearch(&key, l->flows, l->n, sizeof(OfpFlow), cmp_flow) : NULL;
}

void of_bridge_sync_done(OfBridgeSync *b) {
        free(b->name);
        ofp_flow_list_done(&b->have);
        of_record_done(&b->record);
        free(b->send);
        free(b->remove);
        *b = (OfBridgeSync) {};
}

static int push_send(OfBridgeSync *b, const OfDesired *f) {
        int r = greedy_realloc((void **) &b->send, &b->allocated_send, b->n_send + 1, sizeof(OfDesired *));

        if (r >= 0)
                b->send[b->n_send++] = f;
        return r;
}

static int push_remove(OfBridgeSync *b, uint64_t cookie) {
        int r = greedy_realloc((void **) &b->remove, &b->allocated_remove, b->n_remove + 1, sizeof(uint64_t));

        if (r >= 0)
                b->remove[b->n_remove++] = cookie;
        return r;
}

/* Whether the switch holds the match that was meant (of-oxm.c). */
static bool match_as_meant(const OfDesired *w, const OfpFlow *h) {
        return w->match_digest == 0 || of_reported_match_digest(h->body, h->body_len) == w->match_digest;
}

/* The match part of a flow's spec, for messages. */
static const char *spec_match(const OfDesired *w, size_t *ret_len) {
        const char *m = w->spec, *a = strstr(w->spec, ",actions=");

        for (int i = 0; i < 3 && m; i++) /* past table=, priority=, cookie= */
                m = strchr(m, ',') ? strchr(m, ',') + 1 : NULL;
        if (!m || !a || m > a) {
                *ret_len = 0;
                return "";
        }
        *ret_len = (size_t) (a - m);
        return m;
}

int of_bridge_diff(OfBridgeSync *b, bool accept_pending, Diag *d) {
        int r, ret = 0;

        b->n_send = b->n_remove = 0;
        b->n_added = b->n_changed = b->n_deleted = 0;

        for (size_t i = 0; i < b->want->n; i++) {
                const OfDesired *w = &b->want->flows[i];
                const OfpFlow *h = of_installed_find(&b->have, w->cookie);
                const OfRecordEntry *e = of_record_find(&b->record, w->cookie);
                bool as_meant = h && match_as_meant(w, h);

                if (h && e && e->spec_hash == w->spec_hash && h->table == w->table && h->priority == w->priority &&
                    as_meant && (e->digest == h->digest || (accept_pending && e->digest == 0)))
                        continue; /* unchanged */
                if (h && !as_meant && accept_pending && e && e->spec_hash == w->spec_hash) {
                        size_t n;
                        const char *m = spec_match(w, &n);

                        diag_error(d, "", "bridge %s: Open vSwitch installed the flow with cookie 0x%016" PRIx64
                                   " (table %u, priority %u) with another match than the one sent (%.*s): "
                                   "it dropped or changed a field", b->name, w->cookie, w->table, w->priority,
                                   (int) MIN(n, (size_t) 512), m);
                        ret = -EPROTO;
                }

                if (!h)
                        b->n_added++;
                else {
                        b->n_changed++;
                        /* "add" replaces a flow with the same identity; any
                         * other installed version must go first. */
                        if (!e || e->id_hash != w->id_hash || e->digest != h->digest)
                                if ((r = push_remove(b, w->cookie)) < 0)
                                        return r;
                }
                r = push_send(b, w);
                if (r < 0)
                        return r;
        }

        for (size_t i = 0; i < b->have.n; i++)
                if (!of_flow_set_find(b->want, b->have.flows[i].cookie)) {
                        b->n_deleted++;
                        r = push_remove(b, b->have.flows[i].cookie);
                        if (r < 0)
                                return r;
                }
        return ret;
}

/* ovs-ofctl reports Open vSwitch's normalisation of a match (a field
 * without its prerequisite dropped) only in its log, and sends the flow
 * anyway. The log lines from there on, as one line. */
static char *normalisation_note(const char *err) {
        const char *p = strstr(err, "normalization changed ofp_match");
        _cleanup_(strbuf_done) StrBuf b = {};

        if (!p)
                return NULL;
        for (const char *line = p; *line;) {
                const char *eol = strchrnul(line, '\n'), *text = line;

                /* "2026-...|00002|ofp_match|INFO| pre: ip,tp_dst=80": keep what follows the last '|' */
                for (const char *c = line; c < eol; c++)
                        if (*c == '|')
                                text = c + 1;
                if (b.len > 0)
                        strbuf_puts(&b, "; ");
                strbuf_append(&b, text, (size_t) (eol - text));
                line = *eol ? eol + 1 : eol;
        }
        return strbuf_take(&b);
}

static int run_bundle(OfBridgeSync *b, const PluginContext *ctx, const char *text, size_t len, Diag *d) {
        _cleanup_(freep) char *addr = mgmt_address(ctx, b->name);
        _cleanup_(exec_result_done) ExecResult res = {};
        /* The flows name ports by number only (of-render.c): without names
         * ovs-ofctl need not fetch the bridge's ports first, which makes a
         * large bundle about 10 % faster. */
        char *argv[] = { (char *) "ovs-ofctl", (char *) "-O", (char *) "OpenFlow14", (char *) "--no-names",
                         (char *) "--bundle", (char *) "add-flows", addr, (char *) "-", NULL };
        int r;

        if (!addr)
                return -ENOMEM;
        r = exec_capture(argv, text, len, ctx->timeout_ms, &res);
        if (r < 0) {
                diag_error(d, "", "bridge %s: cannot run ovs-ofctl: %s", b->name, strerror(-r));
                return r;
        }
        if (res.status != 0) {
                diag_error(d, "", "bridge %s: the flow bundle was rejected (by ovs-ofctl or Open vSwitch); no flow was changed: %s",
                           b->name, strstrip_newline(res.err));
                return -EIO;
        }
        if (res.err) {
                _cleanup_(freep) char *note = normalisation_note(res.err);

                if (note) {
                        diag_error(d, "", "bridge %s: Open vSwitch changed the match of a flow sent, so the flow installed is not "
                                   "the one meant (ovs-ofctl: %s)", b->name, note);
                        return -EPROTO;
                }
        }
        return 0;
}

/* Records the desired flows with the digest of each as given, or as the
 * switch reports it (confirm). */
static int write_record(OfBridgeSync *b, const PluginContext *ctx, bool confirm) {
        OfRecord rec = { .section = b->section, .generation = ctx->generation };
        int r = 0;

        for (size_t i = 0; r >= 0 && i < b->want->n; i++) {
                const OfDesired *w = &b->want->flows[i];
                const OfpFlow *h = confirm ? of_installed_find(&b->have, w->cookie) : NULL;

                if (!confirm || h)
                        r = of_record_add(&rec, &(OfRecordEntry) { .cookie = w->cookie, .digest = h ? h->digest : 0,
                                                                   .spec_hash = w->spec_hash, .id_hash = w->id_hash });
        }
        if (r >= 0)
                r = of_record_save(ctx->state_dir, b->name, &rec);
        of_record_done(&b->record);
        b->record = rec;
        return r;
}

int of_bridge_confirm(OfBridgeSync *b, const PluginContext *ctx) {
        return write_record(b, ctx, true);
}

int of_bridge_apply(OfBridgeSync *b, const PluginContext *ctx, ApplyCounts *counts, Diag *d) {
        _cleanup_(strbuf_done) StrBuf text = {};
        int r, ret;

        if (b->n_send + b->n_remove == 0)
                return 0;

        for (size_t i = 0; i < b->n_remove; i++) {
                strbuf_puts(&text, "delete cookie=0x");
                strbuf_hex64(&text, b->remove[i]);
                strbuf_puts(&text, "/-1\n");
        }
        for (size_t i = 0; i < b->n_send; i++) {
                strbuf_puts(&text, "add ");
                strbuf_puts(&text, b->send[i]->spec);
                strbuf_putc(&text, '\n');
        }
        if (text.error < 0)
                return text.error;

        /* -EPROTO: the bundle went in, but not as it was meant; what was
         * sent is recorded all the same, for the rollback that follows. */
        ret = run_bundle(b, ctx, text.s, text.len, d);
        if (ret < 0 && ret != -EPROTO)
                return ret;
        apply_counts_write(counts, COUNT_FLOW_MODS, (unsigned) (b->n_remove + b->n_send));

        r = write_record(b, ctx, false);
        if (r < 0)
                diag_error(d, "", "bridge %s: cannot record the flows sent: %s", b->name, strerror(-r));
        return RET_GATHER(ret, r);
}
