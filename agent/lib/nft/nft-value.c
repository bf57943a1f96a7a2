/* SPDX-License-Identifier: LGPL-2.1-or-later */

/* Values in text form (addresses, prefixes, ranges, ports, names) and
 * set elements: the model's ranges and the kernel's start and end
 * elements. */

#include <arpa/inet.h>
#include <netinet/ether.h>
#include <stdio.h>
#include <linux/netfilter/nf_tables.h>

#include "macro.h"
#include "nft-internal.h"
#include "strbuf.h"

/* ---- numbers and addresses ----------------------------------------------- */

int parse_uint(const char *s, uint64_t max, uint64_t *ret) {
        unsigned long long v;
        char *end;

        if (!s || !(*s >= '0' && *s <= '9'))
                return -EINVAL;
        errno = 0;
        v = strtoull(s, &end, 0);
        if (errno != 0 || end == s || *end || v > max)
                return -EINVAL;
        *ret = v;
        return 0;
}

int parse_ipv4(const char *s, uint8_t out[4]) {
        return inet_pton(AF_INET, s, out) == 1 ? 0 : -EINVAL;
}

int parse_ipv6(const char *s, uint8_t out[16]) {
        return inet_pton(AF_INET6, s, out) == 1 ? 0 : -EINVAL;
}

/* hi = lo with the bits after the prefix set; -EINVAL if lo has any of
 * them set (a host address with a prefix length is a typo). */
static int prefix_range(const uint8_t *lo, unsigned len, unsigned prefix, uint8_t *hi) {
        for (unsigned i = 0; i < len; i++) {
                unsigned bits = prefix >= 8 * (i + 1) ? 8 : prefix > 8 * i ? prefix - 8 * i : 0;
                uint8_t host = (uint8_t) (0xff >> bits);

                if (lo[i] & host)
                        return -EINVAL;
                hi[i] = lo[i] | host;
        }
        return 0;
}

/* The prefix length if [lo, hi] is exactly one prefix, else -1. */
static int range_prefix(const uint8_t *lo, const uint8_t *hi, unsigned len) {
        for (unsigned p = 0; p <= 8 * len; p++) {
                uint8_t h[EXPR_DATA_MAX];

                if (prefix_range(lo, len, p, h) == 0 && memcmp(h, hi, len) == 0)
                        return (int) p;
        }
        return -1;
}

static int parse_addr(int af, const char *s, uint8_t *out) {
        return af == AF_INET ? parse_ipv4(s, out) : parse_ipv6(s, out);
}

/* "addr", "addr/prefix" or "addr-addr". */
static int parse_address(int af, const char *text, Value *v) {
        unsigned len = af == AF_INET ? 4 : 16;
        char buf[2 * INET6_ADDRSTRLEN + 8], *sep;
        int r;

        if (strlen(text) >= sizeof buf)
                return -EINVAL;
        strcpy(buf, text);
        v->len = len;
        if ((sep = strchr(buf, '/'))) {
                uint64_t p;

                *sep = 0;
                r = parse_uint(sep + 1, 8 * len, &p);
                if (r < 0 || (sep[1] == '0' && sep[2] != 0))
                        return -EINVAL;
                r = parse_addr(af, buf, v->lo);
                if (r < 0)
                        return r;
                r = prefix_range(v->lo, len, (unsigned) p, v->hi);
                if (r < 0)
                        return r;
                v->prefix = (int) p;
                v->range = p < 8 * len;
                return 0;
        }
        if ((sep = strchr(buf, '-'))) {
                *sep = 0;
                if (parse_addr(af, buf, v->lo) < 0 || parse_addr(af, sep + 1, v->hi) < 0)
                        return -EINVAL;
                if (memcmp(v->lo, v->hi, len) > 0)
                        return -EINVAL;
                v->range = memcmp(v->lo, v->hi, len) != 0;
                return 0;
        }
        r = parse_addr(af, buf, v->lo);
        if (r < 0)
                return r;
        memcpy(v->hi, v->lo, len);
        return 0;
}

/* "port" or "port-port", big endian. */
static int parse_port(const char *text, Value *v) {
        char buf[16], *sep;
        uint64_t a, b;

        if (strlen(text) >= sizeof buf)
                return -EINVAL;
        strcpy(buf, text);
        sep = strchr(buf, '-');
        if (sep)
                *sep = 0;
        if (parse_uint(buf, UINT16_MAX, &a) < 0)
                return -EINVAL;
        b = a;
        if (sep && (parse_uint(sep + 1, UINT16_MAX, &b) < 0 || b < a))
                return -EINVAL;
        v->len = 2;
        v->lo[0] = (uint8_t) (a >> 8);
        v->lo[1] = (uint8_t) a;
        v->hi[0] = (uint8_t) (b >> 8);
        v->hi[1] = (uint8_t) b;
        v->range = a != b;
        return 0;
}

