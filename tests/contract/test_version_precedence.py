"""An explicit --version beats the tag detected in CI, in what every backend sends.

The version's precedence is decided once (--version > SHIPMARK_VERSION > config > tag >
short sha), but each backend then puts it somewhere of its own: a body field, the first
word of a comment, BuildMaster's release number, Aviator's release candidate. A backend
that read the tag instead would still pass every test run outside a tag build.
"""
from __future__ import annotations

import json
from pathlib import Path

import pytest
from pytest_httpserver import HTTPServer

from tests.conftest import assert_no_canary, run_cli
from tests.contract.fake_services import BACKENDS, TAG, Backend, FakeServices, tag_push_env, target_env


@pytest.mark.parametrize("backend", BACKENDS, ids=[b.id for b in BACKENDS])
def test_explicit_version_beats_the_ci_tag(httpserver: HTTPServer, tmp_path: Path, backend: Backend) -> None:
    services = FakeServices(httpserver)
    env = {**target_env(services.url, tmp_path), **tag_push_env()}
    proc = run_cli(backend.command(), env=env, cwd=tmp_path)
    assert_no_canary(proc.stdout, proc.stderr)
    assert proc.returncode == 0, proc.stderr
    (result,) = json.loads(proc.stdout)
    assert result["ok"] is True and result["target"] == backend.target, result
    (write,) = backend.payloads(services, tmp_path)
    assert backend.version_of(write) == backend.version
    assert backend.version != TAG


@pytest.mark.parametrize("backend", [b for b in BACKENDS if b.id in ("releasebits-deploy", "file-deploy")],
                         ids=lambda b: b.id)
def test_without_a_version_the_ci_tag_is_the_version(httpserver: HTTPServer, tmp_path: Path,
                                                      backend: Backend) -> None:
    """The other side of the rule: the tag is used when nothing more explicit is given."""
    services = FakeServices(httpserver)
    env = {**target_env(services.url, tmp_path), **tag_push_env()}
    command = [arg for arg in backend.command() if arg not in ("--version", backend.version)]
    proc = run_cli(command, env=env, cwd=tmp_path)
    assert proc.returncode == 0, proc.stderr
    (write,) = backend.payloads(services, tmp_path)
    assert backend.version_of(write) == TAG
