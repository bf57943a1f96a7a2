/* SPDX-License-Identifier: LGPL-2.1-or-later */
/* Reading flows back and changing them, on the bridge's management
 * socket (agent/ofp).
 *
 * Every op-dbus flow has a cookie of its own. For each cookie op-dbus keeps
 * a hash of what it last sent and the digest of the flow as the switch
 * reported it right after (the record, <state-dir>/flows/<bridge>). A flow
 * is unchanged when the switch still reports that digest and the desired
 * flow still hashes to what was sent; otherwise it is sent again. Nothing
 * is sent for unchanged flows, so their counters survive a re-apply.
 *
 * Changes go as one atomic bundle of flow mods: strict deletes of the
 * installed flows that go (as the switch reported them, the cookie
 * matched with all its bits), then adds. */
#include <elf.h>
#include <inttypes.h>
#include <link.h>
#include <stdio.h>

#include "fileio.h"
#include "hash.h"
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

/* Lines of "<cookie> <digest> <spec hash>", hex. A missing file is an
 * empty record; a damaged line (or one in an older format) is ignored:
 * its flow is sent again. */
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
                uint64_t v[3];
                size_t k;

                /* "inputs <digest>" */
                if (startswith(line, "inputs ")) {
                        p += strlen("inputs ");
                        if (parse_hex64(&p, &v[0]) && !*p)
                                ret->inputs = v[0];
                        continue;
                }
                /* "section <digest> <generation>" */
                if (startswith(line, "section ")) {
                        p += strlen("section ");
                        if (parse_hex64(&p, &v[0]) && *p++ == ' ' && parse_hex64(&p, &v[1]) && !*p) {
                                ret->section = v[0];
                                ret->generation = v[1];
                        }
                        continue;
                }

                for (k = 0; k < 3 && parse_hex64(&p, &v[k]); k++)
                        if (*p == ' ')
                                p++;
                if (k < 3 || *p)
                        continue;
                r = of_record_add(ret, &(OfRecordEntry) { .cookie = v[0], .digest = v[1], .spec_hash = v[2] });
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
        if (rec->inputs != 0) {
                strbuf_puts(&b, "inputs ");
                strbuf_hex64(&b, rec->inputs);
                strbuf_putc(&b, '\n');
        }
        for (size_t i = 0; i < rec->n; i++) {
                strbuf_hex64(&b, rec->entries[i].cookie);
                strbuf_putc(&b, ' ');
                strbuf_hex64(&b, rec->entries[i].digest);
                strbuf_putc(&b, ' ');
                strbuf_hex64(&b, rec->entries[i].spec_hash);
                strbuf_putc(&b, '\n');
        }
        if (b.error < 0)
                return b.error;
        /* A cache: if it is lost, the flows are sent once more. */
        return write_file_replace(path, b.s, b.len, 0600);
}


/* ---- the connection ------------------------------------------------------------- */

void of_connection_reset(OfConnection *c) {
        c->client = ofp_client_free(c->client);
        c->dump_xid = 0;
}

void of_connection_done(OfConnection *c) {
        of_connection_reset(c);
        free(c->bridge);
        *c = (OfConnection) {};
}

/* Connects; wait: for the switch's HELLO, else the first answer read
 * checks it (a request need not wait for it). */
static OfpClient *connection_client(OfConnection *c, const PluginContext *ctx, bool wait, int *ret_error) {
        _cleanup_(freep) char *addr = NULL;
        int r;

        if (c->client)
                return c->client;
        if (asprintf(&addr, "unix:%s/%s.mgmt", host_settings(ctx)->ovs_rundir, c->bridge) < 0) {
                *ret_error = -ENOMEM;
                return NULL;
        }
        r = (wait ? ofp_client_connect : ofp_client_open)(addr, ctx->timeout_ms, &c->client);
        if (r < 0) {
                *ret_error = r;
                return NULL;
        }
        return c->client;
}

OfpClient *of_connection_client(OfConnection *c, const PluginContext *ctx, int *ret_error) {
        /* Gone since it was last used (ovs-vswitchd closes it when it
         * stops, or when the bridge is deleted): connect again. */
        if (c->client && !c->dump_xid && ofp_client_process(c->client) < 0)
                of_connection_reset(c);
        return connection_client(c, ctx, true, ret_error);
}

