/* SPDX-License-Identifier: LGPL-2.1-or-later */
#include <arpa/inet.h>
#include <fcntl.h>
#include <pthread.h>
#include <sched.h>
#include <signal.h>
#include <stdio.h>
#include <sys/ioctl.h>
#include <sys/stat.h>
#include <linux/ethtool.h>
#include <linux/if.h>
#include <linux/rtnetlink.h>
#include <linux/sockios.h>

#include <netlink/cache.h>
#include <netlink/errno.h>
#include <netlink/msg.h>
#include <netlink/netlink.h>
#include <netlink/route/addr.h>
#include <netlink/route/link.h>
#include <netlink/route/route.h>
#include <netlink/socket.h>

#include "macro.h"
#include "nl-link.h"

_Static_assert(NL_LINK_IFNAME_SIZE == IFNAMSIZ, "interface name size");

DEFINE_TRIVIAL_CLEANUP_FUNC(struct nl_sock *, nl_socket_free);
DEFINE_TRIVIAL_CLEANUP_FUNC(struct nl_msg *, nlmsg_free);
DEFINE_TRIVIAL_CLEANUP_FUNC(struct nl_cb *, nl_cb_put);
DEFINE_TRIVIAL_CLEANUP_FUNC(struct nl_cache *, nl_cache_free);
DEFINE_TRIVIAL_CLEANUP_FUNC(struct rtnl_link *, rtnl_link_put);

