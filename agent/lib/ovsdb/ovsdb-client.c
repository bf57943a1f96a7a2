/* SPDX-License-Identifier: LGPL-2.1-or-later */

#include <errno.h>
#include <limits.h>
#include <poll.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <arpa/inet.h>
#include <netinet/in.h>
#include <netinet/tcp.h>
#include <sys/socket.h>
#include <sys/un.h>
#include <time.h>

#include <json-c/json.h>

#include "json-util.h"
#include "macro.h"
#include "ovsdb-client.h"

/* Compact, with "/" left unescaped as ovsdb-server writes it. */
#define JSON_WIRE_FLAGS (JSON_C_TO_STRING_PLAIN | JSON_C_TO_STRING_NOSLASHESCAPE)

/* Compact the notification queue once this many entries were popped. */
#define QUEUE_COMPACT_MIN 64

struct OvsdbClient {
        int fd;                 /* connected AF_UNIX stream socket */
        int timeout_ms;         /* limit for each wait on the server; <0: none */
        JsonStream *stream;     /* splits received bytes into messages */
        int64_t next_id;        /* id of the next request, increasing from 1 */
        json_object *queue;     /* array of received notifications, oldest first */
        size_t queue_head;      /* index in queue of the oldest one not yet popped */
        int error;              /* once the connection is unusable: why (<0) */
};


/* ---- Small json-c helpers ------------------------------------------------ */

/* Set o[key] to a new reference of v; v == NULL stores a JSON null. */
static int object_set_ref(json_object *o, const char *key, json_object *v) {
        if (json_object_object_add(o, key, json_object_get(v)) < 0) {
                json_object_put(v);
                return -ENOMEM;
        }
        return 0;
}

/* Set o[key] to v, consuming it even on failure; v == NULL is an
 * allocation failure. */
static int object_set(json_object *o, const char *key, json_object *v) {
        int r;

        if (!v)
                return -ENOMEM;
        r = object_set_ref(o, key, v);
        json_object_put(v);
        return r;
}

static const char *object_get_string(json_object *o, const char *key) {
        json_object *v = json_object_object_get(o, key);

        return json_object_is_type(v, json_type_string) ? json_object_get_string(v) : NULL;
}

/* ---- Time and socket I/O ------------------------------------------------- */

static int64_t now_ms(void) {
        struct timespec ts;

        (void) clock_gettime(CLOCK_MONOTONIC, &ts);
        return (int64_t) ts.tv_sec * 1000 + ts.tv_nsec / 1000000;
}

static int64_t deadline_after(int timeout_ms) {
        return timeout_ms < 0 ? INT64_MAX : now_ms() + timeout_ms;
}

/* Wait until fd reports one of events or the deadline passes. */
static int fd_wait(int fd, short events, int64_t deadline) {
        for (;;) {
                struct pollfd p = { .fd = fd, .events = events };
                int64_t left = deadline == INT64_MAX ? -1 : MAX(deadline - now_ms(), (int64_t) 0);
                int r;

                r = poll(&p, 1, (int) MIN(left, (int64_t) INT_MAX));
                if (r < 0) {
                        if (errno == EINTR)
                                continue;
                        return -errno;
                }
                if (r == 0)
                        return -ETIMEDOUT;
                if (p.revents & POLLNVAL)
                        return -EBADF;
                return 0;
        }
}

/* Record that the connection can no longer be used; returns r. */
static int client_fail(OvsdbClient *c, int r) {
        if (c->error >= 0)
                c->error = r;
        return r;
}

/* Write the whole serialized message, across partial writes. A peer that
 * went away yields -EPIPE (or -ECONNRESET), not SIGPIPE. */
