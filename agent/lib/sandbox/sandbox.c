/* SPDX-License-Identifier: LGPL-2.1-or-later */

#include <errno.h>
#include <linux/sockios.h>
#include <seccomp.h>
#include <stdint.h>
#include <string.h>
#include <sys/mman.h>
#include <sys/prctl.h>
#include <sys/stat.h>
#include <sys/ioctl.h>
#include <unistd.h>

#include "macro.h"
#include "sandbox.h"

/* What glibc (2.36, x86_64 and aarch64) calls for the work of a
 * reconciler, found by running the drivers under strace -f and then under
 * the filter (tests/integration/test_seccomp.py, the aarch64 VM). Names of
 * one architecture only (open, stat, poll, epoll_wait, rename, ...) are
 * listed for the other's sake and ignored where they do not exist. */
const char *const sandbox_reconciler_syscalls[] = {
        /* memory */
        "brk", "mmap", "munmap", "mremap", "mprotect", "madvise",
        /* files */
        "read", "write", "readv", "writev", "pread64", "pwrite64", "lseek",
        "open", "openat", "close", "dup", "dup2", "dup3", "fcntl", "flock",
        "fstat", "newfstatat", "stat", "lstat", "statx", "fstatfs", "statfs",
        "access", "faccessat", "faccessat2", "readlink", "readlinkat", "getcwd",
        "getdents64", "fsync", "fdatasync", "ftruncate", "fchmod", "umask",
        "rename", "renameat", "renameat2", "link", "linkat", "unlink", "unlinkat",
        "mkdir", "mkdirat",
        "pipe2",
        /* sockets: netlink, unix */
        "socket", "socketpair", "bind", "connect", "listen", "accept4",
        "getsockname", "getpeername", "setsockopt", "getsockopt", "shutdown",
        "sendto", "recvfrom", "sendmsg", "recvmsg", "sendmmsg", "recvmmsg",
        /* waiting */
        "poll", "ppoll", "select", "pselect6",
        "epoll_create1", "epoll_ctl", "epoll_wait", "epoll_pwait",
        "eventfd2", "timerfd_create", "timerfd_settime", "timerfd_gettime", "signalfd4",
        "nanosleep", "clock_nanosleep", "clock_gettime", "clock_getres", "gettimeofday", "time",
        /* the process itself */
        "exit", "exit_group", "getpid", "gettid", "getppid",
        "getuid", "geteuid", "getgid", "getegid", "getgroups",
        "rt_sigaction", "rt_sigprocmask", "rt_sigreturn", "sigaltstack", "tgkill",
        "futex", "set_robust_list", "set_tid_address", "rseq",
        "getrandom", "prlimit64", "uname", "sysinfo", "sched_getaffinity", "sched_yield",
        NULL
};

/* Killing is for what a reconciler never does and an attacker would: run
 * a program, trace or inspect another, change the mounts or the root,
 * load kernel code (modules, kexec, bpf), reach the kernel keyring,
 * reboot or change swap. The process dies with SIGSYS, which its service
 * manager logs and restarts it after; EPERM would let code that already
 * misbehaves go on. */
const char *const sandbox_killed_syscalls[] = {
        "execve", "execveat",
        "ptrace", "process_vm_readv", "process_vm_writev",
        "mount", "umount2", "pivot_root", "chroot",
        "init_module", "finit_module", "delete_module",
        "kexec_load", "kexec_file_load", "bpf",
        "keyctl", "add_key", "request_key",
        "reboot", "swapon", "swapoff",
        NULL
};

/* The ioctl requests allowed without "ioctl" in a list: isatty() (stdio
 * on a terminal) and the interface index/name lookups of
 * if_nametoindex()/if_indextoname(). */
static const unsigned long allowed_ioctls[] = { TCGETS, SIOCGIFINDEX, SIOCGIFNAME };

DEFINE_TRIVIAL_CLEANUP_FUNC(scmp_filter_ctx, seccomp_release);

static bool in_list(const char *const *list, const char *name) {
        for (; list && *list; list++)
                if (streq(*list, name))
                        return true;
        return false;
}

int sandbox_supported(void) {
        /* PR_GET_SECCOMP fails with EINVAL without CONFIG_SECCOMP;
         * SECCOMP_MODE_FILTER needs CONFIG_SECCOMP_FILTER too. */
        if (prctl(PR_GET_SECCOMP, 0, 0, 0, 0) < 0)
                return errno == EINVAL ? 0 : -errno;
        return seccomp_api_get() >= 3;
}

