/* SPDX-License-Identifier: LGPL-2.1-or-later */

/* agent/lib/mnl: the libmnl functions a static link of libnftnl gets from
 * the tree. Layout of messages and attributes byte by byte, validation
 * and parsing with their errno values, batches, mnl_cb_run()'s handling of
 * control messages, and the kernel itself: a real rtnetlink dump through
 * the socket functions, a request whose attribute the kernel parses and
 * whose answer these functions parse, the kernel's error as errno
 * (NETLINK_ROUTE works without privileges, also under qemu-user). */

#include <errno.h>
#include <stdint.h>
#include <stdio.h>
#include <string.h>
#include <time.h>
#include <libmnl/libmnl.h>
#include <linux/rtnetlink.h>

#include "tests.h"

/* A message buffer, filled with a pattern so that unwritten padding shows. */
static union {
        char bytes[4096];
        struct nlmsghdr align;
} buf;

static struct nlmsghdr *fresh_message(void) {
        memset(buf.bytes, 0xaa, sizeof(buf.bytes));
        return mnl_nlmsg_put_header(buf.bytes);
}

static bool all_zero(const void *p, size_t n) {
        const unsigned char *c = p;

        for (size_t i = 0; i < n; i++)
                if (c[i] != 0)
                        return false;
        return true;
}

TEST(test_headers) {
        struct nlmsghdr *nlh = fresh_message();
        char *extra;

        ASSERT_EQ(nlh->nlmsg_len, 16);
        ASSERT_EQ(nlh->nlmsg_type, 0);
        ASSERT_EQ(nlh->nlmsg_flags, 0);
        ASSERT_EQ(nlh->nlmsg_seq, 0);
        ASSERT_EQ(nlh->nlmsg_pid, 0);

        /* an extra header of 5 bytes takes 8, zeroed */
        extra = mnl_nlmsg_put_extra_header(nlh, 5);
        ASSERT_TRUE(extra == buf.bytes + 16);
        ASSERT_TRUE(mnl_nlmsg_get_payload(nlh) == extra);
        ASSERT_EQ(nlh->nlmsg_len, 24);
        ASSERT_TRUE(all_zero(extra, 8));
}

TEST(test_attribute_layout) {
        struct nlmsghdr *nlh = fresh_message();
        const unsigned char *a = (const unsigned char *) buf.bytes + 16;
        uint16_t len, type;

        mnl_attr_put_u8(nlh, 1, 0x7f);
        ASSERT_EQ(nlh->nlmsg_len, 16 + 8);
        memcpy(&len, a, 2);
        memcpy(&type, a + 2, 2);
        ASSERT_EQ(len, 5);              /* header and payload, unpadded */
        ASSERT_EQ(type, 1);
        ASSERT_EQ(a[4], 0x7f);
        ASSERT_TRUE(all_zero(a + 5, 3));        /* padding zeroed */

        mnl_attr_put_u16(nlh, 2, 0x1234);
        mnl_attr_put_u32(nlh, 3, 0xdeadbeef);
        mnl_attr_put_u64(nlh, 4, 0x0102030405060708ull);
        mnl_attr_put_str(nlh, 5, "abc");        /* 3 bytes, no NUL */
        mnl_attr_put_strz(nlh, 6, "abc");       /* 4 bytes with the NUL */
        mnl_attr_put(nlh, 7, 0, NULL);          /* a flag */
        ASSERT_EQ(nlh->nlmsg_len, 16 + 8 + 8 + 8 + 12 + 8 + 8 + 4);

        const struct nlattr *attr = (const struct nlattr *) a;
        int left = (int) nlh->nlmsg_len - 16;
        const uint16_t want_len[] = { 5, 6, 8, 12, 7, 8, 4 };
        for (unsigned i = 0; i < 7; i++) {
                ASSERT_TRUE(mnl_attr_ok(attr, left));
                ASSERT_EQ(mnl_attr_get_type(attr), i + 1);
                ASSERT_EQ(attr->nla_len, want_len[i]);
                ASSERT_EQ(mnl_attr_get_payload_len(attr), want_len[i] - 4);
                switch (i) {
                case 0: ASSERT_EQ(mnl_attr_get_u8(attr), 0x7f); break;
                case 1: ASSERT_EQ(mnl_attr_get_u16(attr), 0x1234); break;
                case 2: ASSERT_EQ(mnl_attr_get_u32(attr), 0xdeadbeef); break;
                case 3: ASSERT_TRUE(mnl_attr_get_u64(attr) == 0x0102030405060708ull); break;
                case 4: ASSERT_TRUE(memcmp(mnl_attr_get_payload(attr), "abc", 3) == 0); break;
                case 5: ASSERT_STREQ(mnl_attr_get_str(attr), "abc"); break;
                default: break;
                }
                const struct nlattr *next = mnl_attr_next(attr);
                left -= (int) ((const char *) next - (const char *) attr);
                attr = next;
        }
        ASSERT_EQ(left, 0);
        ASSERT_TRUE(!mnl_attr_ok(attr, left));
}

