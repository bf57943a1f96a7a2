/* SPDX-License-Identifier: LGPL-2.1-or-later */

/* Test program of agent/lib/sandbox (tests/integration/test_seccomp.py
 * and, built statically for aarch64, the virtual machine's sandbox
 * scenario). Not installed. Unless --no-sandbox is given first, it loads
 * the built-in filter before anything else.
 *
 *   sandbox-driver try CALL...   makes each call, in order, and prints
 *                                "CALL ok" or "CALL errno NAME" for each:
 *                                execve (runs this program again, which
 *                                prints "executed"), execveat, ptrace,
 *                                mount, umount2, chroot, pivot_root, swapon,
 *                                bpf, keyctl, reboot, init_module,
 *                                delete_module (all harmless without the
 *                                filter: nonexistent paths, invalid
 *                                arguments), unshare (unshare(0)), fork
 *                                and setns (into its own namespace)
 *   sandbox-driver work DIR      a dump of the network namespace's links
 *                                over a raw NETLINK_ROUTE socket, then
 *                                DIR/state.json written (fsync, rename),
 *                                locked and read back; prints a JSON line
 *                                with the process's seccomp mode
 *   sandbox-driver status        the process's Seccomp line
 *   sandbox-driver size          the built-in filter's size in BPF
 *                                instructions (never loads it)
 *   sandbox-driver echo WORD     prints WORD (what execve runs)
 *
 * Failures print "error: <errno name>: <what>" and exit 1; usage errors
 * exit 2. A killed call ends the process with SIGSYS. */

#include <fcntl.h>
#include <libgen.h>
#include <linux/bpf.h>
#include <linux/keyctl.h>
#include <linux/netlink.h>
#include <linux/rtnetlink.h>
#include <sched.h>
#include <stdio.h>
#include <stdlib.h>
#include <sys/mount.h>
#include <sys/ptrace.h>
#include <sys/socket.h>
#include <sys/swap.h>
#include <sys/syscall.h>
#include <sys/wait.h>
#include <unistd.h>

#include "fileio.h"
#include "macro.h"
#include "sandbox.h"

DEFINE_TRIVIAL_CLEANUP_FUNC(FILE *, fclose);

#define NOWHERE "/nonexistent-opdbus-sandbox"

static long call_execve(void) {
        char *const args[] = { (char *) "sandbox-driver", (char *) "--no-sandbox", (char *) "echo",
                               (char *) "executed", NULL };

        fflush(stdout);
        return execve("/proc/self/exe", args, environ);
}

static long call_execveat(void) {
        char *const args[] = { (char *) "sandbox-driver", NULL };

        return syscall(SYS_execveat, AT_FDCWD, NOWHERE, args, environ, 0);
}

static long call_fork(void) {
        pid_t pid = fork();

        if (pid == 0)
                _exit(0);
        if (pid > 0)
                (void) waitpid(pid, NULL, 0);
        return pid < 0 ? -1 : 0;
}

static long call_setns(void) {
        _cleanup_(closep) int fd = open("/proc/self/ns/net", O_RDONLY | O_CLOEXEC);

        return fd < 0 ? -1 : setns(fd, CLONE_NEWNET);
}

static const struct {
        const char *name;
        long (*call)(void);
} calls[] = {
        { "execve", call_execve },
        { "execveat", call_execveat },
        { "fork", call_fork },
        { "setns", call_setns },
};

/* The calls that are one syscall with fixed, harmless arguments. */
static long plain_call(const char *name, bool *found) {
        *found = true;
        if (streq(name, "ptrace"))
                return ptrace(PTRACE_PEEKUSER, getppid(), NULL, NULL) == -1 && errno ? -1 : 0;
        if (streq(name, "mount"))
                return mount("none", NOWHERE, "opdbus-none", 0, NULL);
        if (streq(name, "umount2"))
                return umount2(NOWHERE, 0);
        if (streq(name, "chroot"))
                return chroot(NOWHERE);
        if (streq(name, "pivot_root"))
                return syscall(SYS_pivot_root, NOWHERE, NOWHERE);
        if (streq(name, "swapon"))
                return swapon(NOWHERE, 0);
        if (streq(name, "bpf"))
                return syscall(SYS_bpf, -1, NULL, 0);
        if (streq(name, "keyctl"))
                return syscall(SYS_keyctl, -1, 0, 0, 0, 0);
        if (streq(name, "reboot"))      /* no magic number: EINVAL */
                return syscall(SYS_reboot, 0, 0, 0, NULL);
        if (streq(name, "init_module"))
                return syscall(SYS_init_module, NULL, 0, "");
        if (streq(name, "delete_module"))
                return syscall(SYS_delete_module, "opdbus_none", O_NONBLOCK);
        if (streq(name, "unshare"))
                return unshare(0);
        *found = false;
        return 0;
}

static int try_calls(int n, char **names) {
        for (int i = 0; i < n; i++) {
                bool found = false;
                long r = 0;

                for (size_t j = 0; j < ELEMENTSOF(calls) && !found; j++)
                        if (streq(names[i], calls[j].name)) {
                                found = true;
                                r = calls[j].call();
                        }
                if (!found)
                        r = plain_call(names[i], &found);
                if (!found)
                        return -EDOM;
                if (r < 0)
                        printf("%s errno %s\n", names[i], strerrorname_np(errno) ?: "?");
                else
                        printf("%s ok\n", names[i]);
                fflush(stdout);
        }
        return 0;
}

