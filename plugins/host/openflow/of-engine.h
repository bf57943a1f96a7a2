/* SPDX-License-Identifier: LGPL-2.1-or-later */
#pragma once

/* The flow engine of the openflow plugin: which flows a bridge should
 * have (of-pipeline.c), which ports serve which containers (of-ports.c),
 * and how the installed flows are read back, compared and changed
 * (of-sync.c). See docs/flows.md for the pipeline and the cookie layout. */

#include <stdint.h>

#include "of-fields.h"
#include "ofp-client.h"
#include "openflow.h"
#include "strbuf.h"

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
#define OF_REPLY_REG 0
#define OF_REPLY_BIT 0x1
/* The NXM header of register n (class 1, field n, 4 bytes), for reg_load. */
#define OF_NXM_REG(n) (0x00010004U + (uint32_t) (n) * 0x200U)

/* ---- Desired flows ------------------------------------------------------- */
typedef struct OfDesired {
        uint64_t cookie;
        uint8_t table;
        uint16_t priority;
        uint16_t idle_timeout;
        uint16_t hard_timeout;
        uint16_t match_len;
        uint32_t match_off;          /* the OXM fields of its match, in the set's bytes */
        uint32_t insts_off;          /* its instructions, in the set's bytes */
        uint32_t insts_len;
        uint64_t spec_hash;          /* of all that is sent for it */
        const char *path;            /* the flow or policy of the state it comes from (the
                                      * configuration's string); NULL: the pipeline's own */
} OfDesired;

typedef struct OfFlowSet {
        char *bridge;
        OfDesired *flows;
        size_t n, allocated;
        OfpBuf bytes;                /* the flows' matches and instructions */
} OfFlowSet;

/* A flow being added: of_flow_set_begin encodes its match, the caller
 * puts its actions into s->bytes (ofp-msg.h), of_flow_set_end adds it. */
typedef struct OfFlowStart {
        size_t off;                  /* where its bytes start */
        size_t match_len;
        size_t insts;                /* its instruction */
} OfFlowStart;

void of_flow_set_done(OfFlowSet *s);
/* -EINVAL with *ret_bad the field at fault: see of_match_encode. */
int of_flow_set_begin(OfFlowSet *s, const OfMatch *m, OfFlowStart *ret, size_t *ret_bad);
int of_flow_set_end(OfFlowSet *s, const OfFlowStart *fs, uint64_t cookie, uint8_t table, uint16_t priority,
                    uint16_t idle, uint16_t hard, const char *path);
void of_flow_set_abort(OfFlowSet *s, const OfFlowStart *fs);
/* A hash of the table, priority and match of the flow begun: its
 * identity in the switch. */
uint64_t of_flow_set_identity(const OfFlowSet *s, const OfFlowStart *fs, uint8_t table, uint16_t priority);
/* Sorts by cookie; -EEXIST (and the cookie) if one is used twice. */
int of_flow_set_sort(OfFlowSet *s, uint64_t *ret_duplicate);
const OfDesired *of_flow_set_find(const OfFlowSet *s, uint64_t cookie);

static inline const uint8_t *of_desired_match(const OfFlowSet *s, const OfDesired *f) {
        return s->bytes.data + f->match_off;
}

static inline const uint8_t *of_desired_insts(const OfFlowSet *s, const OfDesired *f) {
        return s->bytes.data + f->insts_off;
}

/* "cookie 0x... (table T, priority P, MATCH)", for messages. */
void of_desired_describe(const OfFlowSet *s, const OfDesired *f, StrBuf *b);

/* ---- Ports ----------------------------------------------------------------- */
typedef struct OfPort {
        char *name;
        char *bridge;
        int64_t ofport;              /* -1: not (yet) attached */
        uint32_t container_id;       /* 0: serves no container */
        unsigned index;              /* the n of veth<id>i<n> */
        const OfSocketPort *sock;    /* declared attributes, or NULL */
} OfPort;

/* What of a bridge's OVSDB row decides whether it fails closed: its
 * fail_mode, whether a controller is set, and what fail_mode it had
 * before op-dbus made it secure. */
typedef struct OfBridgeMode {
        char *name;
        char *fail_mode;             /* NULL: unset (standalone) */
        char *uuid;
        size_t n_controllers;
        char *mark;                  /* external_ids:op-dbus-fail-mode; NULL: none */
} OfBridgeMode;

/* Bridge.external_ids key where the openflow plugin keeps the fail_mode
 * a bridge had before it made it secure ("" for unset): put back when
 * the bridge no longer carries security flows. */
#define OF_FAIL_MODE_MARK "op-dbus-fail-mode"

