#!/bin/bash
# SPDX-License-Identifier: LGPL-2.1-or-later
#
# Sets up op-dbus on a Debian 12 / Proxmox VE node: installs the build and
# runtime dependencies from Debian's packages, builds op-dbus in
# build-release/, installs the binary, the systemd unit, the D-Bus policy and
# activation file and the tmpfiles.d and sysusers.d snippets (meson install),
# writes /etc/op-dbus/state.json for the chosen deployment mode and starts
# op-dbus. docs/install.md describes every step and option.

set -euo pipefail

ROOT=$(cd "$(dirname "${BASH_SOURCE[0]}")" && pwd)
BUILD=$ROOT/build-release
MODES="full|standalone|privacy-client|privacy-vps|agent"

PREFIX=/usr/local
PREFIX_GIVEN=0
DESTDIR=
DEPS=1
MODE=
PROFILE=
PROFILE_GIVEN=0
SETS=()
YES=0
FORCE=0
KEEP_STATE=0
UNINSTALL=0

# Set while running.
STATE_DIR=        # DESTDIR/etc/op-dbus
STATE=            # its state.json
RECORD=           # DESTDIR/var/lib/op-dbus/install-profile: the profile
                  # the state file stands for ("(empty)": agent's state)
BIN=              # the installed op-dbus
FILES=()          # what meson installs, absolute paths without DESTDIR
FILES_CHANGED=0   # 1: meson install changed an installed file
STATE_WRITTEN=0   # 1: this run wrote the state file
CLEANUP=          # a temporary file to remove on exit

usage() {
        cat <<EOF
Usage: sudo ./install.sh [--mode MODE] [OPTIONS]
       sudo ./install.sh --uninstall [OPTIONS]

Installs op-dbus, writes /etc/op-dbus/state.json for MODE and starts it.
Without --mode, asks for the mode (standard input must be a terminal).

  --mode MODE       full, standalone, privacy-client, privacy-vps or agent
  --profile NAME    write the state from profile NAME instead of the mode's
                    (any profile 'op-dbus init' knows)
  --set KEY=VALUE   fill in a placeholder of the profile (repeatable; passed
                    to 'op-dbus init --set')
  --yes             ask no questions
  --force           replace an existing state.json (the old one is kept as
                    state.json.bak.TIMESTAMP)
  --keep-state      keep an existing state.json made for another mode
  --prefix DIR      installation prefix (default /usr/local)
  --destdir DIR     stage the installation below DIR (packaging, tests):
                    nothing is started, applied or reloaded
  --no-deps         do not install Debian packages
  --uninstall       remove the installed files; keeps /etc/op-dbus and
                    /var/lib/op-dbus (state files and checkpoints)
  -h, --help        this text
EOF
}

die() { echo "install.sh: $*" >&2; exit 1; }
warn() { echo "install.sh: warning: $*" >&2; }
say() { echo "==> $*"; }

# Runs a command quietly; shows its output only when it fails.
quiet() {
        local out
        if ! out=$("$@" 2>&1); then
                printf '%s\n' "$out" >&2
                die "failed: $*"
        fi
}

have_systemd() { [ -d /run/systemd/system ]; }

# Where the D-Bus system bus is, as sd-bus (op-dbus run) looks for it.
SYSTEM_BUS_DEFAULT=unix:path=/run/dbus/system_bus_socket
system_bus_address() { echo "${DBUS_SYSTEM_BUS_ADDRESS:-$SYSTEM_BUS_DEFAULT}"; }

# 0 when a system bus answers there (op-dbus run needs one).
have_system_bus() {
        if command -v busctl >/dev/null; then
                busctl --system --timeout=5 call org.freedesktop.DBus /org/freedesktop/DBus \
                        org.freedesktop.DBus GetId >/dev/null 2>&1
        elif command -v dbus-send >/dev/null; then
                dbus-send --system --print-reply --dest=org.freedesktop.DBus /org/freedesktop/DBus \
                        org.freedesktop.DBus.GetId >/dev/null 2>&1
        else
                return 1
        fi
}