void of_connection_request_flows(OfConnection *c, const PluginContext *ctx) {
        /* A connection made for an earlier request may be gone: the
         * bridge was deleted and made again, ovs-vswitchd restarted. Then
         * once more on a new one. */
        for (int attempt = 0; attempt < 2; attempt++) {
                OfpClient *client;
                int r = 0;

                c->error = 0;
                if (c->dump_xid)
                        return;
                c->fresh = !c->client;
                client = connection_client(c, ctx, false, &r);
                if (client)
                        r = ofp_client_dump_flows_send(client, 0, 0, &c->dump_xid);
                if (r >= 0)
                        return;
                of_connection_reset(c);
                c->error = r;
                if (c->fresh)
                        return;
        }
}

/* The reply to the flows asked for; asked again on a new connection when
 * the one asked on was made for an earlier request and is gone. */
static int collect_all(OfConnection *c, const PluginContext *ctx, OfpFlowList *ret) {
        for (int attempt = 0;; attempt++) {
                uint32_t xid;
                bool fresh;
                int r;

                if (!c->dump_xid && !c->error)
                        of_connection_request_flows(c, ctx);
                r = c->error;
                xid = c->dump_xid;
                fresh = c->fresh;
                c->error = 0;
                c->dump_xid = 0;
                if (r >= 0)
                        r = ofp_client_dump_flows_recv(c->client, xid, ret);
                if (r >= 0)
                        return 0;
                of_connection_reset(c);
                ofp_flow_list_done(ret);
                if (fresh || attempt > 0 || (r != -ECONNRESET && r != -EPIPE))
                        return r;
        }
}

static int cmp_flow(const void *a, const void *b) {
        uint64_t x = ((const OfpFlow *) a)->cookie, y = ((const OfpFlow *) b)->cookie;

        return x < y ? -1 : x > y;
}