static int client_send(OvsdbClient *c, json_object *msg, int64_t deadline) {
        const char *p;
        size_t len, done = 0;

        p = json_object_to_json_string_length(msg, JSON_WIRE_FLAGS, &len);
        if (!p)
                return -ENOMEM;

        while (done < len) {
                ssize_t n;
                int r;

                n = send(c->fd, p + done, len - done, MSG_NOSIGNAL | MSG_DONTWAIT);
                if (n >= 0) {
                        done += (size_t) n;
                        continue;
                }
                if (errno == EINTR)
                        continue;
                if (errno != EAGAIN)
                        return client_fail(c, -errno);

                r = fd_wait(c->fd, POLLOUT, deadline);
                if (r < 0)
                        /* Half a message on the wire desynchronizes the
                         * stream; a message not started at all does not. */
                        return done > 0 || r != -ETIMEDOUT ? client_fail(c, r) : r;
        }

        return 0;
}

/* Receive what is available (waiting up to the deadline for at least one
 * byte) and append it to the stream. */
static int client_read(OvsdbClient *c, int64_t deadline) {
        char buf[16384];

        for (;;) {
                ssize_t n;
                int r;

                n = recv(c->fd, buf, sizeof(buf), MSG_DONTWAIT);
                if (n > 0) {
                        r = json_stream_feed(c->stream, buf, (size_t) n);
                        return r < 0 ? client_fail(c, r) : 0;
                }
                if (n == 0)
                        return client_fail(c, -ECONNRESET);
                if (errno == EINTR)
                        continue;
                if (errno != EAGAIN)
                        return client_fail(c, -errno);

                r = fd_wait(c->fd, POLLIN, deadline);
                if (r < 0)
                        return r;
        }
}

/* Next complete message, reading as needed. The message may be NULL (the
 * JSON text "null"); client_process() rejects it. */
static int client_next_message(OvsdbClient *c, int64_t deadline, json_object **ret) {
        for (;;) {
                int r;

                r = json_stream_next(c->stream, ret);
                if (r < 0)
                        return client_fail(c, r);
                if (r > 0)
                        return 0;

                r = client_read(c, deadline);
                if (r < 0)
                        return r;
        }
}

/* ---- Incoming messages --------------------------------------------------- */

static size_t queue_length(OvsdbClient *c) {
        return json_object_array_length(c->queue) - c->queue_head;
}

static int client_queue_notification(OvsdbClient *c, json_object *msg) {
        return json_array_append_take(c->queue, json_object_get(msg));
}

/* Answer a request from the server: "echo" returns its params, anything
 * else is refused so the server does not wait forever. */
static int client_answer(OvsdbClient *c, json_object *msg, const char *method, json_object *id) {
        _cleanup_(json_object_putp) json_object *a = NULL;
        int r;

        a = json_object_new_object();
        if (!a)
                return -ENOMEM;

        if (streq(method, "echo")) {
                r = object_set_ref(a, "result", json_object_object_get(msg, "params"));
                if (r >= 0)
                        r = object_set_ref(a, "error", NULL);
        } else {
                r = object_set_ref(a, "result", NULL);
                if (r >= 0)
                        r = object_set(a, "error", json_object_new_string("unknown method"));
        }
        if (r >= 0)
                r = object_set_ref(a, "id", id);
        if (r < 0)
                return r;

        return client_send(c, a, deadline_after(c->timeout_ms));
}

static bool reply_id_is(json_object *id, int64_t want) {
        return want > 0 && json_object_is_type(id, json_type_int) && json_object_get_int64(id) == want;
}

/* Handle one message from the server. Returns 1 and a new reference in
 * *ret_reply when it is the reply to request want_id (0: none awaited),
 * 0 when it was answered, queued or discarded (a stale reply). Any
 * failure leaves the connection unusable: a notification may be lost. */
