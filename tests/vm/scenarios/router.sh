# The router program on the aarch64 kernel, under its seccomp filter:
# docs/router.md's walk from an empty router to a LAN, a WAN and a guest
# network (/vm/data/router/state.json, the state of the walkthrough),
# applied by the static op-router to this namespace, which has its links
# (veth pairs named as on a GL-MT6000) and nothing else; the hosts are
# namespaces behind them:
#
#   r-up     198.51.100.1 behind eth1 (the WAN, "the internet")
#   r-srv    192.168.1.10 behind lan1 (the LAN's web server)
#   r-cli    192.168.1.20 behind lan2 (lan1..lan4 are br-lan's ports)
#   r-guest  192.168.5.10 behind lan5 (the guest network)
#   r-far    10.99.0.1 behind wg0 (a veth standing for the tunnel, with
#            198.51.100.1 on its loopback: the guests' way out)
#   r-spare  the other ends of lan3 and lan4
#
# A running op-router shows Seccomp: 2; a second apply writes nothing;
# real packets cross the bridge, leave the WAN masqueraded, reach the LAN
# server through the port forward and leave the guest network through the
# tunnel; an apply that fails after the firewall (OPROUTER_FAULT_INJECT)
# leaves links, addresses, routes, rules and the ruleset as they were, as
# does the rollback verb after a change; op-router run (the daemon, in
# the background) shows Seccomp: 2, puts back a route, an address and a
# firewall rule deleted by hand, reverts an apply --confirm-timeout 2 that
# is not confirmed, keeps one that is, and exits with 0 on SIGTERM;
# --selftest-sandbox is killed by
# SIGSYS; with the tunnel down, no guest packet leaves through the WAN;
# empty sections take away what op-router made. The host compares the
# dumps and reads the counts (tests/vm/test_aarch64_vm.py).
# needs: op-router

D=/vm/data/router
export OPROUTER_STATE_DIR=/tmp/router/state OPROUTER_RUN_DIR=/tmp/router/run
export OPROUTER_SECRETS=/tmp/router/secrets.json
mkdir -p "$OPROUTER_STATE_DIR" "$OPROUTER_RUN_DIR"

in_ns() {
        _ns=$1
        shift
        ip netns exec "$_ns" "$@"
}
# no duplicate address detection: addresses are usable (and dumps
# stable) at once
NODAD="net.ipv6.conf.all.accept_dad=0 net.ipv6.conf.default.accept_dad=0"

topology() {
        sysctl -q -w $NODAD || return 1
        for n in up srv cli guest far spare; do
                ip netns add "r-$n" && in_ns "r-$n" ip link set lo up &&
                in_ns "r-$n" sysctl -q -w $NODAD || return 1
        done
        ip link add eth1 type veth peer name eth0 netns r-up &&
        ip link add lan1 type veth peer name eth0 netns r-srv &&
        ip link add lan2 type veth peer name eth0 netns r-cli &&
        ip link add lan5 type veth peer name eth0 netns r-guest &&
        ip link add wg0 type veth peer name eth0 netns r-far &&
        ip link add lan3 type veth peer name lan3 netns r-spare &&
        ip link add lan4 type veth peer name lan4 netns r-spare &&
        ip link set lan3 up && ip link set lan4 up &&
        in_ns r-up ip addr add 198.51.100.1/24 dev eth0 &&
        in_ns r-up ip addr add 2001:db8:1::1/64 dev eth0 nodad &&
        in_ns r-srv ip addr add 192.168.1.10/24 dev eth0 &&
        in_ns r-cli ip addr add 192.168.1.20/24 dev eth0 &&
        in_ns r-guest ip addr add 192.168.5.10/24 dev eth0 &&
        in_ns r-guest ip addr add fd05::10/64 dev eth0 nodad &&
        in_ns r-far ip addr add 10.99.0.1/30 dev eth0 &&
        in_ns r-far ip addr add fd99::1/64 dev eth0 nodad || return 1
        for n in up srv cli guest far; do
                in_ns "r-$n" ip link set eth0 up || return 1
        done
        sysctl -q -w net.ipv4.ip_forward=1 net.ipv6.conf.all.forwarding=1 &&
        in_ns r-srv ip route add default via 192.168.1.1 &&
        in_ns r-cli ip route add default via 192.168.1.1 &&
        in_ns r-guest ip route add default via 192.168.5.1 &&
        in_ns r-guest ip -6 route add default via fd05::1 &&
        in_ns r-far ip addr add 198.51.100.1/32 dev lo &&
        in_ns r-far ip addr add 2001:db8:1::1/128 dev lo &&
        in_ns r-far ip -6 route add fd05::/64 via fd99::2 &&
        ip -br link
}
check topology topology

