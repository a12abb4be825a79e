"""The GitHub actions' install: a private virtualenv per job under RUNNER_TEMP, dependencies
from the hash lock, their wheels cached between jobs and checked against the lock.

Most tests run the actions' shell (actions/_shared/run.sh) directly, as the composite step
does; the planted-virtualenv attack and the warm wheel cache also run under act.
"""
from __future__ import annotations

import hashlib
import json
import os
import re
import shutil
import sys
import zipfile
from pathlib import Path
from typing import Dict

import pytest

from test_wrappers_github import act, act_home  # noqa: F401  (act_home: the shared act fixture)
from wrapper_support import (HERE, REPO, clean_env, file_target_env, index_was_tried, make_repo, recorded_events,
                             run, tool, unreachable_index, version)

pytestmark = pytest.mark.wrappers

RUN_SH = str(REPO / "actions" / "_shared" / "run.sh")
LOCK = REPO / "installer" / "runtime-lock.txt"
INSTALL_WORKFLOW = str(HERE / "github" / "workflows" / "install.yml")
FROM_CACHE = "installed from the wheel cache"
CACHE_MISMATCH = "does not match the lock: downloading"


def installer_path(tmp_path: Path, with_uv: bool) -> str:
    """PATH with or without uv (the action's install uses uv when it finds it)."""
    dirs = [d for d in os.environ["PATH"].split(os.pathsep) if d and not (Path(d) / "uv").exists()]
    if with_uv:
        uv_bin = tmp_path / "uv-bin"
        uv_bin.mkdir(exist_ok=True)
        (uv_bin / "uv").symlink_to(tool("uv"))
        dirs.insert(0, str(uv_bin))
    return os.pathsep.join(dirs)


def action_env(tmp_path: Path, *, with_uv: bool, python: str = sys.executable, **extra: str) -> Dict[str, str]:
    """What the composite step gives run.sh: a job's RUNNER_TEMP, a `context --json` command."""
    (tmp_path / "runner-temp").mkdir(exist_ok=True)
    env = clean_env(RUNNER_TEMP=str(tmp_path / "runner-temp"), GITHUB_ENV=str(tmp_path / "github-env"),
                    SHIPMARK_WRAP_PYTHON=python,
                    SHIPMARK_WRAP_COMMAND="context", SHIPMARK_WRAP_ARGS="--json", HOME=str(tmp_path / "home"),
                    PATH=installer_path(tmp_path, with_uv), UV_CACHE_DIR=str(tmp_path / "uv-cache"))
    env.update(extra)
    return env


def next_step_env(tmp_path: Path, env: Dict[str, str]) -> Dict[str, str]:
    """The environment of the job's next step: GitHub adds what a step wrote to GITHUB_ENV."""
    exported = (tmp_path / "github-env").read_text().splitlines() if (tmp_path / "github-env").exists() else []
    return dict(env, **dict(line.split("=", 1) for line in exported if "=" in line))


def job_venvs(tmp_path: Path):
    return sorted((tmp_path / "runner-temp" / "shipmark").glob("venv-*"))


def locked_digests() -> set:
    return set(re.findall(r"--hash=sha256:([0-9a-f]{64})", LOCK.read_text()))


@pytest.fixture(scope="module")
def locked_wheels(tmp_path_factory) -> Path:
    """The wheels of the lock for this interpreter, as a warm cache holds them."""
    dest = tmp_path_factory.mktemp("locked-wheels")
    run([sys.executable, "-m", "pip", "download", "--quiet", "--require-hashes", "--only-binary", ":all:",
         "--no-deps", "--dest", str(dest), "-r", str(LOCK)], cwd=dest)
    return dest


def prefilled_cache(locked_wheels: Path, dest: Path) -> Path:
    shutil.copytree(locked_wheels, dest)
    dest.chmod(0o700)
    return dest


@pytest.mark.parametrize("installer", ["host-pip", "venv-pip", "uv"])
def test_action_install_without_ensurepip_and_its_fallback(tmp_path, installer):
    """uv fills a pip-less virtualenv when it is on PATH; else the interpreter's own pip does
    (seconds saved in every job); an interpreter without pip gets the usual virtualenv with
    pip. A later step of the same job reuses the job's virtualenv."""
    python = sys.executable  # the test environment's interpreter: pip installed it, so it has pip
    if installer == "venv-pip":
        run([sys.executable, "-m", "venv", "--without-pip", str(tmp_path / "nopip")], cwd=tmp_path)
        python = str(tmp_path / "nopip" / "bin" / "python")
    env = action_env(tmp_path, with_uv=installer == "uv", python=python)
    first = run(["bash", RUN_SH], cwd=tmp_path, env=env)
    tool_name = "uv" if installer == "uv" else "pip"
    assert f"installing shipmark's dependencies with {tool_name} (hash-locked), shipmark from {REPO}" \
        in first.stdout, first.stdout
    (venv,) = job_venvs(tmp_path)
    assert (venv / "bin" / "pip").exists() is (installer == "venv-pip")
    assert json.loads(first.stdout.splitlines()[-1])["is_ci"] is False
    again = run(["bash", RUN_SH], cwd=tmp_path, env=next_step_env(tmp_path, env))
    assert f"shipmark: reusing this job's environment {venv}\n" in again.stdout, again.stdout
    assert "installing" not in again.stdout
    assert not (tmp_path / "home" / ".cache").exists()  # nothing kept outside RUNNER_TEMP


