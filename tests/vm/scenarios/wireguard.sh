# WireGuard made by op-router on the aarch64 kernel, under its seccomp
# filter: two namespaces, wg-a and wg-b, joined by a veth pair (the underlay,
# 172.31.1.1 and .2), each with a WireGuard interface op-router makes and
# configures from its own state directory and secrets file (keys from
# Debian's wg genkey). A handshake and a ping through the tunnel; a second
# apply writes nothing; adding a second peer to wga while a ping runs over
# the first loses no reply (one generic netlink message, no
# WGDEVICE_F_REPLACE_PEERS); removing it takes only it; a new private key
# is planned as a tunnel restart; query writes "<redacted>" and the
# checkpoints hold no key; a change of key, port and peers that fails is
# rolled back to the key, port and peers from before; the kill switch
# holds a guest VLAN's traffic to the tunnel op-router made (with the
# tunnel down, nothing of it leaves through the WAN); an empty section
# removes the link. Debian's wg
# is the oracle. The host reads the counts (tests/vm/test_aarch64_vm.py).
# needs: op-router

W=/tmp/wg
mkdir -p $W/a/state $W/a/run $W/b/state $W/b/run

# side a|b COMMAND...: op-router of that side, in its namespace
side() {
        _s=$1
        shift
        OPROUTER_STATE_DIR=$W/$_s/state OPROUTER_RUN_DIR=$W/$_s/run OPROUTER_SECRETS=$W/$_s/secrets.json \
                ip netns exec "wg-$_s" op-router "$@"
}

# state FILE IFNAME LISTEN ADDRESS PEERS: a state with one WireGuard interface
state() {
        printf '{"version": 1, "plugins": {"wireguard": {"interfaces": [{"name": "%s", "listen_port": %s, "mtu": 1420, "addresses": ["%s"], "private_key_secret": "%s", "peers": [%s]}]}}}\n' \
                "$2" "$3" "$4" "$5" "$6" > "$1"
}

# The state of wg-a as a router: VLAN 10 on lan5 (lan5.10, which
# op-router makes) a guest network whose traffic leaves only through wga
# (table 100 and the kill switch), u0 its WAN with the main table's
# default route; WireGuard's own packets come in through the WAN.
kill_switch_state() {
        cat <<KS
{"version": 1, "plugins": {
  "interfaces": {"links": [{"name": "lan5", "up": true}],
                 "vlans": [{"name": "lan5.10", "link": "lan5", "id": 10, "addresses": ["192.168.55.1/24"]}]},
  "wireguard": {"interfaces": [{"name": "wga", "listen_port": 51821, "mtu": 1420, "addresses": ["10.98.0.1/24"],
                                "private_key_secret": "wga", "peers": [$1]}]},
  "routes": {"routes": [{"to": "default", "via": "172.31.1.2"}, {"to": "default", "dev": "wga", "table": 100}],
             "rules": [{"priority": 100, "iif": "lan5.10", "table": 100}]},
  "firewall": {
    "zones": [{"name": "guest", "interfaces": ["lan5.10"]}, {"name": "wan", "interfaces": ["u0"]},
              {"name": "vpn", "interfaces": ["wga"]}],
    "forwardings": [{"from": "guest", "to": "vpn"}],
    "rules": [{"name": "wireguard", "from": "wan", "proto": "udp", "dest_port": 51821, "action": "accept"}],
    "kill_switch": [{"zone": "guest", "tunnel": "wga"}]}}}
KS
}

