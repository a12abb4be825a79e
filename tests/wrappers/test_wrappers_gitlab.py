"""The GitLab template (gitlab-ci/shipmark.yml) runs under gitlab-ci-local.

Jobs run on this host (`--shell-executor-no-image --force-shell-executor`), each in its own
copy of a scratch repository (`--shell-isolation`), one at a time. The include of the docs
snippet is pointed at the template in that repository, and `package` at the wheel built
from the working tree (what the package index would serve), since the job cannot see the
rest of this repository.
"""
from __future__ import annotations

import base64
import hashlib
import json
import os
import shutil
import zipfile
from pathlib import Path
from typing import Dict

import pytest
import yaml

from dist_support import Dist, local_index
from wrapper_support import (REPO, BROKEN_TARGET, CONFIG, DEPLOY_SH, QUOTED_ARGS, QUOTED_COMMAND_LINE,
                             assert_quoted_args_event, clean_env, file_target_env, index_was_tried, make_repo,
                             path_with_shipmark, path_without_python, path_without_shipmark, recorded, recorded_events,
                             run, sample_config_env, snippet, tool, unreachable_index, version, write_recorder)

pytestmark = pytest.mark.wrappers

TOKEN = "gl-secret-token-3b7a"
BM_KEY = "gl-bm-key-6c10"


def localize(pipeline: str, **inputs) -> dict:
    """The docs pipeline with its include pointed at the repository's own template."""
    data = yaml.safe_load(pipeline)
    (include,) = data["include"]
    assert include.pop("project") == "shipmark/shipmark" and include.pop("file") == "/gitlab-ci/shipmark.yml"
    include.pop("ref")
    include["local"] = "/gitlab-ci/shipmark.yml"
    include["inputs"].update(inputs)
    return data


def gitlab_ci_local(repo: Path, home: Path, path: str, variables: Dict[str, str]):
    # SHIPMARK_SPOOL: keep shipmark's retry spool out of this machine's home directory.
    cmd = [tool("gitlab-ci-local"), "--shell-executor-no-image", "--force-shell-executor", "--shell-isolation",
           "--concurrency", "1", "--home", str(home), "--variable", "GITLAB_CI=true",
           "--variable", f"SHIPMARK_SPOOL={home / 'spool.jsonl'}"]
    for key, value in variables.items():
        cmd += ["--variable", f"{key}={value}"]
    return run(cmd, cwd=repo, env=clean_env(PATH=path), timeout=400, check=False)


