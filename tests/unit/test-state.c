/* SPDX-License-Identifier: LGPL-2.1-or-later */
#include <fcntl.h>
#include <stdio.h>
#include <sys/stat.h>

#include "checkpoint.h"
#include "json-util.h"
#include "state.h"
#include "strbuf.h"
#include "tests.h"

static StateDoc *parse_ok(const char *text) {
        _cleanup_(diag_done) Diag d = {};
        StateDoc *doc = NULL;

        if (state_doc_parse(text, strlen(text), "t.json", &doc, &d) < 0)
                TEST_FAIL("unexpected parse failure for %s", text);
        ASSERT_EQ(d.n_entries, 0);
        return doc;
}

static char *first_error(const char *text) {
        _cleanup_(diag_done) Diag d = {};
        _cleanup_(state_doc_freep) StateDoc *doc = NULL;

        ASSERT_TRUE(state_doc_parse(text, strlen(text), "t.json", &doc, &d) < 0);
        ASSERT_TRUE(d.n_entries > 0);
        return diag_entry_format(&d.entries[0]);
}

TEST(test_bare_equals_canonical) {
        _cleanup_(state_doc_freep) StateDoc *a = parse_ok("{\"net\": {\"bridges\": []}}");
        _cleanup_(state_doc_freep) StateDoc *b =
                parse_ok("{\"version\": 1, \"plugins\": {\"net\": {\"bridges\": []}}}");

        ASSERT_TRUE(a->bare);
        ASSERT_TRUE(!b->bare);
        ASSERT_TRUE(json_object_equal(a->root, b->root));
        ASSERT_TRUE(state_doc_section(a, "net"));
        ASSERT_TRUE(!state_doc_section(a, "lxc"));
}

TEST(test_version_rules) {
        _cleanup_(freep) char *e1 = first_error("{\"version\": 2, \"plugins\": {}}");
        _cleanup_(freep) char *e2 = first_error("{\"plugins\": {}}");
        _cleanup_(freep) char *e3 = first_error("{\"version\": 1, \"plugins\": [], \"x\": 1}");

        ASSERT_CONTAINS(e1, "version: 2 is out of range");
        ASSERT_CONTAINS(e2, "version: required field is missing");
        ASSERT_CONTAINS(e3, "x: unknown key");
}

TEST(test_syntax_error_position) {
        _cleanup_(freep) char *e = first_error("{\n  \"net\": {\n    \"bridges\": [,]\n  }\n}\n");

        /* line 3, column of the stray comma */
        ASSERT_CONTAINS(e, "t.json:3:");
        ASSERT_CONTAINS(e, "invalid JSON");
}

TEST(test_truncated_and_trailing) {
        _cleanup_(freep) char *e1 = first_error("{\"net\": {");
        _cleanup_(freep) char *e2 = first_error("{} {}");
        _cleanup_(freep) char *e3 = first_error("[]");

        ASSERT_CONTAINS(e1, "t.json:1:10: invalid JSON: the text ends inside an object");
        ASSERT_CONTAINS(e2, "t.json:1:4");
        ASSERT_CONTAINS(e3, "expected an object");
}

/* Parse errors name the path as the canonical form reads it, also for a
 * document in the bare form. */
TEST(test_parse_error_paths_in_both_forms) {
        static const struct {
                const char *text;
                const char *error;
        } cases[] = {
                { "{\"net\": {\"bridges\": [1,]}}", "plugins.net.bridges: t.json:1:24: invalid JSON: a comma before ']'" },
                { "{\"version\": 1, \"plugins\": {\"net\": {\"bridges\": [1,]}}}",
                  "plugins.net.bridges: t.json:1:50: invalid JSON: a comma before ']'" },
                { "{\"plugins\": {\"net\": {\"bridges\": [1,]}}}", "plugins.net.bridges: t.json:1:36: invalid JSON" },
                { "{\"net\": {}, \"net\": {\"bridges\": []}}",
                  "plugins.net: this key is given twice in one object, at t.json:1:2 and at t.json:1:13" },
                { "{\"version\": 1, \"version\": 1, \"plugins\": {}}",
                  "version: this key is given twice in one object, at t.json:1:2 and at t.json:1:16" },
                { "{\"net\": {\"x\": 18446744073709551616}}", "plugins.net.x: 18446744073709551616 is out of range" },
                { "{\"net\": {}} x", "t.json:1:13: invalid JSON: 'x' after the end of the document" },
        };

        for (size_t i = 0; i < ELEMENTSOF(cases); i++) {
                _cleanup_(freep) char *e = first_error(cases[i].text);

                ASSERT_TRUE(startswith(e, cases[i].error));
        }
}

