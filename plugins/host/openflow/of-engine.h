/* SPDX-License-Identifier: LGPL-2.1-or-later */
#pragma once

/* The flow engine of the openflow plugin: which flows a bridge should
 * have (of-pipeline.c), which ports serve which containers (of-ports.c),
 * and how the installed flows are read back, compared and changed
 * (of-sync.c). See docs/flows.md for the pipeline and the cookie layout. */

#include <stdint.h>

#include "ofp-client.h"
#include "openflow.h"

/* ---- Cookies --------------------------------------------------------------
 * bits 63..48  class
 * bits 47..40  rule: which rule of the class
 * bits 39..32  variant: the port's index within its container, or a
 *              protocol variant of the rule
 * bits 31..0   subject: container id; or 0x80000000 | ofport for a port
 *              that serves no container; or a flow or policy index */
#define OF_CLASS_SHIFT 48
#define OF_CLASS_MASK  0xffff000000000000ULL
#define OF_CLASS_SECURITY   0xdeadULL   /* level 1: security */
#define OF_CLASS_HIDING     0xcafeULL   /* level 2: pattern hiding */
#define OF_CLASS_LEAK       0xbeefULL   /* level 3: leak protection */
#define OF_CLASS_PIPELINE   0xd0b5ULL   /* the table layout itself */
#define OF_CLASS_POLICY     0xf10cULL   /* flow_policies */
#define OF_CLASS_USER       0xfaceULL   /* bridges[].flows */

#define OF_SUBJECT_PORT 0x80000000U

static inline uint64_t of_cookie(uint64_t class, unsigned rule, unsigned variant, uint32_t subject) {
        return class << OF_CLASS_SHIFT | (uint64_t) (rule & 0xff) << 40 |
               (uint64_t) (variant & 0xff) << 32 | subject;
}

static inline uint64_t of_cookie_class(uint64_t cookie) {
        return cookie >> OF_CLASS_SHIFT;
}

bool of_cookie_is_ours(uint64_t cookie) _pure_;

/* ---- Tables ---------------------------------------------------------------- */
enum {
        OF_TABLE_ADMIT = 0,      /* per-port anti-spoofing (level 1) */
        OF_TABLE_SANITY = 2,     /* bogus packets, rogue DHCP/RA (level 1) */
        OF_TABLE_CT = 3,         /* send IP through conntrack */
        OF_TABLE_CT_STATE = 5,   /* conntrack verdicts, reply marking */
        OF_TABLE_HIDE = 8,       /* TTL/DSCP/ECN normalisation (level 2) */
        OF_TABLE_LEAK = 9,       /* chain members: DNS, IPv6 (level 3) */
        OF_TABLE_POLICY = 10,    /* flow_policies */
        OF_TABLE_OUT = 20,       /* forwarding: NORMAL, chain confinement */
};

/* reg0 bit 0: the packet is a conntrack reply; steering skips it. */
#define OF_REPLY_MATCH_NO  "reg0=0/0x1"
#define OF_REPLY_MATCH_YES "reg0=0x1/0x1"

/* ---- Desired flows ------------------------------------------------------- */
typedef struct OfDesired {
        uint64_t cookie;
        uint8_t table;
        uint16_t priority;
        uint16_t idle_timeout;
        uint16_t hard_timeout;
        char *spec;              /* the whole ovs-ofctl flow, cookie included */
        uint64_t spec_hash;      /* hash64 of spec */
        uint64_t id_hash;        /* hash64 of its identity: spec up to ",actions=" */
        uint64_t match_digest;   /* of_match_digest() of its match; 0: not known */
} OfDesired;

typedef struct OfFlowSet {
        char *bridge;
        OfDesired *flows;
        size_t n, allocated;
} OfFlowSet;

void of_flow_set_done(OfFlowSet *s);
/* Adds a flow; match may be "" and actions "" (drop). */
int of_flow_set_add(OfFlowSet *s, uint64_t cookie, uint8_t table, uint16_t priority,
                    uint16_t idle, uint16_t hard, const char *match, const char *actions);
/* Sorts by cookie; -EEXIST (and the cookie) if one is used twice. */
int of_flow_set_sort(OfFlowSet *s, uint64_t *ret_duplicate);
const OfDesired *of_flow_set_find(const OfFlowSet *s, uint64_t cookie);

/* ---- Ports ----------------------------------------------------------------- */
typedef struct OfPort {
        char *name;
        char *bridge;
        int64_t ofport;              /* -1: not (yet) attached */
        uint32_t container_id;       /* 0: serves no container */
        unsigned index;              /* the n of veth<id>i<n> */
        const OfSocketPort *sock;    /* declared attributes, or NULL */
} OfPort;

typedef struct OfPorts {
        OfPort *ports;
        size_t n, allocated;
        char **bridges;              /* every bridge Open vSwitch has, sorted */
        size_t n_bridges;
} OfPorts;

