"""The SHIPMARK_* override variables: the user's word beats detection.

Invalid values raise ConfigError naming the variable. Messages never repeat the
value: an override may have been filled from something secret by mistake.
"""
from __future__ import annotations

import re
from typing import Callable, Optional

from ..errors import ConfigError
from .env import Env
from .git import GitRepository
from .refs import full_sha_lowercased, has_space_or_control, normalize_branch, normalize_tag, tag_from_ref

_CONTROL = re.compile(r"[\x00-\x1f\x7f]")


class Overrides:
    def __init__(self) -> None:
        self.commit: Optional[str] = None
        self.branch: Optional[str] = None
        self.tag: Optional[str] = None
        self.tag_source: Optional[str] = None  # SHIPMARK_TAG, or SHIPMARK_BRANCH holding refs/tags/
        self.environment: Optional[str] = None


def read_overrides(env: Env, git: GitRepository, warn: Callable[[str], None]) -> Overrides:
    """Validated overrides; unset ones (empty, `false`, a placeholder) are None and change nothing."""
    overrides = Overrides()

    commit = env.get("SHIPMARK_COMMIT")
    if commit is not None:
        overrides.commit = full_sha_lowercased(commit) or git.resolve_commit(commit)
        if overrides.commit is None:
            raise ConfigError(
                "SHIPMARK_COMMIT is not a full commit sha (40 or 64 hex digits) "
                "and git cannot resolve it to a commit here"
            )

    tag = env.get("SHIPMARK_TAG")
    if tag is not None:
        if has_space_or_control(tag):
            raise ConfigError("SHIPMARK_TAG must not contain whitespace or control characters")
        overrides.tag = normalize_tag(tag)
        overrides.tag_source = "SHIPMARK_TAG"

    branch = env.get("SHIPMARK_BRANCH")
    if branch is not None:
        if has_space_or_control(branch):
            raise ConfigError("SHIPMARK_BRANCH must not contain whitespace or control characters")
        branch_tag = tag_from_ref(branch)
        if branch_tag is not None:
            if overrides.tag is None:  # SHIPMARK_TAG, when set, wins over a tag ref here
                overrides.tag = branch_tag
                overrides.tag_source = "SHIPMARK_BRANCH"
        else:
            overrides.branch = normalize_branch(branch)
            if overrides.branch is None:
                # HEAD, a sha or a PR ref (often `git rev-parse --abbrev-ref HEAD` on a detached
                # checkout): not a branch, so it cannot stand as one; detection keeps its value.
                warn("SHIPMARK_BRANCH does not name a branch (HEAD, a sha or a PR ref); ignored")

    environment = env.get("SHIPMARK_ENVIRONMENT")
    if environment is not None:
        if _CONTROL.search(environment):
            raise ConfigError("SHIPMARK_ENVIRONMENT must not contain control characters")
        overrides.environment = environment

    return overrides
