/* SPDX-License-Identifier: LGPL-2.1-or-later */
#pragma once

/* A growing string for building text piece by piece (messages, generated text),
 * cheaper than open_memstream for many small strings. An all-zero StrBuf
 * is empty and valid. */

#include <stddef.h>
#include <stdint.h>

#include "macro.h"

typedef struct StrBuf {
        char *s;          /* NUL-terminated when not NULL */
        size_t len;
        size_t allocated;
        int error;        /* first allocation failure, sticky */
} StrBuf;

void strbuf_done(StrBuf *b);
void strbuf_append(StrBuf *b, const char *s, size_t n);
void strbuf_puts(StrBuf *b, const char *s);
void strbuf_putc(StrBuf *b, char c);
void strbuf_printf(StrBuf *b, const char *fmt, ...) _printf_(2, 3);
/* 16 lowercase hex digits, zero-padded (without printf). */
void strbuf_hex64(StrBuf *b, uint64_t v);
/* Decimal (without printf). */
void strbuf_uint(StrBuf *b, uint64_t v);
/* Hands the string to the caller ("" if nothing was added); NULL after an
 * allocation failure. The buffer is empty afterwards. */
char *strbuf_take(StrBuf *b);
