/* SPDX-License-Identifier: LGPL-2.1-or-later */
/* The enrollment token: the host's token file (NETMAKER_TOKEN="..." in an
 * environment file, mode 0600, owner root), and the token itself, base64
 * of a JSON object naming the Netmaker server:
 *
 *   {"server": "api.netmaker.example.org", "value": "<enrollment key>"}   (enrollment keys)
 *   {"apiconnstring": "api.netmaker.example.org:443", "key": "...", ...}  (older access keys)
 *
 * Messages never contain the token, nor any part of it. */
#include <arpa/inet.h>
#include <fcntl.h>
#include <stdio.h>

#include "file-trust.h"
#include "fileio.h"
#include "json-util.h"
#include "netmaker.h"

/* Frees a secret string after overwriting it. */
static void erase_free(char *s) {
        if (!s)
                return;
        explicit_bzero(s, strlen(s));
        free(s);
}

static void erase_freep(char **s) {
        erase_free(*s);
}

void netmaker_token_done(NetmakerToken *t) {
        erase_free(t->token);
        erase_free(t->key);
        free(t->server);
        *t = (NetmakerToken) {};
}

/* A secret: only root may have written it, and only root may read it. */
static const FileTrust token_file_trust = {
        .what = "the enrollment token file",
        .forbidden_mode = 077,
        .mode_rule = "accessible to group or others, expected 0600",
        .chmod = "0600",
        .caller_may_own = false,
};

int netmaker_token_check_stat(const struct stat *st, const char *file, const char *path, Diag *d) {
        return file_trust_check_stat(st, file, &token_file_trust, path, d);
}

static const char *skip_blanks(const char *p, const char *end) {
        while (p < end && (*p == ' ' || *p == '\t'))
                p++;
        return p;
}

static int bad(const char **why, const char *reason) {
        *why = reason;
        return -EBADMSG;
}

/* The value of one "[export ]NAME=VALUE" line if NAME is NETMAKER_TOKEN:
 * 1 and *ret set, 0 for any other line, or -EBADMSG with *why set. */
static int env_line(const char *p, const char *end, char **ret, const char **why) {
        const char *v, *e;
        size_t name_len = strlen(NETMAKER_TOKEN_VARIABLE);

        if (end > p && end[-1] == '\r')
                end--;
        p = skip_blanks(p, end);
        if ((size_t) (end - p) > 7 && strncmp(p, "export", 6) == 0 && (p[6] == ' ' || p[6] == '\t'))
                p = skip_blanks(p + 7, end);
        if ((size_t) (end - p) < name_len || strncmp(p, NETMAKER_TOKEN_VARIABLE, name_len) != 0)
                return 0;
        p += name_len;
        if (p < end && (*p == '_' || (*p >= 'A' && *p <= 'Z') || (*p >= 'a' && *p <= 'z') || (*p >= '0' && *p <= '9')))
                return 0; /* a longer name, e.g. NETMAKER_TOKEN_FILE */
        if (p >= end || *p != '=')
                return bad(why, "expected NETMAKER_TOKEN=\"<token>\"");

        v = ++p;
        if (v < end && (*v == '"' || *v == '\'')) {
                e = memchr(v + 1, *v, (size_t) (end - v - 1));
                if (!e)
                        return bad(why, "the quote is not closed");
                p = e + 1;
                v++;
        } else {
                for (e = v; e < end && *e != ' ' && *e != '\t' && *e != '#'; e++)
                        ;
                p = e;
        }
        p = skip_blanks(p, end);
        if (p < end && *p != '#')
                return bad(why, "unexpected text after the value");
        if (e == v)
                return bad(why, "the value is empty");
        for (const char *c = v; c < e; c++)
                if (strchr("\\$`\"'", *c) || (unsigned char) *c < 0x20)
                        return bad(why, "the value contains quotes, escapes, $ or control characters, which op-dbus does not interpret");
        *ret = strndup(v, (size_t) (e - v));
        return *ret ? 1 : -ENOMEM;
}

int netmaker_env_parse(const char *text, size_t len, const char *file, const char *path,
                       char **ret_token, Diag *d) {
        _cleanup_(erase_freep) char *value = NULL;
        const char *end = text + len, *why = NULL;
        unsigned line = 0;

        if (memchr(text, 0, len)) {
                diag_error(d, path, "the enrollment token file %s contains a NUL byte; expected a line %s=\"<token>\"",
                           file, NETMAKER_TOKEN_VARIABLE);
                return -EBADMSG;
        }
        for (const char *p = text; p < end; line++) {
                const char *eol = memchr(p, '\n', (size_t) (end - p)) ?: end;
                char *v = NULL;
                int r;

                r = env_line(p, eol, &v, &why);
                if (r == -EBADMSG) {
                        diag_error(d, path, "%s line %u: malformed %s assignment: %s", file, line + 1,
                                   NETMAKER_TOKEN_VARIABLE, why);
                        return r;
                }
                if (r < 0)
                        return r;
                if (r > 0) {
                        erase_free(value);
                        value = v; /* the last assignment wins, as in a shell */
                }
                p = eol + (eol < end);
        }
        if (!value) {
                diag_error(d, path, "the enrollment token file %s does not set %s; expected a line %s=\"<token>\"",
                           file, NETMAKER_TOKEN_VARIABLE, NETMAKER_TOKEN_VARIABLE);
                return -ENOENT;
        }
        *ret_token = TAKE_PTR(value);
        return 0;
}

