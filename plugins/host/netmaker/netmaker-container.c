/* SPDX-License-Identifier: LGPL-2.1-or-later */
/* The container side, through the lxc plugin's backend (lxc-access.h:
 * Proxmox VE's pct, or plain LXC): what a container holds, and putting the
 * token and the first-boot unit into it.
 *
 * Files go in with the backend's push ("pct push", which needs a running
 * container and exits 0 on some failures: a missing directory, an
 * unreadable source), so every injection is checked afterwards by looking
 * at the container again. The check compares SHA-256 digests computed
 * inside the container: the container's copy of the token is never read
 * back. The token never reaches a command line; what the backend's tools
 * say is passed on with the token's secrets taken out. */
#include <fcntl.h>
#include <limits.h>
#include <stdio.h>
#include <sys/stat.h>

#include "lxc-access.h"
#include "netmaker.h"

/* Runs once the token is there and the node has not joined yet: the
 * marker file makes it a first-boot-only unit, even across reboots. */
static const char unit_text[] =
        "# Installed by op-dbus: joins the Netmaker mesh once, with the enrollment\n"
        "# token op-dbus put into " NETMAKER_CT_TOKEN ".\n"
        "[Unit]\n"
        "Description=Join the Netmaker mesh (first boot)\n"
        "Wants=network-online.target\n"
        "After=network-online.target\n"
        "ConditionPathExists=!/var/lib/netmaker/joined\n"
        "ConditionPathExists=" NETMAKER_CT_TOKEN "\n"
        "\n"
        "[Service]\n"
        "Type=oneshot\n"
        "ExecStart=/bin/sh -c 'netclient join -t \"$(cat " NETMAKER_CT_TOKEN ")\" && mkdir -p /var/lib/netmaker && touch /var/lib/netmaker/joined'\n"
        "\n"
        "[Install]\n"
        "WantedBy=multi-user.target\n";

/* Scripts run in the container do not depend on the PATH pct passes on. */
#define CT_PATH "PATH=/usr/local/sbin:/usr/local/bin:/usr/sbin:/usr/bin:/sbin:/bin; export PATH; "

/* Prints, for the token and the unit, "<name> <sha256> <mode> <uid>" or
 * "<name> -" when it is not a regular file, then "link <target>" or
 * "link -". Busybox and coreutils both have what it uses. */
static const char inspect_script[] =
        CT_PATH
        "for f in token:" NETMAKER_CT_TOKEN " unit:" NETMAKER_CT_UNIT "; do "
                "n=${f%%:*}; p=${f#*:}; "
                "if [ -f \"$p\" ] && [ ! -L \"$p\" ]; then "
                        "set -- $(sha256sum \"$p\"); h=$1; set -- $(stat -c '%a %u' \"$p\"); "
                        "echo \"$n $h $1 $2\"; "
                "else echo \"$n -\"; fi; "
        "done; "
        "l=$(readlink " NETMAKER_CT_UNIT_LINK ") && echo \"link $l\" || echo 'link -'";

/* Enables the unit the way "systemctl enable" would, without systemctl;
 * where systemd runs the container, the unit is also started now, so a
 * running container does not wait for its next boot to join. */
static const char enable_script[] =
        CT_PATH
        "ln -sf " NETMAKER_CT_UNIT " " NETMAKER_CT_UNIT_LINK " && "
        "if [ -d /run/systemd/system ] && command -v systemctl >/dev/null 2>&1; then "
                "systemctl daemon-reload && systemctl start --no-block netmaker-first-boot.service; "
        "fi";

static const char mkdir_script[] =
        CT_PATH "mkdir -p /etc/systemd/system/multi-user.target.wants && mkdir -p -m 0700 /etc/netmaker";

const char *netmaker_unit_text(void) {
        return unit_text;
}

/* One line of the inspect script: "<name> <hash> <mode> <uid>" or "<name> -". */
static void parse_file_line(const char *line, const char *name, const uint8_t *want_hash,
                            unsigned want_mode, bool *ret_present, bool *ret_current) {
        char hex[2 * SHA256_SIZE + 1] = "", hash[80] = "";
        unsigned mode = 0, uid = 1;

        *ret_present = *ret_current = false;
        if (!startswith(line, name) || line[strlen(name)] != ' ' || streq(line + strlen(name), " -"))
                return;
        if (sscanf(line + strlen(name), " %79s %o %u", hash, &mode, &uid) != 3)
                return;
        *ret_present = true;
        if (want_hash)
                sha256_hex(want_hash, hex);
        *ret_current = want_hash && streq(hash, hex) && mode == want_mode && uid == 0;
}

