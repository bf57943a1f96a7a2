# The VLANs of bridge ports and VLAN links, made by op-router itself (the
# static program, under its seccomp filter like every verb) on the aarch64
# kernel, which has bridge VLAN filtering and 8021q
# (/vm/data/bridge-vlans/state.json):
#
#   bv-a  a0 10.10.0.2          -- p1 [pvid 10, untagged] --+
#   bv-b  b0.10 10.10.0.3       -- p2 [tagged 10, 20]    --+- br0 (vlan_filtering,
#         b0.20 10.20.0.3                                    itself tagged 20)
#                                                            br0.20 10.20.0.1
#   bv-c  c0.30 10.30.0.3       -- p3 -- p3.30 10.30.0.1 (a VLAN link on a port)
#
# Frames cross the bridge as declared: tagged 10 on p2, untagged on p1;
# the router's own br0.20 answers tagged 20 on p2, p3.30 tagged 30 on
# p3 (captures). A second apply writes nothing; a change of the pvids
# that fails after the interfaces' apply (OPROUTER_FAULT_INJECT) and the
# rollback verb after it leave `bridge -j vlan show`, `ip -j link` and
# `ip -j addr` as they were; the daemon puts back a pvid taken off by
# hand; an empty section takes it all away. The
# host reads the results (tests/vm/test_aarch64_vm.py).
# needs: op-router

D=/vm/data/bridge-vlans
export OPROUTER_STATE_DIR=/tmp/bv/state OPROUTER_RUN_DIR=/tmp/bv/run OPROUTER_SECRETS=/tmp/bv/secrets.json
mkdir -p "$OPROUTER_STATE_DIR" "$OPROUTER_RUN_DIR"

in_ns() {
        _ns=$1
        shift
        ip netns exec "$_ns" "$@"
}

topology() {
        for n in a b c; do
                ip netns add "bv-$n" && in_ns "bv-$n" ip link set lo up || return 1
        done
        ip link add p1 type veth peer name a0 netns bv-a &&
        ip link add p2 type veth peer name b0 netns bv-b &&
        ip link add p3 type veth peer name c0 netns bv-c &&
        in_ns bv-a ip addr add 10.10.0.2/24 dev a0 && in_ns bv-a ip link set a0 up &&
        in_ns bv-a ip addr add 10.20.0.2/24 dev a0 &&
        in_ns bv-b ip link set b0 up &&
        in_ns bv-b ip link add link b0 name b0.10 type vlan id 10 &&
        in_ns bv-b ip link add link b0 name b0.20 type vlan id 20 &&
        in_ns bv-b ip addr add 10.10.0.3/24 dev b0.10 && in_ns bv-b ip link set b0.10 up &&
        in_ns bv-b ip addr add 10.20.0.3/24 dev b0.20 && in_ns bv-b ip link set b0.20 up &&
        in_ns bv-c ip link set c0 up &&
        in_ns bv-c ip link add link c0 name c0.30 type vlan id 30 &&
        in_ns bv-c ip addr add 10.30.0.3/24 dev c0.30 && in_ns bv-c ip link set c0.30 up &&
        ip -br link
}
check topology topology

check apply sandboxed_apply "$D/state.json" /tmp/bv
# one JSON document a line: bridge -j vlan show ends without a newline
vlans() {
        bridge -j vlan show && echo
}
check vlan-config vlans
check reapply op-router apply --json "$D/state.json"
check verify op-router verify "$D/state.json"

# tagged_ping NAME FROM DEST PORT...: pings DEST from the namespace FROM
# with a capture on each port (/tmp/PORT.cap)
tagged_ping() {
        _from=$1 _dest=$2
        shift 2
        for _p; do
                capture_on "$_p" || return 1
        done
        in_ns "$_from" ping -c 2 -W 5 "$_dest"
        _r=$?
        for _p; do
                capture_stop "$_p"
                echo "== $_p"
                grep "ICMP echo" "/tmp/$_p.cap"
        done
        return $_r
}
# across the bridge, VLAN 10: untagged on p1, tagged 10 on p2
check ping-vlan10 tagged_ping bv-a 10.10.0.3 p1 p2
# to the router's own br0.20 (the bridge itself tagged 20): tagged on p2
check ping-vlan20 tagged_ping bv-b 10.20.0.1 p2
# to p3.30, a VLAN link on a plain port: tagged 30 on p3
check ping-vlan30 tagged_ping bv-c 10.30.0.1 p3
# VLAN 20 is not on p1: a0's untagged frames are VLAN 10's, and b0.20
# (VLAN 20) does not hear them
check no-vlan20-on-p1 fails in_ns bv-a ping -c 2 -W 1 10.20.0.3

dumps() {
        vlans && ip -j link && ip -j addr
}
check dump-applied dumps
# The pvids change (p1 into VLAN 20, p2 tagged 30 too) and a failure is
# injected after the interfaces' apply: rolled back.
check fault-injected fails env OPROUTER_FAULT_INJECT=interfaces \
        op-router apply --json --allow-outage "$D/changed.json"
check dump-after-fault dumps
check apply-changed op-router apply --json --allow-outage "$D/changed.json"
check vlan-config-changed vlans
check rollback op-router rollback --json --allow-outage
check dump-after-rollback dumps

# Drift: under the daemon (op-router run, under the same filter), p1's
# pvid taken off by hand is back.
pvid_back() {
        bridge -j vlan show dev p1 | grep -q '"vlan":10,"flags":\["PVID","Egress Untagged"\]'
}
drift_pvid() {
        op-router run "$D/state.json" > /tmp/bv/daemon.log 2>&1 &
        _d=$!
        wait_for 20 grep -q "start: apply of" /tmp/bv/daemon.log &&
        pvid_back && bridge vlan del dev p1 vid 10 &&
        wait_for 10 pvid_back
        _r=$?
        bridge -j vlan show dev p1
        echo
        kill -TERM $_d
        wait $_d
        grep -E "start: apply of|Drift repaired" /tmp/bv/daemon.log
        return $_r
}
check drift-pvid drift_pvid

check remove op-router apply --json --allow-outage "$D/empty.json"
after_remove() {
        vlans && ip -br link
}
check after-remove after_remove

for n in a b c; do
        ip netns delete "bv-$n"
done
