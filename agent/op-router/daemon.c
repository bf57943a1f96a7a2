/* SPDX-License-Identifier: LGPL-2.1-or-later */
/* op-router's commit-confirm and its daemon, op-router run. The CLI and the
 * daemon share no protocol: they coordinate through files. The daemon
 * holds <run-dir>/daemon.lock while it runs; a confirmed apply writes the
 * window (the state from before it and the deadline) to
 * <state-dir>/confirm.json, and confirm removes it; both under
 * <run-dir>/confirm.lock, as the daemon's revert is. The daemon reads the
 * window from the file at least once a second and reverts when its
 * deadline passes; a window it finds at start (a crash, a restart or a
 * reboot inside it) reverts at once. It listens to rtnetlink's and
 * nftables' change notifications and applies the applied state again
 * when someone else changed the kernel (drift). One thread, no other
 * program: the seccomp filter holds throughout. */
#include <inttypes.h>
#include <linux/netfilter/nfnetlink.h>
#include <linux/netlink.h>
#include <linux/rtnetlink.h>
#include <poll.h>
#include <sys/socket.h>
#include <signal.h>
#include <stdio.h>
#include <sys/signalfd.h>
#include <unistd.h>

#include "confirm.h"
#include "fileio.h"
#include "json-util.h"
#include "log.h"
#include "op-router.h"
#include "plugins.h"
#include "worker.h"

#define CONFIRM_POLL_MS 1000
/* Drift: repaired once the kernel has been quiet for DRIFT_QUIET_MS, and
 * at the latest DRIFT_MAX_MS after the first change seen (well inside the
 * second the repair is promised in). */
#define DRIFT_QUIET_MS 50
#define DRIFT_MAX_MS 250

static char *run_path(const CliCommon *c, const char *name) {
        char *p;

        if (mkdir_p(c->ctx.run_dir, 0755) < 0 || asprintf(&p, "%s/%s", c->ctx.run_dir, name) < 0)
                return NULL;
        return p;
}

/* The daemon's lock: taken (ret_fd) when no daemon runs; -EBUSY when one
 * does. */
static int daemon_lock(const CliCommon *c, int *ret_fd) {
        _cleanup_(freep) char *path = run_path(c, "daemon.lock");

        if (!path)
                return -ENOMEM;
        return lock_file_acquire(path, 0, ret_fd);
}

static int confirm_lock(const CliCommon *c, int *ret_fd) {
        _cleanup_(freep) char *path = run_path(c, "confirm.lock");

        if (!path)
                return -ENOMEM;
        return lock_file_acquire(path, c->lock_timeout_ms, ret_fd);
}

static WorkerConfig worker_config(const CliCommon *c) {
        return (WorkerConfig) {
                .product = &oprouter_product,
                .ctx = c->ctx,
                .fault_after = c->fault_env ? getenv(c->fault_env) : NULL,
                .lock_timeout_ms = c->lock_timeout_ms,
                .keep_checkpoints = c->keep_checkpoints,
        };
}

static json_object *job_result(const Job *j) {
        return j->result_json ? json_tokener_parse(j->result_json) : NULL;
}

/* apply --confirm-timeout SEC FILE: the apply, then the window on disk
 * for the daemon to keep. Without a daemon nobody would revert it: it is
 * refused, and nothing changes. */
