/* SPDX-License-Identifier: LGPL-2.1-or-later */
#include <poll.h>
#include <stdio.h>
#include <sys/socket.h>
#include <sys/un.h>

#include "hash.h"
#include "macro.h"
#include "ofp-client.h"

DEFINE_TRIVIAL_CLEANUP_FUNC(OfpClient *, ofp_client_free);

#define OFPMP_FLOW 1
#define OFPMPF_REPLY_MORE 1
#define OFP_MULTIPART_HEADER_LEN 16
#define OFP_FLOW_STATS_FIXED_LEN 48
#define OFP_MAX_MESSAGE (64 * 1024)
#define OFP_IN_BUFFER (2 * OFP_MAX_MESSAGE)

struct OfpClient {
        int fd;
        int timeout_ms;
        uint32_t next_xid;
        uint32_t next_bundle_id;
        bool negotiated;               /* the switch's HELLO came, with a version op-dbus speaks */
        size_t in_start, in_len;       /* received bytes not yet taken: in[in_start..in_start+in_len) */
        uint8_t in[OFP_IN_BUFFER];
};

void ofp_flow_list_done(OfpFlowList *l) {
        for (size_t i = 0; i < l->n; i++)
                free(l->flows[i].body);
        free(l->flows);
        *l = (OfpFlowList) {};
}

OfpClient *ofp_client_free(OfpClient *c) {
        if (!c)
                return NULL;
        if (c->fd >= 0)
                close(c->fd);
        free(c);
        return NULL;
}

static void header(uint8_t *p, uint8_t type, uint16_t len, uint32_t xid) {
        p[0] = OFP14_VERSION;
        p[1] = type;
        ofp_store16(p + 2, len);
        ofp_store32(p + 4, xid);
}

static int send_all(OfpClient *c, const uint8_t *p, size_t len) {
        while (len > 0) {
                ssize_t k = send(c->fd, p, len, MSG_NOSIGNAL);

                if (k < 0) {
                        if (errno == EINTR)
                                continue;
                        return negative_errno();
                }
                p += k;
                len -= (size_t) k;
        }
        return 0;
}

/* Reads what the socket has (waiting up to timeout_ms for something):
 * > 0 bytes, -ETIMEDOUT, -ECONNRESET when the switch closed it. */
static int fill(OfpClient *c, int timeout_ms) {
        struct pollfd pfd = { .fd = c->fd, .events = POLLIN };
        ssize_t k;
        int r;

        if (c->in_start > 0) {
                memmove(c->in, c->in + c->in_start, c->in_len);
                c->in_start = 0;
        }
        for (;;) {
                r = poll(&pfd, 1, timeout_ms);
                if (r < 0 && errno == EINTR)
                        continue;
                if (r < 0)
                        return negative_errno();
                if (r == 0)
                        return -ETIMEDOUT;
                k = recv(c->fd, c->in + c->in_len, sizeof c->in - c->in_len, MSG_DONTWAIT);
                if (k < 0 && (errno == EINTR || errno == EAGAIN))
                        continue;
                if (k < 0)
                        return negative_errno();
                if (k == 0)
                        return -ECONNRESET;
                c->in_len += (size_t) k;
                return (int) k;
        }
}

/* The next complete message received, without waiting: 1 with *ret and
 * *ret_len set (valid until the next call that reads), 0 when none is
 * complete yet. */
static int next_message(OfpClient *c, const uint8_t **ret, size_t *ret_len) {
        const uint8_t *p = c->in + c->in_start;
        uint16_t len;

        if (c->in_len < OFP_HEADER_LEN)
                return 0;
        len = ofp_load16(p + 2);
        if (len < OFP_HEADER_LEN)
                return -EBADMSG;
        if (c->in_len < len)
                return 0;
        c->in_start += len;
        c->in_len -= len;
        *ret = p;
        *ret_len = len;
        return 1;
}

