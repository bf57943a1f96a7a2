# SPDX-License-Identifier: LGPL-2.1-or-later
"""The state file contract: schemas/state.schema.json and its fixtures.

Schema tests need only python3-jsonschema. The tests whose names contain
"c_validator" run `$OPDBUS_BIN validate FILE` against the same fixtures and
fail (they do not skip) when OPDBUS_BIN is not set:

    python3 -m pytest tests/integration/test_schema.py -k "not c_validator"
    OPDBUS_BIN=/path/to/op-dbus python3 -m pytest tests/integration/test_schema.py -k c_validator

A relative OPDBUS_BIN is taken relative to the repository root.

The fixtures in invalid/ whose names start with "json-" are not JSON as
RFC 8259 defines it (comments, single quotes, trailing commas, keys given
twice, ...): both validators refuse them before any schema applies, and
expected.json names the path where op-dbus finds the fault.
"""

import json
import os
import re
import subprocess
from pathlib import Path

import pytest
from jsonschema import Draft202012Validator

REPO = Path(__file__).resolve().parents[2]
SCHEMA_PATH = REPO / "schemas" / "state.schema.json"
FIXTURES = REPO / "tests" / "fixtures"
VALID_DIR = FIXTURES / "valid"
INVALID_DIR = FIXTURES / "invalid"
SEMANTIC_DIR = FIXTURES / "invalid-semantic"
PROFILES_DIR = REPO / "profiles"

# Exit status of `op-dbus validate` for a document that is not a valid state.
EXIT_INVALID = 2


def _json_files(directory):
    """The *.json fixtures of a directory, without its expected.json."""
    return sorted(p for p in directory.glob("*.json") if p.name != "expected.json")


class NotJSON(ValueError):
    """The text is not JSON as RFC 8259 defines it."""


def _unique_keys(pairs):
    keys = [k for k, _ in pairs]
    duplicates = sorted({k for k in keys if keys.count(k) > 1})
    if duplicates:
        raise NotJSON(f"keys given twice in one object: {duplicates}")
    return dict(pairs)


def _no_constant(name):
    raise NotJSON(f"{name} is not a JSON number")


def _load(path):
    """Reads a JSON file as strictly as op-dbus does: Python's json module
    also accepts NaN and Infinity and keeps the last of two equal keys."""
    try:
        with open(path, encoding="utf-8") as f:
            return json.load(f, object_pairs_hook=_unique_keys, parse_constant=_no_constant)
    except (UnicodeDecodeError, json.JSONDecodeError) as e:
        raise NotJSON(str(e)) from e


def _ids(paths):
    return [f"{p.parent.name}/{p.name}" for p in paths]


SCHEMA = _load(SCHEMA_PATH)
VALIDATOR = Draft202012Validator(SCHEMA)

VALID = _json_files(VALID_DIR)
PROFILES = _json_files(PROFILES_DIR) if PROFILES_DIR.is_dir() else []
INVALID = _json_files(INVALID_DIR)
SEMANTIC = _json_files(SEMANTIC_DIR)
EXPECTED_INVALID = _load(INVALID_DIR / "expected.json")
EXPECTED_SEMANTIC = _load(SEMANTIC_DIR / "expected.json")

# (fixture, path the C validator must name) for every rejected fixture.
REJECTED = [(p, EXPECTED_INVALID.get(p.name)) for p in INVALID] + \
           [(p, EXPECTED_SEMANTIC.get(p.name)) for p in SEMANTIC]


# ---------------------------------------------------------------- helpers

def _is_canonical(doc):
    """The form rule: a top level with "version" or "plugins" is canonical."""
    return isinstance(doc, dict) and ("version" in doc or "plugins" in doc)


def _render(components):
    """Render a sequence of keys and indices as plugins.net.bridges[0].name."""
    out = ""
    for c in components:
        if isinstance(c, int):
            out += f"[{c}]"
        else:
            out += f".{c}" if out else c
    return out


def _error_locations(error):
    """Where a jsonschema error points, as canonical-form path components.

    Errors about keys (unknown, missing, reserved) point at the key itself,
    the same convention the C validator uses."""
    base = list(error.absolute_path)
    if "propertyNames" in error.absolute_schema_path:
        return [base + [error.instance]]        # error.instance is the key
    if error.validator == "additionalProperties":
        known = error.schema.get("properties", {})
        return [base + [k] for k in error.instance if k not in known]
    if error.validator == "required":
        return [base + [k] for k in error.validator_value if k not in error.instance]
    return [base]


