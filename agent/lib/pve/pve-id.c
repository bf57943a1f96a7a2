/* SPDX-License-Identifier: LGPL-2.1-or-later */
/* Proxmox's names for guests: container and VM ids (VMIDs), tags. */
#include <string.h>

#include "json-util.h"
#include "macro.h"
#include "pve-id.h"

static bool ascii_alnum(char c) {
        return (c >= 'a' && c <= 'z') || (c >= 'A' && c <= 'Z') || (c >= '0' && c <= '9');
}

bool pve_vmid_parse(const char *s, const char **end, uint32_t *ret) {
        const char *c = s;
        uint32_t v = 0;

        if (*c < '1' || *c > '9')
                return false;
        for (; *c >= '0' && *c <= '9'; c++) {
                if (c - s >= 9)
                        return false;
                v = v * 10 + (uint32_t) (*c - '0');
        }
        if (c - s < 3)
                return false;
        *end = c;
        *ret = v;
        return true;
}

int pve_get_vmid(json_object *o, const char *path, const char *key, bool required,
                         uint32_t *ret, Diag *d) {
        _cleanup_(freep) char *p = json_path_key(path, key);
        json_object *v;
        const char *s, *e;
        uint32_t id;
        int64_t i;

        if (!p)
                return -ENOMEM;
        if (json_member(o, key, p, required, &v, d) == 0)
                return 0;

        switch (json_object_get_type(v)) {
        case json_type_int:
                i = json_object_get_int64(v);
                if (i < PVE_VMID_MIN || i > PVE_VMID_MAX) {
                        /* json-c's own rendering also shows values above INT64_MAX right */
                        diag_error(d, p, "%s is out of range, expected a container id %u..%u",
                                   json_object_to_json_string(v), PVE_VMID_MIN, PVE_VMID_MAX);
                        return -EINVAL;
                }
                id = (uint32_t) i;
                break;
        case json_type_string:
                s = json_object_get_string(v);
                if (!pve_vmid_parse(s, &e, &id) || *e || (size_t) (e - s) != (size_t) json_object_get_string_len(v)) {
                        diag_error(d, p, "\"%s\" is not a container id, expected an integer %u..%u or its digits as a string, such as \"100\"",
                                   s, PVE_VMID_MIN, PVE_VMID_MAX);
                        return -EINVAL;
                }
                break;
        default:
                diag_error(d, p, "expected a container id (an integer %u..%u or a string of its digits), got %s",
                           PVE_VMID_MIN, PVE_VMID_MAX, json_type_name(json_object_get_type(v)));
                return -EINVAL;
        }
        *ret = id;
        return 1;
}

bool pve_tag_valid(const char *s) {
        if (!*s || *s == '+' || *s == '.' || *s == '-')
                return false;
        for (; *s; s++)
                if (!ascii_alnum(*s) && !strchr("_+.-", *s))
                        return false;
        return true;
}