def test_snippet_tracks_deployments_and_reports_ids(tmp_path, releasebits, dist):
    pipeline = localize(snippet("gitlab"), package=str(dist.wheel))
    # One more tracked job whose script fails: its after_script must record `failure`.
    pipeline["deploy-broken"] = {
        "stage": "deploy", "extends": ".shipmark-track", "allow_failure": True,
        "variables": {"DEPLOY_FAIL": "1", "SHIPMARK_ARGS": "--meta job=broken"},
        "script": ["./deploy.sh"],
    }
    # The job runs in the user's checkout: a shipmark/ package of its own must never run in
    # place of the installed shipmark (the template runs `python -I -m shipmark.wrap`).
    marker = tmp_path / "shadowed"
    shadow = {"shipmark/__init__.py": "", "shipmark/wrap.py": f"import pathlib\npathlib.Path({str(marker)!r}).touch()\n"}
    repo = make_repo(tmp_path / "repo", {".gitlab-ci.yml": yaml.safe_dump(pipeline, sort_keys=False),
                                         "shipmark.yml": CONFIG, "deploy.sh": DEPLOY_SH, **shadow})
    events_file = tmp_path / "events.jsonl"
    proc = gitlab_ci_local(repo, tmp_path / "home", path_without_shipmark(tmp_path), {
        "RELEASEBITS_TOKEN": TOKEN, "BUILDMASTER_API_KEY": BM_KEY, **sample_config_env(releasebits.url, events_file),
        "CI_COMMIT_TAG": "v1.2.3",
        # gitlab-ci-local wipes untracked files before after_script (GitLab does not): keep the
        # virtualenv outside the job directory so it is built once, not once per script.
        "SHIPMARK_VENV": str(tmp_path / "venv")})
    log = proc.stdout
    assert proc.returncode == 0, log[-10000:]
    # One fresh install per job (deploy, release, deploy-broken); each after_script reuses
    # its job's. A `package` path is the user's choice: it bypasses the hash lock, and says so.
    bypass = (f"shipmark: installing {dist.wheel} with pip: your package input, so it and its dependencies "
              "come as resolved, not from shipmark's hash lock")
    assert log.count(bypass) == 3, log[-10000:]
    assert log.count("installing " + str(dist.wheel)) == 3, log[-10000:]

    events = [json.loads(line) for line in events_file.read_text().splitlines()]
    broken = [(e["operation"], e["status"]) for e in events if e["meta"].get("job") == "broken"]
    others = [(e["operation"], e["status"]) for e in events if e["meta"].get("job") != "broken"]
    assert broken == [("deploy", "in_progress"), ("deploy", "failure")], events
    assert sorted(others) == sorted([("deploy", "in_progress"), ("deploy", "success"),
                                     ("release_create", "success")]), events
    assert {e["environment"] for e in events if e["operation"] == "deploy"} == {"production"}
    assert {e["version"] for e in events} == {"v1.2.3"}

    posts = releasebits.posts()
    assert sorted(p["json"]["result"] for p in posts) == ["failure", "success"], releasebits.requests
    assert {p["headers"]["Authorization"] for p in posts} == {f"Bearer {TOKEN}"}
    success_id = next(p["answer_id"] for p in posts if p["json"]["result"] == "success")
    # The report job got the deploy job's dotenv report.
    assert f"recorded=true ReleaseBits deployment {success_id}" in log, log[-10000:]
    # The tag's release went to BuildMaster (ReleaseBits has no releases).
    (release,) = releasebits.posts("/api/")
    assert release["path"] == "/api/releases/create" and "releaseNumber=v1.2.3" in release["json"], release
    assert release["headers"]["X-ApiKey"] == BM_KEY
    assert TOKEN not in log and BM_KEY not in log
    assert not marker.exists(), "the checkout's shipmark/ ran instead of shipmark"


def test_inputs_and_shipmark_from_the_image(tmp_path):
    """With shipmark-wrap on PATH nothing is installed; inputs become exact arguments and variables."""
    pipeline = localize(snippet("gitlab"), environment="$(id)", version="9.9.9", targets="rb, log",
                        **{"fail-on-error": True})
    pipeline = {"include": pipeline["include"],
                "record": {"extends": ".shipmark-deploy",
                           "variables": {"SHIPMARK_ARGS": "--meta team=web --dry-run"}}}
    repo = make_repo(tmp_path / "repo", {".gitlab-ci.yml": yaml.safe_dump(pipeline, sort_keys=False)})
    recorder = tmp_path / "recorder"
    recorder.mkdir()
    path = str(write_recorder(tmp_path)) + ":" + path_without_shipmark(tmp_path)
    proc = gitlab_ci_local(repo, tmp_path / "home", path, {"RECORDER_DIR": str(recorder)})
    assert proc.returncode == 0, proc.stdout[-10000:]
    assert "installing" not in proc.stdout
    argv, env = recorded(recorder)
    assert argv == ["deploy", "--target", "rb", "--target", "log", "--meta", "team=web", "--dry-run"]
    assert env["SHIPMARK_ENVIRONMENT"] == "$(id)"
    assert env["SHIPMARK_VERSION"] == "9.9.9"
    assert env["SHIPMARK_FAIL_ON_ERROR"] == "true"


