"""GitHub Actions: https://docs.github.com/en/actions/reference/variables-reference

Which event sets which GITHUB_SHA and GITHUB_REF:
https://docs.github.com/en/actions/reference/events-that-trigger-workflows
Payload shapes: https://docs.github.com/en/webhooks/webhook-events-and-payloads
"""
from __future__ import annotations

import re
from typing import Callable, Optional

from ..env import Env, sourced
from ..facts import ProviderFacts
from ..github_event import GitHubEvent, load_event
from ..refs import pr_number_from_ref, tag_from_ref
from ..urls import join_url

NAME = "github_actions"

Warn = Callable[[str], None]

_DEPLOYMENT_EVENTS = ("deployment", "deployment_status")
# Events whose commit is known only from the payload. Elsewhere (merge queue, release,
# push...) the variables suffice and the payload only adds to them.
_PAYLOAD_EVENTS = _DEPLOYMENT_EVENTS + ("workflow_run",)
# `https://api.github.com` or `https://ghe.example.com/api/v3` (Gitea: `/api/v1`).
_API_SUFFIX = re.compile(r"/api/v[0-9]+/?$")


def detect(env: Env) -> bool:
    return env.is_set("GITHUB_ACTIONS") or env.is_set("GITHUB_ACTION")


def read(env: Env, warn: Warn) -> ProviderFacts:
    return read_actions(env, warn, default_server="https://github.com")


# Events that run the workflow for a pull request, in the PR's own (read-only) context.
_PR_EVENTS = ("pull_request", "pull_request_review", "pull_request_review_comment")


def foreign_code(env: Env) -> Optional[str]:
    """pull_request_target always; a fork's pull request or workflow_run when the payload says so.

    A payload that cannot be read counts as a fork: the safe answer when unsure.
    https://docs.github.com/en/actions/security-for-github-actions/security-guides/security-hardening-for-github-actions
    """
    name = (env.get("GITHUB_EVENT_NAME") or "").lower()
    if name == "pull_request_target":
        return "a GitHub pull_request_target run"
    if name not in _PR_EVENTS and name != "workflow_run":
        return None
    event = load_event(env.get("GITHUB_EVENT_PATH"), _quiet)
    if name == "workflow_run":
        head, base = ("workflow_run", "head_repository", "full_name"), ("workflow_run", "repository", "full_name")
        if not event.has_object("workflow_run"):
            return None
    else:
        head, base = ("pull_request", "head", "repo", "full_name"), ("pull_request", "base", "repo", "full_name")
    head_repo, base_repo = event.text(*head), event.text(*base)
    if head_repo is None or base_repo is None or head_repo.lower() != base_repo.lower():
        return f"a GitHub {name} from a fork ({head_repo or 'unknown repository'})"
    return None


def _pull_number_of_ref(ref: Optional[str]) -> Optional[str]:
    """``<n>`` of ``refs/pull/<n>/…`` (GitHub's PR refs only)."""
    if not ref or not ref.startswith("refs/pull/"):
        return None
    return pr_number_from_ref(ref)


def server_url(env: Env, default: Optional[str]) -> Optional[str]:
    """The web address of the GitHub (Enterprise) or Gitea server."""
    server = env.get("GITHUB_SERVER_URL")
    if server:
        return server
    api = env.get("GITHUB_API_URL")
    if api:
        web = _API_SUFFIX.sub("", api.rstrip("/")).replace("://api.", "://", 1)
        return sourced(web, "GITHUB_API_URL without its API part")
    return sourced(default, "GitHub's public server") if default else None


