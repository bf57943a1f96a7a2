# SPDX-License-Identifier: LGPL-2.1-or-later
"""Parameter validation as done by PVE::JSONSchema, and pct's option schema.

Schemas are plain dicts with the keys Proxmox uses (type, format, pattern,
minimum, maximum, minLength, maxLength, enum, optional, default_key,
requires). check_prop() follows JSONSchema::check_prop step by step: type,
format, pattern, maxLength, minLength, maximum/minimum, enum. Error texts are
the Proxmox ones, including their trailing newlines.
"""

import ipaddress
import os
import re

from .errors import HTTP_BAD_REQUEST, PveError

# ---- helpers ----------------------------------------------------------------


def split_list(text):
    """PVE::Tools::split_list."""
    text = text or ""
    if "\0" in text:
        return [x for x in text.split("\0")]
    text = re.sub(r"[,;]", " ", text).lstrip()
    return [x for x in re.split(r"\s+", text) if x != ""] if text else []


def parse_boolean(value):
    if re.fullmatch(r"(1|on|yes|true)", value, re.I):
        return 1
    if re.fullmatch(r"(0|off|no|false)", value, re.I):
        return 0
    return None


def is_number(value):
    return re.fullmatch(r"[+-]?(\d+\.\d+|\d+\.|\.\d+|\d+)([eE][+-]?\d+)?", value) is not None


def is_integer(value):
    return re.fullmatch(r"[+-]?\d+", value) is not None


def parse_size(value):
    """JSONSchema::parse_size: bytes or None. Also accepts the KiB/MiB/...
    spelling."""
    m = re.fullmatch(r"(\d+(?:\.\d+)?)([KMGT])?(?:iB)?", value or "")
    if not m:
        return None
    size = float(m.group(1))
    mult = {None: 1, "K": 1 << 10, "M": 1 << 20, "G": 1 << 30, "T": 1 << 40}[m.group(2)]
    return int(size * mult)


def format_size(size):
    size = int(size)
    kb = size // 1024
    if kb * 1024 != size:
        return str(size)
    mb = kb // 1024
    if mb * 1024 != kb:
        return f"{kb}K"
    gb = mb // 1024
    if gb * 1024 != mb:
        return f"{mb}M"
    tb = gb // 1024
    if tb * 1024 != gb:
        return f"{gb}G"
    return f"{tb}T"


def _die(msg):
    raise PveError(msg)


# ---- formats -------------------------------------------------------------------

IPV4_RE = r"(?:(?:25[0-5]|2[0-4]\d|1\d\d|[1-9]?\d)\.){3}(?:25[0-5]|2[0-4]\d|1\d\d|[1-9]?\d)"
DNS_LABEL = r"[a-zA-Z0-9]([a-zA-Z0-9\-]*[a-zA-Z0-9])?"
TAG_RE = r"[a-z0-9_][a-z0-9_\-+.]*"
STORAGE_ID_RE = r"[a-z][a-z0-9\-_.]*[a-z0-9]"


def is_ipv4(value):
    return re.fullmatch(IPV4_RE, value) is not None


def is_ipv6(value):
    if ":" not in value or "%" in value or "/" in value:
        return False
    try:
        ipaddress.IPv6Address(value)
        return True
    except ValueError:
        return False


def verify_vmid(v):
    if not re.fullmatch(r"[1-9][0-9]{2,8}", v):
        _die("value does not look like a valid VM ID\n")


def verify_dns_name(v):
    if not re.fullmatch(rf"({DNS_LABEL}\.)*{DNS_LABEL}", v):
        _die("value does not look like a valid DNS name\n")


def verify_storage_id(v):
    if not re.fullmatch(STORAGE_ID_RE, v, re.I):
        _die(f"storage ID '{v}' contains illegal characters\n")


def verify_configid(v):
    if not re.fullmatch(r"[a-z][a-z0-9_]+", v, re.I):
        _die(f"invalid configuration ID '{v}'\n")


def verify_ipv4(v):
    if not is_ipv4(v):
        _die("value does not look like a valid IPv4 address\n")


def verify_ipv6(v):
    if not is_ipv6(v):
        _die("value does not look like a valid IPv6 address\n")


def verify_ip(v):
    if not (is_ipv4(v) or is_ipv6(v)):
        _die("value does not look like a valid IP address\n")


