/* SPDX-License-Identifier: LGPL-2.1-or-later */
#pragma once

/* The renderers services_render() dispatches to (services.c): one per
 * configuration block. */

#include <json-c/json.h>

#include "diag.h"
#include "services.h"

/* The renderers. block is the service's configuration object, path its
 * JSON path. Each returns 0, -EINVAL when errors were recorded, or
 * -ENOMEM. */
int wireguard_render_gateway(json_object *block, const char *path, ServiceFiles *out, Diag *d);
int wireguard_render_warp(json_object *block, const char *path, ServiceFiles *out, Diag *d);
/* The "interface" of a wg-quick block, or NULL when it is missing or not
 * a string (the renderer reports that). */
const char *wireguard_warp_interface(json_object *block);
int xray_render(json_object *block, const char *path, ServiceFiles *out, Diag *d);
