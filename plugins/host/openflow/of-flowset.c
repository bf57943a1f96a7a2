/* SPDX-License-Identifier: LGPL-2.1-or-later */
#include <inttypes.h>
#include <stdio.h>

#include "hash.h"
#include "of-engine.h"
#include "strbuf.h"

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
        for (size_t i = 0; i < s->n; i++)
                free(s->flows[i].spec);
        free(s->flows);
        free(s->bridge);
        *s = (OfFlowSet) {};
}

int of_flow_set_add(OfFlowSet *s, uint64_t cookie, uint8_t table, uint16_t priority,
                    uint16_t idle, uint16_t hard, const char *match, const char *actions) {
        _cleanup_(strbuf_done) StrBuf b = {};
        uint64_t id_hash;
        size_t len;
        char *spec;
        int r;

        /* table=T,priority=P,cookie=0x...[,idle_timeout=I,hard_timeout=H][,MATCH],actions=A */
        strbuf_puts(&b, "table=");
        strbuf_uint(&b, table);
        strbuf_puts(&b, ",priority=");
        strbuf_uint(&b, priority);
        strbuf_puts(&b, ",cookie=0x");
        strbuf_hex64(&b, cookie);
        if (idle || hard) {
                strbuf_puts(&b, ",idle_timeout=");
                strbuf_uint(&b, idle);
                strbuf_puts(&b, ",hard_timeout=");
                strbuf_uint(&b, hard);
        }
        if (match[0]) {
                strbuf_putc(&b, ',');
                strbuf_puts(&b, match);
        }
        id_hash = hash64(b.s, b.len);
        strbuf_puts(&b, ",actions=");
        strbuf_puts(&b, actions[0] ? actions : "drop");
        len = b.len;
        spec = strbuf_take(&b);
        if (!spec)
                return -ENOMEM;

        r = greedy_realloc((void **) &s->flows, &s->allocated, s->n + 1, sizeof(OfDesired));
        if (r < 0) {
                free(spec);
                return r;
        }
        s->flows[s->n++] = (OfDesired) {
                .cookie = cookie, .table = table, .priority = priority,
                .idle_timeout = idle, .hard_timeout = hard, .spec = spec,
                .spec_hash = hash64(spec, len), .id_hash = id_hash,
                .match_digest = of_match_digest(match),
        };
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