static int client_process(OvsdbClient *c, json_object *msg, int64_t want_id, json_object **ret_reply) {
        json_object *method, *id;
        int r;

        if (!json_object_is_type(msg, json_type_object))
                return client_fail(c, -EBADMSG);

        id = json_object_object_get(msg, "id");

        if (json_object_object_get_ex(msg, "method", &method)) {
                if (!json_object_is_type(method, json_type_string))
                        return client_fail(c, -EBADMSG);

                if (id)
                        r = client_answer(c, msg, json_object_get_string(method), id);
                else
                        r = client_queue_notification(c, msg);
                return r < 0 ? client_fail(c, r) : 0;
        }

        if (!reply_id_is(id, want_id))
                return 0;

        *ret_reply = json_object_get(msg);
        return 1;
}

/* Process every message already received, without waiting for more, so
 * that notifications that arrived with a reply are queued right away.
 * Failures are recorded in c->error for the next call. */
static void client_drain(OvsdbClient *c) {
        while (c->error >= 0) {
                _cleanup_(json_object_putp) json_object *msg = NULL;
                int r;

                r = json_stream_next(c->stream, &msg);
                if (r < 0)
                        (void) client_fail(c, r);
                if (r <= 0)
                        return;

                (void) client_process(c, msg, 0, NULL);
        }
}

static int client_wait_reply(OvsdbClient *c, int64_t id, int64_t deadline, json_object **ret) {
        for (;;) {
                _cleanup_(json_object_putp) json_object *msg = NULL;
                int r;

                r = client_next_message(c, deadline, &msg);
                if (r < 0)
                        return r;

                r = client_process(c, msg, id, ret);
                if (r != 0)
                        return r < 0 ? r : 0;
        }
}

/* ---- Connection ---------------------------------------------------------- */

/* "IP:PORT" or "[IPv6]:PORT", numeric. */
static int parse_tcp(const char *s, struct sockaddr_storage *ret_sa, socklen_t *ret_len) {
        struct sockaddr_storage ss = {};
        struct sockaddr_in *in = (struct sockaddr_in *) &ss;
        struct sockaddr_in6 *in6 = (struct sockaddr_in6 *) &ss;
        char host[INET6_ADDRSTRLEN + 1];
        const char *colon, *port;
        unsigned long n;
        char *end;
        size_t l;

        if (s[0] == '[') {
                const char *close = strchr(s, ']');

                if (!close || close[1] != ':')
                        return -EINVAL;
                l = (size_t) (close - s - 1);
                s++;
                port = close + 2;
        } else {
                colon = strrchr(s, ':');
                if (!colon)
                        return -EINVAL;
                l = (size_t) (colon - s);
                port = colon + 1;
        }
        if (l == 0 || l >= sizeof(host))
                return -EINVAL;
        memcpy(host, s, l);
        host[l] = 0;
        errno = 0;
        n = strtoul(port, &end, 10);
        if (port[0] < '0' || port[0] > '9' || *end || errno || n == 0 || n > 65535)
                return -EINVAL;
        if (inet_pton(AF_INET, host, &in->sin_addr) == 1) {
                in->sin_family = AF_INET;
                in->sin_port = htons((uint16_t) n);
                *ret_len = sizeof(*in);
        } else if (inet_pton(AF_INET6, host, &in6->sin6_addr) == 1) {
                in6->sin6_family = AF_INET6;
                in6->sin6_port = htons((uint16_t) n);
                *ret_len = sizeof(*in6);
        } else
                return -EINVAL;
        *ret_sa = ss;
        return 0;
}

/* "unix:PATH" or an absolute path; "tcp:IP:PORT" (an IPv6 address in
 * brackets: "tcp:[::1]:6641"). Names are not resolved. */
static int parse_address(const char *address, struct sockaddr_storage *ret_sa, socklen_t *ret_len) {
        struct sockaddr_storage ss = {};
        struct sockaddr_un *sa = (struct sockaddr_un *) &ss;
        const char *path;
        size_t l;

        if (startswith(address, "tcp:"))
                return parse_tcp(address + strlen("tcp:"), ret_sa, ret_len);
        if (startswith(address, "unix:"))
                path = address + strlen("unix:");
        else if (address[0] == '/')
                path = address;
        else
                return strchr(address, ':') ? -EPROTONOSUPPORT : -EINVAL;

        sa->sun_family = AF_UNIX;
        l = strlen(path);
        if (l == 0)
                return -EINVAL;
        if (l >= sizeof(sa->sun_path))
                return -ENAMETOOLONG;

        memcpy(sa->sun_path, path, l);
        *ret_sa = ss;
        *ret_len = (socklen_t) (offsetof(struct sockaddr_un, sun_path) + l + 1);
        return 0;
}

