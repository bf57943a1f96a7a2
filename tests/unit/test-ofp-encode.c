/* SPDX-License-Identifier: LGPL-2.1-or-later */
/* op-dbus's OpenFlow 1.4 encoding, byte for byte against what ovs-ofctl
 * sends for the same flows (tests/unit/data/ofp: pipeline.json, its flows
 * as ovs-ofctl text in flows.txt, and what ovs-ofctl sent for each in
 * flow-mods.txt, captured by ./capture): every match field and action op-dbus
 * uses, the pipeline's flows, policies and explicit flows, strict deletes
 * with the cookie matched whole, and the bundle's control messages. Then
 * the bundle transaction against a scripted switch: committed only when
 * every message was taken, refusals mapped to the flow that caused them. */
#include <inttypes.h>
#include <pthread.h>
#include <stdio.h>
#include <sys/socket.h>
#include <sys/un.h>

#include "json-util.h"
#include "of-engine.h"
#include "of-sync.h"
#include "openflow.h"
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

/* The flow mod captured for a command ("add"/"delete_strict") and cookie. */
static const Capture *capture_of(const Captures *l, const char *command, uint64_t cookie) {
        for (size_t i = 0; i < l->n; i++)
                if (startswith(l->c[i].text, command) && l->c[i].text[strlen(command)] == ' ' && l->c[i].len >= 16 &&
                    ofp_load64(l->c[i].bytes + 8) == cookie)
                        return &l->c[i];
        return NULL;
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

/* ---- the flows of pipeline.json ----------------------------------------------------- */

typedef struct Lab {
        OpenflowConfig config;
        OfPort port[5];
        OfPorts ports;
        OfFlowSet flows;
} Lab;

static void lab_build(Lab *lab) {
        _cleanup_(json_object_putp) json_object *o = NULL;
        _cleanup_(diag_done) Diag d = {};
        _cleanup_(freep) char *path = NULL, *buf = NULL;
        size_t len, hits[8] = {};
        const OfSocketPort *sock;

        ASSERT_TRUE(asprintf(&path, "%s/pipeline.json", data_dir) > 0);
        ASSERT_EQ(read_full_file(path, &buf, &len), 0);
        ASSERT_EQ(json_parse_located(buf, len, path, &o, &d), 0);
        if (openflow_parse(&lab->config, o, &d) < 0) {
                diag_print(&d, stderr, "  ");
                TEST_FAIL("pipeline.json is refused");
        }
        /* The bridge's ports as flows.txt has them. */
        sock = lab->config.bridges[0].socket_ports;
        lab->port[0] = (OfPort) { "internal_100", "br0", 1, 100, 0, &sock[0] };
        lab->port[1] = (OfPort) { "internal_101", "br0", 2, 101, 0, &sock[1] };
        lab->port[2] = (OfPort) { "internal_102", "br0", 3, 102, 0, &sock[2] };
        lab->port[3] = (OfPort) { "veth103i1", "br0", 4, 103, 1, NULL };
        lab->port[4] = (OfPort) { "uplink0", "br0", 5, 0, 0, NULL };
        lab->ports = (OfPorts) { .ports = lab->port, .n = ELEMENTSOF(lab->port) };
        if (of_pipeline_build(&lab->config, &lab->config.bridges[0], &lab->ports, &lab->flows, hits, &d) < 0) {
                diag_print(&d, stderr, "  ");
                TEST_FAIL("the flows of pipeline.json cannot be built");
        }
}

static void lab_done(Lab *lab) {
        of_flow_set_done(&lab->flows);
        openflow_config_done(&lab->config);
}

/* The flow mods in a bundle's messages, one by one. */
static const uint8_t *next_flow_mod(const OfpBundle *b, size_t *off, size_t *ret_len) {
        const uint8_t *m = b->msgs.data + *off;

        if (*off >= b->msgs.len)
                return NULL;
        ASSERT_EQ(m[1], OFPT_BUNDLE_ADD_MESSAGE);
        *off += ofp_load16(m + 2);
        *ret_len = ofp_load16(m + 16 + 2);
        return m + 16;
}

/* A copy of a flow mod with transaction id 0, as the captures have them. */
static uint8_t *without_xid(const uint8_t *m, size_t len) {
        uint8_t *c = malloc(len);

        memcpy(c, m, len);
        memset(c + 4, 0, 4);
        return c;
}

TEST(test_every_flow_is_what_ovs_ofctl_sends) {
        _cleanup_(ofp_bundle_done) OfpBundle bundle = {};
        Captures caps;
        Lab lab = {};
        OfBridgeSync b = { .name = (char *) "br0" };
        const uint8_t *m;
        size_t off = 0, len, n = 0, n_add = 0;

        captures_load(&caps);
        lab_build(&lab);
        /* Every flow new: the bundle adds them all. */
        b.want = &lab.flows;
        ASSERT_EQ(of_bridge_diff(&b, false, NULL), 0);
        ASSERT_EQ(b.n_send, lab.flows.n);
        ASSERT_EQ(of_bridge_flow_mods(&b, &bundle), 0);

        while ((m = next_flow_mod(&bundle, &off, &len))) {
                _cleanup_(freep) uint8_t *c = without_xid(m, len);
                const Capture *want = capture_of(&caps, "add", ofp_load64(m + 8));
                char what[64];

                snprintf(what, sizeof what, "flow with cookie 0x%016" PRIx64, ofp_load64(m + 8));
                if (!want)
                        TEST_FAIL("%s: flows.txt has no such flow", what);
                assert_bytes(want->text, c, len, want);
                n++;
        }
        for (size_t i = 0; i < caps.n; i++)
                n_add += startswith(caps.c[i].text, "add ");
        ASSERT_EQ(n, n_add);
        free(b.send);
        free(b.remove);
        lab_done(&lab);
        captures_done(&caps);
}

/* An installed flow as the switch reports it: match padded to 8 bytes,
 * then the instructions. */
static void installed(OfpFlow *h, const OfFlowSet *s, const OfDesired *w) {
        size_t mlen = 4 + w->match_len, padded = (mlen + 7) / 8 * 8;

        *h = (OfpFlow) { .cookie = w->cookie, .table = w->table, .priority = w->priority };
        h->body_len = padded + w->insts_len;
        h->body = calloc(1, h->body_len);
        ofp_store16(h->body, 1);
        ofp_store16(h->body + 2, (uint16_t) mlen);
        memcpy(h->body + 4, of_desired_match(s, w), w->match_len);
        memcpy(h->body + padded, of_desired_insts(s, w), w->insts_len);
}

TEST(test_deletes_are_strict_with_the_whole_cookie) {
        static const uint64_t cookies[] = { 0xd0b5010000000000, 0xf10c000100000064, 0xface000000000101 };
        _cleanup_(ofp_bundle_done) OfpBundle bundle = {};
        static const OfFlowSet nothing = {};
        OfBridgeSync b = { .name = (char *) "br0", .want = &nothing };
        Captures caps;
        Lab lab = {};
        const uint8_t *m;
        size_t off = 0, len, n = 0;

        captures_load(&caps);
        lab_build(&lab);
        b.have.flows = calloc(ELEMENTSOF(cookies), sizeof(OfpFlow));
        b.have.n = b.have.allocated = ELEMENTSOF(cookies);
        for (size_t i = 0; i < ELEMENTSOF(cookies); i++) {
                const OfDesired *w = of_flow_set_find(&lab.flows, cookies[i]);

                ASSERT_TRUE(w);
                installed(&b.have.flows[i], &lab.flows, w);
        }
        /* None of them wanted any more: each is deleted, that flow only. */
        ASSERT_EQ(of_bridge_diff(&b, false, NULL), 0);
        ASSERT_EQ(b.n_remove, ELEMENTSOF(cookies));
        ASSERT_EQ(b.n_deleted, ELEMENTSOF(cookies));
        ASSERT_EQ(of_bridge_flow_mods(&b, &bundle), 0);
        while ((m = next_flow_mod(&bundle, &off, &len))) {
                _cleanup_(freep) uint8_t *c = without_xid(m, len);
                const Capture *want = capture_of(&caps, "delete_strict", ofp_load64(m + 8));

                ASSERT_TRUE(want);
                ASSERT_EQ(m[25], OFPFC_DELETE_STRICT);
                ASSERT_EQ(ofp_load64(m + 16), UINT64_MAX);      /* cookie_mask: all of the cookie */
                assert_bytes(want->text, c, len, want);
                n++;
        }
        ASSERT_EQ(n, ELEMENTSOF(cookies));
        ofp_flow_list_done(&b.have);
        free(b.send);
        free(b.remove);
        lab_done(&lab);
        captures_done(&caps);
}

TEST(test_changed_flow_is_one_flow_mod) {
        _cleanup_(ofp_bundle_done) OfpBundle bundle = {};
        OfBridgeSync b = { .name = (char *) "br0" };
        Lab lab = {};
        const OfDesired *w;

        lab_build(&lab);
        b.want = &lab.flows;
        /* The switch has every flow; one of them with other actions. */
        b.have.flows = calloc(lab.flows.n, sizeof(OfpFlow));
        b.have.n = b.have.allocated = lab.flows.n;
        for (size_t i = 0; i < lab.flows.n; i++) {
                installed(&b.have.flows[i], &lab.flows, &lab.flows.flows[i]);
                b.have.flows[i].digest = 1000 + i;
                ASSERT_EQ(of_record_add(&b.record, &(OfRecordEntry) { .cookie = lab.flows.flows[i].cookie,
                                                                      .digest = 1000 + i,
                                                                      .spec_hash = lab.flows.flows[i].spec_hash }), 0);
        }
        ASSERT_EQ(of_bridge_diff(&b, false, NULL), 0);
        ASSERT_EQ(b.n_send + b.n_remove, 0);

        w = of_flow_set_find(&lab.flows, 0xface000000000201);
        b.have.flows[w - lab.flows.flows].digest = 1;     /* changed by hand */
        ASSERT_EQ(of_bridge_diff(&b, false, NULL), 0);
        /* Same table, priority and match: the add replaces it. */
        ASSERT_EQ(b.n_send, 1);
        ASSERT_EQ(b.n_remove, 0);
        ASSERT_EQ(b.send[0]->cookie, 0xface000000000201);
        ASSERT_EQ(of_bridge_flow_mods(&b, &bundle), 0);
        ASSERT_EQ(bundle.n, 1);

        ofp_flow_list_done(&b.have);
        of_record_done(&b.record);
        free(b.send);
        free(b.remove);
        lab_done(&lab);
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
        uint8_t hello_version;       /* the version its HELLO offers (0: OpenFlow 1.5) */
        bool no_wait;                /* the client sends without waiting for the HELLO */
        /* what it received */
        unsigned n_adds, n_open, n_commit, n_discard, n_barrier;
} Switch;

/* A client that has its answer may close before the switch's last
 * reply (a discard it does not wait for): EPIPE and ECONNRESET are that. */
static void put_msg(int fd, uint8_t type, uint32_t xid, const void *body, size_t n) {
        uint8_t m[128] = { OFP14_VERSION, type };
        ssize_t k;

        ofp_store16(m + 2, (uint16_t) (8 + n));
        ofp_store32(m + 4, xid);
        if (n > 0)
                memcpy(m + 8, body, n);
        k = send(fd, m, 8 + n, MSG_NOSIGNAL);
        if (k < 0)
                ASSERT_TRUE(errno == EPIPE || errno == ECONNRESET);
        else
                ASSERT_EQ(k, (ssize_t) (8 + n));
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
                        m[0] = s->hello_version ?: 0x06;
                        m[1] = OFPT_HELLO;
                        ofp_store16(m + 2, 8);
                        ASSERT_EQ(send(fd, m, 8, MSG_NOSIGNAL), 8);
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

        if (s->no_wait)
                ASSERT_EQ(ofp_client_open(sa.sun_path, 10000, &c), 0);
        else {
                r = ofp_client_connect(sa.sun_path, 10000, &c);
                if (r < 0) {
                        close(s->listen_fd);     /* the switch thread is done */
                        ASSERT_EQ(pthread_join(t, NULL), 0);
                        (void) unlink(sa.sun_path);
                        return r;
                }
        }
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

/* A client may send before the switch's HELLO has come; the HELLO is
 * checked when the first answer is read. */
TEST(test_hello) {
        {
                _cleanup_(ofp_bundle_done) OfpBundle b = {};
                Switch s = { .no_wait = true };

                ASSERT_EQ(run_bundle(&s, 3, &b), 0);
                ASSERT_EQ(s.n_commit, 1);
        }
        /* a switch that offers OpenFlow 1.3 at most */
        {
                _cleanup_(ofp_bundle_done) OfpBundle b = {};
                Switch s = { .hello_version = 0x04 };

                ASSERT_EQ(run_bundle(&s, 3, &b), -EPROTONOSUPPORT);
        }
        {
                _cleanup_(ofp_bundle_done) OfpBundle b = {};
                Switch s = { .hello_version = 0x04, .no_wait = true };

                ASSERT_EQ(run_bundle(&s, 3, &b), -EPROTONOSUPPORT);
                ASSERT_EQ(s.n_commit, 0);
        }
}

/* A flow's body as a flow stats entry carries it: an OXM match (in_port
 * 1, padded to 8 bytes), then the instructions insts. */
static void flow_body(OfpBuf *b, const uint8_t *insts, size_t n) {
        uint8_t oxm[OFP_OXM_FIELD_MAX], port[4] = { 0, 0, 0, 1 }, *p;
        size_t len = ofp_oxm_put(oxm, OFP_OXM_OF, 0, port, NULL, sizeof port);

        p = ofp_buf_put_zeros(b, 4);
        ofp_store16(p, 1);
        ofp_store16(p + 2, (uint16_t) (4 + len));
        ofp_buf_put(b, oxm, len);
        ofp_buf_put_zeros(b, (8 - (4 + len) % 8) % 8);
        ofp_buf_put(b, insts, n);
}

/* Which flows drop (op-dbus show counts their packets as drops): no
 * instruction, or action instructions without an action. */
TEST(test_flows_that_drop) {
        static const uint8_t empty_apply[] = { 0, 4, 0, 8, 0, 0, 0, 0 };
        static const uint8_t clear[] = { 0, 5, 0, 8, 0, 0, 0, 0 };
        static const uint8_t goto_table[] = { 0, 1, 0, 8, 20, 0, 0, 0 };
        static const uint8_t truncated[] = { 0, 4, 0, 16, 0, 0, 0, 0 };
        _cleanup_(ofp_buf_done) OfpBuf none = {}, empty = {}, cleared = {}, output = {}, go = {}, bad = {};
        _cleanup_(ofp_buf_done) OfpBuf actions = {};
        size_t start;

        flow_body(&none, NULL, 0);
        ASSERT_EQ(ofp_instructions_drop(none.data, none.len), 1);
        flow_body(&empty, empty_apply, sizeof empty_apply);
        ASSERT_EQ(ofp_instructions_drop(empty.data, empty.len), 1);
        flow_body(&cleared, clear, sizeof clear);
        ASSERT_EQ(ofp_instructions_drop(cleared.data, cleared.len), 1);

        start = ofp_apply_actions_begin(&actions);
        ofp_put_output(&actions, OFPP_NORMAL);
        ofp_apply_actions_end(&actions, start);
        flow_body(&output, actions.data, actions.len);
        ASSERT_EQ(ofp_instructions_drop(output.data, output.len), 0);
        flow_body(&go, goto_table, sizeof goto_table);
        ASSERT_EQ(ofp_instructions_drop(go.data, go.len), 0);

        flow_body(&bad, truncated, sizeof truncated);
        ASSERT_EQ(ofp_instructions_drop(bad.data, bad.len), -EBADMSG);
        ASSERT_EQ(ofp_instructions_drop(none.data, 3), -EBADMSG);
}

int main(int argc, char **argv) {
        ASSERT_TRUE(argc == 2);
        data_dir = argv[1];
        RUN(test_bundle_control_is_what_ovs_ofctl_sends);
        RUN(test_every_flow_is_what_ovs_ofctl_sends);
        RUN(test_deletes_are_strict_with_the_whole_cookie);
        RUN(test_changed_flow_is_one_flow_mod);
        RUN(test_bundle_committed_only_when_all_taken);
        RUN(test_hello);
        RUN(test_flows_that_drop);
        return 0;
}
