"""TeamCity: https://www.jetbrains.com/help/teamcity/predefined-build-parameters.html

TeamCity exports no branch variable. The branch is the `teamcity.build.branch`
parameter, which TeamCity writes into the build's properties files: the file
named by TEAMCITY_BUILD_PROPERTIES_FILE, and the configuration file that one
names. Without them, git is asked.
"""
from __future__ import annotations

from typing import Callable, Dict

from ..env import Env, sourced
from ..facts import ProviderFacts
from ..java_properties import read_properties

NAME = "teamcity"


def detect(env: Env) -> bool:
    return env.is_set("TEAMCITY_VERSION")


def _parameters(env: Env) -> Dict[str, str]:
    build_file = env.get("TEAMCITY_BUILD_PROPERTIES_FILE")
    build = read_properties(build_file)
    configuration = read_properties(build.get("teamcity.configuration.properties.file"))
    # Tag each value with the file it came from, for the explanation.
    merged: Dict[str, str] = {}
    for name, values in (("configuration properties file", configuration), ("TEAMCITY_BUILD_PROPERTIES_FILE", build)):
        for key, value in values.items():
            merged[key] = sourced(value.strip(), f"{key} in {name}")  # build file first: it wins
    return merged


def read(env: Env, warn: Callable[[str], None]) -> ProviderFacts:
    params = _parameters(env)
    # The Pull Requests build feature fills teamcity.pullRequest.*; some setups export them.
    pr = env.get("TEAMCITY_PULLREQUEST_NUMBER") or params.get("teamcity.pullRequest.number") or None
    facts = ProviderFacts(commit=env.get("BUILD_VCS_NUMBER"), is_pr=pr, commit_from_git=True, branch_from_git=True)
    if pr:
        facts.pr = pr
        # teamcity.build.branch names the PR itself (`pull/12`) here, not its source branch.
        facts.branch = (env.get("TEAMCITY_PULLREQUEST_SOURCE_BRANCH"), params.get("teamcity.pullRequest.source.branch"))
        facts.pr_base_branch = (env.get("TEAMCITY_PULLREQUEST_TARGET_BRANCH"),
                                params.get("teamcity.pullRequest.target.branch"))
    else:
        facts.branch = params.get("teamcity.build.branch")  # `<default>` is no branch
    facts.build = env.get("BUILD_NUMBER")
    facts.build_url = env.get("BUILD_URL")  # only when the build configuration exports it
    # No slug: the build configuration's name names no repository.
    return facts
