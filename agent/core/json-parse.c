/* SPDX-License-Identifier: LGPL-2.1-or-later */
/* Strict JSON (RFC 8259) in one pass over the text. The syntax check, keys
 * given twice and numbers json-c cannot hold are found while the json-c
 * objects are built. json-c's own parser accepts comments, single quotes,
 * trailing commas, unquoted words and more, keeps only the last of two
 * equal keys and clamps integers it cannot hold, so it is not used for
 * documents that come from outside. */
#include <inttypes.h>
#include <limits.h>
#include <math.h>
#include <stdarg.h>
#include <stdio.h>
#include <strings.h>

#include "json-util.h"

/* Keys given twice and numbers out of range reported before giving up. */
#define MAX_VALUE_ERRORS 50

typedef struct Frame {
        json_object *container;         /* borrowed: its parent (or the root) owns it */
        size_t start;                   /* offset of its '{' or '[' */
        size_t index;                   /* array: the current element's index */
        size_t key_start, key_len;      /* object: the current member's key as written */
        bool array;
        bool in_member;                 /* object: a key was read; array: an element began */
} Frame;

typedef struct Parser {
        const char *buf;
        size_t len;
        size_t pos;
        const char *origin;
        size_t line;                    /* the line pos is on, from 1 ... */
        size_t line_start;              /* ... and the offset it starts at */
        Frame stack[JSON_MAX_DEPTH];
        size_t depth;
        char *key;                      /* the current key, decoded, NUL-terminated */
        size_t key_allocated;
        char *text;                     /* a decoded string value or a number's text */
        size_t text_allocated;
        size_t n_value_errors;
        Diag *diag;
} Parser;

static void parser_done(Parser *p) {
        free(p->key);
        free(p->text);
}

/* Bytes that stand for themselves in a string: printable ASCII but '"' and
 * '\\'. Everything else needs a closer look. */
static const bool plain[256] = {
        [0x20 ... '"' - 1] = true,
        ['"' + 1 ... '\\' - 1] = true,
        ['\\' + 1 ... 0x7f] = true,
};

static bool is_digit(char c) {
        return c >= '0' && c <= '9';
}

static bool is_word_char(char c) {
        return is_digit(c) || (c >= 'a' && c <= 'z') || (c >= 'A' && c <= 'Z') || c == '_';
}

/* The four hex digits at s (n bytes available), or -1. */
static int hex4(const char *s, size_t n) {
        int v = 0;

        if (n < 4)
                return -1;
        for (size_t i = 0; i < 4; i++) {
                int h = unhexchar(s[i]);

                if (h < 0)
                        return -1;
                v = v << 4 | h;
        }
        return v;
}

/* Length of the well-formed UTF-8 sequence at s (RFC 3629: no overlong
 * forms, no surrogates, at most U+10FFFF), or 0. */
static size_t utf8_length(const unsigned char *s, size_t n) {
        unsigned char lo = 0x80, hi = 0xbf;
        size_t len;

        if (s[0] >= 0xc2 && s[0] <= 0xdf)
                len = 2;
        else if (s[0] >= 0xe0 && s[0] <= 0xef) {
                len = 3;
                if (s[0] == 0xe0)
                        lo = 0xa0;
                else if (s[0] == 0xed)
                        hi = 0x9f;
        } else if (s[0] >= 0xf0 && s[0] <= 0xf4) {
                len = 4;
                if (s[0] == 0xf0)
                        lo = 0x90;
                else if (s[0] == 0xf4)
                        hi = 0x8f;
        } else
                return 0;
        if (n < len || s[1] < lo || s[1] > hi)
                return 0;
        for (size_t i = 2; i < len; i++)
                if (s[i] < 0x80 || s[i] > 0xbf)
                        return 0;
        return len;
}

