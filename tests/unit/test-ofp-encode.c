/* SPDX-License-Identifier: LGPL-2.1-or-later */
/* op-dbus's OpenFlow 1.4 encoding, byte for byte against what ovs-ofctl
 * sends (tests/unit/data/ofp: flows as ovs-ofctl text in flows.txt, and
 * what ovs-ofctl sent for them in flow-mods.txt, captured by ./capture):
 * the bundle's control messages. Then the bundle transaction against a
 * scripted switch: committed only when every message was taken, refusals
 * mapped to the message that caused them. */
#include <inttypes.h>
#include <pthread.h>
#include <stdio.h>
#include <sys/socket.h>
#include <sys/un.h>

#include "json-util.h"
#include "ofp-client.h"
#include "tests.h"

static const char *data_dir;

/* ---- the captures ---------------------------------------------------------------- */

typedef struct Capture {
        char *text;                  /* the line of flows.txt, or the control message's name */
        uint8_t *bytes;
        size_t len;
} Capture;

typedef struct Captures {
        Capture *c;
        size_t n;
} Captures;

static size_t unhex(const char *s, uint8_t *out) {
        size_t n = 0;

        for (; s[0] && s[1]; s += 2)
                out[n++] = (uint8_t) (unhexchar(s[0]) << 4 | unhexchar(s[1]));
        return n;
}

static void captures_load(Captures *ret) {
        _cleanup_(freep) char *path = NULL, *buf = NULL;
        char *line, *save = NULL, *text = NULL;
        size_t len;

        ASSERT_TRUE(asprintf(&path, "%s/flow-mods.txt", data_dir) > 0);
        ASSERT_EQ(read_full_file(path, &buf, &len), 0);
        *ret = (Captures) { .c = calloc(1024, sizeof(Capture)) };
        for (line = strtok_r(buf, "\n", &save); line; line = strtok_r(NULL, "\n", &save)) {
                Capture *c = &ret->c[ret->n];
                const char *hex;

                if (line[0] == '#')
                        continue;
                if (startswith(line, "  ")) {       /* the bytes of the line before */
                        hex = line + 2;
                        c->text = text;
                        text = NULL;
                } else if (startswith(line, "bundle-") || startswith(line, "barrier ")) {
                        hex = strchr(line, ' ') + 1;
                        c->text = strndup(line, (size_t) (hex - 1 - line));
                } else {
                        free(text);
                        text = strdup(line);
                        continue;
                }
                c->bytes = malloc(strlen(hex) / 2 + 1);
                c->len = unhex(hex, c->bytes);
                ASSERT_TRUE(++ret->n < 1024);
        }
        free(text);
        ASSERT_TRUE(ret->n > 100);
}

static void captures_done(Captures *l) {
        for (size_t i = 0; i < l->n; i++) {
                free(l->c[i].text);
                free(l->c[i].bytes);
        }
        free(l->c);
}

static const Capture *capture_named(const Captures *l, const char *name) {
        for (size_t i = 0; i < l->n; i++)
                if (streq(l->c[i].text, name))
                        return &l->c[i];
        TEST_FAIL("no capture %s", name);
}

static void assert_bytes(const char *what, const uint8_t *have, size_t n_have, const Capture *want) {
        if (n_have == want->len && memcmp(have, want->bytes, n_have) == 0)
                return;
        fprintf(stderr, "%s\n  ovs-ofctl: ", what);
        for (size_t i = 0; i < want->len; i++)
                fprintf(stderr, "%02x", want->bytes[i]);
        fprintf(stderr, "\n  op-dbus:   ");
        for (size_t i = 0; i < n_have; i++)
                fprintf(stderr, "%02x", have[i]);
        fputc('\n', stderr);
        TEST_FAIL("%s: op-dbus encodes it otherwise than ovs-ofctl", what);
}