TEST(test_u64_unaligned) {
        /* a u64 payload sits at offset 4 of its attribute: not 8-aligned */
        struct nlmsghdr *nlh = fresh_message();

        mnl_attr_put_u32(nlh, 1, 1);
        mnl_attr_put_u64(nlh, 2, UINT64_MAX - 1);
        const struct nlattr *second = mnl_attr_next(mnl_nlmsg_get_payload(nlh));
        ASSERT_EQ(((uintptr_t) mnl_attr_get_payload(second)) % 8, 4);
        ASSERT_TRUE(mnl_attr_get_u64(second) == UINT64_MAX - 1);
}

TEST(test_nesting) {
        struct nlmsghdr *nlh = fresh_message();
        struct nlattr *nest;

        nest = mnl_attr_nest_start(nlh, 9);
        mnl_attr_put_u32(nlh, 1, 10);
        mnl_attr_put_strz(nlh, 2, "x");
        mnl_attr_nest_end(nlh, nest);
        mnl_attr_put_u8(nlh, 3, 1);

        ASSERT_TRUE(nest->nla_type & NLA_F_NESTED);
        ASSERT_EQ(mnl_attr_get_type(nest), 9);
        ASSERT_EQ(nest->nla_len, 4 + 8 + 8);
        ASSERT_EQ(nlh->nlmsg_len, 16 + 20 + 8);
        ASSERT_EQ(mnl_attr_validate(nest, MNL_TYPE_NESTED), 0);
}

struct seen {
        int types[16];
        int n;
        int stop_at;            /* type whose callback returns stop_with */
        int stop_with;
};

static int record(const struct nlattr *attr, void *data) {
        struct seen *s = data;
        int type = mnl_attr_get_type(attr);

        if (s->n < 16)
                s->types[s->n++] = type;
        return type == s->stop_at ? s->stop_with : MNL_CB_OK;
}

TEST(test_parse) {
        struct nlmsghdr *nlh = fresh_message();
        struct nlattr *nest;
        struct seen s = {};

        mnl_nlmsg_put_extra_header(nlh, 4);
        mnl_attr_put_u32(nlh, 1, 1);
        nest = mnl_attr_nest_start(nlh, 2);
        mnl_attr_put_u8(nlh, 5, 5);
        mnl_attr_put_u8(nlh, 6, 6);
        mnl_attr_nest_end(nlh, nest);
        mnl_attr_put_u16(nlh, 3, 3);

        /* attributes start after the extra header */
        ASSERT_EQ(mnl_attr_parse(nlh, 4, record, &s), MNL_CB_OK);
        ASSERT_EQ(s.n, 3);
        ASSERT_EQ(s.types[0], 1);
        ASSERT_EQ(s.types[1], 2);
        ASSERT_EQ(s.types[2], 3);

        s = (struct seen) {};
        ASSERT_EQ(mnl_attr_parse_nested(nest, record, &s), MNL_CB_OK);
        ASSERT_EQ(s.n, 2);
        ASSERT_EQ(s.types[0], 5);
        ASSERT_EQ(s.types[1], 6);

        /* a callback's stop or error ends the walk and is returned */
        s = (struct seen) { .stop_at = 2, .stop_with = MNL_CB_STOP };
        ASSERT_EQ(mnl_attr_parse(nlh, 4, record, &s), MNL_CB_STOP);
        ASSERT_EQ(s.n, 2);
        s = (struct seen) { .stop_at = 1, .stop_with = MNL_CB_ERROR };
        ASSERT_EQ(mnl_attr_parse(nlh, 4, record, &s), MNL_CB_ERROR);
        ASSERT_EQ(s.n, 1);

        /* an attribute claiming more than the message holds is not read */
        nest->nla_len = 2000;
        s = (struct seen) {};
        ASSERT_EQ(mnl_attr_parse(nlh, 4, record, &s), MNL_CB_OK);
        ASSERT_EQ(s.n, 1);
}