int oprouter_apply_confirmed(const CliCommon *c, const char *file) {
        WorkerConfig cfg = worker_config(c);
        _cleanup_(job_freep) Job *j = job_new(JOB_APPLY);
        _cleanup_(confirm_window_done) ConfirmWindow w = {};
        _cleanup_(closep) int daemon_fd = -EBADF, confirm_fd = -EBADF;
        _cleanup_(json_object_putp) json_object *res = NULL;
        int r;

        r = daemon_lock(c, &daemon_fd);
        if (r >= 0) {
                log_error("apply --confirm-timeout: no op-router daemon is running to keep the timer (start it: "
                          "'/etc/init.d/op-router start' or 'systemctl start op-router'). Nothing was changed.");
                return EXIT_UNAVAILABLE;
        }
        if (r != -EBUSY)
                return log_error_errno(r, "Cannot check for the op-router daemon in %s: %m", c->ctx.run_dir),
                       EXIT_UNAVAILABLE;
        if (c->only) {
                log_error("apply: --confirm-timeout and --plugin do not go together (a confirm window reverts "
                          "the whole state). Nothing was changed.");
                return EXIT_INVALID;
        }
        if (!j || !(j->state_path = strdup(file)) || confirm_window_init(&w, c->ctx.state_dir) < 0)
                return log_error_errno(-ENOMEM, "Out of memory."), EXIT_UNAVAILABLE;
        j->confirm_timeout = c->confirm_timeout;
        j->allow_outage = c->allow_outage;

        r = confirm_lock(c, &confirm_fd);
        if (r < 0)
                return log_error_errno(r, "Cannot lock the confirm window in %s: %m", c->ctx.run_dir), EXIT_BUSY;
        worker_run_job(&cfg, j);
        if (j->status == RECONCILE_OK && j->snapshot) {
                /* A window already open keeps the state it reverts to: the
                 * one confirmed last, from before the first of the applies
                 * that wait. */
                if (confirm_window_load(&w) > 0 && w.state) {
                        json_object_put(j->snapshot);
                        j->snapshot = json_object_get(w.state);
                }
                (void) confirm_window_open(&w, j, "op-router confirm");
        }
        res = job_result(j);
        if (!res)
                return log_error_errno(-ENOMEM, "Out of memory."), EXIT_UNAVAILABLE;
        print_result(c->json, "apply", cli_origin(file), res);
        return exit_code_for_json(res);
}

/* confirm: the apply stays. */
int oprouter_confirm(const CliCommon *c) {
        _cleanup_(confirm_window_done) ConfirmWindow w = {};
        _cleanup_(closep) int confirm_fd = -EBADF;
        int r;

        if (confirm_window_init(&w, c->ctx.state_dir) < 0)
                return log_error_errno(-ENOMEM, "Out of memory."), EXIT_UNAVAILABLE;
        r = confirm_lock(c, &confirm_fd);
        if (r < 0)
                return log_error_errno(r, "Cannot lock the confirm window in %s: %m", c->ctx.run_dir), EXIT_BUSY;
        r = confirm_window_load(&w);
        if (r < 0)
                return log_error_errno(r, "Cannot read %s: %m", w.path), EXIT_UNAVAILABLE;
        if (r == 0) {
                log_error("confirm: no apply is waiting for confirmation.");
                return EXIT_INVALID;
        }
        if (confirm_window_seconds_left(&w, now_realtime_usec()) == 0) {
                log_error("confirm: too late, the window of generation %" PRIu64 " has run out; the daemon "
                          "reverts it.", w.generation);
                return EXIT_INVALID;
        }
        r = confirm_window_confirm(&w);
        if (r < 0)
                return log_error_errno(r, "Cannot remove %s: %m", w.path), EXIT_UNAVAILABLE;
        if (c->json) {
                _cleanup_(json_object_putp) json_object *o = json_object_new_object();

                if (o) {
                        json_object_object_add(o, "confirmed", json_object_new_boolean(true));
                        json_object_object_add(o, "generation", json_object_new_int64((int64_t) w.generation));
                        print_json(o);
                }
        } else
                printf("Confirmed: generation %" PRIu64 " stays.\n", w.generation);
        return EXIT_OK;
}

/* ---- the daemon ------------------------------------------------------------- */

typedef struct Daemon {
        const CliCommon *c;
        WorkerConfig cfg;
        const char *state_file;
        ConfirmWindow window;
        uint64_t seen;                /* the generation whose window was logged */
        int rtnl_fd, nft_fd;          /* change notifications */
        uint64_t drift_first, drift_last; /* CLOCK_MONOTONIC usec of the changes not yet looked at; 0: none */
} Daemon;

/* Logs a finished job: what it did, verified or not, and with report
 * its whole result. */
static bool log_job(const Job *j, const char *what, bool report) {
        bool ok = j->status == RECONCILE_OK;

        if (ok)
                log_info("%s: verified, generation %" PRIu64 " (%s).", what, j->generation,
                         j->changed ? "changes made" : "nothing to change");
        else
                log_error("%s failed (%s)%s%s", what, reconcile_status_to_string(j->status),
                          j->error_text ? ": " : ".", j->error_text ?: "");
        if (report && j->result_json)
                log_info("%s: result %s", what, j->result_json);
        return ok;
}

/* A netlink socket of protocol proto that receives the notifications of
 * the groups given (0-terminated). */
