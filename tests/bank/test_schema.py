from __future__ import annotations

import json

from dlprep.bank.files import NOT_CARD_FILES
from dlprep.bank.schema import build_schema, render_schema
from dlprep.paths import schema_path


def test_schema_file_is_current() -> None:
    # If this fails, run `make schema` (dlprep bank schema --write) and commit the result.
    assert schema_path().read_text(encoding="utf-8") == render_schema()


def test_schema_describes_a_list_of_every_card_type() -> None:
    schema = build_schema()
    assert schema["type"] == "array"
    types = {
        d["properties"]["type"]["const"]
        for d in schema["$defs"].values()
        if "type" in d.get("properties", {}) and "const" in d["properties"]["type"]
    }
    assert types == {"mcq", "multi", "truefalse", "recall", "numeric", "order"}
    json.dumps(schema)  # serialisable


def test_bank_files_carry_the_modeline() -> None:
    card_files = [p for p in schema_path().parent.glob("*.yaml") if p.name not in NOT_CARD_FILES]
    assert len(card_files) >= 11
    for path in card_files:
        first = path.read_text(encoding="utf-8").splitlines()[0]
        assert first == "# yaml-language-server: $schema=./schema.json", path.name
