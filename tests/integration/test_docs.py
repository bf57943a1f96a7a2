# SPDX-License-Identifier: LGPL-2.1-or-later
"""The examples in the documentation are real: every JSON state example
validates, and the README's example applies to a real Open vSwitch."""

import json
import re
from pathlib import Path

import pytest

ROOT = Path(__file__).resolve().parents[2]
STATE_KEYS = {"version", "plugins", "net", "openflow", "lxc", "netmaker"}


def json_blocks(path):
    return [m.group(1) for m in re.finditer(r"```json\n(.*?)```", path.read_text(), re.S)]


def state_examples(path):
    """JSON blocks that are state documents (not results or fragments)."""
    out = []
    for block in json_blocks(path):
        data = json.loads(block)
        if isinstance(data, dict) and data and set(data) <= STATE_KEYS and "ok" not in data:
            out.append(data)
    return out


DOCS = [ROOT / "README.md", *sorted((ROOT / "docs").glob("*.md"))]


@pytest.mark.parametrize("doc", DOCS, ids=lambda p: p.name)
def test_json_blocks_parse(doc):
    for block in json_blocks(doc):
        json.loads(block)


@pytest.mark.parametrize("doc", DOCS, ids=lambda p: p.name)
def test_state_examples_validate(doc, opdbus, tmp_state):
    for example in state_examples(doc):
        r = opdbus.run("validate", tmp_state(example))
        assert r.returncode == 0, f"{doc.name}: {json.dumps(example)}\n{r.stderr}"


def test_readme_example_applies(ovs, opdbus, tmp_state):
    (example,) = state_examples(ROOT / "README.md")
    path = tmp_state(example)
    opdbus.run("apply", path, check=0)
    opdbus.run("verify", path, check=0)
    assert set(ovs.vsctl("list-ports", "ovsbr0").split()) == {"uplink0", "trunk0"}
