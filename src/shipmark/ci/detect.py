"""Environment -> Context: provider facts, then the shared rules, overrides and git.

Order per key: SHIPMARK_* > provider variables and event file > git.
"""
from __future__ import annotations

import os
import sys
from typing import TYPE_CHECKING, Callable, Dict, Mapping, Optional

from .env import Env
from .facts import Candidates, ProviderFacts, candidates
from .git import CHECKOUT_DIR_VARIABLES, GitRepository
from .overrides import read_overrides
from .providers import match_provider
from .refs import full_sha_lowercased, normalize_branch, normalize_tag, pr_number
from .urls import clean_repository_url, slug_from_path, slug_from_url, strip_credentials

if TYPE_CHECKING:  # models imports pydantic; keep `import shipmark.ci` light
    from ..models import Context

Warn = Callable[[str], None]


def _note_to_stderr(message: str) -> None:
    print(f"shipmark: note: {message}", file=sys.stderr)


def detect_context(
    env: Optional[Mapping[str, str]] = None,
    cwd: Optional[str] = None,
    warn: Optional[Warn] = None,
) -> "Context":
    """The normalized CI context (docs/ci-context.md) for ``env`` (default ``os.environ``).

    ``cwd`` is where git is asked (default: the working directory, then the
    provider's checkout directory). ``warn`` receives stderr notes. Raises
    ``ConfigError`` for an invalid SHIPMARK_* override.
    """
    from ..models import Context

    reader = Env(env)
    warn = warn or _note_to_stderr
    provider = match_provider(reader)
    # CI only says "some CI" when no provider matched; it never picks or vetoes one
    # (some setups export CI=false inside a real provider).
    is_ci = provider is not None or reader.is_set("CI")
    git = GitRepository(
        [str(cwd) if cwd is not None else os.getcwd()] + [reader.get(name) for name in CHECKOUT_DIR_VARIABLES]
    )
    overrides = read_overrides(reader, git, warn)
    facts = provider.read(reader, warn) if provider is not None else ProviderFacts()

    def first_sha(values: Candidates) -> Optional[str]:
        # Full shas pass; other values only if git resolves them; else the next source.
        for value in candidates(values):
            if value:
                sha = full_sha_lowercased(value) or git.resolve_commit(value)
                if sha:
                    return sha
        return None

    ctx: Dict[str, object] = {key: None for key in Context.keys()}
    ctx["ci_name"] = provider.NAME if provider is not None else None
    ctx["is_ci"] = is_ci
    ctx["is_pr"] = is_pr = facts.is_pr

    # --- provider values, each through its key's rule ---
    commit = first_sha(facts.commit)
    source = "env" if commit else None
    tag = _first(facts.tag, normalize_tag)
    branch = _first(facts.branch, normalize_branch)
    if is_pr:  # every pr* key stays null otherwise
        ctx["pr"] = _first(facts.pr, pr_number)
        ctx["pr_head_branch"] = branch
        ctx["pr_base_branch"] = _first(facts.pr_base_branch, normalize_branch)
        ctx["pr_merge_ref"] = facts.pr_merge_ref
        # PR shas only from their own variables, never from commit or git history: a
        # one-commit clone has no history, and the answer must not depend on clone depth.
        ctx["pr_head_sha"] = first_sha(facts.pr_head_sha)
        ctx["pr_base_sha"] = first_sha(facts.pr_base_sha)
        ctx["pr_merge_base_sha"] = first_sha(facts.pr_merge_base_sha)
    ctx["build"] = facts.build
    ctx["build_url"] = strip_credentials(facts.build_url)
    ctx["pipeline_id"] = facts.pipeline_id
    ctx["job"] = facts.job
    ctx["job_url"] = strip_credentials(facts.job_url)
    repository_url = _first(facts.repository_url, clean_repository_url)
    slug = _first(facts.slug, slug_from_path)
    ctx["stage"] = facts.stage
    ctx["environment"] = overrides.environment or facts.environment
    ctx["actor"] = facts.actor

    # --- overrides (never touch ci_name, is_ci, is_pr or pr* keys) ---
    if overrides.commit:
        commit, source = overrides.commit, "override"
    if overrides.tag:
        tag = overrides.tag
    if overrides.branch:
        branch = overrides.branch
    # A branch equal to the tag is the tag in the branch slot (several CIs fill both on
    # tag builds); overrides are exempt.
    if branch is not None and branch == tag and not overrides.branch:
        branch = None

    # --- git, only for keys every other source left null ---
    if commit is None and (provider is None or facts.commit_from_git):
        commit = git.head()
        if commit:
            source = "git"
            if is_ci:
                warn(f"commit {commit} comes from git HEAD, not from a CI variable; detached heads can make it wrong")
    if tag is None and not is_ci:
        tag = git.tag()  # one-commit CI clones lack tags: never from git in CI
    if branch is None and (provider is None or facts.branch_from_git) and not (is_ci and (is_pr or tag)):
        branch = git.branch()
        if branch and branch == tag:
            branch = None
        if branch and is_ci:
            warn(f"branch {branch} comes from git, not from a CI variable; detached heads can make it wrong")
    if repository_url is None or slug is None:
        remote = git.remote_url()
        repository_url = repository_url or clean_repository_url(remote)
        slug = slug or slug_from_url(remote)

    ctx.update(commit=commit, source=source, tag=tag, branch=branch, repository_url=repository_url, slug=slug)

    if source == "env":
        _warn_if_checkout_differs(git, commit, ctx["pr_head_sha"], warn)

    # An empty string must never reach the object: unknown is null.
    return Context(**{key: (None if value == "" else value) for key, value in ctx.items()})


def _first(values: Candidates, rule: Callable[[Optional[str]], Optional[str]]) -> Optional[str]:
    """The first candidate that passes ``rule`` (which also normalizes it)."""
    for value in candidates(values):
        result = rule(value)
        if result:
            return result
    return None


def _warn_if_checkout_differs(git: GitRepository, commit: Optional[str], pr_head_sha: object, warn: Warn) -> None:
    """The variables name the trigger; the job may have checked out something else."""
    head = git.head()
    if head is None or head == commit or head == pr_head_sha:
        return
    warn(
        f"git HEAD is {head} but the CI variables name commit {commit}; keeping {commit}. "
        "Set SHIPMARK_COMMIT if the checked-out commit is what you ship"
    )
