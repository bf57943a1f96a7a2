/* SPDX-License-Identifier: LGPL-2.1-or-later */

/* The OVSDB client against a scripted fake server: a thread listening on a
 * unix socket in a private temporary directory replays bytes captured from
 * a real ovsdb-server, cut into awkward pieces, and checks what the client
 * sends. Run with "live" (or with OVSDB_TEST_SOCKET set) to also talk to a
 * real server at $OVSDB_TEST_SOCKET. */

#include <errno.h>
#include <poll.h>
#include <pthread.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <arpa/inet.h>
#include <netinet/in.h>
#include <sys/socket.h>
#include <sys/stat.h>
#include <sys/un.h>
#include <time.h>
#include <unistd.h>

#include <json-c/json.h>

#include "macro.h"
#include "ovsdb-client.h"
#include "ovsdb-txn.h"

#include "data/ovsdb/captures.h"

#define ASSERT(expr)                                                            \
        do {                                                                    \
                if (!(expr)) {                                                  \
                        fprintf(stderr, "%s:%d: %s: assertion failed: %s\n",   \
                                __FILE__, __LINE__, __func__, #expr);           \
                        abort();                                                \
                }                                                               \
        } while (0)

#define ASSERT_EQ_INT(a, b)                                                     \
        do {                                                                    \
                long long _a = (a), _b = (b);                                   \
                if (_a != _b) {                                                 \
                        fprintf(stderr, "%s:%d: %s: %s == %lld, expected %lld\n", \
                                __FILE__, __LINE__, __func__, #a, _a, _b);      \
                        abort();                                                \
                }                                                               \
        } while (0)

#define ASSERT_STREQ(a, b)                                                      \
        do {                                                                    \
                const char *_a = (a), *_b = (b);                                \
                if (!_a || !streq(_a, _b)) {                                    \
                        fprintf(stderr, "%s:%d: %s: %s == \"%s\", expected \"%s\"\n", \
                                __FILE__, __LINE__, __func__, #a, strna(_a), _b); \
                        abort();                                                \
                }                                                               \
        } while (0)

#define CAPTURE_ID "987654"
#define PEER_IO_TIMEOUT_MS 10000

DEFINE_TRIVIAL_CLEANUP_FUNC(json_object *, json_object_put);

/* ---- Fake server ---------------------------------------------------------- */

typedef struct Peer Peer;
typedef void (*PeerScript)(Peer *p);

struct Peer {
        char dir[64];           /* private directory holding the socket */
        char path[128];         /* socket path */
        char address[160];      /* "unix:" + path */
        int listen_fd;          /* listening socket */
        int fd;                 /* connection accepted from the client */
        JsonStream *in;         /* splits what the client sends */
        PeerScript script;      /* what the fake server does once connected */
        const void *userdata;   /* per-test input for the script */
        pthread_t thread;       /* runs script */
        bool joined;            /* thread already joined */
};

static int64_t now_ms(void) {
        struct timespec ts;

        ASSERT(clock_gettime(CLOCK_MONOTONIC, &ts) == 0);
        return (int64_t) ts.tv_sec * 1000 + ts.tv_nsec / 1000000;
}

static void *peer_main(void *arg) {
        Peer *p = arg;

        p->fd = accept4(p->listen_fd, NULL, NULL, SOCK_CLOEXEC);
        ASSERT(p->fd >= 0);
        p->in = json_stream_new();
        ASSERT(p->in);

        p->script(p);

        json_stream_free(p->in);
        ASSERT(close(p->fd) == 0);
        return NULL;
}

static void peer_start(Peer *p, PeerScript script, const void *userdata) {
        struct sockaddr_un sa = { .sun_family = AF_UNIX };

        *p = (Peer) { .listen_fd = -EBADF, .fd = -EBADF, .script = script, .userdata = userdata };
        strcpy(p->dir, "/tmp/test-ovsdb-client.XXXXXX");
        ASSERT(mkdtemp(p->dir));
        snprintf(p->path, sizeof(p->path), "%s/db.sock", p->dir);
        snprintf(p->address, sizeof(p->address), "unix:%s", p->path);

        p->listen_fd = socket(AF_UNIX, SOCK_STREAM | SOCK_CLOEXEC, 0);
        ASSERT(p->listen_fd >= 0);
        strcpy(sa.sun_path, p->path);
        ASSERT(bind(p->listen_fd, (struct sockaddr *) &sa, sizeof(sa)) == 0);
        ASSERT(listen(p->listen_fd, 1) == 0);

        ASSERT(pthread_create(&p->thread, NULL, peer_main, p) == 0);
}

static void peer_join(Peer *p) {
        if (p->joined)
                return;
        ASSERT(pthread_join(p->thread, NULL) == 0);
        p->joined = true;
}

static void peer_finish(Peer *p) {
        peer_join(p);
        ASSERT(close(p->listen_fd) == 0);
        ASSERT(unlink(p->path) == 0);
        ASSERT(rmdir(p->dir) == 0);
}

static void peer_send_raw(Peer *p, const char *data, size_t len) {
        while (len > 0) {
                ssize_t n = send(p->fd, data, len, MSG_NOSIGNAL);

                if (n < 0 && errno == EINTR)
                        continue;
                ASSERT(n > 0);
                data += n;
                len -= (size_t) n;
        }
}

/* Send in small uneven pieces with pauses, so the client sees replies
 * split mid-token, mid-string and inside UTF-8 sequences. */
static void peer_send_cut(Peer *p, const char *data, size_t len) {
        static const size_t pieces[] = { 1, 5, 2, 11, 3, 17, 4, 29, 1, 64 };

        for (size_t i = 0; len > 0; i++) {
                size_t l = MIN(pieces[i % ELEMENTSOF(pieces)], len);

                peer_send_raw(p, data, l);
                data += l;
                len -= l;
                (void) usleep(200);
        }
}

/* The captured reply with its id replaced by id. */
static char *with_id(const char *capture, int64_t id) {
        const char *at = strstr(capture, CAPTURE_ID);
        char *s;

        ASSERT(at);
        ASSERT(asprintf(&s, "%.*s%lld%s", (int) (at - capture), capture, (long long) id,
                        at + strlen(CAPTURE_ID)) >= 0);
        return s;
}

static void peer_reply(Peer *p, const char *capture, int64_t id) {
        _cleanup_(freep) char *s = with_id(capture, id);

        peer_send_cut(p, s, strlen(s));
}

/* Next message from the client (a new reference). */
static json_object *peer_recv(Peer *p) {
        for (;;) {
                struct pollfd pfd = { .fd = p->fd, .events = POLLIN };
                json_object *m = NULL;
                char buf[4096];
                ssize_t n;
                int r;

                r = json_stream_next(p->in, &m);
                ASSERT(r >= 0);
                if (r > 0) {
                        ASSERT(json_object_is_type(m, json_type_object));
                        return m;
                }

                ASSERT(poll(&pfd, 1, PEER_IO_TIMEOUT_MS) == 1);
                n = recv(p->fd, buf, sizeof(buf), 0);
                ASSERT(n > 0);
                ASSERT(json_stream_feed(p->in, buf, (size_t) n) == 0);
        }
}

/* Wait for the client to close the connection, having sent nothing more. */
static void peer_expect_eof(Peer *p) {
        struct pollfd pfd = { .fd = p->fd, .events = POLLIN };
        json_object *m = NULL;
        char buf[256];

        ASSERT_EQ_INT(json_stream_next(p->in, &m), 0);
        ASSERT(poll(&pfd, 1, PEER_IO_TIMEOUT_MS) == 1);
        ASSERT_EQ_INT(recv(p->fd, buf, sizeof(buf), 0), 0);
}

/* Read a request for method; returns its id and (optionally) its params. */
static int64_t peer_request(Peer *p, const char *method, json_object **ret_params) {
        _cleanup_(json_object_putp) json_object *m = peer_recv(p);
        json_object *id;

        ASSERT_STREQ(json_object_get_string(json_object_object_get(m, "method")), method);
        id = json_object_object_get(m, "id");
        ASSERT(json_object_is_type(id, json_type_int));
        ASSERT(json_object_is_type(json_object_object_get(m, "params"), json_type_array));
        if (ret_params)
                *ret_params = json_object_get(json_object_object_get(m, "params"));
        return json_object_get_int64(id);
}

/* The client's answer to a server request must be exactly
 * {"result": result, "error": error, "id": id}. */
static void peer_expect_answer(Peer *p, const char *result, const char *error, const char *id) {
        _cleanup_(json_object_putp) json_object *m = peer_recv(p), *want = NULL;
        char *text;

        ASSERT(asprintf(&text, "{\"result\":%s,\"error\":%s,\"id\":%s}", result, error, id) >= 0);
        want = json_tokener_parse(text);
        free(text);
        ASSERT(want);
        if (!json_object_equal(m, want)) {
                fprintf(stderr, "answer %s, expected %s\n", json_object_to_json_string(m),
                        json_object_to_json_string(want));
                abort();
        }
}

static OvsdbClient *client_connect(Peer *p, int timeout_ms) {
        OvsdbClient *c = NULL;

        ASSERT_EQ_INT(ovsdb_client_connect(p->address, timeout_ms, &c), 0);
        ASSERT(c);
        ASSERT(ovsdb_client_fd(c) >= 0);
        return c;
}

static json_object *parse(const char *text) {
        json_object *v = json_tokener_parse(text);

        ASSERT(v);
        return v;
}

/* ---- Calls ---------------------------------------------------------------- */

static void peer_list_dbs_twice(Peer *p) {
        _cleanup_(json_object_putp) json_object *params = NULL;
        int64_t id1, id2;

        id1 = peer_request(p, "list_dbs", &params);
        ASSERT_EQ_INT(json_object_array_length(params), 0);
        peer_reply(p, capture_list_dbs, id1);

        id2 = peer_request(p, "list_dbs", NULL);
        ASSERT(id2 > id1);
        peer_reply(p, capture_list_dbs, id2);

        peer_expect_eof(p);
}

static void test_call_success(void) {
        json_object *result = NULL;
        OvsdbClient *c;
        Peer p;

        peer_start(&p, peer_list_dbs_twice, NULL);
        c = client_connect(&p, 5000);

        ASSERT_EQ_INT(ovsdb_client_call(c, "list_dbs", NULL, &result, NULL), 0);
        ASSERT(json_object_is_type(result, json_type_array));
        ASSERT_EQ_INT(json_object_array_length(result), 2);
        ASSERT_STREQ(json_object_get_string(json_object_array_get_idx(result, 0)), "Open_vSwitch");
        json_object_put(result);

        ASSERT_EQ_INT(ovsdb_client_call(c, "list_dbs", json_object_new_array(), NULL, NULL), 0);

        ovsdb_client_free(c);
        peer_finish(&p);
}

static void peer_call_errors(Peer *p) {
        _cleanup_(json_object_putp) json_object *params = NULL;

        peer_reply(p, capture_unknown_method, peer_request(p, "foo", NULL));

        peer_reply(p, capture_unknown_db, peer_request(p, "transact", &params));
        ASSERT_EQ_INT(json_object_array_length(params), 1);
        ASSERT_STREQ(json_object_get_string(json_object_array_get_idx(params, 0)), "Nope");

        peer_expect_eof(p);
}

static void test_call_errors(void) {
        json_object *sentinel = (json_object *) 0x1, *result = sentinel;
        char *err = NULL;
        OvsdbClient *c;
        Peer p;

        peer_start(&p, peer_call_errors, NULL);
        c = client_connect(&p, 5000);

        /* {"id":N,"error":"unknown method"}: no "result" member at all */
        ASSERT_EQ_INT(ovsdb_client_call(c, "foo", json_object_new_array(), &result, &err), -EREMOTEIO);
        ASSERT_STREQ(err, "unknown method");
        ASSERT(result == sentinel);
        free(err);
        err = NULL;

        ASSERT_EQ_INT(ovsdb_client_transact(c, "Nope", json_object_new_array(), &result, &err), -EREMOTEIO);
        ASSERT_STREQ(err, "unknown database: transact request specifies unknown database Nope");
        ASSERT(result == sentinel);
        free(err);

        ovsdb_client_free(c);
        peer_finish(&p);
}

/* ---- Server requests and notifications ------------------------------------ */

static void peer_echo(Peer *p) {
        static const char echo_params[] =
                "{\"id\":17,\"method\":\"echo\",\"params\":[\"x\",{\"a\":[1,\"}\\\"\"]}]}";
        static const char unknown[] = "{\"id\":\"q\",\"method\":\"bogus\",\"params\":[]}";
        static const char late_echo[] = "{\"id\":\"late\",\"method\":\"echo\",\"params\":[3]}";
        _cleanup_(freep) char *reply = NULL, *both = NULL;
        int64_t id;

        id = peer_request(p, "list_dbs", NULL);

        /* The real server's probe, answered while the client waits. */
        peer_send_cut(p, capture_echo, strlen(capture_echo));
        peer_expect_answer(p, "[]", "null", "\"echo\"");

        peer_send_cut(p, echo_params, strlen(echo_params));
        peer_expect_answer(p, "[\"x\",{\"a\":[1,\"}\\\"\"]}]", "null", "17");

        peer_send_cut(p, unknown, strlen(unknown));
        peer_expect_answer(p, "null", "\"unknown method\"", "\"q\"");

        /* An echo arriving in the same read as the reply, after it. */
        reply = with_id(capture_list_dbs, id);
        ASSERT(asprintf(&both, "%s%s", reply, late_echo) >= 0);
        peer_send_raw(p, both, strlen(both));
        peer_expect_answer(p, "[3]", "null", "\"late\"");

        peer_expect_eof(p);
}

static void test_echo(void) {
        json_object *result = NULL;
        OvsdbClient *c;
        Peer p;

        peer_start(&p, peer_echo, NULL);
        c = client_connect(&p, 5000);

        ASSERT_EQ_INT(ovsdb_client_call(c, "list_dbs", NULL, &result, NULL), 0);
        ASSERT_EQ_INT(json_object_array_length(result), 2);
        json_object_put(result);

        /* Server requests are never queued as notifications. */
        ASSERT_EQ_INT(ovsdb_client_pop_notification(c, &result), 0);

        ovsdb_client_free(c);
        peer_finish(&p);
}

static void peer_notifications(Peer *p) {
        _cleanup_(freep) char *reply = NULL, *all = NULL;
        int64_t id;

        id = peer_request(p, "monitor", NULL);
        reply = with_id(capture_monitor, id);

        /* Notifications before and after the reply, no separators. */
        ASSERT(asprintf(&all, "%s%s%s%s", capture_update, capture_locked, reply, capture_stolen) >= 0);
        peer_send_cut(p, all, strlen(all));

        peer_expect_eof(p);
}

static void test_notifications(void) {
        static const char *methods[] = { "update2", "update3", "update", "locked", "stolen" };
        json_object *params, *result = NULL, *n = NULL;
        OvsdbClient *c;
        Peer p;

        peer_start(&p, peer_notifications, NULL);
        c = client_connect(&p, 5000);

        params = parse("[\"Open_vSwitch\",\"mon\",{\"Bridge\":{\"columns\":[\"name\"]}}]");
        ASSERT_EQ_INT(ovsdb_client_call(c, "monitor", params, &result, NULL), 0);
        ASSERT(json_object_object_get_ex(result, "Bridge", NULL));
        json_object_put(result);

        /* The last may still be on its way after the reply. */
        for (size_t i = 0; i < ELEMENTSOF(methods); i++) {
                ASSERT_EQ_INT(ovsdb_client_wait_notification(c, 5000), 1);
                ASSERT_EQ_INT(ovsdb_client_pop_notification(c, &n), 1);
                ASSERT_STREQ(json_object_get_string(json_object_object_get(n, "method")), methods[i]);
                ASSERT(json_object_is_type(json_object_object_get(n, "params"), json_type_array));
                if (i >= 3) {
                        json_object *np = json_object_object_get(n, "params");

                        ASSERT_STREQ(json_object_get_string(json_object_array_get_idx(np, 0)), "L");
                }
                json_object_put(n);
        }

        n = (json_object *) 0x1;
        ASSERT_EQ_INT(ovsdb_client_pop_notification(c, &n), 0);
        ASSERT(n == (json_object *) 0x1);

        ovsdb_client_free(c);
        peer_finish(&p);
}

static void peer_wait_notification(Peer *p) {
        peer_reply(p, capture_list_dbs, peer_request(p, "list_dbs", NULL));

        (void) usleep(100 * 1000);
        peer_send_cut(p, capture_echo, strlen(capture_echo));
        peer_expect_answer(p, "[]", "null", "\"echo\"");
        peer_send_cut(p, capture_locked, strlen(capture_locked));

        peer_expect_eof(p);
}

static void test_wait_notification(void) {
        json_object *n = NULL;
        OvsdbClient *c;
        int64_t t;
        Peer p;

        peer_start(&p, peer_wait_notification, NULL);
        c = client_connect(&p, 5000);

        t = now_ms();
        ASSERT_EQ_INT(ovsdb_client_wait_notification(c, 150), 0);
        ASSERT(now_ms() - t >= 149);

        ASSERT_EQ_INT(ovsdb_client_call(c, "list_dbs", NULL, NULL, NULL), 0);

        /* The echo comes first and is answered while waiting. */
        ASSERT_EQ_INT(ovsdb_client_wait_notification(c, 5000), 1);
        ASSERT_EQ_INT(ovsdb_client_wait_notification(c, 0), 1);
        ASSERT_EQ_INT(ovsdb_client_pop_notification(c, &n), 1);
        ASSERT_STREQ(json_object_get_string(json_object_object_get(n, "method")), "locked");
        json_object_put(n);

        ASSERT_EQ_INT(ovsdb_client_wait_notification(c, 50), 0);

        ovsdb_client_free(c);
        peer_finish(&p);
}

/* ---- transact -------------------------------------------------------------- */

/* One scripted transact: the reply the server gives to n_ops operations. */
typedef struct TransactCase {
        const char *reply;      /* capture, id 987654 */
        size_t n_ops;           /* operations the client must send */
} TransactCase;

static const char short_reply[] = "{\"id\":987654,\"result\":[{}],\"error\":null}";
/* two selects answered; in the second, an answer without rows */
static const char two_tables_reply[] =
        "{\"id\":987654,\"result\":[{\"rows\":[{\"name\":\"br0\"}]},{\"rows\":[]}],\"error\":null}";
static const char rowless_reply[] = "{\"id\":987654,\"result\":[{\"rows\":[]},{\"count\":1}],\"error\":null}";

static const TransactCase transact_cases[] = {
        { capture_insert, 3 },
        { capture_op_error, 3 },
        { capture_wait_timeout, 1 },
        { capture_dup_index, 2 },
        { capture_enum_violation, 1 },
        { short_reply, 2 },
        { capture_select, 1 },
        { capture_select_ovs, 1 },
        { two_tables_reply, 2 },
        { rowless_reply, 2 },
};

static void peer_check_insert(json_object *params) {
        json_object *op = json_object_array_get_idx(params, 1), *row, *ids;

        ASSERT_STREQ(json_object_get_string(json_object_object_get(op, "uuid-name")), "br_ovsbr0");
        row = json_object_object_get(json_object_array_get_idx(params, 3), "row");
        ASSERT_STREQ(json_object_to_json_string_ext(json_object_object_get(row, "bridges"),
                                                    JSON_C_TO_STRING_PLAIN),
                     "[\"set\",[[\"named-uuid\",\"br_ovsbr0\"]]]");
        ids = json_object_object_get(json_object_object_get(op, "row"), "external_ids");
        ASSERT_STREQ(json_object_to_json_string_ext(ids, JSON_C_TO_STRING_PLAIN),
                     "[\"map\",[[\"a\",\"1\"],[\"k{\",\"v\\\"}\"]]]");
}

static void peer_transact(Peer *p) {
        const TransactCase *cases = p->userdata;

        for (size_t i = 0; i < ELEMENTSOF(transact_cases); i++) {
                _cleanup_(json_object_putp) json_object *params = NULL;
                int64_t id;

                id = peer_request(p, "transact", &params);
                ASSERT_STREQ(json_object_get_string(json_object_array_get_idx(params, 0)), "Open_vSwitch");
                ASSERT_EQ_INT(json_object_array_length(params), cases[i].n_ops + 1);
                if (cases[i].reply == capture_insert)
                        peer_check_insert(params);
                if (cases[i].reply == two_tables_reply) {
                        json_object *op = json_object_array_get_idx(params, 2);

                        ASSERT_STREQ(json_object_get_string(json_object_object_get(op, "op")), "select");
                        ASSERT_STREQ(json_object_get_string(json_object_object_get(op, "table")), "Port");
                        ASSERT_STREQ(json_object_to_json_string_ext(json_object_object_get(op, "columns"),
                                                                    JSON_C_TO_STRING_PLAIN), "[\"_uuid\",\"name\"]");
                }
                peer_reply(p, cases[i].reply, id);
        }

        peer_expect_eof(p);
}

static json_object *ops_of(size_t n, const char *op) {
        json_object *ops = json_object_new_array();
        char *text;

        ASSERT(ops);
        ASSERT(asprintf(&text, "{\"op\":\"%s\",\"table\":\"Bridge\",\"where\":[]}", op) >= 0);
        for (size_t i = 0; i < n; i++)
                ASSERT(json_object_array_add(ops, parse(text)) == 0);
        free(text);
        return ops;
}

static json_object *insert_ops(void) {
        json_object *ops = json_object_new_array(), *op, *row, *map, *set;

        ASSERT(ops);
        map = parse("{\"a\":\"1\",\"k{\":\"v\\\"}\"}");
        op = parse("{\"op\":\"insert\",\"table\":\"Bridge\",\"row\":{\"name\":\"ovsbr0\"}}");
        ASSERT(json_object_object_add(op, "uuid-name", json_object_new_string("br_ovsbr0")) == 0);
        ASSERT(json_object_object_add(json_object_object_get(op, "row"), "external_ids",
                                      ovsdb_map_from_object(map)) == 0);
        json_object_put(map);
        ASSERT(json_object_array_add(ops, op) == 0);

        op = parse("{\"op\":\"insert\",\"table\":\"Manager\",\"row\":{}}");
        ASSERT(json_object_array_add(ops, op) == 0);

        set = json_object_new_array();
        ASSERT(json_object_array_add(set, ovsdb_named_uuid("br_ovsbr0")) == 0);
        row = json_object_new_object();
        ASSERT(json_object_object_add(row, "bridges", ovsdb_set(set)) == 0);
        op = parse("{\"op\":\"insert\",\"table\":\"Open_vSwitch\"}");
        ASSERT(json_object_object_add(op, "row", row) == 0);
        ASSERT(json_object_array_add(ops, op) == 0);

        return ops;
}

/* Expect failure r with a message starting with prefix; outputs untouched. */
static void transact_fails(OvsdbClient *c, json_object *ops, int r, const char *prefix) {
        json_object *sentinel = (json_object *) 0x1, *results = sentinel;
        char *err = NULL;

        ASSERT_EQ_INT(ovsdb_client_transact(c, "Open_vSwitch", ops, &results, &err), r);
        ASSERT(results == sentinel);
        ASSERT(err);
        if (!startswith(err, prefix)) {
                fprintf(stderr, "error \"%s\", expected \"%s...\"\n", err, prefix);
                abort();
        }
        free(err);
}

/* Captured uuids are random: check the form only. */
static void assert_is_uuid(const char *s) {
        json_object *u;

        ASSERT(s);
        u = ovsdb_uuid(s);
        ASSERT(u);
        json_object_put(u);
}

static void check_select_results(json_object *results) {
        json_object *row, *ids, *map;

        row = json_object_object_get(json_object_array_get_idx(results, 0), "rows");
        row = json_object_array_get_idx(row, 0);
        ASSERT(row);

        assert_is_uuid(ovsdb_uuid_string(json_object_object_get(row, "_uuid")));
        ASSERT_EQ_INT(ovsdb_set_length(json_object_object_get(row, "ports")), 0);
        ASSERT_EQ_INT(ovsdb_set_length(json_object_object_get(row, "name")), 1);
        ASSERT_STREQ(json_object_get_string(ovsdb_set_get(json_object_object_get(row, "name"), 0)), "ovsbr0");

        ids = json_object_object_get(row, "external_ids");
        map = ovsdb_map_to_object(ids);
        ASSERT(map);
        ASSERT_EQ_INT(json_object_object_length(map), 2);
        ASSERT_STREQ(json_object_get_string(json_object_object_get(map, "k{\"}]")),
                     "va\"l}] [{ \\ \xc3\xbc\xe2\x82\xac\xf0\x9f\x98\x80 /\t\x01");
        ASSERT_STREQ(json_object_get_string(json_object_object_get(map, "plain")), "x");
        json_object_put(map);
}

static void check_select_ovs_results(json_object *results) {
        json_object *row, *managers;

        row = json_object_object_get(json_object_array_get_idx(results, 0), "rows");
        row = json_object_array_get_idx(row, 0);
        ASSERT(row);

        /* A one-element set comes back as a bare atom. */
        managers = json_object_object_get(row, "manager_options");
        ASSERT_EQ_INT(ovsdb_set_length(managers), 1);
        assert_is_uuid(ovsdb_uuid_string(ovsdb_set_get(managers, 0)));
        ASSERT(!ovsdb_set_get(managers, 1));
        ASSERT_EQ_INT(ovsdb_set_length(json_object_object_get(row, "ssl")), 0);
}

static void test_transact(void) {
        json_object *results = NULL;
        OvsdbClient *c;
        Peer p;

        peer_start(&p, peer_transact, transact_cases);
        c = client_connect(&p, 5000);

        ASSERT_EQ_INT(ovsdb_client_transact(c, "Open_vSwitch", insert_ops(), &results, NULL), 0);
        ASSERT_EQ_INT(json_object_array_length(results), 3);
        ASSERT(ovsdb_uuid_string(json_object_object_get(json_object_array_get_idx(results, 1), "uuid")));
        json_object_put(results);

        transact_fails(c, ops_of(3, "select"), -EREMOTEIO,
                       "operation 1 (select): unknown column: No column bad in table Bridge.");
        transact_fails(c, ops_of(1, "wait"), -ETIMEDOUT,
                       "operation 0 (wait): timed out: \"where\" clause test failed");
        transact_fails(c, ops_of(2, "insert"), -EEXIST,
                       "transaction commit: constraint violation: Transaction causes multiple rows "
                       "in \"Bridge\" table to have identical values (ovsbr0) for index on column \"name\".");
        transact_fails(c, ops_of(1, "insert"), -EREMOTEIO,
                       "operation 0 (insert): constraint violation: bogus is not one of the allowed values");
        transact_fails(c, ops_of(2, "select"), -EREMOTEIO,
                       "operation 1 (select): no result, transaction aborted");

        ASSERT_EQ_INT(ovsdb_client_transact(c, "Open_vSwitch", ops_of(1, "select"), &results, NULL), 0);
        check_select_results(results);
        json_object_put(results);

        ASSERT_EQ_INT(ovsdb_client_transact(c, "Open_vSwitch", ops_of(1, "select"), &results, NULL), 0);
        check_select_ovs_results(results);
        json_object_put(results);

        /* whole tables in one transaction: each table's rows, or -EBADMSG */
        {
                static const char *const tables[] = { "Bridge", "Port" };
                static const char *const bcols[] = { "name", NULL }, *const pcols[] = { "_uuid", "name", NULL };
                static const char *const *const columns[] = { bcols, pcols };
                json_object *rows[2];
                char *err = NULL;

                ASSERT_EQ_INT(ovsdb_read_tables(c, tables, columns, 2, &results, rows, &err), 0);
                ASSERT_EQ_INT(json_object_array_length(rows[0]), 1);
                ASSERT_EQ_INT(json_object_array_length(rows[1]), 0);
                json_object_put(results);
                results = NULL;
                ASSERT_EQ_INT(ovsdb_read_tables(c, tables, columns, 2, &results, rows, &err), -EBADMSG);
                ASSERT(!err && !results);
        }

        ovsdb_client_free(c);
        peer_finish(&p);
}

/* ---- Failures ---------------------------------------------------------------- */

static void peer_stale_replies(Peer *p) {
        static const char null_id[] = "{\"id\":null,\"result\":[],\"error\":null}";
        static const char string_id[] = "{\"id\":\"x\",\"result\":[],\"error\":null}";
        int64_t id;

        id = peer_request(p, "list_dbs", NULL);
        peer_reply(p, capture_lock_wait, id + 1000);
        peer_reply(p, capture_lock_wait, id - 1);
        peer_send_cut(p, null_id, strlen(null_id));
        peer_send_cut(p, string_id, strlen(string_id));
        peer_reply(p, capture_list_dbs, id);

        peer_expect_eof(p);
}

static void test_stale_replies(void) {
        json_object *result = NULL;
        OvsdbClient *c;
        Peer p;

        peer_start(&p, peer_stale_replies, NULL);
        c = client_connect(&p, 5000);

        ASSERT_EQ_INT(ovsdb_client_call(c, "list_dbs", NULL, &result, NULL), 0);
        ASSERT_EQ_INT(json_object_array_length(result), 2);
        json_object_put(result);
        ASSERT_EQ_INT(ovsdb_client_pop_notification(c, &result), 0);

        ovsdb_client_free(c);
        peer_finish(&p);
}

static void peer_close_mid_reply(Peer *p) {
        _cleanup_(freep) char *reply = with_id(capture_select, peer_request(p, "transact", NULL));

        peer_send_cut(p, reply, strlen(reply) / 2);
}

static void test_close_mid_reply(void) {
        char *err = NULL;
        OvsdbClient *c;
        Peer p;

        peer_start(&p, peer_close_mid_reply, NULL);
        c = client_connect(&p, 5000);

        ASSERT_EQ_INT(ovsdb_client_transact(c, "Open_vSwitch", ops_of(1, "select"), NULL, &err), -ECONNRESET);
        ASSERT(!err);
        /* The connection stays failed. */
        ASSERT_EQ_INT(ovsdb_client_call(c, "list_dbs", NULL, NULL, NULL), -ECONNRESET);
        ASSERT_EQ_INT(ovsdb_client_wait_notification(c, 1000), -ECONNRESET);

        ovsdb_client_free(c);
        peer_finish(&p);
}

static void peer_silent(Peer *p) {
        int64_t id1, id2;

        id1 = peer_request(p, "list_dbs", NULL);
        /* No reply until the client gave up and asked again. */
        id2 = peer_request(p, "lock", NULL);
        ASSERT(id2 > id1);
        peer_reply(p, capture_list_dbs, id1);
        peer_reply(p, capture_lock_wait, id2);

        peer_expect_eof(p);
}

static void test_timeout(void) {
        json_object *result = NULL;
        OvsdbClient *c;
        int64_t t, d;
        Peer p;

        peer_start(&p, peer_silent, NULL);
        c = client_connect(&p, 200);

        t = now_ms();
        ASSERT_EQ_INT(ovsdb_client_call(c, "list_dbs", NULL, &result, NULL), -ETIMEDOUT);
        d = now_ms() - t;
        ASSERT(d >= 199 && d < 5000);
        ASSERT(!result);

        /* The late reply to the first request is discarded. */
        ASSERT_EQ_INT(ovsdb_client_call(c, "lock", parse("[\"L\"]"), &result, NULL), 0);
        ASSERT(json_object_object_get_ex(result, "locked", NULL));
        json_object_put(result);

        ovsdb_client_free(c);
        peer_finish(&p);
}

#define LARGE_STRING_SIZE (4u * 1024 * 1024)

static void peer_large_request(Peer *p) {
        _cleanup_(json_object_putp) json_object *params = NULL;
        int64_t id;

        /* Far beyond the socket buffer: the client has to wait for room. */
        (void) usleep(100 * 1000);
        id = peer_request(p, "echo", &params);
        ASSERT_EQ_INT(json_object_array_length(params), 1);
        ASSERT_EQ_INT(json_object_get_string_len(json_object_array_get_idx(params, 0)), LARGE_STRING_SIZE);
        peer_reply(p, capture_list_dbs, id);

        peer_expect_eof(p);
}

static void test_large_request(void) {
        json_object *params;
        OvsdbClient *c;
        char *big;
        Peer p;

        big = malloc(LARGE_STRING_SIZE + 1);
        ASSERT(big);
        for (size_t i = 0; i < LARGE_STRING_SIZE; i++)
                big[i] = "{\"}]"[i % 4];
        big[LARGE_STRING_SIZE] = 0;
        params = json_object_new_array();
        ASSERT(json_object_array_add(params, json_object_new_string(big)) == 0);
        free(big);

        peer_start(&p, peer_large_request, NULL);
        c = client_connect(&p, 5000);
        ASSERT_EQ_INT(ovsdb_client_call(c, "echo", params, NULL, NULL), 0);
        ovsdb_client_free(c);
        peer_finish(&p);
}

static void peer_hang_up(Peer *p) {
}

static void test_dead_server(void) {
        OvsdbClient *c;
        int r;
        Peer p;

        peer_start(&p, peer_hang_up, NULL);
        c = client_connect(&p, 5000);
        peer_join(&p);

        /* No SIGPIPE: this process would die of it. */
        r = ovsdb_client_call(c, "list_dbs", NULL, NULL, NULL);
        ASSERT(r == -EPIPE || r == -ECONNRESET);

        ovsdb_client_free(c);
        peer_finish(&p);
}

static void peer_garbage(Peer *p) {
        const char *garbage = p->userdata;

        (void) peer_request(p, "list_dbs", NULL);
        peer_send_cut(p, garbage, strlen(garbage));
        peer_expect_eof(p);
}

static void test_malformed(void) {
        static const char *inputs[] = {
                "{\"id\":1,]",
                "[1,2]",
                "{\"id\":null,\"method\":7,\"params\":[]}",
                "null\n",      /* json-c completes a literal on the next byte */
        };

        for (size_t i = 0; i < ELEMENTSOF(inputs); i++) {
                OvsdbClient *c;
                Peer p;

                peer_start(&p, peer_garbage, inputs[i]);
                c = client_connect(&p, 5000);
                ASSERT_EQ_INT(ovsdb_client_call(c, "list_dbs", NULL, NULL, NULL), -EBADMSG);
                ASSERT_EQ_INT(ovsdb_client_call(c, "list_dbs", NULL, NULL, NULL), -EBADMSG);
                ovsdb_client_free(c);
                peer_finish(&p);
        }
}

static void test_connect_errors(void) {
        char path[200];
        OvsdbClient *c = (OvsdbClient *) 0x1;
        Peer p;

        ASSERT_EQ_INT(ovsdb_client_connect("ssl:127.0.0.1:6640", 1000, &c), -EPROTONOSUPPORT);
        ASSERT_EQ_INT(ovsdb_client_connect("tcp:127.0.0.1", 1000, &c), -EINVAL);
        ASSERT_EQ_INT(ovsdb_client_connect("tcp:localhost:6640", 1000, &c), -EINVAL);
        ASSERT_EQ_INT(ovsdb_client_connect("tcp:127.0.0.1:0", 1000, &c), -EINVAL);
        ASSERT_EQ_INT(ovsdb_client_connect("tcp:127.0.0.1:65536", 1000, &c), -EINVAL);
        ASSERT_EQ_INT(ovsdb_client_connect("tcp:[::1:6640", 1000, &c), -EINVAL);
        ASSERT_EQ_INT(ovsdb_client_connect("tcp::6640", 1000, &c), -EINVAL);
        ASSERT_EQ_INT(ovsdb_client_connect("relative/db.sock", 1000, &c), -EINVAL);
        ASSERT_EQ_INT(ovsdb_client_connect("unix:", 1000, &c), -EINVAL);
        ASSERT_EQ_INT(ovsdb_client_connect(NULL, 1000, &c), -EINVAL);
        ASSERT_EQ_INT(ovsdb_client_connect("unix:/nonexistent/test-ovsdb/db.sock", 1000, &c), -ENOENT);
        memset(path, 'x', sizeof(path) - 1);
        path[0] = '/';
        path[sizeof(path) - 1] = 0;
        ASSERT_EQ_INT(ovsdb_client_connect(path, 1000, &c), -ENAMETOOLONG);
        ASSERT(c == (OvsdbClient *) 0x1);

        /* A bare absolute path works too. */
        peer_start(&p, peer_expect_eof, NULL);
        ASSERT_EQ_INT(ovsdb_client_connect(p.path, 1000, &c), 0);
        ovsdb_client_free(c);
        peer_finish(&p);

        /* Nothing listening on it any more. */
        peer_start(&p, peer_expect_eof, NULL);
        c = client_connect(&p, -1);
        ovsdb_client_free(c);
        peer_join(&p);
        ASSERT(close(p.listen_fd) == 0);
        p.listen_fd = socket(AF_UNIX, SOCK_STREAM | SOCK_CLOEXEC, 0);
        ASSERT(p.listen_fd >= 0);
        c = (OvsdbClient *) 0x1;
        ASSERT_EQ_INT(ovsdb_client_connect(p.address, 1000, &c), -ECONNREFUSED);
        ASSERT(c == (OvsdbClient *) 0x1);
        peer_finish(&p);
}

/* Inputs are consumed even when the call is refused. */
/* "tcp:IP:PORT": a TCP connection, on which a call works as on a unix socket. */
static void test_tcp(void) {
        struct sockaddr_in sa = { .sin_family = AF_INET, .sin_addr.s_addr = htonl(INADDR_LOOPBACK) };
        socklen_t len = sizeof(sa);
        char address[64], buf[256];
        OvsdbClient *c = NULL;
        ssize_t n;
        int lfd, fd;

        lfd = socket(AF_INET, SOCK_STREAM | SOCK_CLOEXEC, 0);
        ASSERT(lfd >= 0);
        ASSERT(bind(lfd, (struct sockaddr *) &sa, sizeof(sa)) == 0);
        ASSERT(listen(lfd, 1) == 0);
        ASSERT(getsockname(lfd, (struct sockaddr *) &sa, &len) == 0);
        snprintf(address, sizeof(address), "tcp:127.0.0.1:%u", ntohs(sa.sin_port));
        ASSERT_EQ_INT(ovsdb_client_connect(address, 5000, &c), 0);
        fd = accept(lfd, NULL, NULL);
        ASSERT(fd >= 0);
        /* a reply to the first request, id 1 */
        ASSERT(write(fd, "{\"id\":1,\"result\":[\"db\"],\"error\":null}", 37) == 37);
        ASSERT_EQ_INT(ovsdb_client_call(c, "list_dbs", NULL, NULL, NULL), 0);
        n = read(fd, buf, sizeof(buf) - 1);
        ASSERT(n > 0);
        buf[n] = 0;
        ASSERT(strstr(buf, "\"list_dbs\""));
        ovsdb_client_free(c);
        close(fd);

        /* nothing listening: refused */
        close(lfd);
        ASSERT_EQ_INT(ovsdb_client_connect(address, 5000, &c), -ECONNREFUSED);
}

static void test_invalid_args(void) {
        json_object *v = NULL;

        ASSERT_EQ_INT(ovsdb_client_call(NULL, "list_dbs", json_object_new_array(), NULL, NULL), -EINVAL);
        ASSERT_EQ_INT(ovsdb_client_transact(NULL, "Open_vSwitch", json_object_new_array(), NULL, NULL),
                      -EINVAL);
        ASSERT_EQ_INT(ovsdb_client_pop_notification(NULL, &v), -EINVAL);
        ASSERT_EQ_INT(ovsdb_client_wait_notification(NULL, 0), -EINVAL);
        ASSERT_EQ_INT(ovsdb_client_fd(NULL), -EINVAL);
        ASSERT(!ovsdb_client_free(NULL));
}

static void peer_one_list_dbs(Peer *p) {
        peer_reply(p, capture_list_dbs, peer_request(p, "list_dbs", NULL));
        peer_expect_eof(p);
}

static void test_invalid_args_connected(void) {
        OvsdbClient *c;
        Peer p;

        peer_start(&p, peer_one_list_dbs, NULL);
        c = client_connect(&p, 5000);

        /* Refused before anything is sent; the connection stays usable. */
        ASSERT_EQ_INT(ovsdb_client_call(c, "list_dbs", json_object_new_object(), NULL, NULL), -EINVAL);
        ASSERT_EQ_INT(ovsdb_client_call(c, NULL, json_object_new_array(), NULL, NULL), -EINVAL);
        ASSERT_EQ_INT(ovsdb_client_transact(c, NULL, json_object_new_array(), NULL, NULL), -EINVAL);
        ASSERT_EQ_INT(ovsdb_client_transact(c, "Open_vSwitch", json_object_new_object(), NULL, NULL),
                      -EINVAL);
        ASSERT_EQ_INT(ovsdb_client_call(c, "list_dbs", NULL, NULL, NULL), 0);

        ovsdb_client_free(c);
        peer_finish(&p);
}

/* ---- Value helpers ------------------------------------------------------------ */

static void assert_json(json_object *v, const char *text) {
        ASSERT(v);
        ASSERT_STREQ(json_object_to_json_string_ext(v, JSON_C_TO_STRING_PLAIN), text);
        json_object_put(v);
}

static void test_ids(void) {
        ASSERT(ovsdb_is_valid_id("br_ovsbr0"));
        ASSERT(ovsdb_is_valid_id("_x1"));
        ASSERT(ovsdb_is_valid_id("a"));
        ASSERT(ovsdb_is_valid_id("Z9_"));
        ASSERT(!ovsdb_is_valid_id("bridge-ovsbr0"));
        ASSERT(!ovsdb_is_valid_id("1abc"));
        ASSERT(!ovsdb_is_valid_id(""));
        ASSERT(!ovsdb_is_valid_id(NULL));
        ASSERT(!ovsdb_is_valid_id("a b"));
        ASSERT(!ovsdb_is_valid_id("br.0"));
        ASSERT(!ovsdb_is_valid_id("\xc3\xa9"));
}

static void test_builders(void) {
        json_object *a, *map;

        assert_json(ovsdb_uuid("a69bb7ba-cd5e-49ca-a547-06ae660a0556"),
                    "[\"uuid\",\"a69bb7ba-cd5e-49ca-a547-06ae660a0556\"]");
        ASSERT(!ovsdb_uuid("a69bb7ba-cd5e-49ca-a547-06ae660a055"));
        ASSERT(!ovsdb_uuid("a69bb7ba-cd5e-49ca-a547-06ae660a05567"));
        ASSERT(!ovsdb_uuid("a69bb7ba_cd5e-49ca-a547-06ae660a0556"));
        ASSERT(!ovsdb_uuid("g69bb7ba-cd5e-49ca-a547-06ae660a0556"));
        ASSERT(!ovsdb_uuid(NULL));

        assert_json(ovsdb_named_uuid("br_ovsbr0"), "[\"named-uuid\",\"br_ovsbr0\"]");
        ASSERT(!ovsdb_named_uuid("bridge-ovsbr0"));
        ASSERT(!ovsdb_named_uuid(""));

        a = json_object_new_array();
        ASSERT(json_object_array_add(a, json_object_new_string("x")) == 0);
        ASSERT(json_object_array_add(a, ovsdb_uuid("a69bb7ba-cd5e-49ca-a547-06ae660a0556")) == 0);
        assert_json(ovsdb_set(a), "[\"set\",[\"x\",[\"uuid\",\"a69bb7ba-cd5e-49ca-a547-06ae660a0556\"]]]");
        assert_json(ovsdb_set(json_object_new_array()), "[\"set\",[]]");
        ASSERT(!ovsdb_set(json_object_new_string("not an array")));
        ASSERT(!ovsdb_set(NULL));

        map = parse("{\"b\":\"2\",\"a\":\"}\",\"n\":3}");
        assert_json(ovsdb_map_from_object(map), "[\"map\",[[\"b\",\"2\"],[\"a\",\"}\"],[\"n\",3]]]");
        json_object_put(map);
        map = parse("{}");
        assert_json(ovsdb_map_from_object(map), "[\"map\",[]]");
        json_object_put(map);
        map = parse("{\"a\":[1]}");
        ASSERT(!ovsdb_map_from_object(map));
        json_object_put(map);
        ASSERT(!ovsdb_map_from_object(NULL));
}

static void test_decoders(void) {
        _cleanup_(json_object_putp) json_object *set = NULL, *atom = NULL, *empty = NULL, *uuid = NULL,
                *fake = NULL, *map = NULL, *bad_map = NULL, *empty_map = NULL;

        set = parse("[\"set\",[\"a\",\"b\",[\"uuid\",\"u\"]]]");
        ASSERT_EQ_INT(ovsdb_set_length(set), 3);
        ASSERT_STREQ(json_object_get_string(ovsdb_set_get(set, 1)), "b");
        ASSERT_STREQ(ovsdb_uuid_string(ovsdb_set_get(set, 2)), "u");
        ASSERT(!ovsdb_set_get(set, 3));

        atom = json_object_new_string("only");
        ASSERT_EQ_INT(ovsdb_set_length(atom), 1);
        ASSERT(ovsdb_set_get(atom, 0) == atom);
        ASSERT(!ovsdb_set_get(atom, 1));

        empty = parse("[\"set\",[]]");
        ASSERT_EQ_INT(ovsdb_set_length(empty), 0);
        ASSERT(!ovsdb_set_get(empty, 0));
        ASSERT_EQ_INT(ovsdb_set_length(NULL), 0);
        ASSERT(!ovsdb_set_get(NULL, 0));

        /* ["uuid", x] is one atom, not a set. */
        uuid = parse("[\"uuid\",\"a69bb7ba-cd5e-49ca-a547-06ae660a0556\"]");
        ASSERT_EQ_INT(ovsdb_set_length(uuid), 1);
        ASSERT(ovsdb_set_get(uuid, 0) == uuid);
        ASSERT_STREQ(ovsdb_uuid_string(uuid), "a69bb7ba-cd5e-49ca-a547-06ae660a0556");
        ASSERT(!ovsdb_uuid_string(set));
        ASSERT(!ovsdb_uuid_string(atom));
        fake = parse("[\"uuid\",1]");
        ASSERT(!ovsdb_uuid_string(fake));
        ASSERT(!ovsdb_uuid_string(NULL));

        map = parse("[\"map\",[[\"k\",\"v\"],[\"x{\",\"\\\"\"]]]");
        assert_json(ovsdb_map_to_object(map), "{\"k\":\"v\",\"x{\":\"\\\"\"}");
        empty_map = parse("[\"map\",[]]");
        assert_json(ovsdb_map_to_object(empty_map), "{}");
        bad_map = parse("[\"map\",[[\"k\",1]]]");
        ASSERT(!ovsdb_map_to_object(bad_map));
        ASSERT(!ovsdb_map_to_object(set));
        ASSERT(!ovsdb_map_to_object(atom));
        ASSERT(!ovsdb_map_to_object(NULL));
}

static void test_row_index(void) {
        _cleanup_(json_object_putp) json_object *bridges = NULL, *ifaces = NULL;
        _cleanup_(ovsdb_row_index_done) OvsdbRowIndex by_uuid = {}, by_port = {};

        ifaces = parse("[{\"_uuid\":[\"uuid\",\"c\"],\"n\":3},{\"_uuid\":[\"uuid\",\"a\"],\"n\":1},"
                       "{\"n\":0},{\"_uuid\":[\"uuid\",\"b\"],\"n\":2}]");
        ASSERT_EQ_INT(ovsdb_row_index_build(ifaces, "_uuid", &by_uuid), 0);
        ASSERT_EQ_INT(by_uuid.n, 3); /* the row without a uuid is left out */
        for (int i = 0; i < 3; i++) {
                const char id[2] = { (char) ('a' + i), 0 };

                ASSERT_EQ_INT(json_object_get_int(json_object_object_get(ovsdb_row_index_find(&by_uuid, id), "n")),
                              i + 1);
        }
        ASSERT(!ovsdb_row_index_find(&by_uuid, "d"));
        ASSERT(!ovsdb_row_index_find(&by_uuid, NULL));

        /* bridges by their ports: a set, a single atom, an empty set */
        bridges = parse("[{\"name\":\"br0\",\"ports\":[\"set\",[[\"uuid\",\"p2\"],[\"uuid\",\"p1\"]]]},"
                        "{\"name\":\"br1\",\"ports\":[\"uuid\",\"p3\"]},"
                        "{\"name\":\"br2\",\"ports\":[\"set\",[]]}]");
        ASSERT_EQ_INT(ovsdb_row_index_build(bridges, "ports", &by_port), 0);
        ASSERT_EQ_INT(by_port.n, 3);
        ASSERT_STREQ(json_object_get_string(json_object_object_get(ovsdb_row_index_find(&by_port, "p1"), "name")), "br0");
        ASSERT_STREQ(json_object_get_string(json_object_object_get(ovsdb_row_index_find(&by_port, "p2"), "name")), "br0");
        ASSERT_STREQ(json_object_get_string(json_object_object_get(ovsdb_row_index_find(&by_port, "p3"), "name")), "br1");
        ASSERT(!ovsdb_row_index_find(&by_port, "p4"));
}

/* ---- Live server ---------------------------------------------------------------- */

static int test_live(void) {
        const char *address = getenv("OVSDB_TEST_SOCKET");
        json_object *result = NULL, *rows;
        OvsdbClient *c = NULL;
        char *err = NULL;
        bool found = false;
        int r;

        if (!address) {
                printf("live check skipped: OVSDB_TEST_SOCKET is not set\n");
                return 77;
        }

        r = ovsdb_client_connect(address, 5000, &c);
        if (r < 0) {
                fprintf(stderr, "connect %s: %s\n", address, strerror(-r));
                abort();
        }

        ASSERT_EQ_INT(ovsdb_client_call(c, "list_dbs", NULL, &result, NULL), 0);
        for (size_t i = 0; i < json_object_array_length(result); i++)
                if (streq_ptr(json_object_get_string(json_object_array_get_idx(result, i)), "Open_vSwitch"))
                        found = true;
        ASSERT(found);
        json_object_put(result);

        result = NULL;
        r = ovsdb_client_transact(c, "Open_vSwitch",
                                  parse("[{\"op\":\"select\",\"table\":\"Open_vSwitch\",\"where\":[],"
                                        "\"columns\":[\"_uuid\",\"bridges\"]}]"),
                                  &result, &err);
        if (r < 0) {
                fprintf(stderr, "select: %s: %s\n", strerror(-r), strna(err));
                abort();
        }
        rows = json_object_object_get(json_object_array_get_idx(result, 0), "rows");
        ASSERT(json_object_is_type(rows, json_type_array));
        for (size_t i = 0; i < json_object_array_length(rows); i++)
                ASSERT(ovsdb_uuid_string(json_object_object_get(json_object_array_get_idx(rows, i),
                                                                "_uuid")));
        printf("live check: %zu Open_vSwitch row(s)\n", json_object_array_length(rows));
        json_object_put(result);

        ovsdb_client_free(c);
        return 0;
}

int main(int argc, char *argv[]) {
        static const struct {
                const char *name;
                void (*func)(void);
        } tests[] = {
                { "call_success", test_call_success },
                { "call_errors", test_call_errors },
                { "echo", test_echo },
                { "notifications", test_notifications },
                { "wait_notification", test_wait_notification },
                { "transact", test_transact },
                { "stale_replies", test_stale_replies },
                { "close_mid_reply", test_close_mid_reply },
                { "timeout", test_timeout },
                { "large_request", test_large_request },
                { "dead_server", test_dead_server },
                { "malformed", test_malformed },
                { "connect_errors", test_connect_errors },
                { "tcp", test_tcp },
                { "invalid_args", test_invalid_args },
                { "invalid_args_connected", test_invalid_args_connected },
                { "ids", test_ids },
                { "builders", test_builders },
                { "decoders", test_decoders },
                { "row_index", test_row_index },
        };

        /* "live": only the check against a real server; skipped (77)
         * without OVSDB_TEST_SOCKET. */
        if (argc > 1 && streq(argv[1], "live"))
                return test_live();

        for (size_t i = 0; i < ELEMENTSOF(tests); i++) {
                printf("%s\n", tests[i].name);
                fflush(stdout);
                tests[i].func();
        }

        if (getenv("OVSDB_TEST_SOCKET"))
                return test_live();
        printf("live check skipped: OVSDB_TEST_SOCKET is not set\n");
        return 0;
}
