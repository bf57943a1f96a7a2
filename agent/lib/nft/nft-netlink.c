/* SPDX-License-Identifier: LGPL-2.1-or-later */
#include <arpa/inet.h>
#include <poll.h>
#include <sys/socket.h>
#include <time.h>
#include <linux/netfilter/nf_tables.h>
#include <linux/netfilter/nfnetlink.h>

#include "macro.h"
#include "nft-netlink.h"

/* Receive buffer: the kernel sizes dump messages by the reader's buffer,
 * up to 32 KiB. */
#define RECV_SIZE (64u * 1024u)
/* Socket buffer per acknowledgement expected from a batch (an ack is a
 * small skb, but its truesize is near a kilobyte). */
#define ACK_BUFFER 2048u
/* How long to wait for answers that are not queued yet when the write
 * returns (the kernel processes a batch within the write: only a fault
 * makes this wait). */
#define BATCH_TIMEOUT_MS 10000

struct NftNl {
        int fd;
        uint32_t portid;
        uint32_t seq;
        int sndbuf, rcvbuf;             /* what was asked for so far */
        uint8_t *rbuf;                  /* RECV_SIZE bytes */
};

/* ---- buffers ------------------------------------------------------------ */

void nft_buf_done(NftBuf *b) {
        free(b->data);
        *b = (NftBuf) {};
}

int nft_buf_room(NftBuf *b, char **ret) {
        size_t need = b->len + NFT_MSG_ROOM;

        if (need > b->allocated) {
                size_t n = MAX(need * 2, (size_t) 256 * 1024);
                uint8_t *p = realloc(b->data, n);

                if (!p)
                        return -ENOMEM;
                b->data = p;
                b->allocated = n;
        }
        *ret = (char *) b->data + b->len;
        return 0;
}

void nft_buf_commit(NftBuf *b, const struct nlmsghdr *nlh) {
        b->len += NLMSG_ALIGN(nlh->nlmsg_len);
}

static struct nlmsghdr *batch_header(char *p, uint16_t type, uint32_t seq) {
        struct nlmsghdr *nlh = (struct nlmsghdr *) p;
        struct nfgenmsg *nfg = (struct nfgenmsg *) (p + NLMSG_HDRLEN);

        memset(p, 0, NLMSG_HDRLEN + NLMSG_ALIGN(sizeof *nfg) + NLA_HDRLEN + sizeof(uint32_t));
        nlh->nlmsg_len = NLMSG_HDRLEN + NLMSG_ALIGN(sizeof *nfg);
        nlh->nlmsg_type = type;
        nlh->nlmsg_flags = NLM_F_REQUEST;
        nlh->nlmsg_seq = seq;
        nfg->nfgen_family = AF_UNSPEC;
        nfg->version = NFNETLINK_V0;
        nfg->res_id = htons(NFNL_SUBSYS_NFTABLES);
        return nlh;
}

int nft_buf_batch_begin(NftBuf *b, uint32_t seq, bool has_genid, uint32_t genid) {
        struct nlmsghdr *nlh;
        char *p;
        int r;

        r = nft_buf_room(b, &p);
        if (r < 0)
                return r;
        nlh = batch_header(p, NFNL_MSG_BATCH_BEGIN, seq);
        if (has_genid) {
                struct nlattr *a = (struct nlattr *) (p + nlh->nlmsg_len);
                uint32_t be = htonl(genid);

                a->nla_type = NFNL_BATCH_GENID;
                a->nla_len = NLA_HDRLEN + sizeof be;
                memcpy((char *) a + NLA_HDRLEN, &be, sizeof be);
                nlh->nlmsg_len += NLA_ALIGN(a->nla_len);
        }
        nft_buf_commit(b, nlh);
        return 0;
}

int nft_buf_batch_end(NftBuf *b, uint32_t seq) {
        char *p;
        int r;

        r = nft_buf_room(b, &p);
        if (r < 0)
                return r;
        nft_buf_commit(b, batch_header(p, NFNL_MSG_BATCH_END, seq));
        return 0;
}

/* ---- the socket --------------------------------------------------------- */

/* Grows a socket buffer; the privileged form first (no rmem_max cap). */
static int socket_buffer(int fd, int force, int plain, int size) {
        if (setsockopt(fd, SOL_SOCKET, force, &size, sizeof size) == 0)
                return 0;
        if (setsockopt(fd, SOL_SOCKET, plain, &size, sizeof size) == 0)
                return 0;
        return negative_errno();
}