def _cidr_ok(v, v6):
    m = re.fullmatch(r"(.+)/(\d+)", v)
    if not m:
        return False
    addr, prefix = m.group(1), int(m.group(2))
    if v6:
        return is_ipv6(addr) and 7 < prefix <= 128
    return is_ipv4(addr) and 7 < prefix <= 32


def verify_ipv4_config(v):
    if v in ("dhcp", "manual") or _cidr_ok(v, False):
        return
    _die("value does not look like a valid ipv4 network configuration\n")


def verify_ipv6_config(v):
    if v in ("auto", "dhcp", "manual") or _cidr_ok(v, True):
        return
    _die("value does not look like a valid ipv6 network configuration\n")


def verify_ip_with_ll_iface(v):
    m = re.fullmatch(r"(fe80:[^%]+)%(.*)", v)
    if m and is_ipv6(m.group(1)) and re.fullmatch(r"[a-z][a-z0-9_]{1,20}([:.]\d+)?", m.group(2), re.I):
        return
    verify_ip(v)


def verify_mac_addr(v):
    if not re.fullmatch(r"[a-f0-9][02468ace](?::[a-f0-9]{2}){5}", v, re.I):
        _die("value does not look like a valid unicast MAC address\n")


def verify_tag(v):
    if not re.fullmatch(TAG_RE, v, re.I):
        _die("invalid characters in tag\n")


def verify_startup_order(v):
    if not v:
        _die("unable to parse startup options\n")
    for part in v.split(","):
        if re.fullmatch(r"\s*", part):
            continue
        if not (re.fullmatch(r"(order=)?\d+", part) or re.fullmatch(r"up=\d+", part)
                or re.fullmatch(r"down=\d+", part)):
            _die("unable to parse startup options\n")


def verify_disk_size(v):
    if parse_size(v) is None:
        _die(f"value does not look like a valid disk size: {v}\n")


def verify_volume_id(v):
    if not re.fullmatch(rf"({STORAGE_ID_RE}):(.+)", v, re.I | re.S):
        _die(f"unable to parse volume ID '{v}'\n")


def verify_lxc_mp_string(v):
    if re.search(r"/\.\.?/", v) or re.search(r"/\.\.?$", v) or re.match(r"\.\./", v):
        _die(f"{v} contains illegal character sequences\n")


def verify_lxc_dev_string(v):
    if re.search(r"/\.\.?(?:/|$)", v) or not v.startswith("/dev/"):
        _die(f"{v} is not a valid device path\n")


def verify_timezone(v):
    if v in ("host", "UTC"):
        return
    zones = set()
    try:
        with open("/usr/share/zoneinfo/zone.tab") as f:
            for line in f:
                if line.startswith("#"):
                    continue
                fields = line.split("\t")
                if len(fields) >= 3:
                    zones.add(fields[2].strip())
    except OSError:
        pass
    if v not in zones:
        _die(f"invalid time zone '{v}'\n")


def verify_node(v):
    if not re.fullmatch(r"[a-zA-Z0-9]([a-zA-Z0-9\-]*[a-zA-Z0-9])?", v):
        _die("value does not look like a valid node name\n")


def verify_poolid(v):
    if not re.fullmatch(r"[A-Za-z0-9_\-]+", v):
        _die(f"pool name '{v}' contains illegal characters\n")


STORAGE_CONTENT_TYPES = ("images", "rootdir", "vztmpl", "iso", "backup", "snippets", "import",
                         "none")


def verify_storage_content(v):
    """PVE::Storage::Plugin::verify_content."""
    if v not in STORAGE_CONTENT_TYPES:
        _die(f"invalid content type '{v}'\n")


FORMATS = {
    "pve-storage-content": verify_storage_content,
    "pve-vmid": verify_vmid,
    "dns-name": verify_dns_name,
    "pve-storage-id": verify_storage_id,
    "pve-configid": verify_configid,
    "ipv4": verify_ipv4,
    "ipv6": verify_ipv6,
    "ip": verify_ip,
    "pve-ipv4-config": verify_ipv4_config,
    "pve-ipv6-config": verify_ipv6_config,
    "lxc-ip-with-ll-iface": verify_ip_with_ll_iface,
    "mac-addr": verify_mac_addr,
    "pve-tag": verify_tag,
    "pve-startup-order": verify_startup_order,
    "disk-size": verify_disk_size,
    "pve-volume-id": verify_volume_id,
    "pve-lxc-mp-string": verify_lxc_mp_string,
    "pve-lxc-dev-string": verify_lxc_dev_string,
    "pve-ct-timezone": verify_timezone,
    "pve-node": verify_node,
    "pve-poolid": verify_poolid,
    "string": lambda v: None,
}


