/* SPDX-License-Identifier: LGPL-2.1-or-later */

/* Change notifications: a socket in the nftables multicast group, and a
 * drain that tells whether a watched table changed by someone else's
 * hand. */

#include <linux/netfilter/nfnetlink.h>

#include "macro.h"
#include "nft-internal.h"
#include "nft-netlink.h"

typedef struct Watched {
        int family;
        char *name;
} Watched;

struct NftMonitor {
        NftNl *nl;
        bool ignore;                    /* changes of one socket do not count: */
        uint32_t ignore_portid;         /* the context's */
        Watched *tables;
        size_t n_tables;
        bool changed;                   /* during a drain */
};

static void watched_clear(NftMonitor *m) {
        for (size_t i = 0; i < m->n_tables; i++)
                free(m->tables[i].name);
        free(m->tables);
        m->tables = NULL;
        m->n_tables = 0;
}

int nft_monitor_new(NftContext *ctx, NftMonitor **ret) {
        NftMonitor *m;
        int r;

        if (!ret)
                return -EINVAL;
        m = calloc(1, sizeof *m);
        if (!m)
                return -ENOMEM;
        r = nft_nl_open(NFNLGRP_NFTABLES, &m->nl);
        if (r < 0) {
                free(m);
                return r;
        }
        if (ctx) {
                m->ignore = true;
                m->ignore_portid = nft_nl_portid(context_netlink(ctx));
        }
        *ret = m;
        return 0;
}

NftMonitor *nft_monitor_free(NftMonitor *m) {
        if (!m)
                return NULL;
        watched_clear(m);
        nft_nl_close(m->nl);
        free(m);
        return NULL;
}

int nft_monitor_watch(NftMonitor *m, const NftRuleset *owned) {
        Watched *w;

        if (!m || !owned)
                return -EINVAL;
        w = calloc(MAX(owned->n_tables, (size_t) 1), sizeof *w);
        if (!w)
                return -ENOMEM;
        for (size_t i = 0; i < owned->n_tables; i++) {
                w[i].family = owned->tables[i]->family;
                w[i].name = strdup(owned->tables[i]->name);
                if (!w[i].name) {
                        for (size_t j = 0; j < i; j++)
                                free(w[j].name);
                        free(w);
                        return -ENOMEM;
                }
        }
        watched_clear(m);
        m->tables = w;
        m->n_tables = owned->n_tables;
        return 0;
}

int nft_monitor_fd(const NftMonitor *m) {
        return nft_nl_fd(m->nl);
}

static int on_event(const struct nlmsghdr *nlh, void *userdata) {
        NftMonitor *m = userdata;
        NftNlEvent ev;

        if (nft_nl_event(nlh, &ev) < 0 || !ev.table)
                return 0;
        if (m->ignore && ev.portid == m->ignore_portid)
                return 0;
        for (size_t i = 0; i < m->n_tables; i++)
                if (m->tables[i].family == ev.family && streq(m->tables[i].name, ev.table))
                        m->changed = true;
        return 0;
}

int nft_monitor_drain(NftMonitor *m) {
        int r;

        if (!m)
                return -EINVAL;
        m->changed = false;
        r = nft_nl_drain(m->nl, on_event, m);
        if (r < 0)
                return r;
        return r > 0 || m->changed;
}
