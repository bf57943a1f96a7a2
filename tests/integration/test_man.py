# SPDX-License-Identifier: LGPL-2.1-or-later
"""The manual pages (man/): op-dbus(8) and op-router(8) name every command,
option, variable and exit status the programs' --help and help COMMAND
print, op-dbus-state(5)'s examples validate, mandoc finds nothing to warn
about, and meson installs them."""

import json
import os
import re
import subprocess
from pathlib import Path
from types import SimpleNamespace

import pytest

ROOT = Path(__file__).resolve().parents[2]
MAN = ROOT / "man"
PAGES = ["op-dbus.8", "op-dbus-state.5", "op-router.8"]

pytest_plugins = ("router_fixture",)


def render(page):
    """The page as mandoc prints it, without overstrike, one tag a line."""
    out = subprocess.run(["mandoc", "-Tascii", "-Owidth=400", str(MAN / page)], check=True,
                         capture_output=True, text=True).stdout
    return re.sub(r".\x08", "", out)


def sections(text):
    """{SECTION NAME: its text} of a rendered page."""
    out, name = {}, None
    for line in text.splitlines():
        if re.fullmatch(r"[A-Z][A-Z ]+", line):
            name = line
            out[name] = ""
        elif name:
            out[name] += line + "\n"
    return out


def help_commands(help_text):
    block = help_text.split("\nCommands:\n")[1].split("\n\n")[0]
    return re.findall(r"^  ([a-z-]+)(?: |$)", block, re.M)


def options_in(text):
    """Every option a text names: --word or -x, not a hyphen inside a word."""
    return set(re.findall(r"(?<![\w-])(--?[a-zA-Z][\w-]*)", text))


def exit_codes(help_text):
    tail = help_text.split("Exit status:")[1]
    return {int(n) for n in re.findall(r"(?<![\w-])(\d+) [a-z]", tail)}


def page_exit_codes(page_sections):
    return {int(n) for n in re.findall(r"^ {5}(\d+)\s", page_sections["EXIT STATUS"], re.M)}


def missing_from_page(program, page):
    """What program's --help and help COMMAND print that the page does not
    say: ("command", NAME), ("option", NAME), ("variable", NAME) and
    ("exit status", N) for each."""
    text = render(page)
    parts = sections(text)
    full = program.run("--help", check=0).stdout
    missing = []
    for verb in help_commands(full):
        if not re.search(rf"^ {{5}}{re.escape(verb)}(?: |$)", parts["COMMANDS"], re.M):
            missing.append(("command", verb))
        for option in sorted(options_in(program.run("help", verb, check=0).stdout)):
            if not re.search(rf"(?<![\w-]){re.escape(option)}(?![\w-])", text):
                missing.append(("option", f"{verb} {option}"))
    for option in sorted(options_in(full.split("\nOptions:\n")[1])):
        if not re.search(rf"(?<![\w-]){re.escape(option)}(?![\w-])", parts["OPTIONS"]):
            missing.append(("option", option))
    for variable in sorted(set(re.findall(r"\$([A-Z_]+)", full))):
        if not re.search(rf"\b{variable}\b", parts["ENVIRONMENT"]):
            missing.append(("variable", variable))
    codes = exit_codes(full)
    for code in sorted(codes ^ page_exit_codes(parts)):
        missing.append(("exit status", code))
    return missing


def test_op_dbus_page_names_everything_help_prints(opdbus):
    assert missing_from_page(opdbus, "op-dbus.8") == []


def test_op_router_page_names_everything_help_prints(oprouter):
    assert missing_from_page(oprouter, "op-router.8") == []


def test_exit_statuses_of_the_pages(opdbus, oprouter):
    assert page_exit_codes(sections(render("op-dbus.8"))) == set(range(8))
    assert page_exit_codes(sections(render("op-router.8"))) == set(range(7))
    assert exit_codes(opdbus.run("--help", check=0).stdout) == set(range(8))