static size_t utf8_encode(uint32_t cp, char *out) {
        if (cp < 0x80) {
                out[0] = (char) cp;
                return 1;
        }
        if (cp < 0x800) {
                out[0] = (char) (0xc0 | cp >> 6);
                out[1] = (char) (0x80 | (cp & 0x3f));
                return 2;
        }
        if (cp < 0x10000) {
                out[0] = (char) (0xe0 | cp >> 12);
                out[1] = (char) (0x80 | (cp >> 6 & 0x3f));
                out[2] = (char) (0x80 | (cp & 0x3f));
                return 3;
        }
        out[0] = (char) (0xf0 | cp >> 18);
        out[1] = (char) (0x80 | (cp >> 12 & 0x3f));
        out[2] = (char) (0x80 | (cp >> 6 & 0x3f));
        out[3] = (char) (0x80 | (cp & 0x3f));
        return 4;
}

/* Decodes the string body raw (n bytes, escapes included) into out, which
 * has room for n bytes: no escape is shorter than what it stands for.
 * Returns the decoded length. A body the parser checked decodes exactly;
 * one it did not (find_member reads text that need not be JSON) stays
 * within raw and out: an escape cut short or not hexadecimal is copied as
 * it is written. */
static size_t decode_string(const char *raw, size_t n, char *out) {
        static const char simple[128] = {
                ['"'] = '"', ['\\'] = '\\', ['/'] = '/', ['b'] = '\b',
                ['f'] = '\f', ['n'] = '\n', ['r'] = '\r', ['t'] = '\t',
        };
        size_t o = 0;

        for (size_t i = 0; i < n; ) {
                int cp, lo;

                if (raw[i] != '\\' || i + 1 >= n) {
                        out[o++] = raw[i++];
                        continue;
                }
                if (raw[i + 1] != 'u') {
                        out[o++] = simple[(unsigned char) raw[i + 1] & 0x7f];
                        i += 2;
                        continue;
                }
                cp = hex4(raw + i + 2, n - i - 2);
                if (cp < 0) {
                        out[o++] = raw[i++];
                        continue;
                }
                i += 6;
                if (cp >= 0xd800 && cp <= 0xdbff && i + 1 < n && raw[i] == '\\' && raw[i + 1] == 'u' &&
                    (lo = hex4(raw + i + 2, n - i - 2)) >= 0xdc00 && lo <= 0xdfff) {
                        cp = 0x10000 + ((cp - 0xd800) << 10) + (lo - 0xdc00);
                        i += 6;
                }
                o += utf8_encode((uint32_t) cp, out + o);
        }
        return o;
}

/* ---- where: line, column, JSON path -------------------------------------- */

/* Line and column (in characters) of offset. */
static void position(const Parser *p, size_t offset, unsigned *ret_line, unsigned *ret_col) {
        size_t line = 1, from = 0, col = 1;

        if (offset >= p->line_start) {
                line = p->line;
                from = p->line_start;
        }
        for (size_t i = from; i < offset && i < p->len; i++)
                if (p->buf[i] == '\n') {
                        line++;
                        from = i + 1;
                }
        for (size_t i = from; i < offset && i < p->len; i++)
                if (((unsigned char) p->buf[i] & 0xc0) != 0x80)
                        col++;
        *ret_line = (unsigned) MIN(line, (size_t) UINT_MAX);
        *ret_col = (unsigned) MIN(col, (size_t) UINT_MAX);
}

static char *frame_key(const Parser *p, const Frame *f) {
        char *k = malloc(f->key_len + 1);

        if (!k)
                return NULL;
        k[decode_string(p->buf + f->key_start, f->key_len, k)] = 0;
        return k;
}

/* The JSON path of what is being read; with container, of the innermost
 * object or array instead of its current member. */
static char *parser_path(const Parser *p, bool container) {
        _cleanup_(freep) char *path = strdup("");
        size_t depth = p->depth - (container && p->depth > 0);

        for (size_t i = 0; path && i < depth; i++) {
                const Frame *f = &p->stack[i];
                char *next;

                if (!f->in_member)
                        break;
                if (f->array)
                        next = json_path_index(path, f->index);
                else {
                        _cleanup_(freep) char *key = frame_key(p, f);

                        next = key ? json_path_key(path, key) : NULL;
                }
                free(path);
                path = next;
        }
        return TAKE_PTR(path);
}

