/* SPDX-License-Identifier: LGPL-2.1-or-later */
#pragma once

/* One OpenFlow connection to each of a set of bridges, kept open to
 * notice when ovs-vswitchd stops and starts again: it closes them when it
 * stops (and its flows and the internal ports it made are gone), and they
 * connect again once it runs the bridge again. For the watches of the
 * host's plugins (PluginVTable.watch); times are CLOCK_MONOTONIC usec. */

#include <stdbool.h>
#include <stddef.h>
#include <stdint.h>

typedef struct OfpClient OfpClient;

typedef struct SwitchLink {
        char *bridge;
        OfpClient *client;            /* NULL: not connected */
        bool lost;                    /* the connection dropped and is not back yet */
        uint64_t lost_usec;           /* when it dropped */
        uint64_t retry_at;            /* not connected: when to try again */
        bool warned;                  /* the caller told that it is not back (free to use) */
        bool back;                    /* it came back after it dropped: the caller looks,
                                       * then clears it */
        uint64_t gone_usec;           /* back: how long it was gone */
} SwitchLink;

typedef struct SwitchLinks {
        SwitchLink *links;
        size_t n;
} SwitchLinks;

/* A retry while a connection is not there. */
#define SWITCH_LINK_RETRY_USEC (100 * 1000)

void switch_links_done(SwitchLinks *s);
/* Connects to each of the n bridges (management sockets in ovs_rundir),
 * ending the connections of before. A bridge that does not answer is
 * tried again later, but is not lost: it never was there. */
int switch_links_set(SwitchLinks *s, const char *ovs_rundir, char *const *bridges, size_t n, uint64_t now);
size_t switch_links_fds(const SwitchLinks *s, int *fds, size_t n);
/* fd has input; returns the link it is of (NULL: none), which may have
 * dropped (lost) and come back at once (back). */
SwitchLink *switch_links_input(SwitchLinks *s, const char *ovs_rundir, int fd, uint64_t now);
/* Milliseconds until switch_links_tick is due; -1: never. */
int switch_links_timeout_ms(const SwitchLinks *s, uint64_t now);
/* Tries again the connections that are not there and due. */
void switch_links_tick(SwitchLinks *s, const char *ovs_rundir, uint64_t now);