# Before telling the operator to run the daemon by hand: is there a system
# bus for it, and if not, how to get one.
system_bus_advice() {
        local where
        where=$(system_bus_address)
        if [ -n "${DBUS_SYSTEM_BUS_ADDRESS:-}" ]; then
                where="$where (from \$DBUS_SYSTEM_BUS_ADDRESS)"
        fi
        if have_system_bus; then
                say "the D-Bus system bus answers at $where"
                return 0
        fi
        say "no D-Bus system bus answers at $where: 'op-dbus run' (the daemon) cannot start without one; start it:"
        if ! command -v dbus-daemon >/dev/null; then
                echo "      apt-get install dbus                      # the system bus"
        fi
        echo "      mkdir -p /run/dbus && dbus-daemon --system   # start the system bus"
        return 1
}

while [ $# -gt 0 ]; do
        case "$1" in
        --mode) MODE=${2:?--mode needs one of $MODES}; shift 2 ;;
        --mode=*) MODE=${1#*=}; shift ;;
        --profile) PROFILE=${2:?--profile needs a name}; PROFILE_GIVEN=1; shift 2 ;;
        --profile=*) PROFILE=${1#*=}; PROFILE_GIVEN=1; shift ;;
        --set) SETS+=(--set "${2:?--set needs KEY=VALUE}"); shift 2 ;;
        --set=*) SETS+=(--set "${1#*=}"); shift ;;
        --yes|-y) YES=1; shift ;;
        --force) FORCE=1; shift ;;
        --keep-state) KEEP_STATE=1; shift ;;
        --prefix) PREFIX=${2:?--prefix needs a directory}; PREFIX_GIVEN=1; shift 2 ;;
        --prefix=*) PREFIX=${1#*=}; PREFIX_GIVEN=1; shift ;;
        --destdir) DESTDIR=${2:?--destdir needs a directory}; shift 2 ;;
        --destdir=*) DESTDIR=${1#*=}; shift ;;
        --no-deps) DEPS=0; shift ;;
        --uninstall) UNINSTALL=1; shift ;;
        -h|--help) usage; exit 0 ;;
        *) die "unknown option '$1' (see --help)" ;;
        esac
done

