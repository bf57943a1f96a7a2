/* SPDX-License-Identifier: LGPL-2.1-or-later */
#pragma once

/* The "openflow" plugin: OpenFlow flows on OVS bridges. The section is
 * validated into the desired model below; of-engine.h turns it into flows
 * (security levels, flow policies, explicit flows) and keeps the bridges'
 * op-dbus flows equal to them. The bridges themselves come from the net
 * plugin or already exist: a bridge that is neither is refused when
 * planning. */

#include <netinet/in.h>
#include <stdbool.h>
#include <stdint.h>

#include <json-c/json.h>

#include "diag.h"
#include "plugin.h"

#define OF_TABLE_MAX 253          /* 254 is Open vSwitch's own, read-only */
#define OF_PRIORITY_DEFAULT 32768
#define OF_OFPORT_MAX 65279          /* OFPP_MAX */
#define OF_OBFUSCATION_LEVEL_MAX 3

/* A match field or set_field value as written: a string or an integer.
 * Integers keep json-c's distinction so every JSON integer is exact. */
typedef enum OfValueType {
        OF_VALUE_INT64,              /* an integer that fits int64_t */
        OF_VALUE_UINT64,             /* an integer above INT64_MAX */
        OF_VALUE_STRING,
        OF_VALUE_NONE,               /* a match string's bare name: "tcp" */
} OfValueType;

typedef struct OfValue {
        OfValueType type;
        union {
                int64_t i64;
                uint64_t u64;
                char *string;        /* owned */
        };
} OfValue;

/* A value as Open vSwitch holds it, with a mask when one was given:
 * integers (ports, flags too) in u and umask, addresses as big-endian
 * bytes. */
typedef struct OfParsedValue {
        uint64_t u, umask;
        uint8_t bytes[16], bmask[16];
        size_t len;                  /* addresses: bytes used */
        bool has_mask;
        bool symbolic;               /* in_port by name: known after the ports are */
} OfParsedValue;

typedef struct OfField OfField;      /* of-fields.h */

/* One "field": value of a match, in document order. Validation fills in
 * the field and, when the value has no placeholder, its parsed value, so
 * that it is parsed once. */
typedef struct OfMatchField {
        char *name;                  /* e.g. "in_port", "tp_dst" */
        OfValue value;
        const OfField *field;        /* once validated */
        bool compiled;               /* parsed is the value */
        OfParsedValue parsed;
} OfMatchField;

typedef enum OfActionType {
        OF_ACTION_OUTPUT,
        OF_ACTION_NORMAL,
        OF_ACTION_DROP,
        OF_ACTION_RESUBMIT,
        OF_ACTION_SET_FIELD,
        OF_ACTION_MOD_DL_DST,
        OF_ACTION_CT,
        OF_ACTION_LOAD_REGISTER,
        OF_ACTION_CONTROLLER,
        _OF_ACTION_TYPE_MAX,
} OfActionType;

/* One action; the member of the union named after the type is valid
 * (normal, drop and controller have no fields). */
typedef struct OfAction {
        OfActionType type;
        union {
                struct {
                        char *port;          /* port name or number, as written */
                } output;
                struct {
                        uint8_t table;       /* 0..253 */
                } resubmit;
                struct {
                        char *field;         /* e.g. "nw_ttl" */
                        OfValue value;
                        const OfField *f;    /* once validated */
                        bool compiled;       /* parsed is the value */
                        OfParsedValue parsed;
                } set_field;
                struct {
                        uint8_t mac[6];
                } mod_dl_dst;
                struct {
                        bool commit;
                        int table;           /* 0..253; -1: not given */
                        int zone;            /* 0..65535; -1: not given */
                } ct;
                struct {
                        uint8_t reg;         /* reg0..reg15 */
                        uint32_t value;
                } load_register;
        };
} OfAction;

/* A static flow on a bridge. */
typedef struct OfFlow {
        uint8_t table;               /* default 0 */
        uint16_t priority;           /* default OF_PRIORITY_DEFAULT */
        OfMatchField *match;         /* "match_fields" */
        size_t n_match;
        OfAction *actions;           /* empty: drop */
        size_t n_actions;
        bool has_cookie;
        uint64_t cookie;
        uint16_t idle_timeout;       /* seconds; 0: never */
        uint16_t hard_timeout;       /* seconds; 0: never */
        char *path;                  /* JSON path, for messages */
} OfFlow;

/* A port that serves a container: maps the port to the container and
 * carries what the security flows need to know about it. */
typedef struct OfSocketPort {
        char *name;                  /* interface name, e.g. "internal_100" */
        uint32_t container_id;
        uint16_t ofport;             /* requested OpenFlow port 1..OF_OFPORT_MAX; 0: any */
        bool has_hwaddr;
        uint8_t hwaddr[6];           /* the container's MAC on this port */
        bool has_ipv4;
        struct in_addr ipv4;         /* the container's address on this port */
        bool allow_dhcp_server;      /* may send DHCP server replies */
        bool allow_router_advertisements; /* may send IPv6 router advertisements */
        bool allow_ipv6;             /* level 3: may send IPv6 as a chain member */
        char *path;
} OfSocketPort;

