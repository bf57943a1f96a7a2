/* SPDX-License-Identifier: LGPL-2.1-or-later */
#pragma once

/* What the fuzz targets (tests/fuzz/fuzz-*.c) share.
 *
 * Every target defines LLVMFuzzerTestOneInput(). Built with
 * -Dfuzzing=true (clang) it is linked with libFuzzer; otherwise with
 * fuzz-main.c, which runs it once on every file it is given: the corpus
 * and the regression inputs are replayed by `meson test --suite unit`.
 *
 * A target that reads several formats takes the name of the parser on
 * the input's first line and the bytes to parse after it: "pct list\n"
 * followed by what `pct list` printed (fuzz_run_case()). A target that
 * talks to a peer over a socket gets the bytes the peer sends from a
 * FuzzPeer. */

#include <stdbool.h>
#include <stddef.h>
#include <stdint.h>

#include "macro.h"

/* Larger inputs are not run: they only slow the fuzzer down. */
#define FUZZ_MAX_INPUT (64 * 1024)

int LLVMFuzzerTestOneInput(const uint8_t *data, size_t size);

/* A NUL-terminated copy of data (an embedded NUL ends the string early);
 * aborts when out of memory. */
char *fuzz_strndup(const uint8_t *data, size_t size);

/* The failed check of an invariant: prints it and aborts, which the
 * fuzzer reports as a crash with the input as reproducer. */
#define FUZZ_CHECK(x)                                                        \
        do {                                                                 \
                if (!(x))                                                    \
                        fuzz_fail(__FILE__, __LINE__, #x);                   \
        } while (0)
_Noreturn void fuzz_fail(const char *file, int line, const char *what);

typedef struct FuzzCase {
        const char *name;                                  /* the first line */
        void (*run)(const uint8_t *data, size_t size);    /* the rest */
} FuzzCase;

/* Runs the case whose name is the first line of data on the bytes after
 * it; inputs naming no case are ignored. */
void fuzz_run_case(const FuzzCase *cases, size_t n, const uint8_t *data, size_t size);

/* ---- A peer on a unix socket ------------------------------------------- */

/* Clients that connect to an address (ovsdb-server, ovs-vswitchd's
 * management socket) meet a FuzzPeer, which answers with the input's
 * bytes whatever they send: it sends them, closes its sending side and
 * reads what the client sends until the client closes the connection.
 * One peer (a listening socket in a private temporary directory and a
 * thread) serves the whole process, one exchange at a time. */
typedef struct FuzzPeer FuzzPeer;

/* Begins an exchange: every connection made until fuzz_peer_end() gets
 * data (which must stay valid until then). */
FuzzPeer *fuzz_peer_begin(const void *data, size_t size);
/* "unix:/tmp/.../peer.sock" */
const char *fuzz_peer_address(const FuzzPeer *p);
/* Ends the exchange (the clients must have closed their connections, or
 * find them closed). */
FuzzPeer *fuzz_peer_end(FuzzPeer *p);
DEFINE_TRIVIAL_CLEANUP_FUNC(FuzzPeer *, fuzz_peer_end);