int nl_errno(int nle) {
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

bool nl_ifname_valid(const char *s) {
        size_t n;

        if (!s)
                return false;
        n = strlen(s);
        if (n == 0 || n >= NL_LINK_IFNAME_SIZE || streq(s, ".") || streq(s, ".."))
                return false;
        for (const char *p = s; *p; p++)
                if (*p == '/' || *p == ':' || *p <= ' ' || *p == 0x7f)
                        return false;
        return true;
}

/* ---- sockets ------------------------------------------------------------ */

/* An rtnetlink socket in the calling thread's namespace. */
static int rtnl_open_here(struct nl_sock **ret) {
        _cleanup_(nl_socket_freep) struct nl_sock *sk = NULL;
        int r;

        sk = nl_socket_alloc();
        if (!sk)
                return -ENOMEM;
        r = nl_connect(sk, NETLINK_ROUTE);
        if (r < 0)
                return nl_errno(r);

        *ret = TAKE_PTR(sk);
        return 0;
}

/* Between rtnl_open_in() and its helper thread. */
typedef struct RtnlOpen {
        int netns_fd;                   /* namespace to create the socket in */
        struct nl_sock *sk;             /* out: the socket, on success */
        int r;                          /* out: 0 or a negative errno */
} RtnlOpen;

static void *rtnl_open_thread(void *userdata) {
        RtnlOpen *o = userdata;

        /* Only this thread changes namespace, and it ends right after. */
        if (setns(o->netns_fd, CLONE_NEWNET) < 0) {
                o->r = negative_errno();
                return NULL;
        }
        o->r = rtnl_open_here(&o->sk);
        return NULL;
}

/* An rtnetlink socket in the namespace netns_fd refers to. */
static int rtnl_open_in(int netns_fd, struct nl_sock **ret) {
        RtnlOpen o = { .netns_fd = netns_fd, .r = -EIO };
        sigset_t all, saved;
        pthread_t thread;
        int r;

        /* The helper takes no signals: they stay with the caller's threads. */
        (void) sigfillset(&all);
        r = pthread_sigmask(SIG_SETMASK, &all, &saved);
        if (r != 0)
                return -r;
        r = pthread_create(&thread, NULL, rtnl_open_thread, &o);
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

/* Opens /proc/PID/ns/net. */
static int netns_open_pid(pid_t pid) {
        char path[sizeof("/proc//ns/net") + 3 * sizeof(pid_t)];
        int fd;

        if (pid <= 0)
                return -EINVAL;
        (void) snprintf(path, sizeof path, "/proc/%d/ns/net", (int) pid);
        fd = open(path, O_RDONLY | O_CLOEXEC);
        if (fd < 0)
                return errno == ENOENT ? -ESRCH : negative_errno();
        return fd;
}

/* 1 if fd refers to the calling thread's own network namespace. */
static int netns_is_own(int fd) {
        struct stat a, b;

        if (fstat(fd, &a) < 0 || stat("/proc/thread-self/ns/net", &b) < 0)
                return negative_errno();
        return a.st_dev == b.st_dev && a.st_ino == b.st_ino;
}

/* An rtnetlink socket in the namespace of pid (0: the caller's). */
static int rtnl_open_pid(pid_t pid, struct nl_sock **ret) {
        _cleanup_(closep) int fd = -EBADF;

        if (pid == 0)
                return rtnl_open_here(ret);
        fd = netns_open_pid(pid);
        if (fd < 0)
                return fd;
        return rtnl_open_in(fd, ret);
}

/* ---- requests ----------------------------------------------------------- */

static int on_ack(struct nl_msg *msg, void *userdata) {
        return NL_STOP;
}

static int on_error(struct sockaddr_nl *nla, struct nlmsgerr *e, void *userdata) {
        int *error = userdata;

        *error = e->error;
        return NL_STOP;
}

/* Sends a request and waits for the kernel's answer. Returns the kernel's
 * own errno (libnl would fold many of them into NLE_FAILURE). */
static int rtnl_request(struct nl_sock *sk, struct nl_msg *msg) {
        _cleanup_(nl_cb_putp) struct nl_cb *base = NULL, *cb = NULL;
        int error = 0, r;

        base = nl_socket_get_cb(sk);
        if (!base)
                return -ENOMEM;
        cb = nl_cb_clone(base);
        if (!cb)
                return -ENOMEM;
        (void) nl_cb_set(cb, NL_CB_ACK, NL_CB_CUSTOM, on_ack, NULL);
        (void) nl_cb_err(cb, NL_CB_CUSTOM, on_error, &error);

        r = nl_send_auto(sk, msg);
        if (r < 0)
                return nl_errno(r);
        r = nl_recvmsgs(sk, cb);
        if (error < 0)
                return error;
        if (r < 0)
                return nl_errno(r);
        return 0;
}

/* One RTM_NEWLINK change of an existing link. */
typedef struct LinkChange {
        int ifindex;                    /* the link */
        unsigned flags, flags_mask;     /* set the flags in flags_mask to flags */
        const char *name;               /* new name, or NULL */
        const uint8_t *hwaddr;          /* new MAC address, or NULL */
        int mtu;                        /* new MTU, or 0 */
        int netns_fd;                   /* move to this namespace, or -EBADF */
} LinkChange;

static int link_change(struct nl_sock *sk, const LinkChange *c) {
        _cleanup_(nlmsg_freep) struct nl_msg *msg = NULL;
        struct ifinfomsg ifi = {
                .ifi_family = AF_UNSPEC,
                .ifi_index = c->ifindex,
                .ifi_flags = c->flags & c->flags_mask,
                .ifi_change = c->flags_mask,
        };

        msg = nlmsg_alloc_simple(RTM_NEWLINK, 0);
        if (!msg)
                return -ENOMEM;
        if (nlmsg_append(msg, &ifi, sizeof ifi, NLMSG_ALIGNTO) < 0 ||
            (c->name && nla_put_string(msg, IFLA_IFNAME, c->name) < 0) ||
            (c->hwaddr && nla_put(msg, IFLA_ADDRESS, NL_LINK_HWADDR_LEN, c->hwaddr) < 0) ||
            (c->mtu > 0 && nla_put_u32(msg, IFLA_MTU, (uint32_t) c->mtu) < 0) ||
            (c->netns_fd >= 0 && nla_put_u32(msg, IFLA_NET_NS_FD, (uint32_t) c->netns_fd) < 0))
                return -ENOBUFS;

        return rtnl_request(sk, msg);
}

static int link_delete(struct nl_sock *sk, int ifindex) {
        _cleanup_(nlmsg_freep) struct nl_msg *msg = NULL;
        struct ifinfomsg ifi = {
                .ifi_family = AF_UNSPEC,
                .ifi_index = ifindex,
        };

        msg = nlmsg_alloc_simple(RTM_DELLINK, 0);
        if (!msg)
                return -ENOMEM;
        if (nlmsg_append(msg, &ifi, sizeof ifi, NLMSG_ALIGNTO) < 0)
                return -ENOBUFS;

        return rtnl_request(sk, msg);
}

/* The link named ifname; -ENODEV if there is none. */
static int link_get(struct nl_sock *sk, const char *ifname, struct rtnl_link **ret) {
        int r;

        r = rtnl_link_get_kernel(sk, 0, ifname, ret);
        if (r == -NLE_OBJ_NOTFOUND || r == -NLE_NODEV)
                return -ENODEV;
        return nl_errno(r);
}

/* 1 if the link exists, 0 if not. */
static int link_exists(struct nl_sock *sk, const char *ifname) {
        _cleanup_(rtnl_link_putp) struct rtnl_link *link = NULL;
        int r;

        r = link_get(sk, ifname, &link);
        if (r == -ENODEV)
                return 0;
        return r < 0 ? r : 1;
}

/* ---- moving ------------------------------------------------------------- */

int nl_link_move_to_netns(const char *ifname, pid_t pid) {
        _cleanup_(nl_socket_freep) struct nl_sock *sk = NULL;
        _cleanup_(rtnl_link_putp) struct rtnl_link *link = NULL;
        _cleanup_(closep) int fd = -EBADF;
        int r;

        if (!nl_ifname_valid(ifname) || pid <= 0)
                return -EINVAL;

        fd = netns_open_pid(pid);
        if (fd < 0)
                return fd;
        r = netns_is_own(fd);
        if (r != 0)
                return r < 0 ? r : -EINVAL;
        r = rtnl_open_here(&sk);
        if (r < 0)
                return r;

        r = link_get(sk, ifname, &link);
        if (r == -ENODEV) {
                _cleanup_(nl_socket_freep) struct nl_sock *target = NULL;

                r = rtnl_open_in(fd, &target);
                if (r < 0)
                        return r;
                r = link_exists(target, ifname);
                if (r < 0)
                        return r;
                return r > 0 ? 0 : -ENODEV;
        }
        if (r < 0)
                return r;

        r = link_change(sk, &(LinkChange) {
                .ifindex = rtnl_link_get_ifindex(link),
                .netns_fd = fd,
        });
        return r < 0 ? r : 1;
}

int nl_link_find_netns(const char *ifname, pid_t pid) {
        _cleanup_(nl_socket_freep) struct nl_sock *here = NULL, *target = NULL;
        int r, mask = 0;

        if (!nl_ifname_valid(ifname) || pid <= 0)
                return -EINVAL;

        r = rtnl_open_here(&here);
        if (r < 0)
                return r;
        r = rtnl_open_pid(pid, &target);
        if (r < 0)
                return r;

        r = link_exists(here, ifname);
        if (r < 0)
                return r;
        if (r > 0)
                mask |= NL_LINK_NETNS_CALLER;

        r = link_exists(target, ifname);
        if (r < 0)
                return r;
        if (r > 0)
                mask |= NL_LINK_NETNS_TARGET;

        return mask;
}

/* ---- configuring -------------------------------------------------------- */

static bool link_has_hwaddr(struct rtnl_link *link, const uint8_t *hwaddr) {
        struct nl_addr *a = rtnl_link_get_addr(link);

        return a && nl_addr_get_len(a) == NL_LINK_HWADDR_LEN &&
                memcmp(nl_addr_get_binary_addr(a), hwaddr, NL_LINK_HWADDR_LEN) == 0;
}

/* Name, MAC address, MTU and IFF_UP. Returns 1 if something changed. */
static int link_sync(struct nl_sock *sk, struct rtnl_link *link, const NlLinkConfig *c) {
        LinkChange change = {
                .ifindex = rtnl_link_get_ifindex(link),
                .flags = IFF_UP,
                .flags_mask = IFF_UP,
                .netns_fd = -EBADF,
        };
        bool up = rtnl_link_get_flags(link) & IFF_UP;
        int r;

        if (c->name && !streq(rtnl_link_get_name(link), c->name))
                change.name = c->name;
        if (c->has_hwaddr && !link_has_hwaddr(link, c->hwaddr))
                change.hwaddr = c->hwaddr;
        if (c->mtu > 0 && rtnl_link_get_mtu(link) != (unsigned) c->mtu)
                change.mtu = c->mtu;

        if (up && !change.name && !change.hwaddr && change.mtu == 0)
                return 0;

        /* The kernel renames only links that are down, and many drivers
         * change the MAC address only then. */
        if (up && (change.name || change.hwaddr)) {
                r = link_change(sk, &(LinkChange) {
                        .ifindex = change.ifindex,
                        .flags_mask = IFF_UP,
                        .netns_fd = -EBADF,
                });
                if (r < 0)
                        return r;
        }

        /* The kernel applies name, address and MTU before the flags. */
        r = link_change(sk, &change);
        return r < 0 ? r : 1;
}

static in_addr_t ipv4_netmask(unsigned prefixlen) {
        return prefixlen == 0 ? 0 : htonl(UINT32_MAX << (32 - prefixlen));
}

/* RTM_NEWADDR or RTM_DELADDR of an IPv4 address. */
static int addr_request(struct nl_sock *sk, int type, int ifindex, struct in_addr a, unsigned prefixlen) {
        _cleanup_(nlmsg_freep) struct nl_msg *msg = NULL;
        struct ifaddrmsg ifa = {
                .ifa_family = AF_INET,
                .ifa_prefixlen = prefixlen,
                .ifa_scope = RT_SCOPE_UNIVERSE,
                .ifa_index = ifindex,
        };
        struct in_addr brd = { a.s_addr | ~ipv4_netmask(prefixlen) };

        msg = nlmsg_alloc_simple(type, type == RTM_NEWADDR ? NLM_F_CREATE | NLM_F_EXCL : 0);
        if (!msg)
                return -ENOMEM;
        if (nlmsg_append(msg, &ifa, sizeof ifa, NLMSG_ALIGNTO) < 0 ||
            nla_put(msg, IFA_LOCAL, sizeof a, &a) < 0 ||
            nla_put(msg, IFA_ADDRESS, sizeof a, &a) < 0 ||
            (type == RTM_NEWADDR && prefixlen <= 30 && nla_put(msg, IFA_BROADCAST, sizeof brd, &brd) < 0))
                return -ENOBUFS;

        return rtnl_request(sk, msg);
}

static bool nl_addr_is_ipv4(struct nl_addr *a, struct in_addr want) {
        return a && nl_addr_get_family(a) == AF_INET && nl_addr_get_len(a) == sizeof want &&
                memcmp(nl_addr_get_binary_addr(a), &want, sizeof want) == 0;
}

/* Adds the address (and with exclusive_ipv4 deletes the link's other IPv4
 * addresses first: deleting a primary address also deletes the secondaries
 * of its subnet). Returns 1 if something changed. */
static int addr_sync(struct nl_sock *sk, int ifindex, const NlLinkConfig *c) {
        _cleanup_(nl_cache_freep) struct nl_cache *cache = NULL;
        bool found = false;
        int changed = 0, r;

        r = rtnl_addr_alloc_cache(sk, &cache);
        if (r < 0)
                return nl_errno(r);

        for (struct nl_object *o = nl_cache_get_first(cache); o; o = nl_cache_get_next(o)) {
                struct rtnl_addr *a = (struct rtnl_addr *) o;
                struct nl_addr *local = rtnl_addr_get_local(a);
                struct in_addr in;

                if (rtnl_addr_get_ifindex(a) != ifindex || rtnl_addr_get_family(a) != AF_INET ||
                    !local || nl_addr_get_len(local) != sizeof in)
                        continue;
                if (nl_addr_is_ipv4(local, c->ipv4) &&
                    (unsigned) rtnl_addr_get_prefixlen(a) == c->ipv4_prefixlen) {
                        found = true;
                        continue;
                }
                if (!c->exclusive_ipv4)
                        continue;

                memcpy(&in, nl_addr_get_binary_addr(local), sizeof in);
                r = addr_request(sk, RTM_DELADDR, ifindex, in, rtnl_addr_get_prefixlen(a));
                if (r < 0 && r != -EADDRNOTAVAIL) /* gone with its primary */
                        return r;
                changed = 1;
        }

        if (found && !changed)
                return 0;
        r = addr_request(sk, RTM_NEWADDR, ifindex, c->ipv4, c->ipv4_prefixlen);
        if (r == -EEXIST)
                return changed;
        return r < 0 ? r : 1;
}

/* The metric-0 IPv4 default route of the main table goes via gateway on
 * ifindex. */
static bool route_is_ours(struct rtnl_route *route, int ifindex, struct in_addr gateway) {
        struct nl_addr *dst = rtnl_route_get_dst(route);
        struct rtnl_nexthop *nh;

        if (rtnl_route_get_family(route) != AF_INET || rtnl_route_get_table(route) != RT_TABLE_MAIN ||
            rtnl_route_get_type(route) != RTN_UNICAST || rtnl_route_get_priority(route) != 0 ||
            (dst && nl_addr_get_prefixlen(dst) != 0) || rtnl_route_get_nnexthops(route) != 1)
                return false;

        nh = rtnl_route_nexthop_n(route, 0);
        return nh && rtnl_route_nh_get_ifindex(nh) == ifindex &&
                nl_addr_is_ipv4(rtnl_route_nh_get_gateway(nh), gateway);
}

static int route_replace_default(struct nl_sock *sk, int ifindex, struct in_addr gateway) {
        _cleanup_(nlmsg_freep) struct nl_msg *msg = NULL;
        struct rtmsg rtm = {
                .rtm_family = AF_INET,
                .rtm_table = RT_TABLE_MAIN,
                .rtm_protocol = RTPROT_STATIC,
                .rtm_scope = RT_SCOPE_UNIVERSE,
                .rtm_type = RTN_UNICAST,
        };

        msg = nlmsg_alloc_simple(RTM_NEWROUTE, NLM_F_CREATE | NLM_F_REPLACE);
        if (!msg)
                return -ENOMEM;
        if (nlmsg_append(msg, &rtm, sizeof rtm, NLMSG_ALIGNTO) < 0 ||
            nla_put(msg, RTA_GATEWAY, sizeof gateway, &gateway) < 0 ||
            nla_put_u32(msg, RTA_OIF, (uint32_t) ifindex) < 0)
                return -ENOBUFS;

        return rtnl_request(sk, msg);
}

/* Returns 1 if the route was replaced, 0 if it was already so. */
static int route_sync(struct nl_sock *sk, int ifindex, struct in_addr gateway) {
        _cleanup_(nl_cache_freep) struct nl_cache *cache = NULL;
        int r;

        r = rtnl_route_alloc_cache(sk, AF_INET, 0, &cache);
        if (r < 0)
                return nl_errno(r);

        for (struct nl_object *o = nl_cache_get_first(cache); o; o = nl_cache_get_next(o))
                if (route_is_ours((struct rtnl_route *) o, ifindex, gateway))
                        return 0;

        r = route_replace_default(sk, ifindex, gateway);
        return r < 0 ? r : 1;
}

static bool config_valid(const NlLinkConfig *c) {
        return c && (!c->name || nl_ifname_valid(c->name)) &&
                (!c->has_ipv4 || c->ipv4_prefixlen <= 32);
}

/* ifname, or if that is gone, the name it was renamed to. */
static int link_get_either(struct nl_sock *sk, const char *ifname, const char *name,
                           struct rtnl_link **ret) {
        int r;

        r = link_get(sk, ifname, ret);
        if (r != -ENODEV || !name)
                return r;
        return link_get(sk, name, ret);
}

int nl_link_configure_in_netns(pid_t pid, const char *ifname, const NlLinkConfig *config) {
        _cleanup_(nl_socket_freep) struct nl_sock *sk = NULL;
        _cleanup_(rtnl_link_putp) struct rtnl_link *link = NULL;
        int changed, ifindex, r;

        if (!nl_ifname_valid(ifname) || !config_valid(config) || pid < 0)
                return -EINVAL;

        r = rtnl_open_pid(pid, &sk);
        if (r < 0)
                return r;
        r = link_get_either(sk, ifname, config->name, &link);
        if (r < 0)
                return r;
        ifindex = rtnl_link_get_ifindex(link);

        changed = link_sync(sk, link, config);
        if (changed < 0)
                return changed;

        if (config->has_ipv4) {
                r = addr_sync(sk, ifindex, config);
                if (r < 0)
                        return r;
                changed |= r;
        }

        if (config->has_gateway) {
                r = route_sync(sk, ifindex, config->gateway);
                if (r < 0)
                        return r;
                changed |= r;
        }

        return changed;
}

/* ---- queries ------------------------------------------------------------ */

static void link_info_fill(struct rtnl_link *link, NlLinkInfo *ret) {
        struct nl_addr *a = rtnl_link_get_addr(link);
        const char *kind = rtnl_link_get_type(link);
        unsigned flags = rtnl_link_get_flags(link);

        *ret = (NlLinkInfo) {
                .ifindex = rtnl_link_get_ifindex(link),
                .mtu = rtnl_link_get_mtu(link),
                .up = flags & IFF_UP,
                .lower_up = flags & IFF_LOWER_UP,
        };
        (void) snprintf(ret->name, sizeof ret->name, "%s", rtnl_link_get_name(link) ?: "");
        (void) snprintf(ret->kind, sizeof ret->kind, "%s", kind ?: "");
        if (a && nl_addr_get_len(a) == NL_LINK_HWADDR_LEN) {
                ret->has_hwaddr = true;
                memcpy(ret->hwaddr, nl_addr_get_binary_addr(a), NL_LINK_HWADDR_LEN);
        }
}

int nl_link_get_in_netns(pid_t pid, const char *ifname, NlLinkInfo *ret) {
        _cleanup_(nl_socket_freep) struct nl_sock *sk = NULL;
        _cleanup_(rtnl_link_putp) struct rtnl_link *link = NULL;
        int r;

        if (!nl_ifname_valid(ifname) || pid < 0 || !ret)
                return -EINVAL;

        r = rtnl_open_pid(pid, &sk);
        if (r < 0)
                return r;
        r = link_get(sk, ifname, &link);
        if (r < 0)
                return r;

        link_info_fill(link, ret);
        return 0;
}

int nl_link_exists_in_netns(pid_t pid, const char *ifname) {
        _cleanup_(nl_socket_freep) struct nl_sock *sk = NULL;
        int r;

        if (!nl_ifname_valid(ifname) || pid < 0)
                return -EINVAL;

        r = rtnl_open_pid(pid, &sk);
        if (r < 0)
                return r;
        return link_exists(sk, ifname);
}

int nl_link_delete_in_netns(pid_t pid, const char *ifname) {
        _cleanup_(nl_socket_freep) struct nl_sock *sk = NULL;
        _cleanup_(rtnl_link_putp) struct rtnl_link *link = NULL;
        int r;

        if (!nl_ifname_valid(ifname) || pid < 0)
                return -EINVAL;

        r = rtnl_open_pid(pid, &sk);
        if (r < 0)
                return r;
        r = link_get(sk, ifname, &link);
        if (r == -ENODEV)
                return 0;
        if (r < 0)
                return r;

        r = link_delete(sk, rtnl_link_get_ifindex(link));
        if (r == -ENODEV)
                return 0;   /* went away meanwhile */
        return r < 0 ? r : 1;
}

/* ---- transmit checksum offload ------------------------------------------ */

/* One ETHTOOL_[GS]TXCSUM ioctl on a socket of the interface's namespace
 * (any socket answers SIOCETHTOOL for the devices of its namespace). */
static int ethtool_txcsum(struct nl_sock *sk, const char *ifname, uint32_t cmd, uint32_t *data) {
        struct ethtool_value v = { .cmd = cmd, .data = *data };
        struct ifreq ifr = { .ifr_data = (void *) &v };

        (void) snprintf(ifr.ifr_name, sizeof ifr.ifr_name, "%s", ifname);
        if (ioctl(nl_socket_get_fd(sk), SIOCETHTOOL, &ifr) < 0)
                return negative_errno();
        *data = v.data;
        return 0;
}

/* A socket in the namespace of pid, and ifname's setting there. */
static int txcsum_open(pid_t pid, const char *ifname, struct nl_sock **ret_sk, uint32_t *ret_on) {
        _cleanup_(nl_socket_freep) struct nl_sock *sk = NULL;
        int r;

        if (!nl_ifname_valid(ifname) || pid < 0)
                return -EINVAL;

        r = rtnl_open_pid(pid, &sk);
        if (r < 0)
                return r;
        *ret_on = 0;
        r = ethtool_txcsum(sk, ifname, ETHTOOL_GTXCSUM, ret_on);
        if (r < 0)
                return r;
        *ret_sk = TAKE_PTR(sk);
        return 0;
}

int nl_link_get_tx_checksum_in_netns(pid_t pid, const char *ifname) {
        _cleanup_(nl_socket_freep) struct nl_sock *sk = NULL;
        uint32_t on;
        int r;

        r = txcsum_open(pid, ifname, &sk, &on);
        return r < 0 ? r : on != 0;
}

int nl_link_set_tx_checksum_in_netns(pid_t pid, const char *ifname, bool on) {
        _cleanup_(nl_socket_freep) struct nl_sock *sk = NULL;
        uint32_t now, want = on;
        int r;

        r = txcsum_open(pid, ifname, &sk, &now);
        if (r < 0 || (now != 0) == on)
                return r < 0 ? r : 0;
        r = ethtool_txcsum(sk, ifname, ETHTOOL_STXCSUM, &want);
        if (r < 0)
                return r;
        /* The kernel keeps a setting the device's other features forbid
         * as wanted, not active: read back what took effect. */
        r = ethtool_txcsum(sk, ifname, ETHTOOL_GTXCSUM, &now);
        if (r < 0)
                return r;
        return (now != 0) == on ? 1 : -EOPNOTSUPP;
}
