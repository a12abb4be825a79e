"""Codeship:
https://docs.cloudbees.com/docs/cloudbees-codeship/latest/pro-builds-and-configuration/environment-variables

Codeship Pro exports CI_PR_NUMBER as `0` outside pull request builds.
"""
from __future__ import annotations

from typing import Callable

from ..env import Env
from ..facts import ProviderFacts

NAME = "codeship"


def detect(env: Env) -> bool:
    return env.equals("CI_NAME", "codeship")


def read(env: Env, warn: Callable[[str], None]) -> ProviderFacts:
    number = env.get("CI_PR_NUMBER")
    pr = number if number and number != "0" else None
    facts = ProviderFacts(commit=env.get("CI_COMMIT_ID"), branch=env.get("CI_BRANCH"), is_pr=pr)
    if pr:
        facts.pr = pr
    facts.build = env.get("CI_BUILD_NUMBER")
    facts.build_url = env.get("CI_BUILD_URL")
    facts.slug = env.get("CI_REPO_NAME")  # `owner/repo` on Codeship Pro; a bare name gives none
    return facts
