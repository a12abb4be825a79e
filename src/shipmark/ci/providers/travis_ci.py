"""Travis CI: https://docs.travis-ci.com/user/environment-variables/

On pull request builds TRAVIS_BRANCH is the *target* branch and TRAVIS_COMMIT
the merge Travis tests; the head has its own variables.
"""
from __future__ import annotations

from typing import Callable

from ..env import Env
from ..facts import ProviderFacts

NAME = "travis_ci"


def detect(env: Env) -> bool:
    # Shippable exports TRAVIS too, to run Travis configurations.
    return env.is_set("TRAVIS") and not env.is_set("SHIPPABLE")


def read(env: Env, warn: Callable[[str], None]) -> ProviderFacts:
    pr = env.get("TRAVIS_PULL_REQUEST")  # `false` outside PR builds
    event = env.get("TRAVIS_EVENT_TYPE")
    is_pr = pr or (event if env.equals("TRAVIS_EVENT_TYPE", "pull_request") else None)
    facts = ProviderFacts(commit=env.get("TRAVIS_COMMIT"), tag=env.get("TRAVIS_TAG"), is_pr=is_pr)
    if is_pr:
        facts.branch = env.get("TRAVIS_PULL_REQUEST_BRANCH")
        facts.pr = pr
        facts.pr_base_branch = env.get("TRAVIS_BRANCH")
        facts.pr_head_sha = env.get("TRAVIS_PULL_REQUEST_SHA")
    else:
        facts.branch = env.get("TRAVIS_BRANCH")  # the tag's name on tag builds; dropped then
    facts.build = env.get("TRAVIS_BUILD_NUMBER")
    facts.build_url = env.get("TRAVIS_BUILD_WEB_URL")
    facts.pipeline_id = env.get("TRAVIS_BUILD_ID")
    facts.job = env.get("TRAVIS_JOB_NUMBER")
    facts.job_url = env.get("TRAVIS_JOB_WEB_URL")
    facts.slug = env.get("TRAVIS_REPO_SLUG")
    facts.stage = env.get("TRAVIS_BUILD_STAGE_NAME")
    return facts