/* The switch's HELLO, which must come first and speak OpenFlow 1.4 at
 * least (the switch speaks the lower of the two versions it was
 * offered): 1 once it was taken, 0 while it is not complete. */
static int take_hello(OfpClient *c) {
        const uint8_t *m;
        size_t len;
        int r;

        if (c->negotiated)
                return 1;
        r = next_message(c, &m, &len);
        if (r <= 0)
                return r;
        if (m[1] != OFPT_HELLO)
                return -EPROTO;
        if (m[0] < OFP14_VERSION)
                return -EPROTONOSUPPORT;
        c->negotiated = true;
        return 1;
}

/* The next message after the HELLO, as next_message. */
static int take_message(OfpClient *c, const uint8_t **ret, size_t *ret_len) {
        int r = take_hello(c);

        return r <= 0 ? r : next_message(c, ret, ret_len);
}

/* Answers an echo request (m, which is overwritten). */
static int answer_echo(OfpClient *c, uint8_t *m, size_t len) {
        m[1] = OFPT_ECHO_REPLY;
        return send_all(c, m, len);
}

/* Receives one message, answering echo requests on the way. Returns its
 * type; -EPROTO for an error message. */
static int recv_message(OfpClient *c, const uint8_t **ret, size_t *ret_len) {
        for (;;) {
                const uint8_t *m;
                size_t len;
                int r;

                r = take_message(c, &m, &len);
                if (r < 0)
                        return r;
                if (r == 0) {
                        r = fill(c, c->timeout_ms);
                        if (r < 0)
                                return r;
                        continue;
                }
                if (m[1] == OFPT_ECHO_REQUEST) {
                        r = answer_echo(c, (uint8_t *) m, len);
                        if (r < 0)
                                return r;
                        continue;
                }
                if (m[1] == OFPT_ERROR)
                        return -EPROTO;
                *ret = m;
                *ret_len = len;
                return m[1];
        }
}

static int connect_unix(const char *address, int *ret_fd) {
        _cleanup_(closep) int fd = -EBADF;
        struct sockaddr_un sa = { .sun_family = AF_UNIX };
        const char *path = startswith(address, "unix:") ? address + 5 : address;

        if (path[0] != '/')
                return -EINVAL;
        if (strlen(path) >= sizeof sa.sun_path)
                return -ENAMETOOLONG;
        strcpy(sa.sun_path, path);

        fd = socket(AF_UNIX, SOCK_STREAM | SOCK_CLOEXEC, 0);
        if (fd < 0)
                return negative_errno();
        if (connect(fd, (struct sockaddr *) &sa, sizeof sa) < 0)
                return negative_errno();
        *ret_fd = TAKE_FD(fd);
        return 0;
}

int ofp_client_open(const char *address, int timeout_ms, OfpClient **ret) {
        _cleanup_(freep) OfpClient *c = calloc(1, sizeof(OfpClient));
        uint8_t hello[OFP_HEADER_LEN];
        int r;

        if (!c)
                return -ENOMEM;
        c->fd = -EBADF;
        c->timeout_ms = timeout_ms;
        c->next_xid = 1;
        c->next_bundle_id = 1;

        r = connect_unix(address, &c->fd);
        if (r < 0)
                return r;
        header(hello, OFPT_HELLO, sizeof hello, c->next_xid++);
        r = send_all(c, hello, sizeof hello);
        if (r < 0) {
                close(c->fd);
                return r;
        }
        *ret = TAKE_PTR(c);
        return 0;
}

int ofp_client_connect(const char *address, int timeout_ms, OfpClient **ret) {
        _cleanup_(ofp_client_freep) OfpClient *c = NULL;
        int r;

        r = ofp_client_open(address, timeout_ms, &c);
        while (r >= 0 && (r = take_hello(c)) == 0)
                r = fill(c, c->timeout_ms);
        if (r < 0)
                return r;
        *ret = TAKE_PTR(c);
        return 0;
}

/* ---- reading flows ---------------------------------------------------------------- */