def read_actions(env: Env, warn: Warn, default_server: Optional[str]) -> ProviderFacts:
    """GitHub's variable names, as GitHub and Gitea Actions export them."""
    event_name = env.get("GITHUB_EVENT_NAME")
    name = (event_name or "").lower()
    ref = env.get("GITHUB_REF")
    ref_number = _pull_number_of_ref(ref)
    # Every pull_request* event is a PR, pull_request_target included: it runs in the base
    # repository, but for a PR, and must never pass for a push to the base branch.
    names_pr = name.startswith("pull_request") or ref_number is not None
    # Only PR and payload events note a missing payload; other runs read it quietly, since
    # a payload holding a pull request still makes the run a PR build.
    needs_payload = names_pr or name in _PAYLOAD_EVENTS
    event = load_event(env.get("GITHUB_EVENT_PATH"), warn if needs_payload else _quiet)
    payload_pr = event.has_object("pull_request") and event.text("pull_request", "number") is not None

    if name == "workflow_run":
        facts = _workflow_run(event, warn)
    else:
        facts = ProviderFacts(commit=env.get("GITHUB_SHA"))
        is_pr = (event_name if name.startswith("pull_request") else None) or (ref if ref_number else None)
        facts.is_pr = is_pr or (sourced("true", "event pull_request") if payload_pr else None)
        facts.tag = (
            event.text("release", "tag_name") if name == "release" else None,
            env.get("GITHUB_REF_NAME") if env.equals("GITHUB_REF_TYPE", "tag") else None,
            tag_from_ref(ref) and ref,
        )
        if facts.is_pr:
            _pull_request(env, event, facts, ref, ref_number, name)
        else:
            branch_name = env.get("GITHUB_REF_NAME") if env.equals("GITHUB_REF_TYPE", "branch") else None
            # GITHUB_HEAD_REF wins whenever it is set; a merge-queue ref stands for its base branch.
            facts.branch = (env.get("GITHUB_HEAD_REF"), ref, branch_name, event.text("merge_group", "base_ref"))
        if name == "merge_group":
            facts.commit = (event.text("merge_group", "head_sha"), env.get("GITHUB_SHA"))
        if name in _DEPLOYMENT_EVENTS:
            facts.commit = (event.text("deployment", "sha"), env.get("GITHUB_SHA"))
            facts.environment = event.text("deployment", "environment")

    server = server_url(env, default_server)
    repository = env.get("GITHUB_REPOSITORY")
    run_id = env.get("GITHUB_RUN_ID")
    # Re-runs keep the run id; the URL has no /attempts/N, so every attempt links the same run.
    facts.build = run_id
    facts.pipeline_id = run_id
    facts.build_url = join_url(server, repository, "actions/runs", run_id)
    facts.job = env.get("GITHUB_JOB")
    # The job's own page needs `job.check_run_id`, which only the workflow can export.
    facts.job_url = join_url(facts.build_url, "job", env.get("JOB_CHECK_RUN_ID"))
    facts.slug = repository
    if repository:
        facts.repository_url = join_url(server, sourced(repository + ".git", "GITHUB_REPOSITORY"))
    facts.actor = env.first("GITHUB_TRIGGERING_ACTOR", "GITHUB_ACTOR")
    return facts


def _pull_request(env: Env, event: GitHubEvent, facts: ProviderFacts, ref, ref_number, name: str) -> None:
    number = event.text("pull_request", "number") or ref_number
    facts.pr = number
    # GITHUB_REF is the base branch on pull_request_target: only head sources here.
    facts.branch = (env.get("GITHUB_HEAD_REF"), event.text("pull_request", "head", "ref"))
    facts.pr_base_branch = (env.get("GITHUB_BASE_REF"), event.text("pull_request", "base", "ref"))
    facts.pr_head_sha = event.text("pull_request", "head", "sha")
    facts.pr_base_sha = event.text("pull_request", "base", "sha")
    if ref_number is not None and ref.endswith("/merge"):
        facts.pr_merge_ref = ref
    elif name == "pull_request_target" and number:
        # GitHub keeps this ref for every open PR; the run's own GITHUB_REF is the base branch.
        facts.pr_merge_ref = sourced(f"refs/pull/{number}/merge", "refs/pull/<event pull_request.number>/merge")


def _workflow_run(event: GitHubEvent, warn: Warn) -> ProviderFacts:
    """A run started by another run finishing ("deploy after CI passed").

    GITHUB_SHA and GITHUB_REF name the default branch's tip here, not what the
    triggering run built, so the commit and branch come from the payload only.
    """
    run = "workflow_run"
    facts = ProviderFacts(commit=event.text(run, "head_sha"))
    trigger = event.text(run, "event")
    if trigger == "release":
        # A release run is a tag's run: GitHub puts the tag's name in head_branch.
        facts.tag = event.text(run, "head_branch")
    else:
        facts.branch = event.text(run, "head_branch")
    if trigger and trigger.lower().startswith("pull_request"):
        facts.is_pr = trigger
        first = (run, "pull_requests", 0)
        facts.pr = event.text(*first, "number")
        facts.pr_base_branch = event.text(*first, "base", "ref")
        facts.pr_base_sha = event.text(*first, "base", "sha")
        facts.pr_head_sha = (event.text(*first, "head", "sha"), event.text(run, "head_sha"))
        if event.is_empty_list(run, "pull_requests"):
            warn("the triggering run was for a pull request from a fork, which GitHub does not list; "
                 "the PR number is unknown and its head is workflow_run.head_sha")
    return facts


def _quiet(message: str) -> None:
    pass