def _schema_error_paths(doc):
    """All schema errors of a document, located in canonical-form notation.

    The document is checked against the form it claims (canonical or bare)
    rather than against the top-level oneOf, so errors stay specific. A bare
    document's sections are reported under "plugins.", but a key at its top
    level is reported as just the key, as in the canonical form."""
    canonical = _is_canonical(doc)
    branch = Draft202012Validator({
        "$ref": "#/$defs/canonical" if canonical else "#/$defs/bare",
        "$defs": SCHEMA["$defs"],
    })
    paths = []
    for error in branch.iter_errors(doc):
        for loc in _error_locations(error):
            top_level_key = not error.absolute_path and error.validator == "additionalProperties"
            prefix = [] if canonical or top_level_key else ["plugins"]
            paths.append(_render(prefix + loc))
    return paths


def _within(path, ancestor):
    """True if `ancestor` is `path` or one of its ancestors."""
    return path == ancestor or path.startswith(ancestor + ".") or path.startswith(ancestor + "[")


def _names_path(text, path):
    """True if `text` names exactly `path` (not a longer or shorter path)."""
    pattern = r"(?<![A-Za-z0-9_.\[\]-])" + re.escape(path) + r"(?![A-Za-z0-9_.\[-])"
    return re.search(pattern, text) is not None


def _opdbus_bin():
    """$OPDBUS_BIN; a relative path is taken relative to the repository root."""
    if os.environ.get("OPDBUS_BUILD_FAILED") == "1":
        pytest.fail("the op-dbus build failed; not running a stale binary", pytrace=False)
    binary = os.environ.get("OPDBUS_BIN")
    if not binary:
        pytest.fail("OPDBUS_BIN is not set: point it at the built op-dbus binary, "
                    "or deselect these tests with -k 'not c_validator'", pytrace=False)
    path = REPO / binary
    if not (path.is_file() and os.access(path, os.X_OK)):
        pytest.fail(f"OPDBUS_BIN={binary!r} is not an executable file", pytrace=False)
    return str(path)


def _run_validate(path):
    return subprocess.run([_opdbus_bin(), "validate", str(path)],
                          capture_output=True, text=True, timeout=60,
                          stdin=subprocess.DEVNULL)


# ------------------------------------------------------------ the schema

def test_schema_is_valid_2020_12():
    assert SCHEMA.get("$schema") == "https://json-schema.org/draft/2020-12/schema"
    Draft202012Validator.check_schema(SCHEMA)


def test_fixture_sets_are_populated():
    assert len(VALID) >= 5
    assert len(INVALID) >= 12
    assert len(SEMANTIC) >= 3


def test_expected_json_matches_fixtures():
    assert sorted(EXPECTED_INVALID) == [p.name for p in INVALID]
    assert sorted(EXPECTED_SEMANTIC) == [p.name for p in SEMANTIC]
    for path in list(EXPECTED_INVALID.values()) + list(EXPECTED_SEMANTIC.values()):
        assert isinstance(path, str) and path


def test_bare_form_reads_as_canonical():
    canonical = _load(VALID_DIR / "net-minimal.json")
    bare = _load(VALID_DIR / "net-minimal-bare.json")
    assert canonical == {"version": 1, "plugins": bare}


@pytest.mark.parametrize("path", VALID + PROFILES, ids=_ids(VALID + PROFILES))
def test_schema_accepts_valid(path):
    doc = _load(path)
    errors = [f"{_render(e.absolute_path) or '(top level)'}: {e.message}"
              for e in VALIDATOR.iter_errors(doc)]
    assert not errors, "\n".join(errors)


@pytest.mark.parametrize("path", INVALID, ids=_ids(INVALID))
def test_schema_rejects_invalid(path):
    if path.name.startswith("json-"):
        # Not JSON (RFC 8259) at all: refused before any schema applies.
        with pytest.raises(NotJSON):
            _load(path)
        return
    doc = _load(path)
    assert not VALIDATOR.is_valid(doc), f"{path.name} is accepted by the schema"

    # Exactly one defect, at the path expected.json names: every error the
    # schema reports must lie on the way to that path.
    expected = EXPECTED_INVALID[path.name]
    located = _schema_error_paths(doc)
    assert located, f"{path.name}: no error in its own form"
    stray = [p for p in located if not _within(expected, p)]
    assert not stray, f"{path.name}: errors at {stray}, expected only at or above {expected!r}"


@pytest.mark.parametrize("path", SEMANTIC, ids=_ids(SEMANTIC))
def test_schema_accepts_semantic_errors(path):
    doc = _load(path)
    errors = [f"{_render(e.absolute_path) or '(top level)'}: {e.message}"
              for e in VALIDATOR.iter_errors(doc)]
    assert not errors, "\n".join(errors)


# ----------------------------------------------------- the C validator

# Placeholders the profiles and the design document leave for the operator,
# with a value of the right shape for each.
PLACEHOLDERS = {
    "VPS_IP": "203.0.113.7",
    "VPS_PUBLIC_IP": "203.0.113.8",
    "UUID": "1b671a64-40d5-491e-99b0-da01ff1f3341",
    "CLIENT_PUBLIC_KEY": "xTIBA5rboUvnH4htodjb6e697QjLERt1NAB4mZqp8Dg=",
    "WARP_PUBLIC_KEY": "bmXOC+F1FxEMF9dyiK2H5/1SUtzH0JuVo51h2wPfgyo=",
}