/* One flow-stats entry; returns its length. */
static int parse_entry(const uint8_t *p, size_t avail, OfpFlowList *out) {
        uint16_t len;
        OfpFlow *f;
        uint64_t h;
        int r;

        if (avail < OFP_FLOW_STATS_FIXED_LEN)
                return -EBADMSG;
        len = ofp_load16(p);
        if (len < OFP_FLOW_STATS_FIXED_LEN || len > avail || len % 8 != 0)
                return -EBADMSG;

        r = greedy_realloc((void **) &out->flows, &out->allocated, out->n + 1, sizeof(OfpFlow));
        if (r < 0)
                return r;
        f = &out->flows[out->n];
        *f = (OfpFlow) {
                .table = p[2],
                .priority = ofp_load16(p + 12),
                .idle_timeout = ofp_load16(p + 14),
                .hard_timeout = ofp_load16(p + 16),
                .cookie = ofp_load64(p + 24),
                .packets = ofp_load64(p + 32),
                .bytes = ofp_load64(p + 40),
                .body_len = len - OFP_FLOW_STATS_FIXED_LEN,
        };
        f->body = malloc(f->body_len + 1);
        if (!f->body)
                return -ENOMEM;
        memcpy(f->body, p + OFP_FLOW_STATS_FIXED_LEN, f->body_len);

        /* Identity: table, priority, timeouts, flags, importance, cookie,
         * match and instructions; not durations or counters. */
        h = hash64_update(HASH64_INIT, p + 2, 1);
        h = hash64_update(h, p + 12, 10);
        h = hash64_update(h, p + 24, 8);
        f->digest = hash64_update(h, f->body, f->body_len);
        out->n++;
        return len;
}

int ofp_parse_flow_stats(const uint8_t *body, size_t len, OfpFlowList *out) {
        size_t off = 0;

        while (off < len) {
                int k = parse_entry(body + off, len - off, out);

                if (k < 0)
                        return k;
                off += (size_t) k;
        }
        return 0;
}

int ofp_client_dump_flows_send(OfpClient *c, uint64_t cookie, uint64_t cookie_mask, uint32_t *ret_xid) {
        uint8_t req[OFP_MULTIPART_HEADER_LEN + 40] = {};
        uint32_t xid = c->next_xid++;
        uint8_t *b = req + OFP_MULTIPART_HEADER_LEN;
        int r;

        header(req, OFPT_MULTIPART_REQUEST, sizeof req, xid);
        ofp_store16(req + 8, OFPMP_FLOW);
        b[0] = 0xff;                          /* all tables */
        ofp_store32(b + 4, OFPP_ANY);         /* any out_port */
        ofp_store32(b + 8, 0xffffffff);       /* any out_group */
        ofp_store64(b + 16, cookie);
        ofp_store64(b + 24, cookie_mask);
        ofp_store16(b + 32, 1);               /* OXM match */
        ofp_store16(b + 34, 4);               /* empty: header only, padded to 8 */

        r = send_all(c, req, sizeof req);
        if (r < 0)
                return r;
        *ret_xid = xid;
        return 0;
}

int ofp_client_dump_flows_recv(OfpClient *c, uint32_t xid, OfpFlowList *out) {
        int r;

        for (;;) {
                const uint8_t *m;
                size_t len;

                r = recv_message(c, &m, &len);
                if (r < 0)
                        return r;
                if (r != OFPT_MULTIPART_REPLY || ofp_load32(m + 4) != xid)
                        continue; /* not ours */
                if (len < OFP_MULTIPART_HEADER_LEN || ofp_load16(m + 8) != OFPMP_FLOW)
                        return -EBADMSG;
                r = ofp_parse_flow_stats(m + OFP_MULTIPART_HEADER_LEN, len - OFP_MULTIPART_HEADER_LEN, out);
                if (r < 0)
                        return r;
                if (!(ofp_load16(m + 10) & OFPMPF_REPLY_MORE))
                        return 0;
        }
}