def test_args_are_split_like_a_shell_splits_words(tmp_path):
    """SHIPMARK_ARGS with a quoted value: the same string as the other wrappers' args, the same event."""
    pipeline = localize(snippet("gitlab"))
    pipeline = {"include": pipeline["include"],
                "record": {"extends": ".shipmark-deploy", "variables": {"SHIPMARK_ARGS": QUOTED_ARGS}}}
    repo = make_repo(tmp_path / "repo", {".gitlab-ci.yml": yaml.safe_dump(pipeline, sort_keys=False)})
    events_file = tmp_path / "events.jsonl"
    proc = gitlab_ci_local(repo, tmp_path / "home", path_with_shipmark(), file_target_env(events_file))
    assert proc.returncode == 0, proc.stdout[-10000:]
    assert "installing" not in proc.stdout
    assert QUOTED_COMMAND_LINE in proc.stdout, proc.stdout[-10000:]
    (event,) = recorded_events(events_file)
    assert_quoted_args_event(event)


def tracking_breaks(why: str, tmp_path: Path):
    """(PATH, variables) of a deploy image in which shipmark cannot record, for the reason `why`."""
    if why == "no-python3":
        return path_without_python(tmp_path), {}
    if why == "index-unreachable":
        return path_without_shipmark(tmp_path), unreachable_index(tmp_path)
    assert why == "start-exits-2"
    return path_with_shipmark(), dict(BROKEN_TARGET)


def tracked_pipeline(**inputs) -> dict:
    """The docs' include, a tracked deploy job running ./deploy.sh and a job reading its report."""
    pipeline = localize(snippet("gitlab"), package=f"shipmark=={version()}", **inputs)
    return {"include": pipeline["include"], "stages": ["deploy", "report"],
            "deploy": {"stage": "deploy", "extends": ".shipmark-track", "script": ["./deploy.sh"]},
            "report": {"stage": "report", "needs": ["deploy"], "script": ['echo "report ok=$SHIPMARK_OK"']}}


@pytest.mark.parametrize("deploy_fails", [False, True], ids=["deploy-succeeds", "deploy-fails"])
@pytest.mark.parametrize("why", ["no-python3", "index-unreachable", "start-exits-2"])
def test_track_runs_the_script_when_tracking_fails(tmp_path, why, deploy_fails):
    """Without fail-on-error, .shipmark-track warns, reports SHIPMARK_OK=false and runs the
    user's script, whose own result is the job's."""
    repo = make_repo(tmp_path / "repo", {".gitlab-ci.yml": yaml.safe_dump(tracked_pipeline(), sort_keys=False),
                                         "deploy.sh": DEPLOY_SH})
    path, variables = tracking_breaks(why, tmp_path)
    proc = gitlab_ci_local(repo, tmp_path / "home", path, {
        "DEPLOY_FAIL": "1" if deploy_fails else "0", "SHIPMARK_VENV": str(tmp_path / "venv"), **variables})
    log = proc.stdout
    assert "deploying" in log, log[-10000:]
    assert 'WARNING: shipmark: could not record "deployment start" (exit status ' in log, log[-10000:]
    assert 'WARNING: shipmark: could not record "deployment finish --status ' in log, log[-10000:]
    if why == "index-unreachable":
        assert index_was_tried(tmp_path, log), log[-10000:]  # the install really asked the index
    if deploy_fails:
        assert proc.returncode != 0, log[-10000:]
        assert "report ok=" not in log
    else:
        assert proc.returncode == 0, log[-10000:]
        assert "report ok=false" in log, log[-10000:]