class Doctored:
    """A program whose --help says more than the real one: a command and
    an option the page cannot know."""

    def __init__(self, real):
        self.real = real

    def run(self, *args, check=None):
        if args == ("help", "frobnicate"):
            return SimpleNamespace(stdout="Usage: op-dbus [OPTIONS] frobnicate [--frob-hard]\n")
        r = self.real.run(*args, check=check)
        if args == ("--help",):
            r.stdout = r.stdout.replace("\n  version ", "\n  frobnicate                     Frobnicate\n  version ")
            r.stdout = r.stdout.replace("\nOptions:\n", "\nOptions:\n  --frob-level N       How much\n")
        return r


def test_the_check_finds_a_command_and_an_option_the_page_lacks(opdbus):
    missing = missing_from_page(Doctored(opdbus), "op-dbus.8")
    assert missing == [("command", "frobnicate"), ("option", "frobnicate --frob-hard"), ("option", "--frob-level")]


@pytest.mark.parametrize("page", PAGES)
def test_mandoc_lint_is_clean(page):
    r = subprocess.run(["mandoc", "-Tlint", "-W", "warning", str(MAN / page)], capture_output=True, text=True)
    assert r.returncode == 0 and r.stdout == "" and r.stderr == "", r.stdout + r.stderr


# The schema's objects whose keys the state page lists, in its section of
# each plugin (--list-plugins).
SCHEMA_OBJECTS = {"net": ["net", "bridge", "port"], "openflow": ["openflow", "of_bridge", "flow"],
                  "lxc": ["lxc", "container"], "netmaker": ["netmaker"],
                  "ovn": ["ovn", "ovn_chassis", "ovn_switch", "ovn_port"]}


def subsections(text):
    out, name = {}, None
    for line in text.splitlines():
        m = re.fullmatch(r"   (\S.*)", line)
        if m:
            name = m.group(1)
            out[name] = ""
        elif name:
            out[name] += line + "\n"
    return out


def test_state_page_has_each_plugins_section_with_its_keys(opdbus):
    schema = json.loads((ROOT / "schemas" / "state.schema.json").read_text())["$defs"]
    parts = subsections(render("op-dbus-state.5"))
    assert "The envelope" in parts
    plugins = opdbus.run("--list-plugins", check=0).stdout.split()
    assert sorted(plugins) == sorted(SCHEMA_OBJECTS)
    for plugin in plugins:
        assert plugin in parts, f"op-dbus-state.5 has no section {plugin}"
        for obj in SCHEMA_OBJECTS[plugin]:
            for key in schema[obj]["properties"]:
                assert re.search(rf"\b{key}\b", parts[plugin]), f"op-dbus-state.5, {plugin}: no {obj}.{key}"


def test_state_page_examples_validate(opdbus, tmp_state):
    blocks = re.findall(r"^\.Bd -literal[^\n]*\n(.*?)^\.Ed$", (MAN / "op-dbus-state.5").read_text(), re.M | re.S)
    examples = [json.loads(b) for b in blocks if b.lstrip().startswith("{")]
    assert len(examples) == 2
    for example in examples:
        r = opdbus.run("validate", tmp_state(example))
        assert r.returncode == 0, f"{json.dumps(example)}\n{r.stderr}"
    assert examples[0]["plugins"]["net"] == examples[1]["net"]


def test_meson_installs_the_pages_and_the_completion():
    build = Path(os.environ.get("OPDBUS_BUILD_DIR") or ROOT / "build-test")
    if not build.is_absolute():
        build = ROOT / build
    installed = json.loads(subprocess.run(["meson", "introspect", "--installed", str(build)], check=True,
                                          capture_output=True, text=True).stdout)
    # the pages from the tree, the completion files as the build makes
    # them (build/completion: the shared functions and each program's part)
    by_source = {Path(src).relative_to(ROOT).as_posix(): dest for src, dest in installed.items()
                 if src.startswith(str(ROOT / "man"))}
    by_source.update({Path(src).relative_to(build).as_posix(): dest for src, dest in installed.items()
                      if src.startswith(str(build / "completion"))})
    assert by_source["man/op-dbus.8"].endswith("/share/man/man8/op-dbus.8")
    assert by_source["man/op-dbus-state.5"].endswith("/share/man/man5/op-dbus-state.5")
    assert by_source["man/op-router.8"].endswith("/share/man/man8/op-router.8")
    for name in ("op-dbus", "op-router"):
        assert by_source[f"completion/{name}"].endswith(f"/share/bash-completion/completions/{name}")
