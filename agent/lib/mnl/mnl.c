/* SPDX-License-Identifier: LGPL-2.1-or-later */

/* The part of libmnl's API that libnftnl uses, for static links.
 *
 * Debian ships libnftnl as a static archive but libmnl, which libnftnl
 * calls to build and parse netlink messages, only as a shared library. A
 * static program that links libnftnl.a gets these functions from here
 * instead (agent/lib/nft/meson.build decides; docs/router.md says why).
 * They follow libmnl's documented interface: the declarations come from
 * the installed <libmnl/libmnl.h>, so the compiler holds each definition
 * to the prototype libnftnl was built against.
 *
 * What libmnl documents and callers rely on:
 *   - messages and attributes are aligned to MNL_ALIGNTO (4) bytes; the
 *     putters zero the padding and grow nlmsg_len by the aligned size;
 *   - getters of fixed-size payloads read unaligned memory safely;
 *   - validation and parsing report errors as -1 (MNL_CB_ERROR) with errno
 *     set: ERANGE for a payload of the wrong size, EINVAL for a malformed
 *     one, EOPNOTSUPP for an attribute type above the maximum;
 *   - mnl_cb_run() checks sequence numbers and port ids (EPROTO, ESRCH),
 *     turns NLMSG_ERROR into errno, ends at NLMSG_DONE, and reports an
 *     interrupted dump (NLM_F_DUMP_INTR) as EINTR;
 *   - batches hold whole messages up to the limit given at the start; the
 *     message that would pass it stays outside the batch.
 * Only what libnftnl needs is here (the static link fails if that ever
 * grows: an undefined mnl_* symbol). */

#include <errno.h>
#include <stdlib.h>
#include <string.h>
#include <sys/socket.h>
#include <libmnl/libmnl.h>

/* ---- messages ---------------------------------------------------------- */

struct nlmsghdr *mnl_nlmsg_put_header(void *buf) {
        struct nlmsghdr *nlh = buf;

        memset(nlh, 0, MNL_NLMSG_HDRLEN);
        nlh->nlmsg_len = MNL_NLMSG_HDRLEN;
        return nlh;
}

void *mnl_nlmsg_put_extra_header(struct nlmsghdr *nlh, size_t size) {
        char *p = (char *) nlh + nlh->nlmsg_len;
        size_t len = MNL_ALIGN(size);

        nlh->nlmsg_len += len;
        memset(p, 0, len);
        return p;
}

void *mnl_nlmsg_get_payload(const struct nlmsghdr *nlh) {
        return (char *) nlh + MNL_NLMSG_HDRLEN;
}

/* Where attributes after an extra header of offset bytes start. */
static void *payload_at(const struct nlmsghdr *nlh, size_t offset) {
        return (char *) nlh + MNL_NLMSG_HDRLEN + MNL_ALIGN(offset);
}

/* The end of the message, aligned: where the next attribute goes. */
static void *message_tail(const struct nlmsghdr *nlh) {
        return (char *) nlh + MNL_ALIGN(nlh->nlmsg_len);
}

/* ---- attributes: getters ---------------------------------------------- */

uint16_t mnl_attr_get_type(const struct nlattr *attr) {
        return attr->nla_type & NLA_TYPE_MASK;
}

uint16_t mnl_attr_get_payload_len(const struct nlattr *attr) {
        return attr->nla_len - MNL_ATTR_HDRLEN;
}

void *mnl_attr_get_payload(const struct nlattr *attr) {
        return (char *) attr + MNL_ATTR_HDRLEN;
}

uint8_t mnl_attr_get_u8(const struct nlattr *attr) {
        return *(const uint8_t *) mnl_attr_get_payload(attr);
}

uint16_t mnl_attr_get_u16(const struct nlattr *attr) {
        uint16_t v;

        memcpy(&v, mnl_attr_get_payload(attr), sizeof(v));
        return v;
}

uint32_t mnl_attr_get_u32(const struct nlattr *attr) {
        uint32_t v;

        memcpy(&v, mnl_attr_get_payload(attr), sizeof(v));
        return v;
}

