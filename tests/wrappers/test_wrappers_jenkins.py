"""The Jenkins steps (jenkins/vars/*.groovy) under a Groovy harness, plus npm-groovy-lint.

tests/wrappers/jenkins/harness.groovy stands in for Jenkins: it stubs sh, withEnv,
withCredentials, string, readJSON, error, echo, pwd, writeFile and libraryResource, and loads
the library's vars. In `unit` mode sh is only recorded; in the other modes it runs the step's
script for real. The install tests attack the install path: a `package` that bypasses the hash
lock, a same-named impostor of the pinned default package on an index, a tampered wheel in the
per-agent cache, a cache directory other accounts can write.
"""
from __future__ import annotations

import hashlib
import json
import os
import re
import shutil
import stat
import sys
import zipfile
from pathlib import Path

import pytest

from wrapper_support import (BROKEN_TARGET, CONFIG, HERE, QUOTED_ARGS, QUOTED_COMMAND_LINE, REPO,
                             assert_quoted_args_event, clean_env, file_target_env, index_was_tried, make_repo,
                             path_with_shipmark, path_without_python, path_without_shipmark, recorded, recorded_events,
                             run, sample_config_env, snippet, tool, unreachable_index, version, write_recorder)

from dist_support import local_index  # noqa: E402  (tests/release, put on sys.path by conftest)

pytestmark = pytest.mark.wrappers

HARNESS = HERE / "jenkins" / "harness.groovy"
SECRET = "harness-token-8f3a1c"  # the harness's credential store holds this for 'rb-token'
BM_SECRET = "harness-bm-key-41d7"  # and this for 'buildmaster-api-key'


def default_sha256(library: Path) -> str:
    """The digest the library pins its default package to (empty until a release records it)."""
    match = re.search(r"^@Field final String DEFAULT_PACKAGE_SHA256 = '([0-9a-f]*)'$",
                      (library / "vars" / "shipmark.groovy").read_text(), re.M)
    assert match, "DEFAULT_PACKAGE_SHA256 not found in shipmark.groovy"
    return match.group(1)


def harness(mode: str, cwd: Path, library: Path = REPO / "jenkins", **env: str):
    # SHIPMARK_SPOOL: keep shipmark's retry spool out of this machine's home directory.
    # HOME: the per-agent wheel cache defaults to ~/.cache/shipmark; keep it in the test's dir.
    env.setdefault("HOME", str(cwd / "home"))
    proc = run([tool("groovy"), str(HARNESS), mode], cwd=cwd, timeout=300, check=False,
               env=clean_env(SHIPMARK_JENKINS_LIBRARY=str(library), SHIPMARK_VERSION_UNDER_TEST=version(),
                             SHIPMARK_DEFAULT_SHA256_UNDER_TEST=default_sha256(library),
                             SHIPMARK_SPOOL=str(cwd / "shipmark-spool.jsonl"), **env))
    assert proc.returncode == 0, proc.stdout[-10000:]
    assert " passed, 0 failed" in proc.stdout.splitlines()[-1], proc.stdout
    return proc


def test_steps_build_the_exact_command_and_handle_failures(tmp_path):
    """Exact sh script, environment and credential bindings; failure, abort and rethrow paths."""
    proc = harness("unit", tmp_path)
    assert proc.stdout.splitlines()[-1] == "12 passed, 0 failed"


def test_script_passes_values_as_literal_arguments(tmp_path):
    workspace = tmp_path / "ws"
    workspace.mkdir()
    recorder = tmp_path / "recorder"
    recorder.mkdir()
    path = str(write_recorder(tmp_path)) + ":" + path_without_shipmark(tmp_path)
    harness("exec", tmp_path, PATH=path, RECORDER_DIR=str(recorder), WORKSPACE=str(workspace))
    argv, env = recorded(recorder)
    # --json (the step's own option) comes before the user's args, which a `--` could end.
    assert argv == [
        "deployment", "finish", "--json", "--status", "failure", "--name", "it's `id`",
        "--target", "rb", "--host", "web-1", "--host", "web-2",
        "--meta", "cmd=$(id)", "--meta", "glob=*", "--timeout", "5", "--meta", "x=$HOME",
    ]
    assert env == {"SHIPMARK_ENVIRONMENT": '"; touch pwned.txt; echo "', "SHIPMARK_VERSION": "$(id)",
                   "SHIPMARK_FAIL_ON_ERROR": "", "SHIPMARK_TOKEN": SECRET}
    assert not list(tmp_path.rglob("pwned.txt"))


