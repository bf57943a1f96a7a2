/* SPDX-License-Identifier: LGPL-2.1-or-later */
/* The OVSDB stream framing (JsonStream): ovsdb-server's bytes arrive in
 * reads of any size. The first byte of the input chooses how the rest is
 * cut into chunks; the stream must return the same values, and fail or
 * not, exactly as when everything arrives in one read. */
#include "fuzz.h"
#include "json-util.h"
#include "ovsdb-client.h"

DEFINE_TRIVIAL_CLEANUP_FUNC(JsonStream *, json_stream_free);

/* Takes every complete value into values; returns what the last
 * json_stream_next() returned (0: needs more, < 0: malformed). */
static int drain(JsonStream *s, json_object *values) {
        for (;;) {
                json_object *v = NULL;
                int r;

                r = json_stream_next(s, &v);
                if (r <= 0)
                        return r;
                FUZZ_CHECK(json_object_array_add(values, v) == 0);
        }
}

/* Feeds data in chunks of 1 to pattern + 1 bytes (pattern 0: one byte
 * at a time), draining after each. */
static int split(const uint8_t *data, size_t size, uint8_t pattern, json_object *values) {
        _cleanup_(json_stream_freep) JsonStream *s = json_stream_new();
        int r = 0;

        FUZZ_CHECK(s);
        r = drain(s, values);  /* nothing fed yet */
        FUZZ_CHECK(r == 0);
        for (size_t off = 0, i = 0; off < size && r >= 0; i++) {
                size_t n = MIN(1 + (i * 31 + pattern) % (1 + (size_t) pattern), size - off);

                r = json_stream_feed(s, (const char *) data + off, n);
                if (r >= 0)
                        r = drain(s, values);
                off += n;
        }
        return r;
}

static int whole(const uint8_t *data, size_t size, json_object *values) {
        _cleanup_(json_stream_freep) JsonStream *s = json_stream_new();
        int r;

        FUZZ_CHECK(s);
        r = json_stream_feed(s, (const char *) data, size);
        return r < 0 ? r : drain(s, values);
}

int LLVMFuzzerTestOneInput(const uint8_t *data, size_t size) {
        _cleanup_(json_object_putp) json_object *a = json_object_new_array(), *b = json_object_new_array();
        int ra, rb;

        if (size < 1 || size > FUZZ_MAX_INPUT)
                return 0;
        FUZZ_CHECK(a && b);
        ra = split(data + 1, size - 1, data[0], a);
        rb = whole(data + 1, size - 1, b);

        FUZZ_CHECK((ra < 0) == (rb < 0));
        FUZZ_CHECK(json_object_array_length(a) == json_object_array_length(b));
        for (size_t i = 0; i < json_object_array_length(a); i++)
                FUZZ_CHECK(json_object_equal(json_object_array_get_idx(a, i), json_object_array_get_idx(b, i)));
        return 0;
}
