"""Every case of every provider case file, run through the real detection.

The format is described in tests/ci_cases/README.md. Each case runs outside any
git repository, so the context comes from the environment (and the files the
case writes) alone; git fallback behaviour lives in test_ci_git_fallback.py.
"""
from __future__ import annotations

import json
from pathlib import Path
from typing import Any, Dict, List, Mapping, Optional

import pytest
import yaml

from shipmark.ci import detect_context
from shipmark.ci.providers import provider_names
from shipmark.models import Context

CASES_DIR = Path(__file__).resolve().parents[2] / "ci_cases"
FILES_PLACEHOLDER = "{files}"
FILE_KEYS = {"event_variable", "defaults", "cases"}
DEFAULT_KEYS = {"env", "expect"}
CASE_KEYS = {"name", "defaults", "env", "event", "event_file", "files", "expect", "notes", "never_contains"}
# Derived attributes a case may also pin, next to the context keys.
DERIVED_KEYS = {"event_commit"}


def case_files() -> List[Path]:
    return sorted(CASES_DIR.glob("*.yaml"))


def _check_keys(where: str, given: Mapping[str, Any], allowed: set) -> None:
    unknown = set(given) - allowed
    if unknown:
        raise ValueError(f"{where}: unknown keys {sorted(unknown)}")


def load_cases() -> List[Any]:
    params = []
    for path in case_files():
        data = yaml.safe_load(path.read_text(encoding="utf-8"))
        _check_keys(path.name, data, FILE_KEYS)
        defaults = data.get("defaults") or {}
        _check_keys(f"{path.name} defaults", defaults, DEFAULT_KEYS)
        names = set()
        for case in data["cases"]:
            _check_keys(f"{path.name} {case.get('name')!r}", case, CASE_KEYS)
            if case["name"] in names:
                raise ValueError(f"{path.name}: case name {case['name']!r} is used twice")
            names.add(case["name"])
            params.append(pytest.param(path, data, case, id=f"{path.stem}: {case['name']}"))
    return params


def _defaults(data: Mapping[str, Any], case: Mapping[str, Any]) -> Mapping[str, Any]:
    """The file's defaults, unless the case opts out with ``defaults: false``."""
    if case.get("defaults", True) is False:
        return {}
    return data.get("defaults") or {}


def _expand(value: Any, files_dir: Path) -> Any:
    if isinstance(value, str):
        return value.replace(FILES_PLACEHOLDER, str(files_dir))
    return value


def build_env(path: Path, data: Mapping[str, Any], case: Mapping[str, Any], tmp_path: Path) -> Dict[str, str]:
    """The case's environment: defaults, then the case (None removes a variable), then files and event."""
    files_dir = tmp_path / "files"
    files_dir.mkdir()
    for name, content in (case.get("files") or {}).items():
        (files_dir / name).write_text(_expand(content, files_dir), encoding="utf-8")

    merged = {**_defaults(data, case).get("env", {}), **(case.get("env") or {})}
    for name, value in merged.items():
        if value is not None and not isinstance(value, str):
            raise ValueError(f"{path.name} {case['name']!r}: {name} must be a quoted string, not {value!r}")
    env = {name: _expand(value, files_dir) for name, value in merged.items() if value is not None}

    if "event" in case and "event_file" in case:
        raise ValueError(f"{path.name} {case['name']!r}: give event or event_file, not both")
    if "event" in case or "event_file" in case:
        variable = data.get("event_variable")
        if not variable:
            raise ValueError(f"{path.name}: a case has an event but the file names no event_variable")
        if "event" in case:
            payload = json.dumps(case["event"]).encode("utf-8")
        else:
            payload = (path.parent / case["event_file"]).read_bytes()
        event_path = tmp_path / "event.json"
        event_path.write_bytes(payload)
        env[variable] = str(event_path)
    return env


def expected_context(data: Mapping[str, Any], case: Mapping[str, Any]) -> Dict[str, Any]:
    """Every key: null (false for the booleans) unless the defaults or the case say otherwise."""
    expected: Dict[str, Any] = Context().as_dict()
    expected.update(_defaults(data, case).get("expect", {}))
    expected.update(case["expect"])
    return expected


@pytest.mark.parametrize("path, data, case", load_cases())
def test_case(path: Path, data: Mapping[str, Any], case: Mapping[str, Any], empty_dir: Path, tmp_path: Path) -> None:
    env = build_env(path, data, case, tmp_path)
    files_dir = tmp_path / "files"
    notes: List[str] = []
    ctx = detect_context(env=env, cwd=str(empty_dir), warn=notes.append)

    expected = {key: _expand(value, files_dir) for key, value in expected_context(data, case).items()}
    unknown = set(expected) - set(Context.keys()) - DERIVED_KEYS
    assert not unknown, f"expect names unknown keys {sorted(unknown)}"
    derived = {key: expected.pop(key) for key in DERIVED_KEYS if key in expected}
    assert ctx.as_dict() == expected
    for key, value in derived.items():
        assert getattr(ctx, key) == value, key

    expected_notes: List[Optional[str]] = [_expand(text, files_dir) for text in case.get("notes", [])]
    assert len(notes) == len(expected_notes), notes
    for note, text in zip(notes, expected_notes):
        assert text in note
    dumped = json.dumps(ctx.as_dict())
    for secret in case.get("never_contains", []):
        assert secret not in dumped


def test_every_registered_provider_has_a_case_file() -> None:
    assert {path.stem for path in case_files()} >= set(provider_names())


def test_every_case_file_is_named_after_a_registered_provider() -> None:
    assert {path.stem for path in case_files()} <= set(provider_names())


def test_the_runner_writes_property_files_and_the_event_payload(tmp_path: Path) -> None:
    """The parts of the format no provider uses yet still do what the README says."""
    (tmp_path / "cases").mkdir()
    (tmp_path / "cases" / "payload.json").write_bytes(b'{"raw": true}')
    data = {"event_variable": "EVENT_PATH", "defaults": {"env": {"KEEP": "1", "DROP": "x"}}}
    case = {
        "name": "n",
        "env": {"DROP": None, "PROPS": "{files}/build.properties", "BRACES": "${X}"},
        "files": {"build.properties": "teamcity.build.branch=main\n"},
        "event_file": "payload.json",
        "expect": {},
    }
    run_dir = tmp_path / "run"
    run_dir.mkdir()
    env = build_env(tmp_path / "cases" / "x.yaml", data, case, run_dir)
    files_dir = run_dir / "files"
    assert env == {
        "KEEP": "1",
        "PROPS": f"{files_dir}/build.properties",
        "BRACES": "${X}",
        "EVENT_PATH": str(run_dir / "event.json"),
    }
    assert (files_dir / "build.properties").read_text() == "teamcity.build.branch=main\n"
    assert (run_dir / "event.json").read_bytes() == b'{"raw": true}'


@pytest.mark.parametrize(
    "data, case, message",
    [
        ({}, {"name": "n", "env": {"N": 1}, "expect": {}}, "quoted string"),
        ({}, {"name": "n", "event": {}, "expect": {}}, "event_variable"),
        ({"event_variable": "E"}, {"name": "n", "event": {}, "event_file": "f", "expect": {}}, "not both"),
    ],
)
def test_the_runner_rejects_ambiguous_cases(tmp_path: Path, data, case, message) -> None:
    with pytest.raises(ValueError, match=message):
        build_env(tmp_path / "x.yaml", data, case, tmp_path)