TEST(test_bundle_control_is_what_ovs_ofctl_sends) {
        _cleanup_(ofp_buf_done) OfpBuf open = {}, barrier = {}, commit = {};
        Captures caps;

        captures_load(&caps);
        ofp_put_bundle_control(&open, 0, 0, OFPBCT_OPEN_REQUEST, OFPBF_ATOMIC | OFPBF_ORDERED);
        assert_bytes("bundle open", open.data, open.len, capture_named(&caps, "bundle-control-0"));
        ofp_put_barrier_request(&barrier, 0);
        assert_bytes("barrier", barrier.data, barrier.len, capture_named(&caps, "barrier"));
        ofp_put_bundle_control(&commit, 0, 0, OFPBCT_COMMIT_REQUEST, OFPBF_ATOMIC | OFPBF_ORDERED);
        assert_bytes("bundle commit", commit.data, commit.len, capture_named(&caps, "bundle-control-4"));
        captures_done(&caps);
}

/* ---- the bundle transaction, against a scripted switch --------------------------------- */

typedef struct Switch {
        int listen_fd;
        uint64_t refuse_cookie;      /* a flow mod with this cookie is refused when added */
        bool refuse_all;             /* every flow mod is refused when added */
        bool refuse_commit;          /* the commit fails on the second flow mod */
        /* what it received */
        unsigned n_adds, n_open, n_commit, n_discard, n_barrier;
} Switch;

static void put_msg(int fd, uint8_t type, uint32_t xid, const void *body, size_t n) {
        uint8_t m[128] = { OFP14_VERSION, type };

        ofp_store16(m + 2, (uint16_t) (8 + n));
        ofp_store32(m + 4, xid);
        if (n > 0)
                memcpy(m + 8, body, n);
        ASSERT_EQ(send(fd, m, 8 + n, MSG_NOSIGNAL), (ssize_t) (8 + n));
}

static void put_error(int fd, uint32_t xid, uint16_t type, uint16_t code) {
        uint8_t e[4];

        ofp_store16(e, type);
        ofp_store16(e + 2, code);
        put_msg(fd, OFPT_ERROR, xid, e, sizeof e);
}

static bool read_exact(int fd, uint8_t *p, size_t n) {
        while (n > 0) {
                ssize_t k = recv(fd, p, n, 0);

                if (k <= 0)
                        return false;
                p += k;
                n -= (size_t) k;
        }
        return true;
}

static void *switch_run(void *arg) {
        Switch *s = arg;
        int fd = accept(s->listen_fd, NULL, NULL);
        uint8_t m[65536];
        uint32_t second_xid = 0;

        ASSERT_TRUE(fd >= 0);
        while (read_exact(fd, m, 8) && read_exact(fd, m + 8, ofp_load16(m + 2) - 8u)) {
                uint32_t xid = ofp_load32(m + 4);
                uint8_t reply[8] = {};

                switch (m[1]) {
                case OFPT_HELLO:
                        put_msg(fd, OFPT_HELLO, xid, NULL, 0);
                        break;
                case OFPT_BUNDLE_ADD_MESSAGE:
                        if (++s->n_adds == 2)
                                second_xid = xid;
                        if (s->refuse_all || ofp_load64(m + 16 + 8) == s->refuse_cookie)
                                put_error(fd, xid, 5, 1);   /* OFPFMFC_TABLE_FULL */
                        break;
                case OFPT_BARRIER_REQUEST:
                        s->n_barrier++;
                        put_msg(fd, OFPT_BARRIER_REPLY, xid, NULL, 0);
                        break;
                case OFPT_BUNDLE_CONTROL:
                        memcpy(reply, m + 8, 8);
                        switch (ofp_load16(m + 12)) {
                        case OFPBCT_OPEN_REQUEST:
                                s->n_open++;
                                ofp_store16(reply + 4, OFPBCT_OPEN_REPLY);
                                break;
                        case OFPBCT_COMMIT_REQUEST:
                                s->n_commit++;
                                if (s->refuse_commit) {
                                        put_error(fd, second_xid, 5, 1);
                                        put_error(fd, xid, 17, 13);  /* OFPBFC_MSG_FAILED */
                                        continue;
                                }
                                ofp_store16(reply + 4, OFPBCT_COMMIT_REPLY);
                                break;
                        case OFPBCT_DISCARD_REQUEST:
                                s->n_discard++;
                                ofp_store16(reply + 4, OFPBCT_DISCARD_REPLY);
                                break;
                        }
                        put_msg(fd, OFPT_BUNDLE_CONTROL, xid, reply, sizeof reply);
                        break;
                }
        }
        close(fd);
        return NULL;
}

