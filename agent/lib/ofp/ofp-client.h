/* SPDX-License-Identifier: LGPL-2.1-or-later */
#pragma once

/* A minimal OpenFlow 1.4 client for reading flows back from a switch.
 *
 * op-dbus writes flows with `ovs-ofctl --bundle` (Open vSwitch's own
 * text-to-OpenFlow encoder) and reads them back here, over the bridge's
 * management socket, as flow-stats replies. The bytes Open vSwitch sends
 * for a flow (table, priority, timeouts, flags, cookie, match and
 * instructions) are its canonical form: two flows are the same exactly
 * when these bytes are. Counters and durations are not part of it.
 *
 * Functions return 0 or a positive count on success, a negative errno on
 * failure, and do not log. */

#include <stddef.h>
#include <stdint.h>

typedef struct OfpFlow {
        uint64_t cookie;
        uint8_t table;
        uint16_t priority;
        uint16_t idle_timeout;
        uint16_t hard_timeout;
        uint64_t packets;       /* counters, not part of the identity */
        uint64_t bytes;
        uint64_t digest;        /* hash of the canonical bytes */
        uint8_t *body;          /* match + instructions as the switch encodes them */
        size_t body_len;
} OfpFlow;

typedef struct OfpFlowList {
        OfpFlow *flows;
        size_t n, allocated;
} OfpFlowList;

void ofp_flow_list_done(OfpFlowList *l);

typedef struct OfpClient OfpClient;

/* address: "unix:/path/br0.mgmt" or a bare path. */
int ofp_client_connect(const char *address, int timeout_ms, OfpClient **ret);
OfpClient *ofp_client_free(OfpClient *c);

/* Appends every flow whose cookie matches cookie under cookie_mask (all
 * tables). */
int ofp_client_dump_flows(OfpClient *c, uint64_t cookie, uint64_t cookie_mask, OfpFlowList *out);
/* The same in two steps: send the request (the switch prepares the answer
 * meanwhile), later collect it. */
int ofp_client_dump_flows_send(OfpClient *c, uint64_t cookie, uint64_t cookie_mask, uint32_t *ret_xid);
int ofp_client_dump_flows_recv(OfpClient *c, uint32_t xid, OfpFlowList *out);

/* For event loops: the socket, and handling of what arrived on it
 * (answers echo requests, discards the rest). Returns -ECONNRESET when the
 * switch closed the connection (ovs-vswitchd stopped or restarted). */
int ofp_client_fd(OfpClient *c);
int ofp_client_process(OfpClient *c);

/* Parses one flow-stats multipart reply body (for tests and fuzzing). */
int ofp_parse_flow_stats(const uint8_t *body, size_t len, OfpFlowList *out);
