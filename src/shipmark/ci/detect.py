"""Environment -> Context: provider facts, then the shared rules, overrides and git.

Order per key: SHIPMARK_* > provider variables and event file > git.
"""
from __future__ import annotations

import os
import sys
from typing import TYPE_CHECKING, Any, Callable, Dict, List, Mapping, Optional, Tuple

from .env import Env, source_of
from .facts import Candidates, ProviderFacts, candidates
from .git import CHECKOUT_DIR_VARIABLES, GitRepository, checkout_directory
from .overrides import read_overrides
from .providers import match_provider
from .refs import full_sha_lowercased, normalize_branch, normalize_tag, pr_number, tag_from_ref
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
    return detect_context_with_sources(env, cwd, warn)[0]


def detect_context_with_sources(
    env: Optional[Mapping[str, str]] = None,
    cwd: Optional[str] = None,
    warn: Optional[Warn] = None,
) -> Tuple["Context", Dict[str, Optional[str]]]:
    """The context, and for each key where its value came from (None for null keys)."""
    from ..models import Context

    reader = Env(env)
    warn = warn or _note_to_stderr
    reader.trace = []
    provider = match_provider(reader)
    detected_by = ", ".join(dict.fromkeys(reader.trace))
    reader.trace = None
    git = GitRepository(
        [str(cwd) if cwd is not None else os.getcwd()]
        + [checkout_directory(reader.get(name), reader.get("HOME")) for name in CHECKOUT_DIR_VARIABLES]
    )
    overrides = read_overrides(reader, git, warn)
    facts = provider.read(reader, warn) if provider is not None else ProviderFacts()
    out = _Result(Context.keys())

    is_ci = _set_identity(out, provider, detected_by, reader)
    is_pr = bool(facts.is_pr)
    out.set("is_pr", is_pr, source_of(facts.is_pr) if is_pr else None)

    # --- provider values, each through its key's rule ---
    commit = _first_sha(facts.commit, git)
    tag = _first(facts.tag, normalize_tag)
    if tag[0] is None and not is_pr:
        # A `refs/tags/<t>` ref in a branch variable is a tag checkout (the providers
        # without a tag variable of their own name tags this way).
        tag = _first(facts.branch, _tag_of_ref)
    branch = _first(facts.branch, normalize_branch)
    if is_pr:  # every pr* key stays null otherwise
        _set_pr_keys(out, facts, branch, git)
    _set_plain_keys(out, facts, overrides)
    repository_url = _first(facts.repository_url, clean_repository_url)
    slug = _first(facts.slug, slug_from_path)

    # --- overrides (never touch ci_name, is_ci, is_pr or pr* keys) ---
    if overrides.commit:
        commit = (overrides.commit, "SHIPMARK_COMMIT")
    if overrides.tag:
        tag = (overrides.tag, overrides.tag_source)
    if overrides.branch:
        branch = (overrides.branch, "SHIPMARK_BRANCH")
    # A branch equal to the tag is the tag in the branch slot (several CIs fill both on
    # tag builds); overrides are exempt.
    if branch[0] is not None and branch[0] == tag[0] and not overrides.branch:
        branch = (None, None)

    # --- git, only for keys every other source left null ---
    source = "override" if overrides.commit else ("env" if commit[0] else None)
    if commit[0] is None and (provider is None or facts.commit_from_git):
        head = git.head()
        if head:
            source, commit = "git", (head, "git rev-parse --verify HEAD^{commit}")
            if is_ci:
                warn(f"commit {head} comes from git HEAD, not from a CI variable; detached heads can make it wrong")
    if tag[0] is None and not is_ci:
        tag = (git.tag(), "git tag --points-at HEAD")  # one-commit CI clones lack tags: never from git in CI
    if branch[0] is None and (provider is None or facts.branch_from_git) and not (is_ci and (is_pr or tag[0])):
        branch = _branch_from_git(git, tag[0], is_ci, warn)
    repository_url, slug = _remote_from_git(git, repository_url, slug)

    out.set("commit", *commit)
    out.set("source", source, commit[1])
    for key, pair in (("tag", tag), ("branch", branch), ("repository_url", repository_url), ("slug", slug)):
        out.set(key, *pair)

    if source == "env":
        _warn_if_checkout_differs(git, commit[0], out.values["pr_head_sha"], warn)

    return Context(**out.values), out.sources


def _set_identity(out: "_Result", provider: Any, detected_by: str, reader: Env) -> bool:
    """ci_name and is_ci; returns is_ci."""
    if provider is not None:
        out.set("ci_name", provider.NAME, f"{provider.NAME} matched on {detected_by}")
        out.set("is_ci", True, f"{provider.NAME} matched")
    elif reader.is_set("CI"):
        # CI only says "some CI" when no provider matched; it never picks or vetoes one
        # (some setups export CI=false inside a real provider).
        out.set("is_ci", True, "CI (no known provider matched)")
    else:
        out.set("is_ci", False, "no provider matched and CI is unset")
    return bool(out.values["is_ci"])


