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

struct FuzzPeer {
        char dir[64];
        char path[128];
        char address[140];
        int listen_fd;
        int stop[2];            /* fuzz_peer_free() writes to stop[1] */
        const uint8_t *data;
        size_t size;
        pthread_t thread;
        bool running;
};

/* Sends the data while reading (and dropping) what the client sends, so
 * neither side blocks on a full socket buffer; then reads until the
 * client closes or the peer is stopped. */
static void converse(FuzzPeer *p, int fd) {
        size_t done = 0;
        char buf[16384];

        for (;;) {
                struct pollfd f[2] = {
                        { .fd = fd, .events = POLLIN | (done < p->size ? POLLOUT : 0) },
                        { .fd = p->stop[0], .events = POLLIN },
                };

                if (poll(f, 2, -1) < 0) {
                        if (errno == EINTR)
                                continue;
                        return;
                }
                if (f[1].revents)
                        return;
                if (f[0].revents & (POLLIN | POLLHUP | POLLERR)) {
                        ssize_t k = recv(fd, buf, sizeof buf, MSG_DONTWAIT);

                        if (k == 0 || (k < 0 && errno != EAGAIN && errno != EINTR))
                                return;
                }
                if (done < p->size && (f[0].revents & POLLOUT)) {
                        ssize_t k = send(fd, p->data + done, p->size - done, MSG_DONTWAIT | MSG_NOSIGNAL);

                        if (k < 0 && errno != EAGAIN && errno != EINTR)
                                return;
                        if (k > 0)
                                done += (size_t) k;
                        if (done == p->size)
                                (void) shutdown(fd, SHUT_WR);
                }
        }
}

static void *serve(void *arg) {
        FuzzPeer *p = arg;
        struct pollfd f[2] = {
                { .fd = p->listen_fd, .events = POLLIN },
                { .fd = p->stop[0], .events = POLLIN },
        };
        int fd;

        while (poll(f, 2, -1) < 0)
                if (errno != EINTR)
                        return NULL;
        if (f[1].revents)
                return NULL;
        fd = accept4(p->listen_fd, NULL, NULL, SOCK_CLOEXEC);
        if (fd < 0)
                return NULL;
        if (p->size == 0)
                (void) shutdown(fd, SHUT_WR);
        converse(p, fd);
        close(fd);
        return NULL;
}

FuzzPeer *fuzz_peer_new(const void *data, size_t size) {
        struct sockaddr_un sa = { .sun_family = AF_UNIX };
        FuzzPeer *p = calloc(1, sizeof(FuzzPeer));

        if (!p)
                abort();
        p->listen_fd = p->stop[0] = p->stop[1] = -EBADF;
        p->data = data;
        p->size = size;
        snprintf(p->dir, sizeof p->dir, "/tmp/opdbus-fuzz-XXXXXX");
        if (!mkdtemp(p->dir))
                abort();
        snprintf(p->path, sizeof p->path, "%s/peer.sock", p->dir);
        snprintf(p->address, sizeof p->address, "unix:%s", p->path);
        strcpy(sa.sun_path, p->path);

        p->listen_fd = socket(AF_UNIX, SOCK_STREAM | SOCK_CLOEXEC, 0);
        if (p->listen_fd < 0 || bind(p->listen_fd, (struct sockaddr *) &sa, sizeof sa) < 0 ||
            listen(p->listen_fd, 4) < 0 || pipe2(p->stop, O_CLOEXEC) < 0 ||
            pthread_create(&p->thread, NULL, serve, p) != 0) {
                perror("fuzz peer");
                abort();
        }
        p->running = true;
        return p;
}

const char *fuzz_peer_address(const FuzzPeer *p) {
        return p->address;
}

FuzzPeer *fuzz_peer_free(FuzzPeer *p) {
        if (!p)
                return NULL;
        if (p->running) {
                (void) !write(p->stop[1], "x", 1);
                pthread_join(p->thread, NULL);
        }
        if (p->listen_fd >= 0)
                close(p->listen_fd);
        if (p->stop[0] >= 0)
                close(p->stop[0]);
        if (p->stop[1] >= 0)
                close(p->stop[1]);
        (void) unlink(p->path);
        (void) rmdir(p->dir);
        free(p);
        return NULL;
}