static int base64_value(char c) {
        if (c >= 'A' && c <= 'Z')
                return c - 'A';
        if (c >= 'a' && c <= 'z')
                return c - 'a' + 26;
        if (c >= '0' && c <= '9')
                return c - '0' + 52;
        if (c == '+')
                return 62;
        if (c == '/')
                return 63;
        return -1;
}

int netmaker_base64_decode(const char *s, uint8_t **ret, size_t *ret_len) {
        size_t len = strlen(s), pad = 0, n = 0;
        unsigned acc = 0, bits = 0;
        uint8_t *out;

        while (len > 0 && s[len - 1] == '=' && pad < 2) {
                len--;
                pad++;
        }
        if (len == 0 || len % 4 == 1 || (pad > 0 && (len + pad) % 4 != 0))
                return -EINVAL;

        out = malloc(len / 4 * 3 + 3);
        if (!out)
                return -ENOMEM;
        for (size_t i = 0; i < len; i++) {
                int v = base64_value(s[i]);

                if (v < 0) {
                        explicit_bzero(out, n);
                        free(out);
                        return -EINVAL;
                }
                acc = (acc << 6 | (unsigned) v) & 0xffffff;
                bits += 6;
                if (bits >= 8) {
                        bits -= 8;
                        out[n++] = (uint8_t) (acc >> bits);
                }
        }
        out[n] = 0;
        *ret = out;
        *ret_len = n;
        return 0;
}

static bool hostname_valid(const char *s, size_t n) {
        if (n == 0 || n > 253 || s[0] == '.' || s[0] == '-' || s[n - 1] == '-')
                return false;
        for (size_t i = 0; i < n; i++)
                if (!((s[i] >= 'a' && s[i] <= 'z') || (s[i] >= 'A' && s[i] <= 'Z') ||
                      (s[i] >= '0' && s[i] <= '9') || s[i] == '.' || s[i] == '-' || s[i] == '_'))
                        return false;
        return true;
}

bool netmaker_server_valid(const char *s) {
        const char *rest;

        if (s[0] == '[') {
                const char *close = strchr(s, ']');
                char buf[INET6_ADDRSTRLEN];
                struct in6_addr a;

                if (!close || (size_t) (close - s - 1) >= sizeof buf)
                        return false;
                memcpy(buf, s + 1, (size_t) (close - s - 1));
                buf[close - s - 1] = 0;
                if (inet_pton(AF_INET6, buf, &a) != 1)
                        return false;
                rest = close + 1;
        } else {
                rest = s + strcspn(s, ":");
                if (!hostname_valid(s, (size_t) (rest - s)))
                        return false;
        }
        if (*rest == 0)
                return true;
        if (*rest != ':' || strlen(rest + 1) < 1 || strlen(rest + 1) > 5 || strspn(rest + 1, "0123456789") != strlen(rest + 1))
                return false;
        return atoi(rest + 1) >= 1 && atoi(rest + 1) <= 65535;
}

/* A non-empty string member, or NULL. */
static const char *string_member(json_object *o, const char *key) {
        json_object *v;

        if (!json_object_object_get_ex(o, key, &v) || !json_object_is_type(v, json_type_string) ||
            json_object_get_string_len(v) == 0)
                return NULL;
        return json_object_get_string(v);
}

/* The JSON object in the decoded token (the whole input, nothing after it). */
static json_object *parse_object(const uint8_t *raw, size_t n) {
        json_tokener *tok = json_tokener_new();
        json_object *o;

        if (!tok)
                return NULL;
        o = json_tokener_parse_ex(tok, (const char *) raw, (int) n);
        if (o && (json_tokener_get_error(tok) != json_tokener_success ||
                  json_tokener_get_parse_end(tok) != n || !json_object_is_type(o, json_type_object))) {
                json_object_put(o);
                o = NULL;
        }
        json_tokener_free(tok);
        return o;
}

