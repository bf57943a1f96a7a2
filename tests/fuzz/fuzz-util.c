/* SPDX-License-Identifier: LGPL-2.1-or-later */
#include <errno.h>
#include <fcntl.h>
#include <poll.h>
#include <pthread.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <sys/socket.h>
#include <sys/un.h>
#include <unistd.h>

#include "fuzz.h"
#include "macro.h"

char *fuzz_strndup(const uint8_t *data, size_t size) {
        char *s = strndup((const char *) data, size);

        if (!s)
                abort();
        return s;
}

_Noreturn void fuzz_fail(const char *file, int line, const char *what) {
        fprintf(stderr, "%s:%d: check failed: %s\n", file, line, what);
        abort();
}

void fuzz_run_case(const FuzzCase *cases, size_t n, const uint8_t *data, size_t size) {
        const uint8_t *nl = memchr(data, '\n', size);
        size_t len;

        if (!nl || size > FUZZ_MAX_INPUT)
                return;
        len = (size_t) (nl - data);
        for (size_t i = 0; i < n; i++)
                if (strlen(cases[i].name) == len && memcmp(cases[i].name, data, len) == 0) {
                        cases[i].run(nl + 1, size - len - 1);
                        return;
                }
}

/* ---- FuzzPeer ------------------------------------------------------------- */

/* One peer per process: a listening socket and a thread that serves the
 * connections of the current exchange. */
struct FuzzPeer {
        char dir[64];
        char path[128];
        char address[140];
        int listen_fd;
        int cmd[2];             /* main -> thread: 'B' begin, 'E' end */
        int ack[2];             /* thread -> main: the exchange has ended */
        const uint8_t *data;    /* what each connection of the exchange gets */
        size_t size;
};

static char peer_command(FuzzPeer *p) {
        char c = 0;

        while (read(p->cmd[0], &c, 1) < 0 && errno == EINTR)
                ;
        return c;
}

/* Sends the data while reading (and dropping) what the client sends, so
 * neither side blocks on a full socket buffer; then reads until the
 * client closes. Returns true when the exchange ended meanwhile. */
static bool converse(FuzzPeer *p, int fd) {
        size_t done = 0;
        char buf[16384];

        if (p->size == 0)
                (void) shutdown(fd, SHUT_WR);
        for (;;) {
                struct pollfd f[2] = {
                        { .fd = fd, .events = POLLIN | (done < p->size ? POLLOUT : 0) },
                        { .fd = p->cmd[0], .events = POLLIN },
                };

                if (poll(f, 2, -1) < 0) {
                        if (errno == EINTR)
                                continue;
                        abort();
                }
                if (f[1].revents)
                        return true;
                if (f[0].revents & (POLLIN | POLLHUP | POLLERR)) {
                        ssize_t k = recv(fd, buf, sizeof buf, MSG_DONTWAIT);

                        if (k == 0 || (k < 0 && errno != EAGAIN && errno != EINTR))
                                return false;
                }
                if (done < p->size && (f[0].revents & POLLOUT)) {
                        ssize_t k = send(fd, p->data + done, p->size - done, MSG_DONTWAIT | MSG_NOSIGNAL);

                        if (k < 0 && errno != EAGAIN && errno != EINTR)
                                return false;
                        if (k > 0)
                                done += (size_t) k;
                        if (done == p->size)
                                (void) shutdown(fd, SHUT_WR);
                }
        }
}

/* Serves every connection until the exchange ends, then drops the
 * connections still waiting to be accepted (made by clients that have
 * closed them by now), so none is left for the next exchange. */
static void exchange(FuzzPeer *p) {
        for (;;) {
                struct pollfd f[2] = {
                        { .fd = p->listen_fd, .events = POLLIN },
                        { .fd = p->cmd[0], .events = POLLIN },
                };
                bool ended;
                int fd;

                if (poll(f, 2, -1) < 0) {
                        if (errno == EINTR)
                                continue;
                        abort();
                }
                if (f[1].revents)
                        break;
                fd = accept4(p->listen_fd, NULL, NULL, SOCK_CLOEXEC);
                if (fd < 0)
                        continue;
                ended = converse(p, fd);
                close(fd);
                if (ended)
                        break;
        }
        FUZZ_CHECK(peer_command(p) == 'E');
        for (int fd; (fd = accept4(p->listen_fd, NULL, NULL, SOCK_CLOEXEC | SOCK_NONBLOCK)) >= 0;)
                close(fd);
        FUZZ_CHECK(write(p->ack[1], "a", 1) == 1);
}

static void *serve(void *arg) {
        FuzzPeer *p = arg;

        for (;;) {
                FUZZ_CHECK(peer_command(p) == 'B');
                exchange(p);
        }
}

static FuzzPeer *peer;

static void peer_remove(void) {
        (void) unlink(peer->path);
        (void) rmdir(peer->dir);
}

static FuzzPeer *peer_get(void) {
        struct sockaddr_un sa = { .sun_family = AF_UNIX };
        pthread_t thread;
        FuzzPeer *p;

        if (peer)
                return peer;
        p = calloc(1, sizeof(FuzzPeer));
        if (!p)
                abort();
        snprintf(p->dir, sizeof p->dir, "/tmp/opdbus-fuzz-XXXXXX");
        if (!mkdtemp(p->dir))
                abort();
        snprintf(p->path, sizeof p->path, "%s/peer.sock", p->dir);
        snprintf(p->address, sizeof p->address, "unix:%s", p->path);
        strcpy(sa.sun_path, p->path);
        p->listen_fd = socket(AF_UNIX, SOCK_STREAM | SOCK_CLOEXEC | SOCK_NONBLOCK, 0);
        if (p->listen_fd < 0 || bind(p->listen_fd, (struct sockaddr *) &sa, sizeof sa) < 0 ||
            listen(p->listen_fd, 16) < 0 || pipe2(p->cmd, O_CLOEXEC) < 0 || pipe2(p->ack, O_CLOEXEC) < 0 ||
            pthread_create(&thread, NULL, serve, p) != 0) {
                perror("fuzz peer");
                abort();
        }
        (void) pthread_detach(thread);
        peer = p;
        atexit(peer_remove);
        return p;
}

FuzzPeer *fuzz_peer_begin(const void *data, size_t size) {
        FuzzPeer *p = peer_get();

        /* The thread reads these after the command, which orders them. */
        p->data = data;
        p->size = size;
        FUZZ_CHECK(write(p->cmd[1], "B", 1) == 1);
        return p;
}

const char *fuzz_peer_address(const FuzzPeer *p) {
        return p->address;
}

FuzzPeer *fuzz_peer_end(FuzzPeer *p) {
        char c;

        if (!p)
                return NULL;
        FUZZ_CHECK(write(p->cmd[1], "E", 1) == 1);
        while (read(p->ack[0], &c, 1) < 0)
                FUZZ_CHECK(errno == EINTR);
        return NULL;
}