static const struct {
        const char *name;
        uint8_t number;
} protocols[] = {
        { "icmp", 1 }, { "igmp", 2 }, { "tcp", 6 }, { "udp", 17 }, { "gre", 47 },
        { "esp", 50 }, { "ah", 51 }, { "icmpv6", 58 }, { "sctp", 132 }, { "udplite", 136 },
};

static int parse_protocol(const char *text, uint8_t *ret) {
        uint64_t v;

        for (size_t i = 0; i < ELEMENTSOF(protocols); i++)
                if (streq(protocols[i].name, text)) {
                        *ret = protocols[i].number;
                        return 0;
                }
        if (parse_uint(text, UINT8_MAX, &v) < 0)
                return -EINVAL;
        *ret = (uint8_t) v;
        return 0;
}

int value_parse(NftKeyType k, const char *text, Value *ret) {
        Value v = { .prefix = -1 };
        uint64_t n;
        int r;

        if (!text)
                return -EINVAL;
        switch (k) {
        case NFT_KEY_IPV4_ADDR:
                r = parse_address(AF_INET, text, &v);
                break;
        case NFT_KEY_IPV6_ADDR:
                r = parse_address(AF_INET6, text, &v);
                break;
        case NFT_KEY_INET_SERVICE:
                r = parse_port(text, &v);
                break;
        case NFT_KEY_INET_PROTO:
                v.len = 1;
                r = parse_protocol(text, &v.lo[0]);
                break;
        case NFT_KEY_MARK: {
                uint32_t m;

                r = parse_uint(text, UINT32_MAX, &n);
                m = (uint32_t) n;
                v.len = 4;
                memcpy(v.lo, &m, 4);    /* host byte order, as the kernel's register */
                break;
        }
        case NFT_KEY_IFNAME:
                n = strlen(text);
                if (n == 0 || n >= 16 || strchr(text, '/') || strchr(text, '*'))
                        return -EINVAL;
                v.len = 16;
                memcpy(v.lo, text, n);
                r = 0;
                break;
        case NFT_KEY_ETHER_ADDR: {
                struct ether_addr e;

                if (!ether_aton_r(text, &e))
                        return -EINVAL;
                v.len = 6;
                memcpy(v.lo, e.ether_addr_octet, 6);
                r = 0;
                break;
        }
        default:
                return -EINVAL;
        }
        if (r < 0)
                return r;
        if (!v.range)
                memcpy(v.hi, v.lo, v.len);
        *ret = v;
        return 0;
}

int value_parse_key(NftKeyType k, const char *text, uint8_t *lo, uint8_t *hi, bool *ret_range) {
        Value v;
        int r;

        r = value_parse(k, text, &v);
        if (r < 0)
                return r;
        memcpy(lo, v.lo, EXPR_DATA_MAX);
        memcpy(hi, v.hi, EXPR_DATA_MAX);
        *ret_range = v.range;
        return 0;
}

static void format_one(NftKeyType k, uint32_t len, const uint8_t *p, StrBuf *b) {
        char buf[INET6_ADDRSTRLEN];
        uint32_t m;

        switch (k) {
        case NFT_KEY_IPV4_ADDR:
        case NFT_KEY_IPV6_ADDR:
                (void) inet_ntop(k == NFT_KEY_IPV4_ADDR ? AF_INET : AF_INET6, p, buf, sizeof buf);
                strbuf_puts(b, buf);
                return;
        case NFT_KEY_INET_SERVICE:
                strbuf_uint(b, (uint64_t) p[0] << 8 | p[1]);
                return;
        case NFT_KEY_INET_PROTO:
                strbuf_uint(b, p[0]);
                return;
        case NFT_KEY_MARK:
                memcpy(&m, p, 4);
                strbuf_printf(b, "0x%08x", m);
                return;
        case NFT_KEY_IFNAME:
                strbuf_append(b, (const char *) p, strnlen((const char *) p, 16));
                return;
        case NFT_KEY_ETHER_ADDR:
                strbuf_printf(b, "%02x:%02x:%02x:%02x:%02x:%02x", p[0], p[1], p[2], p[3], p[4], p[5]);
                return;
        default:
                strbuf_puts(b, "0x");
                for (uint32_t i = 0; i < len; i++)
                        strbuf_printf(b, "%02x", p[i]);
                return;
        }
}

