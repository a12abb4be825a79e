"""Fixtures for the CI detection tests: isolated git, captured notes, temp repos."""
from __future__ import annotations

import json
import os
import subprocess
from pathlib import Path
from typing import Any, Callable, Dict, List, Optional, Tuple

import pytest

from shipmark.ci import detect_context
from shipmark.models import Context


@pytest.fixture(autouse=True)
def _isolated_git(tmp_path: Path, monkeypatch: pytest.MonkeyPatch) -> None:
    """git must never find a repository above the test's own directory."""
    monkeypatch.setenv("GIT_CEILING_DIRECTORIES", str(tmp_path.parent))
    for name in ("GIT_DIR", "GIT_WORK_TREE", "GIT_INDEX_FILE", "GIT_COMMON_DIR"):
        monkeypatch.delenv(name, raising=False)


@pytest.fixture
def empty_dir(tmp_path: Path) -> Path:
    directory = tmp_path / "not-a-repo"
    directory.mkdir()
    return directory


Detect = Callable[..., Tuple[Context, List[str]]]


@pytest.fixture
def detect(empty_dir: Path) -> Detect:
    """detect_context(env) run outside any repository; returns (context, notes)."""

    def run(env: Dict[str, str], cwd: Optional[Path] = None) -> Tuple[Context, List[str]]:
        notes: List[str] = []
        ctx = detect_context(env=env, cwd=str(cwd or empty_dir), warn=notes.append)
        return ctx, notes

    return run


@pytest.fixture
def event_file(tmp_path: Path) -> Callable[[Any], str]:
    """Writes a GitHub event payload (a dict, or raw text) and returns its path."""

    def write(payload: Any) -> str:
        path = tmp_path / "event.json"
        path.write_text(payload if isinstance(payload, str) else json.dumps(payload), encoding="utf-8")
        return str(path)

    return write


class GitRepo:
    """A real repository in a temp directory, driven with plain git commands."""

    def __init__(self, path: Path):
        self.path = path
        self.path.mkdir(parents=True, exist_ok=True)
        self.git("init", "-q")
        self.git("checkout", "-q", "-b", "main")

    def git(self, *args: str) -> str:
        env = dict(os.environ)
        env.update(
            GIT_AUTHOR_NAME="Test",
            GIT_AUTHOR_EMAIL="test@example.com",
            GIT_COMMITTER_NAME="Test",
            GIT_COMMITTER_EMAIL="test@example.com",
            GIT_CONFIG_NOSYSTEM="1",
            HOME=str(self.path.parent),  # no user config: no signing, no hooks
        )
        completed = subprocess.run(
            ["git", "-C", str(self.path), *args], env=env, check=True, stdout=subprocess.PIPE, stderr=subprocess.PIPE
        )
        return completed.stdout.decode().strip()

    def commit(self, message: str) -> str:
        self.git("commit", "-q", "--allow-empty", "-m", message)
        return self.head

    @property
    def head(self) -> str:
        return self.git("rev-parse", "HEAD")


@pytest.fixture
def git_repo(tmp_path: Path) -> GitRepo:
    """A repository on branch `main` with one commit and an `origin` remote URL with a token."""
    repo = GitRepo(tmp_path / "repo")
    repo.commit("first")
    repo.git("remote", "add", "origin", "https://ci-bot:s3cret@git.example.com/acme/shop.git")
    return repo
