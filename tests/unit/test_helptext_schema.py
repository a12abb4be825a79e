"""Issue 12, item 10: the published --json result schema covers every field shipmark can print."""
from __future__ import annotations

import dataclasses
import json
from pathlib import Path

import jsonschema
import pytest

from shipmark.models import RESULT_KEYS, Context, Event, Result
from tests.conftest import RESULT_SCHEMA, SHA, check_json_results, run_cli


def schema() -> dict:
    return json.loads(RESULT_SCHEMA.read_text())


def test_issue12_item10_schema_is_a_valid_draft_2020_12_schema() -> None:
    jsonschema.Draft202012Validator.check_schema(schema())


def test_issue12_item10_schema_names_every_field_a_result_can_carry() -> None:
    defs = schema()["$defs"]
    result_fields = {f.name for f in dataclasses.fields(Result)} - {"raw"} | {"record", "event"}
    assert set(defs["result"]["properties"]) == result_fields
    assert set(RESULT_KEYS) <= set(defs["result"]["properties"])
    assert set(defs["event"]["properties"]) == {f.name for f in dataclasses.fields(Event)}
    assert set(defs["context"]["properties"]) == set(Context.keys())


def test_issue12_item10_the_test_hook_rejects_an_undocumented_key() -> None:
    with pytest.raises(jsonschema.ValidationError):
        check_json_results(["deploy", "--json"], json.dumps([{"target": "x", "ok": True, "surprise": 1}]))
    with pytest.raises(json.JSONDecodeError):
        check_json_results(["deployment", "list", "--json"], "")  # --json must always answer


@pytest.mark.parametrize("args, configured", [
    (["deploy", "--host", "a", "--host", "b", "--commit", SHA, "--version", "1"], True),
    (["deploy", "--commit", SHA, "--version", "1"], False),  # no target: the event printed
    (["deploy", "--dry-run", "--commit", SHA], True),
    (["check"], True),
    (["flush"], True),
    (["deploy", "--status", "nope"], True),
])
def test_issue12_item10_every_kind_of_answer_matches_the_schema(tmp_path: Path, args, configured: bool) -> None:
    env = {"SHIPMARK_TARGET_LOG_TYPE": "file", "SHIPMARK_TARGET_LOG_PATH": str(tmp_path / "e.jsonl")}
    proc = run_cli([*args, "--json"], env=env if configured else {}, cwd=tmp_path)
    jsonschema.validate(json.loads(proc.stdout), schema(), cls=jsonschema.Draft202012Validator)