uint64_t mnl_attr_get_u64(const struct nlattr *attr) {
        uint64_t v;

        memcpy(&v, mnl_attr_get_payload(attr), sizeof(v));
        return v;
}

const char *mnl_attr_get_str(const struct nlattr *attr) {
        return mnl_attr_get_payload(attr);
}

/* ---- attributes: iteration and validation ----------------------------- */

bool mnl_attr_ok(const struct nlattr *attr, int len) {
        return len >= (int) sizeof(struct nlattr) &&
               attr->nla_len >= sizeof(struct nlattr) &&
               (int) attr->nla_len <= len;
}

struct nlattr *mnl_attr_next(const struct nlattr *attr) {
        return (struct nlattr *) ((char *) attr + MNL_ALIGN(attr->nla_len));
}

int mnl_attr_type_valid(const struct nlattr *attr, uint16_t maxtype) {
        if (mnl_attr_get_type(attr) > maxtype) {
                errno = EOPNOTSUPP;
                return -1;
        }
        return 1;
}

/* The smallest payload of each fixed-size type; 0: no minimum here. */
static size_t type_min_len(enum mnl_attr_data_type type) {
        switch (type) {
        case MNL_TYPE_U8:
                return sizeof(uint8_t);
        case MNL_TYPE_U16:
                return sizeof(uint16_t);
        case MNL_TYPE_U32:
                return sizeof(uint32_t);
        case MNL_TYPE_U64:
        case MNL_TYPE_MSECS:
                return sizeof(uint64_t);
        default:
                return 0;
        }
}

static int fail(int e) {
        errno = e;
        return -1;
}

int mnl_attr_validate(const struct nlattr *attr, enum mnl_attr_data_type type) {
        uint16_t len = mnl_attr_get_payload_len(attr);
        const char *payload = mnl_attr_get_payload(attr);

        if ((unsigned) type >= MNL_TYPE_MAX)
                return fail(EINVAL);
        switch (type) {
        case MNL_TYPE_FLAG:
                return len == 0 ? 0 : fail(ERANGE);
        case MNL_TYPE_STRING:
                return len > 0 ? 0 : fail(ERANGE);
        case MNL_TYPE_NUL_STRING:
                if (len == 0)
                        return fail(ERANGE);
                return payload[len - 1] == '\0' ? 0 : fail(EINVAL);
        case MNL_TYPE_NESTED:
                /* empty, or room for at least one attribute */
                return len == 0 || len >= MNL_ATTR_HDRLEN ? 0 : fail(ERANGE);
        default:
                return len >= type_min_len(type) ? 0 : fail(ERANGE);
        }
}

/* Calls cb for each attribute in [start, start + len). */
static int parse_range(const void *start, size_t len, mnl_attr_cb_t cb, void *data) {
        const struct nlattr *attr = start;
        const char *end = (const char *) start + len;

        while (mnl_attr_ok(attr, (int) (end - (const char *) attr))) {
                int r = cb(attr, data);
                if (r <= MNL_CB_STOP)
                        return r;
                attr = mnl_attr_next(attr);
        }
        return MNL_CB_OK;
}

int mnl_attr_parse(const struct nlmsghdr *nlh, unsigned int offset, mnl_attr_cb_t cb, void *data) {
        const char *start = payload_at(nlh, offset);
        const char *end = (const char *) nlh + nlh->nlmsg_len;

        if (start > end)
                return MNL_CB_OK;
        return parse_range(start, (size_t) (end - start), cb, data);
}

int mnl_attr_parse_nested(const struct nlattr *attr, mnl_attr_cb_t cb, void *data) {
        return parse_range(mnl_attr_get_payload(attr), mnl_attr_get_payload_len(attr), cb, data);
}

/* ---- attributes: putters ---------------------------------------------- */

void mnl_attr_put(struct nlmsghdr *nlh, uint16_t type, size_t len, const void *data) {
        struct nlattr *attr = message_tail(nlh);
        size_t total = MNL_ATTR_HDRLEN + len;

        attr->nla_type = type;
        attr->nla_len = (uint16_t) total;
        if (len > 0)
                memcpy(mnl_attr_get_payload(attr), data, len);
        memset((char *) attr + total, 0, MNL_ALIGN(total) - total);
        nlh->nlmsg_len += MNL_ALIGN(total);
}