TEST(test_validate) {
        struct nlmsghdr *nlh = fresh_message();
        const struct nlattr *u16, *strz, *str, *flag, *u8;

        mnl_attr_put_u16(nlh, 1, 7);
        mnl_attr_put_strz(nlh, 2, "ok");
        mnl_attr_put_str(nlh, 3, "no");
        mnl_attr_put(nlh, 4, 0, NULL);
        mnl_attr_put_u8(nlh, 40, 1);
        u16 = mnl_nlmsg_get_payload(nlh);
        strz = mnl_attr_next(u16);
        str = mnl_attr_next(strz);
        flag = mnl_attr_next(str);
        u8 = mnl_attr_next(flag);

        ASSERT_EQ(mnl_attr_validate(u16, MNL_TYPE_U16), 0);
        ASSERT_EQ(mnl_attr_validate(u16, MNL_TYPE_U8), 0);
        errno = 0;
        ASSERT_EQ(mnl_attr_validate(u16, MNL_TYPE_U32), -1);
        ASSERT_EQ(errno, ERANGE);
        ASSERT_EQ(mnl_attr_validate(u16, MNL_TYPE_U64), -1);
        ASSERT_EQ(errno, ERANGE);

        ASSERT_EQ(mnl_attr_validate(strz, MNL_TYPE_NUL_STRING), 0);
        ASSERT_EQ(mnl_attr_validate(str, MNL_TYPE_STRING), 0);
        errno = 0;
        ASSERT_EQ(mnl_attr_validate(str, MNL_TYPE_NUL_STRING), -1);
        ASSERT_EQ(errno, EINVAL);

        ASSERT_EQ(mnl_attr_validate(flag, MNL_TYPE_FLAG), 0);
        ASSERT_EQ(mnl_attr_validate(flag, MNL_TYPE_NESTED), 0);
        errno = 0;
        ASSERT_EQ(mnl_attr_validate(flag, MNL_TYPE_STRING), -1);
        ASSERT_EQ(errno, ERANGE);
        errno = 0;
        ASSERT_EQ(mnl_attr_validate(u16, MNL_TYPE_FLAG), -1);
        ASSERT_EQ(errno, ERANGE);
        errno = 0;
        ASSERT_EQ(mnl_attr_validate(u16, MNL_TYPE_MAX), -1);
        ASSERT_EQ(errno, EINVAL);

        ASSERT_EQ(mnl_attr_type_valid(u16, 1), 1);
        errno = 0;
        ASSERT_EQ(mnl_attr_type_valid(u8, 39), -1);
        ASSERT_EQ(errno, EOPNOTSUPP);
        ASSERT_EQ(mnl_attr_type_valid(u8, 40), 1);
}

/* Appends a message of type and flags with a u32 attribute to b. */
static struct nlmsghdr *append(struct mnl_nlmsg_batch *b, uint16_t type, uint16_t flags, uint32_t seq) {
        struct nlmsghdr *nlh = mnl_nlmsg_put_header(mnl_nlmsg_batch_current(b));

        nlh->nlmsg_type = type;
        nlh->nlmsg_flags = flags;
        nlh->nlmsg_seq = seq;
        mnl_attr_put_u32(nlh, 1, seq);
        return nlh;
}

