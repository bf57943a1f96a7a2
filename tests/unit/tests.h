/* SPDX-License-Identifier: LGPL-2.1-or-later */
#pragma once

/* Minimal assertion helpers for the unit tests: a failed check prints
 * where and what, and exits 1. Exit code 77 means "skipped". */

#include <stdio.h>
#include <stdlib.h>
#include <string.h>

#define TEST_FAIL(...)                                                   \
        do {                                                             \
                fprintf(stderr, "%s:%d: ", __FILE__, __LINE__);          \
                fprintf(stderr, __VA_ARGS__);                            \
                fputc('\n', stderr);                                     \
                exit(1);                                                 \
        } while (0)

#define ASSERT_TRUE(x)                                                   \
        do {                                                             \
                if (!(x))                                                \
                        TEST_FAIL("assertion failed: %s", #x);           \
        } while (0)

#define ASSERT_EQ(a, b)                                                  \
        do {                                                             \
                long long _a = (long long) (a), _b = (long long) (b);    \
                if (_a != _b)                                            \
                        TEST_FAIL("%s == %s: %lld != %lld", #a, #b, _a, _b); \
        } while (0)

#define ASSERT_STREQ(a, b)                                               \
        do {                                                             \
                const char *_a = (a), *_b = (b);                         \
                if (!_a || !_b || strcmp(_a, _b) != 0)                   \
                        TEST_FAIL("%s == %s: \"%s\" != \"%s\"", #a, #b,  \
                                  _a ? _a : "(null)", _b ? _b : "(null)"); \
        } while (0)

#define ASSERT_CONTAINS(hay, needle)                                     \
        do {                                                             \
                const char *_h = (hay), *_n = (needle);                  \
                if (!_h || !strstr(_h, _n))                              \
                        TEST_FAIL("\"%s\" does not contain \"%s\"",      \
                                  _h ? _h : "(null)", _n);               \
        } while (0)

#define TEST(name) static void name(void)
#define RUN(name)                                                        \
        do {                                                             \
                name();                                                  \
                printf("ok - %s\n", #name);                              \
        } while (0)
