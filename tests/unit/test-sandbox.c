/* SPDX-License-Identifier: LGPL-2.1-or-later */

/* agent/lib/sandbox: the lists it accepts and refuses, and, where the
 * kernel has seccomp filters (not under qemu-user), a child that loads
 * the built-in filter: allowed calls run, others fail with EPERM, a
 * killed call ends it with SIGSYS. */

#include <errno.h>
#include <sched.h>
#include <signal.h>
#include <sys/ptrace.h>
#include <sys/wait.h>
#include <unistd.h>

#include "sandbox.h"
#include "tests.h"

/* The lists are checked without a kernel. */
TEST(test_lists) {
        static const char *const execve_allowed[] = { "read", "execve", NULL };
        static const char *const unknown[] = { "read", "no_such_syscall", NULL };
        size_t n = 0;

        ASSERT_EQ(sandbox_filter_instructions(execve_allowed, NULL, &n), -EINVAL);
        ASSERT_EQ(sandbox_filter_instructions(NULL, execve_allowed, &n), -EINVAL);
        ASSERT_EQ(sandbox_enter(execve_allowed, NULL), -EINVAL);
        ASSERT_EQ(sandbox_enter(NULL, unknown), -ENOENT);
        ASSERT_EQ(sandbox_filter_instructions(NULL, unknown, &n), -ENOENT);
        for (const char *const *k = sandbox_killed_syscalls; *k; k++)
                for (const char *const *a = sandbox_reconciler_syscalls; *a; a++)
                        ASSERT_TRUE(strcmp(*k, *a) != 0);
}

TEST(test_filters) {
        static const char *const other_arch[] = { "read", "open", "epoll_wait", NULL };
        static const char *const with_ioctl[] = { "ioctl", NULL };
        size_t n = 0, n_ioctl = 0;

        ASSERT_EQ(sandbox_filter_instructions(NULL, NULL, &n), 0);
        ASSERT_TRUE(n > 20 && n < 4096);        /* the kernel's limit: 4096 */
        printf("# built-in filter: %zu BPF instructions\n", n);
        /* names of another architecture are accepted (and ignored there) */
        ASSERT_EQ(sandbox_filter_instructions(other_arch, NULL, &n), 0);
        /* "ioctl" allows every request: the rules for the listed ones go */
        ASSERT_EQ(sandbox_filter_instructions(NULL, NULL, &n), 0);
        ASSERT_EQ(sandbox_filter_instructions(NULL, with_ioctl, &n_ioctl), 0);
        ASSERT_TRUE(n_ioctl < n);
}

static int child_status(void (*fn)(void)) {
        int status;
        pid_t pid = fork();

        ASSERT_TRUE(pid >= 0);
        if (pid == 0) {
                fn();
                _exit(0);
        }
        ASSERT_EQ(waitpid(pid, &status, 0), pid);
        return status;
}

static void allowed_and_refused(void) {
        if (sandbox_enter(NULL, NULL) < 0)
                _exit(10);
        if (getpid() <= 0)
                _exit(11);
        if (unshare(0) != -1 || errno != EPERM)
                _exit(12);
        if (fork() != -1 || errno != EPERM)
                _exit(13);
}

static void killed(void) {
        if (sandbox_enter(NULL, NULL) < 0)
                _exit(10);
        (void) ptrace(PTRACE_TRACEME, 0, NULL, NULL);
        _exit(14);
}

TEST(test_filter_in_a_child) {
        int status;

        status = child_status(allowed_and_refused);
        ASSERT_TRUE(WIFEXITED(status));
        ASSERT_EQ(WEXITSTATUS(status), 0);
        status = child_status(killed);
        ASSERT_TRUE(WIFSIGNALED(status));
        ASSERT_EQ(WTERMSIG(status), SIGSYS);
}

int main(void) {
        RUN(test_lists);
        /* qemu-user has no seccomp: the aarch64 VM runs the rest there
         * (tests/vm/scenarios/sandbox.sh) */
        if (sandbox_supported() != 1) {
                size_t n;

                ASSERT_EQ(sandbox_enter(NULL, NULL), -ENOSYS);
                ASSERT_EQ(sandbox_filter_instructions(NULL, NULL, &n), -ENOSYS);
                printf("# no seccomp filters in this kernel (qemu-user?): no filter is built\n");
                return 0;
        }
        RUN(test_filters);
        RUN(test_filter_in_a_child);
        return 0;
}
