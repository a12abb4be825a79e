"""Drone: https://docs.drone.io/pipeline/environment/reference/

DRONE_BRANCH is the pull request's *target* branch on PR builds, so there only
DRONE_SOURCE_BRANCH names the branch.
"""
from __future__ import annotations

from typing import Callable, Optional

from ..env import Env, joined
from ..facts import ProviderFacts

NAME = "drone"


def detect(env: Env) -> bool:
    return env.is_set("DRONE")


def human_trigger(env: Env) -> Optional[str]:
    """DRONE_BUILD_TRIGGER names a user, or a system trigger such as ``@hook`` / ``@cron``."""
    trigger = env.get("DRONE_BUILD_TRIGGER")
    return trigger if trigger and not trigger.startswith("@") else None


def read_branches(env: Env, facts: ProviderFacts, pushed: object) -> None:
    """Drone's branch variables (Harness exports them too).

    On a PR, DRONE_BRANCH names the target branch, so the branch is the PR's source
    branch; on any other build it is ``pushed``, the variables given in their order.
    """
    if facts.is_pr:
        facts.branch = env.get("DRONE_SOURCE_BRANCH")
        facts.pr = env.get("DRONE_PULL_REQUEST")
        facts.pr_base_branch = env.get("DRONE_TARGET_BRANCH")
    else:
        facts.branch = pushed


def read(env: Env, warn: Callable[[str], None]) -> ProviderFacts:
    is_pr = env.get("DRONE_BUILD_EVENT") if env.equals("DRONE_BUILD_EVENT", "pull_request") else None
    facts = ProviderFacts(
        commit=(env.get("DRONE_COMMIT_SHA"), env.get("DRONE_COMMIT")),
        tag=env.get("DRONE_TAG"),
        is_pr=is_pr,
    )
    read_branches(env, facts, pushed=(env.get("DRONE_BRANCH"), env.get("DRONE_COMMIT_BRANCH")))
    facts.build = env.get("DRONE_BUILD_NUMBER")
    facts.build_url = env.get("DRONE_BUILD_LINK")
    facts.job = env.first("DRONE_STEP_NAME", "DRONE_JOB_NUMBER")
    facts.slug = (env.get("DRONE_REPO"), joined("/", env.get("DRONE_REPO_OWNER"), env.get("DRONE_REPO_NAME")))
    facts.repository_url = env.get("DRONE_GIT_HTTP_URL")
    facts.stage = env.get("DRONE_STAGE_NAME")
    facts.environment = env.get("DRONE_DEPLOY_TO")  # promotion and rollback builds only
    facts.actor = human_trigger(env)
    return facts
