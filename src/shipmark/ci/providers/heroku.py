"""Heroku CI: https://devcenter.heroku.com/articles/heroku-ci#immutable-environment-variables

Only the test-run variables mark Heroku CI. A running dyno's SOURCE_VERSION or
HEROKU_SLUG_COMMIT are no sign of CI (pass such a commit as SHIPMARK_COMMIT).
"""
from __future__ import annotations

from typing import Callable

from ..env import Env
from ..facts import ProviderFacts

NAME = "heroku"


def detect(env: Env) -> bool:
    return env.is_set("HEROKU_TEST_RUN_ID") or env.is_set("HEROKU_TEST_RUN_BRANCH")


def read(env: Env, warn: Callable[[str], None]) -> ProviderFacts:
    return ProviderFacts(
        commit=env.get("HEROKU_TEST_RUN_COMMIT_VERSION"),
        branch=env.get("HEROKU_TEST_RUN_BRANCH"),
        build=env.get("HEROKU_TEST_RUN_ID"),
    )
