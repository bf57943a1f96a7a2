# SPDX-License-Identifier: LGPL-2.1-or-later
"""Command line handling as in PVE::CLIHandler / PVE::JSONSchema::get_options.

Option parsing follows Getopt::Long as Proxmox configures it:
prefix_pattern (--|-), permute (options before or after positional
arguments), unique abbreviations, case-insensitive names, "--name=value",
"--" ends option parsing. Booleans take an optional value, list formats
can be repeated. Errors are printed the way Getopt::Long warns, followed by
the PVE::Exception text and the short usage line.
"""

import re
import sys

from . import schema
from .errors import HTTP_BAD_REQUEST, PveError, WorkerExit


class Command:
    """One (sub)command: like an entry of $cmddef plus its API method."""

    def __init__(self, name, arg_param, properties, handler, *, fixed=None,
                 worker=None, mappings=None):
        self.name = name
        self.arg_param = list(arg_param)
        self.properties = properties  # schema properties, without fixed ones
        self.handler = handler
        self.fixed = fixed or {}
        # None: not a worker; "upid": worker whose failure exits 255;
        # "noexit": worker without exit handler (push/pull/pveam download)
        self.worker = worker
        # parameter mappings applied before validation (interactive
        # password prompt, file names replaced by the file's contents)
        self.mappings = mappings or {}


def usage_str(exe, cmd):
    """RESTHandler::getopt_usage(..., 'short')."""
    args = []
    for p in cmd.arg_param:
        pd = cmd.properties.get(p, {})
        if pd.get("format") and re.search(r"-list", str(pd.get("format"))):
            args.append(f"{{<{p}>}}")
        else:
            args.append(f"[<{p}>]" if pd.get("optional") else f"<{p}>")
    argstr = " ".join(args)
    has_opts = False
    for k, pd in cmd.properties.items():
        if k in cmd.arg_param or k in cmd.fixed:
            continue
        has_opts = True
        if not pd.get("optional"):
            argstr += (" " if argstr else "") + f"--{k} <{pd.get('type', 'string')}>"
    out = f"{exe} {cmd.name} {argstr}"
    if has_opts:
        out += " [OPTIONS]"
    return out + "\n"


class GetoptError(Exception):
    pass


def _getopt(args, specs, warn):
    """Getopt::Long::GetOptionsFromArray with permute. specs maps a
    lower-case option name to '=s', ':s' or '=s@'. Returns (opts,
    remaining_args, ok)."""
    opts = {}
    rest = []
    ok = True
    names = sorted(specs)
    i = 0
    while i < len(args):
        arg = args[i]
        i += 1
        if arg == "--":
            rest.extend(args[i:])
            break
        m = re.fullmatch(r"(--|-)(.+)", arg, re.S)
        if not m or arg == "-":
            rest.append(arg)
            continue
        opt = m.group(2)
        optarg = None
        eq = opt.find("=", 1)
        if eq > 0:
            opt, optarg = opt[:eq], opt[eq + 1:]
        # Getopt::Long lower-cases the name (ignore_case) before looking it
        # up; an exact match wins over longer names it abbreviates
        opt = opt.lower()
        if opt in specs:
            name = opt
        else:
            hits = [n for n in names if n.startswith(opt)]
            if len(hits) == 1:
                name = hits[0]
            elif len(hits) > 1:
                warn(f"Option {opt} is ambiguous ({', '.join(hits)})\n")
                ok = False
                continue
            else:
                warn(f"Unknown option: {opt}\n")
                ok = False
                continue
        spec = specs[name]
        mandatory = spec.startswith("=")
        if optarg is not None and optarg == "" and mandatory:
            warn(f"Option {name} requires an argument\n")
            ok = False
            continue
        if optarg is None:
            if i >= len(args):
                if mandatory:
                    warn(f"Option {name} requires an argument\n")
                    ok = False
                    continue
                value = ""
            else:
                nxt = args[i]
                if mandatory:
                    value = nxt
                    i += 1
                elif nxt == "-":
                    value = nxt
                    i += 1
                elif nxt == "--" or re.fullmatch(r"(--|-).+", nxt, re.S):
                    value = ""
                else:
                    value = nxt
                    i += 1
        else:
            value = optarg
        if spec.endswith("@"):
            opts.setdefault(name, []).append(value)
        else:
            opts[name] = value
    return opts, rest, ok


