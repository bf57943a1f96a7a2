/* SPDX-License-Identifier: LGPL-2.1-or-later */
#include <inttypes.h>
#include <stdio.h>

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
        for (size_t i = 0; i < s->n; i++)
                free(s->flows[i].spec);
        free(s->flows);
        free(s->bridge);
        *s = (OfFlowSet) {};
}

int of_flow_set_add(OfFlowSet *s, uint64_t cookie, uint8_t table, uint16_t priority,
                    uint16_t idle, uint16_t hard, const char *match, const char *actions) {
        char timeouts[64] = "";
        char *spec;
        int r;

        if (idle || hard)
                snprintf(timeouts, sizeof timeouts, ",idle_timeout=%u,hard_timeout=%u", idle, hard);
        if (asprintf(&spec, "table=%u,priority=%u,cookie=0x%016" PRIx64 "%s%s%s,actions=%s",
                     table, priority, cookie, timeouts, match[0] ? "," : "", match,
                     actions[0] ? actions : "drop") < 0)
                return -ENOMEM;

        r = greedy_realloc((void **) &s->flows, &s->allocated, s->n + 1, sizeof(OfDesired));
        if (r < 0) {
                free(spec);
                return r;
        }
        s->flows[s->n++] = (OfDesired) {
                .cookie = cookie, .table = table, .priority = priority,
                .idle_timeout = idle, .hard_timeout = hard, .spec = spec,
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