def test_quoted_args_string_and_list_items_with_spaces(tmp_path):
    """A string is split like the other wrappers split it; list items are passed as they are."""
    workspace = tmp_path / "ws"
    workspace.mkdir()
    events_file = tmp_path / "events.jsonl"
    proc = harness("quoting", tmp_path, PATH=path_with_shipmark(), WORKSPACE=str(workspace), QUOTED_ARGS=QUOTED_ARGS,
                   **file_target_env(events_file))
    assert "installing" not in proc.stdout
    # The step adds --json right after the command words; the rest is what GitHub and GitLab run.
    shown = QUOTED_COMMAND_LINE.replace("shipmark deploy ", "shipmark deploy --json ")
    assert shown + "\n" in proc.stdout, proc.stdout
    assert shown + " --name 'blue green'\n" in proc.stdout, proc.stdout
    from_string, from_list = recorded_events(events_file)
    assert_quoted_args_event(from_string)
    assert_quoted_args_event(from_list)
    assert (from_string["name"], from_list["name"]) == (None, "blue green")


# What the installer logs for each kind of source (installer/install.sh).
BYPASS_LINE = "your package input, so it and its dependencies come as resolved, not from shipmark's hash lock"
UNPINNED_LINE = "no release digest is recorded for this version yet, so shipmark itself is not hash-checked"
PIP_HASH_MISMATCH = "THESE PACKAGES DO NOT MATCH THE HASHES FROM THE REQUIREMENTS FILE"
CACHE_MISS_LINE = "does not match the lock: downloading"
CACHE_HIT_LINE = "dependencies installed from the wheel cache "


def with_uv(tmp_path: Path, path: str) -> str:
    """PATH with uv (the installer prefers it) in front of `path`."""
    uv_bin = tmp_path / "uv-bin"
    uv_bin.mkdir(exist_ok=True)
    if not (uv_bin / "uv").exists():
        (uv_bin / "uv").symlink_to(tool("uv"))
    return f"{uv_bin}{os.pathsep}{path}"


def index_only(index: Path, tmp_path: Path) -> dict:
    """pip and uv reach nothing but `index`: no config file, find-links or shared cache."""
    return {"PIP_INDEX_URL": index.as_uri(), "PIP_CONFIG_FILE": os.devnull, "PIP_FIND_LINKS": "",
            "PIP_NO_CACHE_DIR": "1", "UV_NO_CONFIG": "1", "UV_CACHE_DIR": str(tmp_path / "uv-cache")}


def install_run(tmp_path: Path, releasebits, *, build: str = "7", library: Path = REPO / "jenkins",
                **env: str):
    """shipmarkDeploy around a failing block, on an agent with no shipmark on PATH; checks that
    both events were recorded (the install worked) and returns the harness output."""
    workspace = tmp_path / "ws"
    if not workspace.exists():
        make_repo(workspace)
    events_file = tmp_path / "events.jsonl"
    if events_file.exists():
        events_file.unlink()
    releasebits.requests.clear()
    env.setdefault("PATH", path_without_shipmark(tmp_path))
    # The workspace is the user's checkout: a shipmark/ package of its own (or a planted one)
    # must never run in place of the installed shipmark (`python -I`).
    marker = tmp_path / "shadowed"
    for where in (workspace, tmp_path):
        (where / "shipmark").mkdir(exist_ok=True)
        (where / "shipmark" / "__init__.py").write_text("")
        (where / "shipmark" / "wrap.py").write_text(f"import pathlib\npathlib.Path({str(marker)!r}).touch()\n")
    proc = harness(
        "install", tmp_path, library=library,
        WORKSPACE=str(workspace), WORKSPACE_TMP=str(tmp_path / "ws@tmp"), BUILD_TAG=f"jenkins-web-deploy-{build}",
        JENKINS_URL="http://127.0.0.1:9/", BUILD_NUMBER=build, JOB_NAME="web/deploy", BRANCH_NAME="main",
        SHIPMARK_TARGET_RB_TYPE="releasebits", SHIPMARK_TARGET_RB_URL=releasebits.url,
        SHIPMARK_TARGET_RB_COMPONENT="web",
        SHIPMARK_TARGET_LOG_TYPE="file", SHIPMARK_TARGET_LOG_PATH=str(events_file), **env)
    events = [json.loads(line) for line in events_file.read_text().splitlines()]
    assert [(e["operation"], e["status"], e["environment"]) for e in events] == [
        ("deploy", "in_progress", "prod"), ("deploy", "failure", "prod")]
    (post,) = releasebits.posts()  # ReleaseBits records finished deployments only
    assert post["json"]["result"] == "failure" and post["json"]["stage"] == "prod"
    assert post["headers"]["Authorization"] == f"Bearer {SECRET}"
    assert SECRET not in proc.stdout
    assert not marker.exists(), "a shipmark/ package in the workspace ran instead of shipmark"
    return proc


