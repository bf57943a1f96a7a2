# A dummy device as a declared link: dum0, made with Debian's ip (not
# op-router's), is declared in the interfaces section's links with an
# MTU, up and two addresses (/vm/data/dummy/state.json); op-router (the
# static program, under its seccomp filter) applies it; ip -j shows the
# addresses, the MTU and the state; a second apply writes nothing; an
# empty section takes the addresses away and leaves dum0, a dummy still,
# with its MTU and state. The host reads the results
# (tests/vm/test_aarch64_vm.py).
# needs: op-router

D=/vm/data/dummy
export OPROUTER_STATE_DIR=/tmp/dm/state OPROUTER_RUN_DIR=/tmp/dm/run OPROUTER_SECRETS=/tmp/dm/secrets.json
mkdir -p "$OPROUTER_STATE_DIR" "$OPROUTER_RUN_DIR"

check make-dummy ip link add dum0 type dummy

check apply sandboxed_apply "$D/state.json" /tmp/dm
check addr ip -j addr show dev dum0
check reapply op-router apply --json "$D/state.json"
check verify op-router verify "$D/state.json"
check remove op-router apply --json "$D/empty.json"
check after-remove ip -j -d addr show dev dum0
check remove-again op-router apply --json "$D/empty.json"
ip link del dum0