/* A bare document whose container config nests `levels` levels in the
 * canonical form: {"lxc": {"containers": [{"id": 100, "config": {"a":
 * ... {}}}]}}, every level below "config" an object {"a": ...}. */
static char *deep_state(unsigned levels) {
        StrBuf b = {};

        /* canonical levels: 1 top, 2 plugins, 3 lxc, 4 containers, 5 the
         * container, 6 config */
        strbuf_puts(&b, "{\"lxc\": {\"containers\": [{\"id\": 100, \"config\": ");
        for (unsigned i = 6; i < levels; i++)
                strbuf_puts(&b, "{\"a\": ");
        strbuf_puts(&b, "{}");
        for (unsigned i = 6; i < levels; i++)
                strbuf_putc(&b, '}');
        strbuf_puts(&b, "}]}}");
        return strbuf_take(&b);
}

/* One limit for what is validated, stored and read back: a state at the
 * limit survives a checkpoint; one level more is an error at its path. */
TEST(test_depth_limit) {
        _cleanup_(freep) char *at = deep_state(STATE_MAX_DEPTH), *over = deep_state(STATE_MAX_DEPTH + 1);
        _cleanup_(freep) char *e = first_error(over);
        _cleanup_(state_doc_freep) StateDoc *doc = parse_ok(at);
        _cleanup_(json_object_putp) json_object *back = NULL;
        char dir[] = "/tmp/test-state.XXXXXX", cmd[64];
        StrBuf want = {};

        strbuf_puts(&want, "plugins.lxc.containers[0].config");
        for (unsigned i = 6; i <= STATE_MAX_DEPTH; i++)
                strbuf_puts(&want, ".a");
        strbuf_puts(&want, ": nested 33 levels deep: a state may nest at most 32 levels");
        ASSERT_CONTAINS(e, want.s);
        strbuf_done(&want);

        ASSERT_TRUE(mkdtemp(dir));
        ASSERT_EQ(checkpoint_save(dir, 1, doc->root, NULL, 5), 0);
        ASSERT_EQ(checkpoint_load(dir, 1, &back), 0);
        ASSERT_TRUE(json_object_equal(back, doc->root));
        snprintf(cmd, sizeof cmd, "rm -rf %s", dir);
        ASSERT_EQ(system(cmd), 0);
}

/* Loads path and returns its first error (NULL when it loaded). */
static char *load_error(const char *path, int *ret) {
        _cleanup_(diag_done) Diag d = {};
        _cleanup_(state_doc_freep) StateDoc *doc = NULL;

        *ret = state_doc_load(path, &doc, &d);
        if (*ret >= 0)
                return NULL;
        ASSERT_TRUE(d.n_entries > 0);
        return diag_entry_format(&d.entries[0]);
}

static void write_text(const char *path, const char *text, mode_t mode) {
        int fd = open(path, O_WRONLY | O_CREAT | O_TRUNC | O_CLOEXEC, 0600);

        ASSERT_TRUE(fd >= 0);
        ASSERT_EQ(write(fd, text, strlen(text)), (ssize_t) strlen(text));
        ASSERT_EQ(fchmod(fd, mode), 0);
        close(fd);
}

/* Only a file nobody else could have written is read, and never more than
 * STATE_MAX_SIZE of it; a FIFO or a device is refused before a byte is
 * read (reading them would block or never end). */
