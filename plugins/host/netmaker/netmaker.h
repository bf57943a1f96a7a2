/* SPDX-License-Identifier: LGPL-2.1-or-later */
#pragma once

/* The "netmaker" plugin: enrolling the node's containers in a Netmaker
 * mesh. For every container of plugins.lxc whose properties.network_type
 * is "netmaker", op-dbus puts the host's enrollment token into the
 * container (/etc/netmaker/enrollment-token, 0600) together with a
 * first-boot unit that runs "netclient join" once. Before it injects
 * anything it decodes the token and checks that the Netmaker server it
 * names answers over HTTPS.
 *
 * The token is a secret: it is never part of a message, a plan, a query
 * or a file other than the token file and the container's copy. */

#include <stdbool.h>
#include <stdint.h>
#include <sys/stat.h>

#include <json-c/json.h>

#include "diag.h"
#include "lxc-access.h"
#include "plan.h"
#include "plugin.h"
#include "sha256.h"

#define NETMAKER_TOKEN_FILE_DEFAULT "/etc/op-dbus/netmaker.env"
#define NETMAKER_TOKEN_VARIABLE "NETMAKER_TOKEN"
#define NETMAKER_TOKEN_FILE_MAX (64U * 1024U)   /* larger token files are refused */
#define NETMAKER_DEFAULT_BRIDGE "mesh"
#define NETMAKER_REDACTED "<redacted>"

/* What is put into a container. */
#define NETMAKER_CT_TOKEN "/etc/netmaker/enrollment-token"
#define NETMAKER_CT_UNIT "/etc/systemd/system/netmaker-first-boot.service"
#define NETMAKER_CT_UNIT_LINK "/etc/systemd/system/multi-user.target.wants/netmaker-first-boot.service"

/* The server check. */
#define NETMAKER_HEALTH_PATH "/api/server/health"
#define NETMAKER_CONNECT_TIMEOUT_MS 5000L
#define NETMAKER_TOTAL_TIMEOUT_MS 10000L
#define NETMAKER_MAX_REDIRECTS 3L
/* A CA bundle to verify the server with instead of the system's (private
 * PKI, tests). */
#define NETMAKER_CA_FILE_ENV "OPDBUS_CA_FILE"

/* The desired state of the section. */
typedef struct NetmakerConfig {
        bool enabled;                 /* default false */
        char *token_file;             /* absolute path of the enrollment token; never NULL after parsing */
        char *default_network;        /* network containers join; NULL: not given */
        char *api_endpoint;           /* http:// or https:// URL; NULL: not given */
} NetmakerConfig;

/* A container of plugins.lxc.containers with network_type "netmaker". */
typedef struct NetmakerContainer {
        uint32_t id;                  /* Proxmox VMID */
        char *path;                   /* "plugins.lxc.containers[i]", for messages */
        char *bridge;                 /* network.bridge, NETMAKER_DEFAULT_BRIDGE when not given */
        bool bridge_declared;         /* named in plugins.net.bridges or plugins.openflow.bridges */
} NetmakerContainer;

/* A container as found on the host: a netmaker container of the state,
 * or one op-dbus injected into earlier (the ledger). */
typedef struct NetmakerTarget {
        uint32_t id;                  /* Proxmox VMID */
        bool wanted;                  /* a netmaker container of the state */
        bool recorded;                /* listed in the ledger: op-dbus injected into it */
        bool recorded_current;        /* ... the current token (the ledger's digest) */
        bool exists;
        bool owned;                   /* ... and op-dbus created it (the lxc backend's mark) */
        bool running;                 /* pct status: running */
        bool inspected;               /* its files were looked at (only while running) */
        bool token_present;           /* NETMAKER_CT_TOKEN is a regular file */
        bool token_current;           /* ... with the host token's content, mode 0600, owner root */
        bool unit_present;            /* NETMAKER_CT_UNIT is a regular file */
        bool unit_current;            /* ... with op-dbus's content */
        bool unit_enabled;            /* NETMAKER_CT_UNIT_LINK points to NETMAKER_CT_UNIT */
} NetmakerTarget;

/* An enrollment token and what it decodes to. token and key are secrets. */
typedef struct NetmakerToken {
        char *token;                  /* the value of NETMAKER_TOKEN: base64 of a JSON object */
        char *key;                    /* its "value" (or "key"), redacted like the token; NULL: none */
        char *server;                 /* its "server" (or "apiconnstring"): host[:port] */
} NetmakerToken;

typedef struct NetmakerLedgerEntry {
        uint32_t id;
        char digest[SHA256_HEX_SIZE]; /* SHA-256 (hex) of the token file content injected; "": unknown */
} NetmakerLedgerEntry;

/* The containers op-dbus injected into (<state-dir>/netmaker-injected). */
typedef struct NetmakerLedger {
        char *token_file;             /* token file used for them; NULL: none recorded */
        NetmakerLedgerEntry *entries; /* sorted by id, unique */
        size_t n_entries;
} NetmakerLedger;

typedef struct NetmakerPlugin {
        Plugin plugin;
        NetmakerConfig want;
        bool parsed;                  /* parse ran (a plain query does not parse) */
        NetmakerContainer *containers; /* the state's netmaker containers */
        size_t n_containers;
        char *lxc_backend;            /* plugins.lxc.backend; NULL: not given ("auto") */

        /* live state, from query */
        NetmakerTarget *targets;
        size_t n_targets;
        LxcAccess *access;            /* the containers, through the lxc plugin's backend */
        NetmakerLedger ledger;
        NetmakerToken token;          /* loaded only when a container needs it */
        bool token_loaded;
        uint8_t token_hash[SHA256_SIZE]; /* SHA-256 of what the container's token file must hold */
        Diag problems;                /* why the plan is impossible (token file); diff reports them */
        bool server_healthy;          /* the server answered; checked at most once per instance */
} NetmakerPlugin;

