/* SPDX-License-Identifier: LGPL-2.1-or-later */
/* op-dbus init --profile NAME [--set key=value ...] [-o FILE] */
#include <arpa/inet.h>
#include <ctype.h>
#include <stdio.h>
#include <sys/stat.h>
#include <unistd.h>

#include "op-dbus.h"
#include "fileio.h"
#include "json-util.h"
#include "log.h"
#include "profiles.h"
#include "plugins.h"

static const Profile *find_profile(const char *name) {
        for (const Profile *p = builtin_profiles; p->name; p++)
                if (streq(p->name, name))
                        return p;
        return NULL;
}

static const Placeholder *find_key(const char *key) {
        for (const Placeholder *p = opdbus_product.placeholders; p->word; p++)
                if (streq(p->set_key, key))
                        return p;
        return NULL;
}

static bool valid_uuid(const char *s) {
        static const char shape[] = "xxxxxxxx-xxxx-xxxx-xxxx-xxxxxxxxxxxx";

        if (strlen(s) != strlen(shape))
                return false;
        for (size_t i = 0; shape[i]; i++)
                if (shape[i] == '-' ? s[i] != '-' : !isxdigit((unsigned char) s[i]))
                        return false;
        return true;
}

static bool valid_wg_key(const char *s) {
        if (strlen(s) != 44 || s[43] != '=')
                return false;
        for (size_t i = 0; i < 43; i++)
                if (!isalnum((unsigned char) s[i]) && s[i] != '+' && s[i] != '/')
                        return false;
        return true;
}

/* What a value for this placeholder must look like; NULL when it does. */
static const char *check_value(const Placeholder *p, const char *v) {
        struct in_addr a;

        if (strstr(p->set_key, "_ip"))
                return inet_pton(AF_INET, v, &a) == 1 ? NULL : "an IPv4 address such as 203.0.113.7";
        if (streq(p->set_key, "uuid"))
                return valid_uuid(v) ? NULL : "a UUID such as 1b671a64-40d5-491e-99b0-da01ff1f3341";
        if (strstr(p->set_key, "_key"))
                return valid_wg_key(v) ? NULL : "a WireGuard key: 44 base64 characters ending in '='";
        return NULL;
}

/* Replaces every string equal to word by value, anywhere in o. */
static size_t substitute(json_object *o, const char *word, const char *value) {
        size_t n = 0;

        if (json_object_is_type(o, json_type_object)) {
                json_object_object_foreach(o, key, val) {
                        if (json_object_is_type(val, json_type_string) && streq(json_object_get_string(val), word)) {
                                json_object_object_add(o, key, json_object_new_string(value));
                                n++;
                        } else
                                n += substitute(val, word, value);
                }
        } else if (json_object_is_type(o, json_type_array))
                for (size_t i = 0; i < json_object_array_length(o); i++) {
                        json_object *v = json_object_array_get_idx(o, i);

                        if (json_object_is_type(v, json_type_string) && streq(json_object_get_string(v), word)) {
                                json_object_array_put_idx(o, i, json_object_new_string(value));
                                n++;
                        } else
                                n += substitute(v, word, value);
                }
        return n;
}

static int apply_sets(json_object *root, char **sets, const char *profile) {
        for (char **s = sets; s && *s; s++) {
                _cleanup_(freep) char *key = strndup(*s, strcspn(*s, "="));
                const char *value = strchr(*s, '='), *why;
                const Placeholder *p;

                if (!key || !value || !value[1]) {
                        log_error("init: --set %s: expected KEY=VALUE.", *s);
                        return -EINVAL;
                }
                value++;
                p = find_key(key);
                if (!p) {
                        log_error("init: --set %s: unknown key; known keys: vps_ip, vps_public_ip, uuid, "
                                  "client_public_key, warp_public_key.", key);
                        return -EINVAL;
                }
                why = check_value(p, value);
                if (why) {
                        log_error("init: --set %s: \"%s\" is not %s.", key, value, why);
                        return -EINVAL;
                }
                if (substitute(root, p->word, value) == 0) {
                        log_error("init: --set %s: profile \"%s\" has no %s to fill in.", key, profile, p->word);
                        return -EINVAL;
                }
        }
        return 0;
}

/* A VMess id needs no operator: take one from the kernel. *ret is the id
 * when the profile had one to fill in, else NULL. */