/* Every name known to libseccomp, none of them killed: checked before
 * anything is built, which needs a kernel with seccomp (libseccomp asks
 * it which actions it has). */
static int check_list(const char *const *list) {
        for (; list && *list; list++) {
                if (in_list(sandbox_killed_syscalls, *list))
                        return -EINVAL;
                if (seccomp_syscall_resolve_name(*list) == __NR_SCMP_ERROR)
                        return -ENOENT;
        }
        return 0;
}

static int add_list(scmp_filter_ctx ctx, const char *const *list, uint32_t action) {
        for (; list && *list; list++) {
                /* a name of another architecture only resolves to a
                 * negative pseudo number, which libseccomp adds as nothing */
                int r = seccomp_rule_add(ctx, action, seccomp_syscall_resolve_name(*list), 0);

                if (r < 0 && r != -EEXIST)
                        return r;
        }
        return 0;
}

static int build(const char *const *allow, const char *const *extra, scmp_filter_ctx *ret) {
        _cleanup_(seccomp_releasep) scmp_filter_ctx ctx = NULL;
        int r;

        r = check_list(allow ?: sandbox_reconciler_syscalls);
        if (r >= 0)
                r = check_list(extra);
        if (r >= 0)
                r = sandbox_supported();
        if (r < 0)
                return r;
        if (r == 0)
                return -ENOSYS;
        ctx = seccomp_init(SCMP_ACT_ERRNO(EPERM));
        if (!ctx)
                return -ENOMEM;
        /* a syscall of another ABI kills; every thread gets the filter;
         * a binary tree of syscall numbers instead of a linear list */
        r = seccomp_attr_set(ctx, SCMP_FLTATR_ACT_BADARCH, SCMP_ACT_KILL_PROCESS);
        if (r >= 0)
                r = seccomp_attr_set(ctx, SCMP_FLTATR_CTL_TSYNC, 1);
        if (r >= 0)
                r = seccomp_attr_set(ctx, SCMP_FLTATR_CTL_OPTIMIZE, 2);
        if (r >= 0)
                r = add_list(ctx, allow ?: sandbox_reconciler_syscalls, SCMP_ACT_ALLOW);
        if (r >= 0)
                r = add_list(ctx, extra, SCMP_ACT_ALLOW);
        if (r >= 0)
                r = add_list(ctx, sandbox_killed_syscalls, SCMP_ACT_KILL_PROCESS);
        if (r < 0)
                return r;
        if (!in_list(allow ?: sandbox_reconciler_syscalls, "ioctl") && !in_list(extra, "ioctl"))
                for (size_t i = 0; i < ELEMENTSOF(allowed_ioctls); i++) {
                        /* the request is an int in the kernel: compare
                         * the low 32 bits only */
                        r = seccomp_rule_add(ctx, SCMP_ACT_ALLOW, SCMP_SYS(ioctl), 1,
                                             SCMP_A1(SCMP_CMP_MASKED_EQ, UINT32_MAX, allowed_ioctls[i]));
                        if (r < 0)
                                return r;
                }
        *ret = TAKE_PTR(ctx);
        return 0;
}

int sandbox_enter(const char *const *allow, const char *const *extra) {
        _cleanup_(seccomp_releasep) scmp_filter_ctx ctx = NULL;
        int r;

        r = build(allow, extra, &ctx);
        if (r < 0)
                return r;
        /* libseccomp sets no_new_privs itself (SCMP_FLTATR_CTL_NNP);
         * setting it first makes it independent of that default */
        if (prctl(PR_SET_NO_NEW_PRIVS, 1, 0, 0, 0) < 0)
                return -errno;
        return seccomp_load(ctx);
}

int sandbox_filter_instructions(const char *const *allow, const char *const *extra, size_t *ret) {
        _cleanup_(seccomp_releasep) scmp_filter_ctx ctx = NULL;
        _cleanup_(closep) int fd = -EBADF;
        struct stat st;
        int r;

        r = build(allow, extra, &ctx);
        if (r < 0)
                return r;
        fd = memfd_create("seccomp-bpf", MFD_CLOEXEC);
        if (fd < 0)
                return -errno;
        r = seccomp_export_bpf(ctx, fd);
        if (r < 0)
                return r;
        if (fstat(fd, &st) < 0)
                return -errno;
        /* struct sock_filter: 8 bytes an instruction */
        *ret = (size_t) st.st_size / 8;
        return 0;
}