TEST(test_batch) {
        char mem[256];          /* twice the limit: the last message may pass it */
        struct mnl_nlmsg_batch *b = mnl_nlmsg_batch_start(mem, 128);

        ASSERT_TRUE(b);
        ASSERT_TRUE(mnl_nlmsg_batch_is_empty(b));
        ASSERT_TRUE(mnl_nlmsg_batch_head(b) == mem);
        ASSERT_TRUE(mnl_nlmsg_batch_current(b) == mem);

        /* 24-byte messages: five fit in 128, the sixth does not */
        for (unsigned i = 0; i < 5; i++) {
                append(b, 0x10, NLM_F_REQUEST, i + 1);
                ASSERT_TRUE(mnl_nlmsg_batch_next(b));
                ASSERT_EQ(mnl_nlmsg_batch_size(b), 24 * (i + 1));
                ASSERT_TRUE(mnl_nlmsg_batch_current(b) == mem + 24 * (i + 1));
        }
        ASSERT_TRUE(!mnl_nlmsg_batch_is_empty(b));
        append(b, 0x10, NLM_F_REQUEST, 6);
        ASSERT_TRUE(!mnl_nlmsg_batch_next(b));
        ASSERT_EQ(mnl_nlmsg_batch_size(b), 120);
        mnl_nlmsg_batch_stop(b);
}

static int count_data(const struct nlmsghdr *nlh, void *data) {
        (*(int *) data)++;
        return MNL_CB_OK;
}

/* Appends an NLMSG_ERROR message carrying error (0: an acknowledgement). */
static void append_error(struct mnl_nlmsg_batch *b, int error, uint32_t seq) {
        struct nlmsghdr *nlh = mnl_nlmsg_put_header(mnl_nlmsg_batch_current(b));
        struct nlmsgerr *err;

        nlh->nlmsg_type = NLMSG_ERROR;
        nlh->nlmsg_seq = seq;
        err = mnl_nlmsg_put_extra_header(nlh, sizeof(*err));
        err->error = error;
        ASSERT_TRUE(mnl_nlmsg_batch_next(b));
}

TEST(test_cb_run) {
        char mem[1024];
        struct mnl_nlmsg_batch *b;
        int n;

        /* data, data, ack: both data messages seen, the ack stops */
        b = mnl_nlmsg_batch_start(mem, 512);
        append(b, 0x10, 0, 7);
        mnl_nlmsg_batch_next(b);
        append(b, 0x11, 0, 7);
        mnl_nlmsg_batch_next(b);
        append_error(b, 0, 7);
        n = 0;
        ASSERT_EQ(mnl_cb_run(mem, mnl_nlmsg_batch_size(b), 7, 0, count_data, &n), MNL_CB_STOP);
        ASSERT_EQ(n, 2);
        /* no data callback: the data messages are skipped */
        ASSERT_EQ(mnl_cb_run(mem, mnl_nlmsg_batch_size(b), 7, 0, NULL, NULL), MNL_CB_STOP);
        /* data only: OK, the caller reads on */
        n = 0;
        ASSERT_EQ(mnl_cb_run(mem, 48, 7, 0, count_data, &n), MNL_CB_OK);
        ASSERT_EQ(n, 2);
        mnl_nlmsg_batch_stop(b);

        /* the kernel's error becomes errno */
        b = mnl_nlmsg_batch_start(mem, 512);
        append_error(b, -EEXIST, 3);
        errno = 0;
        ASSERT_EQ(mnl_cb_run(mem, mnl_nlmsg_batch_size(b), 3, 0, NULL, NULL), MNL_CB_ERROR);
        ASSERT_EQ(errno, EEXIST);
        /* another sequence number: EPROTO; 0 on either side: not checked */
        errno = 0;
        ASSERT_EQ(mnl_cb_run(mem, mnl_nlmsg_batch_size(b), 4, 0, NULL, NULL), MNL_CB_ERROR);
        ASSERT_EQ(errno, EPROTO);
        errno = 0;
        ASSERT_EQ(mnl_cb_run(mem, mnl_nlmsg_batch_size(b), 0, 0, NULL, NULL), MNL_CB_ERROR);
        ASSERT_EQ(errno, EEXIST);
        mnl_nlmsg_batch_stop(b);

        /* another port id: ESRCH */
        b = mnl_nlmsg_batch_start(mem, 512);
        append(b, 0x10, 0, 1)->nlmsg_pid = 99;
        mnl_nlmsg_batch_next(b);
        errno = 0;
        ASSERT_EQ(mnl_cb_run(mem, mnl_nlmsg_batch_size(b), 1, 98, count_data, &n), MNL_CB_ERROR);
        ASSERT_EQ(errno, ESRCH);
        n = 0;
        ASSERT_EQ(mnl_cb_run(mem, mnl_nlmsg_batch_size(b), 1, 99, count_data, &n), MNL_CB_OK);
        ASSERT_EQ(n, 1);
        mnl_nlmsg_batch_stop(b);

        /* an interrupted dump: EINTR; NLMSG_DONE: stop */
        b = mnl_nlmsg_batch_start(mem, 512);
        append(b, 0x10, NLM_F_MULTI | NLM_F_DUMP_INTR, 1);
        mnl_nlmsg_batch_next(b);
        errno = 0;
        ASSERT_EQ(mnl_cb_run(mem, mnl_nlmsg_batch_size(b), 1, 0, count_data, &n), MNL_CB_ERROR);
        ASSERT_EQ(errno, EINTR);
        mnl_nlmsg_batch_stop(b);
        b = mnl_nlmsg_batch_start(mem, 512);
        append(b, NLMSG_DONE, NLM_F_MULTI, 1);
        mnl_nlmsg_batch_next(b);
        append(b, 0x10, 0, 1);
        mnl_nlmsg_batch_next(b);
        n = 0;
        ASSERT_EQ(mnl_cb_run(mem, mnl_nlmsg_batch_size(b), 1, 0, count_data, &n), MNL_CB_STOP);
        ASSERT_EQ(n, 0);
        mnl_nlmsg_batch_stop(b);
}

