# The link kinds a router declares, on the aarch64 kernel: VLAN
# sub-interfaces, a bridge with VLAN filtering and per-port pvid/tagged
# VLANs carrying real frames, a dummy device, WireGuard with a handshake
# and a ping through the tunnel. Links are made with Debian's ip, bridge
# and wg (netlink-driver, socket networking's steps, creates none); the
# static netlink-driver (agent/lib/rtnl) sets their addresses, MTUs and
# state, reads their kind, and moves one into another namespace.
# needs: netlink-driver

# has_info IFNAME KEY=VALUE...: netlink-driver info shows each line
has_info() {
        _out=$(netlink-driver info 0 "$1") || return 1
        echo "$_out"
        shift
        for _kv; do
                echo "$_out" | grep -qx "$_kv" || { echo "no $_kv"; return 1; }
        done
}

vlan_subinterface() {
        ip link add d0 type dummy &&
        ip link add link d0 name d0.10 type vlan id 10 &&
        ip link set d0 up &&
        ip -d link show d0.10 | grep -q "vlan protocol 802.1Q id 10" &&
        test "$(netlink-driver configure 0 d0.10 - - 192.0.2.10/24 - 1400)" = changed &&
        test "$(netlink-driver configure 0 d0.10 - - 192.0.2.10/24 - 1400)" = unchanged &&
        has_info d0.10 kind=vlan mtu=1400 up=1 &&
        ip addr show d0.10 | grep -q "192.0.2.10/24"
}
check vlan-subinterface vlan_subinterface

# a -- [p1 tagged 30] br0 [p2 pvid 30 untagged] -- b
bridge_vlans() {
        ip netns add a && ip netns add b &&
        ip link add br0 type bridge vlan_filtering 1 &&
        ip link add p1 type veth peer name a1 netns a &&
        ip link add p2 type veth peer name b1 netns b &&
        ip link set p1 master br0 && ip link set p2 master br0 &&
        bridge vlan del dev p1 vid 1 && bridge vlan del dev p2 vid 1 &&
        bridge vlan add dev p1 vid 30 &&
        bridge vlan add dev p2 vid 30 pvid untagged &&
        ip link set br0 up && ip link set p1 up && ip link set p2 up &&
        ip -n a link set a1 up &&
        ip -n a link add link a1 name a1.30 type vlan id 30 &&
        ip netns exec a netlink-driver configure 0 a1.30 - - 10.30.0.1/24 - &&
        ip netns exec b netlink-driver configure 0 b1 - - 10.30.0.2/24 - &&
        ip -d link show br0 | grep -q "vlan_filtering 1" &&
        has_info br0 kind=bridge up=1 &&
        bridge vlan show
}
check bridge-vlan-filtering bridge_vlans
check bridge-vlan-config sh -c 'bridge -j vlan show dev p2 && bridge -j vlan show dev p1'
# frames tagged 30 on p1 leave p2 untagged, and back
check bridge-vlan-tagged-frames ip netns exec a ping -c 2 -W 5 10.30.0.2
# the frames themselves, captured on both ports: the echo requests carry
# the tag 30 on p1 and none on p2
tagged_frames() {
        capture_on p1 && capture_on p2 &&
        ip netns exec a ping -c 2 -W 5 10.30.0.2 > /dev/null
        r=$?
        capture_stop p1 && capture_stop p2
        grep "ICMP echo request" /tmp/p1.cap /tmp/p2.cap
        [ $r = 0 ] &&
        grep "ICMP echo request" /tmp/p1.cap | grep -q "ethertype 802.1Q (0x8100), length [0-9]*: vlan 30," &&
        grep -q "ICMP echo request" /tmp/p2.cap &&
        ! grep "ICMP echo request" /tmp/p2.cap | grep -q "802.1Q"
}
check bridge-vlan-captured-tags tagged_frames
# without VLAN 30 on p2 the bridge drops them
bridge_vlan_removed() {
        bridge vlan del dev p2 vid 30 &&
        ! ip netns exec a ping -c 2 -W 1 10.30.0.2
}
check bridge-vlan-filters bridge_vlan_removed

dummy_device() {
        ip link add d1 type dummy &&
        netlink-driver configure 0 d1 - 02:00:00:00:00:d1 198.18.0.1/24 - &&
        has_info d1 kind=dummy up=1 hwaddr=02:00:00:00:00:d1 &&
        ip addr show d1 | grep -q "198.18.0.1/24" &&
        test "$(netlink-driver delete 0 d1)" = deleted &&
        test "$(netlink-driver exists 0 d1)" = no
}
check dummy-device dummy_device

# agent/lib/rtnl, statically linked: configure a link and move it into the
# namespace of a process
rtnl_driver() {
        ip link add d2 type dummy &&
        netlink-driver configure 0 d2 - 02:00:00:00:00:22 198.51.100.2/24 - 1400 &&
        netlink-driver info 0 d2 &&
        netlink-driver info 0 d2 | grep -qx "mtu=1400" &&
        ip addr show d2 | grep -q "198.51.100.2/24" || return 1
        unshare -n sleep 60 &
        sleeper=$!
        sleep 0.5
        netlink-driver move d2 $sleeper &&
        test "$(netlink-driver find d2 $sleeper)" = target
        r=$?
        kill $sleeper
        return $r
}
check rtnl-driver rtnl_driver

wireguard_link() {
        ip link add wg0 type wireguard &&
        wg genkey > /tmp/wg0.key &&
        wg set wg0 private-key /tmp/wg0.key listen-port 51820 &&
        wg show wg0 &&
        netlink-driver configure 0 wg0 - - 10.98.0.1/24 - 1380 &&
        has_info wg0 kind=wireguard mtu=1380 up=1
}
check wireguard-link wireguard_link

# two namespaces, one WireGuard interface each, over a veth pair
wireguard_tunnel() {
        ip netns add wa && ip netns add wb &&
        ip -n wa link add u0 type veth peer name u1 netns wb &&
        ip -n wa addr add 172.31.0.1/30 dev u0 && ip -n wa link set u0 up &&
        ip -n wb addr add 172.31.0.2/30 dev u1 && ip -n wb link set u1 up &&
        wg genkey > /tmp/ka && wg pubkey < /tmp/ka > /tmp/pa &&
        wg genkey > /tmp/kb && wg pubkey < /tmp/kb > /tmp/pb &&
        ip -n wa link add wga type wireguard && ip -n wb link add wgb type wireguard &&
        ip netns exec wa wg set wga private-key /tmp/ka listen-port 51821 \
                peer "$(cat /tmp/pb)" endpoint 172.31.0.2:51822 allowed-ips 10.99.0.2/32 &&
        ip netns exec wb wg set wgb private-key /tmp/kb listen-port 51822 \
                peer "$(cat /tmp/pa)" endpoint 172.31.0.1:51821 allowed-ips 10.99.0.1/32 &&
        ip netns exec wa netlink-driver configure 0 wga - - 10.99.0.1/24 - &&
        ip netns exec wb netlink-driver configure 0 wgb - - 10.99.0.2/24 - &&
        wait_for 30 ip netns exec wa ping -c 1 -W 2 10.99.0.2 &&
        ip netns exec wa wg show wga latest-handshakes &&
        test "$(ip netns exec wa wg show wga latest-handshakes | awk '{print $2}')" != 0
}
check wireguard-tunnel wireguard_tunnel
