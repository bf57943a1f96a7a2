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
 * buffered, and a small scanner finds where each top-level value ends
 * (nesting outside strings, the end of a string, the delimiter after a
 * number or literal); only then is the value handed to json-c, whole. The
 * bytes json-c sees, and so the values and errors that come out, do not
 * depend on how the stream was cut into reads: json-c's own incremental
 * parsing does (a number split across two reads is not checked as one, so
 * "[1-]" passed as [1]), and its UTF-8 check looked at the byte after a
 * complete value. UTF-8 is checked here, on exactly each value's bytes.
 *
 * A byte that cannot start a value, a literal that cannot become true,
 * false or null, a byte that JSON has nowhere outside strings (json-c
 * would take NaN and Infinity), or nesting deeper than json-c parses fails
 * the stream as soon as it arrives; other errors inside a value are found
 * once the value is complete. */

typedef enum ValueKind {
        VALUE_NONE,             /* between values */
        VALUE_CONTAINER,        /* object or array */
        VALUE_STRING,
        VALUE_NUMBER,
        VALUE_LITERAL,          /* true, false, null */
} ValueKind;

struct JsonStream {
        json_tokener *tok;      /* parses one complete value at a time */
        char *buf;              /* received bytes; [start, end) not returned yet */
        size_t start;           /* offset of the pending value (or of what precedes it) */
        size_t scan;            /* offset of the first byte the scanner has not seen */
        size_t end;             /* offset just past the last received byte */
        size_t allocated;       /* size of buf */
        ValueKind kind;         /* what the value at start is */
        size_t depth;           /* nesting of a container, outside strings */
        bool in_string;         /* inside a string (of the value or within it) */
        bool escape;            /* after a backslash in a string */
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
         * strings); a number or literal is given with the byte after it. */
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

        /* Keep the pending value at the front. */
        if (s->start > 0) {
                memmove(s->buf, s->buf + s->start, s->end - s->start);
                s->end -= s->start;
                s->scan -= s->start;
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

static int stream_fail(JsonStream *s) {
        s->error = -EBADMSG;
        return s->error;
}

/* The complete value of len bytes at start: parses it (a number or literal
 * with the byte after it, which ends it) and moves past it. */
static int take_value(JsonStream *s, size_t len, json_object **ret) {
        bool scalar = s->kind == VALUE_NUMBER || s->kind == VALUE_LITERAL;
        json_object *v;

        if (len > INT_MAX - 1 || !utf8_valid(s->buf + s->start, len))
                return stream_fail(s);
        json_tokener_reset(s->tok);
        v = json_tokener_parse_ex(s->tok, s->buf + s->start, (int) (len + scalar));
        /* json-c may take the whitespace after a number or literal too. */
        if (json_tokener_get_error(s->tok) != json_tokener_success ||
            (size_t) json_tokener_get_parse_end(s->tok) < len ||
            (size_t) json_tokener_get_parse_end(s->tok) > len + scalar) {
                json_object_put(v);
                return stream_fail(s);
        }
        s->start = s->scan = s->start + len;
        s->kind = VALUE_NONE;
        *ret = v;       /* NULL for the JSON text "null" */
        return 1;
}

/* The byte c at the start of a value: what the value is. */
static ValueKind value_kind(char c) {
        if (c == '{' || c == '[')
                return VALUE_CONTAINER;
        if (c == '"')
                return VALUE_STRING;
        if (c == '-' || (c >= '0' && c <= '9'))
                return VALUE_NUMBER;
        if (c == 't' || c == 'f' || c == 'n')
                return VALUE_LITERAL;
        return VALUE_NONE;
}

/* Whether the literal at start, len bytes so far, can go on with c. */
static bool literal_continues(const JsonStream *s, size_t len, char c) {
        const char *word = s->buf[s->start] == 't' ? "true" : s->buf[s->start] == 'f' ? "false" : "null";

        return len < strlen(word) && word[len] == c;
}

int json_stream_next(JsonStream *s, json_object **ret) {
        if (!s || !ret)
                return -EINVAL;
        if (s->error < 0)
                return s->error;

        for (; s->scan < s->end; s->scan++) {
                char c = s->buf[s->scan];
                size_t len = s->scan - s->start;

                switch (s->kind) {
                case VALUE_NONE:
                        if (strchr(" \t\r\n", c) && c != 0) {
                                s->start = s->scan + 1;
                                break;
                        }
                        s->kind = value_kind(c);
                        if (s->kind == VALUE_NONE)
                                return stream_fail(s);
                        s->start = s->scan;
                        s->depth = s->kind == VALUE_CONTAINER;
                        s->in_string = s->kind == VALUE_STRING;
                        s->escape = false;
                        break;
                case VALUE_NUMBER:
                        if (strchr("0123456789+-.eE", c) && c != 0)
                                break;
                        return take_value(s, len, ret);
                case VALUE_LITERAL:
                        if (c < 'a' || c > 'z')
                                return take_value(s, len, ret);
                        if (!literal_continues(s, len, c))
                                return stream_fail(s);
                        break;
                case VALUE_CONTAINER:
                case VALUE_STRING:
                        if (s->in_string) {
                                if (s->escape)
                                        s->escape = false;
                                else if (c == '\\')
                                        s->escape = true;
                                else if (c == '"') {
                                        s->in_string = false;
                                        if (s->kind == VALUE_STRING)
                                                return take_value(s, len + 1, ret);
                                }
                        } else if (!strchr(" \t\r\n{}[]:,\"-+.0123456789eEtrufalsn", c) || c == 0)
                                /* json-c would take NaN and Infinity, which are not JSON */
                                return stream_fail(s);
                        else if (c == '"')
                                s->in_string = true;
                        else if ((c == '{' || c == '[') && ++s->depth > JSON_TOKENER_DEFAULT_DEPTH)
                                /* json-c would refuse it once complete: do not wait for that */
                                return stream_fail(s);
                        else if ((c == '}' || c == ']') && --s->depth == 0)
                                return take_value(s, len + 1, ret);
                        break;
                }
        }
        return 0;
}
