/* SPDX-License-Identifier: LGPL-2.1-or-later */
#pragma once

/* A seccomp allow-list for a program that never runs another program
 * (docs/router.md, "The seccomp sandbox"). sandbox_enter() sets
 * no_new_privs and loads a filter, for every thread of the process, in
 * which:
 *   - the syscalls of the allow-list run;
 *   - the syscalls of sandbox_killed_syscalls kill the whole process
 *     (SIGSYS): running programs, tracing, mounting, modules, kexec, bpf,
 *     the kernel keyring, reboot, swap, chroot and pivot_root;
 *   - every other syscall fails with EPERM;
 *   - a syscall of another ABI (x32, 32-bit) kills the process.
 * Names are resolved for the native architecture; a name that exists on
 * another architecture only (open on aarch64) is ignored, a name no
 * architecture knows is an error. Never logs; returns -errno. */

#include <stdbool.h>
#include <stddef.h>

/* The built-in list: a reconciler that talks netlink (rtnetlink,
 * nftables), OVSDB and other unix sockets, reads and writes files under
 * its state directory (write, fsync, rename, locks), waits with poll or
 * epoll, handles signals, and runs single-threaded: no clone, no fork, no
 * setns, no ioctl beyond the requests listed in sandbox.c. NULL-terminated. */
extern const char *const sandbox_reconciler_syscalls[];

/* The syscalls that kill the process. NULL-terminated. */
extern const char *const sandbox_killed_syscalls[];

/* 1 when the running kernel has seccomp filters with the actions used
 * here (SECCOMP_RET_KILL_PROCESS: Linux 4.14), 0 when it has not. */
int sandbox_supported(void);

/* allow: the syscalls the program needs (NULL: the built-in list);
 * extra: more, for the caller's own needs (may be NULL). A name of
 * sandbox_killed_syscalls in either list is -EINVAL, an unknown name
 * -ENOENT; -ENOSYS where the kernel has no seccomp filters. Nothing is
 * changed on failure, except that no_new_privs may be set. */
int sandbox_enter(const char *const *allow, const char *const *extra);

/* The size of the filter sandbox_enter would load for these lists, in
 * BPF instructions. libseccomp asks the kernel which actions it has:
 * without seccomp (qemu-user) only the lists are checked, then -ENOSYS. */
int sandbox_filter_instructions(const char *const *allow, const char *const *extra, size_t *ret);