void netmaker_parse_inspect(const char *out, NetmakerTarget *t, const uint8_t *token_hash) {
        uint8_t unit_hash[SHA256_SIZE];
        const char *line = out;

        sha256(unit_text, strlen(unit_text), unit_hash);
        while (line && *line) {
                const char *eol = strchr(line, '\n');
                _cleanup_(freep) char *l = strndup(line, eol ? (size_t) (eol - line) : strlen(line));

                if (!l)
                        return;
                if (startswith(l, "token "))
                        parse_file_line(l, "token", token_hash, 0600, &t->token_present, &t->token_current);
                else if (startswith(l, "unit "))
                        parse_file_line(l, "unit", unit_hash, 0644, &t->unit_present, &t->unit_current);
                else if (startswith(l, "link "))
                        t->unit_enabled = streq(l + 5, NETMAKER_CT_UNIT);
                line = eol ? eol + 1 : NULL;
        }
}

/* Passes on what the backend recorded in scratch, at path and with the
 * token's secrets taken out; returns r. */
static int report(int r, Diag *scratch, const NetmakerToken *tok, const char *path, Diag *d) {
        for (size_t i = 0; i < scratch->n_entries; i++) {
                const DiagEntry *e = &scratch->entries[i];
                _cleanup_(freep) char *said = netmaker_redact(e->message, tok);

                if (!said)
                        return -ENOMEM;
                diag_add(d, e->level, path, "%s", said);
        }
        diag_done(scratch);
        return r;
}

int netmaker_container_inspect(LxcAccess *a, NetmakerTarget *t, const uint8_t *token_hash,
                               const NetmakerToken *tok, Diag *d) {
        _cleanup_(diag_done) Diag scratch = {};
        _cleanup_(freep) char *out = NULL;
        LxcContainerInfo info;
        char path[64];
        int r;

        snprintf(path, sizeof path, "netmaker/container/%u", t->id);
        *t = (NetmakerTarget) { .id = t->id, .wanted = t->wanted, .recorded = t->recorded,
                                .recorded_current = t->recorded_current };
        r = lxc_access_inspect(a, t->id, &info, &scratch);
        r = report(r, &scratch, tok, path, d);
        if (r < 0)
                return r;
        t->exists = info.exists;
        t->owned = info.owned;
        t->running = info.running;
        if (!t->exists || !t->owned || !t->running)
                return 0; /* not op-dbus's: not even looked into */

        r = lxc_access_exec(a, t->id, inspect_script, false, &out, NULL, &scratch);
        r = report(r, &scratch, tok, path, d);
        if (r < 0)
                return r;
        netmaker_parse_inspect(out, t, token_hash);
        t->inspected = true;
        return 0;
}

/* After the writes: everything must be there, as it should be. */
static int check_landed(LxcAccess *a, uint32_t vmid, const NetmakerToken *tok,
                        const uint8_t *token_hash, const char *path, Diag *d) {
        NetmakerTarget t = { .id = vmid };
        int r;

        r = netmaker_container_inspect(a, &t, token_hash, tok, d);
        if (r < 0)
                return r;
        if (!t.inspected) {
                diag_error(d, path, "container %u stopped while the enrollment token was injected", vmid);
                return -ESRCH;
        }
        if (!t.token_current)
                diag_error(d, path, "%s reported success, but %s in container %u %s", lxc_access_push_how(a),
                           NETMAKER_CT_TOKEN, vmid,
                           t.token_present ? "does not have the token's content, mode 0600 and owner root" : "is missing");
        if (!t.unit_current || !t.unit_enabled)
                diag_error(d, path, "%s in container %u is %s", NETMAKER_CT_UNIT, vmid,
                           !t.unit_present ? "missing" : !t.unit_current ? "not op-dbus's unit" : "not enabled");
        return t.token_current && t.unit_current && t.unit_enabled ? 0 : -EIO;
}

int netmaker_container_inject(LxcAccess *a, uint32_t vmid, const NetmakerToken *tok,
                              const uint8_t token_hash[static SHA256_SIZE],
                              ApplyCounts *counts, Diag *d) {
        _cleanup_(diag_done) Diag scratch = {};
        _cleanup_(freep) char *content = NULL;
        char path[64];
        size_t len = 0;
        int r;

        snprintf(path, sizeof path, "netmaker/container/%u", vmid);
        content = netmaker_token_content(tok, &len);
        if (!content)
                return -ENOMEM;

        r = lxc_access_exec(a, vmid, mkdir_script, true, NULL, counts, &scratch);
        if (r >= 0)
                r = lxc_access_push(a, vmid, unit_text, strlen(unit_text), NETMAKER_CT_UNIT, 0644, counts, &scratch);
        if (r >= 0)
                r = lxc_access_push(a, vmid, content, len, NETMAKER_CT_TOKEN, 0600, counts, &scratch);
        if (r >= 0)
                r = lxc_access_exec(a, vmid, enable_script, true, NULL, counts, &scratch);
        explicit_bzero(content, len);
        r = report(r, &scratch, tok, path, d);
        if (r < 0)
                return r;
        return check_landed(a, vmid, tok, token_hash, path, d);
}

