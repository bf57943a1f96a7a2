/* SPDX-License-Identifier: LGPL-2.1-or-later */
#pragma once

/* A minimal OpenFlow 1.4 client for a switch's flows, over the bridge's
 * management socket: it reads them as flow-stats replies and changes them
 * with bundles of flow mods (ofp-msg.h encodes the messages), on one
 * connection.
 *
 * The bytes Open vSwitch sends for a flow (table, priority, timeouts,
 * flags, cookie, match and instructions) are its canonical form: two flows
 * are the same exactly when these bytes are. Counters and durations are
 * not part of it.
 *
 * Functions return 0 or a positive count on success, a negative errno on
 * failure, and do not log. */

#include <stddef.h>
#include <stdint.h>
#include <sys/types.h>

#include "ofp-msg.h"

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

/* address: "unix:/path/br0.mgmt" or a bare path. Connects and waits for
 * the switch's HELLO. */
int ofp_client_connect(const char *address, int timeout_ms, OfpClient **ret);
/* The same without waiting: requests can be sent at once, and the switch's
 * HELLO is checked when its first answer is read. */
int ofp_client_open(const char *address, int timeout_ms, OfpClient **ret);
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

/* An error the switch answered a message with (OFPT_ERROR). */
typedef struct OfpError {
        uint32_t xid;                /* the message's */
        uint16_t type;
        uint16_t code;               /* experimenter errors (type 0xffff): the experimenter's code */
        uint32_t experimenter;       /* type 0xffff only */
} OfpError;

/* Flow mods sent as one bundle, atomic and ordered: all of them take
 * effect at once, or none does. */
typedef struct OfpBundle {
        OfpBuf msgs;                 /* the OFPT_BUNDLE_ADD_MESSAGEs */
        uint32_t id;
        uint32_t first_xid;          /* the k-th message added carries first_xid + k */
        size_t n;
        OfpError *errors;            /* what the switch refused (commit fills it) */
        size_t n_errors, allocated_errors;
} OfpBundle;

/* Starts a bundle on c. Its messages take transaction ids from c: no
 * other request may be made on c until it is committed. */
void ofp_client_bundle_begin(OfpClient *c, OfpBundle *ret);
/* Adds a flow mod; returns its index (from 0). */
int ofp_bundle_add_flow_mod(OfpBundle *b, const OfpFlowMod *fm);
/* The index of the flow mod an error refers to; -1 for the bundle's own
 * control messages. */
ssize_t ofp_bundle_index_of(const OfpBundle *b, uint32_t xid);
/* Opens the bundle, sends its flow mods and a barrier, and commits it if
 * the switch took every flow mod (discards it otherwise). 0: committed.
 * -EPROTO: the switch refused a message or the commit, and nothing
 * changed; b->errors say what was refused. Another negative errno: the
 * connection failed. */
int ofp_client_bundle_commit(OfpClient *c, OfpBundle *b);
void ofp_bundle_done(OfpBundle *b);

/* Parses one flow-stats multipart reply body (for tests and fuzzing). */
int ofp_parse_flow_stats(const uint8_t *body, size_t len, OfpFlowList *out);