[ "$(id -u)" -eq 0 ] || [ -n "$DESTDIR" ] || die "run as root (sudo ./install.sh)"
[ "$FORCE" -eq 0 ] || [ "$KEEP_STATE" -eq 0 ] || die "--force replaces the state file, --keep-state keeps it: not both"
case "$PREFIX" in /*) ;; *) die "--prefix must be an absolute path" ;; esac

BUILT_BIN=$BUILD/agent/op-dbus/op-dbus

trap 'rm -f "$CLEANUP"' EXIT

# ---- questions ------------------------------------------------------------

choose_mode() {
        local choice
        if [ -z "$MODE" ]; then
                [ "$YES" -eq 0 ] || die "--yes needs --mode ($MODES)"
                [ -t 0 ] || die "no --mode given and standard input is not a terminal: pass --mode $MODES"
                echo "Select deployment mode:"
                echo ""
                echo "  [1] Full (Proxmox) - All features"
                echo "  [2] Standalone - OVS + Flows only (no containers)"
                echo "  [3] Privacy Client - WireGuard + Warp + XRay Client"
                echo "  [4] Privacy VPS - XRay Server only"
                echo "  [5] Agent - Minimal (D-Bus plugins only)"
                echo ""
                read -r -p "Enter mode [1-5]: " choice || choice=
                case "$choice" in
                1) MODE=full ;;
                2) MODE=standalone ;;
                3) MODE=privacy-client ;;
                4) MODE=privacy-vps ;;
                5) MODE=agent ;;
                *) echo "Invalid selection" >&2; exit 1 ;;
                esac
        fi
        # The profile each mode starts from; agent starts from an empty state.
        case "$MODE" in
        full|standalone) [ "$PROFILE_GIVEN" -eq 1 ] || PROFILE=none ;;
        privacy-client|privacy-vps) [ "$PROFILE_GIVEN" -eq 1 ] || PROFILE=$MODE ;;
        agent) ;;
        *) die "unknown mode '$MODE' (one of $MODES)" ;;
        esac
}

# What the state file is made from, for messages.
state_source() {
        if [ -n "$PROFILE" ]; then echo "the '$PROFILE' profile"; else echo "an empty state"; fi
}

# The name recorded for it in RECORD.
state_kind() {
        if [ -n "$PROFILE" ]; then echo "$PROFILE"; else echo "(empty)"; fi
}

# Asks before changing the host, unless --yes, --destdir or no terminal.
confirm() {
        local answer
        if [ "$YES" -eq 1 ] || [ -n "$DESTDIR" ] || [ ! -t 0 ]; then
                return 0
        fi
        read -r -p "$1 [Y/n] " answer || answer=n
        case "$answer" in
        ""|y|Y|yes|Yes|YES) ;;
        *) die "cancelled; nothing was changed" ;;
        esac
}

# ---- build and install ----------------------------------------------------

# Packages needed to build and run op-dbus: the compiler and meson, json-c
# and libsystemd (sd-bus, sd-daemon), systemd.pc and dbus-1.pc (where the
# unit and the D-Bus files go), the system bus and Open vSwitch.
PACKAGES=(meson ninja-build pkg-config gcc libc6-dev python3 libjson-c-dev
          libsystemd-dev libdbus-1-dev systemd dbus
          libcurl4-openssl-dev ca-certificates libnl-3-dev
          openvswitch-switch openvswitch-common)

install_deps() {
        local missing=() p
        for p in "${PACKAGES[@]}"; do
                dpkg-query -W -f='${Status}' "$p" 2>/dev/null | grep -q "install ok installed" || missing+=("$p")
        done
        if [ ${#missing[@]} -eq 0 ]; then
                say "dependencies already installed"
                return
        fi
        say "installing ${missing[*]}"
        apt-get update -qq
        DEBIAN_FRONTEND=noninteractive apt-get install -y -qq --no-install-recommends "${missing[@]}"
}

# Configures build-release/ for PREFIX (reconfigure: keep its other options).
# The host product only: the router program is for routers (docs/router.md).
configure() {
        if [ -f "$BUILD/build.ninja" ]; then
                quiet meson setup --reconfigure "$BUILD" --prefix "$PREFIX" -Drouter=false
        else
                quiet meson setup "$BUILD" --prefix "$PREFIX" --buildtype=release -Db_ndebug=true -Drouter=false
        fi
}

# The files `meson install` installs, from the configured build directory.
list_installed_files() {
        mapfile -t FILES < <(meson introspect "$BUILD" --installed |
                python3 -c 'import json, sys; print("\n".join(sorted(json.load(sys.stdin).values())))')
        [ ${#FILES[@]} -gt 0 ] || die "meson lists no installed files in $BUILD"
}

# The installed file (below DESTDIR) that ends with $1, if meson installs one.
installed() {
        local f
        for f in "${FILES[@]}"; do
                case "$f" in */"$1") echo "$DESTDIR$f"; return 0 ;; esac
        done
        return 1
}

# Mode and checksum of every installed file that exists.
fingerprint() {
        local f
        for f in "${FILES[@]}"; do
                [ -e "$DESTDIR$f" ] || continue
                printf '%s %s\n' "$(stat -c %a "$DESTDIR$f")" "$(sha256sum <"$DESTDIR$f")"
        done
}

build() {
        say "building op-dbus in $BUILD"
        configure
        quiet ninja -C "$BUILD"
}