@pytest.mark.parametrize("source", ["wheel-with-pip", "index-with-uv"])
def test_deploy_step_installs_once_and_records_failure(tmp_path, releasebits, dist, source):
    """No shipmark on PATH: shipmark is installed once per build, from the built wheel given as
    `package` with pip (the user's choice: the log says it bypasses the lock), or as the default
    package with uv from the index PIP_INDEX_URL names (dependencies from the lock; shipmark
    itself unverified while no release digest is recorded); a failing block records failure."""
    path = path_without_shipmark(tmp_path)
    assert shutil.which("uv", path=path) is None
    if source == "wheel-with-pip":
        extra = {"PACKAGE": str(dist.wheel), "EXPECTED_SOURCE": f"user:{dist.wheel}"}
        logged = f"shipmark: installing {dist.wheel} with pip: {BYPASS_LINE}\n"
    else:
        package = f"shipmark=={version()}"
        path = with_uv(tmp_path, path)
        extra = {"EXPECTED_SOURCE": f"release:{package}:{default_sha256(REPO / 'jenkins')}",
                 **index_only(local_index(dist, tmp_path / "index"), tmp_path)}
        logged = f"shipmark: installing {package} with uv: dependencies hash-locked; {UNPINNED_LINE}\n"
    proc = install_run(tmp_path, releasebits, PATH=path, **extra)
    assert proc.stdout.count("shipmark: installing ") == 1, proc.stdout
    assert logged in proc.stdout, proc.stdout


def plant_venv(where: Path, stamp: str, marker: Path) -> None:
    """A virtualenv as the step leaves one, its python a script that leaves `marker` behind."""
    for venv in (where, where / "venv"):
        (venv / "bin").mkdir(parents=True, exist_ok=True)
        python = venv / "bin" / "python"
        python.write_text(f"#!/bin/sh\ntouch {marker}\necho '[]'\n")
        python.chmod(0o700)
    where.chmod(0o700)
    (where / ".shipmark-build").write_text(stamp)


def test_virtualenv_planted_by_an_earlier_build_never_runs(tmp_path, releasebits, dist):
    """WORKSPACE_TMP outlives builds and BUILD_TAG is predictable: an earlier (say, untrusted
    pull request) build of the job plants virtualenvs stamped for the next build, at the
    fixed path older versions used and at names of the step's pattern. None runs: the build
    installs into its own fresh directory once, records both events; stale ones are removed."""
    build_tmp = tmp_path / "ws@tmp"
    source = f"user:{dist.wheel}"
    marker = tmp_path / "planted-python-ran"
    planted = [build_tmp / "shipmark-venv", build_tmp / "shipmark-venv.AAAAAAAA",
               build_tmp / "shipmark-venv.XXXXXXXX"]
    for where in planted:
        plant_venv(where, f"jenkins-web-deploy-7|{source}", marker)
    older = build_tmp / "shipmark-venv.olderbld"
    plant_venv(older, f"jenkins-web-deploy-5|{source}", marker)
    proc = install_run(tmp_path, releasebits, build="7", PACKAGE=str(dist.wheel), EXPECTED_SOURCE=source)
    assert not marker.exists(), proc.stdout
    assert proc.stdout.count("shipmark: installing ") == 1, proc.stdout
    (venv,) = re.findall(r"^BUILD_VENV: (.*)$", proc.stdout, re.M)
    assert Path(venv).parent == build_tmp and Path(venv) not in planted, venv
    assert stat.S_IMODE(Path(venv).stat().st_mode) == 0o700
    # The fixed path and another build's directory are gone; those claiming this build stay, unused.
    assert not (build_tmp / "shipmark-venv").exists() and not older.exists()
    assert all(where.exists() for where in planted[1:])


def pinned_library(tmp_path: Path, digest: str) -> Path:
    """A copy of the library whose default package is pinned to `digest`, as a release writes it."""
    library = tmp_path / "library"
    shutil.copytree(REPO / "jenkins", library)
    step = library / "vars" / "shipmark.groovy"
    placeholder = "@Field final String DEFAULT_PACKAGE_SHA256 = ''"
    assert placeholder in step.read_text()
    step.write_text(step.read_text().replace(placeholder, f"@Field final String DEFAULT_PACKAGE_SHA256 = '{digest}'"))
    return library