/* Connect fd, bounded by timeout_ms: SO_SNDTIMEO limits how long a blocking
 * connect() waits (for room in an AF_UNIX server's backlog, for a TCP
 * handshake). */
static int connect_timeout(int fd, const struct sockaddr_storage *sa, socklen_t len, int timeout_ms) {
        if (timeout_ms > 0) {
                struct timeval tv = {
                        .tv_sec = timeout_ms / 1000,
                        .tv_usec = (timeout_ms % 1000) * 1000,
                };

                if (setsockopt(fd, SOL_SOCKET, SO_SNDTIMEO, &tv, sizeof(tv)) < 0)
                        return -errno;
        }

        for (;;) {
                if (connect(fd, (const struct sockaddr *) sa, len) >= 0)
                        return 0;
                if (errno == EINTR && sa->ss_family == AF_UNIX)
                        continue;       /* nothing happened yet on AF_UNIX */
                if (errno == EAGAIN || errno == EINPROGRESS || errno == ETIMEDOUT || errno == EINTR)
                        return -ETIMEDOUT;
                return -errno;
        }
}

int ovsdb_client_connect(const char *address, int timeout_ms, OvsdbClient **ret) {
        _cleanup_(ovsdb_client_freep) OvsdbClient *c = NULL;
        struct sockaddr_storage sa;
        socklen_t len;
        int r;

        if (!address || !ret)
                return -EINVAL;

        r = parse_address(address, &sa, &len);
        if (r < 0)
                return r;

        c = calloc(1, sizeof(OvsdbClient));
        if (!c)
                return -ENOMEM;
        c->fd = -EBADF;
        c->timeout_ms = timeout_ms;
        c->next_id = 1;

        c->stream = json_stream_new();
        c->queue = json_object_new_array();
        if (!c->stream || !c->queue)
                return -ENOMEM;

        c->fd = socket(sa.ss_family, SOCK_STREAM | SOCK_CLOEXEC | (timeout_ms == 0 ? SOCK_NONBLOCK : 0), 0);
        if (c->fd < 0)
                return -errno;
        if (sa.ss_family != AF_UNIX) {
                /* a request is one write: send it at once */
                int one = 1;

                if (setsockopt(c->fd, IPPROTO_TCP, TCP_NODELAY, &one, sizeof(one)) < 0)
                        return -errno;
        }

        r = connect_timeout(c->fd, &sa, len, timeout_ms);
        if (r < 0)
                return r;

        *ret = TAKE_PTR(c);
        return 0;
}

OvsdbClient *ovsdb_client_free(OvsdbClient *c) {
        if (!c)
                return NULL;

        json_object_put(c->queue);
        json_stream_free(c->stream);
        closep(&c->fd);
        free(c);
        return NULL;
}

int ovsdb_client_fd(OvsdbClient *c) {
        if (!c)
                return -EINVAL;
        return c->fd;
}

/* ---- Calls --------------------------------------------------------------- */

/* {"method": method, "params": params, "id": id}; consumes params. */
static int build_request(const char *method, json_object *params, int64_t id, json_object **ret) {
        _cleanup_(json_object_putp) json_object *p = params, *req = NULL;
        int r;

        req = json_object_new_object();
        if (!req)
                return -ENOMEM;

        r = object_set(req, "method", json_object_new_string(method));
        if (r >= 0)
                r = object_set(req, "params", TAKE_PTR(p));
        if (r >= 0)
                r = object_set(req, "id", json_object_new_int64(id));
        if (r < 0)
                return r;

        *ret = TAKE_PTR(req);
        return 0;
}

