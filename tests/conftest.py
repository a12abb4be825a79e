"""Shared fixtures: build a target with its HTTP client, build requests, run the real CLI."""
from __future__ import annotations

import json
import os
import subprocess
import sys
from datetime import datetime, timezone
from pathlib import Path
from typing import Any, Dict, List, Optional, Sequence

import pytest

from shipmark import redact
from shipmark.delivery import Options, build_target
from shipmark.http import Budget
from shipmark.models import Context, Event, Status
from shipmark.output import Console
from shipmark.targets import target_class
from shipmark.targets.base import Request

CANARY = "canary-TOKEN-5f3a9c1e7d"
SHA = "5d1c0a7e4f3b2a19c8d7e6f5a4b3c2d1e0f9a8b7"
HEAD_SHA = "a0b1c2d3e4f5a6b7c8d9e0f1a2b3c4d5e6f7a8b9"
FIXED_TIME = datetime(2024, 5, 1, 12, 30, 0, 123000, tzinfo=timezone.utc)

# Variables that would make the test process look like CI or point at a real config.
_LEAKY_PREFIXES = ("GITHUB_", "GITLAB_", "CI_", "JENKINS_", "SHIPMARK_", "RUNNER_", "GITEA_", "BUILD_",
                   "CHANGE_", "GIT_", "TAG_NAME", "BRANCH_NAME", "ghprb", "gitlab")


@pytest.fixture(autouse=True)
def _clean_env(monkeypatch: pytest.MonkeyPatch, tmp_path: Path) -> None:
    """Each test starts outside CI, with no config, a private spool and no known secrets."""
    for name in list(os.environ):
        if name.startswith(_LEAKY_PREFIXES) or name == "CI":
            monkeypatch.delenv(name, raising=False)
    monkeypatch.setenv("SHIPMARK_SPOOL", str(tmp_path / "spool.jsonl"))
    redact.reset()
    yield
    redact.reset()


def make_context(**overrides: Any) -> Context:
    base = dict(ci_name="github_actions", is_ci=True, commit=SHA, branch="main", build="9876543210",
                build_url="https://github.com/acme/shop/actions/runs/9876543210", pipeline_id="9876543210",
                job="deploy", slug="acme/shop", repository_url="https://github.com/acme/shop.git",
                actor="octo-dev", source="env")
    base.update(overrides)
    return Context(**base)


def make_event(operation: str = "deploy", target: str = "t", **fields: Any) -> Event:
    """An Event as the CLI would build it, with the event_key for ``target``."""
    data: Dict[str, Any] = dict(kind="deployment", operation=operation, version="v1.2.3", environment="production",
                                status=Status.SUCCESS, finished_at=FIXED_TIME, commit=SHA, branch="main",
                                context=make_context())
    data.update(fields)
    return Event(**data).for_target(target)


def make_request(operation: str = "deploy", target: str = "t", event: Optional[Event] = None,
                 **options: Any) -> Request:
    event_fields = {k: options.pop(k) for k in list(options) if k in Event.__dataclass_fields__}
    event = event or make_event(operation, target, **event_fields)
    # Backend-declared options (BuildMaster's template, pipeline, force) travel in Request.options.
    backend_options = {k: options.pop(k) for k in list(options) if k not in Request.__dataclass_fields__}
    if backend_options:
        options["options"] = {**options.get("options", {}), **backend_options}
    return Request(operation=operation, event=event, **options)


def make_target(type_name: str, name: str = "t", *, dry_run: bool = False, timeout: float = 10.0,
                shown: Optional[List[str]] = None, **config: Any):
    """A backend instance wired to a real HttpClient, as the CLI builds it."""
    cls = target_class(type_name)
    cfg = cls.config_model.model_validate({"type": type_name, "name": name, **config})
    for secret, username in cfg.secrets():
        redact.register(secret, username=username)
    console = Console(quiet=True)
    options = Options(dry_run=dry_run, timeout=timeout)
    target = build_target(cfg, options, console, Budget(timeout))
    if shown is not None:
        target.http.show_request = shown.append
    return target


def shipmark_bin() -> List[str]:
    """The installed console script (falls back to -m when run from a source tree)."""
    script = Path(sys.executable).with_name("shipmark")
    return [str(script)] if script.exists() else [sys.executable, "-m", "shipmark"]


def run_cli(args: Sequence[str], *, env: Optional[Dict[str, str]] = None, cwd: Optional[Path] = None,
            timeout: float = 120) -> subprocess.CompletedProcess:
    """Run the real `shipmark` in a subprocess with a clean, non-CI environment."""
    # Keep the per-test spool from _clean_env: CLI runs must not share the user's cache spool.
    base = {k: v for k, v in os.environ.items()
            if (not k.startswith(_LEAKY_PREFIXES) and k != "CI") or k == "SHIPMARK_SPOOL"}
    base.update(env or {})
    proc = subprocess.run(shipmark_bin() + list(args), env=base, cwd=str(cwd) if cwd else None,
                          capture_output=True, text=True, timeout=timeout, stdin=subprocess.DEVNULL)
    check_json_results(args, proc.stdout)
    return proc


RESULT_SCHEMA = Path(__file__).resolve().parents[1] / "docs" / "schema" / "result.schema.json"


def check_json_results(args: Sequence[str], stdout: str) -> None:
    """Every event command's --json output is one array that the published schema accepts."""
    words = [a for a in args if not a.startswith("-")][:1]
    if "--json" not in args or {"-h", "--help"} & set(args) or words in (["context"], ["targets"]):
        return
    import jsonschema

    jsonschema.validate(json.loads(stdout), json.loads(RESULT_SCHEMA.read_text()),
                        cls=jsonschema.Draft202012Validator)


def assert_no_canary(*texts: str, canary: str = CANARY) -> None:
    for text in texts:
        lines = [line for line in (text or "").splitlines() if not line.startswith("::add-mask::")]
        assert canary not in "\n".join(lines), "the canary token leaked into output"


def json_body(call) -> Any:
    """The JSON body of a `responses` call."""
    body = call.request.body
    if isinstance(body, bytes):
        body = body.decode()
    return json.loads(body)


@pytest.fixture
def canary() -> str:
    return CANARY


@pytest.hookimpl(trylast=True)
def pytest_sessionfinish(session: pytest.Session, exitstatus: int) -> None:
    """In CI a skipped test is a failure: a missing tool must not pass as a green run."""
    reporter = session.config.pluginmanager.get_plugin("terminalreporter")
    skipped = len(reporter.stats.get("skipped", [])) if reporter is not None else 0
    if skipped and os.environ.get("CI") and exitstatus == 0:
        reporter.write_line(f"{skipped} test(s) skipped while CI is set: failing the run", red=True)
        session.exitstatus = 1