/* What setsockopt() would have been given for the current size (the
 * kernel reports twice that). */
static int socket_buffer_size(int fd, int opt) {
        socklen_t len = sizeof(int);
        int size = 0;

        if (getsockopt(fd, SOL_SOCKET, opt, &size, &len) < 0)
                return 0;
        return size / 2;
}

int nft_nl_open(unsigned group, NftNl **ret) {
        struct sockaddr_nl sa = { .nl_family = AF_NETLINK };
        socklen_t len = sizeof sa;
        NftNl *nl;
        int one = 1;

        nl = calloc(1, sizeof *nl);
        if (!nl)
                return -ENOMEM;
        nl->fd = -EBADF;
        nl->rbuf = malloc(RECV_SIZE);
        if (!nl->rbuf)
                goto fail_errno;
        nl->fd = socket(AF_NETLINK, SOCK_RAW | SOCK_CLOEXEC, NETLINK_NETFILTER);
        if (nl->fd < 0)
                goto fail_errno;
        if (bind(nl->fd, (struct sockaddr *) &sa, sizeof sa) < 0 ||
            getsockname(nl->fd, (struct sockaddr *) &sa, &len) < 0)
                goto fail_errno;
        nl->portid = sa.nl_pid;
        /* Acks without a copy of the request: thousands of them fit. */
        (void) setsockopt(nl->fd, SOL_NETLINK, NETLINK_CAP_ACK, &one, sizeof one);
        if (group != 0) {
                if (setsockopt(nl->fd, SOL_NETLINK, NETLINK_ADD_MEMBERSHIP, &group, sizeof group) < 0)
                        goto fail_errno;
                /* A large transaction of someone else notifies per object. */
                (void) socket_buffer(nl->fd, SO_RCVBUFFORCE, SO_RCVBUF, 4 * 1024 * 1024);
        }
        nl->sndbuf = socket_buffer_size(nl->fd, SO_SNDBUF);
        nl->rcvbuf = socket_buffer_size(nl->fd, SO_RCVBUF);
        nl->seq = (uint32_t) time(NULL);

        *ret = nl;
        return 0;

fail_errno: {
        int r = negative_errno();

        nft_nl_close(nl);
        return r;
}
}

NftNl *nft_nl_close(NftNl *nl) {
        if (!nl)
                return NULL;
        closep(&nl->fd);
        free(nl->rbuf);
        free(nl);
        return NULL;
}

int nft_nl_fd(const NftNl *nl) {
        return nl->fd;
}

uint32_t nft_nl_portid(const NftNl *nl) {
        return nl->portid;
}

uint32_t nft_nl_seq(NftNl *nl, uint32_t n) {
        uint32_t first = ++nl->seq;

        nl->seq += n - 1;
        return first;
}

static int send_all(NftNl *nl, const void *data, size_t len) {
        struct sockaddr_nl kernel = { .nl_family = AF_NETLINK };
        ssize_t n;

        n = sendto(nl->fd, data, len, 0, (struct sockaddr *) &kernel, sizeof kernel);
        if (n < 0)
                return negative_errno();
        if ((size_t) n != len)
                return -EMSGSIZE;
        return 0;
}

/* One datagram into nl->rbuf; its length, 0 when nothing is queued (with
 * dontwait), -ENOBUFS when the kernel dropped messages. */
static ssize_t receive(NftNl *nl, bool dontwait) {
        struct sockaddr_nl from;
        struct iovec iov = { nl->rbuf, RECV_SIZE };
        struct msghdr mh = {
                .msg_name = &from,
                .msg_namelen = sizeof from,
                .msg_iov = &iov,
                .msg_iovlen = 1,
        };
        ssize_t n;

        for (;;) {
                n = recvmsg(nl->fd, &mh, dontwait ? MSG_DONTWAIT : 0);
                if (n >= 0)
                        break;
                if (errno == EINTR)
                        continue;
                if (errno == EAGAIN && dontwait)
                        return 0;
                return negative_errno();
        }
        if (mh.msg_flags & MSG_TRUNC)
                return -EMSGSIZE;
        if (mh.msg_namelen != sizeof from || from.nl_pid != 0)
                return -EPROTO;         /* not from the kernel */
        return n;
}

