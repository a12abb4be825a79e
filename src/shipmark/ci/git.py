"""Read-only questions to the local git repository.

Every failure (git missing, no repository, "dubious ownership", a timeout) reads
as "unknown": the caller gets None and the context key stays null.
"""
from __future__ import annotations

import os
from typing import Iterable, List, Optional

from .refs import full_sha_lowercased, has_space_or_control, normalize_branch

TIMEOUT_SECONDS = 5

# Where providers check the repository out, for when the working directory is
# elsewhere (a monorepo step, a script run from a tools directory). Only these
# variables are read, in this order.
CHECKOUT_DIR_VARIABLES = (
    "GITHUB_WORKSPACE",
    "CI_PROJECT_DIR",
    "BUILD_SOURCESDIRECTORY",
    "WORKSPACE",
    "CIRCLE_WORKING_DIRECTORY",
    "BITBUCKET_CLONE_DIR",
    "BUILDKITE_BUILD_CHECKOUT_PATH",
    "CODEBUILD_SRC_DIR",
    "TRAVIS_BUILD_DIR",
)


def checkout_directory(value: Optional[str], home: Optional[str]) -> Optional[str]:
    """A checkout variable's directory, with a leading ``~`` expanded.

    CircleCI sets CIRCLE_WORKING_DIRECTORY to ``~/project`` literally: the shell never
    expands it, so it would name no directory.
    """
    if value and home and (value == "~" or value.startswith("~/")):
        return home.rstrip("/") + value[1:]
    return value


def _git_environment() -> dict:
    env = dict(os.environ)
    env["GIT_TERMINAL_PROMPT"] = "0"  # never wait for credentials
    env["GIT_OPTIONAL_LOCKS"] = "0"  # stay read-only, even for index refreshes
    env["LC_ALL"] = "C"
    return env


def run_git(directory: str, *args: str) -> Optional[str]:
    """stdout of ``git -C directory args`` without the trailing newline, or None."""
    import subprocess  # only when git is really asked: keeps `import shipmark.ci` fast

    try:
        completed = subprocess.run(
            ["git", "-C", directory, *args],
            stdin=subprocess.DEVNULL,
            stdout=subprocess.PIPE,
            stderr=subprocess.DEVNULL,
            env=_git_environment(),
            timeout=TIMEOUT_SECONDS,
            check=False,
        )
    except (OSError, subprocess.SubprocessError):
        return None
    if completed.returncode != 0:
        return None
    return completed.stdout.decode("utf-8", "replace").rstrip("\n")


class GitRepository:
    """The work tree shipmark asks, found lazily on the first question."""

    def __init__(self, candidates: Iterable[Optional[str]]):
        self._candidates = [directory for directory in candidates if directory]
        self._directory: Optional[str] = None
        self._searched = False

    @property
    def directory(self) -> Optional[str]:
        if not self._searched:
            self._searched = True
            for candidate in self._candidates:
                if os.path.isdir(candidate) and run_git(candidate, "rev-parse", "--is-inside-work-tree") == "true":
                    self._directory = candidate
                    break
        return self._directory

    def _ask(self, *args: str) -> Optional[str]:
        directory = self.directory
        if directory is None:
            return None
        return run_git(directory, *args)

    def head(self) -> Optional[str]:
        output = self._ask("rev-parse", "--verify", "--quiet", "HEAD^{commit}")
        return full_sha_lowercased(output) if output else None

    def resolve_commit(self, value: str) -> Optional[str]:
        """A short sha or ref, resolved to a full sha; None if git cannot."""
        if not value or value.startswith("-") or has_space_or_control(value):
            return None  # never let a value reach git as an option
        output = self._ask("rev-parse", "--verify", "--quiet", value + "^{commit}")
        return full_sha_lowercased(output) if output else None

    def branch(self) -> Optional[str]:
        """The checked-out branch; on a detached HEAD the one origin branch at HEAD."""
        name = self._ask("symbolic-ref", "--quiet", "--short", "HEAD")
        if name:
            return normalize_branch(name)
        listing = self._ask("for-each-ref", "--points-at", "HEAD", "--format=%(refname)", "refs/remotes/origin")
        candidates = _lines(listing)
        candidates = [ref for ref in candidates if ref != "refs/remotes/origin/HEAD"]
        if len(candidates) != 1:
            return None  # none, or ambiguous: do not guess
        return normalize_branch(candidates[0])

    def tag(self) -> Optional[str]:
        tags = _lines(self._ask("tag", "--points-at", "HEAD"))
        return tags[0] if len(tags) == 1 else None

    def remote_url(self) -> Optional[str]:
        url = self._ask("remote", "get-url", "origin")
        if url:
            return url
        remotes = _lines(self._ask("remote"))
        if not remotes:
            return None
        return self._ask("remote", "get-url", remotes[0]) or None


def _lines(output: Optional[str]) -> List[str]:
    if not output:
        return []
    return [line.strip() for line in output.splitlines() if line.strip()]