def check_format(fmt, value, path):
    """JSONSchema::check_format; raises PveError on a bad value."""
    if isinstance(fmt, dict):
        return parse_property_string(fmt, value, path)
    m = re.fullmatch(r"(.*)-a?list", fmt)
    if m:
        code = FORMATS[m.group(1)]
        for v in split_list(value):
            code(v)
        return None
    m = re.fullmatch(r"(.*)-opt", fmt)
    if m:
        if value:
            FORMATS[m.group(1)](value)
        return None
    FORMATS[fmt](value)
    return None


# ---- property strings ----------------------------------------------------------


def parse_property_string(fmt, data, path=None):
    """JSONSchema::parse_property_string: dict of key -> string value."""
    res = {}
    default_key = None
    for part in data.split(","):
        if re.fullmatch(r"\s*", part):
            continue
        m = re.fullmatch(r"([^=]+)=(.+)", part, re.S)
        if m:
            k, v = m.group(1), m.group(2)
            if k in res:
                _die(f"duplicate key in comma-separated list property: {k}\n")
            schema = fmt.get(k)
            if schema and schema.get("alias"):
                k = schema["alias"]
                schema = fmt.get(k)
            if not schema:
                _die(f"invalid key in comma-separated list property: {k}\n")
            if schema.get("type") == "boolean":
                b = parse_boolean(v)
                v = str(b) if b is not None else v
            res[k] = v
        elif "=" not in part:
            if default_key:
                _die(f"duplicate key in comma-separated list property: {default_key}\n")
            for key, schema in fmt.items():
                if schema.get("default_key"):
                    default_key = key
                    if key not in res:
                        res[key] = part
                        break
                    _die(f"duplicate key in comma-separated list property: {default_key}\n")
            if not default_key:
                _die("value without key, but schema does not define a default key\n")
        else:
            _die("missing key in comma-separated list property\n")
    errors = {}
    check_object(path, fmt, res, False, errors)
    if errors:
        raise PveError("format error\n", errors=errors)
    return res


def print_property_string(data, fmt, skip=()):
    """JSONSchema::print_property_string: default key first, then the
    required keys sorted, then the rest sorted."""
    errors = {}
    check_object(None, fmt, data, None, errors)
    if errors:
        raise PveError("format error", errors=errors)
    default_key = next((k for k, s in fmt.items() if s.get("default_key")), None)
    out = []
    done = set(skip)

    def add(key, isdefault=False):
        if key in done:
            return
        done.add(key)
        value = data.get(key)
        if value is None:
            return
        value = str(value)
        if "," in value:
            _die(f"illegal value with commas for {key}\n")
        out.append(value if isdefault else f"{key}={value}")

    if default_key:
        add(default_key, True)
    for key in sorted(data):
        if key in fmt and not fmt[key].get("optional"):
            add(key)
    for key in sorted(data):
        add(key)
    return ",".join(out)


# ---- check_prop --------------------------------------------------------------


def add_error(errors, path, msg):
    path = path or "_root"
    if path in errors:
        errors[path] = errors[path] + "\\n" + msg
    else:
        errors[path] = msg


def check_type(path, typ, value, errors):
    if not typ or typ == "any":
        return True
    if typ == "array":
        if not isinstance(value, list):
            add_error(errors, path, f"type check ('{typ}') failed")
            return False
        return True
    if isinstance(value, list):
        add_error(errors, path, f"type check ('{typ}') failed - got ARRAY")
        return False
    if typ == "string":
        return True
    if typ == "boolean":
        if value in ("0", "1"):
            return True
        add_error(errors, path, f"type check ('{typ}') failed - got '{value}'")
        return False
    if typ == "integer":
        if not is_integer(value):
            add_error(errors, path, f"type check ('{typ}') failed - got '{value}'")
            return False
        return True
    if typ == "number":
        if not is_number(value):
            add_error(errors, path, f"type check ('{typ}') failed - got '{value}'")
            return False
        return True
    return True


def _num(x):
    """Render a schema bound like Perl does (512, 0.5)."""
    if isinstance(x, float) and x.is_integer():
        return str(int(x))
    return str(x)