check validate op-router validate "$D/state.json"
check plan op-router plan "$D/state.json"

check running-apply sandboxed_apply "$D/state.json" /tmp/router
check apply cat /tmp/router/apply.json /tmp/router/apply.err
check verify op-router verify "$D/state.json"
check reapply op-router apply --json "$D/state.json"
check checkpoints op-router checkpoints

# Real packets. Across br-lan, between two of its ports:
check lan-bridge-ping in_ns r-cli ping -c 2 -W 5 192.168.1.10
# out of the WAN, masqueraded: the upstream side sees the router's address
masquerade() {
        capture_on eth0 r-up || return 1
        in_ns r-cli ping -c 2 -W 5 198.51.100.1 > /dev/null
        _r=$?
        capture_stop eth0 r-up
        grep "ICMP echo" /tmp/r-up-eth0.cap
        return $_r
}
check masquerade masquerade
# the port forward: the WAN reaches the LAN's server at the router's
# address, port 8080 (busybox nc on both ends: its wget, linked
# statically against glibc, crashes resolving an address)
listening() {
        in_ns "$1" netstat -ltn | grep -q ":$2 "
}
port_forward() {
        echo "served by 192.168.1.10" > /tmp/router/served || return 1
        in_ns r-srv nc -l -p 80 < /tmp/router/served > /tmp/router/received &
        _srv=$!
        wait_for 10 listening r-srv 80
        echo "asked from the WAN" | in_ns r-up nc -w 5 198.51.100.2 8080
        _r=$?
        kill $_srv 2> /dev/null
        wait $_srv
        echo "the server received: $(cat /tmp/router/received)"
        return $_r
}
check port-forward port_forward
# the guests leave through the tunnel, by op-router's rule and route,
# masqueraded with the tunnel's address
guest_tunnel() {
        capture_on eth0 r-far || return 1
        in_ns r-guest ping -c 2 -W 5 198.51.100.1 > /dev/null
        _r=$?
        capture_stop eth0 r-far
        grep "ICMP echo" /tmp/r-far-eth0.cap
        return $_r
}
check guest-tunnel guest_tunnel

# What the kernel holds: links, addresses, routes and rules (ip -j), and
# the ruleset (Debian's nft), one JSON document a line.
dumps() {
        ip -j link && ip -j addr && ip -j route show table all && ip -j -6 route show table all &&
        ip -j rule && ip -j -6 rule && nft -j list ruleset
}
check dump-applied dumps
# A change of all three sections that fails after the firewall's batch:
# everything is rolled back.
check fault-injected fails env OPROUTER_FAULT_INJECT=firewall \
        op-router apply --json --allow-outage "$D/changed.json"
check dump-after-fault dumps
# The change applied, then taken back by the rollback verb.
check apply-changed op-router apply --json --allow-outage "$D/changed.json"
check dump-changed dumps
check rollback op-router rollback --json --allow-outage
check dump-after-rollback dumps
check verify-after-rollback op-router verify "$D/state.json"

# The daemon, op-router run, on the walkthrough's state (applied: its
# start finds nothing to do), under the same filter as every verb.
DAEMON_LOG=/tmp/router/daemon.log
start_daemon() {
        op-router run "$D/state.json" > "$DAEMON_LOG" 2>&1 &
        echo $! > /tmp/router/daemon.pid
        wait_for 20 grep -q "start: apply of" "$DAEMON_LOG"
        _r=$?
        grep -E "^(Name|Seccomp|NoNewPrivs):" "/proc/$(cat /tmp/router/daemon.pid)/status"
        cat "$DAEMON_LOG"
        return $_r
}
check daemon-start start_daemon