int value_format_key(NftKeyType k, uint32_t len, const uint8_t *lo, const uint8_t *hi, char **ret) {
        StrBuf b = {};

        format_one(k, len, lo, &b);
        if (memcmp(lo, hi, len) != 0) {
                int p = k == NFT_KEY_IPV4_ADDR || k == NFT_KEY_IPV6_ADDR ? range_prefix(lo, hi, len) : -1;

                if (p >= 0)
                        strbuf_printf(&b, "/%d", p);
                else {
                        strbuf_putc(&b, '-');
                        format_one(k, len, hi, &b);
                }
        }
        *ret = strbuf_take(&b);
        return *ret ? 0 : -ENOMEM;
}

/* ---- elements ------------------------------------------------------------- */

static int elem_compare(const void *a, const void *b, void *len) {
        return memcmp(((const NftElem *) a)->lo, ((const NftElem *) b)->lo, *(const uint32_t *) len);
}

/* Key order, and at the same key the end of the range before it the
 * start of the next. */
int kelem_compare(const void *a, const void *b, void *len) {
        const KElem *x = a, *y = b;
        int c = memcmp(x->key, y->key, *(const uint32_t *) len);

        if (c != 0)
                return c;
        return (int) (y->flags & NFT_SET_ELEM_INTERVAL_END) - (int) (x->flags & NFT_SET_ELEM_INTERVAL_END);
}

/* Sorts the elements; -EEXIST (naming the element) for a duplicate or,
 * in an interval set, an overlap. */
int set_check_elements(NftSet *s, NftError *reterr) {
        bool interval = s->kflags & NFT_SET_INTERVAL;

        if (s->checked)
                return 0;
        if (s->n_elems > 0)
                qsort_r(s->elems, s->n_elems, sizeof *s->elems, elem_compare, &s->key_len);
        for (size_t i = 1; i < s->n_elems; i++) {
                const NftElem *prev = &s->elems[i - 1], *e = &s->elems[i];
                bool clash = interval ? memcmp(e->lo, prev->hi, s->key_len) <= 0
                                      : memcmp(e->lo, prev->lo, s->key_len) == 0;

                if (clash) {
                        _cleanup_(freep) char *a = NULL, *b = NULL;

                        (void) value_format_key(s->key, s->key_len, prev->lo, prev->hi, &a);
                        (void) value_format_key(s->key, s->key_len, e->lo, e->hi, &b);
                        return error_set(reterr, -EEXIST, describe_set(s),
                                         interval && !streq_ptr(a, b) ? "elements %s and %s overlap"
                                                                      : "element %s%.0s is given twice",
                                         strna(a), strna(b));
                }
        }
        s->checked = true;
        return 0;
}

/* value + 1 (big endian); false when it wraps (value was the largest). */
static bool be_increment(uint8_t *v, uint32_t len) {
        for (uint32_t i = len; i > 0; i--)
                if (++v[i - 1] != 0)
                        return true;
        return false;
}

static void be_decrement(uint8_t *v, uint32_t len) {
        for (uint32_t i = len; i > 0; i--)
                if (v[i - 1]-- != 0)
                        return;
}

static bool is_zero(const uint8_t *v, uint32_t len) {
        for (uint32_t i = 0; i < len; i++)
                if (v[i] != 0)
                        return false;
        return true;
}

/* The kernel's elements for the model's (checked) elements, sorted. An
 * interval set holds, as nft writes it: an end element at zero when the
 * first range starts above zero, then per range its start and, unless it
 * runs to the largest key, an end element at the key after it. */
int set_kernel_elements(const NftSet *s, KElem **ret, size_t *ret_n) {
        bool interval = s->kflags & NFT_SET_INTERVAL;
        size_t n = 0, max = interval ? 2 * s->n_elems + 1 : s->n_elems;
        _cleanup_(freep) KElem *k = NULL;

        k = calloc(MAX(max, (size_t) 1), sizeof *k);
        if (!k)
                return -ENOMEM;
        if (interval && s->n_elems > 0 && !is_zero(s->elems[0].lo, s->key_len))
                k[n++] = (KElem) { .flags = NFT_SET_ELEM_INTERVAL_END };
        for (size_t i = 0; i < s->n_elems; i++) {
                memcpy(k[n++].key, s->elems[i].lo, s->key_len);
                if (!interval)
                        continue;
                memcpy(k[n].key, s->elems[i].hi, s->key_len);
                if (be_increment(k[n].key, s->key_len))
                        k[n++].flags = NFT_SET_ELEM_INTERVAL_END;
                else
                        memset(k[n].key, 0, sizeof k[n].key);
        }
        /* Adjacent ranges: the end of one sorts before the start of the next. */
        qsort_r(k, n, sizeof *k, kelem_compare, (void *) &s->key_len);
        *ret = TAKE_PTR(k);
        *ret_n = n;
        return 0;
}