typedef struct OfBridge {
        char *name;
        OfFlow *flows;
        size_t n_flows;
        OfSocketPort *socket_ports;
        size_t n_socket_ports;
        char *path;
        bool declared_in_net;        /* plugins.net of the same document declares it */
} OfBridge;

typedef enum OfSelectorKind {
        OF_SELECT_CONTAINER_ID,      /* container:N */
        OF_SELECT_CONTAINER_RANGE,   /* container:A-B */
        OF_SELECT_CONTAINER_ALL,     /* container:* */
        OF_SELECT_PORT_EXACT,        /* port:NAME */
        OF_SELECT_PORT_PREFIX,       /* port:PREFIX* ("port:*": every port) */
} OfSelectorKind;

typedef struct OfSelector {
        OfSelectorKind kind;
        uint32_t first_id;           /* container ids first_id..last_id (equal for container:N) */
        uint32_t last_id;
        char *port;                  /* port name or prefix ("" for port:*) */
} OfSelector;

/* The flow a policy generates for each selected container or port. */
typedef struct OfFlowTemplate {
        uint8_t table;
        uint16_t priority;
        OfMatchField *match;         /* "match", as an object or split from a match string */
        size_t n_match;
        OfAction *actions;
        size_t n_actions;
} OfFlowTemplate;

typedef struct OfFlowPolicy {
        char *name;
        OfSelector selector;
        OfFlowTemplate template;
        char *path;
} OfFlowPolicy;

/* The desired state of the whole section. */
typedef struct OpenflowConfig {
        bool enable_security_flows;  /* default true */
        unsigned obfuscation_level;  /* 0..3, default 1 */
        bool auto_discover_containers; /* default true */
        bool has_dns_resolver;
        struct in_addr dns_resolver; /* used by level 3 */
        OfBridge *bridges;
        size_t n_bridges;
        OfFlowPolicy *flow_policies;
        size_t n_flow_policies;
} OpenflowConfig;

extern const PluginVTable openflow_plugin_vtable;
extern const WatchVTable openflow_watch_vtable;
/* What the plugin parsed (its watch's view of the applied state). */
const OpenflowConfig *openflow_plugin_want(const Plugin *p);

/* openflow-parse.c */
void openflow_config_done(OpenflowConfig *c);
/* Validates plugins.openflow (section not NULL) into c; -EINVAL when
 * errors were recorded in d. */
int openflow_parse(OpenflowConfig *c, json_object *section, Diag *d);

/* Parses the array field key of o into *ret, one zero-initialised element
 * of elem_size per item, each with parse (given the item's path). The
 * array is owned by *ret as soon as it exists (an all-zero element is safe
 * to free). Returns 1, 0 when absent (an error if required), or <0. */
/* buf (size bytes) = parent, "." key (NULL: none) and "[index]" unless
 * index is SIZE_MAX; cut like snprintf() when too long. The JSON paths of
 * every flow are built on each validation, without printf. */
void of_path(char *buf, size_t size, const char *parent, const char *key, size_t index);

typedef int (*OfParseItem)(void *item, json_object *o, const char *path, Diag *d);
int openflow_parse_array(json_object *o, const char *path, const char *key, bool required,
                         size_t elem_size, void **ret, size_t *ret_n, OfParseItem parse, Diag *d);

/* openflow-check.c: every match field and set_field target is one op-dbus
 * knows (of-fields.h), with a value it takes, given once, with what it
 * needs in the same match; output ports are port names, container:N or
 * numbers. Errors name the JSON path and what would be right. */
typedef struct OfFlowCheck {
        const char *path;            /* the flow, or the policy's template */
        const char *match_path;      /* its match */
        const char *match_text;      /* the match as a string, or NULL (an object) */
        bool template;               /* {container_id}, {port_name} and {bridge} are replaced later */
        bool implicit_ip;            /* no match: the flows are made for ip and for ipv6 */
} OfFlowCheck;
int of_flow_check(OfMatchField *m, size_t n_match, OfAction *a, size_t n_actions,
                  const OfFlowCheck *c, Diag *d);
/* A match string ("tcp,tp_dst=80") split into fields (at path, for errors). */
int of_match_parse_text(const char *text, const char *path, OfMatchField **ret, size_t *ret_n, Diag *d);
/* The value of a field once placeholders are replaced (masked: in a
 * match, where it may have a mask); errors name path. */
int of_field_value_check(const char *name, const char *value, bool masked, const char *path, Diag *d);

/* openflow-action.c */
void of_value_done(OfValue *v);
void of_match_free(OfMatchField *m, size_t n);
void of_actions_free(OfAction *a, size_t n);
/* A match object at path: values are strings, or also integers unless
 * strings_only. */
int of_match_parse(json_object *o, const char *path, bool strings_only,
                   OfMatchField **ret, size_t *ret_n, Diag *d);
/* One action object. */
int of_action_parse(void *action, json_object *o, const char *path, Diag *d);
