"""This repository's workflows: ci.yml runs .ci/run, release.yml releases a tag.

Linted with actionlint, zizmor (pedantic) and the workflow JSON schema, checked for what a
release needs, and release.yml run under act on a tag push with the steps that reach the
outside stubbed: the package index upload, the attestation, the artifact store and `gh`.
"""
from __future__ import annotations

import json
import os
import re
import sys
from pathlib import Path
from typing import Optional

import pytest
import yaml

from dist_support import REPO, copy_without_vcs, version

sys.path.insert(0, str(REPO / "tests" / "wrappers"))
from wrapper_support import NODE_BIN, clean_env, run, tool  # noqa: E402

sys.path.insert(0, str(REPO / "scripts"))
import bump_version  # noqa: E402

WORKFLOWS = REPO / ".github" / "workflows"
FILES = [str(WORKFLOWS / "ci.yml"), str(WORKFLOWS / "release.yml")]
STUBS = Path(__file__).resolve().parent / "stubs"
PINNED = re.compile(r"^[\w.-]+/[\w./-]+@[0-9a-f]{40} # v\d+(\.\d+)*$")
# The sha of each third-party action, and the stub that stands in for it under act.
STUBBED = {
    "actions/attest-build-provenance": "attest",
    "actions/upload-artifact": "upload-artifact",
    "actions/download-artifact": "download-artifact",
    "pypa/gh-action-pypi-publish": "pypi-publish",
}


def tools_env():
    return clean_env(PATH=os.pathsep.join([str(Path(sys.executable).parent), str(NODE_BIN), os.environ["PATH"]]))


def load(name: str) -> dict:
    return yaml.safe_load((WORKFLOWS / name).read_text())


def uses_lines(name: str):
    return [line.split("uses:", 1)[1].strip() for line in (WORKFLOWS / name).read_text().splitlines()
            if line.strip().startswith(("uses:", "- uses:"))]


@pytest.mark.wrappers
def test_zizmor_pedantic_finds_nothing():
    proc = run([tool("zizmor"), "--offline", "--no-progress", "--persona", "pedantic", *FILES], cwd=REPO,
               env=tools_env(), check=False)
    assert proc.returncode == 0 and "No findings to report" in proc.stdout, proc.stdout


@pytest.mark.wrappers
def test_actionlint_and_the_workflow_schema():
    run([tool("actionlint"), "-shellcheck", tool("shellcheck"), *FILES], cwd=REPO, env=tools_env())
    run([tool("check-jsonschema"), "--builtin-schema", "vendor.github-workflows", *FILES], cwd=REPO, env=tools_env())
    run([tool("yamllint"), "--strict", "-c", str(REPO / "tests" / "wrappers" / "yamllint.yml"), ".github",
         "tests/release/stubs"], cwd=REPO, env=tools_env())


@pytest.mark.release
def test_third_party_actions_are_pinned_by_sha_with_their_tag():
    for name in ("ci.yml", "release.yml"):
        for uses in uses_lines(name):
            uses = uses.split("  #")[0]
            if uses.startswith("./"):
                continue
            assert PINNED.match(uses), f"{name}: {uses} is not pinned by a full sha with a # vX comment"


@pytest.mark.release
def test_ci_runs_dot_ci_run_on_pushes_and_pull_requests():
    ci = load("ci.yml")
    assert set(ci[True]) == {"push", "pull_request"}  # PyYAML reads the key `on` as True
    steps = ci["jobs"]["ci-run"]["steps"]
    assert [s.get("run") for s in steps][-1] == "bash .ci/run"
    assert ci["permissions"] == {}


