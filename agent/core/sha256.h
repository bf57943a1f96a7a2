/* SPDX-License-Identifier: LGPL-2.1-or-later */
#pragma once

/* SHA-256 (FIPS 180-4) of a message in memory: to compare a file somewhere
 * else with what it should hold without reading it back. */

#include <stddef.h>
#include <stdint.h>

#define SHA256_SIZE 32
#define SHA256_HEX_SIZE (2 * SHA256_SIZE + 1)

void sha256(const void *data, size_t len, uint8_t ret[static SHA256_SIZE]);
/* Lower-case hex of a digest into ret (SHA256_HEX_SIZE bytes). */
void sha256_hex(const uint8_t h[static SHA256_SIZE], char *ret);