@pytest.mark.parametrize("why", ["no-python3", "start-exits-2"])
def test_track_with_fail_on_error_stops_before_the_script(tmp_path, why):
    pipeline = tracked_pipeline(**{"fail-on-error": True})
    repo = make_repo(tmp_path / "repo", {".gitlab-ci.yml": yaml.safe_dump(pipeline, sort_keys=False),
                                         "deploy.sh": DEPLOY_SH})
    path, variables = tracking_breaks(why, tmp_path)
    proc = gitlab_ci_local(repo, tmp_path / "home", path, {"SHIPMARK_VENV": str(tmp_path / "venv"), **variables})
    assert proc.returncode != 0, proc.stdout[-10000:]
    assert "deploying" not in proc.stdout and "WARNING: shipmark" not in proc.stdout, proc.stdout[-10000:]


def sha256(path: Path) -> str:
    return hashlib.sha256(path.read_bytes()).hexdigest()


def wheel_with_planted_file(wheel: Path, dest: Path, member: str) -> Path:
    """A copy of `wheel` under the same file name with one more module (listed in RECORD, so
    the wheel itself is well formed): what a hijacked index or a poisoned cache would serve."""
    dest.mkdir(parents=True, exist_ok=True)
    out = dest / wheel.name
    planted = b"PLANTED = True\n"
    digest = base64.urlsafe_b64encode(hashlib.sha256(planted).digest()).rstrip(b"=").decode()
    with zipfile.ZipFile(wheel) as src, zipfile.ZipFile(out, "w", zipfile.ZIP_DEFLATED) as dst:
        for item in src.infolist():
            data = src.read(item)
            if item.filename.endswith(".dist-info/RECORD"):
                data += f"{member},sha256={digest},{len(planted)}\n".encode()
            dst.writestr(item, data)
        dst.writestr(member, planted)
    assert sha256(out) != sha256(wheel)
    return out


def pinned_template(digest: str) -> str:
    """The template as the release leaves it: the default package's wheel digest recorded."""
    text = (REPO / "gitlab-ci" / "shipmark.yml").read_text()
    assert text.count("shipmark_default_sha256=''") == 1, "the release's placeholder is missing"
    return text.replace("shipmark_default_sha256=''", f"shipmark_default_sha256='{digest}'")


def index_only(index: Path, tmp_path: Path) -> Dict[str, str]:
    """pip and uv reach nothing but `index` (no config file, no find-links, no caches)."""
    return {"PIP_INDEX_URL": index.as_uri(), "PIP_CONFIG_FILE": os.devnull, "PIP_FIND_LINKS": "",
            "PIP_NO_CACHE_DIR": "1", "UV_NO_CONFIG": "1",
            "UV_CACHE_DIR": str(tmp_path / "uv-cache")}


def path_with_uv(tmp_path: Path) -> str:
    """path_without_shipmark plus uv (what the default image ships)."""
    uv_bin = tmp_path / "uv-bin"
    uv_bin.mkdir(exist_ok=True)
    if not (uv_bin / "uv").exists():
        (uv_bin / "uv").symlink_to(tool("uv"))
    return f"{uv_bin}{os.pathsep}{path_without_shipmark(tmp_path)}"


@pytest.mark.parametrize("served,installer", [("released", "uv"), ("same-name-other-digest", "uv"),
                                              ("same-name-other-digest", "pip")])
