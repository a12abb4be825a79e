"""Harness CI:
https://developer.harness.io/continuous-integration/troubleshooting-and-resources/troubleshoot-harness-ci/ci-env-var

Harness exports Drone's DRONE_* names next to its own, so it is matched before
Drone.
"""
from __future__ import annotations

from typing import Callable

from ..env import Env
from ..facts import ProviderFacts
from ..urls import slug_from_url
from .drone import human_trigger, read_branches

NAME = "harness"


def detect(env: Env) -> bool:
    return env.is_set("HARNESS_BUILD_ID") or env.is_set("HARNESS_EXECUTION_ID")


def read(env: Env, warn: Callable[[str], None]) -> ProviderFacts:
    event = env.get("DRONE_BUILD_EVENT")
    is_pr = (event if env.equals("DRONE_BUILD_EVENT", "pull_request") else None) or env.get("DRONE_PULL_REQUEST")
    facts = ProviderFacts(
        commit=(env.get("DRONE_COMMIT_SHA"), env.get("CI_COMMIT_SHA")),
        tag=env.get("DRONE_TAG"),
        is_pr=is_pr,
    )
    read_branches(env, facts, pushed=(env.get("DRONE_COMMIT_BRANCH"), env.get("DRONE_BRANCH")))
    facts.build = env.first("CI_BUILD_NUMBER", "DRONE_BUILD_NUMBER")
    facts.build_url = env.first("CI_BUILD_LINK", "DRONE_BUILD_LINK")
    facts.pipeline_id = env.get("HARNESS_EXECUTION_ID")
    repository_url = env.first(
        "CI_REPO_REMOTE", "CI_REMOTE_URL", "CI_REPO_LINK", "DRONE_GIT_HTTP_URL", "DRONE_REMOTE_URL")
    facts.repository_url = repository_url
    # CI_REPO is `owner/repo` on some connectors and the bare name on others.
    facts.slug = (env.get("CI_REPO"), slug_from_url(repository_url))
    facts.stage = env.get("HARNESS_STAGE_ID")
    facts.environment = env.get("DRONE_DEPLOY_TO")
    facts.actor = human_trigger(env)
    return facts
