"""Ref, branch, tag, PR-number and sha shapes.

Every branch-like value from every provider goes through ``normalize_branch``, so
the prefix and "never a branch" rules live in one place: providers that strip
prefixes their own way disagree on `origin/main`, inner slashes and tags.
"""
from __future__ import annotations

import re
from typing import Optional

_SHA = re.compile(r"[0-9a-f]{40}|[0-9a-f]{64}")
_SHA_ANY_CASE = re.compile(r"[0-9a-fA-F]{40}|[0-9a-fA-F]{64}")
_PR_REF = re.compile(r"refs/(?:pull|merge-requests)/([0-9]+)/.+")
_MERGE_QUEUE = re.compile(r"gh-readonly-queue/(.+)/pr-[0-9]+-[0-9a-f]+")
_MERGE_QUEUE_PREFIX = "gh-readonly-queue/"
_GITHUB_PR_REF_NAME = re.compile(r"[0-9]+/(?:merge|head)")
_DIGITS_AT_END = re.compile(r"(?:^|[/#])([0-9]+)/?$")
_CONTROL_OR_SPACE = re.compile(r"[\s\x00-\x1f\x7f]")

# At most one of these is removed, longest first.
_BRANCH_PREFIXES = ("refs/heads/", "refs/remotes/origin/", "remotes/origin/", "origin/")
_TAG_PREFIX = "refs/tags/"


def is_full_sha(value: Optional[str]) -> bool:
    """40 (SHA-1) or 64 (SHA-256) lowercase hex digits."""
    return value is not None and _SHA.fullmatch(value) is not None


def full_sha_lowercased(value: str) -> Optional[str]:
    """A full-length hex sha in any case, lowercased; None for anything else."""
    if _SHA_ANY_CASE.fullmatch(value):
        return value.lower()
    return None


def has_space_or_control(value: str) -> bool:
    return _CONTROL_OR_SPACE.search(value) is not None


def pr_number_from_ref(ref: Optional[str]) -> Optional[str]:
    """``<n>`` of ``refs/pull/<n>/…`` or ``refs/merge-requests/<n>/…``."""
    if not ref:
        return None
    match = _PR_REF.fullmatch(ref)
    return match.group(1) if match else None


def is_pr_merge_ref(ref: Optional[str]) -> bool:
    return bool(ref) and pr_number_from_ref(ref) is not None and ref.endswith("/merge")


def tag_from_ref(ref: Optional[str]) -> Optional[str]:
    """The tag named by ``refs/tags/<t>``, else None."""
    if ref and ref.startswith(_TAG_PREFIX):
        return ref[len(_TAG_PREFIX):] or None
    return None


def normalize_tag(value: Optional[str]) -> Optional[str]:
    """A tag variable's value without a leading ``refs/tags/``."""
    if not value:
        return None
    if value.startswith(_TAG_PREFIX):
        value = value[len(_TAG_PREFIX):]
    if not value or has_space_or_control(value):
        return None
    return value


def strip_branch_prefix(value: str) -> str:
    """Remove one remote or heads prefix, keep every other slash (never cut by length)."""
    for prefix in _BRANCH_PREFIXES:
        if value.startswith(prefix):
            return value[len(prefix):]
    return value


def normalize_branch(value: Optional[str]) -> Optional[str]:
    """The branch a value names, or None when it names no branch."""
    if not value:
        return None
    if value.startswith(_TAG_PREFIX) or pr_number_from_ref(value) is not None:
        return None  # classified before normalizing: a tag or a PR ref
    if value.startswith("refs/") and not value.startswith(("refs/heads/", "refs/remotes/origin/")):
        return None  # some other ref namespace (refs/notes, refs/changes, ...)
    branch = strip_branch_prefix(value)
    if branch.startswith(_MERGE_QUEUE_PREFIX):
        branch = _merge_queue_base(branch)  # a merge-queue branch stands for its base
    if not _looks_like_branch(branch):
        return None
    return branch


def _merge_queue_base(branch: str) -> str:
    """``<base>`` of ``gh-readonly-queue/<base>/pr-<n>-<sha>``; with another last part, all before it."""
    queued = _MERGE_QUEUE.fullmatch(branch)
    if queued:
        return queued.group(1)
    rest = branch[len(_MERGE_QUEUE_PREFIX):]
    return rest.rpartition("/")[0] or rest


def _looks_like_branch(branch: str) -> bool:
    if not branch or has_space_or_control(branch):
        return False  # also rejects "(HEAD detached at 1a2b3c)"
    if branch in ("HEAD", "<default>"):
        return False
    if branch.startswith("(") or _SHA_ANY_CASE.fullmatch(branch):
        return False
    return _GITHUB_PR_REF_NAME.fullmatch(branch) is None  # GitHub's `<n>/merge`


def tag_in_branch_slot(value: Optional[str]) -> Optional[str]:
    """The tag carried by a branch slot (Jenkins ``GIT_BRANCH``, Codefresh ``CF_BRANCH``).

    ``refs/tags/v1``, and ``origin/tags/v1`` or ``tags/v1`` once a remote prefix is
    removed, are the tag ``v1``. Anything else is no tag.
    """
    if not value:
        return None
    tag = tag_from_ref(value)
    if tag is not None:
        return tag
    stripped = strip_branch_prefix(value)
    if stripped.startswith("tags/"):
        return normalize_tag(stripped[len("tags/"):])
    return None


def pr_number(value: Optional[str]) -> Optional[str]:
    """The digits of a PR number, a ``#<n>``, a URL or ``pull/<n>``; else None."""
    if not value:
        return None
    if value.isdigit() and value.isascii():
        return value
    match = _DIGITS_AT_END.search(value)
    return match.group(1) if match else None