static int notify_socket(int proto, const unsigned *groups) {
        _cleanup_(closep) int fd = socket(AF_NETLINK, SOCK_RAW | SOCK_CLOEXEC | SOCK_NONBLOCK, proto);
        struct sockaddr_nl sa = { .nl_family = AF_NETLINK };
        int rcvbuf = 1 << 20;

        if (fd < 0)
                return negative_errno();
        (void) setsockopt(fd, SOL_SOCKET, SO_RCVBUF, &rcvbuf, sizeof rcvbuf);
        if (bind(fd, (struct sockaddr *) &sa, sizeof sa) < 0)
                return negative_errno();
        for (; *groups; groups++)
                if (setsockopt(fd, SOL_NETLINK, NETLINK_ADD_MEMBERSHIP, groups, sizeof *groups) < 0)
                        return negative_errno();
        return TAKE_FD(fd);
}

static int open_watches(Daemon *d) {
        static const unsigned rtnl_groups[] = {
                RTNLGRP_LINK, RTNLGRP_IPV4_IFADDR, RTNLGRP_IPV6_IFADDR, RTNLGRP_IPV4_ROUTE,
                RTNLGRP_IPV6_ROUTE, RTNLGRP_IPV4_RULE, RTNLGRP_IPV6_RULE, 0,
        };
        static const unsigned nft_groups[] = { NFNLGRP_NFTABLES, 0 };

        d->rtnl_fd = notify_socket(NETLINK_ROUTE, rtnl_groups);
        if (d->rtnl_fd < 0)
                return d->rtnl_fd;
        d->nft_fd = notify_socket(NETLINK_NETFILTER, nft_groups);
        return d->nft_fd < 0 ? d->nft_fd : 0;
}

/* Reads what waits on fd; returns whether anything (or an overflow,
 * which may have hidden a change) was there. */
static bool drain(int fd) {
        char buf[16384];
        bool any = false;

        if (fd < 0)
                return false;
        for (;;) {
                ssize_t n = recv(fd, buf, sizeof buf, MSG_DONTWAIT);

                if (n < 0 && errno == ENOBUFS) {
                        any = true;
                        continue;
                }
                if (n < 0 && errno == EINTR)
                        continue;
                if (n <= 0)
                        return any;
                any = true;
        }
}

/* The notifications of the daemon's own writes: a job runs on this
 * thread, so they are all queued when it returns, and are dropped. */
static void forget_own_changes(Daemon *d) {
        (void) drain(d->rtnl_fd);
        (void) drain(d->nft_fd);
        d->drift_first = d->drift_last = 0;
}

static bool ok_status(const Job *j) {
        return j->status == RECONCILE_OK;
}

static void apply_state_file(Daemon *d, const char *why) {
        _cleanup_(job_freep) Job *j = job_new(JOB_APPLY);
        _cleanup_(freep) char *what = NULL;

        if (j)
                j->reason = "state-file";
        if (!j || !(j->state_path = strdup(d->state_file)) ||
            asprintf(&what, "%s: apply of %s", why, d->state_file) < 0) {
                log_error_errno(-ENOMEM, "%s: out of memory.", why);
                return;
        }
        worker_run_job(&d->cfg, j);
        forget_own_changes(d);
        (void) log_job(j, what, !ok_status(j));
}

/* The window, as the file says now; reverts it when its deadline has
 * passed, or at once (now_anyway: found at start). Returns whether it
 * reverted. */
static bool check_window(Daemon *d, bool now_anyway) {
        _cleanup_(closep) int confirm_fd = -EBADF;
        _cleanup_(job_freep) Job *j = NULL;
        char deadline[ISO8601_MAX];
        bool ok;
        int r;

        r = confirm_lock(d->c, &confirm_fd);
        if (r < 0) {
                log_warning_errno(r, "Cannot lock the confirm window (trying again): %m");
                return false;
        }
        r = confirm_window_load(&d->window);
        if (r < 0) {
                log_error_errno(r, "Cannot read %s; the window it holds is not kept: %m", d->window.path);
                return false;
        }
        if (r == 0) {
                /* confirmed (or none) */
                if (confirm_window_pending(&d->window))
                        log_info("Generation %" PRIu64 " was confirmed.", d->window.generation);
                json_object_put(d->window.state);
                d->window.state = NULL;
                d->window.deadline = 0;
                return false;
        }
        if (!now_anyway && confirm_window_seconds_left(&d->window, now_realtime_usec()) > 0) {
                if (d->seen != d->window.generation)
                        log_info("Generation %" PRIu64 " waits for confirmation until %s ('op-router confirm').",
                                 d->window.generation,
                                 format_iso8601(d->window.deadline, false, deadline, sizeof deadline));
                d->seen = d->window.generation;
                return false;
        }

        log_warning("Generation %" PRIu64 " was not confirmed (deadline %s)%s: reverting to the state from "
                    "before it.", d->window.generation,
                    format_iso8601(d->window.deadline, false, deadline, sizeof deadline),
                    now_anyway ? "; its window was open when the daemon started" : "");
        j = confirm_window_rollback_job(&d->window);
        if (!j) {
                log_error_errno(-ENOMEM, "Cannot revert: out of memory; trying again.");
                return false;
        }
        worker_run_job(&d->cfg, j);
        forget_own_changes(d);
        ok = log_job(j, "Revert of an unconfirmed apply", true);
        confirm_window_rolled_back(&d->window, ok);
        return true;
}

