/* SPDX-License-Identifier: LGPL-2.1-or-later */
#pragma once

/* 64-bit FNV-1a: a fast, stable hash to tell whether bytes changed (digests
 * of records). Not for anything an adversary chooses to collide. */

#include <stddef.h>
#include <stdint.h>

#define HASH64_INIT 0xcbf29ce484222325ULL

static inline uint64_t hash64_update(uint64_t h, const void *data, size_t len) {
        const uint8_t *p = data;

        for (size_t i = 0; i < len; i++) {
                h ^= p[i];
                h *= 0x100000001b3ULL;
        }
        return h;
}

static inline uint64_t hash64(const void *data, size_t len) {
        return hash64_update(HASH64_INIT, data, len);
}