/* The names of the links of the namespace: an RTM_GETLINK dump. */
static int dump_links(char *names, size_t size, unsigned *ret_n) {
        struct {
                struct nlmsghdr h;
                struct ifinfomsg i;
        } req = {
                .h = { .nlmsg_len = sizeof req, .nlmsg_type = RTM_GETLINK,
                       .nlmsg_flags = NLM_F_REQUEST | NLM_F_DUMP, .nlmsg_seq = 1 },
                .i = { .ifi_family = AF_UNSPEC },
        };
        _cleanup_(closep) int fd = socket(AF_NETLINK, SOCK_RAW | SOCK_CLOEXEC, NETLINK_ROUTE);
        static char buf[32768];
        size_t used = 0;
        unsigned n = 0;

        if (fd < 0)
                return negative_errno();
        if (send(fd, &req, sizeof req, 0) < 0)
                return negative_errno();
        for (;;) {
                ssize_t len = recv(fd, buf, sizeof buf, 0);

                if (len < 0)
                        return negative_errno();
                for (struct nlmsghdr *h = (struct nlmsghdr *) buf; NLMSG_OK(h, (size_t) len); h = NLMSG_NEXT(h, len)) {
                        struct ifinfomsg *ifi = NLMSG_DATA(h);
                        int alen = (int) IFLA_PAYLOAD(h);

                        if (h->nlmsg_type == NLMSG_DONE) {
                                *ret_n = n;
                                return 0;
                        }
                        if (h->nlmsg_type == NLMSG_ERROR)
                                return ((struct nlmsgerr *) NLMSG_DATA(h))->error ?: -EIO;
                        n++;
                        for (struct rtattr *a = IFLA_RTA(ifi); RTA_OK(a, alen); a = RTA_NEXT(a, alen))
                                if (a->rta_type == IFLA_IFNAME && used + RTA_PAYLOAD(a) + 2 < size) {
                                        used += (size_t) snprintf(names + used, size - used, "%s\"%s\"",
                                                                  used ? "," : "", (char *) RTA_DATA(a));
                                }
                }
        }
}

static int seccomp_mode(void) {
        _cleanup_(fclosep) FILE *f = fopen("/proc/self/status", "re");
        char line[256];
        int mode = -1;

        while (f && fgets(line, sizeof line, f))
                if (sscanf(line, "Seccomp: %d", &mode) == 1)
                        break;
        return mode;
}

static int work(const char *dir) {
        static const char content[] = "{\"written\": \"under the filter\"}\n";
        _cleanup_(freep) char *path = NULL, *lock = NULL, *back = NULL;
        _cleanup_(closep) int lfd = -EBADF, fd = -EBADF;
        char names[1024] = "";
        unsigned n = 0;
        size_t len;
        int r;

        r = dump_links(names, sizeof names, &n);
        if (r < 0) {
                fprintf(stderr, "error: %s: the link dump\n", strerrorname_np(-r) ?: "?");
                return 1;
        }
        if (asprintf(&path, "%s/state/state.json", dir) < 0 || asprintf(&lock, "%s/state/.lock", dir) < 0)
                return -ENOMEM;
        r = mkdir_p(dirname(strdupa(path)), 0700);
        if (r >= 0)
                r = lock_file_acquire(lock, 0, &lfd);
        if (r >= 0)
                r = write_file_atomic(path, content, strlen(content), 0600);
        if (r >= 0) {
                fd = open(path, O_RDONLY | O_CLOEXEC);
                r = fd < 0 ? negative_errno() : read_fd_bounded(fd, 4096, &back, &len);
        }
        if (r < 0) {
                fprintf(stderr, "error: %s: %s\n", strerrorname_np(-r) ?: "?", path);
                return 1;
        }
        printf("{\"links\": %u, \"names\": [%s], \"file\": %s, \"seccomp\": %d}\n", n, names,
               streq(back, content) ? "\"written\"" : "\"differs\"", seccomp_mode());
        return 0;
}

static int status(void) {
        _cleanup_(fclosep) FILE *f = fopen("/proc/self/status", "re");
        char line[256];

        if (!f)
                return negative_errno();
        while (fgets(line, sizeof line, f))
                if (startswith(line, "Seccomp"))
                        fputs(line, stdout);
        return 0;
}

int main(int argc, char **argv) {
        bool sandbox = true;
        int r;

        if (argc >= 2 && streq(argv[1], "--no-sandbox")) {
                sandbox = false;
                argv++;
                argc--;
        }
        if (argc < 2) {
                fprintf(stderr, "usage: sandbox-driver [--no-sandbox] try CALL...|work DIR|status|size|echo WORD\n");
                return 2;
        }
        if (streq(argv[1], "size")) {
                size_t n;

                r = sandbox_filter_instructions(NULL, NULL, &n);
                if (r < 0) {
                        fprintf(stderr, "error: %s: the filter\n", strerrorname_np(-r) ?: "?");
                        return 1;
                }
                printf("%zu\n", n);
                return 0;
        }
        if (streq(argv[1], "echo") && argc == 3) {
                puts(argv[2]);
                return 0;
        }
        if (sandbox) {
                r = sandbox_enter(NULL, NULL);
                if (r < 0) {
                        fprintf(stderr, "error: %s: loading the filter\n", strerrorname_np(-r) ?: "?");
                        return 1;
                }
        }
        if (streq(argv[1], "try"))
                r = try_calls(argc - 2, argv + 2);
        else if (streq(argv[1], "work") && argc == 3)
                return work(argv[2]);
        else if (streq(argv[1], "status") && argc == 2)
                r = status();
        else
                r = -EDOM;
        if (r == -EDOM) {
                fprintf(stderr, "sandbox-driver: invalid arguments for '%s'\n", argv[1]);
                return 2;
        }
        if (r < 0) {
                fprintf(stderr, "error: %s: %s\n", strerrorname_np(-r) ?: "?", argv[1]);
                return 1;
        }
        return 0;
}