/* Someone changed links, addresses, routes, rules or nftables: the
 * applied state (the newest checkpoint) is applied again, and what that
 * put back is logged, one line each. Nothing to put back: nothing is
 * logged. */
static void repair_drift(Daemon *d) {
        _cleanup_(job_freep) Job *j = job_new_automatic(JOB_HEAL, "drift");
        uint64_t start = now_usec();
        size_t n;

        if (!j) {
                log_error_errno(-ENOMEM, "Drift: out of memory; not repaired.");
                return;
        }
        worker_run_job(&d->cfg, j);
        forget_own_changes(d);
        if (j->status == RECONCILE_INVALID && j->error == -ENOENT)
                return; /* nothing applied yet: nothing to keep */
        if (j->status == RECONCILE_BUSY && j->error == -ESTALE) {
                /* an apply made a newer generation while this one waited
                 * for the lock: the changes seen were (also) its own */
                log_info("Drift: a newer apply came first; nothing repaired.");
                return;
        }
        if (j->status != RECONCILE_OK) {
                (void) log_job(j, "Drift repair", true);
                return;
        }
        n = j->drift ? json_object_array_length(j->drift) : 0;
        for (size_t i = 0; i < n; i++) {
                json_object *a = json_object_array_get_idx(j->drift, i), *plugin, *path, *action, *detail;

                if (json_object_object_get_ex(a, "plugin", &plugin) && json_object_object_get_ex(a, "path", &path) &&
                    json_object_object_get_ex(a, "action", &action))
                        log_notice("Drift repaired: %s %s %s%s%s", json_object_get_string(plugin),
                                   json_object_get_string(action), json_object_get_string(path),
                                   json_object_object_get_ex(a, "detail", &detail) ? ": " : "",
                                   json_object_object_get_ex(a, "detail", &detail) ?
                                   json_object_get_string(detail) : "");
        }
        if (n > 0)
                log_notice("Drift repaired: %zu change%s put back in %.0f ms, verified (generation %" PRIu64 ").",
                           n, n == 1 ? "" : "s", (double) (now_usec() - start) / 1000.0, j->generation);
}

static int next_timeout_ms(const Daemon *d) {
        uint64_t now = now_realtime_usec(), left, ms = CONFIRM_POLL_MS;

        if (confirm_window_pending(&d->window)) {
                left = d->window.deadline > now ? (d->window.deadline - now) / 1000 + 1 : 0;
                ms = MIN(left, ms);
        }
        if (d->drift_first > 0) {
                uint64_t mono = now_usec();
                uint64_t due = MIN(d->drift_last + DRIFT_QUIET_MS * 1000ULL, d->drift_first + DRIFT_MAX_MS * 1000ULL);

                ms = MIN(ms, due > mono ? (due - mono) / 1000 + 1 : 0);
        }
        return (int) ms;
}

static void note_changes(Daemon *d, const struct pollfd *p, size_t n) {
        bool any = false;

        for (size_t i = 0; i < n; i++)
                if (p[i].revents)
                        any = drain(p[i].fd) || any;
        if (!any)
                return;
        d->drift_last = now_usec();
        if (d->drift_first == 0)
                d->drift_first = d->drift_last;
}

static bool drift_due(const Daemon *d) {
        uint64_t mono = now_usec();

        return d->drift_first > 0 && (mono >= d->drift_last + DRIFT_QUIET_MS * 1000ULL ||
                                      mono >= d->drift_first + DRIFT_MAX_MS * 1000ULL);
}