MARKER = "shipmark_impostor_was_here.py"


def impostor_of(wheel: Path, dest: Path) -> Path:
    """A wheel with the same name as `wheel` and other bytes (one module more)."""
    dest.mkdir(parents=True, exist_ok=True)
    impostor = dest / wheel.name
    shutil.copyfile(wheel, impostor)
    with zipfile.ZipFile(impostor, "a") as archive:
        archive.writestr(MARKER, "print('impostor')\n")
    assert sha256(impostor) != sha256(wheel)
    return impostor


def sha256(path: Path) -> str:
    return hashlib.sha256(path.read_bytes()).hexdigest()


def impostor_index(dist, tmp_path: Path) -> Path:
    """The local index, its `shipmark` wheel swapped for an impostor (listed with its own
    digest, as an index under someone else's control would list it)."""
    index = local_index(dist, tmp_path / "index")
    files = tmp_path / "index" / "files"
    shutil.copyfile(impostor_of(dist.wheel, tmp_path / "impostor"), files / dist.wheel.name)
    run([sys.executable, str(REPO / "scripts" / "simple_index.py"), str(files), str(index)], cwd=tmp_path)
    assert sha256(index / "shipmark" / dist.wheel.name) != sha256(dist.wheel)
    return index


@pytest.mark.parametrize("installer", ["pip", "uv"])
def test_pinned_default_package_installs_the_released_wheel(tmp_path, releasebits, dist, installer):
    """The default package pinned to the wheel's digest installs from an index that has it."""
    path = path_without_shipmark(tmp_path)
    if installer == "uv":
        path = with_uv(tmp_path, path)
    digest = sha256(dist.wheel)
    source = f"release:shipmark=={version()}:{digest}"
    proc = install_run(tmp_path, releasebits, library=pinned_library(tmp_path, digest), PATH=path,
                       EXPECTED_SOURCE=source, SHIPMARK_CACHE_DIR=str(tmp_path / "agent-cache"),
                       **index_only(local_index(dist, tmp_path / "index"), tmp_path))
    logged = f"shipmark: installing shipmark=={version()} and its dependencies with {installer} (hash-locked)\n"
    assert logged in proc.stdout, proc.stdout
    assert UNPINNED_LINE not in proc.stdout and BYPASS_LINE not in proc.stdout


@pytest.mark.parametrize("installer", ["pip", "uv"])
def test_pinned_default_package_refuses_a_same_named_impostor(tmp_path, dist, installer):
    """An index serving another `shipmark` wheel of the same name and version (with its own,
    correct digest on the page): the install is refused, and shipmarkDeploy's block still runs."""
    workspace = make_repo(tmp_path / "ws", {"deploy.sh": MARKING_DEPLOY_SH})
    path = path_without_shipmark(tmp_path)
    if installer == "uv":
        path = with_uv(tmp_path, path)
    library = pinned_library(tmp_path, sha256(dist.wheel))
    proc = harness("guard", tmp_path, library=library, WORKSPACE=str(workspace),
                   WORKSPACE_TMP=str(tmp_path / "ws@tmp"), BUILD_TAG="jenkins-web-deploy-8", PATH=path,
                   SHIPMARK_CACHE_DIR=str(tmp_path / "agent-cache"), DEPLOY_FAIL="0",
                   SHIPMARK_TARGET_LOG_TYPE="file", SHIPMARK_TARGET_LOG_PATH=str(tmp_path / "events.jsonl"),
                   **index_only(impostor_index(dist, tmp_path), tmp_path))
    out = proc.stdout
    refused = PIP_HASH_MISMATCH if installer == "pip" else "Hash mismatch for `shipmark"
    assert refused in out, out
    assert "shipmark: could not install shipmark into " in out, out
    assert "OUTCOME: success\n" in out and (workspace / "deployed.txt").exists(), out
    assert "echo: shipmarkDeploy: WARNING: could not record deployment start: " in out, out
    assert not list((tmp_path / "ws@tmp").rglob(MARKER)) and not list((tmp_path / "agent-cache").rglob(MARKER))
    assert not (tmp_path / "events.jsonl").exists()


