/* SPDX-License-Identifier: LGPL-2.1-or-later */
#include <endian.h>
#include <poll.h>
#include <stdio.h>
#include <sys/socket.h>
#include <sys/un.h>

#include "hash.h"
#include "macro.h"
#include "ofp-client.h"

/* OpenFlow 1.4 wire constants. */
#define OFP14_VERSION 0x05
#define OFPT_HELLO 0
#define OFPT_ERROR 1
#define OFPT_ECHO_REQUEST 2
#define OFPT_ECHO_REPLY 3
#define OFPT_MULTIPART_REQUEST 18
#define OFPT_MULTIPART_REPLY 19
#define OFPMP_FLOW 1
#define OFPMPF_REPLY_MORE 1
#define OFP_HEADER_LEN 8
#define OFP_MULTIPART_HEADER_LEN 16
#define OFP_FLOW_STATS_FIXED_LEN 48
#define OFP_MAX_MESSAGE (64 * 1024)

struct OfpClient {
        int fd;
        int timeout_ms;
        uint32_t next_xid;
        uint8_t buf[OFP_MAX_MESSAGE];   /* one received message */
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

static void put16(uint8_t *p, uint16_t v) {
        v = htobe16(v);
        memcpy(p, &v, 2);
}

static void put32(uint8_t *p, uint32_t v) {
        v = htobe32(v);
        memcpy(p, &v, 4);
}

static void put64(uint8_t *p, uint64_t v) {
        v = htobe64(v);
        memcpy(p, &v, 8);
}

static uint16_t get16(const uint8_t *p) {
        uint16_t v;

        memcpy(&v, p, 2);
        return be16toh(v);
}

static uint32_t get32(const uint8_t *p) {
        uint32_t v;

        memcpy(&v, p, 4);
        return be32toh(v);
}

static uint64_t get64(const uint8_t *p) {
        uint64_t v;

        memcpy(&v, p, 8);
        return be64toh(v);
}

static void header(uint8_t *p, uint8_t type, uint16_t len, uint32_t xid) {
        p[0] = OFP14_VERSION;
        p[1] = type;
        put16(p + 2, len);
        put32(p + 4, xid);
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

static int recv_exact(OfpClient *c, uint8_t *p, size_t len) {
        while (len > 0) {
                struct pollfd pfd = { .fd = c->fd, .events = POLLIN };
                ssize_t k;
                int r;

                r = poll(&pfd, 1, c->timeout_ms);
                if (r < 0) {
                        if (errno == EINTR)
                                continue;
                        return negative_errno();
                }
                if (r == 0)
                        return -ETIMEDOUT;
                k = recv(c->fd, p, len, 0);
                if (k < 0) {
                        if (errno == EINTR)
                                continue;
                        return negative_errno();
                }
                if (k == 0)
                        return -ECONNRESET;
                p += k;
                len -= (size_t) k;
        }
        return 0;
}

/* Receives one message into c->buf, answering echo requests on the way.
 * Returns its type. */
static int recv_message(OfpClient *c, size_t *ret_len) {
        for (;;) {
                uint16_t len;
                int r;

                r = recv_exact(c, c->buf, OFP_HEADER_LEN);
                if (r < 0)
                        return r;
                len = get16(c->buf + 2);
                if (len < OFP_HEADER_LEN)
                        return -EBADMSG;
                r = recv_exact(c, c->buf + OFP_HEADER_LEN, len - OFP_HEADER_LEN);
                if (r < 0)
                        return r;

                if (c->buf[1] == OFPT_ECHO_REQUEST) {
                        c->buf[1] = OFPT_ECHO_REPLY;
                        r = send_all(c, c->buf, len);
                        if (r < 0)
                                return r;
                        continue;
                }
                if (c->buf[1] == OFPT_ERROR)
                        return -EPROTO;
                *ret_len = len;
                return c->buf[1];
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

int ofp_client_connect(const char *address, int timeout_ms, OfpClient **ret) {
        _cleanup_(freep) OfpClient *c = calloc(1, sizeof(OfpClient));
        uint8_t hello[OFP_HEADER_LEN];
        size_t len;
        int r;

        if (!c)
                return -ENOMEM;
        c->fd = -EBADF;
        c->timeout_ms = timeout_ms;
        c->next_xid = 1;

        r = connect_unix(address, &c->fd);
        if (r < 0)
                return r;

        header(hello, OFPT_HELLO, sizeof hello, c->next_xid++);
        r = send_all(c, hello, sizeof hello);
        if (r >= 0)
                r = recv_message(c, &len);
        if (r >= 0 && r != OFPT_HELLO)
                r = -EPROTO;
        /* The switch speaks the lower of the two versions it was offered. */
        if (r >= 0 && c->buf[0] < OFP14_VERSION)
                r = -EPROTONOSUPPORT;
        if (r < 0) {
                close(c->fd);
                return r;
        }
        *ret = TAKE_PTR(c);
        return 0;
}


/* One flow-stats entry; returns its length. */
static int parse_entry(const uint8_t *p, size_t avail, OfpFlowList *out) {
        uint16_t len;
        OfpFlow *f;
        uint64_t h;
        int r;

        if (avail < OFP_FLOW_STATS_FIXED_LEN)
                return -EBADMSG;
        len = get16(p);
        if (len < OFP_FLOW_STATS_FIXED_LEN || len > avail || len % 8 != 0)
                return -EBADMSG;

        r = greedy_realloc((void **) &out->flows, &out->allocated, out->n + 1, sizeof(OfpFlow));
        if (r < 0)
                return r;
        f = &out->flows[out->n];
        *f = (OfpFlow) {
                .table = p[2],
                .priority = get16(p + 12),
                .idle_timeout = get16(p + 14),
                .hard_timeout = get16(p + 16),
                .cookie = get64(p + 24),
                .packets = get64(p + 32),
                .bytes = get64(p + 40),
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
        put16(req + 8, OFPMP_FLOW);
        b[0] = 0xff;                      /* all tables */
        put32(b + 4, 0xffffffff);         /* any out_port */
        put32(b + 8, 0xffffffff);         /* any out_group */
        put64(b + 16, cookie);
        put64(b + 24, cookie_mask);
        put16(b + 32, 1);                 /* OXM match */
        put16(b + 34, 4);                 /* empty: header only, padded to 8 */

        r = send_all(c, req, sizeof req);
        if (r < 0)
                return r;
        *ret_xid = xid;
        return 0;
}

int ofp_client_dump_flows_recv(OfpClient *c, uint32_t xid, OfpFlowList *out) {
        int r;

        for (;;) {
                size_t len;

                r = recv_message(c, &len);
                if (r < 0)
                        return r;
                if (r != OFPT_MULTIPART_REPLY || get32(c->buf + 4) != xid)
                        continue; /* not ours */
                if (len < OFP_MULTIPART_HEADER_LEN || get16(c->buf + 8) != OFPMP_FLOW)
                        return -EBADMSG;
                r = ofp_parse_flow_stats(c->buf + OFP_MULTIPART_HEADER_LEN, len - OFP_MULTIPART_HEADER_LEN, out);
                if (r < 0)
                        return r;
                if (!(get16(c->buf + 10) & OFPMPF_REPLY_MORE))
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
                struct pollfd pfd = { .fd = c->fd, .events = POLLIN };
                size_t len;
                int r;

                r = poll(&pfd, 1, 0);
                if (r < 0)
                        return errno == EINTR ? 0 : negative_errno();
                if (r == 0)
                        return 0;
                if (pfd.revents & (POLLHUP | POLLERR) && !(pfd.revents & POLLIN))
                        return -ECONNRESET;
                r = recv_message(c, &len);
                if (r < 0)
                        return r;
        }
}