wg_topology() {
        ip netns add wg-a && ip netns add wg-b &&
        ip -n wg-a link set lo up && ip -n wg-b link set lo up &&
        ip -n wg-a link add u0 type veth peer name u1 netns wg-b &&
        ip -n wg-a addr add 172.31.1.1/30 dev u0 && ip -n wg-a link set u0 up &&
        ip -n wg-b addr add 172.31.1.2/30 dev u1 && ip -n wg-b link set u1 up &&
        wg genkey > $W/ka && wg pubkey < $W/ka > $W/pa &&
        wg genkey > $W/kb && wg pubkey < $W/kb > $W/pb &&
        wg genkey > $W/kc && wg pubkey < $W/kc > $W/pc &&
        wg genkey > $W/ka2 &&
        printf '{"wga": "%s", "wga-2": "%s"}\n' "$(cat $W/ka)" "$(cat $W/ka2)" > $W/a/secrets.json &&
        printf '{"wgb": "%s"}\n' "$(cat $W/kb)" > $W/b/secrets.json &&
        PEER_B="{\"public_key\": \"$(cat $W/pb)\", \"endpoint\": \"172.31.1.2:51822\", \"allowed_ips\": [\"10.98.0.2/32\", \"198.51.100.0/24\"]}" &&
        PEER_C="{\"public_key\": \"$(cat $W/pc)\", \"endpoint\": \"172.31.1.3:51823\", \"allowed_ips\": [\"10.98.0.3/32\"], \"persistent_keepalive\": 0}" &&
        PEER_A="{\"public_key\": \"$(cat $W/pa)\", \"endpoint\": \"172.31.1.1:51821\", \"allowed_ips\": [\"10.98.0.1/32\", \"192.168.55.0/24\"], \"persistent_keepalive\": 25}" &&
        state $W/a1.json wga 51821 10.98.0.1/24 wga "$PEER_B" &&
        state $W/a2.json wga 51821 10.98.0.1/24 wga "$PEER_B, $PEER_C" &&
        state $W/a-newkey.json wga 51821 10.98.0.1/24 wga-2 "$PEER_B" &&
        state $W/a-newkey-c.json wga 51822 10.98.0.1/24 wga-2 "$PEER_B, $PEER_C" &&
        state $W/b.json wgb 51822 10.98.0.2/24 wgb "$PEER_A" &&
        echo '{"version": 1, "plugins": {"wireguard": {"interfaces": []}}}' > $W/empty.json &&
        kill_switch_state "$PEER_B" > $W/a-ks.json &&
        ls -l $W/a/secrets.json
}
check wg-topology wg_topology

check wg-apply-a side a --json apply $W/a1.json
check wg-apply-b side b --json apply $W/b.json
check wg-show-a ip netns exec wg-a wg show wga
check wg-link-a ip -n wg-a -d link show wga

handshake() {
        wait_for 30 ip netns exec wg-a ping -c 1 -W 2 10.98.0.2 &&
        ip netns exec wg-a ping -c 3 -W 2 10.98.0.2 &&
        ip netns exec wg-a wg show wga latest-handshakes &&
        test "$(ip netns exec wg-a wg show wga latest-handshakes | awk '{print $2}')" != 0
}
check wg-handshake-ping handshake
check wg-reapply side a --json apply $W/a1.json
check wg-verify side a verify $W/a1.json

# what op-router shows and keeps names the secret, never the key
no_key_shown() {
        side a --json query > $W/query.json &&
        cat $W/query.json &&
        ! grep -F -q "$(cat $W/ka)" $W/query.json &&
        ! grep -r -F -q "$(cat $W/ka)" $W/a/state &&
        grep -q '"private_key_secret": *"<redacted>"' $W/query.json
}
check wg-query-names-secrets no_key_shown

# a ping over peer b runs while peer c is added: every reply comes back
add_peer() {
        ip netns exec wg-a ping -c 25 -i 0.2 -W 2 10.98.0.2 > $W/ping.out 2>&1 &
        _ping=$!
        sleep 1
        side a --json apply $W/a2.json
        _rc=$?
        wait $_ping
        echo "ping while a peer was added:"
        tail -n 3 $W/ping.out
        [ $_rc = 0 ] && grep -q "25 packets transmitted, 25 packets received" $W/ping.out
}
check wg-add-peer-without-loss add_peer
two_peers() {
        ip netns exec wg-a wg show wga allowed-ips &&
        test "$(ip netns exec wg-a wg show wga peers | wc -l)" = 2
}
check wg-two-peers two_peers