static int signal_fd(void) {
        sigset_t mask;
        int fd;

        sigemptyset(&mask);
        sigaddset(&mask, SIGHUP);
        sigaddset(&mask, SIGTERM);
        sigaddset(&mask, SIGINT);
        if (sigprocmask(SIG_BLOCK, &mask, NULL) < 0)
                return negative_errno();
        fd = signalfd(-1, &mask, SFD_CLOEXEC | SFD_NONBLOCK);
        return fd < 0 ? negative_errno() : fd;
}

/* Returns the signal taken (0: none). */
static int read_signal(int fd) {
        struct signalfd_siginfo si;

        if (read(fd, &si, sizeof si) != (ssize_t) sizeof si)
                return 0;
        return (int) si.ssi_signo;
}

static int loop(Daemon *d, int sfd) {
        for (;;) {
                struct pollfd p[] = {
                        { .fd = sfd, .events = POLLIN },
                        { .fd = d->rtnl_fd, .events = POLLIN },
                        { .fd = d->nft_fd, .events = POLLIN },
                };
                int r, sig;

                r = poll(p, ELEMENTSOF(p), next_timeout_ms(d));
                if (r < 0 && errno != EINTR)
                        return log_error_errno(negative_errno(), "poll: %m"), EXIT_UNAVAILABLE;
                if (r > 0)
                        note_changes(d, p + 1, ELEMENTSOF(p) - 1);
                if (drift_due(d))
                        repair_drift(d);
                if (r > 0 && p[0].revents && (sig = read_signal(sfd)) > 0) {
                        if (sig != SIGHUP) {
                                log_info("%s: exiting.", strsignal(sig));
                                return EXIT_OK;
                        }
                        (void) check_window(d, false);
                        if (confirm_window_pending(&d->window))
                                log_warning("SIGHUP: %s is not applied while generation %" PRIu64
                                            " waits for confirmation.", d->state_file, d->window.generation);
                        else
                                apply_state_file(d, "SIGHUP");
                        continue;
                }
                (void) check_window(d, false);
        }
}

int oprouter_run(const CliCommon *c, const char *file) {
        _cleanup_(closep) int daemon_fd = -EBADF, sfd = -EBADF;
        Daemon d = {
                .rtnl_fd = -EBADF,
                .nft_fd = -EBADF,
                .c = c,
                .cfg = worker_config(c),
                .state_file = file ?: c->state_file,
        };
        bool reverted;
        int r;

        r = daemon_lock(c, &daemon_fd);
        if (r == -EBUSY) {
                log_error("run: another op-router daemon is running (%s/daemon.lock is locked).", c->ctx.run_dir);
                return EXIT_BUSY;
        }
        if (r < 0)
                return log_error_errno(r, "run: cannot lock %s/daemon.lock: %m", c->ctx.run_dir), EXIT_UNAVAILABLE;
        sfd = signal_fd();
        if (sfd < 0)
                return log_error_errno(sfd, "run: cannot take signals: %m"), EXIT_UNAVAILABLE;
        if (confirm_window_init(&d.window, c->ctx.state_dir) < 0)
                return log_error_errno(-ENOMEM, "Out of memory."), EXIT_UNAVAILABLE;
        log_set_timestamps(true);
        /* Subscribed before the first apply: a change made while it runs
         * is not missed. */
        r = open_watches(&d);
        if (r < 0) {
                log_error_errno(r, "run: cannot subscribe to the kernel's change notifications: %m");
                r = EXIT_UNAVAILABLE;
                goto out;
        }
        log_info("op-router %s: running (state %s, state directory %s).", PACKAGE_VERSION, d.state_file,
                 c->ctx.state_dir);

        /* An apply still waiting for confirmation when the daemon starts
         * did not get it: it is reverted, and the state file (which may be
         * what it applied) is left until a SIGHUP asks for it. */
        reverted = check_window(&d, true);
        if (reverted && confirm_window_pending(&d.window))
                log_error("The unconfirmed apply could not be reverted; trying again while running.");
        else if (reverted)
                log_info("%s is not applied after a revert; send SIGHUP to apply it.", d.state_file);
        else
                apply_state_file(&d, "start");
        r = loop(&d, sfd);
out:
        if (d.rtnl_fd >= 0)
                (void) close(d.rtnl_fd);
        if (d.nft_fd >= 0)
                (void) close(d.nft_fd);
        confirm_window_done(&d.window);
        return r;
}