extern const PluginVTable netmaker_plugin_vtable;

/* netmaker-parse.c */
void netmaker_config_done(NetmakerConfig *c);
/* Validates plugins.netmaker (section not NULL) into c; -EINVAL when
 * errors were recorded in d. */
int netmaker_parse(NetmakerConfig *c, json_object *section, Diag *d);
void netmaker_containers_free(NetmakerContainer *c, size_t n);
/* The netmaker containers of the document's lxc section, read as JSON
 * (the lxc plugin validates that section; malformed entries are skipped
 * here), and plugins.lxc.backend (*ret_backend: NULL when not given). */
int netmaker_containers_from_doc(const StateDoc *doc, NetmakerContainer **ret, size_t *ret_n,
                                 char **ret_backend);

/* netmaker-token.c */
void netmaker_token_done(NetmakerToken *t);
/* The token file must be a regular file, owned by root, without group or
 * other permission bits. Records why not at path. */
int netmaker_token_check_stat(const struct stat *st, const char *file, const char *path, Diag *d);
/* Finds NETMAKER_TOKEN=... in the text of an environment file (optional
 * "export ", optional single or double quotes, # comments; the last
 * assignment wins). Returns 0 and a copy of the value, or records why not
 * (never quoting the value). */
int netmaker_env_parse(const char *text, size_t len, const char *file, const char *path,
                       char **ret_token, Diag *d);
/* Decodes a token (takes ownership of token, also on failure): standard
 * base64 (padding optional) of a JSON object whose "server" or, failing
 * that, "apiconnstring" is a host[:port]. */
int netmaker_token_decode(char *token, const char *file, const char *path, NetmakerToken *ret, Diag *d);
/* Reads, checks and decodes the token file. */
int netmaker_token_load(const char *file, const char *path, NetmakerToken *ret, Diag *d);
/* A host name, IPv4 address or [IPv6] address, optionally ":port". */
bool netmaker_server_valid(const char *s);
/* Standard base64 (RFC 4648 section 4), padding optional, no whitespace.
 * The result is NUL-terminated (not counted in *ret_len). */
int netmaker_base64_decode(const char *s, uint8_t **ret, size_t *ret_len);
/* A copy of text with every occurrence of the token's secrets replaced by
 * NETMAKER_REDACTED (t may be NULL). */
char *netmaker_redact(const char *text, const NetmakerToken *t);
/* The bytes written to NETMAKER_CT_TOKEN: the token and a newline. */
char *netmaker_token_content(const NetmakerToken *t, size_t *ret_len);

/* netmaker-container.c: what the containers say (pure) */
/* What the inspect script printed in a running container: "token ...",
 * "unit ..." and "link ..." lines into t. */
void netmaker_parse_inspect(const char *out, NetmakerTarget *t, const uint8_t *token_hash);

/* netmaker-health.c */
/* https://<server>/api/server/health, or <api_endpoint>/api/server/health
 * when an endpoint is given (its trailing slashes dropped). */
char *netmaker_health_url(const char *api_endpoint, const char *server);
/* GET url over HTTPS with certificate verification (CA bundle from
 * $OPDBUS_CA_FILE when set), NETMAKER_CONNECT_TIMEOUT_MS to connect,
 * NETMAKER_TOTAL_TIMEOUT_MS in all and at most NETMAKER_MAX_REDIRECTS
 * redirects, all to https. Success is a 2xx answer. Otherwise records at
 * path what failed, naming the URL, and returns -ECONNREFUSED,
 * -ETIMEDOUT, -EHOSTUNREACH (no route, name resolution), -EKEYREJECTED
 * (certificate verification, CA bundle), -ECONNABORTED (TLS handshake),
 * -EREMOTEIO (HTTP status), -ELOOP (redirects), -EPROTO (not https),
 * -ECONNRESET (closed without an answer) or -EIO. */
int netmaker_health_check(const char *url, const char *path, Diag *d);

/* netmaker-container.c */
/* The unit put into containers (static text). */
const char *netmaker_unit_text(void);
/* Fills t's live fields: whether the container exists and is op-dbus's,
 * runs and, when it runs, what its files hold (the backend's exec).
 * token_hash may be NULL (token_current stays false). */
int netmaker_container_inspect(LxcAccess *a, NetmakerTarget *t, const uint8_t *token_hash,
                               const NetmakerToken *tok, Diag *d);
/* Puts the token and the unit into the running container id with the
 * backend's exec and push, then checks they landed. */
int netmaker_container_inject(LxcAccess *a, uint32_t id, const NetmakerToken *tok,
                              const uint8_t token_hash[static SHA256_SIZE],
                              ApplyCounts *counts, Diag *d);

/* Puts them into a stopped container through its root file system (the
 * backend's mount: pct mount, or plain LXC's directory), owned by the
 * container's root user, and checks them. */
int netmaker_container_inject_stopped(LxcAccess *a, uint32_t id, const NetmakerToken *tok,
                                      const uint8_t token_hash[static SHA256_SIZE],
                                      ApplyCounts *counts, Diag *d);

/* netmaker-ledger.c */
void netmaker_ledger_done(NetmakerLedger *l);
int netmaker_ledger_load(NetmakerLedger *l, const char *state_dir);
NetmakerLedgerEntry *netmaker_ledger_find(const NetmakerLedger *l, uint32_t id);
/* Records an injection of the token with this digest (hex; NULL:
 * unknown). Returns 1 when the ledger changed. */
int netmaker_ledger_add(NetmakerLedger *l, uint32_t id, const char *digest);
int netmaker_ledger_save(const NetmakerLedger *l, const char *state_dir);
