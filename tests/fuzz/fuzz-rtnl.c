/* SPDX-License-Identifier: LGPL-2.1-or-later */
/* What the kernel answers to a dump, as agent/lib/rtnl parses it: the
 * first byte picks the parser (link, address, route, rule, the VLANs of
 * bridge ports of an AF_BRIDGE dump), the rest is a
 * run of netlink messages as one read of a dump delivers them. Only whole
 * messages reach a parser, as the socket layer hands them over; what is
 * inside them (the header's type and family, the attributes) is anything.
 * The router's interfaces and routes plugins and socket networking read
 * the kernel through these parsers. */
#include <string.h>

#include "fuzz.h"
#include "rtnl-internal.h"

static const struct {
        RtnlParser parse;
        size_t size;
} parsers[] = {
        { rtnl_parse_link, sizeof(RtnlLink) },
        { rtnl_parse_address, sizeof(RtnlAddr) },
        { rtnl_parse_route, sizeof(RtnlRoute) },
        { rtnl_parse_rule, sizeof(RtnlRule) },
        { rtnl_parse_bridge_vlans, sizeof(RtnlBridgeVlans) },
};

/* The strings a parser fills end inside their arrays. */
static void check_strings(size_t which, const void *obj) {
        if (which == 0) {
                const RtnlLink *l = obj;

                FUZZ_CHECK(memchr(l->name, 0, sizeof l->name));
                FUZZ_CHECK(memchr(l->kind, 0, sizeof l->kind));
                FUZZ_CHECK(memchr(l->alias, 0, sizeof l->alias));
        } else if (which == 3) {
                const RtnlRule *r = obj;

                FUZZ_CHECK(memchr(r->iif, 0, sizeof r->iif));
                FUZZ_CHECK(memchr(r->oif, 0, sizeof r->oif));
        } else if (which == 4) {
                const RtnlBridgeVlans *v = obj;

                /* VLANs 1..4094 only; the pvid is one of them */
                FUZZ_CHECK(!rtnl_vlan_set_has(v->member, 0) && !rtnl_vlan_set_has(v->member, 4095));
                FUZZ_CHECK(v->pvid == 0 || rtnl_vlan_set_has(v->member, v->pvid));
                for (size_t i = 0; i < RTNL_VLAN_SET_SIZE; i++)
                        FUZZ_CHECK((v->untagged[i] & ~v->member[i]) == 0);
        }
}

int LLVMFuzzerTestOneInput(const uint8_t *data, size_t size) {
        _cleanup_(freep) uint8_t *buf = NULL;
        size_t which, len;

        if (size < 1 || size > FUZZ_MAX_INPUT)
                return 0;
        which = data[0] % ELEMENTSOF(parsers);
        len = size - 1;
        /* a copy aligned as a receive buffer is, and of the input's size
         * exactly, so that a read past a message is seen */
        buf = malloc(len ?: 1);
        FUZZ_CHECK(buf);
        memcpy(buf, data + 1, len);

        for (size_t off = 0; len - off >= sizeof(struct nlmsghdr);) {
                const struct nlmsghdr *nlh = (const struct nlmsghdr *) (buf + off);
                _cleanup_(freep) void *obj = NULL;
                size_t step;
                int r;

                if (nlh->nlmsg_len < sizeof *nlh || nlh->nlmsg_len > len - off)
                        break;
                obj = calloc(1, parsers[which].size);
                FUZZ_CHECK(obj);
                r = parsers[which].parse(nlh, obj);
                FUZZ_CHECK(r <= 1);
                if (r == 1)
                        check_strings(which, obj);
                step = NLMSG_ALIGN(nlh->nlmsg_len);
                if (step > len - off || (off + step) % 4 != 0)
                        break;
                off += step;
        }
        return 0;
}