TEST(test_state_file_checks) {
        char dir[] = "/tmp/test-state-file.XXXXXX", p[256], q[256], cmd[300];
        _cleanup_(freep) char *e = NULL;
        int r, fd;

        ASSERT_TRUE(mkdtemp(dir));
        snprintf(p, sizeof p, "%s/ok.json", dir);
        write_text(p, "{}", 0644);
        e = load_error(p, &r);
        ASSERT_EQ(r, 0);

        snprintf(p, sizeof p, "%s/fifo", dir);
        ASSERT_EQ(mkfifo(p, 0600), 0);
        e = load_error(p, &r);
        ASSERT_EQ(r, -EINVAL);
        ASSERT_CONTAINS(e, "the state file /tmp/test-state-file.");
        ASSERT_CONTAINS(e, "/fifo is not a regular file (it is a FIFO)");
        free(TAKE_PTR(e));

        e = load_error("/dev/zero", &r);
        ASSERT_EQ(r, -EINVAL);
        ASSERT_STREQ(e, "the state file /dev/zero is not a regular file (it is a character device)");
        free(TAKE_PTR(e));

        snprintf(p, sizeof p, "%s/open.json", dir);
        write_text(p, "{}", 0666);
        e = load_error(p, &r);
        ASSERT_EQ(r, -EPERM);
        ASSERT_CONTAINS(e, "/open.json has mode 0666: it must not be writable by group or others (chmod go-w ");
        free(TAKE_PTR(e));

        /* a link, in a good directory, to a file in a directory anyone can write */
        snprintf(q, sizeof q, "%s/shared", dir);
        ASSERT_EQ(mkdir(q, 0777), 0);
        ASSERT_EQ(chmod(q, 0777), 0);
        snprintf(q, sizeof q, "%s/shared/s.json", dir);
        write_text(q, "{}", 0644);
        snprintf(p, sizeof p, "%s/link.json", dir);
        ASSERT_EQ(symlink(q, p), 0);
        e = load_error(p, &r);
        ASSERT_EQ(r, -EPERM);
        ASSERT_CONTAINS(e, "/link.json (a link to ");
        ASSERT_CONTAINS(e, "/shared/s.json) is in ");
        ASSERT_CONTAINS(e, "/shared, which has mode 0777: no directory on the way to it may be writable by group or others, "
                        "unless it is sticky like /tmp");
        free(TAKE_PTR(e));

        /* sticky like /tmp: fine */
        snprintf(q, sizeof q, "%s/shared", dir);
        ASSERT_EQ(chmod(q, 01777), 0);
        e = load_error(p, &r);
        ASSERT_EQ(r, 0);

        if (geteuid() == 0) {
                snprintf(p, sizeof p, "%s/theirs.json", dir);
                write_text(p, "{}", 0644);
                ASSERT_EQ(chown(p, 65534, 65534), 0);
                e = load_error(p, &r);
                ASSERT_EQ(r, -EPERM);
                ASSERT_CONTAINS(e, "/theirs.json is owned by uid 65534: it must be owned by root (chown root: ");
                free(TAKE_PTR(e));
        }

        snprintf(p, sizeof p, "%s/big.json", dir);
        fd = open(p, O_WRONLY | O_CREAT | O_CLOEXEC, 0600);
        ASSERT_TRUE(fd >= 0);
        ASSERT_EQ(ftruncate(fd, STATE_MAX_SIZE + 1), 0);
        close(fd);
        e = load_error(p, &r);
        ASSERT_EQ(r, -EFBIG);
        ASSERT_CONTAINS(e, "/big.json is 16777217 bytes: a state may be at most 16777216 bytes (16 MiB)");
        free(TAKE_PTR(e));

        /* standard input is not checked, but read up to the limit only */
        fd = open("/dev/zero", O_RDONLY | O_CLOEXEC);
        ASSERT_TRUE(fd >= 0);
        ASSERT_EQ(dup2(fd, STDIN_FILENO), STDIN_FILENO);
        close(fd);
        e = load_error("-", &r);
        ASSERT_EQ(r, -EFBIG);
        ASSERT_STREQ(e, "standard input has more than 16777216 bytes: a state may be at most 16777216 bytes (16 MiB)");

        snprintf(cmd, sizeof cmd, "rm -rf %s", dir);
        ASSERT_EQ(system(cmd), 0);
}

TEST(test_set_section) {
        _cleanup_(state_doc_freep) StateDoc *doc = NULL;

        ASSERT_EQ(state_doc_new_empty("x", &doc), 0);
        ASSERT_EQ(state_doc_set_section(doc, "net", json_object_new_object()), 0);
        ASSERT_TRUE(state_doc_section(doc, "net"));
        ASSERT_EQ(state_doc_set_section(doc, "net", NULL), 0);
        ASSERT_TRUE(!state_doc_section(doc, "net"));
}

int main(void) {
        RUN(test_bare_equals_canonical);
        RUN(test_version_rules);
        RUN(test_syntax_error_position);
        RUN(test_truncated_and_trailing);
        RUN(test_parse_error_paths_in_both_forms);
        RUN(test_depth_limit);
        RUN(test_state_file_checks);
        RUN(test_set_section);
        return 0;
}
