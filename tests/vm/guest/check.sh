# SPDX-License-Identifier: LGPL-2.1-or-later
#
# Helpers of the scenario scripts of the aarch64 test machine (sourced;
# busybox sh). The host reads the markers from the console
# (tests/vm/aarch64vm.py, parse_console).

# Debian's programs (/usr/local/sbin) before busybox's applets of the same
# name: busybox's shell runs its own applets (ip) whatever PATH says. A
# nested shell (sh -c, unshare ... sh -c) sources this file to get them.
for _tool in /usr/local/sbin/*; do
        [ -x "$_tool" ] && eval "${_tool##*/}() { $_tool \"\$@\"; }"
done
umask 077

# check NAME CMD...: runs CMD (a program or a shell function) and reports
# its output and exit status as the check NAME. Returns CMD's status.
check() {
        _name=$1
        shift
        echo "@@CHECK $_name"
        "$@" > /tmp/.check-out 2>&1
        _rc=$?
        cat /tmp/.check-out
        [ -n "$(tail -c 1 /tmp/.check-out)" ] && echo
        echo "@@END $_name $_rc"
        return $_rc
}

# expect_fail NAME CMD...: the check passes when CMD fails.
expect_fail() {
        _name=$1
        shift
        check "$_name" fails "$@"
}
fails() {
        "$@" && { echo "succeeded, a failure was expected"; return 1; }
        return 0
}

# wait_for SECONDS CMD...: runs CMD every 0.2 s until it succeeds (0) or
# SECONDS have passed (its last status).
wait_for() {
        _end=$(( $(date +%s) + $1 ))
        shift
        while :; do
                "$@" && return 0
                _rc=$?
                [ "$(date +%s)" -ge "$_end" ] && return $_rc
                sleep 0.2
        done
}

# sandboxed_apply FILE DIR: op-router apply --json of FILE, whose state
# arrives on a pipe that stays empty until the running op-router's status
# has been read (so that it shows the program under its filter, in the
# middle of its verb); prints those status lines, the result (also kept
# in DIR/apply.json, errors in DIR/apply.err) and returns apply's status.
sandboxed_apply() {
        rm -f "$2/go"
        { wait_for 20 test -e "$2/go"; cat "$1"; } |
                op-router apply --json - > "$2/apply.json" 2> "$2/apply.err" &
        _pid=$!
        wait_for 20 grep -q "^Seccomp:[[:space:]]*2" "/proc/$_pid/status"
        grep -E "^(Name|Seccomp|NoNewPrivs):" "/proc/$_pid/status"
        touch "$2/go"
        wait $_pid
        _r=$?
        echo "apply exited with $_r"
        cat "$2/apply.json" "$2/apply.err"
        return $_r
}

# capture_on IFNAME [NETNS]: starts tcpdump on IFNAME (in the network
# namespace NETNS) into /tmp/[NETNS-]IFNAME.cap and waits until it listens;
# capture_stop IFNAME [NETNS] ends it once what was sent has had time to
# arrive.
capture_on() {
        _cap=/tmp/${2:+$2-}$1
        ${2:+ip netns exec $2} tcpdump -Z root -l -n -e -i "$1" > "$_cap.cap" 2> "$_cap.err" &
        echo $! > "$_cap.pid"
        wait_for 10 grep -q "listening on $1" "$_cap.err"
}
capture_stop() {
        _cap=/tmp/${2:+$2-}$1
        sleep 0.5
        kill "$(cat "$_cap.pid")"
        wait "$(cat "$_cap.pid")"
        return 0
}

# Markers of a scenario (the init prints them around each script).
scenario_begin() { echo "@@SCENARIO $1"; }
scenario_end() { echo "@@SCENARIO-END $1 ${2:-0}"; }