/* Runs a bundle of n flow mods (cookies 1..n) against a switch scripted
 * by s; returns what the commit returned, errors in *ret. */
static int run_bundle(Switch *s, size_t n, OfpBundle *ret) {
        struct sockaddr_un sa = { .sun_family = AF_UNIX };
        OfpClient *c = NULL;
        pthread_t t;
        int r;

        snprintf(sa.sun_path, sizeof sa.sun_path, "/tmp/test-ofp-encode.%d", getpid());
        (void) unlink(sa.sun_path);
        s->listen_fd = socket(AF_UNIX, SOCK_STREAM, 0);
        ASSERT_EQ(bind(s->listen_fd, (struct sockaddr *) &sa, sizeof sa), 0);
        ASSERT_EQ(listen(s->listen_fd, 1), 0);
        ASSERT_EQ(pthread_create(&t, NULL, switch_run, s), 0);

        ASSERT_EQ(ofp_client_connect(sa.sun_path, 10000, &c), 0);
        ofp_client_bundle_begin(c, ret);
        for (size_t i = 0; i < n; i++)
                ASSERT_EQ(ofp_bundle_add_flow_mod(ret, &(OfpFlowMod) { .cookie = i + 1, .table = 30 }), (int) i);
        r = ofp_client_bundle_commit(c, ret);
        ofp_client_free(c);
        ASSERT_EQ(pthread_join(t, NULL), 0);
        close(s->listen_fd);
        (void) unlink(sa.sun_path);
        return r;
}

TEST(test_bundle_committed_only_when_all_taken) {
        /* all taken: open, the messages, a barrier, commit */
        {
                _cleanup_(ofp_bundle_done) OfpBundle b = {};
                Switch s = {};

                ASSERT_EQ(run_bundle(&s, 3, &b), 0);
                ASSERT_EQ(s.n_open, 1);
                ASSERT_EQ(s.n_adds, 3);
                ASSERT_EQ(s.n_barrier, 1);
                ASSERT_EQ(s.n_commit, 1);
                ASSERT_EQ(s.n_discard, 0);
                ASSERT_EQ(b.n_errors, 0);
        }
        /* one refused when added: it would not be in the bundle, so the
         * bundle is discarded, and the error names that message */
        {
                _cleanup_(ofp_bundle_done) OfpBundle b = {};
                Switch s = { .refuse_cookie = 5 };

                ASSERT_EQ(run_bundle(&s, 10, &b), -EPROTO);
                ASSERT_EQ(s.n_commit, 0);
                ASSERT_EQ(s.n_discard, 1);
                ASSERT_EQ(b.n_errors, 1);
                ASSERT_EQ(ofp_bundle_index_of(&b, b.errors[0].xid), 4);
                ASSERT_STREQ(ofp_error_name(b.errors[0].type, b.errors[0].code), "OFPFMFC_TABLE_FULL (the table is full)");
        }
        /* the commit fails: the error of the message at fault, then the commit's */
        {
                _cleanup_(ofp_bundle_done) OfpBundle b = {};
                Switch s = { .refuse_commit = true };

                ASSERT_EQ(run_bundle(&s, 3, &b), -EPROTO);
                ASSERT_EQ(s.n_commit, 1);
                ASSERT_EQ(b.n_errors, 2);
                ASSERT_EQ(ofp_bundle_index_of(&b, b.errors[0].xid), 1);
                ASSERT_EQ(ofp_bundle_index_of(&b, b.errors[1].xid), -1);
        }
        /* 20,000 messages, each refused at once: the client takes the
         * errors while it sends, so neither side waits for the other */
        {
                _cleanup_(ofp_bundle_done) OfpBundle b = {};
                Switch s = { .refuse_all = true };

                ASSERT_EQ(run_bundle(&s, 20000, &b), -EPROTO);
                ASSERT_EQ(s.n_adds, 20000);
                ASSERT_EQ(b.n_errors, 20000);
                ASSERT_EQ(s.n_discard, 1);
        }
}

int main(int argc, char **argv) {
        ASSERT_TRUE(argc == 2);
        data_dir = argv[1];
        RUN(test_bundle_control_is_what_ovs_ofctl_sends);
        RUN(test_bundle_committed_only_when_all_taken);
        return 0;
}
