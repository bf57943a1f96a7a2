#!/bin/bash
# SPDX-License-Identifier: LGPL-2.1-or-later
#
# Install what the aarch64 builds and the aarch64 virtual machine need
# (docs/router.md, "On the Flint 2 and in the aarch64 VM"):
#   - the cross compiler and qemu (user and system emulation), for amd64;
#   - the :arm64 development packages the static aarch64 build links:
#     json-c, libnl-3, libnl-route-3, libnl-genl-3, libnftnl, libmnl (its
#     headers; the static link uses agent/lib/mnl), libseccomp, and
#     pkgconf:arm64 for aarch64-linux-gnu-pkg-config.
# The packages the virtual machine boots (Debian's arm64 kernel, busybox,
# nftables, iproute2, wireguard-tools) are not installed:
# tests/vm/aarch64vm.py downloads them (apt-get download) and extracts
# them into build-vm-aarch64/.
#
# Idempotent: when everything is installed this runs dpkg-query only.
# Otherwise it adds the arm64 architecture to dpkg if missing, runs
# "apt-get update" once and installs what is missing in one transaction.
#
# Multi-arch lockstep: every :arm64 library depends on libc6:arm64, and a
# Multi-Arch: same package must have the same version in every
# architecture. On a machine whose amd64 glibc is older than the archive's,
# installing libc6:arm64 means upgrading libc6:amd64 and every other
# installed package built from glibc (libc-bin, libc6-dev, locales...) to
# the same version. This script does that explicitly, in the same
# transaction: it picks the newest version the archive has for both
# architectures (a mirror that has not caught up with one of them is
# tolerated), names every installed glibc package with that version, and
# refuses any removal (apt-get --no-remove). If no common version exists,
# it fails and says which versions it saw. (When both architectures'
# candidates agree, apt's resolver upgrades the amd64 side by itself too;
# naming the versions also covers a mirror between syncs, whose candidates
# differ.)

set -euo pipefail

AMD64_PACKAGES=(
        gcc-aarch64-linux-gnu libc6-dev-arm64-cross binutils-aarch64-linux-gnu
        qemu-user-static qemu-system-arm
        # meson and ninja for the cross build, dpkg-deb and depmod (kmod)
        # for the virtual machine's kernel modules, pytest for its test
        meson ninja-build kmod xz-utils python3 python3-pytest
)
ARM64_PACKAGES=(
        libjson-c-dev libnl-3-dev libnl-route-3-dev libnl-genl-3-dev
        libnftnl-dev libmnl-dev libseccomp-dev pkgconf
)

log() { echo "deps-aarch64: $*" >&2; }

installed() {
        local status
        status=$(dpkg-query -W -f='${db:Status-Abbrev}' "$1" 2>/dev/null || true)
        [[ "$status" == ii* ]]
}

missing_packages() {
        local pkg
        for pkg in "${AMD64_PACKAGES[@]}"; do
                installed "$pkg" || echo "$pkg"
        done
        for pkg in "${ARM64_PACKAGES[@]}"; do
                installed "$pkg:arm64" || echo "$pkg:arm64"
        done
}

have_arm64() {
        dpkg --print-foreign-architectures | grep -qx arm64
}

all=$(( ${#AMD64_PACKAGES[@]} + ${#ARM64_PACKAGES[@]} ))
mapfile -t missing < <(missing_packages)
if have_arm64 && (( ${#missing[@]} == 0 )); then
        log "all $all packages installed"
        exit 0
fi
log "missing: ${missing[*]}"

if (( EUID != 0 )); then
        log "error: installing packages needs root (run as root, or install them by hand)"
        exit 1
fi

export DEBIAN_FRONTEND=noninteractive
# Wait for another apt or dpkg (tests/deps.sh, an administrator) rather
# than fail on its lock.
APT_LOCK=(-o DPkg::Lock::Timeout=600)
APT_OPTS=(-y -q --no-install-recommends --no-remove "${APT_LOCK[@]}"
          -o Dpkg::Options::=--force-confdef
          -o Dpkg::Options::=--force-confold)

if ! have_arm64; then
        log "dpkg --add-architecture arm64"
        dpkg --add-architecture arm64
fi
log "apt-get update"
apt-get "${APT_LOCK[@]}" update -q

# versions PACKAGE: the versions the archive has for PACKAGE, one a line.
versions() {
        apt-cache madison "$1" 2>/dev/null | awk -F'|' '{gsub(/ /, "", $2); print $2}' | sort -u
}

# The glibc version both architectures can have, newest first.
glibc_version() {
        local v
        while read -r v; do
                if versions libc6:amd64 | grep -qxF "$v"; then
                        echo "$v"
                        return 0
                fi
        done < <(versions libc6:arm64 | sort -rV)
        return 1
}

lockstep=()
if ! v=$(glibc_version); then
        log "error: no libc6 version is in the archive for both amd64 ($(versions libc6:amd64 | xargs)) and arm64 ($(versions libc6:arm64 | xargs))"
        exit 1
fi
have=$(dpkg-query -W -f='${Version}' libc6:amd64)
if [[ "$have" != "$v" ]] || ! installed libc6:arm64; then
        # Every installed package built from glibc, amd64 and arm64, at $v.
        while read -r pkg src; do
                src=${src%% *}
                [[ "$src" == glibc ]] && lockstep+=("$pkg=$v")
        done < <(dpkg-query -W -f='${db:Status-Abbrev} ${binary:Package} ${source:Package}\n' |
                 awk '$1 ~ /^ii/ {print $2, $3}')
        lockstep+=("libc6:arm64=$v")
        log "glibc lockstep at $v (amd64 has $have): ${lockstep[*]}"
fi

log "apt-get install ${missing[*]} ${lockstep[*]}"
apt-get install "${APT_OPTS[@]}" "${missing[@]}" "${lockstep[@]}"

mapfile -t still_missing < <(missing_packages)
if (( ${#still_missing[@]} != 0 )); then
        log "error: still not installed: ${still_missing[*]}"
        exit 1
fi
log "all $all packages installed"
