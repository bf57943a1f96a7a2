# The seccomp sandbox (agent/lib/sandbox) on the aarch64 kernel: the
# static sandbox-driver loads the built-in filter; a killed call ends it
# with SIGSYS (exit status 159 in the shell), a call outside the list
# fails with EPERM, each of them runs without the filter; the link dump
# and the state file (fsync, rename, lock) work under it; the static
# nft-driver applies the ruleset of every expression kind under the
# filter, nft lists it as the unfiltered apply of the same ruleset in a
# fresh namespace, and a re-apply sends nothing. The host compares the
# outputs (tests/vm/test_aarch64_vm.py).
# needs: sandbox-driver nft-driver netlink-driver

# killed: the status of the driver, which must be 159 (128 + SIGSYS)
killed() {
        sandbox-driver try "$1"
        echo "status $?"
}

check status sandbox-driver status
check size sandbox-driver size
for call in execve execveat ptrace mount umount2 chroot pivot_root swapon bpf keyctl reboot init_module delete_module; do
        check "killed-$call" killed "$call"
done
check unfiltered-calls sandbox-driver --no-sandbox try execveat ptrace mount umount2 chroot pivot_root swapon bpf keyctl reboot delete_module fork unshare setns
check unfiltered-execve sandbox-driver --no-sandbox try execve
check refused sandbox-driver try fork unshare setns
ip link add sc-a type veth peer name sc-b
check work sandbox-driver work /tmp/sandbox-work
check work-unfiltered sandbox-driver --no-sandbox work /tmp/sandbox-free
check netlink-configure netlink-driver --sandbox configure 0 sc-a - - 192.0.2.1/24 - 1400
check netlink-info netlink-driver --sandbox info 0 sc-a
check nft-apply nft-driver --sandbox apply /vm/data/nft-oracle.json
check nft-reapply nft-driver --sandbox apply /vm/data/nft-oracle.json
check nft-listing sh -c 'while read -r family name; do nft -j list table "$family" "$name" || exit 1; done < /vm/data/nft-tables'
check nft-listing-unfiltered unshare -n sh -c 'ip link set lo up && nft-driver apply /vm/data/nft-oracle.json > /dev/null &&
        while read -r family name; do nft -j list table "$family" "$name" || exit 1; done < /vm/data/nft-tables'
