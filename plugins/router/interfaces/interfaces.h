/* SPDX-License-Identifier: LGPL-2.1-or-later */
#pragma once

/* The interfaces plugin (section "interfaces", docs/router.md): existing
 * links (MTU, up, MAC, addresses), bridges, VLANs and macvlans op-router creates,
 * and their addresses, over agent/lib/rtnl.
 *
 * What op-router owns: the links it created (recorded in its ledger,
 * STATE_DIR/interfaces.ledger, and labelled with the alias "op-router":
 * both are needed), and the addresses it added (protocol 217 where the
 * kernel keeps it, Linux 6.1 and later, and the ledger). Links of others
 * keep existing whatever the state says; their MTU, MAC and up/down are
 * changed only where the state names them.
 *
 *   parse   section -> IfConfig, every error with its JSON path (no I/O)
 *   query   the links and addresses (rtnl dumps) and the ledger
 *   diff    if_diff (pure): the changes, each with its plan action
 *   apply   one rtnetlink request per change; the ledger written after */

#include <stdbool.h>
#include <stdint.h>

#include <json-c/json.h>

#include "diag.h"
#include "plan.h"
#include "rtnl.h"

#define IF_ALIAS "op-router"
#define IF_LEDGER "interfaces.ledger"

typedef struct IfAddress {
        char *text;                  /* "192.168.1.1/24" */
        char *path;
        int family;
        RtnlInAddr addr;
        unsigned prefixlen;
} IfAddress;

/* The VLANs of a port of a filtering bridge, or of the bridge itself. */
typedef struct IfVlans {
        bool given;                  /* "vlans" present: exactly these; else the
                                      * kernel's default, VLAN 1 as pvid untagged */
        char *path;                  /* its JSON path, when given */
        uint16_t pvid;               /* untagged in and out; 0: none */
        uint16_t *tagged;            /* tagged in and out */
        size_t n_tagged;
} IfVlans;

/* The VLAN a port joining a filtering bridge is given (its default_pvid),
 * as pvid and untagged; the bridge device itself too. */
#define IF_DEFAULT_PVID 1

typedef enum IfKind {
        IF_LINK,                     /* an existing device */
        IF_BRIDGE,                   /* created */
        IF_VLAN,                     /* created */
        IF_MACVLAN,                  /* created */
        IF_WIREGUARD,                /* created; declared by the wireguard section */
} IfKind;

typedef struct IfLink {
        IfKind kind;
        char *name;
        char *path;                  /* plugins.interfaces.links[i] */
        uint32_t mtu;                /* 0: as it is */
        int up;                      /* -1: as it is, else 0/1 */
        bool has_mac;
        uint8_t mac[RTNL_HWADDR_LEN];
        IfAddress *addresses;
        size_t n_addresses;
        bool addresses_given;        /* "addresses" present: the owned ones not in it go */
        /* bridges */
        char **ports;
        IfVlans *port_vlans;         /* each port's, with vlan_filtering */
        size_t n_ports;
        bool vlan_filtering;
        IfVlans self_vlans;          /* the bridge's own port ("vlans" of the bridge) */
        /* VLANs and macvlans */
        char *parent;
        uint16_t vlan_id;
        uint32_t macvlan_mode;       /* MACVLAN_MODE_* */
} IfLink;

typedef struct IfConfig {
        bool present;
        bool wg_present;             /* the wireguard section is there: owned WireGuard
                                      * links it lacks go */
        IfLink *links;               /* links, then bridges, then VLANs */
        size_t n_links;
} IfConfig;

void if_config_done(IfConfig *c);
int if_parse(IfConfig *c, json_object *section, Diag *d);
/* Adds the links of the wireguard section (plugins.wireguard.interfaces:
 * name, mtu, addresses) as IF_WIREGUARD links, made and addressed here
 * like bridges; their WireGuard settings (keys, port, peers) are the
 * wireguard plugin's, and so are its errors. Errors of name, mtu and
 * addresses, and a name the interfaces section has too, go to d here. */
int if_parse_wireguard(IfConfig *c, json_object *section, Diag *d);
const IfLink *if_config_find(const IfConfig *c, const char *name);

