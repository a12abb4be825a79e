"""Wercker (Oracle, discontinued): http://devcenter.wercker.com/docs/environment-variables/available-env-vars"""
from __future__ import annotations

from typing import Callable

from ..env import Env, joined
from ..facts import ProviderFacts

NAME = "wercker"


def detect(env: Env) -> bool:
    return env.is_set("WERCKER_MAIN_PIPELINE_STARTED")


def read(env: Env, warn: Callable[[str], None]) -> ProviderFacts:
    return ProviderFacts(
        commit=env.get("WERCKER_GIT_COMMIT"),
        branch=env.get("WERCKER_GIT_BRANCH"),
        build=env.get("WERCKER_MAIN_PIPELINE_STARTED"),  # a start time, the only per-run id
        build_url=env.get("WERCKER_RUN_URL"),
        slug=joined("/", env.get("WERCKER_GIT_OWNER"), env.get("WERCKER_GIT_REPOSITORY")),
    )
