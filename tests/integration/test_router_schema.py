# SPDX-License-Identifier: LGPL-2.1-or-later
"""The router's state contract: schemas/router-state.schema.json and the
fixtures in tests/fixtures/router/, checked by the same two validators as
the host's (test_schema.py): python3-jsonschema and `op-router validate`.
Each invalid fixture has one defect, at the JSON path its expected.json
names; both validators put it there. The state examples of docs/router.md
validate with both too."""

import json
import re
from pathlib import Path

import pytest
from jsonschema import Draft202012Validator

from test_schema import _error_locations, _names_path, _render, _within

pytest_plugins = ("router_fixture",)

REPO = Path(__file__).resolve().parents[2]
SCHEMA = json.loads((REPO / "schemas" / "router-state.schema.json").read_text())
FIXTURES = REPO / "tests" / "fixtures" / "router"
VALID = sorted((FIXTURES / "valid").glob("*.json"))
INVALID = sorted(p for p in (FIXTURES / "invalid").glob("*.json") if p.name != "expected.json")
EXPECTED = json.loads((FIXTURES / "invalid" / "expected.json").read_text())
EXIT_INVALID = 2


def schema_error_paths(doc):
    """The schema's errors of doc, as canonical JSON paths (checked against
    the form it claims, so that errors stay specific)."""
    canonical = isinstance(doc, dict) and ("version" in doc or "plugins" in doc)
    branch = Draft202012Validator({"$ref": "#/$defs/canonical" if canonical else "#/$defs/bare",
                                   "$defs": SCHEMA["$defs"]})
    paths = []
    for error in branch.iter_errors(doc):
        for loc in _error_locations(error):
            top = not error.absolute_path and error.validator == "additionalProperties"
            paths.append(_render(([] if canonical or top else ["plugins"]) + loc))
    return paths


def doc_examples():
    text = (REPO / "docs" / "router.md").read_text()
    return [json.loads(b) for b in re.findall(r"```json\n(.*?)```", text, re.S)
            if set(json.loads(b)) <= {"version", "plugins"}]


def test_schema_is_valid_2020_12():
    assert SCHEMA.get("$schema") == "https://json-schema.org/draft/2020-12/schema"
    Draft202012Validator.check_schema(SCHEMA)


def test_fixtures_are_populated_and_named():
    assert len(VALID) >= 4 and len(INVALID) >= 15
    assert sorted(EXPECTED) == [p.name for p in INVALID]


@pytest.mark.parametrize("path", VALID + [None], ids=[p.name for p in VALID] + ["docs-router.md"])
def test_both_validators_accept_valid(path, oprouter, tmp_state):
    docs = [json.loads(path.read_text())] if path else doc_examples()
    assert docs
    oprouter.write_secrets(*docs)
    for doc in docs:
        assert schema_error_paths(doc) == []
        r = oprouter.run("validate", tmp_state(doc))
        assert r.returncode == 0, r.describe()


@pytest.mark.parametrize("path", INVALID, ids=lambda p: p.name)
def test_both_validators_reject_invalid_at_its_path(path, oprouter):
    expected = EXPECTED[path.name]
    located = schema_error_paths(json.loads(path.read_text()))
    assert located, f"{path.name}: the schema accepts it"
    stray = [p for p in located if not _within(expected, p)]
    assert not stray, f"{path.name}: schema errors at {stray}, expected only at or above {expected!r}"
    r = oprouter.run("validate", path)
    assert r.returncode == EXIT_INVALID, r.describe()
    assert _names_path(r.stderr, expected), f"op-router does not name {expected!r}:\n{r.stderr}"
