/* SPDX-License-Identifier: LGPL-2.1-or-later */
/* The connection: an rtnetlink socket in a network namespace, requests,
 * dumps, and the helpers every part uses. */
#include <fcntl.h>
#include <pthread.h>
#include <sched.h>
#include <signal.h>
#include <stdio.h>
#include <sys/stat.h>

#include <netlink/errno.h>
#include <netlink/msg.h>
#include <netlink/netlink.h>
#include <netlink/socket.h>

#include "macro.h"
#include "rtnl-internal.h"

DEFINE_TRIVIAL_CLEANUP_FUNC(struct nl_sock *, nl_socket_free);
DEFINE_TRIVIAL_CLEANUP_FUNC(struct nl_msg *, nlmsg_free);
DEFINE_TRIVIAL_CLEANUP_FUNC(struct nl_cb *, nl_cb_put);

/* How often a dump the kernel interrupted is read again. */
#define DUMP_ATTEMPTS 5

int rtnl_nl_errno(int nle) {
        static const int map[] = {
                [NLE_SUCCESS] = 0,
                [NLE_FAILURE] = EIO,
                [NLE_INTR] = EINTR,
                [NLE_BAD_SOCK] = EBADF,
                [NLE_AGAIN] = EAGAIN,
                [NLE_NOMEM] = ENOMEM,
                [NLE_EXIST] = EEXIST,
                [NLE_INVAL] = EINVAL,
                [NLE_RANGE] = ERANGE,
                [NLE_MSGSIZE] = EMSGSIZE,
                [NLE_OPNOTSUPP] = EOPNOTSUPP,
                [NLE_AF_NOSUPPORT] = EAFNOSUPPORT,
                [NLE_OBJ_NOTFOUND] = ENOENT,
                [NLE_NOATTR] = ENODATA,
                [NLE_MISSING_ATTR] = EINVAL,
                [NLE_AF_MISMATCH] = EAFNOSUPPORT,
                [NLE_SEQ_MISMATCH] = EPROTO,
                [NLE_MSG_OVERFLOW] = EOVERFLOW,
                [NLE_MSG_TRUNC] = EMSGSIZE,
                [NLE_NOADDR] = EADDRNOTAVAIL,
                [NLE_SRCRT_NOSUPPORT] = EOPNOTSUPP,
                [NLE_MSG_TOOSHORT] = EBADMSG,
                [NLE_MSGTYPE_NOSUPPORT] = EOPNOTSUPP,
                [NLE_OBJ_MISMATCH] = EINVAL,
                [NLE_NOCACHE] = ENOENT,
                [NLE_BUSY] = EBUSY,
                [NLE_PROTO_MISMATCH] = EPROTONOSUPPORT,
                [NLE_NOACCESS] = EACCES,
                [NLE_PERM] = EPERM,
                [NLE_PKTLOC_FILE] = ENOENT,
                [NLE_PARSE_ERR] = EBADMSG,
                [NLE_NODEV] = ENODEV,
                [NLE_IMMUTABLE] = EINVAL,
                [NLE_DUMP_INTR] = EAGAIN,
                [NLE_ATTRSIZE] = EBADMSG,
        };
        unsigned i = nle < 0 ? -(unsigned) nle : (unsigned) nle;

        if (i >= ELEMENTSOF(map))
                return -EIO;
        return -map[i];
}

bool rtnl_ifname_valid(const char *s) {
        size_t n;

        if (!s)
                return false;
        n = strlen(s);
        if (n == 0 || n >= RTNL_IFNAME_SIZE || streq(s, ".") || streq(s, ".."))
                return false;
        for (const char *p = s; *p; p++)
                if (*p == '/' || *p == ':' || *p <= ' ' || *p == 0x7f)
                        return false;
        return true;
}

/* ---- opening ------------------------------------------------------------- */

/* An rtnetlink socket in the calling thread's namespace. */
static int socket_open_here(struct nl_sock **ret) {
        _cleanup_(nl_socket_freep) struct nl_sock *sk = NULL;
        int r;

        sk = nl_socket_alloc();
        if (!sk)
                return -ENOMEM;
        r = nl_connect(sk, NETLINK_ROUTE);
        if (r < 0)
                return rtnl_nl_errno(r);
        /* read each message whole, however large */
        nl_socket_enable_msg_peek(sk);

        *ret = TAKE_PTR(sk);
        return 0;
}

/* Between socket_open_in() and its helper thread. */
typedef struct SocketOpen {
        int netns_fd;                   /* namespace to create the socket in */
        struct nl_sock *sk;             /* out: the socket, on success */
        int r;                          /* out: 0 or a negative errno */
} SocketOpen;