void mnl_attr_put_u8(struct nlmsghdr *nlh, uint16_t type, uint8_t data) {
        mnl_attr_put(nlh, type, sizeof(data), &data);
}

void mnl_attr_put_u16(struct nlmsghdr *nlh, uint16_t type, uint16_t data) {
        mnl_attr_put(nlh, type, sizeof(data), &data);
}

void mnl_attr_put_u32(struct nlmsghdr *nlh, uint16_t type, uint32_t data) {
        mnl_attr_put(nlh, type, sizeof(data), &data);
}

void mnl_attr_put_u64(struct nlmsghdr *nlh, uint16_t type, uint64_t data) {
        mnl_attr_put(nlh, type, sizeof(data), &data);
}

void mnl_attr_put_str(struct nlmsghdr *nlh, uint16_t type, const char *data) {
        mnl_attr_put(nlh, type, strlen(data), data);
}

void mnl_attr_put_strz(struct nlmsghdr *nlh, uint16_t type, const char *data) {
        mnl_attr_put(nlh, type, strlen(data) + 1, data);
}

struct nlattr *mnl_attr_nest_start(struct nlmsghdr *nlh, uint16_t type) {
        struct nlattr *start = message_tail(nlh);

        start->nla_type = NLA_F_NESTED | type;
        start->nla_len = 0;
        nlh->nlmsg_len += MNL_ATTR_HDRLEN;
        return start;
}

void mnl_attr_nest_end(struct nlmsghdr *nlh, struct nlattr *start) {
        start->nla_len = (uint16_t) ((char *) message_tail(nlh) - (char *) start);
}

/* ---- batches ------------------------------------------------------------ */

struct mnl_nlmsg_batch {
        char *buf;
        size_t limit;           /* the most the batch may hold */
        size_t len;             /* bytes of the messages in the batch */
        bool overflow;          /* the current message did not fit */
};

struct mnl_nlmsg_batch *mnl_nlmsg_batch_start(void *buf, size_t limit) {
        struct mnl_nlmsg_batch *b = calloc(1, sizeof(*b));

        if (!b)
                return NULL;
        b->buf = buf;
        b->limit = limit;
        return b;
}

void mnl_nlmsg_batch_stop(struct mnl_nlmsg_batch *b) {
        free(b);
}

void *mnl_nlmsg_batch_current(struct mnl_nlmsg_batch *b) {
        return b->buf + b->len;
}

bool mnl_nlmsg_batch_next(struct mnl_nlmsg_batch *b) {
        const struct nlmsghdr *nlh = mnl_nlmsg_batch_current(b);

        if (b->len + nlh->nlmsg_len > b->limit) {
                b->overflow = true;
                return false;
        }
        b->len += nlh->nlmsg_len;
        return true;
}

void *mnl_nlmsg_batch_head(struct mnl_nlmsg_batch *b) {
        return b->buf;
}

size_t mnl_nlmsg_batch_size(struct mnl_nlmsg_batch *b) {
        return b->len;
}

bool mnl_nlmsg_batch_is_empty(struct mnl_nlmsg_batch *b) {
        return b->len == 0;
}

/* ---- sockets ------------------------------------------------------------ */

struct mnl_socket {
        int fd;
        struct sockaddr_nl addr;        /* as bound: the port id */
};

struct mnl_socket *mnl_socket_open(int bus) {
        struct mnl_socket *nl = calloc(1, sizeof(*nl));

        if (!nl)
                return NULL;
        nl->fd = socket(AF_NETLINK, SOCK_RAW | SOCK_CLOEXEC, bus);
        if (nl->fd < 0) {
                int e = errno;
                free(nl);
                errno = e;
                return NULL;
        }
        return nl;
}