def test_agent_wheel_cache_is_private_reused_and_checked(tmp_path, releasebits, dist):
    """pip path (no uv): the first build fills the per-agent cache (directories created 0700);
    the next installs from it with the index unreachable; a wheel tampered with in the cache
    is never installed: the lock from the library catches it and the cache is refilled."""
    digest = sha256(dist.wheel)
    library = pinned_library(tmp_path, digest)
    cache = tmp_path / "agent-cache"
    index = index_only(local_index(dist, tmp_path / "index"), tmp_path)
    source = f"release:shipmark=={version()}:{digest}"

    cold = install_run(tmp_path, releasebits, build="1", library=library, SHIPMARK_CACHE_DIR=str(cache),
                       EXPECTED_SOURCE=source, EXECUTOR_NUMBER="1", **index)
    assert CACHE_MISS_LINE in cold.stdout, cold.stdout
    (wheels,) = (cache / "wheels").iterdir()
    # Keyed by platform, Python, lock and source, and one per executor (concurrent builds).
    assert re.fullmatch(r"shipmark-[a-z0-9_.-]+-cp3\d+-[0-9a-f]{16}-executor1", wheels.name), wheels.name
    for folder in (cache, cache / "wheels", wheels):
        assert stat.S_IMODE(folder.stat().st_mode) == 0o700, folder
    cached = wheels / dist.wheel.name
    assert sha256(cached) == digest

    warm = install_run(tmp_path, releasebits, build="2", library=library, SHIPMARK_CACHE_DIR=str(cache),
                       EXPECTED_SOURCE=source, EXECUTOR_NUMBER="1",
                       **{**index, **unreachable_index(tmp_path), "HOME": str(tmp_path / "home")})
    assert f"shipmark: {CACHE_HIT_LINE}{wheels} (each wheel checked against the lock)\n" in warm.stdout, warm.stdout

    shutil.copyfile(impostor_of(dist.wheel, tmp_path / "impostor"), cached)
    tampered = install_run(tmp_path, releasebits, build="3", library=library, SHIPMARK_CACHE_DIR=str(cache),
                           EXPECTED_SOURCE=source, EXECUTOR_NUMBER="1", **index)
    assert f"shipmark: wheel cache {wheels} is empty or {CACHE_MISS_LINE}\n" in tampered.stdout, tampered.stdout
    assert CACHE_HIT_LINE not in tampered.stdout
    assert not list((tmp_path / "ws@tmp").rglob(MARKER))
    assert sha256(cached) == digest  # refilled from the index


@pytest.mark.parametrize("unsafe", ["cache-mode-777", "wheels-mode-777", "cache-owned-by-another-user"])
def test_agent_wheel_cache_refused_when_others_can_write_it(tmp_path, releasebits, dist, unsafe):
    """A cache directory another account could swap files into is not used (a clear line says
    why); the install goes on without it."""
    cache = tmp_path / "shared-cache"
    (cache / "wheels").mkdir(parents=True)
    refused = cache / "wheels" if unsafe == "wheels-mode-777" else cache
    if unsafe == "cache-owned-by-another-user":
        assert os.geteuid() == 0, "chown to another user needs root (the CI container runs as root)"
        os.chown(cache, 65534, 65534)
        why = "not a directory owned by "
    else:
        refused.chmod(0o777)
        why = "writable by group or others (chmod go-w it)"
    proc = install_run(tmp_path, releasebits, SHIPMARK_CACHE_DIR=str(cache), PACKAGE=str(dist.wheel),
                       EXPECTED_SOURCE=f"user:{dist.wheel}")
    assert f"shipmark: not using {refused}: {why}" in proc.stdout, proc.stdout
    assert list((cache / "wheels").iterdir()) == []



# The user's deploy: leaves a mark in the workspace, fails when DEPLOY_FAIL=1.
MARKING_DEPLOY_SH = '#!/bin/sh\necho deploying >deployed.txt\n[ "${DEPLOY_FAIL:-}" != 1 ]\n'


def tracking_breaks(why: str, tmp_path: Path) -> dict:
    """Environment of an agent on which shipmark cannot record, for the reason `why`."""
    if why == "no-python3":
        return {"PATH": path_without_python(tmp_path)}
    if why == "index-unreachable":
        path = path_without_shipmark(tmp_path)
        assert shutil.which("shipmark-wrap", path=path) is None
        return {"PATH": path, **unreachable_index(tmp_path)}
    assert why == "start-exits-2"
    return {"PATH": path_with_shipmark(), **BROKEN_TARGET}


