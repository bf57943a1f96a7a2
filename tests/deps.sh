#!/bin/bash
# SPDX-License-Identifier: LGPL-2.1-or-later
#
# Install the Debian packages needed to build and test op-dbus.
#
# Idempotent: when every package is already installed this only runs
# dpkg-query and exits 0 without touching apt. Otherwise it runs
# "apt-get update" once and installs the missing packages without prompting.
#
# The host's Open vSwitch service is never started or enabled by this script:
# while packages are installed, /usr/sbin/policy-rc.d denies every service
# start (unless the administrator already has a policy-rc.d, which is then
# left alone), and if openvswitch-switch was newly installed its boot-time
# enablement done by the Debian maintainer scripts is undone again. The test
# suite runs its own private OVS instances (tests/integration/ovs_sandbox.py).

set -euo pipefail

PACKAGES=(
        # build
        meson ninja-build pkg-config gcc libc6-dev
        # the clang build and the fuzz targets (tests/extra.d/clang, tests/fuzz):
        # clang, libFuzzer and the sanitizer runtimes, llvm-symbolizer for reports
        clang libclang-rt-14-dev llvm
        libjson-c-dev libsystemd-dev libcurl4-openssl-dev
        libnl-3-dev libnftnl-dev libseccomp-dev
        # integration tests
        openvswitch-switch openvswitch-common
        # OVN (test_ovn.py): the tests start their own ovsdb-servers,
        # ovn-northd and ovn-controllers; the packages' services stay off
        ovn-central ovn-host
        python3 python3-pytest python3-jsonschema
        iproute2 dbus jq
        # the manual pages (mandoc -Tlint) and the shell completion, loaded
        # into bash (test_man.py, test_completion.py)
        mandoc bash-completion
        # systemd/ files: systemd-analyze, -tmpfiles, -sysusers, busctl, systemd.pc;
        # dbus-1.pc (D-Bus policy and activation directories)
        systemd libdbus-1-dev
        iputils-ping tcpdump hping3 python3-scapy util-linux
        # the command op-dbus's plan names for a veth on a userspace bridge
        # (test_traffic.py, test_lxc.py)
        ethtool
        # the Debian packages (tests/extra.d/debian-package): build, lintian,
        # a clean Debian 12 root to install them in
        dpkg-dev debhelper lintian debootstrap
        # tools the tests run themselves: curl through the XRay/v2ray proxy,
        # nft -c on the rendered rule sets (test_services.py), openssl for the
        # Netmaker test server's certificates (test_netmaker.py)
        curl nftables openssl
        # Proxmox pct test double (tests/pve-sim): real LXC containers, busybox rootfs
        lxc busybox-static
        # container services (test_services.py): wg-quick, userspace WireGuard for
        # hosts without the kernel module, v2ray (reads Xray's configuration format)
        wireguard-tools wireguard-go v2ray
        # op-dbus show --format svg runs Graphviz's dot; its picture is
        # rendered by headless Chromium (test_show.py)
        graphviz chromium
)

POLICY_RC_D=/usr/sbin/policy-rc.d

log() { echo "deps: $*" >&2; }

# Print the packages from the list that are not fully installed ("ii").
missing_packages() {
        local pkg status
        for pkg in "${PACKAGES[@]}"; do
                status=$(dpkg-query -W -f='${db:Status-Abbrev}' "$pkg" 2>/dev/null || true)
                if [[ "$status" != ii* ]]; then
                        echo "$pkg"
                fi
        done
}

mapfile -t missing < <(missing_packages)
if (( ${#missing[@]} == 0 )); then
        log "all ${#PACKAGES[@]} packages installed"
        exit 0
fi

log "missing: ${missing[*]}"

if (( EUID != 0 )); then
        log "error: installing packages needs root (run as root, or install them by hand)"
        exit 1
fi

# Remember whether the OVS switch package is being installed now, so that its
# service can be disabled again afterwards (see below).
ovs_newly_installed=0
ovn_newly_installed=0
v2ray_newly_installed=0
for pkg in "${missing[@]}"; do
        if [[ "$pkg" == openvswitch-switch ]]; then
                ovs_newly_installed=1
        elif [[ "$pkg" == ovn-central || "$pkg" == ovn-host ]]; then
                ovn_newly_installed=1
        elif [[ "$pkg" == v2ray ]]; then
                v2ray_newly_installed=1
        fi
done

# Deny service starts during the installation, but only with a policy-rc.d
# we created ourselves; an existing one is the administrator's and stays.
created_policy=0
remove_policy() {
        if (( created_policy )); then
                rm -f "$POLICY_RC_D"
        fi
}
trap remove_policy EXIT

if [[ ! -e "$POLICY_RC_D" ]]; then
        printf '#!/bin/sh\n# Temporary: written by op-dbus tests/deps.sh, removed when it ends.\nexit 101\n' \
                >"$POLICY_RC_D"
        chmod 0755 "$POLICY_RC_D"
        created_policy=1
fi

export DEBIAN_FRONTEND=noninteractive
APT_OPTS=(-y -q --no-install-recommends
          -o Dpkg::Options::=--force-confdef
          -o Dpkg::Options::=--force-confold)

log "apt-get update"
apt-get update -q

log "apt-get install ${missing[*]}"
install_rc=0
apt-get install "${APT_OPTS[@]}" "${missing[@]}" || install_rc=$?

# A maintainer script that fails only because no init system is running must
# not abort the run: what counts is whether the packages end up installed.
if (( install_rc != 0 )); then
        log "apt-get install exited with $install_rc; retrying the configuration step"
        dpkg --configure -a || true
fi

if (( ovs_newly_installed )); then
        # Debian enables openvswitch-switch at boot on first installation.
        # Undo that: the tests never use the host's OVS.
        log "disabling the newly installed openvswitch-switch service at boot"
        if command -v deb-systemd-helper >/dev/null; then
                deb-systemd-helper disable openvswitch-switch.service ovs-record-hostname.service \
                        >/dev/null 2>&1 || true
        fi
        if [[ -x /etc/init.d/openvswitch-switch ]]; then
                update-rc.d openvswitch-switch disable >/dev/null 2>&1 || true
        fi
fi

if (( ovn_newly_installed )); then
        # ovn-central and ovn-host enable their services at boot on first
        # installation; the tests start their own OVN daemons.
        log "disabling the newly installed OVN services at boot"
        if command -v deb-systemd-helper >/dev/null; then
                deb-systemd-helper disable ovn-central.service ovn-host.service \
                        ovn-northd.service ovn-controller.service \
                        ovn-ovsdb-server-nb.service ovn-ovsdb-server-sb.service \
                        >/dev/null 2>&1 || true
        fi
        for script in ovn-central ovn-host; do
                if [[ -x /etc/init.d/$script ]]; then
                        update-rc.d "$script" disable >/dev/null 2>&1 || true
                fi
        done
fi

if (( v2ray_newly_installed )) && command -v deb-systemd-helper >/dev/null; then
        # The tests only run "v2ray -test"; no v2ray service on the host.
        log "disabling the newly installed v2ray service at boot"
        deb-systemd-helper disable v2ray.service >/dev/null 2>&1 || true
fi

mapfile -t still_missing < <(missing_packages)
if (( ${#still_missing[@]} != 0 )); then
        log "error: still not installed: ${still_missing[*]}"
        exit 1
fi

log "all ${#PACKAGES[@]} packages installed"
