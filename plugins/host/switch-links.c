/* SPDX-License-Identifier: LGPL-2.1-or-later */
#include <stdio.h>

#include "macro.h"
#include "ofp-client.h"
#include "switch-links.h"

static void link_close(SwitchLink *l) {
        l->client = ofp_client_free(l->client);
}

void switch_links_done(SwitchLinks *s) {
        for (size_t i = 0; i < s->n; i++) {
                link_close(&s->links[i]);
                free(s->links[i].bridge);
        }
        free(s->links);
        *s = (SwitchLinks) {};
}

/* Connects l; on failure, the next try is due later. */
static int link_connect(SwitchLink *l, const char *ovs_rundir, uint64_t now) {
        _cleanup_(freep) char *addr = NULL;
        int r;

        if (asprintf(&addr, "unix:%s/%s.mgmt", ovs_rundir ?: "/var/run/openvswitch", l->bridge) < 0)
                return -ENOMEM;
        r = ofp_client_connect(addr, 1000, &l->client);
        if (r < 0) {
                l->retry_at = now + SWITCH_LINK_RETRY_USEC;
                return r;
        }
        if (l->lost) {
                l->lost = false;
                l->back = true;
                l->gone_usec = now - l->lost_usec;
        }
        return 0;
}

int switch_links_set(SwitchLinks *s, const char *ovs_rundir, char *const *bridges, size_t n, uint64_t now) {
        switch_links_done(s);
        if (n == 0)
                return 0;
        s->links = calloc(n, sizeof(SwitchLink));
        if (!s->links)
                return -ENOMEM;
        for (size_t i = 0; i < n; i++) {
                SwitchLink *l = &s->links[s->n];

                *l = (SwitchLink) { .bridge = strdup(bridges[i]) };
                if (!l->bridge)
                        return -ENOMEM;
                s->n++;
                (void) link_connect(l, ovs_rundir, now);
        }
        return 0;
}

size_t switch_links_fds(const SwitchLinks *s, int *fds, size_t n) {
        size_t k = 0;

        for (size_t i = 0; i < s->n; i++)
                if (s->links[i].client) {
                        if (k < n)
                                fds[k] = ofp_client_fd(s->links[i].client);
                        k++;
                }
        return k;
}

SwitchLink *switch_links_input(SwitchLinks *s, const char *ovs_rundir, int fd, uint64_t now) {
        for (size_t i = 0; i < s->n; i++) {
                SwitchLink *l = &s->links[i];

                if (!l->client || ofp_client_fd(l->client) != fd)
                        continue;
                if (ofp_client_process(l->client) >= 0)
                        return l;
                /* ovs-vswitchd went away (it comes back with empty flow
                 * tables), or the bridge was deleted. */
                link_close(l);
                l->lost = true;
                l->lost_usec = now;
                l->warned = false;
                (void) link_connect(l, ovs_rundir, now);
                return l;
        }
        return NULL;
}

int switch_links_timeout_ms(const SwitchLinks *s, uint64_t now) {
        uint64_t next = UINT64_MAX;

        for (size_t i = 0; i < s->n; i++)
                if (!s->links[i].client)
                        next = MIN(next, s->links[i].retry_at);
        if (next == UINT64_MAX)
                return -1;
        return next <= now ? 0 : (int) ((next - now + 999) / 1000);
}

void switch_links_tick(SwitchLinks *s, const char *ovs_rundir, uint64_t now) {
        for (size_t i = 0; i < s->n; i++) {
                SwitchLink *l = &s->links[i];

                if (!l->client && l->retry_at <= now)
                        (void) link_connect(l, ovs_rundir, now);
        }
}