def check_prop(value, schema, path, errors):
    if value is None:
        if schema.get("type") == "null":
            return
        if not schema.get("optional") and not schema.get("alias"):
            add_error(errors, path, "property is missing and it is not optional")
        return
    if not check_type(path, schema.get("type"), value, errors):
        return
    if isinstance(value, list):
        items = schema.get("items")
        if items:
            for i, el in enumerate(value):
                check_prop(el, items, f"{path}[{i}]", errors)
        return
    fmt = schema.get("format")
    if fmt:
        try:
            check_format(fmt, value, path)
        except PveError as e:
            add_error(errors, path, f"invalid format - {e}")
            return
    pattern = schema.get("pattern")
    if pattern and not re.fullmatch(pattern, value, re.S):
        add_error(errors, path, "value does not match the regex pattern")
        return
    if schema.get("maxLength") is not None and len(value) > schema["maxLength"]:
        add_error(errors, path, f"value may only be {schema['maxLength']} characters long")
        return
    if schema.get("minLength") is not None and len(value) < schema["minLength"]:
        add_error(errors, path, f"value must be at least {schema['minLength']} characters long")
        return
    if is_number(value):
        if schema.get("maximum") is not None and float(value) > schema["maximum"]:
            add_error(errors, path, f"value must have a maximum value of {_num(schema['maximum'])}")
            return
        if schema.get("minimum") is not None and float(value) < schema["minimum"]:
            add_error(errors, path, f"value must have a minimum value of {_num(schema['minimum'])}")
            return
    enum = schema.get("enum")
    if enum and value not in enum:
        add_error(errors, path,
                  f"value '{value}' does not have a value in the enumeration '{', '.join(enum)}'")


def check_object(path, schema, value, additional_properties, errors):
    for k, sub in schema.items():
        check_prop(value.get(k), sub, f"{path}.{k}" if path else k, errors)
    for k in value:
        newpath = f"{path}.{k}" if path else k
        sub = schema.get(k)
        if sub:
            req = sub.get("requires")
            if req and value.get(req) is None:
                add_error(errors, f"{path}.{req}" if path else req,
                          f"missing property required by '{newpath}'")
            continue
        if additional_properties is not None and not additional_properties:
            add_error(errors, newpath, "property is not defined in schema and the schema "
                      "does not allow additional properties")


def validate(params, properties):
    """RESTHandler::handle -> JSONSchema::validate for a method's parameters."""
    errors = {}
    check_object(None, properties, params, False, errors)
    if errors:
        raise PveError("Parameter verification failed.\n", code=HTTP_BAD_REQUEST, errors=errors)


# ---- the container configuration schema (PVE::LXC::Config $confdesc) ---------

MOUNT_OPTION_RE = r"(discard|lazytime|noatime|nodev|noexec|nosuid)"

ROOTFS_DESC = {
    "volume": {"type": "string", "default_key": 1, "format": "pve-lxc-mp-string"},
    "size": {"type": "string", "format": "disk-size", "optional": 1},
    "acl": {"type": "boolean", "optional": 1},
    "mountoptions": {"type": "string", "optional": 1,
                     "pattern": rf"{MOUNT_OPTION_RE}(;{MOUNT_OPTION_RE})*"},
    "ro": {"type": "boolean", "optional": 1},
    "quota": {"type": "boolean", "optional": 1},
    "replicate": {"type": "boolean", "optional": 1},
    "shared": {"type": "boolean", "optional": 1},
}

MP_DESC = dict(ROOTFS_DESC)
MP_DESC.update({
    "backup": {"type": "boolean", "optional": 1},
    "keepattrs": {"type": "boolean", "optional": 1},
    "mp": {"type": "string", "format": "pve-lxc-mp-string"},
})

UNUSED_DESC = {"volume": {"type": "string", "default_key": 1, "format": "pve-volume-id"}}

DEV_DESC = {
    "path": {"type": "string", "optional": 1, "default_key": 1, "format": "pve-lxc-dev-string"},
    "mode": {"type": "string", "optional": 1, "pattern": r"0[0-7]{3}"},
    "uid": {"type": "integer", "optional": 1, "minimum": 0},
    "gid": {"type": "integer", "optional": 1, "minimum": 0},
    "deny-write": {"type": "boolean", "optional": 1},
}