/* ---- a stopped container: its root file system, mounted with pct mount ---- */

/* Opens the directory rel (relative, "/"-separated) below dirfd, creating
 * what is missing with mode and owner. A symbolic link on the way is
 * refused: the container's root controls its files, and the host must not
 * be led out of the root file system. */
static int open_dir_below(int dirfd, const char *rel, mode_t mode, uid_t uid, gid_t gid) {
        _cleanup_(freep) char *copy = strdup(rel);
        _cleanup_(closep) int fd = fcntl(dirfd, F_DUPFD_CLOEXEC, 3);
        char *save = NULL;

        if (!copy)
                return -ENOMEM;
        if (fd < 0)
                return negative_errno();
        for (char *c = strtok_r(copy, "/", &save); c; c = strtok_r(NULL, "/", &save)) {
                int next;

                if (mkdirat(fd, c, mode) >= 0) {
                        if (fchownat(fd, c, uid, gid, AT_SYMLINK_NOFOLLOW) < 0)
                                return negative_errno();
                } else if (errno != EEXIST)
                        return negative_errno();
                next = openat(fd, c, O_RDONLY | O_DIRECTORY | O_NOFOLLOW | O_CLOEXEC);
                if (next < 0)
                        return errno == ELOOP || errno == ENOTDIR ? -ELOOP : negative_errno();
                close(fd);
                fd = next;
        }
        return TAKE_FD(fd);
}

/* Replaces name in dirfd with data (mode, owner), through a new file. */
static int write_below(int dirfd, const char *name, const char *data, size_t len, mode_t mode,
                       uid_t uid, gid_t gid) {
        _cleanup_(freep) char *tmp = NULL;
        _cleanup_(closep) int fd = -EBADF;
        int r = 0;

        if (asprintf(&tmp, ".%s.op-dbus-new", name) < 0)
                return -ENOMEM;
        (void) unlinkat(dirfd, tmp, 0);
        fd = openat(dirfd, tmp, O_WRONLY | O_CREAT | O_EXCL | O_NOFOLLOW | O_CLOEXEC, 0600);
        if (fd < 0)
                return negative_errno();
        for (size_t done = 0; r >= 0 && done < len; ) {
                ssize_t k = write(fd, data + done, len - done);

                if (k < 0 && errno != EINTR)
                        r = negative_errno();
                else if (k > 0)
                        done += (size_t) k;
        }
        if (r >= 0 && (fchown(fd, uid, gid) < 0 || fchmod(fd, mode) < 0 || fsync(fd) < 0))
                r = negative_errno();
        if (r >= 0 && renameat(dirfd, tmp, dirfd, name) < 0)
                r = negative_errno();
        if (r < 0)
                (void) unlinkat(dirfd, tmp, 0);
        return r;
}

/* Whether name in dirfd is a regular file with this digest, mode and owner. */
static bool file_is(int dirfd, const char *name, const uint8_t *hash, mode_t mode, uid_t uid) {
        _cleanup_(closep) int fd = openat(dirfd, name, O_RDONLY | O_NOFOLLOW | O_CLOEXEC);
        _cleanup_(freep) char *text = NULL;
        uint8_t h[SHA256_SIZE];
        struct stat st;
        size_t len = 0;
        bool same;

        if (fd < 0 || fstat(fd, &st) < 0 || !S_ISREG(st.st_mode) || st.st_size > NETMAKER_TOKEN_FILE_MAX)
                return false;
        text = malloc((size_t) st.st_size + 1);
        while (text && len < (size_t) st.st_size) {
                ssize_t k = read(fd, text + len, (size_t) st.st_size - len);

                if (k <= 0 && !(k < 0 && errno == EINTR))
                        break;
                if (k > 0)
                        len += (size_t) k;
        }
        if (!text || len != (size_t) st.st_size)
                return false;
        sha256(text, len, h);
        same = memcmp(h, hash, SHA256_SIZE) == 0;
        explicit_bzero(text, len);
        return same && (st.st_mode & 07777) == mode && st.st_uid == uid;
}

