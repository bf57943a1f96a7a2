/* SPDX-License-Identifier: LGPL-2.1-or-later */
#pragma once

/* The containers themselves: validating the section (lxc-parse.c), the
 * normalised form both sides of the diff use (lxc-spec.c, lxc-conf.c,
 * lxc-template.c), reading the node (lxc-query.c), the diff (lxc-diff.c),
 * carrying it out (lxc-apply.c) and the live state as a section
 * (lxc-json.c). */

#include <stdbool.h>
#include <stdint.h>

#include <json-c/json.h>

#include "diag.h"
#include "lxc-access.h"
#include "lxc-plugin.h"
#include "plan.h"
#include "pve-id.h"

/* Creation defaults (see docs/containers.md). */
#define LXC_DEFAULT_ROOTFS_GIB 4
#define LXC_DEFAULT_MEMORY 512           /* MiB, Proxmox's default */
#define LXC_DEFAULT_SWAP 512             /* MiB, pct create's default (a config without swap: has none) */
#define LXC_TEMPLATE_STORAGE "local"     /* where short template names are looked up */

/* The raw keys that give a container /dev/net/tun. */
extern const char *const lxc_tun_lines[];

/* lxc-parse.c */
void lxc_config_done(LxcConfig *c);
/* Validates plugins.lxc (section not NULL) into c; -EINVAL when errors
 * were recorded in d. */
int lxc_parse(LxcConfig *c, json_object *section, Diag *d);

/* Options of a spec that `pct set` (or the backend's equivalent) changes. */
typedef enum LxcField {
        LXC_FIELD_HOSTNAME,
        LXC_FIELD_MEMORY,
        LXC_FIELD_SWAP,
        LXC_FIELD_CORES,
        LXC_FIELD_ONBOOT,
        LXC_FIELD_TAGS,
        LXC_FIELD_DESCRIPTION,
        LXC_FIELD_FEATURES,
        LXC_FIELD_NAMESERVER,
        LXC_FIELD_SEARCHDOMAIN,
        LXC_FIELD_NET0,
        LXC_FIELD_EXTRA_NETS,
        _LXC_FIELD_MAX,
} LxcField;

/* lxc-spec.c: the normalised form (pure) */
bool lxc_spec_field_differs(const LxcSpec *want, const LxcSpec *have, LxcField f);
/* net0 as it is to be set: want's, keeping have's hwaddr when the state
 * gives none (Proxmox would generate a new one). */
char *lxc_spec_net0_string(const LxcSpec *want, const LxcSpec *have);
void lxc_props_done(LxcProps *p);
/* Parses "k=v,k=v"; a bare word without '=' becomes the value of
 * default_key (NULL: refused). -EINVAL on a malformed string. */
int lxc_props_parse(const char *s, const char *default_key, LxcProps *ret);
const char *lxc_props_get(const LxcProps *p, const char *key);
int lxc_props_set(LxcProps *p, const char *key, const char *value);
void lxc_props_unset(LxcProps *p, const char *key);
/* "k=v,k=v"; with first, that key comes first (net0's name). */
char *lxc_props_format(const LxcProps *p, const char *first);
/* Space-separated list from one separated by ',', ';' or whitespace
 * (s may be NULL); *ret is NULL for an empty list. tags: lower case,
 * sorted, unique and ";"-joined instead. */
int lxc_list_normalize(const char *s, bool tags, char **ret);
void lxc_spec_done(LxcSpec *s);
void lxc_live_done(LxcLive *l);
/* The description op-dbus keeps on its containers (records the template). */
char *lxc_description_build(const char *template, const char *volume);
/* Reads the template record back from a description. */
int lxc_description_parse(const char *description, char **ret_template, char **ret_volume);
/* Whether the container needs /dev/net/tun (wg_tunnel, or a VPN service). */
bool lxc_container_wants_tun(const LxcContainer *c);
/* Whether the container gets net0 (a veth on network.bridge). */
bool lxc_container_has_veth(const LxcContainer *c);
/* The OVS port Proxmox plugs for net0 (veth<id>i0 or fwln<id>o0). */
void lxc_veth_port_name(uint32_t id, bool firewall, char ret[static 16]);
/* The desired spec of c, completed from have (may be NULL) where the state
 * leaves creation settings open. volume: the resolved template (NULL when
 * not needed or unknown); storage: the storage a new container goes to
 * when the state names none (NULL: none chosen). */
int lxc_spec_from_container(const LxcContainer *c, const LxcLive *have, const char *volume, const char *storage,
                            LxcSpec *ret);

/* lxc-template.c (pure) */
void lxc_templates_done(LxcTemplates *t);
/* The template c asks for: its own, else its properties' (NULL: none). */
static inline const char *lxc_requested_template(const LxcContainer *c) {
        return c->template ?: c->properties.template;
}
/* The storage a requested template is looked up in (*ret NULL for an
 * absolute path). */
int lxc_template_storage(const char *requested, char **ret);
/* Resolves a requested template to a volume id: 1 and *ret set when found,
 * 0 when not found (*ret_hint: what to do), -ENOMEM. */
int lxc_template_resolve(const LxcTemplates *t, const char *requested, char **ret, char **ret_hint);

/* lxc-conf.c */
/* Parses `pct config` output (len bytes, which may include NUL bytes)
 * into spec (and the config lock). */
int lxc_conf_parse(const char *text, size_t len, LxcSpec *spec, char **ret_lock);
/* Returns a copy of a Proxmox container configuration file with lines
 * present (inserted at the end of the main section, before the first
 * [section]) or absent (removed from the main section). Other lines stay
 * byte for byte. *ret_changed tells whether anything changed. */
int lxc_conf_edit_raw(const char *text, const char *const *lines, bool present, char **ret, bool *ret_changed);
/* Whether Proxmox HA manages container id (PVE::HA::Config::vm_is_ha_managed):
 * resources (ha/resources.cfg, may be NULL) has a section "ct: <id>" whose
 * state is not "ignored", and manager_status (ha/manager_status, may be
 * NULL) does not say HA is disarmed in "ignore" mode. */
bool lxc_ha_managed(const char *resources, const char *manager_status, uint32_t id);
/* What other plugins learn from a Proxmox container configuration file
 * (its text, which is modified; main section only): op-dbus's tag, and
 * its root's ids on the host (unprivileged, lxc.idmap). */
void lxc_conf_info(char *text, LxcContainerInfo *ret);
/* Edits <pve_dir>/lxc/<id>.conf under Proxmox's config lock, atomically. */
int lxc_conf_file_edit_raw(const char *pve_dir, uint32_t id, const char *const *lines, bool present,
                           int timeout_ms, bool *ret_changed);

/* lxc-query.c */
int lxc_query(LxcPlugin *l, Diag *d);
/* Sets l->backend from l->want.backend: "auto" is pct on a Proxmox VE
 * node (pct on PATH), plain LXC elsewhere. Plain LXC needs LXC's tools:
 * without them l->backend is NULL and l->backend_missing says why (only
 * a state with containers, or prune, is refused, by the plan). */
void lxc_choose_backend(LxcPlugin *l);
void lxc_live_set_done(LxcPlugin *l);

/* lxc-diff.c (pure) */
int lxc_diff(LxcPlugin *l, Plan *plan, Diag *d);
void lxc_specs_done(LxcPlugin *l);

/* lxc-apply.c */
int lxc_apply(LxcPlugin *l, ApplyCounts *counts, Diag *d);

/* lxc-json.c */
int lxc_live_to_json(const LxcPlugin *l, json_object **ret);