int ofp_client_dump_flows(OfpClient *c, uint64_t cookie, uint64_t cookie_mask, OfpFlowList *out) {
        uint32_t xid;
        int r;

        r = ofp_client_dump_flows_send(c, cookie, cookie_mask, &xid);
        return r < 0 ? r : ofp_client_dump_flows_recv(c, xid, out);
}

int ofp_client_fd(OfpClient *c) {
        return c->fd;
}

int ofp_client_process(OfpClient *c) {
        for (;;) {
                const uint8_t *m;
                size_t len;
                int r;

                r = take_message(c, &m, &len);
                if (r < 0)
                        return r;
                if (r > 0) {
                        if (m[1] == OFPT_ECHO_REQUEST && (r = answer_echo(c, (uint8_t *) m, len)) < 0)
                                return r;
                        continue;
                }
                r = fill(c, 0);
                if (r == -ETIMEDOUT)
                        return 0;
                if (r < 0)
                        return r;
        }
}

/* ---- bundles ------------------------------------------------------------------------ */

void ofp_bundle_done(OfpBundle *b) {
        ofp_buf_done(&b->msgs);
        free(b->errors);
        *b = (OfpBundle) {};
}

void ofp_client_bundle_begin(OfpClient *c, OfpBundle *ret) {
        *ret = (OfpBundle) {
                .id = c->next_bundle_id++,
                .first_xid = c->next_xid,
        };
}

int ofp_bundle_add_flow_mod(OfpBundle *b, const OfpFlowMod *fm) {
        ofp_put_bundle_flow_mod(&b->msgs, b->first_xid + (uint32_t) b->n, b->id, OFPBF_ATOMIC | OFPBF_ORDERED, fm);
        if (b->msgs.error < 0)
                return b->msgs.error;
        return (int) b->n++;
}

ssize_t ofp_bundle_index_of(const OfpBundle *b, uint32_t xid) {
        return xid - b->first_xid < b->n ? (ssize_t) (xid - b->first_xid) : -1;
}

static int add_error(OfpBundle *b, const uint8_t *m, size_t len) {
        OfpError e = { .xid = ofp_load32(m + 4) };
        int r;

        if (len < OFP_HEADER_LEN + 4)
                return -EBADMSG;
        e.type = ofp_load16(m + 8);
        e.code = ofp_load16(m + 10);
        if (e.type == 0xffff && len >= OFP_HEADER_LEN + 8)
                e.experimenter = ofp_load32(m + 12);
        r = greedy_realloc((void **) &b->errors, &b->allocated_errors, b->n_errors + 1, sizeof(OfpError));
        if (r < 0)
                return r;
        b->errors[b->n_errors++] = e;
        return 0;
}

/* What a bundle transaction waits for: the reply of type `type` (a
 * barrier or bundle control reply) to xid. */
typedef struct Awaited {
        uint32_t xid;
        uint8_t type;
        bool done;
        bool failed;                 /* the switch answered it with an error */
} Awaited;

/* Takes the messages received so far: errors go to b, an echo request
 * is answered (or, while a message is half sent, remembered), the awaited
 * reply is marked. */
static int take_replies(OfpClient *c, OfpBundle *b, Awaited *a, bool *echo_pending, uint8_t echo[static OFP_HEADER_LEN]) {
        for (;;) {
                const uint8_t *m;
                size_t len;
                int r;

                r = take_message(c, &m, &len);
                if (r <= 0)
                        return r;
                if (m[1] == OFPT_ECHO_REQUEST) {
                        /* the echo's payload is not kept: an empty reply is a reply */
                        header(echo, OFPT_ECHO_REPLY, OFP_HEADER_LEN, ofp_load32(m + 4));
                        *echo_pending = true;
                } else if (m[1] == OFPT_ERROR) {
                        r = add_error(b, m, len);
                        if (r < 0)
                                return r;
                        if (ofp_load32(m + 4) == a->xid)
                                a->done = a->failed = true;
                } else if (m[1] == a->type && ofp_load32(m + 4) == a->xid)
                        a->done = true;
        }
}

