# SPDX-License-Identifier: LGPL-2.1-or-later
"""A small network lab on an OvsSandbox bridge, for tests with real packets.

  Lab        hosts in network namespaces of their own, each attached to an
             OVS bridge of the sandbox through an OVS internal port that is
             moved into the host's namespace (socket networking), or through
             a veth pair whose other end is the OVS port (as Proxmox attaches
             its containers); fixture `lab`
  Host       one such namespace: run commands, ping, open sockets in it,
             send hand-built frames, capture what arrives (Sniffer)
  traffic    real kernel connections between two hosts: tcp_exchange,
             tcp_refused, tcp_dropped, udp_exchange
  frames     builders for Ethernet / ARP / IPv4 / IPv6 / ICMP / ICMPv6 /
             UDP / TCP frames with correct checksums, and a parser (parse)
  flows      dump-flows helpers: lines, cookies, op-dbus's cookie classes,
             packet counters
  OfpProxy   management sockets in front of the bridges' own: records the
             flow mods op-dbus sends, or changes them on the way

Everything runs in this process: sockets are opened inside a host's
namespace by switching the calling thread there for the socket() call only
(setns), so sending and capturing costs no subprocess. Every namespace the
lab creates is registered in ovs_sandbox.CREATED_NETNS (the session's leak
check covers it) and deleted by Lab.close().

Hosts have IPv6 disabled in their kernels unless add_host(ipv6=...) asks
for it, so that nothing but what a test sends crosses the bridge (no router
solicitations, MLD reports, DAD); IPv6 frames can still be sent and captured
raw.

Open vSwitch specifics the helpers deal with:
  * flow counters (n_packets) lag behind the traffic until a revalidator
    pushes the datapath's statistics; flow_stats() forces that first
    (sync_stats);
  * a tap device deleted under ovs-vswitchd's feet makes it log errors, so
    Lab.close() detaches the ports before deleting the namespaces;
  * a restarted ovs-vswitchd creates new tap devices in its own namespace
    instead of finding the moved ones; Lab.replug() moves the new ones in.
"""

import contextlib
import ctypes
import os
import re
import select
import socket
import struct
import shutil
import subprocess
import tempfile
import threading
import time
from typing import NamedTuple

import pytest

from ovs_sandbox import CREATED_NETNS, netns_list

# ---- namespaces ---------------------------------------------------------------

CLONE_NEWNET = 0x40000000
_libc = ctypes.CDLL(None, use_errno=True)


def _setns(fd):
    if _libc.setns(fd, CLONE_NEWNET) != 0:
        err = ctypes.get_errno()
        raise OSError(err, f"setns: {os.strerror(err)}")


@contextlib.contextmanager
def in_netns(name):
    """Run the body with the calling thread in network namespace `name`
    (or the one a path such as /proc/PID/ns/net names). Sockets created
    inside stay in that namespace afterwards."""
    own = os.open("/proc/thread-self/ns/net", os.O_RDONLY)
    try:
        target = os.open(name if name.startswith("/") else f"/var/run/netns/{name}", os.O_RDONLY)
        try:
            _setns(target)
            try:
                yield
            finally:
                _setns(own)
        finally:
            os.close(target)
    finally:
        os.close(own)


def run(cmd, *, check=True, timeout=30, input=None):
    result = subprocess.run([str(c) for c in cmd], capture_output=True, text=True,
                            timeout=timeout, input=input, check=False)
    if check and result.returncode != 0:
        raise RuntimeError(f"command failed ({result.returncode}): {' '.join(result.args)}\n"
                           f"stdout: {result.stdout}\nstderr: {result.stderr}")
    return result


# ---- addresses --------------------------------------------------------------

def mac_bytes(mac):
    return bytes(int(x, 16) for x in mac.split(":"))


def mac_str(b):
    return ":".join(f"{x:02x}" for x in b)


def ip4(a):
    return socket.inet_pton(socket.AF_INET, a)


def ip6(a):
    return socket.inet_pton(socket.AF_INET6, a)


BROADCAST = "ff:ff:ff:ff:ff:ff"
ETH_P_ALL = 0x0003
ETH_IP, ETH_ARP, ETH_IPV6 = 0x0800, 0x0806, 0x86DD
PROTO_ICMP, PROTO_TCP, PROTO_UDP, PROTO_ICMPV6 = 1, 6, 17, 58
FIN, SYN, RST, PSH, ACK, URG = 0x01, 0x02, 0x04, 0x08, 0x10, 0x20
PACKET_OUTGOING = 4


# ---- frame builders -------------------------------------------------------------

def checksum(data):
    if len(data) % 2:
        data += b"\0"
    s = sum(struct.unpack(f"!{len(data) // 2}H", data))
    while s >> 16:
        s = (s & 0xFFFF) + (s >> 16)
    return ~s & 0xFFFF


