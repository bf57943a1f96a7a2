/* SPDX-License-Identifier: LGPL-2.1-or-later */
/* The driver of a fuzz target built without libFuzzer: runs it once on
 * every file named on the command line and on every file in the
 * directories named there (sorted by name), then prints how many inputs
 * it ran. A crash is the sanitizers' report; an input that cannot be read
 * fails the run. A directory that does not exist holds no inputs (a target
 * without regression inputs has no regressions/ directory).
 *
 *   fuzz-state tests/fuzz/corpus/state tests/fuzz/regressions/state */
#include <dirent.h>
#include <errno.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <sys/stat.h>

#include "json-util.h"
#include "fuzz.h"
#include "macro.h"

static int run_file(const char *path) {
        _cleanup_(freep) char *text = NULL;
        _cleanup_(freep) uint8_t *data = NULL;
        size_t len;
        int r;

        r = read_full_file(path, &text, &len);
        if (r < 0) {
                fprintf(stderr, "cannot read %s: %s\n", path, strerror(-r));
                return r;
        }
        /* A buffer of exactly the input's size, as libFuzzer passes it, so
         * that reading past its end is caught. */
        data = malloc(len ?: 1);
        if (!data)
                return -ENOMEM;
        memcpy(data, text, len);
        fprintf(stderr, "%s\n", path);
        (void) LLVMFuzzerTestOneInput(data, len);
        return 0;
}

static int skip_dots(const struct dirent *e) {
        return e->d_name[0] != '.';
}

static int run_dir(const char *dir, unsigned *n) {
        struct dirent **l;
        int k, r = 0;

        k = scandir(dir, &l, skip_dots, alphasort);
        if (k < 0) {
                fprintf(stderr, "cannot read %s: %m\n", dir);
                return -errno;
        }
        for (int i = 0; i < k; i++) {
                _cleanup_(freep) char *path = NULL;

                if (r >= 0 && asprintf(&path, "%s/%s", dir, l[i]->d_name) < 0)
                        r = -ENOMEM;
                if (r >= 0 && (r = run_file(path)) >= 0)
                        (*n)++;
                free(l[i]);
        }
        free(l);
        return r;
}

int main(int argc, char **argv) {
        unsigned n = 0;

        if (argc < 2) {
                fprintf(stderr, "usage: %s FILE|DIR...\n", argv[0]);
                return 2;
        }
        for (int i = 1; i < argc; i++) {
                struct stat st;
                int r;

                if (stat(argv[i], &st) < 0) {
                        if (errno == ENOENT)
                                continue;
                        fprintf(stderr, "cannot read %s: %m\n", argv[i]);
                        return 1;
                }
                if (S_ISDIR(st.st_mode))
                        r = run_dir(argv[i], &n);
                else if ((r = run_file(argv[i])) >= 0)
                        n++;
                if (r < 0)
                        return 1;
        }
        printf("%u inputs ran\n", n);
        return 0;
}