/* Records a syntax error at offset; returns -EBADMSG. */
_printf_(4, 5)
static int syntax_error(const Parser *p, size_t offset, bool container, const char *fmt, ...) {
        _cleanup_(freep) char *path = parser_path(p, container), *what = NULL;
        unsigned line, col;
        va_list ap;
        int r;

        position(p, offset, &line, &col);
        va_start(ap, fmt);
        r = vasprintf(&what, fmt, ap);
        va_end(ap);
        if (r < 0)
                return -ENOMEM;
        diag_error(p->diag, path ?: "", "%s:%u:%u: invalid JSON: %s", p->origin, line, col, what);
        return -EBADMSG;
}

/* Records an error in a well-formed value (the text goes on to be read, so
 * that every one is reported); returns -EINVAL only when there are too
 * many to go on. */
_printf_(2, 3)
static int value_error(Parser *p, const char *fmt, ...) {
        _cleanup_(freep) char *path = parser_path(p, false), *what = NULL;
        va_list ap;
        int r;

        va_start(ap, fmt);
        r = vasprintf(&what, fmt, ap);
        va_end(ap);
        if (r < 0)
                return -ENOMEM;
        diag_error(p->diag, path ?: "", "%s", what);
        if (++p->n_value_errors < MAX_VALUE_ERRORS)
                return 0;
        diag_error(p->diag, "", "%s: too many errors, stopping here", p->origin);
        return -EINVAL;
}

/* What was found instead, for "expected ..., found ...". */
static const char *found(const Parser *p, size_t offset, char buf[static 16]) {
        unsigned char c;

        if (offset >= p->len)
                return "the end of the text";
        c = (unsigned char) p->buf[offset];
        if (c > 0x20 && c < 0x7f)
                snprintf(buf, 16, "'%c'", c);
        else
                snprintf(buf, 16, "byte 0x%02X", c);
        return buf;
}

/* ---- the tolerant walker: finding a key in text already read -------------- */

static size_t skip_ws_only(const char *b, size_t n, size_t i) {
        while (i < n && (b[i] == ' ' || b[i] == '\t' || b[i] == '\n' || b[i] == '\r'))
                i++;
        return i;
}

/* The offset of the closing quote of the string that opens at i, or n. */
static size_t string_end(const char *b, size_t n, size_t i) {
        for (i++; i < n && b[i] != '"'; i++)
                if (b[i] == '\\')
                        i++;
        return MIN(i, n);
}

/* The offset after the value at i (which need not be well-formed). */
static size_t skip_value(const char *b, size_t n, size_t i) {
        size_t depth = 0;

        for (; i < n; i++) {
                char c = b[i];

                if (c == '"')
                        i = string_end(b, n, i);
                else if (c == '{' || c == '[')
                        depth++;
                else if (c == '}' || c == ']') {
                        if (depth == 0)
                                return i;
                        depth--;
                } else if (depth == 0 && (c == ',' || c == ' ' || c == '\t' || c == '\n' || c == '\r'))
                        return i;
                if (depth == 0 && (c == '"' || c == '}' || c == ']'))
                        return i + 1;
        }
        return n;
}

/* The offset of the opening quote of the first key equal to key (klen
 * bytes) in the object whose '{' is at start, or SIZE_MAX. Stops quietly
 * where the text is not JSON. */
static size_t find_member(const char *b, size_t n, size_t start, const char *key, size_t klen) {
        for (size_t i = start + 1; ; ) {
                size_t end;

                i = skip_ws_only(b, n, i);
                if (i >= n || b[i] != '"')
                        return SIZE_MAX;
                end = string_end(b, n, i);
                if (end >= n)
                        return SIZE_MAX;
                if (end - i - 1 >= klen) {
                        _cleanup_(freep) char *k = malloc(end - i);

                        if (k && decode_string(b + i + 1, end - i - 1, k) == klen && memcmp(k, key, klen) == 0)
                                return i;
                }
                i = skip_ws_only(b, n, end + 1);
                if (i >= n || b[i] != ':')
                        return SIZE_MAX;
                i = skip_value(b, n, skip_ws_only(b, n, i + 1));
                i = skip_ws_only(b, n, i);
                if (i >= n || b[i] != ',')
                        return SIZE_MAX;
                i++;
        }
}