FEATURES_DESC = {
    "mount": {"type": "string", "optional": 1, "pattern": r"[a-zA-Z0-9_; ]+"},
    "nesting": {"type": "boolean", "optional": 1},
    "keyctl": {"type": "boolean", "optional": 1},
    "fuse": {"type": "boolean", "optional": 1},
    "mknod": {"type": "boolean", "optional": 1},
    "force_rw_sys": {"type": "boolean", "optional": 1},
}

NETCONF_DESC = {
    "type": {"type": "string", "optional": 1, "enum": ["veth"]},
    "name": {"type": "string", "pattern": r"[-_.\w\d]+"},
    "bridge": {"type": "string", "pattern": r"[-_.\w\d]+", "optional": 1},
    "hwaddr": {"type": "string", "format": "mac-addr", "optional": 1},
    "mtu": {"type": "integer", "minimum": 64, "maximum": 65535, "optional": 1},
    "ip": {"type": "string", "format": "pve-ipv4-config", "optional": 1},
    "gw": {"type": "string", "format": "ipv4", "optional": 1},
    "ip6": {"type": "string", "format": "pve-ipv6-config", "optional": 1},
    "gw6": {"type": "string", "format": "ipv6", "optional": 1},
    "firewall": {"type": "boolean", "optional": 1},
    "tag": {"type": "integer", "minimum": 1, "maximum": 4094, "optional": 1},
    "trunks": {"type": "string", "pattern": r"\d+(?:;\d+)*", "optional": 1},
    "rate": {"type": "number", "optional": 1},
    "link_down": {"type": "boolean", "optional": 1},
}

MAX_NETS = 32
MAX_MOUNT_POINTS = 256
MAX_UNUSED = 256
MAX_DEVICES = 256

CONFDESC = {
    "lock": {"optional": 1, "type": "string",
             "enum": ["backup", "create", "destroyed", "disk", "fstrim", "migrate", "mounted",
                      "rollback", "snapshot", "snapshot-delete"]},
    "onboot": {"optional": 1, "type": "boolean"},
    "startup": {"optional": 1, "type": "string", "format": "pve-startup-order"},
    "template": {"optional": 1, "type": "boolean"},
    "arch": {"optional": 1, "type": "string",
             "enum": ["amd64", "i386", "arm64", "armhf", "riscv32", "riscv64"]},
    "ostype": {"optional": 1, "type": "string",
               "enum": ["debian", "devuan", "ubuntu", "centos", "fedora", "opensuse",
                        "archlinux", "alpine", "gentoo", "nixos", "unmanaged"]},
    "console": {"optional": 1, "type": "boolean"},
    "tty": {"optional": 1, "type": "integer", "minimum": 0, "maximum": 6},
    "cores": {"optional": 1, "type": "integer", "minimum": 1, "maximum": 8192},
    "cpulimit": {"optional": 1, "type": "number", "minimum": 0, "maximum": 8192},
    "cpuunits": {"optional": 1, "type": "integer", "minimum": 0, "maximum": 500000},
    "memory": {"optional": 1, "type": "integer", "minimum": 16},
    "swap": {"optional": 1, "type": "integer", "minimum": 0},
    "hostname": {"optional": 1, "type": "string", "format": "dns-name", "maxLength": 255},
    "description": {"optional": 1, "type": "string", "maxLength": 8192},
    "searchdomain": {"optional": 1, "type": "string", "format": "dns-name-list"},
    "nameserver": {"optional": 1, "type": "string", "format": "lxc-ip-with-ll-iface-list"},
    "timezone": {"optional": 1, "type": "string", "format": "pve-ct-timezone"},
    "rootfs": {"optional": 1, "type": "string", "format": ROOTFS_DESC},
    "parent": {"optional": 1, "type": "string", "format": "pve-configid", "maxLength": 40},
    "snaptime": {"optional": 1, "type": "integer", "minimum": 0},
    "cmode": {"optional": 1, "type": "string", "enum": ["shell", "console", "tty"]},
    "protection": {"optional": 1, "type": "boolean"},
    "unprivileged": {"optional": 1, "type": "boolean"},
    "features": {"optional": 1, "type": "string", "format": FEATURES_DESC},
    "hookscript": {"optional": 1, "type": "string", "format": "pve-volume-id"},
    "tags": {"optional": 1, "type": "string", "format": "pve-tag-list"},
    "debug": {"optional": 1, "type": "boolean"},
    # pve-container 6.0.15: the lxc.environment.runtime lines, NUL-joined
    "env": {"optional": 1, "type": "string",
            "pattern": r"(?:\w+=[^\x00-\x08\x0a-\x1F\x7F]*)(?:\0\w+=[^\x00-\x08\x0a-\x1F\x7F]*)*"},
}
for _i in range(MAX_NETS):
    CONFDESC[f"net{_i}"] = {"optional": 1, "type": "string", "format": NETCONF_DESC}