/* What op-router recorded it made. */
typedef struct IfLedger {
        char **links;                /* names */
        size_t n_links;
        char **addresses;            /* "IFNAME ADDRESS/LEN" */
        size_t n_addresses;
        char **creating;             /* names of links an apply is making; on disk
                                      * after it only if it was stopped */
        size_t n_creating;
} IfLedger;

void if_ledger_done(IfLedger *l);
int if_ledger_load(const char *path, IfLedger *ret);
int if_ledger_save(const char *path, const IfLedger *l);
bool if_ledger_has_link(const IfLedger *l, const char *name);
bool if_ledger_creating(const IfLedger *l, const char *name);
/* The apply's creations are over: no link is being made any more. */
void if_ledger_made(IfLedger *l);
bool if_ledger_has_address(const IfLedger *l, const char *ifname, const char *addr);
int if_ledger_add(char ***list, size_t *n, const char *entry);
void if_ledger_remove(char **list, size_t *n, const char *entry);

typedef struct IfLive {
        RtnlLink *links;
        size_t n_links;
        RtnlAddr *addrs;
        size_t n_addrs;
        RtnlBridgeVlans *vlans;      /* the VLANs of bridge ports and bridges */
        size_t n_vlans;
        IfLedger ledger;
} IfLive;

void if_live_done(IfLive *l);
/* Reads the links, the addresses and the ledger of STATE_DIR (opening
 * *rtnl if it is not open yet); errors are recorded at section. */
int if_live_query(Rtnl **rtnl, const char *state_dir, const char *section, IfLive *ret, Diag *d);
/* Is the live link op-router's (ledger and alias, or being made and no
 * alias yet)? */
bool if_link_owned(const IfLive *l, const RtnlLink *link);
/* Is the address op-router's (protocol 217, or the ledger)? */
bool if_addr_owned(const IfLive *l, const RtnlAddr *a);

typedef enum IfOpType {
        IF_DELETE_ADDRESS,
        IF_DELETE_LINK,
        IF_RELEASE_PORT,
        IF_SET_LINK,                 /* before the creations: a VLAN made up over a
                                      * link the section brings up needs it up */
        IF_CREATE_LINK,
        IF_ENSLAVE,
        IF_SET_VLAN,                 /* a VLAN added to a port, or its flags changed */
        IF_DELETE_VLAN,
        IF_ADD_ADDRESS,
} IfOpType;

/* One change; links are named, their indexes looked up when it is sent
 * (a bridge made in the same apply has none before). */
typedef struct IfOp {
        IfOpType type;
        char name[RTNL_IFNAME_SIZE];         /* the link */
        char other[RTNL_IFNAME_SIZE];        /* IF_ENSLAVE: the bridge; IF_CREATE_LINK of a VLAN: the parent */
        IfKind kind;                         /* IF_CREATE_LINK */
        uint16_t vlan_id;                    /* IF_CREATE_LINK of a VLAN; IF_SET_VLAN, IF_DELETE_VLAN */
        uint16_t vlan_flags;                 /* IF_SET_VLAN: BRIDGE_VLAN_INFO_PVID, _UNTAGGED */
        bool self;                           /* IF_SET_VLAN, IF_DELETE_VLAN: of the bridge itself */
        uint32_t macvlan_mode;
        bool vlan_filtering;
        uint32_t mtu;
        RtnlAdmin admin;
        bool has_mac;
        uint8_t mac[RTNL_HWADDR_LEN];
        bool set_alias;                      /* IF_SET_LINK: label it op-router's */
        RtnlAddr addr;                       /* addresses (ifindex set when sent) */
        char addr_text[64];
} IfOp;

typedef struct IfChanges {
        IfOp *ops;
        size_t n_ops;
} IfChanges;

void if_changes_done(IfChanges *c);
/* applied_names: names of the links the applied state's section names
 * (to show in the snapshot), NULL-terminated or NULL. */
int if_diff(const IfConfig *c, const IfLive *live, IfChanges *ret, Plan *plan, Diag *d);
/* The owned objects and the named links' settings, as a section. names:
 * the links to describe besides those with owned addresses. */
int if_live_to_json(const IfLive *live, char *const *names, json_object **ret);
/* "192.168.1.1/24" */
void if_addr_format(const RtnlAddr *a, char buf[static 64]);