static void *socket_open_thread(void *userdata) {
        SocketOpen *o = userdata;

        /* Only this thread changes namespace, and it ends right after. */
        if (setns(o->netns_fd, CLONE_NEWNET) < 0) {
                o->r = negative_errno();
                return NULL;
        }
        o->r = socket_open_here(&o->sk);
        return NULL;
}

/* An rtnetlink socket in the namespace netns_fd refers to. */
static int socket_open_in(int netns_fd, struct nl_sock **ret) {
        SocketOpen o = { .netns_fd = netns_fd, .r = -EIO };
        sigset_t all, saved;
        pthread_t thread;
        int r;

        /* The helper takes no signals: they stay with the caller's threads. */
        (void) sigfillset(&all);
        r = pthread_sigmask(SIG_SETMASK, &all, &saved);
        if (r != 0)
                return -r;
        r = pthread_create(&thread, NULL, socket_open_thread, &o);
        (void) pthread_sigmask(SIG_SETMASK, &saved, NULL);
        if (r != 0)
                return -r;
        r = pthread_join(thread, NULL);
        if (r != 0)
                return -r;
        if (o.r < 0)
                return o.r;

        *ret = o.sk;
        return 0;
}

static int netns_open_self(void) {
        int fd = open("/proc/thread-self/ns/net", O_RDONLY | O_CLOEXEC);

        return fd < 0 ? negative_errno() : fd;
}

/* 1 if the namespace files a and b are the same namespace. */
static int netns_same(int a, int b) {
        struct stat sa, sb;

        if (fstat(a, &sa) < 0 || fstat(b, &sb) < 0)
                return negative_errno();
        return sa.st_dev == sb.st_dev && sa.st_ino == sb.st_ino;
}

/* Takes netns_fd: an Rtnl bound to that namespace. */
static int rtnl_new(int netns_fd, Rtnl **ret) {
        _cleanup_(closep) int fd = netns_fd, self = -EBADF;
        _cleanup_(rtnl_closep) Rtnl *r = NULL;
        int same;

        self = netns_open_self();
        if (self < 0)
                return self;
        same = netns_same(fd, self);
        if (same < 0)
                return same;

        r = calloc(1, sizeof(Rtnl));
        if (!r)
                return -ENOMEM;
        r->netns_fd = TAKE_FD(fd);
        same = same ? socket_open_here(&r->sk) : socket_open_in(r->netns_fd, &r->sk);
        if (same < 0)
                return same;

        *ret = TAKE_PTR(r);
        return 0;
}

int rtnl_open(Rtnl **ret) {
        int fd;

        if (!ret)
                return -EINVAL;
        fd = netns_open_self();
        return fd < 0 ? fd : rtnl_new(fd, ret);
}

int rtnl_open_pid(pid_t pid, Rtnl **ret) {
        char path[sizeof("/proc//ns/net") + 3 * sizeof(pid_t)];
        int fd;

        if (pid < 0 || !ret)
                return -EINVAL;
        if (pid == 0)
                return rtnl_open(ret);
        (void) snprintf(path, sizeof path, "/proc/%d/ns/net", (int) pid);
        fd = open(path, O_RDONLY | O_CLOEXEC);
        if (fd < 0)
                return errno == ENOENT ? -ESRCH : negative_errno();
        return rtnl_new(fd, ret);
}

int rtnl_open_netns_fd(int netns_fd, Rtnl **ret) {
        int fd;

        if (netns_fd < 0 || !ret)
                return -EINVAL;
        fd = fcntl(netns_fd, F_DUPFD_CLOEXEC, 3);
        return fd < 0 ? negative_errno() : rtnl_new(fd, ret);
}

int rtnl_open_netns_path(const char *path, Rtnl **ret) {
        int fd;

        if (!path || !*path || !ret)
                return -EINVAL;
        fd = open(path, O_RDONLY | O_CLOEXEC);
        return fd < 0 ? negative_errno() : rtnl_new(fd, ret);
}

Rtnl *rtnl_close(Rtnl *r) {
        if (!r)
                return NULL;
        nl_socket_free(r->sk);
        closep(&r->netns_fd);
        free(r);
        return NULL;
}

void rtnl_closep(Rtnl **r) {
        *r = rtnl_close(*r);
}

int rtnl_same_netns(const Rtnl *a, const Rtnl *b) {
        if (!a || !b)
                return -EINVAL;
        return netns_same(a->netns_fd, b->netns_fd);
}