def test_a_virtualenv_planted_in_runner_temp_is_never_run(tmp_path):
    """A restored cache archive can write anywhere the job can, RUNNER_TEMP included: a
    virtualenv planted where the job's would be, stamped as 0.1.0-style reuse expects (or with
    a guessed nonce), is replaced by a fresh install; only this job's own nonce allows reuse."""
    env = action_env(tmp_path, with_uv=True)
    first = run(["bash", RUN_SH], cwd=tmp_path, env=env)
    (venv,) = job_venvs(tmp_path)
    stamp = (venv / ".shipmark-installed").read_text()
    source, nonce = stamp.split("|")
    assert source == f"checkout:{REPO}" and re.fullmatch(r"[0-9a-f]{32}", nonce), stamp
    assert next_step_env(tmp_path, env)["SHIPMARK_ACTION_JOB_NONCE"] == nonce
    marker = tmp_path / "planted-ran"
    for planted_stamp in (source, f"{source}|{'0' * 32}"):
        shutil.rmtree(venv)
        plant_venv(venv, marker)
        (venv / ".shipmark-installed").write_text(planted_stamp)
        (tmp_path / "github-env").unlink()
        for step_env in (env, dict(env, SHIPMARK_ACTION_JOB_NONCE="0" * 32)):
            proc = run(["bash", RUN_SH], cwd=tmp_path, env=step_env)
            assert "installing shipmark's dependencies with uv" in proc.stdout, proc.stdout
            assert json.loads(proc.stdout.splitlines()[-1])["is_ci"] is False
    assert not marker.exists(), marker.read_text()
    assert "reusing" not in first.stdout


def test_a_local_run_installs_into_a_temporary_directory_it_removes(tmp_path):
    """Without RUNNER_TEMP the virtualenv lives in a fresh temporary directory, gone afterwards."""
    scratch = tmp_path / "tmp"
    scratch.mkdir()
    env = action_env(tmp_path, with_uv=True, TMPDIR=str(scratch))
    del env["RUNNER_TEMP"]
    proc = run(["bash", RUN_SH], cwd=tmp_path, env=env)
    assert f"shipmark from {REPO}" in proc.stdout and '"is_ci": false' in proc.stdout, proc.stdout
    assert list(scratch.iterdir()) == []


@pytest.mark.parametrize("fail_on_error", [False, True], ids=["default", "fail-on-error"])
@pytest.mark.parametrize("installer", ["pip", "uv"])
def test_action_install_with_an_unreachable_index(tmp_path, installer, fail_on_error):
    """An index nobody answers is a warning, ok=false and exit 0, or with fail-on-error an
    ::error and exit 2; no half-built virtualenv and no partial wheel cache is left."""
    outputs = tmp_path / "github-output"
    wheels = tmp_path / "runner-temp" / "shipmark-wheels"
    env = action_env(tmp_path, with_uv=installer == "uv", GITHUB_OUTPUT=str(outputs),
                     SHIPMARK_WRAP_WHEEL_CACHE=str(wheels),
                     SHIPMARK_WRAP_FAIL_ON_ERROR="true" if fail_on_error else "false", **unreachable_index(tmp_path))
    proc = run(["bash", RUN_SH], cwd=tmp_path, env=env, check=False)
    assert index_was_tried(tmp_path, proc.stdout), proc.stdout  # the install really asked the index
    message = f"title=shipmark action::{installer} could not install shipmark from {REPO}"
    if fail_on_error:
        assert proc.returncode == 2, proc.stdout
        assert f"::error {message}" in proc.stdout
    else:
        assert proc.returncode == 0, proc.stdout
        assert f"::warning {message}; nothing was recorded" in proc.stdout
        assert outputs.read_text() == "ok=false\n"
    assert job_venvs(tmp_path) == [], "a half-built virtualenv was left"
    assert not wheels.exists(), "a partial wheel cache would be saved at the end of the job"


