"""What a provider module reports, before the shared rules turn it into a Context.

Providers only pick variables. A key with several possible sources takes a tuple
of candidates, best first; the first one that passes the key's rule wins (so an
invalid sha falls through to the next source). Validation, normalization,
overrides and git all happen later, in one place (``detect.py``).
"""
from __future__ import annotations

from typing import Any, Optional, Tuple, Union

Candidates = Union[None, str, Tuple[Optional[str], ...]]


class ProviderFacts:
    # Plain class defaults rather than a dataclass: dataclasses pulls in `inspect`,
    # which would double the import time of `shipmark.ci`.
    commit: Candidates = None
    branch: Candidates = None  # on PR builds: the PR source branch candidates only
    tag: Candidates = None  # tag names or refs/tags/ refs
    is_pr: bool = False
    pr: Candidates = None
    pr_base_branch: Candidates = None
    pr_merge_ref: Optional[str] = None
    pr_head_sha: Candidates = None
    pr_base_sha: Candidates = None
    pr_merge_base_sha: Candidates = None
    build: Optional[str] = None
    build_url: Optional[str] = None
    pipeline_id: Optional[str] = None
    job: Optional[str] = None
    job_url: Optional[str] = None
    slug: Candidates = None
    repository_url: Candidates = None
    stage: Optional[str] = None
    environment: Optional[str] = None
    actor: Optional[str] = None
    # This provider may leave commit / branch unset in normal builds, so git may fill them.
    commit_from_git: bool = False
    branch_from_git: bool = False

    def __init__(self, **values: Any):
        for name, value in values.items():
            if not hasattr(type(self), name):
                raise TypeError(f"ProviderFacts has no field {name!r}")
            setattr(self, name, value)


def candidates(value: Candidates) -> Tuple[Optional[str], ...]:
    if value is None:
        return ()
    if isinstance(value, str):
        return (value,)
    return tuple(value)