/* NLMSG_OK and NLMSG_NEXT over a size_t length: the kernel's macros compare
 * an int with the header's u32 length. */
static bool msg_ok(const struct nlmsghdr *nlh, size_t len) {
        return len >= sizeof *nlh && nlh->nlmsg_len >= sizeof *nlh && nlh->nlmsg_len <= len;
}

static struct nlmsghdr *msg_next(const struct nlmsghdr *nlh, size_t *len) {
        size_t step = NLMSG_ALIGN(nlh->nlmsg_len);

        if (step > *len)
                step = *len;
        *len -= step;
        return (struct nlmsghdr *) ((const char *) nlh + step);
}

static int nlmsg_error_of(const struct nlmsghdr *nlh) {
        const struct nlmsgerr *e = NLMSG_DATA(nlh);

        if (nlh->nlmsg_len < NLMSG_LENGTH(sizeof *e))
                return -EBADMSG;
        return e->error > 0 ? -e->error : e->error;
}

/* The end of an answer: the first error seen, else -EAGAIN for an
 * interrupted dump, else 0. */
static int answer_end(int error, int failed, bool interrupted) {
        if (error < 0)
                return error;
        if (failed < 0)
                return failed;
        return interrupted ? -EAGAIN : 0;
}

int nft_nl_request(NftNl *nl, const struct nlmsghdr *req, NftNlHandler handler, void *userdata) {
        bool dump = req->nlmsg_flags & NLM_F_DUMP, interrupted = false;
        int failed = 0, r;

        r = send_all(nl, req, req->nlmsg_len);
        if (r < 0)
                return r;

        /* A dump is read to its end even after the handler failed: the
         * kernel runs one dump per socket at a time, and the next request
         * would find this one still running. */
        for (;;) {
                ssize_t n = receive(nl, false);
                size_t len = n > 0 ? (size_t) n : 0;

                if (n < 0)
                        return (int) n;
                for (struct nlmsghdr *nlh = (struct nlmsghdr *) nl->rbuf; msg_ok(nlh, len);
                     nlh = msg_next(nlh, &len)) {
                        if (nlh->nlmsg_seq != req->nlmsg_seq || nlh->nlmsg_pid != nl->portid)
                                continue;       /* an answer to an earlier request */
                        if (nlh->nlmsg_flags & NLM_F_DUMP_INTR)
                                interrupted = true;
                        if (nlh->nlmsg_type == NLMSG_ERROR)
                                return answer_end(nlmsg_error_of(nlh), failed, interrupted);
                        if (nlh->nlmsg_type == NLMSG_DONE) {
                                int e = 0;

                                if (nlh->nlmsg_len >= NLMSG_LENGTH(sizeof(int)))
                                        memcpy(&e, NLMSG_DATA(nlh), sizeof e);
                                return answer_end(MIN(e, 0), failed, interrupted);
                        }
                        if (nlh->nlmsg_type == NLMSG_NOOP || nlh->nlmsg_type == NLMSG_OVERRUN)
                                continue;
                        if (handler && failed == 0) {
                                r = handler(nlh, userdata);
                                if (r < 0)
                                        failed = r;
                        }
                        if (!dump && (failed < 0 || !(req->nlmsg_flags & NLM_F_ACK)))
                                return failed;
                }
        }
}

/* Waits until the socket is readable; -ETIMEDOUT after timeout_ms. */
static int wait_readable(NftNl *nl, int timeout_ms) {
        struct pollfd p = { .fd = nl->fd, .events = POLLIN };
        int r;

        do
                r = poll(&p, 1, timeout_ms);
        while (r < 0 && errno == EINTR);
        if (r < 0)
                return negative_errno();
        return r == 0 ? -ETIMEDOUT : 0;
}