def get_options(cmd, argv, warn):
    """JSONSchema::get_options: returns the parameter dict (strings, lists
    for extra-args)."""
    specs = {}
    for prop, pd in cmd.properties.items():
        if prop in cmd.fixed:
            continue
        if prop in cmd.arg_param:
            continue
        if pd.get("type") == "boolean" or pd.get("interactive"):
            specs[prop.lower()] = ":s"
        elif pd.get("format") and re.search(r"-a?list", str(pd.get("format"))):
            specs[prop.lower()] = "=s@"
        else:
            specs[prop.lower()] = "=s"
    lower_to_prop = {p.lower(): p for p in cmd.properties}
    raw, args, ok = _getopt(list(argv), specs, warn)
    if not ok:
        raise PveError("unable to parse option\n", code=HTTP_BAD_REQUEST)
    opts = {lower_to_prop[k]: v for k, v in raw.items()}
    if args:
        for name in cmd.arg_param:
            if "extra-args" in opts:
                raise PveError("internal error: extra-args must be the last argument\n",
                               code=HTTP_BAD_REQUEST)
            if name == "extra-args":
                opts["extra-args"] = args
                args = []
                continue
            if not args:
                raise PveError("not enough arguments\n", code=HTTP_BAD_REQUEST)
            opts[name] = args.pop(0)
        if args:
            raise PveError("too many arguments\n", code=HTTP_BAD_REQUEST)
    else:
        for name in cmd.arg_param:
            if name == "extra-args":
                opts["extra-args"] = []
            else:
                raise PveError("not enough arguments\n", code=HTTP_BAD_REQUEST)
    for p, v in list(opts.items()):
        pd = cmd.properties.get(p, {})
        if pd.get("interactive"):
            continue
        if pd.get("type") == "boolean":
            if v == "":
                opts[p] = "1"
            else:
                b = schema.parse_boolean(v)
                if b is None:
                    raise PveError("unable to parse boolean option\n", code=HTTP_BAD_REQUEST)
                opts[p] = str(b)
        elif pd.get("format") and re.search(r"-list", str(pd.get("format"))):
            if isinstance(v, list):
                opts[p] = ",".join(v)
        elif pd.get("format") and re.search(r"-alist", str(pd.get("format"))):
            if isinstance(v, list):
                opts[p] = "\0".join(v) if len(v) != 1 else v[0] + "\0"
    for p, v in cmd.fixed.items():
        opts[p] = v
    return opts


class Cli:
    """The command table of one tool (pct, pveam) and its dispatcher."""

    def __init__(self, exe, commands, all_names, aliases=None):
        self.exe = exe
        self.commands = {c.name: c for c in commands}
        # every command name Proxmox defines (for prefix expansion), even
        # those the double does not implement
        self.all_names = sorted(set(all_names) | set(self.commands) | {"help"})
        # alias -> command: only the full alias counts (CLIHandler's
        # $expand_command_name leaves aliases out of prefix expansion)
        self.aliases = dict(aliases or {})

    def print_usage_short(self, fd, msg):
        if msg:
            fd.write(f"ERROR: {msg}\n")
        fd.write(f"USAGE: {self.exe} <COMMAND> [ARGS] [OPTIONS]\n\n")
        for name in sorted(self.commands):
            fd.write("       " + usage_str(self.exe, self.commands[name]))

    def resolve(self, word):
        if word in self.all_names:
            return word
        if word in self.aliases:
            return self.aliases[word]
        hits = [n for n in self.all_names if n.startswith(word)]
        return hits[0] if len(hits) == 1 else None

    def run(self, argv):
        """Returns the exit status."""
        out, err = sys.stdout, sys.stderr
        if not argv:
            self.print_usage_short(err, "no command specified")
            return 255
        name = self.resolve(argv[0])
        cmdstr = f"{self.exe} {name if name else argv[0]}"
        if name == "help":
            self.print_usage_short(out, None)
            return 0
        cmd = self.commands.get(name) if name else None
        if cmd is None:
            if name:
                err.write(f"{self.exe} {name}: not implemented by the test double\n")
                return 255
            self.print_usage_short(err, f"unknown command '{cmdstr}'")
            return 255

        def warn(text):
            err.write(text)
            err.flush()

        try:
            try:
                params = get_options(cmd, argv[1:], warn)
                for key, func in cmd.mappings.items():
                    if key in params:
                        params[key] = func(params[key])
                schema.validate(params, {**cmd.properties, **{k: {"type": "string"}
                                                              for k in cmd.fixed}})
                status = cmd.handler(params)
            except PveError as e:
                if e.is_param_exc():
                    e.usage = usage_str(self.exe, cmd)
                raise
        except PveError as e:
            out.flush()
            err.write(str(e))
            err.flush()
            return 255
        except WorkerExit as e:
            out.flush()
            err.flush()
            return e.status
        except Exception:  # noqa: BLE001 - a bug of the double: say so, fail like a die
            import traceback
            out.flush()
            err.write(f"internal error of the {self.exe} test double:\n{traceback.format_exc()}")
            return 255
        out.flush()
        return status or 0