int mnl_socket_bind(struct mnl_socket *nl, unsigned int groups, pid_t pid) {
        socklen_t len = sizeof(nl->addr);

        nl->addr = (struct sockaddr_nl) {
                .nl_family = AF_NETLINK,
                .nl_groups = groups,
                .nl_pid = (uint32_t) pid,
        };
        if (bind(nl->fd, (struct sockaddr *) &nl->addr, sizeof(nl->addr)) < 0)
                return -1;
        if (getsockname(nl->fd, (struct sockaddr *) &nl->addr, &len) < 0)
                return -1;
        if (len != sizeof(nl->addr) || nl->addr.nl_family != AF_NETLINK)
                return fail(EINVAL);
        return 0;
}

unsigned int mnl_socket_get_portid(const struct mnl_socket *nl) {
        return nl->addr.nl_pid;
}

ssize_t mnl_socket_sendto(const struct mnl_socket *nl, const void *req, size_t siz) {
        static const struct sockaddr_nl kernel = { .nl_family = AF_NETLINK };

        return sendto(nl->fd, req, siz, 0, (const struct sockaddr *) &kernel, sizeof(kernel));
}

ssize_t mnl_socket_recvfrom(const struct mnl_socket *nl, void *buf, size_t siz) {
        struct sockaddr_nl from;
        struct iovec iov = { .iov_base = buf, .iov_len = siz };
        struct msghdr msg = {
                .msg_name = &from,
                .msg_namelen = sizeof(from),
                .msg_iov = &iov,
                .msg_iovlen = 1,
        };
        ssize_t n = recvmsg(nl->fd, &msg, 0);

        if (n < 0)
                return n;
        if (msg.msg_flags & MSG_TRUNC)
                return fail(ENOSPC);
        if (msg.msg_namelen != sizeof(from))
                return fail(EINVAL);
        return n;
}

int mnl_socket_close(struct mnl_socket *nl) {
        int r = close(nl->fd);

        free(nl);
        return r;
}

/* ---- callbacks ---------------------------------------------------------- */

static bool message_ok(const struct nlmsghdr *nlh, size_t left) {
        return left >= sizeof(struct nlmsghdr) &&
               nlh->nlmsg_len >= sizeof(struct nlmsghdr) &&
               nlh->nlmsg_len <= left;
}

/* The answer to a control message: NLMSG_ERROR carries the request's
 * errno (0 for an acknowledgement, which ends the answer). */
static int control_message(const struct nlmsghdr *nlh) {
        const struct nlmsgerr *err = mnl_nlmsg_get_payload(nlh);

        switch (nlh->nlmsg_type) {
        case NLMSG_ERROR:
                if (nlh->nlmsg_len < MNL_NLMSG_HDRLEN + sizeof(*err))
                        return fail(EBADMSG);
                if (err->error != 0)
                        return fail(err->error < 0 ? -err->error : err->error);
                return MNL_CB_STOP;
        case NLMSG_DONE:
                return MNL_CB_STOP;
        default:
                /* NLMSG_NOOP, NLMSG_OVERRUN and the reserved types */
                return MNL_CB_OK;
        }
}

int mnl_cb_run(const void *buf, size_t numbytes, unsigned int seq,
               unsigned int portid, mnl_cb_t cb_data, void *data) {
        const struct nlmsghdr *nlh = buf;
        size_t left = numbytes;
        int r = MNL_CB_OK;

        while (message_ok(nlh, left)) {
                /* 0 in a message or in the caller's expectation: no check */
                if (nlh->nlmsg_pid && portid && nlh->nlmsg_pid != portid)
                        return fail(ESRCH);
                if (nlh->nlmsg_seq && seq && nlh->nlmsg_seq != seq)
                        return fail(EPROTO);
                if (nlh->nlmsg_flags & NLM_F_DUMP_INTR)
                        return fail(EINTR);

                if (nlh->nlmsg_type >= NLMSG_MIN_TYPE)
                        r = cb_data ? cb_data(nlh, data) : MNL_CB_OK;
                else
                        r = control_message(nlh);
                if (r <= MNL_CB_STOP)
                        return r;

                left -= MNL_ALIGN(nlh->nlmsg_len) < left ? MNL_ALIGN(nlh->nlmsg_len) : left;
                nlh = (const struct nlmsghdr *) ((const char *) nlh + MNL_ALIGN(nlh->nlmsg_len));
        }
        return r;
}
