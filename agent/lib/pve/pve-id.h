/* SPDX-License-Identifier: LGPL-2.1-or-later */
#pragma once

/* Proxmox's names for guests: container and VM ids (VMIDs), which one
 * namespace of the cluster holds, and tags. The plain LXC backend names
 * its containers the same way. */

#include <stdbool.h>
#include <stdint.h>

#include <json-c/json.h>

#include "diag.h"

#define PVE_VMID_MIN 100U
#define PVE_VMID_MAX 999999999U

/* Parses the id at the start of s: 3..9 digits without a leading zero.
 * *end points after the digits. */
bool pve_vmid_parse(const char *s, const char **end, uint32_t *ret);
/* A container id field: a JSON integer PVE_VMID_MIN..PVE_VMID_MAX or a
 * string of its digits ("100"). Behaves like the json_get_* accessors. */
int pve_get_vmid(json_object *o, const char *path, const char *key, bool required, uint32_t *ret, Diag *d);
/* A Proxmox tag: [a-z0-9_][a-z0-9_+.-]* (any case). */
bool pve_tag_valid(const char *s);
