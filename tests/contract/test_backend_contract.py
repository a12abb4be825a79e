"""Every backend, one contract: the installed CLI against a local fake of the service (real sockets).

For each write a backend supports: the exact request (method, path, query, headers with
the auth header, body), the exit code, the JSON result and the human line; a re-run of the
same job is already recorded (or does what the backend documents when the service offers
no lookup); --dry-run sends nothing and shows the request with the token masked. Every
request carries the auth header, and the token never reaches stdout or stderr. The
backend-specific behaviour (paging, --wait, errors, probes) runs through the same runner
from each backend's data module in tests/contract/backends/.
"""
from __future__ import annotations

from pathlib import Path
from typing import List

import pytest
from pytest_httpserver import HTTPServer

from tests.conftest import SHA
from tests.contract.backends import BACKENDS
from tests.contract.fake_service import (Backend, Refusal, Run, Scenario, Write, assert_received, body_of,
                                         error_lines, expand, run, serve, subset)

WRITES = [pytest.param(b, w, id=f"{b.type}-{w.operation}") for b in BACKENDS for w in b.writes]
UNSUPPORTED = [pytest.param(b, words, id=f"{b.type}-{words.replace(' ', '_')}")
               for b in BACKENDS for words in b.unsupported]
REFUSALS = [pytest.param(b, r, id=f"{b.type}-{i}") for b in BACKENDS for i, r in enumerate(b.refusals)]
SCENARIOS = [pytest.param(b, s, id=f"{b.type}-{s.name.replace(' ', '_')}") for b in BACKENDS for s in b.scenarios]
UNSUPPORTED_ARGS = ["--version", "1.2", "--commit", SHA]


def human_lines(stderr: str) -> List[str]:
    return [line for line in stderr.splitlines() if line.startswith(("ok ", "- "))]


def first_run(backend: Backend, write: Write, server: HTTPServer, tmp_path: Path) -> Run:
    serve(server, list(write.before) + [write.create])
    return run(backend, server, tmp_path, list(write.argv) + ["--json"])


@pytest.mark.parametrize("backend,write", WRITES)
def test_a_write_sends_the_exact_request_and_reports_it(backend: Backend, write: Write, httpserver: HTTPServer,
                                                        tmp_path: Path) -> None:
    done = first_run(backend, write, httpserver, tmp_path)

    assert done.proc.returncode == 0, done.proc.stderr
    assert_received(backend, done, list(write.before) + [write.create])
    (result,) = done.results
    key = result["event_key"]
    assert len(key) == 16
    assert subset(result, write.result) == expand(dict(write.result), httpserver)
    assert human_lines(done.proc.stderr) == [expand(write.line, httpserver)]

    sent = write.sent
    create = done.requests[-1]
    assert (create.method, create.path, create.query_string) == (sent.method, sent.path, sent.query)
    assert {name: create.headers.get(name) for name in sent.headers} == dict(sent.headers)
    assert body_of(create, sent.form) == sent.body(key)


@pytest.mark.parametrize("backend,write", WRITES)
def test_a_rerun_of_the_same_job_is_already_recorded(backend: Backend, write: Write, httpserver: HTTPServer,
                                                     tmp_path: Path) -> None:
    first = first_run(backend, write, httpserver, tmp_path)
    assert first.proc.returncode == 0, first.proc.stderr
    key = first.results[0]["event_key"]
    httpserver.clear()
    answers = list(write.rerun.exchanges(key))
    serve(httpserver, answers)

    again = run(backend, httpserver, tmp_path, list(write.argv) + ["--json"])

    assert again.proc.returncode == write.rerun.exit_code, again.proc.stderr
    assert_received(backend, again, answers)
    creates = [r for r in again.requests if (r.method, r.path) == (write.sent.method, write.sent.path)]
    assert len(creates) == (1 if write.rerun.creates_again else 0)
    (result,) = again.results
    assert result["event_key"] == key
    assert subset(result, write.rerun.result) == expand(dict(write.rerun.result), httpserver)
    lines = human_lines(again.proc.stderr) if write.rerun.exit_code == 0 else error_lines(again.proc.stderr)
    assert lines == [expand(write.rerun.line, httpserver)]


@pytest.mark.parametrize("backend,write", WRITES)
def test_dry_run_sends_nothing_and_masks_the_token(backend: Backend, write: Write, httpserver: HTTPServer,
                                                   tmp_path: Path) -> None:
    # From a config file that reads the token from the environment, as a CI job passes it.
    shown = run(backend, httpserver, tmp_path, list(write.argv) + ["--dry-run"],
                config=lambda _url: backend.config_file(httpserver))

    assert shown.proc.returncode == 0, shown.proc.stderr
    assert httpserver.log == []
    header, value = backend.auth
    masked = f"{header}: {value.split()[0]} ***" if " " in value else f"{header}: ***"
    for text in [masked] + list(write.dry_run_shows):
        assert expand(text, httpserver) in shown.proc.stderr


@pytest.mark.parametrize("backend,words", UNSUPPORTED)
def test_an_unsupported_write_exits_2_before_sending(backend: Backend, words: str, httpserver: HTTPServer,
                                                     tmp_path: Path) -> None:
    refused = run(backend, httpserver, tmp_path, words.split() + ["-t", backend.name] + UNSUPPORTED_ARGS)
    assert refused.proc.returncode == 2, refused.proc.stderr
    assert error_lines(refused.proc.stderr) == [
        f"shipmark: error: {backend.name}: {words} failed: {words} is not supported by {backend.type}"]
    assert httpserver.log == []


@pytest.mark.parametrize("backend,refusal", REFUSALS)
def test_a_command_the_service_cannot_express_is_refused_before_sending(backend: Backend, refusal: Refusal,
                                                                        httpserver: HTTPServer,
                                                                        tmp_path: Path) -> None:
    refused = run(backend, httpserver, tmp_path, refusal.argv)
    assert refused.proc.returncode == refusal.exit_code, refused.proc.stderr
    if refusal.exit_code:
        (line,) = error_lines(refused.proc.stderr)
        assert refusal.message in line
    else:
        assert refusal.message in refused.proc.stderr
    assert httpserver.log == []


@pytest.mark.parametrize("backend,scenario", SCENARIOS)
def test_backend_scenario(backend: Backend, scenario: Scenario, httpserver: HTTPServer, tmp_path: Path) -> None:
    serve(httpserver, scenario.exchanges)

    done = run(backend, httpserver, tmp_path, scenario.argv, config=scenario.config)

    assert done.proc.returncode == scenario.exit_code, done.proc.stderr
    assert_received(backend, done, scenario.exchanges)
    for text in scenario.stderr:
        assert expand(text, httpserver) in done.proc.stderr
    if scenario.error_line is not None:
        assert error_lines(done.proc.stderr) == [expand(scenario.error_line, httpserver)]
    if scenario.error_has is not None:
        (line,) = error_lines(done.proc.stderr)
        assert expand(scenario.error_has, httpserver) in line
    if scenario.result:
        (result,) = done.results
        assert subset(result, scenario.result) == expand(dict(scenario.result), httpserver)
    if scenario.check is not None:
        scenario.check(done)
