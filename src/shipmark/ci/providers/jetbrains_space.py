"""JetBrains Space Automation: https://www.jetbrains.com/help/space/automation-environment-variables.html"""
from __future__ import annotations

from typing import Callable

from ..env import Env, joined, sourced
from ..facts import ProviderFacts

NAME = "jetbrains_space"


def detect(env: Env) -> bool:
    return env.is_set("JB_SPACE_EXECUTION_NUMBER")


def read(env: Env, warn: Callable[[str], None]) -> ProviderFacts:
    project = env.get("JB_SPACE_PROJECT_KEY")  # upper-case in Space, lower-case in its Git URLs
    return ProviderFacts(
        commit=env.get("JB_SPACE_GIT_REVISION"),
        branch=env.get("JB_SPACE_GIT_BRANCH"),  # a full ref such as refs/heads/main
        build=env.get("JB_SPACE_EXECUTION_NUMBER"),
        slug=joined("/", sourced(project.lower(), "JB_SPACE_PROJECT_KEY") if project else None,
                    env.get("JB_SPACE_GIT_REPOSITORY_NAME")),
    )