# Drift: a route, an address and a firewall rule of op-router's deleted
# by hand are back, each polled every 20 ms for at most 10 s; the time is
# from the deletion to the first poll that finds it back.
ms() {
        awk '{ printf "%d\n", $1 * 1000 }' /proc/uptime
}
route_back() {
        ip route show table 100 proto 217 | grep -q "^default via 10.99.0.1 dev wg0"
}
address_back() {
        ip -br addr show dev lan5 | grep -q " 192.168.5.1/24 "
}
ping_rule_handle() {
        nft -a list chain inet op-router input_wan |
                sed -n 's/.*comment "rule ping".*# handle \([0-9]*\).*/\1/p'
}
rule_back() {
        [ -n "$(ping_rule_handle)" ]
}
delete_route() {
        ip route del default via 10.99.0.1 dev wg0 table 100 proto 217
}
delete_address() {
        ip addr del 192.168.5.1/24 dev lan5
}
delete_rule() {
        _h=$(ping_rule_handle)
        [ -n "$_h" ] && nft delete rule inet op-router input_wan handle "$_h"
}
# drift WHAT: deletes it, then polls until it is back
drift() {
        "$1_back" || { echo "no $1 to delete"; return 1; }
        _t0=$(ms)
        "delete_$1" || return 1
        _end=$((_t0 + 10000))
        until "$1_back"; do
                [ "$(ms)" -ge "$_end" ] && { echo "$1: not back after 10 s"; return 1; }
                sleep 0.02
        done
        echo "$1: back after $(($(ms) - _t0)) ms"
}
check drift-route drift route
check drift-address drift address
check drift-rule drift rule
# the repairs logged; then the kernel as the walkthrough's apply left it
wait_for 5 test "$(grep -c "put back in" "$DAEMON_LOG")" -ge 3
check drift-log grep "Drift repaired" "$DAEMON_LOG"
check dump-after-drift dumps

# Commit-confirm, the window kept by the daemon. The change of all three
# sections without confirm: after its 2 s the daemon reverts it.
check unconfirmed-apply op-router apply --json --allow-outage --confirm-timeout 2 "$D/changed.json"
reverted() {
        _t0=$(ms)
        wait_for 20 grep -q "Revert of an unconfirmed apply" "$DAEMON_LOG" || {
                echo "not reverted after 20 s"; cat "$DAEMON_LOG"; return 1; }
        echo "reverted after $(($(ms) - _t0)) ms (window: 2 s)"
        grep -E "not confirmed|Revert of an unconfirmed apply" "$DAEMON_LOG"
}
check unconfirmed-reverted reverted
check dump-after-revert dumps
# The same change confirmed: past its deadline (5 s after the apply
# returned, the sleep alone is as long) it stays.
check confirmed-apply op-router apply --json --allow-outage --confirm-timeout 5 "$D/changed.json"
check confirm op-router confirm --json
check dump-confirmed-apply dumps
past_deadline() {
        sleep 5
        grep -E "was confirmed|not confirmed|Revert" "$DAEMON_LOG"
        dumps
}
check dump-past-deadline past_deadline

# SIGTERM: the daemon exits with status 0.
stop_daemon() {
        _p=$(cat /tmp/router/daemon.pid)
        kill -TERM "$_p"
        wait "$_p"
        _r=$?
        echo "the daemon exited with $_r"
        tail -n 3 "$DAEMON_LOG"
        return $_r
}
check daemon-sigterm stop_daemon
# the walkthrough's state again, for what follows
check apply-after-daemon op-router apply --json --allow-outage "$D/state.json"

# A program asked to run after the filter is in: SIGSYS (159 in the shell).
selftest() {
        op-router --selftest-sandbox
        echo "status $?"
}
check selftest-sandbox selftest

# The tunnel goes down: not one packet of a guest flow that was going
# through it leaves through the WAN. The flow is IPv6 (established in
# conntrack, not masqueraded): the kernel forgets IPv4 flows masqueraded
# out of a device that goes down, so they would be dropped as new ones
# even without the kill switch; an established IPv6 flow would go on out
# of eth1 by the main table's default route.
kill_switch() {
        in_ns r-guest ping -6 -c 60 -W 1 2001:db8:1::1 > /tmp/router/ping.out 2>&1 &
        _ping=$!
        wait_for 10 grep -q "bytes from" /tmp/router/ping.out &&
        capture_on eth0 r-up &&
        ip link set wg0 down || { kill $_ping; return 1; }
        sleep 3
        capture_stop eth0 r-up
        # still pinging: its echo requests went on after the tunnel went
        kill $_ping && echo "the ping was still running"
        wait $_ping
        cat /tmp/router/ping.out
        echo "through eth1 after the tunnel went down:"
        grep "echo request" /tmp/r-up-eth0.cap
        ! grep -q "echo request" /tmp/r-up-eth0.cap
}
check kill-switch kill_switch

# Empty sections: what op-router made goes, the links stay.
check remove op-router apply --json --allow-outage "$D/empty.json"
after_remove() {
        nft list tables && ip -br link && ip route show table all && ip -6 route show table all &&
        ip rule && ip -6 rule && ip -j addr show dev eth1
}
check after-remove after_remove

for n in up srv cli guest far spare; do
        ip netns delete "r-$n"
done