def test_a_warm_wheel_cache_installs_without_the_index(tmp_path, locked_wheels):
    wheels = prefilled_cache(locked_wheels, tmp_path / "runner-temp" / "shipmark-wheels")
    env = action_env(tmp_path, with_uv=False, SHIPMARK_WRAP_WHEEL_CACHE=str(wheels), **unreachable_index(tmp_path))
    proc = run(["bash", RUN_SH], cwd=tmp_path, env=env)
    assert f"dependencies {FROM_CACHE} {wheels} (each wheel checked against the lock)" in proc.stdout, proc.stdout
    assert '"is_ci": false' in proc.stdout  # with an index nobody answers: the cache was enough


@pytest.mark.parametrize("installer", ["pip", "uv"])
def test_the_key_step_names_the_wheel_cache_for_pip_only(tmp_path, installer):
    """The step before actions/cache: with pip, the key (platform, Python, lock) and the
    directory under RUNNER_TEMP; with uv no directory, so the action skips the cache."""
    outputs = tmp_path / "github-output"
    env = action_env(tmp_path, with_uv=installer == "uv", GITHUB_OUTPUT=str(outputs))
    proc = run(["bash", str(REPO / "actions" / "_shared" / "wheel-cache.sh")], cwd=tmp_path, env=env)
    if installer == "uv":
        assert proc.stdout == "shipmark: no wheel cache: uv installs from the index\n"
        assert not outputs.exists()
        return
    key = run(["sh", "-c", '. "$1/installer/install.sh" && shipmark_cache_key "$2" "$1/installer/runtime-lock.txt" '
               '"checkout:$1"', "sh", str(REPO), sys.executable], cwd=tmp_path, env=env).stdout.strip()
    assert re.fullmatch(r"shipmark-[a-z0-9_.-]+-cp3\d+-[0-9a-f]{16}", key), key
    assert proc.stdout == f"shipmark: wheel cache key {key}\n"
    assert outputs.read_text() == f"key={key}\ndir={tmp_path / 'runner-temp' / 'shipmark-wheels'}\n"


def tampered_copy(wheel: Path, marker: Path) -> bytes:
    """The same wheel plus a .pth file, which Python runs at every start of the interpreter."""
    out = wheel.parent / "tampered.zip"
    with zipfile.ZipFile(wheel) as original, zipfile.ZipFile(out, "w") as copy:
        for item in original.infolist():
            copy.writestr(item, original.read(item))
        copy.writestr("zz_pwned.pth", f"import pathlib; pathlib.Path({str(marker)!r}).touch()\n")
    data = out.read_bytes()
    out.unlink()
    return data


def test_a_tampered_wheel_in_the_cache_is_never_installed(tmp_path, locked_wheels):
    """A wheel with the locked wheel's file name but other bytes: the cache is emptied and the
    wheels downloaded again; the planted code never runs, the cache ends up genuine."""
    wheels = prefilled_cache(locked_wheels, tmp_path / "runner-temp" / "shipmark-wheels")
    (target,) = wheels.glob("idna-*.whl")
    marker = tmp_path / "pwned"
    target.write_bytes(tampered_copy(target, marker))
    assert hashlib.sha256(target.read_bytes()).hexdigest() not in locked_digests()
    env = action_env(tmp_path, with_uv=False, SHIPMARK_WRAP_WHEEL_CACHE=str(wheels))
    proc = run(["bash", RUN_SH], cwd=tmp_path, env=env)
    assert f"wheel cache {wheels} is empty or {CACHE_MISMATCH}" in proc.stdout, proc.stdout
    assert FROM_CACHE not in proc.stdout
    assert json.loads(proc.stdout.splitlines()[-1])["is_ci"] is False
    assert not marker.exists()
    assert {hashlib.sha256(p.read_bytes()).hexdigest() for p in wheels.iterdir()} <= locked_digests()
    assert sorted(p.name for p in wheels.iterdir()) == sorted(p.name for p in locked_wheels.iterdir())


def test_a_wheel_cache_writable_by_others_is_not_used(tmp_path, locked_wheels):
    wheels = prefilled_cache(locked_wheels, tmp_path / "runner-temp" / "shipmark-wheels")
    wheels.chmod(0o777)
    before = sorted(p.name for p in wheels.iterdir())
    env = action_env(tmp_path, with_uv=False, SHIPMARK_WRAP_WHEEL_CACHE=str(wheels))
    proc = run(["bash", RUN_SH], cwd=tmp_path, env=env)
    assert f"shipmark: not using {wheels}: writable by group or others (chmod go-w it)" in proc.stdout, proc.stdout
    assert FROM_CACHE not in proc.stdout and CACHE_MISMATCH not in proc.stdout
    assert json.loads(proc.stdout.splitlines()[-1])["is_ci"] is False
    assert sorted(p.name for p in wheels.iterdir()) == before  # left alone