for _i in range(MAX_MOUNT_POINTS):
    CONFDESC[f"mp{_i}"] = {"optional": 1, "type": "string", "format": MP_DESC}
for _i in range(MAX_UNUSED):
    CONFDESC[f"unused{_i}"] = {"optional": 1, "type": "string", "format": UNUSED_DESC}
for _i in range(MAX_DEVICES):
    CONFDESC[f"dev{_i}"] = {"optional": 1, "type": "string", "format": DEV_DESC}


def json_config_properties(extra):
    """Config::json_config_properties: every option except parent/snaptime."""
    props = {k: v for k, v in CONFDESC.items() if k not in ("parent", "snaptime")}
    props.update(extra)
    return props


def option_exists(name):
    return name in CONFDESC


VMID_PARAM = {"type": "integer", "format": "pve-vmid", "minimum": 100, "maximum": 999999999}


def config_check_type(key, value):
    """Config::check_type, used when parsing the configuration file."""
    desc = CONFDESC.get(key)
    if not desc:
        _die(f"unknown setting '{key}'\n")
    if re.search(r"[\n\r]", value):
        _die("property contains a line feed\n")
    typ = desc["type"]
    if typ == "boolean":
        if value == "1" or re.fullmatch(r"(on|yes|true)", value, re.I):
            return "1"
        if value == "0" or re.fullmatch(r"(off|no|false)", value, re.I):
            return "0"
        _die(f"type check ('boolean') failed - got '{value}'\n")
    if typ == "integer":
        if re.fullmatch(r"\d+", value):
            return str(int(value))
        _die(f"type check ('integer') failed - got '{value}'\n")
    if typ == "number":
        if re.fullmatch(r"\d+(\.\d+)?", value):
            return value
        _die(f"type check ('number') failed - got '{value}'\n")
    if desc.get("format"):
        check_format(desc["format"], value, None)
    return value


# ---- network / volume helpers -----------------------------------------------------


def random_mac(prefix="BC:24:11"):
    rnd = bytearray(os.urandom(6))
    rnd[0] = (rnd[0] & 0xFE) | 2
    addr = ":".join(f"{b:02X}" for b in rnd)
    if prefix:
        addr = prefix.upper() + addr[len(prefix):]
    return addr


def parse_net(value):
    """Config::parse_lxc_network: validated dict, type=veth, generated
    hwaddr if none was given."""
    if not value:
        return {}
    res = parse_property_string(NETCONF_DESC, value)
    res["type"] = "veth"
    if not res.get("hwaddr"):
        res["hwaddr"] = random_mac()
    return res


def print_net(net):
    return print_property_string(net, NETCONF_DESC)


def parse_volume(key, value):
    """Config::parse_volume for rootfs, mpN and unusedN."""
    if key == "rootfs":
        res = parse_property_string(ROOTFS_DESC, value)
        res["mp"] = "/"
    elif key.startswith("mp"):
        res = parse_property_string(MP_DESC, value)
    else:
        res = parse_property_string(UNUSED_DESC, value)
    if res.get("size") is not None:
        size = parse_size(res["size"])
        if size is None:
            _die(f"invalid size: {res['size']}\n")
        res["size"] = size
    res["type"] = classify_mountpoint(res["volume"])
    return res


def print_volume(key, vol):
    skip = ["type"]
    if key == "rootfs":
        skip.append("mp")
    data = dict(vol)
    if data.get("size") is not None and not isinstance(data["size"], str):
        data["size"] = format_size(data["size"])
    desc = UNUSED_DESC if key.startswith("unused") else MP_DESC
    return print_property_string(data, desc, skip)


def classify_mountpoint(vol):
    if vol.startswith("/"):
        return "device" if vol.startswith("/dev/") else "bind"
    return "volume"


def parse_features(value):
    if not value:
        return {}
    return parse_property_string(FEATURES_DESC, value)


def parse_device(value):
    res = parse_property_string(DEV_DESC, value)
    if not res.get("path"):
        _die("Path has to be defined\n")
    return res
