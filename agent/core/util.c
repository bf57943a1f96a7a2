/* SPDX-License-Identifier: LGPL-2.1-or-later */
#include <stdio.h>
#include <time.h>

#include "macro.h"

char *strdup_or_null(const char *s) {
        return s ? strdup(s) : NULL;
}

int greedy_realloc(void **array, size_t *allocated, size_t need, size_t elsize) {
        size_t n;
        void *q;

        if (*allocated >= need)
                return 0;

        n = MAX(need * 2, (size_t) 8);
        if (n > SIZE_MAX / elsize)
                return -ENOMEM;

        q = realloc(*array, n * elsize);
        if (!q)
                return -ENOMEM;

        memset((char *) q + *allocated * elsize, 0, (n - *allocated) * elsize);
        *array = q;
        *allocated = n;
        return 0;
}

int unhexchar(char c) {
        if (c >= '0' && c <= '9')
                return c - '0';
        if (c >= 'a' && c <= 'f')
                return c - 'a' + 10;
        if (c >= 'A' && c <= 'F')
                return c - 'A' + 10;
        return -1;
}

char *strstrip_newline(char *s) {
        size_t n;

        if (!s)
                return (char *) "";
        n = strlen(s);
        while (n > 0 && (s[n - 1] == '\n' || s[n - 1] == ' ' || s[n - 1] == '\t' || s[n - 1] == '\r'))
                s[--n] = 0;
        return s;
}

const char *format_iso8601(uint64_t usec, bool millis, char *buf, size_t size) {
        time_t t = (time_t) (usec / 1000000);
        char date[32], zone[8], frac[8] = "";
        struct tm tm;

        buf[0] = 0;
        if (!localtime_r(&t, &tm) || strftime(date, sizeof date, "%Y-%m-%dT%H:%M:%S", &tm) == 0 ||
            strftime(zone, sizeof zone, "%z", &tm) != 5)
                return buf;
        if (millis)
                snprintf(frac, sizeof frac, ".%03u", (unsigned) (usec / 1000 % 1000));
        snprintf(buf, size, "%s%s%.3s:%s", date, frac, zone, zone + 3);
        return buf;
}

char *str_quote(const char *s) {
        size_t n = strnlen(s, 64);
        char *q = malloc(n + 6), *o = q;

        if (!q)
                return NULL;
        *o++ = '"';
        for (size_t i = 0; i < n; i++)
                *o++ = (unsigned char) s[i] < 0x20 || s[i] == 0x7f || s[i] == '"' ? '?' : s[i];
        *o++ = '"';
        if (s[n])
                o = stpcpy(o, "...");
        *o = 0;
        return q;
}
