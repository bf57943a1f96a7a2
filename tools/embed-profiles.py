#!/usr/bin/env python3
"""Writes a C file that embeds profiles/*.json, for `op-dbus init`."""
import json
import os
import sys

out = sys.argv[1]
entries = []
for path in sorted(sys.argv[2:]):
    name = os.path.splitext(os.path.basename(path))[0]
    with open(path, encoding="utf-8") as f:
        text = f.read()
    json.loads(text)  # a broken profile fails the build
    entries.append((name, text))

with open(out, "w", encoding="utf-8") as f:
    f.write("/* Generated from the files in profiles/; do not edit. */\n")
    f.write('#include "profiles.h"\n\n')
    f.write("const Profile builtin_profiles[] = {\n")
    for name, text in entries:
        f.write("        { %s, %s },\n" % (json.dumps(name), json.dumps(text)))
    f.write("        { 0 },\n};\n")