/* Render a JSON-RPC or OVSDB error value as "error: details". */
static int error_to_string(json_object *e, char **ret) {
        const char *error = NULL, *details = NULL;
        char *s;

        if (json_object_is_type(e, json_type_string))
                error = json_object_get_string(e);
        else if (json_object_is_type(e, json_type_object)) {
                error = object_get_string(e, "error");
                details = object_get_string(e, "details");
        }
        if (!error)
                error = json_object_to_json_string_ext(e, JSON_WIRE_FLAGS);
        if (!error)
                return -ENOMEM;

        if (details) {
                if (asprintf(&s, "%s: %s", error, details) < 0)
                        return -ENOMEM;
        } else {
                s = strdup(error);
                if (!s)
                        return -ENOMEM;
        }

        *ret = s;
        return 0;
}

/* A non-null "error" member fails the call; a missing one counts as null. */
static int reply_result(json_object *reply, json_object **ret_result, char **reterr) {
        json_object *e;
        int r;

        e = json_object_object_get(reply, "error");
        if (e) {
                if (reterr) {
                        r = error_to_string(e, reterr);
                        if (r < 0)
                                return r;
                }
                return -EREMOTEIO;
        }

        if (ret_result)
                *ret_result = json_object_get(json_object_object_get(reply, "result"));
        return 0;
}

int ovsdb_client_call(OvsdbClient *c, const char *method, json_object *params,
                      json_object **ret_result, char **reterr) {
        _cleanup_(json_object_putp) json_object *p = params, *req = NULL, *reply = NULL;
        int64_t deadline, id;
        int r;

        if (!c || !method)
                return -EINVAL;
        if (!p) {
                p = json_object_new_array();
                if (!p)
                        return -ENOMEM;
        } else if (!json_object_is_type(p, json_type_array))
                return -EINVAL;
        if (c->error < 0)
                return c->error;

        deadline = deadline_after(c->timeout_ms);
        id = c->next_id++;

        r = build_request(method, TAKE_PTR(p), id, &req);
        if (r < 0)
                return r;

        r = client_send(c, req, deadline);
        if (r < 0)
                return r;

        r = client_wait_reply(c, id, deadline, &reply);
        if (r < 0)
                return r;

        client_drain(c);
        return reply_result(reply, ret_result, reterr);
}

/* ---- transact ------------------------------------------------------------ */

/* ["db", op...] for the operations array ops (not consumed). */
static json_object *transact_params(const char *db, json_object *ops) {
        _cleanup_(json_object_putp) json_object *p = NULL;
        size_t n = json_object_array_length(ops);

        p = json_object_new_array_ext((int) MIN(n + 1, (size_t) INT_MAX));
        if (!p)
                return NULL;

        if (json_array_append_take(p, json_object_new_string(db)) < 0)
                return NULL;
        for (size_t i = 0; i < n; i++)
                if (json_array_append_take(p, json_object_get(json_object_array_get_idx(ops, i))) < 0)
                        return NULL;

        return TAKE_PTR(p);
}

static const char *op_name(json_object *ops, size_t i) {
        if (i >= json_object_array_length(ops))
                return NULL;
        return object_get_string(json_object_array_get_idx(ops, i), "op");
}

/* Result i carries an error: name it, and pick the errno. Indexes past
 * the operations are errors of the commit itself (e.g. a duplicate index
 * value). "constraint violation" is also used for values outside a
 * column's allowed range; only the index case, whose details read
 * "... identical values (...) for index on column ...", means -EEXIST. */
