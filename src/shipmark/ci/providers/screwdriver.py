"""Screwdriver: https://docs.screwdriver.cd/user-guide/environment-variables

SD_BUILD_URL is an API address; the page people open is SD_UI_BUILD_URL.
"""
from __future__ import annotations

from typing import Callable

from ..env import Env
from ..facts import ProviderFacts

NAME = "screwdriver"


def detect(env: Env) -> bool:
    return env.is_set("SCREWDRIVER")


def read(env: Env, warn: Callable[[str], None]) -> ProviderFacts:
    pr = env.get("SD_PULL_REQUEST")
    facts = ProviderFacts(commit=env.get("SD_BUILD_SHA"), is_pr=pr)
    if pr:
        facts.branch = env.get("PR_BRANCH_NAME")
        facts.pr = pr
        facts.pr_base_branch = env.get("PR_BASE_BRANCH_NAME")
    else:
        facts.branch = env.get("GIT_BRANCH")
    facts.build = env.get("SD_BUILD_ID")
    facts.build_url = env.get("SD_UI_BUILD_URL")
    facts.pipeline_id = env.get("SD_EVENT_ID")  # one event runs the pipeline's jobs
    facts.job = env.get("SD_JOB_ID")
    facts.slug = env.get("SD_PIPELINE_NAME")  # the repository's `owner/repo`
    return facts