def test_the_working_directory_cannot_shadow_shipmark(tmp_path):
    """A checkout with a shipmark/ package of its own: the action still runs the real shipmark."""
    marker = tmp_path / "pwned"
    fake = tmp_path / "shipmark"
    fake.mkdir()
    (fake / "__init__.py").write_text("")
    (fake / "wrap.py").write_text(f"import pathlib\npathlib.Path({str(marker)!r}).touch()\n")
    proc = run(["bash", RUN_SH], cwd=tmp_path, env=action_env(tmp_path, with_uv=True))
    assert json.loads(proc.stdout.splitlines()[-1])["is_ci"] is False, proc.stdout
    assert not marker.exists()


def old_tool_cache_venv(tool_cache: Path, action: Path) -> Path:
    """Where 0.1.0's action kept its virtualenv: a path under the runner's tool cache that any
    job on the runner can compute from the action's public sources and the interpreter on
    PATH (python3 from act's PATH, the same as the test's)."""
    python = run(["python3", "-c", "import sys; print(sys.executable, *sys.version_info[:2])"],
                 cwd=action, env=clean_env()).stdout.split()
    digest = hashlib.sha256()
    for path in sorted([action / "pyproject.toml", *(action / "src").rglob("*.py")]):
        digest.update(path.relative_to(action).as_posix().encode() + b"\0" + path.read_bytes())
    digest.update(python[0].encode())
    return tool_cache / "shipmark-action" / version() / f"py{python[1]}.{python[2]}-{digest.hexdigest()[:12]}"


def plant_venv(venv: Path, marker: Path) -> None:
    """A virtualenv whose every program records that it ran, and claims to be shipmark."""
    bindir = venv / "bin"
    bindir.mkdir(parents=True)
    for name in ("shipmark", "shipmark-wrap", "python", "python3"):
        program = bindir / name
        program.write_text(f"#!/bin/sh\necho \"$0\" >>'{marker}'\necho 'shipmark {version()}'\n")
        program.chmod(0o755)
    (venv / ".shipmark-installed").touch()


def test_a_virtualenv_planted_in_the_tool_cache_is_never_run(tmp_path, act_home):
    """Another job on a persistent runner plants a virtualenv where the action used to look:
    the action builds its own in RUNNER_TEMP, and the real shipmark records both events."""
    repo = make_repo(tmp_path / "repo")
    marker = tmp_path / "planted-ran"
    plant_venv(old_tool_cache_venv(act_home / "act-cache" / "tool_cache", repo), marker)
    events_file = tmp_path / "events.jsonl"
    result = act(repo, INSTALL_WORKFLOW, act_home, variables={"EVENTS_FILE": str(events_file)})
    assert result.returncode == 0, result
    assert not marker.exists(), marker.read_text()
    assert [(e["operation"], e["version"]) for e in recorded_events(events_file)] == [
        ("deploy", "1.0.0"), ("deploy", "1.0.1")], result
    assert re.search(r"shipmark: reusing this job's environment \S+/shipmark/venv-shipmark-", result.log), result


def test_a_warm_wheel_cache_under_act(tmp_path, act_home, locked_wheels):
    """The actions' key step and cache step: the cache stub restores the pre-filled wheels
    under the key the action computed, and the install uses them (root action), then the
    second action of the job reuses the job's virtualenv. The key was computed here for the
    test's checkout, and act runs the action from a copy elsewhere: the same key."""
    repo = make_repo(tmp_path / "repo")
    keyed = run(["sh", "-c", '. installer/install.sh && shipmark_cache_key "$0" installer/runtime-lock.txt '
                 '"checkout:$PWD"', "python3"], cwd=repo, env=clean_env()).stdout.strip()
    store = tmp_path / "cache-store"
    prefilled_cache(locked_wheels, store / keyed)
    events_file = tmp_path / "events.jsonl"
    offline = {key: value for key, value in unreachable_index(tmp_path).items() if key != "HOME"}
    result = act(repo, INSTALL_WORKFLOW, act_home, variables={"EVENTS_FILE": str(events_file)},
                 env={"SHIPMARK_INSTALLER": "pip", "CACHE_STUB_STORE": str(store), **offline})
    assert result.returncode == 0, result
    assert f"shipmark: wheel cache key {keyed}" in result.log, result
    assert f"cache stub: restored {keyed}" in result.log, result
    assert result.log.count(FROM_CACHE) == 1, result
    assert "shipmark: reusing this job's environment" in result.log, result
    assert [e["version"] for e in recorded_events(events_file)] == ["1.0.0", "1.0.1"], result