def test_default_package_installs_only_the_released_wheel(tmp_path, dist, served, installer):
    """`package` left at its default installs shipmark by the released wheel's digest: the
    real wheel installs and records; a same-named wheel with another digest (served by the
    index) is refused, the tracked job's own script still runs and the log says why."""
    released = sha256(dist.wheel)
    wheel = dist.wheel if served == "released" else wheel_with_planted_file(
        dist.wheel, tmp_path / "other", "shipmark/planted.py")
    index = local_index(Dist(sdist=dist.sdist, wheel=wheel), tmp_path / "index")
    repo = make_repo(tmp_path / "repo", {".gitlab-ci.yml": yaml.safe_dump(tracked_pipeline(), sort_keys=False),
                                         "gitlab-ci/shipmark.yml": pinned_template(released),
                                         "deploy.sh": DEPLOY_SH})
    path = path_with_uv(tmp_path) if installer == "uv" else path_without_shipmark(tmp_path)
    events_file = tmp_path / "events.jsonl"
    proc = gitlab_ci_local(repo, tmp_path / "home", path, {
        "SHIPMARK_VENV": str(tmp_path / "venv"), **index_only(index, tmp_path), **file_target_env(events_file)})
    log = proc.stdout
    assert proc.returncode == 0, log[-10000:]
    assert "deploying" in log, log[-10000:]
    # Installed once (after_script reuses the job's virtualenv); refused twice (start, finish).
    installs = 1 if served == "released" else 2
    assert log.count(f"shipmark: installing shipmark=={version()} and its dependencies with {installer} "
                     "(hash-locked)") == installs, log[-10000:]
    if served == "released":
        assert [(e["operation"], e["status"]) for e in recorded_events(events_file)] == [
            ("deploy", "in_progress"), ("deploy", "success")]
        assert "report ok=true" in log and "WARNING: shipmark" not in log, log[-10000:]
        return
    assert not events_file.exists()
    assert released in log, log[-10000:]  # uv or pip names the digest it expected
    assert "mismatch" in log.lower() or "DO NOT MATCH THE HASHES" in log, log[-10000:]
    assert 'WARNING: shipmark: could not record "deployment start" (exit status ' in log, log[-10000:]
    assert "report ok=false" in log, log[-10000:]
    assert not list((tmp_path / "venv").rglob("planted.py"))


def test_wheel_cache_is_checked_against_the_lock(tmp_path, dist):
    """The pip path keeps the locked wheels in the template's `cache:`; a restored wheel that
    does not match the lock is never installed (downloaded again), and a restored cache
    directory writable by others is not used at all."""
    index = local_index(dist, tmp_path / "index")
    pipeline = localize(snippet("gitlab"))
    pipeline = {"include": pipeline["include"], "record": {"extends": ".shipmark-deploy"}}
    repo = make_repo(tmp_path / "repo", {".gitlab-ci.yml": yaml.safe_dump(pipeline, sort_keys=False)})
    events_file = tmp_path / "events.jsonl"
    venv = tmp_path / "venv"

    def record():
        proc = gitlab_ci_local(repo, tmp_path / "home", path_without_shipmark(tmp_path), {
            "SHIPMARK_VENV": str(venv), **index_only(index, tmp_path), **file_target_env(events_file)})
        assert proc.returncode == 0, proc.stdout[-10000:]
        return proc.stdout

    cold = record()
    assert "is empty or does not match the lock: downloading" in cold, cold[-10000:]
    # gitlab-ci-local keeps the job's `cache:` paths here between runs, as GitLab's cache would.
    stored = repo / ".gitlab-ci-local" / "cache" / "shipmark-wheels" / ".shipmark-cache"
    (keydir,) = stored.iterdir()
    idna = next(keydir.glob("idna-*.whl"))
    genuine = sha256(idna)

    # The image's pip filled the virtualenv (--python): none was installed into it, which
    # would cost seconds per job.
    assert not (venv / "bin" / "pip").exists()

    warm = record()
    assert f"dependencies installed from the wheel cache {repo}" in warm, warm[-10000:]
    assert "downloading" not in warm, warm[-10000:]

    tampered = wheel_with_planted_file(idna, tmp_path / "tampered", "idna/planted.py")
    shutil.copy2(tampered, idna)
    poisoned = record()
    assert "does not match the lock: downloading" in poisoned, poisoned[-10000:]
    assert not list(venv.rglob("planted.py"))
    assert sha256(idna) == genuine  # the job saved the re-downloaded, genuine wheel

    stored.chmod(0o777)
    shared = record()
    assert "/.shipmark-cache: writable by group or others (chmod go-w it)" in shared, shared[-10000:]
    assert "wheel cache" not in shared, shared[-10000:]
    assert len(recorded_events(events_file)) == 4