@pytest.mark.release
def test_release_jobs_have_the_permissions_they_need_and_no_more():
    release = load("release.yml")
    assert release[True] == {"push": {"tags": ["v*"]}}
    assert release["permissions"] == {}
    jobs = release["jobs"]
    assert {name: job["permissions"] for name, job in jobs.items()} == {
        "test": {"contents": "read"},
        "build": {"contents": "read", "id-token": "write", "attestations": "write"},
        "publish": {"id-token": "write"},
        "github-release": {"contents": "write"},
    }
    assert [jobs[name].get("needs") for name in jobs] == [None, "test", "build", "publish"]
    assert jobs["publish"]["environment"]["name"] == "pypi"
    publish = [s for s in jobs["publish"]["steps"] if "gh-action-pypi-publish" in s.get("uses", "")]
    assert len(publish) == 1 and set(publish[0]["with"]) == {"packages-dir"}  # no password: trusted publishing
    test_steps = [s.get("run", "") for s in jobs["test"]["steps"]]
    assert 'python3 scripts/bump_version.py --check --tag "${GITHUB_REF_NAME}"' in test_steps
    assert "bash .ci/run" in test_steps


@pytest.mark.release
def test_release_builds_with_the_build_lock_and_checks_the_recorded_digest_before_publishing():
    # Each run script as one line per command (continuation lines joined).
    build = [re.sub(r"\\\n\s*", "", s.get("run", "")) for s in load("release.yml")["jobs"]["build"]["steps"]]
    locked = [i for i, text in enumerate(build) if "pip\" install --quiet --require-hashes --only-binary :all: "
              "-r installer/build-lock.txt\n" in text and '-m build --no-isolation --outdir dist .\n' in text]
    checked = [i for i, text in enumerate(build) if 'python3 scripts/bump_version.py --check --tag "${GITHUB_REF_NAME}" '
               '--wheel "dist/shipmark-${GITHUB_REF_NAME#v}-py3-none-any.whl"\n' in text]
    uploaded = [i for i, step in enumerate(load("release.yml")["jobs"]["build"]["steps"])
                if "upload-artifact" in step.get("uses", "")]
    # Built with the lock, then checked, and only then handed to the publish job.
    assert len(locked) == len(checked) == len(uploaded) == 1 and locked[0] < checked[0] < uploaded[0], build


def release_repo(tmp_path: Path, digest: Optional[str] = None) -> Path:
    """A git repository holding the project as a release commit (the wheel's digest recorded,
    or `digest`), with .ci/run replaced by an echo (it is the whole suite, this test included)
    and the third-party actions resolved to local stubs."""
    repo = copy_without_vcs(tmp_path / "repo")
    if digest is None:
        bump_version.record_built_digest(repo)
    else:
        bump_version.record_digest(repo, digest, version())
    workflow = repo / ".github" / "workflows" / "release.yml"
    text = workflow.read_text()
    assert text.count("run: bash .ci/run\n") == 1
    workflow.write_text(text.replace("run: bash .ci/run\n", "run: echo stub-ci-run\n"))
    git = ["git", "-c", "user.name=shipmark tests", "-c", "user.email=tests@example.invalid",
           "-c", "init.defaultBranch=main", "-c", "commit.gpgsign=false"]
    run(git + ["init", "-q"], cwd=repo)
    run(git + ["add", "-A"], cwd=repo)
    run(git + ["commit", "-q", "-m", "release fixture"], cwd=repo)
    return repo


def fake_gh(bindir: Path) -> None:
    """`gh` that logs its arguments; the major tag does not exist yet."""
    bindir.mkdir()
    script = bindir / "gh"
    script.write_text(
        f"#!{sys.executable}\n"
        "import json, os, sys\n"
        "with open(os.path.join(os.environ['STUB_OUT'], 'gh.jsonl'), 'a') as out:\n"
        "    out.write(json.dumps(sys.argv[1:]) + '\\n')\n"
        "sys.exit(1 if sys.argv[1:3] == ['api', sys.argv[2]] and '/git/ref/tags/' in sys.argv[2] else 0)\n")
    script.chmod(0o755)