static int count_links(const struct nlmsghdr *nlh, void *data) {
        if (nlh->nlmsg_type == RTM_NEWLINK)
                (*(int *) data)++;
        return MNL_CB_OK;
}

TEST(test_socket_dump) {
        static char answer[32768];
        struct mnl_socket *nl = mnl_socket_open(NETLINK_ROUTE);
        struct nlmsghdr *nlh;
        struct rtgenmsg *g;
        uint32_t seq = (uint32_t) time(NULL);
        int links = 0, r;
        ssize_t n;

        ASSERT_TRUE(nl);
        ASSERT_EQ(mnl_socket_bind(nl, 0, MNL_SOCKET_AUTOPID), 0);
        ASSERT_TRUE(mnl_socket_get_portid(nl) != 0);

        nlh = fresh_message();
        nlh->nlmsg_type = RTM_GETLINK;
        nlh->nlmsg_flags = NLM_F_REQUEST | NLM_F_DUMP;
        nlh->nlmsg_seq = seq;
        g = mnl_nlmsg_put_extra_header(nlh, sizeof(*g));
        g->rtgen_family = AF_UNSPEC;
        ASSERT_EQ(mnl_socket_sendto(nl, nlh, nlh->nlmsg_len), (ssize_t) nlh->nlmsg_len);

        /* every namespace has lo: at least one link, then NLMSG_DONE */
        do {
                n = mnl_socket_recvfrom(nl, answer, sizeof(answer));
                ASSERT_TRUE(n > 0);
                r = mnl_cb_run(answer, (size_t) n, seq, mnl_socket_get_portid(nl), count_links, &links);
        } while (r == MNL_CB_OK);
        ASSERT_EQ(r, MNL_CB_STOP);
        ASSERT_TRUE(links >= 1);

        /* an answer larger than the buffer: ENOSPC, not a short read */
        nlh->nlmsg_seq = ++seq;
        ASSERT_EQ(mnl_socket_sendto(nl, nlh, nlh->nlmsg_len), (ssize_t) nlh->nlmsg_len);
        errno = 0;
        ASSERT_EQ(mnl_socket_recvfrom(nl, answer, 16), -1);
        ASSERT_EQ(errno, ENOSPC);

        ASSERT_EQ(mnl_socket_close(nl), 0);
        errno = 0;
        ASSERT_TRUE(mnl_socket_open(-1) == NULL);
        ASSERT_TRUE(errno != 0);
}

struct link_answer {
        char name[16];
        uint32_t mtu;
        int attributes;
};

