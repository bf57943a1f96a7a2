# SPDX-License-Identifier: LGPL-2.1-or-later
"""Error objects that render exactly like Proxmox's Perl errors.

Proxmox code either dies with a plain string (usually ending in "\\n") or
raises a PVE::Exception carrying an HTTP code, a hash of per-parameter
errors and, on the command line, a usage line. PVE::Exception::stringify
glues these together without adding or removing newlines, which is why a
parameter error whose message already ends in "\\n" is followed by an empty
line. PveError.__str__ reproduces that rendering byte for byte.
"""

HTTP_BAD_REQUEST = 400

# File and line that Perl appends to a die() message without trailing
# newline. Only a handful of pct messages lack the newline; they are
# rendered with the location of the corresponding die in pct.pm.
PCT_PM = "/usr/share/perl5/PVE/CLI/pct.pm"


class PveError(Exception):
    """A Perl die: plain string or PVE::Exception."""

    def __init__(self, msg, code=None, errors=None, usage=None, location=None):
        super().__init__(msg)
        self.msg = msg
        self.code = code
        self.errors = dict(errors) if errors else None
        self.usage = usage
        # (file, line) appended like Perl does when msg lacks "\n"
        self.location = location

    def is_param_exc(self):
        return self.code == HTTP_BAD_REQUEST

    def __str__(self):
        msg = f"{self.code} {self.msg}" if self.code else self.msg
        if not msg.endswith("\n"):
            if self.location:
                msg += f" at {self.location[0]} line {self.location[1]}."
            msg += "\n"
        if self.errors:
            # Perl iterates a hash here (random order); sort for stable output.
            for key in sorted(self.errors):
                msg += f"{key}: {self.errors[key]}\n"
        if self.usage:
            msg += self.usage
            if not msg.endswith("\n"):
                msg += "\n"
        return msg


def die(msg, location=None):
    """Plain Perl die."""
    raise PveError(msg, location=location)


def raise_param_exc(errors, usage=None):
    raise PveError("Parameter verification failed.\n", code=HTTP_BAD_REQUEST,
                   errors=errors, usage=usage)


def raise_400(msg):
    raise PveError(msg, code=HTTP_BAD_REQUEST)


class WorkerExit(Exception):
    """Internal: leave the program with a given exit status."""

    def __init__(self, status):
        super().__init__(status)
        self.status = status