int nft_nl_batch(NftNl *nl, const NftBuf *batch, uint32_t begin_seq, uint32_t first, size_t n, int *errors) {
        size_t answered = 0;
        bool failed = false;
        int r;

        if (n > INT32_MAX / ACK_BUFFER || batch->len > INT32_MAX / 2)
                return -E2BIG;
        /* The whole batch is one write, and every ack must fit in the
         * receive buffer: the kernel drops what does not. */
        if ((int) batch->len > nl->sndbuf) {
                r = socket_buffer(nl->fd, SO_SNDBUFFORCE, SO_SNDBUF, (int) batch->len);
                if (r < 0)
                        return r;
                nl->sndbuf = (int) batch->len;
        }
        if ((int) (n * ACK_BUFFER) > nl->rcvbuf) {
                r = socket_buffer(nl->fd, SO_RCVBUFFORCE, SO_RCVBUF, (int) (n * ACK_BUFFER));
                if (r < 0)
                        return r;
                nl->rcvbuf = (int) (n * ACK_BUFFER);
        }
        for (size_t i = 0; i < n; i++)
                errors[i] = 1;

        r = send_all(nl, batch->data, batch->len);
        if (r < 0)
                return r;

        while (answered < n) {
                ssize_t got = receive(nl, true);
                size_t len = got > 0 ? (size_t) got : 0;

                if (got < 0)
                        return (int) got;  /* -ENOBUFS: answers lost; the outcome is unknown */
                if (got == 0) {
                        r = wait_readable(nl, BATCH_TIMEOUT_MS);
                        if (r < 0)
                                return r;
                        continue;
                }
                for (struct nlmsghdr *nlh = (struct nlmsghdr *) nl->rbuf; msg_ok(nlh, len);
                     nlh = msg_next(nlh, &len)) {
                        uint32_t seq = nlh->nlmsg_seq;

                        if (nlh->nlmsg_type != NLMSG_ERROR || nlh->nlmsg_pid != nl->portid)
                                continue;
                        r = nlmsg_error_of(nlh);
                        if (seq == begin_seq) {
                                /* The batch as a whole was refused. */
                                for (size_t i = 0; i < n; i++)
                                        errors[i] = 0;
                                return r < 0 ? r : -EPROTO;
                        }
                        if (seq - first >= n || errors[seq - first] != 1)
                                continue;
                        errors[seq - first] = r;
                        answered++;
                        if (r < 0)
                                failed = true;
                }
        }
        return failed ? -EIO : 0;
}

int nft_nl_drain(NftNl *nl, NftNlHandler handler, void *userdata) {
        bool lost = false;
        int r;

        for (;;) {
                ssize_t n = receive(nl, true);

                if (n == -ENOBUFS) {
                        lost = true;
                        continue;
                }
                if (n < 0)
                        return (int) n;
                if (n == 0)
                        return lost;
                size_t len = n > 0 ? (size_t) n : 0;

                for (struct nlmsghdr *nlh = (struct nlmsghdr *) nl->rbuf; msg_ok(nlh, len);
                     nlh = msg_next(nlh, &len)) {
                        r = handler(nlh, userdata);
                        if (r < 0)
                                return r;
                }
        }
}

int nft_nl_event(const struct nlmsghdr *nlh, NftNlEvent *ret) {
        const struct nfgenmsg *nfg = NLMSG_DATA(nlh);
        size_t off = NLMSG_ALIGN(sizeof *nfg), len;
        const char *attrs = (const char *) nfg;

        if (nlh->nlmsg_len < NLMSG_LENGTH(off) || NFNL_SUBSYS_ID(nlh->nlmsg_type) != NFNL_SUBSYS_NFTABLES)
                return -EBADMSG;
        len = nlh->nlmsg_len - NLMSG_HDRLEN;
        *ret = (NftNlEvent) {
                .type = NFNL_MSG_TYPE(nlh->nlmsg_type),
                .family = nfg->nfgen_family,
                .portid = nlh->nlmsg_pid,
        };
        if (ret->type == NFT_MSG_NEWGEN)
                return 0;               /* attribute 1 is the generation */
        while (off + NLA_HDRLEN <= len) {
                const struct nlattr *a = (const struct nlattr *) (attrs + off);
                size_t alen = a->nla_len;

                if (alen < NLA_HDRLEN || off + alen > len)
                        return -EBADMSG;
                if ((a->nla_type & NLA_TYPE_MASK) == 1) {
                        const char *v = (const char *) a + NLA_HDRLEN;

                        if (alen == NLA_HDRLEN || v[alen - NLA_HDRLEN - 1] != '\0')
                                return -EBADMSG;
                        ret->table = v;
                        return 0;
                }
                off += NLA_ALIGN(alen);
        }
        return 0;
}