int json_text_has_top_level_key(const char *buf, size_t len, const char *key) {
        size_t i = skip_ws_only(buf, len, 0);

        if (i >= len || buf[i] != '{')
                return -1;
        return find_member(buf, len, i, key, strlen(key)) != SIZE_MAX;
}

/* ---- the parser ------------------------------------------------------------ */

static void skip_ws(Parser *p) {
        const char *b = p->buf;
        size_t i = p->pos;

        for (; i < p->len; i++) {
                char c = b[i];

                if (c == ' ' || c == '\t' || c == '\r')
                        continue;
                if (c != '\n')
                        break;
                p->line++;
                p->line_start = i + 1;
        }
        p->pos = i;
}

/* Checks the escape at i ('\\'); returns its length. */
static int check_escape(const Parser *p, size_t i) {
        const char *b = p->buf;
        size_t n = p->len;
        int cp, low;

        if (i + 1 >= n)
                return syntax_error(p, i, false, "the text ends inside a string");
        if (b[i + 1] && strchr("\"\\/bfnrt", b[i + 1]))
                return 2;
        if (b[i + 1] != 'u') {
                unsigned char c = (unsigned char) b[i + 1];

                if (c > 0x20 && c < 0x7f)
                        return syntax_error(p, i, false, "\\%c is not an escape JSON knows: use \\\" \\\\ \\/ \\b \\f \\n \\r \\t or \\uXXXX", c);
                return syntax_error(p, i, false, "a '\\' before byte 0x%02X: JSON strings write a backslash as \\\\", c);
        }
        cp = hex4(b + i + 2, n - i - 2);
        if (cp < 0)
                return syntax_error(p, i, false, "\\u must be followed by four hex digits");
        if (cp >= 0xdc00 && cp <= 0xdfff)
                return syntax_error(p, i, false, "\\u%04X is the second half of a UTF-16 surrogate pair, without the first", (unsigned) cp);
        if (cp < 0xd800 || cp > 0xdbff)
                return 6;
        low = i + 12 <= n && b[i + 6] == '\\' && b[i + 7] == 'u' ? hex4(b + i + 8, 4) : -1;
        if (low < 0xdc00 || low > 0xdfff)
                return syntax_error(p, i, false, "\\u%04X is the first half of a UTF-16 surrogate pair: its second half (\\uDC00..\\uDFFF) must follow",
                                    (unsigned) cp);
        return 12;
}

/* Checks the string whose '"' is at p->pos: *ret_end is the offset of its
 * closing quote, *ret_escaped whether it has escapes. */
static int check_string(const Parser *p, size_t *ret_end, bool *ret_escaped) {
        const unsigned char *b = (const unsigned char *) p->buf;
        size_t i = p->pos + 1, n = p->len;
        bool escaped = false;

        for (;;) {
                size_t k;
                int r;

                while (i < n && plain[b[i]])
                        i++;
                if (i >= n)
                        return syntax_error(p, p->pos, false, "a string that does not end: its closing '\"' is missing");
                if (b[i] == '"')
                        break;
                if (b[i] == '\\') {
                        r = check_escape(p, i);
                        if (r < 0)
                                return r;
                        i += (size_t) r;
                        escaped = true;
                        continue;
                }
                if (b[i] == '\n')
                        return syntax_error(p, i, false, "a line break inside a string: end the string with '\"' before it, "
                                            "or write the line break as \\n");
                if (b[i] == '\t')
                        return syntax_error(p, i, false, "a tab inside a string: write it as \\t");
                if (b[i] < 0x20)
                        return syntax_error(p, i, false, "control character U+%04X inside a string: write it as \\u%04X",
                                            b[i], b[i]);
                k = utf8_length(b + i, n - i);
                if (k == 0)
                        return syntax_error(p, i, false, "byte 0x%02X is not UTF-8: JSON text must be UTF-8", b[i]);
                i += k;
        }
        *ret_end = i;
        *ret_escaped = escaped;
        return 0;
}