typedef struct RootfsFiles {
        const char *token;            /* the token file's content */
        size_t token_len;
        const uint8_t *token_hash;
        uid_t uid;
        gid_t gid;
} RootfsFiles;

/* Writes the token, the unit and the unit's link below root, then checks them. */
static int write_rootfs(int root, const RootfsFiles *f, const char *path, uint32_t vmid, Diag *d) {
        _cleanup_(closep) int netmaker = -EBADF, units = -EBADF, wants = -EBADF;
        const char *unit_name = strrchr(NETMAKER_CT_UNIT, '/') + 1;
        uint8_t unit_hash[SHA256_SIZE];
        char link[PATH_MAX];
        ssize_t n;
        int r;

        netmaker = open_dir_below(root, "etc/netmaker", 0700, f->uid, f->gid);
        units = open_dir_below(root, "etc/systemd/system", 0755, f->uid, f->gid);
        wants = open_dir_below(root, "etc/systemd/system/multi-user.target.wants", 0755, f->uid, f->gid);
        r = netmaker < 0 ? netmaker : units < 0 ? units : wants < 0 ? wants : 0;
        if (r >= 0)
                r = write_below(units, unit_name, unit_text, strlen(unit_text), 0644, f->uid, f->gid);
        if (r >= 0)
                r = write_below(netmaker, "enrollment-token", f->token, f->token_len, 0600, f->uid, f->gid);
        if (r >= 0 && ((unlinkat(wants, unit_name, 0) < 0 && errno != ENOENT) ||
                       symlinkat(NETMAKER_CT_UNIT, wants, unit_name) < 0 ||
                       fchownat(wants, unit_name, f->uid, f->gid, AT_SYMLINK_NOFOLLOW) < 0))
                r = negative_errno();
        if (r < 0) {
                diag_error(d, path, "cannot write into the root file system of container %u: %s", vmid,
                           r == -ELOOP ? "a directory on the way is a symbolic link" : strerror(-r));
                return r;
        }

        sha256(unit_text, strlen(unit_text), unit_hash);
        n = readlinkat(wants, unit_name, link, sizeof link - 1);
        if (n >= 0)
                link[n] = 0;
        if (!file_is(netmaker, "enrollment-token", f->token_hash, 0600, f->uid) ||
            !file_is(units, unit_name, unit_hash, 0644, f->uid) || n < 0 || !streq(link, NETMAKER_CT_UNIT)) {
                diag_error(d, path, "the files written into the root file system of container %u do not read back "
                           "as written", vmid);
                return -EIO;
        }
        return 0;
}

int netmaker_container_inject_stopped(LxcAccess *a, uint32_t vmid, const NetmakerToken *tok,
                                      const uint8_t token_hash[static SHA256_SIZE],
                                      ApplyCounts *counts, Diag *d) {
        _cleanup_(diag_done) Diag scratch = {};
        _cleanup_(freep) char *content = NULL, *rootfs = NULL;
        _cleanup_(closep) int root = -EBADF;
        RootfsFiles f = { .token_hash = token_hash };
        LxcContainerInfo info;
        char path[64];
        int r, q;

        snprintf(path, sizeof path, "netmaker/container/%u", vmid);
        r = lxc_access_inspect(a, vmid, &info, &scratch);
        r = report(r, &scratch, tok, path, d);
        if (r < 0)
                return r;
        if (!info.exists) {
                diag_error(d, path, "container %u does not exist", vmid);
                return -ENOENT;
        }
        f.uid = info.root_uid;
        f.gid = info.root_gid;
        content = netmaker_token_content(tok, &f.token_len);
        if (!content)
                return -ENOMEM;
        f.token = content;

        r = lxc_access_mount(a, vmid, &rootfs, counts, &scratch);
        r = report(r, &scratch, tok, path, d);
        if (r < 0)
                goto out;
        root = open(rootfs, O_RDONLY | O_DIRECTORY | O_CLOEXEC);
        if (root < 0) {
                r = negative_errno();
                diag_error(d, path, "cannot open the root file system of container %u, %s: %s", vmid, rootfs, strerror(-r));
        } else
                r = write_rootfs(root, &f, path, vmid, d);
        if (root >= 0)
                close(TAKE_FD(root)); /* nothing may stay open on the mount */
        q = lxc_access_unmount(a, vmid, counts, &scratch);
        q = report(q, &scratch, tok, path, d);
        if (r >= 0)
                r = q;
out:
        explicit_bzero(content, f.token_len);
        return r;
}
