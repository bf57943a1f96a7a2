/* SPDX-License-Identifier: LGPL-2.1-or-later */
#include <stdarg.h>
#include <stdio.h>

#include "strbuf.h"

void strbuf_done(StrBuf *b) {
        free(b->s);
        *b = (StrBuf) {};
}

static bool reserve(StrBuf *b, size_t n) {
        if (b->error < 0)
                return false;
        if (greedy_realloc((void **) &b->s, &b->allocated, b->len + n + 1, 1) < 0) {
                b->error = -ENOMEM;
                return false;
        }
        return true;
}

void strbuf_append(StrBuf *b, const char *s, size_t n) {
        if (!reserve(b, n))
                return;
        memcpy(b->s + b->len, s, n);
        b->len += n;
        b->s[b->len] = 0;
}

void strbuf_puts(StrBuf *b, const char *s) {
        strbuf_append(b, s, strlen(s));
}

void strbuf_putc(StrBuf *b, char c) {
        strbuf_append(b, &c, 1);
}

void strbuf_printf(StrBuf *b, const char *fmt, ...) {
        va_list ap;
        int n;

        if (!reserve(b, 64))
                return;
        va_start(ap, fmt);
        n = vsnprintf(b->s + b->len, b->allocated - b->len, fmt, ap);
        va_end(ap);
        if (n < 0) {
                b->error = -EINVAL;
                return;
        }
        if ((size_t) n >= b->allocated - b->len) {
                if (!reserve(b, (size_t) n))
                        return;
                va_start(ap, fmt);
                vsnprintf(b->s + b->len, b->allocated - b->len, fmt, ap);
                va_end(ap);
        }
        b->len += (size_t) n;
}

void strbuf_hex64(StrBuf *b, uint64_t v) {
        static const char digits[] = "0123456789abcdef";
        char t[16];

        for (int i = 15; i >= 0; i--, v >>= 4)
                t[i] = digits[v & 0xf];
        strbuf_append(b, t, sizeof t);
}

void strbuf_uint(StrBuf *b, uint64_t v) {
        char t[20];
        int i = sizeof t;

        do
                t[--i] = (char) ('0' + v % 10);
        while ((v /= 10) > 0);
        strbuf_append(b, t + i, sizeof t - (size_t) i);
}

char *strbuf_take(StrBuf *b) {
        char *s;

        if (b->error < 0) {
                strbuf_done(b);
                return NULL;
        }
        s = b->s ? b->s : strdup("");
        *b = (StrBuf) {};
        return s;
}