static int generate_uuid(json_object *root, char **ret) {
        _cleanup_(freep) char *uuid = NULL;
        size_t n;
        int r;

        *ret = NULL;
        r = read_full_file("/proc/sys/kernel/random/uuid", &uuid, &n);
        if (r < 0)
                return r;
        strstrip_newline(uuid);
        if (substitute(root, "UUID", uuid) > 0)
                *ret = TAKE_PTR(uuid);
        return 0;
}

/* Both ends of the privacy chain need the same VMess id. */
static void print_uuid_notice(const char *profile, const char *uuid) {
        bool vps = streq(profile, "privacy-vps");

        log_notice("init: generated the VMess id %s; give %s the same one: "
                   "op-dbus init --profile %s --set uuid=%s",
                   uuid, vps ? "the privacy client" : "the VPS", vps ? "privacy-client" : "privacy-vps", uuid);
}

/* init -o FILE --force: FILE.bak becomes the file FILE is (a hard link, so
 * FILE is never missing), then the new state replaces FILE atomically.
 * An older FILE.bak goes; FILE need not exist. */
static int write_replacing(const char *path, const char *text) {
        _cleanup_(freep) char *bak = NULL;
        struct stat st;
        int r;

        if (lstat(path, &st) < 0) {
                if (errno != ENOENT)
                        return log_error_errno(-errno, "init: cannot write %s: %m", path);
                r = write_file_new(path, text, strlen(text), 0600);
                return r < 0 ? log_error_errno(r, "init: cannot write %s: %m", path) : 0;
        }
        if (!S_ISREG(st.st_mode))
                return log_error_errno(-EINVAL, "init: %s is not a regular file; not replacing it.", path);
        if (asprintf(&bak, "%s.bak", path) < 0)
                return log_error_errno(-ENOMEM, "Out of memory.");
        if (unlink(bak) < 0 && errno != ENOENT)
                return log_error_errno(-errno, "init: cannot remove the old %s: %m", bak);
        if (link(path, bak) < 0)
                return log_error_errno(-errno, "init: cannot keep %s as %s: %m; nothing was changed", path, bak);
        r = write_file_atomic(path, text, strlen(text), 0600);
        if (r < 0) {
                (void) unlink(bak);
                return log_error_errno(r, "init: cannot write %s: %m; nothing was changed", path);
        }
        log_notice("init: replaced %s; the old one is %s.", path, bak);
        return 0;
}

int verb_init(Cli *cli) {
        _cleanup_(json_object_putp) json_object *root = NULL;
        _cleanup_(freep) char *uuid = NULL;
        const Profile *profile;
        const char *text;
        int r;

        if (!cli->profile) {
                log_error("init: --profile NAME is required.");
                return EXIT_INVALID;
        }
        profile = find_profile(cli->profile);
        if (!profile) {
                log_error("init: unknown profile \"%s\"; see 'op-dbus --help' for the list.", cli->profile);
                return EXIT_INVALID;
        }
        root = json_tokener_parse(profile->json);
        if (!root)
                return EXIT_UNAVAILABLE;
        if (apply_sets(root, cli->sets, cli->profile) < 0)
                return EXIT_INVALID;
        if (generate_uuid(root, &uuid) < 0)
                log_warning("init: cannot read a random UUID from the kernel; fill in UUID by hand.");

        text = json_object_to_json_string_ext(root, JSON_C_TO_STRING_PRETTY | JSON_C_TO_STRING_SPACED |
                                                    JSON_C_TO_STRING_NOSLASHESCAPE);
        if (!cli->output || streq(cli->output, "-"))
                puts(text);
        else if (cli->force) {
                r = write_replacing(cli->output, text);
                if (r < 0)
                        return r == -EINVAL ? EXIT_INVALID : EXIT_UNAVAILABLE;
        } else {
                r = write_file_new(cli->output, text, strlen(text), 0600);
                if (r == -EEXIST) {
                        log_error_errno(r, "init: cannot write %s: %m; not overwriting it (--force replaces it "
                                        "and keeps it as %s.bak).", cli->output, cli->output);
                        return EXIT_INVALID;
                }
                if (r < 0) {
                        log_error_errno(r, "init: cannot write %s: %m", cli->output);
                        return EXIT_UNAVAILABLE;
                }
        }
        /* Only now: the id is in the state that was written. */
        if (uuid)
                print_uuid_notice(profile->name, uuid);
        return EXIT_OK;
}
