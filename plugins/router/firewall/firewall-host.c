/* SPDX-License-Identifier: LGPL-2.1-or-later */
/* What the firewall needs to know of the host besides its own table: the
 * interfaces there are, and their addresses (the networks behind a zone,
 * the external addresses of a port forward). */
#include <arpa/inet.h>
#include <ifaddrs.h>
#include <net/if.h>
#include <stdio.h>

#include "firewall.h"

void fw_host_done(FwHost *h) {
        for (size_t i = 0; i < h->n_interfaces; i++) {
                FwHostInterface *f = &h->interfaces[i];

                free(f->name);
                for (size_t k = 0; k < f->n_addresses; k++) {
                        fw_prefix_done(&f->addresses[k]);
                        fw_prefix_done(&f->local[k]);
                }
                free(f->addresses);
                free(f->local);
        }
        free(h->interfaces);
        *h = (FwHost) {};
}

const FwHostInterface *fw_host_find(const FwHost *h, const char *name) {
        for (size_t i = 0; i < h->n_interfaces; i++)
                if (streq(h->interfaces[i].name, name))
                        return &h->interfaces[i];
        return NULL;
}

static FwHostInterface *add_interface(FwHost *h, const char *name) {
        FwHostInterface *f = (FwHostInterface *) fw_host_find(h, name), *a;

        if (f)
                return f;
        a = realloc(h->interfaces, (h->n_interfaces + 1) * sizeof *a);
        if (!a)
                return NULL;
        h->interfaces = a;
        f = &a[h->n_interfaces];
        *f = (FwHostInterface) { .name = strdup(name) };
        if (!f->name)
                return NULL;
        h->n_interfaces++;
        return f;
}

static unsigned mask_length(const struct sockaddr *mask, int family) {
        const uint8_t *b = family == AF_INET ? (const uint8_t *) &((const struct sockaddr_in *) mask)->sin_addr :
                                               (const uint8_t *) &((const struct sockaddr_in6 *) mask)->sin6_addr;
        unsigned n = 0;

        for (unsigned i = 0; i < (family == AF_INET ? 4u : 16u); i++)
                n += (unsigned) __builtin_popcount(b[i]);
        return n;
}

/* The address (as /32 or /128) and its network; an address the
 * interface has already is not added twice. */
static int add_prefix(FwHostInterface *f, int family, const uint8_t addr[static 16], unsigned len) {
        char text[INET6_ADDRSTRLEN], net[INET6_ADDRSTRLEN + 8];
        FwPrefix local = {}, network = {};
        uint8_t bytes[16];
        FwPrefix *p;
        int r;

        memcpy(bytes, addr, 16);
        if (family == AF_INET6 && bytes[0] == 0xfe && (bytes[1] & 0xc0) == 0x80)
                return 0; /* link-local: the same on every link */
        if (!inet_ntop(family, bytes, text, sizeof text))
                return -EINVAL;
        for (size_t i = 0; i < f->n_addresses; i++)
                if (streq(f->local[i].text, text))
                        return 0;
        for (unsigned i = 0; i < 16; i++) {
                unsigned bits = len > i * 8 ? MIN(len - i * 8, 8u) : 0;

                bytes[i] &= (uint8_t) (0xff00 >> bits);
        }
        if (!inet_ntop(family, bytes, net, sizeof net - 8))
                return -EINVAL;
        snprintf(net + strlen(net), 8, "/%u", len);
        r = fw_prefix_parse(text, &local);
        if (r >= 0)
                r = fw_prefix_parse(net, &network);
        if (r < 0) {
                fw_prefix_done(&local);
                return r;
        }
        p = realloc(f->addresses, (f->n_addresses + 1) * sizeof *p);
        if (p)
                f->addresses = p;
        p = p ? realloc(f->local, (f->n_addresses + 1) * sizeof *p) : NULL;
        if (!p) {
                fw_prefix_done(&local);
                fw_prefix_done(&network);
                return -ENOMEM;
        }
        f->local = p;
        f->addresses[f->n_addresses] = network;
        f->local[f->n_addresses++] = local;
        return 0;
}

static int add_address(FwHostInterface *f, const struct ifaddrs *ifa) {
        int family = ifa->ifa_addr->sa_family;
        const void *a = family == AF_INET ? (const void *) &((const struct sockaddr_in *) ifa->ifa_addr)->sin_addr :
                                            (const void *) &((const struct sockaddr_in6 *) ifa->ifa_addr)->sin6_addr;
        unsigned len = ifa->ifa_netmask ? mask_length(ifa->ifa_netmask, family) : (family == AF_INET ? 32 : 128);
        uint8_t bytes[16] = {};

        memcpy(bytes, a, family == AF_INET ? 4 : 16);
        return add_prefix(f, family, bytes, len);
}

int fw_host_add_declared(FwHost *h, const char *ifname, const char *cidr) {
        char buf[INET6_ADDRSTRLEN + 8], *slash;
        uint8_t bytes[16] = {};
        FwHostInterface *f;
        int family;
        char *end;
        unsigned long len;

        if (strlen(cidr) >= sizeof buf)
                return -EINVAL;
        strcpy(buf, cidr);
        slash = strchr(buf, '/');
        if (!slash)
                return -EINVAL;
        *slash++ = 0;
        if (inet_pton(AF_INET, buf, bytes) == 1)
                family = AF_INET;
        else if (inet_pton(AF_INET6, buf, bytes) == 1)
                family = AF_INET6;
        else
                return -EINVAL;
        len = strtoul(slash, &end, 10);
        if (*end || len > (family == AF_INET ? 32u : 128u))
                return -EINVAL;
        f = add_interface(h, ifname);
        return f ? add_prefix(f, family, bytes, (unsigned) len) : -ENOMEM;
}

int fw_host_query(FwHost *h) {
        struct if_nameindex *names;
        struct ifaddrs *list;
        int r = 0;

        fw_host_done(h);
        names = if_nameindex();
        if (!names)
                return negative_errno();
        for (struct if_nameindex *n = names; n->if_index && r >= 0; n++)
                if (!add_interface(h, n->if_name))
                        r = -ENOMEM;
        if_freenameindex(names);
        if (r < 0)
                return r;
        if (getifaddrs(&list) < 0)
                return negative_errno();
        for (struct ifaddrs *ifa = list; ifa && r >= 0; ifa = ifa->ifa_next) {
                FwHostInterface *f;

                if (!ifa->ifa_addr || (ifa->ifa_addr->sa_family != AF_INET && ifa->ifa_addr->sa_family != AF_INET6))
                        continue;
                f = add_interface(h, ifa->ifa_name);
                r = f ? add_address(f, ifa) : -ENOMEM;
        }
        freeifaddrs(list);
        return r;
}
