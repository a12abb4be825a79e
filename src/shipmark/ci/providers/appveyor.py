"""AppVeyor: https://www.appveyor.com/docs/environment-variables/

On pull request builds APPVEYOR_REPO_BRANCH is the *target*; the head branch
and commit have their own variables. The build page's URL needs the account
name, and the project slug may differ from the repository's name.
"""
from __future__ import annotations

from typing import Callable

from ..env import Env, sourced
from ..facts import ProviderFacts
from ..urls import join_url

NAME = "appveyor"


def detect(env: Env) -> bool:
    return env.is_set("APPVEYOR")


def read(env: Env, warn: Callable[[str], None]) -> ProviderFacts:
    pr = env.get("APPVEYOR_PULL_REQUEST_NUMBER")
    facts = ProviderFacts(commit=env.get("APPVEYOR_REPO_COMMIT"), tag=env.get("APPVEYOR_REPO_TAG_NAME"), is_pr=pr)
    if pr:
        facts.branch = env.get("APPVEYOR_PULL_REQUEST_HEAD_REPO_BRANCH")
        facts.pr = pr
        facts.pr_base_branch = env.get("APPVEYOR_REPO_BRANCH")
        facts.pr_head_sha = env.get("APPVEYOR_PULL_REQUEST_HEAD_COMMIT")
    else:
        facts.branch = env.get("APPVEYOR_REPO_BRANCH")  # the tag's name on tag builds; dropped then
    server = env.get("APPVEYOR_URL") or sourced("https://ci.appveyor.com", "AppVeyor's public server")
    build_id, job_id = env.get("APPVEYOR_BUILD_ID"), env.get("APPVEYOR_JOB_ID")
    facts.build = env.get("APPVEYOR_BUILD_NUMBER")
    facts.build_url = join_url(server, "project", env.get("APPVEYOR_ACCOUNT_NAME"),
                               env.get("APPVEYOR_PROJECT_SLUG"), "builds", build_id)
    facts.pipeline_id = build_id
    facts.job = job_id
    facts.job_url = join_url(facts.build_url, "job", job_id)
    name = env.get("APPVEYOR_REPO_NAME")
    facts.slug = name
    if name and env.equals("APPVEYOR_REPO_PROVIDER", "github"):
        facts.repository_url = join_url("https://github.com", sourced(name + ".git", "APPVEYOR_REPO_NAME"))
    return facts