typedef struct OfPorts {
        OfPort *ports;
        size_t n, allocated;
        char **bridges;              /* every bridge Open vSwitch has, sorted */
        size_t n_bridges;
        OfBridgeMode *modes;         /* every bridge */
        size_t n_modes;
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
/* The fail_mode and controllers of a bridge; NULL when it does not exist. */
const OfBridgeMode *of_ports_bridge_mode(const OfPorts *p, const char *name);
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

/* of-encode.c: the model's matches and actions as OpenFlow 1.4. Port
 * names are resolved to the ports' numbers here. */
typedef struct OfEncodeContext {
        const OfPorts *ports;
        const char *bridge;
        const OfPort *subject;       /* the selected port, for {port_name} etc. */
        const char *path;            /* JSON path of what is encoded */
} OfEncodeContext;

/* Appends the fields of a match of the model to m: values parsed
 * (placeholders replaced first), in_port names resolved to the ports'
 * numbers. In a policy's flow (rc->subject set) in_port must be the
 * selected port. */
int of_match_from_model(const OfEncodeContext *rc, const OfMatchField *mf, size_t n, OfMatch *m, Diag *d);
/* The actions into b, for a flow whose match is m. */
int of_actions_encode(const OfEncodeContext *rc, const OfAction *a, size_t n, const OfMatch *m, OfpBuf *b, Diag *d);
/* Replaces {container_id}, {port_name} and {bridge}. */
char *of_substitute(const OfEncodeContext *rc, const char *s);

/* ---- fail_mode and controllers (of-mode.c) --------------------------------- */
typedef enum OfMarkChange {
        OF_MARK_KEEP,
        OF_MARK_SET,                 /* to mark_value */
        OF_MARK_REMOVE,
} OfMarkChange;

typedef struct OfModeChange {
        bool set_fail_mode;
        const char *fail_mode;       /* NULL or "": unset */
        bool drop_controllers;
        OfMarkChange mark;
        const char *mark_value;
} OfModeChange;

/* Changes bridge uuid's row as ch says, in one OVSDB transaction, and
 * waits until ovs-vswitchd has carried it out. Open vSwitch deletes every
 * flow of the bridge when its fail_mode or controllers change: the flows
 * op-dbus does not own are read before on c and put back after (Open
 * vSwitch's own catch-all NORMAL flow aside, which it adds itself to a
 * bridge in standalone mode). Returns the number of OVSDB write
 * operations sent; errors go to d. */
int of_bridge_change_mode(const PluginContext *ctx, OfpClient *c, const char *bridge, const char *uuid,
                          const OfModeChange *ch, Diag *d);

/* ---- Sync ------------------------------------------------------------------ */
/* What op-dbus last sent for each cookie, and the digest the switch
 * reported for it, kept under <state-dir>/flows/<bridge>: the hash of
 * what was sent (OfDesired.spec_hash) and the digest the switch reported
 * for the flow right after (0: not confirmed yet). */
typedef struct OfRecordEntry {
        uint64_t cookie;
        uint64_t digest;
        uint64_t spec_hash;
} OfRecordEntry;

typedef struct OfRecord {
        OfRecordEntry *entries;      /* sorted by cookie */
        size_t n, allocated;
        /* What the flows were made from: the digest of the openflow
         * section (checkpoint_digest) and the generation the apply was
         * writing. 0: not known (an older record). */
        uint64_t section;
        uint64_t generation;
        /* The digest of everything the desired flows were built from
         * (of_inputs_digest()), when the verification confirmed every one
         * of them and building them said nothing (no warning): a later
         * apply with the same inputs would build the same flows. 0: not
         * known. */
        uint64_t inputs;
} OfRecord;

void of_record_done(OfRecord *r);
/* The GNU build ID of the running program, hashed (0: it has none). The
 * flows built for the same inputs are the same only with the same code. */
uint64_t of_build_id(void);
/* Whether the switch reports exactly the flows of the record: one flow
 * per recorded cookie, each with the digest confirmed for it, and no
 * other op-dbus flow. */
bool of_record_holds(const OfRecord *r, const OfpFlowList *have);
int of_record_load(const char *state_dir, const char *bridge, OfRecord *ret);
int of_record_save(const char *state_dir, const char *bridge, const OfRecord *r);
const OfRecordEntry *of_record_find(const OfRecord *r, uint64_t cookie);

/* The management connection to a bridge (<OVS_RUNDIR>/<bridge>.mgmt): the
 * flows are read and changed on one connection, kept from the first
 * read to the verification. */
typedef struct OfConnection {
        char *bridge;
        OfpClient *client;           /* NULL: not connected (again) yet */
        uint32_t dump_xid;           /* flows asked for and not collected yet; 0: none */
        bool fresh;                  /* the client was made for the flows asked for */
        int error;                   /* why connecting or asking failed, for collect */
} OfConnection;

void of_connection_done(OfConnection *c);
/* Asks for the installed flows, connecting first if need be, so that the
 * switch prepares its answer while op-dbus does other work. A failure is
 * kept for of_connection_collect. */
void of_connection_request_flows(OfConnection *c, const PluginContext *ctx);
/* The installed flows in op-dbus's cookie namespace, sorted by cookie (as
 * asked for before, or asked for now). */
int of_connection_collect(OfConnection *c, const PluginContext *ctx, OfpFlowList *ret);
/* The connection, made again if need be (it was closed since it was last
 * used); NULL with *ret_error. */
OfpClient *of_connection_client(OfConnection *c, const PluginContext *ctx, int *ret_error);
/* Forgets the connection after a failure on it: the next use connects again. */
void of_connection_reset(OfConnection *c);