/* The key whose '"' is at p->pos, then ':': the member's value follows. */
static int read_key(Parser *p) {
        Frame *top = &p->stack[p->depth - 1];
        size_t end, n;
        bool escaped;
        char f[16];
        int r;

        if (p->pos >= p->len)
                return syntax_error(p, p->pos, false, "the text ends inside an object: a key in double quotes should follow");
        if (p->buf[p->pos] != '"') {
                char c = p->buf[p->pos];
                size_t e = p->pos;

                if (c == '\'')
                        return syntax_error(p, p->pos, false, "a key in single quotes: JSON strings take double quotes");
                if (c == '/')
                        return syntax_error(p, p->pos, false, "a comment: JSON has no comments");
                while (e < p->len && is_word_char(p->buf[e]))
                        e++;
                if (e > p->pos)
                        return syntax_error(p, p->pos, false, "the key %.*s has no quotes: JSON keys are strings in double quotes",
                                            (int) MIN(e - p->pos, (size_t) 64), p->buf + p->pos);
                return syntax_error(p, p->pos, false, "expected a key in double quotes, found %s", found(p, p->pos, f));
        }

        r = check_string(p, &end, &escaped);
        if (r < 0)
                return r;
        n = end - p->pos - 1;
        r = greedy_realloc((void **) &p->key, &p->key_allocated, n + 1, 1);
        if (r < 0)
                return r;
        if (escaped) {
                n = decode_string(p->buf + p->pos + 1, n, p->key);
                if (memchr(p->key, 0, n))
                        return syntax_error(p, p->pos, false, "a key with \\u0000 in it, which op-dbus cannot hold");
        } else
                memcpy(p->key, p->buf + p->pos + 1, n);
        p->key[n] = 0;

        top->key_start = p->pos + 1;
        top->key_len = end - p->pos - 1;
        top->in_member = true;
        p->pos = end + 1;
        skip_ws(p);
        if (p->pos >= p->len || p->buf[p->pos] != ':')
                return syntax_error(p, p->pos, false, "expected ':' after the key, found %s", found(p, p->pos, f));
        p->pos++;
        skip_ws(p);
        return 0;
}

/* A string value with an escaped NUL (\u0000): a C string holding it would
 * silently end there ("relp\u0000; x" would be read as "relp"), so no
 * document op-dbus reads may have one. The rest of the text is read on,
 * so that every one is reported. */
static int nul_in_string(Parser *p, size_t end, json_object **ret) {
        unsigned line, col;
        int r;

        position(p, p->pos, &line, &col);
        r = value_error(p, "this string has \\u0000 (a NUL character) in it (%s:%u:%u): op-dbus accepts no NUL in strings, "
                        "since everything after it would be lost; remove it", p->origin, line, col);
        p->pos = end + 1;
        *ret = NULL;
        return r;
}

static int string_value(Parser *p, json_object **ret) {
        size_t end, n;
        bool escaped;
        int r;

        r = check_string(p, &end, &escaped);
        if (r < 0)
                return r;
        n = end - p->pos - 1;
        if (escaped) {
                r = greedy_realloc((void **) &p->text, &p->text_allocated, n + 1, 1);
                if (r < 0)
                        return r;
                n = decode_string(p->buf + p->pos + 1, n, p->text);
                if (memchr(p->text, 0, n))
                        return nul_in_string(p, end, ret);
                *ret = json_object_new_string_len(p->text, (int) n);
        } else
                *ret = json_object_new_string_len(p->buf + p->pos + 1, (int) n);
        if (!*ret)
                return -ENOMEM;
        p->pos = end + 1;
        return 0;
}

_printf_(3, 4)
static int number_error(const Parser *p, size_t start, const char *fmt, ...) {
        _cleanup_(freep) char *why = NULL;
        size_t e = start;
        va_list ap;
        int r;

        while (e < p->len && (is_word_char(p->buf[e]) || strchr(".+-", p->buf[e])) && p->buf[e])
                e++;
        va_start(ap, fmt);
        r = vasprintf(&why, fmt, ap);
        va_end(ap);
        if (r < 0)
                return -ENOMEM;
        return syntax_error(p, start, false, "%.*s is not a JSON number%s", (int) MIN(e - start, (size_t) 64),
                            p->buf + start, why);
}

