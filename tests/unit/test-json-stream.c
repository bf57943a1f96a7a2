/* SPDX-License-Identifier: LGPL-2.1-or-later */

/* JsonStream against bytes captured from a real ovsdb-server: however the
 * stream is cut into reads, the same sequence of values must come out. */

#include <errno.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>

#include <json-c/json.h>

#include "macro.h"
#include "ovsdb-client.h"

#include "data/ovsdb/captures.h"

#define ASSERT(expr)                                                            \
        do {                                                                    \
                if (!(expr)) {                                                  \
                        fprintf(stderr, "%s:%d: %s: assertion failed: %s\n",   \
                                __FILE__, __LINE__, __func__, #expr);           \
                        abort();                                                \
                }                                                               \
        } while (0)

#define ASSERT_EQ_INT(a, b)                                                     \
        do {                                                                    \
                long long _a = (a), _b = (b);                                   \
                if (_a != _b) {                                                 \
                        fprintf(stderr, "%s:%d: %s: %s == %lld, expected %lld\n", \
                                __FILE__, __LINE__, __func__, #a, _a, _b);      \
                        abort();                                                \
                }                                                               \
        } while (0)

#define MAX_VALUES 64

/* The values parsed from one stream, and how parsing ended. */
typedef struct Values {
        json_object *v[MAX_VALUES];     /* parsed values, in order */
        size_t n;                       /* number of entries in v */
        int end;                        /* 0: needs more input, <0: error */
} Values;

static void values_clear(Values *vs) {
        for (size_t i = 0; i < vs->n; i++)
                json_object_put(vs->v[i]);
        vs->n = 0;
        vs->end = 0;
}

/* Take every complete value out of s. */
static void drain(JsonStream *s, Values *vs) {
        for (;;) {
                json_object *v = NULL;
                int r;

                r = json_stream_next(s, &v);
                if (r <= 0) {
                        vs->end = r;
                        return;
                }
                ASSERT(vs->n < MAX_VALUES);
                vs->v[vs->n++] = v;
        }
}

/* Feed data cut at the given offsets (ascending, within [0, len]). */
static void parse_cut(const char *data, size_t len, const size_t *cuts, size_t n_cuts, Values *ret) {
        JsonStream *s = json_stream_new();
        size_t prev = 0;

        ASSERT(s);
        values_clear(ret);

        for (size_t i = 0; i <= n_cuts; i++) {
                size_t next = i < n_cuts ? cuts[i] : len;
                int r;

                ASSERT(next >= prev && next <= len);
                r = json_stream_feed(s, data + prev, next - prev);
                if (r < 0) {
                        /* Only after the stream already reported the error. */
                        ASSERT_EQ_INT(r, -EBADMSG);
                        ASSERT_EQ_INT(ret->end, -EBADMSG);
                        break;
                }
                prev = next;
                drain(s, ret);
        }

        json_stream_free(s);
}

static void assert_same(const Values *a, const Values *b, const char *what, size_t k) {
        if (a->n != b->n || a->end != b->end) {
                fprintf(stderr, "%s (cut %zu): %zu values/end %d, expected %zu/%d\n",
                        what, k, a->n, a->end, b->n, b->end);
                abort();
        }
        for (size_t i = 0; i < a->n; i++)
                if (!json_object_equal(a->v[i], b->v[i])) {
                        fprintf(stderr, "%s (cut %zu): value %zu differs: %s\n", what, k, i,
                                json_object_to_json_string(a->v[i]));
                        abort();
                }
}

/* Cut at every single offset (and, if pairs, also at every two offsets one
 * apart) and feed one byte at a time: all must equal the reference. */
static void check_all_cuts(const char *data, size_t len, const Values *expected, const char *what,
                           bool pairs) {
        Values got = {};
        size_t *cuts;

        for (size_t k = 0; k <= len; k++) {
                size_t two[2] = { k, MIN(k + 1, len) };

                parse_cut(data, len, &k, 1, &got);
                assert_same(&got, expected, what, k);
                if (!pairs)
                        continue;
                parse_cut(data, len, two, 2, &got);
                assert_same(&got, expected, what, k);
        }

        cuts = calloc(len + 1, sizeof(size_t));
        ASSERT(cuts);
        for (size_t k = 0; k < len; k++)
                cuts[k] = k + 1;
        parse_cut(data, len, cuts, len, &got);
        assert_same(&got, expected, what, SIZE_MAX);
        free(cuts);

        values_clear(&got);
}

/* All captures back to back, as one connection would deliver them, with
 * an optional separator between them. */
static char *concat_captures(const char *sep, size_t *ret_len) {
        size_t len = 0, l = strlen(sep);
        char *buf, *p;

        for (size_t i = 0; i < ELEMENTSOF(captures); i++)
                len += captures[i].size + l;

        p = buf = malloc(len + 1);
        ASSERT(buf);
        for (size_t i = 0; i < ELEMENTSOF(captures); i++) {
                memcpy(p, captures[i].data, captures[i].size);
                p += captures[i].size;
                memcpy(p, sep, l);
                p += l;
        }
        *p = 0;
        *ret_len = len;
        return buf;
}

/* Reference values, built without JsonStream: every capture is one value
 * except "update", which holds three notifications. */
static void build_reference(Values *ret) {
        static const char *update_methods[] = { "update2", "update3", "update" };

        values_clear(ret);
        for (size_t i = 0; i < ELEMENTSOF(captures); i++) {
                if (!streq(captures[i].name, "update")) {
                        json_object *v = json_tokener_parse(captures[i].data);

                        ASSERT(v);
                        ret->v[ret->n++] = v;
                        continue;
                }

                /* Parse the concatenation with a separate tokener, one value
                 * at a time by hand, and check the methods. */
                json_tokener *tok = json_tokener_new();
                const char *p = captures[i].data;
                size_t left = captures[i].size;

                ASSERT(tok);
                for (size_t m = 0; m < ELEMENTSOF(update_methods); m++) {
                        json_object *v = json_tokener_parse_ex(tok, p, (int) left);
                        size_t used = json_tokener_get_parse_end(tok);

                        ASSERT(v);
                        ASSERT(streq(json_object_get_string(json_object_object_get(v, "method")),
                                     update_methods[m]));
                        ret->v[ret->n++] = v;
                        p += used;
                        left -= used;
                }
                ASSERT_EQ_INT(left, 0);
                json_tokener_free(tok);
        }
}

static void test_captures(void) {
        Values expected = {}, got = {};
        size_t len;
        char *all;

        build_reference(&expected);
        ASSERT_EQ_INT(expected.n, ELEMENTSOF(captures) + 2);

        all = concat_captures("", &len);
        parse_cut(all, len, NULL, 0, &got);
        assert_same(&got, &expected, "whole stream", 0);
        check_all_cuts(all, len, &expected, "captures", true);
        free(all);

        /* Whitespace and newlines between values are tolerated. */
        all = concat_captures(" \n\r\t\n", &len);
        check_all_cuts(all, len, &expected, "captures with whitespace", false);
        free(all);

        values_clear(&expected);
        values_clear(&got);
}

/* Spot checks that the reference itself decoded the hazards right. */
static void test_decoded_content(void) {
        JsonStream *s = json_stream_new();
        json_object *v = NULL, *rows, *ids, *pair;

        ASSERT(s);
        ASSERT_EQ_INT(json_stream_feed(s, capture_select, strlen(capture_select)), 0);
        ASSERT_EQ_INT(json_stream_next(s, &v), 1);
        ASSERT_EQ_INT(json_stream_next(s, &(json_object *) { NULL }), 0);

        ASSERT(json_object_get_int64(json_object_object_get(v, "id")) == 987654);
        ASSERT(json_object_object_get_ex(v, "error", &rows) && !rows);
        rows = json_object_array_get_idx(json_object_object_get(v, "result"), 0);
        rows = json_object_object_get(rows, "rows");
        ids = json_object_object_get(json_object_array_get_idx(rows, 0), "external_ids");
        pair = json_object_array_get_idx(json_object_array_get_idx(ids, 1), 0);
        ASSERT(streq(json_object_get_string(json_object_array_get_idx(pair, 0)), "k{\"}]"));
        ASSERT(streq(json_object_get_string(json_object_array_get_idx(pair, 1)),
                     "va\"l}] [{ \\ \xc3\xbc\xe2\x82\xac\xf0\x9f\x98\x80 /\t\x01"));

        json_object_put(v);
        json_stream_free(s);
}

static void test_values_and_whitespace(void) {
        static const char input[] = "  [1,[2,[3]]] \n\"a\\\"}\" {\"\\u00e9\":[]}\r\nnull true [] ";
        JsonStream *s = json_stream_new();
        json_object *v = NULL;

        ASSERT(s);
        ASSERT_EQ_INT(json_stream_next(s, &v), 0);
        ASSERT_EQ_INT(json_stream_feed(s, NULL, 0), 0);
        ASSERT_EQ_INT(json_stream_feed(s, input, strlen(input)), 0);

        ASSERT_EQ_INT(json_stream_next(s, &v), 1);
        ASSERT(streq(json_object_to_json_string_ext(v, JSON_C_TO_STRING_PLAIN), "[1,[2,[3]]]"));
        json_object_put(v);

        ASSERT_EQ_INT(json_stream_next(s, &v), 1);
        ASSERT(streq(json_object_get_string(v), "a\"}"));
        json_object_put(v);

        ASSERT_EQ_INT(json_stream_next(s, &v), 1);
        ASSERT(json_object_object_get_ex(v, "\xc3\xa9", NULL));
        json_object_put(v);

        v = (json_object *) 1;          /* "null" must be returned as NULL */
        ASSERT_EQ_INT(json_stream_next(s, &v), 1);
        ASSERT(!v);

        ASSERT_EQ_INT(json_stream_next(s, &v), 1);
        ASSERT(json_object_get_boolean(v));
        json_object_put(v);

        ASSERT_EQ_INT(json_stream_next(s, &v), 1);
        ASSERT_EQ_INT(json_object_array_length(v), 0);
        json_object_put(v);

        ASSERT_EQ_INT(json_stream_next(s, &v), 0);
        json_stream_free(s);
}

/* Each must fail with -EBADMSG, however it is cut, after delivering the
 * given number of good values first; the error then sticks. */
static void test_malformed(void) {
        static const struct {
                const char *input;
                size_t good;
        } cases[] = {
                { "{\"a\":1}}", 1 },
                { "{\"a\" 1}", 0 },
                { "[1,]", 0 },
                { "{]", 0 },
                { "[\"\\x\"]", 0 },
                { "/* comment */ {}", 0 },
                { "{} nux", 1 },
                { "[\"\xff\"]", 0 },
                { "[\"\xc3\x28\"]", 0 },
                { "{\"id\":1}\x01{}", 1 },
                { "]", 0 },
                /* malformed numbers, whichever read the sign arrives in */
                { "[1-]", 0 },
                { "[1.5e3-2] {}", 0 },
                { "{\"a\":-1--}", 0 },
                /* nested deeper than json-c parses: refused before the end */
                { "{\"a\":[[[[[[[[[[[[[[[[[[[[[[[[[[[[[[[[", 0 },
                /* not JSON, though json-c takes them */
                { "{\"a\":NaN}", 0 },
                { "[1,-Infinity]", 0 },
                { "{} [Infinity]", 1 },
                /* a value, then an invalid byte in the same read */
                { "{}\xff", 1 },
                { "[1]\x88{}", 1 },
                /* overlong form, surrogate, above U+10FFFF, truncated */
                { "[\"\xc0\xaf\"]", 0 },
                { "[\"\xed\xa0\x80\"]", 0 },
                { "[\"\xf4\x90\x80\x80\"]", 0 },
                { "[\"\xe2\x82\"]", 0 },
        };

        for (size_t i = 0; i < ELEMENTSOF(cases); i++) {
                const char *in = cases[i].input;
                size_t len = strlen(in);
                Values got = {};
                json_object *v = NULL;
                JsonStream *s;

                for (size_t k = 0; k <= len; k++) {
                        parse_cut(in, len, &k, 1, &got);
                        if (got.n != cases[i].good || got.end != -EBADMSG) {
                                fprintf(stderr, "malformed case %zu cut %zu: %zu values, end %d\n",
                                        i, k, got.n, got.end);
                                abort();
                        }
                }
                values_clear(&got);

                s = json_stream_new();
                ASSERT(s);
                ASSERT_EQ_INT(json_stream_feed(s, in, len), 0);
                for (size_t g = 0; g < cases[i].good; g++) {
                        ASSERT_EQ_INT(json_stream_next(s, &v), 1);
                        json_object_put(v);
                }
                ASSERT_EQ_INT(json_stream_next(s, &v), -EBADMSG);
                ASSERT_EQ_INT(json_stream_next(s, &v), -EBADMSG);
                ASSERT_EQ_INT(json_stream_feed(s, "{}", 2), -EBADMSG);
                json_stream_free(s);
        }
}

/* A value much larger than any read, delivered in odd-sized pieces. */
static void test_large_value(void) {
        const size_t n = 200000;
        JsonStream *s = json_stream_new();
        json_object *v = NULL;
        char *buf;
        size_t len, off = 0;

        ASSERT(s);
        buf = malloc(n + 64);
        ASSERT(buf);
        len = (size_t) sprintf(buf, "{\"id\":1,\"result\":[\"");
        for (size_t i = 0; i < n; i++)
                buf[len++] = "}{][\xc3\xa9"[i % 6];     /* n % 6 == 2: no split é */
        len += (size_t) sprintf(buf + len, "\"],\"error\":null}{}");

        while (off < len) {
                size_t l = MIN((size_t) 4093, len - off);

                ASSERT_EQ_INT(json_stream_feed(s, buf + off, l), 0);
                off += l;
                if (off < len - 2)
                        ASSERT_EQ_INT(json_stream_next(s, &v), 0);
        }

        ASSERT_EQ_INT(json_stream_next(s, &v), 1);
        ASSERT_EQ_INT(json_object_get_string_len(
                              json_object_array_get_idx(json_object_object_get(v, "result"), 0)), n);
        json_object_put(v);
        ASSERT_EQ_INT(json_stream_next(s, &v), 1);
        json_object_put(v);
        ASSERT_EQ_INT(json_stream_next(s, &v), 0);

        free(buf);
        json_stream_free(s);
}

static void test_invalid_args(void) {
        json_object *v;

        ASSERT_EQ_INT(json_stream_feed(NULL, "x", 1), -EINVAL);
        ASSERT_EQ_INT(json_stream_next(NULL, &v), -EINVAL);
        ASSERT(!json_stream_free(NULL));
}

int main(void) {
        test_captures();
        test_decoded_content();
        test_values_and_whitespace();
        test_malformed();
        test_large_value();
        test_invalid_args();
        printf("test-json-stream: all passed\n");
        return 0;
}