void of_ports_done(OfPorts *p);
/* Reads every port of the given bridges (and the names of all bridges)
 * from OVSDB and maps the ports to
 * containers (socket_ports, then Proxmox naming). Ports of containers
 * without a socket_ports entry take their addresses from extra (derived
 * from the lxc section), by port name or container id. */
int of_ports_query(OfPorts *p, const PluginContext *ctx, const OpenflowConfig *c,
                   const OfSocketPort *extra, size_t n_extra, Diag *d);
/* Socket-port records for the containers of the lxc section that declare
 * addresses (network.hwaddr, network.ipv4, network.port_name). */
int of_ports_from_lxc(const StateDoc *doc, OfSocketPort **ret, size_t *ret_n);
void of_socket_ports_free(OfSocketPort *a, size_t n);
/* Container id from a Proxmox or op-dbus port name: veth<id>i<n>,
 * fwln<id>o<n>, internal_<id>, vi<id>. 0 when the name is none of these. */
uint32_t of_port_name_container(const char *name, unsigned *ret_index);
const OfPort *of_ports_find(const OfPorts *p, const char *bridge, const char *name);
/* Whether Open vSwitch has a bridge of this name. */
bool of_ports_has_bridge(const OfPorts *p, const char *name);
/* A port named in a flow on bridge: "container:N" (its first port) or a
 * port name. NULL when there is none. */
const OfPort *of_resolve_port(const OfPorts *p, const char *bridge, const char *name);

/* ---- Pipeline ------------------------------------------------------------ */
/* Builds the desired flows of bridge b, counting in policy_hits[k] the
 * ports policy k selected. Warnings (a selector that selects
 * nothing, a container port whose addresses are unknown) and errors (an
 * action naming a port that does not exist) go to d. */
int of_pipeline_build(const OpenflowConfig *c, const OfBridge *b, const OfPorts *ports,
                      OfFlowSet *out, size_t *policy_hits, Diag *d);

/* of-render.c: the model's actions and matches in ovs-ofctl syntax. */
typedef struct OfRenderContext {
        const OfPorts *ports;
        const char *bridge;
        const OfPort *subject;       /* the selected port, for {port_name} etc. */
        const char *path;            /* JSON path of what is rendered */
} OfRenderContext;

/* A match, substituted, with in_port=<name> turned into the port's
 * number (flows are sent with ovs-ofctl --no-names). In a policy's flow
 * (rc->subject set) in_port must be the selected port. */
int of_render_match(const OfRenderContext *rc, const OfMatchField *m, size_t n, char **ret, Diag *d);
int of_render_actions(const OfRenderContext *rc, const OfAction *a, size_t n, char **ret, Diag *d);
/* Replaces {container_id}, {port_name} and {bridge}. */
char *of_substitute(const OfRenderContext *rc, const char *s);

/* of-oxm.c: digests of a match as Open vSwitch encodes it in OpenFlow 1.4,
 * from the flow text sent (0 when it names something op-dbus cannot
 * encode) and from a flow-stats body it reported (0 when malformed).
 * Equal digests: the switch installed the match that was meant. */
uint64_t of_match_digest(const char *match);
uint64_t of_reported_match_digest(const uint8_t *body, size_t len);

/* ---- Sync ------------------------------------------------------------------ */
/* What op-dbus last sent for each cookie, and the digest the switch
 * reported for it, kept under <state-dir>/flows/<bridge>. */
/* What was sent for one cookie: the hashes of the spec and of its
 * identity (as in OfDesired), and the digest the switch reported for it
 * (0: not confirmed yet). */
typedef struct OfRecordEntry {
        uint64_t cookie;
        uint64_t digest;
        uint64_t spec_hash;
        uint64_t id_hash;
} OfRecordEntry;

typedef struct OfRecord {
        OfRecordEntry *entries;      /* sorted by cookie */
        size_t n, allocated;
        /* What the flows were made from: the digest of the openflow
         * section (checkpoint_digest) and the generation the apply was
         * writing. 0: not known (an older record). */
        uint64_t section;
        uint64_t generation;
} OfRecord;

void of_record_done(OfRecord *r);
int of_record_load(const char *state_dir, const char *bridge, OfRecord *ret);
int of_record_save(const char *state_dir, const char *bridge, const OfRecord *r);
const OfRecordEntry *of_record_find(const OfRecord *r, uint64_t cookie);

/* The installed flows of one bridge in op-dbus's cookie namespace. */
int of_installed_read(const PluginContext *ctx, const char *bridge, OfpFlowList *ret);

/* The same in two steps: the request is sent first, so that the switch
 * prepares its answer while op-dbus does other work. */
typedef struct OfDumpRequest {
        OfpClient *client;           /* NULL once collected or failed */
        uint32_t xid;
        int error;                   /* why sending failed; collect returns it */
} OfDumpRequest;
void of_dump_request_send(const PluginContext *ctx, const char *bridge, OfDumpRequest *ret);
int of_dump_request_collect(OfDumpRequest *q, OfpFlowList *ret);
void of_dump_request_done(OfDumpRequest *q);