/* The integer literal from start to p->pos, whose magnitude is v (or which
 * overflowed 2^64). */
static int integer_value(Parser *p, size_t start, bool neg, bool overflow, uint64_t v, json_object **ret) {
        if (overflow || (neg && v > (uint64_t) INT64_MAX + 1)) {
                unsigned line, col;

                position(p, start, &line, &col);
                return value_error(p, "%.*s is out of range: integers must lie in %" PRIi64 "..%" PRIu64 " (%s:%u:%u)",
                                   (int) MIN(p->pos - start, (size_t) 64), p->buf + start, INT64_MIN, UINT64_MAX,
                                   p->origin, line, col);
        }
        if (neg)
                *ret = json_object_new_int64(v == (uint64_t) INT64_MAX + 1 ? INT64_MIN : -(int64_t) v);
        else if (v <= INT64_MAX)
                *ret = json_object_new_int64((int64_t) v);
        else
                *ret = json_object_new_uint64(v);
        return *ret ? 0 : -ENOMEM;
}

/* The number with a fraction or exponent from start to p->pos; json-c
 * keeps its text for printing it again. */
static int double_value(Parser *p, size_t start, json_object **ret) {
        size_t n = p->pos - start;
        double d;
        int r;

        r = greedy_realloc((void **) &p->text, &p->text_allocated, n + 1, 1);
        if (r < 0)
                return r;
        memcpy(p->text, p->buf + start, n);
        p->text[n] = 0;
        d = strtod(p->text, NULL);
        if (isinf(d)) {
                unsigned line, col;

                position(p, start, &line, &col);
                return value_error(p, "%s is out of range: numbers must lie within -1.7976931348623157e308..1.7976931348623157e308 (%s:%u:%u)",
                                   p->text, p->origin, line, col);
        }
        *ret = json_object_new_double_s(d, p->text);
        return *ret ? 0 : -ENOMEM;
}

static int number_value(Parser *p, json_object **ret) {
        const char *b = p->buf;
        size_t n = p->len, i = p->pos, start = p->pos;
        bool neg = false, integer = true, overflow = false;
        uint64_t v = 0;

        if (b[i] == '-') {
                neg = true;
                i++;
        }
        if (i >= n || !is_digit(b[i]))
                return number_error(p, start, " (numbers are decimal: -12, 3.5, 1e3)");
        if (b[i] == '0') {
                i++;
                if (i < n && is_digit(b[i]))
                        return number_error(p, start, ": JSON numbers have no leading zeros");
        } else
                for (; i < n && is_digit(b[i]); i++) {
                        unsigned digit = (unsigned) (b[i] - '0');

                        if (v > (UINT64_MAX - digit) / 10)
                                overflow = true;
                        else
                                v = v * 10 + digit;
                }
        if (i < n && b[i] == '.') {
                integer = false;
                if (++i >= n || !is_digit(b[i]))
                        return number_error(p, start, ": a digit must follow the '.'");
                while (i < n && is_digit(b[i]))
                        i++;
        }
        if (i < n && (b[i] == 'e' || b[i] == 'E')) {
                integer = false;
                if (++i < n && (b[i] == '+' || b[i] == '-'))
                        i++;
                if (i >= n || !is_digit(b[i]))
                        return number_error(p, start, ": the exponent has no digits");
                while (i < n && is_digit(b[i]))
                        i++;
        }
        if (i < n && (is_word_char(b[i]) || b[i] == '.' || b[i] == '+' || b[i] == '-'))
                return number_error(p, start, " (numbers are decimal: -12, 3.5, 1e3)");
        p->pos = i;
        *ret = NULL;
        return integer ? integer_value(p, start, neg, overflow, v, ret) : double_value(p, start, ret);
}