def _pseudo(src, dst, proto, length):
    """Pseudo header for the L4 checksum; src/dst are packed addresses."""
    if len(src) == 4:
        return src + dst + struct.pack("!BBH", 0, proto, length)
    return src + dst + struct.pack("!IxxxB", length, proto)


def ether(dst, src, ethertype, payload):
    frame = mac_bytes(dst) + mac_bytes(src) + struct.pack("!H", ethertype) + payload
    return frame.ljust(60, b"\0")  # minimum frame size without FCS


def ipv4(src, dst, proto, payload, *, ttl=64, tos=0, ident=0x1234):
    header = struct.pack("!BBHHHBBH4s4s", 0x45, tos, 20 + len(payload), ident, 0x4000, ttl,
                         proto, 0, ip4(src), ip4(dst))
    header = header[:10] + struct.pack("!H", checksum(header)) + header[12:]
    return header + payload


def ipv6(src, dst, next_header, payload, *, hlim=64, tclass=0, flow=0):
    first = (6 << 28) | (tclass << 20) | flow
    return struct.pack("!IHBB16s16s", first, len(payload), next_header, hlim, ip6(src),
                       ip6(dst)) + payload


def _l4_addresses(src, dst):
    family = socket.AF_INET6 if ":" in src else socket.AF_INET
    return socket.inet_pton(family, src), socket.inet_pton(family, dst)


def udp(src, dst, sport, dport, payload):
    """A UDP segment for IP addresses src -> dst (IPv4 or IPv6)."""
    s, d = _l4_addresses(src, dst)
    seg = struct.pack("!HHHH", sport, dport, 8 + len(payload), 0) + payload
    csum = checksum(_pseudo(s, d, PROTO_UDP, len(seg)) + seg) or 0xFFFF
    return seg[:6] + struct.pack("!H", csum) + seg[8:]


def tcp(src, dst, sport, dport, flags, payload=b"", *, seq=1000, ack=0, window=65535, urg=0):
    s, d = _l4_addresses(src, dst)
    seg = struct.pack("!HHIIBBHHH", sport, dport, seq, ack, 5 << 4, flags, window, 0, urg) + payload
    csum = checksum(_pseudo(s, d, PROTO_TCP, len(seg)) + seg)
    return seg[:16] + struct.pack("!H", csum) + seg[18:]


def icmp_echo(ident, seq, payload=b"", *, reply=False):
    msg = struct.pack("!BBHHH", 0 if reply else 8, 0, 0, ident, seq) + payload
    return msg[:2] + struct.pack("!H", checksum(msg)) + msg[4:]


def icmp6(src, dst, icmp_type, code, body):
    msg = struct.pack("!BBH", icmp_type, code, 0) + body
    csum = checksum(_pseudo(ip6(src), ip6(dst), PROTO_ICMPV6, len(msg)) + msg)
    return msg[:2] + struct.pack("!H", csum) + msg[4:]


def arp(op, sha, spa, tha, tpa):
    return struct.pack("!HHBBH6s4s6s4s", 1, ETH_IP, 6, 4, op, mac_bytes(sha), ip4(spa),
                       mac_bytes(tha), ip4(tpa))


# Whole frames.

def udp4_frame(src_mac, dst_mac, src, dst, sport, dport, payload, *, ttl=64, tos=0):
    return ether(dst_mac, src_mac, ETH_IP,
                 ipv4(src, dst, PROTO_UDP, udp(src, dst, sport, dport, payload), ttl=ttl, tos=tos))


def tcp4_frame(src_mac, dst_mac, src, dst, sport, dport, flags, payload=b"", *, ttl=64, tos=0):
    return ether(dst_mac, src_mac, ETH_IP,
                 ipv4(src, dst, PROTO_TCP, tcp(src, dst, sport, dport, flags, payload), ttl=ttl,
                      tos=tos))


def udp6_frame(src_mac, dst_mac, src, dst, sport, dport, payload, *, hlim=64, tclass=0):
    return ether(dst_mac, src_mac, ETH_IPV6,
                 ipv6(src, dst, PROTO_UDP, udp(src, dst, sport, dport, payload), hlim=hlim,
                      tclass=tclass))


def arp_frame(src_mac, dst_mac, op, sha, spa, tha, tpa):
    return ether(dst_mac, src_mac, ETH_ARP, arp(op, sha, spa, tha, tpa))


def link_local(mac):
    """The EUI-64 IPv6 link-local address of a MAC."""
    b = bytearray(mac_bytes(mac))
    b[0] ^= 0x02
    eui = bytes(b[:3]) + b"\xff\xfe" + bytes(b[3:])
    return socket.inet_ntop(socket.AF_INET6, b"\xfe\x80" + b"\0" * 6 + eui)