def _first_sha(values: Candidates, git: GitRepository) -> Tuple[Optional[str], Optional[str]]:
    """(sha, source): full shas pass; other values only if git resolves them; else the next source."""
    for value in candidates(values):
        if value:
            sha = full_sha_lowercased(value)
            if sha:
                return sha, source_of(value)
            sha = git.resolve_commit(value)
            if sha:
                return sha, f"{source_of(value) or value} resolved by git rev-parse"
    return None, None


def _set_pr_keys(out: "_Result", facts: ProviderFacts, branch: Tuple[Optional[str], Optional[str]],
                 git: GitRepository) -> None:
    out.set("pr", *_first(facts.pr, pr_number))
    out.set("pr_head_branch", *branch)
    out.set("pr_base_branch", *_first(facts.pr_base_branch, normalize_branch))
    out.set("pr_merge_ref", *_first(facts.pr_merge_ref, _as_is))
    # PR shas only from their own variables, never from commit or git history: a
    # one-commit clone has no history, and the answer must not depend on clone depth.
    out.set("pr_head_sha", *_first_sha(facts.pr_head_sha, git))
    out.set("pr_base_sha", *_first_sha(facts.pr_base_sha, git))
    out.set("pr_merge_base_sha", *_first_sha(facts.pr_merge_base_sha, git))


def _set_plain_keys(out: "_Result", facts: ProviderFacts, overrides: Any) -> None:
    """The keys taken as the provider gives them (URLs without credentials)."""
    for key in ("build", "pipeline_id", "job", "stage", "actor"):
        out.set(key, *_first(getattr(facts, key), _as_is))
    for key in ("build_url", "job_url"):
        out.set(key, *_first(getattr(facts, key), strip_credentials))
    out.set("environment", *_first(facts.environment, _as_is))
    if overrides.environment:
        out.set("environment", overrides.environment, "SHIPMARK_ENVIRONMENT")


def _branch_from_git(git: GitRepository, tag: Optional[str], is_ci: bool,
                     warn: Warn) -> Tuple[Optional[str], Optional[str]]:
    branch = git.branch()
    if branch and branch == tag:
        return None, None
    if branch and is_ci:
        warn(f"branch {branch} comes from git, not from a CI variable; detached heads can make it wrong")
    return branch, "git symbolic-ref HEAD, else the one origin branch at HEAD"


def _remote_from_git(git: GitRepository, repository_url: Tuple[Optional[str], Optional[str]],
                     slug: Tuple[Optional[str], Optional[str]]) -> Tuple[Tuple[Optional[str], Optional[str]], ...]:
    """repository_url and slug from `git remote get-url origin` where no variable gave them."""
    if repository_url[0] is None or slug[0] is None:
        remote = git.remote_url()
        remote_source = "git remote get-url origin"
        if repository_url[0] is None:
            repository_url = (clean_repository_url(remote), remote_source)
        if slug[0] is None:
            slug = (slug_from_url(remote), remote_source)
    return repository_url, slug


class _Result:
    """Context values as plain data, each with where it came from."""

    def __init__(self, keys: List[str]):
        self.values: Dict[str, object] = {key: None for key in keys}
        self.values.update(is_ci=False, is_pr=False)
        self.sources: Dict[str, Optional[str]] = {key: None for key in keys}

    def set(self, key: str, value: object, source: Optional[str]) -> None:
        if isinstance(value, str):
            value = str(value) or None  # plain text; an empty string never reaches the object
        self.values[key] = value
        self.sources[key] = source if value is not None else None


def _tag_of_ref(value: Optional[str]) -> Optional[str]:
    return normalize_tag(value) if tag_from_ref(value) else None


def _as_is(value: Optional[str]) -> Optional[str]:
    return value


def _first(values: Candidates, rule: Callable[[Optional[str]], Optional[str]]) -> Tuple[Optional[str], Optional[str]]:
    """The first candidate that passes ``rule`` (which also normalizes it), and its source."""
    for value in candidates(values):
        result = rule(value)
        if result:
            return result, source_of(value)
    return None, None


def _warn_if_checkout_differs(git: GitRepository, commit: Optional[str], pr_head_sha: object, warn: Warn) -> None:
    """The variables name the trigger; the job may have checked out something else."""
    head = git.head()
    if head is None or head == commit or head == pr_head_sha:
        return
    warn(
        f"git HEAD is {head} but the CI variables name commit {commit}; keeping {commit}. "
        "Set SHIPMARK_COMMIT if the checked-out commit is what you ship"
    )