/* Sends len bytes while taking what the switch sends meanwhile (so that
 * neither side waits for the other with a full socket buffer), then
 * receives until the awaited reply arrived. */
static int exchange(OfpClient *c, OfpBundle *b, const uint8_t *p, size_t len, Awaited *a) {
        uint8_t echo[OFP_HEADER_LEN];
        bool echo_pending = false;
        int r;

        while (len > 0 || !a->done) {
                struct pollfd pfd = { .fd = c->fd, .events = POLLIN | (len > 0 ? POLLOUT : 0) };

                if (len == 0 && echo_pending) {
                        r = send_all(c, echo, sizeof echo);
                        if (r < 0)
                                return r;
                        echo_pending = false;
                }
                r = poll(&pfd, 1, c->timeout_ms);
                if (r < 0 && errno == EINTR)
                        continue;
                if (r < 0)
                        return negative_errno();
                if (r == 0)
                        return -ETIMEDOUT;
                if (pfd.revents & POLLOUT) {
                        ssize_t k = send(c->fd, p, len, MSG_NOSIGNAL | MSG_DONTWAIT);

                        if (k < 0 && errno != EAGAIN && errno != EINTR)
                                return negative_errno();
                        if (k > 0) {
                                p += k;
                                len -= (size_t) k;
                        }
                }
                if (pfd.revents & (POLLIN | POLLHUP | POLLERR)) {
                        r = fill(c, 0);
                        if (r < 0)
                                return r;
                        r = take_replies(c, b, a, &echo_pending, echo);
                        if (r < 0)
                                return r;
                }
        }
        if (echo_pending)
                return send_all(c, echo, sizeof echo);
        return 0;
}

int ofp_client_bundle_commit(OfpClient *c, OfpBundle *b) {
        uint16_t flags = OFPBF_ATOMIC | OFPBF_ORDERED;
        _cleanup_(ofp_buf_done) OfpBuf control = {};
        Awaited barrier, end;
        uint32_t open_xid;
        size_t n_errors;
        int r;

        if (b->msgs.error < 0)
                return b->msgs.error;
        if (c->next_xid != b->first_xid)
                return -EBUSY;       /* the client was used since begin */
        c->next_xid = b->first_xid + (uint32_t) b->n;
        open_xid = c->next_xid++;
        barrier = (Awaited) { .xid = c->next_xid++, .type = OFPT_BARRIER_REPLY };

        /* Open, then the messages: the switch decodes each as it comes and
         * refuses a bad one at once (it is then not in the bundle). */
        ofp_put_bundle_control(&control, open_xid, b->id, OFPBCT_OPEN_REQUEST, flags);
        if (control.error < 0)
                return control.error;
        r = send_all(c, control.data, control.len);
        if (r < 0)
                return r;
        /* The barrier's reply comes after every error for what came before. */
        ofp_put_barrier_request(&b->msgs, barrier.xid);
        if (b->msgs.error < 0)
                return b->msgs.error;
        r = exchange(c, b, b->msgs.data, b->msgs.len, &barrier);
        b->msgs.len -= OFP_HEADER_LEN;
        if (r < 0)
                return r;

        /* Commit only what the switch took whole; otherwise discard. */
        n_errors = b->n_errors;
        end = (Awaited) { .xid = c->next_xid++ };
        end.type = OFPT_BUNDLE_CONTROL;
        control.len = 0;
        ofp_put_bundle_control(&control, end.xid, b->id, n_errors > 0 ? OFPBCT_DISCARD_REQUEST : OFPBCT_COMMIT_REQUEST,
                               flags);
        if (control.error < 0)
                return control.error;
        r = exchange(c, b, control.data, control.len, &end);
        if (r < 0)
                return r;
        return n_errors > 0 || end.failed || b->n_errors > n_errors ? -EPROTO : 0;
}
