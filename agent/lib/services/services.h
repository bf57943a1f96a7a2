/* SPDX-License-Identifier: LGPL-2.1-or-later */
#pragma once

/* Container services: turns the free-form "config" object of an LXC
 * container into the files its services need (wg-quick configurations,
 * the Xray configuration and unit), the units to enable and the Debian
 * packages to install. The input is validated here; every problem is
 * recorded in a Diag with the JSON path of the offending value.
 *
 * Nothing is read from or written to the host: the caller pushes the files
 * into the container. Private keys never pass through this library: the
 * rendered files refer to key files inside the container (see
 * docs/services.md), listed in ServiceFiles.inputs. */

#include <stdbool.h>
#include <stddef.h>
#include <sys/types.h>

#include <json-c/json.h>

#include "diag.h"

/* A file to install in the container. */
typedef struct ServiceFile {
        char *path;                   /* absolute path inside the container */
        char *content;                /* whole file, NUL-terminated */
        mode_t mode;                  /* permission bits, e.g. 0600; owner root:root */
        bool secret;                  /* holds a secret (VMess id): never log or show the content */
} ServiceFile;

typedef enum ServiceInputKind {
        SERVICE_INPUT_WIREGUARD_KEY,  /* WireGuard private key: create it with "wg genkey" (mode 0600)
                                       * when missing, never overwrite it */
        SERVICE_INPUT_PROVIDED,       /* put there by the administrator (Warp account key, TLS
                                       * certificate and key, the xray binary); must exist */
        _SERVICE_INPUT_KIND_MAX,
} ServiceInputKind;

/* A file inside the container that the rendered files use but that op-dbus
 * does not render. */
typedef struct ServiceInput {
        char *path;                   /* absolute path inside the container */
        ServiceInputKind kind;
        bool secret;                  /* a private key: never read it into the host's logs */
        char *json_path;              /* where it is configured, for messages */
} ServiceInput;

/* Everything one container needs. Lists keep the order of "services";
 * units and packages have no duplicates. */
typedef struct ServiceFiles {
        ServiceFile *files;
        size_t n_files;
        ServiceInput *inputs;
        size_t n_inputs;
        char **units;                 /* systemd units to enable and start, e.g. "wg-quick@wg0.service" */
        size_t n_units;
        char **packages;              /* Debian packages to install, e.g. "wireguard-tools" */
        size_t n_packages;
} ServiceFiles;

void service_files_done(ServiceFiles *f);

/* Renders config (the container's "config" object; NULL when the container
 * has none) for the n_services names in services ("wireguard",
 * "wg-quick@IFACE", "xray", or any other unit name, which is passed through
 * to units). path is the JSON path of the container, e.g.
 * "plugins.lxc.containers[0]"; messages name "<path>.config.wg0.address",
 * "<path>.services[1]" and so on. Values that are placeholders (an ALL-CAPS
 * word such as "UUID" or "CLIENT_PUBLIC_KEY") are not checked and are
 * rendered as they are: the state's placeholder check reports them.
 *
 * Returns 0 with *out filled (out must be zeroed), -EINVAL when errors were
 * recorded in d (then *out is left empty), or -ENOMEM. Warnings (ignored
 * keys, unused blocks) do not make it fail. Messages never contain secret
 * values. */
int services_render(json_object *config, char *const *services, size_t n_services,
                    const char *path, ServiceFiles *out, Diag *d);

const char *service_input_kind_to_string(ServiceInputKind k) _pure_;