def _fill(value):
    if isinstance(value, dict):
        return {k: _fill(v) for k, v in value.items()}
    if isinstance(value, list):
        return [_fill(v) for v in value]
    return PLACEHOLDERS.get(value, value) if isinstance(value, str) else value


def _placeholders_in(value):
    if isinstance(value, dict):
        return [p for v in value.values() for p in _placeholders_in(v)]
    if isinstance(value, list):
        return [p for v in value for p in _placeholders_in(v)]
    return [value] if value in PLACEHOLDERS else []


@pytest.mark.parametrize("path", VALID + PROFILES, ids=_ids(VALID + PROFILES))
def test_c_validator_accepts_valid(path, tmp_path):
    """Valid documents validate; one with placeholders is refused for
    exactly those (each named with its path), and validates once they are
    filled in."""
    doc = _load(path)
    words = _placeholders_in(doc)
    result = _run_validate(path)
    if words:
        lines = [line for line in result.stderr.splitlines() if line.startswith("error: ")]
        assert result.returncode == EXIT_INVALID, result.stderr
        assert len(lines) == len(words) and all("placeholder" in line for line in lines), result.stderr
        filled = tmp_path / path.name
        filled.write_text(json.dumps(_fill(doc)))
        result = _run_validate(filled)
    assert result.returncode == 0, (
        f"op-dbus validate {path.name} exited {result.returncode}\n"
        f"stderr:\n{result.stderr}")


@pytest.mark.parametrize("path,expected", REJECTED, ids=_ids([p for p, _ in REJECTED]))
def test_c_validator_rejects_invalid(path, expected):
    assert expected, f"{path.name} has no entry in its expected.json"
    result = _run_validate(path)
    assert result.returncode == EXIT_INVALID, (
        f"op-dbus validate {path.name} exited {result.returncode}, expected {EXIT_INVALID}\n"
        f"stderr:\n{result.stderr}")
    assert _names_path(result.stderr, expected), (
        f"op-dbus validate {path.name}: stderr does not name {expected!r}\n"
        f"stderr:\n{result.stderr}")


# Where `op-dbus validate` finds the fault in each non-JSON fixture: line:column
# (in characters), and for a key given twice both places.
NOT_JSON_AT = {
    "json-comment-block.json": "4:5: invalid JSON: a comment",
    "json-comment-line.json": "8:11: invalid JSON: a comment",
    "json-control-character.json": "7:23: invalid JSON: a tab inside a string",
    "json-duplicate-key-bare-section.json": "2:3 and at {file}:5:3",
    "json-duplicate-key-ports.json": "8:11 and at {file}:11:11",
    "json-nan.json": "5:28: invalid JSON: NaN is not a JSON number",
    "json-not-utf8.json": "7:22: invalid JSON: byte 0xE9 is not UTF-8",
    "json-number-leading-zero.json": "9:58: invalid JSON: 010 is not a JSON number",
    "json-single-quoted-key.json": "7:11: invalid JSON: a key in single quotes",
    "json-single-quoted-string.json": "7:19: invalid JSON: a string in single quotes",
    "json-trailing-comma-array.json": "10:11: invalid JSON: a comma before ']'",
    "json-trailing-comma-object.json": "9:9: invalid JSON: a comma before '}}'",
    "json-unquoted-key.json": "7:11: invalid JSON: the key name has no quotes",
}
NOT_JSON = [p for p in INVALID if p.name.startswith("json-")]


def test_not_json_fixtures_have_positions():
    assert sorted(NOT_JSON_AT) == [p.name for p in NOT_JSON]


@pytest.mark.parametrize("path", NOT_JSON, ids=_ids(NOT_JSON))
def test_c_validator_names_line_and_column_of_non_json(path):
    """From a file and from standard input: "PATH: FILE:LINE:COLUMN: ..."
    (a key given twice: "PATH: ... at FILE:L:C and at FILE:L:C")."""
    expected = EXPECTED_INVALID[path.name]
    for origin, result in ((str(path), _run_validate(path)),
                           ("<stdin>", subprocess.run([_opdbus_bin(), "validate", "-"], input=path.read_bytes(),
                                                      capture_output=True, timeout=60))):
        stderr = result.stderr if isinstance(result.stderr, str) else result.stderr.decode()
        assert result.returncode == EXIT_INVALID, stderr
        where = NOT_JSON_AT[path.name].format(file=origin)
        assert [line for line in stderr.splitlines() if line.startswith("error: ")] == [
            line for line in stderr.splitlines() if line.startswith(f"error: {expected}: ")], stderr
        assert f"error: {expected}: " in stderr and f"{origin}:{where}" in stderr, stderr