# Fails early, before anything is installed, when the profile or a --set is
# unknown to this op-dbus.
check_profile() {
        local err profiles
        if [ -z "$PROFILE" ]; then
                [ ${#SETS[@]} -eq 0 ] || die "--set fills in a profile; mode $MODE has none (see --profile)"
                return 0
        fi
        if ! err=$("$BUILT_BIN" init --profile "$PROFILE" "${SETS[@]}" 2>&1 >/dev/null); then
                profiles=$("$BUILT_BIN" --help 2>/dev/null | sed -n 's/.*(profiles: \(.*\))$/\1/p')
                printf '%s\n' "$err" >&2
                die "cannot make a state from profile '$PROFILE' (this op-dbus has: ${profiles:-see op-dbus --help})"
        fi
}

install_files() {
        local before args=(-C "$BUILD" --no-rebuild)
        [ -z "$DESTDIR" ] || args+=(--destdir "$DESTDIR")
        list_installed_files
        before=$(fingerprint)
        say "installing into ${DESTDIR:-/} (prefix $PREFIX)"
        quiet meson install "${args[@]}"
        [ "$before" = "$(fingerprint)" ] || FILES_CHANGED=1
        local f
        for f in "${FILES[@]}"; do echo "    $DESTDIR$f"; done
}

# Creates the group (sysusers.d) and directories (tmpfiles.d) now rather than
# at the next boot, makes systemd read the unit and dbus-daemon the policy.
activate_files() {
        local f
        if f=$(installed sysusers.d/op-dbus.conf); then
                if command -v systemd-sysusers >/dev/null; then
                        quiet systemd-sysusers "$f"
                elif ! getent group opdbus >/dev/null; then
                        quiet groupadd --system opdbus
                fi
        fi
        if f=$(installed tmpfiles.d/op-dbus.conf) && command -v systemd-tmpfiles >/dev/null; then
                quiet systemd-tmpfiles --create "$f"
        fi
        reload_managers
}

reload_managers() {
        if have_systemd; then
                systemctl daemon-reload
                if systemctl is-active --quiet dbus.service; then
                        systemctl reload dbus.service
                fi
        elif command -v dbus-send >/dev/null && have_system_bus; then
                dbus-send --system --type=method_call --dest=org.freedesktop.DBus \
                        /org/freedesktop/DBus org.freedesktop.DBus.ReloadConfig ||
                        warn "could not make dbus-daemon reload its configuration"
        fi
}

# ---- the state file -------------------------------------------------------

# Prints the state for the mode: the profile, or an empty state. $1: the
# op-dbus binary to ask.
generate_state() {
        if [ -n "$PROFILE" ]; then
                "$1" init --profile "$PROFILE" "${SETS[@]}"
        else
                printf '{\n  "version": 1,\n  "plugins": {}\n}\n'
        fi
}

# Before anything is installed: an existing state file that was made for
# another mode is neither kept without a word nor replaced without --force.
# It was made for this one when RECORD says so, or (no record: written by
# hand or by an older install.sh) when it is exactly what the mode writes.
check_existing_state() {
        local recorded= generated=
        [ -e "$STATE" ] && [ "$FORCE" -eq 0 ] && [ "$KEEP_STATE" -eq 0 ] || return 0
        if [ -f "$RECORD" ]; then
                recorded=$(cat "$RECORD")
                [ "$recorded" != "$(state_kind)" ] || return 0
        elif generated=$(generate_state "$BUILT_BIN" 2>/dev/null) && [ "$generated" = "$(cat "$STATE")" ]; then
                return 0
        fi
        if [ "$recorded" = "(empty)" ]; then
                echo "install.sh: $STATE exists and was written from an empty state; mode $MODE writes $(state_source)." >&2
        elif [ -n "$recorded" ]; then
                echo "install.sh: $STATE exists and was written from the '$recorded' profile; mode $MODE writes $(state_source)." >&2
        else
                echo "install.sh: $STATE exists and is not $(state_source), which mode $MODE writes." >&2
        fi
        echo "install.sh: nothing was installed, and the state file is unchanged. Run install.sh again with:" >&2
        echo "    --force        to replace it with $(state_source) (the old file is kept as $STATE.bak.TIMESTAMP)" >&2
        echo "    --keep-state   to keep it as it is for mode $MODE" >&2
        exit 1
}

write_state() {
        local new err base backup n=1
        install -d -m 0755 "$STATE_DIR"
        install -d -m 0700 "$DESTDIR/var/lib/op-dbus"
        if [ -e "$STATE" ] && [ "$FORCE" -eq 0 ]; then
                say "keeping the existing $STATE (--force replaces it with $(state_source))"
                [ ${#SETS[@]} -eq 0 ] || warn "--set applies to a new state file only; it was ignored"
                record_state
                return
        fi
        new=$(mktemp "$STATE_DIR/.state.json.XXXXXX")   # mode 0600
        CLEANUP=$new
        if ! err=$(generate_state "$BIN" 2>&1 >"$new"); then
                printf '%s\n' "$err" >&2
                die "could not write the state from $(state_source)"
        fi
        if [ -e "$STATE" ]; then
                if cmp -s "$new" "$STATE"; then
                        rm -f "$new"
                        say "$STATE already is $(state_source); kept"
                        record_state
                        return
                fi
                base=$STATE.bak.$(date +%Y%m%d-%H%M%S)
                backup=$base
                while [ -e "$backup" ]; do backup=$base.$n; n=$((n + 1)); done
                cp -p "$STATE" "$backup"
                say "backed up the old state file to $backup"
        fi
        mv -f "$new" "$STATE"
        CLEANUP=
        STATE_WRITTEN=1
        record_state
        say "wrote $STATE from $(state_source)"
        # What init has to say (a generated VMess id, for example).
        if [ -n "$err" ]; then printf '%s\n' "$err" | sed 's/^/      /'; fi
}

# Remembers which profile the state file stands for (check_existing_state).
record_state() {
        [ "$(cat "$RECORD" 2>/dev/null)" = "$(state_kind)" ] || echo "$(state_kind)" >"$RECORD"
}

# Prints what to run once the state file is complete.
next_steps() {
        echo "==> then run:"
        echo "      op-dbus validate /etc/op-dbus/state.json"
        if [ -z "$DESTDIR" ] && have_systemd && systemctl is-active --quiet op-dbus.service; then
                echo "      systemctl reload op-dbus     # it runs, with the state it applied last"
        elif [ -n "$DESTDIR" ] || have_systemd; then
                echo "      systemctl enable --now op-dbus     # systemd: the daemon applies the state"
        fi
        if [ -n "$DESTDIR" ] || ! have_systemd; then
                echo "      op-dbus apply /etc/op-dbus/state.json"
                echo "      op-dbus run --state /etc/op-dbus/state.json     # the daemon (needs the D-Bus system bus)"
        fi
        if [ -z "$DESTDIR" ] && ! have_systemd; then
                system_bus_advice || true
        fi
}

# 0: the state file is ready to apply. 1: it still has placeholders (printed
# with what to put there). Any other problem ends the installation.
check_state() {
        local out rc=0
        out=$("$BIN" validate "$STATE" 2>&1) || rc=$?
        out=$(printf '%s\n' "$out")
        [ "$rc" -ne 0 ] || return 0
        if [ "$rc" -eq 2 ] && printf '%s\n' "$out" | grep -q placeholder; then
                say "$STATE still contains placeholders; replace each with a real value:"
                printf '%s\n' "$out" | sed 's/^/      /'
                next_steps
                return 1
        fi
        printf '%s\n' "$out" >&2
        die "$STATE is not a valid state (exit $rc); fix it, or use --force to replace it"
}

# ---- starting -------------------------------------------------------------

ensure_ovs() {
        if ovsdb-client --timeout=5 list-dbs >/dev/null 2>&1; then
                say "Open vSwitch is running"
        elif have_systemd; then
                say "starting openvswitch-switch.service"
                systemctl enable --now openvswitch-switch.service
        else
                say "starting Open vSwitch with ovs-ctl (systemd is not running this machine)"
                /usr/share/openvswitch/scripts/ovs-ctl start --system-id=random
        fi
}

start_service() {
        local out
        systemctl enable --quiet op-dbus.service
        if ! systemctl is-active --quiet op-dbus.service; then
                say "starting op-dbus.service (it applies $STATE)"
                systemctl start op-dbus.service
        elif [ "$FILES_CHANGED" -eq 1 ]; then
                say "restarting op-dbus.service (its files changed)"
                systemctl restart op-dbus.service
        elif [ "$STATE_WRITTEN" -eq 1 ]; then
                say "reloading op-dbus.service (new state file)"
                systemctl reload op-dbus.service
                say "done: 'systemctl status op-dbus' shows the result"
                return
        else
                say "op-dbus.service is running; nothing changed"
        fi
        if ! out=$("$BIN" verify "$STATE" 2>&1); then
                printf '%s\n' "$out" >&2
                die "the host does not match $STATE yet: see 'journalctl -u op-dbus'"
        fi
        say "done: the host matches $STATE ('systemctl status op-dbus', 'op-dbus query')"
}

apply_once() {
        if [ "$MODE" = agent ]; then
                say "agent mode: nothing to apply"
        else
                ensure_ovs
                say "applying $STATE"
                "$BIN" apply "$STATE"
        fi
        if system_bus_advice; then
                say "systemd is not running this machine: start the daemon yourself:"
        else
                say "systemd is not running this machine: once the system bus runs, start the daemon yourself:"
        fi
        echo "      op-dbus run --state /etc/op-dbus/state.json"
}

# ---- uninstall ------------------------------------------------------------

# Removes DESTDIR's directories that the removal left empty.
prune_destdir() {
        local f d
        for f in "${FILES[@]}"; do
                d=$(dirname "$DESTDIR$f")
                while [ "$d" != "$DESTDIR" ] && rmdir "$d" 2>/dev/null; do
                        d=$(dirname "$d")
                done
        done
}

uninstall() {
        local f unit removed=0
        confirm "Remove op-dbus's installed files (state and checkpoints are kept)?"
        # Without --prefix: the prefix build-release/ is configured with, that
        # is the one of the last installation.
        if [ ! -f "$BUILD/build.ninja" ] || [ "$PREFIX_GIVEN" -eq 1 ]; then
                configure
        fi
        list_installed_files
        if [ -z "$DESTDIR" ] && have_systemd && unit=$(installed op-dbus.service) && [ -e "$unit" ]; then
                say "stopping and disabling op-dbus.service"
                systemctl disable --now --quiet op-dbus.service || warn "could not stop op-dbus.service"
        fi
        for f in "${FILES[@]}"; do
                if [ -e "$DESTDIR$f" ] || [ -L "$DESTDIR$f" ]; then
                        rm -f "$DESTDIR$f"
                        echo "    removed $DESTDIR$f"
                        removed=$((removed + 1))
                fi
        done
        if [ -n "$DESTDIR" ]; then
                prune_destdir
        else
                reload_managers
        fi
        say "removed $removed files; kept $DESTDIR/etc/op-dbus and $DESTDIR/var/lib/op-dbus (state, checkpoints)"
        if [ -z "$DESTDIR" ]; then
                say "the system group opdbus is kept (groupdel opdbus removes it)"
                have_systemd || say "stop 'op-dbus run' if you started it"
        fi
}

# ---- main -----------------------------------------------------------------

# Makes DESTDIR absolute (meson and the messages want it so).
use_destdir() {
        [ -n "$DESTDIR" ] || return 0
        if [ "$UNINSTALL" -eq 1 ]; then
                [ -d "$DESTDIR" ] || die "--destdir $DESTDIR does not exist"
        else
                mkdir -p "$DESTDIR"
        fi
        DESTDIR=$(cd "$DESTDIR" && pwd)
}

# A node with the Debian package: the package owns op-dbus's files there
# (the unit, the D-Bus policy, ...), and one installation path at a time
# is what keeps upgrades and removal right (docs/install.md).
package_installed() {
        command -v dpkg-query >/dev/null &&
                dpkg-query -W -f='${Status}' op-dbus 2>/dev/null | grep -q "install ok installed"
}
if [ -z "$DESTDIR" ] && package_installed; then
        die "the Debian package op-dbus is installed here (dpkg -l op-dbus), and it owns op-dbus's files: upgrade it with apt-get, or remove it (apt-get remove op-dbus) before installing from the source tree"
fi

if [ "$UNINSTALL" -eq 1 ]; then
        use_destdir
        uninstall
        exit 0
fi

choose_mode
use_destdir
STATE_DIR=$DESTDIR/etc/op-dbus
STATE=$STATE_DIR/state.json
RECORD=$DESTDIR/var/lib/op-dbus/install-profile
BIN=$DESTDIR$PREFIX/sbin/op-dbus
if [ "$MODE" = full ] && [ -z "$DESTDIR" ] && ! command -v pct >/dev/null; then
        warn "no 'pct' here: this is not a Proxmox VE node; containers would be managed with the plain LXC tools"
fi
if have_systemd; then
        confirm "Install op-dbus (mode $MODE, state from $(state_source)) into $PREFIX and start op-dbus.service?"
else
        confirm "Install op-dbus (mode $MODE, state from $(state_source)) into $PREFIX and apply the state?"
fi

if [ "$DEPS" -eq 1 ]; then install_deps; fi
build
check_profile
check_existing_state
install_files
write_state

if [ -n "$DESTDIR" ]; then
        check_state || true
        say "staged in $DESTDIR; nothing started or applied"
        exit 0
fi

activate_files
if ! check_state; then
        if have_systemd && systemctl is-active --quiet op-dbus.service; then
                say "op-dbus is installed; this state file was not applied (op-dbus.service runs with the state it applied last)"
        else
                say "op-dbus is installed; it was not started, nothing was applied"
        fi
        exit 0
fi
if have_systemd; then
        [ "$MODE" = agent ] || ensure_ovs
        start_service
else
        apply_once
fi