/* The model's elements from the kernel's (s->kelems, sorted). */
int set_elements_from_kernel(NftSet *s) {
        bool interval = s->kflags & NFT_SET_INTERVAL, open = false;
        NftElem cur = {};

        s->n_elems = 0;
        for (size_t i = 0; i < s->n_kelems; i++) {
                const KElem *k = &s->kelems[i];
                bool end = k->flags & NFT_SET_ELEM_INTERVAL_END;

                if (interval && open) {
                        memcpy(cur.hi, k->key, s->key_len);
                        be_decrement(cur.hi, s->key_len);
                        if (greedy_realloc((void **) &s->elems, &s->allocated, s->n_elems + 1, sizeof *s->elems) < 0)
                                return -ENOMEM;
                        s->elems[s->n_elems++] = cur;
                        open = false;
                }
                if (end)
                        continue;
                cur = (NftElem) {};
                memcpy(cur.lo, k->key, s->key_len);
                if (interval) {
                        open = true;
                        continue;
                }
                memcpy(cur.hi, k->key, s->key_len);
                if (greedy_realloc((void **) &s->elems, &s->allocated, s->n_elems + 1, sizeof *s->elems) < 0)
                        return -ENOMEM;
                s->elems[s->n_elems++] = cur;
        }
        if (open) {
                memset(cur.hi, 0xff, s->key_len);
                if (greedy_realloc((void **) &s->elems, &s->allocated, s->n_elems + 1, sizeof *s->elems) < 0)
                        return -ENOMEM;
                s->elems[s->n_elems++] = cur;
        }
        s->checked = true;
        return 0;
}

/* Is k among the set's dumped elements (sorted)? */
static bool kelems_contain(const NftSet *s, const KElem *k) {
        size_t lo = 0, hi = s->n_kelems;
        uint32_t len = s->key_len;

        while (lo < hi) {
                size_t mid = lo + (hi - lo) / 2;
                int c = kelem_compare(k, &s->kelems[mid], &len);

                if (c == 0)
                        return true;
                if (c < 0)
                        hi = mid;
                else
                        lo = mid + 1;
        }
        return false;
}

/* The end element of a range, false if it runs to the largest key. */
static bool range_end(const NftElem *e, uint32_t len, KElem *ret) {
        *ret = (KElem) { .flags = NFT_SET_ELEM_INTERVAL_END };
        memcpy(ret->key, e->hi, len);
        return be_increment(ret->key, len);
}

/* What changes an interval set (have, dumped) into want: ranges both hold
 * stay; the others are deleted and added whole, start and end. Elements
 * are not moved one by one: the kernel refuses an element that falls
 * inside a range it holds (a split), so the old range goes first. */
int interval_diff(const NftSet *want, const NftSet *have, KElem **ret_add, size_t *ret_nadd,
                  KElem **ret_del, size_t *ret_ndel) {
        _cleanup_(freep) KElem *add = NULL, *del = NULL;
        uint32_t len = want->key_len;
        size_t i = 0, j = 0, na = 0, nd = 0;
        KElem zero = { .flags = NFT_SET_ELEM_INTERVAL_END }, k;
        bool want_zero = want->n_elems > 0 && !is_zero(want->elems[0].lo, len);
        bool have_zero = kelems_contain(have, &zero);

        add = calloc(2 * want->n_elems + 1, sizeof *add);
        del = calloc(2 * have->n_elems + 1, sizeof *del);
        if (!add || !del)
                return -ENOMEM;
        if (want_zero && !have_zero)
                add[na++] = zero;
        if (!want_zero && have_zero)
                del[nd++] = zero;

        while (i < want->n_elems || j < have->n_elems) {
                const NftElem *w = i < want->n_elems ? &want->elems[i] : NULL;
                const NftElem *h = j < have->n_elems ? &have->elems[j] : NULL;
                int c = !w ? 1 : !h ? -1 : memcmp(w->lo, h->lo, len);

                if (c == 0)
                        c = memcmp(w->hi, h->hi, len);
                if (c == 0) {
                        i++, j++;
                        continue;
                }
                if (c < 0) {
                        add[na] = (KElem) {};
                        memcpy(add[na++].key, w->lo, len);
                        if (range_end(w, len, &k))
                                add[na++] = k;
                        i++;
                } else {
                        del[nd] = (KElem) {};
                        memcpy(del[nd++].key, h->lo, len);
                        if (range_end(h, len, &k) && kelems_contain(have, &k))
                                del[nd++] = k;
                        j++;
                }
        }
        qsort_r(add, na, sizeof *add, kelem_compare, &len);
        qsort_r(del, nd, sizeof *del, kelem_compare, &len);
        *ret_add = TAKE_PTR(add);
        *ret_nadd = na;
        *ret_del = TAKE_PTR(del);
        *ret_ndel = nd;
        return 0;
}
