#!/bin/bash
# SPDX-License-Identifier: LGPL-2.1-or-later
#
# Sets up op-dbus on a Debian 12 / Proxmox VE node:
#   1. installs build and runtime dependencies from Debian's packages,
#   2. builds op-dbus and installs it,
#   3. makes sure Open vSwitch runs (the openvswitch-switch service when
#      systemd runs the machine, otherwise OVS's own ovs-ctl),
#   4. writes /etc/op-dbus/state.json from the "none" profile (one ovsbr0
#      bridge) unless the file exists, and applies it.
#
# Usage: sudo ./install.sh [--prefix DIR] [--destdir DIR] [--no-deps]
#   --prefix DIR   installation prefix (default /usr/local)
#   --destdir DIR  stage the installation below DIR (packaging, tests): no
#                  service is started and nothing is applied
#   --no-deps      do not install Debian packages
set -euo pipefail

ROOT=$(cd "$(dirname "${BASH_SOURCE[0]}")" && pwd)
PREFIX=/usr/local
DESTDIR=
DEPS=1

die() { echo "install.sh: $*" >&2; exit 1; }
say() { echo "==> $*"; }

while [ $# -gt 0 ]; do
        case "$1" in
        --prefix) PREFIX=${2:?--prefix needs a directory}; shift 2 ;;
        --prefix=*) PREFIX=${1#*=}; shift ;;
        --destdir) DESTDIR=${2:?--destdir needs a directory}; shift 2 ;;
        --destdir=*) DESTDIR=${1#*=}; shift ;;
        --no-deps) DEPS=0; shift ;;
        -h|--help) sed -n '3,18p' "$0" | sed 's/^# \{0,1\}//'; exit 0 ;;
        *) die "unknown option '$1' (see --help)" ;;
        esac
done

[ "$(id -u)" -eq 0 ] || [ -n "$DESTDIR" ] || die "run as root (sudo ./install.sh)"

# Packages needed to build and run op-dbus.
PACKAGES=(meson ninja-build pkg-config gcc libc6-dev python3 libjson-c-dev
          openvswitch-switch openvswitch-common)

install_deps() {
        local missing=()
        for p in "${PACKAGES[@]}"; do
                dpkg-query -W -f='${Status}' "$p" 2>/dev/null | grep -q "install ok installed" || missing+=("$p")
        done
        [ ${#missing[@]} -eq 0 ] && { say "dependencies already installed"; return; }
        say "installing ${missing[*]}"
        apt-get update -qq
        DEBIAN_FRONTEND=noninteractive apt-get install -y -qq --no-install-recommends "${missing[@]}"
}

build_and_install() {
        local build="$ROOT/build-release"
        say "building op-dbus"
        if [ -f "$build/build.ninja" ]; then
                meson configure "$build" --prefix "$PREFIX" >/dev/null
        else
                meson setup "$build" --prefix "$PREFIX" --buildtype=release -Db_ndebug=true >/dev/null
        fi
        ninja -C "$build" >/dev/null
        say "installing into ${DESTDIR:-/}${PREFIX}"
        if [ -n "$DESTDIR" ]; then
                meson install -C "$build" --destdir "$DESTDIR" --no-rebuild >/dev/null
        else
                meson install -C "$build" --no-rebuild >/dev/null
        fi
}

ensure_ovs() {
        if ovs-vsctl --timeout=5 show >/dev/null 2>&1; then
                say "Open vSwitch is running"
        elif [ -d /run/systemd/system ]; then
                say "starting openvswitch-switch.service"
                systemctl enable --now openvswitch-switch.service
        else
                say "starting Open vSwitch with ovs-ctl (systemd is not running this machine)"
                /usr/share/openvswitch/scripts/ovs-ctl start --system-id=random
        fi
}

write_state() {
        local etc="$DESTDIR/etc/op-dbus" bin="$DESTDIR$PREFIX/sbin/op-dbus"
        install -d -m 0755 "$etc"
        install -d -m 0700 "$DESTDIR/var/lib/op-dbus"
        if [ -e "$etc/state.json" ]; then
                say "keeping the existing $etc/state.json"
        else
                "$bin" init --profile none -o "$etc/state.json"
                say "wrote $etc/state.json from the 'none' profile"
        fi
}

[ "$DEPS" -eq 1 ] && install_deps
build_and_install
write_state

if [ -n "$DESTDIR" ]; then
        say "staged in $DESTDIR; nothing started or applied"
        exit 0
fi

ensure_ovs
say "applying /etc/op-dbus/state.json"
"$PREFIX/sbin/op-dbus" apply /etc/op-dbus/state.json
say "done: 'op-dbus query' shows what op-dbus manages"