def router_advertisement_frame(src_mac, marker=b""):
    """An ICMPv6 router advertisement to all nodes (ff02::1), hop limit 255,
    with a source link-layer address option; `marker` goes into a padding
    option so that the frame can be recognised."""
    src = link_local(src_mac)
    body = struct.pack("!BBHII", 64, 0, 1800, 0, 0)          # cur hop limit, flags, lifetime, timers
    body += struct.pack("!BB6s", 1, 1, mac_bytes(src_mac))   # source link-layer address option
    if marker:
        pad = marker + b"\0" * (-(len(marker) + 2) % 8)
        body += struct.pack("!BB", 0xFE, (len(pad) + 2) // 8) + pad  # unknown option: ignored
    return ether("33:33:00:00:00:01", src_mac, ETH_IPV6,
                 ipv6(src, "ff02::1", PROTO_ICMPV6, icmp6(src, "ff02::1", 134, 0, body), hlim=255))


# ---- frame parser ---------------------------------------------------------------

class Packet:
    """A parsed frame. Attributes that do not apply are None."""

    dst = src = ethertype = None
    ip_version = ip_src = ip_dst = ttl = tos = proto = None  # ttl: hop limit for IPv6; tos: traffic class
    sport = dport = tcp_flags = icmp_type = None
    arp_op = arp_sha = arp_spa = arp_tha = arp_tpa = None
    payload = b""

    def __init__(self, raw):
        self.raw = bytes(raw)
        self._parse()

    @property
    def dscp(self):
        return None if self.tos is None else self.tos >> 2

    @property
    def ecn(self):
        return None if self.tos is None else self.tos & 3

    def has(self, marker):
        return marker in self.raw

    def _parse(self):
        r = self.raw
        if len(r) < 14:
            return
        self.dst, self.src = mac_str(r[0:6]), mac_str(r[6:12])
        (self.ethertype,) = struct.unpack("!H", r[12:14])
        body = r[14:]
        if self.ethertype == ETH_ARP and len(body) >= 28:
            self.arp_op = struct.unpack("!H", body[6:8])[0]
            self.arp_sha, self.arp_tha = mac_str(body[8:14]), mac_str(body[18:24])
            self.arp_spa = socket.inet_ntop(socket.AF_INET, body[14:18])
            self.arp_tpa = socket.inet_ntop(socket.AF_INET, body[24:28])
            return
        if self.ethertype == ETH_IP and len(body) >= 20:
            ihl = (body[0] & 0xF) * 4
            total = struct.unpack("!H", body[2:4])[0]
            self.ip_version, self.tos, self.ttl, self.proto = 4, body[1], body[8], body[9]
            self.ip_src = socket.inet_ntop(socket.AF_INET, body[12:16])
            self.ip_dst = socket.inet_ntop(socket.AF_INET, body[16:20])
            l4 = body[ihl:total]
        elif self.ethertype == ETH_IPV6 and len(body) >= 40:
            first, length, self.proto, self.ttl = struct.unpack("!IHBB", body[:8])
            self.ip_version, self.tos = 6, (first >> 20) & 0xFF
            self.ip_src = socket.inet_ntop(socket.AF_INET6, body[8:24])
            self.ip_dst = socket.inet_ntop(socket.AF_INET6, body[24:40])
            l4 = body[40:40 + length]
        else:
            return
        if self.proto in (PROTO_UDP, PROTO_TCP) and len(l4) >= 8:
            self.sport, self.dport = struct.unpack("!HH", l4[:4])
            if self.proto == PROTO_UDP:
                self.payload = l4[8:]
            elif len(l4) >= 20:
                self.tcp_flags = l4[13]
                self.payload = l4[(l4[12] >> 4) * 4:]
        elif self.proto in (PROTO_ICMP, PROTO_ICMPV6) and len(l4) >= 4:
            self.icmp_type = l4[0]
            self.payload = l4[4:]

    def __repr__(self):
        if self.arp_op:
            what = f"ARP op {self.arp_op} {self.arp_spa}/{self.arp_sha} -> {self.arp_tpa}/{self.arp_tha}"
        elif self.ip_version:
            what = (f"IPv{self.ip_version} {self.ip_src} -> {self.ip_dst} proto {self.proto} "
                    f"ttl {self.ttl} tos {self.tos:#x}")
            if self.sport is not None:
                what += f" ports {self.sport}->{self.dport}"
            if self.tcp_flags is not None:
                what += f" flags {self.tcp_flags:#x}"
            if self.icmp_type is not None:
                what += f" icmp type {self.icmp_type}"
        else:
            what = f"ethertype {self.ethertype:#06x}"
        return f"<{self.src} -> {self.dst} {what}>"


def parse(raw):
    return Packet(raw)


# ---- hosts --------------------------------------------------------------------------

class Sniffer:
    """Captures the frames a host's port receives (not those it sends).
    Start it before sending; frames queue in the socket until read."""

    def __init__(self, host):
        self.host = host
        self.packets = []
        self.sock = host.socket(socket.AF_PACKET, socket.SOCK_RAW, socket.htons(ETH_P_ALL))
        self.sock.setsockopt(socket.SOL_SOCKET, socket.SO_RCVBUF, 1 << 22)
        self.sock.bind((host.dev, 0))
        self.sock.setblocking(False)

    def _read(self, timeout):
        """Read what is queued, waiting at most `timeout` for the first frame."""
        got = False
        while True:
            ready, _, _ = select.select([self.sock], [], [], 0 if got else timeout)
            if not ready:
                return
            try:
                data, addr = self.sock.recvfrom(65535)
            except BlockingIOError:
                return
            got = True
            if addr[2] != PACKET_OUTGOING:
                self.packets.append(Packet(data))

    def wait_for(self, predicate, timeout=2.0):
        """The first captured frame for which predicate(packet) holds, waiting
        up to `timeout` seconds; None if there is none."""
        deadline = time.monotonic() + timeout
        while True:
            for p in self.packets:
                if predicate(p):
                    return p
            left = deadline - time.monotonic()
            if left <= 0:
                return None
            self._read(min(left, 0.05))

    def drain(self, settle=0.05):
        """Read everything that arrives until `settle` seconds pass quietly."""
        self._read(settle)
        return self.packets

    def matching(self, predicate):
        return [p for p in self.drain() if predicate(p)]

    def close(self):
        self.sock.close()

    def __enter__(self):
        return self

    def __exit__(self, *exc):
        self.close()


class Host:
    """A network namespace with one port on the bridge.

    port  the OVS port's name
    dev   the host's interface: the port itself (an internal port moved in)
          or eth0 (the veth's end in the host's namespace)"""

    def __init__(self, lab, name, ns, port, mac, ip, prefix, container_id, dev=None):
        self.lab, self.name, self.ns, self.port = lab, name, ns, port
        self.dev = dev or port
        self.mac, self.ip, self.prefix, self.container_id = mac, ip, prefix, container_id
        self.ip6 = None
        self.ip6_cidr = None

    def __repr__(self):
        return f"<Host {self.name} {self.port} {self.mac} {self.ip}>"

    def run(self, *cmd, check=True, timeout=30):
        return run(["ip", "netns", "exec", self.ns, *cmd], check=check, timeout=timeout)

    def socket(self, family, type, proto=0):
        with in_netns(self.ns):
            return socket.socket(family, type, proto)

    def send(self, *frames):
        """Send raw Ethernet frames out of the host's port, in order."""
        with contextlib.closing(self.socket(socket.AF_PACKET, socket.SOCK_RAW)) as s:
            s.bind((self.dev, 0))
            for f in frames:
                s.send(f)

    def sniffer(self):
        return Sniffer(self)

    def ping(self, address, count=1, wait=1.0, interval=0.2):
        """True if all `count` echo requests to address were answered."""
        r = self.run("ping", "-n", "-q", "-c", count, "-i", interval, "-W", wait, address,
                     check=False, timeout=count * (interval + wait) + 10)
        return r.returncode == 0

    def neighbour(self, address):
        """The MAC the host's kernel has for address, or None."""
        out = self.run("ip", "neigh", "show", address, "dev", self.dev).stdout
        m = re.search(r"lladdr (\S+)", out)
        return m.group(1) if m else None

    def offload(self, tx):
        """Turns the transmit checksum offload of the host's interface on or
        off, with the command an operator runs (ethtool -K DEV tx on|off)."""
        self.run("ethtool", "-K", self.dev, "tx", "on" if tx else "off")

    @property
    def ofport(self):
        return int(self.lab.ovs.vsctl("get", "Interface", self.port, "ofport"))

    def socket_port(self, **flags):
        """This host as an openflow socket_ports entry (hwaddr and ipv4
        declared; flags like allow_dhcp_server=True are added)."""
        sp = {"name": self.port, "container_id": self.container_id, "hwaddr": self.mac,
              "ipv4": self.ip}
        sp.update(flags)
        return {k: v for k, v in sp.items() if v is not None}


class Lab:
    """Hosts in namespaces of their own, attached to bridges of one OvsSandbox."""

    def __init__(self, ovs):
        self.ovs = ovs
        self.hosts = {}
        self.namespaces = []
        self._bridges = set()
        # No IPv6 chatter (RS, MLD, DAD) from the bridge's local port either.
        ovs.netns_exec("sysctl", "-q", "-w", "net.ipv6.conf.all.disable_ipv6=1",
                       "net.ipv6.conf.default.disable_ipv6=1")

    def bridge(self, name="br0"):
        """Create a netdev bridge (not owned by op-dbus, unless op-dbus
        created it already) and bring it up."""
        if name not in self._bridges:
            self.ovs.vsctl("--may-exist", "add-br", name, "--", "set", "Bridge", name, "datapath_type=netdev")
            self.ovs.netns_exec("ip", "link", "set", name, "up")
            self._bridges.add(name)
        return name

    def add_host(self, name, mac, ip, *, port=None, container_id=None, prefix=24, bridge="br0",
                 ipv6=None, veth=False):
        """A namespace with an OVS internal port `port` (default
        internal_<container_id>) on `bridge`, with MAC `mac` and address
        ip/prefix. With ipv6 ("fd00::1/64"), the host's kernel speaks IPv6
        (without DAD or router solicitations); otherwise IPv6 is disabled.
        With veth=True the host gets eth0, a veth whose peer is the OVS
        port (default veth<container_id>i0, Proxmox's name), as Proxmox
        attaches a container; the veth keeps the kernel's default offloads
        (Host.offload() changes them)."""
        if port is None:
            assert container_id is not None, "a host needs a port name or a container id"
            port = f"veth{container_id}i0" if veth else f"internal_{container_id}"
        self.bridge(bridge)
        ns = f"{self.ovs.netns}-{name}"
        run(["ip", "netns", "add", ns])
        self.namespaces.append(ns)
        CREATED_NETNS.add(ns)
        host = Host(self, name, ns, port, mac, ip, prefix, container_id, "eth0" if veth else None)
        self.hosts[name] = host
        if ipv6:
            host.run("sysctl", "-q", "-w", "net.ipv6.conf.default.router_solicitations=0",
                     "net.ipv6.conf.default.accept_ra=0", "net.ipv6.conf.default.accept_dad=0")
        else:
            host.run("sysctl", "-q", "-w", "net.ipv6.conf.all.disable_ipv6=1",
                     "net.ipv6.conf.default.disable_ipv6=1")
        host.ip6_cidr = ipv6
        if veth:
            run(["ip", "link", "add", port, "netns", self.ovs.netns, "type", "veth",
                 "peer", "name", host.dev, "netns", ns])
            self.ovs.netns_exec("ip", "link", "set", port, "up")
            self.ovs.vsctl("add-port", bridge, port)
            self._configure(host)
        else:
            # vsctl waits until ovs-vswitchd has created the tap device.
            self.ovs.vsctl("add-port", bridge, port, "--", "set", "Interface", port,
                           "type=internal")
            self._plug(host)
        run(["ip", "-n", ns, "link", "set", "lo", "up"])
        return host

    def _plug(self, host):
        """Move the host's tap device from the sandbox namespace to the
        host's and configure it."""
        self.ovs.netns_exec("ip", "link", "set", host.port, "netns", host.ns)
        self._configure(host)

    @staticmethod
    def _configure(host):
        ns, dev = host.ns, host.dev
        run(["ip", "-n", ns, "link", "set", "dev", dev, "address", host.mac])
        run(["ip", "-n", ns, "addr", "add", f"{host.ip}/{host.prefix}", "dev", dev])
        if host.ip6_cidr:
            run(["ip", "-n", ns, "-6", "addr", "add", host.ip6_cidr, "dev", dev, "nodad"])
            host.ip6 = host.ip6_cidr.split("/")[0]
        run(["ip", "-n", ns, "link", "set", dev, "up"])

    def replug(self):
        """After ovs-vswitchd has restarted. The new ovs-vswitchd does not
        find the tap devices that were moved away (it looks them up in its
        own namespace), so it creates new ones there; the old ones, in the
        hosts' namespaces, are connected to nothing. Replace each old device
        by the new one."""
        for host in self.hosts.values():
            if host.dev == host.port:  # veths stay as they are
                run(["ip", "-n", host.ns, "link", "delete", host.port])
                self._plug(host)

    def close(self):
        """Delete every namespace the lab created; tolerant of partial set-up."""
        problems = []
        # Detach the ports first: ovs-vswitchd logs errors when a tap device
        # it reads vanishes with its namespace.
        for host in self.hosts.values():
            try:
                self.ovs.vsctl("--if-exists", "del-port", host.port)
            except Exception as e:  # keep going: the namespaces must go
                problems.append(f"del-port {host.port}: {e}")
        for ns in self.namespaces:
            if ns not in netns_list():
                continue
            pids = run(["ip", "netns", "pids", ns], check=False).stdout.split()
            for pid in pids:
                with contextlib.suppress(ProcessLookupError):
                    os.kill(int(pid), 9)
            r = run(["ip", "netns", "delete", ns], check=False)
            if r.returncode != 0:
                problems.append(f"{ns}: {r.stderr.strip()}")
        self.namespaces = [ns for ns in self.namespaces if ns in netns_list()]
        if problems:
            raise RuntimeError("Lab.close(): " + "; ".join(problems))


# ---- real connections -----------------------------------------------------------


class Peer:
    """One end of a connection in any network namespace (a container's:
    /proc/PID/ns/net) with address ip: what the helpers below need of a
    Host."""

    def __init__(self, name, netns, ip):
        self.name, self.ns, self.ip = name, netns, ip

    def socket(self, family, type, proto=0):
        with in_netns(self.ns):
            return socket.socket(family, type, proto)


# Seconds a connection that must work may take: its first packets take
# ovs-vswitchd's slow path, on a machine that may be busy.
CONNECT_TIMEOUT = 10
# Seconds without an answer after which a connection counts as dropped.
DROP_TIMEOUT = 3


def _read_all(sock):
    chunks = []
    while True:
        chunk = sock.recv(1 << 16)
        if not chunk:
            return b"".join(chunks)
        chunks.append(chunk)


def tcp_exchange(client, server, port, size=256 * 1024):
    """A kernel TCP connection from client to server's address and port:
    `size` random bytes go each way (the client's first, then the
    server's answer) and must arrive intact. Returns the address the server
    saw the connection come from."""
    sent = {"client": os.urandom(size), "server": os.urandom(size)}
    got, errors = {}, []
    listener = server.socket(socket.AF_INET, socket.SOCK_STREAM)
    conn = client.socket(socket.AF_INET, socket.SOCK_STREAM)

    def serve():
        try:
            c, peer = listener.accept()
            with c:
                c.settimeout(CONNECT_TIMEOUT)
                got["server"] = _read_all(c)
                got["peer"] = peer[0]
                c.sendall(sent["server"])
        except OSError as e:
            errors.append(f"server {server.name}: {e!r}")

    with listener, conn:
        listener.setsockopt(socket.SOL_SOCKET, socket.SO_REUSEADDR, 1)
        listener.bind((server.ip, port))
        listener.listen(1)
        listener.settimeout(CONNECT_TIMEOUT)
        thread = threading.Thread(target=serve, daemon=True)
        thread.start()
        conn.settimeout(CONNECT_TIMEOUT)
        try:
            conn.connect((server.ip, port))
            conn.sendall(sent["client"])
            conn.shutdown(socket.SHUT_WR)
            got["client"] = _read_all(conn)
        except OSError as e:
            errors.append(f"client {client.name} -> {server.ip}:{port}: {e!r}")
        thread.join(2 * CONNECT_TIMEOUT)
    if errors:
        raise AssertionError("TCP connection failed: " + "; ".join(errors))
    for side in ("server", "client"):
        other = "client" if side == "server" else "server"
        if got.get(side) != sent[other]:
            raise AssertionError(f"TCP data from the {other} arrived changed or cut: "
                                 f"{len(got.get(side) or b'')} of {size} bytes")
    return got["peer"]


def tcp_refused(client, address, port):
    """A TCP connection to a port where nothing listens must be refused:
    the peer's RST comes back through the bridge."""
    with client.socket(socket.AF_INET, socket.SOCK_STREAM) as conn:
        conn.settimeout(CONNECT_TIMEOUT)
        try:
            conn.connect((address, port))
        except ConnectionRefusedError:
            return
        except TimeoutError:
            raise AssertionError(f"{client.name} -> {address}:{port}: no RST came back "
                                 f"within {CONNECT_TIMEOUT}s") from None
    raise AssertionError(f"{client.name} -> {address}:{port}: connected, expected refused")


def tcp_dropped(client, address, port, server=None):
    """A TCP connection that must get no answer at all (neither SYN-ACK
    nor RST) within DROP_TIMEOUT. With server (a Host), the server listens
    at address and port meanwhile."""
    with contextlib.ExitStack() as stack:
        if server is not None:
            listener = stack.enter_context(server.socket(socket.AF_INET, socket.SOCK_STREAM))
            listener.setsockopt(socket.SOL_SOCKET, socket.SO_REUSEADDR, 1)
            listener.bind((address, port))
            listener.listen(1)
        conn = stack.enter_context(client.socket(socket.AF_INET, socket.SOCK_STREAM))
        conn.settimeout(DROP_TIMEOUT)
        try:
            conn.connect((address, port))
        except TimeoutError:
            return
        except ConnectionRefusedError:
            raise AssertionError(f"{client.name} -> {address}:{port}: refused (an RST came "
                                 "back), expected no answer") from None
    raise AssertionError(f"{client.name} -> {address}:{port}: connected, expected no answer")


def udp_exchange(client, server, port):
    """A UDP datagram from client to server:port and the server's answer
    back; both must arrive intact. Returns the address the server saw."""
    question, answer = os.urandom(512), os.urandom(512)
    with server.socket(socket.AF_INET, socket.SOCK_DGRAM) as srv, \
            client.socket(socket.AF_INET, socket.SOCK_DGRAM) as cli:
        srv.bind((server.ip, port))
        srv.settimeout(CONNECT_TIMEOUT)
        cli.settimeout(CONNECT_TIMEOUT)
        cli.sendto(question, (server.ip, port))
        try:
            data, peer = srv.recvfrom(2048)
        except TimeoutError:
            raise AssertionError(f"UDP {client.name} -> {server.ip}:{port} did not arrive") from None
        if data != question:
            raise AssertionError(f"UDP {client.name} -> {server.name} arrived changed")
        srv.sendto(answer, peer)
        try:
            data = cli.recv(2048)
        except TimeoutError:
            raise AssertionError(f"UDP answer {server.name} -> {client.name} did not arrive") from None
        if data != answer:
            raise AssertionError(f"UDP answer {server.name} -> {client.name} arrived changed")
        return peer[0]


def udp_dropped(client, server, port):
    """A UDP datagram from client to server:port that must not arrive
    within DROP_TIMEOUT."""
    with server.socket(socket.AF_INET, socket.SOCK_DGRAM) as srv, \
            client.socket(socket.AF_INET, socket.SOCK_DGRAM) as cli:
        srv.bind((server.ip, port))
        srv.settimeout(DROP_TIMEOUT)
        cli.sendto(b"must not arrive", (server.ip, port))
        try:
            srv.recvfrom(2048)
        except TimeoutError:
            return
    raise AssertionError(f"UDP {client.name} -> {server.name}:{port} arrived, expected a drop")


@pytest.fixture
def lab(ovs):
    """A Lab on the test's OVS sandbox; its namespaces are deleted at teardown."""
    the_lab = Lab(ovs)
    try:
        yield the_lab
    finally:
        the_lab.close()


# ---- flows --------------------------------------------------------------------------

OPDBUS_CLASSES = (0xDEAD, 0xCAFE, 0xBEEF, 0xD0B5, 0xF10C, 0xFACE)
_COOKIE_RE = re.compile(r"cookie=(0x[0-9a-f]+)")


def cookie_of(line):
    m = _COOKIE_RE.search(line)
    return int(m.group(1), 16) if m else 0


def is_opdbus(line):
    return cookie_of(line) >> 48 in OPDBUS_CLASSES


def dump_flows(ovs, bridge="br0", stats=False):
    """The bridge's flows (OpenFlow 1.4), one line each, sorted; without the
    statistics unless stats=True."""
    opts = ["-O", "OpenFlow14"] + ([] if stats else ["--no-stats"])
    out = ovs.ofctl("dump-flows", bridge, options=opts)
    lines = [l.strip() for l in out.splitlines() if l.strip() and "_REPLY" not in l
             and not l.startswith("NXST") and not l.startswith("OFPST")]
    return sorted(lines)


def opdbus_flows(ovs, bridge="br0"):
    """op-dbus's flows (its cookie classes), sorted, without statistics."""
    return [l for l in dump_flows(ovs, bridge) if is_opdbus(l)]


def sync_stats(ovs):
    """Make the flows' counters current. The userspace datapath counts
    packets in its cached datapath flows; OpenFlow rules learn about them
    only when a revalidator pushes the statistics, normally every 500 ms.
    Purging the datapath flows pushes them at once (the next packets take
    the slow path again, which changes nothing else)."""
    ovs.appctl("ovs-vswitchd", "revalidator/purge")


def flow_stats(ovs, bridge="br0", sync=True):
    """{cookie: {"n_packets", "n_bytes", "duration", "line"}} of every flow,
    with current counters (see sync_stats)."""
    if sync:
        sync_stats(ovs)
    stats = {}
    for line in dump_flows(ovs, bridge, stats=True):
        def num(key, conv=int):
            m = re.search(rf"{key}=([0-9.]+)", line)
            return conv(m.group(1).rstrip(".")) if m else None
        stats[cookie_of(line)] = {"n_packets": num("n_packets"), "n_bytes": num("n_bytes"),
                                  "duration": num("duration", float), "line": line}
    return stats


def n_packets(ovs, cookie, bridge="br0"):
    entry = flow_stats(ovs, bridge).get(cookie)
    return None if entry is None else entry["n_packets"]


# ---- a wrapper around ovs-ofctl ---------------------------------------------------

# ---- between op-dbus and a bridge's management socket ------------------------------

OFPT_FLOW_MOD, OFPT_BUNDLE_ADD_MESSAGE = 14, 34
OFPFC_ADD, OFPFC_DELETE_STRICT = 0, 4


class FlowMod(NamedTuple):
    """A flow mod op-dbus sent in a bundle."""
    command: int
    cookie: int
    cookie_mask: int
    table: int
    priority: int


def _messages(buf):
    """Splits complete OpenFlow messages off the front of buf: (messages, rest)."""
    out = []
    while len(buf) >= 8:
        length = struct.unpack_from("!H", buf, 2)[0]
        if length < 8 or len(buf) < length:
            break
        out.append(bytes(buf[:length]))
        buf = buf[length:]
    return out, buf


def _without_oxm(msg, oxm_class, field):
    """The bundled flow mod msg (an add of an explicit flow, cookie class
    0xface) without the OXM field oxm_class:field in its match."""
    if msg[1] != OFPT_BUNDLE_ADD_MESSAGE or msg[16 + 1] != OFPT_FLOW_MOD or msg[16 + 25] != OFPFC_ADD:
        return msg
    inner = msg[16:]
    if int.from_bytes(inner[8:16], "big") >> 48 != 0xFACE:
        return msg
    mlen = int.from_bytes(inner[50:52], "big")
    fields, rest, kept, off = inner[52:48 + mlen], inner[48 + (mlen + 7) // 8 * 8:], b"", 0
    while off + 4 <= len(fields):
        n = 4 + fields[off + 3]
        if (int.from_bytes(fields[off:off + 2], "big"), fields[off + 2] >> 1) != (oxm_class, field):
            kept += fields[off:off + n]
        off += n
    match = struct.pack("!HH", 1, 4 + len(kept)) + kept
    match += b"\0" * (-len(match) % 8)
    inner = inner[:48] + match + rest
    msg = msg[:16] + inner[:2] + struct.pack("!H", len(inner)) + inner[4:]
    return msg[:2] + struct.pack("!H", len(msg)) + msg[4:]


class OfpProxy:
    """Management sockets that stand in for the bridges' own, for an
    op-dbus run with env(): a directory like the sandbox's (its other files
    linked), where <bridge>.mgmt forwards to the bridge's real socket both
    ways. It records the flow mods op-dbus sends (flow_mods) and, with
    drop=(oxm_class, field), takes that field out of the match of the
    explicit flows it adds, as a switch that installs another match than
    the one sent would. With hangup_after_dump, the first connection is
    closed once the switch has answered a flow dump, as ovs-vswitchd closes
    it when it stops."""

    def __init__(self, ovs, bridges=("br0",), drop=None, hangup_after_dump=False):
        self.dir = tempfile.mkdtemp(prefix="opdbus-ofp-", dir="/tmp")
        self.drop = drop
        self.hangup_after_dump = hangup_after_dump
        self.sent = []                    # every message op-dbus sent
        self._listeners, self._threads, self._lock = [], [], threading.Lock()
        for name in os.listdir(ovs.dir):
            if name not in {f"{b}.mgmt" for b in bridges}:
                os.symlink(os.path.join(ovs.dir, name), os.path.join(self.dir, name))
        for bridge in bridges:
            listener = socket.socket(socket.AF_UNIX, socket.SOCK_STREAM)
            listener.bind(os.path.join(self.dir, f"{bridge}.mgmt"))
            listener.listen(8)
            self._listeners.append(listener)
            self._start(self._accept, listener, ovs.path(f"{bridge}.mgmt"))

    def env(self):
        return {"OVS_RUNDIR": self.dir}

    def flow_mods(self):
        """The flow mods op-dbus sent in bundles so far, in order."""
        with self._lock:
            sent = list(self.sent)
        return [FlowMod(m[16 + 25], *struct.unpack_from("!QQ", m, 16 + 8), m[16 + 24],
                        struct.unpack_from("!H", m, 16 + 30)[0])
                for m in sent if m[1] == OFPT_BUNDLE_ADD_MESSAGE and m[16 + 1] == OFPT_FLOW_MOD]

    def _start(self, fn, *args):
        t = threading.Thread(target=fn, args=args, daemon=True)
        t.start()
        self._threads.append(t)

    def _accept(self, listener, upstream):
        while True:
            try:
                conn, _ = listener.accept()
            except OSError:
                return
            up = socket.socket(socket.AF_UNIX, socket.SOCK_STREAM)
            up.connect(upstream)
            self._start(self._forward, conn, up, True)
            self._start(self._forward, up, conn, False)

    def _forward(self, src, dst, from_opdbus):
        buf = b""
        try:
            while True:
                chunk = src.recv(65536)
                if not chunk:
                    break
                if not from_opdbus:
                    msgs, buf = _messages(buf + chunk)
                    dst.sendall(b"".join(msgs))
                    # the last part of a flow dump: a multipart reply without "more"
                    if self.hangup_after_dump and any(m[1] == 19 and not m[11] & 1 for m in msgs):
                        self.hangup_after_dump = False
                        break
                    continue
                msgs, buf = _messages(buf + chunk)
                with self._lock:
                    self.sent += msgs
                if self.drop:
                    msgs = [_without_oxm(m, *self.drop) for m in msgs]
                dst.sendall(b"".join(msgs))
        except OSError:
            pass
        for sock in (src, dst):
            with contextlib.suppress(OSError):
                sock.shutdown(socket.SHUT_RDWR)

    def close(self):
        for listener in self._listeners:
            with contextlib.suppress(OSError):
                listener.shutdown(socket.SHUT_RDWR)
            listener.close()
        shutil.rmtree(self.dir, ignore_errors=True)

    def __enter__(self):
        return self

    def __exit__(self, *exc):
        self.close()
