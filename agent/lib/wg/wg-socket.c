/* SPDX-License-Identifier: LGPL-2.1-or-later */
/* The socket: NETLINK_GENERIC, the "wireguard" family's id, one device's
 * dump, one change at a time with its acknowledgement. */
#include <linux/genetlink.h>
#include <linux/netlink.h>
#include <stdlib.h>
#include <string.h>
#include <unistd.h>

#include "macro.h"
#include "wg.h"

/* A dump message holds at most a page's worth; 32 KiB is plenty. */
#define WG_RECV_SIZE 32768

struct Wg {
        int fd;
        uint16_t family;
        uint32_t seq;
        unsigned writes;
        uint8_t *buf;
};

void wg_close(Wg *w) {
        if (!w)
                return;
        if (w->fd >= 0)
                close(w->fd);
        if (w->buf)
                explicit_bzero(w->buf, WG_RECV_SIZE);
        free(w->buf);
        free(w);
}

unsigned wg_writes(const Wg *w) {
        return w ? w->writes : 0;
}

static int send_msg(Wg *w, const WgMsg *m) {
        struct sockaddr_nl kernel = { .nl_family = AF_NETLINK };
        ssize_t n;

        n = sendto(w->fd, m->buf, m->len, 0, (struct sockaddr *) &kernel, sizeof kernel);
        if (n < 0)
                return -errno;
        return (size_t) n == m->len ? 0 : -EIO;
}

/* Receives one datagram into w->buf: its length. */
static ssize_t recv_msg(Wg *w) {
        ssize_t n;

        do
                n = recv(w->fd, w->buf, WG_RECV_SIZE, 0);
        while (n < 0 && errno == EINTR);
        if (n < 0)
                return -errno;
        return n;
}

/* Reads answers to seq until its acknowledgement or the end of its dump;
 * each data message goes to dev (when given). The kernel's error, or 0. */
static int answers(Wg *w, uint32_t seq, WgDevice *dev) {
        for (;;) {
                ssize_t n = recv_msg(w);
                size_t left;

                if (n < 0)
                        return (int) n;
                left = (size_t) n;
                for (struct nlmsghdr *h = (struct nlmsghdr *) w->buf; NLMSG_OK(h, left); h = NLMSG_NEXT(h, left)) {
                        int r;

                        if (h->nlmsg_seq != seq)
                                continue;
                        if (h->nlmsg_type == NLMSG_ERROR) {
                                const struct nlmsgerr *e = NLMSG_DATA(h);

                                if (h->nlmsg_len < NLMSG_LENGTH(sizeof *e))
                                        return -EBADMSG;
                                return e->error;
                        }
                        if (h->nlmsg_type == NLMSG_DONE) {
                                int error = 0;

                                /* a dump that failed on its way says why here */
                                if (h->nlmsg_len >= NLMSG_LENGTH(sizeof error))
                                        memcpy(&error, NLMSG_DATA(h), sizeof error);
                                return error < 0 ? error : 0;
                        }
                        if (!dev)
                                continue;
                        r = wg_parse_device(NLMSG_DATA(h), h->nlmsg_len - NLMSG_HDRLEN, dev);
                        if (r < 0)
                                return r;
                }
        }
}

static int resolve_family(Wg *w) {
        _cleanup_(wg_msg_done) WgMsg m = {};
        uint32_t seq = ++w->seq;
        int r;

        r = wg_msg_get_family(seq, &m);
        if (r < 0)
                return r;
        r = send_msg(w, &m);
        if (r < 0)
                return r;
        for (;;) {
                ssize_t n = recv_msg(w);
                const struct nlmsghdr *h = (const struct nlmsghdr *) w->buf;

                if (n < 0)
                        return (int) n;
                if ((size_t) n < NLMSG_HDRLEN || h->nlmsg_seq != seq)
                        continue;
                r = wg_parse_family(w->buf, (size_t) n, &w->family);
                if (r == -ENOENT)
                        return -EOPNOTSUPP;
                if (r < 0)
                        return r;
                /* the acknowledgement that follows */
                return answers(w, seq, NULL);
        }
}

int wg_open(Wg **ret) {
        struct sockaddr_nl self = { .nl_family = AF_NETLINK };
        Wg *w;
        int r;

        w = calloc(1, sizeof *w);
        if (!w)
                return -ENOMEM;
        w->buf = malloc(WG_RECV_SIZE);
        w->fd = socket(AF_NETLINK, SOCK_RAW | SOCK_CLOEXEC, NETLINK_GENERIC);
        if (!w->buf || w->fd < 0) {
                r = w->buf ? -errno : -ENOMEM;
                wg_close(w);
                return r;
        }
        if (bind(w->fd, (struct sockaddr *) &self, sizeof self) < 0) {
                r = -errno;
                wg_close(w);
                return r;
        }
        r = resolve_family(w);
        if (r < 0) {
                wg_close(w);
                return r;
        }
        *ret = w;
        return 0;
}

int wg_get_device(Wg *w, const char *ifname, WgDevice *ret) {
        _cleanup_(wg_msg_done) WgMsg m = {};
        uint32_t seq = ++w->seq;
        WgDevice dev = {};
        int r;

        r = wg_msg_get_device(w->family, seq, ifname, &m);
        if (r < 0)
                return r;
        r = send_msg(w, &m);
        if (r >= 0)
                r = answers(w, seq, &dev);
        if (r < 0) {
                wg_device_done(&dev);
                /* no such device, or one of another kind */
                return r == -ENODEV || r == -EOPNOTSUPP || r == -ENOENT ? -ENODEV : r;
        }
        *ret = dev;
        return 0;
}

int wg_set_device(Wg *w, const char *ifname, const WgDeviceChange *c) {
        _cleanup_(wg_msg_done) WgMsg m = {};
        uint32_t seq = ++w->seq;
        int r;

        r = wg_msg_set_device(w->family, seq, ifname, c, &m);
        if (r < 0)
                return r;
        r = send_msg(w, &m);
        if (r < 0)
                return r;
        w->writes++;
        return answers(w, seq, NULL);
}