@pytest.mark.parametrize("deploy_fails", [False, True], ids=["deploy-succeeds", "deploy-fails"])
@pytest.mark.parametrize("why", ["no-python3", "index-unreachable", "start-exits-2"])
def test_deploy_block_runs_when_tracking_fails(tmp_path, why, deploy_fails):
    """Without failOnError, shipmarkDeploy warns (log and build description) and the block
    runs; the build's result is the block's own."""
    workspace = make_repo(tmp_path / "ws", {"deploy.sh": MARKING_DEPLOY_SH})
    proc = harness("guard", tmp_path, WORKSPACE=str(workspace), WORKSPACE_TMP=str(tmp_path / "ws@tmp"),
                   PACKAGE=f"shipmark=={version()}", DEPLOY_FAIL="1" if deploy_fails else "0",
                   **tracking_breaks(why, tmp_path))
    out = proc.stdout
    assert (workspace / "deployed.txt").exists(), out
    if deploy_fails:
        assert "OUTCOME: error: script returned exit code 1\n" in out, out
    else:
        assert "OUTCOME: success\n" in out, out
    finish = "failure" if deploy_fails else "deployment finish"
    for what in ("deployment start", finish):
        assert f"echo: shipmarkDeploy: WARNING: could not record {what}: " in out, out
    assert "DESCRIPTION: shipmarkDeploy: WARNING: could not record deployment start: " in out, out
    if why == "index-unreachable":
        assert index_was_tried(tmp_path, out), out  # the install really asked the index


@pytest.mark.parametrize("why", ["no-python3", "start-exits-2"])
def test_fail_on_error_keeps_the_block_from_running(tmp_path, why):
    workspace = make_repo(tmp_path / "ws", {"deploy.sh": MARKING_DEPLOY_SH})
    proc = harness("guard", tmp_path, WORKSPACE=str(workspace), WORKSPACE_TMP=str(tmp_path / "ws@tmp"),
                   PACKAGE=f"shipmark=={version()}", FAIL_ON_ERROR="true", **tracking_breaks(why, tmp_path))
    expected = ("script returned exit code 127" if why == "no-python3"
                else "shipmark deployment start failed with exit status 2")
    assert f"OUTCOME: error: {expected}\n" in proc.stdout, proc.stdout
    assert not (workspace / "deployed.txt").exists() and "WARNING" not in proc.stdout


def test_docs_jenkinsfile(tmp_path, releasebits):
    """The Jenkinsfile of docs/wrappers.md, run with the real shipmark on PATH and a tag build."""
    workspace = make_repo(tmp_path / "ws", {"shipmark.yml": CONFIG, "deploy.sh": "#!/bin/sh\necho deploying\n"})
    jenkinsfile = tmp_path / "Jenkinsfile"
    jenkinsfile.write_text(snippet("jenkins"))
    events_file = tmp_path / "events.jsonl"
    shipmark_dir = str(Path(tool("shipmark")).parent)
    proc = harness("jenkinsfile", workspace, JENKINSFILE=str(jenkinsfile), WORKSPACE=str(workspace),
                   PATH=shipmark_dir + os.pathsep + os.environ["PATH"], TAG_NAME="v1.2.3",
                   JENKINS_URL="http://127.0.0.1:9/", BUILD_NUMBER="3", JOB_NAME="web", BUILD_TAG="jenkins-web-3",
                   **sample_config_env(releasebits.url, events_file))
    assert "installing" not in proc.stdout
    events = [json.loads(line) for line in events_file.read_text().splitlines()]
    assert [(e["operation"], e["status"], e["environment"], e["version"]) for e in events] == [
        ("deploy", "in_progress", "production", "v1.2.3"), ("deploy", "success", "production", "v1.2.3"),
        ("release_create", "success", None, "v1.2.3")], events
    (post,) = releasebits.posts()
    assert post["json"]["result"] == "success"
    assert post["headers"]["Authorization"] == f"Bearer {SECRET}"
    # The tag's release went to BuildMaster (ReleaseBits has no releases), with its own key.
    (release,) = releasebits.posts("/api/")
    assert release["path"] == "/api/releases/create" and "releaseNumber=v1.2.3" in release["json"], release
    assert release["headers"]["X-ApiKey"] == BM_SECRET
    assert SECRET not in proc.stdout and BM_SECRET not in proc.stdout


def test_npm_groovy_lint_is_clean():
    proc = run([tool("npm-groovy-lint"), "--noserver", "--failon", "info", "--output", "txt", "jenkins/"],
               cwd=REPO, timeout=300, check=False)
    assert proc.returncode == 0, proc.stdout[-6000:]
