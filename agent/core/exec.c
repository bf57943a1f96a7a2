/* SPDX-License-Identifier: LGPL-2.1-or-later */
#include <fcntl.h>
#include <poll.h>
#include <signal.h>
#include <spawn.h>
#include <stdio.h>
#include <sys/wait.h>

#include "exec.h"
#include "fileio.h"
#include "macro.h"

extern char **environ;

void exec_result_done(ExecResult *r) {
        free(r->out);
        free(r->err);
        *r = (ExecResult) {};
}

typedef struct Buffer {
        char *data;
        size_t len, allocated;
} Buffer;

static int buffer_read(Buffer *b, int fd) {
        ssize_t k;
        int r;

        r = greedy_realloc((void **) &b->data, &b->allocated, b->len + 65536, 1);
        if (r < 0)
                return r;
        k = read(fd, b->data + b->len, b->allocated - b->len - 1);
        if (k < 0)
                return errno == EINTR || errno == EAGAIN ? 1 : negative_errno();
        b->len += (size_t) k;
        b->data[b->len] = 0;
        return k > 0;
}

/* Feeds input and drains both outputs until the child closes them. */
static int pump(int in, const char *input, size_t input_len, int out, int err,
                Buffer *bo, Buffer *be, uint64_t deadline) {
        size_t written = 0;
        int r;

        while (out >= 0 || err >= 0) {
                struct pollfd p[3] = {
                        { .fd = out, .events = POLLIN },
                        { .fd = err, .events = POLLIN },
                        { .fd = in, .events = POLLOUT },
                };
                int wait_ms = -1;

                if (deadline) {
                        uint64_t now = now_usec();

                        if (now >= deadline)
                                return -ETIMEDOUT;
                        wait_ms = (int) ((deadline - now) / 1000) + 1;
                }
                if (poll(p, 3, wait_ms) < 0 && errno != EINTR)
                        return negative_errno();

                if (in >= 0 && (p[2].revents & (POLLOUT | POLLERR | POLLHUP))) {
                        ssize_t k = write(in, input + written, input_len - written);

                        if (k < 0 && errno != EINTR && errno != EAGAIN)
                                written = input_len; /* child stopped reading */
                        else if (k > 0)
                                written += (size_t) k;
                        if (written >= input_len) {
                                close(in);
                                in = -1;
                        }
                }
                for (int i = 0; i < 2; i++) {
                        int *fd = i == 0 ? &out : &err;

                        if (*fd < 0 || !(p[i].revents & (POLLIN | POLLHUP | POLLERR)))
                                continue;
                        r = buffer_read(i == 0 ? bo : be, *fd);
                        if (r < 0)
                                return r;
                        if (r == 0) {
                                close(*fd);
                                *fd = -1;
                        }
                }
        }
        if (in >= 0)
                close(in);
        return 0;
}

/* The environment for children: ours without NOTIFY_SOCKET, so a program
 * we run can never speak to the service manager in our name. */
static char **child_environment(void) {
        size_t n = 0, k = 0;
        char **env;

        while (environ[n])
                n++;
        env = calloc(n + 1, sizeof(char *));
        if (!env)
                return NULL;
        for (size_t i = 0; i < n; i++)
                if (!startswith(environ[i], "NOTIFY_SOCKET="))
                        env[k++] = environ[i];
        return env;
}

static int spawn(char *const argv[], int pin[2], int pout[2], int perr[2], pid_t *ret_pid) {
        _cleanup_(freep) char **env = child_environment();
        posix_spawn_file_actions_t fa;
        int r;

        if (!env)
                return -ENOMEM;
        posix_spawn_file_actions_init(&fa);
        posix_spawn_file_actions_adddup2(&fa, pin[0], STDIN_FILENO);
        posix_spawn_file_actions_adddup2(&fa, pout[1], STDOUT_FILENO);
        posix_spawn_file_actions_adddup2(&fa, perr[1], STDERR_FILENO);
        r = posix_spawnp(ret_pid, argv[0], &fa, NULL, argv, env);
        posix_spawn_file_actions_destroy(&fa);
        return -r;
}

int exec_capture(char *const argv[], const char *input, size_t input_len, int timeout_ms, ExecResult *ret) {
        int pin[2] = { -1, -1 }, pout[2] = { -1, -1 }, perr[2] = { -1, -1 };
        Buffer bo = {}, be = {};
        pid_t pid;
        int r, status;

        if (pipe2(pin, O_CLOEXEC) < 0 || pipe2(pout, O_CLOEXEC) < 0 || pipe2(perr, O_CLOEXEC) < 0) {
                r = negative_errno();
                goto finish;
        }
        r = spawn(argv, pin, pout, perr, &pid);
        close(pin[0]);
        close(pout[1]);
        close(perr[1]);
        pin[0] = pout[1] = perr[1] = -1;
        if (r < 0)
                goto finish;

        (void) fcntl(pin[1], F_SETFL, O_NONBLOCK);
        r = pump(pin[1], input ?: "", input ? input_len : 0, pout[0], perr[0], &bo, &be,
                 timeout_ms > 0 ? now_usec() + (uint64_t) timeout_ms * 1000 : 0);
        pin[1] = pout[0] = perr[0] = -1; /* closed by pump, or abandoned below */
        if (r == -ETIMEDOUT)
                (void) kill(pid, SIGKILL);
        while (waitpid(pid, &status, 0) < 0)
                if (errno != EINTR) {
                        r = negative_errno();
                        goto finish;
                }
        if (r < 0)
                goto finish;

        *ret = (ExecResult) {
                .status = WIFEXITED(status) ? WEXITSTATUS(status) : 128 + WTERMSIG(status),
                .out = bo.data ?: strdup(""),
                .out_len = bo.len,
                .err = be.data ?: strdup(""),
        };
        return 0;
finish:
        for (int i = 0; i < 2; i++) {
                if (pin[i] >= 0) close(pin[i]);
                if (pout[i] >= 0) close(pout[i]);
                if (perr[i] >= 0) close(perr[i]);
        }
        free(bo.data);
        free(be.data);
        return r;
}

bool exec_in_path(const char *name) {
        const char *path = getenv("PATH") ?: "/usr/local/sbin:/usr/local/bin:/usr/sbin:/usr/bin:/sbin:/bin";

        for (const char *p = path; *p;) {
                size_t n = strcspn(p, ":");
                _cleanup_(freep) char *f = NULL;

                if (n > 0 && asprintf(&f, "%.*s/%s", (int) n, p, name) >= 0 && access(f, X_OK) == 0)
                        return true;
                p += n + (p[n] == ':');
        }
        return false;
}