static int link_attr(const struct nlattr *attr, void *data) {
        struct link_answer *a = data;

        a->attributes++;
        if (mnl_attr_type_valid(attr, IFLA_MAX) < 0)
                return MNL_CB_OK;       /* newer than these headers */
        switch (mnl_attr_get_type(attr)) {
        case IFLA_IFNAME:
                if (mnl_attr_validate(attr, MNL_TYPE_NUL_STRING) < 0)
                        return MNL_CB_ERROR;
                snprintf(a->name, sizeof(a->name), "%s", mnl_attr_get_str(attr));
                break;
        case IFLA_MTU:
                if (mnl_attr_validate(attr, MNL_TYPE_U32) < 0)
                        return MNL_CB_ERROR;
                a->mtu = mnl_attr_get_u32(attr);
                break;
        default:
                break;
        }
        return MNL_CB_OK;
}

static int link_answer(const struct nlmsghdr *nlh, void *data) {
        if (nlh->nlmsg_type != RTM_NEWLINK)
                return MNL_CB_OK;
        return mnl_attr_parse(nlh, sizeof(struct ifinfomsg), link_attr, data);
}

/* Asks the kernel for one link by name: the request's attribute is built
 * by mnl_attr_put_strz, the answer walked by mnl_attr_parse. Returns
 * mnl_cb_run's result. */
static int get_link(struct mnl_socket *nl, const char *name, uint32_t seq, struct link_answer *a) {
        static char answer[8192];
        struct nlmsghdr *nlh = fresh_message();
        struct ifinfomsg *ifi;
        ssize_t n;

        nlh->nlmsg_type = RTM_GETLINK;
        nlh->nlmsg_flags = NLM_F_REQUEST | NLM_F_ACK;
        nlh->nlmsg_seq = seq;
        ifi = mnl_nlmsg_put_extra_header(nlh, sizeof(*ifi));
        ifi->ifi_family = AF_UNSPEC;
        mnl_attr_put_strz(nlh, IFLA_IFNAME, name);
        if (mnl_socket_sendto(nl, nlh, nlh->nlmsg_len) != (ssize_t) nlh->nlmsg_len)
                return -1;
        for (;;) {
                int r;

                n = mnl_socket_recvfrom(nl, answer, sizeof(answer));
                if (n <= 0)
                        return -1;
                r = mnl_cb_run(answer, (size_t) n, seq, mnl_socket_get_portid(nl), link_answer, a);
                if (r != MNL_CB_OK)
                        return r;
        }
}

TEST(test_kernel_reads_and_writes_the_format) {
        struct mnl_socket *nl = mnl_socket_open(NETLINK_ROUTE);
        struct link_answer a = {};
        uint32_t seq = (uint32_t) time(NULL);

        ASSERT_TRUE(nl);
        ASSERT_EQ(mnl_socket_bind(nl, 0, MNL_SOCKET_AUTOPID), 0);

        /* the kernel finds lo by the attribute built here, and its answer
         * parses: the name and the loopback's MTU (65536 since Linux 4.20) */
        ASSERT_EQ(get_link(nl, "lo", seq, &a), MNL_CB_STOP);
        ASSERT_STREQ(a.name, "lo");
        ASSERT_TRUE(a.mtu >= 1500);
        ASSERT_TRUE(a.attributes > 10);

        /* an unknown name: the kernel's NLMSG_ERROR becomes errno */
        a = (struct link_answer) {};
        errno = 0;
        ASSERT_EQ(get_link(nl, "no-such-link0", seq + 1, &a), MNL_CB_ERROR);
        ASSERT_EQ(errno, ENODEV);
        ASSERT_EQ(a.attributes, 0);

        ASSERT_EQ(mnl_socket_close(nl), 0);
}

int main(void) {
        RUN(test_headers);
        RUN(test_attribute_layout);
        RUN(test_u64_unaligned);
        RUN(test_nesting);
        RUN(test_parse);
        RUN(test_validate);
        RUN(test_batch);
        RUN(test_cb_run);
        RUN(test_socket_dump);
        RUN(test_kernel_reads_and_writes_the_format);
        return 0;
}
