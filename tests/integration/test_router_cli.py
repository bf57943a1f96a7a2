# SPDX-License-Identifier: LGPL-2.1-or-later
"""op-router's command line (docs/router.md): the verbs and conventions of
op-dbus (the same options, --json, exit codes), its own directories and
variables, and what it is made of: no D-Bus, no Open vSwitch, and no other
program it could run."""

import json
import re
import signal
import subprocess

pytest_plugins = ("router_fixture",)

EMPTY = {"version": 1, "plugins": {}}


def test_version_option_and_verb(oprouter):
    a = oprouter.run("--version", check=0).stdout
    assert re.fullmatch(r"op-router \d+\.\d+\.\d+\n", a), a
    assert oprouter.run("version", check=0).stdout == a


def help_commands(oprouter):
    full = oprouter.run("--help", check=0).stdout
    return re.findall(r"^  ([a-z-]+)(?: |$)", full.split("\nCommands:\n")[1].split("\n\n")[0], re.M)


def test_help_lists_every_command_and_explains_each(oprouter):
    full = oprouter.run("--help", check=0).stdout
    assert oprouter.run("help", check=0).stdout == full
    commands = help_commands(oprouter)
    assert commands == ["validate", "plan", "apply", "confirm", "query", "diff", "verify", "checkpoints",
                        "rollback", "run", "version", "help"]
    for verb in commands:
        r = oprouter.run("help", verb, check=0)
        assert r.stdout.startswith(f"Usage: op-router [OPTIONS] {verb}"), r.stdout
        assert "docs/router.md" in r.stdout
        # ... and the dispatcher knows it
        r = oprouter.run(verb, "x", "y", "z")
        assert "Unknown command" not in r.stderr, (verb, r.stderr)
    r = oprouter.run("help", "nosuch", check=2)
    assert r.stderr == "op-router: error: help: unknown command \"nosuch\"; 'op-router help' lists them.\n"
    r = oprouter.run("nosuch", check=2)
    assert r.stderr == "op-router: error: Unknown command \"nosuch\"; see 'op-router --help'.\n"


def test_options_of_op_dbus_with_its_messages(oprouter):
    r = oprouter.run("rollback", "--to", "-1", check=2)
    assert r.stderr == ('op-router: error: --to: "-1" is not a generation number: expected one of those '
                        "'op-router checkpoints' lists, such as 3.\n")
    r = oprouter.run("apply", "--confirm-timeout", "0", "x.json", check=2)
    assert "--confirm-timeout: expected 1..86400 seconds" in r.stderr
    r = oprouter.run("apply", "--dry-run", "--confirm-timeout", "5", "x.json", check=2)
    assert "do not go together" in r.stderr
    r = oprouter.run("validate", check=2)
    assert r.stderr == "op-router: error: validate: missing FILE (use '-' for standard input).\n"


def test_directories_from_variables_and_options(oprouter, tmp_path, tmp_state):
    path = tmp_state(EMPTY)
    r = oprouter.run("apply", "--json", path, check=0)
    assert json.loads(r.stdout)["generation"] == 1
    assert (oprouter.state_dir / "checkpoints").is_dir()
    assert (oprouter.run_dir / "apply.lock").exists()
    listed = json.loads(oprouter.run("checkpoints", "--json", check=0).stdout)
    assert [c["generation"] for c in listed] == [1]
    assert listed[0]["path"].startswith(str(oprouter.state_dir))

    other = tmp_path / "other-state"
    listed = json.loads(oprouter.run("checkpoints", "--json", "--state-dir", other, check=0).stdout)
    assert listed == []
    r = oprouter.run("rollback", "--state-dir", other, check=2)
    assert r.stderr == "error: there is no earlier checkpoint to roll back to (0 stored)\n"
    r = oprouter.run("rollback", "--to", "7", check=2)
    assert r.stderr == "error: there is no checkpoint 7: the stored ones are 1..1 (op-router checkpoints lists them)\n"


def test_json_on_every_verb_and_the_exit_codes(oprouter, tmp_state):
    good = tmp_state(EMPTY)
    for verb in ("validate", "plan", "apply", "diff", "verify"):
        out = json.loads(oprouter.run(verb, "--json", good, check=0).stdout)
        assert out["ok"] and out["status"] == "ok", (verb, out)
        assert out["counts"] == {"writes": 0, "rtnl_messages": 0, "genl_messages": 0, "nft_messages": 0, "commands": 0}, (verb, out)
    bad = tmp_state({"version": 1, "plugins": {"nosuch": {}}})
    out = json.loads(oprouter.run("validate", "--json", bad, check=2).stdout)
    assert out["status"] == "invalid" and out["errors"][0].startswith("plugins.nosuch: unknown plugin section")
    assert isinstance(json.loads(oprouter.run("query", "--json", check=0).stdout), dict)
    assert isinstance(json.loads(oprouter.run("checkpoints", "--json", check=0).stdout), list)


def undefined_symbols(binary):
    out = subprocess.run(["nm", "-D", "--undefined-only", binary], capture_output=True, text=True, check=True)
    return {line.split()[-1].split("@")[0] for line in out.stdout.splitlines() if line.strip()}


def test_links_no_dbus_and_runs_no_program(oprouter_bin):
    """No libsystemd (D-Bus), no Open vSwitch or Proxmox code, and no way to
    start another program: every change goes through netlink."""
    needed = subprocess.run(["readelf", "-d", oprouter_bin], capture_output=True, text=True, check=True).stdout
    assert "libc.so" in needed and "libjson-c" in needed
    assert "libsystemd" not in needed and "libcurl" not in needed and "libopenvswitch" not in needed
    symbols = undefined_symbols(oprouter_bin)
    starts = sorted(s for s in symbols if re.fullmatch(r"(posix_spawn\w*|exec\w*|system|popen|fork|vfork|clone3?)", s))
    assert not starts, starts
    defined = subprocess.run(["nm", oprouter_bin], capture_output=True, text=True, check=True).stdout
    assert not re.search(r" [Tt] (ovsdb_|ofp_|pve_|exec_capture|sd_bus_)", defined)


def test_runs_under_its_seccomp_filter(oprouter_bin, oprouter, tmp_state):
    """op-router enters its seccomp filter before any verb: the hidden
    --selftest-sandbox asks the kernel to run a program after entering it
    and is killed for it (SIGSYS); a verb still does its work under it."""
    r = subprocess.run([str(oprouter_bin), "--selftest-sandbox"], capture_output=True, text=True, timeout=30)
    assert r.returncode == -signal.SIGSYS, (r.returncode, r.stderr)
    path = tmp_state(EMPTY)
    r = oprouter.run("validate", path, check=0)
    assert r.returncode == 0


def test_confirm_timeout_is_refused_while_no_daemon_keeps_the_timer(oprouter, tmp_state):
    """Without a daemon holding the deadline, an apply with
    --confirm-timeout would never be reverted: it is refused, and nothing
    is applied, rather than applied without its safety net."""
    path = tmp_state(EMPTY)
    r = oprouter.run("apply", "--confirm-timeout", "90", path, check=5)
    assert r.stderr == ("op-router: error: apply --confirm-timeout: no op-router daemon is running to keep the "
                        "timer (start it: '/etc/init.d/op-router start' or 'systemctl start op-router'). Nothing "
                        "was changed.\n")
    assert json.loads(oprouter.run("checkpoints", "--json", check=0).stdout) == []
    r = oprouter.run("confirm", check=2)
    assert r.stderr == "op-router: error: confirm: no apply is waiting for confirmation.\n"
