/* SPDX-License-Identifier: LGPL-2.1-or-later */
/* The desired flows of a bridge, encoded as they are sent: each flow's
 * match (OXM fields) and instructions live in one buffer of the set, so
 * that a set of 10,000 flows is two allocations, not 20,000. */
#include <inttypes.h>
#include <stdio.h>

#include "hash.h"
#include "of-engine.h"

bool of_cookie_is_ours(uint64_t cookie) {
        switch (of_cookie_class(cookie)) {
        case OF_CLASS_SECURITY:
        case OF_CLASS_HIDING:
        case OF_CLASS_LEAK:
        case OF_CLASS_PIPELINE:
        case OF_CLASS_POLICY:
        case OF_CLASS_USER:
                return true;
        default:
                return false;
        }
}

void of_flow_set_done(OfFlowSet *s) {
        free(s->flows);
        free(s->bridge);
        ofp_buf_done(&s->bytes);
        *s = (OfFlowSet) {};
}

int of_flow_set_begin(OfFlowSet *s, const OfMatch *m, OfFlowStart *ret, size_t *ret_bad) {
        uint8_t oxm[OF_OXM_MAX];
        int len;

        len = of_match_encode(m, oxm, ret_bad);
        if (len < 0)
                return len;
        *ret = (OfFlowStart) { .off = s->bytes.len, .match_len = (size_t) len };
        ofp_buf_put(&s->bytes, oxm, (size_t) len);
        ret->insts = ofp_apply_actions_begin(&s->bytes);
        return s->bytes.error;
}

void of_flow_set_abort(OfFlowSet *s, const OfFlowStart *fs) {
        if (s->bytes.len > fs->off)
                s->bytes.len = fs->off;
}

uint64_t of_flow_set_identity(const OfFlowSet *s, const OfFlowStart *fs, uint8_t table, uint16_t priority) {
        uint64_t h = hash64_update(HASH64_INIT, &table, sizeof table);

        h = hash64_update(h, &priority, sizeof priority);
        return s->bytes.error < 0 ? h : hash64_update(h, s->bytes.data + fs->off, fs->match_len);
}

int of_flow_set_end(OfFlowSet *s, const OfFlowStart *fs, uint64_t cookie, uint8_t table, uint16_t priority,
                    uint16_t idle, uint16_t hard, const char *path) {
        OfDesired *f;
        uint64_t h;
        int r;

        ofp_apply_actions_end(&s->bytes, fs->insts);
        if (s->bytes.error < 0)
                return s->bytes.error;
        if (s->bytes.len > UINT32_MAX)
                return -E2BIG;
        r = greedy_realloc((void **) &s->flows, &s->allocated, s->n + 1, sizeof(OfDesired));
        if (r < 0)
                return r;
        f = &s->flows[s->n++];
        *f = (OfDesired) {
                .cookie = cookie, .table = table, .priority = priority,
                .idle_timeout = idle, .hard_timeout = hard,
                .match_off = (uint32_t) fs->off, .match_len = (uint16_t) fs->match_len,
                .insts_off = (uint32_t) fs->insts, .insts_len = (uint32_t) (s->bytes.len - fs->insts),
                .path = path,
        };
        h = hash64_update(HASH64_INIT, &f->cookie, sizeof f->cookie);
        h = hash64_update(h, &f->table, sizeof f->table);
        h = hash64_update(h, &f->priority, sizeof f->priority);
        h = hash64_update(h, &f->idle_timeout, sizeof f->idle_timeout);
        h = hash64_update(h, &f->hard_timeout, sizeof f->hard_timeout);
        h = hash64_update(h, &f->match_len, sizeof f->match_len);
        f->spec_hash = hash64_update(h, s->bytes.data + fs->off, s->bytes.len - fs->off);
        return 0;
}

static int cmp_desired(const void *a, const void *b) {
        uint64_t x = ((const OfDesired *) a)->cookie, y = ((const OfDesired *) b)->cookie;

        return x < y ? -1 : x > y;
}

int of_flow_set_sort(OfFlowSet *s, uint64_t *ret_duplicate) {
        for (size_t i = 1; i < s->n; i++)
                if (s->flows[i - 1].cookie > s->flows[i].cookie) {
                        qsort(s->flows, s->n, sizeof(OfDesired), cmp_desired);
                        break;
                }
        for (size_t i = 1; i < s->n; i++)
                if (s->flows[i].cookie == s->flows[i - 1].cookie) {
                        *ret_duplicate = s->flows[i].cookie;
                        return -EEXIST;
                }
        return 0;
}

const OfDesired *of_flow_set_find(const OfFlowSet *s, uint64_t cookie) {
        OfDesired key = { .cookie = cookie };

        if (s->n == 0)
                return NULL;
        return bsearch(&key, s->flows, s->n, sizeof(OfDesired), cmp_desired);
}

void of_desired_describe(const OfFlowSet *s, const OfDesired *f, StrBuf *b) {
        strbuf_printf(b, "cookie 0x%016" PRIx64 " (table %u, priority %u", f->cookie, f->table, f->priority);
        if (f->match_len > 0) {
                strbuf_puts(b, ", ");
                of_oxm_format(of_desired_match(s, f), f->match_len, b);
        }
        strbuf_putc(b, ')');
}
