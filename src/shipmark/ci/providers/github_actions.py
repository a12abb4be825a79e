"""GitHub Actions: https://docs.github.com/en/actions/reference/variables-reference

Which event sets which GITHUB_SHA and GITHUB_REF:
https://docs.github.com/en/actions/reference/events-that-trigger-workflows
"""
from __future__ import annotations

from typing import Callable, Optional

from ..env import Env
from ..facts import ProviderFacts
from ..github_event import GitHubEvent, load_event
from ..refs import pr_number, pr_number_from_ref, tag_from_ref
from ..urls import join_url

NAME = "github_actions"

_DEPLOYMENT_EVENTS = ("deployment", "deployment_status")


def detect(env: Env) -> bool:
    return env.is_set("GITHUB_ACTIONS") or env.is_set("GITHUB_ACTION")


def _pull_number_of_ref(ref: Optional[str]) -> Optional[str]:
    """``<n>`` of ``refs/pull/<n>/…`` (GitHub's PR refs only)."""
    if not ref or not ref.startswith("refs/pull/"):
        return None
    return pr_number_from_ref(ref)


def read(env: Env, warn: Callable[[str], None]) -> ProviderFacts:
    event_name = (env.get("GITHUB_EVENT_NAME") or "").lower()
    ref = env.get("GITHUB_REF")
    ref_number = _pull_number_of_ref(ref)
    # Every pull_request* event is a PR, pull_request_target included: it runs in the base
    # repository, but for a PR, and must never pass for a push to the base branch.
    is_pr = event_name.startswith("pull_request") or ref_number is not None
    is_deployment = event_name in _DEPLOYMENT_EVENTS
    # Push runs need nothing from the payload, so they never read it.
    event = load_event(env.get("GITHUB_EVENT_PATH"), warn) if (is_pr or is_deployment) else GitHubEvent()

    facts = ProviderFacts(commit=env.get("GITHUB_SHA"), is_pr=is_pr)
    facts.tag = (
        env.get("GITHUB_REF_NAME") if env.equals("GITHUB_REF_TYPE", "tag") else None,
        tag_from_ref(ref),
    )
    if is_pr:
        number = pr_number(event.text("pull_request", "number")) or ref_number
        facts.pr = number
        # GITHUB_REF is the base branch on pull_request_target: only head sources here.
        facts.branch = (env.get("GITHUB_HEAD_REF"), event.text("pull_request", "head", "ref"))
        facts.pr_base_branch = (env.get("GITHUB_BASE_REF"), event.text("pull_request", "base", "ref"))
        facts.pr_head_sha = event.text("pull_request", "head", "sha")
        facts.pr_base_sha = event.text("pull_request", "base", "sha")
        if ref_number is not None and ref.endswith("/merge"):
            facts.pr_merge_ref = ref
        elif event_name == "pull_request_target" and number:
            facts.pr_merge_ref = f"refs/pull/{number}/merge"  # GitHub keeps this ref for every open PR
    elif ref and ref.startswith("refs/heads/"):
        facts.branch = ref

    server = env.get("GITHUB_SERVER_URL")
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
    facts.repository_url = join_url(server, repository + ".git") if repository else None
    if is_deployment:
        facts.environment = event.text("deployment", "environment")
    facts.actor = env.first("GITHUB_TRIGGERING_ACTOR", "GITHUB_ACTOR")
    return facts