/* true, false, null, or an error naming the word. */
static int word_value(Parser *p, json_object **ret) {
        size_t e = p->pos, n;
        const char *w = p->buf + p->pos;

        while (e < p->len && is_word_char(p->buf[e]))
                e++;
        n = e - p->pos;
        *ret = NULL;
        if (n == 4 && memcmp(w, "null", 4) == 0) {
                p->pos = e;
                return 0;
        }
        if ((n == 4 && memcmp(w, "true", 4) == 0) || (n == 5 && memcmp(w, "false", 5) == 0)) {
                *ret = json_object_new_boolean(n == 4);
                p->pos = e;
                return *ret ? 0 : -ENOMEM;
        }
        if ((n == 3 && memcmp(w, "NaN", 3) == 0) || (n == 8 && memcmp(w, "Infinity", 8) == 0))
                return syntax_error(p, p->pos, false, "%.*s is not a JSON number", (int) n, w);
        if ((n == 4 && (strncasecmp(w, "true", 4) == 0 || strncasecmp(w, "null", 4) == 0 || strncasecmp(w, "none", 4) == 0)) ||
            (n == 5 && strncasecmp(w, "false", 5) == 0))
                return syntax_error(p, p->pos, false, "%.*s is not JSON: its words are true, false and null, in lower case", (int) n, w);
        return syntax_error(p, p->pos, false, "%.*s is not a JSON value: strings take double quotes (\"%.*s\")",
                            (int) MIN(n, (size_t) 64), w, (int) MIN(n, (size_t) 64), w);
}

/* The member of the current object whose key was given twice. */
static int duplicate_key(Parser *p, const Frame *top) {
        size_t first = find_member(p->buf, p->len, top->start, p->key, strlen(p->key));
        unsigned l1 = 0, c1 = 0, l2, c2;

        position(p, top->key_start - 1, &l2, &c2);
        if (first == SIZE_MAX)
                return value_error(p, "this key is given a second time in its object, at %s:%u:%u: keys must be unique",
                                   p->origin, l2, c2);
        position(p, first, &l1, &c1);
        return value_error(p, "this key is given twice in one object, at %s:%u:%u and at %s:%u:%u: "
                           "keys must be unique (only the last would count)", p->origin, l1, c1, p->origin, l2, c2);
}

/* Adds v (taken over; NULL is JSON null) to the current container. */
static int attach(Parser *p, json_object *v, json_object **root) {
        Frame *top;
        size_t before;

        if (p->depth == 0) {
                *root = v;
                return 0;
        }
        top = &p->stack[p->depth - 1];
        if (top->array) {
                if (json_object_array_add(top->container, v) < 0) {
                        json_object_put(v);
                        return -ENOMEM;
                }
                return 0;
        }
        before = (size_t) json_object_object_length(top->container);
        if (json_object_object_add(top->container, p->key, v) < 0) {
                json_object_put(v);
                return -ENOMEM;
        }
        if ((size_t) json_object_object_length(top->container) == before)
                return duplicate_key(p, top);
        return 0;
}

/* The value at p->pos. Returns 1 when it opened an object or array. */
static int read_value(Parser *p, json_object **root) {
        json_object *v = NULL;
        char c, f[16];
        int r;

        if (p->pos >= p->len)
                return syntax_error(p, p->pos, false, "the text ends where a value should follow");
        c = p->buf[p->pos];
        switch (c) {
        case '{':
        case '[':
                if (p->depth == JSON_MAX_DEPTH)
                        return syntax_error(p, p->pos, false, "nested deeper than %d levels", JSON_MAX_DEPTH);
                v = c == '{' ? json_object_new_object() : json_object_new_array();
                if (!v)
                        return -ENOMEM;
                r = attach(p, v, root);
                if (r < 0)
                        return r;
                p->stack[p->depth++] = (Frame) { .container = v, .start = p->pos, .array = c == '[' };
                p->pos++;
                return 1;
        case '"':
                r = string_value(p, &v);
                break;
        case '-':
        case '0' ... '9':
        case '+':
        case '.':
                r = number_value(p, &v);
                break;
        case '\'':
                return syntax_error(p, p->pos, false, "a string in single quotes: JSON strings take double quotes");
        case '/':
                return syntax_error(p, p->pos, false, "a comment: JSON has no comments");
        default:
                if (is_word_char(c)) {
                        r = word_value(p, &v);
                        break;
                }
                return syntax_error(p, p->pos, false, "expected a value, found %s", found(p, p->pos, f));
        }
        if (r < 0)
                return r;
        r = attach(p, v, root);
        return r < 0 ? r : 0;
}