RtnlCounts rtnl_counts(const Rtnl *r) {
        return r ? r->counts : (RtnlCounts) {};
}

/* ---- requests ------------------------------------------------------------- */

/* What a request's callbacks collect. */
typedef struct Answer {
        RtnlParser parse;               /* NULL: no data expected */
        size_t elsize;
        uint8_t *array;                 /* the parsed elements */
        size_t n, allocated;
        int parse_error;                /* the first parser error */
        int error;                      /* the kernel's errno, from NLMSG_ERROR */
        bool done;                      /* the acknowledgement, an error or the dump's end came */
} Answer;

static int on_valid(struct nl_msg *msg, void *userdata) {
        Answer *a = userdata;
        int r;

        if (!a->parse || a->parse_error < 0)
                return NL_SKIP;     /* read the rest, so the next request starts clean */
        r = greedy_realloc((void **) &a->array, &a->allocated, a->n + 1, a->elsize);
        if (r >= 0) {
                memset(a->array + a->n * a->elsize, 0, a->elsize);
                r = a->parse(nlmsg_hdr(msg), a->array + a->n * a->elsize);
        }
        if (r < 0)
                a->parse_error = r;
        else if (r > 0)
                a->n++;
        return NL_OK;
}

/* An acknowledgement, or the end of a dump. */
static int on_done(struct nl_msg *msg, void *userdata) {
        Answer *a = userdata;

        a->done = true;
        return NL_STOP;
}

static int on_error(struct sockaddr_nl *nla, struct nlmsgerr *e, void *userdata) {
        Answer *a = userdata;

        a->error = e->error;
        a->done = true;
        return NL_STOP;
}

/* Sends msg and reads the answer into a. Returns the kernel's errno, then
 * a parser's, then libnl's. */
static int transact(Rtnl *r, struct nl_msg *msg, Answer *a) {
        _cleanup_(nl_cb_putp) struct nl_cb *base = NULL, *cb = NULL;
        int k;

        base = nl_socket_get_cb(r->sk);
        if (!base)
                return -ENOMEM;
        cb = nl_cb_clone(base);
        if (!cb)
                return -ENOMEM;
        (void) nl_cb_set(cb, NL_CB_VALID, NL_CB_CUSTOM, on_valid, a);
        (void) nl_cb_set(cb, NL_CB_ACK, NL_CB_CUSTOM, on_done, a);
        (void) nl_cb_set(cb, NL_CB_FINISH, NL_CB_CUSTOM, on_done, a);
        (void) nl_cb_err(cb, NL_CB_CUSTOM, on_error, a);

        k = nl_send_auto(r->sk, msg);
        if (k < 0)
                return rtnl_nl_errno(k);
        /* A get is answered with the object, then the acknowledgement (in
         * another read); a dump with its parts, then NLMSG_DONE. */
        do
                k = nl_recvmsgs(r->sk, cb);
        while (k >= 0 && !a->done);
        if (a->error < 0)
                return a->error;
        if (a->parse_error < 0)
                return a->parse_error;
        return k < 0 ? rtnl_nl_errno(k) : 0;
}

int rtnl_request(Rtnl *r, struct nl_msg *msg) {
        Answer a = {};

        r->counts.writes++;
        return transact(r, msg, &a);
}

int rtnl_dump(Rtnl *r, struct nl_msg *(*build)(int family), int family,
              RtnlParser parse, size_t elsize, void **ret, size_t *ret_n) {
        int k = -EAGAIN;

        if (!r || !ret || !ret_n)
                return -EINVAL;
        for (int attempt = 0; k == -EAGAIN && attempt < DUMP_ATTEMPTS; attempt++) {
                _cleanup_(nlmsg_freep) struct nl_msg *msg = build(family);
                Answer a = { .parse = parse, .elsize = elsize };

                if (!msg)
                        return -ENOMEM;
                r->counts.dumps++;
                k = transact(r, msg, &a);
                if (k < 0) {
                        free(a.array);
                        continue;
                }
                *ret = a.array;
                *ret_n = a.n;
                return 0;
        }
        return k;
}

int rtnl_get_one(Rtnl *r, struct nl_msg *msg, RtnlParser parse, void *ret, size_t elsize) {
        _cleanup_(freep) void *array = NULL;
        Answer a = { .parse = parse, .elsize = elsize };
        int k;

        r->counts.dumps++;
        k = transact(r, msg, &a);
        array = a.array;
        if (k < 0)
                return k;
        if (a.n == 0)
                return -ENODEV;
        memcpy(ret, a.array, elsize);
        return 0;
}