def act_release(tmp_path: Path, repo: Path):
    """Runs release.yml under act on a push of the version's tag; returns (act's run, stub output dir)."""
    out = tmp_path / "out"
    out.mkdir()
    fake_gh(tmp_path / "gh-bin")
    event = tmp_path / "event.json"
    event.write_text(json.dumps({"ref": f"refs/tags/v{version()}"}))
    cmd = [tool("act"), "push", "-W", ".github/workflows/release.yml", "-P", "ubuntu-latest=-self-hosted",
           "-e", str(event), "--no-cache-server", "--action-cache-path", str(tmp_path / "act-cache"),
           "--env", f"STUB_OUT={out}",
           "--env", f"SHIPMARK_SPOOL={tmp_path / 'spool.jsonl'}"]
    text = (WORKFLOWS / "release.yml").read_text()
    for action, stub in STUBBED.items():
        for sha in sorted(set(re.findall(re.escape(action) + r"@([0-9a-f]{40})", text))):
            cmd += ["--local-repository", f"{action}@{sha}={STUBS / stub}"]
    # The root action names actions/setup-python (for its python-version input) and actions/cache
    # (its wheel cache): the wrapper tests' stubs (act fetches them even for a skipped step).
    for name in ("setup-python", "cache"):
        named = re.search(r"actions/%s@[0-9a-f]{40}" % name, (REPO / "action.yml").read_text()).group(0)
        cmd += ["--local-repository", f"{named}={REPO / 'tests' / 'wrappers' / 'github' / 'stubs' / name}"]
    env = clean_env(PATH=os.pathsep.join([str(tmp_path / "gh-bin"), os.environ["PATH"]]))
    return run(cmd, cwd=repo, env=env, timeout=900, check=False), out


@pytest.mark.wrappers
def test_release_stops_before_publishing_a_wheel_the_wrappers_do_not_pin(tmp_path):
    # The release commit records another digest (say, README.md edited after the bump).
    repo = release_repo(tmp_path, digest="0" * 64)
    proc, out = act_release(tmp_path, repo)
    assert proc.returncode != 0, proc.stdout[-12000:]
    assert re.search(rf"shipmark-{re.escape(version())}-py3-none-any\.whl has sha256 [0-9a-f]{{64}}, the wrappers "
                     rf"record {'0' * 64}: not the wheel the wrappers install", proc.stdout), proc.stdout[-12000:]
    assert not (out / "published.txt").exists() and not (out / "attested.txt").exists()
    assert not (out / "gh.jsonl").exists()


@pytest.mark.wrappers
def test_release_workflow_under_act_on_a_tag(tmp_path):
    repo = release_repo(tmp_path)
    tag = f"v{version()}"
    proc, out = act_release(tmp_path, repo)
    assert proc.returncode == 0, proc.stdout[-12000:]
    assert "stub-ci-run" in proc.stdout

    wheel, sdist = f"shipmark-{version()}-py3-none-any.whl", f"shipmark-{version()}.tar.gz"
    assert (out / "attested.txt").read_text().split() == [f"dist/{wheel}", f"dist/{sdist}"]
    assert (out / "published.txt").read_text().split() == [wheel, sdist]
    calls = [json.loads(line) for line in (out / "gh.jsonl").read_text().splitlines()]
    create = calls[0]
    assert create[:3] == ["release", "create", tag] and "--verify-tag" in create
    assert sorted(Path(a).name for a in create if a.endswith((".whl", ".tar.gz"))) == [wheel, sdist]
    assert Path(create[create.index("--notes-file") + 1]).name == "dist-notes.md"
    sha = run(["git", "rev-parse", "HEAD"], cwd=repo).stdout.strip()
    # act names the repository nektos/act when it has no remote; the calls are the same otherwise.
    assert len(calls) == 3 and calls[1][0] == "api" and calls[1][1].endswith("/git/ref/tags/v0"), calls
    repository = calls[1][1].split("/git/")[0]
    assert calls[2] == ["api", "--method", "POST", f"{repository}/git/refs", "-f", "ref=refs/tags/v0",
                        "-f", f"sha={sha}"], calls
    notes = (out / "artifacts" / "dist" / "dist-notes.md").read_text()
    changelog = (REPO / "CHANGELOG.md").read_text()
    assert notes.strip() and notes.strip() in changelog.split(f"## [{version()}]", 1)[1]

    (record,) = [json.loads(line) for line in
                 (out / "artifacts" / "shipmark-release-record" / "shipmark-release.jsonl").read_text().splitlines()]
    assert (record["operation"], record["version"], record["meta"]) == (
        "release_create", tag, {"workflow": "release.yml"})