int netmaker_token_decode(char *token, const char *file, const char *path, NetmakerToken *ret, Diag *d) {
        _cleanup_(netmaker_token_done) NetmakerToken t = { .token = token };
        _cleanup_(json_object_putp) json_object *o = NULL;
        const char *server, *key;
        uint8_t *raw = NULL;
        size_t n = 0;
        int r;

        r = netmaker_base64_decode(t.token, &raw, &n);
        if (r == -ENOMEM)
                return r;
        if (r < 0) {
                diag_error(d, path, "%s in %s is not a Netmaker enrollment token: it is not base64 (%zu characters)",
                           NETMAKER_TOKEN_VARIABLE, file, strlen(t.token));
                return -EBADMSG;
        }
        if (n <= INT32_MAX)
                o = parse_object(raw, n);
        explicit_bzero(raw, n);
        free(raw);
        if (!o) {
                diag_error(d, path, "%s in %s is not a Netmaker enrollment token: it is base64, but not of a JSON object",
                           NETMAKER_TOKEN_VARIABLE, file);
                return -EBADMSG;
        }

        server = string_member(o, "server") ?: string_member(o, "apiconnstring");
        if (!server) {
                diag_error(d, path, "%s in %s names no Netmaker server: expected a \"server\" (or \"apiconnstring\") field in the decoded token",
                           NETMAKER_TOKEN_VARIABLE, file);
                return -EBADMSG;
        }
        if (!netmaker_server_valid(server)) {
                diag_error(d, path, "%s in %s names a server that is not a host name or host:port (%zu characters)",
                           NETMAKER_TOKEN_VARIABLE, file, strlen(server));
                return -EBADMSG;
        }
        t.server = strdup(server);
        key = string_member(o, "value") ?: string_member(o, "key");
        if (!t.server || (key && !(t.key = strdup(key))))
                return -ENOMEM;

        *ret = t;
        t = (NetmakerToken) {};
        return 0;
}

int netmaker_token_load(const char *file, const char *path, NetmakerToken *ret, Diag *d) {
        _cleanup_(closep) int fd = -EBADF;
        _cleanup_(erase_freep) char *text = NULL;
        char *token = NULL;
        struct stat st;
        size_t len;
        int r;

        fd = open(file, O_RDONLY | O_CLOEXEC | O_NOCTTY | O_NONBLOCK);
        if (fd < 0) {
                r = negative_errno();
                if (r == -ENOENT)
                        diag_error(d, path, "the enrollment token file %s does not exist; create it with a line %s=\"<token>\", mode 0600, owner root",
                                   file, NETMAKER_TOKEN_VARIABLE);
                else
                        diag_error(d, path, "cannot open the enrollment token file %s: %s", file, strerror(-r));
                return r;
        }
        if (fstat(fd, &st) < 0)
                return negative_errno();
        r = file_trust_check(fd, &st, file, &token_file_trust, path, d);
        if (r < 0)
                return r;

        r = read_fd_bounded(fd, NETMAKER_TOKEN_FILE_MAX, &text, &len);
        if (r == -EFBIG)
                diag_error(d, path, "the enrollment token file %s is larger than %u bytes", file, NETMAKER_TOKEN_FILE_MAX);
        else if (r < 0)
                diag_error(d, path, "cannot read the enrollment token file %s: %s", file, strerror(-r));
        if (r < 0)
                return r;

        r = netmaker_env_parse(text, len, file, path, &token, d);
        if (r < 0)
                return r;
        return netmaker_token_decode(token, file, path, ret, d);
}

char *netmaker_redact(const char *text, const NetmakerToken *t) {
        const char *secrets[2] = { t ? t->token : NULL, t ? t->key : NULL };
        size_t out_len = 0, allocated = 0;
        char *out = NULL;

        for (const char *p = text;;) {
                const char *hit = NULL;
                size_t hit_len = 0, n;

                for (size_t i = 0; i < ELEMENTSOF(secrets); i++) {
                        const char *h;

                        /* too short to be a secret: redacting it would mangle the text */
                        if (!secrets[i] || strlen(secrets[i]) < 6)
                                continue;
                        h = strstr(p, secrets[i]);
                        if (h && (!hit || h < hit || (h == hit && strlen(secrets[i]) > hit_len))) {
                                hit = h;
                                hit_len = strlen(secrets[i]);
                        }
                }
                n = hit ? (size_t) (hit - p) : strlen(p);
                if (greedy_realloc((void **) &out, &allocated, out_len + n + strlen(NETMAKER_REDACTED) + 1, 1) < 0) {
                        free(out);
                        return NULL;
                }
                memcpy(out + out_len, p, n);
                out_len += n;
                if (!hit)
                        break;
                memcpy(out + out_len, NETMAKER_REDACTED, strlen(NETMAKER_REDACTED));
                out_len += strlen(NETMAKER_REDACTED);
                p = hit + hit_len;
        }
        out[out_len] = 0;
        return out;
}

char *netmaker_token_content(const NetmakerToken *t, size_t *ret_len) {
        char *s;

        if (asprintf(&s, "%s\n", t->token) < 0)
                return NULL;
        *ret_len = strlen(s);
        return s;
}