static int transact_error(json_object *ops, size_t i, json_object *result, char **reterr) {
        const char *op = op_name(ops, i), *error, *details;
        int r;

        error = object_get_string(result, "error") ?: "unknown error";
        details = object_get_string(result, "details");

        if (op && streq(op, "wait") && streq(error, "timed out"))
                r = -ETIMEDOUT;
        else if (streq(error, "constraint violation") && details && strstr(details, " for index on "))
                r = -EEXIST;
        else
                r = -EREMOTEIO;

        if (reterr) {
                char *s;
                int k;

                if (i < json_object_array_length(ops))
                        k = asprintf(&s, "operation %zu (%s): %s%s%s", i, strna(op),
                                     error, details ? ": " : "", details ?: "");
                else
                        k = asprintf(&s, "transaction commit: %s%s%s",
                                     error, details ? ": " : "", details ?: "");
                if (k < 0)
                        return -ENOMEM;
                *reterr = s;
        }

        return r;
}

/* Every operation must have a result object without an error. The server
 * stops at the first failing operation (later results are null or
 * missing) and appends an extra result if the commit itself failed. */
static int transact_check(json_object *ops, json_object *results, char **reterr) {
        size_t n_ops = json_object_array_length(ops), n = json_object_array_length(results);

        for (size_t i = 0; i < n; i++) {
                json_object *res = json_object_array_get_idx(results, i);

                if (json_object_is_type(res, json_type_object) && json_object_object_get(res, "error"))
                        return transact_error(ops, i, res, reterr);
        }

        for (size_t i = 0; i < n_ops; i++) {
                if (i < n && json_object_is_type(json_object_array_get_idx(results, i), json_type_object))
                        continue;

                if (reterr) {
                        char *s;

                        if (asprintf(&s, "operation %zu (%s): no result, transaction aborted",
                                     i, strna(op_name(ops, i))) < 0)
                                return -ENOMEM;
                        *reterr = s;
                }
                return -EREMOTEIO;
        }

        return 0;
}

int ovsdb_client_transact(OvsdbClient *c, const char *db, json_object *ops,
                          json_object **ret_results, char **reterr) {
        _cleanup_(json_object_putp) json_object *o = ops, *params = NULL, *results = NULL;
        int r;

        if (!c || !db || !json_object_is_type(o, json_type_array))
                return -EINVAL;

        params = transact_params(db, o);
        if (!params)
                return -ENOMEM;

        r = ovsdb_client_call(c, "transact", TAKE_PTR(params), &results, reterr);
        if (r < 0)
                return r;
        if (!json_object_is_type(results, json_type_array))
                return -EBADMSG;

        r = transact_check(o, results, reterr);
        if (r < 0)
                return r;

        if (ret_results)
                *ret_results = TAKE_PTR(results);
        return 0;
}

/* ---- Notifications ------------------------------------------------------- */

int ovsdb_client_pop_notification(OvsdbClient *c, json_object **ret) {
        size_t n;

        if (!c || !ret)
                return -EINVAL;
        if (queue_length(c) == 0)
                return 0;

        *ret = json_object_get(json_object_array_get_idx(c->queue, c->queue_head));
        c->queue_head++;

        /* Drop popped entries in bulk rather than shifting on every pop. */
        n = json_object_array_length(c->queue);
        if (c->queue_head == n || (c->queue_head >= QUEUE_COMPACT_MIN && c->queue_head * 2 >= n)) {
                if (json_object_array_del_idx(c->queue, 0, c->queue_head) >= 0)
                        c->queue_head = 0;
        }

        return 1;
}

int ovsdb_client_wait_notification(OvsdbClient *c, int timeout_ms) {
        int64_t deadline;

        if (!c)
                return -EINVAL;

        deadline = deadline_after(timeout_ms);
        for (;;) {
                _cleanup_(json_object_putp) json_object *msg = NULL;
                int r;

                if (queue_length(c) > 0)
                        return 1;
                if (c->error < 0)
                        return c->error;

                r = client_next_message(c, deadline, &msg);
                if (r == -ETIMEDOUT)
                        return 0;
                if (r < 0)
                        return r;

                r = client_process(c, msg, 0, NULL);
                if (r < 0)
                        return r;
        }
}
