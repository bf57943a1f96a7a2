/* SPDX-License-Identifier: LGPL-2.1-or-later */

#include <errno.h>
#include <limits.h>
#include <stdint.h>
#include <stdlib.h>
#include <string.h>

#include <json-c/json.h>

#include "macro.h"
#include "ovsdb-client.h"

/* Splits a byte stream of back-to-back JSON values. Received bytes are
 * buffered and handed to one json_tokener, which keeps the state of a
 * partially parsed value between calls; after each complete value the
 * bytes the tokener did not consume are fed again on the next call.
 *
 * UTF-8 is checked here, on the bytes the tokener consumed: json-c's own
 * check (JSON_TOKENER_VALIDATE_UTF8) also looks at the byte after a
 * complete value, so a value followed by an invalid byte in the same read
 * was lost, while the same bytes in two reads gave the value. */
struct JsonStream {
        json_tokener *tok;      /* incremental parser, state spans feeds */
        char *buf;              /* received bytes; [start, end) not yet parsed */
        size_t start;           /* offset of the first unparsed byte */
        size_t end;             /* offset just past the last received byte */
        size_t allocated;       /* size of buf */
        int error;              /* sticky -EBADMSG once input was malformed */
};

JsonStream *json_stream_new(void) {
        _cleanup_(freep) JsonStream *s = NULL;

        s = calloc(1, sizeof(JsonStream));
        if (!s)
                return NULL;

        s->tok = json_tokener_new();
        if (!s->tok)
                return NULL;

        /* json-c's strict mode (no comments, trailing commas or single-quoted
         * strings) and several values per input. */
        json_tokener_set_flags(s->tok,
                               JSON_TOKENER_STRICT |
                               JSON_TOKENER_ALLOW_TRAILING_CHARS);

        return TAKE_PTR(s);
}

JsonStream *json_stream_free(JsonStream *s) {
        if (!s)
                return NULL;

        json_tokener_free(s->tok);
        free(s->buf);
        free(s);
        return NULL;
}

int json_stream_feed(JsonStream *s, const char *data, size_t len) {
        if (!s || (!data && len > 0))
                return -EINVAL;
        if (s->error < 0)
                return s->error;
        if (len == 0)
                return 0;

        /* Keep the unparsed tail at the front; it is short in practice
         * because json_stream_next() hands everything to the tokener. */
        if (s->start > 0) {
                memmove(s->buf, s->buf + s->start, s->end - s->start);
                s->end -= s->start;
                s->start = 0;
        }

        if (len > SIZE_MAX - s->end)
                return -ENOBUFS;

        if (s->end + len > s->allocated) {
                size_t n = s->allocated > SIZE_MAX / 2 ? SIZE_MAX : s->allocated * 2;
                char *p;

                n = MAX(n, MAX(s->end + len, (size_t) 4096));
                p = realloc(s->buf, n);
                if (!p)
                        return -ENOMEM;
                s->buf = p;
                s->allocated = n;
        }

        memcpy(s->buf + s->end, data, len);
        s->end += len;
        return 0;
}

/* Length of the prefix of p[0, n) that does not end inside a multi-byte
 * UTF-8 sequence. json-c forgets a partially validated sequence between
 * json_tokener_parse_ex() calls and would reject a character split across
 * two reads, so an incomplete trailing sequence is held back until the
 * rest arrives. Invalid bytes are passed through for the tokener to
 * reject. */
static size_t utf8_complete_prefix(const char *p, size_t n) {
        for (size_t k = 1; k <= MIN(n, (size_t) 4); k++) {
                unsigned char c = (unsigned char) p[n - k];
                size_t need;

                if ((c & 0xC0) == 0x80)
                        continue;       /* continuation byte: look further back */

                if ((c & 0xE0) == 0xC0)
                        need = 2;
                else if ((c & 0xF0) == 0xE0)
                        need = 3;
                else if ((c & 0xF8) == 0xF0)
                        need = 4;
                else
                        need = 1;       /* ASCII or invalid lead byte */

                return need > k ? n - k : n;
        }

        return n;
}

/* Whether p[0, n) is UTF-8 (RFC 3629: no overlong forms, no surrogates,
 * nothing above U+10FFFF). */
static bool utf8_valid(const char *p, size_t n) {
        const unsigned char *c = (const unsigned char *) p, *end = c + n;

        while (c < end) {
                unsigned char lo = 0x80, hi = 0xBF;
                size_t k;

                if (c[0] < 0x80) {
                        c++;
                        continue;
                }
                if (c[0] >= 0xC2 && c[0] <= 0xDF)
                        k = 1;
                else if (c[0] >= 0xE0 && c[0] <= 0xEF) {
                        k = 2;
                        lo = c[0] == 0xE0 ? 0xA0 : lo;
                        hi = c[0] == 0xED ? 0x9F : hi;
                } else if (c[0] >= 0xF0 && c[0] <= 0xF4) {
                        k = 3;
                        lo = c[0] == 0xF0 ? 0x90 : lo;
                        hi = c[0] == 0xF4 ? 0x8F : hi;
                } else
                        return false;
                if ((size_t) (end - c) <= k || c[1] < lo || c[1] > hi)
                        return false;
                for (size_t i = 2; i <= k; i++)
                        if ((c[i] & 0xC0) != 0x80)
                                return false;
                c += k + 1;
        }
        return true;
}

int json_stream_next(JsonStream *s, json_object **ret) {
        if (!s || !ret)
                return -EINVAL;
        if (s->error < 0)
                return s->error;

        for (;;) {
                enum json_tokener_error e;
                json_object *v;
                size_t n, used;

                /* Nothing buffered: buf may still be NULL before the first feed. */
                if (s->start == s->end)
                        return 0;

                n = MIN(s->end - s->start, (size_t) INT_MAX);
                n = utf8_complete_prefix(s->buf + s->start, n);
                if (n == 0)
                        return 0;

                v = json_tokener_parse_ex(s->tok, s->buf + s->start, (int) n);
                e = json_tokener_get_error(s->tok);
                /* continue: everything was consumed into the pending value;
                 * success: a complete value, the bytes after it stay for the
                 * next call. */
                used = e == json_tokener_continue ? n : MIN((size_t) json_tokener_get_parse_end(s->tok), n);
                if ((e != json_tokener_continue && e != json_tokener_success) ||
                    !utf8_valid(s->buf + s->start, used)) {
                        json_object_put(v);
                        s->error = -EBADMSG;
                        return s->error;
                }
                s->start += used;
                if (e == json_tokener_continue)
                        continue;

                /* It may legitimately be NULL: the JSON text "null". */
                *ret = v;
                return 1;
        }
}
