# The nftables batch against the aarch64 kernel: the static nft-driver
# (agent/lib/nft, libnftnl.a and agent/lib/mnl) applies the ruleset of
# /vm/data/nft-oracle.json; Debian's nft lists it. The same ruleset as
# text (/vm/data/nft-oracle.nft) is loaded with nft -f in a fresh
# namespace. The host compares the listings (tests/vm/test_aarch64_vm.py).
# /vm/data/nft-tables: "family name" per line.
# needs: nft-driver

list_tables() {
        while read -r family name; do
                nft -j list table "$family" "$name" || return 1
        done < /vm/data/nft-tables
}

check apply nft-driver apply /vm/data/nft-oracle.json
check listing-driver list_tables
check list-ruleset nft list ruleset
check plan-converged sh -c 'out=$(nft-driver plan /vm/data/nft-oracle.json) && echo "$out" && test -z "$out"'
check reapply nft-driver apply /vm/data/nft-oracle.json
# the same ruleset as text, loaded by nft -f in a fresh namespace
check listing-nft unshare -n sh -c 'ip link set lo up && nft -f /vm/data/nft-oracle.nft &&
        while read -r family name; do nft -j list table "$family" "$name" || exit 1; done < /vm/data/nft-tables'