remove_peer() {
        side a --json apply $W/a1.json &&
        ip netns exec wg-a wg show wga peers &&
        test "$(ip netns exec wg-a wg show wga peers)" = "$(cat $W/pb)" &&
        ip netns exec wg-a ping -c 2 -W 2 10.98.0.2
}
check wg-remove-peer remove_peer
new_key_plan() {
        side a plan $W/a-newkey.json > $W/plan.out
        cat $W/plan.out
        grep -q "tunnel restart" $W/plan.out && ! grep -F -q "$(cat $W/ka2)" $W/plan.out
}
check wg-new-key-plan new_key_plan
# a change of key, port and peers that fails after the WireGuard phase:
# rolled back to the key (named by its secret in the snapshot), port and
# peers from before; the key is compared, never printed
fault_rolled_back() {
        OPROUTER_FAULT_INJECT=wireguard side a --json apply $W/a-newkey-c.json
        _rc=$?
        ip netns exec wg-a wg show wga private-key > $W/key-after
        [ $_rc != 0 ] && cmp -s $W/key-after $W/ka && echo "the private key is the one from before" &&
        ip netns exec wg-a wg show wga listen-port | grep -qx 51821 &&
        test "$(ip netns exec wg-a wg show wga peers)" = "$(cat $W/pb)" &&
        side a verify $W/a1.json
}
check wg-fault-rolled-back fault_rolled_back
# The kill switch over the tunnel op-router made, for a guest VLAN: a
# guest's ping to
# 198.51.100.1 (wg-b's, behind the tunnel and behind the WAN alike) goes
# through wga; with wga down, not one echo request leaves through the WAN
# (captured on wg-b's end of it), though the flow is established and the
# main table's default route leads there. Not masqueraded: the flow stays
# in conntrack when the tunnel goes.
ks_topology() {
        ip netns add wg-guest && ip -n wg-guest link set lo up &&
        ip -n wg-a link add lan5 type veth peer name g0 netns wg-guest &&
        ip -n wg-guest link set g0 up &&
        ip -n wg-guest link add link g0 name g0.10 type vlan id 10 &&
        ip -n wg-guest addr add 192.168.55.10/24 dev g0.10 && ip -n wg-guest link set g0.10 up &&
        ip -n wg-guest route add default via 192.168.55.1 &&
        ip netns exec wg-a sysctl -q -w net.ipv4.ip_forward=1 &&
        ip -n wg-b addr add 198.51.100.1/32 dev lo &&
        ip -n wg-b route add 192.168.55.0/24 dev wgb &&
        side a --json apply $W/a-ks.json
}
check wg-kill-switch-apply ks_topology
# the guest's frames reach the router tagged with VLAN 10, on lan5 (the
# guest zone's input policy drops them there: no reply is expected)
guest_vlan() {
        capture_on lan5 wg-a || return 1
        ip netns exec wg-guest ping -c 2 -W 1 192.168.55.1 > /dev/null
        capture_stop lan5 wg-a
        grep "ICMP echo" /tmp/wg-a-lan5.cap
        grep -q "vlan 10, .*192.168.55.10 > 192.168.55.1: ICMP echo request" /tmp/wg-a-lan5.cap
}
check wg-guest-vlan guest_vlan
kill_switch() {
        capture_on u1 wg-b || return 1
        ip netns exec wg-guest ping -c 60 -i 0.2 -W 1 198.51.100.1 > $W/ks-ping.out 2>&1 &
        _ping=$!
        wait_for 20 grep -q "bytes from" $W/ks-ping.out &&
        sleep 1 &&
        ip -n wg-a link set wga down || { kill $_ping; capture_stop u1 wg-b; return 1; }
        sleep 3
        capture_stop u1 wg-b
        kill $_ping && echo "the ping was still running"
        wait $_ping
        cat $W/ks-ping.out
        echo "echo requests through the WAN (u0), tunnel up or down:"
        grep "echo request" /tmp/wg-b-u1.cap
        echo "WireGuard packets through the WAN: $(grep -c "UDP" /tmp/wg-b-u1.cap)"
        ! grep -q "echo request" /tmp/wg-b-u1.cap &&
        grep -q "bytes from 198.51.100.1" $W/ks-ping.out
}
check wg-kill-switch kill_switch
check wg-removal-apply side a --json apply $W/empty.json
removed() {
        ip -n wg-a -br link
        ! ip -n wg-a link show wga 2> /dev/null
}
check wg-removed removed