/* After '{' or '[': 1 when a member or element follows, 0 when it was
 * empty and is closed. */
static int open_container(Parser *p) {
        Frame *top = &p->stack[p->depth - 1];
        int r;

        skip_ws(p);
        if (p->pos < p->len && p->buf[p->pos] == (top->array ? ']' : '}')) {
                p->pos++;
                p->depth--;
                return 0;
        }
        if (top->array) {
                top->in_member = true;
                return 1;
        }
        r = read_key(p);
        return r < 0 ? r : 1;
}

/* After a value: closes what ends here. 1 when another value follows, 0
 * at the end of the document. */
static int after_value(Parser *p) {
        for (;;) {
                Frame *top;
                char f[16], close;
                int r;

                skip_ws(p);
                if (p->depth == 0) {
                        if (p->pos >= p->len)
                                return 0;
                        if (p->buf[p->pos] == '/')
                                return syntax_error(p, p->pos, false, "a comment: JSON has no comments");
                        return syntax_error(p, p->pos, false, "%s after the end of the document: only whitespace may follow it",
                                            found(p, p->pos, f));
                }
                top = &p->stack[p->depth - 1];
                close = top->array ? ']' : '}';
                if (p->pos >= p->len)
                        return syntax_error(p, p->pos, false, "the text ends inside %s: ',' or '%c' should follow",
                                            top->array ? "an array" : "an object", close);
                if (p->buf[p->pos] == close) {
                        p->pos++;
                        p->depth--;
                        continue;
                }
                if (p->buf[p->pos] == '/')
                        return syntax_error(p, p->pos, false, "a comment: JSON has no comments");
                if (p->buf[p->pos] != ',')
                        return syntax_error(p, p->pos, false, "expected ',' or '%c' after this value, found %s",
                                            close, found(p, p->pos, f));
                p->pos++;
                skip_ws(p);
                if (p->pos < p->len && p->buf[p->pos] == close)
                        return syntax_error(p, p->pos, true, "a comma before '%c': JSON allows none after the last %s",
                                            close, top->array ? "element" : "member");
                if (top->array) {
                        top->index++;
                        return 1;
                }
                top->in_member = false;
                r = read_key(p);
                return r < 0 ? r : 1;
        }
}

static int parse_document(Parser *p, json_object **root) {
        int r;

        if (p->len > INT_MAX)
                return syntax_error(p, 0, false, "the text is larger than %d bytes", INT_MAX);
        if (p->len >= 3 && memcmp(p->buf, "\xef\xbb\xbf", 3) == 0)
                return syntax_error(p, 0, false, "the text starts with a byte order mark (EF BB BF), which JSON does not allow: "
                                    "save it as UTF-8 without one");
        skip_ws(p);
        if (p->pos >= p->len)
                return syntax_error(p, p->pos, false, "the text is empty: expected a JSON document");
        for (;;) {
                r = read_value(p, root);
                if (r > 0)
                        r = open_container(p);
                if (r < 0)
                        return r;
                if (r > 0)
                        continue;
                r = after_value(p);
                if (r <= 0)
                        return r;
        }
}

int json_parse_located(const char *buf, size_t len, const char *origin, json_object **ret, Diag *d) {
        _cleanup_(parser_done) Parser p = {
                .buf = buf,
                .len = len,
                .origin = origin ?: "<input>",
                .line = 1,
                .diag = d,
        };
        _cleanup_(json_object_putp) json_object *root = NULL;
        int r;

        r = parse_document(&p, &root);
        if (r < 0)
                return r;
        if (p.n_value_errors > 0)
                return -EINVAL;
        *ret = TAKE_PTR(root);
        return 0;
}