int of_connection_collect(OfConnection *c, const PluginContext *ctx, OfpFlowList *ret) {
        OfpFlowList all = {};
        int r;

        r = collect_all(c, ctx, &all);
        if (r < 0)
                return r;

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

/* ---- the difference --------------------------------------------------------------- */

const OfpFlow *of_installed_find(const OfpFlowList *l, uint64_t cookie, size_t *ret_n) {
        OfpFlow key = { .cookie = cookie };
        const OfpFlow *f = l->n ? bsearch(&key, l->flows, l->n, sizeof(OfpFlow), cmp_flow) : NULL;
        size_t n = 0;

        if (f) {
                while (f > l->flows && f[-1].cookie == cookie)
                        f--;
                while (f + n < l->flows + l->n && f[n].cookie == cookie)
                        n++;
        }
        *ret_n = n;
        return f;
}

bool of_record_holds(const OfRecord *r, const OfpFlowList *have) {
        if (r->n != have->n)
                return false;
        /* Both are sorted by cookie: a cookie twice on the switch means
         * another cookie missing, and a mismatch below. */
        for (size_t i = 0; i < r->n; i++)
                if (r->entries[i].digest == 0 || have->flows[i].cookie != r->entries[i].cookie ||
                    have->flows[i].digest != r->entries[i].digest)
                        return false;
        return true;
}

static size_t align4(size_t n) {
        return (n + 3) & ~(size_t) 3;
}

static int build_id_note(struct dl_phdr_info *info, size_t size, void *userdata) {
        uint64_t *ret = userdata;

        (void) size;
        /* The first object is the program itself. */
        for (size_t i = 0; i < info->dlpi_phnum; i++) {
                const ElfW(Phdr) *ph = &info->dlpi_phdr[i];
                const uint8_t *p = (const uint8_t *) (info->dlpi_addr + ph->p_vaddr), *end = p + ph->p_memsz;

                if (ph->p_type != PT_NOTE)
                        continue;
                while (p + sizeof(ElfW(Nhdr)) <= end) {
                        const ElfW(Nhdr) *n = (const ElfW(Nhdr) *) (const void *) p;
                        const uint8_t *name = p + sizeof *n, *desc = name + align4(n->n_namesz);

                        if (desc + n->n_descsz > end)
                                break;
                        if (n->n_type == NT_GNU_BUILD_ID && n->n_namesz == 4 && memcmp(name, "GNU", 4) == 0 &&
                            n->n_descsz > 0) {
                                *ret = hash64(desc, n->n_descsz) ?: 1;
                                return 1;
                        }
                        p = desc + align4(n->n_descsz);
                }
        }
        return 1;
}

uint64_t of_build_id(void) {
        static uint64_t id;
        static bool known;

        if (!known) {
                dl_iterate_phdr(build_id_note, &id);
                known = true;
        }
        return id;
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

static int push_remove(OfBridgeSync *b, const OfpFlow *f) {
        int r = greedy_realloc((void **) &b->remove, &b->allocated_remove, b->n_remove + 1, sizeof(OfpFlow *));

        if (r >= 0)
                b->remove[b->n_remove++] = f;
        return r;
}

/* Whether the switch holds the match that was meant: the same OXM fields
 * (of-oxm.c writes them in Open vSwitch's order, so they are normally the
 * same bytes too). */
static bool match_as_meant(const OfFlowSet *s, const OfDesired *w, const OfpFlow *h) {
        const uint8_t *oxm, *want = of_desired_match(s, w);
        size_t len;

        if (ofp_match_fields(h->body, h->body_len, &oxm, &len) < 0)
                return false;
        if (len == w->match_len && memcmp(oxm, want, len) == 0)
                return true;
        return of_oxm_digest(oxm, len) == of_oxm_digest(want, w->match_len);
}

/* Whether the switch holds one flow for w's cookie, as w would be
 * installed but for the actions and timeouts: adding w replaces it. */
static bool same_identity(const OfFlowSet *s, const OfDesired *w, const OfpFlow *h, size_t n_h) {
        return n_h == 1 && h->table == w->table && h->priority == w->priority && match_as_meant(s, w, h);
}

static void installed_otherwise(const OfBridgeSync *b, const OfDesired *w, Diag *d) {
        _cleanup_(strbuf_done) StrBuf m = {};

        of_oxm_format(of_desired_match(b->want, w), w->match_len, &m);
        diag_error(d, w->path ?: "", "bridge %s: Open vSwitch installed the flow with cookie 0x%016" PRIx64
                   " (table %u, priority %u) with another match than the one sent (%s): it dropped or changed a field",
                   b->name, w->cookie, w->table, w->priority, m.s ?: "");
}

int of_bridge_diff(OfBridgeSync *b, bool accept_pending, Diag *d) {
        int r, ret = 0;

        b->n_send = b->n_remove = 0;
        b->n_added = b->n_changed = b->n_deleted = 0;

        for (size_t i = 0; i < b->want->n; i++) {
                const OfDesired *w = &b->want->flows[i];
                const OfRecordEntry *e = of_record_find(&b->record, w->cookie);
                size_t n_h;
                const OfpFlow *h = of_installed_find(&b->have, w->cookie, &n_h);
                bool sent = e && e->spec_hash == w->spec_hash;

                /* Unchanged: the switch still has what it reported after
                 * this flow was last sent (and found as meant then). */
                if (sent && n_h == 1 && e->digest != 0 && e->digest == h->digest && h->table == w->table &&
                    h->priority == w->priority)
                        continue;
                /* Just sent, and the switch has it as meant. */
                if (sent && accept_pending && e->digest == 0 && same_identity(b->want, w, h, n_h))
                        continue;
                if (sent && accept_pending && n_h == 1 && !match_as_meant(b->want, w, h)) {
                        installed_otherwise(b, w, d);
                        ret = -EPROTO;
                }

                if (!h)
                        b->n_added++;
                else {
                        b->n_changed++;
                        /* An add replaces a flow with the same table,
                         * priority and match; any other goes first. */
                        if (!same_identity(b->want, w, h, n_h))
                                for (size_t k = 0; k < n_h; k++)
                                        if ((r = push_remove(b, &h[k])) < 0)
                                                return r;
                }
                r = push_send(b, w);
                if (r < 0)
                        return r;
        }

        for (size_t i = 0; i < b->have.n; i++)
                if (!of_flow_set_find(b->want, b->have.flows[i].cookie)) {
                        b->n_deleted++;
                        r = push_remove(b, &b->have.flows[i]);
                        if (r < 0)
                                return r;
                }
        return ret;
}

/* ---- sending ---------------------------------------------------------------------- */

int of_bridge_flow_mods(const OfBridgeSync *b, OfpBundle *bundle) {
        int r;

        for (size_t i = 0; i < b->n_remove; i++) {
                const OfpFlow *h = b->remove[i];
                const uint8_t *oxm;
                size_t len;

                if (ofp_match_fields(h->body, h->body_len, &oxm, &len) < 0)
                        return -EBADMSG;
                /* Strict: this flow only (table, priority, match); and the
                 * cookie with all its bits, never a cookie to set. */
                r = ofp_bundle_add_flow_mod(bundle, &(OfpFlowMod) {
                        .command = OFPFC_DELETE_STRICT,
                        .table = h->table,
                        .priority = h->priority,
                        .cookie = h->cookie,
                        .cookie_mask = UINT64_MAX,
                        .match = oxm,
                        .match_len = len,
                });
                if (r < 0)
                        return r;
        }
        for (size_t i = 0; i < b->n_send; i++) {
                const OfDesired *w = b->send[i];

                r = ofp_bundle_add_flow_mod(bundle, &(OfpFlowMod) {
                        .command = OFPFC_ADD,
                        .table = w->table,
                        .priority = w->priority,
                        .idle_timeout = w->idle_timeout,
                        .hard_timeout = w->hard_timeout,
                        .cookie = w->cookie,
                        .match = of_desired_match(b->want, w),
                        .match_len = w->match_len,
                        .instructions = of_desired_insts(b->want, w),
                        .instructions_len = w->insts_len,
                });
                if (r < 0)
                        return r;
        }
        return 0;
}

/* Says which flows the switch refused, and why. */
static void report_refused(const OfBridgeSync *b, const OfpBundle *bundle, Diag *d) {
        size_t named = 0;

        for (size_t i = 0; i < bundle->n_errors; i++) {
                const OfpError *e = &bundle->errors[i];
                ssize_t k = ofp_bundle_index_of(bundle, e->xid);
                _cleanup_(strbuf_done) StrBuf why = {}, what = {};
                const char *name = ofp_error_name(e->type, e->code), *path = "";

                if (k < 0)
                        continue;    /* the bundle's own messages: said below */
                if (name)
                        strbuf_puts(&why, name);
                else
                        strbuf_printf(&why, "error type %u, code %u", e->type, e->code);
                if ((size_t) k < b->n_remove) {
                        const OfpFlow *h = b->remove[k];

                        strbuf_printf(&what, "the removal of the flow with cookie 0x%016" PRIx64 " (table %u, priority %u)",
                                      h->cookie, h->table, h->priority);
                } else if ((size_t) k - b->n_remove < b->n_send) {
                        const OfDesired *w = b->send[(size_t) k - b->n_remove];

                        strbuf_puts(&what, "the flow with ");
                        of_desired_describe(b->want, w, &what);
                        path = w->path ?: "";
                }
                diag_error(d, path, "bridge %s: Open vSwitch refused %s: %s", b->name, what.s ?: "a flow", why.s ?: "?");
                named++;
        }
        for (size_t i = 0; named == 0 && i < bundle->n_errors; i++) {
                const char *name = ofp_error_name(bundle->errors[i].type, bundle->errors[i].code);

                diag_error(d, "", "bridge %s: Open vSwitch refused the bundle: %s", b->name,
                           name ?: "an error op-dbus does not know");
        }
        diag_error(d, "", "bridge %s: the flow bundle was rejected, so no flow was changed", b->name);
}

/* Records the desired flows with the digest of each as given, or as the
 * switch reports it (confirm). The inputs they were built from are
 * recorded only when the switch confirmed every one. */
static int write_record(OfBridgeSync *b, const PluginContext *ctx, bool confirm) {
        OfRecord rec = { .section = b->section, .generation = ctx->generation };
        int r = 0;

        for (size_t i = 0; r >= 0 && i < b->want->n; i++) {
                const OfDesired *w = &b->want->flows[i];
                size_t n_h;
                const OfpFlow *h = confirm ? of_installed_find(&b->have, w->cookie, &n_h) : NULL;

                if (!confirm || h)
                        r = of_record_add(&rec, &(OfRecordEntry) { .cookie = w->cookie, .digest = h ? h->digest : 0,
                                                                   .spec_hash = w->spec_hash });
        }
        if (confirm && rec.n == b->want->n)
                rec.inputs = b->inputs;
        if (r >= 0)
                r = of_record_save(ctx->state_dir, b->name, &rec);
        of_record_done(&b->record);
        b->record = rec;
        return r;
}

int of_bridge_confirm(OfBridgeSync *b, const PluginContext *ctx) {
        return write_record(b, ctx, true);
}

int of_bridge_apply(OfBridgeSync *b, OfpClient *c, const PluginContext *ctx, ApplyCounts *counts, Diag *d) {
        _cleanup_(ofp_bundle_done) OfpBundle bundle = {};
        int r;

        if (b->n_send + b->n_remove == 0)
                return 0;

        ofp_client_bundle_begin(c, &bundle);
        r = of_bridge_flow_mods(b, &bundle);
        if (r < 0)
                return r;
        r = ofp_client_bundle_commit(c, &bundle);
        if (r == -EPROTO) {
                report_refused(b, &bundle, d);
                return r;
        }
        if (r < 0) {
                diag_error(d, "", "bridge %s: cannot send the flows to Open vSwitch: %s", b->name, strerror(-r));
                return r;
        }
        apply_counts_write(counts, COUNT_FLOW_MODS, (unsigned) bundle.n);

        r = write_record(b, ctx, false);
        if (r < 0)
                diag_error(d, "", "bridge %s: cannot record the flows sent: %s", b->name, strerror(-r));
        return r;
}
